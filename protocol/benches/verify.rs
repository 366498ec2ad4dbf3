//! Verification throughput beside its physical limit, measured in the same run:
//! - `raw/verify_strict`: ed25519-dalek strict verification of one 64-byte-header-sized message,
//!   the limit one core can do one by one;
//! - `hubnet/single`: decode + validate + strict verify of one signed record;
//! - `hubnet/batch64`: the same for 64 records with batch verification.
//!
//! Throughput is in records (elements) per second; BENCHMARKS.md has the figures.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hubnet_protocol::record;

mod common;

use common::NOW;

fn bench(c: &mut Criterion) {
    let (charter, keys) = common::network(1);
    let recs = common::records(&charter, &keys[0], "AM", 256);

    common::bench_raw_verify(c, true);

    let mut g = c.benchmark_group("hubnet");
    g.throughput(Throughput::Elements(1));
    g.bench_function("single", |b| {
        b.iter(|| record::verify_record(black_box(&recs[0]), &charter, NOW).expect("valid"))
    });
    for n in [64usize, 256] {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("batch", n), &n, |b, &n| {
            b.iter(|| {
                let pre: Vec<_> = recs[..n]
                    .iter()
                    .map(|r| record::precheck(r, &charter, NOW).expect("valid"))
                    .collect();
                let out = record::verify_batch(pre);
                assert!(out.iter().all(Result::is_ok));
                out
            })
        });
        g.bench_with_input(BenchmarkId::new("precheck_only", n), &n, |b, &n| {
            b.iter(|| {
                recs[..n]
                    .iter()
                    .map(|r| record::precheck(r, &charter, NOW).expect("valid"))
                    .collect::<Vec<_>>()
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
