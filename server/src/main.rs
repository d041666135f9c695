//! The `consent` command: serve the API, and look after the decision log.
//!
//! Exit codes: 0 success; 1 the check failed (an invalid config, a broken chain, nothing
//! found); 2 bad usage; 3 the log could not be opened or reached; 141 standard output's
//! reader went away before all was written (`consent export <id> | head -1`), as for a
//! command killed by SIGPIPE (the `output` module).
//!
//! Files: the log (`consent.db`), its head file and the server key (`consent.key`) go in a
//! data directory, `./consent-data` unless `--data-dir` (`CONSENT_DATA_DIR`) names another;
//! `--db`, `--head-file` and `--key-file` still name each one. The directory is created, mode
//! 0700, by the first command that writes.

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use consent_core::config::MAX_LIFETIME_DAYS;
use consent_core::{Config, ConsentId};
use consent_server::api::{self, Settings};
use consent_server::stats::Stats;
use consent_server::store::backup::{self, BackupError};
use consent_server::store::chain::{HeadFileError, advance_head, keep_head_file};
use consent_server::store::postgres::PgStore;
use consent_server::store::sqlite::SqliteStore;
use consent_server::store::{AnyStore, Cause, Corrupt, Doing};
use consent_server::store::{Log as _, SignedHead, Store};
use consent_server::verify::{self, VerifyError};
use consent_server::{ServerKey, StoreError};
use indicatif::{ProgressBar, ProgressStyle};
use time::OffsetDateTime;

#[macro_use]
mod output;

mod banner_build;
mod cli_market;
mod validate;

/// `serve`'s timeouts: at least a second, at most a day. Every connection adds them to the
/// clock, which a value near `u64::MAX` overflows.
fn timeout_seconds() -> clap::builder::RangedU64ValueParser<u64> {
    clap::value_parser!(u64).range(1..=86_400)
}

#[derive(Parser)]
#[command(
    name = "consent",
    version,
    about = "Consent decision log: serve the API, verify, back up, export, erase, purge; the cookie declaration; scan a site."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum BannerCommand {
    /// Compile a config into what a static site serves under /consent/: the compiled policy
    /// (policy.bin), the texts of each language (texts-fi.json for the first layer,
    /// details-fi.json for the preferences, ...), and the banner's
    /// dist/ files beside them. A config with problems compiles nothing: every problem is
    /// printed with its path, as `validate` does.
    Build {
        /// The config file (JSON).
        config: PathBuf,
        /// The directory to write (created if missing; files of the same names replaced, all
        /// of them or none).
        #[arg(long)]
        out: PathBuf,
        /// The banner's dist/ to copy beside them [default: wasm/dist of this checkout, if
        /// there is one].
        #[arg(long)]
        dist: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Make a new current key. The old keys stay in the key file: they verify the log's
    /// records made under them, and their consent tokens and confirmation links stay valid
    /// until they expire (unless --revoke-tokens). The log records the rotation as an entry
    /// linked under the old key that names the new one; restart every `consent serve` that
    /// writes to this log with the new key file.
    Rotate {
        /// Stop accepting the consent tokens and confirmation links the old key signed (a
        /// key that leaked): visitors are asked again.
        #[arg(long)]
        revoke_tokens: bool,
        #[command(flatten)]
        log: LogArgs,
    },
    /// List the key file's keys, oldest first: epoch, id, and whether their tokens are
    /// accepted. Never the secrets.
    List {
        #[command(flatten)]
        key: KeyArgs,
    },
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (and the banner's files).
    Serve(ServeArgs),
    /// Check a consent config and print every problem with its path.
    Validate {
        /// The config file (JSON), or an HTML page that embeds its config in
        /// `<script type="application/json" id="consent-config">`.
        config: PathBuf,
    },
    /// The banner's files for a static site.
    Banner {
        #[command(subcommand)]
        command: BannerCommand,
    },
    /// Walk the log's chain, check it against its signed heads and name the first break.
    Verify {
        /// Verify without the head file (a rollback of the whole database then goes unseen).
        #[arg(long)]
        without_head_file: bool,
        #[command(flatten)]
        log: LogArgs,
    },
    /// Print every record of a consent id as JSON (the visitor's right of access).
    Export {
        /// The consent id (32 hex digits).
        consent_id: String,
        #[command(flatten)]
        log: LogArgs,
    },
    /// Erase the personal fields of a consent id's records; the chain stays verifiable.
    Erase {
        /// The consent id (32 hex digits).
        consent_id: String,
        #[command(flatten)]
        log: LogArgs,
    },
    /// Delete records older than the retention period, leaving a signed checkpoint.
    Purge {
        /// Keep this many days of records: at least as many as a decision stands (the
        /// config's longest lifetime; without --config, 395, the longest a config may set).
        #[arg(long, default_value_t = 1095)]
        retention_days: u32,
        /// The site's config (JSON), for how long its decisions stand.
        #[arg(long, env = "CONSENT_CONFIG")]
        config: Option<PathBuf>,
        #[command(flatten)]
        log: LogArgs,
    },
    /// The customer register's direct-marketing decisions: record, check, clean a list.
    Market {
        #[command(flatten)]
        market: cli_market::MarketArgs,
        #[command(flatten)]
        log: LogArgs,
    },
    /// Data-subject requests: record them, follow their one-month deadline, see what is overdue.
    Request {
        #[command(flatten)]
        request: cli_market::RequestArgs,
        #[command(flatten)]
        log: LogArgs,
    },
    /// The server key: rotate it, list the keys the key file holds.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Print this server's site id (from its key), for the config's "site": it keeps consent
    /// tokens made on another site from granting anything here, in the browser too.
    SiteId {
        #[command(flatten)]
        key: KeyArgs,
        /// The log beside the key [default: <DATA_DIR>/consent.db]: while it (or its head file)
        /// is there, a missing key file is an error, never made anew.
        #[arg(long, env = "CONSENT_DB")]
        db: Option<PathBuf>,
    },
    /// Print the privacy notice's cookie section, generated from the config.
    Declaration(DeclarationArgs),
    /// Crawl a site in headless Chromium with no decision, after "Accept all", after a
    /// withdrawal and after "Reject all", and report what breaks the config (exit 1).
    Scan(ScanArgs),
    /// Decisions per day, action and revision, and acceptance per category.
    ///
    /// The log records what each decision granted, not which categories the site has, so the
    /// acceptance columns come from the site's config, which is required: any other (the
    /// example clinic's) would show categories the site does not have, at 0 %, and leave out
    /// those it has. After `serve --demo`, pass the demo's: core/src/example_config.json.
    Stats {
        /// The site's config (JSON), for its categories: the one `consent serve` is given.
        #[arg(long, env = "CONSENT_CONFIG")]
        config: PathBuf,
        /// Output: a table to read (the default, wherever the output goes), or for scripts
        /// JSON (everything) or CSV (decisions per day, action and revision).
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[command(flatten)]
        log: LogArgs,
    },
    /// Copy a live SQLite log consistently (SQLite's online backup) while `consent serve`
    /// goes on writing, with the copy's signed head in `<COPY>.head`; check the copy with
    /// `consent verify --db <COPY>`. The server key is not copied: back it up once, apart.
    /// For a PostgreSQL log use pg_dump.
    Backup {
        /// Where to write the copy; it must not exist yet (a backup never replaces a file).
        copy: PathBuf,
        /// The SQLite log to copy [default: <DATA_DIR>/consent.db]
        #[arg(long, env = "CONSENT_DB")]
        db: Option<PathBuf>,
        /// Set for a PostgreSQL log, which this command does not copy: use pg_dump.
        #[arg(long, env = "CONSENT_POSTGRES", hide_env_values = true)]
        postgres: Option<String>,
        #[command(flatten)]
        dir: DataDirArg,
    },
}

/// The formats of `consent stats`. The default is the table whether or not the output is a
/// terminal: what a script gets never depends on how it was started, so scripts name
/// `--format json` or `csv`.
#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
    Csv,
}

/// The data directory when `--data-dir` does not name one.
const DATA_DIR: &str = "consent-data";

/// Where the files go that no option names one by one.
#[derive(Args, Clone)]
struct DataDirArg {
    /// The directory for the log (consent.db), its head file (consent.db.head) and the server
    /// key (consent.key), where --db, --head-file and --key-file do not name them; created by a
    /// command that records (`serve`, `market record`, `request open`) or by `site-id`, never
    /// by one that reads, erases or purges [default: consent-data]
    #[arg(long, env = "CONSENT_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
}

/// The server key's file, in the data directory unless named.
#[derive(Args, Clone)]
struct KeyArgs {
    #[command(flatten)]
    dir: DataDirArg,
    /// The server key file (32 random bytes, or a keyring once rotated), created by a command
    /// that records or by `site-id`, never by one that reads, erases or purges [default:
    /// <DATA_DIR>/consent.key]
    #[arg(long, env = "CONSENT_KEY_FILE", global = true)]
    key_file: Option<PathBuf>,
}

impl KeyArgs {
    fn key_file(&self) -> anyhow::Result<PathBuf> {
        self.dir.in_data_dir(self.key_file.as_ref(), "consent.key")
    }
}

impl DataDirArg {
    /// The data directory in use.
    fn data_dir(&self) -> PathBuf {
        self.data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(DATA_DIR))
    }

    /// `named` if given, else `file` in the data directory. With neither named, a `file` left
    /// in the working directory by a version before the data directory is not passed over
    /// silently: starting again beside it would make a new key and an empty log.
    fn in_data_dir(&self, named: Option<&PathBuf>, file: &str) -> anyhow::Result<PathBuf> {
        if let Some(path) = named {
            return Ok(path.clone());
        }
        let dir = self.data_dir();
        if dir.exists() && !dir.is_dir() {
            anyhow::bail!(
                "the data directory {} is not a directory; name another with --data-dir \
                 (CONSENT_DATA_DIR), or each file with --db, --head-file and --key-file",
                dir.display()
            );
        }
        let path = dir.join(file);
        if self.data_dir.is_none() && Path::new(file).exists() && !path.exists() {
            anyhow::bail!(
                "{file} is in the working directory, where earlier versions kept the log, its \
                 head file and the server key; the default is now {}: stop the server and move \
                 them into {DATA_DIR}/ (consent.db, with its -wal file if there is one, \
                 consent.db.head or consent.head, and consent.key), or pass --data-dir . to \
                 keep using this directory",
                path.display()
            );
        }
        Ok(path)
    }

    /// Creates the data directory (mode 0700: it holds the key) if `path` is to go in it.
    fn make_room_for(&self, path: &Path) -> anyhow::Result<()> {
        let dir = self.data_dir();
        if path.parent() != Some(dir.as_path()) || dir.exists() {
            return Ok(());
        }
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt as _;
            builder.mode(0o700);
        }
        builder
            .create(&dir)
            .with_context(|| format!("cannot create the data directory {}", dir.display()))
    }
}

