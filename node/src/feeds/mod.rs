//! Feeds and exports of records as they stand now ([`Current`]), in the formats libraries,
//! calendars, reference managers and aid-transparency tools read: iCalendar (RFC 5545) for
//! events and programmes ([`ics`]), Atom (RFC 4287) for practices, reform profiles and
//! programmes ([`atom`]), CSV, JSON and NDJSON exports ([`export`]), IATI activity XML 2.03 for
//! joint programmes ([`iati`]), citations in BibTeX and CSL-JSON ([`cite`]) and sitemaps of the
//! record pages ([`sitemap`]).
//!
//! Everything here is a pure function: no HTTP, no IO, no clock. The caller passes the items (in
//! the order it wants them shown), the node's public base URL, the reader's language and, where
//! a format needs one, the time. Each format is written by a well-kept crate (`icalendar`,
//! `atom_syndication`, `csv`, `serde_json`, `quick-xml`); only BibTeX, which has no such crate,
//! is written here.

pub mod atom;
pub mod cite;
pub mod export;
pub mod iati;
pub mod ics;
pub mod sitemap;

use hubnet_proto::v1 as pb;

use crate::current::Current;
use crate::lang::{member_name, pick, pick_tagged};

/// The page of one record: `{base_url}/records/{id}` (a trailing `/` of `base_url` is dropped).
pub fn record_url(base_url: &str, item: &Current) -> String {
    format!("{}/records/{}", base(base_url), item.id().to_hex())
}

/// `base_url` without its trailing slashes.
fn base(base_url: &str) -> &str {
    base_url.trim_end_matches('/')
}

/// The title, and the summary (practices) or description (events), of the content in force.
fn title_and_summary(item: &Current) -> (Option<&pb::LocalizedText>, Option<&pb::LocalizedText>) {
    match item.content() {
        Some(c) => (c.view().title(), c.view().summary()),
        None => (None, None),
    }
}

/// The topics of the content in force.
fn topics(item: &Current) -> &[String] {
    item.content().map_or(&[], |c| c.view().topics())
}

