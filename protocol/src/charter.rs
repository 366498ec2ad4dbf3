//! The charter (genesis): member states, the Steering Committee, the limits and the vocabularies.
//!
//! People edit a TOML file ([`CharterDoc`]); what is signed and hashed is its canonical protobuf
//! encoding ([`CharterDoc::canonical_bytes`], rules in docs/PROTOCOL.md). A charter is valid only
//! with at least `quorum` distinct committee signatures over
//! `"hubnet-charter-v1" || 0x00 || canonical bytes`; the network id is SHA-256 of those bytes.

use std::collections::{BTreeMap, HashMap};

use hubnet_proto::v1 as pb;
use prost::Message;
use serde::{Deserialize, Serialize};

use crate::id::{NetworkId, RecordId, sha256};
use crate::keys::{PublicKey, SecretKey, parse_hex32};
use crate::limits::Limits;
use crate::validate::Rules;
use crate::validate::{is_country_code, is_language_tag};
use crate::vocabulary::{Vocabulary, VocabularyError};

/// Domain tag of charter signatures.
pub const CHARTER_SIGNATURE_TAG: &[u8] = b"hubnet-charter-v1";
/// The only charter format version so far.
pub const CHARTER_VERSION: u32 = 1;

/// Why a charter is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CharterError {
    /// The TOML text does not parse or has unknown fields.
    #[error("charter TOML: {0}")]
    Toml(String),
    /// Not a charter protobuf.
    #[error("charter bytes are not a valid Charter message: {0}")]
    Decode(String),
    /// The bytes decode but are not in canonical form.
    #[error(
        "charter bytes are not canonical (re-encoding differs), so they cannot be signed or hashed"
    )]
    NotCanonical,
    /// An unsupported format version.
    #[error("charter version {0} is not supported (this build knows version 1)")]
    UnsupportedVersion(u32),
    /// The network name is missing.
    #[error("the charter has no network name")]
    MissingName,
    /// The network name map has a bad tag or a blank name.
    #[error("network name: {0}")]
    BadName(String),
    /// No members.
    #[error("the charter names no member")]
    NoMembers,
    /// A member code is neither ISO 3166-1 alpha-2 nor HUB.
    #[error("member code {0:?} is not an ISO 3166-1 alpha-2 code or HUB")]
    BadMemberCode(String),
    /// Two members share a code.
    #[error("member {0} appears twice")]
    DuplicateMember(String),
    /// Two members share a key, or a key is invalid.
    #[error("member {code}: {problem}")]
    BadMemberKey {
        /// The member.
        code: String,
        /// What is wrong.
        problem: String,
    },
    /// A member's name map is empty or has a bad language tag.
    #[error("member {code}: name: {problem}")]
    BadMemberName {
        /// The member.
        code: String,
        /// What is wrong.
        problem: String,
    },
    /// A committee key is invalid or listed twice.
    #[error("committee key {key}: {problem}")]
    BadCommitteeKey {
        /// The key as written.
        key: String,
        /// What is wrong.
        problem: String,
    },
    /// Quorum is zero or more than the committee.
    #[error("quorum {quorum} is impossible with {keys} committee keys")]
    BadQuorum {
        /// Required signatures.
        quorum: u32,
        /// Committee size.
        keys: usize,
    },
    /// A limit is out of its sane range.
    #[error("limit {name} = {value} is out of range {min}..={max}")]
    BadLimit {
        /// Field name.
        name: &'static str,
        /// Value given.
        value: u64,
        /// Smallest allowed.
        min: u64,
        /// Largest allowed.
        max: u64,
    },
    /// A vocabulary entry is malformed.
    #[error(transparent)]
    Vocabulary(#[from] VocabularyError),
    /// A signature by a key outside the committee.
    #[error("signature by {0}, which is not a committee key")]
    SignerNotCommittee(String),
    /// The same committee key signed twice.
    #[error("committee key {0} signed twice; each key counts once")]
    DuplicateSigner(String),
    /// A signature that does not verify.
    #[error("signature by {0} does not verify over this charter")]
    BadSignature(String),
    /// Fewer valid signatures than the quorum.
    #[error("charter has {have} valid committee signatures, quorum is {need}")]
    QuorumNotMet {
        /// Valid distinct signatures.
        have: usize,
        /// Quorum.
        need: u32,
    },
}

/// One member as written in the TOML file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberDoc {
    /// ISO 3166-1 alpha-2 code, or `HUB`.
    pub code: String,
    /// Publishing key, 64 hex characters.
    pub publishing_key: String,
    /// Names by language tag.
    pub name: BTreeMap<String, String>,
}

/// The committee as written in the TOML file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CommitteeDoc {
    /// Signatures needed.
    pub quorum: u32,
    /// Committee keys, 64 hex characters each.
    #[serde(default)]
    pub keys: Vec<String>,
}

/// A committee signature as written in the TOML file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureDoc {
    /// Committee key, 64 hex characters.
    pub key: String,
    /// Signature, 128 hex characters.
    pub signature: String,
}

