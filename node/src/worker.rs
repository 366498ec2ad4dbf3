//! The ingest worker: one thread that verifies and stores everything that reaches a running node
//! (gossip, sync ranges, fork proofs, the HTTP API), off the swarm task and in batches.
//!
//! Message flow: the swarm task and the HTTP handlers send [`Job`]s on a bounded channel (the
//! swarm only with `try_send`, so it never waits on the worker); the worker takes every job that
//! is waiting (up to [`MAX_BATCH`] records), checks and batch-verifies the records without holding
//! the store, stores the good ones in one group commit, and answers with [`Event`]s on a bounded
//! channel to the swarm task (gossip validation results, head moves, records to announce, fork
//! evidence) and with `oneshot` replies to the API.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use hubnet_proto::v1::ForkProof;
use hubnet_protocol::checkpoint::{self, CheckpointError};
use hubnet_protocol::governance::{Decision, GovernanceError};
use hubnet_protocol::record::RecordError;
use hubnet_protocol::sync::{self, GossipVerdict, HeadRef, PendingArea, RangeOutcome, Received};
use hubnet_protocol::{Body, ChainError, PublicKey, Record, RecordId, SecretKey};
use libp2p::PeerId;
use libp2p::gossipsub::{MessageAcceptance, MessageId};
use prost::Message;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, error, info, warn};

use crate::compat::{self, SetAside};
use crate::metrics::{Phase, Stage};
use crate::shared::Shared;
use crate::store::{CheckpointOutcome, Outcome, Store, StoreError};
use crate::{ingest, now_ms};

mod handover;

use handover::{Handover, Merge};

/// Most records verified and stored in one batch.
pub const MAX_BATCH: usize = 512;
/// Most records waiting for a gap to fill.
const PENDING_RECORDS: usize = 4096;
/// Most bytes waiting for a gap to fill.
const PENDING_BYTES: usize = 64 * 1024 * 1024;

/// Work for the worker.
#[derive(Debug)]
pub enum Job {
    /// A record from the gossip topic; answered with [`Event::Validated`].
    Gossip {
        /// The peer that forwarded it.
        peer: PeerId,
        /// Gossipsub's id for it.
        msg_id: MessageId,
        /// The encoded `SignedRecord`.
        bytes: Vec<u8>,
    },
    /// A `ForkProof` from the forks topic; answered with [`Event::Validated`].
    GossipFork {
        /// The peer that forwarded it.
        peer: PeerId,
        /// Gossipsub's id for it.
        msg_id: MessageId,
        /// The encoded `ForkProof`.
        bytes: Vec<u8>,
    },
    /// The answer to a range request; answered with [`Event::RangeDone`].
    Range {
        /// Who answered.
        peer: PeerId,
        /// Whose log was asked for.
        author: PublicKey,
        /// Encoded `SignedRecord`s in seq order.
        records: Vec<Vec<u8>>,
    },
    /// The answer to a fork request; answered with [`Event::ForkDone`].
    Fork {
        /// Who answered.
        peer: PeerId,
        /// Whose log.
        author: PublicKey,
        /// At which seq.
        seq: u64,
        /// The proof, if the peer had one.
        proof: Option<ForkProof>,
    },
    /// A `SignedRecord` posted to the API.
    Raw {
        /// The encoded `SignedRecord`.
        bytes: Vec<u8>,
        /// Where the verdict goes.
        reply: oneshot::Sender<Result<RecordId, Refusal>>,
    },
    /// A body to sign with the node's key and store.
    Publish {
        /// The body.
        body: Box<Body>,
        /// Where the stored record goes.
        reply: oneshot::Sender<Result<Record, Refusal>>,
    },
    /// A `SignedDecision` from the governance topic; answered with [`Event::Validated`].
    GossipDecision {
        /// The peer that forwarded it.
        peer: PeerId,
        /// Gossipsub's id for it.
        msg_id: MessageId,
        /// The encoded `SignedDecision`.
        bytes: Vec<u8>,
    },
    /// A peer's answer to a decisions request.
    Decisions {
        /// Who answered.
        peer: PeerId,
        /// Encoded `SignedDecision`s.
        decisions: Vec<Vec<u8>>,
    },
    /// A `SignedDecision` posted to the API.
    SubmitDecision {
        /// The encoded `SignedDecision`.
        bytes: Vec<u8>,
        /// Where the verdict goes: the decision and whether it was new.
        reply: oneshot::Sender<Result<(Decision, bool), DecisionRefusal>>,
    },
    /// A `SignedCheckpoint` from the checkpoints topic; answered with [`Event::Validated`].
    GossipCheckpoint {
        /// The peer that forwarded it.
        peer: PeerId,
        /// Gossipsub's id for it.
        msg_id: MessageId,
        /// The encoded `SignedCheckpoint`.
        bytes: Vec<u8>,
    },
    /// A `SignedCheckpoint` posted to the API (a checkpoint proves itself, like gossip).
    SubmitCheckpoint {
        /// The encoded `SignedCheckpoint`.
        bytes: Vec<u8>,
        /// Where the verdict goes.
        reply: oneshot::Sender<Result<CheckpointOutcome, String>>,
    },
    /// Time to sign a checkpoint of this node's view (members' nodes only).
    SignCheckpoint {
        /// The node's libp2p peer id (text), written into the checkpoint.
        peer_id: String,
    },
}

