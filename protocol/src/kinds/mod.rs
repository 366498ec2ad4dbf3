//! The registry of record kinds: every kind the protocol knows, and the one place that dispatches
//! on it.
//!
//! A *content kind* (practice, event, reform profile, institution, expert, programme) is
//! something a member publishes; amendments, retractions and erasures change, withdraw or erase
//! one, and a confirmation is a member's statement about another member's programme. Each content kind lives in its own file here: its body rules
//! (`validate`) and its draft format (`*Draft`, with `to_proto` and `from_proto`). Adding one
//! touches, in this crate: its message, a `RecordKind` value and an `Amendment.content` field in
//! `proto/hubnet/v1/record.proto`; a file in this directory; and one arm in each `match` below.
//! ARCHITECTURE.md lists what it touches in `node/`.

use hubnet_proto::v1 as pb;
use prost::Message;
use serde::{Deserialize, Serialize};

use crate::draft::{AmendmentDraft, DraftError, RetractionDraft, localized, opt_map, parse_target};
use crate::id::RecordId;
use crate::record::RecordError;
use crate::validate::{BodyError, Checker, Rules, Size, digest};

pub mod confirmation;
pub mod erasure;
pub mod event;
pub mod expert;
pub mod institution;
pub mod practice;
pub mod programme;
pub mod reform_profile;

use confirmation::ConfirmationDraft;
use erasure::ErasureDraft;
use event::EventDraft;
use expert::ExpertDraft;
use institution::InstitutionDraft;
use practice::PracticeDraft;
use programme::ProgrammeDraft;
use reform_profile::ReformProfileDraft;

/// The record kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A best-practice case study.
    Practice,
    /// An event notice.
    Event,
    /// Supersedes an earlier record of the same author.
    Amendment,
    /// Withdraws an earlier record of the same author.
    Retraction,
    /// Where a member's civil-service reforms stand at a date.
    ReformProfile,
    /// A ministry, agency, academy, university or international organisation.
    Institution,
    /// An expert's profile, published with their consent.
    Expert,
    /// Erases an earlier record of the same author and its amendments.
    Erasure,
    /// A joint programme or project of several members.
    Programme,
    /// A participant's confirmation of a programme version.
    Confirmation,
}

impl Kind {
    /// The lowercase name used in drafts and text.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Practice => "practice",
            Kind::Event => "event",
            Kind::Amendment => "amendment",
            Kind::Retraction => "retraction",
            Kind::ReformProfile => "reform_profile",
            Kind::Institution => "institution",
            Kind::Expert => "expert",
            Kind::Erasure => "erasure",
            Kind::Programme => "programme",
            Kind::Confirmation => "confirmation",
        }
    }

    /// Whether records of this kind are content (a document of their own), not a change to one.
    pub fn is_content(self) -> bool {
        !matches!(
            self,
            Kind::Amendment | Kind::Retraction | Kind::Erasure | Kind::Confirmation
        )
    }

    /// Its `RecordKind` number in `record.proto` (a stable byte, as stores keep it).
    pub fn code(self) -> u8 {
        self.to_proto() as u8
    }

    /// The kind of `RecordKind` number `code`, if any.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::from_proto(i32::from(code)).ok()
    }

    pub(crate) fn from_proto(value: i32) -> Result<Self, RecordError> {
        match pb::RecordKind::try_from(value) {
            Ok(pb::RecordKind::Practice) => Ok(Kind::Practice),
            Ok(pb::RecordKind::Event) => Ok(Kind::Event),
            Ok(pb::RecordKind::Amendment) => Ok(Kind::Amendment),
            Ok(pb::RecordKind::Retraction) => Ok(Kind::Retraction),
            Ok(pb::RecordKind::ReformProfile) => Ok(Kind::ReformProfile),
            Ok(pb::RecordKind::Institution) => Ok(Kind::Institution),
            Ok(pb::RecordKind::Expert) => Ok(Kind::Expert),
            Ok(pb::RecordKind::Erasure) => Ok(Kind::Erasure),
            Ok(pb::RecordKind::Programme) => Ok(Kind::Programme),
            Ok(pb::RecordKind::Confirmation) => Ok(Kind::Confirmation),
            // Unspecified or negative: malformed in every version.
            Ok(pb::RecordKind::Unspecified) | Err(_) if value <= 0 => {
                Err(RecordError::BadHeaderField {
                    field: "kind",
                    problem: format!("{value} is no kind"),
                })
            }
            // A kind added after this release.
            _ => Err(RecordError::UnknownKind(value)),
        }
    }

    pub(crate) fn to_proto(self) -> pb::RecordKind {
        match self {
            Kind::Practice => pb::RecordKind::Practice,
            Kind::Event => pb::RecordKind::Event,
            Kind::Amendment => pb::RecordKind::Amendment,
            Kind::Retraction => pb::RecordKind::Retraction,
            Kind::ReformProfile => pb::RecordKind::ReformProfile,
            Kind::Institution => pb::RecordKind::Institution,
            Kind::Expert => pb::RecordKind::Expert,
            Kind::Erasure => pb::RecordKind::Erasure,
            Kind::Programme => pb::RecordKind::Programme,
            Kind::Confirmation => pb::RecordKind::Confirmation,
        }
    }
}

