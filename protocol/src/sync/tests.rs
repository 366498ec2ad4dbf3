//! The sync state machine without sockets: one `check`-style driver per area, and a simulated
//! network of nodes with virtual time and message loss.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::charter::tests::sample;

fn key(n: u8) -> PublicKey {
    crate::SecretKey::from_seed([n; 32]).public_key()
}

fn id(author: u8, seq: u64, branch: u8) -> RecordId {
    let mut b = vec![author, branch];
    b.extend_from_slice(&seq.to_be_bytes());
    RecordId(sha256(&b))
}

fn summary(heads: &[(u8, u64)]) -> Summary {
    Summary {
        heads: heads
            .iter()
            .map(|&(a, s)| {
                (
                    key(a),
                    HeadRef {
                        seq: s,
                        id: id(a, s, 0),
                    },
                )
            })
            .collect(),
        forks: BTreeSet::new(),
        decisions: (0, Vec::new()),
    }
}

/// A summary whose only head is key 1's at `seq`, on another branch than [`summary`]'s logs
/// (its records are `id(1, _, 9)`).
fn other_branch(seq: u64) -> Summary {
    Summary {
        heads: [(
            key(1),
            HeadRef {
                seq,
                id: id(1, seq, 9),
            },
        )]
        .into(),
        ..Summary::default()
    }
}

fn drain(s: &mut Sync<u32>) -> Vec<Action<u32>> {
    std::iter::from_fn(|| s.poll_action()).collect()
}

fn no_lookup(_: &PublicKey, _: u64) -> Option<RecordId> {
    None
}

/// The local store's lookup when it holds key 1's log on branch 0 (as [`summary`] makes it).
fn key1_on_branch_0(a: &PublicKey, seq: u64) -> Option<RecordId> {
    (*a == key(1)).then(|| id(1, seq, 0))
}

const BUDGET: u32 = 4 * 1024 * 1024;

fn range(peer: u32, author: u8, from_seq: u64) -> Action<u32> {
    Action::RequestRange {
        peer,
        author: key(author),
        from_seq,
        byte_budget: BUDGET,
    }
}

#[test]
fn summary_round_trips_and_digests() {
    let (doc, keys, _) = sample(3);
    let charter = doc.verify().expect("charter");
    let mut s = Summary::default();
    for (i, k) in keys.iter().enumerate() {
        s.heads.insert(
            k.public_key(),
            HeadRef {
                seq: i as u64 + 1,
                id: id(i as u8, 1, 0),
            },
        );
    }
    s.forks.insert((keys[0].public_key(), 1));
    let back = Summary::from_proto(&s.to_proto(), &charter).expect("valid");
    assert_eq!(back, s);
    assert_eq!(back.digest(), s.digest());
    let mut other = s.clone();
    other.forks.clear();
    assert_eq!(other.digest(), s.digest(), "forks are not in the digest");
    other.heads.insert(
        keys[0].public_key(),
        HeadRef {
            seq: 9,
            id: id(0, 9, 0),
        },
    );
    assert_ne!(other.digest(), s.digest());
    assert_eq!(
        hex::encode(Summary::default().digest()),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "the empty digest is SHA-256 of nothing"
    );
}

#[test]
fn lag_counts_records_on_each_side() {
    let mine = summary(&[(1, 10), (2, 5)]);
    let theirs = summary(&[(1, 7), (3, 4)]);
    assert_eq!(mine.lag(&theirs), (3 + 5, 4));
    assert_eq!(theirs.lag(&mine), (4, 3 + 5));
    assert_eq!(mine.lag(&mine), (0, 0));
}

#[test]
fn each_unusable_summary_is_refused() {
    let (doc, keys, _) = sample(2);
    let charter = doc.verify().expect("charter");
    let good = pb::HeadEntry {
        author: keys[0].public_key().as_bytes().to_vec(),
        seq: 1,
        id: vec![1; 32],
    };
    let cases: Vec<(pb::Heads, SyncError)> = vec![
        (
            pb::Heads {
                heads: vec![pb::HeadEntry {
                    author: vec![1; 31],
                    ..good.clone()
                }],
                forks: vec![],
                ..Default::default()
            },
            SyncError::BadAuthor { index: 0, len: 31 },
        ),
        (
            pb::Heads {
                heads: vec![pb::HeadEntry {
                    id: vec![1; 3],
                    ..good.clone()
                }],
                forks: vec![],
                ..Default::default()
            },
            SyncError::BadId { index: 0, len: 3 },
        ),
        (
            pb::Heads {
                heads: vec![good.clone(), good.clone()],
                forks: vec![],
                ..Default::default()
            },
            SyncError::DuplicateAuthor {
                index: 1,
                author: keys[0].public_key().to_hex(),
            },
        ),
        (
            pb::Heads {
                heads: vec![pb::HeadEntry {
                    seq: 0,
                    ..good.clone()
                }],
                forks: vec![],
                ..Default::default()
            },
            SyncError::ZeroSeq { index: 0 },
        ),
        (
            pb::Heads {
                heads: vec![],
                forks: vec![
                    pb::ForkRef {
                        author: good.author.clone(),
                        seq: 1,
                    };
                    MAX_FORK_REFS + 1
                ],
                ..Default::default()
            },
            SyncError::TooManyForks(MAX_FORK_REFS + 1),
        ),
        (
            pb::Heads {
                heads: vec![good.clone()],
                forks: vec![pb::ForkRef {
                    author: vec![2; 33],
                    seq: 1,
                }],
                ..Default::default()
            },
            SyncError::BadAuthor { index: 0, len: 33 },
        ),
        (
            pb::Heads {
                heads: vec![good.clone()],
                forks: vec![
                    pb::ForkRef {
                        author: good.author.clone(),
                        seq: 1,
                    },
                    pb::ForkRef {
                        author: good.author.clone(),
                        seq: 0,
                    },
                ],
                ..Default::default()
            },
            SyncError::ZeroSeq { index: 1 },
        ),
    ];
    for (heads, expected) in cases {
        assert_eq!(Summary::from_proto(&heads, &charter), Err(expected));
    }
}

#[test]
fn unknown_authors_are_left_out_of_a_summary() {
    // A peer may hold a decision that admitted an author this side does not know yet: the entry
    // is skipped (this side fetches the decisions first), the rest of the summary is used.
    let (doc, keys, _) = sample(2);
    let charter = doc.verify().expect("charter");
    let good = pb::HeadEntry {
        author: keys[0].public_key().as_bytes().to_vec(),
        seq: 3,
        id: vec![1; 32],
    };
    let stranger = pb::HeadEntry {
        author: key(200).as_bytes().to_vec(),
        ..good.clone()
    };
    let heads = pb::Heads {
        heads: vec![stranger.clone(), good.clone()],
        forks: vec![
            pb::ForkRef {
                author: good.author.clone(),
                seq: 1,
            },
            pb::ForkRef {
                author: stranger.author.clone(),
                seq: 1,
            },
        ],
        ..Default::default()
    };
    let s = Summary::from_proto(&heads, &charter).expect("usable");
    assert_eq!(
        s.heads,
        BTreeMap::from([(
            keys[0].public_key(),
            HeadRef {
                seq: 3,
                id: RecordId([1; 32]),
            },
        )])
    );
    assert_eq!(s.forks, BTreeSet::from([(keys[0].public_key(), 1)]));
    // An unknown author still counts once: listing it twice is refused.
    let twice = pb::Heads {
        heads: vec![stranger.clone(), stranger],
        ..Default::default()
    };
    assert_eq!(
        Summary::from_proto(&twice, &charter),
        Err(SyncError::DuplicateAuthor {
            index: 1,
            author: key(200).to_hex(),
        })
    );
}

