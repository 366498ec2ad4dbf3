//! The query parser and cursors on an arbitrary URL query string (`node/src/search/query.rs`,
//! decoded as the API does with `form_urlencoded`), run against a search index of sample records.
//!
//! Properties: parsing never panics and gives a query or a typed `QueryError` (the API's 400);
//! a query that parses runs (no 500), its limit is in range and only the allowed extra
//! parameters come back; the cursors the node hands out (offset, key and id, and a page's next
//! cursor) are taken back by the same query and give the position they were made for.
#![no_main]

use std::sync::RwLock;
use std::sync::atomic::AtomicBool;

use hubnet_fuzz::{SAMPLE_CHARTER, SAMPLE_DIR, SEED_MS, charter};
use hubnet_node::search::indexer::Indexer;
use hubnet_node::search::query::{From, MAX_LIMIT, MAX_OFFSET, Query, Sort};
use hubnet_node::search::{QueryError, SearchIndex};
use hubnet_node::store::Store;
use hubnet_node::store::journal::HEADER_LEN;
use libfuzzer_sys::fuzz_target;

/// The parameters an endpoint may take beyond the query's own (the export's `format`).
const EXTRA: &[&str] = &["format"];

/// A store of sample records and an in-memory index over them, kept for the whole run.
struct Fixture {
    _dir: tempfile::TempDir,
    _store: RwLock<Store>,
    _indexer: Indexer,
    index: SearchIndex,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("a temporary dir");
    let mut store = Store::init(&dir.path().join("data"), SAMPLE_CHARTER).expect("a store");
    let records = hubnet_node::synth::sample_corpus(SAMPLE_DIR.as_ref(), charter(), 48, SEED_MS)
        .expect("sample records");
    store.append(&records).expect("stores the sample records");
    let index = SearchIndex::in_ram().expect("an index");
    let mut indexer = Indexer::new(index.clone(), HEADER_LEN, None, &store).expect("an indexer");
    let store = RwLock::new(store);
    indexer
        .catch_up(&store, &AtomicBool::new(false))
        .expect("indexes the sample records");
    Fixture {
        _dir: dir,
        _store: store,
        _indexer: indexer,
        index,
    }
}

thread_local! {
    static FIXTURE: Fixture = fixture();
}

fn parse(pairs: Vec<(String, String)>) -> Result<(Query, Vec<(String, String)>), QueryError> {
    Query::parse(pairs, EXTRA, charter())
}

fuzz_target!(|data: &[u8]| {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(data).into_owned().collect();
    let (q, extras) = match parse(pairs.clone()) {
        Ok(parsed) => parsed,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    assert!((1..=MAX_LIMIT).contains(&q.limit));
    assert!(extras.iter().all(|(k, _)| EXTRA.contains(&k.as_str())));

    let with_cursor = |cursor: String| {
        let mut p: Vec<_> = pairs
            .iter()
            .filter(|(k, _)| k != "cursor")
            .cloned()
            .collect();
        p.push(("cursor".to_owned(), cursor));
        parse(p).map(|(q, _)| q)
    };
    let at = |from: From| Query { from, ..q.clone() };
    if q.sort == Sort::Relevance {
        let offset = data.len().wrapping_mul(7919) % (MAX_OFFSET + 1);
        let back = with_cursor(q.cursor_at(offset)).expect("an offset cursor of this query");
        assert_eq!(back, at(From::Offset(offset)));
    } else {
        let key = (data.len() as i64).wrapping_mul(-7_919_000_000_017);
        let id = u64::MAX - data.len() as u64;
        let back = with_cursor(q.cursor_after(key, id)).expect("a key cursor of this query");
        assert_eq!(back, at(From::After { key, id }));
    }

    let page = FIXTURE
        .with(|f| f.index.search(&q))
        .expect("a query that parses runs");
    assert!(page.hits.len() <= q.limit);
    if let Some(next) = page.next_cursor {
        with_cursor(next).expect("a page's next cursor continues its query");
    }
});
