//! Prometheus metrics of a running node (`GET /metrics`): libp2p's transport bandwidth and the
//! node's own counters.

use std::sync::Mutex;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// The node's metrics.
#[derive(Debug)]
pub struct Metrics {
    /// Every metric, for encoding; libp2p registers its bandwidth counters here too.
    pub registry: Mutex<Registry>,
    /// Records stored, from any source.
    pub records_stored: Counter,
    /// Gossip messages rejected as invalid.
    pub gossip_rejected: Counter,
    /// Fork evidence records kept.
    pub fork_evidence: Counter,
    /// Sync ranges received.
    pub sync_ranges: Counter,
    /// Records waiting for a gap to fill.
    pub pending_records: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("hubnet");
        let m = Self {
            records_stored: Counter::default(),
            gossip_rejected: Counter::default(),
            fork_evidence: Counter::default(),
            sync_ranges: Counter::default(),
            pending_records: Gauge::default(),
            registry: Mutex::new(Registry::default()),
        };
        registry.register(
            "records_stored",
            "Records stored, from any source",
            m.records_stored.clone(),
        );
        registry.register(
            "gossip_rejected",
            "Gossip messages rejected as invalid",
            m.gossip_rejected.clone(),
        );
        registry.register(
            "fork_evidence",
            "Fork evidence records kept",
            m.fork_evidence.clone(),
        );
        registry.register(
            "sync_ranges",
            "Sync range answers received",
            m.sync_ranges.clone(),
        );
        registry.register(
            "pending_records",
            "Records waiting for a gap in their log to fill",
            m.pending_records.clone(),
        );
        Self {
            registry: Mutex::new(registry),
            ..m
        }
    }
}

impl Metrics {
    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let registry = self
            .registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }
}
