//! The OAI-PMH response documents (`quick-xml`'s writer) and `oai_dc` records: the Dublin Core
//! elements a record has (title and description once per language with `xml:lang`, creator,
//! subject, publisher, date, type, identifier, language, coverage, rights, relation). Text is
//! escaped by the writer; characters XML 1.0 forbids (most C0 controls, U+FFFE, U+FFFF) are
//! left out ([`clean`]).

use std::collections::BTreeSet;

use hubnet_proto::v1 as pb;
use hubnet_protocol::Charter;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use super::{Error, Shown};
use crate::current::Current;
use crate::kinds::Content;

const OAI_NS: &str = "http://www.openarchives.org/OAI/2.0/";
const OAI_SCHEMA: &str =
    "http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd";
/// The `oai_dc` namespace.
pub const DC_NS: &str = "http://www.openarchives.org/OAI/2.0/oai_dc/";
/// The `oai_dc` schema.
pub const DC_SCHEMA_URL: &str = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd";
const DC_ELEMENTS: &str = "http://purl.org/dc/elements/1.1/";
const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// What `Identify` says.
pub struct Identify {
    /// The repository's name (the network's).
    pub name: String,
    /// `adminEmail`.
    pub admin_email: String,
    /// `earliestDatestamp`, seconds since the epoch.
    pub earliest: i64,
}

/// A page of a list (or `GetRecord`'s one item).
pub struct Listed<'a> {
    /// The items.
    pub shown: Vec<Shown>,
    /// The resumption token, if the list has more than one page.
    pub resumption: Option<Resumption>,
    /// The node's address, for the records' stable pages.
    pub base: &'a str,
    /// The charter (member and network names).
    pub charter: &'a Charter,
}

/// A `resumptionToken` element.
pub struct Resumption {
    /// The token; empty on the last page.
    pub token: String,
    /// `completeListSize`.
    pub size: usize,
    /// `cursor`.
    pub cursor: usize,
}

