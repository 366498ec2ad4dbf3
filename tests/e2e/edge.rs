//! The HTTP edge against hostile clients, as the issue found them, each on a real `hubnet run`:
//! connections that send nothing or one header byte at a time, one address holding many
//! connections, bodies that never arrive, unauthenticated bodies, too many reads, exports read by
//! nobody; and HTTPS from PEM files, with a renewed certificate taken without a restart.
//!
//! Clients other than the harness's come from 127.0.0.2 and up (all of 127.0.0.0/8 is this
//! machine), so that caps per address leave the harness's own requests from 127.0.0.1 alone.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use hubnet_node::edge::{Limits, TlsFiles};

use crate::support::{Pki, https_get};
use serde_json::{Value, json};

use crate::net::Net;

/// How long any single wait in these tests may take.
const DEADLINE: Duration = Duration::from_secs(15);

/// A one-node network whose HTTP limits `change` sets, started.
fn node(change: impl FnOnce(&mut Limits)) -> Net {
    let mut net = Net::new(&["KZ"]);
    net.configure(0, |f| {
        let mut limits = Limits::default();
        change(&mut limits);
        f.http_limits = limits;
    });
    net.start(0);
    net
}

fn http_addr(net: &Net) -> SocketAddr {
    net.nodes[0]
        .http
        .trim_start_matches("http://")
        .parse()
        .expect("the node's address")
}

/// A TCP connection to the node from `from` (127.0.0.x), with reads bounded by [`DEADLINE`].
fn connect_from(net: &Net, from: [u8; 4]) -> TcpStream {
    connect_with(net, from, None)
}

/// [`connect_from`] with a receive buffer of `recv_buffer` bytes (which also stops the kernel
/// from growing it: a client that reads nothing then holds only that much).
fn connect_with(net: &Net, from: [u8; 4], recv_buffer: Option<usize>) -> TcpStream {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    if let Some(n) = recv_buffer {
        socket.set_recv_buffer_size(n).expect("SO_RCVBUF");
    }
    socket
        .bind(&SocketAddr::from((from, 0)).into())
        .expect("bind a loopback address");
    socket.connect(&http_addr(net).into()).expect("connect");
    let s: TcpStream = socket.into();
    s.set_read_timeout(Some(DEADLINE)).expect("timeout");
    s
}

/// Waits until `cond` holds, at most [`DEADLINE`].
fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !cond() {
        assert!(Instant::now() < deadline, "{what}: not within {DEADLINE:?}");
        std::thread::sleep(Duration::from_millis(50)); // poll interval of this deadline loop
    }
}

/// Reads until the peer closes (or [`DEADLINE`]); returns what came and how long it took.
fn read_to_close(s: &mut TcpStream) -> (String, Duration) {
    let start = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
                ) =>
            {
                break;
            }
            Err(e) => panic!("not closed within {DEADLINE:?}: {e}"),
        }
    }
    (String::from_utf8_lossy(&out).into_owned(), start.elapsed())
}

/// Reads one answer (its head and a problem body) without waiting for the connection to close.
fn read_to_close_after_answer(s: &mut TcpStream) -> (String, Duration) {
    let start = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&out).contains("\r\n\r\n{") || !out.ends_with(b"}") {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => panic!("no whole answer within {DEADLINE:?}: {e}"),
        }
    }
    (String::from_utf8_lossy(&out).into_owned(), start.elapsed())
}

/// The status code of the first answer in `text`.
fn status_of(text: &str) -> u16 {
    text.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer in {text:?}"))
}

/// A header's value in an answer's `text`.
fn header<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// The value of a Prometheus sample of the node's `/metrics` (0 when absent).
fn metric(net: &Net, sample: &str) -> f64 {
    net.metric(0, sample)
}

