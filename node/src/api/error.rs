//! API errors as RFC 9457 `application/problem+json`. Bad input is a 4xx and is not logged as an
//! error; an internal fault is a generic 500 whose details go to the log only.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tracing::error;

/// An error answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The request itself is malformed (a bad id, a body that does not parse).
    #[error("{0}")]
    BadRequest(String),
    /// No or a wrong bearer token.
    #[error("a valid `Authorization: Bearer <admin token>` header is required")]
    Unauthorized,
    /// Nothing there.
    #[error("{0}")]
    NotFound(String),
    /// The body is larger than the limit.
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    /// Well-formed, but not acceptable: a draft or record that breaks a rule.
    #[error("{0}")]
    Unprocessable(String),
    /// Valid, but in conflict with what the node holds (a chain rule, a fork).
    #[error("{0}")]
    Conflict(String),
    /// This node cannot do it (a mirror asked to publish).
    #[error("{0}")]
    Forbidden(String),
    /// The author's key reached the charter's rate limit: try again at `retry_at_ms`.
    #[error("{detail}")]
    TooMany {
        /// What was refused.
        detail: String,
        /// When a record may be created again (ms since the epoch).
        retry_at_ms: i64,
        /// Now (ms), to turn `retry_at_ms` into `Retry-After` seconds.
        now_ms: i64,
    },
    /// The node is stopping or its worker is gone.
    #[error("the node is not accepting writes right now")]
    Unavailable,
    /// Too much is being done at once: retry in a second (503 with `Retry-After`).
    #[error("{0}")]
    Busy(String),
    /// The request's body did not arrive within the request timeout.
    #[error("the request body did not arrive in time")]
    Timeout,
    /// The node's disk is full: nothing was stored (507; details are logged).
    #[error("the node's disk is full: nothing was stored; its operator must free space")]
    StorageFull(String),
    /// A fault of the node; details are logged, not sent.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable | ApiError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Timeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::StorageFull(_) => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn slug(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad-request",
            ApiError::Unauthorized => "unauthorized",
            ApiError::NotFound(_) => "not-found",
            ApiError::TooLarge(_) => "too-large",
            ApiError::Unprocessable(_) => "invalid",
            ApiError::Conflict(_) => "conflict",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::TooMany { .. } => "rate-limit",
            ApiError::Unavailable => "unavailable",
            ApiError::Busy(_) => "busy",
            ApiError::Timeout => "timeout",
            ApiError::StorageFull(_) => "storage-full",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Internal(detail) => {
                error!(%detail, "internal error answering an API request")
            }
            ApiError::StorageFull(detail) => {
                error!(%detail, "the disk is full; a write was refused")
            }
            _ => {}
        }
        let mut response = problem(self.status(), self.slug(), self.to_string());
        if let ApiError::Busy(_) = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if let ApiError::Timeout = self {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if let ApiError::TooMany {
            retry_at_ms,
            now_ms,
            ..
        } = self
        {
            // Whole seconds, rounded up, at least one.
            let secs = (retry_at_ms.saturating_sub(now_ms).max(1) + 999) / 1000;
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

/// An RFC 9457 problem answer.
fn problem(status: StatusCode, slug: &str, detail: String) -> Response {
    problem_with(status, slug, detail, serde_json::Map::new())
}

/// An RFC 9457 problem answer with extension members (`extra`) beside the standard ones.
pub(super) fn problem_with(
    status: StatusCode,
    slug: &str,
    detail: String,
    extra: serde_json::Map<String, serde_json::Value>,
) -> Response {
    let mut body = json!({
        "type": format!("https://hubnet.invalid/problems/{slug}"),
        "title": status.canonical_reason().unwrap_or("error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    if let Some(members) = body.as_object_mut() {
        for (k, v) in extra {
            members.entry(k).or_insert(v);
        }
    }
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// Makes every error answer a problem: axum's own rejections (a path that is not UTF-8, a method
/// a route does not have, a body it cannot read) come as plain text or empty; they are rewritten
/// as `application/problem+json` with the same status. HTML pages (the UI's 404) stay as they are.
pub async fn as_problem(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let ctype = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if ctype.starts_with("application/problem+json") || ctype.starts_with("text/html") {
        return response;
    }
    let text = axum::body::to_bytes(response.into_body(), 16 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let detail = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    let slug = match status {
        StatusCode::NOT_FOUND => "not-found",
        StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too-large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
        s if s.is_server_error() => "internal",
        _ => "bad-request",
    };
    problem(status, slug, detail)
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        if e.storage_full() {
            ApiError::StorageFull(e.to_string())
        } else {
            ApiError::Internal(e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;
    use crate::store::journal::JournalError;

    /// A full disk is told apart from the node's other faults: 507, and the client learns that
    /// nothing was stored (found filling a node's disk: every publish was a bare 500). The bodies
    /// of a group after the one the disk refused are 507 too; a failure of the index after the
    /// journal stored the record is not (the record is stored, and replayed at the next start).
    #[test]
    fn a_full_disk_is_507_and_other_store_faults_are_500() {
        let journal = |code| {
            StoreError::Journal(JournalError::Io {
                path: "records.journal".into(),
                cause: std::io::Error::from_raw_os_error(code),
            })
        };
        let index =
            |code| StoreError::Index(sled::Error::Io(std::io::Error::from_raw_os_error(code)));
        let group = |e: &StoreError| StoreError::GroupFailed {
            cause: e.to_string(),
            storage_full: e.storage_full(),
        };
        for full in [journal(28), journal(122), group(&journal(28))] {
            let e = ApiError::from(full);
            assert_eq!(e.status(), StatusCode::INSUFFICIENT_STORAGE);
            assert!(e.to_string().contains("disk is full"));
        }
        for other in [
            journal(5),
            index(5),
            index(28),
            group(&journal(5)),
            StoreError::IndexWriter("x".into()),
        ] {
            assert_eq!(
                ApiError::from(other).status(),
                StatusCode::INTERNAL_SERVER_ERROR
            );
        }
    }
}
