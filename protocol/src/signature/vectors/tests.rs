//! The generator's own promises, for every torsion point (the vectors use only a few): each
//! point and each defective signature is what its documentation says.

use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;

use super::*;

fn point(bytes: &[u8]) -> EdwardsPoint {
    let bytes: [u8; 32] = bytes.try_into().expect("32 bytes");
    CompressedEdwardsY(bytes).decompress().expect("a point")
}

/// Whether `[s]B = R + [k]A` holds exactly: the cofactorless equation.
fn cofactorless(key: &[u8; 32], message: &[u8], sig: &[u8; 64]) -> bool {
    let s_bytes: [u8; 32] = sig[32..].try_into().expect("32 bytes");
    let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes)).expect("canonical s");
    let r_bytes: [u8; 32] = sig[..32].try_into().expect("32 bytes");
    let k = challenge(&r_bytes, key, message);
    EdwardsPoint::mul_base(&s) == point(&r_bytes) + k * point(key)
}

#[test]
fn torsion_points_are_the_eight_points_of_small_order() {
    let identity = {
        let mut b = [0u8; 32];
        b[0] = 1;
        b
    };
    assert_eq!(torsion_point(0), identity);
    for (i, t) in EIGHT_TORSION.iter().enumerate() {
        assert_eq!(point(&torsion_point(i)), *t, "{i}");
        assert_eq!(torsion_point(i + 8), torsion_point(i), "{i} + 8");
    }
}

#[test]
fn a_mixed_order_point_is_the_basepoint_plus_a_torsion_point() {
    for (i, t) in EIGHT_TORSION.iter().enumerate() {
        assert_eq!(
            point(&mixed_order_point(i)) - ED25519_BASEPOINT_POINT,
            *t,
            "{i}"
        );
        assert_eq!(mixed_order_point(i + 8), mixed_order_point(i), "{i} + 8");
    }
}

#[test]
fn a_key_with_a_torsion_component_signs_under_the_cofactorless_equation() {
    let seed = [7u8; 32];
    let m = message();
    let honest_key = point(&public_key(&seed));
    for (torsion, t) in EIGHT_TORSION.iter().enumerate().skip(1) {
        for torsion_in_r in [false, true] {
            let case = format!("torsion {torsion}, in R too: {torsion_in_r}");
            let (key, sig) = sign_with_torsion_key(&seed, &m, torsion, torsion_in_r);
            assert_eq!(point(&key) - honest_key, *t, "{case}");
            assert!(cofactorless(&key, &m, &sig), "{case}");
            assert_eq!(point(&sig[..32]).is_torsion_free(), !torsion_in_r, "{case}");
        }
    }
}
