//! Verification throughput beside its physical limit, measured in the same run:
//! - `raw/verify_strict`: ed25519-dalek strict verification of one 64-byte-header-sized message,
//!   the limit one core can do one by one;
//! - `hubnet/single`: decode + validate + strict verify of one signed record;
//! - `hubnet/batch/N`: the same for N records verified together (`record::verify_batch`);
//! - `rule/screen_r`: the subgroup check of one point (what a random-combination batch would need
//!   per signature to be exact);
//! - `options64/*`: the ways of checking 64 signatures by one key that were measured for the
//!   signature rule (docs/PROTOCOL.md §1.3), beside `verify_strict` one by one.
//!
//! Throughput is in records (elements) per second; BENCHMARKS.md has the figures.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hubnet_protocol::record;

mod common;

use common::NOW;

fn bench(c: &mut Criterion) {
    let (charter, keys) = common::network(1);
    let recs = common::records(&charter, &keys[0], "AM", 256);

    common::bench_raw_verify(c, true);

    let mut rule = c.benchmark_group("rule");
    rule.throughput(Throughput::Elements(1));
    let r_bytes: [u8; 32] = record::SignedRecord::decode(&recs[0])
        .expect("decodes")
        .signature[..32]
        .try_into()
        .expect("32 bytes");
    rule.bench_function("screen_r", |b| {
        b.iter(|| hubnet_protocol::signature::check_point(black_box(&r_bytes)).expect("valid"))
    });
    rule.finish();

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

/// The options measured for checking many signatures under the rule (BENCHMARKS.md): each takes
/// 64 (key, message, signature) triples by one key and must give the rule's verdicts.
mod options {
    use curve25519_dalek::edwards::{
        CompressedEdwardsY, EdwardsPoint, VartimeEdwardsPrecomputation,
    };
    use curve25519_dalek::scalar::Scalar;
    use curve25519_dalek::traits::{
        IsIdentity, VartimeMultiscalarMul, VartimePrecomputedMultiscalarMul,
    };
    use ed25519_dalek::{Signature, VerifyingKey};
    use sha2::{Digest, Sha512};

    pub type Triple = (VerifyingKey, Vec<u8>, Signature);

    fn k(sig: &Signature, key: &VerifyingKey, message: &[u8]) -> Scalar {
        let mut h = Sha512::new();
        h.update(sig.r_bytes());
        h.update(key.as_bytes());
        h.update(message);
        Scalar::from_bytes_mod_order_wide(&h.finalize().into())
    }

    fn s(sig: &Signature) -> Option<Scalar> {
        Scalar::from_canonical_bytes(*sig.s_bytes()).into()
    }

    /// ed25519-dalek's batch after a constant-time subgroup check of each R.
    pub fn dalek_batch_ct_screen(items: &[Triple]) -> bool {
        let screened = items.iter().all(|(_, _, sig)| {
            CompressedEdwardsY(*sig.r_bytes())
                .decompress()
                .is_some_and(|r| r.is_torsion_free() && !r.is_small_order())
        });
        let m: Vec<&[u8]> = items.iter().map(|t| t.1.as_slice()).collect();
        let sigs: Vec<Signature> = items.iter().map(|t| t.2).collect();
        let keys: Vec<VerifyingKey> = items.iter().map(|t| t.0).collect();
        screened && ed25519_dalek::verify_batch(&m, &sigs, &keys).is_ok()
    }

    /// ed25519-dalek's batch after a variable-time subgroup check of each R ([2^252]R + [δ]R).
    pub fn dalek_batch_vartime_screen(items: &[Triple]) -> bool {
        let two_252 = {
            let mut b = [0u8; 32];
            b[31] = 0x10;
            Scalar::from_canonical_bytes(b).expect("below the order")
        };
        let delta = Scalar::from(27742317777372353535851937790883648493u128);
        let screened = items.iter().all(|(_, _, sig)| {
            CompressedEdwardsY(*sig.r_bytes())
                .decompress()
                .is_some_and(|r| {
                    EdwardsPoint::vartime_multiscalar_mul([two_252, delta], [r, r]).is_identity()
                        && !r.is_small_order()
                })
        });
        let m: Vec<&[u8]> = items.iter().map(|t| t.1.as_slice()).collect();
        let sigs: Vec<Signature> = items.iter().map(|t| t.2).collect();
        let keys: Vec<VerifyingKey> = items.iter().map(|t| t.0).collect();
        screened && ed25519_dalek::verify_batch(&m, &sigs, &keys).is_ok()
    }

    /// Each signature's own equation, [s]B - [k]A computed with ed25519-dalek's double-base
    /// multiplication, all compressed with one inversion and compared with R's bytes.
    pub fn each_double_base(items: &[Triple]) -> bool {
        let points: Vec<EdwardsPoint> = items
            .iter()
            .map(|(key, m, sig)| {
                let a = CompressedEdwardsY(*key.as_bytes())
                    .decompress()
                    .expect("key");
                EdwardsPoint::vartime_double_scalar_mul_basepoint(
                    &-k(sig, key, m),
                    &a,
                    &s(sig).expect("canonical"),
                )
            })
            .collect();
        EdwardsPoint::compress_batch_alloc(&points)
            .iter()
            .zip(items)
            .all(|(c, (_, _, sig))| c.as_bytes() == sig.r_bytes())
    }

    /// As `each_double_base`, with a precomputed table for the (one) key.
    pub fn each_precomputed(items: &[Triple]) -> bool {
        let a = CompressedEdwardsY(*items[0].0.as_bytes())
            .decompress()
            .expect("key");
        let table = VartimeEdwardsPrecomputation::new([
            curve25519_dalek::constants::ED25519_BASEPOINT_POINT,
            a,
        ]);
        let points: Vec<EdwardsPoint> = items
            .iter()
            .map(|(key, m, sig)| {
                table.vartime_multiscalar_mul([s(sig).expect("canonical"), -k(sig, key, m)])
            })
            .collect();
        EdwardsPoint::compress_batch_alloc(&points)
            .iter()
            .zip(items)
            .all(|(c, (_, _, sig))| c.as_bytes() == sig.r_bytes())
    }

    /// Each signature's own equation with fixed-base comb tables: [s]B from the static basepoint
    /// table, [-k]A from a table `T` made for the key (made by the caller, kept per key).
    pub fn each_comb<T>(items: &[Triple], table: &T) -> bool
    where
        T: curve25519_dalek::traits::BasepointTable<Point = EdwardsPoint>,
    {
        debug_assert!(
            items.iter().all(|(key, _, _)| key == &items[0].0),
            "one key"
        );
        let points: Vec<EdwardsPoint> = items
            .iter()
            .map(|(key, m, sig)| {
                EdwardsPoint::mul_base(&s(sig).expect("canonical"))
                    + table.mul_base(&-k(sig, key, m))
            })
            .collect();
        EdwardsPoint::compress_batch_alloc(&points)
            .iter()
            .zip(items)
            .all(|(c, (_, _, sig))| c.as_bytes() == sig.r_bytes())
    }
}

fn bench_options(c: &mut Criterion) {
    use ed25519_dalek::{Signature, Signer, SigningKey};
    let dalek = SigningKey::from_bytes(&[3; 32]);
    let items: Vec<options::Triple> = (0..64)
        .map(|i| {
            let m = record::signing_message(
                format!("header {i} of about 160 bytes {}", "x".repeat(120)).as_bytes(),
            );
            let sig: Signature = dalek.sign(&m);
            (dalek.verifying_key(), m, sig)
        })
        .collect();
    let mut g = c.benchmark_group("options64");
    g.throughput(Throughput::Elements(64));
    g.bench_function("dalek_batch_ct_screen", |b| {
        b.iter(|| assert!(options::dalek_batch_ct_screen(black_box(&items))))
    });
    g.bench_function("dalek_batch_vartime_screen", |b| {
        b.iter(|| assert!(options::dalek_batch_vartime_screen(black_box(&items))))
    });
    g.bench_function("dalek_batch_unscreened", |b| {
        b.iter(|| {
            let m: Vec<&[u8]> = items.iter().map(|t| t.1.as_slice()).collect();
            let sigs: Vec<Signature> = items.iter().map(|t| t.2).collect();
            let keys: Vec<ed25519_dalek::VerifyingKey> = items.iter().map(|t| t.0).collect();
            assert!(ed25519_dalek::verify_batch(&m, &sigs, &keys).is_ok())
        })
    });
    g.bench_function("each_double_base", |b| {
        b.iter(|| assert!(options::each_double_base(black_box(&items))))
    });
    g.bench_function("each_precomputed", |b| {
        b.iter(|| assert!(options::each_precomputed(black_box(&items))))
    });
    {
        use curve25519_dalek::edwards::{
            EdwardsBasepointTable, EdwardsBasepointTableRadix64, EdwardsBasepointTableRadix256,
        };
        use curve25519_dalek::traits::BasepointTable;
        let a = curve25519_dalek::edwards::CompressedEdwardsY(*items[0].0.as_bytes())
            .decompress()
            .expect("key");
        g.bench_function("make_comb16_table", |b| {
            b.iter(|| EdwardsBasepointTable::create(black_box(&a)))
        });
        let t16 = EdwardsBasepointTable::create(&a);
        g.bench_function("each_comb16", |b| {
            b.iter(|| assert!(options::each_comb(black_box(&items), &t16)))
        });
        let t64 = EdwardsBasepointTableRadix64::create(&a);
        g.bench_function("each_comb64", |b| {
            b.iter(|| assert!(options::each_comb(black_box(&items), &t64)))
        });
        let t256 = EdwardsBasepointTableRadix256::create(&a);
        g.bench_function("each_comb256", |b| {
            b.iter(|| assert!(options::each_comb(black_box(&items), &t256)))
        });
    }
    g.bench_function("verify_strict_each", |b| {
        b.iter(|| assert!(items.iter().all(|(k, m, s)| k.verify_strict(m, s).is_ok())))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(4));
    targets = bench, bench_options
}
criterion_main!(benches);
