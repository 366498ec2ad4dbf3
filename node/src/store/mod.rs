//! The durable store of one node: a data dir holding the charter, the record journal (the source of
//! truth) and a sled index rebuilt from the journal whenever it is behind or unreadable.
//!
//! ```text
//! DATA_DIR/charter.toml      the signed charter this node runs with
//! DATA_DIR/records.journal   every stored SignedRecord, checksummed, append-only (journal.rs)
//! DATA_DIR/forks.journal     fork evidence: valid records whose (author, seq) the log already
//!                            holds with another id; same format, loaded into memory at open
//! DATA_DIR/governance.journal  Steering Committee decisions (SignedDecision), loaded at open
//! DATA_DIR/checkpoints.journal contradicting checkpoint pairs (evidence), loaded at open
//! DATA_DIR/index/            sled: ids, logs, heads, retractions, metadata (index.rs)
//! DATA_DIR/erasing           only while an erasure overwrites the journal: the offsets it touches
//! DATA_DIR/LOCK              held while a process uses the store
//! DATA_DIR/oai-datestamps    not the store's: OAI-PMH datestamps (crate::oai::changes)
//! ```
//!
//! The charter and the journals are the source of truth, which `crate::backup` copies while a
//! node runs; the index (and the search index beside it, `DATA_DIR/search/`) are derived.
//!
//! A record is acknowledged only after [`Store::append`] (or [`Store::finish`], its last step)
//! returns, which is after its journal entry was written and `fdatasync`ed. The index is updated
//! after, in one sled batch that also records how far into the journal it has applied; sled's own
//! flushing does not matter for durability, because opening replays the journal from that point.

mod governance;
pub mod index;
pub mod journal;
mod writer;

pub use self::governance::{
    CHECKPOINTS_FILE, CheckpointConflict, CheckpointOutcome, GOVERNANCE_FILE,
};

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use hubnet_protocol::chain::{self, Append, ChainError, ChainHead, PreviousInfo, TargetInfo};
use hubnet_protocol::record::{self, Header, Position, RecordError};
use hubnet_protocol::sync::{HeadRef, Summary};
use hubnet_protocol::{
    Body, Charter, CharterError, Kind, PublicKey, Record, RecordId, SecretKey, SignedRecord,
};
use tracing::{info, warn};

pub use self::index::ErasedBy;
use self::index::RecordLocation;
use self::journal::{HEADER_LEN, Journal, JournalError};
use self::writer::{IndexWriter, Job};

/// The store schema version this build writes and reads.
pub const SCHEMA_VERSION: u32 = 3;
/// File name of the charter in a data dir.
pub const CHARTER_FILE: &str = "charter.toml";
/// File name of the record journal in a data dir.
pub const JOURNAL_FILE: &str = "records.journal";
/// File name of the fork evidence journal in a data dir.
pub const FORKS_FILE: &str = "forks.journal";
/// The journal offsets an erasure is overwriting, written (durably) before it starts and removed
/// once the journal is synced: opening redoes what it lists before reading the journal.
pub const ERASING_FILE: &str = "erasing";
/// The sled index's directory in a data dir (derived: rebuilt from the journal when missing).
pub const INDEX_DIR: &str = "index";
/// The lock file a process holds while it uses the store.
pub const LOCK_FILE: &str = "LOCK";
const SLED_CACHE_BYTES: u64 = 256 * 1024 * 1024;
const REPLAY_BATCH: usize = 4096;
/// Largest single journal read of [`Store::signed_from`].
pub const SIGNED_FROM_BLOCK: usize = 4 * 1024 * 1024;
/// How long opening waits for the data dir's lock. A store just closed in this process can
/// leave it held for a moment: a child another thread forks meanwhile holds a copy of the lock's
/// descriptor until it executes its program (the kill test met it once in CI). A running node
/// holds it for good, and is then reported after this wait.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(1);
/// How long opening waits for a just-closed store's sled lock to be released.
const SLED_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Store failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No data dir there.
    #[error(
        "{0} is not a hubnet data dir (no {CHARTER_FILE}); create one with `hubnet init --data-dir {0} --charter FILE`"
    )]
    NotInitialized(PathBuf),
    /// `init` on an existing data dir.
    #[error("{0} is already a hubnet data dir")]
    AlreadyInitialized(PathBuf),
    /// Another process holds the store.
    #[error("{0} is in use by another hubnet process")]
    Locked(PathBuf),
    /// An IO error on a file of the data dir.
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        cause: std::io::Error,
    },
    /// The data dir's charter is not valid.
    #[error("{path}: {cause}")]
    Charter {
        /// The file.
        path: PathBuf,
        /// The cause.
        cause: CharterError,
    },
    /// The charter given to `init` is not valid.
    #[error("the charter is not valid: {0}")]
    InvalidCharter(CharterError),
    /// The journal failed.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// sled failed.
    #[error("index: {0}")]
    Index(sled::Error),
    /// The index could not be opened for a reason outside it (a full disk, no permission, a
    /// read-only file system): it is left as it is, since rebuilding it would not help.
    #[error(
        "{dir}: the index cannot be opened: {cause}; it was left as it is (free space or fix \
         the permissions, then start again)"
    )]
    IndexUnavailable {
        /// The index dir.
        dir: PathBuf,
        /// sled's error.
        cause: sled::Error,
    },
    /// The index was written by a newer build.
    #[error(
        "store schema version {found} is newer than this build supports ({SCHEMA_VERSION}); use a newer hubnet"
    )]
    SchemaTooNew {
        /// Version found.
        found: u32,
    },
    /// The index carries a schema version this build does not know.
    #[error(
        "store schema version {found:?} is unknown (this build knows {SCHEMA_VERSION}); refusing to open"
    )]
    UnknownSchema {
        /// Raw value found.
        found: Vec<u8>,
    },
    /// An index value of the wrong shape.
    #[error("index entry {key} is damaged; delete {dir}/index to rebuild it from the journal")]
    DamagedIndex {
        /// Key, hex.
        key: String,
        /// Data dir.
        dir: PathBuf,
    },
    /// A governance journal entry that does not verify.
    #[error("governance journal entry at offset {offset} does not verify: {cause}")]
    BadDecision {
        /// Offset.
        offset: u64,
        /// The cause.
        cause: hubnet_protocol::governance::GovernanceError,
    },
    /// A journal entry that does not decode as a record.
    #[error("journal entry at offset {offset} does not decode: {cause}")]
    BadJournalRecord {
        /// Offset.
        offset: u64,
        /// The cause.
        cause: RecordError,
    },
    /// A fork evidence record that no longer decodes.
    #[error("fork evidence record does not decode: {0}")]
    BadForkRecord(Box<RecordError>),
    /// The publishing key is not a member's.
    #[error("key {0} is not the publishing key of any member in this charter")]
    NotAMember(String),
    /// The record this node just signed does not pass its own checks (too large, say).
    #[error("the signed record is not valid: {0}")]
    Invalid(RecordError),
    /// A body of a group publish that was not signed because the store failed on an earlier one
    /// of the same group ([`Store::publish_group`]).
    #[error("not published: the store failed on an earlier record of the same group ({cause})")]
    GroupFailed {
        /// What the earlier record failed with.
        cause: String,
        /// Whether that was a full disk ([`StoreError::storage_full`]).
        storage_full: bool,
    },
    /// The index writer thread failed; the journal holds everything acknowledged, so reopening
    /// the store replays it.
    #[error("index writer failed ({0}); restart hubnet to rebuild the index from the journal")]
    IndexWriter(String),
    /// The record cannot extend its author's log.
    #[error(transparent)]
    Chain(#[from] ChainError),
}

impl StoreError {
    /// Whether it failed because the disk (or the quota) is full before anything of what it was
    /// doing was stored: a file or the journal could not be written (a failed journal append is
    /// cut off again), or the index could not be opened. Only an operator freeing space helps.
    /// A failure of the index after a journal write is not one: the record is stored then, and
    /// the index replays it at the next start.
    pub fn storage_full(&self) -> bool {
        let full = |e: &std::io::Error| {
            matches!(
                e.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            )
        };
        match self {
            StoreError::Io { cause, .. } | StoreError::Journal(JournalError::Io { cause, .. }) => {
                full(cause)
            }
            StoreError::IndexUnavailable {
                cause: sled::Error::Io(e),
                ..
            } => full(e),
            StoreError::GroupFailed { storage_full, .. } => *storage_full,
            _ => false,
        }
    }
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Index(e)
    }
}

impl From<RecordError> for StoreError {
    fn from(e: RecordError) -> Self {
        StoreError::Invalid(e)
    }
}

/// What happened to one record given to [`Store::append`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Newly stored (durable).
    Stored,
    /// It was stored before.
    AlreadyStored,
    /// Refused by a chain rule; nothing was written.
    Refused(ChainError),
}

/// Access to the store for the steps of a publish group commit ([`Store::publish_in`]): a
/// `&mut Store`, or a lock that is taken for each step and let go while the group's `fdatasync`
/// runs. The caller must be the store's only writer meanwhile
/// (the node's ingest worker is); the journal refuses a second group until the first is
/// finished.
pub trait Access {
    /// The store, for one step that writes.
    fn write(&mut self) -> impl std::ops::DerefMut<Target = Store> + '_;
    /// The store, for one step that only reads (signing, say), beside other readers.
    fn read(&mut self) -> impl std::ops::Deref<Target = Store> + '_;
}

impl Access for &mut Store {
    fn write(&mut self) -> impl std::ops::DerefMut<Target = Store> + '_ {
        &mut **self
    }

    fn read(&mut self) -> impl std::ops::Deref<Target = Store> + '_ {
        &**self
    }
}

/// The records one round of [`Store::publish_in`] signed.
struct Signed {
    /// The records signed that pass every rule, in seq order.
    valid: Vec<Record>,
    /// Why the body after them was refused, if one was.
    refused: Option<StoreError>,
    author: PublicKey,
}

/// One round of [`Store::publish_in`], staged.
struct Round {
    staged: Staged,
    signed: Signed,
}

