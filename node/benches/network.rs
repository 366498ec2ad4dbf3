//! Network benchmarks with real `hubnet run` processes on 127.0.0.1 (release build):
//!
//! - **propagation**: a devnet of `HUBNET_BENCH_NODES` nodes (default 20: the eight sample members
//!   and twelve mirrors); `HUBNET_BENCH_RECORDS` records (default 1,000) published one after
//!   another from random member nodes; for each record, the time from sending the publish request
//!   to the moment the last node stored it (from the nodes' `stored` debug log lines, one clock for
//!   all processes), p50 and p99;
//! - **amplification**: libp2p bytes sent by all nodes during that run (from each node's
//!   `/metrics`), per record delivered to every node, as a ratio to the record's size;
//! - **catch-up**: a node holding `HUBNET_BENCH_CATCHUP` records (default 100,000) and a new, empty
//!   node; records per second until the new node holds them all, as a ratio to raw strict Ed25519
//!   verification, one by one on one core, measured in the same run; and both nodes' resident
//!   memory.
//!
//! - **flood**: a devnet of `HUBNET_BENCH_FLOOD_NODES` nodes (default 10); the other members
//!   publish `HUBNET_BENCH_FLOOD_RECORDS` records (default 300) at a steady pace, first on a
//!   quiet network, then while a thief holding KZ's key makes 10,000 pushes of records signed
//!   with it, as fast as it can, each into KZ's node and a mirror (a record both refuse is pushed
//!   again); publish → stored at every node, p50 and p99, quiet against flooded, and how many of
//!   the thief's records the nodes took (their pace for one author's records, the charter's rate
//!   rule).
//!
//! Run: `cargo bench -p hubnet-node --bench network` (`HUBNET_BENCH_DIR=<new or empty dir>`
//! keeps the nodes' data dirs and logs there). It prints a report to copy into BENCHMARKS.md.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn hubnet() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hubnet"))
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// A node's Prometheus text.
fn metrics(c: &reqwest::blocking::Client, http: &str) -> String {
    c.get(format!("{http}/metrics"))
        .send()
        .and_then(|r| r.text())
        .unwrap_or_default()
}

