//! The directory of experts and institutions, as pure functions of the records in force: which
//! entries a filter keeps, each entry as JSON, as a vCard (RFC 6350) and as a CSV row, and the
//! operators' list of expert profiles to re-confirm. `api/directory.rs` serves them over HTTP,
//! `cli` lists the profiles due. Today's date is an input: nothing here reads the clock.

use chrono::{Days, NaiveDate};
use hubnet_proto::v1 as pb;
use hubnet_protocol::kinds::expert::ExpertFormat;
use hubnet_protocol::kinds::institution::InstitutionType;
use serde_json::{Value, json};

use crate::current::Current;
use crate::feeds::export::csv_text;
use crate::kinds::Content;
use crate::lang::pick;
use crate::view::rfc3339_ms;

/// What the directory lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryKind {
    /// Expert profiles.
    Expert,
    /// Institutions.
    Institution,
}

impl DirectoryKind {
    /// The record kind's name.
    pub fn name(self) -> &'static str {
        match self {
            DirectoryKind::Expert => "expert",
            DirectoryKind::Institution => "institution",
        }
    }
}

/// The filters the search index does not know (kind, topic and country it does): an expert's
/// working languages and formats, an institution's type and working languages. Values of one
/// filter are alternatives; filters combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Working languages (primary subtags, lower case): `ru` keeps `ru` and `ru-KZ`.
    pub langs: Vec<String>,
    /// Formats an expert offers.
    pub formats: Vec<ExpertFormat>,
    /// Institution types.
    pub types: Vec<InstitutionType>,
}

fn primary(tag: &str) -> String {
    tag.split('-').next().unwrap_or(tag).to_ascii_lowercase()
}

impl Filter {
    /// Whether the content `c` passes.
    pub fn keeps(&self, c: Content<'_>) -> bool {
        let langs_ok = self.langs.is_empty()
            || c.view()
                .languages()
                .iter()
                .any(|t| self.langs.contains(&primary(t)));
        let formats_ok = self.formats.is_empty()
            || c.expert().is_some_and(|e| {
                e.formats
                    .iter()
                    .filter_map(|f| ExpertFormat::from_proto(*f))
                    .any(|f| self.formats.contains(&f))
            });
        let types_ok = self.types.is_empty()
            || c.institution().is_some_and(|i| {
                InstitutionType::from_proto(i.institution_type)
                    .is_some_and(|t| self.types.contains(&t))
            });
        langs_ok && formats_ok && types_ok
    }
}

/// Whether an expert is listed on `today`: its `reconfirm_by` is not before it. Other kinds
/// always are.
pub fn listed_on(c: Content<'_>, today: NaiveDate) -> bool {
    c.view().listed_until().is_none_or(|until| until >= today)
}

/// An expert's current institution, by record id or name, as JSON.
fn organisation_json(id: Option<&[u8]>, name: Option<&pb::LocalizedText>) -> Value {
    match (id, name) {
        (Some(id), _) => json!({"id": hex::encode(id)}),
        (None, Some(n)) => json!({"name": n.text}),
        (None, None) => Value::Null,
    }
}

fn expert_institution(e: &pb::Expert) -> Value {
    match &e.institution {
        Some(pb::expert::Institution::InstitutionId(id)) => organisation_json(Some(id), None),
        Some(pb::expert::Institution::InstitutionName(n)) => organisation_json(None, Some(n)),
        None => Value::Null,
    }
}

