//! The web UI: static files from `node/ui/`, built into the binary (no JavaScript build step).
//! The app's pages (`/`, `/records/{id}`, `/calendar`, `/compare`, `/directory`,
//! `/countries/{code}`, `/network`, `/members`, `/audit`) all answer with `index.html`; a record
//! page also carries citation metadata (Highwire `citation_*` tags and a canonical link) so
//! reference managers can cite it without running the script, and the page of an expert or an
//! institution schema.org JSON-LD (a `Person`; a `GovernmentOrganization`,
//! `EducationalOrganization`, `CollegeOrUniversity` or `Organization`) built from the record.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use hubnet_proto::v1 as pb;
use hubnet_protocol::RecordId;
use hubnet_protocol::kinds::institution::InstitutionType;
use include_dir::{Dir, include_dir};
use serde_json::{Value, json};
use tower_http::set_header::SetResponseHeaderLayer;

use super::feeds::BaseUrl;
use super::{ApiError, AppState, blocking, query};
use crate::kinds::Content;
use crate::lang::pick;
use crate::view::rfc3339_ms;

static UI: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/ui");

/// The Content-Security-Policy of every answer: scripts and styles only from the node itself, so
/// no script inside a record can ever run, even if some text were inserted as HTML by mistake.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
    frame-ancestors 'none'; form-action 'self'";

/// The UI's routes, with the security headers on every answer of `router`.
pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/", get(page))
        .route("/calendar", get(page))
        .route("/compare", get(page))
        .route("/directory", get(page))
        .route("/countries/{code}", get(page))
        .route("/network", get(page))
        .route("/members", get(page))
        .route("/audit", get(page))
        .route("/records/{id}", get(record_page))
        .route("/ui/{*path}", get(asset))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
}

fn index_html() -> Result<&'static str, ApiError> {
    UI.get_file("index.html")
        .and_then(|f| f.contents_utf8())
        .ok_or_else(|| ApiError::Internal("the built-in UI has no index.html".into()))
}

async fn page() -> Result<Html<&'static str>, ApiError> {
    index_html().map(Html)
}

/// Escapes text for an HTML attribute or element (also used by the audit's HTML report).
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

async fn record_page(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let html = index_html()?;
    let Ok(id) = id.parse::<RecordId>() else {
        // The page itself reports the bad id; the status says it too.
        return Ok((StatusCode::NOT_FOUND, Html(html)).into_response());
    };
    let shared = state.shared.clone();
    let current = blocking(move || {
        let c = query::current_of(&shared, &id)?;
        let ld = record_json_ld(&shared, &c, &base);
        Ok((c, ld))
    })
    .await;
    let Ok((c, ld)) = current else {
        return Ok((StatusCode::NOT_FOUND, Html(html)).into_response());
    };
    let title = match c.content() {
        Some(content) => crate::view::pick(content.view().title(), None),
        // Erased: its title went with its body.
        None => format!("An erased {}", c.original.header.kind.name()),
    };
    let author = crate::lang::member_name(&state.shared.charter(), c.member(), None).to_owned();
    let date = rfc3339_ms(c.created_at());
    let meta = format!(
        "<title>{t} · hubnet</title>\n\
         <meta name=\"citation_title\" content=\"{t}\">\n\
         <meta name=\"citation_author\" content=\"{a}\">\n\
         <meta name=\"citation_publication_date\" content=\"{d}\">\n\
         <meta name=\"citation_publisher\" content=\"Regional Hub of Civil Service (hubnet)\">\n\
         <meta name=\"hubnet:record-id\" content=\"{id}\">\n\
         <link rel=\"canonical\" href=\"/records/{id}\">\n\
         <link rel=\"alternate\" type=\"application/json\" href=\"/api/v1/records/{id}\">\n",
        t = escape(&title),
        a = escape(&author),
        d = escape(date.get(..10).unwrap_or_default()),
    );
    let meta = match ld {
        Some(v) => format!(
            "{meta}<script type=\"application/ld+json\">{}</script>\n",
            script_json(&v)
        ),
        None => meta,
    };
    // The record's own title replaces the page's generic one; the metadata goes before </head>.
    let html = match (html.find("<title>"), html.find("</title>")) {
        (Some(a), Some(b)) if a < b => format!("{}{}", &html[..a], &html[b + "</title>".len()..]),
        _ => html.to_owned(),
    };
    let page = match html.find("</head>") {
        Some(i) => format!("{}{meta}{}", &html[..i], &html[i..]),
        None => html,
    };
    Ok(Html(page).into_response())
}

