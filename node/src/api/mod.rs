//! The HTTP API (axum). The read side is public; the write side needs the admin token. Handlers
//! translate HTTP to store reads and worker jobs; every error is `application/problem+json`.
//!
//! ```text
//! GET  /api/v1/health              `ok` (static)
//! GET  /api/v1/status              network, live peers, heads, record count, heads digest, forks
//! GET  /api/v1/records             a query: filters, full text, facets, cursor   (query.rs)
//! GET  /api/v1/records/{id}        one record as JSON, with its signed bytes in base64
//! GET  /api/v1/records/{id}/raw    the SignedRecord protobuf
//! GET  /api/v1/records/{id}/current   the state in force, Markdown rendered   (query.rs)
//! GET  /api/v1/records/{id}/citation  BibTeX or CSL-JSON                       (feeds.rs)
//! GET  /api/v1/members, /vocabulary, /peers, /logs/{author}, /forks             (query.rs)
//! GET  /api/v1/compare, /api/v1/countries/{code}   reform profiles compared      (compare.rs)
//! GET  /api/v1/export (csv, json, ndjson, iati), /feeds/events.ics,
//!      /feeds/{practices,reform-profiles,programmes}.atom                         (feeds.rs)
//! GET  /api/v1/directory[.vcf|.csv], /institutions/{id}/references               (directory.rs)
//! GET  /api/v1/admin/reconfirm     expert profiles due for re-confirmation      [admin token]
//! GET  /api/v1/governance, /checkpoints, /bundle; POST /api/v1/governance/decisions (governance.rs)
//! GET  /api/v1/openapi.json        the OpenAPI 3.1 document of all of the above
//! GET, POST /oai                 OAI-PMH 2.0 with Dublin Core (oai_dc)         (oai.rs)
//! GET  /metrics                    Prometheus metrics (libp2p bandwidth, records stored, ...)
//! GET  /healthz, /readyz           liveness and readiness                        (operations.rs)
//! GET  /, /records/{id}, /calendar, /network, /ui/*   the web UI                (ui.rs)
//! POST /api/v1/records             a draft (JSON), signed with the node's key   [admin token]
//! POST /api/v1/records/raw         a SignedRecord signed elsewhere                [admin token]
//! ```

pub mod answers;
pub mod compare;
pub mod conditional;
pub mod directory;
#[cfg(test)]
mod directory_tests;
pub mod error;
pub mod feeds;
#[cfg(test)]
mod feeds_tests;
pub mod governance;
#[cfg(test)]
mod governance_tests;
pub mod guard;
pub mod oai;
#[cfg(test)]
mod oai_tests;
pub mod openapi;
#[cfg(test)]
mod openapi_tests;
pub mod operations;
#[cfg(test)]
mod operations_tests;
pub mod programmes;
pub mod query;
#[cfg(test)]
mod query_tests;
pub mod sitemap;
#[cfg(test)]
mod sitemap_tests;
pub mod stream;
#[cfg(test)]
mod tests;
pub mod ui;
#[cfg(test)]
mod ui_tests;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use hubnet_protocol::{ChainError, Draft, DraftFormat, RecordId};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

pub use self::error::ApiError;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::openapi::{ApiDoc, Problem};
use crate::shared::Shared;
use crate::view::{record_json, rfc3339_ms};
use crate::worker::{Job, Refusal};

/// The media type of raw records.
pub const PROTOBUF: &str = "application/x-protobuf";

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The node.
    pub shared: Arc<Shared>,
    /// The ingest worker's queue.
    pub jobs: mpsc::Sender<Job>,
    /// The bearer token of the write side.
    pub admin_token: Arc<str>,
    /// Rate limits, caps on work at once, timeouts ([`guard`]).
    pub guard: Arc<guard::Guard>,
    /// Answers to repeated queries ([`answers`]).
    pub answers: answers::AnswerCache,
    /// The JSON of records in answers ([`answers::RecordCache`]).
    pub records: answers::RecordCache,
}

/// The largest request body: four records of the charter's maximum size (a draft's JSON is
/// larger than its record) plus slack.
pub(crate) fn body_limit(shared: &Shared) -> usize {
    usize::try_from(shared.charter().limits().max_record_bytes)
        .unwrap_or(usize::MAX)
        .saturating_mul(4)
        .saturating_add(64 * 1024)
}

