//! Joint programmes as an IATI activity file: the XML of the IATI Standard 2.03
//! (<https://iatistandard.org/en/iati-standard/203/activity-standard/>), written by `quick-xml`,
//! which escapes every text and attribute. `tests/data/iati-2.03/` holds the schema it
//! validates against (the tests run `xmllint` on it).
//!
//! One `<iati-activity>` per programme, with only the elements a programme has data for, in the
//! order the schema's sequence demands:
//!
//! | IATI element | from the programme |
//! |---|---|
//! | `iati-identifier` | [`activity_identifier`]: the lead's [`org_ref`], `-`, the record id |
//! | `reporting-org` | the lead member ([`org_ref`], [`member_org_type`]), its names in the charter |
//! | `title`, `description` | title; description (type 1) and objectives (type 2), one narrative per language |
//! | `participating-org` | one per participant and role that IATI knows ([`iati_role`]) |
//! | `activity-status` | the status: its number is the IATI ActivityStatus code |
//! | `activity-date` | types 1 to 4: planned start, actual start, planned end, actual end |
//! | `recipient-country` | the countries, without percentages (the programme gives no shares) |
//! | `tag` | the topics, in vocabulary 99 (the reporting organisation's own, the charter's) |
//! | `budget` | type 1 (original), status 1 indicative or 2 committed, value dated at the period start |
//! | `related-activity` | the related programmes' identifiers, types 1 parent, 2 child, 3 sibling |
//! | `result` | type 1 output, 2 outcome, 3 impact; indicators with measure, ascending, baseline, periods |
//!
//! No `sector`: a programme's topics are the charter's vocabulary, which has no agreed crosswalk
//! to the DAC 5-digit sector codes IATI sectors use, and a sector list must split 100 percent
//! between its codes, which a programme does not say. Guessing a code (every civil-service
//! programme under 15110, say) would publish a classification no member signed, so the topics go
//! into `tag` (which carries no percentages) in the reporting organisation's vocabulary.
//!
//! Contributions have no element of their own: IATI reports money as budgets and transactions
//! of the reporting organisation, not as pledges per participant, so they stay in the JSON and CSV
//! exports. Whether each participant confirmed the programme is hubnet's, not IATI's
//! (`GET /api/v1/programmes/{id}`).

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::io::Write;

use hubnet_proto::v1 as pb;
use hubnet_protocol::kinds::programme::{
    BudgetStatus, IndicatorMeasure, ParticipantRole, ProgrammeStatus, RelationType, ResultType,
    lead,
};
use hubnet_protocol::{Charter, RecordId};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use super::{base, utc};
use crate::current::Current;
use crate::kinds::Content;

/// The version of the IATI activity standard written.
pub const VERSION: &str = "2.03";

/// The prefix of every identifier this export makes up (see [`org_ref`]).
pub const PREFIX: &str = "XM-HUBNET";

/// What can go wrong writing the document.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IatiError {
    /// The XML writer failed (it writes to memory, so only on a bug).
    #[error("writing the IATI activity XML: {0}")]
    Write(#[from] std::io::Error),
}

/// What the activities name beyond themselves, which the caller looks up in its store: the
/// institutions that take part (their names and types), and the lead of each related
/// programme (its identifier starts with its lead's reference).
#[derive(Debug, Default)]
pub struct Named {
    /// Institution records in force, by record id.
    pub institutions: BTreeMap<RecordId, pb::Institution>,
    /// The lead member code of each related programme, by record id.
    pub programme_leads: BTreeMap<RecordId, String>,
}

/// The IATI organisation identifier of a member: `XM-HUBNET-<member code>`.
///
/// IATI organisation identifiers are a registration agency's prefix and the organisation's
/// number in that register. hubnet's members (civil-service agencies and the Hub's Secretariat)
/// have no entry in an IATI-recognised register that this node could know, so the export makes
/// one up in the style IATI itself uses for agencies outside national registers (`XM-DAC-…`,
/// `XM-OCHA-…`: `XM` is an ISO 3166 user-assigned code): `XM-HUBNET` and the member code of
/// the charter. It is stable (a member's code never changes) and unique within the network, but
/// it is not registered at org-id.guide, so IATI tools treat it as unknown.
pub fn org_ref(member: &str) -> String {
    format!("{PREFIX}-{member}")
}

/// The IATI organisation identifier of an institution record: `XM-HUBNET-<record id>` (hex),
/// made up as [`org_ref`] explains; the record id is what every node cites it by.
pub fn institution_ref(id: &RecordId) -> String {
    format!("{PREFIX}-{}", id.to_hex())
}

