//! Events, and joint programmes when asked for, as an iCalendar feed (RFC 5545) that calendar
//! applications can subscribe to.
//!
//! An event's `start` and `end` are local times in its IANA `time_zone`, so they are written as
//! `DTSTART;TZID=Asia/Almaty:20270414T093000`, and the calendar carries one `VTIMEZONE` per zone
//! used. The `icalendar` crate writes the events and every content line (escaping, folding); it
//! has no `VTIMEZONE` support, so the observances are computed here from chrono-tz's data for the
//! years the events fall in, and written with the crate's `Property`.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz, TzOffset};
use hubnet_proto::v1 as pb;
use hubnet_protocol::kinds::programme::ProgrammeStatus;
use icalendar::{
    Calendar, CalendarDateTime, Component, DatePerhapsTime, EventLike, EventStatus, Property,
};

use super::{pick, record_url, revision, topics, utc};
use crate::current::Current;
use crate::kinds::Content;

/// The events and programmes among `items` as an iCalendar object named `calendar_name`, texts
/// in `lang` as [`pick`] chooses; other kinds are skipped (the caller chooses whether programmes
/// are among `items`).
///
/// Each event is one `VEVENT`: `UID` `<record id>@hubnet`; `DTSTAMP` and `LAST-MODIFIED` when
/// it last changed, `CREATED` when first published; `SEQUENCE` how many log entries its author
/// has written since the original up to its latest amendment or retraction (0 if neither);
/// `SUMMARY`, `DESCRIPTION`, `URL` (`{base_url}/records/{id}`), `LOCATION` (place name, address
/// and country, else the online URL), `CATEGORIES` (topics) and `STATUS` (`CONFIRMED` when
/// scheduled, `TENTATIVE` when postponed, `CANCELLED` when cancelled or retracted). Start and end
/// are in the event's zone with a `VTIMEZONE` for it; a zone chrono-tz does not know is read as
/// UTC.
///
/// A programme is an all-day `VEVENT` from its planned start (`DTSTART;VALUE=DATE`) to its
/// planned end, `DTEND` being the day after it (RFC 5545: a date end is exclusive); without a
/// planned end it has no `DTEND`, so calendars show its first day only. Its `DESCRIPTION` is its
/// objectives, else its description; `LOCATION` its countries; `STATUS` `CANCELLED` when
/// cancelled or retracted, `TENTATIVE` when suspended, else `CONFIRMED` (whether the
/// participants confirmed it is `GET /api/v1/programmes/{id}`'s, not the calendar's).
///
/// The calendar's own `LAST-MODIFIED` (RFC 7986) is the latest change of its events, or `now_ms`
/// when there are none.
pub fn events(
    items: impl IntoIterator<Item = impl std::borrow::Borrow<Current>>,
    base_url: &str,
    calendar_name: &str,
    lang: Option<&str>,
    now_ms: i64,
) -> String {
    let mut zones: BTreeMap<&'static str, (Tz, i32, i32)> = BTreeMap::new();
    let mut vevents = Vec::new();
    let mut last_modified = None;
    for item in items {
        let item = item.borrow();
        let e = match item.content() {
            Some(Content::Event(e)) => e,
            Some(Content::Programme(p)) => {
                if let Some(ev) = programme_vevent(item, p, base_url, lang) {
                    last_modified = last_modified.max(Some(item.updated_at()));
                    vevents.push(ev);
                }
                continue;
            }
            _ => continue,
        };
        // Validated events always have a start; anything else cannot be placed in a calendar.
        let Some(start) = Local::parse(&e.start) else {
            continue;
        };
        let zone = e.time_zone.parse::<Tz>().ok();
        let end = Local::parse(&e.end).and_then(|end| end.as_end_of(start));
        if let Some(tz) = zone {
            for t in [Some(start), end].into_iter().flatten() {
                if let Local::DateTime(t) = t {
                    let year = chrono::Datelike::year(&t);
                    let span = zones.entry(tz.name()).or_insert((tz, year, year));
                    span.1 = span.1.min(year);
                    span.2 = span.2.max(year);
                }
            }
        }
        last_modified = last_modified.max(Some(item.updated_at()));
        vevents.push(vevent(item, e, start, end, zone, base_url, lang));
    }

    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new("PRODID", "-//hubnet//feeds//EN"))
        .append_property(Property::new("CALSCALE", "GREGORIAN"));
    // NAME (RFC 7986) and the older X-WR-CALNAME are TEXT, but the crate escapes only the
    // properties it knows to be TEXT, so the type is given.
    for key in ["NAME", "X-WR-CALNAME"] {
        calendar.append_property(
            Property::new(key, clean(calendar_name))
                .add_parameter("VALUE", "TEXT")
                .done(),
        );
    }
    calendar.append_property(Property::new(
        "LAST-MODIFIED",
        stamp(last_modified.unwrap_or(now_ms)),
    ));
    let mut out = calendar.to_string();
    if let Some(head) = out.strip_suffix("END:VCALENDAR\r\n").map(str::len) {
        out.truncate(head);
    }
    for (tz, first, last) in zones.values() {
        out.push_str(&vtimezone(*tz, *first, *last));
    }
    for event in &vevents {
        out.push_str(&event.try_into_string().unwrap_or_default());
    }
    out.push_str("END:VCALENDAR\r\n");
    refold(&out)
}

