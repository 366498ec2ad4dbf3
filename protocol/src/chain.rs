//! Log-chain rules: where a verified record may go in its author's log.
//!
//! Each author's records form an append-only hash chain: seq 1, 2, 3, ... each naming the id of
//! the one before. These checks need the store's view of the log, passed in as plain values.

use crate::id::RecordId;
use crate::keys::PublicKey;
use crate::record::{Kind, Record};

/// Why a verified record cannot be appended to its author's log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// A different record already holds this seq: fork evidence.
    #[error("seq {seq} of author {author} is already taken by record {existing} (a fork)")]
    SeqRepeated {
        /// Author key (hex).
        author: String,
        /// The repeated seq.
        seq: u64,
        /// The record already stored at that seq.
        existing: RecordId,
    },
    /// The record skips ahead of the log's head.
    #[error("seq {got} of author {author} skips ahead: the next expected seq is {expected}")]
    SeqGap {
        /// Author key (hex).
        author: String,
        /// Next seq.
        expected: u64,
        /// Record's seq.
        got: u64,
    },
    /// `prev` is not the id of the author's previous record.
    #[error("prev of seq {seq} is {got}, but the author's record {prev_seq} is {expected}")]
    WrongPrev {
        /// Record's seq.
        seq: u64,
        /// seq - 1.
        prev_seq: u64,
        /// Id at seq - 1.
        expected: RecordId,
        /// Record's prev (hex, or "none").
        got: String,
    },
    /// Created before the author's previous record.
    #[error("created_at {created_at} is before the previous record's {prev_created_at}")]
    TimeBeforePrev {
        /// Record's time.
        created_at: i64,
        /// Previous record's time.
        prev_created_at: i64,
    },
    /// The amended or retracted record is not stored in the author's log.
    #[error("target {0} is not an earlier record of this author")]
    TargetNotFound(RecordId),
    /// The target is an amendment or retraction, not an original record.
    #[error(
        "target {0} is a {1}; only content records (practices, events, profiles, institutions, experts, programmes) can be amended, retracted or erased, and confirmations retracted"
    )]
    TargetNotOriginal(RecordId, &'static str),
    /// An amendment's new content is of another kind than its target.
    #[error("amendment replaces a {target} with a {content}")]
    TargetKindMismatch {
        /// Target's kind.
        target: &'static str,
        /// Content's kind.
        content: &'static str,
    },
    /// The target was already retracted.
    #[error("target {0} was already retracted")]
    TargetRetracted(RecordId),
    /// The target was erased (docs/PROTOCOL.md §2.1): nothing can amend, retract or erase it
    /// again.
    #[error("target {0} was erased")]
    TargetErased(RecordId),
    /// An erasure's `amendments` are not exactly the target's amendments in the author's log
    /// before it, in log order.
    #[error(
        "an erasure of {target} must list exactly its amendments in log order: it lists [{listed}], the log holds [{held}]"
    )]
    ErasureAmendments {
        /// The erased record.
        target: RecordId,
        /// The ids the erasure lists (hex, comma separated).
        listed: String,
        /// The ids the log holds (hex, comma separated).
        held: String,
    },
    /// A reform profile's previous profile is not stored in the author's log.
    #[error("previous {0} is not an earlier record of this author")]
    PreviousNotFound(RecordId),
    /// A reform profile's previous record is not a reform profile.
    #[error("previous {previous} is a {kind}, not a reform profile")]
    PreviousNotProfile {
        /// The previous record.
        previous: RecordId,
        /// Its kind.
        kind: &'static str,
    },
    /// A reform profile's previous profile is another member state's.
    #[error("previous {previous} is a profile of {country}, not of {expected}")]
    PreviousOtherCountry {
        /// The previous record.
        previous: RecordId,
        /// Its country (its author's member code).
        country: String,
        /// This profile's country.
        expected: String,
    },
    /// A body names, as an institution, a record the node does not hold (yet: it may arrive
    /// later from its author's log, and the record is then fetched again; no penalty).
    #[error("{field}: {reference} is not a record this node holds")]
    ReferenceNotFound {
        /// The field that names it.
        field: String,
        /// The record named.
        reference: RecordId,
    },
    /// A body names, as an institution, a record of another kind.
    #[error("{field}: {reference} is a {kind}, not an institution")]
    NotAnInstitution {
        /// The field that names it.
        field: String,
        /// The record named.
        reference: RecordId,
        /// Its kind.
        kind: &'static str,
    },
    /// A body names, as a record of one kind, a record of another kind (a programme's links, a
    /// confirmation's programme).
    #[error("{field}: {reference} is a {kind}, not a {expected}")]
    ReferenceKind {
        /// The field that names it.
        field: String,
        /// The record named.
        reference: RecordId,
        /// The kind the field names.
        expected: &'static str,
        /// The record's kind.
        kind: &'static str,
    },
    /// A confirmation's version is neither its programme nor an amendment of it.
    #[error(
        "{field}: {version} is not a version of programme {programme} (the programme itself or one of its amendments)"
    )]
    NotAVersion {
        /// The field.
        field: String,
        /// The record named as the version.
        version: RecordId,
        /// The programme.
        programme: RecordId,
    },
    /// A confirmation by a member that the version it confirms does not list as a participant.
    #[error(
        "{field}: version {version} does not list {member} as a participant; only participants confirm"
    )]
    NotAParticipant {
        /// The field.
        field: String,
        /// The version.
        version: RecordId,
        /// The confirming member.
        member: String,
    },
    /// The key already signed the charter's limit of records within the hour before this one
    /// (the rate rule, docs/PROTOCOL.md §2).
    #[error(
        "author {author} may sign at most {limit} records within any hour: seq {seq} (created_at {created_at}) would make {over} since seq {earlier_seq} (created_at {window_start}); the next may be created at {next_allowed}"
    )]
    RateExceeded {
        /// Author key (hex).
        author: String,
        /// The record's seq.
        seq: u64,
        /// The record's time (ms).
        created_at: i64,
        /// Records per hour the charter allows at that time.
        limit: u64,
        /// How many records within the hour this one would make (`limit + 1`).
        over: u64,
        /// The author's record `limit` places back: `seq - limit`.
        earlier_seq: u64,
        /// Its time (ms).
        window_start: i64,
        /// The earliest `created_at` a record at this seq may have (`window_start` + 1 h).
        next_allowed: i64,
    },
}

