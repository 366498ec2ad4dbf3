//! Operating a node: JSON logs, readiness of a network's nodes, the peer lines of the log, and
//! the Prometheus and Grafana files of `deploy/` held against a real node's `/metrics` (and
//! `promtool`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::net::Net;
use crate::support::poll_until;

/// The node's log lines, each parsed as JSON (panics on one that is not).
fn json_lines(log: &str) -> Vec<Value> {
    log.lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}"))
        })
        .collect()
}

/// The `message` of a JSON log line.
fn message(line: &Value) -> &str {
    line["fields"]["message"].as_str().unwrap_or_default()
}

/// `GET /readyz` on node `i`: status and JSON body.
fn readyz(net: &Net, i: usize) -> (u16, Value) {
    let (status, body) = net.get(i, "/readyz");
    let body = serde_json::from_slice(&body).unwrap_or_else(|e| {
        panic!(
            "/readyz is not JSON ({e}): {}",
            String::from_utf8_lossy(&body)
        )
    });
    (status, body)
}

/// Whether the check `name` of a `/readyz` body holds.
fn holds(body: &Value, name: &str) -> bool {
    body["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no check {name} in {body}"))["ok"]
        == true
}

/// Waits until node `i`'s `/readyz` answers `status` with a body for which `cond` holds.
fn wait_ready(net: &Net, i: usize, status: u16, what: &str, cond: impl Fn(&Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (got, body) = readyz(net, i);
        if got == status && cond(&body) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "node {}: {what}: not within 30 s; /readyz: {got} {body}",
            net.nodes[i].name
        );
        std::thread::sleep(Duration::from_millis(100)); // poll interval of this deadline loop
    }
}

/// `hubnet run --log-format json`: every line of its stderr is one JSON object with a
/// timestamp, a level, the target and the fields (the message among them).
#[test]
fn json_logs_are_one_object_per_line() {
    let mut net = Net::new(&["KZ"]);
    let stdout = std::fs::File::create(net.nodes[0].dir.join("stdout")).expect("stdout file");
    net.start_with(0, |c| {
        c.args(["--log-format", "json"]).stdout(stdout);
    });
    poll_until("the \"node started\" line", Duration::from_secs(10), || {
        net.log(0).contains(r#""message":"node started""#)
    });
    net.stop(0);
    let lines = json_lines(&net.log(0));
    for line in &lines {
        for key in ["timestamp", "level", "target", "fields"] {
            assert!(line.get(key).is_some(), "no {key}: {line}");
        }
        let time = line["timestamp"].as_str().unwrap_or_default();
        assert!(
            chrono::DateTime::parse_from_rfc3339(time).is_ok(),
            "timestamp {time:?}"
        );
        assert!(
            ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]
                .contains(&line["level"].as_str().unwrap_or_default()),
            "{line}"
        );
        // Most events have a message; some of libp2p's carry fields only.
        assert!(line["fields"].is_object(), "{line}");
    }
    let started = lines
        .iter()
        .find(|l| message(l) == "node started")
        .expect("a node started line");
    assert_eq!(started["level"], "INFO");
    assert_eq!(started["fields"]["member"], "KZ");
    assert_eq!(started["fields"]["peer_id"], net.peer_id(0));
    assert!(
        started["target"]
            .as_str()
            .is_some_and(|t| t.starts_with("hubnet_node")),
        "{started}"
    );
    let messages: Vec<&str> = lines.iter().map(message).collect();
    for m in ["stopping", "stopped"] {
        assert!(messages.contains(&m), "no {m:?} line in {messages:?}");
    }
}

