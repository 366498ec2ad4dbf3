//! Publishing through the API under load from a separate process, beside raw Ed25519
//! verification on one core measured in the same run.
//!
//! Two real `hubnet run` processes on 127.0.0.1: KZ's node, which publishes, and a mirror that
//! follows it over gossip. `wrk -t2 -c64` (Debian's `wrk`) POSTs drafts to KZ's node for
//! `HUBNET_PUBLISH_SECONDS` (default 10): each a copy of KZ's sample practice (about 9 KB of
//! Markdown in three languages) with a title of its own. Reported: publishes answered `201` per
//! second (each answered only once durable), their latency, and how long after the load the
//! mirror held every one. The limit is `openssl speed ed25519`'s verifications per second (one
//! core, a separate process), measured before and after the load; the faster of the two is the
//! one compared with.
//!
//! The sample charter allows 1,000 records per key per hour; this bench's network has the same
//! charter with `max_records_per_hour` raised (signed again by the sample committee), since it
//! measures the node, not the rate rule. Both nodes and wrk share the machine's cores.
//! Run with `cargo bench -p hubnet-node --bench publish` (needs `wrk` and `openssl`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The charter's rate limit in this bench: the largest a charter allows, far above a run.
const RECORDS_PER_HOUR: u64 = 1_000_000;

fn hubnet() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hubnet"))
}

/// The sample charter with [`RECORDS_PER_HOUR`], signed by two of the sample committee's keys.
fn charter(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(common::sample("charter.toml")).expect("charter");
    let unsigned = text
        .split("\n[[signatures]]")
        .next()
        .expect("charter text")
        .replace(
            "max_records_per_hour = 1000\n",
            &format!("max_records_per_hour = {RECORDS_PER_HOUR}\n"),
        );
    assert!(unsigned.contains(&RECORDS_PER_HOUR.to_string()), "limit");
    let path = dir.join("charter.toml");
    std::fs::write(&path, unsigned).expect("write charter");
    for k in ["committee-1", "committee-2"] {
        let ok = hubnet()
            .args(["charter", "sign"])
            .arg(&path)
            .arg("--key")
            .arg(common::sample(&format!("keys/{k}.key")))
            .stdout(Stdio::null())
            .status()
            .expect("hubnet charter sign");
        assert!(ok.success(), "hubnet charter sign");
    }
    path
}

/// A `hubnet run` process, stopped with SIGTERM when dropped (however the bench ends).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        common::stop_child(&mut self.0);
    }
}

/// Writes a node's config and starts it; returns the process, its HTTP base URL and its libp2p
/// port.
fn node(dir: &Path, name: &str, charter: &Path, extra: &str) -> (Running, String, u16) {
    let node = dir.join(name);
    std::fs::create_dir_all(&node).expect("mkdir");
    let (p2p, http) = (common::free_port(), common::free_port());
    let config = node.join("hubnet.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\ncharter = \"{}\"\nlisten = [\"/ip4/127.0.0.1/tcp/{p2p}\"]\nhttp = \"127.0.0.1:{http}\"\nadmin_token = \"{TOKEN}\"\n{extra}\n[http_limits]\nmax_connections_per_address = 2048\nmax_requests = 10000\nreads_per_second = 1000000\nread_burst = 1000000\nauthor_records_per_second = 1000000\nauthor_record_burst = 1000000\n",
            charter.display(),
        ),
    )
    .expect("config");
    let log = std::fs::File::create(node.join("node.log")).expect("log");
    let child = hubnet()
        .args(["--log", "warn", "run", "--config"])
        .arg(&config)
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("hubnet run");
    (Running(child), format!("http://127.0.0.1:{http}"), p2p)
}

const TOKEN: &str = "bench-token-0123456789";

fn count(c: &reqwest::blocking::Client, http: &str) -> u64 {
    common::status(c, http)["record_count"]
        .as_u64()
        .unwrap_or(0)
}

