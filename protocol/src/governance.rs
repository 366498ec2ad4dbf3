//! The governance log: decisions of the Steering Committee, each signed by at least `quorum`
//! distinct committee keys, and the membership state they produce.
//!
//! Membership and key validity are a pure function of the charter and the *set* of decisions a
//! node holds ([`Governance`]); the order in which they arrived does not matter. The rules
//! (docs/PROTOCOL.md §7):
//!
//! - Decisions form a hash chain (`seq`, `prev`). The canonical chain starts at seq 1 and, at each
//!   seq, takes the decision with the smallest id among those whose `prev` is the chain's previous
//!   decision. Two decisions at one seq are a governance fork: both are kept and flagged.
//! - Each decision on the canonical chain is applied in seq order. One whose action does not apply
//!   to the state (admitting a code that exists, rotating an unknown member's key, ...) is *void*:
//!   it keeps its place in the chain and changes nothing.
//! - Key validity is positional: a key may sign records up to a last seq, which rotation,
//!   revocation and suspension set, and reinstatement lifts (see [`KeyGrant::last_seq`]). A
//!   record is valid iff its seq is at or below its key's last seq, whenever it arrives.
//! - Limits amendments judge records created from their `effective_from` on, and may only raise
//!   limits: a record valid under the limits in force stays valid whenever the amendment arrives.

use std::collections::{BTreeMap, BTreeSet};

use hubnet_proto::v1 as pb;
use prost::Message;
use serde::Serialize;

use crate::charter::{Charter, SignerProblem, committee_signers};
use crate::id::{RecordId, sha256};
use crate::keys::{PublicKey, SecretKey};
use crate::kinds::erasure::Ground;
use crate::limits::Limits;
use crate::validate::{is_country_code, is_language_tag};
use crate::vocabulary::Vocabulary;

/// Domain tag of committee signatures over decisions.
pub const DECISION_SIGNATURE_TAG: &[u8] = b"hubnet-decision-v1";
/// Largest encoded `SignedDecision` accepted.
pub const MAX_DECISION_BYTES: usize = 64 * 1024;

/// A decision id: SHA-256 of the encoded `Decision` bytes as signed.
pub type DecisionId = RecordId;

/// Why a decision (or a proposal) is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GovernanceError {
    /// Larger than [`MAX_DECISION_BYTES`].
    #[error("decision is {0} bytes, the limit is {MAX_DECISION_BYTES}")]
    TooLarge(usize),
    /// Not a `SignedDecision` / `Decision` protobuf.
    #[error("malformed decision: {0}")]
    Malformed(String),
    /// For another network.
    #[error("decision is for network {got}, this is network {expected}")]
    WrongNetwork {
        /// This network (hex).
        expected: String,
        /// The decision's (hex).
        got: String,
    },
    /// A field of the decision or its action is missing or out of range.
    #[error("decision field {field}: {problem}")]
    BadField {
        /// Field name.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// Signed by a key that is not on the committee.
    #[error("signature by {0}, which is not a committee key")]
    SignerNotCommittee(String),
    /// The same committee key signed twice.
    #[error("committee key {0} signed twice; each key counts once")]
    DuplicateSigner(String),
    /// A signature that does not verify.
    #[error("signature by {0} does not verify over this decision")]
    BadSignature(String),
    /// Fewer valid signatures than the quorum.
    #[error("decision has {have} committee signatures, the quorum is {need}")]
    QuorumNotMet {
        /// Valid distinct signatures.
        have: usize,
        /// Quorum.
        need: u32,
    },
    /// A decision whose quorum of committee signatures verifies but whose action this build does
    /// not know (field `field` of `Decision`: a newer release's action). Set aside, no fault of
    /// whoever sent it (docs/PROTOCOL.md §6.5).
    #[error(
        "decision action (field {field}) is unknown to this release (a newer release's); set aside"
    )]
    UnknownAction {
        /// The field number of the action.
        field: u32,
    },
}

