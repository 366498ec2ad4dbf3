//! Full-text search and filtered queries over the current state of every practice and event.
//!
//! A tantivy index in `DATA_DIR/search/`, derived from the store and never the source of truth:
//! one document per practice or event (keyed by the original's id) holding the content in force
//! (its latest amendment's, if any), whether it was retracted, and the ids of the amendment and
//! retraction. [`indexer`] follows the store's journal and commits with the journal offset it
//! reached as the commit payload; a missing, damaged or foreign index is rebuilt from the store at
//! start, with progress in the log.

mod facets;
pub mod indexer;
pub mod query;
pub mod text;

use facets::{FacetCache, FacetCollector};
use indexer::Followed;

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use hubnet_protocol::{NetworkId, RecordId};
use serde::{Deserialize, Serialize};
use tantivy::collector::sort_key::SortByStaticFastValue;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, Occur, QueryParser, RangeQuery, TermQuery, TermSetQuery,
};
use tantivy::query_grammar::{
    self, Delimiter, UserInputAst, UserInputBound, UserInputLeaf, UserInputLiteral,
};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::{DocAddress, Index, IndexReader, Order, ReloadPolicy, TantivyDocument, Term};

pub use self::query::{Query, QueryError, Sort};
use crate::current::Current;
use crate::kinds::SearchTexts;

/// The index folder inside a data dir.
pub const SEARCH_DIR: &str = "search";
/// Bump when the document layout (or the commit payload) changes: an index of another version is
/// rebuilt.
const LAYOUT_VERSION: u32 = 8;

/// Search failures (all internal: bad queries are [`QueryError`]s before they get here).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SearchError {
    /// tantivy failed.
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// A file of the index folder.
    #[error("search index {path}: {cause}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        cause: std::io::Error,
    },
    /// The store failed while the index read from it.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl SearchError {
    /// Whether the index failed for a reason outside it (a full disk, no permission, too many
    /// open files: [`crate::durable::environmental`]), not because it is damaged.
    pub fn environmental(&self) -> bool {
        use tantivy::directory::error::{OpenDirectoryError, OpenReadError, OpenWriteError};
        let io: &std::io::Error = match self {
            SearchError::Io { cause, .. } => cause,
            SearchError::Index(tantivy::TantivyError::IoError(io))
            | SearchError::Index(tantivy::TantivyError::OpenReadError(OpenReadError::IoError {
                io_error: io,
                ..
            }))
            | SearchError::Index(tantivy::TantivyError::OpenWriteError(
                OpenWriteError::IoError { io_error: io, .. },
            ))
            | SearchError::Index(tantivy::TantivyError::OpenDirectoryError(
                OpenDirectoryError::IoError { io_error: io, .. },
            )) => io,
            _ => return false,
        };
        crate::durable::environmental(io)
    }
}

/// Reads a full-text query's field syntax as the words in it. Field names are not part of
/// hubnet's query language (words, phrases, `-` exclusions and `OR`): `name:value` is the words
/// `name` and `value`, `name:*` the word `name`, `name:[a TO b]` the words `name`, `a` and `b`,
/// `name:IN [a b]` the words `name`, `a` and `b`. tantivy would read them as queries of its
/// fields: `name:*` for documents with a value in the fast field `name`, which fails when it runs
/// (not when it is parsed) if there is no such field, a 500 for what a person typed (found by the
/// `query` fuzz target, RELIABILITY.md); a date's or the id's field, which are not indexed as
/// terms, as nothing at all, so that part of the query was dropped and the rest ran broader.
fn fields_as_words(ast: UserInputAst) -> UserInputAst {
    match ast {
        UserInputAst::Clause(clauses) => UserInputAst::Clause(
            clauses
                .into_iter()
                .map(|(occur, a)| (occur, fields_as_words(a)))
                .collect(),
        ),
        UserInputAst::Boost(a, boost) => UserInputAst::Boost(Box::new(fields_as_words(*a)), boost),
        UserInputAst::Leaf(leaf) => leaf_as_words(*leaf),
    }
}

