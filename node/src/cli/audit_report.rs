//! An [`AuditReport`] for people: [`render_text`] for a terminal and [`render_html`] for a
//! self-contained page to print (A4) or archive. Both are pure: no IO, no clock, and the same
//! report always renders to the same bytes.
//!
//! Every string in a report may come from a node the audit does not trust (a decision's
//! description, a source's name), so the text drops control characters (no terminal escapes) and
//! the HTML escapes everything it shows.

use crate::api::ui::escape as esc;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use comfy_table::{ContentArrangement, Table, presets};
use hubnet_protocol::audit::AuditReport;
use hubnet_protocol::bundle::{Evidence, Problem, ProblemKind};
use hubnet_protocol::governance::DecisionStatus;

/// The report as plain text: the header and sources, a table per key, the governance timeline,
/// the number of checkpoints, the problems grouped by kind (with their evidence's labels and ids,
/// not the signed bytes) and a last line `CLEAN: no problems` or `FAILED: N problems (kinds: …)`.
pub fn render_text(report: &AuditReport) -> String {
    let mut out = String::new();
    out.push_str("hubnet audit report\n");
    line(
        &mut out,
        format!("network:     {}", clean(&report.network_id)),
    );
    line(
        &mut out,
        format!("generated:   {}", time(report.generated_at)),
    );
    line(&mut out, format!("checkpoints: {}", report.checkpoints));

    line(&mut out, format!("\nSources ({})", report.sources.len()));
    if report.sources.is_empty() {
        out.push_str("none\n");
    } else {
        let mut t = table([
            "source",
            "member",
            "peer",
            "records",
            "decisions",
            "checkpoints",
        ]);
        for s in &report.sources {
            t.add_row([
                clean(&s.name),
                opt(s.member.as_deref()),
                opt(s.peer_id.as_deref()),
                s.records.to_string(),
                s.decisions.to_string(),
                s.checkpoints.to_string(),
            ]);
        }
        line(&mut out, t.to_string());
    }

    line(&mut out, format!("\nKeys ({})", report.keys.len()));
    if report.keys.is_empty() {
        out.push_str("none\n");
    } else {
        let mut t = table([
            "member",
            "key",
            "last valid seq",
            "records",
            "head seq",
            "head id",
            "amendments",
            "retractions",
            "erased",
            "problems",
        ]);
        for k in &report.keys {
            t.add_row([
                clean(&k.code),
                short(&k.key, 16),
                k.last_valid_seq
                    .map_or_else(|| "-".into(), |s| s.to_string()),
                k.records.to_string(),
                k.head_seq.to_string(),
                k.head_id
                    .map_or_else(|| "-".into(), |id| short(&id.to_hex(), 12)),
                kind_count(&k.kinds, "amendment").to_string(),
                kind_count(&k.kinds, "retraction").to_string(),
                k.erased.to_string(),
                k.problems.to_string(),
            ]);
        }
        line(&mut out, t.to_string());
    }

    line(
        &mut out,
        format!(
            "\nGovernance timeline ({} decisions)",
            report.governance.len()
        ),
    );
    if report.governance.is_empty() {
        out.push_str("none\n");
    } else {
        let mut t = table(["seq", "time", "id", "description", "signers", "status"]);
        for d in &report.governance {
            t.add_row([
                d.seq.to_string(),
                time(d.created_at),
                short(&d.id.to_hex(), 12),
                clean(&d.description),
                d.signers.len().to_string(),
                clean(&status(&d.status)),
            ]);
        }
        line(&mut out, t.to_string());
    }

    let groups = by_kind(&report.problems);
    line(&mut out, format!("\nProblems ({})", report.problems.len()));
    if groups.is_empty() {
        out.push_str("none\n");
    }
    for (kind, problems) in &groups {
        line(
            &mut out,
            format!("\n{} ({})", kind_name(*kind), problems.len()),
        );
        for p in problems {
            line(&mut out, format!("  - {}", clean(&p.message)));
            let about = about(p);
            if !about.is_empty() {
                let about: Vec<String> = about
                    .iter()
                    .map(|(k, v)| match *k {
                        "author" => format!("{k} {}", short(v, 16)),
                        _ => format!("{k} {}", clean(v)),
                    })
                    .collect();
                line(&mut out, format!("    {}", about.join(", ")));
            }
            for e in &p.evidence {
                line(
                    &mut out,
                    format!(
                        "    evidence: {} {}",
                        clean(&e.label),
                        e.id.map_or_else(|| "-".into(), |id| id.to_hex())
                    ),
                );
            }
        }
    }
    out.push('\n');
    line(&mut out, verdict(&groups, report.problems.len()));
    out
}

