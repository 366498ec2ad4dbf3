//! OAI-PMH in-process: each verb and each error code over `GET` and `POST /oai`, every answer
//! checked against the committed OAI-PMH and oai_dc schemas (`tests/data/oai-pmh/`), paging
//! with resumption tokens while records arrive, deletions, hostile text.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

use super::query_tests::wait_for;
use super::tests::{Api, api, call, get, publish};
use crate::feeds::iati::testing::{Element, parse, validate_with};

/// `GET /oai?{query}`: the answer, checked against the schemas, and its document element.
async fn oai(api: &Api, query: &str) -> Element {
    let (status, ctype, body) = call(api, get(&format!("/oai?{query}"))).await;
    check(status, &ctype, &body)
}

/// `POST /oai` with `form` as the body.
async fn oai_post(api: &Api, form: &str, ctype: &str) -> Element {
    let req = Request::post("/oai")
        .header(header::CONTENT_TYPE, ctype)
        .body(Body::from(form.to_owned()))
        .unwrap();
    let (status, ctype, body) = call(api, req).await;
    check(status, &ctype, &body)
}

fn check(status: StatusCode, ctype: &str, body: &[u8]) -> Element {
    let xml = String::from_utf8(body.to_vec()).unwrap();
    assert_eq!(status, StatusCode::OK, "{xml}");
    assert!(ctype.starts_with("text/xml"), "{ctype}");
    let schema =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/oai-pmh/oai-pmh-with-oai_dc.xsd");
    validate_with(&xml, &schema);
    let doc = parse(&xml);
    assert_eq!(doc.name, "OAI-PMH");
    doc
}

/// The error codes of an answer.
fn errors(doc: &Element) -> Vec<String> {
    doc.all("error")
        .map(|e| e.attr("code").to_owned())
        .collect()
}

/// A node of KZ with three practices and an event; pages of 2.
async fn node() -> (Api, Vec<String>) {
    let api = api(Some("KZ"));
    api.shared.oai.set_pages(2, 2);
    let mut ids = Vec::new();
    for (n, title) in ["Mentoring", "Merit exams", "Open data"].iter().enumerate() {
        ids.push(
            publish(
                &api,
                json!({"kind": "practice", "topics": ["training"], "license": "CC-BY-4.0",
                       "title": {"en": title, "ru": format!("Практика {n}")},
                       "summary": {"en": "Newcomers get a mentor & <more>."}}),
            )
            .await,
        );
    }
    ids.push(
        publish(
            &api,
            json!({"kind": "event", "event_type": "conference", "topics": ["e-government"],
                   "title": {"en": "Forum"}, "start": "2027-03-10T10:00", "end": "2027-03-10T17:00",
                   "time_zone": "Asia/Almaty", "status": "scheduled", "languages": ["en"]}),
        )
        .await,
    );
    wait_for(&api, "/api/v1/records", |v| v["total"] == 4).await;
    (api, ids)
}

