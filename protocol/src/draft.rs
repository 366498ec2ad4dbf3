//! Drafts: the TOML or JSON documents people write, and their conversion to record bodies.
//!
//! The format is documented in `docs/DRAFTS.md`. Unknown fields are refused, so a typo is never
//! silently dropped. [`Draft::from_body`] gives the reverse view, used to show records as JSON.

use std::collections::BTreeMap;

use hubnet_proto::v1 as pb;
use serde::{Deserialize, Serialize};

use crate::id::RecordId;
use crate::keys::parse_hex32;
use crate::limits::Limits;
use crate::record::Body;
use crate::validate::BodyError;

/// Why a draft cannot become a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DraftError {
    /// A field the format does not have.
    #[error("draft has an unknown field: {0}")]
    UnknownField(String),
    /// A required field is absent.
    #[error("draft is missing a required field: {0}")]
    MissingField(String),
    /// Not valid TOML/JSON, or a value of the wrong type.
    #[error("draft does not parse: {0}")]
    Syntax(String),
    /// A target that is not a record id.
    #[error("target {0:?} is not a record id (64 hex characters)")]
    BadTarget(String),
    /// An attachment hash that is not 64 hex characters.
    #[error("attachments[{index}].sha256 {value:?} is not 64 hex characters")]
    BadHash {
        /// Attachment index.
        index: usize,
        /// The value.
        value: String,
    },
    /// An amendment whose `record` is itself an amendment or retraction.
    #[error("an amendment's record must be a practice or an event")]
    NestedAmendment,
    /// The draft parses but breaks a record rule.
    #[error(transparent)]
    Invalid(#[from] BodyError),
}

/// Localized text: language tag to text.
pub type Localized = BTreeMap<String, String>;

/// A draft of any kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Draft {
    /// A practice.
    Practice(PracticeDraft),
    /// An event.
    Event(EventDraft),
    /// An amendment.
    Amendment(AmendmentDraft),
    /// A retraction.
    Retraction(RetractionDraft),
}

/// A practice draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PracticeDraft {
    /// Title.
    pub title: Localized,
    /// Summary.
    pub summary: Localized,
    /// Topic slugs.
    pub topics: Vec<String>,
    /// Markdown body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Localized>,
    /// Country; defaults to the author's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Reform period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reform_period: Option<PeriodDraft>,
    /// Institutions involved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub institutions: Vec<Localized>,
    /// Results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<Localized>,
    /// Contacts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<ContactDraft>,
    /// Links.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<LinkDraft>,
    /// Attachments by hash.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentDraft>,
    /// SPDX licence id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
}

/// A reform period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodDraft {
    /// Partial date.
    pub start: String,
    /// Partial date; absent while ongoing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

/// A contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactDraft {
    /// Name.
    pub name: String,
    /// Role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// E-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// A link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkDraft {
    /// URL.
    pub url: String,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Localized>,
}

/// An attachment by hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentDraft {
    /// File name.
    pub name: String,
    /// Media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// SHA-256, 64 hex characters.
    pub sha256: String,
    /// Size in bytes.
    #[serde(default)]
    pub size: u64,
    /// Where to fetch it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Event types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventType {
    /// Conference.
    Conference,
    /// Training.
    Training,
    /// Webinar.
    Webinar,
    /// Study visit.
    StudyVisit,
    /// Call for proposals, papers or experts.
    Call,
}

/// Event status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum EventStatus {
    /// Takes place as announced.
    #[default]
    Scheduled,
    /// Moved to a date not yet known or announced by amendment.
    Postponed,
    /// Will not take place.
    Cancelled,
}

/// An event draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventDraft {
    /// Title.
    pub title: Localized,
    /// Type.
    pub event_type: EventType,
    /// Local start date-time.
    pub start: String,
    /// IANA time zone.
    pub time_zone: String,
    /// Local end date-time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Localized>,
    /// Venue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<PlaceDraft>,
    /// Online link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online_url: Option<String>,
    /// Organiser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organiser: Option<Localized>,
    /// Working languages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// Registration link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_url: Option<String>,
    /// Registration deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_deadline: Option<String>,
    /// Status.
    #[serde(default)]
    pub status: EventStatus,
    /// Topic slugs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    /// Hosting country; defaults to the author's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// A venue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PlaceDraft {
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Localized>,
    /// Address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Localized>,
    /// Country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// An amendment draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmendmentDraft {
    /// Record id of the original.
    pub target: String,
    /// The new version.
    pub record: Box<Draft>,
    /// What changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Localized>,
}

/// A retraction draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetractionDraft {
    /// Record id of the original.
    pub target: String,
    /// Why.
    pub reason: Localized,
}

/// Draft file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftFormat {
    /// JSON.
    Json,
    /// TOML.
    Toml,
}

