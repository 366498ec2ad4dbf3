//! Answers to repeated queries, kept while nothing they were made from has changed.
//!
//! A query that matches much of the corpus scores and counts facets over every match: a few
//! milliseconds of CPU for an answer that stays the same until a record arrives. A public
//! portal asks the same queries over and over (the front page's listing, popular searches,
//! crawlers), so the node keeps the JSON of recent answers, by route and query string, each
//! stamped with what it was made from: the store's change count ([`Shared::changes`]: every
//! write to the store and every new charter), the search index's generation (every commit of
//! the indexer), and the day (experts past their re-confirmation date leave the lists at
//! midnight). An answer is served again only while all three are the same, so it is always the
//! answer the node would compute now. The memory is bounded in bytes
//! (`[http_limits] answer_cache_mb`, default 64; 0 keeps nothing).
//!
//! A query asked for the first time, or again after a record arrived, is computed afresh; what
//! it shows of each record (its JSON as it stands, [`crate::current::Current::json`], a few
//! kilobytes with the signed bytes in base64) is kept apart ([`RecordCache`]), by what that JSON
//! is made of: the ids of the record, its latest amendment and its retraction (records never
//! change once stored) and whether each of the three is erased (the one change a stored record
//! sees: its body deleted). The erased marks are read under the same read lock as the records,
//! so JSON made before an erasure is kept under marks that no later lookup asks for. Bounded in
//! bytes (`[http_limits] record_cache_mb`, default 64; 0 keeps nothing).
//!
//! Neither cache keeps an erased body in memory for long: the first answer computed after the
//! store erased a record (every answer kept is stale after the erasure's write, so the next query
//! of any kind computes one) drops everything both caches hold ([`RecordCache::note_erased`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Bytes;
use hubnet_protocol::RecordId;

use crate::search::DocState;
use crate::shared::Shared;
use crate::store::Store;

/// What an answer was made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    store: u64,
    index: u64,
    day: chrono::NaiveDate,
}

impl Stamp {
    /// The state of `shared` now, on `day`. Read it **before** computing an answer: a change
    /// after this moment makes the stamp older than the state, so the answer is never served
    /// for a state it was not made from.
    pub fn now(shared: &Shared, day: chrono::NaiveDate) -> Self {
        Self {
            store: shared.changes(),
            index: shared.search.generation(),
            day,
        }
    }
}

#[derive(Debug)]
struct Answer {
    stamp: Stamp,
    body: Bytes,
}

/// Recent answers, bounded in bytes.
#[derive(Clone)]
pub struct AnswerCache {
    answers: Option<moka::sync::Cache<String, Arc<Answer>>>,
}

impl std::fmt::Debug for AnswerCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnswerCache")
            .field("entries", &entries(&self.answers))
            .finish()
    }
}

/// A moka cache of at most `bytes`, each entry weighing `size` bytes; `None` for 0 bytes.
fn bounded<K, V>(bytes: u64, size: fn(&K, &V) -> usize) -> Option<moka::sync::Cache<K, V>>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    (bytes > 0).then(|| {
        moka::sync::Cache::builder()
            .max_capacity(bytes)
            .weigher(move |k: &K, v: &V| u32::try_from(size(k, v)).unwrap_or(u32::MAX))
            .build()
    })
}

/// How many entries a cache holds, for `Debug`.
fn entries<K, V>(cache: &Option<moka::sync::Cache<K, V>>) -> Option<u64>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    cache.as_ref().map(moka::sync::Cache::entry_count)
}

impl AnswerCache {
    /// Keeps at most `bytes` of answers (their JSON and keys); 0 keeps none.
    pub fn new(bytes: u64) -> Self {
        Self {
            answers: bounded(bytes, |key: &String, a: &Arc<Answer>| {
                key.len() + a.body.len()
            }),
        }
    }

    /// The answer kept for `key`, if it was made from `stamp`.
    pub fn get(&self, key: &str, stamp: Stamp) -> Option<Bytes> {
        let a = self.answers.as_ref()?.get(key)?;
        (a.stamp == stamp).then(|| a.body.clone())
    }

    /// Keeps `body` as the answer for `key`, made from `stamp`.
    pub fn put(&self, key: String, stamp: Stamp, body: Bytes) {
        if let Some(answers) = &self.answers {
            answers.insert(key, Arc::new(Answer { stamp, body }));
        }
    }

    /// Drops every answer kept, and frees their memory now.
    pub fn forget_all(&self) {
        if let Some(answers) = &self.answers {
            answers.invalidate_all();
            answers.run_pending_tasks();
        }
    }
}

/// What the JSON of one record as it stands is made of: the ids a search hit names (the record,
/// its latest amendment, its retraction) and whether the store holds each erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordKey {
    ids: [Option<RecordId>; 3],
    erased: [bool; 3],
}

