//! The reform profile kind: a member's signed statement of where its civil-service reforms stand
//! at a date (reforms with their status, indicators of the charter's catalogue with the year of
//! every value, findings), linked to its previous profile so that a country's profiles form a time
//! series. Its message is `ReformProfile` in `proto/hubnet/v1/record.proto`; here are its body
//! rules and its draft format.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate};
use hubnet_proto::v1 as pb;
use serde::{Deserialize, Serialize};

use crate::draft::{DraftError, Localized, PeriodDraft, localized, opt_map, opt_str, record_ids};
use crate::keys::parse_hex32;
use crate::validate::{BodyError, Checker, R, Rules, Size, digest, full_date, partial_date_strict};

/// Checks a reform profile body (that `country` is the author's is checked with the header).
pub fn validate(p: &pb::ReformProfile, rules: &Rules) -> R {
    let v = Checker::new(rules);
    v.localized("title", p.title.as_ref(), Size::Short, true)?;
    v.country("country", &p.country)?;
    if p.country == "HUB" {
        return Err(BodyError::NotAMemberState {
            field: "country".into(),
            value: p.country.clone(),
        });
    }
    if p.as_of.is_empty() {
        return Err(BodyError::MissingField {
            field: "as_of".into(),
        });
    }
    let as_of = full_date("as_of", &p.as_of)?;
    let after = |field: &str, value: String| BodyError::AfterAsOf {
        field: field.into(),
        value,
        as_of: p.as_of.clone(),
    };
    if let Some(period) = &p.period {
        let (first, last) = v.period("period", period)?;
        if first > as_of {
            return Err(after("period.start", period.start.clone()));
        }
        // A partial end (`2026`) may hold as_of; its first day may not be after it.
        if last.is_some() && partial_date_strict("period.end", &period.end)? > as_of {
            return Err(after("period.end", period.end.clone()));
        }
    }
    v.list_len("reform_areas", p.reform_areas.len())?;
    let mut seen = HashSet::new();
    for (i, area) in p.reform_areas.iter().enumerate() {
        reform_area(&v, &format!("reform_areas[{i}]"), area)?;
        if !seen.insert(area.as_str()) {
            return Err(BodyError::Duplicate {
                field: "reform_areas".into(),
                value: area.clone(),
            });
        }
    }
    v.list_len("reforms", p.reforms.len())?;
    for (i, r) in p.reforms.iter().enumerate() {
        reform(&v, &format!("reforms[{i}]"), r)?;
    }
    v.list_len("indicators", p.indicators.len())?;
    let mut seen = HashSet::new();
    for (i, x) in p.indicators.iter().enumerate() {
        indicator(&v, &format!("indicators[{i}]"), x, as_of)?;
        if !seen.insert(x.code.as_str()) {
            return Err(BodyError::Duplicate {
                field: "indicators".into(),
                value: x.code.clone(),
            });
        }
    }
    v.localized("summary", p.summary.as_ref(), Size::Summary, false)?;
    v.localized("findings", p.findings.as_ref(), Size::Body, false)?;
    v.localized("challenges", p.challenges.as_ref(), Size::Body, false)?;
    v.localized("next_steps", p.next_steps.as_ref(), Size::Body, false)?;
    v.list_len("evidence", p.evidence.len())?;
    let mut seen = HashSet::new();
    for (i, id) in p.evidence.iter().enumerate() {
        digest(&format!("evidence[{i}]"), id)?;
        if !seen.insert(id.as_slice()) {
            return Err(BodyError::Duplicate {
                field: "evidence".into(),
                value: hex::encode(id),
            });
        }
    }
    if !p.previous.is_empty() {
        digest("previous", &p.previous)?;
    }
    v.institution_ids("institution_ids", &p.institution_ids)?;
    v.text("license", &p.license, Size::Short, false)
}

fn reform_area(v: &Checker, field: &str, slug: &str) -> R {
    let vocabulary = v.vocabulary();
    if vocabulary.is_reform_area(slug) || vocabulary.is_topic(slug) {
        Ok(())
    } else {
        Err(BodyError::UnknownReformArea {
            field: field.into(),
            slug: slug.into(),
        })
    }
}

