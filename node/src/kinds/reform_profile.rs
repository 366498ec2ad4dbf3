//! The reform profile kind on the node side: its texts to search, its reform areas (a facet) and
//! its draft view. The comparison of profiles across countries is `crate::compare`.

use hubnet_proto::v1 as pb;
use hubnet_protocol::Draft;
use hubnet_protocol::kinds::reform_profile::ReformProfileDraft;

use super::{KindView, SearchTexts};

impl KindView for pb::ReformProfile {
    fn name(&self) -> &'static str {
        "reform_profile"
    }
    fn title(&self) -> Option<&pb::LocalizedText> {
        self.title.as_ref()
    }
    fn summary(&self) -> Option<&pb::LocalizedText> {
        self.summary.as_ref().or(self.findings.as_ref())
    }
    fn markdown(&self) -> Option<&pb::LocalizedText> {
        self.findings.as_ref()
    }
    fn country(&self) -> &str {
        &self.country
    }
    fn topics(&self) -> &[String] {
        &[]
    }
    fn reform_areas(&self) -> Vec<&str> {
        let mut areas: Vec<&str> = self
            .reform_areas
            .iter()
            .map(String::as_str)
            .chain(self.reforms.iter().map(|r| r.reform_area.as_str()))
            .filter(|a| !a.is_empty())
            .collect();
        areas.sort_unstable();
        areas.dedup();
        areas
    }
    fn license(&self) -> &str {
        &self.license
    }
    fn institution_refs(&self) -> Vec<&[u8]> {
        self.institution_ids.iter().map(Vec::as_slice).collect()
    }
    fn search_texts(&self) -> SearchTexts<'_> {
        let mut other: Vec<&pb::LocalizedText> = self
            .title
            .iter()
            .chain(&self.challenges)
            .chain(&self.next_steps)
            .collect();
        for r in &self.reforms {
            other.extend(
                r.title
                    .iter()
                    .chain(&r.objectives)
                    .chain(&r.lead_institution),
            );
        }
        SearchTexts {
            main: self
                .title
                .iter()
                .chain(&self.summary)
                .chain(&self.findings)
                .collect(),
            other,
        }
    }
    fn draft(&self) -> Draft {
        Draft::ReformProfile(ReformProfileDraft::from_proto(self))
    }
}
