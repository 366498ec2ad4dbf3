//! Programme and confirmation rules: a full programme round-trips and verifies; each broken rule
//! of the list is refused with its own error naming the field; references, versions and
//! participants are chain rules judged alike by the store's check and by bundle checks.

use serde_json::{Value, json};

use crate::chain::{self, ChainError, VersionInfo};
use crate::charter::Charter;
use crate::draft::{Draft, DraftError, DraftFormat};
use crate::id::RecordId;
use crate::kinds::test_support::{NOW, net};
use crate::record::{self, Body, Position, Record, RecordError};
use crate::validate::BodyError;
use crate::{Kind, SecretKey};

fn programme() -> Value {
    json!({
        "kind": "programme",
        "title": {"en": "Joint e-recruitment programme", "ru": "Совместная программа электронного найма"},
        "description": {"en": "Three agencies build one merit-based e-recruitment toolkit."},
        "objectives": {"en": "Open competitions online in every participating agency."},
        "participants": [
            {"member": "HUB", "roles": ["lead", "accountable"],
             "contributions": [{"type": "cash", "amount": "120000", "currency": "USD"}]},
            {"member": "KZ", "roles": ["implementing", "funding"],
             "contributions": [{"type": "in_kind", "amount": "15000000.50", "currency": "KZT",
                                "description": {"en": "Trainers and venues"}}]},
            {"member": "KG", "roles": ["beneficiary"]},
            {"institution": "22".repeat(32), "roles": ["implementing"]}
        ],
        "status": "implementation",
        "planned_start": "2026-01-01",
        "planned_end": "2027-12-31",
        "actual_start": "2026-02-01",
        "countries": ["KZ", "KG"],
        "topics": ["recruitment"],
        "budget": [
            {"period_start": "2026-01-01", "period_end": "2026-12-31", "value": "80000",
             "currency": "USD", "status": "committed"},
            {"period_start": "2027-01-01", "period_end": "2027-12-31", "value": "40000.00",
             "currency": "USD", "status": "indicative"}
        ],
        "results": [{
            "type": "output",
            "title": {"en": "Recruiters trained"},
            "indicators": [{
                "title": {"en": "Recruiters certified"},
                "measure": "unit",
                "ascending": true,
                "baseline": {"value": 0, "year": 2025},
                "periods": [
                    {"start": "2026-02-01", "end": "2026-12-31", "target": 120, "actual": 87},
                    {"start": "2027-01-01", "end": "2027-12-31", "target": 240}
                ]
            }]
        }],
        "related": [{"id": "33".repeat(32), "relation": "parent"}],
        "practice_ids": ["44".repeat(32)],
        "event_ids": ["45".repeat(32)],
        "reform_profile_ids": ["46".repeat(32)],
        "expert_ids": ["47".repeat(32)],
        "endorsed_by": "48".repeat(32),
        "sample": true
    })
}

fn body(json: &Value, author: &str, charter: &Charter) -> Result<Body, DraftError> {
    Draft::parse(&json.to_string(), DraftFormat::Json)?.to_body(author, &charter.rules_at(NOW))
}

fn signed(charter: &Charter, key: &SecretKey, b: &Body) -> Result<Record, RecordError> {
    let s = record::sign(key, charter.network_id(), Position::FIRST, NOW, b);
    record::verify_record(&s.encode(), charter, NOW)
}

/// `change` applied to the full programme is refused with `expected` by the draft layer (HUB
/// publishing) and by verification of the same body signed by HUB's key.
fn refused(change: impl FnOnce(&mut Value), expected: BodyError) {
    let (charter, keys) = net();
    let mut json = programme();
    change(&mut json);
    assert_eq!(
        body(&json, "HUB", &charter),
        Err(DraftError::Invalid(expected.clone())),
        "{json}"
    );
    let built = Draft::parse(&json.to_string(), DraftFormat::Json)
        .expect("parses")
        .build_body("HUB")
        .expect("builds");
    assert_eq!(
        signed(&charter, &keys[0], &built).map(|_| ()),
        Err(RecordError::Body(expected))
    );
}

