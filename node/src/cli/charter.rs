//! `hubnet charter …`: create, edit, sign, show and verify a charter file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;
use hubnet_protocol::charter::{CharterDoc, MemberDoc};
use hubnet_protocol::id::sha256;
use hubnet_protocol::{CharterError, PublicKey};

use crate::keyfile;

/// Charter subcommands.
#[derive(Debug, Subcommand)]
pub enum CharterCommand {
    /// Start a new, unsigned charter file.
    New {
        /// File to create; never overwritten.
        #[arg(long)]
        out: PathBuf,
        /// Network name as LANG=TEXT, repeatable (e.g. `--name "en=Regional Hub"`).
        #[arg(long, required = true, value_parser = parse_lang_text)]
        name: Vec<(String, String)>,
        /// Committee signatures required.
        #[arg(long, default_value_t = 2)]
        quorum: u32,
    },
    /// Add a member state (drops existing signatures: the content changes).
    AddMember {
        /// The charter file.
        file: PathBuf,
        /// ISO 3166-1 alpha-2 code, or HUB for the Secretariat.
        #[arg(long)]
        code: String,
        /// The member's publishing key.
        #[command(flatten)]
        key: KeyArg,
        /// Name as LANG=TEXT, repeatable.
        #[arg(long, required = true, value_parser = parse_lang_text)]
        name: Vec<(String, String)>,
    },
    /// Add a Steering Committee key (drops existing signatures).
    AddCommittee {
        /// The charter file.
        file: PathBuf,
        /// The committee key.
        #[command(flatten)]
        key: KeyArg,
    },
    /// Add one committee signature over the charter's canonical bytes.
    Sign {
        /// The charter file.
        file: PathBuf,
        /// The committee member's key file.
        #[arg(long)]
        key: PathBuf,
    },
    /// Print the charter, its network id and its signature status.
    Show {
        /// The charter file.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check the charter; exit 0 only if it is valid with a quorum of signatures.
    Verify {
        /// The charter file.
        file: PathBuf,
    },
}

/// A public key given as hex or read from a key file.
#[derive(Debug, clap::Args)]
pub struct KeyArg {
    /// The public key (64 hex), or use --key-file.
    #[arg(
        long,
        conflicts_with = "key_file",
        required_unless_present = "key_file"
    )]
    key: Option<String>,
    /// Read the public key from this key file.
    #[arg(long)]
    key_file: Option<PathBuf>,
}

impl KeyArg {
    fn public_key(&self) -> anyhow::Result<PublicKey> {
        match (&self.key, &self.key_file) {
            (Some(h), _) => h.parse().with_context(|| format!("--key {h}")),
            (None, Some(f)) => Ok(keyfile::read(f)?.public_key()),
            (None, None) => bail!("give --key or --key-file"),
        }
    }
}

