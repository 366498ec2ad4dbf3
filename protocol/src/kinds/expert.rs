//! The expert kind: a person who offers advice to the network's members (peer reviews, expert
//! missions, study visits, talks, mentoring, workshops), published with their consent and
//! re-confirmed at least every 24 months. Its message is `Expert` in
//! `proto/hubnet/v1/record.proto`; here are its body rules and its draft format.
//!
//! The record holds no birth date, national identity number or private phone: the message has
//! no such field, and the only contact is an institutional e-mail address. That `institution`
//! and affiliations name institution records is a chain rule (`chain::check_references`); the
//! rules that need the record's creation time (consent date, `reconfirm_by`) use
//! [`Rules::created_at`].

use std::collections::HashSet;

use chrono::{Months, NaiveDate};
use hubnet_proto::v1 as pb;
use serde::{Deserialize, Serialize};

use crate::draft::{DraftError, LinkDraft, Localized, localized, opt_map, opt_str, record_id};
use crate::keys::parse_hex32;
use crate::validate::{BodyError, Checker, R, Rules, Size, digest, full_date};

/// How far ahead `reconfirm_by` may be: 24 months after the record's creation date.
pub const RECONFIRM_MONTHS: u32 = 24;

/// The latest `reconfirm_by` allowed for a record created on `created` (the same day 24 months
/// on; the last day of the month when that month is shorter).
pub fn latest_reconfirm_by(created: NaiveDate) -> NaiveDate {
    created
        .checked_add_months(Months::new(RECONFIRM_MONTHS))
        .unwrap_or(NaiveDate::MAX)
}

/// Checks an expert body (that `country` is the author's is checked with the header).
pub fn validate(p: &pb::Expert, rules: &Rules) -> R {
    let v = Checker::new(rules);
    v.localized("name", p.name.as_ref(), Size::Short, true)?;
    v.localized("position", p.position.as_ref(), Size::Short, false)?;
    match &p.institution {
        Some(pb::expert::Institution::InstitutionId(id)) => digest("institution.id", id)?,
        Some(pb::expert::Institution::InstitutionName(name)) => {
            v.localized("institution.name", Some(name), Size::Short, true)?;
        }
        None => {}
    }
    v.list_len("affiliations", p.affiliations.len())?;
    for (i, a) in p.affiliations.iter().enumerate() {
        let f = format!("affiliations[{i}]");
        match &a.organisation {
            Some(pb::affiliation::Organisation::OrganisationId(id)) => {
                digest(&format!("{f}.organisation.id"), id)?;
            }
            Some(pb::affiliation::Organisation::OrganisationName(name)) => {
                v.localized(
                    &format!("{f}.organisation.name"),
                    Some(name),
                    Size::Short,
                    true,
                )?;
            }
            None => {
                return Err(BodyError::MissingField {
                    field: format!("{f}.organisation"),
                });
            }
        }
        v.localized(&format!("{f}.role"), a.role.as_ref(), Size::Short, false)?;
        v.period(
            &f,
            &pb::Period {
                start: a.start.clone(),
                end: a.end.clone(),
            },
        )?;
    }
    v.topics("topics", &p.topics, true)?;
    v.languages("languages", &p.languages)?;
    if p.formats.is_empty() {
        return Err(BodyError::MissingField {
            field: "formats".into(),
        });
    }
    v.list_len("formats", p.formats.len())?;
    let mut seen = HashSet::new();
    for (i, f) in p.formats.iter().enumerate() {
        let Some(format) = ExpertFormat::from_proto(*f) else {
            return Err(BodyError::InvalidEnum {
                field: format!("formats[{i}]"),
                value: *f,
            });
        };
        if !seen.insert(format) {
            return Err(BodyError::Duplicate {
                field: "formats".into(),
                value: format.name().into(),
            });
        }
    }
    v.list_len("works", p.works.len())?;
    for (i, l) in p.works.iter().enumerate() {
        v.url(&format!("works[{i}].url"), &l.url, true)?;
        v.localized(
            &format!("works[{i}].title"),
            l.title.as_ref(),
            Size::Short,
            false,
        )?;
    }
    v.institutional_email("contact_email", &p.contact_email)?;
    v.country("country", &p.country)?;
    v.localized("summary", p.summary.as_ref(), Size::Summary, false)?;
    let created = rules.created_date();
    consent(p.consent.as_ref(), created)?;
    reconfirm_by(&p.reconfirm_by, created)
}

