//! OAI-PMH 2.0 (<http://www.openarchives.org/OAI/openarchivesprotocol.html>): every node is a
//! data provider for library harvesters, at `/oai` (`api/oai.rs` is the HTTP side).
//!
//! - **Items** are the content records (practices, events, reform profiles, institutions,
//!   experts, programmes) as they stand: the original's id names the item, its content is the
//!   latest counting amendment's; a retracted or erased item is a deleted header
//!   (`deletedRecord` is `persistent`: this node keeps every record's header for good).
//! - **Identifiers** are `oai:{repositoryIdentifier}:{record id}`, the repository identifier
//!   being the network's English name reduced to lower-case letters, digits and hyphens
//!   ([`repository_identifier`]): every node of a network gives a record the same identifier,
//!   since it is the same signed record everywhere, and a harvester of two nodes can merge them.
//! - **Datestamps** (second granularity) and the order lists page through: [`changes`].
//! - **Sets**: `kind` and `kind:{kind}` (`kind:practice`, ...), `country` and
//!   `country:{member code}` (the author's member: `country:KZ`, and `country:HUB` for the
//!   Secretariat). An item belongs to its kind's and its member's set, and to their parents.
//! - **Resumption tokens**: [`token`]; lists come in pages of [`PAGE_IDENTIFIERS`] headers or
//!   [`PAGE_RECORDS`] records, with `completeListSize` and `cursor`, and an empty token on the
//!   last page of a list that had more than one.
//! - **Metadata**: `oai_dc` only ([`xml`]).
//!
//! Errors are the protocol's (`badVerb`, `badArgument`, `badResumptionToken`,
//! `cannotDisseminateFormat`, `idDoesNotExist`, `noRecordsMatch`), in an HTTP 200 answer.
//! `noSetHierarchy` and `noMetadataFormats` never apply: this node has sets, and every item
//! (deleted ones too) is disseminated as `oai_dc`.

pub mod changes;
pub mod request;
pub mod token;
pub mod xml;

#[cfg(test)]
mod tests;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use hubnet_protocol::{Charter, RecordId};

use self::changes::{Changes, Item};
use self::request::{List, ListArgs, OAI_DC, Request};
use self::token::Token;
use crate::current::Current;
use crate::kinds::CONTENT_KINDS;
use crate::shared::Shared;
use crate::store::{Store, StoreError};

/// Headers per page of `ListIdentifiers`.
pub const PAGE_IDENTIFIERS: usize = 100;
/// Records per page of `ListRecords`.
pub const PAGE_RECORDS: usize = 50;
/// Runs of journal entries read per hold of the store's lock.
const FOLLOW_BATCHES: usize = 4;

/// An OAI-PMH error (section 3.6), or a failure of the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `badVerb`.
    #[error("{0}")]
    BadVerb(String),
    /// `badArgument`.
    #[error("{0}")]
    BadArgument(String),
    /// `badResumptionToken`.
    #[error("{0}")]
    BadResumptionToken(String),
    /// `cannotDisseminateFormat`.
    #[error("{0}")]
    CannotDisseminateFormat(String),
    /// `idDoesNotExist`.
    #[error("{0}")]
    IdDoesNotExist(String),
    /// `noRecordsMatch`.
    #[error("no item matches the request")]
    NoRecordsMatch,
    /// The store failed (not the request's fault: an HTTP 500).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Error {
    /// The protocol's error code; `None` for a failure of the node.
    pub fn code(&self) -> Option<&'static str> {
        Some(match self {
            Error::BadVerb(_) => "badVerb",
            Error::BadArgument(_) => "badArgument",
            Error::BadResumptionToken(_) => "badResumptionToken",
            Error::CannotDisseminateFormat(_) => "cannotDisseminateFormat",
            Error::IdDoesNotExist(_) => "idDoesNotExist",
            Error::NoRecordsMatch => "noRecordsMatch",
            Error::Store(_) => return None,
        })
    }
}

/// The OAI-PMH side's state in [`crate::shared::Shared`]: the items (read on the first request)
/// and the page sizes.
#[derive(Debug)]
pub struct Oai {
    changes: Mutex<Option<Changes>>,
    page_identifiers: AtomicUsize,
    page_records: AtomicUsize,
    admin_email: Mutex<Option<String>>,
}

impl Default for Oai {
    fn default() -> Self {
        Oai {
            changes: Mutex::new(None),
            page_identifiers: AtomicUsize::new(PAGE_IDENTIFIERS),
            page_records: AtomicUsize::new(PAGE_RECORDS),
            admin_email: Mutex::new(None),
        }
    }
}

impl Oai {
    /// Sets the page sizes (tests use small ones).
    pub fn set_pages(&self, identifiers: usize, records: usize) {
        self.page_identifiers
            .store(identifiers.max(1), Ordering::Relaxed);
        self.page_records.store(records.max(1), Ordering::Relaxed);
    }

