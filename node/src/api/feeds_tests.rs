//! Programmes through the feeds, exports and citations in-process: the IATI export (checked
//! against the committed 2.03 schema and read back), CSV, the Atom feed, the calendar and a
//! citation, over a node that published them.
#![allow(clippy::unwrap_used)]

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::query_tests::wait_for;
use super::tests::{Api, api, call, get, publish};
use crate::feeds::iati::testing::{parse, validate};

/// A programme led by KZ with UZ and `others` as participants.
fn programme(title: &str, status: &str, others: Value, related: Value) -> Value {
    let mut participants = vec![
        json!({"member": "KZ", "roles": ["lead", "accountable"]}),
        json!({"member": "UZ", "roles": ["funding"],
               "contributions": [{"type": "cash", "amount": "50000", "currency": "EUR"}]}),
    ];
    participants.extend(others.as_array().cloned().unwrap_or_default());
    json!({
        "kind": "programme",
        "title": {"en": title, "ru": "Программа"},
        "description": {"en": "Civil-service academies share one curriculum."},
        "participants": participants,
        "status": status,
        "planned_start": "2027-03-01",
        "planned_end": "2027-08-31",
        "countries": ["KZ"],
        "topics": ["training"],
        "budget": [{"period_start": "2027-03-01", "period_end": "2027-08-31",
                    "value": "125000.75", "currency": "EUR", "status": "committed"}],
        "results": [{"type": "output", "title": {"en": "Courses run"},
                     "indicators": [{"title": {"en": "Courses"}, "measure": "unit",
                                     "periods": [{"start": "2027-03-01", "end": "2027-06-30",
                                                  "target": 10, "actual": 12}]}]}],
        "related": related,
    })
}

/// A node of KZ holding an institution, a parent programme and its child (with the
/// institution among its participants), and a practice.
async fn node() -> (Api, String, String, String) {
    let api = api(Some("KZ"));
    let institution = publish(
        &api,
        json!({"kind": "institution", "type": "academy_or_school",
               "name": {"en": "Academy of Public Administration", "kk": "Мемлекеттік басқару академиясы"},
               "topics": ["training"], "languages": ["kk", "ru"]}),
    )
    .await;
    let parent = publish(
        &api,
        programme(
            "Curriculum network",
            "implementation",
            json!([{"member": "KG", "roles": ["beneficiary"]}]),
            json!([]),
        ),
    )
    .await;
    let child = publish(
        &api,
        programme(
            "Ethics module",
            "cancelled",
            json!([{"institution": institution, "roles": ["implementing"]}]),
            json!([{"id": parent, "relation": "parent"}]),
        ),
    )
    .await;
    publish(
        &api,
        json!({"kind": "practice", "title": {"en": "Mentoring"}, "summary": {"en": "A mentor each."}, "topics": ["training"]}),
    )
    .await;
    wait_for(&api, "/api/v1/records", |v| v["total"] == 4).await;
    (api, institution, parent, child)
}

async fn text(api: &Api, path: &str) -> (StatusCode, String, String) {
    let (status, ctype, body) = call(api, get(path)).await;
    (status, ctype, String::from_utf8(body).unwrap())
}