/// The consent: present, with a date (not after the creation date), a scope and the document's
/// hash.
fn consent(c: Option<&pb::Consent>, created: Option<NaiveDate>) -> R {
    let missing = |field: &str| BodyError::ConsentMissing {
        field: field.into(),
    };
    let Some(c) = c else {
        return Err(missing("consent"));
    };
    if c.date.is_empty() {
        return Err(missing("consent.date"));
    }
    let date = full_date("consent.date", &c.date)?;
    if let Some(created) = created
        && date > created
    {
        return Err(BodyError::AfterCreation {
            field: "consent.date".into(),
            value: c.date.clone(),
            created: created.format("%Y-%m-%d").to_string(),
        });
    }
    match pb::ConsentScope::try_from(c.scope) {
        Ok(pb::ConsentScope::HubNetworkAllMembers) => {}
        Ok(pb::ConsentScope::Unspecified) => return Err(missing("consent.scope")),
        Err(_) => {
            return Err(BodyError::InvalidEnum {
                field: "consent.scope".into(),
                value: c.scope,
            });
        }
    }
    if c.document_sha256.is_empty() {
        return Err(missing("consent.document_sha256"));
    }
    digest("consent.document_sha256", &c.document_sha256)
}

/// `reconfirm_by`: a full date, not before the creation date and at most
/// [`RECONFIRM_MONTHS`] after it.
fn reconfirm_by(value: &str, created: Option<NaiveDate>) -> R {
    let field = "reconfirm_by";
    if value.is_empty() {
        return Err(BodyError::MissingField {
            field: field.into(),
        });
    }
    let date = full_date(field, value)?;
    let Some(created) = created else {
        return Ok(());
    };
    if date < created {
        return Err(BodyError::ReconfirmByPast {
            field: field.into(),
            value: value.into(),
            created: created.format("%Y-%m-%d").to_string(),
        });
    }
    let max = latest_reconfirm_by(created);
    if date > max {
        return Err(BodyError::ReconfirmByTooFar {
            field: field.into(),
            value: value.into(),
            max: max.format("%Y-%m-%d").to_string(),
        });
    }
    Ok(())
}

/// What an expert offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpertFormat {
    /// A peer review.
    PeerReview,
    /// An expert mission.
    ExpertMission,
    /// Hosting or guiding a study visit.
    StudyVisit,
    /// A talk.
    Speaker,
    /// Mentoring.
    Mentoring,
    /// A workshop.
    Workshop,
}

impl ExpertFormat {
    /// Every format, in the order of the enum.
    pub const ALL: [ExpertFormat; 6] = [
        ExpertFormat::PeerReview,
        ExpertFormat::ExpertMission,
        ExpertFormat::StudyVisit,
        ExpertFormat::Speaker,
        ExpertFormat::Mentoring,
        ExpertFormat::Workshop,
    ];

    /// The name drafts, queries and exports use.
    pub fn name(self) -> &'static str {
        match self {
            ExpertFormat::PeerReview => "peer_review",
            ExpertFormat::ExpertMission => "expert_mission",
            ExpertFormat::StudyVisit => "study_visit",
            ExpertFormat::Speaker => "speaker",
            ExpertFormat::Mentoring => "mentoring",
            ExpertFormat::Workshop => "workshop",
        }
    }

    /// The format named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    fn to_proto(self) -> pb::ExpertFormat {
        match self {
            ExpertFormat::PeerReview => pb::ExpertFormat::PeerReview,
            ExpertFormat::ExpertMission => pb::ExpertFormat::ExpertMission,
            ExpertFormat::StudyVisit => pb::ExpertFormat::StudyVisit,
            ExpertFormat::Speaker => pb::ExpertFormat::Speaker,
            ExpertFormat::Mentoring => pb::ExpertFormat::Mentoring,
            ExpertFormat::Workshop => pb::ExpertFormat::Workshop,
        }
    }

    /// The format of a decoded value (`None`: unspecified or unknown).
    pub fn from_proto(value: i32) -> Option<Self> {
        Some(match pb::ExpertFormat::try_from(value).ok()? {
            pb::ExpertFormat::PeerReview => ExpertFormat::PeerReview,
            pb::ExpertFormat::ExpertMission => ExpertFormat::ExpertMission,
            pb::ExpertFormat::StudyVisit => ExpertFormat::StudyVisit,
            pb::ExpertFormat::Speaker => ExpertFormat::Speaker,
            pb::ExpertFormat::Mentoring => ExpertFormat::Mentoring,
            pb::ExpertFormat::Workshop => ExpertFormat::Workshop,
            pb::ExpertFormat::Unspecified => return None,
        })
    }
}