/// A decoded, validated body.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// A practice.
    Practice(pb::Practice),
    /// An event.
    Event(pb::Event),
    /// An amendment.
    Amendment(pb::Amendment),
    /// A retraction.
    Retraction(pb::Retraction),
    /// A reform profile.
    ReformProfile(pb::ReformProfile),
    /// An institution.
    Institution(pb::Institution),
    /// An expert.
    Expert(pb::Expert),
    /// An erasure.
    Erasure(pb::Erasure),
    /// A programme.
    Programme(pb::Programme),
    /// A confirmation.
    Confirmation(pb::Confirmation),
    /// The body of an erased record of `kind`: deleted, only its header and signature are kept
    /// (docs/PROTOCOL.md §2.1).
    Erased {
        /// The kind its header names.
        kind: Kind,
    },
}

impl Body {
    /// Decodes `bytes` as the message of `kind` and validates it against `limits`.
    pub fn decode(kind: Kind, bytes: &[u8], rules: &Rules) -> Result<Self, RecordError> {
        let malformed = |e: prost::DecodeError| RecordError::Malformed {
            part: "body",
            reason: e.to_string(),
        };
        let body = match kind {
            Kind::Practice => Body::Practice(pb::Practice::decode(bytes).map_err(malformed)?),
            Kind::Event => Body::Event(pb::Event::decode(bytes).map_err(malformed)?),
            Kind::Amendment => Body::Amendment(pb::Amendment::decode(bytes).map_err(malformed)?),
            Kind::Retraction => Body::Retraction(pb::Retraction::decode(bytes).map_err(malformed)?),
            Kind::ReformProfile => {
                Body::ReformProfile(pb::ReformProfile::decode(bytes).map_err(malformed)?)
            }
            Kind::Institution => {
                Body::Institution(pb::Institution::decode(bytes).map_err(malformed)?)
            }
            Kind::Expert => Body::Expert(pb::Expert::decode(bytes).map_err(malformed)?),
            Kind::Erasure => Body::Erasure(pb::Erasure::decode(bytes).map_err(malformed)?),
            Kind::Programme => Body::Programme(pb::Programme::decode(bytes).map_err(malformed)?),
            Kind::Confirmation => {
                Body::Confirmation(pb::Confirmation::decode(bytes).map_err(malformed)?)
            }
        };
        body.validate(rules)?;
        Ok(body)
    }