impl Draft {
    /// Parses draft text.
    pub fn parse(text: &str, format: DraftFormat) -> Result<Self, DraftError> {
        // serde's own message (what was wrong) decides the variant; the shown text also says where.
        let (core, shown) = match format {
            DraftFormat::Json => match serde_json::from_str(text) {
                Ok(d) => return Ok(d),
                Err(e) => (e.to_string(), e.to_string()),
            },
            DraftFormat::Toml => match toml::from_str::<Draft>(text) {
                Ok(d) => return Ok(d),
                Err(e) => (e.message().to_owned(), e.to_string()),
            },
        };
        let shown = shown.split_whitespace().collect::<Vec<_>>().join(" ");
        Err(
            if core.starts_with("unknown field") || core.starts_with("unknown variant") {
                DraftError::UnknownField(shown)
            } else if core.starts_with("missing field") {
                DraftError::MissingField(shown)
            } else {
                DraftError::Syntax(shown)
            },
        )
    }

    /// Builds and validates the record body; `author_country` fills absent countries.
    pub fn to_body(&self, author_country: &str, limits: &Limits) -> Result<Body, DraftError> {
        let body = self.build_body(author_country)?;
        body.validate(limits)?;
        Ok(body)
    }

    /// Builds the record body without checking the body rules.
    pub(crate) fn build_body(&self, author_country: &str) -> Result<Body, DraftError> {
        Ok(match self {
            Draft::Practice(p) => Body::Practice(p.to_proto(author_country)?),
            Draft::Event(e) => Body::Event(e.to_proto(author_country)),
            Draft::Amendment(a) => {
                let content = match a.record.as_ref() {
                    Draft::Practice(p) => {
                        pb::amendment::Content::Practice(p.to_proto(author_country)?)
                    }
                    Draft::Event(e) => pb::amendment::Content::Event(e.to_proto(author_country)),
                    _ => return Err(DraftError::NestedAmendment),
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
        })
    }

    /// The draft view of a body (for display as JSON).
    pub fn from_body(body: &Body) -> Self {
        match body {
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
                    None => Draft::Practice(PracticeDraft::default()),
                }),
                note: opt_map(a.note.as_ref()),
            }),
            Body::Retraction(r) => Draft::Retraction(RetractionDraft {
                target: hex::encode(&r.target),
                reason: r.reason.clone().map(|t| t.text).unwrap_or_default(),
            }),
        }
    }
}

fn parse_target(s: &str) -> Result<Vec<u8>, DraftError> {
    parse_hex32(s)
        .map(|b| RecordId(b).0.to_vec())
        .map_err(|_| DraftError::BadTarget(s.to_owned()))
}

fn localized(map: Option<&Localized>) -> Option<pb::LocalizedText> {
    map.map(|m| pb::LocalizedText { text: m.clone() })
}

fn opt_map(t: Option<&pb::LocalizedText>) -> Option<Localized> {
    t.map(|t| t.text.clone())
}

