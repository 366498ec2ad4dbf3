//! Upgrades: the data dir each release wrote (`tests/data/datadir-v<VERSION>/data`, with what it
//! holds in `expected.json` beside it) opens with this build, offline (`Store::open`, `hubnet
//! log`, `get`, `export`, `verify`) and under `hubnet run`, with every record, head, decision and
//! checkpoint it holds, each verifying; a data dir of a newer format is refused with a message
//! that names the version.
//!
//! Every fixture found under `tests/data/` is checked, so a fixture once committed binds every
//! later release. `HUBNET_REGENERATE_FIXTURE=1` rewrites the fixture of this build's own version
//! (`CARGO_PKG_VERSION`) with [`write_fixture`] before the checks, and only that one: a
//! released version's fixture is never rewritten (`tests/data/datadir-v0.1.0/README.md`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use hubnet_node::store::Store;
use hubnet_protocol::governance::{Action, DecisionDraft, sign_decision, verify_decision};
use hubnet_protocol::vocabulary::{Term, Vocabulary};
use hubnet_protocol::{Draft, DraftFormat, PublicKey, Record, RecordId, SecretKey, checkpoint};
use serde_json::{Value, json};

use crate::net::Net;
use crate::support::{hubnet, ok, path, poll_until, sample, sample_key};

/// `tests/data`.
fn data_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data")
}

/// Every release's fixture (`datadir-v<VERSION>`), oldest name first; this build's own version
/// rewritten first when `HUBNET_REGENERATE_FIXTURE=1`.
fn fixtures() -> Vec<PathBuf> {
    static REGENERATED: OnceLock<()> = OnceLock::new();
    REGENERATED.get_or_init(|| {
        if std::env::var("HUBNET_REGENERATE_FIXTURE").as_deref() == Ok("1") {
            write_fixture(&data_root().join(format!("datadir-v{}", env!("CARGO_PKG_VERSION"))));
        }
    });
    let mut found: Vec<PathBuf> = std::fs::read_dir(data_root())
        .expect("tests/data")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("datadir-v"))
        })
        .collect();
    found.sort();
    assert!(
        found
            .iter()
            .any(|p| p.ends_with(format!("datadir-v{}", env!("CARGO_PKG_VERSION")))),
        "no fixture of this release ({}) under tests/data: write it with \
         HUBNET_REGENERATE_FIXTURE=1 cargo test -p hubnet-node --test e2e upgrade::",
        env!("CARGO_PKG_VERSION")
    );
    found
}

/// A copy of fixture `fixture`'s data dir inside `dir`, as an operator's disk would hold it.
fn copy_of(fixture: &Path, dir: &Path) -> PathBuf {
    let to = dir.join("data");
    copy_dir(&fixture.join("data"), &to);
    to
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
}

fn expected(fixture: &Path) -> Value {
    let text = std::fs::read_to_string(fixture.join("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("expected.json is JSON")
}

fn id(v: &Value) -> RecordId {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a record id: {v}"))
}

fn items<'a>(v: &'a Value, field: &str) -> &'a [Value] {
    v[field]
        .as_array()
        .map_or_else(|| panic!("expected.json has no {field}"), Vec::as_slice)
}

