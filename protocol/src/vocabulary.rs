//! The vocabularies the Steering Committee governs: the topic taxonomy, the reform areas and the
//! catalogue of indicators.
//!
//! The charter holds the first version ([`crate::charter::CharterDoc::vocabulary`]); a committee
//! decision (`AmendVocabulary`) adds entries. Nothing is ever removed or redefined, so a record
//! valid under the vocabulary in force stays valid whatever is added later. Every list keeps the
//! order it was written in, which is the order people see.

use std::collections::{BTreeMap, HashSet};

use hubnet_proto::v1 as pb;
use serde::{Deserialize, Serialize};

use crate::validate::is_language_tag;

/// The languages every entry must be named in.
pub const REQUIRED_NAME_LANGUAGES: [&str; 3] = ["en", "ru", "kk"];

/// The most entries one list may hold.
pub const MAX_ENTRIES: usize = 4096;

/// The longest slug or code, in bytes.
pub const MAX_CODE_BYTES: usize = 64;

/// The longest name, in bytes.
pub const MAX_NAME_BYTES: usize = 512;

/// Which list of the vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum List {
    /// The topic taxonomy.
    Topics,
    /// The reform areas.
    ReformAreas,
    /// The indicator catalogue.
    Indicators,
}

impl List {
    /// The list's name as the charter file spells it.
    pub fn name(self) -> &'static str {
        match self {
            List::Topics => "topics",
            List::ReformAreas => "reform_areas",
            List::Indicators => "indicators",
        }
    }
}

impl std::fmt::Display for List {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a vocabulary, or a change to it, is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VocabularyError {
    /// A slug or code of the wrong shape.
    #[error("vocabulary.{list}: {code:?} is not a valid {expected}")]
    BadCode {
        /// The list.
        list: List,
        /// The value.
        code: String,
        /// What was expected.
        expected: &'static str,
    },
    /// The same slug or code twice in one list.
    #[error("vocabulary.{list}: {code:?} appears twice")]
    Duplicate {
        /// The list.
        list: List,
        /// The slug or code.
        code: String,
    },
    /// An entry's name map is missing a required language, or has a bad tag or a blank name.
    #[error("vocabulary.{list}: {code}: name: {problem}")]
    BadName {
        /// The list.
        list: List,
        /// The slug or code.
        code: String,
        /// What is wrong.
        problem: String,
    },
    /// An indicator's unit is not a slug.
    #[error("vocabulary.indicators: {code}: unit {unit:?} is not a lower-case slug")]
    BadUnit {
        /// The indicator.
        code: String,
        /// The unit.
        unit: String,
    },
    /// An indicator's reform area is not in the reform areas.
    #[error("vocabulary.indicators: {code}: reform area {area:?} is not one of the reform areas")]
    UnknownArea {
        /// The indicator.
        code: String,
        /// The area.
        area: String,
    },
    /// A list longer than [`MAX_ENTRIES`].
    #[error("vocabulary.{list} has {count} entries, the limit is {MAX_ENTRIES}")]
    TooMany {
        /// The list.
        list: List,
        /// Entries.
        count: usize,
    },
    /// An amendment whose entry is already in the vocabulary (the same or another definition).
    #[error(
        "vocabulary.{list}: {code:?} is already in the vocabulary; entries are never redefined"
    )]
    Redefines {
        /// The list.
        list: List,
        /// The slug or code.
        code: String,
    },
    /// A new vocabulary that lacks an entry of the one in force.
    #[error("vocabulary.{list}: {code:?} is missing; entries are never removed")]
    Removes {
        /// The list.
        list: List,
        /// The slug or code.
        code: String,
    },
    /// An amendment that adds nothing.
    #[error("the vocabulary amendment adds no entry")]
    Empty,
}

/// A topic or reform area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Term {
    /// Lower-case slug.
    pub slug: String,
    /// Names by language tag (English, Russian and Kazakh at least).
    pub name: BTreeMap<String, String>,
}

/// An indicator of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    /// `<namespace>:<slug>`.
    pub code: String,
    /// Names by language tag (English, Russian and Kazakh at least).
    pub name: BTreeMap<String, String>,
    /// Unit slug.
    pub unit: String,
    /// Whether a higher value means a better state.
    pub higher_is_better: bool,
    /// Slug of its reform area.
    pub reform_area: String,
}

/// The three lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Vocabulary {
    /// Topic slugs records may carry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<Term>,
    /// Reform areas of reform profiles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reform_areas: Vec<Term>,
    /// Indicators reform profiles report.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indicators: Vec<Indicator>,
}