#[test]
fn a_connection_starts_with_a_summary_exchange_and_repeats_it() {
    let mut s = Sync::new(SyncConfig::default(), Summary::default(), 0);
    s.handle_connected(7u32, 0);
    s.handle_connected(7u32, 1);
    assert_eq!(drain(&mut s), vec![Action::SendSummary { peer: 7 }]);
    assert_eq!(s.poll_timeout(), Some(30_001));
    s.handle_timeout(30_001);
    assert_eq!(drain(&mut s), vec![Action::SendSummary { peer: 7 }]);
}

#[test]
fn behind_asks_one_range_per_author_and_continues_after_progress() {
    let mut s = Sync::new(SyncConfig::default(), summary(&[(1, 3)]), 0);
    s.handle_connected(1u32, 0);
    s.handle_connected(2u32, 0);
    drain(&mut s);
    s.handle_summary(1, summary(&[(1, 10), (2, 4)]), 0, &no_lookup);
    s.handle_summary(2, summary(&[(1, 12)]), 0, &no_lookup);
    // Both from peer 1, whose summary came first; one request per author in flight.
    let mut actions = drain(&mut s);
    actions.sort_by_key(|a| format!("{a:?}"));
    let mut want = vec![range(1, 1, 4), range(1, 2, 1)];
    want.sort_by_key(|a| format!("{a:?}"));
    assert_eq!(actions, want);
    // Progress, then done: the next range goes to the peer that holds the most.
    s.handle_local_head(
        key(1),
        HeadRef {
            seq: 10,
            id: id(1, 10, 0),
        },
        1,
    );
    // Progress: the rest is asked of the peer that holds more.
    s.handle_range_done(&1, &key(1), RangeOutcome::Stored, 1);
    assert_eq!(drain(&mut s), vec![range(2, 1, 11)]);
}

/// Records fetched by a range are news to this node's other peers too (some may not be
/// connected to where they came from, and no gossip tells them): once the author is quiet, the
/// node offers its summary to every peer.
#[test]
fn records_fetched_by_a_range_are_offered_to_every_peer_once_the_author_is_quiet() {
    let mut s = Sync::new(SyncConfig::default(), Summary::default(), 0);
    s.handle_connected(1u32, 0);
    s.handle_connected(2u32, 0);
    drain(&mut s);
    s.handle_summary(1, summary(&[(1, 10)]), 0, &no_lookup);
    assert_eq!(drain(&mut s), vec![range(1, 1, 1)]);
    let head = HeadRef {
        seq: 10,
        id: id(1, 10, 0),
    };
    s.handle_local_head(key(1), head, 100);
    s.handle_range_done(&1, &key(1), RangeOutcome::Stored, 100);
    assert!(drain(&mut s).is_empty(), "caught up: nothing more to ask");
    assert_eq!(s.poll_timeout(), Some(1_100));
    s.handle_timeout(1_099);
    assert!(drain(&mut s).is_empty());
    s.handle_timeout(1_100);
    assert_eq!(
        drain(&mut s),
        vec![
            Action::SendSummary { peer: 1 },
            Action::SendSummary { peer: 2 }
        ]
    );
}

#[test]
fn a_timeout_fails_the_request_and_another_peer_is_asked() {
    let mut s = Sync::new(SyncConfig::default(), Summary::default(), 0);
    for p in [1u32, 2] {
        s.handle_connected(p, 0);
        s.handle_summary(p, summary(&[(1, 5)]), 0, &no_lookup);
    }
    drain(&mut s);
    assert_eq!(s.poll_timeout(), Some(20_000));
    s.handle_timeout(20_000);
    assert_eq!(drain(&mut s), vec![range(2, 1, 1)]);
    // Peer 2 answers nothing: both are backed off until their back-off ends.
    s.handle_range_done(&2, &key(1), RangeOutcome::Nothing, 20_001);
    assert!(drain(&mut s).is_empty());
    s.handle_timeout(30_000);
    assert_eq!(
        drain(&mut s),
        vec![
            Action::SendSummary { peer: 1 },
            Action::SendSummary { peer: 2 },
            range(1, 1, 1)
        ]
    );
}

#[test]
fn a_fresh_summary_lifts_the_back_off() {
    let mut s = Sync::new(SyncConfig::default(), Summary::default(), 0);
    s.handle_connected(1u32, 0);
    s.handle_summary(1, summary(&[(1, 5)]), 0, &no_lookup);
    drain(&mut s);
    s.handle_range_done(&1, &key(1), RangeOutcome::Failed, 1);
    assert!(drain(&mut s).is_empty());
    s.handle_summary(1, summary(&[(1, 5)]), 2, &no_lookup);
    assert!(drain(&mut s).is_empty(), "nothing new: still backed off");
    s.handle_summary(1, summary(&[(1, 6)]), 2, &no_lookup);
    assert_eq!(drain(&mut s), vec![range(1, 1, 1)]);
}