/// A local date-time or a date, as events carry them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Local {
    DateTime(NaiveDateTime),
    Date(NaiveDate),
}

impl Local {
    /// `YYYY-MM-DDTHH:MM[:SS]` or `YYYY-MM-DD`.
    fn parse(value: &str) -> Option<Self> {
        if let Ok(Some(t)) = hubnet_protocol::validate::local_date_time("time", value, false) {
            return Some(Local::DateTime(t));
        }
        NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .ok()
            .map(Local::Date)
    }

    /// This end as an iCalendar `DTEND` for `start`: of the same value type (a date end is
    /// exclusive, so the next day), and `None` unless after the start.
    fn as_end_of(self, start: Local) -> Option<Local> {
        let end = match (start, self) {
            (Local::Date(_), Local::Date(d)) => Local::Date(d.checked_add_days(Days::new(1))?),
            (Local::Date(_), Local::DateTime(t)) => {
                Local::Date(t.date().checked_add_days(Days::new(1))?)
            }
            (Local::DateTime(_), Local::Date(d)) => Local::DateTime(
                d.checked_add_days(Days::new(1))?
                    .and_time(Default::default()),
            ),
            (Local::DateTime(_), end @ Local::DateTime(_)) => end,
        };
        (end > start).then_some(end)
    }

    /// The iCalendar value: a `DATE`, a date-time with `TZID`, or UTC without a known zone.
    fn value(self, zone: Option<Tz>) -> DatePerhapsTime {
        match (self, zone) {
            (Local::Date(d), _) => d.into(),
            (Local::DateTime(date_time), Some(tz)) => CalendarDateTime::WithTimezone {
                date_time,
                tzid: tz.name().to_owned(),
            }
            .into(),
            (Local::DateTime(t), None) => CalendarDateTime::Utc(Utc.from_utc_datetime(&t)).into(),
        }
    }
}

/// A `VEVENT` of `item` with what every one carries: `UID`, `DTSTAMP`, `CREATED`,
/// `LAST-MODIFIED`, `SEQUENCE`, `SUMMARY` (`title` in `lang`) and `URL`.
fn vevent_of(
    item: &Current,
    title: Option<&pb::LocalizedText>,
    base_url: &str,
    lang: Option<&str>,
) -> icalendar::Event {
    let mut ev = icalendar::Event::new();
    ev.uid(&format!("{}@hubnet", item.id().to_hex()))
        .timestamp(utc(item.updated_at()))
        .created(utc(item.created_at()))
        .last_modified(utc(item.updated_at()))
        .sequence(u32::try_from(revision(item)).unwrap_or(u32::MAX))
        .summary(&clean(pick(title, lang)))
        .url(&record_url(base_url, item));
    ev
}

