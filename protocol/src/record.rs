//! Signed records: decoding, verification (one by one or in batches), and signing.
//!
//! A record is three byte strings kept exactly as received ([`SignedRecord`]). Its id is
//! SHA-256(header); its signature is Ed25519 over `"hubnet-record-v1" || 0x00 || header`. Nothing
//! here re-encodes a header before hashing or verifying it.
//!
//! Verification runs in two steps so that bulk work can batch the expensive part:
//! [`precheck`] does everything but the signature, then [`Unverified::verify`] (strict, one by one)
//! or [`verify_batch`] (screened batches) checks signatures, both under the one rule of
//! [`crate::signature`].

use ed25519_dalek::{Signature, VerifyingKey};
use hubnet_proto::v1 as pb;
use prost::Message;

use crate::charter::Charter;
use crate::id::{NetworkId, RecordId, sha256};
use crate::keys::{PublicKey, SecretKey};
use crate::validate::BodyError;

pub use crate::kinds::{Body, Kind};

/// Domain tag of record signatures.
pub const RECORD_SIGNATURE_TAG: &[u8] = b"hubnet-record-v1";

/// Why a record is not valid on its own (chain rules are [`crate::chain::ChainError`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The encoded record is larger than the charter allows.
    #[error("record is {size} bytes, the charter's limit is {max}")]
    TooLarge {
        /// Encoded size.
        size: usize,
        /// Limit.
        max: u64,
    },
    /// Truncated or garbage protobuf.
    #[error("malformed {part}: {reason}")]
    Malformed {
        /// Which part: "record", "header" or "body".
        part: &'static str,
        /// Decoder message.
        reason: String,
    },
    /// A header field of the wrong length or value.
    #[error("header field {field}: {problem}")]
    BadHeaderField {
        /// Field name.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The record belongs to another network.
    #[error("record is for network {got}, this is network {expected}")]
    WrongNetwork {
        /// This network.
        expected: NetworkId,
        /// The record's.
        got: String,
    },
    /// The author's key is not a member's publishing key.
    #[error("author {0} is not a member of this network")]
    UnknownAuthor(String),
    /// The key may not sign at this seq: a committee decision (rotation, revocation or
    /// suspension) ended its validity earlier.
    #[error(
        "key {author} of {member} may sign up to seq {last_seq} (a Steering Committee decision); this record is seq {seq}"
    )]
    KeyNotValid {
        /// Author key (hex).
        author: String,
        /// Its member.
        member: String,
        /// Record's seq.
        seq: u64,
        /// The key's last valid seq.
        last_seq: u64,
    },
    /// The kind is not one this build knows (a newer release's): returned only for a record
    /// whose every other check this build can make passed, its signature included, so a member
    /// signed it. Set aside, no fault of whoever sent it (docs/PROTOCOL.md §6.5).
    #[error("record kind {0} is unknown to this release (a newer release's kind?); set aside")]
    UnknownKind(i32),
    /// The body's SHA-256 differs from the header's.
    #[error("body hash does not match the header (body altered)")]
    BodyHashMismatch,
    /// The body's length differs from the header's.
    #[error("body is {actual} bytes, the header says {declared}")]
    BodyLengthMismatch {
        /// Header's value.
        declared: u64,
        /// Actual length.
        actual: usize,
    },
    /// Created further in the future than the allowed clock skew.
    #[error("created_at {created_at} ms is more than {max_skew_secs} s ahead of now ({now} ms)")]
    FromTheFuture {
        /// Record's time.
        created_at: i64,
        /// Our time.
        now: i64,
        /// Allowed skew.
        max_skew_secs: u64,
    },
    /// The signature does not verify (strict RFC 8032).
    #[error("signature does not verify for author {0}")]
    BadSignature(String),
    /// The body breaks a validation rule.
    #[error("invalid body: {0}")]
    Body(BodyError),
    /// The record comes without its body and nothing shows it was erased.
    #[error(
        "record {0} comes without its body and without an erasure: a body may only be withheld once erased"
    )]
    BodyWithheld(RecordId),
    /// The erasure an erased record travels with does not prove its erasure.
    #[error("the erasure proof of an erased record is invalid: {0}")]
    BadErasureProof(String),
}

impl From<BodyError> for RecordError {
    fn from(e: BodyError) -> Self {
        RecordError::Body(e)
    }
}

