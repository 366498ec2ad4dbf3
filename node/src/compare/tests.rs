//! The comparison and the change view as pure functions of the records held.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::feeds::fixture::{Net, T0, net};

fn profile(as_of: &str, merit: Option<(f64, u32)>, reforms: &[(&str, &str)]) -> Value {
    let mut indicators = vec![json!({
        "code": "hub:user-satisfaction",
        "not_available": {"en": "No survey.", "ru": "Опроса не было."}
    })];
    if let Some((value, year)) = merit {
        indicators.push(json!({
            "code": "hub:merit-recruitment-share", "value": value, "year": year,
            "source": {"name": {"en": "Agency report"}, "url": "https://example.org/r"}
        }));
    }
    json!({
        "kind": "reform_profile",
        "title": {"en": format!("Profile {as_of}")},
        "as_of": as_of,
        "reforms": reforms.iter().map(|(t, s)| json!({"title": {"en": t}, "status": s})).collect::<Vec<_>>(),
        "indicators": indicators,
    })
}

fn request(net: &Net, query: &str) -> Result<CompareRequest, CompareError> {
    CompareRequest::parse(
        url::form_urlencoded::parse(query.as_bytes()).into_owned(),
        &net.charter,
    )
}

#[test]
fn each_country_shows_its_profile_in_force_and_every_cell_names_its_record() {
    let mut net = net();
    let kz_2025 = net.publish("KZ", T0, profile("2025-06-30", Some((60.0, 2024)), &[]));
    let mut kz_2026 = net.publish("KZ", T0 + 1, profile("2026-06-30", Some((71.5, 2025)), &[]));
    let kg = net.publish("KG", T0 + 2, profile("2026-06-30", None, &[]));
    // Published later but describing an earlier date: not the one in force.
    let kz_old = net.publish("KZ", T0 + 3, profile("2024-06-30", Some((50.0, 2023)), &[]));
    let mut amended = profile("2026-06-30", Some((72.0, 2025)), &[]);
    amended["title"] = json!({"en": "Profile 2026, corrected"});
    net.amend(&mut kz_2026, T0 + 4, amended);
    let items = vec![kz_2025.clone(), kz_2026.clone(), kg.clone(), kz_old.clone()];

    let req = request(&net, "country=KZ&country=KG").expect("valid");
    let c = compare(&req, &items, &net.charter);
    assert_eq!(c.countries[0].country, "KZ");
    let head = c.countries[0].profile.as_ref().expect("in force");
    assert_eq!(head["id"], kz_2026.id().to_hex());
    let amendment = kz_2026.amendment.as_ref().expect("amended").id.to_hex();
    assert_eq!(head["record"], amendment);
    let codes: Vec<&str> = c.indicators.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(
        codes,
        ["hub:merit-recruitment-share", "hub:user-satisfaction"],
        "catalogue order, only what is reported"
    );
    let merit = &c.indicators[0];
    assert_eq!(
        (merit.unit.as_str(), merit.higher_is_better),
        ("percent", true)
    );
    match &merit.cells[0] {
        Cell::Value {
            value,
            year,
            record,
            source,
            ..
        } => {
            assert_eq!((*value, *year), (72.0, 2025), "the amended value");
            assert_eq!(record, &amendment);
            assert_eq!(
                source.as_ref().expect("source")["url"],
                "https://example.org/r"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        merit.cells[1],
        Cell::NotReported {
            record: kg.id().to_hex()
        }
    );
    assert!(matches!(
        &c.indicators[1].cells[1],
        Cell::NotAvailable { reason, record } if reason["en"] == "No survey." && *record == kg.id().to_hex()
    ));

    // At an earlier date: the profile then in force; KG has none yet.
    let req = request(&net, "country=KZ&country=KG&as_of=2025-12-31").expect("valid");
    let c = compare(&req, &items, &net.charter);
    assert_eq!(
        c.countries[0].profile.as_ref().expect("in force")["id"],
        kz_2025.id().to_hex()
    );
    assert_eq!(c.countries[1].profile, None);
    assert_eq!(c.indicators[0].cells[1], Cell::NoProfile);
    assert_eq!(c.as_of.as_deref(), Some("2025-12-31"));

    // An indicator asked for is a row even when nobody reports it; an area filters rows.
    let req = request(&net, "country=KZ&country=KG&indicator=hub:ria-share").expect("valid");
    let c = compare(&req, &items, &net.charter);
    assert_eq!(c.indicators.len(), 1);
    assert!(matches!(c.indicators[0].cells[0], Cell::NotReported { .. }));
    let req = request(&net, "country=KZ&country=KG&area=service-delivery").expect("valid");
    let c = compare(&req, &items, &net.charter);
    assert_eq!(
        c.indicators
            .iter()
            .map(|r| r.code.as_str())
            .collect::<Vec<_>>(),
        ["hub:user-satisfaction"]
    );

    // A retracted profile is not in force.
    let mut kg = kg;
    net.retract(&mut kg, T0 + 5);
    let items = vec![kz_2025, kz_2026, kg, kz_old];
    let c = compare(
        &request(&net, "country=KG&country=KZ").expect("valid"),
        &items,
        &net.charter,
    );
    assert_eq!(c.countries[0].profile, None);
}

#[test]
fn the_csv_marks_every_missing_value_as_missing() {
    let mut net = net();
    let kz = net.publish("KZ", T0, profile("2026-06-30", Some((71.5, 2025)), &[]));
    let kg = net.publish("KG", T0, profile("2026-06-30", None, &[]));
    let req = request(&net, "country=KZ&country=KG&country=UZ&format=csv").expect("valid");
    assert!(req.csv);
    let c = compare(&req, &[kz.clone(), kg.clone()], &net.charter);
    let text = csv(&c, net.charter.vocabulary(), Some("en"));
    let mut reader = ::csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header.len(), 5 + 3 * 5);
    assert_eq!(
        &header[5..10],
        ["KZ value", "KZ year", "KZ status", "KZ note", "KZ record"]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.expect("row").iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), 2);
    let merit = &rows[0];
    assert_eq!(&merit[0], "hub:merit-recruitment-share");
    let kz_id = kz.id().to_hex();
    assert_eq!(
        &merit[5..10],
        ["71.5", "2025", "value", "Agency report", kz_id.as_str()]
    );
    assert_eq!(&merit[10..13], ["n/a", "n/a", "not_reported"]);
    assert_eq!(&merit[15..18], ["n/a", "n/a", "no_profile"]);
    let satisfaction = &rows[1];
    assert_eq!(
        &satisfaction[10..14],
        ["n/a", "n/a", "not_available", "No survey."]
    );
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            if header[i].ends_with(" value") {
                assert!(!cell.is_empty() && cell != "0", "{}: {cell:?}", header[i]);
            }
        }
    }
}

