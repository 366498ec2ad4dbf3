//! Ingest: the one path by which records from outside (a bundle today, peers later) enter the
//! store. Decode and check every record, verify signatures in batches, then store the good ones
//! in one group commit.

use hubnet_protocol::record::{self, RecordError};
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
/// of those that pass in one batch. One result per input, in order; needs no store.
pub fn verify_all<'a>(
    raw: impl IntoIterator<Item = &'a [u8]>,
    charter: &Charter,
    now_ms: i64,
) -> Vec<Result<Record, RecordError>> {
    let mut out: Vec<Option<Result<Record, RecordError>>> = Vec::new();
    let mut prechecked = Vec::new();
    let mut positions = Vec::new();
    for bytes in raw {
        match record::precheck(bytes, charter, now_ms) {
            Ok(u) => {
                prechecked.push(u);
                positions.push(out.len());
                out.push(None);
            }
            Err(e) => out.push(Some(Err(e))),
        }
    }
    for (i, result) in positions.into_iter().zip(record::verify_batch(prechecked)) {
        out[i] = Some(result);
    }
    out.into_iter().flatten().collect()
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
