//! Reform profile rules: a full profile round-trips and verifies; each broken rule is refused with
//! its own error naming the field; the `previous` chain rule; generated profiles round-trip.

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::chain::{self, ChainError, PreviousInfo};
use crate::charter::Charter;
use crate::draft::{Draft, DraftError, DraftFormat};
use crate::kinds::test_support::{NOW, net};
use crate::record::{self, Body, Position, Record, RecordError};
use crate::validate::BodyError;
use crate::{Kind, RecordId, SecretKey};

/// A complete profile of Kazakhstan (member 1 of the sample).
fn profile() -> Value {
    json!({
        "kind": "reform_profile",
        "title": {"en": "Civil service reform profile 2026", "ru": "Профиль реформ госслужбы 2026"},
        "as_of": "2026-06-30",
        "period": {"start": "2025-07", "end": "2026-06"},
        "reform_areas": ["public-service-hrm", "recruitment"],
        "reforms": [{
            "title": {"en": "Merit-based recruitment", "ru": "Конкурсный отбор"},
            "status": "in-implementation",
            "reform_area": "public-service-hrm",
            "legal_act": {"name": {"ru": "Закон о государственной службе"}, "number": "416-V",
                          "date": "2015-11-23", "url": "https://adilet.zan.kz/rus/docs/Z1500000416"},
            "lead_institution": {"en": "Civil Service Agency"},
            "period": {"start": "2024"},
            "objectives": {"en": "All vacancies filled by open competition."}
        }],
        "indicators": [
            {"code": "hub:merit-recruitment-share", "value": 71.5, "year": 2025, "unit": "percent",
             "source": {"name": {"en": "Agency annual report"}, "url": "https://example.org/report",
                        "license": "CC-BY-4.0"},
             "baseline": {"value": 48, "year": 2020}, "target": {"value": 90, "year": 2030}},
            {"code": "hub:user-satisfaction", "not_available": {"en": "No survey since 2023."}}
        ],
        "summary": {"en": "Recruitment reform advanced."},
        "findings": {"en": "**Open competitions** now fill most vacancies."},
        "challenges": {"en": "Regional capacity."},
        "next_steps": {"en": "Extend to local government."},
        "evidence": ["11".repeat(32)],
        "license": "CC-BY-4.0",
        "sample": true
    })
}

/// `body` signed by `key` as its first record, then verified.
fn signed_by(charter: &Charter, key: &SecretKey, body: &Body) -> Result<Record, RecordError> {
    let signed = record::sign(key, charter.network_id(), Position::FIRST, NOW, body);
    record::verify_record(&signed.encode(), charter, NOW)
}

fn body(json: &Value, charter: &Charter) -> Result<Body, DraftError> {
    Draft::parse(&json.to_string(), DraftFormat::Json)?.to_body("KZ", &charter.rules())
}

/// `change` applied to the full profile is refused with `expected`, by the draft layer and by
/// verification of the same body signed by hand.
fn refused(change: impl FnOnce(&mut Value), expected: BodyError) {
    let (charter, keys) = net();
    let mut json = profile();
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
    let verdict = signed_by(&charter, &keys[1], &built);
    assert_eq!(verdict.map(|_| ()), Err(RecordError::Body(expected)));
}

#[test]
fn a_full_profile_round_trips_and_verifies() {
    let (charter, keys) = net();
    let b = body(&profile(), &charter).expect("valid");
    assert_eq!(b.kind(), Kind::ReformProfile);
    let view = Draft::from_body(&b).expect("not erased");
    assert_eq!(
        view.to_body("KZ", &charter.rules()).expect("view is valid"),
        b
    );
    let toml = toml::to_string(&view).expect("toml");
    assert_eq!(
        Draft::parse(&toml, DraftFormat::Toml).expect("parses"),
        view
    );
    let verdict = signed_by(&charter, &keys[1], &b);
    let r = verdict.expect("verifies");
    assert_eq!((r.member.as_str(), r.body), ("KZ", b));
    // The smallest profile: a title and a date; the author's country is filled in.
    let small =
        json!({"kind": "reform_profile", "title": {"ru": "Профиль"}, "as_of": "2026-01-01"});
    let Body::ReformProfile(p) = body(&small, &charter).expect("valid") else {
        panic!("a profile")
    };
    assert_eq!(p.country, "KZ");
}

