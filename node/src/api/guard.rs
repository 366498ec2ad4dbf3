//! The router's guard, run before any handler: who the client is (its address, or the one a
//! trusted proxy names), per-address rate limits (429), caps on work at once (503), the admin
//! token checked before a body is read (401), and POST bodies read here within the request
//! timeout (408) and the size limit (413), so that no handler waits on a slow client.
//!
//! | request | limit |
//! |---|---|
//! | `POST /api/v1/records`, `/records/raw`, `/api/v1/admin/*` | the admin token; a wrong one counts as an unauthenticated POST; records of one author `author_records_per_second`/`author_record_burst` (checked by the handlers, which know the author: [`Guard::author`]) |
//! | other POSTs (decisions, checkpoints) | `posts_per_minute`/`post_burst` per address, `max_open_posts` at once |
//! | everything else (`POST /oai` too: an OAI-PMH query, which harvesters may send as a form) | `reads_per_second`/`read_burst` per address |
//! | every request | `max_requests` at once; exports, bundles, feeds `max_streams` at once |
//! | `/healthz`, `/readyz`, `/metrics` | none: monitoring sees the node as it is, even when it sheds load |

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use hubnet_protocol::PublicKey;
use ipnet::IpNet;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{ApiError, AppState};
use crate::edge::admit::client_key;
use crate::edge::{EdgeMetrics, Limits, Scheme};

/// How many rate checks between two prunings of idle addresses from the limiters.
const PRUNE_EVERY: u64 = 4096;
/// How long after the request timeout a handler may take to start its answer (503 beyond).
pub const ANSWER_GRACE: Duration = Duration::from_secs(5);

/// Who sent a request, as the guard found: the address limits count under, and the scheme it
/// came over (a trusted proxy's `X-Forwarded-*` honoured).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    /// The client's address; `None` for a request that came in process (tests, benches).
    pub ip: Option<IpAddr>,
    /// HTTP or HTTPS.
    pub scheme: Scheme,
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Client>().copied().unwrap_or(Client {
            ip: None,
            scheme: Scheme::Http,
        }))
    }
}

/// The limits' state, shared by every request.
pub struct Guard {
    limits: Limits,
    trusted: Vec<IpNet>,
    reads: DefaultKeyedRateLimiter<IpAddr>,
    posts: DefaultKeyedRateLimiter<IpAddr>,
    /// Records taken through the API, per author.
    authors: DefaultKeyedRateLimiter<PublicKey>,
    checks: AtomicU64,
    requests: Arc<Semaphore>,
    open_posts: Arc<Semaphore>,
    streams: Arc<Semaphore>,
    /// Refusals and timeouts, counted.
    pub metrics: Arc<EdgeMetrics>,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("limits", &self.limits)
            .field("trusted", &self.trusted)
            .finish_non_exhaustive()
    }
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

impl Guard {
    /// A guard of `limits`, honouring `X-Forwarded-For` and `X-Forwarded-Proto` from `trusted`.
    pub fn new(limits: Limits, trusted: Vec<IpNet>, metrics: Arc<EdgeMetrics>) -> Arc<Self> {
        let reads = Quota::per_second(nonzero(limits.reads_per_second))
            .allow_burst(nonzero(limits.read_burst));
        let posts = Quota::per_minute(nonzero(limits.posts_per_minute))
            .allow_burst(nonzero(limits.post_burst));
        let authors = Quota::per_second(nonzero(limits.author_records_per_second))
            .allow_burst(nonzero(limits.author_record_burst));
        Arc::new(Guard {
            reads: RateLimiter::keyed(reads),
            posts: RateLimiter::keyed(posts),
            authors: RateLimiter::keyed(authors),
            checks: AtomicU64::new(0),
            requests: Arc::new(Semaphore::new(limits.max_requests)),
            open_posts: Arc::new(Semaphore::new(limits.max_open_posts)),
            streams: Arc::new(Semaphore::new(limits.max_streams)),
            limits,
            trusted,
            metrics,
        })
    }