#[derive(Args, Clone)]
struct LogArgs {
    /// The SQLite log file, created by a command that records (`serve`, `market record`,
    /// `request open`), never by one that reads, erases or purges [default:
    /// <DATA_DIR>/consent.db]
    #[arg(long, env = "CONSENT_DB", global = true)]
    db: Option<PathBuf>,
    /// A PostgreSQL connection string (`host=/run/postgresql dbname=consent`, or a
    /// `postgresql://` URL): use it instead of SQLite, for several servers sharing one log.
    #[arg(long, env = "CONSENT_POSTGRES", hide_env_values = true, global = true)]
    postgres: Option<String>,
    #[command(flatten)]
    key: KeyArgs,
    /// The head file: the log's last signed head, kept outside the database so that a
    /// rollback of the whole database is detected. Default: the SQLite file's path with
    /// `.head` added, or <DATA_DIR>/consent.head with PostgreSQL. Keep it (or a copy) where
    /// whoever can edit the database cannot.
    #[arg(long, env = "CONSENT_HEAD_FILE", global = true)]
    head_file: Option<PathBuf>,
}

impl LogArgs {
    fn db(&self) -> anyhow::Result<PathBuf> {
        self.key.dir.in_data_dir(self.db.as_ref(), "consent.db")
    }

    fn head_file(&self) -> anyhow::Result<PathBuf> {
        match (&self.head_file, &self.postgres) {
            (Some(path), _) => Ok(path.clone()),
            (None, Some(_)) => self.key.dir.in_data_dir(None, "consent.head"),
            (None, None) => Ok(backup::head_file_of(&self.db()?)),
        }
    }
}

/// Whether a command may create a missing log and key.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Only reads: a missing log or key is an error, not a new empty log, and the log is
    /// opened read-only (nothing migrated, signed or rotated).
    Read,
    /// Appends: creates them on first start.
    Write,
    /// Erases or purges: writes, but only to a log that is there (a new empty log would
    /// answer "no records" while the real one, under a mistyped `--db`, keeps them).
    Change,
}

#[derive(Clone, Copy, ValueEnum)]
enum ScanFormat {
    Table,
    Json,
    Patch,
}

#[derive(Args)]
#[cfg_attr(not(feature = "scan"), allow(dead_code))]
struct ScanArgs {
    /// The site's start page (http:// or https://).
    url: String,
    /// The site's consent config; without it, the example clinic's.
    #[arg(long, env = "CONSENT_CONFIG")]
    config: Option<PathBuf>,
    /// Output: a readable table, JSON, or the config entries the undeclared cookies and
    /// hosts need.
    #[arg(long, value_enum, default_value_t = ScanFormat::Table)]
    format: ScanFormat,
    /// Pages visited per pass, the start page included.
    #[arg(long, default_value_t = 5)]
    max_pages: usize,
    /// Seconds one page may take to load.
    #[arg(long, default_value_t = 15)]
    page_timeout: u64,
    /// Seconds the whole scan may take.
    #[arg(long, default_value_t = 180)]
    timeout: u64,
    /// The Chromium binary.
    #[arg(long, env = "CONSENT_CHROMIUM", default_value = "/usr/bin/chromium")]
    chromium: PathBuf,
}

#[derive(Args)]
struct DeclarationArgs {
    /// The language, one of the config's (fi, sv, en); the config's default if not given.
    #[arg(long)]
    lang: Option<String>,
    /// Output format: html (a fragment for the privacy notice), md (or markdown) or json.
    #[arg(long, default_value = "html", value_parser = parse_declaration_format)]
    format: consent_core::declaration::Format,
    /// The revision's date (YYYY-MM-DD), shown when the config has no revision_date.
    #[arg(long, value_parser = parse_date)]
    date: Option<time::Date>,
    /// The config file (JSON).
    config: PathBuf,
}

