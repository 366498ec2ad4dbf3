//! Drafts: the TOML or JSON documents people write, and their conversion to record bodies.
//!
//! The format is documented in `docs/DRAFTS.md`. Unknown fields are refused, so a typo is never
//! silently dropped. [`Draft::from_body`] gives the reverse view, used to show records as JSON.
//! Each kind's own draft lives with its rules in [`crate::kinds`]; here are the parts they share.

use std::collections::BTreeMap;

use hubnet_proto::v1 as pb;
use serde::{Deserialize, Serialize};

use crate::id::RecordId;
use crate::keys::parse_hex32;
use crate::validate::BodyError;

pub use crate::kinds::Draft;
pub use crate::kinds::event::{EventDraft, EventStatus, EventType, PlaceDraft};
pub use crate::kinds::practice::PracticeDraft;

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
    /// A field that must be a record id is not one.
    #[error("{field} {value:?} is not a record id (64 hex characters)")]
    BadRecordId {
        /// The field.
        field: String,
        /// The value.
        value: String,
    },
    /// A field that must be a SHA-256 digest is not 64 hex characters.
    #[error("{field} {value:?} is not a SHA-256 digest (64 hex characters)")]
    BadDigest {
        /// The field.
        field: String,
        /// The value.
        value: String,
    },
    /// An organisation given both by record id and by name, or by neither.
    #[error("{field}: give either `id` (an institution record) or `name`, not {given}")]
    IdOrName {
        /// The field.
        field: String,
        /// `both` or `neither`.
        given: &'static str,
    },
    /// A programme participant given both as a member and as an institution, or as neither.
    #[error(
        "{field}: give either `member` (a member code) or `institution` (an institution record), not {given}"
    )]
    MemberOrInstitution {
        /// The field.
        field: String,
        /// `both` or `neither`.
        given: &'static str,
    },
    /// An amendment whose `record` is itself an amendment, retraction or erasure.
    #[error(
        "an amendment's record must be a content record (a practice, an event, a reform profile, an institution, an expert or a programme)"
    )]
    NestedAmendment,
    /// The draft parses but breaks a record rule.
    #[error(transparent)]
    Invalid(#[from] BodyError),
}

/// Localized text: language tag to text.
pub type Localized = BTreeMap<String, String>;

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
}

pub(crate) fn parse_target(s: &str) -> Result<Vec<u8>, DraftError> {
    parse_hex32(s)
        .map(|b| RecordId(b).0.to_vec())
        .map_err(|_| DraftError::BadTarget(s.to_owned()))
}

/// A record id given as 64 hex characters, as bytes.
pub(crate) fn record_id(field: &str, s: &str) -> Result<Vec<u8>, DraftError> {
    parse_hex32(s)
        .map(|b| b.to_vec())
        .map_err(|_| DraftError::BadRecordId {
            field: field.to_owned(),
            value: s.to_owned(),
        })
}

/// A list of record ids (`field[i]` names a bad one).
pub(crate) fn record_ids(field: &str, ids: &[String]) -> Result<Vec<Vec<u8>>, DraftError> {
    ids.iter()
        .enumerate()
        .map(|(i, s)| record_id(&format!("{field}[{i}]"), s))
        .collect()
}

pub(crate) fn localized(map: Option<&Localized>) -> Option<pb::LocalizedText> {
    map.map(|m| pb::LocalizedText { text: m.clone() })
}

pub(crate) fn opt_map(t: Option<&pb::LocalizedText>) -> Option<Localized> {
    t.map(|t| t.text.clone())
}

pub(crate) fn opt_str(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}
