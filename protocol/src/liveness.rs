//! Peer liveness as sans-IO state: which connections went silent, and when to dial a lost peer
//! again.
//!
//! [`Liveness`] watches connections. The node pings every peer on every connection; a connection
//! whose pings have gone unanswered for [`LivenessConfig::silent_after_ms`] is reported by
//! [`Liveness::poll_silent`], and the node closes it. An open TCP connection says nothing about
//! the peer behind it: a cut in the middle of the path, or a paused process, leaves it open for
//! as long as TCP keeps retransmitting (many minutes).
//!
//! [`Redial`] decides when to dial a peer that is not connected: the configured bootstrap peers
//! always, peers that were lost for a while. Each failed dial doubles the wait, from
//! [`RedialConfig::first_ms`] up to [`RedialConfig::max_ms`], and every wait is jittered (drawn
//! from its upper half) so that peers that lost each other at the same moment do not dial in
//! lock step. A lost peer that is not a bootstrap peer is forgotten after
//! [`RedialConfig::forget_after_ms`] of failed dials (Kademlia may find it again).
//!
//! Neither reads a clock nor draws randomness: every input carries `now_ms`, and the jitter comes
//! from a caller's random `u64`. The order of calls, for a driver, is the one of [`crate::sync`]:
//! feed events with the `handle_*` methods; call `handle_timeout` when `poll_timeout` says; drain
//! the `poll_*` outputs.
//!
//! ```
//! use hubnet_protocol::liveness::{Liveness, LivenessConfig, Reason, Redial, RedialConfig};
//!
//! let mut live = Liveness::new(LivenessConfig { silent_after_ms: 5_000, check_every_ms: 1_000 });
//! live.handle_opened("conn-1", 0);
//! live.handle_answer(&"conn-1", 900);
//! live.handle_timeout(1_000);
//! assert!(live.poll_silent().is_none());
//! for now in (2_000..=6_000).step_by(1_000) {
//!     live.handle_timeout(now);
//! }
//! let silent = live.poll_silent().expect("silent for 5 s");
//! assert_eq!((silent.conn, silent.silent_for_ms), ("conn-1", 5_100));
//!
//! let mut redial = Redial::new(RedialConfig::default());
//! redial.handle_lost("peer-a", 0, 0);
//! let first = RedialConfig::default().first_ms;
//! redial.handle_timeout(first, 0);
//! assert_eq!(redial.poll_dial(first), Some(("peer-a", Reason::Lost)));
//! ```

use std::collections::{BTreeMap, VecDeque};

/// The settings of [`Liveness`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LivenessConfig {
    /// How long a connection may go without a ping answer before it is reported silent.
    pub silent_after_ms: i64,
    /// How often the driver checks (at most this long between [`Liveness::handle_timeout`]
    /// calls; [`Liveness::poll_timeout`] never asks for more). A gap between checks longer than
    /// twice this means that this node itself stood still (paused, starved of CPU): that time is
    /// not counted against its peers.
    pub check_every_ms: i64,
}

impl Default for LivenessConfig {
    fn default() -> Self {
        Self {
            silent_after_ms: 5_000,
            check_every_ms: 1_000,
        }
    }
}

/// A connection reported silent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Silent<C> {
    /// The connection.
    pub conn: C,
    /// How long its last answer (or its opening) is past.
    pub silent_for_ms: i64,
}

/// Watches connections for ping answers. `C` identifies a connection.
#[derive(Debug, Clone)]
pub struct Liveness<C> {
    config: LivenessConfig,
    conns: BTreeMap<C, Watch>,
    last_check_ms: Option<i64>,
    silent: VecDeque<Silent<C>>,
}

#[derive(Debug, Clone, Copy)]
struct Watch {
    /// When it last answered a ping (or opened), as this watcher counts time.
    last_seen_ms: i64,
    /// Already reported silent.
    reported: bool,
}