    /// Sets the address `Identify` gives as `adminEmail` (the config's `oai_admin_email`).
    pub fn set_admin_email(&self, email: Option<String>) {
        *self
            .admin_email
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = email;
    }

    /// Answers one request (its arguments as decoded pairs, or why they could not be read) from
    /// `store`, for a node reached at `base` (`https://host`), at `now_ms`: the XML document.
    pub fn answer(
        &self,
        shared: &Shared,
        base: &str,
        pairs: Result<&[(String, String)], &str>,
        now_ms: i64,
    ) -> Result<String, StoreError> {
        let mut guard = self
            .changes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let changes = guard.get_or_insert_with(|| Changes::open(shared.read_store().dir()));
        // The journal is read a few runs at a time, the store let go of between them.
        while !changes.follow_some(&shared.read_store(), now_ms, FOLLOW_BATCHES)? {}
        // The clock was read before this request waited for the lock; an answer given in the
        // meantime may carry a later time, which this one and its stamps must not go below.
        let now_ms = changes.answered_at(now_ms);
        let store = shared.read_store();
        let store = &*store;
        let admin = self
            .admin_email
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let ctx = Context {
            store,
            changes,
            charter: store.charter(),
            base,
            repository: repository_identifier(store.charter()),
            admin_email: admin,
            now_ms,
            page_identifiers: self.page_identifiers.load(Ordering::Relaxed),
            page_records: self.page_records.load(Ordering::Relaxed),
        };
        let parsed = pairs
            .map_err(|why| Error::BadArgument(why.to_owned()))
            .and_then(|pairs| Ok((pairs, Request::parse(pairs)?)));
        let (attrs, result) = match parsed {
            Ok((pairs, r)) => (pairs.to_vec(), ctx.respond(&r)),
            Err(e) => (Vec::new(), Err(e)),
        };
        let errors = match result {
            Ok(Answer::Body(body)) => {
                return Ok(xml::document(&format!("{base}/oai"), now_ms, &attrs, &body));
            }
            Ok(Answer::Errors(errors)) => errors,
            Err(e) => vec![e],
        };
        let mut out = Vec::new();
        for e in errors {
            if let Error::Store(s) = e {
                return Err(s);
            }
            out.push(e);
        }
        // The request's arguments are echoed only when they were all legal (3.2).
        let legal = !out
            .iter()
            .any(|e| matches!(e, Error::BadVerb(_) | Error::BadArgument(_)));
        let attrs = if legal { attrs } else { Vec::new() };
        Ok(xml::document(
            &format!("{base}/oai"),
            now_ms,
            &attrs,
            &xml::Body::Errors(&out),
        ))
    }
}

/// What a request is answered with.
enum Answer<'a> {
    Errors(Vec<Error>),
    Body(xml::Body<'a>),
}

/// The repository identifier of a network: its English name (or any) in lower-case ASCII
/// letters and digits, other runs of characters as one hyphen; `hubnet` if nothing is left.
pub fn repository_identifier(charter: &Charter) -> String {
    let name = crate::lang::pick_in(charter.name(), Some("en")).map_or("", |(_, t)| t);
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_owned();
    if out.is_empty() {
        "hubnet".to_owned()
    } else {
        out
    }
}

/// Whether `text` is an address OAI-PMH's `emailType` takes (`\S+@(\S+\.)+\S+`) and nothing
/// more: no spaces or controls, one `@`, a dot inside the domain.
pub fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    text.len() <= 254
        && !local.is_empty()
        && !domain.contains('@')
        && text.chars().all(|c| !c.is_whitespace() && !c.is_control())
        && domain
            .split_once('.')
            .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty() && !b.ends_with('.'))
}

/// An item ready to be written: its header fields and, unless deleted, its record.
pub struct Shown {
    /// `oai:{repository}:{id}`.
    pub identifier: String,
    /// The datestamp, seconds since the epoch.
    pub datestamp: i64,
    /// The sets it belongs to (leaves: `kind:…`, `country:…`).
    pub sets: Vec<String>,
    /// Whether it is deleted (retracted or erased).
    pub deleted: bool,
    /// The record as it stands, when asked for and not deleted.
    pub current: Option<Current>,
    /// The record's id.
    pub id: RecordId,
}

struct Context<'a> {
    store: &'a Store,
    changes: &'a Changes,
    charter: &'a Charter,
    base: &'a str,
    repository: String,
    admin_email: Option<String>,
    now_ms: i64,
    page_identifiers: usize,
    page_records: usize,
}

