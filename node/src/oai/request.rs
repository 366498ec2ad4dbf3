//! An OAI-PMH request's arguments, checked as the protocol says (section 3.1.1 and each verb's
//! section): a verb given once, only the arguments it takes, each once, the required ones
//! present, `resumptionToken` exclusive; dates in UTC at day or second granularity, `from` and
//! `until` at the same one and in order.

use chrono::{NaiveDate, NaiveDateTime};

use super::Error;

/// The metadata format this node disseminates.
pub const OAI_DC: &str = "oai_dc";

/// A request, its arguments checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `Identify`.
    Identify,
    /// `ListMetadataFormats`, for one item or the repository.
    ListMetadataFormats {
        /// The item's identifier.
        identifier: Option<String>,
    },
    /// `ListSets` (a `resumptionToken` to it is never one this node issued).
    ListSets {
        /// The token given, if any.
        token: Option<String>,
    },
    /// `GetRecord`.
    GetRecord {
        /// The item's identifier.
        identifier: String,
        /// The metadata prefix.
        prefix: String,
    },
    /// `ListIdentifiers` or `ListRecords`.
    List(List),
}

/// The arguments of `ListIdentifiers` and `ListRecords`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List {
    /// Whether records (metadata) are asked for, not only headers.
    pub records: bool,
    /// The arguments as given: either these or a token.
    pub args: ListArgs,
}

/// A list's first request, or the token of a later one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListArgs {
    /// `metadataPrefix`, `set`, `from`, `until`.
    First {
        /// The metadata prefix.
        prefix: String,
        /// The set.
        set: Option<String>,
        /// `from`, as given.
        from: Option<String>,
        /// `until`, as given.
        until: Option<String>,
    },
    /// `resumptionToken`.
    Token(String),
}

impl Request {
    /// The verb's name.
    pub fn verb(&self) -> &'static str {
        match self {
            Request::Identify => "Identify",
            Request::ListMetadataFormats { .. } => "ListMetadataFormats",
            Request::ListSets { .. } => "ListSets",
            Request::GetRecord { .. } => "GetRecord",
            Request::List(List { records: true, .. }) => "ListRecords",
            Request::List(List { records: false, .. }) => "ListIdentifiers",
        }
    }

    /// Checks the arguments of a request (name and value pairs, as decoded from the query or
    /// the form body).
    pub fn parse(pairs: &[(String, String)]) -> Result<Request, Error> {
        let verbs: Vec<&str> = pairs
            .iter()
            .filter(|(k, _)| k == "verb")
            .map(|(_, v)| v.as_str())
            .collect();
        let verb = match verbs.as_slice() {
            [] => return Err(Error::BadVerb("the verb argument is missing".into())),
            [v] => *v,
            _ => return Err(Error::BadVerb("the verb argument is repeated".into())),
        };
        let allowed: &[&str] = match verb {
            "Identify" => &[],
            "ListMetadataFormats" => &["identifier"],
            "ListSets" => &["resumptionToken"],
            "GetRecord" => &["identifier", "metadataPrefix"],
            "ListIdentifiers" | "ListRecords" => {
                &["metadataPrefix", "set", "from", "until", "resumptionToken"]
            }
            other => {
                return Err(Error::BadVerb(format!(
                    "{:?} is not an OAI-PMH verb",
                    clip(other)
                )));
            }
        };
        let mut args: Vec<(&str, &str)> = Vec::new();
        for (k, v) in pairs.iter().filter(|(k, _)| k != "verb") {
            if !allowed.contains(&k.as_str()) {
                return Err(Error::BadArgument(format!(
                    "{verb} takes no argument {:?}",
                    clip(k)
                )));
            }
            if args.iter().any(|(seen, _)| seen == k) {
                return Err(Error::BadArgument(format!("argument {k} is repeated")));
            }
            if v.is_empty() {
                return Err(Error::BadArgument(format!("argument {k} is empty")));
            }
            // The syntax the protocol's schema gives setSpec and metadataPrefix.
            let spec_char = |c: char| c.is_ascii_alphanumeric() || "-_.!~*'()".contains(c);
            let legal = match k.as_str() {
                "set" => v
                    .split(':')
                    .all(|p| !p.is_empty() && p.chars().all(spec_char)),
                "metadataPrefix" => v.chars().all(spec_char),
                _ => true,
            };
            if !legal {
                return Err(Error::BadArgument(format!(
                    "{k} {:?} is not of the protocol's syntax",
                    clip(v)
                )));
            }
            args.push((k.as_str(), v.as_str()));
        }
        let get = |name: &str| {
            args.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        };
        let required = |name: &str| {
            get(name).ok_or_else(|| Error::BadArgument(format!("{verb} needs argument {name}")))
        };
        Ok(match verb {
            "Identify" => Request::Identify,
            "ListMetadataFormats" => Request::ListMetadataFormats {
                identifier: get("identifier"),
            },
            "ListSets" => Request::ListSets {
                token: get("resumptionToken"),
            },
            "GetRecord" => Request::GetRecord {
                identifier: required("identifier")?,
                prefix: required("metadataPrefix")?,
            },
            _ => {
                let records = verb == "ListRecords";
                let args = match get("resumptionToken") {
                    Some(token) if args.len() == 1 => ListArgs::Token(token),
                    Some(_) => {
                        return Err(Error::BadArgument(
                            "resumptionToken is an exclusive argument".into(),
                        ));
                    }
                    None => {
                        let (from, until) = (get("from"), get("until"));
                        bounds(from.as_deref(), until.as_deref())?;
                        ListArgs::First {
                            prefix: required("metadataPrefix")?,
                            set: get("set"),
                            from,
                            until,
                        }
                    }
                };
                Request::List(List { records, args })
            }
        })
    }
}

