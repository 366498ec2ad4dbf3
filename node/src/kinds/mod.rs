//! The registry of content kinds on the node side: what each kind gives to the layers that
//! show, search, feed and export records.
//!
//! Each content kind has one file here implementing [`KindView`] on its message: its title and
//! summary, the text to search and how much each weighs, its facets, its start in time (events),
//! its draft view and its citation type. The generic layers (current state, search index, feeds,
//! exports, citations, the API) call only [`Content`] and [`KindView`], so adding a kind touches
//! this directory (one file, one arm in each `match` below) and, for its web page, `node/ui/`.
//! The protocol side of a kind is in `hubnet_protocol::kinds`.

use hubnet_proto::v1 as pb;
use hubnet_protocol::{Body, Draft, Kind};

mod event;
mod expert;
mod institution;
mod practice;
mod programme;
mod reform_profile;

pub use event::{EventSchedule, event_status_name};

/// A content kind's message, as in force (an amendment's new content, or the original's).
#[derive(Debug, Clone, Copy)]
pub enum Content<'a> {
    /// A practice.
    Practice(&'a pb::Practice),
    /// An event.
    Event(&'a pb::Event),
    /// A reform profile.
    ReformProfile(&'a pb::ReformProfile),
    /// An institution.
    Institution(&'a pb::Institution),
    /// An expert.
    Expert(&'a pb::Expert),
    /// A programme.
    Programme(&'a pb::Programme),
}

/// The names of the content kinds, as drafts, queries and facets spell them.
pub const CONTENT_KINDS: &[&str] = &[
    "practice",
    "event",
    "reform_profile",
    "institution",
    "expert",
    "programme",
];

/// [`CONTENT_KINDS`] as an error message lists them.
pub const CONTENT_KINDS_TEXT: &str =
    "`practice`, `event`, `reform_profile`, `institution`, `expert` or `programme`";

impl<'a> Content<'a> {
    /// The content of a content kind's body, or of an amendment's new version; `None` for
    /// retractions, erasures, confirmations and erased bodies.
    pub fn of_body(body: &'a Body) -> Option<Self> {
        match body {
            Body::Practice(p) => Some(Content::Practice(p)),
            Body::Event(e) => Some(Content::Event(e)),
            Body::ReformProfile(p) => Some(Content::ReformProfile(p)),
            Body::Institution(p) => Some(Content::Institution(p)),
            Body::Expert(p) => Some(Content::Expert(p)),
            Body::Programme(p) => Some(Content::Programme(p)),
            Body::Amendment(a) => match a.content.as_ref()? {
                pb::amendment::Content::Practice(p) => Some(Content::Practice(p)),
                pb::amendment::Content::Event(e) => Some(Content::Event(e)),
                pb::amendment::Content::ReformProfile(p) => Some(Content::ReformProfile(p)),
                pb::amendment::Content::Institution(p) => Some(Content::Institution(p)),
                pb::amendment::Content::Expert(p) => Some(Content::Expert(p)),
                pb::amendment::Content::Programme(p) => Some(Content::Programme(p)),
            },
            Body::Retraction(_)
            | Body::Erasure(_)
            | Body::Confirmation(_)
            | Body::Erased { .. } => None,
        }
    }

    /// What the generic layers need of it.
    pub fn view(self) -> &'a dyn KindView {
        match self {
            Content::Practice(p) => p,
            Content::Event(e) => e,
            Content::ReformProfile(p) => p,
            Content::Institution(p) => p,
            Content::Expert(p) => p,
            Content::Programme(p) => p,
        }
    }

    /// The expert, if it is one.
    pub fn expert(self) -> Option<&'a pb::Expert> {
        match self {
            Content::Expert(p) => Some(p),
            _ => None,
        }
    }

    /// The institution, if it is one.
    pub fn institution(self) -> Option<&'a pb::Institution> {
        match self {
            Content::Institution(p) => Some(p),
            _ => None,
        }
    }

    /// The programme, if it is one.
    pub fn programme(self) -> Option<&'a pb::Programme> {
        match self {
            Content::Programme(p) => Some(p),
            _ => None,
        }
    }

    /// The reform profile, if it is one.
    pub fn reform_profile(self) -> Option<&'a pb::ReformProfile> {
        match self {
            Content::ReformProfile(p) => Some(p),
            _ => None,
        }
    }
}

