//! Practices, reform profiles and joint programmes as Atom feeds (RFC 4287), written by the
//! `atom_syndication` crate.

use atom_syndication::extension::Extension;
use atom_syndication::{Category, Entry, Feed, FixedDateTime, Generator, Link, Person, Text};
use hubnet_protocol::{Charter, RecordId};

use super::{base, member_name, pick_tagged, record_url, utc};
use crate::current::Current;
use crate::kinds::KindView;

/// The scheme of the categories that carry a record's topics.
pub const TOPIC_SCHEME: &str = "urn:hubnet:topic";

/// The scheme of the categories that carry a reform profile's reform areas.
pub const AREA_SCHEME: &str = "urn:hubnet:area";

/// The feed file of each kind that has one.
pub fn feed_file(kind: &str) -> Option<&'static str> {
    match kind {
        "practice" => Some("practices.atom"),
        "reform_profile" => Some("reform-profiles.atom"),
        "programme" => Some("programmes.atom"),
        _ => None,
    }
}

/// The namespace of Atom tombstones (RFC 6721).
pub const TOMBSTONES_NS: &str = "http://purl.org/atompub/tombstones/1.0";

/// The scheme of the category that marks a retracted practice.
pub const STATUS_SCHEME: &str = "urn:hubnet:status";

