//! The draft parser on arbitrary text (`protocol/src/draft.rs`: `Draft::parse`, `to_body`,
//! `from_body`), then signing and verifying the body it gives.
//!
//! Input layout: [`hubnet_fuzz::draft_input`]. Properties: parsing and building never panic, they
//! give a draft and a body or a typed `DraftError`; a parsed draft survives JSON (and, when it
//! serializes, TOML) unchanged; a valid body decodes from its encoding unchanged; its draft view
//! (how records are shown as JSON) builds the same body again; signed by its member at position 1
//! it verifies, or is refused only for its size or for naming a participant that is not a member
//! (the charter's rule, which drafts do not know).
#![no_main]

use std::sync::OnceLock;

use hubnet_fuzz::{NOW_MS, SAMPLE_DIR, SEED_MS, charter, draft_input};
use hubnet_protocol::record::{self, Position, verify_record};
use hubnet_protocol::{Body, BodyError, Draft, DraftFormat, RecordError, SecretKey};
use libfuzzer_sys::fuzz_target;

/// Every sample member's code and publishing key, in charter order.
fn members() -> &'static [(String, SecretKey)] {
    static KEYS: OnceLock<Vec<(String, SecretKey)>> = OnceLock::new();
    KEYS.get_or_init(|| {
        charter()
            .members()
            .iter()
            .map(|m| {
                let path = format!("{SAMPLE_DIR}/keys/{}.key", m.code);
                let key = hubnet_node::keyfile::read(path.as_ref()).expect("a sample key");
                (m.code.clone(), key)
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let (json, who, text) = draft_input(data);
    let text = String::from_utf8_lossy(text);
    let format = if json {
        DraftFormat::Json
    } else {
        DraftFormat::Toml
    };
    let draft = match Draft::parse(&text, format) {
        Ok(d) => d,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let as_json = serde_json::to_string(&draft).expect("a draft serializes to JSON");
    let from_json = Draft::parse(&as_json, DraftFormat::Json).expect("a draft's JSON parses");
    assert_eq!(from_json, draft);
    if let Ok(as_toml) = toml::to_string(&draft) {
        let from_toml = Draft::parse(&as_toml, DraftFormat::Toml).expect("a draft's TOML parses");
        assert_eq!(from_toml, draft);
    }

    let charter = charter();
    // Judged at the time it is signed, as publishing does (an expert's time rules need it).
    let rules = charter.rules().at(SEED_MS);
    let limits = &rules;
    let (code, key) = &members()[who % members().len()];
    let body = match draft.to_body(code, limits) {
        Ok(b) => b,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let decoded = Body::decode(body.kind(), &body.encode(), limits).expect("a valid body decodes");
    assert_eq!(decoded, body);
    let view = Draft::from_body(&body).expect("a body built from a draft is not erased");
    let again = view
        .to_body(code, limits)
        .expect("the draft view of a valid body is valid");
    assert_eq!(again, body);

    let signed = record::sign(key, charter.network_id(), Position::FIRST, SEED_MS, &body);
    match verify_record(&signed.encode(), charter, NOW_MS) {
        Ok(r) => assert_eq!(r.body, body),
        Err(RecordError::TooLarge { .. }) => {}
        // Membership is the charter's, which the draft rules do not know.
        Err(RecordError::Body(BodyError::NotAMember { .. })) => {}
        Err(e) => panic!("a valid body signed by its member does not verify: {e}"),
    }
});
