//! The programme kind on the node side: its texts to search, its lead as its country, the
//! institutions it names, and its planned dates as its schedule (calendars, exports). Where it
//! stands with its participants is `crate::programmes`.

use hubnet_proto::v1 as pb;
use hubnet_protocol::Draft;
use hubnet_protocol::kinds::programme::{ProgrammeDraft, ProgrammeStatus, lead};

use super::{EventSchedule, KindView, SearchTexts};

impl KindView for pb::Programme {
    fn name(&self) -> &'static str {
        "programme"
    }
    fn title(&self) -> Option<&pb::LocalizedText> {
        self.title.as_ref()
    }
    fn summary(&self) -> Option<&pb::LocalizedText> {
        self.objectives.as_ref().or(self.description.as_ref())
    }
    fn markdown(&self) -> Option<&pb::LocalizedText> {
        self.description.as_ref()
    }
    /// The lead's member code: the member that runs it.
    fn country(&self) -> &str {
        lead(self).unwrap_or_default()
    }
    fn topics(&self) -> &[String] {
        &self.topics
    }
    fn institution_refs(&self) -> Vec<&[u8]> {
        self.participants
            .iter()
            .filter_map(|p| match &p.who {
                Some(pb::participant::Who::InstitutionId(id)) => Some(id.as_slice()),
                _ => None,
            })
            .chain(self.institution_ids.iter().map(Vec::as_slice))
            .collect()
    }
    fn search_texts(&self) -> SearchTexts<'_> {
        let mut other: Vec<&pb::LocalizedText> = self.title.iter().collect();
        for r in &self.results {
            other.extend(r.title.iter());
            other.extend(r.indicators.iter().filter_map(|i| i.title.as_ref()));
        }
        for p in &self.participants {
            other.extend(
                p.contributions
                    .iter()
                    .filter_map(|c| c.description.as_ref()),
            );
        }
        SearchTexts {
            main: self
                .title
                .iter()
                .chain(&self.description)
                .chain(&self.objectives)
                .collect(),
            other,
        }
    }
    /// The planned start, at midnight UTC.
    fn start_ms(&self) -> Option<i64> {
        let day = chrono::NaiveDate::parse_from_str(&self.planned_start, "%Y-%m-%d").ok()?;
        Some(
            day.and_time(chrono::NaiveTime::MIN)
                .and_utc()
                .timestamp_millis(),
        )
    }
    /// The planned dates, whole days; cancelled programmes as cancelled, suspended ones as
    /// postponed.
    fn schedule(&self) -> Option<EventSchedule<'_>> {
        Some(EventSchedule {
            start: &self.planned_start,
            end: &self.planned_end,
            time_zone: "UTC",
            status: match ProgrammeStatus::from_proto(self.status) {
                Some(ProgrammeStatus::Cancelled) => "cancelled",
                Some(ProgrammeStatus::Suspended) => "postponed",
                _ => "scheduled",
            },
        })
    }
    fn draft(&self) -> Draft {
        Draft::Programme(ProgrammeDraft::from_proto(self))
    }
}
