//! Backups: a round trip keeps everything the store holds; damage, a live or non-empty target
//! and a bad output place are refused with nothing changed; the journal copy takes whole,
//! checksummed frames only. One fixture builds a node (data dir with records of an admitted
//! member, a decision, fork evidence and a checkpoint conflict; a config; keys).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;

use hubnet_protocol::checkpoint;
use hubnet_protocol::governance::{self, Action};
use hubnet_protocol::record::Position;
use hubnet_protocol::sync::HeadRef;
use hubnet_protocol::{RecordId, SecretKey};

use super::*;
use crate::config::ConfigFile;
use crate::test_support::{sample, sample_key, signed_decision};

const NOW: i64 = 1_800_000_000_000;

/// A node on disk, not running.
struct Node {
    dir: tempfile::TempDir,
    data: PathBuf,
    config: PathBuf,
}

impl Node {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// A member's node (KZ) with 120 records of three members, one of them admitted by a decision,
/// a fork's second record and a contradicting checkpoint pair; its config names the node key, an
/// admin token file and the publishing key.
fn node() -> Node {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let charter = fs::read_to_string(sample("charter.toml")).unwrap();
    let mut store = Store::init(&data, &charter).unwrap();
    let committee = [sample_key("committee-1"), sample_key("committee-2")];
    let newcomer = SecretKey::from_seed([77; 32]);
    let admit = Action::Admit {
        code: "MN".into(),
        name: BTreeMap::from([("en".into(), "Mongolia".into())]),
        key: newcomer.public_key(),
    };
    let signed = signed_decision(store.charter(), 1, None, admit, &committee);
    let d = governance::verify_decision(&signed, store.charter()).unwrap();
    store.add_decision(d).unwrap().unwrap();
    let kz = sample_key("KZ");
    let keys = [kz.clone(), sample_key("UZ"), newcomer];
    crate::synth::fill(&mut store, &keys, 120, NOW).unwrap();
    // Fork evidence: another record at KZ's seq 1.
    let charter = store.charter().clone();
    let other = crate::synth::practices(
        &charter,
        std::slice::from_ref(&kz),
        &mut [Position::FIRST],
        1,
        NOW - 7,
    )
    .unwrap()
    .remove(0);
    assert!(store.add_fork(&other).unwrap());
    // A contradicting checkpoint pair, signed by UZ.
    let uz = sample_key("UZ");
    let cp = |time: i64, id: u8| {
        let heads = BTreeMap::from([(
            kz.public_key(),
            HeadRef {
                seq: 1,
                id: RecordId([id; 32]),
            },
        )]);
        let signed = checkpoint::sign(&uz, &charter, "peer", time, &heads, &(0, vec![]));
        checkpoint::verify(&signed, &charter).unwrap()
    };
    store.add_checkpoint(cp(NOW, 1)).unwrap();
    store.add_checkpoint(cp(NOW + 1, 2)).unwrap();
    assert_eq!(store.checkpoint_conflicts().len(), 1);
    drop(store);

    let node_key = dir.path().join("node.key");
    keyfile::write_new(&node_key, &SecretKey::from_seed([5; 32]), "node").unwrap();
    let publishing = dir.path().join("kz.key");
    keyfile::write_new(&publishing, &kz, "KZ").unwrap();
    fs::write(
        dir.path().join("admin.token"),
        "a-long-admin-token-for-tests\n",
    )
    .unwrap();
    let file = ConfigFile {
        data_dir: "data".into(),
        publishing_key: Some("kz.key".into()),
        node_key: Some("node.key".into()),
        admin_token_file: Some("admin.token".into()),
        listen: vec!["/ip4/127.0.0.1/tcp/4001".into()],
        http: "127.0.0.1:8080".into(),
        checkpoint_interval_secs: 30,
        ping_interval_ms: crate::config::default_ping_interval(),
        peer_timeout_ms: crate::config::default_peer_timeout(),
        redial_max_ms: crate::config::default_redial_max(),
        gossip_burst: crate::config::default_gossip_burst(),
        gossip_per_second: crate::config::default_gossip_per_second(),
        ..ConfigFile::default()
    };
    let config = dir.path().join("hubnet.toml");
    fs::write(&config, toml::to_string(&file).unwrap()).unwrap();
    Node { dir, data, config }
}

/// A backup of `node` (with its publishing key) at `out`.
fn back_up(node: &Node, out: &Path) -> Created {
    let sources = Sources::from_config(&node.config, true).unwrap();
    create(&sources, out, NOW + 1_000).unwrap()
}

/// What a store holds, for comparing two: every record's signed bytes in journal order, the
/// summary (heads, forks, decisions digest), the decisions and the evidence.
fn held(
    dir: &Path,
) -> (
    Vec<Vec<u8>>,
    hubnet_protocol::sync::Summary,
    Vec<String>,
    usize,
) {
    let store = Store::open(dir).unwrap();
    let mut records = Vec::new();
    store
        .for_each_signed(|b| {
            records.push(b.to_vec());
            Ok(())
        })
        .unwrap();
    let decisions = store
        .governance()
        .decisions()
        .keys()
        .map(|k| format!("{k:?}"))
        .collect();
    (
        records,
        store.summary(),
        decisions,
        store.checkpoint_conflicts().len(),
    )
}

/// The names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_round_trip_keeps_records_heads_governance_and_evidence() {
    let node = node();
    let out = node.path("node.tar");
    let created = back_up(&node, &out);
    let m = &created.manifest;
    assert_eq!((m.records, m.decisions), (120, 1));
    assert_eq!(m.member.as_deref(), Some("KZ"));
    assert_eq!(mode(&out), 0o600, "the archive holds keys");
    let names: Vec<&str> = m.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        names,
        [
            "data/charter.toml",
            "data/records.journal",
            "data/forks.journal",
            "data/governance.journal",
            "data/checkpoints.journal",
            "node/config.toml",
            "node/node.key",
            "node/admin.token",
            "node/publishing.key",
        ]
    );
    assert!(is_backup(&out).unwrap());

    let restored_dir = node.path("restored/data");
    let config_out = node.path("elsewhere/hubnet.toml");
    let restored = restore(&out, &restored_dir, Some(&config_out)).unwrap();
    assert_eq!(restored.manifest, created.manifest);
    assert!(restored.not_written.is_empty());
    assert_eq!(held(&restored_dir), held(&node.data));

    // The node's files: the node key in the data dir, the config adjusted to the restored dir
    // with the secrets beside it, every secret private.
    assert_eq!(
        fs::read(restored_dir.join("node.key")).unwrap(),
        fs::read(node.path("node.key")).unwrap()
    );
    let config = Config::load(&config_out).unwrap();
    assert_eq!(config.data_dir, absolute(&restored_dir));
    assert_eq!(config.node_key, absolute(&restored_dir).join("node.key"));
    assert_eq!(config.admin_token, "a-long-admin-token-for-tests");
    let key = config.publishing_key.unwrap();
    assert_eq!(key, node.path("elsewhere/publishing.key"));
    assert_eq!(
        keyfile::read(&key).unwrap().public_key(),
        sample_key("KZ").public_key()
    );
    for secret in [
        restored_dir.join("node.key"),
        key,
        node.path("elsewhere/admin.token"),
        config_out,
    ] {
        assert_eq!(mode(&secret), 0o600, "{}", secret.display());
    }
    // Nothing of the staging dir is left.
    assert_eq!(listing(&node.path("restored")), ["data"]);
}

