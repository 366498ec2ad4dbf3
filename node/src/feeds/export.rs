//! Bulk exports of records of every content kind (practices, events, programmes, ...): CSV (RFC 4180, written by the `csv` crate) for
//! spreadsheets, and JSON or NDJSON with everything [`Current::json`] shows. Every row and
//! object carries the original's signed bytes, so each can be verified on its own.

use std::borrow::Borrow;
use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::{pick, title_and_summary, topics};
use crate::current::Current;
use crate::kinds::{Content, EventSchedule};
use crate::view::rfc3339_ms;
use hubnet_protocol::kinds::programme::ProgrammeStatus;

/// The CSV columns, in order.
pub const CSV_COLUMNS: [&str; 20] = [
    "id",
    "kind",
    "member",
    "country",
    "topics",
    "title",
    "summary",
    "created_at",
    "updated_at",
    "event_start",
    "event_end",
    "time_zone",
    "event_status",
    "retracted",
    "amended_by",
    "signed_header",
    "signed_body",
    "signature",
    "erased",
    "programme_status",
];

/// `items` as CSV: a header row of [`CSV_COLUMNS`], then one row per item, lines ended by CRLF
/// and cells quoted where needed, as RFC 4180 has it.
///
/// `title` and `summary` (an event's description) are in `lang` as [`pick`] chooses; `topics`
/// are joined with `;`; times are RFC 3339 UTC with milliseconds; `event_start` and `event_end`
/// are the event's local times in `time_zone`, and empty for a practice, as is `event_status`
/// (`scheduled`, `postponed` or `cancelled`); `retracted` is `true` or `false`; `amended_by` is
/// the id of the latest amendment or empty. The last three columns are the original record's
/// signed header, body and signature in standard base64, as the JSON view has them; `erased` is
/// `true` for an erased record (docs/PROTOCOL.md §2.1: no content, an empty body, and its
/// header and signature), else `false`.
///
/// A programme's row has its lead as `country`, its objectives (else its description) as
/// `summary`, its planned start and end as `event_start` and `event_end` (whole days,
/// `YYYY-MM-DD`; `event_end` empty when open-ended) with `time_zone` `UTC`, and as
/// `event_status` `cancelled` when cancelled, `postponed` when suspended, else `scheduled`; its
/// own status (IATI ActivityStatus as drafts name it: `pipeline`, `implementation`,
/// `completion`, `post_completion`, `cancelled`, `suspended`) is the last column,
/// `programme_status`, empty for every other kind. Participants, budget and results are in the
/// JSON export and in IATI XML (`super::iati`).
pub fn csv(items: &[Current], lang: Option<&str>) -> String {
    let mut out = Vec::new();
    // Writing to memory cannot fail.
    let _ = write_csv(&mut out, items, lang);
    String::from_utf8(out).unwrap_or_default()
}

/// [`csv`], written to `out` one row at a time.
pub fn write_csv<W: Write>(
    out: W,
    items: impl IntoIterator<Item = impl Borrow<Current>>,
    lang: Option<&str>,
) -> std::io::Result<()> {
    let mut writer = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(out);
    writer.write_record(CSV_COLUMNS)?;
    for item in items {
        writer.write_record(row(item.borrow(), lang))?;
    }
    writer.flush()
}

/// `rows` (all of one length, the header first) as RFC 4180 CSV with CRLF line ends.
pub fn csv_text<R: AsRef<[String]>>(rows: impl IntoIterator<Item = R>) -> String {
    let mut writer = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for row in rows {
        // Writing to memory can fail only on a row of the wrong length, which cannot happen.
        if writer.write_record(row.as_ref()).is_err() {
            break;
        }
    }
    writer
        .into_inner()
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default()
}

