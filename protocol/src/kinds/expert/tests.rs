//! Expert rules: a full profile round-trips and verifies; each broken rule (consent, the time
//! rules, the institutional address, formats, affiliations) is refused with its own error naming
//! the field; the reference rule; generated profiles round-trip.

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::chain::{self, ChainError};
use crate::charter::Charter;
use crate::draft::{Draft, DraftError, DraftFormat};
use crate::kinds::test_support::{NOW, net};
use crate::record::{self, Body, Position, Record, RecordError};
use crate::validate::BodyError;
use crate::{Kind, RecordId, SecretKey};

/// A complete expert of Kazakhstan (member 1 of the sample).
fn expert() -> Value {
    json!({
        "kind": "expert",
        "name": {"en": "Example Expert (fictional)", "ru": "Пример Эксперт (вымышленный)"},
        "position": {"en": "Head of digital services"},
        "institution": {"id": "22".repeat(32)},
        "affiliations": [
            {"organisation": {"name": {"en": "Example Ministry"}}, "role": {"en": "Adviser"},
             "start": "2015-03", "end": "2019"},
            {"organisation": {"id": "33".repeat(32)}, "start": "2019"}
        ],
        "topics": ["e-government", "service-delivery"],
        "languages": ["ru", "kk", "en"],
        "formats": ["peer_review", "speaker"],
        "works": [{"url": "https://example.org/paper", "title": {"en": "A paper"}}],
        "public_official": true,
        "contact_email": "experts@kz.example.org",
        "consent": {"date": "2026-11-30", "scope": "hub_network_all_members",
                    "document_sha256": "44".repeat(32)},
        "reconfirm_by": "2028-01-15",
        "summary": {"en": "Fictional sample profile."},
        "sample": true
    })
}

fn body_at(json: &Value, charter: &Charter, at: Option<i64>) -> Result<Body, DraftError> {
    let rules = match at {
        Some(t) => charter.rules_at(t),
        None => charter.rules(),
    };
    Draft::parse(&json.to_string(), DraftFormat::Json)?.to_body("KZ", &rules)
}

fn body(json: &Value, charter: &Charter) -> Result<Body, DraftError> {
    body_at(json, charter, Some(NOW))
}

/// `body` signed by `key` as its first record at `at`, then verified.
fn signed_at(
    charter: &Charter,
    key: &SecretKey,
    body: &Body,
    at: i64,
) -> Result<Record, RecordError> {
    let signed = record::sign(key, charter.network_id(), Position::FIRST, at, body);
    record::verify_record(&signed.encode(), charter, at)
}

/// `change` applied to the full expert is refused with `expected`, by the draft layer (with the
/// creation time known) and by verification of the same body signed at `NOW`.
fn refused(change: impl FnOnce(&mut Value), expected: BodyError) {
    let (charter, keys) = net();
    let mut json = expert();
    change(&mut json);
    assert_eq!(
        body(&json, &charter),
        Err(DraftError::Invalid(expected.clone())),
        "{json}"
    );
    let built = Draft::parse(&json.to_string(), DraftFormat::Json)
        .expect("parses")
        .build_body("KZ")
        .expect("builds");
    let verdict = signed_at(&charter, &keys[1], &built, NOW);
    assert_eq!(verdict.map(|_| ()), Err(RecordError::Body(expected)));
}

fn remove(j: &mut Value, path: &[&str]) {
    let (last, parents) = path.split_last().expect("a path");
    let mut at = j;
    for p in parents {
        at = &mut at[*p];
    }
    at.as_object_mut().map(|o| o.remove(*last));
}

#[test]
fn a_full_expert_round_trips_and_verifies() {
    let (charter, keys) = net();
    let b = body(&expert(), &charter).expect("valid");
    assert_eq!(b.kind(), Kind::Expert);
    let view = Draft::from_body(&b).expect("not erased");
    assert_eq!(
        view.to_body("KZ", &charter.rules_at(NOW))
            .expect("view is valid"),
        b
    );
    let toml = toml::to_string(&view).expect("toml");
    assert_eq!(
        Draft::parse(&toml, DraftFormat::Toml).expect("parses"),
        view
    );
    let r = signed_at(&charter, &keys[1], &b, NOW).expect("verifies");
    assert_eq!((r.member.as_str(), &r.body), ("KZ", &b));
    let Body::Expert(e) = &b else {
        panic!("an expert")
    };
    assert_eq!(e.country, "KZ", "the author's code is filled in");
    let refs: Vec<String> = b.institution_refs().into_iter().map(|(f, _)| f).collect();
    assert_eq!(refs, ["institution.id", "affiliations[1].organisation.id"]);
}

