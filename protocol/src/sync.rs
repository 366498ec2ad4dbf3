//! Anti-entropy sync as a sans-IO state machine.
//!
//! Gossip is best effort, so peers also compare summaries: per author, the highest contiguous seq
//! and its id (a [`Summary`], O(members) bytes), plus the seqs at which they hold fork evidence.
//! The side that is behind asks for ranges (author, from seq, byte budget) and receives them in
//! seq order. [`Sync`] decides what to send and to whom; the node does the IO and the storing and
//! reports back. It reads no clock: every input carries `now_ms`, and [`Sync::poll_timeout`] says
//! when [`Sync::handle_timeout`] is due next.
//!
//! The order of calls, for a driver:
//! 1. feed events with the `handle_*` methods as they happen;
//! 2. drain [`Sync::poll_action`] until it returns `None`, performing each action;
//! 3. sleep until [`Sync::poll_timeout`] (or the next event) and call [`Sync::handle_timeout`].
//!
//! [`PendingArea`] holds records that arrived ahead of a gap in their log, bounded in count and
//! bytes, until the gap is filled.
//!
//! [`Sync::gossip_admits`] paces how many of one author's records the node sends into gossip
//! ([`pace`]); what it holds back its peers fetch as ranges.
//!
//! The wire form of these messages is `proto/hubnet/v1/sync.proto`; see docs/PROTOCOL.md §5.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Debug;

use hubnet_proto::v1 as pb;

use crate::checkpoint::CheckpointError;
use crate::governance::GovernanceError;
use crate::id::sha256;
use crate::record::RecordError;
use crate::{Charter, PublicKey, RecordId};

pub mod pace;

use pace::{Pace, PaceConfig};

/// One author's log head in a summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HeadRef {
    /// Highest contiguous seq.
    pub seq: u64,
    /// The id of the record at that seq.
    pub id: RecordId,
}

/// What a node holds, in brief: its log heads and the seqs where it holds fork evidence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Per author, the head of its log.
    pub heads: BTreeMap<PublicKey, HeadRef>,
    /// (author, seq) pairs for which two valid records are held.
    pub forks: BTreeSet<(PublicKey, u64)>,
    /// The governance decisions held: how many, and SHA-256 over their ids
    /// ([`crate::governance::Governance::digest`]).
    pub decisions: (u64, Vec<u8>),
}

/// A summary from a peer that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// An author field is not 32 bytes.
    #[error("summary entry {index}: author is {len} bytes, expected 32")]
    BadAuthor {
        /// Entry index.
        index: usize,
        /// Length found.
        len: usize,
    },
    /// An id field is not 32 bytes.
    #[error("summary entry {index}: id is {len} bytes, expected 32")]
    BadId {
        /// Entry index.
        index: usize,
        /// Length found.
        len: usize,
    },
    /// The same author twice.
    #[error("summary entry {index}: author {author} appears twice")]
    DuplicateAuthor {
        /// Entry index.
        index: usize,
        /// The author key, hex.
        author: String,
    },
    /// Seq 0 (logs start at 1).
    #[error("summary entry {index}: seq 0")]
    ZeroSeq {
        /// Entry index.
        index: usize,
    },
    /// More fork references than the limit.
    #[error("summary lists {0} forks, more than the limit of {MAX_FORK_REFS}")]
    TooManyForks(usize),
}

/// Heads in their wire form, in author order (summaries and checkpoints).
pub(crate) fn head_entries(heads: &BTreeMap<PublicKey, HeadRef>) -> Vec<pb::HeadEntry> {
    heads
        .iter()
        .map(|(author, h)| pb::HeadEntry {
            author: author.as_bytes().to_vec(),
            seq: h.seq,
            id: h.id.as_bytes().to_vec(),
        })
        .collect()
}

/// Most fork references a summary may carry.
pub const MAX_FORK_REFS: usize = 1024;

impl Summary {
    /// How far `peer` lags behind this summary and runs ahead of it, in records, counted per
    /// author by head seq: `(records this side holds beyond the peer's heads, records the peer
    /// holds beyond ours)`. Heads only: two logs with equal seqs but other ids count as level.
    pub fn lag(&self, peer: &Summary) -> (u64, u64) {
        let mut behind = 0u64;
        let mut ahead = 0u64;
        for (author, mine) in &self.heads {
            let theirs = peer.heads.get(author).map_or(0, |h| h.seq);
            behind = behind.saturating_add(mine.seq.saturating_sub(theirs));
        }
        for (author, theirs) in &peer.heads {
            let mine = self.heads.get(author).map_or(0, |h| h.seq);
            ahead = ahead.saturating_add(theirs.seq.saturating_sub(mine));
        }
        (behind, ahead)
    }

