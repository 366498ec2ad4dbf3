//! Durability under SIGKILL: a loop of `hubnet publish` is killed at random moments; after each
//! kill the store is reopened and must hold every acknowledged record, with intact chains and no
//! seq signed twice.
//!
//! `HUBNET_KILLS` sets the number of kills (default 50; the soak in BENCHMARKS.md used more), and
//! `HUBNET_TEST_SEED` replays a run.

use std::collections::HashMap;
use std::io::Read;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use hubnet_node::store::Store;
use hubnet_protocol::{PublicKey, RecordId};

use crate::support::{Rng, hubnet, path, sample_data_dir, sample_key};

/// How one publish process ended.
enum End {
    Exited(Option<String>),
    Killed(Option<String>),
}

/// Waits for `child` until `deadline`, polling its exit status; kills it (SIGKILL) if it is still
/// running then. Returns the id it printed, if it printed a whole line.
fn run_until(mut child: Child, deadline: Instant) -> End {
    let killed = loop {
        match child.try_wait().expect("try_wait") {
            Some(_) => break false,
            None if Instant::now() >= deadline => {
                child.kill().expect("SIGKILL");
                break true;
            }
            None => std::thread::sleep(Duration::from_micros(200)), // poll interval of this deadline loop
        }
    };
    let status = child.wait().expect("reaped");
    let mut out = String::new();
    if let Some(mut s) = child.stdout.take() {
        s.read_to_string(&mut out).expect("reads stdout");
    }
    // Acknowledged means: a whole id line was printed (it is printed only after the fsync).
    let id = out
        .lines()
        .next()
        .filter(|l| l.len() == 64 && out.ends_with('\n'))
        .map(str::to_owned);
    if killed && !status.success() {
        End::Killed(id)
    } else {
        assert!(status.success(), "publish failed on its own: {status}");
        End::Exited(id)
    }
}

/// Checks one author's chain in an open store: contiguous from 1, each record linked to the one
/// before, each id once. Returns the ids by seq.
fn check_chain(store: &Store, author: &PublicKey) -> HashMap<RecordId, u64> {
    let log = store.log(author, 1).expect("log reads");
    let mut prev: Option<RecordId> = None;
    let mut seen = HashMap::new();
    for (i, (seq, id)) in log.iter().enumerate() {
        assert_eq!(*seq, i as u64 + 1, "chain has a gap");
        let r = store
            .get(id)
            .expect("reads")
            .expect("indexed record is in the journal");
        assert_eq!(r.header.seq, *seq);
        assert_eq!(r.header.prev, prev, "chain link broken at seq {seq}");
        assert!(seen.insert(*id, *seq).is_none(), "one record at two seqs");
        prev = Some(*id);
    }
    seen
}

/// Reopens the store (recovery runs) and checks every invariant against the acknowledged ids.
fn check_store(data: &std::path::Path, author: &PublicKey, acked: &HashMap<RecordId, ()>) -> u64 {
    let store = Store::open(data).expect("store reopens after SIGKILL");
    let seen = check_chain(&store, author);
    let log = store.log(author, 1).expect("log reads");
    for id in acked.keys() {
        assert!(seen.contains_key(id), "acknowledged record {id} was lost");
    }
    assert_eq!(store.record_count().expect("count"), log.len() as u64);
    log.len() as u64
}