#[test]
fn consent_is_required_with_every_part() {
    let missing = |field: &str| BodyError::ConsentMissing {
        field: field.into(),
    };
    refused(|j| remove(j, &["consent"]), missing("consent"));
    refused(|j| remove(j, &["consent", "date"]), missing("consent.date"));
    refused(
        |j| remove(j, &["consent", "scope"]),
        missing("consent.scope"),
    );
    refused(
        |j| remove(j, &["consent", "document_sha256"]),
        missing("consent.document_sha256"),
    );
    refused(
        |j| j["consent"]["date"] = json!("2026-11"),
        BodyError::InvalidDate {
            field: "consent.date".into(),
            value: "2026-11".into(),
            expected: "date (YYYY-MM-DD)",
        },
    );
    // A consent given after the record was created.
    refused(
        |j| j["consent"]["date"] = json!("2027-01-16"),
        BodyError::AfterCreation {
            field: "consent.date".into(),
            value: "2027-01-16".into(),
            created: "2027-01-15".into(),
        },
    );
    // The same day is fine.
    let (charter, _) = net();
    let mut j = expert();
    j["consent"]["date"] = json!("2027-01-15");
    assert!(body(&j, &charter).is_ok());
}

#[test]
fn a_scope_outside_the_enum_and_a_short_hash_are_refused() {
    let (charter, keys) = net();
    let Body::Expert(mut e) = body(&expert(), &charter).expect("valid") else {
        panic!("an expert")
    };
    let mut bad = e.clone();
    if let Some(c) = bad.consent.as_mut() {
        c.scope = 9;
    }
    assert_eq!(
        signed_at(&charter, &keys[1], &Body::Expert(bad), NOW).map(|_| ()),
        Err(RecordError::Body(BodyError::InvalidEnum {
            field: "consent.scope".into(),
            value: 9
        }))
    );
    if let Some(c) = e.consent.as_mut() {
        c.document_sha256 = vec![1; 31];
    }
    assert_eq!(
        signed_at(&charter, &keys[1], &Body::Expert(e), NOW).map(|_| ()),
        Err(RecordError::Body(BodyError::InvalidDigest {
            field: "consent.document_sha256".into(),
            len: 31
        }))
    );
    let mut j = expert();
    j["consent"]["document_sha256"] = json!("abc");
    assert_eq!(
        body(&j, &charter),
        Err(DraftError::BadDigest {
            field: "consent.document_sha256".into(),
            value: "abc".into()
        })
    );
}

#[test]
fn reconfirm_by_lies_within_24_months_of_creation() {
    refused(
        |j| j["reconfirm_by"] = json!("2027-01-14"),
        BodyError::ReconfirmByPast {
            field: "reconfirm_by".into(),
            value: "2027-01-14".into(),
            created: "2027-01-15".into(),
        },
    );
    refused(
        |j| j["reconfirm_by"] = json!("2029-01-16"),
        BodyError::ReconfirmByTooFar {
            field: "reconfirm_by".into(),
            value: "2029-01-16".into(),
            max: "2029-01-15".into(),
        },
    );
    refused(
        |j| j["reconfirm_by"] = json!("2028"),
        BodyError::InvalidDate {
            field: "reconfirm_by".into(),
            value: "2028".into(),
            expected: "date (YYYY-MM-DD)",
        },
    );
    let (charter, keys) = net();
    // Both ends are allowed.
    for date in ["2027-01-15", "2029-01-15"] {
        let mut j = expert();
        j["reconfirm_by"] = json!(date);
        let b = body(&j, &charter).expect("valid");
        assert!(signed_at(&charter, &keys[1], &b, NOW).is_ok(), "{date}");
    }
    // Absent: 24 months after the creation date when it is known ...
    let mut j = expert();
    remove(&mut j, &["reconfirm_by"]);
    let Body::Expert(e) = body(&j, &charter).expect("valid") else {
        panic!("an expert")
    };
    assert_eq!(e.reconfirm_by, "2029-01-15");
    // ... and required when it is not.
    assert_eq!(
        body_at(&j, &charter, None),
        Err(DraftError::Invalid(BodyError::MissingField {
            field: "reconfirm_by".into()
        }))
    );
    // A body made without the time is still judged by it when verified: a year later, the
    // same reconfirm_by is in the past.
    let b = body_at(&expert(), &charter, None).expect("valid without the time");
    let later = NOW + 400 * 86_400_000;
    assert!(matches!(
        signed_at(&charter, &keys[1], &b, later),
        Err(RecordError::Body(BodyError::ReconfirmByPast { .. }))
    ));
    // On 31 December, 24 months on is 31 December.
    let dec31 = 1_798_675_200_000; // 2026-12-31T00:00:00Z
    assert_eq!(
        super::latest_reconfirm_by(
            chrono::DateTime::from_timestamp_millis(dec31)
                .expect("a time")
                .date_naive()
        )
        .to_string(),
        "2028-12-31"
    );
}

