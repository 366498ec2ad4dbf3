//! The hand-over between the ingest worker's two stages: one place holding what the verify stage
//! has finished and the store stage has not yet taken.
//!
//! While the store stage is busy (a group commit, its `fdatasync`), what the verify stage finishes
//! meanwhile joins what is already waiting, up to a limit of records, instead of waiting behind
//! it. The store stage's next group then takes everything finished while it was storing. With a
//! channel of one batch, a publish that arrived during a group commit waited for the batch
//! already handed over to be stored first, and then for its own: three group commits' time under
//! load, and groups about two thirds of the size (publishing 9-15% slower; BENCHMARKS.md,
//! "Publishing").
//!
//! An item that does not merge (a control job, a barrier) waits until the place is empty, so the
//! order of the items is kept. Bounded: past the limit the verify stage waits, as before. When the
//! store stage ends, what waits is dropped at once (its replies fail, a control job's `done` is
//! gone), as a channel's buffer was when its receiver went.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// Work that can join work of its kind waiting before it.
pub(super) trait Merge: Sized {
    /// The records it holds, or `None` if it must be taken on its own (a barrier).
    fn records(&self) -> Option<usize>;
    /// Appends `later` (which came after `self`) to `self`, or gives it back if the two do not
    /// merge.
    fn merge(&mut self, later: Self) -> Result<(), Self>;
}

/// The place between the stages. The verify stage [`put`](Handover::put)s, the store stage
/// [`take`](Handover::take)s; each tells the other when it ends, through a guard that also runs
/// when its thread panics.
pub(super) struct Handover<T> {
    state: Mutex<State<T>>,
    changed: Condvar,
    /// Most records waiting at once.
    limit: usize,
}

struct State<T> {
    waiting: Option<T>,
    /// The records of `waiting`.
    records: usize,
    /// Nothing more will be put.
    putter_gone: bool,
    /// Nothing more will be taken.
    taker_gone: bool,
    /// Puts waiting for room.
    putters_waiting: usize,
}

/// The store stage is gone: what was put will never be taken.
#[derive(Debug)]
pub(super) struct TakerGone;

impl<T> Handover<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // Poisoned only by a panic in `Merge::merge` (a bug): the worker then stops anyway (its
        // `run` resumes the verify stage's panic), and the jobs of a half-merged batch left
        // without a verdict are answered as not processed.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T: Merge> Handover<T> {
    pub(super) fn new(limit: usize) -> Self {
        Handover {
            state: Mutex::new(State {
                waiting: None,
                records: 0,
                putter_gone: false,
                taker_gone: false,
                putters_waiting: 0,
            }),
            changed: Condvar::new(),
            limit,
        }
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, State<T>>) -> MutexGuard<'a, State<T>> {
        self.changed
            .wait(guard)
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Hands `item` over: joins the work waiting if both merge and the records stay within the
    /// limit, else waits until the place is empty. Fails only once the taker is gone.
    pub(super) fn put(&self, item: T) -> Result<(), TakerGone> {
        let records = item.records();
        let mut item = Some(item);
        let mut state = self.lock();
        while let Some(next) = item.take() {
            if state.taker_gone {
                return Err(TakerGone);
            }
            let room = records.is_some_and(|n| state.records + n <= self.limit);
            match state.waiting.as_mut() {
                None => {
                    state.waiting = Some(next);
                    state.records = records.unwrap_or(0);
                    self.changed.notify_all();
                }
                Some(waiting) if room && waiting.records().is_some() => match waiting.merge(next) {
                    Ok(()) => state.records += records.unwrap_or(0),
                    Err(back) => item = Some(back),
                },
                Some(_) => item = Some(next),
            }
            if item.is_some() {
                state.putters_waiting += 1;
                state = self.wait(state);
                state.putters_waiting -= 1;
            }
        }
        Ok(())
    }

    /// The work waiting, once there is some; `None` once the putter is gone and nothing waits.
    pub(super) fn take(&self) -> Option<T> {
        let mut state = self.lock();
        loop {
            if let Some(item) = state.waiting.take() {
                state.records = 0;
                self.changed.notify_all();
                return Some(item);
            }
            if state.putter_gone {
                return None;
            }
            state = self.wait(state);
        }
    }

    /// How many puts are waiting for room.
    #[cfg(test)]
    fn putters_waiting(&self) -> usize {
        self.lock().putters_waiting
    }

    /// A guard that tells the taker, when dropped, that nothing more will be put.
    pub(super) fn putter(&self) -> Gone<'_, T> {
        Gone {
            handover: self,
            side: Side::Putter,
        }
    }

    /// A guard that tells the putter, when dropped, that nothing more will be taken, and drops
    /// what waits.
    pub(super) fn taker(&self) -> Gone<'_, T> {
        Gone {
            handover: self,
            side: Side::Taker,
        }
    }
}

/// Which side of a [`Handover`] a [`Gone`] guard stands for.
enum Side {
    Putter,
    Taker,
}

/// Marks one side gone when dropped (also when its thread unwinds from a panic).
pub(super) struct Gone<'a, T> {
    handover: &'a Handover<T>,
    side: Side,
}