/// A signed record exactly as received: the bytes ids and signatures are computed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRecord {
    /// Encoded `RecordHeader`.
    pub header: Vec<u8>,
    /// Encoded body message.
    pub body: Vec<u8>,
    /// Ed25519 signature.
    pub signature: Vec<u8>,
    /// For an erased record (empty `body`), the encoded erasure record that proves it; empty
    /// otherwise, and when a committee decision erased it (docs/PROTOCOL.md §2.1).
    pub erasure: Vec<u8>,
}

impl SignedRecord {
    /// Decodes the `SignedRecord` protobuf.
    pub fn decode(bytes: &[u8]) -> Result<Self, RecordError> {
        let pb = pb::SignedRecord::decode(bytes).map_err(|e| RecordError::Malformed {
            part: "record",
            reason: e.to_string(),
        })?;
        // Each `Bytes` holds a buffer of its own (decoded from a slice): it becomes the vector
        // without a copy.
        Ok(Self {
            header: pb.header.into(),
            body: pb.body.into(),
            signature: pb.signature.into(),
            erasure: pb.erasure.into(),
        })
    }

    /// Encodes the `SignedRecord` protobuf: the bytes the generated message encodes (fields in
    /// order, an empty one left out), written from the fields without copying them first.
    pub fn encode(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(self.encoded_len());
        for (tag, field) in [
            (1, &self.header),
            (2, &self.body),
            (3, &self.signature),
            (4, &self.erasure),
        ] {
            if !field.is_empty() {
                prost::encoding::bytes::encode(tag, field, &mut buf);
            }
        }
        buf
    }

    /// This record without its body, as an erased record travels: `proof` is the encoded
    /// erasure record that erased it, or empty when a committee decision did.
    pub fn erased(&self, proof: Vec<u8>) -> Self {
        Self {
            header: self.header.clone(),
            body: Vec::new(),
            signature: self.signature.clone(),
            erasure: proof,
        }
    }

    /// Size of the encoded protobuf.
    pub fn encoded_len(&self) -> usize {
        field_len(self.header.len())
            + field_len(self.body.len())
            + field_len(self.signature.len())
            + field_len(self.erasure.len())
    }

    /// SHA-256 of the header bytes as received.
    pub fn id(&self) -> RecordId {
        RecordId::of_header(&self.header)
    }
}

fn field_len(len: usize) -> usize {
    if len == 0 {
        0
    } else {
        1 + prost::encoding::encoded_len_varint(len as u64) + len
    }
}

/// The decoded header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Network the record belongs to.
    pub network_id: NetworkId,
    /// Author's publishing key (a valid point only once found in the charter).
    pub author: PublicKey,
    /// Position in the author's log, from 1.
    pub seq: u64,
    /// Id of the author's record `seq - 1`; `None` for seq 1.
    pub prev: Option<RecordId>,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// Kind of the body.
    pub kind: Kind,
    /// SHA-256 of the body.
    pub body_sha256: [u8; 32],
    /// Length of the body.
    pub body_len: u64,
}

impl Header {
    /// Decodes and checks the shape of header bytes (not membership or network).
    pub fn decode(bytes: &[u8]) -> Result<Self, RecordError> {
        let (header, kind) = Self::decode_any_kind(bytes)?;
        Ok(Self {
            kind: Kind::from_proto(kind)?,
            ..header
        })
    }

    /// [`Header::decode`] that leaves the kind to the caller: the header with a placeholder kind
    /// (never used) and the kind's number as the bytes hold it. Every other field is checked,
    /// so that a record of a kind this build does not know can be judged on everything else.
    fn decode_any_kind(bytes: &[u8]) -> Result<(Self, i32), RecordError> {
        let h = pb::RecordHeader::decode(bytes).map_err(|e| RecordError::Malformed {
            part: "header",
            reason: e.to_string(),
        })?;
        let network_id = NetworkId(digest32("network_id", &h.network_id)?);
        let author = PublicKey::from_bytes_unchecked(digest32("author", &h.author)?);
        if h.seq == 0 {
            return Err(RecordError::BadHeaderField {
                field: "seq",
                problem: "sequence numbers start at 1".into(),
            });
        }
        let prev = match (h.seq, h.prev.len()) {
            (1, 0) => None,
            (1, _) => {
                return Err(RecordError::BadHeaderField {
                    field: "prev",
                    problem: "must be empty for seq 1".into(),
                });
            }
            (_, _) => Some(RecordId(digest32("prev", &h.prev)?)),
        };
        let header = Self {
            network_id,
            author,
            seq: h.seq,
            prev,
            created_at: h.created_at,
            kind: Kind::Practice,
            body_sha256: digest32("body_sha256", &h.body_sha256)?,
            body_len: h.body_len,
        };
        Ok((header, h.kind))
    }

