//! Body validation: every rule a practice, event, amendment or retraction body must satisfy.
//!
//! Each broken rule is its own [`BodyError`] variant naming the field. Field names are paths as a
//! person would read them in a draft: `title`, `institutions[2]`, `place.name`.

use std::collections::{BTreeMap, HashSet};
use std::str::FromStr;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use hubnet_proto::v1 as pb;

use crate::limits::Limits;
use crate::vocabulary::Vocabulary;

/// Why a record body is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// A required field is absent.
    #[error("{field} is required")]
    MissingField {
        /// Field path.
        field: String,
    },
    /// A localized text with no entry.
    #[error("{field} has no language entry; at least one is required")]
    EmptyLocalized {
        /// Field path.
        field: String,
    },
    /// A localized entry whose text is empty or only white space.
    #[error("{field}.{lang} is empty")]
    EmptyText {
        /// Field path.
        field: String,
        /// Language tag.
        lang: String,
    },
    /// Not a well-formed BCP 47 tag.
    #[error("{field}: {tag:?} is not a valid BCP 47 language tag")]
    InvalidLanguageTag {
        /// Field path.
        field: String,
        /// The tag.
        tag: String,
    },
    /// The same tag twice (compared case-insensitively).
    #[error("{field}: language {tag:?} appears twice")]
    DuplicateLanguage {
        /// Field path.
        field: String,
        /// The tag.
        tag: String,
    },
    /// More languages than the charter allows.
    #[error("{field} has {count} languages, the limit is {max}")]
    TooManyLanguages {
        /// Field path.
        field: String,
        /// Languages given.
        count: usize,
        /// Limit.
        max: u64,
    },
    /// Neither ISO 3166-1 alpha-2 (upper case) nor HUB.
    #[error("{field}: {value:?} is not an ISO 3166-1 alpha-2 country code or HUB")]
    InvalidCountry {
        /// Field path.
        field: String,
        /// The value.
        value: String,
    },
    /// A text over its size limit.
    #[error("{field} is {len} bytes, the limit is {max}")]
    FieldTooLong {
        /// Field path.
        field: String,
        /// Size in bytes.
        len: usize,
        /// Limit.
        max: u64,
    },
    /// A list over its length limit.
    #[error("{field} has {count} items, the limit is {max}")]
    TooManyItems {
        /// Field path.
        field: String,
        /// Items given.
        count: usize,
        /// Limit.
        max: u64,
    },
    /// A topic outside the taxonomy.
    #[error("{field}: {slug:?} is not a topic of the charter's vocabulary")]
    UnknownTopic {
        /// Field path.
        field: String,
        /// The slug.
        slug: String,
    },
    /// A value listed twice.
    #[error("{field}: {value:?} appears twice")]
    Duplicate {
        /// Field path.
        field: String,
        /// The value.
        value: String,
    },
    /// A malformed date or date-time.
    #[error("{field}: {value:?} is not a valid {expected}")]
    InvalidDate {
        /// Field path.
        field: String,
        /// The value.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// An end before its start.
    #[error("{field}: end {end:?} is before start {start:?}")]
    EndBeforeStart {
        /// Field path.
        field: String,
        /// Start.
        start: String,
        /// End.
        end: String,
    },
    /// Not an IANA time zone name.
    #[error("{field}: {value:?} is not an IANA time zone")]
    InvalidTimeZone {
        /// Field path.
        field: String,
        /// The value.
        value: String,
    },
    /// Not an absolute http(s) URL.
    #[error("{field}: {value:?} is not an absolute http or https URL")]
    InvalidUrl {
        /// Field path.
        field: String,
        /// The value.
        value: String,
    },
    /// Not a plausible e-mail address.
    #[error("{field}: {value:?} is not an e-mail address")]
    InvalidEmail {
        /// Field path.
        field: String,
        /// The value.
        value: String,
    },
    /// An enum value outside its set (or unspecified).
    #[error("{field}: value {value} is not one of the allowed values")]
    InvalidEnum {
        /// Field path.
        field: String,
        /// The raw value.
        value: i32,
    },
    /// A hash or id of the wrong length.
    #[error("{field} must be 32 bytes, got {len}")]
    InvalidDigest {
        /// Field path.
        field: String,
        /// Length given.
        len: usize,
    },
    /// A reform area that is neither a reform area nor a topic of the vocabulary.
    #[error("{field}: {slug:?} is not a reform area or topic of the charter's vocabulary")]
    UnknownReformArea {
        /// Field path.
        field: String,
        /// The slug.
        slug: String,
    },
    /// An indicator code outside the charter's catalogue.
    #[error("{field}: {code:?} is not an indicator of the charter's catalogue")]
    UnknownIndicator {
        /// Field path.
        field: String,
        /// The code.
        code: String,
    },
    /// An indicator with both a value and a reason it is not available, or with neither.
    #[error(
        "{field}: give either a value with its year or not_available with the reason, not {given}"
    )]
    ValueOrNotAvailable {
        /// Field path.
        field: String,
        /// `both` or `neither`.
        given: &'static str,
    },
    /// A number that is NaN or infinite.
    #[error("{field} is not a finite number")]
    NotFinite {
        /// Field path.
        field: String,
    },
    /// A year outside 1900..=9999.
    #[error("{field}: year {year} is outside 1900..=9999")]
    YearOutOfRange {
        /// Field path.
        field: String,
        /// The year.
        year: u32,
    },
    /// A date or year later than the profile's `as_of`.
    #[error("{field}: {value} is after as_of {as_of}")]
    AfterAsOf {
        /// Field path.
        field: String,
        /// The date or year.
        value: String,
        /// The profile's as_of.
        as_of: String,
    },
    /// A unit that is not the catalogue's for the indicator.
    #[error(
        "{field}: unit {unit:?} contradicts the catalogue, which measures {code} in {expected:?}"
    )]
    UnitMismatch {
        /// Field path.
        field: String,
        /// The indicator.
        code: String,
        /// The unit given.
        unit: String,
        /// The catalogue's unit.
        expected: String,
    },
    /// `HUB` where a member state is required.
    #[error("{field}: a reform profile describes a member state, not {value:?}")]
    NotAMemberState {
        /// Field path.
        field: String,
        /// The value.
        value: String,
    },
    /// A body about another country than its author's (reform profiles state their own).
    #[error(
        "{field}: {country} is not the author's country {member}; a member states its own reforms"
    )]
    CountryNotAuthor {
        /// Field path.
        field: String,
        /// The country given.
        country: String,
        /// The author's member code.
        member: String,
    },
    /// An expert's consent, or a part of it, is absent (or its scope unspecified).
    #[error("{field} is required: an expert is published only with their consent")]
    ConsentMissing {
        /// Field path.
        field: String,
    },
    /// A date later than the record's creation date (UTC).
    #[error("{field}: {value} is after the record's creation date {created}")]
    AfterCreation {
        /// Field path.
        field: String,
        /// The date.
        value: String,
        /// The record's creation date, `YYYY-MM-DD` (UTC).
        created: String,
    },
    /// A `reconfirm_by` before the record's creation date.
    #[error("{field}: {value} is before the record's creation date {created}")]
    ReconfirmByPast {
        /// Field path.
        field: String,
        /// The date.
        value: String,
        /// The record's creation date, `YYYY-MM-DD` (UTC).
        created: String,
    },
    /// A `reconfirm_by` more than 24 months after the record's creation date.
    #[error(
        "{field}: {value} is more than 24 months after the record's creation date (at most {max})"
    )]
    ReconfirmByTooFar {
        /// Field path.
        field: String,
        /// The date.
        value: String,
        /// The latest date allowed.
        max: String,
    },
    /// An e-mail address at a personal mail provider where an institutional one is required.
    #[error("{field}: {domain} is a personal mail provider; give an institutional address")]
    NotInstitutionalAddress {
        /// Field path.
        field: String,
        /// The address's domain.
        domain: String,
    },
    /// An identifier that does not have its scheme's shape (Wikidata, ROR).
    #[error("{field}: {value:?} is not a {scheme} identifier")]
    InvalidIdentifier {
        /// Field path.
        field: String,
        /// The value.
        value: String,
        /// The scheme and its shape.
        scheme: &'static str,
    },
    /// Fewer items than a list needs.
    #[error("{field}: {count} given, at least {min} needed")]
    TooFewItems {
        /// Field path.
        field: String,
        /// How many were given.
        count: usize,
        /// The least allowed.
        min: usize,
    },
    /// A programme with no lead or several (exactly one participant has the role lead).
    #[error("{field}: exactly one participant must have the role lead, {count} have it")]
    LeadCount {
        /// Field path.
        field: String,
        /// How many participants have the role lead.
        count: usize,
    },
    /// A lead that is an institution: the lead is the member that publishes the programme.
    #[error("{field}: the lead must be a member (the author), not an institution")]
    LeadNotMember {
        /// Field path.
        field: String,
    },
    /// A programme whose lead is not its author.
    #[error(
        "{field}: the lead is {lead}, but {member} publishes it; a programme is published by its lead"
    )]
    LeadNotAuthor {
        /// Field path.
        field: String,
        /// The lead's member code.
        lead: String,
        /// The author's member code.
        member: String,
    },
    /// A member code the charter does not know.
    #[error("{field}: {value:?} is not a member of the charter")]
    NotAMember {
        /// Field path.
        field: String,
        /// The code.
        value: String,
    },
    /// A reporting period with an actual value outside the programme's dates.
    #[error("{field}: the period {period} lies outside the programme's dates ({programme})")]
    PeriodOutsideProgramme {
        /// Field path.
        field: String,
        /// The period.
        period: String,
        /// The programme's span.
        programme: String,
    },
    /// Not an ISO 4217 code of a currency in use.
    #[error("{field}: {value:?} is not an ISO 4217 code of a currency in use")]
    UnknownCurrency {
        /// Field path.
        field: String,
        /// The code.
        value: String,
    },
    /// A malformed amount.
    #[error("{field}: {value:?} is not a valid amount: {reason}")]
    InvalidAmount {
        /// Field path.
        field: String,
        /// The value.
        value: String,
        /// What is wrong.
        reason: String,
    },
}

