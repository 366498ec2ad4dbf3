//! The web UI in headless Chromium, driven over WebDriver (fantoccini) against a real node that
//! holds the whole sample corpus: search in Russian, filter by country, open a record and see its
//! signature verified in the page; the same record with its bytes altered on the way (by a proxy
//! between the browser and the node) is reported as not verified. The audit view shows a key
//! rotation in a member's key history and the governance timeline, then a node's contradicting
//! checkpoints. The committed vectors of the signature rule get the rule's verdict from the
//! function the page's check runs, with Chromium's WebCrypto deciding the equation.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them and sets
//! `HUBNET_REQUIRE_BROWSER=1`, which turns their absence into a failure). Elsewhere, without
//! them, the tests say so and pass without running.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::net::Net;
use crate::support::{Pki, free_port, https_get, hubnet, path, sample, sample_charter, sample_key};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long any one thing may take in the browser.
const STEP: Duration = Duration::from_secs(20);

/// Whether the browser is here; panics when CI requires it and it is not.
pub(crate) fn browser_available() -> bool {
    let here = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !here {
        assert!(
            std::env::var_os("HUBNET_REQUIRE_BROWSER").is_none(),
            "HUBNET_REQUIRE_BROWSER is set but {CHROMIUM} or {CHROMEDRIVER} is missing: \
             apt-get install -y chromium chromium-driver"
        );
        eprintln!(
            "browser tests NOT RUN: {CHROMIUM} or {CHROMEDRIVER} missing \
             (apt-get install -y chromium chromium-driver; .ci/run does)"
        );
    }
    here
}

/// A practice whose text is markup and script: it must be shown as text and never run.
const MARKUP: &str = r#"kind = "practice"
topics = ["ethics-integrity"]

[title]
en = "<img src=x onerror=\"window.__x=1\"> Markup in a title"

[summary]
en = "<script>window.__y=1</script> shown as text"

[body]
en = """
<script>window.__z=1</script>

<img src=x onerror="window.__z=2"> and [a link](javascript:window.__z=3)
"""
"#;

/// Publishes the draft file `draft` into the data dir `data` (no node running) with member
/// `code`'s sample key; returns the record's id.
fn publish_offline(data: &Path, code: &str, draft: &Path) -> String {
    let out = hubnet()
        .args(["publish", "--data-dir", path(data), "--key"])
        .arg(sample_key(code))
        .arg(draft)
        .output()
        .expect("hubnet publish");
    assert!(
        out.status.success(),
        "{}: {}",
        draft.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A node holding every sample draft, published with each member's sample key, the sample
/// programmes' confirmations and withdrawals (`deploy/sample/programmes.toml`), and the
/// [`MARKUP`] practice by KZ (its id is returned too). The count is of content records.
pub(crate) fn corpus_node() -> (Net, usize, String) {
    let mut net = Net::new(&["KZ"]);
    net.init(0);
    let data = net.data(0);
    let mut count = 0;
    let mut ids = std::collections::BTreeMap::new();
    let mut members: Vec<_> = std::fs::read_dir(sample().join("drafts"))
        .expect("drafts")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    members.sort();
    for m in members {
        let code = m
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_owned();
        let mut files: Vec<_> = std::fs::read_dir(&m)
            .expect("member drafts")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        files.sort();
        for f in files {
            let id = publish_offline(&data, &code, &f);
            let file = f.file_name().and_then(|n| n.to_str()).expect("name");
            ids.insert(format!("{code}/{file}"), id);
            count += 1;
        }
    }
    apply_programme_plan(&data, net.dir.path(), &ids);
    let markup = net.dir.path().join("markup.toml");
    std::fs::write(&markup, MARKUP).expect("write the draft");
    let markup_id = publish_offline(&data, "KZ", &markup);
    count += 1;
    net.start(0);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = net.get(0, "/api/v1/records?limit=1");
        let total = serde_json::from_slice::<Value>(&body).map(|v| v["total"].clone());
        if status == 200 && total.as_ref().ok() == Some(&json!(count)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the node did not index the corpus: {total:?}"
        );
        std::thread::sleep(Duration::from_millis(100)); // poll interval of this deadline loop
    }
    (net, count, markup_id)
}

/// Publishes the steps of `deploy/sample/programmes.toml` into `data` with each participant's
/// sample key, as `hubnet devnet` does on the participants' nodes: the confirmations (drafted
/// without a version, which `hubnet publish` fills in), then the withdrawals. `ids` are the
/// sample drafts' record ids by path under `drafts/`; the drafts are written into `tmp`.
fn apply_programme_plan(data: &Path, tmp: &Path, ids: &std::collections::BTreeMap<String, String>) {
    use hubnet_node::sample::{ProgrammePlan, Step, confirmation_draft};
    let text = std::fs::read_to_string(sample().join("programmes.toml")).expect("programmes.toml");
    let plan = ProgrammePlan::parse(&text).expect("the sample plan");
    let mut confirmations: std::collections::BTreeMap<(&String, &str), String> =
        std::collections::BTreeMap::new();
    for (i, step) in plan.steps().into_iter().enumerate() {
        let (programme, member) = (step.programme(), step.member());
        let id = &ids[&programme.draft];
        let draft = match step {
            Step::Confirm { .. } => confirmation_draft(id),
            Step::Withdraw { .. } => programme.withdrawal_draft(&confirmations[&(id, member)]),
        };
        let file = tmp.join(format!("programme-step-{i}.json"));
        std::fs::write(&file, draft.to_string()).expect("write the draft");
        let published = publish_offline(data, member, &file);
        if let Step::Confirm { .. } = step {
            confirmations.insert((id, member), published);
        }
    }
}

/// chromedriver on a free port, killed on drop.
pub(crate) struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn start_driver() -> Driver {
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let url = format!("http://127.0.0.1:{port}");
    let driver = Driver { child, url };
    let deadline = Instant::now() + STEP;
    let client = reqwest::blocking::Client::new();
    while client
        .get(format!("{}/status", driver.url))
        .send()
        .map(|r| !r.status().is_success())
        .unwrap_or(true)
    {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(50)); // poll interval of this deadline loop
    }
    driver
}

pub(crate) async fn browser(driver: &Driver, profile: &Path, width: u32, height: u32) -> Client {
    browser_with(driver, profile, width, height, &[]).await
}

/// [`browser`] with more command-line arguments for Chromium.
pub(crate) async fn browser_with(
    driver: &Driver,
    profile: &Path,
    width: u32,
    height: u32,
    extra: &[String],
) -> Client {
    let mut args: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--lang=en-US",
    ]
    .map(str::to_owned)
    .to_vec();
    args.push(format!("--user-data-dir={}", profile.display()));
    args.push(format!("--window-size={width},{height}"));
    args.extend(extra.iter().cloned());
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({ "binary": CHROMIUM, "args": args }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a WebDriver session")
}

/// Waits until `css` matches an element whose attribute `attr` is one of `values`; returns it.
async fn wait_attr(c: &Client, css: &str, attr: &str, values: &[&str]) -> String {
    let deadline = Instant::now() + STEP;
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await
            && let Ok(Some(v)) = e.attr(attr).await
            && values.contains(&v.as_str())
        {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "{css}[{attr}] not one of {values:?} in time; page: {}",
            c.source()
                .await
                .unwrap_or_default()
                .chars()
                .take(2000)
                .collect::<String>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await; // poll; the deadline bounds it
    }
}

/// The ids the API answers for `path`, in order.
fn api_ids(net: &Net, path: &str) -> Vec<String> {
    let (status, body) = net.get(0, path);
    assert_eq!(status, 200, "{path}");
    let v: Value = serde_json::from_slice(&body).expect("json");
    v["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Waits until the page lists exactly the results `want`, in order.
async fn wait_ids(c: &Client, want: &[String]) {
    let deadline = Instant::now() + STEP;
    let mut shown = Vec::new();
    while Instant::now() < deadline {
        shown.clear();
        for e in c
            .find_all(Locator::Css("[data-testid=result]"))
            .await
            .unwrap_or_default()
        {
            shown.push(e.attr("data-id").await.ok().flatten().unwrap_or_default());
        }
        if shown == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await; // poll; the deadline bounds it
    }
    panic!("the page shows {shown:?}, the API answers {want:?}");
}

/// The page's signature verdict once it is reached (`true` or `false`) and the panel's text.
/// Scrolls `element` to the middle of the window at once, then clicks it. Instant: the
/// stylesheet scrolls smoothly, and a click during the animation lands on whatever passes under
/// the pointer (ElementClickIntercepted).
async fn scroll_and_click(c: &Client, element: fantoccini::elements::Element) {
    c.execute(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});",
        vec![serde_json::to_value(&element).expect("element")],
    )
    .await
    .expect("scroll");
    element.click().await.expect("click");
}

