//! Keeps the search index in step with the store: reads the journal from the offset the last
//! commit reached, turns each record into the new state of the practice or event it concerns,
//! and commits with the new offset as the payload. The store lock is held only to read; tantivy
//! work happens without it.
//!
//! Only records that count are indexed: a record past its key's last valid seq (a rotation,
//! revocation or suspension, docs/PROTOCOL.md §7) is skipped, and so are its amendments and
//! retractions, which share its key. When a governance decision changes a key's last valid seq,
//! the indexer derives the documents of that key's log again under the new state (read under the
//! lock like a journal batch, written without it). The payload also records the governance
//! followed (the decisions' digest and every key's last valid seq), so after a restart only the
//! keys a decision changed meanwhile are derived again.
//!
//! Search comes after what a node acknowledges: the indexing threads run at a lower priority,
//! and while the ingest worker reports a backlog ([`Waker::backlog`]) the indexer yields the
//! cores in bounded turns ([`Turns`]).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hubnet_protocol::governance::{KeyLastSeqs, key_changes};
use hubnet_protocol::record;
use hubnet_protocol::{Body, Kind, PublicKey, Record, RecordId};
use tantivy::indexer::UserOperation;
use tantivy::{IndexWriter, TantivyDocument};
use tracing::{info, warn};

use super::{DocState, LAYOUT_VERSION, Payload, SearchError, SearchIndex};
use crate::current::Current;
use crate::kinds::is_content;
use crate::store::{Store, StoreError};

/// Journal entries read per lock of the store.
const BATCH: usize = 2048;
/// Operations handed to the indexing threads at once: one channel message and at most one
/// wake-up for each group instead of each document (waking the indexing threads for every
/// document was about a tenth of the indexing CPU, BENCHMARKS.md).
const OPS_PER_SEND: usize = 64;
/// Indexing threads: tokenising and stemming is the cost, and a rebuild should use the machine.
const WRITER_THREADS: usize = 2;
/// The priority of the indexing threads, on thread-priority's scale of 0 (lowest) to 99: about
/// nice 10 on Linux. Under contention for the cores, verifying and storing records (what a node
/// acknowledges) go first and search catches up after (nice 10 weighs a tenth of nice 0); on an
/// idle machine it costs nothing.
const BACKGROUND_PRIORITY: u8 = 22;
/// The writer's memory budget (shared by its threads).
const WRITER_BYTES: usize = 128 * 1024 * 1024;
/// Commits at least this far apart while records keep arriving (each commit makes a segment,
/// starts tantivy's indexing threads again and leads to merges). A record that arrives after a
/// quiet spell is committed at once; one that trickles in after another waits up to this long.
/// At 200 ms, a network of ten nodes on two cores under a trickle spent about a third of its CPU
/// on search commits and merges (BENCHMARKS.md, "Flood").
const COMMIT_SPACING: Duration = Duration::from_secs(1);
/// While records keep arriving, a commit at least this often.
const BUSY_COMMIT_EVERY: Duration = Duration::from_secs(1);
/// The first pause after a failure, doubled each time up to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_secs(1);
/// The longest pause between attempts after failures.
const RETRY_MAX: Duration = Duration::from_secs(60);
/// While rebuilding, a commit at least every this many records, so a crash loses little work.
const REBUILD_COMMIT_EVERY: u64 = 100_000;
/// A progress line this often while a backlog is indexed.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);
/// How long the thread sleeps when nothing wakes it: a safety net, the worker wakes it.
const IDLE_POLL: Duration = Duration::from_secs(2);
/// How long one report of an ingest backlog ([`Waker::backlog`]) holds indexing back; each full
/// batch of the ingest worker renews it.
const BACKLOG_HOLD: Duration = Duration::from_millis(250);
/// The longest indexing yields to an ingest backlog in a row ...
pub(super) const YIELD_MAX: Duration = Duration::from_secs(4);
/// ... after which it indexes for at least this long whatever the backlog, so that search
/// follows even a load that never ends (at its lower priority).
const RUN_MIN: Duration = Duration::from_secs(1);
/// While yielding, how often the thread looks whether the backlog ended (the worker's wake-ups
/// come more often than this while it stores).
const YIELD_POLL: Duration = Duration::from_millis(100);

/// Which segments an erasure's purge rewrites.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Purge {
    /// None.
    Nothing,
    /// Those that held the erased documents.
    Segments(HashSet<tantivy::index::SegmentId>),
    /// Every one holding deleted documents.
    All,
}

