//! Feeds, exports and citations over HTTP: the query filters of `GET /api/v1/records` select the
//! records, [`crate::feeds`] writes the formats.

use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use utoipa::IntoParams;

use super::guard::Client;
use super::openapi::{Problem, QueryParams};
use super::query::{current_of, parse_query};
use super::{ApiError, AppState, blocking, parse_id};
use crate::current::Current;
use crate::edge::Scheme;
use crate::feeds;
use crate::search::{Query, Sort};
use crate::shared::Shared;
use hubnet_protocol::RecordId;

/// The most records a feed carries (the soonest events, the newest practices).
pub const FEED_MAX: usize = 1000;
/// How far back the events feed reaches when `start_from` is not given: a year.
pub const FEED_PAST_MS: i64 = 365 * 24 * 3600 * 1000;
/// The most records one export carries; beyond, page with `limit` and `cursor`.
pub const EXPORT_MAX: usize = 10_000;
/// Programmes loaded at a time while an IATI file is written.
const IATI_CHUNK: usize = 16;

/// Options of the feeds, exports and citations beside the query filters.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct FormatParams {
    /// The language to write texts in (falls back to English, then Russian, then any).
    display_lang: Option<String>,
}

/// The export's format.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ExportParams {
    /// `csv`, `json`, `ndjson`, or `iati`: joint programmes as an IATI activity XML 2.03 file
    /// (`kind=programme` is implied, and `kind` may name no other kind).
    #[param(pattern = "^(csv|json|ndjson|iati)$")]
    format: String,
}

/// The citation's format.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct CitationParams {
    /// `bibtex` (the default) or `csl-json`.
    #[param(pattern = "^(bibtex|csl-json)$")]
    format: Option<String>,
    /// The language to write texts in.
    display_lang: Option<String>,
}

/// The node's address as the client reached it (`Host`, and the scheme the guard found: TLS, or
/// a trusted proxy's `X-Forwarded-Proto`), for links in feeds, exports, citations and pages.
pub struct BaseUrl(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BaseUrl {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Ok(client) = Client::from_request_parts(parts, state).await;
        Ok(BaseUrl(base_url(&parts.headers, client.scheme)))
    }
}

fn base_url(headers: &HeaderMap, scheme: Scheme) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("127.0.0.1");
    let scheme = match scheme {
        Scheme::Http => "http",
        Scheme::Https => "https",
    };
    format!("{scheme}://{host}")
}

fn extra<'a>(extras: &'a [(String, String)], name: &str) -> Option<&'a str> {
    extras
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn display_lang(extras: &[(String, String)]) -> Result<Option<String>, ApiError> {
    match extra(extras, "display_lang") {
        None | Some("") => Ok(None),
        Some(l) if l.len() <= 35 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') => {
            Ok(Some(l.to_owned()))
        }
        Some(l) => Err(ApiError::BadRequest(format!(
            "parameter `display_lang`: {l:?} is not a language tag"
        ))),
    }
}

/// Parses the query for a feed or an export: no `limit`/`cursor` given means "up to `max`".
fn feed_query(
    state: &AppState,
    raw: Option<&str>,
    extra: &[&str],
    max: usize,
) -> Result<(Query, Vec<(String, String)>), ApiError> {
    let (mut q, extras) = parse_query(&state.shared, raw, extra)?;
    // A page size given is kept; otherwise (first call or a cursor alone) up to `max`.
    let paged =
        url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).any(|(k, _)| k == "limit");
    if !paged {
        q.limit = max;
    }
    Ok((q, extras))
}

/// What both feeds start from: the query (records of `kind` only, retracted ones included, up
/// to [`FEED_MAX`]), the display language and the base URL for links.
fn feed(
    state: &AppState,
    base: String,
    raw: Option<&str>,
    kind: &str,
) -> Result<(Query, Option<String>, String), ApiError> {
    let (mut q, extras) = feed_query(state, raw, &["display_lang"], FEED_MAX)?;
    let lang = display_lang(&extras)?;
    q.kinds = vec![kind.to_owned()];
    q.include_retracted = true;
    Ok((q, lang, base))
}