/// One leaf of [`fields_as_words`]: the words of a leaf that names a field, all required (a
/// query's words are a conjunction).
fn leaf_as_words(leaf: UserInputLeaf) -> UserInputAst {
    let bound = |b: UserInputBound| match b {
        UserInputBound::Inclusive(v) | UserInputBound::Exclusive(v) => Some(v),
        UserInputBound::Unbounded => None,
    };
    let (field, words): (Option<String>, Vec<UserInputAst>) = match leaf {
        UserInputLeaf::Literal(literal) => match literal.field_name {
            None => return UserInputAst::Leaf(Box::new(UserInputLeaf::Literal(literal))),
            Some(field) => (
                Some(field),
                vec![UserInputAst::Leaf(Box::new(UserInputLeaf::Literal(
                    UserInputLiteral {
                        field_name: None,
                        ..literal
                    },
                )))],
            ),
        },
        UserInputLeaf::All => return UserInputAst::Leaf(Box::new(UserInputLeaf::All)),
        UserInputLeaf::Exists { field } => (Some(field), Vec::new()),
        UserInputLeaf::Range {
            field,
            lower,
            upper,
        } => (
            field,
            [bound(lower), bound(upper)]
                .into_iter()
                .flatten()
                .map(word)
                .collect(),
        ),
        UserInputLeaf::Set { field, elements } => (field, elements.into_iter().map(word).collect()),
        UserInputLeaf::Regex { field, pattern } => (field, vec![word(pattern)]),
    };
    let mut all: Vec<UserInputAst> = field.into_iter().map(word).collect();
    all.extend(words);
    match all.len() {
        1 => all.remove(0),
        _ => UserInputAst::Clause(
            all.into_iter()
                .map(|a| (Some(query_grammar::Occur::Must), a))
                .collect(),
        ),
    }
}

/// `text` as words of the query (a literal of no field; tokenised as the fields searched are).
fn word(text: String) -> UserInputAst {
    UserInputAst::Leaf(Box::new(UserInputLeaf::Literal(UserInputLiteral {
        field_name: None,
        phrase: text,
        delimiter: Delimiter::None,
        slop: 0,
        prefix: false,
    })))
}

/// The commit payload: how far into the journal the index has applied, and under which
/// governance decisions (the hex digest of the set held, see [`governance_mark`]) with every
/// key's last valid seq under them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Payload {
    layout: u32,
    network: String,
    journal: u64,
    governance: String,
    last_seqs: BTreeMap<String, Option<u64>>,
}

/// What the index records of the governance it was built under: the digest of the decisions
/// held. Key validity, and so which records count, follows from it.
pub fn governance_mark(store: &crate::store::Store) -> String {
    hex::encode(store.governance().digest().1)
}