/// Where a record sits, as the rate rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatePlace<'a> {
    /// The signing key.
    pub author: &'a PublicKey,
    /// Its seq.
    pub seq: u64,
    /// Its `created_at` (ms).
    pub created_at: i64,
}

impl<'a> RatePlace<'a> {
    /// The place of a record.
    pub fn of(record: &'a Record) -> Self {
        Self {
            author: &record.header.author,
            seq: record.header.seq,
            created_at: record.header.created_at,
        }
    }
}

/// One hour in ms: the rate rule's window.
pub const RATE_WINDOW_MS: i64 = 3_600_000;

/// The rate rule (docs/PROTOCOL.md §2): a record at seq `s` created at `t` is refused when the
/// limit in force at `t` is `N` and the same key's record at seq `s - N` was created less than an
/// hour before `t` (so `N + 1` records would fall within one hour). Since a log's times never
/// decrease, that is exactly "at most `N` records within any hour of `created_at`".
///
/// `at` is the record's place (author, seq, created_at); `limit` the limit in force at its time
/// (`charter.limits_at(created_at).records_per_hour()`); `created_at_of(seq)` the time of the
/// author's record at `seq`, which every caller holds (a record is only checked when it extends a
/// contiguous log). `None` from it means "not held", and then nothing can be shown to exceed the
/// limit.
pub fn check_rate(
    at: RatePlace<'_>,
    limit: Option<u64>,
    created_at_of: impl FnOnce(u64) -> Option<i64>,
) -> Result<(), ChainError> {
    let Some(limit) = limit else { return Ok(()) };
    let Some(earlier_seq) = at.seq.checked_sub(limit).filter(|s| *s >= 1) else {
        return Ok(());
    };
    let Some(window_start) = created_at_of(earlier_seq) else {
        return Ok(());
    };
    let next_allowed = window_start.saturating_add(RATE_WINDOW_MS);
    if at.created_at < next_allowed {
        return Err(ChainError::RateExceeded {
            author: at.author.to_hex(),
            seq: at.seq,
            created_at: at.created_at,
            limit,
            over: limit + 1,
            earlier_seq,
            window_start,
            next_allowed,
        });
    }
    Ok(())
}

/// The head of an author's log as the store knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHead {
    /// Highest contiguous seq.
    pub seq: u64,
    /// Its record id.
    pub id: RecordId,
    /// Its creation time.
    pub created_at: i64,
}

/// What appending a valid record means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Append {
    /// The record extends the log.
    Extends,
    /// The very same record is already stored.
    AlreadyStored,
}

