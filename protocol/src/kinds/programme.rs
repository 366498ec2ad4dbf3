//! The programme kind: a joint programme or project of several members, published by its lead
//! member, with participants and their roles and contributions, status, dates, budget, a results
//! framework, related programmes and links to the records it produced. Its message is
//! `Programme` in `proto/hubnet/v1/record.proto`; here are its body rules and its draft format.
//! That every other participating member stands behind it is derived from their `confirmation`
//! records ([`crate::confirmations`]). Field meanings follow the IATI activity standard 2.03.

use std::collections::HashSet;

use chrono::NaiveDate;
use hubnet_proto::v1 as pb;
use serde::{Deserialize, Serialize};

use super::reform_profile::{Finite, MeasureDraft, measure, measure_draft, measure_proto};
use crate::draft::{DraftError, Localized, localized, opt_map, opt_str, record_id, record_ids};
use crate::validate::{BodyError, Checker, R, Rules, Size, digest, full_date};

/// Declares a draft enum named after a proto enum: its draft names, `ALL`, and the conversions
/// (the variants must be the proto enum's, as prost names them).
macro_rules! draft_enum {
    ($(#[$m:meta])* $name:ident => $pb:ident {
        $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)?
    }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in the order of the proto enum.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name drafts, queries and exports use.
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The value named `name`.
            pub fn from_name(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.name() == name)
            }

            /// Its proto value.
            pub fn to_proto(self) -> pb::$pb {
                match self {
                    $($name::$variant => pb::$pb::$variant),+
                }
            }

            /// The value of a decoded number (`None`: unspecified or unknown).
            pub fn from_proto(value: i32) -> Option<Self> {
                match pb::$pb::try_from(value).ok()? {
                    $(pb::$pb::$variant => Some($name::$variant),)+
                    pb::$pb::Unspecified => None,
                }
            }
        }
    };
}

draft_enum! {
    /// Where a programme stands (IATI ActivityStatus 1 to 6).
    ProgrammeStatus => ProgrammeStatus {
        /// Being identified and prepared.
        Pipeline = "pipeline",
        /// Running.
        Implementation = "implementation",
        /// Activities done, being closed.
        Completion = "completion",
        /// Closed; results still reported.
        PostCompletion = "post_completion",
        /// Stopped before completion.
        Cancelled = "cancelled",
        /// Paused.
        Suspended = "suspended",
    }
}

draft_enum! {
    /// A participant's role.
    ParticipantRole => ParticipantRole {
        /// Proposes and runs the programme (the author).
        Lead = "lead",
        /// Provides funds.
        Funding = "funding",
        /// Carries out activities.
        Implementing = "implementing",
        /// Benefits from it.
        Beneficiary = "beneficiary",
        /// Answers for it.
        Accountable = "accountable",
    }
}

draft_enum! {
    /// What kind of contribution.
    ContributionType => ContributionType {
        /// Money.
        Cash = "cash",
        /// Staff time, venues, services.
        InKind = "in_kind",
    }
}

draft_enum! {
    /// A budget line's status (IATI BudgetStatus).
    BudgetStatus => BudgetStatus {
        /// An estimate.
        Indicative = "indicative",
        /// Formally committed.
        Committed = "committed",
    }
}

draft_enum! {
    /// A result's level (IATI ResultType 1 to 3).
    ResultType => ResultType {
        /// What the programme delivers.
        Output = "output",
        /// The change it brings about.
        Outcome = "outcome",
        /// The long-term effect.
        Impact = "impact",
    }
}

draft_enum! {
    /// How an indicator is measured (IATI IndicatorMeasure 1 and 2).
    IndicatorMeasure => IndicatorMeasure {
        /// A count or amount.
        Unit = "unit",
        /// A percentage.
        Percentage = "percentage",
    }
}

draft_enum! {
    /// How another programme relates (IATI RelatedActivityType 1 to 3).
    RelationType => RelationType {
        /// This one is part of it.
        Parent = "parent",
        /// It is part of this one.
        Child = "child",
        /// Both are parts of the same parent.
        Sibling = "sibling",
    }
}