/// Everything `expected.json` lists is in the store at `data`, each record verifying.
fn check_store(data: &Path, want: &Value) {
    let store = Store::open(data).expect("a released data dir opens");
    let charter = store.charter().clone();
    assert_eq!(charter.network_id().to_hex(), want["network_id"]);
    let records = items(want, "records");
    assert_eq!(
        store.record_count().expect("count"),
        records.len() as u64,
        "record count"
    );
    for r in records {
        let rid = id(&r["id"]);
        let signed = store
            .get_signed(&rid)
            .expect("reads")
            .unwrap_or_else(|| panic!("record {rid} ({}) is missing", r["what"]));
        let verified = hubnet_protocol::record::verify_record(
            &signed.encode(),
            &charter,
            hubnet_node::now_ms(),
        )
        .unwrap_or_else(|e| panic!("record {rid} ({}) does not verify: {e}", r["what"]));
        assert_eq!(verified.member, r["member"], "{rid}");
        assert_eq!(
            verified.header.seq,
            r["seq"].as_u64().expect("seq"),
            "{rid}"
        );
        assert_eq!(verified.header.kind.name(), r["kind"], "{rid}");
        let erased = r["erased"].as_bool().expect("erased");
        assert_eq!(store.erased_by(&rid).is_some(), erased, "{rid} erased");
        assert_eq!(signed.body.is_empty(), erased, "{rid}: body");
        assert_eq!(
            store.is_retracted(&rid).expect("reads"),
            r["retracted"].as_bool().expect("retracted"),
            "{rid} retracted"
        );
    }
    let heads: BTreeMap<String, (u64, String)> = store
        .heads()
        .expect("heads")
        .into_iter()
        .map(|(k, h)| {
            let member = charter.member_by_key(&k).expect("a member").code.clone();
            (member, (h.seq, h.id.to_hex()))
        })
        .collect();
    let want_heads: BTreeMap<String, (u64, String)> = want["heads"]
        .as_object()
        .expect("heads")
        .iter()
        .map(|(m, h)| {
            (
                m.clone(),
                (
                    h["seq"].as_u64().expect("seq"),
                    h["id"].as_str().expect("id").to_owned(),
                ),
            )
        })
        .collect();
    assert_eq!(heads, want_heads);
    assert_eq!(hex::encode(store.summary().digest()), want["heads_digest"]);
    let decisions = store.governance().decisions();
    for d in items(want, "decisions") {
        assert!(decisions.contains_key(&id(d)), "decision {d} is missing");
    }
    assert_eq!(decisions.len(), items(want, "decisions").len());
    let held: Vec<(String, String)> = store
        .checkpoints()
        .map(|c| (c.member.clone(), c.id.to_hex()))
        .collect();
    for c in items(want, "checkpoints") {
        let entry = (
            c["member"].as_str().expect("member").to_owned(),
            c["id"].as_str().expect("id").to_owned(),
        );
        assert!(
            held.contains(&entry),
            "checkpoint {entry:?} is missing: {held:?}"
        );
    }
    assert!(store.forks().is_empty());
}

/// Every fixture opens with this build: the store holds and verifies what `expected.json`
/// lists, and the command line reads it offline: each member's log, each record, an export
/// that `hubnet verify` passes against the network id.
#[test]
fn every_released_data_dir_opens_offline_with_everything_it_holds() {
    for fixture in fixtures() {
        let want = expected(&fixture);
        let dir = tempfile::tempdir().expect("tempdir");
        let data = copy_of(&fixture, dir.path());
        check_store(&data, &want);
        // Opened once more (the index as this build left it).
        check_store(&data, &want);
        let records = items(&want, "records");
        for member in want["heads"].as_object().expect("heads").keys() {
            let log = ok(&["log", "--data-dir", path(&data), member, "--json"]);
            let of_member = records.iter().filter(|r| r["member"] == *member).count();
            assert_eq!(log.lines().count(), of_member, "{member}: {log}");
        }
        for r in records {
            let rid = r["id"].as_str().expect("id");
            let got: Value =
                serde_json::from_str(&ok(&["get", "--data-dir", path(&data), rid])).expect("json");
            assert_eq!(got["id"], rid);
        }
        let bundle = dir.path().join("all.bundle");
        ok(&["export", "--data-dir", path(&data), "--out", path(&bundle)]);
        let network_id = want["network_id"].as_str().expect("network id");
        let report = ok(&["verify", path(&bundle), "--network-id", network_id]);
        assert!(
            report.contains(&format!("OK: {} records verified", records.len()))
                && report.contains(&format!(
                    "governance {} decisions",
                    items(&want, "decisions").len()
                )),
            "{}: {report}",
            fixture.display()
        );
    }
}

