//! hubnet beside PostgreSQL full-text search, in one run on one machine (issue 18):
//! - the same corpus as the search bench (`hubnet_node::synth::sample_corpus`, N records,
//!   default 1 million, `HUBNET_SEARCH_RECORDS` sets N) stored and indexed by hubnet (store
//!   ingest + search indexing) and loaded into a PostgreSQL table (COPY, then GIN and btree
//!   indexes built two at a time, then ANALYZE), each load timed;
//! - the same five filtered queries answered by both, each answer whole: the page of 20 records
//!   as the API returns them (JSON), the total and the facet counts over every match (country,
//!   topic, kind, language), serialised to the response body; p50 and p99 over repeated runs
//!   (`HUBNET_PG_ROUNDS`, default 200), both warm, hubnet and PostgreSQL taking turns;
//! - the server's settings are [`SETTINGS`] (`HUBNET_PG_SETTINGS="jit=on work_mem=64MB"` tries
//!   others; `HUBNET_PG_EXPLAIN=1` prints each query's plan with its timings);
//! - the match counts and facets of both compared, per query.
//!
//! The bench installs nothing. It needs Debian's PostgreSQL server binaries
//! (`apt-get install -y postgresql`, found under /usr/lib/postgresql/*/bin) and starts its own
//! server: `initdb` into a temporary folder and `postgres` on 127.0.0.1 on a free port, as the
//! `postgres` system user when run as root (the server refuses to run as root), stopped at the
//! end or on a panic. Run with `cargo bench -p hubnet-node --bench postgres`.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hubnet_node::api::query::{parse_query, run_query};
use hubnet_node::current::Current;
use hubnet_node::search::{Query, Sort, text};
use hubnet_node::shared::Shared;
use hubnet_node::store::Store;
use hubnet_protocol::Record;
use serde_json::json;

const NOW: i64 = 1_790_000_000_000;
const BATCH: usize = 4096;
/// Runs of each query before the measured ones.
const WARM_UP: usize = 10;

/// The server settings: tuned for this machine (2 cores, 24 GiB shared with other work), written
/// in BENCHMARKS.md. Everything else is PostgreSQL's default.
const SETTINGS: &[(&str, &str)] = &[
    ("shared_buffers", "4GB"),
    ("effective_cache_size", "12GB"),
    ("work_mem", "256MB"),
    ("maintenance_work_mem", "2GB"),
    ("max_worker_processes", "4"),
    ("max_parallel_workers", "2"),
    ("max_parallel_workers_per_gather", "2"),
    ("max_parallel_maintenance_workers", "2"),
    ("random_page_cost", "1.1"),
    ("effective_io_concurrency", "200"),
    ("default_toast_compression", "lz4"),
    // The load: a table created and filled in one transaction is written without WAL.
    ("wal_level", "minimal"),
    ("max_wal_senders", "0"),
    ("max_wal_size", "8GB"),
    ("checkpoint_timeout", "30min"),
    ("jit", "off"),
];