/// What a decision does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// A new member with its first publishing key.
    Admit {
        /// ISO 3166-1 alpha-2 or HUB.
        code: String,
        /// Names by language tag.
        name: BTreeMap<String, String>,
        /// Publishing key.
        key: PublicKey,
    },
    /// The member's current key may sign nothing after `last_seq`.
    Suspend {
        /// Member code.
        code: String,
        /// Last seq still valid.
        last_seq: u64,
    },
    /// Lifts a suspension.
    Reinstate {
        /// Member code.
        code: String,
    },
    /// A new publishing key; the old one may sign up to `old_key_last_seq`.
    RotateKey {
        /// Member code.
        code: String,
        /// The new key.
        new_key: PublicKey,
        /// Last seq the old key may sign.
        old_key_last_seq: u64,
    },
    /// A compromised key: its records after `last_valid_seq` are invalid.
    RevokeKey {
        /// The key.
        key: PublicKey,
        /// Last seq still valid.
        last_valid_seq: u64,
    },
    /// New limits for records created at or after `effective_from`; none may be lower than the
    /// limits in force (an amendment that lowers one is void).
    AmendLimits {
        /// The limits.
        limits: Limits,
        /// Milliseconds since the Unix epoch.
        effective_from: i64,
    },
    /// Entries added to the vocabularies; one whose slug or code is already in force (or that
    /// breaks a vocabulary rule) makes the decision void.
    AmendVocabulary {
        /// The new entries.
        additions: Vocabulary,
    },
    /// Records of any member erased (docs/PROTOCOL.md §2.1): every node deletes their bodies.
    EraseRecords {
        /// The records (at least one, none twice).
        records: Vec<RecordId>,
        /// Why.
        ground: Ground,
    },
}

