//! The read side for researchers: queries with filters and full text, one record's current state,
//! members, peers, authors' logs and fork evidence.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use hubnet_protocol::{PublicKey, RecordId};
use serde_json::{Value, json};

use super::answers::{RecordCache, RecordKey, Stamp};
use super::openapi::{FieldsParam, LogParams, Problem, QueryParams};
use super::{ApiError, AppState, blocking, member_code, parse_id};
use crate::current::{Current, FIELDS};
use crate::search::indexer::documents_of;
use crate::search::{DocState, Query, governance_mark};
use crate::shared::Shared;
use crate::store::Store;
use crate::view::{record_json, render_markdown, rfc3339_ms};

/// The most log entries one request returns.
pub const MAX_LOG_ENTRIES: usize = 1000;

/// Parses a raw query string into a [`Query`] (and the `extra` parameters an endpoint takes).
pub fn parse_query(
    shared: &Shared,
    raw: Option<&str>,
    extra: &[&str],
) -> Result<(Query, Vec<(String, String)>), ApiError> {
    let pairs = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned();
    let (mut q, extras) = Query::parse(pairs, extra, &shared.charter())
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    // Experts past their `reconfirm_by` are not listed (docs/PROTOCOL.md §1.4).
    q.listed_on = Some(today_utc(crate::now_ms()));
    Ok((q, extras))
}

/// The UTC date of `now_ms`.
pub fn today_utc(now_ms: i64) -> chrono::NaiveDate {
    chrono::DateTime::from_timestamp_millis(now_ms)
        .map(|t| t.date_naive())
        .unwrap_or_default()
}

/// Loads the records a document names. `None` if the store no longer has the original (it
/// always should: the index is derived from it).
pub fn load_current(store: &Store, s: &DocState) -> Result<Option<Current>, ApiError> {
    let Some(original) = store.get(&s.id)? else {
        return Ok(None);
    };
    let load = |id: Option<RecordId>| -> Result<_, ApiError> {
        Ok(match id {
            Some(id) => store.get(&id)?,
            None => None,
        })
    };
    Ok(Some(Current {
        original,
        amendment: load(s.amendment)?,
        retraction: load(s.retraction)?,
    }))
}

/// `load` applied to each hit with the store read, in chunks: a big page or export does not keep
/// the ingest worker waiting for the store. Hits for which `load` gives `None` are left out.
fn each_with_store<T>(
    shared: &Shared,
    hits: &[DocState],
    mut load: impl FnMut(&Store, &DocState) -> Result<Option<T>, ApiError>,
) -> Result<Vec<T>, ApiError> {
    let mut out = Vec::with_capacity(hits.len());
    for chunk in hits.chunks(64) {
        let store = shared.read_store();
        for hit in chunk {
            out.extend(load(&store, hit)?);
        }
    }
    Ok(out)
}

/// The JSON of each hit's records as they stand ([`Current::json`]), serialised, in hit order:
/// from `cache` where kept, otherwise loaded from the store (a hit whose record the store does
/// not hold is left out, as [`run_query`] leaves it out) and kept. The JSON of what was loaded is
/// made after the store's lock is let go.
pub(super) fn hits_json(
    shared: &Shared,
    hits: &[DocState],
    cache: &RecordCache,
) -> Result<Vec<Bytes>, ApiError> {
    /// A hit's JSON kept, or its records loaded to make it.
    enum Found {
        Kept(Bytes),
        Loaded(RecordKey, Box<Current>),
    }
    let found = each_with_store(shared, hits, |store, hit| {
        let key = RecordKey::of(store, hit);
        Ok(match cache.get(&key) {
            Some(json) => Some(Found::Kept(json)),
            None => load_current(store, hit)?.map(|c| Found::Loaded(key, Box::new(c))),
        })
    })?;
    found
        .into_iter()
        .map(|found| match found {
            Found::Kept(json) => Ok(json),
            Found::Loaded(key, c) => {
                let json = Bytes::from(
                    serde_json::to_vec(&c.json())
                        .map_err(|e| ApiError::Internal(format!("serialising a record: {e}")))?,
                );
                cache.put(key, json.clone());
                Ok(json)
            }
        })
        .collect()
}