#[test]
fn a_restore_without_config_out_writes_the_data_dir_and_node_key_only() {
    let node = node();
    let out = node.path("node.tar");
    back_up(&node, &out);
    let dir = node.path("plain");
    fs::create_dir(&dir).unwrap(); // an empty dir is a fine target
    let restored = restore(&out, &dir, None).unwrap();
    assert_eq!(
        restored.not_written,
        [
            "node/config.toml",
            "node/admin.token",
            "node/publishing.key"
        ]
    );
    let mut expected = vec![
        "charter.toml",
        "checkpoints.journal",
        "forks.journal",
        "governance.journal",
        "node.key",
        "records.journal",
    ];
    expected.sort_unstable();
    assert_eq!(listing(&dir), expected);
}

#[test]
fn a_corrupted_byte_is_refused_by_verify_and_restore_naming_the_file() {
    let node = node();
    let out = node.path("node.tar");
    back_up(&node, &out);
    // The offset of the record journal's bytes in the archive.
    let mut archive = tar::Archive::new(File::open(&out).unwrap());
    let at = archive
        .entries()
        .unwrap()
        .map(Result::unwrap)
        .find(|e| e.path().unwrap() == Path::new("data/records.journal"))
        .unwrap()
        .raw_file_position();
    let mut bytes = fs::read(&out).unwrap();
    bytes[at as usize + 5_000] ^= 0x40;
    let damaged = node.path("damaged.tar");
    fs::write(&damaged, &bytes).unwrap();

    let scratch = tempfile::tempdir().unwrap();
    let unpacked = unpack(&damaged, scratch.path()).unwrap();
    assert_eq!(unpacked.problems.len(), 1);
    assert_eq!(unpacked.problems[0].path, "data/records.journal");
    assert!(unpacked.problems[0].problem.contains("SHA-256"));

    let target = node.path("restored");
    let err = restore(&damaged, &target, None).unwrap_err();
    assert!(
        matches!(&err, BackupError::Damaged { problems, .. } if problems[0].path == "data/records.journal"),
        "{err}"
    );
    assert!(err.to_string().contains("data/records.journal"), "{err}");
    assert!(!target.exists());
    // No staging dir is left beside it either.
    assert!(
        listing(node.dir.path())
            .iter()
            .all(|n| !n.starts_with(".hubnet-restore")),
        "{:?}",
        listing(node.dir.path())
    );

    // A damaged manifest is not taken for a backup's.
    let mut bytes = fs::read(&out).unwrap();
    bytes[512 + 2] = b'#';
    fs::write(&damaged, &bytes).unwrap();
    let err = restore(&damaged, &target, None).unwrap_err();
    assert!(
        matches!(&err, BackupError::NotABackup { reason, .. } if reason.contains(MANIFEST)),
        "{err}"
    );
}

