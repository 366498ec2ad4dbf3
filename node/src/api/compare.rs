//! Reform profiles across countries and over time, over HTTP.
//!
//! ```text
//! GET /api/v1/compare?country=KZ&country=KG[&area=…][&indicator=…][&as_of=…][&format=csv]
//! GET /api/v1/countries/{code}   a member's profiles over time, what changed, its practices
//!                                and events
//! ```

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use utoipa::IntoParams;

use super::openapi::Problem;
use super::query::run_query;
use super::{ApiError, AppState, blocking};
use crate::compare::{self, CompareRequest};
use crate::current::Current;
use crate::search::{Query, Sort};
use crate::shared::Shared;

/// The most reform profiles one request reads, shared evenly between the countries it asks for.
pub const MAX_PROFILES: usize = 10_000;

/// The most practices and events a country page lists.
pub const COUNTRY_RECORDS: usize = 50;

/// The most reform profiles a country page lists (the latest by `as_of`; `profiles_total` says
/// how many there are): a member publishes one a year or so, and an answer with every one of
/// thousands (a flood from a stolen key) would be tens of megabytes.
pub const COUNTRY_PROFILES: usize = 100;

/// The parameters of `GET /api/v1/compare`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct CompareParams {
    /// A member state's code (`KZ`); give 2 to 4, each once.
    #[param(style = Form, explode, min_items = 2, max_items = 4)]
    country: Vec<String>,
    /// A reform area (or topic) of the vocabulary: only indicators of these areas; repeatable.
    #[param(style = Form, explode)]
    area: Option<Vec<String>>,
    /// An indicator code of the catalogue (`hub:merit-recruitment-share`); repeatable.
    #[param(style = Form, explode)]
    indicator: Option<Vec<String>>,
    /// The profiles in force at this date, `YYYY-MM-DD` (default: the latest).
    #[param(pattern = r"^\d{4}-\d{2}-\d{2}$")]
    as_of: Option<String>,
    /// `json` (default) or `csv`.
    #[param(pattern = "^(json|csv)$")]
    format: Option<String>,
    /// The language of the CSV's texts.
    display_lang: Option<String>,
}

/// Every reform profile of `countries` the index holds (retracted ones left out), the newest
/// [`MAX_PROFILES`] shared evenly between them.
fn profiles(shared: &Shared, countries: &[String]) -> Result<Vec<Current>, ApiError> {
    profiles_up_to(shared, countries, MAX_PROFILES / countries.len().max(1))
}

/// [`profiles`], at most `limit` of each country. One query per country: with one query for
/// all, a member publishing more than the limit (a stolen key, say) pushed every other
/// country's profiles out of the answer, and their columns of a comparison went empty.
pub(super) fn profiles_up_to(
    shared: &Shared,
    countries: &[String],
    limit: usize,
) -> Result<Vec<Current>, ApiError> {
    let mut all = Vec::new();
    for country in countries {
        let q = Query {
            kinds: vec!["reform_profile".into()],
            countries: vec![country.clone()],
            sort: Sort::Newest,
            limit,
            ..Query::default()
        };
        all.extend(run_query(shared, &q)?.0);
    }
    Ok(all)
}

/// `GET /api/v1/compare`: the profile in force for each country and an indicator-by-country
/// matrix, every cell with its value, unit, year, source and record, missing values with why.
#[utoipa::path(get, path = "/api/v1/compare", tag = "profiles", params(CompareParams),
    responses((status = 200, description = "`{as_of, countries: [{country, name, profile}], indicators: [{code, name, unit, higher_is_better, reform_area, cells: [{status: value|not_available|not_reported|no_profile, value, year, unit, source, baseline, target, reason, record}]}], records: [the profiles in force, each with its signed bytes]}`; with `format=csv`, the same matrix as CSV (missing values written `n/a`, never blank)", body = Value),
        (status = 400, description = "A bad parameter: fewer than 2 or more than 4 countries, a code that is no member state, an unknown area or indicator, a bad date", body = Problem, content_type = "application/problem+json")))]
