//! The OAI-PMH items and their datestamps: every content record this node holds (the originals a
//! researcher cites), when it last became what it is *on this node*, and a position in one
//! stable order that lists and resumption tokens page through.
//!
//! **Datestamps.** An item's datestamp is the moment this node's OAI-PMH side first saw the
//! latest change of it in the store's journal: the original, an amendment, a retraction, an
//! erasure, an erasure by a committee decision, or a decision that ended (or moved) the validity
//! of its author's key where that changes what counts of it (the item becomes a deleted record,
//! or an amendment or retraction of it stops counting). The signed `created_at` would not do: a
//! record created last month that reaches this node today (a member back from a month offline)
//! would be dated before a harvester's last `from` and never harvested. A change is seen at the
//! latest when the next OAI-PMH request is answered (the journal is read under the store's lock,
//! not through the search index), so a harvester that asked at `T` finds every change it did not
//! get with a datestamp of `T` or later (`Changes::answered_at` keeps that true for a request
//! that waited for another). Stamps never go back (each is at least the one
//! before, whatever the clock does).
//!
//! They persist in `DATA_DIR/oai-datestamps`, a line file appended as changes are seen (no
//! fsync: a stamp lost in a crash is given again, later, so a harvester fetches that item once
//! more and never misses it). Without that file (the first start of a node with OAI-PMH, a
//! restored backup: backups do not carry it), every record held is stamped with the moment it
//! is read: a harvester then fetches everything once more, and misses nothing that changed
//! after its last harvest of this node, whatever the restore brought back. Its lines: the magic
//! and the token key; `j <entries> <journal offset> <stamp>` (the entries up to that count were
//! stamped so); `e <id> <entries> <stamp> <n>` (an erasure by decision, the `n`th change seen
//! after that many entries); `k <key> <last valid seq or -> <entries> <stamp> <n>` (a key's last
//! valid seq became that); `p <amendment or retraction> <item>` (which item a part changes,
//! written when the part is first seen and synced before the answer that shows it: once the
//! part is erased, its body, which said so, is gone). A line that does not parse is skipped.
//!
//! **Order.** Each journal entry has a position (`(2 × its ordinal + 1) × 2^20`), and the `n`th
//! erasure by decision or change of a key's last valid seq seen after `e` entries the position
//! `2 × e × 2^20 + n`, between the entries seen before and after it, so that two such changes
//! with no entry between (a suspension and its end) are two changes. An item's position is that
//! of its latest change, so a change moves it to the end of the order, and a harvester paging
//! with a token (the last position returned) meets every item it has not met, and a changed one
//! again. (Positions of the first two token formats had no room for `n`: they were these over
//! 2^20, and are read so.)

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use hubnet_protocol::record::{self, Header};
use hubnet_protocol::{Kind, PublicKey, RecordId, SignedRecord};
use tracing::warn;

use crate::store::{Store, StoreError};

/// The file of datestamps in a data dir.
pub const STAMPS_FILE: &str = "oai-datestamps";
const MAGIC: &str = "hubnet-oai-datestamps 1";
const READ_BATCH: usize = 4096;

/// The bits of a position below a journal entry's: room for the changes between two entries.
pub const SUB_BITS: u32 = 20;
const SUB_MAX: u64 = (1 << SUB_BITS) - 1;

/// The position of the journal entry at `ordinal`.
fn entry_pos(ordinal: u64) -> u64 {
    ordinal.saturating_mul(2).saturating_add(1) << SUB_BITS
}

/// The position of the `n`th change seen after `entries` entries that is not an entry (past the
/// 2^20th, the changes share the last: they are still stamped, but do not move again).
fn between_pos(entries: u64, n: u64) -> u64 {
    (entries.saturating_mul(2) << SUB_BITS) + n.min(SUB_MAX)
}

/// One item: a content record's original and the changes of it this node holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The original's id.
    pub id: RecordId,
    /// Its kind.
    pub kind: Kind,
    /// The author's member code.
    pub member: String,
    /// The author's key.
    pub author: PublicKey,
    /// The original's seq.
    pub seq: u64,
    /// Its amendments (seq, id), in log order.
    pub amendments: Vec<(u64, RecordId)>,
    /// Its retractions (seq, id), in log order (one, unless a key's validity ended between).
    pub retractions: Vec<(u64, RecordId)>,
    /// Its place in the order: its latest change's position.
    pub pos: u64,
    /// Its datestamp, ms since the epoch.
    pub stamp_ms: i64,
}

