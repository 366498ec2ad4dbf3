//! The one Ed25519 rule every hubnet verifier applies (docs/PROTOCOL.md §1.3).
//!
//! A signature `(R, s)` by key `A` over a message is valid if and only if
//!
//! - `s` is canonical (below the group order ℓ);
//! - `A` and `R` are canonical encodings of curve points that are not of small order and lie in
//!   the prime-order subgroup (no torsion component);
//! - `[s]B = R + [k]A` with `k = SHA-512(R || A || message)`.
//!
//! On such inputs the cofactored and the cofactorless equations agree, so every standard verifier
//! (OpenSSL, WebCrypto, libsodium, Go's crypto/ed25519, ZIP-215 libraries) accepts every signature
//! this module accepts, and random-linear-combination batches accept exactly what single
//! verification accepts.
//!
//! Keys are checked once, where they enter (the charter, a decision): [`check_point`] through
//! [`crate::PublicKey::from_bytes`]. With `A` checked, ed25519-dalek's `verify_strict` is the rule:
//! it refuses a non-canonical `s` and a small-order `R`, and it compares the canonical encoding of
//! `[s]B - [k]A`, a point of the prime-order subgroup, with the bytes of `R`, so a non-canonical
//! `R` or one with a torsion component never matches. A random-linear-combination batch has no
//! such comparison (a torsion component in `R` cancels in it with some probability), so
//! [`verify_each`], the bulk path, makes the same comparison for every signature, sharing only
//! precomputation.

use std::collections::BTreeMap;

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint, VartimeEdwardsPrecomputation};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimePrecomputedMultiscalarMul};
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha512};

/// Why 32 bytes are not an acceptable point (a key, or a signature's `R`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PointDefect {
    /// The bytes are not the one encoding of their point: `y` is not below 2^255 - 19, or the
    /// sign bit is set on a point whose `x` is zero.
    #[error("not a canonical point encoding")]
    NotCanonical,
    /// No curve point has this `y`.
    #[error("not the encoding of a curve point")]
    NotOnCurve,
    /// One of the eight points of small order.
    #[error("a point of small order")]
    SmallOrder,
    /// A point with a torsion component: outside the prime-order subgroup.
    #[error("a point with a torsion component (outside the prime-order subgroup)")]
    Torsion,
}

/// Checks that `bytes` canonically encode a point of the prime-order subgroup other than the
/// identity, and returns it.
///
/// ```
/// use hubnet_protocol::signature::{PointDefect, check_point};
/// // The identity (y = 1) is of small order.
/// let mut identity = [0u8; 32];
/// identity[0] = 1;
/// assert_eq!(check_point(&identity), Err(PointDefect::SmallOrder));
/// ```
pub fn check_point(bytes: &[u8; 32]) -> Result<EdwardsPoint, PointDefect> {
    if !is_canonical_y(bytes) {
        return Err(PointDefect::NotCanonical);
    }
    let point = CompressedEdwardsY(*bytes)
        .decompress()
        .ok_or(PointDefect::NotOnCurve)?;
    if point.is_small_order() {
        // Only points with x = 0 can carry a sign bit that decompression ignores, and both are
        // of small order: tell the redundant encoding apart here, where it is cheap.
        return Err(if point.compress().to_bytes() == *bytes {
            PointDefect::SmallOrder
        } else {
            PointDefect::NotCanonical
        });
    }
    if !point.is_torsion_free() {
        return Err(PointDefect::Torsion);
    }
    Ok(point)
}

/// The dalek key for bytes that pass [`check_point`].
pub fn checked_key(bytes: &[u8; 32]) -> Result<VerifyingKey, PointDefect> {
    check_point(bytes)?;
    VerifyingKey::from_bytes(bytes).map_err(|_| PointDefect::NotOnCurve)
}