impl<T> Drop for Gone<'_, T> {
    fn drop(&mut self) {
        let mut state = self.handover.lock();
        let left = match self.side {
            Side::Putter => {
                state.putter_gone = true;
                None
            }
            Side::Taker => {
                state.taker_gone = true;
                state.records = 0;
                state.waiting.take()
            }
        };
        self.handover.changed.notify_all();
        drop(state);
        // Outside the lock: dropping a batch drops its replies, which wakes whoever waits on them.
        drop(left);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::*;

    /// A batch of numbered records, or a barrier.
    #[derive(Debug, PartialEq)]
    enum Item {
        Batch(Vec<u32>),
        Barrier(u32),
    }

    impl Merge for Item {
        fn records(&self) -> Option<usize> {
            match self {
                Item::Batch(v) => Some(v.len()),
                Item::Barrier(_) => None,
            }
        }
        fn merge(&mut self, later: Self) -> Result<(), Self> {
            match (self, later) {
                (Item::Batch(v), Item::Batch(w)) => {
                    v.extend(w);
                    Ok(())
                }
                (_, later) => Err(later),
            }
        }
    }

    /// Runs `work` with the hand-over on a thread of its own.
    fn beside<T: Send + 'static>(
        h: &Arc<Handover<Item>>,
        work: impl FnOnce(&Handover<Item>) -> T + Send + 'static,
    ) -> std::thread::JoinHandle<T> {
        let h = Arc::clone(h);
        std::thread::spawn(move || work(&h))
    }

    /// Waits until `cond` holds, for at most five seconds.
    fn eventually(what: &str, cond: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !cond() {
            assert!(Instant::now() < deadline, "timed out waiting: {what}");
            std::thread::yield_now();
        }
    }

    #[test]
    fn batches_put_while_the_taker_is_busy_join_the_one_waiting() {
        let h = Handover::new(10);
        h.put(Item::Batch(vec![1, 2])).expect("put");
        h.put(Item::Batch(vec![3])).expect("put");
        h.put(Item::Batch(vec![4, 5, 6])).expect("put");
        assert_eq!(h.take(), Some(Item::Batch(vec![1, 2, 3, 4, 5, 6])));
        h.put(Item::Batch(vec![7])).expect("put");
        assert_eq!(
            h.take(),
            Some(Item::Batch(vec![7])),
            "a new group after a take"
        );
    }

    #[test]
    fn past_the_limit_the_putter_waits_for_the_taker() {
        let h = Arc::new(Handover::new(4));
        h.put(Item::Batch(vec![1, 2, 3])).expect("put");
        let putter = beside(&h, |h| h.put(Item::Batch(vec![4, 5])));
        // The second batch would make five records: it does not join, and its put waits.
        eventually("the put to wait", || h.putters_waiting() == 1);
        assert_eq!(h.take(), Some(Item::Batch(vec![1, 2, 3])));
        putter.join().expect("join").expect("put");
        assert_eq!(h.take(), Some(Item::Batch(vec![4, 5])));
    }

    #[test]
    fn a_barrier_neither_joins_nor_is_joined_and_keeps_its_place() {
        let h = Arc::new(Handover::new(100));
        h.put(Item::Batch(vec![1])).expect("put");
        let putter = beside(&h, |h| {
            h.put(Item::Barrier(2))?;
            h.put(Item::Batch(vec![3]))
        });
        eventually("the barrier to wait for room", || h.putters_waiting() == 1);
        assert_eq!(h.take(), Some(Item::Batch(vec![1])));
        assert_eq!(
            h.take(),
            Some(Item::Barrier(2)),
            "the barrier alone, in order"
        );
        assert_eq!(
            h.take(),
            Some(Item::Batch(vec![3])),
            "nothing joined the barrier"
        );
        putter.join().expect("join").expect("puts");
    }

    #[test]
    fn the_taker_ends_once_the_putter_is_gone_and_nothing_waits() {
        let h = Arc::new(Handover::new(8));
        let putter = beside(&h, |h| {
            let _gone = h.putter();
            h.put(Item::Batch(vec![1])).expect("put");
        });
        putter.join().expect("join");
        assert_eq!(
            h.take(),
            Some(Item::Batch(vec![1])),
            "what was put is still taken"
        );
        assert_eq!(h.take(), None);
    }

    #[test]
    fn a_putter_that_panics_still_ends_the_taker() {
        let h = Arc::new(Handover::<Item>::new(8));
        let taker = beside(&h, |h| h.take());
        let putter = beside(&h, |h| {
            let _gone = h.putter();
            panic!("a bug in the verify stage");
        });
        assert!(putter.join().is_err());
        assert_eq!(taker.join().expect("join"), None);
    }

    /// Tells when it is dropped.
    struct Tell(std::sync::mpsc::Sender<()>);

    impl Merge for Tell {
        fn records(&self) -> Option<usize> {
            None
        }
        fn merge(&mut self, later: Self) -> Result<(), Self> {
            Err(later)
        }
    }

    impl Drop for Tell {
        fn drop(&mut self) {
            let _ = self.0.send(());
        }
    }

    #[test]
    fn what_waits_is_dropped_once_the_taker_is_gone() {
        let h = Handover::new(8);
        let (tx, dropped) = std::sync::mpsc::channel();
        assert!(h.put(Tell(tx)).is_ok());
        assert!(dropped.try_recv().is_err(), "waiting, not dropped");
        drop(h.taker());
        assert!(dropped.try_recv().is_ok(), "dropped with the taker");
    }

    #[test]
    fn a_waiting_putter_fails_once_the_taker_is_gone() {
        let h = Arc::new(Handover::new(1));
        h.put(Item::Batch(vec![1])).expect("put");
        let putter = beside(&h, |h| h.put(Item::Batch(vec![2])));
        eventually("the putter to wait", || h.putters_waiting() == 1);
        drop(h.taker());
        assert!(putter.join().expect("join").is_err());
        assert!(
            h.put(Item::Batch(vec![3])).is_err(),
            "and so does any later put"
        );
    }
}
