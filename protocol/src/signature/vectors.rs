//! Test vectors for the signature rule, made here from seeds so anyone can make them again.
//!
//! [`all`] gives every vector of `protocol/tests/vectors/ed25519.json` (the file is this
//! module's output: `cargo run -p hubnet-protocol --example ed25519_vectors`; a test keeps the
//! two identical). [`sign_with`] makes one signature with a chosen defect, for tests that put
//! such a signature on a record of a member whose secret key they hold.
//!
//! Nothing here can sign for a key whose secret it is not given.

use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::{Scalar, clamp_integer};
use curve25519_dalek::traits::IsIdentity;
use serde::Serialize;
use sha2::{Digest, Sha512};

/// The group order ℓ, little-endian.
const ELL: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// What is wrong with a signature that [`sign_with`] makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Defect {
    /// None: RFC 8032 signing.
    Honest,
    /// `R` carries the torsion point `EIGHT_TORSION[i]` (i in 1..8): valid under the cofactored
    /// equation, invalid under the cofactorless one.
    TorsionInR(usize),
    /// `R` is the small-order point `EIGHT_TORSION[i]` itself and `s = k·a`.
    SmallOrderR(usize),
    /// `s + ℓ` in place of `s` (still below 2^256): the same value, not canonical.
    NonCanonicalS,
}

/// One vector as the JSON file holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Vector {
    /// Short name.
    pub name: &'static str,
    /// How it was made.
    pub how: &'static str,
    /// Public key, 32 bytes hex.
    pub key: String,
    /// Message, hex.
    pub message: String,
    /// Signature, 64 bytes hex.
    pub signature: String,
    /// The rule's verdict (docs/PROTOCOL.md §1.3), which every hubnet verifier gives.
    pub valid: bool,
    /// Why the rule refuses it (empty when valid): `key`, `R` or `s`, and what is wrong.
    pub defect: &'static str,
    /// ed25519-dalek `verify_strict` on its own (cofactorless, refuses small-order `A` and `R`,
    /// but not a torsion component of `A`): informative.
    pub dalek_verify_strict: bool,
    /// The cofactored equation with lenient decoding and canonical `s` (ZIP-215): informative.
    pub zip215: bool,
}

/// The expanded secret of an RFC 8032 seed: the scalar `a` and the nonce prefix.
fn expand(seed: &[u8; 32]) -> (Scalar, [u8; 32]) {
    let h = Sha512::digest(seed);
    let mut lower = [0u8; 32];
    let mut prefix = [0u8; 32];
    lower.copy_from_slice(&h[..32]);
    prefix.copy_from_slice(&h[32..]);
    (Scalar::from_bytes_mod_order(clamp_integer(lower)), prefix)
}

fn challenge(r: &[u8; 32], a: &[u8; 32], message: &[u8]) -> Scalar {
    let mut h = Sha512::new();
    h.update(r);
    h.update(a);
    h.update(message);
    Scalar::from_bytes_mod_order_wide(&h.finalize().into())
}

fn nonce(prefix: &[u8; 32], message: &[u8], salt: u32) -> Scalar {
    let mut h = Sha512::new();
    if salt > 0 {
        h.update(b"hubnet-vector-nonce");
        h.update(salt.to_le_bytes());
    }
    h.update(prefix);
    h.update(message);
    Scalar::from_bytes_mod_order_wide(&h.finalize().into())
}

/// Signs `message` with the key of `seed`, with the chosen defect. With `Defect::Honest` this is
/// RFC 8032 Ed25519 (the same bytes as any standard signer).
pub fn sign_with(seed: &[u8; 32], message: &[u8], defect: Defect) -> [u8; 64] {
    let (a, prefix) = expand(seed);
    let key = EdwardsPoint::mul_base(&a).compress().to_bytes();
    let r = nonce(&prefix, message, 0);
    let big_r = match defect {
        Defect::TorsionInR(i) => EdwardsPoint::mul_base(&r) + EIGHT_TORSION[i % 8],
        Defect::SmallOrderR(i) => EIGHT_TORSION[i % 8],
        Defect::Honest | Defect::NonCanonicalS => EdwardsPoint::mul_base(&r),
    };
    let r_bytes = big_r.compress().to_bytes();
    let k = challenge(&r_bytes, &key, message);
    let s = match defect {
        Defect::SmallOrderR(_) => k * a,
        _ => r + k * a,
    };
    let s_bytes = match defect {
        Defect::NonCanonicalS => add_ell(s.to_bytes()),
        _ => s.to_bytes(),
    };
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&r_bytes);
    out[32..].copy_from_slice(&s_bytes);
    out
}

