//! Decision-log ingest: durable records per second through [`Store::append`], beside a bare
//! INSERT loop into the same database, in the same run.
//!
//! ```text
//! cargo bench -p consent-server --bench ingest -- [--records N] [--rounds R] [--in-flight K] [--no-pg]
//! ```
//!
//! For each store, every round measures, one after the other on one database:
//!
//! 1. **store**: `K` tasks (default 256) each call `append` in a loop, one append in flight
//!    per task, until `N` records (default 100,000) are acknowledged. This includes what a
//!    real append costs: JSON encoding, the record's SHA-256 digest, the chain link, reading
//!    the head, the channel to the writer and the replies. The mean batch (records per
//!    commit) is observed: for SQLite by counting `fsync` calls in this process (SQLite's
//!    WAL commit with `synchronous = FULL` is one `fsync`, and each checkpoint adds three,
//!    told apart by the one on the database file itself; the bare loop, whose commits are
//!    known, checks the count every round), for PostgreSQL exactly, from the distinct `xmin`
//!    (transaction ids) of the new rows.
//! 2. **bare**: the same `N` rows, encoded, hashed and chained before the clock starts, are
//!    inserted by one thread into a table with the same schema and indexes (copied from the
//!    store's own table) in the same database, in transactions of the store's mean batch
//!    size from step 1: SQLite,
//!    `BEGIN IMMEDIATE`, one prepared `INSERT` per row, `COMMIT`, on a connection with the
//!    store's settings (WAL, `synchronous = FULL`); PostgreSQL, `BEGIN`, one multi-row
//!    `INSERT ... SELECT * FROM unnest(...)` (the store's own statement shape), `COMMIT`.
//!    No head lookup, no chain computation, no channel.
//!
//! Beside the rates, each round reports CPU time per record: of this process while the store
//! ran (the callers, the channel and, for SQLite, the writer thread and SQLite itself), of
//! the SQLite writer thread alone, and of this process while the bare loop ran. On a machine
//! whose `fsync` is slow both rates are bound by the disk and the ratio says little about
//! the store's own work; the CPU figures still do. For PostgreSQL, the CPU time of the
//! cluster's processes (from `/proc`) is reported apart, for both runs.
//!
//! The ratio store / bare is taken per round; medians are printed at the end. PostgreSQL
//! runs on a throw-away cluster (`initdb` as the `postgres` user, unix socket in a temp dir,
//! `fsync = on`, `synchronous_commit = on`) when its binaries are found; `--no-pg` skips it.
//! Databases live in a temp dir under the workspace's `target/bench-tmp/`: on the
//! repository's disk, never tmpfs.

// A bench binary: a failed setup stops it with a message (expect). The fsync counter
// interposes libc's `fsync`/`fdatasync` for the bundled SQLite, which needs `unsafe`.
#![allow(clippy::expect_used, unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use consent_core::policy::{self, Action, Context, Signals};
use consent_core::{Channel, Config, ConsentId, DecisionRecord, Digest, Lang, PageUrl, chain_link};
use consent_server::store::postgres::PgStore;
use consent_server::store::sqlite::SqliteStore;
use consent_server::store::{Store, Summary};
use rusqlite::{Connection, TransactionBehavior, params};

static FSYNCS: AtomicU64 = AtomicU64::new(0);
/// The `fsync` calls on a database file itself rather than its `-wal`: one per checkpoint.
static DB_SYNCS: AtomicU64 = AtomicU64::new(0);

/// The commits among `syncs` calls to `fsync`, `db` of them on a database file itself.
/// A WAL commit with `synchronous = FULL` is one `fsync` of the WAL; a checkpoint adds three:
/// the WAL before it copies pages back, the database file after, and the WAL's new header
/// when the next commit restarts it.
fn commits(syncs: u64, db: u64) -> u64 {
    syncs.saturating_sub(3 * db).max(1)
}