/// Sum of libp2p bytes sent, from a node's Prometheus text.
fn bytes_sent(c: &reqwest::blocking::Client, http: &str) -> u64 {
    metrics(c, http)
        .lines()
        .filter(|l| {
            l.contains("bandwidth") && l.contains("direction=\"Outbound\"") && !l.starts_with('#')
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// CPU time (user + system, clock ticks) that process `pid` has used so far.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces): utime and
    // stime are the 12th and 13th of them.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

/// Waits until process `pid` is idle: under 5% of a core over half a second. A node that has
/// just started on a filled data dir builds its search index first, and the raw verification
/// limit must not be measured beside that work.
fn wait_idle(what: &str, pid: u32, limit: Duration) {
    let deadline = Instant::now() + limit;
    let mut before = cpu_ticks(pid);
    loop {
        std::thread::sleep(Duration::from_millis(500)); // the window the CPU time is measured over
        let now = cpu_ticks(pid);
        // Clock ticks are 1/100 s: 2 ticks in 0.5 s is 4% of a core.
        if now.saturating_sub(before) <= 2 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not idle within {limit:?}"
        );
        before = now;
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Parses `2026-11-23T05:54:53.123456Z  DEBUG stored id=<hex> ...` lines of a node log.
fn stored_times(log: &Path) -> HashMap<String, SystemTime> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut out = HashMap::new();
    for line in text.lines() {
        if !line.contains(" stored") {
            continue;
        }
        let Some(ts) = line.split_whitespace().next() else {
            continue;
        };
        let Some(id) = line.split_whitespace().find_map(|w| w.strip_prefix("id=")) else {
            continue;
        };
        if let Ok(t) = chrono::DateTime::parse_from_rfc3339(ts) {
            let t =
                SystemTime::UNIX_EPOCH + Duration::from_micros(t.timestamp_micros().max(0) as u64);
            out.insert(id.to_owned(), t);
        }
    }
    out
}

fn wait(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(20)); // poll interval of this deadline loop
    }
}

fn propagation(dir: &Path, nodes: usize, records: usize) {
    let net = Devnet::start(dir, nodes);
    let (list, http) = (net.nodes.clone(), net.http.clone());
    let c = client();
    net.wait_for_mesh(&c);
    let members: Vec<usize> = (0..list.len().min(8)).collect();
    // Background traffic (heartbeats, pings, periodic summaries), to tell it apart.
    let idle_start: u64 = http.iter().map(|h| bytes_sent(&c, h)).sum();
    let idle = Instant::now();
    std::thread::sleep(Duration::from_secs(10)); // a measurement window, not a synchronisation
    let idle_rate = http
        .iter()
        .map(|h| bytes_sent(&c, h))
        .sum::<u64>()
        .saturating_sub(idle_start) as f64
        / idle.elapsed().as_secs_f64();
    let before: u64 = http.iter().map(|h| bytes_sent(&c, h)).sum();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut sent: Vec<(String, SystemTime)> = Vec::with_capacity(records);
    let mut authors: Vec<usize> = Vec::with_capacity(records);
    let mut sizes = 0usize;
    let started = Instant::now();
    for i in 0..records {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let n = members[(rng % members.len() as u64) as usize];
        let draft = json!({
            "kind": "practice",
            "title": {"en": format!("Merit-based recruitment, case {i}"), "ru": format!("Меритократический отбор, случай {i}")},
            "summary": {"en": "Two-stage selection with central testing.", "ru": "Двухэтапный отбор с централизованным тестированием."},
            "topics": ["recruitment"],
        });
        let t0 = SystemTime::now();
        let r: Value = c
            .post(format!("{}/api/v1/records", http[n]))
            .bearer_auth(list[n]["admin_token"].as_str().unwrap_or(""))
            .json(&draft)
            .send()
            .expect("POST")
            .json()
            .expect("json");
        let id = r["id"].as_str().expect("id").to_owned();
        sent.push((id, t0));
        authors.push(n);
    }
    let publish_time = started.elapsed();
    let total = records as u64;
    wait(
        "all nodes hold every record",
        Duration::from_secs(300),
        || {
            http.iter()
                .all(|h| common::status(&c, h)["record_count"].as_u64() == Some(total))
        },
    );
    let after: u64 = http.iter().map(|h| bytes_sent(&c, h)).sum();
    let window = started.elapsed().as_secs_f64();
    for (id, _) in sent.iter().take(50) {
        let raw = c
            .get(format!("{}/api/v1/records/{id}/raw", http[0]))
            .send()
            .and_then(|r| r.bytes())
            .map(|b| b.len())
            .unwrap_or(0);
        sizes += raw;
    }
    let record_size = sizes as f64 / sent.len().min(50) as f64;
    let lat = net.latencies(&sent);
    let missing = sent.len() - lat.len();
    let bytes = after.saturating_sub(before) as f64;
    println!(
        "propagation: {} nodes, {records} records from random member nodes, published in {:.1} s",
        list.len(),
        publish_time.as_secs_f64()
    );
    println!(
        "  publish → stored at every node: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({missing} records without a log line everywhere)",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        lat.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "amplification: {:.0} bytes sent by all nodes per record delivered to all {} nodes; record {:.0} bytes; ratio {:.1}× (×{:.1} per receiving node)",
        bytes / records as f64,
        list.len(),
        record_size,
        bytes / records as f64 / record_size,
        bytes / records as f64 / record_size / (list.len() - 1) as f64
    );
    let net_bytes = (bytes - idle_rate * window).max(0.0);
    println!(
        "  background traffic of the idle network: {:.0} bytes/s; without it, {:.0} bytes per record, ratio {:.1}× (×{:.1} per receiving node)",
        idle_rate,
        net_bytes / records as f64,
        net_bytes / records as f64 / record_size,
        net_bytes / records as f64 / record_size / (list.len() - 1) as f64
    );
    erasures(&net, &c, &sent, &authors, &lat);
    net.stop();
}

/// Erases `HUBNET_BENCH_NET_ERASURES` (default 50) of the records `sent` (published on node
/// `authors[i]`), one after another on the node that published each: publish → body gone from
/// every node's journal (a node logs the erasure `stored` after it rewrote the bodies), p50 and
/// p99, beside plain propagation (`plain`, the raw limit) of the same run; then the search
/// index's rewrite of the segments that held them, per node (from the indexer's log line).
fn erasures(
    net: &Devnet,
    c: &reqwest::blocking::Client,
    sent: &[(String, SystemTime)],
    authors: &[usize],
    plain: &[f64],
) {
    let count = env_usize("HUBNET_BENCH_NET_ERASURES", 50).min(sent.len());
    let total = net
        .http
        .first()
        .map(|h| common::status(c, h)["record_count"].as_u64().unwrap_or(0))
        .unwrap_or(0);
    let step = (sent.len() / count.max(1)).max(1);
    let mut erased: Vec<(String, SystemTime)> = Vec::with_capacity(count);
    for i in (0..sent.len()).step_by(step).take(count) {
        let n = authors[i];
        let t0 = SystemTime::now();
        let r: Value = c
            .post(format!("{}/api/v1/records", net.http[n]))
            .bearer_auth(net.token(n))
            .json(&json!({"kind": "erasure", "target": sent[i].0, "ground": "erasure_request"}))
            .send()
            .expect("POST")
            .json()
            .expect("json");
        erased.push((r["id"].as_str().expect("id").to_owned(), t0));
    }
    let want = total + erased.len() as u64;
    wait(
        "all nodes hold every erasure",
        Duration::from_secs(300),
        || {
            net.http
                .iter()
                .all(|h| common::status(c, h)["record_count"].as_u64() == Some(want))
        },
    );
    let lat = net.latencies(&erased);
    let purges: Vec<f64> = net
        .nodes
        .iter()
        .flat_map(|n| {
            let log = PathBuf::from(n["config"].as_str().unwrap_or("")).with_file_name("node.log");
            std::fs::read_to_string(log)
                .unwrap_or_default()
                .lines()
                .filter(|l| l.contains("segments holding erased records rewritten"))
                .filter_map(|l| {
                    l.split_whitespace()
                        .find_map(|w| w.strip_prefix("ms="))
                        .and_then(|v| v.parse::<f64>().ok())
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let mut purges = purges;
    purges.sort_by(|a, b| a.total_cmp(b));
    println!(
        "erasure: {} records erased on their authors' nodes; publish → body gone from every node's journal: p50 {:.1} ms, p99 {:.1} ms (plain propagation, the raw limit: p50 {:.1} ms, p99 {:.1} ms)",
        erased.len(),
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        percentile(plain, 0.5),
        percentile(plain, 0.99)
    );
    println!(
        "  search index segment rewrites after erasures, all nodes: {} rewrites, p50 {:.0} ms, p99 {:.0} ms",
        purges.len(),
        percentile(&purges, 0.5),
        percentile(&purges, 0.99)
    );
}

/// The running devnet of a bench: its process, nodes (from devnet.json) and HTTP addresses.
struct Devnet {
    process: Child,
    nodes: Vec<Value>,
    http: Vec<String>,
}

impl Devnet {
    fn start(dir: &Path, nodes: usize) -> Self {
        let process = hubnet()
            .args(["devnet", "--no-sample-data", "--nodes", &nodes.to_string()])
            .arg("--dir")
            .arg(dir)
            .env("RUST_LOG", "info,hubnet_node::worker=debug")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("devnet");
        let file = dir.join("devnet.json");
        wait("devnet.json", Duration::from_secs(120), || file.exists());
        let net: Value =
            serde_json::from_slice(&std::fs::read(&file).expect("read")).expect("json");
        let nodes = net["nodes"].as_array().expect("nodes").clone();
        let http = nodes
            .iter()
            .map(|n| n["http"].as_str().unwrap_or("").to_owned())
            .collect();
        Self {
            process,
            nodes,
            http,
        }
    }

    /// Waits until every node has joined the mesh, before any clock starts.
    fn wait_for_mesh(&self, c: &reqwest::blocking::Client) {
        wait("peers", Duration::from_secs(60), || {
            self.http.iter().all(|h| {
                common::status(c, h)["peers"]
                    .as_array()
                    .is_some_and(|p| p.len() >= 3)
            })
        });
        std::thread::sleep(Duration::from_secs(3)); // let gossipsub form its mesh (heartbeats), not a sync
    }

    fn token(&self, n: usize) -> &str {
        self.nodes[n]["admin_token"].as_str().unwrap_or("")
    }

    /// For each `(id, sent at)`, the time until the last node logged it stored, in ms.
    fn latencies(&self, sent: &[(String, SystemTime)]) -> Vec<f64> {
        let mut lat: Vec<f64> = self.timed(sent).into_iter().map(|(_, l)| l).collect();
        lat.sort_by(|a, b| a.total_cmp(b));
        lat
    }

    /// Each record's publish time and its publish → stored-everywhere latency in ms, in the
    /// order sent (records some node does not hold are left out).
    fn timed(&self, sent: &[(String, SystemTime)]) -> Vec<(SystemTime, f64)> {
        let logs: Vec<HashMap<String, SystemTime>> = self
            .nodes
            .iter()
            .map(|n| {
                let config = PathBuf::from(n["config"].as_str().unwrap_or(""));
                stored_times(&config.with_file_name("node.log"))
            })
            .collect();
        sent.iter()
            .filter_map(|(id, t0)| {
                let ts = logs.iter().map(|l| l.get(id)).collect::<Option<Vec<_>>>()?;
                let worst = ts.into_iter().max().copied()?;
                Some((
                    *t0,
                    worst.duration_since(*t0).unwrap_or_default().as_secs_f64() * 1000.0,
                ))
            })
            .collect()
    }

    fn stop(self) {
        drop(self);
    }
}

/// A devnet stops its nodes however the bench ends, a failed wait included (a panic would
/// otherwise leave ten nodes running and loading the machine under the next measurement).
impl Drop for Devnet {
    fn drop(&mut self) {
        terminate(&mut self.process);
    }
}

/// SIGTERM to `child`, then waits for it to exit.
fn terminate(child: &mut Child) {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let _ = child.wait();
}

/// Publishes `records` practices from the member nodes `from`, one every `pace`; returns each
/// record's id and when its request was sent.
fn publish_paced(
    c: &reqwest::blocking::Client,
    net: &Devnet,
    from: &[usize],
    records: usize,
    pace: Duration,
    tag: &str,
) -> Vec<(String, SystemTime)> {
    let mut sent = Vec::with_capacity(records);
    let started = Instant::now();
    for i in 0..records {
        let n = from[i % from.len()];
        let draft = json!({
            "kind": "practice",
            "title": {"en": format!("Merit-based recruitment, {tag} case {i}")},
            "summary": {"en": "Two-stage selection with central testing."},
            "topics": ["recruitment"],
        });
        let t0 = SystemTime::now();
        let r: Value = c
            .post(format!("{}/api/v1/records", net.http[n]))
            .bearer_auth(net.token(n))
            .json(&draft)
            .send()
            .expect("POST")
            .json()
            .expect("json");
        sent.push((r["id"].as_str().expect("id").to_owned(), t0));
        let next = pace * (i as u32 + 1);
        if let Some(rest) = next.checked_sub(started.elapsed()) {
            std::thread::sleep(rest); // the publishing pace, not a synchronisation
        }
    }
    sent
}

fn flood(dir: &Path, nodes: usize, records: usize) {
    let net = Devnet::start(dir, nodes);
    let c = client();
    net.wait_for_mesh(&c);
    let codes: Vec<String> = net
        .nodes
        .iter()
        .map(|n| n["member"].as_str().unwrap_or("").to_owned())
        .collect();
    let kz = codes.iter().position(|c| c == "KZ").expect("KZ node");
    let is_mirror = |c: &String| c.starts_with("mirror");
    let mirror = codes.iter().position(is_mirror).unwrap_or(kz);
    let others: Vec<usize> = (0..codes.len())
        .filter(|&i| i != kz && !is_mirror(&codes[i]))
        .collect();
    let pace = Duration::from_millis(20);
    let quiet = publish_paced(&c, &net, &others, records, pace, "quiet");
    let total = |n: u64| {
        net.http
            .iter()
            .all(|h| common::status(&c, h)["record_count"].as_u64() == Some(n))
    };
    wait("quiet records everywhere", Duration::from_secs(120), || {
        total(records as u64)
    });

    // The thief: KZ's key, chained records signed as fast as it can, pushed raw 10,000 times.
    let flood_started = SystemTime::now();
    let key = hubnet_node::keyfile::read(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/sample/keys/KZ.key"),
    )
    .expect("key");
    let charter = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/sample/charter.toml"),
    )
    .expect("charter");
    let charter = hubnet_protocol::charter::CharterDoc::from_toml(&charter)
        .and_then(|d| d.verify())
        .expect("charter");
    let targets = [
        (net.http[kz].clone(), net.token(kz).to_owned()),
        (net.http[mirror].clone(), net.token(mirror).to_owned()),
    ];
    let thief = std::thread::spawn(move || {
        let c = client();
        let body = hubnet_protocol::Draft::parse(
            r#"{"kind":"practice","title":{"en":"Flood"},"summary":{"en":"Flood."},"topics":["pay"]}"#,
            hubnet_protocol::DraftFormat::Json,
        )
        .and_then(|d| d.to_body("KZ", &charter.rules()))
        .expect("body");
        let mut pos = hubnet_protocol::record::Position::FIRST;
        let (mut taken, mut refused) = (0u32, 0u32);
        let t = Instant::now();
        let mut last_taken = SystemTime::now();
        let sign = |pos: hubnet_protocol::record::Position| {
            let now = hubnet_node::now_ms();
            let s = hubnet_protocol::record::sign(&key, charter.network_id(), pos, now, &body);
            let next = hubnet_protocol::record::Position {
                seq: pos.seq + 1,
                prev: Some(s.id()),
                prev_created_at: now.max(pos.prev_created_at),
            };
            (s, next)
        };
        let (mut s, mut next) = sign(pos);
        for _ in 0..10_000usize {
            // Every record to both nodes, in order, so that each always holds the one before;
            // one refused by both (the node's pace for one author, or the charter's rate rule:
            // 429) is pushed again at once, as a thief that wants as many in as it can would.
            let statuses: Vec<u16> = targets
                .iter()
                .map(|(http, token)| {
                    c.post(format!("{http}/api/v1/records/raw"))
                        .bearer_auth(token)
                        .body(s.encode())
                        .send()
                        .map(|r| r.status().as_u16())
                        .unwrap_or(0)
                })
                .collect();
            if statuses.contains(&201) {
                taken += 1;
                last_taken = SystemTime::now();
                pos = next;
                (s, next) = sign(pos);
            } else {
                refused += 1;
            }
        }
        (taken, refused, t.elapsed(), last_taken)
    });
    let flooded = publish_paced(&c, &net, &others, records, pace, "flooded");
    let (taken, refused, thief_time, last_taken) = thief.join().expect("thief");
    let limit = charter_limit();
    let expected = 2 * records as u64 + u64::from(taken);
    let deadline = Instant::now() + Duration::from_secs(300);
    while !total(expected) {
        if Instant::now() > deadline {
            let counts: Vec<Value> = net
                .http
                .iter()
                .map(|h| common::status(&c, h)["record_count"].clone())
                .collect();
            panic!(
                "flooded records everywhere: not within 300 s; expected {expected} at every node, \
                 counts {counts:?}; the thief had {taken} acknowledged, {refused} refused"
            );
        }
        std::thread::sleep(Duration::from_millis(20)); // poll interval of this deadline loop
    }
    let (q, f) = (net.latencies(&quiet), net.latencies(&flooded));
    println!(
        "flood: {} nodes; {records} records from the other members, one every {} ms, quiet and then while a thief made 10,000 pushes of records signed with KZ's key in {:.1} s ({taken} records acknowledged, {refused} pushes refused and pushed again)",
        net.nodes.len(),
        pace.as_millis(),
        thief_time.as_secs_f64()
    );
    println!(
        "  publish → stored at every node: quiet p50 {:.1} ms, p99 {:.1} ms; flooded p50 {:.1} ms, p99 {:.1} ms; p99 ratio {:.2}×",
        percentile(&q, 0.5),
        percentile(&q, 0.99),
        percentile(&f, 0.5),
        percentile(&f, 0.99),
        percentile(&f, 0.99) / percentile(&q, 0.99)
    );
    println!(
        "  KZ records held by every node: {taken} (the nodes' pace for one author's records through the API, after the charter's max_records_per_hour of {limit})"
    );
    // Where the slowest flooded records fall: during the thief's acknowledged burst (the
    // records every node verifies and stores) or during the refusals after it.
    let mut slowest = net.timed(&flooded);
    slowest.sort_by(|a, b| b.1.total_cmp(&a.1));
    let at = |t: SystemTime| {
        t.duration_since(flood_started)
            .unwrap_or_default()
            .as_secs_f64()
    };
    println!(
        "  slowest flooded records (published at, latency): {}; the thief's last acknowledged push at {:.1} s",
        slowest
            .iter()
            .take(5)
            .map(|(t, l)| format!("{:.1} s {l:.0} ms", at(*t)))
            .collect::<Vec<_>>()
            .join(", "),
        at(last_taken)
    );
    net.stop();
}

/// The sample charter's rate limit.
fn charter_limit() -> u64 {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/sample/charter.toml"),
    )
    .expect("charter");
    hubnet_protocol::charter::CharterDoc::from_toml(&text)
        .expect("charter")
        .limits
        .max_records_per_hour
}

/// The best of `runs` measurements of [`raw_verify_rate`].
fn raw_verify_best(runs: usize) -> f64 {
    (0..runs).map(|_| raw_verify_rate()).fold(0.0, f64::max)
}

/// Raw strict verification, one by one, records per second on one core.
fn raw_verify_rate() -> f64 {
    let key = SigningKey::from_bytes(&[7; 32]);
    let vk = key.verifying_key();
    let msgs: Vec<Vec<u8>> = (0..20_000u32)
        .map(|i| {
            let mut m = b"hubnet-record-v1".to_vec();
            m.extend_from_slice(&[i as u8; 200]);
            m.extend_from_slice(&i.to_be_bytes());
            m
        })
        .collect();
    let sigs: Vec<_> = msgs.iter().map(|m| key.sign(m)).collect();
    let t = Instant::now();
    for (m, s) in msgs.iter().zip(&sigs) {
        assert!(vk.verify_strict(m, s).is_ok());
    }
    msgs.len() as f64 / t.elapsed().as_secs_f64()
}

fn write_config(dir: &Path, name: &str, bootstrap: Option<&str>, port: (u16, u16)) -> PathBuf {
    let node = dir.join(name);
    std::fs::create_dir_all(&node).expect("mkdir");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/sample/charter.toml");
    let text = format!(
        "data_dir = \"data\"\ncharter = \"{}\"\nlisten = [\"/ip4/127.0.0.1/tcp/{}\"]\nbootstrap = [{}]\nhttp = \"127.0.0.1:{}\"\nadmin_token = \"bench-token-0123456789\"\n\n[http_limits]\nmax_connections_per_address = 2048\nmax_requests = 10000\nreads_per_second = 1000000\nread_burst = 1000000\n",
        sample.display(),
        port.0,
        bootstrap.map(|b| format!("\"{b}\"")).unwrap_or_default(),
        port.1
    );
    let path = node.join("hubnet.toml");
    std::fs::write(&path, text).expect("config");
    path
}

fn port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port()
}

/// A `hubnet run` process, stopped with SIGTERM when dropped (however the bench ends).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        terminate(&mut self.0);
    }
}

