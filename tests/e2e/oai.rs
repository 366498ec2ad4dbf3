//! A real OAI-PMH harvester (Sickle, from PyPI) harvests a node holding the whole sample corpus
//! after some of its records were retracted and one erased: every item, every deletion, the
//! same count as the API, over pages joined by resumption tokens (GET and POST), and a
//! selective, incremental ListIdentifiers by set and `from`.
//!
//! Without Sickle the test says so and passes, unless `HUBNET_REQUIRE_SICKLE` is set (as
//! `.ci/run` sets it after `pip install sickle`): then it fails.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::poll_until;

/// The harvester: prints what it harvested as JSON.
const HARVEST: &str = r#"
import json, sys
from sickle import Sickle

base, since = sys.argv[1], sys.argv[2]

class Counting(Sickle):
    requests = 0
    def harvest(self, **kwargs):
        Counting.requests += 1
        return super().harvest(**kwargs)

out = {}
for method in ["GET", "POST"]:
    Counting.requests = 0
    s = Counting(base + "/oai", http_method=method, max_retries=0)
    records = list(s.ListRecords(metadataPrefix="oai_dc", ignore_deleted=False))
    out[method] = {
        "requests": Counting.requests,
        "identifiers": [r.header.identifier for r in records],
        "deleted": sorted(r.header.identifier for r in records if r.header.deleted),
        "titled": sum(1 for r in records if not r.header.deleted and r.metadata.get("title")),
        "pages": [r.metadata.get("identifier", [""])[0] for r in records if not r.header.deleted][:1],
    }
Counting.requests = 0
s = Counting(base + "/oai", max_retries=0)
headers = list(s.ListIdentifiers(**{"metadataPrefix": "oai_dc", "set": "kind:practice", "from": since, "ignore_deleted": False}))
out["since"] = {
    "identifiers": [h.identifier for h in headers],
    "deleted": sorted(h.identifier for h in headers if h.deleted),
    "datestamps": [h.datestamp for h in headers],
    "sets": [h.setSpecs for h in headers],
}
out["identify"] = s.Identify().repositoryName
print(json.dumps(out))
"#;

fn json_of(net: &crate::net::Net, path: &str) -> Value {
    let (status, body) = net.get(0, path);
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).expect("json")
}

#[test]
fn sickle_harvests_every_record_and_every_deletion() {
    let here = crate::support::tool_here(
        &["python3", "-c", "import sickle"],
        "HUBNET_REQUIRE_SICKLE",
        "the OAI-PMH harvest",
        "pip install sickle",
    );
    if !here {
        return;
    }
    let (net, count, _) = crate::browser::corpus_node();
    let base = net.nodes[0].http.clone();
    // The first harvest's moment: what changes after it is harvested again from it.
    let (_, identify) = net.get(0, "/oai?verb=Identify");
    let identify = String::from_utf8(identify).expect("utf-8");
    let since = identify
        .split("<responseDate>")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("a responseDate")
        .to_owned();
    // The node read its journal for that answer, stamping what it held then with that second
    // (which a `from` of that second includes: a harvester gets those again). The changes
    // below come in a later second, which the incremental harvest starts from.
    let since = chrono::DateTime::parse_from_rfc3339(&since).expect("a responseDate")
        + chrono::Duration::seconds(1);
    let since = since.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    poll_until(
        "the clock reaches the next second",
        Duration::from_secs(5),
        || chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string() >= since,
    );
    // KZ retracts two of its practices and erases an expert profile.
    let practices = json_of(&net, "/api/v1/records?kind=practice&country=KZ&limit=2");
    let mut gone = Vec::new();
    for r in practices["records"].as_array().expect("records") {
        let id = r["id"].as_str().expect("id").to_owned();
        net.publish(
            0,
            &json!({"kind": "retraction", "target": id, "reason": {"en": "Withdrawn."}}),
        );
        gone.push(id);
    }
    let experts = json_of(&net, "/api/v1/records?kind=expert&country=KZ&limit=1");
    let expert = experts["records"][0]["id"].as_str().expect("id").to_owned();
    net.publish(
        0,
        &json!({"kind": "erasure", "target": expert, "ground": "consent_withdrawn"}),
    );
    let live = count - 3;
    poll_until(
        "the API counts the records left",
        Duration::from_secs(60),
        || json_of(&net, "/api/v1/records?limit=1")["total"] == json!(live),
    );

    let script = net.dir.path().join("harvest.py");
    std::fs::write(&script, HARVEST).expect("write the harvester");
    let out = Command::new("timeout")
        .args(["120", "python3"])
        .arg(&script)
        .args([&base, &since])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "the harvest failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).expect("the harvester's JSON");
    let repository = format!(
        "oai:{}:",
        hubnet_node::oai::repository_identifier(&crate::support::sample_charter())
    );
    let deleted_want: Vec<String> = {
        let mut d: Vec<String> = gone
            .iter()
            .chain([&expert])
            .map(|id| format!("{repository}{id}"))
            .collect();
        d.sort();
        d
    };
    for method in ["GET", "POST"] {
        let h = &got[method];
        let ids: Vec<&str> = h["identifiers"]
            .as_array()
            .expect("identifiers")
            .iter()
            .map(|v| v.as_str().expect("identifier"))
            .collect();
        let mut unique = ids.clone();
        unique.sort_unstable();
        unique.dedup();
        // Every item once: the API's records plus the deleted ones.
        assert_eq!(ids.len(), count, "{method}");
        assert_eq!(unique.len(), count, "{method}");
        assert_eq!(h["deleted"], json!(deleted_want), "{method}");
        assert_eq!(h["titled"], json!(live), "{method}");
        // Pages of 50 records, joined by resumption tokens.
        assert_eq!(h["requests"], json!(count.div_ceil(50)), "{method}");
        assert!(
            h["pages"][0]
                .as_str()
                .is_some_and(|p| p.starts_with(&format!("{base}/records/"))),
            "{h}"
        );
    }
    // Selective and incremental: the practices changed since the first answer are the two
    // retracted ones, as deleted headers, datestamped no earlier than `from`.
    let s = &got["since"];
    let mut retracted: Vec<String> = gone.iter().map(|id| format!("{repository}{id}")).collect();
    retracted.sort();
    assert_eq!(s["deleted"], json!(retracted), "{s}");
    let mut changed: Vec<String> = s["identifiers"]
        .as_array()
        .expect("identifiers")
        .iter()
        .map(|v| v.as_str().expect("identifier").to_owned())
        .collect();
    changed.sort();
    assert_eq!(changed, retracted, "{s}");
    for (stamp, sets) in s["datestamps"]
        .as_array()
        .expect("datestamps")
        .iter()
        .zip(s["sets"].as_array().expect("sets"))
    {
        assert!(stamp.as_str().expect("datestamp") >= since.as_str(), "{s}");
        assert!(
            sets.as_array()
                .expect("sets")
                .contains(&json!("kind:practice"))
        );
    }
    assert!(
        got["identify"]
            .as_str()
            .is_some_and(|n| n.contains("Regional Hub")),
        "{got}"
    );
}