fn opt_str(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

impl PracticeDraft {
    fn to_proto(&self, author_country: &str) -> Result<pb::Practice, DraftError> {
        let mut attachments = Vec::with_capacity(self.attachments.len());
        for (index, a) in self.attachments.iter().enumerate() {
            let sha256 = parse_hex32(&a.sha256).map_err(|_| DraftError::BadHash {
                index,
                value: a.sha256.clone(),
            })?;
            attachments.push(pb::Attachment {
                name: a.name.clone(),
                media_type: a.media_type.clone().unwrap_or_default(),
                sha256: sha256.to_vec(),
                size: a.size,
                url: a.url.clone().unwrap_or_default(),
            });
        }
        Ok(pb::Practice {
            title: localized(Some(&self.title)),
            summary: localized(Some(&self.summary)),
            body: localized(self.body.as_ref()),
            country: self
                .country
                .clone()
                .unwrap_or_else(|| author_country.to_owned()),
            topics: self.topics.clone(),
            reform_period: self.reform_period.as_ref().map(|p| pb::Period {
                start: p.start.clone(),
                end: p.end.clone().unwrap_or_default(),
            }),
            institutions: self
                .institutions
                .iter()
                .map(|i| pb::LocalizedText { text: i.clone() })
                .collect(),
            results: localized(self.results.as_ref()),
            contacts: self
                .contacts
                .iter()
                .map(|c| pb::Contact {
                    name: c.name.clone(),
                    role: c.role.clone().unwrap_or_default(),
                    organisation: c.organisation.clone().unwrap_or_default(),
                    email: c.email.clone().unwrap_or_default(),
                    phone: c.phone.clone().unwrap_or_default(),
                })
                .collect(),
            links: self
                .links
                .iter()
                .map(|l| pb::Link {
                    url: l.url.clone(),
                    title: localized(l.title.as_ref()),
                })
                .collect(),
            attachments,
            license: self.license.clone().unwrap_or_default(),
        })
    }

    /// The draft view of a decoded message.
    pub fn from_proto(p: &pb::Practice) -> Self {
        Self {
            title: opt_map(p.title.as_ref()).unwrap_or_default(),
            summary: opt_map(p.summary.as_ref()).unwrap_or_default(),
            topics: p.topics.clone(),
            body: opt_map(p.body.as_ref()),
            country: opt_str(&p.country),
            reform_period: p.reform_period.as_ref().map(|r| PeriodDraft {
                start: r.start.clone(),
                end: opt_str(&r.end),
            }),
            institutions: p.institutions.iter().map(|i| i.text.clone()).collect(),
            results: opt_map(p.results.as_ref()),
            contacts: p
                .contacts
                .iter()
                .map(|c| ContactDraft {
                    name: c.name.clone(),
                    role: opt_str(&c.role),
                    organisation: opt_str(&c.organisation),
                    email: opt_str(&c.email),
                    phone: opt_str(&c.phone),
                })
                .collect(),
            links: p
                .links
                .iter()
                .map(|l| LinkDraft {
                    url: l.url.clone(),
                    title: opt_map(l.title.as_ref()),
                })
                .collect(),
            attachments: p
                .attachments
                .iter()
                .map(|a| AttachmentDraft {
                    name: a.name.clone(),
                    media_type: opt_str(&a.media_type),
                    sha256: hex::encode(&a.sha256),
                    size: a.size,
                    url: opt_str(&a.url),
                })
                .collect(),
            license: opt_str(&p.license),
        }
    }
}

impl EventDraft {
    fn to_proto(&self, author_country: &str) -> pb::Event {
        let event_type = match self.event_type {
            EventType::Conference => pb::EventType::Conference,
            EventType::Training => pb::EventType::Training,
            EventType::Webinar => pb::EventType::Webinar,
            EventType::StudyVisit => pb::EventType::StudyVisit,
            EventType::Call => pb::EventType::Call,
        };
        let status = match self.status {
            EventStatus::Scheduled => pb::EventStatus::Scheduled,
            EventStatus::Postponed => pb::EventStatus::Postponed,
            EventStatus::Cancelled => pb::EventStatus::Cancelled,
        };
        pb::Event {
            title: localized(Some(&self.title)),
            description: localized(self.description.as_ref()),
            event_type: event_type as i32,
            start: self.start.clone(),
            end: self.end.clone().unwrap_or_default(),
            time_zone: self.time_zone.clone(),
            place: self.place.as_ref().map(|p| pb::Place {
                name: localized(p.name.as_ref()),
                address: localized(p.address.as_ref()),
                country: p
                    .country
                    .clone()
                    .unwrap_or_else(|| author_country.to_owned()),
            }),
            online_url: self.online_url.clone().unwrap_or_default(),
            organiser: localized(self.organiser.as_ref()),
            languages: self.languages.clone(),
            registration_url: self.registration_url.clone().unwrap_or_default(),
            registration_deadline: self.registration_deadline.clone().unwrap_or_default(),
            status: status as i32,
            topics: self.topics.clone(),
            country: self
                .country
                .clone()
                .unwrap_or_else(|| author_country.to_owned()),
        }
    }

    /// The draft view of a decoded message.
    pub fn from_proto(e: &pb::Event) -> Self {
        let event_type = match pb::EventType::try_from(e.event_type) {
            Ok(pb::EventType::Training) => EventType::Training,
            Ok(pb::EventType::Webinar) => EventType::Webinar,
            Ok(pb::EventType::StudyVisit) => EventType::StudyVisit,
            Ok(pb::EventType::Call) => EventType::Call,
            _ => EventType::Conference,
        };
        let status = match pb::EventStatus::try_from(e.status) {
            Ok(pb::EventStatus::Postponed) => EventStatus::Postponed,
            Ok(pb::EventStatus::Cancelled) => EventStatus::Cancelled,
            _ => EventStatus::Scheduled,
        };
        Self {
            title: opt_map(e.title.as_ref()).unwrap_or_default(),
            event_type,
            start: e.start.clone(),
            time_zone: e.time_zone.clone(),
            end: opt_str(&e.end),
            description: opt_map(e.description.as_ref()),
            place: e.place.as_ref().map(|p| PlaceDraft {
                name: opt_map(p.name.as_ref()),
                address: opt_map(p.address.as_ref()),
                country: opt_str(&p.country),
            }),
            online_url: opt_str(&e.online_url),
            organiser: opt_map(e.organiser.as_ref()),
            languages: e.languages.clone(),
            registration_url: opt_str(&e.registration_url),
            registration_deadline: opt_str(&e.registration_deadline),
            status,
            topics: e.topics.clone(),
            country: opt_str(&e.country),
        }
    }
}