    /// A guard that never refuses what a test sends ([`Limits::generous`]).
    pub fn generous() -> Arc<Self> {
        Guard::new(Limits::generous(), Vec::new(), Arc::default())
    }

    /// A place among the streamed answers (exports, bundles, feeds), held until the stream
    /// ends; 503 when all are taken.
    pub fn stream(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.place(&self.streams, "streams", || {
            format!(
                "{} exports, bundles and feeds are being written; retry later",
                self.limits.max_streams
            )
        })
    }

    /// A place of `places`, or 503 (counted under `reason`) when all are taken.
    fn place(
        &self,
        places: &Arc<Semaphore>,
        reason: &'static str,
        detail: impl FnOnce() -> String,
    ) -> Result<OwnedSemaphorePermit, ApiError> {
        places.clone().try_acquire_owned().map_err(|_| {
            self.metrics.refuse(reason);
            ApiError::Busy(detail())
        })
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|n| n.contains(&ip))
    }

    /// The client of a request from `peer`: the peer itself, or, when the peer is a trusted
    /// proxy, the nearest address in `X-Forwarded-For` that is not a trusted proxy.
    pub fn client(&self, peer: Option<IpAddr>, scheme: Scheme, headers: &HeaderMap) -> Client {
        let Some(peer) = peer else {
            return Client { ip: None, scheme };
        };
        if !self.trusts(peer) {
            return Client {
                ip: Some(peer),
                scheme,
            };
        }
        let forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse().ok())
            .collect();
        let ip = forwarded
            .iter()
            .rev()
            .copied()
            .find(|ip| !self.trusts(*ip))
            .or(forwarded.first().copied())
            .unwrap_or(peer);
        let scheme = match headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            Some("https") => Scheme::Https,
            Some("http") => Scheme::Http,
            _ => scheme,
        };
        Client {
            ip: Some(ip),
            scheme,
        }
    }

    /// 429 when `author` used up its share of the records this node takes through its API
    /// (published here, or pushed signed): one key, stolen or not, pours records into the
    /// network through a node no faster than `author_records_per_second` after a burst of
    /// `author_record_burst`. Counted as refused for `author_pace`.
    pub fn author(&self, author: &PublicKey) -> Result<(), ApiError> {
        self.authors.check_key(author).map_err(|not_until| {
            self.metrics.refuse("author_pace");
            too_many(
                format!(
                    "more than {} records a second of author {} (after a burst of {}); retry later",
                    self.limits.author_records_per_second,
                    author.to_hex(),
                    self.limits.author_record_burst
                ),
                not_until.wait_time_from(DefaultClock::default().now()),
            )
        })
    }

    /// 429 when `ip` used up its share of `limiter`; a request without an address (in process)
    /// is not limited.
    fn rate(
        &self,
        limiter: &DefaultKeyedRateLimiter<IpAddr>,
        ip: Option<IpAddr>,
    ) -> Result<(), ApiError> {
        let Some(ip) = ip else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.reads.retain_recent();
            self.posts.retain_recent();
            self.authors.retain_recent();
            self.reads.shrink_to_fit();
            self.posts.shrink_to_fit();
            self.authors.shrink_to_fit();
        }
        limiter.check_key(&client_key(ip)).map_err(|not_until| {
            self.metrics.refuse("rate");
            too_many(
                format!("too many requests from {ip}; retry later"),
                not_until.wait_time_from(DefaultClock::default().now()),
            )
        })
    }
}

/// A 429 saying `detail`, to be retried after `wait`.
fn too_many(detail: String, wait: Duration) -> ApiError {
    let now_ms = crate::now_ms();
    ApiError::TooMany {
        detail,
        retry_at_ms: now_ms.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX)),
        now_ms,
    }
}

/// What a request is, for the guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Needs the admin token.
    Admin,
    /// A POST anyone may make.
    OpenPost,
    /// Everything else.
    Read,
    /// Liveness, readiness and metrics: never limited.
    Probe,
}