/// `hubnet run` on a copy of each fixture serves what it holds: a record, verified, the heads
/// digest, the programme's state, the governance log, the checkpoints, and a full-text search.
#[test]
fn every_released_data_dir_serves_under_hubnet_run() {
    for fixture in fixtures() {
        let want = expected(&fixture);
        let mut net = Net::new(&["mirror"]);
        copy_dir(&fixture.join("data"), &net.data(0));
        net.start(0);
        let json_of = |net: &Net, p: &str| -> Value {
            let (code, body) = net.get(0, p);
            assert_eq!(code, 200, "{p}: {}", String::from_utf8_lossy(&body));
            serde_json::from_slice(&body).expect("json")
        };
        let status = json_of(&net, "/api/v1/status");
        assert_eq!(status["heads_digest"], want["heads_digest"]);
        assert_eq!(status["record_count"], items(&want, "records").len());
        for r in items(&want, "records") {
            let rid = r["id"].as_str().expect("id");
            let got = json_of(&net, &format!("/api/v1/records/{rid}"));
            assert_eq!(got["id"], rid);
        }
        let p = &want["programme"];
        let programme = json_of(
            &net,
            &format!("/api/v1/programmes/{}", p["id"].as_str().expect("id")),
        );
        assert_eq!(programme["state"], p["state"]);
        let governance = json_of(&net, "/api/v1/governance");
        assert_eq!(
            governance["decisions"].as_array().map(Vec::len),
            Some(items(&want, "decisions").len())
        );
        let checkpoints = json_of(&net, "/api/v1/checkpoints");
        assert_eq!(
            checkpoints["checkpoints"].as_array().map(Vec::len),
            Some(items(&want, "checkpoints").len())
        );
        // The search index (as the release left it, or rebuilt) finds a record by its text.
        let search = &want["search"];
        let q = search["q"].as_str().expect("q");
        poll_until(
            "the search finds the record",
            Duration::from_secs(30),
            || {
                let found = json_of(&net, &format!("/api/v1/records?q={q}"));
                found["records"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|r| r["id"] == search["finds"]))
            },
        );
        net.stop(0);
    }
}

