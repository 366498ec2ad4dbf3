//! The OAI-PMH parts alone: arguments and dates, tokens (tampering, foreign keys), XML text
//! cleaning, and the change log over a real store (paging sees each item once while records
//! arrive; datestamps survive a restart and never go back).
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use super::Error;
use super::changes::Changes;
use super::request::{Granularity, ListArgs, Request, bounds, parse_date};
use super::token::{Token, TokenError};
use super::xml;
use crate::store::Store;
use crate::test_support::{sample, sample_key};
use hubnet_protocol::RecordId;

fn pairs(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The error code `query` gets from the argument checks, or `ok`.
fn check(query: &str, want: &str) {
    let got = match Request::parse(&pairs(query)) {
        Ok(_) => "ok",
        Err(e) => e.code().unwrap(),
    };
    assert_eq!(got, want, "{query}");
}

#[test]
fn arguments_are_checked_as_the_protocol_says() {
    check("verb=Identify", "ok");
    check("", "badVerb");
    check("verb=identify", "badVerb");
    check("verb=Identify&verb=ListSets", "badVerb");
    check("verb=Identify&from=2020-01-01", "badArgument");
    check("verb=ListSets&set=kind", "badArgument");
    check(
        "verb=ListIdentifiers&metadataPrefix=oai_dc&set=a&set=b",
        "badArgument",
    );
    check("verb=ListIdentifiers&metadataPrefix=", "badArgument");
    check("verb=ListIdentifiers&set=kind", "badArgument");
    check(
        "verb=ListIdentifiers&metadataPrefix=oai_dc&resumptionToken=t",
        "badArgument",
    );
    check("verb=GetRecord&identifier=x", "badArgument");
    check(
        "verb=ListRecords&metadataPrefix=oai_dc&from=2020-01-01&until=2020-01-01",
        "ok",
    );
    let r = Request::parse(&pairs("verb=ListRecords&resumptionToken=abc")).unwrap();
    assert_eq!(r.verb(), "ListRecords");
    let Request::List(l) = r else { panic!() };
    assert_eq!(l.args, ListArgs::Token("abc".into()));
}

#[test]
fn dates_at_day_and_second_granularity() {
    assert_eq!(
        parse_date("2024-02-29", false).unwrap(),
        (1_709_164_800, Granularity::Day)
    );
    assert_eq!(
        parse_date("2024-02-29", true).unwrap(),
        (1_709_164_800 + 86_399, Granularity::Day)
    );
    assert_eq!(
        parse_date("2024-02-29T12:00:01Z", false).unwrap(),
        (1_709_208_001, Granularity::Second)
    );
    for bad in [
        "2023-02-29",
        "2024-2-29",
        "2024-02-29T12:00:01",
        "2024-02-29T12:00:01+01:00",
        "2024-02-29T12:00Z",
        "2024-02-29T12:00:01.5Z",
        "+2024-02-29",
        "2024-02-29 12:00:01Z",
        "",
    ] {
        assert!(
            matches!(parse_date(bad, false), Err(Error::BadArgument(_))),
            "{bad}"
        );
    }
    assert!(bounds(Some("2024-01-01"), Some("2024-01-01T00:00:00Z")).is_err());
    assert!(bounds(Some("2024-01-02"), Some("2024-01-01")).is_err());
    assert_eq!(
        bounds(Some("2024-01-01"), Some("2024-01-01")).unwrap(),
        (1_704_067_200, 1_704_067_200 + 86_399)
    );
    assert_eq!(bounds(None, None).unwrap(), (i64::MIN, i64::MAX));
}

fn token() -> Token {
    Token {
        verb: "ListRecords".into(),
        prefix: "oai_dc".into(),
        set: Some("country:KZ".into()),
        from: Some("2024-01-01".into()),
        until: None,
        after: (17, RecordId([7; 32])),
        counts: Some((1_000_000, 150)),
    }
}

#[test]
fn tokens_round_trip_and_any_change_is_refused() {
    let key = [1u8; 32];
    let text = token().encode(&key);
    assert_eq!(Token::decode(&text, &key).unwrap(), token());
    // Another node's key.
    assert_eq!(Token::decode(&text, &[2u8; 32]), Err(TokenError::Forged));
    // Every single-character change is refused.
    let alphabet = b"0123456789abcdefABCDEF-_.x";
    for i in 0..text.len() {
        for &c in alphabet {
            let mut bytes = text.clone().into_bytes();
            if bytes[i] == c {
                continue;
            }
            bytes[i] = c;
            let changed = String::from_utf8(bytes).unwrap();
            assert!(Token::decode(&changed, &key).is_err(), "{changed}");
        }
    }
    // A token of the first format (no counts) is still read.
    let first_format = Token {
        counts: None,
        ..token()
    };
    let text = first_format.encode(&key);
    assert_eq!(Token::decode(&text, &key).unwrap(), first_format);
    // Garbage, and a body re-tagged without the key.
    for bad in ["", ".", "abc", "a.b", &"x".repeat(5000)] {
        assert!(Token::decode(bad, &key).is_err(), "{bad}");
    }
}

#[test]
fn text_loses_what_xml_forbids_and_is_escaped() {
    assert_eq!(
        xml::clean("a\u{0}b\u{1}c\u{1b}d\u{FFFE}e\u{FFFF}f\tg\nh\ri"),
        "abcdef\tg\nh\ri"
    );
    let doc = xml::document(
        "http://h/oai",
        0,
        &[("verb".into(), "Get\u{0}<&\"'>".into())],
        &xml::Body::Sets(vec![("kind".into(), "<b>&amp;\u{7}</b>".into())]),
    );
    assert!(doc.contains("&lt;b&gt;&amp;amp;&lt;/b&gt;"), "{doc}");
    assert!(!doc.contains('\u{0}') && !doc.contains('\u{7}'));
    assert!(
        doc.contains(r#"verb="Get&lt;&amp;&quot;&apos;&gt;""#),
        "{doc}"
    );
}

/// A fresh store of the sample network, in a temp dir.
fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(sample("charter.toml")).unwrap();
    let store = Store::init(&dir.path().join("data"), &text).unwrap();
    (dir, store)
}

/// Pages through every item with pages of `page`, adding `added[n]` records before page `n`
/// (an empty page before the additions are done is asked again, as a harvester asks again
/// later): the ids met, in order.
fn page_through(
    store: &mut Store,
    changes: &mut Changes,
    page: usize,
    added: &[usize],
) -> Vec<RecordId> {
    let key = sample_key("KZ");
    let mut seen = Vec::new();
    let mut after = None;
    let mut n = 0;
    let mut now = 1_900_000_000_000;
    loop {
        if let Some(&more) = added.get(n)
            && more > 0
        {
            crate::synth::fill(store, std::slice::from_ref(&key), more, crate::now_ms()).unwrap();
        }
        n += 1;
        now += 1000;
        changes.follow(store, now).unwrap();
        let items: Vec<(u64, RecordId)> = changes
            .after(after)
            .take(page)
            .map(|i| (i.pos, i.id))
            .collect();
        let Some(&last) = items.last() else {
            if n >= added.len() {
                return seen;
            }
            continue;
        };
        seen.extend(items.iter().map(|(_, id)| *id));
        after = Some(last);
    }
}

proptest! {
    /// Any arguments get an answer or a protocol error, never a panic; so does any token.
    #[test]
    fn any_arguments_are_answered(
        pairs in proptest::collection::vec((".{0,12}", ".{0,24}"), 0..6),
        verb in prop_oneof![Just("ListRecords".to_owned()), Just("GetRecord".to_owned()), ".{0,8}"],
        token in ".{0,80}",
    ) {
        let mut all = vec![("verb".to_owned(), verb)];
        all.extend(pairs);
        if let Err(e) = Request::parse(&all) {
            prop_assert!(e.code().is_some());
        }
        prop_assert!(Token::decode(&token, &[0; 32]).is_err());
        let _ = parse_date(&token, false);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Paging with the last position as the token meets every item exactly once while records
    /// are added between pages.
    #[test]
    fn paging_meets_each_item_once_while_records_arrive(
        first in 0usize..12,
        page in 1usize..5,
        added in proptest::collection::vec(0usize..4, 0..6),
    ) {
        let (_dir, mut store) = store();
        crate::synth::fill(&mut store, &[sample_key("KZ")], first, crate::now_ms()).unwrap();
        let mut changes = Changes::open(store.dir());
        let seen = page_through(&mut store, &mut changes, page, &added);
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        prop_assert_eq!(unique.len(), seen.len());
        prop_assert_eq!(seen.len(), first + added.iter().sum::<usize>());
        prop_assert_eq!(changes.len(), seen.len());
    }
}

/// Every item's id, position and datestamp, in order.
fn listed(changes: &Changes) -> Vec<(RecordId, u64, i64)> {
    changes
        .after(None)
        .map(|i| (i.id, i.pos, i.stamp_ms))
        .collect()
}

/// A store with `n` practices by KZ, its change log read at 2,000,000,000,000 ms.
fn followed(n: usize) -> (tempfile::TempDir, Store, Changes) {
    let (dir, mut store) = store();
    crate::synth::fill(&mut store, &[sample_key("KZ")], n, crate::now_ms()).unwrap();
    let mut changes = Changes::open(store.dir());
    changes.follow(&store, 2_000_000_000_000).unwrap();
    (dir, store, changes)
}

#[test]
fn datestamps_survive_a_restart_and_never_go_back() {
    let (_dir, mut store, mut changes) = followed(5);
    let key = sample_key("KZ");
    // The first reading (no datestamps file yet) stamps what is held now.
    let first = listed(&changes);
    assert_eq!(first.len(), 5);
    assert!(first.iter().all(|i| i.2 == 2_000_000_000_000));
    crate::synth::fill(&mut store, std::slice::from_ref(&key), 2, crate::now_ms()).unwrap();
    // The clock went back: stamps do not.
    changes.follow(&store, 1_000).unwrap();
    let later = listed(&changes);
    assert_eq!(later.len(), 7);
    assert!(later.iter().all(|i| i.2 == 2_000_000_000_000));
    let token_key = *changes.key();
    // Reopened (a restart): the same stamps, positions and token key.
    let mut again = Changes::open(store.dir());
    again.follow(&store, 3_000_000_000_000).unwrap();
    let reopened = listed(&again);
    assert_eq!(reopened, later);
    assert_eq!(*again.key(), token_key);
    // What arrives after the restart is stamped then.
    crate::synth::fill(&mut store, std::slice::from_ref(&key), 1, crate::now_ms()).unwrap();
    again.follow(&store, 3_000_000_000_000).unwrap();
    assert_eq!(
        again.after(None).last().unwrap().stamp_ms,
        3_000_000_000_000
    );
}

#[test]
fn a_request_that_waited_stamps_no_change_before_an_answer_given_meanwhile() {
    let (_dir, mut store, mut changes) = followed(1);
    let key = sample_key("KZ");
    // Request B reads the clock at T2, finds nothing new and answers: responseDate T2.
    let t2 = 2_500_000_000_000;
    changes.follow(&store, t2).unwrap();
    assert_eq!(changes.answered_at(t2), t2);
    // A record arrives; request A, which read the clock at T1 < T2 before it waited for B,
    // sees it.
    crate::synth::fill(&mut store, std::slice::from_ref(&key), 1, crate::now_ms()).unwrap();
    let t1 = 2_400_000_000_000;
    changes.follow(&store, t1).unwrap();
    assert_eq!(changes.answered_at(t1), t2, "responseDates never go back");
    // A harvester that got B's answer asks `from` T2 next: the change is at T2 or later.
    let newest = changes.after(None).last().unwrap().stamp_ms;
    assert!(newest >= t2, "stamped {newest}, before {t2}");
}

#[test]
fn a_datestamps_file_with_a_damaged_line_keeps_its_key_and_its_other_stamps() {
    let (_dir, store, changes) = followed(3);
    let before = listed(&changes);
    let token_key = *changes.key();
    let path = store.dir().join(super::changes::STAMPS_FILE);
    // A line of bytes that are not UTF-8 (a crash mid-append), then the end of the file.
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(b"j 9 \xff\xfe 12\n");
    std::fs::write(&path, &bytes).unwrap();
    let mut again = Changes::open(store.dir());
    again.follow(&store, 3_000_000_000_000).unwrap();
    assert_eq!(*again.key(), token_key, "the token key survives");
    assert_eq!(listed(&again), before, "the stamps survive");
    assert!(
        std::fs::read(&path).unwrap().starts_with(&bytes),
        "the file is kept"
    );
}

#[test]
fn admin_addresses_are_what_the_schema_takes() {
    for good in ["oai@agency.example", "a.b+c@x.y.z"] {
        assert!(super::is_email(good), "{good}");
    }
    for bad in [
        "", "nobody", "@x.y", "a@b", "a@.b", "a@b.", "a b@c.d", "a@b@c.d", "a@b.c\n",
    ] {
        assert!(!super::is_email(bad), "{bad:?}");
    }
}

#[test]
fn an_erasure_by_decision_is_a_change_stamped_when_seen() {
    let (_dir, mut store, mut changes) = followed(3);
    let first = listed(&changes)[0].0;
    erase_by_decision(&mut store, first);
    assert!(store.erased_by(&first).is_some());
    changes.follow(&store, 2_500_000_000_000).unwrap();
    // The erased item moved to the end, stamped when the decision was seen.
    let after = listed(&changes);
    assert_eq!(after.len(), 3);
    assert_eq!(after[2].0, first);
    assert_eq!(after[2].2, 2_500_000_000_000);
    // And so it is after a restart.
    let mut again = Changes::open(store.dir());
    again.follow(&store, 3_000_000_000_000).unwrap();
    assert_eq!(listed(&again), after);
}

/// The sample committee's decision to do `action`, added to `store`.
fn decide(store: &mut Store, action: hubnet_protocol::governance::Action) {
    let (seq, prev) = store.governance().next_position();
    let keys = [sample_key("committee-1"), sample_key("committee-2")];
    let signed = crate::test_support::signed_decision(store.charter(), seq, prev, action, &keys);
    let d = hubnet_protocol::governance::verify_decision(&signed, store.charter()).unwrap();
    store.add_decision(d).unwrap().unwrap();
}

/// A committee decision erasing record `id` (as unlawful), added to `store`.
fn erase_by_decision(store: &mut Store, id: RecordId) {
    decide(
        store,
        hubnet_protocol::governance::Action::EraseRecords {
            records: vec![id],
            ground: hubnet_protocol::kinds::erasure::Ground::Unlawful,
        },
    );
}

/// A committee decision revoking KZ's key at `last_valid_seq`, added to `store`.
fn revoke_kz(store: &mut Store, last_valid_seq: u64) {
    decide(
        store,
        hubnet_protocol::governance::Action::RevokeKey {
            key: sample_key("KZ").public_key(),
            last_valid_seq,
        },
    );
}

#[test]
fn a_revocation_is_a_change_of_the_items_past_the_keys_last_valid_seq() {
    let (_dir, mut store, mut changes) = followed(4);
    let before = listed(&changes);
    let seq_of = |c: &Changes, id: &RecordId| c.item(id).unwrap().seq;
    let (valid, past): (Vec<_>, Vec<_>) = before
        .iter()
        .copied()
        .partition(|i| seq_of(&changes, &i.0) <= 2);
    assert_eq!((valid.len(), past.len()), (2, 2));
    revoke_kz(&mut store, 2);
    changes.follow(&store, 2_500_000_000_000).unwrap();
    let after = listed(&changes);
    // The two items past seq 2 moved to the end, stamped when the decision was seen; the others
    // kept their place and stamp.
    assert_eq!(&after[..2], &valid[..]);
    let moved: Vec<RecordId> = after[2..].iter().map(|i| i.0).collect();
    let mut want: Vec<RecordId> = past.iter().map(|i| i.0).collect();
    want.sort_by_key(|id| after.iter().position(|i| i.0 == *id));
    assert_eq!(moved, want);
    assert!(after[2..].iter().all(|i| i.2 == 2_500_000_000_000));
    // Seen again, nothing changes; nor after a restart.
    changes.follow(&store, 2_600_000_000_000).unwrap();
    assert_eq!(listed(&changes), after);
    let mut again = Changes::open(store.dir());
    again.follow(&store, 3_000_000_000_000).unwrap();
    assert_eq!(listed(&again), after);
}

#[test]
fn items_past_a_revoked_keys_last_valid_seq_are_deleted_records_not_missing_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (shared, _indexer) = crate::test_support::sample_shared(dir.path(), Some("KZ"), |s| {
        crate::synth::fill(s, &[sample_key("KZ")], 3, crate::now_ms()).unwrap();
    });
    let base = "https://node.example";
    let ask = |query: &str, now: i64| {
        let pairs = pairs(query);
        shared.oai.answer(&shared, base, Ok(&pairs), now).unwrap()
    };
    let first = ask(
        "verb=ListIdentifiers&metadataPrefix=oai_dc",
        2_000_000_000_000,
    );
    assert_eq!(first.matches("<header>").count(), 3, "{first}");
    assert!(!first.contains("deleted"), "{first}");
    // The last record of the three is past the key's last valid seq once the key is revoked.
    let last = {
        let store = shared.read_store();
        let key = sample_key("KZ").public_key();
        store.id_at(&key, 3).unwrap().unwrap()
    };
    revoke_kz(&mut shared.lock_store(), 2);
    // An incremental harvest from the last answer's date learns of it, as a deleted record.
    let later = ask(
        "verb=ListIdentifiers&metadataPrefix=oai_dc&from=2033-05-18T03:33:20Z",
        2_100_000_000_000,
    );
    // (The two unchanged items are listed again: `from` is inclusive and they were stamped in the
    // second the first answer gave as its date.)
    assert_eq!(later.matches("status=\"deleted\"").count(), 1, "{later}");
    let deleted = later.split("<header status=\"deleted\">").nth(1).unwrap();
    let deleted = deleted.split("</header>").next().unwrap();
    assert!(deleted.contains(&last.to_string()), "{later}");
    assert!(
        deleted.contains("<datestamp>2036-07-18T13:20:00Z</datestamp>"),
        "stamped when the decision was seen: {later}"
    );
    let get = ask(
        &format!(
            "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:regional-hub-of-civil-service-sample-network:{last}"
        ),
        2_100_000_000_000,
    );
    assert!(get.contains("status=\"deleted\""), "{get}");
    assert!(!get.contains("idDoesNotExist"), "{get}");
}

/// KZ publishes `draft` (JSON) in `store`: its id.
fn publish_kz(store: &mut Store, draft: &serde_json::Value) -> RecordId {
    use hubnet_protocol::{Draft, DraftFormat};
    let now = crate::now_ms();
    let body = Draft::parse(&draft.to_string(), DraftFormat::Json)
        .unwrap()
        .to_body("KZ", &store.charter().rules().at(now))
        .unwrap();
    store.publish(&sample_key("KZ"), &body, now).unwrap().id
}

#[test]
fn a_suspension_and_its_end_with_no_record_between_are_two_changes() {
    use hubnet_protocol::governance::Action;
    let (_dir, mut store, mut changes) = followed(4);
    let suspend = Action::Suspend {
        code: "KZ".to_owned(),
        last_seq: 2,
    };
    decide(&mut store, suspend.clone());
    changes.follow(&store, 2_100_000_000_000).unwrap();
    let suspended = listed(&changes);
    decide(
        &mut store,
        Action::Reinstate {
            code: "KZ".to_owned(),
        },
    );
    changes.follow(&store, 2_200_000_000_000).unwrap();
    let reinstated = listed(&changes);
    // The two items past seq 2 changed twice: each time moved to the end and stamped then.
    assert_eq!(&reinstated[..2], &suspended[..2]);
    for (was, now) in suspended[2..].iter().zip(&reinstated[2..]) {
        assert_eq!(was.0, now.0);
        assert_eq!(was.2, 2_100_000_000_000);
        assert_eq!(now.2, 2_200_000_000_000);
        assert!(now.1 > was.1, "moved again");
    }
    // A restart gives the same order and stamps, and a clock that went back since stamps
    // nothing before what the file holds.
    let mut again = Changes::open(store.dir());
    again.follow(&store, 2_150_000_000_000).unwrap();
    assert_eq!(listed(&again), reinstated);
    decide(&mut store, suspend);
    again.follow(&store, 2_150_000_000_000).unwrap();
    let suspended_again = listed(&again);
    assert!(
        suspended_again[2..]
            .iter()
            .all(|i| i.2 == 2_200_000_000_000 && i.1 > reinstated[3].1),
        "{suspended_again:?}"
    );
}

#[test]
fn an_erased_retraction_counts_after_a_restart_as_it_did_before() {
    let (_dir, mut store, mut changes) = followed(3);
    let target = listed(&changes)[0].0;
    let retraction = publish_kz(
        &mut store,
        &serde_json::json!({"kind": "retraction", "target": target.to_hex(),
                            "reason": {"en": "Superseded."}}),
    );
    changes.follow(&store, 2_100_000_000_000).unwrap();
    // The retraction is erased, and the node stops before its OAI-PMH side saw the erasure.
    erase_by_decision(&mut store, retraction);
    let mut again = Changes::open(store.dir());
    again.follow(&store, 2_500_000_000_000).unwrap();
    changes.follow(&store, 2_500_000_000_000).unwrap();
    // The erasure is a change of the item, which still counts its retraction, as it does for a
    // node that ran on.
    let item = again.item(&target).unwrap();
    assert_eq!(item.retractions.len(), 1);
    assert_eq!(item.retractions[0].1, retraction);
    assert_eq!(item.stamp_ms, 2_500_000_000_000);
    assert_eq!(item, changes.item(&target).unwrap());
    assert_eq!(listed(&again), listed(&changes));
}

#[test]
fn an_erasure_by_decision_of_an_amendment_is_a_change_of_its_item() {
    let (_dir, mut store, mut changes) = followed(3);
    let target = listed(&changes)[0].0;
    let amendment = publish_kz(
        &mut store,
        &serde_json::json!({
            "kind": "amendment",
            "target": target.to_hex(),
            "record": {"kind": "practice", "title": {"en": "Merit selection, revised"},
                       "summary": {"en": "Revised."}, "body": {"en": "Revised body."},
                       "topics": ["recruitment"]},
        }),
    );
    changes.follow(&store, 2_100_000_000_000).unwrap();
    assert_eq!(
        listed(&changes)[2].0,
        target,
        "the amendment moved its item"
    );
    // A committee decision erases the amendment: its item changes again.
    erase_by_decision(&mut store, amendment);
    changes.follow(&store, 2_500_000_000_000).unwrap();
    let after = listed(&changes);
    assert_eq!(after[2].0, target);
    assert_eq!(
        after[2].2, 2_500_000_000_000,
        "stamped when the decision was seen"
    );
    let mut again = Changes::open(store.dir());
    again.follow(&store, 3_000_000_000_000).unwrap();
    assert_eq!(listed(&again), after);
}

#[test]
fn a_new_erasure_after_a_restart_comes_after_a_listed_key_change_at_the_same_entries() {
    use hubnet_protocol::governance::Action;
    let (_dir, mut store, mut changes) = followed(4);
    decide(
        &mut store,
        Action::Suspend {
            code: "KZ".to_owned(),
            last_seq: 2,
        },
    );
    changes.follow(&store, 2_100_000_000_000).unwrap();
    let suspended = listed(&changes);
    let first = suspended[0].0;
    // No record arrives; a decision erases the first item, and only then does the node (or a
    // restarted one) read it.
    erase_by_decision(&mut store, first);
    let mut again = Changes::open(store.dir());
    again.follow(&store, 2_200_000_000_000).unwrap();
    changes.follow(&store, 2_200_000_000_000).unwrap();
    let live = listed(&changes);
    let restarted = listed(&again);
    let erased_pos = |l: &[(RecordId, u64, i64)]| l.iter().find(|i| i.0 == first).unwrap().1;
    // A harvester that met the suspended items (token after the last of them) must meet the
    // erased item: its position must be after theirs.
    assert!(erased_pos(&live) > suspended[3].1, "live: {live:?}");
    assert!(
        erased_pos(&restarted) > suspended[3].1,
        "restarted: {restarted:?} vs suspended {suspended:?}"
    );
    assert_eq!(restarted, live);
}

#[test]
fn a_new_erasure_after_a_restart_comes_after_a_listed_one_at_the_same_entries() {
    let (_dir, mut store, mut changes) = followed(3);
    let mut ids: Vec<RecordId> = listed(&changes).iter().map(|i| i.0).collect();
    ids.sort();
    // The larger id is erased first and seen; after a restart, the smaller one.
    erase_by_decision(&mut store, ids[2]);
    changes.follow(&store, 2_100_000_000_000).unwrap();
    let first_pos = changes.item(&ids[2]).unwrap().pos;
    erase_by_decision(&mut store, ids[0]);
    let mut again = Changes::open(store.dir());
    again.follow(&store, 2_200_000_000_000).unwrap();
    changes.follow(&store, 2_200_000_000_000).unwrap();
    assert!(changes.item(&ids[0]).unwrap().pos > first_pos, "live");
    assert!(
        again.item(&ids[0]).unwrap().pos > first_pos,
        "restarted: {:?}",
        listed(&again)
    );
}