/// Why a decision from the API was not stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecisionRefusal {
    /// Not a valid decision (signatures, quorum, content).
    #[error(transparent)]
    Invalid(#[from] GovernanceError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a record from the API was not stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// Not a valid record.
    #[error(transparent)]
    Invalid(#[from] RecordError),
    /// Valid, but it does not extend its author's log.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// Valid, but its author already signed another record with this seq: it is kept as fork
    /// evidence, not as part of the log.
    #[error("fork: the log already holds another record at this seq; {0} is kept as fork evidence")]
    Fork(RecordId),
    /// The node has no publishing key.
    #[error("this node has no publishing key (a read-only mirror)")]
    NoKey,
    /// The worker lost track of the record (a bug, reported rather than hidden).
    #[error("the record was not processed")]
    Lost,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the worker tells the swarm task.
#[derive(Debug)]
pub enum Event {
    /// The verdict on a gossip message.
    Validated {
        /// The forwarding peer.
        peer: PeerId,
        /// The message.
        msg_id: MessageId,
        /// Forward, drop, or drop and penalise.
        acceptance: MessageAcceptance,
        /// The author of a record to forward: the forward counts against the author's gossip
        /// budget, and over it the record is dropped instead (without penalty; sync carries it).
        author: Option<PublicKey>,
    },
    /// The log of `author` grew to `head`.
    HeadMoved {
        /// Whose log.
        author: PublicKey,
        /// Its new head.
        head: HeadRef,
    },
    /// A record this node stored from its own API: gossip it, within its author's budget.
    Announce {
        /// Whose record.
        author: PublicKey,
        /// The encoded `SignedRecord`.
        bytes: Vec<u8>,
    },
    /// New fork evidence: gossip the proof.
    ForkFound {
        /// Whose log.
        author: PublicKey,
        /// At which seq.
        seq: u64,
        /// The encoded `ForkProof`.
        proof: Vec<u8>,
    },
    /// A range answer was stored.
    RangeDone {
        /// Who answered.
        peer: PeerId,
        /// Whose log.
        author: PublicKey,
        /// How it went.
        outcome: RangeOutcome,
    },
    /// A fork answer was handled.
    ForkDone {
        /// Who answered.
        peer: PeerId,
        /// Whose log.
        author: PublicKey,
        /// At which seq.
        seq: u64,
    },
    /// A decision that was new here: gossip it (the swarm also refreshes its summary).
    AnnounceDecision(Vec<u8>),
    /// The governance state changed: the summary this node gives peers.
    Summary(Box<sync::Summary>),
    /// A checkpoint to gossip (this node's own, or a contradicting pair's second).
    AnnounceCheckpoint(Vec<u8>),
    /// A gossip record arrived ahead of a gap in its log.
    Gap {
        /// Who forwarded it.
        peer: PeerId,
        /// Whose log.
        author: PublicKey,
        /// Its seq.
        seq: u64,
    },
}

/// What became of one record of a batch (with what the logs and answers need).
#[derive(Debug)]
enum Verdict {
    Invalid(RecordError),
    Stored(RecordId),
    AlreadyStored(RecordId),
    /// Ahead of a gap: parked.
    Parked {
        /// Whose log.
        author: PublicKey,
        /// Its seq.
        seq: u64,
    },
    /// Same seq, other id: kept as fork evidence.
    Fork(RecordId),
    Refused(ChainError),
}

/// Work handed from the verify stage to the store stage, in the order the jobs came.
enum Staged {
    /// A batch of record jobs, with every record's bytes and verdict so far.
    Batch {
        batch: Vec<Job>,
        inputs: Vec<(usize, Vec<u8>)>,
        checked: Vec<Result<Record, RecordError>>,
        /// The records of `batch` ([`Job::records`]), counted before [`inputs_of`] moved the
        /// ranges' records out of their jobs.
        records: usize,
    },
    /// A governance or checkpoint job; `done` is told once it is handled.
    Control {
        job: Job,
        done: std::sync::mpsc::SyncSender<()>,
    },
}

impl Merge for Staged {
    fn records(&self) -> Option<usize> {
        match self {
            Staged::Batch { records, .. } => Some(*records),
            Staged::Control { .. } => None,
        }
    }

    fn merge(&mut self, later: Self) -> Result<(), Self> {
        let Staged::Batch {
            batch,
            inputs,
            checked,
            records,
        } = self
        else {
            return Err(later);
        };
        let Staged::Batch {
            batch: more,
            inputs: more_inputs,
            checked: more_checked,
            records: more_records,
        } = later
        else {
            return Err(later);
        };
        *records += more_records;
        let offset = batch.len();
        batch.extend(more);
        inputs.extend(
            more_inputs
                .into_iter()
                .map(|(job, bytes)| (job + offset, bytes)),
        );
        checked.extend(more_checked);
        Ok(())
    }
}

/// Runs the worker until every sender of `jobs` is gone, or the store fails (then the node must
/// stop: it can no longer store what it would acknowledge).
///
/// Two stages, each on its own thread, so that verifying a batch overlaps storing the one before
/// (a group commit waits on `fdatasync`, and checking logs takes one core): the `ingest-verify`
/// thread collects jobs into batches and checks and verifies their records (on every core,
/// without the store); this thread stores them, keeps the records waiting for gaps, handles
/// governance and checkpoints, and answers. Between them waits at most one verified batch of up
/// to [`MAX_BATCH`] records: batches verified while the store stage is busy join it
/// ([`handover`]), so each group commit takes everything verified during the one before.
/// A control job is a barrier: it is handed over in order and nothing after it is verified
/// until the store stage has handled it, since a decision changes which keys are valid.
pub fn run(
    shared: Arc<Shared>,
    key: Option<SecretKey>,
    mut jobs: mpsc::Receiver<Job>,
    events: mpsc::Sender<Event>,
) -> Result<(), StoreError> {
    let worker = Worker {
        shared: shared.clone(),
        key,
        events,
        later: Vec::new(),
        pending: PendingArea::new(PENDING_RECORDS, PENDING_BYTES),
        last_checkpoint: None,
        checkpoint_version: compat::checkpoint_version(),
        set_aside: SetAside::default(),
    };
    let handover = Arc::new(Handover::<Staged>::new(MAX_BATCH));
    // The verify stage runs on a thread of its own and the store stage on this one, so that a
    // failed store ends `run` at once (the node then stops) rather than when the next job comes:
    // the verify stage, waiting for jobs, ends when their senders are gone or its next handover
    // finds the store stage gone.
    let verify = {
        let handover = Arc::clone(&handover);
        std::thread::Builder::new()
            .name("ingest-verify".into())
            .spawn(move || {
                let _gone = handover.putter();
                verify_stage(&shared, &mut jobs, &handover);
            })
            .map_err(|cause| StoreError::Io {
                path: "ingest-verify thread".into(),
                cause,
            })?
    };
    let stored = {
        let _gone = handover.taker();
        worker.store_stage(&handover)
    };
    if let Err(e) = stored {
        error!(error = %e, "the store failed; stopping the ingest worker");
        return Err(e);
    }
    // The store stage ends when the verify stage has: it has nothing left to do.
    if let Err(panic) = verify.join() {
        // A panic there (a bug) goes on here, as it would have in a single-thread worker.
        std::panic::resume_unwind(panic);
    }
    debug!("ingest worker stopped");
    Ok(())
}

/// Collects jobs into batches, verifies them and hands them on, until the jobs end or the store
/// stage stops.
fn verify_stage(shared: &Shared, jobs: &mut mpsc::Receiver<Job>, to_store: &Handover<Staged>) {
    let metrics = &shared.metrics;
    let mut clock = Instant::now();
    // Hands a control job over and waits until it is handled; false if the store stage stopped.
    let control = |job: Job| -> bool {
        let (done, handled) = std::sync::mpsc::sync_channel(1);
        to_store.put(Staged::Control { job, done }).is_ok() && handled.recv().is_ok()
    };
    while let Some(first) = jobs.blocking_recv() {
        metrics.ingest_phase(Stage::Verify, Phase::Idle, &mut clock);
        if first.is_control() {
            if !control(first) {
                return;
            }
            metrics.ingest_phase(Stage::Verify, Phase::Handoff, &mut clock);
            continue;
        }
        let mut batch = vec![first];
        let mut records = batch.iter().map(Job::records).sum::<usize>();
        // A control job ends the batch: it is handed over after the jobs that came before it.
        let mut barrier = None;
        while records < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) if job.is_control() => {
                    barrier = Some(job);
                    break;
                }
                Ok(job) => {
                    records += job.records();
                    batch.push(job);
                }
                Err(_) => break,
            }
        }
        if records >= MAX_BATCH {
            // More came than one batch takes: search indexing yields the cores for a while.
            shared.indexer.backlog();
        }
        let inputs = inputs_of(&mut batch);
        let checked = ingest::verify_all(
            inputs.iter().map(|(_, b)| b.as_slice()),
            &shared.charter(),
            now_ms(),
        );
        metrics.ingest_phase(Stage::Verify, Phase::Verify, &mut clock);
        let staged = Staged::Batch {
            batch,
            inputs,
            checked,
            records,
        };
        if to_store.put(staged).is_err() {
            return;
        }
        if let Some(job) = barrier
            && !control(job)
        {
            return;
        }
        metrics.ingest_phase(Stage::Verify, Phase::Handoff, &mut clock);
    }
}

/// Every record of a batch, with the index of the job it came from. The bytes of gossip and
/// range records move out of their jobs (their answers need only the verdicts); an API
/// record's stay, to be gossiped once stored.
fn inputs_of(batch: &mut [Job]) -> Vec<(usize, Vec<u8>)> {
    let mut inputs: Vec<(usize, Vec<u8>)> = Vec::new();
    for (i, job) in batch.iter_mut().enumerate() {
        match job {
            Job::Gossip { bytes, .. } => inputs.push((i, std::mem::take(bytes))),
            Job::Raw { bytes, .. } => inputs.push((i, bytes.clone())),
            Job::Range { records, .. } => {
                inputs.extend(std::mem::take(records).into_iter().map(|r| (i, r)));
            }
            // A proof that does not decode contributes no records, and is judged on that.
            Job::GossipFork { bytes, .. } => {
                if let Ok(p) = ForkProof::decode(bytes.as_slice()) {
                    inputs.push((i, p.first));
                    inputs.push((i, p.second));
                }
            }
            Job::Fork { proof: Some(p), .. } => {
                inputs.push((i, p.first.clone()));
                inputs.push((i, p.second.clone()));
            }
            Job::Fork { proof: None, .. } | Job::Publish { .. } => {}
            // Control jobs never reach a record batch.
            Job::GossipDecision { .. }
            | Job::Decisions { .. }
            | Job::SubmitDecision { .. }
            | Job::GossipCheckpoint { .. }
            | Job::SubmitCheckpoint { .. }
            | Job::SignCheckpoint { .. } => {}
        }
    }
    inputs
}

