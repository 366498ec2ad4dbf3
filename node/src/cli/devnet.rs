//! `hubnet devnet`: a local network of member nodes on 127.0.0.1 with the sample charter and sample
//! data (both built into the binary from `deploy/sample/`). Each node is its own `hubnet run
//! --config` process, so it can be killed and started again by hand; Ctrl-C stops them all.
//!
//! ```text
//! DIR/charter.toml                 the sample charter
//! DIR/devnet.json                  every node: member, http, p2p, data dir, admin token, config, pid
//! DIR/<MEMBER>/hubnet.toml         the node's config
//! DIR/<MEMBER>/publishing.key      the member's SAMPLE publishing key (mode 0600)
//! DIR/<MEMBER>/node.key            the node's libp2p key
//! DIR/<MEMBER>/data/               the data dir
//! DIR/<MEMBER>/node.log            the node's log
//! ```
//!
//! Nodes beyond the charter's eight members are read-only mirrors named `mirror-N`.
//!
//! Once the sample drafts are published and the nodes converged, the participants of the sample
//! programmes confirm them, each on its own node, and some withdraw again, as
//! `deploy/sample/programmes.toml` plans ([`crate::sample`]); steps of members without a node are
//! skipped.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hubnet_protocol::{Draft, DraftFormat, SecretKey};
use include_dir::{Dir, include_dir};
use libp2p::identity::Keypair;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::process::{Child, Command};
use tracing::{info, warn};

use crate::config::ConfigFile;
use crate::keyfile;
use crate::sample::{ProgrammePlan, Step, confirmation_draft};

static SAMPLE: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../deploy/sample");

/// How long nodes get to start answering HTTP.
const START_DEADLINE: Duration = Duration::from_secs(60);
/// How long the network gets to converge after the sample data is published.
const CONVERGE_DEADLINE: Duration = Duration::from_secs(120);
/// How long a participant's node gets to receive a programme before it confirms it.
const HELD_DEADLINE: Duration = Duration::from_secs(60);
/// How long a stopping node gets before it is killed.
const STOP_DEADLINE: Duration = Duration::from_secs(10);

/// `DIR/devnet.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DevnetFile {
    /// The network id (hex).
    pub network_id: String,
    /// The nodes.
    pub nodes: Vec<DevnetNode>,
}

/// One node of a devnet.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DevnetNode {
    /// Member code, or `mirror-N`.
    pub member: String,
    /// Its HTTP base address.
    pub http: String,
    /// Its libp2p address, with `/p2p/PEER_ID`.
    pub p2p: String,
    /// Its data dir.
    pub data_dir: PathBuf,
    /// Its admin token.
    pub admin_token: String,
    /// Its config file.
    pub config: PathBuf,
    /// The process id of its `hubnet run`.
    pub pid: u32,
}