/// The IATI activity identifier of programme `id` led by `lead`:
/// `XM-HUBNET-<lead>-<record id>` (hex).
///
/// IATI requires an activity identifier to start with its reporting organisation's identifier
/// ([`org_ref`] of the lead) and to never change. The programme's record id is the original
/// record's hash, which amendments keep and which every node computes alike; the lead is the
/// original's author and cannot change either. So every node exports the same identifier for the
/// same programme, before and after amendments.
pub fn activity_identifier(lead: &str, id: &RecordId) -> String {
    format!("{}-{}", org_ref(lead), id.to_hex())
}

/// The IATI OrganisationRole code of a participant role, or `None` when IATI has none.
///
/// | hubnet | IATI |
/// |---|---|
/// | `funding` | 1 Funding: provides funds |
/// | `accountable` | 2 Accountable: responsible for oversight of the activity and its outcomes |
/// | `lead` | 3 Extending: manages the budget and direction of the activity on behalf of those who fund it |
/// | `implementing` | 4 Implementing: carries out the activity |
/// | `beneficiary` | none |
///
/// IATI has no role for an organisation that benefits: it reports beneficiaries as recipient
/// countries or regions. So a `beneficiary` role gives no `participating-org`, and a participant
/// whose only role is `beneficiary` is not among them (a member state that benefits is, where the
/// programme lists it, a `recipient-country`).
pub fn iati_role(role: ParticipantRole) -> Option<u8> {
    match role {
        ParticipantRole::Funding => Some(1),
        ParticipantRole::Accountable => Some(2),
        ParticipantRole::Lead => Some(3),
        ParticipantRole::Implementing => Some(4),
        ParticipantRole::Beneficiary => None,
    }
}

/// The IATI OrganisationType code of a member: 10 (Government) for a member state, 40
/// (Multilateral) for the Hub's Secretariat (`HUB`), which belongs to no one state.
pub fn member_org_type(code: &str) -> &'static str {
    if code == "HUB" { "40" } else { "10" }
}

/// The IATI OrganisationType code of an institution's type: ministries and civil-service
/// agencies 10 (Government), academies, schools and universities 80 (Academic, Training and
/// Research), international organisations 40 (Multilateral), others 90 (Other).
pub fn institution_org_type(institution_type: i32) -> &'static str {
    match pb::InstitutionType::try_from(institution_type) {
        Ok(pb::InstitutionType::Ministry | pb::InstitutionType::CivilServiceAgency) => "10",
        Ok(pb::InstitutionType::AcademyOrSchool | pb::InstitutionType::University) => "80",
        Ok(pb::InstitutionType::InternationalOrganisation) => "40",
        _ => "90",
    }
}

