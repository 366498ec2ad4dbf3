//! Shared helpers: the binary, the sample network, and a small deterministic random source.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `hubnet` binary under test.
pub fn hubnet() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hubnet"));
    c.env("RUST_LOG", "warn");
    c
}

/// Runs `hubnet ARGS` to completion.
pub fn run(args: &[&str]) -> Output {
    hubnet().args(args).output().expect("hubnet runs")
}

/// Runs `hubnet ARGS`, requires success, returns stdout.
pub fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "hubnet {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// The repository's `deploy/sample` folder.
pub fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/sample")
}

/// A sample member's key file.
pub fn sample_key(code: &str) -> PathBuf {
    sample().join("keys").join(format!("{code}.key"))
}

/// The sample charter, verified.
pub fn sample_charter() -> hubnet_protocol::Charter {
    let text = std::fs::read_to_string(sample().join("charter.toml")).expect("charter");
    hubnet_protocol::charter::CharterDoc::from_toml(&text)
        .and_then(|d| d.verify())
        .expect("sample charter")
}

/// Polls `done` until it holds, or panics with `what` after `limit`.
pub fn poll_until(what: &str, limit: std::time::Duration, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + limit;
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not within {limit:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100)); // poll interval of this deadline loop
    }
}

/// A data dir initialised for the sample charter, inside `dir`.
pub fn sample_data_dir(dir: &Path) -> PathBuf {
    let data = dir.join("data");
    init_data_dir(&data, &sample().join("charter.toml"));
    data
}

/// `hubnet init --data-dir DATA --charter CHARTER`.
pub fn init_data_dir(data: &Path, charter: &Path) {
    ok(&["init", "--data-dir", path(data), "--charter", path(charter)]);
}

/// A path as `&str` (test paths are UTF-8).
pub fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// xorshift64*: enough randomness to pick kill moments, reproducible from a printed seed.
pub struct Rng(u64);

impl Rng {
    /// Seeded from `HUBNET_TEST_SEED` or the clock; prints the seed.
    pub fn from_env() -> Self {
        let seed = std::env::var("HUBNET_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            });
        eprintln!("HUBNET_TEST_SEED={seed}");
        Self(seed | 1)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

/// Appends `total` valid practice records to the store at `data`, round robin over the sample
/// members `codes` (the store must not be open elsewhere).
pub fn fill_store(data: &Path, codes: &[&str], total: usize) {
    let mut store = hubnet_node::store::Store::open(data).expect("opens");
    let keys: Vec<_> = codes
        .iter()
        .map(|c| hubnet_node::keyfile::read(&sample_key(c)).expect("sample key"))
        .collect();
    hubnet_node::synth::fill(&mut store, &keys, total, hubnet_node::now_ms()).expect("fills");
}