#[test]
fn silent_idle_and_trickling_clients_are_cut_off_by_the_header_timeout() {
    let net = node(|l| l.header_timeout_ms = 600);
    // Sends nothing.
    let mut silent = connect_from(&net, [127, 0, 0, 2]);
    // Keeps the connection after an answer.
    let mut idle = connect_from(&net, [127, 0, 0, 2]);
    idle.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write");
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).expect("an answer");
    assert_eq!(&first, b"HTTP/1.1 200");
    // One header byte every 100 ms: never done within the timeout, however long it trickles.
    let trickle = std::thread::spawn({
        let mut s = connect_from(&net, [127, 0, 0, 2]);
        move || {
            let start = Instant::now();
            for b in b"GET /api/v1/health HTTP/1.1\r\nHost: a-long-host-name.example\r\nX-Slow: "
                .iter()
                .cycle()
            {
                if s.write_all(&[*b]).is_err() || start.elapsed() > DEADLINE {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100)); // the client's pace, not a wait
            }
            start.elapsed()
        }
    });
    for (name, s) in [("silent", &mut silent), ("idle", &mut idle)] {
        let (_, took) = read_to_close(s);
        assert!(
            took < Duration::from_secs(5),
            "{name}: closed after {took:?}"
        );
    }
    let took = trickle.join().expect("trickle");
    assert!(
        took < Duration::from_secs(5),
        "the trickling client kept its connection {took:?}"
    );
    assert!(metric(&net, "hubnet_http_timeouts_total{kind=\"header\"}") >= 2.0);
}

#[test]
fn one_address_gets_its_share_of_connections_and_others_still_get_answers() {
    let net = node(|l| l.max_connections_per_address = 8);
    let held: Vec<TcpStream> = (0..8).map(|_| connect_from(&net, [127, 0, 0, 3])).collect();
    // Each of the eight is admitted: it answers.
    for mut s in held.iter().take(1) {
        s.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("write");
    }
    let mut ninth = connect_from(&net, [127, 0, 0, 3]);
    let (text, took) = read_to_close(&mut ninth);
    assert_eq!(status_of(&text), 503, "{text}");
    assert_eq!(header(&text, "retry-after"), Some("1"));
    assert!(took < Duration::from_secs(2), "refused after {took:?}");
    // Another address is answered meanwhile.
    let (status, _) = net.get(0, "/api/v1/status");
    assert_eq!(status, 200);
    assert!(
        metric(
            &net,
            "hubnet_http_refused_total{reason=\"connections_per_address\"}"
        ) >= 1.0
    );
    drop(held);
}