pub(crate) type R = Result<(), BodyError>;

/// What a body is judged against: the limits for its creation time, the vocabulary in force and
/// the creation time itself ([`crate::Charter::rules_at`]).
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// Sizes and counts.
    pub limits: &'a Limits,
    /// Topics, reform areas, indicators.
    pub vocabulary: &'a Vocabulary,
    /// The record's `created_at` (ms), for the rules that depend on it (an expert's consent date
    /// and `reconfirm_by`). `None`: not known yet (a draft before it is signed); those rules are
    /// then skipped, and a draft's `reconfirm_by` gets no default. Verification always knows it:
    /// `precheck` judges every body with [`crate::Charter::rules_at`] and the header's time, so
    /// no record passes verification unchecked.
    pub created_at: Option<i64>,
}

impl Rules<'static> {
    /// The default limits and the template vocabulary (for tests and tools without a charter);
    /// no creation time.
    pub fn template() -> Self {
        static VOCABULARY: std::sync::LazyLock<Vocabulary> =
            std::sync::LazyLock::new(Vocabulary::template);
        Rules {
            limits: &Limits::DEFAULT,
            vocabulary: &VOCABULARY,
            created_at: None,
        }
    }
}

impl Rules<'_> {
    /// The same rules for a record created at `created_at` (ms): what a publisher uses just
    /// before it signs, so that time rules and defaults apply to the draft.
    #[must_use]
    pub fn at(mut self, created_at: i64) -> Self {
        self.created_at = Some(created_at);
        self
    }

    /// The UTC date of the creation time, if known.
    pub fn created_date(&self) -> Option<NaiveDate> {
        self.created_at
            .and_then(chrono::DateTime::from_timestamp_millis)
            .map(|t| t.date_naive())
    }
}