async fn signature_verdict(c: &Client) -> (String, String) {
    let v = wait_attr(
        c,
        "[data-testid=verify-status]",
        "data-verified",
        &["true", "false"],
    )
    .await;
    let text = c
        .find(Locator::Css("[data-testid=verify-status]"))
        .await
        .expect("status")
        .text()
        .await
        .unwrap_or_default();
    (v, text)
}

/// A runtime for the async half of a test (the harness's own client blocks, so it runs outside).
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Waits until at least `n` elements match `css`; returns their texts.
async fn wait_texts(c: &Client, css: &str, n: usize) -> Vec<String> {
    let deadline = Instant::now() + STEP;
    loop {
        let found = c.find_all(Locator::Css(css)).await.unwrap_or_default();
        if found.len() >= n {
            let mut out = Vec::new();
            for e in found {
                out.push(e.text().await.unwrap_or_default());
            }
            return out;
        }
        assert!(Instant::now() < deadline, "fewer than {n} of {css} in time");
        tokio::time::sleep(Duration::from_millis(50)).await; // poll; the deadline bounds it
    }
}

/// A proxy in front of the node that changes one byte of `target`'s signed body in every JSON
/// answer that carries it: the bytes are altered on the way, the node is honest.
async fn tampering_proxy(node: String, target: String) -> SocketAddr {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, Method, Uri};
    let client = reqwest::Client::new();
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let (client, node, target) = (client.clone(), node.clone(), target.clone());
            async move {
                let url = format!("{node}{uri}");
                let mut req = client.request(method, &url).body(body);
                // Plain answers: a proxy that reads or rewrites them asks for no compression.
                for (k, v) in &headers {
                    if k != "host" && k != "accept-encoding" {
                        req = req.header(k, v);
                    }
                }
                let r = req.send().await.expect("the node answers");
                let status = r.status();
                let mut out = axum::http::Response::builder().status(status.as_u16());
                for (k, v) in r.headers() {
                    if k != "content-length" && k != "transfer-encoding" {
                        out = out.header(k.as_str(), v.as_bytes());
                    }
                }
                let is_json = r
                    .headers()
                    .get("content-type")
                    .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
                let mut bytes = r.bytes().await.expect("body").to_vec();
                if is_json
                    && let Ok(mut v) = serde_json::from_slice::<Value>(&bytes)
                    && tamper(&mut v, &target)
                {
                    bytes = serde_json::to_vec(&v).expect("json");
                }
                out.body(axum::body::Body::from(bytes)).expect("response")
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// Flips a bit in the signed body of every object with id `target`; true if any was changed.
fn tamper(v: &mut Value, target: &str) -> bool {
    match v {
        Value::Object(map) => {
            let mut changed = false;
            if map.get("id").and_then(Value::as_str) == Some(target)
                && let Some(body) = map.get_mut("signed").and_then(|s| s.get_mut("body"))
                && let Some(b64) = body.as_str()
                && let Ok(mut raw) = STANDARD.decode(b64)
                && let Some(last) = raw.last_mut()
            {
                *last ^= 0x01;
                *body = Value::String(STANDARD.encode(&raw));
                changed = true;
            }
            for child in map.values_mut() {
                changed |= tamper(child, target);
            }
            changed
        }
        Value::Array(items) => items.iter_mut().fold(false, |c, i| tamper(i, target) | c),
        _ => false,
    }
}

#[test]
fn search_in_russian_filter_open_and_verify_in_the_browser() {
    if !browser_available() {
        return;
    }
    let (net, _, markup) = corpus_node();
    let node = net.nodes[0].http.clone();
    // What the API answers, asked before the browser runs (the harness's client blocks).
    let q = url_encode("электронное правительство");
    let want = api_ids(&net, &format!("/api/v1/records?q={q}"));
    assert!(
        want.len() >= 2,
        "the corpus has e-government practices: {want:?}"
    );
    let want_kg = api_ids(&net, &format!("/api/v1/records?country=KG&q={q}"));
    assert!(
        !want_kg.is_empty() && want_kg.len() < want.len(),
        "{want_kg:?}"
    );
    let driver = start_driver();
    let profile = tempfile::tempdir().expect("profile dir");
    let rt = runtime();
    rt.block_on(async {
        let c = browser(&driver, profile.path(), 1280, 900).await;
        // Search in Russian from the search box.
        c.goto(&format!("{node}/")).await.expect("open /");
        let input = c
            .wait()
            .at_most(STEP)
            .for_element(Locator::Css("[data-testid=search-input]"))
            .await
            .expect("the search box");
        input
            .send_keys("электронное правительство\u{E007}")
            .await
            .expect("type");
        wait_ids(&c, &want).await;
        let titles = wait_texts(&c, "[data-testid=result-title]", want.len()).await;
        assert!(
            titles.iter().all(|t| !t.trim().is_empty()),
            "every result shows a title: {titles:?}"
        );
        // Filter by country: the URL carries the filters, the page shows what the API answers.
        c.goto(&format!("{node}/?q={q}&country=KG"))
            .await
            .expect("filtered search");
        wait_ids(&c, &want_kg).await;
        // Open the first result and see its signature verified by the page itself.
        c.find(Locator::Css("[data-testid=result] a"))
            .await
            .expect("a result link")
            .click()
            .await
            .expect("click");
        let (verdict, text) = signature_verdict(&c).await;
        assert_eq!(verdict, "true", "the page did not verify: {text}");
        let url = c.current_url().await.expect("url");
        assert_eq!(url.path(), format!("/records/{}", want_kg[0]));
        // Markup and script in a record are text: shown, never run, on the results and the page.
        c.goto(&format!("{node}/?q=markup")).await.expect("search");
        let titles = wait_texts(&c, "[data-testid=result-title]", 1).await;
        assert!(titles[0].contains("<img src=x"), "{titles:?}");
        c.goto(&format!("{node}/records/{markup}"))
            .await
            .expect("open");
        let (verdict, _) = signature_verdict(&c).await;
        assert_eq!(verdict, "true");
        let title = c
            .find(Locator::Css("[data-testid=record-title]"))
            .await
            .expect("title")
            .text()
            .await
            .unwrap_or_default();
        assert!(title.contains("<img src=x"), "{title}");
        let ran = c
            .execute(
                "return [typeof window.__x, typeof window.__y, typeof window.__z];",
                vec![],
            )
            .await
            .expect("script");
        assert_eq!(
            ran,
            json!(["undefined", "undefined", "undefined"]),
            "record content ran"
        );
        c.close().await.expect("close");
    });
}

#[test]
fn altered_bytes_are_reported_as_not_verified() {
    if !browser_available() {
        return;
    }
    let (net, _, _) = corpus_node();
    let node = net.nodes[0].http.clone();
    let (_, body) = net.get(0, "/api/v1/records?country=KZ&kind=practice&limit=1");
    let v: Value = serde_json::from_slice(&body).expect("json");
    let id = v["records"][0]["id"].as_str().expect("an id").to_owned();
    let driver = start_driver();
    let profile = tempfile::tempdir().expect("profile dir");
    let rt = runtime();
    rt.block_on(async {
        let proxy = tampering_proxy(node.clone(), id.clone()).await;
        // Phone width: the page must fit without sideways scrolling.
        let c = browser(&driver, profile.path(), 390, 844).await;
        // Through the honest node: verified.
        c.goto(&format!("{node}/records/{id}")).await.expect("open");
        let (honest, _) = signature_verdict(&c).await;
        assert_eq!(honest, "true");
        let overflow = c
            .execute(
                "return document.documentElement.scrollWidth - window.innerWidth;",
                vec![],
            )
            .await
            .expect("script");
        assert!(
            overflow.as_i64().unwrap_or(0) <= 0,
            "the record page scrolls sideways at phone width by {overflow}px"
        );
        // Through the tampering proxy: loudly not verified.
        c.goto(&format!("http://{proxy}/records/{id}"))
            .await
            .expect("open via proxy");
        let (altered, text) = signature_verdict(&c).await;
        assert_eq!(altered, "false", "altered bytes were not caught: {text}");
        assert!(
            text.to_uppercase().contains("NOT VERIFIED"),
            "the page must say so loudly: {text}"
        );
        c.close().await.expect("close");
    });
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A decision at `seq` after `prev`, signed by two of the sample committee's keys, encoded.
fn committee_decision(
    seq: u64,
    prev: Option<hubnet_protocol::RecordId>,
    reason: &str,
    action: hubnet_protocol::governance::Action,
) -> Vec<u8> {
    use hubnet_protocol::governance::{DecisionDraft, sign_decision};
    use prost::Message;
    let charter = sample_charter();
    let bytes = DecisionDraft {
        seq,
        prev,
        created_at: hubnet_node::now_ms(),
        reason: [("en".to_owned(), reason.to_owned())].into(),
        action,
    }
    .encode(&charter);
    hubnet_proto::v1::SignedDecision {
        signatures: ["committee-1", "committee-3"]
            .iter()
            .map(|k| {
                sign_decision(
                    &hubnet_node::keyfile::read(&sample_key(k)).expect("key"),
                    &bytes,
                )
            })
            .collect(),
        decision: bytes,
    }
    .encode_to_vec()
}

/// POSTs protobuf `bytes` to `path` on node 0; returns the status.
fn post_proto(net: &Net, path: &str, bytes: Vec<u8>) -> u16 {
    reqwest::blocking::Client::new()
        .post(format!("{}{path}", net.nodes[0].http))
        .header("content-type", "application/x-protobuf")
        .body(bytes)
        .send()
        .expect("POST")
        .status()
        .as_u16()
}

#[test]
fn the_audit_view_shows_key_history_the_governance_timeline_and_conflicts() {
    use hubnet_protocol::checkpoint;
    use hubnet_protocol::governance::Action;
    use hubnet_protocol::sync::HeadRef;
    use hubnet_protocol::{PublicKey, RecordId, SecretKey};
    use prost::Message;
    if !browser_available() {
        return;
    }
    let mut net = Net::new(&["KZ"]);
    net.start_all();
    for title in ["Audit view 1", "Audit view 2"] {
        net.publish(0, &crate::net::practice(title));
    }
    // The committee rotates KZ's key after seq 2; the reason is markup, shown as text.
    let kz_old = hubnet_node::keyfile::read(&sample_key("KZ")).expect("key");
    let kz_new = SecretKey::from_seed([91; 32]).public_key();
    let rotation = committee_decision(
        1,
        None,
        "<img src=x onerror=\"window.__g=1\"> Annual rotation",
        Action::RotateKey {
            code: "KZ".into(),
            new_key: kz_new,
            old_key_last_seq: 2,
        },
    );
    assert_eq!(
        post_proto(&net, "/api/v1/governance/decisions", rotation),
        201
    );
    let node = net.nodes[0].http.clone();
    let driver = start_driver();
    let profile = tempfile::tempdir().expect("profile dir");
    let rt = runtime();
    let key_attr = |k: &PublicKey| format!("[data-testid=audit-key][data-key='{}']", k.to_hex());
    rt.block_on(async {
        let c = browser(&driver, profile.path(), 1280, 900).await;
        c.goto(&format!("{node}/audit")).await.expect("open /audit");
        // The governance timeline: the rotation, applied, its reason as text.
        wait_attr(
            &c,
            "[data-testid=audit-decision][data-seq='1']",
            "data-status",
            &["applied"],
        )
        .await;
        let decision = c
            .find(Locator::Css("[data-testid=audit-decision]"))
            .await
            .expect("decision")
            .text()
            .await
            .unwrap_or_default();
        assert!(decision.contains("<img src=x"), "{decision}");
        // KZ's key history: the old key ends at seq 2, the new one is current.
        wait_attr(&c, &key_attr(&kz_old.public_key()), "data-last-seq", &["2"]).await;
        wait_attr(&c, &key_attr(&kz_new), "data-current", &["true"]).await;
        wait_attr(
            &c,
            "[data-testid=audit-member][data-code=KZ]",
            "data-forked",
            &["false"],
        )
        .await;
        let verdict = wait_attr(&c, "[data-testid=audit-verdict]", "class", &["notice ok"]).await;
        assert_eq!(verdict, "notice ok");
        c.close().await.expect("close");
    });

    // KG's key signs two checkpoints naming different records at KZ's seq 2.
    let kg = hubnet_node::keyfile::read(&sample_key("KG")).expect("key");
    let charter = sample_charter();
    let now = hubnet_node::now_ms();
    for (time, id) in [(now, [1; 32]), (now + 1, [2; 32])] {
        let heads = [(
            kz_old.public_key(),
            HeadRef {
                seq: 2,
                id: RecordId(id),
            },
        )]
        .into();
        let signed = checkpoint::sign(&kg, &charter, "12D3KooWkg", time, &heads, &(0, vec![]));
        assert_eq!(
            post_proto(&net, "/api/v1/checkpoints", signed.encode_to_vec()),
            200
        );
    }
    rt.block_on(async {
        let c = browser(&driver, profile.path(), 1280, 900).await;
        c.goto(&format!("{node}/audit")).await.expect("open /audit");
        wait_attr(&c, "[data-testid=audit-conflict]", "data-code", &["KG"]).await;
        let kinds = wait_texts(
            &c,
            "[data-testid=audit-conflict] li[data-kind=equivocation]",
            1,
        )
        .await;
        assert!(kinds[0].contains('2'), "{kinds:?}");
        wait_attr(
            &c,
            "[data-testid=audit-verdict]",
            "class",
            &["notice danger"],
        )
        .await;
        let ran = c
            .execute("return typeof window.__g;", vec![])
            .await
            .expect("script");
        assert_eq!(ran, json!("undefined"), "a decision's reason ran");
        c.close().await.expect("close");
    });
    net.stop(0);
}

/// What the lying proxy serves in one of its modes instead of the node's answers.
#[derive(Default)]
struct Lie {
    /// JSON answers by path: records only the liar has (their `/current` answers 404).
    records: std::collections::HashMap<String, Value>,
    /// The `hubnet.v1.Bundle` served for `/api/v1/bundle` (the charter and decisions).
    bundle: Option<Vec<u8>>,
    /// A member code and the publishing key `/api/v1/members` says it has.
    member_key: Option<(String, String)>,
}

/// A proxy on 127.0.0.1 that passes everything to the node while `mode` is 0, and lies with
/// `lies[mode - 1]` otherwise. Every answer it asks the node for is bounded by [`STEP`].
async fn lying_proxy(
    node: String,
    mode: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    lies: std::sync::Arc<Vec<Lie>>,
) -> SocketAddr {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, Method, Uri};
    use std::sync::atomic::Ordering;
    let client = reqwest::Client::builder()
        .timeout(STEP)
        .build()
        .expect("client");
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let (client, node) = (client.clone(), node.clone());
            let lie = mode
                .load(Ordering::SeqCst)
                .checked_sub(1)
                .and_then(|i| lies.get(i).map(|_| (lies.clone(), i)));
            async move {
                let path = uri.path().to_owned();
                let answer = |status: u16, ctype: &str, bytes: Vec<u8>| {
                    axum::http::Response::builder()
                        .status(status)
                        .header("content-type", ctype)
                        .body(axum::body::Body::from(bytes))
                        .expect("response")
                };
                if let Some((lies, i)) = &lie {
                    let lie = &lies[*i];
                    if let Some(v) = lie.records.get(&path) {
                        return answer(200, "application/json", v.to_string().into_bytes());
                    }
                    if let Some(base) = path.strip_suffix("/current")
                        && lie.records.contains_key(base)
                    {
                        let problem = json!({"title": "Not Found", "status": 404});
                        return answer(
                            404,
                            "application/problem+json",
                            problem.to_string().into_bytes(),
                        );
                    }
                    if path == "/api/v1/bundle"
                        && let Some(b) = &lie.bundle
                    {
                        return answer(200, "application/x-protobuf", b.clone());
                    }
                }
                let mut req = client.request(method, format!("{node}{uri}")).body(body);
                // Plain answers: a proxy that reads or rewrites them asks for no compression.
                for (k, v) in &headers {
                    if k != "host" && k != "accept-encoding" {
                        req = req.header(k, v);
                    }
                }
                let r = req.send().await.expect("the node answers");
                let status = r.status().as_u16();
                let ctype = r
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("application/octet-stream")
                    .to_owned();
                let mut bytes = r.bytes().await.expect("body").to_vec();
                if let Some((lies, i)) = &lie
                    && path == "/api/v1/members"
                    && let Some((code, key)) = &lies[*i].member_key
                    && let Ok(mut v) = serde_json::from_slice::<Value>(&bytes)
                {
                    for m in v["members"].as_array_mut().into_iter().flatten() {
                        if m["code"] == json!(code) {
                            m["publishing_key"] = json!(key);
                        }
                    }
                    bytes = serde_json::to_vec(&v).expect("json");
                }
                answer(status, &ctype, bytes)
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// `real` (a record's JSON from the node) with its header's author and network id replaced and
/// signed by `attacker`: a well-formed record by a key the network never admitted. Same body, so
/// everything but the key checks out. Returns its id and JSON.
fn forged_record(
    real: &Value,
    attacker: &hubnet_protocol::SecretKey,
    network_id: [u8; 32],
) -> (String, Value) {
    resigned_record(real, attacker, |h| h.network_id = network_id.to_vec())
}

/// `real` with its header changed by `edit`, its author set to `signer`'s key, signed by `signer`.
fn resigned_record(
    real: &Value,
    signer: &hubnet_protocol::SecretKey,
    edit: impl FnOnce(&mut hubnet_proto::v1::RecordHeader),
) -> (String, Value) {
    use prost::Message;
    use sha2::Digest;
    let header = STANDARD
        .decode(real["signed"]["header"].as_str().expect("header"))
        .expect("base64");
    let mut h = hubnet_proto::v1::RecordHeader::decode(header.as_slice()).expect("a header");
    h.author = signer.public_key().as_bytes().to_vec();
    edit(&mut h);
    let header = h.encode_to_vec();
    let signature = signer.sign(&[b"hubnet-record-v1\0".as_slice(), &header].concat());
    let id = hex::encode(sha2::Sha256::digest(&header));
    let mut v = real.clone();
    v["id"] = json!(id);
    v["author"] = json!(signer.public_key().to_hex());
    v["network_id"] = json!(hex::encode(&h.network_id));
    v["seq"] = json!(h.seq);
    v["prev"] = json!((!h.prev.is_empty()).then(|| hex::encode(&h.prev)));
    v["signed"]["header"] = json!(STANDARD.encode(&header));
    v["signed"]["signature"] = json!(STANDARD.encode(signature));
    (id, v)
}

/// A bundle holding only `charter` (no decisions, no records).
fn charter_bundle(charter: hubnet_proto::v1::SignedCharter) -> Vec<u8> {
    use prost::Message;
    hubnet_proto::v1::Bundle {
        version: 1,
        charter: Some(charter),
        ..Default::default()
    }
    .encode_to_vec()
}

/// The sample charter with `code`'s publishing key replaced by `key`, "signed" by `signers`, who
/// are not its committee: what a liar who wants its own key trusted can serve.
fn forged_sample_charter(
    code: &str,
    key: &hubnet_protocol::PublicKey,
    signers: &[hubnet_protocol::SecretKey],
) -> hubnet_proto::v1::SignedCharter {
    let text = std::fs::read_to_string(sample().join("charter.toml")).expect("charter");
    let mut doc = hubnet_protocol::charter::CharterDoc::from_toml(&text).expect("toml");
    for m in &mut doc.members {
        if m.code == code {
            m.publishing_key = key.to_hex();
        }
    }
    doc.signatures.clear();
    let charter = doc.canonical_bytes().expect("canonical");
    let message = [b"hubnet-charter-v1\0".as_slice(), &charter].concat();
    hubnet_proto::v1::SignedCharter {
        signatures: signers
            .iter()
            .map(|s| hubnet_proto::v1::CharterSignature {
                key: s.public_key().as_bytes().to_vec(),
                signature: s.sign(&message).to_vec(),
            })
            .collect(),
        charter,
    }
}

/// Another network's charter, valid in itself (its own committee signed it), in which `attacker`
/// is KZ; and its network id.
fn other_network_charter(
    attacker: &hubnet_protocol::SecretKey,
) -> (hubnet_proto::v1::SignedCharter, [u8; 32]) {
    use hubnet_protocol::charter::{CharterDoc, MemberDoc};
    let committee: Vec<_> = (0..3)
        .map(|j| hubnet_protocol::SecretKey::from_seed([120 + j; 32]))
        .collect();
    let mut doc = CharterDoc::new("Another network", 2);
    doc.committee.keys = committee.iter().map(|k| k.public_key().to_hex()).collect();
    doc.members.push(MemberDoc {
        code: "KZ".into(),
        publishing_key: attacker.public_key().to_hex(),
        name: [("en".to_owned(), "Kazakhstan".to_owned())].into(),
    });
    for k in &committee[..2] {
        doc.sign(k).expect("a committee key signs");
    }
    let verified = doc.verify().expect("a valid charter");
    (
        doc.to_signed_proto().expect("signed"),
        *verified.network_id().as_bytes(),
    )
}

/// The text of the first element matching `css`, once it exists.
async fn text_of(c: &Client, css: &str) -> String {
    c.wait()
        .at_most(STEP)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap_or_default()
}

/// A one-node network with one honest KZ record: the net, the record's id and JSON.
fn honest_record() -> (Net, String, Value) {
    let mut net = Net::new(&["KZ"]);
    net.start_all();
    let id = net.publish(0, &crate::net::practice("Honest practice"));
    let (status, body) = net.get(0, &format!("/api/v1/records/{id}"));
    assert_eq!(status, 200);
    (net, id, serde_json::from_slice(&body).expect("json"))
}

#[test]
fn a_lying_node_cannot_make_the_browser_trust_a_forged_member_key() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    if !browser_available() {
        return;
    }
    let (net, real_id, real) = honest_record();
    let node = net.nodes[0].http.clone();
    let network_id = *sample_charter().network_id().as_bytes();
    let attacker = hubnet_protocol::SecretKey::from_seed([66; 32]);
    let (forged_id, forged) = forged_record(&real, &attacker, network_id);
    let forged_path = format!("/api/v1/records/{forged_id}");
    // The committee rotates KZ's key after seq 1; a record by the old key at seq 2 (the node
    // refuses it, the liar serves it) is past the key's last valid seq.
    let rotation = committee_decision(
        1,
        None,
        "Rotation",
        hubnet_protocol::governance::Action::RotateKey {
            code: "KZ".into(),
            new_key: hubnet_protocol::SecretKey::from_seed([91; 32]).public_key(),
            old_key_last_seq: 1,
        },
    );
    assert_eq!(
        post_proto(&net, "/api/v1/governance/decisions", rotation),
        201
    );
    let kz = hubnet_node::keyfile::read(&sample_key("KZ")).expect("key");
    let real_bytes = hex::decode(&real_id).expect("hex id");
    let (late_id, late) = resigned_record(&real, &kz, |h| {
        h.seq = 2;
        h.prev = real_bytes;
    });
    // Lie 1: the members list names the attacker's key as KZ's, and a record by that key.
    // Lie 2: a charter naming the attacker's key as KZ's, signed by keys outside the committee.
    let outsiders: Vec<_> = (0..2)
        .map(|j| hubnet_protocol::SecretKey::from_seed([70 + j; 32]))
        .collect();
    let lies = Arc::new(vec![
        Lie {
            records: [
                (forged_path.clone(), forged.clone()),
                (format!("/api/v1/records/{late_id}"), late),
            ]
            .into(),
            member_key: Some(("KZ".into(), attacker.public_key().to_hex())),
            ..Lie::default()
        },
        Lie {
            records: [(forged_path, forged)].into(),
            bundle: Some(charter_bundle(forged_sample_charter(
                "KZ",
                &attacker.public_key(),
                &outsiders,
            ))),
            ..Lie::default()
        },
    ]);
    let mode = Arc::new(AtomicUsize::new(1));
    let driver = start_driver();
    let profile = tempfile::tempdir().expect("profile dir");
    let rt = runtime();
    rt.block_on(async {
        let proxy = lying_proxy(node.clone(), mode.clone(), lies).await;
        // The liar does say the attacker's key is KZ's.
        let members: Value = reqwest::get(format!("http://{proxy}/api/v1/members"))
            .await
            .expect("members")
            .json()
            .await
            .expect("json");
        assert!(
            members
                .to_string()
                .contains(&attacker.public_key().to_hex()),
            "{members}"
        );
        let c = browser(&driver, profile.path(), 1280, 900).await;
        // The honest record verifies through the honest node, and through the liar too: the
        // page takes no key from the members list.
        for origin in [node.clone(), format!("http://{proxy}")] {
            c.goto(&format!("{origin}/records/{real_id}"))
                .await
                .expect("open");
            let (v, text) = signature_verdict(&c).await;
            assert_eq!(v, "true", "{origin}: {text}");
        }
        // The attacker's record: its key is no member's under the signed charter.
        c.goto(&format!("http://{proxy}/records/{forged_id}"))
            .await
            .expect("open the forged record");
        let (v, text) = signature_verdict(&c).await;
        assert_eq!(v, "false", "a forged member key was trusted: {text}");
        assert!(text.contains("NOT VERIFIED"), "{text}");
        wait_attr(&c, "[data-testid=verify-status]", "data-check", &["author"]).await;
        assert!(
            text.contains("no member"),
            "the failing check is named: {text}"
        );
        let record_checks = text_of(&c, "[data-part=original] li[data-check=author]").await;
        assert!(
            record_checks.contains(&attacker.public_key().to_hex()[..16]),
            "{record_checks}"
        );
        // KZ's real key past its last valid seq: the page names the rotation.
        c.goto(&format!("http://{proxy}/records/{late_id}"))
            .await
            .expect("open the late record");
        let (v, text) = signature_verdict(&c).await;
        assert_eq!(
            v, "false",
            "a record past its key's last seq was trusted: {text}"
        );
        wait_attr(
            &c,
            "[data-testid=verify-status]",
            "data-check",
            &["key-valid"],
        )
        .await;
        assert!(
            text.contains("up to seq 1") && text.contains("decision 1, key rotation"),
            "{text}"
        );

        // Lie 2: a charter with the attacker's key, signed outside the committee.
        mode.store(2, Ordering::SeqCst);
        c.goto(&format!("http://{proxy}/records/{forged_id}"))
            .await
            .expect("open the forged record");
        let (v, text) = signature_verdict(&c).await;
        assert_eq!(v, "false", "a forged charter was trusted: {text}");
        wait_attr(
            &c,
            "[data-testid=verify-status]",
            "data-check",
            &["charter-signatures"],
        )
        .await;
        wait_attr(
            &c,
            "[data-testid=verify-status]",
            "data-reason",
            &["not-committee"],
        )
        .await;
        assert!(text.contains("not a committee key"), "{text}");
        // Every page says so: the banner, here on the search page.
        c.goto(&format!("http://{proxy}/")).await.expect("open /");
        let banner = text_of(&c, "[data-testid=pin-banner]").await;
        assert!(banner.contains("NOT VERIFIED"), "{banner}");
        c.close().await.expect("close");
    });
}

#[test]
fn a_charter_other_than_the_pinned_one_is_said_loudly() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    if !browser_available() {
        return;
    }
    let (net, real_id, real) = honest_record();
    let node = net.nodes[0].http.clone();
    let real_network = sample_charter().network_id().to_hex();
    let attacker = hubnet_protocol::SecretKey::from_seed([66; 32]);
    let (other_charter, other_id) = other_network_charter(&attacker);
    let (forged_id, forged) = forged_record(&real, &attacker, other_id);
    let lies = Arc::new(vec![Lie {
        records: [(format!("/api/v1/records/{forged_id}"), forged)].into(),
        bundle: Some(charter_bundle(other_charter)),
        member_key: None,
    }]);
    let mode = Arc::new(AtomicUsize::new(0));
    let driver = start_driver();
    let profile = tempfile::tempdir().expect("profile dir");
    let rt = runtime();
    rt.block_on(async {
        let proxy = lying_proxy(node.clone(), mode.clone(), lies).await;
        let c = browser(&driver, profile.path(), 1280, 900).await;
        // First visit, honest answers: verified, and the network id is pinned in this browser.
        c.goto(&format!("http://{proxy}/records/{real_id}"))
            .await
            .expect("open");
        let (v, text) = signature_verdict(&c).await;
        assert_eq!(v, "true", "{text}");
        wait_attr(&c, "[data-testid=pin-state]", "data-state", &["new"]).await;
        assert_eq!(
            text_of(&c, "[data-testid=trusted-network-id]").await,
            real_network
        );
        c.goto(&format!("http://{proxy}/records/{real_id}"))
            .await
            .expect("open again");
        wait_attr(&c, "[data-testid=pin-state]", "data-state", &["match"]).await;

        // Now the node serves another network's charter, valid in itself, and a record that is
        // valid under it: only the pin catches it, loudly.
        mode.store(1, Ordering::SeqCst);
        c.goto(&format!("http://{proxy}/records/{forged_id}"))
            .await
            .expect("open the other network's record");
        let (v, text) = signature_verdict(&c).await;
        assert_eq!(v, "false", "another network was trusted: {text}");
        assert!(text.contains("NOT VERIFIED"), "{text}");
        assert!(text.contains("network id mismatch"), "{text}");
        wait_attr(&c, "[data-testid=verify-status]", "data-check", &["pin"]).await;
        wait_attr(&c, "[data-testid=pin-banner]", "data-state", &["mismatch"]).await;
        let banner = text_of(&c, "[data-testid=pin-banner]").await;
        assert!(
            banner.contains(&real_network[..16]) && banner.contains(&hex::encode(other_id)[..16]),
            "the banner names both ids: {banner}"
        );
        // So does the honest record's page while this charter is served.
        c.goto(&format!("http://{proxy}/records/{real_id}"))
            .await
            .expect("open");
        let (v, _) = signature_verdict(&c).await;
        assert_eq!(v, "false");
        // The reader may forget the pin; the charter then served is pinned afresh.
        c.goto(&format!("http://{proxy}/records/{forged_id}"))
            .await
            .expect("open");
        wait_attr(&c, "[data-testid=pin-state]", "data-state", &["mismatch"]).await;
        c.find(Locator::Css("[data-testid=pin-forget]"))
            .await
            .expect("the forget control")
            .click()
            .await
            .expect("click");
        wait_attr(&c, "[data-testid=pin-state]", "data-state", &["new"]).await;
        wait_attr(
            &c,
            "[data-testid=verify-status]",
            "data-verified",
            &["true"],
        )
        .await;
        let pinned = c
            .execute(
                "return localStorage.getItem('hubnet.pinned-network-id');",
                vec![],
            )
            .await
            .expect("script");
        assert_eq!(pinned, json!(hex::encode(other_id)));
        c.close().await.expect("close");
    });
}

/// Runs in the page: the committed signature vectors through trust.js's `ed25519Verdict` (the
/// function the record page's check runs, imported from the same URL as the page's own modules),
/// each alone, then in groups of every size and position; the failing checks' text as the page
/// shows it (record.js `checkText`); and raw WebCrypto's verdict, for information.
const VECTORS_IN_PAGE: &str = r#"
const [vectors, done] = arguments;
(async () => {
  const trust = await import('/ui/trust.js');
  const verify = await import('/ui/verify.js');
  const record = await import('/ui/record.js');
  const vs = vectors.map((v) => ({
    ...v,
    key: trust.fromHex(v.key),
    message: trust.fromHex(v.message),
    signature: trust.fromHex(v.signature),
  }));
  const run = (v) => trust.ed25519Verdict(v.key, v.signature, v.message);
  const single = [];
  for (const v of vs) {
    const r = await run(v);
    const text = r.ok ? null : record.checkText({ key: 'signature', ok: false, args: { check: r.check, problem: r.problem } });
    single.push({ name: v.name, ok: r.ok, check: r.check, problem: r.problem, text });
  }
  const raw = [];
  for (const v of vs) {
    try {
      const k = await crypto.subtle.importKey('raw', v.key, { name: 'Ed25519' }, false, ['verify']);
      raw.push(await crypto.subtle.verify({ name: 'Ed25519' }, k, v.signature, v.message));
    } catch (e) {
      raw.push(String(e?.name ?? e));
    }
  }
  const n = vs.length;
  let checked = 0;
  const wrong = [];
  for (const size of [1, 2, 3, 4, 16]) {
    for (let i = 0; i < n; i++) {
      for (let pos = 0; pos < size; pos++) {
        const group = Array.from({ length: size }, (_, j) => vs[(i + j - pos + n) % n]);
        const got = await Promise.all(group.map(run));
        got.forEach((r, j) => {
          checked++;
          if (r.ok !== group[j].valid || r.check !== group[j].class) {
            wrong.push({ name: group[j].name, at: j, size, ok: r.ok, check: r.check });
          }
        });
      }
    }
  }
  return { supported: await verify.ed25519Supported(), single, raw, checked, wrong };
})().then(done, (e) => done({ error: String(e?.stack ?? e) }));
"#;

/// The check a refusal must name for a vector's defect (PROTOCOL §1.3: the key, R or s).
fn defect_class(v: &Value) -> Value {
    if v["valid"] == json!(true) {
        return Value::Null;
    }
    let defect = v["defect"].as_str().expect("defect");
    let class = [("the key ", "key"), ("R ", "R"), ("s ", "s")]
        .into_iter()
        .find(|(p, _)| defect.starts_with(p))
        .unwrap_or_else(|| panic!("{}: unknown defect {defect:?}", v["name"]))
        .1;
    json!(class)
}

/// The committed vectors of the signature rule (`protocol/tests/vectors/ed25519.json`) in the
/// page, in headless Chromium: each gets exactly the rule's verdict from the function the record
/// page runs, whose equation check is Chromium's own WebCrypto (BoringSSL, an implementation
/// independent of both the node's ed25519-dalek and Node.js's OpenSSL), and a refusal names the
/// defect's check in the words the page shows.
///
/// "Every batch size and position": the UI verifies one signature at a time (the record page checks
/// the record, its amendment and its retraction in turn; search results and the audit view verify
/// nothing in the browser; trust.js checks committee signatures one by one), so a verdict cannot
/// depend on neighbours. The page runs each vector alone and at every position of concurrent
/// groups of 1 to 4 and 16 anyway, so that interleaved WebCrypto calls and the key-check cache are
/// held to that too.
#[test]
fn every_signature_vector_gets_the_rules_verdict_in_the_page() {
    if !browser_available() {
        return;
    }
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../protocol/tests/vectors/ed25519.json");
    let mut vectors: Vec<Value> =
        serde_json::from_slice(&std::fs::read(&file).expect("the vectors")).expect("json");
    assert!(vectors.len() >= 15, "{} vectors", vectors.len());
    for v in &mut vectors {
        v["class"] = defect_class(v);
    }
    let (net, id, _) = honest_record();
    let node = net.nodes[0].http.clone();
    let driver = start_driver();
    let profile = tempfile::tempdir().expect("profile dir");
    let rt = runtime();
    rt.block_on(async {
        let c = browser(&driver, profile.path(), 1280, 900).await;
        // The page's own check, through the same function, on an honest record first.
        c.goto(&format!("{node}/records/{id}")).await.expect("open");
        let (v, text) = signature_verdict(&c).await;
        assert_eq!(v, "true", "{text}");
        let limit = Duration::from_secs(120);
        c.update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
            Some(limit),
            None,
            None,
        ))
        .await
        .expect("script timeout");
        let out = tokio::time::timeout(
            limit + STEP,
            c.execute_async(VECTORS_IN_PAGE, vec![json!(vectors)]),
        )
        .await
        .expect("the page ran the vectors in time")
        .expect("script");
        assert!(out.get("error").is_none(), "{}", out["error"]);
        assert_eq!(
            out["supported"],
            json!(true),
            "Chromium's WebCrypto has Ed25519"
        );
        let single = out["single"].as_array().expect("single");
        assert_eq!(single.len(), vectors.len());
        for (v, got) in vectors.iter().zip(single) {
            let name = &v["name"];
            assert_eq!(got["name"], *name);
            assert_eq!(got["ok"], v["valid"], "{name} ({}): {got}", v["how"]);
            assert_eq!(got["check"], v["class"], "{name} ({}): {got}", v["defect"]);
            if v["valid"] == json!(true) {
                continue;
            }
            // What the page says: the check, in words, with nothing left untranslated.
            let text = got["text"].as_str().expect("text");
            let words = match v["class"].as_str() {
                Some("key") => "the author’s key is",
                Some("R") => "its R is",
                _ => "its s is not canonical",
            };
            assert!(
                text.starts_with("the Ed25519 signature is invalid: ") && text.contains(words),
                "{name}: {text}"
            );
            assert!(
                !text.contains('{') && !text.contains("key.problem") && !text.contains(".why."),
                "{name}: {text}"
            );
            if v["defect"].as_str().is_some_and(|d| d.contains("torsion")) {
                assert!(text.contains("torsion component"), "{name}: {text}");
            }
        }
        let n = vectors.len() as u64;
        let per_vector: u64 = [1u64, 2, 3, 4, 16].iter().map(|s| s * s).sum();
        assert_eq!(out["checked"], json!(n * per_vector));
        assert_eq!(out["wrong"], json!([]), "a verdict depended on its group");
        // For information: what Chromium's WebCrypto says with none of the page's own checks
        // (the rule's keys and R are checked in the page; WebCrypto decides the equation).
        let raw: Vec<String> = vectors
            .iter()
            .zip(out["raw"].as_array().expect("raw"))
            .map(|(v, r)| format!("{}={r}", v["name"].as_str().unwrap_or_default()))
            .collect();
        eprintln!("Chromium WebCrypto alone: {}", raw.join(" "));
        for (v, r) in vectors.iter().zip(out["raw"].as_array().expect("raw")) {
            if v["valid"] == json!(true) {
                assert_eq!(
                    *r,
                    json!(true),
                    "WebCrypto refuses a valid vector {}",
                    v["name"]
                );
            }
        }
        c.close().await.expect("close");
    });
}

