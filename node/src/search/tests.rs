//! The search index over the sample corpus (deploy/sample): Russian stemming, Kazakh text,
//! filters, facets, paging, amendments, retractions, and a rebuild from the store.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::RwLock;
use std::sync::atomic::AtomicBool;

use hubnet_protocol::{Draft, DraftFormat, Record, SecretKey};

use super::indexer::Indexer;
use super::*;
use crate::store::Store;
use crate::test_support::{sample, sample_charter, sample_key, signed_decision};

const NOW: i64 = 1_790_000_000_000;

struct Corpus {
    _dir: tempfile::TempDir,
    data: PathBuf,
    store: RwLock<Store>,
    /// `(member, file name, record)` of every sample draft, in publishing order.
    published: Vec<(String, String, Record)>,
}

/// A store holding every sample draft, published by its member at `NOW`.
fn corpus() -> Corpus {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let charter = std::fs::read_to_string(sample("charter.toml")).unwrap();
    let mut store = Store::init(&data, &charter).unwrap();
    let mut published = Vec::new();
    let mut members: Vec<_> = std::fs::read_dir(sample("drafts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    members.sort();
    for m in members {
        let code = m.file_name().unwrap().to_str().unwrap().to_owned();
        let key = sample_key(&code);
        let mut files: Vec<_> = std::fs::read_dir(&m)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let body = Draft::parse(&text, DraftFormat::Toml)
                .unwrap()
                .to_body(&code, &store.charter().rules().at(NOW))
                .unwrap();
            let r = store.publish(&key, &body, NOW).unwrap();
            let name = f.file_name().unwrap().to_str().unwrap().to_owned();
            published.push((code.clone(), name, r));
        }
    }
    Corpus {
        _dir: dir,
        data,
        store: RwLock::new(store),
        published,
    }
}

impl Corpus {
    fn key(&self, code: &str) -> SecretKey {
        sample_key(code)
    }

    fn id(&self, file: &str) -> RecordId {
        self.published
            .iter()
            .find(|(_, f, _)| f == file)
            .map(|(_, _, r)| r.id)
            .unwrap()
    }

    fn publish_json(&self, code: &str, json: serde_json::Value) -> Record {
        let mut store = self.store.write().unwrap();
        let body = Draft::parse(&json.to_string(), DraftFormat::Json)
            .unwrap()
            .to_body(code, &store.charter().rules().at(NOW + 1000))
            .unwrap();
        store.publish(&self.key(code), &body, NOW + 1000).unwrap()
    }

    /// Opens the index and brings it up to date with the store.
    fn index(&self) -> (SearchIndex, Indexer) {
        let (network, end) = {
            let s = self.store.read().unwrap();
            (s.charter().network_id(), s.journal_end())
        };
        let (index, applied, followed) = SearchIndex::open(&self.data, network, end).unwrap();
        let mut indexer = Indexer::new(
            index.clone(),
            applied,
            followed,
            &self.store.read().unwrap(),
        )
        .unwrap();
        indexer
            .catch_up(&self.store, &AtomicBool::new(false))
            .unwrap();
        (index, indexer)
    }
}

fn query(params: &[(&str, &str)]) -> Query {
    let charter = sample_charter();
    Query::parse(
        params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        &[],
        &charter,
    )
    .unwrap()
    .0
}

fn ids(page: &Page) -> Vec<RecordId> {
    page.hits.iter().map(|h| h.id).collect()
}

#[test]
fn russian_queries_find_inflected_forms() {
    let c = corpus();
    let (index, _) = c.index();
    let page = index
        .search(&query(&[
            ("q", "электронное правительство"),
            ("limit", "100"),
        ]))
        .unwrap();
    assert!(page.total >= 2, "{} e-government records", page.total);
    // Every sample record about e-government that speaks of it in Russian is found.
    for file in [
        "02-tunduk-interoperability.toml",
        "04-egov-portal-mobile-signature.toml",
    ] {
        assert!(ids(&page).contains(&c.id(file)), "{file} not found");
    }
    // "государственной службы" finds records that only say "государственная служба".
    let page = index
        .search(&query(&[("q", "государственной службы"), ("limit", "100")]))
        .unwrap();
    assert!(ids(&page).contains(&c.id("01-merit-testing.toml")));
    assert!(page.total > 5);
}

/// Found by the `query` fuzz target (`q=-to%001`): a query that excludes a phrase (`-"two
/// words"`, or one word the analyser splits in two) tripped a debug assertion inside tantivy
/// 0.27.0 (quickwit-oss/tantivy#2811) whenever the phrase's first match came after the first
/// candidate, so a debug build answered with a panic. Release builds were right; debug builds now
/// compile tantivy without its debug assertions (root `Cargo.toml`) and answer the same.
#[test]
fn an_excluded_phrase_excludes_and_does_not_panic() {
    let c = corpus();
    let (index, _) = c.index();
    let total = |q: &str| {
        let params = [("q", q), ("limit", "100")];
        let params = if q.is_empty() {
            &params[1..]
        } else {
            &params[..]
        };
        index.search(&query(params)).unwrap().total
    };
    let (all, with, without) = (
        total(""),
        total("\"civil service\""),
        total("-\"civil service\""),
    );
    assert!(with > 0 && without > 0, "{with} with, {without} without");
    assert_eq!(with + without, all);
    for q in [
        "-to\u{0}1",
        "-\"no such phrase\"",
        "service -\"civil service\"",
    ] {
        total(q);
    }
}

/// How many documents full-text query `q` matches.
fn total_for(index: &SearchIndex, q: &str) -> Result<usize, SearchError> {
    index
        .search(&query(&[("q", q), ("limit", "100")]))
        .map(|p| p.total)
}

/// Found by the `query` fuzz target: `name:*` (any name, here one with a NUL in it) made tantivy
/// look for a fast field `name` when the search ran, and the search failed (a 500). It is now the
/// word `name`.
#[test]
fn a_field_wildcard_is_a_word_and_never_a_failed_search() {
    let c = corpus();
    let (index, _) = c.index();
    let total = |q: &str| total_for(&index, q);
    for q in [
        "nosuch:*",
        "A@\u{0}\u{fffd}c:*",
        "title:*",
        "created:*",
        "idk:* -x:*",
    ] {
        assert!(total(q).is_ok(), "{q:?}");
    }
    assert_eq!(total("reform:*").unwrap(), total("reform").unwrap());
    assert!(total("reform").unwrap() > 0);
}

/// Field names are not part of the query language: `name:value` is two words wherever the
/// name is a field (a facet, a date, the id) or not, and a range or set its words. Before, a date's
/// or the id's field (not indexed as terms) made that part of the query vanish, so
/// `reform created:2024` found every `reform`.
#[test]
fn field_syntax_is_read_as_words() {
    let c = corpus();
    let (index, _) = c.index();
    let total = |q: &str| total_for(&index, q).unwrap();
    let both = total("civil service");
    assert!(both > 0 && both < total("civil"));
    for q in [
        "civil:service",
        "service:civil",
        "civil:\"service\"",
        "civil:IN [service]",
        "civil:[service TO service]",
        "civil:{service TO *}",
    ] {
        assert_eq!(total(q), both, "{q:?}");
    }
    // Names of the index's fields are words like any other.
    assert!(total("reform") > 0);
    for field in [
        "created",
        "start",
        "idk",
        "listed_until",
        "id",
        "kind",
        "text_en",
        "author",
    ] {
        let words = total(&format!("reform {field}"));
        assert_eq!(total(&format!("reform {field}:reform")), words, "{field}");
        assert_eq!(total(&format!("reform {field}:*")), words, "{field}");
    }
    // Not a word of the corpus: nothing matches (the part is not dropped, widening the query).
    assert_eq!(total("reform idk:reform"), 0);
    assert_eq!(total("reform listed_until:[1 TO 2]"), 0);
    // Excluded as a whole: the documents with both words.
    assert_eq!(total("civil -civil:service"), total("civil") - both);
}

#[test]
fn a_language_restricts_the_text_searched() {
    let c = corpus();
    let (index, _) = c.index();
    // Kazakh words are found in the Kazakh text, and only with lang=kk or no lang.
    let kk = index
        .search(&query(&[("q", "мемлекеттік қызметке"), ("lang", "kk")]))
        .unwrap();
    assert!(ids(&kk).contains(&c.id("01-merit-testing.toml")));
    assert_eq!(kk.facets.lang.get("kk").copied(), Some(kk.total as u64));
    let ru = index
        .search(&query(&[("q", "мемлекеттік қызметке"), ("lang", "ru")]))
        .unwrap();
    assert_eq!(ru.total, 0);
    // The same Russian words searched in the Kazakh text find nothing a Russian-only record has.
    let en = index
        .search(&query(&[
            ("q", "civil service"),
            ("lang", "en"),
            ("limit", "100"),
        ]))
        .unwrap();
    assert!(en.total > 5);
}

#[test]
fn filters_and_facets_agree() {
    let c = corpus();
    let (index, _) = c.index();
    let all = index.search(&query(&[("limit", "100")])).unwrap();
    // One retraction-free corpus: every practice and event is a document.
    assert_eq!(all.total, c.published.len());
    let kz = index
        .search(&query(&[("country", "KZ"), ("limit", "100")]))
        .unwrap();
    assert_eq!(all.facets.country.get("KZ").copied(), Some(kz.total as u64));
    assert_eq!(
        kz.total,
        c.published.iter().filter(|(m, _, _)| m == "KZ").count()
    );
    let events = index.search(&query(&[("kind", "event")])).unwrap();
    assert_eq!(
        all.facets.kind.get("event").copied(),
        Some(events.total as u64)
    );
    assert_eq!(
        all.facets.kind.values().sum::<u64>(),
        all.total as u64,
        "each record has one kind"
    );
    let topic = index
        .search(&query(&[
            ("topic", "e-government"),
            ("country", "KZ"),
            ("country", "KG"),
        ]))
        .unwrap();
    assert!(topic.total >= 1);
    assert!(topic.facets.country.keys().all(|k| k == "KZ" || k == "KG"));
    // Events sorted by start come in start order, each with a start inside the range.
    let page = index
        .search(&query(&[
            ("kind", "event"),
            ("sort", "start"),
            ("start_from", "2020-01-01"),
            ("limit", "100"),
        ]))
        .unwrap();
    assert!(page.total > 3);
    let store = c.store.read().unwrap();
    let starts: Vec<i64> = page
        .hits
        .iter()
        .map(|h| {
            let original = store.get(&h.id).unwrap().unwrap();
            Current {
                original,
                amendment: None,
                retraction: None,
            }
            .event_start_ms()
            .unwrap()
        })
        .collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "{starts:?}");
}

