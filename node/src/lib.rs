//! The hubnet node: the durable store, bundles, the command line, and `hubnet run` (libp2p, the
//! ingest worker and the HTTP API). The binary `hubnet` is a thin
//! wrapper around [`cli::run`].

pub mod api;
pub mod backup;
pub mod bundle;
pub mod cli;
pub mod compare;
pub mod compat;
pub mod config;
pub mod current;
pub mod directory;
pub mod durable;
pub mod edge;
pub mod feeds;
pub mod ingest;
pub mod keyfile;
pub mod kinds;
pub mod lang;
pub mod metrics;
pub mod net;
pub mod oai;
pub mod programmes;
pub mod sample;
pub mod search;
pub mod service;
pub mod shared;
pub mod signals;
pub mod store;
pub mod synth;
#[cfg(test)]
mod test_support;
pub mod view;
pub mod worker;

/// Milliseconds since the Unix epoch, from the system clock: the only clock the node reads.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