#[derive(Args)]
struct ServeArgs {
    /// The site's consent config (JSON); without it, the example clinic's.
    #[arg(long, env = "CONSENT_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "CONSENT_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// An origin allowed to record decisions, `http(s)://host[:port]` (repeat, or separate
    /// with commas, for several). On loopback, the server's own http://127.0.0.1:PORT and
    /// http://localhost:PORT are allowed too.
    #[arg(long = "origin", env = "CONSENT_ORIGINS", value_delimiter = ',')]
    origins: Vec<String>,
    /// The admin token (required when listening beyond loopback).
    #[arg(long, env = "CONSENT_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Mark the consent cookie Secure even for plain-http origins.
    #[arg(long)]
    secure_cookie: bool,
    /// Requests per second per client (an IPv4 address or an IPv6 /64; 0: no limit): one budget
    /// for the routes that write or read the log (`POST /consent`, the form post, `/consent/me`,
    /// erasures, the admin API), another for the register's sign-up and confirmation.
    #[arg(long, default_value_t = 10)]
    rate_limit: u32,
    /// The banner's dist/ directory, served under /consent/.
    #[arg(long, env = "CONSENT_DIST")]
    dist: Option<PathBuf>,
    /// Serve the demo clinic site at / (from the repository's examples/demo) and the banner
    /// from wasm/dist, unless --dist says otherwise.
    #[arg(long)]
    demo: bool,
    /// The playground's directory, served at /playground/ [default: playground/ of this
    /// checkout, if it is there].
    #[arg(long, env = "CONSENT_PLAYGROUND")]
    playground: Option<PathBuf>,
    /// Send the demo's pages as they are, gated by the banner alone, instead of through
    /// consent-gate's page layer (which makes what a visitor allowed live in the HTML and puts
    /// the first layer in the first paint).
    #[arg(long, requires = "demo")]
    no_page_layer: bool,
    /// Purge records older than this many days, at start and daily; at least as many as the
    /// config's decisions stand (its longest lifetime).
    #[arg(long)]
    retention_days: Option<u32>,
    /// A reverse proxy in front of this server (repeat for several): from it, and only from
    /// it, the forwarding header (`--forwarded-header`) names the client for the rate limits.
    #[arg(
        long = "trusted-proxy",
        env = "CONSENT_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// The header the trusted proxies write the client's address into; the other one is
    /// never read (a proxy passes it through as the client wrote it).
    #[arg(
        long,
        env = "CONSENT_FORWARDED_HEADER",
        value_enum,
        default_value = "x-forwarded-for"
    )]
    forwarded_header: consent_server::client::ForwardingHeader,
    /// Seconds a client may take to send a request's head before the connection is closed
    /// (1 to 86400).
    #[arg(long, default_value_t = 10, value_parser = timeout_seconds())]
    header_timeout: u64,
    /// Seconds a request may take, body included, before it is answered 408; and a write may
    /// wait for the client to read before the connection is closed (1 to 86400).
    #[arg(long, default_value_t = 30, value_parser = timeout_seconds())]
    request_timeout: u64,
    /// Connections served at once; more wait to be accepted.
    #[arg(long, default_value_t = 1024)]
    max_connections: usize,
    /// Connections one client (an IPv4 address, an IPv6 /64) may hold at once; one more is
    /// closed at once (at least 1). The trusted proxies (`--trusted-proxy`) are not limited.
    #[arg(
        long,
        env = "CONSENT_MAX_CONNECTIONS_PER_CLIENT",
        default_value_t = 64,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    max_connections_per_client: u32,
    #[command(flatten)]
    log: LogArgs,
}

/// What the log shows unless `RUST_LOG` says otherwise: our own `info` and up. chromiumoxide
/// (`consent scan`'s browser driver) warns of every DevTools event its protocol types do not
/// know ("WS Invalid message", dozens a page in Chromium 156), which says nothing about the
/// scan: only its errors are shown.
const DEFAULT_LOG: &str = "info,chromiumoxide=error";

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| DEFAULT_LOG.into()),
        )
        .with_writer(std::io::stderr)
        // Colours for a person at a terminal only: a log file, a pipe or journald gets plain
        // text. NO_COLOR (no-color.org) turns them off at a terminal too.
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            errln!("error: cannot start the runtime: {e}");
            return ExitCode::from(3);
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            errln!("error: {}", described(&e));
            let unavailable = e.downcast_ref::<StoreError>().is_some();
            ExitCode::from(if unavailable { 3 } else { 1 })
        }
    }
}

