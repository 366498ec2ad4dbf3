//! Search at scale, each figure beside its raw limit measured in the same run:
//! - the indexing rate (documents/s, the search indexer catching up with the whole journal, and
//!   the CPU time it took per document, which the machine's load does not change) beside the
//!   store's ingest rate (group commits of 4,096 already-verified records into the journal and
//!   sled);
//! - a catch-up as a node runs it: the same records stored at the store's rate into a second store
//!   while the indexer thread follows it, and how far the index trails the store when the last
//!   record is stored (the time until the index holds the whole journal);
//! - filtered full-text queries with N records stored (default 1 million; `HUBNET_SEARCH_RECORDS`
//!   sets N): the whole answer as the API builds it (search, facets over every match, the page's
//!   records loaded from the store), p50 and p99 over repeated runs, beside the raw tantivy search
//!   of the same query (top 20 by score, no facets, nothing loaded).
//!
//! Records are built from the sample corpus (deploy/sample/drafts): each member's practices and
//! events in Russian, English and Kazakh, cut to title, summary and the first section of the body
//! (about 1.5 KB), a number appended to the title, chained per member and signed.
//! Run with `cargo bench -p hubnet-node --bench search`; `HUBNET_SEARCH_INDEXING_ONLY=1` measures
//! the store's ingest and the indexing rate only (no catch-up, no queries).

mod common;

use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use hubnet_node::api::query::{parse_query, run_query};
use hubnet_node::search::SearchIndex;
use hubnet_node::search::indexer::Indexer;
use hubnet_node::store::Store;

/// The allocator the `hubnet` binary uses (node/src/main.rs), so the figures are the node's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const NOW: i64 = 1_790_000_000_000;
const BATCH: usize = 4096;

/// The CPU time this process has used (user and system), from `/proc/self/stat` (Linux; zero
/// elsewhere), in seconds.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces): state is the 3rd field, utime and
    // stime the 14th and 15th, in clock ticks of 1/100 s.
    let Some((_, rest)) = stat.rsplit_once(") ") else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(11) + ticks(12)) as f64 / 100.0
}

/// Indexing: the indexer catching up with the whole journal of `store` (`n` records), as a
/// rebuild does; returns the store, the documents indexed a second and the CPU time a document.
fn measure_indexing(store: Store, data: &Path, n: usize) -> (Store, f64, f64) {
    let cpu_before = cpu_seconds();
    let (store, indexing) = common::index_whole_journal(store, data);
    let index_cpu = cpu_seconds() - cpu_before;
    let index_rate = n as f64 / indexing.as_secs_f64();
    let cpu_per_doc = index_cpu * 1e6 / n as f64;
    eprintln!(
        "indexing: {n} records in {indexing:.1?} = {index_rate:.0}/s, {index_cpu:.1} s of CPU \
         = {cpu_per_doc:.0} µs a document"
    );
    (store, index_rate, cpu_per_doc)
}

/// The store as the indexer thread reads it.
struct Held(RwLock<Store>);

/// The bench's store behind its lock, taken for each step of a group commit.
impl hubnet_node::store::Access for &Held {
    fn write(&mut self) -> impl std::ops::DerefMut<Target = Store> + '_ {
        self.0.write().expect("lock")
    }

    fn read(&mut self) -> impl std::ops::Deref<Target = Store> + '_ {
        self.0.read().expect("lock")
    }
}

impl AsRef<RwLock<Store>> for Held {
    fn as_ref(&self) -> &RwLock<Store> {
        &self.0
    }
}

/// How a catch-up went: the store's ingest rate (records/s), the share of the journal the index
/// held (searchable) when the last group was stored, and how long after that it held all of it.
struct FollowRun {
    rate: f64,
    held_at_stored: f64,
    trailing: Duration,
}

impl FollowRun {
    /// The line the bench prints, as it happens and again in the summary.
    fn summary(&self) -> String {
        format!(
            "catch-up: stored at {:.0} records/s while the indexer followed; the index held \
             {:.1}% of the journal when the last record was stored, and the whole journal {:.1} s \
             after",
            self.rate,
            self.held_at_stored * 100.0,
            self.trailing.as_secs_f64()
        )
    }
}

