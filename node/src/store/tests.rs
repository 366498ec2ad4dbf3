//! Store behaviour: durability across reopen, refusals that change nothing, schema checks and
//! index rebuilds. One fixture builds a data dir; `check_unchanged` asserts a refusal wrote nothing.

use std::collections::BTreeMap;

use hubnet_protocol::charter::{CharterDoc, MemberDoc};
use std::sync::Arc;

use hubnet_protocol::{Draft, DraftFormat};

use super::*;

pub(super) const NOW: i64 = 1_800_000_000_000;

pub(super) struct Fixture {
    _dir: tempfile::TempDir,
    pub(super) path: PathBuf,
    pub(super) keys: Vec<SecretKey>,
}

pub(super) fn fixture() -> (Fixture, Store) {
    fixture_with_rate(hubnet_protocol::Limits::DEFAULT.max_records_per_hour)
}

/// The fixture with a charter that allows `per_hour` records per key per hour (0: no limit).
fn fixture_with_rate(per_hour: u64) -> (Fixture, Store) {
    fixture_with(|doc| doc.limits.max_records_per_hour = per_hour)
}

/// The fixture with its charter's content changed by `edit` before it is signed.
fn fixture_with(edit: impl FnOnce(&mut CharterDoc)) -> (Fixture, Store) {
    let keys: Vec<SecretKey> = (1..=3).map(|i| SecretKey::from_seed([i; 32])).collect();
    let committee = SecretKey::from_seed([50; 32]);
    let mut doc = CharterDoc::new("Store test", 1);
    edit(&mut doc);
    for (code, key) in ["KZ", "UZ", "HUB"].iter().zip(&keys) {
        doc.members.push(MemberDoc {
            code: (*code).into(),
            publishing_key: key.public_key().to_hex(),
            name: BTreeMap::from([("en".into(), (*code).into())]),
        });
    }
    doc.committee.keys.push(committee.public_key().to_hex());
    doc.sign(&committee).expect("signs");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("data");
    let store = Store::init(&path, &doc.to_toml()).expect("init");
    (
        Fixture {
            _dir: dir,
            path,
            keys,
        },
        store,
    )
}

fn body(title: &str) -> Body {
    let json = format!(
        r#"{{"kind":"practice","title":{{"ru":"{title}"}},"summary":{{"en":"s"}},"topics":["pay"]}}"#
    );
    Draft::parse(&json, DraftFormat::Json)
        .expect("parses")
        .to_body("KZ", &hubnet_protocol::Rules::template())
        .expect("valid")
}

