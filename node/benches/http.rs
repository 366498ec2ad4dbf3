//! HTTP throughput of the query API under load from a separate process (`wrk`, from Debian's
//! packages), against a real `hubnet run` holding N records (default 100,000;
//! `HUBNET_HTTP_RECORDS` sets N), each figure as a ratio to the same server's static health
//! endpoint (`GET /api/v1/health`) measured in the same run: the raw limit of the HTTP stack and
//! the machine. wrk and the node share the machine's cores.
//! Run with `cargo bench -p hubnet-node --bench http` (needs `wrk` on the PATH).

mod common;

use std::process::Command;
use std::time::Duration;

use hubnet_node::store::Store;

const NOW: i64 = 1_790_000_000_000;

/// wrk's requests per second and its latency line for `url`, with 64 connections (as the
/// performance issue measured) and `headers` on every request.
fn wrk(url: &str, seconds: u32, headers: &[&str]) -> (f64, String) {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t2", "-c64", &format!("-d{seconds}s"), "--latency"]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    let out = cmd
        .arg(url)
        .output()
        .expect("wrk runs (apt-get install -y wrk)");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in wrk's output:\n{text}"));
    let latency = |p: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(p))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("?")
            .to_owned()
    };
    let non_2xx = text
        .lines()
        .find(|l| l.contains("Non-2xx"))
        .map(str::to_owned);
    // A revalidation's answers are all `304`, which wrk counts as non-2xx.
    let revalidating = headers.iter().any(|h| h.starts_with("If-None-Match"));
    assert!(revalidating || non_2xx.is_none(), "{url}: {non_2xx:?}");
    (
        rps,
        format!("p50 {}, p99 {}", latency("50%"), latency("99%")),
    )
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let n: usize = std::env::var("HUBNET_HTTP_RECORDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let charter = std::fs::read_to_string(common::sample("charter.toml")).expect("charter");
    {
        let mut store = Store::init(&data, &charter).expect("store");
        let records =
            hubnet_node::synth::sample_corpus(&common::sample(""), store.charter(), n, NOW)
                .expect("the sample corpus");
        for chunk in records.chunks(4096) {
            store.append(chunk).expect("append");
        }
        store.flush().expect("flush");
    }
    // Every wrk connection comes from 127.0.0.1: the per-address limits are raised, so that the
    // bench measures the node and not its limiter.
    let limits = "\n[http_limits]\nmax_connections_per_address = 2048\nmax_requests = 10000\nreads_per_second = 1000000\nread_burst = 1000000\n";
    let seconds = 10;
    println!("records: {n}");
    println!("| endpoint | answer bytes | requests/s | latency | ratio to health |");
    println!("|---|---|---|---|---|");
    // The node as configured by default (answers to repeated queries kept, and the JSON of the
    // records in them), then the same data with the answers off (`answer_cache_mb = 0`): every
    // answer computed, as for a query no one asked since the last record arrived, the records'
    // JSON still kept; then with both off: every answer and every record's JSON made afresh.
    // Each with its own health figure.
    for (cache, extra) in [
        ("", String::new()),
        (", no answer cache", "answer_cache_mb = 0\n".to_owned()),
        (
            ", nothing kept",
            "answer_cache_mb = 0\nrecord_cache_mb = 0\n".to_owned(),
        ),
    ] {
        let (node, http) = common::start_node(dir.path(), &data, &format!("{limits}{extra}"));
        common::wait_indexed(http, n, Duration::from_secs(600));
        let base = format!("http://{http}");
        let (health, health_lat) = wrk(&format!("{base}/api/v1/health"), seconds, &[]);
        println!(
            "| `GET /api/v1/health` (static, the raw limit{cache}) | 2 | {health:.0} | {health_lat} | 1.00 |"
        );
        query_rows(&base, health, seconds, cache);
        if cache.is_empty() {
            other_rows(&base, health, seconds);
        }
        common::stop(node);
    }
}

/// The performance issue's query (`q=службы`), as a client that does not compress asks it, as
/// a browser asks it (Chromium's Accept-Encoding), with only ids and titles, and revalidated
/// with the ETag of an earlier answer.
fn query_rows(base: &str, health: f64, seconds: u32, cache: &str) {
    let client = reqwest::blocking::Client::new();
    let query = "/api/v1/records?q=%D1%81%D0%BB%D1%83%D0%B6%D0%B1%D1%8B";
    let browser = "Accept-Encoding: gzip, deflate, br, zstd";
    let etag = client
        .get(format!("{base}{query}"))
        .send()
        .ok()
        .and_then(|r| {
            r.headers()
                .get("etag")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .expect("the query's answer has an ETag");
    let revalidate = format!("If-None-Match: {etag}");
    for (what, path, headers) in [
        ("plain", query.to_owned(), vec![]),
        (
            "zstd, br or gzip (a browser)",
            query.to_owned(),
            vec![browser],
        ),
        ("gzip only", query.to_owned(), vec!["Accept-Encoding: gzip"]),
        (
            "`fields=id,title`, plain",
            format!("{query}&fields=id,title"),
            vec![],
        ),
        (
            "revalidated (`304`)",
            query.to_owned(),
            vec![browser, revalidate.as_str()],
        ),
    ] {
        let mut req = client.get(format!("{base}{path}"));
        for h in &headers {
            if let Some((k, v)) = h.split_once(": ") {
                req = req.header(k, v);
            }
        }
        // reqwest is built without decompression: the size is what went over the wire.
        let size = req
            .send()
            .and_then(|r| r.bytes())
            .map(|b| b.len())
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let (rps, lat) = wrk(&format!("{base}{path}"), seconds, &headers);
        println!(
            "| `GET /api/v1/records?q=службы`, {what}{cache} | {size} | {rps:.0} | {lat} | {:.3} |",
            rps / health
        );
    }
}

/// Other queries (plain answers) and the status endpoint.
fn other_rows(base: &str, health: f64, seconds: u32) {
    let client = reqwest::blocking::Client::new();
    for path in [
        "/api/v1/records?q=%D0%B3%D0%BE%D1%81%D1%83%D0%B4%D0%B0%D1%80%D1%81%D1%82%D0%B2%D0%B5%D0%BD%D0%BD%D0%BE%D0%B9%20%D1%81%D0%BB%D1%83%D0%B6%D0%B1%D1%8B&country=KZ",
        "/api/v1/records?kind=event&sort=start&limit=20",
        "/api/v1/records?q=civil%20service&lang=en&topic=recruitment",
        "/api/v1/status",
    ] {
        let size = client
            .get(format!("{base}{path}"))
            .send()
            .and_then(|r| r.bytes())
            .map(|b| b.len())
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let (rps, lat) = wrk(&format!("{base}{path}"), seconds, &[]);
        let shown: String =
            url::form_urlencoded::parse(path.split_once('?').map_or("", |(_, q)| q).as_bytes())
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&");
        let name = path.split('?').next().unwrap_or(path);
        println!(
            "| `GET {name}{}{shown}` | {size} | {rps:.0} | {lat} | {:.3} |",
            if shown.is_empty() { "" } else { "?" },
            rps / health
        );
    }
}
