//! The libp2p side of a node: one derived behaviour (identify, ping, Kademlia, gossipsub,
//! request-response sync) and one task that owns the swarm and drives the sync state machine of
//! `hubnet_protocol::sync`. This module translates; the decisions are the state machine's (what to
//! ask whom) and the worker's (what is valid).
//!
//! Every protocol name carries the network id, so two networks never mix:
//!
//! ```text
//! identify protocol version   /hubnet/<network id>/1
//! Kademlia                    /hubnet/<network id>/kad/1
//! gossipsub                   /hubnet/<network id>/meshsub/1.1.0
//!   topic of records          /hubnet/<network id>/records/1   (payload: SignedRecord)
//!   topic of fork proofs      /hubnet/<network id>/forks/1     (payload: ForkProof)
//!   topic of decisions        /hubnet/<network id>/governance/1 (payload: SignedDecision)
//!   topic of checkpoints      /hubnet/<network id>/checkpoints/1 (payload: SignedCheckpoint)
//! sync (request-response)     /hubnet/<network id>/sync/1      (SyncRequest / SyncResponse)
//! ```

pub mod codec;
mod peers;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures::StreamExt;
use hubnet_proto::v1::{
    self as pb, ForkProof, ForkRequest, RangeRequest, Records, SyncRequest, SyncResponse,
    sync_request, sync_response,
};
use hubnet_protocol::sync::{Action, RangeOutcome, Summary, Sync, SyncConfig};
use hubnet_protocol::{PublicKey, SignedRecord};
use libp2p::gossipsub::{self, IdentTopic, MessageAcceptance, MessageAuthenticity, MessageId};
use libp2p::identity::Keypair;
use libp2p::kad::{self, store::MemoryStore};
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, OutboundRequestId, ProtocolSupport, ResponseChannel};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, StreamProtocol, Swarm, identify, noise, ping, tcp, yamux};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, watch};
use tracing::{debug, info, warn};

use self::codec::SyncCodec;
pub use self::peers::PeerConfig;
use crate::config::Config;
use crate::metrics::RangeEnd;
use crate::now_ms;
use crate::shared::Shared;
use crate::worker::{Event as WorkerEvent, Job};

/// How often the peers' gossip scores are refreshed. (Dialling peers again is `peers.rs`'s.)
const MAINTENANCE: Duration = Duration::from_secs(3);
/// How often Kademlia looks for more peers.
const KAD_BOOTSTRAP: Duration = Duration::from_secs(60);
/// Most sync requests answered at once (each reads the store on a blocking thread); more are
/// refused, and the asking peer tries again later.
const MAX_SERVING: usize = 8;
/// How long a connection without traffic stays open (pings do not count as traffic).
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

pub use self::behaviour::{Behaviour, BehaviourEvent};

/// The derived behaviour, in a module of its own: the derive macro generates an event enum beside
/// it whose variants carry no docs.
#[allow(missing_docs)]
mod behaviour {
    use super::*;

    /// The behaviours of a hubnet node.
    #[derive(NetworkBehaviour)]
    pub struct Behaviour {
        pub(super) identify: identify::Behaviour,
        pub(super) ping: ping::Behaviour,
        pub(super) kad: kad::Behaviour<MemoryStore>,
        pub(super) gossipsub: gossipsub::Behaviour,
        pub(super) sync: request_response::Behaviour<SyncCodec>,
    }
}

/// The protocol names of one network.
#[derive(Debug, Clone)]
pub struct Names {
    /// Identify's protocol version: `/hubnet/<network id>/` and this release's protocol version.
    pub identify: String,
    /// `/hubnet/<network id>/`: what every version's identify protocol version starts with.
    network: String,
    /// Kademlia.
    pub kad: StreamProtocol,
    /// Gossipsub's protocol prefix.
    pub gossipsub: String,
    /// Sync.
    pub sync: StreamProtocol,
    /// The records topic.
    pub records: IdentTopic,
    /// The fork proofs topic.
    pub forks: IdentTopic,
    /// The governance decisions topic.
    pub governance: IdentTopic,
    /// The checkpoints topic.
    pub checkpoints: IdentTopic,
}

