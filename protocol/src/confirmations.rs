//! Where a joint programme stands with its participants (docs/PROTOCOL.md §2.2), derived from
//! signed records alone: the programme and its amendments (its author's), and the confirmations
//! of it and their retractions (each participant's, in its own log).
//!
//! The rule, for the version in force (the author's latest amendment, else the original):
//! - the lead, who signs every version, stands behind it;
//! - each other member it lists as a participant stands at its latest act on the programme (a
//!   confirmation, or the retraction of one, ordered by `created_at`, a retraction after a
//!   confirmation of the same millisecond, then by record id; a retracted confirmation counts
//!   only as its retraction): after a retraction it has **withdrawn**; after a confirmation of a version whose terms
//!   ([`crate::kinds::programme::terms_digest`]: participants, roles, contributions, budget) are
//!   those in force it has **confirmed**; after one of a version with other terms it must
//!   **reconfirm**; with none it is **awaiting**;
//! - the programme is **confirmed** when every member participant stands behind it, else
//!   **proposed** (so when its version in force was erased: it lists no one and has no terms);
//!   **retracted** when its author retracted it.
//!
//! A confirmation whose version is none of the programme's versions counts for nothing.
//!
//! [`derive`] is a function of the *set* of facts: any arrival order gives the same state.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::id::RecordId;

/// A version of a programme: the original or an amendment, as its author signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// Its record id.
    pub id: RecordId,
    /// Its seq in the author's log (amendments come after the original).
    pub seq: u64,
    /// Its `created_at` (ms).
    pub created_at: i64,
    /// [`crate::kinds::programme::terms_digest`] of its content; `None` if erased.
    pub terms: Option<[u8; 32]>,
    /// The member codes it lists as participants, in order.
    pub members: Vec<String>,
}

/// A member's confirmation of a programme, and its retraction if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    /// Its record id.
    pub id: RecordId,
    /// The confirming member's code.
    pub member: String,
    /// Its `created_at` (ms).
    pub created_at: i64,
    /// The version it confirms.
    pub version: RecordId,
    /// The retraction that withdrew it: its id and `created_at`.
    pub retracted: Option<(RecordId, i64)>,
}

/// Everything held about one programme.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Facts {
    /// The author's member code (the lead).
    pub author: String,
    /// The original and its amendments, in any order.
    pub versions: Vec<Version>,
    /// Whether the author retracted it.
    pub retracted: bool,
    /// Every confirmation of it, in any order.
    pub confirmations: Vec<Confirmation>,
}

/// Where a programme stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Not every member participant stands behind the version in force.
    Proposed,
    /// Every member participant stands behind the version in force.
    Confirmed,
    /// Its author retracted it.
    Retracted,
}

impl State {
    /// The name used in JSON and queries.
    pub fn name(self) -> &'static str {
        match self {
            State::Proposed => "proposed",
            State::Confirmed => "confirmed",
            State::Retracted => "retracted",
        }
    }
}

/// Where one member participant stands with the version in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "standing", rename_all = "snake_case")]
pub enum Standing {
    /// The lead: it signed the version in force.
    Lead,
    /// Its latest confirmation is of a version with the terms in force.
    Confirmed {
        /// The confirmation.
        confirmation: RecordId,
        /// The version it confirmed.
        version: RecordId,
    },
    /// Its latest confirmation is of a version with other terms.
    Reconfirm {
        /// The confirmation.
        confirmation: RecordId,
        /// The version it confirmed.
        version: RecordId,
    },
    /// It retracted its latest confirmation.
    Withdrawn {
        /// The confirmation retracted.
        confirmation: RecordId,
        /// The retraction.
        retraction: RecordId,
    },
    /// No confirmation from it.
    Awaiting,
}

impl Standing {
    /// Whether the member stands behind the version in force.
    pub fn stands_behind(&self) -> bool {
        matches!(self, Standing::Lead | Standing::Confirmed { .. })
    }
}

/// A programme's derived state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Derived {
    /// Proposed, confirmed or retracted.
    pub state: State,
    /// The version in force.
    pub in_force: RecordId,
    /// Each member participant of the version in force, in its order, with its standing.
    pub participants: Vec<(String, Standing)>,
}

/// Derives a programme's state from its facts; `None` if no version is held.
pub fn derive(facts: &Facts) -> Option<Derived> {
    let in_force = facts.versions.iter().max_by_key(|v| (v.seq, v.id))?;
    let terms: BTreeMap<RecordId, Option<[u8; 32]>> =
        facts.versions.iter().map(|v| (v.id, v.terms)).collect();
    // Each member's latest act, by (time, rank, record id): a retracted confirmation counts
    // only as the withdrawal, at its retraction's time, which outranks a confirmation of the
    // same millisecond.
    type Key = (i64, u8, RecordId);
    let mut latest: BTreeMap<&str, (Key, Standing)> = BTreeMap::new();
    for c in &facts.confirmations {
        // A confirmation of no version of this programme is no act on it (a node may hold one
        // that another refused: the version rule cannot be judged once a version is erased).
        if !terms.contains_key(&c.version) {
            continue;
        }
        let (key, standing) = match c.retracted {
            Some((retraction, at)) => (
                (at.max(c.created_at), 1, retraction),
                Standing::Withdrawn {
                    confirmation: c.id,
                    retraction,
                },
            ),
            None => {
                let same =
                    in_force.terms.is_some() && terms.get(&c.version) == Some(&in_force.terms);
                let (confirmation, version) = (c.id, c.version);
                let standing = if same {
                    Standing::Confirmed {
                        confirmation,
                        version,
                    }
                } else {
                    Standing::Reconfirm {
                        confirmation,
                        version,
                    }
                };
                ((c.created_at, 0, c.id), standing)
            }
        };
        if latest.get(c.member.as_str()).is_none_or(|(k, _)| *k < key) {
            latest.insert(&c.member, (key, standing));
        }
    }
    let mut seen = Vec::new();
    let participants: Vec<(String, Standing)> = in_force
        .members
        .iter()
        .filter(|m| {
            let first = !seen.contains(m);
            seen.push(*m);
            first
        })
        .map(|m| {
            let standing = if *m == facts.author {
                Standing::Lead
            } else {
                latest
                    .get(m.as_str())
                    .map_or(Standing::Awaiting, |(_, s)| s.clone())
            };
            (m.clone(), standing)
        })
        .collect();
    // A version in force whose body was erased lists no one and has no terms: nobody can stand
    // behind it.
    let state = if facts.retracted {
        State::Retracted
    } else if in_force.terms.is_some() && participants.iter().all(|(_, s)| s.stands_behind()) {
        State::Confirmed
    } else {
        State::Proposed
    };
    Some(Derived {
        state,
        in_force: in_force.id,
        participants,
    })
}

#[cfg(test)]
mod tests;
