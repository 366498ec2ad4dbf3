//! The researchers' endpoints in-process: queries, facets, cursors, the current state, members,
//! logs, forks, the OpenAPI document, and queries generated from that document.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use proptest::prelude::*;
use serde_json::{Value, json};

use super::openapi_tests::resolve;
use super::tests::{Api, TOKEN, api, call, get, json, post, publish};

/// GETs `path` until `done` holds for its JSON (the indexer commits shortly after a store).
pub(super) async fn wait_for(api: &Api, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (status, _, body) = call(api, get(path)).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{path}: {}",
            String::from_utf8_lossy(&body)
        );
        let v = json(&body);
        if done(&v) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "{path}: condition not met by the deadline: {v}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await; // poll; the deadline bounds it
    }
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn ids(v: &Value) -> Vec<String> {
    v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn queries_filter_search_and_show_the_current_state() {
    let api = api(Some("KZ"));
    let egov = publish(
        &api,
        json!({"kind": "practice", "topics": ["e-government"],
               "title": {"ru": "Электронное правительство и центры обслуживания", "en": "E-government and service centres"},
               "summary": {"ru": "Услуги государственной службы онлайн.", "kk": "Мемлекеттік қызметтер онлайн."},
               "body": {"ru": "## Итоги\n\nГосударственная служба стала ближе. <script>alert(1)</script>"}}),
    )
    .await;
    let mentoring = publish(
        &api,
        json!({"kind": "practice", "topics": ["training"],
               "title": {"kk": "Тәлімгерлік", "en": "Mentoring"}, "summary": {"en": "Newcomers get a mentor."}}),
    )
    .await;
    let event = publish(
        &api,
        json!({"kind": "event", "event_type": "conference", "topics": ["e-government"],
               "title": {"en": "Digital government forum", "ru": "Форум цифрового правительства"},
               "start": "2027-03-10T10:00", "end": "2027-03-10T17:00", "time_zone": "Asia/Almaty",
               "status": "scheduled", "languages": ["ru", "en"]}),
    )
    .await;
    publish(
        &api,
        json!({"kind": "amendment", "target": mentoring,
               "record": {"kind": "practice", "topics": ["training"],
                          "title": {"kk": "Тәлімгерлік бағдарламасы", "en": "Mentoring programme"},
                          "summary": {"en": "Every newcomer gets a mentor for a year."}}}),
    )
    .await;
    publish(
        &api,
        json!({"kind": "retraction", "target": event, "reason": {"en": "Cancelled."}}),
    )
    .await;
    // Two current records; the retracted event is hidden.
    let all = wait_for(&api, "/api/v1/records", |v| {
        v["total"] == 2
            && (v["records"][0]["amendment"].is_object()
                || v["records"][1]["amendment"].is_object())
    })
    .await;
    assert_eq!(all["facets"]["kind"], json!({"practice": 2}));
    assert_eq!(all["facets"]["country"], json!({"KZ": 2}));
    assert_eq!(all["next_cursor"], Value::Null);
    for r in all["records"].as_array().unwrap() {
        for part in ["header", "body", "signature"] {
            assert!(r["signed"][part].is_string(), "signed.{part}");
        }
    }
    // Russian inflections meet.
    let v = wait_for(
        &api,
        &format!("/api/v1/records?q={}", enc("государственной службы")),
        |_| true,
    )
    .await;
    assert_eq!(ids(&v), vec![egov.clone()]);
    // Never amended: `body` is in force and is not repeated as `current`.
    assert_eq!(v["records"][0]["current"], Value::Null);
    let v = wait_for(
        &api,
        &format!("/api/v1/records?q={}", enc("электронное правительство")),
        |_| true,
    )
    .await;
    assert_eq!(ids(&v), vec![egov.clone()]);
    // The amendment's words find the original, whose `current` is the new content.
    let v = wait_for(&api, "/api/v1/records?q=programme", |_| true).await;
    assert_eq!(ids(&v), vec![mentoring.clone()]);
    assert_eq!(
        v["records"][0]["current"]["title"]["en"],
        "Mentoring programme"
    );
    assert_eq!(v["records"][0]["body"]["title"]["en"], "Mentoring");
    assert!(v["records"][0]["amendment"]["signed"]["signature"].is_string());
    // `fields` cuts each record to what is named: the title is the one in force.
    let cut = wait_for(
        &api,
        "/api/v1/records?q=programme&fields=id,title&fields=kind,id",
        |_| true,
    )
    .await;
    assert_eq!(
        cut["records"][0],
        json!({"id": mentoring, "title": {"kk": "Тәлімгерлік бағдарламасы", "en": "Mentoring programme"}, "kind": "practice"})
    );
    assert_eq!(
        (cut["total"].clone(), cut["facets"].clone()),
        (v["total"].clone(), v["facets"].clone())
    );
    let cut = wait_for(
        &api,
        "/api/v1/records?q=programme&fields=signed,current",
        |_| true,
    )
    .await;
    assert_eq!(cut["records"][0]["signed"], v["records"][0]["signed"]);
    assert_eq!(cut["records"][0]["current"], v["records"][0]["current"]);
    assert_eq!(cut["records"][0].as_object().map(|o| o.len()), Some(2));
    // lang=kk searches the Kazakh text only.
    let v = wait_for(
        &api,
        &format!("/api/v1/records?lang=kk&q={}", enc("мемлекеттік")),
        |_| true,
    )
    .await;
    assert_eq!(ids(&v), vec![egov.clone()]);
    let v = wait_for(
        &api,
        &format!("/api/v1/records?lang=en&q={}", enc("мемлекеттік")),
        |_| true,
    )
    .await;
    assert_eq!(v["total"], 0);
    // Retracted records on request.
    let v = wait_for(
        &api,
        "/api/v1/records?include_retracted=true&kind=event",
        |_| true,
    )
    .await;
    assert_eq!(ids(&v), vec![event.clone()]);
    assert_eq!(v["records"][0]["retracted"], true);
    // Paging with a cursor.
    let p1 = wait_for(&api, "/api/v1/records?limit=1&sort=oldest", |_| true).await;
    let cursor = p1["next_cursor"].as_str().unwrap().to_owned();
    let p2 = wait_for(
        &api,
        &format!("/api/v1/records?limit=1&sort=oldest&cursor={cursor}"),
        |_| true,
    )
    .await;
    assert_eq!(ids(&p1), vec![egov.clone()]);
    assert_eq!(ids(&p2), vec![mentoring.clone()]);
    assert_eq!(p2["next_cursor"], Value::Null);
    // The current state with the Markdown rendered safely.
    let v = wait_for(&api, &format!("/api/v1/records/{egov}/current"), |_| true).await;
    let html = v["html"]["ru"].as_str().unwrap();
    assert!(html.contains("<h2>Итоги</h2>"), "{html}");
    assert!(!html.contains("<script"), "{html}");
    // The record page carries citation metadata and the security policy.
    let response = tower::ServiceExt::oneshot(api_app(&api), get(&format!("/records/{egov}")))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let csp = response
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let (_, _, page) = call(&api, get(&format!("/records/{egov}"))).await;
    let page = String::from_utf8(page).unwrap();
    assert!(
        page.contains("citation_title\" content=\"E-government and service centres\""),
        "{page}"
    );
}

#[tokio::test]
async fn feeds_exports_and_citations_answer_in_their_formats() {
    let api = api(Some("KZ"));
    let practice = publish(
        &api,
        json!({"kind": "practice", "topics": ["pay"], "title": {"ru": "Оплата труда, \"грейды\"", "en": "Pay grades"},
               "summary": {"en": "Grades, bands; and \"factors\"."}}),
    )
    .await;
    let event = publish(
        &api,
        json!({"kind": "event", "event_type": "training", "topics": ["training"], "title": {"en": "Ethics training"},
               "start": "2027-05-10T09:30", "time_zone": "Asia/Tashkent", "status": "cancelled"}),
    )
    .await;
    wait_for(&api, "/api/v1/records", |v| v["total"] == 2).await;
    let (status, ctype, body) = call(&api, get("/feeds/events.ics")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ctype.starts_with("text/calendar"), "{ctype}");
    let ics = String::from_utf8(body).unwrap();
    assert!(ics.contains(&format!("UID:{event}@hubnet")), "{ics}");
    assert!(ics.contains("STATUS:CANCELLED"));
    assert!(
        ics.contains("DTSTART;TZID=Asia/Tashkent:20270510T093000"),
        "{ics}"
    );
    assert!(!ics.contains(&practice));
    let (status, ctype, body) = call(&api, get("/feeds/practices.atom?country=KZ")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ctype.starts_with("application/atom+xml"), "{ctype}");
    let atom = String::from_utf8(body).unwrap();
    assert!(
        atom.contains(&format!("urn:hubnet:record:{practice}")),
        "{atom}"
    );
    let (status, ctype, body) = call(&api, get("/api/v1/export?format=csv&kind=practice")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ctype.starts_with("text/csv"), "{ctype}");
    let csv = String::from_utf8(body).unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.starts_with("id,"), "{csv}");
    let (_, _, body) = call(&api, get("/api/v1/export?format=ndjson")).await;
    assert_eq!(String::from_utf8(body).unwrap().lines().count(), 2);
    let (status, _, body) = call(&api, get("/api/v1/export?format=xml")).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let (status, _, body) = call(
        &api,
        get(&format!(
            "/api/v1/records/{practice}/citation?format=bibtex"
        )),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let bib = String::from_utf8(body).unwrap();
    assert!(bib.starts_with("@misc{hubnet-"), "{bib}");
    assert!(bib.contains(&format!("/records/{practice}")), "{bib}");
    let (status, _, body) = call(
        &api,
        get(&format!("/api/v1/records/{event}/citation?format=csl-json")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json(&body)["type"], "event");
}

fn api_app(api: &Api) -> axum::Router {
    api.app.clone()
}

#[tokio::test]
async fn members_logs_and_forks() {
    let api = api(Some("KZ"));
    let id = publish(
        &api,
        json!({"kind": "practice", "title": {"en": "A"}, "summary": {"en": "B"}, "topics": ["pay"]}),
    )
    .await;
    let (status, _, body) = call(&api, get("/api/v1/members")).await;
    assert_eq!(status, StatusCode::OK);
    let m = json(&body);
    assert_eq!(m["members"].as_array().unwrap().len(), 8);
    let kz = m["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == "KZ")
        .unwrap();
    assert_eq!(kz["head"]["id"], id.as_str());
    assert_eq!(kz["publishing_key"].as_str().map(str::len), Some(64));
    assert_eq!(m["network_id"].as_str().map(str::len), Some(64));
    let (_, _, body) = call(&api, get("/api/v1/logs/KZ")).await;
    let log = json(&body);
    assert_eq!(log["entries"][0]["id"], id.as_str());
    assert_eq!(log["entries"][0]["kind"], "practice");
    let (_, _, body) = call(
        &api,
        get(&format!(
            "/api/v1/logs/{}",
            kz["publishing_key"].as_str().unwrap()
        )),
    )
    .await;
    assert_eq!(json(&body)["member"], "KZ");
    let (status, _, body) = call(&api, get("/api/v1/forks")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json(&body), json!([]));
    let (status, _, body) = call(&api, get("/api/v1/peers")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json(&body), json!([]));
}

/// The peers the swarm task lists as live are what `/peers` and `/status` show, with when each
/// last answered a ping and its round-trip time.
#[tokio::test]
async fn peers_and_status_show_the_live_peers_with_last_seen() {
    let api = api(None);
    let peer_id = libp2p::identity::Keypair::generate_ed25519()
        .public()
        .to_peer_id();
    api.shared.lock_peers().insert(
        peer_id,
        crate::shared::PeerStatus {
            peer_id: peer_id.to_string(),
            member: Some("KG".into()),
            address: "/ip4/127.0.0.1/tcp/4001".into(),
            direction: "out",
            connected_at_ms: 1_800_000_000_000,
            last_seen_ms: 1_800_000_004_000,
            rtt_ms: Some(0.42),
            score: Some(0.0),
            behind: Some(0),
            ahead: Some(2),
        },
    );
    let (_, _, body) = call(&api, get("/api/v1/peers")).await;
    let peers = json(&body);
    assert_eq!(peers.as_array().map(Vec::len), Some(1), "{peers}");
    assert_eq!(peers[0]["peer_id"], peer_id.to_string());
    assert_eq!(peers[0]["last_seen_ms"], 1_800_000_004_000i64);
    assert_eq!(peers[0]["rtt_ms"], 0.42);
    assert_eq!(peers[0]["direction"], "out");
    assert_eq!(peers[0]["member"], "KG");
    let (_, _, body) = call(&api, get("/api/v1/status")).await;
    assert_eq!(json(&body)["peers"], peers);
    api.shared.lock_peers().clear();
    let (_, _, body) = call(&api, get("/api/v1/status")).await;
    assert_eq!(json(&body)["peers"], json!([]));
}

/// Every bad parameter is a 400 problem naming what was wrong.
#[tokio::test]
async fn bad_queries_are_400_problems() {
    let api = api(Some("KZ"));
    let long = "я".repeat(501);
    let cases = [
        ("/api/v1/records?kind=book", "kind"),
        ("/api/v1/records?limit=0", "limit"),
        ("/api/v1/records?limit=101", "limit"),
        ("/api/v1/records?limit=-5", "limit"),
        ("/api/v1/records?limit=ten", "limit"),
        ("/api/v1/records?cursor=bm9wZQ", "cursor"),
        ("/api/v1/records?cursor=%%%", "cursor"),
        ("/api/v1/records?colour=red", "unknown parameter"),
        ("/api/v1/records?created_from=yesterday", "created_from"),
        (
            "/api/v1/records?start_from=2027-01-02&start_to=2027-01-01",
            "start_from",
        ),
        ("/api/v1/records?country=K1", "country"),
        ("/api/v1/records?topic=astrology", "topic"),
        ("/api/v1/records?author=ZZ", "author"),
        ("/api/v1/records?lang=r", "lang"),
        ("/api/v1/records?sort=best", "sort"),
        (
            "/api/v1/records?include_retracted=maybe",
            "include_retracted",
        ),
        ("/api/v1/records?q=a&q=b", "more than once"),
        (
            "/api/v1/records?fields=id,colour",
            "not a field of a record",
        ),
        ("/api/v1/records?fields=", "not a field of a record"),
        (
            "/api/v1/records?fields=id,,title",
            "not a field of a record",
        ),
        ("/api/v1/export?fields=id", "unknown parameter"),
        ("/api/v1/logs/ZZ", "member code"),
        ("/api/v1/logs/KZ?limit=0", "limit"),
        ("/api/v1/logs/KZ?from=0", "from"),
        ("/api/v1/records/xyz/current", "record id"),
        ("/api/v1/records/%FF%FE", "UTF-8"),
        ("/api/v1/logs/KZ?limit=5&limit=6", "more than once"),
        (
            "/api/v1/records/abababababababababababababababababababababababababababababababab/citation?format=bibtex&format=csl-json",
            "more than once",
        ),
    ];
    for (path, detail) in cases {
        let (status, ctype, body) = call(&api, get(path)).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(ctype, "application/problem+json", "{path}");
        let d = json(&body)["detail"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(d.contains(detail), "{path}: {d:?} lacks {detail:?}");
    }
    let (status, _, _) = call(&api, get(&format!("/api/v1/records?q={}", enc(&long)))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A method a route does not have is a problem too.
    let req = axum::http::Request::delete("/api/v1/records")
        .body(axum::body::Body::empty())
        .unwrap();
    let (status, ctype, _) = call(&api, req).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(ctype, "application/problem+json");
}

/// The document is OpenAPI 3.1 and describes every route the node answers.
#[tokio::test]
async fn the_openapi_document_describes_every_endpoint() {
    let api = api(None);
    let doc = openapi(&api).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/health",
        "/api/v1/status",
        "/api/v1/records",
        "/api/v1/records/raw",
        "/api/v1/records/{id}",
        "/api/v1/records/{id}/raw",
        "/api/v1/records/{id}/current",
        "/api/v1/members",
        "/api/v1/peers",
        "/api/v1/logs/{author}",
        "/api/v1/forks",
        "/api/v1/records/{id}/citation",
        "/api/v1/export",
        "/feeds/events.ics",
        "/feeds/practices.atom",
        "/api/v1/vocabulary",
        "/feeds/reform-profiles.atom",
        "/api/v1/compare",
        "/api/v1/countries/{code}",
        "/healthz",
        "/readyz",
    ] {
        assert!(
            paths.contains_key(p),
            "{p} missing from the OpenAPI document"
        );
    }
    // The peers' times say their unit.
    let peer = &doc["components"]["schemas"]["PeerStatus"]["properties"];
    for (field, unit) in [
        ("last_seen_ms", "Unix time in milliseconds"),
        ("connected_at_ms", "Unix time in milliseconds"),
        ("rtt_ms", "milliseconds"),
    ] {
        let d = peer[field]["description"]
            .as_str()
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(d.contains(unit), "PeerStatus.{field}: {d:?}");
    }
    assert_eq!(
        doc["paths"]["/api/v1/peers"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
            ["items"]["$ref"],
        "#/components/schemas/PeerStatus"
    );
    let params = doc["paths"]["/api/v1/records"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let names: Vec<&str> = params.iter().filter_map(|p| p["name"].as_str()).collect();
    for n in crate::search::query::PARAMETERS {
        assert!(names.contains(n), "parameter {n} undocumented");
    }
    let params = doc["paths"]["/api/v1/compare"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let names: Vec<&str> = params.iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(
        names,
        crate::compare::PARAMETERS,
        "compare's parameters as documented"
    );
}

pub(super) async fn openapi(api: &Api) -> Value {
    let (status, ctype, body) = call(api, get("/api/v1/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ctype, "application/json");
    json(&body)
}

/// A value for a parameter of `schema` (its `$ref`s followed in `doc`): often valid, often not;
/// of the documented form when the schema has a pattern.
fn value_for(doc: &Value, schema: &Value) -> BoxedStrategy<String> {
    let mut valid: Vec<String> = Vec::new();
    let schema = resolve(doc, schema);
    let items = if schema["type"] == "array" {
        resolve(doc, &schema["items"])
    } else {
        schema
    };
    if let Some(e) = items["enum"].as_array() {
        valid.extend(e.iter().filter_map(|v| v.as_str().map(str::to_owned)));
    }
    let t = items["type"]
        .as_str()
        .or_else(|| items["type"][0].as_str())
        .unwrap_or("string");
    match t {
        "integer" => valid
            .extend(["1", "20", "100", "0", "101", "-1", "99999999999999999999"].map(String::from)),
        "boolean" => valid.extend(["true", "false", "yes"].map(String::from)),
        _ => valid.extend(
            [
                "ru",
                "KZ",
                "e-government",
                "2026-01-01",
                "2026-01-01T00:00:00Z",
                "practice",
                "event",
                "государственной службы",
                "\"unclosed",
                "a:b",
                "*",
                "(",
                "-x",
                "AND",
                "OR NOT",
            ]
            .map(String::from),
        ),
    }
    let mut choices: Vec<(u32, BoxedStrategy<String>)> = vec![
        (2, proptest::sample::select(valid).boxed()),
        (1, "\\PC{0,40}".boxed()),
        (1, "[a-zA-Z0-9:_*()\"'+-]{0,12}".boxed()),
    ];
    if let Some(pattern) = items["pattern"].as_str() {
        let unanchored = pattern.trim_start_matches('^').trim_end_matches('$');
        let of_form = proptest::string::string_regex(unanchored)
            .unwrap_or_else(|e| panic!("pattern {pattern}: {e}"));
        choices.push((2, of_form.boxed()));
    }
    proptest::strategy::Union::new_weighted(choices).boxed()
}

/// What the fixture holds for each path parameter of each GET operation, by (operationId, name),
/// as the document tells: the parameter's `example` and `examples`, and the values that the
/// `links` of GET operations' answers point at (`$response.body#/…`), followed until no new value
/// turns up (a link from an operation with path parameters is followed once those are known).
async fn known_values(api: &Api, doc: &Value) -> BTreeMap<(String, String), Vec<String>> {
    let gets: Vec<(&String, &Value)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter_map(|(path, item)| item.get("get").map(|op| (path, op)))
        .collect();
    let path_params = |op: &Value| -> Vec<Value> {
        op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "path")
            .cloned()
            .collect()
    };
    let mut known: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for (_, op) in &gets {
        let id = op["operationId"].as_str().unwrap();
        for p in path_params(op) {
            let name = p["name"].as_str().unwrap();
            let examples = p["examples"].as_object().into_iter().flatten();
            let values = std::iter::once(&p["example"])
                .chain(examples.map(|(_, e)| &e["value"]))
                .filter_map(Value::as_str)
                .map(str::to_owned);
            known
                .entry((id.to_owned(), name.to_owned()))
                .or_default()
                .extend(values);
        }
    }
    loop {
        let before: usize = known.values().map(BTreeSet::len).sum();
        for (path, op) in &gets {
            let links = op["responses"]["200"]["links"].as_object();
            let Some(links) = links.filter(|l| !l.is_empty()) else {
                continue;
            };
            let id = op["operationId"].as_str().unwrap();
            let mut url = (*path).clone();
            for p in path_params(op) {
                let name = p["name"].as_str().unwrap();
                if let Some(v) = known
                    .get(&(id.to_owned(), name.to_owned()))
                    .and_then(|vs| vs.first())
                {
                    url = url.replace(&format!("{{{name}}}"), &enc(v));
                }
            }
            if url.contains('{') {
                continue;
            }
            let (status, _, body) = call(api, get(&url)).await;
            assert_eq!(
                status,
                StatusCode::OK,
                "{url}: {}",
                String::from_utf8_lossy(&body)
            );
            let answer = json(&body);
            for (name, link) in links {
                let target = link["operationId"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{url}: link {name} names no operationId"));
                for (param, expression) in link["parameters"].as_object().unwrap() {
                    let pointer = expression
                        .as_str()
                        .and_then(|e| e.strip_prefix("$response.body#"))
                        .unwrap_or_else(|| {
                            panic!("{url}: link {name}: {expression} is no $response.body#/…")
                        });
                    if let Some(v) = answer.pointer(pointer).and_then(Value::as_str) {
                        known
                            .entry((target.to_owned(), param.clone()))
                            .or_default()
                            .insert(v.to_owned());
                    }
                }
            }
        }
        if known.values().map(BTreeSet::len).sum::<usize>() == before {
            break;
        }
    }
    known
        .into_iter()
        .map(|(k, vs)| (k, vs.into_iter().collect()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    /// Queries generated from the OpenAPI document's GET operations and their parameters (plus a
    /// stray unknown parameter now and then) never get a 5xx, and a 4xx is a problem. Every
    /// operation with path parameters is also asked for what the fixture holds, as the document's
    /// examples and links tell (ids, authors, codes): that is a 200.
    #[test]
    fn generated_queries_never_get_a_5xx(seed in any::<u64>(), picks in proptest::collection::vec((any::<bool>(), any::<u8>()), 16)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let api = fixture();
        rt.block_on(async {
            let doc = openapi(api).await;
            let known = known_values(api, &doc).await;
            let mut runner = proptest::test_runner::TestRunner::new_with_rng(
                ProptestConfig::default(),
                proptest::test_runner::TestRng::from_seed(
                    proptest::test_runner::RngAlgorithm::ChaCha,
                    &{ let mut s = [0u8; 32]; s[..8].copy_from_slice(&seed.to_le_bytes()); s },
                ),
            );
            for (path, item) in doc["paths"].as_object().unwrap() {
                let Some(op) = item.get("get") else { continue };
                let params = op["parameters"].as_array().cloned().unwrap_or_default();
                // What the fixture holds, as the examples and links tell.
                let op_id = op["operationId"].as_str().unwrap_or_default();
                let mut url = path.clone();
                for (i, p) in params.iter().filter(|p| p["in"] == "path").enumerate() {
                    let name = p["name"].as_str().unwrap_or_default();
                    let values = known.get(&(op_id.to_owned(), name.to_owned())).filter(|vs| !vs.is_empty())
                        .unwrap_or_else(|| panic!("{path}: no example or link of the document gives a {name} the fixture holds"));
                    let (upper, pick) = picks[i % picks.len()];
                    let v = &values[usize::from(pick) % values.len()];
                    // Ids, keys and codes are read in either case, as their patterns say.
                    let v = if upper { v.to_uppercase() } else { v.clone() };
                    url = url.replace(&format!("{{{name}}}"), &enc(&v));
                }
                if url != *path {
                    let (status, _, body) = call(api, get(&url)).await;
                    assert_eq!(status, StatusCode::OK, "{url} (from the document's examples and links): {}", String::from_utf8_lossy(&body));
                }
                // Generated values.
                let mut url = path.clone();
                let mut query: Vec<(String, String)> = Vec::new();
                for (i, p) in params.iter().enumerate() {
                    let (use_it, _) = picks[i % picks.len()];
                    let name = p["name"].as_str().unwrap_or_default();
                    let v = value_for(&doc, &p["schema"]).new_tree(&mut runner).unwrap().current();
                    if p["in"] == "path" {
                        let v = if use_it { v } else { "ab".repeat(32) };
                        url = url.replace(&format!("{{{name}}}"), &enc(&v));
                    } else if use_it {
                        query.push((name.to_owned(), v));
                    }
                }
                if picks[0].1 % 7 == 0 {
                    query.push(("unknown_param".into(), "1".into()));
                }
                let qs: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&query).finish();
                let full = if qs.is_empty() { url.clone() } else { format!("{url}?{qs}") };
                let (status, ctype, body) = call(api, get(&full)).await;
                assert!(status.as_u16() < 500, "{full}: {status} {}", String::from_utf8_lossy(&body));
                if status.is_client_error() {
                    assert_eq!(ctype, "application/problem+json", "{full}");
                }
            }
        });
    }
}

/// One node for the generated queries, shared by every case: an institution, a practice, an event
/// and, newest, a joint programme led by KG, so that the first record of a query (newest first)
/// is a programme and the first entry of the directory an institution, as the document's links
/// from them to `/api/v1/programmes/{id}` and `/api/v1/institutions/{id}/references` expect.
fn fixture() -> &'static Api {
    static API: std::sync::OnceLock<Api> = std::sync::OnceLock::new();
    API.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let a = api(Some("KZ"));
        rt.block_on(async {
            publish(&a, json!({"kind": "institution", "type": "ministry", "name": {"en": "Ministry of Labour"},
                "topics": ["pay"], "languages": ["kk", "ru"]})).await;
            publish(&a, json!({"kind": "practice", "title": {"ru": "Государственная служба"}, "summary": {"ru": "x"}, "topics": ["pay"]})).await;
            publish(&a, json!({"kind": "event", "event_type": "webinar", "title": {"en": "Webinar"},
                "start": "2027-01-10T10:00", "time_zone": "Asia/Almaty", "status": "scheduled", "topics": ["training"]})).await;
            let programme = json!({"kind": "programme", "title": {"en": "Curriculum network"},
                "description": {"en": "Academies share one curriculum."},
                "participants": [{"member": "KG", "roles": ["lead"]}, {"member": "KZ", "roles": ["implementing"]}],
                "status": "implementation", "planned_start": "2027-03-01", "planned_end": "2027-08-31",
                "countries": ["KG"], "topics": ["training"]});
            // A millisecond after now: later than the event, whose time was now or earlier.
            publish_first_as(&a, "KG", &programme, crate::now_ms() + 1).await;
            wait_for(&a, "/api/v1/records", |v| v["total"] == 4 && v["records"][0]["kind"] == "programme").await;
        });
        a
    })
}

fn profile_draft(as_of: &str, merit: Option<(f64, u32)>, status: &str) -> Value {
    let mut indicators = vec![json!({"code": "hub:user-satisfaction",
        "not_available": {"en": "No survey was run.", "ru": "Опрос не проводился."}})];
    if let Some((value, year)) = merit {
        indicators.push(
            json!({"code": "hub:merit-recruitment-share", "value": value, "year": year,
            "unit": "percent", "source": {"name": {"en": "Agency report"}}}),
        );
    }
    json!({"kind": "reform_profile", "title": {"en": format!("Profile {as_of}"), "ru": "Профиль"},
           "as_of": as_of, "reform_areas": ["public-service-hrm"],
           "reforms": [{"title": {"en": "Merit recruitment"}, "status": status}],
           "indicators": indicators})
}

/// Publishes a reform profile of Kyrgyzstan, signed elsewhere with KG's sample key.
async fn publish_kg_profile(api: &Api, draft: &Value) -> String {
    publish_first_as(api, "KG", draft, crate::now_ms()).await
}

/// Publishes `draft` as `member`'s first record, signed elsewhere with its sample key at
/// `created_at` (Unix ms), through `POST /api/v1/records/raw`; returns its id.
async fn publish_first_as(api: &Api, member: &str, draft: &Value, created_at: i64) -> String {
    let key = crate::test_support::sample_key(member);
    let charter = api.shared.charter();
    let body =
        hubnet_protocol::Draft::parse(&draft.to_string(), hubnet_protocol::DraftFormat::Json)
            .unwrap()
            .to_body(member, &charter.rules())
            .unwrap();
    let signed = hubnet_protocol::record::sign(
        &key,
        charter.network_id(),
        hubnet_protocol::Position::FIRST,
        created_at,
        &body,
    );
    let (status, _, answer) = call(
        api,
        post("/api/v1/records/raw", Some(TOKEN), signed.encode()),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&answer)
    );
    signed.id().to_hex()
}

/// Each country's profiles are read on their own: a member with more profiles than a request
/// reads no longer hides the other countries' (found reading the code: one query, newest first,
/// took the limit from all countries together, so a stolen key publishing profiles emptied every
/// other column of a comparison).
#[tokio::test]
async fn one_country_with_many_profiles_does_not_hide_the_others() {
    let api = api(Some("KZ"));
    let kg = publish_kg_profile(&api, &profile_draft("2026-06-30", None, "planned")).await;
    for as_of in ["2024-06-30", "2025-06-30", "2026-06-30"] {
        publish(&api, profile_draft(as_of, None, "adopted")).await;
    }
    wait_for(&api, "/api/v1/records?kind=reform_profile", |v| {
        v["total"] == 4
    })
    .await;
    let countries = ["KZ".to_owned(), "KG".to_owned()];
    let shared = api.shared.clone();
    let got = tokio::task::spawn_blocking(move || {
        super::compare::profiles_up_to(&shared, &countries, 2).expect("profiles")
    })
    .await
    .unwrap();
    let ids: Vec<String> = got.iter().map(|c| c.id().to_hex()).collect();
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(ids.contains(&kg), "{ids:?}");
}

/// A country page lists the latest [`super::compare::COUNTRY_PROFILES`] profiles by `as_of`
/// and says how many there are: an answer with every profile of a member that published
/// thousands (a stolen key at the charter's rate) would be tens of megabytes (found reading the
/// code). What changed is still between the two latest.
#[tokio::test]
async fn a_country_page_lists_its_latest_profiles_and_counts_them_all() {
    let api = api(Some("KZ"));
    let n = super::compare::COUNTRY_PROFILES + 2;
    let day = |i: usize| {
        (chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + chrono::Days::new(i as u64 * 7))
            .format("%Y-%m-%d")
            .to_string()
    };
    // Published newest `as_of` first, so that the order of publication is not the order shown.
    let mut ids = Vec::new();
    for i in (0..n).rev() {
        ids.push((
            i,
            publish(&api, profile_draft(&day(i), None, "adopted")).await,
        ));
    }
    wait_for(&api, "/api/v1/records?kind=reform_profile", |v| {
        v["total"] == n
    })
    .await;
    let page = json(&call(&api, get("/api/v1/countries/KZ")).await.2);
    assert_eq!(page["profiles_total"], n);
    let shown = page["profiles"].as_array().unwrap();
    assert_eq!(shown.len(), super::compare::COUNTRY_PROFILES);
    let id_of = |i: usize| ids.iter().find(|(j, _)| *j == i).unwrap().1.as_str();
    assert_eq!(shown[0]["id"], id_of(2));
    assert_eq!(shown[shown.len() - 1]["id"], id_of(n - 1));
    assert_eq!(page["latest"]["id"], id_of(n - 1));
    assert_eq!(page["previous"]["id"], id_of(n - 2));
}

#[tokio::test]
async fn profiles_are_compared_across_countries_and_over_time() {
    let api = api(Some("KZ"));
    let first = publish(
        &api,
        profile_draft("2025-06-30", Some((60.0, 2024)), "adopted"),
    )
    .await;
    let mut second = profile_draft("2026-06-30", Some((71.5, 2025)), "in-implementation");
    second["previous"] = json!(first);
    let second = publish(&api, second).await;
    let kg = publish_kg_profile(&api, &profile_draft("2026-06-30", None, "planned")).await;
    wait_for(&api, "/api/v1/records?kind=reform_profile", |v| {
        v["total"] == 3
    })
    .await;

    // The matrix: KZ's latest profile, KG's missing value with its reason, each cell's record.
    let (status, _, body) = call(&api, get("/api/v1/compare?country=KZ&country=KG")).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let c = json(&body);
    assert_eq!(c["countries"][0]["profile"]["id"], second.as_str());
    assert_eq!(c["countries"][1]["name"]["en"], "Kyrgyzstan");
    let merit = &c["indicators"][0];
    assert_eq!(merit["code"], "hub:merit-recruitment-share");
    assert_eq!(
        merit["cells"][0],
        json!({"status": "value", "value": 71.5, "year": 2025, "unit": "percent",
               "source": {"name": {"en": "Agency report"}, "url": null, "license": null},
               "baseline": null, "target": null, "record": second})
    );
    assert_eq!(
        merit["cells"][1],
        json!({"status": "not_reported", "record": kg})
    );
    assert_eq!(c["indicators"][1]["cells"][1]["status"], "not_available");
    assert_eq!(
        c["indicators"][1]["cells"][1]["reason"]["en"],
        "No survey was run."
    );
    let records = c["records"].as_array().unwrap();
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|r| r["signed"]["signature"].is_string()));

    // The same matrix as CSV; an earlier date; bad requests are problems.
    let (status, ctype, body) = call(
        &api,
        get("/api/v1/compare?country=KZ&country=KG&format=csv"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ctype, "text/csv; charset=utf-8");
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.lines()
            .nth(1)
            .unwrap()
            .contains(",n/a,n/a,not_reported,"),
        "{text}"
    );
    let c = json(
        &call(
            &api,
            get("/api/v1/compare?country=KZ&country=KG&as_of=2025-12-31"),
        )
        .await
        .2,
    );
    assert_eq!(c["countries"][0]["profile"]["id"], first.as_str());
    assert_eq!(c["countries"][1]["profile"], Value::Null);
    for (query, detail) in [
        (
            "country=KZ",
            "give 2 to 4 different `country` values, not 1",
        ),
        (
            "country=KZ&country=KG&country=UZ&country=AZ&country=AM",
            "not 5",
        ),
        ("country=KZ&country=XX", "\"XX\" is not a member state"),
        ("country=KZ&country=KG&as_of=yesterday", "is not a date"),
        (
            "country=KZ&country=KG&indicator=hub:nope",
            "not an indicator of the charter's catalogue",
        ),
    ] {
        let (status, ctype, body) = call(&api, get(&format!("/api/v1/compare?{query}"))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(ctype, "application/problem+json", "{query}");
        let d = json(&body)["detail"].as_str().unwrap().to_owned();
        assert!(d.contains(detail), "{query}: {d}");
    }

    // The country page: profiles over time, what changed, with both values and years.
    let (status, _, body) = call(&api, get("/api/v1/countries/kz")).await;
    assert_eq!(status, StatusCode::OK);
    let page = json(&body);
    assert_eq!(page["country"], "KZ");
    assert_eq!(page["profiles"].as_array().unwrap().len(), 2);
    assert_eq!(page["profiles_total"], 2);
    assert_eq!(page["profiles"][0]["id"], first.as_str());
    assert_eq!(page["previous"]["id"], first.as_str());
    assert_eq!(
        page["changes"]["reforms"],
        json!([{"title": {"en": "Merit recruitment"}, "from": "adopted", "to": "in-implementation"}])
    );
    assert_eq!(
        page["changes"]["indicators"],
        json!([{"code": "hub:merit-recruitment-share",
                "from": {"value": 60.0, "year": 2024}, "to": {"value": 71.5, "year": 2025}}])
    );
    for missing in ["FR", "HUB"] {
        let (status, ctype, _) = call(&api, get(&format!("/api/v1/countries/{missing}"))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
        assert_eq!(ctype, "application/problem+json");
    }

    // A previous profile of another country, or a record that is not a profile, is refused.
    let practice = publish(
        &api,
        json!({"kind": "practice", "title": {"en": "A practice"},
        "summary": {"en": "s"}, "topics": ["pay"]}),
    )
    .await;
    for (previous, detail) in [
        (
            kg.clone(),
            format!("previous {kg} is a profile of KG, not of KZ"),
        ),
        (
            practice.clone(),
            format!("previous {practice} is a practice, not a reform profile"),
        ),
    ] {
        let mut draft = profile_draft("2026-12-31", None, "planned");
        draft["previous"] = json!(previous);
        let (status, _, body) = call(
            &api,
            post("/api/v1/records", Some(TOKEN), draft.to_string()),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);
        let d = json(&body)["detail"].as_str().unwrap().to_owned();
        assert!(d.contains(&detail), "{d}");
    }
    // The kind filter and the area facet cover profiles.
    let v = wait_for(
        &api,
        "/api/v1/records?kind=reform_profile&area=public-service-hrm",
        |v| v["total"] == 3,
    )
    .await;
    assert_eq!(v["facets"]["area"]["public-service-hrm"], 3);
    assert_eq!(v["facets"]["kind"]["reform_profile"], 3);
}

/// An answer made from the records' JSON kept ([`super::answers::RecordCache`]) is the answer the
/// node made before it kept any, byte for byte: whole records built as `serde_json` values and
/// the answer serialised in one piece; cold, warm, and with a cursor to the next page.
#[tokio::test]
async fn an_answer_from_the_records_kept_is_the_answer_made_afresh_byte_for_byte() {
    let api = api(Some("KZ"));
    let original = publish(
        &api,
        json!({"kind": "practice", "topics": ["training"], "title": {"en": "Quokka mentoring"},
               "summary": {"en": "s", "ru": "Наставничество"}}),
    )
    .await;
    for title in ["Quokka: оплата труда", "Quokka: аттестация"] {
        publish(
            &api,
            json!({"kind": "practice", "topics": ["pay"], "title": {"ru": title},
                   "summary": {"ru": "Оплата"}}),
        )
        .await;
    }
    publish(
        &api,
        json!({"kind": "amendment", "target": original,
               "record": {"kind": "practice", "topics": ["training"],
                          "title": {"en": "Quokka mentoring, amended"}, "summary": {"en": "s"}}}),
    )
    .await;
    wait_for(&api, "/api/v1/records?q=quokka", |v| {
        v["total"] == 3
            && v["records"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r["amendment"].is_object()))
    })
    .await;
    let kept = super::answers::RecordCache::new(1 << 20);
    // The whole result (no cursor), then a page of two (a cursor to the next).
    for raw in ["q=quokka", "q=quokka&limit=2"] {
        let (q, _) = super::query::parse_query(&api.shared, Some(raw), &["fields"]).unwrap();
        // As the answer was made before: `Current::json` values, one `json!` serialised whole.
        let (records, page) = super::query::run_query(&api.shared, &q).unwrap();
        assert_eq!(page.next_cursor.is_some(), raw.contains("limit"), "{raw}");
        let records: Vec<Value> = records.iter().map(crate::current::Current::json).collect();
        let before = serde_json::to_vec(&json!({
            "records": records,
            "next_cursor": page.next_cursor,
            "total": page.total,
            "facets": page.facets,
        }))
        .unwrap();
        for round in ["cold", "warm"] {
            let json = super::query::hits_json(&api.shared, &page.hits, &kept).unwrap();
            let now = super::query::answer_json(&json, &page).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&now),
                String::from_utf8_lossy(&before),
                "{raw}, {round}"
            );
        }
        let (_, _, body) = call(&api, get(&format!("/api/v1/records?{raw}"))).await;
        assert_eq!(body, before, "{raw}: through the API");
    }
}

/// The JSON kept of a record is never served after the record was erased, even to a search whose
/// index still names it (the index follows the store a moment later): the erased marks are part
/// of what it is kept under.
#[tokio::test]
async fn a_record_erased_since_its_json_was_kept_is_shown_erased() {
    let api = api(Some("KZ"));
    let name = "Dr Quokka Erasable (fictional)";
    let expert = publish(
        &api,
        json!({"kind": "expert", "name": {"en": name}, "topics": ["training"],
               "languages": ["ru"], "formats": ["speaker"], "contact_email": "experts@kz.example.org",
               "sample": true,
               "consent": {"date": "2026-01-15", "scope": "hub_network_all_members",
                           "document_sha256": "44".repeat(32)}}),
    )
    .await;
    let hit = crate::search::DocState {
        id: expert.parse().unwrap(),
        amendment: None,
        retraction: None,
    };
    let kept = super::answers::RecordCache::new(1 << 20);
    let shown = |json: &[axum::body::Bytes]| -> Value { serde_json::from_slice(&json[0]).unwrap() };
    let first = super::query::hits_json(&api.shared, &[hit], &kept).unwrap();
    assert_eq!(shown(&first)["body"]["name"]["en"], name);
    assert_eq!(
        super::query::hits_json(&api.shared, &[hit], &kept).unwrap(),
        first,
        "kept"
    );
    publish(
        &api,
        json!({"kind": "erasure", "target": expert, "ground": "erasure_request"}),
    )
    .await;
    let after = super::query::hits_json(&api.shared, &[hit], &kept).unwrap();
    let v = shown(&after);
    assert_eq!(v["erased"], true, "{v}");
    assert!(
        !String::from_utf8_lossy(&after[0]).contains(name),
        "the erased name is still served: {v}"
    );
}