#[test]
fn restore_refuses_a_non_empty_or_live_dir_and_an_existing_config_changing_nothing() {
    let node = node();
    let out = node.path("node.tar");
    back_up(&node, &out);
    let before = listing(node.dir.path());

    // Non-empty.
    let full = node.path("full");
    fs::create_dir(&full).unwrap();
    fs::write(full.join("notes.txt"), "mine").unwrap();
    let err = restore(&out, &full, None).unwrap_err();
    assert!(matches!(err, BackupError::NotEmpty(_)), "{err}");
    assert_eq!(listing(&full), ["notes.txt"]);

    // Live: a process holds the store.
    let store = Store::open(&node.data).unwrap();
    let live_listing = listing(&node.data);
    let err = restore(&out, &node.data, None).unwrap_err();
    assert!(matches!(err, BackupError::Live(_)), "{err}");
    assert!(err.to_string().contains("running"), "{err}");
    assert_eq!(listing(&node.data), live_listing);
    drop(store);

    // The config's place is taken.
    let err = restore(&out, &node.path("new"), Some(&node.config)).unwrap_err();
    assert!(matches!(err, BackupError::TargetExists(_)), "{err}");
    assert!(!node.path("new").exists());

    let mut after = listing(node.dir.path());
    after.retain(|n| n != "full");
    assert_eq!(after, before);
}

#[test]
fn backup_refuses_an_output_inside_the_data_dir_or_an_existing_file() {
    let node = node();
    let sources = Sources::from_config(&node.config, false).unwrap();
    let inside = node.data.join("backup.tar");
    let err = create(&sources, &inside, NOW).unwrap_err();
    assert!(
        matches!(err, BackupError::OutputInsideDataDir { .. }),
        "{err}"
    );
    assert!(!inside.exists());
    let existing = node.path("hubnet.toml");
    let err = create(&sources, &existing, NOW).unwrap_err();
    assert!(matches!(err, BackupError::OutputExists(_)), "{err}");
    // Without --with-publishing-key the key stays out, and no temporary file is left.
    let out = node.path("b.tar");
    let created = create(&sources, &out, NOW).unwrap();
    assert!(
        created
            .manifest
            .files
            .iter()
            .all(|f| f.path != PUBLISHING_KEY_ENTRY)
    );
    assert_eq!(created.manifest.member.as_deref(), Some("KZ"));
    assert!(
        listing(node.dir.path())
            .iter()
            .all(|n| !n.ends_with(".partial"))
    );
}