/// A group commit [`Store::stage`] wrote to the journal, waiting for its `fdatasync`
/// ([`Staged::sync`]) and then for [`Store::finish`], which makes it visible.
#[derive(Debug)]
#[must_use = "a staged group is acknowledged only by `Store::finish`, and blocks the next until then"]
pub struct Staged {
    outcomes: Vec<Outcome>,
    /// What was written; none when no record was accepted.
    group: Option<Box<Group>>,
}

impl Staged {
    /// What became of each record staged, in order (as [`Store::settle`] returns them once
    /// the group is durable).
    pub fn outcomes(&self) -> &[Outcome] {
        &self.outcomes
    }

    /// Makes the staged group durable. Needs no access to the store, so its lock can be let go.
    pub fn sync(&self) -> Result<(), JournalError> {
        self.group.as_ref().map_or(Ok(()), |g| g.written.sync())
    }

    /// The outcomes, when nothing was written (every record held already or refused): there is
    /// nothing to make durable or visible, and [`Store::finish`] is not needed. Otherwise the
    /// staged group back.
    pub fn into_outcomes(self) -> Result<Vec<Outcome>, Staged> {
        match self.group {
            None => Ok(self.outcomes),
            Some(_) => Err(self),
        }
    }
}

/// What [`Store::finish`] makes visible.
#[derive(Debug)]
struct Group {
    written: journal::WrittenGroup,
    index: GroupIndex,
    heads: HashMap<PublicKey, ChainHead>,
    /// Author and `created_at` of each record written, for the rate rule's look-back.
    times: Vec<(PublicKey, i64)>,
    retracted: Vec<RecordId>,
    erased: HashMap<RecordId, ErasedBy>,
}

/// A group's index update: the sled batch, and what the writer's overlay holds until sled has it.
struct GroupIndex {
    batch: sled::Batch,
    located: Vec<(RecordId, RecordLocation)>,
    chunks: Vec<((PublicKey, u64), Vec<u8>)>,
}

impl std::fmt::Debug for GroupIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupIndex")
            .field("records", &self.located.len())
            .field("chunks", &self.chunks.len())
            .finish_non_exhaustive()
    }
}

/// What opening a store found and repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Journal entries replayed into the index.
    pub replayed: u64,
    /// Bytes of a torn, never acknowledged last entry that were dropped.
    pub torn_bytes: u64,
    /// Whether the index was rebuilt from scratch (unreadable or ahead of the journal).
    pub rebuilt_index: bool,
}

/// An open store. One process at a time (a lock file enforces it).
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    journal: Journal,
    /// Applies index batches on its own thread; dropped (and joined) before the lock is released.
    writer: IndexWriter,
    db: sled::Db,
    /// Every log's head, loaded at open and kept in step with the index.
    heads: HashMap<PublicKey, ChainHead>,
    /// Per key, the times of its newest records (the seqs up to its head), at most the rate
    /// rule's look-back: so checking the rule rarely reads the journal. Filled as records are
    /// stored; empty after open.
    recent: HashMap<PublicKey, VecDeque<i64>>,
    /// Records stored (mirrors the `count` metadata).
    count: u64,
    /// Fork evidence, appended and fsynced before it is reported.
    forks_journal: Journal,
    /// Per (author, seq): the records held beside the log's own (fork evidence).
    forks: BTreeMap<(PublicKey, u64), Vec<SignedRecord>>,
    /// The charter and every decision held; `charter()` is its governed view.
    governance: hubnet_protocol::governance::Governance,
    governance_journal: Journal,
    /// Checkpoints: the newest per signer, and contradicting pairs.
    checkpoints: governance::Checkpoints,
    /// Every erased record (held or not), with what erased it (docs/PROTOCOL.md §2.1).
    erased: HashMap<RecordId, ErasedBy>,
    /// Copies of erased bodies offered again (by stale peers, old bundles) and refused.
    bodies_refused: u64,
    recovery: Recovery,
    _lock: File,
}

impl Store {
    /// Creates a data dir for `charter_text` (a signed charter TOML).
    pub fn init(dir: &Path, charter_text: &str) -> Result<Self, StoreError> {
        let charter_path = dir.join(CHARTER_FILE);
        if charter_path.exists() {
            return Err(StoreError::AlreadyInitialized(dir.to_owned()));
        }
        hubnet_protocol::charter::CharterDoc::from_toml(charter_text)
            .and_then(|doc| doc.verify())
            .map_err(StoreError::InvalidCharter)?;
        fs::create_dir_all(dir).map_err(|source| io(dir, source))?;
        crate::durable::sync_dir(dir).map_err(|source| io(dir, source))?;
        crate::durable::create_new(&charter_path, charter_text.as_bytes())
            .map_err(|source| io(&charter_path, source))?;
        Self::open(dir)
    }

    /// Whether a process holds the store in `dir` now (its lock is taken). Nothing is created or
    /// changed: a dir without a lock file is not in use.
    pub fn in_use(dir: &Path) -> Result<bool, StoreError> {
        let lock_path = dir.join(LOCK_FILE);
        let lock = match File::open(&lock_path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(source) => return Err(io(&lock_path, source)),
        };
        match lock.try_lock() {
            // Released when `lock` is dropped, at once.
            Ok(()) => Ok(false),
            Err(fs::TryLockError::WouldBlock) => Ok(true),
            Err(fs::TryLockError::Error(source)) => Err(io(&lock_path, source)),
        }
    }