pub(super) fn retraction(target: RecordId) -> Body {
    let json =
        format!(r#"{{"kind":"retraction","target":"{target}","reason":{{"en":"withdrawn"}}}}"#);
    Draft::parse(&json, DraftFormat::Json)
        .expect("parses")
        .to_body("KZ", &hubnet_protocol::Rules::template())
        .expect("valid")
}

/// Signs without storing, as another node would have.
fn signed_elsewhere(store: &Store, key: &SecretKey, position: Position, title: &str) -> Record {
    signed_at(store, key, position, title, NOW)
}

/// [`signed_elsewhere`] at time `at`.
fn signed_at(store: &Store, key: &SecretKey, position: Position, title: &str, at: i64) -> Record {
    let s = record::sign(
        key,
        store.charter().network_id(),
        position,
        at,
        &body(title),
    );
    record::verify_record(&s.encode(), store.charter(), at).expect("valid")
}

fn snapshot(store: &Store) -> (u64, u64, Vec<(PublicKey, ChainHead)>) {
    (
        store.journal.len(),
        store.record_count().expect("count"),
        store.heads().expect("heads"),
    )
}

fn check_unchanged(store: &mut Store, records: &[Record], expected: Outcome) {
    let before = snapshot(store);
    let outcomes = store.append(records).expect("append runs");
    assert_eq!(outcomes.last(), Some(&expected));
    assert_eq!(
        snapshot(store),
        before,
        "a refused record changed the store"
    );
}

#[test]
fn published_records_survive_reopen() {
    let (f, mut store) = fixture();
    let a = store
        .publish(&f.keys[0], &body("Первая"), NOW)
        .expect("publishes");
    let b = store
        .publish(&f.keys[0], &body("Вторая"), NOW - 5)
        .expect("publishes");
    assert_eq!((a.header.seq, b.header.seq), (1, 2));
    assert_eq!(b.header.prev, Some(a.id));
    assert_eq!(
        b.header.created_at, NOW,
        "time never goes backwards within a log"
    );
    drop(store);
    let store = Store::open(&f.path).expect("reopens");
    assert_eq!(store.record_count().expect("count"), 2);
    assert_eq!(
        store.log(&f.keys[0].public_key(), 1).expect("log"),
        vec![(1, a.id), (2, b.id)]
    );
    assert_eq!(store.get(&b.id).expect("reads"), Some(b.clone()));
    assert_eq!(store.get_signed(&a.id).expect("reads"), Some(a.signed));
}

/// A staged group is invisible until it is finished: the journal's length, the count, the heads,
/// the log and the record itself stay as they were, so readers let in during its `fdatasync`
/// see the store before it. Another group cannot be staged meanwhile.
#[test]
fn a_staged_group_is_seen_by_nobody_until_it_is_finished() {
    let (f, mut store) = fixture();
    let a = signed_elsewhere(&store, &f.keys[0], Position::FIRST, "Первая");
    let b = signed_elsewhere(&store, &f.keys[1], Position::FIRST, "Вторая");
    store.append(std::slice::from_ref(&a)).expect("stores");
    let before = snapshot(&store);
    let staged = store.stage(std::slice::from_ref(&b)).expect("stages");
    let file = fs::metadata(f.path.join(JOURNAL_FILE))
        .expect("journal")
        .len();
    assert!(file > before.0, "the group is written to the file");
    assert_eq!(snapshot(&store), before, "and seen by nobody");
    assert_eq!(store.get(&b.id).expect("reads"), None);
    assert_eq!(store.log(&f.keys[1].public_key(), 1).expect("log"), vec![]);
    assert_eq!(store.signed_from(before.0, 10).expect("reads").0.len(), 0);
    let c = signed_elsewhere(&store, &f.keys[2], Position::FIRST, "Третья");
    assert!(matches!(
        store.stage(std::slice::from_ref(&c)),
        Err(StoreError::Journal(JournalError::GroupInFlight(_)))
    ));
    staged.sync().expect("syncs");
    let outcomes = store.finish(staged, Ok(())).expect("finishes");
    assert_eq!(outcomes, vec![Outcome::Stored]);
    assert_eq!(store.journal.len(), file);
    assert_eq!(store.record_count().expect("count"), 2);
    assert_eq!(store.get(&b.id).expect("reads"), Some(b.clone()));
    drop(store);
    let store = Store::open(&f.path).expect("reopens");
    assert_eq!(store.record_count().expect("count"), 2);
}

/// A group whose `fdatasync` failed is cut off the journal and answered with the failure:
/// nothing of it is visible, and the next group is written where it was.
#[test]
fn a_group_whose_sync_failed_is_cut_off_and_the_next_takes_its_place() {
    let (f, mut store) = fixture();
    let a = signed_elsewhere(&store, &f.keys[0], Position::FIRST, "Первая");
    let before = snapshot(&store);
    let staged = store.stage(std::slice::from_ref(&a)).expect("stages");
    let failed = std::io::Error::other("the disk went away");
    let finished = store.finish(
        staged,
        Err(JournalError::Io {
            path: f.path.join(JOURNAL_FILE),
            cause: failed,
        }),
    );
    assert!(matches!(
        finished,
        Err(StoreError::Journal(JournalError::Io { .. }))
    ));
    assert_eq!(snapshot(&store), before);
    assert_eq!(
        fs::metadata(f.path.join(JOURNAL_FILE))
            .expect("journal")
            .len(),
        before.0,
        "the group is cut off the file"
    );
    assert_eq!(store.get(&a.id).expect("reads"), None);
    let outcomes = store.append(std::slice::from_ref(&a)).expect("stores");
    assert_eq!(outcomes, vec![Outcome::Stored]);
    assert_eq!(
        store.locate(&a.id).expect("reads").map(|l| l.offset),
        Some(before.0)
    );
    drop(store);
    let store = Store::open(&f.path).expect("reopens");
    assert_eq!(store.record_count().expect("count"), 1);
    assert_eq!(store.get(&a.id).expect("reads"), Some(a));
}

#[test]
fn batch_stores_in_order_and_names_duplicates_and_forks() {
    let (f, mut store) = fixture();
    let a1 = signed_elsewhere(&store, &f.keys[1], Position::FIRST, "a1");
    let a2 = signed_elsewhere(&store, &f.keys[1], Position::after(&a1), "a2");
    let fork = signed_elsewhere(&store, &f.keys[1], Position::after(&a1), "a2 fork");
    let outcomes = store
        .append(&[a1.clone(), a2.clone(), a2.clone(), fork.clone()])
        .expect("appends");
    assert_eq!(
        outcomes[..3],
        [Outcome::Stored, Outcome::Stored, Outcome::AlreadyStored]
    );
    assert!(matches!(
        outcomes[3],
        Outcome::Refused(ChainError::SeqRepeated { seq: 2, .. })
    ));
    assert_eq!(
        store.append(&[a1]).expect("appends"),
        vec![Outcome::AlreadyStored]
    );
    assert_eq!(store.record_count().expect("count"), 2);
}

#[test]
fn chain_refusals_change_nothing() {
    let (f, mut store) = fixture();
    let a1 = store
        .publish(&f.keys[0], &body("a1"), NOW)
        .expect("publishes");
    let gap = signed_elsewhere(
        &store,
        &f.keys[0],
        Position {
            seq: 3,
            ..Position::after(&a1)
        },
        "gap",
    );
    check_unchanged(
        &mut store,
        &[gap],
        Outcome::Refused(ChainError::SeqGap {
            author: f.keys[0].public_key().to_hex(),
            expected: 2,
            got: 3,
        }),
    );
    let wrong_prev = signed_elsewhere(
        &store,
        &f.keys[0],
        Position {
            prev: Some(RecordId([1; 32])),
            ..Position::after(&a1)
        },
        "p",
    );
    let got = store.append(&[wrong_prev]).expect("runs");
    assert!(matches!(
        got[0],
        Outcome::Refused(ChainError::WrongPrev { .. })
    ));
    let fork = signed_elsewhere(&store, &f.keys[0], Position::FIRST, "fork");
    let before = snapshot(&store);
    assert!(matches!(
        store.append(&[fork]).expect("runs")[0],
        Outcome::Refused(ChainError::SeqRepeated { .. })
    ));
    assert_eq!(snapshot(&store), before);
}

#[test]
fn retraction_targets_are_checked() {
    let (f, mut store) = fixture();
    let mine = store
        .publish(&f.keys[0], &body("mine"), NOW)
        .expect("publishes");
    let theirs = store
        .publish(&f.keys[1], &body("theirs"), NOW)
        .expect("publishes");
    assert!(matches!(
        store.publish(&f.keys[0], &retraction(theirs.id), NOW),
        Err(StoreError::Chain(ChainError::TargetNotFound(_)))
    ));
    let r = store
        .publish(&f.keys[0], &retraction(mine.id), NOW)
        .expect("retracts");
    assert!(store.is_retracted(&mine.id).expect("reads"));
    assert!(matches!(
        store.publish(&f.keys[0], &retraction(mine.id), NOW),
        Err(StoreError::Chain(ChainError::TargetRetracted(_)))
    ));
    assert!(matches!(
        store.publish(&f.keys[0], &retraction(r.id), NOW),
        Err(StoreError::Chain(ChainError::TargetNotOriginal(
            _,
            "retraction"
        )))
    ));
}

#[test]
fn outsider_cannot_publish() {
    let (_f, mut store) = fixture();
    let outsider = SecretKey::from_seed([77; 32]);
    assert!(matches!(
        store.publish(&outsider, &body("x"), NOW),
        Err(StoreError::NotAMember(_))
    ));
    assert_eq!(store.record_count().expect("count"), 0);
}

#[test]
fn deleted_or_stale_index_is_rebuilt_from_the_journal() {
    let (f, mut store) = fixture();
    for i in 0..5 {
        store
            .publish(&f.keys[i % 2], &body(&format!("r{i}")), NOW)
            .expect("publishes");
    }
    let heads = store.heads().expect("heads");
    drop(store);
    fs::remove_dir_all(f.path.join(INDEX_DIR)).expect("removes index");
    let store = Store::open(&f.path).expect("reopens");
    assert_eq!(store.recovery().replayed, 5);
    assert_eq!(store.heads().expect("heads"), heads);
    assert_eq!(store.record_count().expect("count"), 5);
}

#[test]
fn unreadable_index_is_set_aside_and_rebuilt() {
    let (f, mut store) = fixture();
    store
        .publish(&f.keys[0], &body("r"), NOW)
        .expect("publishes");
    drop(store);
    let index = f.path.join(INDEX_DIR);
    fs::remove_dir_all(&index).expect("removes");
    fs::write(&index, b"not a directory").expect("writes");
    let store = Store::open(&f.path).expect("reopens");
    assert!(store.recovery().rebuilt_index);
    assert_eq!(store.record_count().expect("count"), 1);
}

#[test]
fn torn_journal_tail_is_dropped() {
    let (f, mut store) = fixture();
    store
        .publish(&f.keys[0], &body("kept"), NOW)
        .expect("publishes");
    drop(store);
    let journal = f.path.join(JOURNAL_FILE);
    let mut bytes = fs::read(&journal).expect("reads");
    bytes.extend_from_slice(&[200, 0, 0, 0, 1, 2]);
    fs::write(&journal, bytes).expect("writes");
    let mut store = Store::open(&f.path).expect("reopens");
    assert_eq!(store.recovery().torn_bytes, 6);
    store
        .publish(&f.keys[0], &body("after"), NOW)
        .expect("publishes");
    drop(store);
    assert_eq!(
        Store::open(&f.path)
            .expect("reopens")
            .record_count()
            .expect("count"),
        2
    );
}

#[test]
fn newer_or_unknown_schema_refuses_to_open() {
    let (f, store) = fixture();
    store
        .db
        .insert(index::META_SCHEMA, &(SCHEMA_VERSION + 1).to_be_bytes())
        .expect("writes");
    store.flush().expect("flushes");
    drop(store);
    assert!(matches!(
        Store::open(&f.path),
        Err(StoreError::SchemaTooNew { found }) if found == SCHEMA_VERSION + 1
    ));
    let db = open_sled(&f.path.join(INDEX_DIR)).expect("opens");
    db.insert(index::META_SCHEMA, b"??").expect("writes");
    db.flush().expect("flushes");
    drop(db);
    let err = Store::open(&f.path).expect_err("refuses");
    assert!(matches!(err, StoreError::UnknownSchema { .. }));
    assert!(err.to_string().contains("schema version"));
}

/// A lock held for a moment (a descriptor a forked child holds until it executes its program)
/// is waited for; one held for good is reported after the wait.
#[test]
fn a_data_dir_lock_held_for_a_moment_is_waited_for() {
    let (f, store) = fixture();
    drop(store);
    let held = std::fs::File::open(f.path.join(LOCK_FILE)).expect("lock file");
    held.lock().expect("locks");
    let release = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(200)); // how long the lock is held
        drop(held);
    });
    Store::open(&f.path).expect("opens once the moment has passed");
    release.join().expect("joins");
}