#[test]
fn a_bad_comparison_request_is_refused_with_its_own_error() {
    let net = net();
    for (query, want) in [
        ("country=KZ", CompareError::CountryCount(1)),
        ("", CompareError::CountryCount(0)),
        (
            "country=KZ&country=KG&country=UZ&country=AZ&country=AM",
            CompareError::CountryCount(5),
        ),
        (
            "country=KZ&country=kz",
            CompareError::RepeatedCountry("KZ".into()),
        ),
        (
            "country=KZ&country=FR",
            CompareError::UnknownCountry("FR".into()),
        ),
        (
            "country=KZ&country=HUB",
            CompareError::UnknownCountry("HUB".into()),
        ),
        (
            "country=KZ&country=KG&area=astrology",
            CompareError::UnknownArea("astrology".into()),
        ),
        (
            "country=KZ&country=KG&indicator=hub:nothing",
            CompareError::UnknownIndicator("hub:nothing".into()),
        ),
        (
            "country=KZ&country=KG&as_of=2026-13-01",
            CompareError::BadDate("2026-13-01".into()),
        ),
        (
            "country=KZ&country=KG&as_of=2026",
            CompareError::BadDate("2026".into()),
        ),
        (
            "country=KZ&country=KG&as_of=2026-01-01&as_of=2026-01-02",
            CompareError::Repeated("as_of"),
        ),
        (
            "country=KZ&country=KG&format=xlsx",
            CompareError::BadFormat("xlsx".into()),
        ),
        (
            "country=KZ&country=KG&sort=x",
            CompareError::UnknownParameter("sort".into()),
        ),
    ] {
        assert_eq!(request(&net, query), Err(want), "{query}");
    }
}

