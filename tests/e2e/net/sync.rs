//! Gossip and anti-entropy between real nodes: convergence, catch-up, crash mid-sync, partitions,
//! and `hubnet devnet` itself.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Net, practice};
use crate::support::{fill_store, hubnet, path};

#[test]
fn five_nodes_each_publish_and_converge() {
    let mut net = Net::new(&["HUB", "KZ", "KG", "TJ", "UZ"]);
    net.start_all();
    // Every node is connected to someone before anything is published.
    net.wait_until(&[0, 1, 2, 3, 4], Duration::from_secs(30), "peers", |s| {
        s.iter()
            .all(|v| v["peers"].as_array().is_some_and(|p| !p.is_empty()))
    });
    let mut ids = Vec::new();
    for round in 0..3 {
        for i in 0..5 {
            ids.push(net.publish(i, &practice(&format!("Case {round} of node {i}"))));
        }
    }
    net.wait_converged(&[0, 1, 2, 3, 4], 15, Duration::from_secs(60));
    // Each node holds each record with its exact signed bytes.
    for i in 0..5 {
        for id in &ids {
            let (code, body) = net.get(i, &format!("/api/v1/records/{id}"));
            assert_eq!(code, 200, "node {i} lacks {id}");
            let v: Value = serde_json::from_slice(&body).expect("json");
            assert_eq!(v["id"], id.as_str());
        }
    }
    let s = net.status(2);
    assert_eq!(s["heads"].as_array().map(Vec::len), Some(5));
    for i in 0..5 {
        net.stop(i);
    }
}

/// A burst of one author's records over the gossip budget (a bulk import, a stolen key pushing
/// records as fast as its node takes them) is held back from gossip by the node that publishes
/// it, counted, and still reaches every node by sync: the summary the node offers once the
/// burst ends brings the records gossip did not carry.
#[test]
fn a_burst_over_the_gossip_budget_reaches_every_node_by_sync() {
    let mut net = Net::new(&["KZ", "KG", "TJ"]);
    for i in 0..3 {
        net.configure(i, |f| {
            f.gossip_burst = 3;
            f.gossip_per_second = 1;
        });
    }
    net.start_all();
    net.wait_until(&[0, 1, 2], Duration::from_secs(30), "peers", |s| {
        s.iter()
            .all(|v| v["peers"].as_array().is_some_and(|p| p.len() == 2))
    });
    let started = Instant::now();
    for i in 0..40 {
        net.publish(0, &practice(&format!("Bulk case {i}")));
    }
    let took = started.elapsed().as_secs_f64();
    // Within 20 s: before the periodic summary exchange (30 s) could bring the tail instead.
    net.wait_converged(&[0, 1, 2], 40, Duration::from_secs(20));
    // 3 at once, then one a second while the 40 were published: the rest held back.
    let held = net.metric(0, "hubnet_gossip_held_back_total");
    assert!(
        held >= 40.0 - 4.0 - took.ceil(),
        "{held} of 40 records held back; publishing them took {took:.1} s"
    );
}

/// A node that starts after 10,000 records were published catches up completely; killed with
/// SIGKILL in the middle of that sync, it restarts and converges, losing nothing it had stored.
/// Neither node takes the other, busy with the sync, for a silent peer.
#[test]
fn late_node_catches_up_and_survives_sigkill_mid_sync() {
    let mut net = Net::new(&["KZ", "KG"]);
    net.init(0);
    fill_store(&net.data(0), &["KZ", "KG", "HUB", "GE"], 10_000);
    net.start(0);
    assert_eq!(net.status(0)["record_count"], 10_000);

    // First run of the late node: killed once it holds part of the corpus.
    net.start(1);
    let deadline = Instant::now() + Duration::from_secs(120);
    let before = loop {
        let s = net.status(1);
        if s["record_count"].as_u64().is_some_and(|c| c > 0) {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "the late node never started syncing"
        );
        std::thread::sleep(Duration::from_millis(2)); // poll interval of this deadline loop
    };
    net.kill(1);
    let held = before["record_count"].as_u64().unwrap_or(0);
    eprintln!("killed the late node holding {held} of 10000 records");
    assert!(
        held < 10_000,
        "the sync finished before the kill: not a kill mid-sync"
    );
    let heads_before = before["heads"].clone();

    // Second run: it still holds everything it reported, then catches up completely.
    net.start(1);
    let after = net.status(1);
    assert!(
        after["record_count"].as_u64().unwrap_or(0) >= held,
        "the restarted node lost records: {} before the kill, {} after",
        held,
        after["record_count"]
    );
    for h in heads_before.as_array().into_iter().flatten() {
        let (code, _) = net.get(
            1,
            &format!("/api/v1/records/{}", h["id"].as_str().unwrap_or("")),
        );
        assert_eq!(code, 200, "head {h} acknowledged before the kill is gone");
    }
    net.wait_converged(&[0, 1], 10_000, Duration::from_secs(180));
    // Busy is not silent: serving and verifying 10,000 records, neither node stopped answering
    // pings (they are answered on each connection's own task).
    for i in 0..2 {
        assert!(
            !net.log(i).contains("no answer to pings"),
            "node {i} took a busy peer for a silent one:\n{}",
            net.log(i)
        );
    }
    net.stop(1);
    net.stop(0);
}