/// One directory entry as JSON: `id`, `kind`, `member`, `name`, `country`, `topics`,
/// `languages`, `updated_at`; for an expert `position`, `institution` (`{id}` or `{name}`),
/// `formats`, `public_official`, `contact_email`, `reconfirm_by`; for an institution `type`,
/// `website`, `wikidata`, `ror`, `parent`, `contact_email`. `None` for other kinds.
pub fn entry_json(item: &Current) -> Option<Value> {
    let content = item.content()?;
    let view = content.view();
    let mut v = json!({
        "id": item.id().to_hex(),
        "kind": view.name(),
        "member": item.member(),
        "name": view.title().map(|t| &t.text),
        "country": view.country(),
        "topics": view.topics(),
        "languages": view.languages(),
        "updated_at": rfc3339_ms(item.updated_at()),
        "sample": false,
    });
    let map = v.as_object_mut()?;
    match content {
        Content::Expert(e) => {
            map.insert(
                "position".into(),
                json!(e.position.as_ref().map(|t| &t.text)),
            );
            map.insert("institution".into(), expert_institution(e));
            let formats: Vec<&str> = e
                .formats
                .iter()
                .filter_map(|f| ExpertFormat::from_proto(*f))
                .map(ExpertFormat::name)
                .collect();
            map.insert("formats".into(), json!(formats));
            map.insert("public_official".into(), json!(e.public_official));
            map.insert("contact_email".into(), json!(e.contact_email));
            map.insert("reconfirm_by".into(), json!(e.reconfirm_by));
            map.insert("sample".into(), json!(e.sample));
        }
        Content::Institution(i) => {
            map.insert(
                "type".into(),
                json!(InstitutionType::from_proto(i.institution_type).map(InstitutionType::name)),
            );
            map.insert("website".into(), json!(i.website));
            map.insert("wikidata".into(), json!(i.wikidata));
            map.insert("ror".into(), json!(i.ror));
            map.insert(
                "parent".into(),
                json!((!i.parent.is_empty()).then(|| hex::encode(&i.parent))),
            );
            map.insert("contact_email".into(), json!(i.contact_email));
            map.insert("sample".into(), json!(i.sample));
        }
        _ => return None,
    }
    Some(v)
}

/// The name of an expert's current institution in `lang` (a name given in the record, else the
/// name of the institution record `institution_name` resolves the id to, else empty).
fn institution_text<'a>(
    e: &'a pb::Expert,
    lang: Option<&str>,
    institution_name: &dyn Fn(&[u8]) -> Option<String>,
) -> String {
    match &e.institution {
        Some(pb::expert::Institution::InstitutionName(n)) => pick(Some(n), lang).to_owned(),
        Some(pb::expert::Institution::InstitutionId(id)) => {
            institution_name(id).unwrap_or_default()
        }
        None => String::new(),
    }
}

/// The CSV columns.
pub const CSV_COLUMNS: [&str; 13] = [
    "id",
    "kind",
    "member",
    "name",
    "position",
    "institution",
    "type",
    "country",
    "topics",
    "languages",
    "formats",
    "contact_email",
    "url",
];

/// `items` (experts and institutions; other kinds are skipped) as CSV, texts in `lang`,
/// `base_url` for each record's page; `institution_name` names an institution record by id.
pub fn csv(
    items: &[Current],
    lang: Option<&str>,
    base_url: &str,
    institution_name: &dyn Fn(&[u8]) -> Option<String>,
) -> String {
    let rows = items.iter().filter_map(|item| {
        let c = item.content()?;
        let view = c.view();
        let (position, institution, kind_detail, formats, email) = match c {
            Content::Expert(e) => (
                pick(e.position.as_ref(), lang).to_owned(),
                institution_text(e, lang, institution_name),
                String::new(),
                e.formats
                    .iter()
                    .filter_map(|f| ExpertFormat::from_proto(*f))
                    .map(ExpertFormat::name)
                    .collect::<Vec<_>>()
                    .join(" "),
                e.contact_email.clone(),
            ),
            Content::Institution(i) => (
                String::new(),
                String::new(),
                InstitutionType::from_proto(i.institution_type)
                    .map_or("", InstitutionType::name)
                    .to_owned(),
                String::new(),
                i.contact_email.clone(),
            ),
            _ => return None,
        };
        Some(vec![
            item.id().to_hex(),
            view.name().to_owned(),
            item.member().to_owned(),
            pick(view.title(), lang).to_owned(),
            position,
            institution,
            kind_detail,
            view.country().to_owned(),
            view.topics().join(" "),
            view.languages().join(" "),
            formats,
            email,
            format!("{base_url}/records/{}", item.id()),
        ])
    });
    csv_text(std::iter::once(CSV_COLUMNS.map(str::to_owned).to_vec()).chain(rows))
}

