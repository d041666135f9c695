//! `consent serve` against an attacker, on a real socket and a real SQLite file: clients that
//! hold connections without speaking, visitors whose requests carry odd consent cookies, and
//! someone with write access to the database who rewrites the log where its keyed proof
//! cannot follow and lets the server sign what they left.

// Helpers outside #[test] functions, where clippy's in-test allowances do not reach.
#![allow(clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::process::Child;
use tokio::time::timeout;

/// A server's answer: the status, the head, the body.
struct Answer {
    status: u16,
    head: String,
    body: String,
}

/// One request over a fresh connection (`Connection: close`), answered within 10 s.
async fn send(addr: &str, request: &str) -> Answer {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut got = Vec::new();
    timeout(Duration::from_secs(10), stream.read_to_end(&mut got))
        .await
        .expect("answered within 10 s")
        .expect("read");
    let text = String::from_utf8_lossy(&got).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Answer {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

/// Reads until the server closes the connection (or 10 s pass): whether it closed, and when.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Duration {
    let began = Instant::now();
    let mut got = Vec::new();
    let read = timeout(Duration::from_secs(10), stream.read_to_end(&mut got)).await;
    let took = began.elapsed();
    assert!(read.is_ok(), "the server kept the connection open for 10 s");
    assert!(
        took < limit,
        "closed after {took:?}, not within the 1 s header timeout"
    );
    took
}

/// `consent serve` with 1 s for a head, 2 s for a request and 2 connections at once.
async fn start_limited(dir: &Path) -> (Child, String) {
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

#[tokio::test]
async fn a_connection_that_never_sends_a_byte_is_closed_by_the_header_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start_limited(dir.path()).await;
    let mut stream = TcpStream::connect(&addr).await.expect("connect");
    closed_within(&mut stream, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_stalled_http2_preface_is_closed_by_the_header_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start_limited(dir.path()).await;
    let mut stream = TcpStream::connect(&addr).await.expect("connect");
    stream
        .write_all(b"PRI * HTTP/2.0\r\n")
        .await
        .expect("write");
    closed_within(&mut stream, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn silent_connections_do_not_hold_every_slot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start_limited(dir.path()).await;
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
        send(
            &addr,
            "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ),
    )
    .await
    .expect("a third client is served once the silent ones are cut off");
    assert_eq!(answer.status, 200, "{}\n{}", answer.head, answer.body);
}
