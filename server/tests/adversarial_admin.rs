//! `consent serve` against an attacker of the admin side and the visitor's data, on a real
//! socket and a real SQLite file: what an erasure leaves in the database's files, which
//! answers holding personal data a cache may keep, what a stranger can make the register read
//! before it checks who is asking, and what a page on another site can make a logged-in
//! browser do.

// Helpers outside #[test] functions, where clippy's in-test allowances do not reach.
#![allow(clippy::expect_used, clippy::panic)]

mod support;

use support::raw::{Answer, send, send_raw};

use std::path::Path;

use base64::Engine as _;
use consent_core::policy::{self, Action, Context, Signals};
use consent_core::{Config, ConsentId, Lang, Token};
use tokio::process::Child;

const ORIGIN: &str = "https://klinikka.fi";
const ADMIN: &str = "adversarial-admin-token";

fn config() -> Config {
    Config::from_json(consent_core::EXAMPLE_CONFIG).expect("valid")
}

/// A banner's `POST /consent` body: an unsigned token of `action`, made on `page`.
fn body(action: Action, page: &str) -> String {
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
    serde_json::json!({ "token": Token::unsigned(*d.state()).to_string(), "page": page })
        .to_string()
}

fn bearer() -> String {
    format!("Authorization: Bearer {ADMIN}\r\n")
}

/// What a browser sends once staff have logged in to the dashboard: HTTP Basic, on every
/// request to the server, whichever page made it.
fn basic() -> String {
    let pair = base64::engine::general_purpose::STANDARD.encode(format!("staff:{ADMIN}"));
    format!("Authorization: Basic {pair}\r\n")
}

async fn start(dir: &Path) -> (Child, String) {
    support::serve::start(dir, &["--origin", ORIGIN, "--admin-token", ADMIN]).await
}

/// A decision made on `page`: its signed token and its consent id.
async fn decide(addr: &str, page: &str) -> (String, String) {
    let answer = send(
        addr,
        "POST",
        "/consent",
        &format!("Origin: {ORIGIN}\r\nContent-Type: application/json\r\n"),
        &body(Action::AcceptAll, page),
    )
    .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let token = answer
        .set_cookie(config().cookie().name())
        .expect("the consent cookie");
    let id = answer.json()["consent_id"]
        .as_str()
        .expect("consent_id")
        .to_owned();
    (token, id)
}

fn cookie(token: &str) -> String {
    format!("Cookie: {}={token}\r\n", config().cookie().name())
}