/// One `VEVENT`.
fn vevent(
    item: &Current,
    e: &pb::Event,
    start: Local,
    end: Option<Local>,
    zone: Option<Tz>,
    base_url: &str,
    lang: Option<&str>,
) -> icalendar::Event {
    let mut ev = vevent_of(item, e.title.as_ref(), base_url, lang);
    ev.starts(start.value(zone));
    if let Some(end) = end {
        ev.ends(end.value(zone));
    }
    let place = location(e.place.as_ref(), lang);
    let mut description = clean(pick(e.description.as_ref(), lang));
    if !place.is_empty() {
        ev.location(&place);
        if !e.online_url.is_empty() {
            if !description.is_empty() {
                description.push_str("\n\n");
            }
            description.push_str(&clean(&e.online_url));
        }
    } else if !e.online_url.is_empty() {
        ev.location(&clean(&e.online_url));
    }
    if !description.is_empty() {
        ev.description(&description);
    }
    let topics = topics(item);
    if !topics.is_empty() {
        ev.categories(topics.iter().map(|t| clean(t)));
    }
    let status = if item.retracted() {
        EventStatus::Cancelled
    } else {
        match e.status() {
            pb::EventStatus::Cancelled => EventStatus::Cancelled,
            pb::EventStatus::Postponed => EventStatus::Tentative,
            pb::EventStatus::Scheduled | pb::EventStatus::Unspecified => EventStatus::Confirmed,
        }
    };
    ev.status(status);
    ev.done()
}

/// One all-day `VEVENT` of a programme, or `None` without a valid planned start.
fn programme_vevent(
    item: &Current,
    p: &pb::Programme,
    base_url: &str,
    lang: Option<&str>,
) -> Option<icalendar::Event> {
    let start = NaiveDate::parse_from_str(&p.planned_start, "%Y-%m-%d").ok()?;
    let end = NaiveDate::parse_from_str(&p.planned_end, "%Y-%m-%d")
        .ok()
        .and_then(|d| Local::Date(d).as_end_of(Local::Date(start)));
    let mut ev = vevent_of(item, p.title.as_ref(), base_url, lang);
    ev.starts(Local::Date(start).value(None));
    if let Some(end) = end {
        ev.ends(end.value(None));
    }
    let description = clean(pick(p.objectives.as_ref().or(p.description.as_ref()), lang));
    if !description.is_empty() {
        ev.description(&description);
    }
    if !p.countries.is_empty() {
        ev.location(&clean(&p.countries.join(", ")));
    }
    let topics = topics(item);
    if !topics.is_empty() {
        ev.categories(topics.iter().map(|t| clean(t)));
    }
    let status = match ProgrammeStatus::from_proto(p.status) {
        _ if item.retracted() => EventStatus::Cancelled,
        Some(ProgrammeStatus::Cancelled) => EventStatus::Cancelled,
        Some(ProgrammeStatus::Suspended) => EventStatus::Tentative,
        _ => EventStatus::Confirmed,
    };
    ev.status(status);
    Some(ev.done())
}