/// The body of a response, after `responseDate` and `request`.
pub enum Body<'a> {
    /// `Identify`.
    Identify(Identify),
    /// `ListMetadataFormats`: `oai_dc`.
    MetadataFormats,
    /// `ListSets`: (setSpec, setName).
    Sets(Vec<(String, String)>),
    /// `GetRecord`.
    Record(Listed<'a>),
    /// `ListIdentifiers`.
    Identifiers(Listed<'a>),
    /// `ListRecords`.
    Records(Listed<'a>),
    /// Errors.
    Errors(&'a [Error]),
}

/// The response document for a request to `base_url` with arguments `attrs` (echoed as the
/// `request` element's attributes), answered at `now_ms`.
pub fn document(
    base_url: &str,
    now_ms: i64,
    attrs: &[(String, String)],
    body: &Body<'_>,
) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 1);
    // Writing to a Vec cannot fail.
    let _ = write_document(&mut w, base_url, now_ms, attrs, body);
    String::from_utf8(w.into_inner()).unwrap_or_default()
}

fn write_document(
    w: &mut Writer<Vec<u8>>,
    base_url: &str,
    now_ms: i64,
    attrs: &[(String, String)],
    body: &Body<'_>,
) -> std::io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("OAI-PMH")
        .with_attribute(("xmlns", OAI_NS))
        .with_attribute(("xmlns:xsi", XSI))
        .with_attribute(("xsi:schemaLocation", OAI_SCHEMA))
        .write_inner_content(|w| {
            text(w, "responseDate", &datestamp(now_ms.div_euclid(1000)))?;
            let attrs: Vec<(String, String)> =
                attrs.iter().map(|(k, v)| (clean(k), clean(v))).collect();
            w.create_element("request")
                .with_attributes(attrs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .write_text_content(BytesText::new(&clean(base_url)))?;
            match body {
                Body::Errors(errors) => {
                    for e in *errors {
                        if let Some(code) = e.code() {
                            w.create_element("error")
                                .with_attribute(("code", code))
                                .write_text_content(BytesText::new(&clean(&e.to_string())))?;
                        }
                    }
                    Ok(())
                }
                Body::Identify(i) => identify(w, base_url, i),
                Body::MetadataFormats => {
                    w.create_element("ListMetadataFormats")
                        .write_inner_content(|w| {
                            w.create_element("metadataFormat")
                                .write_inner_content(|w| {
                                    text(w, "metadataPrefix", super::request::OAI_DC)?;
                                    text(w, "schema", DC_SCHEMA_URL)?;
                                    text(w, "metadataNamespace", DC_NS)
                                })?;
                            Ok(())
                        })?;
                    Ok(())
                }
                Body::Sets(sets) => {
                    w.create_element("ListSets").write_inner_content(|w| {
                        for (spec, name) in sets {
                            w.create_element("set").write_inner_content(|w| {
                                text(w, "setSpec", spec)?;
                                text(w, "setName", name)
                            })?;
                        }
                        Ok(())
                    })?;
                    Ok(())
                }
                Body::Record(l) | Body::Records(l) | Body::Identifiers(l) => {
                    let (name, records) = match body {
                        Body::Record(_) => ("GetRecord", true),
                        Body::Records(_) => ("ListRecords", true),
                        _ => ("ListIdentifiers", false),
                    };
                    w.create_element(name)
                        .write_inner_content(|w| items(w, l, records))?;
                    Ok(())
                }
            }
        })?;
    Ok(())
}

fn identify(w: &mut Writer<Vec<u8>>, base_url: &str, i: &Identify) -> std::io::Result<()> {
    w.create_element("Identify").write_inner_content(|w| {
        text(w, "repositoryName", &i.name)?;
        text(w, "baseURL", base_url)?;
        text(w, "protocolVersion", "2.0")?;
        text(w, "adminEmail", &i.admin_email)?;
        text(w, "earliestDatestamp", &datestamp(i.earliest))?;
        text(w, "deletedRecord", "persistent")?;
        text(w, "granularity", "YYYY-MM-DDThh:mm:ssZ")?;
        Ok(())
    })?;
    Ok(())
}

/// The items of a page: headers, or records (a deleted one as its header alone), then the
/// resumption token.
fn items(w: &mut Writer<Vec<u8>>, l: &Listed<'_>, records: bool) -> std::io::Result<()> {
    for s in &l.shown {
        if records {
            w.create_element("record").write_inner_content(|w| {
                header(w, s)?;
                if let Some(c) = &s.current {
                    w.create_element("metadata")
                        .write_inner_content(|w| dc(w, c, l))?;
                }
                Ok(())
            })?;
        } else {
            header(w, s)?;
        }
    }
    if let Some(r) = &l.resumption {
        let size = r.size.to_string();
        let cursor = r.cursor.to_string();
        let e = w
            .create_element("resumptionToken")
            .with_attribute(("completeListSize", size.as_str()))
            .with_attribute(("cursor", cursor.as_str()));
        if r.token.is_empty() {
            e.write_empty()?;
        } else {
            e.write_text_content(BytesText::new(&r.token))?;
        }
    }
    Ok(())
}

fn header(w: &mut Writer<Vec<u8>>, s: &Shown) -> std::io::Result<()> {
    let e = w.create_element("header");
    let e = if s.deleted {
        e.with_attribute(("status", "deleted"))
    } else {
        e
    };
    e.write_inner_content(|w| {
        text(w, "identifier", &s.identifier)?;
        text(w, "datestamp", &datestamp(s.datestamp))?;
        for set in &s.sets {
            text(w, "setSpec", set)?;
        }
        Ok(())
    })?;
    Ok(())
}

/// One record's `oai_dc:dc`.
fn dc(w: &mut Writer<Vec<u8>>, c: &Current, l: &Listed<'_>) -> std::io::Result<()> {
    let Some(content) = c.content() else {
        return Ok(());
    };
    let view = content.view();
    w.create_element("oai_dc:dc")
        .with_attribute(("xmlns:oai_dc", DC_NS))
        .with_attribute(("xmlns:dc", DC_ELEMENTS))
        .with_attribute((
            "xsi:schemaLocation",
            format!("{DC_NS} {DC_SCHEMA_URL}").as_str(),
        ))
        .write_inner_content(|w| {
            localized(w, "dc:title", view.title())?;
            let member = crate::lang::member_name(l.charter, c.member(), Some("en"));
            text(
                w,
                "dc:creator",
                if member.is_empty() {
                    c.member()
                } else {
                    member
                },
            )?;
            let mut subjects: Vec<&str> = view.topics().iter().map(String::as_str).collect();
            for area in view.reform_areas() {
                if !subjects.contains(&area) {
                    subjects.push(area);
                }
            }
            for s in subjects {
                text(w, "dc:subject", s)?;
            }
            localized(w, "dc:description", view.summary())?;
            if let Some((_, network)) = crate::lang::pick_in(l.charter.name(), Some("en")) {
                text(w, "dc:publisher", network)?;
            }
            text(w, "dc:date", &day(c.created_at()))?;
            text(w, "dc:type", dcmi_type(view.name()))?;
            text(w, "dc:type", view.name())?;
            text(
                w,
                "dc:identifier",
                &format!("{}/records/{}", l.base, c.id()),
            )?;
            let mut languages = BTreeSet::new();
            for t in [view.title(), view.summary(), view.markdown()]
                .into_iter()
                .flatten()
            {
                languages.extend(t.text.keys().map(String::as_str));
            }
            for lang in languages {
                text(w, "dc:language", lang)?;
            }
            if !view.country().is_empty() {
                text(w, "dc:coverage", view.country())?;
            }
            if let Some(period) = period(content) {
                text(w, "dc:coverage", &period)?;
            }
            if !view.license().is_empty() {
                text(w, "dc:rights", view.license())?;
            }
            let body = c.amendment.as_ref().map_or(&c.original.body, |a| &a.body);
            let mut related = BTreeSet::new();
            for (_, id, _) in body.record_refs() {
                if id != c.id() && related.insert(id) {
                    text(w, "dc:relation", &format!("{}/records/{id}", l.base))?;
                }
            }
            Ok(())
        })?;
    Ok(())
}

/// The period a record covers, as `start/end` (ISO 8601 interval, an end left out when open):
/// a practice's reform period, an event's or a programme's dates.
fn period(content: Content<'_>) -> Option<String> {
    let (start, end) = match content {
        Content::Practice(pb::Practice {
            reform_period: Some(p),
            ..
        }) => (p.start.clone(), p.end.clone()),
        _ => {
            let s = content.view().schedule()?;
            (s.start.to_owned(), s.end.to_owned())
        }
    };
    match (start.is_empty(), end.is_empty()) {
        (true, true) => None,
        (false, true) => Some(start),
        (true, false) => Some(format!("../{end}")),
        (false, false) => Some(format!("{start}/{end}")),
    }
}

/// The DCMI Type Vocabulary term of a kind.
fn dcmi_type(kind: &str) -> &'static str {
    match kind {
        "event" => "Event",
        "reform_profile" => "Dataset",
        _ => "Text",
    }
}

