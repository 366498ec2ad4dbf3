//! The HTTP edge against hostile clients, measured from other processes against a real
//! `hubnet run` (release build, the default `[http_limits]`) holding 2,000 practices of about
//! 60 KB (a JSON export of them is about 280 MB), as the issue found the node without an edge:
//!
//! 1. 20,000 stalled connections attempted (from one address, then spread over 100), while a
//!    prober asks `GET /api/v1/status` over a new connection every 50 ms: its p50/p99 and
//!    failures beside the same prober on the idle node (the raw limit), and the node's open
//!    descriptors at most, beside its cap;
//! 2. 1,000 unauthenticated unfinished bodies of 1 MB (to the admin route, and to the public
//!    decisions route): the node's resident memory at most, beside its idle level;
//! 3. 12 concurrent JSON exports of the whole corpus by clients reading 1 MB/s: the same.
//!
//! After each, how long resident memory takes to come back under twice the idle level (at most a
//! minute). Attackers are child processes of this bench (the bench binary itself, with
//! `HUBNET_EDGE_ROLE` set), from 127.0.0.2 and up; the prober is this process, from 127.0.0.1.
//! Run with `cargo bench -p hubnet-node --bench edge` (Linux: /proc is read).

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hubnet_node::store::Store;
use hubnet_protocol::record::Position;

/// Practices in the corpus.
const RECORDS: usize = 2_000;
/// How many times the synthetic body is repeated (about 1.4 KB each): about 56 KB.
const BODY_REPEAT: usize = 40;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A field of /proc/PID/status in kB.
fn status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn rss_mb(pid: u32) -> f64 {
    status_kb(pid, "VmRSS:") as f64 / 1024.0
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

/// A connection from `from` (127.0.0.x) to `to`.
fn connect_from(from: [u8; 4], to: SocketAddr) -> std::io::Result<TcpStream> {
    use socket2::{Domain, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    s.bind(&SocketAddr::from((from, 0)).into())?;
    s.connect_timeout(&to.into(), Duration::from_secs(5))?;
    Ok(s.into())
}

/// The address of attacker `i` of `spread` (127.0.0.2 and up).
fn attacker_ip(base: u8, i: usize, spread: usize) -> [u8; 4] {
    [
        127,
        0,
        1 + (i % spread / 250) as u8,
        base + (i % spread % 250) as u8,
    ]
}

/// Runs as an attacker child: `HUBNET_EDGE_ROLE=kind,port,n,spread`. Stops when stdin closes.
fn attacker(role: &str) {
    let parts: Vec<&str> = role.split(',').collect();
    let (kind, port, n, spread) = (
        parts[0],
        parts[1].parse::<u16>().expect("port"),
        parts[2].parse::<usize>().expect("n"),
        parts[3].parse::<usize>().expect("spread"),
    );
    // As many descriptors as the machine lets this process have.
    if let Ok((_, hard)) =
        nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
    {
        let _ =
            nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, hard, hard);
    }
    let to = SocketAddr::from(([127, 0, 0, 1], port));
    let mut held = Vec::new();
    let body = vec![b'x'; 64 * 1024];
    for i in 0..n {
        let Ok(mut s) = connect_from(attacker_ip(2, i, spread), to) else {
            continue;
        };
        match kind {
            "stalled" => {}
            "body-admin" | "body-open" => {
                let path = if kind == "body-admin" {
                    "/api/v1/records"
                } else {
                    "/api/v1/governance/decisions"
                };
                let head = format!(
                    "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 1048576\r\n\r\n"
                );
                let _ = s.set_write_timeout(Some(Duration::from_millis(200)));
                if s.write_all(head.as_bytes()).is_ok() {
                    // Up to 1 MB less a byte: unfinished.
                    let mut sent = 0;
                    while sent + body.len() < 1_048_575 && s.write_all(&body).is_ok() {
                        sent += body.len();
                    }
                }
            }
            other => panic!("unknown role {other}"),
        }
        held.push(s);
    }
    println!("ready {}", held.len());
    let _ = std::io::stdout().flush();
    let mut rest = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut rest);
    drop(held);
}

/// An attacker child, holding its connections until dropped.
struct Attack(Child);