    /// The wire form.
    pub fn to_proto(&self) -> pb::Heads {
        pb::Heads {
            heads: head_entries(&self.heads),
            forks: self
                .forks
                .iter()
                .map(|(author, seq)| pb::ForkRef {
                    author: author.as_bytes().to_vec(),
                    seq: *seq,
                })
                .collect(),
            decision_count: self.decisions.0,
            decisions_digest: self.decisions.1.clone(),
        }
    }

    /// Whether `peer` holds governance decisions this side may lack (their sets differ and the
    /// peer has some): then ask it for all of them. Decisions are few, so the whole set is sent.
    pub fn wants_decisions_from(&self, peer: &Summary) -> bool {
        peer.decisions.0 > 0 && peer.decisions != self.decisions
    }

    /// Reads a peer's summary. Each author appears at most once. Authors `charter` does not know
    /// are left out: the peer may hold a decision that admitted them, which this side fetches
    /// first (see [`Summary::wants_decisions_from`]).
    pub fn from_proto(p: &pb::Heads, charter: &Charter) -> Result<Self, SyncError> {
        let member = |index: usize, bytes: &[u8]| -> Result<Option<PublicKey>, SyncError> {
            let raw: [u8; 32] = bytes.try_into().map_err(|_| SyncError::BadAuthor {
                index,
                len: bytes.len(),
            })?;
            let key = PublicKey::from_bytes_unchecked(raw);
            Ok(charter.member_by_key(&key).is_some().then_some(key))
        };
        if p.decisions_digest.len() > 32 {
            return Err(SyncError::BadId {
                index: 0,
                len: p.decisions_digest.len(),
            });
        }
        let mut out = Summary {
            decisions: (p.decision_count, p.decisions_digest.clone()),
            ..Summary::default()
        };
        let mut seen = BTreeSet::new();
        for (index, e) in p.heads.iter().enumerate() {
            let known = member(index, &e.author)?;
            let id: [u8; 32] = e.id.as_slice().try_into().map_err(|_| SyncError::BadId {
                index,
                len: e.id.len(),
            })?;
            if e.seq == 0 {
                return Err(SyncError::ZeroSeq { index });
            }
            let head = HeadRef {
                seq: e.seq,
                id: RecordId(id),
            };
            if !seen.insert(e.author.as_slice()) {
                return Err(SyncError::DuplicateAuthor {
                    index,
                    author: hex::encode(&e.author),
                });
            }
            if let Some(author) = known {
                out.heads.insert(author, head);
            }
        }
        if p.forks.len() > MAX_FORK_REFS {
            return Err(SyncError::TooManyForks(p.forks.len()));
        }
        for (index, f) in p.forks.iter().enumerate() {
            let known = member(index, &f.author)?;
            if f.seq == 0 {
                return Err(SyncError::ZeroSeq { index });
            }
            if let Some(author) = known {
                out.forks.insert((author, f.seq));
            }
        }
        Ok(out)
    }

    /// SHA-256 over the heads in author order, each as `author (32) || seq (8, big-endian) || id
    /// (32)`; two nodes with equal digests hold the same logs. Forks are not included.
    pub fn digest(&self) -> [u8; 32] {
        let mut bytes = Vec::with_capacity(self.heads.len() * 72);
        for (author, h) in &self.heads {
            bytes.extend_from_slice(author.as_bytes());
            bytes.extend_from_slice(&h.seq.to_be_bytes());
            bytes.extend_from_slice(h.id.as_bytes());
        }
        sha256(&bytes)
    }

    fn seq(&self, author: &PublicKey) -> u64 {
        self.heads.get(author).map_or(0, |h| h.seq)
    }
}

/// Tuning of [`Sync`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncConfig {
    /// How often summaries are exchanged with every connected peer.
    pub interval_ms: i64,
    /// How long a request may stay unanswered before it counts as failed.
    pub request_timeout_ms: i64,
    /// The byte budget put in every range request.
    pub range_budget_bytes: u32,
    /// Most requests in flight to one peer.
    pub max_requests_per_peer: usize,
    /// How long a peer that failed a request for an author is not asked for it again.
    pub retry_after_ms: i64,
    /// How many of one author's records the node sends into gossip.
    pub pace: PaceConfig,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            interval_ms: 30_000,
            request_timeout_ms: 20_000,
            range_budget_bytes: 4 * 1024 * 1024,
            max_requests_per_peer: 4,
            retry_after_ms: 10_000,
            pace: PaceConfig::default(),
        }
    }
}

