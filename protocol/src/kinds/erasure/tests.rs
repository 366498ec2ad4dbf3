//! Erasure rules (docs/PROTOCOL.md §2.1): the body rules, the proof an erased record travels
//! with, the chain rule on the amendments listed, the committee's `EraseRecords` decision, and
//! what a bundle check makes of erased records.

use std::collections::BTreeMap;

use hubnet_proto::v1 as pb;

use super::*;
use crate::bundle::{BundleCheck, ProblemKind};
use crate::chain::{ChainError, check_erasure};
use crate::charter::Charter;
use crate::charter::tests::sample;
use crate::governance::{Action, DecisionDraft, Governance, sign_decision, verify_decision};
use crate::record::{self, Body, Position, Record, RecordError, SignedRecord};
use crate::{Draft, DraftFormat, RecordId, SecretKey};

const NOW: i64 = 1_800_000_000_000;

struct Net {
    charter: Charter,
    keys: Vec<SecretKey>,
    committee: Vec<SecretKey>,
}

fn net() -> Net {
    let (doc, keys, committee) = sample(3);
    Net {
        charter: doc.verify().expect("valid sample charter"),
        keys,
        committee,
    }
}

fn body(net: &Net, json: serde_json::Value) -> Body {
    Draft::parse(&json.to_string(), DraftFormat::Json)
        .expect("parses")
        .to_body("KZ", &net.charter.rules())
        .expect("valid")
}

fn practice(net: &Net) -> Body {
    body(
        net,
        serde_json::json!({"kind": "practice", "title": {"en": "A profile"},
                           "summary": {"en": "s"}, "topics": ["recruitment"]}),
    )
}

fn erasure_of(target: RecordId, amendments: &[RecordId]) -> Body {
    Body::Erasure(pb::Erasure {
        target: target.0.to_vec(),
        amendments: amendments.iter().map(|a| a.0.to_vec()).collect(),
        ground: pb::ErasureGround::ConsentWithdrawn as i32,
    })
}

/// A log of `key`: a practice, an amendment of it, then an erasure of both.
fn log(net: &Net, key: usize) -> [Record; 3] {
    let sign = |position, body: &Body| {
        let s = record::sign(
            &net.keys[key],
            net.charter.network_id(),
            position,
            NOW,
            body,
        );
        record::verify_record(&s.encode(), &net.charter, NOW).expect("valid")
    };
    let target = sign(Position::FIRST, &practice(net));
    let amendment = sign(
        Position::after(&target),
        &body(
            net,
            serde_json::json!({"kind": "amendment", "target": target.id.to_hex(),
                "record": {"kind": "practice", "title": {"en": "v2"},
                           "summary": {"en": "s"}, "topics": ["recruitment"]}}),
        ),
    );
    let erasure = sign(
        Position::after(&amendment),
        &erasure_of(target.id, &[amendment.id]),
    );
    [target, amendment, erasure]
}

fn verify(net: &Net, signed: &SignedRecord) -> Result<Record, RecordError> {
    record::verify_record(&signed.encode(), &net.charter, NOW)
}

#[test]
fn body_rules() {
    let rules = crate::Rules::template();
    let ok = pb::Erasure {
        target: vec![1; 32],
        amendments: vec![vec![2; 32]],
        ground: pb::ErasureGround::Order as i32,
    };
    assert_eq!(validate(&ok, &rules), Ok(()));
    let with = |f: &dyn Fn(&mut pb::Erasure)| {
        let mut e = ok.clone();
        f(&mut e);
        validate(&e, &rules)
    };
    assert!(matches!(
        with(&|e| e.target = vec![1; 31]),
        Err(BodyError::InvalidDigest { field, len: 31 }) if field == "target"
    ));
    assert!(matches!(
        with(&|e| e.amendments.push(vec![3; 33])),
        Err(BodyError::InvalidDigest { field, .. }) if field == "amendments[1]"
    ));
    assert!(matches!(
        with(&|e| e.amendments.push(vec![2; 32])),
        Err(BodyError::Duplicate { field, .. }) if field == "amendments[1]"
    ));
    assert!(matches!(
        with(&|e| e.amendments.push(vec![1; 32])),
        Err(BodyError::Duplicate { .. })
    ));
    for ground in [0, 99] {
        assert_eq!(
            with(&|e| e.ground = ground),
            Err(BodyError::InvalidEnum {
                field: "ground".into(),
                value: ground
            })
        );
    }
    assert_eq!(erased_ids(&ok), vec![RecordId([1; 32]), RecordId([2; 32])]);
}

