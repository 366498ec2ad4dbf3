//! Signed checkpoints: a node's view (per-author heads, the governance decisions it holds and a
//! time), signed with its member's publishing key and gossiped, so that what a node once claimed to hold can be
//! held against it (docs/PROTOCOL.md §8).
//!
//! Two checkpoints by one signer that cannot both be true are portable evidence:
//! - **equivocation**: two different record ids for one author at one seq (a split view);
//! - **rollback**: the later checkpoint holds an author's log shorter than the earlier one did, or
//!   fewer governance decisions, or as many but another set. A node only ever adds decisions (a
//!   governance fork keeps both sides), so the count and the set's digest only grow; the canonical
//!   chain can shrink when a fork resolves and is not what a checkpoint signs.
//!
//! A checkpoint is also evidence against the node's later answers: a node that signed head H for an
//! author and later serves a shorter log, or another record at seq H, is caught by
//! [`served_conflicts`].

use std::collections::BTreeMap;

use hubnet_proto::v1 as pb;
use prost::Message;
use serde::Serialize;

use crate::charter::Charter;
use crate::id::{RecordId, sha256};
use crate::keys::{PublicKey, SecretKey};
use crate::sync::HeadRef;

/// Domain tag of checkpoint signatures. `-v1` checkpoints signed the canonical chain's length and
/// head instead of the decisions held; they no longer verify, so none is taken for evidence under
/// the new meaning.
pub const CHECKPOINT_SIGNATURE_TAG: &[u8] = b"hubnet-checkpoint-v2";
/// The checkpoint version this release signs and understands: the `version` of a
/// `SignedCheckpoint`, which names its signature tag (`hubnet-checkpoint-v<version>`). A
/// checkpoint of a higher version is set aside, never penalised (docs/PROTOCOL.md §6.5).
pub const CHECKPOINT_VERSION: u32 = 2;
/// Largest encoded `SignedCheckpoint` accepted (a head is about 80 bytes).
pub const MAX_CHECKPOINT_BYTES: usize = 256 * 1024;

/// Why a checkpoint is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// Larger than [`MAX_CHECKPOINT_BYTES`].
    #[error("checkpoint is {0} bytes, the limit is {MAX_CHECKPOINT_BYTES}")]
    TooLarge(usize),
    /// Not a checkpoint protobuf, or a field of the wrong size.
    #[error("malformed checkpoint: {0}")]
    Malformed(String),
    /// For another network.
    #[error("checkpoint is for another network ({0})")]
    WrongNetwork(String),
    /// The signer is no member's key.
    #[error("checkpoint signer {0} is no member's key")]
    UnknownSigner(String),
    /// The signer's key was revoked: whoever holds it now may sign anything, so its checkpoints
    /// are no evidence.
    #[error("checkpoint signer {0} is a revoked key; its statements are no evidence")]
    RevokedSigner(String),
    /// The decision count and digest disagree (a digest of 32 bytes iff the count is not 0).
    #[error("checkpoint holds {count} decisions with a {len}-byte digest")]
    BadDecisions {
        /// The count.
        count: u64,
        /// The digest's length.
        len: usize,
    },
    /// The signature does not verify.
    #[error("checkpoint signature by {0} does not verify")]
    BadSignature(String),
    /// Of a version above the newest this node understands (a newer release's): set aside, no
    /// fault of whoever sent it (docs/PROTOCOL.md §6.5).
    #[error(
        "checkpoint version {version} is newer than this node understands (up to {understood}); set aside"
    )]
    NewerVersion {
        /// The checkpoint's version.
        version: u32,
        /// The newest version this node understands.
        understood: u32,
    },
    /// Of version 1, whose signature tag no longer verifies (it never carried the field).
    #[error("checkpoint version {0} is no longer valid")]
    OldVersion(u32),
}

/// A verified checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// SHA-256 of the checkpoint bytes.
    pub id: RecordId,
    /// The signing key.
    pub signer: PublicKey,
    /// The signer's member code.
    pub member: String,
    /// The node's libp2p peer id, as it wrote it.
    pub peer_id: String,
    /// Signing time (ms).
    pub time: i64,
    /// Per author, the head the node held.
    pub heads: BTreeMap<PublicKey, HeadRef>,
    /// The governance decisions the node held: their count and the digest of their ids (as in
    /// sync's `Heads` and [`crate::governance::Governance::digest`]).
    pub decisions: (u64, Vec<u8>),
    /// The bytes as received.
    pub signed: pb::SignedCheckpoint,
}

