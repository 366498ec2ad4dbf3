//! The event kind on the node side: its start in UTC, its schedule for exports, citations and
//! calendars, and its search texts.

use hubnet_proto::v1 as pb;
use hubnet_protocol::Draft;
use hubnet_protocol::draft::EventDraft;

use serde_json::{Value, json};

use super::{KindView, SearchTexts};
use crate::feeds::cite::date_parts;
use crate::lang::pick;

/// When and how an event takes place, as signed: local times in its IANA zone.
#[derive(Debug, Clone, Copy)]
pub struct EventSchedule<'a> {
    /// Local start `YYYY-MM-DDTHH:MM[:SS]`.
    pub start: &'a str,
    /// Local end, or empty.
    pub end: &'a str,
    /// IANA time zone.
    pub time_zone: &'a str,
    /// `scheduled`, `postponed` or `cancelled`.
    pub status: &'static str,
}

/// The status as drafts name it.
pub fn event_status_name(status: pb::EventStatus) -> &'static str {
    match status {
        pb::EventStatus::Scheduled => "scheduled",
        pb::EventStatus::Postponed => "postponed",
        pb::EventStatus::Cancelled => "cancelled",
        pb::EventStatus::Unspecified => "",
    }
}

impl KindView for pb::Event {
    fn name(&self) -> &'static str {
        "event"
    }
    fn title(&self) -> Option<&pb::LocalizedText> {
        self.title.as_ref()
    }
    fn summary(&self) -> Option<&pb::LocalizedText> {
        self.description.as_ref()
    }
    fn markdown(&self) -> Option<&pb::LocalizedText> {
        self.description.as_ref()
    }
    fn country(&self) -> &str {
        &self.country
    }
    fn topics(&self) -> &[String] {
        &self.topics
    }
    fn languages(&self) -> &[String] {
        &self.languages
    }
    fn institution_refs(&self) -> Vec<&[u8]> {
        self.institution_ids.iter().map(Vec::as_slice).collect()
    }
    fn search_texts(&self) -> SearchTexts<'_> {
        let mut other: Vec<_> = self.title.iter().chain(&self.organiser).collect();
        if let Some(place) = &self.place {
            other.extend(place.name.iter().chain(&place.address));
        }
        SearchTexts {
            main: self.title.iter().chain(&self.description).collect(),
            other,
        }
    }
    fn start_ms(&self) -> Option<i64> {
        crate::current::local_to_utc_ms(&self.start, &self.time_zone)
    }
    fn schedule(&self) -> Option<super::EventSchedule<'_>> {
        Some(EventSchedule {
            start: &self.start,
            end: &self.end,
            time_zone: &self.time_zone,
            status: event_status_name(self.status()),
        })
    }
    fn draft(&self) -> Draft {
        Draft::Event(EventDraft::from_proto(self))
    }
    fn csl_type(&self) -> &'static str {
        "event"
    }
    fn csl_fields(&self, lang: Option<&str>) -> Vec<(&'static str, Value)> {
        let mut fields = Vec::new();
        let parts: Vec<Value> = [&self.start, &self.end]
            .into_iter()
            .filter_map(|t| date_parts(t))
            .collect();
        let parts = match parts.as_slice() {
            [start, end] if start == end => vec![start.clone()],
            _ => parts,
        };
        if !parts.is_empty() {
            fields.push(("event-date", json!({ "date-parts": parts })));
        }
        let place = self.place.as_ref();
        let where_ = [
            place.map_or("", |p| pick(p.name.as_ref(), lang)),
            place.map_or("", |p| pick(p.address.as_ref(), lang)),
            place.map_or("", |p| p.country.as_str()),
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
        let where_ = if where_.is_empty() {
            self.online_url.clone()
        } else {
            where_
        };
        fields.push(("event-place", json!(where_)));
        fields
    }
}