/// Counts an `fsync` of `fd`, and apart those of a database file (not its WAL).
fn count_sync(fd: libc::c_int) {
    FSYNCS.fetch_add(1, Ordering::Relaxed);
    let link = std::fs::read_link(format!("/proc/self/fd/{fd}")).unwrap_or_default();
    if link.extension().is_some_and(|e| e == "db") {
        DB_SYNCS.fetch_add(1, Ordering::Relaxed);
    }
}

/// Counts, then does, an `fsync`. The bundled SQLite is linked into this binary, so its
/// calls resolve to this definition rather than libc's.
#[unsafe(no_mangle)]
extern "C" fn fsync(fd: libc::c_int) -> libc::c_int {
    count_sync(fd);
    // SAFETY: the raw system call libc's fsync makes, on the caller's descriptor; it returns
    // -1 and sets errno on failure, as libc's does.
    unsafe { libc::syscall(libc::SYS_fsync, fd) as libc::c_int }
}

/// CPU time (user and system) of this process so far.
fn process_cpu() -> Duration {
    // SAFETY: getrusage fills the struct it is given; all-zero is a valid `rusage`.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}

/// CPU time so far of this process's threads whose name starts with `prefix`, from the
/// scheduler's nanosecond counter (`/proc/self/task/*/schedstat`).
fn threads_cpu(prefix: &str) -> Duration {
    let mut nanos = 0;
    for task in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.starts_with(prefix) {
            let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
            nanos += stat
                .split_whitespace()
                .next()
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    Duration::from_nanos(nanos)
}

/// Microseconds per record.
fn per_record(d: Duration, n: usize) -> f64 {
    d.as_secs_f64() * 1e6 / n as f64
}

/// As [`fsync`], for builds of SQLite that use `fdatasync`.
#[unsafe(no_mangle)]
extern "C" fn fdatasync(fd: libc::c_int) -> libc::c_int {
    count_sync(fd);
    // SAFETY: as in `fsync`.
    unsafe { libc::syscall(libc::SYS_fdatasync, fd) as libc::c_int }
}

struct Options {
    records: usize,
    rounds: usize,
    in_flight: usize,
    pg: bool,
}

fn options() -> Options {
    let mut o = Options {
        records: 100_000,
        rounds: 5,
        in_flight: 256,
        pg: true,
    };
    // `cargo bench` passes `--bench`; without it (`cargo test --benches`), a quick smoke
    // run that checks the bench still works, not a measurement.
    if !std::env::args().any(|a| a == "--bench") {
        o.records = 2_000;
        o.rounds = 1;
        o.pg = false;
        println!("no --bench: smoke run, {} records, SQLite only", o.records);
    }
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .and_then(|v| v.parse().ok())
                .expect("a number after the option")
        };
        match arg.as_str() {
            "--records" => o.records = value(),
            "--rounds" => o.rounds = value(),
            "--in-flight" => o.in_flight = value(),
            "--no-pg" => o.pg = false,
            // `--bench` (see above); anything else is ignored.
            _ => {}
        }
    }
    o
}

/// `n` accept-all decisions on the example config, with consent ids from `first` on.
fn records(config: &Config, first: u64, n: usize) -> Vec<DecisionRecord> {
    let now = time::OffsetDateTime::now_utc();
    let before = policy::evaluate(config, None, None, now, Signals::default());
    (first..first + n as u64)
        .map(|i| {
            let mut bytes = [0u8; 16];
            bytes[8..].copy_from_slice(&i.to_be_bytes());
            let ctx = Context {
                now,
                signals: Signals::default(),
                lang: Lang::Fi,
                fresh_id: ConsentId::from_bytes(bytes),
            };
            let d = policy::decide(config, &before, Action::AcceptAll, ctx).expect("decision");
            DecisionRecord::new(
                config,
                d.state(),
                PageUrl::new("https://klinikka.fi/").ok(),
                Channel::Banner,
            )
        })
        .collect()
}

/// A row as the stores write it, computed before the bare loop's clock starts.
struct Rows {
    seq: Vec<i64>,
    time: Vec<i64>,
    consent_id: Vec<Vec<u8>>,
    record: Vec<String>,
    digest: Vec<Vec<u8>>,
    link: Vec<Vec<u8>>,
    action: Vec<String>,
    revision: Vec<i32>,
    granted: Vec<String>,
}

