//! `GET` and `POST /oai`: the OAI-PMH 2.0 data provider (`crate::oai`). Arguments come from the
//! query (GET) or an `application/x-www-form-urlencoded` body (POST); every answer to a request,
//! malformed or not, is an OAI-PMH document (HTTP 200, `text/xml`), errors included.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use super::feeds::BaseUrl;
use super::{ApiError, AppState, blocking};

/// The form media type a POST must carry.
const FORM: &str = "application/x-www-form-urlencoded";

/// `GET /oai?verb=…`.
#[utoipa::path(get, path = "/oai", tag = "feeds",
    params(
        ("verb" = String, Query, description = "Identify, ListMetadataFormats, ListSets, GetRecord, ListIdentifiers or ListRecords"),
        ("metadataPrefix" = Option<String>, Query, description = "`oai_dc` (the only format)"),
        ("identifier" = Option<String>, Query, description = "`oai:{repositoryIdentifier}:{record id}`: the repository identifier is the network's English name in lower case with hyphens (every header of a list shows it)"),
        ("set" = Option<String>, Query, description = "`kind`, `kind:{kind}` (practice, event, reform_profile, institution, expert, programme), `country`, `country:{member code}`"),
        ("from" = Option<String>, Query, description = "UTC, `YYYY-MM-DD` or `YYYY-MM-DDThh:mm:ssZ` (the same granularity as `until`); datestamps are when this node saw an item's latest change"),
        ("until" = Option<String>, Query, description = "UTC, `YYYY-MM-DD` or `YYYY-MM-DDThh:mm:ssZ`"),
        ("resumptionToken" = Option<String>, Query, description = "An exclusive argument: the token of the page before"),
    ),
    responses((status = 200, description = "An OAI-PMH 2.0 response (http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd); errors (badVerb, badArgument, badResumptionToken, cannotDisseminateFormat, idDoesNotExist, noRecordsMatch) are `error` elements of a 200 answer as the protocol says. Retracted and erased records are headers with `status=\"deleted\"` (deletedRecord: persistent); lists come in pages of 100 headers or 50 records with a resumption token", content_type = "text/xml")))]
pub async fn oai_get(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    answer(state, base, Some(raw.unwrap_or_default().into_bytes())).await
}

/// `POST /oai` with the arguments as a form.
#[utoipa::path(post, path = "/oai", tag = "feeds",
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "The arguments of `GET /oai`, form-encoded"),
    responses((status = 200, description = "An OAI-PMH 2.0 response, as `GET /oai` gives; a body of another media type is badArgument", content_type = "text/xml")))]
pub async fn oai_post(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = super::body_bytes(&state, body)?;
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(FORM));
    if !form {
        return answer(state, base, None).await;
    }
    answer(state, base, Some(body.to_vec())).await
}

/// Answers the arguments in `form` (`None`: a POST body that is not a form).
async fn answer(
    state: AppState,
    base: String,
    form: Option<Vec<u8>>,
) -> Result<Response, ApiError> {
    let pairs: Option<Vec<(String, String)>> = form.map(|form| {
        url::form_urlencoded::parse(&form)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    });
    let shared = state.shared.clone();
    let xml = blocking(move || {
        let pairs = pairs
            .as_deref()
            .ok_or("a POST's arguments must be an application/x-www-form-urlencoded body");
        Ok(shared.oai.answer(&shared, &base, pairs, crate::now_ms())?)
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], xml).into_response())
}