/// Checks a programme body (that its lead is the author and its members are the charter's is
/// checked with the header: [`crate::Body::check_author`], [`crate::Body::check_members`]).
pub fn validate(p: &pb::Programme, rules: &Rules) -> R {
    let v = Checker::new(rules);
    v.localized("title", p.title.as_ref(), Size::Short, true)?;
    v.localized("description", p.description.as_ref(), Size::Body, true)?;
    v.localized("objectives", p.objectives.as_ref(), Size::Body, false)?;
    participants(&v, &p.participants)?;
    if ProgrammeStatus::from_proto(p.status).is_none() {
        return Err(BodyError::InvalidEnum {
            field: "status".into(),
            value: p.status,
        });
    }
    let span = span(p)?;
    v.list_len("countries", p.countries.len())?;
    let mut seen = HashSet::new();
    for (i, c) in p.countries.iter().enumerate() {
        v.country(&format!("countries[{i}]"), c)?;
        if !seen.insert(c) {
            return Err(BodyError::Duplicate {
                field: "countries".into(),
                value: c.clone(),
            });
        }
    }
    v.topics("topics", &p.topics, false)?;
    v.list_len("budget", p.budget.len())?;
    for (i, b) in p.budget.iter().enumerate() {
        let f = format!("budget[{i}]");
        dates(
            &f,
            "period_start",
            &b.period_start,
            "period_end",
            &b.period_end,
        )?;
        amount(
            &format!("{f}.value"),
            &b.value,
            &format!("{f}.currency"),
            &b.currency,
        )?;
        if BudgetStatus::from_proto(b.status).is_none() {
            return Err(BodyError::InvalidEnum {
                field: format!("{f}.status"),
                value: b.status,
            });
        }
    }
    v.list_len("results", p.results.len())?;
    for (i, r) in p.results.iter().enumerate() {
        result(&v, &format!("results[{i}]"), r, span)?;
    }
    v.list_len("related", p.related.len())?;
    let mut seen = HashSet::new();
    for (i, r) in p.related.iter().enumerate() {
        let f = format!("related[{i}]");
        digest(&format!("{f}.id"), &r.id)?;
        if RelationType::from_proto(r.relation).is_none() {
            return Err(BodyError::InvalidEnum {
                field: format!("{f}.relation"),
                value: r.relation,
            });
        }
        if !seen.insert(r.id.as_slice()) {
            return Err(BodyError::Duplicate {
                field: "related".into(),
                value: hex::encode(&r.id),
            });
        }
    }
    for (field, ids) in links(p) {
        v.institution_ids(field, ids)?;
    }
    if !p.endorsed_by.is_empty() {
        digest("endorsed_by", &p.endorsed_by)?;
    }
    Ok(())
}