/// The e-mail domains of personal mail providers, which an institutional address never has
/// (docs/PROTOCOL.md §1.4). An entry ending in `.*` stands for that name under any top-level or
/// second-level domain (`yahoo.*`: `yahoo.com`, `yahoo.co.uk`, ...). Subdomains of an entry are
/// refused too (`mail.gmail.com`). `example.org` and its subdomains are not in the list: they are
/// what the fictional sample experts use.
pub const PERSONAL_MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.*",
    "ymail.com",
    "outlook.com",
    "hotmail.*",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "mail.ru",
    "bk.ru",
    "inbox.ru",
    "list.ru",
    "internet.ru",
    "yandex.*",
    "ya.ru",
    "rambler.ru",
    "proton.me",
    "protonmail.com",
    "protonmail.ch",
    "pm.me",
    "tutanota.com",
    "tuta.io",
    "gmx.*",
    "web.de",
    "mail.com",
    "zoho.com",
    "qq.com",
    "163.com",
    "126.com",
    "sina.com",
    "naver.com",
];

/// The personal mail provider entry of [`PERSONAL_MAIL_DOMAINS`] that `domain` (compared without
/// case) falls under, if any.
pub fn personal_mail_provider(domain: &str) -> Option<&'static str> {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = domain.split('.').collect();
    PERSONAL_MAIL_DOMAINS.iter().copied().find(|entry| {
        if let Some(name) = entry.strip_suffix(".*") {
            // `name` then one or two labels of suffix (`yahoo.com`, `yahoo.co.uk`), possibly
            // below a subdomain.
            (1..=2).any(|tail| labels.len() > tail && labels[labels.len() - tail - 1] == name)
        } else {
            domain == *entry || domain.ends_with(&format!(".{entry}"))
        }
    })
}