/// Whether records of `kind` are content (a document of their own), not a change to one.
pub fn is_content(kind: Kind) -> bool {
    kind.is_content()
}

/// The texts of a record to search: `main` (title, summary, body: which languages a record is
/// in) and `other` (further searchable text). The title goes in both, so a match there weighs more.
#[derive(Default)]
pub struct SearchTexts<'a> {
    /// Title, summary, body.
    pub main: Vec<&'a pb::LocalizedText>,
    /// Further searchable texts.
    pub other: Vec<&'a pb::LocalizedText>,
}

/// What a content kind gives to the generic layers.
pub trait KindView {
    /// The kind's name, as drafts, queries and facets spell it.
    fn name(&self) -> &'static str;
    /// Its title.
    fn title(&self) -> Option<&pb::LocalizedText>;
    /// The short text shown under the title in lists, feeds and citations.
    fn summary(&self) -> Option<&pb::LocalizedText>;
    /// The Markdown text its page renders, if any.
    fn markdown(&self) -> Option<&pb::LocalizedText>;
    /// The country it concerns (ISO 3166-1 alpha-2, or `HUB`).
    fn country(&self) -> &str;
    /// Its topics (slugs of the charter's vocabulary).
    fn topics(&self) -> &[String];
    /// Its reform areas (slugs of the vocabulary's reform areas or topics), sorted, once each:
    /// the `area` facet.
    fn reform_areas(&self) -> Vec<&str> {
        Vec::new()
    }
    /// Its licence (SPDX id), or empty.
    fn license(&self) -> &str {
        ""
    }
    /// Its working languages (BCP 47 tags, as signed): what an expert or institution works in,
    /// an event's working languages; the directory's `lang` filter.
    fn languages(&self) -> &[String] {
        &[]
    }
    /// The last day (UTC) it is listed in search and the directory: an expert's
    /// `reconfirm_by`; `None`: always.
    fn listed_until(&self) -> Option<chrono::NaiveDate> {
        None
    }
    /// The record ids (32 bytes each, as signed) of the institutions it names: what an
    /// institution's page lists as naming it.
    fn institution_refs(&self) -> Vec<&[u8]>;
    /// The texts to search.
    fn search_texts(&self) -> SearchTexts<'_>;
    /// Its start in UTC (ms), for kinds that happen at a time.
    fn start_ms(&self) -> Option<i64> {
        None
    }
    /// Its schedule, for kinds that happen at a time (export columns, citations, calendars).
    fn schedule(&self) -> Option<EventSchedule<'_>> {
        None
    }
    /// Its draft view (the JSON the API shows as `current`).
    fn draft(&self) -> Draft;
    /// Its CSL-JSON item type.
    fn csl_type(&self) -> &'static str {
        "report"
    }
    /// CSL-JSON variables of its own (an event's `event-date` and `event-place`), texts in
    /// `lang` as [`crate::lang::pick`] chooses.
    fn csl_fields(&self, _lang: Option<&str>) -> Vec<(&'static str, serde_json::Value)> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_content_kind_of_the_protocol_is_listed_once() {
        let content: Vec<&str> = (0..=u8::MAX)
            .filter_map(Kind::from_code)
            .filter(|k| is_content(*k))
            .map(Kind::name)
            .collect();
        assert_eq!(content, CONTENT_KINDS);
        for name in CONTENT_KINDS {
            assert!(CONTENT_KINDS_TEXT.contains(&format!("`{name}`")), "{name}");
        }
        assert!(!is_content(Kind::Amendment) && !is_content(Kind::Retraction));
    }
}
