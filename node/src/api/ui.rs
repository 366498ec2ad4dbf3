//! The web UI: static files from `node/ui/`, built into the binary (no JavaScript build step).
//! The app's pages (`/`, `/records/{id}`, `/calendar`, `/compare`, `/directory`,
//! `/countries/{code}`, `/network`, `/members`, `/audit`) all answer with `index.html`; a record
//! page also carries citation metadata (Highwire `citation_*` tags and a canonical link) so
//! reference managers can cite it without running the script, and schema.org JSON-LD built from
//! the record in force (see [`json_ld`] for the type of each kind; an erased record has none).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use hubnet_proto::v1 as pb;
use hubnet_protocol::RecordId;
use hubnet_protocol::kinds::institution::InstitutionType;
use hubnet_protocol::kinds::programme::ParticipantRole;
use include_dir::{Dir, include_dir};
use serde_json::{Value, json};
use tower_http::set_header::SetResponseHeaderLayer;

use super::feeds::BaseUrl;
use super::{ApiError, AppState, blocking, query};
use crate::kinds::Content;
use crate::lang::pick;
use crate::view::rfc3339_ms;

static UI: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/ui");

/// The Content-Security-Policy of every answer: scripts and styles only from the node itself, so
/// no script inside a record can ever run, even if some text were inserted as HTML by mistake.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
    frame-ancestors 'none'; form-action 'self'";

/// The UI's routes, with the security headers on every answer of `router`.
pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/", get(page))
        .route("/calendar", get(page))
        .route("/compare", get(page))
        .route("/directory", get(page))
        .route("/countries/{code}", get(page))
        .route("/network", get(page))
        .route("/members", get(page))
        .route("/audit", get(page))
        .route("/records/{id}", get(record_page))
        .route("/ui/{*path}", get(asset))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
}

fn index_html() -> Result<&'static str, ApiError> {
    UI.get_file("index.html")
        .and_then(|f| f.contents_utf8())
        .ok_or_else(|| ApiError::Internal("the built-in UI has no index.html".into()))
}

async fn page() -> Result<Html<&'static str>, ApiError> {
    index_html().map(Html)
}

/// Escapes text for an HTML attribute or element (also used by the audit's HTML report).
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

async fn record_page(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let html = index_html()?;
    let Ok(id) = id.parse::<RecordId>() else {
        // The page itself reports the bad id; the status says it too.
        return Ok((StatusCode::NOT_FOUND, Html(html)).into_response());
    };
    let shared = state.shared.clone();
    let current = blocking(move || {
        let c = query::current_of(&shared, &id)?;
        let ld = record_json_ld(&shared, &c, &base);
        Ok((c, ld))
    })
    .await;
    let Ok((c, ld)) = current else {
        return Ok((StatusCode::NOT_FOUND, Html(html)).into_response());
    };
    let title = match c.content() {
        Some(content) => crate::view::pick(content.view().title(), None),
        // Erased: its title went with its body.
        None => format!("An erased {}", c.original.header.kind.name()),
    };
    let author = crate::lang::member_name(&state.shared.charter(), c.member(), None).to_owned();
    let date = rfc3339_ms(c.created_at());
    let meta = format!(
        "<title>{t} · hubnet</title>\n\
         <meta name=\"citation_title\" content=\"{t}\">\n\
         <meta name=\"citation_author\" content=\"{a}\">\n\
         <meta name=\"citation_publication_date\" content=\"{d}\">\n\
         <meta name=\"citation_publisher\" content=\"Regional Hub of Civil Service (hubnet)\">\n\
         <meta name=\"hubnet:record-id\" content=\"{id}\">\n\
         <link rel=\"canonical\" href=\"/records/{id}\">\n\
         <link rel=\"alternate\" type=\"application/json\" href=\"/api/v1/records/{id}\">\n",
        t = escape(&title),
        a = escape(&author),
        d = escape(date.get(..10).unwrap_or_default()),
    );
    let meta = match ld {
        Some(v) => format!(
            "{meta}<script type=\"application/ld+json\">{}</script>\n",
            script_json(&v)
        ),
        None => meta,
    };
    // The record's own title replaces the page's generic one; the metadata goes before </head>.
    let html = match (html.find("<title>"), html.find("</title>")) {
        (Some(a), Some(b)) if a < b => format!("{}{}", &html[..a], &html[b + "</title>".len()..]),
        _ => html.to_owned(),
    };
    let page = match html.find("</head>") {
        Some(i) => format!("{}{meta}{}", &html[..i], &html[i..]),
        None => html,
    };
    Ok(Html(page).into_response())
}

