//! Checking a bundle (one node's data) with no node and no trust: every signature, id, chain link,
//! author's membership and key validity under the governance state. Feed records with
//! [`BundleCheck::add`], then [`BundleCheck::finish`] for the report. [`crate::audit`] compares
//! several such reports.
//!
//! Records may come in any order; chains are checked once all are in.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::charter::Charter;
use crate::id::RecordId;
use crate::keys::PublicKey;
use crate::record::{Kind, Record, Unverified, precheck_any_seq, verify_batch};

/// What kind of problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// A record (or checkpoint) whose signature, id or body does not verify.
    Forgery,
    /// A record by a key no member ever held.
    UnknownAuthor,
    /// Two records of one author at one seq.
    Fork,
    /// Seqs missing from a log.
    Gap,
    /// A record that breaks a chain rule (prev, time, target, rate).
    Chain,
    /// A record signed by a key after its last valid seq (revoked, rotated or suspended).
    InvalidKey,
    /// A record one node serves and another does not.
    Omission,
    /// Nodes serve different records at one seq.
    SplitView,
    /// A node serves less than it once signed for.
    Rollback,
    /// A node signed two checkpoints that contradict each other.
    Equivocation,
    /// Two decisions at one seq of the governance log.
    GovernanceFork,
    /// A source that could not be read whole.
    Damaged,
    /// A record served without its body and without an erasure that explains it.
    Withheld,
}

/// A piece of evidence: signed bytes anyone can check with the network's keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// What it shows.
    pub label: String,
    /// Record, checkpoint or decision id.
    pub id: Option<RecordId>,
    /// For a record: the header bytes (id = SHA-256 of them), hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// For a record: the author's signature over the header, hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// For a checkpoint or decision: the whole signed protobuf, hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed: Option<String>,
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// What kind.
    pub kind: ProblemKind,
    /// Member code, if the author is known.
    pub member: Option<String>,
    /// The author key, if known.
    pub author: Option<PublicKey>,
    /// The seq concerned, if one.
    pub seq: Option<u64>,
    /// Record id, if the header could be hashed.
    pub record: Option<RecordId>,
    /// The node (or bundle) concerned, if one.
    pub node: Option<String>,
    /// What is wrong, one line.
    pub message: String,
    /// Signed statements that prove it.
    pub evidence: Vec<Evidence>,
}

impl Problem {
    /// A problem of `kind`, with nothing but its message filled in.
    pub fn new(kind: ProblemKind, message: String) -> Self {
        Self {
            kind,
            member: None,
            author: None,
            seq: None,
            record: None,
            node: None,
            message,
            evidence: Vec::new(),
        }
    }
}

/// Per-key summary (a member has one per key it held).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct MemberSummary {
    /// Member code.
    pub code: String,
    /// Publishing key.
    pub key: String,
    /// The last seq the key may sign, if limited by a decision.
    pub last_valid_seq: Option<u64>,
    /// Valid records.
    pub records: u64,
    /// Highest contiguous valid seq from 1 (at most `last_valid_seq`).
    pub head_seq: u64,
    /// Its id.
    pub head_id: Option<RecordId>,
    /// Valid records per kind name.
    pub kinds: BTreeMap<&'static str, u64>,
    /// Valid records held erased (header and signature, no body; docs/PROTOCOL.md §2.1).
    pub erased: u64,
    /// Problems attributed to this member.
    pub problems: u64,
}

/// The result of a bundle check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleReport {
    /// One summary per key, in member code order, keys oldest first.
    pub members: Vec<MemberSummary>,
    /// Every problem found.
    pub problems: Vec<Problem>,
    /// Records read.
    pub records_read: u64,
    /// Every verified record held, per author and seq (more than one at a fork).
    pub logs: HashMap<PublicKey, BTreeMap<u64, Vec<Entry>>>,
}

