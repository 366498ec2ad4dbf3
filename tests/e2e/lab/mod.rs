//! The fault lab (issue 13, part 7): `hubnet run` processes, each in its own network namespace,
//! joined by a userspace forwarder that adds delay and loss ([`forwarder`]), under a seeded
//! schedule of faults: one-way and two-way partitions, SIGKILL and restart, heavy delay and loss.
//! A client publishes to random nodes during each fault and remembers what was acknowledged;
//! after each heal the lab times how long the nodes take to hold the same set, and at the end a
//! Jepsen-style set check counts acknowledged, lost, unexpected and recovered records.
//!
//! Needs root (namespaces, TUN devices). Without it the lab prints that it did not run, and fails
//! if `HUBNET_REQUIRE_LAB=1`. Settings (defaults make the short run of CI):
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `HUBNET_LAB_NODES` | 5 | nodes (each publishes as one sample member) |
//! | `HUBNET_LAB_FAULTS` | 4 | faults, one after another |
//! | `HUBNET_LAB_KINDS` | `oneway,twoway,kill,delayloss` | fault kinds, taken in turn |
//! | `HUBNET_LAB_FAULT_SECS` | 8 | how long each fault lasts |
//! | `HUBNET_LAB_PREFILL` | 2000 | records every node holds before it starts |
//! | `HUBNET_LAB_DELAY_MS` / `HUBNET_LAB_LOSS` | 60 / 0.02 | the wire's one-way delay and loss outside faults (120 ms RTT, 2 %) |
//! | `HUBNET_LAB_PUBLISH_MS` | 250 | pause between two publications of the client |
//! | `HUBNET_LAB_CONVERGE_LIMIT_SECS` | 60 | a heal not followed by convergence within this fails the lab |
//! | `HUBNET_LAB_TARGET_MS` | unset | if set, the p99 of convergence must be below it |
//! | `HUBNET_TEST_SEED` | clock | the schedule's seed (printed) |
//! | `HUBNET_LAB_LOGS` | unset | a folder the nodes' logs are copied to at the end |
//!
//! The namespaces and links carry a tag unique to the run, and a guard removes them (and kills the
//! nodes) when the lab ends, panicking or not.

mod forwarder;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use forwarder::{Faults, Forwarder, node_addr};
use hubnet_node::config::ConfigFile;
use serde_json::Value;

use crate::support::{Rng, fill_store, init_data_dir, path, sample};

/// The sample members the lab's nodes publish as, in node order.
const MEMBERS: [&str; 5] = ["HUB", "KZ", "KG", "TJ", "UZ"];
/// Members whose records pre-fill the stores (none of them publishes during the lab, so the
/// charter's rate limit, counted per key, leaves the publishing members their whole allowance).
const PREFILL_AUTHORS: [&str; 3] = ["GE", "AM", "AZ"];
const P2P_PORT: u16 = 4001;
const HTTP_PORT: u16 = 8080;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The lab's settings (see the module documentation).
#[derive(Debug, Clone)]
struct LabConfig {
    nodes: usize,
    faults: usize,
    kinds: Vec<Kind>,
    fault: Duration,
    prefill: usize,
    delay: Duration,
    loss: f64,
    publish_every: Duration,
    converge_limit: Duration,
    target: Option<Duration>,
}

impl LabConfig {
    fn from_env() -> Self {
        let kinds: Vec<Kind> = std::env::var("HUBNET_LAB_KINDS")
            .unwrap_or_else(|_| "oneway,twoway,kill,delayloss".into())
            .split(',')
            .map(|k| Kind::parse(k.trim()).unwrap_or_else(|| panic!("unknown fault kind {k:?}")))
            .collect();
        Self {
            nodes: env_or("HUBNET_LAB_NODES", 5usize).clamp(2, MEMBERS.len()),
            faults: env_or("HUBNET_LAB_FAULTS", 4),
            kinds,
            fault: Duration::from_secs(env_or("HUBNET_LAB_FAULT_SECS", 8)),
            prefill: env_or("HUBNET_LAB_PREFILL", 2000),
            delay: Duration::from_millis(env_or("HUBNET_LAB_DELAY_MS", 60)),
            loss: env_or("HUBNET_LAB_LOSS", 0.02),
            publish_every: Duration::from_millis(env_or("HUBNET_LAB_PUBLISH_MS", 250)),
            converge_limit: Duration::from_secs(env_or("HUBNET_LAB_CONVERGE_LIMIT_SECS", 60)),
            target: std::env::var("HUBNET_LAB_TARGET_MS")
                .ok()
                .and_then(|v| v.parse().ok())
                .map(Duration::from_millis),
        }
    }

