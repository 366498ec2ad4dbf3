//! Bad actors: a test peer that injects invalid records over gossipsub, and a member that signs
//! two records with one seq.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt;
use hubnet_node::net::Names;
use hubnet_protocol::{Charter, Draft, DraftFormat, NetworkId, Position, RecordId, SecretKey};
use libp2p::gossipsub::{self, MessageAuthenticity};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId};
use serde_json::Value;

use super::{Net, practice};
use crate::support::{sample, sample_charter};

fn body(charter: &Charter, title: &str) -> hubnet_protocol::Body {
    Draft::parse(&practice(title).to_string(), DraftFormat::Json)
        .expect("draft")
        .to_body("KZ", &charter.rules())
        .expect("body")
}

/// Signs a practice as `key` for `network` at `position`.
fn signed(
    key: &SecretKey,
    network: NetworkId,
    position: Position,
    charter: &Charter,
    title: &str,
) -> Vec<u8> {
    hubnet_protocol::record::sign(
        key,
        network,
        position,
        hubnet_node::now_ms(),
        &body(charter, title),
    )
    .encode()
}

/// A libp2p peer that speaks only gossipsub on the network's topic, publishes `payloads` once the
/// node at `target` has subscribed, and stays connected until `stop` is set.
fn inject(
    target: Multiaddr,
    names: Names,
    payloads: Vec<Vec<u8>>,
    stop: Arc<AtomicBool>,
) -> (PeerId, std::thread::JoinHandle<usize>) {
    let key = libp2p::identity::Keypair::generate_ed25519();
    let peer_id = key.public().to_peer_id();
    let handle = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let config = gossipsub::ConfigBuilder::default()
                .protocol_id_prefix(names.gossipsub.clone())
                .build()
                .expect("config");
            let mut g: gossipsub::Behaviour =
                gossipsub::Behaviour::new(MessageAuthenticity::Signed(key.clone()), config)
                    .expect("gossipsub");
            g.subscribe(&names.records).expect("subscribe");
            let mut swarm = libp2p::SwarmBuilder::with_existing_identity(key)
                .with_tokio()
                .with_tcp(
                    libp2p::tcp::Config::default(),
                    libp2p::noise::Config::new,
                    libp2p::yamux::Config::default,
                )
                .expect("tcp")
                .with_behaviour(|_| g)
                .expect("behaviour")
                .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
                .build();
            swarm.dial(target).expect("dial");
            let mut published = 0;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
            while !stop.load(Ordering::SeqCst) && tokio::time::Instant::now() < deadline {
                let event =
                    tokio::time::timeout(Duration::from_millis(100), swarm.select_next_some())
                        .await;
                if let Ok(SwarmEvent::Behaviour(gossipsub::Event::Subscribed { topic, .. })) = event
                    && topic == names.records.hash()
                    && published == 0
                {
                    for p in &payloads {
                        if swarm
                            .behaviour_mut()
                            .publish(names.records.clone(), p.clone())
                            .is_ok()
                        {
                            published += 1;
                        }
                    }
                }
            }
            published
        })
    });
    (peer_id, handle)
}