/// What a checkpoint's signature covers: `hubnet-checkpoint-v<version>`, a zero byte, the bytes.
fn message(version: u32, bytes: &[u8]) -> Vec<u8> {
    let tag = format!("hubnet-checkpoint-v{version}");
    let mut m = Vec::with_capacity(tag.len() + 1 + bytes.len());
    m.extend_from_slice(tag.as_bytes());
    m.push(0);
    m.extend_from_slice(bytes);
    m
}

/// Signs a checkpoint of `heads` and the governance decisions held (count, digest) with `key`,
/// at [`CHECKPOINT_VERSION`].
pub fn sign(
    key: &SecretKey,
    charter: &Charter,
    peer_id: &str,
    time: i64,
    heads: &BTreeMap<PublicKey, HeadRef>,
    decisions: &(u64, Vec<u8>),
) -> pb::SignedCheckpoint {
    sign_version(
        CHECKPOINT_VERSION,
        key,
        charter,
        peer_id,
        time,
        heads,
        decisions,
    )
}

/// [`sign`] at `version`. A version above [`CHECKPOINT_VERSION`] exists only to play a newer
/// release in tests (the node's `HUBNET_TEST_CHECKPOINT_VERSION`): version 2's fields under the
/// newer version's number and signature tag, bytes that a node of this release cannot verify,
/// as it could not verify a newer release's.
pub fn sign_version(
    version: u32,
    key: &SecretKey,
    charter: &Charter,
    peer_id: &str,
    time: i64,
    heads: &BTreeMap<PublicKey, HeadRef>,
    decisions: &(u64, Vec<u8>),
) -> pb::SignedCheckpoint {
    let checkpoint = pb::Checkpoint {
        network_id: charter.network_id().as_bytes().to_vec(),
        signer: key.public_key().as_bytes().to_vec(),
        peer_id: peer_id.to_owned(),
        time,
        heads: crate::sync::head_entries(heads),
        decision_count: decisions.0,
        decisions_digest: decisions.1.clone(),
    }
    .encode_to_vec();
    let signature = key.sign(&message(version, &checkpoint)).to_vec();
    pb::SignedCheckpoint {
        checkpoint,
        signature,
        version,
    }
}

fn bytes32(bytes: &[u8], what: &str) -> Result<[u8; 32], CheckpointError> {
    bytes
        .try_into()
        .map_err(|_| CheckpointError::Malformed(format!("{what} is {} bytes", bytes.len())))
}

/// Verifies a signed checkpoint: its version understood, network, signer a (current or former)
/// member key that was not revoked, signature.
pub fn verify(
    signed: &pb::SignedCheckpoint,
    charter: &Charter,
) -> Result<Checkpoint, CheckpointError> {
    verify_up_to(signed, charter, CHECKPOINT_VERSION)
}

/// [`verify`] by a node that understands checkpoint versions up to `understood` (versions above
/// [`CHECKPOINT_VERSION`] as [`sign_version`] makes them). The version is read first: a
/// checkpoint of a newer version is [`CheckpointError::NewerVersion`] whatever else it holds,
/// since its fields and tag may mean anything.
pub fn verify_up_to(
    signed: &pb::SignedCheckpoint,
    charter: &Charter,
    understood: u32,
) -> Result<Checkpoint, CheckpointError> {
    let size = signed.encoded_len();
    if size > MAX_CHECKPOINT_BYTES {
        return Err(CheckpointError::TooLarge(size));
    }
    let version = match signed.version {
        0 => CHECKPOINT_VERSION,
        v if v > understood.max(CHECKPOINT_VERSION) => {
            return Err(CheckpointError::NewerVersion {
                version: v,
                understood: understood.max(CHECKPOINT_VERSION),
            });
        }
        v if v < CHECKPOINT_VERSION => return Err(CheckpointError::OldVersion(v)),
        v => v,
    };
    let c = pb::Checkpoint::decode(signed.checkpoint.as_slice())
        .map_err(|e| CheckpointError::Malformed(e.to_string()))?;
    if c.network_id != charter.network_id().as_bytes() {
        return Err(CheckpointError::WrongNetwork(hex::encode(&c.network_id)));
    }
    let signer = PublicKey::from_bytes_unchecked(bytes32(&c.signer, "signer")?);
    let member = charter
        .member_by_key(&signer)
        .ok_or_else(|| CheckpointError::UnknownSigner(signer.to_hex()))?
        .code
        .clone();
    if charter.key_revoked(&signer) {
        return Err(CheckpointError::RevokedSigner(signer.to_hex()));
    }
    if !crate::charter::verify_signature(
        &signer,
        &message(version, &signed.checkpoint),
        &signed.signature,
    ) {
        return Err(CheckpointError::BadSignature(signer.to_hex()));
    }
    let mut heads = BTreeMap::new();
    for e in &c.heads {
        let author = PublicKey::from_bytes_unchecked(bytes32(&e.author, "head author")?);
        let id = RecordId(bytes32(&e.id, "head id")?);
        if heads.insert(author, HeadRef { seq: e.seq, id }).is_some() {
            return Err(CheckpointError::Malformed(format!(
                "author {author} appears twice"
            )));
        }
    }
    if (c.decision_count == 0) != c.decisions_digest.is_empty()
        || !matches!(c.decisions_digest.len(), 0 | 32)
    {
        return Err(CheckpointError::BadDecisions {
            count: c.decision_count,
            len: c.decisions_digest.len(),
        });
    }
    Ok(Checkpoint {
        id: RecordId(sha256(&signed.checkpoint)),
        signer,
        member,
        peer_id: c.peer_id,
        time: c.time,
        heads,
        decisions: (c.decision_count, c.decisions_digest),
        signed: signed.clone(),
    })
}