fn identifier(api: &Api, id: &str) -> String {
    let repo = crate::oai::repository_identifier(&api.shared.charter());
    format!("oai:{repo}:{id}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_verb_answers_and_validates() {
    let (api, ids) = node().await;
    let doc = oai(&api, "verb=Identify").await;
    let identify = doc.one("Identify");
    assert_eq!(identify.one("protocolVersion").text, "2.0");
    assert_eq!(identify.one("deletedRecord").text, "persistent");
    assert_eq!(identify.one("granularity").text, "YYYY-MM-DDThh:mm:ssZ");
    assert!(identify.one("baseURL").text.ends_with("/oai"));
    // No address configured: a reserved, unreachable one; else the config's.
    assert!(identify.one("adminEmail").text.ends_with(".invalid"));
    api.shared
        .oai
        .set_admin_email(Some("oai@agency.example".into()));
    let doc = oai(&api, "verb=Identify").await;
    assert_eq!(
        doc.one("Identify").one("adminEmail").text,
        "oai@agency.example"
    );
    let doc = oai(&api, "verb=ListMetadataFormats").await;
    assert_eq!(
        doc.one("ListMetadataFormats")
            .one("metadataFormat")
            .one("metadataPrefix")
            .text,
        "oai_dc"
    );
    let doc = oai(&api, "verb=ListSets").await;
    let specs: Vec<String> = doc
        .one("ListSets")
        .all("set")
        .map(|s| s.one("setSpec").text.clone())
        .collect();
    assert!(specs.contains(&"kind:practice".to_owned()));
    assert!(specs.contains(&"country:KZ".to_owned()));
    // GetRecord: the Dublin Core of a practice.
    let id = identifier(&api, &ids[0]);
    let doc = oai(
        &api,
        &format!("verb=GetRecord&metadataPrefix=oai_dc&identifier={id}"),
    )
    .await;
    let record = doc.one("GetRecord").one("record");
    assert_eq!(record.one("header").one("identifier").text, id);
    let dc = record.one("metadata").one("oai_dc:dc");
    let titles: Vec<(&str, &str)> = dc
        .all("dc:title")
        .map(|t| (t.attr("xml:lang"), t.text.as_str()))
        .collect();
    assert_eq!(titles, [("en", "Mentoring"), ("ru", "Практика 0")]);
    assert_eq!(
        dc.one("dc:description").text,
        "Newcomers get a mentor & <more>."
    );
    assert!(
        dc.one("dc:identifier")
            .text
            .ends_with(&format!("/records/{}", ids[0]))
    );
    assert_eq!(dc.one("dc:rights").text, "CC-BY-4.0");
    assert_eq!(dc.one("dc:coverage").text, "KZ");
    assert_eq!(dc.one("dc:subject").text, "training");
    // ListMetadataFormats for one item.
    let doc = oai(&api, &format!("verb=ListMetadataFormats&identifier={id}")).await;
    assert!(errors(&doc).is_empty());
    // ListIdentifiers and ListRecords page by two: a token, then the last page's empty one.
    for verb in ["ListIdentifiers", "ListRecords"] {
        let (seen, pages) = harvest(&api, &format!("verb={verb}&metadataPrefix=oai_dc")).await;
        assert_eq!(seen.len(), 4, "{verb}");
        assert_eq!(pages, 2);
    }
    // POST gives the same.
    let doc = oai_post(
        &api,
        "verb=ListIdentifiers&metadataPrefix=oai_dc&set=kind%3Aevent",
        "application/x-www-form-urlencoded",
    )
    .await;
    let headers: Vec<&Element> = doc.one("ListIdentifiers").all("header").collect();
    assert_eq!(headers.len(), 1);
    assert_eq!(headers[0].one("identifier").text, identifier(&api, &ids[3]));
}

/// Pages through a list from `query` with its tokens: the identifiers in order, the pages.
async fn harvest(api: &Api, query: &str) -> (Vec<String>, usize) {
    let verb = query
        .split('&')
        .find_map(|p| p.strip_prefix("verb="))
        .unwrap()
        .to_owned();
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut next = query.to_owned();
    loop {
        let doc = oai(api, &next).await;
        assert!(errors(&doc).is_empty(), "{next}");
        pages += 1;
        let list = doc.one(&verb);
        let before = seen.len();
        for h in list
            .all("header")
            .chain(list.all("record").map(|r| r.one("header")))
        {
            seen.push(h.one("identifier").text.clone());
        }
        let token = list.all("resumptionToken").next();
        if let Some(t) = token {
            assert_eq!(t.attr("cursor"), before.to_string());
        }
        match token {
            Some(t) if !t.text.is_empty() => {
                next = format!("verb={verb}&resumptionToken={}", t.text);
            }
            Some(t) => {
                assert_eq!(t.attr("completeListSize"), seen.len().to_string());
                return (seen, pages);
            }
            None => return (seen, pages),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_code_where_the_protocol_calls_for_it() {
    let (api, ids) = node().await;
    let id = identifier(&api, &ids[0]);
    let cases: &[(&str, &[&str])] = &[
        ("", &["badVerb"]),
        ("verb=Frobnicate", &["badVerb"]),
        ("verb=Identify&verb=Identify", &["badVerb"]),
        ("verb=Identify&extra=1", &["badArgument"]),
        ("verb=ListRecords", &["badArgument"]),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=oai_dc",
            &["badArgument"],
        ),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&from=2020-01-01&until=2021-01-01T00:00:00Z",
            &["badArgument"],
        ),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&from=2021-01-02&until=2021-01-01",
            &["badArgument"],
        ),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&from=2021-01-01T00:00:00.5Z",
            &["badArgument"],
        ),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&from=yesterday",
            &["badArgument"],
        ),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&resumptionToken=x",
            &["badArgument"],
        ),
        ("verb=GetRecord&metadataPrefix=oai_dc", &["badArgument"]),
        (
            "verb=ListRecords&resumptionToken=garbage",
            &["badResumptionToken"],
        ),
        (
            "verb=ListSets&resumptionToken=anything",
            &["badResumptionToken"],
        ),
        (
            "verb=ListRecords&metadataPrefix=marc21",
            &["cannotDisseminateFormat"],
        ),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&set=kind:expert",
            &["noRecordsMatch"],
        ),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&set=nonsense",
            &["noRecordsMatch"],
        ),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&until=2000-01-01",
            &["noRecordsMatch"],
        ),
        (
            "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:elsewhere:1",
            &["idDoesNotExist"],
        ),
        (
            "verb=ListMetadataFormats&identifier=nonsense",
            &["idDoesNotExist"],
        ),
        ("verb=Identify&%ZZ=1", &["badArgument"]),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&set=kind:",
            &["badArgument"],
        ),
        ("verb=ListRecords&metadataPrefix=oai%20dc", &["badArgument"]),
        ("verb=%00Identify", &["badVerb"]),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&from=%FF%FE",
            &["badArgument"],
        ),
        (
            "verb=ListRecords&metadataPrefix=oai_dc&set=%01%02",
            &["badArgument"],
        ),
        (
            "verb=GetRecord&metadataPrefix=oai_dc&identifier=%3C%26%00",
            &["idDoesNotExist"],
        ),
        (
            "verb=GetRecord&metadataPrefix=marc21&identifier=nonsense",
            &["idDoesNotExist", "cannotDisseminateFormat"],
        ),
    ];
    for (query, want) in cases {
        let doc = oai(&api, query).await;
        assert_eq!(&errors(&doc), want, "{query}");
        // badVerb and badArgument answers echo no arguments (3.2).
        if want.contains(&"badVerb") || want.contains(&"badArgument") {
            assert!(doc.one("request").attrs.is_empty(), "{query}");
        }
    }
    let doc = oai(
        &api,
        &format!("verb=GetRecord&metadataPrefix=marc21&identifier={id}"),
    )
    .await;
    assert_eq!(errors(&doc), ["cannotDisseminateFormat"]);
    // A POST that is not a form is badArgument, not a 4xx.
    let doc = oai_post(&api, "verb=Identify", "text/plain").await;
    assert_eq!(errors(&doc), ["badArgument"]);
    // A token of one verb does not continue the other; a token changed by one character is
    // refused.
    let doc = oai(&api, "verb=ListIdentifiers&metadataPrefix=oai_dc").await;
    let token = doc
        .one("ListIdentifiers")
        .one("resumptionToken")
        .text
        .clone();
    let doc = oai(&api, &format!("verb=ListRecords&resumptionToken={token}")).await;
    assert_eq!(errors(&doc), ["badResumptionToken"]);
    let mut forged = token.into_bytes();
    let last = forged.len() - 1;
    forged[last] = if forged[last] == b'0' { b'1' } else { b'0' };
    let forged = String::from_utf8(forged).unwrap();
    let doc = oai(
        &api,
        &format!("verb=ListIdentifiers&resumptionToken={forged}"),
    )
    .await;
    assert_eq!(errors(&doc), ["badResumptionToken"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletions_are_deleted_headers_and_changes_come_again_from_their_datestamp() {
    let (api, ids) = node().await;
    // The first page is taken; then one practice is retracted, another amended, a record
    // added: the rest of the harvest meets each item, the changed ones again at the end.
    let first = oai(&api, "verb=ListIdentifiers&metadataPrefix=oai_dc").await;
    let list = first.one("ListIdentifiers");
    let token = list.one("resumptionToken").text.clone();
    let before = first.one("responseDate").text.clone();
    publish(
        &api,
        json!({"kind": "retraction", "target": ids[0], "reason": {"en": "Withdrawn."}}),
    )
    .await;
    publish(
        &api,
        json!({"kind": "amendment", "target": ids[1],
               "record": {"kind": "practice", "topics": ["training"],
                          "title": {"en": "Merit exams, amended"}, "summary": {"en": "s"}}}),
    )
    .await;
    let added = publish(
        &api,
        json!({"kind": "practice", "topics": ["training"], "title": {"en": "Ethics\u{1}\u{FFFF} code"},
               "summary": {"en": "Bad\u{0} bytes\u{1b}"}}),
    )
    .await;
    let mut rest = Vec::new();
    let mut next = format!("verb=ListIdentifiers&resumptionToken={token}");
    loop {
        let doc = oai(&api, &next).await;
        let list = doc.one("ListIdentifiers");
        rest.extend(list.all("header").map(|h| {
            (
                h.one("identifier").text.clone(),
                h.attrs.get("status").cloned(),
            )
        }));
        match list.all("resumptionToken").next() {
            Some(t) if !t.text.is_empty() => {
                next = format!("verb=ListIdentifiers&resumptionToken={}", t.text);
            }
            _ => break,
        }
    }
    let mut seen: Vec<String> = list
        .all("header")
        .map(|h| h.one("identifier").text.clone())
        .chain(rest.iter().map(|(i, _)| i.clone()))
        .collect();
    for id in ids.iter().chain([&added]) {
        assert!(seen.contains(&identifier(&api, id)), "{id} missing");
    }
    let retracted = rest
        .iter()
        .find(|(i, _)| *i == identifier(&api, &ids[0]))
        .unwrap();
    assert_eq!(retracted.1.as_deref(), Some("deleted"));
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5);
    // An incremental harvest from the first answer's time meets the three changes (one page).
    api.shared.oai.set_pages(2, 10);
    let doc = oai(
        &api,
        &format!("verb=ListRecords&metadataPrefix=oai_dc&from={before}"),
    )
    .await;
    let records: Vec<&Element> = doc.one("ListRecords").all("record").collect();
    let changed: Vec<String> = records
        .iter()
        .map(|r| r.one("header").one("identifier").text.clone())
        .collect();
    for id in [&ids[0], &ids[1], &added] {
        assert!(changed.contains(&identifier(&api, id)), "{id} not changed");
    }
    // The retracted one has no metadata; the hostile text lost its forbidden characters.
    let deleted = records
        .iter()
        .find(|r| r.one("header").one("identifier").text == identifier(&api, &ids[0]))
        .unwrap();
    assert_eq!(deleted.one("header").attr("status"), "deleted");
    assert!(deleted.all("metadata").next().is_none());
    let doc = oai(
        &api,
        &format!(
            "verb=GetRecord&metadataPrefix=oai_dc&identifier={}",
            identifier(&api, &added)
        ),
    )
    .await;
    let dc = doc
        .one("GetRecord")
        .one("record")
        .one("metadata")
        .one("oai_dc:dc");
    assert_eq!(dc.one("dc:title").text, "Ethics code");
    assert_eq!(dc.one("dc:description").text, "Bad bytes");
}
