//! `/healthz`, `/readyz` and the operational gauges of `/metrics`, in-process.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::Value;

use super::operations::{INDEX_LAG_BOUND, STORE_ANSWER_WITHIN};
use super::tests::{Api, api, api_with, call, get, json};
use crate::search::Lag;
use crate::shared::PeerStatus;
use crate::test_support::sample_key;

/// `GET /readyz`: status, content type, body.
async fn readyz(api: &Api) -> (StatusCode, String, Value) {
    let (status, ctype, body) = call(api, get("/readyz")).await;
    (status, ctype, json(&body))
}

/// Polls `/readyz` until it answers `want` (the deadline bounds it); returns the body. The
/// deadline is generous: the indexer runs at a low priority, so on a machine busy with other
/// work (a CI run beside builds) a backlog of 2,000 records once took over 20 s in a debug build.
async fn ready_within(api: &Api, want: StatusCode) -> Value {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let (status, _, body) = readyz(api).await;
        if status == want {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "/readyz is not {want} by the deadline: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await; // poll; the deadline bounds it
    }
}

/// The check named `name` in a `/readyz` body.
fn check<'a>(body: &'a Value, name: &str) -> &'a Value {
    body["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no check {name} in {body}"))
}

fn a_peer() -> (libp2p::PeerId, PeerStatus) {
    let peer_id = libp2p::identity::Keypair::generate_ed25519()
        .public()
        .to_peer_id();
    let status = PeerStatus {
        peer_id: peer_id.to_string(),
        member: None,
        address: "/ip4/127.0.0.1/tcp/4001".into(),
        direction: "out",
        connected_at_ms: 1_800_000_000_000,
        last_seen_ms: 1_800_000_000_000,
        rtt_ms: None,
        score: None,
        behind: None,
        ahead: None,
    };
    (peer_id, status)
}

/// A node alone by config (no peers expected) is ready once its index caught up: 200 with
/// every check listed and holding.
#[tokio::test]
async fn a_node_alone_by_config_is_ready() {
    let api = api(Some("KZ"));
    let body = ready_within(&api, StatusCode::OK).await;
    assert_eq!(body["status"], "ready");
    let names: Vec<&str> = body["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["store", "search_index", "peers"]);
    for name in names {
        assert_eq!(check(&body, name)["ok"], true, "{body}");
    }
}

/// A node whose config expects peers is not ready without one (503, a problem naming the
/// check), and ready once one is live.
#[tokio::test]
async fn a_node_that_expects_peers_is_ready_only_with_one() {
    let api = api(Some("KZ"));
    ready_within(&api, StatusCode::OK).await;
    api.shared.expect_peers.store(true, Ordering::Relaxed);
    let (status, ctype, body) = readyz(&api).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(ctype, "application/problem+json");
    assert_eq!(body["status"], 503);
    assert_eq!(body["type"], "https://hubnet.invalid/problems/not-ready");
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("peers: no live peer"), "{detail}");
    assert!(
        !detail.contains("store"),
        "only the failing check: {detail}"
    );
    assert_eq!(check(&body, "peers")["ok"], false);
    assert_eq!(check(&body, "store")["ok"], true);

    let (peer, status) = a_peer();
    api.shared.lock_peers().insert(peer, status);
    let (status, _, body) = readyz(&api).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(check(&body, "peers")["detail"], "1 live");
}

/// A store that does not answer a read within the bound makes the node not ready, and so does
/// every probe while it stays stuck; `/healthz` still answers at once. Once the store answers
/// again, so does readiness.
#[tokio::test]
async fn a_store_that_does_not_answer_makes_the_node_not_ready() {
    let api = api(Some("KZ"));
    ready_within(&api, StatusCode::OK).await;
    // Another thread holds the store for writing until told to let go.
    let (held, taken) = std::sync::mpsc::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let shared = api.shared.clone();
    let holder = std::thread::spawn(move || {
        let _stuck = shared.lock_store();
        held.send(()).expect("the test waits");
        let _ = released.recv();
    });
    taken
        .recv_timeout(Duration::from_secs(10))
        .expect("the store's lock taken");

    let started = Instant::now();
    let (status, ctype, body) = call(&api, get("/healthz")).await;
    assert_eq!(
        (status, ctype.as_str(), body.as_slice()),
        (
            StatusCode::OK,
            "text/plain; charset=utf-8",
            b"ok".as_slice()
        )
    );
    assert!(started.elapsed() < STORE_ANSWER_WITHIN, "/healthz waited");

    let (first, second) = tokio::join!(readyz(&api), readyz(&api));
    for (status, _, body) in [first, second] {
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(check(&body, "store")["ok"], false);
        let detail = check(&body, "store")["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains("no answer to a read within 2 s"),
            "{detail}"
        );
        assert_eq!(check(&body, "search_index")["ok"], false, "unknown");
    }
    let waited = started.elapsed();
    assert!(
        waited < STORE_ANSWER_WITHIN * 2,
        "two probes at once wait {waited:?}, not one bound after the other"
    );

    release.send(()).expect("the holder waits");
    holder.join().expect("the holder let go");
    ready_within(&api, StatusCode::OK).await;
}