/// Something for the driver to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action<P> {
    /// Send the local summary to `peer` (a `Heads` request); feed its answer to
    /// [`Sync::handle_summary`].
    SendSummary {
        /// To whom.
        peer: P,
    },
    /// Ask `peer` for `author`'s records from `from_seq` on; report with [`Sync::handle_range_done`].
    RequestRange {
        /// To whom.
        peer: P,
        /// Whose log.
        author: PublicKey,
        /// First seq wanted.
        from_seq: u64,
        /// Byte budget of the answer.
        byte_budget: u32,
    },
    /// Ask `peer` for its fork evidence at (`author`, `seq`); report with [`Sync::handle_fork_done`].
    RequestFork {
        /// To whom.
        peer: P,
        /// Whose log.
        author: PublicKey,
        /// At which seq.
        seq: u64,
    },
}

/// How a range request ended, as the driver saw it after storing what came back. Progress itself
/// is reported through [`Sync::handle_local_head`] (before this call).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeOutcome {
    /// Records came back and were stored (the local head moved).
    Stored,
    /// The answer held nothing that extends the local log.
    Nothing,
    /// The first record did not chain onto the local head (its `prev` differs): the peer holds a
    /// different branch, which means a fork at or before the local head.
    Diverged,
    /// No answer, a transport error, or invalid records.
    Failed,
    /// The answer came but was dropped here, for want of room to check it: no fault of the
    /// peer's. No peer is asked for the author again until [`Sync::handle_dropped`] says there is
    /// room (or the back-off ends), so a node under load does not fetch the same range from one
    /// peer after another only to drop it.
    Dropped,
}

/// What became of one received record, as the rules see it (the node's worker reports this).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// Not a valid record of this network (malformed, non-member, bad signature, ...).
    Invalid,
    /// Valid and newly stored.
    Stored,
    /// Valid and already held.
    AlreadyHeld,
    /// Valid, ahead of a gap in its log: parked in the [`PendingArea`].
    Parked,
    /// Valid, a second record at a taken seq: kept as fork evidence.
    Fork,
    /// Valid, but its `prev` is not the local head: it chains onto another branch.
    OtherBranch,
    /// Valid, refused by another log rule (a time before its predecessor, a bad target, ...).
    Refused,
    /// Of a version this node does not understand (a kind a newer release added), from a key
    /// that may sign it: set aside, not stored (docs/PROTOCOL.md §6.5).
    NotUnderstood,
}

impl Received {
    /// What a record refused on its own (by [`crate::record::precheck`] or the signature check)
    /// counts as: a kind this node does not know is not understood; a key a decision ended may
    /// reach a peer before the decision does, so it is refused without blame; anything else is
    /// invalid.
    pub fn of_refusal(e: &RecordError) -> Self {
        match e {
            RecordError::UnknownKind(_) => Received::NotUnderstood,
            RecordError::KeyNotValid { .. } => Received::Refused,
            _ => Received::Invalid,
        }
    }
}

/// Whether gossip forwards a message (docs/PROTOCOL.md §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GossipVerdict {
    /// Valid: forward it.
    Accept,
    /// Valid but of no use: drop it, no penalty.
    Ignore,
    /// Invalid: drop it and penalise the sender.
    Reject,
}

/// The gossip verdict on a record: forward what is valid and held (stored now, already, parked
/// or as fork evidence), drop what does not fit the log or is of a version this node does not
/// understand, penalise what is invalid.
pub fn gossip_verdict(r: Received) -> GossipVerdict {
    match r {
        Received::Invalid => GossipVerdict::Reject,
        Received::Stored | Received::AlreadyHeld | Received::Parked | Received::Fork => {
            GossipVerdict::Accept
        }
        Received::OtherBranch | Received::Refused | Received::NotUnderstood => {
            GossipVerdict::Ignore
        }
    }
}

/// The gossip verdict on a fork proof, from what became of its two records: invalid if either
/// is, dropped if either is not understood, forwarded if they are a fork, dropped otherwise (not
/// a fork, or already known).
pub fn fork_proof_verdict(records: &[Received]) -> GossipVerdict {
    if records.len() != 2 || records.contains(&Received::Invalid) {
        GossipVerdict::Reject
    } else if records.contains(&Received::NotUnderstood) {
        GossipVerdict::Ignore
    } else if records.contains(&Received::Fork) {
        GossipVerdict::Accept
    } else {
        GossipVerdict::Ignore
    }
}

