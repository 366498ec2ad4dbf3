//! Synthetic records for tests and benchmarks: realistic practices (about 1.2 KB, Russian and
//! English), chained per author, signed with the given keys; and a corpus of any size built from
//! the sample drafts (`deploy/sample`), for the search and HTTP benchmarks.

use hubnet_protocol::record::{self, Position, RecordError};
use std::path::Path;

use hubnet_protocol::{Charter, Draft, DraftFormat, Record, SecretKey};
use serde_json::Value;

use crate::store::{Outcome, Store, StoreError};

/// Signs `total` practices, round robin over `keys`, each chained onto `positions` (one per key,
/// advanced as records are made). Each key's records are spaced just wide enough for the
/// charter's rate rule and end at `now_ms` (all at `now_ms` when the charter has no rate limit).
pub fn practices(
    charter: &Charter,
    keys: &[SecretKey],
    positions: &mut [Position],
    total: usize,
    now_ms: i64,
) -> Result<Vec<Record>, RecordError> {
    practices_of(charter, keys, positions, total, 1, now_ms)
}

/// [`practices`] whose Russian body is `repeat` times as long (about 1.2 KB each time; the
/// charter's `max_body_bytes` bounds it).
pub fn practices_of(
    charter: &Charter,
    keys: &[SecretKey],
    positions: &mut [Position],
    total: usize,
    repeat: usize,
    now_ms: i64,
) -> Result<Vec<Record>, RecordError> {
    let text = "Конкурсный отбор на государственную службу проводится в два этапа. "
        .repeat(12 * repeat.max(1));
    let mut out = Vec::with_capacity(total);
    let spacing = rate_spacing_ms(charter);
    for i in 0..total {
        let a = i % keys.len();
        let created_at = spaced(now_ms, spacing, (total - 1 - i) / keys.len());
        let country = charter
            .member_by_key(&keys[a].public_key())
            .map_or("KZ", |m| m.code.as_str());
        let draft = format!(
            r#"{{"kind":"practice","title":{{"ru":"Меритократический отбор, случай {i}","en":"Merit-based recruitment, case {i}"}},
                "summary":{{"en":"Two-stage selection with central testing."}},"topics":["recruitment"],
                "body":{{"ru":"{text}"}}}}"#
        );
        let body = Draft::parse(&draft, DraftFormat::Json)
            .and_then(|d| d.to_body(country, &charter.rules()))
            .map_err(|e| RecordError::Malformed {
                part: "body",
                reason: e.to_string(),
            })?;
        let signed = record::sign(
            &keys[a],
            charter.network_id(),
            positions[a],
            created_at,
            &body,
        );
        let r = record::verify_record(&signed.encode(), charter, now_ms)?;
        positions[a] = Position::after(&r);
        out.push(r);
    }
    Ok(out)
}

/// The smallest spacing of one key's records (ms) that keeps a long run within the charter's
/// rate limit; 0 when it has none.
pub fn rate_spacing_ms(charter: &Charter) -> i64 {
    charter.limits().records_per_hour().map_or(0, |per_hour| {
        hubnet_protocol::chain::RATE_WINDOW_MS / i64::try_from(per_hour).unwrap_or(i64::MAX) + 1
    })
}

