//! A query's parameters, parsed from a URL query string and checked: every bad value is a typed
//! [`QueryError`] naming the parameter, so the API answers 400 and never 500.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hubnet_protocol::kinds::programme::{ParticipantRole, ProgrammeStatus};
use hubnet_protocol::{Charter, PublicKey};
use sha2::{Digest, Sha256};

use super::text;

/// The largest page.
pub const MAX_LIMIT: usize = 100;
/// The page size when none is asked for.
pub const DEFAULT_LIMIT: usize = 20;
/// The longest full-text query, in characters.
pub const MAX_Q_CHARS: usize = 500;
/// The deepest a relevance cursor pages: beyond, narrow the query (the ordered sorts page by key,
/// with no limit).
pub const MAX_OFFSET: usize = 100_000;
/// What `status` accepts.
const STATUSES: &str =
    "pipeline, implementation, completion, post_completion, cancelled or suspended";
/// What `role` accepts.
const ROLES: &str = "lead, funding, implementing, beneficiary or accountable";

/// At most this many values of one repeatable filter.
pub const MAX_VALUES: usize = 32;

/// The parameters every query endpoint takes (the API, feeds and export).
pub const PARAMETERS: &[&str] = &[
    "q",
    "kind",
    "country",
    "topic",
    "area",
    "author",
    "lang",
    "status",
    "role",
    "participant",
    "state",
    "created_from",
    "created_to",
    "start_from",
    "start_to",
    "sort",
    "limit",
    "cursor",
    "include_retracted",
];

/// Where a page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum From {
    /// The first page.
    Start,
    /// After this many results (relevance order, whose scores move as the corpus grows).
    Offset(usize),
    /// After the record with this sort value and id key (the ordered sorts): a page never repeats
    /// or skips a record, however many arrive between two pages.
    After {
        /// The last record's sort value (creation or start time).
        key: i64,
        /// The last record's id key (the first 8 bytes of its id), the tie-breaker.
        id: u64,
    },
}

/// Result order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Best match first (BM25); needs `q`.
    Relevance,
    /// Latest published first.
    Newest,
    /// Earliest published first.
    Oldest,
    /// Soonest event start first; records without a start come last.
    Start,
}

impl Sort {
    fn name(self) -> &'static str {
        match self {
            Sort::Relevance => "relevance",
            Sort::Newest => "newest",
            Sort::Oldest => "oldest",
            Sort::Start => "start",
        }
    }
}

/// What a query asks for. Within one filter, values are alternatives; filters combine with AND.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Full text, if any.
    pub q: Option<String>,
    /// Content kinds (`practice`, `event`, `reform_profile`).
    pub kinds: Vec<String>,
    /// Country codes (ISO 3166-1 alpha-2 or `HUB`), upper-case.
    pub countries: Vec<String>,
    /// Topic slugs.
    pub topics: Vec<String>,
    /// Reform area (or topic) slugs of reform profiles.
    pub areas: Vec<String>,
    /// Authors' publishing keys, hex.
    pub authors: Vec<String>,
    /// Content languages (primary subtags): records with text in one of them; `q` then searches
    /// only that text.
    pub langs: Vec<String>,
    /// Programme statuses (`pipeline`, `implementation`, ...).
    pub statuses: Vec<String>,
    /// Participant roles of programmes (`lead`, `funding`, ...).
    pub roles: Vec<String>,
    /// Member codes taking part in programmes.
    pub participants: Vec<String>,
    /// Programmes' confirmation states (`proposed`, `confirmed`, `retracted`).
    pub states: Vec<String>,
    /// Published at or after (ms).
    pub created_from: Option<i64>,
    /// Published at or before (ms).
    pub created_to: Option<i64>,
    /// Event starts at or after (ms, UTC).
    pub start_from: Option<i64>,
    /// Event starts at or before (ms, UTC).
    pub start_to: Option<i64>,
    /// Order.
    pub sort: Sort,
    /// Page size.
    pub limit: usize,
    /// Where this page starts (from the cursor).
    pub from: From,
    /// Whether retracted records are included.
    pub include_retracted: bool,
    /// The UTC date (the node's clock) on which records must be listed: experts whose
    /// `reconfirm_by` is before it are left out until an amendment re-confirms them. `None`:
    /// no such filter (the operators' list of profiles to re-confirm). Not a parameter: the API
    /// sets it to today; not part of a cursor's binding, so a cursor survives midnight.
    pub listed_on: Option<chrono::NaiveDate>,
    /// Record ids (hex) of institutions: records that name one of them (an institution's
    /// page). Not a parameter.
    pub refs: Vec<String>,
}

