//! The institution kind: a ministry, civil-service agency, academy or school of public
//! administration, university or international organisation, which practices, events, reform
//! profiles and experts name by record id. Its message is `Institution` in
//! `proto/hubnet/v1/record.proto`; here are its body rules and its draft format. That a `parent`
//! names an institution record is a chain rule (`chain::check_references`).

use hubnet_proto::v1 as pb;
use serde::{Deserialize, Serialize};

use crate::draft::{DraftError, Localized, localized, opt_map, opt_str, record_id};
use crate::validate::{BodyError, Checker, R, Rules, Size, digest};

/// Checks an institution body.
pub fn validate(p: &pb::Institution, rules: &Rules) -> R {
    let v = Checker::new(rules);
    v.localized("name", p.name.as_ref(), Size::Short, true)?;
    if InstitutionType::from_proto(p.institution_type).is_none() {
        return Err(BodyError::InvalidEnum {
            field: "type".into(),
            value: p.institution_type,
        });
    }
    v.country("country", &p.country)?;
    if !p.parent.is_empty() {
        digest("parent", &p.parent)?;
    }
    v.localized("mandate", p.mandate.as_ref(), Size::Summary, false)?;
    v.url("website", &p.website, false)?;
    if !p.wikidata.is_empty() && !is_wikidata_id(&p.wikidata) {
        return Err(BodyError::InvalidIdentifier {
            field: "wikidata".into(),
            value: p.wikidata.clone(),
            scheme: "Wikidata (Q[1-9][0-9]*)",
        });
    }
    if !p.ror.is_empty() && !is_ror_id(&p.ror) {
        return Err(BodyError::InvalidIdentifier {
            field: "ror".into(),
            value: p.ror.clone(),
            scheme: "ROR (0[a-hj-km-np-tv-z0-9]{6}[0-9]{2})",
        });
    }
    v.topics("topics", &p.topics, false)?;
    v.languages("languages", &p.languages)?;
    v.institutional_email("contact_email", &p.contact_email)
}

/// Whether `s` is a Wikidata item id: `Q` and a number without leading zero.
pub fn is_wikidata_id(s: &str) -> bool {
    let Some(digits) = s.strip_prefix('Q') else {
        return false;
    };
    digits.len() <= 12
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.bytes().next().is_some_and(|b| b != b'0')
}

/// Whether `s` is a ROR id (the part after `https://ror.org/`): `0`, six characters of Crockford
/// base 32 in lower case (no `i`, `l`, `o`, `u`), two digits.
pub fn is_ror_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 9
        && b[0] == b'0'
        && b[1..7]
            .iter()
            .all(|c| c.is_ascii_digit() || (c.is_ascii_lowercase() && !b"ilou".contains(c)))
        && b[7..].iter().all(u8::is_ascii_digit)
}

/// What kind of institution it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstitutionType {
    /// A ministry.
    Ministry,
    /// A civil-service agency (or commission, council).
    CivilServiceAgency,
    /// An academy or school of public administration.
    AcademyOrSchool,
    /// A university.
    University,
    /// An international organisation.
    InternationalOrganisation,
    /// Anything else.
    Other,
}

impl InstitutionType {
    /// Every type, in the order of the enum.
    pub const ALL: [InstitutionType; 6] = [
        InstitutionType::Ministry,
        InstitutionType::CivilServiceAgency,
        InstitutionType::AcademyOrSchool,
        InstitutionType::University,
        InstitutionType::InternationalOrganisation,
        InstitutionType::Other,
    ];

    /// The name drafts, queries and exports use.
    pub fn name(self) -> &'static str {
        match self {
            InstitutionType::Ministry => "ministry",
            InstitutionType::CivilServiceAgency => "civil_service_agency",
            InstitutionType::AcademyOrSchool => "academy_or_school",
            InstitutionType::University => "university",
            InstitutionType::InternationalOrganisation => "international_organisation",
            InstitutionType::Other => "other",
        }
    }

    /// The type named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    fn to_proto(self) -> pb::InstitutionType {
        match self {
            InstitutionType::Ministry => pb::InstitutionType::Ministry,
            InstitutionType::CivilServiceAgency => pb::InstitutionType::CivilServiceAgency,
            InstitutionType::AcademyOrSchool => pb::InstitutionType::AcademyOrSchool,
            InstitutionType::University => pb::InstitutionType::University,
            InstitutionType::InternationalOrganisation => {
                pb::InstitutionType::InternationalOrganisation
            }
            InstitutionType::Other => pb::InstitutionType::Other,
        }
    }

    /// The type of a decoded value (`None`: unspecified or unknown).
    pub fn from_proto(value: i32) -> Option<Self> {
        Some(match pb::InstitutionType::try_from(value).ok()? {
            pb::InstitutionType::Ministry => InstitutionType::Ministry,
            pb::InstitutionType::CivilServiceAgency => InstitutionType::CivilServiceAgency,
            pb::InstitutionType::AcademyOrSchool => InstitutionType::AcademyOrSchool,
            pb::InstitutionType::University => InstitutionType::University,
            pb::InstitutionType::InternationalOrganisation => {
                InstitutionType::InternationalOrganisation
            }
            pb::InstitutionType::Other => InstitutionType::Other,
            pb::InstitutionType::Unspecified => return None,
        })
    }
}

/// An institution draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstitutionDraft {
    /// Official name.
    pub name: Localized,
    /// Type.
    #[serde(rename = "type")]
    pub institution_type: InstitutionType,
    /// Country; defaults to the author's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Record id of the parent institution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Mandate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mandate: Option<Localized>,
    /// Website.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// Wikidata item id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wikidata: Option<String>,
    /// ROR id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ror: Option<String>,
    /// Topic slugs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    /// Working languages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// General contact address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    /// Illustrative sample data.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sample: bool,
}

impl InstitutionDraft {
    pub(crate) fn to_proto(&self, author_country: &str) -> Result<pb::Institution, DraftError> {
        Ok(pb::Institution {
            name: localized(Some(&self.name)),
            institution_type: self.institution_type.to_proto() as i32,
            country: self
                .country
                .clone()
                .unwrap_or_else(|| author_country.to_owned()),
            parent: match &self.parent {
                Some(s) => record_id("parent", s)?,
                None => Vec::new(),
            },
            mandate: localized(self.mandate.as_ref()),
            website: self.website.clone().unwrap_or_default(),
            wikidata: self.wikidata.clone().unwrap_or_default(),
            ror: self.ror.clone().unwrap_or_default(),
            topics: self.topics.clone(),
            languages: self.languages.clone(),
            contact_email: self.contact_email.clone().unwrap_or_default(),
            sample: self.sample,
        })
    }

    /// The draft view of a decoded message.
    pub fn from_proto(p: &pb::Institution) -> Self {
        Self {
            name: opt_map(p.name.as_ref()).unwrap_or_default(),
            institution_type: InstitutionType::from_proto(p.institution_type)
                .unwrap_or(InstitutionType::Other),
            country: opt_str(&p.country),
            parent: (!p.parent.is_empty()).then(|| hex::encode(&p.parent)),
            mandate: opt_map(p.mandate.as_ref()),
            website: opt_str(&p.website),
            wikidata: opt_str(&p.wikidata),
            ror: opt_str(&p.ror),
            topics: p.topics.clone(),
            languages: p.languages.clone(),
            contact_email: opt_str(&p.contact_email),
            sample: p.sample,
        }
    }
}

#[cfg(test)]
mod tests;