impl Names {
    /// The names for the network `network_id` (hex).
    pub fn new(network_id: &str) -> anyhow::Result<Self> {
        let p = |s: String| StreamProtocol::try_from_owned(s).context("bad protocol name");
        Ok(Self {
            identify: format!("/hubnet/{network_id}/1"),
            network: format!("/hubnet/{network_id}/"),
            kad: p(format!("/hubnet/{network_id}/kad/1"))?,
            gossipsub: format!("/hubnet/{network_id}/meshsub"),
            sync: p(format!("/hubnet/{network_id}/sync/1"))?,
            records: IdentTopic::new(format!("/hubnet/{network_id}/records/1")),
            forks: IdentTopic::new(format!("/hubnet/{network_id}/forks/1")),
            governance: IdentTopic::new(format!("/hubnet/{network_id}/governance/1")),
            checkpoints: IdentTopic::new(format!("/hubnet/{network_id}/checkpoints/1")),
        })
    }
}

impl Names {
    /// Whether identify's `protocol_version` is of this network, in any version of the protocol
    /// (`/hubnet/<network id>/<version>`).
    pub fn same_network(&self, protocol_version: &str) -> bool {
        protocol_version
            .strip_prefix(&self.network)
            .is_some_and(|version| !version.is_empty() && !version.contains('/'))
    }
}

/// The tuning of the network side, from the charter's limits.
#[derive(Debug, Clone, Copy)]
pub struct NetConfig {
    /// Largest gossip message: a fork proof of two records of the charter's maximum size.
    pub max_transmit_size: usize,
    /// The sync state machine's settings.
    pub sync: SyncConfig,
    /// Largest sync response accepted.
    pub max_response_bytes: usize,
}

impl NetConfig {
    /// Derived from the charter.
    pub fn for_charter(charter: &hubnet_protocol::Charter) -> Self {
        let max_record = usize::try_from(charter.limits().max_record_bytes).unwrap_or(usize::MAX);
        let sync = SyncConfig::default();
        Self {
            max_transmit_size: max_record.saturating_mul(2).saturating_add(4096),
            max_response_bytes: (sync.range_budget_bytes as usize)
                .saturating_add(max_record)
                .saturating_add(64 * 1024),
            sync,
        }
    }
}

/// The gossipsub message id of a payload: on the records topic the record id (SHA-256 of the
/// header bytes), on any other topic (fork proofs) or for an undecodable record SHA-256 of the
/// payload.
fn message_id(records: &gossipsub::TopicHash, m: &gossipsub::Message) -> MessageId {
    if m.topic == *records
        && let Ok(s) = SignedRecord::decode(&m.data)
        && !s.header.is_empty()
    {
        return MessageId::from(s.id().as_bytes().to_vec());
    }
    MessageId::from(Sha256::digest(&m.data).to_vec())
}

/// Gossipsub with peer scoring: an invalid message costs its sender far more than any amount of
/// good behaviour earns, so one forgery is enough to be graylisted.
fn gossipsub(
    key: &Keypair,
    names: &Names,
    net: &NetConfig,
) -> anyhow::Result<gossipsub::Behaviour> {
    let config = gossipsub::ConfigBuilder::default()
        .protocol_id_prefix(names.gossipsub.clone())
        // Gossipsub's own signature (over the whole message, record included) is not checked:
        // every record carries its author's signature, which the worker verifies before a
        // message is accepted, and the message id is the record's, so the envelope's signature
        // proves nothing the node relies on and cost a verification per message on every node
        // (BENCHMARKS.md, publishing). Messages are still signed when published, since nodes of
        // builds before this one run in strict mode and refuse unsigned ones
        // (docs/PROTOCOL.md §6.1).
        .validation_mode(gossipsub::ValidationMode::None)
        .validate_messages()
        .message_id_fn({
            let records = names.records.hash();
            move |m| message_id(&records, m)
        })
        .max_transmit_size(net.max_transmit_size)
        .heartbeat_interval(Duration::from_millis(700))
        .history_length(10)
        .duplicate_cache_time(Duration::from_secs(120))
        // Fewer duplicate copies (BENCHMARKS.md, amplification): a mesh of 4, the publisher
        // sends to its mesh rather than to every peer, and peers announce what they already
        // hold for any message of a record's size. Sync repairs whatever gossip misses.
        .mesh_n(4)
        .mesh_n_low(3)
        .mesh_n_high(6)
        .mesh_outbound_min(2)
        .flood_publish(false)
        .idontwant_message_size_threshold(256)
        .build()
        .map_err(|e| anyhow::anyhow!("gossipsub config: {e}"))?;
    let mut behaviour = gossipsub::Behaviour::new(MessageAuthenticity::Signed(key.clone()), config)
        .map_err(|e| anyhow::anyhow!("gossipsub: {e}"))?;
    let topic = gossipsub::TopicScoreParams {
        topic_weight: 1.0,
        time_in_mesh_weight: 0.01,
        time_in_mesh_quantum: Duration::from_secs(1),
        time_in_mesh_cap: 100.0,
        first_message_deliveries_weight: 1.0,
        first_message_deliveries_decay: 0.9,
        first_message_deliveries_cap: 50.0,
        // A quiet network delivers little; do not punish peers for it.
        mesh_message_deliveries_weight: 0.0,
        mesh_failure_penalty_weight: 0.0,
        invalid_message_deliveries_weight: -100.0,
        invalid_message_deliveries_decay: 0.99,
        ..Default::default()
    };
    let mut params = gossipsub::PeerScoreParams {
        // Members run few nodes, often behind one address in tests; colocation says nothing.
        ip_colocation_factor_weight: 0.0,
        ..Default::default()
    };
    params.topics.insert(names.records.hash(), topic.clone());
    params.topics.insert(names.forks.hash(), topic.clone());
    params.topics.insert(names.governance.hash(), topic.clone());
    params.topics.insert(names.checkpoints.hash(), topic);
    behaviour
        .with_peer_score(params, gossipsub::PeerScoreThresholds::default())
        .map_err(|e| anyhow::anyhow!("gossipsub peer scoring: {e}"))?;
    behaviour.subscribe(&names.records)?;
    behaviour.subscribe(&names.forks)?;
    behaviour.subscribe(&names.governance)?;
    behaviour.subscribe(&names.checkpoints)?;
    Ok(behaviour)
}