#[tokio::test]
async fn programmes_export_as_iati_xml_that_validates_and_reads_back() {
    let (api, institution, parent, child) = node().await;
    let (status, ctype, xml) = text(&api, "/api/v1/export?format=iati").await;
    assert_eq!(status, StatusCode::OK, "{xml}");
    assert!(ctype.starts_with("application/xml"), "{ctype}");
    validate(&xml);
    let root = parse(&xml);
    assert_eq!(root.attr("version"), "2.03");
    let mut ids: Vec<&str> = root
        .all("iati-activity")
        .map(|a| a.one("iati-identifier").text.as_str())
        .collect();
    ids.sort();
    // The practice and the institution are no activities.
    let mut want = [
        format!("XM-HUBNET-KZ-{child}"),
        format!("XM-HUBNET-KZ-{parent}"),
    ];
    want.sort();
    assert_eq!(ids, want);
    let activity = |id: &str| {
        let identifier = format!("XM-HUBNET-KZ-{id}");
        root.all("iati-activity")
            .find(|a| a.one("iati-identifier").text == identifier)
            .unwrap()
    };
    let a = activity(&child);
    assert_eq!(a.one("activity-status").attr("code"), "5");
    // The parent by its identifier, which starts with its own lead's reference.
    let related = a.one("related-activity");
    assert_eq!(related.attr("ref"), format!("XM-HUBNET-KZ-{parent}"));
    assert_eq!(related.attr("type"), "1");
    // The institution as the node holds it: an academy (80), by name.
    let org = a
        .all("participating-org")
        .find(|o| o.attr("ref") == format!("XM-HUBNET-{institution}"))
        .expect("the institution");
    assert_eq!((org.attr("role"), org.attr("type")), ("4", "80"));
    assert!(
        org.narratives()
            .contains(&("en".into(), "Academy of Public Administration".into()))
    );
    let value = a.one("budget").one("value");
    assert_eq!(
        (value.text.as_str(), value.attr("currency")),
        ("125000.75", "EUR")
    );
    let period = a.one("result").one("indicator").one("period");
    assert_eq!(period.one("actual").attr("value"), "12");
    // KG only benefits: no participating organisation, in the parent.
    let p = activity(&parent);
    let refs: Vec<&str> = p.all("participating-org").map(|o| o.attr("ref")).collect();
    assert_eq!(refs, ["XM-HUBNET-KZ", "XM-HUBNET-KZ", "XM-HUBNET-UZ"]);

    // The query's filters apply; `kind` is implied and may name no other kind.
    let (status, _, xml) = text(&api, "/api/v1/export?format=iati&q=ethics").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(parse(&xml).all("iati-activity").count(), 1);
    let (status, _, _) = text(&api, "/api/v1/export?format=iati&kind=programme").await;
    assert_eq!(status, StatusCode::OK);
    let (status, ctype, body) = text(&api, "/api/v1/export?format=iati&kind=practice").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(ctype, "application/problem+json");
    assert!(body.contains("programmes only"), "{body}");

    // CSV: the planned days and both statuses, the existing columns where they were.
    let (status, _, csv) = text(&api, "/api/v1/export?format=csv&kind=programme").await;
    assert_eq!(status, StatusCode::OK);
    let mut reader = ::csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, crate::feeds::export::CSV_COLUMNS);
    assert_eq!(header.last().map(String::as_str), Some("programme_status"));
    let rows: Vec<::csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    let row = |id: &str| rows.iter().find(|r| &r[0] == id).unwrap();
    let c = row(&child);
    assert_eq!(
        (&c[9], &c[10], &c[11], &c[12]),
        ("2027-03-01", "2027-08-31", "UTC", "cancelled")
    );
    assert_eq!(&c[19], "cancelled");
    assert_eq!(&row(&parent)[19], "implementation");
}

#[tokio::test]
async fn programmes_have_an_atom_feed_a_calendar_and_citations() {
    let (api, _, parent, child) = node().await;
    let (status, ctype, atom) = text(&api, "/feeds/programmes.atom").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ctype.starts_with("application/atom+xml"), "{ctype}");
    let feed: atom_syndication::Feed = atom.parse().expect("Atom");
    assert!(feed.id.ends_with("/feeds/programmes.atom"), "{}", feed.id);
    let mut entries: Vec<&str> = feed.entries.iter().map(|e| e.id.as_str()).collect();
    entries.sort();
    let mut want = [
        format!("urn:hubnet:record:{child}"),
        format!("urn:hubnet:record:{parent}"),
    ];
    want.sort();
    assert_eq!(entries, want);

    // The calendar carries programmes when asked, as all-day events; events alone otherwise.
    let (status, _, ics) = text(&api, "/feeds/events.ics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!ics.contains(&parent), "{ics}");
    let (status, _, ics) = text(&api, "/feeds/events.ics?kind=programme").await;
    assert_eq!(status, StatusCode::OK, "{ics}");
    assert!(ics.contains(&format!("UID:{parent}@hubnet")), "{ics}");
    assert!(ics.contains("DTSTART;VALUE=DATE:20270301\r\n"), "{ics}");
    assert!(ics.contains("DTEND;VALUE=DATE:20270901\r\n"), "{ics}");
    assert!(ics.contains("STATUS:CANCELLED\r\n"), "{ics}");
    let (status, _, _) = text(&api, "/feeds/events.ics?kind=event&kind=programme").await;
    assert_eq!(status, StatusCode::OK);
    let (status, ctype, _) = text(&api, "/feeds/events.ics?kind=practice").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(ctype, "application/problem+json");

    // A programme is cited like any record: its title, its lead, its page.
    let (status, _, bib) = text(
        &api,
        &format!("/api/v1/records/{parent}/citation?format=bibtex"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{bib}");
    assert!(bib.contains("Curriculum network"), "{bib}");
    assert!(bib.contains("Kazakhstan"), "{bib}");
    assert!(bib.contains(&format!("/records/{parent}")), "{bib}");
    let (status, _, csl) = text(
        &api,
        &format!("/api/v1/records/{child}/citation?format=csl-json"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{csl}");
    let csl: Value = serde_json::from_str(&csl).unwrap();
    let item = if csl.is_array() { &csl[0] } else { &csl };
    assert_eq!(item["title"], "Ethics module");

    // The OpenAPI document lists the new feed and the new format.
    let (_, _, doc) = text(&api, "/api/v1/openapi.json").await;
    let doc: Value = serde_json::from_str(&doc).unwrap();
    assert!(doc["paths"]["/feeds/programmes.atom"]["get"].is_object());
    let format = doc["paths"]["/api/v1/export"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "format")
        .cloned()
        .unwrap();
    assert!(
        format["schema"]["pattern"]
            .as_str()
            .unwrap()
            .contains("iati"),
        "{format}"
    );
    assert!(format["description"].as_str().unwrap().contains("IATI"));
}