/// Applies the journal to a [`SearchIndex`].
pub struct Indexer {
    index: SearchIndex,
    writer: IndexWriter<TantivyDocument>,
    network: String,
    /// The journal offset the last commit reached.
    committed: u64,
    /// The journal offset read up to (applied to the writer, maybe not committed).
    applied: u64,
    /// States written since the last commit (the committed reader does not see them yet).
    overlay: HashMap<RecordId, DocState>,
    /// Records applied since the last commit.
    uncommitted: u64,
    /// The governance the applied state follows, and the one the last commit recorded.
    governance: Followed,
    committed_governance: Followed,
    /// The segments that held records erased since the last purge.
    purge: Purge,
    /// When a read last found nothing new in the journal, and the offset it had reached: once a
    /// commit covers that offset, the searchable state held the whole journal at that moment.
    drained: Option<(Instant, u64)>,
    /// Whether the index started empty and holds only documents of content records read from
    /// the journal before `applied`, and documents of `outside`: then a content record read from
    /// the journal has no document yet (each record is journaled once) unless it is in `outside`,
    /// and its document is added without first deleting its id (a rebuild's deletes cost a term
    /// lookup per document and segment at every commit).
    journal_only: bool,
    /// While `journal_only`, the documents written from the store rather than from the journal
    /// (derived again after a governance decision, or a programme whose confirmations changed).
    outside: HashSet<RecordId>,
}

/// What a batch changes in the index: documents to write (each replaces any of its id) and
/// documents to remove.
#[derive(Debug, Default)]
pub struct Batch {
    currents: Vec<Current>,
    /// The confirmation state of each programme among `currents`.
    states: HashMap<RecordId, &'static str>,
    removed: Vec<RecordId>,
    /// Whether it removes erased records: their text must then leave the index's files too.
    erases: bool,
    /// Documents among `currents` the index cannot hold yet (see `Indexer::journal_only`).
    unindexed: HashSet<RecordId>,
}

impl Batch {
    /// Documents it writes or removes.
    pub fn len(&self) -> usize {
        self.currents.len() + self.removed.len()
    }

    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The governance the index follows: the decisions' digest ([`super::governance_mark`]) and
/// every key's last valid seq under them. Part of the commit payload, so a restart re-derives
/// only the keys a decision changed meanwhile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Followed {
    /// The decisions' digest, hex.
    pub mark: String,
    /// Every key's last valid seq.
    pub last_seqs: KeyLastSeqs,
}

impl Followed {
    /// What `store` holds now.
    pub fn of(store: &Store) -> Self {
        Self {
            mark: super::governance_mark(store),
            last_seqs: store.governance().state().key_last_seqs(),
        }
    }
}