/// Every facet count of a full-text query equals the total of the same query filtered to that
/// value (term postings, not the facet layouts), across segments written by several commits; the
/// facet layouts of segments merged away are forgotten.
#[test]
fn facet_counts_agree_with_filters_across_segments() {
    let c = corpus();
    let (index, mut indexer) = c.index();
    let filters = [
        ("country", "country"),
        ("topic", "topic"),
        ("kind", "kind"),
        ("lang", "lang"),
    ];
    for round in 0..4 {
        for (i, code) in ["KG", "KZ", "TJ"].iter().enumerate() {
            c.publish_json(
                code,
                serde_json::json!({"kind": "practice",
                    "title": {"ru": format!("Реформа государственной службы {round}-{i}")},
                    "summary": {"en": "civil service reform"},
                    "topics": if i == 0 { vec!["pay"] } else { vec!["pay", "e-government"] }}),
            );
        }
        indexer.catch_up(&c.store, &AtomicBool::new(false)).unwrap();
        for q in [None, Some("службы"), Some("reform")] {
            let mut base = vec![("limit", "5")];
            if let Some(q) = q {
                base.push(("q", q));
            }
            let all = index.search(&query(&base)).unwrap();
            assert!(all.total > 0, "{q:?}");
            let facets = serde_json::to_value(&all.facets).unwrap();
            let mut checked = 0;
            for (param, facet) in filters {
                if param == "lang" && q.is_some() {
                    // A language also restricts the text searched to that language's.
                    continue;
                }
                let counts = facets[facet].as_object().unwrap();
                assert!(!counts.is_empty(), "{q:?}: no {facet} facet");
                for (value, n) in counts {
                    let mut p = base.clone();
                    p.push((param, value));
                    let filtered = index.search(&query(&p)).unwrap();
                    assert_eq!(
                        n.as_u64(),
                        Some(filtered.total as u64),
                        "round {round}, q {q:?}: {facet}={value}"
                    );
                    checked += 1;
                }
            }
            assert!(checked > 8, "{checked}");
        }
        let live = index.reader.searcher().segment_readers().len();
        assert!(live >= 1);
        assert!(
            index.facets.len() <= live,
            "{} layouts, {live} segments",
            index.facets.len()
        );
    }
}