/// Checks a retraction body (the target's existence and author are chain rules).
pub fn retraction(r: &pb::Retraction, rules: &Rules) -> R {
    digest("target", &r.target)?;
    Checker::new(rules).localized("reason", r.reason.as_ref(), Size::Summary, true)
}

/// Whether `tag` is a well-formed BCP 47 language tag.
pub fn is_language_tag(tag: &str) -> bool {
    oxilangtag::LanguageTag::parse(tag).is_ok()
}

/// Whether `code` is an upper-case ISO 3166-1 alpha-2 code or `HUB`.
pub fn is_country_code(code: &str) -> bool {
    let is_alpha2 = code.len() == 2
        && code.bytes().all(|b| b.is_ascii_uppercase())
        && celes::Country::from_alpha2(code).is_ok();
    code == "HUB" || is_alpha2
}

#[derive(Clone, Copy)]
pub(crate) enum Size {
    Short,
    Summary,
    Body,
}

pub(crate) struct Checker<'a> {
    limits: &'a Limits,
    vocabulary: &'a Vocabulary,
}

impl<'a> Checker<'a> {
    pub(crate) fn new(rules: &Rules<'a>) -> Self {
        Self {
            limits: rules.limits,
            vocabulary: rules.vocabulary,
        }
    }

    pub(crate) fn vocabulary(&self) -> &'a Vocabulary {
        self.vocabulary
    }

    pub(crate) fn max(&self, size: Size) -> u64 {
        match size {
            Size::Short => self.limits.max_short_text_bytes,
            Size::Summary => self.limits.max_summary_bytes,
            Size::Body => self.limits.max_body_bytes,
        }
    }

    pub(crate) fn localized(
        &self,
        field: &str,
        text: Option<&pb::LocalizedText>,
        size: Size,
        required: bool,
    ) -> R {
        let map: &BTreeMap<String, String> = match text {
            Some(t) => &t.text,
            None if required => {
                return Err(BodyError::MissingField {
                    field: field.into(),
                });
            }
            None => return Ok(()),
        };
        if map.is_empty() {
            return Err(BodyError::EmptyLocalized {
                field: field.into(),
            });
        }
        if map.len() as u64 > self.limits.max_languages {
            return Err(BodyError::TooManyLanguages {
                field: field.into(),
                count: map.len(),
                max: self.limits.max_languages,
            });
        }
        let mut seen = HashSet::new();
        for (lang, value) in map {
            if !is_language_tag(lang) {
                return Err(BodyError::InvalidLanguageTag {
                    field: field.into(),
                    tag: lang.clone(),
                });
            }
            if !seen.insert(lang.to_ascii_lowercase()) {
                return Err(BodyError::DuplicateLanguage {
                    field: field.into(),
                    tag: lang.clone(),
                });
            }
            if value.trim().is_empty() {
                return Err(BodyError::EmptyText {
                    field: field.into(),
                    lang: lang.clone(),
                });
            }
            if value.len() as u64 > self.max(size) {
                return self.len(&format!("{field}.{lang}"), value.len(), self.max(size));
            }
        }
        Ok(())
    }

    pub(crate) fn text(&self, field: &str, value: &str, size: Size, required: bool) -> R {
        if required && value.trim().is_empty() {
            return Err(BodyError::MissingField {
                field: field.into(),
            });
        }
        self.len(field, value.len(), self.max(size))
    }

    pub(crate) fn len(&self, field: &str, len: usize, max: u64) -> R {
        if len as u64 > max {
            return Err(BodyError::FieldTooLong {
                field: field.into(),
                len,
                max,
            });
        }
        Ok(())
    }

    pub(crate) fn list_len(&self, field: &str, count: usize) -> R {
        if count as u64 > self.limits.max_list_items {
            return Err(BodyError::TooManyItems {
                field: field.into(),
                count,
                max: self.limits.max_list_items,
            });
        }
        Ok(())
    }

    pub(crate) fn country(&self, field: &str, value: &str) -> R {
        if value.is_empty() {
            return Err(BodyError::MissingField {
                field: field.into(),
            });
        }
        if is_country_code(value) {
            Ok(())
        } else {
            Err(BodyError::InvalidCountry {
                field: field.into(),
                value: value.into(),
            })
        }
    }

    pub(crate) fn topics(&self, field: &str, topics: &[String], required: bool) -> R {
        if required && topics.is_empty() {
            return Err(BodyError::MissingField {
                field: field.into(),
            });
        }
        self.list_len(field, topics.len())?;
        let mut seen = HashSet::new();
        for t in topics {
            if !self.vocabulary.is_topic(t) {
                return Err(BodyError::UnknownTopic {
                    field: field.into(),
                    slug: t.clone(),
                });
            }
            if !seen.insert(t) {
                return Err(BodyError::Duplicate {
                    field: field.into(),
                    value: t.clone(),
                });
            }
        }
        Ok(())
    }

    /// The first and last day a partial date names.
    pub(crate) fn partial_date(
        &self,
        field: &str,
        value: &str,
        required: bool,
    ) -> Result<Option<(NaiveDate, NaiveDate)>, BodyError> {
        if value.is_empty() {
            return if required {
                Err(BodyError::MissingField {
                    field: field.into(),
                })
            } else {
                Ok(None)
            };
        }
        let first = partial_date_strict(field, value)?;
        let last = match value.len() {
            4 => first.with_month(12).and_then(|d| d.with_day(31)),
            7 => first
                .checked_add_months(chrono::Months::new(1))
                .and_then(|d| d.pred_opt()),
            _ => Some(first),
        }
        .unwrap_or(first);
        Ok(Some((first, last)))
    }

    /// A period of partial dates: the first day of its start and the last day of its end
    /// (`None` while ongoing), the end not before the start.
    pub(crate) fn period(
        &self,
        field: &str,
        period: &pb::Period,
    ) -> Result<(NaiveDate, Option<NaiveDate>), BodyError> {
        let start = self.partial_date(&format!("{field}.start"), &period.start, true)?;
        let end = self.partial_date(&format!("{field}.end"), &period.end, false)?;
        let first = start.map_or(NaiveDate::MIN, |(first, _)| first);
        if let Some((_, last)) = end
            && last < first
        {
            return Err(BodyError::EndBeforeStart {
                field: field.into(),
                start: period.start.clone(),
                end: period.end.clone(),
            });
        }
        Ok((first, end.map(|(_, last)| last)))
    }

    pub(crate) fn url(&self, field: &str, value: &str, required: bool) -> R {
        if value.is_empty() {
            return if required {
                Err(BodyError::MissingField {
                    field: field.into(),
                })
            } else {
                Ok(())
            };
        }
        self.len(field, value.len(), self.limits.max_url_bytes)?;
        match url::Url::parse(value) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => Ok(()),
            _ => Err(BodyError::InvalidUrl {
                field: field.into(),
                value: value.into(),
            }),
        }
    }

    pub(crate) fn email(&self, field: &str, value: &str) -> R {
        if value.is_empty() {
            return Ok(());
        }
        self.len(field, value.len(), self.limits.max_short_text_bytes)?;
        let ok = match value.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !value.chars().any(char::is_whitespace)
                    && !domain.contains('@')
            }
            None => false,
        };
        if ok {
            Ok(())
        } else {
            Err(BodyError::InvalidEmail {
                field: field.into(),
                value: value.into(),
            })
        }
    }
}

