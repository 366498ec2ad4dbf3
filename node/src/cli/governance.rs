//! `hubnet governance propose|sign|submit|show`: Steering Committee decisions gathered offline.
//!
//! A proposal file is JSON: the encoded `Decision` (base64) that every committee key signs, the
//! signatures so far, and a description for people (rewritten from the bytes on every save, never
//! trusted). `propose` writes it; each committee member runs `sign` with their key, on any
//! machine; `submit` checks the quorum locally and posts the decision to a node, which gossips it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use clap::{Args, Subcommand};
use hubnet_proto::v1 as pb;
use hubnet_protocol::governance::{
    self, Action, DecisionDraft, DecisionId, check_proposal, sign_decision, verify_decision,
};
use hubnet_protocol::kinds::erasure::Ground;
use hubnet_protocol::{Charter, Limits, PublicKey, RecordId, Vocabulary};
use prost::Message;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::keyfile;

/// The proposal file's format tag.
const FORMAT: &str = "hubnet-proposal-1";

/// The governance commands.
#[derive(Debug, Subcommand)]
pub enum GovernanceCommand {
    /// Write a proposal file for a decision (no signature yet).
    Propose(Box<ProposeArgs>),
    /// Add one committee signature to a proposal file (shows what is signed first).
    Sign {
        /// The network's signed charter (TOML).
        #[arg(long)]
        charter: PathBuf,
        /// The committee member's key file.
        #[arg(long)]
        key: PathBuf,
        /// The proposal file (rewritten with the signature added).
        proposal: PathBuf,
    },
    /// Publish a proposal through a node once it carries the quorum of signatures.
    Submit {
        /// The network's signed charter (TOML).
        #[arg(long)]
        charter: PathBuf,
        /// The node's base URL.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        node: String,
        /// The proposal file.
        proposal: PathBuf,
    },
    /// Show a proposal and check its signatures.
    Show {
        /// The network's signed charter (TOML).
        #[arg(long)]
        charter: PathBuf,
        /// The proposal file.
        proposal: PathBuf,
    },
}

/// `hubnet governance propose`.
#[derive(Debug, Args)]
pub struct ProposeArgs {
    /// The network's signed charter (TOML).
    #[arg(long)]
    charter: PathBuf,
    /// A node to read the governance log's position (and member heads) from.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    node: String,
    /// Why, as LANG=TEXT (repeatable), e.g. `--reason "en=Key lost"`.
    #[arg(long)]
    reason: Vec<String>,
    /// The proposal file to write (never overwritten).
    #[arg(long)]
    out: PathBuf,
    /// What the decision does.
    #[command(subcommand)]
    action: ActionArgs,
}