#[test]
fn a_full_programme_round_trips_and_verifies() {
    let (charter, keys) = net();
    let b = body(&programme(), "HUB", &charter).expect("valid");
    assert_eq!(b.kind(), Kind::Programme);
    let view = Draft::from_body(&b).expect("not erased");
    assert_eq!(view.to_body("HUB", &charter.rules()).expect("valid"), b);
    let toml = toml::to_string(&view).expect("toml");
    assert_eq!(
        Draft::parse(&toml, DraftFormat::Toml).expect("parses"),
        view
    );
    let r = signed(&charter, &keys[0], &b).expect("verifies");
    assert_eq!(r.body, b);
    let refs: Vec<(String, Kind)> = b
        .record_refs()
        .into_iter()
        .map(|(f, _, k)| (f, k))
        .collect();
    assert_eq!(
        refs,
        vec![
            ("participants[3].institution".into(), Kind::Institution),
            ("practice_ids[0]".into(), Kind::Practice),
            ("event_ids[0]".into(), Kind::Event),
            ("reform_profile_ids[0]".into(), Kind::ReformProfile),
            ("expert_ids[0]".into(), Kind::Expert),
            ("related[0].id".into(), Kind::Programme),
        ]
    );
    assert_eq!(
        b.programme_version(r.id),
        Some((r.id, vec!["HUB".into(), "KZ".into(), "KG".into()]))
    );
}

#[test]
fn a_participant_that_is_not_a_member_is_refused_with_the_charter() {
    let (charter, keys) = net();
    // TJ is a country, but not a member of this three-member charter.
    let mut j = programme();
    j["participants"][2]["member"] = json!("TJ");
    let b = body(&j, "HUB", &charter).expect("the body rules know no charter");
    assert_eq!(
        signed(&charter, &keys[0], &b).map(|_| ()),
        Err(RecordError::Body(BodyError::NotAMember {
            field: "participants[2].member".into(),
            value: "TJ".into()
        }))
    );
    // Not a country code at all: a body rule.
    refused(
        |j| j["participants"][2]["member"] = json!("XX"),
        BodyError::InvalidCountry {
            field: "participants[2].member".into(),
            value: "XX".into(),
        },
    );
    // Neither a member nor an institution, or both: the draft says so.
    let (charter, _) = net();
    for (p, given) in [
        (json!({"roles": ["beneficiary"]}), "neither"),
        (
            json!({"member": "KG", "institution": "22".repeat(32), "roles": ["beneficiary"]}),
            "both",
        ),
    ] {
        let mut j = programme();
        j["participants"][2] = p;
        assert_eq!(
            body(&j, "HUB", &charter),
            Err(DraftError::MemberOrInstitution {
                field: "participants[2]".into(),
                given
            })
        );
    }
}

#[test]
fn the_lead_is_one_member_and_the_author() {
    let (charter, _) = net();
    assert_eq!(
        body(&programme(), "KZ", &charter),
        Err(DraftError::Invalid(BodyError::LeadNotAuthor {
            field: "participants".into(),
            lead: "HUB".into(),
            member: "KZ".into()
        }))
    );
    refused(
        |j| j["participants"][1]["roles"] = json!(["lead"]),
        BodyError::LeadCount {
            field: "participants".into(),
            count: 2,
        },
    );
    refused(
        |j| j["participants"][0]["roles"] = json!(["accountable"]),
        BodyError::LeadCount {
            field: "participants".into(),
            count: 0,
        },
    );
    refused(
        |j| j["participants"][3]["roles"] = json!(["lead"]),
        BodyError::LeadNotMember {
            field: "participants[3]".into(),
        },
    );
    refused(
        |j| j["participants"] = json!([{"member": "HUB", "roles": ["lead"]}]),
        BodyError::TooFewItems {
            field: "participants".into(),
            count: 1,
            min: 2,
        },
    );
    refused(
        |j| j["participants"][2]["member"] = json!("KZ"),
        BodyError::Duplicate {
            field: "participants".into(),
            value: "KZ".into(),
        },
    );
    refused(
        |j| j["participants"][1]["roles"] = json!(["funding", "funding"]),
        BodyError::Duplicate {
            field: "participants[1].roles".into(),
            value: "funding".into(),
        },
    );
    refused(
        |j| j["participants"][2]["roles"] = json!([]),
        BodyError::MissingField {
            field: "participants[2].roles".into(),
        },
    );
}

