//! What the node's unit tests share: the sample network (deploy/sample) and committee decisions.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hubnet_proto::v1 as pb;
use hubnet_protocol::governance::{Action, DecisionDraft, DecisionId, sign_decision};
use hubnet_protocol::{Charter, SecretKey};

/// A path in deploy/sample.
pub fn sample(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy/sample")
        .join(path)
}

/// The sample key `name` (`KZ`, `committee-1`, ...).
pub fn sample_key(name: &str) -> SecretKey {
    crate::keyfile::read(&sample(&format!("keys/{name}.key"))).unwrap()
}

/// A new store of the sample network in `dir`/data, shared as a running node shares it (`member`:
/// the node's member code, `None` for a mirror), with its search indexer running, after
/// `prepare` filled the store.
pub fn sample_shared(
    dir: &Path,
    member: Option<&str>,
    prepare: impl FnOnce(&mut crate::store::Store),
) -> (
    std::sync::Arc<crate::shared::Shared>,
    crate::search::indexer::IndexerHandle,
) {
    let text = std::fs::read_to_string(sample("charter.toml")).unwrap();
    let mut store = crate::store::Store::init(&dir.join("data"), &text).unwrap();
    prepare(&mut store);
    let peer_id = libp2p::identity::Keypair::generate_ed25519()
        .public()
        .to_peer_id();
    crate::shared::Shared::new(store, peer_id, member.map(str::to_owned)).unwrap()
}

/// The sample charter, verified.
pub fn sample_charter() -> Charter {
    let text = std::fs::read_to_string(sample("charter.toml")).unwrap();
    hubnet_protocol::charter::CharterDoc::from_toml(&text)
        .and_then(|d| d.verify())
        .unwrap()
}

/// A decision at `seq` after `prev` for `charter`'s network, signed by `signers`.
pub fn signed_decision(
    charter: &Charter,
    seq: u64,
    prev: Option<DecisionId>,
    action: Action,
    signers: &[SecretKey],
) -> pb::SignedDecision {
    let decision = DecisionDraft {
        seq,
        prev,
        created_at: 1_790_000_000_000,
        reason: BTreeMap::from([("en".into(), "Test".into())]),
        action,
    }
    .encode(charter);
    pb::SignedDecision {
        signatures: signers
            .iter()
            .map(|k| sign_decision(k, &decision))
            .collect(),
        decision,
    }
}