#[test]
fn when_every_place_is_taken_the_oldest_idle_connection_makes_room() {
    let net = node(|l| {
        l.max_connections = 8;
        l.max_connections_per_address = 8;
    });
    // Eight connections from eight addresses, each answered once and kept idle: every place
    // taken (and each surely admitted: it was answered).
    let mut idle: Vec<TcpStream> = (0..8u8)
        .map(|i| {
            let mut s = connect_from(&net, [127, 0, 3, 1 + i]);
            s.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
                .expect("write");
            let mut head = [0u8; 12];
            s.read_exact(&mut head).expect("an answer");
            assert_eq!(&head, b"HTTP/1.1 200");
            s
        })
        .collect();
    // A newcomer is answered; the oldest idle connection was closed for it, and only it.
    let mut newcomer = connect_from(&net, [127, 0, 4, 1]);
    newcomer
        .write_all(b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("write");
    let (text, _) = read_to_close(&mut newcomer);
    assert_eq!(status_of(&text), 200, "{text}");
    let (_, took) = read_to_close(&mut idle[0]);
    assert!(took < Duration::from_secs(2), "closed after {took:?}");
    for s in idle.iter_mut().skip(1) {
        s.set_nonblocking(true).expect("nonblocking");
        let mut b = [0u8; 64];
        // Nothing to read and still open (the answer's rest was read with the head, or is
        // there: either way, not an end of stream).
        let r = s.read(&mut b);
        assert!(
            !matches!(r, Ok(0)),
            "a newer idle connection was closed too"
        );
    }
    assert!(metric(&net, "hubnet_http_refused_total{reason=\"evicted\"}") >= 1.0);
}

#[test]
fn the_admin_token_is_checked_before_any_body_is_read() {
    let net = node(|_| {});
    let mut s = connect_from(&net, [127, 0, 0, 4]);
    // A megabyte announced, nothing sent: the answer comes at once, and the connection closes.
    s.write_all(
        b"POST /api/v1/records HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n",
    )
    .expect("write");
    let (text, took) = read_to_close(&mut s);
    assert_eq!(status_of(&text), 401, "{text}");
    assert!(took < Duration::from_secs(2), "answered after {took:?}");
    assert!(text.contains("application/problem+json"), "{text}");
}

#[test]
fn a_body_that_never_arrives_is_answered_408_and_a_huge_one_413() {
    let net = node(|l| l.request_timeout_ms = 500);
    let mut s = connect_from(&net, [127, 0, 0, 5]);
    s.write_all(b"POST /api/v1/checkpoints HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 1000\r\n\r\n0123456789")
        .expect("write");
    let (text, took) = read_to_close(&mut s);
    assert_eq!(status_of(&text), 408, "{text}");
    assert!(took < Duration::from_secs(5), "answered after {took:?}");
    // Chunked, never ending: the same.
    let mut s = connect_from(&net, [127, 0, 0, 5]);
    s.write_all(b"POST /api/v1/governance/decisions HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        .expect("write");
    let (text, _) = read_to_close(&mut s);
    assert_eq!(status_of(&text), 408, "{text}");
    // Over the limit by its own word: refused before a byte of it is read.
    let mut s = connect_from(&net, [127, 0, 0, 5]);
    s.write_all(
        b"POST /api/v1/checkpoints HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n",
    )
    .expect("write");
    let (text, took) = read_to_close(&mut s);
    assert_eq!(status_of(&text), 413, "{text}");
    assert!(took < Duration::from_secs(2), "answered after {took:?}");
    assert!(metric(&net, "hubnet_http_timeouts_total{kind=\"body\"}") >= 2.0);
}

#[test]
fn reads_over_an_address_rate_get_429_with_retry_after_and_probes_never_do() {
    let net = node(|l| {
        l.reads_per_second = 1;
        l.read_burst = 5;
    });
    let ask = |path: &str| {
        let mut s = connect_from(&net, [127, 0, 0, 6]);
        s.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .expect("write");
        read_to_close(&mut s).0
    };
    let codes: Vec<u16> = (0..8).map(|_| status_of(&ask("/api/v1/health"))).collect();
    assert_eq!(&codes[..5], &[200; 5], "{codes:?}");
    assert!(codes[5..].iter().all(|c| *c == 429), "{codes:?}");
    let text = ask("/api/v1/health");
    assert_eq!(status_of(&text), 429);
    let wait: u64 = header(&text, "retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
    for _ in 0..10 {
        assert_eq!(status_of(&ask("/healthz")), 200);
    }
    // Another address is not limited by this one's use.
    assert_eq!(net.get(0, "/api/v1/health").0, 200);
}

/// Publishes `n` practices on node 0, each with a body of about 60 KB in each of three
/// languages (near the sample charter's limits: 64 KiB a language, 256 KiB a record).
fn publish_corpus(net: &Net, n: usize) {
    let ru = "Реформа государственной службы. ".repeat(1000);
    let kk = "Мемлекеттік қызмет реформасы. ".repeat(1000);
    let en = "Civil service reform, step by step. ".repeat(1600);
    for i in 0..n {
        let mut draft = crate::net::practice(&format!("Corpus practice {i}"));
        draft["body"] = json!({ "ru": ru, "kk": kk, "en": en });
        net.publish(0, &draft);
    }
    wait_for("the corpus searchable", || {
        let (_, body) = net.get(0, "/api/v1/records?limit=1");
        serde_json::from_slice::<Value>(&body).is_ok_and(|v| v["total"] == json!(n))
    });
}

#[test]
fn exports_past_the_cap_are_shed_and_a_client_that_reads_nothing_is_closed() {
    let net = node(|l| {
        l.max_streams = 1;
        l.write_timeout_ms = 800;
        // The corpus's 50 records at once, past the default pace of one author.
        l.author_record_burst = 50;
    });
    // About 20 MB of export: far more than the sockets' buffers (a few MB at most on this
    // machine) and the answer's channel, so the node must wait on the client.
    publish_corpus(&net, 50);
    let export = b"GET /api/v1/export?format=json HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut stalled = connect_with(&net, [127, 0, 0, 7], Some(64 * 1024));
    stalled.write_all(export).expect("write");
    // Its answer has begun (it holds the one stream place); then it reads nothing more.
    let mut head = [0u8; 12];
    stalled.read_exact(&mut head).expect("an answer");
    assert_eq!(&head, b"HTTP/1.1 200");
    // A second export meanwhile is shed.
    let mut other = connect_from(&net, [127, 0, 0, 8]);
    other.write_all(export).expect("write");
    let (text, _) = read_to_close_after_answer(&mut other);
    assert_eq!(status_of(&text), 503, "{text}");
    assert_eq!(header(&text, "retry-after"), Some("1"));
    wait_for("the stalled export closed by the write timeout", || {
        metric(&net, "hubnet_http_timeouts_total{kind=\"write\"}") >= 1.0
    });
    wait_for("a new export answered", || {
        net.get(0, "/api/v1/export?format=ndjson&limit=1").0 == 200
    });
    drop(stalled);
    // A client that reads the whole export gets every record.
    let (status, body) = net.get(0, "/api/v1/export?format=json");
    assert_eq!(status, 200);
    let all: Vec<Value> = serde_json::from_slice(&body).expect("a JSON array");
    assert_eq!(all.len(), 50);
    assert!(body.len() > 16 << 20, "the export is {} bytes", body.len());
}

/// One key's records taken through the API are paced: past the burst a publish gets 429 with
/// `Retry-After` (a key, stolen or not, cannot pour records into the network through a node),
/// while another member's record, signed elsewhere and pushed, is still taken.
#[test]
fn records_of_one_author_past_its_pace_get_429_and_anothers_are_taken() {
    let net = node(|l| {
        l.author_records_per_second = 1;
        l.author_record_burst = 3;
    });
    for i in 0..3 {
        net.publish(0, &crate::net::practice(&format!("Paced case {i}")));
    }
    let r = reqwest::blocking::Client::new()
        .post(format!("{}/api/v1/records", net.nodes[0].http))
        .bearer_auth(&net.nodes[0].token)
        .json(&crate::net::practice("One too many"))
        .send()
        .expect("POST");
    assert_eq!(r.status().as_u16(), 429);
    let wait: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .expect("Retry-After");
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
    let problem: Value = r.json().expect("a problem");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("records a second")),
        "{problem}"
    );
    let charter = crate::support::sample_charter();
    let kg = hubnet_node::keyfile::read(&crate::support::sample().join("keys/KG.key"))
        .expect("KG's key");
    let body = hubnet_protocol::Draft::parse(
        r#"{"kind":"practice","title":{"en":"Pushed"},"summary":{"en":"x"},"topics":["pay"]}"#,
        hubnet_protocol::DraftFormat::Json,
    )
    .and_then(|d| d.to_body("KG", &charter.rules()))
    .expect("body");
    let signed = hubnet_protocol::record::sign(
        &kg,
        charter.network_id(),
        hubnet_protocol::Position::FIRST,
        hubnet_node::now_ms(),
        &body,
    );
    let (status, answer) = net.post_raw(0, signed.encode());
    assert_eq!(status, 201, "{answer}");
}

#[test]
fn https_from_pem_files_and_a_renewed_certificate_is_served_without_a_restart() {
    let pki = Pki::new();
    let mut net = Net::new(&["KZ"]);
    let files = TlsFiles {
        cert: net.nodes[0].dir.join("fullchain.pem"),
        key: net.nodes[0].dir.join("privkey.pem"),
    };
    let first = pki.issue("hub.test", &files);
    net.configure(0, |f| f.tls = Some(files.clone().into()));
    let addr = http_addr(&net);
    net.spawn(0, |_| {});
    net.wait_started_by(0, |_, _| {
        https_get(addr, "hub.test", &pki.ca, "/api/v1/health").is_some()
    });
    let (text, cert) = https_get(addr, "hub.test", &pki.ca, "/api/v1/status").expect("HTTPS");
    assert_eq!(status_of(&text), 200, "{text}");
    assert_eq!(cert, first);
    // Links in feeds say https.
    let (text, _) = https_get(addr, "hub.test", &pki.ca, "/feeds/practices.atom").expect("HTTPS");
    assert!(
        text.contains("https://hub.test/feeds/practices.atom"),
        "{text}"
    );
    // Plain HTTP on the TLS port gets no answer.
    let mut plain = TcpStream::connect(addr).expect("connect");
    plain.set_read_timeout(Some(DEADLINE)).expect("timeout");
    plain
        .write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write");
    let (text, _) = read_to_close(&mut plain);
    assert!(!text.starts_with("HTTP/1.1 200"), "{text}");
    // A renewal: new files, the same name; served within the reload check.
    let renewed = pki.issue("hub.test", &files);
    assert_ne!(renewed, first);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some((_, cert)) = https_get(addr, "hub.test", &pki.ca, "/api/v1/health")
            && cert == renewed
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the renewed certificate was not taken"
        );
        std::thread::sleep(Duration::from_millis(200)); // poll interval of this deadline loop
    }
    assert!(net.log(0).contains("TLS certificate reloaded"));
}

