//! Record, chain and draft rules: one test per refusal, through one `check` helper, and the
//! property tests (valid records round-trip; any single-byte change is rejected; arbitrary bytes
//! never panic).

use hubnet_proto::v1 as pb;
use proptest::prelude::*;
use prost::Message;

use crate::chain::{self, Append, ChainError, ChainHead, TargetInfo};
use crate::charter::Charter;
use crate::charter::tests::sample;
use crate::draft::{Draft, DraftError, DraftFormat};
use crate::id::sha256;
use crate::record::{self, Body, Position, Record, RecordError, SignedRecord, signing_message};
use crate::validate::BodyError;
use crate::{Kind, SecretKey};

const NOW: i64 = 1_800_000_000_000;

struct Net {
    charter: Charter,
    keys: Vec<SecretKey>,
}

fn net() -> Net {
    let (doc, keys, _) = sample(3);
    Net {
        charter: doc.verify().expect("valid sample charter"),
        keys,
    }
}

fn practice_json() -> serde_json::Value {
    serde_json::json!({
        "kind": "practice",
        "title": {"en": "Merit-based recruitment", "ru": "Конкурсный отбор"},
        "summary": {"en": "Open competitions.", "kk": "Ашық конкурстар."},
        "topics": ["recruitment"]
    })
}

fn body_from(json: &serde_json::Value, net: &Net) -> Result<Body, DraftError> {
    Draft::parse(&json.to_string(), DraftFormat::Json)?.to_body("KZ", &net.charter.rules())
}

fn signed_practice(net: &Net, key: usize, position: Position) -> SignedRecord {
    let body = body_from(&practice_json(), net).expect("valid draft");
    record::sign(
        &net.keys[key],
        net.charter.network_id(),
        position,
        NOW,
        &body,
    )
}

/// Signs an arbitrary header over `body`, so tests can build records that are signed correctly
/// but wrong in one other way.
fn sign_raw(key: &SecretKey, header: &pb::RecordHeader, body: Vec<u8>) -> SignedRecord {
    let header = header.encode_to_vec();
    let signature = key.sign(&signing_message(&header)).to_vec();
    SignedRecord {
        header,
        body,
        signature,
        erasure: Vec::new(),
    }
}

fn header_of(signed: &SignedRecord) -> pb::RecordHeader {
    pb::RecordHeader::decode(signed.header.as_slice()).expect("decodes")
}

/// The one helper: verifies `bytes` and compares the error (or success) with `expected`.
fn check(net: &Net, bytes: &[u8], expected: Result<(), RecordError>) {
    let got = record::verify_record(bytes, &net.charter, NOW).map(|_| ());
    assert_eq!(got, expected);
}

fn check_body(json: serde_json::Value, expected: BodyError) {
    let net = net();
    assert_eq!(
        body_from(&json, &net),
        Err(DraftError::Invalid(expected.clone()))
    );
    // The same body signed by hand is refused by verification too, not only by the draft layer.
    let draft = Draft::parse(&json.to_string(), DraftFormat::Json).expect("parses");
    let body = draft.build_body("KZ").expect("builds");
    let signed = record::sign(
        &net.keys[1],
        net.charter.network_id(),
        Position::FIRST,
        NOW,
        &body,
    );
    check(&net, &signed.encode(), Err(RecordError::Body(expected)));
}

#[test]
fn valid_record_verifies() {
    let net = net();
    let signed = signed_practice(&net, 1, Position::FIRST);
    let r = record::verify_record(&signed.encode(), &net.charter, NOW).expect("valid");
    assert_eq!(r.member, "KZ");
    assert_eq!(r.id.0, sha256(&signed.header));
    assert_eq!(r.header.kind, Kind::Practice);
}

#[test]
fn a_record_signed_here_is_taken_without_verifying_and_only_by_its_own_key() {
    let net = net();
    let signed = signed_practice(&net, 1, Position::FIRST);
    let precheck = || record::precheck(&signed.encode(), &net.charter, NOW).expect("prechecks");
    let verified = precheck().verify().expect("valid");
    assert_eq!(precheck().signed_here(&net.keys[1]), Ok(verified));
    // Another member's key did not sign it.
    assert_eq!(
        precheck().signed_here(&net.keys[2]),
        Err(RecordError::BadSignature(net.keys[1].public_key().to_hex()))
    );
    // A record without a well-formed signature is refused even by its author's key.
    let unsigned = SignedRecord {
        signature: vec![0; 63],
        ..signed.clone()
    };
    let u = record::precheck(&unsigned.encode(), &net.charter, NOW).expect("prechecks");
    assert_eq!(
        u.signed_here(&net.keys[1]),
        Err(RecordError::BadSignature(net.keys[1].public_key().to_hex()))
    );
}

#[test]
fn flipped_bit_in_signature_is_bad_signature() {
    let net = net();
    let mut s = signed_practice(&net, 1, Position::FIRST);
    s.signature[10] ^= 1;
    check(
        &net,
        &s.encode(),
        Err(RecordError::BadSignature(net.keys[1].public_key().to_hex())),
    );
}

#[test]
fn flipped_bit_in_header_is_bad_signature() {
    let net = net();
    let s = signed_practice(&net, 1, Position::FIRST);
    let mut h = header_of(&s);
    h.created_at ^= 1 << 3;
    let tampered = SignedRecord {
        header: h.encode_to_vec(),
        ..s
    };
    check(
        &net,
        &tampered.encode(),
        Err(RecordError::BadSignature(net.keys[1].public_key().to_hex())),
    );
}

#[test]
fn flipped_bit_in_body_is_hash_mismatch() {
    let net = net();
    let mut s = signed_practice(&net, 1, Position::FIRST);
    let last = s.body.len() - 1;
    s.body[last] ^= 1;
    check(&net, &s.encode(), Err(RecordError::BodyHashMismatch));
}

#[test]
fn body_length_mismatch_is_refused() {
    let net = net();
    let s = signed_practice(&net, 1, Position::FIRST);
    let mut h = header_of(&s);
    h.body_len += 1;
    let bad = sign_raw(&net.keys[1], &h, s.body.clone());
    check(
        &net,
        &bad.encode(),
        Err(RecordError::BodyLengthMismatch {
            declared: h.body_len,
            actual: s.body.len(),
        }),
    );
}

/// A practice signed by a key no member holds, and that key.
fn outsider_record(net: &Net) -> (SecretKey, SignedRecord) {
    let outsider = SecretKey::from_seed([66; 32]);
    let body = body_from(&practice_json(), net).expect("valid");
    let s = record::sign(
        &outsider,
        net.charter.network_id(),
        Position::FIRST,
        NOW,
        &body,
    );
    (outsider, s)
}

#[test]
fn unknown_author_is_refused() {
    let net = net();
    let (outsider, s) = outsider_record(&net);
    check(
        &net,
        &s.encode(),
        Err(RecordError::UnknownAuthor(outsider.public_key().to_hex())),
    );
}

#[test]
fn other_network_is_refused() {
    let net = net();
    let body = body_from(&practice_json(), &net).expect("valid");
    let other = crate::NetworkId([9; 32]);
    let s = record::sign(&net.keys[1], other, Position::FIRST, NOW, &body);
    check(
        &net,
        &s.encode(),
        Err(RecordError::WrongNetwork {
            expected: net.charter.network_id(),
            got: other.to_hex(),
        }),
    );
}

#[test]
fn record_from_the_future_is_refused() {
    let net = net();
    let body = body_from(&practice_json(), &net).expect("valid");
    let skew_ms = net.charter.limits().max_clock_skew_secs as i64 * 1000;
    let at_limit = record::sign(
        &net.keys[1],
        net.charter.network_id(),
        Position::FIRST,
        NOW + skew_ms,
        &body,
    );
    check(&net, &at_limit.encode(), Ok(()));
    let beyond = record::sign(
        &net.keys[1],
        net.charter.network_id(),
        Position::FIRST,
        NOW + skew_ms + 1,
        &body,
    );
    check(
        &net,
        &beyond.encode(),
        Err(RecordError::FromTheFuture {
            created_at: NOW + skew_ms + 1,
            now: NOW,
            max_skew_secs: net.charter.limits().max_clock_skew_secs,
        }),
    );
}