fn start(config: &Path) -> Running {
    let log = std::fs::File::create(config.with_file_name("node.log")).expect("log");
    Running(
        hubnet()
            .args(["run", "--config"])
            .arg(config)
            .env("RUST_LOG", "info")
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("hubnet run"),
    )
}

fn catch_up(dir: &Path, total: usize) {
    let c = client();
    let (a_ports, b_ports) = ((port(), port()), (port(), port()));
    // The source node: its data dir filled in-process before it starts.
    let a_config = write_config(dir, "source", None, a_ports);
    let a_data = dir.join("source/data");
    let charter = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/sample/charter.toml"),
    )
    .expect("charter");
    {
        let mut store = hubnet_node::store::Store::init(&a_data, &charter).expect("init");
        let keys: Vec<_> = ["HUB", "KZ", "KG", "TJ", "UZ", "AZ", "AM", "GE"]
            .iter()
            .map(|m| {
                hubnet_node::keyfile::read(
                    &Path::new(env!("CARGO_MANIFEST_DIR"))
                        .join(format!("../deploy/sample/keys/{m}.key")),
                )
                .expect("key")
            })
            .collect();
        let t = Instant::now();
        hubnet_node::synth::fill(&mut store, &keys, total, hubnet_node::now_ms()).expect("fill");
        eprintln!("made {total} records in {:.1} s", t.elapsed().as_secs_f64());
    }
    let a = start(&a_config);
    let a_http = format!("http://127.0.0.1:{}", a_ports.1);
    wait("source up", Duration::from_secs(120), || {
        common::status(&c, &a_http)["record_count"].as_u64() == Some(total as u64)
    });
    wait_idle("source indexed", a.0.id(), Duration::from_secs(600));
    let a_peer = common::status(&c, &a_http)["peer_id"]
        .as_str()
        .expect("peer id")
        .to_owned();
    // The machine's speed drifts (a shared VM): the limit is measured before and after, three
    // times each, and the catch-up is compared with the fastest of all six.
    let raw_before = raw_verify_best(3);
    let b_config = write_config(
        dir,
        "late",
        Some(&format!("/ip4/127.0.0.1/tcp/{}/p2p/{a_peer}", a_ports.0)),
        b_ports,
    );
    let b_http = format!("http://127.0.0.1:{}", b_ports.1);
    let t = Instant::now();
    let b = start(&b_config);
    wait("late node caught up", Duration::from_secs(600), || {
        common::status(&c, &b_http)["record_count"].as_u64() == Some(total as u64)
    });
    let secs = t.elapsed().as_secs_f64();
    let rate = total as f64 / secs;
    wait_idle("late node indexed", b.0.id(), Duration::from_secs(600));
    let raw_after = raw_verify_best(3);
    let raw = raw_before.max(raw_after);
    println!(
        "catch-up: {total} records in {secs:.1} s (process start included) = {rate:.0} records/s; raw strict verify on one core, best of three before {raw_before:.0}/s and after {raw_after:.0}/s; ratio to the faster {:.2}×",
        rate / raw
    );
    // Where the late node's ingest worker spent the time (`hubnet_ingest_seconds`).
    let phases: Vec<String> = metrics(&c, &b_http)
        .lines()
        .filter_map(|l| l.strip_prefix("hubnet_ingest_seconds_total{stage=\""))
        .filter_map(|l| {
            let (stage, rest) = l.split_once("\",phase=\"")?;
            let (phase, value) = rest.split_once("\"} ")?;
            Some(format!(
                "{stage}/{phase} {:.2} s",
                value.parse::<f64>().ok()?
            ))
        })
        .collect();
    println!("  late node's ingest worker: {}", phases.join(", "));
    println!(
        "memory: node holding {total} records: source {} MiB, caught-up node {} MiB resident",
        rss_kib(a.0.id()) / 1024,
        rss_kib(b.0.id()) / 1024
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too: do nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    // The nodes' data dirs and logs are kept in `HUBNET_BENCH_DIR` when it is set (to read the
    // logs after a run); otherwise in a temporary dir removed at the end.
    let temp = tempfile::tempdir().expect("tempdir");
    let dir =
        std::env::var_os("HUBNET_BENCH_DIR").map_or_else(|| temp.path().to_owned(), PathBuf::from);
    println!(
        "machine: {} cores, {}",
        std::thread::available_parallelism().map_or(0, usize::from),
        std::fs::read_to_string("/proc/cpuinfo")
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("model name\t: "))
            .unwrap_or("unknown CPU")
    );
    if env_usize("HUBNET_BENCH_SKIP_PROPAGATION", 0) == 0 {
        propagation(
            &dir.join("devnet"),
            env_usize("HUBNET_BENCH_NODES", 20),
            env_usize("HUBNET_BENCH_RECORDS", 1000),
        );
    }
    if env_usize("HUBNET_BENCH_SKIP_FLOOD", 0) == 0 {
        flood(
            &dir.join("flood"),
            env_usize("HUBNET_BENCH_FLOOD_NODES", 10),
            env_usize("HUBNET_BENCH_FLOOD_RECORDS", 300),
        );
    }
    if env_usize("HUBNET_BENCH_SKIP_CATCHUP", 0) == 0 {
        catch_up(&dir, env_usize("HUBNET_BENCH_CATCHUP", 100_000));
    }
}
