//! The rule on the committed vectors, in every batch size and position, and on random batches.

use ed25519_dalek::{Signature, VerifyingKey};
use proptest::prelude::*;

use super::vectors::{self, Defect, Vector};
use super::*;

const COMMITTED: &str = include_str!("../../tests/vectors/ed25519.json");

fn bytes<const N: usize>(text: &str) -> [u8; N] {
    let v = hex::decode(text).expect("hex");
    v.try_into().expect("length")
}

/// Honest signatures over distinct messages, every other one by the vectors' own key (so that
/// key gets a precomputed table in larger groups) and the rest by three other keys: the
/// neighbours of a vector in one call.
fn neighbours(n: usize) -> Vec<(VerifyingKey, Vec<u8>, Signature)> {
    (0..n)
        .map(|i| {
            let seed = [[0x42, 1, 0x42, 2, 0x42, 3][i % 6]; 32];
            let message = format!("neighbour {i}").into_bytes();
            let sig = vectors::sign_with(&seed, &message, Defect::Honest);
            let key = checked_key(&vectors::public_key(&seed)).expect("honest key");
            (key, message, Signature::from_bytes(&sig))
        })
        .collect()
}

/// The triples as candidates, each with its signature.
fn candidates(items: &[(VerifyingKey, Vec<u8>, Signature)]) -> Vec<Candidate<'_>> {
    items
        .iter()
        .map(|(k, m, s)| Candidate {
            key: k,
            message: m,
            signature: Some(s),
        })
        .collect()
}

/// Checks `verify_each` on `n` signatures with the vector's at `position` and honest ones
/// elsewhere: the vector gets `expect`, every neighbour `true`.
fn check_in_batch(
    others: &[(VerifyingKey, Vec<u8>, Signature)],
    vector: Candidate<'_>,
    n: usize,
    expect: bool,
) {
    for position in 0..n {
        let mut candidates = candidates(&others[..n - 1]);
        candidates.insert(position, vector);
        let verdicts = verify_each(&candidates);
        for (i, v) in verdicts.iter().enumerate() {
            let want = if i == position { expect } else { true };
            assert_eq!(*v, want, "batch of {n}, vector at {position}, verdict {i}");
        }
    }
}

#[test]
fn committed_vectors_are_what_the_generator_makes() {
    assert_eq!(COMMITTED, vectors::to_json());
}

#[test]
fn every_vector_gets_the_rules_verdict_alone_and_in_every_batch() {
    let all = vectors::all();
    let others = neighbours(64);
    assert!(all.iter().any(|v| v.valid) && all.iter().any(|v| !v.valid));
    for v in &all {
        let key_bytes: [u8; 32] = bytes(&v.key);
        let message = hex::decode(&v.message).expect("hex");
        let sig: [u8; 64] = bytes(&v.signature);
        let Ok(key) = checked_key(&key_bytes) else {
            // A key the rule refuses never reaches a verifier: a charter or decision refuses it.
            assert!(!v.valid, "{}: a valid vector's key must pass", v.name);
            assert!(v.defect.contains("key"), "{}", v.name);
            assert!(
                crate::PublicKey::from_bytes(key_bytes).is_err(),
                "{}",
                v.name
            );
            continue;
        };
        assert_eq!(verify(&key, &message, &sig), v.valid, "{} alone", v.name);
        let sig = Signature::from_bytes(&sig);
        let vector = Candidate {
            key: &key,
            message: &message,
            signature: Some(&sig),
        };
        // Below, at and above the table threshold for the vector's key, and a full group.
        for n in (1..=TABLE_FROM * 2 + 1).chain([64]) {
            check_in_batch(&others, vector, n, v.valid);
        }
    }
}

#[test]
fn the_vectors_show_where_other_verifiers_differ() {
    let by_name = |name: &str| -> Vector {
        vectors::all()
            .into_iter()
            .find(|v| v.name == name)
            .expect("vector")
    };
    // A torsion component in R: the cofactored equation holds, the cofactorless one does not.
    let r = by_name("r_torsion_order8");
    assert!(r.zip215 && !r.dalek_verify_strict && !r.valid);
    // A torsion component in the key with the nonce chosen to cancel it: verify_strict alone
    // accepts it, which is why keys are checked where they enter.
    let a = by_name("a_torsion");
    assert!(a.dalek_verify_strict && a.zip215 && !a.valid);
    let ar = by_name("a_and_r_torsion");
    assert!(ar.dalek_verify_strict && !ar.valid);
    // Non-canonical encodings that ZIP-215 takes.
    assert!(by_name("a_non_canonical").zip215);
    assert!(by_name("r_non_canonical").zip215);
    assert!(!by_name("s_non_canonical").zip215);
    assert!(by_name("honest").dalek_verify_strict && by_name("honest").zip215);
}

