//! Which peers are live, and dialling the ones that are not: the swarm task's side of
//! `hubnet_protocol::liveness`.
//!
//! Every connection is pinged (`ping_interval_ms`). [`Liveness`] reports a connection whose pings
//! went unanswered for `peer_timeout_ms`, and this module closes it: an open TCP connection proves
//! nothing about the peer behind it (a cut in the middle of the path or a paused process leaves it
//! open while TCP retransmits for minutes). A peer is *live* while at least one of its connections
//! is open and not being closed; only live peers are listed in `Shared::peers`, and the sync state
//! machine knows only live peers, so a peer is dropped from both the moment its connection is
//! judged dead, not when the close completes (a close can wait on a full send buffer).
//!
//! [`Redial`] says when to dial a peer that is not live: bootstrap peers always, other peers of
//! this network that were lost, until it forgets them. Dials go to the addresses the peer
//! announced through identify (or the one we dialled it at), and are allowed while an old
//! connection to it is still closing.
//!
//! Logged at `info`, one line per event: a peer connecting (peer id, member, address,
//! direction), a peer disconnecting (peer id, member, address, cause, when it is dialled again),
//! the node left without peers, a lost peer forgotten. Dial attempts and failures, and further
//! connections to a peer already live, are at `debug`. The member is the code a peer announces in
//! identify's agent version ([`agent_version`]): known from its first identify on, so a peer's
//! first connect line has none. It is what the peer says, not verified (a node's libp2p key is
//! not a member key), and only a code of the charter's members is taken.
//!
//! Time here is monotonic (milliseconds since the task started), so a wall-clock step never makes
//! a peer look silent; the times shown in the API are wall-clock.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use hubnet_protocol::liveness::{Liveness, LivenessConfig, Reason, Redial, RedialConfig};
use libp2p::core::ConnectedPoint;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{ConnectionError, ConnectionId, DialError};
use libp2p::{Multiaddr, PeerId, ping};
use tracing::{debug, info};

use super::Node;
use crate::now_ms;
use crate::shared::PeerStatus;

/// Most addresses remembered per peer for redialling.
const MAX_ADDRESSES: usize = 8;

/// The agent version this node announces through identify: `hubnet/VERSION`, and
/// ` member=CODE` for a member's node.
pub(super) fn agent_version(member: Option<&str>) -> String {
    let version = format!("hubnet/{}", env!("CARGO_PKG_VERSION"));
    match member {
        Some(code) => format!("{version} member={code}"),
        None => version,
    }
}

/// The member code an agent version announces ([`agent_version`]), if any.
fn announced_member(agent_version: &str) -> Option<&str> {
    agent_version
        .split_whitespace()
        .find_map(|w| w.strip_prefix("member="))
}

/// The liveness settings of a node.
#[derive(Debug, Clone, Copy)]
pub struct PeerConfig {
    /// How often each connection is pinged.
    pub ping_interval: Duration,
    /// How long a connection may leave pings unanswered.
    pub peer_timeout: Duration,
    /// The longest wait between two dials of a peer.
    pub redial_max: Duration,
}

impl PeerConfig {
    /// The libp2p connection timeout (dial, security and multiplexer handshakes): as long as a
    /// silent connection is tolerated, so a dial into a cut path fails and is tried again rather
    /// than hanging in TCP's SYN back-off.
    pub fn connection_timeout(&self) -> Duration {
        self.peer_timeout
    }

    fn liveness(&self) -> LivenessConfig {
        LivenessConfig {
            silent_after_ms: millis(self.peer_timeout),
            check_every_ms: millis(self.ping_interval),
        }
    }

