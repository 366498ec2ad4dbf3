//! Reform profiles across the network: a profile published on one node appears in another node's
//! comparison and country page, and `hubnet query --kind reform_profile` finds it there.

use std::time::Duration;

use serde_json::{Value, json};

use super::Net;
use crate::support::{hubnet, poll_until};

fn profile(as_of: &str, merit: Option<(f64, u32)>) -> Value {
    let mut indicators = vec![json!({"code": "hub:user-satisfaction",
        "not_available": {"en": "No survey.", "ru": "Опроса не было."}})];
    if let Some((value, year)) = merit {
        indicators
            .push(json!({"code": "hub:merit-recruitment-share", "value": value, "year": year}));
    }
    json!({"kind": "reform_profile", "as_of": as_of,
           "title": {"en": format!("Reform profile {as_of}"), "ru": format!("Профиль реформ {as_of}")},
           "reforms": [{"title": {"en": "Merit recruitment"}, "status": "in-implementation"}],
           "indicators": indicators})
}

fn json_of(net: &Net, i: usize, path: &str) -> Value {
    let (status, body) = net.get(i, path);
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).expect("json")
}

#[test]
fn a_profile_published_on_one_node_appears_in_anothers_comparison() {
    let mut net = Net::new(&["KZ", "KG"]);
    net.start_all();
    let first = net.publish(0, &profile("2025-06-30", Some((60.0, 2024))));
    let mut second = profile("2026-06-30", Some((71.5, 2025)));
    second["previous"] = json!(first);
    let second = net.publish(0, &second);
    let kg = net.publish(1, &profile("2026-06-30", None));

    // KG's node compares KZ's latest profile (published on the other node) with KG's.
    let compare = "/api/v1/compare?country=KZ&country=KG";
    poll_until(
        "KZ's profile in KG's comparison",
        Duration::from_secs(30),
        || json_of(&net, 1, compare)["countries"][0]["profile"]["id"] == second.as_str(),
    );
    let c = json_of(&net, 1, compare);
    let merit = c["indicators"]
        .as_array()
        .and_then(|rows| {
            rows.iter()
                .find(|r| r["code"] == "hub:merit-recruitment-share")
        })
        .cloned()
        .expect("the merit row");
    assert_eq!(merit["cells"][0]["value"], 71.5);
    assert_eq!(merit["cells"][0]["year"], 2025);
    assert_eq!(merit["cells"][0]["record"], second.as_str());
    assert_eq!(
        merit["cells"][1],
        json!({"status": "not_reported", "record": kg})
    );

    // The country page on KG's node shows what changed in KZ's profile.
    let page = json_of(&net, 1, "/api/v1/countries/KZ");
    assert_eq!(page["previous"]["id"], first.as_str());
    assert_eq!(
        page["changes"]["indicators"][0],
        json!({"code": "hub:merit-recruitment-share",
               "from": {"value": 60.0, "year": 2024}, "to": {"value": 71.5, "year": 2025}})
    );

    // The CLI finds every profile on KG's node.
    let out = hubnet()
        .args([
            "query",
            "--node",
            &net.nodes[1].http,
            "--kind",
            "reform_profile",
            "--format",
            "json",
        ])
        .output()
        .expect("hubnet query");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(answer["total"], 3);
    assert_eq!(answer["facets"]["kind"]["reform_profile"], 3);
    for i in 0..2 {
        net.stop(i);
    }
}