/// The charter file as people edit it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CharterDoc {
    /// Format version (1).
    pub version: u32,
    /// The network's name by language tag.
    pub name: BTreeMap<String, String>,
    /// The Steering Committee.
    pub committee: CommitteeDoc,
    /// Record limits.
    #[serde(default)]
    pub limits: Limits,
    /// The member states.
    #[serde(default)]
    pub members: Vec<MemberDoc>,
    /// The topics, reform areas and indicators records are judged against.
    #[serde(default, skip_serializing_if = "Vocabulary::is_empty")]
    pub vocabulary: Vocabulary,
    /// Committee signatures over the canonical bytes.
    #[serde(default)]
    pub signatures: Vec<SignatureDoc>,
}

impl CharterDoc {
    /// A new, empty charter named `name` in English.
    pub fn new(name_en: &str, quorum: u32) -> Self {
        Self {
            version: CHARTER_VERSION,
            name: BTreeMap::from([("en".to_owned(), name_en.to_owned())]),
            committee: CommitteeDoc {
                quorum,
                keys: Vec::new(),
            },
            limits: Limits::default(),
            members: Vec::new(),
            vocabulary: Vocabulary::template(),
            signatures: Vec::new(),
        }
    }

    /// Parses the TOML text.
    pub fn from_toml(text: &str) -> Result<Self, CharterError> {
        toml::from_str(text).map_err(|e| CharterError::Toml(one_line(&e.to_string())))
    }

    /// The TOML text, with a header comment.
    pub fn to_toml(&self) -> String {
        let body =
            toml::to_string_pretty(self).unwrap_or_else(|e| format!("# unserializable: {e}\n"));
        format!(
            "# hubnet charter (genesis). Edit with `hubnet charter`; any change to the content\n\
             # invalidates the signatures below. Network id = SHA-256 of the canonical bytes.\n\n{body}"
        )
    }

    /// Checks the content (not the signatures) and builds the canonical protobuf message.
    pub fn to_proto(&self) -> Result<pb::Charter, CharterError> {
        if self.version != CHARTER_VERSION {
            return Err(CharterError::UnsupportedVersion(self.version));
        }
        if self.name.is_empty() {
            return Err(CharterError::MissingName);
        }
        check_names(&self.name).map_err(CharterError::BadName)?;
        check_limits(&self.limits)?;
        self.vocabulary.check()?;
        if self.members.is_empty() {
            return Err(CharterError::NoMembers);
        }
        let mut members = Vec::with_capacity(self.members.len());
        let mut seen_keys = HashMap::new();
        for m in &self.members {
            if !is_country_code(&m.code) {
                return Err(CharterError::BadMemberCode(m.code.clone()));
            }
            let key =
                m.publishing_key
                    .parse::<PublicKey>()
                    .map_err(|e| CharterError::BadMemberKey {
                        code: m.code.clone(),
                        problem: e.to_string(),
                    })?;
            if let Some(other) = seen_keys.insert(key, m.code.clone()) {
                return Err(CharterError::BadMemberKey {
                    code: m.code.clone(),
                    problem: format!("same publishing key as member {other}"),
                });
            }
            check_names(&m.name).map_err(|problem| CharterError::BadMemberName {
                code: m.code.clone(),
                problem,
            })?;
            members.push(pb::Member {
                code: m.code.clone(),
                name: Some(pb::LocalizedText {
                    text: m.name.clone(),
                }),
                publishing_key: key.as_bytes().to_vec(),
            });
        }
        members.sort_by(|a, b| a.code.cmp(&b.code));
        for pair in members.windows(2) {
            if pair[0].code == pair[1].code {
                return Err(CharterError::DuplicateMember(pair[0].code.clone()));
            }
        }
        let mut keys = Vec::with_capacity(self.committee.keys.len());
        for k in &self.committee.keys {
            let key = k
                .parse::<PublicKey>()
                .map_err(|e| CharterError::BadCommitteeKey {
                    key: k.clone(),
                    problem: e.to_string(),
                })?;
            keys.push(key.as_bytes().to_vec());
        }
        keys.sort();
        if let Some(pair) = keys.windows(2).find(|p| p[0] == p[1]) {
            return Err(CharterError::BadCommitteeKey {
                key: hex::encode(&pair[0]),
                problem: "listed twice".into(),
            });
        }
        let quorum = self.committee.quorum;
        if quorum == 0 || quorum as usize > keys.len() {
            return Err(CharterError::BadQuorum {
                quorum,
                keys: keys.len(),
            });
        }
        Ok(pb::Charter {
            version: self.version,
            name: Some(pb::LocalizedText {
                text: self.name.clone(),
            }),
            members,
            committee: Some(pb::Committee { keys, quorum }),
            limits: Some(self.limits.to_proto()),
            vocabulary: self.vocabulary.to_proto(),
        })
    }

