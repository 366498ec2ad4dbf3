//! The signature rule end to end (issue 13): a record whose signature has a torsion component
//! in `R` is refused by `hubnet verify`, `hubnet import` and a running node alike, and the
//! committed vectors get the same verdicts from OpenSSL wherever the rule says valid.

use std::io::Write as _;
use std::path::Path;
use std::process::Command;

use hubnet_node::bundle::BundleWriter;
use hubnet_protocol::record::{self, Position, signing_message};
use hubnet_protocol::signature::vectors::{self, Defect};

use crate::support::{path, run, sample_charter, sample_key};

/// A HUB log of 41 records whose last signature carries `EIGHT_TORSION[torsion]` in `R`, with
/// `neighbours` honest KZ records around it, written as a bundle.
fn torsion_bundle(dir: &Path, torsion: usize, neighbours: usize) -> (std::path::PathBuf, String) {
    let charter = sample_charter();
    let now = hubnet_node::now_ms();
    let hub = hubnet_node::keyfile::read(&sample_key("HUB")).expect("HUB key");
    let kz = hubnet_node::keyfile::read(&sample_key("KZ")).expect("KZ key");
    let mut positions = [Position::FIRST];
    let mut log = hubnet_node::synth::practices(
        &charter,
        std::slice::from_ref(&hub),
        &mut positions,
        41,
        now,
    )
    .expect("signs");
    let mut last = log.pop().expect("41 records").signed;
    last.signature = vectors::sign_with(
        &hub.seed(),
        &signing_message(&last.header),
        Defect::TorsionInR(torsion),
    )
    .to_vec();
    let bad = last.id().to_hex();
    let mut kz_positions = [Position::FIRST];
    let others = hubnet_node::synth::practices(
        &charter,
        std::slice::from_ref(&kz),
        &mut kz_positions,
        neighbours,
        now,
    )
    .expect("signs");
    let file = dir.join(format!("torsion-{torsion}-{neighbours}.bundle"));
    let out = std::fs::File::create(&file).expect("creates");
    let mut w = BundleWriter::new(std::io::BufWriter::new(out), charter.signed()).expect("writes");
    let (before, after) = others.split_at(neighbours / 2);
    for r in before.iter().chain(&log) {
        w.write_record(&r.signed.encode()).expect("writes");
    }
    w.write_record(&last.encode()).expect("writes");
    for r in after {
        w.write_record(&r.signed.encode()).expect("writes");
    }
    w.finish().expect("finishes").flush().expect("flushes");
    (file, bad)
}

#[test]
fn a_torsion_component_in_r_is_refused_by_verify_and_import_every_time() {
    let tmp = tempfile::tempdir().expect("temp dir");
    // Different neighbours put the record in different batch positions and change the batch's
    // random coefficients: the verdict never changes.
    for (torsion, neighbours) in [(1, 0), (4, 7), (2, 23), (7, 64), (4, 90)] {
        let (bundle, bad) = torsion_bundle(tmp.path(), torsion, neighbours);
        let out = run(&["verify", path(&bundle)]);
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "torsion {torsion}: {text}");
        assert!(text.contains(&bad), "names the bad record: {text}");

        let data = tmp.path().join(format!("data-{torsion}-{neighbours}"));
        crate::support::init_data_dir(&data, &crate::support::sample().join("charter.toml"));
        let out = run(&["import", "--data-dir", path(&data), path(&bundle)]);
        let said = String::from_utf8_lossy(&out.stdout).to_string();
        assert_eq!(out.status.code(), Some(1), "torsion {torsion}: {said}");
        assert!(said.contains(", 1 skipped"), "{said}");
        let got = run(&["get", "--data-dir", path(&data), &bad]);
        assert!(!got.status.success(), "torsion {torsion}: stored {bad}");
        let log = crate::support::ok(&["log", "--data-dir", path(&data), "HUB"]);
        assert!(log.contains(": 40 records"), "{log}");
    }
}

/// Whether OpenSSL accepts `signature` by `key` over `message` (raw Ed25519).
fn openssl_verifies(dir: &Path, key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    // SubjectPublicKeyInfo for Ed25519: a fixed 12-byte prefix, then the key.
    let mut der = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    der.extend_from_slice(key);
    let (k, m, s) = (dir.join("key.der"), dir.join("msg"), dir.join("sig"));
    std::fs::write(&k, der).expect("writes");
    std::fs::write(&m, message).expect("writes");
    std::fs::write(&s, signature).expect("writes");
    Command::new("openssl")
        .args(["pkeyutl", "-verify", "-pubin", "-keyform", "DER", "-rawin"])
        .args(["-inkey", path(&k), "-in", path(&m), "-sigfile", path(&s)])
        .output()
        .expect("runs openssl")
        .status
        .success()
}

#[test]
fn openssl_accepts_every_vector_the_rule_accepts() {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("openssl not installed: this test did not run");
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    for v in vectors::all() {
        let key = hex::decode(&v.key).expect("hex");
        let message = hex::decode(&v.message).expect("hex");
        let signature = hex::decode(&v.signature).expect("hex");
        let openssl = openssl_verifies(tmp.path(), &key, &message, &signature);
        if v.valid {
            assert!(openssl, "{}: the rule accepts it, OpenSSL must too", v.name);
        }
        // OpenSSL is cofactorless and checks s: where it differs from the rule, the rule's
        // key check at the charter is what keeps such a key out.
        if !v.valid && openssl {
            assert!(
                v.defect.contains("key"),
                "{}: only a key defect may pass OpenSSL",
                v.name
            );
        }
    }
    // A record of the sample network signed by its member: both agree it is valid.
    let charter = sample_charter();
    let hub = hubnet_node::keyfile::read(&sample_key("HUB")).expect("HUB key");
    let mut positions = [Position::FIRST];
    let r =
        hubnet_node::synth::practices(&charter, std::slice::from_ref(&hub), &mut positions, 1, 0)
            .expect("signs")
            .remove(0);
    let message = signing_message(&r.signed.header);
    assert!(openssl_verifies(
        tmp.path(),
        hub.public_key().as_bytes(),
        &message,
        &r.signed.signature
    ));
    assert!(record::verify_record(&r.signed.encode(), &charter, 0).is_ok());
}
