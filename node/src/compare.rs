//! Comparing reform profiles across countries, and what changed between two profiles of one
//! country: pure functions of the records held, so they can be tested exhaustively. The API
//! (`GET /api/v1/compare`, `GET /api/v1/countries/{code}`) and the web UI's `/compare` and
//! `/countries/{code}` pages show them.
//!
//! The profile *in force* for a country is its latest reform profile by `as_of` (at or before the
//! `as_of` asked for, if any) that is not retracted, as amended; ties go to the later publication.
//! Every cell of the indicator matrix names the signed record its content comes from (the
//! amendment's id when amended), so an answer can be checked without trusting the node.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use hubnet_proto::v1 as pb;
use hubnet_protocol::Charter;
use hubnet_protocol::kinds::reform_profile::ReformStatus;
use hubnet_protocol::vocabulary::Vocabulary;
use serde::Serialize;
use serde_json::{Value, json};

use crate::current::Current;

/// The fewest countries a comparison takes.
pub const MIN_COUNTRIES: usize = 2;
/// The most countries a comparison takes.
pub const MAX_COUNTRIES: usize = 4;

/// The parameters `GET /api/v1/compare` takes.
pub const PARAMETERS: &[&str] = &[
    "country",
    "area",
    "indicator",
    "as_of",
    "format",
    "display_lang",
];

/// Why a comparison cannot be made as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompareError {
    /// A parameter the endpoint does not take.
    #[error("unknown parameter `{0}`; the parameters are {list}", list = PARAMETERS.join(", "))]
    UnknownParameter(String),
    /// Fewer than two or more than four countries.
    #[error("give {MIN_COUNTRIES} to {MAX_COUNTRIES} different `country` values, not {0}")]
    CountryCount(usize),
    /// The same country twice.
    #[error("parameter `country`: {0} is given twice")]
    RepeatedCountry(String),
    /// A code that is no member state of the charter.
    #[error("parameter `country`: {0:?} is not a member state of the charter")]
    UnknownCountry(String),
    /// Not a reform area or topic of the vocabulary.
    #[error("parameter `area`: {0:?} is not a reform area or topic of the charter's vocabulary")]
    UnknownArea(String),
    /// Not an indicator of the catalogue.
    #[error("parameter `indicator`: {0:?} is not an indicator of the charter's catalogue")]
    UnknownIndicator(String),
    /// Not a date.
    #[error("parameter `as_of`: {0:?} is not a date (YYYY-MM-DD)")]
    BadDate(String),
    /// A parameter given twice that takes one value.
    #[error("parameter `{0}` is given twice; it takes one value")]
    Repeated(&'static str),
    /// An unknown output format.
    #[error("parameter `format`: {0:?} is not one of json, csv")]
    BadFormat(String),
}

/// A comparison asked for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompareRequest {
    /// Member codes, in the order asked.
    pub countries: Vec<String>,
    /// Reform areas (or topics): only indicators of these areas.
    pub areas: Vec<String>,
    /// Only these indicators (in catalogue order).
    pub indicators: Vec<String>,
    /// The profiles in force at this date (default: the latest).
    pub as_of: Option<NaiveDate>,
    /// `json` (default) or `csv`.
    pub csv: bool,
    /// The language of texts in the CSV.
    pub display_lang: Option<String>,
}

