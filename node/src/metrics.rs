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
        let (records_stored, gossip_rejected, fork_evidence, sync_ranges) = Default::default();
        let pending_records = Gauge::default();
        let mut registry = Registry::with_prefix("hubnet");
        for (name, help, counter) in [
            (
                "records_stored",
                "Records stored, from any source",
                &records_stored,
            ),
            (
                "gossip_rejected",
                "Gossip messages rejected as invalid",
                &gossip_rejected,
            ),
            (
                "fork_evidence",
                "Fork evidence records kept",
                &fork_evidence,
            ),
            ("sync_ranges", "Sync range answers received", &sync_ranges),
        ] {
            registry.register(name, help, Counter::clone(counter));
        }
        registry.register(
            "pending_records",
            "Records waiting for a gap in their log to fill",
            pending_records.clone(),
        );
        Self {
            registry: Mutex::new(registry),
            records_stored,
            gossip_rejected,
            fork_evidence,
            sync_ranges,
            pending_records,
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
