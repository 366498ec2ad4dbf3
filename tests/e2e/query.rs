//! `hubnet query` against a running node, and the search index rebuilt at start after it was
//! deleted.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::net::Net;
use crate::support::hubnet;

/// Waits until the node's query API counts `n` records.
fn wait_indexed(net: &Net, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = net.get(0, "/api/v1/records?limit=1");
        let total = serde_json::from_slice::<Value>(&body).map(|v| v["total"].clone());
        if status == 200 && total.as_ref().ok() == Some(&json!(n)) {
            return;
        }
        assert!(Instant::now() < deadline, "not indexed: {total:?}");
        std::thread::sleep(Duration::from_millis(50)); // poll interval of this deadline loop
    }
}

#[test]
fn hubnet_query_prints_tables_and_json_and_the_index_rebuilds() {
    let mut net = Net::new(&["KZ"]);
    net.init(0);
    net.start(0);
    let civil = net.publish(
        0,
        &json!({"kind": "practice", "topics": ["recruitment"],
                "title": {"ru": "Конкурс на государственную службу", "en": "Competitions for the civil service"},
                "summary": {"ru": "Открытый конкурс."}}),
    );
    net.publish(
        0,
        &json!({"kind": "practice", "topics": ["pay"], "title": {"en": "Pay grades"},
                "summary": {"en": "Grades and bands."}}),
    );
    wait_indexed(&net, 2);
    let node = net.nodes[0].http.clone();

    let out = hubnet()
        .args([
            "query",
            "--node",
            &node,
            "--format",
            "json",
            "государственной службы",
        ])
        .output()
        .expect("hubnet query");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["total"], 1);
    assert_eq!(v["records"][0]["id"], civil.as_str());

    let out = hubnet()
        .args([
            "query",
            "--node",
            &node,
            "--topic",
            "pay",
            "--display-lang",
            "en",
        ])
        .output()
        .expect("hubnet query");
    assert!(out.status.success());
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("Pay grades"), "{table}");
    assert!(table.contains("1 of 1 shown"), "{table}");
    assert!(!table.contains("Competitions"), "{table}");

    let out = hubnet()
        .args(["query", "--node", &node, "--kind", "book"])
        .output()
        .expect("hubnet query");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("kind") && err.contains("book"), "{err}");

    // Delete the index: the node rebuilds it at start and says so in its log.
    net.stop(0);
    std::fs::remove_dir_all(net.data(0).join("search")).expect("delete the index");
    net.start(0);
    wait_indexed(&net, 2);
    let log = net.log(0);
    assert!(
        log.contains("search index: indexing the store's records"),
        "no progress line in the log:\n{log}"
    );
}
