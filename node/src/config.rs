//! The node's configuration file (`hubnet run --config FILE`), read and checked before anything
//! starts. Relative paths are relative to the config file's directory.
//!
//! ```toml
//! data_dir = "data"                          # required
//! charter = "charter.toml"                   # initialises data_dir if it is new
//! publishing_key = "kz.key"                  # absent: a read-only mirror
//! node_key = "node.key"                      # default DATA_DIR/node.key, created if missing
//! listen = ["/ip4/0.0.0.0/tcp/4001"]
//! bootstrap = ["/ip4/192.0.2.7/tcp/4001/p2p/12D3KooW..."]
//! expect_peers = true                        # ready (GET /readyz) only with a live peer;
//!                                            #   default: whether bootstrap lists any
//! http = "127.0.0.1:8080"
//! admin_token = "a long random string"      # or admin_token_file = "admin.token"
//! checkpoint_interval_secs = 30              # how often a member's node signs its view (1..=3600)
//! ping_interval_ms = 1000                    # how often each connection is pinged (100..=60000)
//! peer_timeout_ms = 5000                     # unanswered this long: closed, peer redialled
//!                                            #   (at least 2 ping intervals, at most 600000)
//! redial_max_ms = 3000                       # longest wait between dials of a lost peer
//!                                            #   (1000..=3600000; waits start at 1 s, doubling)
//! gossip_burst = 32                          # records of one author sent into gossip at once
//!                                            #   (1..=100000) ...
//! gossip_per_second = 10                     #   ... and each second after (1..=100000); the
//!                                            #   rest travel by sync (docs/PROTOCOL.md §6.1)
//! trusted_proxies = ["127.0.0.1", "::1"]     # X-Forwarded-For/-Proto believed from these only
//!                                            #   (addresses or networks: "10.0.0.0/8")
//! oai_admin_email = "oai@agency.example"     # OAI-PMH Identify's adminEmail (docs/OAI-PMH.md);
//!                                            #   default: a reserved .invalid address
//!
//! [tls]                                      # HTTPS on `http`; both files PEM, read again when
//! cert = "fullchain.pem"                     #   they change (a renewal needs no restart)
//! key = "privkey.pem"
//!
//! [tls.acme]                                 # or, instead of cert and key: certificates from an
//! domains = ["hub.kz.example"]               #   ACME CA (TLS-ALPN-01 on this port, which must be
//! contact = ["mailto:ops@kz.example"]        #   port 443 of each name); optional from here on
//! directory = "https://acme-v02.api.letsencrypt.org/directory"   # the default
//! cache_dir = "acme"                         # relative to data_dir; account key, certificates
//! ca_bundle = "test-ca.pem"                  # extra roots for talking to the CA (a test CA)
//!
//! [http_limits]                              # every field optional; defaults shown
//! header_timeout_ms = 10000                  # headers (and idle keep-alive) within this
//! request_timeout_ms = 30000                 # a body within this (408); an answer begun 5 s
//!                                            #   after it at the latest (503)
//! write_timeout_ms = 30000                   # a client that reads nothing this long: closed
//! max_connections = 2048                     # open at once, in all (503 and closed beyond)
//! max_connections_per_address = 64           # open at once from one address (IPv6: its /64)
//! max_requests = 256                         # answered at once (503 + Retry-After beyond)
//! max_streams = 16                           # exports, bundles, feeds written at once
//! max_open_posts = 8                         # unauthenticated POST bodies read at once
//! reads_per_second = 100                     # per address (429 + Retry-After beyond) ...
//! read_burst = 400                           #   ... with this burst
//! posts_per_minute = 60                      # unauthenticated POSTs (and wrong admin tokens)
//! post_burst = 20                            #   per address, and their burst
//! author_records_per_second = 10             # records of one author taken through the API
//! author_record_burst = 32                   #   (published or pushed), and their burst
//! answer_cache_mb = 64                       # answers to repeated queries kept (0: none)
//! record_cache_mb = 64                       # records' JSON in answers kept (0: none)
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use hubnet_protocol::sync::pace::PaceConfig;
use ipnet::IpNet;
use libp2p::Multiaddr;
use libp2p::multiaddr::Protocol;
use serde::{Deserialize, Serialize};