impl<C: Ord + Clone> Liveness<C> {
    /// Watches nothing yet.
    pub fn new(config: LivenessConfig) -> Self {
        Self {
            config,
            conns: BTreeMap::new(),
            last_check_ms: None,
            silent: VecDeque::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &LivenessConfig {
        &self.config
    }

    /// How many connections are watched.
    pub fn len(&self) -> usize {
        self.conns.len()
    }

    /// Whether no connection is watched.
    pub fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }

    /// A connection opened; its time starts now.
    pub fn handle_opened(&mut self, conn: C, now_ms: i64) {
        self.conns.insert(
            conn,
            Watch {
                last_seen_ms: now_ms,
                reported: false,
            },
        );
        self.last_check_ms.get_or_insert(now_ms);
    }

    /// A ping on `conn` was answered.
    pub fn handle_answer(&mut self, conn: &C, now_ms: i64) {
        if let Some(w) = self.conns.get_mut(conn) {
            w.last_seen_ms = w.last_seen_ms.max(now_ms);
            w.reported = false;
        }
    }

    /// A connection closed (or is being closed): it is no longer watched.
    pub fn handle_closed(&mut self, conn: &C) {
        self.conns.remove(conn);
        self.silent.retain(|s| s.conn != *conn);
    }

    /// Checks every connection at `now_ms`.
    pub fn handle_timeout(&mut self, now_ms: i64) {
        if let Some(last) = self.last_check_ms {
            let gap = now_ms.saturating_sub(last);
            if gap > self.config.check_every_ms.saturating_mul(2) {
                // This node stood still: the peers were not watched meanwhile, and their answers
                // may be waiting unread. The stall does not count.
                let stalled = gap.saturating_sub(self.config.check_every_ms);
                for w in self.conns.values_mut() {
                    w.last_seen_ms = w.last_seen_ms.saturating_add(stalled).min(now_ms);
                }
            }
        }
        self.last_check_ms = Some(now_ms);
        for (conn, w) in &mut self.conns {
            let silent_for_ms = now_ms.saturating_sub(w.last_seen_ms);
            if !w.reported && silent_for_ms >= self.config.silent_after_ms {
                w.reported = true;
                self.silent.push_back(Silent {
                    conn: conn.clone(),
                    silent_for_ms,
                });
            }
        }
    }

    /// The next connection found silent, to be closed.
    pub fn poll_silent(&mut self) -> Option<Silent<C>> {
        self.silent.pop_front()
    }

    /// When [`Self::handle_timeout`] is due: at the next regular check, or earlier if a
    /// connection turns silent before. `None` while nothing is watched.
    pub fn poll_timeout(&self) -> Option<i64> {
        let last = self.last_check_ms?;
        let regular = last.saturating_add(self.config.check_every_ms);
        self.conns
            .values()
            .filter(|w| !w.reported)
            .map(|w| w.last_seen_ms.saturating_add(self.config.silent_after_ms))
            .min()
            .map_or((!self.conns.is_empty()).then_some(regular), |expiry| {
                Some(expiry.min(regular))
            })
    }
}

/// The settings of [`Redial`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedialConfig {
    /// The wait before the first dial after a peer was lost (jittered into its upper half).
    pub first_ms: i64,
    /// The longest wait between two dials of one peer (jittered into its upper half).
    pub max_ms: i64,
    /// A dial whose outcome is not reported within this long counts as failed.
    pub dial_timeout_ms: i64,
    /// A lost peer that is not a bootstrap peer is forgotten after failing this long.
    pub forget_after_ms: i64,
}

impl Default for RedialConfig {
    fn default() -> Self {
        Self {
            first_ms: 1_000,
            max_ms: 3_000,
            dial_timeout_ms: 10_000,
            forget_after_ms: 10 * 60 * 1_000,
        }
    }
}

impl RedialConfig {
    /// The wait after `failures` consecutive failed dials: `first_ms` doubled per failure up to
    /// `max_ms`, then drawn from its upper half by `random` (`[w/2, w]`).
    pub fn delay_ms(&self, failures: u32, random: u64) -> i64 {
        let first = self.first_ms.max(1);
        let max = self.max_ms.max(first);
        let full = first
            .checked_shl(failures.min(32))
            .filter(|d| *d > 0)
            .map_or(max, |d| d.min(max));
        let half = full / 2;
        let span = u64::try_from(full - half).unwrap_or(0) + 1;
        half + i64::try_from(random % span).unwrap_or(0)
    }
}