impl Job {
    /// Governance and checkpoint jobs: handled one by one, outside record batches.
    fn is_control(&self) -> bool {
        matches!(
            self,
            Job::GossipDecision { .. }
                | Job::Decisions { .. }
                | Job::SubmitDecision { .. }
                | Job::GossipCheckpoint { .. }
                | Job::SubmitCheckpoint { .. }
                | Job::SignCheckpoint { .. }
        )
    }

    fn records(&self) -> usize {
        match self {
            Job::Range { records, .. } => records.len(),
            Job::GossipFork { .. } | Job::Fork { .. } => 2,
            _ => 1,
        }
    }
}

impl Verdict {
    /// The kind of outcome the rules of `protocol::sync` decide on.
    fn received(&self) -> Received {
        match self {
            // A key a decision ended may reach a peer before the decision does, and a newer
            // release's kind is set aside: no penalty.
            Verdict::Invalid(e) => Received::of_refusal(e),
            Verdict::Stored(_) => Received::Stored,
            Verdict::AlreadyStored(_) => Received::AlreadyHeld,
            Verdict::Parked { .. } => Received::Parked,
            Verdict::Fork(_) => Received::Fork,
            Verdict::Refused(ChainError::WrongPrev { .. }) => Received::OtherBranch,
            // The rate rule depends only on the log, which the sender holds too: a peer that
            // forwards a record over the limit is penalised as for an invalid one.
            Verdict::Refused(ChainError::RateExceeded { .. }) => Received::Invalid,
            Verdict::Refused(_) => Received::Refused,
        }
    }
}

fn acceptance(v: GossipVerdict) -> MessageAcceptance {
    match v {
        GossipVerdict::Accept => MessageAcceptance::Accept,
        GossipVerdict::Ignore => MessageAcceptance::Ignore,
        GossipVerdict::Reject => MessageAcceptance::Reject,
    }
}

struct Worker {
    shared: Arc<Shared>,
    key: Option<SecretKey>,
    events: mpsc::Sender<Event>,
    /// Answers of the current batch, sent after its head moves (the sync state machine wants to
    /// hear of progress before it hears that a range is done). Gossip verdicts given before the
    /// group's `fdatasync` ([`Worker::accept_early`]) are sent at once instead.
    later: Vec<Event>,
    pending: PendingArea<Record>,
    /// This node's last own checkpoint: its heads and when it was signed.
    last_checkpoint: Option<(sync::Summary, i64)>,
    /// The checkpoint version this node signs and the newest it understands (this release's,
    /// unless a test plays a newer release: [`compat::TEST_CHECKPOINT_VERSION`]).
    checkpoint_version: u32,
    /// Who already sent messages of a version this node does not understand.
    set_aside: SetAside,
}

/// A node signs a checkpoint when its view changed, and at least this often regardless.
const CHECKPOINT_HEARTBEAT_MS: i64 = 10 * 60 * 1000;

impl Worker {
    /// Handles a governance or checkpoint job.
    fn control(&mut self, job: Job) -> Result<(), StoreError> {
        match job {
            Job::GossipDecision {
                peer,
                msg_id,
                bytes,
            } => {
                let verdict = match self.add_decision(&bytes) {
                    Ok((_, new)) => sync::decision_verdict(Ok(new)),
                    Err(DecisionRefusal::Invalid(e)) => {
                        let verdict = sync::decision_verdict(Err(&e));
                        if verdict == GossipVerdict::Reject {
                            info!(%peer, error = %e, "rejected an invalid governance decision");
                        } else {
                            self.log_set_aside(peer, compat::Message::Decision, &e);
                        }
                        verdict
                    }
                    Err(DecisionRefusal::Store(e)) => return Err(e),
                };
                self.send(Event::Validated {
                    peer,
                    msg_id,
                    acceptance: acceptance(verdict),
                    author: None,
                });
            }
            Job::Decisions { peer, decisions } => {
                for bytes in decisions {
                    match self.add_decision(&bytes) {
                        Ok((_, true)) => self.send(Event::AnnounceDecision(bytes)),
                        Ok((_, false)) => {}
                        Err(DecisionRefusal::Invalid(
                            e @ GovernanceError::UnknownAction { .. },
                        )) => {
                            self.log_set_aside(peer, compat::Message::Decision, &e);
                        }
                        Err(DecisionRefusal::Invalid(e)) => {
                            warn!(%peer, error = %e, "a peer sent an invalid governance decision");
                        }
                        Err(DecisionRefusal::Store(e)) => return Err(e),
                    }
                }
            }
            Job::SubmitDecision { bytes, reply } => {
                let answer = self.add_decision(&bytes);
                if let Err(DecisionRefusal::Store(e)) = &answer {
                    error!(error = %e, "storing a decision failed");
                }
                if matches!(answer, Ok((_, true))) {
                    self.send(Event::AnnounceDecision(bytes));
                }
                let _ = reply.send(answer);
            }
            Job::GossipCheckpoint {
                peer,
                msg_id,
                bytes,
            } => {
                let verdict = match self.add_checkpoint(&bytes)? {
                    Ok(outcome) => {
                        sync::checkpoint_verdict(Ok(outcome != CheckpointOutcome::Known))
                    }
                    Err(e) => {
                        let verdict = sync::checkpoint_verdict(Err(&e));
                        match &e {
                            _ if verdict == GossipVerdict::Reject => {
                                info!(%peer, error = %e, "rejected an invalid checkpoint");
                            }
                            CheckpointError::NewerVersion { .. } => {
                                self.log_set_aside(peer, compat::Message::Checkpoint, &e);
                            }
                            _ => debug!(%peer, error = %e, "checkpoint set aside"),
                        }
                        verdict
                    }
                };
                self.send(Event::Validated {
                    peer,
                    msg_id,
                    acceptance: acceptance(verdict),
                    author: None,
                });
            }
            Job::SubmitCheckpoint { bytes, reply } => {
                let answer = self.add_checkpoint(&bytes)?.map_err(|e| e.to_string());
                if answer
                    .as_ref()
                    .is_ok_and(|o| *o != CheckpointOutcome::Known)
                {
                    self.send(Event::AnnounceCheckpoint(bytes));
                }
                let _ = reply.send(answer);
            }
            Job::SignCheckpoint { peer_id } => self.sign_checkpoint(&peer_id)?,
            other => debug!(?other, "not a control job"),
        }
        Ok(())
    }

    /// Logs a message of a version this node does not understand, set aside without penalty:
    /// at `info` the first time a peer sends one of its kind, at `debug` after.
    fn log_set_aside(
        &mut self,
        peer: PeerId,
        what: compat::Message,
        error: &dyn std::error::Error,
    ) {
        if self.set_aside.first(peer, what) {
            info!(
                %peer,
                kind = ?what,
                %error,
                "set aside a message of a version this node does not understand, without penalty \
                 (a newer release's?); more from this peer are logged at debug"
            );
        } else {
            debug!(%peer, kind = ?what, %error, "set aside a message of a newer version");
        }
    }

    /// Verifies a checkpoint (without the store) and keeps it.
    fn add_checkpoint(
        &mut self,
        bytes: &[u8],
    ) -> Result<Result<CheckpointOutcome, checkpoint::CheckpointError>, StoreError> {
        match checkpoint::verify_bytes_up_to(bytes, &self.shared.charter(), self.checkpoint_version)
        {
            Ok(c) => Ok(Ok(self.shared.lock_store().add_checkpoint(c)?)),
            Err(e) => Ok(Err(e)),
        }
    }

