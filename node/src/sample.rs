//! The sample data's plan of who stands behind each sample programme
//! (`deploy/sample/programmes.toml`): which participants confirm it and which of them then
//! withdraw. A confirmation names the programme's record id, which exists only once the lead has
//! signed it, so it cannot be a draft of its own; `hubnet devnet` and the browser tests' corpus
//! apply this plan after publishing the sample drafts, each step in the participant's own log.
//!
//! ```toml
//! [[programme]]
//! draft = "KG/50-programme-academies-curriculum.toml"  # under drafts/; its folder is the lead
//! confirm = ["TJ", "UZ"]
//! withdraw = ["UZ"]                                    # retracts UZ's confirmation
//! reason = { en = "Why UZ withdraws." }
//! ```

use std::collections::BTreeSet;

use hubnet_protocol::draft::Localized;
use serde::Deserialize;
use serde_json::{Value, json};

/// `programmes.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgrammePlan {
    /// The programmes, in the order their confirmations are published.
    #[serde(default)]
    pub programme: Vec<PlannedProgramme>,
}

/// One sample programme and who confirms it and withdraws from it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedProgramme {
    /// The programme's draft, `MEMBER/FILE.toml` under `drafts/`; `MEMBER` is the lead.
    pub draft: String,
    /// The participants that confirm it, in order.
    pub confirm: Vec<String>,
    /// The participants that then retract their confirmation.
    #[serde(default)]
    pub withdraw: Vec<String>,
    /// Why they withdraw (the retraction's reason); required with `withdraw`.
    #[serde(default)]
    pub reason: Localized,
}

/// A step of the plan, taken on the node of `member`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    /// `member` publishes a confirmation of the programme.
    Confirm {
        /// The programme.
        programme: &'a PlannedProgramme,
        /// The confirming participant.
        member: &'a str,
    },
    /// `member` retracts its confirmation of the programme.
    Withdraw {
        /// The programme.
        programme: &'a PlannedProgramme,
        /// The withdrawing participant.
        member: &'a str,
    },
}

/// Why a plan is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlanError {
    /// Not TOML of the plan's shape (an unknown field, a missing `draft` or `confirm`, ...).
    #[error("programmes.toml: {0}")]
    Toml(String),
    /// `draft` is not `MEMBER/FILE.toml`.
    #[error("programmes.toml: draft {draft:?} is not MEMBER/FILE.toml")]
    DraftPath {
        /// The draft named.
        draft: String,
    },
    /// The same draft is planned twice.
    #[error("programmes.toml: {draft} is planned twice")]
    DraftTwice {
        /// The draft.
        draft: String,
    },
    /// The lead is listed among those who confirm: it stands behind its programme by signing it.
    #[error("programmes.toml: {draft}: {member} is the lead and cannot confirm its own programme")]
    LeadConfirms {
        /// The draft.
        draft: String,
        /// The lead.
        member: String,
    },
    /// A member is listed twice in `confirm` or `withdraw`.
    #[error("programmes.toml: {draft}: {member} is listed twice in `{field}`")]
    Duplicate {
        /// The draft.
        draft: String,
        /// `confirm` or `withdraw`.
        field: &'static str,
        /// The member.
        member: String,
    },
    /// A member withdraws without having confirmed.
    #[error("programmes.toml: {draft}: {member} withdraws but is not in `confirm`")]
    WithdrawsUnconfirmed {
        /// The draft.
        draft: String,
        /// The member.
        member: String,
    },
    /// `withdraw` without a `reason`, or a `reason` with nobody withdrawing.
    #[error("programmes.toml: {draft}: `reason` goes with `withdraw` (both or neither)")]
    Reason {
        /// The draft.
        draft: String,
    },
}

impl ProgrammePlan {
    /// Parses and checks a plan.
    pub fn parse(text: &str) -> Result<Self, PlanError> {
        let plan: ProgrammePlan =
            toml::from_str(text).map_err(|e| PlanError::Toml(e.to_string()))?;
        let mut drafts = BTreeSet::new();
        for p in &plan.programme {
            let draft = || p.draft.clone();
            if !drafts.insert(p.draft.as_str()) {
                return Err(PlanError::DraftTwice { draft: draft() });
            }
            let valid = p.draft.split_once('/').is_some_and(|(member, file)| {
                !member.is_empty()
                    && member
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && file.len() > ".toml".len()
                    && file.ends_with(".toml")
                    && !file.contains('/')
                    && !file.starts_with('.')
            });
            if !valid {
                return Err(PlanError::DraftPath { draft: draft() });
            }
            for (field, list) in [("confirm", &p.confirm), ("withdraw", &p.withdraw)] {
                let mut seen = BTreeSet::new();
                for m in list {
                    if !seen.insert(m) {
                        return Err(PlanError::Duplicate {
                            draft: draft(),
                            field,
                            member: m.clone(),
                        });
                    }
                }
            }
            if let Some(m) = p.confirm.iter().find(|m| *m == p.lead()) {
                return Err(PlanError::LeadConfirms {
                    draft: draft(),
                    member: m.clone(),
                });
            }
            if let Some(m) = p.withdraw.iter().find(|m| !p.confirm.contains(m)) {
                return Err(PlanError::WithdrawsUnconfirmed {
                    draft: draft(),
                    member: m.clone(),
                });
            }
            if p.withdraw.is_empty() != p.reason.is_empty() {
                return Err(PlanError::Reason { draft: draft() });
            }
        }
        Ok(plan)
    }

    /// Every step, in the order to take them: each programme's confirmations in plan order, then
    /// the withdrawals (a withdrawal retracts a confirmation, so it comes after all of them).
    pub fn steps(&self) -> Vec<Step<'_>> {
        let confirms = self.programme.iter().flat_map(|p| {
            p.confirm.iter().map(move |m| Step::Confirm {
                programme: p,
                member: m,
            })
        });
        let withdrawals = self.programme.iter().flat_map(|p| {
            p.withdraw.iter().map(move |m| Step::Withdraw {
                programme: p,
                member: m,
            })
        });
        confirms.chain(withdrawals).collect()
    }
}

impl PlannedProgramme {
    /// The lead: the member folder of [`PlannedProgramme::draft`].
    pub fn lead(&self) -> &str {
        self.draft.split_once('/').map_or("", |(member, _)| member)
    }

    /// The retraction draft (JSON) by which a participant withdraws its confirmation
    /// `confirmation` (hex id).
    pub fn withdrawal_draft(&self, confirmation: &str) -> Value {
        json!({"kind": "retraction", "target": confirmation, "reason": self.reason})
    }
}

impl<'a> Step<'a> {
    /// The programme.
    pub fn programme(&self) -> &'a PlannedProgramme {
        match self {
            Step::Confirm { programme, .. } | Step::Withdraw { programme, .. } => programme,
        }
    }

    /// The member whose node takes the step.
    pub fn member(&self) -> &'a str {
        match self {
            Step::Confirm { member, .. } | Step::Withdraw { member, .. } => member,
        }
    }
}

/// The confirmation draft (JSON) of programme `programme` (hex id), without a `version`: the
/// node that publishes it fills in the version in force.
pub fn confirmation_draft(programme: &str) -> Value {
    json!({"kind": "confirmation", "programme": programme})
}

#[cfg(test)]
mod tests;