/// The programmes among `items` as an IATI activity file (`<iati-activities version="2.03">`),
/// `generated-datetime` `now_ms`; other kinds, retracted programmes and erased records are left
/// out (a retraction withdraws a programme from publication, which IATI cannot say: its status
/// "cancelled" would claim what the lead did not). Each activity's `last-updated-datetime` is
/// when the programme last changed and its `linked-data-uri` its page,
/// `{base_url}/records/{id}`.
///
/// The schema requires at least one activity, so a file of no programme is well-formed but not
/// valid.
pub fn activities(
    items: &[Current],
    named: &Named,
    charter: &Charter,
    base_url: &str,
    now_ms: i64,
) -> Result<String, IatiError> {
    let mut out = Vec::new();
    write_activities(
        &mut out,
        std::iter::once(Ok((items, named))),
        charter,
        base_url,
        now_ms,
    )?;
    String::from_utf8(out)
        .map_err(|e| IatiError::Write(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
}

/// [`activities`], written to `out` a chunk at a time: each chunk is programmes with what they
/// name ([`Named`]), so that a long export holds one chunk.
pub fn write_activities<W, C, N>(
    out: W,
    chunks: impl IntoIterator<Item = std::io::Result<(C, N)>>,
    charter: &Charter,
    base_url: &str,
    now_ms: i64,
) -> Result<(), IatiError>
where
    W: Write,
    C: IntoIterator,
    C::Item: Borrow<Current>,
    N: Borrow<Named>,
{
    let mut w = Writer::new_with_indent(out, b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let generated = rfc3339(now_ms);
    w.create_element("iati-activities")
        .with_attribute(("version", VERSION))
        .with_attribute(("generated-datetime", generated.as_str()))
        .write_inner_content(|w| {
            for chunk in chunks {
                let (items, named) = chunk?;
                for item in items {
                    let item = item.borrow();
                    let Some(Content::Programme(p)) = item.content() else {
                        continue;
                    };
                    if item.retracted() {
                        continue;
                    }
                    activity(w, item, p, named.borrow(), charter, base_url)?;
                }
            }
            Ok(())
        })?;
    w.into_inner().flush()?;
    Ok(())
}

/// One `<iati-activity>`; nothing for a programme whose lead or status is missing (the body
/// rules refuse both, so only a record that never verified could lack them).
fn activity<W: Write>(
    w: &mut Writer<W>,
    item: &Current,
    p: &pb::Programme,
    named: &Named,
    charter: &Charter,
    base_url: &str,
) -> std::io::Result<()> {
    let (Some(lead_code), Some(status)) = (lead(p), ProgrammeStatus::from_proto(p.status)) else {
        return Ok(());
    };
    let id = item.id();
    let updated = rfc3339(item.updated_at());
    let page = format!("{}/records/{}", base(base_url), id.to_hex());
    w.create_element("iati-activity")
        .with_attribute(("last-updated-datetime", updated.as_str()))
        .with_attribute(("linked-data-uri", page.as_str()))
        .write_inner_content(|w| {
            text_element(w, "iati-identifier", &activity_identifier(lead_code, &id))?;
            let reporting = org_ref(lead_code);
            w.create_element("reporting-org")
                .with_attribute(("ref", reporting.as_str()))
                .with_attribute(("type", member_org_type(lead_code)))
                .write_inner_content(|w| member_narratives(w, charter, lead_code, true))?;
            w.create_element("title")
                .write_inner_content(|w| narratives(w, p.title.as_ref(), true))?;
            for (kind, text) in [("1", &p.description), ("2", &p.objectives)] {
                if text.as_ref().is_some_and(|t| !t.text.is_empty()) {
                    w.create_element("description")
                        .with_attribute(("type", kind))
                        .write_inner_content(|w| narratives(w, text.as_ref(), true))?;
                }
            }
            for participant in &p.participants {
                participating_orgs(w, participant, named, charter)?;
            }
            w.create_element("activity-status")
                .with_attribute(("code", (status.to_proto() as i32).to_string().as_str()))
                .write_empty()?;
            for (kind, date) in [
                ("1", &p.planned_start),
                ("2", &p.actual_start),
                ("3", &p.planned_end),
                ("4", &p.actual_end),
            ] {
                if !date.is_empty() {
                    w.create_element("activity-date")
                        .with_attribute(("type", kind))
                        .with_attribute(("iso-date", date.as_str()))
                        .write_empty()?;
                }
            }
            for country in &p.countries {
                w.create_element("recipient-country")
                    .with_attribute(("code", country.as_str()))
                    .write_empty()?;
            }
            let vocabulary = format!("{}/api/v1/vocabulary", base(base_url));
            for topic in &p.topics {
                w.create_element("tag")
                    .with_attribute(("vocabulary", "99"))
                    .with_attribute(("vocabulary-uri", vocabulary.as_str()))
                    .with_attribute(("code", topic.as_str()))
                    .write_empty()?;
            }
            for line in &p.budget {
                budget(w, line)?;
            }
            for related in &p.related {
                let Some(rid) = record_id(&related.id) else {
                    continue;
                };
                let (Some(lead), Some(relation)) = (
                    named.programme_leads.get(&rid),
                    RelationType::from_proto(related.relation),
                ) else {
                    continue;
                };
                w.create_element("related-activity")
                    .with_attribute(("ref", activity_identifier(lead, &rid).as_str()))
                    .with_attribute(("type", code(relation.to_proto() as i32).as_str()))
                    .write_empty()?;
            }
            for r in &p.results {
                result(w, r)?;
            }
            Ok(())
        })?;
    Ok(())
}

/// The `participating-org` elements of one participant: one per role IATI knows.
fn participating_orgs<W: Write>(
    w: &mut Writer<W>,
    participant: &pb::Participant,
    named: &Named,
    charter: &Charter,
) -> std::io::Result<()> {
    for role in participant
        .roles
        .iter()
        .filter_map(|r| ParticipantRole::from_proto(*r))
        .filter_map(iati_role)
    {
        let role = role.to_string();
        match &participant.who {
            Some(pb::participant::Who::Member(member)) => {
                w.create_element("participating-org")
                    .with_attribute(("ref", org_ref(member).as_str()))
                    .with_attribute(("type", member_org_type(member)))
                    .with_attribute(("role", role.as_str()))
                    .write_inner_content(|w| member_narratives(w, charter, member, false))?;
            }
            Some(pb::participant::Who::InstitutionId(bytes)) => {
                let Some(id) = record_id(bytes) else {
                    continue;
                };
                let institution = named.institutions.get(&id);
                let element = w
                    .create_element("participating-org")
                    .with_attribute(("ref", institution_ref(&id).as_str()));
                let element = match institution {
                    Some(i) => {
                        element.with_attribute(("type", institution_org_type(i.institution_type)))
                    }
                    None => element,
                };
                element
                    .with_attribute(("role", role.as_str()))
                    .write_inner_content(|w| {
                        narratives(w, institution.and_then(|i| i.name.as_ref()), false)
                    })?;
            }
            None => {}
        }
    }
    Ok(())
}

/// One `<budget>`: type 1 (original), its status, its period and its value dated at the
/// period's start.
fn budget<W: Write>(w: &mut Writer<W>, line: &pb::BudgetLine) -> std::io::Result<()> {
    let status = BudgetStatus::from_proto(line.status).map_or("1", |s| match s {
        BudgetStatus::Indicative => "1",
        BudgetStatus::Committed => "2",
    });
    w.create_element("budget")
        .with_attribute(("type", "1"))
        .with_attribute(("status", status))
        .write_inner_content(|w| {
            date_element(w, "period-start", &line.period_start)?;
            date_element(w, "period-end", &line.period_end)?;
            w.create_element("value")
                .with_attribute(("currency", line.currency.as_str()))
                .with_attribute(("value-date", line.period_start.as_str()))
                .write_text_content(BytesText::new(&line.value))?;
            Ok(())
        })?;
    Ok(())
}

/// One `<result>` with its indicators.
fn result<W: Write>(w: &mut Writer<W>, r: &pb::ProgrammeResult) -> std::io::Result<()> {
    let Some(kind) = ResultType::from_proto(r.result_type) else {
        return Ok(());
    };
    w.create_element("result")
        .with_attribute(("type", code(kind.to_proto() as i32).as_str()))
        .write_inner_content(|w| {
            w.create_element("title")
                .write_inner_content(|w| narratives(w, r.title.as_ref(), true))?;
            for x in &r.indicators {
                let measure =
                    IndicatorMeasure::from_proto(x.measure).map_or(1, |m| m.to_proto() as i32);
                w.create_element("indicator")
                    .with_attribute(("measure", code(measure).as_str()))
                    .with_attribute(("ascending", if x.ascending { "1" } else { "0" }))
                    .write_inner_content(|w| {
                        w.create_element("title")
                            .write_inner_content(|w| narratives(w, x.title.as_ref(), true))?;
                        if let Some(b) = x.baseline.filter(|b| b.year > 0) {
                            w.create_element("baseline")
                                .with_attribute(("year", b.year.to_string().as_str()))
                                .with_attribute(("value", number(b.value).as_str()))
                                .write_empty()?;
                        }
                        for period in &x.periods {
                            w.create_element("period").write_inner_content(|w| {
                                date_element(w, "period-start", &period.start)?;
                                date_element(w, "period-end", &period.end)?;
                                w.create_element("target")
                                    .with_attribute(("value", number(period.target).as_str()))
                                    .write_empty()?;
                                if let Some(actual) = period.actual {
                                    w.create_element("actual")
                                        .with_attribute(("value", number(actual).as_str()))
                                        .write_empty()?;
                                }
                                Ok(())
                            })?;
                        }
                        Ok(())
                    })?;
            }
            Ok(())
        })?;
    Ok(())
}

/// One `<narrative xml:lang="..">` per language of `text`; when there is none and `required`,
/// one empty narrative (the schema asks for at least one where a text is required).
fn narratives<W: Write>(
    w: &mut Writer<W>,
    text: Option<&pb::LocalizedText>,
    required: bool,
) -> std::io::Result<()> {
    let map = text.map(|t| &t.text);
    narratives_of(w, map.into_iter().flatten(), required)
}

/// The member's names in the charter as narratives (the code when the charter names none).
fn member_narratives<W: Write>(
    w: &mut Writer<W>,
    charter: &Charter,
    code: &str,
    required: bool,
) -> std::io::Result<()> {
    match charter.member_by_code(code) {
        Some(m) if !m.name.is_empty() => narratives_of(w, &m.name, required),
        _ => {
            w.create_element("narrative")
                .write_text_content(BytesText::new(&clean(code)))?;
            Ok(())
        }
    }
}

fn narratives_of<'a, W: Write>(
    w: &mut Writer<W>,
    texts: impl IntoIterator<Item = (&'a String, &'a String)>,
    required: bool,
) -> std::io::Result<()> {
    let mut any = false;
    for (lang, text) in texts {
        any = true;
        w.create_element("narrative")
            .with_attribute(("xml:lang", lang.as_str()))
            .write_text_content(BytesText::new(&clean(text)))?;
    }
    if !any && required {
        w.create_element("narrative").write_empty()?;
    }
    Ok(())
}

/// `<name>text</name>`.
fn text_element<W: Write>(w: &mut Writer<W>, name: &str, text: &str) -> std::io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(&clean(text)))?;
    Ok(())
}