/// The five queries of BENCHMARKS.md's Search table.
const QUERIES: [&str; 5] = [
    "q=%D0%B3%D0%BE%D1%81%D1%83%D0%B4%D0%B0%D1%80%D1%81%D1%82%D0%B2%D0%B5%D0%BD%D0%BD%D0%BE%D0%B9%20%D1%81%D0%BB%D1%83%D0%B6%D0%B1%D1%8B&country=KZ",
    "q=%D1%8D%D0%BB%D0%B5%D0%BA%D1%82%D1%80%D0%BE%D0%BD%D0%BD%D0%BE%D0%B5%20%D0%BF%D1%80%D0%B0%D0%B2%D0%B8%D1%82%D0%B5%D0%BB%D1%8C%D1%81%D1%82%D0%B2%D0%BE&kind=practice",
    "q=civil%20service&lang=en&topic=recruitment",
    "q=%D0%BC%D0%B5%D0%BC%D0%BB%D0%B5%D0%BA%D0%B5%D1%82%D1%82%D1%96%D0%BA&lang=kk&country=KZ",
    "q=training&kind=event&sort=start",
];

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test` runs benches as tests; this one is only for `cargo bench`.
    }
    let bin = match pg_bin() {
        Some(b) => b,
        None => {
            eprintln!(
                "PostgreSQL's server binaries (initdb, postgres) are not under \
                 /usr/lib/postgresql/*/bin: install them with `apt-get install -y postgresql`"
            );
            std::process::exit(2);
        }
    };
    let n = env_usize("HUBNET_SEARCH_RECORDS", 1_000_000);
    let rounds = env_usize("HUBNET_PG_ROUNDS", 200).max(1);
    println!("load average at the start: {}", load_average());

    let pg = Postgres::start(&bin);
    let mut client = pg.connect();
    let version: String = client
        .query_one("SELECT version()", &[])
        .expect("version")
        .get(0);
    println!("{version}");

    // The corpus, as the search bench makes it.
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let charter = std::fs::read_to_string(common::sample("charter.toml")).expect("charter");
    let mut store = Store::init(&data, &charter).expect("store");
    eprintln!("signing {n} records…");
    let all = hubnet_node::synth::sample_corpus(&common::sample(""), store.charter(), n, NOW)
        .expect("the sample corpus");

    // hubnet's load, part 1: the store's ingest (group commits into the journal and sled).
    let started = Instant::now();
    for chunk in all.chunks(BATCH) {
        store.append(chunk).expect("append");
    }
    store.flush().expect("flush");
    let ingest = started.elapsed();
    eprintln!("hubnet ingest: {n} records in {ingest:.1?}");

    // PostgreSQL's load: COPY, indexes, ANALYZE.
    let pg_load = load_postgres(&pg, &mut client, all);
    let table_size: String = client
        .query_one(
            "SELECT pg_size_pretty(pg_total_relation_size('records'))",
            &[],
        )
        .expect("size")
        .get(0);

    // hubnet's load, part 2: the indexer catching up with the whole journal.
    let (store, indexing) = common::index_whole_journal(store, &data);
    eprintln!("hubnet indexing: {n} records in {indexing:.1?}");
    let peer = libp2p::identity::Keypair::generate_ed25519()
        .public()
        .to_peer_id();
    let (shared, _indexer) = Shared::new(store, peer, None).expect("shared");
    let hubnet_size = folder_size(&data);

    // The queries: both warm, taking turns, each answer whole.
    println!("load average before the queries: {}", load_average());
    let mut lines = Vec::new();
    let mut checks = Vec::new();
    let mut met = true;
    for qs in QUERIES {
        let (q, _) = parse_query(&shared, Some(qs), &[]).expect("valid query");
        let sql = sql_of(&q);
        let statement = client.prepare(&sql).expect("the query's SQL");
        let hubnet_answer = || {
            let (records, page) = run_query(&shared, &q).expect("query");
            let body = json!({
                "records": records.iter().map(Current::json).collect::<Vec<_>>(),
                "next_cursor": page.next_cursor,
                "total": page.total,
                "facets": page.facets,
            });
            let bytes = serde_json::to_vec(&body).expect("json");
            (page, records, bytes)
        };
        let mut pg_answer = || {
            let rows = client.query(&statement, &[]).expect("PostgreSQL query");
            PgAnswer::of(&rows)
        };
        for _ in 0..WARM_UP {
            std::hint::black_box(hubnet_answer());
            std::hint::black_box(pg_answer());
        }
        let mut hub = Vec::with_capacity(rounds);
        let mut pgt = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let t = Instant::now();
            std::hint::black_box(hubnet_answer());
            hub.push(t.elapsed());
            let t = Instant::now();
            std::hint::black_box(pg_answer());
            pgt.push(t.elapsed());
        }
        hub.sort();
        pgt.sort();
        let (page, records, hub_bytes) = hubnet_answer();
        let pga = pg_answer();
        if std::env::var_os("HUBNET_PG_EXPLAIN").is_some() {
            for row in client
                .query(&format!("EXPLAIN (ANALYZE, BUFFERS) {sql}"), &[])
                .expect("explain")
            {
                let line: String = row.get(0);
                eprintln!("{line}");
            }
        }
        let decoded = url::form_urlencoded::parse(qs.as_bytes())
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ");
        let ratio = common::percentile(&pgt, 0.99).as_secs_f64()
            / common::percentile(&hub, 0.99).as_secs_f64();
        met &= ratio >= 3.0;
        lines.push(format!(
            "| `{decoded}` | {} | {} | {:.1?} | {:.1?} | {:.1?} | {:.1?} | {ratio:.1}× |",
            page.total,
            pga.total,
            common::percentile(&hub, 0.5),
            common::percentile(&hub, 0.99),
            common::percentile(&pgt, 0.5),
            common::percentile(&pgt, 0.99),
        ));
        let f = &page.facets;
        let same = |name: &str, a: &BTreeMap<String, u64>| {
            let b = pga.facets.get(name).cloned().unwrap_or_default();
            if *a == b {
                format!("{name} same")
            } else {
                format!("{name} differ: hubnet {a:?}, PostgreSQL {b:?}")
            }
        };
        let hub_ids: Vec<String> = records.iter().map(|c| c.id().to_hex()).collect();
        let shared_ids = hub_ids.iter().filter(|i| pga.ids.contains(i)).count();
        checks.push(format!(
            "`{decoded}`: {}; {}; {}; {}; page: {shared_ids} of {} records in both; answer \
             {} bytes (hubnet), {} bytes (PostgreSQL)\n  PostgreSQL: {sql}",
            same("country", &f.country),
            same("topic", &f.topic),
            same("kind", &f.kind),
            same("lang", &f.lang),
            hub_ids.len(),
            hub_bytes.len(),
            pga.body.len(),
        ));
    }
    println!("load average after the queries: {}", load_average());
    println!();
    println!(
        "| query ({n} records) | matches hubnet | matches PostgreSQL | hubnet p50 | hubnet p99 \
         | PostgreSQL p50 | PostgreSQL p99 | p99 PostgreSQL / hubnet |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for l in lines {
        println!("{l}");
    }
    println!();
    println!(
        "hubnet p99 at most a third of PostgreSQL's on every query: {}",
        if met { "yes" } else { "no" }
    );
    println!();
    for c in checks {
        println!("{c}");
    }
    println!();
    println!(
        "load: hubnet {:.1?} (store ingest {ingest:.1?} + search indexing {indexing:.1?}), \
         {hubnet_size} MB on disk; PostgreSQL {:.1?} (COPY {:.1?}, of which {:.1?} building \
         rows in the bench, + indexes {:.1?} + ANALYZE {:.1?}), {table_size} (table, TOAST and \
         indexes)",
        ingest + indexing,
        pg_load.copy + pg_load.indexes + pg_load.analyze,
        pg_load.copy,
        pg_load.rows,
        pg_load.indexes,
        pg_load.analyze,
    );
    for (name, took) in &pg_load.each_index {
        println!("  {name}: {took:.1?}");
    }
    println!("settings:");
    let extra = std::env::var("HUBNET_PG_SETTINGS").unwrap_or_default();
    let names = SETTINGS
        .iter()
        .map(|(n, _)| *n)
        .chain(extra.split_whitespace().filter_map(|s| s.split('=').next()));
    for name in names {
        let v: String = client
            .query_one(&format!("SHOW {name}"), &[])
            .expect("setting")
            .get(0);
        println!("  {name} = {v}");
    }
    drop(client);
    drop(pg);
}

/// The size of a folder's files, in MB.
fn folder_size(dir: &Path) -> u64 {
    fn walk(p: &Path) -> u64 {
        let Ok(entries) = std::fs::read_dir(p) else {
            return 0;
        };
        entries
            .filter_map(Result::ok)
            .map(|e| match e.file_type() {
                Ok(t) if t.is_dir() => walk(&e.path()),
                _ => e.metadata().map_or(0, |m| m.len()),
            })
            .sum()
    }
    walk(dir) / 1_000_000
}

/// The newest PostgreSQL server binaries under /usr/lib/postgresql/*/bin.
fn pg_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            (bin.join("postgres").exists() && bin.join("initdb").exists()).then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, b)| b)
}

/// A PostgreSQL server of the bench's own: a temporary cluster on 127.0.0.1, stopped when
/// dropped (also on a panic).
struct Postgres {
    child: Child,
    port: u16,
    log: PathBuf,
    // Removed after the server stopped (fields drop after `drop`).
    _dir: tempfile::TempDir,
}

impl Postgres {
    /// `initdb` and `postgres` from `bin`, as the `postgres` user when run as root.
    fn start(bin: &Path) -> Postgres {
        let dir = tempfile::tempdir().expect("tempdir");
        let user = if nix::unistd::Uid::effective().is_root() {
            let u = nix::unistd::User::from_name("postgres")
                .expect("the user database")
                .expect(
                    "no `postgres` user to run the server as (PostgreSQL refuses to run as \
                     root); `apt-get install -y postgresql` creates it",
                );
            std::os::unix::fs::chown(dir.path(), Some(u.uid.as_raw()), Some(u.gid.as_raw()))
                .expect("chown the server's folder");
            Some((u.uid.as_raw(), u.gid.as_raw()))
        } else {
            None
        };
        let as_user = |cmd: &mut Command| {
            cmd.current_dir(dir.path());
            if let Some((uid, gid)) = user {
                cmd.uid(uid).gid(gid);
            }
        };
        let data = dir.path().join("data");
        let mut initdb = Command::new(bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ])
            .stdout(Stdio::null());
        as_user(&mut initdb);
        let out = initdb.output().expect("run initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = dir.path().join("postgres.log");
        let log_file = std::fs::File::create(&log).expect("log file");
        let mut cmd = Command::new(bin.join("postgres"));
        cmd.arg("-D")
            .arg(&data)
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", &format!("port={port}")])
            .args(["-c", "unix_socket_directories="]);
        for (name, value) in SETTINGS {
            cmd.args(["-c", &format!("{name}={value}")]);
        }
        // Other settings to try, `name=value` separated by spaces (the later wins).
        for setting in std::env::var("HUBNET_PG_SETTINGS")
            .unwrap_or_default()
            .split_whitespace()
        {
            cmd.args(["-c", setting]);
        }
        cmd.stdout(Stdio::null())
            .stderr(log_file.try_clone().expect("log file"));
        as_user(&mut cmd);
        let child = cmd.spawn().expect("start postgres");
        let mut pg = Postgres {
            child,
            port,
            log,
            _dir: dir,
        };
        // Ready when it accepts a connection; a deadline, not a sleep.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = pg.child.try_wait() {
                panic!("postgres exited ({status}):\n{}", pg.log_text());
            }
            if postgres::Client::connect(&pg.conninfo(), postgres::NoTls).is_ok() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "postgres did not accept connections within 60 s:\n{}",
                pg.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        pg
    }

    fn conninfo(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            self.port
        )
    }

    fn connect(&self) -> postgres::Client {
        postgres::Client::connect(&self.conninfo(), postgres::NoTls).expect("connect")
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // SIGINT: PostgreSQL's fast shutdown (sessions ended, a checkpoint, exit).
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("postgres did not stop within 60 s: killed");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The table: one row per practice or event, what hubnet's search document holds, plus the
/// record's JSON as the API returns it.
const SCHEMA: &str = "CREATE TABLE records (
    id text NOT NULL,
    idk bigint NOT NULL,
    author text NOT NULL,
    kind text NOT NULL,
    country text NOT NULL,
    topics text[] NOT NULL,
    langs text[] NOT NULL,
    created_at timestamptz NOT NULL,
    start_at timestamptz,
    retracted boolean NOT NULL,
    title_ru text, text_ru text,
    title_en text, text_en text,
    title_kk text, text_kk text,
    title_other text, text_other text,
    record json NOT NULL,
    tsv_ru tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('russian', coalesce(title_ru, '')), 'A')
        || to_tsvector('russian', coalesce(text_ru, ''))) STORED,
    tsv_en tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', coalesce(title_en, '')), 'A')
        || to_tsvector('english', coalesce(text_en, ''))) STORED,
    tsv_kk tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', coalesce(title_kk, '')), 'A')
        || to_tsvector('simple', coalesce(text_kk, ''))) STORED,
    tsv_other tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', coalesce(title_other, '')), 'A')
        || to_tsvector('simple', coalesce(text_other, ''))) STORED
)";

const COLUMNS: &str = "id, idk, author, kind, country, topics, langs, created_at, start_at, \
    retracted, title_ru, text_ru, title_en, text_en, title_kk, text_kk, title_other, text_other, \
    record";

const INDEXES: &[(&str, &str)] = &[
    ("tsv_ru (GIN)", "CREATE INDEX ON records USING gin (tsv_ru)"),
    ("tsv_en (GIN)", "CREATE INDEX ON records USING gin (tsv_en)"),
    ("tsv_kk (GIN)", "CREATE INDEX ON records USING gin (tsv_kk)"),
    (
        "tsv_other (GIN)",
        "CREATE INDEX ON records USING gin (tsv_other)",
    ),
    (
        "id (primary key)",
        "ALTER TABLE records ADD PRIMARY KEY (id)",
    ),
    ("country (btree)", "CREATE INDEX ON records (country)"),
    ("kind (btree)", "CREATE INDEX ON records (kind)"),
    (
        "start_at, idk (btree)",
        "CREATE INDEX ON records (start_at, idk)",
    ),
    (
        "created_at, idk (btree)",
        "CREATE INDEX ON records (created_at, idk)",
    ),
    ("topics (GIN)", "CREATE INDEX ON records USING gin (topics)"),
    ("langs (GIN)", "CREATE INDEX ON records USING gin (langs)"),
];

/// The full-text column and configuration for language `tag`: Russian and English stemmed,
/// every other language `simple` (PostgreSQL ships no stemmer for Kazakh or the region's other
/// languages).
fn ts_column(tag: &str) -> (&'static str, &'static str) {
    match text::primary(tag).as_str() {
        "ru" => ("tsv_ru", "russian"),
        "en" => ("tsv_en", "english"),
        "kk" => ("tsv_kk", "simple"),
        _ => ("tsv_other", "simple"),
    }
}

fn ts_suffix(tag: &str) -> &'static str {
    match text::primary(tag).as_str() {
        "ru" => "ru",
        "en" => "en",
        "kk" => "kk",
        _ => "other",
    }
}

struct PgLoad {
    copy: Duration,
    rows: Duration,
    indexes: Duration,
    analyze: Duration,
    each_index: Vec<(&'static str, Duration)>,
}

/// Loads `all` into the table: created and filled by COPY (FREEZE) in one transaction, then the
/// indexes on two connections at once (one core each), then ANALYZE.
fn load_postgres(pg: &Postgres, client: &mut postgres::Client, all: Vec<Record>) -> PgLoad {
    let n = all.len();
    let started = Instant::now();
    let mut rows = Duration::ZERO;
    let mut tx = client.transaction().expect("begin");
    tx.batch_execute(SCHEMA).expect("create table");
    let mut w = tx
        .copy_in(&format!(
            "COPY records ({COLUMNS}) FROM STDIN WITH (FREEZE)"
        ))
        .expect("copy");
    let mut line = Vec::with_capacity(16 * 1024);
    for r in all {
        let t = Instant::now();
        line.clear();
        copy_row(r, &mut line);
        rows += t.elapsed();
        w.write_all(&line).expect("copy row");
    }
    w.finish().expect("copy finish");
    tx.commit().expect("commit");
    let copy = started.elapsed();
    eprintln!("PostgreSQL COPY: {n} rows in {copy:.1?}");

    let started = Instant::now();
    let queue = Mutex::new(INDEXES.iter());
    let each = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let mut c = pg.connect();
                loop {
                    let next = queue.lock().expect("queue").next();
                    let Some((name, sql)) = next else { break };
                    let t = Instant::now();
                    c.batch_execute(sql).expect("create index");
                    each.lock().expect("each").push((*name, t.elapsed()));
                }
            });
        }
    });
    let indexes = started.elapsed();
    eprintln!("PostgreSQL indexes: {indexes:.1?}");
    let started = Instant::now();
    client.batch_execute("ANALYZE records").expect("analyze");
    let analyze = started.elapsed();
    PgLoad {
        copy,
        rows,
        indexes,
        analyze,
        each_index: each.into_inner().expect("each"),
    }
}

/// One row of COPY's text format for record `r`.
fn copy_row(r: Record, out: &mut Vec<u8>) {
    let c = Current {
        original: r,
        amendment: None,
        retraction: None,
    };
    let content = c.content().expect("a practice or event");
    let view = content.view();
    let mut idk = [0u8; 8];
    idk.copy_from_slice(&c.id().as_bytes()[..8]);
    // The id key as hubnet orders it (u64), in a signed column: the top bit flipped.
    let idk = (u64::from_be_bytes(idk) ^ (1 << 63)) as i64;
    let texts = view.search_texts();
    let langs = text::languages(&texts.main);
    // Title, and every other searchable text, per language group; normalised as hubnet does.
    let title = view.title();
    let mut titles: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut bodies: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for t in texts.main.iter().chain(&texts.other) {
        let is_title = title.is_some_and(|x| std::ptr::eq(x, *t));
        let into = if is_title { &mut titles } else { &mut bodies };
        for (tag, value) in &t.text {
            let v = into.entry(ts_suffix(tag)).or_default();
            let s = text::normalize(value);
            if !(is_title && v.contains(&s)) {
                v.push(s);
            }
        }
    }
    let time = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .expect("a time")
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    let record = serde_json::to_string(&c.json()).expect("json");
    let mut fields: Vec<Option<String>> = vec![
        Some(c.id().to_hex()),
        Some(idk.to_string()),
        Some(c.original.header.author.to_hex()),
        Some(view.name().to_owned()),
        Some(view.country().to_owned()),
        Some(array(view.topics())),
        Some(array(&langs)),
        Some(time(c.created_at())),
        view.start_ms().map(time),
        Some(c.retracted().to_string()),
    ];
    for group in ["ru", "en", "kk", "other"] {
        fields.push(titles.get(group).map(|v| v.join("\n")));
        fields.push(bodies.get(group).map(|v| v.join("\n")));
    }
    fields.push(Some(record));
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        match f {
            None => out.extend_from_slice(b"\\N"),
            Some(s) => copy_escape(s, out),
        }
    }
    out.push(b'\n');
}

/// A text array literal (`{"a","b"}`).
fn array<S: AsRef<str>>(items: &[S]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|s| {
            format!(
                "\"{}\"",
                s.as_ref().replace('\\', "\\\\").replace('"', "\\\"")
            )
        })
        .collect();
    format!("{{{}}}", quoted.join(","))
}

/// COPY text format: backslash, tab, newline and carriage return escaped.
fn copy_escape(s: &str, out: &mut Vec<u8>) {
    for b in s.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b => out.push(b),
        }
    }
}

/// An SQL string literal.
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn lits(items: &[String]) -> String {
    let l: Vec<String> = items.iter().map(|s| lit(s)).collect();
    format!("ARRAY[{}]::text[]", l.join(","))
}

/// The SQL of `q`: the matches (filters and full text in each searched language's column and
/// configuration) computed once, then the page (rank or start order, LIMIT 20, the record JSON)
/// and the counts per facet value over every match, in one statement.
fn sql_of(q: &Query) -> String {
    let mut filters = vec!["NOT retracted".to_owned()];
    if !q.kinds.is_empty() {
        filters.push(format!("kind = ANY({})", lits(&q.kinds)));
    }
    if !q.countries.is_empty() {
        filters.push(format!("country = ANY({})", lits(&q.countries)));
    }
    if !q.topics.is_empty() {
        filters.push(format!("topics && {}", lits(&q.topics)));
    }
    if !q.langs.is_empty() {
        filters.push(format!("langs && {}", lits(&q.langs)));
    }
    let mut rank = "0".to_owned();
    if let Some(t) = &q.q {
        // The columns hubnet searches: the languages asked for, else every language.
        let mut columns: Vec<(&str, &str)> = if q.langs.is_empty() {
            ["ru", "en", "kk", "other"]
                .into_iter()
                .map(ts_column)
                .collect()
        } else {
            q.langs.iter().map(|l| ts_column(l)).collect()
        };
        columns.dedup();
        let t = lit(&text::normalize(t));
        let matches: Vec<String> = columns
            .iter()
            .map(|(col, cfg)| format!("{col} @@ websearch_to_tsquery('{cfg}', {t})"))
            .collect();
        filters.push(format!("({})", matches.join(" OR ")));
        let ranks: Vec<String> = columns
            .iter()
            .map(|(col, cfg)| format!("ts_rank({col}, websearch_to_tsquery('{cfg}', {t}))"))
            .collect();
        rank = ranks.join(" + ");
    }
    let (key, order) = match q.sort {
        Sort::Relevance => (format!("{rank} AS rank"), "rank DESC, id"),
        Sort::Start => ("start_at, idk".to_owned(), "start_at NULLS LAST, idk"),
        Sort::Newest => ("created_at, idk".to_owned(), "created_at DESC, idk DESC"),
        Sort::Oldest => ("created_at, idk".to_owned(), "created_at, idk"),
    };
    format!(
        "WITH m AS MATERIALIZED (
            SELECT id, country, kind, topics, langs, {key} FROM records WHERE {filters}),
        page AS (
            SELECT id, row_number() OVER (ORDER BY {order}) AS i
            FROM (SELECT * FROM m ORDER BY {order} LIMIT {limit}) top)
        SELECT 0 AS part, id AS key, page.i AS n, r.record::text AS record
            FROM page JOIN records r USING (id)
        UNION ALL SELECT 1, country, count(*), NULL FROM m GROUP BY country
        UNION ALL SELECT 2, t, count(*), NULL FROM m, unnest(topics) t GROUP BY t
        UNION ALL SELECT 3, kind, count(*), NULL FROM m GROUP BY kind
        UNION ALL SELECT 4, l, count(*), NULL FROM m, unnest(langs) l GROUP BY l
        UNION ALL SELECT 5, NULL, count(*), NULL FROM m",
        filters = filters.join(" AND "),
        limit = q.limit,
    )
}

/// PostgreSQL's answer, assembled into the same response body as hubnet's.
struct PgAnswer {
    total: u64,
    facets: BTreeMap<&'static str, BTreeMap<String, u64>>,
    ids: Vec<String>,
    body: String,
}

impl PgAnswer {
    fn of(rows: &[postgres::Row]) -> PgAnswer {
        let mut page: Vec<(i64, String, String)> = Vec::new();
        let mut facets: BTreeMap<&'static str, BTreeMap<String, u64>> = BTreeMap::new();
        let mut total = 0;
        for row in rows {
            let part: i32 = row.get(0);
            let key: Option<String> = row.get(1);
            let n: Option<i64> = row.get(2);
            let n = n.unwrap_or_default();
            let facet = match part {
                0 => {
                    page.push((n, key.unwrap_or_default(), row.get(3)));
                    continue;
                }
                1 => "country",
                2 => "topic",
                3 => "kind",
                4 => "lang",
                _ => {
                    total = n as u64;
                    continue;
                }
            };
            facets
                .entry(facet)
                .or_default()
                .insert(key.unwrap_or_default(), n as u64);
        }
        page.sort_by_key(|(i, _, _)| *i);
        let ids = page.iter().map(|(_, id, _)| id.clone()).collect();
        let records: Vec<&str> = page.iter().map(|(_, _, r)| r.as_str()).collect();
        let body = format!(
            "{{\"records\":[{}],\"next_cursor\":null,\"total\":{total},\"facets\":{}}}",
            records.join(","),
            serde_json::to_string(&facets).expect("json"),
        );
        PgAnswer {
            total,
            facets,
            ids,
            body,
        }
    }
}