/// The fields of a document.
#[derive(Debug, Clone)]
struct Fields {
    id: Field,
    kind: Field,
    country: Field,
    topic: Field,
    area: Field,
    lang: Field,
    /// A programme's status (IATI activity status name).
    status: Field,
    /// The roles a programme's participants hold.
    role: Field,
    /// The member codes a programme lists as participants.
    participant: Field,
    /// Where a programme stands with its participants (`proposed`, `confirmed`, `retracted`).
    state: Field,
    author: Field,
    created: Field,
    start: Field,
    start_sort: Field,
    /// The first 8 bytes of the id, big-endian: the tie-breaker of the ordered sorts.
    idk: Field,
    retracted: Field,
    /// The last day it is listed ([`day_number`]; `i64::MAX`: always): an expert's
    /// `reconfirm_by`.
    listed_until: Field,
    /// The record ids (hex) of the institutions it names.
    refs: Field,
    amendment: Field,
    retraction: Field,
    /// `(field name, field)` of each language with a field of its own.
    texts: Vec<(&'static str, Field)>,
    /// The field for text in any other language.
    other: Field,
}

impl Fields {
    /// The full-text field for language `tag`.
    fn text_field(&self, tag: &str) -> Field {
        let name = text::field_for(tag);
        self.texts
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(self.other, |(_, f)| *f)
    }
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let facet = STRING | FAST;
    let text = |analyser: &str| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(analyser)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
    };
    let mut texts = Vec::new();
    for (_, name, analyser) in text::LANGUAGES {
        texts.push((*name, b.add_text_field(name, text(analyser))));
    }
    let other = b.add_text_field(text::OTHER_FIELD, text(text::FOLD));
    let fields = Fields {
        // The 32 bytes, not their hex: a unique term per document, whose length is what the
        // term dictionary pays for (the hex id was 5–8% of the indexing time, BENCHMARKS.md).
        id: b.add_bytes_field("id", INDEXED | STORED),
        kind: b.add_text_field("kind", facet.clone()),
        country: b.add_text_field("country", facet.clone()),
        topic: b.add_text_field("topic", facet.clone()),
        area: b.add_text_field("area", facet.clone()),
        lang: b.add_text_field("lang", facet.clone()),
        status: b.add_text_field("status", facet.clone()),
        role: b.add_text_field("role", facet.clone()),
        participant: b.add_text_field("participant", facet.clone()),
        state: b.add_text_field("state", facet),
        author: b.add_text_field("author", STRING),
        // Numbers are only sorted on and compared in ranges, which tantivy answers from the
        // fast field: no term dictionary of them (a term a document each) is written.
        created: b.add_i64_field("created", FAST),
        start: b.add_i64_field("start", FAST),
        start_sort: b.add_i64_field("start_sort", FAST),
        idk: b.add_u64_field("idk", FAST),
        retracted: b.add_bool_field("retracted", INDEXED),
        listed_until: b.add_i64_field("listed_until", FAST),
        refs: b.add_text_field("refs", STRING),
        amendment: b.add_text_field("amendment", STORED),
        retraction: b.add_text_field("retraction", STORED),
        texts,
        other,
    };
    (b.build(), fields)
}

/// What the index knows of one practice or event: enough to load its [`Current`] from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocState {
    /// The original's id.
    pub id: RecordId,
    /// The latest amendment's id.
    pub amendment: Option<RecordId>,
    /// The retraction's id.
    pub retraction: Option<RecordId>,
}

/// Counts of matching records per value, for each facet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Facets {
    /// Per country code.
    pub country: BTreeMap<String, u64>,
    /// Per topic slug.
    pub topic: BTreeMap<String, u64>,
    /// Per reform area (reform profiles).
    pub area: BTreeMap<String, u64>,
    /// Per kind.
    pub kind: BTreeMap<String, u64>,
    /// Per content language.
    pub lang: BTreeMap<String, u64>,
    /// Per programme status.
    pub status: BTreeMap<String, u64>,
    /// Per participant role (programmes).
    pub role: BTreeMap<String, u64>,
    /// Per participating member (programmes).
    pub participant: BTreeMap<String, u64>,
    /// Per confirmation state (programmes).
    pub state: BTreeMap<String, u64>,
}

impl Facets {
    /// The maps in the order of [`facets::FACET_FIELDS`].
    fn maps_mut(&mut self) -> [&mut BTreeMap<String, u64>; facets::FACET_FIELDS.len()] {
        [
            &mut self.country,
            &mut self.topic,
            &mut self.area,
            &mut self.kind,
            &mut self.lang,
            &mut self.status,
            &mut self.role,
            &mut self.participant,
            &mut self.state,
        ]
    }

    /// The maps in the order of [`facets::FACET_FIELDS`].
    fn into_maps(self) -> [BTreeMap<String, u64>; facets::FACET_FIELDS.len()] {
        [
            self.country,
            self.topic,
            self.area,
            self.kind,
            self.lang,
            self.status,
            self.role,
            self.participant,
            self.state,
        ]
    }

    /// From maps in the order of [`facets::FACET_FIELDS`] (missing ones empty).
    fn from_maps(maps: Vec<BTreeMap<String, u64>>) -> Self {
        let mut out = Self::default();
        for (into, from) in out.maps_mut().into_iter().zip(maps) {
            *into = from;
        }
        out
    }
}

/// One page of results.
#[derive(Debug, Clone)]
pub struct Page {
    /// The records of this page, in order.
    pub hits: Vec<DocState>,
    /// How many records match in all.
    pub total: usize,
    /// The cursor of the next page, if there is one.
    pub next_cursor: Option<String>,
    /// Facet counts over every match.
    pub facets: Facets,
}

