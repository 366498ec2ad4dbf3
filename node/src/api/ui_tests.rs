//! The record page's schema.org JSON-LD: its types and fields for every kind, what it leaves out
//! (an erased record has none), and that no text of a record can break out of its `<script>`
//! element; in-process through the router, and on the pure function through one `check` helper.
//! `tests/e2e/schema_org.rs` reads a real node's pages back with an independent extractor.
#![allow(clippy::unwrap_used)]

use axum::http::StatusCode;
use hubnet_proto::v1 as pb;
use hubnet_protocol::RecordId;
use serde_json::{Value, json};

use super::query_tests::wait_for;
use super::tests::{Api, TOKEN, api, call, get, json, post};
use super::ui::{Linked, Published, json_ld, script_json};
use crate::kinds::Content;

const BREAKOUT: &str = "</script><script>alert(1)</script><!--";
const CONSENT_HASH: &str = "4444444444444444444444444444444444444444444444444444444444444444";

async fn publish(api: &Api, draft: Value) -> String {
    let (status, _, body) =
        call(api, post("/api/v1/records", Some(TOKEN), draft.to_string())).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    json(&body)["id"].as_str().unwrap().to_owned()
}

/// The record page of `id`: its JSON-LD parsed, and the raw text of its script element.
async fn page_ld(api: &Api, id: &str) -> Option<(Value, String)> {
    let (status, _, page) = call(api, get(&format!("/records/{id}"))).await;
    assert_eq!(status, StatusCode::OK);
    let page = String::from_utf8(page).unwrap();
    let open = "<script type=\"application/ld+json\">";
    let start = page.find(open)? + open.len();
    let end = start + page[start..].find("</script>").unwrap();
    let raw = page[start..end].to_owned();
    Some((serde_json::from_str(&raw).unwrap(), raw))
}

fn check_escaped(raw: &str) {
    for bad in ["<", ">", "&"] {
        assert!(!raw.contains(bad), "{bad} inside the script element: {raw}");
    }
}

