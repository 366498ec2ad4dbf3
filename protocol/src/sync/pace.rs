//! How many of one author's records a node sends into gossip: its own announcements (records
//! published on it or pushed to it) and its forwards of others', per author a bucket of
//! [`PaceConfig::burst`] records that refills at [`PaceConfig::per_second`].
//!
//! Gossip carries each record to every node as a message of its own, which suits records that
//! come one at a time. A burst from one key (a bulk import, or a stolen key pushing records as
//! fast as nodes take them, up to the charter's rate rule) is better fetched by sync: a range
//! answer carries hundreds of records in one message, verified as one batch and stored in one
//! group commit. So a record over its author's budget is stored as usual but not sent on; a
//! later record of the author that is sent shows its receivers a gap, which they fetch as a
//! range, and once the author has been quiet for [`PaceConfig::settle_ms`] the node offers its
//! summary to its peers, which fetch the tail of the burst the same way. A node that fetched
//! records by sync does the same, so that the tail also reaches nodes further away.
//!
//! This is a node's own policy, not a rule of validity: it changes when records travel and by
//! which path, never which records are valid or stored.

use std::collections::BTreeMap;

use crate::PublicKey;

/// Thousandths of a record: the unit the buckets count in, so that any rate refills exactly.
const MILLI: u64 = 1000;

/// The gossip budget of one author at one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaceConfig {
    /// Records of one author sent at once after a quiet spell.
    pub burst: u32,
    /// Records of one author sent per second once the burst is spent.
    pub per_second: u32,
    /// How long after the last record it held back, or fetched by sync, a node offers its
    /// summary to its peers.
    pub settle_ms: i64,
    /// How long after a record was held back a move of its author's head still leads to a
    /// summary (a record held back may be stored later: parked ahead of a gap, or waiting for
    /// the disk). After that the periodic summary exchange covers it.
    pub follow_ms: i64,
}

impl Default for PaceConfig {
    /// Above what a member publishes by hand, and what the propagation bench sends (about six
    /// records a second per author, in bursts well under 32); a tenth of what a key pushed into
    /// nodes as fast as they take it sends (a hundred to two hundred a second, BENCHMARKS.md
    /// "Flood"). A burst of 64 let a thief's first records crowd the others' out of the flood's
    /// first second.
    fn default() -> Self {
        Self {
            burst: 32,
            per_second: 10,
            settle_ms: 1000,
            follow_ms: 30_000,
        }
    }
}

/// One author's bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Records that may be sent, in thousandths, as of `at_ms`.
    milli: u64,
    at_ms: i64,
    /// When the summary is due that tells the peers of records held back or fetched by sync:
    /// the time of the last such record (or head move after it), until the summary is offered.
    offer_from: Option<i64>,
    /// When a record was last held back or fetched by sync.
    unannounced_at: Option<i64>,
}

impl Bucket {
    fn full(capacity: u64, now_ms: i64) -> Self {
        Self {
            milli: capacity,
            at_ms: now_ms,
            offer_from: None,
            unannounced_at: None,
        }
    }

    fn unannounced(&mut self, now_ms: i64) {
        self.offer_from = Some(now_ms);
        self.unannounced_at = Some(now_ms);
    }

    /// Refilled up to `now_ms` at `config`'s rate, to its burst at most. A clock that stepped
    /// back refills nothing, and the bucket refills from the new time on.
    fn refill(&mut self, config: &PaceConfig, now_ms: i64) {
        let elapsed = u64::try_from(now_ms.saturating_sub(self.at_ms)).unwrap_or(0);
        // `per_second` records a second is `per_second` thousandths a millisecond.
        self.milli = self
            .milli
            .saturating_add(elapsed.saturating_mul(u64::from(config.per_second)))
            .min(capacity(config));
        self.at_ms = now_ms;
    }
}

/// A full bucket of `config`, in thousandths.
fn capacity(config: &PaceConfig) -> u64 {
    u64::from(config.burst) * MILLI
}

/// Per-author gossip budgets. It reads no clock: every call carries `now_ms`.
#[derive(Debug, Clone)]
pub struct Pace {
    config: PaceConfig,
    authors: BTreeMap<PublicKey, Bucket>,
}

impl Pace {
    /// Budgets of `config`, every author's bucket full.
    pub fn new(config: PaceConfig) -> Self {
        Self {
            config,
            authors: BTreeMap::new(),
        }
    }

    /// `author`'s bucket, refilled up to `now_ms` (full if the author is new or forgotten).
    fn bucket(&mut self, author: PublicKey, now_ms: i64) -> &mut Bucket {
        let config = &self.config;
        let bucket = self
            .authors
            .entry(author)
            .or_insert_with(|| Bucket::full(capacity(config), now_ms));
        bucket.refill(config, now_ms);
        bucket
    }