/// One CSV row.
fn row(item: &Current, lang: Option<&str>) -> [String; 20] {
    let (title, summary) = title_and_summary(item);
    let view = item.content().map(|c| c.view());
    let (kind, country) = match view {
        Some(v) => (v.name(), v.country()),
        None => (item.original.header.kind.name(), ""),
    };
    let schedule = view.and_then(|v| v.schedule());
    let event_field = |f: for<'a> fn(&'a EventSchedule<'a>) -> &'a str| {
        schedule.as_ref().map_or("", f).to_owned()
    };
    let signed = &item.original.signed;
    [
        item.id().to_hex(),
        kind.to_owned(),
        item.member().to_owned(),
        country.to_owned(),
        topics(item).join(";"),
        pick(title, lang).to_owned(),
        pick(summary, lang).to_owned(),
        rfc3339_ms(item.created_at()),
        rfc3339_ms(item.updated_at()),
        event_field(|s| s.start),
        event_field(|s| s.end),
        event_field(|s| s.time_zone),
        event_field(|s| s.status),
        item.retracted().to_string(),
        item.amendment
            .as_ref()
            .map(|a| a.id.to_hex())
            .unwrap_or_default(),
        STANDARD.encode(&signed.header),
        STANDARD.encode(&signed.body),
        STANDARD.encode(&signed.signature),
        item.original.body.is_erased().to_string(),
        item.content()
            .and_then(Content::programme)
            .and_then(|p| ProgrammeStatus::from_proto(p.status))
            .map_or("", ProgrammeStatus::name)
            .to_owned(),
    ]
}

/// `items` as one JSON array of [`Current::json`] objects.
pub fn json(items: &[Current]) -> Value {
    Value::Array(items.iter().map(Current::json).collect())
}

/// [`json`] as compact text, written to `out` one object at a time.
pub fn write_json<W: Write>(
    mut out: W,
    items: impl IntoIterator<Item = impl Borrow<Current>>,
) -> std::io::Result<()> {
    out.write_all(b"[")?;
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut out, &item.borrow().json())?;
    }
    out.write_all(b"]")
}

/// `items` as NDJSON: one compact [`Current::json`] object per line, each line ended by `\n`.
pub fn ndjson(items: &[Current]) -> String {
    let mut out = Vec::new();
    // Writing to memory cannot fail.
    let _ = write_ndjson(&mut out, items);
    String::from_utf8(out).unwrap_or_default()
}