fn class(method: &Method, path: &str) -> Class {
    if matches!(path, "/healthz" | "/readyz" | "/metrics") {
        Class::Probe
    } else if path.starts_with("/api/v1/admin/")
        || (method == Method::POST && matches!(path, "/api/v1/records" | "/api/v1/records/raw"))
    {
        Class::Admin
    } else if method == Method::POST && path != "/oai" {
        Class::OpenPost
    } else {
        Class::Read
    }
}

/// The guard, as axum middleware (outermost layer of [`super::router`]).
pub async fn guard(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    match admit(&state, &mut req).await {
        Ok(permits) => {
            let limit = state.guard.limits.request_timeout() + ANSWER_GRACE;
            match tokio::time::timeout(limit, next.run(req)).await {
                Ok(r) => {
                    drop(permits);
                    r
                }
                Err(_) => {
                    state.guard.metrics.timed_out("answer");
                    ApiError::Busy("the answer took too long; retry later".into()).into_response()
                }
            }
        }
        Err(e) => e.into_response(),
    }
}

/// Checks a request against the limits; a POST's body is read here. Returns the places it
/// holds while it is answered.
async fn admit(state: &AppState, req: &mut Request) -> Result<Vec<OwnedSemaphorePermit>, ApiError> {
    let g = &state.guard;
    let peer = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let scheme = req
        .extensions()
        .get::<Scheme>()
        .copied()
        .unwrap_or(Scheme::Http);
    let client = g.client(peer, scheme, req.headers());
    req.extensions_mut().insert(client);
    let mut permits = Vec::new();
    match class(req.method(), req.uri().path()) {
        Class::Probe => return Ok(permits),
        Class::Admin => {
            if let Err(e) = super::authorize(state, req.headers()) {
                g.metrics.refuse("token");
                g.rate(&g.posts, client.ip)?;
                return Err(e);
            }
        }
        Class::OpenPost => {
            g.rate(&g.posts, client.ip)?;
            permits.push(g.place(&g.open_posts, "posts", || {
                "too many submissions at once; retry later".into()
            })?);
        }
        Class::Read => g.rate(&g.reads, client.ip)?,
    }
    permits.push(g.place(&g.requests, "busy", || {
        "the node is busy; retry later".into()
    })?);
    if req.method() == Method::POST {
        read_body(state, req).await?;
    }
    Ok(permits)
}