impl Indexer {
    /// An indexer for `index` that has applied the journal up to `applied` under the governance
    /// `followed` (`None`: the store's, as for an index built from the start).
    pub fn new(
        index: SearchIndex,
        applied: u64,
        followed: Option<Followed>,
        store: &Store,
    ) -> Result<Self, SearchError> {
        // The writer starts its indexing and merge threads now; made on a background thread, they
        // inherit its priority (the indexing threads it starts again at each commit inherit the
        // indexer thread's, see `spawn`).
        let writer = std::thread::scope(|s| {
            s.spawn(|| {
                run_in_background();
                index
                    .index
                    .writer_with_num_threads(WRITER_THREADS, WRITER_BYTES)
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })?;
        let journal_only = applied == 0 && index.is_empty();
        let followed = followed.unwrap_or_else(|| Followed::of(store));
        index.set_followed_governance(&followed.mark);
        index.set_progress(applied, None);
        Ok(Self {
            index,
            writer,
            network: store.charter().network_id().to_hex(),
            committed: applied,
            applied,
            overlay: HashMap::new(),
            uncommitted: 0,
            governance: followed.clone(),
            committed_governance: followed,
            purge: Purge::Nothing,
            drained: None,
            journal_only,
            outside: HashSet::new(),
        })
    }

    /// Tells the index how far its searchable state reaches ([`SearchIndex::lag`]).
    fn publish_progress(&self) {
        let caught_up_at = self
            .drained
            .filter(|(_, offset)| *offset <= self.committed)
            .map(|(at, _)| at);
        self.index.set_progress(self.committed, caught_up_at);
    }

    /// Whether applied work waits for a commit.
    fn pending(&self) -> bool {
        self.applied != self.committed || self.governance != self.committed_governance
    }

    /// Follows governance decisions taken since the last call: the documents of every key whose
    /// last valid seq changed are derived again from its log (read under the store lock like a
    /// journal batch; the tantivy work happens in [`Indexer::apply`], without it).
    fn follow_governance(&mut self, store: &Store, batch: &mut Batch) -> Result<(), SearchError> {
        let mark = super::governance_mark(store);
        if mark == self.governance.mark {
            return Ok(());
        }
        let now = Followed::of(store);
        // Records a decision erased (a small set; removing one already gone costs nothing).
        let erased = store.charter().erased_by_decisions();
        let mut programmes = BTreeSet::new();
        if !erased.is_empty() {
            for id in erased.keys() {
                self.overlay.remove(id);
                batch.removed.push(*id);
            }
            batch.erases = true;
            // An erased confirmation or version moves its programme's state, and an erased body
            // no longer names its programme: every programme with a confirmation is derived
            // again (they are few beside the records).
            programmes.extend(store.confirmed_programmes()?);
        }
        let changed = key_changes(&self.governance.last_seqs, &now.last_seqs);
        for (key, _, _) in &changed {
            self.rederive(store, key, batch)?;
        }
        // A key's validity moves its confirmations too: the programmes they name are derived
        // again.
        for (key, _, _) in &changed {
            for (_, id) in store.log(key, 1)? {
                if let Some((p, _)) = store.get(&id)?.and_then(|r| r.body.confirms()) {
                    programmes.insert(p);
                }
            }
        }
        self.programme_states(store, batch, programmes)?;
        if !changed.is_empty() {
            info!(
                keys = changed.len(),
                documents = batch.len(),
                "search index: key validity changed; documents derived again"
            );
        }
        self.governance = now;
        Ok(())
    }

    /// Derives again every document of `key`'s log under the store's governance, into `batch`.
    fn rederive(
        &mut self,
        store: &Store,
        key: &PublicKey,
        batch: &mut Batch,
    ) -> Result<(), SearchError> {
        for (id, current) in documents_of(store, key)? {
            let Some(current) = current else {
                self.overlay.remove(&id);
                batch.removed.push(id);
                continue;
            };
            self.overlay.insert(
                id,
                DocState {
                    id,
                    amendment: current.amendment.as_ref().map(|r| r.id),
                    retraction: current.retraction.as_ref().map(|r| r.id),
                },
            );
            self.written_from_store(id);
            batch.currents.push(current);
        }
        Ok(())
    }

    /// Notes that the document `id` was written from the store, not from the journal.
    fn written_from_store(&mut self, id: RecordId) {
        if self.journal_only {
            self.outside.insert(id);
        }
    }

    /// How many journal bytes are not indexed yet.
    pub fn backlog(&self, store: &Store) -> u64 {
        store
            .journal_end()
            .saturating_sub(self.applied.max(Store::journal_start()))
    }

    /// Reads and decodes the next batch of the journal, and loads the current state of every
    /// content record it touches (after the documents a governance decision changed, if any),
    /// with the confirmation state of every programme among them or named by a confirmation or
    /// a confirmation's retraction in it. `None` when caught up.
    ///
    /// The store's read lock is held only to read bytes: the journal's next entries (in few large
    /// reads), then, if the batch amends or retracts records it does not hold, those records.
    /// Decoding happens without it, except for programmes: their states are derived under the
    /// lock once more (a few reads and decodes per programme the batch touches). This thread runs at a lower priority; were it to decode
    /// under the lock, the ingest worker (which needs the lock for writing) would wait for it.
    pub fn read(&mut self, store: &RwLock<Store>) -> Result<Option<Batch>, SearchError> {
        let mut batch = Batch::default();
        let (payloads, next, charter) = {
            let store = read(store);
            self.follow_governance(&store, &mut batch)?;
            let (payloads, next) = store.signed_from(self.applied, BATCH)?;
            if payloads.is_empty() {
                // Everything the journal holds now has been read.
                self.drained = Some((Instant::now(), self.applied));
            }
            (payloads, next, store.charter().clone())
        };
        if payloads.is_empty() {
            self.publish_progress();
            return Ok((!batch.is_empty()).then_some(batch));
        }
        let charter = &charter;
        let mut known: HashMap<RecordId, Record> = HashMap::new();
        let mut touched: Vec<RecordId> = Vec::new();
        let mut seen: HashSet<RecordId> = HashSet::new();
        // Programmes a confirmation names, and what retractions target (a confirmation's
        // retraction changes its programme's state).
        let mut programmes: BTreeSet<RecordId> = BTreeSet::new();
        let mut retracted: Vec<RecordId> = Vec::new();
        for payload in &payloads {
            let r = record::decode_stored(payload, charter).map_err(|cause| {
                SearchError::Store(StoreError::BadJournalRecord {
                    offset: self.applied,
                    cause,
                })
            })?;
            // Past its key's last valid seq: it does not count (nor, then, does anything later
            // in that log).
            if !charter.key_allows(&r.header.author, r.header.seq) {
                continue;
            }
            let state = match (&r.body, r.body.target()) {
                (b, _) if is_content(b.kind()) => {
                    if self.journal_only && !self.outside.contains(&r.id) {
                        batch.unindexed.insert(r.id);
                    }
                    DocState {
                        id: r.id,
                        amendment: None,
                        retraction: None,
                    }
                }
                (Body::Amendment(_), Some(t)) => DocState {
                    amendment: Some(r.id),
                    ..self.lookup(&t)?
                },
                (Body::Retraction(_), Some(t)) => {
                    retracted.push(t);
                    DocState {
                        retraction: Some(r.id),
                        ..self.lookup(&t)?
                    }
                }
                (Body::Confirmation(_), _) => {
                    programmes.extend(r.body.confirms().map(|(p, _)| p));
                    continue;
                }
                (Body::Erasure(_), _) => {
                    for id in r.body.erases() {
                        self.overlay.remove(&id);
                        touched.retain(|t| *t != id);
                        batch.removed.push(id);
                    }
                    batch.erases = true;
                    continue;
                }
                _ => continue,
            };
            self.overlay.insert(state.id, state);
            if seen.insert(state.id) {
                touched.push(state.id);
            }
            known.insert(r.id, r);
        }
        // Records the batch needs but does not hold (what an amendment or retraction in it
        // targets, earlier amendments): read under the lock once more, together.
        let missing: Vec<RecordId> = touched
            .iter()
            .filter_map(|id| self.overlay.get(id))
            .flat_map(|s| [Some(s.id), s.amendment, s.retraction])
            .flatten()
            .filter(|id| !known.contains_key(id))
            .collect();
        if !missing.is_empty() {
            let store = read(store);
            for id in missing {
                if let Some(r) = store.get(&id)? {
                    known.insert(id, r);
                }
            }
        }
        // Each touched document takes its records once: they move out of `known`.
        for id in touched {
            let Some(state) = self.overlay.get(&id).copied() else {
                continue;
            };
            let Some(original) = known.remove(&state.id) else {
                warn!(id = %state.id, "search index: a target is missing from the store");
                continue;
            };
            let amendment = state.amendment.and_then(|a| known.remove(&a));
            let retraction = state.retraction.and_then(|r| known.remove(&r));
            batch.currents.push(Current {
                original,
                amendment,
                retraction,
            });
        }
        let programme_docs = batch
            .currents
            .iter()
            .any(|c| c.content().and_then(|c| c.programme()).is_some());
        if programmes.is_empty() && retracted.is_empty() && !programme_docs {
            self.applied = next;
            self.uncommitted += payloads.len() as u64;
            return Ok(Some(batch));
        }
        // Programmes' states, under the lock once more (a few reads per programme).
        let store = read(store);
        for t in retracted {
            if store
                .locate(&t)?
                .is_some_and(|l| l.kind == Kind::Confirmation)
            {
                programmes.extend(
                    store
                        .get(&t)?
                        .and_then(|c| c.body.confirms())
                        .map(|(p, _)| p),
                );
            }
        }
        self.programme_states(&store, &mut batch, programmes)?;
        drop(store);
        self.applied = next;
        self.uncommitted += payloads.len() as u64;
        Ok(Some(batch))
    }

    /// Derives the confirmation state of every programme among the batch's documents and of
    /// every programme in `more` (whose confirmations changed), adding the latter's documents.
    fn programme_states(
        &mut self,
        store: &Store,
        batch: &mut Batch,
        mut more: BTreeSet<RecordId>,
    ) -> Result<(), SearchError> {
        for c in &batch.currents {
            if c.content().and_then(|c| c.programme()).is_some() {
                more.insert(c.id());
            }
        }
        for id in more {
            let Some(held) = crate::programmes::Held::read(store, &id)? else {
                continue;
            };
            let Some(derived) = held.derived() else {
                continue;
            };
            batch.states.insert(id, derived.state.name());
            if batch.currents.iter().any(|c| c.id() == id) {
                continue;
            }
            let current = held.current();
            self.overlay.insert(
                id,
                DocState {
                    id,
                    amendment: current.amendment.as_ref().map(|r| r.id),
                    retraction: current.retraction.as_ref().map(|r| r.id),
                },
            );
            self.written_from_store(id);
            batch.currents.push(current);
        }
        Ok(())
    }

    /// The state of `id` as last written: from this batch's overlay, else the committed index.
    fn lookup(&self, id: &RecordId) -> Result<DocState, SearchError> {
        if let Some(s) = self.overlay.get(id) {
            return Ok(*s);
        }
        Ok(self.index.state(id)?.unwrap_or(DocState {
            id: *id,
            amendment: None,
            retraction: None,
        }))
    }

    /// Writes the batch's documents (no store lock needed): removals first, then each document
    /// in order, a later one replacing an earlier of the same id.
    pub fn apply(&mut self, batch: &Batch) -> Result<(), SearchError> {
        if batch.erases {
            self.mark_for_purge(&batch.removed)?;
        }
        let id_term = |id: &RecordId| self.index.id_term(id);
        let mut ops = Vec::with_capacity(OPS_PER_SEND);
        for id in &batch.removed {
            ops.push(UserOperation::Delete(id_term(id)));
        }
        for c in &batch.currents {
            if !batch.unindexed.contains(&c.id()) {
                ops.push(UserOperation::Delete(id_term(&c.id())));
            }
            let state = batch.states.get(&c.id()).copied();
            if let Some(doc) = self.index.document(c, state) {
                ops.push(UserOperation::Add(doc));
            }
            if ops.len() >= OPS_PER_SEND {
                self.writer.run(std::mem::take(&mut ops))?;
            }
        }
        if !ops.is_empty() {
            self.writer.run(ops)?;
        }
        Ok(())
    }

    /// Commits what was applied, with the journal offset as the payload, and makes it visible to
    /// searches.
    pub fn commit(&mut self) -> Result<(), SearchError> {
        if !self.pending() {
            self.publish_progress();
            return Ok(());
        }
        let payload = serde_json::to_string(&Payload {
            layout: LAYOUT_VERSION,
            network: self.network.clone(),
            journal: self.applied,
            governance: self.governance.mark.clone(),
            last_seqs: self
                .governance
                .last_seqs
                .iter()
                .map(|(k, last)| (k.to_hex(), *last))
                .collect(),
        })
        .unwrap_or_default();
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(&payload);
        prepared.commit()?;
        self.index.reader.reload()?;
        self.committed = self.applied;
        self.committed_governance = self.governance.clone();
        self.index.set_followed_governance(&self.governance.mark);
        self.overlay.clear();
        self.uncommitted = 0;
        self.publish_progress();
        if self.purge != Purge::Nothing {
            self.purge_deleted()?;
        }
        Ok(())
    }

    /// Notes which committed segments hold the documents of `erased` (before they are deleted),
    /// so that only those are rewritten. A document applied but not committed yet is in no
    /// segment the reader sees: then every segment holding deleted documents is rewritten.
    fn mark_for_purge(&mut self, erased: &[RecordId]) -> Result<(), SearchError> {
        let searcher = self.index.reader.searcher();
        for id in erased {
            let term = self.index.id_term(id);
            let mut found = false;
            for reader in searcher.segment_readers() {
                if reader
                    .inverted_index(self.index.fields.id)?
                    .doc_freq(&term)
                    .map_err(tantivy::TantivyError::from)?
                    > 0
                {
                    found = true;
                    if let Purge::Segments(set) = &mut self.purge {
                        set.insert(reader.segment_id());
                    } else if self.purge == Purge::Nothing {
                        self.purge = Purge::Segments(HashSet::from([reader.segment_id()]));
                    }
                }
            }
            if !found && self.overlay.contains_key(id) {
                self.purge = Purge::All;
            }
        }
        Ok(())
    }

    /// Rewrites every segment holding deleted documents and removes the files no longer used,
    /// so that an erased record's text is gone from the index's files, not only unsearchable
    /// (tantivy marks a deleted document and keeps its bytes until a merge).
    fn purge_deleted(&mut self) -> Result<(), SearchError> {
        let started = Instant::now();
        let metas = self.index.index.searchable_segment_metas()?;
        let wanted = match std::mem::replace(&mut self.purge, Purge::Nothing) {
            // A background merge may have replaced a marked segment: then rewrite every one.
            Purge::Segments(set) if set.iter().all(|s| metas.iter().any(|m| m.id() == *s)) => {
                Some(set)
            }
            _ => None,
        };
        let segments: Vec<tantivy::index::SegmentId> = metas
            .iter()
            .filter(|m| m.num_deleted_docs() > 0)
            .filter(|m| wanted.as_ref().is_none_or(|w| w.contains(&m.id())))
            .map(|m| m.id())
            .collect();
        if !segments.is_empty() {
            self.writer.merge(&segments).wait()?;
        }
        self.writer.garbage_collect_files().wait()?;
        self.index.reader.reload()?;
        info!(
            segments = segments.len(),
            ms = started.elapsed().as_millis() as u64,
            "search index: segments holding erased records rewritten"
        );
        Ok(())
    }

    /// Drops what was applied since the last commit, so the next read starts from the last
    /// committed journal offset again.
    pub fn reset(&mut self) -> Result<(), SearchError> {
        // First, so that even a failed rollback leaves nothing claimed that was not committed.
        self.applied = self.committed;
        self.governance = self.committed_governance.clone();
        self.overlay.clear();
        self.uncommitted = 0;
        self.writer.rollback()?;
        Ok(())
    }

    /// Indexes everything the store holds now, committing as it goes and logging progress.
    pub fn catch_up(
        &mut self,
        store: &RwLock<Store>,
        stop: &AtomicBool,
    ) -> Result<(), SearchError> {
        let lock = || read(store);
        let total = self.backlog(&lock());
        let started = Instant::now();
        let mut last_progress = Instant::now();
        if total > 0 {
            info!(bytes = total, "search index: indexing the store's records");
        }
        let mut records = 0u64;
        while !stop.load(Ordering::SeqCst) {
            let batch = self.read(store)?;
            let Some(batch) = batch else { break };
            self.apply(&batch)?;
            records += batch.len() as u64;
            if self.uncommitted >= REBUILD_COMMIT_EVERY {
                self.commit()?;
            }
            if last_progress.elapsed() >= PROGRESS_EVERY {
                let left = self.backlog(&lock());
                info!(
                    documents = records,
                    percent = 100 - left.saturating_mul(100) / total.max(1),
                    "search index: indexing"
                );
                last_progress = Instant::now();
            }
        }
        self.commit()?;
        if total > 0 {
            info!(
                documents = self.index.len(),
                seconds = started.elapsed().as_secs_f64(),
                "search index: up to date"
            );
        }
        Ok(())
    }
}

/// Every document `key`'s log touches, derived from the log alone under the store's governance:
/// `None` for an original past the key's last valid seq (it does not count), else its state with
/// the latest valid amendment and the valid retraction.
pub fn documents_of(
    store: &Store,
    key: &PublicKey,
) -> Result<BTreeMap<RecordId, Option<Current>>, StoreError> {
    /// The valid records of one document, in log order (a later amendment wins).
    #[derive(Default)]
    struct Parts {
        original: Option<Record>,
        amendment: Option<Record>,
        retraction: Option<Record>,
    }
    let charter = store.charter();
    let mut docs: BTreeMap<RecordId, Parts> = BTreeMap::new();
    for (seq, id) in store.log(key, 1)? {
        let Some(r) = store.get(&id)? else {
            continue;
        };
        let doc = match (&r.body, r.body.target()) {
            (b, _) if is_content(b.kind()) => r.id,
            (Body::Amendment(_) | Body::Retraction(_), Some(t)) => t,
            _ => continue,
        };
        // Every document the log touches is listed, valid or not.
        let parts = docs.entry(doc).or_default();
        if charter.key_allows(key, seq) {
            let slot = match r.body {
                Body::Amendment(_) => &mut parts.amendment,
                Body::Retraction(_) => &mut parts.retraction,
                _ => &mut parts.original,
            };
            *slot = Some(r);
        }
    }
    Ok(docs
        .into_iter()
        .map(|(id, p)| {
            let current = p.original.map(|original| Current {
                original,
                amendment: p.amendment,
                retraction: p.retraction,
            });
            (id, current)
        })
        .collect())
}

/// A running indexer thread. Dropping it asks the thread to stop without waiting.
#[derive(Debug)]
pub struct IndexerHandle {
    wake: Waker,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl IndexerHandle {
    /// Asks the thread to commit and stop, and waits for it.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake.wake();
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            warn!("search indexer thread panicked");
        }
    }
}

impl Drop for IndexerHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake.wake();
    }
}

