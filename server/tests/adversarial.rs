//! `consent serve` against an attacker, on a real socket and a real SQLite file: visitors
//! whose requests carry odd consent cookies, and someone with write access to the database
//! who rewrites the log where its keyed proof cannot follow and lets the server sign what they
//! left. (Clients that hold connections without speaking: `slow.rs`.)

// Helpers outside #[test] functions, where clippy's in-test allowances do not reach.
#![allow(clippy::expect_used, clippy::panic)]

mod support;

use support::raw::{Answer, send_raw};

use std::path::Path;
use std::time::Duration;

use consent_core::policy::{self, Action, Context, Signals};
use consent_core::{Config, ConsentId, Lang, Token};

const ORIGIN: &str = "https://klinikka.fi";

fn config() -> Config {
    Config::from_json(consent_core::EXAMPLE_CONFIG).expect("valid")
}

/// A banner's `POST /consent` body: an unsigned token of `action` (the server gives the id).
fn body(action: Action) -> String {
    let config = config();
    let now = time::OffsetDateTime::now_utc();
    let before = policy::evaluate(&config, None, None, now, Signals::default());
    let ctx = Context {
        now,
        signals: Signals::default(),
        lang: Lang::Fi,
        fresh_id: ConsentId::from_bytes([9; 16]),
    };
    let d = policy::decide(&config, &before, action, ctx).expect("in range");
    serde_json::json!({ "token": Token::unsigned(*d.state()).to_string() }).to_string()
}

