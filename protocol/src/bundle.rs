//! Checking a bundle with no node and no trust: every signature, id, chain link and author's
//! membership. Feed records with [`BundleCheck::add`], then [`BundleCheck::finish`] for the report.
//!
//! Records may come in any order; chains are checked once all are in.

use std::collections::{BTreeMap, HashMap};

use crate::charter::Charter;
use crate::id::RecordId;
use crate::keys::PublicKey;
use crate::record::{Kind, verify_record};

/// One problem found in a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Member code, if the author is known.
    pub member: Option<String>,
    /// Record id, if the header could be hashed.
    pub record: Option<RecordId>,
    /// What is wrong, one line.
    pub message: String,
}

/// Per-member summary.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MemberSummary {
    /// Member code.
    pub code: String,
    /// Publishing key.
    pub key: String,
    /// Valid records.
    pub records: u64,
    /// Highest contiguous seq from 1.
    pub head_seq: u64,
    /// Its id.
    pub head_id: Option<RecordId>,
    /// Valid records per kind name.
    pub kinds: BTreeMap<&'static str, u64>,
    /// Problems attributed to this member.
    pub problems: u64,
}

/// The result of a bundle check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleReport {
    /// One summary per charter member, in code order.
    pub members: Vec<MemberSummary>,
    /// Every problem found.
    pub problems: Vec<Problem>,
    /// Records read.
    pub records_read: u64,
}

impl BundleReport {
    /// Whether everything held.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

#[derive(Debug, Clone)]
struct Entry {
    id: RecordId,
    prev: Option<RecordId>,
    created_at: i64,
    kind: Kind,
    amended_kind: Option<Kind>,
    target: Option<RecordId>,
}

/// Accumulates a bundle's records and checks them.
#[derive(Debug)]
pub struct BundleCheck<'a> {
    charter: &'a Charter,
    now_ms: i64,
    logs: HashMap<PublicKey, BTreeMap<u64, Vec<Entry>>>,
    problems: Vec<Problem>,
    records_read: u64,
}

impl<'a> BundleCheck<'a> {
    /// A check against `charter` at time `now_ms`.
    pub fn new(charter: &'a Charter, now_ms: i64) -> Self {
        Self {
            charter,
            now_ms,
            logs: HashMap::new(),
            problems: Vec::new(),
            records_read: 0,
        }
    }

    /// Checks one encoded `SignedRecord` on its own and keeps it for the chain checks.
    pub fn add(&mut self, bytes: &[u8]) {
        self.records_read += 1;
        match verify_record(bytes, self.charter, self.now_ms) {
            Ok(r) => {
                let entry = Entry {
                    id: r.id,
                    prev: r.header.prev,
                    created_at: r.header.created_at,
                    kind: r.header.kind,
                    amended_kind: r.body.amended_kind(),
                    target: r.body.target(),
                };
                let log = self.logs.entry(r.header.author).or_default();
                let at = log.entry(r.header.seq).or_default();
                if !at.iter().any(|e| e.id == r.id) {
                    at.push(entry);
                }
            }
            Err(e) => {
                let signed = crate::record::SignedRecord::decode(bytes).ok();
                let member = signed
                    .as_ref()
                    .and_then(|s| crate::record::Header::decode(&s.header).ok())
                    .and_then(|h| {
                        self.charter
                            .member_by_key(&h.author)
                            .map(|m| m.code.clone())
                    });
                self.problems.push(Problem {
                    member,
                    record: signed.map(|s| s.id()),
                    message: e.to_string(),
                });
            }
        }
    }

    /// Records a problem with the bundle itself (truncated, say), not with one record.
    pub fn damaged(&mut self, message: String) {
        self.problems.push(Problem {
            member: None,
            record: None,
            message,
        });
    }

    /// Checks every chain and returns the report.
    pub fn finish(mut self) -> BundleReport {
        let mut members = Vec::new();
        for m in self.charter.members() {
            let mut summary = MemberSummary {
                code: m.code.clone(),
                key: m.key.to_hex(),
                ..MemberSummary::default()
            };
            let log = self.logs.remove(&m.key).unwrap_or_default();
            let mut problems = Vec::new();
            let mut ids: HashMap<RecordId, (Kind, u64)> = HashMap::new();
            let mut retracted: HashMap<RecordId, u64> = HashMap::new();
            let mut expected = 1u64;
            let mut prev: Option<&Entry> = None;
            let mut contiguous = true;
            for (&seq, entries) in &log {
                if entries.len() > 1 {
                    problems.push((
                        Some(entries[1].id),
                        format!(
                            "fork: seq {seq} has {} different records ({})",
                            entries.len(),
                            entries
                                .iter()
                                .map(|e| e.id.to_hex())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
                let e = &entries[0];
                if seq != expected {
                    let missing = if seq - 1 == expected {
                        format!("seq {expected}")
                    } else {
                        format!("seqs {expected} to {}", seq - 1)
                    };
                    problems.push((Some(e.id), format!("gap: {missing} missing")));
                    contiguous = false;
                }
                if contiguous {
                    if let Some(p) = prev {
                        if e.prev != Some(p.id) {
                            problems.push((
                                Some(e.id),
                                format!("seq {seq}: prev does not link to seq {}", seq - 1),
                            ));
                        }
                        if e.created_at < p.created_at {
                            problems.push((
                                Some(e.id),
                                format!("seq {seq}: created before seq {}", seq - 1),
                            ));
                        }
                    }
                    summary.head_seq = seq;
                    summary.head_id = Some(e.id);
                }
                if let Some(target) = e.target {
                    match ids.get(&target) {
                        Some((Kind::Practice | Kind::Event, _))
                            if retracted.contains_key(&target) =>
                        {
                            problems.push((
                                Some(e.id),
                                format!("seq {seq}: target {target} was already retracted"),
                            ))
                        }
                        Some((k @ (Kind::Practice | Kind::Event), _)) => {
                            if e.amended_kind.is_some_and(|a| a != *k) {
                                problems.push((
                                    Some(e.id),
                                    format!("seq {seq}: amendment changes the kind of {target}"),
                                ));
                            }
                            if e.kind == Kind::Retraction {
                                retracted.insert(target, seq);
                            }
                        }
                        Some((k, _)) => problems.push((
                            Some(e.id),
                            format!("seq {seq}: target {target} is a {}", k.name()),
                        )),
                        None => problems.push((
                            Some(e.id),
                            format!(
                                "seq {seq}: target {target} is not an earlier record of this author"
                            ),
                        )),
                    }
                }
                ids.insert(e.id, (e.kind, seq));
                *summary.kinds.entry(e.kind.name()).or_default() += 1;
                summary.records += 1;
                expected = seq.saturating_add(1);
                prev = Some(e);
            }
            summary.problems = problems.len() as u64
                + self
                    .problems
                    .iter()
                    .filter(|p| p.member.as_deref() == Some(&m.code))
                    .count() as u64;
            for (record, message) in problems {
                self.problems.push(Problem {
                    member: Some(m.code.clone()),
                    record,
                    message,
                });
            }
            members.push(summary);
        }
        BundleReport {
            members,
            problems: self.problems,
            records_read: self.records_read,
        }
    }
}