/// A data dir written by a newer release (its journal's format version, or its index's schema,
/// above this build's) is refused with a message naming the version, and left as it was.
#[test]
fn a_data_dir_of_a_newer_format_is_refused_naming_its_version() {
    let fixture = data_root().join(format!("datadir-v{}", env!("CARGO_PKG_VERSION")));
    fixtures();
    let dir = tempfile::tempdir().expect("tempdir");
    let refused = |data: &Path| -> String {
        let out = hubnet()
            .args(["log", "--data-dir", path(data), "KZ"])
            .output()
            .expect("runs");
        assert!(!out.status.success(), "a newer data dir opened");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    // The journal header: magic (8 bytes), then the format version (u32, little-endian).
    let newer = hubnet_node::store::journal::VERSION + 1;
    let data = copy_of(&fixture, &dir.path().join("journal"));
    let journal = data.join("records.journal");
    let mut bytes = std::fs::read(&journal).expect("journal");
    bytes[8..12].copy_from_slice(&newer.to_le_bytes());
    std::fs::write(&journal, &bytes).expect("journal");
    let err = refused(&data);
    assert!(
        err.contains(&format!("format version {newer} is not supported"))
            && err.contains("use a newer hubnet"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&journal).expect("journal"),
        bytes,
        "unchanged"
    );
    // The index's schema version.
    let schema = hubnet_node::store::SCHEMA_VERSION + 1;
    let data = copy_of(&fixture, &dir.path().join("schema"));
    {
        let db = sled::open(data.join("index")).expect("the fixture's index opens");
        db.insert(b"mschema", &schema.to_be_bytes())
            .expect("writes");
        db.flush().expect("flush");
    }
    let err = refused(&data);
    assert!(
        err.contains(&format!("store schema version {schema} is newer")),
        "{err}"
    );
}

// ---- Writing the fixture (HUBNET_REGENERATE_FIXTURE=1) ----

/// When the fixture's records were made: 2026-10-26 07:33:20 UTC, one minute apart.
const T0: i64 = 1_793_000_000_000;

/// A sample draft (`deploy/sample/drafts/<file>`) as JSON.
fn sample_draft(file: &str) -> Value {
    let text = std::fs::read_to_string(sample().join("drafts").join(file)).expect("draft");
    serde_json::to_value(Draft::parse(&text, DraftFormat::Toml).expect("parses")).expect("json")
}

/// Writes the fixture of this release into `fixture`: builds a small data dir with the store's
/// own API at fixed times (so its journals are the same bytes each time), lets `hubnet run`
/// open it and build its search index, and copies the data dir as the node left it, with
/// `expected.json`. The index files (sled, tantivy) differ from one run to the next.
fn write_fixture(fixture: &Path) {
    let mut net = Net::new(&["mirror"]);
    let data = net.data(0);
    let charter_text = std::fs::read_to_string(sample().join("charter.toml")).expect("charter");
    let mut w = Writer {
        store: Store::init(&data, &charter_text).expect("init"),
        records: Vec::new(),
        at: T0,
    };
    let practice = w.publish(
        "KZ",
        "KZ/05-mentoring-newcomers.toml",
        sample_draft("KZ/05-mentoring-newcomers.toml"),
    );
    let event_draft = sample_draft("KZ/08-webinar-proactive-services.toml");
    let event = w.publish(
        "KZ",
        "KZ/08-webinar-proactive-services.toml",
        event_draft.clone(),
    );
    w.publish(
        "KZ",
        "KZ/20-reform-profile-2025.toml",
        sample_draft("KZ/20-reform-profile-2025.toml"),
    );
    w.publish(
        "KZ",
        "KZ/30-institution-civil-service-agency.toml",
        sample_draft("KZ/30-institution-civil-service-agency.toml"),
    );
    let expert = w.publish(
        "KZ",
        "KZ/40-expert-e-government.toml (fictional)",
        sample_draft("KZ/40-expert-e-government.toml"),
    );
    let programme = w.publish(
        "KZ",
        "KZ/50-programme-ethics-network.toml",
        sample_draft("KZ/50-programme-ethics-network.toml"),
    );
    let mut postponed = event_draft;
    postponed["status"] = json!("postponed");
    w.publish(
        "KZ",
        "amendment: the webinar postponed",
        json!({
            "kind": "amendment",
            "target": event.id.to_hex(),
            "record": postponed,
            "note": {"en": "Postponed; new dates will follow.", "ru": "Перенесено; новые даты будут объявлены позже."},
        }),
    );
    w.publish(
        "KZ",
        "erasure: the expert withdrew consent",
        json!({"kind": "erasure", "target": expert.id.to_hex(), "ground": "consent_withdrawn"}),
    );
    w.publish(
        "UZ",
        "UZ/01-public-service-centres.toml",
        sample_draft("UZ/01-public-service-centres.toml"),
    );
    w.publish(
        "UZ",
        "confirmation of KZ's programme",
        json!({"kind": "confirmation", "programme": programme.id.to_hex(), "version": programme.id.to_hex()}),
    );
    let hub_event = w.publish(
        "HUB",
        "HUB/08-webinar-open-data-cancelled.toml",
        sample_draft("HUB/08-webinar-open-data-cancelled.toml"),
    );
    w.publish(
        "HUB",
        "retraction of the cancelled webinar",
        json!({
            "kind": "retraction",
            "target": hub_event.id.to_hex(),
            "reason": {"en": "Withdrawn: merged into the annual forum.", "ru": "Отозвано: объединено с ежегодным форумом."},
        }),
    );
    // The Steering Committee adds a topic (two of three signatures); UZ then uses it.
    let charter = w.store.charter().clone();
    let name = |en: &str, ru: &str, kk: &str| {
        BTreeMap::from([
            ("en".to_owned(), en.to_owned()),
            ("ru".to_owned(), ru.to_owned()),
            ("kk".to_owned(), kk.to_owned()),
        ])
    };
    let decision = DecisionDraft {
        seq: 1,
        prev: None,
        created_at: w.at,
        reason: name(
            "Steering Committee meeting: a topic for open data.",
            "Заседание Руководящего комитета: тема открытых данных.",
            "Басқарушы комитеттің отырысы: ашық деректер тақырыбы.",
        ),
        action: Action::AmendVocabulary {
            additions: Vocabulary {
                topics: vec![Term {
                    slug: "open-data".into(),
                    name: name("Open data", "Открытые данные", "Ашық деректер"),
                }],
                ..Vocabulary::default()
            },
        },
    }
    .encode(&charter);
    let signed = hubnet_proto::v1::SignedDecision {
        signatures: ["committee-1", "committee-2"]
            .iter()
            .map(|k| sign_decision(&key(k), &decision))
            .collect(),
        decision,
    };
    let decision = verify_decision(&signed, &charter).expect("a quorum-signed decision");
    let decision_id = decision.id;
    w.store.add_decision(decision).expect("stored");
    w.at += 60_000;
    w.publish(
        "UZ",
        "a practice with the topic the decision added",
        json!({
            "kind": "practice",
            "title": {"en": "Open data on civil service vacancies", "ru": "Открытые данные о вакансиях государственной службы"},
            "summary": {"en": "Vacancies and competition results published as open data."},
            "topics": ["open-data", "recruitment"],
        }),
    );
    // Each member node's checkpoint of its view (their libp2p peer ids from fixed seeds).
    let Writer {
        mut store,
        mut records,
        at,
    } = w;
    let summary = store.summary();
    let mut checkpoints = Vec::new();
    for (n, member) in [(1u8, "KZ"), (2, "UZ")] {
        let peer = libp2p::identity::Keypair::ed25519_from_bytes([n; 32])
            .expect("key")
            .public()
            .to_peer_id()
            .to_string();
        let signed = checkpoint::sign(
            &key(member),
            store.charter(),
            &peer,
            at,
            &summary.heads,
            &summary.decisions,
        );
        let c = checkpoint::verify(&signed, store.charter()).expect("verifies");
        checkpoints.push(json!({"member": member, "id": c.id.to_hex()}));
        store.add_checkpoint(c).expect("stored");
    }
    let charter = store.charter().clone();
    let heads: serde_json::Map<String, Value> = summary
        .heads
        .iter()
        .map(|(k, h): (&PublicKey, _)| {
            (
                charter.member_by_key(k).expect("member").code.clone(),
                json!({"seq": h.seq, "id": h.id.to_hex()}),
            )
        })
        .collect();
    for r in &mut records {
        let rid = id(&r["id"]);
        r["erased"] = json!(store.erased_by(&rid).is_some());
        r["retracted"] = json!(store.is_retracted(&rid).expect("reads"));
    }
    let expected = json!({
        "release": env!("CARGO_PKG_VERSION"),
        "network_id": charter.network_id().to_hex(),
        "records": records,
        "heads": heads,
        "heads_digest": hex::encode(summary.digest()),
        "decisions": [decision_id.to_hex()],
        "checkpoints": checkpoints,
        "programme": {"id": programme.id.to_hex(), "state": "proposed"},
        "search": {"q": "наставничество", "finds": practice.id.to_hex()},
    });
    store.flush().expect("flush");
    drop(store);

    // `hubnet run` opens it and builds the search index; stopped once the index holds it all.
    net.start(0);
    poll_until(
        "the search index catches up",
        Duration::from_secs(60),
        || {
            let (_, body) = net.get(0, "/readyz");
            let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            v["checks"].as_array().is_some_and(|c| {
                c.iter().any(|c| {
                    c["name"] == "search_index"
                        && c["detail"]
                            .as_str()
                            .is_some_and(|d| d.starts_with("0 bytes behind"))
                })
            })
        },
    );
    net.stop(0);

    // The data dir as the node left it; no empty dirs (git keeps none, and the test copies
    // what git holds).
    let to = fixture.join("data");
    if to.exists() {
        std::fs::remove_dir_all(&to).expect("remove the old fixture");
    }
    copy_files(&data, &to);
    std::fs::write(
        fixture.join("expected.json"),
        serde_json::to_string_pretty(&expected).expect("json") + "\n",
    )
    .expect("expected.json");
    eprintln!("wrote the fixture {}", fixture.display());
}

/// The sample key `name` (`KZ`, `committee-1`, ...).
fn key(name: &str) -> SecretKey {
    hubnet_node::keyfile::read(&sample_key(name)).expect("sample key")
}

/// A store being filled at fixed times, and what was published.
struct Writer {
    store: Store,
    records: Vec<Value>,
    at: i64,
}

impl Writer {
    /// `member` signs `draft` (`what` says what it is) one minute after the record before.
    fn publish(&mut self, member: &str, what: &str, draft: Value) -> Record {
        let rules = self.store.charter().rules().at(self.at);
        let body = Draft::parse(&draft.to_string(), DraftFormat::Json)
            .and_then(|d| d.to_body(member, &rules))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let r = self
            .store
            .publish(&key(member), &body, self.at)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        self.at += 60_000;
        self.records.push(json!({
            "id": r.id.to_hex(),
            "member": member,
            "seq": r.header.seq,
            "kind": r.header.kind.name(),
            "what": what,
        }));
        r
    }
}

/// Copies the files under `from` to `to`, leaving out empty dirs.
fn copy_files(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_files(&e.path(), &target);
        } else {
            std::fs::create_dir_all(to).expect("mkdir");
            std::fs::copy(e.path(), &target).expect("copy");
        }
    }
}