/// The records of `kind` among `items` as an Atom feed titled `feed_title`, texts in `lang` as
/// [`pick`](crate::lang::pick) chooses; other kinds are skipped.
///
/// The feed's id and `self` link are `{base_url}/feeds/{file}` ([`feed_file`]), its `updated` the latest
/// change of its entries (or `now_ms` when there are none) and its `xml:lang` the reader's
/// language, if given. Each entry has the id `urn:hubnet:record:<id>`, `published` when the
/// original was signed, `updated` when it last changed, the member as author (the name from
/// `charter`, or the member code, and `{base_url}/members/{code}`), an `alternate` link to
/// `{base_url}/records/{id}`, title and summary with the `xml:lang` of the language chosen, the
/// topics (and a profile's reform areas, in [`AREA_SCHEME`]) as categories and the licence as
/// rights. A retracted record stays in the feed, so that readers learn of the retraction: its
/// title is prefixed with `[retracted] ` and it has the category `retracted` in [`STATUS_SCHEME`].
/// An erased record (`deleted`: its id and when it was erased, ms) is a tombstone (RFC 6721,
/// `at:deleted-entry` with `ref` its entry id and `when`), so that readers drop their copy.
#[allow(clippy::too_many_arguments)]
pub fn feed(
    kind: &str,
    items: impl IntoIterator<Item = impl std::borrow::Borrow<Current>>,
    deleted: &[(RecordId, i64)],
    charter: &Charter,
    base_url: &str,
    feed_title: &str,
    lang: Option<&str>,
    now_ms: i64,
) -> String {
    let base = base(base_url);
    let feed_url = format!("{base}/feeds/{}", feed_file(kind).unwrap_or("records.atom"));
    let mut entries = Vec::new();
    let mut updated = None;
    for item in items {
        let item = item.borrow();
        let Some(view) = item
            .content()
            .map(|c| c.view())
            .filter(|v| v.name() == kind)
        else {
            continue;
        };
        updated = updated.max(Some(item.updated_at()));
        entries.push(entry(item, view, charter, base_url, lang));
    }
    let feed = Feed {
        title: Text::plain(clean(feed_title)),
        id: feed_url.clone(),
        updated: fixed(updated.unwrap_or(now_ms)),
        links: vec![
            link(feed_url, "self", "application/atom+xml"),
            link(format!("{base}/"), "alternate", "text/html"),
        ],
        generator: Some(Generator {
            value: "hubnet".into(),
            uri: None,
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
        lang: lang.map(str::to_owned),
        entries,
        ..Feed::default()
    };
    let mut feed = feed;
    if !deleted.is_empty() {
        feed.namespaces.insert("at".into(), TOMBSTONES_NS.into());
        let tombstones = deleted
            .iter()
            .map(|(id, when)| Extension {
                name: "at:deleted-entry".into(),
                value: None,
                attrs: [
                    (
                        "ref".to_owned(),
                        format!("urn:hubnet:record:{}", id.to_hex()),
                    ),
                    ("when".to_owned(), fixed(*when).to_rfc3339()),
                ]
                .into(),
                children: Default::default(),
            })
            .collect();
        feed.extensions.insert(
            "at".into(),
            [("deleted-entry".to_owned(), tombstones)].into(),
        );
    }
    // Writing to memory fails only on an XML writer bug; the feed is then empty.
    feed.write_to(Vec::new())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default()
}

/// One entry.
fn entry(
    item: &Current,
    p: &dyn KindView,
    charter: &Charter,
    base_url: &str,
    lang: Option<&str>,
) -> Entry {
    let base = base(base_url);
    let code = item.member();
    let (title_lang, title) = pick_tagged(p.title(), lang).unwrap_or_default();
    let mut title = Text::plain(clean(title));
    title.lang = Some(title_lang.to_owned()).filter(|l| !l.is_empty());
    let summary = pick_tagged(p.summary(), lang).map(|(tag, text)| Text {
        lang: Some(tag.to_owned()),
        ..Text::plain(clean(text))
    });
    let category = |term: &str, scheme: &str| Category {
        term: term.to_owned(),
        scheme: Some(scheme.into()),
        label: None,
    };
    let mut categories: Vec<Category> = p
        .topics()
        .iter()
        .map(|t| category(t, TOPIC_SCHEME))
        .chain(
            p.reform_areas()
                .into_iter()
                .map(|a| category(a, AREA_SCHEME)),
        )
        .collect();
    if item.retracted() {
        title.value.insert_str(0, "[retracted] ");
        categories.push(Category {
            term: "retracted".into(),
            scheme: Some(STATUS_SCHEME.into()),
            label: None,
        });
    }
    Entry {
        title,
        id: format!("urn:hubnet:record:{}", item.id().to_hex()),
        updated: fixed(item.updated_at()),
        published: Some(fixed(item.created_at())),
        authors: vec![Person {
            name: clean(member_name(charter, code, lang)),
            uri: Some(format!("{base}/members/{code}")),
            ..Person::default()
        }],
        links: vec![link(record_url(base_url, item), "alternate", "text/html")],
        summary,
        categories,
        rights: Some(p.license()).filter(|l| !l.is_empty()).map(Text::plain),
        ..Entry::default()
    }
}

/// A link of relation `rel` to `href`, of media type `mime_type`.
fn link(href: String, rel: &str, mime_type: &str) -> Link {
    Link {
        href,
        rel: rel.into(),
        mime_type: Some(mime_type.into()),
        ..Link::default()
    }
}

/// Milliseconds since the epoch as an Atom date (UTC).
fn fixed(ms: i64) -> FixedDateTime {
    utc(ms).fixed_offset()
}

/// Text without the characters XML 1.0 does not allow (U+FFFE and U+FFFF too; tab and line
/// breaks stay): the one rule of every XML answer.
fn clean(text: &str) -> String {
    crate::oai::xml::clean(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feeds::fixture::{self, T0};

    const HOUR: i64 = 3_600_000;

    fn entry_by_id<'a>(feed: &'a Feed, item: &Current) -> &'a Entry {
        let id = format!("urn:hubnet:record:{}", item.id().to_hex());
        feed.entries
            .iter()
            .find(|e| e.id == id)
            .unwrap_or_else(|| panic!("no entry {id}"))
    }

    #[test]
    fn practices_parse_back_with_authors_languages_and_retractions() {
        let mut net = fixture::net();
        let kz = net.publish("KZ", T0, fixture::practice_kz());
        let event = net.publish("KZ", T0 + HOUR, fixture::event_kz());
        let mut uz = net.publish("UZ", T0 + 2 * HOUR, fixture::practice_uz());
        net.retract(&mut uz, T0 + 3 * HOUR);
        let items = [kz.clone(), event, uz.clone()];
        let xml = feed(
            "practice",
            &items,
            &[],
            &net.charter,
            "https://hub.example.org/",
            "Практики <хаба> & co",
            Some("kk"),
            T0 + 100 * HOUR,
        );
        let feed: Feed = xml.parse().expect("parses back");
        assert_eq!(feed.title.value, "Практики <хаба> & co");
        assert_eq!(feed.id, "https://hub.example.org/feeds/practices.atom");
        assert_eq!(feed.lang.as_deref(), Some("kk"));
        assert_eq!(feed.updated, fixed(T0 + 3 * HOUR));
        assert!(
            feed.links
                .iter()
                .any(|l| l.rel == "self" && l.href == feed.id),
            "{xml}"
        );
        assert_eq!(feed.entries.len(), 2, "the event is not a practice");

        let e = entry_by_id(&feed, &kz);
        assert_eq!(
            e.title.value,
            "Тәлімгерлік: \"жаңа\" қызметшілерге, 100% қолдау"
        );
        assert_eq!(e.title.lang.as_deref(), Some("kk"));
        let summary = e.summary.as_ref().expect("summary");
        assert_eq!(summary.value, "Әр жаңа қызметшіге тәлімгер бекітіледі.");
        assert_eq!(summary.lang.as_deref(), Some("kk"));
        assert_eq!(e.published, Some(fixed(T0)));
        assert_eq!(e.updated, fixed(T0));
        assert_eq!(e.authors[0].name, "Қазақстан");
        assert_eq!(
            e.authors[0].uri.as_deref(),
            Some("https://hub.example.org/members/KZ")
        );
        assert_eq!(
            e.links[0].href,
            format!("https://hub.example.org/records/{}", kz.id().to_hex())
        );
        assert_eq!(e.links[0].rel, "alternate");
        let terms: Vec<&str> = e.categories.iter().map(|c| c.term.as_str()).collect();
        assert_eq!(terms, ["training", "hr-management"]);
        assert_eq!(
            e.rights.as_ref().map(|r| r.value.as_str()),
            Some("CC-BY-4.0")
        );

        // No Kazakh text: English, then the Uzbek summary (its only language); retracted.
        let e = entry_by_id(&feed, &uz);
        assert!(
            e.title
                .value
                .starts_with("[retracted] Uzbekistan: data-driven")
        );
        assert_eq!(e.title.lang.as_deref(), Some("en"));
        let summary = e.summary.as_ref().expect("summary");
        assert!(summary.value.contains("eʼlon"), "{}", summary.value);
        assert_eq!(summary.lang.as_deref(), Some("uz"));
        assert_eq!(e.updated, fixed(T0 + 3 * HOUR));
        assert!(
            e.categories
                .iter()
                .any(|c| c.term == "retracted" && c.scheme.as_deref() == Some(STATUS_SCHEME))
        );
        // Uzbekistan's name has no Kazakh form in the sample charter.
        assert_eq!(e.authors[0].name, "Uzbekistan");
    }

    #[test]
    fn reform_profiles_have_their_own_feed_with_areas_as_categories() {
        let mut net = fixture::net();
        let practice = net.publish("KZ", T0, fixture::practice_kz());
        let profile = net.publish(
            "KZ",
            T0 + HOUR,
            serde_json::json!({"kind": "reform_profile", "as_of": "2026-06-30",
                "title": {"en": "Profile 2026", "ru": "Профиль 2026"},
                "summary": {"en": "Recruitment reform advanced."},
                "reform_areas": ["public-service-hrm", "recruitment"], "license": "CC-BY-4.0"}),
        );
        let xml = feed(
            "reform_profile",
            &[practice, profile.clone()],
            &[],
            &net.charter,
            "https://hub.example.org",
            "Profiles",
            Some("ru"),
            T0,
        );
        let feed: Feed = xml.parse().expect("parses back");
        assert_eq!(
            feed.id,
            "https://hub.example.org/feeds/reform-profiles.atom"
        );
        assert_eq!(feed.entries.len(), 1, "the practice is not a profile");
        let e = entry_by_id(&feed, &profile);
        assert_eq!(e.title.value, "Профиль 2026");
        assert_eq!(
            e.summary.as_ref().map(|s| s.value.as_str()),
            Some("Recruitment reform advanced.")
        );
        let areas: Vec<&str> = e
            .categories
            .iter()
            .filter(|c| c.scheme.as_deref() == Some(AREA_SCHEME))
            .map(|c| c.term.as_str())
            .collect();
        assert_eq!(areas, ["public-service-hrm", "recruitment"]);
        assert_eq!(
            e.rights.as_ref().map(|r| r.value.as_str()),
            Some("CC-BY-4.0")
        );
    }

    #[test]
    fn programmes_have_their_own_feed_with_retractions_marked() {
        let mut net = fixture::net();
        let practice = net.publish("KZ", T0, fixture::practice_kz());
        let inst = "22".repeat(32);
        let running = net.publish(
            "HUB",
            T0 + HOUR,
            fixture::programme("HUB", "implementation", "2027-01-01", &inst, &[]),
        );
        let mut gone = net.publish(
            "AZ",
            T0 + 2 * HOUR,
            fixture::programme("AZ", "pipeline", "2027-01-01", &inst, &[]),
        );
        net.retract(&mut gone, T0 + 3 * HOUR);
        let xml = feed(
            "programme",
            &[practice, running.clone(), gone.clone()],
            &[],
            &net.charter,
            "https://hub.example.org",
            "Programmes",
            Some("en"),
            T0,
        );
        let feed: Feed = xml.parse().expect("parses back");
        assert_eq!(feed.id, "https://hub.example.org/feeds/programmes.atom");
        assert_eq!(feed.entries.len(), 2, "the practice is not a programme");
        let e = entry_by_id(&feed, &running);
        assert_eq!(e.title.value, "Joint e-recruitment & \"merit\" <toolkit>");
        assert_eq!(
            e.summary.as_ref().map(|s| s.value.as_str()),
            Some("Open competitions online in every participating agency.")
        );
        assert_eq!(e.authors[0].name, "Secretariat of the Regional Hub");
        let topics: Vec<&str> = e.categories.iter().map(|c| c.term.as_str()).collect();
        assert_eq!(topics, ["recruitment", "e-government"]);
        let e = entry_by_id(&feed, &gone);
        assert!(e.title.value.starts_with("[retracted] "));
        assert!(e.categories.iter().any(|c| c.term == "retracted"));
    }

    #[test]
    fn an_empty_feed_with_a_tombstone_is_valid_and_dated_now() {
        let net = fixture::net();
        let xml = feed(
            "practice",
            &[],
            &[(hubnet_protocol::RecordId([7; 32]), T0 + HOUR)],
            &net.charter,
            "https://h.example",
            "Hub",
            None,
            T0,
        );
        let feed: Feed = xml.parse().expect("parses back");
        assert!(feed.entries.is_empty());
        assert_eq!(feed.updated, fixed(T0));
        assert_eq!(feed.lang, None);
        // The erased record is a tombstone in RFC 6721's namespace.
        assert_eq!(
            feed.namespaces.get("at").map(String::as_str),
            Some(TOMBSTONES_NS)
        );
        let tombstones = &feed.extensions["at"]["deleted-entry"];
        assert_eq!(tombstones.len(), 1);
        assert_eq!(
            tombstones[0].attrs.get("ref").map(String::as_str),
            Some(format!("urn:hubnet:record:{}", "07".repeat(32)).as_str())
        );
        assert_eq!(
            tombstones[0].attrs.get("when").map(String::as_str),
            Some(fixed(T0 + HOUR).to_rfc3339().as_str())
        );
    }
}