/// Wakes the indexer, and tells it when the ingest worker has a backlog; the parts that append
/// to the store hold one.
#[derive(Debug, Clone)]
pub struct Waker {
    wake: SyncSender<()>,
    backlog: Arc<Backlog>,
}

impl Waker {
    /// Tells the indexer that the store has new records. Never blocks: one pending wake-up is
    /// enough, the indexer reads everything new when it runs.
    pub fn wake(&self) {
        match self.wake.try_send(()) {
            Ok(()) | Err(TrySendError::Full(())) | Err(TrySendError::Disconnected(())) => {}
        }
    }

    /// Tells the indexer that records wait to be verified and stored (the ingest worker took a
    /// full batch: a sync range, a bundle, or records arriving faster than it stores them). For
    /// [`BACKLOG_HOLD`] after the last such report, indexing yields the cores to ingest, within
    /// the bounds of [`Turns`]: what a node acknowledges goes first, search follows after.
    pub fn backlog(&self) {
        self.backlog.report(Instant::now());
    }
}

/// When the ingest worker last reported a backlog, as the end of the hold it asked for:
/// nanoseconds after `epoch` (0: never).
#[derive(Debug)]
struct Backlog {
    epoch: Instant,
    until: AtomicU64,
}

impl Backlog {
    fn new() -> Self {
        Self {
            epoch: Instant::now(),
            until: AtomicU64::new(0),
        }
    }