/// The items of one store, followed as its journal grows.
#[derive(Debug)]
pub struct Changes {
    /// The key resumption tokens are authenticated with (this node's own).
    key: [u8; 32],
    file: PathBuf,
    /// The journal offset read up to, and how many entries lay before it.
    offset: u64,
    entries: u64,
    /// The stamps the file lists, not yet replayed: (entries up to, journal offset, stamp).
    marks: std::collections::VecDeque<(u64, u64, i64)>,
    /// Erasures by decision the file lists: (id, entries seen then, stamp, n).
    listed_decisions: HashMap<RecordId, (u64, i64, u64)>,
    /// Changes of keys' last valid seqs the file lists, in order: (key, last valid seq, entries
    /// seen then, stamp, n).
    listed_keys: Vec<(PublicKey, Option<u64>, u64, i64, u64)>,
    /// The changes between entries seen so far after the latest entries count: (entries, how
    /// many), so that the next has a later position.
    between: (u64, u64),
    /// Each key's last valid seq as the items' stamps follow it; a key not here has none (no
    /// end), as every key has until a decision gives it one.
    key_last: HashMap<PublicKey, Option<u64>>,
    last_stamp: i64,
    items: HashMap<RecordId, Item>,
    /// The item each amendment and retraction changes (an erasure of one changes that item).
    part_of: HashMap<RecordId, RecordId>,
    /// Those of `part_of` the file lists: an erased amendment's body, which names its item, is
    /// gone from the store, so the file keeps the link for the next start.
    parts_listed: HashSet<RecordId>,
    /// Lines to append at the end of the step, and whether they must reach the disk before the
    /// answer (a `p` line: what it says cannot be read again once its part is erased).
    pending: String,
    pending_sync: bool,
    order: BTreeSet<(u64, RecordId)>,
    decisions_seen: HashSet<RecordId>,
    /// False once a write of the file failed (logged once).
    writable: bool,
}

/// The optional last field of an `e` or `k` line: 0 if absent.
fn nth(rest: &[&str]) -> Option<u64> {
    match rest {
        [] => Some(0),
        [n] => n.parse().ok(),
        _ => None,
    }
}