#[test]
fn a_disconnect_drops_requests_and_replans() {
    let mut s = Sync::new(SyncConfig::default(), Summary::default(), 0);
    for p in [1u32, 2] {
        s.handle_connected(p, 0);
        s.handle_summary(p, summary(&[(1, 5)]), 0, &no_lookup);
    }
    drain(&mut s);
    s.handle_disconnected(&1, 5);
    assert_eq!(drain(&mut s), vec![range(2, 1, 1)]);
    s.handle_disconnected(&2, 6);
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn a_gap_is_asked_of_the_peer_that_showed_it() {
    let mut s = Sync::new(SyncConfig::default(), summary(&[(1, 2)]), 0);
    s.handle_connected(4u32, 0);
    drain(&mut s);
    s.handle_gap(4, key(1), 9, 1);
    assert_eq!(drain(&mut s), vec![range(4, 1, 3)]);
    // It lacked the gap itself: every peer is asked for a fresh summary.
    s.handle_connected(5u32, 2);
    drain(&mut s);
    s.handle_range_done(&4, &key(1), RangeOutcome::Nothing, 3);
    assert_eq!(
        drain(&mut s),
        vec![
            Action::SendSummary { peer: 4 },
            Action::SendSummary { peer: 5 }
        ]
    );
}

#[test]
fn a_summary_from_a_departed_peer_is_ignored() {
    let mut s = Sync::new(SyncConfig::default(), Summary::default(), 0);
    s.handle_summary(9u32, summary(&[(1, 5)]), 0, &no_lookup);
    assert!(drain(&mut s).is_empty());
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn another_branch_is_probed_once() {
    let mut s = Sync::new(SyncConfig::default(), summary(&[(1, 5)]), 0);
    s.handle_connected(1u32, 0);
    drain(&mut s);
    let theirs = other_branch(4);
    s.handle_summary(1, theirs.clone(), 1, &key1_on_branch_0);
    assert_eq!(drain(&mut s), vec![range(1, 1, 4)]);
    s.handle_range_done(&1, &key(1), RangeOutcome::Diverged, 2);
    // Diverged: probed at the local head's seq, once.
    assert_eq!(drain(&mut s), vec![range(1, 1, 5)]);
    // The probe is a request like any other (due at 2 + 20,000), not a back-off (2 + 10,000).
    assert_eq!(s.poll_timeout(), Some(20_002));
    s.handle_range_done(&1, &key(1), RangeOutcome::Diverged, 3);
    s.handle_summary(1, theirs, 4, &key1_on_branch_0);
    assert!(drain(&mut s).is_empty());
    // The same peer on the same branch: no probe.
    s.handle_summary(1, summary(&[(1, 4)]), 5, &key1_on_branch_0);
    assert!(drain(&mut s).is_empty());
}

#[test]
fn a_late_report_from_a_departed_peer_asks_nothing_of_it() {
    let mut s = Sync::new(SyncConfig::default(), summary(&[(1, 5)]), 0);
    s.handle_connected(1u32, 0);
    s.handle_summary(1, summary(&[(1, 9)]), 0, &no_lookup);
    assert_eq!(
        drain(&mut s),
        vec![Action::SendSummary { peer: 1 }, range(1, 1, 6)]
    );
    s.handle_disconnected(&1, 1);
    s.handle_range_done(&1, &key(1), RangeOutcome::Diverged, 2);
    s.handle_range_done(&1, &key(1), RangeOutcome::Failed, 3);
    assert!(drain(&mut s).is_empty());
    assert_eq!(
        s.poll_timeout(),
        None,
        "no back-off kept for a departed peer"
    );
}

#[test]
fn advertised_forks_are_asked_for_until_held() {
    let mut s = Sync::new(SyncConfig::default(), Summary::default(), 0);
    s.handle_connected(1u32, 0);
    drain(&mut s);
    let mut theirs = Summary::default();
    theirs.forks.insert((key(3), 2));
    s.handle_summary(1, theirs.clone(), 1, &no_lookup);
    assert_eq!(
        drain(&mut s),
        vec![Action::RequestFork {
            peer: 1,
            author: key(3),
            seq: 2
        }]
    );
    s.handle_fork_done(&1, &key(3), 2, 2);
    assert!(
        drain(&mut s).is_empty(),
        "not asked again before a fresh summary"
    );
    s.handle_local_fork(key(3), 2);
    s.handle_summary(1, theirs, 3, &no_lookup);
    assert!(drain(&mut s).is_empty(), "held now");
}

#[test]
fn a_burst_held_back_from_gossip_is_offered_to_every_peer_once_it_ends() {
    let config = SyncConfig {
        pace: pace::PaceConfig {
            burst: 2,
            per_second: 1,
            settle_ms: 1000,
            follow_ms: 30_000,
        },
        ..SyncConfig::default()
    };
    let mut s = Sync::new(config, Summary::default(), 0);
    s.handle_connected(1u32, 0);
    s.handle_connected(2u32, 0);
    drain(&mut s);
    assert!(s.gossip_admits(key(1), 100));
    assert!(s.gossip_admits(key(1), 100));
    assert!(s.gossip_admits(key(2), 100), "another author's budget");
    assert!(!s.gossip_admits(key(1), 100));
    assert!(!s.gossip_admits(key(1), 500));
    // Due a settle time after the last record held back, before the periodic exchange.
    assert_eq!(s.poll_timeout(), Some(1500));
    s.handle_timeout(1499);
    assert!(drain(&mut s).is_empty());
    s.handle_timeout(1500);
    assert_eq!(
        drain(&mut s),
        vec![
            Action::SendSummary { peer: 1 },
            Action::SendSummary { peer: 2 }
        ]
    );
    // Once per burst.
    s.handle_timeout(1600);
    assert!(drain(&mut s).is_empty());
    assert_eq!(s.poll_timeout(), Some(config.interval_ms));
    // A record held back and stored later (parked ahead of a gap): offered again once stored.
    let head = HeadRef {
        seq: 3,
        id: id(1, 3, 0),
    };
    s.handle_local_head(key(1), head, 4_000);
    assert_eq!(s.poll_timeout(), Some(5_000));
    s.handle_timeout(5_000);
    assert_eq!(drain(&mut s).len(), 2);
}

#[test]
fn requests_per_peer_are_bounded() {
    let config = SyncConfig {
        max_requests_per_peer: 2,
        ..SyncConfig::default()
    };
    let mut s = Sync::new(config, Summary::default(), 0);
    s.handle_connected(1u32, 0);
    drain(&mut s);
    s.handle_summary(1, summary(&[(1, 1), (2, 1), (3, 1), (4, 1)]), 0, &no_lookup);
    assert_eq!(drain(&mut s).len(), 2);
    s.handle_local_head(
        key(1),
        HeadRef {
            seq: 1,
            id: id(1, 1, 0),
        },
        1,
    );
    s.handle_range_done(&1, &key(1), RangeOutcome::Stored, 1);
    assert_eq!(drain(&mut s).len(), 1);
}

#[test]
fn pending_area_is_bounded_and_drops_the_farthest_ahead() {
    let mut p: PendingArea<u64> = PendingArea::new(3, 1000);
    let a = key(1);
    assert!(p.insert(a, 5, id(1, 5, 0), 100, 5));
    assert!(p.insert(a, 5, id(1, 5, 1), 100, 50));
    assert!(p.insert(a, 9, id(1, 9, 0), 100, 9));
    assert!(
        !p.insert(a, 10, id(1, 10, 0), 100, 10),
        "farther than all, area full"
    );
    assert!(p.insert(a, 3, id(1, 3, 0), 100, 3), "evicts seq 9");
    assert_eq!((p.len(), p.bytes()), (3, 300));
    assert!(!p.is_empty());
    assert!(p.take(&a, 9).is_empty());
    let mut at5 = p.take(&a, 5);
    at5.sort_unstable();
    assert_eq!(at5, vec![5, 50]);
    assert!(
        !p.insert(a, 4, id(1, 4, 0), 2000, 4),
        "larger than the area"
    );
    assert!(p.insert(a, 4, id(1, 4, 0), 900, 4));
    assert_eq!(p.bytes(), 1000);
    assert!(
        p.insert(a, 2, id(1, 2, 0), 100, 2),
        "evicts seq 4 for bytes"
    );
    assert_eq!(p.prune(&a, 2), vec![2]);
    assert_eq!(p.take(&a, 3), vec![3]);
    assert!(p.is_empty());
    assert_eq!(p.bytes(), 0);
}

#[test]
fn a_pending_record_of_exactly_the_areas_bytes_fits() {
    let mut p: PendingArea<u64> = PendingArea::new(2, 500);
    assert!(p.insert(key(1), 4, id(1, 4, 0), 500, 4));
    assert_eq!((p.len(), p.bytes()), (1, 500));
    // An area for no records keeps none.
    let mut none: PendingArea<u64> = PendingArea::new(0, 500);
    assert!(!none.insert(key(1), 4, id(1, 4, 0), 1, 4));
    assert!(none.is_empty());
}

fn fork(peer: u32, author: u8, seq: u64) -> Action<u32> {
    Action::RequestFork {
        peer,
        author: key(author),
        seq,
    }
}

/// A summary advertising fork evidence at each of `forks` (author, seq), and no heads.
fn forks_at(forks: &[(u8, u64)]) -> Summary {
    Summary {
        forks: forks.iter().map(|&(a, s)| (key(a), s)).collect(),
        ..Summary::default()
    }
}

#[test]
fn a_summary_with_as_many_forks_as_the_limit_is_read() {
    let (doc, keys, _) = sample(2);
    let charter = doc.verify().expect("charter");
    let author = keys[0].public_key();
    let heads = pb::Heads {
        forks: (1..=MAX_FORK_REFS as u64)
            .map(|seq| pb::ForkRef {
                author: author.as_bytes().to_vec(),
                seq,
            })
            .collect(),
        ..Default::default()
    };
    let s = Summary::from_proto(&heads, &charter).expect("at the limit");
    assert_eq!(s.forks.len(), MAX_FORK_REFS);
    assert!(s.forks.contains(&(author, MAX_FORK_REFS as u64)));
}

#[test]
fn the_local_summary_grows_with_the_head_and_is_replaced_whole() {
    let mut s = Sync::new(SyncConfig::default(), summary(&[(1, 3)]), 0);
    assert_eq!(s.local(), &summary(&[(1, 3)]));
    let head = |seq: u64, branch: u8| HeadRef {
        seq,
        id: id(1, seq, branch),
    };
    s.handle_local_head(key(1), head(4, 0), 0);
    // Neither another record at the head's seq nor an older head moves it.
    s.handle_local_head(key(1), head(4, 7), 0);
    s.handle_local_head(key(1), head(2, 0), 0);
    assert_eq!(s.local(), &summary(&[(1, 4)]));
    // A decision ended the key at seq 2: the store's summary replaces the local one, lower heads
    // included, and ranges are asked from there.
    s.replace_local(summary(&[(1, 2)]));
    assert_eq!(s.local(), &summary(&[(1, 2)]));
    s.handle_connected(1u32, 1);
    s.handle_summary(1, summary(&[(1, 4)]), 1, &no_lookup);
    assert_eq!(
        drain(&mut s),
        vec![Action::SendSummary { peer: 1 }, range(1, 1, 3)]
    );
}

#[test]
fn a_peer_at_the_local_heads_seq_on_another_branch_is_probed_there() {
    let mut s = Sync::new(SyncConfig::default(), summary(&[(1, 5)]), 0);
    s.handle_connected(1u32, 0);
    drain(&mut s);
    let theirs = other_branch(5);
    s.handle_summary(1, theirs, 1, &key1_on_branch_0);
    assert_eq!(drain(&mut s), vec![range(1, 1, 5)]);
}

#[test]
fn a_peer_level_with_the_local_head_is_asked_nothing() {
    let mut s = Sync::new(SyncConfig::default(), summary(&[(1, 5)]), 0);
    s.handle_connected(1u32, 0);
    s.handle_summary(1, summary(&[(1, 5)]), 0, &key1_on_branch_0);
    assert_eq!(drain(&mut s), vec![Action::SendSummary { peer: 1 }]);
}

#[test]
fn a_peer_ahead_is_asked_from_the_local_head_on_not_probed() {
    // The store holds records above the summary's head (say, of a key a decision ended there), on
    // another branch than the peer's: the peer is ahead all the same, and asked from seq 6.
    let mut s = Sync::new(SyncConfig::default(), summary(&[(1, 5)]), 0);
    s.handle_connected(1u32, 0);
    drain(&mut s);
    let theirs = other_branch(9);
    s.handle_summary(1, theirs, 1, &key1_on_branch_0);
    assert_eq!(drain(&mut s), vec![range(1, 1, 6)]);
}

#[test]
fn records_dropped_for_want_of_room_ask_the_peer_again_without_its_back_off() {
    let mut s = Sync::new(SyncConfig::default(), summary(&[(1, 2)]), 0);
    s.handle_connected(4u32, 0);
    s.handle_connected(5u32, 0);
    s.handle_summary(4, summary(&[(1, 9), (2, 3), (3, 4)]), 0, &no_lookup);
    s.handle_summary(5, summary(&[(1, 9), (3, 4)]), 0, &no_lookup);
    drain(&mut s);
    // Author 3's answer from peer 4 held invalid records (the peer's fault): it is asked of
    // peer 5.
    s.handle_range_done(&4, &key(3), RangeOutcome::Failed, 1);
    assert_eq!(drain(&mut s), vec![range(5, 3, 1)]);
    // Authors 1 and 2's answers from peer 4 were dropped here (a full queue): no peer is asked
    // for them while there is no room.
    s.handle_range_done(&4, &key(1), RangeOutcome::Dropped, 1);
    s.handle_range_done(&4, &key(2), RangeOutcome::Dropped, 1);
    assert!(
        drain(&mut s).is_empty(),
        "nothing fetched only to be dropped"
    );
    // Room again: a fresh summary is asked of peer 4 only, once however often it is told.
    s.handle_dropped(&4);
    s.handle_dropped(&4);
    assert_eq!(drain(&mut s), vec![Action::SendSummary { peer: 4 }]);
    // Its answer tells nothing new, yet the dropped ranges go out (author 1 to peer 4, which
    // shows the same head as peer 5: the smallest peer among equals).
    s.handle_summary(4, summary(&[(1, 9), (2, 3), (3, 4)]), 2, &no_lookup);
    let mut actions = drain(&mut s);
    actions.sort_by_key(|a| format!("{a:?}"));
    let mut want = vec![range(4, 1, 3), range(4, 2, 1)];
    want.sort_by_key(|a| format!("{a:?}"));
    assert_eq!(actions, want);
    // A peer that is not connected is asked nothing.
    s.handle_dropped(&9);
    assert!(drain(&mut s).is_empty());
}

#[test]
fn an_answer_overtaken_by_the_local_log_backs_nothing_off() {
    let (mut s, first) = shown_900_by_peer_4();
    assert_eq!(first, vec![Action::SendSummary { peer: 4 }, range(4, 1, 3)]);
    // While the range is out, gossip brings seqs 3 to 500: the answer (from seq 3) holds only
    // records already here. The rest (a burst's tail, dropped at a full queue) is asked of the
    // same peer at once; a back-off kept it waiting 10 s.
    grow(&mut s, 1, 500, 1);
    assert!(drain(&mut s).is_empty(), "one range per author in flight");
    s.handle_range_done(&4, &key(1), RangeOutcome::Nothing, 2);
    assert_eq!(drain(&mut s), vec![range(4, 1, 501)]);
}

/// A node holding author 1's log up to seq 2, to which peer 4 just showed it up to seq 900, and
/// what it did about it.
fn shown_900_by_peer_4() -> (Sync<u32>, Vec<Action<u32>>) {
    let mut s = Sync::new(SyncConfig::default(), summary(&[(1, 2)]), 0);
    s.handle_connected(4u32, 0);
    s.handle_summary(4, summary(&[(1, 900)]), 0, &no_lookup);
    let first = drain(&mut s);
    (s, first)
}

/// The local head of `author`'s log moves to `seq` (gossip or a range stored it).
fn grow(s: &mut Sync<u32>, author: u8, seq: u64, now_ms: i64) {
    s.handle_local_head(
        key(author),
        HeadRef {
            seq,
            id: id(author, seq, 0),
        },
        now_ms,
    );
}

#[test]
fn a_peer_overtaken_twice_without_news_between_is_backed_off() {
    let (mut s, _) = shown_900_by_peer_4();
    grow(&mut s, 1, 500, 1);
    s.handle_range_done(&4, &key(1), RangeOutcome::Nothing, 2);
    assert_eq!(drain(&mut s), vec![range(4, 1, 501)], "excused once");
    grow(&mut s, 1, 800, 3);
    s.handle_range_done(&4, &key(1), RangeOutcome::Nothing, 4);
    assert!(drain(&mut s).is_empty(), "not twice in a row");
    s.handle_timeout(10_004);
    assert_eq!(drain(&mut s), vec![range(4, 1, 801)]);
    // Something new from it, and the excuse is there again.
    grow(&mut s, 1, 850, 10_005);
    s.handle_range_done(&4, &key(1), RangeOutcome::Stored, 10_005);
    assert_eq!(drain(&mut s), vec![range(4, 1, 851)]);
    grow(&mut s, 1, 870, 10_006);
    s.handle_range_done(&4, &key(1), RangeOutcome::Nothing, 10_007);
    assert_eq!(drain(&mut s), vec![range(4, 1, 871)]);
}

/// A node holding author 1's log up to seq 5, to which peer 1 just showed seq 4 of another
/// branch, and what it did about it.
fn shown_another_branch_by_peer_1() -> (Sync<u32>, Vec<Action<u32>>) {
    let mut s = Sync::new(SyncConfig::default(), summary(&[(1, 5)]), 0);
    s.handle_connected(1u32, 0);
    drain(&mut s);
    s.handle_summary(1, other_branch(4), 1, &key1_on_branch_0);
    let probe = drain(&mut s);
    (s, probe)
}

#[test]
fn a_probe_is_never_overtaken() {
    // The peer holds seq 4 on another branch: asked from seq 4, which the local log holds.
    let (mut s, probe) = shown_another_branch_by_peer_1();
    assert_eq!(probe, vec![range(1, 1, 4)]);
    grow(&mut s, 1, 6, 2);
    // Nothing of another branch came back; the local log's growth excuses nothing of that.
    s.handle_range_done(&1, &key(1), RangeOutcome::Nothing, 3);
    assert_eq!(s.poll_timeout(), Some(10_003), "backed off");
}

#[test]
fn a_probe_at_the_local_heads_seq_is_never_overtaken() {
    let (mut s, _) = shown_another_branch_by_peer_1();
    s.handle_range_done(&1, &key(1), RangeOutcome::Diverged, 2);
    assert_eq!(
        drain(&mut s),
        vec![range(1, 1, 5)],
        "probed at the head's seq"
    );
    grow(&mut s, 1, 6, 3);
    s.handle_range_done(&1, &key(1), RangeOutcome::Nothing, 4);
    assert_eq!(s.poll_timeout(), Some(10_004), "backed off");
}

#[test]
fn a_reconnected_peer_is_excused_afresh_and_the_others_keep_their_record() {
    let mut s = Sync::new(SyncConfig::default(), summary(&[(1, 2), (2, 2)]), 0);
    for p in [4u32, 5] {
        s.handle_connected(p, 0);
    }
    s.handle_summary(4, summary(&[(1, 900)]), 0, &no_lookup);
    s.handle_summary(5, summary(&[(2, 900)]), 0, &no_lookup);
    drain(&mut s);
    // Both answers overtaken: excused once each.
    grow(&mut s, 1, 100, 1);
    grow(&mut s, 2, 100, 1);
    s.handle_range_done(&4, &key(1), RangeOutcome::Nothing, 2);
    s.handle_range_done(&5, &key(2), RangeOutcome::Nothing, 2);
    let mut actions = drain(&mut s);
    actions.sort_by_key(|a| format!("{a:?}"));
    let mut want = vec![range(4, 1, 101), range(5, 2, 101)];
    want.sort_by_key(|a| format!("{a:?}"));
    assert_eq!(actions, want);
    // Peer 5 leaves and comes back: a new connection, a new excuse. Peer 4 keeps its record.
    s.handle_disconnected(&5, 3);
    s.handle_connected(5, 3);
    s.handle_summary(5, summary(&[(2, 900)]), 3, &no_lookup);
    assert!(drain(&mut s).contains(&range(5, 2, 101)));
    grow(&mut s, 1, 200, 4);
    grow(&mut s, 2, 200, 4);
    s.handle_range_done(&5, &key(2), RangeOutcome::Nothing, 5);
    assert_eq!(drain(&mut s), vec![range(5, 2, 201)], "excused afresh");
    s.handle_range_done(&4, &key(1), RangeOutcome::Nothing, 5);
    assert!(drain(&mut s).is_empty(), "peer 4 was already excused once");
}

#[test]
fn an_answer_with_nothing_new_while_the_local_log_stood_still_backs_the_peer_off() {
    let (mut s, _) = shown_900_by_peer_4();
    // A report from a peer that was not asked does not count as the answer.
    s.handle_range_done(&5, &key(1), RangeOutcome::Nothing, 1);
    assert!(drain(&mut s).is_empty());
    s.handle_range_done(&4, &key(1), RangeOutcome::Nothing, 1);
    assert!(drain(&mut s).is_empty(), "backed off");
    s.handle_timeout(10_001);
    assert_eq!(
        drain(&mut s),
        vec![range(4, 1, 3)],
        "asked again once it ends"
    );
}

#[test]
fn room_does_not_forgive_a_peers_fault() {
    let mut s = Sync::new(SyncConfig::default(), summary(&[(1, 2)]), 0);
    s.handle_connected(4u32, 0);
    s.handle_connected(5u32, 0);
    s.handle_summary(4, summary(&[(1, 9)]), 0, &no_lookup);
    s.handle_summary(5, summary(&[(1, 9)]), 0, &no_lookup);
    drain(&mut s);
    // Peer 4's answer was invalid; peer 5's, asked next, was dropped for want of room.
    s.handle_range_done(&4, &key(1), RangeOutcome::Failed, 1);
    assert_eq!(drain(&mut s), vec![range(5, 1, 3)]);
    s.handle_range_done(&5, &key(1), RangeOutcome::Dropped, 1);
    assert!(drain(&mut s).is_empty());
    // Room: at the next planning (here, peer 4's periodic summary, which tells nothing new),
    // peer 5 is asked again, peer 4 (its fault) is not.
    s.handle_dropped(&5);
    assert_eq!(drain(&mut s), vec![Action::SendSummary { peer: 5 }]);
    s.handle_summary(4, summary(&[(1, 9)]), 2, &no_lookup);
    assert_eq!(drain(&mut s), vec![range(5, 1, 3)]);
}

#[test]
fn a_summary_already_queued_is_not_queued_again_when_records_were_dropped() {
    let mut s = Sync::new(SyncConfig::default(), Summary::default(), 0);
    s.handle_connected(3u32, 0);
    // The connection's own summary exchange is still queued.
    s.handle_dropped(&3);
    assert_eq!(drain(&mut s), vec![Action::SendSummary { peer: 3 }]);
    // Once it went out, a drop queues the next one.
    s.handle_dropped(&3);
    assert_eq!(drain(&mut s), vec![Action::SendSummary { peer: 3 }]);
}

#[test]
fn a_gap_at_a_seq_the_peer_already_showed_changes_nothing() {
    let mut s = Sync::new(SyncConfig::default(), summary(&[(1, 2)]), 0);
    s.handle_connected(4u32, 0);
    s.handle_summary(4, summary(&[(1, 9)]), 0, &no_lookup);
    assert_eq!(
        drain(&mut s),
        vec![Action::SendSummary { peer: 4 }, range(4, 1, 3)]
    );
    s.handle_range_done(&4, &key(1), RangeOutcome::Nothing, 1);
    assert!(drain(&mut s).is_empty(), "backed off");
    // A record at seq 9 arriving ahead of the gap tells nothing new of the peer: still backed off.
    s.handle_gap(4, key(1), 9, 2);
    assert!(drain(&mut s).is_empty());
    // One at seq 10 does: the peer holds more than it said.
    s.handle_gap(4, key(1), 10, 3);
    assert_eq!(drain(&mut s), vec![range(4, 1, 3)]);
}

#[test]
fn a_back_off_ends_at_its_time() {
    let config = SyncConfig {
        interval_ms: 100_000,
        ..SyncConfig::default()
    };
    let mut s = Sync::new(config, Summary::default(), 0);
    s.handle_connected(1u32, 0);
    s.handle_summary(1, summary(&[(1, 5)]), 0, &no_lookup);
    drain(&mut s);
    s.handle_range_done(&1, &key(1), RangeOutcome::Failed, 1);
    assert_eq!(s.poll_timeout(), Some(10_001));
    s.handle_timeout(10_000);
    assert!(drain(&mut s).is_empty(), "still backed off");
    assert_eq!(s.poll_timeout(), Some(10_001));
    s.handle_timeout(10_001);
    assert_eq!(drain(&mut s), vec![range(1, 1, 1)]);
    // The back-off is gone; the new request's deadline is next.
    assert_eq!(s.poll_timeout(), Some(30_001));
}

#[test]
fn a_disconnect_drops_only_the_departed_peers_queued_actions() {
    let mut s = Sync::new(SyncConfig::default(), Summary::default(), 0);
    s.handle_connected(1u32, 0);
    s.handle_connected(2u32, 0);
    s.handle_disconnected(&1, 1);
    assert_eq!(drain(&mut s), vec![Action::SendSummary { peer: 2 }]);
}

#[test]
fn a_disconnect_keeps_the_other_peers_back_offs() {
    let mut s = Sync::new(SyncConfig::default(), Summary::default(), 0);
    for p in [1u32, 2] {
        s.handle_connected(p, 0);
        s.handle_summary(p, summary(&[(1, 5)]), 0, &no_lookup);
    }
    assert_eq!(
        drain(&mut s),
        vec![
            Action::SendSummary { peer: 1 },
            range(1, 1, 1),
            Action::SendSummary { peer: 2 }
        ]
    );
    s.handle_range_done(&1, &key(1), RangeOutcome::Failed, 1);
    assert_eq!(drain(&mut s), vec![range(2, 1, 1)]);
    s.handle_range_done(&2, &key(1), RangeOutcome::Failed, 2);
    assert!(drain(&mut s).is_empty());
    s.handle_disconnected(&1, 3);
    assert!(drain(&mut s).is_empty(), "peer 2 is still backed off");
    assert_eq!(s.poll_timeout(), Some(10_002), "peer 2's back-off");
}

#[test]
fn a_disconnect_keeps_the_other_peers_probes() {
    let mut s = Sync::new(SyncConfig::default(), summary(&[(1, 5)]), 0);
    s.handle_connected(1u32, 0);
    s.handle_connected(2u32, 0);
    drain(&mut s);
    let theirs = other_branch(4);
    s.handle_summary(2, theirs.clone(), 1, &key1_on_branch_0);
    assert_eq!(drain(&mut s), vec![range(2, 1, 4)]);
    s.handle_range_done(&2, &key(1), RangeOutcome::Nothing, 2);
    s.handle_disconnected(&1, 3);
    s.handle_summary(2, theirs, 4, &key1_on_branch_0);
    assert!(
        drain(&mut s).is_empty(),
        "peer 2 was probed at seq 4 before"
    );
}

#[test]
fn a_fork_request_is_made_once_and_asked_of_another_peer_when_late() {
    let config = SyncConfig {
        interval_ms: 100_000,
        ..SyncConfig::default()
    };
    let mut s = Sync::new(config, Summary::default(), 0);
    for p in [1u32, 2] {
        s.handle_connected(p, 0);
        s.handle_summary(p, forks_at(&[(3, 2)]), 0, &no_lookup);
    }
    // Both advertise it; one request, to the first.
    assert_eq!(
        drain(&mut s),
        vec![
            Action::SendSummary { peer: 1 },
            fork(1, 3, 2),
            Action::SendSummary { peer: 2 }
        ]
    );
    assert_eq!(s.poll_timeout(), Some(20_000));
    s.handle_timeout(20_000);
    assert_eq!(drain(&mut s), vec![fork(2, 3, 2)]);
    assert_eq!(s.poll_timeout(), Some(40_000));
    // A late report of the first request does not end the second.
    s.handle_fork_done(&1, &key(3), 2, 20_001);
    assert_eq!(s.poll_timeout(), Some(40_000));
    s.handle_fork_done(&2, &key(3), 2, 20_002);
    assert_eq!(s.poll_timeout(), Some(100_000), "the next exchange");
}

#[test]
fn a_fork_request_is_taken_over_by_another_peer_after_a_disconnect() {
    let mut s = Sync::new(SyncConfig::default(), Summary::default(), 0);
    for p in [1u32, 2] {
        s.handle_connected(p, 0);
        s.handle_summary(p, forks_at(&[(3, 2)]), 0, &no_lookup);
    }
    drain(&mut s);
    s.handle_disconnected(&1, 1);
    assert_eq!(drain(&mut s), vec![fork(2, 3, 2)]);
}

#[test]
fn fork_requests_count_toward_the_per_peer_bound() {
    let config = SyncConfig {
        max_requests_per_peer: 2,
        ..SyncConfig::default()
    };
    let mut s = Sync::new(config, Summary::default(), 0);
    s.handle_connected(1u32, 0);
    drain(&mut s);
    let mut theirs = forks_at(&[(3, 1), (3, 2), (3, 3)]);
    s.handle_summary(1, theirs.clone(), 0, &no_lookup);
    assert_eq!(drain(&mut s), vec![fork(1, 3, 1), fork(1, 3, 2)]);
    // Both requests in use: a head the peer shows now waits.
    theirs.heads = summary(&[(1, 1)]).heads;
    s.handle_summary(1, theirs, 1, &no_lookup);
    assert!(drain(&mut s).is_empty());
    s.handle_fork_done(&1, &key(3), 1, 2);
    assert_eq!(drain(&mut s), vec![range(1, 1, 1)]);
}

/// A simulated network: nodes with toy stores (per author, a chain of ids), virtual time, and
/// links that lose messages.
struct Sim {
    nodes: Vec<SimNode>,
    now: i64,
    rng: u64,
    loss_percent: u64,
    record_bytes: u64,
    /// Messages in flight: (deliver at, seq no, message).
    wire: BTreeMap<(i64, u64), Msg>,
    sent: u64,
    ranges_asked: u64,
}

struct SimNode {
    sync: Sync<usize>,
    logs: BTreeMap<PublicKey, Vec<RecordId>>,
    online: bool,
}

enum Msg {
    SummaryRequest {
        from: usize,
        to: usize,
        summary: Summary,
    },
    SummaryResponse {
        from: usize,
        to: usize,
        summary: Summary,
    },
    RangeRequest {
        from: usize,
        to: usize,
        author: PublicKey,
        from_seq: u64,
        budget: u32,
    },
    RangeResponse {
        from: usize,
        to: usize,
        author: PublicKey,
        from_seq: u64,
        ids: Vec<RecordId>,
    },
}

impl SimNode {
    fn summary(&self) -> Summary {
        Summary {
            heads: self
                .logs
                .iter()
                .filter_map(|(a, l)| {
                    l.last().map(|id| {
                        (
                            *a,
                            HeadRef {
                                seq: l.len() as u64,
                                id: *id,
                            },
                        )
                    })
                })
                .collect(),
            forks: BTreeSet::new(),
            decisions: (0, Vec::new()),
        }
    }
}

impl Sim {
    fn new(n: usize, seed: u64, loss_percent: u64) -> Self {
        let config = SyncConfig {
            range_budget_bytes: 64 * 1024,
            ..SyncConfig::default()
        };
        Self {
            nodes: (0..n)
                .map(|_| SimNode {
                    sync: Sync::new(config, Summary::default(), 0),
                    logs: BTreeMap::new(),
                    online: true,
                })
                .collect(),
            now: 0,
            rng: seed | 1,
            loss_percent,
            record_bytes: 1000,
            wire: BTreeMap::new(),
            sent: 0,
            ranges_asked: 0,
        }
    }

    fn rand(&mut self, n: u64) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng % n.max(1)
    }

    /// Node `n` appends `count` records to its own log (author `n`).
    fn publish(&mut self, n: usize, count: u64) {
        let author = key(n as u8 + 1);
        let log = self.nodes[n].logs.entry(author).or_default();
        for _ in 0..count {
            let seq = log.len() as u64 + 1;
            log.push(id(n as u8 + 1, seq, 0));
        }
        let head = HeadRef {
            seq: log.len() as u64,
            id: *log.last().expect("published"),
        };
        let now = self.now;
        self.nodes[n].sync.handle_local_head(author, head, now);
    }

    fn connect_all(&mut self) {
        let now = self.now;
        for a in 0..self.nodes.len() {
            for b in 0..self.nodes.len() {
                if a != b && self.nodes[a].online && self.nodes[b].online {
                    self.nodes[a].sync.handle_connected(b, now);
                }
            }
        }
    }

    fn send(&mut self, msg: Msg) {
        self.sent += 1;
        if self.rand(100) < self.loss_percent {
            return; // lost: the requester times out
        }
        let at = self.now + 1 + self.rand(20) as i64;
        self.wire.insert((at, self.sent), msg);
    }

    fn perform(&mut self, n: usize) {
        while let Some(action) = self.nodes[n].sync.poll_action() {
            match action {
                Action::SendSummary { peer } => {
                    let summary = self.nodes[n].summary();
                    self.send(Msg::SummaryRequest {
                        from: n,
                        to: peer,
                        summary,
                    });
                }
                Action::RequestRange {
                    peer,
                    author,
                    from_seq,
                    byte_budget,
                } => {
                    self.ranges_asked += 1;
                    self.send(Msg::RangeRequest {
                        from: n,
                        to: peer,
                        author,
                        from_seq,
                        budget: byte_budget,
                    });
                }
                Action::RequestFork { .. } => unreachable!("no forks in this simulation"),
            }
        }
    }

    fn deliver(&mut self, msg: Msg) {
        let now = self.now;
        match msg {
            Msg::SummaryRequest { from, to, summary } => {
                let node = &mut self.nodes[to];
                let logs = node.logs.clone();
                let lookup = move |a: &PublicKey, s: u64| {
                    logs.get(a).and_then(|l| l.get(s as usize - 1)).copied()
                };
                node.sync.handle_summary(from, summary, now, &lookup);
                let mine = node.summary();
                self.send(Msg::SummaryResponse {
                    from: to,
                    to: from,
                    summary: mine,
                });
            }
            Msg::SummaryResponse { from, to, summary } => {
                let node = &mut self.nodes[to];
                let logs = node.logs.clone();
                let lookup = move |a: &PublicKey, s: u64| {
                    logs.get(a).and_then(|l| l.get(s as usize - 1)).copied()
                };
                node.sync.handle_summary(from, summary, now, &lookup);
            }
            Msg::RangeRequest {
                from,
                to,
                author,
                from_seq,
                budget,
            } => {
                let per = (u64::from(budget) / self.record_bytes).max(1) as usize;
                let ids: Vec<RecordId> = self.nodes[to]
                    .logs
                    .get(&author)
                    .map(|l| {
                        l.iter()
                            .skip(from_seq as usize - 1)
                            .take(per)
                            .copied()
                            .collect()
                    })
                    .unwrap_or_default();
                self.send(Msg::RangeResponse {
                    from: to,
                    to: from,
                    author,
                    from_seq,
                    ids,
                });
            }
            Msg::RangeResponse {
                from,
                to,
                author,
                from_seq,
                ids,
            } => {
                let node = &mut self.nodes[to];
                let log = node.logs.entry(author).or_default();
                let mut stored = false;
                for (i, id) in ids.into_iter().enumerate() {
                    let seq = from_seq + i as u64;
                    if seq == log.len() as u64 + 1 {
                        log.push(id);
                        stored = true;
                    }
                }
                if stored {
                    let head = HeadRef {
                        seq: log.len() as u64,
                        id: *log.last().expect("stored"),
                    };
                    node.sync.handle_local_head(author, head, now);
                }
                let outcome = if stored {
                    RangeOutcome::Stored
                } else {
                    RangeOutcome::Nothing
                };
                node.sync.handle_range_done(&from, &author, outcome, now);
            }
        }
    }

    fn to_of(msg: &Msg) -> usize {
        match msg {
            Msg::SummaryRequest { to, .. }
            | Msg::SummaryResponse { to, .. }
            | Msg::RangeRequest { to, .. }
            | Msg::RangeResponse { to, .. } => *to,
        }
    }

    /// Runs until every node holds the same logs or `limit_ms` of virtual time passed. Returns
    /// whether they converged.
    fn run(&mut self, limit_ms: i64) -> bool {
        let end = self.now + limit_ms;
        loop {
            for n in 0..self.nodes.len() {
                self.perform(n);
            }
            if self.converged() {
                return true;
            }
            let next_msg = self.wire.keys().next().map(|(t, _)| *t);
            let next_timer = self
                .nodes
                .iter()
                .filter(|n| n.online)
                .filter_map(|n| n.sync.poll_timeout())
                .min();
            let Some(next) = [next_msg, next_timer].into_iter().flatten().min() else {
                return false;
            };
            if next > end {
                return false;
            }
            self.now = self.now.max(next);
            while let Some(entry) = self.wire.first_entry() {
                if entry.key().0 > self.now {
                    break;
                }
                let msg = entry.remove();
                if self.nodes[Self::to_of(&msg)].online {
                    self.deliver(msg);
                }
            }
            let now = self.now;
            for n in &mut self.nodes {
                if n.online && n.sync.poll_timeout().is_some_and(|t| t <= now) {
                    n.sync.handle_timeout(now);
                    // Otherwise a driver would spin.
                    assert!(n.sync.poll_timeout().is_none_or(|t| t > now));
                }
            }
        }
    }

    fn converged(&self) -> bool {
        let first = self.nodes[0].summary().digest();
        self.nodes.iter().all(|n| n.summary().digest() == first)
    }
}

#[test]
fn five_nodes_each_publishing_converge() {
    let mut sim = Sim::new(5, 42, 0);
    for n in 0..5 {
        sim.publish(n, 20 + n as u64);
    }
    sim.connect_all();
    assert!(sim.run(60_000), "did not converge");
    assert_eq!(sim.nodes[3].summary().heads.len(), 5);
}

#[test]
fn a_late_node_catches_up_ten_thousand_records_in_ranges() {
    let mut sim = Sim::new(5, 7, 0);
    sim.nodes[4].online = false;
    for n in 0..4 {
        sim.publish(n, 2_500);
    }
    sim.connect_all();
    // The first four nodes sync with each other (the run ends when its limit is reached, since
    // the offline node never matches).
    assert!(!sim.run(600_000));
    assert!((1..4).all(|n| sim.nodes[n].summary() == sim.nodes[0].summary()));
    // The late node comes online with an empty store.
    sim.nodes[4].online = true;
    let asked_before = sim.ranges_asked;
    let start = sim.now;
    sim.connect_all();
    assert!(sim.run(600_000), "the late node did not catch up");
    let total: usize = sim.nodes[4].logs.values().map(Vec::len).sum();
    assert_eq!(total, 10_000);
    // 64 KiB budgets of 1,000-byte records hold 65 records, so 4 × ⌈2,500 / 65⌉ = 156 ranges
    // are needed, not 10,000.
    let asked = sim.ranges_asked - asked_before;
    assert!(
        (156..=170).contains(&asked),
        "{asked} range requests for 10,000 records"
    );
    assert!(sim.now - start < 10_000, "took {} ms", sim.now - start);
}

#[test]
fn lossy_links_still_converge() {
    let mut sim = Sim::new(5, 99, 20);
    for n in 0..5 {
        sim.publish(n, 300);
    }
    sim.connect_all();
    assert!(
        sim.run(3_600_000),
        "did not converge within an hour of virtual time at 20% loss"
    );
}

proptest! {
    // A network that does not converge is simulated for six virtual hours, seconds of real time
    // per case: shrinking stops after 30 s, so that such a failure is reported within a minute.
    #![proptest_config(ProptestConfig {
        cases: 32,
        max_shrink_time: 30_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_network_converges(seed in any::<u64>(), nodes in 2usize..6, loss in 0u64..30, records in 1u64..200) {
        let mut sim = Sim::new(nodes, seed, loss);
        for n in 0..nodes {
            sim.publish(n, records + n as u64);
        }
        sim.connect_all();
        prop_assert!(sim.run(6 * 3_600_000));
    }
}

#[test]
fn verdicts_follow_the_table() {
    use Received::*;
    let gossip: Vec<(Received, GossipVerdict)> = vec![
        (Invalid, GossipVerdict::Reject),
        (Stored, GossipVerdict::Accept),
        (AlreadyHeld, GossipVerdict::Accept),
        (Parked, GossipVerdict::Accept),
        (Fork, GossipVerdict::Accept),
        (OtherBranch, GossipVerdict::Ignore),
        (Refused, GossipVerdict::Ignore),
        (NotUnderstood, GossipVerdict::Ignore),
    ];
    for (r, v) in gossip {
        assert_eq!(gossip_verdict(r), v, "{r:?}");
    }
    assert_eq!(
        fork_proof_verdict(&[AlreadyHeld, Fork]),
        GossipVerdict::Accept
    );
    assert_eq!(
        fork_proof_verdict(&[AlreadyHeld, AlreadyHeld]),
        GossipVerdict::Ignore
    );
    assert_eq!(fork_proof_verdict(&[Fork, Invalid]), GossipVerdict::Reject);
    assert_eq!(
        fork_proof_verdict(&[Fork, NotUnderstood]),
        GossipVerdict::Ignore
    );
    assert_eq!(
        fork_proof_verdict(&[NotUnderstood, Invalid]),
        GossipVerdict::Reject
    );
    assert_eq!(
        fork_proof_verdict(&[]),
        GossipVerdict::Reject,
        "not a proof"
    );
    let ranges: Vec<(Vec<Received>, RangeOutcome)> = vec![
        (vec![Stored, Stored], RangeOutcome::Stored),
        (vec![AlreadyHeld, Stored, Invalid], RangeOutcome::Failed),
        (vec![AlreadyHeld, AlreadyHeld], RangeOutcome::Nothing),
        (vec![AlreadyHeld, OtherBranch], RangeOutcome::Diverged),
        (vec![Fork], RangeOutcome::Diverged),
        (vec![Refused, OtherBranch], RangeOutcome::Nothing),
        (vec![], RangeOutcome::Nothing),
        // A record of a kind this node does not know stops the range without blame.
        (
            vec![AlreadyHeld, NotUnderstood, Parked],
            RangeOutcome::Nothing,
        ),
        (vec![Stored, NotUnderstood], RangeOutcome::Stored),
        (vec![NotUnderstood, Invalid], RangeOutcome::Failed),
    ];
    for (rs, outcome) in ranges {
        assert_eq!(range_outcome(&rs), outcome, "{rs:?}");
    }
}

/// The compatibility rule (docs/PROTOCOL.md §6.5): a message of a version this node does not
/// understand (a record kind, a checkpoint version, a decision's action that a newer release
/// added) is set aside: ignored, never rejected, so its sender's score never drops; a message
/// malformed or wrongly signed for a version the node understands is rejected as before.
#[test]
fn messages_of_a_newer_version_are_set_aside_without_penalty() {
    use crate::checkpoint::CheckpointError as C;
    use crate::governance::GovernanceError as G;
    use crate::record::RecordError as R;
    let records: Vec<(R, Received)> = vec![
        (R::UnknownKind(11), Received::NotUnderstood),
        (
            R::KeyNotValid {
                author: "a".into(),
                member: "KZ".into(),
                seq: 9,
                last_seq: 8,
            },
            Received::Refused,
        ),
        (R::BadSignature("a".into()), Received::Invalid),
        (
            R::BadHeaderField {
                field: "kind",
                problem: "0 is no kind".into(),
            },
            Received::Invalid,
        ),
        (R::UnknownAuthor("a".into()), Received::Invalid),
        (R::BodyHashMismatch, Received::Invalid),
    ];
    for (e, r) in &records {
        assert_eq!(Received::of_refusal(e), *r, "{e}");
    }
    assert_eq!(
        gossip_verdict(Received::of_refusal(&R::UnknownKind(11))),
        GossipVerdict::Ignore
    );
    let checkpoints: Vec<(Result<bool, C>, GossipVerdict)> = vec![
        (Ok(true), GossipVerdict::Accept),
        (Ok(false), GossipVerdict::Ignore),
        (
            Err(C::NewerVersion {
                version: 3,
                understood: 2,
            }),
            GossipVerdict::Ignore,
        ),
        (Err(C::RevokedSigner("k".into())), GossipVerdict::Ignore),
        (Err(C::BadSignature("k".into())), GossipVerdict::Reject),
        (Err(C::Malformed("m".into())), GossipVerdict::Reject),
        (Err(C::OldVersion(1)), GossipVerdict::Reject),
        (Err(C::UnknownSigner("k".into())), GossipVerdict::Reject),
        (Err(C::WrongNetwork("n".into())), GossipVerdict::Reject),
        (Err(C::TooLarge(1 << 20)), GossipVerdict::Reject),
    ];
    for (r, v) in checkpoints {
        assert_eq!(checkpoint_verdict(r.as_ref().copied()), v, "{r:?}");
    }
    let decisions: Vec<(Result<bool, G>, GossipVerdict)> = vec![
        (Ok(true), GossipVerdict::Accept),
        (Ok(false), GossipVerdict::Ignore),
        (Err(G::UnknownAction { field: 18 }), GossipVerdict::Ignore),
        (
            Err(G::QuorumNotMet { have: 1, need: 2 }),
            GossipVerdict::Reject,
        ),
        (Err(G::BadSignature("k".into())), GossipVerdict::Reject),
        (Err(G::Malformed("m".into())), GossipVerdict::Reject),
    ];
    for (r, v) in decisions {
        assert_eq!(decision_verdict(r.as_ref().copied()), v, "{r:?}");
    }
}
