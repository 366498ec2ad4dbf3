//! The record page's schema.org JSON-LD: its types and fields for experts and institutions, what
//! it leaves out, and that no text of a record can break out of its `<script>` element; in-process
//! through the router, and on the pure function for every institution type.
#![allow(clippy::unwrap_used)]

use axum::http::StatusCode;
use hubnet_proto::v1 as pb;
use hubnet_protocol::RecordId;
use serde_json::{Value, json};

use super::query_tests::wait_for;
use super::tests::{Api, TOKEN, api, call, get, json, post};
use super::ui::{Linked, json_ld, script_json};
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

    assert!(
        page_ld(&api, &practice).await.is_none(),
        "a practice has none"
    );
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
    let linked = Linked {
        base: "http://node",
        institution_name: &|id| (id == [7u8; 32]).then(|| "Parent".to_owned()),
        topic_name: &str::to_owned,
    };
    let id = RecordId([1; 32]);
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
        let v = json_ld(&id, Content::Institution(&i), &linked).unwrap();
        assert_eq!(v["@type"], want, "{kind:?}");
        assert_eq!(v["parentOrganization"]["name"], "Parent");
        assert_eq!(
            v["parentOrganization"]["@id"],
            format!("http://node/records/{}", "07".repeat(32))
        );
        assert_eq!(v["@id"], format!("http://node/records/{}", "01".repeat(32)));
        // "HUB" is no country; empty fields are left out.
        for absent in [
            "address",
            "url",
            "sameAs",
            "identifier",
            "email",
            "alternateName",
        ] {
            assert!(v.get(absent).is_none(), "{absent}: {v}");
        }
    }
    let practice = pb::Practice::default();
    assert!(json_ld(&id, Content::Practice(&practice), &linked).is_none());
    let text = script_json(&json!({"a": "</script>&<!--"}));
    assert_eq!(text, r#"{"a":"\u003c/script\u003e\u0026\u003c!--"}"#);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"a": "</script>&<!--"})
    );
}
