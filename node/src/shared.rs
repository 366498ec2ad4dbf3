//! What a running node's parts share: the store behind its lock, the charter in force, the live
//! peers, the metrics and the search index. [`crate::service`] makes one and hands it to the
//! ingest worker, the swarm task and the HTTP API, which all read it from here (none of them
//! imports the module that wires them).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use hubnet_protocol::Charter;
use libp2p::PeerId;
use serde::Serialize;

use crate::metrics::Metrics;
use crate::search::indexer::{self, Indexer, IndexerHandle, Waker};
use crate::search::{SearchError, SearchIndex};
use crate::store::Store;

/// What the node's parts share.
#[derive(Debug)]
pub struct Shared {
    /// Readers (queries, sync answers, the indexer) share it; writers (the ingest worker) take it
    /// alone.
    store: RwLock<Store>,
    /// The charter as the governance log leaves it (replaced when a decision is stored).
    charter: RwLock<Arc<Charter>>,
    /// This node's libp2p identity.
    pub peer_id: PeerId,
    /// The member this node publishes for; `None` for a mirror.
    pub member: Option<String>,
    /// The live peers, as the swarm task last saw them: a peer whose connections stopped
    /// answering pings is removed at once, before its connections are closed.
    pub peers: Mutex<BTreeMap<PeerId, PeerStatus>>,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// The full-text index (searches read it; the indexer thread writes it).
    pub search: SearchIndex,
    /// Wakes the indexer after records were stored.
    pub indexer: Waker,
    /// Whether the node needs a live peer to be ready (the config's `expect_peers`; false until
    /// the service sets it).
    pub expect_peers: AtomicBool,
    /// Held while a readiness probe reads the store (`api::operations`), so that probes of a
    /// store that does not answer wait here, not one more each on the store's lock.
    pub store_probe: Arc<tokio::sync::Mutex<()>>,
    /// Counts writes to the store and new charters ([`Shared::changes`]).
    changes: AtomicU64,
    /// The OAI-PMH data provider's items and datestamps (`crate::oai`).
    pub oai: crate::oai::Oai,
}

impl AsRef<RwLock<Store>> for Shared {
    fn as_ref(&self) -> &RwLock<Store> {
        &self.store
    }
}

/// One live peer (connected, and answering pings), for `/api/v1/status` and `/api/v1/peers`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PeerStatus {
    /// Its libp2p peer id.
    pub peer_id: String,
    /// The member code it announces (identify's agent version; not verified, a node's libp2p
    /// key is not a member key), once it has identified itself.
    pub member: Option<String>,
    /// The remote address of the connection (for a peer that dialled in, its outgoing port).
    pub address: String,
    /// Whether this node dialled it (`out`) or it dialled this node (`in`).
    pub direction: &'static str,
    /// When the connection was established: Unix time in milliseconds.
    pub connected_at_ms: i64,
    /// When it last answered a ping (or connected, before its first answer): Unix time in
    /// milliseconds.
    pub last_seen_ms: i64,
    /// The round-trip time of its last ping answer, in milliseconds.
    pub rtt_ms: Option<f64>,
    /// Its gossipsub score as this node computes it.
    pub score: Option<f64>,
    /// Records this node holds beyond the peer's last summary (heads only).
    pub behind: Option<u64>,
    /// Records the peer's last summary holds beyond this node's.
    pub ahead: Option<u64>,
}

impl Shared {
    /// Wraps an open store, opens its search index and starts the indexer thread, which first
    /// catches up with the store (rebuilding the index if it is missing).
    pub fn new(
        store: Store,
        peer_id: PeerId,
        member: Option<String>,
    ) -> Result<(Arc<Self>, IndexerHandle), SearchError> {
        let (index, applied, followed) = SearchIndex::open(
            store.dir(),
            store.charter().network_id(),
            store.journal_end(),
        )?;
        let indexer = Indexer::new(index.clone(), applied, followed, &store)?;
        let (waker, woken) = indexer::channel();
        let shared = Arc::new(Self {
            charter: RwLock::new(Arc::new(store.charter().clone())),
            store: RwLock::new(store),
            peer_id,
            member,
            peers: Mutex::new(BTreeMap::new()),
            metrics: Metrics::default(),
            search: index,
            indexer: waker.clone(),
            expect_peers: AtomicBool::new(false),
            store_probe: Arc::default(),
            changes: AtomicU64::new(0),
            oai: crate::oai::Oai::default(),
        });
        let handle = indexer::spawn(indexer, shared.clone(), &waker, woken)?;
        Ok((shared, handle))
    }

    /// The charter with every stored decision applied: members, keys and their validity, limits.
    pub fn charter(&self) -> Arc<Charter> {
        self.charter
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Replaces the charter after a decision was stored.
    pub fn set_charter(&self, charter: Charter) {
        *self
            .charter
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(charter);
        self.changes.fetch_add(1, Ordering::SeqCst);
    }

    /// The store, for writing. A panic while it was held does not make it unusable: every store
    /// operation leaves it consistent or fails before changing it.
    pub fn lock_store(&self) -> RwLockWriteGuard<'_, Store> {
        let store = self
            .store
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Counted once the lock is held: a reader that reads the count after this waits for
        // the write to end before it reads the store, so what it computes is never older
        // than the count it read.
        self.changes.fetch_add(1, Ordering::SeqCst);
        store
    }

    /// How many times the store was locked for writing or the charter replaced: answers made
    /// from the state at one count ([`crate::api::answers`]) hold until it moves.
    pub fn changes(&self) -> u64 {
        self.changes.load(Ordering::SeqCst)
    }

    /// The store, for reading, beside other readers.
    pub fn read_store(&self) -> RwLockReadGuard<'_, Store> {
        self.store
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The store for reading if no writer holds it now (for the swarm task, which must not wait on
    /// a fsync).
    pub fn try_read_store(&self) -> Option<RwLockReadGuard<'_, Store>> {
        match self.store.try_read() {
            Ok(g) => Some(g),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        }
    }

    /// The live peers.
    pub fn lock_peers(&self) -> MutexGuard<'_, BTreeMap<PeerId, PeerStatus>> {
        self.peers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Publishing through the shared store takes its read lock to sign, its write lock for each step
/// of the group commit, and neither while the group's `fdatasync` runs ([`Store::publish_in`]):
/// queries, sync answers and the search indexer read meanwhile. The ingest worker is the only
/// writer.
impl crate::store::Access for &Shared {
    fn write(&mut self) -> impl std::ops::DerefMut<Target = Store> + '_ {
        self.lock_store()
    }

    fn read(&mut self) -> impl std::ops::Deref<Target = Store> + '_ {
        self.read_store()
    }
}