/// A kind this release does not know (a newer release's) is `UnknownKind`, which nodes set
/// aside without penalty, only when everything else holds: a member signed it for this network.
/// Otherwise the first other fault is what the record is refused for.
#[test]
fn an_unknown_kind_is_set_aside_only_when_a_member_signed_it() {
    let net = net();
    let s = signed_practice(&net, 1, Position::FIRST);
    let mut h = header_of(&s);
    h.kind = 42;
    // Whatever the body holds: this release cannot read it.
    let newer = sign_raw(&net.keys[1], &h, s.body.clone());
    check(&net, &newer.encode(), Err(RecordError::UnknownKind(42)));
    let mut forged = newer.clone();
    forged.signature[3] ^= 1;
    check(
        &net,
        &forged.encode(),
        Err(RecordError::BadSignature(net.keys[1].public_key().to_hex())),
    );
    let stranger = SecretKey::from_seed([77; 32]);
    let mut by_stranger = h.clone();
    by_stranger.author = stranger.public_key().as_bytes().to_vec();
    check(
        &net,
        &sign_raw(&stranger, &by_stranger, s.body.clone()).encode(),
        Err(RecordError::UnknownAuthor(stranger.public_key().to_hex())),
    );
    let mut elsewhere = h.clone();
    elsewhere.network_id = vec![9; 32];
    assert!(matches!(
        record::verify_record(
            &sign_raw(&net.keys[1], &elsewhere, s.body.clone()).encode(),
            &net.charter,
            NOW
        ),
        Err(RecordError::WrongNetwork { .. })
    ));
    check(
        &net,
        &sign_raw(&net.keys[1], &h, b"other body".to_vec()).encode(),
        Err(RecordError::BodyLengthMismatch {
            declared: s.body.len() as u64,
            actual: 10,
        }),
    );
    // Unspecified (0) and negative kinds are no kind in any version: malformed.
    for kind in [0, -1] {
        h.kind = kind;
        check(
            &net,
            &sign_raw(&net.keys[1], &h, s.body.clone()).encode(),
            Err(RecordError::BadHeaderField {
                field: "kind",
                problem: format!("{kind} is no kind"),
            }),
        );
    }
}

#[test]
fn too_large_record_is_refused() {
    let net = net();
    let max = net.charter.limits().max_record_bytes;
    let bytes = vec![0u8; max as usize + 1];
    check(
        &net,
        &bytes,
        Err(RecordError::TooLarge {
            size: bytes.len(),
            max,
        }),
    );
}

#[test]
fn garbage_and_truncated_protobuf_is_malformed() {
    let net = net();
    let got = record::verify_record(&[0xff, 0xff, 0xff], &net.charter, NOW);
    assert!(
        matches!(got, Err(RecordError::Malformed { part: "record", .. })),
        "{got:?}"
    );
    let s = signed_practice(&net, 1, Position::FIRST).encode();
    let got = record::verify_record(&s[..s.len() / 2], &net.charter, NOW);
    assert!(matches!(got, Err(RecordError::Malformed { .. })), "{got:?}");
    let garbage_header = SignedRecord {
        header: vec![0x0a, 0x05, 1],
        body: vec![],
        signature: vec![0; 64],
        erasure: Vec::new(),
    };
    let got = record::verify_record(&garbage_header.encode(), &net.charter, NOW);
    assert!(
        matches!(got, Err(RecordError::Malformed { part: "header", .. })),
        "{got:?}"
    );
}

#[test]
fn garbage_body_is_malformed() {
    let net = net();
    let s = signed_practice(&net, 1, Position::FIRST);
    let mut h = header_of(&s);
    let body = vec![0x0a, 0xff, 0xff];
    h.body_sha256 = sha256(&body).to_vec();
    h.body_len = body.len() as u64;
    let bad = sign_raw(&net.keys[1], &h, body);
    let got = record::verify_record(&bad.encode(), &net.charter, NOW);
    assert!(
        matches!(got, Err(RecordError::Malformed { part: "body", .. })),
        "{got:?}"
    );
}

#[test]
fn missing_title_is_refused() {
    let net = net();
    let body = Body::Practice(pb::Practice {
        summary: Some(pb::LocalizedText {
            text: [("en".into(), "s".into())].into(),
        }),
        country: "KZ".into(),
        topics: vec!["training".into()],
        ..pb::Practice::default()
    });
    let s = record::sign(
        &net.keys[1],
        net.charter.network_id(),
        Position::FIRST,
        NOW,
        &body,
    );
    check(
        &net,
        &s.encode(),
        Err(RecordError::Body(BodyError::MissingField {
            field: "title".into(),
        })),
    );
}

#[test]
fn empty_localized_map_is_refused() {
    let mut j = practice_json();
    j["title"] = serde_json::json!({});
    check_body(
        j,
        BodyError::EmptyLocalized {
            field: "title".into(),
        },
    );
}

#[test]
fn invalid_language_tag_is_refused() {
    let mut j = practice_json();
    j["title"] = serde_json::json!({"not a tag!": "x"});
    check_body(
        j,
        BodyError::InvalidLanguageTag {
            field: "title".into(),
            tag: "not a tag!".into(),
        },
    );
}

#[test]
fn invalid_country_is_refused() {
    let mut j = practice_json();
    j["country"] = serde_json::json!("XX");
    check_body(
        j,
        BodyError::InvalidCountry {
            field: "country".into(),
            value: "XX".into(),
        },
    );
    let mut j = practice_json();
    j["country"] = serde_json::json!("kz");
    check_body(
        j,
        BodyError::InvalidCountry {
            field: "country".into(),
            value: "kz".into(),
        },
    );
}

#[test]
fn field_over_limit_is_refused() {
    let net = net();
    let max = net.charter.limits().max_short_text_bytes;
    let mut j = practice_json();
    j["title"] = serde_json::json!({"en": "x".repeat(max as usize + 1)});
    check_body(
        j,
        BodyError::FieldTooLong {
            field: "title.en".into(),
            len: max as usize + 1,
            max,
        },
    );
}

#[test]
fn unknown_topic_is_refused() {
    let mut j = practice_json();
    j["topics"] = serde_json::json!(["astrology"]);
    check_body(
        j,
        BodyError::UnknownTopic {
            field: "topics".into(),
            slug: "astrology".into(),
        },
    );
}

#[test]
fn event_rules_are_enforced() {
    let net = net();
    let event = serde_json::json!({
        "kind": "event", "title": {"en": "Forum"}, "event_type": "conference",
        "start": "2027-03-15T09:00", "end": "2027-03-16T18:00", "time_zone": "Asia/Almaty"
    });
    assert!(body_from(&event, &net).is_ok());
    let mut e = event.clone();
    e["end"] = serde_json::json!("2027-03-14T09:00");
    assert!(matches!(
        body_from(&e, &net),
        Err(DraftError::Invalid(BodyError::EndBeforeStart { .. }))
    ));
    let mut e = event.clone();
    e["end"] = e["start"].clone();
    assert!(
        body_from(&e, &net).is_ok(),
        "an event may end when it starts"
    );
    let mut e = event.clone();
    e["languages"] = serde_json::json!(["ru", "kk", "en-GB"]);
    assert!(body_from(&e, &net).is_ok(), "distinct language tags");
    e["languages"] = serde_json::json!(["ru", "not a tag"]);
    assert!(matches!(
        body_from(&e, &net),
        Err(DraftError::Invalid(BodyError::InvalidLanguageTag { ref tag, .. })) if tag == "not a tag"
    ));
    e["languages"] = serde_json::json!(["ru", "kk", "RU"]);
    assert!(matches!(
        body_from(&e, &net),
        Err(DraftError::Invalid(BodyError::Duplicate { ref value, .. })) if value == "RU"
    ));
    let mut e = event.clone();
    e["time_zone"] = serde_json::json!("Mars/Olympus");
    assert!(matches!(
        body_from(&e, &net),
        Err(DraftError::Invalid(BodyError::InvalidTimeZone { .. }))
    ));
    for bad in ["2027-2-1T9:5", "2027-03-15 09:00", "2027-03-15T09:00Z"] {
        let mut e = event.clone();
        e["start"] = serde_json::json!(bad);
        assert!(
            matches!(
                body_from(&e, &net),
                Err(DraftError::Invalid(BodyError::InvalidDate { .. }))
            ),
            "{bad}"
        );
    }
    for (deadline, ok) in [
        ("2027-03-01", true),
        ("2027-03-01T18:00", true),
        ("2027", false),
        ("2027-03", false),
    ] {
        let mut e = event.clone();
        e["registration_deadline"] = serde_json::json!(deadline);
        assert_eq!(body_from(&e, &net).is_ok(), ok, "{deadline}");
    }
    let mut e = event.clone();
    e["start"] = serde_json::json!("15.03.2027");
    assert!(matches!(
        body_from(&e, &net),
        Err(DraftError::Invalid(BodyError::InvalidDate { .. }))
    ));
    let mut e = event;
    e["online_url"] = serde_json::json!("javascript:alert(1)");
    assert!(matches!(
        body_from(&e, &net),
        Err(DraftError::Invalid(BodyError::InvalidUrl { .. }))
    ));
}