#[test]
fn cursors_page_through_every_match_once() {
    let c = corpus();
    let (index, _) = c.index();
    let mut seen = Vec::new();
    let mut params = vec![("limit".to_owned(), "7".to_owned())];
    loop {
        let charter = sample_charter();
        let (q, _) = Query::parse(params.clone(), &[], &charter).unwrap();
        let page = index.search(&q).unwrap();
        seen.extend(ids(&page));
        match page.next_cursor {
            Some(cur) => params = vec![("limit".into(), "7".into()), ("cursor".into(), cur)],
            None => break,
        }
    }
    let n = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), n, "no record twice");
    assert_eq!(n, c.published.len(), "every record once");
    // A cursor of one query does not continue another.
    let charter = sample_charter();
    let first = index
        .search(&query(&[("limit", "7"), ("country", "KZ")]))
        .unwrap();
    let err = Query::parse(
        [
            ("cursor".to_owned(), first.next_cursor.unwrap()),
            ("country".to_owned(), "KG".to_owned()),
        ],
        &[],
        &charter,
    )
    .unwrap_err();
    assert_eq!(err, QueryError::BadCursor);
    // A cursor edited to skip far ahead (its fingerprint is public) is refused, not obeyed.
    let (q, _) = Query::parse([("limit".to_owned(), "7".to_owned())], &[], &charter).unwrap();
    for offset in [query::MAX_OFFSET + 1, 1 << 40, usize::MAX] {
        let forged = q.cursor_at(offset);
        let err = Query::parse(
            [
                ("limit".to_owned(), "7".to_owned()),
                ("cursor".to_owned(), forged),
            ],
            &[],
            &charter,
        )
        .unwrap_err();
        assert_eq!(err, QueryError::BadCursor, "offset {offset}");
    }
}

/// Records arriving between two pages neither repeat nor hide any record: the ordered sorts page
/// by key, not by offset.
/// The lag the index reports: before its first catch-up it claims nothing; caught up, none;
/// with a record stored and not yet indexed, its bytes and the time since the index last held
/// the whole journal; then none again.
#[test]
fn the_index_reports_its_lag_behind_the_journal() {
    use std::time::{Duration, Instant};
    let c = corpus();
    let (network, end) = {
        let s = c.store.read().unwrap();
        (s.charter().network_id(), s.journal_end())
    };
    let (index, applied, followed) = SearchIndex::open(&c.data, network, end).unwrap();
    let opened = index.lag(end, Instant::now());
    assert!(!opened.caught_up, "{opened:?}");
    assert_eq!(opened.bytes, end - Store::journal_start());
    let mut indexer =
        Indexer::new(index.clone(), applied, followed, &c.store.read().unwrap()).unwrap();
    indexer.catch_up(&c.store, &AtomicBool::new(false)).unwrap();
    let caught_up = Instant::now();
    let none = Lag {
        bytes: 0,
        behind_for: Duration::ZERO,
        caught_up: true,
    };
    assert_eq!(index.lag(end, caught_up), none);

    c.publish_json(
        "KG",
        serde_json::json!({"kind": "practice", "title": {"en": "Late"},
                           "summary": {"en": "x"}, "topics": ["pay"]}),
    );
    let later = c.store.read().unwrap().journal_end();
    let in_a_minute = caught_up + Duration::from_secs(60);
    let behind = index.lag(later, in_a_minute);
    assert_eq!(behind.bytes, later - end);
    assert!(behind.caught_up);
    assert!(
        (Duration::from_secs(60)..Duration::from_secs(70)).contains(&behind.behind_for),
        "{behind:?}"
    );
    // Read but not committed: still behind.
    let batch = indexer.read(&c.store).unwrap().unwrap();
    indexer.apply(&batch).unwrap();
    assert_eq!(index.lag(later, in_a_minute).bytes, later - end);
    indexer.catch_up(&c.store, &AtomicBool::new(false)).unwrap();
    assert_eq!(index.lag(later, in_a_minute), none);
}

