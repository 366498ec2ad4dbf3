//! What operators and their tools ask of a node: liveness (`GET /healthz`), readiness
//! (`GET /readyz`), the gauges `GET /metrics` sets when it is read, and the count of HTTP
//! requests.
//!
//! - `/healthz`: the process is alive and serves HTTP. It touches nothing else (no store, no
//!   lock), so a busy store or a lagging index never makes a supervisor restart a node that is
//!   only busy. Always `200 ok`.
//! - `/readyz`: the node is ready to serve traffic, every check holding:
//!   - `store`: the store answers a read (the newest head's record, through the index and the
//!     journal) within [`STORE_ANSWER_WITHIN`];
//!   - `search_index`: the search index has caught up with the store since the node started and
//!     is not behind it for longer than [`INDEX_LAG_BOUND`] (see [`crate::search::Lag`]);
//!   - `peers`: at least one live peer, unless the config expects none (`expect_peers`, by
//!     default whether `bootstrap` lists any).
//!
//!   `200` with `{"status": "ready", "checks": [...]}`; otherwise `503`, a problem
//!   (`application/problem+json`, like every error of the API) whose `detail` names the
//!   failing checks and whose `checks` member lists every check.
//!
//! Neither needs the admin token: they reveal nothing `/api/v1/status` does not.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, json};
use tracing::debug;
use utoipa::ToSchema;

use super::AppState;
use crate::metrics::{CheckLabel, HttpLabel, Metrics};
use crate::search::Lag;
use crate::shared::Shared;
use crate::store::{Store, StoreError};

/// How long the store may take to answer the readiness probe's read. Reads wait only while the
/// ingest worker holds the store to check, write or make visible a group commit (milliseconds;
/// not during the group's `fdatasync`, except for fork evidence and erasures, which a slow disk
/// can make tens of milliseconds): a store that does not answer in 2 s is stuck, not busy. A
/// probe's own timeout must be longer (Kubernetes' default of 1 s is not: set
/// `timeoutSeconds: 3`).
pub const STORE_ANSWER_WITHIN: Duration = Duration::from_secs(2);

/// How long the search index may stay behind the store before the node is not ready: 30 s.
/// Caught up, the indexer makes a record searchable within about a second (it commits once the
/// journal is drained, at most once a second, and at least every second while records keep
/// coming). It runs at a lower priority and yields to an ingest backlog for up to 4 s at a time,
/// so under a burst (a sync of tens of thousands of records) it falls behind for a while and
/// catches up after: 30 s lets a node ride out such a burst without leaving the load balancer
/// (a sync of hundreds of thousands does take it out until its index has caught up), and still takes a stuck or failing indexer (it
/// retries with pauses of up to a minute) out of it within half a minute. A node whose index is
/// being rebuilt is not ready until the rebuild ends.
pub const INDEX_LAG_BOUND: Duration = Duration::from_secs(30);

/// One readiness check.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Check {
    /// `store`, `search_index` or `peers`.
    #[schema(example = "search_index")]
    pub name: String,
    /// Whether it holds.
    pub ok: bool,
    /// What was found, for people.
    #[schema(example = "0 bytes behind the store")]
    pub detail: String,
}

/// The answer of `GET /readyz` when the node is ready.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    /// `ready`.
    #[schema(example = "ready")]
    pub status: String,
    /// Every check, each holding.
    pub checks: Vec<Check>,
}

/// The answer of `GET /readyz` when the node is not ready: a problem (RFC 9457) with the checks.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotReady {
    /// `https://hubnet.invalid/problems/not-ready`.
    #[schema(example = "https://hubnet.invalid/problems/not-ready")]
    pub r#type: String,
    /// `Service Unavailable`.
    pub title: String,
    /// 503.
    pub status: u16,
    /// The failing checks and why.
    pub detail: String,
    /// Every check.
    pub checks: Vec<Check>,
}

/// What the store probe read.
#[derive(Debug, Clone, Copy)]
struct StoreView {
    records: u64,
    forks: usize,
    journal_end: u64,
}

/// The checks at one moment, and what they read (for the gauges).
#[derive(Debug)]
pub struct Readiness {
    /// Whether every check holds.
    pub ready: bool,
    /// Every check, in a fixed order.
    pub checks: Vec<Check>,
    store: Option<StoreView>,
    lag: Option<Lag>,
    peers: usize,
}

/// Runs every readiness check.
pub async fn readiness(shared: &Arc<Shared>) -> Readiness {
    let store = probe_store(shared).await;
    let mut checks = Vec::with_capacity(3);
    checks.push(match &store {
        Ok(v) => check(
            "store",
            true,
            format!("answers reads; {} records", v.records),
        ),
        Err(e) => check("store", false, e.clone()),
    });
    let lag = store
        .as_ref()
        .ok()
        .map(|v| shared.search.lag(v.journal_end, Instant::now()));
    checks.push(match lag {
        None => check(
            "search_index",
            false,
            "unknown: the store did not answer".into(),
        ),
        Some(lag) => index_check(&lag),
    });
    let peers = shared.lock_peers().len();
    let expect = shared.expect_peers.load(Ordering::Relaxed);
    checks.push(match (peers, expect) {
        (0, true) => check(
            "peers",
            false,
            "no live peer, and the config expects peers (expect_peers)".into(),
        ),
        (n, true) => check("peers", true, format!("{n} live")),
        (n, false) => check(
            "peers",
            true,
            format!("{n} live; none needed (expect_peers = false)"),
        ),
    });
    Readiness {
        ready: checks.iter().all(|c| c.ok),
        checks,
        store: store.ok(),
        lag,
        peers,
    }
}