#[test]
fn currencies_are_iso_4217_and_amounts_decimal_to_the_minor_unit() {
    refused(
        |j| j["budget"][0]["currency"] = json!("USX"),
        BodyError::UnknownCurrency {
            field: "budget[0].currency".into(),
            value: "USX".into(),
        },
    );
    // Special codes (no currency, testing) are not currencies in use.
    refused(
        |j| j["participants"][0]["contributions"][0]["currency"] = json!("XXX"),
        BodyError::UnknownCurrency {
            field: "participants[0].contributions[0].currency".into(),
            value: "XXX".into(),
        },
    );
    refused(
        |j| j["participants"][0]["contributions"][0]["currency"] = json!("usd"),
        BodyError::UnknownCurrency {
            field: "participants[0].contributions[0].currency".into(),
            value: "usd".into(),
        },
    );
    for (value, reason) in [
        (
            "1,5",
            "a decimal number is digits with at most one point, e.g. 1200.50",
        ),
        (
            "-5",
            "a decimal number is digits with at most one point, e.g. 1200.50",
        ),
        (
            "1.",
            "a decimal number is digits with at most one point, e.g. 1200.50",
        ),
        (
            "1e5",
            "a decimal number is digits with at most one point, e.g. 1200.50",
        ),
        ("10.001", "USD has 2 decimal places"),
        ("1234567890123456", "at most 15 digits before the point"),
    ] {
        refused(
            |j| j["budget"][0]["value"] = json!(value),
            BodyError::InvalidAmount {
                field: "budget[0].value".into(),
                value: value.into(),
                reason: reason.into(),
            },
        );
    }
    // Yen have no minor unit; the Kuwaiti dinar has three.
    let (charter, _) = net();
    for (value, currency, ok) in [
        ("100", "JPY", true),
        ("100.5", "JPY", false),
        ("1.125", "KWD", true),
    ] {
        let mut j = programme();
        j["budget"][0]["value"] = json!(value);
        j["budget"][0]["currency"] = json!(currency);
        assert_eq!(body(&j, "HUB", &charter).is_ok(), ok, "{value} {currency}");
    }
}

#[test]
fn ends_before_starts_and_actuals_outside_the_dates_are_refused() {
    refused(
        |j| j["planned_end"] = json!("2025-12-31"),
        BodyError::EndBeforeStart {
            field: "planned_end".into(),
            start: "2026-01-01".into(),
            end: "2025-12-31".into(),
        },
    );
    refused(
        |j| j["actual_end"] = json!("2026-01-15"),
        BodyError::EndBeforeStart {
            field: "actual_end".into(),
            start: "2026-02-01".into(),
            end: "2026-01-15".into(),
        },
    );
    refused(
        |j| {
            j.as_object_mut().map(|o| o.remove("actual_start"));
            j["actual_end"] = json!("2027-01-15");
        },
        BodyError::MissingField {
            field: "actual_start".into(),
        },
    );
    refused(
        |j| j["budget"][1]["period_end"] = json!("2026-06-30"),
        BodyError::EndBeforeStart {
            field: "budget[1].period_end".into(),
            start: "2027-01-01".into(),
            end: "2026-06-30".into(),
        },
    );
    refused(
        |j| j["results"][0]["indicators"][0]["periods"][0]["end"] = json!("2026-01-01"),
        BodyError::EndBeforeStart {
            field: "results[0].indicators[0].periods[0].end".into(),
            start: "2026-02-01".into(),
            end: "2026-01-01".into(),
        },
    );
    // An actual for a period before the actual start, or after the planned end.
    refused(
        |j| j["results"][0]["indicators"][0]["periods"][0]["start"] = json!("2026-01-01"),
        BodyError::PeriodOutsideProgramme {
            field: "results[0].indicators[0].periods[0].actual".into(),
            period: "2026-01-01 to 2026-12-31".into(),
            programme: "2026-02-01 to 2027-12-31".into(),
        },
    );
    refused(
        |j| {
            let p = &mut j["results"][0]["indicators"][0]["periods"][1];
            p["end"] = json!("2028-03-31");
            p["actual"] = json!(200);
        },
        BodyError::PeriodOutsideProgramme {
            field: "results[0].indicators[0].periods[1].actual".into(),
            period: "2027-01-01 to 2028-03-31".into(),
            programme: "2026-02-01 to 2027-12-31".into(),
        },
    );
    // A target for a period outside is a plan, not a report: allowed.
    let (charter, _) = net();
    let mut j = programme();
    j["results"][0]["indicators"][0]["periods"][1]["end"] = json!("2028-03-31");
    assert!(body(&j, "HUB", &charter).is_ok());
    refused(
        |j| j["planned_start"] = json!("2026-13-01"),
        BodyError::InvalidDate {
            field: "planned_start".into(),
            value: "2026-13-01".into(),
            expected: "date (YYYY, YYYY-MM or YYYY-MM-DD)",
        },
    );
}