    /// The canonical bytes that committee members sign and whose SHA-256 is the network id.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, CharterError> {
        Ok(self.to_proto()?.encode_to_vec())
    }

    /// Adds (or replaces) `key`'s signature over the current content.
    pub fn sign(&mut self, key: &SecretKey) -> Result<(), CharterError> {
        let bytes = self.canonical_bytes()?;
        let public = key.public_key();
        let committee = self
            .to_proto()?
            .committee
            .map(|c| c.keys)
            .unwrap_or_default();
        if !committee.iter().any(|k| k.as_slice() == public.as_bytes()) {
            return Err(CharterError::SignerNotCommittee(public.to_hex()));
        }
        let signature = key.sign(&charter_message(&bytes));
        self.signatures
            .retain(|s| s.key.to_lowercase() != public.to_hex());
        self.signatures.push(SignatureDoc {
            key: public.to_hex(),
            signature: hex::encode(signature),
        });
        Ok(())
    }

    /// Builds the signed form carried in bundles (signatures are not checked here).
    pub fn to_signed_proto(&self) -> Result<pb::SignedCharter, CharterError> {
        let charter = self.canonical_bytes()?;
        let mut signatures = Vec::with_capacity(self.signatures.len());
        for s in &self.signatures {
            let key = parse_hex32(&s.key).map_err(|_| CharterError::BadSignature(s.key.clone()))?;
            let signature =
                hex::decode(&s.signature).map_err(|_| CharterError::BadSignature(s.key.clone()))?;
            signatures.push(pb::CharterSignature {
                key: key.to_vec(),
                signature,
            });
        }
        Ok(pb::SignedCharter {
            charter,
            signatures,
        })
    }

    /// Validates content and signatures: the charter every node runs with.
    pub fn verify(&self) -> Result<Charter, CharterError> {
        Charter::from_signed(&self.to_signed_proto()?)
    }
}

/// One member of a verified charter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// ISO 3166-1 alpha-2 code, or `HUB`.
    pub code: String,
    /// Names by language tag.
    pub name: BTreeMap<String, String>,
    /// Publishing key (the current one, once governance rotated it).
    pub key: PublicKey,
}

/// One publishing key a charter knows: whose it is and how far it may sign.
#[derive(Debug, Clone, Copy)]
struct KeyEntry {
    member: usize,
    verifying: ed25519_dalek::VerifyingKey,
    last_seq: Option<u64>,
    /// Revoked by a decision: compromised, so whatever it signs proves nothing of its member.
    revoked: bool,
}

/// A verified charter: content checked, quorum of committee signatures present. As the
/// governance log moves on, [`crate::governance::Governance::charter`] gives the same charter with
/// the decisions applied: the members and keys in force, former keys with their last valid seq,
/// and the limits by time. The network id and the committee never change.
#[derive(Debug, Clone)]
pub struct Charter {
    network_id: NetworkId,
    name: BTreeMap<String, String>,
    members: Vec<Member>,
    keys: HashMap<PublicKey, KeyEntry>,
    committee: Vec<PublicKey>,
    quorum: u32,
    /// Limits from a time (ms) on, sorted; the charter's own from `i64::MIN`.
    limits: Vec<(i64, Limits)>,
    /// The vocabulary in force: the charter's, with every applied amendment.
    vocabulary: Vocabulary,
    genesis_vocabulary: Vocabulary,
    /// Records the Steering Committee erased, with the first decision that erased each.
    erased: BTreeMap<RecordId, RecordId>,
    signed: pb::SignedCharter,
    genesis_members: Vec<Member>,
}