#[test]
fn changes_name_moved_reforms_and_indicators_with_both_states() {
    let mut net = net();
    let older = net.publish(
        "KZ",
        T0,
        profile(
            "2025-06-30",
            Some((60.0, 2024)),
            &[
                ("Merit recruitment", "adopted"),
                ("Pay reform", "planned"),
                ("Old pilot", "completed"),
            ],
        ),
    );
    let mut newer_json = profile(
        "2026-06-30",
        Some((71.5, 2025)),
        &[
            ("merit recruitment ", "in-implementation"),
            ("Pay reform", "planned"),
            ("E-HR", "planned"),
        ],
    );
    newer_json["previous"] = json!(older.id().to_hex());
    // Satisfaction now has a value.
    newer_json["indicators"][0] =
        json!({"code": "hub:user-satisfaction", "value": 64.0, "year": 2026});
    let newer = net.publish("KZ", T0 + 1, newer_json);
    let items = [older.clone(), newer.clone()];
    let profiles = profiles_of(&items, "KZ");
    let latest = profiles.last().expect("two");
    let before = predecessor(&profiles, latest).expect("the previous one");
    assert_eq!(before.item.id(), older.id());
    let c = changes(&before, latest);
    let moved: Vec<(String, Option<&str>, Option<&str>)> = c
        .reforms
        .iter()
        .map(|r| (r.title["en"].clone(), r.from, r.to))
        .collect();
    assert_eq!(
        moved,
        [
            (
                "merit recruitment ".to_owned(),
                Some("adopted"),
                Some("in-implementation")
            ),
            ("E-HR".to_owned(), None, Some("planned")),
            ("Old pilot".to_owned(), Some("completed"), None),
        ]
    );
    let codes: Vec<(&str, Value, Value)> = c
        .indicators
        .iter()
        .map(|i| (i.code.as_str(), json!(i.from), json!(i.to)))
        .collect();
    assert_eq!(
        codes,
        [
            (
                "hub:user-satisfaction",
                json!({"not_available": {"en": "No survey.", "ru": "Опроса не было."}}),
                json!({"value": 64.0, "year": 2026})
            ),
            (
                "hub:merit-recruitment-share",
                json!({"value": 60.0, "year": 2024}),
                json!({"value": 71.5, "year": 2025})
            ),
        ]
    );
    assert_eq!((c.from, c.to), (older.id().to_hex(), newer.id().to_hex()));
    // The first profile has no predecessor.
    assert!(predecessor(&profiles, &profiles[0]).is_none());
}

proptest! {
    /// The profile in force is the one a plain model picks: the latest `as_of` not after the
    /// date asked for, later publication on a tie, never a retracted one.
    #[test]
    fn in_force_is_the_latest_profile_at_the_date(
        profiles in prop::collection::vec((0u32..6, any::<bool>()), 1..7),
        asked in prop::option::of(0u32..7),
    ) {
        let mut net = net();
        let mut items = Vec::new();
        let date = |y: u32| NaiveDate::from_ymd_opt(2020 + y as i32, 6, 30).expect("date");
        for (i, (year, _)) in profiles.iter().enumerate() {
            let as_of = date(*year).format("%Y-%m-%d").to_string();
            items.push(net.publish("KZ", T0 + i as i64, profile(&as_of, None, &[])));
        }
        // Retractions after every publication, so publication times follow the indexes.
        for (i, (_, retract)) in profiles.iter().enumerate() {
            if *retract {
                net.retract(&mut items[i], T0 + 100 + i as i64);
            }
        }
        let asked = asked.map(date);
        let model = profiles
            .iter()
            .enumerate()
            .filter(|(_, (year, retract))| !retract && asked.is_none_or(|d| date(*year) <= d))
            .max_by_key(|(i, (year, _))| (*year, *i))
            .map(|(i, _)| items[i].id());
        prop_assert_eq!(in_force(&items, "KZ", asked).map(|p| p.item.id()), model);
        prop_assert!(in_force(&items, "KG", asked).is_none());
    }
}