#[test]
fn other_broken_rules_name_their_field() {
    refused(
        |j| j["title"] = json!({}),
        BodyError::EmptyLocalized {
            field: "title".into(),
        },
    );
    refused(
        |j| j["countries"] = json!(["KZ", "KZ"]),
        BodyError::Duplicate {
            field: "countries".into(),
            value: "KZ".into(),
        },
    );
    refused(
        |j| j["topics"] = json!(["astrology"]),
        BodyError::UnknownTopic {
            field: "topics".into(),
            slug: "astrology".into(),
        },
    );
    refused(
        |j| j["results"][0]["indicators"] = json!([]),
        BodyError::MissingField {
            field: "results[0].indicators".into(),
        },
    );
    refused(
        |j| j["related"] = json!([{"id": "33".repeat(32), "relation": "parent"}, {"id": "33".repeat(32), "relation": "sibling"}]),
        BodyError::Duplicate {
            field: "related".into(),
            value: "33".repeat(32),
        },
    );
    refused(
        |j| j["results"][0]["indicators"][0]["baseline"] = json!({"value": 1, "year": 1800}),
        BodyError::YearOutOfRange {
            field: "results[0].indicators[0].baseline.year".into(),
            year: 1800,
        },
    );
    let (charter, _) = net();
    let mut j = programme();
    j["status"] = json!("finished");
    assert!(
        matches!(body(&j, "HUB", &charter), Err(DraftError::UnknownField(ref m)) if m.contains("unknown variant `finished`")),
        "{:?}",
        body(&j, "HUB", &charter)
    );
}

/// Signs `b` as `key`'s record at `seq` (prev unchecked: chain rules are judged separately).
fn at(charter: &Charter, key: &SecretKey, seq: u64, b: &Body) -> Record {
    let position = Position {
        seq,
        prev: (seq > 1).then_some(RecordId([seq as u8; 32])),
        prev_created_at: NOW,
    };
    let s = record::sign(key, charter.network_id(), position, NOW, b);
    record::verify_record(&s.encode(), charter, NOW).expect("verifies")
}

fn confirmation(programme: RecordId, version: Option<RecordId>) -> Value {
    let mut j = json!({"kind": "confirmation", "programme": programme.to_hex()});
    if let Some(v) = version {
        j["version"] = json!(v.to_hex());
    }
    j
}