    /// Verifies (without the store: decisions only need the network id and the committee, which
    /// no decision changes) and stores a decision; true if it was new. On a new one, the charter
    /// snapshot, the swarm's summary and the search index follow.
    fn add_decision(&mut self, bytes: &[u8]) -> Result<(Decision, bool), DecisionRefusal> {
        let d = hubnet_protocol::governance::verify_decision_bytes(bytes, &self.shared.charter())?;
        let mut store = self.shared.lock_store();
        let Some(changed) = store.add_decision(d.clone())? else {
            return Ok((d, false));
        };
        self.shared.set_charter(store.charter().clone());
        let summary = store.summary();
        drop(store);
        if !changed.is_empty() {
            info!(keys = changed.len(), "key validity changed");
        }
        // The index follows every decision (its commit records the decisions it follows).
        self.shared.indexer.wake();
        self.send(Event::Summary(Box::new(summary)));
        Ok((d, true))
    }

    /// Signs a checkpoint if the view changed since the last one (or the heartbeat is due).
    fn sign_checkpoint(&mut self, peer_id: &str) -> Result<(), StoreError> {
        let Some(key) = &self.key else {
            return Ok(());
        };
        let now = now_ms();
        let mut store = self.shared.lock_store();
        let summary = store.summary();
        if let Some((last, at)) = &self.last_checkpoint
            && last.heads == summary.heads
            && last.decisions == summary.decisions
            && now - at < CHECKPOINT_HEARTBEAT_MS
        {
            return Ok(());
        }
        let charter = store.charter().clone();
        // A revoked key's statements are no evidence; a node keeps to the key it was given.
        if charter.member_by_key(&key.public_key()).is_none()
            || charter.key_revoked(&key.public_key())
        {
            return Ok(());
        }
        // Checkpoints are ordered by their time: one signed after a clock stepped back must
        // still come after this key's newest (which survives restarts), or it would read as a
        // rollback.
        let newest = store.checkpoint_of(&key.public_key()).map(|c| c.time);
        let time = newest.map_or(now, |t| now.max(t.saturating_add(1)));
        if time > now {
            warn!(
                clock_behind_ms = time - now,
                "the clock is behind this node's newest checkpoint; signing just after it"
            );
        }
        let signed = checkpoint::sign_version(
            self.checkpoint_version,
            key,
            &charter,
            peer_id,
            time,
            &summary.heads,
            &summary.decisions,
        );
        let bytes = signed.encode_to_vec();
        match checkpoint::verify_up_to(&signed, &charter, self.checkpoint_version) {
            Ok(c) => {
                store.add_checkpoint(c)?;
            }
            Err(e) => {
                warn!(error = %e, "this node's own checkpoint does not verify; not sent");
                return Ok(());
            }
        }
        drop(store);
        debug!(heads = summary.heads.len(), "signed a checkpoint");
        self.last_checkpoint = Some((summary, now));
        self.send(Event::AnnounceCheckpoint(bytes));
        Ok(())
    }
    /// Queues an event to send once the batch's head moves are out.
    fn emit(&mut self, event: Event) {
        self.later.push(event);
    }

    fn send(&self, event: Event) {
        // Blocks while the swarm task is behind: the back-pressure that bounds the queues.
        if self.events.blocking_send(event).is_err() {
            debug!("swarm task gone; event dropped");
        }
    }

    /// Stores verified batches and handles control jobs, in order, until the verify stage is
    /// done or the store fails.
    fn store_stage(mut self, staged: &Handover<Staged>) -> Result<(), StoreError> {
        let mut clock = Instant::now();
        while let Some(next) = staged.take() {
            self.shared
                .metrics
                .ingest_phase(Stage::Store, Phase::Idle, &mut clock);
            match next {
                Staged::Control { job, done } => {
                    self.control(job)?;
                    let _ = done.send(());
                    self.shared
                        .metrics
                        .ingest_phase(Stage::Store, Phase::Store, &mut clock);
                }
                Staged::Batch {
                    batch,
                    inputs,
                    checked,
                    ..
                } => self.process(batch, &inputs, checked, &mut clock)?,
            }
        }
        Ok(())
    }

    /// Stores a verified batch and answers its jobs.
    fn process(
        &mut self,
        batch: Vec<Job>,
        inputs: &[(usize, Vec<u8>)],
        checked: Vec<Result<Record, RecordError>>,
        clock: &mut Instant,
    ) -> Result<(), StoreError> {
        // 3. Store what is valid, in one group commit; keep the verdicts in input order.
        let mut verdicts: Vec<Verdict> = Vec::with_capacity(inputs.len());
        // The author of each verdict's record, when it was valid.
        let mut authors: Vec<Option<PublicKey>> = Vec::with_capacity(inputs.len());
        // Gossip jobs whose verdict went out before the group's `fdatasync`.
        let validated: BTreeSet<usize>;
        let mut moved: BTreeSet<PublicKey> = BTreeSet::new();
        let mut new_forks: Vec<(PublicKey, u64)> = Vec::new();
        {
            let shared = self.shared.clone();
            // The valid records move into the group commit and back out with their outcomes.
            let mut errors: Vec<Option<RecordError>> = Vec::with_capacity(checked.len());
            let mut valid: Vec<Record> = Vec::with_capacity(checked.len());
            for c in checked {
                match c {
                    Ok(r) => {
                        valid.push(r);
                        errors.push(None);
                    }
                    Err(e) => errors.push(Some(e)),
                }
            }
            // Committed even when empty: an index writer that failed stops the worker here (the
            // node stops, and a restart replays the journal).
            let staged = stage(&shared, &valid, || {
                self.shared
                    .metrics
                    .ingest_phase(Stage::Store, Phase::StoreLock, clock);
            })?;
            validated = self.accept_early(&batch, inputs, &errors, &valid, staged.outcomes())?;
            let outcomes = Store::settle(&*shared, staged)?;
            let mut stored = valid.into_iter().zip(outcomes);
            for (error, (origin, _)) in errors.into_iter().zip(inputs) {
                if let Some(e) = error {
                    verdicts.push(Verdict::Invalid(e));
                    authors.push(None);
                    continue;
                }
                // `commit` answers every record it is given; were one missing, the jobs left
                // without a verdict are answered as unprocessed (`Refusal::Lost`, no gossip verdict).
                let Some((r, outcome)) = stored.next() else {
                    break;
                };
                let from_gossip = matches!(batch[*origin], Job::Gossip { .. } | Job::Range { .. });
                let author = r.header.author;
                let verdict = match outcome {
                    Outcome::Stored => {
                        moved.insert(r.header.author);
                        debug!(id = %r.id, member = %r.member, seq = r.header.seq, "stored");
                        self.shared.metrics.records_stored.inc();
                        Verdict::Stored(r.id)
                    }
                    Outcome::AlreadyStored => Verdict::AlreadyStored(r.id),
                    Outcome::Refused(ChainError::SeqRepeated { .. }) => {
                        if shared.lock_store().add_fork(&r)? {
                            self.shared.metrics.fork_evidence.inc();
                            new_forks.push((r.header.author, r.header.seq));
                        }
                        Verdict::Fork(r.id)
                    }
                    Outcome::Refused(ChainError::SeqGap { expected, got, .. })
                        if from_gossip && got > expected =>
                    {
                        let (author, seq, id) = (r.header.author, r.header.seq, r.id);
                        let size = r.signed.encoded_len();
                        if self.pending.insert(author, seq, id, size, r) {
                            Verdict::Parked { author, seq }
                        } else {
                            Verdict::Refused(ChainError::SeqGap {
                                author: author.to_hex(),
                                expected,
                                got,
                            })
                        }
                    }
                    Outcome::Refused(e) => Verdict::Refused(e),
                };
                verdicts.push(verdict);
                authors.push(Some(author));
            }
            // 4. Records parked earlier whose gap is now filled.
            drain_pending(&mut self.pending, &shared, &mut moved, &mut new_forks)?;
            self.shared
                .metrics
                .pending_records
                .set(i64::try_from(self.pending.len()).unwrap_or(i64::MAX));
        }
        self.shared
            .metrics
            .ingest_phase(Stage::Store, Phase::Store, clock);
        // 5. Publishing: the bodies waiting are signed in order and stored in one group commit.
        let mut published = self.publish_group(&batch, &mut moved).into_iter();
        // 6. Answers, in job order.
        let mut verdicts = inputs
            .iter()
            .map(|(o, _)| *o)
            .zip(verdicts.into_iter().zip(authors))
            .peekable();
        for (i, job) in batch.into_iter().enumerate() {
            let mut mine = Vec::new();
            let mut author = None;
            while let Some((j, _)) = verdicts.peek() {
                if *j != i {
                    break;
                }
                if let Some((_, (v, a))) = verdicts.next() {
                    author = author.or(a);
                    mine.push(v);
                }
            }
            if let Job::Publish { reply, .. } = job {
                let answer = published.next().unwrap_or(Err(Refusal::Lost));
                if let Ok(r) = &answer {
                    self.emit(Event::Announce {
                        author: r.header.author,
                        bytes: r.signed.encode(),
                    });
                }
                let _ = reply.send(answer);
                continue;
            }
            self.answer(job, mine, author, validated.contains(&i))?;
        }
        if !moved.is_empty() {
            self.shared.indexer.wake();
        }
        for author in moved {
            let head = self.shared.read_store().head(&author)?;
            if let Some(h) = head {
                self.send(Event::HeadMoved {
                    author,
                    head: HeadRef {
                        seq: h.seq,
                        id: h.id,
                    },
                });
            }
        }
        for (author, seq) in new_forks {
            let proof = self.shared.read_store().fork_proof(&author, seq)?;
            if let Some((own, other)) = proof {
                let proof = ForkProof {
                    first: own.encode(),
                    second: other.encode(),
                }
                .encode_to_vec();
                self.send(Event::ForkFound { author, seq, proof });
            }
        }
        for event in std::mem::take(&mut self.later) {
            self.send(event);
        }
        self.shared
            .metrics
            .ingest_phase(Stage::Store, Phase::Answer, clock);
        Ok(())
    }
}