pub async fn compare(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let raw = raw.unwrap_or_default();
    let pairs = url::form_urlencoded::parse(raw.as_bytes()).into_owned();
    let req = CompareRequest::parse(pairs, &state.shared.charter())
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let shared = state.shared.clone();
    blocking(move || {
        let items = profiles(&shared, &req.countries)?;
        let charter = shared.charter();
        let c = compare::compare(&req, &items, &charter);
        if req.csv {
            let body = compare::csv(&c, charter.vocabulary(), req.display_lang.as_deref());
            let disposition = format!(
                "attachment; filename=\"hubnet-compare-{}.csv\"",
                req.countries.join("-")
            );
            return Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (header::CONTENT_DISPOSITION, disposition),
                ],
                body,
            )
                .into_response());
        }
        let records: Vec<Value> = req
            .countries
            .iter()
            .filter_map(|code| compare::in_force(&items, code, req.as_of))
            .map(|p| p.item.json())
            .collect();
        let mut v = serde_json::to_value(&c).unwrap_or(Value::Null);
        v["records"] = Value::Array(records);
        Ok(Json(v).into_response())
    })
    .await
}

/// `GET /api/v1/countries/{code}`: a member state's reform profiles over time, what changed in the
/// latest since the one before, and its newest practices and events.
#[utoipa::path(get, path = "/api/v1/countries/{code}", tag = "profiles",
    params(("code" = String, Path, description = "A member state's code (`KZ`, any case)", pattern = "^[A-Za-z]{2}$", example = "KZ")),
    responses((status = 200, description = "`{country, name, profiles: [the latest 100 by as_of, each with its signed bytes, oldest first], profiles_total, latest, previous, changes: {from, to, reforms: [{title, from, to}], indicators: [{code, from, to}]} or null, records: [{id, kind, title, created_at, start}]}`", body = Value),
        (status = 404, description = "No member state with this code", body = Problem, content_type = "application/problem+json")))]
pub async fn country(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let code = code.to_ascii_uppercase();
    let name = match state.shared.charter().member_by_code(&code) {
        Some(m) if code != "HUB" => m.name.clone(),
        _ => {
            return Err(ApiError::NotFound(format!(
                "{code:?} is not a member state of the charter"
            )));
        }
    };
    let shared = state.shared.clone();
    blocking(move || {
        let items = profiles(&shared, std::slice::from_ref(&code))?;
        let list = compare::profiles_of(&items, &code);
        let latest = list.last();
        let previous = latest.and_then(|l| compare::predecessor(&list, l));
        let changes = match (previous.as_ref(), latest) {
            (Some(p), Some(l)) => serde_json::to_value(compare::changes(p, l)).ok(),
            _ => None,
        };
        let q = Query {
            kinds: vec!["practice".into(), "event".into()],
            countries: vec![code.clone()],
            sort: Sort::Newest,
            limit: COUNTRY_RECORDS,
            ..Query::default()
        };
        let (records, page) = run_query(&shared, &q)?;
        let records: Vec<Value> = records
            .iter()
            .filter_map(|c| {
                let view = c.content()?.view();
                Some(json!({
                    "id": c.id().to_hex(),
                    "kind": view.name(),
                    "title": view.title().map(|t| &t.text),
                    "created_at": crate::view::rfc3339_ms(c.created_at()),
                    "start": c.event_start_ms().map(crate::view::rfc3339_ms),
                }))
            })
            .collect();
        Ok(Json(json!({
            "country": code,
            "name": name,
            "profiles": list[list.len().saturating_sub(COUNTRY_PROFILES)..].iter().map(|p| {
                let mut v = p.item.json();
                v["in_force"] = compare::profile_head(p);
                v
            }).collect::<Vec<_>>(),
            "profiles_total": list.len(),
            "latest": latest.map(compare::profile_head),
            "previous": previous.as_ref().map(compare::profile_head),
            "changes": changes,
            "records": records,
            "records_total": page.total,
        })))
    })
    .await
}
