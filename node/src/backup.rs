//! Backups of a node: `hubnet backup` (taken while the node runs), `hubnet restore` (into an
//! empty data dir) and the backup side of `hubnet verify`.
//!
//! # The archive
//!
//! One plain tar file (POSIX ustar; `tar tvf` lists it), its entries in this order:
//!
//! ```text
//! MANIFEST.json              format and version, hubnet's version, network id, member, creation
//!                            time; for every file below its length, SHA-256, role and (journals)
//!                            entry count; what was left out because it is derived
//! data/charter.toml          the signed genesis charter
//! data/records.journal       the record journal                  } a prefix of each, taken as
//! data/forks.journal         fork evidence                       } the backup started (below)
//! data/governance.journal    Steering Committee decisions        }
//! data/checkpoints.journal   contradicting checkpoint pairs      }
//! node/config.toml           the node's config file, as written (with `--config`)
//! node/node.key              the libp2p identity key, if the node has one
//! node/admin.token           the config's `admin_token_file`, if it names one
//! node/publishing.key        only with `--with-publishing-key`
//! ```
//!
//! The manifest's place is reserved first ([`MANIFEST_RESERVED`] bytes, padded with spaces, which
//! JSON allows after a value) and filled in once every file was written and hashed, so the
//! archive is written in one pass and a reader still meets the manifest before any file. The
//! archive is written beside its name, synced, and only then linked there (never over an
//! existing file): a file under that name is always whole. It is created with mode 0600: it
//! holds the node key.
//!
//! # What a backup holds: everything acknowledged before it started
//!
//! The journals are append-only files of checksummed frames (`store/journal.rs`). The store
//! acknowledges a record (the API's 201, `hubnet publish`'s id, a gossip verdict) only after
//! the frame's one `write` and the `fdatasync` that follows it
//! ([`Journal::append`](crate::store::journal::Journal::append), or a group written with
//! [`Journal::write_group`](crate::store::journal::Journal::write_group) and confirmed after its
//! sync). So when the backup starts, every acknowledged frame lies wholly within the file's length
//! as `fstat` reports it then. That length may also take in a group written and not yet synced
//! (never acknowledged; cut off again if its sync fails), as a crash would have kept it. The backup
//! reads each journal's length first, before copying anything, and copies that prefix frame by
//! frame, checking each frame's checksum:
//!
//! - frames appended after that moment lie past the recorded length and are left out;
//! - a frame that reaches past it, or the unfinished last frame of a write in progress (its
//!   checksum fails and only zeros or its own extent follow), was not acknowledged when the
//!   backup started and is cut, as opening the store would cut a torn tail;
//! - the only write into an acknowledged frame is an erasure (docs/PROTOCOL.md §2.1), which
//!   overwrites the body with zeros of the same length and then the checksum: a frame read
//!   between the two fails its checksum and is read again until it holds (for up to
//!   [`SETTLE`]), giving the frame before or after the erasure, both valid. A body copied
//!   before its erasure is erased again when the restored store opens, since rebuilding the
//!   index finds every erasure the journals name;
//! - a damaged frame followed by more data is corruption, and the backup fails naming the file
//!   and offset rather than copy it.
//!
//! The lengths are read records first, then fork evidence, then decisions, then checkpoint
//! pairs: a record of a member that a decision admitted is stored after the decision, so the
//! decisions copied include every decision a copied record needs. Checkpoint pairs are written
//! in one append of two frames, so their copy ends after a whole pair.
//!
//! The charter is written once (`hubnet init`) and never rewritten; the config and key files are
//! copied as they are when the backup starts.
//!
//! Left out, because they are derived or transient: `index/` (sled, rebuilt from the record
//! journal when the restored store first opens, with the newest checkpoint of each signer it
//! kept: peers gossip those again and the node signs its own), `search/` (tantivy, rebuilt by the
//! first `hubnet run`), `LOCK`, and `erasing` (an erasure's intent while it runs: the offsets it
//! names may lie past the copied prefix, and the restored store redoes every erasure anyway).
//!
//! The backup takes no lock and writes nothing into the data dir: it only opens files for
//! reading, so the node it copies is not disturbed.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hubnet_protocol::governance::Governance;
use hubnet_protocol::{Charter, NetworkId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tracing::{info, warn};

use crate::config::{Config, ConfigError, ConfigFile};
use crate::keyfile::{self, KeyFileError};
use crate::store::journal::{self, HEADER_LEN, MAX_ENTRY};
use crate::store::{self, Store, StoreError};

/// The manifest's name: the archive's first entry.
pub const MANIFEST: &str = "MANIFEST.json";
/// The manifest's `format`.
pub const FORMAT: &str = "hubnet-backup";
/// The archive format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The bytes reserved for the manifest (its JSON, then spaces).
pub const MANIFEST_RESERVED: usize = 16 * 1024;
/// How long a frame that fails its checksum is read again before it counts as damaged (an
/// erasure rewrites a body, then its checksum).
pub const SETTLE: Duration = Duration::from_secs(5);

const CONFIG_ENTRY: &str = "node/config.toml";
const NODE_KEY_ENTRY: &str = "node/node.key";
const ADMIN_TOKEN_ENTRY: &str = "node/admin.token";
const PUBLISHING_KEY_ENTRY: &str = "node/publishing.key";
/// The node key's default place in a data dir (`config.rs`).
const NODE_KEY_FILE: &str = "node.key";
const FRAME_HEADER: u64 = 8;
/// A progress line per this many bytes copied.
const PROGRESS_BYTES: u64 = 64 * 1024 * 1024;
/// The largest manifest a reader accepts.
const MANIFEST_MAX: u64 = 1024 * 1024;

/// The data dir's journals, in the order a backup reads their lengths (records before the
/// decisions they may need), each with how many frames one append writes (a checkpoint
/// conflict is a pair).
const JOURNALS: [(&str, u64); 4] = [
    (store::JOURNAL_FILE, 1),
    (store::FORKS_FILE, 1),
    (store::GOVERNANCE_FILE, 1),
    (store::CHECKPOINTS_FILE, 2),
];

/// What is in a data dir besides the files a backup copies, and why it is left out.
pub const LEFT_OUT: [(&str, &str); 7] = [
    (
        store::INDEX_DIR,
        "derived: rebuilt from records.journal when the store opens",
    ),
    (
        crate::search::SEARCH_DIR,
        "derived: rebuilt from the store by the first `hubnet run`",
    ),
    (
        crate::oai::changes::STAMPS_FILE,
        "OAI-PMH datestamps: a restored node stamps every record anew (harvesters fetch all once more)",
    ),
    (store::LOCK_FILE, "transient: held by a running node"),
    (
        store::ERASING_FILE,
        "transient: an erasure's intent while it runs; the restored store redoes erasures",
    ),
    (
        NODE_KEY_FILE,
        "copied as node/node.key (the node key's default place)",
    ),
    (
        crate::edge::acme::DEFAULT_CACHE_DIR,
        "the ACME cache (`[tls.acme]`'s default cache_dir): a restored node orders a new certificate",
    ),
];

/// Backup, restore and check failures; each names the file at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    /// An IO error on a file.
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        cause: io::Error,
    },
    /// No data dir there.
    #[error("{0} is not a hubnet data dir (no charter.toml)")]
    NotADataDir(PathBuf),
    /// The data dir's charter does not verify.
    #[error("{path}: {cause}")]
    Charter {
        /// The file.
        path: PathBuf,
        /// The cause.
        cause: hubnet_protocol::CharterError,
    },
    /// The node's config cannot be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `--with-publishing-key` for a node without one.
    #[error("config {0} names no publishing_key (a read-only mirror): there is none to back up")]
    NoPublishingKey(PathBuf),
    /// The backup would be written into the data dir it copies.
    #[error(
        "{out} is inside the data dir {data_dir}: write the backup elsewhere (a backup inside the data dir would be copied into the next one, and lost with the disk)"
    )]
    OutputInsideDataDir {
        /// The backup file.
        out: PathBuf,
        /// The data dir.
        data_dir: PathBuf,
    },
    /// The backup file exists already.
    #[error("{0} exists already; a backup never overwrites a file")]
    OutputExists(PathBuf),
    /// A journal's header is not this network's journal.
    #[error("{path}: {reason}")]
    JournalHeader {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A damaged frame followed by more data.
    #[error(
        "{path}: the entry at offset {offset} is damaged ({reason}) and more data follows; the data dir is damaged, and this backup is not taken"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The entry's offset.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A journal became shorter than it was when the backup started.
    #[error(
        "{0} became shorter while it was copied (a node started on the data dir and cut a torn tail?); take the backup again"
    )]
    Shrank(PathBuf),
    /// The manifest does not fit its reserved place (never expected: it lists a few files).
    #[error("the manifest is {0} bytes, more than the {MANIFEST_RESERVED} reserved")]
    ManifestTooLarge(usize),
    /// Not a backup archive, or not one this build reads.
    #[error("{path}: {reason}")]
    NotABackup {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Files of the archive do not match its manifest.
    #[error("{path} is damaged: {}", list(.problems))]
    Damaged {
        /// The archive.
        path: PathBuf,
        /// Each file at fault.
        problems: Vec<FileProblem>,
    },
    /// Restoring into a data dir a running node holds.
    #[error(
        "{0} is the data dir of a running hubnet (its lock is held): stop that node, and restore into a new, empty dir"
    )]
    Live(PathBuf),
    /// Restoring into a dir that holds something.
    #[error("{0} is not empty: restore only into a new or empty dir (nothing was changed)")]
    NotEmpty(PathBuf),
    /// Restoring onto something that is not a directory.
    #[error("{0} exists and is not a directory")]
    NotADirectory(PathBuf),
    /// A file restore would write exists already.
    #[error("{0} exists already; restore never overwrites a file (nothing was changed)")]
    TargetExists(PathBuf),
    /// `--config-out` for a backup without a config.
    #[error(
        "the backup holds no config (it was taken with --data-dir); restore without --config-out"
    )]
    NoConfigInBackup,
    /// The backup's config does not parse with this build.
    #[error(
        "the backup's config does not parse with this hubnet ({0}); restore without --config-out"
    )]
    BackupConfig(String),
    /// The store failed (checking whether a dir is in use).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A key file failed.
    #[error(transparent)]
    Key(#[from] KeyFileError),
}

