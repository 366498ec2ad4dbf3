//! What the benches share (the protocol's, and the node's by `#[path]`): a network of members, realistic signed records, and the raw
//! limit every figure is compared with.
#![allow(dead_code)] // each bench uses a part

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use ed25519_dalek::{Signature, Signer, SigningKey};
use hubnet_protocol::charter::{CharterDoc, MemberDoc};
use hubnet_protocol::record::{self, Position};
use hubnet_protocol::{Body, Charter, Draft, DraftFormat, SecretKey};

pub const NOW: i64 = 1_800_000_000_000;

/// Member codes, in order.
pub const CODES: [&str; 8] = ["AM", "AZ", "GE", "HUB", "KG", "KZ", "TJ", "UZ"];

/// A network of the first `members` of [`CODES`] (the first key also signs as the committee),
/// as the charter document (for a data dir) and the members' keys.
pub fn network_doc(members: usize) -> (CharterDoc, Vec<SecretKey>) {
    let keys: Vec<SecretKey> = (1..=members as u8)
        .map(|i| SecretKey::from_seed([i; 32]))
        .collect();
    let mut doc = CharterDoc::new("bench", 1);
    for (code, key) in CODES.iter().zip(&keys) {
        doc.members.push(MemberDoc {
            code: (*code).into(),
            publishing_key: key.public_key().to_hex(),
            name: [("en".to_owned(), (*code).to_owned())].into(),
        });
    }
    doc.committee.keys.push(keys[0].public_key().to_hex());
    doc.sign(&keys[0]).expect("signs");
    (doc, keys)
}

/// [`network_doc`], verified.
pub fn network(members: usize) -> (Charter, Vec<SecretKey>) {
    let (doc, keys) = network_doc(members);
    (doc.verify().expect("valid"), keys)
}

/// A realistic practice of member `code` (about 1.2 KB signed: titles in two languages, a
/// Russian Markdown body).
pub fn practice_body(charter: &Charter, code: &str) -> Body {
    let body_text =
        "Конкурсный отбор на государственную службу проводится в два этапа. ".repeat(12);
    let draft = format!(
        r#"{{"kind":"practice","title":{{"ru":"Меритократический отбор","en":"Merit-based recruitment"}},
            "summary":{{"en":"Two-stage selection with central testing."}},"topics":["recruitment"],
            "body":{{"ru":"{body_text}"}}}}"#
    );
    Draft::parse(&draft, DraftFormat::Json)
        .expect("parses")
        .to_body(code, &charter.rules())
        .expect("valid")
}

/// `n` chained records by `key` (member `code`), encoded, spaced for the charter's rate rule and
/// ending at [`NOW`].
pub fn records(charter: &Charter, key: &SecretKey, code: &str, n: usize) -> Vec<Vec<u8>> {
    let body = practice_body(charter, code);
    let spacing = charter.limits().records_per_hour().map_or(0, |per_hour| {
        hubnet_protocol::chain::RATE_WINDOW_MS / per_hour as i64 + 1
    });
    let mut out = Vec::with_capacity(n);
    let mut pos = Position::FIRST;
    for i in 0..n {
        let at = NOW - (n - 1 - i) as i64 * spacing;
        let s = record::sign(key, charter.network_id(), pos, at, &body);
        pos = Position {
            seq: pos.seq + 1,
            prev: Some(s.id()),
            prev_created_at: at,
        };
        out.push(s.encode());
    }
    out
}

/// Every member of [`CODES`] with `per_author` records each: the network and the records, by
/// author in turn.
pub fn corpus(per_author: usize) -> (Charter, Vec<Vec<u8>>) {
    let (charter, keys) = network(CODES.len());
    let records = keys
        .iter()
        .zip(CODES)
        .flat_map(|(k, code)| records(&charter, k, code, per_author))
        .collect();
    (charter, records)
}

/// The raw limit, group `raw`: ed25519-dalek strict verification (and `verify`, not strict, when
/// `with_lax`) of one header-sized message, one by one.
pub fn bench_raw_verify(c: &mut Criterion, with_lax: bool) {
    let mut raw = c.benchmark_group("raw");
    raw.throughput(Throughput::Elements(1));
    let dalek = SigningKey::from_bytes(&[1; 32]);
    let message = record::signing_message(&[7u8; 160]);
    let signature: Signature = dalek.sign(&message);
    let vk = dalek.verifying_key();
    raw.bench_function("verify_strict", |b| {
        b.iter(|| vk.verify_strict(black_box(&message), black_box(&signature)))
    });
    if with_lax {
        use ed25519_dalek::Verifier as _;
        raw.bench_function("verify", |b| {
            b.iter(|| vk.verify(black_box(&message), black_box(&signature)))
        });
    }
    raw.finish();
}