/// Caddy (Debian's `caddy`) when it is here; the test fails without it if CI requires it.
fn caddy_available() -> bool {
    crate::support::tool_here(
        &["caddy", "version"],
        "HUBNET_REQUIRE_CADDY",
        "the Caddy test",
        "apt-get install -y caddy; .ci/run does",
    )
}

/// Caddy running `deploy/caddy/Caddyfile`, made local: the site on plain HTTP at a free port
/// instead of the public name, the node's address, a log file in the test's dir, no admin API.
struct Caddy {
    child: std::process::Child,
    addr: SocketAddr,
}

impl Drop for Caddy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn caddy_in_front(net: &Net) -> Caddy {
    let shipped = std::fs::read_to_string(crate::support::sample().join("../caddy/Caddyfile"))
        .expect("deploy/caddy/Caddyfile");
    let port = crate::support::free_port();
    let dir = net.dir.path().join("caddy");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let local = shipped
        .replace(
            "hubnet.example.kz {",
            &format!("{{\n\tadmin off\n}}\n\nhttp://127.0.0.1:{port} {{"),
        )
        .replace("127.0.0.1:8080", &http_addr(net).to_string())
        .replace(
            "/var/log/caddy/hubnet.access.log",
            &dir.join("access.log").display().to_string(),
        );
    assert_ne!(local, shipped, "the shipped Caddyfile changed shape");
    let file = dir.join("Caddyfile");
    std::fs::write(&file, local).expect("Caddyfile");
    let child = std::process::Command::new("caddy")
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(&file)
        .env("HOME", &dir)
        .env("XDG_DATA_HOME", &dir)
        .env("XDG_CONFIG_HOME", &dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.join("caddy.log")).expect("log"))
        .spawn()
        .expect("caddy starts");
    let caddy = Caddy {
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
    };
    wait_for("Caddy answers", || TcpStream::connect(caddy.addr).is_ok());
    caddy
}