/// The issue's walk-through: `/compare` with Kazakhstan and Kyrgyzstan shows every indicator with
/// its year and a missing value as missing, each column verified in the page; a column's profile
/// opens with its signature verified; Kazakhstan's country page shows what changed.
#[test]
fn compare_two_countries_then_read_what_changed_in_the_browser() {
    if !browser_available() {
        return;
    }
    let (net, _, _) = corpus_node();
    let node = net.nodes[0].http.clone();
    let (status, body) = net.get(0, "/api/v1/compare?country=KZ&country=KG");
    assert_eq!(status, 200);
    let api: Value = serde_json::from_slice(&body).expect("json");
    let rows = api["indicators"].as_array().expect("rows").len();
    assert!(rows >= 10, "the sample profiles report indicators: {rows}");
    let kz_profile = api["countries"][0]["profile"]["id"]
        .as_str()
        .expect("KZ has a profile")
        .to_owned();
    let driver = start_driver();
    let profile = tempfile::tempdir().expect("profile dir");
    let rt = runtime();
    rt.block_on(async {
        let c = browser(&driver, profile.path(), 1280, 900).await;
        let url = format!("{node}/compare?country=KZ&country=KG");
        c.goto(&url).await.expect("open /compare");
        for country in ["KZ", "KG"] {
            let css = format!("th[data-country={country}] .verify-badge");
            let state = wait_attr(&c, &css, "data-state", &["ok", "fail"]).await;
            assert_eq!(state, "ok", "{country}'s column is verified in the page");
        }
        let cells = wait_texts(&c, "#compare-table td[data-status]", rows * 2).await;
        assert_eq!(cells.len(), rows * 2, "one cell per indicator and country");
        // Every value shows its year; every missing value says so, never blank, never zero.
        for e in c
            .find_all(Locator::Css("td[data-status]"))
            .await
            .expect("cells")
        {
            let status = e.attr("data-status").await.ok().flatten().unwrap_or_default();
            let text = e.text().await.unwrap_or_default();
            assert!(!text.trim().is_empty() && text.trim() != "0", "{status}: {text:?}");
            if status == "value" {
                assert!(
                    text.contains("2024") || text.contains("2025") || text.contains("2026"),
                    "a value without its year: {text:?}"
                );
            }
        }
        let missing = c
            .find(Locator::Css(
                "td[data-country=KG][data-status=not_available][data-indicator='hub:user-satisfaction']",
            ))
            .await
            .expect("KG's missing satisfaction value")
            .text()
            .await
            .unwrap_or_default();
        assert!(!missing.trim().is_empty(), "{missing:?}");
        // The URL reproduces the view.
        assert_eq!(c.current_url().await.expect("url").as_str(), url);
        // A column's profile opens with its signature verified by the page.
        let link = c
            .find(Locator::Css(&format!("th[data-country=KZ] a[href='/records/{kz_profile}']")))
            .await
            .expect("the KZ column links its profile");
        // Followed as a reader would; a click can land on the sticky header of a wide table.
        let href = link.attr("href").await.ok().flatten().expect("href");
        c.goto(&format!("{node}{href}")).await.expect("open the profile");
        let (verdict, text) = signature_verdict(&c).await;
        assert_eq!(verdict, "true", "the profile page did not verify: {text}");
        // Kazakhstan's country page: what changed since the previous profile.
        c.goto(&format!("{node}/countries/KZ")).await.expect("country page");
        let moved = wait_texts(&c, "#changes tr[data-indicator]", 5).await;
        assert!(
            moved.iter().any(|t| t.contains("→")),
            "changes show both values: {moved:?}"
        );
        c.close().await.expect("close");
    });
}