impl CompareRequest {
    /// Parses and checks query parameters against the charter.
    pub fn parse(
        pairs: impl IntoIterator<Item = (String, String)>,
        charter: &Charter,
    ) -> Result<Self, CompareError> {
        let mut r = CompareRequest::default();
        let mut as_of_seen = false;
        let mut format_seen = false;
        let vocabulary = charter.vocabulary();
        for (key, value) in pairs {
            let value = value.trim().to_owned();
            match key.as_str() {
                "country" => {
                    let code = value.to_ascii_uppercase();
                    if code == "HUB" || charter.member_by_code(&code).is_none() {
                        return Err(CompareError::UnknownCountry(value));
                    }
                    if r.countries.contains(&code) {
                        return Err(CompareError::RepeatedCountry(code));
                    }
                    r.countries.push(code);
                    if r.countries.len() > MAX_COUNTRIES {
                        return Err(CompareError::CountryCount(r.countries.len()));
                    }
                }
                "area" => {
                    if !vocabulary.is_reform_area(&value) && !vocabulary.is_topic(&value) {
                        return Err(CompareError::UnknownArea(value));
                    }
                    if !r.areas.contains(&value) {
                        r.areas.push(value);
                    }
                }
                "indicator" => {
                    if vocabulary.indicator(&value).is_none() {
                        return Err(CompareError::UnknownIndicator(value));
                    }
                    if !r.indicators.contains(&value) {
                        r.indicators.push(value);
                    }
                }
                "as_of" => {
                    if std::mem::replace(&mut as_of_seen, true) {
                        return Err(CompareError::Repeated("as_of"));
                    }
                    let date = (value.len() == 10)
                        .then(|| NaiveDate::parse_from_str(&value, "%Y-%m-%d").ok())
                        .flatten()
                        .ok_or(CompareError::BadDate(value))?;
                    r.as_of = Some(date);
                }
                "format" => {
                    if std::mem::replace(&mut format_seen, true) {
                        return Err(CompareError::Repeated("format"));
                    }
                    r.csv = match value.as_str() {
                        "json" => false,
                        "csv" => true,
                        _ => return Err(CompareError::BadFormat(value)),
                    };
                }
                "display_lang" => r.display_lang = Some(value),
                _ => return Err(CompareError::UnknownParameter(key)),
            }
        }
        if r.countries.len() < MIN_COUNTRIES {
            return Err(CompareError::CountryCount(r.countries.len()));
        }
        Ok(r)
    }
}

/// A reform profile as it stands, with what the comparison needs of it.
#[derive(Debug, Clone, Copy)]
pub struct InForce<'a> {
    /// The record and its amendment and retraction.
    pub item: &'a Current,
    /// The content in force.
    pub profile: &'a pb::ReformProfile,
    /// Its `as_of`.
    pub as_of: NaiveDate,
}

impl<'a> InForce<'a> {
    /// The profile in force of `item`, if it is a reform profile with a valid `as_of`.
    pub fn of(item: &'a Current) -> Option<Self> {
        let profile = item.content()?.reform_profile()?;
        let as_of = NaiveDate::parse_from_str(&profile.as_of, "%Y-%m-%d").ok()?;
        Some(Self {
            item,
            profile,
            as_of,
        })
    }

    /// The id of the signed record the content in force comes from.
    pub fn record_id(&self) -> String {
        self.item
            .amendment
            .as_ref()
            .map_or(self.item.id(), |a| a.id)
            .to_hex()
    }

    fn order(&self) -> (NaiveDate, i64, [u8; 32]) {
        (
            self.as_of,
            self.item.created_at(),
            *self.item.id().as_bytes(),
        )
    }
}

/// `country`'s profiles among `items` (not retracted), oldest `as_of` first.
pub fn profiles_of<'a>(items: &'a [Current], country: &str) -> Vec<InForce<'a>> {
    let mut out: Vec<InForce> = items
        .iter()
        .filter(|c| !c.retracted())
        .filter_map(InForce::of)
        .filter(|p| p.profile.country == country)
        .collect();
    out.sort_by_key(InForce::order);
    out
}

/// The profile in force for `country` at `as_of` (the latest if `None`).
pub fn in_force<'a>(
    items: &'a [Current],
    country: &str,
    as_of: Option<NaiveDate>,
) -> Option<InForce<'a>> {
    profiles_of(items, country)
        .into_iter()
        .rfind(|p| as_of.is_none_or(|d| p.as_of <= d))
}