/// The API's routes and their OpenAPI document.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health))
        .routes(routes!(status))
        .routes(routes!(query::search, publish))
        .routes(routes!(publish_raw))
        .routes(routes!(record))
        .routes(routes!(record_raw))
        .routes(routes!(query::current))
        .routes(routes!(query::members))
        .routes(routes!(query::vocabulary))
        .routes(routes!(compare::compare))
        .routes(routes!(compare::country))
        .routes(routes!(query::peers))
        .routes(routes!(query::log))
        .routes(routes!(query::forks))
        .routes(routes!(feeds::events_ics))
        .routes(routes!(feeds::practices_atom))
        .routes(routes!(feeds::reform_profiles_atom))
        .routes(routes!(feeds::programmes_atom))
        .routes(routes!(feeds::export))
        .routes(routes!(feeds::citation))
        .routes(routes!(governance::governance))
        .routes(routes!(governance::submit_decision))
        .routes(routes!(
            governance::checkpoints,
            governance::submit_checkpoint
        ))
        .routes(routes!(governance::bundle))
        .routes(routes!(directory::directory_json))
        .routes(routes!(directory::directory_vcf))
        .routes(routes!(directory::directory_csv))
        .routes(routes!(directory::references))
        .routes(routes!(directory::reconfirm))
        .routes(routes!(programmes::programme))
        .routes(routes!(operations::healthz))
        .routes(routes!(operations::readyz))
        .routes(routes!(oai::oai_get, oai::oai_post))
        .split_for_parts()
}

/// Every route of the node's HTTP side.
pub fn router(state: AppState) -> Router {
    let limit = body_limit(&state.shared);
    let (api, doc) = api();
    let doc: Arc<str> = Arc::from(doc.to_pretty_json().unwrap_or_default());
    api.route(
        "/api/v1/openapi.json",
        get(move || async move {
            (
                [(header::CONTENT_TYPE, "application/json")],
                doc.to_string(),
            )
        }),
    )
    .route("/metrics", get(metrics))
    .merge(ui::routes(Router::new()))
    .merge(sitemap::routes(Router::new()))
    .fallback(not_found)
    .layer(axum::middleware::map_response(error::as_problem))
    // Answers compressed as the client's `Accept-Encoding` asks (zstd, brotli, gzip; none
    // without it), streamed exports too; tiny answers and images stay as they are.
    // Tags and 304s inside the compression, so that a tag is the plain answer's.
    .layer(axum::middleware::from_fn(conditional::conditional))
    .layer(compression())
    .layer(DefaultBodyLimit::max(limit))
    .layer(axum::middleware::from_fn_with_state(
        state.clone(),
        guard::guard,
    ))
    // Outermost, so that what the guard refuses is counted too.
    .layer(axum::middleware::from_fn_with_state(
        state.shared.clone(),
        operations::count_requests,
    ))
    .with_state(state)
}

/// The compression of answers: every codec the client accepts, at a level that costs little
/// CPU (the defaults: gzip 6 would take a query answer's CPU up several times, for a few per cent
/// of size), for answers built whole (their size is known) and the crate's default predicate
/// (above 32 bytes; not images, gRPC or event streams). Streamed answers (exports, bundles,
/// feeds: `stream.rs`) are sent as they are: their memory bound per client holds only without a
/// compressor's window, and compressing them through the edge was found to send plain bytes
/// under a `Content-Encoding` (the browser's charter fetch then failed).
fn compression()
-> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    use tower_http::compression::Predicate;
    use tower_http::compression::predicate::DefaultPredicate;
    let built_whole = |_: axum::http::StatusCode,
                       _: axum::http::Version,
                       _: &axum::http::HeaderMap,
                       extensions: &axum::http::Extensions| {
        extensions.get::<stream::Streamed>().is_none()
    };
    tower_http::compression::CompressionLayer::new()
        .quality(tower_http::CompressionLevel::Fastest)
        .compress_when(DefaultPredicate::new().and(built_whole))
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint".into())
}

/// Runs blocking store work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
}