    fn to_proto(&self) -> pb::RecordHeader {
        pb::RecordHeader {
            network_id: self.network_id.0.to_vec(),
            author: self.author.as_bytes().to_vec(),
            seq: self.seq,
            prev: self.prev.map(|p| p.0.to_vec()).unwrap_or_default(),
            created_at: self.created_at,
            kind: self.kind.to_proto() as i32,
            body_sha256: self.body_sha256.to_vec(),
            body_len: self.body_len,
        }
    }
}

fn digest32(field: &'static str, bytes: &[u8]) -> Result<[u8; 32], RecordError> {
    <[u8; 32]>::try_from(bytes).map_err(|_| RecordError::BadHeaderField {
        field,
        problem: format!("must be 32 bytes, got {}", bytes.len()),
    })
}

/// A record that passed every check but the signature.
#[derive(Debug, Clone)]
pub struct Unverified {
    record: Record,
    verifying_key: VerifyingKey,
    signature: Option<Signature>,
}

/// A fully verified record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// SHA-256 of the header bytes.
    pub id: RecordId,
    /// Decoded header.
    pub header: Header,
    /// Decoded, validated body.
    pub body: Body,
    /// The bytes as received.
    pub signed: SignedRecord,
    /// The author's member code in the charter.
    pub member: String,
}

/// Everything but the signature: size, decoding, network, membership, body hash and length, body
/// rules, and clock skew against `now_ms`.
pub fn precheck(bytes: &[u8], charter: &Charter, now_ms: i64) -> Result<Unverified, RecordError> {
    let max = charter.max_record_bytes();
    if bytes.len() as u64 > max {
        return Err(RecordError::TooLarge {
            size: bytes.len(),
            max,
        });
    }
    precheck_signed(SignedRecord::decode(bytes)?, charter, now_ms)
}

/// [`precheck`] for an already decoded record.
pub fn precheck_signed(
    signed: SignedRecord,
    charter: &Charter,
    now_ms: i64,
) -> Result<Unverified, RecordError> {
    precheck_with(signed, charter, now_ms, Trust::Network)
}

/// How far [`precheck_with`] trusts the bytes it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trust {
    /// Every rule.
    Network,
    /// Every rule but key validity (audits report such records themselves).
    AnySeq,
    /// Bytes this node stored after checking them: an erased body needs no proof, and a body
    /// is not hashed again.
    Stored,
}