impl Action {
    /// A one-line description for people.
    pub fn describe(&self) -> String {
        match self {
            Action::Admit { code, key, .. } => format!("admit {code} with key {key}"),
            Action::Suspend { code, last_seq } => {
                format!("suspend {code} after seq {last_seq} of its current key")
            }
            Action::Reinstate { code } => format!("reinstate {code}"),
            Action::RotateKey {
                code,
                new_key,
                old_key_last_seq,
            } => format!(
                "rotate {code}'s key to {new_key}; the old key may sign up to seq {old_key_last_seq}"
            ),
            Action::RevokeKey {
                key,
                last_valid_seq,
            } => format!("revoke key {key}; its records after seq {last_valid_seq} are invalid"),
            Action::AmendLimits {
                limits,
                effective_from,
            } => format!(
                "amend limits from {effective_from} ms (max_record_bytes {}, max_records_per_hour {})",
                limits.max_record_bytes, limits.max_records_per_hour
            ),
            Action::AmendVocabulary { additions } => {
                let list = |name: &str, codes: Vec<&str>| {
                    (!codes.is_empty()).then(|| format!("{name} {}", codes.join(", ")))
                };
                let parts: Vec<String> = [
                    list(
                        "topics",
                        additions.topics.iter().map(|t| t.slug.as_str()).collect(),
                    ),
                    list(
                        "reform areas",
                        additions
                            .reform_areas
                            .iter()
                            .map(|t| t.slug.as_str())
                            .collect(),
                    ),
                    list(
                        "indicators",
                        additions
                            .indicators
                            .iter()
                            .map(|i| i.code.as_str())
                            .collect(),
                    ),
                ]
                .into_iter()
                .flatten()
                .collect();
                format!("add to the vocabulary: {}", parts.join("; "))
            }
            Action::EraseRecords { records, ground } => format!(
                "erase {} ({}): {}",
                if records.len() == 1 {
                    "1 record".to_owned()
                } else {
                    format!("{} records", records.len())
                },
                ground.name(),
                records
                    .iter()
                    .map(RecordId::to_hex)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn to_proto(&self) -> pb::decision::Action {
        use pb::decision::Action as A;
        match self {
            Action::Admit { code, name, key } => A::Admit(pb::Admit {
                code: code.clone(),
                name: Some(pb::LocalizedText { text: name.clone() }),
                publishing_key: key.as_bytes().to_vec(),
            }),
            Action::Suspend { code, last_seq } => A::Suspend(pb::Suspend {
                code: code.clone(),
                last_seq: *last_seq,
            }),
            Action::Reinstate { code } => A::Reinstate(pb::Reinstate { code: code.clone() }),
            Action::RotateKey {
                code,
                new_key,
                old_key_last_seq,
            } => A::RotateKey(pb::RotateKey {
                code: code.clone(),
                new_key: new_key.as_bytes().to_vec(),
                old_key_last_seq: *old_key_last_seq,
            }),
            Action::RevokeKey {
                key,
                last_valid_seq,
            } => A::RevokeKey(pb::RevokeKey {
                key: key.as_bytes().to_vec(),
                last_valid_seq: *last_valid_seq,
            }),
            Action::AmendLimits {
                limits,
                effective_from,
            } => A::AmendLimits(pb::AmendLimits {
                limits: Some(limits.to_proto()),
                effective_from: *effective_from,
            }),
            Action::AmendVocabulary { additions } => A::AmendVocabulary(pb::AmendVocabulary {
                additions: additions.to_proto(),
            }),
            Action::EraseRecords { records, ground } => A::EraseRecords(pb::EraseRecords {
                records: records.iter().map(|r| r.0.to_vec()).collect(),
                ground: ground.to_proto() as i32,
            }),
        }
    }

    fn from_proto(a: &pb::decision::Action) -> Result<Self, GovernanceError> {
        use pb::decision::Action as A;
        Ok(match a {
            A::Admit(x) => {
                let name = x.name.clone().unwrap_or_default().text;
                if name.is_empty()
                    || name
                        .iter()
                        .any(|(t, n)| !is_language_tag(t) || n.trim().is_empty())
                {
                    return Err(bad("admit.name", "needs names with BCP 47 language tags"));
                }
                Action::Admit {
                    code: member_code(&x.code, "admit.code")?,
                    name,
                    key: key_field(&x.publishing_key, "admit.publishing_key")?,
                }
            }
            A::Suspend(x) => Action::Suspend {
                code: member_code(&x.code, "suspend.code")?,
                last_seq: x.last_seq,
            },
            A::Reinstate(x) => Action::Reinstate {
                code: member_code(&x.code, "reinstate.code")?,
            },
            A::RotateKey(x) => Action::RotateKey {
                code: member_code(&x.code, "rotate_key.code")?,
                new_key: key_field(&x.new_key, "rotate_key.new_key")?,
                old_key_last_seq: x.old_key_last_seq,
            },
            A::RevokeKey(x) => Action::RevokeKey {
                key: key_field(&x.key, "revoke_key.key")?,
                last_valid_seq: x.last_valid_seq,
            },
            A::AmendLimits(x) => {
                let limits = x
                    .limits
                    .as_ref()
                    .map(Limits::from_proto)
                    .ok_or_else(|| bad("amend_limits.limits", "missing"))?;
                crate::charter::check_limits(&limits).map_err(|e| GovernanceError::BadField {
                    field: "amend_limits.limits",
                    problem: e.to_string(),
                })?;
                Action::AmendLimits {
                    limits,
                    effective_from: x.effective_from,
                }
            }
            A::AmendVocabulary(x) => {
                let additions = x
                    .additions
                    .as_ref()
                    .map(Vocabulary::from_proto)
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| bad("amend_vocabulary.additions", "missing or empty"))?;
                Action::AmendVocabulary { additions }
            }
            A::EraseRecords(x) => {
                if x.records.is_empty() {
                    return Err(bad("erase_records.records", "missing or empty"));
                }
                let mut records = Vec::with_capacity(x.records.len());
                for r in &x.records {
                    let id = <[u8; 32]>::try_from(r.as_slice())
                        .map(RecordId)
                        .map_err(|_| bad("erase_records.records", "a record id is not 32 bytes"))?;
                    if records.contains(&id) {
                        return Err(bad("erase_records.records", "a record is listed twice"));
                    }
                    records.push(id);
                }
                let ground = Ground::from_proto(x.ground)
                    .ok_or_else(|| bad("erase_records.ground", "missing or unknown"))?;
                Action::EraseRecords { records, ground }
            }
        })
    }
}

fn bad(field: &'static str, problem: &str) -> GovernanceError {
    GovernanceError::BadField {
        field,
        problem: problem.to_owned(),
    }
}

fn member_code(code: &str, field: &'static str) -> Result<String, GovernanceError> {
    if is_country_code(code) {
        Ok(code.to_owned())
    } else {
        Err(bad(field, "not an ISO 3166-1 alpha-2 code or HUB"))
    }
}

fn key_field(bytes: &[u8], field: &'static str) -> Result<PublicKey, GovernanceError> {
    let bytes = <[u8; 32]>::try_from(bytes)
        .map_err(|_| bad(field, "not a valid Ed25519 public key: not 32 bytes"))?;
    PublicKey::from_bytes(bytes).map_err(|e| match e {
        crate::keys::KeyError::InvalidPoint { defect, .. } => {
            bad(field, &format!("not a valid Ed25519 public key: {defect}"))
        }
        other => bad(field, &other.to_string()),
    })
}

/// The unsigned content of a decision, as a proposer writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionDraft {
    /// Position in the governance log.
    pub seq: u64,
    /// Id of the decision at `seq - 1`.
    pub prev: Option<DecisionId>,
    /// Proposal time (ms).
    pub created_at: i64,
    /// Why, by language tag (may be empty).
    pub reason: BTreeMap<String, String>,
    /// What it does.
    pub action: Action,
}

impl DecisionDraft {
    /// The `Decision` bytes that committee keys sign, for `charter`'s network.
    pub fn encode(&self, charter: &Charter) -> Vec<u8> {
        pb::Decision {
            network_id: charter.network_id().as_bytes().to_vec(),
            seq: self.seq,
            prev: self.prev.map(|p| p.0.to_vec()).unwrap_or_default(),
            created_at: self.created_at,
            reason: (!self.reason.is_empty()).then(|| pb::LocalizedText {
                text: self.reason.clone(),
            }),
            action: Some(self.action.to_proto()),
        }
        .encode_to_vec()
    }
}

/// The message a committee key signs for a decision.
pub fn decision_message(decision: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(DECISION_SIGNATURE_TAG.len() + 1 + decision.len());
    m.extend_from_slice(DECISION_SIGNATURE_TAG);
    m.push(0);
    m.extend_from_slice(decision);
    m
}

/// `key`'s signature over `decision` bytes, to add to a proposal.
pub fn sign_decision(key: &SecretKey, decision: &[u8]) -> pb::DecisionSignature {
    pb::DecisionSignature {
        key: key.public_key().as_bytes().to_vec(),
        signature: key.sign(&decision_message(decision)).to_vec(),
    }
}

/// A decision whose content and signatures were checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// SHA-256 of the decision bytes.
    pub id: DecisionId,
    /// Position in the governance log.
    pub seq: u64,
    /// Previous decision's id.
    pub prev: Option<DecisionId>,
    /// Proposal time (ms).
    pub created_at: i64,
    /// Why.
    pub reason: BTreeMap<String, String>,
    /// What it does.
    pub action: Action,
    /// The committee keys whose signatures verified, in the order given.
    pub signers: Vec<PublicKey>,
    /// The bytes as received.
    pub signed: pb::SignedDecision,
}

