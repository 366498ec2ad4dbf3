//! Auditing several nodes' data against each other, trusting none of them.
//!
//! Each source (a node's answers, or a bundle) is first checked on its own with
//! [`BundleCheck`](crate::bundle::BundleCheck) under the governance state of *every* decision any
//! source served (decisions are self-authenticating). [`Auditor::finish`] then compares the
//! sources: split views and omissions between them, and every signed checkpoint against the
//! other checkpoints of its signer and against what its signer's node serves now.
//!
//! The result is an [`AuditReport`]: per key, log length and head, gaps, forks, amendments and
//! retractions, key validity; the governance timeline; and every problem with its evidence.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::bundle::{BundleReport, Entry, Evidence, MemberSummary, Problem, ProblemKind};
use crate::checkpoint::{self, Checkpoint, Conflict};
use crate::governance::{DecisionId, DecisionStatus, Governance};
use crate::id::RecordId;
use crate::keys::PublicKey;

/// One source of an audit, checked on its own.
#[derive(Debug)]
pub struct SourceInput {
    /// How the report names it: the node's URL or the bundle's path.
    pub name: String,
    /// The node's libp2p peer id, as it says (to match its checkpoints).
    pub peer_id: Option<String>,
    /// The member the node publishes for, as it says.
    pub member: Option<String>,
    /// Its records, checked.
    pub report: BundleReport,
    /// The ids of the decisions it served.
    pub decisions: BTreeSet<DecisionId>,
    /// The encoded `SignedCheckpoint`s it served.
    pub checkpoints: Vec<Vec<u8>>,
}

/// A source in the report.
#[derive(Debug, Clone, Serialize)]
pub struct SourceSummary {
    /// Name (URL or path).
    pub name: String,
    /// Peer id, if a node.
    pub peer_id: Option<String>,
    /// Member, if a member's node.
    pub member: Option<String>,
    /// Records read.
    pub records: u64,
    /// Decisions served.
    pub decisions: usize,
    /// Checkpoints served.
    pub checkpoints: usize,
}

/// One decision in the report's governance timeline.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionSummary {
    /// Seq in the governance log.
    pub seq: u64,
    /// Id.
    pub id: DecisionId,
    /// Proposal time (ms).
    pub created_at: i64,
    /// What it does.
    pub description: String,
    /// The committee keys that signed it.
    pub signers: Vec<PublicKey>,
    /// Applied, void or off the chain.
    pub status: DecisionStatus,
}

/// The whole audit.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    /// Network id (hex).
    pub network_id: String,
    /// When the audit ran (ms).
    pub generated_at: i64,
    /// What was audited.
    pub sources: Vec<SourceSummary>,
    /// Per key (a member has one per key it held), over all sources: the longest contiguous log.
    pub keys: Vec<MemberSummary>,
    /// The governance log, canonical chain first.
    pub governance: Vec<DecisionSummary>,
    /// Distinct valid checkpoints seen.
    pub checkpoints: usize,
    /// Everything wrong, each with its evidence.
    pub problems: Vec<Problem>,
}

