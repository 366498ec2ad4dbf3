//! The API in-process: the router with a real store and ingest worker, requests through `oneshot`,
//! no socket.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tokio::sync::mpsc;
use tower::ServiceExt;

use super::{AppState, router};
use crate::shared::Shared;
use crate::store::Store;
use crate::test_support::sample_key;
use crate::worker;

pub(super) const TOKEN: &str = "test-admin-token-0123";

pub(super) struct Api {
    pub(super) app: axum::Router,
    pub(super) shared: Arc<Shared>,
    _events: mpsc::Receiver<worker::Event>,
    _indexer: crate::search::indexer::IndexerHandle,
    _dir: tempfile::TempDir,
}

pub(super) fn api(member: Option<&str>) -> Api {
    api_with(member, |_| {})
}

/// [`api`] over a store that `prepare` fills first.
pub(super) fn api_with(member: Option<&str>, prepare: impl FnOnce(&mut Store)) -> Api {
    let dir = tempfile::tempdir().expect("tempdir");
    let (shared, indexer) = crate::test_support::sample_shared(dir.path(), member, prepare);
    let key = member.map(sample_key);
    let (jobs, job_rx) = mpsc::channel(16);
    let (event_tx, events) = mpsc::channel(1024);
    let s = shared.clone();
    std::thread::spawn(move || worker::run(s, key, job_rx, event_tx));
    Api {
        app: app(&shared, jobs),
        shared,
        _events: events,
        _indexer: indexer,
        _dir: dir,
    }
}

/// The API's router over `shared`, handing jobs to `jobs`.
fn app(shared: &Arc<Shared>, jobs: mpsc::Sender<worker::Job>) -> axum::Router {
    router(AppState {
        answers: crate::api::answers::AnswerCache::new(64 << 20),
        records: crate::api::answers::RecordCache::new(64 << 20),
        shared: shared.clone(),
        jobs,
        admin_token: Arc::from(TOKEN),
        guard: crate::api::guard::Guard::generous(),
    })
}

/// Publishes `draft` through `POST /api/v1/records` and returns its id.
pub(super) async fn publish(api: &Api, draft: Value) -> String {
    let (status, _, body) =
        call(api, post("/api/v1/records", Some(TOKEN), draft.to_string())).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    json(&body)["id"].as_str().expect("an id").to_owned()
}

pub(super) async fn call(api: &Api, req: Request<Body>) -> (StatusCode, String, Vec<u8>) {
    let (status, headers, body) = exchange(api, req).await;
    let ctype = header_of(&headers, header::CONTENT_TYPE).unwrap_or_default();
    (status, ctype, body)
}

/// The whole answer to `req`: status, headers, body.
pub(super) async fn exchange(
    api: &Api,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let response = api.app.clone().oneshot(req).await.expect("infallible");
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    (status, headers, body)
}

/// A header's value as text.
pub(super) fn header_of(
    headers: &axum::http::HeaderMap,
    name: header::HeaderName,
) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

pub(super) fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).expect("request")
}

pub(super) fn post(path: &str, token: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut r = Request::post(path);
    if let Some(t) = token {
        r = r.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    r.body(body.into()).expect("request")
}

pub(super) fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).expect("json")
}

const DRAFT: &str = r#"{"kind": "practice", "title": {"kk": "Тәлімгерлік", "en": "Mentoring"},
    "summary": {"en": "New civil servants get a mentor."}, "topics": ["training"]}"#;

