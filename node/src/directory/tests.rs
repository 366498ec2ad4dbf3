//! The directory's pure functions: filters, the re-confirmation rule with a fixed clock, JSON,
//! vCard escaping and folding, CSV, and the operators' list.

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::*;
use crate::feeds::fixture::{T0, net};

const DAY: i64 = 86_400_000;

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a date")
}

fn expert(name: &str, reconfirm_by: &str) -> Value {
    json!({
        "kind": "expert",
        "name": {"en": name, "ru": "Пример; эксперт, \\ вымышленный"},
        "position": {"en": "Adviser"},
        "institution": {"name": {"en": "Example Centre"}},
        "topics": ["e-government"],
        "languages": ["ru-KZ", "en"],
        "formats": ["speaker", "peer_review"],
        "contact_email": "experts@kz.example.org",
        "consent": {"date": "2026-12-01", "scope": "hub_network_all_members",
                    "document_sha256": "44".repeat(32)},
        "reconfirm_by": reconfirm_by,
        "summary": {"en": "A fictional sample profile.\nSecond line."},
        "sample": true
    })
}

fn institution() -> Value {
    json!({"kind": "institution", "name": {"en": "Example Academy"}, "type": "academy_or_school",
           "languages": ["kk"], "website": "https://example.org", "topics": ["training"]})
}

#[test]
fn the_filters_keep_languages_formats_and_types() {
    let mut net = net();
    let e = net.publish("KZ", T0, expert("A", "2027-06-30"));
    let i = net.publish("KZ", T0, institution());
    fn c(x: &Current) -> Content<'_> {
        x.content().expect("content")
    }
    let f = |langs: &[&str], formats: &[ExpertFormat], types: &[InstitutionType]| Filter {
        langs: langs.iter().map(|s| (*s).to_owned()).collect(),
        formats: formats.to_vec(),
        types: types.to_vec(),
    };
    assert!(Filter::default().keeps(c(&e)) && Filter::default().keeps(c(&i)));
    // `ru` keeps `ru-KZ`; `kk` does not keep the expert.
    assert!(f(&["ru"], &[], &[]).keeps(c(&e)));
    assert!(!f(&["kk"], &[], &[]).keeps(c(&e)));
    assert!(f(&["kk"], &[], &[]).keeps(c(&i)));
    assert!(f(&[], &[ExpertFormat::Speaker], &[]).keeps(c(&e)));
    assert!(!f(&[], &[ExpertFormat::Mentoring], &[]).keeps(c(&e)));
    assert!(
        !f(&[], &[ExpertFormat::Speaker], &[]).keeps(c(&i)),
        "an institution offers no format"
    );
    assert!(f(&[], &[], &[InstitutionType::AcademyOrSchool]).keeps(c(&i)));
    assert!(!f(&[], &[], &[InstitutionType::Ministry]).keeps(c(&i)));
    assert!(!f(&[], &[], &[InstitutionType::AcademyOrSchool]).keeps(c(&e)));
}

#[test]
fn an_expert_is_listed_until_its_reconfirm_by_and_again_once_reconfirmed() {
    let mut net = net();
    let mut e = net.publish("KZ", T0, expert("A", "2027-06-30"));
    let i = net.publish("KZ", T0, institution());
    let listed = |x: &Current, on: &str| listed_on(x.content().expect("content"), date(on));
    assert!(listed(&e, "2027-06-30"), "the day itself");
    assert!(!listed(&e, "2027-07-01"));
    assert!(listed(&i, "2099-01-01"), "institutions are always listed");
    // The operators' list: lapsed, due within the horizon, not yet due.
    let lapsed = net.publish("KZ", T0, expert("Lapsed", "2027-01-20"));
    let soon = net.publish("KZ", T0, expert("Soon", "2027-03-01"));
    let later = net.publish("KZ", T0, expert("Later", "2028-01-01"));
    let mut retracted = net.publish("KZ", T0, expert("Gone", "2027-01-20"));
    net.retract(&mut retracted, T0 + DAY);
    // An amendment made later re-confirms it.
    net.amend(&mut e, T0 + 200 * DAY, expert("A", "2029-01-31"));
    assert!(listed(&e, "2027-07-01"));
    let items = [e, lapsed.clone(), soon.clone(), later, retracted, i];
    let list = due(&items, date("2027-02-01"), 30, None);
    let names: Vec<(&str, bool)> = list.iter().map(|d| (d.name.as_str(), d.lapsed)).collect();
    assert_eq!(names, [("Lapsed", true), ("Soon", false)]);
    assert_eq!(list[0].id, lapsed.id());
    assert_eq!(list[1].reconfirm_by, "2027-03-01");
    assert_eq!(due(&items, date("2027-02-01"), 0, None).len(), 1);
}

