//! Choosing the text a reader gets from multilingual content: a record's localized texts, a
//! member's or the network's names. One rule for every page, feed, export and command.

use std::collections::BTreeMap;

use hubnet_proto::v1 as pb;
use hubnet_protocol::Charter;

/// The text in the reader's language `lang` if present, else English, else Russian, else the
/// first language there is, else `""`.
///
/// Tags compare case-insensitively, and a reader's `uz-Latn` also takes `uz` (and the other way
/// round) when there is no exact match.
///
/// ```
/// use hubnet_node::lang::pick;
/// use hubnet_proto::v1::LocalizedText;
///
/// let text = LocalizedText {
///     text: [("kk".into(), "Тәлімгерлік".into()), ("en".into(), "Mentoring".into())].into(),
/// };
/// assert_eq!(pick(Some(&text), Some("kk")), "Тәлімгерлік");
/// assert_eq!(pick(Some(&text), Some("uz")), "Mentoring");
/// assert_eq!(pick(None, Some("uz")), "");
/// ```
pub fn pick<'a>(text: Option<&'a pb::LocalizedText>, lang: Option<&str>) -> &'a str {
    pick_tagged(text, lang).map_or("", |(_, t)| t)
}

/// Like [`pick`], with the language tag of the text chosen: `(tag, text)`, or `None` when there
/// is no text at all.
pub fn pick_tagged<'a>(
    text: Option<&'a pb::LocalizedText>,
    lang: Option<&str>,
) -> Option<(&'a str, &'a str)> {
    pick_in(&text?.text, lang)
}

/// [`pick_tagged`] over a plain map from language tag to text, such as a member's name in the
/// charter.
pub fn pick_in<'a>(
    map: &'a BTreeMap<String, String>,
    lang: Option<&str>,
) -> Option<(&'a str, &'a str)> {
    let exact = |want: &str| map.iter().find(|(tag, _)| tag.eq_ignore_ascii_case(want));
    let primary = |tag: &str| tag.split('-').next().unwrap_or(tag).to_ascii_lowercase();
    let related = |want: &str| {
        let want = primary(want);
        map.iter().find(|(tag, _)| primary(tag) == want)
    };
    lang.into_iter()
        .chain(["en", "ru"])
        .find_map(|want| exact(want).or_else(|| related(want)))
        .or_else(|| map.iter().next())
        .map(|(tag, text)| (tag.as_str(), text.as_str()))
}

/// The name of the member with code `code` in the reader's language (as [`pick`] chooses it),
/// or the code itself when the charter does not name the member.
pub fn member_name<'a>(charter: &'a Charter, code: &'a str, lang: Option<&str>) -> &'a str {
    charter
        .member_by_code(code)
        .and_then(|m| pick_in(&m.name, lang))
        .map_or(code, |(_, name)| name)
}
