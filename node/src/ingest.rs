//! Ingest: the one path by which records from outside (a bundle today, peers later) enter the
//! store. Decode and check every record, verify signatures in batches, then store the good ones
//! in one group commit.
//!
//! Verification is the largest cost of ingest, and each signature is independent of the others,
//! so a large group is split over the machine's cores ([`verify_all`]); the verdicts are the
//! same whatever the split (each is [`record::verify_batch`]'s, which is the one-by-one rule).

use rayon::prelude::*;

use hubnet_protocol::record::{self, RecordError, Unverified};
use hubnet_protocol::{ChainError, Charter, Record, RecordId, SignedRecord};

use crate::store::{Outcome, Store, StoreError};

/// What happened to one record.
#[derive(Debug, Clone, PartialEq)]
pub enum Ingested {
    /// Newly stored (durable).
    Stored(RecordId),
    /// Stored before.
    AlreadyStored(RecordId),
    /// Not a valid record; never stored. The id is there when the header could be read.
    Invalid(Option<RecordId>, RecordError),
    /// Valid, but it does not extend its author's log now. A caller may retry it later (a record
    /// ahead of a gap, say); the record is returned so that no verification is repeated.
    Refused(Box<Record>, ChainError),
}

/// Checks, verifies and stores `raw` encoded `SignedRecord`s as one group commit. Returns one
/// outcome per input, in order.
pub fn ingest(
    store: &mut Store,
    raw: &[Vec<u8>],
    now_ms: i64,
) -> Result<Vec<Ingested>, StoreError> {
    let mut out: Vec<Option<Ingested>> = vec![None; raw.len()];
    let mut valid = Vec::with_capacity(raw.len());
    let mut valid_positions = Vec::with_capacity(raw.len());
    let checked = verify_all(raw.iter().map(Vec::as_slice), store.charter(), now_ms);
    for (i, result) in checked.into_iter().enumerate() {
        match result {
            Ok(r) => {
                valid.push(r);
                valid_positions.push(i);
            }
            Err(e) => out[i] = Some(Ingested::Invalid(id_of(&raw[i]), e)),
        }
    }
    for (outcome, i) in append(store, valid)?.into_iter().zip(valid_positions) {
        out[i] = Some(outcome);
    }
    Ok(out.into_iter().flatten().collect())
}

/// Checks each encoded `SignedRecord` against `charter` (precheck), then verifies the signatures
/// of those that pass. One result per input, in order; needs no store. A large group is checked
/// on rayon's pool (one thread per core), in chunks that idle threads take from busy ones, so
/// that no core waits for another's share while a third thread (storing, say) competes for them.
pub fn verify_all<'a>(
    raw: impl IntoIterator<Item = &'a [u8]>,
    charter: &Charter,
    now_ms: i64,
) -> Vec<Result<Record, RecordError>> {
    let raw: Vec<&[u8]> = raw.into_iter().collect();
    let precheck = |b: &&[u8]| record::precheck(b, charter, now_ms);
    let prechecked: Vec<Result<Unverified, RecordError>> = if raw.len() < 2 * PRECHECK_CHUNK {
        raw.iter().map(precheck).collect()
    } else {
        raw.par_iter()
            .with_min_len(PRECHECK_CHUNK)
            .map(precheck)
            .collect()
    };
    verify_prechecked(prechecked, VERIFY_CHUNK)
}

/// One record's verdict: the record, verified, or why it was refused.
type Checked = Result<Record, RecordError>;

/// Records prechecked per task of the pool (a precheck takes microseconds).
const PRECHECK_CHUNK: usize = 64;

/// Signatures verified per task of the pool: each task builds its keys' tables once
/// ([`hubnet_protocol::signature::verify_each`]), which costs about as much as a signature or
/// two, and the last task of a batch leaves the other cores idle for its length.
const VERIFY_CHUNK: usize = 128;

