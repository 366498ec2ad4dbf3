//! Tests of governance, checkpoints and audits: decisions and their refusals, the state decisions
//! produce and how records are judged under it, property tests of order independence (of the
//! governance log and of a node receiving records and decisions in any order), signed checkpoints,
//! and audits that compare an honest source with a misbehaving one.

use std::collections::{BTreeMap, BTreeSet};

use hubnet_proto::v1 as pb;
use proptest::prelude::*;
use prost::Message;

use crate::audit::{AuditReport, Auditor, SourceInput};
use crate::bundle::{BundleCheck, MemberSummary, Problem, ProblemKind};
use crate::chain::{self, Append, ChainHead};
use crate::charter::Charter;
use crate::charter::tests::sample;
use crate::checkpoint::{self, Checkpoint, CheckpointError, Conflict};
use crate::governance::{
    Action, Decision, DecisionDraft, DecisionId, DecisionStatus, Governance, GovernanceError,
    MAX_DECISION_BYTES, check_proposal, sign_decision, verify_decision, verify_decision_bytes,
};
use crate::id::sha256;
use crate::record::{self, Body, Position, Record, RecordError, SignedRecord};
use crate::sync::{HeadRef, Summary, SyncError};
use crate::validate::BodyError;
use crate::{Draft, DraftError, DraftFormat, Limits, PublicKey, RecordId, SecretKey, Vocabulary};

/// The verifier's clock.
const NOW: i64 = 1_800_000_000_000;
/// Records are created an hour before `NOW`, so audits count them as settled.
const T0: i64 = NOW - 3_600_000;
/// Decisions are proposed two hours before `NOW`.
const T_GOV: i64 = NOW - 7_200_000;
/// How long an audit lets records travel before their absence counts.
const GRACE: i64 = 60_000;

/// Member indexes in [`sample`]: HUB has seed [1; 32], KZ [2; 32], KG [3; 32].
const HUB: usize = 0;
const KZ: usize = 1;
const KG: usize = 2;

struct Net {
    genesis: Charter,
    members: Vec<SecretKey>,
    committee: Vec<SecretKey>,
}

fn net() -> Net {
    let (doc, members, committee) = sample(3);
    Net {
        genesis: doc.verify().expect("valid sample charter"),
        members,
        committee,
    }
}

/// A key no charter member holds.
fn fresh_key(seed: u8) -> SecretKey {
    SecretKey::from_seed([seed; 32])
}

fn draft(seq: u64, prev: Option<DecisionId>, created_at: i64, action: Action) -> DecisionDraft {
    DecisionDraft {
        seq,
        prev,
        created_at,
        reason: BTreeMap::from([("en".to_owned(), "Test decision.".to_owned())]),
        action,
    }
}

/// `bytes` (an encoded `Decision`) signed by `signers`, in that order.
fn signed_by(bytes: &[u8], signers: &[&SecretKey]) -> pb::SignedDecision {
    pb::SignedDecision {
        decision: bytes.to_vec(),
        signatures: signers.iter().map(|k| sign_decision(k, bytes)).collect(),
    }
}

impl Net {
    fn gov(&self) -> Governance {
        Governance::new(self.genesis.clone())
    }

    /// A decision signed by a quorum (committee keys 0 and 1).
    fn signed(
        &self,
        seq: u64,
        prev: Option<DecisionId>,
        created_at: i64,
        action: Action,
    ) -> pb::SignedDecision {
        let bytes = draft(seq, prev, created_at, action).encode(&self.genesis);
        signed_by(&bytes, &[&self.committee[0], &self.committee[1]])
    }

    fn decision(
        &self,
        seq: u64,
        prev: Option<DecisionId>,
        created_at: i64,
        action: Action,
    ) -> Decision {
        verify_decision(&self.signed(seq, prev, created_at, action), &self.genesis)
            .expect("a quorum-signed decision verifies")
    }

    /// Decides `action` at the end of `gov`'s canonical chain and inserts it.
    fn decide(&self, gov: &mut Governance, action: Action) -> Decision {
        let (seq, prev) = gov.next_position();
        let d = self.decision(seq, prev, T_GOV + seq as i64, action);
        assert!(gov.insert(d.clone()), "a new decision");
        d
    }
}

fn practice(title: &str) -> Body {
    let json = serde_json::json!({
        "kind": "practice",
        "title": {"en": title},
        "summary": {"en": "Open competitions."},
        "topics": ["recruitment"]
    });
    Draft::parse(&json.to_string(), DraftFormat::Json)
        .expect("parses")
        .build_body("KZ")
        .expect("builds")
}

/// The record after `prev` (or the first) in `key`'s log, created at `created_at`.
fn next_record(
    key: &SecretKey,
    charter: &Charter,
    prev: Option<&SignedRecord>,
    created_at: i64,
    body: &Body,
) -> SignedRecord {
    let position = match prev {
        None => Position::FIRST,
        Some(p) => {
            let h = record::Header::decode(&p.header).expect("header");
            Position {
                seq: h.seq + 1,
                prev: Some(p.id()),
                prev_created_at: h.created_at,
            }
        }
    };
    record::sign(key, charter.network_id(), position, created_at, body)
}

/// `n` records of `key`'s log, seq 1 first, the one at seq s created at `t0 + s`.
fn log_of(key: &SecretKey, charter: &Charter, n: u64, t0: i64) -> Vec<SignedRecord> {
    let mut out: Vec<SignedRecord> = Vec::new();
    for seq in 1..=n {
        let r = next_record(
            key,
            charter,
            out.last(),
            t0 + seq as i64,
            &practice(&format!("Practice {seq}")),
        );
        out.push(r);
    }
    out
}

/// The one helper of the state tests: verifies `r` under `charter` (a governance's charter).
fn check(charter: &Charter, r: &SignedRecord, expected: Result<(), RecordError>) {
    let got = record::verify_record(&r.encode(), charter, NOW).map(|_| ());
    assert_eq!(got, expected);
}