impl Charter {
    /// Verifies a signed charter as carried in bundles.
    pub fn from_signed(signed: &pb::SignedCharter) -> Result<Self, CharterError> {
        let proto = pb::Charter::decode(signed.charter.as_slice())
            .map_err(|e| CharterError::Decode(e.to_string()))?;
        let doc = doc_from_proto(&proto)?;
        let canonical = doc.to_proto()?;
        if canonical.encode_to_vec() != signed.charter {
            return Err(CharterError::NotCanonical);
        }
        let committee_raw = canonical.committee.clone().unwrap_or_default();
        let committee: Vec<PublicKey> = committee_raw
            .keys
            .iter()
            .filter_map(|k| <[u8; 32]>::try_from(k.as_slice()).ok())
            .filter_map(|k| PublicKey::from_bytes(k).ok())
            .collect();
        let message = charter_message(&signed.charter);
        let signers = committee_signers(
            signed
                .signatures
                .iter()
                .map(|s| (s.key.as_slice(), s.signature.as_slice())),
            &committee,
            &message,
        )
        .map_err(|p| match p {
            SignerProblem::NotCommittee(k) => CharterError::SignerNotCommittee(k),
            SignerProblem::Duplicate(k) => CharterError::DuplicateSigner(k),
            SignerProblem::Bad(k) => CharterError::BadSignature(k),
        })?;
        if signers.len() < committee_raw.quorum as usize {
            return Err(CharterError::QuorumNotMet {
                have: signers.len(),
                need: committee_raw.quorum,
            });
        }
        let members: Vec<Member> = doc
            .members
            .iter()
            .filter_map(|m| {
                Some(Member {
                    code: m.code.clone(),
                    name: m.name.clone(),
                    key: m.publishing_key.parse().ok()?,
                })
            })
            .collect();
        let keys = members
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                Some((
                    m.key,
                    KeyEntry {
                        member: i,
                        verifying: m.key.verifying_key()?,
                        last_seq: None,
                        revoked: false,
                    },
                ))
            })
            .collect();
        Ok(Self {
            network_id: NetworkId(sha256(&signed.charter)),
            name: doc.name,
            genesis_members: members.clone(),
            members,
            keys,
            committee,
            quorum: committee_raw.quorum,
            limits: vec![(i64::MIN, doc.limits)],
            genesis_vocabulary: doc.vocabulary.clone(),
            vocabulary: doc.vocabulary,
            erased: BTreeMap::new(),
            signed: signed.clone(),
        })
    }

    /// This charter with a governance state applied (see [`crate::governance`]).
    pub(crate) fn governed(&self, state: &crate::governance::GovState) -> Charter {
        let members: Vec<Member> = state
            .members
            .values()
            .filter_map(|m| {
                Some(Member {
                    code: m.code.clone(),
                    name: m.name.clone(),
                    key: m.current_key()?.key,
                })
            })
            .collect();
        let index: HashMap<&str, usize> = members
            .iter()
            .enumerate()
            .map(|(i, m)| (m.code.as_str(), i))
            .collect();
        let keys = state
            .members
            .values()
            .flat_map(|m| m.keys.iter().map(move |p| (m.code.as_str(), p)))
            .filter_map(|(code, p)| {
                Some((
                    p.key,
                    KeyEntry {
                        member: *index.get(code)?,
                        verifying: p.key.verifying_key()?,
                        last_seq: p.grant.last_seq(),
                        revoked: p.grant.revoked_after.is_some(),
                    },
                ))
            })
            .collect();
        Charter {
            members,
            keys,
            limits: state.limits.clone(),
            vocabulary: state.vocabulary.clone(),
            erased: state.erased.clone(),
            ..self.clone()
        }
    }

    /// The members as the charter itself names them, before any decision.
    pub fn genesis_members(&self) -> &[Member] {
        &self.genesis_members
    }

    /// The limits the charter itself sets, before any decision.
    pub fn genesis_limits(&self) -> &Limits {
        self.limits.first().map_or(&DEFAULT_LIMITS, |(_, l)| l)
    }

    /// SHA-256 of the canonical bytes.
    pub fn network_id(&self) -> NetworkId {
        self.network_id
    }

    /// The network's name by language tag.
    pub fn name(&self) -> &BTreeMap<String, String> {
        &self.name
    }

    /// Members, sorted by code.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// The member whose publishing key (current or former) is `key`.
    pub fn member_by_key(&self, key: &PublicKey) -> Option<&Member> {
        self.keys.get(key).and_then(|e| self.members.get(e.member))
    }

    /// Every key a member holds or held, with its member and last valid seq, in member code order
    /// (keys of one member in no particular order).
    pub fn known_keys(&self) -> Vec<(PublicKey, &Member, Option<u64>)> {
        let mut out: Vec<(PublicKey, &Member, Option<u64>)> = self
            .keys
            .iter()
            .filter_map(|(k, e)| Some((*k, self.members.get(e.member)?, e.last_seq)))
            .collect();
        out.sort_by(|a, b| (&a.1.code, a.2.is_none(), a.0).cmp(&(&b.1.code, b.2.is_none(), b.0)));
        out
    }

    /// The last seq `key` may sign (`None`: no limit), for a key some member holds or held.
    pub fn key_last_seq(&self, key: &PublicKey) -> Option<Option<u64>> {
        self.keys.get(key).map(|e| e.last_seq)
    }

    /// Whether a decision revoked `key`. Its records up to the revocation's last valid seq still
    /// count, but nothing else it signs (a checkpoint) is evidence: whoever holds it may sign.
    pub fn key_revoked(&self, key: &PublicKey) -> bool {
        self.keys.get(key).is_some_and(|e| e.revoked)
    }

    /// Whether a record by `key` at `seq` is valid under the governance state: the key is a
    /// member's and `seq` is at or below its last valid seq.
    pub fn key_allows(&self, key: &PublicKey, seq: u64) -> bool {
        self.keys
            .get(key)
            .is_some_and(|e| e.last_seq.is_none_or(|last| seq <= last))
    }

    /// The member whose publishing key is `key`, with its key decompressed once for verification,
    /// and the key's last valid seq.
    pub(crate) fn member_with_verifying_key(
        &self,
        key: &PublicKey,
    ) -> Option<(&Member, ed25519_dalek::VerifyingKey, Option<u64>)> {
        let e = self.keys.get(key)?;
        Some((self.members.get(e.member)?, e.verifying, e.last_seq))
    }

    /// The member with code `code` (case-insensitive).
    pub fn member_by_code(&self, code: &str) -> Option<&Member> {
        self.members
            .iter()
            .find(|m| m.code.eq_ignore_ascii_case(code))
    }

    /// Committee keys, sorted.
    pub fn committee(&self) -> &[PublicKey] {
        &self.committee
    }

    /// Signatures needed.
    pub fn quorum(&self) -> u32 {
        self.quorum
    }

    /// The record limits in force last (for records created from now on).
    pub fn limits(&self) -> &Limits {
        self.limits.last().map_or(&DEFAULT_LIMITS, |(_, l)| l)
    }

    /// The vocabulary the charter itself sets, before any decision.
    pub fn genesis_vocabulary(&self) -> &Vocabulary {
        &self.genesis_vocabulary
    }

    /// The decision that erased record `id` (docs/PROTOCOL.md §2.1), if one did.
    pub fn erased_by(&self, id: &RecordId) -> Option<RecordId> {
        self.erased.get(id).copied()
    }

    /// Every record a decision erased, with the decision.
    pub fn erased_by_decisions(&self) -> &BTreeMap<RecordId, RecordId> {
        &self.erased
    }

    /// The vocabulary in force: the charter's with every applied amendment.
    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    /// What a body created now is judged against: the last limits and the vocabulary in force,
    /// with no creation time (a publisher adds it with [`Rules::at`]).
    pub fn rules(&self) -> Rules<'_> {
        Rules {
            limits: self.limits(),
            vocabulary: &self.vocabulary,
            created_at: None,
        }
    }

    /// What a body created at `created_at` (ms) is judged against: the limits for that time and
    /// the vocabulary in force (which only grows, so no time is needed).
    pub fn rules_at(&self, created_at: i64) -> Rules<'_> {
        Rules {
            limits: self.limits_at(created_at),
            vocabulary: &self.vocabulary,
            created_at: Some(created_at),
        }
    }

    /// The record limits for a record created at `created_at` (ms).
    pub fn limits_at(&self, created_at: i64) -> &Limits {
        self.limits
            .iter()
            .rev()
            .find(|(from, _)| *from <= created_at)
            .map_or(self.genesis_limits(), |(_, l)| l)
    }

    /// The largest record any era's limits allow (what to accept before decoding the header).
    pub fn max_record_bytes(&self) -> u64 {
        self.limits
            .iter()
            .map(|(_, l)| l.max_record_bytes)
            .max()
            .unwrap_or(DEFAULT_LIMITS.max_record_bytes)
    }

    /// The furthest back (in records of one key) the rate rule ever looks: the largest
    /// `max_records_per_hour` of any era (0 when no era has a limit).
    pub fn rate_lookback(&self) -> u64 {
        self.limits
            .iter()
            .map(|(_, l)| l.max_records_per_hour)
            .max()
            .unwrap_or(0)
    }

    /// The signed form, as carried in bundles.
    pub fn signed(&self) -> &pb::SignedCharter {
        &self.signed
    }

    /// The signers of this charter.
    pub fn signers(&self) -> Vec<PublicKey> {
        self.signed
            .signatures
            .iter()
            .filter_map(|s| <[u8; 32]>::try_from(s.key.as_slice()).ok())
            .filter_map(|k| PublicKey::from_bytes(k).ok())
            .collect()
    }

    /// The editable TOML form of this charter, signatures included.
    pub fn to_doc(&self) -> Result<CharterDoc, CharterError> {
        let proto = pb::Charter::decode(self.signed.charter.as_slice())
            .map_err(|e| CharterError::Decode(e.to_string()))?;
        let mut doc = doc_from_proto(&proto)?;
        doc.signatures = self
            .signed
            .signatures
            .iter()
            .map(|s| SignatureDoc {
                key: hex::encode(&s.key),
                signature: hex::encode(&s.signature),
            })
            .collect();
        Ok(doc)
    }
}

