//! Erasure across a five-node network (docs/PROTOCOL.md §2.1): an expert's profile carrying a
//! unique marker is erased on its author's node; within a bounded time no file under any node's data dir holds
//! the marker (journal and search index included); a node stopped during the erasure erases it
//! when it comes back; neither the old body posted again nor a bundle exported before the
//! erasure brings it back; the audit is clean and a bundle verifies with the erased records
//! reported as erased.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use super::Net;
use crate::support::{hubnet, path, poll_until};

const MARKER: &str = "qxzmarker4418erase";

fn files_holding(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
            {
                found.push(p);
            }
        }
    }
    found
}

fn cli(args: &[&str]) -> (i32, String, String) {
    let out = hubnet().args(args).output().expect("runs hubnet");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json_of(net: &Net, i: usize, path: &str) -> Value {
    let (status, body) = net.get(i, path);
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).expect("json")
}

#[test]
fn an_erased_record_is_gone_from_every_node_and_the_audit_stays_clean() {
    let mut net = Net::new(&["KZ", "KG", "TJ", "UZ", "AZ"]);
    net.start_all();
    let expert = |name: String| {
        json!({"kind": "expert", "sample": true,
               "name": {"en": name, "ru": "Пример Эксперт (вымышленный)"},
               "summary": {"en": format!("Fictional test profile {MARKER}")},
               "topics": ["e-government"], "languages": ["ru", "en"], "formats": ["speaker"],
               "contact_email": "experts@kz.example.org",
               "consent": {"date": "2026-01-15", "scope": "hub_network_all_members",
                           "document_sha256": "ab".repeat(32)}})
    };
    let target = net.publish(0, &expert(format!("Test Expert {MARKER}")));
    let amendment = net.publish(
        0,
        &json!({"kind": "amendment", "target": target,
                "record": expert(format!("Test Expert {MARKER} (moved)"))}),
    );
    let other = net.publish(1, &super::practice("A record that stays"));
    net.wait_converged(&[0, 1, 2, 3, 4], 3, Duration::from_secs(30));
    for i in 0..5 {
        poll_until(
            "the marker indexed everywhere",
            Duration::from_secs(30),
            || json_of(&net, i, &format!("/api/v1/records?q={MARKER}"))["total"] == 1,
        );
    }
    let directory = json_of(&net, 4, "/api/v1/directory?kind=expert");
    assert_eq!(directory["total"], 1, "{directory:#}");
    // What a stale copy looks like: the old body, and a bundle exported before the erasure.
    let (status, old_raw) = net.get(2, &format!("/api/v1/records/{target}/raw"));
    assert_eq!(status, 200);
    let (status, old_bundle) = net.get(2, "/api/v1/bundle");
    assert_eq!(status, 200);
    let old_bundle_file = net.dir.path().join("before-erasure.bundle");
    std::fs::write(&old_bundle_file, &old_bundle).expect("write");

    // AZ's node is stopped while the erasure happens.
    net.stop(4);
    // As an operator does it: `hubnet erase` against the member's running node.
    let (code, out, err) = cli(&[
        "erase",
        "--node",
        &net.nodes[0].http,
        "--token",
        &net.nodes[0].token,
        "--record",
        &target,
        "--ground",
        "consent_withdrawn",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("and 1 amendment(s)"), "{out}");
    let erasure = out
        .split_whitespace()
        .skip_while(|w| *w != "erasure")
        .nth(1)
        .map(|w| w.trim_end_matches(';').to_owned())
        .unwrap_or_else(|| panic!("no erasure id in {out:?}"));
    net.wait_converged(&[0, 1, 2, 3], 4, Duration::from_secs(30));
    for i in 0..4 {
        poll_until(
            "the record gone from a running node's search and data dir",
            Duration::from_secs(30),
            || {
                json_of(&net, i, &format!("/api/v1/records?q={MARKER}"))["total"] == 0
                    && files_holding(&net.data(i), MARKER.as_bytes()).is_empty()
            },
        );
        let r = json_of(&net, i, &format!("/api/v1/records/{target}"));
        assert_eq!(r["erased"], true, "{r:#}");
        assert_eq!(r["body"], Value::Null);
        assert_eq!(r["erased_by"]["record"], erasure.as_str());
        assert_eq!(r["amendments"], json!([amendment]));
        let hits = json_of(&net, i, &format!("/api/v1/records?q={MARKER}"));
        assert_eq!(hits["total"], 0, "{hits:#}");
        let directory = json_of(&net, i, "/api/v1/directory?kind=expert");
        assert_eq!(directory["total"], 0, "{directory:#}");
        // Its page stays, saying it was erased (the browser checks the proof).
        let (status, page) = net.get(i, &format!("/records/{target}"));
        assert_eq!(status, 200);
        assert!(
            String::from_utf8_lossy(&page).contains("<title>An erased expert · hubnet</title>")
        );
    }

    // Exports list it as erased: header and signature with the proof, no content.
    let export = json_of(&net, 1, "/api/v1/export?format=json&kind=expert");
    let row = export
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["id"] == target.as_str()))
        .unwrap_or_else(|| panic!("the erased profile is not in the export: {export:#}"));
    assert_eq!(row["erased"], true);
    assert_eq!(row["body"], Value::Null);
    assert!(row["signed"]["erasure"].is_string());
    let (_, csv) = net.get(1, "/api/v1/export?format=csv&kind=expert");
    let csv = String::from_utf8_lossy(&csv);
    // The `erased` column (an erased row has no text cells, so no quoted commas).
    let erased = csv
        .lines()
        .next()
        .and_then(|h| h.split(',').position(|c| c == "erased"))
        .expect("an erased column");
    assert!(
        csv.lines()
            .any(|l| l.starts_with(target.as_str()) && l.split(',').nth(erased) == Some("true")),
        "{csv}"
    );

    // The stopped node comes back, catches up and erases.
    net.start(4);
    net.wait_converged(&[0, 1, 2, 3, 4], 4, Duration::from_secs(30));
    poll_until(
        "the record gone from the search and data dir of the node that was stopped",
        Duration::from_secs(30),
        || {
            json_of(&net, 4, &format!("/api/v1/records?q={MARKER}"))["total"] == 0
                && files_holding(&net.data(4), MARKER.as_bytes()).is_empty()
        },
    );

    // The old body posted again is refused and counted, not stored.
    let (status, answer) = net.post_raw(2, old_raw);
    assert!(status < 300, "{status}: {answer}");
    let (_, metrics) = net.get(2, "/metrics");
    let metrics = String::from_utf8_lossy(&metrics);
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("hubnet_erased_bodies_refused_total ") && !l.ends_with(" 0")),
        "{metrics}"
    );
    assert!(files_holding(&net.data(2), MARKER.as_bytes()).is_empty());

    // An old bundle imported into a stopped node brings nothing back.
    net.stop(4);
    let (code, out, err) = cli(&[
        "import",
        "--data-dir",
        path(&net.data(4)),
        path(&old_bundle_file),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        files_holding(&net.data(4), MARKER.as_bytes()).is_empty(),
        "importing an old bundle brought the body back"
    );
    net.start(4);

    // The audit of every node is clean; a bundle verifies and reports the erased records.
    let mut args = vec!["audit", "--grace", "0", "--format", "json"];
    for n in &net.nodes {
        args.extend(["--node", n.http.as_str()]);
    }
    let (code, out, err) = cli(&args);
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{out}{err}"));
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["problems"], json!([]));
    let (status, bundle) = net.get(3, "/api/v1/bundle");
    assert_eq!(status, 200);
    let bundle_file = net.dir.path().join("after-erasure.bundle");
    std::fs::write(&bundle_file, bundle).expect("write");
    let (code, out, err) = cli(&["verify", path(&bundle_file)]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("2 erased"), "{out}");
    assert!(json_of(&net, 3, &format!("/api/v1/records/{other}"))["erased"] == false);
    for i in 0..5 {
        net.stop(i);
    }
}