    fn redial(&self) -> RedialConfig {
        let max_ms = millis(self.redial_max);
        RedialConfig {
            first_ms: RedialConfig::default().first_ms.min(max_ms),
            max_ms,
            dial_timeout_ms: millis(self.connection_timeout()).saturating_add(1_000),
            ..RedialConfig::default()
        }
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// One open connection.
#[derive(Debug)]
pub(super) struct Conn {
    peer: PeerId,
    address: Multiaddr,
    /// Being closed by this node: no longer counts for the peer being live.
    closing: bool,
}

/// The liveness state of the swarm task.
pub(super) struct Peers {
    started: Instant,
    liveness: Liveness<ConnectionId>,
    redial: Redial<PeerId>,
    conns: HashMap<ConnectionId, Conn>,
    /// Where peers of this network listen (from identify, or where we dialled them).
    addresses: HashMap<PeerId, Vec<Multiaddr>>,
    /// Bootstrap peers and their configured addresses.
    bootstrap: HashMap<PeerId, Multiaddr>,
    /// The member code each peer announced (kept as long as its addresses).
    members: HashMap<PeerId, String>,
    /// Whether the node had a live peer at the last check (to log and act on becoming isolated).
    had_peers: bool,
}

impl Peers {
    /// Tracks the bootstrap peers (each dialled at once).
    pub(super) fn new(config: &PeerConfig, bootstrap: &[(PeerId, Multiaddr)], own: PeerId) -> Self {
        let started = Instant::now();
        let mut redial = Redial::new(config.redial());
        let mut map = HashMap::new();
        for (peer, addr) in bootstrap {
            if *peer != own {
                redial.add_bootstrap(*peer, 0);
                map.insert(*peer, addr.clone());
            }
        }
        Self {
            started,
            liveness: Liveness::new(config.liveness()),
            redial,
            conns: HashMap::new(),
            addresses: HashMap::new(),
            bootstrap: map,
            members: HashMap::new(),
            had_peers: false,
        }
    }

    /// Milliseconds since the swarm task started (monotonic).
    pub(super) fn mono_ms(&self) -> i64 {
        millis(self.started.elapsed())
    }

    /// How long until [`Node::check_peers`] is due.
    pub(super) fn next_check(&self) -> Duration {
        let now = self.mono_ms();
        [self.liveness.poll_timeout(), self.redial.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
            .map_or(Duration::from_secs(3600), |t| {
                Duration::from_millis(u64::try_from(t.saturating_sub(now)).unwrap_or(0))
            })
    }

    /// Whether `peer` has an open connection that is not being closed.
    pub(super) fn is_live(&self, peer: &PeerId) -> bool {
        self.conns.values().any(|c| c.peer == *peer && !c.closing)
    }

    fn live_count(&self) -> usize {
        let mut live: Vec<&PeerId> = self
            .conns
            .values()
            .filter(|c| !c.closing)
            .map(|c| &c.peer)
            .collect();
        live.sort_unstable();
        live.dedup();
        live.len()
    }

    /// Remembers where a peer of this network listens (identify's listen addresses).
    pub(super) fn learn_addresses(&mut self, peer: PeerId, addrs: &[Multiaddr]) {
        let known = self.addresses.entry(peer).or_default();
        for a in addrs {
            // Only addresses that can be dialled from elsewhere, without the peer id (added at
            // dial time).
            let usable = match a.iter().next() {
                Some(Protocol::Ip4(ip)) => !ip.is_unspecified(),
                Some(Protocol::Ip6(ip)) => !ip.is_unspecified(),
                Some(Protocol::Dns(_) | Protocol::Dns4(_) | Protocol::Dns6(_)) => true,
                _ => false,
            };
            if usable && !known.contains(a) && known.len() < MAX_ADDRESSES {
                known.push(a.clone());
            }
        }
    }

    /// Drops what is remembered of peers that are neither live nor tracked for redial.
    pub(super) fn prune(&mut self) {
        let keep: Vec<PeerId> = self
            .addresses
            .keys()
            .filter(|p| self.is_live(p) || self.redial.is_tracked(p))
            .copied()
            .collect();
        self.addresses.retain(|p, _| keep.contains(p));
        self.members.retain(|p, _| keep.contains(p));
    }

    /// The member code `peer` announced, if any.
    fn member(&self, peer: &PeerId) -> Option<&str> {
        self.members.get(peer).map(String::as_str)
    }
}

fn random() -> u64 {
    getrandom::u64().unwrap_or(0x9e37_79b9_7f4a_7c15)
}

/// `out` for a connection this node dialled, `in` for one it accepted.
fn direction(outbound: bool) -> &'static str {
    if outbound { "out" } else { "in" }
}

impl Node {
    /// A connection is up: it is watched, and its peer becomes live if it was not.
    pub(super) fn on_connection_established(
        &mut self,
        peer: PeerId,
        id: ConnectionId,
        endpoint: &ConnectedPoint,
    ) {
        let now = self.peers.mono_ms();
        let was_live = self.peers.is_live(&peer);
        let address = endpoint.get_remote_address().clone();
        let outbound = endpoint.is_dialer();
        if outbound {
            let plain: Multiaddr = address
                .iter()
                .filter(|p| !matches!(p, Protocol::P2p(_)))
                .collect();
            self.peers.learn_addresses(peer, &[plain]);
        }
        let connected_at_ms = now_ms();
        self.peers.conns.insert(
            id,
            Conn {
                peer,
                address: address.clone(),
                closing: false,
            },
        );
        self.peers.liveness.handle_opened(id, now);
        self.peers.redial.handle_connected(&peer);
        self.peers.had_peers = true;
        let member = self.peers.member(&peer).map(str::to_owned);
        if was_live {
            debug!(%peer, member = member.as_deref(), %address, direction = direction(outbound), "another connection to a live peer");
            return;
        }
        info!(%peer, member = member.as_deref(), %address, direction = direction(outbound), "peer connected");
        self.shared.lock_peers().insert(
            peer,
            PeerStatus {
                peer_id: peer.to_string(),
                member,
                address: address.to_string(),
                direction: direction(outbound),
                connected_at_ms,
                last_seen_ms: connected_at_ms,
                rtt_ms: None,
                score: None,
                behind: None,
                ahead: None,
            },
        );
        // Summaries are exchanged on the new connection at once: after a heal, catching up
        // waits for nothing but the exchange.
        self.sync.handle_connected(peer, now_ms());
    }

    /// A connection closed. If this node was not already closing it and it was the peer's last
    /// live one, the peer is lost.
    pub(super) fn on_connection_closed(
        &mut self,
        peer: PeerId,
        id: ConnectionId,
        cause: Option<&ConnectionError>,
    ) {
        self.peers.liveness.handle_closed(&id);
        let Some(conn) = self.peers.conns.remove(&id) else {
            return;
        };
        if conn.closing {
            debug!(%peer, address = %conn.address, "a connection this node closed is closed");
            return;
        }
        if self.peers.is_live(&peer) {
            debug!(%peer, address = %conn.address, "one of a live peer's connections closed");
            return;
        }
        let cause = cause.map_or_else(|| "closed".to_owned(), ToString::to_string);
        self.peer_down(peer, &conn.address, &cause, true);
    }

    /// Identify told what `peer` runs: the member code it announces is remembered (for the log
    /// and the peer list) if it names a member of the charter.
    pub(super) fn learn_member(&mut self, peer: PeerId, agent_version: &str) {
        let Some(code) = announced_member(agent_version) else {
            return;
        };
        let Some(code) = self
            .shared
            .charter()
            .member_by_code(code)
            .map(|m| m.code.clone())
        else {
            debug!(%peer, agent_version, "a peer announces a member code the charter does not know");
            return;
        };
        if self.peers.member(&peer) != Some(code.as_str()) {
            debug!(%peer, member = %code, "peer identified");
        }
        if let Some(p) = self.shared.lock_peers().get_mut(&peer) {
            p.member = Some(code.clone());
        }
        self.peers.members.insert(peer, code);
    }

    /// A ping on a connection: an answer renews it; a failure (reported by libp2p after its
    /// second in a row) closes it.
    pub(super) fn on_ping(&mut self, event: ping::Event) {
        let ping::Event {
            peer,
            connection,
            result,
        } = event;
        match result {
            Ok(rtt) => {
                self.peers
                    .liveness
                    .handle_answer(&connection, self.peers.mono_ms());
                if let Some(p) = self.shared.lock_peers().get_mut(&peer) {
                    p.last_seen_ms = now_ms();
                    p.rtt_ms = Some((rtt.as_secs_f64() * 100_000.0).round() / 100.0);
                }
            }
            Err(ping::Failure::Unsupported) => {
                // Not a hubnet node (every one answers pings): its liveness cannot be told, so
                // it is not watched; its connection lives as long as libp2p keeps it.
                debug!(%peer, "a peer that does not answer pings; not watched");
                self.peers.liveness.handle_closed(&connection);
            }
            Err(e) => self.close_connection(connection, &format!("ping failed: {e}"), true),
        }
    }

    /// Closes a connection for `reason`; if it was its peer's last live one, the peer is lost
    /// (and dialled again if `redial`).
    pub(super) fn close_connection(&mut self, id: ConnectionId, reason: &str, redial: bool) {
        self.peers.liveness.handle_closed(&id);
        let Some(conn) = self.peers.conns.get_mut(&id) else {
            return;
        };
        if conn.closing {
            return;
        }
        conn.closing = true;
        let (peer, address) = (conn.peer, conn.address.clone());
        self.swarm.close_connection(id);
        if self.peers.is_live(&peer) {
            let member = self.peers.member(&peer);
            info!(%peer, member, %address, %reason, "closed a connection; the peer stays connected by another");
            return;
        }
        self.peer_down(peer, &address, reason, redial);
    }

    /// Closes every connection to `peer`, which is not dialled again.
    pub(super) fn drop_peer(&mut self, peer: PeerId, reason: &str) {
        self.peers.redial.forget(&peer);
        self.peers.addresses.remove(&peer);
        let ids: Vec<ConnectionId> = self
            .peers
            .conns
            .iter()
            .filter(|(_, c)| c.peer == peer)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.close_connection(id, reason, false);
        }
    }

    /// `peer` has no live connection any more: it leaves the list and the sync state machine, its
    /// requests in flight are forgotten (their late answers are ignored), and it is dialled again
    /// with back-off if it is a peer of this network we can reach.
    fn peer_down(&mut self, peer: PeerId, address: &Multiaddr, cause: &str, redial: bool) {
        let now = self.peers.mono_ms();
        self.shared.lock_peers().remove(&peer);
        self.sync.handle_disconnected(&peer, now_ms());
        self.asked.retain(|_, (p, _)| *p != peer);
        let reachable = self.peers.bootstrap.contains_key(&peer)
            || self
                .peers
                .addresses
                .get(&peer)
                .is_some_and(|a| !a.is_empty());
        let member = self.peers.member(&peer).map(str::to_owned);
        let member = member.as_deref();
        if redial && reachable {
            let wait = self.peers.redial.handle_lost(peer, now, random());
            info!(%peer, member, %address, %cause, redial_in_ms = wait, "peer disconnected");
        } else {
            info!(%peer, member, %address, %cause, "peer disconnected");
        }
        if self.peers.live_count() == 0 && self.peers.had_peers {
            self.peers.had_peers = false;
            let n = self.peers.redial.handle_isolated(now);
            info!(
                bootstrap_peers = self.peers.bootstrap.len(),
                dialled_now = n,
                "no live peer left; dialling the bootstrap peers"
            );
        }
    }

    /// A dial failed.
    pub(super) fn on_dial_failed(&mut self, peer: Option<PeerId>, error: &DialError) {
        let Some(peer) = peer else {
            debug!(%error, "a dial failed");
            return;
        };
        let now = self.peers.mono_ms();
        match self.peers.redial.handle_dial_failed(&peer, now, random()) {
            Some(wait) => debug!(%peer, %error, next_in_ms = wait, "a dial failed"),
            None if !self.peers.redial.is_tracked(&peer) && !self.peers.is_live(&peer) => {
                if self.peers.addresses.remove(&peer).is_some() {
                    info!(%peer, "a lost peer is forgotten after failing for too long");
                }
            }
            None => debug!(%peer, %error, "a dial failed"),
        }
    }

    /// Closes the connections gone silent and dials the peers whose wait is over.
    pub(super) fn check_peers(&mut self) {
        let now = self.peers.mono_ms();
        self.peers.liveness.handle_timeout(now);
        while let Some(silent) = self.peers.liveness.poll_silent() {
            let reason = format!(
                "no answer to pings for {:.1} s",
                silent.silent_for_ms as f64 / 1000.0
            );
            self.close_connection(silent.conn, &reason, true);
        }
        self.peers.redial.handle_timeout(now, random());
        while let Some((peer, why)) = self.peers.redial.poll_dial(now) {
            self.redial(peer, why);
        }
    }

    fn redial(&mut self, peer: PeerId, why: Reason) {
        let mut addrs = self.peers.addresses.get(&peer).cloned().unwrap_or_default();
        if let Some(a) = self.peers.bootstrap.get(&peer) {
            let plain: Multiaddr = a
                .iter()
                .filter(|p| !matches!(p, Protocol::P2p(_)))
                .collect();
            if !addrs.contains(&plain) {
                addrs.insert(0, plain);
            }
        }
        let opts = DialOpts::peer_id(peer)
            .addresses(addrs)
            .extend_addresses_through_behaviour()
            // An old connection may still be closing (its send buffer full): dial anyway.
            .condition(PeerCondition::NotDialing)
            .build();
        debug!(%peer, reason = ?why, "dialling");
        if let Err(e) = self.swarm.dial(opts) {
            match e {
                DialError::DialPeerConditionFalse(_) => {
                    // Already being dialled (by Kademlia, say): that dial's outcome counts.
                    debug!(%peer, "already being dialled");
                }
                e => self.on_dial_failed(Some(peer), &e),
            }
        }
    }
}
