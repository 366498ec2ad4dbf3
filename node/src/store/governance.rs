//! The store's governance log and checkpoints.
//!
//! Decisions are appended to `governance.journal` (fsynced) before they count, and loaded before
//! the record journal is replayed, so that records of members admitted by a decision decode.
//! Checkpoints: the newest per signer lives in the sled tree `checkpoints` (it is re-gossiped, so
//! losing it with a damaged index costs little); a pair of contradicting checkpoints is evidence
//! and goes to `checkpoints.journal`, fsynced, both statements in one append.

use std::collections::BTreeMap;
use std::path::Path;

use hubnet_protocol::checkpoint::{self, Checkpoint, Conflict};
use hubnet_protocol::governance::{Decision, Governance};
use hubnet_protocol::{Charter, PublicKey};
use prost::Message;
use tracing::{info, warn};

use super::journal::{HEADER_LEN, Journal};
use super::{Store, StoreError};

/// File name of the governance journal (decisions) in a data dir.
pub const GOVERNANCE_FILE: &str = "governance.journal";
/// File name of the journal of contradicting checkpoint pairs in a data dir (two entries per
/// pair, written in one append).
pub const CHECKPOINTS_FILE: &str = "checkpoints.journal";
const CHECKPOINT_TREE: &str = "checkpoints";

/// Opens the governance journal and applies every decision in it to `genesis`.
pub(super) fn load(dir: &Path, genesis: Charter) -> Result<(Governance, Journal), StoreError> {
    let mut journal = Journal::open(&dir.join(GOVERNANCE_FILE), genesis.network_id())?;
    let (entries, torn) = journal.recover_from(HEADER_LEN)?;
    if torn > 0 {
        warn!(
            torn_bytes = torn,
            "dropped a torn last governance entry (never acknowledged)"
        );
    }
    let mut governance = Governance::new(genesis);
    for e in entries {
        governance
            .insert_bytes(&e.payload)
            .map_err(|cause| StoreError::BadDecision {
                offset: e.offset,
                cause,
            })?;
    }
    if !governance.decisions().is_empty() {
        info!(
            decisions = governance.decisions().len(),
            chain = governance.state().chain.len(),
            "governance log loaded"
        );
    }
    Ok((governance, journal))
}

/// What became of a checkpoint given to [`Store::add_checkpoint`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointOutcome {
    /// The signer's newest so far: kept (and worth forwarding).
    Newer,
    /// Already held, or older than the newest and consistent with it.
    Known,
    /// It contradicts the signer's newest: both kept as evidence (and worth forwarding).
    Conflict(Vec<Conflict>),
}

/// Two checkpoints of one signer that contradict each other.
#[derive(Debug, Clone)]
pub struct CheckpointConflict {
    /// The earlier.
    pub first: Checkpoint,
    /// The later.
    pub second: Checkpoint,
    /// What they contradict.
    pub conflicts: Vec<Conflict>,
}

#[derive(Debug)]
pub(super) struct Checkpoints {
    tree: sled::Tree,
    newest: BTreeMap<PublicKey, Checkpoint>,
    conflicts: Vec<CheckpointConflict>,
    journal: Journal,
}

impl Checkpoints {
    pub(super) fn load(dir: &Path, db: &sled::Db, charter: &Charter) -> Result<Self, StoreError> {
        let tree = db.open_tree(CHECKPOINT_TREE)?;
        let mut newest = BTreeMap::new();
        for item in tree.iter() {
            let (_, v) = item?;
            // A checkpoint that no longer verifies (damaged) is dropped; peers send newer ones.
            if let Ok(c) = checkpoint::verify_bytes(&v, charter) {
                newest.insert(c.signer, c);
            }
        }
        let mut journal = Journal::open(&dir.join(CHECKPOINTS_FILE), charter.network_id())?;
        let (entries, _torn) = journal.recover_from(HEADER_LEN)?;
        let mut conflicts = Vec::new();
        for pair in entries.chunks_exact(2) {
            let (Ok(first), Ok(second)) = (
                checkpoint::verify_bytes(&pair[0].payload, charter),
                checkpoint::verify_bytes(&pair[1].payload, charter),
            ) else {
                continue;
            };
            let found = checkpoint::conflicts(&first, &second);
            conflicts.push(CheckpointConflict {
                first,
                second,
                conflicts: found,
            });
        }
        Ok(Self {
            tree,
            newest,
            conflicts,
            journal,
        })
    }
}

impl Store {
    /// The governance log held.
    pub fn governance(&self) -> &Governance {
        &self.governance
    }