/// Decodes and checks a proposal's content and every signature it carries so far, without
/// requiring the quorum: every signer must be a distinct committee key whose signature verifies.
pub fn check_proposal(
    signed: &pb::SignedDecision,
    charter: &Charter,
) -> Result<Decision, GovernanceError> {
    let size = signed.encoded_len();
    if size > MAX_DECISION_BYTES {
        return Err(GovernanceError::TooLarge(size));
    }
    let d = pb::Decision::decode(signed.decision.as_slice())
        .map_err(|e| GovernanceError::Malformed(e.to_string()))?;
    if d.network_id != charter.network_id().as_bytes() {
        return Err(GovernanceError::WrongNetwork {
            expected: charter.network_id().to_hex(),
            got: hex::encode(&d.network_id),
        });
    }
    if d.seq == 0 {
        return Err(bad("seq", "starts at 1"));
    }
    let prev = match (d.seq, d.prev.len()) {
        (1, 0) => None,
        (1, _) => return Err(bad("prev", "must be empty at seq 1")),
        (_, 32) => Some(RecordId(
            <[u8; 32]>::try_from(d.prev.as_slice()).map_err(|_| bad("prev", "not 32 bytes"))?,
        )),
        _ => {
            return Err(bad(
                "prev",
                "must be the 32-byte id of the previous decision",
            ));
        }
    };
    let reason = d.reason.clone().unwrap_or_default().text;
    if reason.keys().any(|t| !is_language_tag(t)) {
        return Err(bad("reason", "language tags must be BCP 47"));
    }
    // No action this build knows: a field it does not know may be a newer release's action,
    // which the signatures alone can tell from a forgery (below).
    let action = match &d.action {
        Some(a) => Ok(Action::from_proto(a)?),
        None => Err(unknown_field(&signed.decision, KNOWN_DECISION_FIELDS)
            .ok_or_else(|| bad("action", "missing"))?),
    };
    let message = decision_message(&signed.decision);
    let signers = committee_signers(
        signed
            .signatures
            .iter()
            .map(|s| (s.key.as_slice(), s.signature.as_slice())),
        charter.committee(),
        &message,
    )
    .map_err(|p| match p {
        SignerProblem::NotCommittee(k) => GovernanceError::SignerNotCommittee(k),
        SignerProblem::Duplicate(k) => GovernanceError::DuplicateSigner(k),
        SignerProblem::Bad(k) => GovernanceError::BadSignature(k),
    })?;
    let action = match action {
        Ok(action) => action,
        Err(field) if signers.len() >= charter.quorum() as usize => {
            return Err(GovernanceError::UnknownAction { field });
        }
        Err(_) => {
            return Err(GovernanceError::QuorumNotMet {
                have: signers.len(),
                need: charter.quorum(),
            });
        }
    };
    Ok(Decision {
        id: RecordId(sha256(&signed.decision)),
        seq: d.seq,
        prev,
        created_at: d.created_at,
        reason,
        action,
        signers,
        signed: signed.clone(),
    })
}