#[test]
fn grounds_round_trip_and_drafts_read_back() {
    for g in Ground::ALL {
        assert_eq!(Ground::from_proto(g.to_proto() as i32), Some(g));
        let json = serde_json::to_value(g).expect("json");
        assert_eq!(json, serde_json::json!(g.name()));
    }
    let net = net();
    let draft = format!(
        r#"kind = "erasure"
target = "{}"
ground = "unlawful""#,
        "ab".repeat(32)
    );
    let b = Draft::parse(&draft, DraftFormat::Toml)
        .expect("parses")
        .to_body("KZ", &net.charter.rules())
        .expect("valid");
    assert_eq!(b.kind(), crate::Kind::Erasure);
    assert_eq!(b.erases(), vec![RecordId([0xab; 32])]);
    assert_eq!(b.target(), Some(RecordId([0xab; 32])));
    let view = Draft::from_body(&b).expect("not erased");
    assert_eq!(view.to_body("KZ", &net.charter.rules()).expect("valid"), b);
    assert_eq!(
        Draft::from_body(&Body::Erased {
            kind: crate::Kind::Event
        }),
        None
    );
}

#[test]
fn an_erased_record_verifies_only_with_its_proof() {
    let net = net();
    let [target, amendment, erasure] = log(&net, 1);
    let proof = erasure.signed.encode();
    for r in [&target, &amendment] {
        let got = verify(&net, &r.signed.erased(proof.clone())).expect("verifies");
        assert_eq!(
            got.body,
            Body::Erased {
                kind: r.header.kind
            }
        );
        assert_eq!(got.id, r.id);
    }
    // No proof: withheld.
    assert_eq!(
        verify(&net, &target.signed.erased(Vec::new())).map(|r| r.id),
        Err(RecordError::BodyWithheld(target.id))
    );
    let bad = |proof: Vec<u8>| match verify(&net, &target.signed.erased(proof)) {
        Err(RecordError::BadErasureProof(_)) => {}
        other => panic!("expected a bad proof, got {other:?}"),
    };
    // Another author's erasure naming it.
    let [_, _, theirs] = log(&net, 2);
    let mut forged = theirs.body.clone();
    if let Body::Erasure(e) = &mut forged {
        e.target = target.id.0.to_vec();
    }
    let forged = record::sign(
        &net.keys[2],
        net.charter.network_id(),
        Position::after(&theirs),
        NOW,
        &forged,
    );
    bad(forged.encode());
    // An erasure of the author that does not name it.
    let [_, _, other] = log(&net, 1);
    let mut unrelated = erasure_of(RecordId([9; 32]), &[]);
    if let Body::Erasure(e) = &mut unrelated {
        e.target = other.id.0.to_vec();
    }
    let unrelated = record::sign(
        &net.keys[1],
        net.charter.network_id(),
        Position::after(&erasure),
        NOW,
        &unrelated,
    );
    bad(unrelated.encode());
    // The proof must be a later record: the same erasure signed at an earlier seq.
    let early = record::sign(
        &net.keys[1],
        net.charter.network_id(),
        Position::FIRST,
        NOW,
        &erasure.body,
    );
    bad(early.encode());
    // A proof without its own body, one whose signature fails, and garbage.
    bad(erasure.signed.erased(Vec::new()).encode());
    let mut tampered = erasure.signed.clone();
    tampered.signature[0] ^= 1;
    bad(tampered.encode());
    bad(vec![0xff; 7]);
    // A record with its body carries no proof.
    let mut both = target.signed.clone();
    both.erasure = proof;
    assert!(matches!(
        verify(&net, &both),
        Err(RecordError::BadErasureProof(_))
    ));
}

