//! `consent serve` as a child process on an ephemeral loopback port, for the tests that need
//! a real socket (slow clients, kill -9).
//!
//! 1. The server listens on `127.0.0.1:0` only (unless the test passes `--listen`), with its log and key in the caller's `dir`
//!    (or its log in PostgreSQL when the test passes `--postgres`, and its head file in
//!    `dir`) and the rate limit off unless the test passes `--rate-limit`; a test adds its
//!    own flags after these.
//! 2. Its address is read from the "listening on http://" line on stderr, waiting at most
//!    [`LISTEN_WAIT`]; stderr is drained afterwards so the server never blocks on a full pipe.
//! 3. The child is killed when dropped.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};
use tokio::time::timeout;

/// How long the server may take to say it is listening.
const LISTEN_WAIT: Duration = Duration::from_secs(30);

/// What the server prints, followed by its address, once it accepts connections.
const LISTENING: &str = "listening on http://";

/// Starts `consent serve` with its files in `dir` and `args` after the defaults; returns the
/// child and its `host:port`.
///
/// # Panics
/// If the server cannot be spawned, or exits or stays silent for [`LISTEN_WAIT`] before
/// listening.
pub async fn start(dir: &Path, args: &[&str]) -> (Child, String) {
    try_start(dir, args)
        .await
        .unwrap_or_else(|said| panic!("server exited before listening:\n{said}"))
}

/// [`start`], for a test that expects the server to refuse: `Err` with what it printed
/// when it exits before listening.
///
/// # Panics
/// If the server cannot be spawned, or neither listens nor exits within [`LISTEN_WAIT`].
pub async fn try_start(dir: &Path, args: &[&str]) -> Result<(Child, String), String> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_consent"));
    command.arg("serve");
    if !args.contains(&"--listen") {
        command.args(["--listen", "127.0.0.1:0"]);
    }
    if !args.contains(&"--rate-limit") {
        command.args(["--rate-limit", "0"]);
    }
    command.args(args);
    // With `--postgres` among `args` the log is there, and the head file in `dir`.
    if args.contains(&"--postgres") {
        command.arg("--head-file").arg(dir.join("consent.head"));
    } else {
        command.arg("--db").arg(dir.join("consent.db"));
    }
    let mut child = command
        .arg("--key-file")
        .arg(dir.join("consent.key"))
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn consent serve");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut said = String::new();
    let addr = timeout(LISTEN_WAIT, async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(at) = line.find(LISTENING) {
                return Some(line[at + LISTENING.len()..].trim().to_owned());
            }
            said.push_str(&line);
            said.push('\n');
        }
        None
    })
    .await
    .expect("the server listens or exits within 30 s");
    let addr = addr.ok_or(said)?;
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((child, addr))
}