    /// Checks every body rule.
    pub fn validate(&self, rules: &Rules) -> Result<(), BodyError> {
        match self {
            Body::Practice(p) => practice::validate(p, rules),
            Body::Event(e) => event::validate(e, rules),
            Body::Amendment(a) => validate_amendment(a, rules),
            Body::Retraction(r) => crate::validate::retraction(r, rules),
            Body::ReformProfile(p) => reform_profile::validate(p, rules),
            Body::Institution(p) => institution::validate(p, rules),
            Body::Expert(p) => expert::validate(p, rules),
            Body::Erasure(e) => erasure::validate(e, rules),
            Body::Programme(p) => programme::validate(p, rules),
            Body::Confirmation(c) => confirmation::validate(c, rules),
            Body::Erased { .. } => Ok(()),
        }
    }

    /// Whether this is the body of an erased record (deleted; only the header is kept).
    pub fn is_erased(&self) -> bool {
        matches!(self, Body::Erased { .. })
    }

    /// For an erasure, every record it erases: its target, then the target's amendments.
    pub fn erases(&self) -> Vec<RecordId> {
        match self {
            Body::Erasure(e) => erasure::erased_ids(e),
            _ => Vec::new(),
        }
    }

    /// The kind of this body.
    pub fn kind(&self) -> Kind {
        match self {
            Body::Practice(_) => Kind::Practice,
            Body::Event(_) => Kind::Event,
            Body::Amendment(_) => Kind::Amendment,
            Body::Retraction(_) => Kind::Retraction,
            Body::ReformProfile(_) => Kind::ReformProfile,
            Body::Institution(_) => Kind::Institution,
            Body::Expert(_) => Kind::Expert,
            Body::Erasure(_) => Kind::Erasure,
            Body::Programme(_) => Kind::Programme,
            Body::Confirmation(_) => Kind::Confirmation,
            Body::Erased { kind } => *kind,
        }
    }

    /// The record an amendment, retraction or erasure points at.
    pub fn target(&self) -> Option<RecordId> {
        let bytes = match self {
            Body::Amendment(a) => &a.target,
            Body::Retraction(r) => &r.target,
            Body::Erasure(e) => &e.target,
            _ => return None,
        };
        <[u8; 32]>::try_from(bytes.as_slice()).ok().map(RecordId)
    }

    /// For an amendment, the kind of its new content.
    pub fn amended_kind(&self) -> Option<Kind> {
        match self {
            Body::Amendment(a) => match a.content {
                Some(pb::amendment::Content::Practice(_)) => Some(Kind::Practice),
                Some(pb::amendment::Content::Event(_)) => Some(Kind::Event),
                Some(pb::amendment::Content::ReformProfile(_)) => Some(Kind::ReformProfile),
                Some(pb::amendment::Content::Institution(_)) => Some(Kind::Institution),
                Some(pb::amendment::Content::Expert(_)) => Some(Kind::Expert),
                Some(pb::amendment::Content::Programme(_)) => Some(Kind::Programme),
                None => None,
            },
            _ => None,
        }
    }