impl Default for Query {
    fn default() -> Self {
        Self {
            q: None,
            kinds: Vec::new(),
            countries: Vec::new(),
            topics: Vec::new(),
            areas: Vec::new(),
            authors: Vec::new(),
            langs: Vec::new(),
            statuses: Vec::new(),
            roles: Vec::new(),
            participants: Vec::new(),
            states: Vec::new(),
            created_from: None,
            created_to: None,
            start_from: None,
            start_to: None,
            sort: Sort::Newest,
            limit: DEFAULT_LIMIT,
            from: From::Start,
            include_retracted: false,
            listed_on: None,
            refs: Vec::new(),
        }
    }
}

/// A query parameter that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// A parameter no endpoint knows.
    #[error("unknown parameter `{0}`; known parameters: {known}", known = PARAMETERS.join(", "))]
    UnknownParameter(String),
    /// A single-valued parameter given twice.
    #[error("parameter `{0}` is given more than once")]
    Repeated(String),
    /// A value that does not parse or is not allowed.
    #[error("parameter `{param}`: `{value}` is not {expected}")]
    BadValue {
        /// The parameter.
        param: &'static str,
        /// The value given (cut to 80 characters).
        value: String,
        /// What it should be.
        expected: &'static str,
    },
    /// `limit` outside 1..=MAX_LIMIT.
    #[error("parameter `limit`: {0} is out of range 1..={MAX_LIMIT}")]
    LimitOutOfRange(String),
    /// A filter with too many values.
    #[error("parameter `{0}` is given more than {MAX_VALUES} times")]
    TooManyValues(&'static str),
    /// `q` too long.
    #[error("parameter `q` is longer than {MAX_Q_CHARS} characters")]
    QueryTooLong,
    /// A cursor this node did not make for this query.
    #[error("parameter `cursor` is not a cursor of this query; start again without it")]
    BadCursor,
    /// A range whose end is before its start.
    #[error("`{from}` is after `{to}`")]
    EmptyRange {
        /// The lower bound's parameter.
        from: &'static str,
        /// The upper bound's parameter.
        to: &'static str,
    },
}

fn bad(param: &'static str, value: &str, expected: &'static str) -> QueryError {
    QueryError::BadValue {
        param,
        value: value.chars().take(80).collect(),
        expected,
    }
}

impl Query {
    /// Parses `pairs` (a decoded URL query string). Parameters in `extra` are handed back
    /// untouched, for the endpoint that takes them (`format` of the export, say); any other
    /// unknown parameter is an error. Author codes are resolved with `charter`.
    pub fn parse(
        pairs: impl IntoIterator<Item = (String, String)>,
        extra: &[&str],
        charter: &Charter,
    ) -> Result<(Query, Vec<(String, String)>), QueryError> {
        let mut q = Query::default();
        let mut sort = None;
        let mut limit = None;
        let mut cursor = None;
        let mut include = None;
        let mut extras = Vec::new();
        for (key, value) in pairs {
            let value = value.trim().to_owned();
            match key.as_str() {
                "q" => {
                    if q.q.is_some() {
                        return Err(QueryError::Repeated(key));
                    }
                    if value.chars().count() > MAX_Q_CHARS {
                        return Err(QueryError::QueryTooLong);
                    }
                    q.q = Some(value);
                }
                "kind" => push(&mut q.kinds, "kind", parse_kind(&value)?)?,
                "country" => push(&mut q.countries, "country", parse_country(&value)?)?,
                "topic" => {
                    if !charter.vocabulary().is_topic(&value) {
                        return Err(bad("topic", &value, "a topic of the charter's vocabulary"));
                    }
                    push(&mut q.topics, "topic", value)?;
                }
                "area" => {
                    let v = charter.vocabulary();
                    if !v.is_reform_area(&value) && !v.is_topic(&value) {
                        return Err(bad(
                            "area",
                            &value,
                            "a reform area or topic of the charter's vocabulary",
                        ));
                    }
                    push(&mut q.areas, "area", value)?;
                }
                "author" => push(&mut q.authors, "author", parse_author(&value, charter)?)?,
                "lang" => push(&mut q.langs, "lang", parse_lang(&value)?)?,
                "status" => {
                    if ProgrammeStatus::from_name(&value).is_none() {
                        return Err(bad("status", &value, STATUSES));
                    }
                    push(&mut q.statuses, "status", value)?;
                }
                "role" => {
                    if ParticipantRole::from_name(&value).is_none() {
                        return Err(bad("role", &value, ROLES));
                    }
                    push(&mut q.roles, "role", value)?;
                }
                "participant" => {
                    let code = value.to_ascii_uppercase();
                    if charter.member_by_code(&code).is_none() {
                        return Err(bad("participant", &value, "a member code of the charter"));
                    }
                    push(&mut q.participants, "participant", code)?;
                }
                "state" => {
                    if !matches!(value.as_str(), "proposed" | "confirmed" | "retracted") {
                        return Err(bad("state", &value, "proposed, confirmed or retracted"));
                    }
                    push(&mut q.states, "state", value)?;
                }
                "created_from" => {
                    set_time(&mut q.created_from, &key, &value, "created_from", false)?
                }
                "created_to" => set_time(&mut q.created_to, &key, &value, "created_to", true)?,
                "start_from" => set_time(&mut q.start_from, &key, &value, "start_from", false)?,
                "start_to" => set_time(&mut q.start_to, &key, &value, "start_to", true)?,
                "sort" => once(&mut sort, &key, parse_sort(&value)?)?,
                "limit" => once(&mut limit, &key, parse_limit(&value)?)?,
                "cursor" => once(&mut cursor, &key, value)?,
                "include_retracted" => once(&mut include, &key, parse_bool(&value)?)?,
                k if extra.contains(&k) => extras.push((key, value)),
                _ => return Err(QueryError::UnknownParameter(key.chars().take(80).collect())),
            }
        }
        if q.q.as_deref().is_some_and(|t| t.is_empty()) {
            q.q = None;
        }
        q.sort = match sort {
            Some(s) => s,
            None if q.q.is_some() => Sort::Relevance,
            None => Sort::Newest,
        };
        q.limit = limit.unwrap_or(DEFAULT_LIMIT);
        q.include_retracted = include.unwrap_or(false);
        check_range(q.created_from, q.created_to, "created_from", "created_to")?;
        check_range(q.start_from, q.start_to, "start_from", "start_to")?;
        if let Some(c) = cursor {
            q.from = q.decode_cursor(&c)?;
        }
        Ok((q, extras))
    }