/// Two nodes: the one that bootstraps from the other expects a peer, so it is not ready alone;
/// once both run, both are ready. It logs (JSON, through HUBNET_LOG_FORMAT) one line when the
/// other connects and one when it leaves, naming its member and the cause, and is not ready
/// again.
#[test]
fn a_two_node_network_becomes_ready_and_logs_its_peers() {
    let mut net = Net::new(&["KZ", "KG"]);
    net.start_with(1, |c| {
        c.env("HUBNET_LOG_FORMAT", "json");
    });
    wait_ready(&net, 1, 503, "not ready without its peer", |b| {
        b["status"] == 503 && holds(b, "store") && !holds(b, "peers")
    });
    net.start(0);
    for i in [0, 1] {
        wait_ready(&net, i, 200, "ready", |b| b["status"] == "ready");
    }
    let kz = net.peer_id(0).to_owned();
    poll_until(
        "KG lists KZ's node as KZ's",
        Duration::from_secs(10),
        || {
            let (_, body) = net.get(1, "/api/v1/peers");
            serde_json::from_slice::<Value>(&body).is_ok_and(|p| {
                p.as_array()
                    .is_some_and(|p| p.iter().any(|p| p["peer_id"] == kz && p["member"] == "KZ"))
            })
        },
    );
    net.stop(0);
    poll_until("KG logs KZ's disconnect", Duration::from_secs(15), || {
        net.log(1).contains(r#""message":"peer disconnected""#)
    });
    wait_ready(&net, 1, 503, "not ready once its peer left", |b| {
        !holds(b, "peers")
    });
    net.stop(1);
    let lines = json_lines(&net.log(1));
    let about_kz = |m: &str| -> Vec<&Value> {
        lines
            .iter()
            .filter(|l| message(l) == m && l["fields"]["peer"] == kz.as_str())
            .collect()
    };
    let connected = about_kz("peer connected");
    assert_eq!(
        connected.len(),
        1,
        "one line for the connect: {connected:?}"
    );
    let c = connected[0];
    assert_eq!(c["level"], "INFO");
    assert_eq!(c["fields"]["direction"], "out");
    assert!(
        c["fields"]["address"]
            .as_str()
            .is_some_and(|a| a.starts_with("/ip4/127.0.0.1/tcp/")),
        "{c}"
    );
    let disconnected = about_kz("peer disconnected");
    assert_eq!(
        disconnected.len(),
        1,
        "one line for the disconnect: {disconnected:?}"
    );
    let d = disconnected[0];
    assert_eq!(d["level"], "INFO");
    assert_eq!(d["fields"]["member"], "KZ");
    assert!(d["fields"]["address"].is_string(), "{d}");
    assert!(
        d["fields"]["cause"].as_str().is_some_and(|c| !c.is_empty()),
        "{d}"
    );
}

/// A running node has transparent huge pages off (node/src/main.rs: with them, a tenth of a busy
/// node's CPU went to the kernel zeroing 2 MiB pages). Linux has reported `THP_enabled` since
/// 5.0; it is 0 on a kernel built without them too.
#[test]
fn a_running_node_has_transparent_huge_pages_off() {
    let mut net = Net::new(&["KZ"]);
    net.start(0);
    let status = std::fs::read_to_string(format!("/proc/{}/status", net.pid(0))).expect("status");
    let line = status
        .lines()
        .find(|l| l.starts_with("THP_enabled:"))
        .expect("the kernel reports THP_enabled");
    assert_eq!(line.split_whitespace().nth(1), Some("0"), "{line}");
    net.stop(0);
}

/// `deploy/prometheus` and `deploy/grafana`.
fn deploy(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy")
        .join(path)
}

/// Every `hubnet_…` metric name a file uses.
fn hubnet_names(text: &str) -> BTreeSet<String> {
    text.match_indices("hubnet_")
        .filter(|(at, _)| {
            // Not the tail of a longer identifier.
            !text[..*at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        })
        .map(|(at, _)| {
            text[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .filter(|name| name.len() > "hubnet_".len())
        .collect()
}

/// The series names an exposition (`GET /metrics`) offers: every sample's, and for each
/// declared family the names its samples take (so a family without samples yet counts too).
fn exported_names(exposition: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in exposition.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split_whitespace();
            let (Some(name), Some(kind)) = (parts.next(), parts.next()) else {
                continue;
            };
            let suffixes: &[&str] = match kind {
                "counter" => &["_total"],
                "histogram" => &["_bucket", "_sum", "_count"],
                _ => &[""],
            };
            for s in suffixes {
                names.insert(format!("{name}{s}"));
            }
        } else if !line.starts_with('#') && !line.is_empty() {
            let end = line.find(['{', ' ']).unwrap_or(line.len());
            names.insert(line[..end].to_owned());
        }
    }
    names
}

/// The alert rules and the dashboard use only metrics a running node exports, so they cannot
/// drift apart from `node/src/metrics.rs`; and the dashboard is a Grafana dashboard whose panels
/// all query the chosen data source. (Two nodes: libp2p's bandwidth counters appear with a
/// connection.)
#[test]
fn alerts_and_dashboard_use_only_metrics_a_node_exports() {
    let mut net = Net::new(&["KZ", "KG"]);
    net.start_all();
    net.wait_until(&[1], Duration::from_secs(20), "a live peer", |s| {
        s[0]["peers"].as_array().is_some_and(|p| !p.is_empty())
    });
    let (status, body) = net.get(1, "/metrics");
    net.stop(1);
    net.stop(0);
    assert_eq!(status, 200);
    let exposition = String::from_utf8(body).expect("utf-8");
    let exported = exported_names(&exposition);
    let alerts = std::fs::read_to_string(deploy("prometheus/alerts.yml")).expect("alerts.yml");
    let dashboard = std::fs::read_to_string(deploy("grafana/hubnet.json")).expect("dashboard");
    for (file, text) in [("alerts.yml", &alerts), ("hubnet.json", &dashboard)] {
        let used = hubnet_names(text);
        assert!(used.len() >= 5, "{file} uses hardly any metric: {used:?}");
        let missing: Vec<&String> = used.difference(&exported).collect();
        assert!(
            missing.is_empty(),
            "{file} uses metrics the node does not export: {missing:?}\nexported: {exported:?}"
        );
    }
    let dashboard: Value = serde_json::from_str(&dashboard).expect("the dashboard is JSON");
    let panels = dashboard["panels"].as_array().expect("panels");
    for title in [
        "Records held",
        "Live peers",
        "Ingest rate",
        "Search index lag",
        "HTTP requests by status",
        "Bandwidth (libp2p)",
    ] {
        assert!(
            panels.iter().any(|p| p["title"] == title),
            "no panel {title:?}"
        );
    }
    for p in panels {
        assert_eq!(p["datasource"]["uid"], "${datasource}", "{}", p["title"]);
        let targets = p["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{}", p["title"]);
        for t in targets {
            assert!(t["expr"].as_str().is_some_and(|e| !e.is_empty()), "{t}");
        }
    }
}

/// `promtool` (Debian: prometheus) checks the rules, the example config and the rules' unit
/// tests (`alerts_test.yml`). Without it, says so and passes, unless `HUBNET_REQUIRE_PROMTOOL`
/// is set (as `.ci/run` sets it): then it fails.
#[test]
fn promtool_accepts_the_alert_rules_and_the_scrape_config() {
    let version = Command::new("promtool")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success());
    let Some(version) = version else {
        assert!(
            std::env::var_os("HUBNET_REQUIRE_PROMTOOL").is_none_or(|v| v != "1"),
            "HUBNET_REQUIRE_PROMTOOL=1 but `promtool` (Debian: prometheus) does not run"
        );
        eprintln!("Prometheus rules and config NOT CHECKED: no `promtool` (Debian: prometheus)");
        return;
    };
    let version = String::from_utf8_lossy(&version.stdout);
    eprintln!("{}", version.lines().next().unwrap_or_default());
    for args in [
        ["check", "rules", "alerts.yml"],
        ["check", "config", "prometheus.yml"],
        ["test", "rules", "alerts_test.yml"],
    ] {
        let out = Command::new("promtool")
            .args(args)
            .current_dir(deploy("prometheus"))
            .stdin(Stdio::null())
            .output()
            .expect("promtool runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("promtool {}:\n{text}", args.join(" "));
        assert!(out.status.success(), "promtool {}: {text}", args.join(" "));
        assert!(
            text.contains("SUCCESS"),
            "promtool {}: {text}",
            args.join(" ")
        );
    }
}