/// The JSON-LD of the record page of `c` (`None` when erased), with the names of the members,
/// topics and institutions it names as this node holds them.
fn record_json_ld(
    shared: &crate::shared::Shared,
    c: &crate::current::Current,
    base: &str,
) -> Option<Value> {
    let content = c.content()?;
    let charter = shared.charter();
    let vocabulary = charter.vocabulary();
    let topic_name = |slug: &str| {
        vocabulary
            .topics
            .iter()
            .chain(&vocabulary.reform_areas)
            .find(|t| t.slug == slug)
            .and_then(|t| t.name.get("en"))
            .cloned()
            .unwrap_or_else(|| slug.to_owned())
    };
    let member_name = |code: &str| {
        charter
            .member_by_code(code)
            .map(|_| crate::lang::member_name(&charter, code, Some("en")).to_owned())
    };
    let institution_name = |raw: &[u8]| {
        let id = <[u8; 32]>::try_from(raw).ok().map(RecordId)?;
        let i = query::current_of(shared, &id).ok()?;
        let name = pick(i.content()?.institution()?.name.as_ref(), None);
        (!name.is_empty()).then(|| name.to_owned())
    };
    json_ld(
        &c.id(),
        content,
        &Published {
            member: c.member(),
            created_at_ms: c.created_at(),
            updated_at_ms: c.updated_at(),
            retracted: c.retracted(),
        },
        &Linked {
            base,
            institution_name: &institution_name,
            topic_name: &topic_name,
            member_name: &member_name,
        },
    )
}

/// What the JSON-LD says of a record beyond its content: who published it and when.
pub(crate) struct Published<'a> {
    /// The author's member code.
    pub member: &'a str,
    /// When the original was signed (ms since the epoch).
    pub created_at_ms: i64,
    /// When it last changed: its latest amendment or its retraction (ms since the epoch).
    pub updated_at_ms: i64,
    /// Whether it was retracted.
    pub retracted: bool,
}

/// What the JSON-LD of a record links to beyond the record itself.
pub(crate) struct Linked<'a> {
    /// The node's address (`http://host`): record pages are `{base}/records/{id}`.
    pub base: &'a str,
    /// The name of the institution record with this id, when the node holds it.
    pub institution_name: &'a dyn Fn(&[u8]) -> Option<String>,
    /// A topic's or reform area's name (English) from its slug.
    pub topic_name: &'a dyn Fn(&str) -> String,
    /// A member's name (English) from its code, when the charter names it.
    pub member_name: &'a dyn Fn(&str) -> Option<String>,
}