    /// Adds a verified decision, durably. Returns `None` if it was already held, else the keys
    /// whose last valid seq changed (with the old and new values).
    #[allow(clippy::type_complexity)]
    pub fn add_decision(
        &mut self,
        d: Decision,
    ) -> Result<Option<Vec<(PublicKey, Option<u64>, Option<u64>)>>, StoreError> {
        if self.governance.decisions().contains_key(&d.id) {
            return Ok(None);
        }
        let bytes = d.signed.encode_to_vec();
        self.governance_journal.append(&[&bytes])?;
        let before = self.governance.state().clone();
        let (id, seq, what) = (d.id, d.seq, d.action.describe());
        self.governance.insert(d);
        let status = self.governance.state().status.get(&id).cloned();
        info!(%id, seq, decision = %what, ?status, "governance decision stored");
        self.load_new_heads()?;
        self.forget_revoked_checkpoints()?;
        self.apply_decision_erasures()?;
        Ok(Some(self.governance.changed_keys(&before)))
    }

    /// Heads of keys a decision just made known (admitted or rotated in) that already have
    /// records: none normally, since their records are refused until then.
    fn load_new_heads(&mut self) -> Result<(), StoreError> {
        let keys: Vec<PublicKey> = self
            .governance
            .charter()
            .known_keys()
            .into_iter()
            .map(|(k, _, _)| k)
            .filter(|k| !self.heads.contains_key(k))
            .collect();
        if keys.iter().any(|k| {
            self.db
                .scan_prefix(super::index::log_prefix(k))
                .next()
                .is_some()
        }) {
            self.heads.clear();
            self.load_heads()?;
        }
        Ok(())
    }

    /// Drops the checkpoints of keys a decision revoked: whoever holds such a key may sign
    /// anything, so they are no evidence (docs/PROTOCOL.md §8). Pairs stay in the journal; loading
    /// skips them, as it verifies each under the governance in force.
    fn forget_revoked_checkpoints(&mut self) -> Result<(), StoreError> {
        let charter = self.governance.charter();
        let revoked: Vec<PublicKey> = self
            .checkpoints
            .newest
            .keys()
            .filter(|k| charter.key_revoked(k))
            .copied()
            .collect();
        for k in &revoked {
            self.checkpoints.tree.remove(k.as_bytes())?;
            self.checkpoints.newest.remove(k);
        }
        let before = self.checkpoints.conflicts.len();
        self.checkpoints
            .conflicts
            .retain(|c| !charter.key_revoked(&c.first.signer));
        let dropped = before - self.checkpoints.conflicts.len();
        if !revoked.is_empty() || dropped > 0 {
            info!(
                signers = revoked.len(),
                conflicts = dropped,
                "dropped the checkpoints of revoked keys"
            );
        }
        Ok(())
    }

    /// Every decision held, encoded, in id order.
    pub fn decisions_encoded(&self) -> Vec<Vec<u8>> {
        self.governance
            .decisions()
            .values()
            .map(|d| d.signed.encode_to_vec())
            .collect()
    }

    /// Keeps a verified checkpoint: the signer's newest, or evidence if it contradicts it.
    pub fn add_checkpoint(&mut self, c: Checkpoint) -> Result<CheckpointOutcome, StoreError> {
        let Some(old) = self.checkpoints.newest.get(&c.signer) else {
            self.put_newest(c)?;
            return Ok(CheckpointOutcome::Newer);
        };
        if old.id == c.id {
            return Ok(CheckpointOutcome::Known);
        }
        let found = checkpoint::conflicts(old, &c);
        if found.is_empty() {
            if c.time > old.time {
                self.put_newest(c)?;
                return Ok(CheckpointOutcome::Newer);
            }
            return Ok(CheckpointOutcome::Known);
        }
        let (first, second) = if old.time <= c.time {
            (old.clone(), c)
        } else {
            (c, old.clone())
        };
        if self
            .checkpoints
            .conflicts
            .iter()
            .any(|k| k.first.id == first.id && k.second.id == second.id)
        {
            return Ok(CheckpointOutcome::Known);
        }
        let a = first.signed.encode_to_vec();
        let b = second.signed.encode_to_vec();
        self.checkpoints.journal.append(&[&a, &b])?;
        warn!(
            signer = %first.member,
            peer = %first.peer_id,
            conflicts = found.len(),
            "a node signed two checkpoints that contradict each other; both kept as evidence"
        );
        self.checkpoints.conflicts.push(CheckpointConflict {
            first,
            second: second.clone(),
            conflicts: found.clone(),
        });
        self.put_newest(second)?;
        Ok(CheckpointOutcome::Conflict(found))
    }

    fn put_newest(&mut self, c: Checkpoint) -> Result<(), StoreError> {
        self.checkpoints
            .tree
            .insert(c.signer.as_bytes(), c.signed.encode_to_vec())?;
        self.checkpoints.newest.insert(c.signer, c);
        Ok(())
    }

    /// The newest checkpoint signed with `signer`, if any.
    pub fn checkpoint_of(&self, signer: &PublicKey) -> Option<&Checkpoint> {
        self.checkpoints.newest.get(signer)
    }

    /// The newest checkpoint of each signer.
    pub fn checkpoints(&self) -> impl Iterator<Item = &Checkpoint> {
        self.checkpoints.newest.values()
    }

    /// Contradicting checkpoint pairs held as evidence.
    pub fn checkpoint_conflicts(&self) -> &[CheckpointConflict] {
        &self.checkpoints.conflicts
    }
}
