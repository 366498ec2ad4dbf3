//! Record commands: keygen, init, publish, get, log, export, import and verify (of a bundle;
//! a backup's is in `backup.rs`, with whose report it shares the store's part).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use hubnet_protocol::bundle::{BundleCheck, BundleReport, Problem, ProblemKind};
use hubnet_protocol::checkpoint;
use hubnet_protocol::governance::{Governance, verify_decision_bytes};
use hubnet_protocol::{ChainError, Charter, Draft, DraftFormat, PublicKey, Record, RecordId};
use tracing::info;

use crate::bundle::{BundleReader, BundleWriter, Item};
use crate::ingest::{self, Ingested};
use crate::store::{CheckpointOutcome, Store};
use crate::view::{record_json, rfc3339_ms, title};
use crate::{keyfile, now_ms};

/// Records verified and stored per group commit during import.
const IMPORT_BATCH: usize = 512;

pub(super) fn keygen(out: &Path) -> anyhow::Result<ExitCode> {
    let key = keyfile::generate()?;
    keyfile::write_new(
        out,
        &key,
        "hubnet publishing key (Ed25519 seed). Keep it secret.",
    )?;
    say!("{}", key.public_key());
    Ok(ExitCode::SUCCESS)
}

pub(super) fn init(dir: &Path, charter: &Path) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(charter)
        .with_context(|| format!("reading {}", charter.display()))?;
    let store = Store::init(dir, &text).with_context(|| format!("{}", charter.display()))?;
    say!(
        "initialised {} for network {}",
        dir.display(),
        store.charter().network_id()
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) fn publish(dir: &Path, key: &Path, draft: &Path) -> anyhow::Result<ExitCode> {
    let mut store = Store::open(dir)?;
    let key = keyfile::read(key)?;
    let member = store
        .charter()
        .member_by_key(&key.public_key())
        .with_context(|| {
            format!(
                "key {} is not the publishing key of any member in this charter",
                key.public_key()
            )
        })?
        .code
        .clone();
    let text =
        std::fs::read_to_string(draft).with_context(|| format!("reading {}", draft.display()))?;
    let format = match draft.extension().and_then(|e| e.to_str()) {
        Some("json") => DraftFormat::Json,
        Some("toml") => DraftFormat::Toml,
        _ if text.trim_start().starts_with('{') => DraftFormat::Json,
        _ => DraftFormat::Toml,
    };
    let now = now_ms();
    let mut parsed = Draft::parse(&text, format).with_context(|| format!("{}", draft.display()))?;
    crate::programmes::fill_version(&mut parsed, &store)?;
    let body = parsed
        .to_body(&member, &store.charter().rules().at(now))
        .with_context(|| format!("{}", draft.display()))?;
    let record = store.publish(&key, &body, now)?;
    // Printed only now: the record is durable.
    say!("{}", record.id);
    Ok(ExitCode::SUCCESS)
}

pub(super) fn get(dir: &Path, id: &str, raw: bool) -> anyhow::Result<ExitCode> {
    let store = Store::open(dir)?;
    let id: RecordId = id
        .parse()
        .with_context(|| format!("{id:?} is not a record id"))?;
    let Some(record) = store.get(&id)? else {
        eprintln!("no record {id} in {}", dir.display());
        return Ok(ExitCode::FAILURE);
    };
    if raw {
        std::io::stdout().write_all(&record.signed.encode())?;
    } else {
        say!("{}", serde_json::to_string_pretty(&record_json(&record))?);
    }
    Ok(ExitCode::SUCCESS)
}

fn resolve_member(charter: &Charter, member: &str) -> anyhow::Result<PublicKey> {
    if let Some(m) = charter.member_by_code(member) {
        return Ok(m.key);
    }
    match member.parse::<PublicKey>() {
        Ok(k) => Ok(k),
        Err(_) => bail!("{member:?} is neither a member code of this charter nor a public key"),
    }
}