/// The gossip verdict on a checkpoint, from what the store made of it (`Ok(true)`: newer than
/// the signer's newest held, or contradicting it; `Ok(false)`: known) or why it was refused:
/// forward what is new, drop what is known, signed by a key revoked since (valid when signed;
/// the relay may not know of the revocation yet) or of a newer version, penalise the rest.
pub fn checkpoint_verdict(r: Result<bool, &CheckpointError>) -> GossipVerdict {
    match r {
        Ok(true) => GossipVerdict::Accept,
        Ok(false)
        | Err(CheckpointError::RevokedSigner(_) | CheckpointError::NewerVersion { .. }) => {
            GossipVerdict::Ignore
        }
        Err(_) => GossipVerdict::Reject,
    }
}

/// The gossip verdict on a governance decision (`Ok(true)`: new, `Ok(false)`: held): forward
/// what is new, drop what is held or of an action this node does not know, penalise the rest.
pub fn decision_verdict(r: Result<bool, &GovernanceError>) -> GossipVerdict {
    match r {
        Ok(true) => GossipVerdict::Accept,
        Ok(false) | Err(GovernanceError::UnknownAction { .. }) => GossipVerdict::Ignore,
        Err(_) => GossipVerdict::Reject,
    }
}

/// How a range request ended, from what became of the records of its answer, in order.
pub fn range_outcome(records: &[Received]) -> RangeOutcome {
    if records.contains(&Received::Invalid) {
        return RangeOutcome::Failed;
    }
    if records.contains(&Received::Stored) {
        return RangeOutcome::Stored;
    }
    match records.iter().find(|r| **r != Received::AlreadyHeld) {
        Some(Received::Fork | Received::OtherBranch) => RangeOutcome::Diverged,
        _ => RangeOutcome::Nothing,
    }
}

/// A range request in flight.
#[derive(Debug)]
struct InFlight<P> {
    /// To whom.
    peer: P,
    /// When it fails unanswered.
    deadline: i64,
    /// The local head's seq when it was sent, if it asked for what lay beyond (not a probe).
    held: Option<u64>,
}

/// What is known of one connected peer.
#[derive(Debug, Default)]
struct Peer {
    /// Per author, the highest seq the peer is known to hold, and its id if it said so.
    heads: BTreeMap<PublicKey, (u64, Option<RecordId>)>,
    /// Fork references it advertised.
    forks: BTreeSet<(PublicKey, u64)>,
    /// Fork references already asked of it since its last summary.
    forks_asked: BTreeSet<(PublicKey, u64)>,
    /// When the next periodic summary exchange is due.
    next_exchange: i64,
    /// Whether a `SendSummary` for it waits in the queue.
    summary_queued: bool,
    /// Requests in flight to it.
    requests: usize,
}

/// Most fork probes remembered (the set is cleared when it grows past this; a probe may then be
/// repeated once, which is harmless).
const MAX_PROBES: usize = 4096;

/// The sync state machine; `P` identifies a peer (a libp2p `PeerId` in the node).
#[derive(Debug)]
pub struct Sync<P> {
    config: SyncConfig,
    local: Summary,
    peers: BTreeMap<P, Peer>,
    /// Per author, the one range request in flight.
    ranges: BTreeMap<PublicKey, InFlight<P>>,
    /// Per fork reference, the one fork request in flight.
    forks: BTreeMap<(PublicKey, u64), (P, i64)>,
    /// (peer, author) pairs not to be asked again before the given time.
    backoff: BTreeMap<(P, PublicKey), i64>,
    /// Those of `backoff` that only wait for room here (a range answer dropped, not a peer's
    /// fault): [`Sync::handle_dropped`] ends them. One that became a fault's leaves this set;
    /// one whose back-off ended otherwise (a fresh head) may linger until the next timeout, and
    /// ends nothing then.
    backoff_for_room: BTreeSet<(P, PublicKey)>,
    /// (peer, author) pairs whose last answer was overtaken by the local log and excused: a
    /// second one before the peer's next stored answer is backed off as usual, so that a peer
    /// cannot keep an author's one request slot by answering late what gossip brings anyway.
    overtaken: BTreeSet<(P, PublicKey)>,
    /// Fork probes sent: (peer, author, seq), so that none is sent twice.
    probes: BTreeSet<(P, PublicKey, u64)>,
    queue: VecDeque<Action<P>>,
    /// Per-author gossip budgets.
    pace: Pace,
}

impl<P: Clone + Ord + Debug> Sync<P> {
    /// A state machine for a node whose store holds `local`.
    pub fn new(config: SyncConfig, local: Summary, now_ms: i64) -> Self {
        let _ = now_ms;
        Self {
            config,
            local,
            peers: BTreeMap::new(),
            ranges: BTreeMap::new(),
            forks: BTreeMap::new(),
            backoff: BTreeMap::new(),
            backoff_for_room: BTreeSet::new(),
            overtaken: BTreeSet::new(),
            probes: BTreeSet::new(),
            queue: VecDeque::new(),
            pace: Pace::new(config.pace),
        }
    }

