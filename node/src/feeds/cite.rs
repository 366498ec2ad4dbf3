//! Citations of one practice or event: BibTeX for LaTeX users and CSL-JSON (the input format of
//! citeproc, Zotero and pandoc). The author is the member state; the citation names the record
//! id, which is the hash of the signed header, so the cited text can be checked.

use chrono::Datelike;
use serde_json::{Map, Value, json};

use super::{pick_tagged, record_url, title_and_summary, topics, utc};
use crate::current::Current;

/// The publisher named in citations.
pub const PUBLISHER: &str = "Regional Hub of Civil Service (hubnet)";

/// The citation key: `hubnet-` and the first 12 hex digits of the record id.
pub fn key(item: &Current) -> String {
    let id = item.id().to_hex();
    format!("hubnet-{}", id.get(..12).unwrap_or(&id))
}

/// A BibTeX `@misc` entry for `item`, by `member_name` (a corporate author, so in double
/// braces), texts in `lang` as [`pick`](crate::lang::pick) chooses.
///
/// Fields: `title`, `author`, `year` and `month` (when the original was signed, UTC),
/// `howpublished` (`hubnet record <id>`), `url` (`{base_url}/records/{id}`), `note`
/// (`Ed25519-signed, seq N`, and whether it was amended or retracted), `language` (the tag of
/// the title chosen) and `abstract`. BibTeX's special characters are escaped; braces become
/// `\textbraceleft{}` and `\textbraceright{}`, because BibTeX counts every brace, escaped or
/// not, when it looks for the end of a field.
pub fn bibtex(item: &Current, base_url: &str, member_name: &str, lang: Option<&str>) -> String {
    let (title, summary) = title_and_summary(item);
    let (title_lang, title) = pick_tagged(title, lang).unwrap_or_default();
    let created = utc(item.created_at());
    let mut fields = vec![
        ("title", format!("{{{}}}", escape(title))),
        ("author", format!("{{{{{}}}}}", escape(member_name))),
        ("year", format!("{{{}}}", created.year())),
        ("month", MONTHS[created.month0() as usize % 12].to_owned()),
        (
            "howpublished",
            format!("{{hubnet record {}}}", item.id().to_hex()),
        ),
        (
            "url",
            format!(
                "{{{}}}",
                record_url(base_url, item)
                    .replace('{', "%7B")
                    .replace('}', "%7D")
            ),
        ),
        ("note", format!("{{{}}}", escape(&note(item)))),
    ];
    if !title_lang.is_empty() {
        fields.push(("language", format!("{{{}}}", escape(title_lang))));
    }
    if let Some((_, summary)) = pick_tagged(summary, lang) {
        fields.push(("abstract", format!("{{{}}}", escape(summary))));
    }
    let mut out = format!("@misc{{{},\n", key(item));
    for (name, value) in fields {
        out.push_str(&format!("  {name} = {value},\n"));
    }
    out.push_str("}\n");
    out
}