    /// Opens an existing data dir, replaying the journal into the index as needed.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let charter_path = dir.join(CHARTER_FILE);
        if !charter_path.exists() {
            return Err(StoreError::NotInitialized(dir.to_owned()));
        }
        let lock_path = dir.join(LOCK_FILE);
        let lock = File::create(&lock_path).map_err(|source| io(&lock_path, source))?;
        match retry_while_held(
            LOCK_WAIT,
            || lock.try_lock(),
            |e| matches!(e, fs::TryLockError::WouldBlock),
        ) {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(StoreError::Locked(dir.to_owned())),
            Err(fs::TryLockError::Error(source)) => return Err(io(&lock_path, source)),
        }
        let text = fs::read_to_string(&charter_path).map_err(|source| io(&charter_path, source))?;
        let charter = verify_charter(&charter_path, &text)?;
        let (governance, governance_journal) = governance::load(dir, charter)?;
        let charter = governance.charter();
        let mut journal = Journal::open(&dir.join(JOURNAL_FILE), charter.network_id())?;
        let mut recovery = Recovery::default();
        let index_dir = dir.join(INDEX_DIR);
        let db = match open_sled(&index_dir) {
            Ok(db) => db,
            Err(sled::Error::Io(e)) if e.to_string().starts_with(SLED_LOCK_HELD) => {
                return Err(StoreError::Locked(dir.to_owned()));
            }
            Err(cause) if outside_index(&cause) => {
                return Err(StoreError::IndexUnavailable {
                    dir: index_dir,
                    cause,
                });
            }
            Err(e) => {
                let aside = set_aside(&index_dir)?;
                warn!(error = %e, moved_to = %aside.display(), "index does not open; rebuilding it from the journal");
                recovery.rebuilt_index = true;
                open_sled(&index_dir)?
            }
        };
        if check_schema(&db)? {
            recovery.rebuilt_index = true;
        }
        let mut applied = db
            .get(index::META_APPLIED)?
            .and_then(|v| index::decode_u64(&v))
            .unwrap_or(HEADER_LEN);
        if applied > journal.len() {
            warn!(
                applied,
                journal = journal.len(),
                "index is ahead of the journal; rebuilding it"
            );
            db.clear()?;
            db.insert(index::META_SCHEMA, &SCHEMA_VERSION.to_be_bytes())?;
            recovery.rebuilt_index = true;
            applied = HEADER_LEN;
        }
        finish_erasing(dir, &mut journal)?;
        let (entries, torn) = journal.recover_from(applied)?;
        if torn > 0 {
            warn!(
                torn_bytes = torn,
                "dropped a torn last journal entry (it was never acknowledged)"
            );
        }
        recovery.torn_bytes = torn;
        let count = db
            .get(index::META_COUNT)?
            .and_then(|v| index::decode_u64(&v))
            .unwrap_or(0);
        let mut forks_journal = Journal::open(&dir.join(FORKS_FILE), charter.network_id())?;
        let forks = load_forks(&mut forks_journal, charter)?;
        let checkpoints = governance::Checkpoints::load(dir, &db, charter)?;
        let mut store = Self {
            dir: dir.to_owned(),
            governance,
            governance_journal,
            checkpoints,
            erased: HashMap::new(),
            bodies_refused: 0,
            journal,
            forks_journal,
            forks,
            writer: IndexWriter::start(db.clone()),
            db,
            heads: HashMap::new(),
            recent: HashMap::new(),
            count,
            recovery,
            _lock: lock,
        };
        store.load_heads()?;
        if !entries.is_empty() {
            info!(entries = entries.len(), "replaying journal into the index");
        }
        for (n, chunk) in entries.chunks(REPLAY_BATCH).enumerate() {
            let mut batch = sled::Batch::default();
            let mut chunks = LogChunks::new(&store.dir);
            let mut count = store.count;
            let mut end = applied;
            for e in chunk {
                let r = record::decode_stored(&e.payload, store.governance.charter()).map_err(
                    |source| StoreError::BadJournalRecord {
                        offset: e.offset,
                        cause: source,
                    },
                )?;
                if store.db.contains_key(index::record_key(&r.id))? {
                    end = e.end();
                    continue;
                }
                index_record(
                    &mut batch,
                    &mut chunks,
                    &|a, c| store.chunk_value(a, c),
                    &r,
                    e.offset,
                )?;
                store.heads.insert(r.header.author, head_of(&r));
                count += 1;
                end = e.end();
            }
            chunks.write(&mut batch);
            batch.insert(index::META_APPLIED, &end.to_be_bytes()[..]);
            batch.insert(index::META_COUNT, &count.to_be_bytes()[..]);
            store.db.apply_batch(batch)?;
            store.count = count;
            store.recovery.replayed += chunk.len() as u64;
            if entries.len() > REPLAY_BATCH {
                info!(
                    done = n * REPLAY_BATCH + chunk.len(),
                    total = entries.len(),
                    "replaying journal"
                );
            }
        }
        store.load_erased()?;
        Ok(store)
    }

    /// Loads every erased record's id and makes sure each held one's body is gone from the
    /// journal (an erasure interrupted by a crash is finished here).
    fn load_erased(&mut self) -> Result<(), StoreError> {
        for item in self.db.scan_prefix([index::ERASED]) {
            let (k, v) = item?;
            let id = index::decode_id(&k[1..]).ok_or_else(|| self.damaged(&k))?;
            let by = ErasedBy::decode(&v).ok_or_else(|| self.damaged(&k))?;
            self.erased.insert(id, by);
        }
        let decided: Vec<(RecordId, RecordId)> = self
            .charter()
            .erased_by_decisions()
            .iter()
            .map(|(id, d)| (*id, *d))
            .collect();
        for (id, decision) in decided {
            self.erased
                .entry(id)
                .or_insert(ErasedBy::Decision(decision));
        }
        let ids: Vec<RecordId> = self.erased.keys().copied().collect();
        let done = self.erase_bodies(&ids)?;
        if done > 0 {
            info!(
                records = done,
                "finished erasing bodies an interrupted erasure left"
            );
        }
        Ok(())
    }

    /// Deletes the bodies of the held records among `ids` from the journal, in place and
    /// durably (an intent file covers a crash in between). Returns how many bodies it deleted.
    fn erase_bodies(&mut self, ids: &[RecordId]) -> Result<usize, StoreError> {
        let mut offsets = Vec::new();
        for id in ids {
            if let Some(loc) = self.locate(id)?
                && loc.kind != Kind::Erasure
            {
                offsets.push(loc.offset);
            }
        }
        if offsets.is_empty() {
            return Ok(0);
        }
        let intent = self.dir.join(ERASING_FILE);
        let bytes: Vec<u8> = offsets.iter().flat_map(|o| o.to_le_bytes()).collect();
        crate::durable::replace(&intent, &bytes).map_err(|source| io(&intent, source))?;
        let mut done = 0;
        for offset in &offsets {
            done += usize::from(self.journal.erase_body(*offset)?);
        }
        self.journal.sync()?;
        fs::remove_file(&intent).map_err(|source| io(&intent, source))?;
        Ok(done)
    }

    /// What erased record `id`, if it was erased (docs/PROTOCOL.md §2.1).
    pub fn erased_by(&self, id: &RecordId) -> Option<ErasedBy> {
        self.erased.get(id).copied()
    }

    /// Every erased record, with what erased it.
    pub fn erased(&self) -> &HashMap<RecordId, ErasedBy> {
        &self.erased
    }

    /// The ids of record `id`'s amendments stored, in log order (the amendments of an erased
    /// record are known from its erasure, which lists them).
    pub fn amendments(&self, id: &RecordId) -> Result<Vec<RecordId>, StoreError> {
        if let Some(ErasedBy::Record(e)) = self.erased.get(id)
            && let Some(erasure) = self.get(e)?
        {
            return Ok(erasure.body.erases().into_iter().skip(1).collect());
        }
        self.amendments_of(id, &[])
    }

    /// The held erased records of `kind`, with when each was erased (the erasure's or the
    /// decision's `created_at`, ms), newest first: the tombstones of a feed.
    pub fn erased_of_kind(&self, kind: Kind) -> Result<Vec<(RecordId, i64)>, StoreError> {
        let mut out = Vec::new();
        for (id, by) in &self.erased {
            if self.locate(id)?.is_none_or(|l| l.kind != kind) {
                continue;
            }
            let when = match by {
                ErasedBy::Record(e) => self
                    .get_signed(e)?
                    .and_then(|s| Header::decode(&s.header).ok())
                    .map(|h| h.created_at),
                ErasedBy::Decision(d) => self.governance.decisions().get(d).map(|d| d.created_at),
            };
            out.push((*id, when.unwrap_or_default()));
        }
        out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(out)
    }

    /// How many copies of erased bodies were offered again and refused since the store opened.
    pub fn bodies_refused(&self) -> u64 {
        self.bodies_refused
    }

    /// Erases the records a newly stored decision erased (docs/PROTOCOL.md §2.1). An erasure
    /// record is never erased (it is the proof of the others).
    pub(crate) fn apply_decision_erasures(&mut self) -> Result<(), StoreError> {
        let new: Vec<(RecordId, RecordId)> = self
            .charter()
            .erased_by_decisions()
            .iter()
            .filter(|(id, _)| !self.erased.contains_key(*id))
            .map(|(id, d)| (*id, *d))
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        for (id, decision) in &new {
            self.erased.insert(*id, ErasedBy::Decision(*decision));
        }
        let ids: Vec<RecordId> = new.iter().map(|(id, _)| *id).collect();
        let done = self.erase_bodies(&ids)?;
        info!(
            records = ids.len(),
            held = done,
            "erased the records a decision names"
        );
        Ok(())
    }

    /// What opening found and repaired.
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// The data dir.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The charter this store belongs to.
    pub fn charter(&self) -> &Charter {
        self.governance.charter()
    }

    /// Records stored.
    pub fn record_count(&self) -> Result<u64, StoreError> {
        Ok(self.count)
    }

    /// The head of `author`'s log.
    pub fn head(&self, author: &PublicKey) -> Result<Option<ChainHead>, StoreError> {
        Ok(self.heads.get(author).copied())
    }

    /// Every author's head, in key order.
    pub fn heads(&self) -> Result<Vec<(PublicKey, ChainHead)>, StoreError> {
        let mut out: Vec<_> = self.heads.iter().map(|(k, h)| (*k, *h)).collect();
        out.sort_by_key(|(k, _)| *k);
        Ok(out)
    }

    /// Loads each member's head from the last entry of its log index.
    fn load_heads(&mut self) -> Result<(), StoreError> {
        let authors: Vec<PublicKey> = self
            .governance
            .charter()
            .known_keys()
            .into_iter()
            .map(|(k, _, _)| k)
            .collect();
        for author in authors {
            let Some(item) = self.db.scan_prefix(index::log_prefix(&author)).next_back() else {
                continue;
            };
            let (k, v) = item?;
            let id = v
                .len()
                .checked_sub(32)
                .and_then(|at| index::decode_id(&v[at..]))
                .ok_or_else(|| self.damaged(&k))?;
            let loc = self.locate(&id)?.ok_or_else(|| self.damaged(&k))?;
            let r = self.read_record(loc.offset)?;
            self.heads.insert(author, head_of(&r));
        }
        Ok(())
    }

    /// Where record `id` is, if stored.
    pub fn locate(&self, id: &RecordId) -> Result<Option<RecordLocation>, StoreError> {
        if let Some((loc, _)) = self.writer.pending().ids.get(id) {
            return Ok(Some(*loc));
        }
        let key = index::record_key(id);
        match self.db.get(key)? {
            None => Ok(None),
            Some(v) => RecordLocation::decode(&v)
                .map(Some)
                .ok_or_else(|| self.damaged(&key)),
        }
    }

    /// The signed bytes of record `id`, exactly as stored.
    pub fn get_signed(&self, id: &RecordId) -> Result<Option<SignedRecord>, StoreError> {
        let Some(loc) = self.locate(id)? else {
            return Ok(self.fork_record(id).cloned());
        };
        let payload = self.journal.read_at(loc.offset)?;
        let signed =
            SignedRecord::decode(&payload).map_err(|source| StoreError::BadJournalRecord {
                offset: loc.offset,
                cause: source,
            })?;
        match self.erased.get(id) {
            // Erased in place: the body is gone; attach what proves the erasure.
            Some(by) if signed.erasure.is_empty() => {
                let proof = match by {
                    ErasedBy::Record(e) => {
                        self.get_signed(e)?.map(|e| e.encode()).unwrap_or_default()
                    }
                    ErasedBy::Decision(_) => Vec::new(),
                };
                Ok(Some(signed.erased(proof)))
            }
            _ => Ok(Some(signed)),
        }
    }

    /// The encoded `SignedRecord` of `id` as it is served (`get_signed`'s, encoded): a record
    /// nothing erased is served as its journal entry holds it, without decoding and encoding it
    /// again (sync answers send thousands at a time).
    pub fn served_bytes(&self, id: &RecordId) -> Result<Option<Vec<u8>>, StoreError> {
        if self.erased.contains_key(id) {
            return Ok(self.get_signed(id)?.map(|s| s.encode()));
        }
        match self.locate(id)? {
            Some(loc) => Ok(Some(self.journal.read_at(loc.offset)?)),
            None => Ok(self.fork_record(id).map(SignedRecord::encode)),
        }
    }

    /// Record `id`, decoded.
    pub fn get(&self, id: &RecordId) -> Result<Option<Record>, StoreError> {
        let Some(loc) = self.locate(id)? else {
            return match self.fork_record(id) {
                None => Ok(None),
                Some(s) => record::decode_stored(&s.encode(), self.governance.charter())
                    .map(Some)
                    .map_err(|cause| StoreError::BadForkRecord(Box::new(cause))),
            };
        };
        let mut r = self.read_record(loc.offset)?;
        if r.body.is_erased()
            && r.signed.erasure.is_empty()
            && let Some(signed) = self.get_signed(id)?
        {
            // With the proof it is served with.
            r.signed = signed;
        }
        Ok(Some(r))
    }

    fn read_record(&self, offset: u64) -> Result<Record, StoreError> {
        let payload = self.journal.read_at(offset)?;
        record::decode_stored(&payload, self.governance.charter()).map_err(|source| {
            StoreError::BadJournalRecord {
                offset,
                cause: source,
            }
        })
    }

    /// Ids of `author`'s log from `from_seq` on, in seq order.
    pub fn log(
        &self,
        author: &PublicKey,
        from_seq: u64,
    ) -> Result<Vec<(u64, RecordId)>, StoreError> {
        self.log_limited(author, from_seq, usize::MAX)
    }

    /// At most `limit` ids of `author`'s log from `from_seq` on, in seq order.
    pub fn log_limited(
        &self,
        author: &PublicKey,
        from_seq: u64,
        limit: usize,
    ) -> Result<Vec<(u64, RecordId)>, StoreError> {
        let from_seq = from_seq.max(1);
        let first_chunk = index::chunk_of(from_seq);
        // The chunks that can hold `limit` ids from `from_seq` on.
        let last_chunk =
            first_chunk.saturating_add((limit as u64 / index::LOG_CHUNK).saturating_add(1));
        let start = index::log_key(author, first_chunk);
        let prefix = index::log_prefix(author);
        // The overlay first: an entry leaves it only after sled has it, so whatever the writer
        // applies meanwhile is found by the scan below. Overlay values are the newest.
        let pending: Vec<(u64, Vec<u8>)> = self
            .writer
            .pending()
            .chunks
            .iter()
            .filter(|((a, chunk), _)| a == author && *chunk >= first_chunk && *chunk <= last_chunk)
            .map(|((_, chunk), (value, _))| (*chunk, value.clone()))
            .collect();
        let mut chunks: std::collections::BTreeMap<u64, Vec<u8>> =
            std::collections::BTreeMap::new();
        for item in self.db.range(start..) {
            let (k, v) = item?;
            if !k.starts_with(&prefix) {
                break;
            }
            let chunk = k
                .get(33..)
                .and_then(index::decode_u64)
                .ok_or_else(|| self.damaged(&k))?;
            if chunk > last_chunk {
                break;
            }
            chunks.insert(chunk, v.to_vec());
        }
        chunks.extend(pending);
        let mut out = Vec::new();
        for (chunk, value) in chunks {
            if value.len() % 32 != 0 {
                return Err(self.damaged(&index::log_key(author, chunk)));
            }
            for (slot, id) in value.chunks_exact(32).enumerate() {
                let seq = chunk
                    .checked_mul(index::LOG_CHUNK)
                    .and_then(|c| c.checked_add(slot as u64 + 1))
                    .ok_or_else(|| self.damaged(&index::log_key(author, chunk)))?;
                if seq >= from_seq
                    && out.len() < limit
                    && let Some(id) = index::decode_id(id)
                {
                    out.push((seq, id));
                }
            }
        }
        Ok(out)
    }

    /// The confirmations of programme `programme` stored, in id order.
    pub fn confirmations(&self, programme: &RecordId) -> Result<Vec<RecordId>, StoreError> {
        // The index batches still on the writer thread are applied first.
        self.writer.sync();
        let mut out = Vec::new();
        for item in self.db.scan_prefix(index::confirmed_prefix(programme)) {
            let (k, _) = item?;
            out.push(index::decode_id(&k[33..]).ok_or_else(|| self.damaged(&k))?);
        }
        Ok(out)
    }

    /// Every programme the store holds a confirmation of.
    pub fn confirmed_programmes(&self) -> Result<Vec<RecordId>, StoreError> {
        self.writer.sync();
        let mut out: Vec<RecordId> = Vec::new();
        for item in self.db.scan_prefix([index::CONFIRMED]) {
            let (k, _) = item?;
            let id = index::decode_id(&k[1..33]).ok_or_else(|| self.damaged(&k))?;
            if out.last() != Some(&id) {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// The retraction of `target`, if it was retracted.
    pub fn retraction_of(&self, target: &RecordId) -> Result<Option<RecordId>, StoreError> {
        self.writer.sync();
        match self.db.get(index::retracted_key(target))? {
            Some(v) => {
                Ok(Some(index::decode_id(&v).ok_or_else(|| {
                    self.damaged(&index::retracted_key(target))
                })?))
            }
            None => Ok(None),
        }
    }

    /// Whether `target` has been retracted.
    pub fn is_retracted(&self, target: &RecordId) -> Result<bool, StoreError> {
        if self.writer.pending().retracted.contains_key(target) {
            return Ok(true);
        }
        Ok(self.db.contains_key(index::retracted_key(target))?)
    }

    /// Visits every stored record's signed bytes in journal order, which keeps each author's log
    /// in seq order.
    pub fn for_each_signed(
        &self,
        mut f: impl FnMut(&[u8]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut offset = HEADER_LEN;
        loop {
            let (payloads, next) = self.signed_from(offset, REPLAY_BATCH)?;
            if payloads.is_empty() {
                return Ok(());
            }
            for p in &payloads {
                f(p)?;
            }
            offset = next;
        }
    }

    /// Where the journal ends: the offset the next entry will be written at. Journal offsets
    /// only grow, so a follower (the search indexer) remembers how far it has read.
    pub fn journal_end(&self) -> u64 {
        self.journal.len()
    }

    /// Group commits made durable since the store was opened (one journal write and
    /// `fdatasync` each).
    pub fn journal_syncs(&self) -> u64 {
        self.journal.syncs()
    }

    /// The journal offset of the first entry.
    pub fn journal_start() -> u64 {
        HEADER_LEN
    }

    /// Up to `max` stored records' signed bytes from journal offset `from` on (an offset this
    /// method or [`Store::journal_start`] gave), in journal order, and the offset after them.
    /// An erased record comes without its body and with its proof, as [`Store::get_signed`]
    /// serves it.
    /// The journal is read in blocks of up to [`SIGNED_FROM_BLOCK`] bytes (the search indexer
    /// calls this under the store's read lock: few, large reads keep that short).
    pub fn signed_from(&self, from: u64, max: usize) -> Result<(Vec<Vec<u8>>, u64), StoreError> {
        let mut offset = from.max(HEADER_LEN);
        let mut out = Vec::new();
        while out.len() < max {
            let (payloads, next) =
                self.journal
                    .read_run(offset, max - out.len(), SIGNED_FROM_BLOCK)?;
            if payloads.is_empty() {
                break;
            }
            out.extend(payloads);
            offset = next;
        }
        if !self.erased.is_empty() {
            // Erased records go out as they are served one by one: with their proof.
            for payload in &mut out {
                if journal::is_bodyless(payload)
                    && let Ok(signed) = SignedRecord::decode(payload)
                    && signed.erasure.is_empty()
                    && let Some(served) = self.get_signed(&signed.id())?
                {
                    *payload = served.encode();
                }
            }
        }
        Ok((out, offset))
    }

    /// Checks `records` (verified, in order) against their logs and stores those that extend them,
    /// as one group commit: one journal write and `fdatasync`, then one index batch. Records later
    /// in the slice may build on earlier ones. Returns one outcome per record.
    ///
    /// [`Store::stage`], [`Staged::sync`] and [`Store::finish`] in one go; a caller that holds the
    /// store behind a lock calls them itself, so that readers need not wait for the `fdatasync`.
    pub fn append(&mut self, records: &[Record]) -> Result<Vec<Outcome>, StoreError> {
        Self::append_in(self, records)
    }

    /// [`Store::append`] through `access`, which is let go while the group's `fdatasync` runs:
    /// readers go on meanwhile with the store as it was before the group.
    pub fn append_in(
        mut access: impl Access,
        records: &[Record],
    ) -> Result<Vec<Outcome>, StoreError> {
        let staged = access.write().stage(records)?;
        Self::settle(access, staged)
    }

    /// The rest of a group commit [`Store::stage`] began: nothing when nothing was written,
    /// otherwise its `fdatasync` ([`Staged::sync`], `access` let go) and [`Store::finish`].
    pub fn settle(mut access: impl Access, staged: Staged) -> Result<Vec<Outcome>, StoreError> {
        match staged.into_outcomes() {
            Ok(outcomes) => Ok(outcomes),
            Err(staged) => {
                let synced = staged.sync();
                access.write().finish(staged, synced)
            }
        }
    }

    /// The lock a staged group's `fdatasync` waits for while a test holds it.
    #[cfg(test)]
    pub(crate) fn journal_sync_gate(&self) -> std::sync::Arc<std::sync::Mutex<()>> {
        std::sync::Arc::clone(&self.journal.sync_gate)
    }

    /// The first half of [`Store::append`]: checks `records` and writes those that extend their
    /// logs to the journal, without `fdatasync`. Nothing a reader can see changes: the journal's
    /// length, the heads, the count and the index stay as they were until [`Store::finish`], so
    /// the store's lock can be let go while [`Staged::sync`] waits for the disk. Until then the
    /// store takes no other group (the journal refuses it).
    pub fn stage(&mut self, records: &[Record]) -> Result<Staged, StoreError> {
        if let Some(e) = &self.writer.pending().failed {
            return Err(StoreError::IndexWriter(e.clone()));
        }
        let mut heads: HashMap<PublicKey, ChainHead> = HashMap::new();
        let mut fresh: HashMap<RecordId, (PublicKey, Kind)> = HashMap::new();
        let mut retracted: HashMap<RecordId, ()> = HashMap::new();
        let mut placed: HashMap<(PublicKey, u64), RecordId> = HashMap::new();
        let mut placed_at: HashMap<(PublicKey, u64), i64> = HashMap::new();
        let mut outcomes = Vec::with_capacity(records.len());
        let mut accepted: Vec<&Record> = Vec::new();
        // Amendments placed in this group (target, seq, id), and what its erasures erase.
        let mut fresh_amendments: Vec<(RecordId, u64, RecordId)> = Vec::new();
        let mut erased_now: HashMap<RecordId, ErasedBy> = HashMap::new();
        // Records placed in this group without their bodies: kind and seq.
        let mut bodyless: HashMap<RecordId, (Kind, u64)> = HashMap::new();
        for r in records {
            let author = r.header.author;
            let head = heads
                .get(&author)
                .or_else(|| self.heads.get(&author))
                .copied();
            let at_seq = match head {
                Some(h) if r.header.seq <= h.seq => match placed.get(&(author, r.header.seq)) {
                    Some(id) => Some(*id),
                    None => self.id_at(&author, r.header.seq)?,
                },
                _ => None,
            };
            let mut outcome = match chain::check_append(r, head.as_ref(), at_seq) {
                Ok(Append::Extends) => Outcome::Stored,
                Ok(Append::AlreadyStored) => Outcome::AlreadyStored,
                Err(e) => Outcome::Refused(e),
            };
            if outcome == Outcome::AlreadyStored
                && !r.body.is_erased()
                && self.erased.contains_key(&r.id)
            {
                // An erased body offered again (a stale peer, an old bundle): refused, counted.
                self.bodies_refused += 1;
            }
            if outcome == Outcome::Stored
                && let Err(e) = self.check_rate(chain::RatePlace::of(r), &placed_at)?
            {
                outcome = Outcome::Refused(e);
            }
            if outcome == Outcome::Stored
                && let Some(target) = r.body.target()
            {
                let mut info = self.target_info(&author, &target, &fresh, &retracted)?;
                if let Some(i) = info.as_mut() {
                    // Erased by another record or decision; the erasure that erased a record
                    // which travelled without its body is this one.
                    let by = erased_now.get(&target).or(self.erased.get(&target));
                    i.erased = by.is_some_and(|b| *b != ErasedBy::Record(r.id));
                }
                if let Err(e) = chain::check_target(r, info) {
                    outcome = Outcome::Refused(e);
                } else if let Body::Erasure(_) = &r.body {
                    let held =
                        self.erasure_held(r, &target, &fresh_amendments, &erased_now, &bodyless)?;
                    if let Err(e) = chain::check_erasure(r, &held) {
                        outcome = Outcome::Refused(e);
                    }
                }
            }
            if outcome == Outcome::Stored
                && let Some(previous) = r.body.previous()
            {
                let info = self.previous_info(&author, &previous, &fresh)?;
                if let Err(e) = chain::check_previous(r, info) {
                    outcome = Outcome::Refused(e);
                }
            }
            if outcome == Outcome::Stored {
                let refs = r.body.record_refs();
                if !refs.is_empty() {
                    let mut kinds = HashMap::new();
                    for (_, id, _) in &refs {
                        let kind = match fresh.get(id) {
                            Some(&(_, k)) => Some(k),
                            None => self.locate(id)?.map(|loc| loc.kind),
                        };
                        kinds.insert(*id, kind);
                    }
                    if let Err(e) =
                        chain::check_references(r, |id| kinds.get(id).copied().flatten())
                    {
                        outcome = Outcome::Refused(e);
                    }
                }
            }
            if outcome == Outcome::Stored
                && let Some((programme, version)) = r.body.confirms()
            {
                let info = self.version_info(&programme, &version, &accepted, &erased_now)?;
                if let Err(e) = chain::check_confirmation(r, info) {
                    outcome = Outcome::Refused(e);
                }
            }
            if outcome == Outcome::Stored {
                heads.insert(author, head_of(r));
                fresh.insert(r.id, (author, r.header.kind));
                placed.insert((author, r.header.seq), r.id);
                placed_at.insert((author, r.header.seq), r.header.created_at);
                match (&r.body, r.body.target()) {
                    (Body::Retraction(_), Some(t)) => {
                        retracted.insert(t, ());
                    }
                    (Body::Amendment(_), Some(t)) => fresh_amendments.push((t, r.header.seq, r.id)),
                    (Body::Erasure(_), _) => {
                        for id in r.body.erases() {
                            erased_now.entry(id).or_insert(ErasedBy::Record(r.id));
                        }
                    }
                    (Body::Erased { .. }, _) => {
                        if let Ok(proof) = SignedRecord::decode(&r.signed.erasure) {
                            erased_now.insert(r.id, ErasedBy::Record(proof.id()));
                        }
                        bodyless.insert(r.id, (r.header.kind, r.header.seq));
                    }
                    _ => {}
                }
                accepted.push(r);
            }
            outcomes.push(outcome);
        }
        if accepted.is_empty() {
            return Ok(Staged {
                outcomes,
                group: None,
            });
        }
        let payloads: Vec<Vec<u8>> = accepted
            .iter()
            .map(|r| {
                if !r.body.is_erased() && self.erased.contains_key(&r.id) {
                    // Erased (by a decision) before it arrived: its body is never stored.
                    self.bodies_refused += 1;
                    r.signed.erased(Vec::new()).encode()
                } else {
                    r.signed.encode()
                }
            })
            .collect();
        let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
        let written = self.journal.write_group(&refs)?;
        match self.index_group(&accepted, written.offsets()) {
            Ok(index) => Ok(Staged {
                outcomes,
                group: Some(Box::new(Group {
                    written,
                    index,
                    heads,
                    times: accepted
                        .iter()
                        .map(|r| (r.header.author, r.header.created_at))
                        .collect(),
                    retracted: retracted.into_keys().collect(),
                    erased: erased_now,
                })),
            }),
            Err(e) => {
                self.journal.discard(written);
                Err(e)
            }
        }
    }

    /// The index entries of `accepted`, written at `offsets`: the sled batch and what the
    /// writer's overlay holds until sled has it.
    fn index_group(&self, accepted: &[&Record], offsets: &[u64]) -> Result<GroupIndex, StoreError> {
        let mut batch = sled::Batch::default();
        let mut chunks = LogChunks::new(&self.dir);
        let mut located = Vec::with_capacity(accepted.len());
        for (r, offset) in accepted.iter().zip(offsets) {
            let loc = index_record(
                &mut batch,
                &mut chunks,
                &|a, c| self.chunk_value(a, c),
                r,
                *offset,
            )?;
            located.push((r.id, loc));
        }
        let chunks = chunks.write(&mut batch);
        Ok(GroupIndex {
            batch,
            located,
            chunks,
        })
    }

    /// The second half of [`Store::append`]: once `synced` says the staged group is on disk,
    /// makes it visible (journal length, heads, count, index) and returns the outcomes. If the
    /// sync failed, cuts the group off the journal and returns the failure: nothing of it was
    /// acknowledged or seen.
    pub fn finish(
        &mut self,
        staged: Staged,
        synced: Result<(), JournalError>,
    ) -> Result<Vec<Outcome>, StoreError> {
        let Staged { outcomes, group } = staged;
        let Some(group) = group.map(|g| *g) else {
            return Ok(outcomes);
        };
        if let Err(e) = synced {
            self.journal.discard(group.written);
            return Err(e.into());
        }
        self.journal.confirm(group.written)?;
        // Durable from here on. The index update goes to the writer thread; until it is applied,
        // reads find its entries in the writer's pending overlay.
        let GroupIndex {
            mut batch,
            located,
            chunks,
        } = group.index;
        let count = self.count + located.len() as u64;
        batch.insert(index::META_APPLIED, &self.journal.len().to_be_bytes()[..]);
        batch.insert(index::META_COUNT, &count.to_be_bytes()[..]);
        let number = self.writer.next_job();
        {
            let mut pending = self.writer.pending();
            for (id, loc) in &located {
                pending.ids.insert(*id, (*loc, number));
            }
            for (key, value) in &chunks {
                pending.chunks.insert(*key, (value.clone(), number));
            }
            for t in &group.retracted {
                pending.retracted.insert(*t, number);
            }
        }
        self.count = count;
        self.heads.extend(group.heads);
        self.remember_times(&group.times);
        let job = Job {
            batch,
            number,
            ids: located.into_iter().map(|(id, _)| id).collect(),
            chunks: chunks.into_iter().map(|(key, _)| key).collect(),
            retracted: group.retracted,
        };
        if !self.writer.submit(job) {
            return Err(StoreError::IndexWriter(
                "the index writer thread stopped".into(),
            ));
        }
        if !group.erased.is_empty() {
            let ids: Vec<RecordId> = group.erased.keys().copied().collect();
            for (id, by) in group.erased {
                self.erased.entry(id).or_insert(by);
            }
            let done = self.erase_bodies(&ids)?;
            info!(records = ids.len(), bodies = done, "erased records");
        }
        Ok(outcomes)
    }

    /// The rate rule (docs/PROTOCOL.md §2) for a record at `at`, which extends its log; `batch`
    /// holds the times of records placed earlier in the same group commit. The inner result is
    /// the verdict.
    fn check_rate(
        &self,
        at: chain::RatePlace<'_>,
        batch: &HashMap<(PublicKey, u64), i64>,
    ) -> Result<Result<(), ChainError>, StoreError> {
        let limit = self.charter().limits_at(at.created_at).records_per_hour();
        let Some(earlier) = limit
            .and_then(|l| at.seq.checked_sub(l))
            .filter(|s| *s >= 1)
        else {
            return Ok(Ok(()));
        };
        let time = match batch.get(&(*at.author, earlier)) {
            Some(t) => Some(*t),
            None => self.time_at(at.author, earlier)?,
        };
        Ok(chain::check_rate(at, limit, |_| time))
    }

    /// The rate rule's refusal of a record at `at` when it is the next of its author's log and
    /// over the charter's limit: what [`Store::append`] refuses it with, whatever its signature,
    /// if nothing reaches the log before it. For refusing a flood before its signatures are
    /// checked; `None` otherwise. (A record of the same author and seq that is stored first would
    /// make it a fork instead; verdicts between such siblings depend on their order anyway.)
    pub fn over_rate(&self, at: chain::RatePlace<'_>) -> Result<Option<ChainError>, StoreError> {
        let next = self.heads.get(at.author).map_or(1, |h| h.seq + 1);
        if at.seq != next {
            return Ok(None);
        }
        Ok(self.check_rate(at, &HashMap::new())?.err())
    }

    /// The `created_at` of `author`'s stored record at `seq`: from the recent times when they
    /// reach back that far, else from the journal.
    fn time_at(&self, author: &PublicKey, seq: u64) -> Result<Option<i64>, StoreError> {
        if let (Some(times), Some(head)) = (self.recent.get(author), self.heads.get(author)) {
            let oldest = head.seq + 1 - times.len() as u64;
            if (oldest..=head.seq).contains(&seq) {
                return Ok(times.get((seq - oldest) as usize).copied());
            }
        }
        let Some(id) = self.id_at(author, seq)? else {
            return Ok(None);
        };
        Ok(self
            .get_signed(&id)?
            .and_then(|s| Header::decode(&s.header).ok())
            .map(|h| h.created_at))
    }

    /// Adds the times of newly stored records to [`Store::recent`], keeping at most the rate
    /// rule's look-back per key. Records arrive in seq order per key, right after the head.
    fn remember_times(&mut self, stored: &[(PublicKey, i64)]) {
        let keep = usize::try_from(self.charter().rate_lookback()).unwrap_or(usize::MAX);
        if keep == 0 {
            return;
        }
        for (author, created_at) in stored {
            let times = self.recent.entry(*author).or_default();
            times.push_back(*created_at);
            while times.len() > keep {
                times.pop_front();
            }
        }
    }

    /// Signs `body` with `key` as the next record of its log and stores it durably (one journal
    /// write and `fdatasync`): [`Store::publish_group`] with one body.
    pub fn publish(
        &mut self,
        key: &SecretKey,
        body: &Body,
        now_ms: i64,
    ) -> Result<Record, StoreError> {
        self.publish_group(key, &[body], now_ms)
            .pop()
            .expect("publish_group answers every body it is given")
    }

    /// Signs `bodies`, in order, as the next records of `key`'s log and stores them in one group
    /// commit: one journal write and one `fdatasync` for all that are valid. One result per body,
    /// in order; a body that is refused (it breaks a rule, its key's validity ended, the rate
    /// rule) takes no seq, and the bodies after it take the seqs that follow. The outer error is
    /// a store failure (the node stops).
    ///
    /// Nothing signed here leaves the store before it is durable: the records are returned only
    /// once the group is on disk, and a record that was signed but then refused is dropped, so
    /// no two records with one seq are ever seen by anyone. Each signed record is checked by the
    /// same rules as one received ([`record::precheck`]), so the node never stores what its peers
    /// would refuse; its signature, made here a moment before, is not verified a second time
    /// ([`record::Unverified::signed_here`]).
    pub fn publish_group(
        &mut self,
        key: &SecretKey,
        bodies: &[&Body],
        now_ms: i64,
    ) -> Vec<Result<Record, StoreError>> {
        Self::publish_in(self, key, bodies, now_ms)
    }

    /// [`Store::publish_group`] through `access`, which is let go while each round's
    /// `fdatasync` runs ([`Staged::sync`]); each round signs with read access only.
    pub fn publish_in(
        mut access: impl Access,
        key: &SecretKey,
        bodies: &[&Body],
        now_ms: i64,
    ) -> Vec<Result<Record, StoreError>> {
        let author = key.public_key();
        if access
            .read()
            .governance
            .charter()
            .member_by_key(&author)
            .is_none()
        {
            return bodies
                .iter()
                .map(|_| Err(StoreError::NotAMember(author.to_hex())))
                .collect();
        }
        // A round signs the bodies not yet answered as consecutive records from the log's head
        // and stores them up to the first that is refused (before signing, by the rules or by
        // the log), which is answered with its refusal. The records signed after it are dropped
        // unseen (their seqs are not taken) and their bodies go round again. A group without
        // refusals takes one round; each round answers at least one body.
        let mut results: Vec<Result<Record, StoreError>> = Vec::with_capacity(bodies.len());
        while results.len() < bodies.len() {
            let todo = &bodies[results.len()..];
            // Signed beside readers; only the journal write and the index batch exclude them.
            let signed = access.read().sign_and_check(key, todo, now_ms);
            let round = signed.and_then(|s| access.write().stage_round(s));
            let done = round.and_then(|round| {
                let synced = round.staged.sync();
                access.write().finish_round(round, synced, &mut results)
            });
            if let Err(e) = done {
                // The store failed: this body is answered with the failure, the rest with a
                // pointer to it; what earlier rounds stored stays stored and answered.
                let (cause, storage_full) = (e.to_string(), e.storage_full());
                results.push(Err(e));
                while results.len() < bodies.len() {
                    results.push(Err(StoreError::GroupFailed {
                        cause: cause.clone(),
                        storage_full,
                    }));
                }
            }
        }
        results
    }

    /// The start of one round of [`Store::publish_group`] over the bodies not yet answered:
    /// signs them from the log's head and checks them by every rule a peer applies, up to the
    /// first refused. Reads the store only.
    fn sign_and_check(
        &self,
        key: &SecretKey,
        todo: &[&Body],
        now_ms: i64,
    ) -> Result<Signed, StoreError> {
        let author = key.public_key();
        let mut round = self.sign_round(key, todo, now_ms)?;
        let mut refused = match round.last() {
            Some(Err(_)) => round.pop().and_then(Result::err),
            _ => None,
        };
        let signed: Vec<SignedRecord> = round.into_iter().flatten().collect();
        let head_created = self.heads.get(&author).map_or(i64::MIN, |h| h.created_at);
        let mut valid = Vec::with_capacity(signed.len());
        // Every rule a peer applies, but not a second verification of signatures made here a
        // moment ago (`Unverified::signed_here`): each peer verifies them before it stores or
        // forwards.
        let charter = self.governance.charter();
        let at = now_ms.max(head_created);
        for s in signed {
            match record::precheck_signed(s, charter, at).and_then(|u| u.signed_here(key)) {
                Ok(r) => valid.push(r),
                Err(e) => {
                    refused = Some(StoreError::Invalid(e));
                    break;
                }
            }
        }
        Ok(Signed {
            valid,
            refused,
            author,
        })
    }

    /// Stages what [`Store::sign_and_check`] signed ([`Store::stage`]). The log cannot have
    /// moved meanwhile: the caller is the only writer.
    fn stage_round(&mut self, signed: Signed) -> Result<Round, StoreError> {
        let staged = self.stage(&signed.valid)?;
        Ok(Round { staged, signed })
    }

    /// The second half of a round: makes it visible ([`Store::finish`]) and answers the bodies
    /// it stored and the first it refused, adding to `results`.
    fn finish_round(
        &mut self,
        round: Round,
        synced: Result<(), JournalError>,
        results: &mut Vec<Result<Record, StoreError>>,
    ) -> Result<(), StoreError> {
        let Round {
            staged,
            signed:
                Signed {
                    valid,
                    mut refused,
                    author,
                },
        } = round;
        let outcomes = self.finish(staged, synced)?;
        for (r, outcome) in valid.into_iter().zip(outcomes) {
            match outcome {
                Outcome::Stored => results.push(Ok(r)),
                Outcome::Refused(e) => {
                    refused = Some(e.into());
                    break;
                }
                // A freshly signed record at a fresh seq can be neither stored nor refused
                // only if the log moved under us, which the one writer rules out.
                Outcome::AlreadyStored => {
                    refused = Some(StoreError::Chain(ChainError::SeqRepeated {
                        author: author.to_hex(),
                        seq: r.header.seq,
                        existing: r.id,
                    }));
                    break;
                }
            }
        }
        if let Some(e) = refused {
            results.push(Err(e));
        }
        Ok(())
    }

    /// Signs `bodies` as consecutive records from `key`'s head, each checked first against what
    /// would refuse it before signing (its key's validity, the rate rule), an erasure's list of
    /// amendments filled in. Stops at the first body refused: one result per body up to and
    /// including it.
    fn sign_round(
        &self,
        key: &SecretKey,
        bodies: &[&Body],
        now_ms: i64,
    ) -> Result<Vec<Result<SignedRecord, StoreError>>, StoreError> {
        let author = key.public_key();
        let charter = self.governance.charter();
        let mut position = match self.head(&author)? {
            None => Position::FIRST,
            Some(h) => Position {
                seq: h.seq + 1,
                prev: Some(h.id),
                prev_created_at: h.created_at,
            },
        };
        let mut placed_at: HashMap<(PublicKey, u64), i64> = HashMap::new();
        let mut fresh_amendments: Vec<(RecordId, u64, RecordId)> = Vec::new();
        let mut out = Vec::with_capacity(bodies.len());
        for &body in bodies {
            // A key a decision ended (rotated, revoked, suspended) signs nothing more.
            if let Some(Some(last_seq)) = charter.key_last_seq(&author)
                && position.seq > last_seq
            {
                out.push(Err(StoreError::Invalid(RecordError::KeyNotValid {
                    author: author.to_hex(),
                    member: charter
                        .member_by_key(&author)
                        .map(|m| m.code.clone())
                        .unwrap_or_default(),
                    seq: position.seq,
                    last_seq,
                })));
                break;
            }
            // Over the rate limit, nothing is signed (the same check as `append`'s, made first).
            let created_at = now_ms.max(position.prev_created_at);
            let place = chain::RatePlace {
                author: &author,
                seq: position.seq,
                created_at,
            };
            if let Err(e) = self.check_rate(place, &placed_at)? {
                out.push(Err(e.into()));
                break;
            }
            // An erasure lists its target's amendments (a chain rule): filled in when left out.
            let filled;
            let body = match body {
                Body::Erasure(e) if e.amendments.is_empty() => {
                    let Ok(target) = <[u8; 32]>::try_from(e.target.as_slice()).map(RecordId) else {
                        out.push(Err(StoreError::Invalid(RecordError::Body(
                            hubnet_protocol::validate::BodyError::InvalidDigest {
                                field: "target".into(),
                                len: e.target.len(),
                            },
                        ))));
                        break;
                    };
                    let mut e = e.clone();
                    e.amendments = self
                        .amendments_of(&target, &fresh_amendments)?
                        .iter()
                        .map(|a| a.0.to_vec())
                        .collect();
                    filled = Body::Erasure(e);
                    &filled
                }
                other => other,
            };
            let signed = record::sign(key, charter.network_id(), position, now_ms, body);
            let id = signed.id();
            if let (Body::Amendment(_), Some(target)) = (body, body.target()) {
                fresh_amendments.push((target, position.seq, id));
            }
            placed_at.insert((author, position.seq), created_at);
            position = Position {
                seq: position.seq + 1,
                prev: Some(id),
                prev_created_at: created_at,
            };
            out.push(Ok(signed));
        }
        Ok(out)
    }

    /// Keeps `r` as fork evidence: a valid record whose (author, seq) the log holds with another
    /// id. Durable when this returns. Returns false if it was already held (or is the log's own).
    pub fn add_fork(&mut self, r: &Record) -> Result<bool, StoreError> {
        let key = (r.header.author, r.header.seq);
        match self.id_at(&r.header.author, r.header.seq)? {
            Some(id) if id != r.id => {}
            _ => return Ok(false),
        }
        if self
            .forks
            .get(&key)
            .is_some_and(|v| v.iter().any(|s| s.id() == r.id))
        {
            return Ok(false);
        }
        let bytes = r.signed.encode();
        self.forks_journal.append(&[&bytes])?;
        warn!(
            member = %r.member,
            seq = r.header.seq,
            evidence = %r.id,
            "fork: the author signed two records with one seq; both are kept as evidence"
        );
        self.forks.entry(key).or_default().push(r.signed.clone());
        Ok(true)
    }

    /// What this store holds, in brief: every log's head and the seqs with fork evidence (what
    /// sync exchanges, and what `heads_digest` is computed over).
    ///
    /// A head beyond its key's last valid seq (records stored before the decision that ended the
    /// key's validity) is given at that seq: what this node holds as valid.
    pub fn summary(&self) -> Summary {
        let heads = self
            .heads
            .iter()
            .filter_map(
                |(author, h)| match self.governance.charter().key_last_seq(author) {
                    Some(Some(last)) if h.seq > last => {
                        let id = self.id_at(author, last).ok().flatten()?;
                        Some((*author, HeadRef { seq: last, id }))
                    }
                    _ => Some((
                        *author,
                        HeadRef {
                            seq: h.seq,
                            id: h.id,
                        },
                    )),
                },
            )
            .collect();
        Summary {
            heads,
            forks: self.forks.keys().copied().collect(),
            decisions: self.governance.digest(),
        }
    }

    /// Every (author, seq) with fork evidence, and the extra records held there.
    pub fn forks(&self) -> &BTreeMap<(PublicKey, u64), Vec<SignedRecord>> {
        &self.forks
    }

    /// The proof of a fork at (`author`, `seq`): the log's record and one other.
    pub fn fork_proof(
        &self,
        author: &PublicKey,
        seq: u64,
    ) -> Result<Option<(SignedRecord, SignedRecord)>, StoreError> {
        let Some(other) = self.forks.get(&(*author, seq)).and_then(|v| v.first()) else {
            return Ok(None);
        };
        let Some(id) = self.id_at(author, seq)? else {
            return Ok(None);
        };
        Ok(self.get_signed(&id)?.map(|own| (own, other.clone())))
    }

    fn fork_record(&self, id: &RecordId) -> Option<&SignedRecord> {
        self.forks.values().flatten().find(|s| s.id() == *id)
    }

    /// Flushes the index (not needed for durability: the journal is; this shortens the next replay).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.writer.sync();
        self.db.flush()?;
        Ok(())
    }

    /// The id the log holds at (`author`, `seq`).
    pub fn id_at(&self, author: &PublicKey, seq: u64) -> Result<Option<RecordId>, StoreError> {
        let Some(v) = self.chunk_value(author, index::chunk_of(seq))? else {
            return Ok(None);
        };
        let at = index::slot_of(seq) * 32;
        Ok(v.get(at..at + 32).and_then(index::decode_id))
    }

    /// The current value of a log chunk: pending, or in sled.
    fn chunk_value(&self, author: &PublicKey, chunk: u64) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some((value, _)) = self.writer.pending().chunks.get(&(*author, chunk)) {
            return Ok(Some(value.clone()));
        }
        Ok(self
            .db
            .get(index::log_key(author, chunk))?
            .map(|v| v.to_vec()))
    }

    fn previous_info(
        &self,
        author: &PublicKey,
        previous: &RecordId,
        fresh: &HashMap<RecordId, (PublicKey, Kind)>,
    ) -> Result<Option<PreviousInfo>, StoreError> {
        let (previous_author, kind) = match fresh.get(previous) {
            Some(&(a, k)) => (a, k),
            None => match self.locate(previous)? {
                Some(loc) => (loc.author, loc.kind),
                None => return Ok(None),
            },
        };
        Ok(Some(PreviousInfo {
            same_author: previous_author == *author,
            kind,
            member: self
                .charter()
                .member_by_key(&previous_author)
                .map(|m| m.code.clone())
                .unwrap_or_default(),
        }))
    }

    fn target_info(
        &self,
        author: &PublicKey,
        target: &RecordId,
        fresh: &HashMap<RecordId, (PublicKey, Kind)>,
        retracted_now: &HashMap<RecordId, ()>,
    ) -> Result<Option<TargetInfo>, StoreError> {
        let (target_author, kind) = match fresh.get(target) {
            Some(&(a, k)) => (a, k),
            None => match self.locate(target)? {
                Some(loc) => (loc.author, loc.kind),
                None => return Ok(None),
            },
        };
        Ok(Some(TargetInfo {
            same_author: target_author == *author,
            kind,
            retracted: retracted_now.contains_key(target) || self.is_retracted(target)?,
            erased: self.erased.contains_key(target),
        }))
    }

    /// The amendments of `target` an erasure `r` must list: those stored with their bodies (and
    /// placed earlier in this group), and those that travelled without their bodies because `r`
    /// erased them (their bodies, which name the target, are gone), in log order.
    fn erasure_held(
        &self,
        r: &Record,
        target: &RecordId,
        fresh: &[(RecordId, u64, RecordId)],
        erased_now: &HashMap<RecordId, ErasedBy>,
        bodyless: &HashMap<RecordId, (Kind, u64)>,
    ) -> Result<Vec<RecordId>, StoreError> {
        let mut held: Vec<(u64, RecordId)> = Vec::new();
        for id in self.amendments_of(target, fresh)? {
            let seq = match fresh.iter().find(|(_, _, a)| a == &id) {
                Some((_, seq, _)) => *seq,
                None => self.locate(&id)?.map_or(0, |l| l.seq),
            };
            held.push((seq, id));
        }
        for id in r.body.erases().iter().skip(1) {
            let by = erased_now.get(id).or(self.erased.get(id));
            if by != Some(&ErasedBy::Record(r.id)) {
                continue;
            }
            let place = match bodyless.get(id) {
                Some(&(kind, seq)) => Some((kind, seq, r.header.author)),
                None => self.locate(id)?.map(|l| (l.kind, l.seq, l.author)),
            };
            if let Some((Kind::Amendment, seq, author)) = place
                && author == r.header.author
            {
                held.push((seq, *id));
            }
        }
        held.sort();
        held.dedup();
        Ok(held.into_iter().map(|(_, id)| id).collect())
    }

    /// What a confirmation's `version` of `programme` is (`chain::check_confirmation`): a
    /// record of this group (`accepted`) or a stored one; `None` if neither holds it. An erased
    /// one is judged on what erasure leaves (`chain::erased_version`).
    fn version_info(
        &self,
        programme: &RecordId,
        version: &RecordId,
        accepted: &[&Record],
        erased_now: &HashMap<RecordId, ErasedBy>,
    ) -> Result<Option<chain::VersionInfo>, StoreError> {
        let held = |id: &RecordId| -> Result<Option<Record>, StoreError> {
            match accepted.iter().find(|r| r.id == *id) {
                Some(r) => Ok(Some((*r).clone())),
                None => self.get(id),
            }
        };
        let Some(r) = held(version)? else {
            return Ok(None);
        };
        let by = erased_now.get(&r.id).or(self.erased.get(&r.id)).copied();
        if !r.body.is_erased() && by.is_none() {
            return Ok(Some(match r.body.programme_version(r.id) {
                Some((programme, members)) => chain::VersionInfo::Version { programme, members },
                None => chain::VersionInfo::Other,
            }));
        }
        // The erasure's target: from the proof the record carries, else from the erasure record.
        let from_proof = SignedRecord::decode(&r.signed.erasure)
            .ok()
            .and_then(|proof| {
                <hubnet_proto::v1::Erasure as prost::Message>::decode(proof.body.as_slice()).ok()
            })
            .and_then(|e| <[u8; 32]>::try_from(e.target.as_slice()).ok().map(RecordId));
        let target = match (from_proof, by) {
            (Some(t), _) => Some(t),
            (None, Some(ErasedBy::Record(e))) => held(&e)?.and_then(|e| e.body.target()),
            _ => None,
        };
        let programme_author = match accepted.iter().find(|p| p.id == *programme) {
            Some(p) => Some(p.header.author),
            None => self.locate(programme)?.map(|l| l.author),
        };
        Ok(Some(chain::erased_version(
            *programme,
            r.id,
            r.header.kind,
            &r.header.author,
            programme_author.as_ref(),
            target,
        )))
    }

    /// The ids of `target`'s amendments stored, in log order, with those of `fresh` (placed
    /// earlier in the group commit being checked).
    fn amendments_of(
        &self,
        target: &RecordId,
        fresh: &[(RecordId, u64, RecordId)],
    ) -> Result<Vec<RecordId>, StoreError> {
        // The index batches still on the writer thread are applied first.
        self.writer.sync();
        let mut out: Vec<(u64, RecordId)> = Vec::new();
        for item in self.db.scan_prefix(index::amended_prefix(target)) {
            let (k, v) = item?;
            let seq = index::decode_u64(&k[33..]).ok_or_else(|| self.damaged(&k))?;
            out.push((seq, index::decode_id(&v).ok_or_else(|| self.damaged(&k))?));
        }
        out.extend(
            fresh
                .iter()
                .filter(|(t, _, _)| t == target)
                .map(|(_, seq, id)| (*seq, *id)),
        );
        out.sort();
        out.dedup();
        Ok(out.into_iter().map(|(_, id)| id).collect())
    }

    fn damaged(&self, key: &[u8]) -> StoreError {
        StoreError::DamagedIndex {
            key: hex::encode(key),
            dir: self.dir.clone(),
        }
    }
}

/// Reads a log chunk's current value.
type ChunkSource<'a> = dyn Fn(&PublicKey, u64) -> Result<Option<Vec<u8>>, StoreError> + 'a;

/// Adds `r`'s id entry to `batch` and its log entry to `chunks`; returns its location.
fn index_record(
    batch: &mut sled::Batch,
    chunks: &mut LogChunks,
    source: &ChunkSource<'_>,
    r: &Record,
    offset: u64,
) -> Result<RecordLocation, StoreError> {
    let author = r.header.author;
    let loc = RecordLocation {
        offset,
        seq: r.header.seq,
        kind: r.header.kind,
        author,
    };
    batch.insert(&index::record_key(&r.id)[..], &loc.encode()[..]);
    match (&r.body, r.body.target()) {
        (Body::Retraction(_), Some(target)) => {
            batch.insert(&index::retracted_key(&target)[..], &r.id.as_bytes()[..]);
        }
        (Body::Amendment(_), Some(target)) => {
            batch.insert(
                &index::amended_key(&target, r.header.seq)[..],
                &r.id.as_bytes()[..],
            );
        }
        (Body::Erasure(_), _) => {
            let by = ErasedBy::Record(r.id).encode();
            for id in r.body.erases() {
                batch.insert(&index::erased_key(&id)[..], &by[..]);
            }
        }
        (Body::Confirmation(_), _) => {
            if let Some((programme, _)) = r.body.confirms() {
                batch.insert(&index::confirmed_key(&programme, &r.id)[..], &[][..]);
            }
        }
        (Body::Erased { .. }, _) => {
            // Stored as received, without its body: the erasure record it came with says why.
            if let Ok(proof) = SignedRecord::decode(&r.signed.erasure) {
                let by = ErasedBy::Record(proof.id()).encode();
                batch.insert(&index::erased_key(&r.id)[..], &by[..]);
            }
        }
        _ => {}
    }
    chunks.push(source, author, r.header.seq, r.id)?;
    Ok(loc)
}

/// The log chunk values one index batch extends: each chunk is read once, extended in memory and
/// written once.
struct LogChunks {
    dir: PathBuf,
    values: HashMap<(PublicKey, u64), Vec<u8>>,
}

/// Reads the fork evidence journal.
fn load_forks(
    journal: &mut Journal,
    charter: &Charter,
) -> Result<BTreeMap<(PublicKey, u64), Vec<SignedRecord>>, StoreError> {
    let (entries, torn) = journal.recover_from(HEADER_LEN)?;
    if torn > 0 {
        warn!(torn_bytes = torn, "dropped a torn last fork evidence entry");
    }
    let mut forks: BTreeMap<(PublicKey, u64), Vec<SignedRecord>> = BTreeMap::new();
    for e in entries {
        let r = record::decode_stored(&e.payload, charter).map_err(|source| {
            StoreError::BadJournalRecord {
                offset: e.offset,
                cause: source,
            }
        })?;
        forks
            .entry((r.header.author, r.header.seq))
            .or_default()
            .push(r.signed);
    }
    Ok(forks)
}

impl LogChunks {
    fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_owned(),
            values: HashMap::new(),
        }
    }

    fn push(
        &mut self,
        source: &ChunkSource<'_>,
        author: PublicKey,
        seq: u64,
        id: RecordId,
    ) -> Result<(), StoreError> {
        let chunk = index::chunk_of(seq);
        let value = match self.values.entry((author, chunk)) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let existing = if index::slot_of(seq) == 0 {
                    Vec::new()
                } else {
                    source(&author, chunk)?.unwrap_or_default()
                };
                e.insert(existing)
            }
        };
        if value.len() != index::slot_of(seq) * 32 {
            return Err(StoreError::DamagedIndex {
                key: hex::encode(index::log_key(&author, chunk)),
                dir: self.dir.clone(),
            });
        }
        value.extend_from_slice(id.as_bytes());
        Ok(())
    }

    /// Puts every extended chunk into `batch` and returns the values written.
    fn write(self, batch: &mut sled::Batch) -> Vec<((PublicKey, u64), Vec<u8>)> {
        let mut out = Vec::with_capacity(self.values.len());
        for ((author, chunk), value) in self.values {
            batch.insert(&index::log_key(&author, chunk)[..], value.clone());
            out.push(((author, chunk), value));
        }
        out
    }
}