/// Runs the devnet until Ctrl-C or SIGTERM.
pub fn run(nodes: usize, dir: Option<PathBuf>, publish_sample: bool) -> anyhow::Result<ExitCode> {
    if nodes == 0 {
        bail!("--nodes must be at least 1");
    }
    let (dir, temporary) = match dir {
        Some(d) => (d, false),
        None => {
            let d = std::env::temp_dir().join(format!(
                "hubnet-devnet-{}-{}",
                std::process::id(),
                crate::now_ms()
            ));
            (d, true)
        }
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let dir = dir
        .canonicalize()
        .with_context(|| format!("resolving {}", dir.display()))?;
    if dir.join("devnet.json").exists() {
        bail!(
            "{} already holds a devnet; start its nodes with `hubnet run --config DIR/<MEMBER>/hubnet.toml`, or choose another --dir",
            dir.display()
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    let result = runtime.block_on(devnet(nodes, &dir, publish_sample));
    if temporary
        && result.is_ok()
        && let Err(e) = std::fs::remove_dir_all(&dir)
    {
        warn!(dir = %dir.display(), error = %e, "could not remove the temporary dir");
    }
    result.map(|()| ExitCode::SUCCESS)
}

struct Planned {
    name: String,
    member: Option<String>,
    http: String,
    p2p: String,
    admin_token: String,
    config: PathBuf,
    data_dir: PathBuf,
}

async fn devnet(nodes: usize, dir: &Path, publish_sample: bool) -> anyhow::Result<()> {
    let charter_text = sample_text("charter.toml")?;
    let charter = hubnet_protocol::charter::CharterDoc::from_toml(&charter_text)
        .and_then(|d| d.verify())
        .context("the built-in sample charter")?;
    let charter_path = dir.join("charter.toml");
    std::fs::write(&charter_path, &charter_text)
        .with_context(|| format!("writing {}", charter_path.display()))?;
    // The Secretariat first, then the members in the sample's order, then any others.
    let preferred = ["HUB", "KZ", "KG", "TJ", "UZ", "AZ", "AM", "GE"];
    let mut members: Vec<String> = preferred
        .iter()
        .filter(|c| charter.members().iter().any(|m| m.code == **c))
        .map(|c| (*c).to_owned())
        .collect();
    for m in charter.members() {
        if !members.contains(&m.code) {
            members.push(m.code.clone());
        }
    }
    let plan = plan(nodes, dir, &members)?;
    println!(
        "hubnet devnet: {} nodes of network {} in {}",
        plan.len(),
        charter.network_id(),
        dir.display()
    );
    let mut signals = crate::signals::Signals::install()?;
    let exe = std::env::current_exe().context("finding the hubnet binary")?;
    let mut children: Vec<Child> = Vec::new();
    for p in &plan {
        let log_path = dir.join(&p.name).join("node.log");
        let log = std::fs::File::create(&log_path)
            .with_context(|| format!("creating {}", log_path.display()))?;
        let child = Command::new(&exe)
            .arg("run")
            .arg("--config")
            .arg(&p.config)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("log file")?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", exe.display()))?;
        children.push(child);
    }
    let file = DevnetFile {
        network_id: charter.network_id().to_hex(),
        nodes: plan
            .iter()
            .zip(&children)
            .map(|(p, c)| DevnetNode {
                member: p.name.clone(),
                http: p.http.clone(),
                p2p: p.p2p.clone(),
                data_dir: p.data_dir.clone(),
                admin_token: p.admin_token.clone(),
                config: p.config.clone(),
                pid: c.id().unwrap_or(0),
            })
            .collect(),
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .context("HTTP client")?;
    let outcome = async {
        wait_started(&client, &plan, &mut children, dir).await?;
        let json_path = dir.join("devnet.json");
        // Whole or not at all: scripts and benches wait for this file to appear and read it.
        crate::durable::replace(&json_path, &serde_json::to_vec_pretty(&file)?)
            .with_context(|| format!("writing {}", json_path.display()))?;
        if publish_sample {
            let ids = publish_samples(&client, &plan).await?;
            converge(&client, &plan).await?;
            if apply_programme_plan(&client, &plan, &ids).await? {
                converge(&client, &plan).await?;
            }
        }
        println!();
        for p in &plan {
            println!("  {:<10} {}   {}", p.name, p.http, p.p2p);
        }
        println!();
        println!(
            "  open: {}/  (the web UI: search, records verified in the page, calendar)",
            plan[0].http
        );
        println!(
            "  try:  hubnet query --node {} \"электронное правительство\"",
            plan[0].http
        );
        println!("        curl {}/api/v1/status", plan[0].http);
        println!("  nodes and admin tokens: {}", json_path.display());
        println!("  Ctrl-C stops every node.");
        anyhow::Ok(())
    };
    let result = tokio::select! {
        r = outcome => r.map(|()| true),
        () = signals.recv() => {
            println!("interrupted while starting; stopping the nodes");
            Ok(false)
        }
    };
    if let Ok(true) = result {
        // A node that exits (killed by hand, say) is reported; the others keep running, and it
        // can be started again with its config.
        let mut running: Vec<usize> = (0..children.len()).collect();
        loop {
            tokio::select! {
                () = signals.recv() => break,
                (i, status) = first_exit(&mut children, &running) => {
                    running.retain(|&j| j != i);
                    warn!(node = %plan[i].name, %status, "a node exited");
                    println!(
                        "  node {} exited ({status}); start it again with: hubnet run --config {}",
                        plan[i].name,
                        plan[i].config.display()
                    );
                }
            }
        }
    }
    stop_all(&mut children).await;
    result.map(|_| ())
}

/// Picks ports, writes keys and configs.
fn plan(nodes: usize, dir: &Path, members: &[String]) -> anyhow::Result<Vec<Planned>> {
    // Hold every listener until all ports are picked, so no two nodes get the same one.
    let mut held = Vec::new();
    let mut port = || -> anyhow::Result<u16> {
        let l = TcpListener::bind("127.0.0.1:0").context("picking a free port")?;
        let p = l.local_addr()?.port();
        held.push(l);
        Ok(p)
    };
    let mut planned: Vec<Planned> = Vec::new();
    let mut peers: Vec<String> = Vec::new();
    for i in 0..nodes {
        let member = members.get(i).cloned();
        let name = member.clone().unwrap_or_else(|| format!("mirror-{i}"));
        let node_dir = dir.join(&name);
        std::fs::create_dir_all(&node_dir)
            .with_context(|| format!("creating {}", node_dir.display()))?;
        let node_key = keyfile::generate()?;
        let node_key_path = node_dir.join("node.key");
        keyfile::write_new(&node_key_path, &node_key, "hubnet node key (devnet)")?;
        let peer_id = Keypair::ed25519_from_bytes(node_key.seed())
            .context("node key")?
            .public()
            .to_peer_id();
        let (p2p_port, http_port) = (port()?, port()?);
        let p2p = format!("/ip4/127.0.0.1/tcp/{p2p_port}/p2p/{peer_id}");
        let publishing_key = match &member {
            None => None,
            Some(code) => {
                let key = SecretKey::from_file_text(&sample_text(&format!("keys/{code}.key"))?)
                    .with_context(|| format!("the built-in sample key of {code}"))?;
                let path = node_dir.join("publishing.key");
                keyfile::write_new(
                    &path,
                    &key,
                    &format!("SAMPLE publishing key of {code}: public, for devnets only"),
                )?;
                Some(PathBuf::from("publishing.key"))
            }
        };
        let admin_token = hex::encode(keyfile::generate()?.seed());
        // Each node knows the first node and the one before it; Kademlia finds the rest.
        let bootstrap: Vec<String> = [peers.first(), i.checked_sub(1).and_then(|j| peers.get(j))]
            .into_iter()
            .flatten()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let file = ConfigFile {
            data_dir: PathBuf::from("data"),
            charter: Some(PathBuf::from("../charter.toml")),
            publishing_key,
            node_key: Some(PathBuf::from("node.key")),
            listen: vec![format!("/ip4/127.0.0.1/tcp/{p2p_port}")],
            bootstrap,
            expect_peers: None,
            http: format!("127.0.0.1:{http_port}"),
            admin_token: Some(admin_token.clone()),
            admin_token_file: None,
            // Short, so that a devnet's checkpoints follow its changes within seconds.
            checkpoint_interval_secs: 5,
            ping_interval_ms: crate::config::default_ping_interval(),
            peer_timeout_ms: crate::config::default_peer_timeout(),
            redial_max_ms: crate::config::default_redial_max(),
            gossip_burst: crate::config::default_gossip_burst(),
            gossip_per_second: crate::config::default_gossip_per_second(),
            trusted_proxies: Vec::new(),
            oai_admin_email: None,
            tls: None,
            http_limits: crate::edge::Limits::default(),
        };
        let config = node_dir.join("hubnet.toml");
        let text = format!(
            "# hubnet devnet node {name}: start it again with `hubnet run --config {}`\n{}",
            config.display(),
            toml::to_string(&file).context("writing the config")?
        );
        std::fs::write(&config, text).with_context(|| format!("writing {}", config.display()))?;
        peers.push(p2p.clone());
        planned.push(Planned {
            name,
            member,
            http: format!("http://127.0.0.1:{http_port}"),
            p2p,
            admin_token,
            config,
            data_dir: node_dir.join("data"),
        });
    }
    Ok(planned)
}

fn sample_text(path: &str) -> anyhow::Result<String> {
    SAMPLE
        .get_file(path)
        .and_then(|f| f.contents_utf8())
        .map(str::to_owned)
        .with_context(|| format!("the built-in sample data has no {path}"))
}

async fn wait_started(
    client: &reqwest::Client,
    plan: &[Planned],
    children: &mut [Child],
    dir: &Path,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + START_DEADLINE;
    for (p, child) in plan.iter().zip(children.iter_mut()) {
        loop {
            if let Some(status) = child.try_wait()? {
                let log =
                    std::fs::read_to_string(dir.join(&p.name).join("node.log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(5).collect();
                bail!(
                    "node {} exited at start ({status}):\n{}",
                    p.name,
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                );
            }
            if client
                .get(format!("{}/api/v1/status", p.http))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                break;
            }
            if Instant::now() > deadline {
                bail!("node {} did not answer within {START_DEADLINE:?}", p.name);
            }
            tokio::time::sleep(Duration::from_millis(100)).await; // poll until the deadline
        }
    }
    info!("all nodes answer");
    Ok(())
}

/// Every draft of the sample data, per member, in file order.
fn sample_drafts() -> anyhow::Result<BTreeMap<String, Vec<(String, Value)>>> {
    let mut out: BTreeMap<String, Vec<(String, Value)>> = BTreeMap::new();
    let drafts = SAMPLE
        .get_dir("drafts")
        .context("the built-in sample data has no drafts")?;
    for member_dir in drafts.dirs() {
        let code = member_dir
            .path()
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let mut files: Vec<_> = member_dir.files().collect();
        files.sort_by_key(|f| f.path().to_owned());
        for f in files {
            let name = f.path().display().to_string();
            let text = f
                .contents_utf8()
                .with_context(|| format!("{name}: not UTF-8"))?;
            let draft = Draft::parse(text, DraftFormat::Toml).with_context(|| name.clone())?;
            out.entry(code.clone())
                .or_default()
                .push((name, serde_json::to_value(draft)?));
        }
    }
    Ok(out)
}

/// Publishes `draft` on the node at `http` with its admin `token`; returns the record id.
async fn post(
    client: &reqwest::Client,
    http: &str,
    token: &str,
    draft: &Value,
) -> anyhow::Result<String> {
    let response = client
        .post(format!("{http}/api/v1/records"))
        .bearer_auth(token)
        .json(draft)
        .send()
        .await?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("{status}: {}", body["detail"]);
    }
    body["id"]
        .as_str()
        .map(str::to_owned)
        .context("the answer has no id")
}

/// Links a member's sample reform profiles into a time series: a profile draft that names no
/// `previous` gets the member's profile published before it in this run, if any (the drafts
/// cannot name it: its id exists only once it is signed). Returns whether `draft` is a profile.
fn link_previous(draft: &mut Value, last_profile: Option<&str>) -> bool {
    if draft["kind"] != "reform_profile" {
        return false;
    }
    if let (Some(id), Some(d)) = (last_profile, draft.as_object_mut()) {
        d.entry("previous").or_insert_with(|| json!(id));
    }
    true
}

/// Each member node publishes its sample drafts, all nodes at once (each member's reform
/// profiles linked by `previous`); then KZ postpones its first event (an amendment) and HUB
/// withdraws its last one (a retraction), so the corpus has both. Returns the id of each draft
/// published, by its path under `drafts/` (`KZ/01-merit-testing.toml`).
async fn publish_samples(
    client: &reqwest::Client,
    plan: &[Planned],
) -> anyhow::Result<BTreeMap<String, String>> {
    let drafts = sample_drafts()?;
    let mut tasks = tokio::task::JoinSet::new();
    for p in plan {
        let Some(code) = &p.member else { continue };
        let Some(list) = drafts.get(code).cloned() else {
            continue;
        };
        let (client, http, token, name) = (
            client.clone(),
            p.http.clone(),
            p.admin_token.clone(),
            p.name.clone(),
        );
        tasks.spawn(async move {
            let mut events = Vec::new();
            let mut ids = Vec::new();
            let mut last_profile: Option<String> = None;
            for (file, draft) in &list {
                let mut draft = draft.clone();
                let profile = link_previous(&mut draft, last_profile.as_deref());
                let id = post(&client, &http, &token, &draft)
                    .await
                    .with_context(|| format!("publishing {file} on {name}"))?;
                if profile {
                    last_profile = Some(id.clone());
                }
                if draft["kind"] == "event" {
                    events.push((id.clone(), draft));
                }
                let file = file.strip_prefix("drafts/").unwrap_or(file);
                ids.push((file.to_owned(), id));
            }
            anyhow::Ok((name, list.len(), events, ids))
        });
    }
    let mut events_of: BTreeMap<String, Vec<(String, Value)>> = BTreeMap::new();
    let mut ids = BTreeMap::new();
    while let Some(done) = tasks.join_next().await {
        let (name, count, events, published) = done.context("a publishing task")??;
        println!("  {name}: published {count} sample records");
        events_of.insert(name, events);
        ids.extend(published);
    }
    let node = |code: &str| plan.iter().find(|p| p.name == code);
    if let (Some(kz), Some((id, event))) = (
        node("KZ"),
        events_of.get("KZ").and_then(|e| e.first()).cloned(),
    ) {
        let mut record = event;
        record["status"] = json!("postponed");
        let amendment = json!({
            "kind": "amendment",
            "target": id,
            "record": record,
            "note": {"en": "Postponed; new dates will follow.", "ru": "Перенесено; новые даты будут объявлены позже."},
        });
        post(client, &kz.http, &kz.admin_token, &amendment)
            .await
            .context("KZ's amendment")?;
        println!("  KZ: amended {id} (postponed)");
    }
    if let (Some(hub), Some((id, _))) = (
        node("HUB"),
        events_of.get("HUB").and_then(|e| e.last()).cloned(),
    ) {
        let retraction = json!({
            "kind": "retraction",
            "target": id,
            "reason": {"en": "Withdrawn: merged into the annual forum.", "ru": "Отозвано: объединено с ежегодным форумом."},
        });
        post(client, &hub.http, &hub.admin_token, &retraction)
            .await
            .context("HUB's retraction")?;
        println!("  HUB: retracted {id}");
    }
    Ok(ids)
}

/// Applies the sample programmes' plan (`programmes.toml`) to the programmes published (`ids`,
/// by draft path): each participant confirms on its own node once that node holds the
/// programme, then the withdrawals retract their confirmations. A step whose member has no node
/// is skipped, and so is a programme whose lead has none. Returns whether anything was
/// published.
async fn apply_programme_plan(
    client: &reqwest::Client,
    plan: &[Planned],
    ids: &BTreeMap<String, String>,
) -> anyhow::Result<bool> {
    let programmes = ProgrammePlan::parse(&sample_text("programmes.toml")?)
        .context("the built-in sample data")?;
    let node = |code: &str| plan.iter().find(|p| p.member.as_deref() == Some(code));
    let mut confirmations: BTreeMap<(&str, &str), String> = BTreeMap::new();
    let mut published = false;
    for step in programmes.steps() {
        let (programme, member) = (step.programme(), step.member());
        let Some(id) = ids.get(&programme.draft) else {
            if matches!(step, Step::Confirm { .. }) {
                println!(
                    "  {member}: skipped confirming {} (its lead, {}, has no node)",
                    programme.draft,
                    programme.lead()
                );
            }
            continue;
        };
        let Some(p) = node(member) else {
            let verb = match step {
                Step::Confirm { .. } => "confirming",
                Step::Withdraw { .. } => "withdrawing from",
            };
            println!("  {member}: skipped {verb} programme {id} ({member} has no node)");
            continue;
        };
        match step {
            Step::Confirm { .. } => {
                wait_held(client, p, id).await?;
                let confirmation = post(client, &p.http, &p.admin_token, &confirmation_draft(id))
                    .await
                    .with_context(|| format!("{member}'s confirmation of {}", programme.draft))?;
                println!("  {member}: confirmed programme {id} ({})", programme.draft);
                confirmations.insert((programme.draft.as_str(), member), confirmation);
            }
            Step::Withdraw { .. } => {
                // The plan's parser makes sure a member withdraws only after it confirmed.
                let Some(confirmation) = confirmations.get(&(programme.draft.as_str(), member))
                else {
                    continue;
                };
                post(
                    client,
                    &p.http,
                    &p.admin_token,
                    &programme.withdrawal_draft(confirmation),
                )
                .await
                .with_context(|| format!("{member}'s withdrawal from {}", programme.draft))?;
                println!(
                    "  {member}: withdrew from programme {id} (retracted its confirmation {confirmation})"
                );
            }
        }
        published = true;
    }
    Ok(published)
}

/// Waits until the node `p` holds programme `id` (a node refuses a confirmation of a programme
/// it does not hold).
async fn wait_held(client: &reqwest::Client, p: &Planned, id: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + HELD_DEADLINE;
    loop {
        if client
            .get(format!("{}/api/v1/programmes/{id}", p.http))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "node {} did not receive programme {id} within {HELD_DEADLINE:?}",
                p.name
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await; // poll until the deadline
    }
}

/// Waits until every node reports the same heads digest.
async fn converge(client: &reqwest::Client, plan: &[Planned]) -> anyhow::Result<()> {
    let deadline = Instant::now() + CONVERGE_DEADLINE;
    loop {
        let mut digests = Vec::new();
        let mut counts = Vec::new();
        for p in plan {
            let status: Value = match client.get(format!("{}/api/v1/status", p.http)).send().await {
                Ok(r) => r.json().await.unwrap_or(Value::Null),
                Err(_) => Value::Null,
            };
            digests.push(status["heads_digest"].as_str().unwrap_or("").to_owned());
            counts.push(status["record_count"].as_u64().unwrap_or(0));
        }
        if digests.windows(2).all(|w| w[0] == w[1]) && !digests[0].is_empty() {
            println!(
                "  converged: every node holds {} records (heads digest {})",
                counts[0],
                &digests[0][..16.min(digests[0].len())]
            );
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!(
                "the nodes did not converge within {CONVERGE_DEADLINE:?} (record counts {counts:?})"
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await; // poll until the deadline
    }
}

/// The first of the `running` children to exit; never resolves if none is running.
async fn first_exit(
    children: &mut [Child],
    running: &[usize],
) -> (usize, std::process::ExitStatus) {
    let waits: Vec<_> = children
        .iter_mut()
        .enumerate()
        .filter(|(i, _)| running.contains(i))
        .map(|(i, c)| {
            Box::pin(async move {
                match c.wait().await {
                    Ok(s) => (i, s),
                    Err(_) => std::future::pending().await,
                }
            })
        })
        .collect();
    if waits.is_empty() {
        return std::future::pending().await;
    }
    futures::future::select_all(waits).await.0
}

/// SIGTERM to every node, then SIGKILL to any still running after the deadline.
async fn stop_all(children: &mut [Child]) {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    for c in children.iter() {
        if let Some(pid) = c.id().and_then(|p| i32::try_from(p).ok()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
    }
    let deadline = tokio::time::Instant::now() + STOP_DEADLINE;
    for c in children.iter_mut() {
        if tokio::time::timeout_at(deadline, c.wait()).await.is_err() {
            let _ = c.kill().await;
        }
    }
    println!("devnet stopped");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_members_sample_profiles_are_linked_in_publication_order() {
        let mut practice = json!({"kind": "practice"});
        assert!(!link_previous(&mut practice, Some("aa")));
        assert!(practice.get("previous").is_none());
        let mut first = json!({"kind": "reform_profile"});
        assert!(link_previous(&mut first, None));
        assert!(first.get("previous").is_none());
        let mut second = json!({"kind": "reform_profile"});
        assert!(link_previous(&mut second, Some("aa")));
        assert_eq!(second["previous"], "aa");
        // A draft that names its previous keeps it.
        let mut named = json!({"kind": "reform_profile", "previous": "bb"});
        assert!(link_previous(&mut named, Some("aa")));
        assert_eq!(named["previous"], "bb");
    }

    #[test]
    fn every_sample_draft_parses() {
        let drafts = sample_drafts().expect("the sample drafts parse");
        let profiles: usize = drafts
            .values()
            .flatten()
            .filter(|(_, d)| d["kind"] == "reform_profile")
            .count();
        assert!(profiles >= 14, "two reform profiles per member state");
    }
}