/// [`check_proposal`] plus the quorum: what every node requires of a decision.
pub fn verify_decision(
    signed: &pb::SignedDecision,
    charter: &Charter,
) -> Result<Decision, GovernanceError> {
    let d = check_proposal(signed, charter)?;
    if d.signers.len() < charter.quorum() as usize {
        return Err(GovernanceError::QuorumNotMet {
            have: d.signers.len(),
            need: charter.quorum(),
        });
    }
    Ok(d)
}

/// The fields of `Decision` this release knows: network id, seq, prev, created at, reason, and
/// the actions (10 admit … 17 erase records).
const KNOWN_DECISION_FIELDS: &[u32] = &[1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15, 16, 17];

/// The number of the first top-level field of the protobuf message `bytes` that is not in
/// `known` (prost skips such fields when it decodes), if any; `None` also for bytes that do not
/// parse, which decoding refuses anyway.
fn unknown_field(bytes: &[u8], known: &[u32]) -> Option<u32> {
    use prost::encoding::{DecodeContext, decode_key, skip_field};
    let mut buf = bytes;
    while !buf.is_empty() {
        let (tag, wire_type) = decode_key(&mut buf).ok()?;
        if !known.contains(&tag) {
            return Some(tag);
        }
        skip_field(wire_type, tag, &mut buf, DecodeContext::default()).ok()?;
    }
    None
}

/// [`verify_decision`] on encoded `SignedDecision` bytes.
pub fn verify_decision_bytes(bytes: &[u8], charter: &Charter) -> Result<Decision, GovernanceError> {
    if bytes.len() > MAX_DECISION_BYTES {
        return Err(GovernanceError::TooLarge(bytes.len()));
    }
    let signed =
        pb::SignedDecision::decode(bytes).map_err(|e| GovernanceError::Malformed(e.to_string()))?;
    verify_decision(&signed, charter)
}

/// Why a key's validity ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct KeyGrant {
    /// Set by a rotation: the last seq the old key may sign.
    pub rotated_after: Option<u64>,
    /// Set by a revocation.
    pub revoked_after: Option<u64>,
    /// Set by a suspension of the member while this is its current key; lifted by reinstatement.
    pub suspended_after: Option<u64>,
}