/// The place's name, address and country, those present, joined with `, `.
fn location(place: Option<&pb::Place>, lang: Option<&str>) -> String {
    let Some(place) = place else {
        return String::new();
    };
    [
        pick(place.name.as_ref(), lang),
        pick(place.address.as_ref(), lang),
        place.country.as_str(),
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .map(clean)
    .collect::<Vec<_>>()
    .join(", ")
}

/// Text fit for a content line: line breaks as `\n` (which the crate escapes), no other control
/// characters, which RFC 5545 does not allow in `TEXT`.
fn clean(text: &str) -> String {
    text.replace("\r\n", "\n")
        .chars()
        .map(|c| if c == '\r' { '\n' } else { c })
        .filter(|&c| c == '\n' || c == '\t' || !c.is_control())
        .collect()
}

/// A UTC time as iCalendar writes it, `20270115T080000Z`.
fn stamp(ms: i64) -> String {
    utc(ms).format("%Y%m%dT%H%M%SZ").to_string()
}

/// One content line, folded and ended by the crate.
fn content_line(key: &str, value: &str) -> String {
    Property::new(key, value).try_into().unwrap_or_default()
}

/// The `VTIMEZONE` of `tz` for local times in the years `first..=last`: the observance in force
/// at the start of `first`, then one observance per change of offset until the end of `last`,
/// each with its single onset (`DTSTART` in the local time before the change) and no `RRULE`.
fn vtimezone(tz: Tz, first: i32, last: i32) -> String {
    const DAY: i64 = 86_400;
    let jan1 = |year: i32| {
        NaiveDate::from_ymd_opt(year, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or(0, |t| t.and_utc().timestamp())
    };
    // A day of margin either side: local time is up to 14 hours off UTC.
    let from = jan1(first) - DAY;
    let until = jan1(last.saturating_add(1)) + DAY;
    let at = |secs: i64| {
        let t = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
        tz.offset_from_utc_datetime(&t.naive_utc())
    };
    let mut out = String::from("BEGIN:VTIMEZONE\r\n");
    out.push_str(&content_line("TZID", tz.name()));
    let mut before = at(from);
    out.push_str(&observance(from, &before, &before));
    let mut t = from;
    while t < until {
        let next = t + DAY;
        if !same(&at(next), &before) {
            // The change is in (t, next]; offsets change on whole seconds.
            let (mut lo, mut hi) = (t, next);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if same(&at(mid), &before) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let after = at(hi);
            out.push_str(&observance(hi, &before, &after));
            before = after;
        }
        t = next;
    }
    out.push_str("END:VTIMEZONE\r\n");
    out
}

/// Whether two offsets of a zone are the same observance.
fn same(a: &TzOffset, b: &TzOffset) -> bool {
    a.fix() == b.fix() && a.dst_offset() == b.dst_offset() && a.abbreviation() == b.abbreviation()
}

/// A `STANDARD` or `DAYLIGHT` observance starting at `onset` (UTC seconds).
fn observance(onset: i64, from: &TzOffset, to: &TzOffset) -> String {
    let kind = if to.dst_offset().is_zero() {
        "STANDARD"
    } else {
        "DAYLIGHT"
    };
    let local = chrono::DateTime::from_timestamp(onset + i64::from(offset_secs(from)), 0)
        .unwrap_or_default()
        .naive_utc();
    let mut out = format!("BEGIN:{kind}\r\n");
    out.push_str(&content_line(
        "DTSTART",
        &local.format("%Y%m%dT%H%M%S").to_string(),
    ));
    out.push_str(&content_line("TZOFFSETFROM", &utc_offset(from)));
    out.push_str(&content_line("TZOFFSETTO", &utc_offset(to)));
    if let Some(name) = to.abbreviation() {
        out.push_str(&content_line("TZNAME", name));
    }
    out.push_str(&format!("END:{kind}\r\n"));
    out
}

/// The offset from UTC in seconds, daylight saving included.
fn offset_secs(offset: &TzOffset) -> i32 {
    offset.fix().local_minus_utc()
}

/// An RFC 5545 `UTC-OFFSET`: `+0500`, `-0330`, `+013000` when seconds are not zero.
fn utc_offset(offset: &TzOffset) -> String {
    let secs = offset_secs(offset);
    let sign = if secs < 0 { '-' } else { '+' };
    let secs = secs.unsigned_abs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if s == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{s:02}")
    }
}

/// Folds again the physical lines longer than 75 octets. `icalendar` 0.17 folds every line, on
/// character boundaries, but lets a continuation line reach 76 octets when exactly 75 octets of
/// the content line are left for it; this splits such lines (again on character boundaries) and
/// leaves every other byte as the crate wrote it.
fn refold(text: &str) -> String {
    const LIMIT: usize = 75;
    let mut out = String::with_capacity(text.len() + text.len() / 32);
    for line in text.split_inclusive("\r\n") {
        let (mut rest, eol) = line
            .strip_suffix("\r\n")
            .map_or((line, ""), |body| (body, "\r\n"));
        let mut limit = LIMIT;
        while rest.len() > limit {
            let mut cut = limit;
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            out.push_str(&rest[..cut]);
            out.push_str("\r\n ");
            rest = &rest[cut..];
            // A continuation line starts with the folding space.
            limit = LIMIT - 1;
        }
        out.push_str(rest);
        out.push_str(eol);
    }
    out
}

#[cfg(test)]
mod tests {
    use icalendar::parser::{Component as Parsed, read_calendar, unfold};
    use serde_json::json;

    use super::*;
    use crate::feeds::fixture::{self, T0};

    const HOUR: i64 = 3_600_000;

    /// Every physical line ends in CRLF and has at most 75 octets.
    fn check_lines(ics: &str) {
        assert!(ics.ends_with("\r\n"));
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
            assert!(!line.contains('\n') && !line.contains('\r'), "{line:?}");
        }
    }

    fn prop<'a>(c: &'a Parsed<'a>, name: &str) -> &'a str {
        c.find_prop(name)
            .map(|p| p.val.as_str())
            .unwrap_or_else(|| panic!("{name} missing"))
    }

    fn param<'a>(c: &'a Parsed<'a>, name: &str, param: &str) -> Option<&'a str> {
        c.find_prop(name)?
            .params
            .iter()
            .find(|p| p.key == param)
            .and_then(|p| p.val.as_ref())
            .map(|v| v.as_str())
    }

    fn event_by_uid<'a>(cal: &'a [Parsed<'a>], uid: &str) -> &'a Parsed<'a> {
        cal.iter()
            .find(|c| c.name == "VEVENT" && c.find_prop("UID").is_some_and(|p| p.val == uid))
            .unwrap_or_else(|| panic!("no VEVENT {uid}"))
    }

    #[test]
    fn events_become_vevents_with_zones_statuses_and_folded_lines() {
        let mut net = fixture::net();
        let practice = net.publish("KZ", T0, fixture::practice_kz());
        let kz = net.publish("KZ", T0 + HOUR, fixture::event_kz());
        let uz = net.publish("UZ", T0 + 2 * HOUR, fixture::event_uz_cancelled());
        let mut az = net.publish("AZ", T0 + 3 * HOUR, fixture::event_az("2027-06-01T10:00"));
        net.retract(&mut az, T0 + 4 * HOUR);
        let mut hub = net.publish(
            "HUB",
            T0 + 5 * HOUR,
            fixture::event_hub("2027-10-01T09:00", "2027-10-01T17:00", "scheduled"),
        );
        net.publish("HUB", T0 + 6 * HOUR, fixture::practice_uz()); // moves HUB's seq on
        net.amend(
            &mut hub,
            T0 + 7 * HOUR,
            fixture::event_hub("2027-10-29T09:00", "2027-11-02T12:00", "postponed"),
        );
        let items = [practice, kz.clone(), uz.clone(), az.clone(), hub.clone()];
        let ics = events(
            &items,
            "https://hub.example.org/",
            "Hub events; 2027",
            Some("kk"),
            T0 + 100 * HOUR,
        );
        check_lines(&ics);

        let unfolded = unfold(&ics);
        let cal = read_calendar(&unfolded).expect("parses");
        assert_eq!(
            cal.components.iter().filter(|c| c.name == "VEVENT").count(),
            4
        );
        assert_eq!(
            cal.properties
                .iter()
                .find(|p| p.name == "X-WR-CALNAME")
                .map(|p| p.val.as_str()),
            Some("Hub events; 2027")
        );
        assert!(unfolded.contains("NAME;VALUE=TEXT:Hub events\\; 2027\r\n"));

        // Kazakh title chosen, Russian description (no Kazakh one), place with commas escaped.
        let e = event_by_uid(&cal.components, &format!("{}@hubnet", kz.id().to_hex()));
        assert_eq!(
            prop(e, "SUMMARY"),
            "Цифрлық мемлекеттік қызметтер туралы конференция"
        );
        assert!(prop(e, "DESCRIPTION").starts_with("Два дня докладов, круглых столов"));
        assert_eq!(
            prop(e, "LOCATION"),
            "Академия госуправления, пр. Абая, 33, Алматы, KZ"
        );
        assert!(unfolded.contains("LOCATION:Академия госуправления\\, пр. Абая\\, 33\\,"));
        assert_eq!(param(e, "DTSTART", "TZID"), Some("Asia/Almaty"));
        assert_eq!(prop(e, "DTSTART"), "20270414T093000");
        assert_eq!(prop(e, "DTEND"), "20270415T170000");
        assert_eq!(param(e, "DTEND", "TZID"), Some("Asia/Almaty"));
        assert_eq!(prop(e, "STATUS"), "CONFIRMED");
        assert_eq!(prop(e, "SEQUENCE"), "0");
        assert_eq!(prop(e, "CATEGORIES"), "e-government,service-delivery");
        assert_eq!(prop(e, "CREATED"), "20270115T090000Z");
        assert_eq!(prop(e, "DTSTAMP"), "20270115T090000Z");
        assert_eq!(
            prop(e, "URL"),
            format!("https://hub.example.org/records/{}", kz.id().to_hex())
        );

        // Cancelled, online only: the URL is the location.
        let e = event_by_uid(&cal.components, &format!("{}@hubnet", uz.id().to_hex()));
        assert_eq!(prop(e, "STATUS"), "CANCELLED");
        assert_eq!(prop(e, "SUMMARY"), "Oʻzbekistonda davlat xizmati islohoti");
        assert_eq!(prop(e, "LOCATION"), "https://example.org/webinar");
        assert_eq!(param(e, "DTSTART", "TZID"), Some("Asia/Tashkent"));
        assert!(e.find_prop("DTEND").is_none());

        // Scheduled but retracted: cancelled, and changed since.
        let e = event_by_uid(&cal.components, &format!("{}@hubnet", az.id().to_hex()));
        assert_eq!(prop(e, "STATUS"), "CANCELLED");
        assert_eq!(prop(e, "SEQUENCE"), "1");
        assert_eq!(prop(e, "LAST-MODIFIED"), "20270115T120000Z");
        assert_eq!(prop(e, "CREATED"), "20270115T110000Z");

        // Amended: the amendment's dates and status, SEQUENCE counts HUB's log entries since.
        let e = event_by_uid(&cal.components, &format!("{}@hubnet", hub.id().to_hex()));
        assert_eq!(prop(e, "STATUS"), "TENTATIVE");
        assert_eq!(prop(e, "SEQUENCE"), "2");
        assert_eq!(prop(e, "DTSTART"), "20271029T090000");
        assert_eq!(param(e, "DTSTART", "TZID"), Some("Europe/Brussels"));

        // One VTIMEZONE per TZID used, and only those.
        let zones: Vec<&str> = cal
            .components
            .iter()
            .filter(|c| c.name == "VTIMEZONE")
            .map(|c| prop(c, "TZID"))
            .collect();
        assert_eq!(
            zones,
            [
                "Asia/Almaty",
                "Asia/Baku",
                "Asia/Tashkent",
                "Europe/Brussels"
            ]
        );
        // The calendar changed when its last event did.
        assert_eq!(
            cal.properties
                .iter()
                .find(|p| p.name == "LAST-MODIFIED")
                .map(|p| p.val.as_str()),
            Some("20270115T150000Z")
        );
    }

    #[test]
    fn programmes_are_all_day_vevents_cancelled_when_cancelled_or_retracted() {
        let mut net = fixture::net();
        let inst = "22".repeat(32);
        let running = net.publish(
            "HUB",
            T0,
            fixture::programme("HUB", "implementation", "2027-01-01", &inst, &[]),
        );
        let cancelled = net.publish(
            "AZ",
            T0 + HOUR,
            fixture::programme("AZ", "cancelled", "2027-03-01", &inst, &[]),
        );
        let mut retracted = net.publish(
            "KG",
            T0 + 2 * HOUR,
            fixture::programme("KG", "pipeline", "2027-01-01", &inst, &[]),
        );
        net.retract(&mut retracted, T0 + 3 * HOUR);
        let mut suspended = net.publish(
            "HUB",
            T0 + 4 * HOUR,
            fixture::programme("HUB", "suspended", "2027-01-01", &inst, &[]),
        );
        // Open-ended: no planned end, so no DTEND.
        if let hubnet_protocol::Body::Programme(p) = &mut suspended.original.body {
            p.planned_end.clear();
        }
        let event = net.publish("KZ", T0 + 5 * HOUR, fixture::event_kz());
        let items = [
            running.clone(),
            cancelled.clone(),
            retracted.clone(),
            suspended.clone(),
            event.clone(),
        ];
        let ics = events(&items, "https://h.example", "x", Some("ru"), T0);
        check_lines(&ics);
        let unfolded = unfold(&ics);
        let cal = read_calendar(&unfolded).expect("parses");
        assert_eq!(
            cal.components.iter().filter(|c| c.name == "VEVENT").count(),
            5
        );
        let uid = |c: &Current| format!("{}@hubnet", c.id().to_hex());

        let e = event_by_uid(&cal.components, &uid(&running));
        assert_eq!(prop(e, "DTSTART"), "20270101");
        assert_eq!(param(e, "DTSTART", "VALUE"), Some("DATE"));
        // The planned end is 2028-12-31: DTEND is the day after, exclusive.
        assert_eq!(prop(e, "DTEND"), "20290101");
        assert_eq!(param(e, "DTEND", "VALUE"), Some("DATE"));
        assert_eq!(prop(e, "STATUS"), "CONFIRMED");
        assert_eq!(
            prop(e, "SUMMARY"),
            "Совместная программа электронного найма"
        );
        assert_eq!(
            prop(e, "DESCRIPTION"),
            "Open competitions online in every participating agency."
        );
        assert_eq!(prop(e, "LOCATION"), "KZ, UZ");
        assert_eq!(prop(e, "CATEGORIES"), "recruitment,e-government");

        let e = event_by_uid(&cal.components, &uid(&cancelled));
        assert_eq!(prop(e, "STATUS"), "CANCELLED");
        assert_eq!(prop(e, "DTSTART"), "20270301");
        let e = event_by_uid(&cal.components, &uid(&retracted));
        assert_eq!(prop(e, "STATUS"), "CANCELLED");
        assert_eq!(prop(e, "SEQUENCE"), "1");
        let e = event_by_uid(&cal.components, &uid(&suspended));
        assert_eq!(prop(e, "STATUS"), "TENTATIVE");
        assert!(e.find_prop("DTEND").is_none());
        // The event beside them keeps its zone; the programmes need none.
        let e = event_by_uid(&cal.components, &uid(&event));
        assert_eq!(param(e, "DTSTART", "TZID"), Some("Asia/Almaty"));
        let zones: Vec<&str> = cal
            .components
            .iter()
            .filter(|c| c.name == "VTIMEZONE")
            .map(|c| prop(c, "TZID"))
            .collect();
        assert_eq!(zones, ["Asia/Almaty"]);
    }

    #[test]
    fn vtimezone_offsets_are_those_in_force() {
        let text = unfold(&vtimezone(chrono_tz::Europe::Brussels, 2027, 2027));
        let brussels = read_calendar(&text).expect("parses").components;
        let zone = &brussels[0];
        assert_eq!(prop(zone, "TZID"), "Europe/Brussels");
        let observances: Vec<(&str, &str, &str, &str)> = zone
            .components
            .iter()
            .map(|o| {
                (
                    o.name.as_str(),
                    prop(o, "DTSTART"),
                    prop(o, "TZOFFSETFROM"),
                    prop(o, "TZOFFSETTO"),
                )
            })
            .collect();
        assert_eq!(
            observances,
            [
                ("STANDARD", "20261231T010000", "+0100", "+0100"),
                ("DAYLIGHT", "20270328T020000", "+0100", "+0200"),
                ("STANDARD", "20271031T030000", "+0200", "+0100"),
            ]
        );
        assert_eq!(prop(&zone.components[1], "TZNAME"), "CEST");

        // No DST: one observance. Almaty moved from +06 to +05 on 2024-03-01.
        let almaty = vtimezone(chrono_tz::Asia::Almaty, 2027, 2027);
        assert_eq!(almaty.matches("BEGIN:STANDARD").count(), 1);
        assert!(almaty.contains("TZOFFSETTO:+0500\r\n"), "{almaty}");
        let almaty = vtimezone(chrono_tz::Asia::Almaty, 2024, 2024);
        assert!(
            almaty.contains("DTSTART:20240301T000000\r\nTZOFFSETFROM:+0600\r\nTZOFFSETTO:+0500"),
            "{almaty}"
        );
        assert_eq!(utc_offset(&at(chrono_tz::Asia::Kolkata)), "+0530");
    }

    fn at(tz: Tz) -> TzOffset {
        tz.offset_from_utc_datetime(&utc(T0).naive_utc())
    }

    #[test]
    fn unknown_zone_falls_back_to_utc_and_dates_stay_dates() {
        let mut net = fixture::net();
        let mut odd = net.publish("KG", T0, fixture::event_az("2027-06-01T10:00"));
        let mut day = net.publish("KG", T0 + HOUR, fixture::event_az("2027-06-01T10:00"));
        if let hubnet_protocol::Body::Event(e) = &mut odd.original.body {
            e.time_zone = "Mars/Olympus_Mons".into();
        }
        if let hubnet_protocol::Body::Event(e) = &mut day.original.body {
            e.start = "2027-06-01".into();
            e.end = "2027-06-02".into();
        }
        let ics = events(&[odd, day], "https://h.example", "x", None, T0);
        check_lines(&ics);
        let unfolded = unfold(&ics);
        let cal = read_calendar(&unfolded).expect("parses");
        let vevents: Vec<_> = cal
            .components
            .iter()
            .filter(|c| c.name == "VEVENT")
            .collect();
        assert_eq!(prop(vevents[0], "DTSTART"), "20270601T100000Z");
        assert_eq!(prop(vevents[0], "DTEND"), "20270602T160000Z");
        assert_eq!(param(vevents[0], "DTSTART", "TZID"), None);
        assert_eq!(prop(vevents[1], "DTSTART"), "20270601");
        assert_eq!(param(vevents[1], "DTSTART", "VALUE"), Some("DATE"));
        assert_eq!(prop(vevents[1], "DTEND"), "20270603");
        assert!(!ics.contains("BEGIN:VTIMEZONE"), "no zone is referenced");
    }

    #[test]
    fn long_lines_fold_on_character_boundaries_and_unfold_exactly() {
        let mut net = fixture::net();
        // Every length from well under to well over two physical lines, in ASCII (where
        // icalendar 0.17 alone leaves a 76-octet line when "SUMMARY:" and the title make 150
        // octets), Cyrillic with U+02BB, and a description with a CRLF and escaped characters.
        for n in 120_usize..160 {
            let title = if n % 2 == 0 {
                "a".repeat(n)
            } else {
                format!("{}{}", "x".repeat(n % 4), "Оʻ".repeat(n / 4))
            };
            let description = format!("Строка, с запятой;\r\nвторая {}", "ү".repeat(n / 3));
            let draft = json!({
                "kind": "event", "event_type": "call", "title": {"uz": title},
                "description": {"ru": description},
                "start": "2027-03-01T10:00", "time_zone": "Asia/Tashkent",
            });
            let item = net.publish("UZ", T0 + n as i64 * 1000, draft);
            let uid = format!("{}@hubnet", item.id().to_hex());
            let ics = events(&[item], "https://h.example", "x", None, T0);
            check_lines(&ics);
            let unfolded = unfold(&ics);
            let cal = read_calendar(&unfolded).expect("parses");
            let e = event_by_uid(&cal.components, &uid);
            assert_eq!(prop(e, "SUMMARY"), title);
            assert_eq!(prop(e, "DESCRIPTION"), description.replace("\r\n", "\n"));
        }
    }

    #[test]
    fn refold_splits_only_overlong_lines() {
        let line = format!("A:{}", "б".repeat(60)); // 122 octets
        let folded = refold(&format!("{line}\r\nB:short\r\n"));
        check_lines(&folded);
        assert_eq!(unfold(&folded), format!("{line}\r\nB:short\r\n"));
        let ok = "C:x\r\n continued\r\n";
        assert_eq!(refold(ok), ok);
    }
}
