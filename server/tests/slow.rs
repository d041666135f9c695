//! `consent serve` against slow and greedy clients, on a real socket: a head that never ends
//! is cut off, and so is a connection that never sends a byte or stalls in HTTP/2's preface;
//! a body that never ends is answered 408, and connections past the limit wait, but silent
//! ones do not hold every slot; a dashboard over a log too long to walk in time still answers.

// Helpers outside #[test] functions, where clippy's in-test allowances do not reach.
#![allow(clippy::expect_used)]

mod support;

use support::raw::send_raw;

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::process::Child;
use tokio::time::timeout;

/// Starts `consent serve` with 1 s for a head, 2 s for a request and 2 connections at once.
async fn start(dir: &std::path::Path) -> (Child, String) {
    let limits = [
        "--header-timeout",
        "1",
        "--request-timeout",
        "2",
        "--max-connections",
        "2",
    ];
    support::serve::start(dir, &limits).await
}

/// Reads until the server closes the connection (or 10 s pass): what it sent.
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let read = timeout(Duration::from_secs(10), stream.read_to_end(&mut got)).await;
    assert!(read.is_ok(), "the server kept the connection open for 10 s");
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test]
async fn a_head_that_never_ends_is_cut_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    let mut stream = TcpStream::connect(&addr).await.expect("connect");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .expect("write");
    let began = Instant::now();
    until_closed(&mut stream).await;
    let took = began.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "closed after {took:?}, not within the 1 s header timeout"
    );
}

#[tokio::test]
async fn a_body_that_never_ends_is_answered_408() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    let mut stream = TcpStream::connect(&addr).await.expect("connect");
    let head = format!(
        "POST /consent HTTP/1.1\r\nHost: x\r\nOrigin: http://{addr}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"tok"
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let answer = until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
}

#[tokio::test]
async fn connections_past_the_limit_wait_for_a_free_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    let get = |addr: String| async move {
        let mut stream = TcpStream::connect(&addr).await.expect("connect");
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .expect("write");
        until_closed(&mut stream).await
    };
    // Alone, an answer comes at once.
    let began = Instant::now();
    assert!(get(addr.clone()).await.starts_with("HTTP/1.1 200"));
    let alone = began.elapsed();
    assert!(alone < Duration::from_millis(500), "{alone:?}");
    // Two idle connections take both slots until the header timeout (1 s) closes them.
    let mut idle = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(&addr).await.expect("connect");
        s.write_all(b"G").await.expect("write");
        idle.push(s);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let began = Instant::now();
    let answer = get(addr.clone()).await;
    let waited = began.elapsed();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    assert!(
        waited >= Duration::from_millis(600),
        "answered after {waited:?}: the third connection did not wait for a slot"
    );
}

/// Reads until the server closes the connection, which its 1 s header timeout must do well
/// within 5 s.
async fn closed_by_the_header_timeout(stream: &mut TcpStream) {
    let began = Instant::now();
    until_closed(stream).await;
    let took = began.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "closed after {took:?}, not by the 1 s header timeout"
    );
}

#[tokio::test]
async fn a_connection_that_never_sends_a_byte_is_closed_by_the_header_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    let mut stream = TcpStream::connect(&addr).await.expect("connect");
    closed_by_the_header_timeout(&mut stream).await;
}

#[tokio::test]
async fn a_stalled_http2_preface_is_closed_by_the_header_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    let mut stream = TcpStream::connect(&addr).await.expect("connect");
    stream
        .write_all(b"PRI * HTTP/2.0\r\n")
        .await
        .expect("write");
    closed_by_the_header_timeout(&mut stream).await;
}

#[tokio::test]
async fn silent_connections_do_not_hold_every_slot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    // Both slots taken by connections that say nothing (a full HTTP/2 preface, then silence;
    // and nothing at all).
    let mut a = TcpStream::connect(&addr).await.expect("connect");
    a.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .expect("write");
    let _b = TcpStream::connect(&addr).await.expect("connect");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let answer = timeout(
        Duration::from_secs(8),
        send_raw(
            &addr,
            "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ),
    )
    .await
    .expect("a third client is served once the silent ones are cut off");
    assert_eq!(answer.status, 200, "{}\n{}", answer.head, answer.body);
}

