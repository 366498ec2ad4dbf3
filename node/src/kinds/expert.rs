//! The expert kind on the node side: the name as title, the summary (or position), the facets,
//! the working languages, the institutions named and the date until which the profile is
//! listed (`reconfirm_by`).

use chrono::NaiveDate;
use hubnet_proto::v1 as pb;
use hubnet_protocol::Draft;
use hubnet_protocol::kinds::expert::ExpertDraft;

use super::{KindView, SearchTexts};

impl KindView for pb::Expert {
    fn name(&self) -> &'static str {
        "expert"
    }
    fn title(&self) -> Option<&pb::LocalizedText> {
        self.name.as_ref()
    }
    fn summary(&self) -> Option<&pb::LocalizedText> {
        self.summary.as_ref().or(self.position.as_ref())
    }
    fn markdown(&self) -> Option<&pb::LocalizedText> {
        self.summary.as_ref()
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
    fn listed_until(&self) -> Option<NaiveDate> {
        // The body rules make it a valid date; were it not, the profile is listed nowhere.
        Some(NaiveDate::parse_from_str(&self.reconfirm_by, "%Y-%m-%d").unwrap_or(NaiveDate::MIN))
    }
    fn institution_refs(&self) -> Vec<&[u8]> {
        let mut out = Vec::new();
        if let Some(pb::expert::Institution::InstitutionId(id)) = &self.institution {
            out.push(id.as_slice());
        }
        for a in &self.affiliations {
            if let Some(pb::affiliation::Organisation::OrganisationId(id)) = &a.organisation {
                out.push(id.as_slice());
            }
        }
        out
    }
    fn search_texts(&self) -> SearchTexts<'_> {
        let mut other: Vec<&pb::LocalizedText> = self.name.iter().chain(&self.position).collect();
        if let Some(pb::expert::Institution::InstitutionName(n)) = &self.institution {
            other.push(n);
        }
        for a in &self.affiliations {
            if let Some(pb::affiliation::Organisation::OrganisationName(n)) = &a.organisation {
                other.push(n);
            }
            other.extend(&a.role);
        }
        SearchTexts {
            main: self.name.iter().chain(&self.summary).collect(),
            other,
        }
    }
    fn draft(&self) -> Draft {
        Draft::Expert(ExpertDraft::from_proto(self))
    }
    fn csl_type(&self) -> &'static str {
        "entry"
    }
}
