//! The directory endpoints in-process: filters, the vCard and CSV exports, an institution's
//! references, the operators' list behind the admin token, and refusals.
#![allow(clippy::unwrap_used)]

use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use super::query_tests::wait_for;
use super::tests::{TOKEN, api, call, get, json, post, publish};

fn expert(name: &str, institution: Value, langs: &[&str], formats: &[&str]) -> Value {
    json!({
        "kind": "expert", "name": {"en": name},
        "institution": institution,
        "topics": ["e-government"], "languages": langs, "formats": formats,
        "contact_email": "experts@kz.example.org",
        "consent": {"date": "2026-01-15", "scope": "hub_network_all_members",
                    "document_sha256": "44".repeat(32)},
    })
}

fn names(v: &Value) -> Vec<String> {
    v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"]["en"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_directory_filters_exports_and_lists_references_and_profiles_due() {
    let api = api(Some("KZ"));
    let agency = publish(
        &api,
        json!({"kind": "institution", "name": {"en": "Example Agency"},
               "type": "civil_service_agency", "languages": ["kk", "ru"]}),
    )
    .await;
    let ru = publish(
        &api,
        expert(
            "Alpha (fictional)",
            json!({"id": agency}),
            &["ru", "kk"],
            &["speaker"],
        ),
    )
    .await;
    publish(
        &api,
        expert(
            "Beta (fictional)",
            json!({"name": {"en": "Example Centre"}}),
            &["en"],
            &["mentoring"],
        ),
    )
    .await;
    let practice = publish(
        &api,
        json!({"kind": "practice", "title": {"en": "P"}, "summary": {"en": "S"},
               "topics": ["training"], "institution_ids": [agency]}),
    )
    .await;
    let all = wait_for(&api, "/api/v1/directory", |v| v["total"] == 3).await;
    assert_eq!(
        names(&all),
        ["Alpha (fictional)", "Beta (fictional)", "Example Agency"]
    );
    let v = wait_for(
        &api,
        "/api/v1/directory?kind=expert&topic=e-government&lang=ru&country=KZ",
        |_| true,
    )
    .await;
    assert_eq!(names(&v), ["Alpha (fictional)"]);
    assert_eq!(v["entries"][0]["id"], ru);
    assert_eq!(v["entries"][0]["institution"], json!({"id": agency}));
    let v = wait_for(
        &api,
        "/api/v1/directory?kind=expert&format=mentoring",
        |_| true,
    )
    .await;
    assert_eq!(names(&v), ["Beta (fictional)"]);
    let v = wait_for(
        &api,
        "/api/v1/directory?kind=institution&type=civil_service_agency",
        |_| true,
    )
    .await;
    assert_eq!(names(&v), ["Example Agency"]);
    let v = wait_for(&api, "/api/v1/directory?type=ministry", |_| true).await;
    assert_eq!(v["total"], 0);

    let (status, ctype, body) = call(&api, get("/api/v1/directory.vcf?kind=expert&lang=ru")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ctype.starts_with("text/vcard"), "{ctype}");
    let card = String::from_utf8(body).unwrap();
    assert_eq!(card.matches("BEGIN:VCARD\r\n").count(), 1);
    assert!(card.contains("FN:Alpha (fictional)\r\n"));
    assert!(
        card.contains("ORG:Example Agency\r\n"),
        "the institution by id: {card}"
    );
    let (status, ctype, body) = call(&api, get("/api/v1/directory.csv")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ctype.starts_with("text/csv"), "{ctype}");
    assert_eq!(String::from_utf8(body).unwrap().lines().count(), 4);

    let refs = wait_for(
        &api,
        &format!("/api/v1/institutions/{agency}/references"),
        |_| true,
    )
    .await;
    let mut named: Vec<&str> = refs["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    named.sort_unstable();
    let mut want = vec![ru.as_str(), practice.as_str()];
    want.sort_unstable();
    assert_eq!(named, want);
    let (status, _, _) = call(
        &api,
        get(&format!("/api/v1/institutions/{practice}/references")),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not an institution");

    // The operators' list: none within 60 days (the default reconfirm_by is 24 months on),
    // both within 800.
    let (status, _, _) = call(&api, get("/api/v1/admin/reconfirm")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let authed = |path: &str| {
        Request::get(path)
            .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let (status, _, body) = call(&api, authed("/api/v1/admin/reconfirm")).await;
    assert_eq!(status, StatusCode::OK);
    let v = json(&body);
    assert_eq!(
        (v["member"].as_str(), v["within"].as_u64()),
        (Some("KZ"), Some(60))
    );
    assert_eq!(v["profiles"], json!([]));
    let (_, _, body) = call(&api, authed("/api/v1/admin/reconfirm?within=800")).await;
    let v = json(&body);
    assert_eq!(v["profiles"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["profiles"][0]["lapsed"], false);

    // Refusals.
    for bad in [
        "/api/v1/directory?kind=practice",
        "/api/v1/directory?format=dancing",
        "/api/v1/directory?type=castle",
        "/api/v1/directory?lang=%20",
        "/api/v1/directory?colour=red",
    ] {
        let (status, _, _) = call(&api, get(bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let (status, _, _) = call(&api, authed("/api/v1/admin/reconfirm?within=-1")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let mut gmail = expert("Gamma", json!({"name": {"en": "X"}}), &["ru"], &["speaker"]);
    gmail["contact_email"] = json!("someone@gmail.com");
    let (status, _, body) = call(
        &api,
        post("/api/v1/records", Some(TOKEN), gmail.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(String::from_utf8_lossy(&body).contains("gmail.com"));
    let naming_a_practice = json!({"kind": "practice", "title": {"en": "Q"}, "summary": {"en": "S"},
        "topics": ["training"], "institution_ids": [practice]});
    let (status, _, body) = call(
        &api,
        post(
            "/api/v1/records",
            Some(TOKEN),
            naming_a_practice.to_string(),
        ),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "{}",
        String::from_utf8_lossy(&body)
    );
}