/// A built swarm with the names and settings it was built with.
pub struct Network {
    swarm: Swarm<Behaviour>,
    names: Names,
    net: NetConfig,
    peers: PeerConfig,
}

/// Builds the swarm and starts listening.
pub fn build(shared: &Shared, key: Keypair, config: &Config) -> anyhow::Result<Network> {
    let names = Names::new(&shared.charter().network_id().to_hex())?;
    let mut net = NetConfig::for_charter(&shared.charter());
    net.sync.pace = config.gossip_pace;
    let peers = PeerConfig {
        ping_interval: config.ping_interval,
        peer_timeout: config.peer_timeout,
        redial_max: config.redial_max,
    };
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )?
        .with_dns()?
        .with_bandwidth_metrics(
            &mut shared
                .metrics
                .registry
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
        .with_behaviour(
            |key| -> Result<Behaviour, Box<dyn std::error::Error + Send + std::marker::Sync>> {
                let peer_id = key.public().to_peer_id();
                let mut kad = kad::Behaviour::with_config(
                    peer_id,
                    MemoryStore::new(peer_id),
                    kad::Config::new(names.kad.clone()),
                );
                kad.set_mode(Some(kad::Mode::Server));
                Ok(Behaviour {
                    identify: identify::Behaviour::new(
                        identify::Config::new(names.identify.clone(), key.public())
                            .with_agent_version(peers::agent_version(shared.member.as_deref())),
                    ),
                    // Answers are awaited as long as a silent connection is tolerated: the
                    // liveness watch (peers.rs) closes a connection before libp2p would report
                    // its second failed ping in a row (the first one it keeps to itself).
                    ping: ping::Behaviour::new(
                        ping::Config::new()
                            .with_interval(peers.ping_interval)
                            .with_timeout(peers.peer_timeout),
                    ),
                    kad,
                    gossipsub: gossipsub(key, &names, &net)?,
                    sync: request_response::Behaviour::with_codec(
                        SyncCodec {
                            max_response_bytes: net.max_response_bytes,
                        },
                        [(names.sync.clone(), ProtocolSupport::Full)],
                        // No longer than the sync state machine waits, so that it never
                        // asks again while the first request could still be answered.
                        request_response::Config::default().with_request_timeout(
                            Duration::from_millis(
                                u64::try_from(net.sync.request_timeout_ms).unwrap_or(20_000),
                            ),
                        ),
                    ),
                })
            },
        )
        .map_err(|e| anyhow::anyhow!("building the libp2p behaviour: {e}"))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(IDLE_TIMEOUT))
        .with_connection_timeout(peers.connection_timeout())
        .build();
    for addr in &config.listen {
        swarm.listen_on(addr.clone()).with_context(|| {
            format!(
                "config {}: field `listen`: cannot listen on {addr}",
                config.path.display()
            )
        })?;
    }
    Ok(Network {
        swarm,
        names,
        net,
        peers,
    })
}

/// The socket address of an `/ip4/…/tcp/…` or `/ip6/…/tcp/…` multiaddr.
pub fn tcp_socket_addr(addr: &Multiaddr) -> Option<std::net::SocketAddr> {
    let mut it = addr.iter();
    let ip: std::net::IpAddr = match it.next()? {
        Protocol::Ip4(ip) => ip.into(),
        Protocol::Ip6(ip) => ip.into(),
        _ => return None,
    };
    match it.next()? {
        Protocol::Tcp(port) => Some((ip, port).into()),
        _ => None,
    }
}