/// schema.org JSON-LD for a record page, after Google's structured-data guidelines; only what
/// the record holds, empty fields left out:
///
/// - an event: an `Event` (`name`, `description`, `startDate` and `endDate` with the offset of
///   its time zone, `location` as a `Place` with its `PostalAddress` and/or a `VirtualLocation`
///   with its link, `eventStatus` (a retracted event is cancelled, as the calendar feed says),
///   `eventAttendanceMode` from what it has of both, the publishing member as the
///   `GovernmentOrganization` that organises it and the event's own organiser beside it,
///   `inLanguage` its working languages, else its title's);
/// - a practice (a case study): an `Article`; a reform profile: a `Report`, with its period as
///   `temporalCoverage` and its country as `spatialCoverage` (`headline` at most 110 characters
///   as Google asks, `name` the whole title, `description`, `datePublished`, `dateModified`,
///   `author` and `publisher` the member as a `GovernmentOrganization`, `inLanguage` the
///   languages of its title, `about` and `keywords` from its topics or reform areas, `license`
///   as an SPDX link, `creativeWorkStatus` `Retracted` when retracted);
/// - a programme: a `Project` (schema.org's type for a planned collaborative enterprise; it is an
///   `Organization`, so its participants are `member`s, each an `OrganizationRole` with the
///   roles it signed, and its funders `funder`s; `foundingDate` and `dissolutionDate` only from
///   its actual dates, `areaServed` its countries, `knowsAbout` its topics);
/// - an expert: a `Person` (`name`, `jobTitle`, `worksFor`, `affiliation`, `knowsLanguage`,
///   `knowsAbout`, `description` and `email`, only an institutional address; never the
///   consent's details);
/// - an institution: a `GovernmentOrganization` for a ministry or a civil-service agency, an
///   `EducationalOrganization` for an academy or school of public administration, a
///   `CollegeOrUniversity`, else an `Organization` (`name`, `url`, `parentOrganization`,
///   `identifier` and `sameAs` for Wikidata and ROR, `email`, `address`).
///
/// Every one has `@id`, `url` and `mainEntityOfPage`: the record's page.
pub(crate) fn json_ld(
    id: &RecordId,
    content: Content<'_>,
    published: &Published<'_>,
    linked: &Linked<'_>,
) -> Option<Value> {
    let page = format!("{}/records/{}", linked.base, id.to_hex());
    let mut v = match content {
        Content::Expert(e) => person(e, linked),
        Content::Institution(i) => organization(i, linked),
        Content::Event(e) => event(e, published, linked),
        Content::Practice(p) => work(
            "Article",
            &Work {
                title: p.title.as_ref(),
                summary: p.summary.as_ref(),
                subjects: &p.topics,
                license: &p.license,
            },
            published,
            linked,
        ),
        Content::ReformProfile(r) => {
            let mut v = work(
                "Report",
                &Work {
                    title: r.title.as_ref(),
                    summary: r.summary.as_ref(),
                    subjects: &r.reform_areas,
                    license: &r.license,
                },
                published,
                linked,
            );
            v["temporalCoverage"] = json!(r.period.as_ref().map(period));
            v["spatialCoverage"] = json!(country(&r.country, linked));
            v
        }
        Content::Programme(p) => project(p, linked),
    };
    let map = v.as_object_mut()?;
    map.insert("@context".into(), json!("https://schema.org"));
    map.insert("@id".into(), json!(page));
    // An institution's `url` is its own website; every other record's is its page.
    if map
        .get("url")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        map.insert("url".into(), json!(page));
    }
    map.insert("mainEntityOfPage".into(), json!(page));
    prune(&mut v);
    Some(v)
}

/// Leaves out what says nothing: nulls, empty strings, lists and objects, and objects that hold
/// nothing but their `@type`, at any depth.
fn prune(v: &mut Value) {
    let empty = |x: &Value| match x {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.keys().all(|k| k == "@type"),
        _ => false,
    };
    match v {
        Value::Array(a) => {
            a.iter_mut().for_each(prune);
            a.retain(|x| !empty(x));
        }
        Value::Object(o) => {
            o.values_mut().for_each(prune);
            o.retain(|_, x| !empty(x));
        }
        _ => {}
    }
}

/// One value, or a list when there are several (schema.org takes either).
fn one_or_many(mut values: Vec<Value>) -> Value {
    match values.len() {
        0 => Value::Null,
        1 => values.remove(0),
        _ => Value::Array(values),
    }
}

/// A member as an organisation: its name from the charter, its country when it is one.
fn member_org(code: &str, linked: &Linked<'_>) -> Value {
    json!({
        "@type": "GovernmentOrganization",
        "name": (linked.member_name)(code).unwrap_or_else(|| code.to_owned()),
        "identifier": code,
        "address": country_address(code),
    })
}

/// A country code as a postal address's country; `None` for `HUB` (no country).
fn country_address(code: &str) -> Option<Value> {
    (code.len() == 2).then(|| json!({"@type": "PostalAddress", "addressCountry": code}))
}