/// The report as one HTML5 page with no scripts and no external resources (the style is inline),
/// laid out for A4: a green `Clean` or red `N problems` banner, then the same content as
/// [`render_text`], plus each piece of evidence's signed bytes in hex so that the printout proves
/// each problem. Every string taken from the report is escaped.
pub fn render_html(report: &AuditReport) -> String {
    let mut out = String::new();
    let clean_report = report.problems.is_empty();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>hubnet audit {} {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(&short(&report.network_id, 16)),
        esc(&time(report.generated_at)),
    );

    let (class, banner) = if clean_report {
        ("clean", "Clean".to_owned())
    } else {
        ("failed", problems_count(report.problems.len()))
    };
    let _ = writeln!(
        out,
        "<div class=\"banner {class}\" role=\"status\">{}</div>",
        esc(&banner)
    );
    out.push_str("<h1>hubnet audit report</h1>\n<dl class=\"meta\">\n");
    let _ = writeln!(
        out,
        "<dt>Network</dt><dd class=\"mono\">{}</dd>",
        esc(&report.network_id)
    );
    let _ = writeln!(
        out,
        "<dt>Generated</dt><dd>{}</dd>",
        esc(&time(report.generated_at))
    );
    let _ = writeln!(
        out,
        "<dt>Checkpoints</dt><dd>{} distinct valid checkpoints</dd>",
        report.checkpoints
    );
    out.push_str("</dl>\n");

    let _ = writeln!(
        out,
        "<section>\n<h2>Sources ({})</h2>",
        report.sources.len()
    );
    if report.sources.is_empty() {
        out.push_str("<p class=\"none\">None.</p>\n");
    } else {
        head(
            &mut out,
            &[
                "Source",
                "Member",
                "Peer",
                "Records",
                "Decisions",
                "Checkpoints",
            ],
        );
        for s in &report.sources {
            let _ = writeln!(
                out,
                "<tr><td class=\"wrap\">{}</td><td>{}</td><td class=\"mono wrap\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                esc(&s.name),
                esc(s.member.as_deref().unwrap_or("-")),
                esc(s.peer_id.as_deref().unwrap_or("-")),
                s.records,
                s.decisions,
                s.checkpoints,
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }
    out.push_str("</section>\n");

    let _ = writeln!(out, "<section>\n<h2>Keys ({})</h2>", report.keys.len());
    if report.keys.is_empty() {
        out.push_str("<p class=\"none\">None.</p>\n");
    } else {
        head(
            &mut out,
            &[
                "Member",
                "Key",
                "Last valid seq",
                "Records",
                "Head seq",
                "Head id",
                "Amendments",
                "Retractions",
                "Erased",
                "Problems",
            ],
        );
        for k in &report.keys {
            let head_id = k.head_id.map(|id| id.to_hex());
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td class=\"mono\" title=\"{}\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"mono\" title=\"{}\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num{}\">{}</td></tr>",
                esc(&k.code),
                esc(&k.key),
                esc(&short(&k.key, 16)),
                k.last_valid_seq
                    .map_or_else(|| "-".into(), |s| s.to_string()),
                k.records,
                k.head_seq,
                esc(head_id.as_deref().unwrap_or("")),
                esc(&head_id
                    .as_deref()
                    .map_or_else(|| "-".into(), |h| short(h, 12))),
                kind_count(&k.kinds, "amendment"),
                kind_count(&k.kinds, "retraction"),
                k.erased,
                if k.problems > 0 { " bad" } else { "" },
                k.problems,
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }
    out.push_str("</section>\n");

    let _ = writeln!(
        out,
        "<section class=\"break\">\n<h2>Governance timeline ({} decisions)</h2>",
        report.governance.len()
    );
    if report.governance.is_empty() {
        out.push_str("<p class=\"none\">None.</p>\n");
    } else {
        head(
            &mut out,
            &["Seq", "Time", "Id", "Description", "Signers", "Status"],
        );
        for d in &report.governance {
            let class = match d.status {
                DecisionStatus::Applied => "applied",
                DecisionStatus::Void(_) => "void",
                DecisionStatus::OffChain => "offchain",
            };
            let _ = writeln!(
                out,
                "<tr><td class=\"num\">{}</td><td>{}</td><td class=\"mono\" title=\"{}\">{}</td>\
                 <td class=\"wrap\">{}</td><td class=\"num\">{}</td><td class=\"{class}\">{}</td></tr>",
                d.seq,
                esc(&time(d.created_at)),
                esc(&d.id.to_hex()),
                esc(&short(&d.id.to_hex(), 12)),
                esc(&d.description),
                d.signers.len(),
                esc(&status(&d.status)),
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }
    let _ = writeln!(
        out,
        "<p>{} distinct valid checkpoints seen.</p>\n</section>",
        report.checkpoints
    );

    let groups = by_kind(&report.problems);
    let _ = writeln!(
        out,
        "<section class=\"break\">\n<h2>Problems ({})</h2>",
        report.problems.len()
    );
    if groups.is_empty() {
        out.push_str("<p class=\"none\">None.</p>\n");
    }
    for (kind, problems) in &groups {
        let _ = writeln!(
            out,
            "<h3>{} ({})</h3>",
            esc(&kind_name(*kind)),
            problems.len()
        );
        for p in problems {
            html_problem(&mut out, p);
        }
    }
    out.push_str("</section>\n");

    let _ = writeln!(
        out,
        "<p class=\"verdict {class}\">{}</p>\n</body>\n</html>",
        esc(&verdict(&groups, report.problems.len()))
    );
    out
}

/// The page's only style: screen and A4 print.
const STYLE: &str = "
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #111;
  max-width: 1100px; margin: 1.5rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin: .8rem 0 .4rem; }
h2 { font-size: 1.2rem; border-bottom: 1px solid #999; margin-top: 1.6rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
.banner { font-size: 1.4rem; font-weight: 700; padding: .6rem 1rem; border-radius: 4px;
  color: #fff; }
.banner.clean { background: #1b7f3b; }
.banner.failed { background: #b3261e; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0; }
th, td { border: 1px solid #bbb; padding: .2rem .4rem; text-align: left; vertical-align: top; }
th { background: #eee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.bad, .void, .offchain { color: #b3261e; font-weight: 600; }
.applied { color: #1b7f3b; }
.mono, pre { font-family: ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace; }
.wrap, .mono.wrap { overflow-wrap: anywhere; }
.none { color: #555; font-style: italic; }
.problem { border: 1px solid #ccc; border-left: 4px solid #b3261e; padding: .3rem .7rem;
  margin: .6rem 0; }
.problem .message { font-weight: 600; margin: .2rem 0; overflow-wrap: anywhere; }
.problem dl { display: grid; grid-template-columns: max-content 1fr; gap: 0 .8rem; margin: .2rem 0; }
.problem dt { color: #555; }
.problem dd { margin: 0; overflow-wrap: anywhere; }
.evidence { border-top: 1px dashed #ccc; padding: .2rem 0; }
.evidence .label { font-style: italic; }
pre.hex { font-size: 10px; line-height: 1.25; white-space: pre-wrap; word-break: break-all;
  overflow-wrap: anywhere; background: #f6f6f6; padding: .3rem; margin: .2rem 0; }
.verdict { font-weight: 700; margin-top: 1.5rem; }
.verdict.clean { color: #1b7f3b; }
.verdict.failed { color: #b3261e; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { font-size: 9pt; max-width: none; margin: 0; padding: 0; }
  .banner, th, pre.hex { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  section.break { break-before: page; page-break-before: always; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  thead { display: table-header-group; }
  tr, .evidence, .problem dl, .problem .message { break-inside: avoid; page-break-inside: avoid; }
  pre.hex { font-size: 6.5pt; }
  details > summary { list-style: none; }
}
";

/// One problem as an HTML block, with its evidence's signed bytes.
fn html_problem(out: &mut String, p: &Problem) {
    out.push_str("<div class=\"problem\">\n");
    let _ = writeln!(out, "<p class=\"message\">{}</p>", esc(&p.message));
    let about = about(p);
    if !about.is_empty() {
        out.push_str("<dl>");
        for (k, v) in &about {
            let open = if matches!(*k, "author" | "record") {
                "<dd class=\"mono\">"
            } else {
                "<dd>"
            };
            let _ = write!(out, "<dt>{}</dt>{open}{}</dd>", esc(k), esc(v));
        }
        out.push_str("</dl>\n");
    }
    for e in &p.evidence {
        html_evidence(out, e);
    }
    out.push_str("</div>\n");
}

/// One piece of evidence: its label, id and hex, open so that it prints.
fn html_evidence(out: &mut String, e: &Evidence) {
    out.push_str("<div class=\"evidence\">\n");
    let _ = writeln!(
        out,
        "<p><span class=\"label\">{}</span>: <span class=\"mono wrap\">{}</span></p>",
        esc(&e.label),
        esc(&e.id.map_or_else(|| "-".into(), |id| id.to_hex()))
    );
    let hex: Vec<(&str, &str)> = [
        ("header", e.header.as_deref()),
        ("signature", e.signature.as_deref()),
        ("signed", e.signed.as_deref()),
    ]
    .into_iter()
    .filter_map(|(name, v)| v.map(|v| (name, v)))
    .collect();
    if !hex.is_empty() {
        out.push_str("<details open>\n<summary>Signed bytes (hex)</summary>\n");
        for (name, v) in hex {
            let _ = writeln!(
                out,
                "<div>{}:</div><pre class=\"hex\">{}</pre>",
                esc(name),
                esc(v)
            );
        }
        out.push_str("</details>\n");
    }
    out.push_str("</div>\n");
}

/// The thead (and opening tbody) of a table with these columns.
fn head(out: &mut String, columns: &[&str]) {
    out.push_str("<table>\n<thead><tr>");
    for c in columns {
        let _ = write!(out, "<th>{}</th>", esc(c));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
}

/// A text table in the CLI's style; not wrapped, so the output does not depend on a terminal.
fn table<const N: usize>(header: [&str; N]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_HORIZONTAL_ONLY)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header);
    t
}

/// What a problem concerns, as (name, value) pairs: node, member, author, seq, record.
fn about(p: &Problem) -> Vec<(&'static str, String)> {
    let mut v = Vec::new();
    if let Some(n) = &p.node {
        v.push(("node", n.clone()));
    }
    if let Some(m) = &p.member {
        v.push(("member", m.clone()));
    }
    if let Some(a) = &p.author {
        v.push(("author", a.to_hex()));
    }
    if let Some(s) = p.seq {
        v.push(("seq", s.to_string()));
    }
    if let Some(r) = &p.record {
        v.push(("record", r.to_hex()));
    }
    v
}

/// Problems by kind, in the kinds' order.
fn by_kind(problems: &[Problem]) -> BTreeMap<ProblemKind, Vec<&Problem>> {
    let mut groups: BTreeMap<ProblemKind, Vec<&Problem>> = BTreeMap::new();
    for p in problems {
        groups.entry(p.kind).or_default().push(p);
    }
    groups
}

/// The last line: `CLEAN: no problems` or `FAILED: N problems (kinds: fork 2, gap 1)`.
fn verdict(groups: &BTreeMap<ProblemKind, Vec<&Problem>>, total: usize) -> String {
    if total == 0 {
        return "CLEAN: no problems".into();
    }
    let kinds: Vec<String> = groups
        .iter()
        .map(|(k, ps)| format!("{} {}", kind_name(*k), ps.len()))
        .collect();
    format!(
        "FAILED: {} (kinds: {})",
        problems_count(total),
        kinds.join(", ")
    )
}

/// `1 problem`, `2 problems`.
fn problems_count(n: usize) -> String {
    if n == 1 {
        "1 problem".into()
    } else {
        format!("{n} problems")
    }
}

/// A kind's name as the JSON report spells it (`split_view`).
fn kind_name(kind: ProblemKind) -> String {
    match serde_json::to_value(kind) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{kind:?}"),
    }
}

/// A decision's status for people: `applied`, `void: reason`, `off chain`.
fn status(s: &DecisionStatus) -> String {
    match s {
        DecisionStatus::Applied => "applied".into(),
        DecisionStatus::Void(reason) => format!("void: {reason}"),
        DecisionStatus::OffChain => "off chain".into(),
    }
}

/// How many valid records of this kind.
fn kind_count(kinds: &BTreeMap<&'static str, u64>, kind: &str) -> u64 {
    kinds.get(kind).copied().unwrap_or(0)
}

/// Milliseconds since the epoch as RFC 3339 UTC.
fn time(ms: i64) -> String {
    crate::view::rfc3339_ms(ms)
}

/// The first `n` characters and `…`, or the whole if no longer; control characters dropped.
fn short(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        let mut head: String = s.chars().take(n).collect();
        head.push('…');
        clean(&head)
    } else {
        clean(s)
    }
}

/// An optional string, `-` when absent.
fn opt(s: Option<&str>) -> String {
    s.map_or_else(|| "-".into(), clean)
}

/// Text safe for a terminal and one line: line breaks and tabs become spaces, other control
/// characters (escape sequences) become U+FFFD.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() => '\u{fffd}',
            c => c,
        })
        .collect()
}

/// Appends `s` and a line break.
fn line(out: &mut String, s: impl AsRef<str>) {
    out.push_str(s.as_ref());
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use hubnet_protocol::audit::{AuditReport, DecisionSummary, SourceSummary};
    use hubnet_protocol::bundle::{Evidence, MemberSummary, Problem, ProblemKind};
    use hubnet_protocol::governance::DecisionStatus;
    use hubnet_protocol::id::RecordId;
    use hubnet_protocol::keys::SecretKey;

    use super::*;

    const SCRIPT: &str = "<script>alert(1)</script>";
    const NODE: &str = "http://node-a.example:8080/?x=1&y=\"2\"";
    const HEADER_HEX: &str = "0a0b0c0d0e0f";

    fn id(byte: u8) -> RecordId {
        RecordId([byte; 32])
    }

    /// A report with two sources, one key, two decisions and `problems`.
    fn report(problems: Vec<Problem>) -> AuditReport {
        let key = SecretKey::from_seed([7; 32]).public_key();
        let mut kinds = BTreeMap::new();
        kinds.insert("practice", 3);
        kinds.insert("amendment", 2);
        kinds.insert("retraction", 1);
        AuditReport {
            network_id: "ab".repeat(32),
            generated_at: 1_764_000_000_000,
            sources: vec![
                SourceSummary {
                    name: NODE.into(),
                    peer_id: Some("12D3KooWPeerA".into()),
                    member: Some("KZ".into()),
                    records: 6,
                    decisions: 2,
                    checkpoints: 1,
                },
                SourceSummary {
                    name: "bundle.hub".into(),
                    peer_id: None,
                    member: None,
                    records: 5,
                    decisions: 0,
                    checkpoints: 0,
                },
            ],
            keys: vec![MemberSummary {
                code: "KZ".into(),
                key: key.to_hex(),
                last_valid_seq: None,
                records: 6,
                head_seq: 6,
                head_id: Some(id(0x11)),
                kinds,
                erased: 0,
                problems: problems.len() as u64,
            }],
            governance: vec![
                DecisionSummary {
                    seq: 1,
                    id: id(0x21),
                    created_at: 1_763_000_000_000,
                    description: "admit UZ".into(),
                    signers: vec![key, key],
                    status: DecisionStatus::Applied,
                },
                DecisionSummary {
                    seq: 2,
                    id: id(0x22),
                    created_at: 1_763_500_000_000,
                    description: "rotate KZ's key".into(),
                    signers: vec![key],
                    status: DecisionStatus::Void("KZ has no such key".into()),
                },
            ],
            checkpoints: 4,
            problems,
        }
    }

    /// A fork at seq 5 on `NODE` whose message carries a script.
    fn fork() -> Problem {
        Problem {
            kind: ProblemKind::Fork,
            member: Some("KZ".into()),
            author: Some(SecretKey::from_seed([7; 32]).public_key()),
            seq: Some(5),
            record: Some(id(0x33)),
            node: Some(NODE.into()),
            message: format!("fork at seq 5 {SCRIPT}"),
            evidence: vec![Evidence {
                label: "a record at seq 5".into(),
                id: Some(id(0x44)),
                header: Some(HEADER_HEX.into()),
                signature: Some("deadbeef".into()),
                signed: None,
            }],
        }
    }

    fn gap() -> Problem {
        Problem {
            kind: ProblemKind::Gap,
            member: Some("KZ".into()),
            author: None,
            seq: Some(3),
            record: None,
            node: None,
            message: "gap: seq 2 missing".into(),
            evidence: Vec::new(),
        }
    }

    #[test]
    fn text_shows_every_section() {
        let text = render_text(&report(vec![fork()]));
        for expected in [
            "network:     abab",
            "generated:   2025-11-24T16:00:00.000Z",
            NODE,
            "12D3KooWPeerA",
            "bundle.hub",
            &short(&SecretKey::from_seed([7; 32]).public_key().to_hex(), 16),
            "111111111111…",
            "admit UZ",
            "applied",
            "void: KZ has no such key",
            "checkpoints: 4",
            "fork (1)",
            SCRIPT,
            &format!("    node {NODE}, member KZ, author "),
            "seq 5, record 3333",
            "evidence: a record at seq 5 4444",
        ] {
            assert!(text.contains(expected), "{expected:?} missing from\n{text}");
        }
        assert!(!text.contains(HEADER_HEX), "text shows no hex:\n{text}");
    }

    #[test]
    fn text_ends_with_the_verdict() {
        let text = render_text(&report(Vec::new()));
        assert_eq!(text.lines().last(), Some("CLEAN: no problems"));
        let text = render_text(&report(vec![fork(), gap(), fork()]));
        assert_eq!(
            text.lines().last(),
            Some("FAILED: 3 problems (kinds: fork 2, gap 1)")
        );
    }

    #[test]
    fn text_drops_control_characters() {
        let mut p = gap();
        p.message = "bad\u{1b}[31mred\nsecond line".into();
        let text = render_text(&report(vec![p]));
        assert!(!text.contains('\u{1b}'));
        assert!(text.contains("bad\u{fffd}[31mred second line"));
    }

    #[test]
    fn html_escapes_report_strings() {
        let html = render_html(&report(vec![fork()]));
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("fork at seq 5 &lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("http://node-a.example:8080/?x=1&amp;y=&quot;2&quot;"));
        assert!(!html.contains(NODE));
        assert!(html.contains("rotate KZ&#39;s key"));
    }

    #[test]
    fn html_shows_problem_node_and_evidence() {
        let html = render_html(&report(vec![fork()]));
        assert!(
            html.contains(
                "<dt>node</dt><dd>http://node-a.example:8080/?x=1&amp;y=&quot;2&quot;</dd>"
            )
        );
        assert!(html.contains(&id(0x44).to_hex()));
        assert!(html.contains(&format!("<pre class=\"hex\">{HEADER_HEX}</pre>")));
        assert!(html.contains("<pre class=\"hex\">deadbeef</pre>"));
        assert!(html.contains("<details open>"));
        assert!(html.contains("void: KZ has no such key"));
    }

    #[test]
    fn html_banner_is_clean_or_counts_problems() {
        let html = render_html(&report(Vec::new()));
        assert!(html.contains("<div class=\"banner clean\" role=\"status\">Clean</div>"));
        assert!(html.contains("CLEAN: no problems"));
        let html = render_html(&report(vec![fork()]));
        assert!(html.contains("<div class=\"banner failed\" role=\"status\">1 problem</div>"));
        let html = render_html(&report(vec![fork(), gap()]));
        assert!(html.contains("<div class=\"banner failed\" role=\"status\">2 problems</div>"));
        assert!(html.contains("FAILED: 2 problems (kinds: fork 1, gap 1)"));
    }

    #[test]
    fn html_is_self_contained_and_printable() {
        let html = render_html(&report(vec![fork()]));
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.trim_end().ends_with("</html>"));
        for absent in ["<script", "<link", " src=", "href=", "url(", "@import"] {
            assert!(!html.contains(absent), "{absent:?} in the page");
        }
        assert!(html.contains("@media print"));
        assert!(html.contains("size: A4"));
        assert!(html.contains("break-inside: avoid"));
    }

    #[test]
    fn escape_covers_the_five_characters() {
        assert_eq!(esc("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&#39;f");
    }
}
