//! Practices as an Atom feed (RFC 4287), written by the `atom_syndication` crate.

use atom_syndication::{Category, Entry, Feed, FixedDateTime, Generator, Link, Person, Text};
use hubnet_proto::v1 as pb;
use hubnet_protocol::Charter;

use super::{base, member_name, pick_tagged, record_url, utc};
use crate::current::Current;
use crate::kinds::Content;

/// The scheme of the categories that carry a practice's topics.
pub const TOPIC_SCHEME: &str = "urn:hubnet:topic";

/// The scheme of the category that marks a retracted practice.
pub const STATUS_SCHEME: &str = "urn:hubnet:status";

/// The practices among `items` as an Atom feed titled `feed_title`, texts in `lang` as
/// [`pick`](crate::lang::pick) chooses; events are skipped.
///
/// The feed's id and `self` link are `{base_url}/feeds/practices.atom`, its `updated` the latest
/// change of its entries (or `now_ms` when there are none) and its `xml:lang` the reader's
/// language, if given. Each entry has the id `urn:hubnet:record:<id>`, `published` when the
/// original was signed, `updated` when it last changed, the member as author (the name from
/// `charter`, or the member code, and `{base_url}/members/{code}`), an `alternate` link to
/// `{base_url}/records/{id}`, title and summary with the `xml:lang` of the language chosen, the
/// topics as categories and the licence as rights. A retracted practice stays in the feed, so
/// that readers learn of the retraction: its title is prefixed with `[retracted] ` and it has the
/// category `retracted` in [`STATUS_SCHEME`].
pub fn practices(
    items: &[Current],
    charter: &Charter,
    base_url: &str,
    feed_title: &str,
    lang: Option<&str>,
    now_ms: i64,
) -> String {
    let base = base(base_url);
    let feed_url = format!("{base}/feeds/practices.atom");
    let mut entries = Vec::new();
    let mut updated = None;
    for item in items {
        let Some(Content::Practice(p)) = item.content() else {
            continue;
        };
        updated = updated.max(Some(item.updated_at()));
        entries.push(entry(item, p, charter, base_url, lang));
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
    // Writing to memory fails only on an XML writer bug; the feed is then empty.
    feed.write_to(Vec::new())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default()
}

/// One entry.
fn entry(
    item: &Current,
    p: &pb::Practice,
    charter: &Charter,
    base_url: &str,
    lang: Option<&str>,
) -> Entry {
    let base = base(base_url);
    let code = item.member();
    let (title_lang, title) = pick_tagged(p.title.as_ref(), lang).unwrap_or_default();
    let mut title = Text::plain(clean(title));
    title.lang = Some(title_lang.to_owned()).filter(|l| !l.is_empty());
    let summary = pick_tagged(p.summary.as_ref(), lang).map(|(tag, text)| Text {
        lang: Some(tag.to_owned()),
        ..Text::plain(clean(text))
    });
    let mut categories: Vec<Category> = p
        .topics
        .iter()
        .map(|t| Category {
            term: t.clone(),
            scheme: Some(TOPIC_SCHEME.into()),
            label: None,
        })
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
        rights: Some(p.license.as_str())
            .filter(|l| !l.is_empty())
            .map(Text::plain),
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

/// Text without the control characters XML 1.0 does not allow (tab and line breaks stay).
fn clean(text: &str) -> String {
    text.chars()
        .filter(|&c| matches!(c, '\t' | '\n' | '\r') || !c.is_control())
        .collect()
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
        let xml = practices(
            &items,
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
    fn an_empty_feed_is_valid_and_dated_now() {
        let net = fixture::net();
        let xml = practices(&[], &net.charter, "https://h.example", "Hub", None, T0);
        let feed: Feed = xml.parse().expect("parses back");
        assert!(feed.entries.is_empty());
        assert_eq!(feed.updated, fixed(T0));
        assert_eq!(feed.lang, None);
    }
}
