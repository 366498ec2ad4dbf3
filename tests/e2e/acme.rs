//! HTTPS by ACME (`[tls.acme]`) against Debian's `pebble`, the ACME test server: a node orders a
//! certificate for `hub.test` over TLS-ALPN-01, serves it, and after a restart serves it again
//! from its cache with pebble gone.
//!
//! Everything is on 127.0.0.1: pebble's directory and management interface, and
//! `pebble-challtestsrv` as pebble's DNS server, which answers every A query with 127.0.0.1 (and
//! AAAA with nothing), so that pebble's validation of `hub.test` reaches the node's HTTPS port
//! (pebble's `tlsPort`). Pebble's own HTTPS certificate comes from the test's [`Pki`], which the
//! node trusts through `ca_bundle`.

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hubnet_node::edge::{AcmeFile, TlsFiles};

use crate::net::Net;
use crate::support::{Pki, free_port, https_get, https_get_trusting};

/// How long obtaining a certificate may take (pebble without its artificial sleeps takes a few
/// seconds; rustls-acme polls an authorization after 1 s, then 2 s, ...).
const ISSUE_DEADLINE: Duration = Duration::from_secs(60);

/// Pebble (Debian's `pebble`) when it is here; the test fails without it if CI requires it.
fn pebble_available() -> bool {
    let here = ["pebble", "pebble-challtestsrv"].iter().all(|b| {
        Command::new(b)
            .arg("-h")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    });
    if !here {
        assert!(
            std::env::var_os("HUBNET_REQUIRE_PEBBLE").is_none(),
            "HUBNET_REQUIRE_PEBBLE is set but pebble is missing: apt-get install -y pebble"
        );
        eprintln!(
            "the ACME test NOT RUN: pebble missing (apt-get install -y pebble; .ci/run does)"
        );
    }
    here
}

/// A child process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Pebble and its DNS server, on free ports of 127.0.0.1.
struct Pebble {
    _dns: Killed,
    pebble: Option<Killed>,
    /// The directory URL.
    directory: String,
    /// The management interface (`/roots/0`).
    management: SocketAddr,
    /// The CA of pebble's own HTTPS certificate.
    pki: Pki,
    dir: std::path::PathBuf,
}

