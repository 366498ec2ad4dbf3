//! Prometheus metrics of a running node (`GET /metrics`): libp2p's transport bandwidth and the
//! node's own counters. The gauges of what the node holds (records, forks, live peers, the
//! search index's lag, readiness) are set when `/metrics` is read (`api::operations`), so they
//! are never older than the scrape; HTTP requests are counted as they are answered.
//! `deploy/prometheus/alerts.yml` and `deploy/grafana/hubnet.json` use these names (a test
//! checks each name they use against a real node's `/metrics`).

use std::sync::Mutex;

use std::sync::atomic::AtomicU64;
use std::time::Instant;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
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
    /// Gossip messages dropped at a full ingest queue (sync fetches their records later).
    pub gossip_dropped: Counter,
    /// Records stored but not sent into gossip, over their author's gossip budget (peers fetch
    /// them by sync).
    pub gossip_held_back: Counter,
    /// Fork evidence records kept.
    pub fork_evidence: Counter,
    /// Sync ranges received.
    pub sync_ranges: Counter,
    /// How each range request this node made ended.
    pub sync_range_ends: Family<RangeEndLabel, Counter>,
    /// Copies of erased bodies offered again (stale peers, old bundles) and refused.
    pub erased_bodies_refused: Counter,
    /// Records waiting for a gap to fill.
    pub pending_records: Gauge,
    /// Seconds each stage of the ingest worker spent in each phase.
    pub ingest_seconds: Family<PhaseLabel, Counter<f64, AtomicU64>>,
    /// Records the store holds (set at each scrape).
    pub records: Gauge,
    /// Places (author, seq) where the store holds fork evidence (set at each scrape).
    pub forks: Gauge,
    /// Live peers (set at each scrape).
    pub peers: Gauge,
    /// Journal bytes stored but not yet searchable (set at each scrape).
    pub search_lag_bytes: Gauge,
    /// How long the search index has been behind the store, in seconds (set at each scrape).
    pub search_lag_seconds: Gauge<f64, AtomicU64>,
    /// 1 when every readiness check holds (`GET /readyz` answers 200), else 0.
    pub ready: Gauge,
    /// Each readiness check: 1 when it holds.
    pub readiness_check: Family<CheckLabel, Gauge>,
    /// HTTP requests answered, by route and status code.
    pub http_requests: Family<HttpLabel, Counter>,
    /// Seconds from a request's arrival to its answer's head (a streamed body may take longer).
    pub http_request_seconds: Histogram,
    /// Records this node signed per group commit (one journal write and `fdatasync` each): the
    /// histogram's count is the group commits, its sum the records published.
    pub publish_group_records: Histogram,
}

/// The label set of [`Metrics::readiness_check`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct CheckLabel {
    /// The check's name (`store`, `search_index`, `peers`).
    pub check: &'static str,
}

/// The label set of [`Metrics::http_requests`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct HttpLabel {
    /// The route's pattern (`/api/v1/records/{id}`), or `unmatched` for a path no route
    /// matches, so that the label's values stay few.
    pub route: String,
    /// The status code of the answer.
    pub code: u16,
}

/// The ingest worker's two threads (the `stage` label of `hubnet_ingest_seconds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Collects jobs into batches and verifies their records.
    Verify,
    /// Stores verified batches, handles governance and checkpoints, answers.
    Store,
}

/// What a stage of the ingest worker was doing (the `phase` label of `hubnet_ingest_seconds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Waiting for work.
    Idle,
    /// Decoding, checking and verifying signatures, without the store.
    Verify,
    /// Waiting for the store stage to take a batch, or to handle a control job.
    Handoff,
    /// Waiting for the store's write lock (held by readers: the search indexer, sync, the API).
    StoreLock,
    /// Checking logs and storing, group commit and `fdatasync` included; governance and
    /// checkpoint jobs.
    Store,
    /// Handing verdicts and head moves to the swarm task (waits while it is behind).
    Answer,
}

impl Stage {
    /// The label value.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Verify => "verify",
            Stage::Store => "store",
        }
    }
}

impl EncodeLabelValue for Stage {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        std::fmt::Write::write_str(encoder, self.name())
    }
}

impl Phase {
    /// The label value.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Verify => "verify",
            Phase::Handoff => "handoff",
            Phase::StoreLock => "store_lock",
            Phase::Store => "store",
            Phase::Answer => "answer",
        }
    }
}

impl EncodeLabelValue for Phase {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        std::fmt::Write::write_str(encoder, self.name())
    }
}

/// How a range request this node made ended (the `end` label of `hubnet_sync_range_ends`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RangeEnd {
    /// Records came back and at least one was stored.
    Stored,
    /// Records came back and every one was held already (gossip brought them meanwhile).
    AllHeld,
    /// The peer answered with no records.
    Empty,
    /// The records held another branch of the log.
    Diverged,
    /// The records were invalid.
    Invalid,
    /// Records came back while the ingest worker's queue was full, and were dropped.
    WorkerBusy,
    /// The request failed in transport (refused, connection lost, timed out in libp2p).
    Transport,
}

impl RangeEnd {
    /// The label value.
    pub fn name(self) -> &'static str {
        match self {
            RangeEnd::Stored => "stored",
            RangeEnd::AllHeld => "all_held",
            RangeEnd::Empty => "empty",
            RangeEnd::Diverged => "diverged",
            RangeEnd::Invalid => "invalid",
            RangeEnd::WorkerBusy => "worker_busy",
            RangeEnd::Transport => "transport",
        }
    }
}

impl EncodeLabelValue for RangeEnd {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        std::fmt::Write::write_str(encoder, self.name())
    }
}