/// `x + ℓ` as 256-bit little-endian (x < ℓ, so no overflow).
fn add_ell(x: [u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(x[i]) + u16::from(ELL[i]) + carry;
        out[i] = (sum & 0xff) as u8;
        carry = sum >> 8;
    }
    out
}

/// Most nonces the two searches below draw. Each draw succeeds with probability at least 1/8, so
/// a search ends long before (those of the vectors and of the tests within 32 draws); the bound
/// makes a broken search panic instead of running forever.
const MAX_SALT: u32 = 1024;

/// A signature by a key that is `aB + T` (T = `EIGHT_TORSION[torsion]`, possibly with `R`
/// carrying `R_torsion`), with the nonce drawn again until the cofactorless equation holds:
/// `[s]B = R + [k]A` exactly, although `A` has a torsion component.
fn sign_with_torsion_key(
    seed: &[u8; 32],
    message: &[u8],
    torsion: usize,
    torsion_in_r: bool,
) -> ([u8; 32], [u8; 64]) {
    let (a, prefix) = expand(seed);
    let t = EIGHT_TORSION[torsion % 8];
    let key = (EdwardsPoint::mul_base(&a) + t).compress().to_bytes();
    for salt in 1..=MAX_SALT {
        let r = nonce(&prefix, message, salt);
        // With a torsion point in R too, the equation holds when R's part is -[k]T; try each.
        let candidates: Vec<EdwardsPoint> = if torsion_in_r {
            EIGHT_TORSION[1..].to_vec()
        } else {
            vec![EdwardsPoint::default()]
        };
        for tr in candidates {
            let big_r = EdwardsPoint::mul_base(&r) + tr;
            let r_bytes = big_r.compress().to_bytes();
            let k = challenge(&r_bytes, &key, message);
            if (tr + k * t).is_identity() {
                let s = r + k * a;
                let mut sig = [0u8; 64];
                sig[..32].copy_from_slice(&r_bytes);
                sig[32..].copy_from_slice(&s.to_bytes());
                return (key, sig);
            }
        }
    }
    panic!("no nonce of the first {MAX_SALT} fits")
}

/// A signature by a small-order or non-canonically encoded key `key_bytes` (secret unknown and
/// not needed): `R = rB`, `s = r`, with `r` drawn until `[k]A` is the identity, so that even the
/// cofactorless equation holds.
fn sign_for_weak_key(key_bytes: [u8; 32], message: &[u8]) -> [u8; 64] {
    let point = CompressedEdwardsY(key_bytes)
        .decompress()
        .unwrap_or_default();
    for salt in 1..=MAX_SALT {
        let r = nonce(&[0x5a; 32], message, salt);
        let r_bytes = EdwardsPoint::mul_base(&r).compress().to_bytes();
        let k = challenge(&r_bytes, &key_bytes, message);
        if (k * point).is_identity() {
            let mut sig = [0u8; 64];
            sig[..32].copy_from_slice(&r_bytes);
            sig[32..].copy_from_slice(&r.to_bytes());
            return sig;
        }
    }
    panic!("no nonce of the first {MAX_SALT} fits")
}

/// The public key of a seed.
pub fn public_key(seed: &[u8; 32]) -> [u8; 32] {
    EdwardsPoint::mul_base(&expand(seed).0)
        .compress()
        .to_bytes()
}

/// The message every vector signs: a record signing message for a short header.
fn message() -> Vec<u8> {
    crate::record::signing_message(b"hubnet signature rule test vector")
}

/// ed25519-dalek `verify_strict` alone, with no key check of ours.
fn dalek_strict(key: &[u8; 32], message: &[u8], sig: &[u8; 64]) -> bool {
    ed25519_dalek::VerifyingKey::from_bytes(key).is_ok_and(|vk| {
        vk.verify_strict(message, &ed25519_dalek::Signature::from_bytes(sig))
            .is_ok()
    })
}

/// ZIP-215: lenient point decoding, canonical `s`, cofactored equation.
fn zip215(key: &[u8; 32], message: &[u8], sig: &[u8; 64]) -> bool {
    let mut r_bytes = [0u8; 32];
    let mut s_bytes = [0u8; 32];
    r_bytes.copy_from_slice(&sig[..32]);
    s_bytes.copy_from_slice(&sig[32..]);
    let (Some(a), Some(r)) = (
        CompressedEdwardsY(*key).decompress(),
        CompressedEdwardsY(r_bytes).decompress(),
    ) else {
        return false;
    };
    let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes)) else {
        return false;
    };
    let k = challenge(&r_bytes, key, message);
    (EdwardsPoint::mul_base(&s) - r - k * a)
        .mul_by_cofactor()
        .is_identity()
}