impl Rows {
    fn new(records: &[DecisionRecord], first_seq: i64) -> Self {
        let n = records.len();
        let mut rows = Rows {
            seq: Vec::with_capacity(n),
            time: Vec::with_capacity(n),
            consent_id: Vec::with_capacity(n),
            record: Vec::with_capacity(n),
            digest: Vec::with_capacity(n),
            link: Vec::with_capacity(n),
            action: Vec::with_capacity(n),
            revision: Vec::with_capacity(n),
            granted: Vec::with_capacity(n),
        };
        let mut link = Digest::ZERO;
        for (i, r) in records.iter().enumerate() {
            let d = r.digest();
            link = chain_link(&link, &d);
            let summary = Summary::of(r).columns();
            rows.seq.push(first_seq + i as i64);
            rows.time.push(r.time().unix_timestamp());
            rows.consent_id.push(r.consent_id().as_bytes().to_vec());
            rows.record
                .push(serde_json::to_string(r).expect("record JSON"));
            rows.digest.push(d.as_bytes().to_vec());
            rows.link.push(link.as_bytes().to_vec());
            rows.action.push(summary.action);
            rows.revision
                .push(i32::try_from(summary.revision).expect("revision"));
            rows.granted.push(summary.granted);
        }
        rows
    }

    fn len(&self) -> usize {
        self.seq.len()
    }
}