    /// The local summary as last reported.
    pub fn local(&self) -> &Summary {
        &self.local
    }

    /// A new connection: a summary exchange follows at once.
    pub fn handle_connected(&mut self, peer: P, now_ms: i64) {
        let p = self.peers.entry(peer.clone()).or_default();
        p.next_exchange = now_ms.saturating_add(self.config.interval_ms);
        if !p.summary_queued {
            p.summary_queued = true;
            self.queue.push_back(Action::SendSummary { peer });
        }
    }

    /// The peer is gone: its requests are dropped and what it was asked for is planned anew.
    pub fn handle_disconnected(&mut self, peer: &P, now_ms: i64) {
        self.peers.remove(peer);
        self.ranges.retain(|_, r| r.peer != *peer);
        self.overtaken.retain(|(p, _)| p != peer);
        self.forks.retain(|_, (p, _)| p != peer);
        self.backoff.retain(|(p, _), _| p != peer);
        self.backoff_for_room.retain(|(p, _)| p != peer);
        self.probes.retain(|(p, _, _)| p != peer);
        self.queue.retain(|a| match a {
            Action::SendSummary { peer: p }
            | Action::RequestRange { peer: p, .. }
            | Action::RequestFork { peer: p, .. } => p != peer,
        });
        self.plan(now_ms);
    }

    /// A peer's summary (its answer to our summary, or its own request). `id_at` looks up the id
    /// the local store holds at (author, seq), to tell a peer that is behind from one on another
    /// branch.
    pub fn handle_summary(
        &mut self,
        peer: P,
        summary: Summary,
        now_ms: i64,
        id_at: &dyn Fn(&PublicKey, u64) -> Option<RecordId>,
    ) {
        // A summary can arrive after its peer disconnected (an answer in flight): nothing is
        // planned with a peer that is gone.
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        let mut fresh = Vec::new();
        for (author, head) in &summary.heads {
            let before = p.heads.get(author).map_or(0, |(s, _)| *s);
            if head.seq > before {
                fresh.push(*author);
            }
            p.heads.insert(*author, (head.seq, Some(head.id)));
        }
        p.forks = summary.forks;
        p.forks_asked.clear();
        for author in fresh {
            self.backoff.remove(&(peer.clone(), author));
        }
        // A peer whose head is at or below ours but names another record there holds another
        // branch: ask for its record at that seq, once.
        for (author, head) in &summary.heads {
            if head.seq > self.local.seq(author) || self.ranges.contains_key(author) {
                continue;
            }
            if let Some(own) = id_at(author, head.seq)
                && own != head.id
            {
                self.probe(peer.clone(), *author, head.seq, now_ms);
            }
        }
        self.plan(now_ms);
    }

    /// The local store's head of `author` moved (by gossip, sync or publishing).
    pub fn handle_local_head(&mut self, author: PublicKey, head: HeadRef, now_ms: i64) {
        if head.seq > self.local.seq(&author) {
            self.local.heads.insert(author, head);
        }
        self.pace.head_moved(author, now_ms);
        self.plan(now_ms);
    }

    /// This node's heads or governance changed other than by growth (a decision ended a key's
    /// validity, or decisions were added): its summary is replaced.
    pub fn replace_local(&mut self, local: Summary) {
        self.local = local;
    }

    /// The local store now holds fork evidence at (`author`, `seq`).
    pub fn handle_local_fork(&mut self, author: PublicKey, seq: u64) {
        self.local.forks.insert((author, seq));
    }

    /// A record at `seq` of `author` came from `peer` ahead of a gap in the local log: the peer
    /// holds at least that seq, so the gap is asked of it.
    pub fn handle_gap(&mut self, peer: P, author: PublicKey, seq: u64, now_ms: i64) {
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        let known = p.heads.entry(author).or_insert((0, None));
        if seq > known.0 {
            *known = (seq, None);
            self.backoff.remove(&(peer, author));
        }
        self.plan(now_ms);
    }

    /// The driver dropped records from `peer` for want of room (gossip, or a range's answer,
    /// arriving while its ingest queue was full), and now has room again: the peer holds records
    /// this node may lack and that nothing else would reveal before the next periodic exchange
    /// (a dropped tail of a log has no later record to show the gap). A fresh summary is asked of
    /// the peer, and the back-offs that waited for room ([`RangeOutcome::Dropped`], at any peer:
    /// room is the node's) end; those of peers' faults (invalid records, no answer) stand.
    pub fn handle_dropped(&mut self, peer: &P) {
        let Some(p) = self.peers.get_mut(peer) else {
            return;
        };
        if !p.summary_queued {
            p.summary_queued = true;
            self.queue
                .push_back(Action::SendSummary { peer: peer.clone() });
        }
        for pair in std::mem::take(&mut self.backoff_for_room) {
            self.backoff.remove(&pair);
        }
    }