/// [`record::verify_batch`] over the records that passed their precheck, in tasks of `chunk` on
/// rayon's pool; a precheck's refusal is its record's result. The verdicts are those of one
/// batch, which are those of one-by-one verification: each signature is checked by its own
/// equation, whatever its neighbours. Each task takes the records of a run of positions ordered
/// by author, so that it holds long runs of one key and builds that key's table once. Results
/// are in input order.
///
/// A prechecked record is about a kilobyte held inline (its decoded body, header and key):
/// positions are sorted, not records, and each record moves twice, into its slot and into its
/// task (sorting the records themselves moved each a dozen times, a sixth of the verify stage's
/// time in `memmove`).
fn verify_prechecked(
    prechecked: Vec<Result<Unverified, RecordError>>,
    chunk: usize,
) -> Vec<Checked> {
    let (chunk, len) = (chunk.max(1), prechecked.len());
    let passed = prechecked.iter().filter(|r| r.is_ok()).count();
    if passed <= chunk {
        let mut out: Vec<Option<Checked>> = Vec::with_capacity(len);
        let mut items = Vec::with_capacity(passed);
        for result in prechecked {
            match result {
                Ok(u) => {
                    items.push(u);
                    out.push(None);
                }
                Err(e) => out.push(Some(Err(e))),
            }
        }
        let mut verified = record::verify_batch(items).into_iter();
        return out
            .into_iter()
            .filter_map(|slot| slot.or_else(|| verified.next()))
            .collect();
    }
    // The positions that passed, by author (a stable sort: in input order within an author).
    let mut order: Vec<([u8; 32], usize)> = prechecked
        .iter()
        .enumerate()
        .filter_map(|(i, r)| Some((*r.as_ref().ok()?.record().header.author.as_bytes(), i)))
        .collect();
    order.sort_by_key(|(author, _)| *author);
    let mut slots: Vec<Option<Result<Unverified, RecordError>>> =
        prechecked.into_iter().map(Some).collect();
    let tasks: Vec<(Vec<usize>, Vec<Unverified>)> = order
        .chunks(chunk)
        .map(|run| {
            let positions: Vec<usize> = run.iter().map(|(_, i)| *i).collect();
            let items: Vec<Unverified> = positions
                .iter()
                .filter_map(|&i| slots[i].take().and_then(Result::ok))
                .collect();
            debug_assert_eq!(
                items.len(),
                positions.len(),
                "a position without its record"
            );
            (positions, items)
        })
        .collect();
    let verified: Vec<(Vec<usize>, Vec<Checked>)> = tasks
        .into_par_iter()
        .map(|(positions, items)| (positions, record::verify_batch(items)))
        .collect();
    let mut out: Vec<Option<Checked>> = slots
        .into_iter()
        .map(|slot| slot.and_then(|r| r.err()).map(Err))
        .collect();
    for (positions, results) in verified {
        debug_assert_eq!(results.len(), positions.len(), "one verdict a record");
        for (i, result) in positions.into_iter().zip(results) {
            out[i] = Some(result);
        }
    }
    let out: Vec<Checked> = out.into_iter().flatten().collect();
    debug_assert_eq!(out.len(), len, "one result an input");
    out
}

/// Stores verified records as one group commit (for retries of [`Ingested::Refused`]).
pub fn append(store: &mut Store, records: Vec<Record>) -> Result<Vec<Ingested>, StoreError> {
    let outcomes = store.append(&records)?;
    Ok(records
        .into_iter()
        .zip(outcomes)
        .map(|(r, o)| match o {
            Outcome::Stored => Ingested::Stored(r.id),
            Outcome::AlreadyStored => Ingested::AlreadyStored(r.id),
            Outcome::Refused(e) => Ingested::Refused(Box::new(r), e),
        })
        .collect())
}

fn id_of(bytes: &[u8]) -> Option<RecordId> {
    SignedRecord::decode(bytes).ok().map(|s| s.id())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{sample_charter, sample_key};
    use hubnet_protocol::record::Position;

    /// Whatever the split, every record gets the verdict it gets alone: records of three keys
    /// interleaved, some with a bad signature and some that fail their precheck, checked in
    /// tasks of one to a thousand.
    #[test]
    fn a_split_gives_each_record_its_own_verdict() {
        let charter = sample_charter();
        let keys = [sample_key("KZ"), sample_key("KG"), sample_key("UZ")];
        let mut positions = [Position::FIRST; 3];
        let now = 1_800_000_000_000;
        let records =
            crate::synth::practices(&charter, &keys, &mut positions, 200, now).expect("signs");
        let raw: Vec<Vec<u8>> = records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut signed = r.signed.clone();
                if i % 7 == 3 {
                    signed.signature[40] ^= 1; // s changes: a wrong signature
                }
                let mut bytes = signed.encode();
                if i % 11 == 5 {
                    bytes.truncate(bytes.len() / 2); // does not decode: refused by the precheck
                }
                bytes
            })
            .collect();
        let alone: Vec<Result<RecordId, String>> = raw
            .iter()
            .map(|b| {
                record::verify_record(b, &charter, now)
                    .map(|r| r.id)
                    .map_err(|e| e.to_string())
            })
            .collect();
        assert!(alone.iter().any(Result::is_err) && alone.iter().any(Result::is_ok));
        assert!(
            raw.iter()
                .any(|b| record::precheck(b, &charter, now).is_err()),
            "some records fail their precheck, not only their signature"
        );
        for chunk in [0, 1, 2, 7, 64, 199, 200, 1000] {
            let prechecked: Vec<Result<Unverified, RecordError>> = raw
                .iter()
                .map(|b| record::precheck(b, &charter, now))
                .collect();
            let verdicts: Vec<Result<RecordId, String>> = verify_prechecked(prechecked, chunk)
                .into_iter()
                .map(|r| r.map(|r| r.id).map_err(|e| e.to_string()))
                .collect();
            assert_eq!(verdicts, alone, "tasks of {chunk}");
        }
        let split: Vec<Result<RecordId, String>> =
            verify_all(raw.iter().map(Vec::as_slice), &charter, now)
                .into_iter()
                .map(|r| r.map(|r| r.id).map_err(|e| e.to_string()))
                .collect();
        assert_eq!(split, alone);
        let ids: Vec<RecordId> = records.iter().map(|r| r.id).collect();
        assert!(
            alone
                .iter()
                .zip(&ids)
                .all(|(verdict, id)| verdict.as_ref().map_or(true, |v| v == id))
        );
    }
}