/// The record-id lists that link a programme to other records, with the kind each must name.
pub(crate) fn links(p: &pb::Programme) -> [(&'static str, &[Vec<u8>]); 5] {
    [
        ("practice_ids", &p.practice_ids),
        ("event_ids", &p.event_ids),
        ("reform_profile_ids", &p.reform_profile_ids),
        ("institution_ids", &p.institution_ids),
        ("expert_ids", &p.expert_ids),
    ]
}

fn participants(v: &Checker, list: &[pb::Participant]) -> R {
    if list.len() < 2 {
        return Err(BodyError::TooFewItems {
            field: "participants".into(),
            count: list.len(),
            min: 2,
        });
    }
    v.list_len("participants", list.len())?;
    let mut seen = HashSet::new();
    let mut leads = 0;
    for (i, p) in list.iter().enumerate() {
        let f = format!("participants[{i}]");
        let who = match &p.who {
            Some(pb::participant::Who::Member(code)) => {
                v.country(&format!("{f}.member"), code)?;
                code.clone()
            }
            Some(pb::participant::Who::InstitutionId(id)) => {
                digest(&format!("{f}.institution"), id)?;
                hex::encode(id)
            }
            None => {
                return Err(BodyError::MissingField {
                    field: format!("{f}.member"),
                });
            }
        };
        if !seen.insert(who.clone()) {
            return Err(BodyError::Duplicate {
                field: "participants".into(),
                value: who,
            });
        }
        if p.roles.is_empty() {
            return Err(BodyError::MissingField {
                field: format!("{f}.roles"),
            });
        }
        v.list_len(&format!("{f}.roles"), p.roles.len())?;
        let mut roles = HashSet::new();
        for r in &p.roles {
            let Some(role) = ParticipantRole::from_proto(*r) else {
                return Err(BodyError::InvalidEnum {
                    field: format!("{f}.roles"),
                    value: *r,
                });
            };
            if !roles.insert(role) {
                return Err(BodyError::Duplicate {
                    field: format!("{f}.roles"),
                    value: role.name().into(),
                });
            }
            if role == ParticipantRole::Lead {
                if !matches!(p.who, Some(pb::participant::Who::Member(_))) {
                    return Err(BodyError::LeadNotMember { field: f.clone() });
                }
                leads += 1;
            }
        }
        v.list_len(&format!("{f}.contributions"), p.contributions.len())?;
        for (j, c) in p.contributions.iter().enumerate() {
            let cf = format!("{f}.contributions[{j}]");
            if ContributionType::from_proto(c.contribution_type).is_none() {
                return Err(BodyError::InvalidEnum {
                    field: format!("{cf}.type"),
                    value: c.contribution_type,
                });
            }
            amount(
                &format!("{cf}.amount"),
                &c.amount,
                &format!("{cf}.currency"),
                &c.currency,
            )?;
            v.localized(
                &format!("{cf}.description"),
                c.description.as_ref(),
                Size::Summary,
                false,
            )?;
        }
    }
    if leads != 1 {
        return Err(BodyError::LeadCount {
            field: "participants".into(),
            count: leads,
        });
    }
    Ok(())
}

/// The member codes a programme lists as participants, in order.
pub fn member_participants(p: &pb::Programme) -> Vec<&str> {
    p.participants
        .iter()
        .filter_map(|x| match &x.who {
            Some(pb::participant::Who::Member(code)) => Some(code.as_str()),
            _ => None,
        })
        .collect()
}

/// The lead's member code (the participant with the role lead), if any.
pub fn lead(p: &pb::Programme) -> Option<&str> {
    p.participants.iter().find_map(|x| match &x.who {
        Some(pb::participant::Who::Member(code))
            if x.roles.contains(&(pb::ParticipantRole::Lead as i32)) =>
        {
            Some(code.as_str())
        }
        _ => None,
    })
}

/// The programme's dates as one span: the actual start, else the planned start, to the actual
/// end, else the planned end (`None`: open). Checks every date and that no end precedes its
/// start.
fn span(p: &pb::Programme) -> Result<(NaiveDate, Option<NaiveDate>), BodyError> {
    if p.planned_start.is_empty() {
        return Err(BodyError::MissingField {
            field: "planned_start".into(),
        });
    }
    let (planned_start, planned_end) = dates(
        "",
        "planned_start",
        &p.planned_start,
        "planned_end",
        &p.planned_end,
    )?;
    if p.actual_start.is_empty() && !p.actual_end.is_empty() {
        return Err(BodyError::MissingField {
            field: "actual_start".into(),
        });
    }
    let actual = if p.actual_start.is_empty() {
        None
    } else {
        Some(dates(
            "",
            "actual_start",
            &p.actual_start,
            "actual_end",
            &p.actual_end,
        )?)
    };
    Ok(match actual {
        Some((start, end)) => (start, end.or(planned_end)),
        None => (planned_start, planned_end),
    })
}

/// Two full dates `{f}.{start}` (required) and `{f}.{end}` (optional), the end not before the
/// start.
fn dates(
    f: &str,
    start_field: &str,
    start: &str,
    end_field: &str,
    end: &str,
) -> Result<(NaiveDate, Option<NaiveDate>), BodyError> {
    let path = |name: &str| {
        if f.is_empty() {
            name.to_owned()
        } else {
            format!("{f}.{name}")
        }
    };
    if start.is_empty() {
        return Err(BodyError::MissingField {
            field: path(start_field),
        });
    }
    let first = full_date(&path(start_field), start)?;
    if end.is_empty() {
        return Ok((first, None));
    }
    let last = full_date(&path(end_field), end)?;
    if last < first {
        return Err(BodyError::EndBeforeStart {
            field: path(end_field),
            start: start.into(),
            end: end.into(),
        });
    }
    Ok((first, Some(last)))
}

fn result(v: &Checker, f: &str, r: &pb::ProgrammeResult, span: Span) -> R {
    if ResultType::from_proto(r.result_type).is_none() {
        return Err(BodyError::InvalidEnum {
            field: format!("{f}.type"),
            value: r.result_type,
        });
    }
    v.localized(&format!("{f}.title"), r.title.as_ref(), Size::Short, true)?;
    if r.indicators.is_empty() {
        return Err(BodyError::MissingField {
            field: format!("{f}.indicators"),
        });
    }
    v.list_len(&format!("{f}.indicators"), r.indicators.len())?;
    for (i, x) in r.indicators.iter().enumerate() {
        let f = format!("{f}.indicators[{i}]");
        v.localized(&format!("{f}.title"), x.title.as_ref(), Size::Short, true)?;
        if IndicatorMeasure::from_proto(x.measure).is_none() {
            return Err(BodyError::InvalidEnum {
                field: format!("{f}.measure"),
                value: x.measure,
            });
        }
        if let Some(b) = &x.baseline {
            measure(&f, "baseline.", b, None)?;
        }
        v.list_len(&format!("{f}.periods"), x.periods.len())?;
        for (j, p) in x.periods.iter().enumerate() {
            let f = format!("{f}.periods[{j}]");
            let (start, end) = dates(&f, "start", &p.start, "end", &p.end)?;
            let Some(end) = end else {
                return Err(BodyError::MissingField {
                    field: format!("{f}.end"),
                });
            };
            if !p.target.is_finite() {
                return Err(BodyError::NotFinite {
                    field: format!("{f}.target"),
                });
            }
            if let Some(actual) = p.actual {
                if !actual.is_finite() {
                    return Err(BodyError::NotFinite {
                        field: format!("{f}.actual"),
                    });
                }
                let (first, last) = span;
                if start < first || last.is_some_and(|last| end > last) {
                    return Err(BodyError::PeriodOutsideProgramme {
                        field: format!("{f}.actual"),
                        period: format!("{} to {}", p.start, p.end),
                        programme: match last {
                            Some(last) => format!("{first} to {last}"),
                            None => format!("from {first}"),
                        },
                    });
                }
            }
        }
    }
    Ok(())
}

type Span = (NaiveDate, Option<NaiveDate>);

/// A decimal amount in an active ISO 4217 currency: digits with at most one point, at most
/// 15 digits before it and no more after it than the currency's minor unit.
pub(crate) fn amount(field: &str, value: &str, currency_field: &str, currency: &str) -> R {
    let Some(c) = active_currency(currency) else {
        return Err(BodyError::UnknownCurrency {
            field: currency_field.into(),
            value: currency.into(),
        });
    };
    let decimals = c.exponent().unwrap_or(0);
    let bad = |reason: String| BodyError::InvalidAmount {
        field: field.into(),
        value: value.into(),
        reason,
    };
    if value.is_empty() {
        return Err(BodyError::MissingField {
            field: field.into(),
        });
    }
    let (whole, fraction) = match value.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (value, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
        return Err(bad(
            "a decimal number is digits with at most one point, e.g. 1200.50".into(),
        ));
    }
    if whole.len() > 15 {
        return Err(bad("at most 15 digits before the point".into()));
    }
    if let Some(f) = fraction
        && f.len() > usize::from(decimals)
    {
        return Err(bad(format!("{} has {decimals} decimal places", c.code())));
    }
    Ok(())
}

/// The currency of an ISO 4217 code in use: known, and neither a fund, a special code (gold,
/// SDR, testing, no currency) nor superseded.
pub fn active_currency(code: &str) -> Option<iso_currency::Currency> {
    iso_currency::Currency::from_code(code).filter(|c| c.flags().is_empty())
}

/// A participant draft: a member code or an institution record, roles and contributions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipantDraft {
    /// A member code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    /// Record id of an institution record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub institution: Option<String>,
    /// Roles.
    pub roles: Vec<ParticipantRole>,
    /// Contributions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contributions: Vec<ContributionDraft>,
}