    /// The wire outside faults.
    fn baseline(&self) -> Faults {
        Faults {
            blocked: BTreeSet::new(),
            delay: self.delay,
            loss: self.loss,
        }
    }
}

/// A kind of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// Some nodes drop every packet from the others (the receiving side only).
    OneWay,
    /// Some nodes and the others drop each other's packets.
    TwoWay,
    /// A node is killed with SIGKILL and restarted on the same data dir at the heal.
    Kill,
    /// The wire's delay and loss rise to 200 ms one way and 10 %.
    DelayLoss,
}

impl Kind {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "oneway" => Self::OneWay,
            "twoway" => Self::TwoWay,
            "kill" => Self::Kill,
            "delayloss" => Self::DelayLoss,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::OneWay => "one-way partition",
            Self::TwoWay => "two-way partition",
            Self::Kill => "SIGKILL + restart",
            Self::DelayLoss => "delay 200 ms + loss 10 %",
        }
    }
}

/// Why the lab cannot run here, if it cannot.
fn unavailable() -> Option<String> {
    if !crate::support::is_root() {
        return Some("not root (network namespaces and TUN devices need it)".into());
    }
    if !Path::new("/dev/net/tun").exists() {
        return Some("no /dev/net/tun".into());
    }
    match Command::new("ip").args(["netns", "list"]).output() {
        Ok(o) if o.status.success() => None,
        Ok(o) => Some(format!(
            "`ip netns list` fails: {}",
            String::from_utf8_lossy(&o.stderr)
        )),
        Err(e) => Some(format!("no `ip` command (iproute2): {e}")),
    }
}