impl Changes {
    /// Opens the datestamps of the store in data dir `dir` (writing a new file if there is none
    /// or it is not one); [`Changes::follow`] reads the journal.
    pub fn open(dir: &Path) -> Self {
        let file = dir.join(STAMPS_FILE);
        let mut marks = std::collections::VecDeque::new();
        let mut listed_decisions = HashMap::new();
        let mut listed_keys = Vec::new();
        let mut part_of = HashMap::new();
        let mut key = None;
        // Bytes that are not UTF-8 (a crash mid-append) spoil their own line only; a file that
        // cannot be read at all is left as it is (not replaced by a new one, which would lose
        // every stamp and the token key for good) and nothing is written to it this run.
        let (text, readable) = match std::fs::read(&file) {
            Ok(bytes) => (Some(String::from_utf8_lossy(&bytes).into_owned()), true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (None, true),
            Err(e) => {
                warn!(file = %file.display(), error = %e,
                    "cannot read the OAI-PMH datestamps; records are stamped when seen, and the \
                     file is left untouched until a restart can read it");
                (None, false)
            }
        };
        if let Some(text) = text {
            // A torn last line (a crash mid-append) is left out; so is a line that does not parse.
            let whole = match text.rfind('\n') {
                Some(end) => &text[..end],
                None => "",
            };
            let mut lines = whole.lines();
            if let Some(first) = lines.next()
                && let Some(hex_key) = first.strip_prefix(MAGIC)
                && let Ok(bytes) = hex::decode(hex_key.trim())
                && let Ok(k) = <[u8; 32]>::try_from(bytes)
            {
                key = Some(k);
                for line in lines {
                    match line.split(' ').collect::<Vec<_>>().as_slice() {
                        ["j", n, off, s] => {
                            if let (Ok(n), Ok(off), Ok(s)) = (n.parse(), off.parse(), s.parse()) {
                                marks.push_back((n, off, s));
                            }
                        }
                        // The last field came with the third format of tokens; before, 0.
                        ["e", id, at, s, rest @ ..] if rest.len() <= 1 => {
                            if let (Ok(id), Ok(at), Ok(s), Some(n)) =
                                (id.parse(), at.parse(), s.parse(), nth(rest))
                            {
                                listed_decisions.insert(id, (at, s, n));
                            }
                        }
                        ["p", part, item] => {
                            if let (Ok(part), Ok(item)) = (part.parse(), item.parse()) {
                                part_of.insert(part, item);
                            }
                        }
                        ["k", k, last, at, s, rest @ ..] if rest.len() <= 1 => {
                            let last = match *last {
                                "-" => Some(None),
                                n => n.parse().ok().map(Some),
                            };
                            if let (Ok(k), Some(last), Ok(at), Ok(s), Some(n)) =
                                (k.parse(), last, at.parse(), s.parse(), nth(rest))
                            {
                                listed_keys.push((k, last, at, s, n));
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        let fresh = key.is_none();
        let key = key.unwrap_or_else(|| {
            let mut k = [0u8; 32];
            if getrandom::fill(&mut k).is_err() {
                warn!("no randomness for the OAI-PMH token key; using one derived from the time");
                k = super::token::digest(&[
                    file.to_string_lossy().as_bytes(),
                    &crate::now_ms().to_le_bytes(),
                ]);
            }
            k
        });
        // Every change between entries the file lists, whether or not it is replayed (a
        // decision the charter no longer lists), bounds the next one's position.
        let between = listed_keys
            .iter()
            .map(|&(_, _, at, _, n)| (at, n))
            .chain(listed_decisions.values().map(|&(at, _, n)| (at, n)))
            .max()
            .map_or((0, 0), |(at, n): (u64, u64)| (at, n.saturating_add(1)));
        let mut changes = Changes {
            key,
            file,
            offset: Store::journal_start(),
            entries: 0,
            marks,
            listed_decisions,
            listed_keys,
            between,
            key_last: HashMap::new(),
            last_stamp: i64::MIN,
            items: HashMap::new(),
            parts_listed: part_of.keys().copied().collect(),
            part_of,
            pending: String::new(),
            pending_sync: false,
            order: BTreeSet::new(),
            decisions_seen: HashSet::new(),
            writable: readable,
        };
        if fresh {
            changes.write(&format!("{MAGIC} {}\n", hex::encode(key)));
            changes.flush(true);
        }
        changes
    }

    /// The time an answer given now carries (its `responseDate`): `now_ms`, or the latest stamp
    /// if that is later; and no change seen after this call is stamped earlier. A request that
    /// read the clock and then waited for another to be answered would otherwise stamp what it
    /// sees with its own earlier time, before the other's `responseDate`, which a harvester
    /// takes as its next `from`, and the change would never be harvested.
    pub fn answered_at(&mut self, now_ms: i64) -> i64 {
        self.last_stamp = self.last_stamp.max(now_ms);
        self.last_stamp
    }

    /// The key of this node's resumption tokens.
    pub fn key(&self) -> &[u8; 32] {
        &self.key
    }

    /// Reads what the journal gained since the last call, and the erasures by decision the
    /// charter gained, stamping them `now_ms` (or later: stamps never go back).
    pub fn follow(&mut self, store: &Store, now_ms: i64) -> Result<(), StoreError> {
        while !self.follow_some(store, now_ms, usize::MAX)? {}
        Ok(())
    }

    /// [`Changes::follow`] in steps: reads at most `batches` runs of journal entries (up to
    /// 4,096 each), so that a caller can let go of the store between steps (a node's first
    /// reading of a large journal would otherwise hold writers back); true once it reached the
    /// journal's end (and then read the charter's erasures too). What is not read yet is stamped
    /// when it is: later, which a harvester never misses.
    pub fn follow_some(
        &mut self,
        store: &Store,
        now_ms: i64,
        batches: usize,
    ) -> Result<bool, StoreError> {
        let mut stamped = false;
        let mut reached_end = false;
        for _ in 0..batches {
            // Reads stop at the file's marks, so each is checked against the journal.
            let (limit, listed) = match self.marks.front() {
                Some(&(n, _, s)) if n > self.entries => (
                    usize::try_from(n - self.entries).map_or(READ_BATCH, |l| l.min(READ_BATCH)),
                    Some(s),
                ),
                _ => (READ_BATCH, None),
            };
            let (payloads, next) = match store.signed_from(self.offset, limit) {
                Ok(read) => read,
                Err(e) => {
                    // What this step saw before the error is kept all the same.
                    self.flush(false);
                    return Err(e);
                }
            };
            if payloads.is_empty() {
                reached_end = true;
                break;
            }
            for payload in &payloads {
                let ordinal = self.entries;
                self.entries += 1;
                let Ok(signed) = SignedRecord::decode(payload) else {
                    continue;
                };
                let Ok(header) = Header::decode(&signed.header) else {
                    continue;
                };
                // The stamp: the file's, else now.
                let stamp = listed.unwrap_or(now_ms).max(self.last_stamp);
                stamped |= listed.is_none();
                self.last_stamp = stamp;
                self.apply(store, &signed, &header, entry_pos(ordinal), stamp);
            }
            self.offset = next;
            // A mark that does not match (another journal) ends the replay: what follows is
            // stamped now.
            if let Some(&(n, off, _)) = self.marks.front()
                && n <= self.entries
            {
                self.marks.pop_front();
                if n != self.entries || off != self.offset {
                    warn!("OAI-PMH datestamps do not match the journal; stamping the rest now");
                    self.marks.clear();
                }
            }
        }
        if reached_end && !self.marks.is_empty() {
            // The journal is shorter than the file says (a restored backup, say).
            warn!("OAI-PMH datestamps list more than the journal holds; stamping what comes now");
            self.marks.clear();
        }
        if stamped {
            let line = format!("j {} {} {}\n", self.entries, self.offset, self.last_stamp);
            self.write(&line);
        }
        if !reached_end {
            self.flush(false);
            return Ok(false);
        }
        let decided: Vec<RecordId> = store
            .charter()
            .erased_by_decisions()
            .keys()
            .filter(|id| !self.decisions_seen.contains(*id))
            .copied()
            .collect();
        for id in decided {
            self.decisions_seen.insert(id);
            let (pos, stamp) = match self.listed_decisions.get(&id).copied() {
                Some((at, s, n)) => self.listed_between(at, s, n),
                None => {
                    self.new_between(now_ms, |entries, s, n| format!("e {id} {entries} {s} {n}"))
                }
            };
            self.touch(&id, pos, stamp);
        }
        self.follow_keys(store, now_ms);
        self.flush(false);
        Ok(true)
    }

    /// A change between entries the file lists (seen after `at` entries, the `n`th there, stamped
    /// `stamp`): its position; later changes are stamped no earlier (and come after it: `between`
    /// started past every listed change).
    fn listed_between(&mut self, at: u64, stamp: i64, n: u64) -> (u64, i64) {
        self.last_stamp = self.last_stamp.max(stamp);
        (between_pos(at, n), stamp)
    }

    /// A change between entries seen now: its position and stamp, listed in the file by the line
    /// `line(entries, stamp, n)` gives.
    fn new_between(
        &mut self,
        now_ms: i64,
        line: impl FnOnce(u64, i64, u64) -> String,
    ) -> (u64, i64) {
        if self.between.0 != self.entries {
            self.between = (self.entries, 0);
        }
        let n = self.between.1;
        self.between.1 = n.saturating_add(1);
        let s = now_ms.max(self.last_stamp);
        self.last_stamp = s;
        let text = line(self.entries, s, n);
        self.write(&format!("{text}\n"));
        (between_pos(self.entries, n), s)
    }

    /// Keys whose last valid seq changed (a rotation, revocation, suspension or its end): the
    /// items where that changes what counts are stamped as changed, first as the file lists
    /// (a restart), then any change not seen before, now.
    fn follow_keys(&mut self, store: &Store, now_ms: i64) {
        for (key, last, at, stamp, n) in std::mem::take(&mut self.listed_keys) {
            let (pos, stamp) = self.listed_between(at, stamp, n);
            self.key_changed(&key, last, pos, stamp);
        }
        let changed: Vec<(PublicKey, Option<u64>)> = store
            .governance()
            .state()
            .key_last_seqs()
            .into_iter()
            .filter(|(k, last)| self.key_last.get(k).copied().flatten() != *last)
            .collect();
        for (key, last) in changed {
            let shown = last.map_or_else(|| "-".to_owned(), |l| l.to_string());
            let (pos, s) = self.new_between(now_ms, |entries, s, n| {
                format!("k {key} {shown} {entries} {s} {n}")
            });
            self.key_changed(&key, last, pos, s);
        }
    }

    /// `key`'s last valid seq became `last`: every item of it whose original, amendments or
    /// retractions lie between the old and the new last seq moves to `pos` and `stamp`.
    fn key_changed(&mut self, key: &PublicKey, last: Option<u64>, pos: u64, stamp: i64) {
        let before = self.key_last.insert(*key, last).flatten();
        let (lo, hi) = match (before, last) {
            (None, None) => return,
            (Some(a), Some(b)) if a == b => return,
            (Some(a), Some(b)) => (a.min(b), Some(a.max(b))),
            (Some(a), None) | (None, Some(a)) => (a, None),
        };
        let between = |seq: u64| seq > lo && hi.is_none_or(|h| seq <= h);
        let touched: Vec<RecordId> = self
            .items
            .values()
            .filter(|i| i.author == *key)
            .filter(|i| {
                between(i.seq)
                    || i.amendments.iter().any(|(q, _)| between(*q))
                    || i.retractions.iter().any(|(q, _)| between(*q))
            })
            .map(|i| i.id)
            .collect();
        for id in touched {
            self.touch(&id, pos, stamp);
        }
    }

    /// One journal entry at position `pos`, stamped `stamp`.
    fn apply(&mut self, store: &Store, signed: &SignedRecord, header: &Header, pos: u64, s: i64) {
        let id = signed.id();
        if header.kind.is_content() {
            let member = store
                .charter()
                .member_by_key(&header.author)
                .map(|m| m.code.clone())
                .unwrap_or_default();
            let item = Item {
                id,
                kind: header.kind,
                member,
                author: header.author,
                seq: header.seq,
                amendments: Vec::new(),
                retractions: Vec::new(),
                pos,
                stamp_ms: s,
            };
            if let Some(old) = self.items.insert(id, item) {
                self.order.remove(&(old.pos, id));
            }
            self.order.insert((pos, id));
            return;
        }
        if !matches!(
            header.kind,
            Kind::Amendment | Kind::Retraction | Kind::Erasure
        ) {
            return;
        }
        // A change: which item it changes is in its body; an erased amendment's or retraction's
        // body is gone, and the file names its item.
        let decoded = record::decode_stored(&signed.encode(), store.charter()).ok();
        if header.kind == Kind::Erasure {
            for target in decoded.map(|r| r.body.erases()).unwrap_or_default() {
                self.touch(&target, pos, s);
            }
            return;
        }
        let Some(target) = decoded
            .and_then(|r| r.body.target())
            .or_else(|| self.part_of.get(&id).copied())
        else {
            return;
        };
        if let Some(item) = self.items.get_mut(&target) {
            match header.kind {
                Kind::Amendment => item.amendments.push((header.seq, id)),
                _ => item.retractions.push((header.seq, id)),
            }
            self.part_of.insert(id, target);
            if self.parts_listed.insert(id) {
                self.write(&format!("p {id} {target}\n"));
                self.pending_sync = true;
            }
        }
        self.touch(&target, pos, s);
    }

    /// Moves item `id`, or the item that `id` amends or retracts, (if held) to `pos` and `stamp`,
    /// if later.
    fn touch(&mut self, id: &RecordId, pos: u64, stamp: i64) {
        let id = *self.part_of.get(id).unwrap_or(id);
        let id = &id;
        if let Some(item) = self.items.get_mut(id)
            && pos > item.pos
        {
            self.order.remove(&(item.pos, *id));
            item.pos = pos;
            item.stamp_ms = item.stamp_ms.max(stamp);
            self.order.insert((pos, *id));
        }
    }

    /// Adds `text` to the lines [`Changes::flush`] writes.
    fn write(&mut self, text: &str) {
        if self.writable {
            self.pending.push_str(text);
        }
    }

    /// Appends the lines written since the last flush (or, if `create`, makes the file of them),
    /// syncing them to the disk if a `p` line is among them.
    fn flush(&mut self, create: bool) {
        if self.pending.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.pending);
        let sync = std::mem::take(&mut self.pending_sync);
        let opened = if create {
            std::fs::File::create(&self.file)
        } else {
            std::fs::OpenOptions::new().append(true).open(&self.file)
        };
        let written = opened.and_then(|mut f| {
            f.write_all(text.as_bytes())?;
            if sync { f.sync_data() } else { Ok(()) }
        });
        if let Err(e) = written {
            warn!(file = %self.file.display(), error = %e,
                "cannot write OAI-PMH datestamps; they are given again after a restart");
            self.writable = false;
        }
    }

    /// Item `id`, if it is one.
    pub fn item(&self, id: &RecordId) -> Option<&Item> {
        self.items.get(id)
    }

    /// The items after position `after` (exclusive; `None`: from the start), in order.
    pub fn after(&self, after: Option<(u64, RecordId)>) -> impl Iterator<Item = &Item> + '_ {
        let range = match after {
            Some(k) => self
                .order
                .range((std::ops::Bound::Excluded(k), std::ops::Bound::Unbounded)),
            None => self.order.range(..),
        };
        range.filter_map(|(_, id)| self.items.get(id))
    }

    /// The number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there is no item.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The earliest datestamp (the first item's in the order, whose stamps never go back).
    pub fn earliest(&self) -> Option<i64> {
        self.after(None).next().map(|i| i.stamp_ms)
    }
}