#[test]
fn a_confirmation_names_a_held_programme_version_that_lists_its_author() {
    let (charter, keys) = net();
    let p = at(
        &charter,
        &keys[0],
        1,
        &body(&programme(), "HUB", &charter).expect("valid"),
    );
    let c = at(
        &charter,
        &keys[1],
        1,
        &body(&confirmation(p.id, Some(p.id)), "KZ", &charter).expect("valid"),
    );
    assert_eq!(c.body.confirms(), Some((p.id, p.id)));
    assert_eq!(
        c.body.record_refs(),
        vec![("programme".into(), p.id, Kind::Programme)]
    );
    let version = |members: &[&str]| {
        Some(VersionInfo::Version {
            programme: p.id,
            members: members.iter().map(|m| (*m).to_owned()).collect(),
        })
    };
    assert_eq!(
        chain::check_confirmation(&c, version(&["HUB", "KZ"])),
        Ok(())
    );
    // The programme is a reference: held, and a programme.
    assert_eq!(
        chain::check_references(&c, |_| Some(Kind::Practice)),
        Err(ChainError::ReferenceKind {
            field: "programme".into(),
            reference: p.id,
            expected: "programme",
            kind: "practice"
        })
    );
    assert_eq!(
        chain::check_references(&c, |_| None),
        Err(ChainError::ReferenceNotFound {
            field: "programme".into(),
            reference: p.id
        })
    );
    // A version not held (yet), not of this programme, or not listing the author.
    assert_eq!(
        chain::check_confirmation(&c, None),
        Err(ChainError::ReferenceNotFound {
            field: "version".into(),
            reference: p.id
        })
    );
    assert_eq!(
        chain::check_confirmation(&c, Some(VersionInfo::Other)),
        Err(ChainError::NotAVersion {
            field: "version".into(),
            version: p.id,
            programme: p.id
        })
    );
    assert_eq!(
        chain::check_confirmation(
            &c,
            Some(VersionInfo::Version {
                programme: RecordId([9; 32]),
                members: vec!["KZ".into()]
            })
        ),
        Err(ChainError::NotAVersion {
            field: "version".into(),
            version: p.id,
            programme: p.id
        })
    );
    assert_eq!(
        chain::check_confirmation(&c, version(&["HUB", "KG"])),
        Err(ChainError::NotAParticipant {
            field: "version".into(),
            version: p.id,
            member: "KZ".into()
        })
    );
    // An erased version cannot be judged: every node lets it pass, whenever the erasure came.
    assert_eq!(
        chain::check_confirmation(&c, Some(VersionInfo::Erased)),
        Ok(())
    );
    // The draft needs a version (a node fills in the version in force before it signs).
    assert_eq!(
        body(&confirmation(p.id, None), "KZ", &charter),
        Err(DraftError::MissingField("version".into()))
    );
}

#[test]
fn a_confirmation_can_be_retracted_but_not_amended() {
    let (charter, keys) = net();
    let target = RecordId([7; 32]);
    let info = |kind| {
        Some(chain::TargetInfo {
            same_author: true,
            kind,
            retracted: false,
            erased: false,
        })
    };
    let retraction = at(
        &charter,
        &keys[1],
        2,
        &body(
            &json!({"kind": "retraction", "target": target.to_hex(), "reason": {"en": "We withdraw"}}),
            "KZ",
            &charter,
        )
        .expect("valid"),
    );
    assert_eq!(
        chain::check_target(&retraction, info(Kind::Confirmation)),
        Ok(())
    );
    let erasure = at(
        &charter,
        &keys[1],
        2,
        &body(
            &json!({"kind": "erasure", "target": target.to_hex(), "ground": "unlawful"}),
            "KZ",
            &charter,
        )
        .expect("valid"),
    );
    assert_eq!(
        chain::check_target(&erasure, info(Kind::Confirmation)),
        Err(ChainError::TargetNotOriginal(target, "confirmation"))
    );
    // An amendment cannot hold a confirmation.
    let amendment = json!({"kind": "amendment", "target": target.to_hex(),
        "record": confirmation(target, Some(target))});
    assert_eq!(
        body(&amendment, "KZ", &charter),
        Err(DraftError::NestedAmendment)
    );
}

