//! The event kind: a conference, training, webinar, study visit or call. Its message is `Event`
//! in `proto/hubnet/v1/record.proto`; here are its body rules and its draft format.

use std::collections::HashSet;

use hubnet_proto::v1 as pb;
use serde::{Deserialize, Serialize};

use crate::draft::{DraftError, Localized, localized, opt_map, opt_str, record_ids};
use crate::validate::{
    BodyError, Checker, R, Rules, Size, is_language_tag, local_date_time, partial_date_strict,
    time_zone,
};

/// Checks an event body.
pub fn validate(e: &pb::Event, rules: &Rules) -> R {
    let v = Checker::new(rules);
    v.localized("title", e.title.as_ref(), Size::Short, true)?;
    v.localized("description", e.description.as_ref(), Size::Summary, false)?;
    if pb::EventType::try_from(e.event_type).map_or(true, |t| t == pb::EventType::Unspecified) {
        return Err(BodyError::InvalidEnum {
            field: "event_type".into(),
            value: e.event_type,
        });
    }
    let start = local_date_time("start", &e.start, true)?;
    let end = local_date_time("end", &e.end, false)?;
    if let (Some(s), Some(en)) = (start, end)
        && en < s
    {
        return Err(BodyError::EndBeforeStart {
            field: "end".into(),
            start: e.start.clone(),
            end: e.end.clone(),
        });
    }
    time_zone("time_zone", &e.time_zone)?;
    if let Some(place) = &e.place {
        v.localized("place.name", place.name.as_ref(), Size::Short, false)?;
        v.localized(
            "place.address",
            place.address.as_ref(),
            Size::Summary,
            false,
        )?;
        v.country("place.country", &place.country)?;
    }
    v.url("online_url", &e.online_url, false)?;
    v.localized("organiser", e.organiser.as_ref(), Size::Short, false)?;
    v.list_len("languages", e.languages.len())?;
    let mut seen = HashSet::new();
    for tag in &e.languages {
        if !is_language_tag(tag) {
            return Err(BodyError::InvalidLanguageTag {
                field: "languages".into(),
                tag: tag.clone(),
            });
        }
        if !seen.insert(tag.to_ascii_lowercase()) {
            return Err(BodyError::Duplicate {
                field: "languages".into(),
                value: tag.clone(),
            });
        }
    }
    v.url("registration_url", &e.registration_url, false)?;
    let deadline = &e.registration_deadline;
    if !deadline.is_empty()
        && local_date_time("registration_deadline", deadline, false).is_err()
        && (deadline.len() != 10 || partial_date_strict("registration_deadline", deadline).is_err())
    {
        return Err(BodyError::InvalidDate {
            field: "registration_deadline".into(),
            value: deadline.clone(),
            expected: "local date-time (YYYY-MM-DDTHH:MM[:SS]) or date (YYYY-MM-DD)",
        });
    }
    if pb::EventStatus::try_from(e.status).map_or(true, |s| s == pb::EventStatus::Unspecified) {
        return Err(BodyError::InvalidEnum {
            field: "status".into(),
            value: e.status,
        });
    }
    v.topics("topics", &e.topics, false)?;
    v.country("country", &e.country)?;
    v.institution_ids("institution_ids", &e.institution_ids)
}

/// Event types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventType {
    /// Conference.
    Conference,
    /// Training.
    Training,
    /// Webinar.
    Webinar,
    /// Study visit.
    StudyVisit,
    /// Call for proposals, papers or experts.
    Call,
}

/// Event status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum EventStatus {
    /// Takes place as announced.
    #[default]
    Scheduled,
    /// Moved to a date not yet known or announced by amendment.
    Postponed,
    /// Will not take place.
    Cancelled,
}

