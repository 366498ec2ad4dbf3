//! The confirmation kind: a participating member's signed statement, in its own log, that it
//! stands behind a version of a joint programme (docs/PROTOCOL.md §2.2). Its message is
//! `Confirmation` in `proto/hubnet/v1/record.proto`; here are its body rules and draft format.
//! What it may name is a chain rule ([`crate::chain::check_confirmation`]); what the
//! confirmations of a programme add up to is [`crate::confirmations`]. Retracting a
//! confirmation withdraws the member.

use hubnet_proto::v1 as pb;
use serde::{Deserialize, Serialize};

use crate::draft::{DraftError, Localized, localized, opt_map, record_id};
use crate::id::RecordId;
use crate::validate::{Checker, R, Rules, Size, digest};

/// Checks a confirmation body.
pub fn validate(c: &pb::Confirmation, rules: &Rules) -> R {
    digest("programme", &c.programme)?;
    digest("version", &c.version)?;
    Checker::new(rules).localized("note", c.note.as_ref(), Size::Summary, false)
}

/// The programme and the version a confirmation names (`None` for ids that are not 32 bytes,
/// which the body rules refuse).
pub fn names(c: &pb::Confirmation) -> Option<(RecordId, RecordId)> {
    let id = |b: &[u8]| <[u8; 32]>::try_from(b).ok().map(RecordId);
    Some((id(&c.programme)?, id(&c.version)?))
}

/// A confirmation draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmationDraft {
    /// Record id of the programme.
    pub programme: String,
    /// Record id of the version confirmed (the programme or one of its amendments). A node
    /// that publishes a draft without it fills in the version in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// A note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Localized>,
}

impl ConfirmationDraft {
    pub(crate) fn to_proto(&self) -> Result<pb::Confirmation, DraftError> {
        let Some(version) = &self.version else {
            return Err(DraftError::MissingField("version".into()));
        };
        Ok(pb::Confirmation {
            programme: record_id("programme", &self.programme)?,
            version: record_id("version", version)?,
            note: localized(self.note.as_ref()),
        })
    }

    /// The draft view of a decoded message.
    pub fn from_proto(c: &pb::Confirmation) -> Self {
        Self {
            programme: hex::encode(&c.programme),
            version: Some(hex::encode(&c.version)),
            note: opt_map(c.note.as_ref()),
        }
    }
}