/// `hubnet verify` and `hubnet audit` judge confirmations against every record of the source,
/// in any order.
#[test]
fn a_bundle_check_judges_confirmations_against_the_whole_bundle() {
    let (charter, keys) = net();
    let mut j = programme();
    // Only records the bundle holds, or none.
    j["participants"] = json!([
        {"member": "HUB", "roles": ["lead"]},
        {"member": "KZ", "roles": ["implementing"]}
    ]);
    for field in [
        "related",
        "practice_ids",
        "event_ids",
        "reform_profile_ids",
        "expert_ids",
    ] {
        j.as_object_mut().map(|o| o.remove(field));
    }
    let b = body(&j, "HUB", &charter).expect("valid");
    let p = record::sign(&keys[0], charter.network_id(), Position::FIRST, NOW, &b);
    let confirm = |key: usize, code: &str| {
        let b = body(&confirmation(p.id(), Some(p.id())), code, &charter).expect("valid");
        record::sign(&keys[key], charter.network_id(), Position::FIRST, NOW, &b)
    };
    let check = |records: &[&crate::SignedRecord]| {
        let mut c = crate::bundle::BundleCheck::new(&charter, NOW);
        for r in records {
            c.add(&r.encode());
        }
        c.finish().problems
    };
    let kz = confirm(1, "KZ");
    assert_eq!(check(&[&kz, &p]), vec![], "the confirmation first");
    assert_eq!(check(&[&p, &kz]), vec![]);
    let problems = check(&[&kz]);
    assert_eq!(problems.len(), 2, "programme and version: {problems:?}");
    // KG is not a participant.
    let kg = confirm(2, "KG");
    let problems = check(&[&p, &kg]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0]
            .message
            .contains("does not list KG as a participant"),
        "{problems:?}"
    );
    // KZ withdraws by retracting its confirmation: a good chain, as the store judges it; a
    // second retraction of it is refused, as a second retraction of anything is.
    let retract = |seq: u64, prev: &crate::SignedRecord| {
        let b = body(
            &json!({"kind": "retraction", "target": kz.id().to_hex(), "reason": {"en": "We withdraw"}}),
            "KZ",
            &charter,
        )
        .expect("valid");
        let position = Position {
            seq,
            prev: Some(prev.id()),
            prev_created_at: NOW,
        };
        record::sign(&keys[1], charter.network_id(), position, NOW, &b)
    };
    let withdrawal = retract(2, &kz);
    assert_eq!(check(&[&p, &kz, &withdrawal]), vec![], "a withdrawal");
    let again = retract(3, &withdrawal);
    let problems = check(&[&p, &kz, &withdrawal, &again]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].message.contains("was already retracted"),
        "{problems:?}"
    );
}

#[test]
fn every_enum_is_named_as_drafts_spell_it() {
    use super::{
        BudgetStatus, ContributionType, IndicatorMeasure, ParticipantRole, ProgrammeStatus,
        RelationType, ResultType,
    };
    // The proto numbers are IATI's codes where IATI has them.
    let codes: Vec<(&str, i32)> = ProgrammeStatus::ALL
        .iter()
        .map(|s| (s.name(), s.to_proto() as i32))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("pipeline", 1),
            ("implementation", 2),
            ("completion", 3),
            ("post_completion", 4),
            ("cancelled", 5),
            ("suspended", 6)
        ]
    );
    for s in ProgrammeStatus::ALL {
        assert_eq!(ProgrammeStatus::from_name(s.name()), Some(*s));
        assert_eq!(ProgrammeStatus::from_proto(s.to_proto() as i32), Some(*s));
        assert_eq!(
            serde_json::to_value(s).expect("json"),
            json!(s.name()),
            "serde and name agree"
        );
    }
    assert_eq!(ProgrammeStatus::from_proto(0), None);
    assert_eq!(ProgrammeStatus::from_proto(7), None);
    let names = |all: Vec<&'static str>| all.join(",");
    assert_eq!(
        names(ParticipantRole::ALL.iter().map(|r| r.name()).collect()),
        "lead,funding,implementing,beneficiary,accountable"
    );
    assert_eq!(
        names(ContributionType::ALL.iter().map(|r| r.name()).collect()),
        "cash,in_kind"
    );
    assert_eq!(
        names(BudgetStatus::ALL.iter().map(|r| r.name()).collect()),
        "indicative,committed"
    );
    assert_eq!(
        names(ResultType::ALL.iter().map(|r| r.name()).collect()),
        "output,outcome,impact"
    );
    assert_eq!(
        names(IndicatorMeasure::ALL.iter().map(|r| r.name()).collect()),
        "unit,percentage"
    );
    assert_eq!(
        names(RelationType::ALL.iter().map(|r| r.name()).collect()),
        "parent,child,sibling"
    );
}