/// The bytes of the log's database and its write-ahead log, as anyone who copies them (a
/// backup, a stolen disk) has them.
fn database_bytes(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for suffix in ["", "-wal"] {
        if let Ok(bytes) = std::fs::read(dir.join(format!("consent.db{suffix}"))) {
            all.extend_from_slice(&bytes);
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `DELETE /consent/me` says the records are erased: the page the visitor was on and their
/// consent id must then be gone from the database's files, not merely from its queries
/// (SQLite leaves a row's old bytes in the page's free space and in the write-ahead log).
#[tokio::test]
async fn an_erased_decision_leaves_no_trace_in_the_database_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    let page = "https://klinikka.fi/hoidot/raskaudenkeskeytys-erase-marker-5d1c";
    // Decisions of others around it, so the visitor's row shares its page with live rows.
    decide(&addr, "https://klinikka.fi/").await;
    let (token, id) = decide(&addr, page).await;
    decide(&addr, "https://klinikka.fi/yhteystiedot").await;
    let raw_id: ConsentId = id.parse().expect("an id");
    assert!(
        contains(&database_bytes(dir.path()), page.as_bytes()),
        "the test's premise: the page is in the files before the erasure"
    );

    let erased = send(&addr, "DELETE", "/consent/me", &cookie(&token), "").await;
    assert_eq!(erased.status, 200, "{}", erased.body);
    assert_eq!(erased.json()["erased"], 1);
    let mine = send(&addr, "GET", "/consent/me", &cookie(&token), "").await;
    assert_eq!(mine.status, 404, "{}", mine.body);

    let bytes = database_bytes(dir.path());
    assert!(
        !contains(&bytes, page.as_bytes()),
        "the erased decision's page is still in the database files"
    );
    assert!(
        !contains(&bytes, id.as_bytes()),
        "the erased consent id is still in the database files"
    );
    assert!(
        !contains(&bytes, raw_id.as_bytes()),
        "the erased consent id's bytes are still in the database files"
    );
}

/// Whether an answer forbids every cache, the browser's own included, to keep it.
fn not_stored(answer: &Answer) -> bool {
    answer
        .header("cache-control")
        .is_some_and(|v| v.split(',').any(|d| d.trim() == "no-store"))
}

/// Answers that hold one person's data (the visitor's records, the register's exports, the
/// mailer's outbox) must not be kept by any cache: a browser on the clinic's shared computer
/// keeps what it may in its disk cache, for the next person at the keyboard to find.
#[tokio::test]
async fn answers_with_personal_data_are_never_stored_by_a_cache() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    let (token, id) = decide(&addr, "https://klinikka.fi/ajanvaraus").await;
    let signup = send(
        &addr,
        "POST",
        "/register/signup",
        &format!("Origin: {ORIGIN}\r\nContent-Type: application/json\r\n"),
        r#"{"contact": "maija@example.fi", "channels": ["email"]}"#,
    )
    .await;
    assert_eq!(signup.status, 202, "{}", signup.body);

    let json = format!("{}Content-Type: application/json\r\n", bearer());
    let answers = [
        (
            "GET /consent/me",
            send(&addr, "GET", "/consent/me", &cookie(&token), "").await,
        ),
        (
            "GET /consent/{id}",
            send(&addr, "GET", &format!("/consent/{id}"), &cookie(&token), "").await,
        ),
        (
            "POST /register/access",
            send(
                &addr,
                "POST",
                "/register/access",
                &json,
                &format!(r#"{{"consent_id": "{id}"}}"#),
            )
            .await,
        ),
        (
            "POST /register/access (html)",
            send(
                &addr,
                "POST",
                "/register/access",
                &json,
                &format!(r#"{{"consent_id": "{id}", "format": "html"}}"#),
            )
            .await,
        ),
        (
            "GET /register/outbox?peek=true",
            send(&addr, "GET", "/register/outbox?peek=true", &bearer(), "").await,
        ),
        (
            "POST /register/may-market",
            send(
                &addr,
                "POST",
                "/register/may-market",
                &json,
                r#"{"contact": "maija@example.fi", "channel": "email"}"#,
            )
            .await,
        ),
        (
            "DELETE /consent/me",
            send(&addr, "DELETE", "/consent/me", &cookie(&token), "").await,
        ),
    ];
    for (what, answer) in &answers {
        assert!(
            (200..300).contains(&answer.status),
            "{what}: {} {}",
            answer.status,
            answer.body
        );
        assert!(
            not_stored(answer),
            "{what} may be kept by a cache: {}",
            answer.head
        );
    }
}

/// The register's routes read a body only once they know who asks: a client without the
/// admin token (or, for the public sign-up, from a foreign Origin) is answered at once, and
/// an oversized body is refused with the API's JSON error, never buffered to axum's 2 MB
/// default nor answered in plain text.
#[tokio::test]
async fn the_register_refuses_a_stranger_before_reading_a_body() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    // A head announcing a megabyte, and nothing after it: a server that reads the body
    // before checking never answers.
    let announce = |path: &str, extra: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Content-Type: application/json\r\nContent-Length: 1000000\r\nConnection: close\r\n\r\n"
        )
    };
    for path in [
        "/register/marketing",
        "/register/may-market",
        "/register/access",
        "/register/requests",
        "/register/requests/1",
    ] {
        let answer = send_raw(&addr, announce(path, "").as_bytes()).await;
        assert_eq!(answer.status, 401, "{path}: {}", answer.head);
        assert!(
            answer.json()["error"].is_string(),
            "{path}: {}",
            answer.body
        );
    }
    let answer = send_raw(
        &addr,
        announce("/register/signup", "Origin: https://evil.example\r\n").as_bytes(),
    )
    .await;
    assert_eq!(answer.status, 403, "{}", answer.head);
    assert!(answer.json()["error"].is_string(), "{}", answer.body);

    // With the token, a body past the limit is refused in the API's own words.
    let big = format!(
        r#"{{"contact": "maija@example.fi", "channel": "email", "pad": "{}"}}"#,
        "x".repeat(40 * 1024)
    );
    for (path, headers) in [
        (
            "/register/may-market",
            format!("{}Content-Type: application/json\r\n", bearer()),
        ),
        (
            "/register/signup",
            format!("Origin: {ORIGIN}\r\nContent-Type: application/json\r\n"),
        ),
    ] {
        let answer = send(&addr, "POST", path, &headers, &big).await;
        assert_eq!(answer.status, 413, "{path}: {}", answer.head);
        assert!(
            answer
                .header("content-type")
                .is_some_and(|t| t.starts_with("application/json")),
            "{path}: {}",
            answer.head
        );
        assert!(
            answer.json()["error"].is_string(),
            "{path}: {}",
            answer.body
        );
    }
}