/// An error and its causes on one line, `: `-separated, as `{:#}` writes them, but each cause
/// only once: a cause whose text an outer message already holds (the log's errors name their
/// cause, and hand it on as their source too) is not written again.
fn described(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// `consent banner build`: the site's banner files, compiled with the same code `consent
/// serve` serves them from, written all or nothing (the [`banner_build`](mod@banner_build) module).
fn banner_build(config: &Path, out: &Path, dist: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    use banner_build::Source;
    let config_path = config;
    let config = match read_config(config) {
        Ok(c) => c,
        Err(e) => {
            errln!("error: {}", described(&e));
            return Ok(ExitCode::FAILURE);
        }
    };
    let compiled = consent_core::bundle::files(&config)?;
    let mut files: Vec<(std::ffi::OsString, Source<'_>)> = compiled
        .iter()
        .map(|(name, bytes)| (name.into(), Source::Bytes(bytes)))
        .collect();
    let mut written: Vec<String> = compiled
        .iter()
        .map(|(name, bytes)| format!("{name} ({} B)", bytes.len()))
        .collect();
    let dist = dist.or_else(|| {
        let here = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../wasm/dist"));
        here.is_dir().then_some(here)
    });
    if let Some(dist) = dist {
        let cannot = || format!("cannot read the banner in {}", dist.display());
        let mut entries = std::fs::read_dir(&dist)
            .with_context(cannot)?
            .collect::<Result<Vec<_>, _>>()
            .with_context(cannot)?;
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let name = entry.file_name();
            // A dist that holds an earlier build's output (the site's own directory, say)
            // must not put its policy or texts over this config's.
            if compiled.iter().any(|(c, _)| name == c.as_str()) {
                errln!(
                    "note: {} not copied: the file compiled from the config is kept",
                    entry.path().display()
                );
                continue;
            }
            if entry.file_type().with_context(cannot)?.is_file() {
                written.push(name.to_string_lossy().into_owned());
                files.push((name, Source::Copy(entry.path())));
            }
        }
    }
    banner_build::write(out, &files, config_path)?;
    outln!("{}: {}", out.display(), written.join(", "));
    Ok(ExitCode::SUCCESS)
}

/// `consent validate`: every problem of the config in a JSON file or an HTML page; 1 when
/// there are any, or the file gives no config.
fn validate_command(path: &std::path::Path) -> ExitCode {
    let input = match validate::read(path) {
        Ok(input) => input,
        Err(e) => {
            errln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let source = match input.embedded_at {
        None => path.display().to_string(),
        Some(line) => format!(
            "{} (<script id=\"consent-config\"> at line {line})",
            path.display()
        ),
    };
    let result = Config::from_json(&input.json);
    if input.embedded_at.is_some() {
        errln!(
            "note: the banner no longer reads a config from the page: compile it with \
             `consent banner build <config.json> --out <dir>` and serve policy.bin beside consent.js"
        );
    }
    match result {
        Ok(c) => {
            outln!(
                "{source}: valid (revision {}, {} categories, {} services)",
                c.revision(),
                c.categories().len(),
                c.service_count()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            errln!("{source}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The config at `path`, read as `consent validate` reads a JSON file
/// ([`Config::from_slice`]: at most `MAX_FILE_LEN` bytes of UTF-8, a byte order mark ignored).
fn read_config(path: &Path) -> anyhow::Result<Config> {
    let bytes =
        validate::read_bounded(path).with_context(|| format!("cannot read {}", path.display()))?;
    Config::from_slice(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// A store's error, with the log file's path before it unless it names it already (SQLite's
/// "file is not a database" does not say which file).
fn naming(e: StoreError, db: &Path) -> anyhow::Error {
    let path = db.display().to_string();
    if e.to_string().contains(&path) {
        e.into()
    } else {
        anyhow::Error::new(e).context(format!("the log {path}"))
    }
}

/// Opens the log and its key, read-only for a command that only reads (the store's
/// `open_read_only`). A command that only reads, erases or purges never creates them:
/// a mistyped `--db` is an error, not a new empty log that verifies. A command that writes refuses a log
/// that ends before its head file (rolled back or truncated), and keeps the head file up to
/// date while it runs.
async fn open_log(args: &LogArgs, access: Access) -> anyhow::Result<(AnyStore, ServerKey)> {
    let db = args.db()?;
    let key_file = args.key.key_file()?;
    if args.postgres.is_none() && db.is_dir() {
        let why = std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "a directory, not a log file (check --db or --data-dir)",
        );
        return Err(StoreError::Unavailable(Cause::new(Doing::Open(db), why)).into());
    }
    if access != Access::Write && args.postgres.is_none() && !db.exists() {
        let missing = if access == Access::Read {
            Doing::Find(db)
        } else {
            Doing::FindToChange(db)
        };
        return Err(StoreError::Unavailable(Cause::only(missing)).into());
    }
    let key = match access {
        Access::Write | Access::Change => {
            args.key.dir.make_room_for(&key_file)?;
            let mut beside = vec![args.head_file()?];
            if args.postgres.is_none() {
                beside.push(db.clone());
            }
            load_or_create_key(&key_file, &beside)?
        }
        Access::Read => ServerKey::load(&key_file).map_err(|e| {
            if e.is_not_found() {
                anyhow::anyhow!(
                    "{e} (a read-only command never creates one; check --key-file or --data-dir)"
                )
            } else {
                e.into()
            }
        })?,
    };
    // A command that only reads opens the log read-only: it creates, migrates, signs and
    // rotates nothing, so a read-only file or role will do, and a copy handed over as
    // evidence is left as it was.
    let store = match (&args.postgres, access) {
        (Some(conninfo), Access::Read) => {
            AnyStore::Postgres(PgStore::connect_read_only(conninfo, key.log_keys()).await?)
        }
        (Some(conninfo), _) => {
            AnyStore::Postgres(PgStore::connect(conninfo, key.log_keys()).await?)
        }
        (None, Access::Read) => AnyStore::Sqlite(
            SqliteStore::open_read_only(&db, key.log_keys()).map_err(|e| naming(e, &db))?,
        ),
        (None, _) => {
            if access == Access::Write {
                args.key.dir.make_room_for(&db)?;
            }
            AnyStore::Sqlite(SqliteStore::open(&db, key.log_keys()).map_err(|e| naming(e, &db))?)
        }
    };
    if access != Access::Read {
        // The store rotated a log under a retired key of the file; a head under no key of it
        // would make every append fail (`StoreError::ForeignHead`): say so now, and why.
        if let Some(head) = store.chain_head().await? {
            if !key.log_keys().verify_head(&head) {
                anyhow::bail!(
                    "the log's signed head is not signed under any key of {}: a wrong key file? \
                     If the key is lost, start a new log (another --db) and keep this one, with \
                     its head file, read-only as the proof of what came before",
                    key_file.display()
                );
            }
        }
        // A log whose last record is not the one its signed head names (rows deleted or
        // added at its end by someone with write access) takes no append: SQLite's writer
        // refuses every one, and PostgreSQL's collides with rows past the head or leaves a
        // gap. `consent serve` says so at the start, not in a 500 for each visitor. (Not for
        // the first open of a key rotation, which must not wait for an intact log.)
        if access == Access::Write {
            match store.check_end().await {
                Err(StoreError::Corrupt(Corrupt::NotAtHead { head, last })) => anyhow::bail!(
                    "the log's last record is {last}, but its signed head names record {head}: \
                     records were deleted or added at its end by hand, and nothing can be \
                     appended after them; run `consent verify` and restore the log from a \
                     backup before writing to it"
                ),
                other => other?,
            }
        }
        let path = args.head_file()?;
        args.key.dir.make_room_for(&path)?;
        if let Some(file) = read_head_file(&path)? {
            let db = store.chain_head().await?;
            if db.is_none_or(|db| db.seq < file.seq) {
                anyhow::bail!(
                    "the log ends before record {} that its head file {} vouches for: it was \
                     rolled back or truncated; run `consent verify` and restore it before \
                     writing to it",
                    file.seq,
                    path.display()
                );
            }
            holds_head_file(&store, &key, &file, &path).await?;
        }
        tokio::spawn(keep_head_file(path, store.heads()));
    }
    Ok((store, key))
}

/// The key file at `key_file`, made (32 random bytes) when it is not there, unless a file of
/// `beside` is: a log or a head file made under a key. A new key would neither verify nor
/// extend that log, and the register's contacts, hashed under the old key, could not be
/// found again; it would also stand where the backup of the lost one is to be restored.
fn load_or_create_key(key_file: &Path, beside: &[PathBuf]) -> anyhow::Result<ServerKey> {
    match ServerKey::load(key_file) {
        Ok(key) => Ok(key),
        Err(e) if e.is_not_found() => {
            if let Some(found) = beside.iter().find(|p| p.exists()) {
                anyhow::bail!(
                    "the server key file {} is missing, but {} is there: restore the key file \
                     from its backup. A new key would neither verify nor extend the log made \
                     under the lost one, and the register's contacts could not be found again; \
                     to start a new log instead, move the log and its head file away first",
                    key_file.display(),
                    found.display()
                );
            }
            Ok(ServerKey::load_or_create(key_file)?)
        }
        Err(e) => Err(e.into()),
    }
}

/// Refuses to write to a log that no longer holds what its head file (at `path`) vouches
/// for: a head file signed under a key of the key file, the same start of the keyed chain,
/// and the file's record with the file's link (unless it was purged since). A log rewritten
/// without the key (relinked with plain links as a log from before the keyed chain, or
/// another log under the same key copied over it) would otherwise be signed as found, and
/// the head file moved on to it, so that `consent verify` passed it afterwards.
async fn holds_head_file(
    store: &AnyStore,
    key: &ServerKey,
    file: &SignedHead,
    path: &Path,
) -> anyhow::Result<()> {
    if key.log_keys().signer_of(file).is_none() {
        anyhow::bail!(
            "the head file {} is not signed under any key of the key file: run `consent verify`",
            path.display()
        );
    }
    let rewritten = || {
        anyhow::anyhow!(
            "the log is not the one its head file {} vouches for (record {}): it was rewritten \
             or replaced; run `consent verify` and restore it before writing to it",
            path.display(),
            file.seq
        )
    };
    let db = store.chain_head().await?.ok_or_else(rewritten)?;
    if db.keyed_from != file.keyed_from {
        return Err(rewritten());
    }
    if file.seq == 0 {
        return Ok(());
    }
    let link = match store.checkpoint().await? {
        // Purged past the file's record: nothing held to compare.
        Some(c) if c.seq > file.seq => return Ok(()),
        Some(c) if c.seq == file.seq => c.link,
        _ => {
            store
                .scan(file.seq - 1, 1)
                .await?
                .into_iter()
                .find(|e| e.seq == file.seq)
                .ok_or_else(rewritten)?
                .link
        }
    };
    if link != file.link {
        return Err(rewritten());
    }
    Ok(())
}

/// `consent verify`: the log walked and checked against its head file, and what it proves.
async fn verify_log(log: &LogArgs, without_head_file: bool) -> anyhow::Result<ExitCode> {
    let path = log.head_file()?;
    let (store, key) = match open_log(log, Access::Read).await {
        Ok(opened) => opened,
        Err(e) if !without_head_file && no_log_left(&e) => {
            // The head file vouches for records that the file no longer holds at all: a
            // deletion like any other (exit 1), not a log that cannot be opened (exit 3).
            let Some(head) = read_head_file(&path)?.filter(|h| h.seq > 0) else {
                return Err(e);
            };
            let log_at = match &log.postgres {
                Some(_) => "the PostgreSQL database".to_owned(),
                None => log.db()?.display().to_string(),
            };
            errln!(
                "chain broken: the head file {} vouches for record {}, but {log_at} holds no \
                 decision log: it was deleted, emptied or replaced; restore it from a backup",
                path.display(),
                head.seq,
            );
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => return Err(e),
    };
    let head_file = if without_head_file {
        None
    } else {
        match read_head_file(&path)? {
            Some(head) => Some(head),
            // No head file is expected of a log with no keyed record yet: new, or
            // written by a version before the keyed chain and not appended to since
            // (the first `consent serve` writes it).
            None if store
                .chain_head()
                .await?
                .is_some_and(|h| h.seq > h.keyed_from) =>
            {
                errln!(
                    "chain broken: the head file {} is missing (removed?); pass \
                     --without-head-file to check the database alone",
                    path.display()
                );
                return Ok(ExitCode::FAILURE);
            }
            None => None,
        }
    };
    let bar = bar(store.len().await?, "verifying");
    match verify::verify(&store, &key, head_file.as_ref(), |n| bar.set_position(n)).await {
        Ok(v) => {
            bar.finish_and_clear();
            let after = v
                .checkpoint
                .map(|s| format!(" after the signed checkpoint at record {s}"))
                .unwrap_or_default();
            outln!(
                "chain verified: {} records ({} erased){after}; head {}",
                v.entries,
                v.erased,
                v.head
            );
            match v.head_file {
                Some(seq) => {
                    outln!("head file {}: record {seq} confirmed", path.display())
                }
                None => {
                    outln!("no head file checked: a rollback of the whole database would go unseen")
                }
            }
            for (seq, epoch) in &v.rotations {
                outln!(
                    "record {seq}: the key was rotated to epoch {epoch}, linked under \
                     the key before it"
                );
            }
            if v.epoch < key.epoch() {
                outln!(
                    "the log is under the retired key of epoch {}: it does not record the \
                     rotation to epoch {} (verify writes nothing; the next command that writes \
                     to it records the rotation)",
                    v.epoch,
                    key.epoch()
                );
            }
            if v.keyed_from > 0 {
                outln!(
                    "records 1..={} were linked without a key, by a version before the \
                     keyed chain: they prove only that nobody without write access to \
                     the database changed them",
                    v.keyed_from
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(VerifyError::Broken(b)) => {
            bar.abandon();
            errln!("chain broken: {b}");
            Ok(ExitCode::FAILURE)
        }
        Err(VerifyError::Store(e)) => Err(e.into()),
        Err(e) => Err(e.into()),
    }
}

/// `consent key rotate`: checks that the log is under the key file's current key, rotates the
/// key file, then opens the log with the new file, which records the rotation (the store's
/// `rotation` module). A crash between the two leaves a key file the next open catches the
/// log up with; the other order could leave a log that names a key nobody holds.
async fn rotate_key(log: &LogArgs, revoke_tokens: bool) -> anyhow::Result<ExitCode> {
    let key_file = log.key.key_file()?;
    {
        // Opened for writing: a rotation a crash left unrecorded is caught up with first.
        let (store, key) = open_log(log, Access::Change).await?;
        write_last_head(&log.head_file()?, &store.heads())?;
        let head = store.chain_head().await?;
        if !head.is_some_and(|h| key.log_keys().verify_head(&h)) {
            errln!(
                "not rotating: the log's signed head is not signed under the current key of {}; \
                 run `consent verify`",
                key_file.display()
            );
            return Ok(ExitCode::FAILURE);
        }
    }
    let old = ServerKey::load(&key_file)?;
    let new = ServerKey::rotate_file(&key_file, revoke_tokens)?;
    let (store, key) = open_log(log, Access::Write).await?;
    write_last_head(&log.head_file()?, &store.heads())?;
    let head = store.chain_head().await?;
    let recorded = match head {
        Some(h) if key.log_keys().verify_head(&h) => store
            .scan(h.seq.saturating_sub(1), 1)
            .await?
            .into_iter()
            .find(|e| e.seq == h.seq && e.rotation().is_some())
            .map(|e| e.seq),
        _ => None,
    };
    outln!(
        "key rotated in {}: epoch {} (id {}) signs from now on; epoch {} (id {}) is retired{}",
        key_file.display(),
        new.epoch(),
        new.id(),
        old.epoch(),
        old.id(),
        if revoke_tokens {
            ", its tokens revoked"
        } else {
            ""
        }
    );
    match recorded {
        Some(seq) => outln!(
            "the log records the rotation at record {seq}, linked under the old key; restart \
             every `consent serve` that writes to it with the new key file"
        ),
        None => anyhow::bail!("the log did not record the rotation; run `consent verify`"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether opening a log failed because nothing of it is left: no SQLite file, or a
/// database with no decisions table (a zero-length file is an empty database; a PostgreSQL
/// database whose tables were dropped).
fn no_log_left(e: &anyhow::Error) -> bool {
    match e.downcast_ref::<StoreError>() {
        Some(StoreError::Unavailable(cause)) => matches!(cause.doing(), Doing::Find(_)),
        Some(StoreError::Outdated { lacks }) => *lacks == "decisions table",
        _ => false,
    }
}

/// The head file at `path`, or `None` when there is none.
fn read_head_file(path: &std::path::Path) -> anyhow::Result<Option<SignedHead>> {
    match SignedHead::read(path) {
        Ok(head) => Ok(Some(head)),
        Err(HeadFileError::Io(_, e)) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Writes the last head a command's appends signed before it exits (the keeper task may not
/// have got to it).
fn write_last_head(
    path: &std::path::Path,
    heads: &tokio::sync::watch::Receiver<Option<SignedHead>>,
) -> anyhow::Result<()> {
    let head = *heads.borrow();
    if let Some(head) = head {
        advance_head(path, &head)
            .with_context(|| format!("cannot write the head file {}", path.display()))?;
    }
    Ok(())
}

fn parse_id(s: &str) -> anyhow::Result<ConsentId> {
    s.parse().map_err(|e| anyhow::anyhow!("{s:?}: {e}"))
}

fn bar(len: u64, what: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("{msg} {bar:40} {pos}/{len} ({per_sec}, {eta} left)")
    {
        bar.set_style(style);
    }
    bar.set_message(what);
    bar
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Banner {
            command: BannerCommand::Build { config, out, dist },
        } => banner_build(&config, &out, dist),
        Command::Validate { config } => Ok(validate_command(&config)),
        Command::Key {
            command: KeyCommand::Rotate { revoke_tokens, log },
        } => rotate_key(&log, revoke_tokens).await,
        Command::Key {
            command: KeyCommand::List { key },
        } => {
            let key = ServerKey::load(&key.key_file()?)?;
            for (epoch, id, tokens) in key.describe() {
                let role = if epoch == key.epoch() {
                    "current"
                } else {
                    "retired"
                };
                let tokens = if tokens { "accepted" } else { "revoked" };
                outln!("epoch {epoch}  id {id}  {role}  tokens {tokens}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::SiteId { key, db } => {
            let key_file = key.key_file()?;
            let db = key.dir.in_data_dir(db.as_ref(), "consent.db")?;
            let postgres_head = key.dir.data_dir().join("consent.head");
            key.dir.make_room_for(&key_file)?;
            let beside = [backup::head_file_of(&db), db, postgres_head];
            let key = load_or_create_key(&key_file, &beside)?;
            outln!("{}", key.site_id());
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify {
            without_head_file,
            log,
        } => match verify_log(&log, without_head_file).await {
            // A value no code path writes is a break of the log like any other edit (exit 1),
            // not a log that cannot be opened (exit 3), as a file the database cannot read is.
            Err(e)
                if matches!(
                    e.downcast_ref(),
                    Some(StoreError::Corrupt(c)) if !matches!(c, Corrupt::Driver(_))
                ) =>
            {
                errln!("chain broken: {}", described(&e));
                Ok(ExitCode::FAILURE)
            }
            other => other,
        },
        Command::Export { consent_id, log } => {
            let id = parse_id(&consent_id)?;
            let (store, _) = open_log(&log, Access::Read).await?;
            let entries = store.records_for(id).await?;
            if entries.is_empty() {
                errln!("no records for consent id {id}");
                return Ok(ExitCode::FAILURE);
            }
            let records: Vec<serde_json::Value> = entries
                .iter()
                .map(|e| serde_json::json!({ "seq": e.seq, "digest": e.digest.to_string(), "record": e.record_json.as_deref().and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok()) }))
                .collect();
            outln!(
                "{}",
                output::json(
                    &serde_json::json!({ "consent_id": id.to_string(), "records": records })
                )?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Erase { consent_id, log } => {
            let id = parse_id(&consent_id)?;
            let (store, _) = open_log(&log, Access::Change).await?;
            let n = store.erase(id).await?;
            write_last_head(&log.head_file()?, &store.heads())?;
            if n == 0 {
                errln!("no records for consent id {id}");
                return Ok(ExitCode::FAILURE);
            }
            outln!("erased the personal fields of {n} records of {id}; the chain stays verifiable");
            Ok(ExitCode::SUCCESS)
        }
        Command::Purge {
            retention_days,
            config,
            log,
        } => {
            let config = config.as_deref().map(read_config).transpose()?;
            check_retention(retention_days, config.as_ref())?;
            let (store, key) = open_log(&log, Access::Change).await?;
            let n = purge(&store, &key, retention_days).await?;
            write_last_head(&log.head_file()?, &store.heads())?;
            outln!("purged {n} records older than {retention_days} days");
            Ok(ExitCode::SUCCESS)
        }
        Command::Stats {
            config,
            format,
            log,
        } => {
            let config = read_config(&config)?;
            let (store, _) = open_log(&log, Access::Read).await?;
            let stats = Stats::new(&store.stats().await?, &config);
            match format {
                Format::Table => out!("{}", stats.to_table()),
                Format::Json => outln!("{}", output::json(&stats)?),
                Format::Csv => out!("{}", stats.to_csv()),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup {
            copy,
            db,
            postgres,
            dir,
        } => {
            if postgres.is_some() {
                errln!(
                    "error: `consent backup` copies an SQLite log; back up a PostgreSQL log with \
                     pg_dump (docs/DEPLOY.md), e.g. pg_dump --format=custom \
                     --file=consent.dump consent"
                );
                return Ok(ExitCode::from(2));
            }
            backup_log(&dir.in_data_dir(db.as_ref(), "consent.db")?, copy).await
        }
        Command::Market { market, log } => {
            let writes = market.command.writes();
            let access = if writes { Access::Write } else { Access::Read };
            let (store, key) = open_log(&log, access).await?;
            let heads = store.heads();
            let code = cli_market::run(market.command, store, key).await;
            if writes {
                write_last_head(&log.head_file()?, &heads)?;
            }
            code
        }
        Command::Request { request, log } => {
            let access = if request.command.writes() {
                Access::Write
            } else {
                Access::Read
            };
            let (store, key) = open_log(&log, access).await?;
            cli_market::run_requests(request.command, store, key).await
        }
        Command::Declaration(args) => Ok(declaration(&args)),
        Command::Scan(args) => scan(&args).await,
        Command::Serve(args) => serve(args).await,
    }
}

/// `consent scan` in a build without the scanner: says how to get it.
#[cfg(not(feature = "scan"))]
#[allow(clippy::unused_async)]
async fn scan(args: &ScanArgs) -> anyhow::Result<ExitCode> {
    let _ = args;
    errln!(
        "error: this consent was built without the scanner; build it with \
         `cargo build --release -p consent-server --features scan`"
    );
    Ok(ExitCode::from(2))
}

/// `consent scan`: 1 when anything is found, 2 for a bad address, 3 when the site or
/// Chromium cannot be reached.
#[cfg(feature = "scan")]
async fn scan(args: &ScanArgs) -> anyhow::Result<ExitCode> {
    use consent_server::scan::{self, Options, ScanError};
    let config = match &args.config {
        Some(path) => read_config(path)?,
        None => Config::from_json(consent_core::EXAMPLE_CONFIG)?,
    };
    let options = Options {
        chromium: args.chromium.clone(),
        max_pages: args.max_pages.max(1),
        page_timeout: std::time::Duration::from_secs(args.page_timeout.max(1)),
        total_timeout: std::time::Duration::from_secs(args.timeout.max(1)),
        ..Options::default()
    };
    let spinner = ProgressBar::new_spinner();
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let progress = |msg: &str| spinner.set_message(msg.to_owned());
    let result = scan::scan(&config, &args.url, &options, &progress).await;
    spinner.finish_and_clear();
    let report = match result {
        Ok(r) => r,
        Err(e @ ScanError::BadUrl(_)) => {
            errln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
        Err(e) => {
            errln!("error: {e}");
            return Ok(ExitCode::from(3));
        }
    };
    match args.format {
        ScanFormat::Table => out!("{}", report.to_table()),
        ScanFormat::Json => outln!("{}", output::json(&report)?),
        ScanFormat::Patch => outln!("{}", output::json(&report.patch())?),
    }
    Ok(if report.has_findings() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The config's languages as `fi, sv, en`.
fn languages(config: &Config) -> String {
    let codes: Vec<&str> = config.languages().iter().map(|l| l.as_str()).collect();
    codes.join(", ")
}

/// A declaration format, by the core's names (`html`, `md` or `markdown`, `json`).
fn parse_declaration_format(s: &str) -> Result<consent_core::declaration::Format, String> {
    s.parse()
        .map_err(|e: consent_core::declaration::ParseFormatError| format!("{s:?}: {e}"))
}

fn parse_date(s: &str) -> Result<time::Date, String> {
    let bad = || format!("{s:?}: expected a date as YYYY-MM-DD");
    let format =
        time::format_description::parse_borrowed::<2>("[year]-[month]-[day]").map_err(|_| bad())?;
    time::Date::parse(s, &format).map_err(|_| bad())
}

/// `consent declaration`: 1 for an invalid config (as `validate`), 2 for a language the
/// config does not offer.
fn declaration(args: &DeclarationArgs) -> ExitCode {
    use consent_core::declaration::Declaration;
    let config = match read_config(&args.config) {
        Ok(c) => c,
        Err(e) => {
            errln!("error: {}", described(&e));
            return ExitCode::FAILURE;
        }
    };
    let lang = match &args.lang {
        None => config.default_language(),
        Some(code) => match code.parse::<consent_core::Lang>() {
            Ok(lang) => lang,
            // The same words as the core's error for a known language the config lacks.
            Err(_) => {
                errln!(
                    "error: {}: language {code} is not one of the config's languages ({})",
                    args.config.display(),
                    languages(&config)
                );
                return ExitCode::from(2);
            }
        },
    };
    match Declaration::new(&config, lang, args.date) {
        Ok(d) => {
            if d.date().is_none() {
                errln!(
                    "note: {} has no revision_date; set it, or pass --date, to show the revision's date",
                    args.config.display()
                );
            }
            let out = d.render(args.format);
            out!("{out}");
            if !out.ends_with('\n') {
                outln!();
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            errln!("error: {}: {e}", args.config.display());
            ExitCode::from(2)
        }
    }
}

/// Refuses a retention of `days` that would purge the records of decisions still standing.
///
/// 1. A decision stands for its lifetime: its consent cookie is valid, the banner does not
///    ask again, and the site goes on acting on it (its tags run). The log's record is the
///    proof of that decision (GDPR art. 7(1): the controller must be able to show the
///    consent), so it must outlive it: a retention shorter than the lifetime left decisions
///    in force with nothing in the log behind them (`--retention-days 0` purged everything).
/// 2. With the site's config (`serve` always has one, `purge` with `--config`), the shortest
///    retention is the config's longest lifetime, the longer of `lifetime.accept_days` and
///    `refuse_days`: a refusal is a decision to prove too.
/// 3. Without it, the command cannot know the site's lifetimes, and a guess could be too
///    short: the shortest retention is then [`MAX_LIFETIME_DAYS`], the longest a config may
///    set (395 days, 13 months).
///
/// Caveats: there is no `--force`. Deleting the proof of a decision still in force serves
/// no purpose the command should offer: one visitor's data goes with `consent erase`, which
/// keeps the chain. The floor follows the config given now: after shortening the config's
/// lifetime, decisions made under the longer one may stand until it runs out, so shorten the
/// retention only after that.
fn check_retention(days: u32, config: Option<&Config>) -> anyhow::Result<()> {
    let (floor, what, or) = match config {
        Some(config) => {
            let l = config.lifetimes();
            let (floor, field) = if l.accept_days() >= l.refuse_days() {
                (l.accept_days(), "accept_days")
            } else {
                (l.refuse_days(), "refuse_days")
            };
            (floor, format!("the config's lifetime.{field}"), "")
        }
        None => (
            MAX_LIFETIME_DAYS,
            "the longest lifetime a config may set".to_owned(),
            ", or --config (CONSENT_CONFIG) with the site's config for its own lifetime",
        ),
    };
    if days < u32::from(floor) {
        anyhow::bail!(
            "--retention-days {days} would purge the records of decisions that still stand: a \
             decision can stand {floor} days ({what}), and its record is the proof of it while \
             visitors' cookies hold it; give --retention-days {floor} or more{or}"
        );
    }
    Ok(())
}

/// Purges the records older than `retention_days`
/// ([`Log::purge`](consent_server::store::Log::purge)) once the log verifies.
///
/// The purge chooses what to delete by the `time` column, which whoever can write the
/// database can edit, and signs a checkpoint over the last deleted record's link: on a log
/// that does not verify, it would delete the edited records with the evidence of the edit
/// and sign what is left, which would then verify. So it walks the chain first
/// ([`verify::verify`], against the database's signed head) and refuses a broken log,
/// deleting nothing.
///
/// Caveats: an edit made between the walk and the purge's transaction is not seen.
async fn purge<S: Store>(store: &S, key: &ServerKey, retention_days: u32) -> anyhow::Result<u64> {
    // A retention reaching back before the calendar's first day has nothing older to purge.
    let Some(before) =
        OffsetDateTime::now_utc().checked_sub(time::Duration::days(i64::from(retention_days)))
    else {
        return Ok(0);
    };
    match verify::verify(store, key, None, |_| {}).await {
        Ok(_) => {}
        Err(VerifyError::Broken(b)) => anyhow::bail!(
            "the log does not verify ({b}): nothing was purged, since a purge would delete \
             the evidence and sign the rest; run `consent verify` and restore the log from a \
             backup"
        ),
        Err(e) => return Err(e.into()),
    }
    Ok(store
        .purge(before, &|seq, link, total| {
            key.checkpoint_mac(seq, link, total)
        })
        .await?)
}

/// Why `consent serve` cannot listen on `addr`, with what to do about it.
fn listen_error(addr: SocketAddr, e: &std::io::Error) -> anyhow::Error {
    use std::io::ErrorKind;
    let hint = match e.kind() {
        ErrorKind::AddrInUse => format!(
            "; another program (another `consent serve`?) is listening there: stop it, or \
             choose another address with --listen (CONSENT_LISTEN), e.g. --listen {}:{}",
            addr.ip(),
            addr.port().wrapping_add(1).max(1024)
        ),
        ErrorKind::PermissionDenied => "; ports below 1024 need privileges: listen on a higher \
             port with --listen and put a reverse proxy in front (docs/DEPLOY.md)"
            .to_owned(),
        ErrorKind::AddrNotAvailable => {
            "; no network interface of this machine has that address: check --listen".to_owned()
        }
        _ => String::new(),
    };
    anyhow::anyhow!("cannot listen on {addr}: {e}{hint}")
}

/// `consent backup` of the SQLite log at `db`: 1 when the copy cannot be written, 3 when the
/// log cannot be read (and 2 for a PostgreSQL log, refused before this).
async fn backup_log(db: &Path, copy: PathBuf) -> anyhow::Result<ExitCode> {
    let source = db.to_owned();
    let dest = copy.clone();
    let copied = tokio::task::spawn_blocking(move || backup::backup(&source, &dest))
        .await
        .context("the backup thread failed")?;
    match copied {
        Ok(c) => {
            let head = c
                .head
                .map(|h| format!(", head at record {}", h.seq))
                .unwrap_or_default();
            outln!(
                "{}: {} entries{head} ({} bytes), copied from {}; its head file {}",
                copy.display(),
                c.entries,
                c.bytes,
                db.display(),
                c.head_file.display()
            );
            outln!(
                "check it with: consent verify --db {} (the server key is not in the copy)",
                copy.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ (BackupError::Source(..) | BackupError::NotALog(_))) => {
            Err(StoreError::Unavailable(Cause::new(Doing::Query, e)).into())
        }
        Err(e) => Err(e.into()),
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = match &args.config {
        Some(path) => read_config(path)?,
        None => Config::from_json(consent_core::EXAMPLE_CONFIG)?,
    };
    if let Some(days) = args.retention_days {
        check_retention(days, Some(&config))?;
    }
    // A directory to serve that is not there would answer every request for it with a 404.
    for (option, dir) in [("--dist", &args.dist), ("--playground", &args.playground)] {
        if let Some(dir) = dir.as_deref().filter(|d| !d.is_dir()) {
            anyhow::bail!("{option} {}: not a directory", dir.display());
        }
    }
    let loopback = args.listen.ip().is_loopback();
    if !loopback && args.admin_token.as_deref().is_none_or(str::is_empty) {
        anyhow::bail!(
            "refusing to listen on {} without an admin token: set CONSENT_ADMIN_TOKEN",
            args.listen
        );
    }
    let (store, key) = open_log(&args.log, Access::Write).await?;
    let site = key.site_id();
    let config = match config.site() {
        // The demo serves the banner's config itself, so it can bind it to this key.
        None if args.demo => config.with_site(&site)?,
        None => {
            tracing::info!(
                "the config has no \"site\": a consent token copied from another site with the \
                 same categories would grant them in the browser until this server is asked; \
                 add \"site\": \"{site}\" (consent site-id) to the config the banner gets"
            );
            config
        }
        Some(theirs) if theirs != site => {
            // Another site's id (a config copied from it, or a key replaced since): tokens
            // made there would grant here in the browser, the protection `site` is for, and
            // none made here would match the banner's config. Refused, not warned of.
            let file = args
                .config
                .as_deref()
                .map_or_else(|| "the config".to_owned(), |p| p.display().to_string());
            errln!(
                "error: {file}: \"site\" is \"{theirs}\", but this server's site id is \"{site}\" \
                 (from its key file {}; `consent site-id` prints it): the config is another \
                 site's, or the key was replaced. Put \"site\": \"{site}\" in the config, and in \
                 the config the banner gets, or leave \"site\" out",
                args.log.key.key_file()?.display()
            );
            return Ok(ExitCode::from(2));
        }
        Some(_) => config,
    };
    // Bound before the origins are made: with port 0 the real port is known only now.
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| listen_error(args.listen, &e))?;
    let local = listener.local_addr()?;
    // As browsers write them, or the start stops here: an origin written otherwise would
    // match no request, and its site's decisions would all be refused.
    let mut origins = args
        .origins
        .iter()
        .filter(|o| !o.trim().is_empty())
        .map(|o| api::parse_origin(o))
        .collect::<Result<Vec<_>, _>>()?;
    if loopback {
        let port = local.port();
        origins.push(format!("http://127.0.0.1:{port}"));
        origins.push(format!("http://localhost:{port}"));
    }
    let store = Arc::new(store);
    if let Some(days) = args.retention_days {
        let (store, key) = (Arc::clone(&store), key.clone());
        tokio::spawn(async move {
            let mut daily = tokio::time::interval(std::time::Duration::from_secs(24 * 3600));
            loop {
                daily.tick().await;
                match purge(&*store, &key, days).await {
                    Ok(n) => tracing::info!(purged = n, "retention"),
                    Err(e) => tracing::error!(error = %e, "retention purge failed"),
                }
            }
        });
    }
    let mut admin_token = args.admin_token.filter(|t| !t.is_empty());
    if args.demo && admin_token.is_none() {
        // The demo's admin page needs a token; make one for this run and say it.
        let mut bytes = [0u8; 12];
        getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no random admin token: {e}"))?;
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        tracing::info!(
            "admin page: http://{local}/admin (any user name, password {token}; set CONSENT_ADMIN_TOKEN to choose it)"
        );
        admin_token = Some(token);
    }
    let settings = Settings {
        trusted_proxies: consent_server::client::Proxies {
            trusted: args.trusted_proxies.clone(),
            header: args.forwarded_header,
        },
        config: Arc::new(config),
        key,
        origins,
        admin_token,
        secure_cookie: args.secure_cookie,
        rate_limit: NonZeroU32::new(args.rate_limit),
        dist: args.dist.or_else(|| {
            args.demo
                .then(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../wasm/dist")))
        }),
        demo: args
            .demo
            .then(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/demo"))),
        demo_page_layer: !args.no_page_layer,
        head_file: Some(args.log.head_file()?),
    };
    let playground = args.playground.or_else(|| {
        let here = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../playground"));
        here.is_dir().then_some(here)
    });
    let mut app = api::router(Arc::clone(&store), settings.clone())
        .merge(consent_server::register::api::router(store, settings));
    if let Some(dir) = playground {
        tracing::info!("playground: http://{local}/playground/");
        app = app.merge(consent_server::playground::router(dir));
    }
    let stop = stop_signal();
    tracing::info!("listening on http://{local}");
    let limits = consent_server::listen::Limits {
        header_read_timeout: std::time::Duration::from_secs(args.header_timeout),
        request_timeout: std::time::Duration::from_secs(args.request_timeout),
        max_connections: args.max_connections,
        max_connections_per_client: usize::try_from(args.max_connections_per_client)
            .unwrap_or(usize::MAX),
        uncapped: args.trusted_proxies.clone(),
    };
    consent_server::listen::serve(listener, app, limits, stop).await?;
    Ok(ExitCode::SUCCESS)
}

/// What completes on Ctrl-C (SIGINT) or SIGTERM, what systemd, Docker and Kubernetes send to
/// stop a service: the server then stops accepting, lets open requests finish and exits 0.
/// The handlers are installed when this is called, not when the future is first polled: a
/// signal in between would otherwise kill the process the default way.
#[cfg(unix)]
fn stop_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let signals =
        signal(SignalKind::interrupt()).and_then(|i| Ok((i, signal(SignalKind::terminate())?)));
    async move {
        match signals {
            Ok((mut interrupt, mut terminate)) => {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "no SIGTERM handler: stopping on Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
        tracing::info!("stopping: open requests finish first");
    }
}

/// What completes on Ctrl-C: the server then stops accepting and lets open requests finish.
#[cfg(not(unix))]
fn stop_signal() -> impl std::future::Future<Output = ()> {
    async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("stopping: open requests finish first");
    }
}
