//! The practice kind on the node side: a case study's title, summary, Markdown body and search
//! texts.

use hubnet_proto::v1 as pb;
use hubnet_protocol::Draft;
use hubnet_protocol::draft::PracticeDraft;

use super::{KindView, SearchTexts};

impl KindView for pb::Practice {
    fn name(&self) -> &'static str {
        "practice"
    }
    fn title(&self) -> Option<&pb::LocalizedText> {
        self.title.as_ref()
    }
    fn summary(&self) -> Option<&pb::LocalizedText> {
        self.summary.as_ref()
    }
    fn markdown(&self) -> Option<&pb::LocalizedText> {
        self.body.as_ref()
    }
    fn country(&self) -> &str {
        &self.country
    }
    fn topics(&self) -> &[String] {
        &self.topics
    }
    fn license(&self) -> &str {
        &self.license
    }
    fn institution_refs(&self) -> Vec<&[u8]> {
        self.institution_ids.iter().map(Vec::as_slice).collect()
    }
    fn search_texts(&self) -> SearchTexts<'_> {
        SearchTexts {
            main: self
                .title
                .iter()
                .chain(&self.summary)
                .chain(&self.body)
                .collect(),
            other: self
                .title
                .iter()
                .chain(&self.results)
                .chain(&self.institutions)
                .collect(),
        }
    }
    fn draft(&self) -> Draft {
        Draft::Practice(PracticeDraft::from_proto(self))
    }
}