/// A contribution draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContributionDraft {
    /// Cash or in kind.
    #[serde(rename = "type")]
    pub contribution_type: ContributionType,
    /// Decimal amount, as text ("250000.00").
    pub amount: String,
    /// ISO 4217 code.
    pub currency: String,
    /// What it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Localized>,
}

/// A budget line draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetDraft {
    /// First day.
    pub period_start: String,
    /// Last day.
    pub period_end: String,
    /// Decimal amount, as text.
    pub value: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Indicative or committed.
    pub status: BudgetStatus,
}

/// A result draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultDraft {
    /// Output, outcome or impact.
    #[serde(rename = "type")]
    pub result_type: ResultType,
    /// Title.
    pub title: Localized,
    /// Indicators.
    pub indicators: Vec<ResultIndicatorDraft>,
}

/// A result indicator draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultIndicatorDraft {
    /// Title.
    pub title: Localized,
    /// Unit or percentage.
    pub measure: IndicatorMeasure,
    /// Whether higher is better.
    #[serde(default)]
    pub ascending: bool,
    /// Value before the programme.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<MeasureDraft>,
    /// Targets and actuals.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub periods: Vec<ResultPeriodDraft>,
}

/// A reporting period draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultPeriodDraft {
    /// First day.
    pub start: String,
    /// Last day.
    pub end: String,
    /// Target.
    pub target: Finite,
    /// Actual, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual: Option<Finite>,
}