fn precheck_with(
    signed: SignedRecord,
    charter: &Charter,
    now_ms: i64,
    trust: Trust,
) -> Result<Unverified, RecordError> {
    let check_key_validity = trust == Trust::Network;
    // The kind is judged last: a kind this build does not know (a newer release's) is set aside
    // only when everything else holds, the signature included, so that nobody but a member can
    // send what is set aside without penalty.
    let (header, kind) = Header::decode_any_kind(&signed.header)?;
    let rules = charter.rules_at(header.created_at);
    let limits = rules.limits;
    let size = signed.encoded_len();
    if size as u64 > limits.max_record_bytes {
        return Err(RecordError::TooLarge {
            size,
            max: limits.max_record_bytes,
        });
    }
    if header.network_id != charter.network_id() {
        return Err(RecordError::WrongNetwork {
            expected: charter.network_id(),
            got: header.network_id.to_hex(),
        });
    }
    let (member, verifying_key, last_seq) = charter
        .member_with_verifying_key(&header.author)
        .ok_or_else(|| RecordError::UnknownAuthor(header.author.to_hex()))?;
    let member = member.code.clone();
    if check_key_validity
        && let Some(last_seq) = last_seq
        && header.seq > last_seq
    {
        return Err(RecordError::KeyNotValid {
            author: header.author.to_hex(),
            member,
            seq: header.seq,
            last_seq,
        });
    }
    let erased = signed.body.is_empty() && header.body_len > 0;
    if erased {
        if trust != Trust::Stored {
            check_erasure_proof(&signed, &header, charter, now_ms, trust)?;
        }
    } else {
        if !signed.erasure.is_empty() {
            return Err(RecordError::BadErasureProof(
                "a record with its body carries no erasure".into(),
            ));
        }
        if header.body_len != signed.body.len() as u64 {
            return Err(RecordError::BodyLengthMismatch {
                declared: header.body_len,
                actual: signed.body.len(),
            });
        }
        // Bytes this node stored were hashed when it checked them, and its journal checks each
        // entry's CRC when it reads it back: hashing a stored body again (a tenth of reading one
        // for the search index) finds nothing more.
        if trust != Trust::Stored && sha256(&signed.body) != header.body_sha256 {
            return Err(RecordError::BodyHashMismatch);
        }
    }
    let skew_ms =
        i64::try_from(limits.max_clock_skew_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    if header.created_at > now_ms.saturating_add(skew_ms) {
        return Err(RecordError::FromTheFuture {
            created_at: header.created_at,
            now: now_ms,
            max_skew_secs: limits.max_clock_skew_secs,
        });
    }
    let header = match Kind::from_proto(kind) {
        Ok(kind) => Header { kind, ..header },
        Err(unknown) => {
            let signed_by_author = Signature::from_slice(&signed.signature).is_ok_and(|sig| {
                crate::signature::verify(
                    &verifying_key,
                    &signing_message(&signed.header),
                    &sig.to_bytes(),
                )
            });
            return Err(if signed_by_author {
                unknown
            } else {
                RecordError::BadSignature(header.author.to_hex())
            });
        }
    };
    let body = if erased {
        Body::Erased { kind: header.kind }
    } else {
        Body::decode(header.kind, &signed.body, &rules)?
    };
    body.check_author(&member)?;
    body.check_members(|code| charter.member_by_code(code).is_some())?;
    let signature = Signature::from_slice(&signed.signature).ok();
    Ok(Unverified {
        record: Record {
            id: signed.id(),
            header,
            body,
            signed,
            member,
        },
        verifying_key,
        signature,
    })
}

impl Unverified {
    /// Verification of this record's signature under the signature rule
    /// ([`crate::signature`]).
    pub fn verify(self) -> Result<Record, RecordError> {
        let ok = self.signature.is_some_and(|sig| {
            crate::signature::verify(
                &self.verifying_key,
                &signing_message(&self.record.signed.header),
                &sig.to_bytes(),
            )
        });
        if ok {
            Ok(self.record)
        } else {
            Err(RecordError::BadSignature(
                self.record.header.author.to_hex(),
            ))
        }
    }

    /// The record, for one that `key` has just signed ([`sign`]) on this machine and that is
    /// about to be stored: every rule was checked by the precheck that made this value; only the
    /// signature is not verified again. Ed25519 signing is deterministic and valid by
    /// construction for a key the charter admitted (no torsion, §1.3), and every peer verifies
    /// the record before it stores or forwards it, so verifying here would only spend the time
    /// of a verification on each publish. Refused as [`RecordError::BadSignature`] if the
    /// record is not by `key` or carries no well-formed signature.
    ///
    /// Never use it on bytes that were not signed here: those go through [`Unverified::verify`].
    pub fn signed_here(self, key: &SecretKey) -> Result<Record, RecordError> {
        if self.record.header.author == key.public_key() && self.signature.is_some() {
            Ok(self.record)
        } else {
            Err(RecordError::BadSignature(
                self.record.header.author.to_hex(),
            ))
        }
    }

    /// The record as decoded, before its signature is checked.
    pub fn record(&self) -> &Record {
        &self.record
    }
}

/// Checks the proof an erased record (`signed`, without its body) travels with: a committee
/// decision the charter holds, or `signed.erasure`, an erasure record by the same author, later
/// in its log, naming it, whose own rules and signature hold.
fn check_erasure_proof(
    signed: &SignedRecord,
    header: &Header,
    charter: &Charter,
    now_ms: i64,
    trust: Trust,
) -> Result<(), RecordError> {
    let id = signed.id();
    if charter.erased_by(&id).is_some() {
        return Ok(());
    }
    if signed.erasure.is_empty() {
        return Err(RecordError::BodyWithheld(id));
    }
    let bad = |reason: &str| RecordError::BadErasureProof(reason.to_owned());
    let proof = SignedRecord::decode(&signed.erasure)
        .map_err(|e| RecordError::BadErasureProof(e.to_string()))?;
    if proof.body.is_empty() || !proof.erasure.is_empty() {
        return Err(bad("the erasure must carry its own body"));
    }
    let proof = precheck_with(proof, charter, now_ms, trust)
        .and_then(Unverified::verify)
        .map_err(|e| RecordError::BadErasureProof(e.to_string()))?;
    if proof.header.author != header.author || proof.header.seq <= header.seq {
        return Err(bad("the erasure is not a later record of the same author"));
    }
    if !proof.body.erases().contains(&id) {
        return Err(bad("the erasure does not name this record"));
    }
    Ok(())
}

/// Decodes a record this node verified before it stored it, skipping the signature and clock
/// checks, the body's hash (the store reads back what it wrote, under a checksum) and, for an
/// erased record, the proof. Never use it on bytes from the network or from a user.
///
/// A stored record stays readable when a later decision ends its key's validity (the store keeps
/// what it acknowledged; [`Charter::key_allows`] says whether it still counts).
pub fn decode_stored(bytes: &[u8], charter: &Charter) -> Result<Record, RecordError> {
    precheck_with(
        SignedRecord::decode(bytes)?,
        charter,
        i64::MAX,
        Trust::Stored,
    )
    .map(|u| u.record)
}

/// Verifies many records at once ([`crate::signature::verify_each`]: each signature by its own
/// equation, sharing a table per key). Each verdict is the one [`Unverified::verify`] gives;
/// results are in input order.
pub fn verify_batch(items: Vec<Unverified>) -> Vec<Result<Record, RecordError>> {
    let messages: Vec<Vec<u8>> = items
        .iter()
        .map(|u| signing_message(&u.record.signed.header))
        .collect();
    let candidates: Vec<crate::signature::Candidate<'_>> = items
        .iter()
        .zip(&messages)
        .map(|(u, m)| crate::signature::Candidate {
            key: &u.verifying_key,
            message: m,
            signature: u.signature.as_ref(),
        })
        .collect();
    let verdicts = crate::signature::verify_each(&candidates);
    items
        .into_iter()
        .zip(verdicts)
        .map(|(u, ok)| {
            if ok {
                Ok(u.record)
            } else {
                Err(RecordError::BadSignature(u.record.header.author.to_hex()))
            }
        })
        .collect()
}

/// Decodes, checks and strictly verifies one record.
pub fn verify_record(bytes: &[u8], charter: &Charter, now_ms: i64) -> Result<Record, RecordError> {
    precheck(bytes, charter, now_ms)?.verify()
}

/// [`verify_record`] without the key-validity rule: a record by a key that a later decision
/// limited is still verified (for audits, which report such records rather than hide them).
pub fn verify_record_any_seq(
    bytes: &[u8],
    charter: &Charter,
    now_ms: i64,
) -> Result<Record, RecordError> {
    precheck_any_seq(bytes, charter, now_ms)?.verify()
}

/// [`precheck`] without the key-validity rule, as [`verify_record_any_seq`] judges: for checks
/// that verify many records with [`verify_batch`] and report invalid keys themselves.
pub fn precheck_any_seq(
    bytes: &[u8],
    charter: &Charter,
    now_ms: i64,
) -> Result<Unverified, RecordError> {
    let max = charter.max_record_bytes();
    if bytes.len() as u64 > max {
        return Err(RecordError::TooLarge {
            size: bytes.len(),
            max,
        });
    }
    precheck_with(SignedRecord::decode(bytes)?, charter, now_ms, Trust::AnySeq)
}

/// The exact bytes a record signature covers.
pub fn signing_message(header: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(RECORD_SIGNATURE_TAG.len() + 1 + header.len());
    m.extend_from_slice(RECORD_SIGNATURE_TAG);
    m.push(0);
    m.extend_from_slice(header);
    m
}

/// Where a new record goes in its author's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Sequence number of the new record.
    pub seq: u64,
    /// Id of the previous record, `None` for seq 1.
    pub prev: Option<RecordId>,
    /// Creation time of the previous record; the new one is never earlier.
    pub prev_created_at: i64,
}