/// [`ndjson`], written to `out` one line at a time.
pub fn write_ndjson<W: Write>(
    mut out: W,
    items: impl IntoIterator<Item = impl Borrow<Current>>,
) -> std::io::Result<()> {
    for item in items {
        serde_json::to_writer(&mut out, &item.borrow().json())?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use hubnet_protocol::SignedRecord;
    use serde_json::json;

    use super::*;
    use crate::feeds::fixture::{self, T0};

    const HOUR: i64 = 3_600_000;

    fn items() -> Vec<Current> {
        let mut net = fixture::net();
        let kz = net.publish("KZ", T0, fixture::practice_kz());
        let uz = net.publish("UZ", T0 + HOUR, fixture::practice_uz());
        let mut hub = net.publish(
            "HUB",
            T0 + 2 * HOUR,
            fixture::event_hub("2027-10-01T09:00", "2027-10-01T17:00", "scheduled"),
        );
        net.amend(
            &mut hub,
            T0 + 3 * HOUR,
            fixture::event_hub("2027-10-29T09:00", "2027-11-02T12:00", "postponed"),
        );
        let mut az = net.publish("AZ", T0 + 4 * HOUR, fixture::event_az("2027-06-01T10:00"));
        net.retract(&mut az, T0 + 5 * HOUR);
        let programme = net.publish(
            "KG",
            T0 + 6 * HOUR,
            fixture::programme("KG", "suspended", "2027-01-01", &"22".repeat(32), &[]),
        );
        vec![kz, uz, hub, az, programme]
    }

    #[test]
    fn csv_reads_back_to_the_same_cells() {
        let items = items();
        let text = csv(&items, Some("ru"));
        assert!(text.contains("\r\n"));
        let mut reader = ::csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .expect("header")
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(header, CSV_COLUMNS);
        let rows: Vec<::csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
        assert_eq!(rows.len(), items.len());
        for (row, item) in rows.iter().zip(&items) {
            assert_eq!(row.iter().collect::<Vec<_>>(), row_of(item, Some("ru")));
        }

        let kz = &rows[0];
        assert_eq!(&kz[1], "practice");
        assert_eq!(&kz[2], "KZ");
        assert_eq!(&kz[4], "training;hr-management");
        // Commas, quotes, a percent sign and Cyrillic in the title; a newline in the summary.
        assert_eq!(&kz[5], "Наставничество: \"новым\" служащим, 100% поддержка");
        assert_eq!(
            &kz[6],
            "Каждому новому служащему назначается наставник;\nпервые 6 месяцев, с отчётом."
        );
        assert_eq!(&kz[7], "2027-01-15T08:00:00.000Z");
        assert_eq!(&kz[9], "");
        assert_eq!(&kz[13], "false");

        // Uzbek ʻ and ʼ survive; no Russian title, so English; summary only in Uzbek.
        let uz = &rows[1];
        assert_eq!(
            &uz[5],
            "Uzbekistan: data-driven recruitment {v2} & more_#1 $5"
        );
        assert!(uz[6].contains("eʼlon"));

        let hub = &rows[2];
        assert_eq!(&hub[1], "event");
        assert_eq!(&hub[3], "HUB");
        assert_eq!(&hub[9], "2027-10-29T09:00");
        assert_eq!(&hub[10], "2027-11-02T12:00");
        assert_eq!(&hub[11], "Europe/Brussels");
        assert_eq!(&hub[12], "postponed");
        assert_eq!(&hub[8], "2027-01-15T11:00:00.000Z");
        let amendment = items[2].amendment.as_ref().expect("amended");
        assert_eq!(&hub[14], amendment.id.to_hex());

        let az = &rows[3];
        assert_eq!(&az[12], "scheduled");
        assert_eq!(&az[13], "true");
        assert_eq!(&az[19], "");

        // A programme: its lead, objectives, planned days in UTC, both statuses.
        let programme = &rows[4];
        assert_eq!(&programme[1], "programme");
        assert_eq!(&programme[3], "KG");
        assert_eq!(&programme[4], "recruitment;e-government");
        assert_eq!(&programme[5], "Совместная программа электронного найма");
        assert_eq!(
            &programme[6],
            "Open competitions online in every participating agency."
        );
        assert_eq!(&programme[9], "2027-01-01");
        assert_eq!(&programme[10], "2028-12-31");
        assert_eq!(&programme[11], "UTC");
        assert_eq!(&programme[12], "postponed");
        assert_eq!(&programme[13], "false");
        assert_eq!(&programme[18], "false");
        assert_eq!(&programme[19], "suspended");

        // The signed columns are the original record, byte for byte.
        let signed = SignedRecord {
            header: STANDARD.decode(&hub[15]).expect("base64"),
            body: STANDARD.decode(&hub[16]).expect("base64"),
            signature: STANDARD.decode(&hub[17]).expect("base64"),
            erasure: Vec::new(),
        };
        assert_eq!(signed, items[2].original.signed);
        assert_eq!(signed.id().to_hex(), &hub[0]);
    }

    fn row_of(item: &Current, lang: Option<&str>) -> Vec<String> {
        row(item, lang).to_vec()
    }

    #[test]
    fn json_and_ndjson_carry_every_item() {
        let items = items();
        let array = json(&items);
        let array = array.as_array().expect("array");
        assert_eq!(array.len(), items.len());
        assert_eq!(array[2]["current"]["status"], "postponed");
        assert_eq!(array[3]["retracted"], true);
        // A programme carries everything it says: participants, budget, results.
        let programme = &array[4]["body"];
        assert_eq!(programme["status"], "suspended");
        assert_eq!(
            programme["participants"][1]["roles"],
            json!(["funding", "implementing"])
        );
        assert_eq!(programme["budget"][1]["value"], "40000.50");
        assert_eq!(
            programme["results"][0]["indicators"][0]["periods"][0]["actual"],
            37.5
        );

        let text = ndjson(&items);
        assert!(text.ends_with('\n'));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), items.len());
        for (line, item) in lines.iter().zip(&items) {
            assert!(!line.is_empty());
            let v: Value = serde_json::from_str(line).expect("one JSON object per line");
            assert_eq!(v, item.json());
            assert_eq!(v["id"], item.id().to_hex());
        }
        assert!(ndjson(&[]).is_empty());
    }
}