impl Vocabulary {
    /// Whether no list has an entry.
    pub fn is_empty(&self) -> bool {
        self.topics.is_empty() && self.reform_areas.is_empty() && self.indicators.is_empty()
    }

    /// Whether `slug` is a topic.
    pub fn is_topic(&self, slug: &str) -> bool {
        self.topics.iter().any(|t| t.slug == slug)
    }

    /// Whether `slug` is a reform area.
    pub fn is_reform_area(&self, slug: &str) -> bool {
        self.reform_areas.iter().any(|t| t.slug == slug)
    }

    /// The indicator `code`.
    pub fn indicator(&self, code: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.code == code)
    }

    /// Checks every entry: shapes, names, unique codes, known areas, sizes.
    pub fn check(&self) -> Result<(), VocabularyError> {
        check_terms(List::Topics, &self.topics)?;
        check_terms(List::ReformAreas, &self.reform_areas)?;
        check_len(List::Indicators, self.indicators.len())?;
        let mut seen = HashSet::new();
        for i in &self.indicators {
            if !is_indicator_code(&i.code) {
                return Err(VocabularyError::BadCode {
                    list: List::Indicators,
                    code: i.code.clone(),
                    expected: "indicator code (<namespace>:<slug>, lower case)",
                });
            }
            if !seen.insert(i.code.as_str()) {
                return Err(VocabularyError::Duplicate {
                    list: List::Indicators,
                    code: i.code.clone(),
                });
            }
            check_entry_names(List::Indicators, &i.code, &i.name)?;
            if !is_slug(&i.unit) {
                return Err(VocabularyError::BadUnit {
                    code: i.code.clone(),
                    unit: i.unit.clone(),
                });
            }
            if !self.is_reform_area(&i.reform_area) {
                return Err(VocabularyError::UnknownArea {
                    code: i.code.clone(),
                    area: i.reform_area.clone(),
                });
            }
        }
        Ok(())
    }

    /// This vocabulary with `additions` appended, checked: an entry already here (same slug or
    /// code, whatever its definition) is refused, as is an amendment that adds nothing.
    pub fn extended(&self, additions: &Vocabulary) -> Result<Vocabulary, VocabularyError> {
        if additions.is_empty() {
            return Err(VocabularyError::Empty);
        }
        let redefines = |list: List, code: &str| VocabularyError::Redefines {
            list,
            code: code.to_owned(),
        };
        if let Some(t) = additions.topics.iter().find(|t| self.is_topic(&t.slug)) {
            return Err(redefines(List::Topics, &t.slug));
        }
        if let Some(t) = additions
            .reform_areas
            .iter()
            .find(|t| self.is_reform_area(&t.slug))
        {
            return Err(redefines(List::ReformAreas, &t.slug));
        }
        if let Some(i) = additions
            .indicators
            .iter()
            .find(|i| self.indicator(&i.code).is_some())
        {
            return Err(redefines(List::Indicators, &i.code));
        }
        let mut out = self.clone();
        out.topics.extend(additions.topics.iter().cloned());
        out.reform_areas
            .extend(additions.reform_areas.iter().cloned());
        out.indicators.extend(additions.indicators.iter().cloned());
        out.check()?;
        Ok(out)
    }

    /// What `wanted` adds to this vocabulary, for an amendment: refused when it lacks an entry
    /// of this one ([`VocabularyError::Removes`]) or defines one differently
    /// ([`VocabularyError::Redefines`]).
    pub fn additions_to(&self, wanted: &Vocabulary) -> Result<Vocabulary, VocabularyError> {
        fn diff<T: Clone + PartialEq>(
            list: List,
            old: &[T],
            new: &[T],
            code: impl Fn(&T) -> &str,
        ) -> Result<Vec<T>, VocabularyError> {
            for o in old {
                match new.iter().find(|n| code(n) == code(o)) {
                    None => {
                        return Err(VocabularyError::Removes {
                            list,
                            code: code(o).to_owned(),
                        });
                    }
                    Some(n) if n != o => {
                        return Err(VocabularyError::Redefines {
                            list,
                            code: code(o).to_owned(),
                        });
                    }
                    Some(_) => {}
                }
            }
            Ok(new
                .iter()
                .filter(|n| !old.iter().any(|o| code(o) == code(n)))
                .cloned()
                .collect())
        }
        let additions = Vocabulary {
            topics: diff(List::Topics, &self.topics, &wanted.topics, |t| &t.slug)?,
            reform_areas: diff(
                List::ReformAreas,
                &self.reform_areas,
                &wanted.reform_areas,
                |t| &t.slug,
            )?,
            indicators: diff(
                List::Indicators,
                &self.indicators,
                &wanted.indicators,
                |i| &i.code,
            )?,
        };
        self.extended(&additions)?;
        Ok(additions)
    }

    /// The protobuf message (`None` when empty, so a charter without vocabularies keeps its bytes).
    pub fn to_proto(&self) -> Option<pb::Vocabulary> {
        if self.is_empty() {
            return None;
        }
        let term = |t: &Term| pb::VocabularyTerm {
            slug: t.slug.clone(),
            name: Some(pb::LocalizedText {
                text: t.name.clone(),
            }),
        };
        Some(pb::Vocabulary {
            topics: self.topics.iter().map(term).collect(),
            reform_areas: self.reform_areas.iter().map(term).collect(),
            indicators: self
                .indicators
                .iter()
                .map(|i| pb::Indicator {
                    code: i.code.clone(),
                    name: Some(pb::LocalizedText {
                        text: i.name.clone(),
                    }),
                    unit: i.unit.clone(),
                    higher_is_better: i.higher_is_better,
                    reform_area: i.reform_area.clone(),
                })
                .collect(),
        })
    }

    /// From the protobuf message (not checked: see [`Vocabulary::check`]).
    pub fn from_proto(p: &pb::Vocabulary) -> Self {
        let term = |t: &pb::VocabularyTerm| Term {
            slug: t.slug.clone(),
            name: t.name.clone().unwrap_or_default().text,
        };
        Self {
            topics: p.topics.iter().map(term).collect(),
            reform_areas: p.reform_areas.iter().map(term).collect(),
            indicators: p
                .indicators
                .iter()
                .map(|i| Indicator {
                    code: i.code.clone(),
                    name: i.name.clone().unwrap_or_default().text,
                    unit: i.unit.clone(),
                    higher_is_better: i.higher_is_better,
                    reform_area: i.reform_area.clone(),
                })
                .collect(),
        }
    }

    /// The vocabulary a new charter starts from (`hubnet charter new`): the hub's sixteen topics,
    /// SIGMA's six reform areas and fifteen indicators. A committee edits it before signing.
    pub fn template() -> Self {
        toml::from_str(TEMPLATE).unwrap_or_default()
    }
}

