//! Erasure in the store (docs/PROTOCOL.md §2.1): bodies leave the journal, headers and
//! signatures stay and verify, erased records travel with their proof, offered bodies are
//! refused, and an erasure a crash interrupted is finished on open.

use hubnet_protocol::{Draft, DraftFormat};

use super::tests::{NOW, fixture};
use super::*;

const MARKER: &str = "MARKER-erasure-7f3a";

fn draft(json: &str) -> Body {
    Draft::parse(json, DraftFormat::Json)
        .expect("parses")
        .to_body("KZ", &hubnet_protocol::Rules::template())
        .expect("valid")
}

fn practice(title: &str) -> Body {
    draft(&format!(
        r#"{{"kind":"practice","title":{{"ru":"{title}"}},"summary":{{"en":"s"}},"topics":["pay"]}}"#
    ))
}

fn amendment(target: RecordId, title: &str) -> Body {
    draft(&format!(
        r#"{{"kind":"amendment","target":"{target}","record":{{"kind":"practice","title":{{"ru":"{title}"}},"summary":{{"en":"s"}},"topics":["pay"]}}}}"#
    ))
}

fn erasure(target: RecordId) -> Body {
    draft(&format!(
        r#"{{"kind":"erasure","target":"{target}","ground":"consent_withdrawn"}}"#
    ))
}