use crate::edge::{Limits, TlsFiles, TlsSection, TlsSource};

/// A config that cannot be used; each names the field at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("config {path}: {cause}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// Not valid TOML, or an unknown or mistyped field (the message names it).
    #[error("config {path}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message, naming the field.
        message: String,
    },
    /// A field with a value that cannot be used.
    #[error("config {path}: field `{field}`: {message}")]
    Field {
        /// The file.
        path: PathBuf,
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// The file as written.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The data dir.
    pub data_dir: PathBuf,
    /// A signed charter, used to initialise a new data dir (and checked against an existing one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charter: Option<PathBuf>,
    /// The member's publishing key; absent for a read-only mirror.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publishing_key: Option<PathBuf>,
    /// The libp2p identity key (created if missing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_key: Option<PathBuf>,
    /// libp2p listen addresses.
    #[serde(default = "default_listen")]
    pub listen: Vec<String>,
    /// Peers to dial at start, each with its `/p2p/PEER_ID`.
    #[serde(default)]
    pub bootstrap: Vec<String>,
    /// Whether the node is ready (`GET /readyz`) only while it has a live peer; absent: whether
    /// `bootstrap` lists any (a node with none is alone by config until others dial it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_peers: Option<bool>,
    /// The HTTP API's address.
    #[serde(default = "default_http")]
    pub http: String,
    /// The bearer token of the write side of the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_token: Option<String>,
    /// A file holding the admin token (instead of `admin_token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_token_file: Option<PathBuf>,
    /// How often a member's node signs and gossips a checkpoint of its view (when it changed).
    #[serde(default = "default_checkpoint_interval")]
    pub checkpoint_interval_secs: u64,
    /// How often each connection is pinged, in milliseconds.
    #[serde(default = "default_ping_interval")]
    pub ping_interval_ms: u64,
    /// How long a connection may leave pings unanswered before it is closed and its peer
    /// redialled, in milliseconds.
    #[serde(default = "default_peer_timeout")]
    pub peer_timeout_ms: u64,
    /// The longest wait between two dials of a lost or bootstrap peer, in milliseconds.
    #[serde(default = "default_redial_max")]
    pub redial_max_ms: u64,
    /// Records of one author this node sends into gossip at once (its own and those it
    /// forwards); over the budget they are stored but travel by sync.
    #[serde(default = "default_gossip_burst")]
    pub gossip_burst: u32,
    /// Records of one author this node sends into gossip each second once the burst is spent.
    #[serde(default = "default_gossip_per_second")]
    pub gossip_per_second: u32,
    /// Reverse proxies (addresses or networks) whose `X-Forwarded-For` and
    /// `X-Forwarded-Proto` are believed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_proxies: Vec<String>,
    /// The address OAI-PMH's Identify gives as `adminEmail`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oai_admin_email: Option<String>,
    /// HTTPS, from PEM files or ACME.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsSection>,
    /// The HTTP edge's limits.
    #[serde(default, skip_serializing_if = "is_default")]
    pub http_limits: Limits,
}

fn is_default(l: &Limits) -> bool {
    *l == Limits::default()
}

/// The default of `ping_interval_ms`.
pub fn default_ping_interval() -> u64 {
    1_000
}

/// The default of `peer_timeout_ms`.
pub fn default_peer_timeout() -> u64 {
    5_000
}

/// The default of `redial_max_ms`: low enough that a healed link is dialled within a few seconds.
pub fn default_redial_max() -> u64 {
    3_000
}

/// The default of `gossip_burst`.
pub fn default_gossip_burst() -> u32 {
    PaceConfig::default().burst
}

/// The default of `gossip_per_second`.
pub fn default_gossip_per_second() -> u32 {
    PaceConfig::default().per_second
}

fn default_checkpoint_interval() -> u64 {
    30
}

fn default_listen() -> Vec<String> {
    vec!["/ip4/0.0.0.0/tcp/4001".to_owned()]
}