/// A search index that has not caught up with the store since the start (a backlog of
/// thousands of records to index) makes the node not ready until it has.
#[tokio::test]
async fn a_search_index_catching_up_makes_the_node_not_ready_until_done() {
    let api = api_with(Some("KZ"), |store| {
        let keys = [sample_key("KG"), sample_key("TJ")];
        crate::synth::fill(store, &keys, 2_000, crate::now_ms()).expect("fills");
    });
    let (status, _, body) = readyz(&api).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let index = check(&body, "search_index");
    assert_eq!(index["ok"], false, "{body}");
    assert!(
        index["detail"]
            .as_str()
            .is_some_and(|d| d.contains("catching up with the store")),
        "{index}"
    );
    let body = ready_within(&api, StatusCode::OK).await;
    assert_eq!(
        check(&body, "search_index")["detail"],
        "0 bytes behind the store for 0.0 s"
    );
}

/// The index check at its bounds.
#[test]
fn the_index_check_holds_within_the_lag_bound() {
    let lag = |bytes: u64, secs: u64, caught_up: bool| Lag {
        bytes,
        behind_for: Duration::from_secs(secs),
        caught_up,
    };
    let bound = INDEX_LAG_BOUND.as_secs();
    for (lag, ok) in [
        (lag(0, 0, true), true),
        (lag(4096, bound, true), true),
        (lag(4096, bound + 1, true), false),
        (lag(0, 0, false), false),
        (lag(4096, 1, false), false),
    ] {
        assert_eq!(super::operations::index_check(&lag).ok, ok, "{lag:?}");
    }
}

/// `/metrics` carries the gauges set when it is read (records held, peers, the index's lag,
/// readiness and each check) and counts HTTP requests by route pattern and status.
#[tokio::test]
async fn metrics_show_readiness_peers_lag_and_http_requests() {
    let api = api(Some("KZ"));
    ready_within(&api, StatusCode::OK).await;
    api.shared.expect_peers.store(true, Ordering::Relaxed);
    let no_such = format!("/api/v1/records/{}", "ab".repeat(32));
    assert_eq!(call(&api, get(&no_such)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(call(&api, get("/nowhere")).await.0, StatusCode::NOT_FOUND);
    let (status, _, body) = call(&api, get("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8_lossy(&body);
    for line in [
        "hubnet_records 0",
        "hubnet_forks 0",
        "hubnet_peers 0",
        "hubnet_search_lag_bytes 0",
        "hubnet_search_lag_seconds 0.0",
        "hubnet_ready 0",
        "hubnet_readiness_check{check=\"store\"} 1",
        "hubnet_readiness_check{check=\"search_index\"} 1",
        "hubnet_readiness_check{check=\"peers\"} 0",
        "hubnet_http_requests_total{route=\"/readyz\",code=\"200\"} ",
        "hubnet_http_requests_total{route=\"/api/v1/records/{id}\",code=\"404\"} 1",
        "hubnet_http_requests_total{route=\"unmatched\",code=\"404\"} 1",
        "hubnet_http_request_duration_seconds_count ",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(line)),
            "no line {line:?} in:\n{text}"
        );
    }
    let (peer, status) = a_peer();
    api.shared.lock_peers().insert(peer, status);
    let (_, _, body) = call(&api, get("/metrics")).await;
    let text = String::from_utf8_lossy(&body);
    for line in ["hubnet_peers 1", "hubnet_ready 1"] {
        assert!(text.lines().any(|l| l == line), "no line {line:?}:\n{text}");
    }
}

/// Both probes are in the OpenAPI document under `operations`, `/readyz` with its 503 problem.
#[tokio::test]
async fn the_probes_are_documented() {
    let api = api(None);
    let (_, _, body) = call(&api, get("/api/v1/openapi.json")).await;
    let doc = json(&body);
    for path in ["/healthz", "/readyz"] {
        assert_eq!(doc["paths"][path]["get"]["tags"][0], "operations", "{path}");
    }
    let not_ready = &doc["paths"]["/readyz"]["get"]["responses"]["503"]["content"];
    assert_eq!(
        not_ready["application/problem+json"]["schema"]["$ref"],
        "#/components/schemas/NotReady"
    );
}