fn journal_holds(path: &Path, needle: &str) -> bool {
    let bytes = fs::read(path.join(JOURNAL_FILE)).expect("journal reads");
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// A store holding a practice with the marker, an amendment with it, and another record; then
/// the practice erased. Returns the fixture, the store, and (target, amendment, other, erasure).
fn erased_fixture() -> (super::tests::Fixture, Store, [Record; 4]) {
    let (f, mut store) = fixture();
    let target = store
        .publish(&f.keys[0], &practice(MARKER), NOW)
        .expect("publishes");
    let amended = store
        .publish(
            &f.keys[0],
            &amendment(target.id, &format!("{MARKER} v2")),
            NOW,
        )
        .expect("publishes");
    let other = store
        .publish(&f.keys[0], &practice("Другая практика"), NOW)
        .expect("publishes");
    assert!(journal_holds(&f.path, MARKER));
    let erasure = store
        .publish(&f.keys[0], &erasure(target.id), NOW)
        .expect("publishes");
    (f, store, [target, amended, other, erasure])
}

#[test]
fn erasing_deletes_the_bodies_and_keeps_what_verifies() {
    let (f, store, [target, amended, other, erasure]) = erased_fixture();
    assert_eq!(
        erasure.body.erases(),
        vec![target.id, amended.id],
        "publishing fills in the target's amendments"
    );
    assert!(
        !journal_holds(&f.path, MARKER),
        "the journal still holds the body"
    );
    for id in [target.id, amended.id] {
        assert_eq!(store.erased_by(&id), Some(ErasedBy::Record(erasure.id)));
        let got = store.get(&id).expect("reads").expect("held");
        assert!(got.body.is_erased(), "{id} still has a body");
        // As served: header and signature without the body, with the erasure as proof; it
        // verifies on its own.
        let served = store.get_signed(&id).expect("reads").expect("held");
        assert!(served.body.is_empty());
        assert_eq!(
            SignedRecord::decode(&served.erasure).expect("proof").id(),
            erasure.id
        );
        let checked = record::verify_record(&served.encode(), store.charter(), NOW)
            .expect("an erased record verifies with its proof");
        assert_eq!(checked.id, id);
    }
    let untouched = store.get(&other.id).expect("reads").expect("held");
    assert_eq!(untouched.body, other.body);
    drop(store);
    let store = Store::open(&f.path).expect("reopens");
    assert!(
        store
            .get(&target.id)
            .expect("reads")
            .expect("held")
            .body
            .is_erased()
    );
    assert_eq!(
        store.erased_by(&amended.id),
        Some(ErasedBy::Record(erasure.id))
    );
}

/// What sync sends (`served_bytes`) is what `get_signed` serves, encoded: the journal's entry for
/// a record nothing erased, and the record without its body and with its proof for an erased one.
#[test]
fn served_bytes_are_what_get_signed_serves() {
    let (_f, store, records) = erased_fixture();
    for r in &records {
        let served = store.get_signed(&r.id).expect("reads").expect("held");
        assert_eq!(
            store.served_bytes(&r.id).expect("reads"),
            Some(served.encode()),
            "{}",
            r.id
        );
    }
    assert!(
        store.erased_by(&records[0].id).is_some(),
        "one of them is erased"
    );
    assert_eq!(store.served_bytes(&RecordId([9; 32])).expect("reads"), None);
}

#[test]
fn an_erased_body_offered_again_is_refused_and_counted() {
    let (f, mut store, [target, ..]) = erased_fixture();
    let outcomes = store
        .append(std::slice::from_ref(&target))
        .expect("append runs");
    assert_eq!(outcomes, vec![Outcome::AlreadyStored]);
    assert_eq!(store.bodies_refused(), 1);
    assert!(!journal_holds(&f.path, MARKER));
}

#[test]
fn erased_records_travel_without_bodies_and_stay_erased() {
    let (_f, store, [target, amended, other, erasure]) = erased_fixture();
    let (g, mut fresh) = fixture();
    let served: Vec<Record> = [target.id, amended.id, other.id, erasure.id]
        .iter()
        .map(|id| {
            let s = store.get_signed(id).expect("reads").expect("held");
            record::verify_record(&s.encode(), fresh.charter(), NOW).expect("verifies")
        })
        .collect();
    let outcomes = fresh.append(&served).expect("append runs");
    assert!(
        outcomes.iter().all(|o| *o == Outcome::Stored),
        "{outcomes:?}"
    );
    assert!(!journal_holds(&g.path, MARKER));
    assert_eq!(
        fresh.erased_by(&target.id),
        Some(ErasedBy::Record(erasure.id))
    );
    // The old body, from a stale peer, is refused.
    assert_eq!(
        fresh.append(std::slice::from_ref(&target)).expect("runs"),
        vec![Outcome::AlreadyStored]
    );
    assert_eq!(fresh.bodies_refused(), 1);
    assert!(!journal_holds(&g.path, MARKER));
    drop(fresh);
    let fresh = Store::open(&g.path).expect("reopens");
    assert_eq!(
        fresh.erased_by(&target.id),
        Some(ErasedBy::Record(erasure.id))
    );
}

#[test]
fn a_body_without_its_erasure_is_withheld_not_erased() {
    let (_f, store, [target, ..]) = erased_fixture();
    let mut served = store.get_signed(&target.id).expect("reads").expect("held");
    served.erasure.clear();
    assert!(matches!(
        record::verify_record(&served.encode(), store.charter(), NOW),
        Err(RecordError::BodyWithheld(id)) if id == target.id
    ));
}

#[test]
fn erasure_chain_rules() {
    let (f, mut store, [target, _, other, _]) = erased_fixture();
    let theirs = store
        .publish(&f.keys[1], &practice("theirs"), NOW)
        .expect("publishes");
    let refused = |r: Result<Record, StoreError>| match r {
        Err(StoreError::Chain(e)) => e,
        other => panic!("expected a chain refusal, got {other:?}"),
    };
    assert!(matches!(
        refused(store.publish(&f.keys[0], &erasure(theirs.id), NOW)),
        ChainError::TargetNotFound(id) if id == theirs.id
    ));
    assert!(matches!(
        refused(store.publish(&f.keys[0], &amendment(target.id, "again"), NOW)),
        ChainError::TargetErased(id) if id == target.id
    ));
    assert!(matches!(
        refused(store.publish(&f.keys[0], &erasure(target.id), NOW)),
        ChainError::TargetErased(_)
    ));
    // An erasure that leaves out an amendment.
    let amended = store
        .publish(&f.keys[0], &amendment(other.id, "v2"), NOW)
        .expect("publishes");
    let Body::Erasure(mut e) = erasure(other.id) else {
        unreachable!("an erasure draft gives an erasure")
    };
    e.amendments = vec![[9u8; 32].to_vec()];
    assert!(matches!(
        refused(store.publish(&f.keys[0], &Body::Erasure(e), NOW)),
        ChainError::ErasureAmendments { held, .. } if held == amended.id.to_hex()
    ));
    // A retracted record can still be erased.
    store
        .publish(&f.keys[0], &super::tests::retraction(other.id), NOW)
        .expect("retracts");
    store
        .publish(&f.keys[0], &erasure(other.id), NOW)
        .expect("a retracted record is erased");
}

#[test]
fn an_erasure_a_crash_interrupted_is_finished_on_open() {
    let (f, store, [target, ..]) = erased_fixture();
    let offset = store
        .locate(&target.id)
        .expect("locates")
        .expect("held")
        .offset;
    drop(store);
    let path = f.path.join(JOURNAL_FILE);
    // Put the body back as a torn overwrite leaves it: half the original bytes, the checksum
    // of neither version, and the intent file naming the entry.
    let mut bytes = fs::read(&path).expect("reads");
    let original = target.signed.encode();
    let start = offset as usize + 8;
    let half = original.len() / 2;
    bytes[start..start + half].copy_from_slice(&original[..half]);
    bytes[start - 4..start].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    fs::write(&path, &bytes).expect("writes");
    fs::write(f.path.join(ERASING_FILE), offset.to_le_bytes()).expect("writes");
    let store = Store::open(&f.path).expect("opens and finishes the erasure");
    assert!(!f.path.join(ERASING_FILE).exists());
    assert!(
        store
            .get(&target.id)
            .expect("reads")
            .expect("held")
            .body
            .is_erased()
    );
    assert!(!journal_holds(&f.path, &MARKER[..12]));
    drop(store);
    // A whole entry restored (the overwrite never started, nor the intent file): redone too.
    let mut bytes = fs::read(&path).expect("reads");
    bytes[start..start + original.len()].copy_from_slice(&original);
    bytes[start - 4..start].copy_from_slice(&crc32fast::hash(&original).to_le_bytes());
    fs::write(&path, &bytes).expect("writes");
    assert!(journal_holds(&f.path, MARKER));
    let store = Store::open(&f.path).expect("opens");
    assert!(!journal_holds(&f.path, MARKER));
    assert!(
        store
            .get(&target.id)
            .expect("reads")
            .expect("held")
            .body
            .is_erased()
    );
}

#[test]
fn an_older_index_schema_is_rebuilt_with_what_erasures_need() {
    let (f, store, [target, amended, _, erasure]) = erased_fixture();
    store
        .db
        .insert(index::META_SCHEMA, &(SCHEMA_VERSION - 1).to_be_bytes())
        .expect("writes");
    store.flush().expect("flushes");
    drop(store);
    let mut store = Store::open(&f.path).expect("an older schema is rebuilt");
    assert!(store.recovery().rebuilt_index);
    assert_eq!(store.record_count().expect("count"), 4);
    assert_eq!(
        store.erased_by(&target.id),
        Some(ErasedBy::Record(erasure.id))
    );
    assert_eq!(
        store.erased_by(&amended.id),
        Some(ErasedBy::Record(erasure.id))
    );
    assert!(matches!(
        store.publish(&f.keys[0], &amendment(target.id, "after"), NOW),
        Err(StoreError::Chain(ChainError::TargetErased(_)))
    ));
}