#[test]
fn pages_stay_whole_while_records_arrive() {
    let c = corpus();
    let (index, mut indexer) = c.index();
    let charter = sample_charter();
    for sort in ["newest", "oldest", "start"] {
        let params = |cursor: Option<&str>| {
            let mut p = vec![
                ("limit".to_owned(), "5".to_owned()),
                ("sort".to_owned(), sort.to_owned()),
            ];
            if let Some(c) = cursor {
                p.push(("cursor".to_owned(), c.to_owned()));
            }
            Query::parse(p, &[], &charter).unwrap().0
        };
        let before: Vec<RecordId> = {
            let q = Query {
                limit: 100,
                ..params(None)
            };
            ids(&index.search(&q).unwrap())
        };
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut round = 0;
        loop {
            let page = index.search(&params(cursor.as_deref())).unwrap();
            seen.extend(ids(&page));
            // A new record after every page: newest sorts it first, oldest last.
            c.publish_json(
                "KG",
                serde_json::json!({"kind": "practice", "title": {"en": format!("Late {sort} {round}")},
                                   "summary": {"en": "x"}, "topics": ["pay"]}),
            );
            indexer.catch_up(&c.store, &AtomicBool::new(false)).unwrap();
            round += 1;
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let n = seen.len();
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), n, "{sort}: a record shown twice");
        for id in &before {
            assert!(seen.contains(id), "{sort}: a record skipped");
        }
    }
}

#[test]
fn amendments_replace_content_and_retractions_hide() {
    let c = corpus();
    let (index, mut indexer) = c.index();
    let target = c.id("01-merit-testing.toml");
    let amended = c.publish_json(
        "KZ",
        serde_json::json!({
            "kind": "amendment",
            "target": target.to_hex(),
            "record": {"kind": "practice", "title": {"en": "Zyxwvut merit selection"},
                       "summary": {"en": "Revised."}, "body": {"en": "Revised body."},
                       "topics": ["recruitment"]},
        }),
    );
    let retracted_target = c.id("02-egov-and-public-service-centres.toml");
    c.publish_json(
        "KZ",
        serde_json::json!({"kind": "retraction", "target": retracted_target.to_hex(),
                           "reason": {"en": "Superseded."}}),
    );
    indexer.catch_up(&c.store, &AtomicBool::new(false)).unwrap();
    let hits = index.search(&query(&[("q", "zyxwvut")])).unwrap();
    assert_eq!(ids(&hits), vec![target]);
    assert_eq!(hits.hits[0].amendment, Some(amended.id));
    // The old content is no longer what the record says.
    let old = index
        .search(&query(&[
            ("q", "централизованное тестирование"),
            ("limit", "100"),
        ]))
        .unwrap();
    assert!(!ids(&old).contains(&target));
    // The retracted record is hidden, unless asked for.
    let all = index.search(&query(&[("limit", "100")])).unwrap();
    assert!(!ids(&all).contains(&retracted_target));
    assert_eq!(all.total, c.published.len() - 1);
    let with = index
        .search(&query(&[("limit", "100"), ("include_retracted", "true")]))
        .unwrap();
    assert!(ids(&with).contains(&retracted_target));
    let state = index.state(&retracted_target).unwrap().unwrap();
    assert!(state.retraction.is_some());
}

#[test]
fn a_deleted_index_is_rebuilt_from_the_store() {
    let c = corpus();
    // As a set: documents of equal score come in segment order, which a rebuild may change.
    let sorted = |mut v: Vec<RecordId>| {
        v.sort();
        v
    };
    let before = {
        let (index, _) = c.index();
        sorted(ids(&index
            .search(&query(&[("q", "государственной службы")]))
            .unwrap()))
    };
    // Reopening an up-to-date index reads nothing again.
    {
        let (network, end) = {
            let s = c.store.read().unwrap();
            (s.charter().network_id(), s.journal_end())
        };
        let (_, applied, _) = SearchIndex::open(&c.data, network, end).unwrap();
        assert_eq!(applied, end);
        // An index ahead of the journal (a store restored from an older copy) is rebuilt.
        let (_, applied, followed) = SearchIndex::open(&c.data, network, end - 1).unwrap();
        assert_eq!((applied, followed), (0, None));
    }
    std::fs::remove_dir_all(c.data.join(SEARCH_DIR)).unwrap();
    let (index, _) = c.index();
    assert_eq!(
        sorted(ids(&index
            .search(&query(&[("q", "государственной службы")]))
            .unwrap())),
        before
    );
    // A damaged index is rebuilt too.
    std::fs::write(c.data.join(SEARCH_DIR).join("meta.json"), b"{ not json").unwrap();
    let (index, _) = c.index();
    assert_eq!(index.len() as usize, c.published.len());
}

/// Stores a decision signed by two of the sample committee's three keys (its quorum).
fn decide(c: &Corpus, action: hubnet_protocol::governance::Action) {
    let mut store = c.store.write().unwrap();
    let (seq, prev) = store.governance().next_position();
    let keys = [sample_key("committee-1"), sample_key("committee-2")];
    let signed = signed_decision(store.charter(), seq, prev, action, &keys);
    let d = hubnet_protocol::governance::verify_decision(&signed, store.charter()).unwrap();
    store.add_decision(d).unwrap().unwrap();
}

