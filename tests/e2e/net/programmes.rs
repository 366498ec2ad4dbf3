//! A joint programme across a three-node network (docs/PROTOCOL.md §2.2), as issue 16 walks it:
//! HUB proposes a programme with KZ and KG; every node shows it proposed; KZ and KG confirm on
//! their own nodes; every node shows it confirmed; a budget amendment makes it proposed again
//! until both confirm again, while a progress amendment does not; KG retracts its confirmation
//! and every node shows the withdrawal. Confirmations a node must refuse are refused with their
//! own error.

use std::time::Duration;

use serde_json::{Value, json};

use super::Net;
use crate::support::poll_until;

const LIMIT: Duration = Duration::from_secs(30);

fn programme(budget: &str, status: &str) -> Value {
    json!({
        "kind": "programme",
        "title": {"en": "Joint e-recruitment toolkit (test)", "ru": "Совместный инструментарий электронного найма (тест)"},
        "description": {"en": "Three members build one merit-based e-recruitment toolkit."},
        "participants": [
            {"member": "HUB", "roles": ["lead", "accountable"],
             "contributions": [{"type": "cash", "amount": "120000", "currency": "USD"}]},
            {"member": "KZ", "roles": ["implementing", "funding"],
             "contributions": [{"type": "in_kind", "amount": "15000000", "currency": "KZT"}]},
            {"member": "KG", "roles": ["beneficiary"]}
        ],
        "status": status,
        "planned_start": "2026-01-01",
        "planned_end": "2027-12-31",
        "actual_start": "2026-02-01",
        "topics": ["recruitment"],
        "budget": [{"period_start": "2026-01-01", "period_end": "2026-12-31", "value": budget,
                    "currency": "USD", "status": "committed"}]
    })
}

/// `GET /api/v1/programmes/{id}` on node `i`, or `None` while it does not hold the programme.
fn state_on(net: &Net, i: usize, id: &str) -> Option<Value> {
    let (status, body) = net.get(i, &format!("/api/v1/programmes/{id}"));
    (status == 200)
        .then(|| serde_json::from_slice(&body).ok())
        .flatten()
}

