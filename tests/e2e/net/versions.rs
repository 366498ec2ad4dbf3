//! Two nodes of different message versions (docs/PROTOCOL.md §6.5): UZ plays a newer release
//! whose checkpoints carry version 3 (`HUBNET_TEST_CHECKPOINT_VERSION`, signed under the tag
//! `hubnet-checkpoint-v3`, bytes this release cannot verify), KZ is this release. Both keep
//! syncing the records both understand, neither scores the other down nor drops it, and KZ says
//! once that it set UZ's checkpoints aside.

use std::time::{Duration, Instant};

use base64::Engine;
use prost::Message;
use serde_json::Value;

use super::{Net, practice};

/// KZ's view of its peer UZ: the peer's entry in `GET /api/v1/peers`, if listed.
fn peer_entry(net: &Net, i: usize, peer: &str) -> Option<Value> {
    let (code, body) = net.get(i, "/api/v1/peers");
    assert_eq!(code, 200);
    let peers: Value = serde_json::from_slice(&body).expect("json");
    peers
        .as_array()?
        .iter()
        .find(|p| p["peer_id"] == peer)
        .cloned()
}

/// The checkpoints node `i` holds: (member, version) of each.
fn checkpoints(net: &Net, i: usize) -> Vec<(String, u32)> {
    let (code, body) = net.get(i, "/api/v1/checkpoints");
    assert_eq!(code, 200);
    let v: Value = serde_json::from_slice(&body).expect("json");
    v["checkpoints"]
        .as_array()
        .expect("checkpoints")
        .iter()
        .map(|c| {
            let signed = base64::engine::general_purpose::STANDARD
                .decode(c["signed"].as_str().expect("signed"))
                .expect("base64");
            let signed = hubnet_proto::v1::SignedCheckpoint::decode(signed.as_slice())
                .expect("a SignedCheckpoint");
            (
                c["member"].as_str().expect("member").to_owned(),
                signed.version,
            )
        })
        .collect()
}

/// The time of the newest checkpoint node `i` holds by `member` (0 if none).
fn newest_time(net: &Net, i: usize, member: &str) -> i64 {
    let (code, body) = net.get(i, "/api/v1/checkpoints");
    assert_eq!(code, 200);
    let v: Value = serde_json::from_slice(&body).expect("json");
    v["checkpoints"]
        .as_array()
        .expect("checkpoints")
        .iter()
        .filter(|c| c["member"] == member)
        .filter_map(|c| c["time"].as_i64())
        .max()
        .unwrap_or(0)
}

/// Lines of node `i`'s log that contain `text`.
fn lines(net: &Net, i: usize, text: &str) -> usize {
    net.log(i).lines().filter(|l| l.contains(text)).count()
}

