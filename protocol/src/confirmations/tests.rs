//! The derivation of a programme's state: the issue's walk (proposed, confirmed, a budget
//! amendment, confirmed again, a withdrawal), the edge cases of the rule, and a property test that
//! any order of the same facts derives the same state.

use proptest::prelude::*;

use super::{Confirmation, Facts, Standing, State, Version, derive};
use crate::id::RecordId;

fn id(n: u8) -> RecordId {
    RecordId([n; 32])
}

fn version(n: u8, seq: u64, terms: u8, members: &[&str]) -> Version {
    Version {
        id: id(n),
        seq,
        created_at: i64::from(n) * 1000,
        terms: Some([terms; 32]),
        members: members.iter().map(|m| (*m).to_owned()).collect(),
    }
}

fn confirm(n: u8, member: &str, at: i64, of: u8) -> Confirmation {
    Confirmation {
        id: id(n),
        member: member.into(),
        created_at: at,
        version: id(of),
        retracted: None,
    }
}

fn standings(facts: &Facts) -> (State, Vec<(String, &'static str)>) {
    let d = derive(facts).expect("a version");
    let names = d
        .participants
        .iter()
        .map(|(m, s)| {
            let name = match s {
                Standing::Lead => "lead",
                Standing::Confirmed { .. } => "confirmed",
                Standing::Reconfirm { .. } => "reconfirm",
                Standing::Withdrawn { .. } => "withdrawn",
                Standing::Awaiting => "awaiting",
            };
            (m.clone(), name)
        })
        .collect();
    (d.state, names)
}

fn pairs(list: &[(&str, &'static str)]) -> Vec<(String, &'static str)> {
    list.iter().map(|(m, s)| ((*m).to_owned(), *s)).collect()
}

#[test]
fn the_issue_walk_from_proposed_to_confirmed_and_back() {
    // HUB proposes with KZ and KG.
    let mut facts = Facts {
        author: "HUB".into(),
        versions: vec![version(1, 1, 1, &["HUB", "KZ", "KG"])],
        ..Facts::default()
    };
    assert_eq!(
        standings(&facts),
        (
            State::Proposed,
            pairs(&[("HUB", "lead"), ("KZ", "awaiting"), ("KG", "awaiting")])
        )
    );
    assert_eq!(derive(&facts).map(|d| d.in_force), Some(id(1)));
    // KZ confirms: still proposed; KG confirms: confirmed.
    facts.confirmations.push(confirm(10, "KZ", 10_000, 1));
    assert_eq!(standings(&facts).0, State::Proposed);
    facts.confirmations.push(confirm(11, "KG", 11_000, 1));
    assert_eq!(
        standings(&facts),
        (
            State::Confirmed,
            pairs(&[("HUB", "lead"), ("KZ", "confirmed"), ("KG", "confirmed")])
        )
    );
    // A progress amendment keeps the terms: still confirmed.
    facts.versions.push(version(2, 2, 1, &["HUB", "KZ", "KG"]));
    assert_eq!(standings(&facts).0, State::Confirmed);
    assert_eq!(derive(&facts).map(|d| d.in_force), Some(id(2)));
    // A budget amendment changes them: proposed until both confirm again.
    facts.versions.push(version(3, 3, 2, &["HUB", "KZ", "KG"]));
    assert_eq!(
        standings(&facts),
        (
            State::Proposed,
            pairs(&[("HUB", "lead"), ("KZ", "reconfirm"), ("KG", "reconfirm")])
        )
    );
    facts.confirmations.push(confirm(12, "KZ", 12_000, 3));
    facts.confirmations.push(confirm(13, "KG", 13_000, 3));
    assert_eq!(standings(&facts).0, State::Confirmed);
    // KG retracts its confirmation: withdrawn, and the programme is no longer confirmed.
    facts.confirmations[3].retracted = Some((id(14), 14_000));
    assert_eq!(
        standings(&facts),
        (
            State::Proposed,
            pairs(&[("HUB", "lead"), ("KZ", "confirmed"), ("KG", "withdrawn")])
        )
    );
    let d = derive(&facts).expect("derived");
    assert_eq!(
        d.participants[2].1,
        Standing::Withdrawn {
            confirmation: id(13),
            retraction: id(14)
        }
    );
    // KG confirms again later: confirmed.
    facts.confirmations.push(confirm(15, "KG", 15_000, 3));
    assert_eq!(standings(&facts).0, State::Confirmed);
    // The author retracts the programme.
    facts.retracted = true;
    assert_eq!(standings(&facts).0, State::Retracted);
}

#[test]
fn the_rule_at_its_edges() {
    let mut facts = Facts {
        author: "HUB".into(),
        versions: vec![version(1, 1, 1, &["HUB", "KZ"])],
        ..Facts::default()
    };
    assert_eq!(derive(&Facts::default()), None, "no version held");
    // An older confirmation retracted after a newer one stands: the latest act is the
    // withdrawal.
    facts.confirmations = vec![confirm(10, "KZ", 10_000, 1), confirm(11, "KZ", 11_000, 1)];
    facts.confirmations[0].retracted = Some((id(12), 12_000));
    assert_eq!(
        standings(&facts),
        (
            State::Proposed,
            pairs(&[("HUB", "lead"), ("KZ", "withdrawn")])
        )
    );
    // A retraction in the same millisecond as its confirmation is still after it.
    facts.confirmations = vec![confirm(10, "KZ", 10_000, 1)];
    facts.confirmations[0].retracted = Some((id(1), 10_000));
    assert_eq!(standings(&facts).1[1].1, "withdrawn");
    // A confirmation of a version with the same terms counts, whichever version it named.
    facts.versions.push(version(2, 2, 2, &["HUB", "KZ"]));
    facts.versions.push(version(3, 3, 1, &["HUB", "KZ"]));
    facts.confirmations = vec![confirm(10, "KZ", 10_000, 1)];
    assert_eq!(standings(&facts).0, State::Confirmed);
    // A member the version in force no longer lists does not count; one it adds awaits.
    facts.versions.push(version(4, 4, 3, &["HUB", "KG", "KG"]));
    assert_eq!(
        standings(&facts),
        (
            State::Proposed,
            pairs(&[("HUB", "lead"), ("KG", "awaiting")])
        )
    );
    // An erased version in force has no terms and, as a node holds it, lists no one: nobody
    // stands behind it, and the programme is proposed.
    let facts = Facts {
        author: "HUB".into(),
        versions: vec![Version {
            terms: None,
            members: Vec::new(),
            ..version(1, 1, 1, &["HUB", "KZ"])
        }],
        confirmations: vec![confirm(10, "KZ", 10_000, 1)],
        retracted: false,
    };
    assert_eq!(standings(&facts), (State::Proposed, Vec::new()));
    // A confirmation of no version of this programme counts for nothing.
    let facts = Facts {
        author: "HUB".into(),
        versions: vec![version(1, 1, 1, &["HUB", "KZ"])],
        confirmations: vec![confirm(10, "KZ", 10_000, 9)],
        retracted: false,
    };
    assert_eq!(
        standings(&facts),
        (
            State::Proposed,
            pairs(&[("HUB", "lead"), ("KZ", "awaiting")])
        )
    );
}

/// Facts for a generated programme: `versions` versions (terms from `terms`), members HUB and
/// three others, and confirmations by any of them of any version, some retracted.
fn facts_strategy() -> impl Strategy<Value = Facts> {
    let versions = prop::collection::vec((0u8..3, prop::collection::vec(0usize..4, 0..4)), 1..4);
    let confirmations = prop::collection::vec(
        (0usize..4, 0i64..20, 0usize..3, prop::option::of(0i64..20)),
        0..10,
    );
    (versions, confirmations).prop_map(|(versions, confirmations)| {
        const MEMBERS: [&str; 4] = ["HUB", "KZ", "KG", "TJ"];
        let versions: Vec<Version> = versions
            .into_iter()
            .enumerate()
            .map(|(i, (terms, members))| {
                let mut listed = vec!["HUB"];
                listed.extend(members.iter().map(|m| MEMBERS[*m]));
                version(i as u8 + 1, i as u64 + 1, terms, &listed)
            })
            .collect();
        let count = versions.len();
        let confirmations = confirmations
            .into_iter()
            .enumerate()
            .map(|(i, (member, at, of, retracted))| {
                let mut c = confirm(100 + i as u8, MEMBERS[member], at, (of % count) as u8 + 1);
                c.retracted = retracted.map(|t| (id(200 + i as u8), at + t));
                c
            })
            .collect();
        Facts {
            author: "HUB".into(),
            versions,
            retracted: false,
            confirmations,
        }
    })
}

proptest! {
    /// Any arrival order of the same records gives every node the same state.
    #[test]
    fn any_order_of_the_same_facts_derives_the_same_state(
        (facts, versions, confirmations) in facts_strategy().prop_flat_map(|f| {
            let versions = Just(f.versions.clone()).prop_shuffle();
            let confirmations = Just(f.confirmations.clone()).prop_shuffle();
            (Just(f), versions, confirmations)
        }),
    ) {
        let shuffled = Facts {
            versions,
            confirmations,
            ..facts.clone()
        };
        let a = derive(&facts);
        prop_assert_eq!(&a, &derive(&shuffled));
        // And the state says what the standings say.
        let d = a.expect("a version");
        let all = d.participants.iter().all(|(_, s)| s.stands_behind());
        prop_assert_eq!(d.state == State::Confirmed, all);
    }
}

#[test]
fn states_are_named_as_the_api_and_search_spell_them() {
    for (state, name) in [
        (State::Proposed, "proposed"),
        (State::Confirmed, "confirmed"),
        (State::Retracted, "retracted"),
    ] {
        assert_eq!(state.name(), name);
        assert_eq!(
            serde_json::to_value(state).expect("json"),
            serde_json::json!(name)
        );
    }
}