/// A CSL-JSON item for `item` (as the CSL 1.0.2 schema `csl-data.json` has it), by
/// `member_name`, texts in `lang` as [`pick`](crate::lang::pick) chooses.
///
/// `type` is `report` for a practice and `event` for an event; `id` is [`key`]; `title`,
/// `author` (`[{"literal": member_name}]`), `issued` (the date the original was signed, UTC),
/// `URL`, `language` (the tag of the title chosen), `abstract`, `publisher` ([`PUBLISHER`]),
/// `number` (the full record id), `note` (as in [`bibtex`]), `keyword` (the topics), `status`
/// (`retracted`, when it is); for an event also `event-date` (its start and end dates) and
/// `event-place`. Empty texts are left out.
pub fn csl_json(item: &Current, base_url: &str, member_name: &str, lang: Option<&str>) -> Value {
    let (title, summary) = title_and_summary(item);
    let (title_lang, title) = pick_tagged(title, lang).unwrap_or_default();
    let created = utc(item.created_at());
    let mut v = Map::new();
    let mut put = |name: &str, value: Value| {
        if value.as_str() != Some("") {
            v.insert(name.to_owned(), value);
        }
    };
    let kind = item.content().map_or("report", |c| c.view().csl_type());
    put("id", json!(key(item)));
    put("type", json!(kind));
    put("title", json!(title));
    put("author", json!([{ "literal": member_name }]));
    put(
        "issued",
        json!({ "date-parts": [[created.year(), created.month(), created.day()]] }),
    );
    put("URL", json!(record_url(base_url, item)));
    put("language", json!(title_lang));
    put(
        "abstract",
        json!(pick_tagged(summary, lang).map_or("", |(_, s)| s)),
    );
    put("publisher", json!(PUBLISHER));
    put("number", json!(item.id().to_hex()));
    put("note", json!(note(item)));
    put("keyword", json!(topics(item).join(", ")));
    if item.retracted() {
        put("status", json!("retracted"));
    }
    if let Some(c) = item.content() {
        for (name, value) in c.view().csl_fields(lang) {
            put(name, value);
        }
    }
    Value::Object(v)
}

/// BibTeX's month macros.
const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// `Ed25519-signed, seq N`, and what happened to it since.
fn note(item: &Current) -> String {
    let mut note = format!("Ed25519-signed, seq {}", item.original.header.seq);
    if let Some(a) = &item.amendment {
        note.push_str(&format!("; amended, seq {}", a.header.seq));
    }
    if let Some(r) = &item.retraction {
        note.push_str(&format!("; retracted, seq {}", r.header.seq));
    }
    note
}

/// `[year, month, day]` of a local date or date-time `YYYY-MM-DD…`.
pub(crate) fn date_parts(local: &str) -> Option<Value> {
    let date = chrono::NaiveDate::parse_from_str(local.get(..10)?, "%Y-%m-%d").ok()?;
    Some(json!([date.year(), date.month(), date.day()]))
}

