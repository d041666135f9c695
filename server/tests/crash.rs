//! Durability: under sustained POSTs the server is killed with SIGKILL, restarted, and every
//! acknowledged (201) record is in the log and the chain verifies. Twenty rounds on one
//! SQLite log; two processes on one SQLite file; and two application servers on one
//! PostgreSQL log, each killed in turn.

// Helpers outside #[test] functions, where clippy's in-test allowances do not reach.
#![allow(clippy::expect_used, clippy::panic)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use consent_core::policy::{self, Action, Context, Signals};
use consent_core::{Channel, Config, ConsentId, DecisionRecord, Lang, PageUrl, Token};
use consent_server::store::Log as _;
use consent_server::store::sqlite::SqliteStore;
use consent_server::verify::verify;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::process::Child;
use tokio::time::timeout;

const ORIGIN: &str = "https://klinikka.fi";

fn body(id: ConsentId) -> String {
    let config = Config::from_json(consent_core::EXAMPLE_CONFIG).expect("valid");
    let now = time::OffsetDateTime::now_utc();
    let before = policy::evaluate(&config, None, None, now, Signals::default());
    let ctx = Context {
        now,
        signals: Signals::default(),
        lang: Lang::Fi,
        fresh_id: id,
    };
    let d = policy::decide(&config, &before, Action::AcceptAll, ctx).expect("in range");
    let record = DecisionRecord::new(
        &config,
        d.state(),
        PageUrl::new("https://klinikka.fi/").ok(),
        Channel::Banner,
    );
    serde_json::json!({ "token": Token::unsigned(*d.state()).to_string(), "record": record })
        .to_string()
}

/// The key the server processes made in `dir`.
fn server_key(dir: &std::path::Path) -> consent_server::ServerKey {
    consent_server::ServerKey::load(&dir.join("consent.key")).expect("the server made its key")
}

fn log_key(dir: &std::path::Path) -> consent_server::store::LogKeys {
    server_key(dir).log_keys().clone()
}

/// The head file the server processes kept beside the log (it may lag after a kill).
fn head_file(dir: &std::path::Path) -> Option<consent_server::store::SignedHead> {
    consent_server::store::SignedHead::read(&dir.join("consent.db.head")).ok()
}

/// Starts `consent serve` for [`ORIGIN`] on an ephemeral loopback port.
async fn start(dir: &std::path::Path) -> (Child, String) {
    support::serve::start(dir, &["--origin", ORIGIN]).await
}