/// Staff logged in to the dashboard send their password (HTTP Basic) with every request to
/// the server, including one a page on another site makes them send by a link or an image.
/// A plain `GET /register/outbox` takes the confirmation messages out for good: such a
/// request must not lose the sign-ups' messages. Looking (`?peek=true`, the HTML page) stays
/// open to a browser; taking needs the mailer's `Authorization: Bearer`.
#[tokio::test]
async fn a_browser_login_cannot_be_made_to_empty_the_outbox() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    let signup = send(
        &addr,
        "POST",
        "/register/signup",
        &format!("Origin: {ORIGIN}\r\nContent-Type: application/json\r\n"),
        r#"{"contact": "maija@example.fi", "channels": ["email"]}"#,
    )
    .await;
    assert_eq!(signup.status, 202, "{}", signup.body);

    // What a link on another site makes the logged-in browser send.
    let taken = send(
        &addr,
        "GET",
        "/register/outbox",
        &format!("{}Sec-Fetch-Site: cross-site\r\n", basic()),
        "",
    )
    .await;
    assert!(
        !(200..300).contains(&taken.status),
        "a browser's login took the outbox: {} {}",
        taken.status,
        taken.body
    );
    assert!(taken.json()["error"].is_string(), "{}", taken.body);
    // The browser may still look.
    let peek = send(&addr, "GET", "/register/outbox?peek=true", &basic(), "").await;
    assert_eq!(peek.status, 200, "{}", peek.body);
    assert_eq!(peek.json()["messages"].as_array().map(Vec::len), Some(1));
    // A HEAD has no body to carry them: it takes nothing, even with the mailer's token.
    let head = send(&addr, "HEAD", "/register/outbox", &bearer(), "").await;
    assert_eq!(head.status, 200, "{}", head.head);
    // The mailer takes the message, once.
    let mailer = send(&addr, "GET", "/register/outbox", &bearer(), "").await;
    assert_eq!(mailer.status, 200, "{}", mailer.body);
    let messages = mailer.json()["messages"].clone();
    assert_eq!(
        messages.as_array().map(Vec::len),
        Some(1),
        "the sign-up's message was lost: {messages}"
    );
    assert_eq!(messages[0]["to"], "maija@example.fi");
}

/// What staff open in the clinic's browser: the dashboard, a consent id's records, and the
/// statistics' export the dashboard links to (JSON and CSV). None of it may stay in the
/// browser's disk cache for the next person at the shared computer, who has no password:
/// the dashboard is `no-store`, and so must be the export it downloads.
#[tokio::test]
async fn staff_pages_and_exports_are_never_stored_by_a_cache() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    let (_, id) = decide(&addr, "https://klinikka.fi/ajanvaraus").await;
    for path in [
        "/admin".to_owned(),
        format!("/admin/consent?id={id}"),
        "/stats".to_owned(),
        "/stats?format=json".to_owned(),
        "/stats?format=csv".to_owned(),
    ] {
        let answer = send(&addr, "GET", &path, &basic(), "").await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
        assert!(
            not_stored(&answer),
            "{path} may be kept by a cache: {}",
            answer.head
        );
    }
}

/// `POST /register/check` answers the flagged rows of a mailing list as CSV, which staff open
/// in a spreadsheet: an address someone wrote as a formula comes back as text, not as a
/// formula the spreadsheet runs (the CLI's `consent market bulk` writes the same CSV).
#[tokio::test]
async fn the_list_check_never_answers_a_formula() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    let answer = send(
        &addr,
        "POST",
        "/register/check?channel=email",
        &format!("{}Content-Type: text/csv\r\n", bearer()),
        "email\n=cmd|'/Ccalc'!A0@evil.fi\n\"=HYPERLINK(\"\"https://evil.example/\"\")\"\n",
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let mut reader = csv::Reader::from_reader(answer.body.as_bytes());
    let addresses: Vec<String> = reader
        .records()
        .map(|r| r.expect("a CSV row")[1].to_owned())
        .collect();
    assert_eq!(
        addresses,
        [
            "'=cmd|'/Ccalc'!A0@evil.fi",
            "'=HYPERLINK(\"https://evil.example/\")"
        ],
        "{}",
        answer.body
    );
}