fn reform(v: &Checker, f: &str, r: &pb::Reform) -> R {
    v.localized(&format!("{f}.title"), r.title.as_ref(), Size::Short, true)?;
    if pb::ReformStatus::try_from(r.status).map_or(true, |s| s == pb::ReformStatus::Unspecified) {
        return Err(BodyError::InvalidEnum {
            field: format!("{f}.status"),
            value: r.status,
        });
    }
    if !r.reform_area.is_empty() {
        reform_area(v, &format!("{f}.reform_area"), &r.reform_area)?;
    }
    if let Some(act) = &r.legal_act {
        let g = format!("{f}.legal_act");
        v.localized(&format!("{g}.name"), act.name.as_ref(), Size::Short, true)?;
        v.text(&format!("{g}.number"), &act.number, Size::Short, false)?;
        if !act.date.is_empty() {
            full_date(&format!("{g}.date"), &act.date)?;
        }
        v.url(&format!("{g}.url"), &act.url, false)?;
    }
    v.localized(
        &format!("{f}.lead_institution"),
        r.lead_institution.as_ref(),
        Size::Short,
        false,
    )?;
    if let Some(period) = &r.period {
        v.period(&format!("{f}.period"), period)?;
    }
    v.localized(
        &format!("{f}.objectives"),
        r.objectives.as_ref(),
        Size::Summary,
        false,
    )
}

fn indicator(v: &Checker, f: &str, x: &pb::IndicatorValue, as_of: NaiveDate) -> R {
    let Some(entry) = v.vocabulary().indicator(&x.code) else {
        return Err(BodyError::UnknownIndicator {
            field: format!("{f}.code"),
            code: x.code.clone(),
        });
    };
    match (&x.value, &x.not_available) {
        (Some(m), None) => measure(f, "", m, Some(as_of))?,
        (None, Some(_)) => v.localized(
            &format!("{f}.not_available"),
            x.not_available.as_ref(),
            Size::Summary,
            true,
        )?,
        (Some(_), Some(_)) => {
            return Err(BodyError::ValueOrNotAvailable {
                field: f.into(),
                given: "both",
            });
        }
        (None, None) => {
            return Err(BodyError::ValueOrNotAvailable {
                field: f.into(),
                given: "neither",
            });
        }
    }
    if !x.unit.is_empty() && x.unit != entry.unit {
        return Err(BodyError::UnitMismatch {
            field: format!("{f}.unit"),
            code: x.code.clone(),
            unit: x.unit.clone(),
            expected: entry.unit.clone(),
        });
    }
    if let Some(s) = &x.source {
        v.localized(
            &format!("{f}.source.name"),
            s.name.as_ref(),
            Size::Short,
            true,
        )?;
        v.url(&format!("{f}.source.url"), &s.url, false)?;
        v.text(
            &format!("{f}.source.license"),
            &s.license,
            Size::Short,
            false,
        )?;
    }
    if let Some(b) = &x.baseline {
        measure(f, "baseline.", b, Some(as_of))?;
    }
    if let Some(t) = &x.target {
        measure(f, "target.", t, None)?;
    }
    Ok(())
}

/// A finite value with a year in 1900..=9999, not after `not_after`'s year when given. Field
/// names follow the draft: `{f}.{prefix}value` and `{f}.{prefix}year`.
pub(crate) fn measure(f: &str, prefix: &str, m: &pb::Measure, not_after: Option<NaiveDate>) -> R {
    if !m.value.is_finite() {
        return Err(BodyError::NotFinite {
            field: format!("{f}.{prefix}value"),
        });
    }
    let field = format!("{f}.{prefix}year");
    if m.year == 0 {
        return Err(BodyError::MissingField { field });
    }
    if !(1900..=9999).contains(&m.year) {
        return Err(BodyError::YearOutOfRange {
            field,
            year: m.year,
        });
    }
    if let Some(as_of) = not_after
        && i64::from(m.year) > i64::from(as_of.year())
    {
        return Err(BodyError::AfterAsOf {
            field,
            value: m.year.to_string(),
            as_of: as_of.format("%Y-%m-%d").to_string(),
        });
    }
    Ok(())
}

/// A number that is finite (drafts refuse NaN and infinities as they parse).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Finite(pub f64);

impl Eq for Finite {}

impl<'de> Deserialize<'de> for Finite {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        if v.is_finite() {
            Ok(Finite(v))
        } else {
            Err(serde::de::Error::custom("a value must be a finite number"))
        }
    }
}

/// Reform status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReformStatus {
    /// Planned, not yet adopted.
    Planned,
    /// Adopted (a legal act or decision), not yet implemented.
    Adopted,
    /// Being implemented.
    InImplementation,
    /// Completed.
    Completed,
    /// Suspended.
    Suspended,
    /// Reversed.
    Reversed,
}