impl<'a> Context<'a> {
    fn respond(&self, request: &Request) -> Result<Answer<'a>, Error> {
        match request {
            Request::Identify => Ok(Answer::Body(xml::Body::Identify(xml::Identify {
                name: crate::lang::pick_in(self.charter.name(), Some("en"))
                    .map_or_else(|| "hubnet".to_owned(), |(_, t)| t.to_owned()),
                admin_email: self.admin_email.clone().unwrap_or_else(|| {
                    // No address configured (`oai_admin_email`): a reserved, visibly
                    // unreachable one (RFC 2606).
                    format!("oai-admin@{}.invalid", self.repository)
                }),
                earliest: self
                    .changes
                    .earliest()
                    .map_or(self.now_ms / 1000, |ms| ms.div_euclid(1000)),
            }))),
            Request::ListMetadataFormats { identifier } => {
                if let Some(identifier) = identifier {
                    self.item_of(identifier)?;
                }
                Ok(Answer::Body(xml::Body::MetadataFormats))
            }
            Request::ListSets { token: Some(_) } => Err(Error::BadResumptionToken(
                "this node's set list is never cut into pages".into(),
            )),
            Request::ListSets { token: None } => Ok(Answer::Body(xml::Body::Sets(self.sets()))),
            Request::GetRecord { identifier, prefix } => {
                let item = self.item_of(identifier);
                let format = check_prefix(prefix);
                match (item, format) {
                    (Ok(item), Ok(())) => {
                        let shown = self.show(item, true)?.ok_or_else(|| {
                            Error::IdDoesNotExist(format!("no item {identifier}"))
                        })?;
                        Ok(Answer::Body(xml::Body::Record(xml::Listed {
                            shown: vec![shown],
                            resumption: None,
                            base: self.base,
                            charter: self.charter,
                        })))
                    }
                    (Err(a), Err(b)) => Ok(Answer::Errors(vec![a, b])),
                    (Err(e), _) | (_, Err(e)) => Err(e),
                }
            }
            Request::List(list) => self.list(list),
        }
    }

    /// Every set: the kinds' and the members'.
    fn sets(&self) -> Vec<(String, String)> {
        let mut sets = vec![("kind".to_owned(), "Records by kind".to_owned())];
        for kind in CONTENT_KINDS {
            sets.push((format!("kind:{kind}"), format!("Records of kind {kind}")));
        }
        sets.push(("country".to_owned(), "Records by member country".to_owned()));
        for m in self.charter.members() {
            let name = crate::lang::pick_in(&m.name, Some("en")).map_or(m.code.as_str(), |t| t.1);
            sets.push((format!("country:{}", m.code), name.to_owned()));
        }
        sets
    }

    /// The item an identifier names.
    fn item_of(&self, identifier: &str) -> Result<&Item, Error> {
        let missing = || {
            Error::IdDoesNotExist(format!(
                "no item {:?} (identifiers are oai:{}:<record id>)",
                identifier.chars().take(100).collect::<String>(),
                self.repository
            ))
        };
        let id: RecordId = identifier
            .strip_prefix("oai:")
            .and_then(|rest| rest.strip_prefix(self.repository.as_str()))
            .and_then(|rest| rest.strip_prefix(':'))
            .and_then(|hex| {
                (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
                    .then(|| hex.parse().ok())
                    .flatten()
            })
            .ok_or_else(missing)?;
        self.changes.item(&id).ok_or_else(missing)
    }

    /// An item's header fields and, if `records` and not deleted, its record as it stands.
    /// `None` if its original is no longer held. An item is deleted once erased, retracted, or
    /// past its key's last valid seq (a decision ended the key's validity before it): the
    /// repository keeps deleted records persistently, so a harvester that held it learns that it
    /// no longer counts.
    fn show(&self, item: &Item, records: bool) -> Result<Option<Shown>, Error> {
        let erased = self.store.erased_by(&item.id).is_some();
        let retraction = item
            .retractions
            .iter()
            .find(|(seq, _)| self.charter.key_allows(&item.author, *seq));
        let invalid = !self.charter.key_allows(&item.author, item.seq);
        let deleted = erased || retraction.is_some() || invalid;
        let current = if records && !deleted {
            let Some(original) = self.store.get(&item.id)? else {
                return Ok(None);
            };
            let amendment = match item
                .amendments
                .iter()
                .rev()
                .find(|(seq, _)| self.charter.key_allows(&item.author, *seq))
            {
                Some((_, id)) => self.store.get(id)?,
                None => None,
            };
            if original.body.is_erased() {
                None
            } else {
                Some(Current {
                    original,
                    amendment,
                    retraction: None,
                })
            }
        } else {
            None
        };
        let deleted = deleted || (records && current.is_none());
        Ok(Some(Shown {
            identifier: format!("oai:{}:{}", self.repository, item.id),
            datestamp: item.stamp_ms.div_euclid(1000),
            sets: vec![
                format!("kind:{}", item.kind.name()),
                format!("country:{}", item.member),
            ],
            deleted,
            current: if deleted { None } else { current },
            id: item.id,
        }))
    }

    fn list(&self, list: &List) -> Result<Answer<'a>, Error> {
        let verb = if list.records {
            "ListRecords"
        } else {
            "ListIdentifiers"
        };
        let (args, after, resumed) = match &list.args {
            ListArgs::First {
                prefix,
                set,
                from,
                until,
            } => (
                Token {
                    verb: verb.to_owned(),
                    prefix: prefix.clone(),
                    set: set.clone(),
                    from: from.clone(),
                    until: until.clone(),
                    after: (0, RecordId([0; 32])),
                    counts: None,
                },
                None,
                false,
            ),
            ListArgs::Token(text) => {
                let t = Token::decode(text, self.changes.key())
                    .map_err(|e| Error::BadResumptionToken(e.to_string()))?;
                if t.verb != verb {
                    return Err(Error::BadResumptionToken(format!(
                        "the resumption token continues {}, not {verb}",
                        t.verb
                    )));
                }
                let after = Some(t.after);
                (t, after, true)
            }
        };
        check_prefix(&args.prefix)?;
        let (lo, hi) = request::bounds(args.from.as_deref(), args.until.as_deref())?;
        let matches = |item: &Item| {
            let s = item.stamp_ms.div_euclid(1000);
            s >= lo && s <= hi && args.set.as_deref().is_none_or(|set| in_set(item, set))
        };
        let page = if list.records {
            self.page_records
        } else {
            self.page_identifiers
        };
        // The whole list is counted for its first page only (and for a token of the first
        // format); later pages take the counts from their token, so a harvest costs one pass
        // over the items, not one per page.
        let (mut total, before) = match args.counts {
            Some((total, cursor)) => (
                usize::try_from(total).unwrap_or(usize::MAX),
                usize::try_from(cursor).unwrap_or(usize::MAX),
            ),
            None => {
                let (mut total, mut before) = (0usize, 0usize);
                for item in self.changes.after(None).filter(|i| matches(i)) {
                    total += 1;
                    if after.is_some_and(|a| (item.pos, item.id) <= a) {
                        before += 1;
                    }
                }
                (total, before)
            }
        };
        // A page of items that show; one whose original is no longer held is passed over (it
        // still counts as listed, for the cursor), so that a page is empty only at the list's end.
        let mut candidates = self.changes.after(after).filter(|i| matches(i));
        let mut shown = Vec::with_capacity(page);
        let (mut passed, mut last) = (0usize, None);
        while shown.len() < page {
            let Some(item) = candidates.next() else {
                break;
            };
            passed += 1;
            last = Some(item);
            if let Some(s) = self.show(item, list.records)? {
                shown.push(s);
            }
        }
        // More follow if one of them shows (a list does not end in a page of nothing).
        let mut more = false;
        for item in candidates {
            if self.show(item, list.records)?.is_some() {
                more = true;
                break;
            }
        }
        // A list that grew since its first page (items changed again come round once more) is
        // at least as long as what was and is being listed.
        total = total.max(
            before
                .saturating_add(passed)
                .saturating_add(usize::from(more)),
        );
        // A list answer holds at least one record or header (the schema's `minOccurs="1"`).
        if shown.is_empty() {
            return Err(Error::NoRecordsMatch);
        }
        let resumption = match last {
            Some(last) if more => Some(xml::Resumption {
                token: Token {
                    after: (last.pos, last.id),
                    counts: Some((
                        u64::try_from(total).unwrap_or(u64::MAX),
                        u64::try_from(before + passed).unwrap_or(u64::MAX),
                    )),
                    ..args
                }
                .encode(self.changes.key()),
                size: total,
                cursor: before,
            }),
            _ if resumed => Some(xml::Resumption {
                token: String::new(),
                size: total,
                cursor: before,
            }),
            _ => None,
        };
        let lists = xml::Listed {
            shown,
            resumption,
            base: self.base,
            charter: self.charter,
        };
        Ok(Answer::Body(if list.records {
            xml::Body::Records(lists)
        } else {
            xml::Body::Identifiers(lists)
        }))
    }
}

/// Whether `prefix` is a format this node disseminates.
fn check_prefix(prefix: &str) -> Result<(), Error> {
    if prefix == OAI_DC {
        Ok(())
    } else {
        Err(Error::CannotDisseminateFormat(format!(
            "this node disseminates {OAI_DC} only, not {:?}",
            prefix.chars().take(64).collect::<String>()
        )))
    }
}

/// Whether an item is in set `spec`.
fn in_set(item: &Item, spec: &str) -> bool {
    match spec.split_once(':') {
        None => matches!(spec, "kind" | "country"),
        Some(("kind", k)) => item.kind.name() == k,
        Some(("country", c)) => item.member == c,
        _ => false,
    }
}
