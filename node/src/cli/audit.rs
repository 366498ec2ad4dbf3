//! `hubnet audit`: checks one or several nodes (and/or bundles) against each other, trusting none.
//!
//! Each node's whole corpus is fetched as a bundle (`GET /api/v1/bundle`) into a temporary file,
//! with its status (peer id, member). Pass 1 reads every source's decisions and checkpoints and
//! builds the governance state from all decisions; pass 2 checks each source's records under it;
//! then the pure [`Auditor`] compares the sources. Exit 0: clean; 1: problems; 2: could not audit.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use hubnet_protocol::Charter;
use hubnet_protocol::audit::{Auditor, SourceInput};
use hubnet_protocol::bundle::{BundleCheck, Problem, ProblemKind};
use hubnet_protocol::governance::{Governance, verify_decision_bytes};
use serde_json::Value;
use tracing::info;

use super::audit_report;
use crate::bundle::{BundleReader, Item};

/// Report formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// For a terminal.
    Text,
    /// The whole report as JSON.
    Json,
    /// A printable HTML page.
    Html,
}

/// `hubnet audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// A node's base URL (repeatable).
    #[arg(long)]
    node: Vec<String>,
    /// A bundle file (repeatable), e.g. from `hubnet export`.
    #[arg(long)]
    bundle: Vec<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Write the report here instead of to stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Seconds a record may take to reach every node before its absence is an omission.
    #[arg(long, default_value_t = 120)]
    grace: u64,
}

struct Source {
    name: String,
    peer_id: Option<String>,
    member: Option<String>,
    path: PathBuf,
    temporary: bool,
}

impl Drop for Source {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Runs the audit.
pub fn run(args: &AuditArgs) -> anyhow::Result<ExitCode> {
    if args.node.is_empty() && args.bundle.is_empty() {
        anyhow::bail!("give at least one --node URL or --bundle FILE");
    }
    let mut sources = Vec::new();
    for (i, url) in args.node.iter().enumerate() {
        sources.push(fetch(url, i)?);
    }
    for path in &args.bundle {
        sources.push(Source {
            name: path.display().to_string(),
            peer_id: None,
            member: None,
            path: path.clone(),
            temporary: false,
        });
    }
    let now = crate::now_ms();
    // Pass 1: charter, decisions and checkpoints of every source.
    let mut genesis: Option<Charter> = None;
    // Per source: its encoded decisions and checkpoints.
    type Heads = (Vec<Vec<u8>>, Vec<Vec<u8>>);
    let mut heads: Vec<Heads> = Vec::new();
    for s in &sources {
        let mut reader = open(&s.path)?;
        let charter = Charter::from_signed(reader.charter())
            .with_context(|| format!("{}: the charter", s.name))?;
        if let Some(g) = &genesis {
            anyhow::ensure!(
                g.network_id() == charter.network_id(),
                "{} is network {}, {} is network {}",
                s.name,
                charter.network_id(),
                sources[0].name,
                g.network_id()
            );
        } else {
            genesis = Some(charter);
        }
        let (mut decisions, mut checkpoints) = (Vec::new(), Vec::new());
        while let Some(item) = reader
            .next_item()
            .with_context(|| format!("reading {}", s.name))?
        {
            match item {
                Item::Decision(d) => decisions.push(d),
                Item::Checkpoint(c) => checkpoints.push(c),
                Item::Record(_) => {}
            }
        }
        heads.push((decisions, checkpoints));
    }
    let genesis = genesis.context("no source")?;
    let mut governance = Governance::new(genesis.clone());
    let mut problems = Vec::new();
    let mut held: Vec<BTreeSet<_>> = Vec::new();
    for (s, (decisions, _)) in sources.iter().zip(&heads) {
        let mut ids = BTreeSet::new();
        for d in decisions {
            match verify_decision_bytes(d, &genesis) {
                Ok(v) => {
                    ids.insert(v.id);
                    governance.insert(v);
                }
                Err(e) => {
                    let mut p = Problem::new(
                        ProblemKind::Forgery,
                        format!(
                            "{} serves a governance decision that does not verify: {e}",
                            s.name
                        ),
                    );
                    p.node = Some(s.name.clone());
                    problems.push(p);
                }
            }
        }
        held.push(ids);
    }
    let charter = governance.charter().clone();
    let mut auditor = Auditor::new(
        governance,
        now,
        i64::try_from(args.grace)?.saturating_mul(1000),
    );
    for p in problems {
        auditor.problem(p);
    }
    // Pass 2: every source's records, under the governance of all decisions.
    for ((s, (_, checkpoints)), decisions) in sources.iter().zip(heads).zip(held) {
        let mut check = BundleCheck::new(&charter, now);
        let mut reader = open(&s.path)?;
        let mut n = 0u64;
        loop {
            match reader.next_record() {
                Ok(Some(r)) => {
                    check.add(&r);
                    n += 1;
                    if n.is_multiple_of(100_000) {
                        info!(source = %s.name, records = n, "checking");
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    check.damaged(format!("{}: {e}", s.name));
                    break;
                }
            }
        }
        info!(source = %s.name, records = n, "checked");
        auditor.add(SourceInput {
            name: s.name.clone(),
            peer_id: s.peer_id.clone(),
            member: s.member.clone(),
            report: check.finish(),
            decisions,
            checkpoints,
        });
    }
    let report = auditor.finish();
    let text = match args.format {
        Format::Text => audit_report::render_text(&report),
        Format::Json => serde_json::to_string_pretty(&report)? + "\n",
        Format::Html => audit_report::render_html(&report),
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn open(path: &Path) -> anyhow::Result<BundleReader<File>> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    BundleReader::open(file).with_context(|| format!("reading {}", path.display()))
}

/// Fetches a node's status and bundle (into a temporary file).
fn fetch(url: &str, i: usize) -> anyhow::Result<Source> {
    let base = url.trim_end_matches('/').to_owned();
    let path = std::env::temp_dir().join(format!(
        "hubnet-audit-{}-{i}-{}.bundle",
        std::process::id(),
        crate::now_ms()
    ));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    let (status, bytes) = runtime.block_on(async {
        let client = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()?;
        let status: Value = client
            .get(format!("{base}/api/v1/status"))
            .timeout(std::time::Duration::from_secs(30))
            .send()
            .await
            .with_context(|| format!("asking {base}/api/v1/status"))?
            .error_for_status()?
            .json()
            .await
            .with_context(|| format!("{base}/api/v1/status: not JSON"))?;
        let mut response = client
            .get(format!("{base}/api/v1/bundle"))
            .send()
            .await
            .with_context(|| format!("asking {base}/api/v1/bundle"))?
            .error_for_status()?;
        let mut file =
            File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        let mut bytes = 0u64;
        while let Some(chunk) = response
            .chunk()
            .await
            .with_context(|| format!("reading {base}/api/v1/bundle"))?
        {
            file.write_all(&chunk)?;
            bytes += chunk.len() as u64;
        }
        file.sync_all()?;
        anyhow::Ok((status, bytes))
    })?;
    info!(node = %base, bytes, "fetched the bundle");
    Ok(Source {
        name: base,
        peer_id: status["peer_id"].as_str().map(str::to_owned),
        member: status["member"].as_str().map(str::to_owned),
        path,
        temporary: true,
    })
}