impl ReformStatus {
    /// The name drafts, exports and the UI use.
    pub fn name(self) -> &'static str {
        match self {
            ReformStatus::Planned => "planned",
            ReformStatus::Adopted => "adopted",
            ReformStatus::InImplementation => "in-implementation",
            ReformStatus::Completed => "completed",
            ReformStatus::Suspended => "suspended",
            ReformStatus::Reversed => "reversed",
        }
    }

    fn to_proto(self) -> pb::ReformStatus {
        match self {
            ReformStatus::Planned => pb::ReformStatus::Planned,
            ReformStatus::Adopted => pb::ReformStatus::Adopted,
            ReformStatus::InImplementation => pb::ReformStatus::InImplementation,
            ReformStatus::Completed => pb::ReformStatus::Completed,
            ReformStatus::Suspended => pb::ReformStatus::Suspended,
            ReformStatus::Reversed => pb::ReformStatus::Reversed,
        }
    }

    /// The status of a decoded value (`None`: unspecified or unknown).
    pub fn from_proto(value: i32) -> Option<Self> {
        Some(match pb::ReformStatus::try_from(value).ok()? {
            pb::ReformStatus::Planned => ReformStatus::Planned,
            pb::ReformStatus::Adopted => ReformStatus::Adopted,
            pb::ReformStatus::InImplementation => ReformStatus::InImplementation,
            pb::ReformStatus::Completed => ReformStatus::Completed,
            pb::ReformStatus::Suspended => ReformStatus::Suspended,
            pb::ReformStatus::Reversed => ReformStatus::Reversed,
            pb::ReformStatus::Unspecified => return None,
        })
    }
}

/// A reform profile draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ReformProfileDraft {
    /// Title.
    pub title: Localized,
    /// The date it describes, `YYYY-MM-DD`.
    pub as_of: String,
    /// The member state; defaults to the author's (and must be it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// The period covered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<PeriodDraft>,
    /// Reform area or topic slugs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reform_areas: Vec<String>,
    /// Reforms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reforms: Vec<ReformDraft>,
    /// Indicators.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indicators: Vec<IndicatorDraft>,
    /// Summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Localized>,
    /// Findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub findings: Option<Localized>,
    /// Challenges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenges: Option<Localized>,
    /// Next steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_steps: Option<Localized>,
    /// Record ids of practices and events that evidence it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// Record id of the previous profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    /// SPDX licence id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// Illustrative sample data.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sample: bool,
    /// Record ids of institution records it names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub institution_ids: Vec<String>,
}

/// A reform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReformDraft {
    /// Title.
    pub title: Localized,
    /// Status.
    pub status: ReformStatus,
    /// Reform area or topic slug.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reform_area: Option<String>,
    /// The legal act.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_act: Option<LegalActDraft>,
    /// Lead institution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_institution: Option<Localized>,
    /// Start and end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<PeriodDraft>,
    /// Objectives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objectives: Option<Localized>,
}

/// A legal act.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegalActDraft {
    /// Name.
    pub name: Localized,
    /// Number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// Date, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// An indicator: `value` with its `year`, or `not_available` with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorDraft {
    /// Catalogue code.
    pub code: String,
    /// The value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Finite>,
    /// The year the value refers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<u32>,
    /// Why there is no value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_available: Option<Localized>,
    /// The unit (must be the catalogue's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Where the value comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceDraft>,
    /// Baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<MeasureDraft>,
    /// Target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<MeasureDraft>,
}

/// A value and its year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureDraft {
    /// The value.
    pub value: Finite,
    /// The year it refers to.
    pub year: u32,
}

/// A source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceDraft {
    /// Name.
    pub name: Localized,
    /// URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// SPDX licence id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
}

fn period_proto(p: Option<&PeriodDraft>) -> Option<pb::Period> {
    p.map(|p| pb::Period {
        start: p.start.clone(),
        end: p.end.clone().unwrap_or_default(),
    })
}

fn period_draft(p: Option<&pb::Period>) -> Option<PeriodDraft> {
    p.map(|p| PeriodDraft {
        start: p.start.clone(),
        end: opt_str(&p.end),
    })
}

fn id_bytes(field: String, s: &str) -> Result<Vec<u8>, DraftError> {
    parse_hex32(s)
        .map(|b| b.to_vec())
        .map_err(|_| DraftError::BadRecordId {
            field,
            value: s.to_owned(),
        })
}