/// Waits until every listen address is bound, so that a port in use is an error at start, not
/// a log line later.
pub async fn wait_listening(network: &mut Network, config: &Config) -> anyhow::Result<()> {
    let swarm = &mut network.swarm;
    let mut bound = std::collections::HashSet::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while bound.len() < config.listen.len() {
        let event = tokio::time::timeout_at(deadline, swarm.select_next_some())
            .await
            .map_err(|_| {
                anyhow::anyhow!(
                    "config {}: field `listen`: the addresses were not bound within 10 s",
                    config.path.display()
                )
            })?;
        match event {
            SwarmEvent::NewListenAddr {
                listener_id,
                address,
            } => {
                info!(address = %address.with(Protocol::P2p(*swarm.local_peer_id())), "listening");
                bound.insert(listener_id);
            }
            SwarmEvent::ListenerClosed {
                addresses,
                reason: Err(e),
                ..
            } => anyhow::bail!(
                "config {}: field `listen`: cannot listen on {addresses:?}: {e}",
                config.path.display()
            ),
            SwarmEvent::ListenerError { error, .. } => {
                anyhow::bail!("config {}: field `listen`: {error}", config.path.display())
            }
            _ => {}
        }
    }
    Ok(())
}

/// A request in flight.
#[derive(Debug, Clone, Copy)]
enum Asked {
    Summary,
    Range(PublicKey),
    Fork(PublicKey, u64),
    Decisions,
}

/// An answer read from the store, to be sent from the swarm task.
struct Reply {
    channel: ResponseChannel<SyncResponse>,
    response: SyncResponse,
}

/// The swarm task.
struct Node {
    swarm: Swarm<Behaviour>,
    shared: Arc<Shared>,
    names: Names,
    sync: Sync<PeerId>,
    jobs: mpsc::Sender<Job>,
    replies: mpsc::Sender<Reply>,
    asked: HashMap<OutboundRequestId, (PeerId, Asked)>,
    serving: Arc<tokio::sync::Semaphore>,
    peers: peers::Peers,
    range_budget: u32,
    /// Peers whose records (gossip, a range's answer, decisions) were dropped at a full ingest
    /// queue since sync last asked them again ([`Node::ask_after_drops`]).
    dropped: HashSet<PeerId>,
}

/// Runs the swarm until `stop` turns true.
pub async fn run(
    network: Network,
    shared: Arc<Shared>,
    bootstrap: Vec<Multiaddr>,
    jobs: mpsc::Sender<Job>,
    mut events: mpsc::Receiver<WorkerEvent>,
    mut stop: watch::Receiver<bool>,
    checkpoint_every: Duration,
) {
    let Network {
        mut swarm,
        names,
        net,
        peers,
    } = network;
    let summary = shared.read_store().summary();
    let (reply_tx, mut reply_rx) = mpsc::channel(64);
    let bootstrap: Vec<(PeerId, Multiaddr)> = bootstrap
        .into_iter()
        .filter_map(|a| match a.iter().last() {
            Some(Protocol::P2p(p)) => Some((p, a)),
            _ => None,
        })
        .collect();
    for (peer, addr) in &bootstrap {
        swarm.behaviour_mut().kad.add_address(peer, addr.clone());
    }
    let peers = peers::Peers::new(&peers, &bootstrap, *swarm.local_peer_id());
    let mut node = Node {
        swarm,
        sync: Sync::new(net.sync, summary, now_ms()),
        shared,
        names,
        jobs,
        replies: reply_tx,
        asked: HashMap::new(),
        serving: Arc::new(tokio::sync::Semaphore::new(MAX_SERVING)),
        peers,
        range_budget: net.sync.range_budget_bytes,
        dropped: HashSet::new(),
    };
    let mut maintenance = tokio::time::interval(MAINTENANCE);
    let mut kad_bootstrap = tokio::time::interval(KAD_BOOTSTRAP);
    let mut checkpoint = tokio::time::interval(checkpoint_every);
    let own_peer_id = node.swarm.local_peer_id().to_string();
    loop {
        let timeout = node
            .sync
            .poll_timeout()
            .map_or(Duration::from_secs(3600), |t| {
                Duration::from_millis(u64::try_from(t.saturating_sub(now_ms())).unwrap_or(0))
            });
        tokio::select! {
            event = node.swarm.select_next_some() => node.on_swarm(event),
            Some(event) = events.recv() => node.on_worker(event),
            Some(reply) = reply_rx.recv() => {
                if node.swarm.behaviour_mut().sync.send_response(reply.channel, reply.response).is_err() {
                    debug!("a sync answer could not be sent (the peer left)");
                }
            }
            () = tokio::time::sleep(timeout) => node.sync.handle_timeout(now_ms()),
            () = tokio::time::sleep(node.peers.next_check()) => node.check_peers(),
            _ = maintenance.tick() => node.maintain(),
            _ = kad_bootstrap.tick() => {
                let _ = node.swarm.behaviour_mut().kad.bootstrap();
            }
            _ = checkpoint.tick() => {
                // Best effort: a busy worker skips one; the next tick signs.
                let _ = node.jobs.try_send(Job::SignCheckpoint { peer_id: own_peer_id.clone() });
            }
            _ = stop.wait_for(|s| *s) => break,
        }
        node.ask_after_drops();
        node.act();
    }
    debug!("swarm task stopped");
}

