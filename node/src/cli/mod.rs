//! The `hubnet` command line: argument parsing (clap) and one function per command. Commands
//! translate between people and the store; the rules live in `hubnet-protocol`.

/// `println!` that returns an error instead of panicking when stdout is closed (`| head`).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*)?;
    }};
}

mod audit;
mod audit_report;
mod backup;
mod charter;
pub mod devnet;
mod erase;
mod experts;
mod governance;
mod query;
mod records;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// hubnet: the exchange platform of the Regional Hub of Civil Service.
#[derive(Debug, Parser)]
#[command(name = "hubnet", version, about, long_about = None)]
pub struct Cli {
    /// Log filter, e.g. `info` or `hubnet_node=debug` (also RUST_LOG).
    #[arg(long, global = true, env = "RUST_LOG", default_value = "info")]
    pub log: String,
    /// Log lines as `text` (compact, for people) or `json` (one object per line, for log
    /// collectors) (also HUBNET_LOG_FORMAT).
    #[arg(
        long,
        global = true,
        env = "HUBNET_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text
    )]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How log lines are written (to stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One compact line per event: time, level, message, fields.
    Text,
    /// One JSON object per line: `timestamp`, `level`, `fields` (with `message`), `target`, and
    /// `span` and `spans` inside a span (tracing-subscriber's JSON format).
    Json,
}

/// Where a command finds its data dir.
#[derive(Debug, clap::Args)]
pub struct DataDir {
    /// The node's data dir (created by `hubnet init`).
    #[arg(long, env = "HUBNET_DATA_DIR", default_value = "hubnet-data")]
    pub data_dir: PathBuf,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a publishing (or committee) key; prints its public key.
    Keygen {
        /// File to create (mode 0600); never overwritten.
        #[arg(long)]
        out: PathBuf,
    },
    /// Create, edit, sign, show and verify a charter file.
    #[command(subcommand)]
    Charter(charter::CharterCommand),
    /// Create a data dir for a signed charter.
    Init {
        /// The data dir.
        #[command(flatten)]
        dir: DataDir,
        /// The signed charter (TOML).
        #[arg(long)]
        charter: PathBuf,
    },
    /// Validate, sign and durably store a draft; prints the new record's id.
    Publish {
        /// The data dir.
        #[command(flatten)]
        dir: DataDir,
        /// The member's publishing key file.
        #[arg(long)]
        key: PathBuf,
        /// The draft (.toml or .json).
        draft: PathBuf,
    },
    /// Show one record as JSON (or its raw protobuf).
    Get {
        /// The data dir.
        #[command(flatten)]
        dir: DataDir,
        /// Record id (64 hex).
        id: String,
        /// Write the `SignedRecord` protobuf bytes to stdout instead.
        #[arg(long)]
        raw: bool,
    },
    /// List an author's chain.
    Log {
        /// The data dir.
        #[command(flatten)]
        dir: DataDir,
        /// Member code (KZ, HUB, ...) or publishing key (64 hex).
        member: String,
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Write a bundle: the charter and every signed record.
    Export {
        /// The data dir.
        #[command(flatten)]
        dir: DataDir,
        /// The bundle file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Verify and store every record of a bundle; bad ones are reported and skipped.
    Import {
        /// The data dir.
        #[command(flatten)]
        dir: DataDir,
        /// The bundle.
        bundle: PathBuf,
    },
    /// Start a local network of member nodes on 127.0.0.1 with the sample charter and data.
    Devnet {
        /// How many nodes (the first eight are the sample members, the rest read-only mirrors).
        #[arg(long, default_value_t = 5)]
        nodes: usize,
        /// Where the nodes live (default: a temporary dir, removed at the end).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Start the nodes without publishing the sample data.
        #[arg(long)]
        no_sample_data: bool,
    },
    /// Run a node: p2p gossip and sync, and the HTTP API, until SIGINT or SIGTERM.
    Run {
        /// The node's config file (TOML; see `hubnet_node::config`).
        #[arg(long, env = "HUBNET_CONFIG")]
        config: PathBuf,
    },
    /// Steering Committee decisions: propose, sign offline, submit with the quorum.
    #[command(subcommand)]
    Governance(governance::GovernanceCommand),
    /// Audit nodes and bundles against each other; exit 0 only if nothing is wrong.
    Audit(Box<audit::AuditArgs>),
    /// Expert profiles: which a member must re-confirm.
    #[command(subcommand)]
    Experts(experts::ExpertsCommand),
    /// Erase one of the node's member's records on a running node (docs/PROTOCOL.md §2.1): its
    /// body and its amendments' leave every node; headers and signatures stay. Cannot be undone.
    Erase(erase::EraseArgs),
    /// Query a node (filters and full text) and print a table, JSON or NDJSON.
    Query(Box<query::QueryArgs>),
    /// Back up a node's data while it runs: one tar file with a manifest and checksums holding
    /// everything acknowledged before it started.
    Backup(backup::BackupArgs),
    /// Restore a backup into a new, empty data dir (never a running node's).
    Restore(backup::RestoreArgs),
    /// Check a bundle with no node and no trust, or a backup file (every file against its
    /// manifest, then every record); exit 0 only if everything holds.
    Verify {
        /// The bundle or backup file.
        bundle: PathBuf,
        /// Require this network id (hex), e.g. from the charter you trust.
        #[arg(long)]
        network_id: Option<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs the command line; the binary's whole `main`.
pub fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    init_tracing(&cli.log, cli.log_format);
    match cli.command {
        Command::Keygen { out } => records::keygen(&out),
        Command::Charter(c) => charter::run(c),
        Command::Init { dir, charter } => records::init(&dir.data_dir, &charter),
        Command::Publish { dir, key, draft } => records::publish(&dir.data_dir, &key, &draft),
        Command::Get { dir, id, raw } => records::get(&dir.data_dir, &id, raw),
        Command::Log { dir, member, json } => records::log(&dir.data_dir, &member, json),
        Command::Export { dir, out } => records::export(&dir.data_dir, &out),
        Command::Import { dir, bundle } => records::import(&dir.data_dir, &bundle),
        Command::Devnet {
            nodes,
            dir,
            no_sample_data,
        } => devnet::run(nodes, dir, !no_sample_data),
        Command::Run { config } => {
            crate::service::run(crate::config::Config::load(&config)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Query(args) => query::run(&args),
        Command::Experts(c) => experts::run(c),
        Command::Erase(args) => erase::run(&args),
        Command::Governance(c) => governance::run(c),
        Command::Audit(args) => audit::run(&args),
        Command::Backup(args) => backup::backup(&args),
        Command::Restore(args) => backup::restore(&args),
        Command::Verify {
            bundle,
            network_id,
            json,
        } => records::verify(&bundle, network_id.as_deref(), json),
    }
}

fn init_tracing(filter: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_target(false)
            .compact()
            .init(),
        // No colour codes inside JSON strings, and the target kept: a collector filters on it.
        LogFormat::Json => builder.with_ansi(false).json().init(),
    }
}
