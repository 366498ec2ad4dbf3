//! Governance, checkpoints and bundles over HTTP.
//!
//! ```text
//! GET  /api/v1/governance            members with key history, the decisions, governance forks
//! POST /api/v1/governance/decisions  a SignedDecision (protobuf) with its quorum: public, since
//!                                    a decision proves itself (any peer may gossip one too)
//! GET  /api/v1/checkpoints           the newest checkpoint of each signing node, and
//!                                    contradicting pairs held as evidence
//! POST /api/v1/checkpoints           a SignedCheckpoint (protobuf): public, it proves itself
//! GET  /api/v1/bundle                this node's whole signed corpus as a hubnet.v1.Bundle,
//!                                    streamed (`records=false`: charter, decisions, checkpoints)
//! ```

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hubnet_protocol::checkpoint::Checkpoint;
use hubnet_protocol::governance::{DecisionStatus, Governance};
use hubnet_protocol::{Charter, PublicKey};
use prost::Message;
use serde::Deserialize;
use serde_json::{Value, json};

use super::openapi::Problem;
use super::{AppState, PROTOBUF, blocking, body_bytes, submit};
use crate::api::ApiError;
use crate::bundle::BundleWriter;
use crate::store::CheckpointOutcome;
use crate::worker::{DecisionRefusal, Job};