fn standings(v: &Value) -> Vec<(String, String)> {
    v["participants"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    (
                        p["member"].as_str().unwrap_or_default().to_owned(),
                        p["standing"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until every node shows programme `id` in `state`, with `in_force` as its version in
/// force and these standings.
fn wait_everywhere(net: &Net, id: &str, state: &str, in_force: &str, expected: &[(&str, &str)]) {
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(m, s)| ((*m).to_owned(), (*s).to_owned()))
        .collect();
    for i in 0..net.nodes.len() {
        let deadline = std::time::Instant::now() + LIMIT;
        loop {
            let v = state_on(net, i, id).unwrap_or(Value::Null);
            if v["state"] == state && v["in_force"] == in_force && standings(&v) == expected {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "node {}: programme not {state} with {expected:?} within {LIMIT:?}; it shows {} {:?}",
                net.nodes[i].name,
                v["state"],
                standings(&v)
            );
            std::thread::sleep(Duration::from_millis(100)); // poll interval of this deadline loop
        }
    }
}

/// Posts a draft on node `i`: status code and JSON answer.
fn post(net: &Net, i: usize, draft: &Value) -> (u16, Value) {
    let r = reqwest::blocking::Client::new()
        .post(format!("{}/api/v1/records", net.nodes[i].http))
        .bearer_auth(&net.nodes[i].token)
        .json(draft)
        .send()
        .expect("POST");
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

#[test]
fn a_programme_is_proposed_confirmed_reconfirmed_and_withdrawn_on_every_node() {
    let mut net = Net::new(&["HUB", "KZ", "KG"]);
    net.start_all();
    let id = net.publish(0, &programme("80000", "implementation"));
    wait_everywhere(
        &net,
        &id,
        "proposed",
        &id,
        &[("HUB", "lead"), ("KZ", "awaiting"), ("KG", "awaiting")],
    );

    // KZ and KG confirm on their own nodes; the nodes fill in the version in force.
    let confirmation = json!({"kind": "confirmation", "programme": id});
    net.publish(1, &confirmation);
    wait_everywhere(
        &net,
        &id,
        "proposed",
        &id,
        &[("HUB", "lead"), ("KZ", "confirmed"), ("KG", "awaiting")],
    );
    net.publish(2, &confirmation);
    wait_everywhere(
        &net,
        &id,
        "confirmed",
        &id,
        &[("HUB", "lead"), ("KZ", "confirmed"), ("KG", "confirmed")],
    );
    // Every record the state rests on comes with it, signed.
    let shown = state_on(&net, 0, &id).expect("held");
    let kinds: Vec<&str> = shown["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter_map(|r| r["kind"].as_str())
        .collect();
    assert_eq!(kinds, vec!["programme", "confirmation", "confirmation"]);

    // A budget amendment: proposed again until both confirm the new version.
    let budget = net.publish(
        0,
        &json!({"kind": "amendment", "target": id, "record": programme("95000", "implementation"),
                "note": {"en": "Budget raised."}}),
    );
    wait_everywhere(
        &net,
        &id,
        "proposed",
        &budget,
        &[("HUB", "lead"), ("KZ", "reconfirm"), ("KG", "reconfirm")],
    );
    net.publish(1, &confirmation);
    let kg = net.publish(2, &confirmation);
    wait_everywhere(
        &net,
        &id,
        "confirmed",
        &budget,
        &[("HUB", "lead"), ("KZ", "confirmed"), ("KG", "confirmed")],
    );
    // Progress (status) needs no new confirmation.
    let progress = net.publish(
        0,
        &json!({"kind": "amendment", "target": id, "record": programme("95000", "completion")}),
    );
    wait_everywhere(
        &net,
        &id,
        "confirmed",
        &progress,
        &[("HUB", "lead"), ("KZ", "confirmed"), ("KG", "confirmed")],
    );

    // KG withdraws: every node shows it.
    net.publish(
        2,
        &json!({"kind": "retraction", "target": kg, "reason": {"en": "KG withdraws from the programme."}}),
    );
    wait_everywhere(
        &net,
        &id,
        "proposed",
        &progress,
        &[("HUB", "lead"), ("KZ", "confirmed"), ("KG", "withdrawn")],
    );
    for i in 0..3 {
        poll_until("search shows the state", LIMIT, || {
            let (_, body) = net.get(
                i,
                "/api/v1/records?kind=programme&participant=KG&state=proposed&status=completion",
            );
            serde_json::from_slice::<Value>(&body).is_ok_and(|v| v["records"][0]["id"] == json!(id))
        });
    }

    // Refusals, each with its own error, and nothing stored.
    let before = net.status(2)["record_count"].clone();
    let practice = net.publish(0, &super::practice("Not a programme"));
    poll_until("the practice reaches KG", LIMIT, || {
        net.get(2, &format!("/api/v1/records/{practice}")).0 == 200
    });
    let (status, answer) = post(
        &net,
        2,
        &json!({"kind": "confirmation", "programme": practice, "version": practice}),
    );
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["detail"]
            .as_str()
            .is_some_and(|d| d.contains("programme:") && d.contains("not a programme")),
        "{answer}"
    );
    let pair = net.publish(
        0,
        &json!({
            "kind": "programme",
            "title": {"en": "HUB and KZ only"},
            "description": {"en": "A programme KG is not part of."},
            "participants": [{"member": "HUB", "roles": ["lead"]}, {"member": "KZ", "roles": ["funding"]}],
            "status": "pipeline",
            "planned_start": "2027-01-01"
        }),
    );
    poll_until("the second programme reaches KG", LIMIT, || {
        state_on(&net, 2, &pair).is_some()
    });
    let (status, answer) = post(&net, 2, &json!({"kind": "confirmation", "programme": pair}));
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["detail"]
            .as_str()
            .is_some_and(|d| d.contains("does not list KG as a participant")),
        "{answer}"
    );
    let (status, answer) = post(
        &net,
        2,
        &json!({"kind": "confirmation", "programme": pair, "version": "ab".repeat(32)}),
    );
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["detail"]
            .as_str()
            .is_some_and(|d| d.contains("version:") && d.contains("not a record this node holds")),
        "{answer}"
    );
    // A programme naming a non-member, or led by another member than its author.
    let mut stranger = programme("1", "pipeline");
    stranger["participants"][2]["member"] = json!("FR");
    let (status, answer) = post(&net, 0, &stranger);
    assert_eq!(status, 422, "{answer}");
    assert!(
        answer["detail"]
            .as_str()
            .is_some_and(|d| d.contains("participants[2].member") && d.contains("not a member")),
        "{answer}"
    );
    let (status, answer) = post(&net, 1, &programme("1", "pipeline"));
    assert_eq!(status, 422, "{answer}");
    assert!(
        answer["detail"]
            .as_str()
            .is_some_and(|d| d.contains("the lead is HUB")),
        "{answer}"
    );
    // KG's own log gained nothing from the refusals (the practice and the second programme
    // are HUB's).
    poll_until("KG holds HUB's two new records", LIMIT, || {
        net.status(2)["record_count"].as_u64() == before.as_u64().map(|n| n + 2)
    });
}

/// A node that was down while a programme was proposed, confirmed and amended catches up to the
/// same state, whatever order sync brings the lead's and the participants' logs in (a
/// confirmation before its programme is refused without penalty and fetched again).
#[test]
fn a_node_that_was_down_derives_the_same_state_once_it_catches_up() {
    let mut net = Net::new(&["HUB", "KZ", "KG"]);
    net.start(0);
    net.start(1);
    let id = net.publish(0, &programme("80000", "implementation"));
    poll_until("KZ holds the programme", LIMIT, || {
        state_on(&net, 1, &id).is_some()
    });
    net.publish(1, &json!({"kind": "confirmation", "programme": id}));
    let amended = net.publish(
        0,
        &json!({"kind": "amendment", "target": id, "record": programme("80000", "completion")}),
    );
    poll_until("KZ holds the amendment", LIMIT, || {
        state_on(&net, 1, &id).is_some_and(|v| v["in_force"] == json!(amended))
    });
    net.start(2);
    wait_everywhere(
        &net,
        &id,
        "proposed",
        &amended,
        &[("HUB", "lead"), ("KZ", "confirmed"), ("KG", "awaiting")],
    );
    net.publish(2, &json!({"kind": "confirmation", "programme": id}));
    wait_everywhere(
        &net,
        &id,
        "confirmed",
        &amended,
        &[("HUB", "lead"), ("KZ", "confirmed"), ("KG", "confirmed")],
    );
}
