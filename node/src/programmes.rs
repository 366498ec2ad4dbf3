//! Joint programmes with their participants: the facts a store holds about one programme (its
//! versions, its retraction, every confirmation and its withdrawal), the state
//! `hubnet_protocol::confirmations` derives from them, and that state as JSON for the API, with
//! every signed record it rests on so that a reader can check it without trusting the node.

use hubnet_proto::v1 as pb;
use hubnet_protocol::confirmations::{self, Derived, Facts};
use hubnet_protocol::kinds::programme::{ProgrammeDraft, terms_digest};
use hubnet_protocol::{Draft, Kind, Record, RecordId};
use serde_json::{Value, json};

use crate::current::Current;
use crate::kinds::Content;
use crate::store::{Store, StoreError};
use crate::view::record_json;

/// Everything a store holds about programme `id`: the programme record, its amendments, and
/// its confirmations with their retractions, as signed records and as the facts the state is
/// derived from. `None` if the store holds no programme `id`.
pub struct Held {
    /// The facts.
    pub facts: Facts,
    /// The original record.
    pub programme: Record,
    /// Its amendments, in log order.
    pub amendments: Vec<Record>,
    /// Its confirmations, then the retractions of any of them.
    pub confirmations: Vec<Record>,
    /// The retraction of the programme, if any.
    pub retraction: Option<Record>,
}

impl Held {
    /// Reads what `store` holds about programme `id`.
    pub fn read(store: &Store, id: &RecordId) -> Result<Option<Self>, StoreError> {
        let Some(programme) = store.get(id)? else {
            return Ok(None);
        };
        // An erased programme has no participants or terms left to stand behind.
        if programme.header.kind != Kind::Programme || programme.body.is_erased() {
            return Ok(None);
        }
        // Only records that count: those within their key's valid seqs.
        let charter = store.charter();
        let counts = |r: &Record| charter.key_allows(&r.header.author, r.header.seq);
        if !counts(&programme) {
            return Ok(None);
        }
        let get = |id: &RecordId| -> Result<Option<Record>, StoreError> {
            Ok(store.get(id)?.filter(|r| counts(r)))
        };
        let mut amendments = Vec::new();
        for a in store.amendments(id)? {
            amendments.extend(get(&a)?);
        }
        let version = |r: &Record| confirmations::Version {
            id: r.id,
            seq: r.header.seq,
            created_at: r.header.created_at,
            terms: Content::of_body(&r.body)
                .and_then(Content::programme)
                .map(terms_digest),
            members: r
                .body
                .programme_version(r.id)
                .map(|(_, m)| m)
                .unwrap_or_default(),
        };
        let mut facts = Facts {
            author: programme.member.clone(),
            versions: std::iter::once(&programme)
                .chain(&amendments)
                .map(version)
                .collect(),
            retracted: false,
            confirmations: Vec::new(),
        };
        let retraction = match store.retraction_of(id)? {
            Some(r) => get(&r)?,
            None => None,
        };
        facts.retracted = retraction.is_some();
        let mut records = Vec::new();
        let mut withdrawals = Vec::new();
        for c in store.confirmations(id)? {
            let Some(r) = get(&c)? else { continue };
            let Some((_, version)) = r.body.confirms() else {
                continue;
            };
            let withdrawal = match store.retraction_of(&c)? {
                Some(w) => get(&w)?,
                None => None,
            };
            facts.confirmations.push(confirmations::Confirmation {
                id: r.id,
                member: r.member.clone(),
                created_at: r.header.created_at,
                version,
                retracted: withdrawal.as_ref().map(|w| (w.id, w.header.created_at)),
            });
            records.push(r);
            withdrawals.extend(withdrawal);
        }
        records.extend(withdrawals);
        Ok(Some(Held {
            facts,
            programme,
            amendments,
            confirmations: records,
            retraction,
        }))
    }

    /// The programme as it stands, for search and feeds: the original, its latest amendment,
    /// its retraction.
    pub fn current(&self) -> Current {
        Current {
            original: self.programme.clone(),
            amendment: self.amendments.last().cloned(),
            retraction: self.retraction.clone(),
        }
    }

    /// The derived state.
    pub fn derived(&self) -> Option<Derived> {
        confirmations::derive(&self.facts)
    }

    /// The programme as in force: the content of the version the state is derived from (the
    /// latest amendment, else the original); `None` if that version's body was erased.
    pub fn in_force(&self) -> Option<&pb::Programme> {
        let id = self.derived()?.in_force;
        std::iter::once(&self.programme)
            .chain(&self.amendments)
            .find(|r| r.id == id)
            .and_then(|r| Content::of_body(&r.body))
            .and_then(Content::programme)
    }

    /// The state as the API shows it: `state`, `in_force`, every participant of the version in
    /// force (members with their standing and the confirmation behind it, institutions), and
    /// `records`: the signed programme, amendments, retraction, confirmations and withdrawals.
    pub fn json(&self) -> Value {
        let Some(derived) = self.derived() else {
            return Value::Null;
        };
        // Each participant as drafts show it (member or institution, roles, contributions),
        // with a member's standing and the records behind it.
        let participants: Vec<Value> = self
            .in_force()
            .map(|p| ProgrammeDraft::from_proto(p).participants)
            .unwrap_or_default()
            .into_iter()
            .map(|p| {
                let standing = p.member.as_ref().and_then(|code| {
                    derived
                        .participants
                        .iter()
                        .find(|(m, _)| m == code)
                        .map(|(_, s)| s)
                });
                let mut v = serde_json::to_value(&p).unwrap_or(Value::Null);
                if let Some(s) = standing
                    && let (Some(v), Ok(Value::Object(s))) =
                        (v.as_object_mut(), serde_json::to_value(s))
                {
                    v.extend(s);
                }
                v
            })
            .collect();
        let records: Vec<Value> = std::iter::once(&self.programme)
            .chain(&self.amendments)
            .chain(&self.retraction)
            .chain(&self.confirmations)
            .map(record_json)
            .collect();
        json!({
            "id": self.programme.id.to_hex(),
            "lead": self.programme.member,
            "state": derived.state.name(),
            "in_force": derived.in_force.to_hex(),
            "participants": participants,
            "records": records,
        })
    }
}

/// The version in force of programme `programme` that a confirmation drafted without a
/// `version` confirms: the author's latest amendment, else the programme itself (the store's
/// chain rules refuse it if `programme` is not a programme it holds).
pub fn version_in_force(store: &Store, programme: &RecordId) -> Result<RecordId, StoreError> {
    Ok(store
        .amendments(programme)?
        .last()
        .copied()
        .unwrap_or(*programme))
}

/// Whether [`fill_version`] has anything to fill in (and so needs the store): only a
/// confirmation drafted without a version does. Every other draft is published without reading
/// the store.
pub fn needs_version(draft: &Draft) -> bool {
    matches!(draft, Draft::Confirmation(c) if c.version.is_none())
}

/// Fills in the version of a confirmation drafted without one: the version in force.
pub fn fill_version(draft: &mut Draft, store: &Store) -> Result<(), StoreError> {
    if let Draft::Confirmation(c) = draft
        && c.version.is_none()
        && let Ok(id) = c.programme.parse::<RecordId>()
    {
        c.version = Some(version_in_force(store, &id)?.to_hex());
    }
    Ok(())
}