/// The governance state as JSON (the web UI's audit view reads it).
pub fn governance_json(
    g: &Governance,
    heads: impl Fn(&PublicKey) -> Option<(u64, String)>,
) -> Value {
    let charter = g.charter();
    let state = g.state();
    let members: Vec<Value> = state
        .members
        .values()
        .map(|m| {
            let current = m.current_key().map(|k| k.key);
            json!({
                "code": m.code,
                "name": m.name,
                "suspended": m.suspended,
                "admitted_by": m.admitted_by.map(|d| d.to_hex()),
                "keys": m.keys.iter().map(|p| json!({
                    "key": p.key.to_hex(),
                    "current": Some(p.key) == current,
                    "granted_by": p.granted_by.map(|d| d.to_hex()),
                    "last_seq": p.grant.last_seq(),
                    "rotated_after": p.grant.rotated_after,
                    "revoked_after": p.grant.revoked_after,
                    "suspended_after": p.grant.suspended_after,
                    "head": heads(&p.key).map(|(seq, id)| json!({"seq": seq, "id": id})),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut decisions: Vec<&hubnet_protocol::governance::Decision> =
        g.decisions().values().collect();
    decisions.sort_by_key(|d| (d.seq, d.id));
    let decisions: Vec<Value> = decisions
        .into_iter()
        .map(|d| {
            let status = state.status.get(&d.id);
            json!({
                "id": d.id.to_hex(),
                "seq": d.seq,
                "prev": d.prev.map(|p| p.to_hex()),
                "created_at": d.created_at,
                "reason": d.reason,
                "action": d.action,
                "description": d.action.describe(),
                "signers": d.signers.iter().map(PublicKey::to_hex).collect::<Vec<_>>(),
                "status": match status {
                    Some(DecisionStatus::Applied) => "applied",
                    Some(DecisionStatus::Void(_)) => "void",
                    _ => "off_chain",
                },
                "void_reason": match status {
                    Some(DecisionStatus::Void(r)) => Some(r.clone()),
                    _ => None,
                },
                "signed": STANDARD.encode(d.signed.encode_to_vec()),
            })
        })
        .collect();
    json!({
        "network_id": charter.network_id().to_hex(),
        "quorum": charter.quorum(),
        "committee": charter.committee().iter().map(PublicKey::to_hex).collect::<Vec<_>>(),
        "members": members,
        "decisions": decisions,
        "forks": state.forks.iter().map(|(seq, ids)| json!({
            "seq": seq,
            "ids": ids.iter().map(|i| i.to_hex()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "limits": state.limits.iter().map(|(from, limits)| json!({
            "effective_from": (*from != i64::MIN).then_some(*from),
            "limits": limits,
        })).collect::<Vec<_>>(),
        "chain_length": state.chain.len(),
        "chain_head": state.chain.last().map(|i| i.to_hex()),
    })
}

/// `GET /api/v1/governance`.
#[utoipa::path(get, path = "/api/v1/governance", tag = "governance", responses((status = 200, description = "Members with their key history, every decision with its status, governance forks", body = Value)))]
pub async fn governance(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let shared = state.shared.clone();
    blocking(move || {
        let store = shared.read_store();
        let heads = |k: &PublicKey| store.head(k).ok().flatten().map(|h| (h.seq, h.id.to_hex()));
        Ok(Json(governance_json(store.governance(), heads)))
    })
    .await
}

/// `POST /api/v1/governance/decisions`.
#[utoipa::path(post, path = "/api/v1/governance/decisions", tag = "governance", request_body(content = super::openapi::SignedDecisionMessage, content_type = "application/x-protobuf", description = "A `hubnet.v1.SignedDecision` protobuf (proto/proto/hubnet/v1/governance.proto) with at least quorum committee signatures"), responses((status = 201, description = "Stored durably (new)", body = Value), (status = 200, description = "Already held", body = Value), (status = 400, description = "A bad body", body = Problem, content_type = "application/problem+json"), (status = 422, description = "Not a valid decision (signatures, quorum, content)", body = Problem, content_type = "application/problem+json"), (status = 507, description = "The node's disk is full: nothing was stored", body = Problem, content_type = "application/problem+json")))]
pub async fn submit_decision(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let bytes = body_bytes(&state, body)?.to_vec();
    let (d, new) = submit(&state, |reply| Job::SubmitDecision { bytes, reply })
        .await?
        .map_err(|e| match e {
            DecisionRefusal::Invalid(e) => ApiError::Unprocessable(e.to_string()),
            DecisionRefusal::Store(e) => e.into(),
        })?;
    let status = state
        .shared
        .read_store()
        .governance()
        .state()
        .status
        .get(&d.id)
        .cloned();
    let body = json!({
        "id": d.id.to_hex(),
        "seq": d.seq,
        "description": d.action.describe(),
        "new": new,
        "status": status,
    });
    let code = if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((code, Json(body)).into_response())
}

fn checkpoint_json(c: &Checkpoint, charter: &Charter) -> Value {
    json!({
        "id": c.id.to_hex(),
        "signer": c.signer.to_hex(),
        "member": c.member,
        "peer_id": c.peer_id,
        "time": c.time,
        "heads": c.heads.iter().map(|(a, h)| json!({
            "author": a.to_hex(),
            "member": charter.member_by_key(a).map(|m| m.code.clone()),
            "seq": h.seq,
            "id": h.id.to_hex(),
        })).collect::<Vec<_>>(),
        "decision_count": c.decisions.0,
        "decisions_digest": hex::encode(&c.decisions.1),
        "signed": STANDARD.encode(c.signed.encode_to_vec()),
    })
}

/// `GET /api/v1/checkpoints`.
#[utoipa::path(get, path = "/api/v1/checkpoints", tag = "governance", responses((status = 200, description = "The newest checkpoint of each signing node, and contradicting pairs held as evidence", body = Value)))]
pub async fn checkpoints(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let shared = state.shared.clone();
    blocking(move || {
        let store = shared.read_store();
        let charter = store.charter();
        let latest: Vec<Value> = store
            .checkpoints()
            .map(|c| checkpoint_json(c, charter))
            .collect();
        let conflicts: Vec<Value> = store
            .checkpoint_conflicts()
            .iter()
            .map(|k| {
                json!({
                    "signer": k.first.signer.to_hex(),
                    "member": k.first.member,
                    "peer_id": k.first.peer_id,
                    "conflicts": k.conflicts,
                    "first": checkpoint_json(&k.first, charter),
                    "second": checkpoint_json(&k.second, charter),
                })
            })
            .collect();
        Ok(Json(
            json!({ "checkpoints": latest, "conflicts": conflicts }),
        ))
    })
    .await
}

/// `POST /api/v1/checkpoints`.
#[utoipa::path(post, path = "/api/v1/checkpoints", tag = "governance", request_body(content = super::openapi::SignedCheckpointMessage, content_type = "application/x-protobuf", description = "A `hubnet.v1.SignedCheckpoint` protobuf (proto/proto/hubnet/v1/governance.proto)"), responses((status = 200, description = "Verified; whether it was new, known, or contradicts the signer's newest", body = Value), (status = 400, description = "A bad body", body = Problem, content_type = "application/problem+json"), (status = 422, description = "Not a valid checkpoint", body = Problem, content_type = "application/problem+json")))]
pub async fn submit_checkpoint(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let bytes = body_bytes(&state, body)?.to_vec();
    let outcome = submit(&state, |reply| Job::SubmitCheckpoint { bytes, reply })
        .await?
        .map_err(ApiError::Unprocessable)?;
    Ok(Json(match outcome {
        CheckpointOutcome::Newer => json!({"outcome": "newer"}),
        CheckpointOutcome::Known => json!({"outcome": "known"}),
        CheckpointOutcome::Conflict(c) => json!({"outcome": "conflict", "conflicts": c}),
    }))
}

/// Parameters of `GET /api/v1/bundle`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BundleParams {
    /// Include every record (default true); false gives the charter, decisions and checkpoints.
    pub records: Option<bool>,
}

/// `GET /api/v1/bundle`.
#[utoipa::path(get, path = "/api/v1/bundle", tag = "governance", params(BundleParams), responses((status = 200, description = "A hubnet.v1.Bundle (protobuf), streamed: charter, decisions, checkpoints (newest per signer, then contradicting pairs), records in journal order", content_type = "application/x-protobuf", body = super::openapi::BundleMessage), (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json")))]
pub async fn bundle(
    State(state): State<AppState>,
    params: Result<Query<BundleParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let with_records = params.records.unwrap_or(true);
    let permit = state.guard.stream()?;
    let shared = state.shared.clone();
    let body = super::stream::body(permit, "bundle", move |out| {
        write_bundle(&shared, out, with_records)
    });
    Ok((
        axum::Extension(super::stream::Streamed),
        [
            (header::CONTENT_TYPE, PROTOBUF),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"hubnet.bundle\"",
            ),
        ],
        body,
    )
        .into_response())
}

/// Records read from the store at a time while a bundle is written.
const BUNDLE_CHUNK: usize = 16;

fn write_bundle(
    shared: &crate::shared::Shared,
    out: &mut super::stream::ChannelWriter,
    with_records: bool,
) -> std::io::Result<()> {
    let (mut writer, decisions_end, forks) = {
        let store = shared.read_store();
        let mut w = BundleWriter::new(out, store.charter().signed())?;
        for d in store.decisions_encoded() {
            w.write_decision(&d)?;
        }
        for c in store.checkpoints() {
            w.write_checkpoint(&c.signed.encode_to_vec())?;
        }
        for k in store.checkpoint_conflicts() {
            w.write_checkpoint(&k.first.signed.encode_to_vec())?;
            w.write_checkpoint(&k.second.signed.encode_to_vec())?;
        }
        let forks: Vec<Vec<u8>> = store
            .forks()
            .values()
            .flatten()
            .map(|s| s.encode())
            .collect();
        (w, store.journal_end(), forks)
    };
    if with_records {
        let mut from = crate::store::Store::journal_start();
        while from < decisions_end {
            // Small chunks, releasing the store between them: a slow reader holds one chunk.
            let (chunk, next) = shared
                .read_store()
                .signed_from(from, BUNDLE_CHUNK)
                .map_err(std::io::Error::other)?;
            if chunk.is_empty() || next <= from {
                break;
            }
            for r in &chunk {
                writer.write_record(r)?;
            }
            from = next;
        }
    }
    // Fork evidence last, after the logs it branches from.
    if with_records {
        for r in &forks {
            writer.write_record(r)?;
        }
    }
    writer.finish()?;
    Ok(())
}