fn list(problems: &[FileProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("{}: {}", p.path, p.problem))
        .collect::<Vec<_>>()
        .join("; ")
}

fn io_at(path: &Path) -> impl Fn(io::Error) -> BackupError + '_ {
    move |cause| BackupError::Io {
        path: path.to_owned(),
        cause,
    }
}

/// The archive's first entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// The archive format version ([`FORMAT_VERSION`]).
    pub version: u32,
    /// The hubnet that wrote it.
    pub hubnet_version: String,
    /// The network id (hex).
    pub network_id: String,
    /// When the backup started (RFC 3339, UTC): it holds everything acknowledged before.
    pub created_at: String,
    /// The same, in ms since the Unix epoch.
    pub created_at_ms: i64,
    /// The member whose node this is (from its publishing key), if it is a member's.
    pub member: Option<String>,
    /// Records in the record journal copied.
    pub records: u64,
    /// Governance decisions copied.
    pub decisions: u64,
    /// The config file backed up, as an absolute path (its relative paths are relative to it).
    pub config_path: Option<PathBuf>,
    /// Every file of the archive after the manifest, in archive order.
    pub files: Vec<FileEntry>,
    /// What the data dir holds that the archive does not, and why.
    pub left_out: Vec<String>,
}

/// One file of the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Its name in the archive (`data/records.journal`).
    pub path: String,
    /// What it is to the node.
    pub role: Role,
    /// Its length in bytes.
    pub len: u64,
    /// SHA-256 of its bytes (hex).
    pub sha256: String,
    /// For a journal, how many entries it holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entries: Option<u64>,
}