/// `in_flight` tasks append `records` between them, each waiting for its append before the
/// next; returns the time until the last is acknowledged.
async fn drive<S: Store>(
    store: &Arc<S>,
    records: Vec<DecisionRecord>,
    in_flight: usize,
) -> Duration {
    let mut chunks: Vec<Vec<DecisionRecord>> = (0..in_flight).map(|_| Vec::new()).collect();
    for (i, r) in records.into_iter().enumerate() {
        chunks[i % in_flight].push(r);
    }
    let start = Instant::now();
    let tasks: Vec<_> = chunks
        .into_iter()
        .map(|mut chunk| {
            let store = Arc::clone(store);
            tokio::spawn(async move {
                for r in chunk.drain(..) {
                    store.append(r).await.expect("append");
                }
                chunk
            })
        })
        .collect();
    let mut emptied = Vec::with_capacity(in_flight);
    for t in tasks {
        emptied.push(t.await.expect("append task"));
    }
    let elapsed = start.elapsed();
    // The tasks' lists (about 100 kB each) are freed after the clock stops: freeing a block
    // that large makes glibc's malloc consolidate its free lists, a cost of this harness that
    // showed as a few per cent of the store's measured CPU time and that a server does not have.
    drop(emptied);
    elapsed
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// One round's figures.
struct Round {
    store_rate: f64,
    bare_rate: f64,
    batch: f64,
    store_commits: u64,
    bare_commits: u64,
    /// CPU microseconds per record: this process during the store's run, the SQLite writer
    /// thread alone (`None` for PostgreSQL, whose writer is a task), this process during
    /// the bare loop.
    store_cpu: f64,
    writer_cpu: Option<f64>,
    bare_cpu: f64,
    /// CPU microseconds per record of the PostgreSQL cluster's processes during the store's
    /// run and during the bare loop.
    server_cpu: Option<(f64, f64)>,
}

fn report(name: &str, rounds: &[Round], records: usize, in_flight: usize) {
    println!("\n{name}: {records} records per measurement, {in_flight} appends in flight");
    println!(
        "round  store rec/s  bare rec/s  ratio  mean batch  commits store/bare  CPU us/rec store (writer) / bare  [server store / bare]"
    );
    for (i, r) in rounds.iter().enumerate() {
        let writer = r.writer_cpu.map_or(String::new(), |w| format!(" ({w:.2})"));
        let server = r
            .server_cpu
            .map_or(String::new(), |(s, b)| format!("  server {s:.2} / {b:.2}"));
        println!(
            "{:>5}  {:>11.0}  {:>10.0}  {:>5.2}  {:>10.1}  {:>18}  {:.2}{writer} / {:.2}{server}",
            i + 1,
            r.store_rate,
            r.bare_rate,
            r.store_rate / r.bare_rate,
            r.batch,
            format!("{}/{}", r.store_commits, r.bare_commits),
            r.store_cpu,
            r.bare_cpu,
        );
    }
    println!(
        "MEDIAN {name}: store {:.0} rec/s, bare {:.0} rec/s, ratio {:.2} (median of per-round ratios), mean batch {:.1}",
        median(rounds.iter().map(|r| r.store_rate).collect()),
        median(rounds.iter().map(|r| r.bare_rate).collect()),
        median(rounds.iter().map(|r| r.store_rate / r.bare_rate).collect()),
        median(rounds.iter().map(|r| r.batch).collect()),
    );
    let writer = if rounds.iter().all(|r| r.writer_cpu.is_some()) {
        let w = median(rounds.iter().filter_map(|r| r.writer_cpu).collect());
        format!(", writer thread {w:.2}")
    } else {
        String::new()
    };
    println!(
        "MEDIAN {name} CPU us/record (this process): store {:.2}{writer}, bare {:.2}",
        median(rounds.iter().map(|r| r.store_cpu).collect()),
        median(rounds.iter().map(|r| r.bare_cpu).collect()),
    );
    if rounds.iter().all(|r| r.server_cpu.is_some()) {
        let server: Vec<(f64, f64)> = rounds.iter().filter_map(|r| r.server_cpu).collect();
        println!(
            "MEDIAN {name} CPU us/record (the server's processes): store {:.2}, bare {:.2}",
            median(server.iter().map(|s| s.0).collect()),
            median(server.iter().map(|s| s.1).collect()),
        );
    }
}

/// The directory for databases: under `target/` (the repository's disk, not tmpfs).
fn bench_dir() -> tempfile::TempDir {
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-tmp");
    std::fs::create_dir_all(&base).expect("create target/bench-tmp");
    tempfile::tempdir_in(&base).expect("temp dir")
}

/// The bare table: the store's own `decisions` table and its indexes, as SQLite holds them
/// (`sqlite_master`), renamed, so the bare loop writes into the same schema (PostgreSQL's
/// `LIKE decisions INCLUDING ALL`). A hand-written copy once fell behind when the customer
/// register added the `kind` and `contact` columns and an index, which made the bare loop's
/// rows cheaper than the store's.
fn sqlite_bare_schema(conn: &Connection) -> String {
    let mut stmt = conn
        .prepare(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'decisions' AND sql IS NOT NULL
             ORDER BY type DESC",
        )
        .expect("read the store's schema");
    let sql: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .expect("read the store's schema")
        .collect::<Result<_, _>>()
        .expect("read the store's schema");
    assert!(
        sql.first().is_some_and(|t| t.starts_with("CREATE TABLE")),
        "the store's decisions table: {sql:?}"
    );
    sql.iter()
        .map(|s| s.replace("decisions", "bare_decisions") + ";\n")
        .collect()
}

fn sqlite_bare(conn: &mut Connection, rows: &Rows, batch: usize) -> Duration {
    let start = Instant::now();
    let mut at = 0;
    while at < rows.len() {
        let end = (at + batch).min(rows.len());
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .expect("begin");
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO bare_decisions (seq, time, consent_id, record, digest, link, action, revision, granted)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .expect("prepare");
            for i in at..end {
                insert
                    .execute(params![
                        rows.seq[i],
                        rows.time[i],
                        rows.consent_id[i],
                        rows.record[i],
                        rows.digest[i],
                        rows.link[i],
                        rows.action[i],
                        rows.revision[i],
                        rows.granted[i],
                    ])
                    .expect("insert");
            }
        }
        tx.commit().expect("commit");
        at = end;
    }
    start.elapsed()
}

/// The key the benchmark's logs are chained under.
fn bench_key() -> consent_server::ServerKey {
    consent_server::ServerKey::new(&[0x42; 32]).expect("key")
}

/// The name of the SQLite store's writer thread as `/proc` shows it (15 bytes at most).
const WRITER_THREAD: &str = "consent-sqlite-";