#[test]
fn records_past_their_keys_last_valid_seq_leave_the_index_and_come_back_when_it_moves() {
    use hubnet_protocol::governance::Action;
    let c = corpus();
    let (index, mut indexer) = c.index();
    let kz_published = c.published.iter().filter(|(m, _, _)| m == "KZ").count() as u64;
    // After its sample drafts, KZ amends one record, retracts another and publishes a new one.
    let amended = c.id("01-merit-testing.toml");
    c.publish_json(
        "KZ",
        serde_json::json!({
            "kind": "amendment",
            "target": amended.to_hex(),
            "record": {"kind": "practice", "title": {"en": "Zyxwvut merit selection"},
                       "summary": {"en": "Revised."}, "topics": ["recruitment"]},
        }),
    );
    let retracted = c.id("02-egov-and-public-service-centres.toml");
    c.publish_json(
        "KZ",
        serde_json::json!({"kind": "retraction", "target": retracted.to_hex(),
                           "reason": {"en": "Superseded."}}),
    );
    let late = c.publish_json(
        "KZ",
        serde_json::json!({"kind": "practice", "title": {"en": "Qwertyuiop reform"},
                           "summary": {"en": "Late."}, "topics": ["recruitment"]}),
    );
    indexer.catch_up(&c.store, &AtomicBool::new(false)).unwrap();
    let search = |q: &str| ids(&index.search(&query(&[("q", q)])).unwrap());
    // KZ's amendment, retraction and later record count in `index`.
    let later_records_count = |index: &SearchIndex| {
        assert_eq!(
            ids(&index.search(&query(&[("q", "zyxwvut")])).unwrap()),
            vec![amended]
        );
        let state = index.state(&retracted).unwrap().unwrap();
        assert!(state.retraction.is_some());
    };
    let all = |index: &SearchIndex| {
        // More than one page (100) of the sample corpus.
        let q = Query {
            limit: 1000,
            ..query(&[("include_retracted", "true")])
        };
        let mut v = ids(&index.search(&q).unwrap());
        v.sort();
        v
    };
    later_records_count(&index);
    assert_eq!(search("qwertyuiop"), vec![late.id]);
    let full = all(&index);

    // The committee suspends KZ after its sample drafts: the amendment, the retraction and the
    // new record no longer count.
    decide(
        &c,
        Action::Suspend {
            code: "KZ".into(),
            last_seq: kz_published,
        },
    );
    // Derived from the log alone (what /records/{id}/current answers while the index lags).
    {
        let store = c.store.read().unwrap();
        assert_ne!(
            index.followed_governance(),
            governance_mark(&store),
            "lagging"
        );
        let docs = super::indexer::documents_of(&store, &c.key("KZ").public_key()).unwrap();
        assert_eq!(docs.len() as u64, kz_published + 1);
        let doc = docs[&amended].as_ref().expect("still counts");
        assert_eq!((&doc.amendment, &doc.retraction), (&None, &None));
        assert!(
            docs[&retracted]
                .as_ref()
                .expect("counts")
                .retraction
                .is_none()
        );
        assert!(docs[&late.id].is_none(), "past the last valid seq");
    }
    indexer.catch_up(&c.store, &AtomicBool::new(false)).unwrap();
    assert_eq!(
        index.followed_governance(),
        governance_mark(&c.store.read().unwrap())
    );
    assert_eq!(search("zyxwvut"), vec![]);
    assert_eq!(search("qwertyuiop"), vec![]);
    let state = index.state(&amended).unwrap().unwrap();
    assert_eq!((state.amendment, state.retraction), (None, None));
    assert_eq!(index.state(&retracted).unwrap().unwrap().retraction, None);
    assert_eq!(index.state(&late.id).unwrap(), None);
    let suspended = all(&index);
    assert_eq!(suspended.len(), c.published.len());
    assert!(!suspended.contains(&late.id));

    // A rebuild from the journal agrees.
    drop((index, indexer));
    std::fs::remove_dir_all(c.data.join(SEARCH_DIR)).unwrap();
    let (index, indexer) = c.index();
    assert_eq!(all(&index), suspended);

    // KZ is reinstated while no indexer runs (a stop between the decision and the index
    // following it): reopened, the index is kept, and only KZ's documents are derived again.
    drop((index, indexer));
    decide(&c, Action::Reinstate { code: "KZ".into() });
    let (network, end) = {
        let s = c.store.read().unwrap();
        (s.charter().network_id(), s.journal_end())
    };
    let (_, applied, followed) = SearchIndex::open(&c.data, network, end).unwrap();
    assert_eq!(applied, end, "kept, not rebuilt");
    let followed = followed.expect("the governance it followed");
    assert_eq!(
        followed.last_seqs[&c.key("KZ").public_key()],
        Some(kz_published)
    );
    let (index, _indexer) = c.index();
    assert_eq!(all(&index), full);
    later_records_count(&index);
}

/// The nice value of thread `task` of this process (`/proc/self/task/<tid>`, or `thread-self`).
#[cfg(target_os = "linux")]
/// A thread's nice value and scheduling policy (`SCHED_IDLE` is 5), from its `stat`.
fn priority_of(task: &std::path::Path) -> Option<(i32, u32)> {
    let stat = std::fs::read_to_string(task.join("stat")).ok()?;
    // After the command name (in parentheses, may hold spaces) come the fields from `state`
    // (field 3 of stat) on; nice is field 19, policy field 41.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some((fields.get(16)?.parse().ok()?, fields.get(38)?.parse().ok()?))
}

/// `SCHED_IDLE` in `sched(7)`.
const SCHED_IDLE: u32 = 5;