#[test]
fn the_amendments_listed_must_be_exactly_those_held() {
    let net = net();
    let [target, amendment, erasure] = log(&net, 1);
    assert_eq!(check_erasure(&erasure, &[amendment.id]), Ok(()));
    assert!(matches!(
        check_erasure(&erasure, &[]),
        Err(ChainError::ErasureAmendments { target: t, .. }) if t == target.id
    ));
    assert!(matches!(
        check_erasure(&erasure, &[amendment.id, RecordId([5; 32])]),
        Err(ChainError::ErasureAmendments { .. })
    ));
    // Other kinds pass.
    assert_eq!(check_erasure(&target, &[RecordId([5; 32])]), Ok(()));
}

fn decided(net: &Net, action: Action) -> Governance {
    let mut gov = Governance::new(net.charter.clone());
    let bytes = DecisionDraft {
        seq: 1,
        prev: None,
        created_at: NOW,
        reason: BTreeMap::from([("en".to_owned(), "Erasure request.".to_owned())]),
        action,
    }
    .encode(&net.charter);
    let signed = pb::SignedDecision {
        decision: bytes.clone(),
        signatures: net.committee[..2]
            .iter()
            .map(|k| sign_decision(k, &bytes))
            .collect(),
    };
    let d = verify_decision(&signed, &net.charter).expect("a quorum-signed decision verifies");
    assert!(gov.insert(d));
    gov
}

#[test]
fn a_committee_decision_erases_without_the_authors_proof() {
    let net = net();
    let [target, amendment, _] = log(&net, 1);
    let gov = decided(
        &net,
        Action::EraseRecords {
            records: vec![target.id, amendment.id],
            ground: Ground::Order,
        },
    );
    let charter = gov.charter();
    let decision = *gov.decisions().keys().next().expect("one decision");
    assert_eq!(charter.erased_by(&target.id), Some(decision));
    assert_eq!(charter.erased_by(&RecordId([3; 32])), None);
    assert_eq!(
        charter.erased_by_decisions(),
        &BTreeMap::from([(target.id, decision), (amendment.id, decision)])
    );
    assert!(net.charter.erased_by_decisions().is_empty());
    let got = record::verify_record(&target.signed.erased(Vec::new()).encode(), charter, NOW)
        .expect("a decision is the proof");
    assert!(got.body.is_erased());
    assert!(
        gov.decisions()[&decision]
            .action
            .describe()
            .starts_with("erase 2 records (order): ")
    );
}

#[test]
fn erase_records_decisions_must_be_well_formed() {
    let net = net();
    let with = |records: Vec<Vec<u8>>, ground: i32| {
        let bytes = pb::Decision {
            network_id: net.charter.network_id().0.to_vec(),
            seq: 1,
            created_at: NOW,
            action: Some(pb::decision::Action::EraseRecords(pb::EraseRecords {
                records,
                ground,
            })),
            ..Default::default()
        };
        let bytes = prost::Message::encode_to_vec(&bytes);
        let signed = pb::SignedDecision {
            decision: bytes.clone(),
            signatures: net.committee[..2]
                .iter()
                .map(|k| sign_decision(k, &bytes))
                .collect(),
        };
        verify_decision(&signed, &net.charter).map(|d| d.action)
    };
    assert!(with(vec![vec![1; 32]], 1).is_ok());
    assert!(with(vec![], 1).is_err(), "no record");
    assert!(with(vec![vec![1; 31]], 1).is_err(), "a short id");
    assert!(
        with(vec![vec![1; 32], vec![1; 32]], 1).is_err(),
        "an id twice"
    );
    assert!(with(vec![vec![1; 32]], 0).is_err(), "no ground");
}

