//! Bundle reading and checking on arbitrary bytes: `node/src/bundle.rs` (`BundleReader`) feeding
//! `protocol/src/bundle.rs` (`BundleCheck`), as `hubnet verify` does.
//!
//! Properties: reading never panics and ends in `None` or a typed error; the check counts every
//! record read; it refuses exactly the records that `verify_record_any_seq` refuses (its batched
//! signature checks agree with the one-by-one rule, whatever the mix in a batch); every record it
//! keeps in a log is one that was read and verifies; a reading error is reported once as damage.
#![no_main]

use std::collections::HashSet;

use hubnet_fuzz::{NOW_MS, charter};
use hubnet_node::bundle::{BundleReader, Item};
use hubnet_protocol::bundle::{BundleCheck, ProblemKind};
use hubnet_protocol::governance::{Governance, verify_decision_bytes};
use hubnet_protocol::record::verify_record_any_seq;
use hubnet_protocol::{Charter, RecordId, checkpoint};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = BundleReader::open(data) else {
        return;
    };
    // A bundle whose own charter does not verify is refused by `hubnet verify`; judging its
    // records under the sample charter instead lets the fuzzer reach the record checks.
    let genesis = if reader.charter() == charter().signed() {
        charter().clone()
    } else {
        Charter::from_signed(reader.charter()).unwrap_or_else(|_| charter().clone())
    };
    let mut governance = Governance::new(genesis.clone());
    let mut records: Vec<Vec<u8>> = Vec::new();
    let mut checkpoints = Vec::new();
    let damaged = loop {
        match reader.next_item() {
            Ok(Some(Item::Decision(bytes))) if records.is_empty() => {
                if let Ok(d) = verify_decision_bytes(&bytes, &genesis) {
                    governance.insert(d);
                }
            }
            Ok(Some(Item::Decision(_))) => {}
            Ok(Some(Item::Checkpoint(bytes))) => checkpoints.push(bytes),
            Ok(Some(Item::Record(bytes))) => records.push(bytes),
            Ok(None) => break false,
            Err(e) => {
                let _ = e.to_string();
                break true;
            }
        }
    };
    let judge = governance.charter();
    for c in &checkpoints {
        let _ = checkpoint::verify_bytes(c, judge).map_err(|e| e.to_string());
    }
    let mut check = BundleCheck::new(judge, NOW_MS);
    for r in &records {
        check.add(r);
    }
    if damaged {
        check.damaged("damaged".into());
    }
    let report = check.finish();
    assert_eq!(report.records_read, records.len() as u64);
    let count = |kinds: &[ProblemKind]| {
        report
            .problems
            .iter()
            .filter(|p| kinds.contains(&p.kind))
            .count()
    };
    assert_eq!(count(&[ProblemKind::Damaged]), usize::from(damaged));
    let verdicts: Vec<Option<RecordId>> = records
        .iter()
        .map(|r| verify_record_any_seq(r, judge, NOW_MS).ok().map(|r| r.id))
        .collect();
    let verified: HashSet<RecordId> = verdicts.iter().flatten().copied().collect();
    let refused = verdicts.iter().filter(|v| v.is_none()).count();
    assert_eq!(
        // A body withheld without an erasure is refused as `Withheld` (docs/PROTOCOL.md §2.1).
        count(&[
            ProblemKind::Forgery,
            ProblemKind::UnknownAuthor,
            ProblemKind::Withheld
        ]),
        refused,
        "the bundle check refuses exactly the records the one-by-one rule refuses"
    );
    for log in report.logs.values() {
        for entries in log.values() {
            for e in entries {
                assert!(verified.contains(&e.id), "a kept record verifies");
            }
        }
    }
    if report.is_clean() {
        assert!(!damaged && refused == 0);
    }
});
