//! The hubnet node: the durable store, bundles and the command line. The binary `hubnet` is a thin
//! wrapper around [`cli::run`].

pub mod bundle;
pub mod cli;
pub mod ingest;
pub mod keyfile;
pub mod store;
pub mod view;

/// Milliseconds since the Unix epoch, from the system clock: the only clock the node reads.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
