//! The customer register's bulk list check: a mailing list of 100,000 addresses checked
//! against a log of 1,000,000 marketing decisions (target: under one second).
//!
//! ```text
//! cargo bench -p consent-server --bench register -- [--decisions N] [--list M] [--rounds R]
//! ```
//!
//! 1. **Setup** (not timed, cached between runs): a SQLite log under the workspace's
//!    `target/bench-tmp/` filled with `N` (default 1,000,000) marketing decisions through
//!    [`Store::append_marketing`], the same path the API takes (chain, duplicate and order
//!    checks, latest-state upsert), for 300,000 e-mail contacts on the e-mail and post
//!    channels, kinds drawn from a fixed-seed generator. The log is verified once after
//!    filling.
//! 2. Each round builds a fresh CSV list of `M` (default 100,000) addresses, half of them in
//!    the register, half not, in mixed case with stray spaces, and times, one after the other:
//!    - **read**: [`list::read`], the CSV parsed into rows;
//!    - **check**: [`list::check`], every address normalised, HMAC-hashed, looked up in the
//!      latest-state table, and the ones that may not be contacted collected;
//!    - **bare**: the same lookups alone, one prepared point `SELECT` per precomputed key,
//!      sorted, on a connection of its own with the store reader's settings (memory-mapped):
//!      the floor the check cannot go under.
//!
//! Medians over the rounds are printed at the end, with check / bare.

// A bench binary: a failed setup stops it with a message (expect).
#![allow(clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use consent_core::Channel;
use consent_core::register::{Contact, MarketingChannel, MarketingKind, MarketingRecord, Staff};
use consent_server::ServerKey;
use consent_server::register::list;
use consent_server::store::sqlite::SqliteStore;
use consent_server::store::{Log as _, Register as _};
use time::OffsetDateTime;

const CONTACTS: u64 = 300_000;

struct Options {
    decisions: u64,
    list: u64,
    rounds: usize,
}

fn options() -> Options {
    let mut o = Options {
        decisions: 1_000_000,
        list: 100_000,
        rounds: 5,
    };
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        let value = || args.get(i + 1).and_then(|v| v.parse::<u64>().ok());
        match args[i].as_str() {
            "--decisions" => o.decisions = value().expect("--decisions N"),
            "--list" => o.list = value().expect("--list M"),
            "--rounds" => o.rounds = value().expect("--rounds R") as usize,
            // cargo bench passes --bench; anything else is not ours.
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    o
}

/// A small fixed-seed generator (SplitMix64): the same log and lists on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn address(i: u64) -> String {
    format!("asiakas.{i}@example.fi")
}

fn bench_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench-tmp"));
    std::fs::create_dir_all(&dir).expect("bench dir");
    dir
}

async fn fill(store: Arc<SqliteStore>, key: &ServerKey, decisions: u64) {
    let t0 = OffsetDateTime::from_unix_timestamp(1_767_225_600).expect("2026-01-01");
    let kinds = [
        MarketingKind::Consent,
        MarketingKind::Consent,
        MarketingKind::SoftOptIn,
        MarketingKind::Refusal,
        MarketingKind::Withdrawal,
        MarketingKind::Objection,
    ];
    let staff: Staff = "desk-1".parse().expect("staff");
    let mut rng = Rng(7);
    let started = Instant::now();
    let (work_tx, work_rx) = async_channel();
    let mut workers = Vec::new();
    // 256 appends in flight, as many clients would have: the writer commits them in batches.
    for _ in 0..256 {
        let store = Arc::clone(&store);
        let work_rx = work_rx.clone();
        workers.push(tokio::spawn(async move {
            while let Some(r) = work_rx.recv().await {
                store.append_marketing(r).await.expect("append");
            }
        }));
    }
    drop(work_rx);
    for k in 0..decisions {
        let who = k % CONTACTS;
        // Each contact's decisions are CONTACTS apart in the stream: always in time order.
        let time = t0 + time::Duration::minutes((k / CONTACTS) as i64);
        let channel = if rng.next() % 4 == 0 {
            MarketingChannel::Post
        } else {
            MarketingChannel::Email
        };
        let kind = kinds[(rng.next() % kinds.len() as u64) as usize];
        let contact = key.contact_hash(&Contact::parse(&address(who)).expect("contact"));
        let (via, by) = if kind == MarketingKind::Consent {
            (Channel::WebForm, None)
        } else {
            (Channel::FrontDesk, Some(staff.clone()))
        };
        let r = MarketingRecord::new(contact, channel, kind, time, via, by).expect("record");
        work_tx.send(r).await.expect("send");
        if k % 100_000 == 99_999 {
            eprintln!("filled {} decisions ({:.0?})", k + 1, started.elapsed());
        }
    }
    drop(work_tx);
    for w in workers {
        w.await.expect("worker");
    }
}