#[utoipa::path(get, path = "/api/v1/status", tag = "network", responses((status = 200, description = "Network id, live peers (as `GET /api/v1/peers`: each with `last_seen_ms`, Unix time in milliseconds, and `rtt_ms`), heads, record count, heads digest, forks", body = Value)))]
async fn status(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let shared = state.shared.clone();
    blocking(move || {
        let (summary, count, forks) = {
            let store = shared.read_store();
            let forks: Vec<Value> = store
                .forks()
                .iter()
                .map(|((author, seq), others)| {
                    let log_id = store.id_at(author, *seq).ok().flatten();
                    json!({
                        "author": author.to_hex(),
                        "member": member_code(&shared, author),
                        "seq": seq,
                        "ids": log_id.into_iter().chain(others.iter().map(|s| s.id()))
                            .map(|id| id.to_hex()).collect::<Vec<_>>(),
                    })
                })
                .collect();
            (store.summary(), store.record_count()?, forks)
        };
        let mut flagged: Vec<Value> = forks.iter().map(|f| f["member"].clone()).collect();
        flagged.dedup();
        let heads: Vec<Value> = summary
            .heads
            .iter()
            .map(|(author, h)| {
                json!({
                    "author": author.to_hex(),
                    "member": member_code(&shared, author),
                    "seq": h.seq,
                    "id": h.id.to_hex(),
                })
            })
            .collect();
        let peers: Vec<Value> = shared.lock_peers().values().map(|p| json!(p)).collect();
        Ok(Json(json!({
            "network_id": shared.charter().network_id().to_hex(),
            "network_name": shared.charter().name(),
            "peer_id": shared.peer_id.to_string(),
            "member": shared.member,
            "version": env!("CARGO_PKG_VERSION"),
            "peers": peers,
            "heads": heads,
            "record_count": count,
            "heads_digest": hex::encode(summary.digest()),
            "forks": forks,
            "flagged": flagged,
        })))
    })
    .await
}

/// A static answer for load balancers and probes: the node serves HTTP.
#[utoipa::path(get, path = "/api/v1/health", tag = "network", responses((status = 200, description = "`ok`", content_type = "text/plain")))]
async fn health() -> &'static str {
    "ok"
}

async fn metrics(State(state): State<AppState>) -> Response {
    operations::refresh_metrics(&state.shared).await;
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.shared.metrics.encode(),
    )
        .into_response()
}

fn member_code(shared: &Shared, author: &hubnet_protocol::PublicKey) -> Option<String> {
    shared
        .charter()
        .member_by_key(author)
        .map(|m| m.code.clone())
}

fn parse_id(id: &str) -> Result<RecordId, ApiError> {
    id.parse()
        .map_err(|_| ApiError::BadRequest(format!("{id:?} is not a record id (64 hex digits)")))
}

#[utoipa::path(get, path = "/api/v1/records/{id}", tag = "records", params(("id" = openapi::RecordIdParam, Path, description = "Record id, 64 hex digits")), responses((status = 200, description = "The record as stored: decoded header and body, and `signed` (base64 of the exact signed bytes); `amendments` (its amendments' ids, in log order), `retracted`, and for an erased record `erased: true`, a null body, `signed.erasure` (the proof) and `erased_by` (the erasure record or decision)", body = Value, links(("log" = (operation_id = "log", parameters(("author" = "$response.body#/author")), description = "The log of the record's author")))), (status = 304, description = "Not modified: `If-None-Match` names this answer's `ETag` (api/conditional.rs)"), (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json")))]
async fn record(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    let shared = state.shared.clone();
    blocking(move || {
        let store = shared.read_store();
        let r = store
            .get(&id)?
            .ok_or_else(|| ApiError::NotFound(format!("no record {id}")))?;
        let mut v = record_json(&r);
        let in_log = store.locate(&id)?.is_some();
        v["fork_evidence"] = json!(!in_log);
        v["retracted"] = json!(store.is_retracted(&id)?);
        v["amendments"] = json!(
            store
                .amendments(&id)?
                .iter()
                .map(RecordId::to_hex)
                .collect::<Vec<_>>()
        );
        if let Some(held) = crate::programmes::Held::read(&store, &id)?
            && let Some(d) = held.derived()
        {
            v["programme"] = json!({"state": d.state.name(), "in_force": d.in_force.to_hex()});
        }
        if let Some(by) = store.erased_by(&id) {
            v["erased_by"] = match by {
                crate::store::ErasedBy::Record(e) => json!({"record": e.to_hex()}),
                crate::store::ErasedBy::Decision(d) => json!({"decision": d.to_hex()}),
            };
        }
        Ok(Json(v))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/records/{id}/raw", tag = "records", params(("id" = openapi::RecordIdParam, Path, description = "Record id, 64 hex digits")), responses((status = 200, description = "The record's `hubnet.v1.SignedRecord` protobuf (proto/proto/hubnet/v1/record.proto), as signed", content_type = "application/x-protobuf", body = openapi::SignedRecordMessage), (status = 304, description = "Not modified: `If-None-Match` names this answer's `ETag` (api/conditional.rs)"), (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json")))]