impl BundleReport {
    /// Whether everything held.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A verified record as the checks keep it: enough to compare and to prove, not the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Record id.
    pub id: RecordId,
    /// Previous record's id.
    pub prev: Option<RecordId>,
    /// Creation time (ms).
    pub created_at: i64,
    /// Kind.
    pub kind: Kind,
    amended_kind: Option<Kind>,
    target: Option<RecordId>,
    previous: Option<RecordId>,
    /// For an erasure, the records it erases (its target first).
    erases: Vec<RecordId>,
    /// Whether it is held erased: its header and signature without its body.
    pub erased: bool,
    /// The records its body names, with the field naming each and the kind it must be.
    references: Vec<(String, RecordId, Kind)>,
    /// For a programme or an amendment of one: the programme and its member participants.
    version: Option<(RecordId, Vec<String>)>,
    /// For a confirmation: the programme and the version it confirms.
    confirms: Option<(RecordId, RecordId)>,
    /// Header bytes as signed.
    pub header: Vec<u8>,
    /// The author's signature.
    pub signature: Vec<u8>,
}

impl Entry {
    /// This record as evidence.
    pub fn evidence(&self, label: String) -> Evidence {
        Evidence {
            label,
            id: Some(self.id),
            header: Some(hex::encode(&self.header)),
            signature: Some(hex::encode(&self.signature)),
            signed: None,
        }
    }
}

/// What is wrong with an erasure at `seq` erasing `erases` (its target first), if anything: every
/// amendment of the target held with its body must be listed, and every id listed after the
/// target must be an earlier amendment of this log. (A node checks the list exactly, `chain::
/// check_erasure`; a bundle may hold the amendments already erased, without the bodies that name
/// their target.)
fn erasure_problem(
    erases: &[RecordId],
    ids: &HashMap<RecordId, (Kind, u64)>,
    amendments: &HashMap<RecordId, Vec<RecordId>>,
    seq: u64,
) -> Option<String> {
    let (target, listed) = erases.split_first()?;
    if let Some(missing) = amendments
        .get(target)
        .into_iter()
        .flatten()
        .find(|a| !listed.contains(a))
    {
        return Some(format!(
            "seq {seq}: the erasure of {target} does not list its amendment {missing}"
        ));
    }
    listed
        .iter()
        .find(|a| !matches!(ids.get(a), Some((Kind::Amendment, _))))
        .map(|a| format!("seq {seq}: the erasure of {target} lists {a}, not an earlier amendment"))
}

/// Records verified together (batch verification: about twice the one-by-one rate).
const BATCH: usize = 64;

/// Accumulates a bundle's records and checks them.
#[derive(Debug)]
pub struct BundleCheck {
    charter: Charter,
    now_ms: i64,
    logs: HashMap<PublicKey, BTreeMap<u64, Vec<Entry>>>,
    problems: Vec<Problem>,
    records_read: u64,
    /// Prechecked records waiting for their batch's signature check, with their bytes (the
    /// evidence if a signature fails: a failed check gives back only its error). At most
    /// [`BATCH`] records, so the copy costs little.
    pending: Vec<(Vec<u8>, Unverified)>,
}

impl BundleCheck {
    /// A check against `charter` (with the governance state to judge by) at time `now_ms`.
    pub fn new(charter: &Charter, now_ms: i64) -> Self {
        Self {
            charter: charter.clone(),
            now_ms,
            logs: HashMap::new(),
            problems: Vec::new(),
            records_read: 0,
            pending: Vec::with_capacity(BATCH),
        }
    }

    /// Checks one encoded `SignedRecord` on its own and keeps it for the chain checks.
    /// Signatures are verified in batches; [`BundleCheck::finish`] verifies the last one.
    pub fn add(&mut self, bytes: &[u8]) {
        self.records_read += 1;
        match precheck_any_seq(bytes, &self.charter, self.now_ms) {
            Ok(u) => {
                self.pending.push((bytes.to_vec(), u));
                if self.pending.len() >= BATCH {
                    self.verify_pending();
                }
            }
            Err(e) => {
                // Problems keep the order of the records: the batch before this one first.
                self.verify_pending();
                self.refuse(bytes, e);
            }
        }
    }