/// `items` (experts and institutions; other kinds are skipped) as vCard 4.0 (RFC 6350), one
/// card per entry, texts in `lang`: `KIND` (`individual` or `org`), `FN`, `ORG` (an expert's
/// institution), `TITLE` (position), `EMAIL;TYPE=work`, `URL` (an institution's website, else
/// the record's page), `LANG` (working languages), `CATEGORIES` (topics), `NOTE` (summary or
/// mandate), `SOURCE` (the record's page), `UID` (`urn:hubnet:<record id>`), `REV` (last
/// change). Text values are escaped (§3.4) and lines folded at 75 octets (§3.2).
pub fn vcards(
    items: &[Current],
    lang: Option<&str>,
    base_url: &str,
    institution_name: &dyn Fn(&[u8]) -> Option<String>,
) -> String {
    let mut out = String::new();
    for item in items {
        let Some(c) = item.content() else { continue };
        let view = c.view();
        let page = format!("{base_url}/records/{}", item.id());
        let mut lines: Vec<String> = vec!["BEGIN:VCARD".into(), "VERSION:4.0".into()];
        let (kind, org, title, email, url) = match c {
            Content::Expert(e) => (
                "individual",
                institution_text(e, lang, institution_name),
                pick(e.position.as_ref(), lang).to_owned(),
                e.contact_email.clone(),
                page.clone(),
            ),
            Content::Institution(i) => (
                "org",
                pick(i.name.as_ref(), lang).to_owned(),
                String::new(),
                i.contact_email.clone(),
                if i.website.is_empty() {
                    page.clone()
                } else {
                    i.website.clone()
                },
            ),
            _ => continue,
        };
        lines.push(format!("KIND:{kind}"));
        lines.push(format!("FN:{}", escape(pick(view.title(), lang))));
        if !org.is_empty() {
            lines.push(format!("ORG:{}", escape(&org)));
        }
        if !title.is_empty() {
            lines.push(format!("TITLE:{}", escape(&title)));
        }
        if !email.is_empty() {
            lines.push(format!("EMAIL;TYPE=work:{}", escape(&email)));
        }
        lines.push(format!("URL:{url}"));
        for (n, l) in view.languages().iter().enumerate() {
            lines.push(format!("LANG;PREF={}:{}", n + 1, escape(l)));
        }
        if !view.topics().is_empty() {
            let topics: Vec<String> = view.topics().iter().map(|t| escape(t)).collect();
            lines.push(format!("CATEGORIES:{}", topics.join(",")));
        }
        let note = pick(view.summary(), lang);
        if !note.is_empty() {
            lines.push(format!("NOTE:{}", escape(note)));
        }
        lines.push(format!("SOURCE:{page}"));
        lines.push(format!("UID:urn:hubnet:{}", item.id()));
        if let Some(t) = chrono::DateTime::from_timestamp_millis(item.updated_at()) {
            lines.push(format!("REV:{}", t.format("%Y%m%dT%H%M%SZ")));
        }
        lines.push("END:VCARD".into());
        for l in lines {
            out.push_str(&fold(&l));
        }
    }
    out
}

/// A text value escaped as RFC 6350 §3.4 says: backslash, comma and semicolon get a backslash,
/// a line break becomes `\n`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '\\' => out.push_str("\\\\"),
            ',' => out.push_str("\\,"),
            ';' => out.push_str("\\;"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// One content line folded as RFC 6350 §3.2 says: no physical line longer than 75 octets
/// (CRLF not counted), each continuation starting with a space, never inside a UTF-8 sequence;
/// ended by CRLF.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3 + 2);
    let mut width = 0;
    for ch in line.chars() {
        let n = ch.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(ch);
        width += n;
    }
    out.push_str("\r\n");
    out
}

/// An expert profile due for re-confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// The original record's id.
    pub id: hubnet_protocol::RecordId,
    /// The publishing member's code.
    pub member: String,
    /// The expert's name (as `lang` picks it).
    pub name: String,
    /// Its `reconfirm_by`.
    pub reconfirm_by: String,
    /// Whether the date has passed (the profile is no longer listed).
    pub lapsed: bool,
}

/// The expert profiles among `items` (not retracted) whose `reconfirm_by` is before `today` or
/// within `within_days` days of it, soonest first: what the member's operators must re-confirm
/// with an amendment.
pub fn due(items: &[Current], today: NaiveDate, within_days: u64, lang: Option<&str>) -> Vec<Due> {
    let horizon = today
        .checked_add_days(Days::new(within_days))
        .unwrap_or(NaiveDate::MAX);
    let mut out: Vec<Due> = items
        .iter()
        .filter(|i| !i.retracted())
        .filter_map(|i| {
            let e = i.content()?.expert()?;
            let until = i.content()?.view().listed_until()?;
            (until <= horizon).then(|| Due {
                id: i.id(),
                member: i.member().to_owned(),
                name: pick(e.name.as_ref(), lang).to_owned(),
                reconfirm_by: e.reconfirm_by.clone(),
                lapsed: until < today,
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.reconfirm_by, a.id).cmp(&(&b.reconfirm_by, b.id)));
    out
}

#[cfg(test)]
mod tests;