/// A related programme draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelatedDraft {
    /// Record id of the programme.
    pub id: String,
    /// Parent, child or sibling.
    pub relation: RelationType,
}

/// A programme draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgrammeDraft {
    /// Title.
    pub title: Localized,
    /// Description (Markdown).
    pub description: Localized,
    /// Objectives (Markdown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objectives: Option<Localized>,
    /// Participants.
    pub participants: Vec<ParticipantDraft>,
    /// Status.
    pub status: ProgrammeStatus,
    /// Planned first day.
    pub planned_start: String,
    /// Planned last day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_end: Option<String>,
    /// Actual first day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_start: Option<String>,
    /// Actual last day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_end: Option<String>,
    /// Countries it works in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub countries: Vec<String>,
    /// Topic slugs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    /// Budget lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub budget: Vec<BudgetDraft>,
    /// Results framework.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<ResultDraft>,
    /// Related programmes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<RelatedDraft>,
    /// Practices it produced or builds on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub practice_ids: Vec<String>,
    /// Events.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub event_ids: Vec<String>,
    /// Reform profiles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reform_profile_ids: Vec<String>,
    /// Institutions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub institution_ids: Vec<String>,
    /// Experts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expert_ids: Vec<String>,
    /// Id of the Steering Committee decision that endorsed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endorsed_by: Option<String>,
    /// Illustrative sample data.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sample: bool,
}