impl Checker<'_> {
    /// An optional institutional e-mail address: a valid address whose domain is not a personal
    /// mail provider's.
    pub(crate) fn institutional_email(&self, field: &str, value: &str) -> R {
        self.email(field, value)?;
        if let Some((_, domain)) = value.rsplit_once('@')
            && personal_mail_provider(domain).is_some()
        {
            return Err(BodyError::NotInstitutionalAddress {
                field: field.into(),
                domain: domain.to_ascii_lowercase(),
            });
        }
        Ok(())
    }

    /// A list of BCP 47 language tags, none twice (compared without case).
    pub(crate) fn languages(&self, field: &str, tags: &[String]) -> R {
        self.list_len(field, tags.len())?;
        let mut seen = HashSet::new();
        for tag in tags {
            if !is_language_tag(tag) {
                return Err(BodyError::InvalidLanguageTag {
                    field: field.into(),
                    tag: tag.clone(),
                });
            }
            if !seen.insert(tag.to_ascii_lowercase()) {
                return Err(BodyError::Duplicate {
                    field: field.into(),
                    value: tag.clone(),
                });
            }
        }
        Ok(())
    }

    /// A list of record ids of institutions (each 32 bytes, none twice). That each names an
    /// institution is a chain rule (`chain::check_references`).
    pub(crate) fn institution_ids(&self, field: &str, ids: &[Vec<u8>]) -> R {
        self.list_len(field, ids.len())?;
        let mut seen = HashSet::new();
        for (i, id) in ids.iter().enumerate() {
            digest(&format!("{field}[{i}]"), id)?;
            if !seen.insert(id.as_slice()) {
                return Err(BodyError::Duplicate {
                    field: field.into(),
                    value: hex::encode(id),
                });
            }
        }
        Ok(())
    }
}

