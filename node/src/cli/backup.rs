//! `hubnet backup`, `hubnet restore`, and `hubnet verify` of a backup file (the archive and its
//! guarantees are in `crate::backup`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use hubnet_protocol::bundle::{BundleCheck, BundleReport, Problem, ProblemKind};
use tracing::info;

use super::records::{Held, print_report, report_json};
use crate::backup::{self, BackupError, FileProblem, Manifest, Sources};
use crate::now_ms;
use crate::store::Store;

/// `hubnet backup`.
#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// The node's config file: its data dir, node key, config and admin token file are backed
    /// up (the node may be running).
    #[arg(
        long,
        required_unless_present = "data_dir",
        conflicts_with = "data_dir"
    )]
    pub config: Option<PathBuf>,
    /// A data dir alone, without a config (and the node key at DATA_DIR/node.key).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// The backup file to create: never overwritten, never inside the data dir.
    #[arg(long)]
    pub out: PathBuf,
    /// Also back up the member's publishing key (then keep the backup as safe as the key).
    #[arg(long, requires = "config")]
    pub with_publishing_key: bool,
}

/// `hubnet restore`.
#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The backup file.
    #[arg(long)]
    pub from: PathBuf,
    /// The data dir to create: it must not exist, or be empty; never a running node's.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// Also write the backup's config here, pointing at the restored data dir, with the
    /// publishing key and admin token the backup holds beside it (mode 0600).
    #[arg(long)]
    pub config_out: Option<PathBuf>,
}

