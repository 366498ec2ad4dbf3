//! The directory of experts and institutions over HTTP, an institution's references and the
//! operators' list of expert profiles to re-confirm.
//!
//! ```text
//! GET /api/v1/directory[.vcf|.csv]?kind=expert|institution&topic=&country=&lang=&format=&type=&q=
//! GET /api/v1/institutions/{id}/references   every record in force that names the institution
//! GET /api/v1/admin/reconfirm?within=60       this node's member's expert profiles due [admin]
//! ```
//!
//! Kind, topic, country and full text are the search index's filters (and experts past their
//! `reconfirm_by` are left out there); working languages, formats and institution types are
//! applied to the records loaded ([`crate::directory::Filter`]).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use hubnet_protocol::RecordId;
use hubnet_protocol::kinds::expert::ExpertFormat;
use hubnet_protocol::kinds::institution::InstitutionType;
use serde_json::{Value, json};
use utoipa::IntoParams;

use super::feeds::{BaseUrl, text};
use super::openapi::Problem;
use super::query::{current_of, run_query, today_utc};
use super::{ApiError, AppState, blocking, parse_id};
use crate::current::Current;
use crate::directory::{self, DirectoryKind, Filter};
use crate::lang::pick;
use crate::search::{Query, Sort};
use crate::shared::Shared;

/// The most entries one directory answer or references list carries.
pub const DIRECTORY_MAX: usize = 10_000;

/// How far ahead `GET /api/v1/admin/reconfirm` looks by default, and at most (days).
pub const RECONFIRM_WITHIN_DEFAULT: u64 = 60;
const RECONFIRM_WITHIN_MAX: u64 = 3660;

/// The directory's filters.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct DirectoryParams {
    /// `expert` or `institution` (default: both).
    #[param(pattern = "^(expert|institution)$")]
    kind: Option<String>,
    /// A topic slug of the vocabulary; repeatable.
    #[param(style = Form, explode)]
    topic: Option<Vec<String>>,
    /// ISO 3166-1 alpha-2 code or `HUB` (an expert's: its publishing member's); repeatable.
    #[param(style = Form, explode)]
    country: Option<Vec<String>>,
    /// A working language (BCP 47; `ru` also matches `ru-KZ`); repeatable.
    #[param(style = Form, explode)]
    lang: Option<Vec<String>>,
    /// An expert format: `peer_review`, `expert_mission`, `study_visit`, `speaker`,
    /// `mentoring`, `workshop`; repeatable.
    #[param(style = Form, explode)]
    format: Option<Vec<String>>,
    /// An institution type: `ministry`, `civil_service_agency`, `academy_or_school`,
    /// `university`, `international_organisation`, `other`; repeatable.
    #[param(style = Form, explode)]
    r#type: Option<Vec<String>>,
    /// Full text (names, positions, summaries, mandates).
    q: Option<String>,
    /// The language of the texts of the vCard and CSV exports.
    display_lang: Option<String>,
}

/// The operators' list's horizon.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ReconfirmParams {
    /// Profiles whose `reconfirm_by` is past or within this many days.
    #[param(minimum = 0, maximum = 3660, default = 60)]
    within: Option<u64>,
}

/// A directory request: the index query and the filters applied after it.
struct Request {
    query: Query,
    filter: Filter,
    display_lang: Option<String>,
}

fn bad(param: &str, value: &str, expected: &str) -> ApiError {
    ApiError::BadRequest(format!("parameter `{param}`: {value:?} is not {expected}"))
}

fn parse_request(
    shared: &Shared,
    raw: Option<&str>,
    today: chrono::NaiveDate,
) -> Result<Request, ApiError> {
    let mut filter = Filter::default();
    let mut display_lang = None;
    let mut kinds = Vec::new();
    let mut indexed = Vec::new();
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned()
    {
        let value = value.trim().to_owned();
        match key.as_str() {
            "kind" => match value.as_str() {
                "expert" | "institution" => kinds.push(value),
                _ => return Err(bad("kind", &value, "`expert` or `institution`")),
            },
            "topic" | "country" | "q" => indexed.push((key, value)),
            "lang" => {
                if !hubnet_protocol::validate::is_language_tag(&value) {
                    return Err(bad("lang", &value, "a BCP 47 language tag"));
                }
                let primary = value
                    .split('-')
                    .next()
                    .unwrap_or(&value)
                    .to_ascii_lowercase();
                filter.langs.push(primary);
            }
            "format" => filter.formats.push(
                ExpertFormat::from_name(&value)
                    .ok_or_else(|| bad("format", &value, "an expert format"))?,
            ),
            "type" => filter.types.push(
                InstitutionType::from_name(&value)
                    .ok_or_else(|| bad("type", &value, "an institution type"))?,
            ),
            "display_lang" if value.len() <= 35 => display_lang = Some(value),
            _ => {
                return Err(ApiError::BadRequest(format!(
                    "unknown parameter `{}`",
                    key.chars().take(80).collect::<String>()
                )));
            }
        }
    }
    let (mut query, _) = Query::parse(indexed, &[], &shared.charter())
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    if kinds.is_empty() {
        kinds = vec![
            DirectoryKind::Expert.name().into(),
            DirectoryKind::Institution.name().into(),
        ];
    }
    query.kinds = kinds;
    query.sort = Sort::Newest;
    query.limit = DIRECTORY_MAX;
    query.listed_on = Some(today);
    Ok(Request {
        query,
        filter,
        display_lang,
    })
}

