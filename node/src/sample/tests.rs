//! The plan's parser: the sample plan parses and fits the sample drafts; each broken rule is
//! refused with its own error; the drafts a step publishes are drafts the protocol accepts.
#![allow(clippy::unwrap_used)]

use hubnet_protocol::{Draft, DraftFormat};

use super::*;
use crate::test_support::sample;

/// `text` is refused with `expected`.
fn refused(text: &str, expected: PlanError) {
    assert_eq!(ProgrammePlan::parse(text), Err(expected), "{text}");
}

const KG: &str = "KG/50-programme-academies-curriculum.toml";

#[test]
fn the_sample_plan_fits_the_sample_programmes() {
    let text = std::fs::read_to_string(sample("programmes.toml")).unwrap();
    let plan = ProgrammePlan::parse(&text).unwrap();
    assert_eq!(plan.programme.len(), 4);
    for p in &plan.programme {
        let text = std::fs::read_to_string(sample("drafts").join(&p.draft)).unwrap();
        let Draft::Programme(draft) = Draft::parse(&text, DraftFormat::Toml).unwrap() else {
            panic!("{} is not a programme", p.draft);
        };
        assert!(draft.sample, "{}", p.draft);
        let lead = draft
            .participants
            .iter()
            .find(|x| {
                x.roles
                    .contains(&hubnet_protocol::kinds::programme::ParticipantRole::Lead)
            })
            .and_then(|x| x.member.as_deref());
        assert_eq!(lead, Some(p.lead()), "{}", p.draft);
        for m in &p.confirm {
            assert!(
                draft
                    .participants
                    .iter()
                    .any(|x| x.member.as_ref() == Some(m)),
                "{}: {m} is not a participant",
                p.draft
            );
        }
        // Only the nodes of the default devnet take part.
        for x in &draft.participants {
            let m = x.member.as_deref().unwrap_or_default();
            assert!(["HUB", "KZ", "KG", "TJ", "UZ"].contains(&m), "{m}");
        }
    }
    let steps: Vec<(bool, &str, &str)> = plan
        .steps()
        .iter()
        .map(|s| {
            (
                matches!(s, Step::Withdraw { .. }),
                s.programme().lead(),
                s.member(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            (false, "HUB", "KZ"),
            (false, "HUB", "KG"),
            (false, "KZ", "UZ"),
            (false, "KG", "TJ"),
            (false, "KG", "UZ"),
            (false, "UZ", "KZ"),
            (true, "KG", "UZ"),
        ]
    );
}

#[test]
fn a_steps_drafts_are_drafts_the_protocol_accepts() {
    let id = "ab".repeat(32);
    let Draft::Confirmation(c) =
        Draft::parse(&confirmation_draft(&id).to_string(), DraftFormat::Json).unwrap()
    else {
        panic!("not a confirmation");
    };
    assert_eq!((c.programme.as_str(), c.version), (id.as_str(), None));
    let plan = ProgrammePlan::parse(&format!(
        "[[programme]]\ndraft = \"{KG}\"\nconfirm = [\"UZ\"]\nwithdraw = [\"UZ\"]\nreason = {{ en = \"Moved.\" }}\n"
    ))
    .unwrap();
    let Draft::Retraction(r) = Draft::parse(
        &plan.programme[0].withdrawal_draft(&id).to_string(),
        DraftFormat::Json,
    )
    .unwrap() else {
        panic!("not a retraction");
    };
    assert_eq!(r.target, id);
}

#[test]
fn an_empty_plan_has_no_steps() {
    assert!(ProgrammePlan::parse("").unwrap().steps().is_empty());
}

#[test]
fn a_bad_plan_is_refused_naming_what_is_wrong() {
    let toml = |e: &str| match ProgrammePlan::parse(e) {
        Err(PlanError::Toml(m)) => m,
        other => panic!("{e}: {other:?}"),
    };
    assert!(
        toml("[[programme]]\ndraft = \"KG/a.toml\"\nconfirm = [\"UZ\"]\nconfrim = []\n")
            .contains("confrim")
    );
    assert!(toml("[[programme]]\ndraft = \"KG/a.toml\"\n").contains("confirm"));
    assert!(toml("[[programmes]]\ndraft = \"KG/a.toml\"\nconfirm = []\n").contains("programmes"));
    assert!(toml("[[programme]]\ndraft = 5\nconfirm = []\n").contains("draft"));
    assert!(toml("[[programme]\n").contains("TOML parse error"));
    for path in [
        "KG",
        "a.toml",
        "/a.toml",
        "KG/",
        "KG/.toml",
        "KG/a.json",
        "KG/x/a.toml",
        "../a.toml",
    ] {
        refused(
            &format!("[[programme]]\ndraft = \"{path}\"\nconfirm = []\n"),
            PlanError::DraftPath { draft: path.into() },
        );
    }
    refused(
        &format!(
            "[[programme]]\ndraft = \"{KG}\"\nconfirm = []\n[[programme]]\ndraft = \"{KG}\"\nconfirm = []\n"
        ),
        PlanError::DraftTwice { draft: KG.into() },
    );
    refused(
        &format!("[[programme]]\ndraft = \"{KG}\"\nconfirm = [\"TJ\", \"KG\"]\n"),
        PlanError::LeadConfirms {
            draft: KG.into(),
            member: "KG".into(),
        },
    );
    refused(
        &format!("[[programme]]\ndraft = \"{KG}\"\nconfirm = [\"TJ\", \"TJ\"]\n"),
        PlanError::Duplicate {
            draft: KG.into(),
            field: "confirm",
            member: "TJ".into(),
        },
    );
    refused(
        &format!(
            "[[programme]]\ndraft = \"{KG}\"\nconfirm = [\"TJ\"]\nwithdraw = [\"TJ\", \"TJ\"]\nreason = {{ en = \"x\" }}\n"
        ),
        PlanError::Duplicate {
            draft: KG.into(),
            field: "withdraw",
            member: "TJ".into(),
        },
    );
    refused(
        &format!(
            "[[programme]]\ndraft = \"{KG}\"\nconfirm = [\"TJ\"]\nwithdraw = [\"UZ\"]\nreason = {{ en = \"x\" }}\n"
        ),
        PlanError::WithdrawsUnconfirmed {
            draft: KG.into(),
            member: "UZ".into(),
        },
    );
    refused(
        &format!("[[programme]]\ndraft = \"{KG}\"\nconfirm = [\"TJ\"]\nwithdraw = [\"TJ\"]\n"),
        PlanError::Reason { draft: KG.into() },
    );
    refused(
        &format!(
            "[[programme]]\ndraft = \"{KG}\"\nconfirm = [\"TJ\"]\nreason = {{ en = \"x\" }}\n"
        ),
        PlanError::Reason { draft: KG.into() },
    );
}