/// `GET /admin/logout` answers 401 without a challenge, which makes a browser that sent the
/// staff's password forget it. A page on another site can make the logged-in browser send
/// that request (an image, a link), with the password: it must not log staff out of the
/// dashboard behind their back. A logout from the dashboard's own link (`Sec-Fetch-Site:
/// same-origin`), or typed in (`none`), still works.
#[tokio::test]
async fn a_page_on_another_site_cannot_log_staff_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    for site in ["cross-site", "same-site"] {
        let forged = send(
            &addr,
            "GET",
            "/admin/logout",
            &format!(
                "{}Sec-Fetch-Site: {site}\r\nSec-Fetch-Dest: image\r\n",
                basic()
            ),
            "",
        )
        .await;
        assert_ne!(
            forged.status, 401,
            "a request from a {site} page logged staff out: {}",
            forged.head
        );
        assert!(
            forged.header("www-authenticate").is_none(),
            "{}",
            forged.head
        );
    }
    for site in ["same-origin", "none"] {
        let logout = send(
            &addr,
            "GET",
            "/admin/logout?lang=en",
            &format!("{}Sec-Fetch-Site: {site}\r\n", basic()),
            "",
        )
        .await;
        assert_eq!(logout.status, 401, "{site}: {}", logout.head);
        assert!(
            logout.body.contains("You are logged out"),
            "{}",
            logout.body
        );
    }
}

/// Someone who can write the database rolls the whole of it back to an older copy while the
/// server runs (a backup restored over it, its older head validly signed): the dashboard
/// said the chain verified, as it checked the database alone, while `consent verify`
/// named the records that the head file vouches for as removed. It checks the head file too.
#[tokio::test]
async fn a_log_rolled_back_under_a_running_server_is_a_break_on_the_dashboard() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    decide(&addr, "https://klinikka.fi/").await;
    let db = dir.path().join("consent.db");
    let older = dir.path().join("older.db");
    rusqlite::Connection::open(&db)
        .expect("open")
        .backup(
            rusqlite::MAIN_DB,
            &older,
            None::<fn(rusqlite::backup::Progress)>,
        )
        .expect("a copy of the log");
    decide(&addr, "https://klinikka.fi/").await;
    decide(&addr, "https://klinikka.fi/").await;
    // The server moves its head file on after each commit.
    let head_file = dir.path().join("consent.db.head");
    let mut waited = 0;
    while consent_server::store::chain::SignedHead::read(&head_file).map_or(0, |h| h.seq) < 3 {
        assert!(waited < 100, "the head file never named the third record");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    const VERIFIES: &str = "The chain verifies:";
    const BROKEN: &str = "The chain does not verify:";
    let before = send(&addr, "GET", "/admin?lang=en", &bearer(), "").await;
    assert_eq!(before.status, 200, "{}", before.head);
    assert!(before.body.contains(VERIFIES), "{}", before.body);

    rusqlite::Connection::open(&db)
        .expect("open")
        .restore(
            rusqlite::MAIN_DB,
            &older,
            None::<fn(rusqlite::backup::Progress)>,
        )
        .expect("the older copy put back");
    let after = send(&addr, "GET", "/admin?lang=en", &bearer(), "").await;
    assert_eq!(after.status, 200, "{}", after.head);
    assert!(
        after.body.contains(BROKEN) && !after.body.contains(VERIFIES),
        "a log rolled back from 3 records to 1 shown as intact: {}",
        after.body
    );
}

/// A page on another site can make staff's browser post a form to `POST /register/check`
/// with their Basic login: up to 32 MiB for the server to read and check, for an answer the
/// page cannot see. A browser's request from another site is refused before the body is
/// read; one from the server's own pages, or a program's, is checked.
#[tokio::test]
async fn a_page_on_another_site_cannot_make_the_server_check_a_list() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    let list = "email\nmaija@example.fi\n";
    for (site, status) in [
        ("Sec-Fetch-Site: cross-site\r\n", 403),
        ("Sec-Fetch-Site: same-site\r\n", 403),
        ("Sec-Fetch-Site: same-origin\r\n", 200),
        ("", 200),
    ] {
        let answer = send(
            &addr,
            "POST",
            "/register/check?channel=email",
            &format!("{}{site}Content-Type: text/plain\r\n", basic()),
            list,
        )
        .await;
        assert_eq!(answer.status, status, "{site:?}: {}", answer.body);
    }
}