/// One cell of the matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Cell {
    /// A value with the year it refers to.
    Value {
        /// The value.
        value: f64,
        /// The year it refers to.
        year: u32,
        /// The catalogue's unit.
        unit: String,
        /// Where it comes from, as the profile states it.
        source: Option<Value>,
        /// Baseline `{value, year}`, if stated.
        baseline: Option<Value>,
        /// Target `{value, year}`, if stated.
        target: Option<Value>,
        /// The signed record it comes from.
        record: String,
    },
    /// The profile says the value is not available, and why.
    NotAvailable {
        /// The reason, by language.
        reason: BTreeMap<String, String>,
        /// The signed record that says so.
        record: String,
    },
    /// The profile does not report this indicator.
    NotReported {
        /// The profile's record.
        record: String,
    },
    /// The country has no profile in force.
    NoProfile,
}

/// One indicator's row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Catalogue code.
    pub code: String,
    /// Names by language.
    pub name: BTreeMap<String, String>,
    /// Unit.
    pub unit: String,
    /// Whether higher is better.
    pub higher_is_better: bool,
    /// Its reform area.
    pub reform_area: String,
    /// One cell per country, in the order asked.
    pub cells: Vec<Cell>,
}

/// One country's column head.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Column {
    /// Member code.
    pub country: String,
    /// The member's names.
    pub name: BTreeMap<String, String>,
    /// The profile in force, or null.
    pub profile: Option<Value>,
}

/// An indicator-by-country matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The date asked for (null: the latest profiles).
    pub as_of: Option<String>,
    /// The countries, in the order asked.
    pub countries: Vec<Column>,
    /// The rows, in catalogue order.
    pub indicators: Vec<Row>,
}

/// The comparison `req` asks for, over `items` (the reform profiles held; others are ignored).
/// Rows are the catalogue's indicators, in its order: those asked for, or else those of the
/// areas asked for, or else every indicator one of the profiles reports (with a value or as not
/// available).
pub fn compare(req: &CompareRequest, items: &[Current], charter: &Charter) -> Comparison {
    let vocabulary = charter.vocabulary();
    let profiles: Vec<Option<InForce>> = req
        .countries
        .iter()
        .map(|c| in_force(items, c, req.as_of))
        .collect();
    let countries = req
        .countries
        .iter()
        .zip(&profiles)
        .map(|(code, p)| Column {
            country: code.clone(),
            name: charter
                .member_by_code(code)
                .map(|m| m.name.clone())
                .unwrap_or_default(),
            profile: p.as_ref().map(profile_head),
        })
        .collect();
    // Each column's record id, hex-encoded once rather than once per cell.
    let columns: Vec<Option<(InForce, String)>> = profiles
        .iter()
        .map(|p| p.map(|p| (p, p.record_id())))
        .collect();
    let reported = |code: &str| {
        profiles
            .iter()
            .flatten()
            .any(|p| p.profile.indicators.iter().any(|x| x.code == code))
    };
    let indicators = vocabulary
        .indicators
        .iter()
        .filter(|i| {
            if !req.indicators.is_empty() {
                req.indicators.contains(&i.code)
            } else if !req.areas.is_empty() {
                req.areas.contains(&i.reform_area) && reported(&i.code)
            } else {
                reported(&i.code)
            }
        })
        .map(|i| Row {
            code: i.code.clone(),
            name: i.name.clone(),
            unit: i.unit.clone(),
            higher_is_better: i.higher_is_better,
            reform_area: i.reform_area.clone(),
            cells: columns
                .iter()
                .map(|c| cell(c.as_ref(), &i.code, &i.unit))
                .collect(),
        })
        .collect();
    Comparison {
        as_of: req.as_of.map(|d| d.format("%Y-%m-%d").to_string()),
        countries,
        indicators,
    }
}

/// What a column shows of its profile: ids, dates, title, the previous profile.
pub fn profile_head(p: &InForce) -> Value {
    json!({
        "id": p.item.id().to_hex(),
        "record": p.record_id(),
        "as_of": p.profile.as_of,
        "title": p.profile.title.as_ref().map(|t| &t.text),
        "sample": p.profile.sample,
        "amended": p.item.amendment.is_some(),
        "previous": (!p.profile.previous.is_empty()).then(|| hex::encode(&p.profile.previous)),
    })
}