    /// A range request to `peer` for `author` ended.
    pub fn handle_range_done(
        &mut self,
        peer: &P,
        author: &PublicKey,
        outcome: RangeOutcome,
        now_ms: i64,
    ) {
        let mut held_when_asked = None;
        if self.ranges.get(author).is_some_and(|r| r.peer == *peer) {
            held_when_asked = self.ranges.remove(author).and_then(|r| r.held);
            if let Some(p) = self.peers.get_mut(peer) {
                p.requests = p.requests.saturating_sub(1);
            }
        }
        let pair = (peer.clone(), *author);
        match outcome {
            RangeOutcome::Stored => {
                self.overtaken.remove(&pair);
                // Peers of this node may lack them too, and no gossip tells them.
                self.pace.fetched(*author, now_ms);
            }
            RangeOutcome::Dropped => {
                // No peer is asked for the author while there is no room for its answer; a peer
                // already backed off for a fault stays so.
                let peers: Vec<P> = self.peers.keys().cloned().collect();
                for p in peers {
                    let pair = (p, *author);
                    if self.backoff.get(&pair).is_none_or(|until| *until <= now_ms) {
                        self.back_off(&pair.0, author, now_ms);
                        self.backoff_for_room.insert(pair);
                    }
                }
            }
            // Overtaken: while the request was out, this node's log grew another way (gossip,
            // another range), so what the answer held was already here. No fault of the peer's:
            // it is asked again at once if it holds more (a back-off here kept the dropped tail
            // of a burst waiting 10 s, BENCHMARKS.md "Publishing"). Once per peer and author
            // until it next answers something new.
            RangeOutcome::Nothing
                if held_when_asked.is_some_and(|held| self.local.seq(author) > held)
                    && self.overtaken.insert(pair) => {}
            RangeOutcome::Nothing | RangeOutcome::Failed => {
                // A peer known to hold the author's records only from a record it forwarded
                // ahead of a gap may lack the gap itself: ask every peer for a fresh summary to
                // find one that holds it.
                let from_gap = self
                    .peers
                    .get(peer)
                    .and_then(|p| p.heads.get(author))
                    .is_some_and(|(_, id)| id.is_none());
                self.back_off(peer, author, now_ms);
                if from_gap {
                    self.ask_summaries();
                }
            }
            RangeOutcome::Diverged => {
                let seq = self.local.seq(author);
                if seq == 0 || !self.probe(peer.clone(), *author, seq, now_ms) {
                    self.back_off(peer, author, now_ms);
                }
            }
        }
        self.plan(now_ms);
    }

    /// A fork request to `peer` ended (whether or not evidence came back; what was stored is
    /// reported through [`Sync::handle_local_fork`]).
    pub fn handle_fork_done(&mut self, peer: &P, author: &PublicKey, seq: u64, now_ms: i64) {
        if self
            .forks
            .get(&(*author, seq))
            .is_some_and(|(p, _)| p == peer)
        {
            self.forks.remove(&(*author, seq));
            if let Some(p) = self.peers.get_mut(peer) {
                p.requests = p.requests.saturating_sub(1);
            }
        }
        self.plan(now_ms);
    }

    /// Whether a record of `author` (one this node publishes, or forwards as valid) goes into
    /// gossip now, within the author's budget ([`pace`]). One held back is fetched by the peers
    /// as a range: when a later record that is sent shows them a gap, or, once the author has
    /// been quiet for [`PaceConfig::settle_ms`] (counted from the last head move, so that the
    /// records held back are stored by then), after a summary exchange with every peer that
    /// [`Sync::handle_timeout`] starts. Records stored from a range lead to the same exchange.
    pub fn gossip_admits(&mut self, author: PublicKey, now_ms: i64) -> bool {
        self.pace.admit(author, now_ms)
    }