/// One POST over a fresh connection; the status code, or None if the connection failed.
/// Posts a decision: the status, and the consent id the server issued for a 201.
async fn post(addr: &str, body: &str) -> Option<(u16, Option<ConsentId>)> {
    let mut stream = TcpStream::connect(addr).await.ok()?;
    let request = format!(
        "POST /consent HTTP/1.1\r\nHost: {addr}\r\nOrigin: {ORIGIN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.ok()?;
    let text = String::from_utf8_lossy(&response);
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let id = text
        .split_once("\"consent_id\":\"")
        .and_then(|(_, rest)| rest.get(..32))
        .and_then(|hex| hex.parse().ok());
    Some((status, id))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_records_survive_kill_9() {
    let dir = tempfile::tempdir().expect("tempdir");
    let acked: Arc<Mutex<Vec<ConsentId>>> = Arc::default();
    // Issue 15's target: no acknowledged record lost across 20 kills under load, and the
    // chain (with its head file, which may lag after a kill but never leads) verifies each time.
    for round in 0..20u8 {
        let (mut child, addr) = start(dir.path()).await;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut clients = Vec::new();
        for client in 0..4u8 {
            let (addr, acked, stop) = (addr.clone(), Arc::clone(&acked), Arc::clone(&stop));
            clients.push(tokio::spawn(async move {
                let mut n = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let mut bytes = [0u8; 16];
                    bytes[0] = round;
                    bytes[1] = client;
                    bytes[2..6].copy_from_slice(&n.to_be_bytes());
                    let id = ConsentId::from_bytes(bytes);
                    n += 1;
                    match post(&addr, &body(id)).await {
                        Some((201, Some(issued))) => acked.lock().expect("lock").push(issued),
                        // Cut off by the kill before the answer was whole: not acknowledged.
                        Some((201, None)) | None => break,
                        Some((status, _)) => panic!("unexpected status {status}"),
                    }
                }
            }));
        }
        // Kill once this round has had a steady stream of acknowledged writes.
        let target = acked.lock().expect("lock").len() + 100;
        timeout(Duration::from_secs(60), async {
            while acked.lock().expect("lock").len() < target {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("100 acknowledged writes within 60 s");
        child.start_kill().expect("SIGKILL");
        child.wait().await.expect("reaped");
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for c in clients {
            c.await.expect("client");
        }

        let store = SqliteStore::open(dir.path().join("consent.db"), &log_key(dir.path()))
            .expect("reopen after kill");
        let acked_now = acked.lock().expect("lock").clone();
        for id in &acked_now {
            assert_eq!(
                store.records_for(*id).await.expect("read").len(),
                1,
                "acknowledged record {id} lost in round {round}"
            );
        }
        let v = verify(
            &store,
            &server_key(dir.path()),
            head_file(dir.path()).as_ref(),
            |_| {},
        )
        .await
        .expect("chain verifies after kill -9");
        assert!(v.entries >= acked_now.len() as u64);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_on_one_sqlite_file_keep_one_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut a, addr_a) = start(dir.path()).await;
    let (mut b, addr_b) = start(dir.path()).await;
    let acked: Arc<Mutex<Vec<ConsentId>>> = Arc::default();
    let mut clients = Vec::new();
    for (client, addr) in [addr_a.clone(), addr_b.clone(), addr_a, addr_b]
        .into_iter()
        .enumerate()
    {
        let acked = Arc::clone(&acked);
        clients.push(tokio::spawn(async move {
            for n in 0..60u32 {
                let mut bytes = [0u8; 16];
                bytes[0] = 0xee;
                bytes[1] = client as u8;
                bytes[2..6].copy_from_slice(&n.to_be_bytes());
                let id = ConsentId::from_bytes(bytes);
                let Some((201, Some(issued))) = post(&addr, &body(id)).await else {
                    panic!("a 201 with the issued consent id");
                };
                acked.lock().expect("lock").push(issued);
            }
        }));
    }
    for c in clients {
        c.await.expect("client");
    }
    a.start_kill().expect("kill");
    b.start_kill().expect("kill");
    let _ = (a.wait().await, b.wait().await);
    let store =
        SqliteStore::open(dir.path().join("consent.db"), &log_key(dir.path())).expect("open");
    let v = verify(
        &store,
        &server_key(dir.path()),
        head_file(dir.path()).as_ref(),
        |_| {},
    )
    .await
    .expect("one valid chain from two processes");
    assert_eq!(v.entries, 240);
    assert_eq!(
        store.len().await.expect("len"),
        acked.lock().expect("lock").len() as u64
    );
}

/// Posts to `addr` until `stop`, collecting the acknowledged ids; ends at the first answer cut
/// off (its server was killed). `tag` keeps the ids of different clients apart.
fn client(
    addr: String,
    tag: [u8; 2],
    acked: Arc<Mutex<Vec<ConsentId>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut n = 0u32;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let mut bytes = [0u8; 16];
            bytes[..2].copy_from_slice(&tag);
            bytes[2..6].copy_from_slice(&n.to_be_bytes());
            n += 1;
            match post(&addr, &body(ConsentId::from_bytes(bytes))).await {
                Some((201, Some(issued))) => acked.lock().expect("lock").push(issued),
                Some((201, None)) | None => break,
                Some((status, _)) => panic!("unexpected status {status}"),
            }
        }
    })
}

/// Several application servers share one PostgreSQL log (DEPLOY.md). Under load on both,
/// one is killed with SIGKILL in each round, mid-batch, and started again: every
/// acknowledged record is in the log once, the chain verifies, and so does each server's
/// head file (which may lag after a kill, never lead).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_servers_killed_under_load_on_one_postgresql_lose_nothing_acknowledged() {
    use consent_server::store::postgres::PgStore;
    use std::sync::atomic::{AtomicBool, Ordering};
    if support::pg::skip() {
        return;
    }
    let cluster = support::pg::Cluster::start_new();
    let url = cluster.url("consent");
    let dirs = [
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    ];
    let args = ["--origin", ORIGIN, "--postgres", url.as_str()];
    let first = support::serve::start(dirs[0].path(), &args).await;
    // Every server uses the same key file: the first made it.
    std::fs::copy(
        dirs[0].path().join("consent.key"),
        dirs[1].path().join("consent.key"),
    )
    .expect("share the key");
    let second = support::serve::start(dirs[1].path(), &args).await;
    let mut servers = [first, second];
    let acked: Arc<Mutex<Vec<ConsentId>>> = Arc::default();
    for round in 0..6u8 {
        let stop = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> = (0..4u8)
            .map(|c| {
                let addr = servers[usize::from(c % 2)].1.clone();
                client(addr, [round, c], Arc::clone(&acked), Arc::clone(&stop))
            })
            .collect();
        let target = acked.lock().expect("lock").len() + 150;
        timeout(Duration::from_secs(60), async {
            while acked.lock().expect("lock").len() < target {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("150 acknowledged writes within 60 s");
        let victim = usize::from(round % 2);
        servers[victim].0.start_kill().expect("SIGKILL");
        servers[victim].0.wait().await.expect("reaped");
        // The other server's clients go on a little while the victim is down.
        tokio::time::sleep(Duration::from_millis(100)).await;
        stop.store(true, Ordering::Relaxed);
        for c in clients {
            c.await.expect("client");
        }
        servers[victim] = support::serve::start(dirs[victim].path(), &args).await;
    }
    for (child, _) in &mut servers {
        child.start_kill().expect("kill");
        child.wait().await.expect("reaped");
    }

    let key = server_key(dirs[0].path());
    let store = PgStore::connect(&url, key.log_keys())
        .await
        .expect("connect");
    let acked = acked.lock().expect("lock").clone();
    for id in &acked {
        assert_eq!(
            store.records_for(*id).await.expect("read").len(),
            1,
            "acknowledged record {id} lost"
        );
    }
    for dir in &dirs {
        let head = consent_server::store::SignedHead::read(&dir.path().join("consent.head"))
            .expect("each server kept its head file");
        let v = verify(&store, &key, Some(&head), |_| {})
            .await
            .expect("the chain verifies, with each server's head file");
        assert!(v.entries >= acked.len() as u64);
    }
}

/// How far a client got through its confirmation links: how many it posted, and which were
/// answered 200.
#[derive(Clone, Default)]
struct Posted {
    tried: usize,
    answered: Vec<usize>,
}

/// Each client posts its `links` in turn (`POST /register/confirm`) until `acks` confirmations
/// are acknowledged in all; then the server is killed with SIGKILL. What each client tried and
/// had answered 200. A link `refused` names is to be refused as out of order (503) and stays
/// unused; any other answer but a cut-off one fails the test.
#[allow(clippy::expect_used, clippy::panic)]
async fn confirm_until_killed(
    child: &mut Child,
    addr: &str,
    links: &Arc<Vec<Vec<(consent_core::register::ContactHash, String)>>>,
    acks: usize,
    refused: fn(usize) -> bool,
) -> Vec<Posted> {
    let posted: Arc<Mutex<Vec<Posted>>> =
        Arc::new(Mutex::new(vec![Posted::default(); links.len()]));
    let clients: Vec<_> = (0..links.len())
        .map(|c| {
            let (addr, links, posted) = (addr.to_owned(), Arc::clone(links), Arc::clone(&posted));
            tokio::spawn(async move {
                for (n, (_, token)) in links[c].iter().enumerate() {
                    posted.lock().expect("lock")[c].tried = n + 1;
                    match confirm(&addr, token).await {
                        Some(200) if !refused(n) => {
                            posted.lock().expect("lock")[c].answered.push(n);
                        }
                        Some(503) if refused(n) => {}
                        // Cut off by the kill: not acknowledged.
                        None => break,
                        Some(status) => panic!("link {n}: unexpected status {status}"),
                    }
                }
            })
        })
        .collect();
    let acked = || {
        posted
            .lock()
            .expect("lock")
            .iter()
            .map(|p| p.answered.len())
            .sum::<usize>()
    };
    timeout(Duration::from_secs(60), async {
        while acked() < acks {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{acks} acknowledged confirmations within 60 s"));
    child.start_kill().expect("SIGKILL");
    child.wait().await.expect("reaped");
    for c in clients {
        c.await.expect("client");
    }
    posted.lock().expect("lock").clone()
}

/// What [`confirm_until_killed`] left, checked on the log and then on the restarted server:
/// every contact holds all its `channels` consents or none (a `refused` link's contact, only
/// the decision it held before); every acknowledged confirmation is whole; a link cut off
/// before it was recorded confirms (200), one recorded but not answered is refused as used
/// (409); and the chain verifies.
#[allow(clippy::expect_used)]
async fn after_the_kill(
    dir: &std::path::Path,
    links: &[Vec<(consent_core::register::ContactHash, String)>],
    posted: &[Posted],
    channels: usize,
    refused: fn(usize) -> bool,
    round: u8,
) {
    use consent_server::store::Register as _;
    let store =
        SqliteStore::open(dir.join("consent.db"), &log_key(dir)).expect("reopen after kill");
    let mut again = Vec::new();
    for (links, p) in links.iter().zip(posted) {
        for (n, (contact, token)) in links.iter().enumerate().take(p.tried) {
            let held = store.contact_records(*contact).await.expect("read").len();
            if refused(n) {
                assert_eq!(
                    held, 1,
                    "round {round}: a refused confirmation left records"
                );
                continue;
            }
            assert!(
                held == 0 || held == channels,
                "round {round}: a confirmation half-applied ({held} of {channels})"
            );
            if p.answered.contains(&n) {
                assert_eq!(held, channels, "round {round}: acknowledged, lost");
            } else {
                again.push((token.clone(), held));
            }
        }
    }
    let (mut child, addr) = start(dir).await;
    for (token, held) in again {
        let expected = if held == 0 { 200 } else { 409 };
        assert_eq!(
            confirm(&addr, &token).await,
            Some(expected),
            "round {round}"
        );
    }
    child.start_kill().expect("kill");
    child.wait().await.expect("reaped");
    verify(&store, &server_key(dir), head_file(dir).as_ref(), |_| {})
        .await
        .expect("chain verifies after kill -9");
}

/// Posts a confirmation link's form (the button on the page the link opens); the status, or
/// None if the connection failed or the answer was cut off.
async fn confirm(addr: &str, token: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).await.ok()?;
    let body = format!("token={token}&lang=en");
    let request = format!(
        "POST /register/confirm HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.ok()?;
    let text = String::from_utf8_lossy(&response);
    // A whole page ends with its closing tag; a cut-off one is not an answer.
    if !text.trim_end().ends_with("</html>") {
        return None;
    }
    text.split(' ').nth(1)?.parse().ok()
}

/// A confirmation for two channels is one transaction: under sustained confirmations the
/// server is killed with SIGKILL, and every contact holds both channels' consents or neither.
/// Each link whose confirmation was cut off before it was recorded confirms when posted again
/// to the restarted server; one recorded but not answered is refused as used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmation_cut_off_by_kill_9_is_recorded_whole_or_not_at_all() {
    use consent_core::register::{Contact, ContactHash, MarketingChannel};
    use consent_server::register::confirm::Pending;
    const CLIENTS: u8 = 8;
    const LINKS: u32 = 300;
    let dir = tempfile::tempdir().expect("tempdir");
    let channels = [MarketingChannel::Email, MarketingChannel::Post];
    for round in 0..5u8 {
        let (mut child, addr) = start(dir.path()).await;
        let key = server_key(dir.path());
        // Each client's links: its own contacts, none with a decision before.
        let links: Vec<Vec<(ContactHash, String)>> = (0..CLIENTS)
            .map(|c| {
                (0..LINKS)
                    .map(|n| {
                        let who = format!("r{round}c{c}n{n}@example.fi");
                        let contact = key.contact_hash(&Contact::parse(&who).expect("contact"));
                        let pending =
                            Pending::new(contact, &channels, 0, time::OffsetDateTime::now_utc());
                        (contact, pending.token(&key))
                    })
                    .collect()
            })
            .collect();
        let links = Arc::new(links);
        let posted = confirm_until_killed(&mut child, &addr, &links, 80, |_| false).await;

        after_the_kill(
            dir.path(),
            &links,
            &posted,
            channels.len(),
            |_| false,
            round,
        )
        .await;
    }
}

/// A confirmation the store refuses on its second channel (a decision on post dated after it)
/// is taken back out of a batch it shares with other contacts' confirmations: under sustained
/// confirmations, every other one refused so, the server is killed with SIGKILL. Every
/// acknowledged confirmation is whole, a refused one left nothing, a link cut off confirms on
/// the restarted server, and the chain verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_confirmations_among_others_cut_off_by_kill_9_leave_nothing() {
    use consent_core::register::{
        Contact, ContactHash, MarketingChannel, MarketingKind, MarketingRecord, Staff,
    };
    use consent_server::register::confirm::Pending;
    use consent_server::store::Register as _;
    const CLIENTS: u8 = 8;
    const LINKS: usize = 300;
    // The links before this one, every other one, are refused; the rest confirm.
    const REFUSED_BELOW: usize = 120;
    let refused = |n: usize| n < REFUSED_BELOW && n % 2 == 1;
    let dir = tempfile::tempdir().expect("tempdir");
    let channels = [MarketingChannel::Email, MarketingChannel::Post];
    for round in 0..3u8 {
        let (mut child, addr) = start(dir.path()).await;
        let key = server_key(dir.path());
        let now = time::OffsetDateTime::now_utc();
        let contacts: Vec<Vec<ContactHash>> = (0..CLIENTS)
            .map(|c| {
                (0..LINKS)
                    .map(|n| {
                        let who = format!("x{round}c{c}n{n}@example.fi");
                        key.contact_hash(&Contact::parse(&who).expect("contact"))
                    })
                    .collect()
            })
            .collect();
        // Staff note, in another process on the same file, a decision on post dated tomorrow
        // for the contacts of the links to be refused.
        let after = {
            let store = Arc::new(
                SqliteStore::open(dir.path().join("consent.db"), &log_key(dir.path()))
                    .expect("open beside the server"),
            );
            let mut notes = tokio::task::JoinSet::new();
            for (n, contact) in contacts.iter().flat_map(|c| c.iter().enumerate()) {
                if !refused(n) {
                    continue;
                }
                let record = MarketingRecord::new(
                    *contact,
                    MarketingChannel::Post,
                    MarketingKind::Refusal,
                    now + time::Duration::days(1),
                    consent_core::Channel::Phone,
                    Some("desk-1".parse::<Staff>().expect("staff")),
                )
                .expect("record");
                let store = Arc::clone(&store);
                notes.spawn(async move { store.append_marketing(record).await });
            }
            while let Some(note) = notes.join_next().await {
                note.expect("task").expect("noted");
            }
            store.len().await.expect("len")
        };
        let links: Vec<Vec<(ContactHash, String)>> = contacts
            .iter()
            .map(|c| {
                c.iter()
                    .map(|contact| {
                        let pending = Pending::new(*contact, &channels, after, now);
                        (*contact, pending.token(&key))
                    })
                    .collect()
            })
            .collect();
        let links = Arc::new(links);
        let posted = confirm_until_killed(&mut child, &addr, &links, 120, refused).await;

        after_the_kill(dir.path(), &links, &posted, channels.len(), refused, round).await;
    }
}