fn default_http() -> String {
    "127.0.0.1:8080".to_owned()
}

/// A checked config, paths resolved.
#[derive(Debug, Clone)]
pub struct Config {
    /// The config file it came from.
    pub path: PathBuf,
    /// The data dir.
    pub data_dir: PathBuf,
    /// A charter to initialise the data dir with.
    pub charter: Option<PathBuf>,
    /// The publishing key file, if a member node.
    pub publishing_key: Option<PathBuf>,
    /// The node key file.
    pub node_key: PathBuf,
    /// Listen addresses.
    pub listen: Vec<Multiaddr>,
    /// Bootstrap peers (each ends in `/p2p/…`).
    pub bootstrap: Vec<Multiaddr>,
    /// Whether readiness needs a live peer.
    pub expect_peers: bool,
    /// HTTP address.
    pub http: SocketAddr,
    /// The admin token (at least 16 characters).
    pub admin_token: String,
    /// How often to sign a checkpoint.
    pub checkpoint_interval: std::time::Duration,
    /// How often each connection is pinged.
    pub ping_interval: std::time::Duration,
    /// How long a connection may leave pings unanswered before it is closed.
    pub peer_timeout: std::time::Duration,
    /// The longest wait between two dials of a peer.
    pub redial_max: std::time::Duration,
    /// How many of one author's records the node sends into gossip.
    pub gossip_pace: PaceConfig,
    /// Reverse proxies believed.
    pub trusted_proxies: Vec<IpNet>,
    /// OAI-PMH Identify's `adminEmail` (checked: `local@domain.tld`, no spaces).
    pub oai_admin_email: Option<String>,
    /// HTTPS, paths resolved.
    pub tls: Option<TlsSource>,
    /// The HTTP edge's limits, checked.
    pub http_limits: Limits,
}

/// Shortest admin token accepted.
pub const MIN_TOKEN_LEN: usize = 16;