#[test]
fn each_broken_rule_is_refused_naming_its_field() {
    refused(
        |j| j["indicators"][0]["code"] = json!("hub:happiness"),
        BodyError::UnknownIndicator {
            field: "indicators[0].code".into(),
            code: "hub:happiness".into(),
        },
    );
    refused(
        |j| {
            j["indicators"][0].as_object_mut().map(|o| o.remove("year"));
        },
        BodyError::MissingField {
            field: "indicators[0].year".into(),
        },
    );
    refused(
        |j| j["indicators"][0]["year"] = json!(2027),
        BodyError::AfterAsOf {
            field: "indicators[0].year".into(),
            value: "2027".into(),
            as_of: "2026-06-30".into(),
        },
    );
    refused(
        |j| j["indicators"][0]["baseline"]["year"] = json!(2027),
        BodyError::AfterAsOf {
            field: "indicators[0].baseline.year".into(),
            value: "2027".into(),
            as_of: "2026-06-30".into(),
        },
    );
    refused(
        |j| j["indicators"][0]["year"] = json!(1899),
        BodyError::YearOutOfRange {
            field: "indicators[0].year".into(),
            year: 1899,
        },
    );
    refused(
        |j| j["indicators"][0]["unit"] = json!("days"),
        BodyError::UnitMismatch {
            field: "indicators[0].unit".into(),
            code: "hub:merit-recruitment-share".into(),
            unit: "days".into(),
            expected: "percent".into(),
        },
    );
    refused(
        |j| j["indicators"][1]["value"] = json!(3),
        BodyError::ValueOrNotAvailable {
            field: "indicators[1]".into(),
            given: "both",
        },
    );
    refused(
        |j| {
            j["indicators"][1]
                .as_object_mut()
                .map(|o| o.remove("not_available"));
        },
        BodyError::ValueOrNotAvailable {
            field: "indicators[1]".into(),
            given: "neither",
        },
    );
    refused(
        |j| j["indicators"][1]["code"] = json!("hub:merit-recruitment-share"),
        BodyError::Duplicate {
            field: "indicators".into(),
            value: "hub:merit-recruitment-share".into(),
        },
    );
    refused(
        |j| j["reform_areas"][1] = json!("astrology"),
        BodyError::UnknownReformArea {
            field: "reform_areas[1]".into(),
            slug: "astrology".into(),
        },
    );
    refused(
        |j| j["as_of"] = json!("2026-06"),
        BodyError::InvalidDate {
            field: "as_of".into(),
            value: "2026-06".into(),
            expected: "date (YYYY-MM-DD)",
        },
    );
    refused(
        |j| j["period"]["end"] = json!("2026-07"),
        BodyError::AfterAsOf {
            field: "period.end".into(),
            value: "2026-07".into(),
            as_of: "2026-06-30".into(),
        },
    );
    refused(
        |j| j["country"] = json!("HUB"),
        BodyError::NotAMemberState {
            field: "country".into(),
            value: "HUB".into(),
        },
    );
    refused(
        |j| j["evidence"] = json!(["11".repeat(32), "11".repeat(32)]),
        BodyError::Duplicate {
            field: "evidence".into(),
            value: "11".repeat(32),
        },
    );
    refused(
        |j| {
            j["reforms"][0]["legal_act"]["url"] = json!("ftp://example.org");
        },
        BodyError::InvalidUrl {
            field: "reforms[0].legal_act.url".into(),
            value: "ftp://example.org".into(),
        },
    );
}

#[test]
fn a_status_outside_the_list_and_a_non_finite_value_are_refused() {
    let (charter, keys) = net();
    // Drafts only name the six statuses and finite numbers.
    let mut j = profile();
    j["reforms"][0]["status"] = json!("abandoned");
    assert!(matches!(
        Draft::parse(&j.to_string(), DraftFormat::Json),
        Err(DraftError::UnknownField(_))
    ));
    let toml = "kind = \"reform_profile\"\ntitle = { en = \"t\" }\nas_of = \"2026-01-01\"\n\
                [[indicators]]\ncode = \"hub:user-satisfaction\"\nvalue = nan\nyear = 2025\n";
    assert!(matches!(
        Draft::parse(toml, DraftFormat::Toml),
        Err(DraftError::Syntax(m)) if m.contains("finite")
    ));
    // Signed by hand, the bytes are refused with the field named.
    let Ok(Body::ReformProfile(mut p)) = body(&profile(), &charter) else {
        panic!("valid")
    };
    p.reforms[0].status = 9;
    let verdict = signed_by(&charter, &keys[1], &Body::ReformProfile(p.clone()));
    assert_eq!(
        verdict.map(|_| ()),
        Err(RecordError::Body(BodyError::InvalidEnum {
            field: "reforms[0].status".into(),
            value: 9
        }))
    );
    p.reforms[0].status = 3;
    p.indicators[0].value = Some(hubnet_proto::v1::Measure {
        value: f64::INFINITY,
        year: 2025,
    });
    let verdict = signed_by(&charter, &keys[1], &Body::ReformProfile(p));
    assert_eq!(
        verdict.map(|_| ()),
        Err(RecordError::Body(BodyError::NotFinite {
            field: "indicators[0].value".into()
        }))
    );
}