#[test]
fn draft_with_unknown_or_missing_fields_is_refused() {
    let mut j = practice_json();
    j["colour"] = serde_json::json!("blue");
    let got = Draft::parse(&j.to_string(), DraftFormat::Json);
    assert!(
        matches!(got, Err(DraftError::UnknownField(ref m)) if m.contains("colour")),
        "{got:?}"
    );
    let mut j = practice_json();
    j.as_object_mut().expect("object").remove("summary");
    let got = Draft::parse(&j.to_string(), DraftFormat::Json);
    assert!(
        matches!(got, Err(DraftError::MissingField(ref m)) if m.contains("summary")),
        "{got:?}"
    );
    let got = Draft::parse(
        "kind = \"practice\"\ntitle = { en = \"t\" }\n",
        DraftFormat::Toml,
    );
    assert!(matches!(got, Err(DraftError::MissingField(_))), "{got:?}");
    let mut j = practice_json();
    j["topics"] = serde_json::json!("unknown field");
    let got = Draft::parse(&j.to_string(), DraftFormat::Json);
    assert!(
        matches!(got, Err(DraftError::Syntax(_))),
        "a wrong type is not an unknown field: {got:?}"
    );
    let got = Draft::parse("kind = \"practice\"\ncolour = 1\n", DraftFormat::Toml);
    assert!(matches!(got, Err(DraftError::UnknownField(_))), "{got:?}");
    let got = Draft::parse("{\"kind\": \"essay\"}", DraftFormat::Json);
    assert!(matches!(got, Err(DraftError::UnknownField(_))), "{got:?}");
}

#[test]
fn smallest_practice_draft_takes_the_authors_country() {
    let net = net();
    let j = serde_json::json!({"kind": "practice", "title": {"en": "T"}, "summary": {"en": "S"}, "topics": ["training"]});
    match body_from(&j, &net) {
        Ok(Body::Practice(p)) => assert_eq!(p.country, "KZ"),
        other => panic!("expected a practice, got {other:?}"),
    }
}

fn verified(net: &Net, s: &SignedRecord) -> Record {
    record::verify_record(&s.encode(), &net.charter, NOW).expect("valid")
}

fn head(r: &Record) -> ChainHead {
    ChainHead {
        seq: r.header.seq,
        id: r.id,
        created_at: r.header.created_at,
    }
}

#[test]
fn chain_rules() {
    let net = net();
    let first = verified(&net, &signed_practice(&net, 1, Position::FIRST));
    assert_eq!(chain::check_append(&first, None, None), Ok(Append::Extends));
    assert_eq!(
        chain::check_append(&first, Some(&head(&first)), Some(first.id)),
        Ok(Append::AlreadyStored)
    );

    // A different record at seq 1: a repeated seq (fork).
    let mut other = signed_practice(&net, 1, Position::FIRST);
    let mut h = header_of(&other);
    h.created_at += 1;
    other = sign_raw(&net.keys[1], &h, other.body);
    let other = verified(&net, &other);
    assert_eq!(
        chain::check_append(&other, Some(&head(&first)), Some(first.id)),
        Err(ChainError::SeqRepeated {
            author: net.keys[1].public_key().to_hex(),
            seq: 1,
            existing: first.id
        })
    );

    // seq 3 after seq 1: a gap.
    let skip = Position {
        seq: 3,
        prev: Some(first.id),
        prev_created_at: NOW,
    };
    let skip = verified(&net, &signed_practice(&net, 1, skip));
    assert_eq!(
        chain::check_append(&skip, Some(&head(&first)), None),
        Err(ChainError::SeqGap {
            author: net.keys[1].public_key().to_hex(),
            expected: 2,
            got: 3
        })
    );

    // seq 2 whose prev is not seq 1's id.
    let wrong = Position {
        seq: 2,
        prev: Some(crate::RecordId([5; 32])),
        prev_created_at: NOW,
    };
    let wrong = verified(&net, &signed_practice(&net, 1, wrong));
    assert!(matches!(
        chain::check_append(&wrong, Some(&head(&first)), None),
        Err(ChainError::WrongPrev { .. })
    ));

    // seq 2 created before seq 1.
    let earlier = Position {
        seq: 2,
        prev: Some(first.id),
        prev_created_at: i64::MIN,
    };
    let body = body_from(&practice_json(), &net).expect("valid");
    let earlier = record::sign(
        &net.keys[1],
        net.charter.network_id(),
        earlier,
        NOW - 1,
        &body,
    );
    let earlier = verified(&net, &earlier);
    assert_eq!(
        chain::check_append(&earlier, Some(&head(&first)), None),
        Err(ChainError::TimeBeforePrev {
            created_at: NOW - 1,
            prev_created_at: NOW,
        })
    );

    // seq 2 created in the same millisecond as seq 1: a log's times never decrease, and may
    // stay equal.
    let same_time = verified(&net, &signed_practice(&net, 1, Position::after(&first)));
    assert_eq!(same_time.header.created_at, first.header.created_at);
    assert_eq!(
        chain::check_append(&same_time, Some(&head(&first)), None),
        Ok(Append::Extends)
    );
}

#[test]
fn target_rules() {
    let net = net();
    let target = "ab".repeat(32);
    let retraction =
        serde_json::json!({"kind": "retraction", "target": target, "reason": {"en": "Superseded"}});
    let body = body_from(&retraction, &net).expect("valid");
    let pos = Position {
        seq: 2,
        prev: Some(crate::RecordId([1; 32])),
        prev_created_at: NOW,
    };
    let r = verified(
        &net,
        &record::sign(&net.keys[1], net.charter.network_id(), pos, NOW, &body),
    );
    let id = crate::RecordId([0xab; 32]);
    let info = |same_author, kind, retracted| {
        Some(TargetInfo {
            same_author,
            kind,
            retracted,
            erased: false,
        })
    };
    assert_eq!(
        chain::check_target(&r, None),
        Err(ChainError::TargetNotFound(id))
    );
    assert_eq!(
        chain::check_target(&r, info(false, Kind::Practice, false)),
        Err(ChainError::TargetNotFound(id))
    );
    assert_eq!(
        chain::check_target(&r, info(true, Kind::Retraction, false)),
        Err(ChainError::TargetNotOriginal(id, "retraction"))
    );
    assert_eq!(
        chain::check_target(&r, info(true, Kind::Practice, true)),
        Err(ChainError::TargetRetracted(id))
    );
    assert_eq!(
        chain::check_target(&r, info(true, Kind::Practice, false)),
        Ok(())
    );

    let amendment = serde_json::json!({"kind": "amendment", "target": "ab".repeat(32), "record": practice_json()});
    let body = body_from(&amendment, &net).expect("valid");
    let a = verified(
        &net,
        &record::sign(&net.keys[1], net.charter.network_id(), pos, NOW, &body),
    );
    assert_eq!(
        chain::check_target(&a, info(true, Kind::Event, false)),
        Err(ChainError::TargetKindMismatch {
            target: "event",
            content: "practice"
        })
    );
    assert_eq!(
        chain::check_target(&a, info(true, Kind::Practice, false)),
        Ok(())
    );
}

