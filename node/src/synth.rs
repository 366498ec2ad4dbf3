//! Synthetic records for tests and benchmarks: realistic practices (about 1.2 KB, Russian and
//! English), chained per author, signed with the given keys.

use hubnet_protocol::record::{self, Position, RecordError};
use hubnet_protocol::{Charter, Draft, DraftFormat, Record, SecretKey};

use crate::store::{Store, StoreError};

/// Signs `total` practices, round robin over `keys`, each chained onto `positions` (one per key,
/// advanced as records are made), all created at `now_ms`.
pub fn practices(
    charter: &Charter,
    keys: &[SecretKey],
    positions: &mut [Position],
    total: usize,
    now_ms: i64,
) -> Result<Vec<Record>, RecordError> {
    let text = "Конкурсный отбор на государственную службу проводится в два этапа. ".repeat(12);
    let mut out = Vec::with_capacity(total);
    for i in 0..total {
        let a = i % keys.len();
        let country = charter
            .member_by_key(&keys[a].public_key())
            .map_or("KZ", |m| m.code.as_str());
        let draft = format!(
            r#"{{"kind":"practice","title":{{"ru":"Меритократический отбор, случай {i}","en":"Merit-based recruitment, case {i}"}},
                "summary":{{"en":"Two-stage selection with central testing."}},"topics":["recruitment"],
                "body":{{"ru":"{text}"}}}}"#
        );
        let body = Draft::parse(&draft, DraftFormat::Json)
            .and_then(|d| d.to_body(country, charter.limits()))
            .map_err(|e| RecordError::Malformed {
                part: "body",
                reason: e.to_string(),
            })?;
        let signed = record::sign(&keys[a], charter.network_id(), positions[a], now_ms, &body);
        let r = record::verify_record(&signed.encode(), charter, now_ms)?;
        positions[a] = Position {
            seq: r.header.seq + 1,
            prev: Some(r.id),
            prev_created_at: now_ms,
        };
        out.push(r);
    }
    Ok(out)
}

/// Appends `total` synthetic practices by `keys` to `store`, continuing each author's log, in
/// group commits of 4,096.
pub fn fill(
    store: &mut Store,
    keys: &[SecretKey],
    total: usize,
    now_ms: i64,
) -> Result<(), FillError> {
    let mut positions = Vec::with_capacity(keys.len());
    for k in keys {
        positions.push(match store.head(&k.public_key())? {
            None => Position::FIRST,
            Some(h) => Position {
                seq: h.seq + 1,
                prev: Some(h.id),
                prev_created_at: h.created_at,
            },
        });
    }
    let mut left = total;
    while left > 0 {
        let n = left.min(4096);
        let charter = store.charter().clone();
        let records = practices(&charter, keys, &mut positions, n, now_ms)?;
        store.append(&records)?;
        left -= n;
    }
    Ok(())
}

/// Why synthetic records could not be made or stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FillError {
    /// A record did not verify (a key that is not a member's, say).
    #[error(transparent)]
    Record(#[from] RecordError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