#[test]
fn a_member_states_only_its_own_reforms() {
    let (charter, keys) = net();
    let mut j = profile();
    j["country"] = json!("KG");
    let expected = BodyError::CountryNotAuthor {
        field: "country".into(),
        country: "KG".into(),
        member: "KZ".into(),
    };
    assert_eq!(
        body(&j, &charter),
        Err(DraftError::Invalid(expected.clone()))
    );
    let built = Draft::parse(&j.to_string(), DraftFormat::Json)
        .expect("parses")
        .build_body("KZ")
        .expect("builds");
    let verdict = signed_by(&charter, &keys[1], &built);
    assert_eq!(verdict.map(|_| ()), Err(RecordError::Body(expected)));
    // KG's own key may sign it.
    let verdict = signed_by(&charter, &keys[2], &built);
    assert!(verdict.is_ok());
}

#[test]
fn the_previous_profile_is_an_earlier_profile_of_the_same_author() {
    let (charter, keys) = net();
    let previous = RecordId([7; 32]);
    let mut j = profile();
    j["previous"] = json!(previous.to_hex());
    let b = body(&j, &charter).expect("valid");
    assert_eq!(b.previous(), Some(previous));
    let verdict = signed_by(&charter, &keys[1], &b);
    let r = verdict.expect("verifies");
    let info = |same_author, kind, member: &str| {
        Some(PreviousInfo {
            same_author,
            kind,
            member: member.into(),
        })
    };
    assert_eq!(
        chain::check_previous(&r, None),
        Err(ChainError::PreviousNotFound(previous))
    );
    assert_eq!(
        chain::check_previous(&r, info(true, Kind::Event, "KZ")),
        Err(ChainError::PreviousNotProfile {
            previous,
            kind: "event"
        })
    );
    assert_eq!(
        chain::check_previous(&r, info(false, Kind::ReformProfile, "KG")),
        Err(ChainError::PreviousOtherCountry {
            previous,
            country: "KG".into(),
            expected: "KZ".into()
        })
    );
    assert_eq!(
        chain::check_previous(&r, info(false, Kind::ReformProfile, "KZ")),
        Err(ChainError::PreviousNotFound(previous))
    );
    assert_eq!(
        chain::check_previous(&r, info(true, Kind::ReformProfile, "KZ")),
        Ok(())
    );
    // A record without `previous` passes whatever is known.
    let plain = body(&profile(), &charter).expect("valid");
    let verdict = signed_by(&charter, &keys[1], &plain);
    let r = verdict.expect("verifies");
    assert_eq!(chain::check_previous(&r, None), Ok(()));
    // A bad id is a draft error naming the field.
    j["previous"] = json!("not hex");
    assert_eq!(
        body(&j, &charter),
        Err(DraftError::BadRecordId {
            field: "previous".into(),
            value: "not hex".into()
        })
    );
}

fn indicator() -> impl Strategy<Value = Value> {
    let codes = prop::sample::select(vec![
        "hub:merit-recruitment-share",
        "hub:vacancy-fill-days",
        "hub:e-services-share",
        "hub:budget-execution-rate",
    ]);
    (
        codes,
        prop::option::of((-1.0e9f64..1.0e9, 1900u32..=2026)),
        prop::option::of((-1.0e9f64..1.0e9, 1900u32..=2040)),
    )
        .prop_map(|(code, value, target)| {
            let mut v = match value {
                Some((value, year)) => json!({"code": code, "value": value, "year": year}),
                None => json!({"code": code, "not_available": {"ru": "Нет данных"}}),
            };
            if let Some((value, year)) = target {
                v["target"] = json!({"value": value, "year": year});
            }
            v
        })
}

