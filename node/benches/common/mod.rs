//! What the benches that run a real `hubnet run` share: the sample folder, free ports, starting
//! a node on a data dir and waiting until it has indexed a corpus, stopping it.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A path under the repository's `deploy/sample`.
pub fn sample(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy/sample")
        .join(p)
}

/// Builds `store`'s search index in `data` from its whole journal, as a rebuild does (the
/// indexer catching up); returns the store and how long the catch-up took.
pub fn index_whole_journal(
    store: hubnet_node::store::Store,
    data: &Path,
) -> (hubnet_node::store::Store, Duration) {
    use hubnet_node::search::SearchIndex;
    use hubnet_node::search::indexer::Indexer;
    let network = store.charter().network_id();
    let (index, applied, followed) =
        SearchIndex::open(data, network, store.journal_end()).expect("index");
    let store = std::sync::RwLock::new(store);
    let mut indexer =
        Indexer::new(index, applied, followed, &store.read().expect("lock")).expect("indexer");
    let started = Instant::now();
    indexer
        .catch_up(&store, &std::sync::atomic::AtomicBool::new(false))
        .expect("indexing");
    let took = started.elapsed();
    drop(indexer);
    (store.into_inner().expect("store"), took)
}

/// The value at fraction `p` of `sorted` (nearest rank).
pub fn percentile<T: Copy>(sorted: &[T], p: f64) -> T {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// `GET /api/v1/status` of the node at `http` (a base URL), or null while it does not answer.
pub fn status(c: &reqwest::blocking::Client, http: &str) -> serde_json::Value {
    c.get(format!("{http}/api/v1/status"))
        .send()
        .ok()
        .and_then(|r| r.json().ok())
        .unwrap_or(serde_json::Value::Null)
}

/// A port free on 127.0.0.1 now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Starts `hubnet run` (logging warnings only) on `data`, its node key and config in `dir`, HTTP
/// on a free port of 127.0.0.1, with `extra` (TOML: tables such as `[http_limits]`) at the end of
/// its config. Returns the process and its HTTP address.
pub fn start_node(dir: &Path, data: &Path, extra: &str) -> (Child, SocketAddr) {
    let http = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let config = dir.join("node.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{}\"\nnode_key = \"{}\"\nlisten = [\"/ip4/127.0.0.1/tcp/{}\"]\nhttp = \"{http}\"\nadmin_token = \"bench-token-0123456789\"\n{extra}",
            data.display(),
            dir.join("node.key").display(),
            free_port()
        ),
    )
    .expect("config");
    let node = Command::new(env!("CARGO_BIN_EXE_hubnet"))
        .args(["--log", "warn", "run", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .spawn()
        .expect("hubnet run");
    (node, http)
}

/// Waits (at most `limit`) until the node at `http` finds `n` records.
pub fn wait_indexed(http: SocketAddr, n: usize, limit: Duration) {
    let client = reqwest::blocking::Client::new();
    let deadline = Instant::now() + limit;
    loop {
        let total = client
            .get(format!("http://{http}/api/v1/records?limit=1"))
            .send()
            .ok()
            .and_then(|r| r.json::<serde_json::Value>().ok())
            .and_then(|v| v["total"].as_u64());
        if total == Some(n as u64) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the node did not index {n} records"
        );
        std::thread::sleep(Duration::from_millis(200)); // poll interval of this deadline loop
    }
}

/// Stops a node with SIGTERM and waits for it.
pub fn stop(mut node: Child) {
    stop_child(&mut node);
}

/// SIGTERM to `child`, then waits for it to exit.
pub fn stop_child(child: &mut Child) {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX)),
        nix::sys::signal::Signal::SIGTERM,
    );
    let _ = child.wait();
}

/// Waits until `cond` holds, at most `limit` (then panics naming `what`).
pub fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(20)); // poll interval of this deadline loop
    }
}