    fn nanos(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX)
    }

    fn report(&self, now: Instant) {
        let until = self.nanos(now + BACKLOG_HOLD);
        self.until.fetch_max(until, Ordering::Relaxed);
    }

    /// Whether a report still holds at `now`.
    fn holds(&self, now: Instant) -> bool {
        self.nanos(now) < self.until.load(Ordering::Relaxed)
    }
}

/// What the indexer does next under an ingest backlog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Turn {
    /// Index what the journal holds.
    Index,
    /// Leave the cores to ingest for up to this long, then ask again.
    Yield(Duration),
}

/// The indexer's turns beside the ingest worker: while a backlog holds, indexing yields for at
/// most [`YIELD_MAX`] in a row; after a yield (whole, or cut short by the backlog's end) it
/// indexes for at least [`RUN_MIN`] before it yields again. So a backlog that comes and goes
/// (ranges arriving more than [`BACKLOG_HOLD`] apart) cannot make it yield, and commit, every
/// few hundred milliseconds; search trails a catch-up by about its length (plus the indexing of
/// what it brought), and indexes for a fifth of the time or more under a load that never ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Turns {
    /// No backlog since the last run ended: the next one makes indexing yield at once.
    Free,
    /// Yielding since then.
    Yielding(Instant),
    /// Running since then, after a yield.
    Running(Instant),
}