impl KeyGrant {
    /// The last seq this key may sign, or `None` while it may sign on.
    pub fn last_seq(&self) -> Option<u64> {
        [self.rotated_after, self.revoked_after, self.suspended_after]
            .into_iter()
            .flatten()
            .min()
    }
}

/// One key a member held, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyPeriod {
    /// The key.
    pub key: PublicKey,
    /// The decision that granted it (`None`: the charter).
    pub granted_by: Option<DecisionId>,
    /// What limits it.
    pub grant: KeyGrant,
}

/// A member as the governance log leaves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberState {
    /// Member code.
    pub code: String,
    /// Names by language tag.
    pub name: BTreeMap<String, String>,
    /// Whether suspended.
    pub suspended: bool,
    /// The decision that admitted it (`None`: the charter).
    pub admitted_by: Option<DecisionId>,
    /// Every key it held, oldest first; the last is current.
    pub keys: Vec<KeyPeriod>,
}

impl MemberState {
    /// The current publishing key.
    pub fn current_key(&self) -> Option<&KeyPeriod> {
        self.keys.last()
    }
}

/// What became of a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "reason", rename_all = "snake_case")]
pub enum DecisionStatus {
    /// On the canonical chain and applied.
    Applied,
    /// On the canonical chain, but its action did not apply; it changed nothing.
    Void(String),
    /// Not on the canonical chain: a losing branch of a fork, or after a gap.
    OffChain,
}

/// Every key a governance state knows, with its last valid seq (`None`: no limit).
pub type KeyLastSeqs = BTreeMap<PublicKey, Option<u64>>;

/// The keys whose last valid seq differs between `before` and `after` (or that only one knows),
/// with both values (`None`: no limit, or unknown).
pub fn key_changes(
    before: &KeyLastSeqs,
    after: &KeyLastSeqs,
) -> Vec<(PublicKey, Option<u64>, Option<u64>)> {
    let keys: BTreeSet<&PublicKey> = before.keys().chain(after.keys()).collect();
    keys.into_iter()
        .filter(|k| before.get(k) != after.get(k))
        .map(|k| {
            let last = |m: &KeyLastSeqs| m.get(k).copied().flatten();
            (*k, last(before), last(after))
        })
        .collect()
}

/// The state the charter plus the canonical chain of decisions produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GovState {
    /// Members by code.
    pub members: BTreeMap<String, MemberState>,
    /// Every key ever held, with its member's code.
    pub keys: BTreeMap<PublicKey, String>,
    /// Limits in force from a time (ms) on; the charter's from `i64::MIN`. Sorted by time.
    pub limits: Vec<(i64, Limits)>,
    /// The vocabulary in force: the charter's with every applied amendment.
    pub vocabulary: Vocabulary,
    /// Records erased, each with the first decision of the canonical chain that erased it.
    pub erased: BTreeMap<RecordId, DecisionId>,
    /// Every decision held, by id, with what became of it.
    pub status: BTreeMap<DecisionId, DecisionStatus>,
    /// The canonical chain's ids, seq 1 first.
    pub chain: Vec<DecisionId>,
    /// Seqs at which more than one decision is held (governance forks).
    pub forks: BTreeMap<u64, Vec<DecisionId>>,
}

impl GovState {
    fn genesis(charter: &Charter) -> Self {
        let members: BTreeMap<String, MemberState> = charter
            .genesis_members()
            .iter()
            .map(|m| {
                (
                    m.code.clone(),
                    MemberState {
                        code: m.code.clone(),
                        name: m.name.clone(),
                        suspended: false,
                        admitted_by: None,
                        keys: vec![KeyPeriod {
                            key: m.key,
                            granted_by: None,
                            grant: KeyGrant::default(),
                        }],
                    },
                )
            })
            .collect();
        let keys = members
            .values()
            .flat_map(|m| m.keys.iter().map(|k| (k.key, m.code.clone())))
            .collect();
        Self {
            members,
            keys,
            limits: vec![(i64::MIN, *charter.genesis_limits())],
            vocabulary: charter.genesis_vocabulary().clone(),
            erased: BTreeMap::new(),
            status: BTreeMap::new(),
            chain: Vec::new(),
            forks: BTreeMap::new(),
        }
    }

