//! The institution kind on the node side: its name as title, its mandate, its facets, its
//! working languages and the institution it is part of.

use hubnet_proto::v1 as pb;
use hubnet_protocol::Draft;
use hubnet_protocol::kinds::institution::InstitutionDraft;

use super::{KindView, SearchTexts};

impl KindView for pb::Institution {
    fn name(&self) -> &'static str {
        "institution"
    }
    fn title(&self) -> Option<&pb::LocalizedText> {
        self.name.as_ref()
    }
    fn summary(&self) -> Option<&pb::LocalizedText> {
        self.mandate.as_ref()
    }
    fn markdown(&self) -> Option<&pb::LocalizedText> {
        self.mandate.as_ref()
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
        (!self.parent.is_empty())
            .then_some(self.parent.as_slice())
            .into_iter()
            .collect()
    }
    fn search_texts(&self) -> SearchTexts<'_> {
        SearchTexts {
            main: self.name.iter().chain(&self.mandate).collect(),
            other: self.name.iter().collect(),
        }
    }
    fn draft(&self) -> Draft {
        Draft::Institution(InstitutionDraft::from_proto(self))
    }
    fn csl_type(&self) -> &'static str {
        "entry"
    }
}