pub(super) fn run(command: CharterCommand) -> anyhow::Result<ExitCode> {
    match command {
        CharterCommand::New { out, name, quorum } => {
            if out.exists() {
                bail!("{} already exists; refusing to overwrite it", out.display());
            }
            let mut doc = CharterDoc::new("", quorum);
            doc.name = name.into_iter().collect();
            write(&out, &doc)?;
            say!(
                "created {} (add members and committee keys, then sign)",
                out.display()
            );
        }
        CharterCommand::AddMember {
            file,
            code,
            key,
            name,
        } => {
            let mut doc = read(&file)?;
            let key = key.public_key()?;
            doc.members.push(MemberDoc {
                code: code.clone(),
                publishing_key: key.to_hex(),
                name: name.into_iter().collect::<BTreeMap<_, _>>(),
            });
            changed(&file, doc)?;
            say!("added member {code} ({key})");
        }
        CharterCommand::AddCommittee { file, key } => {
            let mut doc = read(&file)?;
            let key = key.public_key()?;
            doc.committee.keys.push(key.to_hex());
            changed(&file, doc)?;
            say!("added committee key {key}");
        }
        CharterCommand::Sign { file, key } => {
            let mut doc = read(&file)?;
            let key = keyfile::read(&key)?;
            doc.sign(&key)?;
            write(&file, &doc)?;
            let status = match doc.verify() {
                Ok(_) => "the charter is now valid".to_owned(),
                Err(e) => format!("not valid yet: {e}"),
            };
            say!("signed by {}; {status}", key.public_key());
        }
        CharterCommand::Show { file, json } => {
            let doc = read(&file)?;
            show(&doc, json)?;
        }
        CharterCommand::Verify { file } => {
            let doc = read(&file)?;
            match doc.verify() {
                Ok(c) => {
                    say!(
                        "valid: network {} with {} members, {} of {} committee signatures (quorum {})",
                        c.network_id(),
                        c.members().len(),
                        c.signers().len(),
                        c.committee().len(),
                        c.quorum()
                    );
                }
                Err(e) => {
                    eprintln!("invalid: {e}");
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_lang_text(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((lang, text)) if !lang.is_empty() && !text.trim().is_empty() => {
            Ok((lang.to_owned(), text.to_owned()))
        }
        _ => Err(format!("expected LANG=TEXT, e.g. en=Kazakhstan, got {s:?}")),
    }
}

pub(super) fn read(path: &Path) -> anyhow::Result<CharterDoc> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    CharterDoc::from_toml(&text).with_context(|| format!("{}", path.display()))
}

/// Writes an edited charter, dropping signatures (they covered the old content) and checking
/// what can be checked before the charter is complete.
fn changed(path: &Path, mut doc: CharterDoc) -> anyhow::Result<()> {
    match doc.to_proto() {
        Ok(_) | Err(CharterError::BadQuorum { .. } | CharterError::NoMembers) => {}
        Err(e) => bail!("{e}"),
    }
    if !doc.signatures.is_empty() {
        eprintln!(
            "note: removed {} signature(s); the content changed, so the committee must sign again",
            doc.signatures.len()
        );
        doc.signatures.clear();
    }
    write(path, &doc)
}

fn write(path: &Path, doc: &CharterDoc) -> anyhow::Result<()> {
    crate::durable::replace(path, doc.to_toml().as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

fn show(doc: &CharterDoc, json: bool) -> anyhow::Result<()> {
    let network_id = doc.canonical_bytes().map(|b| hex::encode(sha256(&b)));
    let status = doc.verify().map(|_| ()).map_err(|e| e.to_string());
    if json {
        let value = serde_json::json!({
            "name": doc.name,
            "network_id": network_id.as_ref().ok(),
            "valid": status.is_ok(),
            "problem": status.as_ref().err(),
            "quorum": doc.committee.quorum,
            "committee": doc.committee.keys,
            "signers": doc.signatures.iter().map(|s| &s.key).collect::<Vec<_>>(),
            "members": doc.members.iter().map(|m| serde_json::json!({
                "code": m.code, "publishing_key": m.publishing_key, "name": m.name,
            })).collect::<Vec<_>>(),
            "limits": doc.limits,
        });
        say!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    let names: Vec<String> = doc.name.iter().map(|(l, n)| format!("{n} [{l}]")).collect();
    say!("Network:     {}", names.join(" / "));
    match &network_id {
        Ok(id) => say!("Network id:  {id}"),
        Err(e) => say!("Network id:  (not yet defined: {e})"),
    }
    match &status {
        Ok(()) => say!("Status:      valid"),
        Err(e) => say!("Status:      NOT VALID: {e}"),
    }
    say!(
        "Committee:   quorum {} of {}",
        doc.committee.quorum,
        doc.committee.keys.len()
    );
    for k in &doc.committee.keys {
        let signed = doc.signatures.iter().any(|s| s.key.eq_ignore_ascii_case(k));
        say!("  {k}  {}", if signed { "signed" } else { "-" });
    }
    say!("Members:     {}", doc.members.len());
    let mut members = doc.members.clone();
    members.sort_by(|a, b| a.code.cmp(&b.code));
    for m in &members {
        let names: Vec<&str> = m.name.values().map(String::as_str).collect();
        say!(
            "  {:<4} {}  {}",
            m.code,
            m.publishing_key,
            names.join(" / ")
        );
    }
    let l = &doc.limits;
    say!(
        "Limits:      record {} B, clock skew {} s, short text {} B, summary {} B, body {} B, lists {}, languages {}, URLs {} B, records per key per hour {}",
        l.max_record_bytes,
        l.max_clock_skew_secs,
        l.max_short_text_bytes,
        l.max_summary_bytes,
        l.max_body_bytes,
        l.max_list_items,
        l.max_languages,
        l.max_url_bytes,
        l.records_per_hour()
            .map_or_else(|| "unlimited".to_owned(), |n| n.to_string())
    );
    Ok(())
}