/// An event draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventDraft {
    /// Title.
    pub title: Localized,
    /// Type.
    pub event_type: EventType,
    /// Local start date-time.
    pub start: String,
    /// IANA time zone.
    pub time_zone: String,
    /// Local end date-time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Localized>,
    /// Venue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<PlaceDraft>,
    /// Online link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online_url: Option<String>,
    /// Organiser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organiser: Option<Localized>,
    /// Working languages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// Registration link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_url: Option<String>,
    /// Registration deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_deadline: Option<String>,
    /// Status.
    #[serde(default)]
    pub status: EventStatus,
    /// Topic slugs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    /// Hosting country; defaults to the author's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Record ids of institution records it names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub institution_ids: Vec<String>,
}

/// A venue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PlaceDraft {
    /// Name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Localized>,
    /// Address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Localized>,
    /// Country.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

impl EventDraft {
    pub(crate) fn to_proto(&self, author_country: &str) -> Result<pb::Event, DraftError> {
        let event_type = match self.event_type {
            EventType::Conference => pb::EventType::Conference,
            EventType::Training => pb::EventType::Training,
            EventType::Webinar => pb::EventType::Webinar,
            EventType::StudyVisit => pb::EventType::StudyVisit,
            EventType::Call => pb::EventType::Call,
        };
        let status = match self.status {
            EventStatus::Scheduled => pb::EventStatus::Scheduled,
            EventStatus::Postponed => pb::EventStatus::Postponed,
            EventStatus::Cancelled => pb::EventStatus::Cancelled,
        };
        Ok(pb::Event {
            title: localized(Some(&self.title)),
            description: localized(self.description.as_ref()),
            event_type: event_type as i32,
            start: self.start.clone(),
            end: self.end.clone().unwrap_or_default(),
            time_zone: self.time_zone.clone(),
            place: self.place.as_ref().map(|p| pb::Place {
                name: localized(p.name.as_ref()),
                address: localized(p.address.as_ref()),
                country: p
                    .country
                    .clone()
                    .unwrap_or_else(|| author_country.to_owned()),
            }),
            online_url: self.online_url.clone().unwrap_or_default(),
            organiser: localized(self.organiser.as_ref()),
            languages: self.languages.clone(),
            registration_url: self.registration_url.clone().unwrap_or_default(),
            registration_deadline: self.registration_deadline.clone().unwrap_or_default(),
            status: status as i32,
            topics: self.topics.clone(),
            country: self
                .country
                .clone()
                .unwrap_or_else(|| author_country.to_owned()),
            institution_ids: record_ids("institution_ids", &self.institution_ids)?,
        })
    }

    /// The draft view of a decoded message.
    pub fn from_proto(e: &pb::Event) -> Self {
        let event_type = match pb::EventType::try_from(e.event_type) {
            Ok(pb::EventType::Training) => EventType::Training,
            Ok(pb::EventType::Webinar) => EventType::Webinar,
            Ok(pb::EventType::StudyVisit) => EventType::StudyVisit,
            Ok(pb::EventType::Call) => EventType::Call,
            _ => EventType::Conference,
        };
        let status = match pb::EventStatus::try_from(e.status) {
            Ok(pb::EventStatus::Postponed) => EventStatus::Postponed,
            Ok(pb::EventStatus::Cancelled) => EventStatus::Cancelled,
            _ => EventStatus::Scheduled,
        };
        Self {
            title: opt_map(e.title.as_ref()).unwrap_or_default(),
            event_type,
            start: e.start.clone(),
            time_zone: e.time_zone.clone(),
            end: opt_str(&e.end),
            description: opt_map(e.description.as_ref()),
            place: e.place.as_ref().map(|p| PlaceDraft {
                name: opt_map(p.name.as_ref()),
                address: opt_map(p.address.as_ref()),
                country: opt_str(&p.country),
            }),
            online_url: opt_str(&e.online_url),
            organiser: opt_map(e.organiser.as_ref()),
            languages: e.languages.clone(),
            registration_url: opt_str(&e.registration_url),
            registration_deadline: opt_str(&e.registration_deadline),
            status,
            topics: e.topics.clone(),
            country: opt_str(&e.country),
            institution_ids: e.institution_ids.iter().map(hex::encode).collect(),
        }
    }
}