impl AuditReport {
    /// Whether nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Compares checked sources. Build the governance from every source's decisions first, check each
/// source's records with its charter, add the sources, then [`Auditor::finish`].
#[derive(Debug)]
pub struct Auditor {
    governance: Governance,
    now_ms: i64,
    grace_ms: i64,
    sources: Vec<SourceInput>,
    problems: Vec<Problem>,
}

impl Auditor {
    /// An audit under `governance` (every decision from every source) at `now_ms`. Records younger
    /// than `grace_ms` may still be travelling, so their absence from a node is not an omission.
    pub fn new(governance: Governance, now_ms: i64, grace_ms: i64) -> Self {
        Self {
            governance,
            now_ms,
            grace_ms,
            sources: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// Reports a problem found while reading (a decision that does not verify, a truncated
    /// answer).
    pub fn problem(&mut self, p: Problem) {
        self.problems.push(p);
    }

    /// Adds a checked source.
    pub fn add(&mut self, source: SourceInput) {
        self.sources.push(source);
    }

    /// Compares everything and returns the report.
    pub fn finish(mut self) -> AuditReport {
        let charter = self.governance.charter().clone();
        let mut problems = std::mem::take(&mut self.problems);
        for s in &self.sources {
            for p in &s.report.problems {
                let mut p = p.clone();
                p.node = Some(s.name.clone());
                problems.push(p);
            }
        }
        // Union of every source's logs: (author, seq) -> id -> (entry, sources serving it).
        type Union<'a> = BTreeMap<(PublicKey, u64), BTreeMap<RecordId, (&'a Entry, Vec<usize>)>>;
        let mut union: Union<'_> = BTreeMap::new();
        for (i, s) in self.sources.iter().enumerate() {
            for (author, log) in &s.report.logs {
                for (seq, entries) in log {
                    for e in entries {
                        union
                            .entry((*author, *seq))
                            .or_default()
                            .entry(e.id)
                            .or_insert((e, Vec::new()))
                            .1
                            .push(i);
                    }
                }
            }
        }
        let member_of = |k: &PublicKey| charter.member_by_key(k).map(|m| m.code.clone());
        // Split views: sources serving different records at one (author, seq).
        for ((author, seq), ids) in &union {
            if ids.len() < 2 {
                continue;
            }
            let served: Vec<String> = ids
                .iter()
                .map(|(id, (_, srcs))| {
                    let names: Vec<&str> = srcs
                        .iter()
                        .map(|&i| self.sources[i].name.as_str())
                        .collect();
                    format!("{} serve {id}", names.join(", "))
                })
                .collect();
            let mut p = Problem::new(
                ProblemKind::SplitView,
                format!(
                    "split view at seq {seq}: {} (the author signed both: a fork)",
                    served.join("; ")
                ),
            );
            p.member = member_of(author);
            p.author = Some(*author);
            p.seq = Some(*seq);
            // The author signed both; its own node, if audited, is the one to answer for it.
            p.node = self
                .sources
                .iter()
                .find(|s| s.member.is_some() && s.member == p.member)
                .map(|s| s.name.clone());
            p.evidence = ids
                .values()
                .map(|(e, _)| e.evidence(format!("a record at seq {seq}")))
                .collect();
            if self.sources.len() > 1 {
                problems.push(p);
            }
        }
        // Omissions: valid, settled records one source serves and another lacks.
        let settled = self.now_ms.saturating_sub(self.grace_ms);
        for (i, s) in self.sources.iter().enumerate() {
            let mut missing: BTreeMap<PublicKey, Vec<(u64, &Entry, usize)>> = BTreeMap::new();
            for ((author, seq), ids) in &union {
                let holds = s
                    .report
                    .logs
                    .get(author)
                    .is_some_and(|l| l.contains_key(seq));
                if holds || !charter.key_allows(author, *seq) {
                    continue;
                }
                if let Some((e, srcs)) = ids.values().find(|(e, _)| e.created_at <= settled) {
                    missing.entry(*author).or_default().push((
                        *seq,
                        e,
                        srcs.first().copied().unwrap_or(i),
                    ));
                }
            }
            for (author, seqs) in missing {
                let (first, e, by) = seqs[0];
                let last = seqs[seqs.len() - 1].0;
                let mut p = Problem::new(
                    ProblemKind::Omission,
                    format!(
                        "{} does not serve {} record(s) of {} (seq {first}{}) that {} serves",
                        s.name,
                        seqs.len(),
                        member_of(&author).unwrap_or_else(|| author.to_hex()),
                        if last == first {
                            String::new()
                        } else {
                            format!(" to {last}")
                        },
                        self.sources[by].name
                    ),
                );
                p.node = Some(s.name.clone());
                p.member = member_of(&author);
                p.author = Some(author);
                p.seq = Some(first);
                p.record = Some(e.id);
                p.evidence
                    .push(e.evidence(format!("the first record it lacks (seq {first})")));
                problems.push(p);
            }
        }
        // Decisions one source holds and another lacks.
        let all_decisions: BTreeSet<DecisionId> =
            self.governance.decisions().keys().copied().collect();
        for s in &self.sources {
            let lacks: Vec<&DecisionId> = all_decisions.difference(&s.decisions).collect();
            if let Some(first) = lacks.first() {
                let mut p = Problem::new(
                    ProblemKind::Omission,
                    format!(
                        "{} does not serve {} governance decision(s) other nodes serve (first: {first})",
                        s.name,
                        lacks.len()
                    ),
                );
                p.node = Some(s.name.clone());
                p.record = Some(**first);
                problems.push(p);
            }
        }
        for (seq, ids) in &self.governance.state().forks {
            let mut p = Problem::new(
                ProblemKind::GovernanceFork,
                format!(
                    "governance log: {} decisions at seq {seq}; the one with the smallest id counts",
                    ids.len()
                ),
            );
            p.seq = Some(*seq);
            p.evidence = ids
                .iter()
                .filter_map(|id| self.governance.decisions().get(id))
                .map(|d| Evidence {
                    label: format!("decision {} at seq {seq}", d.id),
                    id: Some(d.id),
                    header: None,
                    signature: None,
                    signed: Some(hex::encode(prost::Message::encode_to_vec(&d.signed))),
                })
                .collect();
            problems.push(p);
        }
        // Checkpoints: verify, then compare per signer and against the signer's own answers.
        let mut by_signer: BTreeMap<PublicKey, BTreeMap<RecordId, Checkpoint>> = BTreeMap::new();
        let mut seen: BTreeSet<RecordId> = BTreeSet::new();
        for s in &self.sources {
            for bytes in &s.checkpoints {
                match checkpoint::verify_bytes(bytes, &charter) {
                    Ok(c) => {
                        seen.insert(c.id);
                        by_signer.entry(c.signer).or_default().insert(c.id, c);
                    }
                    // Signed by a key revoked since: no evidence either way, and no fault of
                    // the node that kept it from before the revocation. Of a newer version: this
                    // build cannot judge it (docs/PROTOCOL.md §6.5); a newer auditor can.
                    Err(
                        checkpoint::CheckpointError::RevokedSigner(_)
                        | checkpoint::CheckpointError::NewerVersion { .. },
                    ) => {}
                    Err(e) => {
                        let mut p = Problem::new(
                            ProblemKind::Forgery,
                            format!("{} serves a checkpoint that does not verify: {e}", s.name),
                        );
                        p.node = Some(s.name.clone());
                        problems.push(p);
                    }
                }
            }
        }
        let node_name = |c: &Checkpoint| -> String {
            match self
                .sources
                .iter()
                .find(|s| s.peer_id.as_deref() == Some(c.peer_id.as_str()))
            {
                Some(s) => format!("{} (node of {}, peer {})", s.name, c.member, c.peer_id),
                None => format!("node of {} (peer {})", c.member, c.peer_id),
            }
        };
        let checkpoint_evidence = |c: &Checkpoint, label: &str| Evidence {
            label: format!("{label}, signed by {} at {} ms", c.member, c.time),
            id: Some(c.id),
            header: None,
            signature: None,
            signed: Some(hex::encode(prost::Message::encode_to_vec(&c.signed))),
        };
        for checkpoints in by_signer.values() {
            let mut list: Vec<&Checkpoint> = checkpoints.values().collect();
            list.sort_by_key(|c| (c.time, c.id));
            for (i, a) in list.iter().enumerate() {
                for b in &list[i + 1..] {
                    for conflict in checkpoint::conflicts(a, b) {
                        let (kind, message) = describe(&conflict, &member_of);
                        let mut p = Problem::new(
                            kind,
                            format!(
                                "{} signed two checkpoints that contradict each other: {message}",
                                node_name(a)
                            ),
                        );
                        p.node = Some(node_name(a));
                        p.member = Some(a.member.clone());
                        set_author(&mut p, &conflict, &member_of);
                        p.evidence = vec![
                            checkpoint_evidence(a, "the earlier checkpoint"),
                            checkpoint_evidence(b, "the later checkpoint"),
                        ];
                        problems.push(p);
                    }
                }
            }
            // Against its node's current answers: the newest checkpoint it signed.
            let Some(newest) = list.last() else { continue };
            for s in self
                .sources
                .iter()
                .filter(|s| s.peer_id.as_deref() == Some(newest.peer_id.as_str()))
            {
                let head = |a: &PublicKey| served_head(&s.report, a);
                let at = |a: &PublicKey, seq: u64| {
                    s.report
                        .logs
                        .get(a)
                        .and_then(|l| l.get(&seq))
                        .and_then(|v| v.first())
                        .map(|e| e.id)
                };
                for conflict in checkpoint::served_conflicts(newest, head, at) {
                    let (kind, message) = describe(&conflict, &member_of);
                    let mut p = Problem::new(
                        kind,
                        format!(
                            "{} now serves less or other than it signed: {message}",
                            node_name(newest)
                        ),
                    );
                    p.node = Some(node_name(newest));
                    p.member = Some(newest.member.clone());
                    set_author(&mut p, &conflict, &member_of);
                    p.evidence = vec![checkpoint_evidence(newest, "the checkpoint it signed")];
                    problems.push(p);
                }
            }
            // What it signed for that no source serves.
            for (author, h) in &newest.heads {
                let served = union
                    .get(&(*author, h.seq))
                    .is_some_and(|ids| ids.contains_key(&h.id));
                if !served && newest.time <= settled && !self.sources.is_empty() {
                    let mut p = Problem::new(
                        ProblemKind::Omission,
                        format!(
                            "{} signed that it held {} seq {} (record {}), which no audited node serves",
                            node_name(newest),
                            member_of(author).unwrap_or_else(|| author.to_hex()),
                            h.seq,
                            h.id
                        ),
                    );
                    p.node = Some(node_name(newest));
                    p.member = member_of(author);
                    p.author = Some(*author);
                    p.seq = Some(h.seq);
                    p.record = Some(h.id);
                    p.evidence = vec![checkpoint_evidence(newest, "the checkpoint")];
                    problems.push(p);
                }
            }
        }
        problems.sort_by(|a, b| {
            (a.kind, &a.member, a.seq, &a.node).cmp(&(b.kind, &b.member, b.seq, &b.node))
        });
        problems.dedup();
        AuditReport {
            network_id: charter.network_id().to_hex(),
            generated_at: self.now_ms,
            keys: merge_keys(&self.sources),
            sources: self
                .sources
                .iter()
                .map(|s| SourceSummary {
                    name: s.name.clone(),
                    peer_id: s.peer_id.clone(),
                    member: s.member.clone(),
                    records: s.report.records_read,
                    decisions: s.decisions.len(),
                    checkpoints: s.checkpoints.len(),
                })
                .collect(),
            governance: timeline(&self.governance),
            checkpoints: seen.len(),
            problems,
        }
    }
}

/// The highest contiguous seq a source serves for `author`.
fn served_head(report: &BundleReport, author: &PublicKey) -> u64 {
    let Some(log) = report.logs.get(author) else {
        return 0;
    };
    let mut head = 0;
    for seq in log.keys() {
        if *seq != head + 1 {
            break;
        }
        head = *seq;
    }
    head
}

fn describe(
    c: &Conflict,
    member_of: &impl Fn(&PublicKey) -> Option<String>,
) -> (ProblemKind, String) {
    let who = |a: &PublicKey| member_of(a).unwrap_or_else(|| a.to_hex());
    match c {
        Conflict::Equivocation {
            author,
            seq,
            first,
            second,
        } => (
            ProblemKind::Equivocation,
            format!(
                "{} seq {seq} is record {first} in one statement and {second} in the other",
                who(author)
            ),
        ),
        Conflict::Rollback {
            author,
            from_seq,
            to_seq,
        } => (
            ProblemKind::Rollback,
            format!(
                "{} log went back from seq {from_seq} to {to_seq}",
                who(author)
            ),
        ),
        Conflict::GovernanceRollback {
            from_count,
            to_count,
        } => (
            ProblemKind::Rollback,
            if from_count == to_count {
                format!("held {from_count} governance decisions, then another {to_count}")
            } else {
                format!("held {from_count} governance decisions, then only {to_count}")
            },
        ),
    }
}

fn set_author(p: &mut Problem, c: &Conflict, member_of: &impl Fn(&PublicKey) -> Option<String>) {
    if let Conflict::Equivocation { author, seq, .. }
    | Conflict::Rollback {
        author,
        from_seq: seq,
        ..
    } = c
    {
        p.author = Some(*author);
        p.seq = Some(*seq);
        if let Some(m) = member_of(author) {
            p.member = Some(m);
        }
    }
}

/// Per key, the summary of the source holding the longest log (problems summed over sources).
fn merge_keys(sources: &[SourceInput]) -> Vec<MemberSummary> {
    let mut out: Vec<MemberSummary> = Vec::new();
    for s in sources {
        for m in &s.report.members {
            match out.iter_mut().find(|o| o.key == m.key) {
                Some(o) => {
                    let problems = o.problems + m.problems;
                    if m.head_seq > o.head_seq {
                        *o = m.clone();
                    }
                    o.problems = problems;
                }
                None => out.push(m.clone()),
            }
        }
    }
    out
}

fn timeline(g: &Governance) -> Vec<DecisionSummary> {
    let mut out: Vec<DecisionSummary> = g
        .decisions()
        .values()
        .map(|d| DecisionSummary {
            seq: d.seq,
            id: d.id,
            created_at: d.created_at,
            description: d.action.describe(),
            signers: d.signers.clone(),
            status: g
                .state()
                .status
                .get(&d.id)
                .cloned()
                .unwrap_or(DecisionStatus::OffChain),
        })
        .collect();
    out.sort_by_key(|d| (d.seq, d.id));
    out
}