pub(super) fn log(dir: &Path, member: &str, json: bool) -> anyhow::Result<ExitCode> {
    let store = Store::open(dir)?;
    let author = resolve_member(store.charter(), member)?;
    let entries = store.log(&author, 1)?;
    if !json {
        let code = store
            .charter()
            .member_by_key(&author)
            .map_or("?", |m| m.code.as_str());
        say!("log of {code} ({author}): {} records", entries.len());
        say!(
            "{:>5}  {:<64}  {:<24}  {:<10}  title",
            "seq",
            "id",
            "created",
            "kind"
        );
    }
    for (seq, id) in entries {
        let Some(r) = store.get(&id)? else { continue };
        if json {
            say!("{}", serde_json::to_string(&record_json(&r))?);
        } else {
            say!(
                "{seq:>5}  {id}  {:<24}  {:<10}  {}",
                rfc3339_ms(r.header.created_at),
                r.header.kind.name(),
                title(&r.body)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn export(dir: &Path, out: &Path) -> anyhow::Result<ExitCode> {
    let store = Store::open(dir)?;
    let tmp = out.with_extension("partial");
    let file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let mut writer = BundleWriter::new(
        BufWriter::with_capacity(1 << 20, file),
        store.charter().signed(),
    )?;
    // Decisions and checkpoints before the records (docs/PROTOCOL.md §4), as the API's bundle
    // has them: records valid only under a decision (an admitted member's, a topic added) verify.
    for d in store.decisions_encoded() {
        writer.write_decision(&d)?;
    }
    for c in store.checkpoints() {
        writer.write_checkpoint(&prost::Message::encode_to_vec(&c.signed))?;
    }
    for k in store.checkpoint_conflicts() {
        writer.write_checkpoint(&prost::Message::encode_to_vec(&k.first.signed))?;
        writer.write_checkpoint(&prost::Message::encode_to_vec(&k.second.signed))?;
    }
    let total = store.record_count()?;
    store.for_each_signed(|bytes| {
        writer
            .write_record(bytes)
            .map_err(|source| crate::store::StoreError::Io {
                path: tmp.clone(),
                cause: source,
            })?;
        if writer.records().is_multiple_of(50_000) {
            info!(written = writer.records(), total, "exporting");
        }
        Ok(())
    })?;
    let written = writer.records();
    let file = writer.finish()?.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    crate::durable::rename_synced(&tmp, out)
        .with_context(|| format!("writing {}", out.display()))?;
    say!(
        "exported {written} records of network {} to {}",
        store.charter().network_id(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

struct Import<'a> {
    store: &'a mut Store,
    stored: u64,
    duplicates: u64,
    skipped: u64,
    /// Records ahead of a gap, retried once the rest is in, with their position in the bundle.
    deferred: Vec<(u64, Record)>,
}

impl Import<'_> {
    fn skip(&mut self, index: u64, id: Option<RecordId>, reason: &dyn std::fmt::Display) {
        self.skipped += 1;
        let id = id.map_or_else(|| "(undecodable)".to_owned(), |i| i.to_hex());
        eprintln!("skipped record #{index} {id}: {reason}");
    }

    fn tally(
        &mut self,
        indexes: impl IntoIterator<Item = u64>,
        outcomes: Vec<Ingested>,
        defer_gaps: bool,
    ) {
        for (index, outcome) in indexes.into_iter().zip(outcomes) {
            match outcome {
                Ingested::Stored(_) => self.stored += 1,
                Ingested::AlreadyStored(_) => self.duplicates += 1,
                Ingested::Invalid(id, e) => self.skip(index, id, &e),
                // Ahead of a gap, or naming an institution later in the bundle.
                Ingested::Refused(
                    r,
                    ChainError::SeqGap { .. } | ChainError::ReferenceNotFound { .. },
                ) if defer_gaps => self.deferred.push((index, *r)),
                Ingested::Refused(r, e) => self.skip(index, Some(r.id), &e),
            }
        }
    }

    fn batch(&mut self, first_index: u64, raw: &[Vec<u8>]) -> anyhow::Result<()> {
        let outcomes = ingest::ingest(self.store, raw, now_ms())?;
        self.tally(first_index.., outcomes, true);
        Ok(())
    }

    /// Retries records that arrived ahead of their predecessors until nothing more fits.
    fn drain_deferred(&mut self) -> anyhow::Result<()> {
        loop {
            let before = self.deferred.len();
            if before == 0 {
                return Ok(());
            }
            let mut pending = std::mem::take(&mut self.deferred);
            pending.sort_by_key(|(_, r)| (r.header.author, r.header.seq));
            let last_try = {
                let (indexes, records): (Vec<u64>, Vec<Record>) = pending.into_iter().unzip();
                let outcomes = ingest::append(self.store, records)?;
                self.tally(indexes.iter().copied(), outcomes, true);
                self.deferred.len() == before
            };
            if last_try {
                let (indexes, records): (Vec<u64>, Vec<Record>) =
                    std::mem::take(&mut self.deferred).into_iter().unzip();
                let outcomes = ingest::append(self.store, records)?;
                self.tally(indexes, outcomes, false);
                return Ok(());
            }
        }
    }
}

pub(super) fn import(dir: &Path, bundle: &Path) -> anyhow::Result<ExitCode> {
    let mut store = Store::open(dir)?;
    let file = File::open(bundle).with_context(|| format!("opening {}", bundle.display()))?;
    let mut reader = BundleReader::open(file).with_context(|| format!("{}", bundle.display()))?;
    let bundle_charter = Charter::from_signed(reader.charter()).context("the bundle's charter")?;
    if bundle_charter.network_id() != store.charter().network_id() {
        bail!(
            "{} belongs to network {}, this data dir to network {}",
            bundle.display(),
            bundle_charter.network_id(),
            store.charter().network_id()
        );
    }
    let mut import = Import {
        store: &mut store,
        stored: 0,
        duplicates: 0,
        skipped: 0,
        deferred: Vec::new(),
    };
    let mut index = 0u64;
    let mut chunk = Vec::with_capacity(IMPORT_BATCH);
    let (mut decisions, mut checkpoints, mut bad_decisions) = (0u64, 0u64, 0u64);
    // A damaged bundle still gives every record before the damage; the damage is reported last.
    let mut damage = None;
    loop {
        // Decisions and checkpoints come before the records, so records of members a decision
        // admitted are judged under it.
        let bytes = match reader.next_item() {
            Ok(Some(Item::Record(bytes))) => bytes,
            Ok(Some(Item::Decision(bytes))) => {
                match verify_decision_bytes(&bytes, import.store.governance().genesis()) {
                    Ok(d) => decisions += u64::from(import.store.add_decision(d)?.is_some()),
                    Err(e) => {
                        bad_decisions += 1;
                        eprintln!("skipped a governance decision: {e}");
                    }
                }
                continue;
            }
            Ok(Some(Item::Checkpoint(bytes))) => {
                // A checkpoint is evidence, not content: one that no longer verifies (its key
                // was revoked since) is left out quietly.
                if let Ok(c) = checkpoint::verify_bytes(&bytes, import.store.charter()) {
                    let outcome = import.store.add_checkpoint(c)?;
                    checkpoints += u64::from(outcome != CheckpointOutcome::Known);
                }
                continue;
            }
            Ok(None) => break,
            Err(e) => {
                damage = Some(e);
                break;
            }
        };
        index += 1;
        chunk.push(bytes);
        if chunk.len() == IMPORT_BATCH {
            import.batch(index + 1 - IMPORT_BATCH as u64, &chunk)?;
            chunk.clear();
        }
        if index.is_multiple_of(50_000) {
            info!(read = index, stored = import.stored, "importing");
        }
    }
    import.batch(index + 1 - chunk.len() as u64, &chunk)?;
    import.drain_deferred()?;
    if let Some(e) = damage {
        import.skipped += 1;
        eprintln!("skipped the rest of the bundle after record #{index}: {e}");
    }
    say!(
        "imported {} new records, {} already present, {} skipped; {decisions} new governance decisions ({bad_decisions} skipped), {checkpoints} new checkpoints",
        import.stored,
        import.duplicates,
        import.skipped
    );
    Ok(if import.skipped == 0 && bad_decisions == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub(super) fn verify(
    bundle: &Path,
    network_id: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    if crate::backup::is_backup(bundle)? {
        return super::backup::verify(bundle, network_id, json);
    }
    let file = File::open(bundle).with_context(|| format!("opening {}", bundle.display()))?;
    let mut reader = BundleReader::open(file).with_context(|| format!("{}", bundle.display()))?;
    let charter = match Charter::from_signed(reader.charter()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("FAILED: the bundle's charter is not valid: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    if let Some(expected) = network_id
        && !expected.eq_ignore_ascii_case(&charter.network_id().to_hex())
    {
        eprintln!(
            "FAILED: the bundle is for network {}, expected {expected}",
            charter.network_id()
        );
        return Ok(ExitCode::FAILURE);
    }
    // Decisions and checkpoints come first: records are judged under every valid decision the
    // bundle carries (who was a member, which keys were valid up to which seq).
    let mut governance = Governance::new(charter.clone());
    let mut problems = Vec::new();
    let mut checkpoints = Vec::new();
    let mut check: Option<BundleCheck> = None;
    let now = now_ms();
    let damage = loop {
        match reader.next_item() {
            Ok(Some(Item::Decision(bytes))) => match verify_decision_bytes(&bytes, &charter) {
                Ok(_) if check.is_some() => problems.push(Problem::new(
                    ProblemKind::Damaged,
                    "a governance decision after records: bundles carry decisions first".into(),
                )),
                Ok(d) => {
                    governance.insert(d);
                }
                Err(e) => problems.push(Problem::new(
                    ProblemKind::Forgery,
                    format!("a governance decision does not verify: {e}"),
                )),
            },
            Ok(Some(Item::Checkpoint(bytes))) => checkpoints.push(bytes),
            Ok(Some(Item::Record(bytes))) => check
                .get_or_insert_with(|| BundleCheck::new(governance.charter(), now))
                .add(&bytes),
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    let mut check = check.unwrap_or_else(|| BundleCheck::new(governance.charter(), now));
    if let Some(e) = damage {
        check.damaged(format!(
            "the bundle is damaged after the last item read: {e}"
        ));
    }
    for bytes in &checkpoints {
        match checkpoint::verify_bytes(bytes, governance.charter()) {
            // Signed with a key revoked since: set aside, no fault of the bundle (PROTOCOL §8).
            Ok(_) | Err(checkpoint::CheckpointError::RevokedSigner(_)) => {}
            Err(e) => problems.push(Problem::new(
                ProblemKind::Forgery,
                format!("a checkpoint does not verify: {e}"),
            )),
        }
    }
    let mut report = check.finish();
    report.problems.extend(problems);
    let held = Held {
        governance: &governance,
        checkpoints: checkpoints.len(),
    };
    if json {
        say!(
            "{}",
            serde_json::to_string_pretty(&report_json(&held, &report))?
        );
    } else {
        print_report(&held, &report)?;
    }
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// What a bundle (or a backup) carries besides records.
pub(super) struct Held<'a> {
    pub(super) governance: &'a Governance,
    pub(super) checkpoints: usize,
}

pub(super) fn print_report(held: &Held, report: &BundleReport) -> anyhow::Result<()> {
    let charter = held.governance.charter();
    let name = charter
        .name()
        .get("en")
        .or_else(|| charter.name().values().next())
        .cloned()
        .unwrap_or_default();
    say!("network    {} ({name})", charter.network_id());
    say!(
        "charter    valid: {} of {} committee signatures, quorum {}",
        charter.signers().len(),
        charter.committee().len(),
        charter.quorum()
    );
    say!(
        "governance {} decisions ({} on the chain), {} checkpoints",
        held.governance.decisions().len(),
        held.governance.state().chain.len(),
        held.checkpoints
    );
    say!(
        "\n{:<5} {:>8} {:>6}  {:<40} {:>8}  head id",
        "member",
        "records",
        "head",
        "kinds",
        "problems"
    );
    for m in &report.members {
        let mut kinds: Vec<String> = m.kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
        if m.erased > 0 {
            kinds.push(format!("{} erased", m.erased));
        }
        say!(
            "{:<5} {:>8} {:>6}  {:<40} {:>8}  {}",
            m.code,
            m.records,
            m.head_seq,
            kinds.join(", "),
            m.problems,
            m.head_id.map(|i| i.to_hex()).unwrap_or_else(|| "-".into())
        );
    }
    if !report.problems.is_empty() {
        say!("\nproblems:");
        for p in &report.problems {
            say!(
                "  {} {}: {}",
                p.member.as_deref().unwrap_or("?"),
                p.record
                    .map(|r| r.to_hex())
                    .unwrap_or_else(|| "(no id)".into()),
                p.message
            );
        }
    }
    let verified: u64 = report.members.iter().map(|m| m.records).sum();
    let erased: u64 = report.members.iter().map(|m| m.erased).sum();
    if report.is_clean() {
        let erased = if erased > 0 {
            format!(
                " ({erased} erased: header and signature verified, body deleted by its erasure)"
            )
        } else {
            String::new()
        };
        say!(
            "\nOK: {verified} records verified{erased}; every signature, id, chain link and author holds"
        );
    } else {
        say!(
            "\nFAILED: {} problems in {} records read",
            report.problems.len(),
            report.records_read
        );
    }
    Ok(())
}

pub(super) fn report_json(held: &Held, report: &BundleReport) -> serde_json::Value {
    serde_json::json!({
        "network_id": held.governance.charter().network_id().to_hex(),
        "ok": report.is_clean(),
        "records_read": report.records_read,
        "decisions": held.governance.decisions().len(),
        "chain_length": held.governance.state().chain.len(),
        "checkpoints": held.checkpoints,
        "members": report.members.iter().map(|m| serde_json::json!({
            "member": m.code, "author": m.key, "records": m.records, "head_seq": m.head_seq,
            "head_id": m.head_id.map(|i| i.to_hex()), "kinds": m.kinds, "erased": m.erased,
            "problems": m.problems,
        })).collect::<Vec<_>>(),
        "problems": report.problems.iter().map(|p| serde_json::json!({
            "member": p.member, "record": p.record.map(|r| r.to_hex()), "message": p.message,
        })).collect::<Vec<_>>(),
    })
}