/// Why a peer is dialled: what the node reports when [`Redial`] says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// A configured bootstrap peer.
    Bootstrap,
    /// A peer that was connected before.
    Lost,
}

/// A peer [`Redial`] tracks.
#[derive(Debug, Clone, Copy)]
struct Target {
    bootstrap: bool,
    state: State,
    /// Dials failed since it was last connected.
    failures: u32,
    /// When it was last connected (lost since), or added.
    since_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Connected,
    Waiting { at_ms: i64 },
    Due,
    Dialing { since_ms: i64 },
}

/// One peer's redial state, for display and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    /// Dials failed since it was last connected.
    pub failures: u32,
    /// When the next dial is due (`None`: connected, or a dial is under way).
    pub next_ms: Option<i64>,
}

/// Decides when to dial peers that are not connected. `P` identifies a peer.
#[derive(Debug, Clone)]
pub struct Redial<P> {
    config: RedialConfig,
    peers: BTreeMap<P, Target>,
    due: VecDeque<P>,
}

impl<P: Ord + Clone> Redial<P> {
    /// Tracks no peer yet.
    pub fn new(config: RedialConfig) -> Self {
        Self {
            config,
            peers: BTreeMap::new(),
            due: VecDeque::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &RedialConfig {
        &self.config
    }

    /// A bootstrap peer: dialled at once, and again whenever it is not connected, for as long as
    /// the node runs.
    pub fn add_bootstrap(&mut self, peer: P, now_ms: i64) {
        let t = self.peers.entry(peer.clone()).or_insert(Target {
            bootstrap: true,
            state: State::Waiting { at_ms: now_ms },
            failures: 0,
            since_ms: now_ms,
        });
        t.bootstrap = true;
    }

    /// Whether `peer` is tracked (bootstrap, or lost and not yet forgotten).
    pub fn is_tracked(&self, peer: &P) -> bool {
        self.peers.contains_key(peer)
    }

    /// The state of a tracked peer.
    pub fn pending(&self, peer: &P) -> Option<Pending> {
        self.peers.get(peer).map(|t| Pending {
            failures: t.failures,
            next_ms: match t.state {
                State::Waiting { at_ms } => Some(at_ms),
                State::Due => Some(i64::MIN),
                State::Connected | State::Dialing { .. } => None,
            },
        })
    }

    /// `peer` is connected (by our dial or theirs): its failures are forgotten.
    pub fn handle_connected(&mut self, peer: &P) {
        if let Some(t) = self.peers.get_mut(peer) {
            t.state = State::Connected;
            t.failures = 0;
        }
        self.due.retain(|p| p != peer);
    }

    /// `peer` was connected and no longer is: it is dialled again after the first wait. Returns
    /// that wait.
    pub fn handle_lost(&mut self, peer: P, now_ms: i64, random: u64) -> i64 {
        let delay = self.config.delay_ms(0, random);
        let t = self.peers.entry(peer.clone()).or_insert(Target {
            bootstrap: false,
            state: State::Connected,
            failures: 0,
            since_ms: now_ms,
        });
        t.state = State::Waiting {
            at_ms: now_ms.saturating_add(delay),
        };
        t.failures = 0;
        t.since_ms = now_ms;
        self.due.retain(|p| *p != peer);
        delay
    }

    /// Stops tracking `peer` (it belongs to another network, say). A bootstrap peer stays.
    pub fn forget(&mut self, peer: &P) {
        if self.peers.get(peer).is_some_and(|t| !t.bootstrap) {
            self.peers.remove(peer);
            self.due.retain(|p| p != peer);
        }
    }

    /// A dial of `peer` failed. Returns the wait before the next one, or `None` if the peer is
    /// not waiting for a dial's outcome (connected meanwhile, or forgotten now).
    pub fn handle_dial_failed(&mut self, peer: &P, now_ms: i64, random: u64) -> Option<i64> {
        let t = self.peers.get_mut(peer)?;
        if !matches!(t.state, State::Dialing { .. }) {
            return None;
        }
        t.failures = t.failures.saturating_add(1);
        if !t.bootstrap && now_ms.saturating_sub(t.since_ms) >= self.config.forget_after_ms {
            self.peers.remove(peer);
            return None;
        }
        let delay = self.config.delay_ms(t.failures, random);
        t.state = State::Waiting {
            at_ms: now_ms.saturating_add(delay),
        };
        Some(delay)
    }

    /// The node has no live peer: bootstrap peers that are waiting are dialled now. Returns how
    /// many waits this cuts short (a wait that ends at `now_ms` is over anyway).
    pub fn handle_isolated(&mut self, now_ms: i64) -> usize {
        let mut n = 0;
        for t in self.peers.values_mut() {
            if let State::Waiting { at_ms } = &mut t.state
                && t.bootstrap
                && *at_ms > now_ms
            {
                *at_ms = now_ms;
                n += 1;
            }
        }
        n
    }

    /// Moves the peers whose wait is over to the dial queue; a dial without an outcome for
    /// `dial_timeout_ms` counts as failed.
    pub fn handle_timeout(&mut self, now_ms: i64, random: u64) {
        let timed_out: Vec<P> = self
            .peers
            .iter()
            .filter(|(_, t)| {
                matches!(t.state, State::Dialing { since_ms }
                    if now_ms.saturating_sub(since_ms) >= self.config.dial_timeout_ms)
            })
            .map(|(p, _)| p.clone())
            .collect();
        for p in timed_out {
            self.handle_dial_failed(&p, now_ms, random);
        }
        for (p, t) in &mut self.peers {
            if matches!(t.state, State::Waiting { at_ms } if at_ms <= now_ms) {
                t.state = State::Due;
                self.due.push_back(p.clone());
            }
        }
    }

    /// The next peer to dial, with why; it is then waiting for the dial's outcome
    /// ([`Self::handle_connected`] or [`Self::handle_dial_failed`]), from `now_ms`.
    pub fn poll_dial(&mut self, now_ms: i64) -> Option<(P, Reason)> {
        while let Some(p) = self.due.pop_front() {
            if let Some(t) = self.peers.get_mut(&p)
                && t.state == State::Due
            {
                t.state = State::Dialing { since_ms: now_ms };
                let reason = if t.bootstrap {
                    Reason::Bootstrap
                } else {
                    Reason::Lost
                };
                return Some((p, reason));
            }
        }
        None
    }

    /// When [`Self::handle_timeout`] is due next, if anything waits.
    pub fn poll_timeout(&self) -> Option<i64> {
        self.peers
            .values()
            .filter_map(|t| match t.state {
                State::Waiting { at_ms } => Some(at_ms),
                State::Dialing { since_ms } => {
                    Some(since_ms.saturating_add(self.config.dial_timeout_ms))
                }
                State::Connected | State::Due => None,
            })
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live() -> Liveness<u32> {
        Liveness::new(LivenessConfig {
            silent_after_ms: 5_000,
            check_every_ms: 1_000,
        })
    }

    /// Checks every `check_every_ms` from `from` to `to` (inclusive), returning what went silent.
    fn run(l: &mut Liveness<u32>, from: i64, to: i64) -> Vec<(u32, i64)> {
        let mut out = Vec::new();
        let mut now = from;
        while now <= to {
            l.handle_timeout(now);
            while let Some(s) = l.poll_silent() {
                out.push((s.conn, now));
            }
            now += l.config().check_every_ms;
        }
        out
    }

    #[test]
    fn a_connection_that_answers_is_never_silent() {
        let mut l = live();
        l.handle_opened(1, 0);
        let mut now = 0;
        while now < 60_000 {
            // Answers every 1.2 s, some of them 4 s late.
            now += if now % 10_000 < 1_200 { 4_000 } else { 1_200 };
            assert!(run(&mut l, now - 1_000, now).is_empty(), "at {now}");
            l.handle_answer(&1, now);
        }
    }

    #[test]
    fn a_silent_connection_is_reported_once_after_the_timeout() {
        let mut l = live();
        l.handle_opened(1, 0);
        l.handle_opened(2, 0);
        l.handle_answer(&1, 1_000);
        l.handle_answer(&2, 1_000);
        // 2 keeps answering, 1 stops.
        let mut silent = Vec::new();
        for now in (2_000..20_000).step_by(1_000) {
            l.handle_answer(&2, now);
            silent.extend(run(&mut l, now, now));
        }
        assert_eq!(silent, vec![(1, 6_000)]);
        // Closing it stops the watch; the other is untouched.
        l.handle_closed(&1);
        assert_eq!(l.len(), 1);
    }

    #[test]
    fn closing_a_connection_drops_only_its_own_report() {
        let config = LivenessConfig {
            silent_after_ms: 3_000,
            check_every_ms: 500,
        };
        let mut l = Liveness::new(config);
        assert_eq!(l.config(), &config);
        assert!(l.is_empty());
        assert_eq!(l.len(), 0);
        for conn in [1, 2, 3] {
            l.handle_opened(conn, 0);
        }
        assert!(!l.is_empty());
        assert_eq!(l.len(), 3);
        // All three go silent at the same check; 2 is closed before its report is read.
        for now in (500..=3_000).step_by(500) {
            l.handle_timeout(now);
        }
        l.handle_closed(&2);
        assert_eq!(l.len(), 2);
        let reported: Vec<u32> = std::iter::from_fn(|| l.poll_silent())
            .map(|s| s.conn)
            .collect();
        assert_eq!(reported, vec![1, 3]);
    }

    #[test]
    fn a_connection_that_never_answers_is_silent_from_its_opening() {
        let mut l = live();
        l.handle_opened(7, 10_000);
        assert_eq!(run(&mut l, 10_000, 20_000), vec![(7, 15_000)]);
    }

    #[test]
    fn the_timeout_is_the_next_check_or_the_first_expiry() {
        let mut l = live();
        assert_eq!(l.poll_timeout(), None);
        l.handle_opened(1, 0);
        assert_eq!(l.poll_timeout(), Some(1_000));
        for now in [1_000, 2_000, 3_000, 4_000, 4_500] {
            l.handle_timeout(now);
        }
        assert_eq!(l.poll_timeout(), Some(5_000));
        l.handle_timeout(5_000);
        assert!(l.poll_silent().is_some());
        // Reported: only the regular check is left.
        assert_eq!(l.poll_timeout(), Some(6_000));
        l.handle_closed(&1);
        assert_eq!(l.poll_timeout(), None);
    }

    #[test]
    fn a_stall_of_this_node_is_not_counted_against_its_peers() {
        let mut l = live();
        l.handle_opened(1, 0);
        l.handle_answer(&1, 1_000);
        assert!(run(&mut l, 1_000, 2_000).is_empty());
        // Nothing ran for 60 s (SIGSTOP, say): the peer's answers wait unread.
        assert!(run(&mut l, 62_000, 62_000).is_empty());
        // Its answer is read now and the watch goes on.
        l.handle_answer(&1, 62_100);
        assert!(run(&mut l, 63_000, 66_000).is_empty());
        // A peer that really is silent is still found, a full timeout later.
        assert_eq!(run(&mut l, 67_000, 80_000), vec![(1, 67_100 + 900)]);
    }

    #[test]
    fn an_answer_after_being_reported_rearms_the_watch() {
        let mut l = live();
        l.handle_opened(1, 0);
        assert_eq!(run(&mut l, 0, 6_000), vec![(1, 5_000)]);
        l.handle_answer(&1, 6_500);
        assert_eq!(run(&mut l, 7_000, 12_000), vec![(1, 12_000)]);
    }

    fn redial() -> Redial<&'static str> {
        Redial::new(RedialConfig {
            first_ms: 1_000,
            max_ms: 30_000,
            dial_timeout_ms: 10_000,
            forget_after_ms: 600_000,
        })
    }

    /// Drives `r` from `now` on, failing every dial at once; returns the dial times of `peer`
    /// until `to`.
    fn dials(
        r: &mut Redial<&'static str>,
        peer: &'static str,
        mut now: i64,
        to: i64,
        random: &mut impl FnMut() -> u64,
    ) -> Vec<i64> {
        let mut out = Vec::new();
        while now <= to {
            r.handle_timeout(now, random());
            while let Some((p, _)) = r.poll_dial(now) {
                if p == peer {
                    out.push(now);
                }
                r.handle_dial_failed(&p, now, random());
            }
            match r.poll_timeout() {
                Some(t) => now = t.max(now + 1),
                None => break,
            }
        }
        out
    }

    #[test]
    fn delays_double_up_to_the_cap_within_their_upper_half() {
        let c = RedialConfig {
            first_ms: 1_000,
            max_ms: 30_000,
            ..RedialConfig::default()
        };
        for (failures, full) in [
            (0, 1_000),
            (1, 2_000),
            (2, 4_000),
            (3, 8_000),
            (4, 16_000),
            (5, 30_000),
            (6, 30_000),
            (40, 30_000),
            (u32::MAX, 30_000),
        ] {
            assert_eq!(c.delay_ms(failures, 0), full / 2, "failures {failures}");
            assert_eq!(c.delay_ms(failures, u64::MAX), {
                let span = (full - full / 2) as u64 + 1;
                full / 2 + (u64::MAX % span) as i64
            });
            for r in [1u64, 977, 123_456_789, u64::MAX / 3] {
                let d = c.delay_ms(failures, r);
                assert!((full / 2..=full).contains(&d), "failures {failures}: {d}");
            }
        }
    }

    #[test]
    fn a_doubling_that_overflows_waits_the_longest() {
        // 2^32 doubled 31 times wraps to a negative i64, and 32 times to 0: both are past any
        // cap, not a wait of 0 or less.
        let c = RedialConfig {
            first_ms: 1 << 32,
            max_ms: i64::MAX,
            ..RedialConfig::default()
        };
        assert_eq!(c.delay_ms(30, 0), (1 << 62) / 2);
        assert_eq!(c.delay_ms(31, 0), i64::MAX / 2);
        assert_eq!(c.delay_ms(32, 0), i64::MAX / 2);
    }

    #[test]
    fn a_change_to_one_peer_leaves_the_others_due() {
        let redial = || {
            let r = redial();
            assert_eq!(
                r.config(),
                &RedialConfig {
                    first_ms: 1_000,
                    max_ms: 30_000,
                    dial_timeout_ms: 10_000,
                    forget_after_ms: 600_000,
                }
            );
            r
        };
        type Change = fn(&mut Redial<&'static str>);
        let changes: [(&str, Change); 3] = [
            ("connected", |r| r.handle_connected(&"a")),
            ("lost again", |r| {
                r.handle_lost("a", 1_000, 0);
            }),
            ("forgotten", |r| r.forget(&"a")),
        ];
        for (what, change) in changes {
            let mut r = redial();
            r.handle_lost("a", 0, 0);
            r.handle_lost("b", 0, 0);
            // Both waits are over: both are due, "a" first.
            r.handle_timeout(1_000, 0);
            change(&mut r);
            assert_eq!(r.poll_dial(1_000), Some(("b", Reason::Lost)), "a {what}");
            assert_eq!(r.poll_dial(1_000), None, "a {what}");
        }
    }

    #[test]
    fn a_lost_peer_is_redialled_with_growing_waits_then_forgotten() {
        let mut r = redial();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut random = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        assert_eq!(r.handle_lost("a", 0, 0), 500);
        let times = dials(&mut r, "a", 0, 3_600_000, &mut random);
        let gaps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        assert!((500..=1_000).contains(&times[0]));
        for (i, g) in gaps.iter().enumerate() {
            let full = (1_000i64 << (i + 1).min(20)).min(30_000);
            assert!((full / 2..=full).contains(g), "gap {i}: {g}");
        }
        // Forgotten once 10 minutes of failures are over: no dial after that.
        let last = *times.last().expect("dialled");
        assert!((600_000..=630_000).contains(&last), "last dial at {last}");
        assert!(!r.is_tracked(&"a"));
    }

    #[test]
    fn a_bootstrap_peer_is_dialled_at_once_and_never_forgotten() {
        let mut r = redial();
        r.add_bootstrap("b", 0);
        let times = dials(&mut r, "b", 0, 3_600_000, &mut || 0);
        assert_eq!(times[0], 0);
        assert!(r.is_tracked(&"b"));
        // At the cap (the lower half with this random input): one dial each 15 s to the end.
        let late: Vec<_> = times.windows(2).skip(10).map(|w| w[1] - w[0]).collect();
        assert!(late.iter().all(|g| *g == 15_000), "{late:?}");
        assert!(*times.last().expect("dials") >= 3_585_000);
        // Forgetting does not remove it.
        r.forget(&"b");
        assert!(r.is_tracked(&"b"));
    }

    #[test]
    fn connecting_resets_the_back_off() {
        let mut r = redial();
        r.add_bootstrap("b", 0);
        let _ = dials(&mut r, "b", 0, 100_000, &mut || 0);
        assert!(r.pending(&"b").expect("tracked").failures > 5);
        r.handle_connected(&"b");
        assert_eq!(
            r.pending(&"b"),
            Some(Pending {
                failures: 0,
                next_ms: None
            })
        );
        assert_eq!(r.poll_timeout(), None);
        assert_eq!(r.handle_lost("b", 200_000, 0), 500);
        assert_eq!(r.poll_timeout(), Some(200_500));
    }

    #[test]
    fn a_dial_without_outcome_times_out_as_a_failure() {
        let mut r = redial();
        r.handle_lost("a", 0, 0);
        r.handle_timeout(500, 0);
        assert_eq!(r.poll_dial(500), Some(("a", Reason::Lost)));
        assert_eq!(r.poll_timeout(), Some(10_500));
        r.handle_timeout(10_500, 0);
        let p = r.pending(&"a").expect("tracked");
        assert_eq!(p.failures, 1);
        assert_eq!(p.next_ms, Some(11_500));
        // A late failure report for that dial is not counted twice.
        assert_eq!(r.handle_dial_failed(&"a", 10_600, 0), None);
        assert_eq!(r.pending(&"a").expect("tracked").failures, 1);
    }

    #[test]
    fn an_isolated_node_dials_its_bootstrap_peers_now() {
        let mut r = redial();
        r.add_bootstrap("b1", 0);
        r.add_bootstrap("b2", 0);
        let _ = dials(&mut r, "b1", 0, 100_000, &mut || 0);
        r.handle_lost("lost", 100_000, 0);
        assert_eq!(r.handle_isolated(100_001), 2);
        r.handle_timeout(100_001, 0);
        let mut now_due = Vec::new();
        while let Some((p, why)) = r.poll_dial(100_001) {
            now_due.push((p, why));
        }
        now_due.sort_unstable();
        assert_eq!(
            now_due,
            vec![("b1", Reason::Bootstrap), ("b2", Reason::Bootstrap)]
        );
    }

    #[test]
    fn isolation_counts_the_waits_it_cuts_short() {
        let mut r = redial();
        r.add_bootstrap("ends now", 5_000);
        r.add_bootstrap("later", 6_000);
        assert_eq!(r.handle_isolated(5_000), 1);
        for peer in ["ends now", "later"] {
            assert_eq!(r.pending(&peer).expect("tracked").next_ms, Some(5_000));
        }
    }

    #[test]
    fn a_connected_or_forgotten_peer_is_not_dialled() {
        let mut r = redial();
        r.handle_lost("a", 0, 0);
        r.handle_lost("c", 0, 0);
        r.handle_timeout(1_000, 0);
        r.handle_connected(&"a");
        r.forget(&"c");
        assert_eq!(r.poll_dial(1_000), None);
        assert_eq!(r.poll_timeout(), None);
    }
}