#[test]
fn the_contact_is_an_institutional_address() {
    for domain in [
        "gmail.com",
        "yahoo.co.uk",
        "mail.ru",
        "YANDEX.KZ",
        "proton.me",
        "inbox.gmx.net",
    ] {
        refused(
            |j| j["contact_email"] = json!(format!("someone@{domain}")),
            BodyError::NotInstitutionalAddress {
                field: "contact_email".into(),
                domain: domain.to_ascii_lowercase(),
            },
        );
    }
    refused(
        |j| j["contact_email"] = json!("not an address"),
        BodyError::InvalidEmail {
            field: "contact_email".into(),
            value: "not an address".into(),
        },
    );
    let (charter, _) = net();
    for ok in [
        "experts@kz.example.org",
        "info@gov.kz",
        "a@mailbox.kz",
        "x@notgmail.com",
    ] {
        let mut j = expert();
        j["contact_email"] = json!(ok);
        assert!(body(&j, &charter).is_ok(), "{ok}");
    }
}

#[test]
fn each_other_broken_rule_is_refused_naming_its_field() {
    refused(
        |j| j["name"] = json!({}),
        BodyError::EmptyLocalized {
            field: "name".into(),
        },
    );
    refused(
        |j| j["topics"] = json!([]),
        BodyError::MissingField {
            field: "topics".into(),
        },
    );
    refused(
        |j| j["formats"] = json!([]),
        BodyError::MissingField {
            field: "formats".into(),
        },
    );
    refused(
        |j| j["formats"] = json!(["speaker", "speaker"]),
        BodyError::Duplicate {
            field: "formats".into(),
            value: "speaker".into(),
        },
    );
    refused(
        |j| j["languages"] = json!(["ru", "RU"]),
        BodyError::Duplicate {
            field: "languages".into(),
            value: "RU".into(),
        },
    );
    refused(
        |j| j["languages"] = json!(["r"]),
        BodyError::InvalidLanguageTag {
            field: "languages".into(),
            tag: "r".into(),
        },
    );
    refused(
        |j| j["affiliations"][0]["end"] = json!("2014"),
        BodyError::EndBeforeStart {
            field: "affiliations[0]".into(),
            start: "2015-03".into(),
            end: "2014".into(),
        },
    );
    refused(
        |j| j["affiliations"][1]["start"] = json!("2019-13"),
        BodyError::InvalidDate {
            field: "affiliations[1].start".into(),
            value: "2019-13".into(),
            expected: "date (YYYY, YYYY-MM or YYYY-MM-DD)",
        },
    );
    refused(
        |j| j["works"][0]["url"] = json!("ftp://example.org"),
        BodyError::InvalidUrl {
            field: "works[0].url".into(),
            value: "ftp://example.org".into(),
        },
    );
    refused(
        |j| j["institution"] = json!({"name": {"en": " "}}),
        BodyError::EmptyText {
            field: "institution.name".into(),
            lang: "en".into(),
        },
    );
    let (charter, keys) = net();
    // Another member's country.
    let mut j = expert();
    j["country"] = json!("KG");
    assert_eq!(
        body(&j, &charter),
        Err(DraftError::Invalid(BodyError::CountryNotAuthor {
            field: "country".into(),
            country: "KG".into(),
            member: "KZ".into()
        }))
    );
    // An unknown format value, an affiliation without organisation, an id of 31 bytes.
    let Body::Expert(e) = body(&expert(), &charter).expect("valid") else {
        panic!("an expert")
    };
    let check = |e: hubnet_proto::v1::Expert| {
        signed_at(&charter, &keys[1], &Body::Expert(e), NOW).map(|_| ())
    };
    let mut bad = e.clone();
    bad.formats.push(0);
    assert_eq!(
        check(bad),
        Err(RecordError::Body(BodyError::InvalidEnum {
            field: "formats[2]".into(),
            value: 0
        }))
    );
    let mut bad = e.clone();
    bad.affiliations[0].organisation = None;
    assert_eq!(
        check(bad),
        Err(RecordError::Body(BodyError::MissingField {
            field: "affiliations[0].organisation".into()
        }))
    );
    let mut bad = e;
    bad.institution = Some(hubnet_proto::v1::expert::Institution::InstitutionId(vec![
        0;
        31
    ]));
    assert_eq!(
        check(bad),
        Err(RecordError::Body(BodyError::InvalidDigest {
            field: "institution.id".into(),
            len: 31
        }))
    );
    // An organisation by both id and name, or by neither: a draft error.
    for (org, given) in [
        (json!({"id": "22".repeat(32), "name": {"en": "X"}}), "both"),
        (json!({}), "neither"),
    ] {
        let mut j = expert();
        j["institution"] = org;
        assert_eq!(
            body(&j, &charter),
            Err(DraftError::IdOrName {
                field: "institution".into(),
                given
            })
        );
    }
}

