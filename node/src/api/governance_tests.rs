//! The governance endpoints in-process: a suspension posted with its quorum ends the member's
//! key at a seq, and from then on the node refuses to sign for it, its later records leave the
//! search results and the current view, and stay served as signed for audits.

use axum::http::StatusCode;
use hubnet_protocol::governance::Action;
use prost::Message;
use serde_json::{Value, json};

use super::query_tests::wait_for;
use super::tests::{Api, TOKEN, api, call, get, json, post};
use crate::test_support::{sample_charter, sample_key, signed_decision};

/// A decision at seq 1 signed by the sample committee keys numbered `signers`, encoded.
fn decision(action: Action, signers: &[u8]) -> Vec<u8> {
    let keys: Vec<_> = signers
        .iter()
        .map(|n| sample_key(&format!("committee-{n}")))
        .collect();
    signed_decision(&sample_charter(), 1, None, action, &keys).encode_to_vec()
}

async fn publish(api: &Api, title: &str) -> (StatusCode, Value) {
    let draft = json!({"kind": "practice", "title": {"en": title},
                       "summary": {"en": "Summary."}, "topics": ["training"]});
    let (status, _, body) =
        call(api, post("/api/v1/records", Some(TOKEN), draft.to_string())).await;
    (status, json(&body))
}

#[tokio::test]
async fn a_suspension_ends_the_key_for_signing_search_and_the_current_view() {
    let api = api(Some("KZ"));
    let (_, first) = publish(&api, "Quorumfirst mentoring").await;
    let (_, second) = publish(&api, "Quorumsecond mentoring").await;
    let second = second["id"].as_str().expect("id").to_owned();
    wait_for(&api, "/api/v1/records?q=quorumsecond", |v| v["total"] == 1).await;

    let suspend = Action::Suspend {
        code: "KZ".into(),
        last_seq: 1,
    };
    // Below the quorum (2 of 3): refused, nothing stored.
    let (status, _, body) = call(
        &api,
        post(
            "/api/v1/governance/decisions",
            None,
            decision(suspend.clone(), &[1]),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        json(&body)["detail"]
            .as_str()
            .is_some_and(|d| d.contains("1 committee signatures, the quorum is 2")),
        "{}",
        String::from_utf8_lossy(&body)
    );
    let (_, _, body) = call(&api, get("/api/v1/governance")).await;
    assert_eq!(json(&body)["decisions"], json!([]));

    // With the quorum: stored and applied; posting it again changes nothing.
    let bytes = decision(suspend, &[1, 3]);
    let (status, _, body) = call(
        &api,
        post("/api/v1/governance/decisions", None, bytes.clone()),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(json(&body)["status"]["status"], "applied");
    let (status, _, _) = call(&api, post("/api/v1/governance/decisions", None, bytes)).await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, body) = call(&api, get("/api/v1/governance")).await;
    let g = json(&body);
    let kz = g["members"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["code"] == "KZ"))
        .expect("KZ");
    assert_eq!(kz["suspended"], true);
    assert_eq!(kz["keys"][0]["last_seq"], 1);
    assert_eq!(g["limits"][0]["effective_from"], Value::Null);

    // The node no longer signs for KZ.
    let (status, body) = publish(&api, "After the suspension").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // KZ's second record leaves the search results and the current view...
    wait_for(&api, "/api/v1/records?q=quorumsecond", |v| v["total"] == 0).await;
    wait_for(&api, "/api/v1/records?q=quorumfirst", |v| v["total"] == 1).await;
    let (status, _, body) = call(&api, get(&format!("/api/v1/records/{second}/current"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        json(&body)["detail"]
            .as_str()
            .is_some_and(|d| d.contains("past its key's last valid seq (1)")),
        "{}",
        String::from_utf8_lossy(&body)
    );
    let first = first["id"].as_str().expect("id");
    let (status, _, _) = call(&api, get(&format!("/api/v1/records/{first}/current"))).await;
    assert_eq!(status, StatusCode::OK);
    // ...and is still served as signed, for audits.
    let (status, _, _) = call(&api, get(&format!("/api/v1/records/{second}"))).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn bad_checkpoints_and_decisions_are_refused_with_a_reason() {
    let api = api(None);
    for path in ["/api/v1/checkpoints", "/api/v1/governance/decisions"] {
        let (status, _, body) = call(&api, post(path, None, vec![0xff, 0x01, 0x02])).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert!(
            json(&body)["detail"]
                .as_str()
                .is_some_and(|d| d.contains("malformed")),
            "{path}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let (_, _, body) = call(&api, get("/api/v1/checkpoints")).await;
    assert_eq!(json(&body), json!({"checkpoints": [], "conflicts": []}));
}