/// Reads a POST's body within the request timeout and the size limit, and puts it back whole.
async fn read_body(state: &AppState, req: &mut Request) -> Result<(), ApiError> {
    let limit = super::body_limit(&state.shared);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > u64::try_from(limit).unwrap_or(u64::MAX)) {
        return Err(ApiError::TooLarge(limit));
    }
    let body = std::mem::take(req.body_mut());
    let read = axum::body::to_bytes(body, limit);
    let bytes = match tokio::time::timeout(state.guard.limits.request_timeout(), read).await {
        Err(_) => {
            state.guard.metrics.timed_out("body");
            return Err(ApiError::Timeout);
        }
        Ok(Err(e)) => {
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            return Err(if too_large {
                ApiError::TooLarge(limit)
            } else {
                ApiError::BadRequest(format!("reading the body: {e}"))
            });
        }
        Ok(Ok(b)) => b,
    };
    *req.body_mut() = Body::from(bytes);
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_headers_count_only_from_a_trusted_proxy() {
        let g = Guard::new(
            Limits::default(),
            vec![
                "127.0.0.0/8".parse().unwrap(),
                "10.1.0.0/16".parse().unwrap(),
            ],
            Arc::default(),
        );
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.9, 10.1.2.3"),
            ("x-forwarded-proto", "https"),
        ]);
        // From a stranger: its own address, its own scheme.
        let c = g.client(Some(ip("198.51.100.7")), Scheme::Http, &h);
        assert_eq!(c.ip, Some(ip("198.51.100.7")));
        assert_eq!(c.scheme, Scheme::Http);
        // From the proxy: the nearest untrusted address, the proxy's scheme.
        let c = g.client(Some(ip("127.0.0.1")), Scheme::Http, &h);
        assert_eq!(c.ip, Some(ip("203.0.113.9")));
        assert_eq!(c.scheme, Scheme::Https);
        // A client cannot hide behind an address it puts first itself.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9")]);
        let c = g.client(Some(ip("127.0.0.1")), Scheme::Http, &h);
        assert_eq!(c.ip, Some(ip("203.0.113.9")));
        // The proxy without a header: the proxy.
        let c = g.client(Some(ip("127.0.0.1")), Scheme::Https, &HeaderMap::new());
        assert_eq!(c.ip, Some(ip("127.0.0.1")));
        assert_eq!(c.scheme, Scheme::Https);
    }

    #[test]
    fn requests_are_classed_by_method_and_path() {
        assert_eq!(class(&Method::POST, "/api/v1/records"), Class::Admin);
        assert_eq!(class(&Method::POST, "/api/v1/records/raw"), Class::Admin);
        assert_eq!(class(&Method::GET, "/api/v1/admin/reconfirm"), Class::Admin);
        assert_eq!(
            class(&Method::POST, "/api/v1/governance/decisions"),
            Class::OpenPost
        );
        assert_eq!(class(&Method::POST, "/api/v1/checkpoints"), Class::OpenPost);
        assert_eq!(class(&Method::GET, "/api/v1/records"), Class::Read);
        assert_eq!(class(&Method::POST, "/oai"), Class::Read);
        assert_eq!(class(&Method::GET, "/api/v1/checkpoints"), Class::Read);
        assert_eq!(class(&Method::GET, "/readyz"), Class::Probe);
        assert_eq!(class(&Method::GET, "/metrics"), Class::Probe);
    }

    #[test]
    fn an_address_over_its_rate_waits_and_others_do_not() {
        let limits = Limits {
            reads_per_second: 1,
            read_burst: 2,
            ..Limits::default()
        };
        let g = Guard::new(limits, Vec::new(), Arc::default());
        let a = ip("192.0.2.1");
        g.rate(&g.reads, Some(a)).unwrap();
        g.rate(&g.reads, Some(a)).unwrap();
        let e = g.rate(&g.reads, Some(a)).unwrap_err();
        let ApiError::TooMany {
            retry_at_ms,
            now_ms,
            ..
        } = e
        else {
            panic!("{e:?}")
        };
        assert!(retry_at_ms > now_ms && retry_at_ms - now_ms <= 1000);
        g.rate(&g.reads, Some(ip("192.0.2.2"))).unwrap();
        // One IPv6 client is its /64.
        g.rate(&g.reads, Some(ip("2001:db8::1"))).unwrap();
        g.rate(&g.reads, Some(ip("2001:db8::2"))).unwrap();
        assert!(g.rate(&g.reads, Some(ip("2001:db8::3"))).is_err());
    }

    #[test]
    fn an_author_over_its_pace_waits_and_others_do_not() {
        let limits = Limits {
            author_records_per_second: 2,
            author_record_burst: 3,
            ..Limits::default()
        };
        let metrics = Arc::new(EdgeMetrics::default());
        let g = Guard::new(limits, Vec::new(), metrics.clone());
        let key = |n: u8| hubnet_protocol::SecretKey::from_seed([n; 32]).public_key();
        for _ in 0..3 {
            g.author(&key(1)).unwrap();
        }
        let e = g.author(&key(1)).unwrap_err();
        let ApiError::TooMany {
            retry_at_ms,
            now_ms,
            detail,
        } = e
        else {
            panic!("{e:?}")
        };
        // Two a second: the next one within half a second.
        assert!(
            retry_at_ms > now_ms && retry_at_ms - now_ms <= 500,
            "{detail}"
        );
        assert!(detail.contains(&key(1).to_hex()), "{detail}");
        g.author(&key(2)).unwrap();
        let refused = metrics
            .refused
            .get_or_create(&crate::edge::metrics::Why {
                reason: "author_pace",
            })
            .get();
        assert_eq!(refused, 1);
    }
}