#[test]
fn named_institutions_must_be_institution_records_the_node_holds() {
    let (charter, keys) = net();
    let b = body(&expert(), &charter).expect("valid");
    let r = signed_at(&charter, &keys[1], &b, NOW).expect("verifies");
    let institution = RecordId([0x22; 32]);
    let former = RecordId([0x33; 32]);
    assert_eq!(
        chain::check_references(&r, |_| Some(Kind::Institution)),
        Ok(())
    );
    assert_eq!(
        chain::check_references(&r, |_| None),
        Err(ChainError::ReferenceNotFound {
            field: "institution.id".into(),
            reference: institution
        })
    );
    assert_eq!(
        chain::check_references(&r, |id| (*id == institution).then_some(Kind::Institution)),
        Err(ChainError::ReferenceNotFound {
            field: "affiliations[1].organisation.id".into(),
            reference: former
        })
    );
    assert_eq!(
        chain::check_references(&r, |id| Some(if *id == former {
            Kind::Expert
        } else {
            Kind::Institution
        })),
        Err(ChainError::NotAnInstitution {
            field: "affiliations[1].organisation.id".into(),
            reference: former,
            kind: "expert"
        })
    );
    // An amendment of an institution is not the institution: its original is.
    assert_eq!(
        chain::check_references(&r, |_| Some(Kind::Amendment)),
        Err(ChainError::NotAnInstitution {
            field: "institution.id".into(),
            reference: institution,
            kind: "amendment"
        })
    );
    // A practice's, an event's and a reform profile's institution_ids.
    for j in [
        json!({"kind": "practice", "title": {"en": "P"}, "summary": {"en": "S"},
               "topics": ["training"], "institution_ids": ["22".repeat(32)]}),
        json!({"kind": "event", "title": {"en": "E"}, "event_type": "webinar",
               "start": "2027-02-01T10:00", "time_zone": "Asia/Almaty",
               "institution_ids": ["22".repeat(32)]}),
        json!({"kind": "reform_profile", "title": {"en": "R"}, "as_of": "2026-12-31",
               "institution_ids": ["22".repeat(32)]}),
    ] {
        let b = body(&j, &charter).expect("valid");
        let r = signed_at(&charter, &keys[1], &b, NOW).expect("verifies");
        assert_eq!(
            chain::check_references(&r, |_| Some(Kind::Practice)),
            Err(ChainError::NotAnInstitution {
                field: "institution_ids[0]".into(),
                reference: institution,
                kind: "practice"
            }),
            "{j}"
        );
        assert_eq!(
            chain::check_references(&r, |_| Some(Kind::Institution)),
            Ok(())
        );
        // Twice the same id, or a bad one.
        let mut twice = j.clone();
        twice["institution_ids"] = json!(["22".repeat(32), "22".repeat(32)]);
        assert_eq!(
            body(&twice, &charter),
            Err(DraftError::Invalid(BodyError::Duplicate {
                field: "institution_ids".into(),
                value: "22".repeat(32)
            }))
        );
        let mut bad = j.clone();
        bad["institution_ids"] = json!(["zz"]);
        assert_eq!(
            body(&bad, &charter),
            Err(DraftError::BadRecordId {
                field: "institution_ids[0]".into(),
                value: "zz".into()
            })
        );
    }
}

