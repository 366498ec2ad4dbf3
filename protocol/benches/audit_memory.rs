//! The heap an audit holds per record and source: three sources' checked reports of the same
//! 10,000 records (eight authors, about 1.2 KB each), counted by dhat while they are held. A
//! separate bench from `audit` so that the counting allocator does not slow the timed runs.
//!
//! `cargo bench -p hubnet-protocol --bench audit_memory`; BENCHMARKS.md has the figure.

use hubnet_protocol::bundle::{BundleCheck, BundleReport};

mod common;

use common::NOW;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const PER_AUTHOR: usize = 1_250;
const SOURCES: usize = 3;

fn main() {
    // `cargo bench` passes `--bench`; there is nothing to choose.
    let (charter, records) = common::corpus(PER_AUTHOR);
    let bundle_bytes: usize = records.iter().map(Vec::len).sum();
    let n = records.len();
    let profiler = dhat::Profiler::builder().testing().build();
    let reports: Vec<BundleReport> = (0..SOURCES)
        .map(|_| {
            let mut c = BundleCheck::new(&charter, NOW);
            for r in &records {
                c.add(r);
            }
            c.finish()
        })
        .collect();
    let stats = dhat::HeapStats::get();
    assert!(reports.iter().all(BundleReport::is_clean));
    println!(
        "audit memory: {} heap bytes per record and source held, peak {} per record and source \
         ({n} records of {} bytes on average, {SOURCES} sources, {} blocks held)",
        stats.curr_bytes / (SOURCES * n),
        stats.max_bytes / (SOURCES * n),
        bundle_bytes / n,
        stats.curr_blocks,
    );
    drop(reports);
    drop(profiler);
}