#[test]
fn injected_bad_records_are_rejected_not_stored_not_forwarded_and_cost_score() {
    let mut net = Net::new(&["HUB", "KZ"]);
    net.start_all();
    net.wait_until(&[0, 1], Duration::from_secs(30), "peers", |s| {
        s.iter()
            .all(|v| v["peers"].as_array().is_some_and(|p| !p.is_empty()))
    });
    let charter = sample_charter();
    let kz = hubnet_node::keyfile::read(&sample().join("keys/KZ.key")).expect("key");
    let outsider = SecretKey::from_seed([0x5a; 32]);
    let network = charter.network_id();
    let other_network: NetworkId = "00".repeat(32).parse().expect("id");
    let mut forged = hubnet_protocol::record::sign(
        &kz,
        network,
        Position::FIRST,
        hubnet_node::now_ms(),
        &body(&charter, "Forged"),
    );
    forged.signature[7] ^= 0x40;
    let bad = vec![
        signed(&outsider, network, Position::FIRST, &charter, "Outsider"),
        forged.encode(),
        signed(
            &kz,
            other_network,
            Position::FIRST,
            &charter,
            "Other network",
        ),
    ];
    let ids: Vec<RecordId> = bad
        .iter()
        .map(|b| {
            hubnet_protocol::SignedRecord::decode(b)
                .expect("decodes")
                .id()
        })
        .collect();

    // One injecting peer per bad record: a single invalid message costs a peer enough score to be
    // graylisted, after which its further messages are dropped before validation.
    let stop = Arc::new(AtomicBool::new(false));
    let names = Names::new(&network.to_hex()).expect("names");
    let target: Multiaddr = net.nodes[0].p2p.parse().expect("addr");
    let injectors: Vec<(String, std::thread::JoinHandle<usize>)> = bad
        .into_iter()
        .map(|record| {
            let (peer, handle) = inject(target.clone(), names.clone(), vec![record], stop.clone());
            (peer.to_string(), handle)
        })
        .collect();
    let peers: Vec<String> = injectors.iter().map(|(p, _)| p.clone()).collect();
    net.wait_until(
        &[0],
        Duration::from_secs(60),
        "each injecting peer's score drops",
        |s| {
            peers.iter().all(|peer| {
                s[0]["peers"].as_array().into_iter().flatten().any(|p| {
                    p["peer_id"] == peer.as_str() && p["score"].as_f64().is_some_and(|x| x < 0.0)
                })
            })
        },
    );
    stop.store(true, Ordering::SeqCst);
    for (_, handle) in injectors {
        assert_eq!(
            handle.join().expect("injector"),
            1,
            "an injector did not publish"
        );
    }
    let log = net.log(0);
    assert!(
        log.matches("rejected an invalid gossip record").count() >= 3,
        "node 0 did not reject all three:\n{log}"
    );
    for i in 0..2 {
        for id in &ids {
            let (code, _) = net.get(i, &format!("/api/v1/records/{id}"));
            assert_eq!(code, 404, "node {i} holds injected record {id}");
        }
        assert_eq!(net.status(i)["record_count"], 0);
    }
    // Not forwarded: the second node never saw them, so it never rejected anything.
    assert!(!net.log(1).contains("rejected an invalid gossip record"));
    net.stop(0);
    net.stop(1);
}

#[test]
fn a_fork_is_kept_as_evidence_everywhere_and_flags_the_author() {
    let mut net = Net::new(&["HUB", "KZ", "KG"]);
    net.start_all();
    let first = net.publish(1, &practice("KZ's first record"));
    net.wait_converged(&[0, 1, 2], 1, Duration::from_secs(60));
    let (_, json) = net.get(1, &format!("/api/v1/records/{first}"));
    let first_json: Value = serde_json::from_slice(&json).expect("json");
    let charter = sample_charter();
    let kz = hubnet_node::keyfile::read(&sample().join("keys/KZ.key")).expect("key");
    let position = Position {
        seq: 2,
        prev: Some(first.parse().expect("id")),
        prev_created_at: first_json["created_at_ms"].as_i64().expect("time"),
    };
    let a = signed(&kz, charter.network_id(), position, &charter, "Version A");
    let b = signed(&kz, charter.network_id(), position, &charter, "Version B");
    let ids: Vec<String> = [&a, &b]
        .iter()
        .map(|x| {
            hubnet_protocol::SignedRecord::decode(x)
                .expect("decodes")
                .id()
                .to_hex()
        })
        .collect();
    let (code_a, _) = net.post_raw(0, a);
    let (code_b, _) = net.post_raw(2, b);
    // Each is accepted where it lands first (201), or kept as evidence if the other won (409).
    assert!([201, 409].contains(&code_a) && [201, 409].contains(&code_b));
    net.wait_until(
        &[0, 1, 2],
        Duration::from_secs(60),
        "fork evidence everywhere",
        |s| {
            s.iter().all(|v| {
                v["flagged"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|m| m == "KZ"))
                    && v["forks"].as_array().is_some_and(|f| {
                        f.iter().any(|x| {
                            x["seq"] == 2 && x["ids"].as_array().is_some_and(|i| i.len() == 2)
                        })
                    })
            })
        },
    );
    for i in 0..3 {
        for id in &ids {
            let (code, _) = net.get(i, &format!("/api/v1/records/{id}"));
            assert_eq!(code, 200, "node {i} lacks fork record {id}");
        }
    }
    for i in 0..3 {
        net.stop(i);
    }
}