fn charter_message(canonical: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(CHARTER_SIGNATURE_TAG.len() + 1 + canonical.len());
    m.extend_from_slice(CHARTER_SIGNATURE_TAG);
    m.push(0);
    m.extend_from_slice(canonical);
    m
}

/// Why a committee signature (over a charter or a decision) does not count; the key in hex.
pub(crate) enum SignerProblem {
    /// Not a committee key (or not a key at all).
    NotCommittee(String),
    /// A key that signed already.
    Duplicate(String),
    /// A signature that does not verify.
    Bad(String),
}

/// The distinct committee keys whose strict signatures over `message` verify, in the order given;
/// the first signature that does not count is the error.
pub(crate) fn committee_signers<'a>(
    signatures: impl Iterator<Item = (&'a [u8], &'a [u8])>,
    committee: &[PublicKey],
    message: &[u8],
) -> Result<Vec<PublicKey>, SignerProblem> {
    let mut signers: Vec<PublicKey> = Vec::new();
    for (key, signature) in signatures {
        let shown = hex::encode(key);
        let key = <[u8; 32]>::try_from(key)
            .ok()
            .and_then(|k| PublicKey::from_bytes(k).ok())
            .filter(|k| committee.contains(k))
            .ok_or_else(|| SignerProblem::NotCommittee(shown.clone()))?;
        if signers.contains(&key) {
            return Err(SignerProblem::Duplicate(shown));
        }
        if !verify_signature(&key, message, signature) {
            return Err(SignerProblem::Bad(shown));
        }
        signers.push(key);
    }
    Ok(signers)
}

