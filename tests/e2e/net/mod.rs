//! Networks of real `hubnet run` processes on 127.0.0.1: a harness that writes configs, starts,
//! stops and kills nodes and reads their status over HTTP, and the tests that use it.

mod disk;
mod erasure;
mod faults;
mod governance;
mod liveness;
mod profiles;
mod programmes;
mod sync;
mod versions;

use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use hubnet_node::config::ConfigFile;
use serde_json::Value;

use crate::support::{free_port, hubnet, path, sample};

/// One node of a test network.
pub struct Node {
    pub name: String,
    pub dir: PathBuf,
    pub config: PathBuf,
    pub http: String,
    pub p2p: String,
    pub token: String,
    child: Option<Child>,
}

/// A network of nodes in one temporary dir.
pub struct Net {
    pub dir: tempfile::TempDir,
    pub nodes: Vec<Node>,
    client: reqwest::blocking::Client,
}

impl Net {
    /// Configs for nodes named `names` (sample member codes, or anything else for a mirror). Each
    /// bootstraps from the first node; none is started.
    pub fn new(names: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut nodes: Vec<Node> = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let node_dir = dir.path().join(name);
            std::fs::create_dir_all(&node_dir).expect("mkdir");
            let seed = [i as u8 + 1; 32];
            let node_key = hubnet_protocol::SecretKey::from_seed(seed);
            hubnet_node::keyfile::write_new(&node_dir.join("node.key"), &node_key, "test node")
                .expect("node key");
            let peer_id = libp2p::identity::Keypair::ed25519_from_bytes(seed)
                .expect("key")
                .public()
                .to_peer_id();
            let (p2p_port, http_port) = (free_port(), free_port());
            let key = sample().join("keys").join(format!("{name}.key"));
            let publishing_key = key.exists().then(|| {
                let to = node_dir.join("publishing.key");
                let k = hubnet_node::keyfile::read(&key).expect("sample key");
                hubnet_node::keyfile::write_new(&to, &k, "sample").expect("copy key");
                to
            });
            let token = format!("test-token-{name}-0123456789");
            let file = ConfigFile {
                data_dir: node_dir.join("data"),
                charter: Some(sample().join("charter.toml")),
                publishing_key,
                node_key: Some(node_dir.join("node.key")),
                listen: vec![format!("/ip4/127.0.0.1/tcp/{p2p_port}")],
                bootstrap: nodes.first().map(|n| n.p2p.clone()).into_iter().collect(),
                expect_peers: None,
                http: format!("127.0.0.1:{http_port}"),
                admin_token: Some(token.clone()),
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
            let config = node_dir.join("hubnet.toml");
            std::fs::write(&config, toml::to_string(&file).expect("toml")).expect("config");
            nodes.push(Node {
                name: (*name).to_owned(),
                dir: node_dir,
                config,
                http: format!("http://127.0.0.1:{http_port}"),
                p2p: format!("/ip4/127.0.0.1/tcp/{p2p_port}/p2p/{peer_id}"),
                token,
                child: None,
            });
        }
        Self {
            dir,
            nodes,
            client: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client"),
        }
    }

    /// The node's data dir.
    pub fn data(&self, i: usize) -> PathBuf {
        self.nodes[i].dir.join("data")
    }

    /// Creates node `i`'s data dir without starting it.
    pub fn init(&self, i: usize) {
        crate::support::init_data_dir(&self.data(i), &sample().join("charter.toml"));
    }

    /// Starts node `i` and waits until its API answers.
    pub fn start(&mut self, i: usize) {
        self.start_with(i, |_| {});
    }

    /// Changes node `i`'s config file (before it starts).
    pub fn configure(&self, i: usize, change: impl FnOnce(&mut ConfigFile)) {
        let path = &self.nodes[i].config;
        let text = std::fs::read_to_string(path).expect("config");
        let mut file: ConfigFile = toml::from_str(&text).expect("config toml");
        change(&mut file);
        std::fs::write(path, toml::to_string(&file).expect("toml")).expect("config");
    }