/// The JSON-LD of the record page of `c` (an expert or an institution; `None` for other kinds),
/// with the names of the institutions it names by id as this node holds them.
fn record_json_ld(
    shared: &crate::shared::Shared,
    c: &crate::current::Current,
    base: &str,
) -> Option<Value> {
    let content = c.content()?;
    let charter = shared.charter();
    let topic_name = |slug: &str| {
        charter
            .vocabulary()
            .topics
            .iter()
            .find(|t| t.slug == slug)
            .and_then(|t| t.name.get("en"))
            .cloned()
            .unwrap_or_else(|| slug.to_owned())
    };
    let institution_name = |raw: &[u8]| {
        let id = <[u8; 32]>::try_from(raw).ok().map(RecordId)?;
        let i = query::current_of(shared, &id).ok()?;
        let name = pick(i.content()?.institution()?.name.as_ref(), None);
        (!name.is_empty()).then(|| name.to_owned())
    };
    json_ld(
        &c.id(),
        content,
        &Linked {
            base,
            institution_name: &institution_name,
            topic_name: &topic_name,
        },
    )
}

/// What the JSON-LD of a record links to beyond the record itself.
pub(crate) struct Linked<'a> {
    /// The node's address (`http://host`): record pages are `{base}/records/{id}`.
    pub base: &'a str,
    /// The name of the institution record with this id, when the node holds it.
    pub institution_name: &'a dyn Fn(&[u8]) -> Option<String>,
    /// A topic's name (English) from its slug.
    pub topic_name: &'a dyn Fn(&str) -> String,
}

/// schema.org JSON-LD for the record page of an expert (a `Person`: `name`, `jobTitle`,
/// `worksFor`, `affiliation`, `knowsLanguage`, `knowsAbout`, `description` and `email`, only an
/// institutional address) or an institution (a `GovernmentOrganization` for a ministry or a
/// civil-service agency, an `EducationalOrganization` for an academy or school of public
/// administration, a `CollegeOrUniversity`, else an `Organization`: `name`, `url`,
/// `parentOrganization`, `identifier` and `sameAs` for Wikidata and ROR, `email`, `address`);
/// `None` for other kinds. Only what the record holds, and never the consent's details.
pub(crate) fn json_ld(id: &RecordId, content: Content<'_>, linked: &Linked<'_>) -> Option<Value> {
    let page = format!("{}/records/{}", linked.base, id.to_hex());
    let mut v = match content {
        Content::Expert(e) => person(e, linked),
        Content::Institution(i) => organization(i, linked),
        _ => return None,
    };
    let map = v.as_object_mut()?;
    map.insert("@context".into(), json!("https://schema.org"));
    map.insert("@id".into(), json!(page));
    map.insert("mainEntityOfPage".into(), json!(page));
    // Empty strings and lists say nothing: left out.
    map.retain(|_, x| match x {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => true,
    });
    Some(v)
}

