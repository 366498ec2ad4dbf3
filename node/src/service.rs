//! `hubnet run`: a node's parts wired together. The store behind a read-write lock, the ingest
//! worker and the search indexer on their own threads, the swarm task (libp2p and the sync state
//! machine) and the HTTP API on tokio, and a clean stop on SIGINT or SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use hubnet_protocol::{Charter, PublicKey, SecretKey};
use libp2p::identity::Keypair;
use tokio::sync::{mpsc, oneshot, watch};
use tracing::{info, warn};

use crate::config::Config;
use crate::shared::Shared;
use crate::signals::Signals;
use crate::store::{CHARTER_FILE, Store};
use crate::{api, edge, keyfile, net, worker};

/// Jobs waiting for the ingest worker.
const JOB_QUEUE: usize = 1024;
/// Events waiting for the swarm task.
const EVENT_QUEUE: usize = 4096;
/// How long a stop may take before the process gives up waiting.
const STOP_GRACE: Duration = Duration::from_secs(4);

/// Where HTTPS certificates come from, opened.
enum Https {
    /// PEM files, watched.
    Files(Arc<edge::Certificates>),
    /// ACME, driven on its own task.
    Acme(Box<edge::Acme>),
}

/// Runs a node until SIGINT or SIGTERM.
pub fn run(config: Config) -> anyhow::Result<()> {
    // Everything that can be wrong with the setup is found before anything starts: the keys are
    // checked against the charter before a new data dir is created.
    let key = match &config.publishing_key {
        None => None,
        Some(p) => Some(keyfile::read(p).with_context(|| {
            format!("config {}: field `publishing_key`", config.path.display())
        })?),
    };
    let not_a_member = |charter: &Charter, key: &SecretKey| {
        anyhow::anyhow!(
            "config {}: field `publishing_key`: {} is not the key of any member of network {}",
            config.path.display(),
            key.public_key(),
            charter.network_id()
        )
    };
    if let (Some(k), Some(path), false) = (
        &key,
        &config.charter,
        config.data_dir.join(CHARTER_FILE).exists(),
    ) {
        let charter = configured_charter(&config, path)?;
        if charter.member_by_key(&k.public_key()).is_none() {
            return Err(not_a_member(&charter, k));
        }
    }
    // The addresses are taken (HTTP) or tried (p2p, bound again by libp2p) before a data dir is
    // created, so that one in use is refused with nothing changed.
    let http = std::net::TcpListener::bind(config.http)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .with_context(|| {
            format!(
                "config {}: field `http`: cannot listen on {}",
                config.path.display(),
                config.http
            )
        })?;
    for addr in &config.listen {
        if let Some(socket) = net::tcp_socket_addr(addr) {
            std::net::TcpListener::bind(socket).with_context(|| {
                format!(
                    "config {}: field `listen`: cannot listen on {addr}",
                    config.path.display()
                )
            })?;
        }
    }
    let tls = match &config.tls {
        None => None,
        Some(edge::TlsSource::Files(files)) => Some(Https::Files(
            edge::Certificates::open(files.clone())
                .with_context(|| format!("config {}: field `tls`", config.path.display()))?,
        )),
        Some(edge::TlsSource::Acme(settings)) => Some(Https::Acme(Box::new(
            edge::Acme::open(settings.clone())
                .with_context(|| format!("config {}: field `tls.acme`", config.path.display()))?,
        ))),
    };
    let store = open_store(&config)?;
    if let Some(k) = &key
        && store.charter().member_by_key(&k.public_key()).is_none()
    {
        return Err(not_a_member(store.charter(), k));
    }
    if let Some(k) = &key {
        warn_if_key_ended(&store, &k.public_key());
    }
    let member = key.as_ref().and_then(|k| {
        store
            .charter()
            .member_by_key(&k.public_key())
            .map(|m| m.code.clone())
    });
    let node_key = node_keypair(&config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    let result = runtime.block_on(serve(config, http, tls, store, key, member, node_key));
    // Blocking tasks still running (a sync read, say) are not waited for beyond this.
    runtime.shutdown_timeout(Duration::from_millis(500));
    result
}

/// Warns when a Steering Committee decision ended (or will end, at its head) the configured key:
/// the node then refuses to publish, and its operator needs the key the decision names.
fn warn_if_key_ended(store: &Store, key: &PublicKey) {
    let charter = store.charter();
    let Some(Some(last)) = charter.key_last_seq(key) else {
        return;
    };
    let head = store.head(key).ok().flatten().map_or(0, |h| h.seq);
    let member = charter
        .member_by_key(key)
        .map_or("?".to_owned(), |m| m.code.clone());
    let revoked = charter.key_revoked(key);
    if head >= last || revoked {
        warn!(
            %member,
            %key,
            last_valid_seq = last,
            head,
            revoked,
            "a Steering Committee decision ended this node's publishing key: it will not publish; \
             configure the member's current key (see GET /api/v1/governance)"
        );
    } else {
        warn!(
            %member,
            %key,
            last_valid_seq = last,
            head,
            "a Steering Committee decision limits this node's publishing key: it may sign up to seq {last}",
        );
    }
}

async fn serve(
    config: Config,
    http: std::net::TcpListener,
    tls: Option<Https>,
    store: Store,
    key: Option<SecretKey>,
    member: Option<String>,
    node_key: Keypair,
) -> anyhow::Result<()> {
    let listener =
        tokio::net::TcpListener::from_std(http).context("handing the HTTP socket to tokio")?;
    let mut signals = Signals::install()?;
    let peer_id = node_key.public().to_peer_id();
    let (shared, indexer) =
        Shared::new(store, peer_id, member.clone()).context("opening the search index")?;
    shared
        .expect_peers
        .store(config.expect_peers, std::sync::atomic::Ordering::Relaxed);
    shared.oai.set_admin_email(config.oai_admin_email.clone());
    let (stop_tx, stop_rx) = watch::channel(false);
    let (job_tx, job_rx) = mpsc::channel(JOB_QUEUE);
    let (event_tx, event_rx) = mpsc::channel(EVENT_QUEUE);
    let mut network = net::build(&shared, node_key, &config)?;
    net::wait_listening(&mut network, &config).await?;
    let (worker_done_tx, mut worker_done) = oneshot::channel();
    {
        let shared = shared.clone();
        std::thread::Builder::new()
            .name("ingest-store".into())
            .spawn(move || {
                let _ = worker_done_tx.send(worker::run(shared, key, job_rx, event_tx));
            })
            .context("starting the ingest worker")?;
    }
    let mut net_task = tokio::spawn(net::run(
        network,
        shared.clone(),
        config.bootstrap.clone(),
        job_tx.clone(),
        event_rx,
        stop_rx.clone(),
        config.checkpoint_interval,
    ));
    let edge_metrics = Arc::new(edge::EdgeMetrics::default());
    edge_metrics.register(
        &mut shared
            .metrics
            .registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    let limits = edge::fit_descriptors(config.http_limits.clone());
    let app = api::router(api::AppState {
        answers: api::answers::AnswerCache::new(limits.answer_cache_mb << 20),
        records: api::answers::RecordCache::new(limits.record_cache_mb << 20),
        shared: shared.clone(),
        jobs: job_tx,
        admin_token: Arc::from(config.admin_token.as_str()),
        guard: api::guard::Guard::new(
            limits.clone(),
            config.trusted_proxies.clone(),
            edge_metrics.clone(),
        ),
    });
    let http_addr = listener.local_addr().context("reading the HTTP address")?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let tls = match tls {
        None => None,
        Some(Https::Files(certs)) => {
            tokio::spawn(certs.clone().watch(stop_rx.clone()));
            Some(certs.server_config())
        }
        Some(Https::Acme(acme)) => {
            let metrics = Arc::new(edge::AcmeMetrics::default());
            metrics.register(
                &mut shared
                    .metrics
                    .registry
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            );
            let config = acme.server_config();
            tokio::spawn(acme.drive(metrics, stop_rx.clone()));
            Some(config)
        }
    };
    info!(
        network = %shared.charter().network_id(),
        %peer_id,
        member = member.as_deref().unwrap_or("(mirror)"),
        http = %format!("{scheme}://{http_addr}"),
        "node started"
    );
    let edge = edge::Edge::new(limits, tls, edge_metrics);
    let mut http = tokio::spawn(edge::serve(
        listener,
        app,
        edge,
        stop_rx.clone(),
        STOP_GRACE / 2,
    ));
    // Runs until a signal, or until the worker stops on its own (the store failed).
    let failure = tokio::select! {
        () = signals.recv() => None,
        r = &mut worker_done => Some(match r {
            Ok(Err(e)) => anyhow::Error::new(e).context("the ingest worker stopped"),
            _ => anyhow::anyhow!("the ingest worker stopped"),
        }),
    };
    info!("stopping");
    let deadline = tokio::time::Instant::now() + STOP_GRACE;
    let _ = stop_tx.send(true);
    let stopped = tokio::time::timeout_at(deadline, async {
        let _ = (&mut net_task).await;
        let _ = (&mut http).await;
        // The swarm task and the HTTP side held the last job senders: the worker ends once its
        // queue is empty. Everything acknowledged is already on disk.
        if failure.is_none() {
            let _ = (&mut worker_done).await;
        }
    })
    .await;
    if stopped.is_err() {
        // Nothing acknowledged is at risk: only unanswered work is left behind.
        warn!("not everything stopped within {STOP_GRACE:?}; exiting anyway");
        net_task.abort();
        http.abort();
    } else {
        if let Err(e) = shared.lock_store().flush() {
            warn!(error = %e, "flushing the index at stop failed (the journal holds everything)");
        }
        // The search index commits what it has; whatever it had not, it reads again at start.
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let (done_tx, done_rx) = oneshot::channel();
        std::thread::spawn(move || {
            indexer.stop();
            let _ = done_tx.send(());
        });
        if tokio::time::timeout(left, done_rx).await.is_err() {
            warn!("the search indexer did not stop in time; it rebuilds what it missed at start");
        }
    }
    info!("stopped");
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Opens the data dir, creating it from the configured charter if it is new.
fn open_store(config: &Config) -> anyhow::Result<Store> {
    let exists = config.data_dir.join(CHARTER_FILE).exists();
    match (&config.charter, exists) {
        (Some(path), false) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let store = Store::init(&config.data_dir, &text).with_context(|| {
                format!(
                    "config {}: field `charter`: {}",
                    config.path.display(),
                    path.display()
                )
            })?;
            info!(data_dir = %config.data_dir.display(), "initialised a new data dir");
            Ok(store)
        }
        (None, false) => bail!(
            "config {}: field `data_dir`: {} is not a hubnet data dir, and no `charter` is set to create it",
            config.path.display(),
            config.data_dir.display()
        ),
        (charter, true) => {
            let store = Store::open(&config.data_dir)?;
            if let Some(path) = charter {
                let given = configured_charter(config, path)?;
                if given.network_id() != store.charter().network_id() {
                    bail!(
                        "config {}: field `charter`: {} is network {}, but the data dir {} holds network {}",
                        config.path.display(),
                        path.display(),
                        given.network_id(),
                        config.data_dir.display(),
                        store.charter().network_id()
                    );
                }
            }
            Ok(store)
        }
    }
}

/// Reads and verifies the charter file the config names.
fn configured_charter(config: &Config, path: &std::path::Path) -> anyhow::Result<Charter> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    hubnet_protocol::charter::CharterDoc::from_toml(&text)
        .and_then(|d| d.verify())
        .with_context(|| {
            format!(
                "config {}: field `charter`: {}",
                config.path.display(),
                path.display()
            )
        })
}

/// Reads the node key, creating it (mode 0600) if missing.
fn node_keypair(config: &Config) -> anyhow::Result<Keypair> {
    let path = &config.node_key;
    let seed = if path.exists() {
        keyfile::read(path)?
    } else {
        let key = keyfile::generate()?;
        keyfile::write_new(
            path,
            &key,
            "hubnet node key (libp2p Ed25519 seed): identifies the node on the wire only.",
        )?;
        info!(path = %path.display(), "created a node key");
        key
    };
    Keypair::ed25519_from_bytes(seed.seed()).context("the node key is not an Ed25519 seed")
}