#[tokio::test]
async fn publish_then_read_back_as_json_and_raw() {
    let api = api(Some("KZ"));
    let (status, _, body) = call(&api, post("/api/v1/records", Some(TOKEN), DRAFT)).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let created = json(&body);
    let id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(created["member"], "KZ");
    assert_eq!(created["seq"], 1);

    let (status, _, body) = call(&api, get(&format!("/api/v1/records/{id}"))).await;
    assert_eq!(status, StatusCode::OK);
    let record = json(&body);
    assert_eq!(record["body"]["title"]["kk"], "Тәлімгерлік");
    for part in ["header", "body", "signature"] {
        assert!(record["signed"][part].is_string(), "signed.{part} missing");
    }

    let (status, ctype, raw) = call(&api, get(&format!("/api/v1/records/{id}/raw"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ctype, super::PROTOBUF);
    let signed = hubnet_protocol::SignedRecord::decode(&raw).expect("decodes");
    assert_eq!(signed.id().to_hex(), id);

    let (status, _, body) = call(&api, get("/api/v1/status")).await;
    assert_eq!(status, StatusCode::OK);
    let s = json(&body);
    assert_eq!(s["record_count"], 1);
    assert_eq!(s["member"], "KZ");
    assert_eq!(s["heads"][0]["member"], "KZ");
    assert_eq!(s["heads"][0]["seq"], 1);
    assert_eq!(s["heads"][0]["id"], id.as_str());
    assert_eq!(s["heads_digest"].as_str().map(str::len), Some(64));
    assert!(s["peers"].is_array());

    // The same signed bytes posted again are acknowledged with the same id, not stored twice.
    let (status, _, body) = call(&api, post("/api/v1/records/raw", Some(TOKEN), raw)).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(json(&body)["id"], id.as_str());
    let (_, _, body) = call(&api, get("/api/v1/status")).await;
    assert_eq!(json(&body)["record_count"], 1);

    let (status, _, body) = call(&api, get("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("hubnet_records_stored_total 1"), "{text}");
}

/// Each bad request gets its status and a problem+json body, and changes nothing.
#[tokio::test]
async fn bad_requests_are_problems_and_change_nothing() {
    let api = api(Some("KZ"));
    let cases: Vec<(Request<Body>, StatusCode, &str)> = vec![
        (
            post("/api/v1/records", None, DRAFT),
            StatusCode::UNAUTHORIZED,
            "Bearer",
        ),
        (
            post("/api/v1/records", Some("wrong-token-0123456"), DRAFT),
            StatusCode::UNAUTHORIZED,
            "Bearer",
        ),
        (
            post("/api/v1/records", Some(TOKEN), "{not json"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "draft",
        ),
        (
            post(
                "/api/v1/records",
                Some(TOKEN),
                r#"{"kind": "practice", "title": {"en": "x"}, "summary": {"en": "y"}, "topics": ["astrology"]}"#,
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "astrology",
        ),
        (
            post("/api/v1/records/raw", Some(TOKEN), vec![0xff, 0x01, 0x02]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "malformed",
        ),
        (
            post("/api/v1/records/raw", Some(TOKEN), vec![0u8; 4 << 20]),
            StatusCode::PAYLOAD_TOO_LARGE,
            "larger",
        ),
        (
            get("/api/v1/records/xyz"),
            StatusCode::BAD_REQUEST,
            "not a record id",
        ),
        (
            get(&format!("/api/v1/records/{}", "ab".repeat(32))),
            StatusCode::NOT_FOUND,
            "no record",
        ),
        (
            get("/api/v1/nothing"),
            StatusCode::NOT_FOUND,
            "no such endpoint",
        ),
    ];
    for (req, want, detail) in cases {
        let what = format!("{} {}", req.method(), req.uri());
        let (status, ctype, body) = call(&api, req).await;
        assert_eq!(status, want, "{what}: {}", String::from_utf8_lossy(&body));
        assert_eq!(ctype, "application/problem+json", "{what}");
        let p = json(&body);
        assert_eq!(p["status"], want.as_u16(), "{what}");
        assert!(
            p["detail"].as_str().is_some_and(|d| d.contains(detail)),
            "{what}: detail {:?} lacks {detail:?}",
            p["detail"]
        );
    }
    let (_, _, body) = call(&api, get("/api/v1/status")).await;
    assert_eq!(json(&body)["record_count"], 0);
}

#[tokio::test]
async fn a_mirror_refuses_to_publish() {
    let api = api(None);
    let (status, _, body) = call(&api, post("/api/v1/records", Some(TOKEN), DRAFT)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        json(&body)["detail"]
            .as_str()
            .is_some_and(|d| d.contains("mirror"))
    );
}

/// A member at the charter's rate limit gets 429 with `Retry-After`, and nothing is signed.
#[tokio::test]
async fn publishing_past_the_rate_limit_is_429_with_retry_after() {
    let per_hour = hubnet_protocol::Limits::DEFAULT.max_records_per_hour as usize;
    let api = api_with(Some("KZ"), |store| {
        crate::synth::fill(store, &[sample_key("KZ")], per_hour, crate::now_ms()).expect("fills");
    });
    let response = api
        .app
        .clone()
        .oneshot(post("/api/v1/records", Some(TOKEN), DRAFT))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    // The first of the hour's records is about an hour old: the window frees within seconds.
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let problem = json(&body);
    assert_eq!(problem["status"], 429);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("at most 1000 records within any hour")),
        "{problem}"
    );
    let (_, _, body) = call(&api, get("/api/v1/status")).await;
    assert_eq!(json(&body)["record_count"], per_hour);
}

/// A record pushed past its key's rate limit is refused before its signature is checked: with a
/// broken signature too it is 429 (the rate), not 422 (the signature), and nothing is stored.
/// Records that are not the next of their log go to the worker, which verifies them first: one
/// ahead of a gap (the one before it may be waiting in the worker's queue) and one at a seq the
/// log holds (only a valid signature makes it fork evidence).
#[tokio::test]
async fn a_pushed_record_over_the_rate_limit_is_refused_before_verification() {
    let per_hour = hubnet_protocol::Limits::DEFAULT.max_records_per_hour as usize;
    let api = api_with(None, |store| {
        crate::synth::fill(store, &[sample_key("KZ")], per_hour, crate::now_ms()).expect("fills");
    });
    let key = sample_key("KZ");
    let charter = api.shared.charter();
    let head = api
        .shared
        .read_store()
        .head(&key.public_key())
        .expect("head")
        .expect("KZ's log");
    let content = hubnet_protocol::Draft::parse(DRAFT, hubnet_protocol::DraftFormat::Json)
        .and_then(|d| d.to_body("KZ", &charter.rules()))
        .expect("body");
    let now = crate::now_ms().max(head.created_at);
    // Signed at `seq` after the head, with a broken signature if `broken`; pushed; the status
    // and the problem's detail.
    let push = async |seq: u64, broken: bool| {
        let position = hubnet_protocol::record::Position {
            seq,
            prev: Some(head.id),
            prev_created_at: head.created_at,
        };
        let mut signed =
            hubnet_protocol::record::sign(&key, charter.network_id(), position, now, &content);
        if broken {
            signed.signature[0] ^= 1;
        }
        let (status, _, body) = call(
            &api,
            post("/api/v1/records/raw", Some(TOKEN), signed.encode()),
        )
        .await;
        (
            status,
            json(&body)["detail"].as_str().unwrap_or("").to_owned(),
        )
    };
    let (status, _) = push(head.seq + 1, false).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let (status, detail) = push(head.seq + 1, true).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{detail}");
    // Ahead of a gap, or at the head's seq: the worker's verdict, on the signature.
    for seq in [head.seq + 2, head.seq] {
        let (status, detail) = push(seq, true).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "seq {seq}: {detail}"
        );
        assert!(detail.contains("signature"), "seq {seq}: {detail}");
    }
    let (_, _, body) = call(&api, get("/api/v1/status")).await;
    assert_eq!(json(&body)["record_count"], per_hour);
}

/// Answers are compressed as the client's `Accept-Encoding` asks, with each codec it names, and
/// decode to the same JSON; without the header they are not.
#[tokio::test]
async fn answers_are_compressed_as_the_client_asks() {
    use std::io::Read;
    let api = api(Some("KZ"));
    for i in 0..3 {
        let draft: Value = serde_json::from_str(DRAFT).expect("draft");
        let mut draft = draft;
        draft["title"]["en"] = Value::String(format!("Mentoring {i}"));
        publish(&api, draft).await;
    }
    super::query_tests::wait_for(&api, "/api/v1/records", |v| v["total"] == 3).await;
    let fetch = |encoding: Option<&'static str>| {
        let mut r = Request::get("/api/v1/records?limit=3");
        if let Some(e) = encoding {
            r = r.header(header::ACCEPT_ENCODING, e);
        }
        let api = &api;
        async move {
            let (status, headers, body) =
                exchange(api, r.body(Body::empty()).expect("request")).await;
            assert_eq!(status, StatusCode::OK);
            let coding = header_of(&headers, header::CONTENT_ENCODING);
            let vary = header_of(&headers, header::VARY).unwrap_or_default();
            (coding, vary, body)
        }
    };
    // Streamed answers (bundles, exports) are sent as written, whatever the client accepts.
    for path in ["/api/v1/bundle?records=false", "/api/v1/export?format=json"] {
        let req = Request::get(path)
            .header(header::ACCEPT_ENCODING, "gzip, br, zstd")
            .body(Body::empty())
            .expect("request");
        let (status, headers, _) = exchange(&api, req).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(
            header_of(&headers, header::CONTENT_ENCODING),
            None,
            "{path}"
        );
    }
    let (coding, _, plain) = fetch(None).await;
    assert_eq!(coding, None, "no Accept-Encoding, no compression");
    let plain = json(&plain);
    assert_eq!(plain["records"].as_array().map(Vec::len), Some(3));
    for (asked, want) in [
        ("gzip", "gzip"),
        ("br", "br"),
        ("zstd", "zstd"),
        ("identity", ""),
    ] {
        let (coding, vary, body) = fetch(Some(asked)).await;
        assert_eq!(coding.as_deref().unwrap_or(""), want, "{asked}");
        assert!(
            vary.to_ascii_lowercase().contains("accept-encoding"),
            "{asked}: Vary {vary:?}"
        );
        let mut decoded = Vec::new();
        match want {
            "gzip" => {
                flate2::read::GzDecoder::new(body.as_slice())
                    .read_to_end(&mut decoded)
                    .expect("gzip");
            }
            "br" => {
                brotli::Decompressor::new(body.as_slice(), 4096)
                    .read_to_end(&mut decoded)
                    .expect("brotli");
            }
            "zstd" => decoded = zstd::decode_all(body.as_slice()).expect("zstd"),
            _ => decoded = body.clone(),
        }
        assert!(
            decoded.len() > body.len() || want.is_empty(),
            "{asked}: compressed {} bytes from {}",
            body.len(),
            decoded.len()
        );
        assert_eq!(json(&decoded), plain, "{asked}: the same answer");
    }
}

/// Answers about records carry an `ETag`; a conditional request naming it gets `304` and no
/// body, until the answer changes. A record's signed bytes may be cached for an hour.
#[tokio::test]
async fn answers_about_records_are_tagged_and_revalidated() {
    let api = api(Some("KZ"));
    let id = publish(&api, serde_json::from_str(DRAFT).expect("draft")).await;
    let fetch = |path: String, tag: Option<String>| {
        let mut r = Request::get(path.as_str());
        if let Some(t) = tag {
            r = r.header(header::IF_NONE_MATCH, t);
        }
        let api = &api;
        async move {
            let (status, headers, body) =
                exchange(api, r.body(Body::empty()).expect("request")).await;
            let etag = header_of(&headers, header::ETAG);
            (
                status,
                etag,
                header_of(&headers, header::CACHE_CONTROL),
                body,
            )
        }
    };
    let record = format!("/api/v1/records/{id}");
    let (status, etag, cache, body) = fetch(record.clone(), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body.is_empty());
    let etag = etag.expect("an ETag");
    assert!(etag.starts_with("W/\""), "{etag}");
    assert_eq!(cache.as_deref(), Some("no-cache"));
    let (status, again, _, body) = fetch(record.clone(), Some(etag.clone())).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty(), "a 304 has no body");
    assert_eq!(again.as_deref(), Some(etag.as_str()));
    // Another tag, or none: the whole answer.
    let (status, _, _, _) = fetch(record.clone(), Some("W/\"other\"".into())).await;
    assert_eq!(status, StatusCode::OK);
    // The signed bytes: cached for an hour without asking.
    let (status, raw_tag, cache, _) = fetch(format!("{record}/raw"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cache.as_deref(), Some(super::conditional::RAW_CACHE));
    let (status, _, _, _) = fetch(format!("{record}/raw"), raw_tag).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    // An amendment changes the record's answer (its list of amendments): the old tag no longer
    // matches.
    let amendment = serde_json::json!({"kind": "amendment", "target": id,
        "record": {"kind": "practice", "topics": ["training"],
                   "title": {"en": "Mentoring, amended"}, "summary": {"en": "s"}}});
    publish(&api, amendment).await;
    let (status, newer, _, _) = fetch(record.clone(), Some(etag.clone())).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(newer.as_deref(), Some(etag.as_str()));
    // Errors are not tagged.
    let (status, tag, _, _) = fetch(format!("/api/v1/records/{}", "ab".repeat(32)), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(tag, None);
}

/// A repeated query is answered from the answers kept ([`super::answers`]) only while the store
/// and the index are as they were: a record published, amended or retracted since shows at once
/// in the same query's answer.
#[tokio::test]
async fn repeated_queries_follow_every_change() {
    let api = api(Some("KZ"));
    let path = "/api/v1/records?q=Zanzibarian";
    let total = |v: &serde_json::Value| v["total"].as_u64();
    let first = super::query_tests::wait_for(&api, path, |v| total(v) == Some(0)).await;
    let id = publish(
        &api,
        serde_json::json!({"kind": "practice", "topics": ["training"],
            "title": {"en": "Zanzibarian mentoring"}, "summary": {"en": "s"}}),
    )
    .await;
    let found = super::query_tests::wait_for(&api, path, |v| total(v) == Some(1)).await;
    assert_ne!(first, found);
    // Asked again with nothing changed: the same answer, byte for byte.
    let (_, _, a) = call(&api, get(path)).await;
    let (_, _, b) = call(&api, get(path)).await;
    assert_eq!(a, b);
    // Any write to the store moves the stamp an answer is kept under; so does a new charter.
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 3).expect("a date");
    let before = super::answers::Stamp::now(&api.shared, day);
    drop(api.shared.lock_store());
    let after = super::answers::Stamp::now(&api.shared, day);
    assert_ne!(before, after);
    api.shared.set_charter((*api.shared.charter()).clone());
    assert_ne!(after, super::answers::Stamp::now(&api.shared, day));
    // Amended: the same query shows the new title; retracted: it is gone.
    publish(
        &api,
        serde_json::json!({"kind": "amendment", "target": id,
            "record": {"kind": "practice", "topics": ["training"],
                       "title": {"en": "Zanzibarian mentoring, amended"}, "summary": {"en": "s"}}}),
    )
    .await;
    super::query_tests::wait_for(&api, path, |v| {
        v["records"][0]["current"]["title"]["en"] == "Zanzibarian mentoring, amended"
    })
    .await;
    publish(
        &api,
        serde_json::json!({"kind": "retraction", "target": id, "reason": {"en": "Withdrawn."}}),
    )
    .await;
    super::query_tests::wait_for(&api, path, |v| total(v) == Some(0)).await;
}

/// A publish is handed to the worker while the store is locked for writing (a group commit's
/// `fdatasync`): before, every draft read the store first, so the async threads all waited on
/// the writer and the next publishes could not even be read, which kept groups small.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_reaches_the_worker_while_the_store_is_locked_for_writing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (shared, _indexer) = crate::test_support::sample_shared(dir.path(), Some("KZ"), |_| {});
    // No worker: the test takes the jobs itself.
    let (jobs, mut job_rx) = mpsc::channel(16);
    let app = app(&shared, jobs);
    // A writer holds the store (as the store stage does through a group commit) until told.
    let (locked, release) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
    let writer = {
        let shared = shared.clone();
        let (locked, release) = (locked.0, release.1);
        std::thread::spawn(move || {
            let _store = shared.lock_store();
            let _ = locked.send(());
            let _ = release.recv();
        })
    };
    locked.1.recv().expect("the writer holds the store");
    let request =
        tokio::spawn(app.oneshot(post("/api/v1/records", Some(TOKEN), DRAFT.to_string())));
    let job = tokio::time::timeout(std::time::Duration::from_secs(10), job_rx.recv()).await;
    let _ = release.0.send(());
    writer.join().expect("the writer ends");
    let Ok(Some(worker::Job::Publish { body, reply })) = job else {
        panic!("no publish job reached the worker while the store was locked");
    };
    assert_eq!(body.kind(), hubnet_protocol::Kind::Practice);
    drop(reply);
    let response = request.await.expect("joins").expect("infallible");
    // The worker went away without answering: the API says so rather than hanging.
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
}