#[test]
fn publish_loop_survives_sigkill() {
    let kills_wanted: u64 = std::env::var("HUBNET_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(50);
    let time_limit = Duration::from_secs(60 + kills_wanted);
    let started = Instant::now();
    let mut rng = Rng::from_env();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = sample_data_dir(dir.path());
    let key = sample_key("KZ");
    let draft = dir.path().join("draft.json");
    std::fs::write(
        &draft,
        r#"{"kind": "practice", "title": {"ru": "Наставничество", "en": "Mentoring"},
            "summary": {"en": "New civil servants are paired with mentors."}, "topics": ["training"]}"#,
    )
    .expect("writes draft");
    let author: PublicKey = {
        let store = Store::open(&data).expect("opens");
        store
            .charter()
            .member_by_code("KZ")
            .expect("KZ is a member")
            .key
    };
    let spawn = || {
        hubnet()
            .args([
                "publish",
                "--data-dir",
                path(&data),
                "--key",
                path(&key),
                path(&draft),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawns")
    };

    // Learn how long one publish takes, so kills land across all of its phases.
    let mut acked = HashMap::new();
    let mut durations = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        match run_until(spawn(), Instant::now() + Duration::from_secs(30)) {
            End::Exited(Some(id)) => {
                acked.insert(id.parse().expect("id"), ());
            }
            _ => panic!("a plain publish must succeed"),
        }
        durations.push(t.elapsed());
    }
    let span = durations
        .iter()
        .max()
        .copied()
        .unwrap_or(Duration::from_millis(20))
        * 2;

    let mut kills = 0;
    let mut runs = 0;
    while kills < kills_wanted {
        assert!(
            started.elapsed() < time_limit,
            "kill test overran its {time_limit:?} budget"
        );
        runs += 1;
        let delay = Duration::from_micros(rng.below(span.as_micros() as u64));
        let killed = match run_until(spawn(), Instant::now() + delay) {
            End::Exited(id) => {
                let id = id.expect("a publish that exits prints its id");
                acked.insert(id.parse().expect("id"), ());
                false
            }
            End::Killed(id) => {
                if let Some(id) = id {
                    acked.insert(id.parse().expect("id"), ());
                }
                true
            }
        };
        if killed {
            kills += 1;
            check_store(&data, &author, &acked);
        }
    }
    let len = check_store(&data, &author, &acked);
    eprintln!(
        "{runs} publish runs, {kills} checks after kills, {} acknowledged, log length {len}",
        acked.len()
    );
}

#[test]
fn import_survives_sigkill() {
    let kills_wanted: u64 = std::env::var("HUBNET_IMPORT_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(12);
    let started = Instant::now();
    let time_limit = Duration::from_secs(120 + 2 * kills_wanted);
    let mut rng = Rng::from_env();
    let dir = tempfile::tempdir().expect("tempdir");

    // A source node with 1,200 records from eight authors (three group commits), as a bundle.
    let source = dir.path().join("source");
    std::fs::create_dir(&source).expect("mkdir");
    let source_data = sample_data_dir(&source);
    let codes = ["HUB", "KZ", "KG", "TJ", "UZ", "AZ", "AM", "GE"];
    let total = 1200;
    crate::support::fill_store(&source_data, &codes, total);
    let bundle = dir.path().join("all.bundle");
    crate::support::ok(&[
        "export",
        "--data-dir",
        path(&source_data),
        "--out",
        path(&bundle),
    ]);

    let target = dir.path().join("target");
    std::fs::create_dir(&target).expect("mkdir");
    let data = sample_data_dir(&target);
    let authors: Vec<PublicKey> = {
        let store = Store::open(&data).expect("opens");
        codes
            .iter()
            .map(|c| store.charter().member_by_code(c).expect("member").key)
            .collect()
    };
    let spawn = || {
        hubnet()
            .args(["import", "--data-dir", path(&data), path(&bundle)])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawns")
    };
    // One timed import into a scratch copy tells how long a whole import takes.
    let t = Instant::now();
    let scratch = dir.path().join("scratch");
    std::fs::create_dir(&scratch).expect("mkdir");
    let scratch_data = sample_data_dir(&scratch);
    crate::support::ok(&["import", "--data-dir", path(&scratch_data), path(&bundle)]);
    let span = t.elapsed();

    let mut kills = 0;
    while kills < kills_wanted {
        assert!(
            started.elapsed() < time_limit,
            "import kill test overran its {time_limit:?} budget"
        );
        let delay = Duration::from_micros(rng.below(span.as_micros() as u64));
        if matches!(run_until(spawn(), Instant::now() + delay), End::Killed(_)) {
            kills += 1;
        }
        let store = Store::open(&data).expect("store reopens after SIGKILL");
        let stored: usize = authors.iter().map(|a| check_chain(&store, a).len()).sum();
        assert_eq!(store.record_count().expect("count"), stored as u64);
        if stored == total {
            // Everything is in: start again from an empty data dir so kills keep landing mid-import.
            drop(store);
            std::fs::remove_dir_all(&data).expect("removes");
            crate::support::init_data_dir(&data, &crate::support::sample().join("charter.toml"));
        }
    }
    let out = crate::support::ok(&["import", "--data-dir", path(&data), path(&bundle)]);
    assert!(out.contains(" 0 skipped"), "{out}");
    let store = Store::open(&data).expect("opens");
    let stored: usize = authors.iter().map(|a| check_chain(&store, a).len()).sum();
    assert_eq!(stored, total, "a finished import holds every record");
}

#[test]
fn erasure_survives_sigkill() {
    let kills_wanted: u64 = std::env::var("HUBNET_ERASE_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(20);
    // Each round spawns two publishes and reopens the store: about 2 s in a debug build.
    let time_limit = Duration::from_secs(60 + 4 * kills_wanted);
    let started = Instant::now();
    let mut rng = Rng::from_env();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = sample_data_dir(dir.path());
    let key = sample_key("KZ");
    let publish = |draft: &std::path::Path| {
        hubnet()
            .args([
                "publish",
                "--data-dir",
                path(&data),
                "--key",
                path(&key),
                path(draft),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawns")
    };
    let draft = dir.path().join("draft.json");
    let erasure = dir.path().join("erasure.json");
    // Each round: a practice with its own marker, published whole; then its erasure, killed at a
    // random moment. After each kill the store must hold the erasure if it was acknowledged, and
    // then the marker must be gone from the journal; without the erasure the body stays whole.
    let mut rounds: Vec<(RecordId, String, Option<RecordId>)> = Vec::new();
    let mut span = Duration::ZERO;
    let mut kills = 0;
    while kills < kills_wanted {
        assert!(
            started.elapsed() < time_limit,
            "erasure kill test overran its {time_limit:?} budget"
        );
        let marker = format!("qzkillmarker{}x", rounds.len());
        std::fs::write(
            &draft,
            format!(
                r#"{{"kind": "practice", "title": {{"en": "Profile {marker}"}},
                     "summary": {{"en": "Erased at once."}}, "topics": ["training"]}}"#
            ),
        )
        .expect("writes draft");
        let target: RecordId =
            match run_until(publish(&draft), Instant::now() + Duration::from_secs(30)) {
                End::Exited(Some(id)) => id.parse().expect("id"),
                _ => panic!("a plain publish must succeed"),
            };
        std::fs::write(
            &erasure,
            format!(
                r#"{{"kind": "erasure", "target": "{target}", "ground": "consent_withdrawn"}}"#
            ),
        )
        .expect("writes erasure");
        let t = Instant::now();
        // The first three run whole: how long an erasure takes, so kills land across it.
        let delay = if rounds.len() < 3 {
            Duration::from_secs(30)
        } else {
            Duration::from_micros(rng.below(span.as_micros() as u64))
        };
        let (acked, killed) = match run_until(publish(&erasure), Instant::now() + delay) {
            End::Exited(id) => (id.map(|i| i.parse().expect("id")), false),
            End::Killed(id) => (id.map(|i| i.parse().expect("id")), true),
        };
        if rounds.len() < 3 {
            assert!(acked.is_some(), "a plain erasure must succeed");
            span = span.max(t.elapsed() * 2);
        }
        rounds.push((target, marker, acked));
        if killed {
            kills += 1;
        }
        let store = Store::open(&data).expect("store reopens after SIGKILL");
        let journal = std::fs::read(data.join("records.journal")).expect("journal reads");
        let holds = |m: &str| journal.windows(m.len()).any(|w| w == m.as_bytes());
        for (target, marker, acked) in &rounds {
            let erased = store.erased_by(target).is_some();
            if acked.is_some() {
                assert!(erased, "acknowledged erasure of {target} was lost");
            }
            assert_eq!(
                holds(marker),
                !erased,
                "{target}: erased {erased}, yet the journal's copy of its body says otherwise"
            );
            let r = store.get(target).expect("reads").expect("the target stays");
            assert_eq!(r.body.is_erased(), erased);
        }
        assert!(
            !data.join("erasing").exists(),
            "opening leaves no erasure half done"
        );
    }
    let store = Store::open(&data).expect("opens");
    let erased = rounds
        .iter()
        .filter(|(t, _, _)| store.erased_by(t).is_some())
        .count();
    eprintln!(
        "{} erasure runs, {kills} killed, {} acknowledged, {erased} erased (the rest killed before their erasure was durable)",
        rounds.len(),
        rounds.iter().filter(|(_, _, a)| a.is_some()).count()
    );
}