fn head_of(r: &Record) -> ChainHead {
    ChainHead {
        seq: r.header.seq,
        id: r.id,
        created_at: r.header.created_at,
    }
}

fn verify_charter(path: &Path, text: &str) -> Result<Charter, StoreError> {
    hubnet_protocol::charter::CharterDoc::from_toml(text)
        .and_then(|doc| doc.verify())
        .map_err(|source| StoreError::Charter {
            path: path.to_owned(),
            cause: source,
        })
}

/// Opens the sled index. Only this process can hold it (the data dir's LOCK is ours), so a sled
/// file lock that is still held belongs to a store of this process that was just closed: sled's
/// background flusher lets go of it a moment after the last handle is dropped. That is waited
/// for (up to [`SLED_LOCK_WAIT`]) instead of being taken for an unreadable index, which would set
/// the index aside and rebuild it for nothing.
fn open_sled(dir: &Path) -> Result<sled::Db, sled::Error> {
    remove_unfinished_snapshots(dir)?;
    let open = || {
        sled::Config::new()
            .path(dir)
            .cache_capacity(SLED_CACHE_BYTES)
            .mode(sled::Mode::HighThroughput)
            .open()
    };
    // sled reports a held lock as an `Other` IO error with this text (config.rs).
    retry_while_held(
        SLED_LOCK_WAIT,
        open,
        |e| matches!(e, sled::Error::Io(io) if io.to_string().starts_with(SLED_LOCK_HELD)),
    )
}

