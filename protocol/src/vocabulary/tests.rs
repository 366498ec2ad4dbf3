use proptest::prelude::*;

use super::*;

fn names(en: &str) -> BTreeMap<String, String> {
    [("en", en), ("ru", "имя"), ("kk", "атау")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn term(slug: &str) -> Term {
    Term {
        slug: slug.into(),
        name: names(slug),
    }
}

fn indicator(code: &str, area: &str) -> Indicator {
    Indicator {
        code: code.into(),
        name: names(code),
        unit: "percent".into(),
        higher_is_better: true,
        reform_area: area.into(),
    }
}

#[test]
fn the_template_is_valid_and_complete() {
    let v = Vocabulary::template();
    assert_eq!(v.check(), Ok(()));
    assert_eq!(
        (v.topics.len(), v.reform_areas.len(), v.indicators.len()),
        (16, 6, 15)
    );
    assert!(v.is_topic("recruitment") && !v.is_topic("Recruitment"));
    assert!(v.is_reform_area("public-service-hrm"));
    let i = v.indicator("hub:merit-recruitment-share").expect("listed");
    assert_eq!((i.unit.as_str(), i.higher_is_better), ("percent", true));
    assert!(v.indicator("hub:nothing").is_none());
}

#[test]
fn each_malformed_entry_is_refused_with_its_own_error() {
    let base = Vocabulary {
        topics: vec![term("training")],
        reform_areas: vec![term("accountability")],
        indicators: vec![indicator("hub:x", "accountability")],
    };
    assert_eq!(base.check(), Ok(()));
    let check = |change: &dyn Fn(&mut Vocabulary), want: VocabularyError| {
        let mut v = base.clone();
        change(&mut v);
        assert_eq!(v.check(), Err(want));
    };
    for bad in [
        "",
        "Training",
        "a--b",
        "-a",
        "a-",
        "a_b",
        "тема",
        &"a".repeat(65),
    ] {
        check(
            &|v| v.topics[0].slug = bad.into(),
            VocabularyError::BadCode {
                list: List::Topics,
                code: bad.into(),
                expected: "slug (a-z, 0-9, single hyphens)",
            },
        );
    }
    for bad in ["hub", "hub:", ":x", "Hub:x", "hub:x:y", "hub:x y"] {
        check(
            &|v| v.indicators[0].code = bad.into(),
            VocabularyError::BadCode {
                list: List::Indicators,
                code: bad.into(),
                expected: "indicator code (<namespace>:<slug>, lower case)",
            },
        );
    }
    check(
        &|v| v.reform_areas.push(term("accountability")),
        VocabularyError::Duplicate {
            list: List::ReformAreas,
            code: "accountability".into(),
        },
    );
    check(
        &|v| v.indicators.push(indicator("hub:x", "accountability")),
        VocabularyError::Duplicate {
            list: List::Indicators,
            code: "hub:x".into(),
        },
    );
    check(
        &|v| {
            v.topics[0].name.remove("kk");
        },
        VocabularyError::BadName {
            list: List::Topics,
            code: "training".into(),
            problem: "no kk name".into(),
        },
    );
    check(
        &|v| {
            v.indicators[0].name.insert("en".into(), "  ".into());
        },
        VocabularyError::BadName {
            list: List::Indicators,
            code: "hub:x".into(),
            problem: "the en name is blank".into(),
        },
    );
    check(
        &|v| {
            v.topics[0].name.insert("not a tag".into(), "x".into());
        },
        VocabularyError::BadName {
            list: List::Topics,
            code: "training".into(),
            problem: "\"not a tag\" is not a BCP 47 language tag".into(),
        },
    );
    check(
        &|v| v.indicators[0].unit = "Per cent".into(),
        VocabularyError::BadUnit {
            code: "hub:x".into(),
            unit: "Per cent".into(),
        },
    );
    check(
        &|v| v.indicators[0].reform_area = "training".into(),
        VocabularyError::UnknownArea {
            code: "hub:x".into(),
            area: "training".into(),
        },
    );
    check(
        &|v| v.topics = (0..=MAX_ENTRIES).map(|i| term(&format!("t{i}"))).collect(),
        VocabularyError::TooMany {
            list: List::Topics,
            count: MAX_ENTRIES + 1,
        },
    );
}

#[test]
fn an_amendment_only_adds_and_never_redefines() {
    let base = Vocabulary::template();
    let add = Vocabulary {
        topics: vec![term("open-data")],
        reform_areas: vec![term("local-government")],
        indicators: vec![indicator("hub:open-data-share", "local-government")],
    };
    let extended = base.extended(&add).expect("new entries");
    assert_eq!(extended.topics.last(), Some(&term("open-data")));
    assert_eq!(&extended.topics[..16], &base.topics[..]);
    assert!(extended.indicator("hub:open-data-share").is_some());
    assert_eq!(
        base.extended(&Vocabulary::default()),
        Err(VocabularyError::Empty)
    );
    // The same entry again, and the same code with another definition, are both refused.
    let same = Vocabulary {
        topics: vec![base.topics[0].clone()],
        ..Vocabulary::default()
    };
    let redefined = Vocabulary {
        indicators: vec![indicator("hub:merit-recruitment-share", "accountability")],
        ..Vocabulary::default()
    };
    assert_eq!(
        base.extended(&same),
        Err(VocabularyError::Redefines {
            list: List::Topics,
            code: "recruitment".into()
        })
    );
    assert_eq!(
        base.extended(&redefined),
        Err(VocabularyError::Redefines {
            list: List::Indicators,
            code: "hub:merit-recruitment-share".into()
        })
    );
    // An indicator may use an area added by the same amendment, not an unknown one.
    let unknown_area = Vocabulary {
        indicators: vec![indicator("hub:y", "nowhere")],
        ..Vocabulary::default()
    };
    assert_eq!(
        base.extended(&unknown_area),
        Err(VocabularyError::UnknownArea {
            code: "hub:y".into(),
            area: "nowhere".into()
        })
    );
}

#[test]
fn additions_to_a_full_vocabulary_refuse_removals_and_redefinitions() {
    let base = Vocabulary::template();
    let mut removed = base.clone();
    removed.reform_areas.remove(2);
    assert_eq!(
        base.additions_to(&removed),
        Err(VocabularyError::Removes {
            list: List::ReformAreas,
            code: "public-service-hrm".into()
        })
    );
    let mut renamed = base.clone();
    renamed.topics[1].name.insert("en".into(), "Results".into());
    assert_eq!(
        base.additions_to(&renamed),
        Err(VocabularyError::Redefines {
            list: List::Topics,
            code: "performance-management".into()
        })
    );
    let mut flipped = base.clone();
    flipped.indicators[0].higher_is_better = false;
    assert!(matches!(
        base.additions_to(&flipped),
        Err(VocabularyError::Redefines {
            list: List::Indicators,
            ..
        })
    ));
    assert_eq!(base.additions_to(&base), Err(VocabularyError::Empty));
}

#[test]
fn the_proto_form_round_trips_and_an_empty_vocabulary_has_none() {
    let v = Vocabulary::template();
    let p = v.to_proto().expect("not empty");
    assert_eq!(Vocabulary::from_proto(&p), v);
    assert_eq!(Vocabulary::default().to_proto(), None);
}

proptest! {
    /// Whatever part of a vocabulary is in force, the rest is exactly what `additions_to`
    /// finds, and applying those additions gives the whole again: what was in force first, in
    /// its order, then the additions.
    #[test]
    fn additions_to_then_extended_gives_the_wanted_vocabulary(
        t in 0usize..=16, a in 0usize..=6, i in 0usize..=15,
    ) {
        let full = Vocabulary::template();
        let mut base = full.clone();
        base.topics.truncate(t);
        base.reform_areas.truncate(a);
        base.indicators.retain(|x| base.reform_areas.iter().any(|r| r.slug == x.reform_area));
        base.indicators.truncate(i);
        match base.additions_to(&full) {
            Ok(add) => {
                let got = base.extended(&add).expect("additions apply");
                prop_assert_eq!(&got.topics[..base.topics.len()], &base.topics[..]);
                prop_assert_eq!(&got.indicators[..base.indicators.len()], &base.indicators[..]);
                let codes = |v: &Vocabulary| {
                    let mut c: Vec<String> = v.topics.iter().map(|t| t.slug.clone())
                        .chain(v.reform_areas.iter().map(|t| format!("area {}", t.slug)))
                        .chain(v.indicators.iter().map(|i| i.code.clone()))
                        .collect();
                    c.sort();
                    c
                };
                prop_assert_eq!(codes(&got), codes(&full));
                prop_assert_eq!(got.check(), Ok(()));
            }
            Err(e) => {
                prop_assert_eq!(e, VocabularyError::Empty);
                prop_assert_eq!(base, full);
            }
        }
    }
}

#[test]
fn errors_name_the_list_as_the_charter_file_spells_it() {
    let cases = [
        (List::Topics, "topics"),
        (List::ReformAreas, "reform_areas"),
        (List::Indicators, "indicators"),
    ];
    for (list, name) in cases {
        assert_eq!(list.name(), name);
        assert_eq!(
            VocabularyError::Duplicate {
                list,
                code: "x".into()
            }
            .to_string(),
            format!("vocabulary.{name}: \"x\" appears twice")
        );
    }
    assert_eq!(
        VocabularyError::Removes {
            list: List::ReformAreas,
            code: "accountability".into()
        }
        .to_string(),
        "vocabulary.reform_areas: \"accountability\" is missing; entries are never removed"
    );
}

#[test]
fn lists_and_names_may_reach_their_limits_and_no_further() {
    let mut v = Vocabulary {
        topics: (0..MAX_ENTRIES).map(|i| term(&format!("t{i}"))).collect(),
        ..Vocabulary::default()
    };
    assert_eq!(v.check(), Ok(()));
    v.topics.truncate(1);
    let longest = "й".repeat(MAX_NAME_BYTES / 2);
    v.topics[0].name.insert("en".into(), longest.clone());
    assert_eq!(
        v.check(),
        Ok(()),
        "a name of exactly {MAX_NAME_BYTES} bytes"
    );
    v.topics[0].name.insert("en".into(), format!("{longest}x"));
    assert_eq!(
        v.check(),
        Err(VocabularyError::BadName {
            list: List::Topics,
            code: "t0".into(),
            problem: format!(
                "the en name is {} bytes, the limit is {MAX_NAME_BYTES}",
                MAX_NAME_BYTES + 1
            ),
        })
    );
}