    /// Every key ever held, with its last valid seq (`None`: no limit).
    pub fn key_last_seqs(&self) -> KeyLastSeqs {
        self.keys
            .keys()
            .map(|k| (*k, self.key(k).and_then(|(_, g)| g.last_seq())))
            .collect()
    }

    /// The member holding (or having held) `key`, and the key's grant.
    pub fn key(&self, key: &PublicKey) -> Option<(&MemberState, &KeyGrant)> {
        let code = self.keys.get(key)?;
        let m = self.members.get(code)?;
        let period = m.keys.iter().find(|p| p.key == *key)?;
        Some((m, &period.grant))
    }

    fn apply(&mut self, d: &Decision) -> Result<(), String> {
        match &d.action {
            Action::Admit { code, name, key } => {
                if self.members.contains_key(code) {
                    return Err(format!("{code} is already a member"));
                }
                if let Some(other) = self.keys.get(key) {
                    return Err(format!("key {key} is (or was) {other}'s"));
                }
                self.keys.insert(*key, code.clone());
                self.members.insert(
                    code.clone(),
                    MemberState {
                        code: code.clone(),
                        name: name.clone(),
                        suspended: false,
                        admitted_by: Some(d.id),
                        keys: vec![KeyPeriod {
                            key: *key,
                            granted_by: Some(d.id),
                            grant: KeyGrant::default(),
                        }],
                    },
                );
            }
            Action::Suspend { code, last_seq } => {
                let m = self.member_mut(code)?;
                if m.suspended {
                    return Err(format!("{code} is already suspended"));
                }
                m.suspended = true;
                if let Some(k) = m.keys.last_mut() {
                    k.grant.suspended_after = Some(*last_seq);
                }
            }
            Action::Reinstate { code } => {
                let m = self.member_mut(code)?;
                if !m.suspended {
                    return Err(format!("{code} is not suspended"));
                }
                m.suspended = false;
                if let Some(k) = m.keys.last_mut() {
                    k.grant.suspended_after = None;
                }
            }
            Action::RotateKey {
                code,
                new_key,
                old_key_last_seq,
            } => {
                if let Some(other) = self.keys.get(new_key) {
                    return Err(format!("key {new_key} is (or was) {other}'s"));
                }
                let m = self.member_mut(code)?;
                let suspended = m.suspended;
                if let Some(k) = m.keys.last_mut() {
                    k.grant.rotated_after = Some(*old_key_last_seq);
                }
                m.keys.push(KeyPeriod {
                    key: *new_key,
                    granted_by: Some(d.id),
                    grant: KeyGrant {
                        suspended_after: suspended.then_some(0),
                        ..KeyGrant::default()
                    },
                });
                self.keys.insert(*new_key, code.clone());
            }
            Action::RevokeKey {
                key,
                last_valid_seq,
            } => {
                let code = self
                    .keys
                    .get(key)
                    .cloned()
                    .ok_or_else(|| format!("key {key} is no member's"))?;
                let m = self.member_mut(&code)?;
                if let Some(p) = m.keys.iter_mut().find(|p| p.key == *key) {
                    let last = p
                        .grant
                        .revoked_after
                        .map_or(*last_valid_seq, |l| l.min(*last_valid_seq));
                    p.grant.revoked_after = Some(last);
                }
            }
            Action::AmendLimits {
                limits,
                effective_from,
            } => {
                if let Some((from, in_force)) = self.limits.last() {
                    in_force
                        .check_amendment(*from, limits, *effective_from)
                        .map_err(|e| e.to_string())?;
                }
                self.limits.push((*effective_from, *limits));
            }
            Action::AmendVocabulary { additions } => {
                self.vocabulary = self
                    .vocabulary
                    .extended(additions)
                    .map_err(|e| e.to_string())?;
            }
            Action::EraseRecords { records, .. } => {
                for r in records {
                    self.erased.entry(*r).or_insert(d.id);
                }
            }
        }
        Ok(())
    }

    fn member_mut(&mut self, code: &str) -> Result<&mut MemberState, String> {
        self.members
            .get_mut(code)
            .ok_or_else(|| format!("{code} is not a member"))
    }
}