/// The open search index (shared; searches run concurrently with the [`indexer`]).
#[derive(Clone)]
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    /// The decisions' digest ([`governance_mark`]) of the governance the searchable (committed)
    /// state follows; the indexer sets it.
    followed: Arc<RwLock<String>>,
    /// How far into the journal the searchable state reaches, and since when; the indexer sets
    /// it, [`SearchIndex::lag`] reads it.
    progress: Arc<Mutex<Progress>>,
    /// The facet values of the segments queries have reached ([`facets`]).
    facets: Arc<FacetCache>,
}

/// What the indexer last made searchable.
#[derive(Debug, Clone, Copy)]
struct Progress {
    /// The journal offset the last commit reached.
    indexed: u64,
    /// The last moment at which the searchable state held the whole journal; `None` until the
    /// indexer first caught up.
    caught_up_at: Option<Instant>,
    /// When the index was opened.
    opened_at: Instant,
}

/// How far the searchable index is behind the store's journal ([`SearchIndex::lag`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lag {
    /// Journal bytes stored but not yet searchable.
    pub bytes: u64,
    /// Zero when the index holds the whole journal; else how long since it last did (an upper
    /// bound on how long the oldest record not yet searchable has waited, give or take the
    /// indexer's idle poll of 2 s), or since the index was opened if it has not caught up yet.
    pub behind_for: Duration,
    /// Whether the index has held the whole journal at some moment since it was opened (after
    /// a rebuild or a backlog at start, it has not until the catch-up ends).
    pub caught_up: bool,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").finish_non_exhaustive()
    }
}