/// The entries a request selects, by name in the display language.
fn entries(shared: &Shared, r: &Request) -> Result<Vec<Current>, ApiError> {
    let (items, _) = run_query(shared, &r.query)?;
    let mut items: Vec<Current> = items
        .into_iter()
        .filter(|c| c.content().is_some_and(|c| r.filter.keeps(c)))
        .collect();
    let lang = r.display_lang.as_deref();
    items.sort_by_cached_key(|c| {
        (
            c.content()
                .map(|c| pick(c.view().title(), lang).to_lowercase())
                .unwrap_or_default(),
            c.id(),
        )
    });
    Ok(items)
}

/// The names of the institution records the experts among `items` name by id, in `lang`.
fn institution_names(
    shared: &Shared,
    items: &[Current],
    lang: Option<&str>,
) -> BTreeMap<Vec<u8>, String> {
    let mut names = BTreeMap::new();
    for e in items.iter().filter_map(|c| c.content()?.expert()) {
        if let Some(hubnet_proto::v1::expert::Institution::InstitutionId(id)) = &e.institution
            && !names.contains_key(id)
            && let Ok(rid) = <[u8; 32]>::try_from(id.as_slice()).map(RecordId)
            && let Ok(c) = current_of(shared, &rid)
            && let Some(i) = c.content().and_then(|c| c.institution())
        {
            names.insert(id.clone(), pick(i.name.as_ref(), lang).to_owned());
        }
    }
    names
}