/// Verification of `signature` by `key` over `message` under the signature rule
/// ([`crate::signature`]).
pub(crate) fn verify_signature(key: &PublicKey, message: &[u8], signature: &[u8]) -> bool {
    key.verifying_key()
        .is_some_and(|vk| crate::signature::verify(&vk, message, signature))
}

fn doc_from_proto(p: &pb::Charter) -> Result<CharterDoc, CharterError> {
    let committee = p.committee.clone().unwrap_or_default();
    Ok(CharterDoc {
        version: p.version,
        name: p.name.clone().unwrap_or_default().text,
        committee: CommitteeDoc {
            quorum: committee.quorum,
            keys: committee.keys.iter().map(hex::encode).collect(),
        },
        limits: p
            .limits
            .as_ref()
            .map(Limits::from_proto)
            .unwrap_or_default(),
        members: p
            .members
            .iter()
            .map(|m| MemberDoc {
                code: m.code.clone(),
                publishing_key: hex::encode(&m.publishing_key),
                name: m.name.clone().unwrap_or_default().text,
            })
            .collect(),
        vocabulary: p
            .vocabulary
            .as_ref()
            .map(Vocabulary::from_proto)
            .unwrap_or_default(),
        signatures: Vec::new(),
    })
}

/// A name map: at least one entry, well-formed BCP 47 tags, unique ignoring case, no blank name.
/// (Canonical bytes rely on it: an empty key or value would be left out of the encoding.)
fn check_names(names: &BTreeMap<String, String>) -> Result<(), String> {
    if names.is_empty() {
        return Err("no name given".into());
    }
    let mut seen = std::collections::HashSet::new();
    for (tag, name) in names {
        if !is_language_tag(tag) {
            return Err(format!("{tag:?} is not a BCP 47 language tag"));
        }
        if !seen.insert(tag.to_ascii_lowercase()) {
            return Err(format!("language {tag:?} appears twice"));
        }
        if name.trim().is_empty() {
            return Err(format!("the {tag} name is blank"));
        }
    }
    Ok(())
}

static DEFAULT_LIMITS: Limits = Limits::DEFAULT;