/// The text of a localized field (English, else Russian, else any) and its other versions.
fn names(text: Option<&pb::LocalizedText>) -> (String, Vec<String>) {
    let name = pick(text, None).to_owned();
    let mut others: Vec<String> = text
        .map(|t| {
            t.text
                .values()
                .filter(|x| **x != name && !x.is_empty())
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    others.dedup();
    (name, others)
}

/// An organisation a record names: by record id (its page, and its name when held) or by name.
fn named_organisation(
    id: Option<&[u8]>,
    name: Option<&pb::LocalizedText>,
    linked: &Linked<'_>,
) -> Value {
    match (id, name) {
        (Some(id), _) => {
            let page = format!("{}/records/{}", linked.base, hex::encode(id));
            let mut o = json!({"@type": "Organization", "@id": page, "url": page});
            if let Some(n) = (linked.institution_name)(id) {
                o["name"] = json!(n);
            }
            o
        }
        (None, name) => json!({"@type": "Organization", "name": pick(name, None)}),
    }
}

/// An address for an `email` property: only an institutional one (never a personal mail
/// provider's, which the protocol refuses anyway).
fn institutional_email(address: &str) -> Option<&str> {
    let (_, domain) = address.rsplit_once('@')?;
    hubnet_protocol::validate::personal_mail_provider(domain)
        .is_none()
        .then_some(address)
}

fn person(e: &pb::Expert, linked: &Linked<'_>) -> Value {
    let (name, alternate) = names(e.name.as_ref());
    let works_for = e.institution.as_ref().map(|i| match i {
        pb::expert::Institution::InstitutionId(id) => named_organisation(Some(id), None, linked),
        pb::expert::Institution::InstitutionName(n) => named_organisation(None, Some(n), linked),
    });
    let affiliation: Vec<Value> = e
        .affiliations
        .iter()
        .filter_map(|a| {
            Some(match a.organisation.as_ref()? {
                pb::affiliation::Organisation::OrganisationId(id) => {
                    named_organisation(Some(id), None, linked)
                }
                pb::affiliation::Organisation::OrganisationName(n) => {
                    named_organisation(None, Some(n), linked)
                }
            })
        })
        .collect();
    json!({
        "@type": "Person",
        "name": name,
        "alternateName": alternate,
        "jobTitle": pick(e.position.as_ref(), None),
        "worksFor": works_for,
        "affiliation": affiliation,
        "knowsLanguage": e.languages,
        "knowsAbout": e.topics.iter().map(|t| (linked.topic_name)(t)).collect::<Vec<_>>(),
        "description": pick(e.summary.as_ref(), None),
        "email": institutional_email(&e.contact_email),
    })
}

fn organization(i: &pb::Institution, linked: &Linked<'_>) -> Value {
    let kind = match InstitutionType::from_proto(i.institution_type) {
        Some(InstitutionType::Ministry | InstitutionType::CivilServiceAgency) => {
            "GovernmentOrganization"
        }
        Some(InstitutionType::AcademyOrSchool) => "EducationalOrganization",
        Some(InstitutionType::University) => "CollegeOrUniversity",
        _ => "Organization",
    };
    let (name, alternate) = names(i.name.as_ref());
    let mut identifier = Vec::new();
    let mut same_as = Vec::new();
    if !i.wikidata.is_empty() {
        identifier
            .push(json!({"@type": "PropertyValue", "propertyID": "Wikidata", "value": i.wikidata}));
        same_as.push(format!("https://www.wikidata.org/wiki/{}", i.wikidata));
    }
    if !i.ror.is_empty() {
        identifier.push(json!({"@type": "PropertyValue", "propertyID": "ROR", "value": i.ror}));
        same_as.push(format!("https://ror.org/{}", i.ror));
    }
    let address = (i.country.len() == 2)
        .then(|| json!({"@type": "PostalAddress", "addressCountry": i.country}));
    json!({
        "@type": kind,
        "name": name,
        "alternateName": alternate,
        "url": i.website,
        "parentOrganization": (!i.parent.is_empty()).then(|| named_organisation(Some(&i.parent), None, linked)),
        "identifier": identifier,
        "sameAs": same_as,
        "description": pick(i.mandate.as_ref(), None),
        "knowsLanguage": i.languages,
        "knowsAbout": i.topics.iter().map(|t| (linked.topic_name)(t)).collect::<Vec<_>>(),
        "email": institutional_email(&i.contact_email),
        "address": address,
    })
}

/// JSON for the inside of a `<script>` element: `<`, `>` and `&` as `\u` escapes (the same
/// JSON), so no text of the record can close the element or open a comment.
pub(crate) fn script_json(v: &Value) -> String {
    serde_json::to_string(v)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

async fn asset(Path(path): Path<String>) -> Result<Response, ApiError> {
    let file = UI
        .get_file(&path)
        .filter(|_| !path.contains(".."))
        .ok_or_else(|| ApiError::NotFound(format!("no UI file {path}")))?;
    let kind = match path.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    };
    Ok((
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        file.contents(),
    )
        .into_response())
}