/// A multi-consumer queue from tokio's pieces: one mpsc receiver behind a mutex.
fn async_channel() -> (WorkSender, WorkReceiver) {
    let (tx, rx) = tokio::sync::mpsc::channel(4096);
    (
        WorkSender(tx),
        WorkReceiver(Arc::new(tokio::sync::Mutex::new(rx))),
    )
}

struct WorkSender(tokio::sync::mpsc::Sender<MarketingRecord>);

impl WorkSender {
    async fn send(&self, r: MarketingRecord) -> Result<(), ()> {
        self.0.send(r).await.map_err(|_| ())
    }
}

#[derive(Clone)]
struct WorkReceiver(Arc<tokio::sync::Mutex<tokio::sync::mpsc::Receiver<MarketingRecord>>>);

impl WorkReceiver {
    async fn recv(&self) -> Option<MarketingRecord> {
        self.0.lock().await.recv().await
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn main() {
    let o = options();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let key = ServerKey::new(&[0x42; 32]).expect("key");
    let path = bench_dir().join(format!("register-{}.db", o.decisions));
    let store = Arc::new(SqliteStore::open(&path, key.log_keys()).expect("open"));
    let held = rt.block_on(store.len()).expect("len");
    if held != o.decisions {
        drop(store);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let store = Arc::new(SqliteStore::open(&path, key.log_keys()).expect("open"));
        let started = Instant::now();
        rt.block_on(fill(Arc::clone(&store), &key, o.decisions));
        println!(
            "setup: {} decisions appended through the store in {:.1?}",
            o.decisions,
            started.elapsed()
        );
        let v = rt
            .block_on(consent_server::verify::verify(&*store, &key, None, |_| {}))
            .expect("the filled log verifies");
        println!("setup: chain verified, {} entries", v.entries);
    }
    let store = Arc::new(SqliteStore::open(&path, key.log_keys()).expect("open"));
    let states: i64 = rusqlite::Connection::open(&path)
        .expect("open")
        .query_row("SELECT count(*) FROM marketing_state", [], |r| r.get(0))
        .expect("count");
    println!(
        "log: {} decisions, {states} contact/channel states; list: {} addresses; {} rounds",
        o.decisions, o.list, o.rounds
    );

    let bare_conn = rusqlite::Connection::open(&path).expect("open");
    // The store's reader settings, so bare differs from check only in what check does.
    bare_conn
        .pragma_update(None, "mmap_size", 1i64 << 30)
        .expect("mmap");
    let mut rng = Rng(99);
    let (mut reads, mut checks, mut bares) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..o.rounds {
        let mut csv = String::from("nimi,sähköposti\n");
        let mut keys = Vec::with_capacity(o.list as usize);
        for i in 0..o.list {
            let who = rng.next() % (2 * CONTACTS);
            let a = address(who);
            let shown = if i % 3 == 0 {
                a.to_uppercase()
            } else {
                a.clone()
            };
            csv.push_str(&format!("Asiakas {i}, {shown} \n"));
            keys.push(
                key.contact_hash(&Contact::parse(&a).expect("contact"))
                    .to_bytes(),
            );
        }
        let t = Instant::now();
        let rows = list::read(csv.as_bytes(), None).expect("csv");
        let read = t.elapsed();
        assert_eq!(rows.len() as u64, o.list);
        let t = Instant::now();
        let flagged = rt
            .block_on(list::check(
                &*store,
                &key,
                MarketingChannel::Email,
                rows,
                OffsetDateTime::now_utc(),
            ))
            .expect("check");
        let check = t.elapsed();
        let t = Instant::now();
        keys.sort_unstable();
        let mut found = 0u64;
        {
            let mut st = bare_conn
                .prepare_cached(
                    "SELECT status FROM marketing_state WHERE contact = ?1 AND channel = 'email'",
                )
                .expect("prepare");
            for k in &keys {
                let mut rows = st.query([&k[..]]).expect("query");
                if rows.next().expect("row").is_some() {
                    found += 1;
                }
            }
        }
        let bare = t.elapsed();
        println!(
            "round {}: read {:>7.1?}  check {:>7.1?}  bare {:>7.1?}  ({} flagged, {found} with a state)",
            round + 1,
            read,
            check,
            bare,
            flagged.len()
        );
        reads.push(read);
        checks.push(check);
        bares.push(bare);
    }
    let (r, c, b) = (median(reads), median(checks), median(bares));
    println!(
        "median: read {r:.1?}  check {c:.1?}  read+check {:.1?}  bare {b:.1?}  check/bare {:.2}",
        r + c,
        c.as_secs_f64() / b.as_secs_f64()
    );
}