impl Config {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|cause| ConfigError::Read {
            path: path.to_owned(),
            cause,
        })?;
        let file: ConfigFile = toml::from_str(&text).map_err(|e| ConfigError::Syntax {
            path: path.to_owned(),
            message: describe(&text, &e),
        })?;
        Self::check(path, file)
    }

    /// Checks a parsed file; `path` names the file in errors and anchors relative paths.
    pub fn check(path: &Path, file: ConfigFile) -> Result<Self, ConfigError> {
        let base = path.parent().unwrap_or(Path::new("."));
        let field = |field: &'static str, message: String| ConfigError::Field {
            path: path.to_owned(),
            field,
            message,
        };
        if file.data_dir.as_os_str().is_empty() {
            return Err(field("data_dir", "must not be empty".into()));
        }
        let data_dir = base.join(&file.data_dir);
        let existing = |name: &'static str, p: &Option<PathBuf>| -> Result<_, ConfigError> {
            match p {
                None => Ok(None),
                Some(p) => {
                    let p = base.join(p);
                    if p.is_file() {
                        Ok(Some(p))
                    } else {
                        Err(field(name, format!("{} is not a file", p.display())))
                    }
                }
            }
        };
        let charter = existing("charter", &file.charter)?;
        let publishing_key = existing("publishing_key", &file.publishing_key)?;
        let node_key = file
            .node_key
            .map_or_else(|| data_dir.join("node.key"), |p| base.join(p));
        let mut listen = Vec::new();
        for a in &file.listen {
            let addr: Multiaddr = a
                .parse()
                .map_err(|e| field("listen", format!("{a:?} is not a multiaddr: {e}")))?;
            if !addr.iter().any(|p| matches!(p, Protocol::Tcp(_))) {
                return Err(field("listen", format!("{a:?} has no /tcp/ port")));
            }
            listen.push(addr);
        }
        if listen.is_empty() {
            return Err(field("listen", "needs at least one address".into()));
        }
        let mut bootstrap = Vec::new();
        for a in &file.bootstrap {
            let addr: Multiaddr = a
                .parse()
                .map_err(|e| field("bootstrap", format!("{a:?} is not a multiaddr: {e}")))?;
            if !matches!(addr.iter().last(), Some(Protocol::P2p(_))) {
                return Err(field(
                    "bootstrap",
                    format!("{a:?} does not end in /p2p/PEER_ID"),
                ));
            }
            bootstrap.push(addr);
        }
        let http: SocketAddr = file.http.parse().map_err(|e| {
            field(
                "http",
                format!("{:?} is not an IP:port address: {e}", file.http),
            )
        })?;
        let admin_token = match (file.admin_token, file.admin_token_file) {
            (Some(_), Some(_)) => {
                return Err(field(
                    "admin_token",
                    "give admin_token or admin_token_file, not both".into(),
                ));
            }
            (Some(t), None) => t,
            (None, Some(p)) => {
                let p = base.join(p);
                std::fs::read_to_string(&p)
                    .map_err(|e| field("admin_token_file", format!("{}: {e}", p.display())))?
                    .trim()
                    .to_owned()
            }
            (None, None) => {
                return Err(field(
                    "admin_token",
                    "missing: set admin_token or admin_token_file".into(),
                ));
            }
        };
        if admin_token.chars().count() < MIN_TOKEN_LEN
            || admin_token
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(field(
                "admin_token",
                format!("must be at least {MIN_TOKEN_LEN} characters, without spaces"),
            ));
        }
        if !(1..=3600).contains(&file.checkpoint_interval_secs) {
            return Err(field(
                "checkpoint_interval_secs",
                "must be between 1 and 3600".into(),
            ));
        }
        if !(100..=60_000).contains(&file.ping_interval_ms) {
            return Err(field(
                "ping_interval_ms",
                "must be between 100 and 60000".into(),
            ));
        }
        if file.peer_timeout_ms < file.ping_interval_ms.saturating_mul(2)
            || file.peer_timeout_ms > 600_000
        {
            return Err(field(
                "peer_timeout_ms",
                format!(
                    "must be at least twice ping_interval_ms ({}) and at most 600000",
                    file.ping_interval_ms.saturating_mul(2)
                ),
            ));
        }
        if !(1_000..=3_600_000).contains(&file.redial_max_ms) {
            return Err(field(
                "redial_max_ms",
                "must be between 1000 and 3600000".into(),
            ));
        }
        for (name, value) in [
            ("gossip_burst", file.gossip_burst),
            ("gossip_per_second", file.gossip_per_second),
        ] {
            if !(1..=100_000).contains(&value) {
                return Err(field(name, "must be between 1 and 100000".into()));
            }
        }
        if let Some(email) = &file.oai_admin_email
            && !crate::oai::is_email(email)
        {
            return Err(field(
                "oai_admin_email",
                format!("{email:?} is not an e-mail address (local@domain.tld, no spaces)"),
            ));
        }
        let mut trusted_proxies = Vec::new();
        for p in &file.trusted_proxies {
            let net = p
                .parse::<IpNet>()
                .or_else(|_| p.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    field(
                        "trusted_proxies",
                        format!("{p:?} is not an IP address or network"),
                    )
                })?;
            trusted_proxies.push(net);
        }
        let tls = match file.tls {
            None => None,
            Some(TlsSection {
                cert: None,
                key: None,
                acme: Some(acme),
            }) => Some(TlsSource::Acme(acme.check(&data_dir, base).map_err(
                |e| ConfigError::Field {
                    path: path.to_owned(),
                    field: e.field,
                    message: e.message,
                },
            )?)),
            Some(TlsSection {
                cert: Some(cert),
                key: Some(key),
                acme: None,
            }) => {
                let cert = existing("tls.cert", &Some(cert))?.unwrap_or_default();
                let key = existing("tls.key", &Some(key))?.unwrap_or_default();
                Some(TlsSource::Files(TlsFiles { cert, key }))
            }
            Some(TlsSection {
                cert,
                key,
                acme: Some(_),
            }) if cert.is_some() || key.is_some() => {
                return Err(field(
                    "tls",
                    "give cert and key, or a [tls.acme] section, not both".into(),
                ));
            }
            Some(TlsSection {
                cert: Some(_),
                key: None,
                ..
            }) => return Err(field("tls.key", "missing: cert needs its key".into())),
            Some(TlsSection {
                cert: None,
                key: Some(_),
                ..
            }) => return Err(field("tls.cert", "missing: key needs its cert".into())),
            Some(_) => {
                return Err(field(
                    "tls",
                    "needs cert and key, or a [tls.acme] section".into(),
                ));
            }
        };
        file.http_limits.check().map_err(|e| ConfigError::Field {
            path: path.to_owned(),
            field: e.field,
            message: e.message,
        })?;
        Ok(Self {
            path: path.to_owned(),
            data_dir,
            charter,
            publishing_key,
            node_key,
            listen,
            expect_peers: file.expect_peers.unwrap_or(!bootstrap.is_empty()),
            bootstrap,
            http,
            admin_token,
            checkpoint_interval: std::time::Duration::from_secs(file.checkpoint_interval_secs),
            ping_interval: std::time::Duration::from_millis(file.ping_interval_ms),
            peer_timeout: std::time::Duration::from_millis(file.peer_timeout_ms),
            redial_max: std::time::Duration::from_millis(file.redial_max_ms),
            gossip_pace: PaceConfig {
                burst: file.gossip_burst,
                per_second: file.gossip_per_second,
                ..PaceConfig::default()
            },
            trusted_proxies,
            oai_admin_email: file.oai_admin_email.clone(),
            tls,
            http_limits: file.http_limits,
        })
    }
}