async fn post_consent(addr: &str, action: Action) -> Answer {
    let body = body(action);
    send_raw(
        addr,
        &format!(
            "POST /consent HTTP/1.1\r\nHost: {addr}\r\nOrigin: {ORIGIN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
    .await
}

/// "Reject all" posted by the no-JavaScript form with the `Cookie` header `cookie`.
async fn reject_by_form(addr: &str, cookie: &str) -> Answer {
    let form = "action=reject_all&return_to=%2F";
    send_raw(
        addr,
        &format!(
            "POST /consent/form HTTP/1.1\r\nHost: {addr}\r\nOrigin: {ORIGIN}\r\nCookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
            form.len()
        ),
    )
    .await
}

/// The actions of the records `GET /consent/me` shows the holder of the consent cookie
/// `name=value`, oldest first.
async fn my_actions(addr: &str, name: &str, value: &str) -> Vec<String> {
    let mine = send_raw(
        addr,
        &format!(
            "GET /consent/me HTTP/1.1\r\nHost: {addr}\r\nCookie: {name}={value}\r\nConnection: close\r\n\r\n"
        ),
    )
    .await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    let records: serde_json::Value = serde_json::from_str(&mine.body).expect("JSON");
    records["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            r["record"]["action"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn a_form_post_with_a_stray_consent_cookie_first_continues_the_signed_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = support::serve::start(dir.path(), &["--origin", ORIGIN]).await;
    let accepted = post_consent(&addr, Action::AcceptAll).await;
    assert_eq!(accepted.status, 201, "{}", accepted.body);
    let token = accepted
        .set_cookie(config().cookie().name())
        .expect("the signed cookie");
    let name = config().cookie().name().to_owned();
    // A stale cookie of the same name (another path or a parent domain's, which the browser
    // sends first) in front of the visitor's signed one.
    let answer = reject_by_form(&addr, &format!("{name}=stale; {name}={token}")).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let after = answer
        .set_cookie(config().cookie().name())
        .expect("a new cookie");
    // The withdrawal is the visitor's: under the id of their consent, so that reading their
    // records shows both, and the log shows the consent withdrawn.
    assert_eq!(
        my_actions(&addr, &name, &after).await,
        ["accept_all", "withdraw"]
    );
}

/// Two cookies this server signed (a grant left at another path or domain, sent first, and
/// the visitor's later refusal): a form post continues the later decision (policy rule 15, as
/// the gate and the banner read them), not the older grant, so the log shows no withdrawal of
/// a consent the visitor had already taken back, under the refusal's id.
#[tokio::test]
async fn a_form_post_with_two_signed_consent_cookies_continues_the_latest_decision() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = support::serve::start(dir.path(), &["--origin", ORIGIN]).await;
    let name = config().cookie().name().to_owned();
    let grant = post_consent(&addr, Action::AcceptAll).await;
    assert_eq!(grant.status, 201, "{}", grant.body);
    let grant = grant.set_cookie(&name).expect("the signed grant");
    // Decision times are whole seconds: the refusal a second later.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let refusal = post_consent(&addr, Action::RejectAll).await;
    assert_eq!(refusal.status, 201, "{}", refusal.body);
    let refusal = refusal.set_cookie(&name).expect("the signed refusal");
    let answer = reject_by_form(&addr, &format!("{name}={grant}; {name}={refusal}")).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let after = answer.set_cookie(&name).expect("a new cookie");
    assert_eq!(
        my_actions(&addr, &name, &after).await,
        ["reject_all", "reject_all"]
    );
}

/// A consent cookie this server never signed (a visitor's own edit, or a banner whose post
/// never reached the server) proves nothing: "Reject all" over it is the first decision of a
/// fresh consent id, so the log must not say that id withdrew a consent nobody gave under it,
/// nor the signed cookie date its first decision back to the unsigned one's. The trackers'
/// cookies that the unsigned grant let the banner set are still deleted.
#[tokio::test]
async fn a_form_post_over_an_unsigned_consent_cookie_logs_no_withdrawal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = support::serve::start(dir.path(), &["--origin", ORIGIN]).await;
    let name = config().cookie().name().to_owned();
    let unsigned = unsigned_token(Action::AcceptAll, time::Duration::days(30));
    let answer = reject_by_form(&addr, &format!("{name}={unsigned}; _ga=GA1.1.1")).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let after = answer.set_cookie(&name).expect("a new cookie");
    assert_eq!(my_actions(&addr, &name, &after).await, ["reject_all"]);
    let state = *after.parse::<Token>().expect("a token").state();
    assert_eq!(state.first_decision(), state.last_decision());
    assert_eq!(
        answer.set_cookie("_ga").as_deref(),
        Some(""),
        "{}",
        answer.head
    );
}

/// The banner's `POST /consent` over a decision it cannot prove (no signed cookie, no signed
/// `previous`) is the first under its fresh id: the signed cookie does not date the id's first
/// decision back to the unsigned token's.
#[tokio::test]
async fn a_posted_decision_that_proves_nothing_is_the_first_of_its_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = support::serve::start(dir.path(), &["--origin", ORIGIN]).await;
    let name = config().cookie().name().to_owned();
    let unsigned = unsigned_token(Action::AcceptAll, time::Duration::days(30));
    let config = config();
    let now = time::OffsetDateTime::now_utc();
    let before = policy::evaluate(&config, Some(&unsigned), None, now, Signals::default());
    let ctx = Context {
        now,
        signals: Signals::default(),
        lang: Lang::Fi,
        fresh_id: ConsentId::from_bytes([9; 16]),
    };
    let withdrawal = policy::decide(&config, &before, Action::RejectAll, ctx).expect("in range");
    let body = serde_json::json!({
        "token": Token::unsigned(*withdrawal.state()).to_string(),
        "previous": unsigned,
    })
    .to_string();
    let answer = send_raw(
        &addr,
        &format!(
            "POST /consent HTTP/1.1\r\nHost: {addr}\r\nOrigin: {ORIGIN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
    .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let after = answer.set_cookie(&name).expect("the signed cookie");
    let state = *after.parse::<Token>().expect("a token").state();
    assert_eq!(state.first_decision(), state.last_decision());
}

/// A banner's token under the visitor's own, proven consent id may claim any first-decision
/// time: the signed answer takes the id's first decision from the token the server signed for
/// it, not from the claim, so the server never vouches for a history of the id it never saw.
#[tokio::test]
async fn a_posted_decision_cannot_date_its_ids_first_decision_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = support::serve::start(dir.path(), &["--origin", ORIGIN]).await;
    let name = config().cookie().name().to_owned();
    let first = post_consent(&addr, Action::AcceptAll).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let signed = first.set_cookie(&name).expect("the signed cookie");
    let signed_first = signed
        .parse::<Token>()
        .expect("a token")
        .state()
        .first_decision();
    // The same id, its decision dated back to 2020 (rule 10 keeps the earlier first time).
    let config = config();
    let before = policy::evaluate(
        &config,
        Some(&signed),
        None,
        time::OffsetDateTime::now_utc(),
        Signals::default(),
    );
    let ctx = Context {
        // 2020-06-01.
        now: time::OffsetDateTime::from_unix_timestamp(1_590_969_600).expect("a time"),
        signals: Signals::default(),
        lang: Lang::Fi,
        fresh_id: ConsentId::from_bytes([9; 16]),
    };
    let backdated = policy::decide(&config, &before, Action::RejectAll, ctx).expect("in range");
    let body =
        serde_json::json!({ "token": Token::unsigned(*backdated.state()).to_string() }).to_string();
    let answer = send_raw(
        &addr,
        &format!(
            "POST /consent HTTP/1.1\r\nHost: {addr}\r\nOrigin: {ORIGIN}\r\nCookie: {name}={signed}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
    .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let after = answer.set_cookie(&name).expect("the signed cookie");
    let state = *after.parse::<Token>().expect("a token").state();
    assert_eq!(state.id(), backdated.state().id(), "the proven id is kept");
    assert_eq!(state.first_decision(), signed_first);
}

/// An unsigned token of `action`, decided `ago`, as a visitor's browser may hold one.
fn unsigned_token(action: Action, ago: time::Duration) -> String {
    let config = config();
    let then = time::OffsetDateTime::now_utc() - ago;
    let before = policy::evaluate(&config, None, None, then, Signals::default());
    let ctx = Context {
        now: then,
        signals: Signals::default(),
        lang: Lang::Fi,
        fresh_id: ConsentId::from_bytes([3; 16]),
    };
    let d = policy::decide(&config, &before, action, ctx).expect("in range");
    Token::unsigned(*d.state()).to_string()
}

/// Waits (at most 10 s) until the head file beside the log vouches for record `seq`.
async fn head_file_at(dir: &Path, seq: u64) {
    let path = dir.join("consent.db.head");
    for _ in 0..100 {
        if consent_server::store::SignedHead::read(&path).is_ok_and(|h| h.seq >= seq) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the head file did not reach record {seq}");
}

/// `consent verify` on the log in `dir`: whether it passed, and what it said.
fn verify(dir: &Path) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_consent"))
        .arg("verify")
        .arg("--db")
        .arg(dir.join("consent.db"))
        .arg("--key-file")
        .arg(dir.join("consent.key"))
        .output()
        .expect("run consent verify");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A log of `n` decisions written by `consent serve` in `dir`, its head file up to date and
/// the server stopped.
async fn served_log(dir: &Path, n: u64) {
    let (server, addr) = support::serve::start(dir, &["--origin", ORIGIN]).await;
    for _ in 0..n {
        assert_eq!(post_consent(&addr, Action::AcceptAll).await.status, 201);
    }
    head_file_at(dir, n).await;
    drop(server);
    tokio::time::sleep(Duration::from_millis(200)).await;
}

/// After the edit, `consent serve` must not start on the log, lest it sign what it found and
/// carry the head file along; and `consent verify` must name the break after any attempt.
async fn refused_and_caught(dir: &Path) {
    match support::serve::try_start(dir, &["--origin", ORIGIN]).await {
        Ok((server, addr)) => {
            // What a server that starts does next: append, and keep the head file.
            let _ = post_consent(&addr, Action::RejectAll).await;
            tokio::time::sleep(Duration::from_millis(500)).await;
            drop(server);
            tokio::time::sleep(Duration::from_millis(200)).await;
            let (ok, said) = verify(dir);
            panic!(
                "consent serve started on the edited log; verify afterwards passed={ok}: {said}"
            );
        }
        Err(said) => {
            assert!(said.contains("head file"), "{said}");
        }
    }
    let (ok, said) = verify(dir);
    assert!(!ok, "verify passed an edited log: {said}");
}

#[tokio::test]
async fn a_log_reordered_and_relinked_without_the_key_is_not_signed_by_the_next_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    served_log(dir.path(), 4).await;
    // Records 2 and 3 swapped, every link recomputed the way anyone can (plain SHA-256, as a
    // log from before the keyed chain) and the head row removed: the store takes it for a
    // log from before the keyed chain, and would sign it as it is.
    {
        let conn = rusqlite::Connection::open(dir.path().join("consent.db")).expect("open");
        conn.execute_batch(
            "CREATE TEMP TABLE swapped AS SELECT * FROM decisions WHERE seq IN (2, 3);
             UPDATE decisions SET (time, consent_id, record, digest, action, revision, granted,
                                   kind, contact) =
                 (SELECT time, consent_id, record, digest, action, revision, granted, kind,
                         contact FROM swapped WHERE swapped.seq = 5 - decisions.seq)
             WHERE seq IN (2, 3);
             DELETE FROM chain_head;",
        )
        .expect("tamper");
        assert_eq!(support::sqlite::relink_with_plain_hashes(&conn), 4);
    }
    refused_and_caught(dir.path()).await;
}

#[tokio::test]
async fn a_log_swapped_for_another_under_the_same_key_is_not_signed_by_the_next_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let other = tempfile::tempdir().expect("tempdir");
    served_log(dir.path(), 2).await;
    // Another log under the same key file (a staging copy, another site), longer than this
    // one: copied over it.
    std::fs::copy(
        dir.path().join("consent.key"),
        other.path().join("consent.key"),
    )
    .expect("share the key");
    served_log(other.path(), 3).await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.path().join(format!("consent.db{suffix}")));
        let from = other.path().join(format!("consent.db{suffix}"));
        if from.exists() {
            std::fs::copy(from, dir.path().join(format!("consent.db{suffix}"))).expect("swap");
        }
    }
    refused_and_caught(dir.path()).await;
}