#[test]
fn fault_lab_loses_no_acknowledged_record() {
    if let Some(why) = unavailable() {
        crate::support::did_not_run("THE FAULT LAB", &why);
        return;
    }
    let config = LabConfig::from_env();
    eprintln!("fault lab: {config:?}");
    let mut rng = Rng::from_env();
    let mut lab = Lab::new(&config);
    lab.start_all();
    let all: Vec<usize> = (0..config.nodes).collect();
    lab.wait_mesh(Duration::from_secs(60));
    let start_digest = lab.wait_converged(Duration::from_secs(60));
    eprintln!(
        "fault lab: {} nodes meshed, digest {start_digest}",
        config.nodes
    );

    let mut attempts: Vec<Attempt> = Vec::new();
    let mut heals: Vec<(Kind, Duration)> = Vec::new();
    let mut injected: BTreeMap<Kind, usize> = BTreeMap::new();
    for f in 0..config.faults {
        let kind = config.kinds[f % config.kinds.len()];
        lab.wait_mesh(Duration::from_secs(60));
        let client = Client::start(&lab, &config, attempts.len());
        // Between one and half of the nodes are on the small side of a partition.
        let mut victims: Vec<usize> = all.clone();
        let size = 1 + rng.below((config.nodes / 2).max(1) as u64) as usize;
        let mut side = Vec::new();
        for _ in 0..size {
            side.push(victims.remove(rng.below(victims.len() as u64) as usize));
        }
        side.sort_unstable();
        let others = victims;
        let mut faults = config.baseline();
        match kind {
            Kind::OneWay => {
                for &s in &side {
                    for &o in &others {
                        faults.blocked.insert((o, s));
                    }
                }
            }
            Kind::TwoWay => {
                for &s in &side {
                    for &o in &others {
                        faults.blocked.insert((o, s));
                        faults.blocked.insert((s, o));
                    }
                }
            }
            Kind::Kill => {
                side.truncate(1);
                lab.kill(side[0]);
            }
            Kind::DelayLoss => {
                side.clear();
                faults.delay = Duration::from_millis(200);
                faults.loss = 0.10;
            }
        }
        lab.wire().set(faults);
        *injected.entry(kind).or_default() += 1;
        // The fault lasts its set time: this sleep is the fault's length, not a wait for a
        // condition.
        std::thread::sleep(config.fault);
        let mut done = client.stop();
        let published = done.len();
        attempts.append(&mut done);

        let healed_at = Instant::now();
        lab.wire().set(config.baseline());
        if kind == Kind::Kill {
            lab.start(side[0]);
        }
        let digest = lab.wait_converged(config.converge_limit);
        let took = healed_at.elapsed();
        eprintln!(
            "fault lab: fault {f}: {} on nodes {side:?} for {:?}, {published} publications; \
             converged {:.2} s after the heal (digest {digest})",
            kind.name(),
            config.fault,
            took.as_secs_f64()
        );
        heals.push((kind, took));
    }

    let check = lab.set_check(&attempts);
    let forks: usize = all
        .iter()
        .map(|&i| lab.status(i)["forks"].as_array().map_or(0, Vec::len))
        .sum();
    let counters = lab.wire().counters();
    let times: Vec<Duration> = heals.iter().map(|h| h.1).collect();
    eprintln!(
        "fault lab: summary\n  nodes {}, prefill {} records each, wire {:?} one way + {} loss\n  \
         faults injected: {}\n  publications attempted {}, acknowledged {}, refused {}, \
         indeterminate {}\n  set check: lost {}, unexpected {}, recovered {}, forks {forks}\n  \
         convergence after heal: {}\n  p50 {:.2} s, p99 {:.2} s, max {:.2} s\n  \
         packets forwarded {}, dropped by partitions {}, dropped by loss {}",
        config.nodes,
        config.prefill,
        config.delay,
        config.loss,
        injected
            .iter()
            .map(|(k, n)| format!("{} × {n}", k.name()))
            .collect::<Vec<_>>()
            .join(", "),
        attempts.len(),
        check.acknowledged,
        check.refused,
        check.indeterminate,
        check.lost.len(),
        check.unexpected.len(),
        check.recovered,
        heals
            .iter()
            .map(|(k, t)| format!("{} {:.2} s", k.name(), t.as_secs_f64()))
            .collect::<Vec<_>>()
            .join("; "),
        percentile(&times, 50).as_secs_f64(),
        percentile(&times, 99).as_secs_f64(),
        times
            .iter()
            .max()
            .copied()
            .unwrap_or_default()
            .as_secs_f64(),
        counters.forwarded.load(Ordering::Relaxed),
        counters.partitioned.load(Ordering::Relaxed),
        counters.lost.load(Ordering::Relaxed),
    );
    assert!(check.acknowledged > 0, "nothing was acknowledged");
    assert!(
        check.lost.is_empty(),
        "acknowledged records lost: {:?}",
        check.lost
    );
    assert!(
        check.unexpected.is_empty(),
        "records nobody published, or refused ones: {:?}",
        check.unexpected
    );
    assert_eq!(forks, 0, "a node holds fork evidence");
    if let Some(target) = config.target {
        let p99 = percentile(&times, 99);
        assert!(
            p99 < target,
            "p99 of convergence after a heal is {p99:?}, the target {target:?}"
        );
    }
}

/// The nearest-rank percentile `p` of `values`.
fn percentile(values: &[Duration], p: usize) -> Duration {
    let mut v = values.to_vec();
    v.sort_unstable();
    if v.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * v.len()).div_ceil(100).clamp(1, v.len());
    v[rank - 1]
}

/// What became of one publication.
#[derive(Debug, Clone)]
enum Outcome {
    /// HTTP 201 with this record id.
    Acknowledged(String),
    /// Certainly not stored: a 4xx answer, or no connection.
    Refused,
    /// Maybe stored: a timeout, a broken connection or a 5xx answer.
    Indeterminate,
}

/// One publication of the client: its number (in its title), the node, the outcome.
#[derive(Debug, Clone)]
struct Attempt {
    n: usize,
    node: usize,
    outcome: Outcome,
}

/// The title of publication `n`; [`attempt_number`] reads it back.
fn title(n: usize) -> String {
    format!("Lab publication {n}.")
}