/// A decision's action.
#[derive(Debug, Subcommand)]
pub enum ActionArgs {
    /// Admit a new member with its publishing key.
    Admit {
        /// ISO 3166-1 alpha-2 code (or HUB).
        #[arg(long)]
        code: String,
        /// Names as LANG=TEXT (repeatable).
        #[arg(long, required = true)]
        name: Vec<String>,
        /// Its publishing key: 64 hex, or a key file.
        #[arg(long)]
        key: String,
    },
    /// Suspend a member: its current key may sign nothing after `--last-seq`.
    Suspend {
        /// Member code.
        #[arg(long)]
        code: String,
        /// Last valid seq (default: the member's head on the node).
        #[arg(long)]
        last_seq: Option<u64>,
    },
    /// Lift a member's suspension.
    Reinstate {
        /// Member code.
        #[arg(long)]
        code: String,
    },
    /// Give a member a new publishing key; the old one may sign up to `--old-key-last-seq`.
    RotateKey {
        /// Member code.
        #[arg(long)]
        code: String,
        /// The new publishing key: 64 hex, or a key file.
        #[arg(long)]
        new_key: String,
        /// Last seq the old key may sign (default: its head on the node).
        #[arg(long)]
        old_key_last_seq: Option<u64>,
    },
    /// Revoke a compromised key: its records after `--last-valid-seq` are invalid.
    RevokeKey {
        /// The key: 64 hex, or a key file.
        #[arg(long)]
        key: String,
        /// Last valid seq.
        #[arg(long)]
        last_valid_seq: u64,
    },
    /// New record limits for records created from `--effective-from` on; each may only be raised.
    AmendLimits {
        /// A TOML file with the limits (the charter's `[limits]` fields).
        #[arg(long)]
        limits: PathBuf,
        /// RFC 3339 time from which they apply (default: now).
        #[arg(long)]
        effective_from: Option<String>,
    },
    /// Add topics, reform areas or indicators: the file is the whole vocabulary wanted (lists
    /// `topics`, `reform_areas`, `indicators`, as in the charter's `[vocabulary]`); what it adds to
    /// the one in force on the node is proposed. Removing or redefining an entry is refused.
    AmendVocabulary {
        /// A TOML file with the vocabulary wanted.
        #[arg(long)]
        vocabulary: PathBuf,
    },
    /// Erase records of any member (docs/PROTOCOL.md §2.1), for when their author cannot: every
    /// node deletes their bodies and keeps headers and signatures. Each record's amendments, as
    /// the node knows them, are erased with it.
    EraseRecords {
        /// Record id (64 hex; repeatable).
        #[arg(long, required = true)]
        record: Vec<String>,
        /// Why: consent_withdrawn, erasure_request, unlawful or order.
        #[arg(long)]
        ground: String,
    },
}

/// The proposal file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProposalFile {
    format: String,
    network_id: String,
    /// For people; rewritten from `decision` on every save.
    description: String,
    seq: u64,
    /// The encoded `Decision`, base64.
    decision: String,
    signatures: Vec<SignatureEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureEntry {
    key: String,
    signature: String,
}