/// The id of the directory entry of `path` whose English name contains `name`.
fn directory_id(net: &Net, path: &str, name: &str) -> String {
    let (status, body) = net.get(0, path);
    assert_eq!(status, 200, "{path}");
    let v: Value = serde_json::from_slice(&body).expect("json");
    v["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["name"]["en"].as_str().is_some_and(|n| n.contains(name)))
        .and_then(|e| e["id"].as_str())
        .unwrap_or_else(|| panic!("no {name} in {path}: {v}"))
        .to_owned()
}

/// Waits until the directory page lists exactly the entries `want` (in any order).
async fn wait_entries(c: &Client, want: &[String]) {
    let mut want = want.to_vec();
    want.sort();
    let deadline = Instant::now() + STEP;
    let mut shown = Vec::new();
    while Instant::now() < deadline {
        shown.clear();
        for e in c
            .find_all(Locator::Css("[data-testid=directory-entry]"))
            .await
            .unwrap_or_default()
        {
            shown.push(e.attr("data-id").await.ok().flatten().unwrap_or_default());
        }
        shown.sort();
        if shown == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await; // poll; the deadline bounds it
    }
    panic!("the directory shows {shown:?}, the API answers {want:?}");
}

#[test]
fn find_an_expert_in_the_directory_verify_it_export_vcard_and_see_an_erased_profile() {
    if !browser_available() {
        return;
    }
    let (net, _, _) = corpus_node();
    let node = net.nodes[0].http.clone();
    // What the API answers, asked before the browser runs (the harness's client blocks).
    let filtered = "/api/v1/directory?kind=expert&topic=e-government&lang=ru";
    let (_, body) = net.get(0, filtered);
    let want: Vec<String> = serde_json::from_slice::<Value>(&body).expect("json")["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    let kz1 = directory_id(&net, filtered, "KZ-1");
    let kz2 = directory_id(&net, "/api/v1/directory?kind=expert&country=KZ", "KZ-2");
    assert!(!want.contains(&kz2), "KZ-2 works on other topics");
    let driver = start_driver();
    let profile = tempfile::tempdir().expect("profile dir");
    let rt = runtime();
    let (c, vcard) = rt.block_on(async {
        let c = browser(&driver, profile.path(), 1280, 900).await;
        c.goto(&format!("{node}/directory"))
            .await
            .expect("open /directory");
        // Experts by topic, then by working language, with the page's own controls.
        for (id, value) in [
            ("directory-topic", "e-government"),
            ("directory-lang", "ru"),
        ] {
            c.wait()
                .at_most(STEP)
                .for_element(Locator::Css(&format!("#{id}")))
                .await
                .expect("the filter")
                .select_by_value(value)
                .await
                .expect("select");
            let deadline = Instant::now() + STEP;
            while !c.current_url().await.expect("url").as_str().contains(value) {
                assert!(Instant::now() < deadline, "the URL does not carry {value}");
                tokio::time::sleep(Duration::from_millis(50)).await; // poll; the deadline bounds it
            }
        }
        wait_entries(&c, &want).await;
        // The list may already be the one wanted while the last filter's answer is still on its
        // way; that answer then draws the links again (a link found before it is gone): the link
        // is read afresh until it carries both filters.
        let deadline = Instant::now() + STEP;
        let vcard = loop {
            let href = match c.find(Locator::Css("[data-testid=export-vcard]")).await {
                Ok(link) => link.attr("href").await.ok().flatten(),
                Err(_) => None,
            };
            match href {
                Some(h) if h.contains("topic=e-government") && h.contains("lang=ru") => break h,
                other => assert!(
                    Instant::now() < deadline,
                    "the vCard link does not carry the filters: {other:?}"
                ),
            }
            tokio::time::sleep(Duration::from_millis(50)).await; // poll; the deadline bounds it
        };
        assert!(vcard.starts_with("/api/v1/directory.vcf?"), "{vcard}");
        // Open the fictional KZ expert and see its signature verified by the page itself.
        let link = c
            .find(Locator::Css(&format!(
                "[data-testid=directory-entry][data-id='{kz1}'] h3 a"
            )))
            .await
            .expect("the KZ-1 entry");
        scroll_and_click(&c, link).await;
        let (verdict, text) = signature_verdict(&c).await;
        assert_eq!(verdict, "true", "the expert's page did not verify: {text}");
        assert_eq!(
            c.current_url().await.expect("url").path(),
            format!("/records/{kz1}")
        );
        let consent = text_of(&c, "[data-testid=consent]").await;
        assert!(consent.contains("2026"), "{consent}");
        assert!(!text_of(&c, "[data-testid=reconfirm-by]").await.is_empty());
        (c, vcard)
    });
    // The export the button links to: vCard, the expert in it.
    let r = reqwest::blocking::get(format!("{node}{vcard}")).expect("GET the vCard");
    assert_eq!(r.status().as_u16(), 200);
    let ctype = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(ctype.starts_with("text/vcard"), "{ctype}");
    let cards = r.text().expect("text");
    assert!(cards.starts_with("BEGIN:VCARD"), "{cards}");
    assert!(cards.contains("KZ-1"), "{cards}");
    // The record page carries schema.org JSON-LD for the expert.
    let (_, page) = net.get(0, &format!("/records/{kz1}"));
    let page = String::from_utf8_lossy(&page);
    assert!(
        page.contains("application/ld+json") && page.contains("\"@type\":\"Person\""),
        "{page}"
    );
    // KZ erases KZ-2 (its author's erasure record, published by the node).
    let erasure = net.publish(
        0,
        &json!({"kind": "erasure", "target": kz2, "ground": "consent_withdrawn"}),
    );
    crate::support::poll_until("KZ-2 erased", Duration::from_secs(20), || {
        let (_, body) = net.get(0, &format!("/api/v1/records/{kz2}"));
        serde_json::from_slice::<Value>(&body).is_ok_and(|v| v["erased"] == json!(true))
    });
    rt.block_on(async {
        c.goto(&format!("{node}/records/{kz2}"))
            .await
            .expect("open KZ-2");
        let state = wait_attr(
            &c,
            "[data-testid=erased-notice]",
            "data-state",
            &["verified", "unproven"],
        )
        .await;
        let notice = text_of(&c, "[data-testid=erased-notice]").await;
        assert_eq!(state, "verified", "{notice}");
        assert!(
            notice.contains("Erased on") && notice.contains("consent withdrawn"),
            "{notice}"
        );
        let link = c
            .find(Locator::Css("[data-testid=erasure-link]"))
            .await
            .expect("the erasure's link")
            .attr("href")
            .await
            .ok()
            .flatten();
        assert_eq!(link, Some(format!("/records/{erasure}")));
        let (verdict, text) = signature_verdict(&c).await;
        assert_eq!(
            verdict, "true",
            "an erased record is verified as erased: {text}"
        );
        assert!(!text_of(&c, "[data-testid=verify-erased]").await.is_empty());
        assert!(
            c.find(Locator::Css("[data-testid=expert-facts]"))
                .await
                .is_err(),
            "no content is shown"
        );
        // The erasure record's own page: what it erases, and its signature verified.
        c.goto(&format!("{node}/records/{erasure}"))
            .await
            .expect("open the erasure");
        let (verdict, text) = signature_verdict(&c).await;
        assert_eq!(verdict, "true", "the erasure did not verify: {text}");
        let of = text_of(&c, "[data-testid=erasure-of]").await;
        assert!(
            of.contains(&kz2[..16]) && of.contains("consent withdrawn"),
            "{of}"
        );
        c.close().await.expect("close");
    });
}

/// The id of the sample programme whose English title contains `title`, as the corpus node's
/// search answers `kind=programme`.
fn programme_id(net: &Net, title: &str) -> String {
    let path = "/api/v1/records?kind=programme&limit=50";
    let (status, body) = net.get(0, path);
    assert_eq!(status, 200, "{path}");
    let v: Value = serde_json::from_slice(&body).expect("json");
    v["records"]
        .as_array()
        .expect("records")
        .iter()
        .find(|r| {
            let c = if r["current"].is_object() {
                &r["current"]
            } else {
                &r["body"]
            };
            c["title"]["en"].as_str().is_some_and(|t| t.contains(title))
        })
        .and_then(|r| r["id"].as_str())
        .unwrap_or_else(|| panic!("no programme {title} in {path}: {v}"))
        .to_owned()
}

/// Each participant row of the programme page once its standing is checked: `(member or
/// institution, standing, verified)`.
async fn participant_rows(c: &Client) -> Vec<(String, String, String)> {
    wait_attr(
        c,
        "[data-testid=programme-state]",
        "data-state",
        &[
            "confirmed",
            "proposed",
            "retracted",
            "unverified",
            "unknown",
        ],
    )
    .await;
    let mut rows = Vec::new();
    for e in c
        .find_all(Locator::Css("[data-testid=participant]"))
        .await
        .expect("participant rows")
    {
        let attr = |name: &'static str| {
            let e = e.clone();
            async move { e.attr(name).await.ok().flatten().unwrap_or_default() }
        };
        let who = match attr("data-member").await {
            m if m.is_empty() => attr("data-institution").await,
            m => m,
        };
        rows.push((
            who,
            attr("data-standing").await,
            attr("data-verified").await,
        ));
    }
    rows
}

#[test]
fn a_programme_page_verifies_each_confirmation_derives_its_state_and_shows_a_withdrawal() {
    if !browser_available() {
        return;
    }
    let (net, _, _) = corpus_node();
    let node = net.nodes[0].http.clone();
    let confirmed = programme_id(&net, "e-recruitment");
    let withdrawn = programme_id(&net, "academies of public administration");
    let driver = start_driver();
    let profile = tempfile::tempdir().expect("profile dir");
    let rt = runtime();
    rt.block_on(async {
        let c = browser(&driver, profile.path(), 1280, 900).await;
        // HUB leads, KZ and KG confirmed: every row checked in the browser, and the page's own
        // derivation says confirmed, as the node does.
        c.goto(&format!("{node}/records/{confirmed}"))
            .await
            .expect("open the confirmed programme");
        let (verdict, text) = signature_verdict(&c).await;
        assert_eq!(verdict, "true", "the programme did not verify: {text}");
        let rows = participant_rows(&c).await;
        let members: Vec<(&str, &str, &str)> = rows
            .iter()
            .filter(|(_, s, _)| s != "institution")
            .map(|(m, s, v)| (m.as_str(), s.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            members,
            [
                ("HUB", "lead", "true"),
                ("KZ", "confirmed", "true"),
                ("KG", "confirmed", "true")
            ],
            "{rows:?}"
        );
        assert!(rows.iter().all(|(_, _, v)| v == "true"), "{rows:?}");
        let state = wait_attr(
            &c,
            "[data-testid=programme-state]",
            "data-state",
            &["confirmed"],
        )
        .await;
        assert_eq!(state, "confirmed");
        let agrees = c
            .find(Locator::Css("[data-testid=programme-state]"))
            .await
            .expect("the state")
            .attr("data-agrees")
            .await
            .ok()
            .flatten();
        assert_eq!(agrees.as_deref(), Some("true"));
        let said = text_of(&c, "[data-testid=programme-state-text]").await;
        assert_eq!(said, "Confirmed by every participant");
        // The results framework as a table, and its chart with its accessible name.
        assert!(
            !c.find_all(Locator::Css(
                "[data-testid=programme-results] [data-testid=result-row]"
            ))
            .await
            .expect("result rows")
            .is_empty(),
            "no results table"
        );
        let chart = c
            .find(Locator::Css("[data-testid=results-chart]"))
            .await
            .expect("the chart");
        let label = chart
            .attr("aria-label")
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        assert!(label.starts_with("Targets and actuals"), "{label}");
        assert!(
            !c.find_all(Locator::Css("[data-testid=results-chart] rect.bar-target"))
                .await
                .expect("bars")
                .is_empty(),
            "no bars"
        );
        // A confirmation's own page says what it confirms.
        let link = c
            .find(Locator::Css(
                "[data-member=KZ] [data-testid=confirmation-link]",
            ))
            .await
            .expect("KZ's confirmation link");
        scroll_and_click(&c, link).await;
        let (verdict, text) = signature_verdict(&c).await;
        assert_eq!(verdict, "true", "the confirmation did not verify: {text}");
        let of = text_of(&c, "[data-testid=confirmation-of]").await;
        assert!(of.starts_with("Confirmation of"), "{of}");
        let target = c
            .find(Locator::Css("[data-testid=confirmed-programme]"))
            .await
            .expect("the programme link")
            .attr("href")
            .await
            .ok()
            .flatten();
        assert_eq!(target, Some(format!("/records/{confirmed}")));
        // KG leads, TJ confirmed, UZ confirmed then withdrew: proposed, UZ withdrawn.
        c.goto(&format!("{node}/records/{withdrawn}"))
            .await
            .expect("open the programme with a withdrawal");
        let rows = participant_rows(&c).await;
        let uz = rows
            .iter()
            .find(|(m, _, _)| m == "UZ")
            .unwrap_or_else(|| panic!("no UZ row: {rows:?}"));
        assert_eq!(
            (uz.1.as_str(), uz.2.as_str()),
            ("withdrawn", "true"),
            "{rows:?}"
        );
        assert!(rows.iter().all(|(_, _, v)| v == "true"), "{rows:?}");
        let standing = text_of(&c, "[data-member=UZ] .standing").await;
        assert!(standing.starts_with("Withdrawn on"), "{standing}");
        let state = wait_attr(
            &c,
            "[data-testid=programme-state]",
            "data-state",
            &["proposed"],
        )
        .await;
        assert_eq!(state, "proposed");
        c.close().await.expect("close");
    });
}

/// A node serving HTTPS from `[tls]` PEM files, reached by the browser at `hub.test` (a name
/// that is not localhost, mapped to 127.0.0.1; the test's own CA trusted by this browser only):
/// the page is a secure context, so WebCrypto checks the record's signature, which verifies.
#[test]
fn a_record_page_over_https_at_a_real_name_verifies_its_signature() {
    if !browser_available() {
        return;
    }
    let pki = Pki::new();
    let mut net = Net::new(&["KZ"]);
    net.init(0);
    let draft = net.dir.path().join("practice.toml");
    std::fs::write(
        &draft,
        "kind = \"practice\"\ntopics = [\"training\"]\n\n[title]\nen = \"Mentors for new civil servants\"\nkk = \"Жаңа қызметшілерге тәлімгерлер\"\n\n[summary]\nen = \"Every new civil servant is given a mentor for the first year.\"\n",
    )
    .expect("draft");
    let id = publish_offline(&net.data(0), "KZ", &draft);
    let files = hubnet_node::edge::TlsFiles {
        cert: net.nodes[0].dir.join("fullchain.pem"),
        key: net.nodes[0].dir.join("privkey.pem"),
    };
    pki.issue("hub.test", &files);
    net.configure(0, |f| f.tls = Some(files.clone().into()));
    let addr: SocketAddr = net.nodes[0]
        .http
        .trim_start_matches("http://")
        .parse()
        .expect("address");
    net.spawn(0, |_| {});
    net.wait_started_by(0, |_, _| {
        https_get(addr, "hub.test", &pki.ca, "/api/v1/health").is_some()
    });
    let driver = start_driver();
    let profile = tempfile::tempdir().expect("profile dir");
    let extra = [
        "--host-resolver-rules=MAP hub.test 127.0.0.1".to_owned(),
        format!("--ignore-certificate-errors-spki-list={}", pki.spki_hash()),
    ];
    runtime().block_on(async {
        let c = browser_with(&driver, profile.path(), 1280, 900, &extra).await;
        c.goto(&format!("https://hub.test:{}/records/{id}", addr.port()))
            .await
            .expect("open over HTTPS");
        let secure = c
            .execute("return window.isSecureContext && !!crypto.subtle;", vec![])
            .await
            .expect("script");
        assert_eq!(secure, json!(true), "not a secure context");
        let (verdict, text) = signature_verdict(&c).await;
        assert_eq!(verdict, "true", "{text}");
        c.close().await.expect("close");
    });
}