/// The scope of a consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentScope {
    /// Publication on the hub's network, to the public of every member state.
    HubNetworkAllMembers,
}

/// An organisation: an institution record (`id`, 64 hex) or a `name`, exactly one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct OrganisationDraft {
    /// Record id of an institution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Localized>,
}

/// An affiliation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AffiliationDraft {
    /// The organisation.
    pub organisation: OrganisationDraft,
    /// The role held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Localized>,
    /// Partial date.
    pub start: String,
    /// Partial date; absent while current.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
}

/// A consent. Every part is required; absent parts are refused by the body rules with
/// [`BodyError::ConsentMissing`] naming them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ConsentDraft {
    /// `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<ConsentScope>,
    /// SHA-256 of the consent document, 64 hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_sha256: Option<String>,
}

/// An expert draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ExpertDraft {
    /// Name.
    pub name: Localized,
    /// Current position.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<Localized>,
    /// Current institution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub institution: Option<OrganisationDraft>,
    /// Affiliations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub affiliations: Vec<AffiliationDraft>,
    /// Topic slugs.
    #[serde(default)]
    pub topics: Vec<String>,
    /// Working languages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// Formats offered.
    #[serde(default)]
    pub formats: Vec<ExpertFormat>,
    /// Selected works.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub works: Vec<LinkDraft>,
    /// Whether a serving public official.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub public_official: bool,
    /// Institutional contact address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    /// Consent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<ConsentDraft>,
    /// `YYYY-MM-DD`; defaults to 24 months after the creation date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconfirm_by: Option<String>,
    /// The publishing member's code; defaults to the author's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Localized>,
    /// Illustrative sample data.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sample: bool,
}

fn organisation_proto(
    field: &str,
    o: &OrganisationDraft,
) -> Result<Result<Vec<u8>, pb::LocalizedText>, DraftError> {
    match (&o.id, &o.name) {
        (Some(id), None) => Ok(Ok(record_id(&format!("{field}.id"), id)?)),
        (None, Some(name)) => Ok(Err(pb::LocalizedText { text: name.clone() })),
        (Some(_), Some(_)) => Err(DraftError::IdOrName {
            field: field.into(),
            given: "both",
        }),
        (None, None) => Err(DraftError::IdOrName {
            field: field.into(),
            given: "neither",
        }),
    }
}