fn bench_sqlite(rt: &tokio::runtime::Runtime, config: &Config, o: &Options) -> Vec<Round> {
    let dir = bench_dir();
    let path = dir.path().join("ingest.db");
    println!("SQLite file: {}", path.display());
    // Opened inside the runtime, as `consent serve` opens it: the store then answers appends
    // on the runtime's threads rather than on its writer thread.
    let store = {
        let _runtime = rt.enter();
        Arc::new(SqliteStore::open(&path, bench_key().log_keys()).expect("open the store"))
    };
    let mut bare = Connection::open(&path).expect("open the bare connection");
    bare.busy_timeout(Duration::from_secs(10))
        .expect("busy timeout");
    bare.pragma_update(None, "journal_mode", "WAL")
        .expect("WAL");
    bare.pragma_update(None, "synchronous", "FULL")
        .expect("FULL");
    let schema = sqlite_bare_schema(&bare);
    println!(
        "bare table, the store's schema renamed:\n{}",
        schema.trim_end()
    );
    bare.execute_batch(&schema).expect("bare schema");
    let mode: String = bare
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("journal_mode");
    let sync: i64 = bare
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .expect("synchronous");
    println!("bare connection: journal_mode={mode} synchronous={sync} (2 = FULL)");

    let mut rounds = Vec::new();
    for round in 0..o.rounds {
        let recs = records(config, (round * o.records) as u64 + 1, o.records);
        let rows = Rows::new(&recs, (round * o.records) as i64 + 1);
        let before = FSYNCS.load(Ordering::Relaxed);
        let db_before = DB_SYNCS.load(Ordering::Relaxed);
        let (cpu, writer) = (process_cpu(), threads_cpu(WRITER_THREAD));
        let t = rt.block_on(drive(&store, recs, o.in_flight));
        let (store_cpu, writer_cpu) = (
            process_cpu() - cpu,
            threads_cpu(WRITER_THREAD).saturating_sub(writer),
        );
        let store_syncs = FSYNCS.load(Ordering::Relaxed) - before;
        let store_commits = commits(store_syncs, DB_SYNCS.load(Ordering::Relaxed) - db_before);
        let batch = o.records as f64 / store_commits as f64;
        let size = (batch.round() as usize).max(1);
        let before = FSYNCS.load(Ordering::Relaxed);
        let db_before = DB_SYNCS.load(Ordering::Relaxed);
        let cpu = process_cpu();
        let bt = sqlite_bare(&mut bare, &rows, size);
        let bare_cpu = process_cpu() - cpu;
        let bare_syncs = FSYNCS.load(Ordering::Relaxed) - before;
        let bare_counted = commits(bare_syncs, DB_SYNCS.load(Ordering::Relaxed) - db_before);
        let r = Round {
            store_rate: rate(o.records, t),
            bare_rate: rate(o.records, bt),
            batch,
            store_commits,
            bare_commits: o.records.div_ceil(size) as u64,
            store_cpu: per_record(store_cpu, o.records),
            writer_cpu: Some(per_record(writer_cpu, o.records)),
            bare_cpu: per_record(bare_cpu, o.records),
            server_cpu: None,
        };
        println!(
            "sqlite round {}: store {:.0} rec/s ({store_syncs} fsyncs, {store_commits} commits, mean batch {batch:.1}); bare {:.0} rec/s in transactions of {size} ({bare_syncs} fsyncs, counted as {bare_counted} commits for {}); ratio {:.2}",
            round + 1,
            r.store_rate,
            r.bare_rate,
            r.bare_commits,
            r.store_rate / r.bare_rate
        );
        rounds.push(r);
    }
    // Context, not a target: what one record per transaction (no group commit) costs.
    let n = 2_000;
    let recs = records(config, 1 << 40, n);
    let rows = Rows::new(&recs, (o.rounds * o.records) as i64 + 1);
    let t = sqlite_bare(&mut bare, &rows, 1);
    println!(
        "sqlite context: bare, 1 record per transaction: {:.0} rec/s ({n} records)",
        rate(n, t)
    );
    rounds
}