impl ReformProfileDraft {
    pub(crate) fn to_proto(&self, author_country: &str) -> Result<pb::ReformProfile, DraftError> {
        let evidence = self
            .evidence
            .iter()
            .enumerate()
            .map(|(i, s)| id_bytes(format!("evidence[{i}]"), s))
            .collect::<Result<Vec<_>, _>>()?;
        let previous = match &self.previous {
            Some(s) => id_bytes("previous".into(), s)?,
            None => Vec::new(),
        };
        Ok(pb::ReformProfile {
            title: localized(Some(&self.title)),
            country: self
                .country
                .clone()
                .unwrap_or_else(|| author_country.to_owned()),
            as_of: self.as_of.clone(),
            period: period_proto(self.period.as_ref()),
            reform_areas: self.reform_areas.clone(),
            reforms: self
                .reforms
                .iter()
                .map(|r| pb::Reform {
                    title: localized(Some(&r.title)),
                    status: r.status.to_proto() as i32,
                    reform_area: r.reform_area.clone().unwrap_or_default(),
                    legal_act: r.legal_act.as_ref().map(|a| pb::LegalAct {
                        name: localized(Some(&a.name)),
                        number: a.number.clone().unwrap_or_default(),
                        date: a.date.clone().unwrap_or_default(),
                        url: a.url.clone().unwrap_or_default(),
                    }),
                    lead_institution: localized(r.lead_institution.as_ref()),
                    period: period_proto(r.period.as_ref()),
                    objectives: localized(r.objectives.as_ref()),
                })
                .collect(),
            indicators: self
                .indicators
                .iter()
                .map(|x| pb::IndicatorValue {
                    code: x.code.clone(),
                    // A value without its year becomes year 0, which the rules name.
                    value: x.value.map(|v| pb::Measure {
                        value: v.0,
                        year: x.year.unwrap_or(0),
                    }),
                    not_available: localized(x.not_available.as_ref()),
                    unit: x.unit.clone().unwrap_or_default(),
                    source: x.source.as_ref().map(|s| pb::Source {
                        name: localized(Some(&s.name)),
                        url: s.url.clone().unwrap_or_default(),
                        license: s.license.clone().unwrap_or_default(),
                    }),
                    baseline: x.baseline.map(measure_proto),
                    target: x.target.map(measure_proto),
                })
                .collect(),
            summary: localized(self.summary.as_ref()),
            findings: localized(self.findings.as_ref()),
            challenges: localized(self.challenges.as_ref()),
            next_steps: localized(self.next_steps.as_ref()),
            evidence,
            previous,
            license: self.license.clone().unwrap_or_default(),
            sample: self.sample,
            institution_ids: record_ids("institution_ids", &self.institution_ids)?,
        })
    }

    /// The draft view of a decoded message.
    pub fn from_proto(p: &pb::ReformProfile) -> Self {
        Self {
            title: opt_map(p.title.as_ref()).unwrap_or_default(),
            as_of: p.as_of.clone(),
            country: opt_str(&p.country),
            period: period_draft(p.period.as_ref()),
            reform_areas: p.reform_areas.clone(),
            reforms: p
                .reforms
                .iter()
                .map(|r| ReformDraft {
                    title: opt_map(r.title.as_ref()).unwrap_or_default(),
                    status: ReformStatus::from_proto(r.status).unwrap_or(ReformStatus::Planned),
                    reform_area: opt_str(&r.reform_area),
                    legal_act: r.legal_act.as_ref().map(|a| LegalActDraft {
                        name: opt_map(a.name.as_ref()).unwrap_or_default(),
                        number: opt_str(&a.number),
                        date: opt_str(&a.date),
                        url: opt_str(&a.url),
                    }),
                    lead_institution: opt_map(r.lead_institution.as_ref()),
                    period: period_draft(r.period.as_ref()),
                    objectives: opt_map(r.objectives.as_ref()),
                })
                .collect(),
            indicators: p
                .indicators
                .iter()
                .map(|x| IndicatorDraft {
                    code: x.code.clone(),
                    value: x.value.map(|m| Finite(m.value)),
                    year: x.value.map(|m| m.year).filter(|y| *y != 0),
                    not_available: opt_map(x.not_available.as_ref()),
                    unit: opt_str(&x.unit),
                    source: x.source.as_ref().map(|s| SourceDraft {
                        name: opt_map(s.name.as_ref()).unwrap_or_default(),
                        url: opt_str(&s.url),
                        license: opt_str(&s.license),
                    }),
                    baseline: x.baseline.map(measure_draft),
                    target: x.target.map(measure_draft),
                })
                .collect(),
            summary: opt_map(p.summary.as_ref()),
            findings: opt_map(p.findings.as_ref()),
            challenges: opt_map(p.challenges.as_ref()),
            next_steps: opt_map(p.next_steps.as_ref()),
            evidence: p.evidence.iter().map(hex::encode).collect(),
            previous: (!p.previous.is_empty()).then(|| hex::encode(&p.previous)),
            license: opt_str(&p.license),
            sample: p.sample,
            institution_ids: p.institution_ids.iter().map(hex::encode).collect(),
        }
    }
}

pub(crate) fn measure_proto(m: MeasureDraft) -> pb::Measure {
    pb::Measure {
        value: m.value.0,
        year: m.year,
    }
}

pub(crate) fn measure_draft(m: pb::Measure) -> MeasureDraft {
    MeasureDraft {
        value: Finite(m.value),
        year: m.year,
    }
}

#[cfg(test)]
mod tests;