/// `GET /api/v1/directory`.
#[utoipa::path(get, path = "/api/v1/directory", tag = "directory", params(DirectoryParams),
    responses((status = 200, description = "`{entries, total}`: experts and institutions by name; each entry `{id, kind, member, name, country, topics, languages, updated_at, sample}` and, for an expert, `position`, `institution` (`{id}` or `{name}`), `formats`, `public_official`, `contact_email`, `reconfirm_by`; for an institution `type`, `website`, `wikidata`, `ror`, `parent`, `contact_email`. Experts past their `reconfirm_by` (UTC, the node's clock) are not listed", body = Value, links(
        ("references" = (operation_id = "references", parameters(("id" = "$response.body#/entries/0/id")), description = "The records naming the first entry, when it is an institution (ask with `kind=institution`)")),
        ("record" = (operation_id = "record", parameters(("id" = "$response.body#/entries/0/id")), description = "The first entry's record as stored")))),
        (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json")))]
pub async fn directory_json(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let r = parse_request(&state.shared, raw.as_deref(), today_utc(crate::now_ms()))?;
    let shared = state.shared.clone();
    blocking(move || {
        let items = entries(&shared, &r)?;
        let list: Vec<Value> = items.iter().filter_map(directory::entry_json).collect();
        Ok(Json(json!({"total": list.len(), "entries": list})))
    })
    .await
}

/// `GET /api/v1/directory.vcf`.
#[utoipa::path(get, path = "/api/v1/directory.vcf", tag = "directory", params(DirectoryParams),
    responses((status = 200, description = "vCard 4.0 (RFC 6350): one card per entry of the directory with the same filters (`KIND`, `FN`, `ORG`, `TITLE`, `EMAIL`, `URL`, `LANG`, `CATEGORIES`, `NOTE`, `SOURCE`, `UID`, `REV`)", content_type = "text/vcard"),
        (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json")))]
pub async fn directory_vcf(
    State(state): State<AppState>,
    base: BaseUrl,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    export(state, base, raw, ExportFormat::Vcard).await
}

/// `GET /api/v1/directory.csv`.
#[utoipa::path(get, path = "/api/v1/directory.csv", tag = "directory", params(DirectoryParams),
    responses((status = 200, description = "CSV (RFC 4180), one row per entry of the directory with the same filters; columns `id, kind, member, name, position, institution, type, country, topics, languages, formats, contact_email, url`", content_type = "text/csv"),
        (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json")))]
pub async fn directory_csv(
    State(state): State<AppState>,
    base: BaseUrl,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    export(state, base, raw, ExportFormat::Csv).await
}

#[derive(Clone, Copy)]
enum ExportFormat {
    Vcard,
    Csv,
}

async fn export(
    state: AppState,
    BaseUrl(base): BaseUrl,
    raw: Option<String>,
    format: ExportFormat,
) -> Result<Response, ApiError> {
    let r = parse_request(&state.shared, raw.as_deref(), today_utc(crate::now_ms()))?;
    let shared = state.shared.clone();
    blocking(move || {
        let items = entries(&shared, &r)?;
        let lang = r.display_lang.as_deref();
        let names = institution_names(&shared, &items, lang);
        let name = |id: &[u8]| names.get(id).cloned();
        Ok(match format {
            ExportFormat::Vcard => text(
                "text/vcard; charset=utf-8",
                directory::vcards(&items, lang, &base, &name),
                Some("hubnet-directory.vcf"),
            ),
            ExportFormat::Csv => text(
                "text/csv; charset=utf-8",
                directory::csv(&items, lang, &base, &name),
                Some("hubnet-directory.csv"),
            ),
        })
    })
    .await
}

/// `GET /api/v1/institutions/{id}/references`.
#[utoipa::path(get, path = "/api/v1/institutions/{id}/references", tag = "directory",
    params(("id" = super::openapi::RecordIdParam, Path, description = "Record id of an institution, 64 hex digits")),
    responses((status = 200, description = "`{institution, records}`: every record in force that names the institution (practices, events, reform profiles by `institution_ids`, experts by institution or affiliation, institutions by `parent`), not retracted, each `{id, kind, member, title, updated_at}`; experts past their `reconfirm_by` left out", body = Value),
        (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such institution", body = Problem, content_type = "application/problem+json")))]
pub async fn references(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    let shared = state.shared.clone();
    let today = today_utc(crate::now_ms());
    blocking(move || {
        let c = current_of(&shared, &id)?;
        if c.content().and_then(|c| c.institution()).is_none() {
            return Err(ApiError::NotFound(format!(
                "record {id} is not an institution"
            )));
        }
        let q = Query {
            refs: vec![id.to_hex()],
            sort: Sort::Newest,
            limit: DIRECTORY_MAX,
            listed_on: Some(today),
            ..Query::default()
        };
        let (items, _) = run_query(&shared, &q)?;
        let records: Vec<Value> = items
            .iter()
            .filter_map(|c| {
                let view = c.content()?.view();
                Some(json!({
                    "id": c.id().to_hex(),
                    "kind": view.name(),
                    "member": c.member(),
                    "title": view.title().map(|t| &t.text),
                    "updated_at": crate::view::rfc3339_ms(c.updated_at()),
                }))
            })
            .collect();
        Ok(Json(
            json!({"institution": id.to_hex(), "records": records}),
        ))
    })
    .await
}

/// `GET /api/v1/admin/reconfirm`.
#[utoipa::path(get, path = "/api/v1/admin/reconfirm", tag = "directory", security(("admin_token" = [])), params(ReconfirmParams),
    responses((status = 200, description = "`{member, today, within, profiles}`: this node's member's expert profiles (the version in force, not retracted) whose `reconfirm_by` is past (`lapsed`: no longer listed) or within `within` days, soonest first, each `{id, name, reconfirm_by, lapsed}`; re-confirm one by publishing an amendment with a new `reconfirm_by`", body = Value),
        (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or a wrong token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "This node publishes for no member", body = Problem, content_type = "application/problem+json")))]
pub async fn reconfirm(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    // The admin token was checked by the guard.
    let mut within = RECONFIRM_WITHIN_DEFAULT;
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "within" => {
                within = value
                    .parse()
                    .ok()
                    .filter(|d| *d <= RECONFIRM_WITHIN_MAX)
                    .ok_or_else(|| bad("within", &value, "a number of days, 0 to 3660"))?;
            }
            k => {
                return Err(ApiError::BadRequest(format!(
                    "unknown parameter `{}`",
                    k.chars().take(80).collect::<String>()
                )));
            }
        }
    }
    let Some(member) = state.shared.member.clone() else {
        return Err(ApiError::Forbidden(
            "this node publishes for no member: it has no profiles to re-confirm".into(),
        ));
    };
    let shared = state.shared.clone();
    let today = today_utc(crate::now_ms());
    blocking(move || {
        // An expert's country is its publishing member's code (a body rule).
        let q = Query {
            kinds: vec![DirectoryKind::Expert.name().into()],
            countries: vec![member.clone()],
            sort: Sort::Newest,
            limit: DIRECTORY_MAX,
            ..Query::default()
        };
        let (items, _) = run_query(&shared, &q)?;
        let profiles: Vec<Value> = directory::due(&items, today, within, None)
            .into_iter()
            .filter(|d| d.member == member)
            .map(|d| {
                json!({"id": d.id.to_hex(), "name": d.name, "reconfirm_by": d.reconfirm_by, "lapsed": d.lapsed})
            })
            .collect();
        Ok(Json(json!({
            "member": member,
            "today": today.format("%Y-%m-%d").to_string(),
            "within": within,
            "profiles": profiles,
        })))
    })
    .await
}