/// A throw-away PostgreSQL cluster on a unix socket, stopped when dropped.
struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
}

const PG_PORT: u16 = 54329;

impl Cluster {
    fn find_bin() -> Option<PathBuf> {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|p| p.join("initdb").exists())
            .collect();
        versions.sort();
        versions.pop()
    }

    fn run(&self, program: &str, args: &[&str]) {
        let status = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join(program))
            .args(args)
            .status()
            .expect("run a PostgreSQL program");
        assert!(status.success(), "{program} {args:?} failed: {status}");
    }

    fn start(bin: PathBuf) -> Self {
        let dir = bench_dir();
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .expect("chmod temp dir");
        let cluster = Cluster { dir, bin };
        let chown = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(cluster.dir.path())
            .status()
            .expect("chown");
        assert!(chown.success(), "chown the cluster dir to postgres");
        let data = cluster.data();
        cluster.run(
            "initdb",
            &[
                "-D",
                path_str(&data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
            ],
        );
        let opts = format!(
            "-c listen_addresses='' -k {} -p {PG_PORT} -c fsync=on -c synchronous_commit=on -c full_page_writes=on",
            path_str(cluster.dir.path())
        );
        let log = cluster.dir.path().join("pg.log");
        cluster.run(
            "pg_ctl",
            &[
                "-D",
                path_str(&data),
                "-o",
                &opts,
                "-l",
                path_str(&log),
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        cluster
    }

    /// CPU time so far of the cluster's processes (the postmaster and its children: the
    /// backends, the WAL writer, the checkpointer), from `/proc/<pid>/stat`.
    fn cpu(&self) -> Duration {
        let pid = std::fs::read_to_string(self.data().join("postmaster.pid"))
            .ok()
            .and_then(|s| s.lines().next().map(str::to_owned))
            .expect("postmaster.pid");
        // SAFETY: sysconf only reads a configuration value.
        let tick = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        let mut ticks = 0;
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // After the command name in parentheses: state, ppid, ..., utime (12th), stime.
            let Some((_, rest)) = stat.rsplit_once(')') else {
                continue;
            };
            let fields: Vec<&str> = rest.split_whitespace().collect();
            if name == pid || fields.get(1) == Some(&pid.as_str()) {
                let field = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
                ticks += field(11).unwrap_or(0) + field(12).unwrap_or(0);
            }
        }
        Duration::from_micros(ticks * 1_000_000 / tick)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn conninfo(&self) -> String {
        format!(
            "host={} port={PG_PORT} user=postgres dbname=postgres",
            path_str(self.dir.path())
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["-D", path_str(&data), "-m", "fast", "-w", "stop"])
            .status();
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

const PG_BARE_INSERT: &str = "
INSERT INTO bare_decisions (seq, time, consent_id, record, digest, link, action, revision, granted)
SELECT * FROM unnest($1::BIGINT[], $2::BIGINT[], $3::BYTEA[], $4::TEXT[], $5::BYTEA[],
                     $6::BYTEA[], $7::TEXT[], $8::INTEGER[], $9::TEXT[])";

async fn pg_bare(client: &mut tokio_postgres::Client, rows: &Rows, batch: usize) -> Duration {
    let insert = client.prepare(PG_BARE_INSERT).await.expect("prepare");
    let start = Instant::now();
    let mut at = 0;
    while at < rows.len() {
        let end = (at + batch).min(rows.len());
        let tx = client.transaction().await.expect("begin");
        tx.execute(
            &insert,
            &[
                &&rows.seq[at..end],
                &&rows.time[at..end],
                &&rows.consent_id[at..end],
                &&rows.record[at..end],
                &&rows.digest[at..end],
                &&rows.link[at..end],
                &&rows.action[at..end],
                &&rows.revision[at..end],
                &&rows.granted[at..end],
            ],
        )
        .await
        .expect("insert");
        tx.commit().await.expect("commit");
        at = end;
    }
    start.elapsed()
}

fn bench_pg(
    rt: &tokio::runtime::Runtime,
    config: &Config,
    o: &Options,
    bin: PathBuf,
) -> Vec<Round> {
    let cluster = Cluster::start(bin.clone());
    println!(
        "PostgreSQL: {} (cluster in {})",
        bin.display(),
        cluster.dir.path().display()
    );
    let conninfo = cluster.conninfo();
    rt.block_on(async {
        let store = Arc::new(PgStore::connect(&conninfo, bench_key().log_keys()).await.expect("PgStore::connect"));
        let (mut client, connection) = tokio_postgres::connect(&conninfo, tokio_postgres::NoTls)
            .await
            .expect("connect the bare client");
        tokio::spawn(connection);
        client
            .batch_execute("CREATE TABLE bare_decisions (LIKE decisions INCLUDING ALL)")
            .await
            .expect("bare schema");
        for setting in ["fsync", "synchronous_commit", "wal_sync_method", "server_version"] {
            let row = client
                .query_one(&format!("SHOW {setting}"), &[])
                .await
                .expect("show");
            println!("PostgreSQL {setting} = {}", row.get::<_, String>(0));
        }
        let mut rounds = Vec::new();
        for round in 0..o.rounds {
            let recs = records(config, (round * o.records) as u64 + 1, o.records);
            let rows = Rows::new(&recs, (round * o.records) as i64 + 1);
            let first = (round * o.records) as i64;
            let (cpu, server) = (process_cpu(), cluster.cpu());
            let t = drive(&store, recs, o.in_flight).await;
            let (store_cpu, store_server) = (process_cpu() - cpu, cluster.cpu() - server);
            let commits: i64 = client
                .query_one(
                    "SELECT count(DISTINCT xmin::text) FROM decisions WHERE seq > $1",
                    &[&first],
                )
                .await
                .expect("count transactions")
                .get(0);
            let batch = o.records as f64 / commits.max(1) as f64;
            let size = (batch.round() as usize).max(1);
            let (cpu, server) = (process_cpu(), cluster.cpu());
            let bt = pg_bare(&mut client, &rows, size).await;
            let (bare_cpu, bare_server) = (process_cpu() - cpu, cluster.cpu() - server);
            let r = Round {
                store_rate: rate(o.records, t),
                bare_rate: rate(o.records, bt),
                batch,
                store_commits: u64::try_from(commits).unwrap_or(0),
                bare_commits: o.records.div_ceil(size) as u64,
                store_cpu: per_record(store_cpu, o.records),
                writer_cpu: None,
                bare_cpu: per_record(bare_cpu, o.records),
                server_cpu: Some((
                    per_record(store_server, o.records),
                    per_record(bare_server, o.records),
                )),
            };
            println!(
                "pg round {}: store {:.0} rec/s ({commits} transactions, mean batch {batch:.1}); bare {:.0} rec/s in transactions of {size}; ratio {:.2}",
                round + 1,
                r.store_rate,
                r.bare_rate,
                r.store_rate / r.bare_rate
            );
            rounds.push(r);
        }
        let n = 2_000;
        let recs = records(config, 1 << 40, n);
        let rows = Rows::new(&recs, (o.rounds * o.records) as i64 + 1);
        let t = pg_bare(&mut client, &rows, 1).await;
        println!(
            "pg context: bare, 1 record per transaction: {:.0} rec/s ({n} records)",
            rate(n, t)
        );
        rounds
    })
}

fn main() {
    let o = options();
    let config = Config::from_json(consent_core::EXAMPLE_CONFIG).expect("example config");
    // Two workers, as `consent serve` has on this 2-core machine.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let sqlite = bench_sqlite(&rt, &config, &o);
    let pg = if o.pg {
        match Cluster::find_bin() {
            Some(bin) => Some(bench_pg(&rt, &config, &o, bin)),
            None => {
                println!("PostgreSQL: no /usr/lib/postgresql/*/bin/initdb; skipped");
                None
            }
        }
    } else {
        None
    };
    report("SQLite", &sqlite, o.records, o.in_flight);
    if let Some(pg) = &pg {
        report("PostgreSQL", pg, o.records, o.in_flight);
    }
}