/// The template as TOML (`protocol/src/vocabulary.toml`).
pub const TEMPLATE: &str = include_str!("vocabulary.toml");

fn check_len(list: List, count: usize) -> Result<(), VocabularyError> {
    if count > MAX_ENTRIES {
        return Err(VocabularyError::TooMany { list, count });
    }
    Ok(())
}

fn check_terms(list: List, terms: &[Term]) -> Result<(), VocabularyError> {
    check_len(list, terms.len())?;
    let mut seen = HashSet::new();
    for t in terms {
        if !is_slug(&t.slug) {
            return Err(VocabularyError::BadCode {
                list,
                code: t.slug.clone(),
                expected: "slug (a-z, 0-9, single hyphens)",
            });
        }
        if !seen.insert(t.slug.as_str()) {
            return Err(VocabularyError::Duplicate {
                list,
                code: t.slug.clone(),
            });
        }
        check_entry_names(list, &t.slug, &t.name)?;
    }
    Ok(())
}

fn check_entry_names(
    list: List,
    code: &str,
    names: &BTreeMap<String, String>,
) -> Result<(), VocabularyError> {
    let bad = |problem: String| VocabularyError::BadName {
        list,
        code: code.to_owned(),
        problem,
    };
    for lang in REQUIRED_NAME_LANGUAGES {
        if !names.contains_key(lang) {
            return Err(bad(format!("no {lang} name")));
        }
    }
    let mut seen = HashSet::new();
    for (tag, name) in names {
        if !is_language_tag(tag) {
            return Err(bad(format!("{tag:?} is not a BCP 47 language tag")));
        }
        if !seen.insert(tag.to_ascii_lowercase()) {
            return Err(bad(format!("language {tag:?} appears twice")));
        }
        if name.trim().is_empty() {
            return Err(bad(format!("the {tag} name is blank")));
        }
        if name.len() > MAX_NAME_BYTES {
            return Err(bad(format!(
                "the {tag} name is {} bytes, the limit is {MAX_NAME_BYTES}",
                name.len()
            )));
        }
    }
    Ok(())
}

/// `a-z` and `0-9` words joined by single hyphens, at most [`MAX_CODE_BYTES`].
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_CODE_BYTES
        && s.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// `<namespace>:<slug>`, both slugs, at most [`MAX_CODE_BYTES`] in all.
pub fn is_indicator_code(s: &str) -> bool {
    s.len() <= MAX_CODE_BYTES
        && s.split_once(':')
            .is_some_and(|(ns, slug)| is_slug(ns) && is_slug(slug))
}

#[cfg(test)]
mod tests;