/// The answer to a query, `{facets, next_cursor, records, total}`, with each record's JSON as
/// given: the bytes `serde_json` writes for the same object (its keys in order, no spaces).
pub(super) fn answer_json(
    records: &[Bytes],
    page: &crate::search::Page,
) -> Result<Bytes, ApiError> {
    let mut body = Vec::with_capacity(records.iter().map(Bytes::len).sum::<usize>() + 4096);
    let mut write = |part: &[u8]| body.extend_from_slice(part);
    write(b"{\"facets\":");
    // Through a `Value`, as the answer always was: it writes the facets' fields in sorted order.
    let facets = serde_json::to_value(&page.facets)
        .and_then(|v| serde_json::to_vec(&v))
        .map_err(|e| ApiError::Internal(format!("serialising an answer: {e}")))?;
    write(&facets);
    write(b",\"next_cursor\":");
    let cursor = serde_json::to_vec(&page.next_cursor)
        .map_err(|e| ApiError::Internal(format!("serialising an answer: {e}")))?;
    write(&cursor);
    write(b",\"records\":[");
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            write(b",");
        }
        write(r);
    }
    write(b"],\"total\":");
    write(page.total.to_string().as_bytes());
    write(b"}");
    Ok(Bytes::from(body))
}

/// Runs `q` and loads every hit's records: the page, the total and the facets.
pub fn run_query(
    shared: &Shared,
    q: &Query,
) -> Result<(Vec<Current>, crate::search::Page), ApiError> {
    let page = shared
        .search
        .search(q)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let out = each_with_store(shared, &page.hits, load_current)?;
    Ok((out, page))
}

