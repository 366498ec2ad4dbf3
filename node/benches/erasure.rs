//! What erasure costs (docs/PROTOCOL.md §2.1), each figure beside its raw limit measured in the
//! same run (release build):
//!
//! - **store**: a store holding `HUBNET_BENCH_ERASURE_RECORDS` practices (default 100,000, from
//!   eight authors); `HUBNET_BENCH_ERASURES` rounds (default 200), each publishing one plain
//!   practice and then one erasure of a random earlier practice of the same key. The erasure
//!   is a publish (sign, append, `fdatasync`) plus the in-place rewrite of the target's journal
//!   entry behind an intent file (write and fsync the intent, overwrite, `fdatasync`, unlink);
//!   the plain publish is its raw limit. p50 and p99 of each.
//! - **search**: the same store indexed; `HUBNET_BENCH_ERASURE_SEARCH` rounds (default 20), each
//!   bringing the index up to date after one plain publish, then after one erasure (which removes
//!   the document and rewrites every segment holding deleted documents so its text leaves the
//!   files). p50 and p99 of each.
//!
//! Run: `cargo bench -p hubnet-node --bench erasure`. It prints a report to copy into
//! BENCHMARKS.md.

use std::sync::RwLock;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use hubnet_node::search::SearchIndex;
use hubnet_node::search::indexer::Indexer;
use hubnet_node::store::Store;
use hubnet_proto::v1 as pb;
use hubnet_protocol::record::{self, Position};
use hubnet_protocol::{Body, RecordId};

#[path = "../../protocol/benches/common/mod.rs"]
mod common;

use common::{CODES, NOW};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn summary(mut v: Vec<f64>) -> String {
    v.sort_by(|a, b| a.total_cmp(b));
    format!(
        "p50 {:.2} ms, p99 {:.2} ms",
        percentile(&v, 0.5),
        percentile(&v, 0.99)
    )
}

fn erasure(target: RecordId) -> Body {
    Body::Erasure(pb::Erasure {
        target: target.0.to_vec(),
        amendments: Vec::new(),
        ground: pb::ErasureGround::ConsentWithdrawn as i32,
    })
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let total = env_usize("HUBNET_BENCH_ERASURE_RECORDS", 100_000);
    let rounds = env_usize("HUBNET_BENCH_ERASURES", 200);
    let search_rounds = env_usize("HUBNET_BENCH_ERASURE_SEARCH", 20);
    println!(
        "machine: {} cores, {}",
        std::thread::available_parallelism().map_or(0, usize::from),
        std::fs::read_to_string("/proc/cpuinfo")
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("model name\t: "))
            .unwrap_or("unknown CPU")
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let (doc, keys) = common::network_doc(CODES.len());
    let mut store = Store::init(&data, &doc.to_toml()).expect("init");
    let charter = store.charter().clone();
    let spacing = hubnet_node::synth::rate_spacing_ms(&charter).max(1);
    let body = common::practice_body(&charter, "KZ");

    // Fill: chained practices of eight authors, spaced for the rate rule, in group commits.
    let per_key = total / keys.len();
    let mut positions = vec![Position::FIRST; keys.len()];
    let mut ids: Vec<Vec<RecordId>> = vec![Vec::new(); keys.len()];
    let mut at = NOW;
    let filled = Instant::now();
    for _ in 0..per_key.div_ceil(64) {
        let mut group = Vec::new();
        for _ in 0..64 {
            at += spacing;
            for (k, key) in keys.iter().enumerate() {
                let s = record::sign(key, charter.network_id(), positions[k], at, &body);
                let r = record::verify_record(&s.encode(), &charter, at).expect("valid");
                positions[k] = Position::after(&r);
                ids[k].push(r.id);
                group.push(r);
            }
        }
        store.append(&group).expect("append");
    }
    println!(
        "store: {} records filled in {:.1} s",
        store.record_count().expect("count"),
        filled.elapsed().as_secs_f64()
    );

    // Store: plain publish against erasure, interleaved.
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = |n: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % n as u64) as usize
    };
    let (mut plain, mut erase) = (Vec::new(), Vec::new());
    let key = &keys[0];
    for _ in 0..rounds {
        at += spacing;
        let t = Instant::now();
        store.publish(key, &body, at).expect("publishes");
        plain.push(ms(t.elapsed()));
        let pick = next(ids[0].len());
        let target = ids[0].swap_remove(pick);
        at += spacing;
        let t = Instant::now();
        store.publish(key, &erasure(target), at).expect("erases");
        erase.push(ms(t.elapsed()));
    }
    println!(
        "store, {total} records: publish (the raw limit) {}; erasure (publish + rewrite in place) {}",
        summary(plain),
        summary(erase)
    );

    // Search: bringing the index up to date after a publish, and after an erasure.
    let end = store.journal_end();
    let network = charter.network_id();
    let store = RwLock::new(store);
    let (index, applied, followed) = SearchIndex::open(&data, network, end).expect("index");
    let indexed = Instant::now();
    let mut indexer =
        Indexer::new(index, applied, followed, &store.read().expect("lock")).expect("indexer");
    let stop = AtomicBool::new(false);
    indexer.catch_up(&store, &stop).expect("indexes");
    println!(
        "search: index of {total} records built in {:.1} s",
        indexed.elapsed().as_secs_f64()
    );
    let (mut plain, mut erase) = (Vec::new(), Vec::new());
    for _ in 0..search_rounds {
        at += spacing;
        store
            .write()
            .expect("lock")
            .publish(key, &body, at)
            .expect("publishes");
        let t = Instant::now();
        indexer.catch_up(&store, &stop).expect("indexes");
        plain.push(ms(t.elapsed()));
        let pick = next(ids[0].len());
        let target = ids[0].swap_remove(pick);
        at += spacing;
        store
            .write()
            .expect("lock")
            .publish(key, &erasure(target), at)
            .expect("erases");
        let t = Instant::now();
        indexer.catch_up(&store, &stop).expect("indexes");
        erase.push(ms(t.elapsed()));
    }
    println!(
        "search, {total} records: index a publish (the raw limit) {}; index an erasure (remove + rewrite segments) {}",
        summary(plain),
        summary(erase)
    );
}