/// Stores `records` as one group commit in its three steps ([`Store::append`]), with the store's
/// write lock let go while the group's `fdatasync` runs: readers go on meanwhile with the store
/// as it was before the group. `locked` runs once the lock is first held. The ingest worker's
/// store stage is the store's only writer, which the steps rely on.
fn commit(
    shared: &Shared,
    records: &[Record],
    locked: impl FnOnce(),
) -> Result<Vec<Outcome>, StoreError> {
    let staged = stage(shared, records, locked)?;
    Store::settle(shared, staged)
}

/// The first step of [`commit`]: checks `records` against their logs and writes the group,
/// without `fdatasync` ([`Store::stage`]); [`Store::settle`] finishes it.
fn stage(
    shared: &Shared,
    records: &[Record],
    locked: impl FnOnce(),
) -> Result<crate::store::Staged, StoreError> {
    let mut store = shared.lock_store();
    locked();
    let refused_before = store.bodies_refused();
    let staged = store.stage(records)?;
    shared
        .metrics
        .erased_bodies_refused
        .inc_by(store.bodies_refused() - refused_before);
    Ok(staged)
}

/// Whether a gossip record staged with `outcome` at `seq` is forwarded before its group's
/// `fdatasync`, its author's head readable at `visible` ([`Worker::accept_early`]): if it
/// extends its log or is held already, and every record before it is readable.
fn goes_early(outcome: &Outcome, seq: u64, visible: u64) -> bool {
    matches!(outcome, Outcome::Stored | Outcome::AlreadyStored) && seq <= visible.saturating_add(1)
}

