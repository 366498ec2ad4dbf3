//! Backup and restore (`hubnet backup`, `hubnet restore`, `hubnet verify` of a backup): a backup
//! taken from a running node under write load holds every record acknowledged before it started,
//! and a node restored from it elsewhere catches up with the network; the command line's checks
//! and refusals.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hubnet_node::store::Store;
use hubnet_protocol::RecordId;
use serde_json::Value;

use crate::net::{Net, practice};
use crate::support::{fill_store, hubnet, ok, path, poll_until, run, sample_data_dir};

/// Records published by the write load at most (the sample charter allows 1,000 per key and
/// hour).
const LOAD_CAP: usize = 400;

/// Records acknowledged by the load, each with the moment its 201 arrived.
type Acked = Arc<Mutex<Vec<(String, Instant)>>>;

/// Publishes practices on a node through `POST /api/v1/records` until `stop`, [`LOAD_CAP`]
/// records, or 120 s; every acknowledged id goes into `acked` with the moment it was
/// acknowledged.
fn write_load(
    http: String,
    token: String,
    stop: Arc<AtomicBool>,
    acked: Acked,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let deadline = Instant::now() + Duration::from_secs(120);
        for n in 0..LOAD_CAP {
            if stop.load(Ordering::Relaxed) || Instant::now() > deadline {
                return;
            }
            let r = client
                .post(format!("{http}/api/v1/records"))
                .bearer_auth(&token)
                .json(&practice(&format!("Written under backup, case {n}")))
                .send()
                .expect("POST");
            assert_eq!(r.status().as_u16(), 201, "publish under load");
            let body: Value = r.json().expect("json");
            let id = body["id"].as_str().expect("id").to_owned();
            acked.lock().expect("lock").push((id, Instant::now()));
        }
    })
}

/// The test: back up a node while a client writes to it, restore the backup elsewhere
/// and start it: every record acknowledged before the backup started is there at once (checked
/// offline, before the restored node can sync), and once it joins it catches up with the
/// network.
#[test]
fn a_backup_under_write_load_holds_every_acknowledged_record_and_the_restored_node_catches_up() {
    // A corpus of other members' records, so that the copy takes a while. Both nodes start
    // from a backup of it (made offline), made before their ports are chosen, so that the ports
    // stay free for as short a time as possible before the nodes take them.
    let scratch = tempfile::tempdir().expect("tempdir");
    let corpus = sample_data_dir(scratch.path());
    fill_store(&corpus, &["KG", "HUB", "GE"], 6_000);
    let seed = scratch.path().join("seed.tar");
    ok(&["backup", "--data-dir", path(&corpus), "--out", path(&seed)]);
    let mut net = Net::new(&["KZ", "UZ", "RESTORED"]);
    for i in 0..2 {
        ok(&[
            "restore",
            "--from",
            path(&seed),
            "--data-dir",
            path(&net.data(i)),
        ]);
    }
    net.start(0);
    net.start(1);
    with_logs(&net, || {
        net.wait_until(&[0, 1], Duration::from_secs(30), "peers", |s| {
            s.iter()
                .all(|v| v["peers"].as_array().is_some_and(|p| !p.is_empty()))
        });
    });

    let stop = Arc::new(AtomicBool::new(false));
    let acked: Acked = Arc::default();
    let load = write_load(
        net.nodes[0].http.clone(),
        net.nodes[0].token.clone(),
        stop.clone(),
        acked.clone(),
    );
    let count = |acked: &Acked| acked.lock().expect("lock").len();
    poll_until("the load's first records", Duration::from_secs(60), || {
        count(&acked) >= 20
    });

    let backup = net.dir.path().join("kz.tar");
    let started = Instant::now();
    let out = hubnet()
        .args(["backup", "--config", path(&net.nodes[0].config)])
        .args(["--out", path(&backup)])
        .output()
        .expect("hubnet backup runs");
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "hubnet backup: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let during = count(&acked);
    // The load goes on after the backup, then stops.
    poll_until("records after the backup", Duration::from_secs(60), || {
        count(&acked) >= during + 20 || count(&acked) == LOAD_CAP
    });
    stop.store(true, Ordering::Relaxed);
    load.join().expect("the load thread");
    let acked = acked.lock().expect("lock").clone();
    let before: Vec<&str> = acked
        .iter()
        .filter(|(_, at)| *at < started)
        .map(|(id, _)| id.as_str())
        .collect();
    eprintln!(
        "backup took {took:?}; {} records acknowledged before it started, {} while it ran, {} in all",
        before.len(),
        during - before.len(),
        acked.len()
    );
    assert!(before.len() >= 20);

    // The backup checks out, and names its member.
    let report: Value =
        serde_json::from_str(&ok(&["verify", path(&backup), "--json"])).expect("json");
    assert_eq!(report["kind"], "backup");
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["manifest"]["member"], "KZ");

    // Restored into node 2's dir: node 2 has its own config (its ports, its node key, no
    // publishing key) and bootstraps from node 0.
    let restored = ok(&[
        "restore",
        "--from",
        path(&backup),
        "--data-dir",
        path(&net.data(2)),
    ]);
    assert!(restored.contains("rebuilds them"), "{restored}");
    {
        // Before it can sync: every record acknowledged before the backup started is there.
        let store = Store::open(&net.data(2)).expect("the restored store opens");
        for id in &before {
            let id: RecordId = id.parse().expect("an id");
            assert!(
                store.get_signed(&id).expect("reads").is_some(),
                "{id} was acknowledged before the backup started, and the restored store lacks it"
            );
        }
        eprintln!(
            "restored store: {} records before joining",
            store.record_count().expect("count")
        );
    }

    let total = 6_000 + acked.len() as u64;
    with_logs(&net, || {
        net.wait_converged(&[0, 1], total, Duration::from_secs(120))
    });
    let joined = Instant::now();
    net.start(2);
    with_logs(&net, || {
        net.wait_converged(&[0, 1, 2], total, Duration::from_secs(120));
    });
    eprintln!("the restored node caught up in {:?}", joined.elapsed());
    for i in 0..3 {
        net.stop(i);
    }
}