/// What a file of the archive is to the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The store's source of truth: the charter and the journals.
    SourceOfTruth,
    /// The node's config file.
    Config,
    /// A secret: a key or the admin token (restored with mode 0600).
    Secret,
}

/// A file of an archive that does not match its manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileProblem {
    /// Its name in the archive.
    pub path: String,
    /// What is wrong.
    pub problem: String,
}

/// What a backup copies from.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// The data dir.
    pub data_dir: PathBuf,
    /// The config file, if the backup is taken by config.
    pub config: Option<PathBuf>,
    /// The node key file (copied if it exists).
    pub node_key: Option<PathBuf>,
    /// The config's `admin_token_file`.
    pub admin_token_file: Option<PathBuf>,
    /// The publishing key file: read to name the member; copied only if `with_publishing_key`.
    pub publishing_key: Option<PathBuf>,
    /// Whether the publishing key goes into the archive.
    pub with_publishing_key: bool,
}

impl Sources {
    /// The files of the node that `config` describes (the config is checked as `hubnet run`
    /// checks it).
    pub fn from_config(config: &Path, with_publishing_key: bool) -> Result<Self, BackupError> {
        let checked = Config::load(config)?;
        if with_publishing_key && checked.publishing_key.is_none() {
            return Err(BackupError::NoPublishingKey(config.to_owned()));
        }
        // The checked config reads the admin token file but does not keep its path.
        let text = fs::read_to_string(config).map_err(io_at(config))?;
        let file: ConfigFile =
            toml::from_str(&text).map_err(|e| BackupError::BackupConfig(e.to_string()))?;
        let base = config.parent().unwrap_or(Path::new("."));
        Ok(Self {
            data_dir: checked.data_dir,
            config: Some(config.to_owned()),
            node_key: Some(checked.node_key),
            admin_token_file: file.admin_token_file.map(|p| base.join(p)),
            publishing_key: checked.publishing_key,
            with_publishing_key,
        })
    }

    /// A data dir alone (and the node key at its default place in it).
    pub fn data_dir(dir: &Path) -> Self {
        Self {
            data_dir: dir.to_owned(),
            node_key: Some(dir.join(NODE_KEY_FILE)),
            ..Self::default()
        }
    }
}

/// A backup written.
#[derive(Debug, Clone)]
pub struct Created {
    /// Its manifest.
    pub manifest: Manifest,
    /// The archive's size in bytes.
    pub bytes: u64,
}