/// Verifies one signature under the rule. `key` must have passed [`check_point`] (every
/// [`crate::PublicKey`] has).
pub fn verify(key: &VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
    Signature::from_slice(signature).is_ok_and(|sig| key.verify_strict(message, &sig).is_ok())
}

/// One signature to check with [`verify_each`].
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// The signer's key; it must have passed [`check_point`].
    pub key: &'a VerifyingKey,
    /// The exact signed bytes.
    pub message: &'a [u8],
    /// The signature, or `None` when its bytes were not 64 long.
    pub signature: Option<&'a Signature>,
}

/// A key with at least this many signatures in one call gets a precomputed table.
const TABLE_FROM: usize = 4;

/// Verifies many signatures, each verdict the one [`verify`] gives, in input order.
///
/// No random linear combination is involved, so nothing can hide in one: each signature's own
/// equation is computed, `R' = [s]B - [k]A`, and compared with `R`'s bytes, as `verify_strict`
/// does. What is shared is the cost: a precomputed table for each key that signs several of
/// the candidates, and one field inversion (Montgomery's trick) to encode every `R'`. Measured
/// against ed25519-dalek's random-combination batch with a subgroup check of each `R`, this is
/// faster and exact (BENCHMARKS.md, "Signature rule").
pub fn verify_each(candidates: &[Candidate<'_>]) -> Vec<bool> {
    let mut by_key: BTreeMap<&[u8; 32], Vec<usize>> = BTreeMap::new();
    for (i, c) in candidates.iter().enumerate() {
        by_key.entry(c.key.as_bytes()).or_default().push(i);
    }
    let mut computed: Vec<(usize, EdwardsPoint)> = Vec::with_capacity(candidates.len());
    for positions in by_key.values() {
        let key = candidates[positions[0]].key;
        let a = key.to_edwards();
        let table = (positions.len() >= TABLE_FROM)
            .then(|| VartimeEdwardsPrecomputation::new([ED25519_BASEPOINT_POINT, a]));
        for &i in positions {
            let c = &candidates[i];
            let Some((s, k)) = c.signature.and_then(|sig| scalars(key, c.message, sig)) else {
                continue;
            };
            let r = match &table {
                Some(t) => t.vartime_multiscalar_mul([s, -k]),
                None => EdwardsPoint::vartime_double_scalar_mul_basepoint(&-k, &a, &s),
            };
            computed.push((i, r));
        }
    }
    let points: Vec<EdwardsPoint> = computed.iter().map(|(_, r)| *r).collect();
    let mut out = vec![false; candidates.len()];
    for ((i, r), encoded) in computed
        .iter()
        .zip(EdwardsPoint::compress_batch_alloc(&points))
    {
        // R' lies in the prime-order subgroup, so R's bytes match only if R is its canonical
        // encoding; R' = identity would make R the identity, which is of small order.
        out[*i] = candidates[*i]
            .signature
            .is_some_and(|sig| encoded.as_bytes() == sig.r_bytes())
            && !r.is_identity();
    }
    out
}

/// `s` (if canonical) and `k = SHA-512(R || A || message) mod ℓ`.
fn scalars(key: &VerifyingKey, message: &[u8], signature: &Signature) -> Option<(Scalar, Scalar)> {
    let s: Option<Scalar> = Scalar::from_canonical_bytes(*signature.s_bytes()).into();
    let mut h = Sha512::new();
    h.update(signature.r_bytes());
    h.update(key.as_bytes());
    h.update(message);
    Some((s?, Scalar::from_bytes_mod_order_wide(&h.finalize().into())))
}

/// Whether the 255-bit little-endian `y` of an encoded point is below p = 2^255 - 19.
fn is_canonical_y(bytes: &[u8; 32]) -> bool {
    let top = bytes[31] & 0x7f;
    let all_ones = top == 0x7f && bytes[1..31].iter().all(|&b| b == 0xff);
    !(all_ones && bytes[0] >= 0xed)
}

pub mod vectors;

#[cfg(test)]
mod tests;
