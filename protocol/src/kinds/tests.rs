//! The kind registry: each kind's stable `RecordKind` number, the reform profile a body carries
//! (its own or an amendment's new version) with its `previous` and author rules, and the rules of
//! an amendment body.

use hubnet_proto::v1 as pb;
use serde_json::{Value, json};

use super::{Body, Kind};
use crate::RecordId;
use crate::draft::{Draft, DraftError, DraftFormat};
use crate::record::RecordError;
use crate::validate::{BodyError, Rules};

/// The draft `json` of member `author` as a checked body, under the template rules.
fn body(json: &Value, author: &str) -> Result<Body, DraftError> {
    Draft::parse(&json.to_string(), DraftFormat::Json)?.to_body(author, &Rules::template())
}

/// The smallest profile of `country` naming `previous`.
fn profile(country: &str, previous: RecordId) -> Value {
    json!({
        "kind": "reform_profile",
        "title": {"ru": "Профиль"},
        "as_of": "2026-01-01",
        "country": country,
        "previous": previous.to_hex()
    })
}

fn practice() -> Value {
    json!({
        "kind": "practice",
        "title": {"en": "Merit-based recruitment"},
        "summary": {"en": "Open competitions."},
        "topics": ["recruitment"]
    })
}

/// An amendment of the record `ab…ab` whose new version is `record`.
fn amendment(record: Value) -> Value {
    json!({"kind": "amendment", "target": "ab".repeat(32), "record": record})
}

/// Stores keep a kind as its `RecordKind` number: each kind has its own, which never changes,
/// and a number of no kind (0 is `RECORD_KIND_UNSPECIFIED`) gives none.
#[test]
fn each_kind_keeps_its_record_kind_number() {
    let numbers = [
        (Kind::Practice, 1),
        (Kind::Event, 2),
        (Kind::Amendment, 3),
        (Kind::Retraction, 4),
        (Kind::ReformProfile, 5),
        (Kind::Erasure, 8),
    ];
    for (kind, code) in numbers {
        assert_eq!(kind.code(), code, "{}", kind.name());
        assert_eq!(Kind::from_code(code), Some(kind), "{code}");
    }
    for code in [0, 255] {
        assert_eq!(Kind::from_code(code), None, "{code}");
    }
}

/// A reform profile names its previous profile and states its author's reforms, and so does an
/// amendment's new version of one; a draft of another member's profile is refused.
#[test]
fn a_profile_and_an_amendments_new_profile_name_their_previous_and_their_country() {
    let previous = RecordId([7; 32]);
    let drafts = [
        ("profile", profile("KZ", previous), profile("KG", previous)),
        (
            "amendment",
            amendment(profile("KZ", previous)),
            amendment(profile("KG", previous)),
        ),
    ];
    for (what, own, others) in drafts {
        let b = body(&own, "KZ").expect(what);
        assert_eq!(b.previous(), Some(previous), "{what}");
        assert_eq!(b.check_author("KZ"), Ok(()), "{what}");
        assert_eq!(
            b.check_author("KG"),
            Err(BodyError::CountryNotAuthor {
                field: "country".into(),
                country: "KZ".into(),
                member: "KG".into(),
            }),
            "{what}"
        );
        assert_eq!(
            body(&others, "KZ"),
            Err(DraftError::Invalid(BodyError::CountryNotAuthor {
                field: "country".into(),
                country: "KG".into(),
                member: "KZ".into(),
            })),
            "{what}"
        );
    }
}

/// Only a profile binds its author: a practice, an amendment of one and a retraction name no
/// previous profile, whoever signs them; so does a profile that names none.
#[test]
fn other_bodies_name_no_previous_profile_and_bind_no_author() {
    let mut first = profile("KZ", RecordId([7; 32]));
    first.as_object_mut().expect("an object").remove("previous");
    let retraction =
        json!({"kind": "retraction", "target": "ab".repeat(32), "reason": {"en": "Duplicate."}});
    for json in [practice(), amendment(practice()), retraction] {
        let b = body(&json, "KZ").expect("valid");
        assert_eq!(b.previous(), None, "{json}");
        assert_eq!(b.check_author("KG"), Ok(()), "{json}");
    }
    assert_eq!(body(&first, "KZ").expect("valid").previous(), None);
}

/// An amendment body needs a 32-byte target, a well-formed note and a valid new version; each
/// broken rule is refused on its own, by validation and by decoding.
#[test]
fn each_broken_amendment_rule_is_refused() {
    let rules = Rules::template();
    let json = amendment(practice());
    let Ok(Body::Amendment(good)) = body(&json, "KZ") else {
        panic!("a valid amendment: {json}")
    };
    assert_eq!(Body::Amendment(good.clone()).validate(&rules), Ok(()));
    let check = |change: &dyn Fn(&mut pb::Amendment), expected: BodyError| {
        let mut a = good.clone();
        change(&mut a);
        let b = Body::Amendment(a);
        assert_eq!(b.validate(&rules), Err(expected.clone()));
        assert_eq!(
            Body::decode(Kind::Amendment, &b.encode(), &rules),
            Err(RecordError::Body(expected))
        );
    };
    check(
        &|a| a.target.truncate(31),
        BodyError::InvalidDigest {
            field: "target".into(),
            len: 31,
        },
    );
    check(
        &|a| {
            a.note = Some(pb::LocalizedText {
                text: [("not a tag!".into(), "Typo.".into())].into(),
            })
        },
        BodyError::InvalidLanguageTag {
            field: "note".into(),
            tag: "not a tag!".into(),
        },
    );
    check(
        &|a| a.content = None,
        BodyError::MissingField {
            field: "record".into(),
        },
    );
    check(
        &|a| {
            if let Some(pb::amendment::Content::Practice(p)) = &mut a.content {
                p.title = None;
            }
        },
        BodyError::MissingField {
            field: "title".into(),
        },
    );
    check(
        &|a| {
            a.content = Some(pb::amendment::Content::ReformProfile(pb::ReformProfile {
                title: Some(pb::LocalizedText {
                    text: [("ru".into(), "Профиль".into())].into(),
                }),
                country: "KZ".into(),
                ..pb::ReformProfile::default()
            }))
        },
        BodyError::MissingField {
            field: "as_of".into(),
        },
    );
}