/// A country code as a `Country` (named as the charter names its member, if it is one).
fn country(code: &str, linked: &Linked<'_>) -> Option<Value> {
    (code.len() == 2).then(|| {
        json!({"@type": "Country", "identifier": code,
               "name": (linked.member_name)(code).unwrap_or_else(|| code.to_owned())})
    })
}

/// The languages a text is written in (its tags, as signed).
fn text_languages(text: Option<&pb::LocalizedText>) -> Value {
    one_or_many(
        text.map(|t| t.text.keys().map(|k| json!(k)).collect())
            .unwrap_or_default(),
    )
}

/// A partial-date period as an ISO 8601 interval (`2019/2024`, `2019/..` while ongoing).
fn period(p: &pb::Period) -> Option<String> {
    match (p.start.as_str(), p.end.as_str()) {
        ("", _) => None,
        (start, "") => Some(format!("{start}/..")),
        (start, end) => Some(format!("{start}/{end}")),
    }
}

/// What an `Article` or `Report` is made of.
struct Work<'a> {
    title: Option<&'a pb::LocalizedText>,
    summary: Option<&'a pb::LocalizedText>,
    subjects: &'a [String],
    license: &'a str,
}

/// Google's limit on an article's `headline`.
const HEADLINE_MAX: usize = 110;

fn work(kind: &str, w: &Work<'_>, published: &Published<'_>, linked: &Linked<'_>) -> Value {
    let title = pick(w.title, None);
    let headline = if title.chars().count() > HEADLINE_MAX {
        let cut: String = title.chars().take(HEADLINE_MAX - 1).collect();
        format!("{}…", cut.trim_end())
    } else {
        title.to_owned()
    };
    let subjects: Vec<String> = w.subjects.iter().map(|t| (linked.topic_name)(t)).collect();
    let author = member_org(published.member, linked);
    json!({
        "@type": kind,
        "headline": headline,
        "name": title,
        "description": pick(w.summary, None),
        "datePublished": rfc3339_ms(published.created_at_ms),
        "dateModified": rfc3339_ms(published.updated_at_ms),
        "author": author,
        "publisher": author,
        "inLanguage": text_languages(w.title),
        "about": subjects.iter().map(|s| json!({"@type": "Thing", "name": s})).collect::<Vec<_>>(),
        "keywords": subjects.join(", "),
        "license": (!w.license.is_empty()).then(|| format!("https://spdx.org/licenses/{}", w.license)),
        "creativeWorkStatus": published.retracted.then_some("Retracted"),
    })
}

/// A local date-time of an event in its IANA zone, with the zone's offset at that moment
/// (`2027-02-10T10:00:00+06:00`); as signed, without an offset, if the zone does not know it.
fn zoned(local: &str, zone: &str) -> Option<String> {
    use chrono::TimeZone;
    let naive = hubnet_protocol::validate::local_date_time("start", local, false).ok()??;
    let at = zone
        .parse::<chrono_tz::Tz>()
        .ok()
        .and_then(|tz| tz.from_local_datetime(&naive).earliest());
    Some(match at {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        None => naive.format("%Y-%m-%dT%H:%M:%S").to_string(),
    })
}