proptest! {
    /// Any generated valid expert survives draft → body → draft view → body, the TOML form of
    /// its view, and signing and verification.
    #[test]
    fn generated_experts_round_trip(
        formats in prop::sample::subsequence(
            vec!["peer_review", "expert_mission", "study_visit", "speaker", "mentoring", "workshop"],
            1..=6,
        ),
        topics in prop::sample::subsequence(
            vec!["e-government", "training", "recruitment", "leadership"],
            1..=4,
        ),
        by_id in any::<bool>(),
        months in 0u32..=24,
        official in any::<bool>(),
    ) {
        let (charter, keys) = net();
        let mut j = expert();
        j["formats"] = json!(formats);
        j["topics"] = json!(topics);
        j["public_official"] = json!(official);
        if !by_id {
            j["institution"] = json!({"name": {"ru": "Агентство"}});
        }
        let reconfirm = chrono::NaiveDate::from_ymd_opt(2027, 1, 15)
            .and_then(|d| d.checked_add_months(chrono::Months::new(months)))
            .expect("a date");
        j["reconfirm_by"] = json!(reconfirm.to_string());
        let b = body(&j, &charter).expect("generated experts are valid");
        let view = Draft::from_body(&b).expect("not erased");
        prop_assert_eq!(&view.to_body("KZ", &charter.rules_at(NOW)).expect("valid"), &b);
        let toml = toml::to_string(&view).expect("toml");
        prop_assert_eq!(Draft::parse(&toml, DraftFormat::Toml).expect("parses"), view);
        let r = signed_at(&charter, &keys[1], &b, NOW).expect("verifies");
        prop_assert_eq!(r.body, b);
    }
}

/// `hubnet verify` and `hubnet audit` judge references against every record of the source, in
/// any order and of any member.
#[test]
fn a_bundle_check_judges_references_against_the_whole_bundle() {
    let (charter, keys) = net();
    let institution = Draft::parse(
        &json!({"kind": "institution", "name": {"en": "Agency"}, "type": "ministry"}).to_string(),
        DraftFormat::Json,
    )
    .and_then(|d| d.to_body("HUB", &charter.rules_at(NOW)))
    .expect("valid");
    let inst = record::sign(
        &keys[0],
        charter.network_id(),
        Position::FIRST,
        NOW,
        &institution,
    );
    let inst_id = inst.id();
    let naming = |key: usize, code: &str, id: RecordId| {
        let mut j = expert();
        j["institution"] = json!({"id": id.to_hex()});
        j["affiliations"] = json!([]);
        let b = Draft::parse(&j.to_string(), DraftFormat::Json)
            .and_then(|d| d.to_body(code, &charter.rules_at(NOW)))
            .expect("valid");
        record::sign(&keys[key], charter.network_id(), Position::FIRST, NOW, &b)
    };
    let check = |records: &[&crate::SignedRecord]| {
        let mut c = crate::bundle::BundleCheck::new(&charter, NOW);
        for r in records {
            c.add(&r.encode());
        }
        c.finish().problems
    };
    let good = naming(1, "KZ", inst_id);
    assert_eq!(
        check(&[&good, &inst]),
        vec![],
        "the institution after the expert"
    );
    assert_eq!(check(&[&inst, &good]), vec![]);
    let problems = check(&[&good]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0]
            .message
            .contains("is not a record this node holds"),
        "{problems:?}"
    );
    // Naming a record of another kind (another member's expert).
    let other = naming(1, "KZ", inst_id);
    let bad = naming(2, "KG", other.id());
    let problems = check(&[&inst, &other, &bad]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0]
            .message
            .contains("is a expert, not an institution"),
        "{problems:?}"
    );
}

#[test]
fn each_format_is_named_as_drafts_spell_it() {
    use super::ExpertFormat;
    for f in ExpertFormat::ALL {
        assert_eq!(ExpertFormat::from_name(f.name()), Some(f));
        assert_eq!(
            serde_json::to_value(f).expect("serialises"),
            json!(f.name())
        );
        assert_eq!(ExpertFormat::from_proto(f.to_proto() as i32), Some(f));
    }
    assert_eq!(ExpertFormat::from_name("Speaker"), None);
    assert_eq!(ExpertFormat::from_name("lecture"), None);
    assert_eq!(ExpertFormat::from_proto(0), None, "unspecified");
    assert_eq!(ExpertFormat::from_proto(99), None, "unknown");
}