/// Backs up the node `src` describes into a new file `out`, while the node runs or not. The
/// archive holds everything the node acknowledged before this was called (module doc).
pub fn create(src: &Sources, out: &Path, now_ms: i64) -> Result<Created, BackupError> {
    let dir = &src.data_dir;
    let charter_path = dir.join(store::CHARTER_FILE);
    let charter_text = match fs::read(&charter_path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(BackupError::NotADataDir(dir.clone()));
        }
        Err(cause) => return Err(io_at(&charter_path)(cause)),
    };
    let charter = verify_charter(&charter_path, &charter_text)?;
    // The moment the backup holds: each journal's length, read before anything is copied.
    let mut journals = Vec::new();
    for (name, unit) in JOURNALS {
        let path = dir.join(name);
        match File::open(&path) {
            Ok(file) => {
                let len = file.metadata().map_err(io_at(&path))?.len();
                journals.push((name, unit, path, file, len));
            }
            // Created by the store's first open; a data dir never opened has none.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(cause) => return Err(io_at(&path)(cause)),
        }
    }
    let mut node_files: Vec<(&str, Role, Vec<u8>)> = Vec::new();
    if let Some(config) = &src.config {
        node_files.push((CONFIG_ENTRY, Role::Config, read(config)?));
    }
    if let Some(key) = &src.node_key
        && let Some(bytes) = read_if_exists(key)?
    {
        node_files.push((NODE_KEY_ENTRY, Role::Secret, bytes));
    }
    if let Some(token) = &src.admin_token_file {
        node_files.push((ADMIN_TOKEN_ENTRY, Role::Secret, read(token)?));
    }
    let publishing_key = match &src.publishing_key {
        Some(p) => Some(keyfile::read(p)?),
        None => None,
    };
    if src.with_publishing_key
        && let Some(p) = &src.publishing_key
    {
        node_files.push((PUBLISHING_KEY_ENTRY, Role::Secret, read(p)?));
    }
    check_out(out, dir)?;

    let parent = parent_of(out);
    let tmp = tempfile::Builder::new()
        .prefix(".hubnet-backup-")
        .suffix(".partial")
        .tempfile_in(parent)
        .map_err(io_at(parent))?;
    let tmp_path = tmp.path().to_owned();
    let io_tmp = io_at(&tmp_path);
    let handle = tmp.as_file().try_clone().map_err(&io_tmp)?;
    let mut ar = tar::Builder::new(BufWriter::with_capacity(1 << 20, handle));
    let mtime = u64::try_from(now_ms / 1000).unwrap_or(0);
    let placeholder = vec![b' '; MANIFEST_RESERVED];
    ar.append_data(
        &mut header(0o644, mtime, placeholder.len()),
        MANIFEST,
        &placeholder[..],
    )
    .map_err(&io_tmp)?;
    let manifest_at = ar
        .get_mut()
        .stream_position()
        .map_err(&io_tmp)?
        .saturating_sub(MANIFEST_RESERVED as u64);

    let mut files = Vec::new();
    let digest = hex::encode(Sha256::digest(&charter_text));
    ar.append_data(
        &mut header(0o644, mtime, charter_text.len()),
        format!("data/{}", store::CHARTER_FILE),
        &charter_text[..],
    )
    .map_err(&io_tmp)?;
    files.push(FileEntry {
        path: format!("data/{}", store::CHARTER_FILE),
        role: Role::SourceOfTruth,
        len: charter_text.len() as u64,
        sha256: digest,
        entries: None,
    });
    let mut governance = Governance::new(charter.clone());
    let (mut records, mut decisions) = (0, 0);
    for (name, unit, path, file, len) in &journals {
        let entry = format!("data/{name}");
        // The size is set when the entry is finished.
        let mut h = header(0o644, mtime, 0);
        let mut w = ar.append_writer(&mut h, &entry).map_err(&io_tmp)?;
        let is_governance = *name == store::GOVERNANCE_FILE;
        let copied = copy_journal(
            file,
            path,
            *len,
            *unit,
            charter.network_id(),
            SETTLE,
            &mut w,
            &mut |payload| {
                if is_governance && let Err(e) = governance.insert_bytes(payload) {
                    warn!(error = %e, "a decision in the governance journal does not verify");
                }
            },
        )?;
        w.finish().map_err(&io_tmp)?;
        if *name == store::JOURNAL_FILE {
            records = copied.entries;
        }
        if is_governance {
            decisions = copied.entries;
        }
        files.push(FileEntry {
            path: entry,
            role: Role::SourceOfTruth,
            len: copied.len,
            sha256: hex::encode(copied.sha256),
            entries: Some(copied.entries),
        });
    }
    for (entry, role, bytes) in &node_files {
        let mode = if *role == Role::Secret { 0o600 } else { 0o644 };
        ar.append_data(&mut header(mode, mtime, bytes.len()), entry, &bytes[..])
            .map_err(&io_tmp)?;
        files.push(FileEntry {
            path: (*entry).to_owned(),
            role: *role,
            len: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(bytes)),
            entries: None,
        });
    }
    let member = publishing_key.and_then(|k| {
        governance
            .charter()
            .member_by_key(&k.public_key())
            .map(|m| m.code.clone())
    });
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        version: FORMAT_VERSION,
        hubnet_version: env!("CARGO_PKG_VERSION").to_owned(),
        network_id: charter.network_id().to_hex(),
        created_at: crate::view::rfc3339_ms(now_ms),
        created_at_ms: now_ms,
        member,
        records,
        decisions,
        config_path: src.config.as_deref().map(absolute),
        files,
        left_out: LEFT_OUT
            .iter()
            .map(|(name, why)| format!("{name}: {why}"))
            .collect(),
    };
    let mut json = serde_json::to_vec_pretty(&manifest).map_err(|e| io_tmp(e.into()))?;
    json.push(b'\n');
    if json.len() > MANIFEST_RESERVED {
        return Err(BackupError::ManifestTooLarge(json.len()));
    }
    json.resize(MANIFEST_RESERVED, b' ');
    let file = ar
        .into_inner()
        .map_err(&io_tmp)?
        .into_inner()
        .map_err(|e| io_tmp(e.into_error()))?;
    file.write_all_at(&json, manifest_at).map_err(&io_tmp)?;
    file.sync_all().map_err(&io_tmp)?;
    let bytes = file.metadata().map_err(&io_tmp)?.len();
    tmp.persist_noclobber(out).map_err(|e| {
        if e.error.kind() == io::ErrorKind::AlreadyExists {
            BackupError::OutputExists(out.to_owned())
        } else {
            io_at(out)(e.error)
        }
    })?;
    crate::durable::sync_dir(out).map_err(io_at(out))?;
    Ok(Created { manifest, bytes })
}

/// A regular file's header (the path and checksum are set as it is appended).
fn header(mode: u32, mtime: u64, size: usize) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(mode);
    h.set_mtime(mtime);
    h.set_size(size as u64);
    h
}

fn read(path: &Path) -> Result<Vec<u8>, BackupError> {
    fs::read(path).map_err(io_at(path))
}

fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>, BackupError> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(cause) => Err(io_at(path)(cause)),
    }
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

fn verify_charter(path: &Path, text: &[u8]) -> Result<Charter, BackupError> {
    let text = std::str::from_utf8(text).map_err(|e| BackupError::Charter {
        path: path.to_owned(),
        cause: hubnet_protocol::CharterError::Toml(e.to_string()),
    })?;
    hubnet_protocol::charter::CharterDoc::from_toml(text)
        .and_then(|doc| doc.verify())
        .map_err(|cause| BackupError::Charter {
            path: path.to_owned(),
            cause,
        })
}

/// Refuses an existing `out`, and one inside `data_dir`.
fn check_out(out: &Path, data_dir: &Path) -> Result<(), BackupError> {
    if out.symlink_metadata().is_ok() {
        return Err(BackupError::OutputExists(out.to_owned()));
    }
    let dir = fs::canonicalize(data_dir).map_err(io_at(data_dir))?;
    let parent = parent_of(out);
    let parent = fs::canonicalize(parent).map_err(io_at(parent))?;
    if parent.starts_with(&dir) {
        return Err(BackupError::OutputInsideDataDir {
            out: out.to_owned(),
            data_dir: data_dir.to_owned(),
        });
    }
    Ok(())
}