/// The publication number in a record's JSON, if it is one of the client's.
fn attempt_number(record: &Value) -> Option<usize> {
    let text = record.to_string();
    let at = text.find("Lab publication ")? + "Lab publication ".len();
    let digits: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The client: publishes to random nodes from its own thread until stopped.
struct Client {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<Attempt>>,
}

impl Client {
    fn start(lab: &Lab, config: &LabConfig, first: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let nodes: Vec<(String, String)> = lab
            .nodes
            .iter()
            .map(|n| (n.http.clone(), n.token.clone()))
            .collect();
        let every = config.publish_every;
        let seed = first as u64 * 7919 + 17;
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let http = reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("client");
            let mut rng = seed | 1;
            let mut done = Vec::new();
            let mut n = first;
            while !flag.load(Ordering::SeqCst) {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let node = (rng % nodes.len() as u64) as usize;
                let draft = crate::net::practice(&title(n));
                let outcome = match http
                    .post(format!("{}/api/v1/records", nodes[node].0))
                    .bearer_auth(&nodes[node].1)
                    .json(&draft)
                    .send()
                {
                    Ok(r) if r.status().as_u16() == 201 => match r.json::<Value>() {
                        Ok(body) => match body["id"].as_str() {
                            Some(id) => Outcome::Acknowledged(id.to_owned()),
                            None => Outcome::Indeterminate,
                        },
                        Err(_) => Outcome::Indeterminate,
                    },
                    Ok(r) if r.status().is_client_error() => Outcome::Refused,
                    Ok(_) => Outcome::Indeterminate,
                    Err(e) if e.is_connect() => Outcome::Refused,
                    Err(_) => Outcome::Indeterminate,
                };
                done.push(Attempt { n, node, outcome });
                n += 1;
                // The client's pace (a rate, not a synchronisation).
                std::thread::sleep(every);
            }
            done
        });
        Self { stop, thread }
    }

    /// Stops after the publication in flight and returns them all.
    fn stop(self) -> Vec<Attempt> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().expect("the client thread")
    }
}

/// The set check's counts.
#[derive(Debug, Default)]
struct SetCheck {
    acknowledged: usize,
    refused: usize,
    indeterminate: usize,
    /// Acknowledged ids missing on some node: `(node, id)`.
    lost: Vec<(usize, String)>,
    /// Ids held that no publication explains (or whose publication was refused).
    unexpected: Vec<String>,
    /// Indeterminate publications found stored.
    recovered: usize,
}

/// One node of the lab.
struct LabNode {
    netns: String,
    dir: PathBuf,
    config: PathBuf,
    http: String,
    token: String,
    child: Option<Child>,
}

/// The lab: namespaces, links, the forwarder and the nodes. Dropping it tears everything down.
struct Lab {
    tag: String,
    nodes: Vec<LabNode>,
    wire: Option<Forwarder>,
    /// Root-side ends of the client's veth links.
    links: Vec<String>,
    http: reqwest::blocking::Client,
    /// Configs, keys, data dirs and logs.
    dir: tempfile::TempDir,
}