fn event(e: &pb::Event, published: &Published<'_>, linked: &Linked<'_>) -> Value {
    let status = if published.retracted {
        "EventCancelled"
    } else {
        match e.status() {
            pb::EventStatus::Postponed => "EventPostponed",
            pb::EventStatus::Cancelled => "EventCancelled",
            pb::EventStatus::Scheduled | pb::EventStatus::Unspecified => "EventScheduled",
        }
    };
    let place = e.place.as_ref().and_then(|p| {
        let mut place = json!({
            "@type": "Place",
            "name": pick(p.name.as_ref(), None),
            "address": {"@type": "PostalAddress",
                        "streetAddress": pick(p.address.as_ref(), None),
                        "addressCountry": p.country},
        });
        prune(&mut place);
        (place.as_object()?.len() > 1).then_some(place)
    });
    let online = (!e.online_url.is_empty())
        .then(|| json!({"@type": "VirtualLocation", "url": e.online_url}));
    let mode = match (place.is_some(), online.is_some()) {
        (true, true) => Some("MixedEventAttendanceMode"),
        (false, true) => Some("OnlineEventAttendanceMode"),
        (true, false) => Some("OfflineEventAttendanceMode"),
        (false, false) => None,
    };
    let organiser = pick(e.organiser.as_ref(), None);
    let mut organizer = vec![member_org(published.member, linked)];
    if !organiser.is_empty() {
        organizer.push(json!({"@type": "Organization", "name": organiser}));
    }
    let languages = if e.languages.is_empty() {
        text_languages(e.title.as_ref())
    } else {
        one_or_many(e.languages.iter().map(|l| json!(l)).collect())
    };
    json!({
        "@type": "Event",
        "name": pick(e.title.as_ref(), None),
        "description": pick(e.description.as_ref(), None),
        "startDate": zoned(&e.start, &e.time_zone),
        "endDate": zoned(&e.end, &e.time_zone),
        "eventStatus": format!("https://schema.org/{status}"),
        "eventAttendanceMode": mode.map(|m| format!("https://schema.org/{m}")),
        "location": one_or_many(place.into_iter().chain(online).collect()),
        "organizer": one_or_many(organizer),
        "inLanguage": languages,
        "keywords": e.topics.iter().map(|t| (linked.topic_name)(t)).collect::<Vec<_>>().join(", "),
    })
}

fn project(p: &pb::Programme, linked: &Linked<'_>) -> Value {
    let mut members = Vec::new();
    let mut funders = Vec::new();
    for participant in &p.participants {
        let org = match participant.who.as_ref() {
            Some(pb::participant::Who::Member(code)) => member_org(code, linked),
            Some(pb::participant::Who::InstitutionId(id)) => {
                named_organisation(Some(id), None, linked)
            }
            None => continue,
        };
        let roles: Vec<&str> = participant
            .roles
            .iter()
            .filter_map(|r| ParticipantRole::from_proto(*r))
            .map(ParticipantRole::name)
            .collect();
        if roles.contains(&"funding") {
            funders.push(org.clone());
        }
        members.push(json!({"@type": "OrganizationRole", "member": org,
                            "roleName": one_or_many(roles.iter().map(|r| json!(r)).collect())}));
    }
    let (name, alternate) = names(p.title.as_ref());
    json!({
        "@type": "Project",
        "name": name,
        "alternateName": alternate,
        "description": pick(p.description.as_ref(), None),
        "member": members,
        "funder": funders,
        "foundingDate": p.actual_start,
        "dissolutionDate": p.actual_end,
        "areaServed": p.countries.iter().filter_map(|c| country(c, linked)).collect::<Vec<_>>(),
        "knowsAbout": p.topics.iter().map(|t| (linked.topic_name)(t)).collect::<Vec<_>>(),
    })
}

