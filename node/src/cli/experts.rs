//! `hubnet experts due`: the expert profiles a member must re-confirm, read from the data dir
//! (the same list as `GET /api/v1/admin/reconfirm`, without a running node).

use std::path::Path;
use std::process::ExitCode;

use anyhow::bail;
use serde_json::json;

use crate::current::Current;
use crate::directory;
use crate::search::indexer::documents_of;
use crate::store::Store;

/// `hubnet experts …`.
#[derive(Debug, clap::Subcommand)]
pub enum ExpertsCommand {
    /// List expert profiles whose `reconfirm_by` is past or within DAYS days (UTC), soonest
    /// first; re-confirm one by publishing an amendment with a new `reconfirm_by`.
    Due {
        /// The data dir.
        #[command(flatten)]
        dir: super::DataDir,
        /// Only this member's profiles (a member code); default: every member's.
        #[arg(long)]
        member: Option<String>,
        /// How many days ahead to look.
        #[arg(long, default_value_t = 60)]
        within: u64,
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
}

pub(super) fn run(command: ExpertsCommand) -> anyhow::Result<ExitCode> {
    match command {
        ExpertsCommand::Due {
            dir,
            member,
            within,
            json,
        } => due(
            &dir.data_dir,
            member.as_deref(),
            within,
            json,
            crate::now_ms(),
        ),
    }
}

fn due(
    dir: &Path,
    member: Option<&str>,
    within: u64,
    json: bool,
    now_ms: i64,
) -> anyhow::Result<ExitCode> {
    let store = Store::open(dir)?;
    let charter = store.charter();
    if let Some(m) = member
        && charter.member_by_code(m).is_none()
    {
        bail!("{m:?} is not a member code of this network");
    }
    let mut items: Vec<Current> = Vec::new();
    for (key, m, _) in charter.known_keys() {
        if member.is_some_and(|want| want != m.code) {
            continue;
        }
        items.extend(documents_of(&store, &key)?.into_values().flatten());
    }
    let today = crate::api::query::today_utc(now_ms);
    let list = directory::due(&items, today, within, None);
    for d in &list {
        if json {
            say!(
                "{}",
                json!({"id": d.id.to_hex(), "member": d.member, "name": d.name,
                       "reconfirm_by": d.reconfirm_by, "lapsed": d.lapsed})
            );
        } else {
            let state = if d.lapsed { "lapsed" } else { "due" };
            say!(
                "{}  {}  {:<6} {:<4} {}",
                d.reconfirm_by,
                d.id,
                state,
                d.member,
                d.name
            );
        }
    }
    if !json {
        let horizon = today
            .checked_add_days(chrono::Days::new(within))
            .unwrap_or(chrono::NaiveDate::MAX);
        eprintln!(
            "{} profile(s) to re-confirm (reconfirm_by on or before {}, today {} UTC)",
            list.len(),
            horizon.format("%Y-%m-%d"),
            today.format("%Y-%m-%d")
        );
    }
    Ok(ExitCode::SUCCESS)
}