/// Stores parked records that now extend their logs, repeatedly.
fn drain_pending(
    pending: &mut PendingArea<Record>,
    shared: &Shared,
    moved: &mut BTreeSet<PublicKey>,
    new_forks: &mut Vec<(PublicKey, u64)>,
) -> Result<(), StoreError> {
    if pending.is_empty() {
        return Ok(());
    }
    let metrics = &shared.metrics;
    let mut todo: Vec<PublicKey> = moved.iter().copied().collect();
    while let Some(author) = todo.pop() {
        let Some(head) = shared.read_store().head(&author)? else {
            continue;
        };
        pending.prune(&author, head.seq);
        let next = pending.take(&author, head.seq + 1);
        if next.is_empty() {
            continue;
        }
        let outcomes = commit(shared, &next, || {})?;
        for (r, o) in next.iter().zip(outcomes) {
            match o {
                Outcome::Stored => {
                    debug!(id = %r.id, member = %r.member, seq = r.header.seq, "stored");
                    metrics.records_stored.inc();
                    moved.insert(author);
                    if !todo.contains(&author) {
                        todo.push(author);
                    }
                }
                Outcome::Refused(ChainError::SeqRepeated { .. })
                    if shared.lock_store().add_fork(r)? =>
                {
                    metrics.fork_evidence.inc();
                    new_forks.push((author, r.header.seq));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

impl Worker {
    /// Forwards gossip records that extend their logs, or are held already, once the group is
    /// staged and before its `fdatasync`: a relay's disk is not on the path of a record to the
    /// rest of the network (the node is not its author; were it to stop before the sync, it
    /// fetches the record again by sync). Each hop waited for a sync before (BENCHMARKS.md,
    /// "Flood"). Only a record whose predecessor readers can already see goes early: a peer
    /// that lacks the records before it asks this node for them, and must not get an empty
    /// answer (and back off) because they wait for the same `fdatasync`. `errors` holds one
    /// entry per input, `valid` and `outcomes` one per input without an error. Returns the
    /// jobs answered.
    fn accept_early(
        &self,
        batch: &[Job],
        inputs: &[(usize, Vec<u8>)],
        errors: &[Option<RecordError>],
        valid: &[Record],
        outcomes: &[Outcome],
    ) -> Result<BTreeSet<usize>, StoreError> {
        let checked = inputs
            .iter()
            .zip(errors)
            .filter(|(_, e)| e.is_none())
            .map(|((origin, _), _)| *origin);
        // Decided under the store's read lock, sent after it (a send may wait for the swarm).
        let mut early = Vec::new();
        {
            let store = self.shared.read_store();
            for ((origin, record), outcome) in checked.zip(valid).zip(outcomes) {
                if !matches!(batch[origin], Job::Gossip { .. }) {
                    continue;
                }
                let author = record.header.author;
                let visible = store.head(&author)?.map_or(0, |h| h.seq);
                if goes_early(outcome, record.header.seq, visible) {
                    early.push((origin, author));
                }
            }
        }
        for &(origin, author) in &early {
            if let Job::Gossip { peer, msg_id, .. } = &batch[origin] {
                self.send(Event::Validated {
                    peer: *peer,
                    msg_id: msg_id.clone(),
                    acceptance: MessageAcceptance::Accept,
                    author: Some(author),
                });
            }
        }
        Ok(early.into_iter().map(|(origin, _)| origin).collect())
    }

    /// Answers `job` with the verdicts on its records; `author` is that of its first valid one.
    /// A gossip job whose verdict went out early ([`Worker::accept_early`]) gets no second one.
    fn answer(
        &mut self,
        job: Job,
        verdicts: Vec<Verdict>,
        author: Option<PublicKey>,
        validated: bool,
    ) -> Result<(), StoreError> {
        match job {
            Job::Gossip { peer, msg_id, .. } => {
                let Some(v) = verdicts.first() else {
                    return Ok(());
                };
                match v {
                    Verdict::Invalid(e) if v.received() == Received::NotUnderstood => {
                        self.log_set_aside(peer, compat::Message::Record, e);
                    }
                    Verdict::Invalid(e) => {
                        info!(%peer, error = %e, "rejected an invalid gossip record");
                        self.shared.metrics.gossip_rejected.inc();
                    }
                    Verdict::Refused(e) => {
                        debug!(%peer, error = %e, "gossip record does not extend its log");
                    }
                    Verdict::Parked { author, seq } => {
                        self.emit(Event::Gap {
                            peer,
                            author: *author,
                            seq: *seq,
                        });
                    }
                    _ => {}
                }
                if validated {
                    return Ok(());
                }
                let acceptance = acceptance(sync::gossip_verdict(v.received()));
                self.emit(Event::Validated {
                    peer,
                    msg_id,
                    author: author.filter(|_| acceptance == MessageAcceptance::Accept),
                    acceptance,
                });
            }
            Job::GossipFork { peer, msg_id, .. } => {
                // A proof that does not decode has no records: not a proof.
                let received: Vec<Received> = verdicts.iter().map(Verdict::received).collect();
                let verdict = sync::fork_proof_verdict(&received);
                if verdict == GossipVerdict::Reject {
                    info!(%peer, "rejected an invalid fork proof");
                }
                self.emit(Event::Validated {
                    peer,
                    msg_id,
                    acceptance: acceptance(verdict),
                    author: None,
                });
            }
            Job::Range { peer, author, .. } => {
                self.shared.metrics.sync_ranges.inc();
                let received: Vec<Received> = verdicts.iter().map(Verdict::received).collect();
                let outcome = sync::range_outcome(&received);
                if outcome == RangeOutcome::Failed {
                    warn!(%peer, "a sync answer held invalid records");
                }
                if let Some(Verdict::Invalid(e)) = verdicts
                    .iter()
                    .find(|v| v.received() == Received::NotUnderstood)
                {
                    self.log_set_aside(peer, compat::Message::Record, e);
                }
                self.emit(Event::RangeDone {
                    peer,
                    author,
                    outcome,
                });
            }
            Job::Fork {
                peer, author, seq, ..
            } => {
                if verdicts.iter().any(|v| matches!(v, Verdict::Invalid(_))) {
                    warn!(%peer, "a fork answer held invalid records");
                }
                self.emit(Event::ForkDone { peer, author, seq });
            }
            Job::Raw { bytes, reply } => {
                let answer = match verdicts.into_iter().next() {
                    Some(Verdict::Stored(id)) => {
                        if let Some(author) = author {
                            self.emit(Event::Announce { author, bytes });
                        }
                        Ok(id)
                    }
                    Some(Verdict::AlreadyStored(id)) => Ok(id),
                    Some(Verdict::Fork(id)) => Err(Refusal::Fork(id)),
                    Some(Verdict::Invalid(e)) => Err(e.into()),
                    Some(Verdict::Refused(e)) => Err(e.into()),
                    // Records from the API are never parked; an unanswered one cannot happen.
                    Some(Verdict::Parked { .. }) | None => Err(Refusal::Lost),
                };
                let _ = reply.send(answer);
            }
            Job::GossipDecision { .. }
            | Job::Decisions { .. }
            | Job::SubmitDecision { .. }
            | Job::GossipCheckpoint { .. }
            | Job::SubmitCheckpoint { .. }
            | Job::SignCheckpoint { .. } => {}
            // Answered with the batch's group publish.
            Job::Publish { .. } => {}
        }
        Ok(())
    }

    /// Signs and stores the bodies of the batch's publish jobs in one group commit
    /// ([`crate::store::Store::publish_group`]); one answer per publish job, in order.
    fn publish_group(
        &mut self,
        batch: &[Job],
        moved: &mut BTreeSet<PublicKey>,
    ) -> Vec<Result<Record, Refusal>> {
        let bodies: Vec<&Body> = batch
            .iter()
            .filter_map(|job| match job {
                Job::Publish { body, .. } => Some(body.as_ref()),
                _ => None,
            })
            .collect();
        if bodies.is_empty() {
            return Vec::new();
        }
        let Some(key) = &self.key else {
            return bodies.iter().map(|_| Err(Refusal::NoKey)).collect();
        };
        let results = Store::publish_in(&*self.shared, key, &bodies, now_ms());
        let stored = results.iter().filter(|r| r.is_ok()).count();
        if stored > 0 {
            self.shared
                .metrics
                .publish_group_records
                .observe(stored as f64);
        }
        results
            .into_iter()
            .map(|result| match result {
                Ok(r) => {
                    debug!(id = %r.id, member = %r.member, seq = r.header.seq, "stored");
                    self.shared.metrics.records_stored.inc();
                    moved.insert(r.header.author);
                    Ok(r)
                }
                Err(StoreError::Invalid(e)) => Err(Refusal::Invalid(e)),
                Err(StoreError::Chain(e)) => Err(Refusal::Chain(e)),
                Err(e) => Err(e.into()),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {

    use hubnet_protocol::record::{self, Position};
    use hubnet_protocol::{Draft, DraftFormat, SignedRecord};

    use super::*;

    struct Rig {
        jobs: mpsc::Sender<Job>,
        events: mpsc::Receiver<Event>,
        runtime: tokio::runtime::Runtime,
        shared: Arc<Shared>,
        key: SecretKey,
        _dir: tempfile::TempDir,
    }

    fn rig() -> Rig {
        rig_of(None)
    }

    /// A worker that publishes with `key`, if given.
    fn rig_of(key: Option<SecretKey>) -> Rig {
        let dir = tempfile::tempdir().expect("tempdir");
        let (shared, _indexer) = crate::test_support::sample_shared(dir.path(), None, |_| {});
        let (jobs, job_rx) = mpsc::channel(16);
        let (event_tx, events) = mpsc::channel(1024);
        let s = shared.clone();
        std::thread::spawn(move || run(s, key, job_rx, event_tx));
        Rig {
            jobs,
            events,
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("runtime"),
            shared,
            key: crate::test_support::sample_key("KG"),
            _dir: dir,
        }
    }

    /// KG's record at `position`, with a title that makes it unique.
    fn signed(rig: &Rig, position: Position, title: &str) -> SignedRecord {
        let draft = format!(
            r#"{{"kind":"practice","title":{{"ky":"{title}"}},"summary":{{"en":"x"}},"topics":["ethics-integrity"]}}"#
        );
        let body = Draft::parse(&draft, DraftFormat::Json)
            .and_then(|d| d.to_body("KG", &rig.shared.charter().rules()))
            .expect("body");
        record::sign(
            &rig.key,
            rig.shared.charter().network_id(),
            position,
            now_ms(),
            &body,
        )
    }

    fn after(s: &SignedRecord) -> Position {
        let h = hubnet_protocol::Header::decode(&s.header).expect("header");
        Position {
            seq: h.seq + 1,
            prev: Some(s.id()),
            prev_created_at: h.created_at,
        }
    }

    fn gossip(rig: &Rig, n: u8, s: &SignedRecord) {
        rig.jobs
            .blocking_send(Job::Gossip {
                peer: PeerId::random(),
                msg_id: MessageId::from(vec![n]),
                bytes: s.encode(),
            })
            .expect("worker runs");
    }

    /// The events up to and including the verdict on message `n`.
    /// The worker's next event, within 10 s.
    fn next_event(rig: &mut Rig) -> Event {
        let events = &mut rig.events;
        let next = rig.runtime.block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(10), events.recv()).await
        });
        next.expect("an event within 10 s").expect("worker runs")
    }

    /// The events up to and including a head's move to `seq`.
    fn until_head(rig: &mut Rig, seq: u64) -> Vec<Event> {
        let mut seen = Vec::new();
        loop {
            let e = next_event(rig);
            let moved = matches!(&e, Event::HeadMoved { head, .. } if head.seq == seq);
            seen.push(e);
            if moved {
                return seen;
            }
        }
    }

    fn until_verdict(rig: &mut Rig, n: u8) -> (Vec<Event>, MessageAcceptance) {
        let mut seen = Vec::new();
        loop {
            let e = next_event(rig);
            if let Event::Validated {
                msg_id, acceptance, ..
            } = &e
                && *msg_id == MessageId::from(vec![n])
            {
                return (seen, *acceptance);
            }
            seen.push(e);
        }
    }

    #[test]
    fn a_record_ahead_of_a_gap_waits_until_the_gap_fills() {
        let mut rig = rig();
        let first = signed(&rig, Position::FIRST, "один");
        let second = signed(&rig, after(&first), "два");
        gossip(&rig, 2, &second);
        let (events, verdict) = until_verdict(&mut rig, 2);
        assert_eq!(verdict, MessageAcceptance::Accept, "valid, so forwarded");
        assert!(!events.iter().any(|e| matches!(e, Event::HeadMoved { .. })));
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::Gap { seq: 2, .. })),
            "the gap is reported: {events:?}"
        );
        assert_eq!(rig.shared.lock_store().record_count().ok(), Some(0));

        gossip(&rig, 1, &first);
        assert_eq!(until_verdict(&mut rig, 1).1, MessageAcceptance::Accept);
        // The parked record follows.
        until_head(&mut rig, 2);
        assert_eq!(rig.shared.lock_store().record_count().ok(), Some(2));
    }

    #[test]
    fn a_second_record_at_a_seq_is_fork_evidence_and_its_proof_goes_out() {
        let mut rig = rig();
        let a = signed(&rig, Position::FIRST, "а");
        let b = signed(&rig, Position::FIRST, "б");
        gossip(&rig, 1, &a);
        assert_eq!(until_verdict(&mut rig, 1).1, MessageAcceptance::Accept);
        gossip(&rig, 2, &b);
        let (events, verdict) = until_verdict(&mut rig, 2);
        assert_eq!(
            verdict,
            MessageAcceptance::Accept,
            "the evidence is passed on"
        );
        let proof = events.iter().find_map(|e| match e {
            Event::ForkFound { seq, proof, .. } => Some((*seq, proof.clone())),
            _ => None,
        });
        let (seq, proof) = proof.expect("a fork proof is announced");
        assert_eq!(seq, 1);
        let proof = ForkProof::decode(proof.as_slice()).expect("proof");
        assert_eq!(proof.first, a.encode());
        assert_eq!(proof.second, b.encode());
        let store = rig.shared.lock_store();
        assert_eq!(store.record_count().ok(), Some(1));
        assert_eq!(store.forks().len(), 1);
        assert!(
            store.get(&b.id()).ok().flatten().is_some(),
            "evidence is readable"
        );
    }

    #[test]
    fn an_invalid_gossip_record_is_rejected_and_nothing_changes() {
        let mut rig = rig();
        let mut forged = signed(&rig, Position::FIRST, "подделка");
        forged.signature[0] ^= 1;
        gossip(&rig, 1, &forged);
        assert_eq!(until_verdict(&mut rig, 1).1, MessageAcceptance::Reject);
        let other = SecretKey::from_seed([5; 32]);
        let outsider = record::sign(
            &other,
            rig.shared.charter().network_id(),
            Position::FIRST,
            now_ms(),
            &Body::decode(
                hubnet_protocol::Kind::Practice,
                &forged.body,
                &rig.shared.charter().rules(),
            )
            .expect("body"),
        );
        gossip(&rig, 2, &outsider);
        assert_eq!(until_verdict(&mut rig, 2).1, MessageAcceptance::Reject);
        rig.jobs
            .blocking_send(Job::Gossip {
                peer: PeerId::random(),
                msg_id: MessageId::from(vec![3]),
                bytes: vec![0xff; 40],
            })
            .expect("worker runs");
        assert_eq!(until_verdict(&mut rig, 3).1, MessageAcceptance::Reject);
        assert_eq!(rig.shared.lock_store().record_count().ok(), Some(0));
        assert_eq!(rig.shared.metrics.gossip_rejected.get(), 3);
    }

    /// Messages of a version this node does not understand are set aside (Ignore: no penalty)
    /// and change nothing; the same messages forged are rejected (docs/PROTOCOL.md §6.5).
    #[test]
    fn messages_of_a_newer_version_are_ignored_and_forgeries_rejected() {
        let mut rig = rig();
        // A record of kind 42, which a newer release might add, signed by a member.
        let practice = signed(&rig, Position::FIRST, "новый");
        let mut header =
            hubnet_proto::v1::RecordHeader::decode(practice.header.as_slice()).expect("header");
        header.kind = 42;
        let header = header.encode_to_vec();
        let newer = SignedRecord {
            signature: rig.key.sign(&record::signing_message(&header)).to_vec(),
            header,
            ..practice
        };
        gossip(&rig, 1, &newer);
        assert_eq!(until_verdict(&mut rig, 1).1, MessageAcceptance::Ignore);
        let mut forged = newer.clone();
        forged.signature[0] ^= 1;
        gossip(&rig, 2, &forged);
        assert_eq!(until_verdict(&mut rig, 2).1, MessageAcceptance::Reject);
        // A checkpoint of version 3, and the same bytes labelled version 2 (a forgery there).
        let charter = rig.shared.charter();
        let heads = std::collections::BTreeMap::new();
        let v3 =
            checkpoint::sign_version(3, &rig.key, &charter, "p", now_ms(), &heads, &(0, vec![]));
        let relabelled = hubnet_proto::v1::SignedCheckpoint {
            version: 2,
            ..v3.clone()
        };
        for (n, c, verdict) in [
            (3, &v3, MessageAcceptance::Ignore),
            (4, &relabelled, MessageAcceptance::Reject),
        ] {
            rig.jobs
                .blocking_send(Job::GossipCheckpoint {
                    peer: PeerId::random(),
                    msg_id: MessageId::from(vec![n]),
                    bytes: c.encode_to_vec(),
                })
                .expect("worker runs");
            assert_eq!(until_verdict(&mut rig, n).1, verdict);
        }
        assert_eq!(rig.shared.lock_store().record_count().ok(), Some(0));
        assert_eq!(rig.shared.lock_store().checkpoints().count(), 0);
        assert_eq!(
            rig.shared.metrics.gossip_rejected.get(),
            1,
            "only the forged record"
        );
    }

    /// While `send` has the worker write a group, holds the group's `fdatasync` and requires that
    /// another thread can read the store meanwhile, and that it sees the store before the group.
    fn read_while_the_disk_is_held(rig: &Rig, send: impl FnOnce()) {
        let (gate, end, count, journal) = {
            let store = rig.shared.read_store();
            let journal = store.dir().join(crate::store::JOURNAL_FILE);
            let count = store.record_count().ok();
            (
                store.journal_sync_gate(),
                store.journal_end(),
                count,
                journal,
            )
        };
        let _disk = gate
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        send();
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        while std::fs::metadata(&journal).map_or(0, |m| m.len()) <= end {
            assert!(
                Instant::now() < deadline,
                "the group is written within 10 s"
            );
            std::thread::yield_now();
        }
        // The worker now waits in `fdatasync`; a reader on another thread must get the store.
        let (tx, rx) = std::sync::mpsc::channel();
        let shared = rig.shared.clone();
        std::thread::spawn(move || {
            let store = shared.read_store();
            let _ = tx.send((store.record_count().ok(), store.journal_end()));
        });
        let seen = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("a reader gets the store while the group waits for the disk");
        assert_eq!(seen, (count, end), "and sees the store before the group");
    }

    /// Readers do not queue behind a group commit's `fdatasync`: while it waits for the disk, the
    /// store can be read, and shows the state before the group; the group is seen once durable.
    #[test]
    fn readers_go_on_while_a_group_commit_waits_for_the_disk() {
        let mut rig = rig();
        let first = signed(&rig, Position::FIRST, "один");
        read_while_the_disk_is_held(&rig, || gossip(&rig, 1, &first));
        assert_eq!(until_verdict(&mut rig, 1).1, MessageAcceptance::Accept);
        until_head(&mut rig, 1);
        assert_eq!(rig.shared.read_store().record_count().ok(), Some(1));
    }

    /// A relay forwards a valid record once it is checked against its log, without waiting for
    /// its own disk: the verdict (with the author, for the gossip budget) comes while the
    /// group's `fdatasync` is held, the record is stored once it ends, and no second verdict
    /// follows.
    #[test]
    fn a_gossip_record_is_forwarded_before_this_nodes_disk_sync() {
        let mut rig = rig();
        let first = signed(&rig, Position::FIRST, "один");
        let gate = rig.shared.read_store().journal_sync_gate();
        let disk = gate
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        gossip(&rig, 1, &first);
        let verdict = loop {
            if let Event::Validated {
                msg_id,
                acceptance,
                author,
                ..
            } = next_event(&mut rig)
                && msg_id == MessageId::from(vec![1])
            {
                break (acceptance, author);
            }
        };
        assert_eq!(
            verdict,
            (MessageAcceptance::Accept, Some(rig.key.public_key()))
        );
        assert_eq!(
            rig.shared.read_store().record_count().ok(),
            Some(0),
            "forwarded while this node's disk still holds the group"
        );
        drop(disk);
        let second = signed(&rig, after(&first), "два");
        gossip(&rig, 2, &second);
        let (between, acceptance) = until_verdict(&mut rig, 2);
        assert_eq!(acceptance, MessageAcceptance::Accept);
        assert!(
            !between
                .iter()
                .any(|e| matches!(e, Event::Validated { msg_id, .. } if *msg_id == MessageId::from(vec![1]))),
            "one verdict per message: {between:?}"
        );
        assert!(
            between
                .iter()
                .any(|e| matches!(e, Event::HeadMoved { head, .. } if head.seq == 1)),
            "the first record stored: {between:?}"
        );
    }

    /// Early only what extends a log (or is held) and whose predecessors a peer can read here.
    #[test]
    fn a_record_goes_early_only_after_a_readable_predecessor() {
        let refused = Outcome::Refused(ChainError::SeqGap {
            author: String::new(),
            expected: 6,
            got: 7,
        });
        for (outcome, seq, visible, early) in [
            (Outcome::Stored, 1, 0, true),
            (Outcome::Stored, 6, 5, true),
            // The record before it is in the same group: not readable until the sync.
            (Outcome::Stored, 7, 5, false),
            (Outcome::AlreadyStored, 3, 5, true),
            (Outcome::AlreadyStored, 6, 5, true),
            (Outcome::AlreadyStored, 7, 5, false),
            (refused, 6, 5, false),
        ] {
            assert_eq!(
                goes_early(&outcome, seq, visible),
                early,
                "{outcome:?} {seq} {visible}"
            );
        }
    }

    /// The same for publishing: the record is signed and written, readers go on during its
    /// `fdatasync` without seeing it, and it is answered once durable.
    #[test]
    fn readers_go_on_while_a_publish_waits_for_the_disk() {
        let rig = rig_of(Some(crate::test_support::sample_key("KG")));
        let body = Draft::parse(
            r#"{"kind":"practice","title":{"ky":"үч"},"summary":{"en":"x"},"topics":["ethics-integrity"]}"#,
            DraftFormat::Json,
        )
        .and_then(|d| d.to_body("KG", &rig.shared.charter().rules()))
        .expect("body");
        let (reply, answer) = oneshot::channel();
        read_while_the_disk_is_held(&rig, || {
            rig.jobs
                .blocking_send(Job::Publish {
                    body: Box::new(body),
                    reply,
                })
                .expect("worker runs");
        });
        let record = rig
            .runtime
            .block_on(async {
                tokio::time::timeout(std::time::Duration::from_secs(10), answer).await
            })
            .expect("answered within 10 s")
            .expect("worker runs")
            .expect("published");
        assert_eq!(record.header.seq, 1);
        let store = rig.shared.read_store();
        assert_eq!(store.get(&record.id).ok().flatten(), Some(record));
    }

    #[test]
    fn a_control_job_is_handled_after_the_jobs_that_came_before_it() {
        let mut rig = rig();
        let first = signed(&rig, Position::FIRST, "один");
        let second = signed(&rig, after(&first), "два");
        // Not a checkpoint: handled (rejected) as a control job all the same.
        let checkpoint = |n: u8| Job::GossipCheckpoint {
            peer: PeerId::random(),
            msg_id: MessageId::from(vec![n]),
            bytes: vec![0xff; 8],
        };
        {
            // While the store is held, the store stage waits and so does the verify stage, on
            // control job 2: jobs 3 and 4 are both queued when it collects again.
            let _held = rig.shared.lock_store();
            gossip(&rig, 1, &first);
            rig.jobs.blocking_send(checkpoint(2)).expect("worker runs");
            gossip(&rig, 3, &second);
            rig.jobs.blocking_send(checkpoint(4)).expect("worker runs");
        }
        let mut order = Vec::new();
        while order.len() < 4 {
            if let Event::Validated { msg_id, .. } = next_event(&mut rig) {
                order.push(msg_id);
            }
        }
        let ids: Vec<MessageId> = (1..=4).map(|n: u8| MessageId::from(vec![n])).collect();
        assert_eq!(order, ids, "verdicts in the order the jobs came");
        assert_eq!(rig.shared.lock_store().record_count().ok(), Some(2));
    }

    /// A verified batch of `jobs` as the verify stage hands it over (every record malformed:
    /// only the bookkeeping matters here).
    fn staged(mut batch: Vec<Job>) -> Staged {
        let records = batch.iter().map(Job::records).sum();
        let inputs = inputs_of(&mut batch);
        let checked = inputs
            .iter()
            .map(|(job, bytes)| {
                Err(RecordError::Malformed {
                    part: "record",
                    reason: format!("job {job}, input {bytes:?}"),
                })
            })
            .collect();
        Staged::Batch {
            batch,
            inputs,
            checked,
            records,
        }
    }

    #[test]
    fn merged_batches_count_every_record_and_keep_each_input_with_its_job() {
        let author = crate::test_support::sample_key("KG").public_key();
        let range = |first: u8, n: u8| Job::Range {
            peer: PeerId::random(),
            author,
            records: (first..first + n).map(|i| vec![i]).collect(),
        };
        let mut waiting = staged(vec![range(0, 3), range(3, 2)]);
        assert_eq!(
            waiting.records(),
            Some(5),
            "ranges count once their records moved out"
        );
        assert!(
            waiting.merge(staged(vec![range(5, 4)])).is_ok(),
            "batches merge"
        );
        assert_eq!(waiting.records(), Some(9));
        let Staged::Batch {
            batch,
            inputs,
            checked,
            ..
        } = waiting
        else {
            panic!("a merged batch is a batch");
        };
        assert_eq!(batch.len(), 3);
        let owners: Vec<(usize, u8)> = inputs.iter().map(|(job, b)| (*job, b[0])).collect();
        assert_eq!(
            owners,
            vec![
                (0, 0),
                (0, 1),
                (0, 2),
                (1, 3),
                (1, 4),
                (2, 5),
                (2, 6),
                (2, 7),
                (2, 8)
            ],
            "the later batch's inputs point at its jobs, after the earlier ones"
        );
        assert_eq!(checked.len(), inputs.len(), "a verdict for every input");
    }

    #[test]
    fn a_control_job_neither_merges_nor_is_merged_into() {
        let (done, _handled) = std::sync::mpsc::sync_channel(1);
        let control = || Staged::Control {
            job: Job::SignCheckpoint {
                peer_id: "12D3KooW".into(),
            },
            done: done.clone(),
        };
        let mut waiting = control();
        assert_eq!(waiting.records(), None);
        assert!(waiting.merge(staged(Vec::new())).is_err());
        let mut batch = staged(Vec::new());
        assert!(batch.merge(control()).is_err());
    }
}