impl Pebble {
    /// Starts both, validating challenges on `tls_port` of 127.0.0.1, and waits until pebble's
    /// directory answers.
    fn start(dir: &Path, tls_port: u16) -> Self {
        std::fs::create_dir_all(dir).expect("mkdir");
        let log = |name: &str| std::fs::File::create(dir.join(name)).expect("log");
        let (dns_port, dns_management) = (free_port(), free_port());
        let dns = Command::new("pebble-challtestsrv")
            .args(["-dns01", &format!("127.0.0.1:{dns_port}")])
            .args(["-management", &format!("127.0.0.1:{dns_management}")])
            .args(["-http01", "", "-https01", "", "-tlsalpn01", ""])
            .args(["-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""])
            .stdout(log("challtestsrv.log"))
            .stderr(log("challtestsrv.err"))
            .spawn()
            .expect("pebble-challtestsrv starts");
        let dns = Killed(dns);
        let pki = Pki::new();
        let files = TlsFiles {
            cert: dir.join("pebble-cert.pem"),
            key: dir.join("pebble-key.pem"),
        };
        pki.issue("127.0.0.1", &files);
        let (port, management_port) = (free_port(), free_port());
        let config = serde_json::json!({
            "pebble": {
                "listenAddress": format!("127.0.0.1:{port}"),
                "managementListenAddress": format!("127.0.0.1:{management_port}"),
                "certificate": files.cert,
                "privateKey": files.key,
                "httpPort": tls_port,
                "tlsPort": tls_port,
                "ocspResponderURL": "",
                "externalAccountBindingRequired": false
            }
        });
        let config_path = dir.join("pebble-config.json");
        std::fs::write(&config_path, config.to_string()).expect("pebble config");
        let pebble = Command::new("pebble")
            .arg("-config")
            .arg(&config_path)
            .args(["-dnsserver", &format!("127.0.0.1:{dns_port}")])
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .stdout(log("pebble.log"))
            .stderr(log("pebble.err"))
            .spawn()
            .expect("pebble starts");
        let pebble = Pebble {
            _dns: dns,
            pebble: Some(Killed(pebble)),
            directory: format!("https://127.0.0.1:{port}/dir"),
            management: SocketAddr::from(([127, 0, 0, 1], management_port)),
            pki,
            dir: dir.to_owned(),
        };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(15);
        while https_get(addr, "127.0.0.1", &pebble.pki.ca, "/dir").is_none() {
            assert!(
                Instant::now() < deadline,
                "pebble's directory did not answer:\n{}",
                pebble.logs()
            );
            std::thread::sleep(Duration::from_millis(50)); // poll interval of this deadline loop
        }
        pebble
    }

    /// The root that issues certificates (DER), from the management interface.
    fn issuing_root(&self) -> Vec<u8> {
        let (text, _) = https_get(self.management, "127.0.0.1", &self.pki.ca, "/roots/0")
            .expect("pebble's management interface answers");
        let begin = text
            .find("-----BEGIN CERTIFICATE-----")
            .unwrap_or_else(|| panic!("no PEM in {text}"));
        use rustls::pki_types::pem::PemObject;
        rustls::pki_types::CertificateDer::from_pem_slice(&text.as_bytes()[begin..])
            .expect("pebble's root parses")
            .to_vec()
    }

    /// The CA bundle for the node: the CA of pebble's own HTTPS certificate.
    fn ca_bundle(&self) -> std::path::PathBuf {
        let path = self.dir.join("pebble-ca.pem");
        std::fs::write(&path, self.pki.ca.pem()).expect("bundle");
        path
    }

    fn stop(&mut self) {
        self.pebble = None;
    }

    fn logs(&self) -> String {
        [
            "pebble.log",
            "pebble.err",
            "challtestsrv.log",
            "challtestsrv.err",
        ]
        .iter()
        .map(|f| std::fs::read_to_string(self.dir.join(f)).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
    }
}

fn http_addr(net: &Net) -> SocketAddr {
    net.nodes[0]
        .http
        .trim_start_matches("http://")
        .parse()
        .expect("the node's address")
}

/// Waits (at most [`ISSUE_DEADLINE`]) until node 0 serves, as `hub.test`, a certificate that
/// `root` issued; returns it. Panics if the node exits.
fn wait_served(net: &mut Net, root: &[u8], pebble: &Pebble) -> Vec<u8> {
    let addr = http_addr(net);
    let deadline = Instant::now() + ISSUE_DEADLINE;
    loop {
        if let Some((text, cert)) = https_get_trusting(addr, "hub.test", root, "/api/v1/health")
            && text.starts_with("HTTP/1.1 200")
        {
            return cert;
        }
        assert!(
            Instant::now() < deadline,
            "no certificate from pebble served within {ISSUE_DEADLINE:?}\n--- node:\n{}\n--- pebble:\n{}",
            net.log(0),
            pebble.logs()
        );
        std::thread::sleep(Duration::from_millis(100)); // poll interval of this deadline loop
    }
}

#[test]
fn a_certificate_is_ordered_from_pebble_served_and_reused_from_the_cache_after_a_restart() {
    if !pebble_available() {
        return;
    }
    let started = Instant::now();
    let mut net = Net::new(&["KZ"]);
    let addr = http_addr(&net);
    let mut pebble = Pebble::start(&net.dir.path().join("pebble"), addr.port());
    let root = pebble.issuing_root();
    let mut acme = AcmeFile::new(vec!["hub.test".into()]);
    acme.contact = vec!["mailto:ops@hub.test".into()];
    acme.directory = pebble.directory.clone();
    acme.ca_bundle = Some(pebble.ca_bundle());
    net.configure(0, |f| f.tls = Some(acme.into()));
    net.spawn(0, |_| {});
    let first = wait_served(&mut net, &root, &pebble);
    let (text, _) =
        https_get_trusting(addr, "hub.test", &root, "/api/v1/status").expect("HTTPS status");
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let log = net.log(0);
    assert!(log.contains("ACME: certificate obtained"), "{log}");
    // A handshake that offers only `acme-tls/1` with no validation under way gets nothing.
    assert!(
        https_alpn(addr, "hub.test", &root, b"acme-tls/1").is_err(),
        "a challenge handshake succeeded with no order under way"
    );
    // The cache: the account key and the certificate, private.
    let cache = net.data(0).join("acme");
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).expect("exists").permissions().mode() & 0o777;
    assert_eq!(mode(&cache), 0o700);
    let files: Vec<_> = std::fs::read_dir(&cache)
        .expect("cache dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files.iter().all(|f| mode(f) == 0o600), "{files:?}");
    let (metrics, _) =
        https_get_trusting(addr, "hub.test", &root, "/metrics").expect("HTTPS metrics");
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("hubnet_tls_certificate_expiry_seconds ") && !l.ends_with(" 0")),
        "{metrics}"
    );
    eprintln!("ordered and served in {:?}", started.elapsed());

    // A restart with pebble gone: the cached certificate is served, no order needed.
    net.stop(0);
    pebble.stop();
    net.spawn(0, |_| {});
    let again = wait_served(&mut net, &root, &pebble);
    assert_eq!(again, first, "not the cached certificate");
    let log = net.log(0);
    assert!(
        log.contains("ACME: serving the cached certificate"),
        "{log}"
    );
    assert_eq!(
        log.matches("ACME: certificate obtained").count(),
        1,
        "ordered again: {log}"
    );

    // Without its cache and with the CA unreachable: the node runs, says why in its log, answers
    // no handshake, retries with pauses, and stops cleanly.
    net.stop(0);
    std::fs::remove_dir_all(&cache).expect("cache removed");
    net.spawn(0, |_| {});
    let deadline = Instant::now() + Duration::from_secs(15);
    while !net.log(0).contains("ACME: ordering a certificate failed") {
        assert!(
            Instant::now() < deadline,
            "no failed order logged: {}",
            net.log(0)
        );
        std::thread::sleep(Duration::from_millis(50)); // poll interval of this deadline loop
    }
    assert!(
        https_get_trusting(addr, "hub.test", &root, "/healthz").is_none(),
        "served without a certificate"
    );
    net.stop(0);
    eprintln!("in all {:?}", started.elapsed());
}

/// A TLS handshake with node `addr` as `name`, offering only the ALPN protocol `alpn`.
fn https_alpn(addr: SocketAddr, name: &str, root: &[u8], alpn: &[u8]) -> Result<(), String> {
    use std::sync::Arc;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(root.to_vec()))
        .map_err(|e| e.to_string())?;
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    let server =
        rustls::pki_types::ServerName::try_from(name.to_owned()).map_err(|e| e.to_string())?;
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), server).map_err(|e| e.to_string())?;
    let mut tcp = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp).map_err(|e| e.to_string())?;
    }
    Ok(())
}