/// `attempt` again every 10 ms while its error says a lock is `held`, for at most `wait`; then
/// whatever it last gave.
fn retry_while_held<T, E>(
    wait: std::time::Duration,
    mut attempt: impl FnMut() -> Result<T, E>,
    held: impl Fn(&E) -> bool,
) -> Result<T, E> {
    let deadline = std::time::Instant::now() + wait;
    loop {
        match attempt() {
            Err(e) if held(&e) && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(10)); // retry until the deadline
            }
            other => return other,
        }
    }
}

/// Removes the snapshot files sled began and did not finish (`snap.<lsn>.generating`). sled 0.34
/// writes a snapshot under that name and renames it when whole, deleting older ones only after
/// the rename; but when it opens an index it reads the last `snap.` file by name, unfinished ones
/// included, and reports a corrupt index if that one is empty or torn (spacejam/sled#1527). A
/// full disk or a kill while a snapshot was written then made the index be rebuilt from the
/// journal, which on a full disk fails again. Without the unfinished file the index opens from
/// its last whole snapshot and the log after it, as before the snapshot was begun.
fn remove_unfinished_snapshots(dir: &Path) -> Result<(), std::io::Error> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        let unfinished = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("snap.") && n.ends_with(".generating"));
        if unfinished {
            warn!(file = %path.display(), "removing an index snapshot that was not finished");
            fs::remove_file(&path)?;
        }
    }
    Ok(())
}