#[test]
fn the_backup_copies_whole_checksummed_frames_and_refuses_damage_inside() {
    let node = node();
    let journal = node.data.join(store::JOURNAL_FILE);
    let whole = fs::read(&journal).unwrap();
    let network = Store::open(&node.data).unwrap().charter().network_id();
    let copy = |bytes: &[u8]| {
        let path = node.path("j");
        fs::write(&path, bytes).unwrap();
        let file = File::open(&path).unwrap();
        let mut out = Vec::new();
        let copied = copy_journal(
            &file,
            &path,
            bytes.len() as u64,
            1,
            network,
            Duration::from_millis(20),
            &mut out,
            &mut |_| {},
        );
        copied.map(|c| (c.entries, out))
    };
    let (entries, out) = copy(&whole).unwrap();
    assert_eq!((entries, out.as_slice()), (120, whole.as_slice()));

    // A torn last frame (a write in progress, or a crash) is cut: part of a frame, or a whole
    // frame whose checksum fails, or zeros.
    let torn_tail: [&[u8]; 3] = [
        &[9, 0, 0, 0, 1, 2],
        &[4, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4],
        &[0; 40],
    ];
    for tail in torn_tail {
        let mut bytes = whole.clone();
        bytes.extend_from_slice(tail);
        let (entries, out) = copy(&bytes).unwrap();
        assert_eq!((entries, out.as_slice()), (120, whole.as_slice()));
    }
    // A damaged frame followed by more is corruption, named with its offset.
    let mut bytes = whole.clone();
    let second =
        HEADER_LEN as usize + 8 + u32::from_le_bytes(bytes[48..52].try_into().unwrap()) as usize;
    bytes[second + 20] ^= 1;
    let err = copy(&bytes).unwrap_err();
    assert!(
        matches!(err, BackupError::Corrupt { offset, .. } if offset == second as u64),
        "{err}"
    );
    // Another network's journal is refused.
    let mut bytes = whole.clone();
    bytes[20] ^= 1;
    assert!(matches!(
        copy(&bytes).unwrap_err(),
        BackupError::JournalHeader { .. }
    ));
}

#[test]
fn a_checkpoint_pair_is_copied_whole_or_not_at_all() {
    let node = node();
    let path = node.data.join(store::CHECKPOINTS_FILE);
    let whole = fs::read(&path).unwrap();
    let network = Store::open(&node.data).unwrap().charter().network_id();
    let file = File::open(&path).unwrap();
    let first_end =
        HEADER_LEN + 8 + u64::from(u32::from_le_bytes(whole[48..52].try_into().unwrap()));
    for (limit, entries) in [(whole.len() as u64, 2), (first_end, 0), (first_end + 30, 0)] {
        let mut out = Vec::new();
        let copied = copy_journal(
            &file,
            &path,
            limit,
            2,
            network,
            Duration::ZERO,
            &mut out,
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(copied.entries, entries, "limit {limit}");
        assert_eq!(
            out.len() as u64,
            if entries == 2 { limit } else { HEADER_LEN }
        );
    }
}

#[test]
fn a_backup_takes_no_lock_and_writes_nothing_into_the_data_dir() {
    let node = node();
    // A process holds the store, as a running node does.
    let mut store = Store::open(&node.data).unwrap();
    let files = |dir: &Path| -> Vec<(String, u64, std::time::SystemTime)> {
        listing(dir)
            .into_iter()
            .map(|n| {
                let m = fs::metadata(dir.join(&n)).unwrap();
                (n, m.len(), m.modified().unwrap())
            })
            .collect()
    };
    let before = files(&node.data);
    let created = create(&Sources::data_dir(&node.data), &node.path("b.tar"), NOW).unwrap();
    assert_eq!(created.manifest.records, 120);
    assert_eq!(files(&node.data), before);
    // The store goes on as before.
    crate::synth::fill(&mut store, &[sample_key("UZ")], 1, NOW + 5_000).unwrap();
    assert_eq!(store.record_count().unwrap(), 121);
}

#[test]
fn every_file_of_a_data_dir_is_backed_up_or_known_to_be_left_out() {
    let node = node();
    let out = node.path("node.tar");
    let created = back_up(&node, &out);
    let copied: Vec<String> = created
        .manifest
        .files
        .iter()
        .filter_map(|f| f.path.strip_prefix("data/").map(str::to_owned))
        .collect();
    for name in listing(&node.data) {
        assert!(
            copied.contains(&name) || LEFT_OUT.iter().any(|(n, _)| *n == name),
            "{name} is in a data dir, but neither backed up nor listed as left out"
        );
    }
}