    /// Time passed: periodic summary exchange, request timeouts, retries, and the summary
    /// offered to every peer once a burst that was held back from gossip has ended.
    pub fn handle_timeout(&mut self, now_ms: i64) {
        if self.pace.settled(now_ms) {
            self.ask_summaries();
        }
        let interval = self.config.interval_ms;
        for (peer, p) in &mut self.peers {
            if p.next_exchange <= now_ms {
                p.next_exchange = now_ms.saturating_add(interval);
                if !p.summary_queued {
                    p.summary_queued = true;
                    self.queue
                        .push_back(Action::SendSummary { peer: peer.clone() });
                }
            }
        }
        let late: Vec<(PublicKey, P)> = self
            .ranges
            .iter()
            .filter(|(_, r)| r.deadline <= now_ms)
            .map(|(a, r)| (*a, r.peer.clone()))
            .collect();
        for (author, peer) in late {
            self.handle_range_done(&peer, &author, RangeOutcome::Failed, now_ms);
        }
        let late: Vec<((PublicKey, u64), P)> = self
            .forks
            .iter()
            .filter(|(_, (_, deadline))| *deadline <= now_ms)
            .map(|(k, (p, _))| (*k, p.clone()))
            .collect();
        for ((author, seq), peer) in late {
            self.handle_fork_done(&peer, &author, seq, now_ms);
        }
        self.backoff.retain(|_, until| *until > now_ms);
        let backoff = &self.backoff;
        self.backoff_for_room
            .retain(|pair| backoff.contains_key(pair));
        self.plan(now_ms);
    }

    /// The next thing to do, if any.
    pub fn poll_action(&mut self) -> Option<Action<P>> {
        let action = self.queue.pop_front()?;
        if let Action::SendSummary { peer } = &action
            && let Some(p) = self.peers.get_mut(peer)
        {
            p.summary_queued = false;
        }
        Some(action)
    }

    /// When [`Sync::handle_timeout`] is next due.
    pub fn poll_timeout(&self) -> Option<i64> {
        let exchanges = self.peers.values().map(|p| p.next_exchange);
        let ranges = self.ranges.values().map(|r| r.deadline);
        let forks = self.forks.values().map(|(_, d)| *d);
        let backoffs = self.backoff.values().copied();
        exchanges
            .chain(ranges)
            .chain(forks)
            .chain(backoffs)
            .chain(self.pace.next_due())
            .min()
    }

    /// Queues a summary exchange with every peer (at most one waits per peer).
    fn ask_summaries(&mut self) {
        for (peer, p) in &mut self.peers {
            if !p.summary_queued {
                p.summary_queued = true;
                self.queue
                    .push_back(Action::SendSummary { peer: peer.clone() });
            }
        }
    }

    /// Keeps `peer` from being asked for `author` for a while. A peer that is not connected is
    /// not recorded: a disconnect has already dropped everything known of it.
    fn back_off(&mut self, peer: &P, author: &PublicKey, now_ms: i64) {
        if !self.peers.contains_key(peer) {
            return;
        }
        self.backoff_for_room.remove(&(peer.clone(), *author));
        self.backoff.insert(
            (peer.clone(), *author),
            now_ms.saturating_add(self.config.retry_after_ms),
        );
    }

    /// Asks `peer` for `author`'s records from `seq` (a fork probe), unless that was done before,
    /// a range for the author is in flight, or the peer is no longer connected (a late report of
    /// a request to it). Returns whether it was sent.
    fn probe(&mut self, peer: P, author: PublicKey, seq: u64, now_ms: i64) -> bool {
        if self.ranges.contains_key(&author) || !self.peers.contains_key(&peer) {
            return false;
        }
        if self.probes.len() >= MAX_PROBES {
            self.probes.clear();
        }
        if !self.probes.insert((peer.clone(), author, seq)) {
            return false;
        }
        self.send_range(peer, author, seq, now_ms);
        true
    }

    fn send_range(&mut self, peer: P, author: PublicKey, from_seq: u64, now_ms: i64) {
        if let Some(p) = self.peers.get_mut(&peer) {
            p.requests += 1;
        }
        let local = self.local.seq(&author);
        self.ranges.insert(
            author,
            InFlight {
                peer: peer.clone(),
                deadline: now_ms.saturating_add(self.config.request_timeout_ms),
                // A probe asks for what the local log already holds: nothing can overtake it.
                held: (from_seq > local).then_some(local),
            },
        );
        self.queue.push_back(Action::RequestRange {
            peer,
            author,
            from_seq,
            byte_budget: self.config.range_budget_bytes,
        });
    }

