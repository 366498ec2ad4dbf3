//! The web UI's pure modules under Node.js's own test runner (`tests/ui/*.test.js`): the
//! browser's check of the signed charter and decisions (`node/ui/trust.js`), held against this
//! crate's Rust implementation on bytes Rust signed (the fixture below: the sample network, a
//! governance log with a rotation, a revocation, a suspension, a void decision, a fork and a
//! gap, and charters and decisions Rust refuses, among them keys with a torsion component), and
//! the browser's signature verdict on the committed vectors of the signature rule
//! (`protocol/tests/vectors/ed25519.json`, `tests/ui/ed25519.test.js`), and erased records as the
//! node serves them (one erased by its author's erasure record, one by a committee decision in
//! the governance log), which the browser must verify as erased (`tests/ui/directory.test.js`).
//!
//! Needs `node` (Node.js ≥ 20) on the PATH. `.ci/run` sets `HUBNET_REQUIRE_NODE=1`, which turns
//! its absence into a failure; elsewhere the test says it did not run and passes.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hubnet_protocol::governance::{Action, DecisionDraft, Governance, sign_decision};
use hubnet_protocol::{RecordId, SecretKey};
use prost::Message;
use serde_json::{Value, json};

use crate::support::{sample, sample_charter, sample_key};

/// How long the whole Node.js run may take.
const LIMIT: Duration = Duration::from_secs(120);

fn key(name: &str) -> SecretKey {
    hubnet_node::keyfile::read(&sample_key(name)).expect("sample key")
}

/// A decision of the sample network signed by `signers` (committee key file names).
fn decision(
    seq: u64,
    prev: Option<RecordId>,
    action: Action,
    signers: &[&str],
) -> hubnet_proto::v1::SignedDecision {
    let bytes = DecisionDraft {
        seq,
        prev,
        created_at: 1_700_000_000_000 + seq as i64,
        reason: [("en".to_owned(), format!("decision {seq}"))].into(),
        action,
    }
    .encode(&sample_charter());
    hubnet_proto::v1::SignedDecision {
        signatures: signers
            .iter()
            .map(|k| sign_decision(&key(k), &bytes))
            .collect(),
        decision: bytes,
    }
}

fn id_of(d: &hubnet_proto::v1::SignedDecision) -> RecordId {
    use sha2::Digest;
    RecordId(sha2::Sha256::digest(&d.decision).into())
}

fn bundle(
    charter: hubnet_proto::v1::SignedCharter,
    decisions: Vec<hubnet_proto::v1::SignedDecision>,
) -> String {
    STANDARD.encode(
        hubnet_proto::v1::Bundle {
            version: 1,
            charter: Some(charter),
            decisions,
            ..Default::default()
        }
        .encode_to_vec(),
    )
}