/// Checks `record` against its author's log: `head` is the log's head (if any) and `at_seq` the id
/// stored at the record's seq (if any).
pub fn check_append(
    record: &Record,
    head: Option<&ChainHead>,
    at_seq: Option<RecordId>,
) -> Result<Append, ChainError> {
    let h = &record.header;
    if let Some(existing) = at_seq {
        return if existing == record.id {
            Ok(Append::AlreadyStored)
        } else {
            Err(ChainError::SeqRepeated {
                author: h.author.to_hex(),
                seq: h.seq,
                existing,
            })
        };
    }
    let expected = head.map_or(1, |hd| hd.seq.saturating_add(1));
    if h.seq != expected {
        return Err(ChainError::SeqGap {
            author: h.author.to_hex(),
            expected,
            got: h.seq,
        });
    }
    if let Some(hd) = head {
        if h.prev != Some(hd.id) {
            return Err(ChainError::WrongPrev {
                seq: h.seq,
                prev_seq: hd.seq,
                expected: hd.id,
                got: h.prev.map_or_else(|| "none".to_owned(), |p| p.to_hex()),
            });
        }
        if h.created_at < hd.created_at {
            return Err(ChainError::TimeBeforePrev {
                created_at: h.created_at,
                prev_created_at: hd.created_at,
            });
        }
    }
    Ok(Append::Extends)
}

/// What the store knows of an amendment's, retraction's or erasure's target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetInfo {
    /// Whether the target is in the same author's log.
    pub same_author: bool,
    /// The target's kind.
    pub kind: Kind,
    /// Whether it has been retracted.
    pub retracted: bool,
    /// Whether it has been erased.
    pub erased: bool,
}

/// What the store knows of the record a reform profile names as its previous one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousInfo {
    /// Whether it is in the same author's log.
    pub same_author: bool,
    /// Its kind.
    pub kind: Kind,
    /// Its author's member code.
    pub member: String,
}

/// Checks an erasure's list of amendments against `held`: the ids of its target's amendments in
/// the author's log before it, in log order. Other kinds pass.
pub fn check_erasure(record: &Record, held: &[RecordId]) -> Result<(), ChainError> {
    let crate::Body::Erasure(e) = &record.body else {
        return Ok(());
    };
    let listed = crate::kinds::erasure::erased_ids(e);
    if listed.get(1..).unwrap_or_default() == held {
        return Ok(());
    }
    let join = |ids: &[RecordId]| {
        ids.iter()
            .map(RecordId::to_hex)
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(ChainError::ErasureAmendments {
        target: listed.first().copied().unwrap_or(RecordId([0; 32])),
        listed: join(listed.get(1..).unwrap_or_default()),
        held: join(held),
    })
}

/// Checks a reform profile's `previous` (its own, or an amendment's new version's): an earlier
/// reform profile in the same author's log, which is then of the same country. Other records
/// pass. `previous` is what the store knows of the record named, `None` if it holds no such
/// record.
pub fn check_previous(record: &Record, previous: Option<PreviousInfo>) -> Result<(), ChainError> {
    match record.body.previous() {
        Some(id) => previous_rule(id, &record.member, previous),
        None => Ok(()),
    }
}

/// The rule of [`check_previous`] for a profile of `member` naming `id`.
pub fn previous_rule(
    id: RecordId,
    member: &str,
    previous: Option<PreviousInfo>,
) -> Result<(), ChainError> {
    let Some(info) = previous else {
        return Err(ChainError::PreviousNotFound(id));
    };
    if info.kind != Kind::ReformProfile {
        return Err(ChainError::PreviousNotProfile {
            previous: id,
            kind: info.kind.name(),
        });
    }
    if info.member != member {
        return Err(ChainError::PreviousOtherCountry {
            previous: id,
            country: info.member,
            expected: member.to_owned(),
        });
    }
    if !info.same_author {
        return Err(ChainError::PreviousNotFound(id));
    }
    Ok(())
}

/// Checks every record a body names (`Body::record_refs`: the institutions practices, events,
/// reform profiles, institutions, experts and programmes name; a programme's links to
/// practices, events, profiles, experts and related programmes; a confirmation's programme):
/// each must be a record of the kind its field names (an original, of any member) that the node
/// holds. `kind_of` gives the kind of a record the node holds, `None` if it holds none.
pub fn check_references(
    record: &Record,
    mut kind_of: impl FnMut(&RecordId) -> Option<Kind>,
) -> Result<(), ChainError> {
    for (field, id, expected) in record.body.record_refs() {
        reference_rule(&field, id, expected, kind_of(&id))?;
    }
    Ok(())
}

/// The rule of [`check_references`] for one reference: `field` names `id` as a record of kind
/// `expected`; the node holds it as a record of `kind` (`None`: not held).
pub fn reference_rule(
    field: &str,
    id: RecordId,
    expected: Kind,
    kind: Option<Kind>,
) -> Result<(), ChainError> {
    match kind {
        None => Err(ChainError::ReferenceNotFound {
            field: field.into(),
            reference: id,
        }),
        Some(k) if k == expected => Ok(()),
        Some(k) if expected == Kind::Institution => Err(ChainError::NotAnInstitution {
            field: field.into(),
            reference: id,
            kind: k.name(),
        }),
        Some(k) => Err(ChainError::ReferenceKind {
            field: field.into(),
            reference: id,
            expected: expected.name(),
            kind: k.name(),
        }),
    }
}

/// What the node knows of the record a confirmation names as its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionInfo {
    /// A programme (its own id) or an amendment of one (its target), with the member codes it
    /// lists as participants.
    Version {
        /// The programme it is a version of.
        programme: RecordId,
        /// Its member participants.
        members: Vec<String>,
    },
    /// An erased record that is a version of the confirmation's programme as far as the facts
    /// an erasure leaves can tell ([`erased_version`]): its participants are gone, so the
    /// participant rule cannot be judged and passes.
    Erased,
    /// Any other record.
    Other,
}