/// The governance log a node holds: the charter and a set of verified decisions.
#[derive(Debug, Clone)]
pub struct Governance {
    genesis: Charter,
    decisions: BTreeMap<DecisionId, Decision>,
    state: GovState,
    charter: Charter,
}

impl Governance {
    /// The governance of a charter with no decisions yet.
    pub fn new(genesis: Charter) -> Self {
        let state = GovState::genesis(&genesis);
        let charter = genesis.governed(&state);
        Self {
            genesis,
            decisions: BTreeMap::new(),
            state,
            charter,
        }
    }

    /// Adds a verified decision; returns whether it was new. The state is recomputed from the
    /// whole set, so the order of insertion never matters.
    pub fn insert(&mut self, d: Decision) -> bool {
        if self.decisions.contains_key(&d.id) {
            return false;
        }
        self.decisions.insert(d.id, d);
        self.recompute();
        true
    }

    /// Verifies and adds an encoded `SignedDecision`.
    pub fn insert_bytes(&mut self, bytes: &[u8]) -> Result<bool, GovernanceError> {
        let d = verify_decision_bytes(bytes, &self.genesis)?;
        Ok(self.insert(d))
    }

    fn recompute(&mut self) {
        let mut state = GovState::genesis(&self.genesis);
        let mut by_seq: BTreeMap<u64, Vec<&Decision>> = BTreeMap::new();
        for d in self.decisions.values() {
            by_seq.entry(d.seq).or_default().push(d);
        }
        for (seq, ds) in &by_seq {
            if ds.len() > 1 {
                state.forks.insert(*seq, ds.iter().map(|d| d.id).collect());
            }
        }
        let mut prev: Option<DecisionId> = None;
        for seq in 1u64.. {
            // Ids iterate in order, so the first match is the smallest id.
            let Some(d) = by_seq
                .get(&seq)
                .and_then(|ds| ds.iter().find(|d| d.prev == prev))
            else {
                break;
            };
            let status = match state.apply(d) {
                Ok(()) => DecisionStatus::Applied,
                Err(reason) => DecisionStatus::Void(reason),
            };
            state.status.insert(d.id, status);
            state.chain.push(d.id);
            prev = Some(d.id);
        }
        for id in self.decisions.keys() {
            state.status.entry(*id).or_insert(DecisionStatus::OffChain);
        }
        self.charter = self.genesis.governed(&state);
        self.state = state;
    }

    /// The charter as it was signed.
    pub fn genesis(&self) -> &Charter {
        &self.genesis
    }

    /// The charter with every applied decision: members, keys with their last seqs, limits.
    pub fn charter(&self) -> &Charter {
        &self.charter
    }

    /// The state.
    pub fn state(&self) -> &GovState {
        &self.state
    }

    /// Every decision held, by id.
    pub fn decisions(&self) -> &BTreeMap<DecisionId, Decision> {
        &self.decisions
    }

    /// The canonical chain's decisions, seq 1 first.
    pub fn chain(&self) -> impl Iterator<Item = &Decision> {
        self.state
            .chain
            .iter()
            .filter_map(|id| self.decisions.get(id))
    }

    /// The next proposal's seq and prev: after the canonical chain's last decision.
    pub fn next_position(&self) -> (u64, Option<DecisionId>) {
        let prev = self.state.chain.last().copied();
        (self.state.chain.len() as u64 + 1, prev)
    }

    /// How many decisions are held, and SHA-256 over their ids in order (empty with none): what
    /// sync compares.
    pub fn digest(&self) -> (u64, Vec<u8>) {
        if self.decisions.is_empty() {
            return (0, Vec::new());
        }
        let mut all = Vec::with_capacity(self.decisions.len() * 32);
        for id in self.decisions.keys() {
            all.extend_from_slice(id.as_bytes());
        }
        (self.decisions.len() as u64, sha256(&all).to_vec())
    }

    /// Keys whose last seq differs between `self` and `before`, with both values: the records a
    /// store holds beyond `min(old, new)` changed validity.
    pub fn changed_keys(&self, before: &GovState) -> Vec<(PublicKey, Option<u64>, Option<u64>)> {
        key_changes(&before.key_last_seqs(), &self.state.key_last_seqs())
    }
}
