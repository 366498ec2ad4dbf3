//! A joint programme with its participants over HTTP.
//!
//! ```text
//! GET /api/v1/programmes/{id}   where it stands, participant by participant, with the records
//! ```
//!
//! The state is derived from signed records alone (`hubnet_protocol::confirmations`); the answer
//! carries every record it rests on, so a reader derives it again without trusting the node.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::Value;

use super::openapi::Problem;
use super::{ApiError, AppState, blocking, parse_id};
use crate::programmes::Held;

#[utoipa::path(get, path = "/api/v1/programmes/{id}", tag = "records", params(("id" = super::openapi::RecordIdParam, Path, description = "Record id of the programme (the original), 64 hex digits")), responses((status = 200, description = "`state` (`proposed`, `confirmed` or `retracted`), `in_force` (the version in force), `lead`, `participants` of the version in force as drafts show them, each member with its `standing` (`lead`, `confirmed`, `reconfirm`, `withdrawn`, `awaiting`) and the `confirmation`, `version` or `retraction` behind it, and `records`: the programme, its amendments, its retraction, the confirmations and their retractions, signed (as `GET /api/v1/records/{id}`)", body = Value), (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json"), (status = 404, description = "No such programme", body = Problem, content_type = "application/problem+json")))]
/// `GET /api/v1/programmes/{id}`: the programme and where it stands with its participants.
pub async fn programme(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    let shared = state.shared.clone();
    blocking(move || {
        let store = shared.read_store();
        match Held::read(&store, &id)? {
            Some(held) => Ok(Json(held.json())),
            None => Err(ApiError::NotFound(format!("no programme {id}"))),
        }
    })
    .await
}