/// `GET /api/v1/records`: filters, full text, facets, a cursor.
#[utoipa::path(get, path = "/api/v1/records", tag = "records", params(QueryParams, FieldsParam), responses((status = 200, description = "`{records, next_cursor, total, facets}`; each record carries its `signed` bytes, its `current` content when amended (null otherwise: `body` is in force), and its amendment and retraction with their own signed bytes", body = Value, links(
        ("record" = (operation_id = "record", parameters(("id" = "$response.body#/records/0/id")), description = "The first record as stored")),
        ("raw" = (operation_id = "record_raw", parameters(("id" = "$response.body#/records/0/id")), description = "The first record's signed protobuf")),
        ("current" = (operation_id = "current", parameters(("id" = "$response.body#/records/0/id")), description = "The first record as it stands, Markdown rendered")),
        ("citation" = (operation_id = "citation", parameters(("id" = "$response.body#/records/0/id")), description = "A citation of the first record")),
        ("programme" = (operation_id = "programme", parameters(("id" = "$response.body#/records/0/id")), description = "Where the first record stands with its participants, when it is a joint programme (query with `kind=programme`)")))), (status = 304, description = "Not modified: `If-None-Match` names this answer's `ETag` (api/conditional.rs)"), (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json")))]
pub async fn search(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let (q, extras) = parse_query(&state.shared, raw.as_deref(), &["fields"])?;
    let fields = parse_fields(&extras)?;
    let shared = state.shared.clone();
    let answers = state.answers.clone();
    let record_cache = state.records.clone();
    let key = format!("records?{}", raw.unwrap_or_default());
    let body = blocking(move || {
        let stamp = Stamp::now(&shared, q.listed_on.unwrap_or_default());
        if let Some(body) = answers.get(&key, stamp) {
            return Ok(body);
        }
        // Computed afresh: after an erasure, nothing kept outlives this moment in memory.
        let erased = shared.read_store().erased().len();
        if record_cache.note_erased(erased) {
            answers.forget_all();
        }
        let (records, page) = match &fields {
            None => {
                let page = shared
                    .search
                    .search(&q)
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
                (hits_json(&shared, &page.hits, &record_cache)?, page)
            }
            Some(f) => {
                let (records, page) = run_query(&shared, &q)?;
                let records = records
                    .iter()
                    .map(|c| serde_json::to_vec(&c.json_fields(f)).map(Bytes::from))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| ApiError::Internal(format!("serialising an answer: {e}")))?;
                (records, page)
            }
        };
        let body = answer_json(&records, &page)?;
        answers.put(key, stamp, body.clone());
        Ok(body)
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// The `fields` parameter (repeatable, each a comma-separated list of [`FIELDS`]): `None` when
/// absent (whole records).
fn parse_fields(extras: &[(String, String)]) -> Result<Option<Vec<&'static str>>, ApiError> {
    let mut fields: Vec<&'static str> = Vec::new();
    let mut given = false;
    for (_, value) in extras.iter().filter(|(k, _)| k == "fields") {
        given = true;
        for name in value.split(',').map(str::trim) {
            let Some(known) = FIELDS.iter().find(|f| **f == name) else {
                return Err(ApiError::BadRequest(format!(
                    "fields: {name:?} is not a field of a record; the fields are {}",
                    FIELDS.join(", ")
                )));
            };
            if !fields.contains(known) {
                fields.push(known);
            }
        }
    }
    Ok(given.then_some(fields))
}

/// The current state of practice or event `id`: from the index, or (not indexed yet) from the
/// store alone. Records past their key's last valid seq do not count, even while the index has
/// not followed the decision yet.
pub fn current_of(shared: &Shared, id: &RecordId) -> Result<Current, ApiError> {
    let state = shared
        .search
        .state(id)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let store = shared.read_store();
    let charter = store.charter();
    let counts = |r: &hubnet_protocol::Record| charter.key_allows(&r.header.author, r.header.seq);
    let r = store
        .get(id)?
        .ok_or_else(|| ApiError::NotFound(format!("no record {id}")))?;
    if !counts(&r) {
        return Err(ApiError::NotFound(format!(
            "record {id} does not count: seq {} is past its key's last valid seq ({}); \
             /api/v1/records/{id} still serves it as signed",
            r.header.seq,
            charter
                .key_last_seq(&r.header.author)
                .flatten()
                .map_or("none".to_owned(), |s| s.to_string()),
        )));
    }
    // While the index has not followed a decision yet, the state comes from the author's log.
    if shared.search.followed_governance() != governance_mark(&store) {
        if let Some(Some(c)) = documents_of(&store, &r.header.author)?.remove(id) {
            return Ok(c);
        }
    } else if let Some(s) = state
        && let Some(c) = load_current(&store, &s)?
    {
        return Ok(c);
    }
    // Not (yet, or any more: erased) in the index: the record alone.
    match r.header.kind {
        k if k.is_content() => Ok(Current {
            original: r,
            amendment: None,
            retraction: None,
        }),
        other => Err(ApiError::NotFound(format!(
            "record {id} is a {}, not a content record; its target is what it changes",
            other.name()
        ))),
    }
}

/// `GET /api/v1/records/{id}/current`: the state in force, with the Markdown body (practice) or
/// description (event) rendered to sanitised HTML per language.
#[utoipa::path(get, path = "/api/v1/records/{id}/current", tag = "records", params(("id" = super::openapi::RecordIdParam, Path, description = "Id of a practice, event, reform profile, institution, expert profile or programme")), responses((status = 200, description = "The state in force, as in a query result, plus `html`: the Markdown body rendered and sanitised, per language", body = Value), (status = 304, description = "Not modified: `If-None-Match` names this answer's `ETag` (api/conditional.rs)"), (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such record, or one that does not count (signed after its key's last valid seq; /api/v1/records/{id} still serves it as signed)", body = Problem, content_type = "application/problem+json")))]
pub async fn current(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    let shared = state.shared.clone();
    blocking(move || {
        let c = current_of(&shared, &id)?;
        let text = c.content().and_then(|c| c.view().markdown());
        let html: serde_json::Map<String, Value> = text
            .map(|t| {
                t.text
                    .iter()
                    .map(|(lang, md)| (lang.clone(), json!(render_markdown(md))))
                    .collect()
            })
            .unwrap_or_default();
        let mut v = c.json();
        v["html"] = Value::Object(html);
        Ok(Json(v))
    })
    .await
}

/// `GET /api/v1/vocabulary`: the vocabulary in force (the charter's and every applied
/// amendment): topics, reform areas and the indicator catalogue, each list in display order.
#[utoipa::path(get, path = "/api/v1/vocabulary", tag = "network", responses((status = 200, description = "The vocabulary in force: `topics` and `reform_areas` (`slug`, `name` by language), `indicators` (`code`, `name`, `unit`, `higher_is_better`, `reform_area`); a browser can recompute it from the signed charter and decisions of `/api/v1/bundle`", body = Value)))]
pub async fn vocabulary(State(state): State<AppState>) -> Json<Value> {
    let charter = state.shared.charter();
    Json(serde_json::to_value(charter.vocabulary()).unwrap_or(Value::Null))
}

/// `GET /api/v1/members`: the charter's members with their keys and heads.
#[utoipa::path(get, path = "/api/v1/members", tag = "network", responses((status = 200, description = "The charter: network id, name, quorum, committee keys, members with their publishing keys, heads and fork flags", body = Value, links(("log" = (operation_id = "log", parameters(("author" = "$response.body#/members/0/publishing_key")), description = "The log of the first member's publishing key"))))))]
pub async fn members(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let shared = state.shared.clone();
    blocking(move || {
        let store = shared.read_store();
        let flagged: Vec<PublicKey> = store.forks().keys().map(|(a, _)| *a).collect();
        let c = &*shared.charter();
        let members: Vec<Value> = c
            .members()
            .iter()
            .map(|m| {
                let head = store.head(&m.key).ok().flatten();
                json!({
                    "code": m.code,
                    "name": m.name,
                    "publishing_key": m.key.to_hex(),
                    "head": head.map(|h| json!({"seq": h.seq, "id": h.id.to_hex()})),
                    "flagged": flagged.contains(&m.key),
                })
            })
            .collect();
        Ok(Json(json!({
            "network_id": c.network_id().to_hex(),
            "name": c.name(),
            "quorum": c.quorum(),
            "committee": c.committee().iter().map(PublicKey::to_hex).collect::<Vec<_>>(),
            "members": members,
        })))
    })
    .await
}

/// `GET /api/v1/peers`: the live peers: connected, and answering pings (a peer whose pings go
/// unanswered for `peer_timeout_ms` is left out at once).
#[utoipa::path(get, path = "/api/v1/peers", tag = "network", responses((status = 200, description = "The live peers: connected and answering pings, each with when it last answered (`last_seen_ms`, Unix time in milliseconds) and its ping round-trip time (`rtt_ms`)", body = [crate::shared::PeerStatus])))]
pub async fn peers(State(state): State<AppState>) -> Json<Value> {
    let peers: Vec<Value> = state
        .shared
        .lock_peers()
        .values()
        .map(|p| json!(p))
        .collect();
    Json(Value::Array(peers))
}

/// The parameters of an endpoint whose parameters each take one value: a repeated one is an
/// error, as in a query.
pub fn single_valued(raw: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned() {
        if out.iter().any(|(seen, _)| *seen == k) {
            return Err(ApiError::BadRequest(format!(
                "parameter `{k}` is given more than once"
            )));
        }
        out.push((k, v));
    }
    Ok(out)
}

/// `GET /api/v1/logs/{author}?from=&limit=`: an author's chain (member code or key).
#[utoipa::path(get, path = "/api/v1/logs/{author}", tag = "network", params(("author" = super::openapi::AuthorParam, Path, description = "Member code (any case) or publishing key (64 hex digits)", example = "KZ"), LogParams), responses((status = 200, description = "The author's chain: seq, id, kind, time, target", body = Value), (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json")))]
pub async fn log(
    State(state): State<AppState>,
    Path(author): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let shared = state.shared.clone();
    let key = crate::search::query::author_key(&author, &shared.charter()).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "{author:?} is neither a member code nor a publishing key (64 hex digits)"
        ))
    })?;
    let mut from = 1u64;
    let mut limit = 100usize;
    let pairs = single_valued(raw.as_deref())?;
    for (k, v) in pairs {
        match k.as_str() {
            "from" => {
                from = v.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                    ApiError::BadRequest(format!("parameter `from`: {v:?} is not a seq (1, 2, …)"))
                })?;
            }
            "limit" => {
                limit = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_LOG_ENTRIES).contains(n))
                    .ok_or_else(|| {
                        ApiError::BadRequest(format!(
                            "parameter `limit`: {v:?} is out of range 1..={MAX_LOG_ENTRIES}"
                        ))
                    })?;
            }
            other => {
                return Err(ApiError::BadRequest(format!(
                    "unknown parameter `{other}`; known parameters: from, limit"
                )));
            }
        }
    }
    blocking(move || {
        let store = shared.read_store();
        let head = store.head(&key)?;
        let mut entries = Vec::new();
        for (seq, id) in store.log_limited(&key, from, limit)? {
            let r = store.get(&id)?;
            entries.push(json!({
                "seq": seq,
                "id": id.to_hex(),
                "kind": r.as_ref().map(|r| r.header.kind.name()),
                "created_at": r.as_ref().map(|r| rfc3339_ms(r.header.created_at)),
                "target": r.as_ref().and_then(|r| r.body.target()).map(|t| t.to_hex()),
            }));
        }
        let last = entries.last().and_then(|e| e["seq"].as_u64());
        let next = last.zip(head.as_ref()).is_some_and(|(l, h)| h.seq > l);
        Ok(Json(json!({
            "author": key.to_hex(),
            "member": member_code(&shared, &key),
            "head": head.map(|h| json!({"seq": h.seq, "id": h.id.to_hex()})),
            "entries": entries,
            "next_from": if next { last.map(|s| s + 1) } else { None },
        })))
    })
    .await
}

/// `GET /api/v1/forks`: every fork this node holds evidence of, with all the records.
#[utoipa::path(get, path = "/api/v1/forks", tag = "network", responses((status = 200, description = "Every fork this node holds evidence of, with all the records", body = Value)))]
pub async fn forks(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let shared = state.shared.clone();
    blocking(move || {
        let store = shared.read_store();
        let mut out = Vec::new();
        for ((author, seq), others) in store.forks() {
            let mut records = Vec::new();
            if let Some(id) = store.id_at(author, *seq)?
                && let Some(r) = store.get(&id)?
            {
                records.push(json!({"in_log": true, "record": record_json(&r)}));
            }
            for s in others {
                if let Some(r) = store.get(&s.id())? {
                    records.push(json!({"in_log": false, "record": record_json(&r)}));
                }
            }
            out.push(json!({
                "author": author.to_hex(),
                "member": member_code(&shared, author),
                "seq": seq,
                "records": records,
            }));
        }
        Ok(Json(Value::Array(out)))
    })
    .await
}
