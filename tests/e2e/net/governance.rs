//! The Steering Committee rotates a member's key with two of three signatures, gathered offline
//! with the CLI; every node then refuses the old key's later records; the audit is clean. Then
//! one node equivocates (two contradicting checkpoints signed with its key reach different
//! nodes) and the same audit fails, naming the node and the evidence. A suspended member's new
//! records are refused by every node.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use hubnet_protocol::checkpoint;
use hubnet_protocol::id::sha256;
use hubnet_protocol::record::{self, Position};
use hubnet_protocol::sync::HeadRef;
use hubnet_protocol::{Draft, DraftFormat, PublicKey, RecordId, SecretKey};
use prost::Message;
use serde_json::Value;

use super::{Net, practice};
use crate::support::{hubnet, init_data_dir, path, poll_until, sample, sample_charter, sample_key};

fn governance(net: &Net, i: usize) -> Value {
    let (status, body) = net.get(i, "/api/v1/governance");
    assert_eq!(status, 200);
    serde_json::from_slice(&body).expect("json")
}

fn cli(args: &[&str]) -> (i32, String, String) {
    let out = hubnet().args(args).output().expect("runs hubnet");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn charter_file() -> std::path::PathBuf {
    sample().join("charter.toml")
}

/// `hubnet governance propose` against node `i`, writing `out`; `action` is the subcommand and
/// its arguments.
fn propose(net: &Net, i: usize, out: &Path, action: &[&str]) -> (i32, String, String) {
    let charter = charter_file();
    let mut args = vec![
        "governance",
        "propose",
        "--charter",
        path(&charter),
        "--node",
        &net.nodes[i].http,
        "--out",
        path(out),
        "--reason",
        "en=Steering Committee meeting",
    ];
    args.extend(action);
    cli(&args)
}

/// `hubnet governance sign` with the sample key `key` (a file name in deploy/sample/keys).
fn sign(proposal: &Path, key: &str) -> (i32, String, String) {
    let charter = charter_file();
    cli(&[
        "governance",
        "sign",
        "--charter",
        path(&charter),
        "--key",
        path(&sample_key(key)),
        path(proposal),
    ])
}

/// `hubnet governance submit` to node `i`.
fn submit(net: &Net, i: usize, proposal: &Path) -> (i32, String, String) {
    let charter = charter_file();
    cli(&[
        "governance",
        "submit",
        "--charter",
        path(&charter),
        "--node",
        &net.nodes[i].http,
        path(proposal),
    ])
}

/// Waits until every node's governance chain is `length` long.
fn wait_for_chain(net: &Net, length: u64) {
    poll_until(
        "the decision reaching every node",
        Duration::from_secs(30),
        || (0..net.nodes.len()).all(|i| governance(net, i)["chain_length"] == length),
    );
}

#[test]
fn key_rotation_by_quorum_then_an_equivocating_node_is_named_by_the_audit() {
    let mut net = Net::new(&["KZ", "KG", "HUB"]);
    net.start_all();
    net.publish(0, &practice("Before the rotation 1"));
    net.publish(0, &practice("Before the rotation 2"));
    net.wait_converged(&[0, 1, 2], 2, Duration::from_secs(30));

    // A proposal, signed offline by two of three committee keys.
    let dir = net.dir.path().to_owned();
    let new_key = SecretKey::from_seed([77; 32]);
    let proposal = dir.join("rotate.json");
    let new_hex = new_key.public_key().to_hex();
    let (code, out, err) = propose(
        &net,
        2,
        &proposal,
        &["rotate-key", "--code", "KZ", "--new-key", &new_hex],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("the old key may sign up to seq 2"), "{out}");
    // An amendment that lowers a limit would be void: refused before a proposal is written.
    let limits = dir.join("limits.toml");
    std::fs::write(
        &limits,
        "max_short_text_bytes = 16\nmax_body_bytes = 131072\n",
    )
    .expect("write");
    let lowering = dir.join("lower.json");
    let (code, out, err) = propose(
        &net,
        2,
        &lowering,
        &["amend-limits", "--limits", path(&limits)],
    );
    assert_ne!(code, 0, "{out}");
    assert!(
        err.contains("this lowers max_short_text_bytes from 512 to 16"),
        "{err}"
    );
    assert!(!lowering.exists());
    assert_eq!(sign(&proposal, "committee-1").0, 0);
    // One signature is not the quorum; the same key twice and a member's key are refused.
    let (code, _, err) = submit(&net, 1, &proposal);
    assert_ne!(code, 0);
    assert!(
        err.contains("1 committee signatures, the quorum is 2"),
        "{err}"
    );
    let (code, _, err) = sign(&proposal, "committee-1");
    assert_ne!(code, 0);
    assert!(err.contains("signed twice"), "{err}");
    let (code, _, err) = sign(&proposal, "KZ");
    assert_ne!(code, 0);
    assert!(err.contains("not a committee key"), "{err}");
    assert_eq!(sign(&proposal, "committee-2").0, 0);
    let (code, out, err) = submit(&net, 1, &proposal);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("applied"), "{out}");

    // Every node learns the decision.
    wait_for_chain(&net, 1);

    // The old key's later records are refused: its own node will not sign them, and a record
    // signed elsewhere is refused by every node.
    let r = reqwest::blocking::Client::new()
        .post(format!("{}/api/v1/records", net.nodes[0].http))
        .bearer_auth(&net.nodes[0].token)
        .json(&practice("After the rotation"))
        .send()
        .expect("POST");
    assert_eq!(r.status().as_u16(), 422);
    let body: Value = r.json().expect("json");
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or("")
            .contains("may sign up to seq 2"),
        "{body}"
    );
    let charter = sample_charter();
    let old = hubnet_node::keyfile::read(&sample_key("KZ")).expect("key");
    let log: Value =
        serde_json::from_slice(&net.get(1, &format!("/api/v1/logs/{}", old.public_key())).1)
            .expect("json");
    assert_eq!(log["head"]["seq"], 2, "{log}");
    let head = log["head"]["id"]
        .as_str()
        .expect("head")
        .parse::<RecordId>()
        .expect("id");
    let draft = Draft::parse(&practice("Late").to_string(), DraftFormat::Json).expect("draft");
    let body = draft.to_body("KZ", &charter.rules()).expect("body");
    let late = record::sign(
        &old,
        charter.network_id(),
        Position {
            seq: 3,
            prev: Some(head),
            prev_created_at: 0,
        },
        hubnet_node::now_ms(),
        &body,
    );
    for i in 0..3 {
        let (status, answer) = net.post_raw(i, late.encode());
        assert_eq!(status, 422, "{answer}");
        assert!(
            answer["detail"]
                .as_str()
                .unwrap_or("")
                .contains("may sign up to seq 2")
        );
    }

    // The new key publishes (a record signed with it, posted to KG's node).
    let fresh = record::sign(
        &new_key,
        charter.network_id(),
        Position::FIRST,
        hubnet_node::now_ms(),
        &body,
    );
    assert_eq!(net.post_raw(1, fresh.encode()).0, 201);
    net.wait_converged(&[0, 1, 2], 3, Duration::from_secs(30));

    let audit = |extra: &[&str]| {
        let mut args = vec!["audit", "--grace", "0", "--format", "json"];
        for n in &net.nodes {
            args.extend(["--node", n.http.as_str()]);
        }
        args.extend(extra);
        let (code, out, err) = cli(&args);
        let report: Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{out}{err}"));
        (code, report)
    };
    let (code, report) = audit(&[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["problems"], Value::Array(vec![]));
    assert_eq!(report["governance"][0]["status"]["status"], "applied");

    // A node's bundle carries the decision: it verifies under it, and imports into a fresh data
    // dir with the new key's record (a key only the decision names).
    let (status, bytes) = net.get(1, "/api/v1/bundle");
    assert_eq!(status, 200);
    let bundle = dir.join("kg.bundle");
    std::fs::write(&bundle, bytes).expect("write");
    let (code, out, err) = cli(&["verify", path(&bundle)]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("governance 1 decisions (1 on the chain)"),
        "{out}"
    );
    assert!(out.contains("OK: 3 records verified"), "{out}");
    let fresh_dir = dir.join("imported");
    init_data_dir(&fresh_dir, &charter_file());
    let (code, out, err) = cli(&["import", "--data-dir", path(&fresh_dir), path(&bundle)]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(
            "imported 3 new records, 0 already present, 0 skipped; 1 new governance decisions (0 skipped)"
        ),
        "{out}"
    );

    // KG's node equivocates: two checkpoints signed with KG's key, naming different records at
    // KZ's seq 2, reach two different nodes.
    let kg = hubnet_node::keyfile::read(&sample_key("KG")).expect("key");
    let kg_peer = net.status(1)["peer_id"].as_str().expect("peer").to_owned();
    let old_key: PublicKey = old.public_key();
    let at = |id: RecordId| BTreeMap::from([(old_key, HeadRef { seq: 2, id })]);
    let now = hubnet_node::now_ms();
    // The one decision every node holds: count 1, digest the SHA-256 of its id.
    let rotation: RecordId = governance(&net, 1)["decisions"][0]["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("the rotation's id");
    let decisions = (1, sha256(rotation.as_bytes()).to_vec());
    // KG's own node signs the same in its checkpoints.
    let own_checkpoint_holds_the_decision = || {
        let (_, body) = net.get(1, "/api/v1/checkpoints");
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        v["checkpoints"].as_array().is_some_and(|all| {
            all.iter().any(|c| {
                c["member"] == "KG"
                    && c["decision_count"] == 1
                    && c["decisions_digest"] == hex::encode(&decisions.1)
            })
        })
    };
    poll_until(
        "a checkpoint of KG's node holding the decision",
        Duration::from_secs(30),
        own_checkpoint_holds_the_decision,
    );
    let honest = checkpoint::sign(&kg, &charter, &kg_peer, now + 1000, &at(head), &decisions);
    let lie = checkpoint::sign(
        &kg,
        &charter,
        &kg_peer,
        now + 2000,
        &at(RecordId([9; 32])),
        &decisions,
    );
    for (i, c) in [(0, honest), (2, lie)] {
        let r = reqwest::blocking::Client::new()
            .post(format!("{}/api/v1/checkpoints", net.nodes[i].http))
            .header("content-type", "application/x-protobuf")
            .body(c.encode_to_vec())
            .send()
            .expect("POST");
        assert_eq!(r.status().as_u16(), 200);
    }
    let (code, report) = audit(&[]);
    assert_eq!(code, 1, "{report:#}");
    let problems = report["problems"].as_array().expect("problems");
    let equivocation = problems
        .iter()
        .find(|p| p["kind"] == "equivocation")
        .unwrap_or_else(|| panic!("no equivocation in {report:#}"));
    let named = equivocation["node"].as_str().unwrap_or("");
    assert!(
        named.contains(&kg_peer) && named.contains("KG"),
        "{equivocation:#}"
    );
    assert_eq!(equivocation["evidence"].as_array().map(Vec::len), Some(2));
    assert!(equivocation["evidence"][0]["signed"].is_string());

    // KZ's node, restarted with the old key, says at once that a decision ended it.
    net.stop(0);
    net.start(0);
    let log = net.log(0);
    assert!(
        log.contains("a Steering Committee decision ended this node's publishing key"),
        "{log}"
    );
    net.stop(0);
    net.stop(1);
    net.stop(2);
}

#[test]
fn a_suspended_members_new_records_are_refused_by_every_node() {
    let mut net = Net::new(&["KZ", "KG", "HUB"]);
    net.start_all();
    net.publish(1, &practice("Before the suspension"));
    net.wait_converged(&[0, 1, 2], 1, Duration::from_secs(30));

    // Suspend KG after its current head (seq 1), with committee keys 2 and 3.
    let proposal = net.dir.path().join("suspend.json");
    let (code, out, err) = propose(&net, 0, &proposal, &["suspend", "--code", "KG"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("suspend KG after seq 1"), "{out}");
    for key in ["committee-2", "committee-3"] {
        let (code, out, err) = sign(&proposal, key);
        assert_eq!(code, 0, "{out}{err}");
    }
    let (code, out, err) = submit(&net, 2, &proposal);
    assert_eq!(code, 0, "{out}{err}");
    wait_for_chain(&net, 1);
    for i in 0..3 {
        let kg = governance(&net, i)["members"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["code"] == "KG").cloned())
            .expect("KG");
        assert_eq!(kg["suspended"], true, "node {i}: {kg}");
    }

    // KG's node will not sign for it.
    let r = reqwest::blocking::Client::new()
        .post(format!("{}/api/v1/records", net.nodes[1].http))
        .bearer_auth(&net.nodes[1].token)
        .json(&practice("During the suspension"))
        .send()
        .expect("POST");
    assert_eq!(r.status().as_u16(), 422);

    // A record signed with KG's key elsewhere is refused by every node.
    let charter = sample_charter();
    let kg = hubnet_node::keyfile::read(&sample_key("KG")).expect("key");
    let log: Value =
        serde_json::from_slice(&net.get(0, &format!("/api/v1/logs/{}", kg.public_key())).1)
            .expect("json");
    let head: RecordId = log["head"]["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("head");
    let draft =
        Draft::parse(&practice("Signed elsewhere").to_string(), DraftFormat::Json).expect("draft");
    let late = record::sign(
        &kg,
        charter.network_id(),
        Position {
            seq: 2,
            prev: Some(head),
            prev_created_at: 0,
        },
        hubnet_node::now_ms(),
        &draft.to_body("KG", &charter.rules()).expect("body"),
    );
    for i in 0..3 {
        let (status, answer) = net.post_raw(i, late.encode());
        assert_eq!(status, 422, "node {i}: {answer}");
        assert!(
            answer["detail"]
                .as_str()
                .is_some_and(|d| d.contains("may sign up to seq 1")),
            "node {i}: {answer}"
        );
    }
    for i in 0..3 {
        net.stop(i);
    }
}

#[test]
fn a_node_whose_clock_steps_back_still_signs_checkpoints_in_order() {
    let mut net = Net::new(&["KZ"]);
    net.start_all();
    // A checkpoint of the node's (empty) view, signed with its key an hour ahead of the clock:
    // what the node would hold had its clock stepped back by an hour since it signed one.
    let kz = hubnet_node::keyfile::read(&sample_key("KZ")).expect("key");
    let peer = net.status(0)["peer_id"].as_str().expect("peer").to_owned();
    let ahead = hubnet_node::now_ms() + 3_600_000;
    let signed = checkpoint::sign(
        &kz,
        &sample_charter(),
        &peer,
        ahead,
        &BTreeMap::new(),
        &(0, vec![]),
    );
    let r = reqwest::blocking::Client::new()
        .post(format!("{}/api/v1/checkpoints", net.nodes[0].http))
        .header("content-type", "application/x-protobuf")
        .body(signed.encode_to_vec())
        .send()
        .expect("POST");
    assert_eq!(r.status().as_u16(), 200);
    // The view changes; the node's next checkpoint comes after the one ahead, not before it.
    net.publish(0, &practice("After the clock stepped back"));
    let newest = || {
        let (_, body) = net.get(0, "/api/v1/checkpoints");
        serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null)
    };
    poll_until("a new checkpoint", Duration::from_secs(30), || {
        newest()["checkpoints"][0]["heads"]
            .as_array()
            .is_some_and(|h| h.len() == 1)
    });
    let v = newest();
    assert_eq!(v["checkpoints"][0]["time"], ahead + 1, "{v}");
    assert_eq!(v["conflicts"], Value::Array(vec![]), "{v}");
    assert!(
        net.log(0)
            .contains("the clock is behind this node's newest checkpoint"),
        "{}",
        net.log(0)
    );
    net.stop(0);
}

#[test]
fn the_committee_adds_a_topic_and_every_node_then_takes_records_that_use_it() {
    let mut net = Net::new(&["KZ", "KG", "HUB"]);
    net.start_all();
    let mut open_data = practice("Open data portal");
    open_data["topics"] = serde_json::json!(["open-data"]);

    // Not in the vocabulary yet: refused with the field named.
    let r = reqwest::blocking::Client::new()
        .post(format!("{}/api/v1/records", net.nodes[0].http))
        .bearer_auth(&net.nodes[0].token)
        .json(&open_data)
        .send()
        .expect("POST");
    assert_eq!(r.status().as_u16(), 422);
    let body: Value = r.json().expect("json");
    let detail = body["detail"].as_str().unwrap_or("");
    assert!(
        detail.contains("topics") && detail.contains("\"open-data\" is not a topic"),
        "{body}"
    );

    // The committee edits the whole vocabulary; removing or redefining an entry is refused
    // before any proposal is written.
    let dir = net.dir.path().to_owned();
    let template = hubnet_protocol::vocabulary::TEMPLATE;
    let try_propose = |name: &str, text: &str| {
        let file = dir.join(format!("{name}.toml"));
        std::fs::write(&file, text).expect("write");
        let out = dir.join(format!("{name}.json"));
        let answer = propose(
            &net,
            1,
            &out,
            &["amend-vocabulary", "--vocabulary", path(&file)],
        );
        (answer, out)
    };
    let removed = template.replacen(
        "[[topics]]\nslug = \"recruitment\"",
        "[[topics]]\nslug = \"recruitment-and-selection\"",
        1,
    );
    let ((code, _, err), out) = try_propose("removed", &removed);
    assert_ne!(code, 0);
    assert!(
        err.contains("\"recruitment\" is missing; entries are never removed"),
        "{err}"
    );
    assert!(!out.exists());
    let redefined = template.replacen(
        "unit = \"days\"\nhigher_is_better = false",
        "unit = \"days\"\nhigher_is_better = true",
        1,
    );
    assert_ne!(redefined, template);
    let ((code, _, err), _) = try_propose("redefined", &redefined);
    assert_ne!(code, 0);
    assert!(
        err.contains(
            "\"hub:vacancy-fill-days\" is already in the vocabulary; entries are never redefined"
        ),
        "{err}"
    );

    // Adding a topic is proposed, signed by a quorum and applied by every node.
    let added = format!(
        "{template}\n[[topics]]\nslug = \"open-data\"\n\
         name = {{ en = \"Open data\", ru = \"Открытые данные\", kk = \"Ашық деректер\" }}\n"
    );
    let ((code, out, err), proposal) = try_propose("added", &added);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("add to the vocabulary: topics open-data"),
        "{out}"
    );
    for key in ["committee-1", "committee-3"] {
        let (code, out, err) = sign(&proposal, key);
        assert_eq!(code, 0, "{out}{err}");
    }
    let (code, out, err) = submit(&net, 2, &proposal);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("applied"), "{out}");
    wait_for_chain(&net, 1);
    for i in 0..3 {
        let (status, body) = net.get(i, "/api/v1/vocabulary");
        assert_eq!(status, 200);
        let v: Value = serde_json::from_slice(&body).expect("json");
        let topics = v["topics"].as_array().expect("topics");
        assert_eq!(topics.len(), 17, "node {i}");
        assert_eq!(topics[16]["slug"], "open-data", "node {i}");
        assert_eq!(topics[0]["slug"], "recruitment", "node {i}: order kept");
    }

    // Now the record is taken and reaches every node.
    net.publish(0, &open_data);
    net.wait_converged(&[0, 1, 2], 1, Duration::from_secs(30));
    for i in 0..3 {
        net.stop(i);
    }
}