impl ProgrammeDraft {
    pub(crate) fn to_proto(&self) -> Result<pb::Programme, DraftError> {
        let participants = self
            .participants
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let field = format!("participants[{i}]");
                let who = match (&p.member, &p.institution) {
                    (Some(code), None) => pb::participant::Who::Member(code.clone()),
                    (None, Some(id)) => pb::participant::Who::InstitutionId(record_id(
                        &format!("{field}.institution"),
                        id,
                    )?),
                    (Some(_), Some(_)) => {
                        return Err(DraftError::MemberOrInstitution {
                            field,
                            given: "both",
                        });
                    }
                    (None, None) => {
                        return Err(DraftError::MemberOrInstitution {
                            field,
                            given: "neither",
                        });
                    }
                };
                Ok(pb::Participant {
                    who: Some(who),
                    roles: p.roles.iter().map(|r| r.to_proto() as i32).collect(),
                    contributions: p
                        .contributions
                        .iter()
                        .map(|c| pb::Contribution {
                            contribution_type: c.contribution_type.to_proto() as i32,
                            amount: c.amount.clone(),
                            currency: c.currency.clone(),
                            description: localized(c.description.as_ref()),
                        })
                        .collect(),
                })
            })
            .collect::<Result<_, DraftError>>()?;
        let related = self
            .related
            .iter()
            .enumerate()
            .map(|(i, r)| {
                Ok(pb::RelatedProgramme {
                    id: record_id(&format!("related[{i}].id"), &r.id)?,
                    relation: r.relation.to_proto() as i32,
                })
            })
            .collect::<Result<_, DraftError>>()?;
        Ok(pb::Programme {
            title: localized(Some(&self.title)),
            description: localized(Some(&self.description)),
            objectives: localized(self.objectives.as_ref()),
            participants,
            status: self.status.to_proto() as i32,
            planned_start: self.planned_start.clone(),
            planned_end: self.planned_end.clone().unwrap_or_default(),
            actual_start: self.actual_start.clone().unwrap_or_default(),
            actual_end: self.actual_end.clone().unwrap_or_default(),
            countries: self.countries.clone(),
            topics: self.topics.clone(),
            budget: self
                .budget
                .iter()
                .map(|b| pb::BudgetLine {
                    period_start: b.period_start.clone(),
                    period_end: b.period_end.clone(),
                    value: b.value.clone(),
                    currency: b.currency.clone(),
                    status: b.status.to_proto() as i32,
                })
                .collect(),
            results: self
                .results
                .iter()
                .map(|r| pb::ProgrammeResult {
                    result_type: r.result_type.to_proto() as i32,
                    title: localized(Some(&r.title)),
                    indicators: r
                        .indicators
                        .iter()
                        .map(|x| pb::ResultIndicator {
                            title: localized(Some(&x.title)),
                            measure: x.measure.to_proto() as i32,
                            ascending: x.ascending,
                            baseline: x.baseline.map(measure_proto),
                            periods: x
                                .periods
                                .iter()
                                .map(|p| pb::ResultPeriod {
                                    start: p.start.clone(),
                                    end: p.end.clone(),
                                    target: p.target.0,
                                    actual: p.actual.map(|a| a.0),
                                })
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
            related,
            practice_ids: record_ids("practice_ids", &self.practice_ids)?,
            event_ids: record_ids("event_ids", &self.event_ids)?,
            reform_profile_ids: record_ids("reform_profile_ids", &self.reform_profile_ids)?,
            institution_ids: record_ids("institution_ids", &self.institution_ids)?,
            expert_ids: record_ids("expert_ids", &self.expert_ids)?,
            endorsed_by: match &self.endorsed_by {
                Some(s) => record_id("endorsed_by", s)?,
                None => Vec::new(),
            },
            sample: self.sample,
        })
    }

    /// The draft view of a decoded message (unknown enum values shown as the first value; the
    /// body rules refuse them before any record holds one).
    pub fn from_proto(p: &pb::Programme) -> Self {
        let hexes = |ids: &[Vec<u8>]| ids.iter().map(hex::encode).collect::<Vec<_>>();
        Self {
            title: opt_map(p.title.as_ref()).unwrap_or_default(),
            description: opt_map(p.description.as_ref()).unwrap_or_default(),
            objectives: opt_map(p.objectives.as_ref()),
            participants: p
                .participants
                .iter()
                .map(|x| ParticipantDraft {
                    member: match &x.who {
                        Some(pb::participant::Who::Member(c)) => Some(c.clone()),
                        _ => None,
                    },
                    institution: match &x.who {
                        Some(pb::participant::Who::InstitutionId(id)) => Some(hex::encode(id)),
                        _ => None,
                    },
                    roles: x
                        .roles
                        .iter()
                        .filter_map(|r| ParticipantRole::from_proto(*r))
                        .collect(),
                    contributions: x
                        .contributions
                        .iter()
                        .map(|c| ContributionDraft {
                            contribution_type: ContributionType::from_proto(c.contribution_type)
                                .unwrap_or(ContributionType::Cash),
                            amount: c.amount.clone(),
                            currency: c.currency.clone(),
                            description: opt_map(c.description.as_ref()),
                        })
                        .collect(),
                })
                .collect(),
            status: ProgrammeStatus::from_proto(p.status).unwrap_or(ProgrammeStatus::Pipeline),
            planned_start: p.planned_start.clone(),
            planned_end: opt_str(&p.planned_end),
            actual_start: opt_str(&p.actual_start),
            actual_end: opt_str(&p.actual_end),
            countries: p.countries.clone(),
            topics: p.topics.clone(),
            budget: p
                .budget
                .iter()
                .map(|b| BudgetDraft {
                    period_start: b.period_start.clone(),
                    period_end: b.period_end.clone(),
                    value: b.value.clone(),
                    currency: b.currency.clone(),
                    status: BudgetStatus::from_proto(b.status).unwrap_or(BudgetStatus::Indicative),
                })
                .collect(),
            results: p
                .results
                .iter()
                .map(|r| ResultDraft {
                    result_type: ResultType::from_proto(r.result_type)
                        .unwrap_or(ResultType::Output),
                    title: opt_map(r.title.as_ref()).unwrap_or_default(),
                    indicators: r
                        .indicators
                        .iter()
                        .map(|x| ResultIndicatorDraft {
                            title: opt_map(x.title.as_ref()).unwrap_or_default(),
                            measure: IndicatorMeasure::from_proto(x.measure)
                                .unwrap_or(IndicatorMeasure::Unit),
                            ascending: x.ascending,
                            baseline: x.baseline.map(measure_draft),
                            periods: x
                                .periods
                                .iter()
                                .map(|p| ResultPeriodDraft {
                                    start: p.start.clone(),
                                    end: p.end.clone(),
                                    target: Finite(p.target),
                                    actual: p.actual.map(Finite),
                                })
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
            related: p
                .related
                .iter()
                .map(|r| RelatedDraft {
                    id: hex::encode(&r.id),
                    relation: RelationType::from_proto(r.relation).unwrap_or(RelationType::Sibling),
                })
                .collect(),
            practice_ids: hexes(&p.practice_ids),
            event_ids: hexes(&p.event_ids),
            reform_profile_ids: hexes(&p.reform_profile_ids),
            institution_ids: hexes(&p.institution_ids),
            expert_ids: hexes(&p.expert_ids),
            endorsed_by: (!p.endorsed_by.is_empty()).then(|| hex::encode(&p.endorsed_by)),
            sample: p.sample,
        }
    }
}

/// The part of a programme its participants confirm: the participants (with their roles and
/// contributions) and the budget. An amendment that changes it needs confirming again; one that
/// reports progress (status, dates, actuals) does not. SHA-256 of the two fields' encoding, as
/// a `Programme` holding only them.
pub fn terms_digest(p: &pb::Programme) -> [u8; 32] {
    use prost::Message;
    let terms = pb::Programme {
        participants: p.participants.clone(),
        budget: p.budget.clone(),
        ..Default::default()
    };
    crate::id::sha256(&terms.encode_to_vec())
}

#[cfg(test)]
mod tests;
