//! `hubnet erase`: erases one of the node's member's records on a running node
//! (docs/PROTOCOL.md §2.1), through `POST /api/v1/records` with the admin token.

use anyhow::Context;
use hubnet_protocol::RecordId;
use hubnet_protocol::kinds::erasure::Ground;
use serde_json::{Value, json};

/// `hubnet erase` arguments.
#[derive(Debug, clap::Args)]
pub struct EraseArgs {
    /// The node's HTTP address.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    node: String,
    /// The node's admin token.
    #[arg(long, env = "HUBNET_ADMIN_TOKEN", hide_env_values = true)]
    token: String,
    /// The record to erase (64 hex): one of the node's member's practices, events, profiles,
    /// institutions or experts. Its amendments are erased with it.
    #[arg(long)]
    record: String,
    /// Why: consent_withdrawn, erasure_request, unlawful or order.
    #[arg(long)]
    ground: String,
}

/// Publishes the erasure and prints its id and what it erased.
pub fn run(a: &EraseArgs) -> anyhow::Result<std::process::ExitCode> {
    let record: RecordId = a
        .record
        .parse()
        .map_err(|_| anyhow::anyhow!("--record {:?} is not a record id (64 hex)", a.record))?;
    let ground: Ground = serde_json::from_value(Value::String(a.ground.clone())).map_err(|_| {
        anyhow::anyhow!(
            "--ground {:?} is not one of consent_withdrawn, erasure_request, unlawful, order",
            a.ground
        )
    })?;
    let url = format!("{}/api/v1/records", a.node.trim_end_matches('/'));
    let draft = json!({"kind": "erasure", "target": record.to_hex(), "ground": ground});
    let base = a.node.trim_end_matches('/').to_owned();
    let (status, body, erasure) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?
        .block_on(async {
            let client = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()?;
            let response = client
                .post(&url)
                .bearer_auth(&a.token)
                .json(&draft)
                .send()
                .await
                .with_context(|| format!("posting to {url}"))?;
            let status = response.status();
            let text = response.text().await?;
            let body = serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text));
            // The erasure as stored: the amendments the node listed in it.
            let erasure = match body["id"].as_str() {
                Some(id) if status.is_success() => client
                    .get(format!("{base}/api/v1/records/{id}"))
                    .send()
                    .await
                    .with_context(|| format!("reading erasure {id} back"))?
                    .json::<Value>()
                    .await
                    .unwrap_or(Value::Null),
                _ => Value::Null,
            };
            anyhow::Ok((status, body, erasure))
        })?;
    if !status.is_success() {
        let detail = body["detail"]
            .as_str()
            .map_or_else(|| body.to_string(), str::to_owned);
        anyhow::bail!("{url} refused the erasure ({status}): {detail}");
    }
    let amendments = erasure["body"]["amendments"].as_array().map_or(0, Vec::len);
    say!(
        "erased {record} and {amendments} amendment(s) by erasure {}; every node deletes their bodies as it receives it",
        body["id"].as_str().unwrap_or("?")
    );
    Ok(std::process::ExitCode::SUCCESS)
}
