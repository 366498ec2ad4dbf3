//! Verification throughput beside its physical limit, measured in the same run:
//! - `raw/verify_strict`: ed25519-dalek strict verification of one 64-byte-header-sized message,
//!   the limit one core can do one by one;
//! - `hubnet/single`: decode + validate + strict verify of one signed record;
//! - `hubnet/batch64`: the same for 64 records with batch verification.
//!
//! Throughput is in records (elements) per second; BENCHMARKS.md has the figures.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier as _};
use hubnet_protocol::charter::{CharterDoc, MemberDoc};
use hubnet_protocol::record::{self, Position};
use hubnet_protocol::{Charter, Draft, DraftFormat, SecretKey};

const NOW: i64 = 1_800_000_000_000;

fn network() -> (Charter, SecretKey) {
    let member = SecretKey::from_seed([1; 32]);
    let mut doc = CharterDoc::new("bench", 1);
    doc.members.push(MemberDoc {
        code: "KZ".into(),
        publishing_key: member.public_key().to_hex(),
        name: [("en".to_owned(), "Kazakhstan".to_owned())].into(),
    });
    doc.committee.keys.push(member.public_key().to_hex());
    doc.sign(&member).expect("signs");
    (doc.verify().expect("valid"), member)
}

/// `n` chained records of a realistic size (about 1.2 KB: a practice with a short body).
fn records(charter: &Charter, key: &SecretKey, n: usize) -> Vec<Vec<u8>> {
    let body_text =
        "Конкурсный отбор на государственную службу проводится в два этапа. ".repeat(12);
    let draft = format!(
        r#"{{"kind":"practice","title":{{"ru":"Меритократический отбор","en":"Merit-based recruitment"}},
            "summary":{{"en":"Two-stage selection with central testing."}},"topics":["recruitment"],
            "body":{{"ru":"{body_text}"}}}}"#
    );
    let body = Draft::parse(&draft, DraftFormat::Json)
        .expect("parses")
        .to_body("KZ", charter.limits())
        .expect("valid");
    let mut out = Vec::with_capacity(n);
    let mut pos = Position::FIRST;
    for _ in 0..n {
        let s = record::sign(key, charter.network_id(), pos, NOW, &body);
        pos = Position {
            seq: pos.seq + 1,
            prev: Some(s.id()),
            prev_created_at: NOW,
        };
        out.push(s.encode());
    }
    out
}

fn bench(c: &mut Criterion) {
    let (charter, key) = network();
    let recs = records(&charter, &key, 256);

    let mut raw = c.benchmark_group("raw");
    raw.throughput(Throughput::Elements(1));
    let dalek = SigningKey::from_bytes(&[1; 32]);
    let message = record::signing_message(&[7u8; 160]);
    let signature: Signature = dalek.sign(&message);
    let vk = dalek.verifying_key();
    raw.bench_function("verify_strict", |b| {
        b.iter(|| vk.verify_strict(black_box(&message), black_box(&signature)))
    });
    raw.bench_function("verify", |b| {
        b.iter(|| vk.verify(black_box(&message), black_box(&signature)))
    });
    raw.finish();

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