#[test]
fn second_process_is_locked_out_and_missing_dir_is_named() {
    let (f, _store) = fixture();
    assert!(matches!(Store::open(&f.path), Err(StoreError::Locked(_))));
    let missing = f.path.join("nope");
    let err = Store::open(&missing).expect_err("refuses");
    assert!(err.to_string().contains("hubnet init"), "{err}");
}

#[test]
fn logs_span_many_chunks_and_survive_rebuild() {
    let (f, mut store) = fixture();
    let mut records = vec![signed_elsewhere(&store, &f.keys[2], Position::FIRST, "0")];
    for i in 1..150 {
        let next_record = signed_elsewhere(
            &store,
            &f.keys[2],
            Position::after(&records[i - 1]),
            &i.to_string(),
        );
        records.push(next_record);
    }
    // Two group commits whose boundary falls inside a chunk.
    assert!(
        store
            .append(&records[..100])
            .expect("appends")
            .iter()
            .all(|o| *o == Outcome::Stored)
    );
    assert!(
        store
            .append(&records[100..])
            .expect("appends")
            .iter()
            .all(|o| *o == Outcome::Stored)
    );
    let author = f.keys[2].public_key();
    let expected: Vec<(u64, RecordId)> = records.iter().map(|r| (r.header.seq, r.id)).collect();
    assert_eq!(store.log(&author, 1).expect("log"), expected);
    assert_eq!(store.log(&author, 70).expect("log"), expected[69..]);
    assert_eq!(
        store.append(&records[99..100]).expect("appends"),
        vec![Outcome::AlreadyStored]
    );
    let fork = signed_elsewhere(&store, &f.keys[2], Position::after(&records[98]), "fork");
    assert!(matches!(
        store.append(&[fork]).expect("runs")[0],
        Outcome::Refused(ChainError::SeqRepeated { seq: 100, .. })
    ));
    drop(store);
    fs::remove_dir_all(f.path.join(INDEX_DIR)).expect("removes index");
    let store = Store::open(&f.path).expect("reopens");
    assert_eq!(store.log(&author, 1).expect("log"), expected);
    assert_eq!(store.head(&author).expect("head").map(|h| h.seq), Some(150));
}