/// Whether sled could not open the index for a reason outside it: the disk or quota is full,
/// the process may not read or write it, the file system is read-only, the process is out of
/// memory or file descriptors, or its lock is held. Setting such an index aside to rebuild it
/// would leave a good index unused (and, on a full disk, a rebuild fails too, so each start set
/// another one aside). Anything else (sled's own corruption reports, damaged files) is rebuilt.
fn outside_index(e: &sled::Error) -> bool {
    let sled::Error::Io(io) = e else {
        return false;
    };
    crate::durable::environmental(io) || io.to_string().starts_with(SLED_LOCK_HELD)
}

/// How sled 0.34 begins the message of the `Other` IO error it reports for a held lock
/// (config.rs).
const SLED_LOCK_HELD: &str = "could not acquire lock";

/// Checks the index's schema version; an older one is cleared, to be rebuilt from the journal
/// (returns `true` then).
fn check_schema(db: &sled::Db) -> Result<bool, StoreError> {
    match db.get(index::META_SCHEMA)? {
        None if db.is_empty() => {
            db.insert(index::META_SCHEMA, &SCHEMA_VERSION.to_be_bytes())?;
            Ok(false)
        }
        None => Err(StoreError::UnknownSchema { found: Vec::new() }),
        Some(v) => match <[u8; 4]>::try_from(v.as_ref()).map(u32::from_be_bytes) {
            Ok(SCHEMA_VERSION) => Ok(false),
            Ok(found) if found > SCHEMA_VERSION => Err(StoreError::SchemaTooNew { found }),
            Ok(found) if found >= 1 => {
                warn!(
                    found,
                    now = SCHEMA_VERSION,
                    "index schema is older than this build's; rebuilding it from the journal"
                );
                db.clear()?;
                db.insert(index::META_SCHEMA, &SCHEMA_VERSION.to_be_bytes())?;
                Ok(true)
            }
            _ => Err(StoreError::UnknownSchema { found: v.to_vec() }),
        },
    }
}