    fn verify_pending(&mut self) {
        let (bytes, unverified): (Vec<Vec<u8>>, Vec<Unverified>) =
            std::mem::take(&mut self.pending).into_iter().unzip();
        for (bytes, result) in bytes.iter().zip(verify_batch(unverified)) {
            match result {
                Ok(r) => self.keep(r),
                Err(e) => self.refuse(bytes, e),
            }
        }
    }

    fn keep(&mut self, r: Record) {
        let entry = Entry {
            id: r.id,
            prev: r.header.prev,
            created_at: r.header.created_at,
            kind: r.header.kind,
            amended_kind: r.body.amended_kind(),
            target: r.body.target(),
            previous: r.body.previous(),
            erases: r.body.erases(),
            erased: r.body.is_erased(),
            references: r.body.record_refs(),
            version: r.body.programme_version(r.id),
            confirms: r.body.confirms(),
            header: r.signed.header,
            signature: r.signed.signature,
        };
        let log = self.logs.entry(r.header.author).or_default();
        // One record per seq unless forked: room for one (a first push would reserve four).
        let at = log
            .entry(r.header.seq)
            .or_insert_with(|| Vec::with_capacity(1));
        if !at.iter().any(|e| e.id == r.id) {
            at.push(entry);
        }
    }

    fn refuse(&mut self, bytes: &[u8], e: crate::RecordError) {
        let signed = crate::record::SignedRecord::decode(bytes).ok();
        let header = signed
            .as_ref()
            .and_then(|s| crate::record::Header::decode(&s.header).ok());
        let kind = match e {
            crate::RecordError::UnknownAuthor(_) => ProblemKind::UnknownAuthor,
            crate::RecordError::BodyWithheld(_) => ProblemKind::Withheld,
            _ => ProblemKind::Forgery,
        };
        let mut p = Problem::new(kind, e.to_string());
        p.member = header.as_ref().and_then(|h| {
            self.charter
                .member_by_key(&h.author)
                .map(|m| m.code.clone())
        });
        p.author = header.as_ref().map(|h| h.author);
        p.seq = header.as_ref().map(|h| h.seq);
        p.record = signed.as_ref().map(|s| s.id());
        if let Some(s) = &signed {
            p.evidence.push(Evidence {
                label: "the record as served".into(),
                id: Some(s.id()),
                header: Some(hex::encode(&s.header)),
                signature: Some(hex::encode(&s.signature)),
                signed: None,
            });
        }
        self.problems.push(p);
    }

    /// Records a problem with the bundle itself (truncated, say), not with one record.
    pub fn damaged(&mut self, message: String) {
        self.verify_pending();
        self.problems
            .push(Problem::new(ProblemKind::Damaged, message));
    }