#[test]
fn acknowledged_records_are_readable_before_the_index_writer_applies_them() {
    let (f, mut store) = fixture();
    let first = store
        .publish(&f.keys[0], &body("first"), NOW)
        .expect("publishes");
    store.flush().expect("flushes");
    let gate = Arc::clone(&store.writer.gate);
    let held = gate.lock().expect("gate");
    // The writer is stuck before applying anything new: all of this is served from the overlay.
    // (Two group commits: the writer's queue is bounded, so more would wait for the gate.)
    let mut chain = vec![first.clone()];
    for i in 0..70 {
        let r = signed_elsewhere(
            &store,
            &f.keys[0],
            Position::after(&chain[i]),
            &format!("r{i}"),
        );
        chain.push(r);
    }
    assert!(
        store
            .append(&chain[1..])
            .expect("appends")
            .iter()
            .all(|o| *o == Outcome::Stored)
    );
    let retracting = store
        .publish(&f.keys[0], &retraction(first.id), NOW)
        .expect("retracts");
    let author = f.keys[0].public_key();
    assert_eq!(store.log(&author, 1).expect("log").len(), 72);
    assert_eq!(
        store.get(&chain[40].id).expect("reads").map(|r| r.id),
        Some(chain[40].id)
    );
    assert!(store.is_retracted(&first.id).expect("reads"));
    assert_eq!(
        store
            .append(std::slice::from_ref(&chain[65]))
            .expect("appends"),
        vec![Outcome::AlreadyStored]
    );
    let again_retracts = record::sign(
        &f.keys[0],
        store.charter().network_id(),
        Position::after(&retracting),
        NOW,
        &retraction(first.id),
    );
    let again_retracts =
        record::verify_record(&again_retracts.encode(), store.charter(), NOW).expect("valid");
    assert!(matches!(
        store.append(&[again_retracts]).expect("runs")[0],
        Outcome::Refused(ChainError::TargetRetracted(_))
    ));
    drop(held);
    store.flush().expect("writer catches up");
    assert!(
        store.writer.pending().ids.is_empty(),
        "applied entries leave the overlay"
    );
    assert_eq!(store.log(&author, 1).expect("log").len(), 72);
    drop(store);
    let store = Store::open(&f.path).expect("reopens");
    assert_eq!(
        store.recovery().replayed,
        0,
        "the writer applied everything before close"
    );
    assert_eq!(
        store.get(&retracting.id).expect("reads").map(|r| r.id),
        Some(retracting.id)
    );
}