/// What [`copy_journal`] copied.
struct Copied {
    len: u64,
    entries: u64,
    sha256: [u8; 32],
}

/// Copies the first `limit` bytes of the journal `file` to `out`, frame by frame (module doc):
/// whole frames only, in whole units of `unit` frames, each frame's checksum holding (a frame
/// that fails it is read again for up to `settle_for`). Calls `on_entry` with each payload copied.
#[allow(clippy::too_many_arguments)]
fn copy_journal(
    file: &File,
    path: &Path,
    limit: u64,
    unit: u64,
    network: NetworkId,
    settle_for: Duration,
    out: &mut dyn Write,
    on_entry: &mut dyn FnMut(&[u8]),
) -> Result<Copied, BackupError> {
    let io = io_at(path);
    let mut sink = Hashing::new(out);
    if limit < HEADER_LEN {
        // The header was never completed: nothing was ever acknowledged (opening rewrites it).
        return Ok(sink.done(0));
    }
    let mut head = [0u8; HEADER_LEN as usize];
    file.read_exact_at(&mut head, 0).map_err(&io)?;
    check_journal_header(path, &head, network)?;
    sink.write_all(&head).map_err(&io)?;
    let mut reader = BufReader::with_capacity(
        1 << 20,
        At {
            file,
            pos: HEADER_LEN,
            end: limit,
        },
    );
    let mut offset = HEADER_LEN;
    // The frames of an unfinished unit (a checkpoint pair), held until the unit is whole.
    let mut held: Vec<([u8; 8], Vec<u8>)> = Vec::new();
    let mut entries = 0;
    let mut next_progress = PROGRESS_BYTES;
    while limit - offset >= FRAME_HEADER {
        let mut frame = [0u8; FRAME_HEADER as usize];
        reader.read_exact(&mut frame).map_err(|e| shrank(path, e))?;
        let (len, crc) = split_frame(&frame);
        let end = offset + FRAME_HEADER + u64::from(len);
        let reason = if len == 0 || len > MAX_ENTRY {
            Some(format!("length {len} out of range"))
        } else if end > limit {
            // A write in progress when the backup started: not acknowledged then.
            break;
        } else {
            None
        };
        let mut payload = Vec::new();
        let reason = match reason {
            Some(r) => Some(r),
            None => {
                payload.resize(len as usize, 0);
                reader
                    .read_exact(&mut payload)
                    .map_err(|e| shrank(path, e))?;
                if crc32fast::hash(&payload) == crc {
                    None
                } else {
                    match settle(file, offset, len, settle_for).map_err(&io)? {
                        Some((f, p)) => {
                            (frame, payload) = (f, p);
                            None
                        }
                        None => Some("checksum mismatch".to_owned()),
                    }
                }
            }
        };
        if let Some(reason) = reason {
            if end >= limit || zeros_to(file, offset, limit).map_err(&io)? {
                // A torn last frame (a crash, or a write still in progress): never acknowledged.
                break;
            }
            return Err(BackupError::Corrupt {
                path: path.to_owned(),
                offset,
                reason,
            });
        }
        offset = end;
        held.push((frame, payload));
        if held.len() as u64 == unit {
            for (f, p) in held.drain(..) {
                sink.write_all(&f).map_err(&io)?;
                sink.write_all(&p).map_err(&io)?;
                on_entry(&p);
                entries += 1;
            }
        }
        if offset >= next_progress {
            info!(file = %path.display(), done_bytes = offset, total_bytes = limit, "backing up");
            next_progress = offset + PROGRESS_BYTES;
        }
    }
    Ok(sink.done(entries))
}

fn shrank(path: &Path, e: io::Error) -> BackupError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        BackupError::Shrank(path.to_owned())
    } else {
        io_at(path)(e)
    }
}

fn split_frame(frame: &[u8; 8]) -> (u32, u32) {
    (
        u32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]),
        u32::from_le_bytes([frame[4], frame[5], frame[6], frame[7]]),
    )
}

fn check_journal_header(
    path: &Path,
    head: &[u8; HEADER_LEN as usize],
    network: NetworkId,
) -> Result<(), BackupError> {
    let bad = |reason: String| BackupError::JournalHeader {
        path: path.to_owned(),
        reason,
    };
    if &head[..8] != journal::MAGIC {
        return Err(bad("not a hubnet journal (bad magic bytes)".into()));
    }
    let version = u32::from_le_bytes([head[8], head[9], head[10], head[11]]);
    if version != journal::VERSION {
        return Err(bad(format!(
            "journal format version {version}; this build reads version {}",
            journal::VERSION
        )));
    }
    if head[16..48] != network.as_bytes()[..] {
        return Err(bad(format!(
            "belongs to another network than the charter's ({network})"
        )));
    }
    Ok(())
}

/// Reads the frame at `offset` again until its checksum holds, for up to `limit` ([`SETTLE`]);
/// `None` if it never does (or its length changed: not a frame an erasure is rewriting).
fn settle(
    file: &File,
    offset: u64,
    len: u32,
    limit: Duration,
) -> io::Result<Option<([u8; 8], Vec<u8>)>> {
    let deadline = Instant::now() + limit;
    let mut wait = Duration::from_millis(1);
    loop {
        let mut frame = [0u8; FRAME_HEADER as usize];
        file.read_exact_at(&mut frame, offset)?;
        let (now_len, crc) = split_frame(&frame);
        if now_len != len {
            return Ok(None);
        }
        let mut payload = vec![0u8; len as usize];
        file.read_exact_at(&mut payload, offset + FRAME_HEADER)?;
        if crc32fast::hash(&payload) == crc {
            return Ok(Some((frame, payload)));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        // Waiting for the erasure's checksum write, which follows its body write at once.
        std::thread::sleep(wait);
        wait = (wait * 2).min(Duration::from_millis(100));
    }
}

/// Whether `file` holds only zeros from `from` to `to` (a crash can leave allocated, unwritten
/// blocks after the last frame).
fn zeros_to(file: &File, from: u64, to: u64) -> io::Result<bool> {
    let mut buf = vec![0u8; 1 << 16];
    let mut at = from;
    while at < to {
        let n = usize::try_from(to - at).map_or(buf.len(), |n| n.min(buf.len()));
        let got = file.read_at(&mut buf[..n], at)?;
        if got == 0 {
            return Ok(true);
        }
        if buf[..got].iter().any(|b| *b != 0) {
            return Ok(false);
        }
        at += got as u64;
    }
    Ok(true)
}

/// Reads a file from `pos` to `end` with positional reads (no shared cursor).
struct At<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
}