/// The command line's checks: `hubnet verify` of a backup, a damaged one refused by verify and
/// restore naming the file, restore refusing a non-empty dir and a running node's.
#[test]
fn backup_files_are_verified_and_restore_refuses_damage_and_occupied_dirs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = sample_data_dir(dir.path());
    fill_store(&data, &["KZ", "UZ"], 200);
    let backup = dir.path().join("b.tar");
    let said = ok(&["backup", "--data-dir", path(&data), "--out", path(&backup)]);
    assert!(said.contains("backed up 200 records"), "{said}");
    let report: Value =
        serde_json::from_str(&ok(&["verify", path(&backup), "--json"])).expect("json");
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["store"]["records_read"], 200);

    // Refused: a second backup over the first, and a backup inside the data dir.
    let again = run(&["backup", "--data-dir", path(&data), "--out", path(&backup)]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    let inside = data.join("b.tar");
    let out = run(&["backup", "--data-dir", path(&data), "--out", path(&inside)]);
    assert!(!out.status.success());
    assert!(!inside.exists());

    // One byte changed inside the record journal's copy.
    let mut bytes = std::fs::read(&backup).expect("reads");
    let at = journal_offset(&backup) + 3_000;
    bytes[at] ^= 0x01;
    let damaged = dir.path().join("damaged.tar");
    std::fs::write(&damaged, &bytes).expect("writes");
    let out = run(&["verify", path(&damaged)]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("data/records.journal") && text.contains("DAMAGED"),
        "{text}"
    );
    let report: Value =
        serde_json::from_slice(&run(&["verify", path(&damaged), "--json"]).stdout).expect("json");
    assert_eq!(report["ok"], false);
    assert_eq!(report["problems"][0]["path"], "data/records.journal");
    let target = dir.path().join("restored");
    let out = run(&[
        "restore",
        "--from",
        path(&damaged),
        "--data-dir",
        path(&target),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("data/records.journal"));
    assert!(!target.exists(), "a refused restore leaves nothing");

    // A non-empty dir, and the dir of a process that holds the store.
    let restore_into_data = || {
        run(&[
            "restore",
            "--from",
            path(&backup),
            "--data-dir",
            path(&data),
        ])
    };
    assert!(!restore_into_data().status.success());
    let store = Store::open(&data).expect("opens");
    let out = restore_into_data();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("running hubnet"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(store);
    assert_eq!(
        Store::open(&data)
            .expect("opens")
            .record_count()
            .expect("n"),
        200
    );
}

/// Runs `wait`; if it panics, prints the end of every node's log first (what a failure in CI
/// needs to be understood).
fn with_logs(net: &Net, wait: impl FnOnce()) {
    if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(wait)) {
        for (i, node) in net.nodes.iter().enumerate() {
            let log = net.log(i);
            let lines: Vec<&str> = log.lines().collect();
            let tail = lines[lines.len().saturating_sub(60)..].join("\n");
            eprintln!("=== the end of {}'s log\n{tail}", node.name);
        }
        std::panic::resume_unwind(panic);
    }
}

/// Where the bytes of `data/records.journal` start in the archive.
fn journal_offset(archive: &Path) -> usize {
    let mut ar = tar::Archive::new(std::fs::File::open(archive).expect("opens"));
    let entry = ar
        .entries()
        .expect("entries")
        .map(|e| e.expect("entry"))
        .find(|e| e.path().expect("path") == Path::new("data/records.journal"))
        .expect("the journal");
    usize::try_from(entry.raw_file_position()).expect("fits")
}
