//! The HTTP edge's metrics: connections open, what was refused and why, what timed out.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// The label of [`EdgeMetrics::refused`]: why a connection or request was turned away.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct Why {
    /// `connections`, `connections_per_address` (a connection over a cap), `rate` (429),
    /// `busy` (503: requests at once), `streams` (503: exports and feeds at once), `posts`
    /// (503: unauthenticated bodies at once), `token` (401 on an admin route), `evicted` (an
    /// idle connection closed to make room for a new one).
    pub reason: &'static str,
}

/// The label of [`EdgeMetrics::timeouts`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct Which {
    /// `header` (headers or idle keep-alive, TLS handshake), `write` (a client not reading),
    /// `body` (408), `answer` (a handler past the request timeout).
    pub kind: &'static str,
}

/// Registered under `hubnet_http_*`.
#[derive(Debug, Default)]
pub struct EdgeMetrics {
    /// Connections open.
    pub connections: Gauge,
    /// Connections and requests turned away, by reason.
    pub refused: Family<Why, Counter>,
    /// Connections and requests ended by a timeout, by kind.
    pub timeouts: Family<Which, Counter>,
}

impl EdgeMetrics {
    /// Registers the metrics in `registry` (the node's, prefixed `hubnet`).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "http_connections",
            "HTTP connections open",
            self.connections.clone(),
        );
        registry.register(
            "http_refused",
            "HTTP connections and requests turned away, by reason (connections, connections_per_address, rate, busy, streams, posts, token, evicted, author_pace)",
            self.refused.clone(),
        );
        registry.register(
            "http_timeouts",
            "HTTP connections and requests ended by a timeout, by kind (header, write, body, answer)",
            self.timeouts.clone(),
        );
    }

    /// Counts one refusal.
    pub fn refuse(&self, reason: &'static str) {
        self.refused.get_or_create(&Why { reason }).inc();
    }

    /// Counts one timeout.
    pub fn timed_out(&self, kind: &'static str) {
        self.timeouts.get_or_create(&Which { kind }).inc();
    }
}