#[test]
fn progress_keeps_the_terms_and_a_new_budget_changes_them() {
    let (charter, _) = net();
    let terms = |j: &Value| match body(j, "HUB", &charter).expect("valid") {
        Body::Programme(p) => super::terms_digest(&p),
        _ => unreachable!("a programme"),
    };
    let base = terms(&programme());
    let mut progress = programme();
    progress["status"] = json!("completion");
    progress["actual_end"] = json!("2027-12-31");
    progress["results"][0]["indicators"][0]["periods"][1]["actual"] = json!(230);
    progress["description"] = json!({"en": "Done."});
    assert_eq!(terms(&progress), base, "progress needs no confirmation");
    let mut budget = programme();
    budget["budget"][1]["value"] = json!("45000");
    assert_ne!(terms(&budget), base);
    let mut role = programme();
    role["participants"][2]["roles"] = json!(["beneficiary", "implementing"]);
    assert_ne!(terms(&role), base);
    let mut contribution = programme();
    contribution["participants"][1]["contributions"][0]["amount"] = json!("1");
    assert_ne!(terms(&contribution), base);
}

/// In a bundle, a confirmation of an erased programme version cannot be judged and passes (as in
/// a store); an erased practice, or an amendment of a practice, is still not a version.
#[test]
fn a_bundle_lets_an_erased_version_pass_and_nothing_else() {
    use hubnet_proto::v1 as pb;
    let (charter, keys) = net();
    let mut positions = [Position::FIRST, Position::FIRST];
    let mut sign = |who: usize, b: &Body| {
        let s = record::sign(&keys[who], charter.network_id(), positions[who], NOW, b);
        let r = record::verify_record(&s.encode(), &charter, NOW).expect("verifies");
        positions[who] = Position::after(&r);
        r
    };
    let mut j = programme();
    j["participants"] = json!([
        {"member": "HUB", "roles": ["lead"]},
        {"member": "KZ", "roles": ["implementing"]}
    ]);
    for field in [
        "related",
        "practice_ids",
        "event_ids",
        "reform_profile_ids",
        "expert_ids",
    ] {
        j.as_object_mut().map(|o| o.remove(field));
    }
    let practice = || {
        body(
            &json!({"kind": "practice", "title": {"en": "P"}, "summary": {"en": "S"},
                    "topics": ["recruitment"]}),
            "HUB",
            &charter,
        )
        .expect("valid")
    };
    let erasure_of = |target: RecordId| {
        Body::Erasure(pb::Erasure {
            target: target.0.to_vec(),
            amendments: Vec::new(),
            ground: pb::ErasureGround::Unlawful as i32,
        })
    };
    let p = sign(0, &body(&j, "HUB", &charter).expect("valid"));
    let q = sign(0, &practice());
    let r = sign(0, &practice());
    let mut amended = serde_json::to_value(Draft::from_body(&practice())).expect("json");
    amended["kind"] = json!("practice");
    let ar = sign(
        0,
        &body(
            &json!({"kind": "amendment", "target": r.id.to_hex(), "record": amended}),
            "HUB",
            &charter,
        )
        .expect("valid"),
    );
    let ep = sign(0, &erasure_of(p.id));
    let eq = sign(0, &erasure_of(q.id));
    let confirm = |version: RecordId| {
        body(&confirmation(p.id, Some(version)), "KZ", &charter).expect("valid")
    };
    let c1 = sign(1, &confirm(p.id));
    let c2 = sign(1, &confirm(q.id));
    let c3 = sign(1, &confirm(ar.id));
    let mut check = crate::bundle::BundleCheck::new(&charter, NOW);
    check.add(&p.signed.erased(ep.signed.encode()).encode());
    check.add(&q.signed.erased(eq.signed.encode()).encode());
    for x in [&r, &ar, &ep, &eq, &c1, &c2, &c3] {
        check.add(&x.signed.encode());
    }
    let problems = check.finish().problems;
    let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].starts_with("seq 2:") && messages[0].contains("is not a version of programme"),
        "{messages:?}"
    );
    assert!(
        messages[1].starts_with("seq 3:") && messages[1].contains("is not a version of programme"),
        "{messages:?}"
    );
}

