//! Writes the seed corpora `fuzz/corpus/<target>/seed-*` from the sample network
//! (`deploy/sample`): signed records of every member, an amendment and a retraction, a committee
//! decision, bundles, journals, sync messages, drafts and query strings. Deterministic: run it
//! again after a format change and commit what changed.
//!
//! ```text
//! cd fuzz && cargo run --example seed_corpus
//! ```

use std::collections::BTreeMap;
use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};

use hubnet_fuzz::{JournalInput, SAMPLE_DIR, SEED_MS, charter};
use hubnet_node::bundle::BundleWriter;
use hubnet_node::keyfile;
use hubnet_node::store::journal::Journal;
use hubnet_proto::v1 as pb;
use hubnet_protocol::governance::{Action, DecisionDraft, sign_decision};
use hubnet_protocol::record::{self, Position};
use hubnet_protocol::sync::{HeadRef, Summary};
use hubnet_protocol::{Draft, DraftFormat, Record, SecretKey};
use prost::Message;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn main() -> Result<()> {
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let charter = charter();
    let sample = Path::new(SAMPLE_DIR);

    // Two records of every member, then an amendment and a retraction of the first member's
    // first record.
    let mut records = hubnet_node::synth::sample_corpus(sample, charter, 16, SEED_MS)?;
    let first = records[0].clone();
    let key = keyfile::read(&sample.join(format!("keys/{}.key", first.member)))?;
    let mut position = Position::after(&records[8]);
    let original =
        serde_json::to_value(Draft::from_body(&first.body).ok_or("the first record is erased")?)?;
    let amendment = serde_json::json!({
        "kind": "amendment",
        "target": first.id.to_hex(),
        "record": original,
        "note": {"en": "Corrected the title."},
    });
    let retraction = serde_json::json!({
        "kind": "retraction",
        "target": first.id.to_hex(),
        "reason": {"en": "Published by mistake."},
    });
    for draft in [&amendment, &retraction] {
        let r = sign(&key, position, draft)?;
        position = Position::after(&r);
        records.push(r);
    }
    let amended = records[records.len() - 2].id;
    let encoded: Vec<Vec<u8>> = records.iter().map(|r| r.signed.encode()).collect();

    let dir = clean(&out, "record")?;
    for (i, bytes) in encoded.iter().enumerate() {
        write(&dir, &format!("{i:02}"), bytes)?;
    }
    // Then the first record erased (docs/PROTOCOL.md §2.1): the erasure, and the original and its
    // amendment as erased records travel, without their bodies and with the erasure as proof.
    let erasure = sign(
        &key,
        position,
        &serde_json::json!({
            "kind": "erasure",
            "target": first.id.to_hex(),
            "amendments": [amended.to_hex()],
            "ground": "consent_withdrawn",
        }),
    )?;
    let proof = erasure.signed.encode();
    write(&dir, "erasure", &proof)?;
    write(
        &dir,
        "erased-original",
        &first.signed.erased(proof.clone()).encode(),
    )?;
    let amendment_record = &records[records.len() - 2];
    write(
        &dir,
        "erased-amendment",
        &amendment_record.signed.erased(proof).encode(),
    )?;

    let committee: Vec<SecretKey> = (1..=2)
        .map(|i| keyfile::read(&sample.join(format!("keys/committee-{i}.key"))))
        .collect::<std::result::Result<_, _>>()?;
    let decision = DecisionDraft {
        seq: 1,
        prev: None,
        created_at: SEED_MS,
        reason: BTreeMap::from([("en".to_owned(), "Sample suspension.".to_owned())]),
        action: Action::Suspend {
            code: records[1].member.clone(),
            last_seq: 1,
        },
    }
    .encode(charter);
    let decision = pb::SignedDecision {
        signatures: committee
            .iter()
            .map(|k| sign_decision(k, &decision))
            .collect(),
        decision,
    }
    .encode_to_vec();

    let dir = clean(&out, "bundle")?;
    let mut w = BundleWriter::new(Vec::new(), charter.signed())?;
    for r in &encoded {
        w.write_record(r)?;
    }
    write(&dir, "all", &w.finish()?)?;
    let mut w = BundleWriter::new(Vec::new(), charter.signed())?;
    w.write_decision(&decision)?;
    w.write_record(&encoded[0])?;
    w.write_record(&encoded[1])?;
    write(&dir, "decision", &w.finish()?)?;

    let dir = clean(&out, "journal")?;
    let three: Vec<&[u8]> = encoded[..3].iter().map(Vec::as_slice).collect();
    let appended = |tail: &[u8]| {
        JournalInput::Appended {
            entries: three.clone(),
            tail,
        }
        .encode()
    };
    let mut torn = (encoded[3].len() as u32).to_le_bytes().to_vec();
    torn.extend_from_slice(&[0xab; 4]);
    torn.extend_from_slice(&encoded[3][..40]);
    write(&dir, "torn", &appended(&torn))?;
    write(&dir, "zero-fill", &appended(&[0; 64]))?;
    write(&dir, "clean", &appended(&[]))?;
    let tmp = tempfile::tempdir()?;
    let path = tmp.path().join("records.journal");
    let mut j = Journal::open(&path, charter.network_id())?;
    j.append(&three)?;
    drop(j);
    write(&dir, "raw", &JournalInput::Raw(&fs::read(&path)?).encode())?;

    let dir = clean(&out, "sync_codec")?;
    let mut summary = Summary::default();
    for r in &records {
        summary.heads.insert(
            r.header.author,
            HeadRef {
                seq: r.header.seq,
                id: r.id,
            },
        );
    }
    summary.forks.insert((first.header.author, 1));
    let author = first.header.author.as_bytes().to_vec();
    use pb::{sync_request::Request, sync_response::Response};
    let requests = [
        ("heads", Request::Heads(summary.to_proto())),
        (
            "range",
            Request::Range(pb::RangeRequest {
                author: author.clone(),
                from_seq: 2,
                byte_budget: 65_536,
            }),
        ),
        (
            "fork",
            Request::Fork(pb::ForkRequest {
                author: author.clone(),
                seq: 1,
            }),
        ),
        ("decisions", Request::Decisions(pb::DecisionsRequest {})),
    ];
    for (name, r) in requests {
        let msg = pb::SyncRequest { request: Some(r) };
        write(
            &dir,
            &format!("request-{name}"),
            &[&[0u8][..], &msg.encode_length_delimited_to_vec()].concat(),
        )?;
    }
    let responses = [
        ("heads", Response::Heads(summary.to_proto())),
        (
            "records",
            Response::Records(pb::Records {
                records: encoded[..3].to_vec(),
            }),
        ),
        (
            "fork",
            Response::Fork(pb::ForkProof {
                first: encoded[0].clone(),
                second: encoded[16].clone(),
            }),
        ),
        (
            "decisions",
            Response::Decisions(pb::Decisions {
                decisions: vec![decision.clone()],
            }),
        ),
    ];
    for (name, r) in responses {
        let msg = pb::SyncResponse { response: Some(r) };
        write(
            &dir,
            &format!("response-{name}"),
            &[&[1u8][..], &msg.encode_length_delimited_to_vec()].concat(),
        )?;
    }

    let dir = clean(&out, "draft")?;
    let drafts = sample.join("drafts");
    let mut members: Vec<PathBuf> = fs::read_dir(&drafts)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::result::Result<_, _>>()?;
    members.sort();
    for (m, member) in members.iter().enumerate() {
        let mut files: Vec<PathBuf> = fs::read_dir(member)?
            .map(|e| e.map(|e| e.path()))
            .collect::<std::result::Result<_, _>>()?;
        files.sort();
        // The first (a practice) and the last (usually an event) of every member.
        let picks = [files.first(), files.last()];
        for (i, f) in picks.into_iter().flatten().enumerate() {
            let text = fs::read(f)?;
            let flags = (m as u8) << 1;
            write(
                &dir,
                &format!("{m}-{i}-toml"),
                &[&[flags][..], &text].concat(),
            )?;
            if i == 1 {
                let d = Draft::parse(std::str::from_utf8(&text)?, DraftFormat::Toml)?;
                let json = serde_json::to_string_pretty(&d)?;
                write(
                    &dir,
                    &format!("{m}-{i}-json"),
                    &[&[flags | 1][..], json.as_bytes()].concat(),
                )?;
            }
        }
    }
    // A confirmation (of a record that is no programme: the draft rules do not know, the store
    // would refuse it).
    let confirmation = serde_json::json!({
        "kind": "confirmation",
        "programme": first.id.to_hex(),
        "version": first.id.to_hex(),
        "note": {"en": "We confirm our participation."},
    });
    for (name, draft) in [
        ("amendment", &amendment),
        ("retraction", &retraction),
        ("confirmation", &confirmation),
    ] {
        write(
            &dir,
            &format!("{name}-json"),
            &[&[1u8][..], serde_json::to_string(draft)?.as_bytes()].concat(),
        )?;
        let d: Draft = serde_json::from_value(draft.clone())?;
        write(
            &dir,
            &format!("{name}-toml"),
            &[&[0u8][..], toml::to_string(&d)?.as_bytes()].concat(),
        )?;
    }

    let dir = clean(&out, "query")?;
    let queries = [
        "",
        "q=recruitment",
        "q=%D0%B3%D0%BE%D1%81%D1%83%D0%B4%D0%B0%D1%80%D1%81%D1%82%D0%B2%D0%B5%D0%BD%D0%BD%D0%BE%D0%B9+%D1%81%D0%BB%D1%83%D0%B6%D0%B1%D1%8B&lang=ru",
        "q=\"merit based\" AND title:exam*&sort=relevance&limit=5",
        "kind=event&country=kz&country=UZ&sort=start&start_from=2026-01-01&start_to=2026-12-31T23:59:59%2B05:00",
        "kind=practice&topic=recruitment&topic=ethics-and-integrity&author=KZ&lang=uz-Latn&include_retracted=true",
        "created_from=2020-01-01&created_to=2030-01-01&sort=oldest&limit=100&format=csv",
        "author=574b04dff02bc910b35e4fa555e1ecb2ba75520bc0521b5cddd68d26249cf845&sort=newest",
        "limit=0&limit=-1",
        "unknown=1",
    ];
    for (i, q) in queries.iter().enumerate() {
        write(&dir, &format!("{i:02}"), q.as_bytes())?;
    }
    let pairs = vec![("q".to_owned(), "reform".to_owned())];
    let (q, _) = hubnet_node::search::Query::parse(pairs, &[], charter)?;
    write(
        &dir,
        "cursor-offset",
        format!("q=reform&cursor={}", q.cursor_at(20)).as_bytes(),
    )?;
    let (q, _) = hubnet_node::search::Query::parse(Vec::new(), &[], charter)?;
    write(
        &dir,
        "cursor-after",
        format!("cursor={}", q.cursor_after(SEED_MS, 42)).as_bytes(),
    )?;
    Ok(())
}

/// Signs the draft `json` at `position` and decodes the result.
fn sign(key: &SecretKey, position: Position, json: &serde_json::Value) -> Result<Record> {
    let charter = charter();
    let member = charter
        .member_by_key(&key.public_key())
        .ok_or("the key is a member's")?;
    let body = Draft::parse(&json.to_string(), DraftFormat::Json)?
        .to_body(&member.code, &charter.rules().at(SEED_MS))?;
    let signed = record::sign(key, charter.network_id(), position, SEED_MS, &body);
    Ok(record::verify_record(&signed.encode(), charter, SEED_MS)?)
}

/// Empties `corpus/<target>` of its seeds (what the fuzzer added stays) and returns it.
fn clean(out: &Path, target: &str) -> Result<PathBuf> {
    let dir = out.join(target);
    fs::create_dir_all(&dir)?;
    for e in fs::read_dir(&dir)? {
        let path = e?.path();
        if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("seed-"))
        {
            fs::remove_file(path)?;
        }
    }
    Ok(dir)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    fs::write(dir.join(format!("seed-{name}")), bytes)?;
    Ok(())
}