impl RecordKey {
    /// The key of `hit` as `store` holds its records now. Read it under the same lock as the
    /// records the JSON is made from.
    pub fn of(store: &Store, hit: &DocState) -> Self {
        let ids = [Some(hit.id), hit.amendment, hit.retraction];
        let erased = ids.map(|id| id.is_some_and(|id| store.erased_by(&id).is_some()));
        Self { ids, erased }
    }
}

/// The JSON of records as answers show them, bounded in bytes.
#[derive(Clone)]
pub struct RecordCache {
    records: Option<moka::sync::Cache<RecordKey, Bytes>>,
    /// How many records the store held erased when last told ([`Self::note_erased`]).
    erased: Arc<AtomicUsize>,
}

impl std::fmt::Debug for RecordCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordCache")
            .field("entries", &entries(&self.records))
            .finish()
    }
}

impl RecordCache {
    /// Keeps at most `bytes` of records' JSON (and keys); 0 keeps none.
    pub fn new(bytes: u64) -> Self {
        Self {
            records: bounded(bytes, |_: &RecordKey, json: &Bytes| {
                std::mem::size_of::<RecordKey>() + json.len()
            }),
            erased: Arc::default(),
        }
    }

    /// Tells the cache how many records the store holds erased (the count only grows). When it
    /// grew since the last call, every JSON kept is dropped and its memory freed now (what was
    /// kept of an erased record is unreachable already, its key naming it unerased), and `true`
    /// is returned: the caller drops what else it keeps ([`AnswerCache::forget_all`]).
    pub fn note_erased(&self, erased: usize) -> bool {
        if self.erased.swap(erased, Ordering::SeqCst) == erased {
            return false;
        }
        if let Some(records) = &self.records {
            records.invalidate_all();
            records.run_pending_tasks();
        }
        true
    }

    /// The JSON kept for `key`.
    pub fn get(&self, key: &RecordKey) -> Option<Bytes> {
        self.records.as_ref()?.get(key)
    }

    /// Keeps `json` for `key`.
    pub fn put(&self, key: RecordKey, json: Bytes) {
        if let Some(records) = &self.records {
            records.insert(key, json);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn stamp(store: u64, index: u64) -> Stamp {
        Stamp {
            store,
            index,
            day: chrono::NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
        }
    }

    #[test]
    fn an_answer_is_served_only_for_the_state_it_was_made_from() {
        let cache = AnswerCache::new(1 << 20);
        cache.put("q=a".into(), stamp(1, 1), Bytes::from_static(b"one"));
        assert_eq!(cache.get("q=a", stamp(1, 1)).as_deref(), Some(&b"one"[..]));
        assert_eq!(cache.get("q=b", stamp(1, 1)), None);
        assert_eq!(cache.get("q=a", stamp(2, 1)), None, "the store changed");
        assert_eq!(cache.get("q=a", stamp(1, 2)), None, "the index changed");
        let next_day = Stamp {
            day: chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap(),
            ..stamp(1, 1)
        };
        assert_eq!(cache.get("q=a", next_day), None, "another day");
        cache.put("q=a".into(), stamp(2, 1), Bytes::from_static(b"two"));
        assert_eq!(cache.get("q=a", stamp(2, 1)).as_deref(), Some(&b"two"[..]));
        assert_eq!(cache.get("q=a", stamp(1, 1)), None);
    }

    #[test]
    fn an_erasure_drops_every_record_and_answer_kept() {
        let records = RecordCache::new(1 << 20);
        let answers = AnswerCache::new(1 << 20);
        let key = RecordKey {
            ids: [Some(RecordId([1; 32])), None, None],
            erased: [false; 3],
        };
        records.put(key, Bytes::from_static(b"{\"name\":\"someone\"}"));
        answers.put("q=someone".into(), stamp(1, 1), Bytes::from_static(b"one"));
        assert!(!records.note_erased(0), "nothing erased yet");
        assert!(records.get(&key).is_some());
        assert!(records.note_erased(1), "a record was erased");
        answers.forget_all();
        assert_eq!(records.get(&key), None);
        assert_eq!(answers.get("q=someone", stamp(1, 1)), None);
        assert_eq!(records.records.as_ref().unwrap().entry_count(), 0);
        assert!(!records.note_erased(1), "told again: nothing new");
    }

    #[test]
    fn a_cache_of_no_bytes_keeps_nothing_and_the_bound_holds() {
        let none = AnswerCache::new(0);
        none.put("q".into(), stamp(1, 1), Bytes::from_static(b"x"));
        assert_eq!(none.get("q", stamp(1, 1)), None);
        let small = AnswerCache::new(10_000);
        for i in 0..100 {
            small.put(
                format!("q={i}"),
                stamp(1, 1),
                Bytes::from(vec![b'x'; 1_000]),
            );
        }
        let answers = small.answers.as_ref().unwrap();
        answers.run_pending_tasks();
        assert!(
            answers.weighted_size() <= 10_000,
            "{}",
            answers.weighted_size()
        );
        assert!(answers.entry_count() >= 1);
    }
}