    /// Whether a record of `author` may be sent into gossip now: if so, it is counted against
    /// the author's budget; if not, it is noted as held back.
    pub fn admit(&mut self, author: PublicKey, now_ms: i64) -> bool {
        let bucket = self.bucket(author, now_ms);
        let admitted = bucket.milli >= MILLI;
        if admitted {
            bucket.milli -= MILLI;
        } else {
            bucket.unannounced(now_ms);
        }
        admitted
    }

    /// Records of `author` reached this node by sync, not by gossip: its peers, some of which
    /// may be further from where they came from, hear of them by the summary offered once the
    /// author is quiet.
    pub fn fetched(&mut self, author: PublicKey, now_ms: i64) {
        self.bucket(author, now_ms).unannounced(now_ms);
    }

    /// `author`'s head moved here. Within `follow_ms` of a record held back or fetched, the
    /// summary waits for `settle_ms` after this move (or is due again, if it went out before):
    /// a record held back is in the summary only once it is stored.
    pub fn head_moved(&mut self, author: PublicKey, now_ms: i64) {
        let follow = self.config.follow_ms;
        if let Some(bucket) = self.authors.get_mut(&author)
            && bucket
                .unannounced_at
                .is_some_and(|at| now_ms < at.saturating_add(follow))
        {
            bucket.offer_from = Some(now_ms);
        }
    }

    /// Whether a summary should be offered to the peers now: some author's records were held
    /// back or fetched, and it has been quiet for `settle_ms` since. Each quiet spell answers
    /// true once. Authors whose bucket is full again and who have nothing left to follow are
    /// forgotten.
    pub fn settled(&mut self, now_ms: i64) -> bool {
        let config = &self.config;
        let mut due = false;
        self.authors.retain(|_, bucket| {
            bucket.refill(config, now_ms);
            if bucket
                .offer_from
                .is_some_and(|at| at.saturating_add(config.settle_ms) <= now_ms)
            {
                bucket.offer_from = None;
                due = true;
            }
            let followed = bucket
                .unannounced_at
                .is_some_and(|at| now_ms < at.saturating_add(config.follow_ms));
            bucket.offer_from.is_some() || followed || bucket.milli < capacity(config)
        });
        due
    }

    /// When [`Pace::settled`] is next due to answer true, if a summary is waiting.
    pub fn next_due(&self) -> Option<i64> {
        self.authors
            .values()
            .filter_map(|b| b.offer_from)
            .map(|at| at.saturating_add(self.config.settle_ms))
            .min()
    }