/// Each language's text as one element with `xml:lang` (left out for a tag XML Schema's
/// `language` type does not take).
fn localized(
    w: &mut Writer<Vec<u8>>,
    name: &str,
    t: Option<&pb::LocalizedText>,
) -> std::io::Result<()> {
    for (lang, value) in t.map(|t| &t.text).into_iter().flatten() {
        let e = w.create_element(name);
        let e = if is_language(lang) {
            e.with_attribute(("xml:lang", lang.as_str()))
        } else {
            e
        };
        e.write_text_content(BytesText::new(&clean(value)))?;
    }
    Ok(())
}

/// Whether `tag` is an `xs:language`: `[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*`.
fn is_language(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let first = parts.next().unwrap_or_default();
    (1..=8).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn text(w: &mut Writer<Vec<u8>>, name: &str, value: &str) -> std::io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(&clean(value)))?;
    Ok(())
}

/// Seconds since the epoch as an OAI-PMH datestamp, `YYYY-MM-DDThh:mm:ssZ`.
pub fn datestamp(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Milliseconds since the epoch as a day, `YYYY-MM-DD`.
fn day(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

/// `text` without the characters XML 1.0 does not allow: controls other than tab, line feed
/// and carriage return, and U+FFFE, U+FFFF (Rust strings hold no surrogates).
pub fn clean(text: &str) -> String {
    text.chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r')
                || !(c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}')
        })
        .collect()
}