#[test]
fn decisions_and_checkpoints_survive_reopen_and_a_revoked_keys_checkpoints_are_dropped() {
    use hubnet_protocol::checkpoint::{self, Conflict};
    use hubnet_protocol::governance::{self, Action};

    use crate::test_support::signed_decision;
    use hubnet_protocol::sync::HeadRef;

    let (f, mut store) = fixture();
    let (kz, uz) = (&f.keys[0], &f.keys[1]);
    let heads = |id: u8| {
        BTreeMap::from([(
            kz.public_key(),
            HeadRef {
                seq: 1,
                id: RecordId([id; 32]),
            },
        )])
    };
    let cp = |store: &Store, key: &SecretKey, time: i64, id: u8| {
        let signed = checkpoint::sign(key, store.charter(), "peer", time, &heads(id), &(0, vec![]));
        checkpoint::verify(&signed, store.charter()).expect("verifies")
    };
    let by_kz = cp(&store, kz, NOW, 1);
    assert_eq!(
        store.add_checkpoint(by_kz.clone()).expect("adds"),
        CheckpointOutcome::Newer
    );
    assert_eq!(
        store.add_checkpoint(cp(&store, uz, NOW, 1)).expect("adds"),
        CheckpointOutcome::Newer
    );
    let conflict = Conflict::Equivocation {
        author: kz.public_key(),
        seq: 1,
        first: RecordId([1; 32]),
        second: RecordId([2; 32]),
    };
    assert_eq!(
        store
            .add_checkpoint(cp(&store, uz, NOW + 1, 2))
            .expect("adds"),
        CheckpointOutcome::Conflict(vec![conflict.clone()])
    );
    drop(store);
    let mut store = Store::open(&f.path).expect("reopens");
    assert_eq!(store.checkpoints().count(), 2);
    assert_eq!(store.checkpoint_conflicts().len(), 1);
    assert_eq!(store.checkpoint_conflicts()[0].conflicts, vec![conflict]);

    // The committee revokes UZ's key: whoever holds it may sign anything, so its checkpoints stop
    // being evidence, now and after a restart.
    let committee = SecretKey::from_seed([50; 32]);
    let revoke = Action::RevokeKey {
        key: uz.public_key(),
        last_valid_seq: 0,
    };
    let signed = signed_decision(store.charter(), 1, None, revoke, &[committee]);
    let d = governance::verify_decision(&signed, store.charter()).expect("a valid decision");
    let changed = store.add_decision(d.clone()).expect("stores").expect("new");
    assert_eq!(changed, vec![(uz.public_key(), None, Some(0))]);
    assert_eq!(store.add_decision(d).expect("stores"), None, "held already");
    let left = |store: &Store| store.checkpoints().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(left(&store), vec![by_kz.id]);
    assert!(store.checkpoint_conflicts().is_empty());
    drop(store);
    let store = Store::open(&f.path).expect("reopens");
    assert_eq!(store.governance().decisions().len(), 1);
    assert!(store.charter().key_revoked(&uz.public_key()));
    assert_eq!(left(&store), vec![by_kz.id]);
    assert!(store.checkpoint_conflicts().is_empty());
}

#[test]
fn the_rate_rule_refuses_records_over_the_limit_before_and_after_reopen() {
    const HOUR: i64 = hubnet_protocol::chain::RATE_WINDOW_MS;
    let (f, mut store) = fixture_with_rate(2);
    let key = &f.keys[0];
    store.publish(key, &body("1"), NOW).expect("first");
    let second = store.publish(key, &body("2"), NOW + 1_000).expect("second");
    // The third within the hour is refused before anything is signed or written.
    let before = snapshot(&store);
    let refused = store.publish(key, &body("3"), NOW + 2_000);
    assert!(
        matches!(
            refused,
            Err(StoreError::Chain(ChainError::RateExceeded {
                seq: 3,
                limit: 2,
                earlier_seq: 1,
                next_allowed,
                ..
            })) if next_allowed == NOW + HOUR
        ),
        "{refused:?}"
    );
    assert_eq!(snapshot(&store), before);
    // The same record signed elsewhere (a stolen key) is refused by append, from the recent
    // times and, after a reopen, from the journal.
    let stolen = signed_at(&store, key, Position::after(&second), "3", NOW + 2_000);
    let over = |e: &Outcome| matches!(e, Outcome::Refused(ChainError::RateExceeded { .. }));
    let outcomes = store.append(std::slice::from_ref(&stolen)).expect("runs");
    assert!(over(&outcomes[0]), "{outcomes:?}");
    drop(store);
    let mut store = Store::open(&f.path).expect("reopens");
    let outcomes = store.append(std::slice::from_ref(&stolen)).expect("runs");
    assert!(over(&outcomes[0]), "{outcomes:?}");
    assert_eq!(snapshot(&store), before);
    // Within one group commit too: records placed earlier in the batch count.
    let other = &f.keys[1];
    let a = signed_at(&store, other, Position::FIRST, "a", NOW);
    let b = signed_at(&store, other, Position::after(&a), "b", NOW);
    let c = signed_at(&store, other, Position::after(&b), "c", NOW + HOUR - 1);
    let outcomes = store.append(&[a, b, c]).expect("runs");
    assert_eq!(&outcomes[..2], &[Outcome::Stored, Outcome::Stored]);
    assert!(over(&outcomes[2]), "{outcomes:?}");
    // An hour after the first record, the next one is taken.
    let third = store
        .publish(key, &body("3"), NOW + HOUR)
        .expect("an hour later");
    assert_eq!(third.header.seq, 3);
}