    /// Starts node `i` without waiting for it (its output to `node.log`, unless `change` says
    /// otherwise).
    pub fn spawn(&mut self, i: usize, change: impl FnOnce(&mut std::process::Command)) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.nodes[i].dir.join("node.log"))
            .expect("log");
        let mut command = hubnet();
        command
            .env("RUST_LOG", "info")
            .args(["run", "--config", path(&self.nodes[i].config)])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        change(&mut command);
        let child = command.spawn().expect("hubnet run starts");
        self.nodes[i].child = Some(child);
    }

    /// [`Net::start`] with the command changed first (more arguments, environment, where its
    /// output goes: stdout and stderr go to `node.log` unless changed).
    pub fn start_with(&mut self, i: usize, change: impl FnOnce(&mut std::process::Command)) {
        self.spawn(i, change);
        self.wait_started(i);
    }

    /// Waits until node `i` answers `GET /api/v1/status`; panics if it exits first, or if what
    /// answers on its port is another node (a port taken by someone else between choosing and
    /// binding it would otherwise have the test talk to a stranger).
    pub fn wait_started(&mut self, i: usize) {
        self.wait_started_by(i, |net, i| {
            net.try_status(i).is_some_and(|s| {
                assert_eq!(
                    s["peer_id"].as_str(),
                    Some(net.peer_id(i)),
                    "another node answers on {}'s port {}",
                    net.nodes[i].name,
                    net.nodes[i].http
                );
                true
            })
        });
    }

    /// Waits until `ready` says node `i` started; panics if it exits first or takes over 30 s.
    pub fn wait_started_by(&mut self, i: usize, ready: impl Fn(&Net, usize) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !ready(self, i) {
            if let Some(status) = self.nodes[i]
                .child
                .as_mut()
                .and_then(|c| c.try_wait().expect("try_wait"))
            {
                panic!(
                    "node {} exited at start: {status}\n{}",
                    self.nodes[i].name,
                    self.log(i)
                );
            }
            assert!(
                Instant::now() < deadline,
                "node {} did not start",
                self.nodes[i].name
            );
            std::thread::sleep(Duration::from_millis(50)); // poll interval of this deadline loop
        }
    }

    /// Starts every node.
    pub fn start_all(&mut self) {
        for i in 0..self.nodes.len() {
            self.start(i);
        }
    }

    /// The node's log so far.
    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.nodes[i].dir.join("node.log")).unwrap_or_default()
    }

    /// SIGTERM, and waits for a clean exit (at most 5 s, as the issue requires).
    pub fn stop(&mut self, i: usize) {
        let Some(mut child) = self.nodes[i].child.take() else {
            return;
        };
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                assert!(
                    status.success(),
                    "node {} stopped with {status}",
                    self.nodes[i].name
                );
                return;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!(
                    "node {} did not stop within 5 s of SIGTERM",
                    self.nodes[i].name
                );
            }
            std::thread::sleep(Duration::from_millis(20)); // poll interval of this deadline loop
        }
    }

    /// SIGKILL.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            child.kill().expect("SIGKILL");
            child.wait().expect("reaped");
        }
    }

    /// SIGSTOP: the process stands still; its TCP connections stay open and the kernel keeps
    /// accepting bytes and connections for it, but nothing answers (a silent peer, no root
    /// needed).
    pub fn pause(&self, i: usize) {
        self.signal(i, nix::sys::signal::Signal::SIGSTOP);
    }

    /// SIGCONT after [`Net::pause`].
    pub fn resume(&self, i: usize) {
        self.signal(i, nix::sys::signal::Signal::SIGCONT);
    }

    fn signal(&self, i: usize, signal: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(self.pid(i) as i32);
        nix::sys::signal::kill(pid, signal).expect("signal");
    }

    /// The running node's process id.
    pub fn pid(&self, i: usize) -> u32 {
        self.nodes[i].child.as_ref().expect("node running").id()
    }

    /// The node's libp2p peer id (the end of its `/p2p/` address).
    pub fn peer_id(&self, i: usize) -> &str {
        self.nodes[i]
            .p2p
            .rsplit('/')
            .next()
            .expect("a /p2p/ address")
    }

    /// `GET /api/v1/status`, if the node answers.
    pub fn try_status(&self, i: usize) -> Option<Value> {
        self.client
            .get(format!("{}/api/v1/status", self.nodes[i].http))
            .send()
            .ok()
            .filter(|r| r.status().is_success())
            .and_then(|r| r.json().ok())
    }

    /// `GET /api/v1/status`.
    pub fn status(&self, i: usize) -> Value {
        self.try_status(i)
            .unwrap_or_else(|| panic!("node {} does not answer", self.nodes[i].name))
    }

    /// A GET on node `i`: status code and body.
    pub fn get(&self, i: usize, path: &str) -> (u16, Vec<u8>) {
        let r = self
            .client
            .get(format!("{}{path}", self.nodes[i].http))
            .send()
            .expect("GET");
        (r.status().as_u16(), r.bytes().expect("body").to_vec())
    }

    /// Publishes a JSON draft on node `i`; returns the record id.
    pub fn publish(&self, i: usize, draft: &Value) -> String {
        let r = self
            .client
            .post(format!("{}/api/v1/records", self.nodes[i].http))
            .bearer_auth(&self.nodes[i].token)
            .json(draft)
            .send()
            .expect("POST");
        let status = r.status();
        let body: Value = r.json().expect("json");
        assert_eq!(
            status.as_u16(),
            201,
            "publish on {}: {body}",
            self.nodes[i].name
        );
        body["id"].as_str().expect("id").to_owned()
    }

    /// Posts a raw SignedRecord to node `i`: status code and JSON body.
    pub fn post_raw(&self, i: usize, bytes: Vec<u8>) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}/api/v1/records/raw", self.nodes[i].http))
            .bearer_auth(&self.nodes[i].token)
            .header("content-type", "application/x-protobuf")
            .body(bytes)
            .send()
            .expect("POST");
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(Value::Null))
    }

    /// Waits until `cond` holds for the statuses of the running nodes `which`, or panics after
    /// `limit` with the last statuses.
    pub fn wait_until(
        &self,
        which: &[usize],
        limit: Duration,
        what: &str,
        cond: impl Fn(&[Value]) -> bool,
    ) {
        let deadline = Instant::now() + limit;
        loop {
            let statuses: Vec<Value> = which
                .iter()
                .map(|&i| self.try_status(i).unwrap_or(Value::Null))
                .collect();
            if cond(&statuses) {
                return;
            }
            if Instant::now() > deadline {
                let brief: Vec<String> = which
                    .iter()
                    .zip(&statuses)
                    .map(|(&i, s)| {
                        format!(
                            "{}: {} records, digest {}",
                            self.nodes[i].name, s["record_count"], s["heads_digest"]
                        )
                    })
                    .collect();
                panic!("{what}: not within {limit:?}\n{}", brief.join("\n"));
            }
            std::thread::sleep(Duration::from_millis(100)); // poll interval of this deadline loop
        }
    }

    /// The value of a Prometheus sample of node `i`'s `/metrics` (0 when absent).
    pub fn metric(&self, i: usize, sample: &str) -> f64 {
        let (_, body) = self.get(i, "/metrics");
        String::from_utf8_lossy(&body)
            .lines()
            .find_map(|l| l.strip_prefix(sample)?.trim().parse().ok())
            .unwrap_or(0.0)
    }

    /// Waits until the nodes `which` hold `count` records and equal heads digests.
    pub fn wait_converged(&self, which: &[usize], count: u64, limit: Duration) {
        self.wait_until(which, limit, "convergence", |s| {
            s.iter().all(|v| v["record_count"] == count)
                && s.windows(2)
                    .all(|w| w[0]["heads_digest"] == w[1]["heads_digest"])
        });
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            if let Some(mut c) = n.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}

/// A small practice draft.
pub fn practice(title: &str) -> Value {
    serde_json::json!({
        "kind": "practice",
        "title": {"en": title, "ru": format!("{title} (рус.)")},
        "summary": {"en": "A test case of a reform."},
        "topics": ["training"],
    })
}