impl SearchIndex {
    /// Opens `data_dir/search` for the network `network` whose store's journal ends at
    /// `journal_end`, creating it if missing and recreating it (empty) if it is unreadable, of
    /// another layout or another network, or ahead of the journal (a store restored from an older
    /// copy). Returns the index, the journal offset it has applied (0 when it must be built from
    /// the start) and the governance it followed then (`None` when built from the start); the
    /// indexer re-derives the keys a decision changed since.
    pub fn open(
        data_dir: &Path,
        network: NetworkId,
        journal_end: u64,
    ) -> Result<(Self, u64, Option<Followed>), SearchError> {
        let dir = data_dir.join(SEARCH_DIR);
        match Self::open_existing(&dir, network, journal_end) {
            Ok(Some(opened)) => return Ok(opened),
            Ok(None) => {}
            // Not damaged: deleting and rebuilding it would not help (on a full disk it would
            // fail again, after throwing away a good index).
            Err(e) if e.environmental() => return Err(e),
            Err(e) => tracing::warn!(error = %e, "search index unreadable; rebuilding it"),
        }
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|cause| SearchError::Io {
                path: dir.clone(),
                cause,
            })?;
        }
        std::fs::create_dir_all(&dir).map_err(|cause| SearchError::Io {
            path: dir.clone(),
            cause,
        })?;
        let (schema, fields) = schema();
        let index = Index::create_in_dir(&dir, schema)?;
        Ok((Self::with(index, fields)?, 0, None))
    }

    fn open_existing(
        dir: &Path,
        network: NetworkId,
        journal_end: u64,
    ) -> Result<Option<(Self, u64, Option<Followed>)>, SearchError> {
        if !dir.join("meta.json").exists() {
            return Ok(None);
        }
        let index = Index::open_in_dir(dir)?;
        let payload = index
            .load_metas()?
            .payload
            .and_then(|p| serde_json::from_str::<Payload>(&p).ok());
        let (_, fields) = schema();
        match payload {
            Some(p) if p.journal > journal_end => {
                tracing::warn!(
                    indexed = p.journal,
                    journal = journal_end,
                    "search index is ahead of the store's journal; rebuilding it"
                );
                Ok(None)
            }
            Some(p) if p.layout == LAYOUT_VERSION && p.network == network.to_hex() => {
                if index.schema() != schema().0 {
                    return Ok(None);
                }
                let mut last_seqs = BTreeMap::new();
                for (key, last) in p.last_seqs {
                    let Ok(k) = key.parse() else {
                        tracing::warn!(%key, "search index payload names a bad key; rebuilding it");
                        return Ok(None);
                    };
                    last_seqs.insert(k, last);
                }
                let followed = Followed {
                    mark: p.governance,
                    last_seqs,
                };
                Ok(Some((
                    Self::with(index, fields)?,
                    p.journal,
                    Some(followed),
                )))
            }
            _ => Ok(None),
        }
    }

    /// An in-memory index (tests and benchmarks).
    pub fn in_ram() -> Result<Self, SearchError> {
        let (schema, fields) = schema();
        Self::with(Index::create_in_ram(schema), fields)
    }

    fn with(index: Index, fields: Fields) -> Result<Self, SearchError> {
        text::register(&index);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            index,
            reader,
            fields,
            followed: Arc::default(),
            progress: Arc::new(Mutex::new(Progress {
                indexed: 0,
                caught_up_at: None,
                opened_at: Instant::now(),
            })),
            facets: Arc::default(),
        })
    }

    /// How far the searchable state is behind a journal that ends at `journal_end`
    /// ([`crate::store::Store::journal_end`]), at `now`.
    pub fn lag(&self, journal_end: u64, now: Instant) -> Lag {
        let p = *self
            .progress
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let bytes = journal_end.saturating_sub(p.indexed.max(crate::store::Store::journal_start()));
        let behind_for = if bytes == 0 {
            Duration::ZERO
        } else {
            now.saturating_duration_since(p.caught_up_at.unwrap_or(p.opened_at))
        };
        Lag {
            bytes,
            behind_for,
            caught_up: p.caught_up_at.is_some(),
        }
    }

    /// Notes that the searchable state reaches journal offset `indexed`, and, if given, that it
    /// held the whole journal at `caught_up_at` (a later moment than any noted before).
    pub(crate) fn set_progress(&self, indexed: u64, caught_up_at: Option<Instant>) {
        let mut p = self
            .progress
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        p.indexed = indexed;
        if let Some(at) = caught_up_at {
            p.caught_up_at = Some(p.caught_up_at.map_or(at, |old| old.max(at)));
        }
    }

    /// The digest of the decisions the searchable state follows. While it differs from the
    /// store's ([`governance_mark`]), the index has not yet followed a decision.
    pub fn followed_governance(&self) -> String {
        self.followed
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn set_followed_governance(&self, mark: &str) {
        mark.clone_into(
            &mut self
                .followed
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
    }

    /// How many practices and events the index holds (retracted ones included).
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Documents deleted but still held in the committed segments' files (tantivy keeps a deleted
    /// document until its segment is merged): 0 once an erasure's purge has run.
    pub fn deleted_kept(&self) -> Result<u64, SearchError> {
        Ok(self
            .reader
            .searcher()
            .segment_readers()
            .iter()
            .map(|r| u64::from(r.num_deleted_docs()))
            .sum())
    }

    /// What the committed index knows of practice or event `id`.
    pub fn state(&self, id: &RecordId) -> Result<Option<DocState>, SearchError> {
        let searcher = self.reader.searcher();
        let q = TermQuery::new(self.id_term(id), IndexRecordOption::Basic);
        let top = searcher.search(&q, &TopDocs::with_limit(1).order_by_score())?;
        match top.first() {
            None => Ok(None),
            Some((_, addr)) => self.load_state(&searcher, *addr),
        }
    }

    /// The term of record `id`'s document.
    pub(crate) fn id_term(&self, id: &RecordId) -> Term {
        Term::from_field_bytes(self.fields.id, id.as_bytes())
    }

    fn load_state(
        &self,
        searcher: &tantivy::Searcher,
        addr: DocAddress,
    ) -> Result<Option<DocState>, SearchError> {
        let doc: TantivyDocument = searcher.doc(addr)?;
        let id_of = |field: Field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .and_then(|s| s.parse::<RecordId>().ok())
        };
        let id = doc
            .get_first(self.fields.id)
            .and_then(|v| v.as_bytes())
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .map(RecordId);
        Ok(id.map(|id| DocState {
            id,
            amendment: id_of(self.fields.amendment),
            retraction: id_of(self.fields.retraction),
        }))
    }

    /// The generation of the searchable state: it changes with every commit the reader sees.
    pub fn generation(&self) -> u64 {
        self.reader.searcher().generation().generation_id()
    }

    /// Runs `q`.
    pub fn search(&self, q: &Query) -> Result<Page, SearchError> {
        let searcher = self.reader.searcher();
        self.facets.retain(searcher.segment_readers());
        let facet_counts = FacetCollector {
            cache: &self.facets,
        };
        let query = self.build(q);
        let limit = q.limit + 1;
        let (hits_at, next_cursor, total, facets): (Vec<DocAddress>, Option<String>, _, _) = match q
            .sort
        {
            Sort::Relevance => {
                let offset = match q.from {
                    query::From::Offset(o) => o,
                    _ => 0,
                };
                let window = TopDocs::with_limit(limit).and_offset(offset);
                let (top, n, f) =
                    searcher.search(&query, &(window.order_by_score(), Count, facet_counts))?;
                let more = top.len() > q.limit && offset + q.limit <= query::MAX_OFFSET;
                let next = more.then(|| q.cursor_at(offset + q.limit));
                (top.into_iter().map(|(_, a)| a).collect(), next, n, f)
            }
            Sort::Newest | Sort::Oldest | Sort::Start => {
                let (field, order) = self.sort_field(q.sort);
                let by = self.sort_by(field, order);
                let (n, f) = searcher.search(&query, &(Count, facet_counts))?;
                let page_query: Box<dyn tantivy::query::Query> = match q.from {
                    query::From::After { key, id } => Box::new(BooleanQuery::new(vec![
                        (Occur::Must, query),
                        (Occur::Must, self.after(field, order, key, id)),
                    ])),
                    _ => query,
                };
                let top = searcher.search(&page_query, &TopDocs::with_limit(limit).order_by(by))?;
                let next = (top.len() > q.limit)
                    .then(|| top.get(q.limit - 1))
                    .flatten()
                    .and_then(|((key, id), _)| Some(q.cursor_after((*key)?, (*id)?)));
                (top.into_iter().map(|(_, a)| a).collect(), next, n, f)
            }
        };
        let mut hits = Vec::with_capacity(q.limit);
        for addr in hits_at.into_iter().take(q.limit) {
            if let Some(s) = self.load_state(&searcher, addr)? {
                hits.push(s);
            }
        }
        Ok(Page {
            hits,
            total,
            next_cursor,
            facets,
        })
    }

    /// The field and order a sort other than by relevance follows.
    fn sort_field(&self, sort: Sort) -> (Field, Order) {
        match sort {
            Sort::Newest => (self.fields.created, Order::Desc),
            Sort::Oldest | Sort::Relevance => (self.fields.created, Order::Asc),
            Sort::Start => (self.fields.start_sort, Order::Asc),
        }
    }

    /// The sort key of a sort on `field` in `order`: its value, then the id key, a total order,
    /// so a page after the last record shown never repeats or skips one.
    fn sort_by(
        &self,
        field: Field,
        order: Order,
    ) -> (
        (SortByStaticFastValue<i64>, Order),
        (SortByStaticFastValue<u64>, Order),
    ) {
        let name = self.index.schema().get_field_name(field).to_owned();
        (
            (SortByStaticFastValue::<i64>::for_field(&name), order),
            (SortByStaticFastValue::<u64>::for_field("idk"), order),
        )
    }

    /// The cursor after the first `n` records `q` matches in its order (newest, oldest or by
    /// start), as a page of `n` records would give it: `None` when no record follows them, for
    /// `n` = 0, and for relevance. Where a page that starts `n` records in begins, found in one
    /// pass that loads no record and counts no facet (a sitemap's page `k` of 50,000 URLs took
    /// `k` whole searches before).
    pub fn cursor_after_first(&self, q: &Query, n: usize) -> Result<Option<String>, SearchError> {
        if q.sort == Sort::Relevance || n == 0 {
            return Ok(None);
        }
        let (field, order) = self.sort_field(q.sort);
        let top = self.reader.searcher().search(
            &self.build(q),
            &TopDocs::with_limit(n.saturating_add(1)).order_by(self.sort_by(field, order)),
        )?;
        Ok((top.len() > n)
            .then(|| top.get(n - 1))
            .flatten()
            .and_then(|((key, id), _)| Some(q.cursor_after((*key)?, (*id)?))))
    }

    /// The documents after (`key`, `id`) in `order` on (`field`, id key).
    fn after(
        &self,
        field: Field,
        order: Order,
        key: i64,
        id: u64,
    ) -> Box<dyn tantivy::query::Query> {
        let idk = self.fields.idk;
        let beyond = |t: Term| match order {
            Order::Desc => (Bound::Unbounded, Bound::Excluded(t)),
            Order::Asc => (Bound::Excluded(t), Bound::Unbounded),
        };
        let (lo, hi) = beyond(Term::from_field_i64(field, key));
        let later_key = RangeQuery::new(lo, hi);
        let (lo, hi) = beyond(Term::from_field_u64(idk, id));
        let same_key = Term::from_field_i64(field, key);
        let same_key_later_id = BooleanQuery::new(vec![
            (
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Included(same_key.clone()),
                    Bound::Included(same_key),
                )) as Box<dyn tantivy::query::Query>,
            ),
            (Occur::Must, Box::new(RangeQuery::new(lo, hi))),
        ]);
        Box::new(BooleanQuery::new(vec![
            (Occur::Should, Box::new(later_key)),
            (Occur::Should, Box::new(same_key_later_id)),
        ]))
    }

    /// The bare tantivy search for `q`: the top `n` by score, no facets, nothing loaded (the
    /// raw limit the query benchmark compares with). Returns how many it found.
    pub fn raw_top(&self, q: &Query, n: usize) -> Result<usize, SearchError> {
        let searcher = self.reader.searcher();
        Ok(searcher
            .search(&self.build(q), &TopDocs::with_limit(n).order_by_score())?
            .len())
    }

    fn build(&self, q: &Query) -> Box<dyn tantivy::query::Query> {
        let f = &self.fields;
        let mut must: Vec<(Occur, Box<dyn tantivy::query::Query>)> = Vec::new();
        if let Some(text) = &q.q {
            let fields: Vec<Field> = if q.langs.is_empty() {
                f.texts.iter().map(|(_, f)| *f).chain([f.other]).collect()
            } else {
                q.langs.iter().map(|l| f.text_field(l)).collect()
            };
            let mut parser = QueryParser::for_index(&self.index, fields);
            parser.set_conjunction_by_default();
            // Lenient: a stray quote or colon in what a person typed is not an error.
            let (ast, _errors) = query_grammar::parse_query_lenient(&text::normalize(text));
            let (parsed, _errors) =
                parser.build_query_from_user_input_ast_lenient(fields_as_words(ast));
            must.push((Occur::Must, parsed));
        }
        let terms = |field: Field, values: &[String]| -> Option<Box<dyn tantivy::query::Query>> {
            (!values.is_empty()).then(|| {
                Box::new(TermSetQuery::new(
                    values.iter().map(|v| Term::from_field_text(field, v)),
                )) as Box<dyn tantivy::query::Query>
            })
        };
        for (field, values) in [
            (f.kind, &q.kinds),
            (f.country, &q.countries),
            (f.topic, &q.topics),
            (f.area, &q.areas),
            (f.author, &q.authors),
            (f.lang, &q.langs),
            (f.status, &q.statuses),
            (f.role, &q.roles),
            (f.participant, &q.participants),
            (f.state, &q.states),
        ] {
            if let Some(t) = terms(field, values) {
                must.push((Occur::Must, t));
            }
        }
        for (field, from, to) in [
            (f.created, q.created_from, q.created_to),
            (f.start, q.start_from, q.start_to),
        ] {
            if from.is_some() || to.is_some() {
                let bound = |v: Option<i64>| match v {
                    Some(v) => Bound::Included(Term::from_field_i64(field, v)),
                    None => Bound::Unbounded,
                };
                must.push((
                    Occur::Must,
                    Box::new(RangeQuery::new(bound(from), bound(to))),
                ));
            }
        }
        if let Some(on) = q.listed_on {
            must.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_i64(f.listed_until, day_number(on))),
                    Bound::Unbounded,
                )),
            ));
        }
        if let Some(t) = terms(f.refs, &q.refs) {
            must.push((Occur::Must, t));
        }
        if !q.include_retracted {
            must.push((
                Occur::MustNot,
                Box::new(TermQuery::new(
                    Term::from_field_bool(f.retracted, true),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        if must.iter().all(|(o, _)| *o == Occur::MustNot) {
            must.push((Occur::Must, Box::new(AllQuery)));
        }
        Box::new(BooleanQuery::new(must))
    }

    /// The document of `c`; `state` is a programme's confirmation state.
    fn document(&self, c: &Current, state: Option<&str>) -> Option<TantivyDocument> {
        let f = &self.fields;
        let content = c.content()?;
        let mut doc = TantivyDocument::default();
        doc.add_bytes(f.id, c.id().as_bytes());
        let mut prefix = [0u8; 8];
        prefix.copy_from_slice(&c.id().as_bytes()[..8]);
        doc.add_u64(f.idk, u64::from_be_bytes(prefix));
        doc.add_text(f.author, c.original.header.author.to_hex());
        doc.add_i64(f.created, c.created_at());
        doc.add_bool(f.retracted, c.retracted());
        if let Some(a) = &c.amendment {
            doc.add_text(f.amendment, a.id.to_hex());
        }
        if let Some(r) = &c.retraction {
            doc.add_text(f.retraction, r.id.to_hex());
        }
        let view = content.view();
        let SearchTexts { main, other } = view.search_texts();
        let start = view.start_ms();
        if let Some(s) = start {
            doc.add_i64(f.start, s);
        }
        doc.add_i64(f.start_sort, start.unwrap_or(i64::MAX));
        doc.add_i64(
            f.listed_until,
            view.listed_until().map_or(i64::MAX, day_number),
        );
        for r in view.institution_refs() {
            doc.add_text(f.refs, hex::encode(r));
        }
        doc.add_text(f.kind, view.name());
        doc.add_text(f.country, view.country());
        for a in view.reform_areas() {
            doc.add_text(f.area, a);
        }
        for t in view.topics() {
            doc.add_text(f.topic, t);
        }
        if let Some(p) = content.programme() {
            programme_facets(&mut doc, f, p, state);
        }
        let langs = text::languages(&main);
        for l in &langs {
            doc.add_text(f.lang, l);
        }
        // The title is indexed twice (once in `main`, once in `texts`): a match there weighs more.
        let mut normalized = String::new();
        for t in main.into_iter().chain(other) {
            for (tag, value) in &t.text {
                text::normalize_into(&mut normalized, value);
                doc.add_text(f.text_field(tag), &normalized);
            }
        }
        Some(doc)
    }
}

/// A programme's facets: its status, its participants' roles, its member participants and its
/// confirmation state.
fn programme_facets(
    doc: &mut TantivyDocument,
    f: &Fields,
    p: &hubnet_proto::v1::Programme,
    state: Option<&str>,
) {
    use hubnet_protocol::kinds::programme::{
        ParticipantRole, ProgrammeStatus, member_participants,
    };
    if let Some(s) = ProgrammeStatus::from_proto(p.status) {
        doc.add_text(f.status, s.name());
    }
    let mut roles: Vec<&str> = p
        .participants
        .iter()
        .flat_map(|x| &x.roles)
        .filter_map(|r| ParticipantRole::from_proto(*r).map(ParticipantRole::name))
        .collect();
    roles.sort_unstable();
    roles.dedup();
    for r in roles {
        doc.add_text(f.role, r);
    }
    for m in member_participants(p) {
        doc.add_text(f.participant, m);
    }
    if let Some(s) = state {
        doc.add_text(f.state, s);
    }
}

/// A date as the index keeps it: days since 0001-01-01 (the proleptic Gregorian calendar).
pub fn day_number(date: chrono::NaiveDate) -> i64 {
    i64::from(chrono::Datelike::num_days_from_ce(&date))
}

#[cfg(test)]
mod tests;