    /// The cursor of the page after one that ended at `offset` (relevance order).
    pub fn cursor_at(&self, offset: usize) -> String {
        URL_SAFE_NO_PAD.encode(format!("o{offset}.{}", self.fingerprint()))
    }

    /// The cursor of the page after the record with sort value `key` and id key `id` (the
    /// ordered sorts: newest, oldest, start).
    pub fn cursor_after(&self, key: i64, id: u64) -> String {
        URL_SAFE_NO_PAD.encode(format!("a{key}_{id}.{}", self.fingerprint()))
    }

    /// Where the page a cursor of this query names starts (a cursor of another query is
    /// [`QueryError::BadCursor`]).
    pub fn decode_cursor(&self, cursor: &str) -> Result<From, QueryError> {
        let raw = URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| QueryError::BadCursor)?;
        let text = String::from_utf8(raw).map_err(|_| QueryError::BadCursor)?;
        let (position, fp) = text.split_once('.').ok_or(QueryError::BadCursor)?;
        if fp != self.fingerprint() {
            return Err(QueryError::BadCursor);
        }
        if let Some(offset) = position.strip_prefix('o') {
            // A cursor is only as trustworthy as its client: an offset no page of ours can reach
            // is refused before it reaches the index (tantivy reserves memory in proportion).
            return offset
                .parse::<usize>()
                .ok()
                .filter(|o| *o <= MAX_OFFSET && self.sort == Sort::Relevance)
                .map(From::Offset)
                .ok_or(QueryError::BadCursor);
        }
        let (key, id) = position
            .strip_prefix('a')
            .and_then(|p| p.split_once('_'))
            .ok_or(QueryError::BadCursor)?;
        match (key.parse(), id.parse()) {
            (Ok(key), Ok(id)) if self.sort != Sort::Relevance => Ok(From::After { key, id }),
            _ => Err(QueryError::BadCursor),
        }
    }

    /// A digest of everything but the page: a cursor only continues the query that made it.
    fn fingerprint(&self) -> String {
        let canonical = format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}|{}",
            self.q,
            self.kinds,
            self.countries,
            self.topics,
            self.areas,
            self.authors,
            self.langs,
            self.statuses,
            self.roles,
            self.participants,
            self.states,
            self.created_from,
            self.created_to,
            self.start_from,
            self.start_to,
            self.sort.name(),
            self.include_retracted,
        );
        hex::encode(&Sha256::digest(canonical.as_bytes())[..8])
    }
}