/// The text of a localized field (English, else Russian, else any) and its other versions.
fn names(text: Option<&pb::LocalizedText>) -> (String, Vec<String>) {
    let name = pick(text, None).to_owned();
    let mut others: Vec<String> = text
        .map(|t| {
            t.text
                .values()
                .filter(|x| **x != name && !x.is_empty())
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    others.dedup();
    (name, others)
}

/// An organisation a record names: by record id (its page, and its name when held) or by name.
fn named_organisation(
    id: Option<&[u8]>,
    name: Option<&pb::LocalizedText>,
    linked: &Linked<'_>,
) -> Value {
    match (id, name) {
        (Some(id), _) => {
            let page = format!("{}/records/{}", linked.base, hex::encode(id));
            let mut o = json!({"@type": "Organization", "@id": page, "url": page});
            if let Some(n) = (linked.institution_name)(id) {
                o["name"] = json!(n);
            }
            o
        }
        (None, name) => json!({"@type": "Organization", "name": pick(name, None)}),
    }
}

/// An address for an `email` property: only an institutional one (never a personal mail
/// provider's, which the protocol refuses anyway).
fn institutional_email(address: &str) -> Option<&str> {
    let (_, domain) = address.rsplit_once('@')?;
    hubnet_protocol::validate::personal_mail_provider(domain)
        .is_none()
        .then_some(address)
}

fn person(e: &pb::Expert, linked: &Linked<'_>) -> Value {
    let (name, alternate) = names(e.name.as_ref());
    let works_for = e.institution.as_ref().map(|i| match i {
        pb::expert::Institution::InstitutionId(id) => named_organisation(Some(id), None, linked),
        pb::expert::Institution::InstitutionName(n) => named_organisation(None, Some(n), linked),
    });
    let affiliation: Vec<Value> = e
        .affiliations
        .iter()
        .filter_map(|a| {
            Some(match a.organisation.as_ref()? {
                pb::affiliation::Organisation::OrganisationId(id) => {
                    named_organisation(Some(id), None, linked)
                }
                pb::affiliation::Organisation::OrganisationName(n) => {
                    named_organisation(None, Some(n), linked)
                }
            })
        })
        .collect();
    json!({
        "@type": "Person",
        "name": name,
        "alternateName": alternate,
        "jobTitle": pick(e.position.as_ref(), None),
        "worksFor": works_for,
        "affiliation": affiliation,
        "knowsLanguage": e.languages,
        "knowsAbout": e.topics.iter().map(|t| (linked.topic_name)(t)).collect::<Vec<_>>(),
        "description": pick(e.summary.as_ref(), None),
        "email": institutional_email(&e.contact_email),
    })
}

fn organization(i: &pb::Institution, linked: &Linked<'_>) -> Value {
    let kind = match InstitutionType::from_proto(i.institution_type) {
        Some(InstitutionType::Ministry | InstitutionType::CivilServiceAgency) => {
            "GovernmentOrganization"
        }
        Some(InstitutionType::AcademyOrSchool) => "EducationalOrganization",
        Some(InstitutionType::University) => "CollegeOrUniversity",
        _ => "Organization",
    };
    let (name, alternate) = names(i.name.as_ref());
    let mut identifier = Vec::new();
    let mut same_as = Vec::new();
    if !i.wikidata.is_empty() {
        identifier
            .push(json!({"@type": "PropertyValue", "propertyID": "Wikidata", "value": i.wikidata}));
        same_as.push(format!("https://www.wikidata.org/wiki/{}", i.wikidata));
    }
    if !i.ror.is_empty() {
        identifier.push(json!({"@type": "PropertyValue", "propertyID": "ROR", "value": i.ror}));
        same_as.push(format!("https://ror.org/{}", i.ror));
    }
    let address = (i.country.len() == 2)
        .then(|| json!({"@type": "PostalAddress", "addressCountry": i.country}));
    json!({
        "@type": kind,
        "name": name,
        "alternateName": alternate,
        "url": i.website,
        "parentOrganization": (!i.parent.is_empty()).then(|| named_organisation(Some(&i.parent), None, linked)),
        "identifier": identifier,
        "sameAs": same_as,
        "description": pick(i.mandate.as_ref(), None),
        "knowsLanguage": i.languages,
        "knowsAbout": i.topics.iter().map(|t| (linked.topic_name)(t)).collect::<Vec<_>>(),
        "email": institutional_email(&i.contact_email),
        "address": address,
    })
}

/// JSON for the inside of a `<script>` element: `<`, `>` and `&` as `\u` escapes (the same
/// JSON), so no text of the record can close the element or open a comment.
pub(crate) fn script_json(v: &Value) -> String {
    serde_json::to_string(v)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

async fn asset(Path(path): Path<String>) -> Result<Response, ApiError> {
    let file = UI
        .get_file(&path)
        .filter(|_| !path.contains(".."))
        .ok_or_else(|| ApiError::NotFound(format!("no UI file {path}")))?;
    let kind = match path.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    };
    Ok((
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        file.contents(),
    )
        .into_response())
}