impl Position {
    /// The first position of a log.
    pub const FIRST: Position = Position {
        seq: 1,
        prev: None,
        prev_created_at: i64::MIN,
    };

    /// The position right after `r` in its author's log.
    pub fn after(r: &Record) -> Position {
        Position {
            seq: r.header.seq + 1,
            prev: Some(r.id),
            prev_created_at: r.header.created_at,
        }
    }
}

/// Signs `body` as the record at `position` of `key`'s log. `created_at` is `now_ms`, or the
/// previous record's time if the clock went backwards, so a log's times never decrease.
pub fn sign(
    key: &SecretKey,
    network_id: NetworkId,
    position: Position,
    now_ms: i64,
    body: &Body,
) -> SignedRecord {
    let body_bytes = body.encode();
    let header = Header {
        network_id,
        author: key.public_key(),
        seq: position.seq,
        prev: position.prev,
        created_at: now_ms.max(position.prev_created_at),
        kind: body.kind(),
        body_sha256: sha256(&body_bytes),
        body_len: body_bytes.len() as u64,
    }
    .to_proto()
    .encode_to_vec();
    let signature = key.sign(&signing_message(&header)).to_vec();
    SignedRecord {
        header,
        body: body_bytes,
        signature,
        erasure: Vec::new(),
    }
}