/// `openssl speed ed25519`'s verifications per second (one core, a process of its own).
fn openssl_verify_rate() -> f64 {
    let out = Command::new("openssl")
        .args(["speed", "-seconds", "3", "ed25519"])
        .stderr(Stdio::null())
        .output()
        .expect("openssl speed");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find(|l| l.contains("(Ed25519)"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Ed25519 line in openssl's output:\n{text}"))
}

/// KZ's first sample practice as a JSON draft, its English title ending in a wrk format that
/// numbers each request (`%` escaped for Lua's `string.format`).
fn draft_template() -> String {
    let text =
        std::fs::read_to_string(common::sample("drafts/KZ/01-merit-testing.toml")).expect("draft");
    let mut draft: Value = toml::from_str::<toml::Value>(&text)
        .ok()
        .and_then(|v| serde_json::to_value(v).ok())
        .expect("the sample draft as JSON");
    let title = draft["title"]["en"].as_str().expect("title").to_owned();
    draft["title"]["en"] = Value::String(format!("{title} (bench MARK)"));
    serde_json::to_string(&draft)
        .expect("json")
        .replace('%', "%%")
        .replace("MARK", "%d-%d")
}

/// wrk's script: each thread numbers its requests, so every draft has a title of its own.
fn script(dir: &Path) -> PathBuf {
    let template = draft_template();
    let lua = format!(
        r#"local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local n = 0
local template = [==[{template}]==]
local headers = {{ ["Authorization"] = "Bearer {TOKEN}", ["Content-Type"] = "application/json" }}
function request()
  n = n + 1
  return wrk.format("POST", "/api/v1/records", headers, string.format(template, tid, n))
end
"#
    );
    let path = dir.join("publish.lua");
    std::fs::write(&path, lua).expect("script");
    path
}

/// wrk's output for `seconds` of publishing with `connections` connections.
fn wrk(url: &str, script: &Path, connections: u32, seconds: u32) -> String {
    let out = Command::new("wrk")
        .args([
            // wrk needs a connection per thread at least.
            &format!("-t{}", connections.min(2)),
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--timeout",
            "30s",
            "--latency",
            "-s",
        ])
        .arg(script)
        .arg(url)
        .output()
        .expect("wrk runs (apt-get install -y wrk)");
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// A node's ingest counters (`hubnet_ingest_seconds_total` by stage and phase, the group sizes'
/// sum and count, gossip dropped at a full queue, and sync ranges by how they ended), to show
/// where the worker's time went during the load and what the mirror had to fetch again.
fn worker_counters(c: &reqwest::blocking::Client, http: &str) -> Vec<(String, f64)> {
    let text = c
        .get(format!("{http}/metrics"))
        .send()
        .and_then(|r| r.text())
        .unwrap_or_default();
    text.lines()
        .filter(|l| {
            l.starts_with("hubnet_ingest_seconds_total{")
                || l.starts_with("hubnet_publish_group_records_sum")
                || l.starts_with("hubnet_publish_group_records_count")
                || l.starts_with("hubnet_gossip_dropped_total")
                || l.starts_with("hubnet_sync_range_ends_total{")
        })
        .filter_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            Some((name.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// Each counter's growth from `before` to `after`.
fn since(before: &[(String, f64)], after: Vec<(String, f64)>) -> Vec<(String, f64)> {
    after
        .into_iter()
        .map(|(name, value)| {
            let was = before
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(0.0, |(_, v)| *v);
            (name, value - was)
        })
        .collect()
}

fn wrk_field<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    text.lines()
        .find(|l| l.trim_start().starts_with(prefix))
        .and_then(|l| l.trim_start().strip_prefix(prefix))
        .map(str::trim)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test` runs benches as tests; this one is only for `cargo bench`.
    }
    let seconds: u32 = std::env::var("HUBNET_PUBLISH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let connections: u32 = std::env::var("HUBNET_PUBLISH_CONNECTIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64);
    let dir = tempfile::tempdir().expect("tempdir");
    let charter = charter(dir.path());
    let kz_key = common::sample("keys/KZ.key");
    let (_a, a_http, a_p2p) = node(
        dir.path(),
        "kz",
        &charter,
        &format!("publishing_key = \"{}\"\n", kz_key.display()),
    );
    let c = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    common::wait_for("KZ's node up", Duration::from_secs(60), || {
        common::status(&c, &a_http)["peer_id"].is_string()
    });
    let a_peer = common::status(&c, &a_http)["peer_id"]
        .as_str()
        .expect("peer id")
        .to_owned();
    let (_b, b_http, _) = node(
        dir.path(),
        "mirror",
        &charter,
        &format!("bootstrap = [\"/ip4/127.0.0.1/tcp/{a_p2p}/p2p/{a_peer}\"]\n"),
    );
    // One record through the whole path before the clock starts: the mirror is connected and
    // gossip flows.
    let script = script(dir.path());
    let probe = wrk(&format!("{a_http}/"), &script, 1, 1);
    assert!(
        wrk_field(&probe, "Non-2xx").is_none() && wrk_field(&probe, "Requests/sec:").is_some(),
        "the probe publish failed:\n{probe}"
    );
    common::wait_for("the mirror follows", Duration::from_secs(60), || {
        let n = count(&c, &a_http);
        n > 0 && count(&c, &b_http) == n
    });
    let before = count(&c, &a_http);

    let raw_before = openssl_verify_rate();
    let counters_before = worker_counters(&c, &a_http);
    let mirror_before = worker_counters(&c, &b_http);
    let out = wrk(&format!("{a_http}/"), &script, connections, seconds);
    let ended = Instant::now();
    // Requests in flight when wrk stopped are still answered: the mirror is waited for until it
    // holds what KZ's node holds then.
    let mut published = 0;
    common::wait_for(
        "the mirror holds every record",
        Duration::from_secs(600),
        || {
            published = count(&c, &a_http) - before;
            count(&c, &b_http) == before + published
        },
    );
    let mirror_lag = ended.elapsed();
    let counters = since(&counters_before, worker_counters(&c, &a_http));
    let mirror = since(&mirror_before, worker_counters(&c, &b_http));
    let raw_after = openssl_verify_rate();
    let raw = raw_before.max(raw_after);

    assert!(
        wrk_field(&out, "Non-2xx").is_none(),
        "refused publishes:\n{out}"
    );
    let rps: f64 = wrk_field(&out, "Requests/sec:")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in wrk's output:\n{out}"));
    let lat = |p: &str| {
        wrk_field(&out, p)
            .and_then(|v| v.split_whitespace().next())
            .unwrap_or("?")
            .to_owned()
    };
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "publish: {connections} connections, {seconds} s: {published} records published ({rps:.0}/s answered 201), latency p50 {}, p99 {}",
        lat("50%"),
        lat("99%")
    );
    println!(
        "  the mirror held every one {:.2} s after the load ended",
        mirror_lag.as_secs_f64()
    );
    println!(
        "  raw: openssl speed ed25519, one core: {raw_before:.0} verify/s before, {raw_after:.0}/s after; ratio to the faster: {:.3}×",
        rps / raw
    );
    println!("  load average at the end: {}", load.trim());
    let ranges: Vec<String> = mirror
        .iter()
        .filter_map(|(n, v)| {
            let how = n.strip_prefix("hubnet_sync_range_ends_total{")?;
            let how = how.trim_start_matches("end=\"").trim_end_matches("\"}");
            Some(format!("{how} {v:.0}"))
        })
        .collect();
    println!(
        "  the mirror: {:.0} gossip messages dropped at its full queue; sync ranges: {}",
        mirror
            .iter()
            .find(|(n, _)| n == "hubnet_gossip_dropped_total")
            .map_or(0.0, |(_, v)| *v),
        if ranges.is_empty() {
            "none".to_owned()
        } else {
            ranges.join(", ")
        }
    );
    let counter = |name: &str| {
        counters
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0.0, |(_, v)| *v)
    };
    let groups = counter("hubnet_publish_group_records_count");
    println!(
        "  KZ's node: {groups:.0} publish groups, {:.1} records a group on average",
        counter("hubnet_publish_group_records_sum") / groups.max(1.0)
    );
    for (name, seconds) in counters
        .iter()
        .filter(|(n, _)| n.starts_with("hubnet_ingest_seconds_total"))
    {
        let label = name
            .trim_start_matches("hubnet_ingest_seconds_total{")
            .trim_end_matches('}');
        println!("  KZ's ingest worker, {label}: {seconds:.2} s");
    }
}