/// Search indexing yields the cores to verifying and storing records: the tantivy threads that
/// a new indexer starts (indexing, merging) run at a lower priority (a higher nice value; a
/// `SCHED_IDLE` policy would count too), the rest of the process at its own. (The
/// indexing threads that a commit starts again inherit the priority of the thread that commits,
/// which `indexer::spawn` lowers the same way.)
#[cfg(target_os = "linux")]
#[test]
fn indexing_threads_run_at_background_priority() {
    let c = corpus();
    let (network, end) = {
        let s = c.store.read().unwrap();
        (s.charter().network_id(), s.journal_end())
    };
    let (index, applied, followed) = SearchIndex::open(&c.data, network, end).unwrap();
    let _indexer = Indexer::new(index, applied, followed, &c.store.read().unwrap()).unwrap();
    let own = priority_of(std::path::Path::new("/proc/thread-self")).expect("own priority");
    assert_ne!(own.1, SCHED_IDLE, "the test's own thread keeps its policy");
    let mut indexing = Vec::new();
    for task in std::fs::read_dir("/proc/self/task")
        .expect("tasks")
        .flatten()
    {
        let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        let name = name.trim();
        if (name.starts_with("thrd-tantivy") || name.starts_with("merge_thread"))
            && let Some(priority) = priority_of(&task.path())
        {
            indexing.push((name.to_owned(), priority));
        }
    }
    // Other tests, running at the same time, make indexers too (at the same priority as this
    // one) and commit on their own threads, which starts indexing threads at those threads'
    // priority; the merge threads live as long as their writer.
    assert!(
        indexing.iter().any(|(name, (nice, policy))| {
            name.starts_with("merge_thread") && (*policy == SCHED_IDLE || *nice > own.0)
        }),
        "no merge thread below the test's priority (nice {}, policy {}): {indexing:?}",
        own.0,
        own.1
    );
}

#[test]
fn experts_past_reconfirm_by_are_not_listed_and_references_are_found() {
    let c = corpus();
    let (index, mut indexer) = c.index();
    let institution = c.publish_json(
        "KZ",
        serde_json::json!({"kind": "institution", "name": {"en": "Zyxwvut Agency"},
                           "type": "civil_service_agency"}),
    );
    let expert = c.publish_json(
        "KZ",
        serde_json::json!({
            "kind": "expert", "name": {"en": "Zyxwvut Expert (fictional)"},
            "institution": {"id": institution.id.to_hex()},
            "topics": ["e-government"], "languages": ["ru"], "formats": ["speaker"],
            "consent": {"date": "2026-09-01", "scope": "hub_network_all_members",
                        "document_sha256": "44".repeat(32)},
            "reconfirm_by": "2027-03-31"
        }),
    );
    let practice = c.publish_json(
        "UZ",
        serde_json::json!({"kind": "practice", "title": {"en": "Zyxwvut practice"},
                           "summary": {"en": "S."}, "topics": ["training"],
                           "institution_ids": [institution.id.to_hex()]}),
    );
    indexer.catch_up(&c.store, &AtomicBool::new(false)).unwrap();
    let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let on = |date: &str| {
        let mut q = query(&[("q", "zyxwvut"), ("kind", "expert")]);
        q.listed_on = Some(day(date));
        ids(&index.search(&q).unwrap())
    };
    assert_eq!(
        on("2027-03-31"),
        vec![expert.id],
        "listed on its reconfirm_by"
    );
    assert_eq!(
        on("2027-04-01"),
        Vec::<RecordId>::new(),
        "not the day after"
    );
    // Other kinds are always listed.
    let mut q = query(&[("q", "zyxwvut"), ("kind", "institution")]);
    q.listed_on = Some(day("2099-01-01"));
    assert_eq!(ids(&index.search(&q).unwrap()), vec![institution.id]);
    // What names the institution: the expert and the practice (another member's).
    let q = Query {
        refs: vec![institution.id.to_hex()],
        limit: 100,
        ..Query::default()
    };
    let mut named = ids(&index.search(&q).unwrap());
    named.sort();
    let mut want = vec![expert.id, practice.id];
    want.sort();
    assert_eq!(named, want);
    // The sample experts: one on e-government speaks Russian, listed when published.
    let mut q = query(&[
        ("kind", "expert"),
        ("topic", "e-government"),
        ("limit", "100"),
    ]);
    q.listed_on = Some(day("2026-09-21"));
    let page = index.search(&q).unwrap();
    assert!(ids(&page).contains(&c.id("40-expert-e-government.toml")));
}

/// Whether any file under `dir` holds `needle`.
fn files_hold(dir: &std::path::Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p)
                .unwrap()
                .windows(needle.len())
                .any(|w| w == needle)
            {
                found.push(p);
            }
        }
    }
    found
}