/// The fixture: a bundle of the sample network with a governance log, what Rust makes of it, and
/// bundles Rust refuses with the check the browser must name.
fn fixture() -> Value {
    let charter = sample_charter();
    let quorum = ["committee-1", "committee-3"];
    let kz_new = SecretKey::from_seed([91; 32]).public_key();
    let d1 = decision(
        1,
        None,
        Action::RotateKey {
            code: "KZ".into(),
            new_key: kz_new,
            old_key_last_seq: 2,
        },
        &quorum,
    );
    let d2 = decision(
        2,
        Some(id_of(&d1)),
        Action::RevokeKey {
            key: key("KG").public_key(),
            last_valid_seq: 5,
        },
        &quorum,
    );
    let d3 = decision(
        3,
        Some(id_of(&d2)),
        Action::Suspend {
            code: "HUB".into(),
            last_seq: 7,
        },
        &quorum,
    );
    // Void: TJ is a member already.
    let d4 = decision(
        4,
        Some(id_of(&d3)),
        Action::Admit {
            code: "TJ".into(),
            name: [("en".to_owned(), "Tajikistan".to_owned())].into(),
            key: SecretKey::from_seed([92; 32]).public_key(),
        },
        &quorum,
    );
    // A fork at seq 5, and a decision after a gap.
    let d5a = decision(
        5,
        Some(id_of(&d4)),
        Action::Reinstate { code: "HUB".into() },
        &quorum,
    );
    let d5b = decision(
        5,
        Some(id_of(&d4)),
        Action::Suspend {
            code: "UZ".into(),
            last_seq: 1,
        },
        &["committee-2", "committee-3"],
    );
    let d7 = decision(
        7,
        Some(id_of(&d5a)),
        Action::Suspend {
            code: "AM".into(),
            last_seq: 0,
        },
        &quorum,
    );
    // The vocabulary grows by a topic, an area and an indicator in it; redefining a topic is void.
    let names = |en: &str| -> std::collections::BTreeMap<String, String> {
        [("en", en), ("ru", "ру"), ("kk", "қаз")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    };
    let term = |slug: &str| hubnet_protocol::vocabulary::Term {
        slug: slug.into(),
        name: names(slug),
    };
    // After the fork's winner (the smaller id).
    let d6 = decision(
        6,
        Some(id_of(&d5a).min(id_of(&d5b))),
        Action::AmendVocabulary {
            additions: hubnet_protocol::Vocabulary {
                topics: vec![term("open-data")],
                reform_areas: vec![term("local-government")],
                indicators: vec![hubnet_protocol::vocabulary::Indicator {
                    code: "hub:municipal-e-services-share".into(),
                    name: names("Municipal e-services"),
                    unit: "percent".into(),
                    higher_is_better: true,
                    reform_area: "local-government".into(),
                }],
            },
        },
        &quorum,
    );
    let d7v = decision(
        7,
        Some(id_of(&d6)),
        Action::AmendVocabulary {
            additions: hubnet_protocol::Vocabulary {
                topics: vec![term("training")],
                ..Default::default()
            },
        },
        &quorum,
    );
    // An erasure decision at the end of the chain: it erases TJ's practice (never void).
    let erased_practice = tj_practice(&charter);
    let d8 = decision(
        8,
        Some(id_of(&d7v)),
        Action::EraseRecords {
            records: vec![erased_practice.id()],
            ground: hubnet_protocol::kinds::erasure::Ground::Order,
        },
        &quorum,
    );
    let d8_id = id_of(&d8);
    let all = vec![d1, d2, d3, d4, d5a, d5b, d6, d7v, d7, d8];
    let mut g = Governance::new(charter.clone());
    for d in &all {
        g.insert_bytes(&d.encode_to_vec())
            .expect("a valid decision");
    }
    let erasure = erased_records(&charter, g.charter(), &erased_practice, d8_id);
    let state = g.state();
    let status: serde_json::Map<String, Value> = state
        .status
        .iter()
        .map(|(id, s)| {
            let s = serde_json::to_value(s).expect("status");
            (id.to_hex(), s["status"].clone())
        })
        .collect();
    let keys: Vec<Value> = state
        .key_last_seqs()
        .iter()
        .map(|(k, last)| json!({"key": k.to_hex(), "member": state.keys.get(k), "last_seq": last}))
        .collect();
    assert!(
        status.values().any(|s| s == "void") && status.values().any(|s| s == "off_chain"),
        "the fixture covers void and off-chain decisions: {status:?}"
    );
    let vocabulary = json!({
        "topics": state.vocabulary.topics.iter().map(|t| &t.slug).collect::<Vec<_>>(),
        "reform_areas": state.vocabulary.reform_areas.iter().map(|t| &t.slug).collect::<Vec<_>>(),
        "indicators": state.vocabulary.indicators.iter().map(|i| &i.code).collect::<Vec<_>>(),
    });
    assert_eq!(vocabulary["topics"].as_array().map(Vec::len), Some(17));

    // Refused by Rust, and by the browser with this check named.
    let mut refused = Vec::new();
    let attacker = SecretKey::from_seed([66; 32]);
    let text = std::fs::read_to_string(sample().join("charter.toml")).expect("charter");
    let mut doc = hubnet_protocol::charter::CharterDoc::from_toml(&text).expect("toml");
    for m in &mut doc.members {
        if m.code == "KZ" {
            m.publishing_key = attacker.public_key().to_hex();
        }
    }
    let forged_bytes = doc.canonical_bytes().expect("canonical");
    let mut forged = charter.signed().clone();
    forged.charter = forged_bytes;
    assert!(hubnet_protocol::Charter::from_signed(&forged).is_err());
    refused.push(json!({
        "what": "the committee's signatures moved onto a charter with another KZ key",
        "check": "charter-signatures",
        "bundle": bundle(forged, vec![]),
    }));
    let mut below = charter.signed().clone();
    below.signatures.truncate(1);
    assert!(hubnet_protocol::Charter::from_signed(&below).is_err());
    refused.push(json!({
        "what": "one committee signature, quorum two",
        "check": "charter-signatures",
        "bundle": bundle(below, vec![]),
    }));
    let lone = decision(
        1,
        None,
        Action::Suspend {
            code: "KZ".into(),
            last_seq: 0,
        },
        &["committee-2"],
    );
    assert!(
        hubnet_protocol::governance::verify_decision(&lone, &charter).is_err(),
        "below quorum"
    );
    refused.push(json!({
        "what": "a decision with one committee signature",
        "check": "decisions",
        "bundle": bundle(charter.signed().clone(), vec![lone]),
    }));
    refused.extend(torsion_key_cases(&charter));
    json!({
        "bundle": bundle(charter.signed().clone(), all),
        "network_id": charter.network_id().to_hex(),
        "status": status,
        "keys": keys,
        "vocabulary": vocabulary,
        "refused": refused,
        "erasure": erasure,
        "erased": state
            .erased
            .iter()
            .map(|(r, d)| (r.to_hex(), Value::String(d.to_hex())))
            .collect::<serde_json::Map<_, _>>(),
    })
}

/// When the erased records of the fixture were signed (2026-07-01, after the sample expert's
/// consent date).
const ERASED_AT: i64 = 1_782_864_000_000;

/// A practice by TJ at seq 1 (the committee's erasure decision erases it).
fn tj_practice(charter: &hubnet_protocol::Charter) -> hubnet_protocol::SignedRecord {
    use hubnet_protocol::{Draft, DraftFormat, Position, record};
    let draft = Draft::parse(
        r#"{"kind": "practice", "title": {"en": "Erased by a decision"}, "summary": {"en": "S"}, "topics": ["training"]}"#,
        DraftFormat::Json,
    )
    .expect("draft");
    let body = draft
        .to_body("TJ", &charter.rules_at(ERASED_AT))
        .expect("body");
    record::sign(
        &key("TJ"),
        charter.network_id(),
        Position::FIRST,
        ERASED_AT,
        &body,
    )
}

/// Erased records as the node serves them (`hubnet_node::view::record_json` and `erased_by`),
/// each verified by Rust first: KZ's fictional sample expert erased by KZ's own erasure record
/// (seq 2), and `practice` erased by decision `decision` (verified under `governed`, the charter
/// with the decisions applied).
fn erased_records(
    charter: &hubnet_protocol::Charter,
    governed: &hubnet_protocol::Charter,
    practice: &hubnet_protocol::SignedRecord,
    decision: RecordId,
) -> Value {
    use hubnet_node::view::record_json;
    use hubnet_protocol::{Draft, DraftFormat, Position, record};
    let kz = key("KZ");
    let text = std::fs::read_to_string(
        crate::support::sample().join("drafts/KZ/40-expert-e-government.toml"),
    )
    .expect("the sample expert");
    let body = Draft::parse(&text, DraftFormat::Toml)
        .and_then(|d| d.to_body("KZ", &charter.rules_at(ERASED_AT)))
        .expect("the sample expert's body");
    let signed = record::sign(&kz, charter.network_id(), Position::FIRST, ERASED_AT, &body);
    let expert = record::verify_record(&signed.encode(), charter, ERASED_AT).expect("the expert");
    let erasure_body = Draft::parse(
        &format!(
            r#"{{"kind": "erasure", "target": "{}", "ground": "consent_withdrawn"}}"#,
            expert.id.to_hex()
        ),
        DraftFormat::Json,
    )
    .and_then(|d| d.to_body("KZ", &charter.rules_at(ERASED_AT + 1000)))
    .expect("the erasure's body");
    let erasure = record::sign(
        &kz,
        charter.network_id(),
        Position::after(&expert),
        ERASED_AT + 1000,
        &erasure_body,
    );
    let by_record = record::verify_record(
        &signed.erased(erasure.encode()).encode(),
        charter,
        ERASED_AT + 2000,
    )
    .expect("Rust accepts the record erased by its author");
    let mut by_record_json = record_json(&by_record);
    by_record_json["erased_by"] = json!({"record": erasure.id().to_hex()});
    let by_decision = record::verify_record(
        &practice.erased(Vec::new()).encode(),
        governed,
        ERASED_AT + 2000,
    )
    .expect("Rust accepts the record a decision erased");
    assert!(
        record::verify_record(
            &practice.erased(Vec::new()).encode(),
            charter,
            ERASED_AT + 2000
        )
        .is_err(),
        "without the decision it is withheld"
    );
    let mut by_decision_json = record_json(&by_decision);
    by_decision_json["erased_by"] = json!({"decision": decision.to_hex()});
    json!({
        "by_record": by_record_json,
        "proof": erasure.id().to_hex(),
        "by_decision": by_decision_json,
        "decision": decision.to_hex(),
    })
}

/// Keys with a torsion component (the base point plus each of the seven small-order points other
/// than the identity) where keys enter: a charter member's and a committee key, the key a decision
/// admits and the one it rotates to. Rust refuses each (`PublicKey::from_bytes` refuses the key
/// via `signature::check_point`), and the browser must too, naming the check and `torsion`.
fn torsion_key_cases(charter: &hubnet_protocol::Charter) -> Vec<Value> {
    use hubnet_protocol::keys::KeyError;
    use hubnet_protocol::signature::PointDefect;
    use hubnet_protocol::signature::vectors::mixed_order_point;
    let signers = [key("committee-1"), key("committee-3")];
    let replaced = key("committee-2").public_key();
    let genesis =
        hubnet_proto::v1::Charter::decode(charter.signed().charter.as_slice()).expect("charter");
    let sign_charter = |c: &hubnet_proto::v1::Charter| {
        let bytes = c.encode_to_vec();
        let message = [b"hubnet-charter-v1\0".as_slice(), &bytes].concat();
        hubnet_proto::v1::SignedCharter {
            signatures: signers
                .iter()
                .map(|k| hubnet_proto::v1::CharterSignature {
                    key: k.public_key().as_bytes().to_vec(),
                    signature: k.sign(&message).to_vec(),
                })
                .collect(),
            charter: bytes,
        }
    };
    let mut out = Vec::new();
    for i in 1..8 {
        let mixed = mixed_order_point(i);
        assert!(
            matches!(
                hubnet_protocol::PublicKey::from_bytes(mixed),
                Err(KeyError::InvalidPoint {
                    defect: PointDefect::Torsion,
                    ..
                })
            ),
            "Rust refuses the mixed-order key {i} for its torsion"
        );
        let torsioned = hubnet_protocol::PublicKey::from_bytes_unchecked(mixed);

        // A charter naming it as KZ's key, signed by a quorum of the committee.
        let mut c = genesis.clone();
        for m in &mut c.members {
            if m.code == "KZ" {
                m.publishing_key = mixed.to_vec();
            }
        }
        let signed = sign_charter(&c);
        let err = hubnet_protocol::Charter::from_signed(&signed).expect_err("a torsion member key");
        assert!(err.to_string().contains("torsion"), "{err}");
        out.push(json!({
            "what": format!("KZ's charter key has a torsion component ({i})"),
            "check": "charter-keys",
            "want": {"problem": "torsion", "who": "KZ"},
            "bundle": bundle(signed, vec![]),
        }));

        // A charter with it as a committee key (in place of committee-2's; keys in byte order).
        let mut c = genesis.clone();
        let committee = c.committee.as_mut().expect("committee");
        for k in &mut committee.keys {
            if k.as_slice() == replaced.as_bytes() {
                *k = mixed.to_vec();
            }
        }
        committee.keys.sort();
        let signed = sign_charter(&c);
        let err =
            hubnet_protocol::Charter::from_signed(&signed).expect_err("a torsion committee key");
        assert!(err.to_string().contains("torsion"), "{err}");
        out.push(json!({
            "what": format!("a committee key has a torsion component ({i})"),
            "check": "charter-keys",
            "want": {"problem": "torsion", "who": "committee"},
            "bundle": bundle(signed, vec![]),
        }));

        // Decisions admitting it and rotating KZ to it, signed by a quorum.
        let admit = Action::Admit {
            code: "MN".into(),
            name: [("en".to_owned(), "Mongolia".to_owned())].into(),
            key: torsioned,
        };
        let rotate = Action::RotateKey {
            code: "KZ".into(),
            new_key: torsioned,
            old_key_last_seq: 0,
        };
        for (what, action) in [("admitted", admit), ("rotated to", rotate)] {
            let d = decision(1, None, action, &["committee-1", "committee-3"]);
            let err = hubnet_protocol::governance::verify_decision(&d, charter)
                .expect_err("a decision with a torsion key");
            assert!(
                err.to_string().contains("not a valid Ed25519 public key"),
                "{err}"
            );
            out.push(json!({
                "what": format!("the key a decision {what} has a torsion component ({i})"),
                "check": "decisions",
                "want": {"reason": "key", "problem": "torsion"},
                "bundle": bundle(charter.signed().clone(), vec![d]),
            }));
        }
    }
    out
}

/// Whether `node` runs here; panics when CI requires it and it does not.
fn node_available() -> bool {
    let here = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !here {
        assert!(
            std::env::var_os("HUBNET_REQUIRE_NODE").is_none(),
            "HUBNET_REQUIRE_NODE is set but `node` does not run"
        );
        eprintln!("UI unit tests NOT RUN: no `node` (Node.js ≥ 20) on the PATH");
    }
    here
}

/// Copies `from`'s `.js` files into `to`.
fn copy_js(from: &Path, to: &Path) -> Vec<String> {
    std::fs::create_dir_all(to).expect("mkdir");
    let mut names = Vec::new();
    for e in std::fs::read_dir(from)
        .expect("read dir")
        .filter_map(Result::ok)
    {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(".js") {
            std::fs::copy(e.path(), to.join(&name)).expect("copy");
            names.push(name);
        }
    }
    names.sort();
    names
}

#[test]
fn the_browser_trust_module_passes_its_unit_tests_and_agrees_with_rust() {
    if !node_available() {
        return;
    }
    // The modules are plain ES modules without a package.json of their own: copied beside one
    // that says so, any Node.js ≥ 20 runs them without flags.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("package.json"), r#"{"type": "module"}"#).expect("write");
    copy_js(&repo.join("node/ui"), &dir.path().join("node/ui"));
    let tests = copy_js(&repo.join("tests/ui"), &dir.path().join("tests/ui"));
    let tests: Vec<String> = tests
        .into_iter()
        .filter(|n| n.ends_with(".test.js"))
        .map(|n| format!("tests/ui/{n}"))
        .collect();
    assert!(!tests.is_empty(), "no tests/ui/*.test.js");
    let fixture_path = dir.path().join("fixture.json");
    std::fs::write(&fixture_path, fixture().to_string()).expect("write the fixture");
    let out = std::fs::File::create(dir.path().join("out.txt")).expect("out");
    let mut child = Command::new("node")
        .arg("--test")
        .args(&tests)
        .current_dir(dir.path())
        .env("HUBNET_TRUST_FIXTURE", &fixture_path)
        .env(
            "HUBNET_ED25519_VECTORS",
            repo.join("protocol/tests/vectors/ed25519.json"),
        )
        .stdout(out.try_clone().expect("clone"))
        .stderr(out)
        .spawn()
        .expect("node starts");
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("node --test did not finish within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(100)); // poll interval of this deadline loop
    };
    let output = std::fs::read_to_string(dir.path().join("out.txt")).unwrap_or_default();
    assert!(status.success(), "node --test failed:\n{output}");
    assert!(output.contains("# fail 0"), "{output}");
    assert!(
        output.contains("# skipped 0"),
        "the Rust cross-check ran: {output}"
    );
}
