//! The HTTP edge: the node's own accept loop in front of the axum router, so that what a hostile
//! client can hold is bounded.
//!
//! ```text
//! accept ── admit (a cap per address; when all places are taken, the oldest idle connection
//!           makes room; else 503 and close) ── TLS handshake (bounded; an ACME TLS-ALPN-01
//!           validation, ALPN `acme-tls/1`, is closed right after it)
//!        ── hyper HTTP/1.1 (header read timeout = idle timeout, writes bounded by the write
//!           timeout) ── the router, whose guard (api::guard) rate-limits, sheds load and checks
//!           the admin token before any body is read
//! ```
//!
//! Every connection's request carries its peer address ([`axum::extract::ConnectInfo`]) and
//! whether it came over TLS ([`Scheme`]). A stop lets connections finish the request they are
//! answering, then closes them.

pub mod acme;
pub mod admit;
pub mod limits;
pub mod metrics;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_io_timeout::TimeoutStream;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;
use tracing::{debug, warn};

pub use self::acme::{Acme, AcmeFile, AcmeMetrics, AcmeSettings};
pub use self::admit::{Admission, Conn, Refused};
pub use self::limits::Limits;
pub use self::metrics::EdgeMetrics;
pub use self::tls::{Certificates, TlsFiles, TlsSection, TlsSource};

/// The largest buffer hyper keeps for one connection's request head: a request line and headers
/// beyond it are answered 431 (or 414). Small, so that many slow clients cannot pin memory.
pub const MAX_HEAD_BYTES: usize = 32 * 1024;

/// How a request reached the node: over TLS or not (the edge's own TLS; a proxy's is told by
/// `X-Forwarded-Proto` from a trusted proxy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain HTTP.
    Http,
    /// HTTPS.
    Https,
}

/// What the accept loop needs.
#[derive(Clone)]
pub struct Edge {
    /// The limits.
    pub limits: Limits,
    /// HTTPS, when configured: from PEM files ([`Certificates::server_config`]) or ACME
    /// ([`Acme::server_config`]).
    pub tls: Option<Arc<ServerConfig>>,
    /// Open connections.
    pub admission: Arc<Admission>,
    /// Connections open, refused, timed out.
    pub metrics: Arc<EdgeMetrics>,
}

impl Edge {
    /// An edge with `limits`, and TLS when `tls` is given.
    pub fn new(limits: Limits, tls: Option<Arc<ServerConfig>>, metrics: Arc<EdgeMetrics>) -> Self {
        let admission = Admission::new(limits.max_connections, limits.max_connections_per_address);
        Edge {
            limits,
            tls,
            admission,
            metrics,
        }
    }
}

/// Descriptors kept for everything but HTTP connections: the store, the index, libp2p.
pub const RESERVED_DESCRIPTORS: u64 = 512;

/// Raises the process's soft limit on open files to its hard limit, and lowers
/// `max_connections` (with a warning) when the limit cannot hold them beside
/// [`RESERVED_DESCRIPTORS`], so that the node refuses connections before `accept` fails.
pub fn fit_descriptors(mut limits: Limits) -> Limits {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return limits;
    };
    let soft = if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
        hard
    } else {
        soft
    };
    let room =
        usize::try_from(soft.saturating_sub(RESERVED_DESCRIPTORS).max(1)).unwrap_or(usize::MAX);
    if limits.max_connections > room {
        warn!(
            configured = limits.max_connections,
            open_files_limit = soft,
            max_connections = room,
            "http_limits.max_connections does not fit the open files limit; lowered"
        );
        limits.max_connections = room;
        limits.max_connections_per_address = limits.max_connections_per_address.min(room);
    }
    limits
}

/// The answer given to a connection over a cap before it is closed.
const REFUSED: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 35\r\n\r\ntoo many connections; retry later\r\n";

