//! The erasure kind: an author erases one of its records and that record's amendments
//! (docs/PROTOCOL.md §2.1). Its message is `Erasure` in `proto/hubnet/v1/record.proto`; here are
//! its body rules, its grounds and its draft format. Which records an erasure may name is a chain
//! rule ([`crate::chain::check_erasure`]); what a node then does with the bodies is the store's.

use hubnet_proto::v1 as pb;
use serde::{Deserialize, Serialize};

use crate::draft::{DraftError, parse_target};
use crate::id::RecordId;
use crate::validate::{BodyError, Checker, R, Rules, digest};

/// Why a record was erased (`ErasureGround` in `record.proto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ground {
    /// The person the record is about withdrew their consent.
    ConsentWithdrawn,
    /// The person asked for erasure.
    ErasureRequest,
    /// The record should never have been published.
    Unlawful,
    /// A court or authority ordered it.
    Order,
}

impl Ground {
    /// Every ground, in protobuf order.
    pub const ALL: [Ground; 4] = [
        Ground::ConsentWithdrawn,
        Ground::ErasureRequest,
        Ground::Unlawful,
        Ground::Order,
    ];

    /// The name used in drafts and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Ground::ConsentWithdrawn => "consent_withdrawn",
            Ground::ErasureRequest => "erasure_request",
            Ground::Unlawful => "unlawful",
            Ground::Order => "order",
        }
    }

    /// The protobuf value.
    pub fn to_proto(self) -> pb::ErasureGround {
        match self {
            Ground::ConsentWithdrawn => pb::ErasureGround::ConsentWithdrawn,
            Ground::ErasureRequest => pb::ErasureGround::ErasureRequest,
            Ground::Unlawful => pb::ErasureGround::Unlawful,
            Ground::Order => pb::ErasureGround::Order,
        }
    }

    /// The ground of protobuf value `value`; `None` for unspecified or unknown values.
    pub fn from_proto(value: i32) -> Option<Self> {
        match pb::ErasureGround::try_from(value).ok()? {
            pb::ErasureGround::Unspecified => None,
            pb::ErasureGround::ConsentWithdrawn => Some(Ground::ConsentWithdrawn),
            pb::ErasureGround::ErasureRequest => Some(Ground::ErasureRequest),
            pb::ErasureGround::Unlawful => Some(Ground::Unlawful),
            pb::ErasureGround::Order => Some(Ground::Order),
        }
    }
}

/// Checks an erasure body: a 32-byte target, 32-byte amendment ids, none twice and none the
/// target, and a ground.
pub fn validate(e: &pb::Erasure, rules: &Rules) -> R {
    digest("target", &e.target)?;
    Checker::new(rules).list_len("amendments", e.amendments.len())?;
    let mut seen = std::collections::BTreeSet::from([e.target.as_slice()]);
    for (i, a) in e.amendments.iter().enumerate() {
        let field = format!("amendments[{i}]");
        digest(&field, a)?;
        if !seen.insert(a.as_slice()) {
            return Err(BodyError::Duplicate {
                field,
                value: hex::encode(a),
            });
        }
    }
    if Ground::from_proto(e.ground).is_none() {
        return Err(BodyError::InvalidEnum {
            field: "ground".into(),
            value: e.ground,
        });
    }
    Ok(())
}

/// Every record an erasure body erases: its target, then its amendments. Ids of the wrong length
/// (which [`validate`] refuses) are left out.
pub fn erased_ids(e: &pb::Erasure) -> Vec<RecordId> {
    std::iter::once(&e.target)
        .chain(&e.amendments)
        .filter_map(|b| <[u8; 32]>::try_from(b.as_slice()).ok().map(RecordId))
        .collect()
}

/// An erasure draft. `amendments` may be left out: the node that publishes it fills in the
/// target's amendments it holds (which are all of them: they are in the author's own log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErasureDraft {
    /// Record id (hex) of the original record to erase.
    pub target: String,
    /// Why.
    pub ground: Ground,
    /// Record ids (hex) of the target's amendments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amendments: Vec<String>,
}

impl ErasureDraft {
    /// The body message.
    pub fn to_proto(&self) -> Result<pb::Erasure, DraftError> {
        Ok(pb::Erasure {
            target: parse_target(&self.target)?,
            amendments: self
                .amendments
                .iter()
                .map(|a| parse_target(a))
                .collect::<Result<_, _>>()?,
            ground: self.ground.to_proto() as i32,
        })
    }

    /// The draft view of a body.
    pub fn from_proto(e: &pb::Erasure) -> Self {
        Self {
            target: hex::encode(&e.target),
            // A body that passed `validate` has a ground; the draft view of one that did not
            // shows the mildest.
            ground: Ground::from_proto(e.ground).unwrap_or(Ground::ErasureRequest),
            amendments: e.amendments.iter().map(hex::encode).collect(),
        }
    }
}

#[cfg(test)]
mod tests;
