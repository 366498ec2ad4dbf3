//! The audit's cost beside its physical limit, measured in the same run:
//! - `raw/verify_strict`: ed25519-dalek strict verification, one by one (the limit: the audit
//!   checks every signature of every source);
//! - `audit/check_one_source`: [`BundleCheck`] over one source's records (decode, rules,
//!   signature, then the chain checks in `finish`);
//! - `audit/three_sources`: three sources holding the same records, checked and compared by the
//!   [`Auditor`] (split views, omissions), per record and source.
//!
//! Eight authors, 1,250 records each (10,000 records of about 1.2 KB). The memory an audit holds
//! per record and source is measured by the `audit_memory` bench.
//! Throughput is in records (elements) per second; BENCHMARKS.md has the figures.

use std::collections::BTreeSet;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hubnet_protocol::Charter;
use hubnet_protocol::audit::{Auditor, SourceInput};
use hubnet_protocol::bundle::{BundleCheck, BundleReport};
use hubnet_protocol::governance::Governance;

mod common;

use common::NOW;

const PER_AUTHOR: usize = 1_250;

fn check(charter: &Charter, records: &[Vec<u8>]) -> BundleReport {
    let mut c = BundleCheck::new(charter, NOW);
    for r in records {
        c.add(r);
    }
    c.finish()
}

fn source(name: &str, report: BundleReport) -> SourceInput {
    SourceInput {
        name: name.into(),
        peer_id: None,
        member: None,
        report,
        decisions: BTreeSet::new(),
        checkpoints: Vec::new(),
    }
}

fn bench(c: &mut Criterion) {
    let (charter, records) = common::corpus(PER_AUTHOR);
    let n = records.len() as u64;

    common::bench_raw_verify(c, false);

    let mut g = c.benchmark_group("audit");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n));
    g.bench_function("check_one_source", |b| {
        b.iter(|| {
            let report = check(&charter, black_box(&records));
            assert!(report.is_clean());
            report
        })
    });
    g.throughput(Throughput::Elements(3 * n));
    g.bench_function("three_sources", |b| {
        b.iter(|| {
            let mut auditor = Auditor::new(Governance::new(charter.clone()), NOW, 0);
            for name in ["a", "b", "c"] {
                auditor.add(source(name, check(&charter, black_box(&records))));
            }
            let report = auditor.finish();
            assert!(report.is_clean(), "{:?}", report.problems.first());
            report
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(std::time::Duration::from_secs(10));
    targets = bench
}
criterion_main!(benches);
