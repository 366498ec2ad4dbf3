//! Institution rules: a full institution round-trips and verifies; each broken rule is refused
//! with its own error naming the field; identifiers have their schemes' shapes.

use serde_json::{Value, json};

use crate::Kind;
use crate::charter::Charter;
use crate::draft::{Draft, DraftError, DraftFormat};
use crate::kinds::test_support::{NOW, net};
use crate::record::{self, Body, Position, RecordError};
use crate::validate::BodyError;

fn institution() -> Value {
    json!({
        "kind": "institution",
        "name": {"en": "Agency for Civil Service Affairs", "ru": "Агентство по делам государственной службы"},
        "type": "civil_service_agency",
        "parent": "55".repeat(32),
        "mandate": {"en": "Civil service policy."},
        "website": "https://www.gov.kz/memleket/entities/qyzmet",
        "wikidata": "Q4130157",
        "ror": "05hsj3m46",
        "topics": ["recruitment", "ethics-integrity"],
        "languages": ["kk", "ru"],
        "contact_email": "info@example.kz",
        "sample": false
    })
}

fn body(json: &Value, charter: &Charter) -> Result<Body, DraftError> {
    Draft::parse(&json.to_string(), DraftFormat::Json)?.to_body("KZ", &charter.rules())
}

/// `change` applied to the full institution is refused with `expected`, by the draft layer and
/// by verification of the same body signed by hand.
fn refused(change: impl FnOnce(&mut Value), expected: BodyError) {
    let (charter, keys) = net();
    let mut json = institution();
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
    let signed = record::sign(&keys[1], charter.network_id(), Position::FIRST, NOW, &built);
    let verdict = record::verify_record(&signed.encode(), &charter, NOW);
    assert_eq!(verdict.map(|_| ()), Err(RecordError::Body(expected)));
}

#[test]
fn a_full_institution_round_trips_and_verifies() {
    let (charter, keys) = net();
    let b = body(&institution(), &charter).expect("valid");
    assert_eq!(b.kind(), Kind::Institution);
    let view = Draft::from_body(&b).expect("not erased");
    assert_eq!(view.to_body("KZ", &charter.rules()).expect("valid"), b);
    let toml = toml::to_string(&view).expect("toml");
    assert_eq!(
        Draft::parse(&toml, DraftFormat::Toml).expect("parses"),
        view
    );
    let signed = record::sign(&keys[1], charter.network_id(), Position::FIRST, NOW, &b);
    let r = record::verify_record(&signed.encode(), &charter, NOW).expect("verifies");
    assert_eq!(r.body, b);
    assert_eq!(b.institution_refs().len(), 1, "the parent");
    // The smallest: a name and a type; the author's country is filled in; any member may
    // publish an institution of another country (an international organisation's seat).
    let small = json!({"kind": "institution", "name": {"en": "OECD"}, "type": "international_organisation", "country": "FR"});
    let Body::Institution(i) = body(&small, &charter).expect("valid") else {
        panic!("an institution")
    };
    assert_eq!(i.country, "FR");
    let Body::Institution(i) = body(
        &json!({"kind": "institution", "name": {"en": "X"}, "type": "other"}),
        &charter,
    )
    .expect("valid") else {
        panic!("an institution")
    };
    assert_eq!(i.country, "KZ");
}

#[test]
fn each_broken_rule_is_refused_naming_its_field() {
    refused(
        |j| j["name"] = json!({}),
        BodyError::EmptyLocalized {
            field: "name".into(),
        },
    );
    refused(
        |j| j["country"] = json!("XX"),
        BodyError::InvalidCountry {
            field: "country".into(),
            value: "XX".into(),
        },
    );
    refused(
        |j| j["website"] = json!("www.example.kz"),
        BodyError::InvalidUrl {
            field: "website".into(),
            value: "www.example.kz".into(),
        },
    );
    for bad in ["Q0", "Q01", "q42", "Q", "P31", "Q42 "] {
        refused(
            |j| j["wikidata"] = json!(bad),
            BodyError::InvalidIdentifier {
                field: "wikidata".into(),
                value: bad.into(),
                scheme: "Wikidata (Q[1-9][0-9]*)",
            },
        );
    }
    for bad in [
        "15hsj3m46",
        "05hsj3m4",
        "05hsjlm46",
        "05HSJ3M46",
        "05hsj3m4a",
        "https://ror.org/05hsj3m46",
    ] {
        refused(
            |j| j["ror"] = json!(bad),
            BodyError::InvalidIdentifier {
                field: "ror".into(),
                value: bad.into(),
                scheme: "ROR (0[a-hj-km-np-tv-z0-9]{6}[0-9]{2})",
            },
        );
    }
    refused(
        |j| j["topics"] = json!(["astrology"]),
        BodyError::UnknownTopic {
            field: "topics".into(),
            slug: "astrology".into(),
        },
    );
    refused(
        |j| j["contact_email"] = json!("agency@gmail.com"),
        BodyError::NotInstitutionalAddress {
            field: "contact_email".into(),
            domain: "gmail.com".into(),
        },
    );
    refused(
        |j| j["languages"] = json!(["kk", "kk"]),
        BodyError::Duplicate {
            field: "languages".into(),
            value: "kk".into(),
        },
    );
    let (charter, keys) = net();
    let Body::Institution(mut i) = body(&institution(), &charter).expect("valid") else {
        panic!("an institution")
    };
    let check = |i: hubnet_proto::v1::Institution| {
        let signed = record::sign(
            &keys[1],
            charter.network_id(),
            Position::FIRST,
            NOW,
            &Body::Institution(i),
        );
        record::verify_record(&signed.encode(), &charter, NOW).map(|_| ())
    };
    let mut bad = i.clone();
    bad.institution_type = 0;
    assert_eq!(
        check(bad),
        Err(RecordError::Body(BodyError::InvalidEnum {
            field: "type".into(),
            value: 0
        }))
    );
    i.parent = vec![1; 5];
    assert_eq!(
        check(i),
        Err(RecordError::Body(BodyError::InvalidDigest {
            field: "parent".into(),
            len: 5
        }))
    );
}

#[test]
fn each_type_is_named_as_drafts_spell_it() {
    use super::InstitutionType;
    for t in InstitutionType::ALL {
        assert_eq!(InstitutionType::from_name(t.name()), Some(t));
        let spelled = serde_json::to_value(t).expect("serialises");
        assert_eq!(spelled, json!(t.name()));
        assert_eq!(InstitutionType::from_proto(t.to_proto() as i32), Some(t));
    }
}
