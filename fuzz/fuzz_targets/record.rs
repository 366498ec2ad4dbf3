//! Record decoding and precheck on arbitrary bytes (`protocol/src/record.rs`).
//!
//! Properties: decoding never panics; a decoded record re-encodes to bytes that decode to the same
//! three byte strings; a record that prechecks has id = SHA-256 of its header, prechecks again
//! from its re-encoding with the same id and body, and its body re-encodes to the same body;
//! the strict and the batch signature check agree; `verify_record` agrees with precheck + verify.
#![no_main]

use hubnet_fuzz::{NOW_MS, charter};
use hubnet_protocol::RecordId;
use hubnet_protocol::record::{
    self, Body, Header, SignedRecord, precheck, precheck_any_seq, verify_batch, verify_record,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let charter = charter();
    let Ok(signed) = SignedRecord::decode(data) else {
        assert!(precheck(data, charter, NOW_MS).is_err());
        return;
    };
    let again = SignedRecord::decode(&signed.encode()).expect("a re-encoded record decodes");
    assert_eq!(again, signed);
    assert_eq!(signed.encoded_len(), signed.encode().len());
    if let Ok(h) = Header::decode(&signed.header) {
        assert_eq!(h.seq == 1, h.prev.is_none());
    }

    let checked = precheck(data, charter, NOW_MS);
    let any_seq = precheck_any_seq(data, charter, NOW_MS);
    // The key-validity rule only ever refuses more.
    if checked.is_ok() {
        assert!(any_seq.is_ok());
    }
    let Ok(u) = checked else {
        return;
    };
    let r = u.record();
    assert_eq!(r.id, RecordId::of_header(&signed.header));
    assert_eq!(r.signed, signed);
    assert_eq!(r.header.kind, r.body.kind());
    // An erased record has no body to re-encode; its erasure came with it.
    assert_eq!(r.body.is_erased(), signed.body.is_empty());
    if !r.body.is_erased() {
        let body_again = Body::decode(
            r.header.kind,
            &r.body.encode(),
            &charter.rules_at(r.header.created_at),
        )
        .expect("a valid body re-encodes to a valid body");
        assert_eq!(body_again, r.body);
    }
    let from_reencoding =
        precheck(&signed.encode(), charter, NOW_MS).expect("the re-encoded record prechecks");
    assert_eq!(from_reencoding.record().id, r.id);
    assert_eq!(from_reencoding.record().body, r.body);
    assert!(record::decode_stored(data, charter).is_ok());

    let single = u.clone().verify();
    let batch = verify_batch(vec![u]).pop().expect("one verdict per record");
    assert_eq!(single.is_ok(), batch.is_ok());
    assert_eq!(single.is_ok(), verify_record(data, charter, NOW_MS).is_ok());
});
