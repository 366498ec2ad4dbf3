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

/// The JSON view of a record. An erased record (docs/PROTOCOL.md §2.1) has `"erased": true`,
/// a `null` body and, in `signed.erasure`, the author's erasure record that proves it (absent
/// when a Steering Committee decision erased it).
pub fn record_json(r: &Record) -> Value {
    let h = &r.header;
    let mut signed = json!({
        "header": STANDARD.encode(&r.signed.header),
        "body": STANDARD.encode(&r.signed.body),
        "signature": STANDARD.encode(&r.signed.signature),
    });
    if !r.signed.erasure.is_empty() {
        signed["erasure"] = Value::String(STANDARD.encode(&r.signed.erasure));
    }
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
        "erased": r.body.is_erased(),
        "signed": signed,
    })
}

/// A one-line title: English if present, else Russian, else the first language.
pub fn title(body: &Body) -> String {
    match body {
        Body::Retraction(r) => return format!("retracts {}", hex::encode(&r.target)),
        Body::Erasure(e) => return format!("erases {}", hex::encode(&e.target)),
        Body::Erased { kind } => return format!("an erased {}", kind.name()),
        _ => {}
    }
    let text = crate::kinds::Content::of_body(body).and_then(|c| c.view().title());
    pick(text, None)
}

/// Text in the reader's language `lang`, else English, else Russian, else any (see
/// [`crate::lang::pick`]).
pub fn pick(text: Option<&hubnet_proto::v1::LocalizedText>, lang: Option<&str>) -> String {
    crate::lang::pick(text, lang).to_owned()
}

/// Markdown (CommonMark with tables and strikethrough) to HTML that is safe to insert in a page:
/// raw HTML in the source is escaped, and the result is sanitised (no scripts, no event
/// handlers, no `javascript:` links; links get `rel="noopener noreferrer nofollow"`).
pub fn render_markdown(md: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser, html};
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    // Raw HTML becomes text: a record's author writes Markdown, not markup.
    let events = Parser::new_ext(md, options).map(|e| match e {
        Event::Html(t) | Event::InlineHtml(t) => Event::Text(t),
        other => other,
    });
    let mut out = String::with_capacity(md.len() * 3 / 2);
    html::push_html(&mut out, events);
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer nofollow"))
        .url_schemes(["http", "https", "mailto"].into())
        .clean(&out)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::render_markdown;

    #[test]
    fn markdown_renders_and_scripts_never_survive() {
        let html = render_markdown("## Итоги\n\n- **один**\n- [ссылка](https://example.org)");
        assert!(html.contains("<h2>Итоги</h2>"), "{html}");
        assert!(html.contains("<strong>один</strong>"));
        assert!(html.contains("rel=\"noopener noreferrer nofollow\""));
        for evil in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[x](javascript:alert(1))",
            "<a href=\"javascript:alert(1)\">x</a>",
        ] {
            let html = render_markdown(evil);
            assert!(!html.contains("<script"), "{evil} -> {html}");
            assert!(!html.contains("<img"), "{evil} -> {html}");
            assert!(!html.contains("<a href=\"javascript"), "{evil} -> {html}");
        }
        // Raw HTML is shown as text.
        assert!(render_markdown("<b>x</b>").contains("&lt;b&gt;"));
    }
}
