//! One HTTP/1.1 request written on a fresh socket as given, for the tests that must send what
//! a client library would not: forged, cut or oversized requests, and the exact bytes of a
//! cookie header.
//!
//! The answer is read until the server closes the connection (each request says `Connection:
//! close`), within [`ANSWER_WAIT`]. A server that answers before reading a body it refuses may
//! reset the connection after its answer: what was read by then is the answer.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// How long a server may take to answer and close.
const ANSWER_WAIT: Duration = Duration::from_secs(10);

/// A server's answer: the status (0 if there was none), the head, the body.
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Answer {
    /// The value of header `name` (the first, without case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (h, v) = line.split_once(':')?;
            h.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// The value the answer sets for the cookie `name`.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (h, v) = line.split_once(':')?;
            if !h.eq_ignore_ascii_case("set-cookie") {
                return None;
            }
            let pair = v.trim().split(';').next()?;
            let (n, v) = pair.split_once('=')?;
            (n == name).then(|| v.to_owned())
        })
    }

    /// The body as JSON.
    ///
    /// # Panics
    /// If it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.head, self.body))
    }
}

/// Writes `request` as it is on a fresh connection and reads the answer.
///
/// # Panics
/// If the server cannot be reached, or has not answered and closed within [`ANSWER_WAIT`].
pub async fn send_raw(addr: &str, request: impl AsRef<[u8]>) -> Answer {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    // A write cut short by a server that answered early is no failure here.
    let _ = stream.write_all(request.as_ref()).await;
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    let read = timeout(ANSWER_WAIT, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "no answer within {ANSWER_WAIT:?} (read so far: {:?})",
        String::from_utf8_lossy(&got)
    );
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

/// One request with `headers` (each ending in CRLF) and `body`, `Connection: close`.
pub async fn send(addr: &str, method: &str, path: &str, headers: &str, body: &str) -> Answer {
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    send_raw(addr, request).await
}

/// The confirmation messages waiting in the outbox of the server at `addr`, as the mailer
/// peeks at them with the admin token `admin`.
pub async fn outbox(addr: &str, admin: &str) -> Vec<serde_json::Value> {
    let answer = send(
        addr,
        "GET",
        "/register/outbox?peek=true",
        &format!("Authorization: Bearer {admin}\r\n"),
        "",
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.head);
    answer.json()["messages"]
        .as_array()
        .expect("messages")
        .clone()
}