#[test]
fn batch_verification_agrees_with_single() {
    let net = net();
    let mut items = Vec::new();
    let mut position = Position::FIRST;
    for i in 0..10 {
        let mut s = signed_practice(&net, 1, position);
        let r = verified(&net, &s);
        position = Position {
            seq: r.header.seq + 1,
            prev: Some(r.id),
            prev_created_at: NOW,
        };
        if i == 4 {
            s.signature[0] ^= 1;
        }
        items.push(record::precheck(&s.encode(), &net.charter, NOW).expect("prechecks"));
    }
    let results = record::verify_batch(items.clone());
    assert_eq!(results.iter().filter(|r| r.is_err()).count(), 1);
    assert!(results[4].is_err());
    items.remove(4);
    assert!(record::verify_batch(items).iter().all(Result::is_ok));
}

#[test]
fn bundle_check_reports_per_member() {
    let net = net();
    let first = signed_practice(&net, 1, Position::FIRST);
    let r = verified(&net, &first);
    let second = signed_practice(
        &net,
        1,
        Position {
            seq: 2,
            prev: Some(r.id),
            prev_created_at: NOW,
        },
    );
    let mut check = crate::bundle::BundleCheck::new(&net.charter, NOW);
    check.add(&second.encode());
    check.add(&first.encode());
    let report = check.finish();
    assert!(report.is_clean(), "{:?}", report.problems);
    let kz = report.members.iter().find(|m| m.code == "KZ").expect("KZ");
    assert_eq!((kz.records, kz.head_seq), (2, 2));

    // A gap and a forged record are both reported.
    let mut check = crate::bundle::BundleCheck::new(&net.charter, NOW);
    check.add(&second.encode());
    let mut forged = first.clone();
    forged.signature[3] ^= 4;
    check.add(&forged.encode());
    let report = check.finish();
    assert_eq!(report.problems.len(), 2, "{:?}", report.problems);
}

#[test]
fn bundle_check_finds_a_bad_signature_inside_a_batch() {
    // 150 records: two full batches and a partial one; the forgery sits in the second batch.
    let net = net();
    let mut log = Vec::new();
    let mut pos = Position::FIRST;
    for _ in 0..150 {
        let s = signed_practice(&net, 1, pos);
        pos = Position {
            seq: pos.seq + 1,
            prev: Some(s.id()),
            prev_created_at: NOW,
        };
        log.push(s);
    }
    let forged_at = 100;
    log[forged_at].signature[7] ^= 1;
    let mut check = crate::bundle::BundleCheck::new(&net.charter, NOW);
    for s in &log {
        check.add(&s.encode());
    }
    let report = check.finish();
    assert_eq!(report.records_read, 150);
    let forgeries: Vec<_> = report
        .problems
        .iter()
        .filter(|p| p.kind == crate::bundle::ProblemKind::Forgery)
        .collect();
    assert_eq!(forgeries.len(), 1, "{:?}", report.problems);
    assert_eq!(forgeries[0].record, Some(log[forged_at].id()));
    assert_eq!(forgeries[0].seq, Some(forged_at as u64 + 1));
    // Every other record was kept: the log holds 149, with a gap where the forgery was.
    let kz = report.members.iter().find(|m| m.code == "KZ").expect("KZ");
    assert_eq!((kz.records, kz.head_seq), (149, forged_at as u64));

    // Problems come in the order of the records, whether a signature (checked in batches) or a
    // rule (checked at once) fails, the last partial batch and the damage included.
    log[forged_at].signature[7] ^= 1;
    log[10].signature[0] ^= 1;
    log[140].signature[0] ^= 1;
    let mut check = crate::bundle::BundleCheck::new(&net.charter, NOW);
    for (i, s) in log.iter().enumerate() {
        let mut bytes = s.encode();
        if i == 20 {
            bytes.truncate(5);
        }
        check.add(&bytes);
    }
    check.damaged("cut".into());
    let report = check.finish();
    let order: Vec<Option<u64>> = report
        .problems
        .iter()
        .filter(|p| {
            matches!(
                p.kind,
                crate::bundle::ProblemKind::Forgery | crate::bundle::ProblemKind::Damaged
            )
        })
        .map(|p| p.seq)
        .collect();
    assert_eq!(
        order,
        vec![Some(11), None, Some(141), None],
        "{:?}",
        report.problems
    );
}

fn lang() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "en", "ru", "kk", "ky", "uz", "tg", "az", "hy", "ka", "uz-Cyrl",
    ])
    .prop_map(String::from)
}

fn localized(max_len: usize) -> impl Strategy<Value = std::collections::BTreeMap<String, String>> {
    prop::collection::btree_map(
        lang(),
        "[a-zA-Zа-яА-ЯәғқңөұүһіЁё0-9 ,.]{1,40}".prop_filter("non-blank", |s| !s.trim().is_empty()),
        1..4,
    )
    .prop_map(move |m| {
        m.into_iter()
            .map(|(k, v)| (k, v.chars().take(max_len).collect()))
            .collect()
    })
}

/// The topic slugs of the template vocabulary.
fn template_topics() -> Vec<String> {
    crate::Rules::template()
        .vocabulary
        .topics
        .iter()
        .map(|t| t.slug.clone())
        .collect()
}