#[test]
fn points_are_classified() {
    for i in 0..8 {
        assert_eq!(
            check_point(&vectors::torsion_point(i)),
            Err(PointDefect::SmallOrder),
            "EIGHT_TORSION[{i}]"
        );
        let mixed = check_point(&vectors::mixed_order_point(i));
        if i == 0 {
            assert!(mixed.is_ok(), "the basepoint");
        } else {
            assert_eq!(mixed, Err(PointDefect::Torsion), "B + EIGHT_TORSION[{i}]");
        }
    }
    // y = p + 1: the identity, non-canonical; y = p: 0 mod p, a point of order 4, non-canonical;
    // the identity with its sign bit set: x = 0, so the bit is redundant.
    let mut y_p_plus_1 = [0xffu8; 32];
    y_p_plus_1[0] = 0xee;
    y_p_plus_1[31] = 0x7f;
    assert_eq!(check_point(&y_p_plus_1), Err(PointDefect::NotCanonical));
    let mut y_p = y_p_plus_1;
    y_p[0] = 0xed;
    assert_eq!(check_point(&y_p), Err(PointDefect::NotCanonical));
    let mut y_p_minus_1 = y_p_plus_1;
    y_p_minus_1[0] = 0xec;
    assert_eq!(check_point(&y_p_minus_1), Err(PointDefect::SmallOrder));
    let mut negative_identity = [0u8; 32];
    negative_identity[0] = 1;
    negative_identity[31] = 0x80;
    assert_eq!(
        check_point(&negative_identity),
        Err(PointDefect::NotCanonical)
    );
    // y = 2 is on no curve point.
    let mut two = [0u8; 32];
    two[0] = 2;
    assert_eq!(check_point(&two), Err(PointDefect::NotOnCurve));
}

#[test]
fn canonical_y_bound_is_exact() {
    // p - 1 = 2^255 - 20 is canonical, p is not, and the sign bit does not count.
    let mut b = [0xffu8; 32];
    b[31] = 0x7f;
    b[0] = 0xec;
    assert!(is_canonical_y(&b));
    b[0] = 0xed;
    assert!(!is_canonical_y(&b));
    b[31] = 0xff;
    assert!(!is_canonical_y(&b));
    b[0] = 0xec;
    assert!(is_canonical_y(&b));
    b[30] = 0xfe;
    b[0] = 0xff;
    assert!(is_canonical_y(&b));
}

#[test]
fn a_missing_signature_fails_alone_and_in_a_batch() {
    let others = neighbours(TABLE_FROM * 2);
    for position in [0, TABLE_FROM, others.len() - 1] {
        let mut candidates = candidates(&others);
        candidates[position].signature = None;
        let verdicts = verify_each(&candidates);
        for (i, v) in verdicts.iter().enumerate() {
            assert_eq!(*v, i != position);
        }
    }
    assert!(verify_each(&[]).is_empty());
}

/// One entry of a generated batch: which key signs, and what is wrong with the signature.
#[derive(Debug, Clone, Copy)]
enum Entry {
    Honest(u8),
    Torsion(u8, usize),
    SmallOrderR(u8, usize),
    NonCanonicalS(u8),
    WrongMessage(u8),
}

fn entry() -> impl Strategy<Value = Entry> {
    let signer = 1u8..=6;
    prop_oneof![
        4 => signer.clone().prop_map(Entry::Honest),
        3 => (signer.clone(), 1usize..8).prop_map(|(s, i)| Entry::Torsion(s, i)),
        1 => (signer.clone(), 0usize..8).prop_map(|(s, i)| Entry::SmallOrderR(s, i)),
        1 => signer.clone().prop_map(Entry::NonCanonicalS),
        1 => signer.prop_map(Entry::WrongMessage),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// A batch never accepts what single verification refuses, nor refuses what it accepts,
    /// whatever mix of torsion and other defects it holds and wherever they are.
    #[test]
    fn batch_verdicts_equal_single_verdicts(entries in prop::collection::vec(entry(), 0..72)) {
        let items: Vec<(VerifyingKey, Vec<u8>, Signature)> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let (seed, defect, wrong) = match *e {
                    Entry::Honest(s) => (s, Defect::Honest, false),
                    Entry::Torsion(s, t) => (s, Defect::TorsionInR(t), false),
                    Entry::SmallOrderR(s, t) => (s, Defect::SmallOrderR(t), false),
                    Entry::NonCanonicalS(s) => (s, Defect::NonCanonicalS, false),
                    Entry::WrongMessage(s) => (s, Defect::Honest, true),
                };
                let seed = [seed; 32];
                let message = format!("entry {i}").into_bytes();
                let sig = vectors::sign_with(&seed, &message, defect);
                let key = checked_key(&vectors::public_key(&seed)).expect("honest key");
                let message = if wrong { b"another message".to_vec() } else { message };
                (key, message, Signature::from_bytes(&sig))
            })
            .collect();
        let candidates = candidates(&items);
        let single: Vec<bool> = items
            .iter()
            .map(|(k, m, s)| verify(k, m, &s.to_bytes()))
            .collect();
        let expected: Vec<bool> = entries
            .iter()
            .map(|e| matches!(e, Entry::Honest(_)))
            .collect();
        prop_assert_eq!(&single, &expected);
        prop_assert_eq!(verify_each(&candidates), single);
    }
}

#[test]
fn honest_vectors_are_rfc8032_signatures() {
    let seed = [0x42u8; 32];
    let message = b"any message";
    let standard = crate::SecretKey::from_seed(seed);
    assert_eq!(
        vectors::public_key(&seed),
        *standard.public_key().as_bytes()
    );
    assert_eq!(
        vectors::sign_with(&seed, message, Defect::Honest),
        standard.sign(message)
    );
}
