//! The current state of a published record of a content kind (practice, event, ...): the original record, the latest amendment
//! of it and its retraction. Queries, feeds, exports and pages all show records this way, and
//! every part carries its signed bytes so a reader can verify each one.

use hubnet_protocol::{Record, RecordId};
use serde_json::{Value, json};

use crate::kinds::Content;
use crate::view::{record_json, rfc3339_ms};

/// The names a query answer's records can be cut to (`GET /api/v1/records?fields=`): the keys of
/// [`Current::json`], plus `title` and `summary` (the texts in force, by language).
pub const FIELDS: &[&str] = &[
    "id",
    "network_id",
    "member",
    "author",
    "seq",
    "prev",
    "created_at",
    "created_at_ms",
    "kind",
    "body",
    "erased",
    "signed",
    "current",
    "updated_at",
    "retracted",
    "amendment",
    "retraction",
    "title",
    "summary",
];

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

impl Current {
    /// The id of the original record.
    pub fn id(&self) -> RecordId {
        self.original.id
    }

    /// Whether it was retracted.
    pub fn retracted(&self) -> bool {
        self.retraction.is_some()
    }

    /// The content in force (the latest amendment's, else the original's), or `None` when the
    /// original is not content (an amendment or retraction).
    pub fn content(&self) -> Option<Content<'_>> {
        self.amendment
            .as_ref()
            .and_then(|a| Content::of_body(&a.body))
            .or_else(|| Content::of_body(&self.original.body))
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
        self.content()?.view().start_ms()
    }

    /// The member code of the author (empty if the charter no longer names the key).
    pub fn member(&self) -> &str {
        &self.original.member
    }

    /// The JSON of a query result cut to `fields` (names of [`FIELDS`], in the order given; a
    /// name given twice is written once): what a client that does not verify asks for.
    pub fn json_fields(&self, fields: &[&str]) -> Value {
        let mut full: Option<Value> = None;
        let mut out = serde_json::Map::new();
        let texts =
            |pick: fn(&dyn crate::kinds::KindView) -> Option<&hubnet_proto::v1::LocalizedText>| {
                self.content()
                    .and_then(|c| pick(c.view()))
                    .map_or(Value::Null, |t| json!(t.text))
            };
        for &field in fields {
            let value = match field {
                "id" => json!(self.id().to_hex()),
                "member" => json!(self.member()),
                "author" => json!(self.original.header.author.to_hex()),
                "seq" => json!(self.original.header.seq),
                "kind" => json!(self.original.header.kind.name()),
                "created_at" => json!(rfc3339_ms(self.created_at())),
                "updated_at" => json!(rfc3339_ms(self.updated_at())),
                "retracted" => json!(self.retracted()),
                "title" => texts(|v| v.title()),
                "summary" => texts(|v| v.summary()),
                other => full.get_or_insert_with(|| self.json())[other].clone(),
            };
            out.insert(field.to_owned(), value);
        }
        Value::Object(out)
    }

    /// The JSON of a query result: the original as `GET /api/v1/records/{id}` shows it, plus
    /// `current` (the amended content in force, as a draft; null when never amended, for then
    /// `body` is in force and the answer need not carry it twice), `updated_at`, `retracted`,
    /// and the amendment and retraction records (each with its own `signed` bytes) or null.
    pub fn json(&self) -> Value {
        let mut v = record_json(&self.original);
        let current = match self.amendment.as_ref().and(self.content()) {
            Some(c) => serde_json::to_value(c.view().draft()).unwrap_or(Value::Null),
            None => Value::Null,
        };
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