fn practice_draft() -> impl Strategy<Value = Draft> {
    (
        localized(100),
        localized(400),
        prop::sample::subsequence(template_topics(), 1..4),
        prop::option::of(localized(400)),
    )
        .prop_map(|(title, summary, topics, body)| {
            Draft::Practice(crate::draft::PracticeDraft {
                title,
                summary,
                topics,
                body,
                ..Default::default()
            })
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn valid_records_round_trip(draft in practice_draft(), seq in 1u64..1000, skew in 0i64..300_000) {
        let net = net();
        let body = draft.to_body("KZ", &net.charter.rules()).expect("generated drafts are valid");
        let prev = (seq > 1).then_some(crate::RecordId([7; 32]));
        let signed = record::sign(&net.keys[1], net.charter.network_id(), Position { seq, prev, prev_created_at: 0 }, NOW + skew, &body);
        let bytes = signed.encode();
        let r = record::verify_record(&bytes, &net.charter, NOW).expect("verifies");
        prop_assert_eq!(&r.body, &body);
        prop_assert_eq!(r.header.seq, seq);
        prop_assert_eq!(r.signed.encode(), bytes);
        prop_assert_eq!(Draft::from_body(&r.body), Some(draft_with_country(draft)));
    }

    #[test]
    fn any_single_byte_change_is_rejected(index in any::<prop::sample::Index>(), delta in 1u8..=255) {
        let net = net();
        let mut bytes = signed_practice(&net, 1, Position::FIRST).encode();
        let i = index.index(bytes.len());
        bytes[i] = bytes[i].wrapping_add(delta);
        prop_assert!(record::verify_record(&bytes, &net.charter, NOW).is_err());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let net = net();
        let _ = record::verify_record(&bytes, &net.charter, NOW);
        for kind in [Kind::Practice, Kind::Event, Kind::Amendment, Kind::Retraction] {
            let _ = Body::decode(kind, &bytes, &net.charter.rules());
        }
    }

    #[test]
    fn arbitrary_signed_headers_and_bodies_never_panic(
        header in prop::collection::vec(any::<u8>(), 0..256),
        body in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        let net = net();
        let signature = net.keys[1].sign(&signing_message(&header)).to_vec();
        let s = SignedRecord { header, body, signature, erasure: Vec::new() };
        let _ = record::verify_record(&s.encode(), &net.charter, NOW);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_charters_and_drafts_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..1024),
        text in ".{0,400}",
    ) {
        let signed = pb::SignedCharter { charter: bytes.clone(), signatures: vec![pb::CharterSignature { key: bytes.clone(), signature: bytes.clone() }] };
        let _ = Charter::from_signed(&signed);
        let _ = pb::SignedCharter::decode(bytes.as_slice()).map(|s| Charter::from_signed(&s));
        let _ = crate::charter::CharterDoc::from_toml(&text);
        let _ = Draft::parse(&text, DraftFormat::Json);
        let _ = Draft::parse(&text, DraftFormat::Toml);
    }
}

fn draft_with_country(draft: Draft) -> Draft {
    match draft {
        Draft::Practice(mut p) => {
            p.country.get_or_insert_with(|| "KZ".into());
            Draft::Practice(p)
        }
        other => other,
    }
}

#[test]
fn reform_period_compares_whole_periods() {
    let net = net();
    let mut j = practice_json();
    j["reform_period"] = serde_json::json!({"start": "2019-06", "end": "2019"});
    assert!(
        body_from(&j, &net).is_ok(),
        "a period may end in the year it started"
    );
    j["reform_period"] = serde_json::json!({"start": "2019-06-30", "end": "2019-06-30"});
    assert!(
        body_from(&j, &net).is_ok(),
        "a period may end on the day it started"
    );
    j["reform_period"] = serde_json::json!({"start": "2019", "end": "2018-12"});
    assert!(matches!(
        body_from(&j, &net),
        Err(DraftError::Invalid(BodyError::EndBeforeStart { .. }))
    ));
    j["reform_period"] = serde_json::json!({"start": "2019-06-15", "end": "2019-06"});
    assert!(
        body_from(&j, &net).is_ok(),
        "a month names its last day too: a period may end in the month it started"
    );
    j["reform_period"] = serde_json::json!({"start": "2019-13"});
    assert!(matches!(
        body_from(&j, &net),
        Err(DraftError::Invalid(BodyError::InvalidDate { .. }))
    ));
    // chrono would take each of these (it skips spaces before a number): only the shape check
    // of each length refuses them.
    for bad in [" 201", "2019- 6", "2019-06- 5"] {
        j["reform_period"] = serde_json::json!({ "start": bad });
        assert!(
            matches!(
                body_from(&j, &net),
                Err(DraftError::Invalid(BodyError::InvalidDate { .. }))
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn batch_refuses_small_order_and_non_canonical_r_like_strict() {
    let net = net();
    let good = signed_practice(&net, 1, Position::FIRST);
    let mut identity_r = [0u8; 32];
    identity_r[0] = 1;
    let mut non_canonical_r = [0xffu8; 32];
    non_canonical_r[0] = 0xee;
    non_canonical_r[31] = 0x7f;
    for r in [identity_r, non_canonical_r] {
        let mut bad = good.clone();
        bad.signature[..32].copy_from_slice(&r);
        let bytes = bad.encode();
        let single = record::verify_record(&bytes, &net.charter, NOW);
        assert!(matches!(single, Err(RecordError::BadSignature(_))));
        let batch = vec![
            record::precheck(&good.encode(), &net.charter, NOW).expect("prechecks"),
            record::precheck(&bytes, &net.charter, NOW).expect("prechecks"),
        ];
        let results = record::verify_batch(batch);
        assert!(results[0].is_ok());
        assert!(matches!(results[1], Err(RecordError::BadSignature(_))));
    }
}

#[test]
fn bundle_check_survives_the_largest_seq() {
    let net = net();
    let last = Position {
        seq: u64::MAX,
        prev: Some(crate::RecordId([1; 32])),
        prev_created_at: NOW,
    };
    let s = signed_practice(&net, 1, last);
    let mut check = crate::bundle::BundleCheck::new(&net.charter, NOW);
    check.add(&s.encode());
    let report = check.finish();
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert!(report.problems[0].message.starts_with("gap: seqs 1 to"));
}

/// The problems of one kind a `BundleCheck` of `records` reports.
fn bundle_problems<'a>(
    charter: &Charter,
    now: i64,
    records: impl IntoIterator<Item = &'a SignedRecord>,
    kind: crate::bundle::ProblemKind,
) -> Vec<crate::bundle::Problem> {
    let mut check = crate::bundle::BundleCheck::new(charter, now);
    for s in records {
        check.add(&s.encode());
    }
    check
        .finish()
        .problems
        .into_iter()
        .filter(|p| p.kind == kind)
        .collect()
}

/// Issue 13's finding: a log of 41 records whose last signature has a torsion component in `R`
/// (valid under the cofactored equation only) was accepted by some batches and not others. Every
/// check now refuses it, whatever its neighbours and wherever it sits in a batch.
#[test]
fn a_torsion_component_in_r_is_refused_whatever_the_neighbours() {
    use crate::signature::vectors::{Defect, sign_with};
    let net = net();
    let chain = |key: usize, n: usize| -> Vec<SignedRecord> {
        let mut pos = Position::FIRST;
        (0..n)
            .map(|_| {
                let s = signed_practice(&net, key, pos);
                pos = Position {
                    seq: pos.seq + 1,
                    prev: Some(s.id()),
                    prev_created_at: NOW,
                };
                s
            })
            .collect()
    };
    let mut log = chain(1, 41);
    let seed = net.keys[1].seed();
    for torsion in 1..8 {
        let last = log.last_mut().expect("41 records");
        last.signature = sign_with(
            &seed,
            &signing_message(&last.header),
            Defect::TorsionInR(torsion),
        )
        .to_vec();
        let bad = last.id();
        let neighbours = chain(0, 60);
        // 24 runs, each with other neighbours before and after the record.
        for run in 0..24usize {
            let before = &neighbours[..run];
            let after = &neighbours[run..run + 1 + run % 5];
            let records: Vec<&SignedRecord> =
                before.iter().chain(&log).chain(after.iter()).collect();
            let pre: Vec<_> = records
                .iter()
                .map(|s| record::precheck(&s.encode(), &net.charter, NOW).expect("prechecks"))
                .collect();
            for (s, verdict) in records.iter().zip(record::verify_batch(pre)) {
                let want_ok = s.id() != bad;
                assert_eq!(verdict.is_ok(), want_ok, "torsion {torsion}, run {run}");
            }
            let forgeries = bundle_problems(
                &net.charter,
                NOW,
                records.iter().copied(),
                crate::bundle::ProblemKind::Forgery,
            );
            assert_eq!(forgeries.len(), 1, "torsion {torsion}, run {run}");
            assert_eq!(forgeries[0].record, Some(bad));
        }
        assert!(record::verify_record(&log[40].encode(), &net.charter, NOW).is_err());
    }
}

/// A network whose charter allows `per_hour` records per key per hour.
fn rated_net(per_hour: u64) -> Net {
    let (mut doc, keys, committee) = sample(3);
    doc.limits.max_records_per_hour = per_hour;
    doc.signatures.clear();
    doc.sign(&committee[0]).expect("committee key");
    doc.sign(&committee[1]).expect("committee key");
    Net {
        charter: doc.verify().expect("valid"),
        keys,
    }
}

/// The rate rule on one place: `times[i]` is the time of seq `i + 1`.
fn check_rate(limit: Option<u64>, times: &[i64], seq: u64, at: i64) -> Result<(), ChainError> {
    let author = SecretKey::from_seed([9; 32]).public_key();
    let place = chain::RatePlace {
        author: &author,
        seq,
        created_at: at,
    };
    chain::check_rate(place, limit, |s| {
        times.get(usize::try_from(s).ok()?.checked_sub(1)?).copied()
    })
}

#[test]
fn rate_rule_counts_records_within_any_hour() {
    const H: i64 = chain::RATE_WINDOW_MS;
    let times = [NOW, NOW + 10, NOW + 20];
    // No limit, or fewer records than the limit: nothing to refuse.
    assert_eq!(check_rate(None, &times, 4, NOW + 30), Ok(()));
    assert_eq!(check_rate(Some(3), &times, 3, NOW + 20), Ok(()));
    // The fourth record within an hour of the first is refused; exactly an hour later it is not.
    let refused = check_rate(Some(3), &times, 4, NOW + H - 1);
    assert_eq!(
        refused,
        Err(ChainError::RateExceeded {
            author: SecretKey::from_seed([9; 32]).public_key().to_hex(),
            seq: 4,
            created_at: NOW + H - 1,
            limit: 3,
            over: 4,
            earlier_seq: 1,
            window_start: NOW,
            next_allowed: NOW + H,
        })
    );
    assert_eq!(check_rate(Some(3), &times, 4, NOW + H), Ok(()));
    // The window slides: seq 5 counts from seq 2.
    let times = [NOW, NOW + 10, NOW + 20, NOW + H];
    assert!(check_rate(Some(3), &times, 5, NOW + H + 9).is_err());
    assert_eq!(check_rate(Some(3), &times, 5, NOW + H + 10), Ok(()));
    // A limit of one: one record an hour.
    assert!(check_rate(Some(1), &[NOW], 2, NOW + H - 1).is_err());
    assert_eq!(check_rate(Some(1), &[NOW], 2, NOW + H), Ok(()));
    // An earlier record the caller does not hold cannot show a breach.
    assert_eq!(check_rate(Some(1), &[], 2, NOW), Ok(()));
}

#[test]
fn bundle_check_reports_records_over_the_rate_limit() {
    let net = rated_net(2);
    let mut log = Vec::new();
    let mut pos = Position::FIRST;
    for minute in [0i64, 1, 2, 60] {
        let body = body_from(&practice_json(), &net).expect("valid draft");
        let s = record::sign(
            &net.keys[1],
            net.charter.network_id(),
            pos,
            NOW + minute * 60_000,
            &body,
        );
        pos = Position {
            seq: pos.seq + 1,
            prev: Some(s.id()),
            prev_created_at: NOW + minute * 60_000,
        };
        log.push(s);
    }
    let rate = bundle_problems(
        &net.charter,
        NOW + 3_700_000,
        &log,
        crate::bundle::ProblemKind::Chain,
    );
    // Seq 3 (minute 2) is the third within an hour of seq 1; seq 4 (minute 60) the third within
    // an hour of seq 2 (minute 1): both break the rule (at minute 61 seq 4 would not).
    assert_eq!(rate.len(), 2, "{rate:?}");
    assert_eq!(rate[0].seq, Some(3));
    assert_eq!(rate[1].seq, Some(4));
    assert!(
        rate[0]
            .message
            .contains("at most 2 records within any hour")
    );
}

#[test]
fn rate_limit_amendments_may_only_raise_and_absence_keeps_old_charters() {
    use crate::Limits;
    let limited = Limits::DEFAULT;
    let mut higher = limited;
    higher.max_records_per_hour = 5000;
    let mut none = limited;
    none.max_records_per_hour = 0;
    assert_eq!(limited.check_raised(&higher), Ok(()));
    assert_eq!(
        limited.check_raised(&none),
        Ok(()),
        "no limit allows the most"
    );
    assert!(
        none.check_raised(&limited).is_err(),
        "a limit where none was lowers it"
    );
    assert!(higher.check_raised(&limited).is_err());
    // A charter that names no rate limit has none, and encodes without the field, so charters
    // written before the rule keep their bytes and network id.
    let (mut doc, _, _) = sample(1);
    let text = doc.to_toml().replace("max_records_per_hour = 1000\n", "");
    assert!(!text.contains("max_records_per_hour"));
    doc = crate::charter::CharterDoc::from_toml(&text).expect("parses");
    assert_eq!(doc.limits.max_records_per_hour, 0);
    assert_eq!(doc.limits.records_per_hour(), None);
    let bytes = doc.canonical_bytes().expect("encodes");
    let limits = pb::Charter::decode(bytes.as_slice())
        .expect("decodes")
        .limits
        .expect("limits");
    assert_eq!(limits.max_records_per_hour, 0);
    let mut with = doc.clone();
    with.limits.max_records_per_hour = 1000;
    assert_ne!(with.canonical_bytes().expect("encodes"), bytes);
}

/// The one helper of the encoded-size tests: a record of these part lengths is as long as its
/// encoding says, since the size limit is judged on `encoded_len` and the bytes are what travels.
fn check_encoded_len(header: usize, body: usize, signature: usize) {
    let s = SignedRecord {
        header: vec![0xa5; header],
        body: vec![0x5a; body],
        signature: vec![7; signature],
        erasure: Vec::new(),
    };
    assert_eq!(
        s.encoded_len(),
        s.encode().len(),
        "header {header}, body {body}, signature {signature} bytes"
    );
}

#[test]
fn encoded_len_is_the_length_of_the_encoding() {
    // Empty parts are left out of the encoding; lengths at each varint boundary take one more
    // byte of length prefix.
    for len in [0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152] {
        check_encoded_len(len, 0, 0);
        check_encoded_len(0, len, 0);
        check_encoded_len(0, 0, len);
        check_encoded_len(len, len, 64);
    }
    let net = net();
    let signed = signed_practice(&net, 1, Position::FIRST);
    assert_eq!(signed.encoded_len(), signed.encode().len());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn encoded_len_matches_any_encoding(header in 0usize..300, body in 0usize..20_000, signature in 0usize..200) {
        check_encoded_len(header, body, signature);
    }
}

/// Decoding keeps what prost's generated `Vec<u8>` fields did: a field given twice keeps its last
/// value, unknown fields are skipped, and a field of the wrong wire type is refused.
#[test]
fn a_record_decodes_as_the_generated_message_did() {
    // header = [1], header = [2, 3], field 9 (varint 5, unknown), signature = [4]
    let bytes = [0x0a, 1, 1, 0x0a, 2, 2, 3, 0x48, 5, 0x1a, 1, 4];
    let s = SignedRecord::decode(&bytes).expect("decodes");
    assert_eq!(s.header, vec![2, 3]);
    assert_eq!(s.signature, vec![4]);
    assert!(s.body.is_empty() && s.erasure.is_empty());
    // header as a varint: the wrong wire type
    assert!(matches!(
        SignedRecord::decode(&[0x08, 1]),
        Err(RecordError::Malformed { part: "record", .. })
    ));
    // a length past the end
    assert!(SignedRecord::decode(&[0x12, 5, 1]).is_err());
}

/// A bytes field of a record for the encoding property: empty, or 1 to `max - 1` bytes.
fn field(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => Just(Vec::new()),
        2 => proptest::collection::vec(any::<u8>(), 1..max),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// `SignedRecord::encode` writes its fields itself (each field empty in about a third of the
    /// cases, as an erased record's body is): its bytes are the generated message's,
    /// whatever fields are empty, and they decode back to the same record (ids and signatures
    /// are computed over these bytes, so one byte of difference is another record).
    #[test]
    fn a_record_encodes_as_the_generated_message_does(
        header in field(300),
        body in field(3_000),
        signature in field(100),
        erasure in field(300),
    ) {
        let s = SignedRecord { header, body, signature, erasure };
        let generated = pb::SignedRecord {
            header: s.header.clone().into(),
            body: s.body.clone().into(),
            signature: s.signature.clone().into(),
            erasure: s.erasure.clone().into(),
        }
        .encode_to_vec();
        let encoded = s.encode();
        prop_assert_eq!(&encoded, &generated);
        prop_assert_eq!(SignedRecord::decode(&encoded).expect("decodes"), s);
    }
}

/// A practice that passes every rule under [`crate::Limits::DEFAULT`], built without a draft so
/// that each size test changes one field.
fn valid_practice() -> pb::Practice {
    let text = |s: &str| {
        Some(pb::LocalizedText {
            text: [("en".to_owned(), s.to_owned())].into(),
        })
    };
    pb::Practice {
        title: text("Merit-based recruitment"),
        summary: text("Open competitions."),
        country: "KZ".into(),
        topics: vec!["recruitment".into()],
        ..pb::Practice::default()
    }
}

/// The one helper of the size-limit tests: `set(practice, n)` gives a valid practice a value of
/// `n` bytes or items; at `at` the practice is valid, at `at + 1` it is refused with `over`.
fn check_limit(
    limits: &crate::Limits,
    set: impl Fn(&mut pb::Practice, usize),
    at: usize,
    over: BodyError,
) {
    let rules = crate::Rules {
        limits,
        ..crate::Rules::template()
    };
    let mut p = valid_practice();
    set(&mut p, at);
    assert_eq!(
        crate::kinds::practice::validate(&p, &rules),
        Ok(()),
        "at {at}"
    );
    let mut p = valid_practice();
    set(&mut p, at + 1);
    assert_eq!(
        crate::kinds::practice::validate(&p, &rules),
        Err(over),
        "at {}",
        at + 1
    );
}

#[test]
fn each_size_limit_admits_its_value_and_refuses_one_more() {
    let limits = crate::Limits::DEFAULT;
    let l = |n: u64| usize::try_from(n).expect("fits");
    let en = |n: usize| {
        Some(pb::LocalizedText {
            text: [("en".to_owned(), "x".repeat(n))].into(),
        })
    };
    let too_long = |field: &str, max: u64| BodyError::FieldTooLong {
        field: field.into(),
        len: l(max) + 1,
        max,
    };
    let short = limits.max_short_text_bytes;
    let summary = limits.max_summary_bytes;
    check_limit(
        &limits,
        |p, n| p.title = en(n),
        l(short),
        too_long("title.en", short),
    );
    check_limit(
        &limits,
        |p, n| p.summary = en(n),
        l(summary),
        too_long("summary.en", summary),
    );
    check_limit(
        &limits,
        |p, n| p.results = en(n),
        l(summary),
        too_long("results.en", summary),
    );
    let body = limits.max_body_bytes;
    check_limit(
        &limits,
        |p, n| p.body = en(n),
        l(body),
        too_long("body.en", body),
    );
    let contact = |name: String, email: String| pb::Contact {
        name,
        email,
        ..pb::Contact::default()
    };
    check_limit(
        &limits,
        |p, n| p.contacts = vec![contact("x".repeat(n), String::new())],
        l(short),
        too_long("contacts[0].name", short),
    );
    check_limit(
        &limits,
        |p, n| {
            p.contacts = vec![contact(
                "N".into(),
                format!("{}@example.org", "a".repeat(n - 12)),
            )]
        },
        l(short),
        too_long("contacts[0].email", short),
    );
    let url = limits.max_url_bytes;
    check_limit(
        &limits,
        |p, n| {
            p.links = vec![pb::Link {
                url: format!("https://example.org/{}", "a".repeat(n - 20)),
                ..pb::Link::default()
            }]
        },
        l(url),
        too_long("links[0].url", url),
    );
    const TAGS: [&str; 17] = [
        "en", "ru", "kk", "ky", "uz", "tg", "az", "hy", "ka", "de", "fr", "es", "it", "pt", "nl",
        "pl", "tr",
    ];
    check_limit(
        &limits,
        |p, n| {
            p.title = Some(pb::LocalizedText {
                text: TAGS[..n]
                    .iter()
                    .map(|t| (t.to_string(), "T".into()))
                    .collect(),
            })
        },
        l(limits.max_languages),
        BodyError::TooManyLanguages {
            field: "title".into(),
            count: l(limits.max_languages) + 1,
            max: limits.max_languages,
        },
    );
    let items = limits.max_list_items;
    check_limit(
        &limits,
        |p, n| p.institutions = vec![en(1).expect("text"); n],
        l(items),
        BodyError::TooManyItems {
            field: "institutions".into(),
            count: l(items) + 1,
            max: items,
        },
    );
    // The taxonomy has fewer topics than the default list limit: a lower limit shows the
    // boundary for topics.
    let few = crate::Limits {
        max_list_items: 3,
        ..limits
    };
    check_limit(
        &few,
        |p, n| p.topics = template_topics()[..n].to_vec(),
        3,
        BodyError::TooManyItems {
            field: "topics".into(),
            count: 4,
            max: 3,
        },
    );
}

#[test]
fn a_limits_amendment_may_take_effect_when_the_limits_in_force_did() {
    use crate::{AmendmentError, Limits};
    let limits = Limits::DEFAULT;
    assert_eq!(limits.check_amendment(NOW, &limits, NOW), Ok(()));
    assert_eq!(limits.check_amendment(NOW, &limits, NOW + 1), Ok(()));
    assert_eq!(
        limits.check_amendment(NOW, &limits, NOW - 1),
        Err(AmendmentError::BeforeLimitsInForce(NOW))
    );
}

#[test]
fn every_kind_verifies_as_itself() {
    let net = net();
    let target = "ab".repeat(32);
    let event = serde_json::json!({
        "kind": "event", "title": {"en": "Forum"}, "event_type": "conference",
        "start": "2027-03-15T09:00", "time_zone": "Asia/Almaty"
    });
    let amendment =
        serde_json::json!({"kind": "amendment", "target": target, "record": practice_json()});
    let retraction =
        serde_json::json!({"kind": "retraction", "target": target, "reason": {"en": "Superseded"}});
    for (json, kind) in [
        (practice_json(), Kind::Practice),
        (event, Kind::Event),
        (amendment, Kind::Amendment),
        (retraction, Kind::Retraction),
    ] {
        let body = body_from(&json, &net).expect("valid");
        let s = record::sign(
            &net.keys[1],
            net.charter.network_id(),
            Position::FIRST,
            NOW,
            &body,
        );
        let r = verified(&net, &s);
        assert_eq!((r.header.kind, r.body.kind()), (kind, kind));
        assert_eq!(r.body, body);
    }
}

/// Each rule of an e-mail address and of a link refuses on its own: an address or URL that breaks
/// one rule and keeps every other is refused, the well-formed ones pass.
#[test]
fn each_email_and_url_rule_refuses_on_its_own() {
    let net = net();
    let with_email = |email: &str| {
        let mut j = practice_json();
        j["contacts"] = serde_json::json!([{"name": "Aigerim", "email": email}]);
        body_from(&j, &net)
    };
    assert!(with_email("a.nurlanova@gov.kz").is_ok());
    for bad in [
        "@gov.kz",
        "a@govkz",
        "a@.gov.kz",
        "a@gov.kz.",
        "a b@gov.kz",
        "a@b@gov.kz",
        "agov.kz",
    ] {
        assert!(
            matches!(
                with_email(bad),
                Err(DraftError::Invalid(BodyError::InvalidEmail { .. }))
            ),
            "{bad}"
        );
    }
    let with_link = |url: &str| {
        let mut j = practice_json();
        j["links"] = serde_json::json!([{"title": {"en": "Law"}, "url": url}]);
        body_from(&j, &net)
    };
    assert!(with_link("https://adilet.zan.kz/rus/docs/Z1500000416").is_ok());
    for bad in ["ftp://adilet.zan.kz/law", "mailto:a@gov.kz", "https://"] {
        assert!(
            matches!(
                with_link(bad),
                Err(DraftError::Invalid(BodyError::InvalidUrl { .. }))
            ),
            "{bad}"
        );
    }
}

/// A text exactly at its size limit is checked like any other: the languages after it are still
/// checked (a blank one is refused).
#[test]
fn a_text_at_the_limit_does_not_end_the_checks_of_its_other_languages() {
    let net = net();
    let max = usize::try_from(net.charter.limits().max_short_text_bytes).expect("fits");
    let mut j = practice_json();
    j["title"] = serde_json::json!({"en": "a".repeat(max), "ru": "   "});
    assert!(matches!(
        body_from(&j, &net),
        Err(DraftError::Invalid(BodyError::EmptyText { ref lang, .. })) if lang == "ru"
    ));
    j["title"] = serde_json::json!({"en": "a".repeat(max), "ru": "Отбор"});
    assert!(body_from(&j, &net).is_ok());
}

/// A log built for a bundle check: each body signed by KZ's key in order, chained.
fn kz_log(net: &Net, bodies: &[serde_json::Value]) -> Vec<SignedRecord> {
    let mut pos = Position::FIRST;
    let mut out = Vec::new();
    for json in bodies {
        let body = body_from(json, net).expect("valid body");
        let s = record::sign(&net.keys[1], net.charter.network_id(), pos, NOW, &body);
        pos = Position {
            seq: pos.seq + 1,
            prev: Some(s.id()),
            prev_created_at: NOW,
        };
        out.push(s);
    }
    out
}

fn bundle_report(net: &Net, records: &[SignedRecord]) -> crate::bundle::BundleReport {
    let mut check = crate::bundle::BundleCheck::new(&net.charter, NOW);
    for s in records {
        check.add(&s.encode());
    }
    check.finish()
}

fn kinds_of(
    report: &crate::bundle::BundleReport,
) -> Vec<(crate::bundle::ProblemKind, Option<u64>)> {
    report.problems.iter().map(|p| (p.kind, p.seq)).collect()
}

/// Each problem a bundle check finds carries its own kind: an outsider's record is an unknown
/// author (not a forgery), two records at one seq are one fork, and only there.
#[test]
fn bundle_check_names_unknown_authors_and_forks() {
    use crate::bundle::ProblemKind;
    let net = net();
    let (_, stranger) = outsider_record(&net);
    let report = bundle_report(&net, &[stranger]);
    assert_eq!(
        kinds_of(&report),
        vec![(ProblemKind::UnknownAuthor, Some(1))],
        "{:?}",
        report.problems
    );

    let log = kz_log(&net, &[practice_json(), practice_json(), practice_json()]);
    let mut other = practice_json();
    other["title"] = serde_json::json!({"en": "Another record at seq 2"});
    let twin = kz_log(&net, &[practice_json(), other]);
    assert_ne!(twin[1].id(), log[1].id());
    let report = bundle_report(
        &net,
        &[
            log[0].clone(),
            log[1].clone(),
            twin[1].clone(),
            log[2].clone(),
        ],
    );
    let forks: Vec<_> = report
        .problems
        .iter()
        .filter(|p| p.kind == ProblemKind::Fork)
        .map(|p| p.seq)
        .collect();
    assert_eq!(forks, vec![Some(2)], "{:?}", report.problems);
}

/// A bundle check applies the target rules of a log: a retraction or amendment of a practice is
/// fine once; a second retraction of it, a retraction of a retraction, an amendment that changes
/// the kind, and a target the log does not hold are each one chain problem at their seq. The
/// summary counts each kind.
#[test]
fn bundle_check_applies_the_target_rules() {
    use crate::bundle::ProblemKind;
    let net = net();
    let practice = kz_log(&net, &[practice_json()]);
    let target = practice[0].id().to_hex();
    let retract = |t: &str| serde_json::json!({"kind": "retraction", "target": t, "reason": {"en": "Superseded"}});
    let amend =
        serde_json::json!({"kind": "amendment", "target": target, "record": practice_json()});

    // Amended, then retracted: clean, and counted by kind.
    let log = kz_log(&net, &[practice_json(), amend.clone(), retract(&target)]);
    let report = bundle_report(&net, &log);
    assert!(report.is_clean(), "{:?}", report.problems);
    let kz = report.members.iter().find(|m| m.code == "KZ").expect("KZ");
    assert_eq!(kz.records, 3);
    let kinds: Vec<(&str, u64)> = kz.kinds.iter().map(|(k, n)| (*k, *n)).collect();
    assert_eq!(
        kinds,
        vec![("amendment", 1), ("practice", 1), ("retraction", 1)]
    );

    // Each of these logs holds one chain problem, at `seq`, whose message says `what`.
    let one_chain_problem = |bodies: &[serde_json::Value], seq: u64, what: &str| {
        let report = bundle_report(&net, &kz_log(&net, bodies));
        assert_eq!(
            kinds_of(&report),
            vec![(ProblemKind::Chain, Some(seq))],
            "{:?}",
            report.problems
        );
        assert!(
            report.problems[0].message.contains(what),
            "{what}: {:?}",
            report.problems
        );
    };

    // Retracted twice: the second is refused.
    one_chain_problem(
        &[practice_json(), retract(&target), retract(&target)],
        3,
        "already retracted",
    );

    // A retraction of the retraction: its target is not an original.
    let first_retraction = kz_log(&net, &[practice_json(), retract(&target)])[1]
        .id()
        .to_hex();
    one_chain_problem(
        &[
            practice_json(),
            retract(&target),
            retract(&first_retraction),
        ],
        3,
        "is a retraction",
    );

    // An amendment whose record is an event: it would change the practice's kind.
    let event = serde_json::json!({
        "kind": "event", "title": {"en": "Forum"}, "event_type": "conference",
        "start": "2027-03-15T09:00", "time_zone": "Asia/Almaty"
    });
    let to_event = serde_json::json!({"kind": "amendment", "target": target, "record": event});
    one_chain_problem(&[practice_json(), to_event], 2, "replaces a practice");

    // A target that is no record of this log.
    one_chain_problem(
        &[practice_json(), retract(&"ab".repeat(32))],
        2,
        "is not an earlier record",
    );
}

/// A gap is reported with exactly the seqs that are missing.
#[test]
fn bundle_check_names_the_missing_seqs() {
    use crate::bundle::ProblemKind;
    let net = net();
    let bodies: Vec<serde_json::Value> = (0..4).map(|_| practice_json()).collect();
    let log = kz_log(&net, &bodies);
    for (kept, missing) in [
        (vec![0, 2, 3], "gap: seq 2 missing"),
        (vec![0, 3], "gap: seqs 2 to 3 missing"),
    ] {
        let records: Vec<SignedRecord> = kept.iter().map(|&i| log[i].clone()).collect();
        let report = bundle_report(&net, &records);
        let gaps: Vec<&str> = report
            .problems
            .iter()
            .filter(|p| p.kind == ProblemKind::Gap)
            .map(|p| p.message.as_str())
            .collect();
        assert_eq!(gaps, vec![missing], "{:?}", report.problems);
        assert!(!report.is_clean());
    }
    assert!(bundle_report(&net, &log).is_clean());
}

/// A member's summary counts its own problems, those of its log and its refused records, and no
/// other member's.
#[test]
fn bundle_check_counts_each_members_own_problems() {
    let net = net();
    let bodies: Vec<serde_json::Value> = (0..4).map(|_| practice_json()).collect();
    let log = kz_log(&net, &bodies);
    let mut forged = log[1].clone();
    forged.signature[3] ^= 4;
    // Two forgeries by another member.
    let other_first = signed_practice(&net, 2, Position::FIRST);
    let other_second = signed_practice(
        &net,
        2,
        Position {
            seq: 2,
            prev: Some(other_first.id()),
            prev_created_at: NOW,
        },
    );
    let mut others = Vec::new();
    for mut s in [other_first, other_second] {
        s.signature[3] ^= 4;
        others.push(s);
    }
    let mut records = vec![log[0].clone(), forged, log[3].clone()];
    records.extend(others);
    let report = bundle_report(&net, &records);
    let kz = report.members.iter().find(|m| m.code == "KZ").expect("KZ");
    // The forgery at seq 2 and the gap it leaves (seqs 2 to 3).
    assert_eq!(kz.problems, 2, "{:?}", report.problems);
    assert_eq!(report.problems.len(), 4, "{:?}", report.problems);
}

/// Every event type and status survives the way from draft to body and back to a draft.
#[test]
fn every_event_type_and_status_comes_back_from_its_body() {
    let net = net();
    for event_type in ["conference", "training", "webinar", "study-visit", "call"] {
        for status in ["scheduled", "postponed", "cancelled"] {
            let json = serde_json::json!({
                "kind": "event", "title": {"en": "Forum"}, "event_type": event_type,
                "status": status, "start": "2027-03-15T09:00", "time_zone": "Asia/Almaty"
            });
            let draft = Draft::parse(&json.to_string(), DraftFormat::Json).expect("parses");
            let body = draft.to_body("KZ", &net.charter.rules()).expect("valid");
            let back = serde_json::to_value(Draft::from_body(&body)).expect("serialises");
            assert_eq!(
                (back["event_type"].as_str(), back["status"].as_str()),
                (Some(event_type), Some(status)),
                "{back}"
            );
        }
    }
}