/// A client that asks and never reads the answers: requests pipelined on a connection whose
/// receive window it keeps small, until the server's writes wait on it. hyper has no write
/// timeout and the header and request timeouts were over, so each such connection held its
/// slot for good, and as many as `--max-connections` stopped the server. A write that waits
/// longer than the request timeout (2 s here) now closes the connection.
#[tokio::test]
async fn a_client_that_never_reads_its_answers_does_not_hold_a_slot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    let target: std::net::SocketAddr = addr.parse().expect("address");
    let mut greedy = Vec::new();
    for _ in 0..2 {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("receive buffer");
        let mut stream = socket.connect(target).await.expect("connect");
        // Far more answer than the kernel's buffers on both sides hold.
        let requests = b"GET /consent/preferences HTTP/1.1\r\nHost: x\r\n\r\n".repeat(2000);
        let _ = timeout(Duration::from_secs(3), stream.write_all(&requests)).await;
        greedy.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let answer = timeout(
        Duration::from_secs(8),
        send_raw(
            &addr,
            "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ),
    )
    .await
    .expect("a third client is served once the ones that never read are cut off");
    assert_eq!(answer.status, 200, "{}\n{}", answer.head, answer.body);
}

/// A log of `n` decisions in `dir`'s `consent.db`, under `dir`'s key file, appended many at
/// once (the writer commits them in batches).
async fn fill_log(dir: &std::path::Path, n: usize) {
    use consent_core::policy::{self, Action, Context, Signals};
    use consent_core::{Channel, Config, ConsentId, DecisionRecord, Lang, PageUrl};
    use consent_server::store::Log as _;

    let key = consent_server::ServerKey::load_or_create(&dir.join("consent.key")).expect("key");
    let store = std::sync::Arc::new(
        consent_server::store::sqlite::SqliteStore::open(dir.join("consent.db"), key.log_keys())
            .expect("open"),
    );
    let config = Config::from_json(consent_core::EXAMPLE_CONFIG).expect("valid");
    let now = time::OffsetDateTime::now_utc();
    let before = policy::evaluate(&config, None, None, now, Signals::default());
    let ctx = Context {
        now,
        signals: Signals::default(),
        lang: Lang::Fi,
        fresh_id: ConsentId::from_bytes([1; 16]),
    };
    let d = policy::decide(&config, &before, Action::AcceptAll, ctx).expect("in range");
    let page = PageUrl::new("https://klinikka.fi/").expect("url");
    let record = DecisionRecord::new(&config, d.state(), Some(page), Channel::Banner);
    for _ in 0..n.div_ceil(500) {
        let appends: Vec<_> = (0..500)
            .map(|_| {
                let (store, record) = (std::sync::Arc::clone(&store), record.clone());
                tokio::spawn(async move { store.append(record).await })
            })
            .collect();
        for a in appends {
            a.await.expect("task").expect("append");
        }
    }
}

/// The dashboard walks the whole log on every visit. A log too long to walk within the
/// request timeout (millions of decisions in a release build, thousands in this test's debug
/// one, with a 2 s timeout) must still give staff their dashboard (the overdue requests,
/// the rates), saying the log was not checked in full, rather than a 408 for the whole page;
/// and the page never says the chain verifies unless the walk reached its end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_too_long_to_walk_in_time_still_gives_a_dashboard() {
    const RECORDS: usize = 20_000;
    let dir = tempfile::tempdir().expect("tempdir");
    fill_log(dir.path(), RECORDS).await;
    let (_server, addr) = support::serve::start(
        dir.path(),
        &[
            "--request-timeout",
            "2",
            "--admin-token",
            "slow-admin-token",
        ],
    )
    .await;
    let started = Instant::now();
    let answer = support::raw::send(
        &addr,
        "GET",
        "/admin?lang=en",
        "Authorization: Bearer slow-admin-token\r\n",
        "",
    )
    .await;
    assert_eq!(
        answer.status,
        200,
        "after {:?}: {}",
        started.elapsed(),
        answer.head
    );
    let verified = answer.body.contains("The chain verifies");
    let unchecked = answer.body.contains("Not checked in full");
    assert!(verified != unchecked, "{}", answer.body);
    if verified {
        assert!(
            answer.body.contains(&format!("<dd>{RECORDS}</dd>")),
            "{}",
            answer.body
        );
    }
    assert!(
        answer.body.contains(r#"id="requests-h""#),
        "{}",
        answer.body
    );
}

/// Opens a connection to `addr` from `from` (a loopback address: all of 127.0.0.0/8 is this
/// machine's on Linux) and sends the start of a head, to hold the connection until the header
/// timeout.
async fn idle_from(from: &str, addr: &str) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(format!("{from}:0").parse().expect("bind address"))
        .expect("bind");
    let mut stream = socket
        .connect(addr.parse().expect("address"))
        .await
        .expect("connect");
    stream.write_all(b"G").await.expect("write");
    stream
}

