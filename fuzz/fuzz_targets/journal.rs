//! Journal replay of arbitrary file bytes (`node/src/store/journal.rs`), in a temporary dir (on
//! `/dev/shm` when there is one, so fsync costs nothing), followed by the record decoding that
//! `Store::open` applies to each replayed entry.
//!
//! Input layout: [`hubnet_fuzz::JournalInput`]. Properties:
//! - opening and recovering never panic: the result is entries or a typed `JournalError`;
//! - entries appended through `Journal::append` are never lost, whatever bytes follow them: the
//!   recovery returns them first, or refuses with `Corrupt` at an offset behind them;
//! - a refusal leaves the file untouched; a recovery cuts off exactly the torn bytes it reports,
//!   the entries it returns are contiguous and end where the journal now ends, and recovering
//!   again finds the same entries and nothing torn;
//! - each entry either decodes as a stored record whose id is the SHA-256 of its header, or is a
//!   typed `RecordError` (what `Store::open` reports as `BadJournalRecord`).
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use hubnet_fuzz::{JournalInput, charter};
use hubnet_node::store::journal::{Entry, HEADER_LEN, Journal, JournalError};
use hubnet_protocol::record::decode_stored;
use hubnet_protocol::{RecordId, SignedRecord};
use libfuzzer_sys::fuzz_target;

fn path() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        if shm.is_dir() {
            tempfile::tempdir_in(shm)
        } else {
            tempfile::tempdir()
        }
        .expect("a temporary dir")
    })
    .path()
}

fn journal_path() -> PathBuf {
    path().join("records.journal")
}

fn recover(path: &Path) -> Result<(Vec<Entry>, u64, u64), JournalError> {
    let mut j = Journal::open(path, charter().network_id())?;
    let (entries, torn) = j.recover_from(HEADER_LEN)?;
    Ok((entries, torn, j.len()))
}

fuzz_target!(|data: &[u8]| {
    let network = charter().network_id();
    let path = journal_path();
    let _ = std::fs::remove_file(&path);
    let appended: Vec<&[u8]> = match JournalInput::decode(data) {
        JournalInput::Raw(bytes) => {
            std::fs::write(&path, bytes).expect("writes the journal");
            Vec::new()
        }
        JournalInput::Appended { entries, tail } => {
            let mut j = Journal::open(&path, network).expect("a new journal opens");
            let mut kept = Vec::new();
            for e in entries {
                if j.append(&[e]).is_ok() {
                    kept.push(e);
                }
            }
            drop(j);
            let mut bytes = std::fs::read(&path).expect("reads the journal");
            bytes.extend_from_slice(tail);
            std::fs::write(&path, bytes).expect("writes the tail");
            kept
        }
    };
    let before = std::fs::read(&path).expect("reads the journal");
    match recover(&path) {
        Err(e) => {
            let _ = e.to_string();
            if let JournalError::Corrupt { offset, .. } = e {
                let prefix_end =
                    HEADER_LEN + appended.iter().map(|p| 8 + p.len() as u64).sum::<u64>();
                assert!(
                    offset >= prefix_end,
                    "an appended entry at or after offset {offset} is refused as corrupt"
                );
            }
            // A short file is rewritten as a new journal (nothing in it was acknowledged);
            // otherwise a refusal changes nothing.
            if before.len() as u64 >= HEADER_LEN {
                assert_eq!(std::fs::read(&path).expect("reads"), before);
            }
        }
        Ok((entries, torn, len)) => {
            assert!(entries.len() >= appended.len());
            for (e, a) in entries.iter().zip(&appended) {
                assert_eq!(&e.payload, a, "an appended entry comes back intact");
            }
            let mut at = HEADER_LEN;
            for e in &entries {
                assert_eq!(e.offset, at);
                at = e.end();
            }
            assert_eq!(at, len);
            let after = std::fs::read(&path).expect("reads");
            assert_eq!(after.len() as u64, len);
            if before.len() as u64 >= HEADER_LEN {
                assert_eq!(before.len() as u64 - len, torn);
                assert_eq!(&before[..after.len()], &after[..]);
            }
            let (again, torn_again, len_again) = recover(&path).expect("a recovered journal opens");
            assert_eq!((again, torn_again, len_again), (entries.clone(), 0, len));
            for e in &entries {
                if let Ok(r) = decode_stored(&e.payload, charter()) {
                    let signed = SignedRecord::decode(&e.payload).expect("it decoded before");
                    assert_eq!(r.id, RecordId::of_header(&signed.header));
                    assert_eq!(r.signed, signed);
                }
            }
        }
    }
});