/// Runs a governance command.
pub fn run(command: GovernanceCommand) -> anyhow::Result<ExitCode> {
    match command {
        GovernanceCommand::Propose(args) => propose(&args),
        GovernanceCommand::Sign {
            charter,
            key,
            proposal,
        } => sign(&charter, &key, &proposal),
        GovernanceCommand::Submit {
            charter,
            node,
            proposal,
        } => submit(&charter, &node, &proposal),
        GovernanceCommand::Show { charter, proposal } => {
            let charter = load_charter(&charter)?;
            let signed = read_proposal(&proposal, &charter)?;
            let d = check_proposal(&signed, &charter)
                .with_context(|| format!("{}", proposal.display()))?;
            show(&d, &charter);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn load_charter(path: &Path) -> anyhow::Result<Charter> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the charter {}", path.display()))?;
    hubnet_protocol::charter::CharterDoc::from_toml(&text)
        .and_then(|d| d.verify())
        .with_context(|| format!("the charter {}", path.display()))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")
}

/// GETs a node's JSON.
fn get_json(node: &str, path: &str) -> anyhow::Result<Value> {
    let url = format!("{}{path}", node.trim_end_matches('/'));
    runtime()?.block_on(async {
        let response = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()?
            .get(&url)
            .send()
            .await
            .with_context(|| format!("asking {url}"))?;
        let status = response.status();
        let text = response.text().await?;
        anyhow::ensure!(status.is_success(), "{url}: {status}: {text}");
        serde_json::from_str(&text).with_context(|| format!("{url}: not JSON"))
    })
}

/// A key given as 64 hex or as a key file.
fn parse_key(text: &str) -> anyhow::Result<PublicKey> {
    if let Ok(k) = text.parse::<PublicKey>() {
        return Ok(k);
    }
    let path = Path::new(text);
    anyhow::ensure!(
        path.exists(),
        "{text:?} is neither a 64-hex public key nor a key file"
    );
    Ok(keyfile::read(path)?.public_key())
}

fn lang_map(items: &[String], what: &str) -> anyhow::Result<BTreeMap<String, String>> {
    items
        .iter()
        .map(|i| {
            i.split_once('=')
                .map(|(l, t)| (l.trim().to_owned(), t.trim().to_owned()))
                .with_context(|| format!("{what} {i:?}: write LANG=TEXT, e.g. en=..."))
        })
        .collect()
}

/// The head seq of `key`'s log on the node.
fn head_on_node(governance: &Value, key: &PublicKey) -> u64 {
    governance["members"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|m| m["keys"].as_array().cloned().unwrap_or_default())
        .find(|k| k["key"].as_str() == Some(key.to_hex().as_str()))
        .and_then(|k| k["head"]["seq"].as_u64())
        .unwrap_or(0)
}

fn current_key(governance: &Value, code: &str) -> anyhow::Result<PublicKey> {
    governance["members"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["code"].as_str() == Some(code))
        .and_then(|m| {
            m["keys"]
                .as_array()?
                .iter()
                .find(|k| k["current"] == true)
                .cloned()
        })
        .and_then(|k| k["key"].as_str()?.parse().ok())
        .with_context(|| format!("the node knows no member {code}"))
}

/// Refuses an amendment the network would hold void: one that starts before the limits in force
/// or lowers any of them (docs/PROTOCOL.md §7).
fn check_raises(g: &Value, limits: &Limits, effective_from: i64) -> anyhow::Result<()> {
    let Some(last) = g["limits"].as_array().and_then(|l| l.last()) else {
        anyhow::bail!("the node does not say which limits are in force");
    };
    let in_force: Limits = serde_json::from_value(last["limits"].clone())
        .context("the node's limits in force are unreadable")?;
    let from = last["effective_from"].as_i64().unwrap_or(i64::MIN);
    in_force
        .check_amendment(from, limits, effective_from)
        .context("the decision would be void")
}

fn propose(a: &ProposeArgs) -> anyhow::Result<ExitCode> {
    let charter = load_charter(&a.charter)?;
    anyhow::ensure!(
        !a.out.exists(),
        "{} exists; proposals are never overwritten",
        a.out.display()
    );
    let g = get_json(&a.node, "/api/v1/governance")?;
    anyhow::ensure!(
        g["network_id"].as_str() == Some(charter.network_id().to_hex().as_str()),
        "the node {} runs another network than the charter {}",
        a.node,
        a.charter.display()
    );
    let seq = g["chain_length"].as_u64().unwrap_or(0) + 1;
    let prev: Option<DecisionId> = g["chain_head"].as_str().and_then(|s| s.parse().ok());
    let action = match &a.action {
        ActionArgs::Admit { code, name, key } => Action::Admit {
            code: code.clone(),
            name: lang_map(name, "--name")?,
            key: parse_key(key)?,
        },
        ActionArgs::Suspend { code, last_seq } => Action::Suspend {
            code: code.clone(),
            last_seq: match last_seq {
                Some(s) => *s,
                None => head_on_node(&g, &current_key(&g, code)?),
            },
        },
        ActionArgs::Reinstate { code } => Action::Reinstate { code: code.clone() },
        ActionArgs::RotateKey {
            code,
            new_key,
            old_key_last_seq,
        } => Action::RotateKey {
            code: code.clone(),
            new_key: parse_key(new_key)?,
            old_key_last_seq: match old_key_last_seq {
                Some(s) => *s,
                None => head_on_node(&g, &current_key(&g, code)?),
            },
        },
        ActionArgs::RevokeKey {
            key,
            last_valid_seq,
        } => Action::RevokeKey {
            key: parse_key(key)?,
            last_valid_seq: *last_valid_seq,
        },
        ActionArgs::AmendLimits {
            limits,
            effective_from,
        } => {
            let text = std::fs::read_to_string(limits)
                .with_context(|| format!("reading {}", limits.display()))?;
            let limits: Limits =
                toml::from_str(&text).with_context(|| format!("{}", limits.display()))?;
            let effective_from = match effective_from {
                Some(t) => chrono::DateTime::parse_from_rfc3339(t)
                    .with_context(|| format!("--effective-from {t:?} is not RFC 3339"))?
                    .timestamp_millis(),
                None => crate::now_ms(),
            };
            check_raises(&g, &limits, effective_from)?;
            Action::AmendLimits {
                limits,
                effective_from,
            }
        }
        ActionArgs::AmendVocabulary { vocabulary } => {
            let text = std::fs::read_to_string(vocabulary)
                .with_context(|| format!("reading {}", vocabulary.display()))?;
            let wanted: Vocabulary =
                toml::from_str(&text).with_context(|| format!("{}", vocabulary.display()))?;
            let in_force: Vocabulary =
                serde_json::from_value(get_json(&a.node, "/api/v1/vocabulary")?)
                    .context("the node's /api/v1/vocabulary")?;
            let additions = in_force.additions_to(&wanted).with_context(|| {
                format!("{} against the vocabulary in force", vocabulary.display())
            })?;
            Action::AmendVocabulary { additions }
        }
        ActionArgs::EraseRecords { record, ground } => {
            let ground: Ground = serde_json::from_value(serde_json::Value::String(ground.clone()))
                .map_err(|_| {
                    anyhow::anyhow!(
                        "--ground {ground:?} is not one of consent_withdrawn, erasure_request, unlawful, order"
                    )
                })?;
            let mut records: Vec<RecordId> = Vec::new();
            for r in record {
                let id: RecordId = r
                    .parse()
                    .map_err(|_| anyhow::anyhow!("--record {r:?} is not a record id (64 hex)"))?;
                let v = get_json(&a.node, &format!("/api/v1/records/{id}"))?;
                anyhow::ensure!(
                    v["kind"].as_str().is_some_and(|k| k != "erasure"),
                    "{id} is an erasure: it is the proof of others and is not erased"
                );
                for x in std::iter::once(id.to_hex()).chain(
                    v["amendments"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|x| x.as_str().map(str::to_owned)),
                ) {
                    let x: RecordId = x.parse().context("the node's amendment id")?;
                    if !records.contains(&x) {
                        records.push(x);
                    }
                }
            }
            Action::EraseRecords { records, ground }
        }
    };
    let draft = DecisionDraft {
        seq,
        prev,
        created_at: crate::now_ms(),
        reason: lang_map(&a.reason, "--reason")?,
        action,
    };
    let signed = pb::SignedDecision {
        decision: draft.encode(&charter),
        signatures: Vec::new(),
    };
    // The same checks every node makes, but the quorum.
    let d = check_proposal(&signed, &charter).context("the proposal is not valid")?;
    write_proposal(&a.out, &signed, &d, &charter, true)?;
    say!("wrote {}: decision {} at seq {seq}", a.out.display(), d.id);
    say!("  {}", d.action.describe());
    say!(
        "it needs {} committee signatures: hubnet governance sign --charter {} --key COMMITTEE.key {}",
        charter.quorum(),
        a.charter.display(),
        a.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn read_proposal(path: &Path, charter: &Charter) -> anyhow::Result<pb::SignedDecision> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the proposal {}", path.display()))?;
    let file: ProposalFile = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a proposal file", path.display()))?;
    anyhow::ensure!(
        file.format == FORMAT,
        "{}: format {:?} is not {FORMAT}",
        path.display(),
        file.format
    );
    anyhow::ensure!(
        file.network_id == charter.network_id().to_hex(),
        "{} is for network {}, the charter is network {}",
        path.display(),
        file.network_id,
        charter.network_id()
    );
    let decision = STANDARD
        .decode(&file.decision)
        .with_context(|| format!("{}: decision is not base64", path.display()))?;
    let signatures = file
        .signatures
        .iter()
        .map(|s| {
            Ok(pb::DecisionSignature {
                key: hex::decode(&s.key).context("a signature's key is not hex")?,
                signature: hex::decode(&s.signature).context("a signature is not hex")?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(pb::SignedDecision {
        decision,
        signatures,
    })
}

fn write_proposal(
    path: &Path,
    signed: &pb::SignedDecision,
    d: &governance::Decision,
    charter: &Charter,
    new: bool,
) -> anyhow::Result<()> {
    let file = ProposalFile {
        format: FORMAT.into(),
        network_id: charter.network_id().to_hex(),
        description: d.action.describe(),
        seq: d.seq,
        decision: STANDARD.encode(&signed.decision),
        signatures: signed
            .signatures
            .iter()
            .map(|s| SignatureEntry {
                key: hex::encode(&s.key),
                signature: hex::encode(&s.signature),
            })
            .collect(),
    };
    let text = serde_json::to_string_pretty(&file)? + "\n";
    if !new {
        return crate::durable::replace(path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()));
    }
    match crate::durable::create_new(path, text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            anyhow::bail!("{} exists; proposals are never overwritten", path.display())
        }
        other => other.with_context(|| format!("writing {}", path.display())),
    }
}

fn show(d: &governance::Decision, charter: &Charter) {
    let _ = (|| -> anyhow::Result<()> {
        say!(
            "decision {} (seq {}, proposed at {} ms)",
            d.id,
            d.seq,
            d.created_at
        );
        say!("  {}", d.action.describe());
        for (lang, text) in &d.reason {
            say!("  reason [{lang}]: {text}");
        }
        say!(
            "  signatures: {} of {} needed",
            d.signers.len(),
            charter.quorum()
        );
        for s in &d.signers {
            say!("    {s}");
        }
        Ok(())
    })();
}

fn sign(charter: &Path, key: &Path, proposal: &Path) -> anyhow::Result<ExitCode> {
    let charter = load_charter(charter)?;
    let key = keyfile::read(key)?;
    let mut signed = read_proposal(proposal, &charter)?;
    check_proposal(&signed, &charter)
        .with_context(|| format!("{} as it stands", proposal.display()))?;
    signed
        .signatures
        .push(sign_decision(&key, &signed.decision));
    // Refuses a key outside the committee, or one that signed already, with the reason.
    let d = check_proposal(&signed, &charter).context("cannot add this signature")?;
    show(&d, &charter);
    write_proposal(proposal, &signed, &d, &charter, false)?;
    say!(
        "signed by {}; {}",
        key.public_key(),
        if d.signers.len() >= charter.quorum() as usize {
            "the quorum is met: submit it with `hubnet governance submit`"
        } else {
            "more signatures are needed"
        }
    );
    Ok(ExitCode::SUCCESS)
}

fn submit(charter_path: &Path, node: &str, proposal: &Path) -> anyhow::Result<ExitCode> {
    let charter = load_charter(charter_path)?;
    let signed = read_proposal(proposal, &charter)?;
    let d = verify_decision(&signed, &charter)
        .with_context(|| format!("{} cannot be submitted", proposal.display()))?;
    let url = format!("{}/api/v1/governance/decisions", node.trim_end_matches('/'));
    let bytes = signed.encode_to_vec();
    let (status, text) = runtime()?.block_on(async {
        let response = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()?
            .post(&url)
            .header("content-type", crate::api::PROTOBUF)
            .body(bytes)
            .send()
            .await
            .with_context(|| format!("posting to {url}"))?;
        let status = response.status();
        anyhow::Ok((status, response.text().await?))
    })?;
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    if !status.is_success() {
        let detail = body["detail"]
            .as_str()
            .map_or(body.to_string(), str::to_owned);
        eprintln!("hubnet governance submit: the node refused the decision ({status}): {detail}");
        return Ok(ExitCode::from(2));
    }
    let state = body["status"]["status"].as_str().unwrap_or("?");
    say!(
        "decision {} (seq {}) {}: {}",
        d.id,
        d.seq,
        if body["new"] == true {
            "stored"
        } else {
            "was already held"
        },
        d.action.describe()
    );
    match state {
        "applied" => {
            say!("applied; the node gossips it to the network");
            Ok(ExitCode::SUCCESS)
        }
        "void" => {
            eprintln!(
                "the decision is void and changes nothing: {}",
                body["status"]["reason"].as_str().unwrap_or("?")
            );
            Ok(ExitCode::from(1))
        }
        other => {
            eprintln!(
                "the decision is not on the governance chain ({other}): another decision holds seq {}",
                d.seq
            );
            Ok(ExitCode::from(1))
        }
    }
}