    /// The encoded body message (empty for an erased body).
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Body::Practice(p) => p.encode_to_vec(),
            Body::Event(e) => e.encode_to_vec(),
            Body::Amendment(a) => a.encode_to_vec(),
            Body::Retraction(r) => r.encode_to_vec(),
            Body::ReformProfile(p) => p.encode_to_vec(),
            Body::Institution(p) => p.encode_to_vec(),
            Body::Expert(p) => p.encode_to_vec(),
            Body::Erasure(e) => e.encode_to_vec(),
            Body::Programme(p) => p.encode_to_vec(),
            Body::Confirmation(c) => c.encode_to_vec(),
            Body::Erased { .. } => Vec::new(),
        }
    }

    /// The content kind's message in force in this body: its own, or an amendment's new
    /// version (`None` for a retraction).
    fn reform_profile(&self) -> Option<&pb::ReformProfile> {
        match self.content()? {
            Content::ReformProfile(p) => Some(p),
            _ => None,
        }
    }

    /// The content message in force in this body: its own, or an amendment's new version
    /// (`None` for a retraction or an amendment without content).
    fn content(&self) -> Option<Content<'_>> {
        Some(match self {
            Body::Practice(p) => Content::Practice(p),
            Body::Event(e) => Content::Event(e),
            Body::ReformProfile(p) => Content::ReformProfile(p),
            Body::Institution(p) => Content::Institution(p),
            Body::Expert(p) => Content::Expert(p),
            Body::Programme(p) => Content::Programme(p),
            Body::Amendment(a) => match a.content.as_ref()? {
                pb::amendment::Content::Practice(p) => Content::Practice(p),
                pb::amendment::Content::Event(e) => Content::Event(e),
                pb::amendment::Content::ReformProfile(p) => Content::ReformProfile(p),
                pb::amendment::Content::Institution(p) => Content::Institution(p),
                pb::amendment::Content::Expert(p) => Content::Expert(p),
                pb::amendment::Content::Programme(p) => Content::Programme(p),
            },
            Body::Retraction(_)
            | Body::Erasure(_)
            | Body::Confirmation(_)
            | Body::Erased { .. } => {
                return None;
            }
        })
    }

    /// The institution records the content in force names, each with the field that names it
    /// (`institution_ids[0]`, `parent`, `institution.id`, `affiliations[1].organisation.id`):
    /// each must be an institution record the verifying node holds (`chain::check_references`).
    /// Ids that are not 32 bytes are left out (the body rules refuse them).
    pub fn institution_refs(&self) -> Vec<(String, RecordId)> {
        let id = |b: &[u8]| <[u8; 32]>::try_from(b).ok().map(RecordId);
        let listed = |ids: &[Vec<u8>]| {
            ids.iter()
                .enumerate()
                .filter_map(|(i, b)| Some((format!("institution_ids[{i}]"), id(b)?)))
                .collect::<Vec<_>>()
        };
        match self.content() {
            Some(Content::Practice(p)) => listed(&p.institution_ids),
            Some(Content::Event(e)) => listed(&e.institution_ids),
            Some(Content::ReformProfile(p)) => listed(&p.institution_ids),
            Some(Content::Institution(p)) => id(&p.parent)
                .map(|i| ("parent".to_owned(), i))
                .into_iter()
                .collect(),
            Some(Content::Expert(p)) => {
                let mut out = Vec::new();
                if let Some(pb::expert::Institution::InstitutionId(b)) = &p.institution
                    && let Some(i) = id(b)
                {
                    out.push(("institution.id".to_owned(), i));
                }
                for (n, a) in p.affiliations.iter().enumerate() {
                    if let Some(pb::affiliation::Organisation::OrganisationId(b)) = &a.organisation
                        && let Some(i) = id(b)
                    {
                        out.push((format!("affiliations[{n}].organisation.id"), i));
                    }
                }
                out
            }
            Some(Content::Programme(p)) => {
                let mut out = Vec::new();
                for (n, x) in p.participants.iter().enumerate() {
                    if let Some(pb::participant::Who::InstitutionId(b)) = &x.who
                        && let Some(i) = id(b)
                    {
                        out.push((format!("participants[{n}].institution"), i));
                    }
                }
                out.extend(listed(&p.institution_ids));
                out
            }
            None => Vec::new(),
        }
    }

    /// Every record the body names that the verifying node must hold, each with the field that
    /// names it and the kind it must be (`chain::check_references`): the institutions of
    /// [`Body::institution_refs`], a programme's links (`practice_ids[0]`: a practice,
    /// `related[1].id`: a programme, ...) and a confirmation's programme.
    pub fn record_refs(&self) -> Vec<(String, RecordId, Kind)> {
        let id = |b: &[u8]| <[u8; 32]>::try_from(b).ok().map(RecordId);
        let mut out: Vec<(String, RecordId, Kind)> = self
            .institution_refs()
            .into_iter()
            .map(|(field, i)| (field, i, Kind::Institution))
            .collect();
        if let Some(Content::Programme(p)) = self.content() {
            for (field, ids) in programme::links(p) {
                let kind = match field {
                    "practice_ids" => Kind::Practice,
                    "event_ids" => Kind::Event,
                    "reform_profile_ids" => Kind::ReformProfile,
                    "expert_ids" => Kind::Expert,
                    // institution_ids: already among the institution references.
                    _ => continue,
                };
                for (n, b) in ids.iter().enumerate() {
                    if let Some(i) = id(b) {
                        out.push((format!("{field}[{n}]"), i, kind));
                    }
                }
            }
            for (n, r) in p.related.iter().enumerate() {
                if let Some(i) = id(&r.id) {
                    out.push((format!("related[{n}].id"), i, Kind::Programme));
                }
            }
        }
        if let Body::Confirmation(c) = self
            && let Some(i) = id(&c.programme)
        {
            out.push(("programme".to_owned(), i, Kind::Programme));
        }
        out
    }

    /// The member codes the content in force names as participants, each with its field
    /// (`participants[2].member`): each must be a member of the charter ([`Body::check_members`]).
    pub fn member_refs(&self) -> Vec<(String, &str)> {
        match self.content() {
            Some(Content::Programme(p)) => p
                .participants
                .iter()
                .enumerate()
                .filter_map(|(n, x)| match &x.who {
                    Some(pb::participant::Who::Member(code)) => {
                        Some((format!("participants[{n}].member"), code.as_str()))
                    }
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Checks that every member code the body names ([`Body::member_refs`]) is a member:
    /// `is_member` answers for the charter the record is judged by.
    pub fn check_members(&self, is_member: impl Fn(&str) -> bool) -> Result<(), BodyError> {
        for (field, code) in self.member_refs() {
            if !is_member(code) {
                return Err(BodyError::NotAMember {
                    field,
                    value: code.to_owned(),
                });
            }
        }
        Ok(())
    }

    /// For a programme or an amendment of one (record `id`), the version it is: the programme's
    /// id (its own, or the amendment's target) and the member codes it lists as participants
    /// (what a confirmation of it is judged by, `chain::check_confirmation`).
    pub fn programme_version(&self, id: RecordId) -> Option<(RecordId, Vec<String>)> {
        let Some(Content::Programme(p)) = self.content() else {
            return None;
        };
        let programme = match self {
            Body::Amendment(_) => self.target()?,
            _ => id,
        };
        let members = programme::member_participants(p)
            .into_iter()
            .map(str::to_owned)
            .collect();
        Some((programme, members))
    }

    /// For a confirmation, the programme and the version it names.
    pub fn confirms(&self) -> Option<(RecordId, RecordId)> {
        match self {
            Body::Confirmation(c) => confirmation::names(c),
            _ => None,
        }
    }

    /// The previous profile a reform profile (or an amendment's new version of one) names.
    pub fn previous(&self) -> Option<RecordId> {
        let p = self.reform_profile()?;
        <[u8; 32]>::try_from(p.previous.as_slice())
            .ok()
            .map(RecordId)
    }

    /// The rules that bind a body to its author `member` (a member code): a reform profile
    /// states its own member's reforms, an expert is listed under its publisher, a programme is
    /// published by its lead.
    pub fn check_author(&self, member: &str) -> Result<(), BodyError> {
        if let Some(Content::Programme(p)) = self.content() {
            // A programme is published by its lead.
            let lead = programme::lead(p).unwrap_or_default();
            if lead != member {
                return Err(BodyError::LeadNotAuthor {
                    field: "participants".into(),
                    lead: lead.to_owned(),
                    member: member.into(),
                });
            }
            return Ok(());
        }
        let country = match self.content() {
            Some(Content::ReformProfile(p)) => &p.country,
            // An expert is listed under the member that publishes it.
            Some(Content::Expert(p)) => &p.country,
            _ => return Ok(()),
        };
        if country != member {
            return Err(BodyError::CountryNotAuthor {
                field: "country".into(),
                country: country.clone(),
                member: member.into(),
            });
        }
        Ok(())
    }
}

/// A content kind's message, borrowed (the protocol's own dispatch; the node has its own).
#[derive(Clone, Copy)]
enum Content<'a> {
    Practice(&'a pb::Practice),
    Event(&'a pb::Event),
    ReformProfile(&'a pb::ReformProfile),
    Institution(&'a pb::Institution),
    Expert(&'a pb::Expert),
    Programme(&'a pb::Programme),
}

/// Checks an amendment body (the target's existence and author are chain rules).
fn validate_amendment(a: &pb::Amendment, rules: &Rules) -> Result<(), BodyError> {
    digest("target", &a.target)?;
    let v = Checker::new(rules);
    v.localized("note", a.note.as_ref(), Size::Summary, false)?;
    match &a.content {
        Some(pb::amendment::Content::Practice(p)) => practice::validate(p, rules),
        Some(pb::amendment::Content::Event(e)) => event::validate(e, rules),
        Some(pb::amendment::Content::ReformProfile(p)) => reform_profile::validate(p, rules),
        Some(pb::amendment::Content::Institution(p)) => institution::validate(p, rules),
        Some(pb::amendment::Content::Expert(p)) => expert::validate(p, rules),
        Some(pb::amendment::Content::Programme(p)) => programme::validate(p, rules),
        None => Err(BodyError::MissingField {
            field: "record".into(),
        }),
    }
}

/// A draft of any kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Draft {
    /// A practice.
    Practice(PracticeDraft),
    /// An event.
    Event(EventDraft),
    /// An amendment.
    Amendment(AmendmentDraft),
    /// A retraction.
    Retraction(RetractionDraft),
    /// A reform profile.
    ReformProfile(ReformProfileDraft),
    /// An institution.
    Institution(InstitutionDraft),
    /// An expert.
    Expert(ExpertDraft),
    /// An erasure.
    Erasure(ErasureDraft),
    /// A programme.
    Programme(ProgrammeDraft),
    /// A confirmation.
    Confirmation(ConfirmationDraft),
}

impl Draft {
    /// Builds and validates the record body; `author_country` fills absent countries, and
    /// `rules.created_at`, when known ([`Rules::at`]), an expert's absent `reconfirm_by`.
    pub fn to_body(&self, author_country: &str, rules: &Rules) -> Result<Body, DraftError> {
        let body = self.build_body_at(author_country, rules.created_date())?;
        body.validate(rules)?;
        body.check_author(author_country)?;
        Ok(body)
    }

    /// Builds the record body without checking the body rules (no creation date known).
    #[cfg(test)]
    pub(crate) fn build_body(&self, author_country: &str) -> Result<Body, DraftError> {
        self.build_body_at(author_country, None)
    }

    fn build_body_at(
        &self,
        author_country: &str,
        created: Option<chrono::NaiveDate>,
    ) -> Result<Body, DraftError> {
        Ok(match self {
            Draft::Practice(p) => Body::Practice(p.to_proto(author_country)?),
            Draft::Event(e) => Body::Event(e.to_proto(author_country)?),
            Draft::Amendment(a) => {
                let content = match a.record.as_ref() {
                    Draft::Practice(p) => {
                        pb::amendment::Content::Practice(p.to_proto(author_country)?)
                    }
                    Draft::Event(e) => pb::amendment::Content::Event(e.to_proto(author_country)?),
                    Draft::ReformProfile(p) => {
                        pb::amendment::Content::ReformProfile(p.to_proto(author_country)?)
                    }
                    Draft::Institution(p) => {
                        pb::amendment::Content::Institution(p.to_proto(author_country)?)
                    }
                    Draft::Expert(p) => {
                        pb::amendment::Content::Expert(p.to_proto(author_country, created)?)
                    }
                    Draft::Programme(p) => pb::amendment::Content::Programme(p.to_proto()?),
                    Draft::Amendment(_)
                    | Draft::Retraction(_)
                    | Draft::Erasure(_)
                    | Draft::Confirmation(_) => {
                        return Err(DraftError::NestedAmendment);
                    }
                };
                Body::Amendment(pb::Amendment {
                    target: parse_target(&a.target)?,
                    note: localized(a.note.as_ref()),
                    content: Some(content),
                })
            }
            Draft::Retraction(r) => Body::Retraction(pb::Retraction {
                target: parse_target(&r.target)?,
                reason: Some(pb::LocalizedText {
                    text: r.reason.clone(),
                }),
            }),
            Draft::ReformProfile(p) => Body::ReformProfile(p.to_proto(author_country)?),
            Draft::Institution(p) => Body::Institution(p.to_proto(author_country)?),
            Draft::Expert(p) => Body::Expert(p.to_proto(author_country, created)?),
            Draft::Erasure(e) => Body::Erasure(e.to_proto()?),
            Draft::Programme(p) => Body::Programme(p.to_proto()?),
            Draft::Confirmation(c) => Body::Confirmation(c.to_proto()?),
        })
    }

    /// The draft view of a body (for display as JSON); `None` for an erased body.
    pub fn from_body(body: &Body) -> Option<Self> {
        Some(match body {
            Body::Practice(p) => Draft::Practice(PracticeDraft::from_proto(p)),
            Body::Event(e) => Draft::Event(EventDraft::from_proto(e)),
            Body::Amendment(a) => Draft::Amendment(AmendmentDraft {
                target: hex::encode(&a.target),
                record: Box::new(match &a.content {
                    Some(pb::amendment::Content::Event(e)) => {
                        Draft::Event(EventDraft::from_proto(e))
                    }
                    Some(pb::amendment::Content::Practice(p)) => {
                        Draft::Practice(PracticeDraft::from_proto(p))
                    }
                    Some(pb::amendment::Content::ReformProfile(p)) => {
                        Draft::ReformProfile(ReformProfileDraft::from_proto(p))
                    }
                    Some(pb::amendment::Content::Institution(p)) => {
                        Draft::Institution(InstitutionDraft::from_proto(p))
                    }
                    Some(pb::amendment::Content::Expert(p)) => {
                        Draft::Expert(ExpertDraft::from_proto(p))
                    }
                    Some(pb::amendment::Content::Programme(p)) => {
                        Draft::Programme(ProgrammeDraft::from_proto(p))
                    }
                    None => Draft::Practice(PracticeDraft::default()),
                }),
                note: opt_map(a.note.as_ref()),
            }),
            Body::Retraction(r) => Draft::Retraction(RetractionDraft {
                target: hex::encode(&r.target),
                reason: r.reason.clone().map(|t| t.text).unwrap_or_default(),
            }),
            Body::ReformProfile(p) => Draft::ReformProfile(ReformProfileDraft::from_proto(p)),
            Body::Institution(p) => Draft::Institution(InstitutionDraft::from_proto(p)),
            Body::Expert(p) => Draft::Expert(ExpertDraft::from_proto(p)),
            Body::Erasure(e) => Draft::Erasure(ErasureDraft::from_proto(e)),
            Body::Programme(p) => Draft::Programme(ProgrammeDraft::from_proto(p)),
            Body::Confirmation(c) => Draft::Confirmation(ConfirmationDraft::from_proto(c)),
            Body::Erased { .. } => return None,
        })
    }
}

#[cfg(test)]
mod tests;

/// What the kinds' tests share.
#[cfg(test)]
pub(crate) mod test_support {
    use crate::charter::Charter;
    use crate::keys::SecretKey;

    /// 2027-01-15T08:00:00Z: when the kinds' tests sign.
    pub(crate) const NOW: i64 = 1_800_000_000_000;

    /// The sample charter of three members, HUB, KZ and KG (keys 0, 1, 2), verified, and their
    /// publishing keys.
    pub(crate) fn net() -> (Charter, Vec<SecretKey>) {
        let (doc, keys, _) = crate::charter::tests::sample(3);
        (doc.verify().expect("valid sample charter"), keys)
    }
}