/// `<name iso-date="YYYY-MM-DD"/>`.
fn date_element<W: Write>(w: &mut Writer<W>, name: &str, date: &str) -> std::io::Result<()> {
    w.create_element(name)
        .with_attribute(("iso-date", date))
        .write_empty()?;
    Ok(())
}

/// A record id as signed (32 bytes), if it is one.
pub fn record_id(bytes: &[u8]) -> Option<RecordId> {
    <[u8; 32]>::try_from(bytes).ok().map(RecordId)
}

/// A code as IATI writes it: the number.
fn code(value: i32) -> String {
    value.to_string()
}

/// A finite number as a decimal (Rust writes no exponent): `120`, `87.5`.
fn number(value: f64) -> String {
    format!("{value}")
}

/// Milliseconds since the epoch as an `xsd:dateTime` in UTC, `2027-01-15T08:00:00Z`.
fn rfc3339(ms: i64) -> String {
    utc(ms).format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Text without the characters XML 1.0 does not allow (U+FFFE and U+FFFF too; tab and line
/// breaks stay): the one rule of every XML answer.
fn clean(text: &str) -> String {
    crate::oai::xml::clean(text)
}

#[cfg(test)]
pub(crate) mod testing {
    //! Checks of XML documents shared by this module's tests and the API's: the IATI 2.03 schema
    //! or another (through `xmllint`) and a small tree read back with `quick-xml`.

    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use quick_xml::escape::resolve_predefined_entity;
    use quick_xml::events::{BytesStart, Event};
    use quick_xml::{Reader, XmlVersion};

    /// The committed IATI activity schema 2.03.
    pub fn schema() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/data/iati-2.03/iati-activities-schema.xsd")
    }

    /// Validates `xml` against the committed 2.03 schema with `xmllint` ([`validate_with`]).
    pub fn validate(xml: &str) -> bool {
        validate_with(xml, &schema())
    }

    /// Validates `xml` against the XML Schema `xsd` with `xmllint`. Without `xmllint` on the
    /// PATH, says so and returns false, unless `HUBNET_REQUIRE_XMLLINT` is set (as `.ci/run`
    /// sets it): then the test fails.
    pub fn validate_with(xml: &str, xsd: &Path) -> bool {
        let here = Command::new("xmllint")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !here {
            assert!(
                std::env::var_os("HUBNET_REQUIRE_XMLLINT").is_none(),
                "HUBNET_REQUIRE_XMLLINT is set but `xmllint` (Debian: libxml2-utils) does not run"
            );
            eprintln!("XML schema validation NOT RUN: no `xmllint` (Debian: libxml2-utils)");
            return false;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("document.xml");
        std::fs::write(&file, xml).expect("write");
        let out = Command::new("xmllint")
            .args(["--noout", "--nonet", "--schema"])
            .arg(xsd)
            .arg(&file)
            .output()
            .expect("xmllint runs");
        assert!(
            out.status.success(),
            "not valid against {}:\n{}\n{}",
            xsd.display(),
            String::from_utf8_lossy(&out.stderr),
            xml.chars().take(4000).collect::<String>()
        );
        true
    }

    /// An element read back: name, attributes, text, children.
    #[derive(Debug, Default)]
    pub struct Element {
        pub name: String,
        pub attrs: BTreeMap<String, String>,
        pub text: String,
        pub children: Vec<Element>,
    }

    impl Element {
        /// The children named `name`.
        pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
            self.children.iter().filter(move |c| c.name == name)
        }

        /// The first child named `name`.
        pub fn one(&self, name: &str) -> &Element {
            self.children
                .iter()
                .find(|c| c.name == name)
                .unwrap_or_else(|| panic!("no <{name}> in <{}>", self.name))
        }

        /// Attribute `name`.
        pub fn attr(&self, name: &str) -> &str {
            self.attrs
                .get(name)
                .map(String::as_str)
                .unwrap_or_else(|| panic!("no @{name} on <{}>", self.name))
        }

        /// The narratives as (xml:lang, text).
        pub fn narratives(&self) -> Vec<(String, String)> {
            self.all("narrative")
                .map(|n| {
                    (
                        n.attrs.get("xml:lang").cloned().unwrap_or_default(),
                        n.text.clone(),
                    )
                })
                .collect()
        }
    }

    /// Reads `xml` into its root element, with `quick-xml`: text and attribute values
    /// unescaped (predefined and character references) and normalized as XML 1.0 says.
    pub fn parse(xml: &str) -> Element {
        let mut reader = Reader::from_str(xml);
        let mut stack = vec![Element::default()];
        let element = |e: &BytesStart| {
            let mut el = Element {
                name: String::from_utf8(e.name().as_ref().to_vec()).expect("utf-8"),
                ..Element::default()
            };
            for a in e.attributes() {
                let a = a.expect("attribute");
                el.attrs.insert(
                    String::from_utf8(a.key.as_ref().to_vec()).expect("utf-8"),
                    a.normalized_value(XmlVersion::Explicit1_0)
                        .expect("unescapes")
                        .into_owned(),
                );
            }
            el
        };
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Start(e) => stack.push(element(&e)),
                Event::Empty(e) => {
                    let el = element(&e);
                    stack.last_mut().expect("parent").children.push(el);
                }
                Event::End(_) => {
                    let el = stack.pop().expect("open element");
                    stack.last_mut().expect("parent").children.push(el);
                }
                Event::Text(t) => {
                    let text = t.xml_content(XmlVersion::Explicit1_0).expect("utf-8");
                    stack.last_mut().expect("element").text.push_str(&text);
                }
                Event::GeneralRef(r) => {
                    let resolved = match r.resolve_char_ref().expect("character reference") {
                        Some(c) => c.to_string(),
                        None => {
                            let name = r.decode().expect("utf-8");
                            resolve_predefined_entity(&name)
                                .expect("a predefined entity")
                                .to_owned()
                        }
                    };
                    stack.last_mut().expect("element").text.push_str(&resolved);
                }
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(stack.len(), 1, "every element closed");
        let mut document = stack.pop().expect("document");
        assert_eq!(document.children.len(), 1, "one root element");
        document.children.pop().expect("root")
    }
}

#[cfg(test)]
mod tests {
    use hubnet_protocol::Body;

    use super::testing::{Element, parse, validate};
    use super::*;
    use crate::feeds::fixture::{self, T0};

    const HOUR: i64 = 3_600_000;
    const BASE: &str = "https://hub.example.org/";

    /// The institution every fixture programme names (the body rules do not look it up).
    fn institution_id() -> RecordId {
        RecordId([0x22; 32])
    }

    /// A parent programme led by AZ (amended: suspended), its child led by HUB, a retracted
    /// programme led by KG, and an event; with the institution and the parent's lead named.
    fn items() -> (Vec<Current>, Named) {
        let mut net = fixture::net();
        let inst = institution_id().to_hex();
        let mut parent = net.publish(
            "AZ",
            T0,
            fixture::programme("AZ", "implementation", "2027-01-01", &inst, &[]),
        );
        let child = net.publish(
            "HUB",
            T0 + HOUR,
            fixture::programme(
                "HUB",
                "implementation",
                "2027-01-01",
                &inst,
                &[(parent.id().to_hex(), "parent")],
            ),
        );
        let amended = fixture::programme("AZ", "suspended", "2027-01-01", &inst, &[]);
        net.amend(&mut parent, T0 + 2 * HOUR, amended);
        let mut gone = net.publish(
            "KG",
            T0 + 3 * HOUR,
            fixture::programme("KG", "pipeline", "2027-01-01", &inst, &[]),
        );
        net.retract(&mut gone, T0 + 4 * HOUR);
        let event = net.publish("KZ", T0 + 5 * HOUR, fixture::event_kz());
        let mut named = Named::default();
        named.institutions.insert(
            institution_id(),
            pb::Institution {
                name: Some(pb::LocalizedText {
                    text: [
                        ("en".into(), "Agency for Civil Service Affairs".into()),
                        ("kk".into(), "Мемлекеттік қызмет істері агенттігі".into()),
                    ]
                    .into(),
                }),
                institution_type: pb::InstitutionType::CivilServiceAgency as i32,
                ..pb::Institution::default()
            },
        );
        named
            .programme_leads
            .insert(parent.id(), parent.member().to_owned());
        (vec![parent, child, gone, event], named)
    }

    fn export(items: &[Current], named: &Named) -> String {
        let charter = fixture::net().charter;
        activities(items, named, &charter, BASE, T0 + 100 * HOUR).expect("writes")
    }

    fn activity<'a>(root: &'a Element, identifier: &str) -> &'a Element {
        root.all("iati-activity")
            .find(|a| a.one("iati-identifier").text == identifier)
            .unwrap_or_else(|| panic!("no activity {identifier}"))
    }

    #[test]
    fn programmes_export_as_valid_iati_activities_that_read_back() {
        let (items, named) = items();
        let xml = export(&items, &named);
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
        validate(&xml);

        let root = parse(&xml);
        assert_eq!(root.name, "iati-activities");
        assert_eq!(root.attr("version"), "2.03");
        assert_eq!(root.attr("generated-datetime"), "2027-01-19T12:00:00Z");
        // The retracted programme and the event are left out.
        assert_eq!(root.all("iati-activity").count(), 2);

        let (parent, child) = (&items[0], &items[1]);
        let child_ref = format!("XM-HUBNET-HUB-{}", child.id().to_hex());
        let a = activity(&root, &child_ref);
        assert_eq!(a.attr("last-updated-datetime"), "2027-01-15T09:00:00Z");
        assert_eq!(
            a.attr("linked-data-uri"),
            format!("https://hub.example.org/records/{}", child.id().to_hex())
        );
        let reporting = a.one("reporting-org");
        assert_eq!(reporting.attr("ref"), "XM-HUBNET-HUB");
        assert_eq!(reporting.attr("type"), "40");
        assert!(
            reporting
                .narratives()
                .contains(&("en".into(), "Secretariat of the Regional Hub".into()))
        );
        // Escaped on the way out, the same text on the way back.
        assert_eq!(
            a.one("title").narratives(),
            [
                (
                    "en".into(),
                    "Joint e-recruitment & \"merit\" <toolkit>".into()
                ),
                (
                    "ru".into(),
                    "Совместная программа электронного найма".into()
                ),
            ]
        );
        let descriptions: Vec<(&str, Vec<(String, String)>)> = a
            .all("description")
            .map(|d| (d.attr("type"), d.narratives()))
            .collect();
        assert_eq!(descriptions.len(), 2);
        assert_eq!(descriptions[0].0, "1");
        assert_eq!(
            descriptions[0].1[0].1,
            "Three agencies build one merit-based e-recruitment toolkit;\nopen competitions online."
        );
        assert_eq!(descriptions[1].0, "2");

        // Roles: lead → 3, accountable → 2, funding → 1, implementing → 4; UZ (beneficiary
        // only) is no participating organisation.
        let inst = format!("XM-HUBNET-{}", institution_id().to_hex());
        let orgs: Vec<(&str, &str, &str)> = a
            .all("participating-org")
            .map(|o| (o.attr("ref"), o.attr("role"), o.attr("type")))
            .collect();
        assert_eq!(
            orgs,
            [
                ("XM-HUBNET-HUB", "3", "40"),
                ("XM-HUBNET-HUB", "2", "40"),
                ("XM-HUBNET-KZ", "1", "10"),
                ("XM-HUBNET-KZ", "4", "10"),
                (inst.as_str(), "4", "10"),
            ]
        );
        let institution = a.all("participating-org").nth(4).expect("institution");
        assert_eq!(
            institution.narratives()[0],
            ("en".into(), "Agency for Civil Service Affairs".into())
        );

        assert_eq!(a.one("activity-status").attr("code"), "2");
        let dates: Vec<(&str, &str)> = a
            .all("activity-date")
            .map(|d| (d.attr("type"), d.attr("iso-date")))
            .collect();
        assert_eq!(
            dates,
            [
                ("1", "2027-01-01"),
                ("2", "2027-02-01"),
                ("3", "2028-12-31")
            ]
        );
        let countries: Vec<&str> = a.all("recipient-country").map(|c| c.attr("code")).collect();
        assert_eq!(countries, ["KZ", "UZ"]);
        assert_eq!(a.all("sector").count(), 0);
        let tags: Vec<(&str, &str)> = a
            .all("tag")
            .map(|t| (t.attr("vocabulary"), t.attr("code")))
            .collect();
        assert_eq!(tags, [("99", "recruitment"), ("99", "e-government")]);

        let budgets: Vec<(&str, &str, &str, &str, &str, &str)> = a
            .all("budget")
            .map(|b| {
                let v = b.one("value");
                (
                    b.attr("type"),
                    b.attr("status"),
                    b.one("period-start").attr("iso-date"),
                    v.text.as_str(),
                    v.attr("currency"),
                    v.attr("value-date"),
                )
            })
            .collect();
        assert_eq!(
            budgets,
            [
                ("1", "2", "2027-01-01", "80000", "USD", "2027-01-01"),
                ("1", "1", "2028-01-01", "40000.50", "USD", "2028-01-01"),
            ]
        );

        let related = a.one("related-activity");
        assert_eq!(
            related.attr("ref"),
            format!("XM-HUBNET-AZ-{}", parent.id().to_hex())
        );
        assert_eq!(related.attr("type"), "1");

        let result = a.one("result");
        assert_eq!(result.attr("type"), "2");
        let indicator = result.one("indicator");
        assert_eq!(indicator.attr("measure"), "2");
        assert_eq!(indicator.attr("ascending"), "1");
        let baseline = indicator.one("baseline");
        assert_eq!(
            (baseline.attr("year"), baseline.attr("value")),
            ("2026", "12.5")
        );
        let periods: Vec<(&str, &str, Option<&str>)> = indicator
            .all("period")
            .map(|p| {
                (
                    p.one("period-start").attr("iso-date"),
                    p.one("target").attr("value"),
                    p.all("actual").next().map(|x| x.attr("value")),
                )
            })
            .collect();
        assert_eq!(
            periods,
            [
                ("2027-02-01", "40", Some("37.5")),
                ("2028-01-01", "75", None)
            ]
        );

        // The amended parent: the amendment's status (suspended, 6), the same identifier.
        let a = activity(&root, &format!("XM-HUBNET-AZ-{}", parent.id().to_hex()));
        assert_eq!(a.one("activity-status").attr("code"), "6");
        assert_eq!(a.attr("last-updated-datetime"), "2027-01-15T10:00:00Z");
        assert_eq!(a.one("reporting-org").attr("type"), "10");
        assert_eq!(a.all("related-activity").count(), 0);
    }

    #[test]
    fn a_related_programme_not_held_and_an_unknown_institution_are_left_bare() {
        let (items, _) = items();
        let xml = export(&items[..2], &Named::default());
        validate(&xml);
        let root = parse(&xml);
        let a = activity(&root, &format!("XM-HUBNET-HUB-{}", items[1].id().to_hex()));
        // No lead known for the related programme: no identifier to point at.
        assert_eq!(a.all("related-activity").count(), 0);
        let inst = a
            .all("participating-org")
            .find(|o| o.attr("ref").ends_with(&institution_id().to_hex()))
            .expect("institution");
        assert!(!inst.attrs.contains_key("type"));
        assert!(inst.narratives().is_empty());
    }

    #[test]
    fn every_status_is_its_iati_code_and_roles_map_as_documented() {
        for (i, status) in ProgrammeStatus::ALL.iter().enumerate() {
            assert_eq!(status.to_proto() as i32, i as i32 + 1, "{status:?}");
        }
        let roles: Vec<(&str, Option<u8>)> = ParticipantRole::ALL
            .iter()
            .map(|r| (r.name(), iati_role(*r)))
            .collect();
        assert_eq!(
            roles,
            [
                ("lead", Some(3)),
                ("funding", Some(1)),
                ("implementing", Some(4)),
                ("beneficiary", None),
                ("accountable", Some(2)),
            ]
        );
        assert_eq!(
            institution_org_type(pb::InstitutionType::University as i32),
            "80"
        );
        assert_eq!(institution_org_type(0), "90");
    }

    #[test]
    fn no_programme_is_an_empty_but_well_formed_file() {
        let (items, named) = items();
        let xml = export(&items[3..], &named);
        let root = parse(&xml);
        assert_eq!(root.name, "iati-activities");
        assert!(root.children.is_empty());
        // A control character, U+FFFE or U+FFFF in a text cannot reach the XML.
        let mut net = fixture::net();
        let mut item = net.publish(
            "HUB",
            T0,
            fixture::programme(
                "HUB",
                "pipeline",
                "2027-01-01",
                &institution_id().to_hex(),
                &[],
            ),
        );
        if let Body::Programme(p) = &mut item.original.body
            && let Some(t) = p.title.as_mut()
        {
            t.text
                .insert("en".into(), "Bell\u{7} and tab\t\u{FFFE}\u{FFFF}".into());
        }
        let xml = export(&[item], &named);
        validate(&xml);
        let root = parse(&xml);
        assert!(
            root.one("iati-activity")
                .one("title")
                .narratives()
                .contains(&("en".into(), "Bell and tab\t".into()))
        );
    }
}
