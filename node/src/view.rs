//! How records look to people and programs: JSON with the decoded header and body plus the exact
//! signed bytes as standard base64, so a reader can verify without trusting this node.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hubnet_protocol::{Body, Draft, Record};
use serde_json::{Value, json};

/// RFC 3339 UTC with milliseconds, e.g. `2026-11-23T03:40:00.123Z`.
pub fn rfc3339_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| ms.to_string())
}

/// The JSON view of a record.
pub fn record_json(r: &Record) -> Value {
    let h = &r.header;
    json!({
        "id": r.id.to_hex(),
        "network_id": h.network_id.to_hex(),
        "member": r.member,
        "author": h.author.to_hex(),
        "seq": h.seq,
        "prev": h.prev.map(|p| p.to_hex()),
        "created_at": rfc3339_ms(h.created_at),
        "created_at_ms": h.created_at,
        "kind": h.kind.name(),
        "body": serde_json::to_value(Draft::from_body(&r.body)).unwrap_or(Value::Null),
        "signed": {
            "header": STANDARD.encode(&r.signed.header),
            "body": STANDARD.encode(&r.signed.body),
            "signature": STANDARD.encode(&r.signed.signature),
        },
    })
}

/// A one-line title: English if present, else Russian, else the first language.
pub fn title(body: &Body) -> String {
    let text = match body {
        Body::Practice(p) => p.title.as_ref(),
        Body::Event(e) => e.title.as_ref(),
        Body::Amendment(a) => match &a.content {
            Some(hubnet_proto::v1::amendment::Content::Practice(p)) => p.title.as_ref(),
            Some(hubnet_proto::v1::amendment::Content::Event(e)) => e.title.as_ref(),
            None => None,
        },
        Body::Retraction(r) => {
            return format!("retracts {}", hex::encode(&r.target));
        }
    };
    let Some(map) = text.map(|t| &t.text) else {
        return String::new();
    };
    ["en", "ru"]
        .iter()
        .find_map(|l| map.get(*l))
        .or_else(|| map.values().next())
        .cloned()
        .unwrap_or_default()
}