fn key_not_valid(key: &SecretKey, member: &str, seq: u64, last_seq: u64) -> RecordError {
    RecordError::KeyNotValid {
        author: key.public_key().to_hex(),
        member: member.into(),
        seq,
        last_seq,
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Decisions
// ---------------------------------------------------------------------------------------------

/// The one helper of the decision tests: `signed` is refused with `expected` (as a struct and as
/// bytes), and the message names every string in `shown`.
fn check_refused(
    charter: &Charter,
    signed: &pb::SignedDecision,
    expected: GovernanceError,
    shown: &[&str],
) {
    let err = verify_decision(signed, charter).expect_err("refused");
    assert_eq!(err, expected);
    let text = err.to_string();
    for s in shown {
        assert!(text.contains(s), "{text:?} should contain {s:?}");
    }
    assert_eq!(
        verify_decision_bytes(&signed.encode_to_vec(), charter).expect_err("refused as bytes"),
        expected
    );
}

#[test]
fn a_quorum_of_committee_signatures_makes_a_decision() {
    let net = net();
    let c = &net.committee;
    let bytes = draft(1, None, T_GOV, Action::Reinstate { code: "KZ".into() }).encode(&net.genesis);

    // One signature of the two needed: a valid proposal, not a decision.
    let partial = signed_by(&bytes, &[&c[0]]);
    let proposal = check_proposal(&partial, &net.genesis).expect("a partial proposal is fine");
    assert_eq!(proposal.signers, vec![c[0].public_key()]);
    assert_eq!(proposal.seq, 1);
    assert_eq!(proposal.prev, None);
    check_refused(
        &net.genesis,
        &partial,
        GovernanceError::QuorumNotMet { have: 1, need: 2 },
        &["1 committee signatures", "quorum is 2"],
    );
    check_refused(
        &net.genesis,
        &signed_by(&bytes, &[]),
        GovernanceError::QuorumNotMet { have: 0, need: 2 },
        &["0 committee signatures"],
    );
    assert!(
        check_proposal(&signed_by(&bytes, &[]), &net.genesis)
            .expect("an unsigned proposal")
            .signers
            .is_empty()
    );

    // Two of three: a decision whose id is SHA-256 of the decision bytes, signatures aside.
    let two = verify_decision(&signed_by(&bytes, &[&c[1], &c[0]]), &net.genesis).expect("quorum");
    assert_eq!(two.id, RecordId(sha256(&bytes)));
    assert_eq!(two.signers, vec![c[1].public_key(), c[0].public_key()]);
    assert_eq!(two.action, Action::Reinstate { code: "KZ".into() });
    assert_eq!(two.created_at, T_GOV);
    assert_eq!(
        two.reason.get("en").map(String::as_str),
        Some("Test decision.")
    );
    let three = verify_decision(&signed_by(&bytes, &[&c[0], &c[1], &c[2]]), &net.genesis)
        .expect("all three");
    assert_eq!(three.id, two.id);
}

#[test]
fn a_signature_by_a_key_off_the_committee_is_refused() {
    let net = net();
    let c = &net.committee;
    let kz = &net.members[KZ];
    let bytes = draft(1, None, T_GOV, Action::Reinstate { code: "KZ".into() }).encode(&net.genesis);
    let hex = kz.public_key().to_hex();
    let signed = signed_by(&bytes, &[&c[0], kz, &c[1]]);
    check_refused(
        &net.genesis,
        &signed,
        GovernanceError::SignerNotCommittee(hex.clone()),
        &[&hex, "not a committee key"],
    );
    assert_eq!(
        check_proposal(&signed, &net.genesis).expect_err("refused even as a proposal"),
        GovernanceError::SignerNotCommittee(hex)
    );
    // A key field that is not a key at all.
    let mut short = signed_by(&bytes, &[&c[0], &c[1]]);
    short.signatures[1].key.truncate(31);
    let shown = hex::encode(&short.signatures[1].key);
    check_refused(
        &net.genesis,
        &short,
        GovernanceError::SignerNotCommittee(shown.clone()),
        &[&shown],
    );
}

#[test]
fn the_same_committee_key_counts_once() {
    let net = net();
    let c = &net.committee;
    let bytes = draft(1, None, T_GOV, Action::Reinstate { code: "KZ".into() }).encode(&net.genesis);
    let hex = c[0].public_key().to_hex();
    check_refused(
        &net.genesis,
        &signed_by(&bytes, &[&c[0], &c[0]]),
        GovernanceError::DuplicateSigner(hex.clone()),
        &[&hex, "signed twice"],
    );
}

#[test]
fn a_tampered_signature_or_decision_is_refused() {
    let net = net();
    let c = &net.committee;
    let bytes = draft(1, None, T_GOV, Action::Reinstate { code: "KZ".into() }).encode(&net.genesis);
    let hex1 = c[1].public_key().to_hex();

    let mut flipped = signed_by(&bytes, &[&c[0], &c[1]]);
    flipped.signatures[1].signature[7] ^= 0x20;
    check_refused(
        &net.genesis,
        &flipped,
        GovernanceError::BadSignature(hex1.clone()),
        &[&hex1, "does not verify"],
    );

    let mut truncated = signed_by(&bytes, &[&c[0], &c[1]]);
    truncated.signatures[1].signature.truncate(63);
    check_refused(
        &net.genesis,
        &truncated,
        GovernanceError::BadSignature(hex1.clone()),
        &[&hex1],
    );

    // A signature over other decision bytes.
    let other = draft(1, None, T_GOV, Action::Reinstate { code: "KG".into() }).encode(&net.genesis);
    let mut moved = signed_by(&bytes, &[&c[0]]);
    moved.signatures.push(sign_decision(&c[1], &other));
    check_refused(
        &net.genesis,
        &moved,
        GovernanceError::BadSignature(hex1.clone()),
        &[&hex1],
    );

    // The decision changed after it was signed: the first signature fails.
    let mut changed = signed_by(&bytes, &[&c[0], &c[1]]);
    changed.decision = other;
    let hex0 = c[0].public_key().to_hex();
    check_refused(
        &net.genesis,
        &changed,
        GovernanceError::BadSignature(hex0.clone()),
        &[&hex0],
    );
}

#[test]
fn a_decision_of_another_network_is_refused() {
    let net = net();
    // The same committee keys, another charter (two members): another network.
    let (doc, _, _) = sample(2);
    let other = doc.verify().expect("valid");
    assert_ne!(other.network_id(), net.genesis.network_id());
    let bytes = draft(1, None, T_GOV, Action::Reinstate { code: "KZ".into() }).encode(&other);
    let expected = net.genesis.network_id().to_hex();
    let got = other.network_id().to_hex();
    check_refused(
        &net.genesis,
        &signed_by(&bytes, &[&net.committee[0], &net.committee[1]]),
        GovernanceError::WrongNetwork {
            expected: expected.clone(),
            got: got.clone(),
        },
        &[&expected, &got],
    );
}

/// A hand-built `Decision`, for fields [`DecisionDraft`] would not write.
fn raw_decision(
    net: &Net,
    seq: u64,
    prev: Vec<u8>,
    action: Option<pb::decision::Action>,
) -> pb::Decision {
    pb::Decision {
        network_id: net.genesis.network_id().as_bytes().to_vec(),
        seq,
        prev,
        created_at: T_GOV,
        reason: None,
        action,
    }
}

#[test]
fn bad_fields_are_refused_and_named() {
    let net = net();
    let reinstate = Some(pb::decision::Action::Reinstate(pb::Reinstate {
        code: "KZ".into(),
    }));
    let good_key = fresh_key(50).public_key().as_bytes().to_vec();
    let names = |tag: &str, name: &str| {
        Some(pb::LocalizedText {
            text: BTreeMap::from([(tag.to_owned(), name.to_owned())]),
        })
    };
    let admit = |code: &str, name: Option<pb::LocalizedText>, key: Vec<u8>| {
        Some(pb::decision::Action::Admit(pb::Admit {
            code: code.into(),
            name,
            publishing_key: key,
        }))
    };
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let bad_limits = Limits {
        max_record_bytes: 10,
        ..Limits::DEFAULT
    };
    let cases: Vec<(pb::Decision, &'static str)> = vec![
        (raw_decision(&net, 0, vec![], reinstate.clone()), "seq"),
        (
            raw_decision(&net, 1, vec![7; 32], reinstate.clone()),
            "prev",
        ),
        (raw_decision(&net, 2, vec![], reinstate.clone()), "prev"),
        (
            raw_decision(&net, 2, vec![7; 31], reinstate.clone()),
            "prev",
        ),
        (raw_decision(&net, 1, vec![], None), "action"),
        (
            pb::Decision {
                reason: names("not a tag!", "why"),
                ..raw_decision(&net, 1, vec![], reinstate.clone())
            },
            "reason",
        ),
        (
            raw_decision(
                &net,
                1,
                vec![],
                admit("XX", names("en", "X"), good_key.clone()),
            ),
            "admit.code",
        ),
        (
            raw_decision(&net, 1, vec![], admit("TJ", None, good_key.clone())),
            "admit.name",
        ),
        (
            raw_decision(
                &net,
                1,
                vec![],
                admit("TJ", names("en", "  "), good_key.clone()),
            ),
            "admit.name",
        ),
        (
            raw_decision(
                &net,
                1,
                vec![],
                admit("TJ", names("en", "Tajikistan"), vec![1; 31]),
            ),
            "admit.publishing_key",
        ),
        (
            raw_decision(
                &net,
                1,
                vec![],
                admit("TJ", names("en", "Tajikistan"), identity.to_vec()),
            ),
            "admit.publishing_key",
        ),
        (
            raw_decision(
                &net,
                1,
                vec![],
                Some(pb::decision::Action::Suspend(pb::Suspend {
                    code: "kz".into(),
                    last_seq: 1,
                })),
            ),
            "suspend.code",
        ),
        (
            raw_decision(
                &net,
                1,
                vec![],
                Some(pb::decision::Action::RotateKey(pb::RotateKey {
                    code: "KZ".into(),
                    new_key: vec![],
                    old_key_last_seq: 1,
                })),
            ),
            "rotate_key.new_key",
        ),
        (
            // A key with a torsion component: refused where it would enter (PROTOCOL §1.3).
            raw_decision(
                &net,
                1,
                vec![],
                Some(pb::decision::Action::RotateKey(pb::RotateKey {
                    code: "KZ".into(),
                    new_key: crate::signature::vectors::mixed_order_point(1).to_vec(),
                    old_key_last_seq: 1,
                })),
            ),
            "rotate_key.new_key",
        ),
        (
            raw_decision(
                &net,
                1,
                vec![],
                Some(pb::decision::Action::RevokeKey(pb::RevokeKey {
                    key: vec![3; 5],
                    last_valid_seq: 1,
                })),
            ),
            "revoke_key.key",
        ),
        (
            raw_decision(
                &net,
                1,
                vec![],
                Some(pb::decision::Action::AmendLimits(pb::AmendLimits {
                    limits: None,
                    effective_from: T0,
                })),
            ),
            "amend_limits.limits",
        ),
        (
            raw_decision(
                &net,
                1,
                vec![],
                Some(pb::decision::Action::AmendLimits(pb::AmendLimits {
                    limits: Some(bad_limits.to_proto()),
                    effective_from: T0,
                })),
            ),
            "amend_limits.limits",
        ),
        (
            raw_decision(
                &net,
                1,
                vec![],
                Some(pb::decision::Action::AmendVocabulary(pb::AmendVocabulary {
                    additions: None,
                })),
            ),
            "amend_vocabulary.additions",
        ),
        (
            raw_decision(
                &net,
                1,
                vec![],
                Some(pb::decision::Action::AmendVocabulary(pb::AmendVocabulary {
                    additions: Some(pb::Vocabulary::default()),
                })),
            ),
            "amend_vocabulary.additions",
        ),
    ];
    for (decision, field) in cases {
        let bytes = decision.encode_to_vec();
        let signed = signed_by(&bytes, &[&net.committee[0], &net.committee[1]]);
        let err = verify_decision(&signed, &net.genesis).expect_err(field);
        assert!(
            matches!(&err, GovernanceError::BadField { field: f, .. } if *f == field),
            "{field}: {err:?}"
        );
        assert!(err.to_string().contains(field), "{err}");
        if field.ends_with("key") {
            assert!(
                err.to_string().contains("not a valid Ed25519 public key"),
                "{err}"
            );
        }
        let torsion = bytes
            .windows(32)
            .any(|w| w == crate::signature::vectors::mixed_order_point(1));
        assert_eq!(
            err.to_string().contains("torsion component"),
            torsion,
            "{err}"
        );
        // A proposal with bad fields is refused too, before any signature.
        assert_eq!(
            check_proposal(&signed_by(&bytes, &[]), &net.genesis),
            Err(err)
        );
    }
}

/// A decision whose action a newer release added (a `Decision` field this release does not
/// know, which prost skips) is `UnknownAction`, set aside without penalty, only with a quorum of
/// valid committee signatures; without one it is refused as any decision short of its quorum,
/// and a decision with no action at all is malformed.
#[test]
fn a_decision_of_an_action_this_release_does_not_know_is_set_aside_only_with_its_quorum() {
    let net = net();
    let mut bytes = raw_decision(&net, 1, vec![], None).encode_to_vec();
    // Field 18: a message of a newer release's action.
    let newer_action = |bytes: &mut Vec<u8>, body: &[u8]| {
        prost::encoding::bytes::encode(18, &body.to_vec(), bytes);
    };
    newer_action(&mut bytes, &[0x08, 0x01]);
    let quorum = signed_by(&bytes, &[&net.committee[0], &net.committee[1]]);
    assert_eq!(
        verify_decision(&quorum, &net.genesis),
        Err(GovernanceError::UnknownAction { field: 18 })
    );
    assert_eq!(
        verify_decision_bytes(&quorum.encode_to_vec(), &net.genesis),
        Err(GovernanceError::UnknownAction { field: 18 })
    );
    let one = signed_by(&bytes, &[&net.committee[0]]);
    assert_eq!(
        verify_decision(&one, &net.genesis),
        Err(GovernanceError::QuorumNotMet { have: 1, need: 2 })
    );
    let mut forged = quorum.clone();
    forged.signatures[1].signature[5] ^= 1;
    assert!(matches!(
        verify_decision(&forged, &net.genesis),
        Err(GovernanceError::BadSignature(_))
    ));
    let outsider = signed_by(&bytes, &[&net.committee[0], &fresh_key(60)]);
    assert!(matches!(
        verify_decision(&outsider, &net.genesis),
        Err(GovernanceError::SignerNotCommittee(_))
    ));
    let none = raw_decision(&net, 1, vec![], None).encode_to_vec();
    assert!(matches!(
        verify_decision(
            &signed_by(&none, &[&net.committee[0], &net.committee[1]]),
            &net.genesis
        ),
        Err(GovernanceError::BadField {
            field: "action",
            ..
        })
    ));
    // A known action beside an unknown field is judged as the known action.
    let mut known = raw_decision(
        &net,
        1,
        vec![],
        Some(pb::decision::Action::Reinstate(pb::Reinstate {
            code: "KZ".into(),
        })),
    )
    .encode_to_vec();
    newer_action(&mut known, &[]);
    let d = verify_decision(
        &signed_by(&known, &[&net.committee[0], &net.committee[1]]),
        &net.genesis,
    )
    .expect("a known action verifies");
    assert_eq!(d.action, Action::Reinstate { code: "KZ".into() });
}

#[test]
fn undecodable_or_oversized_decisions_are_refused() {
    let net = net();
    assert!(matches!(
        verify_decision_bytes(&[0xff, 0xff, 0xff], &net.genesis),
        Err(GovernanceError::Malformed(_))
    ));
    let garbage = pb::SignedDecision {
        decision: vec![0xff, 0xff, 0xff],
        signatures: vec![],
    };
    assert!(matches!(
        check_proposal(&garbage, &net.genesis),
        Err(GovernanceError::Malformed(_))
    ));
    let huge = vec![0u8; MAX_DECISION_BYTES + 1];
    assert_eq!(
        verify_decision_bytes(&huge, &net.genesis),
        Err(GovernanceError::TooLarge(MAX_DECISION_BYTES + 1))
    );
    let bytes = draft(1, None, T_GOV, Action::Reinstate { code: "KZ".into() }).encode(&net.genesis);
    let mut padded = signed_by(&bytes, &[&net.committee[0], &net.committee[1]]);
    padded.signatures[0].signature = vec![0; MAX_DECISION_BYTES];
    assert!(matches!(
        check_proposal(&padded, &net.genesis),
        Err(GovernanceError::TooLarge(_))
    ));
}

#[test]
fn governance_inserts_verified_bytes_once() {
    let net = net();
    let mut gov = net.gov();
    let c = &net.committee;
    let bytes = draft(
        1,
        None,
        T_GOV,
        Action::Suspend {
            code: "KZ".into(),
            last_seq: 3,
        },
    )
    .encode(&net.genesis);
    let partial = signed_by(&bytes, &[&c[2]]).encode_to_vec();
    assert_eq!(
        gov.insert_bytes(&partial),
        Err(GovernanceError::QuorumNotMet { have: 1, need: 2 })
    );
    assert!(gov.decisions().is_empty());
    assert_eq!(gov.digest(), (0, Vec::new()));
    assert_eq!(
        gov.insert_bytes(&signed_by(&bytes, &[&c[0], &c[2]]).encode_to_vec()),
        Ok(true)
    );
    assert_eq!(
        gov.insert_bytes(&signed_by(&bytes, &[&c[0], &c[2]]).encode_to_vec()),
        Ok(false)
    );
    // Other signatures over the same decision: the same decision.
    assert_eq!(
        gov.insert_bytes(&signed_by(&bytes, &[&c[0], &c[1], &c[2]]).encode_to_vec()),
        Ok(false)
    );
    let id = RecordId(sha256(&bytes));
    assert_eq!(gov.digest(), (1, sha256(id.as_bytes()).to_vec()));
    assert!(gov.state().members["KZ"].suspended);
    assert_eq!(gov.next_position(), (2, Some(id)));
    assert_eq!(gov.chain().map(|d| d.id).collect::<Vec<_>>(), vec![id]);
    assert_eq!(gov.genesis().network_id(), net.genesis.network_id());
}

// ---------------------------------------------------------------------------------------------
// 2. The state decisions produce
// ---------------------------------------------------------------------------------------------

#[test]
fn rotation_ends_the_old_key_at_its_last_seq_and_the_new_key_starts_at_seq_1() {
    let net = net();
    let mut gov = net.gov();
    let old = &net.members[KZ];
    let new = fresh_key(50);
    let old_log = log_of(old, &net.genesis, 3, T0);
    let new_log = log_of(&new, &net.genesis, 2, T0 + 100);
    let before = gov.state().clone();
    check(
        gov.charter(),
        &new_log[0],
        Err(RecordError::UnknownAuthor(new.public_key().to_hex())),
    );
    for r in &old_log {
        check(gov.charter(), r, Ok(()));
    }

    let d = net.decide(
        &mut gov,
        Action::RotateKey {
            code: "KZ".into(),
            new_key: new.public_key(),
            old_key_last_seq: 2,
        },
    );
    assert_eq!(gov.state().status[&d.id], DecisionStatus::Applied);
    let c = gov.charter();
    check(c, &old_log[0], Ok(()));
    check(c, &old_log[1], Ok(()));
    check(c, &old_log[2], Err(key_not_valid(old, "KZ", 3, 2)));
    check(c, &new_log[0], Ok(()));
    check(c, &new_log[1], Ok(()));
    let r = record::verify_record(&new_log[0].encode(), c, NOW).expect("valid");
    assert_eq!(r.member, "KZ");
    let text = record::verify_record(&old_log[2].encode(), c, NOW)
        .expect_err("refused")
        .to_string();
    for s in [
        old.public_key().to_hex().as_str(),
        "KZ",
        "up to seq 2",
        "seq 3",
    ] {
        assert!(text.contains(s), "{text:?} should contain {s:?}");
    }
    // Stored records stay readable, and audits still verify them.
    assert!(record::decode_stored(&old_log[2].encode(), c).is_ok());
    assert!(record::verify_record_any_seq(&old_log[2].encode(), c, NOW).is_ok());

    // The charter view.
    assert_eq!(
        c.member_by_code("KZ").map(|m| m.key),
        Some(new.public_key())
    );
    assert_eq!(
        c.member_by_key(&old.public_key()).map(|m| m.code.as_str()),
        Some("KZ")
    );
    assert_eq!(c.key_last_seq(&old.public_key()), Some(Some(2)));
    assert_eq!(c.key_last_seq(&new.public_key()), Some(None));
    assert_eq!(c.key_last_seq(&fresh_key(99).public_key()), None);
    assert!(c.key_allows(&old.public_key(), 2));
    assert!(!c.key_allows(&old.public_key(), 3));
    assert!(c.key_allows(&new.public_key(), 1_000_000));
    assert!(!c.key_allows(&fresh_key(99).public_key(), 1));
    let kz_keys: Vec<(PublicKey, Option<u64>)> = c
        .known_keys()
        .into_iter()
        .filter(|(_, m, _)| m.code == "KZ")
        .map(|(k, _, last)| (k, last))
        .collect();
    assert_eq!(
        kz_keys,
        vec![(old.public_key(), Some(2)), (new.public_key(), None)]
    );
    assert_eq!(c.members().len(), 3);
    assert_eq!(c.genesis_members(), net.genesis.members());
    assert_eq!(c.network_id(), net.genesis.network_id());

    // The state.
    let kz = &gov.state().members["KZ"];
    assert_eq!(kz.keys.len(), 2);
    assert_eq!(kz.keys[0].grant.rotated_after, Some(2));
    assert_eq!(kz.keys[0].granted_by, None);
    assert_eq!(kz.keys[1].granted_by, Some(d.id));
    assert_eq!(kz.current_key().map(|p| p.key), Some(new.public_key()));
    assert_eq!(
        gov.state()
            .key(&old.public_key())
            .map(|(m, g)| (m.code.as_str(), g.last_seq())),
        Some(("KZ", Some(2)))
    );
    let mut changed = vec![
        (old.public_key(), None, Some(2)),
        (new.public_key(), None, None),
    ];
    changed.sort();
    assert_eq!(gov.changed_keys(&before), changed);
    assert!(gov.changed_keys(gov.state()).is_empty());
}

#[test]
fn revocation_ends_a_key_but_never_its_earlier_records() {
    let net = net();
    let mut gov = net.gov();
    let hub = &net.members[HUB];
    let hub_log = log_of(hub, &net.genesis, 4, T0);
    net.decide(
        &mut gov,
        Action::RevokeKey {
            key: hub.public_key(),
            last_valid_seq: 2,
        },
    );
    check(gov.charter(), &hub_log[0], Ok(()));
    check(gov.charter(), &hub_log[1], Ok(()));
    check(
        gov.charter(),
        &hub_log[2],
        Err(key_not_valid(hub, "HUB", 3, 2)),
    );
    check(
        gov.charter(),
        &hub_log[3],
        Err(key_not_valid(hub, "HUB", 4, 2)),
    );
    // Still a member; other members unaffected.
    assert!(gov.charter().member_by_code("HUB").is_some());
    let kz_log = log_of(&net.members[KZ], &net.genesis, 4, T0);
    check(gov.charter(), &kz_log[3], Ok(()));

    // A later revocation cannot extend a key's validity...
    net.decide(
        &mut gov,
        Action::RevokeKey {
            key: hub.public_key(),
            last_valid_seq: 4,
        },
    );
    check(
        gov.charter(),
        &hub_log[2],
        Err(key_not_valid(hub, "HUB", 3, 2)),
    );
    // ...but can shorten it.
    net.decide(
        &mut gov,
        Action::RevokeKey {
            key: hub.public_key(),
            last_valid_seq: 1,
        },
    );
    check(gov.charter(), &hub_log[0], Ok(()));
    check(
        gov.charter(),
        &hub_log[1],
        Err(key_not_valid(hub, "HUB", 2, 1)),
    );
    assert_eq!(
        gov.state().members["HUB"].keys[0].grant.revoked_after,
        Some(1)
    );
}

#[test]
fn revoking_a_former_key_keeps_the_earliest_limit() {
    let net = net();
    let mut gov = net.gov();
    let old = &net.members[KZ];
    let new = fresh_key(50);
    let old_log = log_of(old, &net.genesis, 4, T0);
    let new_log = log_of(&new, &net.genesis, 1, T0 + 100);
    net.decide(
        &mut gov,
        Action::RotateKey {
            code: "KZ".into(),
            new_key: new.public_key(),
            old_key_last_seq: 3,
        },
    );
    // Revoking the former key later than its rotation changes nothing...
    net.decide(
        &mut gov,
        Action::RevokeKey {
            key: old.public_key(),
            last_valid_seq: 4,
        },
    );
    check(gov.charter(), &old_log[2], Ok(()));
    check(
        gov.charter(),
        &old_log[3],
        Err(key_not_valid(old, "KZ", 4, 3)),
    );
    // ...earlier shortens it, and leaves the new key alone.
    net.decide(
        &mut gov,
        Action::RevokeKey {
            key: old.public_key(),
            last_valid_seq: 1,
        },
    );
    check(gov.charter(), &old_log[0], Ok(()));
    check(
        gov.charter(),
        &old_log[1],
        Err(key_not_valid(old, "KZ", 2, 1)),
    );
    check(gov.charter(), &new_log[0], Ok(()));
}

#[test]
fn suspension_refuses_new_records_until_reinstatement() {
    let net = net();
    let mut gov = net.gov();
    let kg = &net.members[KG];
    let log = log_of(kg, &net.genesis, 4, T0);
    let suspend = net.decide(
        &mut gov,
        Action::Suspend {
            code: "KG".into(),
            last_seq: 2,
        },
    );
    assert!(gov.state().members["KG"].suspended);
    check(gov.charter(), &log[1], Ok(()));
    check(gov.charter(), &log[2], Err(key_not_valid(kg, "KG", 3, 2)));
    // Suspending a suspended member is void.
    let again = net.decide(
        &mut gov,
        Action::Suspend {
            code: "KG".into(),
            last_seq: 0,
        },
    );
    assert!(matches!(
        &gov.state().status[&again.id],
        DecisionStatus::Void(reason) if reason.contains("KG")
    ));
    check(gov.charter(), &log[1], Ok(()));

    let reinstate = net.decide(&mut gov, Action::Reinstate { code: "KG".into() });
    assert_eq!(gov.state().status[&suspend.id], DecisionStatus::Applied);
    assert_eq!(gov.state().status[&reinstate.id], DecisionStatus::Applied);
    assert!(!gov.state().members["KG"].suspended);
    for r in &log {
        check(gov.charter(), r, Ok(()));
    }
    assert_eq!(gov.charter().key_last_seq(&kg.public_key()), Some(None));
    // Reinstating a member that is not suspended is void.
    let twice = net.decide(&mut gov, Action::Reinstate { code: "KG".into() });
    assert!(matches!(
        &gov.state().status[&twice.id],
        DecisionStatus::Void(reason) if reason.contains("not suspended")
    ));
}

#[test]
fn a_key_rotated_in_during_a_suspension_signs_only_after_reinstatement() {
    let net = net();
    let mut gov = net.gov();
    let old = &net.members[KG];
    let new = fresh_key(51);
    let new_log = log_of(&new, &net.genesis, 1, T0);
    net.decide(
        &mut gov,
        Action::Suspend {
            code: "KG".into(),
            last_seq: 5,
        },
    );
    net.decide(
        &mut gov,
        Action::RotateKey {
            code: "KG".into(),
            new_key: new.public_key(),
            old_key_last_seq: 7,
        },
    );
    check(
        gov.charter(),
        &new_log[0],
        Err(key_not_valid(&new, "KG", 1, 0)),
    );
    assert_eq!(gov.charter().key_last_seq(&old.public_key()), Some(Some(5)));
    net.decide(&mut gov, Action::Reinstate { code: "KG".into() });
    check(gov.charter(), &new_log[0], Ok(()));
    // The former key stays limited by the earlier of its rotation and its suspension.
    assert_eq!(gov.charter().key_last_seq(&old.public_key()), Some(Some(5)));
}

#[test]
fn admission_makes_a_new_members_records_valid() {
    let net = net();
    let mut gov = net.gov();
    let tj = fresh_key(60);
    let log = log_of(&tj, &net.genesis, 2, T0);
    check(
        gov.charter(),
        &log[0],
        Err(RecordError::UnknownAuthor(tj.public_key().to_hex())),
    );
    let d = net.decide(
        &mut gov,
        Action::Admit {
            code: "TJ".into(),
            name: BTreeMap::from([("en".into(), "Tajikistan".into())]),
            key: tj.public_key(),
        },
    );
    for r in &log {
        check(gov.charter(), r, Ok(()));
    }
    assert_eq!(
        record::verify_record(&log[1].encode(), gov.charter(), NOW)
            .expect("valid")
            .member,
        "TJ"
    );
    let codes: Vec<&str> = gov
        .charter()
        .members()
        .iter()
        .map(|m| m.code.as_str())
        .collect();
    assert_eq!(codes, vec!["HUB", "KG", "KZ", "TJ"]);
    let tj_state = &gov.state().members["TJ"];
    assert_eq!(tj_state.admitted_by, Some(d.id));
    assert_eq!(tj_state.name["en"], "Tajikistan");
    // The genesis view is untouched.
    assert_eq!(gov.genesis().members().len(), 3);
    assert_eq!(gov.charter().genesis_members().len(), 3);
}

/// A first record of `key`'s log, created at `created_at`, of exactly `size` encoded bytes: a
/// practice whose Markdown body is padded over as many languages as the size needs.
fn record_of_size(
    key: &SecretKey,
    charter: &Charter,
    created_at: i64,
    size: usize,
) -> SignedRecord {
    const LANGS: [&str; 16] = [
        "en", "ru", "kk", "ky", "uz", "tg", "az", "hy", "ka", "de", "fr", "es", "it", "pt", "nl",
        "pl",
    ];
    // Every entry stays between 16 KiB and 2 MiB, so a byte more of text is a byte more of
    // record; the number of entries is fixed before the padding is adjusted.
    let entries = size.div_ceil(50_000);
    assert!((1..=LANGS.len()).contains(&entries) && size >= 20_000 * entries);
    let body_of = |pad: usize| {
        let mut body = practice("Sized");
        if let Body::Practice(p) = &mut body {
            p.body = Some(pb::LocalizedText {
                text: LANGS[..entries]
                    .iter()
                    .enumerate()
                    .map(|(i, l)| {
                        let share = pad / entries + if i == 0 { pad % entries } else { 0 };
                        (l.to_string(), "x".repeat(share))
                    })
                    .collect(),
            });
        }
        body
    };
    let mut pad = size - 1_000;
    for _ in 0..4 {
        let r = next_record(key, charter, None, created_at, &body_of(pad));
        let len = r.encode().len();
        if len == size {
            return r;
        }
        pad = pad + size - len;
    }
    panic!("no record of exactly {size} bytes");
}

/// The one helper of the record-size tests: `r` gets `expected` from every way in, from bytes
/// (the size gate before decoding, then the era's limit) and already decoded (the era's limit).
fn check_size(charter: &Charter, r: &SignedRecord, expected: Result<(), RecordError>) {
    check(charter, r, expected.clone());
    let any_seq = record::verify_record_any_seq(&r.encode(), charter, NOW).map(|_| ());
    assert_eq!(any_seq, expected);
    let decoded = record::precheck_signed(r.clone(), charter, NOW).and_then(|u| u.verify());
    assert_eq!(decoded.map(|_| ()), expected);
}

#[test]
fn a_record_is_judged_by_its_own_eras_size_limit() {
    let net = net();
    let mut gov = net.gov();
    let kz = &net.members[KZ];
    let old = Limits::DEFAULT.max_record_bytes;
    let new = 2 * old;
    let effective_from = T0 + 1_000;
    let too_large = |size: u64, max: u64| {
        Err(RecordError::TooLarge {
            size: usize::try_from(size).expect("fits"),
            max,
        })
    };
    let sized = |created_at: i64, size: u64| {
        record_of_size(
            kz,
            &net.genesis,
            created_at,
            usize::try_from(size).expect("fits"),
        )
    };
    let at_old = sized(effective_from - 1, old);
    let over_old = sized(effective_from - 1, old + 1);
    let over_old_later = sized(effective_from, old + 1);
    let at_new = sized(effective_from, new);
    let over_new = sized(effective_from, new + 1);
    for r in [&at_old, &over_old, &over_old_later, &at_new, &over_new] {
        assert_eq!(r.encoded_len(), r.encode().len());
    }

    // One era: exactly at the limit is a record, a byte more is not.
    check_size(gov.charter(), &at_old, Ok(()));
    check_size(gov.charter(), &over_old, too_large(old + 1, old));
    check_size(gov.charter(), &over_old_later, too_large(old + 1, old));

    net.decide(
        &mut gov,
        Action::AmendLimits {
            limits: Limits {
                max_record_bytes: new,
                ..Limits::DEFAULT
            },
            effective_from,
        },
    );
    let c = gov.charter();
    assert_eq!(c.max_record_bytes(), new);
    // A record created before the amendment is still judged by its own era's limit, though it
    // fits the gate that bytes pass before their header is read.
    check_size(c, &at_old, Ok(()));
    check_size(c, &over_old, too_large(old + 1, old));
    // From the amendment's date on, the raised limit, exactly at it and one over.
    check_size(c, &over_old_later, Ok(()));
    check_size(c, &at_new, Ok(()));
    check_size(c, &over_new, too_large(new + 1, new));
}

#[test]
fn amended_limits_judge_records_created_from_their_date_on() {
    let net = net();
    let mut gov = net.gov();
    let kz = &net.members[KZ];
    let effective_from = T0 + 1_000;
    let loose = Limits {
        max_short_text_bytes: 1024,
        max_summary_bytes: 8192,
        ..Limits::DEFAULT
    };
    let long_title = "M".repeat(600); // over the default 512
    let before = next_record(
        kz,
        &net.genesis,
        None,
        effective_from - 1,
        &practice(&long_title),
    );
    let at = next_record(
        kz,
        &net.genesis,
        Some(&before),
        effective_from,
        &practice(&long_title),
    );
    let long_summary = {
        let json = serde_json::json!({
            "kind": "practice",
            "title": {"en": "Long summary"},
            "summary": {"en": "x".repeat(5000)},
            "topics": ["recruitment"]
        });
        Draft::parse(&json.to_string(), DraftFormat::Json)
            .expect("parses")
            .build_body("KZ")
            .expect("builds")
    };
    let summary = next_record(
        kz,
        &net.genesis,
        Some(&at),
        effective_from + 1,
        &long_summary,
    );
    let too_long = |field: &str, len: usize, max: u64| {
        Err(RecordError::Body(BodyError::FieldTooLong {
            field: field.into(),
            len,
            max,
        }))
    };
    for r in [&before, &at] {
        check(gov.charter(), r, too_long("title.en", 600, 512));
    }
    check(gov.charter(), &summary, too_long("summary.en", 5000, 4096));

    net.decide(
        &mut gov,
        Action::AmendLimits {
            limits: loose,
            effective_from,
        },
    );
    let c = gov.charter();
    // Records created before the date keep the limits of their time.
    check(c, &before, too_long("title.en", 600, 512));
    check(c, &at, Ok(()));
    check(c, &summary, Ok(()));
    assert_eq!(c.limits(), &loose);
    assert_eq!(c.limits_at(effective_from - 1), &Limits::DEFAULT);
    assert_eq!(c.limits_at(i64::MIN), &Limits::DEFAULT);
    assert_eq!(c.limits_at(effective_from), &loose);
    assert_eq!(c.genesis_limits(), &Limits::DEFAULT);

    // Limits that would reach back before the ones in force are void.
    let state = gov.state().clone();
    let back = net.decide(
        &mut gov,
        Action::AmendLimits {
            limits: Limits {
                max_body_bytes: 128 * 1024,
                ..loose
            },
            effective_from: effective_from - 1,
        },
    );
    assert!(matches!(
        &gov.state().status[&back.id],
        DecisionStatus::Void(r) if r.contains("before the limits in force")
    ));
    assert_eq!(gov.state().limits, state.limits);

    // Limits that lower any limit in force are void, and say which: a record valid once stays
    // valid, whenever a node learns of the amendment.
    let lower = net.decide(
        &mut gov,
        Action::AmendLimits {
            limits: Limits {
                max_short_text_bytes: 16,
                max_body_bytes: 128 * 1024,
                ..loose
            },
            effective_from: effective_from + 10,
        },
    );
    assert!(matches!(
        &gov.state().status[&lower.id],
        DecisionStatus::Void(r) if r.contains("max_short_text_bytes from 1024 to 16")
    ));
    assert_eq!(gov.state().limits, state.limits);
    assert_eq!(gov.charter().limits(), &loose);
}

#[test]
fn check_raised_names_each_limit_an_amendment_lowers() {
    let d = Limits::DEFAULT;
    assert_eq!(d.check_raised(&d), Ok(()));
    let raised = Limits {
        max_body_bytes: d.max_body_bytes + 1,
        ..d
    };
    assert_eq!(d.check_raised(&raised), Ok(()));
    let err = raised
        .check_raised(&Limits {
            max_languages: 2,
            ..d
        })
        .expect_err("lowers two");
    assert_eq!(
        err.0,
        vec![
            ("max_body_bytes", d.max_body_bytes + 1, d.max_body_bytes),
            ("max_languages", d.max_languages, 2),
        ]
    );
    assert!(
        err.to_string().ends_with(
            "this lowers max_body_bytes from 65537 to 65536, max_languages from 16 to 2"
        )
    );
}

/// Vocabulary entries as a charter file writes them.
fn vocabulary(toml_text: &str) -> Vocabulary {
    toml::from_str(toml_text).expect("a vocabulary")
}

/// A vocabulary amendment adds its entries to the vocabulary in force, which judges bodies from
/// then on; the charter's own vocabulary stays as it was. Adding an entry again is void.
#[test]
fn a_vocabulary_amendment_adds_to_the_vocabulary_in_force() {
    let net = net();
    let mut gov = net.gov();
    let additions = vocabulary(
        r#"
        [[topics]]
        slug = "mentoring"
        name = { en = "Mentoring", ru = "Наставничество", kk = "Тәлімгерлік" }
        "#,
    );
    let json = serde_json::json!({
        "kind": "practice",
        "title": {"en": "Mentors for new civil servants"},
        "summary": {"en": "Each newcomer has a mentor."},
        "topics": ["mentoring"]
    });
    let draft = Draft::parse(&json.to_string(), DraftFormat::Json).expect("parses");
    let unknown = Err(DraftError::Invalid(BodyError::UnknownTopic {
        field: "topics".into(),
        slug: "mentoring".into(),
    }));
    assert_eq!(draft.to_body("KZ", &gov.charter().rules()), unknown);

    let action = Action::AmendVocabulary {
        additions: additions.clone(),
    };
    let d = net.decide(&mut gov, action.clone());
    assert_eq!(d.action, action, "the additions survive encoding");
    assert_eq!(gov.state().status[&d.id], DecisionStatus::Applied);
    let charter = gov.charter().clone();
    let in_force = net.genesis.vocabulary().extended(&additions).expect("adds");
    assert_eq!(charter.vocabulary(), &in_force);
    assert!(charter.vocabulary().is_topic("mentoring"));
    assert_eq!(charter.genesis_vocabulary(), net.genesis.vocabulary());
    assert!(!charter.genesis_vocabulary().is_topic("mentoring"));
    assert_eq!(charter.rules().vocabulary, &in_force);
    let Ok(Body::Practice(p)) = draft.to_body("KZ", &charter.rules()) else {
        panic!("a practice on a topic in force")
    };
    assert_eq!(p.topics, ["mentoring"]);
    assert_eq!(draft.to_body("KZ", &net.genesis.rules()), unknown);

    let again = net.decide(&mut gov, action);
    match &gov.state().status[&again.id] {
        DecisionStatus::Void(r) => assert!(r.contains("\"mentoring\" is already"), "{r}"),
        other => panic!("adding an entry again: {other:?}"),
    }
    assert_eq!(gov.charter().vocabulary(), &in_force);
}

/// What a decision may change: everything in the state but the decisions' bookkeeping.
type Effect = (
    BTreeMap<String, crate::governance::MemberState>,
    BTreeMap<PublicKey, String>,
    Vec<(i64, Limits)>,
);

fn effect(gov: &Governance) -> Effect {
    let s = gov.state();
    (s.members.clone(), s.keys.clone(), s.limits.clone())
}

#[test]
fn void_decisions_keep_their_place_and_change_nothing() {
    let net = net();
    let mut gov = net.gov();
    let kz_key = net.members[KZ].public_key();
    let voids = [
        (
            Action::Admit {
                code: "KZ".into(),
                name: BTreeMap::from([("en".into(), "Again".into())]),
                key: fresh_key(52).public_key(),
            },
            "KZ is already a member",
        ),
        (
            Action::Admit {
                code: "TJ".into(),
                name: BTreeMap::from([("en".into(), "Tajikistan".into())]),
                key: kz_key,
            },
            "is (or was) KZ's",
        ),
        (
            Action::RotateKey {
                code: "TJ".into(),
                new_key: fresh_key(53).public_key(),
                old_key_last_seq: 1,
            },
            "TJ is not a member",
        ),
        (
            Action::RotateKey {
                code: "KG".into(),
                new_key: kz_key,
                old_key_last_seq: 1,
            },
            "is (or was) KZ's",
        ),
        (
            Action::RevokeKey {
                key: fresh_key(54).public_key(),
                last_valid_seq: 1,
            },
            "no member's",
        ),
        (
            Action::Suspend {
                code: "UZ".into(),
                last_seq: 1,
            },
            "UZ is not a member",
        ),
        (Action::Reinstate { code: "KZ".into() }, "not suspended"),
    ];
    for (i, (action, reason)) in voids.into_iter().enumerate() {
        let before = effect(&gov);
        let d = net.decide(&mut gov, action);
        match &gov.state().status[&d.id] {
            DecisionStatus::Void(r) => assert!(r.contains(reason), "{r:?} vs {reason:?}"),
            other => panic!("{reason}: {other:?}"),
        }
        assert_eq!(effect(&gov), before, "{reason}");
        assert_eq!(gov.state().chain.len(), i + 1);
        assert_eq!(gov.state().chain[i], d.id);
        assert_eq!(gov.next_position(), (i as u64 + 2, Some(d.id)));
    }
    // The next decision builds on the void ones and applies.
    let d = net.decide(
        &mut gov,
        Action::Suspend {
            code: "KZ".into(),
            last_seq: 1,
        },
    );
    assert_eq!(gov.state().status[&d.id], DecisionStatus::Applied);
    assert!(gov.state().members["KZ"].suspended);
    assert!(gov.state().forks.is_empty());
}

fn admit(code: &str, key: &SecretKey) -> Action {
    Action::Admit {
        code: code.into(),
        name: BTreeMap::from([("en".into(), format!("Member {code}"))]),
        key: key.public_key(),
    }
}

/// Two decisions at seq 1: (winner, loser) by id.
fn fork_at_1(net: &Net) -> (Decision, Decision) {
    let a = net.decision(1, None, T_GOV, admit("TJ", &fresh_key(50)));
    let b = net.decision(1, None, T_GOV + 1, admit("UZ", &fresh_key(51)));
    if a.id < b.id { (a, b) } else { (b, a) }
}

#[test]
fn at_a_governance_fork_the_smallest_id_wins() {
    let net = net();
    let (winner, loser) = fork_at_1(&net);
    let winner_code = match &winner.action {
        Action::Admit { code, .. } => code.clone(),
        _ => unreachable!("admissions"),
    };
    let loser_code = if winner_code == "TJ" { "UZ" } else { "TJ" };
    let mut gov = net.gov();
    assert!(gov.insert(loser.clone()));
    // Alone, the loser is the chain.
    assert_eq!(gov.state().chain, vec![loser.id]);
    assert!(gov.state().members.contains_key(loser_code));
    assert!(gov.insert(winner.clone()));
    assert!(!gov.insert(winner.clone()));
    let s = gov.state();
    assert_eq!(s.chain, vec![winner.id]);
    assert_eq!(s.forks, BTreeMap::from([(1, vec![winner.id, loser.id])]));
    assert_eq!(s.status[&winner.id], DecisionStatus::Applied);
    assert_eq!(s.status[&loser.id], DecisionStatus::OffChain);
    assert!(s.members.contains_key(&winner_code));
    assert!(!s.members.contains_key(loser_code));
    assert_eq!(gov.next_position(), (2, Some(winner.id)));

    // A decision on the losing branch is off the chain; one on the winning branch applies.
    let on_loser = net.decision(
        2,
        Some(loser.id),
        T_GOV + 2,
        Action::Suspend {
            code: "KZ".into(),
            last_seq: 1,
        },
    );
    let on_winner = net.decision(
        2,
        Some(winner.id),
        T_GOV + 3,
        Action::Suspend {
            code: "KG".into(),
            last_seq: 1,
        },
    );
    gov.insert(on_loser.clone());
    assert_eq!(gov.state().status[&on_loser.id], DecisionStatus::OffChain);
    assert!(!gov.state().members["KZ"].suspended);
    gov.insert(on_winner.clone());
    let s = gov.state();
    assert_eq!(s.chain, vec![winner.id, on_winner.id]);
    assert_eq!(s.status[&on_winner.id], DecisionStatus::Applied);
    assert_eq!(s.status[&on_loser.id], DecisionStatus::OffChain);
    assert!(s.members["KG"].suspended && !s.members["KZ"].suspended);
    let mut at_2 = vec![on_loser.id, on_winner.id];
    at_2.sort();
    assert_eq!(s.forks.get(&2), Some(&at_2));

    // After a gap: off the chain until the gap is filled.
    let third = net.decision(
        3,
        Some(on_winner.id),
        T_GOV + 4,
        Action::Reinstate { code: "KG".into() },
    );
    let fourth = net.decision(
        4,
        Some(third.id),
        T_GOV + 5,
        Action::Reinstate { code: "KG".into() },
    );
    gov.insert(fourth.clone());
    assert_eq!(gov.state().status[&fourth.id], DecisionStatus::OffChain);
    gov.insert(third.clone());
    assert_eq!(gov.state().status[&third.id], DecisionStatus::Applied);
    assert!(matches!(
        gov.state().status[&fourth.id],
        DecisionStatus::Void(_)
    ));
    assert_eq!(gov.state().chain.len(), 4);

    // Every order of insertion gives the same state.
    let all = [&loser, &winner, &on_loser, &on_winner, &third, &fourth];
    let mut reversed = net.gov();
    for d in all.iter().rev() {
        reversed.insert((*d).clone());
    }
    assert_eq!(reversed.state(), gov.state());
    assert_eq!(reversed.digest(), gov.digest());
}

#[test]
fn the_governance_digest_is_over_every_decision_held() {
    let net = net();
    let mut gov = net.gov();
    assert_eq!(gov.digest(), (0, Vec::new()));
    let (winner, loser) = fork_at_1(&net);
    gov.insert(loser.clone());
    gov.insert(winner.clone());
    let mut ids = [winner.id, loser.id];
    ids.sort();
    let expected = sha256(&[ids[0].0, ids[1].0].concat()).to_vec();
    // Off-chain decisions count: two nodes holding other sets must see a difference.
    assert_eq!(gov.digest(), (2, expected));
}

#[test]
fn summaries_carry_the_governance_digest() {
    let net = net();
    let mut gov = net.gov();
    net.decide(&mut gov, Action::Reinstate { code: "KZ".into() });
    let mine = Summary {
        decisions: gov.digest(),
        ..Summary::default()
    };
    let back = Summary::from_proto(&mine.to_proto(), &net.genesis).expect("valid");
    assert_eq!(back, mine);
    assert_eq!(mine.to_proto().decision_count, 1);

    let none = Summary::default();
    assert!(none.wants_decisions_from(&mine));
    assert!(
        !mine.wants_decisions_from(&none),
        "a peer with none has nothing to give"
    );
    assert!(!mine.wants_decisions_from(&mine.clone()));
    net.decide(&mut gov, Action::Reinstate { code: "KG".into() });
    let more = Summary {
        decisions: gov.digest(),
        ..Summary::default()
    };
    assert!(mine.wants_decisions_from(&more));
    // Sets that differ either way: ask.
    assert!(more.wants_decisions_from(&mine));

    let mut bad = mine.to_proto();
    bad.decisions_digest = vec![0; 33];
    assert_eq!(
        Summary::from_proto(&bad, &net.genesis),
        Err(SyncError::BadId { index: 0, len: 33 })
    );
}

#[test]
fn a_summary_keeps_authors_a_decision_admitted() {
    let net = net();
    let mut gov = net.gov();
    let tj = fresh_key(60);
    net.decide(&mut gov, admit("TJ", &tj));
    let mut s = Summary::default();
    s.heads.insert(
        tj.public_key(),
        HeadRef {
            seq: 2,
            id: RecordId([9; 32]),
        },
    );
    // The genesis charter does not know TJ yet: left out. The governed charter keeps it.
    assert!(
        Summary::from_proto(&s.to_proto(), &net.genesis)
            .expect("usable")
            .heads
            .is_empty()
    );
    assert_eq!(
        Summary::from_proto(&s.to_proto(), gov.charter()).expect("usable"),
        s
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Property tests: order never matters
// ---------------------------------------------------------------------------------------------

/// Member codes the generated decisions name: three charter members and two outsiders.
const CODES: [&str; 5] = ["HUB", "KZ", "KG", "TJ", "UZ"];
/// Keys the generated decisions and records use: the three charter keys, then six new ones.
const POOL: u8 = 9;

fn pool_key(i: u8) -> SecretKey {
    if i < 3 {
        SecretKey::from_seed([i + 1; 32])
    } else {
        SecretKey::from_seed([47 + i; 32])
    }
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Rotate(u8, u8, u64),
    Revoke(u8, u64),
    Suspend(u8, u64),
    Reinstate(u8),
    Admit(u8, u8),
}

impl Op {
    fn action(self) -> Action {
        let code = |c: u8| CODES[c as usize].to_owned();
        match self {
            Op::Rotate(c, k, last) => Action::RotateKey {
                code: code(c),
                new_key: pool_key(k).public_key(),
                old_key_last_seq: last,
            },
            Op::Revoke(k, last) => Action::RevokeKey {
                key: pool_key(k).public_key(),
                last_valid_seq: last,
            },
            Op::Suspend(c, last) => Action::Suspend {
                code: code(c),
                last_seq: last,
            },
            Op::Reinstate(c) => Action::Reinstate { code: code(c) },
            Op::Admit(c, k) => Action::Admit {
                code: code(c),
                name: BTreeMap::from([("en".into(), format!("Member {}", code(c)))]),
                key: pool_key(k).public_key(),
            },
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    let codes = 0u8..CODES.len() as u8;
    prop_oneof![
        (codes.clone(), 0..POOL, 0u64..5).prop_map(|(c, k, l)| Op::Rotate(c, k, l)),
        (0..POOL, 0u64..5).prop_map(|(k, l)| Op::Revoke(k, l)),
        (codes.clone(), 0u64..5).prop_map(|(c, l)| Op::Suspend(c, l)),
        codes.clone().prop_map(Op::Reinstate),
        (codes, 0..POOL).prop_map(|(c, k)| Op::Admit(c, k)),
    ]
}

/// One step of a generated governance log: a decision at the end of the chain, maybe a rival at
/// the same seq (a fork), and maybe a decision building on the rival.
#[derive(Debug, Clone)]
struct Step {
    op: Op,
    rival: Option<Op>,
    extend_rival: bool,
}

impl Step {
    fn decisions(&self) -> usize {
        1 + usize::from(self.rival.is_some()) * (1 + usize::from(self.extend_rival))
    }
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        (op(), prop::option::weighted(0.3, op()), any::<bool>()).prop_map(
            |(op, rival, extend_rival)| Step {
                op,
                rival,
                extend_rival,
            },
        ),
        1..8,
    )
}

/// Builds the decisions of `steps` as a node would (each proposed at the end of the canonical
/// chain as it stands), in creation order, and the governance holding all of them.
fn build(net: &Net, steps: &[Step]) -> (Governance, Vec<Decision>) {
    let mut gov = net.gov();
    let mut all = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let (seq, prev) = gov.next_position();
        let t = T_GOV + 10 * i as i64;
        let mut new = vec![net.decision(seq, prev, t, s.op.action())];
        if let Some(rival) = s.rival {
            let r = net.decision(seq, prev, t + 1, rival.action());
            if s.extend_rival {
                new.push(net.decision(seq + 1, Some(r.id), t + 2, s.op.action()));
            }
            new.push(r);
        }
        for d in new {
            assert!(gov.insert(d.clone()));
            all.push(d);
        }
    }
    (gov, all)
}

/// Everything a charter says about members, keys and limits, comparable.
type Validity = (
    Vec<(String, PublicKey)>,
    Vec<(PublicKey, String, Option<u64>)>,
    Limits,
);

fn validity(c: &Charter) -> Validity {
    let mut keys: Vec<(PublicKey, String, Option<u64>)> = c
        .known_keys()
        .into_iter()
        .map(|(k, m, last)| (k, m.code.clone(), last))
        .collect();
    keys.sort();
    (
        c.members()
            .iter()
            .map(|m| (m.code.clone(), m.key))
            .collect(),
        keys,
        *c.limits(),
    )
}

/// The invariants of one governance: the canonical chain's links and choice, statuses, and a
/// charter that agrees with the state.
fn check_invariants(gov: &Governance) -> Result<(), TestCaseError> {
    let s = gov.state();
    let mut prev: Option<DecisionId> = None;
    for (i, id) in s.chain.iter().enumerate() {
        let d = &gov.decisions()[id];
        prop_assert_eq!(d.seq, i as u64 + 1);
        prop_assert_eq!(d.prev, prev);
        let smallest = gov
            .decisions()
            .values()
            .filter(|x| x.seq == d.seq && x.prev == prev)
            .map(|x| x.id)
            .min();
        prop_assert_eq!(smallest, Some(*id));
        prop_assert!(matches!(
            s.status[id],
            DecisionStatus::Applied | DecisionStatus::Void(_)
        ));
        prev = Some(*id);
    }
    let (next_seq, next_prev) = gov.next_position();
    prop_assert_eq!(next_seq, s.chain.len() as u64 + 1);
    prop_assert_eq!(next_prev, prev);
    prop_assert!(
        !gov.decisions()
            .values()
            .any(|d| d.seq == next_seq && d.prev == next_prev),
        "the chain stops only where no decision follows"
    );
    prop_assert_eq!(s.status.len(), gov.decisions().len());
    for (id, status) in &s.status {
        prop_assert_eq!(
            s.chain.contains(id),
            *status != DecisionStatus::OffChain,
            "{:?}",
            status
        );
    }
    let mut by_seq: BTreeMap<u64, Vec<DecisionId>> = BTreeMap::new();
    for d in gov.decisions().values() {
        by_seq.entry(d.seq).or_default().push(d.id);
    }
    by_seq.retain(|_, ids| ids.len() > 1);
    prop_assert_eq!(&s.forks, &by_seq);
    let c = gov.charter();
    for (key, code) in &s.keys {
        let (m, grant) = s.key(key).expect("every key's member is known");
        prop_assert_eq!(&m.code, code);
        prop_assert_eq!(c.key_last_seq(key), Some(grant.last_seq()));
        prop_assert_eq!(c.member_by_key(key).map(|m| &m.code), Some(code));
    }
    prop_assert_eq!(c.known_keys().len(), s.keys.len());
    for m in s.members.values() {
        prop_assert_eq!(
            c.member_by_code(&m.code).map(|x| x.key),
            m.current_key().map(|p| p.key)
        );
    }
    Ok(())
}

fn steps_and_order() -> impl Strategy<Value = (Vec<Step>, Vec<usize>)> {
    steps().prop_flat_map(|steps| {
        let n: usize = steps.iter().map(Step::decisions).sum();
        (Just(steps), Just((0..n).collect::<Vec<_>>()).prop_shuffle())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The governance state is a function of the set of decisions: any order of insertion gives
    /// the same state, charter and digest.
    #[test]
    fn any_order_of_decisions_gives_one_state((steps, order) in steps_and_order()) {
        let net = net();
        let (reference, all) = build(&net, &steps);
        check_invariants(&reference)?;
        let reversed: Vec<usize> = (0..all.len()).rev().collect();
        for order in [order, reversed] {
            let mut gov = net.gov();
            for &i in &order {
                prop_assert!(gov.insert(all[i].clone()));
                // Every partial set is a governance of its own, whatever is still missing.
                check_invariants(&gov)?;
            }
            prop_assert_eq!(gov.state(), reference.state());
            prop_assert_eq!(gov.digest(), reference.digest());
            prop_assert_eq!(validity(gov.charter()), validity(reference.charter()));
            for d in &all {
                prop_assert!(!gov.insert(d.clone()), "inserted twice");
            }
        }
    }
}

/// Records per key in the simulation.
const LOG_LEN: u64 = 4;

/// What a simulated node receives.
#[derive(Debug, Clone)]
enum Item {
    Decision(Vec<u8>),
    Record { seq: u64, bytes: Vec<u8> },
}

/// A node that keeps one log per author, as a store would.
struct SimNode {
    gov: Governance,
    logs: BTreeMap<PublicKey, Vec<Record>>,
    refused: Vec<(u64, Vec<u8>)>,
}

impl SimNode {
    fn new(genesis: &Charter) -> Self {
        Self {
            gov: Governance::new(genesis.clone()),
            logs: BTreeMap::new(),
            refused: Vec::new(),
        }
    }

    fn receive(&mut self, item: &Item) {
        match item {
            Item::Decision(bytes) => {
                self.gov.insert_bytes(bytes).expect("a valid decision");
            }
            Item::Record { seq, bytes } => {
                if !self.offer(bytes) {
                    self.refused.push((*seq, bytes.clone()));
                }
            }
        }
    }

    /// Verifies under the current governance and appends if the record extends its log.
    fn offer(&mut self, bytes: &[u8]) -> bool {
        let Ok(r) = record::verify_record(bytes, self.gov.charter(), NOW) else {
            return false;
        };
        let log = self.logs.entry(r.header.author).or_default();
        let head = log.last().map(|h| ChainHead {
            seq: h.header.seq,
            id: h.id,
            created_at: h.header.created_at,
        });
        let at = usize::try_from(r.header.seq - 1)
            .ok()
            .and_then(|i| log.get(i))
            .map(|x| x.id);
        match chain::check_append(&r, head.as_ref(), at) {
            Ok(Append::Extends) => {
                log.push(r);
                true
            }
            Ok(Append::AlreadyStored) => true,
            Err(_) => false,
        }
    }

    /// Anti-entropy: what was refused is offered again, in seq order, until nothing changes.
    fn anti_entropy(&mut self) {
        loop {
            let mut pending = std::mem::take(&mut self.refused);
            let before = pending.len();
            pending.sort_by_key(|(seq, _)| *seq);
            for (seq, bytes) in pending {
                if !self.offer(&bytes) {
                    self.refused.push((seq, bytes));
                }
            }
            if self.refused.len() == before {
                return;
            }
        }
    }

    /// The records that count: held, and allowed by their key's validity.
    fn view(&self) -> BTreeSet<RecordId> {
        let c = self.gov.charter();
        self.logs
            .iter()
            .flat_map(|(author, log)| {
                log.iter()
                    .filter(|r| c.key_allows(author, r.header.seq))
                    .map(|r| r.id)
            })
            .collect()
    }
}

/// Every pool key's log of [`LOG_LEN`] records, signed once for all cases.
fn pool_logs() -> &'static BTreeMap<PublicKey, Vec<SignedRecord>> {
    static LOGS: std::sync::OnceLock<BTreeMap<PublicKey, Vec<SignedRecord>>> =
        std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let net = net();
        (0..POOL)
            .map(|i| {
                let key = pool_key(i);
                (key.public_key(), log_of(&key, &net.genesis, LOG_LEN, T0))
            })
            .collect()
    })
}

fn items_and_two_orders() -> impl Strategy<Value = (Vec<Step>, Vec<usize>, Vec<usize>)> {
    steps().prop_flat_map(|steps| {
        let n: usize =
            steps.iter().map(Step::decisions).sum::<usize>() + POOL as usize * LOG_LEN as usize;
        let all: Vec<usize> = (0..n).collect();
        (
            Just(steps),
            Just(all.clone()).prop_shuffle(),
            Just(all).prop_shuffle(),
        )
    })
}

fn run_node(net: &Net, items: &[Item], order: &[usize]) -> SimNode {
    let mut node = SimNode::new(&net.genesis);
    for &i in order {
        node.receive(&items[i]);
    }
    node.anti_entropy();
    node
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// A node that accepts a record iff it verifies under its current governance and extends its
    /// log, and re-offers refused records at the end, ends with the same view whatever order
    /// records and decisions arrived in: each key's records up to its last valid seq.
    #[test]
    fn any_interleaving_of_records_and_decisions_gives_one_view(
        (steps, first, second) in items_and_two_orders()
    ) {
        let net = net();
        let (_, decisions) = build(&net, &steps);
        let logs = pool_logs();
        let mut items: Vec<Item> = decisions
            .iter()
            .map(|d| Item::Decision(d.signed.encode_to_vec()))
            .collect();
        for log in logs.values() {
            for (i, r) in log.iter().enumerate() {
                items.push(Item::Record {
                    seq: i as u64 + 1,
                    bytes: r.encode(),
                });
            }
        }
        let a = run_node(&net, &items, &first);
        let b = run_node(&net, &items, &second);
        prop_assert_eq!(a.gov.state(), b.gov.state());
        prop_assert_eq!(a.view(), b.view());
        // And the view is what the final governance says: each known key's log up to its last
        // valid seq.
        let c = a.gov.charter();
        let expected: BTreeSet<RecordId> = c
            .known_keys()
            .into_iter()
            .flat_map(|(key, _, last)| {
                let n = last.map_or(LOG_LEN, |l| l.min(LOG_LEN));
                logs.get(&key)
                    .map(|log| log.iter().take(n as usize).map(SignedRecord::id).collect::<Vec<_>>())
                    .unwrap_or_default()
            })
            .collect();
        prop_assert_eq!(a.view(), expected);
    }
}

#[test]
fn a_limits_amendment_arriving_late_does_not_split_the_view() {
    // Records created at or after effective_from are judged by the amended limits, which may only
    // be raised. A node that meets a record before the amendment refuses it and takes it again by
    // anti-entropy once it knows the amendment; a node that meets the amendment first takes it at
    // once. A lowering amendment is void, so no node ever drops a record another keeps.
    let net = net();
    let effective_from = T0 + 1_000;
    let amend = |seq: u64, prev: Option<DecisionId>, max_short_text_bytes: u64| {
        net.signed(
            seq,
            prev,
            T_GOV + seq as i64,
            Action::AmendLimits {
                limits: Limits {
                    max_short_text_bytes,
                    ..Limits::DEFAULT
                },
                effective_from,
            },
        )
    };
    let raise = amend(1, None, 1024);
    let raise_id = RecordId(sha256(&raise.decision));
    let lower = amend(2, Some(raise_id), 16);
    let long = next_record(
        &net.members[KZ],
        &net.genesis,
        None,
        effective_from + 1,
        &practice(&"M".repeat(600)),
    );
    let short = next_record(
        &net.members[KZ],
        &net.genesis,
        Some(&long),
        effective_from + 2,
        &practice("Merit-based recruitment"),
    );
    let items = [
        Item::Decision(raise.encode_to_vec()),
        Item::Decision(lower.encode_to_vec()),
        Item::Record {
            seq: 1,
            bytes: long.encode(),
        },
        Item::Record {
            seq: 2,
            bytes: short.encode(),
        },
    ];
    let want: BTreeSet<RecordId> = [long.id(), short.id()].into();
    for order in [
        [0, 1, 2, 3],
        [2, 3, 0, 1],
        [2, 0, 3, 1],
        [1, 3, 2, 0],
        [3, 2, 1, 0],
    ] {
        let node = run_node(&net, &items, &order);
        assert_eq!(node.view(), want, "arrival order {order:?}");
        assert_eq!(node.gov.charter().limits().max_short_text_bytes, 1024);
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Checkpoints
// ---------------------------------------------------------------------------------------------

fn head_ref(log: &[SignedRecord]) -> HeadRef {
    let last = log.last().expect("a log");
    HeadRef {
        seq: log.len() as u64,
        id: last.id(),
    }
}

/// A verified checkpoint of `heads` by `key`.
fn checkpoint_of(
    key: &SecretKey,
    charter: &Charter,
    peer: &str,
    time: i64,
    heads: &[(PublicKey, HeadRef)],
    decisions: &(u64, Vec<u8>),
) -> Checkpoint {
    let heads: BTreeMap<PublicKey, HeadRef> = heads.iter().copied().collect();
    let signed = checkpoint::sign(key, charter, peer, time, &heads, decisions);
    checkpoint::verify(&signed, charter).expect("a member's checkpoint verifies")
}

fn at(author: PublicKey, seq: u64, id: RecordId) -> (PublicKey, HeadRef) {
    (author, HeadRef { seq, id })
}

#[test]
fn a_checkpoint_round_trips() {
    let net = net();
    let hub_log = log_of(&net.members[HUB], &net.genesis, 3, T0);
    let kz_log = log_of(&net.members[KZ], &net.genesis, 2, T0);
    let heads: BTreeMap<PublicKey, HeadRef> = [
        (net.members[HUB].public_key(), head_ref(&hub_log)),
        (net.members[KZ].public_key(), head_ref(&kz_log)),
    ]
    .into();
    let decisions = (2, vec![5; 32]);
    let signed = checkpoint::sign(
        &net.members[KG],
        &net.genesis,
        "12D3KooWpeer",
        NOW - 10,
        &heads,
        &decisions,
    );
    let c = checkpoint::verify_bytes(&signed.encode_to_vec(), &net.genesis).expect("valid");
    assert_eq!(c.id, RecordId(sha256(&signed.checkpoint)));
    assert_eq!(c.signer, net.members[KG].public_key());
    assert_eq!(c.member, "KG");
    assert_eq!(c.peer_id, "12D3KooWpeer");
    assert_eq!(c.time, NOW - 10);
    assert_eq!(c.heads, heads);
    assert_eq!(c.decisions, decisions);
    assert_eq!(c.signed, signed);
    assert_eq!(checkpoint::verify(&signed, &net.genesis), Ok(c));
    // No decisions yet: no digest.
    let empty = checkpoint_of(&net.members[KG], &net.genesis, "p", NOW, &[], &(0, vec![]));
    assert_eq!(empty.decisions, (0, vec![]));
    assert!(empty.heads.is_empty());
}

/// A checkpoint names one head per author: one of a network of 2,000 logs (about 150 KB) is
/// within the size a node accepts.
#[test]
fn a_checkpoint_of_two_thousand_heads_is_accepted() {
    let net = net();
    let heads: BTreeMap<PublicKey, HeadRef> = (0..2_000u32)
        .map(|i| {
            let mut author = [0u8; 32];
            author[..4].copy_from_slice(&i.to_be_bytes());
            (
                PublicKey::from_bytes_unchecked(author),
                HeadRef {
                    seq: u64::from(i) + 1_000_000,
                    id: RecordId([7; 32]),
                },
            )
        })
        .collect();
    let signed = checkpoint::sign(
        &net.members[KG],
        &net.genesis,
        "p",
        NOW,
        &heads,
        &(0, vec![]),
    );
    let bytes = signed.encode_to_vec();
    assert!(bytes.len() > 140_000, "{} bytes", bytes.len());
    let c = checkpoint::verify_bytes(&bytes, &net.genesis).expect("within the limit");
    assert_eq!(c.heads.len(), 2_000);
}

/// Checkpoints carry their version, which names their signature tag: this release signs 2 and
/// reads 0 (signed before the field existed) as 2. A higher version is `NewerVersion` whatever
/// its bytes (set aside without penalty); a node that understands it (a newer release, played
/// here by `verify_up_to`) verifies it under its own tag; version 1 is refused.
#[test]
fn checkpoint_versions_name_their_tag_and_newer_ones_are_set_aside() {
    let net = net();
    let kz = &net.members[KZ];
    let heads: BTreeMap<PublicKey, HeadRef> =
        [(kz.public_key(), head_ref(&log_of(kz, &net.genesis, 2, T0)))].into();
    let current = checkpoint::sign(kz, &net.genesis, "p", NOW, &heads, &(0, vec![]));
    assert_eq!(current.version, checkpoint::CHECKPOINT_VERSION);
    assert!(
        crate::charter::verify_signature(
            &kz.public_key(),
            &[
                checkpoint::CHECKPOINT_SIGNATURE_TAG,
                &[0],
                &current.checkpoint
            ]
            .concat(),
            &current.signature
        ),
        "version 2 is signed under the tag of version 2"
    );
    let c = checkpoint::verify(&current, &net.genesis).expect("verifies");
    let unversioned = pb::SignedCheckpoint {
        version: 0,
        ..current.clone()
    };
    assert_eq!(
        checkpoint::verify(&unversioned, &net.genesis).map(|c| c.id),
        Ok(c.id),
        "0 is version 2"
    );
    let newer = checkpoint::sign_version(3, kz, &net.genesis, "p", NOW, &heads, &(0, vec![]));
    let set_aside = Err(CheckpointError::NewerVersion {
        version: 3,
        understood: 2,
    });
    assert_eq!(checkpoint::verify(&newer, &net.genesis), set_aside);
    assert_eq!(
        checkpoint::verify_bytes(&newer.encode_to_vec(), &net.genesis),
        set_aside
    );
    // Whatever it holds: a newer version's fields may mean anything.
    let garbage = pb::SignedCheckpoint {
        checkpoint: vec![0xff; 9],
        signature: vec![],
        version: 7,
    };
    assert_eq!(
        checkpoint::verify(&garbage, &net.genesis),
        Err(CheckpointError::NewerVersion {
            version: 7,
            understood: 2,
        })
    );
    // A newer release verifies its own version under its own tag, and still reads version 2.
    let read = checkpoint::verify_up_to(&newer, &net.genesis, 3).expect("understood");
    assert_eq!(read.heads, heads);
    assert_eq!(
        checkpoint::verify_up_to(&current, &net.genesis, 3).map(|c| c.id),
        Ok(c.id)
    );
    // The version is bound by the tag: relabelled, the signature no longer verifies.
    let relabelled = pb::SignedCheckpoint {
        version: 2,
        ..newer.clone()
    };
    assert_eq!(
        checkpoint::verify(&relabelled, &net.genesis),
        Err(CheckpointError::BadSignature(kz.public_key().to_hex()))
    );
    let old = pb::SignedCheckpoint {
        version: 1,
        ..current
    };
    assert_eq!(
        checkpoint::verify(&old, &net.genesis),
        Err(CheckpointError::OldVersion(1))
    );
}

/// A checkpoint of exactly `MAX_CHECKPOINT_BYTES` is judged on its content, one byte more is
/// refused for its size, whether it comes as bytes or already decoded.
#[test]
fn a_checkpoint_at_the_size_limit_is_read_and_one_byte_more_is_not() {
    let net = net();
    let max = checkpoint::MAX_CHECKPOINT_BYTES;
    let of_size = |size: usize| {
        // Field 1 (3-byte length), field 2 (64 bytes): 1 + 3 + n + 1 + 1 + 64 bytes in all.
        let signed = pb::SignedCheckpoint {
            checkpoint: vec![0xff; size - 70],
            signature: vec![0; 64],
            version: 0,
        };
        assert_eq!(signed.encoded_len(), size);
        signed
    };
    let at = of_size(max);
    assert!(matches!(
        checkpoint::verify(&at, &net.genesis),
        Err(CheckpointError::Malformed(_))
    ));
    assert!(matches!(
        checkpoint::verify_bytes(&at.encode_to_vec(), &net.genesis),
        Err(CheckpointError::Malformed(_))
    ));
    let over = of_size(max + 1);
    assert_eq!(
        checkpoint::verify(&over, &net.genesis),
        Err(CheckpointError::TooLarge(max + 1))
    );
    assert_eq!(
        checkpoint::verify_bytes(&over.encode_to_vec(), &net.genesis),
        Err(CheckpointError::TooLarge(max + 1))
    );
}

/// An admission that names the member in every language the limits allow (about 8 KB) is well
/// within the size of a decision.
#[test]
fn a_decision_naming_a_member_in_sixteen_languages_is_accepted() {
    let net = net();
    let languages = [
        "en", "ru", "kk", "ky", "tg", "uz", "az", "hy", "ka", "mn", "tk", "fa", "tr", "de", "fr",
        "zh",
    ];
    let name: BTreeMap<String, String> = languages
        .iter()
        .map(|l| {
            (
                (*l).to_owned(),
                "Агентство по делам государственной службы ".repeat(6),
            )
        })
        .collect();
    let signed = net.signed(
        1,
        None,
        T_GOV,
        Action::Admit {
            code: "MN".into(),
            name,
            key: fresh_key(61).public_key(),
        },
    );
    let bytes = signed.encode_to_vec();
    assert!(bytes.len() > 8_000, "{} bytes", bytes.len());
    let d = verify_decision_bytes(&bytes, &net.genesis).expect("a decision of 8 KB");
    assert!(matches!(d.action, Action::Admit { ref name, .. } if name.len() == 16));
}

/// A decision of exactly `MAX_DECISION_BYTES` is judged on its content, one byte more is refused
/// for its size, as a proposal and as bytes.
#[test]
fn a_decision_at_the_size_limit_is_read_and_one_byte_more_is_not() {
    let net = net();
    let of_size = |size: usize| {
        // Field 1 with a 3-byte length: 1 + 3 + n bytes.
        let signed = pb::SignedDecision {
            decision: vec![0xff; size - 4],
            signatures: vec![],
        };
        assert_eq!(signed.encoded_len(), size);
        signed
    };
    let at = of_size(MAX_DECISION_BYTES);
    assert!(matches!(
        check_proposal(&at, &net.genesis),
        Err(GovernanceError::Malformed(_))
    ));
    assert!(matches!(
        verify_decision_bytes(&at.encode_to_vec(), &net.genesis),
        Err(GovernanceError::Malformed(_))
    ));
    let over = of_size(MAX_DECISION_BYTES + 1);
    assert_eq!(
        check_proposal(&over, &net.genesis),
        Err(GovernanceError::TooLarge(MAX_DECISION_BYTES + 1))
    );
    assert_eq!(
        verify_decision_bytes(&over.encode_to_vec(), &net.genesis),
        Err(GovernanceError::TooLarge(MAX_DECISION_BYTES + 1))
    );
}

/// Each action reads as one line that names what it does and its arguments (CLI, API, audit).
#[test]
fn each_action_describes_itself() {
    let key = fresh_key(60).public_key();
    let limits = Limits {
        max_record_bytes: 131_072,
        max_records_per_hour: 500,
        ..Limits::DEFAULT
    };
    let cases = [
        (
            Action::Admit {
                code: "MN".into(),
                name: BTreeMap::from([("en".into(), "Mongolia".into())]),
                key,
            },
            format!("admit MN with key {key}"),
        ),
        (
            Action::Suspend {
                code: "KZ".into(),
                last_seq: 12,
            },
            "suspend KZ after seq 12 of its current key".into(),
        ),
        (
            Action::Reinstate { code: "KZ".into() },
            "reinstate KZ".into(),
        ),
        (
            Action::RotateKey {
                code: "KG".into(),
                new_key: key,
                old_key_last_seq: 7,
            },
            format!("rotate KG's key to {key}; the old key may sign up to seq 7"),
        ),
        (
            Action::RevokeKey {
                key,
                last_valid_seq: 3,
            },
            format!("revoke key {key}; its records after seq 3 are invalid"),
        ),
        (
            Action::AmendLimits {
                limits,
                effective_from: NOW,
            },
            format!(
                "amend limits from {NOW} ms (max_record_bytes 131072, max_records_per_hour 500)"
            ),
        ),
        (
            // Lists without additions are left out.
            Action::AmendVocabulary {
                additions: vocabulary(
                    r#"
                    [[topics]]
                    slug = "mentoring"
                    name = { en = "Mentoring" }
                    [[topics]]
                    slug = "onboarding"
                    name = { en = "Onboarding" }
                    [[indicators]]
                    code = "hub:time-to-hire"
                    name = { en = "Time to hire" }
                    unit = "days"
                    higher_is_better = false
                    reform_area = "public-service-hrm"
                    "#,
                ),
            },
            "add to the vocabulary: topics mentoring, onboarding; indicators hub:time-to-hire"
                .into(),
        ),
    ];
    for (action, expected) in cases {
        assert_eq!(action.describe(), expected);
    }
}

#[test]
fn a_rotated_members_former_key_still_signs_checkpoints_it_made() {
    let net = net();
    let mut gov = net.gov();
    let old = &net.members[KZ];
    let before = checkpoint::sign(old, &net.genesis, "p", T0, &BTreeMap::new(), &(0, vec![]));
    net.decide(
        &mut gov,
        Action::RotateKey {
            code: "KZ".into(),
            new_key: fresh_key(50).public_key(),
            old_key_last_seq: 1,
        },
    );
    let c = checkpoint::verify(&before, gov.charter()).expect("still evidence");
    assert_eq!(c.member, "KZ");
    let new = checkpoint::sign(
        &fresh_key(50),
        gov.charter(),
        "p",
        NOW,
        &BTreeMap::new(),
        &(1, vec![7; 32]),
    );
    assert_eq!(
        checkpoint::verify(&new, gov.charter()).map(|c| c.member),
        Ok("KZ".into())
    );
    assert_eq!(
        checkpoint::verify(&new, &net.genesis),
        Err(CheckpointError::UnknownSigner(
            fresh_key(50).public_key().to_hex()
        ))
    );
}

#[test]
fn bad_checkpoints_are_refused() {
    let net = net();
    let heads = BTreeMap::from([at(net.members[HUB].public_key(), 1, RecordId([1; 32]))]);
    // Not a member: a committee key, or a stranger.
    for key in [&net.committee[0], &fresh_key(77)] {
        let signed = checkpoint::sign(key, &net.genesis, "p", NOW, &heads, &(0, vec![]));
        let hex = key.public_key().to_hex();
        let err = checkpoint::verify(&signed, &net.genesis).expect_err("refused");
        assert_eq!(err, CheckpointError::UnknownSigner(hex.clone()));
        assert!(err.to_string().contains(&hex));
    }
    // A flipped signature bit, and a changed checkpoint.
    let kz = &net.members[KZ];
    let hex = kz.public_key().to_hex();
    let mut flipped = checkpoint::sign(kz, &net.genesis, "p", NOW, &heads, &(0, vec![]));
    flipped.signature[0] ^= 1;
    assert_eq!(
        checkpoint::verify(&flipped, &net.genesis),
        Err(CheckpointError::BadSignature(hex.clone()))
    );
    let mut changed = checkpoint::sign(kz, &net.genesis, "p", NOW, &heads, &(0, vec![]));
    let mut inner = pb::Checkpoint::decode(changed.checkpoint.as_slice()).expect("decodes");
    inner.time += 1;
    changed.checkpoint = inner.encode_to_vec();
    assert_eq!(
        checkpoint::verify(&changed, &net.genesis),
        Err(CheckpointError::BadSignature(hex))
    );
    // Another network.
    let (doc, _, _) = sample(2);
    let other = doc.verify().expect("valid");
    let foreign = checkpoint::sign(kz, &other, "p", NOW, &heads, &(0, vec![]));
    assert_eq!(
        checkpoint::verify(&foreign, &net.genesis),
        Err(CheckpointError::WrongNetwork(other.network_id().to_hex()))
    );
    // Garbage, a short signer, an author twice, oversized.
    assert!(matches!(
        checkpoint::verify_bytes(&[0xff, 0xff], &net.genesis),
        Err(CheckpointError::Malformed(_))
    ));
    let resign = |c: pb::Checkpoint| pb::SignedCheckpoint {
        checkpoint: c.encode_to_vec(),
        signature: kz.sign(&[]).to_vec(),
        version: checkpoint::CHECKPOINT_VERSION,
    };
    let base = pb::Checkpoint::decode(
        checkpoint::sign(kz, &net.genesis, "p", NOW, &heads, &(0, vec![]))
            .checkpoint
            .as_slice(),
    )
    .expect("decodes");
    let short_signer = pb::Checkpoint {
        signer: vec![1; 31],
        ..base.clone()
    };
    assert!(matches!(
        checkpoint::verify(&resign(short_signer), &net.genesis),
        Err(CheckpointError::Malformed(_))
    ));
    assert_eq!(
        checkpoint::verify_bytes(&vec![0; checkpoint::MAX_CHECKPOINT_BYTES + 1], &net.genesis),
        Err(CheckpointError::TooLarge(
            checkpoint::MAX_CHECKPOINT_BYTES + 1
        ))
    );
    let mut twice = checkpoint::sign(kz, &net.genesis, "p", NOW, &heads, &(0, vec![]));
    let mut inner = pb::Checkpoint::decode(twice.checkpoint.as_slice()).expect("decodes");
    inner.heads.push(inner.heads[0].clone());
    twice.checkpoint = inner.encode_to_vec();
    twice.signature = kz
        .sign(
            &[
                checkpoint::CHECKPOINT_SIGNATURE_TAG,
                &[0],
                &twice.checkpoint,
            ]
            .concat(),
        )
        .to_vec();
    assert!(matches!(
        checkpoint::verify(&twice, &net.genesis),
        Err(CheckpointError::Malformed(m)) if m.contains("twice")
    ));
}

#[test]
fn a_checkpoint_signed_by_a_revoked_key_is_no_evidence() {
    let net = net();
    let mut gov = net.gov();
    let kz = &net.members[KZ];
    let signed = checkpoint::sign(kz, gov.charter(), "p", NOW, &BTreeMap::new(), &(0, vec![]));
    assert!(checkpoint::verify(&signed, gov.charter()).is_ok());
    assert!(!gov.charter().key_revoked(&kz.public_key()));
    net.decide(
        &mut gov,
        Action::RevokeKey {
            key: kz.public_key(),
            last_valid_seq: 0,
        },
    );
    // Whoever holds a compromised key may sign anything with it: neither an old checkpoint nor
    // a new one is evidence against KZ's node any more.
    assert!(gov.charter().key_revoked(&kz.public_key()));
    let forged = checkpoint::sign(
        kz,
        gov.charter(),
        "p",
        NOW,
        &BTreeMap::new(),
        &(1, vec![7; 32]),
    );
    for c in [&signed, &forged] {
        assert_eq!(
            checkpoint::verify(c, gov.charter()),
            Err(CheckpointError::RevokedSigner(kz.public_key().to_hex()))
        );
    }
}

#[test]
fn a_checkpoints_decision_count_and_digest_must_agree() {
    let net = net();
    let kz = &net.members[KZ];
    for (count, digest) in [(0, vec![1; 32]), (2, vec![]), (2, vec![1; 31])] {
        let len = digest.len();
        let signed = checkpoint::sign(
            kz,
            &net.genesis,
            "p",
            NOW,
            &BTreeMap::new(),
            &(count, digest),
        );
        assert_eq!(
            checkpoint::verify(&signed, &net.genesis),
            Err(CheckpointError::BadDecisions { count, len })
        );
    }
}

/// The one helper of the conflict tests: checks both argument orders give `expected`.
fn check_conflicts(a: &Checkpoint, b: &Checkpoint, expected: &[Conflict]) {
    assert_eq!(checkpoint::conflicts(a, b), expected);
    assert_eq!(checkpoint::conflicts(b, a), expected, "order of arguments");
}

#[test]
fn contradicting_checkpoints_are_found() {
    let net = net();
    let kz = &net.members[KZ];
    let hub = net.members[HUB].public_key();
    let kg = net.members[KG].public_key();
    let (x, y, z) = (RecordId([1; 32]), RecordId([2; 32]), RecordId([3; 32]));
    let (g1, g2) = (&(1, vec![8; 32]), &(2, vec![9; 32]));
    let cp = |time: i64, heads: &[(PublicKey, HeadRef)], decisions: &(u64, Vec<u8>)| {
        checkpoint_of(kz, &net.genesis, "peer-kz", time, heads, decisions)
    };
    let first = cp(T0, &[at(hub, 3, x), at(kg, 2, y)], g1);

    // Moving on is no conflict; new authors neither.
    let later = cp(
        T0 + 1,
        &[at(hub, 5, z), at(kg, 2, y), at(kz.public_key(), 1, x)],
        g2,
    );
    check_conflicts(&first, &later, &[]);
    check_conflicts(&first, &first.clone(), &[]);

    // Equivocation: another record at the same seq.
    let other = cp(T0 + 1, &[at(hub, 3, z), at(kg, 2, y)], g1);
    check_conflicts(
        &first,
        &other,
        &[Conflict::Equivocation {
            author: hub,
            seq: 3,
            first: x,
            second: z,
        }],
    );

    // Rollback: a lower seq later, or the author gone.
    let lower = cp(T0 + 1, &[at(hub, 2, x), at(kg, 2, y)], g1);
    check_conflicts(
        &first,
        &lower,
        &[Conflict::Rollback {
            author: hub,
            from_seq: 3,
            to_seq: 2,
        }],
    );
    let dropped = cp(T0 + 1, &[at(hub, 3, x)], g1);
    check_conflicts(
        &first,
        &dropped,
        &[Conflict::Rollback {
            author: kg,
            from_seq: 2,
            to_seq: 0,
        }],
    );
    // A higher seq earlier is the same rollback whichever way round the arguments come.
    let earlier_higher = cp(T0 - 1, &[at(hub, 4, x), at(kg, 2, y)], g1);
    check_conflicts(
        &first,
        &earlier_higher,
        &[Conflict::Rollback {
            author: hub,
            from_seq: 4,
            to_seq: 3,
        }],
    );

    // Governance rollback: fewer decisions, or as many but another set.
    let fewer = cp(T0 + 1, &[at(hub, 3, x), at(kg, 2, y)], &(0, vec![]));
    check_conflicts(
        &first,
        &fewer,
        &[Conflict::GovernanceRollback {
            from_count: 1,
            to_count: 0,
        }],
    );
    let swapped = cp(T0 + 1, &[at(hub, 3, x), at(kg, 2, y)], &(1, vec![9; 32]));
    check_conflicts(
        &first,
        &swapped,
        &[Conflict::GovernanceRollback {
            from_count: 1,
            to_count: 1,
        }],
    );

    // Several at once, all reported.
    let everything = cp(T0 + 1, &[at(hub, 3, z)], &(0, vec![]));
    assert_eq!(checkpoint::conflicts(&first, &everything).len(), 3);
}

#[test]
fn an_honest_node_whose_governance_fork_resolves_is_not_accused() {
    let net = net();
    let (winner, loser) = fork_at_1(&net);
    let on_loser = net.decision(
        2,
        Some(loser.id),
        T_GOV + 5,
        Action::Reinstate { code: "KZ".into() },
    );
    let mut gov = net.gov();
    gov.insert(loser);
    gov.insert(on_loser);
    let kz = &net.members[KZ];
    let before = checkpoint_of(kz, &net.genesis, "p", T0, &[], &gov.digest());
    assert_eq!(gov.state().chain.len(), 2);
    gov.insert(winner);
    // The canonical chain went from two decisions to one, but the node signs the decisions it
    // holds, which only grow.
    assert_eq!(gov.state().chain.len(), 1);
    let after = checkpoint_of(kz, &net.genesis, "p", T0 + 1, &[], &gov.digest());
    assert_eq!(before.decisions.0, 2);
    assert_eq!(after.decisions.0, 3);
    assert_eq!(checkpoint::conflicts(&before, &after), vec![]);
}

#[test]
fn a_nodes_answers_are_held_against_its_checkpoint() {
    let net = net();
    let hub = net.members[HUB].public_key();
    let kg = net.members[KG].public_key();
    let (x, y) = (RecordId([1; 32]), RecordId([2; 32]));
    let c = checkpoint_of(
        &net.members[KZ],
        &net.genesis,
        "p",
        T0,
        &[at(hub, 3, x), at(kg, 2, y)],
        &(0, vec![]),
    );
    // `served` maps (author, seq) to the id the node serves now.
    let check_served = |served: &[(PublicKey, u64, RecordId)], expected: &[Conflict]| {
        let head = |a: &PublicKey| {
            let mut h = 0;
            while served.iter().any(|(x, s, _)| x == a && *s == h + 1) {
                h += 1;
            }
            h
        };
        let at = |a: &PublicKey, seq: u64| {
            served
                .iter()
                .find(|(x, s, _)| x == a && *s == seq)
                .map(|(_, _, id)| *id)
        };
        assert_eq!(checkpoint::served_conflicts(&c, head, at), expected);
    };
    let z = RecordId([7; 32]);
    let full = [
        (hub, 1, z),
        (hub, 2, z),
        (hub, 3, x),
        (kg, 1, z),
        (kg, 2, y),
    ];
    check_served(&full, &[]);
    let mut longer = full.to_vec();
    longer.push((hub, 4, z));
    check_served(&longer, &[]);
    check_served(
        &full[..2],
        &[
            Conflict::Rollback {
                author: hub,
                from_seq: 3,
                to_seq: 2,
            },
            Conflict::Rollback {
                author: kg,
                from_seq: 2,
                to_seq: 0,
            },
        ],
    );
    let mut other = full.to_vec();
    other[2] = (hub, 3, z);
    check_served(
        &other,
        &[Conflict::Equivocation {
            author: hub,
            seq: 3,
            first: x,
            second: z,
        }],
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Audits
// ---------------------------------------------------------------------------------------------

const HONEST: &str = "http://honest.example:8080";
const ROGUE: &str = "http://rogue.example:8080";

/// A source as a CLI would build it: its records checked with the audit's charter.
fn source(
    name: &str,
    peer_id: Option<&str>,
    gov: &Governance,
    records: &[&SignedRecord],
    checkpoints: &[&pb::SignedCheckpoint],
) -> SourceInput {
    let mut check = BundleCheck::new(gov.charter(), NOW);
    for r in records {
        check.add(&r.encode());
    }
    SourceInput {
        name: name.into(),
        peer_id: peer_id.map(String::from),
        member: None,
        report: check.finish(),
        decisions: gov.decisions().keys().copied().collect(),
        checkpoints: checkpoints.iter().map(|c| c.encode_to_vec()).collect(),
    }
}

/// An audit of an honest source and a rogue one (no checkpoints).
fn audit_pair(gov: &Governance, honest: &[&SignedRecord], rogue: &[&SignedRecord]) -> AuditReport {
    audit(
        gov,
        vec![
            source(HONEST, None, gov, honest, &[]),
            source(ROGUE, None, gov, rogue, &[]),
        ],
    )
}

/// The one problem of `kind` in `report`.
fn only(report: &AuditReport, kind: ProblemKind) -> &Problem {
    let found = problems(report, kind);
    assert_eq!(found.len(), 1, "{found:#?}");
    found[0]
}

fn audit(gov: &Governance, sources: Vec<SourceInput>) -> AuditReport {
    let mut a = Auditor::new(gov.clone(), NOW, GRACE);
    for s in sources {
        a.add(s);
    }
    a.finish()
}

/// The problems of `kind`, at least one (so the report is not clean).
fn problems(report: &AuditReport, kind: ProblemKind) -> Vec<&Problem> {
    let found: Vec<&Problem> = report.problems.iter().filter(|p| p.kind == kind).collect();
    assert!(!found.is_empty(), "no {kind:?} in {:#?}", report.problems);
    assert!(!report.is_clean(), "a report with problems is not clean");
    found
}

/// A problem the caller found itself (a source it could not read, say) is reported as given.
#[test]
fn a_problem_handed_to_the_auditor_is_reported() {
    let net = net();
    let gov = net.gov();
    let mut a = Auditor::new(gov.clone(), NOW, GRACE);
    a.problem(Problem::new(
        ProblemKind::Damaged,
        "node b: the connection was cut".into(),
    ));
    let report = a.finish();
    let damaged = only(&report, ProblemKind::Damaged);
    assert_eq!(damaged.message, "node b: the connection was cut");
}

fn evidence_ids(p: &Problem) -> BTreeSet<RecordId> {
    p.evidence.iter().filter_map(|e| e.id).collect()
}

/// The three charter members' logs: HUB 3 records, KZ 2, KG 2.
fn honest_logs(net: &Net) -> Vec<Vec<SignedRecord>> {
    vec![
        log_of(&net.members[HUB], &net.genesis, 3, T0),
        log_of(&net.members[KZ], &net.genesis, 2, T0),
        log_of(&net.members[KG], &net.genesis, 2, T0),
    ]
}

fn all(logs: &[Vec<SignedRecord>]) -> Vec<&SignedRecord> {
    logs.iter().flatten().collect()
}

#[test]
fn audit_of_identical_honest_sources_is_clean() {
    let net = net();
    let mut gov = net.gov();
    let new_kz = fresh_key(50);
    let mut logs = honest_logs(&net);
    net.decide(
        &mut gov,
        Action::RotateKey {
            code: "KZ".into(),
            new_key: new_kz.public_key(),
            old_key_last_seq: 2,
        },
    );
    logs.push(log_of(&new_kz, &net.genesis, 1, T0 + 500));
    let heads: Vec<(PublicKey, HeadRef)> = logs
        .iter()
        .map(|l| {
            let h = record::Header::decode(&l[0].header).expect("header");
            (h.author, head_ref(l))
        })
        .collect();
    let heads: BTreeMap<PublicKey, HeadRef> = heads.into_iter().collect();
    let g = &gov.digest();
    let early = checkpoint::sign(
        &net.members[HUB],
        gov.charter(),
        "peer-1",
        NOW - 600_000,
        &BTreeMap::new(),
        &(0, vec![]),
    );
    let one = checkpoint::sign(
        &net.members[HUB],
        gov.charter(),
        "peer-1",
        NOW - 300_000,
        &heads,
        g,
    );
    let two = checkpoint::sign(&new_kz, gov.charter(), "peer-2", NOW - 300_000, &heads, g);
    let records = all(&logs);
    let report = audit(
        &gov,
        vec![
            source(
                HONEST,
                Some("peer-1"),
                &gov,
                &records,
                &[&early, &one, &two],
            ),
            source(
                "http://second.example:8080",
                Some("peer-2"),
                &gov,
                &records,
                &[&one, &two],
            ),
        ],
    );
    assert!(report.is_clean(), "{:#?}", report.problems);
    assert_eq!(report.sources.len(), 2);
    assert_eq!(report.sources[0].records, records.len() as u64);
    assert_eq!(report.sources[0].decisions, 1);
    assert_eq!(report.checkpoints, 3);
    assert_eq!(report.network_id, net.genesis.network_id().to_hex());
    assert_eq!(report.generated_at, NOW);
    assert_eq!(report.governance.len(), 1);
    assert_eq!(report.governance[0].status, DecisionStatus::Applied);
    assert_eq!(report.governance[0].signers.len(), 2);
    // One summary per key: KZ has two.
    assert_eq!(report.keys.len(), 4);
    let old_kz = report
        .keys
        .iter()
        .find(|k| k.key == net.members[KZ].public_key().to_hex())
        .expect("the former key");
    assert_eq!(
        (old_kz.code.as_str(), old_kz.last_valid_seq, old_kz.head_seq),
        ("KZ", Some(2), 2)
    );
}

#[test]
fn audit_names_the_source_serving_a_forgery() {
    let net = net();
    let gov = net.gov();
    let logs = honest_logs(&net);
    let mut forged = logs[0][1].clone();
    forged.body[5] ^= 1;
    let honest = all(&logs);
    let rogue: Vec<&SignedRecord> = honest
        .iter()
        .map(|r| if r.id() == forged.id() { &forged } else { *r })
        .collect();
    let report = audit_pair(&gov, &honest, &rogue);
    let p = only(&report, ProblemKind::Forgery);
    assert_eq!(p.node.as_deref(), Some(ROGUE));
    assert_eq!(p.member.as_deref(), Some("HUB"));
    assert_eq!(p.seq, Some(2));
    assert_eq!(p.record, Some(forged.id()));
    assert_eq!(evidence_ids(p), BTreeSet::from([forged.id()]));
    assert!(p.evidence[0].header.as_deref() == Some(hex::encode(&forged.header).as_str()));
    assert!(p.message.contains("body"), "{}", p.message);
    // The honest source is not blamed for anything.
    assert!(
        report
            .problems
            .iter()
            .all(|p| p.node.as_deref() != Some(HONEST)),
        "{:#?}",
        report.problems
    );
}

#[test]
fn audit_finds_a_split_view_with_both_records() {
    let net = net();
    let gov = net.gov();
    let logs = honest_logs(&net);
    // KZ signs two different records at seq 3.
    let kz = &net.members[KZ];
    let a = next_record(
        kz,
        &net.genesis,
        logs[1].last(),
        T0 + 10,
        &practice("Branch A"),
    );
    let b = next_record(
        kz,
        &net.genesis,
        logs[1].last(),
        T0 + 10,
        &practice("Branch B"),
    );
    assert_ne!(a.id(), b.id());
    let mut one = all(&logs);
    one.push(&a);
    let mut other = all(&logs);
    other.push(&b);
    let report = audit_pair(&gov, &one, &other);
    let p = only(&report, ProblemKind::SplitView);
    // Neither source is KZ's own node: the fault is the author's, no node is named.
    assert_eq!(p.node, None);
    assert_eq!(p.member.as_deref(), Some("KZ"));
    assert_eq!(p.author, Some(kz.public_key()));
    assert_eq!(p.seq, Some(3));
    assert_eq!(evidence_ids(p), BTreeSet::from([a.id(), b.id()]));
    for name in [HONEST, ROGUE] {
        assert!(p.message.contains(name), "{}", p.message);
    }
    // Neither source holds the fork itself.
    assert!(!report.problems.iter().any(|p| p.kind == ProblemKind::Fork));

    // When KZ's own node is among the sources, the split view names it.
    let mut kz_node = source(ROGUE, None, &gov, &other, &[]);
    kz_node.member = Some("KZ".into());
    let report = audit(&gov, vec![source(HONEST, None, &gov, &one, &[]), kz_node]);
    assert_eq!(
        only(&report, ProblemKind::SplitView).node.as_deref(),
        Some(ROGUE)
    );
}

#[test]
fn audit_names_the_source_omitting_a_settled_record() {
    let net = net();
    let gov = net.gov();
    let mut logs = honest_logs(&net);
    // A young record (inside the grace period) that the rogue also lacks: no omission.
    let young = next_record(
        &net.members[KG],
        &net.genesis,
        logs[2].last(),
        NOW - GRACE / 2,
        &practice("Fresh"),
    );
    let missing = logs[0].pop().expect("HUB seq 3");
    let rogue = all(&logs);
    let honest: Vec<&SignedRecord> = all(&logs).into_iter().chain([&young, &missing]).collect();
    let report = audit_pair(&gov, &honest, &rogue);
    let p = only(&report, ProblemKind::Omission);
    assert_eq!(p.node.as_deref(), Some(ROGUE));
    assert_eq!(p.member.as_deref(), Some("HUB"));
    assert_eq!(p.seq, Some(3));
    assert_eq!(p.record, Some(missing.id()));
    assert_eq!(evidence_ids(p), BTreeSet::from([missing.id()]));
    assert!(
        p.message.contains(ROGUE) && p.message.contains(HONEST),
        "{}",
        p.message
    );
    assert_eq!(report.problems.len(), 1, "{:#?}", report.problems);
}

#[test]
fn audit_names_the_source_omitting_a_decision() {
    let net = net();
    let mut gov = net.gov();
    let d = net.decide(&mut gov, Action::Reinstate { code: "KZ".into() });
    let logs = honest_logs(&net);
    let mut rogue = source(ROGUE, None, &gov, &all(&logs), &[]);
    rogue.decisions.clear();
    let report = audit(
        &gov,
        vec![source(HONEST, None, &gov, &all(&logs), &[]), rogue],
    );
    let p = only(&report, ProblemKind::Omission);
    assert_eq!(p.node.as_deref(), Some(ROGUE));
    assert_eq!(p.record, Some(d.id));
}

#[test]
fn audit_reports_a_governance_fork_with_both_decisions() {
    let net = net();
    let (winner, loser) = fork_at_1(&net);
    let mut gov = net.gov();
    gov.insert(winner.clone());
    gov.insert(loser.clone());
    let report = audit(&gov, vec![source(HONEST, None, &gov, &[], &[])]);
    let p = only(&report, ProblemKind::GovernanceFork);
    assert_eq!(p.seq, Some(1));
    assert_eq!(evidence_ids(p), BTreeSet::from([winner.id, loser.id]));
    let timeline: Vec<(DecisionId, DecisionStatus)> = report
        .governance
        .iter()
        .map(|d| (d.id, d.status.clone()))
        .collect();
    assert!(timeline.contains(&(winner.id, DecisionStatus::Applied)));
    assert!(timeline.contains(&(loser.id, DecisionStatus::OffChain)));
}

#[test]
fn audit_holds_a_nodes_own_checkpoint_against_its_answers() {
    let net = net();
    let gov = net.gov();
    let logs = honest_logs(&net);
    let kz = &net.members[KZ];
    // The rogue node (KZ's, peer "peer-rogue") once signed HUB's head at seq 3...
    let heads = BTreeMap::from([
        (net.members[HUB].public_key(), head_ref(&logs[0])),
        (kz.public_key(), head_ref(&logs[1])),
    ]);
    let signed = checkpoint::sign(
        kz,
        gov.charter(),
        "peer-rogue",
        NOW - 600_000,
        &heads,
        &(0, vec![]),
    );
    // ...and now serves HUB's log only to seq 2. The honest node kept the checkpoint.
    let honest = all(&logs);
    let rogue: Vec<&SignedRecord> = honest
        .iter()
        .copied()
        .filter(|r| r.id() != logs[0][2].id())
        .collect();
    let report = audit(
        &gov,
        vec![
            source(HONEST, Some("peer-honest"), &gov, &honest, &[&signed]),
            source(ROGUE, Some("peer-rogue"), &gov, &rogue, &[]),
        ],
    );
    let p = only(&report, ProblemKind::Rollback);
    let node = p.node.as_deref().expect("the node is named");
    assert!(
        node.contains(ROGUE) && node.contains("peer-rogue"),
        "{node}"
    );
    assert_eq!(p.author, Some(net.members[HUB].public_key()));
    assert_eq!(p.member.as_deref(), Some("HUB"));
    assert_eq!(p.seq, Some(3));
    assert_eq!(p.evidence.len(), 1);
    let c = checkpoint::verify(&signed, gov.charter()).expect("valid");
    assert_eq!(p.evidence[0].id, Some(c.id));
    assert_eq!(
        p.evidence[0].signed.as_deref(),
        Some(hex::encode(signed.encode_to_vec()).as_str())
    );
    assert!(p.message.contains("from seq 3 to 2"), "{}", p.message);
    // The same checkpoint held against the honest node (other peer id) finds nothing.
    assert!(
        report
            .problems
            .iter()
            .all(|p| p.node.as_deref().is_none_or(|n| !n.contains(HONEST))),
        "{:#?}",
        report.problems
    );
}

#[test]
fn audit_flags_a_revoked_keys_later_record() {
    let net = net();
    let mut gov = net.gov();
    let logs = honest_logs(&net);
    let hub = &net.members[HUB];
    net.decide(
        &mut gov,
        Action::RevokeKey {
            key: hub.public_key(),
            last_valid_seq: 2,
        },
    );
    // The honest node serves HUB's log to its last valid seq; the rogue serves seq 3 too.
    let rogue = all(&logs);
    let honest: Vec<&SignedRecord> = rogue
        .iter()
        .copied()
        .filter(|r| r.id() != logs[0][2].id())
        .collect();
    let report = audit_pair(&gov, &honest, &rogue);
    let p = only(&report, ProblemKind::InvalidKey);
    assert_eq!(p.node.as_deref(), Some(ROGUE));
    assert_eq!(p.author, Some(hub.public_key()));
    assert_eq!(p.member.as_deref(), Some("HUB"));
    assert_eq!(p.seq, Some(3));
    assert_eq!(evidence_ids(p), BTreeSet::from([logs[0][2].id()]));
    assert!(p.message.contains("last valid seq 2"), "{}", p.message);
    // Not serving an invalid record is no omission.
    assert_eq!(report.problems.len(), 1, "{:#?}", report.problems);
    let summary = report
        .keys
        .iter()
        .find(|k| k.key == hub.public_key().to_hex())
        .expect("HUB's key");
    assert_eq!(summary.last_valid_seq, Some(2));
    // Its log counts only the records that count.
    assert_eq!((summary.records, summary.head_seq), (2, 2));
    assert_eq!(summary.head_id, Some(logs[0][1].id()));
}

#[test]
fn audit_finds_a_node_that_signed_two_views() {
    let net = net();
    let gov = net.gov();
    let logs = honest_logs(&net);
    let kz = &net.members[KZ];
    let hub = net.members[HUB].public_key();
    let real = head_ref(&logs[0]);
    let fake = HeadRef {
        seq: real.seq,
        id: RecordId([0xee; 32]),
    };
    let first = checkpoint::sign(
        kz,
        gov.charter(),
        "peer-rogue",
        NOW - 900_000,
        &[(hub, real)].into(),
        &(0, vec![]),
    );
    let second = checkpoint::sign(
        kz,
        gov.charter(),
        "peer-rogue",
        NOW - 600_000,
        &[(hub, fake)].into(),
        &(0, vec![]),
    );
    let records = all(&logs);
    let report = audit(
        &gov,
        vec![
            source(HONEST, Some("peer-honest"), &gov, &records, &[&first]),
            source(ROGUE, Some("peer-rogue"), &gov, &records, &[&second]),
        ],
    );
    let found: Vec<&Problem> = problems(&report, ProblemKind::Equivocation)
        .into_iter()
        .filter(|p| p.evidence.len() == 2)
        .collect();
    assert_eq!(found.len(), 1, "{:#?}", report.problems);
    let p = found[0];
    let node = p.node.as_deref().expect("the node is named");
    assert!(node.contains(ROGUE) && node.contains("KZ"), "{node}");
    assert_eq!(p.author, Some(hub));
    assert_eq!(p.seq, Some(real.seq));
    let ids = [&first, &second].map(|s| checkpoint::verify(s, gov.charter()).expect("valid").id);
    assert_eq!(evidence_ids(p), BTreeSet::from(ids));
    assert!(p.evidence.iter().all(|e| e.signed.is_some()));
    assert!(p.message.contains("contradict"), "{}", p.message);
    // Everything else found (the fake record served by no one, the answer that contradicts the
    // newer checkpoint) is laid at the same node's door, none at the honest one's.
    assert!(
        report
            .problems
            .iter()
            .all(|p| p.node.as_deref().is_some_and(|n| n.contains(ROGUE))),
        "{:#?}",
        report.problems
    );
}

#[test]
fn audit_names_the_source_serving_a_checkpoint_that_does_not_verify() {
    let net = net();
    let gov = net.gov();
    let mut bad = checkpoint::sign(
        &net.members[KZ],
        gov.charter(),
        "p",
        NOW,
        &BTreeMap::new(),
        &(0, vec![]),
    );
    bad.signature[0] ^= 1;
    let report = audit(
        &gov,
        vec![
            source(HONEST, None, &gov, &[], &[]),
            source(ROGUE, None, &gov, &[], &[&bad]),
        ],
    );
    assert_eq!(
        only(&report, ProblemKind::Forgery).node.as_deref(),
        Some(ROGUE)
    );
    assert_eq!(report.checkpoints, 0);
}

#[test]
fn audit_ignores_checkpoints_of_a_key_revoked_since() {
    let net = net();
    let mut gov = net.gov();
    let logs = honest_logs(&net);
    let kz = &net.members[KZ];
    let hub = net.members[HUB].public_key();
    let heads = |seq: usize| BTreeMap::from([(hub, head_ref(&logs[0][..seq]))]);
    // Signed while KZ's key was good; served by a node that kept it from before the revocation.
    let old = checkpoint::sign(
        kz,
        gov.charter(),
        "peer-kz",
        NOW - 600_000,
        &heads(2),
        &(0, vec![]),
    );
    let forged = checkpoint::sign(
        kz,
        gov.charter(),
        "peer-kz",
        NOW - 300_000,
        &heads(1),
        &(0, vec![]),
    );
    net.decide(
        &mut gov,
        Action::RevokeKey {
            key: kz.public_key(),
            last_valid_seq: 2,
        },
    );
    let records = all(&logs);
    let report = audit(
        &gov,
        vec![source(HONEST, None, &gov, &records, &[&old, &forged])],
    );
    // The later one claims less of HUB's log, but proves nothing: whoever holds the key may
    // sign. Nor is serving them a forgery by the node.
    assert_eq!(report.problems, vec![], "{:#?}", report.problems);
    assert_eq!(report.checkpoints, 0);
}

/// The honest logs, and two records KZ signed at seq 3 (two branches of its log).
fn kz_fork(net: &Net) -> (Vec<Vec<SignedRecord>>, SignedRecord, SignedRecord) {
    let logs = honest_logs(net);
    let kz = &net.members[KZ];
    let branch =
        |title: &str| next_record(kz, &net.genesis, logs[1].last(), T0 + 10, &practice(title));
    let (a, b) = (branch("Branch A"), branch("Branch B"));
    assert_ne!(a.id(), b.id());
    (logs, a, b)
}

#[test]
fn a_split_view_blames_no_node_of_another_member() {
    let net = net();
    let gov = net.gov();
    let (logs, a, b) = kz_fork(&net);
    let mut one = all(&logs);
    one.push(&a);
    let mut other = all(&logs);
    other.push(&b);
    // HUB's node serves one branch, a node of no member the other: neither is KZ's.
    let mut hub_node = source(HONEST, None, &gov, &one, &[]);
    hub_node.member = Some("HUB".into());
    let report = audit(&gov, vec![hub_node, source(ROGUE, None, &gov, &other, &[])]);
    let p = only(&report, ProblemKind::SplitView);
    assert_eq!(p.member.as_deref(), Some("KZ"));
    assert_eq!(p.node, None);
}

/// A source holding both records of a fork reports a fork, not a split view with itself.
#[test]
fn a_fork_held_by_the_only_source_is_no_split_view() {
    let net = net();
    let gov = net.gov();
    let (logs, a, b) = kz_fork(&net);
    let mut both = all(&logs);
    both.extend([&a, &b]);
    let report = audit(&gov, vec![source(HONEST, None, &gov, &both, &[])]);
    let p = only(&report, ProblemKind::Fork);
    assert_eq!(p.node.as_deref(), Some(HONEST));
    assert_eq!(p.seq, Some(3));
    assert_eq!(evidence_ids(p), BTreeSet::from([a.id(), b.id()]));
    assert_eq!(report.problems.len(), 1, "{:#?}", report.problems);
}

/// Per key the report keeps the summary of the source whose contiguous log reaches farthest (the
/// first of those that reach equally far), with the problems every source had with that key.
#[test]
fn a_keys_summary_is_the_longest_logs_with_every_sources_problems() {
    let net = net();
    let gov = net.gov();
    let hub_log = log_of(&net.members[HUB], &net.genesis, 5, T0);
    let pick =
        |seqs: &[usize]| -> Vec<&SignedRecord> { seqs.iter().map(|s| &hub_log[s - 1]).collect() };
    let sources = vec![
        // Head 2, a gap before seq 4.
        source("a", None, &gov, &pick(&[1, 2, 4]), &[]),
        // Head 3, a gap before seq 5: the longest log.
        source("b", None, &gov, &pick(&[1, 2, 3, 5]), &[]),
        // Head 3 too, no problem, fewer records.
        source("c", None, &gov, &pick(&[1, 2, 3]), &[]),
    ];
    let hub = net.members[HUB].public_key().to_hex();
    let summary_of = |s: &SourceInput| -> MemberSummary {
        let m = s.report.members.iter().find(|m| m.key == hub);
        m.expect("HUB's key").clone()
    };
    let heads: Vec<(u64, u64, u64)> = sources
        .iter()
        .map(|s| {
            let m = summary_of(s);
            (m.head_seq, m.records, m.problems)
        })
        .collect();
    assert_eq!(heads, vec![(2, 3, 1), (3, 4, 1), (3, 3, 0)]);
    let mut expected = summary_of(&sources[1]);
    expected.problems = 2;
    let report = audit(&gov, sources);
    let merged: Vec<&MemberSummary> = report.keys.iter().filter(|k| k.key == hub).collect();
    assert_eq!(merged, vec![&expected]);
}

/// What a node's newest checkpoint claims is held against every source: a signed head that no
/// source serves is an omission of that node, once the checkpoint is older than the grace period.
#[test]
fn a_signed_head_no_source_serves_is_an_omission_once_settled() {
    let net = net();
    let gov = net.gov();
    let mut logs = honest_logs(&net);
    let hub = net.members[HUB].public_key();
    let signed_head = head_ref(&logs[0]);
    let checkpoint = |key: &SecretKey, peer: &str, time: i64| {
        checkpoint::sign(
            key,
            gov.charter(),
            peer,
            time,
            &[(hub, signed_head)].into(),
            &(0, vec![]),
        )
    };
    let settled = checkpoint(&net.members[KZ], "peer-kz", NOW - GRACE);
    let young = checkpoint(&net.members[KG], "peer-kg", NOW - GRACE + 1);
    // Neither node is audited; the one source lacks HUB's seq 3.
    let lacking = logs[0].pop().expect("HUB seq 3");
    let report = audit(
        &gov,
        vec![source(HONEST, None, &gov, &all(&logs), &[&settled, &young])],
    );
    let p = only(&report, ProblemKind::Omission);
    assert_eq!(p.node.as_deref(), Some("node of KZ (peer peer-kz)"));
    assert_eq!((p.author, p.member.as_deref()), (Some(hub), Some("HUB")));
    assert_eq!((p.seq, p.record), (Some(3), Some(lacking.id())));
    let c = checkpoint::verify(&settled, gov.charter()).expect("valid");
    assert_eq!(evidence_ids(p), BTreeSet::from([c.id]));
    assert!(
        p.message.contains("which no audited node serves"),
        "{}",
        p.message
    );
    assert_eq!(report.problems.len(), 1, "{:#?}", report.problems);
}

/// Two checkpoints of one node whose decisions shrink or are replaced: a governance rollback,
/// worded for each case.
#[test]
fn a_node_signing_fewer_or_other_decisions_is_a_governance_rollback() {
    let net = net();
    let gov = net.gov();
    let kz = &net.members[KZ];
    let rollback = |later: (u64, Vec<u8>)| {
        let sign = |time: i64, decisions: &(u64, Vec<u8>)| {
            checkpoint::sign(
                kz,
                gov.charter(),
                "peer-kz",
                time,
                &BTreeMap::new(),
                decisions,
            )
        };
        let first = sign(NOW - 900_000, &(1, vec![8; 32]));
        let second = sign(NOW - 600_000, &later);
        let report = audit(
            &gov,
            vec![source(HONEST, None, &gov, &[], &[&first, &second])],
        );
        let p = only(&report, ProblemKind::Rollback).clone();
        assert_eq!(report.problems.len(), 1, "{:#?}", report.problems);
        assert_eq!(p.node.as_deref(), Some("node of KZ (peer peer-kz)"));
        assert_eq!(
            (p.member.as_deref(), p.author, p.seq),
            (Some("KZ"), None, None)
        );
        p.message
    };
    let expected = |tail: &str| {
        format!(
            "node of KZ (peer peer-kz) signed two checkpoints that contradict each other: {tail}"
        )
    };
    assert_eq!(
        rollback((0, vec![])),
        expected("held 1 governance decisions, then only 0")
    );
    assert_eq!(
        rollback((1, vec![9; 32])),
        expected("held 1 governance decisions, then another 1")
    );
}