impl Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = usize::try_from(self.end.saturating_sub(self.pos)).unwrap_or(usize::MAX);
        let n = buf.len().min(left);
        if n == 0 {
            return Ok(0);
        }
        let got = self.file.read_at(&mut buf[..n], self.pos)?;
        self.pos += got as u64;
        Ok(got)
    }
}

/// A writer that hashes and counts what passes through.
struct Hashing<'a> {
    inner: &'a mut dyn Write,
    sha: Sha256,
    len: u64,
}

impl<'a> Hashing<'a> {
    fn new(inner: &'a mut dyn Write) -> Self {
        Self {
            inner,
            sha: Sha256::new(),
            len: 0,
        }
    }

    fn done(self, entries: u64) -> Copied {
        Copied {
            len: self.len,
            entries,
            sha256: self.sha.finalize().into(),
        }
    }
}

impl Write for Hashing<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Whether `path` is a backup archive (a tar file whose first entry is the manifest), as opposed
/// to a bundle or anything else.
pub fn is_backup(path: &Path) -> Result<bool, BackupError> {
    let mut file = File::open(path).map_err(io_at(path))?;
    let mut block = [0u8; 512];
    let mut got = 0;
    while got < block.len() {
        match file.read(&mut block[got..]).map_err(io_at(path))? {
            0 => return Ok(false),
            n => got += n,
        }
    }
    let name_end = block[..100].iter().position(|b| *b == 0).unwrap_or(100);
    Ok(&block[..name_end] == MANIFEST.as_bytes() && &block[257..263] == b"ustar\0")
}

/// An archive unpacked into a dir: `data/` and `node/` as named in the manifest.
#[derive(Debug, Clone)]
pub struct Unpacked {
    /// The manifest.
    pub manifest: Manifest,
    /// Files that do not match the manifest (empty: every file listed is there, whole).
    pub problems: Vec<FileProblem>,
}

/// Reads the archive `from` and writes each of its files under `into` (`into/data/...`,
/// `into/node/...`; secrets with mode 0600), checking each file's length and SHA-256 against
/// the manifest and every journal's header against the charter's network. Only the names this
/// format defines are written, so no name in an archive can place a file elsewhere.
pub fn unpack(from: &Path, into: &Path) -> Result<Unpacked, BackupError> {
    let not_a_backup = |reason: String| BackupError::NotABackup {
        path: from.to_owned(),
        reason,
    };
    let file = File::open(from).map_err(io_at(from))?;
    let total = file.metadata().map_err(io_at(from))?.len();
    let mut archive = tar::Archive::new(BufReader::with_capacity(1 << 20, file));
    let mut entries = archive
        .entries()
        .map_err(|e| not_a_backup(format!("not a tar archive: {e}")))?;
    let mut first = match entries.next() {
        Some(Ok(e)) => e,
        Some(Err(e)) => return Err(not_a_backup(format!("not a tar archive: {e}"))),
        None => return Err(not_a_backup("an empty archive".into())),
    };
    if first.path().ok().as_deref() != Some(Path::new(MANIFEST)) {
        return Err(not_a_backup(format!(
            "not a hubnet backup: its first entry is not {MANIFEST}"
        )));
    }
    if first.size() > MANIFEST_MAX {
        return Err(not_a_backup(format!("{MANIFEST} is too large")));
    }
    let mut text = Vec::new();
    first.read_to_end(&mut text).map_err(io_at(from))?;
    let manifest: Manifest = serde_json::from_slice(&text)
        .map_err(|e| not_a_backup(format!("{MANIFEST} does not parse: {e}")))?;
    if manifest.format != FORMAT {
        return Err(not_a_backup(format!(
            "{MANIFEST}: format {:?}, not {FORMAT:?}",
            manifest.format
        )));
    }
    if manifest.version != FORMAT_VERSION {
        return Err(not_a_backup(format!(
            "backup format version {} (this build reads version {FORMAT_VERSION}); use a newer hubnet",
            manifest.version
        )));
    }
    for sub in ["data", "node"] {
        let d = into.join(sub);
        fs::create_dir_all(&d).map_err(io_at(&d))?;
    }
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    let mut read = 0u64;
    let mut next_progress = PROGRESS_BYTES;
    for entry in entries {
        let mut entry = entry.map_err(|e| {
            not_a_backup(format!(
                "the archive is damaged after {}: {e}",
                seen.last().map_or(MANIFEST, String::as_str)
            ))
        })?;
        let name = entry
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(listed) = manifest.files.iter().find(|f| f.path == name) else {
            problems.push(problem(&name, "in the archive but not in the manifest"));
            continue;
        };
        if !seen.insert(name.clone()) {
            problems.push(problem(&name, "twice in the archive"));
            continue;
        }
        let Some(dest) = destination(into, &name) else {
            problems.push(problem(&name, "not a file this hubnet knows where to put"));
            continue;
        };
        let mode = if listed.role == Role::Secret {
            0o600
        } else {
            0o644
        };
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&dest)
            .map_err(io_at(&dest))?;
        let mut sink = Hashing::new(&mut out);
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = entry.read(&mut buf).map_err(io_at(from))?;
            if n == 0 {
                break;
            }
            sink.write_all(&buf[..n]).map_err(io_at(&dest))?;
            read += n as u64;
            if read >= next_progress {
                info!(done_bytes = read, total_bytes = total, "reading the backup");
                next_progress = read + PROGRESS_BYTES;
            }
        }
        let got = sink.done(0);
        out.sync_all().map_err(io_at(&dest))?;
        if got.len != listed.len {
            problems.push(problem(
                &name,
                &format!("{} bytes, the manifest says {} bytes", got.len, listed.len),
            ));
        } else if hex::encode(got.sha256) != listed.sha256 {
            problems.push(problem(
                &name,
                &format!(
                    "SHA-256 {} does not match the manifest's {}",
                    hex::encode(got.sha256),
                    listed.sha256
                ),
            ));
        }
    }
    for f in &manifest.files {
        if !seen.contains(&f.path) {
            problems.push(problem(
                &f.path,
                "listed in the manifest, missing from the archive",
            ));
        }
    }
    if problems.is_empty() {
        check_unpacked(into, &manifest, &mut problems)?;
    }
    Ok(Unpacked { manifest, problems })
}