/// A node outside the charter connects and reads everything; nothing it sends for publication is
/// accepted, and the members never receive anything from it.
#[test]
fn a_mirror_reads_everything_and_publishes_nothing() {
    let mut net = Net::new(&["HUB", "KZ", "mirror"]);
    net.start_all();
    for i in 0..2 {
        net.publish(i, &practice(&format!("Member case {i}")));
    }
    net.wait_converged(&[0, 1, 2], 2, Duration::from_secs(60));
    let mirror = net.status(2);
    assert!(mirror["member"].is_null());

    // Its own API refuses to publish (it has no key) ...
    let r = reqwest::blocking::Client::new()
        .post(format!("{}/api/v1/records", net.nodes[2].http))
        .bearer_auth(&net.nodes[2].token)
        .json(&practice("From the mirror"))
        .send()
        .expect("POST");
    assert_eq!(r.status().as_u16(), 403);
    // ... and a record signed by a key outside the charter is refused with the reason.
    let charter = sample_charter();
    let outsider = SecretKey::from_seed([0x33; 32]);
    let bytes = signed(
        &outsider,
        charter.network_id(),
        Position::FIRST,
        &charter,
        "Outsider",
    );
    let (code, problem) = net.post_raw(2, bytes);
    assert_eq!(code, 422, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("not a member"))
    );
    for i in 0..3 {
        assert_eq!(net.status(i)["record_count"], 2);
    }
    for i in 0..3 {
        net.stop(i);
    }
}

/// A node of another network (same member key, other charter) that dials in is told apart by
/// its protocol names and disconnected; no record crosses.
#[test]
fn two_networks_never_mix() {
    let mut net = Net::new(&["KZ", "HUB"]);
    // Node 1 runs another network: a charter with the same KZ key, signed by one committee key.
    let other = net.dir.path().join("other.toml");
    let keys = sample().join("keys");
    let p = |x: &std::path::Path| x.to_str().expect("utf-8").to_owned();
    for args in [
        vec![
            "charter",
            "new",
            "--out",
            &p(&other),
            "--quorum",
            "1",
            "--name",
            "en=Another hub",
        ],
        vec![
            "charter",
            "add-member",
            &p(&other),
            "--code",
            "KZ",
            "--key-file",
            &p(&keys.join("KZ.key")),
            "--name",
            "en=Kazakhstan",
        ],
        vec![
            "charter",
            "add-committee",
            &p(&other),
            "--key-file",
            &p(&keys.join("committee-1.key")),
        ],
        vec![
            "charter",
            "sign",
            &p(&other),
            "--key",
            &p(&keys.join("committee-1.key")),
        ],
    ] {
        crate::support::ok(&args);
    }
    let config = std::fs::read_to_string(&net.nodes[1].config).expect("config");
    let sample_charter = sample().join("charter.toml");
    let changed = config.replace(sample_charter.to_str().expect("utf-8"), &p(&other));
    assert_ne!(changed, config);
    let changed = changed.replace("publishing_key", "# publishing_key");
    std::fs::write(&net.nodes[1].config, changed).expect("config");

    net.start_all();
    net.publish(0, &practice("Only in the sample network"));
    net.wait_until(
        &[0],
        Duration::from_secs(30),
        "the other network is refused",
        |_| {
            net.log(0)
                .contains("peer of another network; disconnecting")
                || net
                    .log(1)
                    .contains("peer of another network; disconnecting")
        },
    );
    let (a, b) = (net.status(0), net.status(1));
    assert_ne!(a["network_id"], b["network_id"]);
    assert_eq!(b["record_count"], 0, "a record crossed networks");
    assert_eq!(a["record_count"], 1);
    net.stop(0);
    net.stop(1);
}