fn check(name: &str, ok: bool, detail: String) -> Check {
    Check {
        name: name.to_owned(),
        ok,
        detail,
    }
}

pub(super) fn index_check(lag: &Lag) -> Check {
    let secs = lag.behind_for.as_secs_f64();
    if !lag.caught_up {
        check(
            "search_index",
            false,
            format!(
                "catching up with the store since the node started ({} bytes to go, {secs:.0} s so far)",
                lag.bytes
            ),
        )
    } else if lag.behind_for > INDEX_LAG_BOUND {
        check(
            "search_index",
            false,
            format!(
                "{} bytes behind the store for {secs:.0} s (the bound is {} s)",
                lag.bytes,
                INDEX_LAG_BOUND.as_secs()
            ),
        )
    } else {
        check(
            "search_index",
            true,
            format!("{} bytes behind the store for {secs:.1} s", lag.bytes),
        )
    }
}

/// Reads from the store off the async threads, within [`STORE_ANSWER_WITHIN`]. One probe at a
/// time reads: a probe that finds another still waiting on the store waits behind it (and so
/// fails the same way), instead of queueing one more blocking task on the store's lock.
async fn probe_store(shared: &Arc<Shared>) -> Result<StoreView, String> {
    let gate = shared.store_probe.clone();
    let shared = shared.clone();
    let probe = async move {
        let turn = gate.lock_owned().await;
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            read_probe(&shared.read_store())
        })
        .await
        .map_err(|e| format!("the read did not finish: {e}"))?
    };
    tokio::time::timeout(STORE_ANSWER_WITHIN, probe)
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "no answer to a read within {} s",
                STORE_ANSWER_WITHIN.as_secs()
            ))
        })
}

/// One real read through the sled index and the journal (the record at the newest head), and
/// the counts the gauges show.
fn read_probe(store: &Store) -> Result<StoreView, String> {
    let failed = |e: StoreError| format!("a read failed: {e}");
    let newest = store
        .heads()
        .map_err(failed)?
        .into_iter()
        .max_by_key(|(_, h)| h.created_at);
    if let Some((author, head)) = newest
        && store.get_signed(&head.id).map_err(failed)?.is_none()
    {
        return Err(format!(
            "the record at the head of {author}'s log (seq {}) cannot be read",
            head.seq
        ));
    }
    Ok(StoreView {
        records: store.record_count().map_err(failed)?,
        forks: store.forks().len(),
        journal_end: store.journal_end(),
    })
}

/// Sets the gauges of what the node holds and of its readiness; `GET /metrics` calls it before
/// encoding.
pub async fn refresh_metrics(shared: &Arc<Shared>) {
    let r = readiness(shared).await;
    set_gauges(&shared.metrics, &r);
}

fn set_gauges(m: &Metrics, r: &Readiness) {
    let to_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    if let Some(v) = r.store {
        m.records.set(to_i64(v.records));
        m.forks.set(to_i64(v.forks as u64));
    }
    if let Some(lag) = r.lag {
        m.search_lag_bytes.set(to_i64(lag.bytes));
        m.search_lag_seconds.set(lag.behind_for.as_secs_f64());
    }
    m.peers.set(to_i64(r.peers as u64));
    m.ready.set(i64::from(r.ready));
    for c in &r.checks {
        let name = match c.name.as_str() {
            "store" => "store",
            "search_index" => "search_index",
            _ => "peers",
        };
        m.readiness_check
            .get_or_create(&CheckLabel { check: name })
            .set(i64::from(c.ok));
    }
}

/// Liveness: the process serves HTTP. Touches nothing else.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "`ok`: the process is alive and serves HTTP (nothing else is checked; for readiness see `/readyz`)", content_type = "text/plain", body = String)))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: every check holds.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, description = "Ready to serve traffic: the store answers a read within 2 s, the search index is at most 30 s behind the store (and has caught up since the start), and the node has a live peer unless its config expects none", body = Ready), (status = 503, description = "Not ready: `detail` names the failing checks; `checks` lists every check", body = NotReady, content_type = "application/problem+json")))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let r = readiness(&state.shared).await;
    if r.ready {
        return Json(json!({"status": "ready", "checks": r.checks})).into_response();
    }
    let failing: Vec<String> = r
        .checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| format!("{}: {}", c.name, c.detail))
        .collect();
    let detail = format!("not ready: {}", failing.join("; "));
    debug!(%detail, "readiness probe");
    let mut extra = Map::new();
    extra.insert("checks".into(), json!(r.checks));
    super::error::problem_with(StatusCode::SERVICE_UNAVAILABLE, "not-ready", detail, extra)
}

/// Counts each answered request by route pattern and status code, and times it.
pub async fn count_requests(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let m = &shared.metrics;
    m.http_requests
        .get_or_create(&HttpLabel {
            route,
            code: response.status().as_u16(),
        })
        .inc();
    m.http_request_seconds
        .observe(started.elapsed().as_secs_f64());
    response
}