impl Node {
    /// Once the ingest queue is at most half full again, tells sync about every peer whose
    /// records were dropped for want of room: it asks them for a fresh summary and plans the
    /// ranges that fetch what was dropped. Without this, a log's dropped tail (no later record
    /// shows the gap) waited for the next periodic exchange, up to 30 s (BENCHMARKS.md).
    fn ask_after_drops(&mut self) {
        if self.dropped.is_empty() || self.jobs.capacity() * 2 < self.jobs.max_capacity() {
            return;
        }
        for peer in std::mem::take(&mut self.dropped) {
            self.sync.handle_dropped(&peer);
        }
    }

    /// Performs what the sync state machine asks for.
    fn act(&mut self) {
        while let Some(action) = self.sync.poll_action() {
            let (peer, request, asked) = match action {
                Action::SendSummary { peer } => (
                    peer,
                    sync_request::Request::Heads(self.sync.local().to_proto()),
                    Asked::Summary,
                ),
                Action::RequestRange {
                    peer,
                    author,
                    from_seq,
                    byte_budget,
                } => (
                    peer,
                    sync_request::Request::Range(RangeRequest {
                        author: author.as_bytes().to_vec(),
                        from_seq,
                        byte_budget,
                    }),
                    Asked::Range(author),
                ),
                Action::RequestFork { peer, author, seq } => (
                    peer,
                    sync_request::Request::Fork(ForkRequest {
                        author: author.as_bytes().to_vec(),
                        seq,
                    }),
                    Asked::Fork(author, seq),
                ),
            };
            let id = self.swarm.behaviour_mut().sync.send_request(
                &peer,
                SyncRequest {
                    request: Some(request),
                },
            );
            self.asked.insert(id, (peer, asked));
        }
    }

    fn maintain(&mut self) {
        self.peers.prune();
        let scores: Vec<(PeerId, Option<f64>)> = {
            let g = &self.swarm.behaviour().gossipsub;
            self.shared
                .lock_peers()
                .keys()
                .map(|p| (*p, g.peer_score(p)))
                .collect()
        };
        let mut peers = self.shared.lock_peers();
        for (p, score) in scores {
            if let Some(s) = peers.get_mut(&p) {
                s.score = score;
            }
        }
    }