/// Finishes an erasure a crash interrupted: the intent file lists the journal offsets it was
/// overwriting; each is erased again (idempotent) and synced before the journal is read.
fn finish_erasing(dir: &Path, journal: &mut Journal) -> Result<(), StoreError> {
    let intent = dir.join(ERASING_FILE);
    let bytes = match fs::read(&intent) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(io(&intent, source)),
    };
    // A torn intent file was never acted on: the journal was not touched before it was durable.
    for chunk in bytes.chunks_exact(8) {
        let mut offset = [0u8; 8];
        offset.copy_from_slice(chunk);
        journal.erase_body(u64::from_le_bytes(offset))?;
    }
    journal.sync()?;
    warn!(
        entries = bytes.len() / 8,
        "finished an erasure a stop interrupted"
    );
    fs::remove_file(&intent).map_err(|source| io(&intent, source))
}

fn set_aside(index_dir: &Path) -> Result<PathBuf, StoreError> {
    let mut n = 1;
    loop {
        let aside = index_dir.with_file_name(format!("{INDEX_DIR}.broken-{n}"));
        if !aside.exists() {
            fs::rename(index_dir, &aside).map_err(|source| io(index_dir, source))?;
            return Ok(aside);
        }
        n += 1;
    }
}

fn io(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.to_owned(),
        cause: source,
    }
}

#[cfg(test)]
mod erasure_tests;
#[cfg(test)]
mod tests;