/// A full date `YYYY-MM-DD`.
pub(crate) fn full_date(field: &str, value: &str) -> Result<NaiveDate, BodyError> {
    if value.len() != 10 {
        return Err(BodyError::InvalidDate {
            field: field.into(),
            value: value.into(),
            expected: "date (YYYY-MM-DD)",
        });
    }
    partial_date_strict(field, value)
}

pub(crate) fn digest(field: &str, bytes: &[u8]) -> R {
    if bytes.len() == 32 {
        Ok(())
    } else {
        Err(BodyError::InvalidDigest {
            field: field.into(),
            len: bytes.len(),
        })
    }
}

/// Parses `YYYY`, `YYYY-MM` or `YYYY-MM-DD` to the first day it names.
pub(crate) fn partial_date_strict(field: &str, value: &str) -> Result<NaiveDate, BodyError> {
    let bad = || BodyError::InvalidDate {
        field: field.into(),
        value: value.into(),
        expected: "date (YYYY, YYYY-MM or YYYY-MM-DD)",
    };
    let full = match value.len() {
        4 if has_shape(value, "DDDD") => format!("{value}-01-01"),
        7 if has_shape(value, "DDDD-DD") => format!("{value}-01"),
        10 if has_shape(value, "DDDD-DD-DD") => value.to_owned(),
        _ => return Err(bad()),
    };
    NaiveDate::parse_from_str(&full, "%Y-%m-%d").map_err(|_| bad())
}

/// Parses a local date-time `YYYY-MM-DDTHH:MM[:SS]`.
pub fn local_date_time(
    field: &str,
    value: &str,
    required: bool,
) -> Result<Option<NaiveDateTime>, BodyError> {
    if value.is_empty() {
        return if required {
            Err(BodyError::MissingField {
                field: field.into(),
            })
        } else {
            Ok(None)
        };
    }
    let parsed = if has_shape(value, "DDDD-DD-DDTDD:DD:DD") {
        NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S").ok()
    } else if has_shape(value, "DDDD-DD-DDTDD:DD") {
        NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M").ok()
    } else {
        None
    };
    parsed.map(Some).ok_or_else(|| BodyError::InvalidDate {
        field: field.into(),
        value: value.into(),
        expected: "local date-time (YYYY-MM-DDTHH:MM[:SS])",
    })
}

/// Whether `value` matches `shape`, where `D` stands for an ASCII digit and any other character
/// for itself. Dates are checked this way before chrono, whose parser is more lenient.
fn has_shape(value: &str, shape: &str) -> bool {
    value.len() == shape.len()
        && value.bytes().zip(shape.bytes()).all(|(v, s)| {
            if s == b'D' {
                v.is_ascii_digit()
            } else {
                v == s
            }
        })
}

pub(crate) fn time_zone(field: &str, value: &str) -> R {
    if value.is_empty() {
        return Err(BodyError::MissingField {
            field: field.into(),
        });
    }
    chrono_tz::Tz::from_str(value)
        .map(|_| ())
        .map_err(|_| BodyError::InvalidTimeZone {
            field: field.into(),
            value: value.into(),
        })
}