fn measure(m: Option<&pb::Measure>) -> Option<Value> {
    m.map(|m| json!({"value": m.value, "year": m.year}))
}

/// The cell of indicator `code` for a column: its profile in force and that profile's record id.
fn cell(column: Option<&(InForce, String)>, code: &str, unit: &str) -> Cell {
    let Some((p, record)) = column else {
        return Cell::NoProfile;
    };
    let record = record.clone();
    let Some(x) = p.profile.indicators.iter().find(|x| x.code == code) else {
        return Cell::NotReported { record };
    };
    match (&x.value, &x.not_available) {
        (Some(v), _) => Cell::Value {
            value: v.value,
            year: v.year,
            unit: unit.to_owned(),
            source: x.source.as_ref().map(|s| {
                json!({
                    "name": s.name.as_ref().map(|n| &n.text),
                    "url": (!s.url.is_empty()).then_some(&s.url),
                    "license": (!s.license.is_empty()).then_some(&s.license),
                })
            }),
            baseline: measure(x.baseline.as_ref()),
            target: measure(x.target.as_ref()),
            record,
        },
        (None, reason) => Cell::NotAvailable {
            reason: reason.clone().map(|r| r.text).unwrap_or_default(),
            record,
        },
    }
}

/// The matrix as CSV (RFC 4180, CRLF): one row per indicator; per country, its value (`n/a`
/// when missing, never blank), year, status (`value`, `not_available`, `not_reported`,
/// `no_profile`), note (the source's name, or why the value is missing) and record id. Texts in
/// `lang` as [`crate::lang::pick`] chooses.
pub fn csv(c: &Comparison, vocabulary: &Vocabulary, lang: Option<&str>) -> String {
    let pick = |map: &BTreeMap<String, String>| -> String {
        let text = pb::LocalizedText { text: map.clone() };
        crate::lang::pick(Some(&text), lang).to_owned()
    };
    let mut header = vec![
        "indicator".to_owned(),
        "name".into(),
        "unit".into(),
        "higher_is_better".into(),
        "reform_area".into(),
    ];
    for col in &c.countries {
        for what in ["value", "year", "status", "note", "record"] {
            header.push(format!("{} {what}", col.country));
        }
    }
    let mut rows = vec![header];
    for row in &c.indicators {
        let mut out = vec![
            row.code.clone(),
            pick(&row.name),
            row.unit.clone(),
            row.higher_is_better.to_string(),
            vocabulary
                .reform_areas
                .iter()
                .find(|a| a.slug == row.reform_area)
                .map_or_else(|| row.reform_area.clone(), |a| pick(&a.name)),
        ];
        for cell in &row.cells {
            let (value, year, status, note, record) = match cell {
                Cell::Value {
                    value,
                    year,
                    source,
                    record,
                    ..
                } => (
                    value.to_string(),
                    year.to_string(),
                    "value",
                    source
                        .as_ref()
                        .and_then(|s| serde_json::from_value(s["name"].clone()).ok())
                        .map(|n: BTreeMap<String, String>| pick(&n))
                        .unwrap_or_default(),
                    record.clone(),
                ),
                Cell::NotAvailable { reason, record } => (
                    "n/a".into(),
                    "n/a".into(),
                    "not_available",
                    pick(reason),
                    record.clone(),
                ),
                Cell::NotReported { record } => (
                    "n/a".into(),
                    "n/a".into(),
                    "not_reported",
                    "not reported in this profile".into(),
                    record.clone(),
                ),
                Cell::NoProfile => (
                    "n/a".into(),
                    "n/a".into(),
                    "no_profile",
                    "no reform profile in force".into(),
                    String::new(),
                ),
            };
            out.extend([value, year, status.into(), note, record]);
        }
        rows.push(out);
    }
    crate::feeds::export::csv_text(rows)
}

/// A reform whose status moved between two profiles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusChange {
    /// The reform's title in the newer profile.
    pub title: BTreeMap<String, String>,
    /// Its status before (`null`: new in the newer profile).
    pub from: Option<&'static str>,
    /// Its status now (`null`: no longer listed).
    pub to: Option<&'static str>,
}