#[test]
fn an_erased_record_leaves_the_index_and_its_files() {
    let c = corpus();
    let (index, mut indexer) = c.index();
    let marker = "qvxerasuremarkerqz";
    let neighbour = |i: usize| {
        c.publish_json(
            "KZ",
            serde_json::json!({"kind": "practice", "title": {"en": format!("Neighbour {i}")},
                               "summary": {"en": "Stays."}, "topics": ["recruitment"]}),
        );
    };
    (0..8).for_each(neighbour);
    let target = c.publish_json(
        "KZ",
        serde_json::json!({"kind": "practice", "title": {"en": format!("Mentoring {marker}")},
                           "summary": {"en": format!("Summary {marker}")},
                           "topics": ["recruitment"]}),
    );
    // Neighbours in the same segments (the writer's threads share the documents out), so that
    // deleting the target does not drop its whole segment.
    (8..16).for_each(neighbour);
    indexer.catch_up(&c.store, &AtomicBool::new(false)).unwrap();
    assert_eq!(
        ids(&index.search(&query(&[("q", marker)])).unwrap()),
        vec![target.id]
    );
    assert_eq!(index.deleted_kept().unwrap(), 0);
    c.publish_json(
        "KZ",
        serde_json::json!({"kind": "erasure", "target": target.id.to_hex(),
                           "ground": "erasure_request"}),
    );
    indexer.catch_up(&c.store, &AtomicBool::new(false)).unwrap();
    assert!(
        index
            .search(&query(&[("q", marker)]))
            .unwrap()
            .hits
            .is_empty()
    );
    assert!(index.state(&target.id).unwrap().is_none());
    assert_eq!(
        files_hold(&c.data, marker.as_bytes()),
        Vec::<std::path::PathBuf>::new()
    );
    // Stored fields are compressed, so the marker's bytes say little about the index: what
    // counts is that no segment keeps a deleted document (whose text tantivy keeps until a merge).
    assert_eq!(index.deleted_kept().unwrap(), 0);
}

/// A programme is found by its status, roles, participants and confirmation state, and a
/// confirmation or its retraction (in another member's log) moves the state facet.
#[test]
fn programmes_are_found_by_status_role_participant_and_state() {
    let c = corpus();
    let (index, mut indexer) = c.index();
    let programme = c.publish_json(
        "HUB",
        serde_json::json!({
            "kind": "programme",
            "title": {"en": "Qwertzuiop joint programme"},
            "description": {"en": "A test programme."},
            "participants": [
                {"member": "HUB", "roles": ["lead"]},
                {"member": "KZ", "roles": ["funding", "implementing"]},
                {"member": "KG", "roles": ["beneficiary"]}
            ],
            "status": "implementation",
            "planned_start": "2026-01-01",
            "planned_end": "2027-12-31",
        }),
    );
    indexer.catch_up(&c.store, &AtomicBool::new(false)).unwrap();
    let find = |params: &[(&str, &str)]| {
        let mut p = vec![("kind", "programme"), ("limit", "100")];
        p.extend_from_slice(params);
        ids(&index.search(&query(&p)).unwrap()).contains(&programme.id)
    };
    assert!(find(&[("q", "qwertzuiop")]));
    assert!(find(&[("status", "implementation")]));
    assert!(!find(&[("status", "pipeline")]));
    assert!(find(&[("role", "funding")]));
    assert!(!find(&[("role", "accountable")]));
    assert!(find(&[("participant", "KG")]));
    assert!(!find(&[("participant", "TJ")]));
    assert!(find(&[("state", "proposed")]));
    assert!(!find(&[("state", "confirmed")]));
    let facets = index
        .search(&query(&[("kind", "programme"), ("q", "qwertzuiop")]))
        .unwrap()
        .facets;
    assert_eq!(facets.status.get("implementation"), Some(&1));
    assert_eq!(facets.participant.get("KZ"), Some(&1));
    assert_eq!(facets.role.get("beneficiary"), Some(&1));
    assert_eq!(facets.state.get("proposed"), Some(&1));
    // Both participants confirm, on their own logs: the programme is confirmed.
    let confirm = serde_json::json!({"kind": "confirmation", "programme": programme.id.to_hex(),
                                     "version": programme.id.to_hex()});
    c.publish_json("KZ", confirm.clone());
    indexer.catch_up(&c.store, &AtomicBool::new(false)).unwrap();
    assert!(find(&[("state", "proposed")]), "KG has not confirmed yet");
    let kg = c.publish_json("KG", confirm);
    indexer.catch_up(&c.store, &AtomicBool::new(false)).unwrap();
    assert!(find(&[("state", "confirmed")]));
    assert!(!find(&[("state", "proposed")]));
    // KG withdraws: proposed again.
    c.publish_json(
        "KG",
        serde_json::json!({"kind": "retraction", "target": kg.id.to_hex(),
                           "reason": {"en": "Withdrawn."}}),
    );
    indexer.catch_up(&c.store, &AtomicBool::new(false)).unwrap();
    assert!(find(&[("state", "proposed")]));
    // A rebuild from the store derives the same state.
    drop(indexer);
    drop(index);
    std::fs::remove_dir_all(c.data.join(SEARCH_DIR)).unwrap();
    let (index, _indexer) = c.index();
    let page = index
        .search(&query(&[
            ("kind", "programme"),
            ("state", "proposed"),
            ("q", "qwertzuiop"),
        ]))
        .unwrap();
    assert_eq!(ids(&page), vec![programme.id]);
}

/// The programme filters take only the values the protocol knows, and say which.
#[test]
fn programme_filters_refuse_unknown_values_and_name_the_known_ones() {
    use hubnet_protocol::kinds::programme::{ParticipantRole, ProgrammeStatus};
    let charter = sample_charter();
    let parse = |k: &str, v: &str| {
        Query::parse([(k.to_owned(), v.to_owned())], &[], &charter).map(|(q, _)| q)
    };
    for s in ProgrammeStatus::ALL {
        assert_eq!(
            parse("status", s.name()).map(|q| q.statuses),
            Ok(vec![s.name().to_owned()])
        );
    }
    for r in ParticipantRole::ALL {
        assert_eq!(
            parse("role", r.name()).map(|q| q.roles),
            Ok(vec![r.name().to_owned()])
        );
    }
    for (k, v) in [
        ("status", "finished"),
        ("role", "observer"),
        ("state", "pending"),
        ("participant", "XX"),
    ] {
        let e = parse(k, v).unwrap_err().to_string();
        assert!(e.contains(k) && e.contains(v), "{e}");
    }
    // The message lists every value.
    let e = parse("status", "x").unwrap_err().to_string();
    assert!(
        ProgrammeStatus::ALL.iter().all(|s| e.contains(s.name())),
        "{e}"
    );
    let e = parse("role", "x").unwrap_err().to_string();
    assert!(
        ParticipantRole::ALL.iter().all(|r| e.contains(r.name())),
        "{e}"
    );
    assert_eq!(
        parse("participant", "kz").map(|q| q.participants),
        Ok(vec!["KZ".to_owned()])
    );
}

