//! What search engines crawl: `/sitemap.xml`, `/sitemap-{n}.xml` and `/robots.txt`.
//!
//! A sitemap lists the page of every record the search lists, retracted ones included, each with
//! its `lastmod`: when the record last changed as this node sees it (its latest amendment, or its
//! retraction, else its publication; for a programme also the latest confirmation or withdrawal
//! it holds, which change the programme's state on its page). A retracted record's page stays (it says it was retracted,
//! and its JSON-LD says so too), so crawlers are sent back to it; an erased record is not listed
//! (its page has no content left), nor is an expert past the re-confirmation date (the directory
//! leaves them out too). Up to [`MAX_URLS`] records `/sitemap.xml` is that sitemap; past it, it is
//! a sitemap index of `/sitemap-1.xml` … `/sitemap-{n}.xml`, pages of at most [`MAX_URLS`] records
//! oldest first (a record's page is about 150 bytes, so a page stays far below the 50 MB limit).
//! Every answer is written while it is sent, a record loaded at a time (`stream.rs`).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::feeds::BaseUrl;
use super::{ApiError, AppState, blocking};
use hubnet_protocol::Kind;
use tracing::warn;

use crate::current::Current;
use crate::feeds::sitemap::{MAX_URLS, pages, write_index, write_urlset};
use crate::programmes::Held;
use crate::search::{DocState, Query, Sort};
use crate::shared::Shared;

/// The crawlers' routes.
pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/sitemap.xml", get(sitemap))
        // `/sitemap-{n}.xml`: the router takes no suffix after a parameter.
        .route("/sitemap-{file}", get(sitemap_page))
        .route("/robots.txt", get(robots))
}

/// The records a sitemap lists, oldest first (a stable order, so pages change little as
/// records arrive), [`MAX_URLS`] to a page.
fn listed() -> Query {
    Query {
        sort: Sort::Oldest,
        limit: MAX_URLS,
        include_retracted: true,
        listed_on: Some(super::query::today_utc(crate::now_ms())),
        ..Query::default()
    }
}

/// What one answer lists.
enum Listing {
    /// These records' pages.
    Urls(Vec<DocState>),
    /// This many sitemap pages.
    Index(usize),
}

async fn sitemap(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
) -> Result<Response, ApiError> {
    serve(state, base, None).await
}

async fn sitemap_page(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let page = file
        .strip_suffix(".xml")
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|n| *n >= 1)
        .ok_or_else(|| ApiError::NotFound(format!("no sitemap-{file}")))?;
    serve(state, base, Some(page)).await
}

async fn serve(state: AppState, base: String, page: Option<usize>) -> Result<Response, ApiError> {
    let permit = state.guard.stream()?;
    let shared = state.shared.clone();
    let listing = blocking({
        let shared = shared.clone();
        move || {
            let internal = |e: &dyn std::fmt::Display| ApiError::Internal(e.to_string());
            let mut q = listed();
            // The first search counts the records; it is the page itself only for the first.
            let counting = match page {
                None | Some(1) => q.clone(),
                Some(_) => Query { limit: 1, ..q.clone() },
            };
            let mut found = shared.search.search(&counting).map_err(|e| internal(&e))?;
            match (page, pages(found.total, MAX_URLS)) {
                (None, None) => Ok(Listing::Urls(found.hits)),
                (None, Some(n)) => Ok(Listing::Index(n)),
                (Some(1), Some(_)) => Ok(Listing::Urls(found.hits)),
                (Some(k), Some(n)) if k <= n => {
                    let skipped = (k - 1).saturating_mul(MAX_URLS);
                    let Some(cursor) = shared
                        .search
                        .cursor_after_first(&q, skipped)
                        .map_err(|e| internal(&e))?
                    else {
                        // Records went away since the count: an empty page.
                        return Ok(Listing::Urls(Vec::new()));
                    };
                    q.from = q.decode_cursor(&cursor).map_err(|e| internal(&e))?;
                    found = shared.search.search(&q).map_err(|e| internal(&e))?;
                    Ok(Listing::Urls(found.hits))
                }
                (Some(k), _) => Err(ApiError::NotFound(format!(
                    "no sitemap-{k}.xml: the sitemap index at /sitemap.xml lists the pages there are"
                ))),
            }
        }
    })
    .await?;
    let body = super::stream::body(permit, "sitemap", move |out| match listing {
        Listing::Index(n) => write_index(out, &base, n),
        Listing::Urls(hits) => {
            let mut failed = None;
            let items = super::stream::records(&shared, &hits, &mut failed).map(|c| {
                let at = last_change(&shared, &c);
                (c, at)
            });
            write_urlset(&mut *out, &base, items)?;
            failed.map_or(Ok(()), |e| Err(super::stream::io_error(e)))
        }
    });
    Ok((
        axum::Extension(super::stream::Streamed),
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        body,
    )
        .into_response())
}

/// When `c`'s page last changed: [`Current::updated_at`], and for a programme the latest of its
/// confirmations and their withdrawals too (a store error there leaves them out, logged).
fn last_change(shared: &Shared, c: &Current) -> i64 {
    let at = c.updated_at();
    if c.original.header.kind != Kind::Programme {
        return at;
    }
    match Held::read(&shared.read_store(), &c.id()) {
        Ok(held) => held
            .iter()
            .flat_map(|h| &h.confirmations)
            .map(|r| r.header.created_at)
            .fold(at, i64::max),
        Err(e) => {
            warn!(error = %e, id = %c.id(), "a programme's confirmations could not be read for its sitemap entry");
            at
        }
    }
}

/// `robots.txt`: every page may be crawled, and the sitemap says which; not the same pages
/// under query strings (search results, calendar months: endless combinations of the same
/// records), nor what is for programs and costs the node to write (exports, bundles, logs, raw
/// bytes, vCard and CSV directories, feeds for subscribers, the operators' endpoints). The
/// OAI-PMH endpoint stays open to harvesters that heed robots.txt, query string and all: its
/// `Allow` is longer than the `Disallow` of query strings, and the longest match wins (RFC 9309).
pub const ROBOTS: &str = "\
# hubnet node: record pages are for everyone; exports and feeds are for programs.
User-agent: *
Allow: /
Allow: /oai
Disallow: /*?
Disallow: /api/v1/export
Disallow: /api/v1/bundle
Disallow: /api/v1/logs/
Disallow: /api/v1/records/raw
Disallow: /api/v1/directory.vcf
Disallow: /api/v1/directory.csv
Disallow: /api/v1/admin/
Disallow: /feeds/
Disallow: /metrics
Disallow: /healthz
Disallow: /readyz
";

async fn robots(BaseUrl(base): BaseUrl) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{ROBOTS}\nSitemap: {base}/sitemap.xml\n"),
    )
        .into_response()
}