/// `text` with BibTeX's and LaTeX's special characters escaped, and line breaks as spaces.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '{' => out.push_str("\\textbraceleft{}"),
            '}' => out.push_str("\\textbraceright{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '~' => out.push_str("\\textasciitilde{}"),
            '%' | '&' | '#' | '_' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feeds::fixture::{self, T0};
    use crate::lang::member_name;

    const HOUR: i64 = 3_600_000;

    /// The value of `field` in a BibTeX entry written by [`bibtex`].
    fn field<'a>(entry: &'a str, name: &str) -> &'a str {
        entry
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{name} = ")))
            .and_then(|v| v.strip_suffix(','))
            .unwrap_or_else(|| panic!("{name} missing in {entry}"))
    }

    #[test]
    fn bibtex_escapes_specials_and_balances_braces() {
        let mut net = fixture::net();
        let mut uz = net.publish("UZ", T0, fixture::practice_uz());
        net.amend(&mut uz, T0 + HOUR, fixture::practice_uz());
        let name = member_name(&net.charter, uz.member(), Some("uz"));
        assert_eq!(name, "Oʻzbekiston");
        let entry = bibtex(&uz, "https://hub.example.org/", "A & B {x}", Some("en"));
        let id = uz.id().to_hex();
        assert!(
            entry.starts_with(&format!("@misc{{hubnet-{},\n", &id[..12])),
            "{entry}"
        );
        assert!(entry.ends_with("}\n"));
        assert_eq!(
            field(&entry, "title"),
            "{Uzbekistan: data-driven recruitment \\textbraceleft{}v2\\textbraceright{} \\& more\\_\\#1 \\$5}"
        );
        assert_eq!(
            field(&entry, "author"),
            "{{A \\& B \\textbraceleft{}x\\textbraceright{}}}"
        );
        assert_eq!(field(&entry, "year"), "{2027}");
        assert_eq!(field(&entry, "month"), "jan");
        assert_eq!(
            field(&entry, "howpublished"),
            format!("{{hubnet record {id}}}")
        );
        assert_eq!(
            field(&entry, "url"),
            format!("{{https://hub.example.org/records/{id}}}")
        );
        assert_eq!(
            field(&entry, "note"),
            "{Ed25519-signed, seq 1; amended, seq 2}"
        );
        assert_eq!(field(&entry, "language"), "{en}");
        // BibTeX finds the end of each field by counting braces: they must balance.
        let mut depth = 0i32;
        for c in entry.chars() {
            depth += match c {
                '{' => 1,
                '}' => -1,
                _ => 0,
            };
            assert!(depth >= 0, "{entry}");
        }
        assert_eq!(depth, 0);

        // Russian text and a percent sign.
        let kz = net.publish("KZ", T0 + 2 * HOUR, fixture::practice_kz());
        let entry = bibtex(&kz, "https://h.example", "Казахстан", Some("ru"));
        assert_eq!(
            field(&entry, "title"),
            "{Наставничество: \"новым\" служащим, 100\\% поддержка}"
        );
        assert_eq!(field(&entry, "author"), "{{Казахстан}}");
        assert_eq!(field(&entry, "language"), "{ru}");
        assert!(field(&entry, "abstract").contains("наставник; первые"));
    }

    /// The item properties of the CSL 1.0.2 `csl-data.json` schema (which allows no others).
    const CSL_FIELDS: &[&str] = &[
        "type",
        "id",
        "language",
        "author",
        "issued",
        "event-date",
        "abstract",
        "event-place",
        "keyword",
        "note",
        "number",
        "publisher",
        "status",
        "title",
        "URL",
    ];

    #[test]
    fn csl_json_has_the_schema_fields() {
        let mut net = fixture::net();
        let kz = net.publish("KZ", T0, fixture::practice_kz());
        let mut event = net.publish("KZ", T0 + HOUR, fixture::event_kz());
        net.retract(&mut event, T0 + 2 * HOUR);

        let v = csl_json(&kz, "https://h.example/", "Қазақстан", Some("kk"));
        assert_eq!(v["type"], "report");
        assert_eq!(v["id"], key(&kz));
        assert_eq!(
            v["title"],
            "Тәлімгерлік: \"жаңа\" қызметшілерге, 100% қолдау"
        );
        assert_eq!(v["author"], json!([{"literal": "Қазақстан"}]));
        assert_eq!(v["issued"], json!({"date-parts": [[2027, 1, 15]]}));
        assert_eq!(
            v["URL"],
            format!("https://h.example/records/{}", kz.id().to_hex())
        );
        assert_eq!(v["language"], "kk");
        assert_eq!(v["abstract"], "Әр жаңа қызметшіге тәлімгер бекітіледі.");
        assert_eq!(v["publisher"], PUBLISHER);
        assert_eq!(v["number"], kz.id().to_hex());
        assert_eq!(v["keyword"], "training, hr-management");
        assert!(v.get("status").is_none());
        assert!(v.get("event-date").is_none());

        let v = csl_json(&event, "https://h.example", "Kazakhstan", Some("en"));
        assert_eq!(v["type"], "event");
        assert_eq!(v["title"], "Conference on digital public services");
        assert_eq!(v["language"], "en");
        assert_eq!(v["status"], "retracted");
        assert_eq!(
            v["event-date"],
            json!({"date-parts": [[2027, 4, 14], [2027, 4, 15]]})
        );
        assert_eq!(
            v["event-place"],
            "Академия госуправления, пр. Абая, 33, Алматы, KZ"
        );
        assert_eq!(v["note"], "Ed25519-signed, seq 2; retracted, seq 3");

        for item in [&kz, &event] {
            let v = csl_json(item, "https://h.example", "X", None);
            for name in v.as_object().expect("object").keys() {
                assert!(CSL_FIELDS.contains(&name.as_str()), "{name} is not CSL");
            }
        }
    }
}