/// Runs `ip ARGS`, panicking with its error output if it fails.
fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("ip runs");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Copies the directory tree `from` to `to`.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// A second octet for the client's links (`10.<octet>.<node>.1/2`) that no address of the root
/// namespace uses yet, so concurrent labs do not collide.
fn free_octet(tag_hash: u32) -> u8 {
    let used = Command::new("ip")
        .args(["-4", "-o", "addr", "show"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    (0..100u32)
        .map(|k| (100 + (tag_hash + k) % 100) as u8)
        .find(|o| !used.contains(&format!(" 10.{o}.")))
        .expect("a free 10.x octet for the client's links")
}

impl Lab {
    fn new(config: &LabConfig) -> Self {
        static RUNS: AtomicU32 = AtomicU32::new(0);
        let run = RUNS.fetch_add(1, Ordering::SeqCst);
        let hash = std::process::id().wrapping_mul(31).wrapping_add(run);
        // Interface names have at most 15 bytes: "hl" + 6 hex digits + kind + index.
        let tag = format!("{:06x}", hash & 0xff_ffff);
        let octet = free_octet(hash);
        let mut lab = Self {
            tag: tag.clone(),
            nodes: Vec::new(),
            wire: None,
            links: Vec::new(),
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("client"),
            dir: tempfile::tempdir().expect("tempdir"),
        };
        let base = lab.dir.path().to_path_buf();
        let mut devices = Vec::new();
        let seeds: Vec<[u8; 32]> = (0..config.nodes).map(|i| [i as u8 + 1; 32]).collect();
        let peer_ids: Vec<String> = seeds
            .iter()
            .map(|s| {
                libp2p::identity::Keypair::ed25519_from_bytes(*s)
                    .expect("key")
                    .public()
                    .to_peer_id()
                    .to_string()
            })
            .collect();
        // Stores: one filled, copied to the others (they start out holding the same set).
        let filled = base.join("filled");
        init_data_dir(&filled, &sample().join("charter.toml"));
        if config.prefill > 0 {
            fill_store(&filled, &PREFILL_AUTHORS, config.prefill);
        }
        for (i, member) in MEMBERS.iter().enumerate().take(config.nodes) {
            let netns = format!("hubnet-lab-{tag}-{i}");
            ip(&["netns", "add", &netns]);
            // Pushed at once, so the guard removes it even if a later step fails.
            lab.nodes.push(LabNode {
                netns: netns.clone(),
                dir: base.join(member),
                config: base.join(member).join("hubnet.toml"),
                http: format!("http://10.{octet}.{i}.2:{HTTP_PORT}"),
                token: format!("lab-token-{member}-0123456789"),
                child: None,
            });
            ip(&["-n", &netns, "link", "set", "lo", "up"]);
            // The node's wire: a TUN device made here and moved into the namespace; the
            // forwarder keeps its file descriptor.
            let tun_name = format!("hl{tag}t{i}");
            let mut tc = tun::Configuration::default();
            tc.tun_name(&tun_name)
                .layer(tun::Layer::L3)
                .platform_config(|p| {
                    p.ensure_root_privileges(false);
                });
            let device = tun::create(&tc).expect("a TUN device");
            ip(&["link", "set", "dev", &tun_name, "netns", &netns]);
            let addr = format!("{}/24", node_addr(i));
            ip(&["-n", &netns, "addr", "add", &addr, "dev", &tun_name]);
            ip(&["-n", &netns, "link", "set", &tun_name, "up"]);
            devices.push(device);
            // The client's link: a veth pair from the root namespace, outside the faults.
            let (outer, inner) = (format!("hl{tag}v{i}"), format!("hl{tag}w{i}"));
            ip(&[
                "link", "add", &outer, "type", "veth", "peer", "name", &inner, "netns", &netns,
            ]);
            lab.links.push(outer.clone());
            let (root_ip, node_ip) = (format!("10.{octet}.{i}.1"), format!("10.{octet}.{i}.2"));
            ip(&["addr", "add", &root_ip, "peer", &node_ip, "dev", &outer]);
            ip(&["link", "set", &outer, "up"]);
            ip(&[
                "-n", &netns, "addr", "add", &node_ip, "peer", &root_ip, "dev", &inner,
            ]);
            ip(&["-n", &netns, "link", "set", &inner, "up"]);

            // The node: its keys, its copy of the store, its config.
            let node_dir = &lab.nodes[i].dir;
            std::fs::create_dir_all(node_dir).expect("mkdir");
            let node_key = hubnet_protocol::SecretKey::from_seed(seeds[i]);
            hubnet_node::keyfile::write_new(&node_dir.join("node.key"), &node_key, "lab node")
                .expect("node key");
            let publishing = node_dir.join("publishing.key");
            let k =
                hubnet_node::keyfile::read(&sample().join("keys").join(format!("{member}.key")))
                    .expect("sample key");
            hubnet_node::keyfile::write_new(&publishing, &k, "sample").expect("copy key");
            copy_dir(&filled, &node_dir.join("data"));
            // Bootstrap as `hubnet devnet` does: the first node and the previous one.
            let bootstrap: BTreeSet<usize> = [0, i.saturating_sub(1)]
                .into_iter()
                .filter(|&b| b != i)
                .collect();
            let file = ConfigFile {
                data_dir: node_dir.join("data"),
                charter: Some(sample().join("charter.toml")),
                publishing_key: Some(publishing),
                node_key: Some(node_dir.join("node.key")),
                listen: vec![format!("/ip4/{}/tcp/{P2P_PORT}", node_addr(i))],
                bootstrap: bootstrap
                    .into_iter()
                    .map(|b| format!("/ip4/{}/tcp/{P2P_PORT}/p2p/{}", node_addr(b), peer_ids[b]))
                    .collect(),
                expect_peers: None,
                http: format!("{node_ip}:{HTTP_PORT}"),
                admin_token: Some(lab.nodes[i].token.clone()),
                admin_token_file: None,
                checkpoint_interval_secs: 1,
                ping_interval_ms: hubnet_node::config::default_ping_interval(),
                peer_timeout_ms: hubnet_node::config::default_peer_timeout(),
                redial_max_ms: hubnet_node::config::default_redial_max(),
                gossip_burst: hubnet_node::config::default_gossip_burst(),
                gossip_per_second: hubnet_node::config::default_gossip_per_second(),
                trusted_proxies: Vec::new(),
                oai_admin_email: None,
                tls: None,
                // These tests are about the network; the HTTP edge's limits have their own.
                http_limits: hubnet_node::edge::Limits::generous(),
            };
            std::fs::write(&lab.nodes[i].config, toml::to_string(&file).expect("toml"))
                .expect("config");
        }
        let seed = env_or("HUBNET_TEST_SEED", 1u64);
        let wire = Forwarder::start(devices, seed);
        wire.set(config.baseline());
        lab.wire = Some(wire);
        lab
    }

    fn wire(&self) -> &Forwarder {
        self.wire.as_ref().expect("the forwarder runs")
    }

    /// Starts node `i` in its namespace and waits until its API answers.
    fn start(&mut self, i: usize) {
        let node = &self.nodes[i];
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(node.dir.join("node.log"))
            .expect("log");
        // `ip netns exec` execs the binary, so the child's pid is the node's.
        let child = Command::new("ip")
            .args(["netns", "exec", &node.netns, env!("CARGO_BIN_EXE_hubnet")])
            .args(["run", "--config", path(&node.config)])
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("hubnet run starts");
        self.nodes[i].child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.try_status(i).is_none() {
            if let Some(status) = self.nodes[i]
                .child
                .as_mut()
                .and_then(|c| c.try_wait().expect("try_wait"))
            {
                panic!("node {i} exited at start: {status}\n{}", self.log(i));
            }
            assert!(Instant::now() < deadline, "node {i} did not start");
            std::thread::sleep(Duration::from_millis(50)); // poll interval of this deadline loop
        }
    }

    fn start_all(&mut self) {
        for i in 0..self.nodes.len() {
            self.start(i);
        }
    }

    /// SIGKILL node `i`.
    fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            child.kill().expect("SIGKILL");
            child.wait().expect("reaped");
        }
    }

    fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.nodes[i].dir.join("node.log")).unwrap_or_default()
    }

    fn try_status(&self, i: usize) -> Option<Value> {
        self.http
            .get(format!("{}/api/v1/status", self.nodes[i].http))
            .send()
            .ok()
            .filter(|r| r.status().is_success())
            .and_then(|r| r.json().ok())
    }

    fn status(&self, i: usize) -> Value {
        self.try_status(i)
            .unwrap_or_else(|| panic!("node {i} does not answer"))
    }

    fn get_json(&self, i: usize, path: &str) -> Value {
        let r = self
            .http
            .get(format!("{}{path}", self.nodes[i].http))
            .send()
            .unwrap_or_else(|e| panic!("GET {path} on node {i}: {e}"));
        assert!(
            r.status().is_success(),
            "GET {path} on node {i}: {}",
            r.status()
        );
        r.json().expect("json")
    }

    /// Waits until every node lists every other node as a live peer.
    fn wait_mesh(&self, limit: Duration) {
        let n = self.nodes.len();
        crate::support::poll_until("a full mesh", limit, || {
            (0..n).all(|i| {
                self.try_status(i)
                    .is_some_and(|s| s["peers"].as_array().is_some_and(|p| p.len() == n - 1))
            })
        });
    }

    /// Waits until every node holds the same set (equal record counts and heads digests) and
    /// returns the digest; panics with each node's state after `limit`.
    fn wait_converged(&self, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let statuses: Vec<Option<Value>> =
                (0..self.nodes.len()).map(|i| self.try_status(i)).collect();
            let key = |s: &Option<Value>| {
                s.as_ref()
                    .map(|v| (v["record_count"].clone(), v["heads_digest"].clone()))
            };
            if statuses.iter().all(Option::is_some)
                && statuses.windows(2).all(|w| key(&w[0]) == key(&w[1]))
            {
                return statuses[0]
                    .as_ref()
                    .map(|v| v["heads_digest"].as_str().unwrap_or("").to_owned())
                    .unwrap_or_default();
            }
            if Instant::now() > deadline {
                let brief: Vec<String> = statuses
                    .iter()
                    .enumerate()
                    .map(|(i, s)| match s {
                        Some(v) => format!(
                            "node {i}: {} records, digest {}, {} peers",
                            v["record_count"],
                            v["heads_digest"],
                            v["peers"].as_array().map_or(0, Vec::len)
                        ),
                        None => format!("node {i}: no answer"),
                    })
                    .collect();
                panic!(
                    "the nodes did not converge within {limit:?}\n{}",
                    brief.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(50)); // poll interval of this deadline loop
        }
    }

    /// The ids node `i` holds in the chains of the publishing members.
    fn held(&self, i: usize) -> BTreeSet<String> {
        let mut ids = BTreeSet::new();
        for member in MEMBERS.iter().take(self.nodes.len()) {
            let mut from = 1u64;
            loop {
                let page =
                    self.get_json(i, &format!("/api/v1/logs/{member}?from={from}&limit=1000"));
                for e in page["entries"].as_array().into_iter().flatten() {
                    if let Some(id) = e["id"].as_str() {
                        ids.insert(id.to_owned());
                    }
                }
                match page["next_from"].as_u64() {
                    Some(next) => from = next,
                    None => break,
                }
            }
        }
        ids
    }

    /// The Jepsen-style set check, once the nodes have converged.
    fn set_check(&self, attempts: &[Attempt]) -> SetCheck {
        let mut check = SetCheck::default();
        let mut acked: HashMap<&str, usize> = HashMap::new();
        let mut by_number: HashMap<usize, &Attempt> = HashMap::new();
        for a in attempts {
            by_number.insert(a.n, a);
            match &a.outcome {
                Outcome::Acknowledged(id) => {
                    check.acknowledged += 1;
                    acked.insert(id, a.node);
                }
                Outcome::Refused => check.refused += 1,
                Outcome::Indeterminate => check.indeterminate += 1,
            }
        }
        let held: Vec<BTreeSet<String>> = (0..self.nodes.len()).map(|i| self.held(i)).collect();
        for (i, ids) in held.iter().enumerate() {
            for id in acked.keys() {
                if !ids.contains(*id) {
                    check.lost.push((i, (*id).to_owned()));
                }
            }
        }
        let all: BTreeSet<&String> = held.iter().flatten().collect();
        for id in all {
            if acked.contains_key(id.as_str()) {
                continue;
            }
            let record = self.get_json(0, &format!("/api/v1/records/{id}"));
            match attempt_number(&record).and_then(|n| by_number.get(&n)) {
                Some(a) if matches!(a.outcome, Outcome::Indeterminate) => check.recovered += 1,
                _ => check.unexpected.push(id.clone()),
            }
        }
        check
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            if let Some(mut c) = n.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
        if let Ok(logs) = std::env::var("HUBNET_LAB_LOGS") {
            let _ = std::fs::create_dir_all(&logs);
            for (i, n) in self.nodes.iter().enumerate() {
                let _ = std::fs::copy(
                    n.dir.join("node.log"),
                    Path::new(&logs).join(format!("node{i}.log")),
                );
            }
            eprintln!("fault lab {}: node logs copied to {logs}", self.tag);
        }
        // Stops the forwarder's threads and closes the TUN devices, which removes them.
        self.wire = None;
        for link in &self.links {
            let _ = Command::new("ip").args(["link", "del", link]).output();
        }
        for n in &self.nodes {
            let _ = Command::new("ip").args(["netns", "del", &n.netns]).output();
        }
        eprintln!("fault lab {}: namespaces and links removed", self.tag);
    }
}