proptest! {
    /// Any generated valid profile survives draft → body → draft view → body, the TOML form
    /// of its view, and signing and verification.
    #[test]
    fn generated_profiles_round_trip(
        indicators in prop::collection::vec(indicator(), 0..4),
        statuses in prop::collection::vec(
            prop::sample::select(vec![
                "planned", "adopted", "in-implementation", "completed", "suspended", "reversed",
            ]),
            0..4,
        ),
        month in 1u32..=12,
    ) {
        let (charter, keys) = net();
        let mut seen = std::collections::HashSet::new();
        let indicators: Vec<Value> = indicators
            .into_iter()
            .filter(|i| seen.insert(i["code"].as_str().unwrap_or_default().to_owned()))
            .collect();
        let reforms: Vec<Value> = statuses
            .iter()
            .map(|s| json!({"title": {"en": format!("Reform {s}")}, "status": s}))
            .collect();
        let j = json!({
            "kind": "reform_profile",
            "title": {"en": "Profile"},
            "as_of": format!("2026-{month:02}-01"),
            "reforms": reforms,
            "indicators": indicators,
        });
        let b = body(&j, &charter).expect("generated profiles are valid");
        let view = Draft::from_body(&b).expect("not erased");
        prop_assert_eq!(&view.to_body("KZ", &charter.rules()).expect("valid"), &b);
        let toml = toml::to_string(&view).expect("toml");
        prop_assert_eq!(Draft::parse(&toml, DraftFormat::Toml).expect("parses"), view);
        let verdict = signed_by(&charter, &keys[1], &b);
        let r = verdict.expect("verifies");
        prop_assert_eq!(r.body, b);
    }
}

#[test]
fn the_period_may_reach_as_of_but_not_begin_after_it() {
    let (charter, _) = net();
    for (start, end) in [
        ("2026-06-30", "2026-06-30"),
        ("2026", "2026"),
        ("2025", "2026-06"),
    ] {
        let mut j = profile();
        j["period"] = json!({"start": start, "end": end});
        assert!(body(&j, &charter).is_ok(), "{start}..{end}");
    }
    refused(
        |j| j["period"] = json!({"start": "2026-07-01"}),
        BodyError::AfterAsOf {
            field: "period.start".into(),
            value: "2026-07-01".into(),
            as_of: "2026-06-30".into(),
        },
    );
    refused(
        |j| j["period"] = json!({"start": "2026-06", "end": "2026-07-01"}),
        BodyError::AfterAsOf {
            field: "period.end".into(),
            value: "2026-07-01".into(),
            as_of: "2026-06-30".into(),
        },
    );
}

#[test]
fn a_reforms_area_is_optional_but_must_be_known() {
    let (charter, _) = net();
    let mut j = profile();
    j["reforms"][0]
        .as_object_mut()
        .map(|o| o.remove("reform_area"));
    assert!(body(&j, &charter).is_ok(), "a reform without an area");
    refused(
        |j| j["reforms"][0]["reform_area"] = json!("astrology"),
        BodyError::UnknownReformArea {
            field: "reforms[0].reform_area".into(),
            slug: "astrology".into(),
        },
    );
}

#[test]
fn a_legal_acts_date_is_optional_but_a_full_date() {
    let (charter, _) = net();
    let mut j = profile();
    j["reforms"][0]["legal_act"]
        .as_object_mut()
        .map(|o| o.remove("date"));
    assert!(body(&j, &charter).is_ok(), "a legal act without a date");
    refused(
        |j| j["reforms"][0]["legal_act"]["date"] = json!("2015-11"),
        BodyError::InvalidDate {
            field: "reforms[0].legal_act.date".into(),
            value: "2015-11".into(),
            expected: "date (YYYY-MM-DD)",
        },
    );
}

#[test]
fn a_value_may_refer_to_the_year_of_as_of() {
    let (charter, _) = net();
    let mut j = profile();
    j["indicators"][0]["year"] = json!(2026);
    j["indicators"][0]["baseline"]["year"] = json!(2026);
    assert!(body(&j, &charter).is_ok());
}

#[test]
fn each_status_is_named_as_drafts_spell_it() {
    use crate::kinds::reform_profile::ReformStatus as S;
    for (status, code) in [
        (S::Planned, 1),
        (S::Adopted, 2),
        (S::InImplementation, 3),
        (S::Completed, 4),
        (S::Suspended, 5),
        (S::Reversed, 6),
    ] {
        assert_eq!(json!(status), json!(status.name()));
        assert_eq!(S::from_proto(code), Some(status));
    }
    assert_eq!(S::from_proto(0), None);
    assert_eq!(S::from_proto(7), None);
}