#[tokio::test]
async fn expert_and_institution_pages_carry_json_ld_that_text_cannot_break_out_of() {
    let api = api(Some("KZ"));
    let agency = publish(
        &api,
        json!({"kind": "institution", "name": {"en": "Example Agency", "ru": "Пример агентство"},
               "type": "civil_service_agency", "languages": ["kk", "ru"],
               "wikidata": "Q4116", "ror": "05x2bcf33", "website": "https://example.org",
               "contact_email": "info@example.org", "topics": ["recruitment"],
               "mandate": {"en": format!("Mandate {BREAKOUT} & more")}}),
    )
    .await;
    let expert = publish(
        &api,
        json!({"kind": "expert", "name": {"en": format!("Alpha {BREAKOUT} (fictional)")},
               "position": {"en": "Adviser"},
               "institution": {"id": agency},
               "affiliations": [{"organisation": {"name": {"en": "Example Centre"}}, "start": "2012"}],
               "topics": ["e-government"], "languages": ["ru", "kk"], "formats": ["speaker"],
               "contact_email": "experts@kz.example.org", "sample": true,
               "consent": {"date": "2026-01-15", "scope": "hub_network_all_members",
                           "document_sha256": CONSENT_HASH}}),
    )
    .await;
    let practice = publish(
        &api,
        json!({"kind": "practice", "title": {"en": "P"}, "summary": {"en": "S"}, "topics": ["training"]}),
    )
    .await;
    wait_for(&api, "/api/v1/records?limit=1", |v| v["total"] == 3).await;

    let (person, raw) = page_ld(&api, &expert)
        .await
        .expect("an expert page has JSON-LD");
    check_escaped(&raw);
    assert_eq!(person["@context"], "https://schema.org");
    assert_eq!(person["@type"], "Person");
    assert_eq!(
        person["name"],
        format!("Alpha {BREAKOUT} (fictional)"),
        "escaped, not altered"
    );
    assert_eq!(person["jobTitle"], "Adviser");
    assert_eq!(person["worksFor"]["name"], "Example Agency");
    assert!(
        person["worksFor"]["@id"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/records/{agency}"))
    );
    assert_eq!(person["affiliation"][0]["name"], "Example Centre");
    assert_eq!(person["knowsLanguage"], json!(["ru", "kk"]));
    assert_eq!(person["knowsAbout"], json!(["E-government"]));
    assert_eq!(person["email"], "experts@kz.example.org");
    assert!(
        person["@id"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/records/{expert}"))
    );
    assert!(
        !raw.contains(CONSENT_HASH) && !raw.contains("2026-01-15"),
        "no consent: {raw}"
    );

    let (org, raw) = page_ld(&api, &agency)
        .await
        .expect("an institution page has JSON-LD");
    check_escaped(&raw);
    assert_eq!(org["@type"], "GovernmentOrganization");
    assert_eq!(org["name"], "Example Agency");
    assert_eq!(org["alternateName"], json!(["Пример агентство"]));
    assert!(
        org["url"]
            .as_str()
            .unwrap()
            .starts_with("https://example.org"),
        "{org}"
    );
    assert_eq!(
        org["sameAs"],
        json!([
            "https://www.wikidata.org/wiki/Q4116",
            "https://ror.org/05x2bcf33"
        ])
    );
    assert_eq!(org["identifier"][0]["propertyID"], "Wikidata");
    assert_eq!(org["identifier"][1]["value"], "05x2bcf33");
    assert_eq!(org["address"]["addressCountry"], "KZ");
    assert_eq!(org["email"], "info@example.org");
    assert_eq!(org["description"], format!("Mandate {BREAKOUT} & more"));

    let (article, raw) = page_ld(&api, &practice)
        .await
        .expect("a practice page has JSON-LD");
    check_escaped(&raw);
    assert_eq!(article["@type"], "Article");
    assert_eq!(article["headline"], "P");
    assert_eq!(article["author"]["@type"], "GovernmentOrganization");
    assert_eq!(article["author"]["identifier"], "KZ");
    assert_eq!(article["about"][0]["name"], "Training");
    assert_eq!(article["datePublished"], article["dateModified"]);

    // Retracted: still described, as retracted and modified then; erased: nothing.
    publish(
        &api,
        json!({"kind": "retraction", "target": practice, "reason": {"en": "withdrawn"}}),
    )
    .await;
    wait_for(
        &api,
        "/api/v1/records?kind=practice&include_retracted=true",
        |v| v["records"][0]["retracted"] == true,
    )
    .await;
    let (article, _) = page_ld(&api, &practice).await.unwrap();
    assert_eq!(article["creativeWorkStatus"], "Retracted");
    assert!(
        article["dateModified"].as_str().unwrap() > article["datePublished"].as_str().unwrap(),
        "{article}"
    );
    publish(
        &api,
        json!({"kind": "erasure", "target": expert, "ground": "erasure_request"}),
    )
    .await;
    wait_for(&api, "/api/v1/records?kind=expert", |v| v["total"] == 0).await;
    assert!(
        page_ld(&api, &expert).await.is_none(),
        "an erased record has none"
    );
}

/// The JSON-LD of `content` published by KZ at `created`, changed at `updated`, as a node at
/// `http://node` that knows one institution (`[7; 32]`, "Parent") and KZ's name would make it.
fn check(content: Content<'_>, retracted: bool) -> Value {
    let linked = Linked {
        base: "http://node",
        institution_name: &|id| (id == [7u8; 32]).then(|| "Parent".to_owned()),
        topic_name: &|slug| format!("Topic {slug}"),
        member_name: &|code| (code == "KZ").then(|| "Kazakhstan".to_owned()),
    };
    let published = Published {
        member: "KZ",
        created_at_ms: 1_767_225_600_000,
        updated_at_ms: 1_767_312_000_000,
        retracted,
    };
    let v = json_ld(&RecordId([1; 32]), content, &published, &linked).unwrap();
    let page = format!("http://node/records/{}", "01".repeat(32));
    assert_eq!(v["@context"], "https://schema.org");
    assert_eq!(v["@id"], page);
    assert_eq!(v["mainEntityOfPage"], page);
    v
}

fn text(pairs: &[(&str, &str)]) -> Option<pb::LocalizedText> {
    Some(pb::LocalizedText {
        text: pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    })
}

#[test]
fn an_event_is_an_event_with_its_zone_offset_places_status_and_organiser() {
    let mut e = pb::Event {
        title: text(&[("en", "Forum"), ("ru", "Форум")]),
        description: text(&[("en", "About")]),
        start: "2027-07-10T10:00".into(),
        end: "2027-12-10T17:30:15".into(),
        time_zone: "Europe/Berlin".into(),
        place: Some(pb::Place {
            name: text(&[("en", "Hall")]),
            address: text(&[("en", "1 Main St, Astana")]),
            country: "KZ".into(),
        }),
        online_url: "https://example.org/live".into(),
        organiser: text(&[("en", "Academy")]),
        languages: vec!["ru".into(), "kk".into()],
        status: pb::EventStatus::Postponed as i32,
        topics: vec!["training".into()],
        ..Default::default()
    };
    let v = check(Content::Event(&e), false);
    assert_eq!(v["@type"], "Event");
    assert_eq!(v["name"], "Forum");
    assert_eq!(v["description"], "About");
    // Summer and winter time of the event's own zone.
    assert_eq!(v["startDate"], "2027-07-10T10:00:00+02:00");
    assert_eq!(v["endDate"], "2027-12-10T17:30:15+01:00");
    assert_eq!(v["eventStatus"], "https://schema.org/EventPostponed");
    assert_eq!(
        v["eventAttendanceMode"],
        "https://schema.org/MixedEventAttendanceMode"
    );
    assert_eq!(v["location"][0]["@type"], "Place");
    assert_eq!(v["location"][0]["name"], "Hall");
    assert_eq!(
        v["location"][0]["address"],
        json!({"@type": "PostalAddress", "streetAddress": "1 Main St, Astana", "addressCountry": "KZ"})
    );
    assert_eq!(
        v["location"][1],
        json!({"@type": "VirtualLocation", "url": "https://example.org/live"})
    );
    assert_eq!(v["organizer"][0]["@type"], "GovernmentOrganization");
    assert_eq!(v["organizer"][0]["name"], "Kazakhstan");
    assert_eq!(v["organizer"][1]["name"], "Academy");
    assert_eq!(v["inLanguage"], json!(["ru", "kk"]));
    assert_eq!(v["keywords"], "Topic training");

    // Online only, retracted (cancelled, as the calendar says), languages from the title.
    e.place = None;
    e.end.clear();
    e.languages.clear();
    e.title = text(&[("en", "Forum")]);
    let v = check(Content::Event(&e), true);
    assert_eq!(v["eventStatus"], "https://schema.org/EventCancelled");
    assert_eq!(
        v["eventAttendanceMode"],
        "https://schema.org/OnlineEventAttendanceMode"
    );
    assert_eq!(v["location"]["@type"], "VirtualLocation");
    assert_eq!(v["inLanguage"], "en");
    assert!(v.get("endDate").is_none(), "{v}");

    // In person only, with a place that has only a country.
    e.online_url.clear();
    e.place = Some(pb::Place {
        country: "KZ".into(),
        ..Default::default()
    });
    let v = check(Content::Event(&e), false);
    assert_eq!(
        v["eventAttendanceMode"],
        "https://schema.org/OfflineEventAttendanceMode"
    );
    assert_eq!(v["location"]["address"]["addressCountry"], "KZ");
    assert_eq!(v["eventStatus"], "https://schema.org/EventPostponed");
}

#[test]
fn a_practice_is_an_article_and_a_reform_profile_a_report() {
    let long = "x".repeat(200);
    let p = pb::Practice {
        title: text(&[("en", &long), ("ru", "Р")]),
        summary: text(&[("en", "S")]),
        topics: vec!["training".into(), "pay".into()],
        license: "CC-BY-4.0".into(),
        ..Default::default()
    };
    let v = check(Content::Practice(&p), false);
    assert_eq!(v["@type"], "Article");
    let headline = v["headline"].as_str().unwrap();
    assert_eq!(headline.chars().count(), 110, "Google's limit");
    assert!(headline.ends_with('…'));
    assert_eq!(v["name"], long.as_str());
    assert_eq!(v["description"], "S");
    assert_eq!(v["datePublished"], "2026-01-01T00:00:00.000Z");
    assert_eq!(v["dateModified"], "2026-01-02T00:00:00.000Z");
    assert_eq!(
        v["author"],
        json!({"@type": "GovernmentOrganization", "name": "Kazakhstan", "identifier": "KZ",
               "address": {"@type": "PostalAddress", "addressCountry": "KZ"}})
    );
    assert_eq!(v["publisher"], v["author"]);
    assert_eq!(v["inLanguage"], json!(["en", "ru"]));
    assert_eq!(
        v["about"],
        json!([{"@type": "Thing", "name": "Topic training"}, {"@type": "Thing", "name": "Topic pay"}])
    );
    assert_eq!(v["keywords"], "Topic training, Topic pay");
    assert_eq!(v["license"], "https://spdx.org/licenses/CC-BY-4.0");
    assert!(v.get("creativeWorkStatus").is_none());
    assert_eq!(
        check(Content::Practice(&p), true)["creativeWorkStatus"],
        "Retracted"
    );

    let r = pb::ReformProfile {
        title: text(&[("kk", "Профиль")]),
        country: "KZ".into(),
        period: Some(pb::Period {
            start: "2019".into(),
            end: String::new(),
        }),
        reform_areas: vec!["pay".into()],
        ..Default::default()
    };
    let v = check(Content::ReformProfile(&r), false);
    assert_eq!(v["@type"], "Report");
    assert_eq!(v["headline"], "Профиль");
    assert_eq!(v["inLanguage"], "kk");
    assert_eq!(v["temporalCoverage"], "2019/..");
    assert_eq!(
        v["spatialCoverage"],
        json!({"@type": "Country", "identifier": "KZ", "name": "Kazakhstan"})
    );
    assert_eq!(v["about"][0]["name"], "Topic pay");
    for absent in ["description", "license", "creativeWorkStatus"] {
        assert!(v.get(absent).is_none(), "{absent}: {v}");
    }
}

#[test]
fn a_programme_is_a_project_with_its_participants_in_their_roles() {
    let participant = |who, roles: &[pb::ParticipantRole]| pb::Participant {
        who: Some(who),
        roles: roles.iter().map(|r| *r as i32).collect(),
        ..Default::default()
    };
    let p = pb::Programme {
        title: text(&[("en", "Joint"), ("ru", "Совместная")]),
        description: text(&[("en", "D")]),
        participants: vec![
            participant(
                pb::participant::Who::Member("KZ".into()),
                &[pb::ParticipantRole::Lead, pb::ParticipantRole::Funding],
            ),
            participant(
                pb::participant::Who::InstitutionId(vec![7; 32]),
                &[pb::ParticipantRole::Implementing],
            ),
        ],
        planned_start: "2027-01-01".into(),
        actual_start: "2027-02-01".into(),
        countries: vec!["KZ".into(), "KG".into()],
        topics: vec!["training".into()],
        ..Default::default()
    };
    let v = check(Content::Programme(&p), false);
    assert_eq!(v["@type"], "Project");
    assert_eq!(v["name"], "Joint");
    assert_eq!(v["alternateName"], json!(["Совместная"]));
    assert_eq!(v["description"], "D");
    assert_eq!(v["member"][0]["@type"], "OrganizationRole");
    assert_eq!(v["member"][0]["member"]["name"], "Kazakhstan");
    assert_eq!(v["member"][0]["roleName"], json!(["lead", "funding"]));
    assert_eq!(v["member"][1]["member"]["name"], "Parent");
    assert_eq!(v["member"][1]["roleName"], "implementing");
    assert_eq!(v["funder"][0]["identifier"], "KZ");
    assert_eq!(v["funder"].as_array().unwrap().len(), 1);
    assert_eq!(
        v["foundingDate"], "2027-02-01",
        "the actual start, not the plan"
    );
    assert!(v.get("dissolutionDate").is_none());
    assert_eq!(
        v["areaServed"][1],
        json!({"@type": "Country", "identifier": "KG", "name": "KG"})
    );
    assert_eq!(v["knowsAbout"], json!(["Topic training"]));
}

fn institution(kind: i32, parent: Vec<u8>) -> pb::Institution {
    pb::Institution {
        name: Some(pb::LocalizedText {
            text: [("en".to_owned(), "X".to_owned())].into(),
        }),
        institution_type: kind,
        country: "HUB".into(),
        parent,
        ..Default::default()
    }
}

#[test]
fn each_institution_type_gets_its_schema_org_type_and_a_parent_its_link() {
    for (kind, want) in [
        (pb::InstitutionType::Ministry, "GovernmentOrganization"),
        (
            pb::InstitutionType::CivilServiceAgency,
            "GovernmentOrganization",
        ),
        (
            pb::InstitutionType::AcademyOrSchool,
            "EducationalOrganization",
        ),
        (pb::InstitutionType::University, "CollegeOrUniversity"),
        (
            pb::InstitutionType::InternationalOrganisation,
            "Organization",
        ),
        (pb::InstitutionType::Other, "Organization"),
    ] {
        let i = institution(kind as i32, vec![7; 32]);
        let v = check(Content::Institution(&i), false);
        assert_eq!(v["@type"], want, "{kind:?}");
        assert_eq!(v["parentOrganization"]["name"], "Parent");
        assert_eq!(
            v["parentOrganization"]["@id"],
            format!("http://node/records/{}", "07".repeat(32))
        );
        // Without a website of its own, its url is its page.
        assert_eq!(v["url"], v["@id"]);
        // "HUB" is no country; empty fields are left out.
        for absent in ["address", "sameAs", "identifier", "email", "alternateName"] {
            assert!(v.get(absent).is_none(), "{absent}: {v}");
        }
    }
    let text = script_json(&json!({"a": "</script>&<!--"}));
    assert_eq!(text, r#"{"a":"\u003c/script\u003e\u0026\u003c!--"}"#);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"a": "</script>&<!--"})
    );
}