/// Accepts connections until `stop`, then waits (at most `grace`) for those open to finish the
/// request they are answering.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    edge: Edge,
    mut stop: watch::Receiver<bool>,
    grace: Duration,
) {
    let acceptor = edge.tls.clone().map(TlsAcceptor::from);
    let mut accept_errors = 0u64;
    loop {
        let (tcp, peer) = tokio::select! {
            () = async { let _ = stop.wait_for(|s| *s).await; } => break,
            r = listener.accept() => match r {
                Ok(ok) => ok,
                Err(e) => {
                    // Out of descriptors (EMFILE, ENFILE) or memory: the caps should prevent it,
                    // but if it happens, wait a little instead of spinning, and say so now and
                    // then.
                    if !is_connection_error(&e) {
                        accept_errors += 1;
                        if accept_errors.is_power_of_two() {
                            warn!(error = %e, count = accept_errors, "accepting an HTTP connection failed");
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    continue;
                }
            },
        };
        let ticket = match edge.admission.admit(peer.ip()) {
            Ok(admitted) => {
                if admitted.evicted {
                    edge.metrics.refuse("evicted");
                }
                admitted.ticket
            }
            Err(why) => {
                edge.metrics.refuse(match why {
                    Refused::Total => "connections",
                    Refused::PerAddress => "connections_per_address",
                });
                debug!(%peer, ?why, "connection over a cap refused");
                // Best effort and never waited on: the socket is new, its buffer empty.
                let _ = tcp.try_write(REFUSED);
                continue;
            }
        };
        let app = app.clone();
        let edge = edge.clone();
        let acceptor = acceptor.clone();
        let stop = stop.clone();
        edge.metrics.connections.inc();
        tokio::spawn(async move {
            let conn = ticket.conn().clone();
            tokio::select! {
                () = connection(tcp, peer, app, &edge, acceptor, stop, conn.clone()) => {}
                // Its place was given to a newcomer while it idled: closed.
                () = conn.evicted() => debug!(%peer, "idle connection evicted"),
            }
            edge.metrics.connections.dec();
            drop(ticket);
        });
    }
    if tokio::time::timeout(grace, edge.admission.drained())
        .await
        .is_err()
    {
        warn!(
            open = edge.admission.open(),
            "HTTP connections still open at stop"
        );
    }
}

/// Errors of one connection (reset before it was accepted, say), not of the listener.
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    app: Router,
    edge: &Edge,
    acceptor: Option<TlsAcceptor>,
    stop: watch::Receiver<bool>,
    conn: Arc<Conn>,
) {
    let _ = tcp.set_nodelay(true);
    let mut io = TimeoutStream::new(tcp);
    io.set_write_timeout(Some(edge.limits.write_timeout()));
    let io = Box::pin(io);
    match acceptor {
        None => http(io, peer, app, Scheme::Http, edge, stop, conn).await,
        Some(acceptor) => {
            match tokio::time::timeout(edge.limits.header_timeout(), acceptor.accept(io)).await {
                Ok(Ok(mut tls)) => {
                    if tls.get_ref().1.alpn_protocol() == Some(acme::ACME_TLS_ALPN) {
                        // A CA's TLS-ALPN-01 validation: the handshake was the answer.
                        debug!(%peer, "ACME TLS-ALPN-01 validation answered");
                        let _ = tls.shutdown().await;
                        return;
                    }
                    http(tls, peer, app, Scheme::Https, edge, stop, conn).await
                }
                Ok(Err(e)) => debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => {
                    edge.metrics.timed_out("header");
                    debug!(%peer, "TLS handshake timed out");
                }
            }
        }
    }
}

async fn http<I>(
    io: I,
    peer: SocketAddr,
    app: Router,
    scheme: Scheme,
    edge: &Edge,
    mut stop: watch::Receiver<bool>,
    conn: Arc<Conn>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        req.extensions_mut().insert(scheme);
        // Busy (not to be evicted) from the request until its answer's body is sent or dropped.
        let busy = conn.begin();
        let answer = app.clone().oneshot(req);
        async move {
            let response = answer.await?;
            Ok::<_, std::convert::Infallible>(response.map(move |body| {
                axum::body::Body::new(http_body_util::BodyExt::map_frame(body, move |frame| {
                    let _ = &busy;
                    frame
                }))
            }))
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(edge.limits.header_timeout())
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(io), service);
    let mut conn = std::pin::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        () = async { let _ = stop.wait_for(|s| *s).await; } => {
            // Finish the request being answered, then close.
            conn.as_mut().graceful_shutdown();
            conn.as_mut().await
        }
    };
    if let Err(e) = result {
        if e.is_timeout() {
            edge.metrics.timed_out("header");
        } else if is_timed_out(&e) {
            edge.metrics.timed_out("write");
        }
        debug!(%peer, error = %e, "HTTP connection ended with an error");
    }
}

/// A write that made no progress within the write timeout (tokio-io-timeout's `TimedOut`).
fn is_timed_out(e: &hyper::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::TimedOut;
        }
        source = s.source();
    }
    false
}