impl Turns {
    fn next(&mut self, now: Instant, backlog: bool) -> Turn {
        match (*self, backlog) {
            (Turns::Free, false) => Turn::Index,
            (Turns::Free, true) => self.start_yield(now),
            (Turns::Yielding(_), false) => {
                *self = Turns::Running(now);
                Turn::Index
            }
            (Turns::Yielding(since), true) => {
                let yielded = now.saturating_duration_since(since);
                if yielded >= YIELD_MAX {
                    *self = Turns::Running(now);
                    Turn::Index
                } else {
                    Turn::Yield(YIELD_POLL.min(YIELD_MAX - yielded))
                }
            }
            (Turns::Running(since), backlog) => {
                if now.saturating_duration_since(since) < RUN_MIN {
                    Turn::Index
                } else if backlog {
                    self.start_yield(now)
                } else {
                    *self = Turns::Free;
                    Turn::Index
                }
            }
        }
    }

    fn start_yield(&mut self, now: Instant) -> Turn {
        *self = Turns::Yielding(now);
        Turn::Yield(YIELD_POLL)
    }
}

/// The wake-up signal of an indexer thread yet to be spawned.
pub fn channel() -> (Waker, Receiver<()>) {
    let (wake, woken) = sync_channel(1);
    (
        Waker {
            wake,
            backlog: Arc::new(Backlog::new()),
        },
        woken,
    )
}