/// An erased record named as a version is judged on what erasure leaves: its header, the
/// programme's author, the erasure record's target.
#[test]
fn an_erased_version_is_judged_on_what_erasure_leaves() {
    let (_, keys) = net();
    let (hub, kz) = (keys[0].public_key(), keys[1].public_key());
    let (programme, version, expert) = (RecordId([1; 32]), RecordId([2; 32]), RecordId([3; 32]));
    let judge = |kind, author, erasure_target| {
        chain::erased_version(programme, version, kind, author, Some(&hub), erasure_target)
    };
    // The programme itself.
    assert_eq!(
        chain::erased_version(
            programme,
            programme,
            Kind::Programme,
            &hub,
            Some(&hub),
            None
        ),
        VersionInfo::Erased
    );
    assert_eq!(
        judge(Kind::Programme, &hub, None),
        VersionInfo::Other,
        "another programme"
    );
    // An amendment erased by its author's erasure record: of the programme, or of an expert.
    assert_eq!(
        judge(Kind::Amendment, &hub, Some(programme)),
        VersionInfo::Erased
    );
    assert_eq!(
        judge(Kind::Amendment, &hub, Some(expert)),
        VersionInfo::Other
    );
    // Erased by a decision: an amendment by the programme's author, or by another member.
    assert_eq!(judge(Kind::Amendment, &hub, None), VersionInfo::Erased);
    assert_eq!(judge(Kind::Amendment, &kz, None), VersionInfo::Other);
    assert_eq!(judge(Kind::Practice, &hub, None), VersionInfo::Other);
    // The participant rule cannot be judged on an erased version, and passes.
    assert_eq!(
        chain::confirmation_rule(programme, version, "KG", Some(VersionInfo::Erased)),
        Ok(())
    );
}

/// `endorsed_by` is optional, and when given it is a 32-byte decision id.
#[test]
fn endorsed_by_is_optional_and_a_decision_id() {
    let (charter, _) = net();
    let mut j = programme();
    j.as_object_mut().map(|o| o.remove("endorsed_by"));
    let Body::Programme(mut p) = body(&j, "HUB", &charter).expect("valid without it") else {
        unreachable!("a programme")
    };
    p.endorsed_by = vec![7; 16];
    assert_eq!(
        super::validate(&p, &charter.rules()),
        Err(BodyError::InvalidDigest {
            field: "endorsed_by".into(),
            len: 16
        })
    );
}

/// The rules' boundaries: the lead need not come first, a period may be one day, and an amount
/// may have exactly 15 digits before the point.
#[test]
fn the_rules_hold_at_their_boundaries() {
    let (charter, _) = net();
    let mut j = programme();
    let lead = j["participants"][0].clone();
    j["participants"][0] = j["participants"][1].clone();
    j["participants"][1] = lead;
    j["planned_end"] = json!("2026-01-01");
    j.as_object_mut().map(|o| o.remove("actual_start"));
    j["results"][0]["indicators"][0]["periods"] =
        json!([{"start": "2026-01-01", "end": "2026-01-01", "target": 1, "actual": 1}]);
    j["budget"][0]["value"] = json!("123456789012345");
    j["budget"][0]["period_end"] = json!("2026-01-01");
    let b = body(&j, "HUB", &charter).expect("valid at every boundary");
    let Body::Programme(p) = &b else {
        unreachable!("a programme")
    };
    assert_eq!(super::lead(p), Some("HUB"));
}

/// An amendment of a programme is a version of the programme it targets, not of itself.
#[test]
fn an_amendment_is_a_version_of_its_target() {
    let (charter, _) = net();
    let target = RecordId([5; 32]);
    let amendment = json!({"kind": "amendment", "target": target.to_hex(), "record": programme()});
    let b = body(&amendment, "HUB", &charter).expect("valid");
    assert_eq!(
        b.programme_version(RecordId([6; 32])),
        Some((target, vec!["HUB".into(), "KZ".into(), "KG".into()]))
    );
}

/// A long number in a draft parses to the nearest double, so the draft survives its own JSON
/// (found by the `draft` fuzz target: 111 digits parsed one unit off, then read back exactly).
#[test]
fn a_long_number_survives_the_drafts_own_json() {
    let json = programme();
    let text = json.to_string().replace(
        "\"baseline\":{\"value\":0,",
        &format!("\"baseline\":{{\"value\":{}0.0,", "9".repeat(110)),
    );
    assert_ne!(text, json.to_string(), "the baseline was not replaced");
    let draft = Draft::parse(&text, DraftFormat::Json).expect("parses");
    let again = Draft::parse(
        &serde_json::to_string(&draft).expect("serializes"),
        DraftFormat::Json,
    )
    .expect("parses again");
    assert_eq!(again, draft);
}