pub(super) fn text(kind: &'static str, body: String, filename: Option<&str>) -> Response {
    let mut r = ([(header::CONTENT_TYPE, kind)], body).into_response();
    if let Some(f) = filename
        && let Ok(v) = format!("attachment; filename=\"{f}\"").parse()
    {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// Runs `q` and hands its records to `render`, each loaded as `render` reaches it, so that a
/// feed holds what it writes, not every record it covers.
fn each_record<T>(
    shared: &Shared,
    q: &Query,
    render: impl FnOnce(&mut dyn Iterator<Item = Current>) -> T,
) -> Result<T, ApiError> {
    let page = shared
        .search
        .search(q)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut failed = None;
    let out = render(&mut super::stream::records(shared, &page.hits, &mut failed));
    match failed {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// An Atom feed of `kind` (one of the guard's stream places held while it is written).
async fn atom(
    state: &AppState,
    base: String,
    raw: Option<&str>,
    kind: hubnet_protocol::Kind,
    title: &'static str,
) -> Result<Response, ApiError> {
    let (q, lang, base) = feed(state, base, raw, kind.name())?;
    let permit = state.guard.stream()?;
    let shared = state.shared.clone();
    blocking(move || {
        let _permit = permit;
        let erased = shared.read_store().erased_of_kind(kind)?;
        let body = each_record(&shared, &q, |items| {
            feeds::atom::feed(
                kind.name(),
                items,
                &erased,
                &shared.charter(),
                &base,
                title,
                lang.as_deref(),
                crate::now_ms(),
            )
        })?;
        Ok(text("application/atom+xml; charset=utf-8", body, None))
    })
    .await
}

/// `GET /feeds/events.ics`: events (and, when asked with `kind`, joint programmes) as an
/// iCalendar feed.
#[utoipa::path(get, path = "/feeds/events.ics", tag = "feeds", params(QueryParams, FormatParams),
    responses((status = 200, description = "RFC 5545 iCalendar: one VEVENT per event, with its time zone; cancelled and retracted events as STATUS:CANCELLED. Events only unless the query's `kind` asks for programmes (`kind=programme`, or `kind=event&kind=programme` for both; no other kind): each programme an all-day VEVENT from its planned start to its planned end (DTEND the day after, exclusive), STATUS:CANCELLED when cancelled or retracted, TENTATIVE when suspended. Retracted ones included, soonest first, from a year back unless `start_from` says otherwise, at most 1,000", content_type = "text/calendar"),
              (status = 400, description = "A bad parameter, or a `kind` other than `event` and `programme`", body = Problem, content_type = "application/problem+json")))]
pub async fn events_ics(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    // Subscribers learn of a retraction as a cancellation, so retracted events stay in.
    let (mut q, extras) = feed_query(&state, raw.as_deref(), &["display_lang"], FEED_MAX)?;
    let lang = display_lang(&extras)?;
    q.include_retracted = true;
    if q.kinds.is_empty() {
        q.kinds = vec!["event".to_owned()];
    }
    if let Some(other) = q
        .kinds
        .iter()
        .find(|k| !matches!(k.as_str(), "event" | "programme"))
    {
        return Err(ApiError::BadRequest(format!(
            "parameter `kind`: the calendar carries `event` and `programme`, not {other:?}"
        )));
    }
    if q.q.is_none() {
        q.sort = Sort::Start;
    }
    // Without a lower bound, the feed starts a year back: subscribers want what is coming, and
    // past events would otherwise crowd upcoming ones out of the feed's 1,000.
    if q.start_from.is_none() {
        q.start_from = Some(crate::now_ms().saturating_sub(FEED_PAST_MS));
    }
    let permit = state.guard.stream()?;
    let shared = state.shared.clone();
    blocking(move || {
        let _permit = permit;
        let charter = shared.charter();
        let title =
            crate::lang::pick_in(charter.name(), lang.as_deref()).map_or("hubnet", |(_, t)| t);
        let body = each_record(&shared, &q, |items| {
            feeds::ics::events(items, &base, title, lang.as_deref(), crate::now_ms())
        })?;
        Ok(text("text/calendar; charset=utf-8", body, None))
    })
    .await
}

/// `GET /feeds/practices.atom`: practices as an Atom feed, newest first.
#[utoipa::path(get, path = "/feeds/practices.atom", tag = "feeds", params(QueryParams, FormatParams),
    responses((status = 200, description = "RFC 4287 Atom feed of practices (retracted ones included and marked), newest first unless `sort` says otherwise, at most 1,000", content_type = "application/atom+xml"),
              (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json")))]
pub async fn practices_atom(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    // Readers learn of a retraction: retracted practices stay in, marked.
    atom(
        &state,
        base,
        raw.as_deref(),
        hubnet_protocol::Kind::Practice,
        "hubnet: practices",
    )
    .await
}

/// `GET /feeds/reform-profiles.atom`: reform profiles as an Atom feed, newest first.
#[utoipa::path(get, path = "/feeds/reform-profiles.atom", tag = "feeds", params(QueryParams, FormatParams),
    responses((status = 200, description = "RFC 4287 Atom feed of reform profiles (retracted ones included and marked; reform areas as categories in urn:hubnet:area), newest first unless `sort` says otherwise, at most 1,000", content_type = "application/atom+xml"),
              (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json")))]
pub async fn reform_profiles_atom(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    atom(
        &state,
        base,
        raw.as_deref(),
        hubnet_protocol::Kind::ReformProfile,
        "hubnet: reform profiles",
    )
    .await
}

/// `GET /feeds/programmes.atom`: joint programmes as an Atom feed, newest first.
#[utoipa::path(get, path = "/feeds/programmes.atom", tag = "feeds", params(QueryParams, FormatParams),
    responses((status = 200, description = "RFC 4287 Atom feed of joint programmes (retracted ones included and marked; topics as categories in urn:hubnet:topic; the lead as author; objectives, else description, as summary), newest first unless `sort` says otherwise, at most 1,000", content_type = "application/atom+xml"),
              (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json")))]
pub async fn programmes_atom(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    atom(
        &state,
        base,
        raw.as_deref(),
        hubnet_protocol::Kind::Programme,
        "hubnet: programmes",
    )
    .await
}

/// `GET /api/v1/export?format=csv|json|ndjson|iati`: the records a query selects, in one file.
#[utoipa::path(get, path = "/api/v1/export", tag = "feeds", params(ExportParams, QueryParams, FormatParams),
    responses((status = 200, description = "CSV (one row per record, with its signed bytes in base64; a programme's planned days in `event_start`/`event_end` and its status in `programme_status`), a JSON array or NDJSON of query results; without `limit`/`cursor`, up to 10,000 records. After the last page, the erased records the query covers (when it filters on kinds, countries and authors only): header and signature with their erasure, no content (`erased` true). `format=iati`: an IATI activity XML 2.03 file (`application/xml`) with one `iati-activity` per joint programme the query selects; `kind=programme` is implied (another `kind` is refused), retracted and erased programmes are left out; identifiers `XM-HUBNET-<lead>-<record id>`, roles mapped lead 3 Extending, funding 1, accountable 2, implementing 4, beneficiary none (docs/README: IATI export). It validates against the IATI 2.03 schema, which requires at least one activity: a query that selects no programme gives an empty, well-formed `iati-activities`"),
              (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json")))]
pub async fn export(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let (q, extras) = feed_query(
        &state,
        raw.as_deref(),
        &["format", "display_lang"],
        EXPORT_MAX,
    )?;
    let lang = display_lang(&extras)?;
    let format = extra(&extras, "format").unwrap_or("").to_owned();
    if !matches!(format.as_str(), "csv" | "json" | "ndjson" | "iati") {
        return Err(ApiError::BadRequest(format!(
            "parameter `format`: {format:?} is not one of csv, json, ndjson, iati"
        )));
    }
    let mut q = q;
    if format == "iati" {
        if let Some(other) = q.kinds.iter().find(|k| *k != "programme") {
            return Err(ApiError::BadRequest(format!(
                "parameter `kind`: `format=iati` exports programmes only, not {other:?}"
            )));
        }
        q.kinds = vec!["programme".to_owned()];
    }
    let permit = state.guard.stream()?;
    let shared = state.shared.clone();
    // The search (ids only) first, for the headers; the records are loaded as they are written.
    let iati = format == "iati";
    let (page, erased) = blocking({
        let shared = shared.clone();
        move || {
            let page = shared
                .search
                .search(&q)
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            let erased = if page.next_cursor.is_none() && !iati {
                erased_items(&shared, &q)?
            } else {
                Vec::new()
            };
            Ok((page, erased))
        }
    })
    .await?;
    let (kind, file) = match format.as_str() {
        "iati" => (
            "application/xml; charset=utf-8",
            "hubnet-iati-activities.xml",
        ),
        "csv" => ("text/csv; charset=utf-8", "hubnet-records.csv"),
        "ndjson" => ("application/x-ndjson", "hubnet-records.ndjson"),
        _ => ("application/json", "hubnet-records.json"),
    };
    let total = page.total;
    let next_cursor = page.next_cursor.clone();
    let body = super::stream::body(permit, "export", move |out| {
        let mut failed = None;
        let hits = &page.hits;
        let written = match format.as_str() {
            "iati" => {
                let charter = shared.charter();
                let chunks = hits.chunks(IATI_CHUNK).map(|chunk| {
                    let mut failed = None;
                    let items: Vec<Current> =
                        super::stream::records(&shared, chunk, &mut failed).collect();
                    if let Some(e) = failed {
                        return Err(super::stream::io_error(e));
                    }
                    let named = iati_named(&shared, &items).map_err(super::stream::io_error)?;
                    Ok((items, named))
                });
                feeds::iati::write_activities(&mut *out, chunks, &charter, &base, crate::now_ms())
                    .map_err(std::io::Error::other)
            }
            "csv" => {
                let items = super::stream::records(&shared, hits, &mut failed).chain(erased);
                feeds::export::write_csv(&mut *out, items, lang.as_deref())
            }
            "ndjson" => {
                let items = super::stream::records(&shared, hits, &mut failed).chain(erased);
                feeds::export::write_ndjson(&mut *out, items)
            }
            _ => {
                let items = super::stream::records(&shared, hits, &mut failed).chain(erased);
                feeds::export::write_json(&mut *out, items)
            }
        };
        written?;
        match failed {
            Some(e) => Err(super::stream::io_error(e)),
            None => Ok(()),
        }
    });
    let mut r = (
        axum::Extension(super::stream::Streamed),
        [(header::CONTENT_TYPE, kind)],
        body,
    )
        .into_response();
    if let Ok(v) = format!("attachment; filename=\"{file}\"").parse() {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = total.to_string().parse() {
        r.headers_mut().insert("x-total-count", v);
    }
    if let Some(c) = next_cursor.as_deref().and_then(|c| c.parse().ok()) {
        r.headers_mut().insert("x-next-cursor", c);
    }
    Ok(r)
}

/// What the programmes among `items` name beyond themselves, for their IATI activities: the
/// institutions taking part, as in force (left out when the node cannot show one), and the lead
/// of each related programme held.
fn iati_named(shared: &Shared, items: &[Current]) -> Result<feeds::iati::Named, ApiError> {
    let mut named = feeds::iati::Named::default();
    for item in items {
        let Some(p) = item.content().and_then(crate::kinds::Content::programme) else {
            continue;
        };
        for participant in &p.participants {
            let Some(hubnet_proto::v1::participant::Who::InstitutionId(bytes)) = &participant.who
            else {
                continue;
            };
            let Some(id) = feeds::iati::record_id(bytes) else {
                continue;
            };
            if named.institutions.contains_key(&id) {
                continue;
            }
            // An institution the node cannot show (not held, erased, not counting) keeps its
            // reference in the file, without a name.
            let institution = match current_of(shared, &id) {
                Ok(c) => c
                    .content()
                    .and_then(crate::kinds::Content::institution)
                    .cloned(),
                Err(ApiError::NotFound(_)) => None,
                Err(e) => return Err(e),
            };
            if let Some(institution) = institution {
                named.institutions.insert(id, institution);
            }
        }
        let store = shared.read_store();
        for related in &p.related {
            let Some(id) = feeds::iati::record_id(&related.id) else {
                continue;
            };
            if let Some(r) = store.get(&id)? {
                named.programme_leads.insert(id, r.member.clone());
            }
        }
    }
    Ok(named)
}

/// The erased records an export covers, after its last page (docs/PROTOCOL.md §2.1): header
/// and signature with the erasure's proof, no content. Only a query that asks nothing of content
/// (kinds, countries and authors at most) can cover them: their text is gone.
fn erased_items(shared: &Shared, q: &Query) -> Result<Vec<Current>, ApiError> {
    let content_filter = q.q.is_some()
        || !q.topics.is_empty()
        || !q.areas.is_empty()
        || !q.langs.is_empty()
        || !q.refs.is_empty()
        || q.created_from.is_some()
        || q.created_to.is_some()
        || q.start_from.is_some()
        || q.start_to.is_some();
    if content_filter {
        return Ok(Vec::new());
    }
    let store = shared.read_store();
    let mut ids: Vec<RecordId> = store.erased().keys().copied().collect();
    ids.sort();
    let mut out = Vec::new();
    for id in ids {
        let Some(r) = store.get(&id)? else {
            continue;
        };
        let kind = r.header.kind;
        if !kind.is_content()
            || (!q.kinds.is_empty() && !q.kinds.iter().any(|k| k == kind.name()))
            || (!q.countries.is_empty() && !q.countries.contains(&r.member))
            || (!q.authors.is_empty() && !q.authors.contains(&r.header.author.to_hex()))
        {
            continue;
        }
        out.push(Current {
            original: r,
            amendment: None,
            retraction: None,
        });
    }
    Ok(out)
}

/// `GET /api/v1/records/{id}/citation?format=bibtex|csl-json`.
#[utoipa::path(get, path = "/api/v1/records/{id}/citation", tag = "records",
    params(("id" = super::openapi::RecordIdParam, Path, description = "Id of a practice, event, reform profile, institution, expert profile or programme"), CitationParams),
    responses((status = 200, description = "A BibTeX entry or a CSL-JSON item citing the record's stable page"),
              (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such practice or event", body = Problem, content_type = "application/problem+json")))]
pub async fn citation(
    State(state): State<AppState>,
    Path(id): Path<String>,
    BaseUrl(base): BaseUrl,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let mut format = None;
    let mut lang = None;
    for (k, v) in super::query::single_valued(raw.as_deref())? {
        match k.as_str() {
            "format" => format = Some(v),
            "display_lang" => lang = display_lang(&[(k, v)])?,
            other => {
                return Err(ApiError::BadRequest(format!(
                    "unknown parameter `{other}`; known parameters: format, display_lang"
                )));
            }
        }
    }
    let format = format.unwrap_or_else(|| "bibtex".into());
    if format != "bibtex" && format != "csl-json" {
        return Err(ApiError::BadRequest(format!(
            "parameter `format`: {format:?} is not one of bibtex, csl-json"
        )));
    }
    let shared = state.shared.clone();
    blocking(move || {
        let c = current_of(&shared, &id)?;
        let name =
            crate::lang::member_name(&shared.charter(), c.member(), lang.as_deref()).to_owned();
        let short = id.to_hex();
        let short = short.get(..12).unwrap_or_default();
        Ok(if format == "bibtex" {
            text(
                "application/x-bibtex; charset=utf-8",
                feeds::cite::bibtex(&c, &base, &name, lang.as_deref()),
                Some(&format!("hubnet-{short}.bib")),
            )
        } else {
            let v: Value = feeds::cite::csl_json(&c, &base, &name, lang.as_deref());
            text(
                "application/vnd.citationstyles.csl+json",
                v.to_string(),
                Some(&format!("hubnet-{short}.json")),
            )
        })
    })
    .await
}