/// One GET through `to` (named by its address: Caddy answers other names with an empty 200)
/// from the local address `from`: the answer's status and text.
fn get_from(from: [u8; 4], to: SocketAddr, path: &str, extra: &str) -> (u16, String) {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    socket
        .bind(&SocketAddr::from((from, 0)).into())
        .expect("bind");
    socket.connect(&to.into()).expect("connect");
    let mut s: TcpStream = socket.into();
    s.set_read_timeout(Some(DEADLINE)).expect("timeout");
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {to}\r\n{extra}Connection: close\r\n\r\n").as_bytes(),
    )
    .expect("write");
    let text = read_to_close(&mut s).0;
    (status_of(&text), text)
}

#[test]
fn behind_caddy_limits_count_per_client_and_the_write_side_is_not_exposed() {
    if !caddy_available() {
        return;
    }
    let mut net = Net::new(&["KZ"]);
    net.configure(0, |f| {
        f.trusted_proxies = vec!["127.0.0.1".into()];
        f.http_limits = Limits {
            reads_per_second: 1,
            read_burst: 3,
            ..Limits::default()
        };
    });
    net.start(0);
    let caddy = caddy_in_front(&net);
    wait_for("the node answers through Caddy", || {
        let (status, text) = get_from([127, 0, 5, 9], caddy.addr, "/healthz", "");
        status == 200 && text.ends_with("ok")
    });
    // Client A uses up its burst, also when it claims to be someone else: Caddy replaces what a
    // client says in X-Forwarded-For with its address.
    let a = [127, 0, 5, 1];
    let spoof = "X-Forwarded-For: 203.0.113.77\r\n";
    let codes: Vec<u16> = (0..5)
        .map(|i| {
            get_from(
                a,
                caddy.addr,
                "/api/v1/health",
                if i % 2 == 0 { spoof } else { "" },
            )
            .0
        })
        .collect();
    assert_eq!(&codes[..3], &[200, 200, 200], "{codes:?}");
    assert_eq!(codes[3..], [429, 429], "{codes:?}");
    // Client B, through the same proxy, is not held back by A.
    assert_eq!(
        get_from([127, 0, 5, 2], caddy.addr, "/api/v1/health", "").0,
        200
    );
    // The write side is not reachable through the proxy.
    let mut s = TcpStream::connect(caddy.addr).expect("connect");
    s.set_read_timeout(Some(DEADLINE)).expect("timeout");
    s.write_all(
        format!("POST /api/v1/records HTTP/1.1\r\nHost: {}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}", caddy.addr)
            .as_bytes(),
    )
    .expect("write");
    assert_eq!(status_of(&read_to_close(&mut s).0), 404);
}