/// An indicator that moved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorChange {
    /// Catalogue code.
    pub code: String,
    /// Before: `{value, year}` or `{not_available}`; null when not reported.
    pub from: Option<Value>,
    /// Now, likewise.
    pub to: Option<Value>,
}

/// What changed from `older` to `newer` (two profiles of one country).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Changes {
    /// The older profile's record id (in force).
    pub from: String,
    /// The newer one's.
    pub to: String,
    /// Reforms whose status moved, appeared or disappeared. Reforms are matched by title (any
    /// language both name them in, compared ignoring case and surrounding space).
    pub reforms: Vec<StatusChange>,
    /// Indicators whose value, year or availability moved.
    pub indicators: Vec<IndicatorChange>,
}

fn same_reform(a: &pb::Reform, b: &pb::Reform) -> bool {
    let (Some(a), Some(b)) = (&a.title, &b.title) else {
        return false;
    };
    a.text.iter().any(|(lang, t)| {
        b.text
            .get(lang)
            .is_some_and(|u| u.trim().to_lowercase() == t.trim().to_lowercase())
    })
}

fn status_name(s: i32) -> Option<&'static str> {
    ReformStatus::from_proto(s).map(ReformStatus::name)
}

fn indicator_state(x: &pb::IndicatorValue) -> Value {
    match &x.value {
        Some(v) => json!({"value": v.value, "year": v.year}),
        None => json!({"not_available": x.not_available.as_ref().map(|t| &t.text)}),
    }
}

/// What changed from `older` to `newer`: reforms whose status moved (or that appeared or went),
/// indicators whose value, year or availability moved (or that appeared or went), with both
/// states. Pure: a function of the two profiles.
pub fn changes(older: &InForce, newer: &InForce) -> Changes {
    let mut reforms = Vec::new();
    for r in &newer.profile.reforms {
        let before = older
            .profile
            .reforms
            .iter()
            .find(|o| same_reform(o, r))
            .map(|o| o.status);
        if before != Some(r.status) {
            reforms.push(StatusChange {
                title: r.title.clone().map(|t| t.text).unwrap_or_default(),
                from: before.and_then(status_name),
                to: status_name(r.status),
            });
        }
    }
    for o in &older.profile.reforms {
        if !newer.profile.reforms.iter().any(|r| same_reform(o, r)) {
            reforms.push(StatusChange {
                title: o.title.clone().map(|t| t.text).unwrap_or_default(),
                from: status_name(o.status),
                to: None,
            });
        }
    }
    let mut indicators = Vec::new();
    let old_of = |code: &str| older.profile.indicators.iter().find(|x| x.code == code);
    for x in &newer.profile.indicators {
        let before = old_of(&x.code).map(indicator_state);
        let now = indicator_state(x);
        if before.as_ref() != Some(&now) {
            indicators.push(IndicatorChange {
                code: x.code.clone(),
                from: before,
                to: Some(now),
            });
        }
    }
    for o in &older.profile.indicators {
        if !newer.profile.indicators.iter().any(|x| x.code == o.code) {
            indicators.push(IndicatorChange {
                code: o.code.clone(),
                from: Some(indicator_state(o)),
                to: None,
            });
        }
    }
    Changes {
        from: older.record_id(),
        to: newer.record_id(),
        reforms,
        indicators,
    }
}

/// The profile `newer` is compared with: the one it names as `previous` if that is among
/// `profiles` (oldest first), else the one before it by `as_of`.
pub fn predecessor<'a>(profiles: &[InForce<'a>], newer: &InForce<'a>) -> Option<InForce<'a>> {
    let named = profiles
        .iter()
        .find(|p| p.item.id().as_bytes().as_slice() == newer.profile.previous.as_slice());
    named.copied().or_else(|| {
        profiles
            .iter()
            .rev()
            .find(|p| p.order() < newer.order())
            .copied()
    })
}

#[cfg(test)]
mod tests;