impl Attack {
    fn start(kind: &str, port: u16, n: usize, spread: usize) -> Self {
        let mut child = Command::new(std::env::current_exe().expect("this bench"))
            .env("HUBNET_EDGE_ROLE", format!("{kind},{port},{n},{spread}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("an attacker");
        // Wait for its "ready" line: every connection attempted.
        let mut out = child.stdout.take().expect("stdout");
        let mut line = Vec::new();
        let mut b = [0u8; 1];
        while out.read(&mut b).map(|n| n == 1).unwrap_or(false) && b[0] != b'\n' {
            line.push(b[0]);
        }
        eprintln!("attacker {kind}: {}", String::from_utf8_lossy(&line));
        Attack(child)
    }
}

impl Drop for Attack {
    fn drop(&mut self) {
        drop(self.0.stdin.take());
        let _ = self.0.wait();
    }
}

/// Asks `GET /api/v1/status` on a new connection every 50 ms until `stop`: latencies of the
/// answers (200) and the count of failures.
fn probe(to: SocketAddr, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<(Vec<f64>, usize)> {
    std::thread::spawn(move || {
        let mut lat = Vec::new();
        let mut failed = 0;
        while !stop.load(Ordering::Relaxed) {
            let t = Instant::now();
            let ok = (|| -> std::io::Result<bool> {
                let mut s = TcpStream::connect_timeout(&to, Duration::from_secs(5))?;
                s.set_read_timeout(Some(Duration::from_secs(5)))?;
                s.write_all(
                    b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                )?;
                let mut text = String::new();
                s.read_to_string(&mut text)?;
                Ok(text.starts_with("HTTP/1.1 200"))
            })();
            match ok {
                Ok(true) => lat.push(t.elapsed().as_secs_f64() * 1000.0),
                _ => failed += 1,
            }
            std::thread::sleep(Duration::from_millis(50)); // the prober's pace
        }
        (lat, failed)
    })
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// Samples `f` every 100 ms for `d`; the largest value.
fn peak<T: PartialOrd + Copy>(d: Duration, f: impl Fn() -> T) -> T {
    let end = Instant::now() + d;
    let mut best = f();
    while Instant::now() < end {
        let v = f();
        if v > best {
            best = v;
        }
        std::thread::sleep(Duration::from_millis(100)); // sampling interval
    }
    best
}

/// Seconds until the node's memory is under `limit` MB (None: not within a minute).
fn settles(pid: u32, limit: f64) -> Option<f64> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if rss_mb(pid) < limit {
            return Some(start.elapsed().as_secs_f64());
        }
        std::thread::sleep(Duration::from_millis(250)); // sampling interval
    }
    None
}

fn main() {
    if let Ok(role) = std::env::var("HUBNET_EDGE_ROLE") {
        attacker(&role);
        return;
    }
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let charter_text = std::fs::read_to_string(common::sample("charter.toml")).expect("charter");
    {
        let mut store = Store::init(&data, &charter_text).expect("store");
        let keys: Vec<_> = ["AM", "AZ", "GE", "HUB", "KG", "KZ", "TJ", "UZ"]
            .iter()
            .map(|c| {
                hubnet_node::keyfile::read(&common::sample(&format!("keys/{c}.key")))
                    .expect("sample key")
            })
            .collect();
        let mut positions = vec![Position::FIRST; keys.len()];
        let records = hubnet_node::synth::practices_of(
            store.charter(),
            &keys,
            &mut positions,
            RECORDS,
            BODY_REPEAT,
            now_ms() - 60_000,
        )
        .expect("records");
        for chunk in records.chunks(256) {
            store.append(chunk).expect("append");
        }
        store.flush().expect("flush");
    }
    let (node, to) = common::start_node(dir.path(), &data, "");
    let (pid, port) = (node.id(), to.port());
    common::wait_indexed(to, RECORDS, Duration::from_secs(900));
    let client = reqwest::blocking::Client::new();
    let export_bytes = client
        .get(format!("http://{to}/api/v1/export?format=json"))
        .send()
        .and_then(|r| r.bytes())
        .map_or(0, |b| b.len());
    std::thread::sleep(Duration::from_secs(5)); // let the node settle before its idle level
    let idle = rss_mb(pid);
    let fd_idle = open_fds(pid);
    let fd_limit = status_kb(pid, "Max open files:");
    let limits = hubnet_node::edge::Limits::default();
    println!(
        "corpus: {RECORDS} practices, JSON export {:.0} MB; node idle: {idle:.0} MB resident, {fd_idle} descriptors; default limits (max_connections {}, per address {})",
        export_bytes as f64 / 1e6,
        limits.max_connections,
        limits.max_connections_per_address
    );
    let _ = fd_limit;

    // 1. Stalled connections.
    let stop = Arc::new(AtomicBool::new(false));
    let baseline = probe(to, stop.clone());
    std::thread::sleep(Duration::from_secs(10)); // the baseline's length
    stop.store(true, Ordering::Relaxed);
    let (mut base_lat, base_failed) = baseline.join().expect("prober");
    println!(
        "| scenario | status p50 ms | status p99 ms | status failed | descriptors at most | memory at most MB | back under 2x idle |"
    );
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| idle node (the raw limit) | {:.2} | {:.2} | {base_failed} of {} | {fd_idle} | {idle:.0} | - |",
        percentile(&mut base_lat, 0.5),
        percentile(&mut base_lat, 0.99),
        base_lat.len() + base_failed
    );
    for (name, spread) in [("one address", 1), ("100 addresses", 100)] {
        let stop = Arc::new(AtomicBool::new(false));
        let prober = probe(to, stop.clone());
        let attacks = [
            Attack::start("stalled", port, 10_000, spread),
            Attack::start("stalled", port, 10_000, spread),
        ];
        let (fd_peak, mem_peak) = (peak(Duration::from_secs(15), || open_fds(pid)), rss_mb(pid));
        stop.store(true, Ordering::Relaxed);
        let (mut lat, failed) = prober.join().expect("prober");
        drop(attacks);
        let back = settles(pid, 2.0 * idle);
        println!(
            "| 20,000 stalled connections attempted, {name} | {:.2} | {:.2} | {failed} of {} | {fd_peak} (cap {} + {}) | {mem_peak:.0} | {} |",
            percentile(&mut lat, 0.5),
            percentile(&mut lat, 0.99),
            lat.len() + failed,
            limits.max_connections,
            hubnet_node::edge::RESERVED_DESCRIPTORS,
            back.map_or("no".into(), |s| format!("{s:.1} s")),
        );
    }

    // 2. Unfinished bodies.
    for (name, kind) in [
        ("to the admin route, no token", "body-admin"),
        ("to the public decisions route", "body-open"),
    ] {
        let before = rss_mb(pid);
        let attack = Attack::start(kind, port, 1_000, 16);
        let mem_peak = peak(Duration::from_secs(10), || rss_mb(pid));
        drop(attack);
        let back = settles(pid, 2.0 * idle);
        println!(
            "| 1,000 unfinished 1 MB bodies {name} (16 addresses) | - | - | - | - | {mem_peak:.0} (+{:.0}) | {} |",
            mem_peak - before,
            back.map_or("no".into(), |s| format!("{s:.1} s")),
        );
    }

    // 3. Slow exports.
    let before = rss_mb(pid);
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..12)
        .map(|i| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut s = connect_from([127, 0, 2, 10 + i as u8], to).expect("connect");
                s.write_all(b"GET /api/v1/export?format=json HTTP/1.1\r\nHost: x\r\n\r\n")
                    .expect("write");
                let mut buf = vec![0u8; 100 * 1024];
                let mut got = 0usize;
                // 1 MB/s: 100 KB every 100 ms.
                while !stop.load(Ordering::Relaxed) {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => got += n,
                    }
                    std::thread::sleep(Duration::from_millis(100)); // the reader's pace
                }
                got
            })
        })
        .collect();
    let mem_peak = peak(Duration::from_secs(30), || rss_mb(pid));
    stop.store(true, Ordering::Relaxed);
    let got: usize = readers.into_iter().map(|r| r.join().unwrap_or(0)).sum();
    let back = settles(pid, 2.0 * idle);
    println!(
        "| 12 JSON exports read at 1 MB/s for 30 s ({:.0} MB read in all) | - | - | - | - | {mem_peak:.0} (+{:.0}) | {} |",
        got as f64 / 1e6,
        mem_peak - before,
        back.map_or("no".into(), |s| format!("{s:.1} s")),
    );
    common::stop(node);
}