/// [`verify`] on encoded `SignedCheckpoint` bytes.
pub fn verify_bytes(bytes: &[u8], charter: &Charter) -> Result<Checkpoint, CheckpointError> {
    verify_bytes_up_to(bytes, charter, CHECKPOINT_VERSION)
}

/// [`verify_up_to`] on encoded `SignedCheckpoint` bytes.
pub fn verify_bytes_up_to(
    bytes: &[u8],
    charter: &Charter,
    understood: u32,
) -> Result<Checkpoint, CheckpointError> {
    if bytes.len() > MAX_CHECKPOINT_BYTES {
        return Err(CheckpointError::TooLarge(bytes.len()));
    }
    let signed = pb::SignedCheckpoint::decode(bytes)
        .map_err(|e| CheckpointError::Malformed(e.to_string()))?;
    verify_up_to(&signed, charter, understood)
}

/// What two checkpoints of one signer (or a checkpoint and a later answer) contradict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Conflict {
    /// Two different records named at one seq of one author.
    Equivocation {
        /// Author.
        author: PublicKey,
        /// Seq.
        seq: u64,
        /// The first statement's record.
        first: RecordId,
        /// The second's.
        second: RecordId,
    },
    /// A later statement holds less of an author's log than an earlier one.
    Rollback {
        /// Author.
        author: PublicKey,
        /// Seq held before.
        from_seq: u64,
        /// Seq held later (0: none).
        to_seq: u64,
    },
    /// A later statement holds fewer governance decisions, or as many but another set.
    GovernanceRollback {
        /// Decisions held before.
        from_count: u64,
        /// Decisions held later.
        to_count: u64,
    },
}

/// The contradictions between two checkpoints of the same signer, `a` signed no later than `b`.
pub fn conflicts(a: &Checkpoint, b: &Checkpoint) -> Vec<Conflict> {
    let (a, b) = if a.time <= b.time { (a, b) } else { (b, a) };
    let mut out = Vec::new();
    for (author, ha) in &a.heads {
        match b.heads.get(author) {
            Some(hb) if hb.seq == ha.seq && hb.id != ha.id => out.push(Conflict::Equivocation {
                author: *author,
                seq: ha.seq,
                first: ha.id,
                second: hb.id,
            }),
            Some(hb) if hb.seq < ha.seq => out.push(Conflict::Rollback {
                author: *author,
                from_seq: ha.seq,
                to_seq: hb.seq,
            }),
            None => out.push(Conflict::Rollback {
                author: *author,
                from_seq: ha.seq,
                to_seq: 0,
            }),
            _ => {}
        }
    }
    let (ga, gb) = (&a.decisions, &b.decisions);
    if gb.0 < ga.0 || (gb.0 == ga.0 && gb.1 != ga.1) {
        out.push(Conflict::GovernanceRollback {
            from_count: ga.0,
            to_count: gb.0,
        });
    }
    out
}

/// What a node's current answer contradicts in a checkpoint it signed: for each author the
/// checkpoint names, the log the node serves now must reach the signed head's seq and hold the
/// signed record there. `served` gives the id the node serves at (author, seq), if any.
pub fn served_conflicts(
    c: &Checkpoint,
    served_head: impl Fn(&PublicKey) -> u64,
    served_at: impl Fn(&PublicKey, u64) -> Option<RecordId>,
) -> Vec<Conflict> {
    let mut out = Vec::new();
    for (author, h) in &c.heads {
        let head = served_head(author);
        if head < h.seq {
            out.push(Conflict::Rollback {
                author: *author,
                from_seq: h.seq,
                to_seq: head,
            });
        } else if let Some(id) = served_at(author, h.seq)
            && id != h.id
        {
            out.push(Conflict::Equivocation {
                author: *author,
                seq: h.seq,
                first: h.id,
                second: id,
            });
        }
    }
    out
}