/// An institution a body names must be an institution record the store holds, any member's;
/// within one group commit, one placed earlier counts.
#[test]
fn named_institutions_must_be_held_institution_records() {
    let (f, mut store) = fixture();
    let draft = |json: serde_json::Value, member: &str| {
        Draft::parse(&json.to_string(), DraftFormat::Json)
            .expect("parses")
            .to_body(member, &hubnet_protocol::Rules::template())
            .expect("valid")
    };
    let institution = store
        .publish(
            &f.keys[1],
            &draft(
                serde_json::json!({"kind": "institution", "name": {"en": "Agency"}, "type": "ministry"}),
                "UZ",
            ),
            NOW,
        )
        .expect("published");
    let naming = |id: RecordId| {
        draft(
            serde_json::json!({"kind": "practice", "title": {"en": "P"}, "summary": {"en": "S"},
                               "topics": ["pay"], "institution_ids": [id.to_hex()]}),
            "KZ",
        )
    };
    // Another member's institution: stored.
    store
        .publish(&f.keys[0], &naming(institution.id), NOW + 1)
        .expect("names an institution");
    // A record that is not an institution, and one the store does not hold.
    let practice = store
        .publish(&f.keys[0], &body("plain"), NOW + 2)
        .expect("published");
    let err = store.publish(&f.keys[0], &naming(practice.id), NOW + 3);
    assert!(
        matches!(
            err,
            Err(StoreError::Chain(ChainError::NotAnInstitution {
                kind: "practice",
                ..
            }))
        ),
        "{err:?}"
    );
    let unknown = RecordId([9; 32]);
    let err = store.publish(&f.keys[0], &naming(unknown), NOW + 4);
    assert!(
        matches!(
            err,
            Err(StoreError::Chain(ChainError::ReferenceNotFound { reference, .. })) if reference == unknown
        ),
        "{err:?}"
    );
    // In one group: an institution, then a record naming it.
    let inst = record::sign(
        &f.keys[2],
        store.charter().network_id(),
        Position::FIRST,
        NOW + 5,
        &draft(
            serde_json::json!({"kind": "institution", "name": {"en": "School"}, "type": "university"}),
            "HUB",
        ),
    );
    let inst = record::verify_record(&inst.encode(), store.charter(), NOW + 5).expect("valid");
    let head = store
        .head(&f.keys[0].public_key())
        .expect("head")
        .expect("a head");
    let next = record::sign(
        &f.keys[0],
        store.charter().network_id(),
        Position {
            seq: head.seq + 1,
            prev: Some(head.id),
            prev_created_at: head.created_at,
        },
        NOW + 6,
        &naming(inst.id),
    );
    let next = record::verify_record(&next.encode(), store.charter(), NOW + 6).expect("valid");
    assert_eq!(
        store.append(&[inst, next]).expect("appends"),
        vec![Outcome::Stored, Outcome::Stored]
    );
}

/// A confirmation needs its programme and its version held (in the store or earlier in the same
/// group), the version must be the programme or its amendment and list the confirming member;
/// a confirmation can be retracted (a withdrawal) but not amended; the state derived from the
/// store follows, and survives a reopen.
#[test]
fn confirmations_need_their_programme_and_a_version_that_lists_their_author() {
    let (f, mut store) = fixture();
    let draft = |json: serde_json::Value, member: &str| {
        Draft::parse(&json.to_string(), DraftFormat::Json)
            .expect("parses")
            .to_body(member, &hubnet_protocol::Rules::template())
            .expect("valid")
    };
    let programme = |participants: serde_json::Value| {
        draft(
            serde_json::json!({"kind": "programme", "title": {"en": "P"},
                "description": {"en": "D"}, "participants": participants,
                "status": "pipeline", "planned_start": "2027-01-01"}),
            "HUB",
        )
    };
    let both = programme(serde_json::json!([
        {"member": "HUB", "roles": ["lead"]}, {"member": "KZ", "roles": ["funding"]}
    ]));
    // Signed by hand, so that KZ's confirmation can arrive first.
    let p = record::sign(
        &f.keys[2],
        store.charter().network_id(),
        Position::FIRST,
        NOW,
        &both,
    );
    let p = record::verify_record(&p.encode(), store.charter(), NOW).expect("valid");
    let confirm = |programme: RecordId, version: RecordId| {
        draft(
            serde_json::json!({"kind": "confirmation", "programme": programme.to_hex(),
                               "version": version.to_hex()}),
            "KZ",
        )
    };
    let c = record::sign(
        &f.keys[0],
        store.charter().network_id(),
        Position::FIRST,
        NOW + 1,
        &confirm(p.id, p.id),
    );
    let c = record::verify_record(&c.encode(), store.charter(), NOW + 1).expect("valid");
    let out = store.append(std::slice::from_ref(&c)).expect("append");
    assert!(
        matches!(&out[..], [Outcome::Refused(ChainError::ReferenceNotFound { field, .. })] if field == "programme"),
        "{out:?}"
    );
    // The programme, then the confirmation, in one group: both stored.
    let out = store.append(&[p.clone(), c.clone()]).expect("append");
    assert_eq!(out, vec![Outcome::Stored, Outcome::Stored]);
    assert_eq!(store.confirmations(&p.id).expect("index"), vec![c.id]);
    let state = |store: &Store| {
        crate::programmes::Held::read(store, &p.id)
            .expect("read")
            .and_then(|h| h.derived())
            .map(|d| d.state.name())
    };
    assert_eq!(state(&store), Some("confirmed"));
    // UZ is not a participant; a practice is not a version; an unknown version is not held.
    let uz = draft(
        serde_json::json!({"kind": "confirmation", "programme": p.id.to_hex(), "version": p.id.to_hex()}),
        "UZ",
    );
    let err = store.publish(&f.keys[1], &uz, NOW + 2);
    assert!(
        matches!(&err, Err(StoreError::Chain(ChainError::NotAParticipant { member, .. })) if member == "UZ"),
        "{err:?}"
    );
    let practice = store
        .publish(&f.keys[0], &body("plain"), NOW + 3)
        .expect("published");
    let err = store.publish(&f.keys[0], &confirm(p.id, practice.id), NOW + 4);
    assert!(
        matches!(err, Err(StoreError::Chain(ChainError::NotAVersion { .. }))),
        "{err:?}"
    );
    let err = store.publish(&f.keys[0], &confirm(p.id, RecordId([7; 32])), NOW + 5);
    assert!(
        matches!(&err, Err(StoreError::Chain(ChainError::ReferenceNotFound { field, .. })) if field == "version"),
        "{err:?}"
    );
    // A confirmation cannot be amended; it can be retracted: KZ withdraws.
    let err = store.publish(
        &f.keys[0],
        &draft(
            serde_json::json!({"kind": "erasure", "target": c.id.to_hex(), "ground": "unlawful"}),
            "KZ",
        ),
        NOW + 6,
    );
    assert!(
        matches!(
            err,
            Err(StoreError::Chain(ChainError::TargetNotOriginal(
                _,
                "confirmation"
            )))
        ),
        "{err:?}"
    );
    store
        .publish(
            &f.keys[0],
            &draft(
                serde_json::json!({"kind": "retraction", "target": c.id.to_hex(),
                                   "reason": {"en": "KZ withdraws."}}),
                "KZ",
            ),
            NOW + 7,
        )
        .expect("a withdrawal");
    assert!(store.retraction_of(&c.id).expect("index").is_some());
    assert_eq!(state(&store), Some("proposed"));
    // The index keeps it all across a reopen, and a rebuilt index too.
    drop(store);
    let store = Store::open(&f.path).expect("reopen");
    assert_eq!(store.confirmations(&p.id).expect("index"), vec![c.id]);
    assert_eq!(state(&store), Some("proposed"));
    drop(store);
    std::fs::remove_dir_all(f.path.join("index")).expect("remove the index");
    let store = Store::open(&f.path).expect("rebuilt");
    assert_eq!(store.confirmations(&p.id).expect("index"), vec![c.id]);
    assert_eq!(state(&store), Some("proposed"));
}