/// The encoding with y = p + 1 (2^255 - 18): the identity, encoded non-canonically.
fn identity_non_canonical() -> [u8; 32] {
    let mut b = [0xffu8; 32];
    b[0] = 0xee;
    b[31] = 0x7f;
    b
}

/// Every vector, in file order.
pub fn all() -> Vec<Vector> {
    let seed = [0x42u8; 32];
    let key = public_key(&seed);
    let m = message();
    let mut out = Vec::new();
    let mut push = |name, how, key: [u8; 32], sig: [u8; 64], valid: bool, defect: &'static str| {
        out.push(Vector {
            name,
            how,
            key: hex::encode(key),
            message: hex::encode(&m),
            signature: hex::encode(sig),
            valid,
            defect,
            dalek_verify_strict: dalek_strict(&key, &m, &sig),
            zip215: zip215(&key, &m, &sig),
        });
    };
    push(
        "honest",
        "RFC 8032 signature by the key of seed 42..42",
        key,
        sign_with(&seed, &m, Defect::Honest),
        true,
        "",
    );
    let torsion_names = [
        "",
        "r_torsion_order8",
        "r_torsion_order4",
        "r_torsion_order8_b",
        "r_torsion_order2",
        "r_torsion_order8_c",
        "r_torsion_order4_b",
        "r_torsion_order8_d",
    ];
    for (i, name) in torsion_names.iter().enumerate().skip(1) {
        push(
            name,
            "R = rB + EIGHT_TORSION[i], s = r + k·a (the honest nonce r, k over the new R)",
            key,
            sign_with(&seed, &m, Defect::TorsionInR(i)),
            false,
            "R has a torsion component",
        );
    }
    push(
        "r_small_order",
        "R = EIGHT_TORSION[1] (order 8), s = k·a",
        key,
        sign_with(&seed, &m, Defect::SmallOrderR(1)),
        false,
        "R is of small order",
    );
    let mut identity_r = sign_with(&seed, &m, Defect::Honest);
    identity_r[..32].copy_from_slice(&identity_non_canonical());
    let k = challenge(&identity_non_canonical(), &key, &m);
    identity_r[32..].copy_from_slice(&(k * expand(&seed).0).to_bytes());
    push(
        "r_non_canonical",
        "R = y of p + 1 (the identity, non-canonical), s = k·a",
        key,
        identity_r,
        false,
        "R is not canonical",
    );
    push(
        "s_non_canonical",
        "the honest signature with s + ℓ in place of s",
        key,
        sign_with(&seed, &m, Defect::NonCanonicalS),
        false,
        "s is not canonical",
    );
    let (mixed_key, mixed_sig) = sign_with_torsion_key(&seed, &m, 1, false);
    push(
        "a_torsion",
        "A = aB + EIGHT_TORSION[1], nonce redrawn until k ≡ 0 (mod 8), s = r + k·a",
        mixed_key,
        mixed_sig,
        false,
        "the key has a torsion component",
    );
    let (mixed_key, mixed_sig) = sign_with_torsion_key(&seed, &m, 4, true);
    push(
        "a_and_r_torsion",
        "A = aB + EIGHT_TORSION[4], R = rB + T with T = -[k]EIGHT_TORSION[4], s = r + k·a",
        mixed_key,
        mixed_sig,
        false,
        "the key has a torsion component",
    );
    let small = EIGHT_TORSION[1].compress().to_bytes();
    push(
        "a_small_order",
        "A = EIGHT_TORSION[1], R = rB, s = r, r redrawn until [k]A = 0",
        small,
        sign_for_weak_key(small, &m),
        false,
        "the key is of small order",
    );
    let nc = identity_non_canonical();
    push(
        "a_non_canonical",
        "A = y of p + 1 (the identity, non-canonical), R = rB, s = r",
        nc,
        sign_for_weak_key(nc, &m),
        false,
        "the key is not canonical",
    );
    out
}

/// The vectors as the committed JSON file holds them.
pub fn to_json() -> String {
    let mut text = serde_json::to_string_pretty(&all()).unwrap_or_default();
    text.push('\n');
    text
}

/// Curve points from the identity to the basepoint, for tests: `EIGHT_TORSION[i]` encoded.
pub fn torsion_point(i: usize) -> [u8; 32] {
    EIGHT_TORSION[i % 8].compress().to_bytes()
}

/// The basepoint plus `EIGHT_TORSION[i]`, encoded: a point of mixed order.
pub fn mixed_order_point(i: usize) -> [u8; 32] {
    (ED25519_BASEPOINT_POINT + EIGHT_TORSION[i % 8])
        .compress()
        .to_bytes()
}

#[cfg(test)]
mod tests;
