//! The charter's limits on records.

use serde::{Deserialize, Serialize};

/// A limits amendment that lowers limits in force: each as (name, in force, proposed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "limits may only be raised, so that no record valid once becomes invalid; this lowers {}",
    describe(.0)
)]
pub struct LoweredLimits(pub Vec<(&'static str, u64, u64)>);

fn describe(lowered: &[(&'static str, u64, u64)]) -> String {
    lowered
        .iter()
        .map(|(name, old, new)| format!("{name} from {old} to {new}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How much a limit allows, for comparing an amendment with the limits in force: the rate
/// limit's 0 (no limit) allows the most.
fn strictness(name: &str, value: u64) -> u64 {
    if name == "max_records_per_hour" && value == 0 {
        u64::MAX
    } else {
        value
    }
}

/// Why a limits amendment would be void (docs/PROTOCOL.md §7).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmendmentError {
    /// It would take effect before the limits in force did.
    #[error("effective_from is before the limits in force (from {0} ms)")]
    BeforeLimitsInForce(i64),
    /// It lowers limits in force.
    #[error(transparent)]
    Lowers(#[from] LoweredLimits),
}

/// Size and time limits every record must respect; part of the charter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest encoded `SignedRecord`, in bytes.
    pub max_record_bytes: u64,
    /// How far in the future a record's `created_at` may lie, in seconds.
    pub max_clock_skew_secs: u64,
    /// Largest title, name or other short text, in bytes per language.
    pub max_short_text_bytes: u64,
    /// Largest summary, description, results or reason, in bytes per language.
    pub max_summary_bytes: u64,
    /// Largest Markdown body, in bytes per language.
    pub max_body_bytes: u64,
    /// Most items in any list (topics, contacts, links, ...).
    pub max_list_items: u64,
    /// Most languages in one localized text.
    pub max_languages: u64,
    /// Longest URL, in bytes.
    pub max_url_bytes: u64,
    /// Most records one key may sign within any hour of `created_at` (the rate rule,
    /// docs/PROTOCOL.md §2); 0 means no limit. A charter that does not name it has none, so
    /// charters written before the rule keep their bytes; new charters start with
    /// [`Limits::DEFAULT`]'s.
    #[serde(default)]
    pub max_records_per_hour: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl Limits {
    /// The defaults a new charter starts with.
    pub const DEFAULT: Limits = Limits {
        max_record_bytes: 256 * 1024,
        max_clock_skew_secs: 300,
        max_short_text_bytes: 512,
        max_summary_bytes: 4096,
        max_body_bytes: 64 * 1024,
        max_list_items: 32,
        max_languages: 16,
        max_url_bytes: 2048,
        max_records_per_hour: 1000,
    };

    /// The rate rule's limit in force, `None` when there is none.
    pub fn records_per_hour(&self) -> Option<u64> {
        (self.max_records_per_hour > 0).then_some(self.max_records_per_hour)
    }
}

impl Limits {
    /// Every limit by name, in declaration order. (Destructured without `..`: a new limit does
    /// not compile until it is listed, so none escapes [`Limits::check_raised`].)
    pub fn fields(&self) -> [(&'static str, u64); 9] {
        let Limits {
            max_record_bytes,
            max_clock_skew_secs,
            max_short_text_bytes,
            max_summary_bytes,
            max_body_bytes,
            max_list_items,
            max_languages,
            max_url_bytes,
            max_records_per_hour,
        } = *self;
        [
            ("max_record_bytes", max_record_bytes),
            ("max_clock_skew_secs", max_clock_skew_secs),
            ("max_short_text_bytes", max_short_text_bytes),
            ("max_summary_bytes", max_summary_bytes),
            ("max_body_bytes", max_body_bytes),
            ("max_list_items", max_list_items),
            ("max_languages", max_languages),
            ("max_url_bytes", max_url_bytes),
            ("max_records_per_hour", max_records_per_hour),
        ]
    }

    /// Checks an amendment to `new` from `effective_from` against `self`, the limits in force
    /// from `in_force_from` (`i64::MIN`: the charter's): the one rule every node applies and a
    /// proposer checks first.
    pub fn check_amendment(
        &self,
        in_force_from: i64,
        new: &Limits,
        effective_from: i64,
    ) -> Result<(), AmendmentError> {
        if effective_from < in_force_from {
            return Err(AmendmentError::BeforeLimitsInForce(in_force_from));
        }
        Ok(self.check_raised(new)?)
    }

    /// Checks that `new` raises or keeps every limit of `self`. An amendment may only raise
    /// limits, so that no record valid once becomes invalid (docs/PROTOCOL.md §7).
    pub fn check_raised(&self, new: &Limits) -> Result<(), LoweredLimits> {
        let lowered: Vec<(&'static str, u64, u64)> = self
            .fields()
            .into_iter()
            .zip(new.fields())
            .filter(|((name, old), (_, new))| strictness(name, *new) < strictness(name, *old))
            .map(|((name, old), (_, new))| (name, old, new))
            .collect();
        if lowered.is_empty() {
            Ok(())
        } else {
            Err(LoweredLimits(lowered))
        }
    }

    pub(crate) fn to_proto(self) -> hubnet_proto::v1::Limits {
        hubnet_proto::v1::Limits {
            max_record_bytes: self.max_record_bytes,
            max_clock_skew_secs: self.max_clock_skew_secs,
            max_short_text_bytes: self.max_short_text_bytes,
            max_summary_bytes: self.max_summary_bytes,
            max_body_bytes: self.max_body_bytes,
            max_list_items: self.max_list_items,
            max_languages: self.max_languages,
            max_url_bytes: self.max_url_bytes,
            max_records_per_hour: self.max_records_per_hour,
        }
    }

    pub(crate) fn from_proto(p: &hubnet_proto::v1::Limits) -> Self {
        Self {
            max_record_bytes: p.max_record_bytes,
            max_clock_skew_secs: p.max_clock_skew_secs,
            max_short_text_bytes: p.max_short_text_bytes,
            max_summary_bytes: p.max_summary_bytes,
            max_body_bytes: p.max_body_bytes,
            max_list_items: p.max_list_items,
            max_languages: p.max_languages,
            max_url_bytes: p.max_url_bytes,
            max_records_per_hour: p.max_records_per_hour,
        }
    }
}