#[test]
fn a_group_publish_is_one_commit_in_seq_order() {
    let (f, mut store) = fixture();
    let key = &f.keys[0];
    let first = store.publish(key, &body("first"), NOW).expect("first");
    let syncs = store.journal_syncs();
    let bodies: Vec<Body> = (0..5).map(|i| body(&format!("group {i}"))).collect();
    let refs: Vec<&Body> = bodies.iter().collect();
    let results = store.publish_group(key, &refs, NOW + 1_000);
    assert_eq!(store.journal_syncs(), syncs + 1, "one write and fdatasync");
    let records: Vec<Record> = results.into_iter().map(|r| r.expect("stored")).collect();
    let mut prev = first;
    for (r, b) in records.iter().zip(&bodies) {
        assert_eq!(&r.body, b, "in the order given");
        assert_eq!(r.header.seq, prev.header.seq + 1);
        assert_eq!(r.header.prev, Some(prev.id));
        assert_eq!(r.header.created_at, NOW + 1_000);
        prev = r.clone();
    }
    // Durable: a reopened store holds them all, the head at the last.
    let heads = store.heads().expect("heads");
    drop(store);
    let store = Store::open(&f.path).expect("reopens");
    assert_eq!(store.record_count().expect("count"), 6);
    assert_eq!(store.heads().expect("heads"), heads);
    assert_eq!(
        store.head(&key.public_key()).expect("head").map(|h| h.id),
        Some(prev.id)
    );
}

#[test]
fn a_refused_body_of_a_group_takes_no_seq() {
    let (f, mut store) = fixture();
    let key = &f.keys[0];
    let nowhere = RecordId([9; 32]);
    let bodies = [
        body("a"),
        retraction(nowhere), // refused by the log: no such target
        body("b"),
        body("c"),
    ];
    let refs: Vec<&Body> = bodies.iter().collect();
    let results = store.publish_group(key, &refs, NOW);
    assert_eq!(results.len(), 4);
    assert!(
        matches!(
            &results[1],
            Err(StoreError::Chain(ChainError::TargetNotFound(_)))
        ),
        "{:?}",
        results[1]
    );
    let seqs: Vec<u64> = [0, 2, 3]
        .iter()
        .map(|i| results[*i].as_ref().expect("stored").header.seq)
        .collect();
    assert_eq!(seqs, [1, 2, 3], "the refused body took no seq");
    let stored: Vec<&Record> = [0, 2, 3]
        .iter()
        .filter_map(|i| results[*i].as_ref().ok())
        .collect();
    assert_eq!(stored[1].header.prev, Some(stored[0].id));
    assert_eq!(stored[2].header.prev, Some(stored[1].id));
    assert_eq!(store.record_count().expect("count"), 3);
    // Nothing signed for the refused body is held anywhere: the log is the three.
    let log: Vec<RecordId> = store
        .log(&key.public_key(), 1)
        .expect("log")
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    assert_eq!(log, stored.iter().map(|r| r.id).collect::<Vec<_>>());
}