/// A request for `/healthz` from `from`, answered or closed within 5 s: what the server sent
/// (nothing when it closed the connection without a word).
async fn healthz_from(from: &str, addr: &str) -> String {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(format!("{from}:0").parse().expect("bind address"))
        .expect("bind");
    let mut stream = socket
        .connect(addr.parse().expect("address"))
        .await
        .expect("connect");
    // A server that closed the connection at once may make the write fail: that is an answer.
    let _ = stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await;
    let mut got = Vec::new();
    let read = timeout(Duration::from_secs(5), stream.read_to_end(&mut got)).await;
    let read = read.expect("answered or closed within 5 s");
    // A reset (the server closed with the request unread) is a closed connection too.
    if read.is_err() {
        return String::new();
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// One client address could take every connection slot: each idle connection is held until
/// the header timeout (10 s by default) and opened again, and every other visitor waited.
/// A client past `--max-connections-per-client` now has its connection closed at once, and
/// the slots it cannot take stay free for others.
#[tokio::test]
async fn one_client_cannot_take_every_connection() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = support::serve::start(
        dir.path(),
        &[
            "--max-connections",
            "4",
            "--max-connections-per-client",
            "2",
        ],
    )
    .await;
    // The greedy client opens as many idle connections as the server serves at once.
    let mut greedy = Vec::new();
    for _ in 0..4 {
        greedy.push(idle_from("127.0.0.1", &addr).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Past its two, it is not answered...
    let over = healthz_from("127.0.0.1", &addr).await;
    assert_eq!(over, "", "a connection past the per-client cap was served");
    // ...while another client is, at once (not after the 10 s header timeout).
    let other = healthz_from("127.0.0.2", &addr).await;
    assert!(other.starts_with("HTTP/1.1 200"), "{other:?}");
    // Once the greedy client closes its connections, it is served again.
    drop(greedy);
    let mut again = String::new();
    for _ in 0..50 {
        again = healthz_from("127.0.0.1", &addr).await;
        if !again.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(again.starts_with("HTTP/1.1 200"), "{again:?}");
}

/// Behind a reverse proxy every connection comes from the proxy's address: the per-client
/// cap does not apply to a `--trusted-proxy`.
#[tokio::test]
async fn a_trusted_proxy_is_not_capped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = support::serve::start(
        dir.path(),
        &[
            "--max-connections-per-client",
            "2",
            "--trusted-proxy",
            "127.0.0.3",
        ],
    )
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(idle_from("127.0.0.3", &addr).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let answer = healthz_from("127.0.0.3", &addr).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
    // Loopback is no exception of its own: 127.0.0.1 is capped beside the proxy.
    let mut local = Vec::new();
    for _ in 0..2 {
        local.push(idle_from("127.0.0.1", &addr).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(healthz_from("127.0.0.1", &addr).await, "");
}
