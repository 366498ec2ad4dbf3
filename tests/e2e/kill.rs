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
            // Poll interval of the wait loop above.
            None => std::thread::sleep(Duration::from_micros(200)),
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

/// Reopens the store (recovery runs) and checks every invariant against the acknowledged ids.
fn check_store(data: &std::path::Path, author: &PublicKey, acked: &HashMap<RecordId, ()>) -> u64 {
    let store = Store::open(data).expect("store reopens after SIGKILL");
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