/// Milliseconds since the epoch as a UTC time (the epoch itself if out of range).
fn utc(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// How far the item moved since it was published: the seq of its latest amendment or
/// retraction minus the original's, or 0.
fn revision(item: &Current) -> u64 {
    [&item.amendment, &item.retraction]
        .into_iter()
        .flatten()
        .map(|r| r.header.seq.saturating_sub(item.original.header.seq))
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
pub(crate) mod fixture {
    //! Real signed records by the sample members (deploy/sample), built into [`Current`] values.

    use std::collections::BTreeMap;

    use hubnet_protocol::charter::CharterDoc;
    use hubnet_protocol::record::{self, Position};
    use hubnet_protocol::{Charter, Draft, DraftFormat, Record, SecretKey};
    use serde_json::{Value, json};

    use crate::current::Current;

    /// 2027-01-15T08:00:00Z.
    pub const T0: i64 = 1_800_000_000_000;

    use crate::test_support::sample;

    /// The sample network and each member's log position.
    pub struct Net {
        pub charter: Charter,
        keys: BTreeMap<String, SecretKey>,
        positions: BTreeMap<String, Position>,
    }

    /// The sample charter with the members' keys.
    pub fn net() -> Net {
        let text = std::fs::read_to_string(sample("charter.toml")).expect("sample charter");
        let charter = CharterDoc::from_toml(&text)
            .expect("parses")
            .verify()
            .expect("verifies");
        let keys = ["HUB", "KZ", "UZ", "AZ", "KG"]
            .into_iter()
            .map(|m| {
                let key = crate::test_support::sample_key(m);
                (m.to_owned(), key)
            })
            .collect();
        Net {
            charter,
            keys,
            positions: BTreeMap::new(),
        }
    }

    impl Net {
        /// Signs `draft` as `member`'s next record at `at_ms` and verifies it.
        pub fn sign(&mut self, member: &str, at_ms: i64, draft: &Value) -> Record {
            let body = Draft::parse(&draft.to_string(), DraftFormat::Json)
                .and_then(|d| d.to_body(member, &self.charter.rules().at(at_ms)))
                .unwrap_or_else(|e| panic!("draft {draft}: {e}"));
            let position = self
                .positions
                .get(member)
                .copied()
                .unwrap_or(Position::FIRST);
            let signed = record::sign(
                &self.keys[member],
                self.charter.network_id(),
                position,
                at_ms,
                &body,
            );
            let r = record::verify_record(&signed.encode(), &self.charter, at_ms).expect("valid");
            self.positions
                .insert(member.to_owned(), Position::after(&r));
            r
        }

        /// A newly published practice or event.
        pub fn publish(&mut self, member: &str, at_ms: i64, draft: Value) -> Current {
            Current {
                original: self.sign(member, at_ms, &draft),
                amendment: None,
                retraction: None,
            }
        }

        /// Amends `item` with the complete new version `record`.
        pub fn amend(&mut self, item: &mut Current, at_ms: i64, record: Value) {
            let draft = json!({
                "kind": "amendment",
                "target": item.id().to_hex(),
                "record": record,
                "note": {"en": "Dates changed."},
            });
            item.amendment = Some(self.sign(&item.original.member.clone(), at_ms, &draft));
        }

        /// Retracts `item`.
        pub fn retract(&mut self, item: &mut Current, at_ms: i64) {
            let draft = json!({
                "kind": "retraction",
                "target": item.id().to_hex(),
                "reason": {"ru": "Опубликовано по ошибке.", "en": "Published in error."},
            });
            item.retraction = Some(self.sign(&item.original.member.clone(), at_ms, &draft));
        }
    }

    /// A Kazakh practice in Kazakh and Russian with commas, quotes and a newline.
    pub fn practice_kz() -> Value {
        json!({
            "kind": "practice",
            "title": {"kk": "Тәлімгерлік: \"жаңа\" қызметшілерге, 100% қолдау",
                      "ru": "Наставничество: \"новым\" служащим, 100% поддержка"},
            "summary": {"ru": "Каждому новому служащему назначается наставник;\nпервые 6 месяцев, с отчётом.",
                        "kk": "Әр жаңа қызметшіге тәлімгер бекітіледі."},
            "topics": ["training", "hr-management"],
            "license": "CC-BY-4.0",
        })
    }

    /// An Uzbek practice, with U+02BB and U+02BC in the Latin script.
    pub fn practice_uz() -> Value {
        json!({
            "kind": "practice",
            "title": {"uz": "Oʻzbekiston: davlat xizmatiga maʼlumotlar asosida tanlov",
                      "en": "Uzbekistan: data-driven recruitment {v2} & more_#1 $5"},
            "summary": {"uz": "Nomzodlar onlayn test topshiradi, natijalar ochiq eʼlon qilinadi."},
            "topics": ["recruitment"],
        })
    }

    /// A conference in Almaty.
    pub fn event_kz() -> Value {
        json!({
            "kind": "event",
            "event_type": "conference",
            "title": {"ru": "Конференция о цифровых государственных услугах",
                      "kk": "Цифрлық мемлекеттік қызметтер туралы конференция",
                      "en": "Conference on digital public services"},
            "description": {"ru": "Два дня докладов, круглых столов и практикумов по цифровым услугам; \
                                   вход свободный, регистрация обязательна."},
            "start": "2027-04-14T09:30",
            "end": "2027-04-15T17:00",
            "time_zone": "Asia/Almaty",
            "place": {"name": {"ru": "Академия госуправления"},
                      "address": {"ru": "пр. Абая, 33, Алматы"}, "country": "KZ"},
            "topics": ["e-government", "service-delivery"],
        })
    }

    /// A cancelled webinar of Uzbekistan.
    pub fn event_uz_cancelled() -> Value {
        json!({
            "kind": "event",
            "event_type": "webinar",
            "title": {"uz": "Oʻzbekistonda davlat xizmati islohoti"},
            "start": "2027-05-20T14:00:00",
            "time_zone": "Asia/Tashkent",
            "online_url": "https://example.org/webinar",
            "status": "cancelled",
        })
    }

    /// A training in Baku.
    pub fn event_az(start: &str) -> Value {
        json!({
            "kind": "event",
            "event_type": "training",
            "title": {"en": "Ethics training", "ru": "Тренинг по этике"},
            "start": start,
            "end": "2027-06-02T16:00",
            "time_zone": "Asia/Baku",
            "topics": ["ethics-integrity"],
        })
    }

    /// A joint programme led by `lead` with KZ (funding, implementing), UZ (beneficiary only)
    /// and the institution `institution` (implementing), in `status`, over `planned_start` to
    /// 2028-12-31, with a budget, a result with an actual, and `related` (record ids with their
    /// relation) as related programmes.
    pub fn programme(
        lead: &str,
        status: &str,
        planned_start: &str,
        institution: &str,
        related: &[(String, &str)],
    ) -> Value {
        json!({
            "kind": "programme",
            "title": {"en": "Joint e-recruitment & \"merit\" <toolkit>",
                      "ru": "Совместная программа электронного найма"},
            "description": {"en": "Three agencies build one merit-based e-recruitment toolkit;\nopen competitions online."},
            "objectives": {"en": "Open competitions online in every participating agency."},
            "participants": [
                {"member": lead, "roles": ["lead", "accountable"],
                 "contributions": [{"type": "cash", "amount": "120000", "currency": "USD"}]},
                {"member": "KZ", "roles": ["funding", "implementing"],
                 "contributions": [{"type": "in_kind", "amount": "15000000.50", "currency": "KZT",
                                    "description": {"en": "Trainers and venues"}}]},
                {"member": "UZ", "roles": ["beneficiary"]},
                {"institution": institution, "roles": ["implementing"]}
            ],
            "status": status,
            "planned_start": planned_start,
            "planned_end": "2028-12-31",
            "actual_start": "2027-02-01",
            "countries": ["KZ", "UZ"],
            "topics": ["recruitment", "e-government"],
            "budget": [
                {"period_start": "2027-01-01", "period_end": "2027-12-31", "value": "80000",
                 "currency": "USD", "status": "committed"},
                {"period_start": "2028-01-01", "period_end": "2028-12-31", "value": "40000.50",
                 "currency": "USD", "status": "indicative"}
            ],
            "results": [{
                "type": "outcome",
                "title": {"en": "Recruiters trained", "kk": "Оқытылған іріктеушілер"},
                "indicators": [{
                    "title": {"en": "Share of posts filled by open competition"},
                    "measure": "percentage",
                    "ascending": true,
                    "baseline": {"value": 12.5, "year": 2026},
                    "periods": [
                        {"start": "2027-02-01", "end": "2027-12-31", "target": 40, "actual": 37.5},
                        {"start": "2028-01-01", "end": "2028-12-31", "target": 75}
                    ]
                }]
            }],
            "related": related.iter().map(|(id, relation)| json!({"id": id, "relation": relation}))
                .collect::<Vec<_>>(),
        })
    }

    /// A study visit in Brussels across the end of summer time (2027-10-31).
    pub fn event_hub(start: &str, end: &str, status: &str) -> Value {
        json!({
            "kind": "event",
            "event_type": "study-visit",
            "title": {"en": "Study visit to the European Commission"},
            "start": start,
            "end": end,
            "time_zone": "Europe/Brussels",
            "status": status,
            "country": "HUB",
        })
    }
}