pub(crate) fn check_limits(l: &Limits) -> Result<(), CharterError> {
    let checks: [(&'static str, u64, u64, u64); 9] = [
        (
            "max_record_bytes",
            l.max_record_bytes,
            1024,
            4 * 1024 * 1024,
        ),
        ("max_clock_skew_secs", l.max_clock_skew_secs, 1, 86_400),
        ("max_short_text_bytes", l.max_short_text_bytes, 16, 65_536),
        ("max_summary_bytes", l.max_summary_bytes, 64, 1024 * 1024),
        ("max_body_bytes", l.max_body_bytes, 64, 4 * 1024 * 1024),
        ("max_list_items", l.max_list_items, 1, 10_000),
        ("max_languages", l.max_languages, 1, 1_000),
        ("max_url_bytes", l.max_url_bytes, 16, 65_536),
        // 0 is "no limit"; otherwise at least one record per hour.
        ("max_records_per_hour", l.max_records_per_hour, 0, 1_000_000),
    ];
    for (name, value, min, max) in checks {
        if !(min..=max).contains(&value) {
            return Err(CharterError::BadLimit {
                name,
                value,
                min,
                max,
            });
        }
    }
    Ok(())
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A charter with `members` members (codes from a fixed list) and 3 committee keys, quorum 2,
    /// signed by the first two. Member i's key has seed [i+1; 32], committee key j seed [100+j; 32].
    pub(crate) fn sample(members: usize) -> (CharterDoc, Vec<SecretKey>, Vec<SecretKey>) {
        const CODES: [&str; 8] = ["HUB", "KZ", "KG", "TJ", "UZ", "AZ", "AM", "GE"];
        let mut doc = CharterDoc::new("Test network", 2);
        let member_keys: Vec<SecretKey> = (0..members)
            .map(|i| SecretKey::from_seed([i as u8 + 1; 32]))
            .collect();
        let committee: Vec<SecretKey> = (0..3)
            .map(|j| SecretKey::from_seed([100 + j; 32]))
            .collect();
        for (i, key) in member_keys.iter().enumerate() {
            doc.members.push(MemberDoc {
                code: CODES[i].into(),
                publishing_key: key.public_key().to_hex(),
                name: BTreeMap::from([("en".into(), format!("Member {i}"))]),
            });
        }
        doc.committee.keys = committee.iter().map(|k| k.public_key().to_hex()).collect();
        doc.sign(&committee[0]).expect("committee key");
        doc.sign(&committee[1]).expect("committee key");
        (doc, member_keys, committee)
    }

    fn check(doc: &CharterDoc, expected: Result<(), CharterError>) {
        assert_eq!(doc.verify().map(|_| ()), expected);
    }

    #[test]
    fn signed_charter_verifies_and_round_trips_through_toml() {
        let (doc, keys, _) = sample(3);
        let charter = doc.verify().expect("valid");
        assert_eq!(charter.members().len(), 3);
        assert_eq!(
            charter
                .member_by_key(&keys[1].public_key())
                .map(|m| m.code.as_str()),
            Some("KZ")
        );
        let text = doc.to_toml();
        let back = CharterDoc::from_toml(&text).expect("parses");
        assert_eq!(
            back.verify().expect("valid").network_id(),
            charter.network_id()
        );
        assert_eq!(
            charter
                .to_doc()
                .expect("doc")
                .verify()
                .expect("valid")
                .network_id(),
            charter.network_id()
        );
    }

    #[test]
    fn member_order_does_not_change_network_id() {
        let (mut doc, _, _) = sample(4);
        let id = doc.verify().expect("valid").network_id();
        doc.members.reverse();
        assert_eq!(doc.verify().expect("still valid").network_id(), id);
    }

    #[test]
    fn quorum_is_required() {
        let (mut doc, _, _) = sample(2);
        doc.signatures.pop();
        check(&doc, Err(CharterError::QuorumNotMet { have: 1, need: 2 }));
    }

    #[test]
    fn a_quorum_of_every_committee_key_is_valid_and_one_more_is_not() {
        let (mut doc, _, committee) = sample(2);
        doc.committee.quorum = 3;
        doc.signatures.clear();
        for key in &committee {
            doc.sign(key).expect("committee key");
        }
        let charter = doc.verify().expect("a quorum of all three keys");
        assert_eq!(charter.quorum(), 3);
        doc.committee.quorum = 4;
        check(&doc, Err(CharterError::BadQuorum { quorum: 4, keys: 3 }));
    }

    #[test]
    fn the_verified_charter_keeps_the_documents_name_and_limits() {
        let (mut doc, _, committee) = sample(2);
        doc.name.insert("ru".into(), "Тестовая сеть".into());
        doc.limits.max_records_per_hour = 77;
        doc.limits.max_record_bytes *= 2;
        doc.signatures.clear();
        doc.sign(&committee[0]).expect("committee key");
        doc.sign(&committee[1]).expect("committee key");
        let charter = doc.verify().expect("valid");
        assert_eq!(charter.name(), &doc.name);
        assert_eq!(charter.name()["ru"], "Тестовая сеть");
        assert_eq!(charter.genesis_limits(), &doc.limits);
        assert_eq!(charter.limits(), &doc.limits, "no decision yet");
        assert_eq!(charter.rate_lookback(), 77);
        let signers: std::collections::BTreeSet<PublicKey> =
            charter.signers().into_iter().collect();
        let expected: std::collections::BTreeSet<PublicKey> =
            committee[..2].iter().map(SecretKey::public_key).collect();
        assert_eq!(signers, expected);
        let again = Charter::from_signed(charter.signed()).expect("its own signed form");
        assert_eq!(again.network_id(), charter.network_id());
        assert_eq!(again.signers().len(), 2);
    }

    /// Before any decision the vocabulary in force is the document's, and a body is judged by
    /// the document's limits and vocabulary.
    #[test]
    fn the_verified_charter_keeps_the_documents_vocabulary_and_judges_by_it() {
        let (mut doc, _, committee) = sample(2);
        doc.vocabulary.topics.retain(|t| t.slug == "recruitment");
        doc.limits.max_list_items = 3;
        doc.signatures.clear();
        doc.sign(&committee[0]).expect("committee key");
        doc.sign(&committee[1]).expect("committee key");
        let charter = doc.verify().expect("valid");
        assert_eq!(charter.vocabulary(), &doc.vocabulary);
        assert_eq!(charter.genesis_vocabulary(), &doc.vocabulary);
        let rules = charter.rules();
        assert_eq!(rules.limits, &doc.limits);
        assert_eq!(rules.vocabulary, &doc.vocabulary);
        assert!(rules.vocabulary.is_topic("recruitment"));
        assert!(!rules.vocabulary.is_topic("training"));
    }

    /// Every charter limit admits its smallest and largest value and refuses one beyond each.
    #[test]
    fn each_charter_limit_admits_its_range_and_nothing_beyond() {
        type Field = fn(&mut Limits) -> &mut u64;
        let ranges: [(&str, Field, u64, u64); 9] = [
            (
                "max_record_bytes",
                |l| &mut l.max_record_bytes,
                1024,
                4 << 20,
            ),
            (
                "max_clock_skew_secs",
                |l| &mut l.max_clock_skew_secs,
                1,
                86_400,
            ),
            (
                "max_short_text_bytes",
                |l| &mut l.max_short_text_bytes,
                16,
                65_536,
            ),
            (
                "max_summary_bytes",
                |l| &mut l.max_summary_bytes,
                64,
                1 << 20,
            ),
            ("max_body_bytes", |l| &mut l.max_body_bytes, 64, 4 << 20),
            ("max_list_items", |l| &mut l.max_list_items, 1, 10_000),
            ("max_languages", |l| &mut l.max_languages, 1, 1_000),
            ("max_url_bytes", |l| &mut l.max_url_bytes, 16, 65_536),
            (
                "max_records_per_hour",
                |l| &mut l.max_records_per_hour,
                0,
                1_000_000,
            ),
        ];
        for (name, field, min, max) in ranges {
            let with = |value: u64| {
                let mut l = Limits::DEFAULT;
                *field(&mut l) = value;
                check_limits(&l)
            };
            assert_eq!(with(min), Ok(()), "{name} = {min}");
            assert_eq!(with(max), Ok(()), "{name} = {max}");
            let refused = |value| {
                Err(CharterError::BadLimit {
                    name,
                    value,
                    min,
                    max,
                })
            };
            assert_eq!(with(max + 1), refused(max + 1), "{name} = {}", max + 1);
            if min > 0 {
                assert_eq!(with(min - 1), refused(min - 1), "{name} = {}", min - 1);
            }
        }
    }

    #[test]
    fn a_toml_error_is_reported_on_one_line() {
        let Err(CharterError::Toml(message)) = CharterDoc::from_toml("version = 1\nname = [\n")
        else {
            panic!("not a TOML error");
        };
        assert!(!message.contains('\n'), "{message}");
        assert!(message.contains("line 2"), "{message}");
    }

    #[test]
    fn same_signer_counts_once() {
        let (mut doc, _, _) = sample(2);
        let first = doc.signatures[0].clone();
        doc.signatures[1] = first.clone();
        check(&doc, Err(CharterError::DuplicateSigner(first.key)));
    }

    #[test]
    fn outsider_signature_is_refused() {
        let (mut doc, keys, _) = sample(2);
        assert_eq!(
            doc.sign(&keys[0]),
            Err(CharterError::SignerNotCommittee(
                keys[0].public_key().to_hex()
            ))
        );
        doc.signatures.push(SignatureDoc {
            key: keys[0].public_key().to_hex(),
            signature: hex::encode([0u8; 64]),
        });
        check(
            &doc,
            Err(CharterError::SignerNotCommittee(
                keys[0].public_key().to_hex(),
            )),
        );
    }

    #[test]
    fn changed_content_breaks_signatures() {
        let (mut doc, _, committee) = sample(2);
        doc.limits.max_record_bytes += 1;
        let signer = doc.signatures[0].key.clone();
        check(&doc, Err(CharterError::BadSignature(signer)));
        assert!(committee[0].public_key().to_hex().len() == 64);
    }

    #[test]
    fn bad_content_is_refused() {
        let (doc, _, _) = sample(2);
        let mut d = doc.clone();
        d.members[1].code = "XX".into();
        check(&d, Err(CharterError::BadMemberCode("XX".into())));
        let mut d = doc.clone();
        d.members[1].code = d.members[0].code.clone();
        check(&d, Err(CharterError::DuplicateMember("HUB".into())));
        let mut d = doc.clone();
        d.committee.quorum = 4;
        check(&d, Err(CharterError::BadQuorum { quorum: 4, keys: 3 }));
        let mut d = doc.clone();
        d.limits.max_record_bytes = 10;
        assert!(matches!(
            d.verify(),
            Err(CharterError::BadLimit {
                name: "max_record_bytes",
                ..
            })
        ));
        let mut d = doc.clone();
        d.members[0].name.insert("en".into(), String::new());
        assert!(matches!(
            d.verify(),
            Err(CharterError::BadMemberName { .. })
        ));
        let mut d = doc.clone();
        d.name.insert("not a tag!".into(), "x".into());
        assert!(matches!(d.verify(), Err(CharterError::BadName(_))));
        let mut d = doc.clone();
        d.name.insert("EN".into(), "x".into());
        assert!(matches!(d.verify(), Err(CharterError::BadName(_))));
        let mut d = doc.clone();
        d.version = 2;
        check(&d, Err(CharterError::UnsupportedVersion(2)));
        assert!(matches!(
            CharterDoc::from_toml("version = 1\nbogus = 2\n"),
            Err(CharterError::Toml(_))
        ));
    }

    #[test]
    fn non_canonical_bytes_are_refused() {
        let (doc, _, _) = sample(2);
        let mut signed = doc.to_signed_proto().expect("signed");
        let mut proto = pb::Charter::decode(signed.charter.as_slice()).expect("decodes");
        proto.members.reverse();
        signed.charter = proto.encode_to_vec();
        assert_eq!(
            Charter::from_signed(&signed).err(),
            Some(CharterError::NotCanonical)
        );
    }
}
