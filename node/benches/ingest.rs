//! Ingest throughput beside its physical limit, measured in the same run:
//! - `raw/verify_strict`: ed25519-dalek strict verification, one by one, on one core;
//! - `ingest/group512`: decode + validate + batch verify + store (journal write, fdatasync, sled
//!   index batch) of 512 fresh records per group commit, on one core, into an empty store;
//! - `growth/N`: the same with N records already stored (N = 10 thousand, 100 thousand, 1 million;
//!   set `HUBNET_GROWTH_MAX` to stop earlier).
//!
//! Records are realistic practices of about 1.2 KB from eight authors, chained, each author's
//! spaced in time just wide enough for the charter's rate rule (1,000 per key per hour), so the
//! rule is checked on every record. Their signing is done outside the timed part.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hubnet_node::ingest::{Ingested, ingest};
use hubnet_node::store::Store;
use hubnet_protocol::record::{self, Position};
use hubnet_protocol::{Body, Charter, SecretKey};

#[path = "../../protocol/benches/common/mod.rs"]
mod common;

use common::{CODES, NOW};
const GROUP: usize = 512;
/// The clock the store is given: far enough ahead of [`NOW`] that records spaced for the rate
/// rule (a million of them take 125 hours per author) are never from the future.
const INGEST_NOW: i64 = NOW + 1_000 * 24 * 3_600_000;

/// Signs fresh chained records for eight authors, round robin.
struct Source {
    charter: Charter,
    keys: Vec<SecretKey>,
    positions: Vec<Position>,
    body: Body,
    next: usize,
    spacing: i64,
}

impl Source {
    fn new() -> (Self, String) {
        let (doc, keys) = common::network_doc(CODES.len());
        let charter = doc.verify().expect("valid");
        let body = common::practice_body(&charter, "KZ");
        let spacing = hubnet_node::synth::rate_spacing_ms(&charter);
        let source = Self {
            charter,
            positions: vec![Position::FIRST; keys.len()],
            keys,
            body,
            next: 0,
            spacing,
        };
        (source, doc.to_toml())
    }

    fn take(&mut self, n: usize) -> Vec<Vec<u8>> {
        (0..n)
            .map(|_| {
                let a = self.next % self.keys.len();
                self.next += 1;
                let at = NOW + (self.positions[a].seq as i64 - 1) * self.spacing;
                let s = record::sign(
                    &self.keys[a],
                    self.charter.network_id(),
                    self.positions[a],
                    at,
                    &self.body,
                );
                self.positions[a] = Position {
                    seq: self.positions[a].seq + 1,
                    prev: Some(s.id()),
                    prev_created_at: at,
                };
                s.encode()
            })
            .collect()
    }
}

fn ingest_group(store: &mut Store, raw: &[Vec<u8>]) {
    let out = ingest(store, raw, INGEST_NOW).expect("ingests");
    assert!(
        out.iter().all(|o| matches!(o, Ingested::Stored(_))),
        "every record is new and valid"
    );
}

/// Times `iters` group commits of fresh records.
fn timed(store: &mut Store, source: &mut Source, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let raw = source.take(GROUP);
        let t = Instant::now();
        ingest_group(store, black_box(&raw));
        total += t.elapsed();
    }
    total
}

fn fill(store: &mut Store, source: &mut Source, target: u64) {
    let mut have = store.record_count().expect("count");
    let started = Instant::now();
    while have < target {
        let n = GROUP.min((target - have) as usize);
        ingest_group(store, &source.take(n));
        have += n as u64;
        if have % 100_000 < GROUP as u64 {
            eprintln!(
                "  filled {have} of {target} records ({:.0?})",
                started.elapsed()
            );
        }
    }
}

fn bench(c: &mut Criterion) {
    common::bench_raw_verify(c, false);

    let dir = tempfile::tempdir().expect("tempdir");
    let (mut source, charter_text) = Source::new();
    let mut store = Store::init(&dir.path().join("data"), &charter_text).expect("init");
    let mut g = c.benchmark_group("ingest");
    g.throughput(Throughput::Elements(GROUP as u64));
    g.bench_function("group512", |b| {
        b.iter_custom(|iters| timed(&mut store, &mut source, iters))
    });
    g.finish();
    drop(store);

    let max: u64 = std::env::var("HUBNET_GROWTH_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut source, charter_text) = Source::new();
    let mut store = Store::init(&dir.path().join("data"), &charter_text).expect("init");
    let mut g = c.benchmark_group("growth");
    g.throughput(Throughput::Elements(GROUP as u64));
    g.sample_size(10);
    for size in [10_000u64, 100_000, 1_000_000]
        .into_iter()
        .filter(|s| *s <= max)
    {
        fill(&mut store, &mut source, size);
        g.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, _| {
            b.iter_custom(|iters| timed(&mut store, &mut source, iters))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
