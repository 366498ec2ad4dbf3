//! `hubnet query`: the query API from the command line, against any node. The filters are the
//! API's own (`GET /api/v1/records`); the answer prints as a table, JSON or NDJSON.

use std::process::ExitCode;

use anyhow::Context;
use comfy_table::{ContentArrangement, Table, presets};
use serde_json::Value;

/// How to print the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for people.
    Table,
    /// The API's JSON answer (with `--all`: every page's records in one array).
    Json,
    /// One record per line.
    Ndjson,
}

/// The filters and options of `hubnet query`.
#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    /// Full text, in any language (`"a phrase"`, `-excluded`, `a OR b`).
    pub text: Option<String>,
    /// The node to ask.
    #[arg(long, env = "HUBNET_NODE", default_value = "http://127.0.0.1:8080")]
    pub node: String,
    /// `practice`, `event`, `reform_profile`, `institution`, `expert` or `programme`
    /// (repeatable).
    #[arg(long)]
    pub kind: Vec<String>,
    /// Country code (repeatable).
    #[arg(long)]
    pub country: Vec<String>,
    /// Topic slug (repeatable).
    #[arg(long)]
    pub topic: Vec<String>,
    /// Reform area slug of reform profiles (repeatable).
    #[arg(long)]
    pub area: Vec<String>,
    /// Member code or publishing key (repeatable).
    #[arg(long)]
    pub author: Vec<String>,
    /// Content language (repeatable); the full text then searches that language only.
    #[arg(long)]
    pub lang: Vec<String>,
    /// Programme status: pipeline, implementation, completion, post_completion, cancelled,
    /// suspended (repeatable).
    #[arg(long)]
    pub status: Vec<String>,
    /// Programme participant role: lead, funding, implementing, beneficiary, accountable
    /// (repeatable).
    #[arg(long)]
    pub role: Vec<String>,
    /// Member taking part in a programme (repeatable).
    #[arg(long)]
    pub participant: Vec<String>,
    /// Programme confirmation state: proposed, confirmed, retracted (repeatable).
    #[arg(long)]
    pub state: Vec<String>,
    /// Published at or after (RFC 3339 or YYYY-MM-DD).
    #[arg(long)]
    pub created_from: Option<String>,
    /// Published at or before.
    #[arg(long)]
    pub created_to: Option<String>,
    /// Events starting at or after.
    #[arg(long)]
    pub start_from: Option<String>,
    /// Events starting at or before.
    #[arg(long)]
    pub start_to: Option<String>,
    /// relevance, newest, oldest or start.
    #[arg(long)]
    pub sort: Option<String>,
    /// Page size (1-100).
    #[arg(long)]
    pub limit: Option<u32>,
    /// Continue from a previous answer's `next_cursor`.
    #[arg(long)]
    pub cursor: Option<String>,
    /// Include retracted records.
    #[arg(long)]
    pub include_retracted: bool,
    /// Follow the cursors and print every match, not one page.
    #[arg(long)]
    pub all: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// The language to show titles in (falls back to en, then ru, then any).
    #[arg(long)]
    pub display_lang: Option<String>,
}

impl QueryArgs {
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut p: Vec<(&'static str, String)> = Vec::new();
        if let Some(t) = &self.text {
            p.push(("q", t.clone()));
        }
        for (name, values) in [
            ("kind", &self.kind),
            ("country", &self.country),
            ("topic", &self.topic),
            ("area", &self.area),
            ("author", &self.author),
            ("lang", &self.lang),
            ("status", &self.status),
            ("role", &self.role),
            ("participant", &self.participant),
            ("state", &self.state),
        ] {
            p.extend(values.iter().map(|v| (name, v.clone())));
        }
        for (name, value) in [
            ("created_from", &self.created_from),
            ("created_to", &self.created_to),
            ("start_from", &self.start_from),
            ("start_to", &self.start_to),
            ("sort", &self.sort),
            ("cursor", &self.cursor),
        ] {
            if let Some(v) = value {
                p.push((name, v.clone()));
            }
        }
        if let Some(l) = self.limit {
            p.push(("limit", l.to_string()));
        }
        if self.include_retracted {
            p.push(("include_retracted", "true".into()));
        }
        p
    }
}

/// Runs the query; exit 0 with results or none, 2 when the node refuses the query.
pub fn run(args: &QueryArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(query(args))
}

async fn query(args: &QueryArgs) -> anyhow::Result<ExitCode> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()?;
    let base = args.node.trim_end_matches('/');
    let mut pairs = args.pairs();
    let mut records: Vec<Value> = Vec::new();
    let mut last: Value;
    loop {
        let url = format!("{base}/api/v1/records");
        let response = client
            .get(&url)
            .query(&pairs)
            .send()
            .await
            .with_context(|| format!("asking {url}"))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .with_context(|| format!("reading the answer of {url}"))?;
        if !status.is_success() {
            let detail = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|b| b["detail"].as_str().map(str::to_owned))
                .unwrap_or(text);
            eprintln!("hubnet query: the node refused the query ({status}): {detail}");
            return Ok(ExitCode::from(2));
        }
        let body: Value = serde_json::from_str(&text)
            .with_context(|| format!("{url}: the answer is not JSON"))?;
        records.extend(body["records"].as_array().cloned().unwrap_or_default());
        last = body;
        match (args.all, last["next_cursor"].as_str()) {
            (true, Some(c)) => {
                pairs.retain(|(k, _)| *k != "cursor");
                pairs.push(("cursor", c.to_owned()));
            }
            _ => break,
        }
    }
    match args.format {
        Format::Json if args.all => say!("{}", serde_json::to_string_pretty(&records)?),
        Format::Json => say!("{}", serde_json::to_string_pretty(&last)?),
        Format::Ndjson => {
            for r in &records {
                say!("{}", serde_json::to_string(r)?);
            }
        }
        Format::Table => {
            say!("{}", table(&records, args.display_lang.as_deref()));
            let total = last["total"].as_u64().unwrap_or_default();
            say!("{} of {total} shown", records.len());
            if let (false, Some(c)) = (args.all, last["next_cursor"].as_str()) {
                say!("more: --cursor {c}  (or --all)");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A localized text of the answer in `lang`, with the feeds' fallback (en, ru, any).
fn pick(text: &Value, lang: Option<&str>) -> String {
    let map: std::collections::BTreeMap<String, String> =
        serde_json::from_value(text.clone()).unwrap_or_default();
    crate::lang::pick_in(&map, lang).map_or_else(String::new, |(_, t)| t.to_owned())
}

fn table(records: &[Value], lang: Option<&str>) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_HORIZONTAL_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(["published", "kind", "country", "title", "id"]);
    for r in records {
        // The amended content if any, else the original's.
        let current = if r["current"].is_object() {
            &r["current"]
        } else {
            &r["body"]
        };
        let mut kind = r["kind"].as_str().unwrap_or_default().to_owned();
        if r["amendment"].is_object() {
            kind.push_str(" (amended)");
        }
        if r["retracted"] == true {
            kind.push_str(" (retracted)");
        }
        t.add_row([
            r["created_at"]
                .as_str()
                .and_then(|s| s.get(..10))
                .unwrap_or_default()
                .to_owned(),
            kind,
            current["country"].as_str().unwrap_or_default().to_owned(),
            pick(&current["title"], lang),
            r["id"]
                .as_str()
                .and_then(|s| s.get(..12))
                .unwrap_or_default()
                .to_owned(),
        ]);
    }
    t
}