    /// Checks every chain and returns the report.
    pub fn finish(mut self) -> BundleReport {
        self.verify_pending();
        let mut members = Vec::new();
        let mut logs = std::mem::take(&mut self.logs);
        // Every record held, for reform profiles' `previous` in other logs and the institutions
        // records name.
        let everywhere: HashMap<RecordId, (PublicKey, Kind)> = logs
            .iter()
            .flat_map(|(k, log)| log.values().flatten().map(move |e| (e.id, (*k, e.kind))))
            .collect();
        // Every programme version held with its body, for confirmations; and, for erased records,
        // the target of the erasure record that erased them (what erasure leaves to judge by).
        let versions: HashMap<RecordId, (RecordId, Vec<String>)> = logs
            .values()
            .flat_map(|log| log.values().flatten())
            .filter_map(|e| Some((e.id, e.version.clone()?)))
            .collect();
        let erasure_targets: HashMap<RecordId, RecordId> = logs
            .values()
            .flat_map(|log| log.values().flatten())
            .flat_map(|e| {
                let target = e.erases.first().copied();
                e.erases.iter().filter_map(move |id| Some((*id, target?)))
            })
            .collect();
        let erased_ids: std::collections::HashSet<RecordId> = logs
            .values()
            .flat_map(|log| log.values().flatten())
            .filter(|e| e.erased)
            .map(|e| e.id)
            .collect();
        let version_info = |programme: RecordId, version: RecordId| {
            if let Some((p, members)) = versions.get(&version) {
                return Some(crate::chain::VersionInfo::Version {
                    programme: *p,
                    members: members.clone(),
                });
            }
            let (author, kind) = everywhere.get(&version)?;
            if !erased_ids.contains(&version) {
                return Some(crate::chain::VersionInfo::Other);
            }
            Some(crate::chain::erased_version(
                programme,
                version,
                *kind,
                author,
                everywhere.get(&programme).map(|(a, _)| a),
                erasure_targets.get(&version).copied(),
            ))
        };
        for (key, m, last_valid_seq) in self.charter.known_keys() {
            let mut summary = MemberSummary {
                code: m.code.clone(),
                key: key.to_hex(),
                last_valid_seq,
                ..MemberSummary::default()
            };
            let empty = BTreeMap::new();
            let log = logs.get(&key).unwrap_or(&empty);
            let mut problems: Vec<Problem> = Vec::new();
            let mut forks: Vec<Problem> = Vec::new();
            let mut problem = |kind, seq: u64, e: &Entry, message: String| {
                let mut p = Problem::new(kind, message);
                p.seq = Some(seq);
                p.record = Some(e.id);
                p.evidence.push(e.evidence(format!("record at seq {seq}")));
                problems.push(p);
            };
            let mut ids: HashMap<RecordId, (Kind, u64)> = HashMap::new();
            let mut retracted: HashMap<RecordId, u64> = HashMap::new();
            let mut erased: HashMap<RecordId, u64> = HashMap::new();
            // Amendments held with their bodies, per target, in log order.
            let mut amendments: HashMap<RecordId, Vec<RecordId>> = HashMap::new();
            let mut expected = 1u64;
            let mut prev: Option<&Entry> = None;
            let mut contiguous = true;
            for (&seq, entries) in log {
                let e = &entries[0];
                if entries.len() > 1 {
                    let mut p = Problem::new(
                        ProblemKind::Fork,
                        format!(
                            "fork: seq {seq} has {} different records ({})",
                            entries.len(),
                            entries
                                .iter()
                                .map(|e| e.id.to_hex())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                    p.seq = Some(seq);
                    p.record = Some(entries[1].id);
                    p.evidence = entries
                        .iter()
                        .map(|x| x.evidence(format!("a record at seq {seq}")))
                        .collect();
                    forks.push(p);
                }
                let valid = last_valid_seq.is_none_or(|last| seq <= last);
                if !valid {
                    problem(
                        ProblemKind::InvalidKey,
                        seq,
                        e,
                        format!(
                            "seq {seq} is signed by key {key} after its last valid seq {} (a Steering Committee decision)",
                            last_valid_seq.unwrap_or_default()
                        ),
                    );
                }
                if seq != expected {
                    let missing = if seq - 1 == expected {
                        format!("seq {expected}")
                    } else {
                        format!("seqs {expected} to {}", seq - 1)
                    };
                    problem(ProblemKind::Gap, seq, e, format!("gap: {missing} missing"));
                    contiguous = false;
                }
                if contiguous {
                    if let Some(p) = prev {
                        if e.prev != Some(p.id) {
                            problem(
                                ProblemKind::Chain,
                                seq,
                                e,
                                format!("seq {seq}: prev does not link to seq {}", seq - 1),
                            );
                        }
                        if e.created_at < p.created_at {
                            problem(
                                ProblemKind::Chain,
                                seq,
                                e,
                                format!("seq {seq}: created before seq {}", seq - 1),
                            );
                        }
                    }
                    let place = crate::chain::RatePlace {
                        author: &key,
                        seq,
                        created_at: e.created_at,
                    };
                    let limit = self.charter.limits_at(e.created_at).records_per_hour();
                    if let Err(err) = crate::chain::check_rate(place, limit, |s| {
                        log.get(&s).map(|v| v[0].created_at)
                    }) {
                        problem(ProblemKind::Chain, seq, e, format!("seq {seq}: {err}"));
                    }
                    if valid {
                        summary.head_seq = seq;
                        summary.head_id = Some(e.id);
                    }
                }
                if let Some(target) = e.target {
                    // The store's rule (chain::check_target_of), then what a good target
                    // changes: a retraction (or withdrawal) marks it, an amendment joins its
                    // list, an erasure must name exactly that list.
                    let info = ids.get(&target).map(|(k, _)| crate::chain::TargetInfo {
                        same_author: true,
                        kind: *k,
                        retracted: retracted.contains_key(&target),
                        erased: erased.contains_key(&target),
                    });
                    let message =
                        match crate::chain::check_target_of(e.kind, e.amended_kind, target, info) {
                            Err(err) => Some(format!("seq {seq}: {err}")),
                            Ok(()) => match e.kind {
                                Kind::Retraction => {
                                    retracted.insert(target, seq);
                                    None
                                }
                                Kind::Amendment => {
                                    amendments.entry(target).or_default().push(e.id);
                                    None
                                }
                                Kind::Erasure => erasure_problem(&e.erases, &ids, &amendments, seq),
                                _ => None,
                            },
                        };
                    if let Some(message) = message {
                        problem(ProblemKind::Chain, seq, e, message);
                    }
                }
                if let Some(previous) = e.previous {
                    let info = match ids.get(&previous) {
                        Some((kind, _)) => Some(crate::chain::PreviousInfo {
                            same_author: true,
                            kind: *kind,
                            member: m.code.clone(),
                        }),
                        None => everywhere.get(&previous).map(|(author, kind)| {
                            crate::chain::PreviousInfo {
                                same_author: false,
                                kind: *kind,
                                member: self
                                    .charter
                                    .member_by_key(author)
                                    .map(|x| x.code.clone())
                                    .unwrap_or_default(),
                            }
                        }),
                    };
                    if let Err(err) = crate::chain::previous_rule(previous, &m.code, info) {
                        problem(ProblemKind::Chain, seq, e, format!("seq {seq}: {err}"));
                    }
                }
                for id in &e.erases {
                    erased.entry(*id).or_insert(seq);
                }
                // References may name any member's records: judged against every record the
                // source holds.
                for (field, reference, expected) in &e.references {
                    let kind = everywhere.get(reference).map(|(_, k)| *k);
                    if let Err(err) =
                        crate::chain::reference_rule(field, *reference, *expected, kind)
                    {
                        problem(ProblemKind::Chain, seq, e, format!("seq {seq}: {err}"));
                    }
                }
                if let Some((programme, version)) = e.confirms
                    && let Err(err) = crate::chain::confirmation_rule(
                        programme,
                        version,
                        &m.code,
                        version_info(programme, version),
                    )
                {
                    problem(ProblemKind::Chain, seq, e, format!("seq {seq}: {err}"));
                }
                ids.insert(e.id, (e.kind, seq));
                if valid {
                    *summary.kinds.entry(e.kind.name()).or_default() += 1;
                    summary.records += 1;
                    summary.erased += u64::from(e.erased);
                }
                expected = seq.saturating_add(1);
                prev = Some(e);
            }
            problems.append(&mut forks);
            summary.problems = problems.len() as u64
                + self
                    .problems
                    .iter()
                    .filter(|p| p.author == Some(key))
                    .count() as u64;
            for mut p in problems {
                p.member = Some(m.code.clone());
                p.author = Some(key);
                self.problems.push(p);
            }
            members.push(summary);
        }
        logs.retain(|k, _| self.charter.member_by_key(k).is_some());
        BundleReport {
            members,
            problems: self.problems,
            records_read: self.records_read,
            logs,
        }
    }
}