fn problem(path: &str, what: &str) -> FileProblem {
    FileProblem {
        path: path.to_owned(),
        problem: what.to_owned(),
    }
}

/// Where an archive entry goes under `into`; `None` for a name this format does not define.
fn destination(into: &Path, name: &str) -> Option<PathBuf> {
    let data: [&str; 5] = [
        store::CHARTER_FILE,
        store::JOURNAL_FILE,
        store::FORKS_FILE,
        store::GOVERNANCE_FILE,
        store::CHECKPOINTS_FILE,
    ];
    let node = [
        CONFIG_ENTRY,
        NODE_KEY_ENTRY,
        ADMIN_TOKEN_ENTRY,
        PUBLISHING_KEY_ENTRY,
    ];
    match name.strip_prefix("data/") {
        Some(file) if data.contains(&file) => Some(into.join("data").join(file)),
        _ if node.contains(&name) => Some(into.join(name)),
        _ => None,
    }
}

/// The unpacked charter verifies and is the manifest's network, and each journal's header is
/// that network's.
fn check_unpacked(
    into: &Path,
    manifest: &Manifest,
    problems: &mut Vec<FileProblem>,
) -> Result<(), BackupError> {
    let charter_entry = format!("data/{}", store::CHARTER_FILE);
    let path = into.join(&charter_entry);
    let network = match verify_charter(&path, &read(&path)?) {
        Ok(c) => c.network_id(),
        Err(e) => {
            problems.push(problem(&charter_entry, &format!("does not verify: {e}")));
            return Ok(());
        }
    };
    if network.to_hex() != manifest.network_id {
        problems.push(problem(
            &charter_entry,
            &format!(
                "is network {network}, the manifest says {}",
                manifest.network_id
            ),
        ));
    }
    for (name, _) in JOURNALS {
        let path = into.join("data").join(name);
        let Some(bytes) = read_if_exists(&path)? else {
            continue;
        };
        if bytes.len() < HEADER_LEN as usize {
            continue;
        }
        let mut head = [0u8; HEADER_LEN as usize];
        head.copy_from_slice(&bytes[..HEADER_LEN as usize]);
        if let Err(e) = check_journal_header(&path, &head, network) {
            problems.push(problem(&format!("data/{name}"), &e.to_string()));
        }
    }
    Ok(())
}

/// What a restore wrote.
#[derive(Debug, Clone)]
pub struct Restored {
    /// The backup's manifest.
    pub manifest: Manifest,
    /// The data dir.
    pub data_dir: PathBuf,
    /// The node key, if the backup held one (in the data dir, mode 0600).
    pub node_key: Option<PathBuf>,
    /// Files written beside `--config-out` (the config, and keys it names), in order.
    pub config_files: Vec<PathBuf>,
    /// Files of the backup not written (the config and its secrets, without `--config-out`).
    pub not_written: Vec<String>,
}