#[test]
fn entries_as_json_name_what_the_directory_shows() {
    let mut net = net();
    let e = net.publish("KZ", T0, expert("A", "2027-06-30"));
    let i = net.publish("KZ", T0, institution());
    let v = entry_json(&e).expect("an entry");
    assert_eq!(v["kind"], "expert");
    assert_eq!(v["institution"], json!({"name": {"en": "Example Centre"}}));
    assert_eq!(v["formats"], json!(["speaker", "peer_review"]));
    assert_eq!(v["languages"], json!(["ru-KZ", "en"]));
    assert_eq!(v["country"], "KZ");
    assert_eq!(v["reconfirm_by"], "2027-06-30");
    let v = entry_json(&i).expect("an entry");
    assert_eq!(v["type"], "academy_or_school");
    assert_eq!(v["website"], "https://example.org");
    let practice = net.publish("KZ", T0, crate::feeds::fixture::practice_kz());
    assert_eq!(entry_json(&practice), None);
}

#[test]
fn vcards_escape_text_and_fold_long_lines() {
    assert_eq!(escape("a,b;c\\d\ne\r\nf"), "a\\,b\\;c\\\\d\\ne\\nf");
    // 75 octets at most per physical line, never inside a character.
    let long = format!("NOTE:{}", "Ж".repeat(60));
    let folded = fold(&long);
    assert!(folded.ends_with("\r\n"));
    for line in folded.trim_end_matches("\r\n").split("\r\n") {
        assert!(line.len() <= 75, "{line:?} is {} octets", line.len());
    }
    let unfolded = folded.trim_end_matches("\r\n").replace("\r\n ", "");
    assert_eq!(unfolded, long);
    assert_eq!(fold("FN:A"), "FN:A\r\n");

    let mut net = net();
    let e = net.publish("KZ", T0, expert("Example Expert (fictional)", "2027-06-30"));
    let i = net.publish("KZ", T0, institution());
    let card = vcards(&[e.clone(), i], Some("ru"), "http://node", &|_| None);
    assert_eq!(card.matches("BEGIN:VCARD\r\n").count(), 2);
    assert_eq!(card.matches("END:VCARD\r\n").count(), 2);
    assert!(card.contains("VERSION:4.0\r\n"));
    assert!(card.contains("KIND:individual\r\n") && card.contains("KIND:org\r\n"));
    assert!(
        card.contains("FN:Пример\\; эксперт\\, \\\\ вымышленный\r\n"),
        "{card}"
    );
    assert!(card.contains("ORG:Example Centre\r\n"));
    assert!(card.contains("EMAIL;TYPE=work:experts@kz.example.org\r\n"));
    assert!(card.contains("LANG;PREF=1:ru-KZ\r\n"));
    assert!(card.contains("CATEGORIES:e-government\r\n"));
    assert!(card.contains("NOTE:A fictional sample profile.\\nSecond line.\r\n"));
    let unfolded = card.replace("\r\n ", "");
    assert!(unfolded.contains(&format!("UID:urn:hubnet:{}\r\n", e.id())));
    assert!(
        card.contains("URL:https://example.org\r\n"),
        "an institution's website"
    );
    for line in card.split("\r\n") {
        assert!(line.len() <= 75, "{line:?}");
    }
    // An institution named by id gets its name from the resolver.
    let mut by_id = expert("B", "2027-06-30");
    by_id["institution"] = json!({"id": "22".repeat(32)});
    let b = net.publish("KZ", T0, by_id);
    let card = vcards(&[b], None, "http://node", &|id| {
        (id == [0x22; 32]).then(|| "Agency".to_owned())
    });
    assert!(card.contains("ORG:Agency\r\n"), "{card}");
}

#[test]
fn csv_has_one_row_per_entry() {
    let mut net = net();
    let e = net.publish("KZ", T0, expert("A, the expert", "2027-06-30"));
    let i = net.publish("KZ", T0, institution());
    let practice = net.publish("KZ", T0, crate::feeds::fixture::practice_kz());
    let text = csv(&[e.clone(), i, practice], None, "http://node", &|_| None);
    let mut reader = ::csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader
            .headers()
            .expect("headers")
            .iter()
            .collect::<Vec<_>>(),
        CSV_COLUMNS
    );
    let rows: Vec<::csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 2, "the practice is skipped");
    assert_eq!(&rows[0][0], e.id().to_hex());
    assert_eq!(&rows[0][3], "A, the expert");
    assert_eq!(&rows[0][10], "speaker peer_review");
    assert_eq!(&rows[1][6], "academy_or_school");
}
