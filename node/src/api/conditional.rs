//! Validators and caching of answers about records: an `ETag` on each and `304 Not Modified` to a
//! conditional request (`If-None-Match`) that names it, so that a client holding an answer
//! revalidates it without receiving it again.
//!
//! Which answers: `GET /api/v1/records` (a query), and a record's `GET /api/v1/records/{id}`,
//! `…/raw` and `…/current`. Their tags are weak (`W/"…"`, a checksum and the length of the uncompressed answer), as
//! the compression layer outside this one may send the same answer in several encodings.
//!
//! How long a cache may keep them without asking: a record's signed bytes (`…/raw`) never change
//! but for one event, an erasure (docs/PROTOCOL.md §2.1), which every node carries out and which
//! caches must follow too, so they are fresh for an hour (`immutable`: no revalidation within it)
//! and not longer; everything else changes as records arrive (amendments, retractions, new
//! matches), so it is `no-cache`: kept, but revalidated at each use.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// `Cache-Control` of a record's signed bytes: see the module's documentation.
pub const RAW_CACHE: &str = "public, max-age=3600, immutable";
/// `Cache-Control` of the other answers about records.
pub const REVALIDATE: &str = "no-cache";

/// The caching policy of a path, if it is one of the answers this layer serves.
fn policy(path: &str) -> Option<&'static str> {
    if path == "/api/v1/records" {
        return Some(REVALIDATE);
    }
    let rest = path.strip_prefix("/api/v1/records/")?;
    let (id, tail) = rest.split_once('/').unwrap_or((rest, ""));
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    match tail {
        "" | "current" => Some(REVALIDATE),
        "raw" => Some(RAW_CACHE),
        _ => None,
    }
}

/// Whether `If-None-Match` (a list of tags, or `*`) names `tag`, by weak comparison.
fn matches(if_none_match: &HeaderValue, tag: &str) -> bool {
    let Ok(list) = if_none_match.to_str() else {
        return false;
    };
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let want = opaque(tag);
    list.split(',')
        .any(|t| t.trim() == "*" || opaque(t) == want)
}

/// The layer: tags a successful answer of [`policy`]'s paths and answers `304` when the client
/// already holds it.
pub async fn conditional(req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    let Some(cache) = policy(req.uri().path()) else {
        return next.run(req).await;
    };
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).cloned();
    let response = next.run(req).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // These answers are built whole before they are sent (none is streamed), so reading them
    // back costs no more memory than they already hold.
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            return super::ApiError::Internal(format!("reading an answer back: {e}"))
                .into_response();
        }
    };
    // A tag tells versions of one answer apart; it is no security boundary, so a checksum and the
    // length do (SHA-256 of a 240 KB query answer cost about half a millisecond on this path).
    let tag = format!("W/\"{:08x}-{:x}\"", crc32fast::hash(&bytes), bytes.len());
    let Ok(tag_value) = HeaderValue::from_str(&tag) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    parts.headers.insert(header::ETAG, tag_value.clone());
    parts
        .headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if if_none_match.is_some_and(|v| matches(&v, &tag)) {
        let mut not_modified = Response::new(Body::empty());
        *not_modified.status_mut() = StatusCode::NOT_MODIFIED;
        let headers = not_modified.headers_mut();
        headers.insert(header::ETAG, tag_value);
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        return not_modified;
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn only_answers_about_records_are_tagged() {
        let id = "ab".repeat(32);
        assert_eq!(policy("/api/v1/records"), Some(REVALIDATE));
        assert_eq!(policy(&format!("/api/v1/records/{id}")), Some(REVALIDATE));
        assert_eq!(
            policy(&format!("/api/v1/records/{id}/current")),
            Some(REVALIDATE)
        );
        assert_eq!(
            policy(&format!("/api/v1/records/{id}/raw")),
            Some(RAW_CACHE)
        );
        for other in [
            "/api/v1/records/raw".to_owned(),
            format!("/api/v1/records/{id}/citation"),
            format!("/api/v1/records/{}", "ab".repeat(31)),
            format!("/api/v1/records/{}", "zz".repeat(32)),
            "/api/v1/export".to_owned(),
            "/api/v1/status".to_owned(),
        ] {
            assert_eq!(policy(&other), None, "{other}");
        }
    }

    #[test]
    fn if_none_match_compares_weakly_and_takes_lists_and_star() {
        let tag = "W/\"0123\"";
        for yes in ["W/\"0123\"", "\"0123\"", "\"x\", W/\"0123\"", "*"] {
            assert!(matches(&HeaderValue::from_static(yes), tag), "{yes}");
        }
        for no in ["W/\"0124\"", "", "0123"] {
            assert!(!matches(&HeaderValue::from_static(no), tag), "{no}");
        }
    }
}