/// Two nodes stopped, records published on both sides, the two restarted: one state.
#[test]
fn a_partition_heals_to_one_state() {
    let mut net = Net::new(&["HUB", "KZ", "KG"]);
    net.start_all();
    net.publish(0, &practice("Before the partition"));
    net.wait_converged(&[0, 1, 2], 1, Duration::from_secs(60));

    net.stop(1);
    net.stop(2);
    // Side A: the running node publishes.
    for n in 0..3 {
        net.publish(0, &practice(&format!("Side A, case {n}")));
    }
    // Side B: the stopped nodes publish with the CLI on their own data dirs.
    let dir = net.dir.path().to_owned();
    for (i, code) in [(1, "KZ"), (2, "KG")] {
        for n in 0..2 {
            let draft = dir.join(format!("{code}-{n}.json"));
            std::fs::write(
                &draft,
                practice(&format!("Side B, {code} case {n}")).to_string(),
            )
            .expect("draft");
            crate::support::ok(&[
                "publish",
                "--data-dir",
                path(&net.data(i)),
                "--key",
                path(&net.nodes[i].dir.join("publishing.key")),
                path(&draft),
            ]);
        }
    }
    net.start(1);
    net.start(2);
    net.wait_converged(&[0, 1, 2], 8, Duration::from_secs(60));
    for i in 0..3 {
        net.stop(i);
    }
}

/// The sample programmes of a five-node devnet stand as `deploy/sample/programmes.toml` plans,
/// on the lead's node and on another; TJ then confirms the ethics network on its own node, and
/// every node comes to show it confirmed. `printed` are devnet's lines, which name each
/// programme confirmed (`  KZ: confirmed programme <id> (<draft>)`).
fn devnet_programmes(client: &reqwest::blocking::Client, nodes: &[Value], printed: &[String]) {
    let id_of = |draft: &str| -> String {
        printed
            .iter()
            .find_map(|l| {
                let (id, rest) = l.split_once(": confirmed programme ")?.1.split_once(' ')?;
                (rest == format!("({draft})")).then(|| id.to_owned())
            })
            .unwrap_or_else(|| panic!("devnet did not confirm {draft}:\n{}", printed.join("\n")))
    };
    let node = |code: &str| -> &Value {
        nodes
            .iter()
            .find(|n| n["member"] == code)
            .expect("a node of the member")
    };
    let programme = |n: &Value, id: &str| -> Value {
        let url = format!(
            "{}/api/v1/programmes/{id}",
            n["http"].as_str().unwrap_or("")
        );
        client
            .get(url)
            .send()
            .ok()
            .and_then(|r| r.json().ok())
            .unwrap_or(Value::Null)
    };
    let standing = |p: &Value, member: &str| -> Value {
        p["participants"]
            .as_array()
            .and_then(|ps| ps.iter().find(|x| x["member"] == member))
            .map_or(Value::Null, |x| x["standing"].clone())
    };
    let recruitment = id_of("HUB/50-programme-e-recruitment.toml");
    let ethics = id_of("KZ/50-programme-ethics-network.toml");
    let curriculum = id_of("KG/50-programme-academies-curriculum.toml");
    let centres = id_of("UZ/50-programme-service-centres.toml");
    // (programme, the lead and another node, state, each member's standing)
    let expected = [
        (
            &recruitment,
            ["HUB", "KG"],
            "confirmed",
            &[("HUB", "lead"), ("KZ", "confirmed"), ("KG", "confirmed")][..],
        ),
        (
            &ethics,
            ["KZ", "TJ"],
            "proposed",
            &[("KZ", "lead"), ("UZ", "confirmed"), ("TJ", "awaiting")],
        ),
        (
            &curriculum,
            ["KG", "UZ"],
            "proposed",
            &[("KG", "lead"), ("TJ", "confirmed"), ("UZ", "withdrawn")],
        ),
        (
            &centres,
            ["UZ", "HUB"],
            "confirmed",
            &[("UZ", "lead"), ("KZ", "confirmed")],
        ),
    ];
    for (id, on, state, standings) in expected {
        for code in on {
            let p = programme(node(code), id);
            assert_eq!(p["state"], state, "{id} on {code}: {p}");
            assert_eq!(p["lead"], standings[0].0, "{id} on {code}");
            for (member, s) in standings {
                assert_eq!(standing(&p, member), *s, "{id} on {code}: {member}");
            }
        }
    }
    // TJ confirms the ethics network on its own node, with its admin token.
    let tj = node("TJ");
    let answer = client
        .post(format!(
            "{}/api/v1/records",
            tj["http"].as_str().unwrap_or("")
        ))
        .bearer_auth(tj["admin_token"].as_str().unwrap_or(""))
        .json(&serde_json::json!({"kind": "confirmation", "programme": ethics}))
        .send()
        .expect("POST the confirmation");
    assert!(answer.status().is_success(), "{:?}", answer.text());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let shown: Vec<Value> = nodes.iter().map(|n| programme(n, &ethics)).collect();
        if shown
            .iter()
            .all(|p| p["state"] == "confirmed" && standing(p, "TJ") == "confirmed")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not every node shows the ethics network confirmed: {:?}",
            shown.iter().map(|p| &p["state"]).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(200)); // poll interval of this deadline loop
    }
}