#[test]
fn a_group_publish_keeps_to_the_rate_rule_and_the_record_size() {
    // The rate rule counts the records signed earlier in the same group.
    let (f, mut store) = fixture_with_rate(2);
    let key = &f.keys[0];
    let bodies = [body("1"), body("2"), body("3")];
    let refs: Vec<&Body> = bodies.iter().collect();
    let results = store.publish_group(key, &refs, NOW);
    assert!(results[0].is_ok() && results[1].is_ok(), "{results:?}");
    assert!(
        matches!(
            &results[2],
            Err(StoreError::Chain(ChainError::RateExceeded { seq: 3, .. }))
        ),
        "{:?}",
        results[2]
    );
    assert_eq!(store.record_count().expect("count"), 2);

    // A record over the charter's size is refused by the same check as a received one; the
    // bodies around it are stored.
    let (f, mut store) = fixture_with(|doc| {
        doc.limits.max_record_bytes = 1024;
        doc.limits.max_body_bytes = 4096;
    });
    let key = &f.keys[0];
    let big = {
        let json = format!(
            r#"{{"kind":"practice","title":{{"ru":"big"}},"summary":{{"en":"{}"}},"topics":["pay"]}}"#,
            "s".repeat(1500)
        );
        Draft::parse(&json, DraftFormat::Json)
            .expect("parses")
            .to_body("KZ", &hubnet_protocol::Rules::template())
            .expect("valid body")
    };
    let bodies = [body("small 1"), big, body("small 2")];
    let refs: Vec<&Body> = bodies.iter().collect();
    let results = store.publish_group(key, &refs, NOW);
    assert!(
        matches!(&results[1], Err(StoreError::Invalid(_))),
        "{:?}",
        results[1]
    );
    let seqs: Vec<u64> = [0, 2]
        .iter()
        .map(|i| results[*i].as_ref().expect("stored").header.seq)
        .collect();
    assert_eq!(seqs, [1, 2]);
}

#[test]
fn a_group_publish_by_an_outsider_stores_nothing() {
    let (_f, mut store) = fixture();
    let outsider = SecretKey::from_seed([77; 32]);
    let bodies = [body("x"), body("y")];
    let refs: Vec<&Body> = bodies.iter().collect();
    let before = snapshot(&store);
    let results = store.publish_group(&outsider, &refs, NOW);
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Err(StoreError::NotAMember(_))))
    );
    assert_eq!(snapshot(&store), before);
}

/// sled 0.34 reads the last `snap.` file by name when it opens an index, unfinished ones
/// (`snap.<lsn>.generating`, left by a full disk or a kill while a snapshot was written)
/// included, and reports an empty or torn one as a corrupt index (spacejam/sled#1527). Found
/// filling a disk with `hubnet publish`: each start after the disk filled set the index aside as
/// broken and tried to rebuild it on the full disk. The unfinished file is removed instead, and
/// the index opens from its last whole snapshot and log.
#[test]
fn an_unfinished_index_snapshot_is_removed_not_taken_for_a_corrupt_index() {
    let (f, mut store) = fixture();
    for i in 0..20 {
        store
            .publish(&f.keys[i % 2], &body(&format!("r{i}")), NOW)
            .expect("publishes");
    }
    let heads = store.heads().expect("heads");
    drop(store);
    let index = f.path.join(INDEX_DIR);
    // What a snapshot cut short leaves: named to sort after every whole one, empty or torn.
    for contents in [&b""[..], &[7u8; 40][..]] {
        let unfinished = index.join("snap.FFFFFFFFFFFFFFFF.generating");
        fs::write(&unfinished, contents).expect("writes");
        let store = Store::open(&f.path).expect("reopens");
        assert!(!store.recovery().rebuilt_index, "the index was rebuilt");
        assert_eq!(store.recovery().replayed, 0);
        assert_eq!(store.heads().expect("heads"), heads);
        assert_eq!(store.record_count().expect("count"), 20);
        assert!(!unfinished.exists());
        drop(store);
    }
    assert_eq!(set_aside(&f.path), 0);
}

/// An index sled cannot open for a reason outside it (a full disk, no permission, a read-only
/// file system) is left as it is and the open fails; anything else is set aside and rebuilt.
#[test]
fn only_an_index_that_is_itself_damaged_is_set_aside() {
    let os = |code| sled::Error::Io(std::io::Error::from_raw_os_error(code));
    for code in [28, 122, 30, 13, 1, 12, 24, 23] {
        assert!(outside_index(&os(code)), "errno {code}");
    }
    for code in [5, 20, 21, 2] {
        assert!(!outside_index(&os(code)), "errno {code}");
    }
    assert!(!outside_index(&sled::Error::Unsupported("x".into())));
    assert!(!outside_index(&sled::Error::ReportableBug("x".into())));
    assert!(outside_index(&sled::Error::Io(std::io::Error::other(
        "could not acquire lock on \"db\""
    ))));
}

/// An index whose sled lock another process holds (after the data dir's own lock was taken: a
/// tool opening the index by hand, say) is in use, not damaged: the open fails saying so and
/// sets nothing aside.
#[test]
fn an_index_sled_holds_elsewhere_is_in_use_not_broken() {
    let (f, store) = fixture();
    drop(store);
    let held = sled::open(f.path.join(INDEX_DIR)).expect("sled opens the index");
    match Store::open(&f.path) {
        Err(StoreError::Locked(dir)) => assert_eq!(dir, f.path),
        other => panic!("expected Locked, got {other:?}"),
    }
    drop(held);
    assert_eq!(set_aside(&f.path), 0);
    Store::open(&f.path).expect("opens once the lock is free");
}

/// How many indexes were set aside (`index.broken-N`) in data dir `dir`.
fn set_aside(dir: &Path) -> usize {
    fs::read_dir(dir)
        .expect("reads")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().contains("broken"))
        })
        .count()
}