/// Starts the indexer thread: it catches up with the store, then follows it, woken by `waker`
/// (made with `woken` by [`channel`]).
pub fn spawn<S>(
    mut indexer: Indexer,
    shared: Arc<S>,
    waker: &Waker,
    woken: Receiver<()>,
) -> Result<IndexerHandle, SearchError>
where
    S: AsRef<RwLock<Store>> + Send + Sync + 'static,
{
    let wake = waker.clone();
    let backlog = waker.backlog.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = stop.clone();
    let thread = std::thread::Builder::new()
        .name("search-indexer".into())
        .spawn(move || {
            run_in_background();
            // A failure (a full disk, say) does not end indexing: what was not committed is
            // dropped and read again from the journal after a pause that doubles up to a minute.
            let mut pause = RETRY_FIRST;
            loop {
                match follow(
                    &mut indexer,
                    (*shared).as_ref(),
                    &woken,
                    &backlog,
                    &stopping,
                ) {
                    Ok(()) => return,
                    Err(e) => {
                        warn!(error = %e, retry_in = ?pause, "search indexing failed; searches lag until it recovers");
                        if let Err(e) = indexer.reset() {
                            warn!(error = %e, "search index: dropping uncommitted work failed");
                        }
                    }
                }
                match woken.recv_timeout(pause) {
                    Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return,
                }
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                pause = (pause * 2).min(RETRY_MAX);
            }
        })
        .map_err(|cause| SearchError::Io {
            path: "search-indexer thread".into(),
            cause,
        })?;
    Ok(IndexerHandle {
        wake,
        stop,
        thread: Some(thread),
    })
}

/// Lowers the calling thread's priority to about nice 10 (Linux; elsewhere the platform's
/// nearest); threads it starts inherit it. On Linux the nice value belongs to the thread, so the
/// rest of the process keeps its own.
///
/// Not lower: a process cannot raise a thread's priority again without privileges, and at
/// `SCHED_IDLE` (tried) the indexer got no time on a loaded machine even to commit and stop, so
/// `hubnet run` overran its stop deadline (BENCHMARKS.md, "Catch-up").
fn run_in_background() {
    use thread_priority::{ThreadPriority, ThreadPriorityValue, set_current_thread_priority};
    // thread-priority maps 0..=99 onto nice 19..=-20: 22 is nice 10.
    let Ok(value) = ThreadPriorityValue::try_from(BACKGROUND_PRIORITY) else {
        return;
    };
    if let Err(e) = set_current_thread_priority(ThreadPriority::Crossplatform(value)) {
        warn!(error = ?e, "search indexing keeps the normal priority");
    }
}

