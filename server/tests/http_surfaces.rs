//! `consent serve`'s HTTP surfaces besides `POST /consent`, against an attacker, on a real
//! socket and a real SQLite file: the no-JavaScript pages and form, the dashboard and its
//! login, the register's sign-up and confirmation. Each test is a defect found that way, or a
//! protection a regression could quietly remove.

// Helpers outside #[test] functions, where clippy's in-test allowances do not reach.
#![allow(clippy::expect_used, clippy::panic)]

mod support;

use support::raw::send;

use std::path::Path;

use tokio::process::Child;

const ORIGIN: &str = "https://klinikka.fi";
const ADMIN: &str = "surfaces-admin-token";

async fn start(dir: &Path) -> (Child, String) {
    support::serve::start(dir, &["--origin", ORIGIN, "--admin-token", ADMIN]).await
}

/// The confirmation messages waiting in the outbox, as the mailer peeks at them.
async fn outbox(addr: &str) -> Vec<serde_json::Value> {
    let answer = send(
        addr,
        "GET",
        "/register/outbox?peek=true",
        &format!("Authorization: Bearer {ADMIN}\r\n"),
        "",
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.head);
    answer.json()["messages"]
        .as_array()
        .expect("messages")
        .clone()
}

async fn sign_up(addr: &str, contact: &str) -> u16 {
    send(
        addr,
        "POST",
        "/register/signup",
        &format!("Origin: {ORIGIN}\r\nContent-Type: application/json\r\n"),
        &serde_json::json!({ "contact": contact, "channels": ["email"] }).to_string(),
    )
    .await
    .status
}

/// The per-contact limit on confirmation messages is what stops the public sign-up from
/// flooding a mailbox, but it counted each address as written: `victim+1@example.fi`,
/// `victim+2@example.fi`, ... are all delivered to `victim@example.fi` by most mail
/// providers (sub-addressing), and each had a budget of its own, so one client had the
/// mailer send a victim a message per request.
#[tokio::test]
async fn sub_addresses_share_their_mailboxs_message_budget() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    for n in 0..10 {
        assert_eq!(sign_up(&addr, &format!("victim+{n}@example.fi")).await, 202);
    }
    assert_eq!(sign_up(&addr, "victim@example.fi").await, 202);
    // Another mailbox of the same domain is not held back.
    assert_eq!(sign_up(&addr, "other+news@example.fi").await, 202);
    let messages = outbox(&addr).await;
    let to_victim = messages
        .iter()
        .filter(|m| {
            m["to"]
                .as_str()
                .is_some_and(|to| to.starts_with("victim") && to.ends_with("@example.fi"))
        })
        .count();
    assert!(
        (1..=3).contains(&to_victim),
        "{to_victim} messages to one mailbox: {messages:?}"
    );
    assert_eq!(
        messages
            .iter()
            .filter(|m| m["to"] == "other+news@example.fi")
            .count(),
        1,
        "{messages:?}"
    );
}