/// Stores `all` in groups into a new store in `data` while the indexer thread follows it.
fn follow(data: &Path, charter: &str, all: &[hubnet_protocol::Record]) -> FollowRun {
    let store = Store::init(data, charter).expect("store");
    let (index, applied, followed) =
        SearchIndex::open(data, store.charter().network_id(), store.journal_end()).expect("index");
    let indexer = Indexer::new(index.clone(), applied, followed, &store).expect("indexer");
    let held = Arc::new(Held(RwLock::new(store)));
    let (waker, woken) = hubnet_node::search::indexer::channel();
    let thread =
        hubnet_node::search::indexer::spawn(indexer, held.clone(), &waker, woken).expect("spawn");
    let started = Instant::now();
    for chunk in all.chunks(BATCH) {
        // As the node's ingest worker commits a group: the lock is let go during the `fdatasync`.
        Store::append_in(&*held, chunk).expect("append");
        // Groups come as fast as the store takes them: a backlog, as the worker reports one.
        waker.backlog();
        waker.wake();
    }
    let end = {
        let store = held.0.read().expect("lock");
        store.flush().expect("flush");
        store.journal_end()
    };
    let stored = Instant::now();
    let rate = all.len() as f64 / (stored - started).as_secs_f64();
    // What the indexer managed while storing took the cores (it runs at a lower priority).
    let journal = end.saturating_sub(Store::journal_start()).max(1);
    let held_at_stored = 1.0 - index.lag(end, stored).bytes as f64 / journal as f64;
    // Polled: the bench watches from outside, as `GET /readyz` does.
    while index.lag(end, Instant::now()).bytes > 0 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let trailing = stored.elapsed();
    thread.stop();
    FollowRun {
        rate,
        held_at_stored,
        trailing,
    }
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test` runs benches as tests; this one is only for `cargo bench`.
    }
    let n: usize = std::env::var("HUBNET_SEARCH_RECORDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let charter = std::fs::read_to_string(common::sample("charter.toml")).expect("charter");
    let mut store = Store::init(&data, &charter).expect("store");
    eprintln!("signing {n} records…");
    let all = hubnet_node::synth::sample_corpus(&common::sample(""), store.charter(), n, NOW)
        .expect("the sample corpus");
    let bytes: usize = all.iter().map(|r| r.signed.encoded_len()).sum();

    // Ingest: group commits into the journal and sled.
    let started = Instant::now();
    for chunk in all.chunks(BATCH) {
        store.append(chunk).expect("append");
    }
    store.flush().expect("flush");
    let ingest = started.elapsed();
    let ingest_rate = n as f64 / ingest.as_secs_f64();
    eprintln!("ingest: {n} records in {ingest:.1?} = {ingest_rate:.0}/s");

    if std::env::var_os("HUBNET_SEARCH_INDEXING_ONLY").is_some() {
        drop(all);
        let (_, index_rate, cpu_per_doc) = measure_indexing(store, &data, n);
        println!(
            "ingest {ingest_rate:.0} records/s; indexing {index_rate:.0} documents/s = {:.2}x \
             ingest ({cpu_per_doc:.0} µs of CPU a document)",
            index_rate / ingest_rate
        );
        return;
    }

    // A catch-up as a node runs it: storing at the store's rate while the indexer follows.
    let follow_dir = tempfile::tempdir().expect("tempdir");
    let caught = follow(&follow_dir.path().join("data"), &charter, &all);
    drop(follow_dir);
    drop(all);
    eprintln!("{}", caught.summary());

    let (store, index_rate, cpu_per_doc) = measure_indexing(store, &data, n);

    // Queries, through the same code as GET /api/v1/records.
    let peer = libp2p::identity::Keypair::generate_ed25519()
        .public()
        .to_peer_id();
    let (shared, _indexer) = hubnet_node::shared::Shared::new(store, peer, None).expect("shared");
    let queries = [
        "q=%D0%B3%D0%BE%D1%81%D1%83%D0%B4%D0%B0%D1%80%D1%81%D1%82%D0%B2%D0%B5%D0%BD%D0%BD%D0%BE%D0%B9%20%D1%81%D0%BB%D1%83%D0%B6%D0%B1%D1%8B&country=KZ",
        "q=%D1%8D%D0%BB%D0%B5%D0%BA%D1%82%D1%80%D0%BE%D0%BD%D0%BD%D0%BE%D0%B5%20%D0%BF%D1%80%D0%B0%D0%B2%D0%B8%D1%82%D0%B5%D0%BB%D1%8C%D1%81%D1%82%D0%B2%D0%BE&kind=practice",
        "q=civil%20service&lang=en&topic=recruitment",
        "q=%D0%BC%D0%B5%D0%BC%D0%BB%D0%B5%D0%BA%D0%B5%D1%82%D1%82%D1%96%D0%BA&lang=kk&country=KZ",
        "q=training&kind=event&sort=start",
    ];
    let rounds: usize = 200;
    println!("| query | matches | p50 | p99 | raw p50 | raw p99 |");
    println!("|---|---|---|---|---|---|");
    let mut all_full = Vec::new();
    for qs in queries {
        let (q, _) = parse_query(&shared, Some(qs), &[]).expect("valid query");
        let mut full = Vec::with_capacity(rounds);
        let mut raw = Vec::with_capacity(rounds);
        let mut matches = 0;
        for _ in 0..rounds {
            let t = Instant::now();
            let (records, page) = run_query(&shared, &q).expect("query");
            std::hint::black_box(records);
            full.push(t.elapsed());
            matches = page.total;
            let t = Instant::now();
            std::hint::black_box(shared.search.raw_top(&q, 20).expect("raw"));
            raw.push(t.elapsed());
        }
        full.sort();
        raw.sort();
        all_full.extend(full.iter().copied());
        let decoded = url::form_urlencoded::parse(qs.as_bytes())
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ");
        println!(
            "| `{decoded}` | {matches} | {:.1?} | {:.1?} | {:.1?} | {:.1?} |",
            common::percentile(&full, 0.5),
            common::percentile(&full, 0.99),
            common::percentile(&raw, 0.5),
            common::percentile(&raw, 0.99),
        );
    }
    all_full.sort();
    println!();
    println!(
        "records: {n} ({:.0} bytes each on average); all queries: p50 {:.1?}, p99 {:.1?}",
        bytes as f64 / n as f64,
        common::percentile(&all_full, 0.5),
        common::percentile(&all_full, 0.99)
    );
    println!(
        "ingest {ingest_rate:.0} records/s; indexing {index_rate:.0} documents/s = {:.2}x ingest \
         ({cpu_per_doc:.0} µs of CPU a document)",
        index_rate / ingest_rate
    );
    println!("{}", caught.summary());
}