fn follow(
    indexer: &mut Indexer,
    store: &RwLock<Store>,
    woken: &Receiver<()>,
    backlog: &Backlog,
    stop: &AtomicBool,
) -> Result<(), SearchError> {
    indexer.catch_up(store, stop)?;
    let mut last_commit = Instant::now();
    let mut turns = Turns::Free;
    while !stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        if let Turn::Yield(pause) = turns.next(now, backlog.holds(now)) {
            // What was applied becomes searchable before the pause.
            if indexer.pending() {
                indexer.commit()?;
                last_commit = Instant::now();
            }
            match woken.recv_timeout(pause) {
                Ok(()) | Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        let batch = indexer.read(store)?;
        match batch {
            Some(b) => {
                indexer.apply(&b)?;
                // Records keep coming (a big sync): make them searchable as they go.
                if last_commit.elapsed() >= BUSY_COMMIT_EVERY
                    || indexer.uncommitted >= REBUILD_COMMIT_EVERY
                {
                    indexer.commit()?;
                    last_commit = Instant::now();
                }
            }
            None => {
                // Caught up: commit now unless the last commit was very recent.
                let since = last_commit.elapsed();
                if indexer.pending() {
                    if since >= COMMIT_SPACING {
                        indexer.commit()?;
                        last_commit = Instant::now();
                        continue;
                    }
                    match woken.recv_timeout(COMMIT_SPACING - since) {
                        Ok(()) | Err(RecvTimeoutError::Timeout) => continue,
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
                match woken.recv_timeout(IDLE_POLL) {
                    Ok(()) | Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
        }
    }
    indexer.commit()
}

/// The store for reading; a panic elsewhere while it was held does not make it unusable.
fn read(store: &RwLock<Store>) -> RwLockReadGuard<'_, Store> {
    store
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
impl Waker {
    /// Reports a backlog that never ends.
    pub(crate) fn endless_backlog(&self) {
        self.backlog.until.store(u64::MAX, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `turns` from `start` in steps of `step` for `length` under `backlog(offset)`, and
    /// returns the offsets at which it indexed.
    fn indexing_at(
        turns: &mut Turns,
        start: Instant,
        step: Duration,
        length: Duration,
        backlog: impl Fn(Duration) -> bool,
    ) -> Vec<Duration> {
        let mut at = Duration::ZERO;
        let mut out = Vec::new();
        while at < length {
            if turns.next(start + at, backlog(at)) == Turn::Index {
                out.push(at);
            }
            at += step;
        }
        out
    }

    #[test]
    fn without_a_backlog_indexing_never_yields() {
        let mut turns = Turns::Free;
        let start = Instant::now();
        let step = Duration::from_millis(10);
        let indexed = indexing_at(&mut turns, start, step, Duration::from_secs(20), |_| false);
        assert_eq!(indexed.len(), 2000);
        assert_eq!(turns, Turns::Free);
    }

    /// Under a backlog that never ends, indexing yields at once, for `YIELD_MAX`, then runs for
    /// `RUN_MIN`, and again: it indexes a fifth of the time, never less, and never yields longer
    /// than `YIELD_MAX` in a row.
    #[test]
    fn under_an_endless_backlog_indexing_yields_for_bounded_turns() {
        let mut turns = Turns::Free;
        let start = Instant::now();
        let step = Duration::from_millis(10);
        let length = Duration::from_secs(50);
        let indexed = indexing_at(&mut turns, start, step, length, |_| true);
        assert_eq!(
            indexed.first(),
            Some(&YIELD_MAX),
            "yields at once, for YIELD_MAX"
        );
        let cycle = YIELD_MAX + RUN_MIN;
        for at in &indexed {
            let into = Duration::from_nanos((at.as_nanos() % cycle.as_nanos()) as u64);
            assert!(into >= YIELD_MAX, "indexed {at:?} into a yield");
        }
        let share = indexed.len() as f64 * step.as_secs_f64() / length.as_secs_f64();
        let least = RUN_MIN.as_secs_f64() / cycle.as_secs_f64();
        assert!(
            share >= least - 0.01,
            "indexed {share} of the time, least {least}"
        );
        let longest_gap = indexed
            .windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .expect("several turns");
        assert!(longest_gap <= YIELD_MAX + step, "{longest_gap:?}");
    }

    /// A backlog that ends ends the yield at once; indexing then runs for `RUN_MIN` even if the
    /// backlog comes back, and only a backlog after that makes it yield again.
    #[test]
    fn a_backlog_that_ends_ends_the_yield_and_a_run_follows() {
        let mut turns = Turns::Free;
        let start = Instant::now();
        let ms = Duration::from_millis;
        assert_eq!(turns.next(start, true), Turn::Yield(YIELD_POLL));
        assert_eq!(turns.next(start + ms(500), true), Turn::Yield(YIELD_POLL));
        // The backlog lapses (a pause between two sync ranges): a run begins.
        assert_eq!(turns.next(start + ms(600), false), Turn::Index);
        assert_eq!(turns, Turns::Running(start + ms(600)));
        assert_eq!(turns.next(start + ms(700), true), Turn::Index);
        assert_eq!(turns.next(start + ms(1599), true), Turn::Index);
        // The run is over and the backlog holds: a new yield, up to its end.
        assert_eq!(turns.next(start + ms(1600), true), Turn::Yield(YIELD_POLL));
        let near = start + ms(1600) + YIELD_MAX - ms(30);
        assert_eq!(turns.next(near, true), Turn::Yield(ms(30)));
        assert_eq!(turns.next(near + ms(30), true), Turn::Index);
        // A run that ends without a backlog frees the turns: the next backlog yields at once.
        let after = near + ms(30) + RUN_MIN;
        assert_eq!(turns.next(after, false), Turn::Index);
        assert_eq!(turns, Turns::Free);
        assert_eq!(turns.next(after + ms(10), true), Turn::Yield(YIELD_POLL));
    }

    /// A backlog that flickers (reports further apart than the hold) cannot make indexing yield
    /// more often than once in `RUN_MIN`.
    #[test]
    fn a_flickering_backlog_yields_at_most_once_a_run() {
        let mut turns = Turns::Free;
        let start = Instant::now();
        let step = Duration::from_millis(10);
        // On for 300 ms, off for 100 ms, for 20 s.
        let flicker = |at: Duration| at.as_millis() % 400 < 300;
        let mut yields = 0;
        let mut yielding = false;
        let mut at = Duration::ZERO;
        while at < Duration::from_secs(20) {
            let y = matches!(turns.next(start + at, flicker(at)), Turn::Yield(_));
            if y && !yielding {
                yields += 1;
            }
            yielding = y;
            at += step;
        }
        let most = 20_000 / (RUN_MIN.as_millis() as usize) + 1;
        assert!(yields <= most, "{yields} yields in 20 s, at most {most}");
        assert!(
            yields >= 2,
            "the flickering backlog still makes indexing yield"
        );
    }

    #[test]
    fn a_backlog_holds_from_its_last_report_for_the_hold() {
        let backlog = Backlog::new();
        let t = backlog.epoch + Duration::from_secs(1);
        assert!(!backlog.holds(t), "never reported");
        backlog.report(t);
        assert!(backlog.holds(t));
        assert!(backlog.holds(t + BACKLOG_HOLD - Duration::from_nanos(1)));
        assert!(!backlog.holds(t + BACKLOG_HOLD));
        // An earlier report (a thread that read the clock before) does not shorten a later one.
        backlog.report(t + Duration::from_millis(100));
        backlog.report(t);
        assert!(backlog.holds(t + BACKLOG_HOLD + Duration::from_millis(99)));
        assert!(!backlog.holds(t + BACKLOG_HOLD + Duration::from_millis(100)));
    }
}