async fn record_raw(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let shared = state.shared.clone();
    let bytes = blocking(move || {
        shared
            .read_store()
            .get_signed(&id)?
            .map(|s| s.encode())
            .ok_or_else(|| ApiError::NotFound(format!("no record {id}")))
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, PROTOBUF)], bytes).into_response())
}

/// Checks the bearer token (compared in constant time).
pub(crate) fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(ApiError::Unauthorized)?;
    let want = state.admin_token.as_bytes();
    let given = given.trim().as_bytes();
    let same = given.len() == want.len()
        && given
            .iter()
            .zip(want)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err(ApiError::Unauthorized)
    }
}

fn body_bytes(state: &AppState, body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| match e {
        BytesRejection::FailedToBufferBody(_) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::TooLarge(body_limit(&state.shared))
        }
        other => ApiError::BadRequest(other.body_text()),
    })
}

async fn submit<T>(
    state: &AppState,
    job: impl FnOnce(oneshot::Sender<T>) -> Job,
) -> Result<T, ApiError> {
    let (tx, rx) = oneshot::channel();
    state
        .jobs
        .send(job(tx))
        .await
        .map_err(|_| ApiError::Unavailable)?;
    rx.await.map_err(|_| ApiError::Unavailable)
}

/// The header of a pushed record of this network, when its bytes decode that far (what does not
/// is refused by the worker, with the reason).
fn header_of(shared: &Shared, bytes: &[u8]) -> Option<hubnet_protocol::Header> {
    let signed = hubnet_protocol::SignedRecord::decode(bytes).ok()?;
    let header = hubnet_protocol::Header::decode(&signed.header).ok()?;
    (header.network_id == shared.charter().network_id()).then_some(header)
}

/// The rate rule's refusal of a pushed record that would be the next of its author's log and is
/// over the charter's limit ([`crate::store::Store::over_rate`]): a stolen key pushing more than
/// the charter allows is refused here, from the header alone, before its signature is verified
/// (about as costly as the rest of the request) and without the ingest worker. Such a record is
/// refused either way (one with a bad signature too is refused for its rate). Anything else goes
/// to the worker: bytes that do not decode, another network's record, a record that is not the
/// next (one ahead of a gap may be pushed while the one before it waits in the worker's queue),
/// and every record while a group commit holds the store.
fn over_rate(shared: &Shared, header: &hubnet_protocol::Header) -> Option<ChainError> {
    let store = shared.try_read_store()?;
    store
        .over_rate(hubnet_protocol::chain::RatePlace {
            author: &header.author,
            seq: header.seq,
            created_at: header.created_at,
        })
        .ok()
        .flatten()
}

fn refusal(e: Refusal) -> ApiError {
    match e {
        Refusal::Invalid(e) => ApiError::Unprocessable(e.to_string()),
        Refusal::Chain(e @ ChainError::RateExceeded { next_allowed, .. }) => ApiError::TooMany {
            detail: e.to_string(),
            retry_at_ms: next_allowed,
            now_ms: crate::now_ms(),
        },
        Refusal::Chain(e) => ApiError::Conflict(e.to_string()),
        f @ Refusal::Fork(_) => ApiError::Conflict(f.to_string()),
        Refusal::NoKey => ApiError::Forbidden(Refusal::NoKey.to_string()),
        Refusal::Store(e) => e.into(),
        other => ApiError::Internal(other.to_string()),
    }
}