    fn on_swarm(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                info!(address = %address.with(Protocol::P2p(*self.swarm.local_peer_id())), "listening");
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                endpoint,
                ..
            } => self.on_connection_established(peer_id, connection_id, &endpoint),
            SwarmEvent::ConnectionClosed {
                peer_id,
                connection_id,
                cause,
                ..
            } => self.on_connection_closed(peer_id, connection_id, cause.as_ref()),
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                self.on_dial_failed(peer_id, &error);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Ping(event)) => self.on_ping(event),
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => {
                if !self.names.same_network(&info.protocol_version) {
                    info!(%peer_id, theirs = %info.protocol_version, "peer of another network; disconnecting");
                    self.drop_peer(peer_id, "a peer of another network");
                    return;
                }
                if info.protocol_version != self.names.identify {
                    // Another version of this network's protocol: kept; what it sends that this
                    // node does not understand is set aside (docs/PROTOCOL.md §6.5).
                    info!(%peer_id, theirs = %info.protocol_version, ours = %self.names.identify, "peer speaks another protocol version of this network; keeping it");
                }
                self.learn_member(peer_id, &info.agent_version);
                self.peers.learn_addresses(peer_id, &info.listen_addrs);
                for addr in info.listen_addrs {
                    self.swarm.behaviour_mut().kad.add_address(&peer_id, addr);
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Kad(kad::Event::RoutingUpdated {
                peer, ..
            })) if !self.swarm.is_connected(&peer) => {
                let _ = self.swarm.dial(peer);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            })) => self.on_gossip(propagation_source, message_id, message),
            SwarmEvent::Behaviour(BehaviourEvent::Sync(event)) => self.on_sync(event),
            _ => {}
        }
    }

    fn on_gossip(&mut self, peer: PeerId, msg_id: MessageId, message: gossipsub::Message) {
        let job = if message.topic == self.names.records.hash() {
            Job::Gossip {
                peer,
                msg_id: msg_id.clone(),
                bytes: message.data,
            }
        } else if message.topic == self.names.forks.hash() {
            Job::GossipFork {
                peer,
                msg_id: msg_id.clone(),
                bytes: message.data,
            }
        } else if message.topic == self.names.governance.hash() {
            Job::GossipDecision {
                peer,
                msg_id: msg_id.clone(),
                bytes: message.data,
            }
        } else if message.topic == self.names.checkpoints.hash() {
            Job::GossipCheckpoint {
                peer,
                msg_id: msg_id.clone(),
                bytes: message.data,
            }
        } else {
            // A topic this node does not know (a newer release's): set aside, no penalty.
            self.report(&msg_id, &peer, MessageAcceptance::Ignore);
            return;
        };
        if self.jobs.try_send(job).is_err() {
            // The worker is behind: drop without penalty; sync fetches it once there is room.
            self.shared.metrics.gossip_dropped.inc();
            self.dropped.insert(peer);
            self.report(&msg_id, &peer, MessageAcceptance::Ignore);
        }
    }

    fn report(&mut self, msg_id: &MessageId, peer: &PeerId, acceptance: MessageAcceptance) {
        let found = self
            .swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(msg_id, peer, acceptance);
        if !found {
            debug!(%msg_id, "validated a message that left the gossip cache");
        }
    }

    fn on_sync(&mut self, event: request_response::Event<SyncRequest, SyncResponse>) {
        use request_response::{Event, Message as M};
        match event {
            Event::Message {
                peer,
                message: M::Request {
                    request, channel, ..
                },
                ..
            } => self.on_request(peer, request, channel),
            Event::Message {
                peer,
                message:
                    M::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                let Some((_, asked)) = self.asked.remove(&request_id) else {
                    return;
                };
                self.on_response(peer, asked, response);
            }
            Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                let Some((_, asked)) = self.asked.remove(&request_id) else {
                    return;
                };
                debug!(%peer, %error, "sync request failed");
                self.failed(peer, asked);
            }
            Event::InboundFailure { peer, error, .. } => {
                debug!(%peer, %error, "answering a sync request failed");
            }
            Event::ResponseSent { .. } => {}
        }
    }

    fn failed(&mut self, peer: PeerId, asked: Asked) {
        match asked {
            Asked::Summary => {}
            Asked::Range(author) => {
                self.shared.metrics.range_ended(RangeEnd::Transport);
                self.sync
                    .handle_range_done(&peer, &author, RangeOutcome::Failed, now_ms());
            }
            Asked::Fork(author, seq) => self.sync.handle_fork_done(&peer, &author, seq, now_ms()),
            Asked::Decisions => {}
        }
    }

    fn on_response(&mut self, peer: PeerId, asked: Asked, response: SyncResponse) {
        match (asked, response.response) {
            (Asked::Summary, Some(sync_response::Response::Heads(h))) => self.on_summary(peer, &h),
            (Asked::Range(author), Some(sync_response::Response::Records(r))) => {
                if r.records.is_empty() {
                    // An answer holds at least one record (PROTOCOL.md §6.2): an empty one is the
                    // peer's fault, and is never excused as overtaken by gossip.
                    self.shared.metrics.range_ended(RangeEnd::Empty);
                    self.sync
                        .handle_range_done(&peer, &author, RangeOutcome::Failed, now_ms());
                    return;
                }
                let job = Job::Range {
                    peer,
                    author,
                    records: r.records,
                };
                if self.jobs.try_send(job).is_err() {
                    self.shared.metrics.range_ended(RangeEnd::WorkerBusy);
                    self.dropped.insert(peer);
                    self.sync
                        .handle_range_done(&peer, &author, RangeOutcome::Dropped, now_ms());
                }
            }
            (Asked::Decisions, Some(sync_response::Response::Decisions(d))) => {
                if !d.decisions.is_empty()
                    && self
                        .jobs
                        .try_send(Job::Decisions {
                            peer,
                            decisions: d.decisions,
                        })
                        .is_err()
                {
                    debug!(%peer, "worker busy; decisions asked again once there is room");
                    self.dropped.insert(peer);
                }
            }
            (Asked::Fork(author, seq), Some(sync_response::Response::Fork(p))) => {
                let proof = (!p.first.is_empty()).then_some(p);
                if self
                    .jobs
                    .try_send(Job::Fork {
                        peer,
                        author,
                        seq,
                        proof,
                    })
                    .is_err()
                {
                    self.sync.handle_fork_done(&peer, &author, seq, now_ms());
                }
            }
            (asked, _) => {
                warn!(%peer, "a sync answer of the wrong type");
                self.failed(peer, asked);
            }
        }
    }

    fn on_summary(&mut self, peer: PeerId, heads: &pb::Heads) {
        match Summary::from_proto(heads, &self.shared.charter()) {
            Ok(summary) => {
                if self.sync.local().wants_decisions_from(&summary) {
                    let id = self.swarm.behaviour_mut().sync.send_request(
                        &peer,
                        SyncRequest {
                            request: Some(sync_request::Request::Decisions(
                                pb::DecisionsRequest {},
                            )),
                        },
                    );
                    self.asked.insert(id, (peer, Asked::Decisions));
                }
                let (behind, ahead) = self.sync.local().lag(&summary);
                if let Some(p) = self.shared.lock_peers().get_mut(&peer) {
                    p.behind = Some(behind);
                    p.ahead = Some(ahead);
                }
                // The swarm task never waits for the store (the worker may hold it, for fork
                // evidence even through an fsync): if it is busy, no fork probe is made now, and
                // the next summary tries again.
                let shared = self.shared.clone();
                let id_at = move |a: &PublicKey, s: u64| {
                    shared
                        .try_read_store()
                        .and_then(|store| store.id_at(a, s).ok().flatten())
                };
                self.sync.handle_summary(peer, summary, now_ms(), &id_at);
            }
            Err(e) => warn!(%peer, error = %e, "an unusable summary"),
        }
    }

    fn on_request(
        &mut self,
        peer: PeerId,
        request: SyncRequest,
        channel: ResponseChannel<SyncResponse>,
    ) {
        match request.request {
            Some(sync_request::Request::Heads(h)) => {
                let response = SyncResponse {
                    response: Some(sync_response::Response::Heads(self.sync.local().to_proto())),
                };
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .sync
                    .send_response(channel, response);
                self.on_summary(peer, &h);
            }
            Some(sync_request::Request::Range(_) | sync_request::Request::Fork(_))
                if self.serving.available_permits() == 0 =>
            {
                // Dropping the channel tells the peer; it backs off and asks again later.
                debug!(%peer, "too many sync requests at once; one refused");
            }
            Some(sync_request::Request::Range(r)) => {
                let permit = self.serving.clone().try_acquire_owned().ok();
                let shared = self.shared.clone();
                let replies = self.replies.clone();
                let budget = r.byte_budget.min(self.range_budget) as usize;
                tokio::task::spawn_blocking(move || {
                    let _permit = permit;
                    let records = read_range(&shared, &r, budget);
                    let response = SyncResponse {
                        response: Some(sync_response::Response::Records(Records { records })),
                    };
                    let _ = replies.blocking_send(Reply { channel, response });
                });
            }
            Some(sync_request::Request::Fork(f)) => {
                let permit = self.serving.clone().try_acquire_owned().ok();
                let shared = self.shared.clone();
                let replies = self.replies.clone();
                tokio::task::spawn_blocking(move || {
                    let _permit = permit;
                    let proof = read_fork(&shared, &f).unwrap_or_default();
                    let response = SyncResponse {
                        response: Some(sync_response::Response::Fork(proof)),
                    };
                    let _ = replies.blocking_send(Reply { channel, response });
                });
            }
            Some(sync_request::Request::Decisions(_)) => {
                let decisions = self.shared.read_store().decisions_encoded();
                let response = SyncResponse {
                    response: Some(sync_response::Response::Decisions(pb::Decisions {
                        decisions,
                    })),
                };
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .sync
                    .send_response(channel, response);
            }
            None => {
                debug!(%peer, "an empty sync request");
            }
        }
    }

    fn on_worker(&mut self, event: WorkerEvent) {
        let now = now_ms();
        match event {
            WorkerEvent::Validated {
                peer,
                msg_id,
                acceptance,
                author,
            } => {
                // A valid record over its author's gossip budget is not forwarded (no penalty
                // for the sender): peers fetch it by sync.
                let acceptance = match author {
                    Some(author) if !self.sync.gossip_admits(author, now) => {
                        self.shared.metrics.gossip_held_back.inc();
                        MessageAcceptance::Ignore
                    }
                    _ => acceptance,
                };
                self.report(&msg_id, &peer, acceptance);
            }
            WorkerEvent::HeadMoved { author, head } => {
                self.sync.handle_local_head(author, head, now);
            }
            WorkerEvent::Announce { author, bytes } => {
                if self.sync.gossip_admits(author, now) {
                    self.publish(self.names.records.clone(), bytes);
                } else {
                    self.shared.metrics.gossip_held_back.inc();
                }
            }
            WorkerEvent::ForkFound { author, seq, proof } => {
                self.sync.handle_local_fork(author, seq);
                self.publish(self.names.forks.clone(), proof);
            }
            WorkerEvent::RangeDone {
                peer,
                author,
                outcome,
            } => {
                self.shared.metrics.range_ended(match outcome {
                    RangeOutcome::Stored => RangeEnd::Stored,
                    RangeOutcome::Nothing => RangeEnd::AllHeld,
                    RangeOutcome::Diverged => RangeEnd::Diverged,
                    RangeOutcome::Failed => RangeEnd::Invalid,
                    RangeOutcome::Dropped => RangeEnd::WorkerBusy,
                });
                self.sync.handle_range_done(&peer, &author, outcome, now);
            }
            WorkerEvent::ForkDone { peer, author, seq } => {
                self.sync.handle_fork_done(&peer, &author, seq, now);
            }
            WorkerEvent::Gap { peer, author, seq } => self.sync.handle_gap(peer, author, seq, now),
            WorkerEvent::AnnounceDecision(bytes) => {
                self.publish(self.names.governance.clone(), bytes);
            }
            WorkerEvent::Summary(summary) => self.sync.replace_local(*summary),
            WorkerEvent::AnnounceCheckpoint(bytes) => {
                self.publish(self.names.checkpoints.clone(), bytes);
            }
        }
    }

    fn publish(&mut self, topic: IdentTopic, bytes: Vec<u8>) {
        match self.swarm.behaviour_mut().gossipsub.publish(topic, bytes) {
            Ok(_) => {}
            // Alone, or a duplicate: peers get it by sync.
            Err(e) => debug!(error = %e, "gossip publish"),
        }
    }
}