#[test]
fn a_bundle_reports_erased_records_as_erased_and_withheld_bodies_as_withheld() {
    let net = net();
    let [target, amendment, erasure] = log(&net, 1);
    let proof = erasure.signed.encode();
    let mut check = BundleCheck::new(&net.charter, NOW);
    check.add(&target.signed.erased(proof.clone()).encode());
    check.add(&amendment.signed.erased(proof).encode());
    check.add(&erasure.signed.encode());
    let report = check.finish();
    assert!(report.is_clean(), "{:?}", report.problems);
    let kz = report
        .members
        .iter()
        .find(|m| m.records == 3)
        .expect("the author's summary");
    assert_eq!(kz.erased, 2);

    let mut check = BundleCheck::new(&net.charter, NOW);
    check.add(&target.signed.erased(Vec::new()).encode());
    let report = check.finish();
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert_eq!(report.problems[0].kind, ProblemKind::Withheld);

    // An erasure that leaves out an amendment held with its body.
    let lacking = record::sign(
        &net.keys[1],
        net.charter.network_id(),
        Position::after(&amendment),
        NOW,
        &erasure_of(target.id, &[]),
    );
    let mut check = BundleCheck::new(&net.charter, NOW);
    for s in [&target.signed, &amendment.signed, &lacking] {
        check.add(&s.encode());
    }
    let report = check.finish();
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert_eq!(report.problems[0].kind, ProblemKind::Chain);
    assert!(
        report.problems[0]
            .message
            .contains("does not list its amendment")
    );
}

#[test]
fn a_bundle_refuses_amending_retracting_or_erasing_an_erased_record() {
    let net = net();
    let [target, amendment, erasure] = log(&net, 1);
    let proof = erasure.signed.encode();
    let late_bodies = [
        body(
            &net,
            serde_json::json!({"kind": "amendment", "target": target.id.to_hex(),
                "record": {"kind": "practice", "title": {"en": "v3"},
                           "summary": {"en": "s"}, "topics": ["recruitment"]}}),
        ),
        body(
            &net,
            serde_json::json!({"kind": "retraction", "target": target.id.to_hex(),
                               "reason": {"en": "Superseded"}}),
        ),
        erasure_of(target.id, &[amendment.id]),
    ];
    for late in late_bodies {
        let late = record::sign(
            &net.keys[1],
            net.charter.network_id(),
            Position::after(&erasure),
            NOW,
            &late,
        );
        let mut check = BundleCheck::new(&net.charter, NOW);
        check.add(&target.signed.erased(proof.clone()).encode());
        check.add(&amendment.signed.erased(proof.clone()).encode());
        check.add(&erasure.signed.encode());
        check.add(&late.encode());
        let report = check.finish();
        assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
        let p = &report.problems[0];
        assert_eq!((p.kind, p.seq), (ProblemKind::Chain, Some(4)));
        assert_eq!(
            p.message,
            format!("seq 4: target {} was erased", target.id),
            "{p:?}"
        );
    }
}

#[test]
fn a_record_whose_body_is_empty_is_judged_by_its_body_rules_not_as_erased() {
    let net = net();
    // An erasure with every field left out encodes to no bytes at all: its header declares a
    // body of length 0, which is not an erased body.
    let empty = Body::Erasure(pb::Erasure::default());
    let signed = record::sign(
        &net.keys[1],
        net.charter.network_id(),
        Position::FIRST,
        NOW,
        &empty,
    );
    assert!(signed.body.is_empty());
    assert_eq!(
        verify(&net, &signed).map(|r| r.id),
        Err(RecordError::Body(BodyError::InvalidDigest {
            field: "target".into(),
            len: 0
        }))
    );
}

#[test]
fn a_proof_must_carry_its_own_body_and_no_proof_of_its_own() {
    let net = net();
    let [target, _, erasure] = log(&net, 1);
    let reason = |proof: &SignedRecord| match verify(&net, &target.signed.erased(proof.encode())) {
        Err(RecordError::BadErasureProof(reason)) => reason,
        other => panic!("expected a bad proof, got {other:?}"),
    };
    let own = "the erasure must carry its own body";
    // Without its body (a node that erased the erasure itself would serve it so).
    assert_eq!(reason(&erasure.signed.erased(Vec::new())), own);
    // With its body and a proof of its own.
    let mut nested = erasure.signed.clone();
    nested.erasure = erasure.signed.encode();
    assert_eq!(reason(&nested), own);
    // Both wrong at once.
    assert_eq!(reason(&erasure.signed.erased(erasure.signed.encode())), own);
}