/// The time of a record that `after` more records of its key follow, the last at `now_ms`.
fn spaced(now_ms: i64, spacing: i64, after: usize) -> i64 {
    now_ms.saturating_sub(
        i64::try_from(after)
            .unwrap_or(i64::MAX)
            .saturating_mul(spacing),
    )
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
    let charter = store.charter().clone();
    let spacing = rate_spacing_ms(&charter);
    // Every commit but the last holds a whole number of rounds over the keys, so each starts at
    // the first key and the room left for the records after it is exact for every key.
    let chunk = (4096 / keys.len().max(1)).max(1) * keys.len().max(1);
    let mut left = total;
    while left > 0 {
        let n = left.min(chunk);
        // This chunk ends where the chunks after it leave room for their records.
        let end = spaced(now_ms, spacing, (left - n).div_ceil(keys.len()));
        let records = practices(&charter, keys, &mut positions, n, end)?;
        for outcome in store.append(&records)? {
            if let Outcome::Refused(e) = outcome {
                return Err(FillError::Store(StoreError::Chain(e)));
            }
        }
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
    /// The sample network could not be read.
    #[error("sample data: {0}")]
    Sample(String),
}

/// `n` records built from the sample network at `sample_dir` (its `drafts/` and `keys/`): round
/// robin over the members, each a member's sample practice or event with a number appended to
/// its title, its body cut to the first section (600 characters at most), chained per member and
/// signed at times spaced for the rate rule, ending at `now_ms`. Signatures are real; they are not verified here (the caller stores them as
/// verified records).
pub fn sample_corpus(
    sample_dir: &Path,
    charter: &Charter,
    n: usize,
    now_ms: i64,
) -> Result<Vec<Record>, FillError> {
    let t = templates(sample_dir)?;
    if t.is_empty() {
        return Err(FillError::Sample(format!(
            "{}: no drafts",
            sample_dir.display()
        )));
    }
    let mut positions = vec![Position::FIRST; t.len()];
    let mut out = Vec::with_capacity(n);
    let spacing = rate_spacing_ms(charter);
    for i in 0..n {
        let m = i % t.len();
        let created_at = spaced(now_ms, spacing, (n - 1 - i) / t.len());
        let (code, key, drafts) = &t[m];
        let mut v = drafts[(i / t.len()) % drafts.len()].clone();
        if let Some(title) = v.get_mut("title").and_then(Value::as_object_mut) {
            for text in title.values_mut() {
                *text = Value::String(format!("{} ({i})", text.as_str().unwrap_or_default()));
            }
        }
        let body = Draft::parse(&v.to_string(), DraftFormat::Json)
            .and_then(|d| d.to_body(code, &charter.rules()))
            .map_err(|e| FillError::Sample(e.to_string()))?;
        let signed = record::sign(key, charter.network_id(), positions[m], created_at, &body);
        let r = record::decode_stored(&signed.encode(), charter)?;
        positions[m] = Position::after(&r);
        out.push(r);
    }
    Ok(out)
}

/// Each member's code, sample key and sample practices and events (as JSON, cut short; the
/// sample reform profiles are left out: a synthetic corpus is practices and events).
fn templates(sample_dir: &Path) -> Result<Vec<(String, SecretKey, Vec<Value>)>, FillError> {
    let io = |p: &Path, e: std::io::Error| FillError::Sample(format!("{}: {e}", p.display()));
    let list = |dir: &Path| -> Result<Vec<std::path::PathBuf>, FillError> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| io(dir, e))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        v.sort();
        Ok(v)
    };
    let mut out = Vec::new();
    for d in list(&sample_dir.join("drafts"))? {
        let code = d
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let key_path = sample_dir.join("keys").join(format!("{code}.key"));
        let key = crate::keyfile::read(&key_path).map_err(|e| FillError::Sample(e.to_string()))?;
        let mut drafts = Vec::new();
        for f in list(&d)? {
            let text = std::fs::read_to_string(&f).map_err(|e| io(&f, e))?;
            let draft = Draft::parse(&text, DraftFormat::Toml)
                .map_err(|e| FillError::Sample(format!("{}: {e}", f.display())))?;
            // Practices and events only: the filler the benchmarks measure.
            if !matches!(draft, Draft::Practice(_) | Draft::Event(_)) {
                continue;
            }
            let mut v =
                serde_json::to_value(draft).map_err(|e| FillError::Sample(e.to_string()))?;
            for field in ["body", "description"] {
                if let Some(map) = v.get_mut(field).and_then(Value::as_object_mut) {
                    for text in map.values_mut() {
                        let s = text.as_str().unwrap_or_default();
                        let section = s.match_indices("\n## ").nth(1).map_or(s.len(), |(i, _)| i);
                        let chars = s.char_indices().nth(600).map_or(s.len(), |(i, _)| i);
                        *text = Value::String(s[..section.min(chars)].to_owned());
                    }
                }
            }
            if let Some(o) = v.as_object_mut() {
                for field in ["institutions", "results", "contacts", "links"] {
                    o.remove(field);
                }
            }
            drafts.push(v);
        }
        out.push((code, key, drafts));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{sample, sample_key};

    /// Regression (found by the fault lab): with three keys a commit of 4,096 records ended in
    /// the middle of a round, and the next commit's first key broke the rate rule.
    #[test]
    fn fill_keeps_the_rate_rule_with_any_number_of_keys() {
        let text = std::fs::read_to_string(sample("charter.toml")).expect("charter");
        for codes in [
            &["GE", "AM", "AZ"][..],
            &["KZ", "KG", "HUB", "GE", "AM"][..],
        ] {
            let dir = tempfile::tempdir().expect("tempdir");
            let mut store = Store::init(&dir.path().join("data"), &text).expect("store");
            let keys: Vec<SecretKey> = codes.iter().map(|c| sample_key(c)).collect();
            fill(&mut store, &keys, 10_000, crate::now_ms()).expect("fills");
            assert_eq!(store.record_count().expect("count"), 10_000);
        }
    }
}
