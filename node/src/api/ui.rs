//! The web UI: static files from `node/ui/`, built into the binary (no JavaScript build step).
//! The app's pages (`/`, `/records/{id}`, `/calendar`, `/compare`, `/countries/{code}`,
//! `/network`, `/members`, `/audit`) all answer with `index.html`; a record page also carries
//! citation metadata (Highwire `citation_*` tags and a canonical link) so reference managers can
//! cite it without running the script.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use include_dir::{Dir, include_dir};
use tower_http::set_header::SetResponseHeaderLayer;

use super::{ApiError, AppState, blocking, query};
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
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let html = index_html()?;
    let Ok(id) = id.parse::<hubnet_protocol::RecordId>() else {
        // The page itself reports the bad id; the status says it too.
        return Ok((StatusCode::NOT_FOUND, Html(html)).into_response());
    };
    let shared = state.shared.clone();
    let current = blocking(move || query::current_of(&shared, &id)).await;
    let Ok(c) = current else {
        return Ok((StatusCode::NOT_FOUND, Html(html)).into_response());
    };
    let title = crate::view::pick(c.content().and_then(|c| c.view().title()), None);
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