fn push(list: &mut Vec<String>, param: &'static str, value: String) -> Result<(), QueryError> {
    if list.len() >= MAX_VALUES {
        return Err(QueryError::TooManyValues(param));
    }
    if !list.contains(&value) {
        list.push(value);
    }
    Ok(())
}

fn once<T>(slot: &mut Option<T>, key: &str, value: T) -> Result<(), QueryError> {
    if slot.is_some() {
        return Err(QueryError::Repeated(key.to_owned()));
    }
    *slot = Some(value);
    Ok(())
}

fn parse_kind(v: &str) -> Result<String, QueryError> {
    if crate::kinds::CONTENT_KINDS.contains(&v) {
        Ok(v.to_owned())
    } else {
        Err(bad("kind", v, crate::kinds::CONTENT_KINDS_TEXT))
    }
}

fn parse_country(v: &str) -> Result<String, QueryError> {
    let up = v.to_ascii_uppercase();
    if (up.len() == 2 && up.bytes().all(|b| b.is_ascii_uppercase())) || up == "HUB" {
        Ok(up)
    } else {
        Err(bad(
            "country",
            v,
            "an ISO 3166-1 alpha-2 country code or `HUB`",
        ))
    }
}

fn parse_author(v: &str, charter: &Charter) -> Result<String, QueryError> {
    author_key(v, charter)
        .map(|k| k.to_hex())
        .ok_or_else(|| bad("author", v, "a member code or a 64-hex publishing key"))
}

/// An author named by member code (any case) or by publishing key (64 hex digits).
pub fn author_key(v: &str, charter: &Charter) -> Option<PublicKey> {
    match charter.member_by_code(&v.to_ascii_uppercase()) {
        Some(m) => Some(m.key),
        None => v.parse().ok(),
    }
}

fn parse_lang(v: &str) -> Result<String, QueryError> {
    let p = text::primary(v);
    let ok = (2..=3).contains(&p.len())
        && p.bytes().all(|b| b.is_ascii_lowercase())
        && v.len() <= 35
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(p)
    } else {
        Err(bad(
            "lang",
            v,
            "a BCP 47 language tag such as `ru` or `uz-Latn`",
        ))
    }
}

fn parse_sort(v: &str) -> Result<Sort, QueryError> {
    Ok(match v {
        "relevance" => Sort::Relevance,
        "newest" => Sort::Newest,
        "oldest" => Sort::Oldest,
        "start" => Sort::Start,
        _ => {
            return Err(bad(
                "sort",
                v,
                "one of `relevance`, `newest`, `oldest`, `start`",
            ));
        }
    })
}

fn parse_limit(v: &str) -> Result<usize, QueryError> {
    match v.parse::<usize>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Ok(_) => Err(QueryError::LimitOutOfRange(v.chars().take(20).collect())),
        Err(_) if v.starts_with('-') && v[1..].bytes().all(|b| b.is_ascii_digit()) => {
            Err(QueryError::LimitOutOfRange(v.chars().take(20).collect()))
        }
        Err(_) => Err(bad("limit", v, "a whole number")),
    }
}

fn parse_bool(v: &str) -> Result<bool, QueryError> {
    match v {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(bad("include_retracted", v, "`true` or `false`")),
    }
}

fn set_time(
    slot: &mut Option<i64>,
    key: &str,
    value: &str,
    param: &'static str,
    end_of_day: bool,
) -> Result<(), QueryError> {
    once(slot, key, parse_time(value, param, end_of_day)?)
}

/// RFC 3339 (`2026-05-01T10:00:00Z`, any offset) or a date (`2026-05-01`, UTC: the start of the
/// day for a lower bound, its last millisecond for an upper bound).
pub fn parse_time(v: &str, param: &'static str, end_of_day: bool) -> Result<i64, QueryError> {
    const EXPECTED: &str = "an RFC 3339 time or a date YYYY-MM-DD";
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return Ok(t.timestamp_millis());
    }
    let d =
        chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| bad(param, v, EXPECTED))?;
    let t = if end_of_day {
        d.and_hms_milli_opt(23, 59, 59, 999)
    } else {
        d.and_hms_opt(0, 0, 0)
    }
    .ok_or_else(|| bad(param, v, EXPECTED))?;
    Ok(t.and_utc().timestamp_millis())
}

fn check_range(
    from: Option<i64>,
    to: Option<i64>,
    from_name: &'static str,
    to_name: &'static str,
) -> Result<(), QueryError> {
    match (from, to) {
        (Some(f), Some(t)) if f > t => Err(QueryError::EmptyRange {
            from: from_name,
            to: to_name,
        }),
        _ => Ok(()),
    }
}