#[utoipa::path(post, path = "/api/v1/records", tag = "publish", security(("admin_token" = [])), request_body(content = Value, description = "A draft (see docs/DRAFTS.md)"), responses((status = 201, description = "Stored durably: `{id, member, author, seq, created_at}`; `Location` is the record's URL", body = Value, links(("record" = (operation_id = "record", parameters(("id" = "$response.body#/id")), description = "The record as stored")))), (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json"), (status = 401, description = "No or a wrong token", body = Problem, content_type = "application/problem+json"), (status = 403, description = "A mirror cannot publish", body = Problem, content_type = "application/problem+json"), (status = 422, description = "The draft breaks a rule", body = Problem, content_type = "application/problem+json"), (status = 429, description = "The key reached the charter's rate limit (docs/PROTOCOL.md §2), or this node's pace for one author's records (`http_limits.author_records_per_second` after a burst of `author_record_burst`); `Retry-After` says when to try again", body = Problem, content_type = "application/problem+json"), (status = 507, description = "The node's disk is full: nothing was stored", body = Problem, content_type = "application/problem+json")))]
async fn publish(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    // The admin token was checked by the guard, before the body was read.
    let body = body_bytes(&state, body)?;
    let Some(member) = state.shared.member.clone() else {
        return Err(refusal(Refusal::NoKey));
    };
    if let Some(m) = state.shared.charter().member_by_code(&member) {
        state.guard.author(&m.key)?;
    }
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::BadRequest("the draft is not UTF-8".into()))?;
    let mut draft = Draft::parse(text, DraftFormat::Json)
        .map_err(|e| ApiError::Unprocessable(format!("draft: {e}")))?;
    // Only a confirmation without a version reads the store, off the async threads: a draft
    // must never wait here for the writer's `fdatasync` (with every async thread waiting, the
    // next publishes could not even be read, and groups stayed small).
    if crate::programmes::needs_version(&draft) {
        let shared = state.shared.clone();
        draft = blocking(move || {
            crate::programmes::fill_version(&mut draft, &shared.read_store())?;
            Ok(draft)
        })
        .await?;
    }
    let body = draft
        .to_body(&member, &state.shared.charter().rules().at(crate::now_ms()))
        .map_err(|e| ApiError::Unprocessable(format!("draft: {e}")))?;
    let r = submit(&state, |reply| Job::Publish {
        body: Box::new(body),
        reply,
    })
    .await?
    .map_err(refusal)?;
    Ok(created(
        r.id,
        json!({
            "id": r.id.to_hex(),
            "member": r.member,
            "author": r.header.author.to_hex(),
            "seq": r.header.seq,
            "created_at": rfc3339_ms(r.header.created_at),
        }),
    ))
}

/// 201 with the new record's location.
fn created(id: RecordId, body: Value) -> Response {
    (
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/records/{id}"))],
        Json(body),
    )
        .into_response()
}

#[utoipa::path(post, path = "/api/v1/records/raw", tag = "publish", security(("admin_token" = [])), request_body(content = openapi::SignedRecordMessage, content_type = "application/x-protobuf", description = "A `hubnet.v1.SignedRecord` protobuf (proto/proto/hubnet/v1/record.proto), signed elsewhere with a member's publishing key"), responses((status = 201, description = "Stored durably: `{id}`; `Location` is the record's URL", body = Value, links(("record" = (operation_id = "record", parameters(("id" = "$response.body#/id")), description = "The record as stored")))), (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json"), (status = 401, description = "No or a wrong token", body = Problem, content_type = "application/problem+json"), (status = 409, description = "A valid record that does not extend its author's log: it skips ahead of the log's head (push the records before it first), or another record holds its seq (kept as fork evidence)", body = Problem, content_type = "application/problem+json"), (status = 422, description = "Not a valid record", body = Problem, content_type = "application/problem+json"), (status = 429, description = "The key reached the charter's rate limit (docs/PROTOCOL.md §2), or this node's pace for one author's records (`http_limits.author_records_per_second` after a burst of `author_record_burst`); `Retry-After` says when to try again", body = Problem, content_type = "application/problem+json"), (status = 507, description = "The node's disk is full: nothing was stored", body = Problem, content_type = "application/problem+json")))]
async fn publish_raw(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    // The admin token was checked by the guard, before the body was read.
    let bytes = body_bytes(&state, body)?.to_vec();
    let header = header_of(&state.shared, &bytes);
    if let Some(e) = header.as_ref().and_then(|h| over_rate(&state.shared, h)) {
        return Err(refusal(Refusal::Chain(e)));
    }
    if let Some(h) = &header {
        state.guard.author(&h.author)?;
    }
    let id = submit(&state, |reply| Job::Raw { bytes, reply })
        .await?
        .map_err(refusal)?;
    Ok(created(id, json!({ "id": id.to_hex() })))
}
