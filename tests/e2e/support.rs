//! Shared helpers: the binary, the sample network, and a small deterministic random source.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use hubnet_node::edge::TlsFiles;

/// A TCP port on 127.0.0.1 free at the time of asking, for a server a test starts.
///
/// Not one the kernel hands out for `bind(0)`: those come from the ephemeral range, which is
/// also where every outgoing connection's source port comes from, so a port found that way and
/// released can be taken by any connection (or another test's `bind(0)`) before the server binds
/// it, and a test then talks to someone else's node. Ports here come from below the ephemeral
/// range, each handed out once per test process, starting at a place that depends on the
/// process id so two test processes rarely walk the same ports.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const FIRST: u32 = 12_000;
    const SPAN: u32 = 20_000; // 12000..32000, below Linux's default ephemeral range (32768..)
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let _ = NEXT.compare_exchange(
        u32::MAX,
        std::process::id().wrapping_mul(7919) % SPAN,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    for _ in 0..SPAN {
        let n = NEXT.fetch_add(1, Ordering::SeqCst) % SPAN;
        let port = u16::try_from(FIRST + n).expect("below 32000");
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {FIRST}..{}", FIRST + SPAN)
}

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

/// A CA, and a certificate of `name` it signed (the chain: the certificate, then the CA).
pub struct Pki {
    pub ca: rcgen::Certificate,
    ca_key: rcgen::KeyPair,
}

impl Pki {
    pub fn new() -> Self {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "hubnet test CA");
        let ca_key = rcgen::KeyPair::generate().expect("key");
        let ca = params.self_signed(&ca_key).expect("CA");
        Pki { ca, ca_key }
    }

    /// Writes a fresh certificate of `name` and its key into `files`.
    pub fn issue(&self, name: &str, files: &TlsFiles) -> Vec<u8> {
        let key = rcgen::KeyPair::generate().expect("key");
        let params = rcgen::CertificateParams::new(vec![name.to_owned()]).expect("params");
        let cert = params
            .signed_by(&key, &self.ca, &self.ca_key)
            .expect("certificate");
        std::fs::write(&files.cert, format!("{}{}", cert.pem(), self.ca.pem())).expect("cert");
        std::fs::write(&files.key, key.serialize_pem()).expect("key");
        cert.der().to_vec()
    }

    /// The CA's public key hash as Chromium's `--ignore-certificate-errors-spki-list` takes it
    /// (SHA-256 of the SubjectPublicKeyInfo, base64): a browser given it trusts this CA.
    pub fn spki_hash(&self) -> String {
        use base64::Engine;
        use sha2::Digest;
        base64::engine::general_purpose::STANDARD
            .encode(sha2::Sha256::digest(self.ca_key.public_key_der()))
    }
}

/// One HTTPS GET of `path` at `addr` as `name`, trusting only `ca`: the answer's text and the
/// certificate the node presented.
pub fn https_get(
    addr: SocketAddr,
    name: &str,
    ca: &rcgen::Certificate,
    path: &str,
) -> Option<(String, Vec<u8>)> {
    https_get_trusting(addr, name, ca.der(), path)
}

/// [`https_get`] trusting only the root certificate `root` (DER).
pub fn https_get_trusting(
    addr: SocketAddr,
    name: &str,
    root: &[u8],
    path: &str,
) -> Option<(String, Vec<u8>)> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(root.to_vec()))
        .expect("root");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let server = rustls::pki_types::ServerName::try_from(name.to_owned()).expect("name");
    let mut conn = rustls::ClientConnection::new(Arc::new(config), server).expect("client");
    let mut tcp = TcpStream::connect(addr).ok()?;
    tcp.set_read_timeout(Some(Duration::from_secs(15))).ok()?;
    let mut tls = rustls::Stream::new(&mut conn, &mut tcp);
    tls.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .ok()?;
    let mut text = String::new();
    let _ = tls.read_to_string(&mut text);
    let cert = conn.peer_certificates()?.first()?.to_vec();
    Some((text, cert))
}

/// Whether `command` runs (a tool a test needs); without it, says that `what` did not run and
/// returns false, unless the environment variable `require` is set (as `.ci/run` sets it): then
/// the test fails, saying `install`.
pub fn tool_here(command: &[&str], require: &str, what: &str, install: &str) -> bool {
    let here = command.split_first().is_some_and(|(program, args)| {
        Command::new(program)
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !here {
        assert!(
            std::env::var_os(require).is_none(),
            "{require} is set but {command:?} fails ({install})"
        );
        eprintln!("{what} NOT RUN: {command:?} fails ({install})");
    }
    here
}

/// Whether this process runs as root (the effective uid, from `/proc/self/status`).
pub fn is_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        == Some("0")
}

/// Says loudly that `what` did not run, and why; fails instead when `HUBNET_REQUIRE_LAB=1` (as
/// `.ci/run` sets it), since the tests that need root must run there.
pub fn did_not_run(what: &str, why: &str) {
    eprintln!(
        "\n************************************************************\n\
         * {what} DID NOT RUN: {why}\n\
         * (run the e2e suite as root; HUBNET_REQUIRE_LAB=1 makes this a failure)\n\
         ************************************************************\n"
    );
    assert!(
        std::env::var("HUBNET_REQUIRE_LAB").as_deref() != Ok("1"),
        "HUBNET_REQUIRE_LAB=1 but {what} cannot run: {why}"
    );
}