/// Restores the backup `from` into `data_dir`, which must not exist or be an empty dir that no
/// node holds; with `config_out`, also writes the backup's config there, adjusted to the
/// restored data dir, with the keys it holds beside it. Every file is checked against the
/// manifest in a staging dir beside `data_dir` before anything is put in place; a failure leaves
/// nothing behind.
pub fn restore(
    from: &Path,
    data_dir: &Path,
    config_out: Option<&Path>,
) -> Result<Restored, BackupError> {
    check_target(data_dir)?;
    if let Some(c) = config_out
        && c.symlink_metadata().is_ok()
    {
        return Err(BackupError::TargetExists(c.to_owned()));
    }
    let parent = parent_of(data_dir);
    fs::create_dir_all(parent).map_err(io_at(parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".hubnet-restore-")
        .tempdir_in(parent)
        .map_err(io_at(parent))?;
    let unpacked = unpack(from, staging.path())?;
    if !unpacked.problems.is_empty() {
        return Err(BackupError::Damaged {
            path: from.to_owned(),
            problems: unpacked.problems,
        });
    }
    let manifest = unpacked.manifest;
    let data = staging.path().join("data");
    let has = |entry: &str| manifest.files.iter().any(|f| f.path == entry);
    let node_key = if has(NODE_KEY_ENTRY) {
        let to = data.join(NODE_KEY_FILE);
        fs::rename(staging.path().join(NODE_KEY_ENTRY), &to).map_err(io_at(&to))?;
        Some(data_dir.join(NODE_KEY_FILE))
    } else {
        None
    };
    File::open(&data)
        .and_then(|d| d.sync_all())
        .map_err(io_at(&data))?;
    let data_dir_abs = absolute(data_dir);
    let mut not_written = Vec::new();
    let config_files = match config_out {
        Some(out) => write_config(&manifest, staging.path(), out, &data_dir_abs)?,
        None => {
            for entry in [CONFIG_ENTRY, ADMIN_TOKEN_ENTRY, PUBLISHING_KEY_ENTRY] {
                if has(entry) {
                    not_written.push(entry.to_owned());
                }
            }
            Vec::new()
        }
    };
    // Last, the data dir into place: checked again, in case a node started on it meanwhile.
    let placed = check_target(data_dir).and_then(|()| {
        fs::rename(&data, data_dir).map_err(|cause| match cause.kind() {
            io::ErrorKind::DirectoryNotEmpty => BackupError::NotEmpty(data_dir.to_owned()),
            _ => io_at(data_dir)(cause),
        })
    });
    if let Err(e) = placed {
        for f in &config_files {
            let _ = fs::remove_file(f); // undoing our own new files; the error above is reported
        }
        return Err(e);
    }
    crate::durable::sync_dir(data_dir).map_err(io_at(data_dir))?;
    Ok(Restored {
        manifest,
        data_dir: data_dir.to_owned(),
        node_key,
        config_files,
        not_written,
    })
}

/// Refuses a data dir a node holds, one that is not empty, and anything but a directory.
fn check_target(dir: &Path) -> Result<(), BackupError> {
    match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(cause) => Err(io_at(dir)(cause)),
        Ok(m) if !m.is_dir() => Err(BackupError::NotADirectory(dir.to_owned())),
        Ok(_) => {
            if Store::in_use(dir)? {
                return Err(BackupError::Live(dir.to_owned()));
            }
            if fs::read_dir(dir).map_err(io_at(dir))?.next().is_some() {
                return Err(BackupError::NotEmpty(dir.to_owned()));
            }
            Ok(())
        }
    }
}

/// Writes the backup's config to `out`, its `data_dir` the restored one and its node key the
/// default (`DATA_DIR/node.key`), with the publishing key and admin token the backup holds
/// beside it (mode 0600); other relative paths are made absolute against the original config's
/// dir. Returns the files written, the config last.
fn write_config(
    manifest: &Manifest,
    staging: &Path,
    out: &Path,
    data_dir: &Path,
) -> Result<Vec<PathBuf>, BackupError> {
    let staged = staging.join(CONFIG_ENTRY);
    let Some(text) = read_if_exists(&staged)? else {
        return Err(BackupError::NoConfigInBackup);
    };
    let text = String::from_utf8(text).map_err(|e| BackupError::BackupConfig(e.to_string()))?;
    let mut file: ConfigFile =
        toml::from_str(&text).map_err(|e| BackupError::BackupConfig(e.to_string()))?;
    let old_base = manifest
        .config_path
        .as_deref()
        .map_or(PathBuf::from("."), |p| parent_of(p).to_owned());
    let old = |p: PathBuf| absolute(&old_base.join(p));
    let new_base = absolute(parent_of(out));
    let mut secrets: Vec<(PathBuf, PathBuf)> = Vec::new();
    file.data_dir = data_dir.to_owned();
    file.charter = None;
    file.node_key = None;
    let key = staging.join(PUBLISHING_KEY_ENTRY);
    file.publishing_key = if key.exists() {
        let to = new_base.join("publishing.key");
        secrets.push((key, to.clone()));
        Some(to)
    } else {
        file.publishing_key.map(old)
    };
    let token = staging.join(ADMIN_TOKEN_ENTRY);
    file.admin_token_file = if token.exists() {
        let to = new_base.join("admin.token");
        secrets.push((token, to.clone()));
        Some(to)
    } else {
        file.admin_token_file.map(old)
    };
    if let Some(tls) = &mut file.tls {
        tls.cert = tls.cert.take().map(old);
        tls.key = tls.key.take().map(old);
        // A relative ACME cache dir stays in the new data dir (a new certificate is ordered).
        if let Some(acme) = &mut tls.acme {
            acme.ca_bundle = acme.ca_bundle.take().map(old);
        }
    }
    let toml = toml::to_string(&file).map_err(|e| BackupError::BackupConfig(e.to_string()))?;
    let text = format!(
        "# Restored by `hubnet restore` from a backup of {} (the original's comments are not kept).\n{toml}",
        manifest.created_at
    );
    for (_, to) in &secrets {
        if to.symlink_metadata().is_ok() {
            return Err(BackupError::TargetExists(to.clone()));
        }
    }
    fs::create_dir_all(&new_base).map_err(io_at(&new_base))?;
    let mut written = Vec::new();
    let mut write = |to: &Path, bytes: &[u8]| -> Result<(), BackupError> {
        write_private(to, bytes)?;
        written.push(to.to_owned());
        Ok(())
    };
    let result = secrets
        .iter()
        .try_for_each(|(from, to)| write(to, &read(from)?))
        .and_then(|()| write(out, text.as_bytes()));
    if let Err(e) = result {
        for f in &written {
            let _ = fs::remove_file(f); // undoing our own new files; the error is reported
        }
        return Err(e);
    }
    Ok(written)
}

/// Writes a new file with mode 0600, durably; never over an existing one.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), BackupError> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|cause| {
            if cause.kind() == io::ErrorKind::AlreadyExists {
                BackupError::TargetExists(path.to_owned())
            } else {
                io_at(path)(cause)
            }
        })?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .and_then(|()| crate::durable::sync_dir(path))
        .map_err(io_at(path))
}

#[cfg(test)]
mod tests;