#[test]
fn devnet_starts_members_publishes_sample_data_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut devnet = hubnet()
        .args(["devnet", "--nodes", "5", "--dir", path(dir.path())])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("devnet starts");
    // devnet prints its table once the sample data is published and the nodes converged.
    let stdout = devnet.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut printed = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains("Ctrl-C stops every node") => break,
            Ok(line) => printed.push(line),
            Err(_) => panic!("devnet did not get ready:\n{}", printed.join("\n")),
        }
    }
    assert!(
        printed.iter().any(|l| l.contains("converged")),
        "devnet did not report convergence:\n{}",
        printed.join("\n")
    );
    let json = dir.path().join("devnet.json");
    let file: Value =
        serde_json::from_slice(&std::fs::read(&json).expect("read")).expect("devnet.json");
    let nodes = file["nodes"].as_array().expect("nodes").clone();
    assert_eq!(nodes.len(), 5);
    assert_eq!(
        file["network_id"],
        "23d8091ffc106436219d06b2ac3dd7566d5c70ad28263d90fbcb8fc3691cda09"
    );
    let members: Vec<&str> = nodes.iter().filter_map(|n| n["member"].as_str()).collect();
    assert_eq!(members, ["HUB", "KZ", "KG", "TJ", "UZ"]);
    for n in &nodes {
        for field in ["http", "p2p", "data_dir", "admin_token", "config", "pid"] {
            assert!(!n[field].is_null(), "devnet.json node lacks {field}: {n}");
        }
        assert!(n["p2p"].as_str().is_some_and(|p| p.contains("/p2p/")));
    }
    // The sample drafts of the five members, KZ's amendment and HUB's retraction, and every step
    // of the sample programmes' plan (all their members have nodes).
    let sample = crate::support::sample().join("drafts");
    let drafts: u64 = members
        .iter()
        .map(|c| std::fs::read_dir(sample.join(c)).expect("drafts").count() as u64)
        .sum();
    let plan = std::fs::read_to_string(crate::support::sample().join("programmes.toml"))
        .expect("programmes.toml");
    let steps = hubnet_node::sample::ProgrammePlan::parse(&plan)
        .expect("the sample plan")
        .steps()
        .len() as u64;
    let client = reqwest::blocking::Client::new();
    let status = |n: &Value| -> Value {
        client
            .get(format!(
                "{}/api/v1/status",
                n["http"].as_str().unwrap_or("")
            ))
            .send()
            .ok()
            .and_then(|r| r.json().ok())
            .unwrap_or(Value::Null)
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let s: Vec<Value> = nodes.iter().map(status).collect();
        if s.iter().all(|v| v["record_count"] == drafts + 2 + steps)
            && s.windows(2)
                .all(|w| w[0]["heads_digest"] == w[1]["heads_digest"])
        {
            break;
        }
        assert!(Instant::now() < deadline, "devnet did not converge: {s:?}");
        std::thread::sleep(Duration::from_millis(200)); // poll interval of this deadline loop
    }
    devnet_programmes(&client, &nodes, &printed);
    // The sample network audits clean: `hubnet audit` judges each node's bundle as `hubnet
    // verify` judges a bundle or a backup, by the rules the nodes applied when they stored it
    // (UZ's withdrawal, a retraction of its confirmation, included).
    let urls: Vec<&str> = nodes.iter().filter_map(|n| n["http"].as_str()).collect();
    let mut args = vec!["audit", "--grace", "0"];
    for url in &urls {
        args.extend(["--node", url]);
    }
    crate::support::ok(&args);
    let pids: Vec<i32> = nodes
        .iter()
        .filter_map(|n| n["pid"].as_i64())
        .map(|p| p as i32)
        .collect();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(devnet.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("SIGTERM");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = devnet.try_wait().expect("try_wait") {
            break s;
        }
        assert!(Instant::now() < deadline, "devnet did not stop");
        std::thread::sleep(Duration::from_millis(50)); // poll interval of this deadline loop
    };
    assert!(status.success(), "devnet exited with {status}");
    for pid in pids {
        // Signal 0 checks existence; the node processes were reaped by devnet.
        assert!(
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_err(),
            "node {pid} still runs after devnet stopped"
        );
    }
}