impl ExpertDraft {
    /// The body of this draft; an absent `reconfirm_by` becomes 24 months after `created` (the
    /// record's creation date) when it is known.
    pub(crate) fn to_proto(
        &self,
        author_country: &str,
        created: Option<NaiveDate>,
    ) -> Result<pb::Expert, DraftError> {
        let institution = match &self.institution {
            Some(o) => Some(match organisation_proto("institution", o)? {
                Ok(id) => pb::expert::Institution::InstitutionId(id),
                Err(name) => pb::expert::Institution::InstitutionName(name),
            }),
            None => None,
        };
        let mut affiliations = Vec::with_capacity(self.affiliations.len());
        for (i, a) in self.affiliations.iter().enumerate() {
            let organisation = match organisation_proto(
                &format!("affiliations[{i}].organisation"),
                &a.organisation,
            )? {
                Ok(id) => pb::affiliation::Organisation::OrganisationId(id),
                Err(name) => pb::affiliation::Organisation::OrganisationName(name),
            };
            affiliations.push(pb::Affiliation {
                organisation: Some(organisation),
                role: localized(a.role.as_ref()),
                start: a.start.clone(),
                end: a.end.clone().unwrap_or_default(),
            });
        }
        let consent = match &self.consent {
            Some(c) => Some(pb::Consent {
                date: c.date.clone().unwrap_or_default(),
                scope: match c.scope {
                    Some(ConsentScope::HubNetworkAllMembers) => {
                        pb::ConsentScope::HubNetworkAllMembers as i32
                    }
                    None => pb::ConsentScope::Unspecified as i32,
                },
                document_sha256: match &c.document_sha256 {
                    Some(h) => parse_hex32(h)
                        .map_err(|_| DraftError::BadDigest {
                            field: "consent.document_sha256".into(),
                            value: h.clone(),
                        })?
                        .to_vec(),
                    None => Vec::new(),
                },
            }),
            None => None,
        };
        let reconfirm_by = match (&self.reconfirm_by, created) {
            (Some(d), _) => d.clone(),
            (None, Some(created)) => latest_reconfirm_by(created).format("%Y-%m-%d").to_string(),
            (None, None) => String::new(),
        };
        Ok(pb::Expert {
            name: localized(Some(&self.name)),
            position: localized(self.position.as_ref()),
            institution,
            affiliations,
            topics: self.topics.clone(),
            languages: self.languages.clone(),
            formats: self.formats.iter().map(|f| f.to_proto() as i32).collect(),
            works: self
                .works
                .iter()
                .map(|l| pb::Link {
                    url: l.url.clone(),
                    title: localized(l.title.as_ref()),
                })
                .collect(),
            public_official: self.public_official,
            contact_email: self.contact_email.clone().unwrap_or_default(),
            consent,
            reconfirm_by,
            country: self
                .country
                .clone()
                .unwrap_or_else(|| author_country.to_owned()),
            summary: localized(self.summary.as_ref()),
            sample: self.sample,
        })
    }

    /// The draft view of a decoded message.
    pub fn from_proto(p: &pb::Expert) -> Self {
        let organisation =
            |id: Option<&Vec<u8>>, name: Option<&pb::LocalizedText>| OrganisationDraft {
                id: id.map(hex::encode),
                name: name.map(|n| n.text.clone()),
            };
        Self {
            name: opt_map(p.name.as_ref()).unwrap_or_default(),
            position: opt_map(p.position.as_ref()),
            institution: p.institution.as_ref().map(|i| match i {
                pb::expert::Institution::InstitutionId(id) => organisation(Some(id), None),
                pb::expert::Institution::InstitutionName(n) => organisation(None, Some(n)),
            }),
            affiliations: p
                .affiliations
                .iter()
                .map(|a| AffiliationDraft {
                    organisation: match &a.organisation {
                        Some(pb::affiliation::Organisation::OrganisationId(id)) => {
                            organisation(Some(id), None)
                        }
                        Some(pb::affiliation::Organisation::OrganisationName(n)) => {
                            organisation(None, Some(n))
                        }
                        None => OrganisationDraft::default(),
                    },
                    role: opt_map(a.role.as_ref()),
                    start: a.start.clone(),
                    end: opt_str(&a.end),
                })
                .collect(),
            topics: p.topics.clone(),
            languages: p.languages.clone(),
            formats: p
                .formats
                .iter()
                .filter_map(|f| ExpertFormat::from_proto(*f))
                .collect(),
            works: p
                .works
                .iter()
                .map(|l| LinkDraft {
                    url: l.url.clone(),
                    title: opt_map(l.title.as_ref()),
                })
                .collect(),
            public_official: p.public_official,
            contact_email: opt_str(&p.contact_email),
            consent: p.consent.as_ref().map(|c| ConsentDraft {
                date: opt_str(&c.date),
                scope: (c.scope == pb::ConsentScope::HubNetworkAllMembers as i32)
                    .then_some(ConsentScope::HubNetworkAllMembers),
                document_sha256: (!c.document_sha256.is_empty())
                    .then(|| hex::encode(&c.document_sha256)),
            }),
            reconfirm_by: opt_str(&p.reconfirm_by),
            country: opt_str(&p.country),
            summary: opt_map(p.summary.as_ref()),
            sample: p.sample,
        }
    }
}

#[cfg(test)]
mod tests;