    /// Asks for whatever some peer holds and this node lacks.
    fn plan(&mut self, now_ms: i64) {
        let max = self.config.max_requests_per_peer;
        // Ranges: per author behind, the peer that holds the most, one request at a time.
        let authors: BTreeSet<PublicKey> = self
            .peers
            .values()
            .flat_map(|p| p.heads.keys().copied())
            .collect();
        for author in authors {
            if self.ranges.contains_key(&author) {
                continue;
            }
            let local = self.local.seq(&author);
            let best = self
                .peers
                .iter()
                .filter(|(peer, p)| {
                    p.requests < max
                        && p.heads.get(&author).is_some_and(|(s, _)| *s > local)
                        && self
                            .backoff
                            .get(&((*peer).clone(), author))
                            .is_none_or(|until| *until <= now_ms)
                })
                .max_by(|(pa, a), (pb, b)| {
                    let sa = a.heads.get(&author).map_or(0, |(s, _)| *s);
                    let sb = b.heads.get(&author).map_or(0, |(s, _)| *s);
                    // Highest seq first; among equals, the smallest peer.
                    sa.cmp(&sb).then_with(|| pb.cmp(pa))
                })
                .map(|(peer, _)| peer.clone());
            if let Some(peer) = best {
                self.send_range(peer, author, local.saturating_add(1), now_ms);
            }
        }
        // Fork evidence this node lacks.
        let mut wanted: Vec<(P, PublicKey, u64)> = Vec::new();
        for (peer, p) in &self.peers {
            let mut budget = max.saturating_sub(p.requests);
            for f in &p.forks {
                if budget == 0 {
                    break;
                }
                if self.local.forks.contains(f)
                    || self.forks.contains_key(f)
                    || p.forks_asked.contains(f)
                    || wanted.iter().any(|(_, a, s)| (*a, *s) == *f)
                {
                    continue;
                }
                wanted.push((peer.clone(), f.0, f.1));
                budget -= 1;
            }
        }
        for (peer, author, seq) in wanted {
            if let Some(p) = self.peers.get_mut(&peer) {
                p.requests += 1;
                p.forks_asked.insert((author, seq));
            }
            self.forks.insert(
                (author, seq),
                (
                    peer.clone(),
                    now_ms.saturating_add(self.config.request_timeout_ms),
                ),
            );
            self.queue
                .push_back(Action::RequestFork { peer, author, seq });
        }
    }
}

/// Records that arrived ahead of a gap in their author's log, waiting for it to fill. Bounded in
/// count and bytes: when full, the record farthest ahead of its log is dropped (sync fetches it
/// again later). Several records may wait at one (author, seq): a fork.
#[derive(Debug)]
pub struct PendingArea<T> {
    max_items: usize,
    max_bytes: usize,
    bytes: usize,
    items: BTreeMap<(PublicKey, u64, RecordId), (usize, T)>,
}

impl<T> PendingArea<T> {
    /// An empty area holding at most `max_items` records and `max_bytes` bytes.
    pub fn new(max_items: usize, max_bytes: usize) -> Self {
        Self {
            max_items,
            max_bytes,
            bytes: 0,
            items: BTreeMap::new(),
        }
    }

    /// Parks `item` (a record of `bytes` bytes). Returns false if it was not kept: too big, or
    /// farther ahead than everything already waiting while the area is full.
    pub fn insert(
        &mut self,
        author: PublicKey,
        seq: u64,
        id: RecordId,
        bytes: usize,
        item: T,
    ) -> bool {
        if bytes > self.max_bytes || self.max_items == 0 {
            return false;
        }
        let key = (author, seq, id);
        if self.items.contains_key(&key) {
            return true;
        }
        while self.items.len() >= self.max_items || self.bytes + bytes > self.max_bytes {
            // The entry farthest ahead: the highest seq, then the greatest key.
            let Some(far) = self
                .items
                .keys()
                .max_by(|a, b| a.1.cmp(&b.1).then_with(|| a.cmp(b)))
                .copied()
            else {
                break;
            };
            if (far.1, far) < (seq, key) {
                return false;
            }
            if let Some((size, _)) = self.items.remove(&far) {
                self.bytes -= size;
            }
        }
        self.bytes += bytes;
        self.items.insert(key, (bytes, item));
        true
    }

    /// Removes and returns every record waiting at exactly (`author`, `seq`).
    pub fn take(&mut self, author: &PublicKey, seq: u64) -> Vec<T> {
        self.remove_seqs(author, seq, seq)
    }

    /// Removes and returns `author`'s records at or below `seq` (the log has reached them: each is
    /// either the very record the log holds or one of another branch, that is, fork evidence).
    pub fn prune(&mut self, author: &PublicKey, seq: u64) -> Vec<T> {
        self.remove_seqs(author, 0, seq)
    }

    fn remove_seqs(&mut self, author: &PublicKey, from: u64, to: u64) -> Vec<T> {
        let keys: Vec<_> = self
            .items
            .range((*author, from, RecordId([0; 32]))..=(*author, to, RecordId([0xff; 32])))
            .map(|(k, _)| *k)
            .collect();
        keys.into_iter()
            .filter_map(|k| self.items.remove(&k))
            .map(|(size, item)| {
                self.bytes -= size;
                item
            })
            .collect()
    }

    /// Records waiting.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Bytes waiting.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests;