#[test]
fn nodes_of_two_checkpoint_versions_keep_their_scores_and_keep_syncing() {
    const KZ: usize = 0;
    const UZ: usize = 1;
    let mut net = Net::new(&["KZ", "UZ"]);
    // The older node logs its worker at debug, to count every checkpoint it set aside.
    net.start_with(KZ, |c| {
        c.env("RUST_LOG", "info,hubnet_node::worker=debug");
    });
    net.start_with(UZ, |c| {
        c.env(hubnet_node::compat::TEST_CHECKPOINT_VERSION, "3");
    });
    let (kz_peer, uz_peer) = (net.peer_id(KZ).to_owned(), net.peer_id(UZ).to_owned());
    crate::support::poll_until("each node lists the other", Duration::from_secs(30), || {
        peer_entry(&net, KZ, &uz_peer).is_some() && peer_entry(&net, UZ, &kz_peer).is_some()
    });
    let connected_at = |net: &Net, i: usize, peer: &str| {
        peer_entry(net, i, peer).map(|p| p["connected_at_ms"].clone())
    };
    let (kz_since, uz_since) = (
        connected_at(&net, KZ, &uz_peer).expect("listed"),
        connected_at(&net, UZ, &kz_peer).expect("listed"),
    );
    // Every poll: each lists the other on the connection it first had (never dropped, never
    // redialled), and neither scores the other below 0 (an invalid message costs 100 at once).
    let mut scores_seen = 0;
    let mut check = |net: &Net| {
        for (i, peer, since) in [(KZ, &uz_peer, &kz_since), (UZ, &kz_peer, &uz_since)] {
            let p = peer_entry(net, i, peer)
                .unwrap_or_else(|| panic!("node {i} no longer lists its peer\n{}", net.log(i)));
            assert_eq!(&p["connected_at_ms"], since, "node {i} reconnected: {p}");
            if let Some(score) = p["score"].as_f64() {
                assert!(
                    score >= 0.0,
                    "node {i} scores its peer {score}\n{}",
                    net.log(i)
                );
                scores_seen += 1;
            }
        }
    };

    // (a) Records published on either node reach the other, one round after another. Each
    // round changes both views, so both sign a checkpoint at the next interval (1 s): KZ at
    // version 2, UZ at version 3, which reaches KZ and is set aside: the first logged at info,
    // the others at debug.
    let first = "more from this peer are logged at debug";
    let later = "set aside a message of a newer version";
    let set_aside = |net: &Net| lines(net, KZ, first) + lines(net, KZ, later);
    let rounds = 6;
    for round in 0..rounds {
        let (signed_before, set_aside_before) = (newest_time(&net, UZ, "UZ"), set_aside(&net));
        let on = if round % 2 == 0 { KZ } else { UZ };
        net.publish(
            on,
            &practice(&format!("Round {round} of the mixed network")),
        );
        net.wait_converged(&[KZ, UZ], round + 1, Duration::from_secs(30));
        check(&net);
        let deadline = Instant::now() + Duration::from_secs(30);
        while newest_time(&net, UZ, "UZ") <= signed_before || set_aside(&net) <= set_aside_before {
            check(&net);
            assert!(
                Instant::now() < deadline,
                "round {round}: UZ signed no new checkpoint, or KZ did not set it aside, \
                 within 30 s\n{}",
                net.log(KZ)
            );
            std::thread::sleep(Duration::from_millis(100)); // poll interval of this deadline loop
        }
    }
    // Six new checkpoints of UZ's, at most one per interval: the rounds spanned at least five
    // checkpoint intervals.
    check(&net);
    assert!(
        lines(&net, KZ, later) >= rounds as usize - 1,
        "{}",
        net.log(KZ)
    );
    // (c) Said once for the peer, at info, naming it and the version: not a line per message.
    let said: Vec<String> = net
        .log(KZ)
        .lines()
        .filter(|l| l.contains(first))
        .map(str::to_owned)
        .collect();
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].contains("INFO"), "{}", said[0]);
    assert!(said[0].contains(&uz_peer), "{}", said[0]);
    assert!(said[0].contains("checkpoint version 3"), "{}", said[0]);
    assert_eq!(lines(&net, KZ, "rejected"), 0, "{}", net.log(KZ));
    assert_eq!(lines(&net, UZ, "rejected"), 0, "{}", net.log(UZ));
    // (b) The scores were read, not only absent (gossipsub scores a peer once it is in a mesh).
    assert!(scores_seen > 0, "no peer score was ever reported");

    // What each holds: UZ, the newer release, understands KZ's version 2 and keeps it; KZ keeps
    // its own and none of UZ's.
    let kz_holds = checkpoints(&net, KZ);
    assert_eq!(
        kz_holds,
        vec![("KZ".to_owned(), 2)],
        "KZ holds {kz_holds:?}"
    );
    let mut uz_holds = checkpoints(&net, UZ);
    uz_holds.sort();
    assert_eq!(
        uz_holds,
        vec![("KZ".to_owned(), 2), ("UZ".to_owned(), 3)],
        "UZ holds {uz_holds:?}"
    );
    net.stop(KZ);
    net.stop(UZ);
}