/// What an erased record named as a confirmation's `version` of `programme` is, judged only on
/// what erasure leaves every node (docs/PROTOCOL.md §2.2): the record's header (`kind`, its
/// `author`'s key), the programme's author (`programme_author`, if held) and, when the author's
/// erasure record erased it, that record's `target` (`erasure_target`; `None` for a decision's
/// erasure). The programme itself, or an amendment whose erasure names the programme as its
/// target (or, erased by a decision, an amendment by the programme's author), is
/// [`VersionInfo::Erased`]; anything else is [`VersionInfo::Other`].
pub fn erased_version(
    programme: RecordId,
    version: RecordId,
    kind: Kind,
    author: &PublicKey,
    programme_author: Option<&PublicKey>,
    erasure_target: Option<RecordId>,
) -> VersionInfo {
    let is_version = match kind {
        Kind::Programme => version == programme,
        Kind::Amendment => match erasure_target {
            Some(target) => target == programme,
            None => programme_author == Some(author),
        },
        _ => false,
    };
    if is_version {
        VersionInfo::Erased
    } else {
        VersionInfo::Other
    }
}

/// Checks a confirmation's version (its programme is a reference, [`check_references`]): the
/// node holds it (`version`, `None` if not: it may arrive later, as a reference may), it is the
/// programme named or one of its amendments, and it lists the confirming member as a
/// participant. Other records pass.
pub fn check_confirmation(record: &Record, version: Option<VersionInfo>) -> Result<(), ChainError> {
    match record.body.confirms() {
        Some((programme, id)) => confirmation_rule(programme, id, &record.member, version),
        None => Ok(()),
    }
}

/// The rule of [`check_confirmation`] for `member`'s confirmation of `version` of `programme`.
pub fn confirmation_rule(
    programme: RecordId,
    version: RecordId,
    member: &str,
    info: Option<VersionInfo>,
) -> Result<(), ChainError> {
    match info {
        None => Err(ChainError::ReferenceNotFound {
            field: "version".into(),
            reference: version,
        }),
        Some(VersionInfo::Erased) => Ok(()),
        Some(VersionInfo::Version {
            programme: p,
            members,
        }) if p == programme => {
            if members.iter().any(|m| m == member) {
                Ok(())
            } else {
                Err(ChainError::NotAParticipant {
                    field: "version".into(),
                    version,
                    member: member.to_owned(),
                })
            }
        }
        Some(_) => Err(ChainError::NotAVersion {
            field: "version".into(),
            version,
            programme,
        }),
    }
}

/// Checks an amendment's, retraction's or erasure's target; other kinds pass. `target` is what
/// the store knows of the record the body names, `None` if it holds no such record. A retracted
/// record can still be erased; an erased one can be neither amended, retracted nor erased again.
pub fn check_target(record: &Record, target: Option<TargetInfo>) -> Result<(), ChainError> {
    let Some(target_id) = record.body.target() else {
        return Ok(());
    };
    check_target_of(
        record.header.kind,
        record.body.amended_kind(),
        target_id,
        target,
    )
}

/// [`check_target`] on what it reads of a record: its kind, the kind of content an amendment
/// carries, and the target it names. The one statement of the rule, for the store and for the
/// checks of bundles and backups alike.
pub fn check_target_of(
    kind: Kind,
    amended_kind: Option<Kind>,
    target_id: RecordId,
    target: Option<TargetInfo>,
) -> Result<(), ChainError> {
    let info = match target {
        Some(info) if info.same_author => info,
        _ => return Err(ChainError::TargetNotFound(target_id)),
    };
    // A member withdraws from a programme by retracting its confirmation.
    let withdrawal = kind == Kind::Retraction && info.kind == Kind::Confirmation;
    if !info.kind.is_content() && !withdrawal {
        return Err(ChainError::TargetNotOriginal(target_id, info.kind.name()));
    }
    if info.erased {
        return Err(ChainError::TargetErased(target_id));
    }
    if info.retracted && kind != Kind::Erasure {
        return Err(ChainError::TargetRetracted(target_id));
    }
    if let Some(content) = amended_kind
        && content != info.kind
    {
        return Err(ChainError::TargetKindMismatch {
            target: info.kind.name(),
            content: content.name(),
        });
    }
    Ok(())
}
