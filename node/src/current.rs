//! The current state of a published practice or event: the original record, the latest amendment
//! of it and its retraction. Queries, feeds, exports and pages all show records this way, and
//! every part carries its signed bytes so a reader can verify each one.

use hubnet_proto::v1 as pb;
use hubnet_protocol::draft::{EventDraft, PracticeDraft};
use hubnet_protocol::{Body, Draft, Record, RecordId};
use serde_json::{Value, json};

use crate::view::{record_json, rfc3339_ms};

/// A practice or event as it stands now.
#[derive(Debug, Clone)]
pub struct Current {
    /// The practice or event as first published; its id is the id everyone cites.
    pub original: Record,
    /// The latest amendment of it (same author, highest seq), if any.
    pub amendment: Option<Record>,
    /// The retraction of it, if any.
    pub retraction: Option<Record>,
}

/// The content in force: the latest amendment's, else the original's.
#[derive(Debug, Clone, Copy)]
pub enum Content<'a> {
    /// A practice.
    Practice(&'a pb::Practice),
    /// An event.
    Event(&'a pb::Event),
}

impl Current {
    /// The id of the original record.
    pub fn id(&self) -> RecordId {
        self.original.id
    }

    /// Whether it was retracted.
    pub fn retracted(&self) -> bool {
        self.retraction.is_some()
    }

    /// The content in force, or `None` when the original is not a practice or an event.
    pub fn content(&self) -> Option<Content<'_>> {
        if let Some(a) = &self.amendment
            && let Body::Amendment(a) = &a.body
        {
            match &a.content {
                Some(pb::amendment::Content::Practice(p)) => return Some(Content::Practice(p)),
                Some(pb::amendment::Content::Event(e)) => return Some(Content::Event(e)),
                None => {}
            }
        }
        match &self.original.body {
            Body::Practice(p) => Some(Content::Practice(p)),
            Body::Event(e) => Some(Content::Event(e)),
            _ => None,
        }
    }

    /// When the original was published (ms since the epoch, as signed).
    pub fn created_at(&self) -> i64 {
        self.original.header.created_at
    }

    /// When it last changed: the latest of the original, its amendment and its retraction.
    pub fn updated_at(&self) -> i64 {
        [&self.amendment, &self.retraction]
            .into_iter()
            .flatten()
            .map(|r| r.header.created_at)
            .fold(self.created_at(), i64::max)
    }

    /// For an event, its start in UTC (ms), from the local time and its IANA zone.
    pub fn event_start_ms(&self) -> Option<i64> {
        match self.content()? {
            Content::Event(e) => local_to_utc_ms(&e.start, &e.time_zone),
            Content::Practice(_) => None,
        }
    }

    /// The member code of the author (empty if the charter no longer names the key).
    pub fn member(&self) -> &str {
        &self.original.member
    }

    /// The JSON of a query result: the original as `GET /api/v1/records/{id}` shows it, plus
    /// `current` (the amended content in force, as a draft; null when never amended, for then
    /// `body` is in force and the answer need not carry it twice), `updated_at`, `retracted`,
    /// and the amendment and retraction records (each with its own `signed` bytes) or null.
    pub fn json(&self) -> Value {
        let mut v = record_json(&self.original);
        let current = match self.amendment.as_ref().and(self.content()) {
            Some(Content::Practice(p)) => {
                serde_json::to_value(Draft::Practice(PracticeDraft::from_proto(p)))
            }
            Some(Content::Event(e)) => {
                serde_json::to_value(Draft::Event(EventDraft::from_proto(e)))
            }
            None => Ok(Value::Null),
        }
        .unwrap_or(Value::Null);
        if let Value::Object(map) = &mut v {
            map.insert("current".into(), current);
            map.insert("updated_at".into(), json!(rfc3339_ms(self.updated_at())));
            map.insert("retracted".into(), json!(self.retracted()));
            map.insert(
                "amendment".into(),
                self.amendment.as_ref().map_or(Value::Null, record_json),
            );
            map.insert(
                "retraction".into(),
                self.retraction.as_ref().map_or(Value::Null, record_json),
            );
        }
        v
    }
}

/// A local date-time `YYYY-MM-DDTHH:MM[:SS]` in IANA zone `zone`, as UTC ms. In a gap of a DST
/// change the time does not exist: `None`; in a fold the earlier instant is taken.
pub fn local_to_utc_ms(local: &str, zone: &str) -> Option<i64> {
    use chrono::TimeZone;
    let naive = hubnet_protocol::validate::local_date_time("start", local, true).ok()??;
    let tz: chrono_tz::Tz = zone.parse().ok()?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.timestamp_millis())
}
