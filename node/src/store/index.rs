//! Key and value layouts of the sled index. Everything here is derived from the journal and can be
//! rebuilt from it; nothing here is the source of truth.
//!
//! One sled tree, keys prefixed by one byte so a batch updates every index atomically. Each log's
//! head is its last `l` key; the store keeps heads in memory (they are O(members)).
//!
//! | key | value |
//! |---|---|
//! | `r` id\[32] | journal offset u64 BE, seq u64 BE, kind u8, author\[32] |
//! | `l` author\[32] chunk u64 BE | ids\[32 each] of seqs `chunk*64+1 ..`, in order |
//! | `x` target id\[32] | id\[32] of the retraction |
//! | `a` target id\[32] seq u64 BE | id\[32] of the target's amendment at that seq |
//! | `e` id\[32] | what erased it: `r` and the erasure record's id\[32], or `d` and the decision's |
//! | `c` programme id\[32] confirmation id\[32] | empty: a confirmation of the programme |
//! | `m` name | metadata: `schema` u32 BE, `applied` u64 BE, `count` u64 BE |

use hubnet_protocol::{Kind, PublicKey, RecordId};

pub(crate) const RECORD: u8 = b'r';
pub(crate) const LOG: u8 = b'l';
pub(crate) const RETRACTED: u8 = b'x';
pub(crate) const AMENDED: u8 = b'a';
pub(crate) const ERASED: u8 = b'e';
pub(crate) const CONFIRMED: u8 = b'c';
pub(crate) const META_SCHEMA: &[u8] = b"mschema";
pub(crate) const META_APPLIED: &[u8] = b"mapplied";
pub(crate) const META_COUNT: &[u8] = b"mcount";

pub(crate) fn record_key(id: &RecordId) -> [u8; 33] {
    prefixed(RECORD, id.as_bytes())
}

pub(crate) fn retracted_key(target: &RecordId) -> [u8; 33] {
    prefixed(RETRACTED, target.as_bytes())
}

pub(crate) fn amended_prefix(target: &RecordId) -> [u8; 33] {
    prefixed(AMENDED, target.as_bytes())
}

pub(crate) fn amended_key(target: &RecordId, seq: u64) -> [u8; 41] {
    let mut k = [0u8; 41];
    k[..33].copy_from_slice(&amended_prefix(target));
    k[33..].copy_from_slice(&seq.to_be_bytes());
    k
}

pub(crate) fn confirmed_prefix(programme: &RecordId) -> [u8; 33] {
    prefixed(CONFIRMED, programme.as_bytes())
}

pub(crate) fn confirmed_key(programme: &RecordId, confirmation: &RecordId) -> [u8; 65] {
    let mut k = [0u8; 65];
    k[..33].copy_from_slice(&confirmed_prefix(programme));
    k[33..].copy_from_slice(confirmation.as_bytes());
    k
}

pub(crate) fn erased_key(id: &RecordId) -> [u8; 33] {
    prefixed(ERASED, id.as_bytes())
}

/// What erased a record (docs/PROTOCOL.md §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErasedBy {
    /// The author's erasure record.
    Record(RecordId),
    /// A Steering Committee decision.
    Decision(RecordId),
}

impl ErasedBy {
    pub(crate) fn encode(self) -> [u8; 33] {
        match self {
            ErasedBy::Record(id) => prefixed(b'r', id.as_bytes()),
            ErasedBy::Decision(id) => prefixed(b'd', id.as_bytes()),
        }
    }

    pub(crate) fn decode(v: &[u8]) -> Option<Self> {
        let id = decode_id(v.get(1..)?)?;
        match v.first()? {
            b'r' => Some(ErasedBy::Record(id)),
            b'd' => Some(ErasedBy::Decision(id)),
            _ => None,
        }
    }

    /// The erasure record's or decision's id.
    pub fn id(self) -> RecordId {
        match self {
            ErasedBy::Record(id) | ErasedBy::Decision(id) => id,
        }
    }
}

/// Seqs per log chunk: a log's ids are stored 64 to a value, so a group commit writes a few chunk
/// values per author instead of one entry per record.
pub(crate) const LOG_CHUNK: u64 = 64;

/// The chunk holding `seq` (seqs start at 1).
pub(crate) fn chunk_of(seq: u64) -> u64 {
    seq.saturating_sub(1) / LOG_CHUNK
}

/// The position of `seq` inside its chunk.
pub(crate) fn slot_of(seq: u64) -> usize {
    (seq.saturating_sub(1) % LOG_CHUNK) as usize
}

pub(crate) fn log_key(author: &PublicKey, chunk: u64) -> [u8; 41] {
    let mut k = [0u8; 41];
    k[0] = LOG;
    k[1..33].copy_from_slice(author.as_bytes());
    k[33..].copy_from_slice(&chunk.to_be_bytes());
    k
}

pub(crate) fn log_prefix(author: &PublicKey) -> [u8; 33] {
    prefixed(LOG, author.as_bytes())
}

fn prefixed(tag: u8, bytes: &[u8; 32]) -> [u8; 33] {
    let mut k = [0u8; 33];
    k[0] = tag;
    k[1..].copy_from_slice(bytes);
    k
}

/// Where a record is and what chain checks need to know of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordLocation {
    /// Journal offset of its entry.
    pub offset: u64,
    /// Its seq.
    pub seq: u64,
    /// Its kind.
    pub kind: Kind,
    /// Its author.
    pub author: PublicKey,
}

impl RecordLocation {
    pub(crate) fn encode(&self) -> [u8; 49] {
        let mut v = [0u8; 49];
        v[..8].copy_from_slice(&self.offset.to_be_bytes());
        v[8..16].copy_from_slice(&self.seq.to_be_bytes());
        v[16] = kind_byte(self.kind);
        v[17..].copy_from_slice(self.author.as_bytes());
        v
    }

    pub(crate) fn decode(v: &[u8]) -> Option<Self> {
        if v.len() != 49 {
            return None;
        }
        Some(Self {
            offset: u64::from_be_bytes(v[..8].try_into().ok()?),
            seq: u64::from_be_bytes(v[8..16].try_into().ok()?),
            kind: byte_kind(v[16])?,
            // Written by this store after the record verified: no need to check the point again.
            author: PublicKey::from_bytes_unchecked(v[17..].try_into().ok()?),
        })
    }
}

pub(crate) fn decode_id(v: &[u8]) -> Option<RecordId> {
    v.try_into().ok().map(RecordId)
}

pub(crate) fn decode_u64(v: &[u8]) -> Option<u64> {
    v.try_into().ok().map(u64::from_be_bytes)
}

/// The kind as stored: its `RecordKind` number.
fn kind_byte(k: Kind) -> u8 {
    k.code()
}

fn byte_kind(b: u8) -> Option<Kind> {
    Kind::from_code(b)
}