/// The label set of [`Metrics::sync_range_ends`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RangeEndLabel {
    /// How it ended.
    pub end: RangeEnd,
}

/// The label set of [`Metrics::ingest_seconds`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct PhaseLabel {
    /// The stage.
    pub stage: Stage,
    /// The phase.
    pub phase: Phase,
}

impl Default for Metrics {
    fn default() -> Self {
        let (
            records_stored,
            gossip_rejected,
            gossip_dropped,
            gossip_held_back,
            fork_evidence,
            sync_ranges,
            erased_bodies_refused,
        ) = Default::default();
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
                "gossip_dropped",
                "Gossip messages dropped at a full ingest queue (sync fetches their records once there is room)",
                &gossip_dropped,
            ),
            (
                "gossip_held_back",
                "Records stored but not sent into gossip, over their author's gossip budget (peers fetch them by sync)",
                &gossip_held_back,
            ),
            (
                "fork_evidence",
                "Fork evidence records kept",
                &fork_evidence,
            ),
            ("sync_ranges", "Sync range answers received", &sync_ranges),
            (
                "erased_bodies_refused",
                "Copies of erased records' bodies offered again and refused",
                &erased_bodies_refused,
            ),
        ] {
            registry.register(name, help, Counter::clone(counter));
        }
        registry.register(
            "pending_records",
            "Records waiting for a gap in their log to fill",
            pending_records.clone(),
        );
        let sync_range_ends = Family::<RangeEndLabel, Counter>::default();
        registry.register(
            "sync_range_ends",
            "Range requests this node made, by how they ended: stored, all_held, empty, diverged, invalid, worker_busy (dropped at a full ingest queue), transport",
            sync_range_ends.clone(),
        );
        let ingest_seconds = Family::<PhaseLabel, Counter<f64, AtomicU64>>::default();
        registry.register(
            "ingest_seconds",
            "Seconds each stage of the ingest worker spent in each phase: verify stage (idle, verify, handoff), store stage (idle, store_lock, store, answer)",
            ingest_seconds.clone(),
        );
        let (records, forks, peers, search_lag_bytes, ready) = Default::default();
        for (name, help, gauge) in [
            ("records", "Records the store holds", &records),
            (
                "forks",
                "Places (author, seq) where the store holds fork evidence",
                &forks,
            ),
            (
                "peers",
                "Live peers (connected and answering pings)",
                &peers,
            ),
            (
                "search_lag_bytes",
                "Journal bytes stored but not yet searchable",
                &search_lag_bytes,
            ),
            (
                "ready",
                "1 when every readiness check holds (GET /readyz answers 200), else 0",
                &ready,
            ),
        ] {
            registry.register(name, help, Gauge::clone(gauge));
        }
        let search_lag_seconds = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "search_lag_seconds",
            "Seconds since the search index last held every stored record (0 when it does now)",
            search_lag_seconds.clone(),
        );
        let readiness_check = Family::<CheckLabel, Gauge>::default();
        registry.register(
            "readiness_check",
            "Each readiness check of GET /readyz: 1 when it holds, else 0",
            readiness_check.clone(),
        );
        let http_requests = Family::<HttpLabel, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route pattern and status code",
            http_requests.clone(),
        );
        // 1 ms to about 16 s.
        let http_request_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 15));
        registry.register(
            "http_request_duration_seconds",
            "Seconds from an HTTP request's arrival to its answer's head",
            http_request_seconds.clone(),
        );
        // 1 to 512 (the worker's largest batch).
        let publish_group_records = Histogram::new(exponential_buckets(1.0, 2.0, 10));
        registry.register(
            "publish_group_records",
            "Records this node signed per group commit (one journal write and fdatasync each)",
            publish_group_records.clone(),
        );
        Self {
            registry: Mutex::new(registry),
            records_stored,
            gossip_rejected,
            gossip_dropped,
            gossip_held_back,
            fork_evidence,
            sync_ranges,
            sync_range_ends,
            erased_bodies_refused,
            pending_records,
            ingest_seconds,
            records,
            forks,
            peers,
            search_lag_bytes,
            search_lag_seconds,
            ready,
            readiness_check,
            http_requests,
            http_request_seconds,
            publish_group_records,
        }
    }
}

impl Metrics {
    /// Counts a range request that ended with `end`.
    pub fn range_ended(&self, end: RangeEnd) {
        self.sync_range_ends
            .get_or_create(&RangeEndLabel { end })
            .inc();
    }

    /// Adds the time since `*since` to `stage`'s `phase` and restarts the clock.
    pub fn ingest_phase(&self, stage: Stage, phase: Phase, since: &mut Instant) {
        let now = Instant::now();
        self.ingest_seconds
            .get_or_create(&PhaseLabel { stage, phase })
            .inc_by((now - *since).as_secs_f64());
        *since = now;
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingest_phases_add_up_under_their_own_labels() {
        let m = Metrics::default();
        let mut clock = Instant::now() - std::time::Duration::from_millis(250);
        m.ingest_phase(Stage::Store, Phase::StoreLock, &mut clock);
        let after_first = clock;
        m.ingest_phase(Stage::Store, Phase::StoreLock, &mut clock);
        assert!(clock >= after_first, "the clock restarts at each phase");
        let text = m.encode();
        let line = text
            .lines()
            .find(|l| {
                l.starts_with("hubnet_ingest_seconds_total{stage=\"store\",phase=\"store_lock\"}")
            })
            .unwrap_or_else(|| panic!("no store_lock line in:\n{text}"));
        let seconds: f64 = line
            .rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("not a number: {line}"));
        assert!((0.25..10.0).contains(&seconds), "{seconds}");
        assert!(
            !text.contains("phase=\"idle\""),
            "a phase appears once it has been timed"
        );
    }
}