#[test]
fn the_cursor_after_the_first_n_records_is_where_the_page_after_them_starts() {
    let c = corpus();
    let (index, _indexer) = c.index();
    for sort in [Sort::Oldest, Sort::Newest, Sort::Start] {
        let q = Query {
            sort,
            limit: 3,
            include_retracted: true,
            ..Query::default()
        };
        let total = index.search(&q).unwrap().total;
        assert!(total > 7, "the corpus is large enough to page through");
        // Paging from the start, three at a time: after each page the cursor to the next is the
        // one found in one pass.
        let mut paged = q.clone();
        let mut seen = 0;
        loop {
            let page = index.search(&paged).unwrap();
            seen += page.hits.len();
            let direct = index.cursor_after_first(&q, seen).unwrap();
            assert_eq!(direct, page.next_cursor, "{sort:?} after {seen}");
            assert_eq!(direct.is_none(), seen == total);
            let Some(next) = page.next_cursor else { break };
            paged.from = paged.decode_cursor(&next).unwrap();
        }
        assert_eq!(seen, total);
        assert_eq!(index.cursor_after_first(&q, total + 1).unwrap(), None);
        assert_eq!(index.cursor_after_first(&q, 0).unwrap(), None);
    }
    let relevance = Query {
        q: Some("service".into()),
        sort: Sort::Relevance,
        ..Query::default()
    };
    assert_eq!(index.cursor_after_first(&relevance, 2).unwrap(), None);
}

/// A search index that fails for a reason outside it (a full disk, no permission, too many open
/// files) is not taken for an unreadable one: opening it fails with the reason instead of
/// deleting it and rebuilding from the journal (on a full disk the rebuild fails too).
#[test]
fn only_a_damaged_search_index_is_rebuilt() {
    use std::sync::Arc;
    use tantivy::TantivyError;
    use tantivy::directory::error::OpenReadError;
    let io = |code| Arc::new(std::io::Error::from_raw_os_error(code));
    let env = |e: TantivyError| SearchError::Index(e).environmental();
    for code in [28, 122, 30, 13, 24] {
        assert!(env(TantivyError::IoError(io(code))), "errno {code}");
        assert!(env(TantivyError::OpenReadError(OpenReadError::IoError {
            io_error: io(code),
            filepath: "meta.json".into(),
        })));
    }
    assert!(!env(TantivyError::IoError(io(5))));
    assert!(!env(TantivyError::OpenReadError(
        OpenReadError::FileDoesNotExist("meta.json".into())
    )));
    assert!(!env(TantivyError::InvalidArgument("x".into())));
}

impl AsRef<RwLock<Store>> for Corpus {
    fn as_ref(&self) -> &RwLock<Store> {
        &self.store
    }
}

/// Waits until `index` holds the journal up to `end`; false at the deadline.
fn wait_indexed(index: &SearchIndex, end: u64, deadline: std::time::Instant) -> bool {
    while index.lag(end, std::time::Instant::now()).bytes > 0 {
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    true
}

/// While the ingest worker reports a backlog, the indexer thread leaves a new record alone for
/// a whole yield, and still makes it searchable in its next run, however long the backlog
/// lasts (here: for ever).
#[test]
fn under_an_ingest_backlog_indexing_waits_its_turn_and_still_follows() {
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    let c = Arc::new(corpus());
    let (network, end) = {
        let s = c.store.read().unwrap();
        (s.charter().network_id(), s.journal_end())
    };
    let (index, applied, followed) = SearchIndex::open(&c.data, network, end).unwrap();
    let indexer = Indexer::new(index.clone(), applied, followed, &c.store.read().unwrap()).unwrap();
    let (waker, woken) = indexer::channel();
    waker.endless_backlog();
    let started = Instant::now();
    let handle = indexer::spawn(indexer, c.clone(), &waker, woken).unwrap();
    // What the store held at the start is indexed first (a rebuild does not yield).
    assert!(wait_indexed(&index, end, started + Duration::from_secs(60)));
    c.publish_json(
        "KG",
        serde_json::json!({"kind": "practice", "title": {"en": "Backlogged"},
                           "summary": {"en": "x"}, "topics": ["pay"]}),
    );
    let later = c.store.read().unwrap().journal_end();
    waker.wake();
    assert!(
        wait_indexed(&index, later, Instant::now() + Duration::from_secs(60)),
        "the record never became searchable under the backlog"
    );
    // The yield began after the thread started, and lasted YIELD_MAX. (On a machine so loaded
    // that the first catch-up took longer than that, this holds whatever the indexer did; the
    // turns themselves are tested in `indexer::tests`.)
    assert!(
        started.elapsed() >= indexer::YIELD_MAX,
        "indexed {:?} after the start, inside the first yield",
        started.elapsed()
    );
    assert_eq!(total_for(&index, "Backlogged").unwrap(), 1);
    handle.stop();
}