    /// Authors the budgets remember (the ones that sent records lately).
    pub fn authors(&self) -> usize {
        self.authors.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;

    fn key(n: u8) -> PublicKey {
        SecretKey::from_seed([n; 32]).public_key()
    }

    fn pace(burst: u32, per_second: u32) -> Pace {
        Pace::new(PaceConfig {
            burst,
            per_second,
            settle_ms: 1000,
            follow_ms: 5000,
        })
    }

    fn admitted(p: &mut Pace, author: PublicKey, n: usize, now_ms: i64) -> usize {
        (0..n).filter(|_| p.admit(author, now_ms)).count()
    }

    #[test]
    fn a_burst_is_sent_and_the_rest_is_held_back() {
        let mut p = pace(4, 2);
        assert_eq!(admitted(&mut p, key(1), 10, 0), 4);
        assert_eq!(p.next_due(), Some(1000));
    }

    #[test]
    fn the_bucket_refills_at_the_rate_exactly() {
        let mut p = pace(4, 2);
        assert_eq!(admitted(&mut p, key(1), 4, 0), 4);
        // Two a second: one every 500 ms, none a millisecond before.
        assert!(!p.admit(key(1), 499));
        assert!(p.admit(key(1), 500));
        assert!(!p.admit(key(1), 500));
        assert!(!p.admit(key(1), 999));
        assert!(p.admit(key(1), 1000));
        // A long pause refills the burst, not more.
        assert_eq!(admitted(&mut p, key(1), 10, 60_000), 4);
    }

    #[test]
    fn a_rate_that_does_not_divide_a_second_refills_exactly() {
        let mut p = pace(2, 3);
        assert_eq!(admitted(&mut p, key(1), 2, 0), 2);
        // 3 a second: a whole record after 334 ms (333 ms give 999 thousandths).
        assert!(!p.admit(key(1), 333));
        assert!(p.admit(key(1), 334));
        // The 2 thousandths left over count towards the next one.
        assert!(!p.admit(key(1), 666));
        assert!(p.admit(key(1), 667));
    }

    #[test]
    fn authors_have_budgets_of_their_own() {
        let mut p = pace(3, 1);
        assert_eq!(admitted(&mut p, key(1), 5, 0), 3);
        assert_eq!(admitted(&mut p, key(2), 5, 0), 3);
        assert_eq!(p.authors(), 2);
    }

    #[test]
    fn a_clock_that_steps_back_refills_nothing_then_refills_from_the_new_time() {
        let mut p = pace(2, 10);
        assert_eq!(admitted(&mut p, key(1), 2, 10_000), 2);
        assert!(!p.admit(key(1), 5_000));
        // Refilled from the time it stepped back to, not after the clock catches up.
        assert!(!p.admit(key(1), 5_099));
        assert!(p.admit(key(1), 5_100));
    }

    #[test]
    fn a_summary_is_offered_once_the_author_has_been_quiet_for_the_settle_time() {
        let mut p = pace(2, 1);
        assert!(!p.settled(0), "nothing held back");
        assert_eq!(admitted(&mut p, key(1), 2, 0), 2);
        assert!(!p.settled(5_000), "nothing held back");
        assert_eq!(p.next_due(), None);
        assert_eq!(admitted(&mut p, key(1), 3, 5_000), 2);
        // Another record held back later moves the time on.
        assert!(!p.admit(key(1), 5_400));
        assert_eq!(p.next_due(), Some(6_400));
        assert!(!p.settled(6_399));
        assert!(p.settled(6_400));
        // Once per spell.
        assert!(!p.settled(6_401));
        assert_eq!(p.next_due(), None);
    }

    #[test]
    fn a_head_move_after_a_hold_puts_the_summary_off_or_brings_it_again() {
        let mut p = pace(1, 1);
        assert!(p.admit(key(1), 0));
        assert!(!p.admit(key(1), 0));
        // The record held back is stored at 500 ms (after the disk, or its gap).
        p.head_moved(key(1), 500);
        assert_eq!(p.next_due(), Some(1_500));
        assert!(!p.settled(1_000));
        assert!(p.settled(1_500));
        // Stored after the summary went out: another follows.
        p.head_moved(key(1), 3_000);
        assert_eq!(p.next_due(), Some(4_000));
        assert!(p.settled(4_000));
        // Past the follow time, the periodic exchange covers it.
        p.head_moved(key(1), 5_000);
        assert_eq!(p.next_due(), None);
        // An author with nothing held back: nothing to follow.
        p.head_moved(key(2), 5_000);
        assert_eq!(p.next_due(), None);
    }

    #[test]
    fn records_fetched_by_sync_lead_to_a_summary_and_spend_no_budget() {
        let mut p = pace(2, 1);
        p.fetched(key(1), 100);
        assert_eq!(p.next_due(), Some(1_100));
        p.head_moved(key(1), 300);
        assert_eq!(p.next_due(), Some(1_300));
        assert_eq!(admitted(&mut p, key(1), 3, 300), 2);
        assert!(!p.settled(1_299));
        assert!(p.settled(1_300));
    }

    #[test]
    fn full_buckets_with_nothing_to_follow_are_forgotten() {
        let mut p = pace(2, 1);
        assert!(p.admit(key(1), 0));
        assert_eq!(admitted(&mut p, key(2), 3, 0), 2);
        assert!(!p.settled(999));
        assert_eq!(p.authors(), 2, "neither bucket is full yet");
        // key(1) is full again after a second; key(2), which held one back, is followed.
        assert!(p.settled(1_000));
        assert_eq!(p.authors(), 1);
        assert!(!p.settled(2_000));
        assert_eq!(p.authors(), 1, "full, but followed for 5 s");
        assert!(!p.settled(4_999));
        assert_eq!(p.authors(), 1);
        assert!(!p.settled(5_000));
        assert_eq!(p.authors(), 0);
        // A forgotten author starts with a full bucket.
        assert_eq!(admitted(&mut p, key(2), 3, 5_000), 2);
    }

    #[test]
    fn settling_keeps_what_each_bucket_has_refilled() {
        let mut p = pace(4, 1);
        assert_eq!(admitted(&mut p, key(1), 5, 0), 4);
        assert!(p.settled(2_500));
        // Two records refilled by 2,500 ms, and the half on the way counts on.
        assert_eq!(admitted(&mut p, key(1), 3, 2_500), 2);
        assert!(p.admit(key(1), 3_000));
    }

    #[test]
    fn a_budget_of_nothing_holds_every_record_back() {
        let mut p = pace(0, 0);
        assert_eq!(admitted(&mut p, key(1), 3, 0), 0);
        assert_eq!(admitted(&mut p, key(1), 3, 1_000_000), 0);
    }
}