pub(super) fn backup(args: &BackupArgs) -> anyhow::Result<ExitCode> {
    let sources = match (&args.config, &args.data_dir) {
        (Some(config), _) => Sources::from_config(config, args.with_publishing_key)?,
        (None, Some(dir)) => Sources::data_dir(dir),
        (None, None) => anyhow::bail!("give --config CONFIG or --data-dir DIR"),
    };
    info!(data_dir = %sources.data_dir.display(), out = %args.out.display(), "backup started");
    let created = backup::create(&sources, &args.out, now_ms())?;
    let m = &created.manifest;
    let member = m
        .member
        .as_deref()
        .map_or_else(String::new, |c| format!(" (member {c})"));
    say!(
        "backed up {} records and {} governance decisions of network {}{member} to {}: {} bytes, {} files",
        m.records,
        m.decisions,
        m.network_id,
        args.out.display(),
        created.bytes,
        m.files.len()
    );
    say!(
        "it holds everything the node acknowledged before {}; check it with `hubnet verify {}`",
        m.created_at,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) fn restore(args: &RestoreArgs) -> anyhow::Result<ExitCode> {
    let restored = backup::restore(&args.from, &args.data_dir, args.config_out.as_deref())?;
    let m = &restored.manifest;
    let member = m
        .member
        .as_deref()
        .map_or_else(String::new, |c| format!(", member {c}"));
    say!(
        "restored {} records and {} governance decisions of network {} (backup of {}{member}) into {}",
        m.records,
        m.decisions,
        m.network_id,
        m.created_at,
        restored.data_dir.display()
    );
    if let Some(key) = &restored.node_key {
        say!("node key     {} (mode 0600)", key.display());
    }
    for f in &restored.config_files {
        say!("written      {}", f.display());
    }
    if let Some(config) = &args.config_out {
        say!(
            "config       {}: data_dir and key paths point at the restored files; check listen, http and bootstrap before `hubnet run --config {}`",
            config.display(),
            config.display()
        );
    }
    if !restored.not_written.is_empty() {
        say!(
            "not written  {} (in the backup; pass --config-out PATH to write them)",
            restored.not_written.join(", ")
        );
    }
    say!(
        "The index and the search index are not in a backup: the node rebuilds them from the journal when it next starts."
    );
    Ok(ExitCode::SUCCESS)
}

/// `hubnet verify FILE` for a backup: every file against the manifest, then the store it makes
/// opened in a scratch dir and every record checked as a bundle's are.
pub(super) fn verify(
    path: &Path,
    network_id: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let scratch = tempfile::Builder::new()
        .prefix("hubnet-verify-")
        .tempdir()
        .context("creating a scratch dir (TMPDIR)")?;
    let unpacked = match backup::unpack(path, scratch.path()) {
        Ok(u) => u,
        Err(e @ (BackupError::NotABackup { .. } | BackupError::Damaged { .. })) => {
            return failed(path, json, None, &[], &e.to_string());
        }
        Err(e) => return Err(e.into()),
    };
    let manifest = &unpacked.manifest;
    if let Some(expected) = network_id
        && !expected.eq_ignore_ascii_case(&manifest.network_id)
    {
        let why = format!(
            "the backup is for network {}, expected {expected}",
            manifest.network_id
        );
        return failed(path, json, Some(manifest), &unpacked.problems, &why);
    }
    if !unpacked.problems.is_empty() {
        let why = format!(
            "{} files do not match the manifest",
            unpacked.problems.len()
        );
        return failed(path, json, Some(manifest), &unpacked.problems, &why);
    }
    let data = scratch.path().join("data");
    let store = match Store::open(&data) {
        Ok(s) => s,
        Err(e) => {
            let why = format!("the data does not open as a store: {e}");
            return failed(path, json, Some(manifest), &[], &why);
        }
    };
    let mut check = BundleCheck::new(store.governance().charter(), now_ms());
    store.for_each_signed(|bytes| {
        check.add(bytes);
        Ok(())
    })?;
    let mut report = check.finish();
    let held_records = store.record_count()?;
    if held_records != manifest.records {
        report.problems.push(Problem::new(
            ProblemKind::Damaged,
            format!(
                "the store holds {held_records} records, the manifest says {}",
                manifest.records
            ),
        ));
    }
    let evidence = Evidence {
        forks: store.forks().values().map(Vec::len).sum(),
        checkpoint_pairs: store.checkpoint_conflicts().len(),
    };
    let held = Held {
        governance: store.governance(),
        checkpoints: evidence.checkpoint_pairs * 2,
    };
    if json {
        let mut out = summary_json(path, Some(manifest), &[], report.is_clean(), None);
        out["store"] = report_json(&held, &report);
        out["fork_records"] = evidence.forks.into();
        out["checkpoint_conflicts"] = evidence.checkpoint_pairs.into();
        say!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_files(path, manifest, &[])?;
        say!(
            "evidence   {} fork records, {} contradicting checkpoint pairs",
            evidence.forks,
            evidence.checkpoint_pairs
        );
        print_report(&held, &report)?;
    }
    Ok(exit(&report))
}

struct Evidence {
    forks: usize,
    checkpoint_pairs: usize,
}

fn exit(report: &BundleReport) -> ExitCode {
    if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Reports a backup that fails before its records are checked.
fn failed(
    path: &Path,
    json: bool,
    manifest: Option<&Manifest>,
    problems: &[FileProblem],
    why: &str,
) -> anyhow::Result<ExitCode> {
    if json {
        let out = summary_json(path, manifest, problems, false, Some(why));
        say!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        if let Some(m) = manifest {
            print_files(path, m, problems)?;
        }
        say!("\nFAILED: {why}");
    }
    Ok(ExitCode::FAILURE)
}

fn print_files(path: &Path, m: &Manifest, problems: &[FileProblem]) -> anyhow::Result<()> {
    say!("backup     {}", path.display());
    say!(
        "format     {} {}, written by hubnet {}, taken {}",
        m.format,
        m.version,
        m.hubnet_version,
        m.created_at
    );
    if let Some(member) = &m.member {
        say!("member     {member}");
    }
    for (i, f) in m.files.iter().enumerate() {
        let label = if i == 0 { "files" } else { "" };
        let entries = f
            .entries
            .map_or_else(String::new, |n| format!(" {n:>8} entries"));
        let verdict = match problems.iter().find(|p| p.path == f.path) {
            Some(p) => format!("DAMAGED: {}", p.problem),
            None if problems.is_empty() => "ok".to_owned(),
            None => "matches".to_owned(),
        };
        say!(
            "{label:<10} {:<26} {:>12} bytes{entries:<17}  {verdict}",
            f.path,
            f.len
        );
    }
    for p in problems
        .iter()
        .filter(|p| !m.files.iter().any(|f| f.path == p.path))
    {
        say!("{:<10} {:<26} DAMAGED: {}", "", p.path, p.problem);
    }
    Ok(())
}

fn summary_json(
    path: &Path,
    manifest: Option<&Manifest>,
    problems: &[FileProblem],
    ok: bool,
    error: Option<&str>,
) -> serde_json::Value {
    let files: Vec<serde_json::Value> = manifest
        .map(|m| {
            m.files
                .iter()
                .map(|f| {
                    let problem = problems.iter().find(|p| p.path == f.path);
                    serde_json::json!({
                        "path": f.path, "role": f.role, "len": f.len, "sha256": f.sha256,
                        "entries": f.entries, "ok": problem.is_none(),
                        "problem": problem.map(|p| &p.problem),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    serde_json::json!({
        "kind": "backup",
        "file": path.display().to_string(),
        "ok": ok,
        "error": error,
        "manifest": manifest,
        "files": files,
        "problems": problems,
    })
}