/// A date argument's granularity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    /// `YYYY-MM-DD`.
    Day,
    /// `YYYY-MM-DDThh:mm:ssZ`.
    Second,
}

/// A `from` or `until` value: the first (for `from`) or last (for `until`) second it covers,
/// in seconds since the epoch, and its granularity.
pub fn parse_date(value: &str, end: bool) -> Result<(i64, Granularity), Error> {
    let bad = || {
        Error::BadArgument(format!(
            "{:?} is not a UTC date (YYYY-MM-DD) or time (YYYY-MM-DDThh:mm:ssZ)",
            clip(value)
        ))
    };
    let strict = value
        .bytes()
        .all(|b| b.is_ascii_digit() || b"-:TZ".contains(&b));
    if !strict {
        return Err(bad());
    }
    match value.len() {
        10 => {
            let day = NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| bad())?;
            let start = day
                .and_hms_opt(0, 0, 0)
                .ok_or_else(bad)?
                .and_utc()
                .timestamp();
            Ok((if end { start + 86_399 } else { start }, Granularity::Day))
        }
        20 => {
            let t =
                NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%SZ").map_err(|_| bad())?;
            Ok((t.and_utc().timestamp(), Granularity::Second))
        }
        _ => Err(bad()),
    }
}

/// Checks `from` and `until`: each a date, both at one granularity, `from` not after `until`.
/// Returns the seconds they bound (inclusive).
pub fn bounds(from: Option<&str>, until: Option<&str>) -> Result<(i64, i64), Error> {
    let from = from.map(|f| parse_date(f, false)).transpose()?;
    let until = until.map(|u| parse_date(u, true)).transpose()?;
    if let (Some((_, a)), Some((_, b))) = (from, until)
        && a != b
    {
        return Err(Error::BadArgument(
            "from and until are of different granularities".into(),
        ));
    }
    let lo = from.map_or(i64::MIN, |(s, _)| s);
    let hi = until.map_or(i64::MAX, |(s, _)| s);
    if lo > hi {
        return Err(Error::BadArgument("from is later than until".into()));
    }
    Ok((lo, hi))
}

/// A value as an error message quotes it: at most 64 characters.
fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}