/// The parser's message, with the line and, when the line is `key = value`, the field's name.
fn describe(text: &str, e: &toml::de::Error) -> String {
    let Some(span) = e.span() else {
        return e.message().to_owned();
    };
    let line_no = text
        .get(..span.start)
        .map_or(1, |t| t.matches('\n').count() + 1);
    let key = text
        .lines()
        .nth(line_no - 1)
        .and_then(|l| l.split_once('='))
        .map(|(k, _)| k.trim())
        .filter(|k| !k.is_empty() && !k.starts_with('#'));
    match key {
        Some(k) if !e.message().starts_with("unknown field") => {
            format!("field `{k}`: {} (line {line_no})", e.message())
        }
        _ => format!("{} (line {line_no})", e.message()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<Config, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let path = dir.path().join("hubnet.toml");
        std::fs::write(dir.path().join("charter.toml"), "x").map_err(|e| e.to_string())?;
        std::fs::write(&path, text).map_err(|e| e.to_string())?;
        Config::load(&path).map_err(|e| e.to_string())
    }

    const OK: &str = r#"
data_dir = "data"
charter = "charter.toml"
listen = ["/ip4/127.0.0.1/tcp/0"]
bootstrap = ["/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWGkn7o1LrHm3DHrDuYr5nKxtRxqBxvC4RBqpdj2wGpQyq"]
http = "127.0.0.1:0"
admin_token = "0123456789abcdef"
"#;

    #[test]
    fn a_good_config_resolves_paths() -> Result<(), String> {
        let c = check(OK)?;
        assert!(c.data_dir.ends_with("data"));
        assert!(c.node_key.ends_with("data/node.key"));
        assert_eq!(c.bootstrap.len(), 1);
        assert!(c.publishing_key.is_none());
        assert_eq!(c.ping_interval, std::time::Duration::from_secs(1));
        assert_eq!(c.peer_timeout, std::time::Duration::from_secs(5));
        assert_eq!(c.redial_max, std::time::Duration::from_secs(3));
        assert_eq!(c.gossip_pace, PaceConfig::default());
        assert_eq!(c.http_limits, Limits::default());
        assert!(c.tls.is_none() && c.trusted_proxies.is_empty());
        let c = check(&format!(
            "{OK}trusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\"]\n[http_limits]\nmax_streams = 3\n"
        ))?;
        assert_eq!(c.http_limits.max_streams, 3);
        assert_eq!(c.trusted_proxies.len(), 2);
        assert!(c.trusted_proxies[1].contains(&std::net::IpAddr::from([10, 2, 3, 4])));
        let c = check(&format!("gossip_burst = 4\ngossip_per_second = 2\n{OK}"))?;
        assert_eq!((c.gossip_pace.burst, c.gossip_pace.per_second), (4, 2));
        Ok(())
    }

    #[test]
    fn peers_are_expected_by_default_only_with_bootstrap_peers() -> Result<(), String> {
        let bootstrap = OK
            .lines()
            .find(|l| l.starts_with("bootstrap"))
            .ok_or("no bootstrap line")?;
        let alone = OK.replace(bootstrap, "");
        for (text, expect) in [
            (OK.to_owned(), true),
            (alone.clone(), false),
            (format!("expect_peers = false\n{OK}"), false),
            (format!("expect_peers = true\n{alone}"), true),
        ] {
            assert_eq!(check(&text)?.expect_peers, expect, "{text}");
        }
        let e = check(&format!("expect_peers = \"yes\"\n{OK}"))
            .err()
            .ok_or("a string accepted")?;
        assert!(e.contains("field `expect_peers`"), "{e}");
        Ok(())
    }

    #[test]
    fn tls_is_pem_files_or_acme() -> Result<(), String> {
        let files = format!("{OK}[tls]\ncert = \"charter.toml\"\nkey = \"charter.toml\"\n");
        match check(&files)?.tls {
            Some(TlsSource::Files(f)) => {
                assert!(f.cert.ends_with("charter.toml") && f.key.is_absolute());
            }
            other => return Err(format!("files: {other:?}")),
        }
        let acme = format!("{OK}[tls.acme]\ndomains = [\"hub.kz.example\"]\n");
        match check(&acme)?.tls {
            Some(TlsSource::Acme(a)) => {
                assert_eq!(a.domains, ["hub.kz.example"]);
                assert_eq!(a.directory, crate::edge::acme::LETS_ENCRYPT);
                assert!(a.cache_dir.ends_with("data/acme"), "{a:?}");
                assert!(a.contact.is_empty() && a.ca_bundle.is_none());
            }
            other => return Err(format!("acme: {other:?}")),
        }
        let full = format!(
            "{OK}[tls.acme]\ndomains = [\"hub.kz.example\"]\ncontact = [\"mailto:ops@kz.example\"]\n\
             directory = \"https://127.0.0.1:14000/dir\"\ncache_dir = \"/var/cache/hubnet-acme\"\n\
             ca_bundle = \"charter.toml\"\n"
        );
        match check(&full)?.tls {
            Some(TlsSource::Acme(a)) => {
                assert_eq!(a.contact, ["mailto:ops@kz.example"]);
                assert_eq!(a.directory, "https://127.0.0.1:14000/dir");
                assert_eq!(a.cache_dir, Path::new("/var/cache/hubnet-acme"));
                assert!(a.ca_bundle.is_some_and(|p| p.is_absolute()));
            }
            other => return Err(format!("acme: {other:?}")),
        }
        // The file form survives a round trip through TOML (the test harness and `restore`
        // write configs this way).
        let file: ConfigFile = toml::from_str(&full).map_err(|e| e.to_string())?;
        let again: ConfigFile = toml::from_str(&toml::to_string(&file).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        assert_eq!(again.tls, file.tls);
        Ok(())
    }

    #[test]
    fn tls_refuses_both_forms_neither_and_acme_without_domains() {
        let cases = [
            (
                "[tls]\ncert = \"charter.toml\"\nkey = \"charter.toml\"\n[tls.acme]\ndomains = [\"a.example\"]",
                "field `tls`: give cert and key, or a [tls.acme] section, not both",
            ),
            (
                "[tls]\ncert = \"charter.toml\"\n[tls.acme]\ndomains = [\"a.example\"]",
                "not both",
            ),
            (
                "[tls]",
                "field `tls`: needs cert and key, or a [tls.acme] section",
            ),
            ("[tls]\ncert = \"charter.toml\"", "field `tls.key`: missing"),
            ("[tls]\nkey = \"charter.toml\"", "field `tls.cert`: missing"),
            (
                "[tls.acme]\ncontact = [\"mailto:ops@kz.example\"]",
                "field `tls.acme.domains`: needs at least one domain name",
            ),
            ("[tls.acme]\ndomains = []", "field `tls.acme.domains`"),
            (
                "[tls.acme]\ndomains = [\"a.example\"]\ncontacts = []",
                "unknown field `contacts`",
            ),
            (
                "[tls.acme]\ndomains = [\"a.example\"]\ndirectory = \"ftp://x\"",
                "field `tls.acme.directory`",
            ),
        ];
        for (tls, expect) in cases {
            match check(&format!("{OK}{tls}\n")) {
                Ok(c) => panic!("{expect}: accepted as {:?}", c.tls),
                Err(e) => assert!(e.contains(expect), "{expect}: got {e}"),
            }
        }
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            (
                "data_dir = \"data\"",
                "data_dir = 3",
                "field `data_dir`: invalid type",
            ),
            ("http = \"127.0.0.1:0\"", "http = \"localhost\"", "`http`"),
            (
                "listen = [\"/ip4/127.0.0.1/tcp/0\"]",
                "listen = [\"/ip4/1.2.3.4\"]",
                "`listen`",
            ),
            (
                "/p2p/12D3KooWGkn7o1LrHm3DHrDuYr5nKxtRxqBxvC4RBqpdj2wGpQyq",
                "",
                "`bootstrap`",
            ),
            (
                "admin_token = \"0123456789abcdef\"",
                "admin_token = \"short\"",
                "`admin_token`",
            ),
            (
                "admin_token = \"0123456789abcdef\"",
                "",
                "`admin_token`: missing",
            ),
            (
                "charter = \"charter.toml\"",
                "charter = \"nope.toml\"",
                "`charter`",
            ),
            ("http =", "htp = \"x\"\nhttp =", "unknown field `htp`"),
            (
                "http =",
                "ping_interval_ms = 50\nhttp =",
                "`ping_interval_ms`",
            ),
            (
                "http =",
                "ping_interval_ms = 3000\nhttp =",
                "field `peer_timeout_ms`: must be at least twice ping_interval_ms (6000)",
            ),
            (
                "http =",
                "peer_timeout_ms = 700000\nhttp =",
                "`peer_timeout_ms`",
            ),
            ("http =", "redial_max_ms = 10\nhttp =", "`redial_max_ms`"),
            (
                "http =",
                "gossip_burst = 0\nhttp =",
                "field `gossip_burst`: must be between 1 and 100000",
            ),
            (
                "http =",
                "gossip_per_second = 100001\nhttp =",
                "field `gossip_per_second`: must be between 1 and 100000",
            ),
            (
                "http =",
                "redial_max_ms = -1\nhttp =",
                "field `redial_max_ms`: invalid value",
            ),
            (
                "http =",
                "oai_admin_email = \"nobody\"\nhttp =",
                "field `oai_admin_email`: \"nobody\" is not an e-mail address",
            ),
            (
                "http =",
                "trusted_proxies = [\"proxy\"]\nhttp =",
                "field `trusted_proxies`: \"proxy\" is not an IP address or network",
            ),
            (
                "admin_token = \"0123456789abcdef\"",
                "admin_token = \"0123456789abcdef\"\n[tls]\ncert = \"charter.toml\"\nkey = \"none.pem\"",
                "field `tls.key`",
            ),
            (
                "admin_token = \"0123456789abcdef\"",
                "admin_token = \"0123456789abcdef\"\n[http_limits]\nmax_connections = 0",
                "field `http_limits.max_connections`: 0 is not within",
            ),
            (
                "admin_token = \"0123456789abcdef\"",
                "admin_token = \"0123456789abcdef\"\n[http_limits]\nmax_conections = 9",
                "unknown field `max_conections`",
            ),
        ];
        for (from, to, expect) in cases {
            let text = OK.replace(from, to);
            assert_ne!(text, OK, "case {expect} did not change the config");
            match check(&text) {
                Ok(_) => panic!("{expect}: accepted"),
                Err(e) => assert!(e.contains(expect), "{expect}: got {e}"),
            }
        }
    }
}