/// Reads `author`'s records from `from_seq` on, up to `budget` bytes (at least one record).
fn read_range(shared: &Shared, r: &RangeRequest, budget: usize) -> Vec<Vec<u8>> {
    let Some(author) = author_of(&r.author) else {
        return Vec::new();
    };
    let store = shared.read_store();
    // Records are at least about 200 bytes: no more ids than the budget can hold are read.
    let ids = match store.log_limited(&author, r.from_seq, budget / 200 + 1) {
        Ok(ids) => ids,
        Err(e) => {
            warn!(error = %e, "reading a log for sync");
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    let mut used = 0usize;
    for (_, id) in ids {
        let Ok(Some(bytes)) = store.served_bytes(&id) else {
            break;
        };
        if !out.is_empty() && used + bytes.len() > budget {
            break;
        }
        used += bytes.len();
        out.push(bytes);
    }
    out
}

/// The author key of a request, if it is 32 bytes: only looked up in the store (which holds
/// members' keys alone), so a peer cannot make this node check points for it.
fn author_of(bytes: &[u8]) -> Option<PublicKey> {
    <[u8; 32]>::try_from(bytes)
        .ok()
        .map(PublicKey::from_bytes_unchecked)
}

fn read_fork(shared: &Shared, f: &ForkRequest) -> Option<ForkProof> {
    let author = author_of(&f.author)?;
    let (own, other) = shared.read_store().fork_proof(&author, f.seq).ok()??;
    Some(ForkProof {
        first: own.encode(),
        second: other.encode(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A peer of this network is kept whatever its protocol version (docs/PROTOCOL.md §6.5); a
    /// peer of another network, or that names none, is not.
    #[test]
    fn identify_tells_another_network_from_another_version() {
        let net = "ab".repeat(32);
        let names = Names::new(&net).unwrap();
        assert!(names.same_network(&names.identify));
        assert!(names.same_network(&format!("/hubnet/{net}/2")));
        assert!(!names.same_network(&format!("/hubnet/{}/1", "cd".repeat(32))));
        assert!(!names.same_network(&format!("/hubnet/{net}/")));
        assert!(!names.same_network(&format!("/hubnet/{net}/1/x")));
        assert!(!names.same_network("/ipfs/id/1.0.0"));
    }
}
