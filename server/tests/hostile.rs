//! `consent serve` against a hostile or careless client, on a real socket and a real SQLite
//! file: what it answers a request that no browser of the site's visitors would make the
//! way it is made here (stray cookies first, odd paths, no credentials where staff would
//! log in), each a test of a defect found that way.

// Helpers outside #[test] functions, where clippy's in-test allowances do not reach.
#![allow(clippy::expect_used, clippy::panic)]

mod support;

use support::raw::{Answer, outbox, send};

use std::path::Path;

use consent_core::Config;
use tokio::process::Child;

const ORIGIN: &str = "https://klinikka.fi";
const ADMIN: &str = "hostile-admin-token";

fn config() -> Config {
    Config::from_json(consent_core::EXAMPLE_CONFIG).expect("valid")
}

async fn start(dir: &Path) -> (Child, String) {
    support::serve::start(dir, &["--origin", ORIGIN, "--admin-token", ADMIN]).await
}

/// A decision posted from the no-JavaScript form: the answer (a 303 setting the cookie).
async fn form_post(addr: &str, cookie: &str, form: &str) -> Answer {
    send(
        addr,
        "POST",
        "/consent/form",
        &format!("Origin: {ORIGIN}\r\n{cookie}Content-Type: application/x-www-form-urlencoded\r\n"),
        form,
    )
    .await
}

/// A browser should prompt for the password wherever the server answers 401 to a page staff
/// open or a route that takes the admin token: the customer register answered without a
/// challenge, so the outbox's page (`format=html`, linked for staff to look at) showed a
/// JSON error and no login prompt.
#[tokio::test]
async fn the_registers_admin_routes_ask_a_browser_for_the_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    for (method, path) in [
        ("GET", "/register/outbox?format=html"),
        ("GET", "/register/outbox?peek=true"),
        ("GET", "/register/requests"),
        ("POST", "/register/may-market"),
        ("POST", "/register/check?channel=email"),
    ] {
        let answer = send(&addr, method, path, "", "").await;
        assert_eq!(answer.status, 401, "{method} {path}: {}", answer.head);
        let challenge = answer.header("www-authenticate").unwrap_or_default();
        assert!(
            challenge.starts_with("Basic realm="),
            "{method} {path}: no Basic challenge in {}",
            answer.head
        );
        assert!(
            answer.json()["error"].is_string(),
            "{method} {path}: {}",
            answer.body
        );
    }
    // The password the prompt asks for opens the page.
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("staff:{ADMIN}"),
    );
    let page = send(
        &addr,
        "GET",
        "/register/outbox?format=html",
        &format!("Authorization: Basic {basic}\r\n"),
        "",
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.head);
    // The public routes still never ask: a visitor is no staff.
    let confirm = send(&addr, "GET", "/register/confirm?token=x", "", "").await;
    assert_eq!(confirm.header("www-authenticate"), None, "{}", confirm.head);
}

/// A stray consent cookie sent first (a parent domain's, another path's) must not bring back
/// the first layer that a site includes server-side (`GET /consent/first-layer`) when the
/// visitor's signed decision comes after it, as it does not in the gate or the banner; nor
/// must the preferences page show that decision's switches off.
#[tokio::test]
async fn a_stray_consent_cookie_first_does_not_bring_back_the_server_rendered_banner() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    let (name, token) = accepted_by_form(&addr).await;
    for cookies in [
        format!("{name}={token}"),
        format!("{name}=stale; {name}={token}"),
        format!("theme=dark; {name}=1.AAAA; {name}={token}"),
    ] {
        shown_as_decided(&addr, &cookies).await;
    }
    // With no valid decision at all, the first layer is due.
    let stray = send(
        &addr,
        "GET",
        "/consent/first-layer",
        &format!("Cookie: {name}=stale\r\n"),
        "",
    )
    .await;
    assert!(stray.body.contains("/consent/form"), "{}", stray.body);
}

/// A path segment longer than any file name is no file: the playground's file service passed
/// it to the file system, which refused it (`ENAMETOOLONG`), and answered 500, a server
/// error for what is the client's.
#[tokio::test]
async fn an_overlong_name_under_the_playground_is_not_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    let page = send(&addr, "GET", "/playground/", "", "").await;
    assert_eq!(page.status, 200, "the playground is served: {}", page.head);
    let long = "a".repeat(300);
    for path in [
        format!("/playground/{long}"),
        format!("/playground/x/{long}"),
    ] {
        let answer = send(&addr, "GET", &path, "", "").await;
        assert_eq!(answer.status, 404, "{}", answer.head);
    }
}

/// Whether `location` is a URI reference as `Location` must be: visible ASCII only, nothing
/// a browser would have to guess the encoding of.
fn is_uri_reference(location: &str) -> bool {
    location
        .bytes()
        .all(|b| b.is_ascii_graphic() && !b"\"<>\\^`{|}".contains(&b))
}

/// The page to go back to after a form post comes in the form as text (`return_to`), which a
/// site filling it from a decoded path or query gives with spaces or letters like `ä`: the
/// redirect must still be a URI. A space made the decision a 422 (nothing recorded, the
/// visitor left on a JSON error) and an `ä` went into `Location` as raw UTF-8.
#[tokio::test]
async fn a_return_to_in_plain_text_comes_back_as_a_uri() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    for (given, expected) in [
        ("%2Fp%C3%A4iv%C3%A4", "/p%C3%A4iv%C3%A4"),
        ("%2Fa+b%3Fq%3D%C3%A4%23osa", "/a%20b?q=%C3%A4#osa"),
        (
            "%2Fp%25C3%25A4iv%25C3%25A4%3Fx%3D%22%3C%3E",
            "/p%C3%A4iv%C3%A4?x=%22%3C%3E",
        ),
    ] {
        let answer = form_post(&addr, "", &format!("action=reject_all&return_to={given}")).await;
        assert_eq!(
            answer.status, 303,
            "{given}: {} {}",
            answer.head, answer.body
        );
        assert_eq!(answer.header("location"), Some(expected), "{given}");
        let signup = send(
            &addr,
            "POST",
            "/register/signup",
            &format!("Origin: {ORIGIN}\r\nContent-Type: application/x-www-form-urlencoded\r\n"),
            &format!("contact=a%40example.fi&channels=email&return_to={given}"),
        )
        .await;
        assert_eq!(
            signup.status, 303,
            "{given}: {} {}",
            signup.head, signup.body
        );
        let location = signup.header("location").unwrap_or_default();
        assert!(is_uri_reference(location), "{given}: {location}");
        assert!(location.contains("signup=ok"), "{given}: {location}");
    }
}

/// The sign-up is public and mails whatever address it is given: without a limit per
/// contact, one client within the per-client rate (or many clients) had the site's mailer
/// send a victim a confirmation message for every request, tens of thousands a day. A few
/// reach the contact; the rest are answered as any sign-up is (saying nothing about who
/// signed up before) and send nothing. Another contact is not held back.
#[tokio::test]
async fn the_signup_cannot_be_used_to_flood_one_address_with_messages() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    let sign_up = |contact: &'static str| {
        let addr = addr.clone();
        async move {
            send(
                &addr,
                "POST",
                "/register/signup",
                &format!("Origin: {ORIGIN}\r\nContent-Type: application/json\r\n"),
                &serde_json::json!({ "contact": contact, "channels": ["email"] }).to_string(),
            )
            .await
        }
    };
    for _ in 0..20 {
        let answer = sign_up("victim@example.fi").await;
        assert_eq!(answer.status, 202, "{}", answer.body);
        // Written another way, the same contact.
        let answer = sign_up(" Victim@Example.FI ").await;
        assert_eq!(answer.status, 202, "{}", answer.body);
    }
    let answer = sign_up("other@example.fi").await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    let messages = outbox(&addr, ADMIN).await;
    let to = |who: &str| messages.iter().filter(|m| m["to"] == who).count();
    assert!(
        (1..=3).contains(&to("victim@example.fi")),
        "{} messages to one address",
        to("victim@example.fi")
    );
    assert_eq!(to("other@example.fi"), 1, "{messages:?}");
}

/// A query or path the route's extractor cannot read (a field given twice, a number that is
/// none, bytes that are not UTF-8) is the client's error, and the API's errors are JSON
/// (`{"error": ...}`): axum's own answers to such requests were plain text.
#[tokio::test]
async fn requests_the_routes_cannot_read_are_answered_in_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    let bearer = format!("Authorization: Bearer {ADMIN}\r\n");
    for (method, path, headers, what) in [
        ("GET", "/consent/preferences?lang=fi&lang=sv", "", "lang"),
        (
            "GET",
            "/consent/first-layer?return_to=/&return_to=/x",
            "",
            "return_to",
        ),
        ("GET", "/consent/%FF", "", "UTF-8"),
        (
            "GET",
            "/register/requests?all=maybe",
            bearer.as_str(),
            "all",
        ),
        (
            "POST",
            "/register/requests/99999999999999999999",
            bearer.as_str(),
            "99999999999999999999",
        ),
        ("DELETE", "/register/outbox/x", bearer.as_str(), "`x`"),
    ] {
        let answer = send(&addr, method, path, headers, "").await;
        assert_eq!(answer.status, 400, "{method} {path}: {}", answer.head);
        assert_eq!(
            answer.header("content-type"),
            Some("application/json"),
            "{method} {path}: {}",
            answer.body
        );
        let error = answer.json()["error"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(error.contains(what), "{method} {path}: {error}");
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
    }
}

/// A banner's decision from `origin`, as a browser there posts it: the status.
async fn post_from(addr: &str, origin: &str) -> u16 {
    let config = config();
    let now = time::OffsetDateTime::now_utc();
    let before = consent_core::policy::evaluate(
        &config,
        None,
        None,
        now,
        consent_core::policy::Signals::default(),
    );
    let ctx = consent_core::policy::Context {
        now,
        signals: consent_core::policy::Signals::default(),
        lang: consent_core::Lang::Fi,
        fresh_id: consent_core::ConsentId::from_bytes([9; 16]),
    };
    let decision = consent_core::policy::decide(
        &config,
        &before,
        consent_core::policy::Action::RejectAll,
        ctx,
    )
    .expect("in range");
    let body = serde_json::json!({
        "token": consent_core::Token::unsigned(*decision.state()).to_string()
    })
    .to_string();
    let answer = send(
        addr,
        "POST",
        "/consent",
        &format!("Origin: {origin}\r\nContent-Type: application/json\r\n"),
        &body,
    )
    .await;
    answer.status
}

/// Browsers send `Origin` as `scheme://host[:port]`, lower case, without the default port or
/// a slash. An `--origin` written otherwise (`CONSENT_ORIGINS="https://a.fi, https://b.fi"`
/// with a space, a trailing slash, capitals, `:443`) matched no browser's header: the server
/// started and refused every decision from that site, so none was recorded. Such writings now
/// mean the origin they name; one with a path or another scheme stops the start, naming it.
#[tokio::test]
async fn an_origin_written_another_way_still_lets_the_site_record_decisions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = support::serve::start(
        dir.path(),
        &[
            "--origin",
            "https://a.example, HTTPS://Klinikka.FI:443/ ,http://b.example:8080/",
        ],
    )
    .await;
    for origin in [
        "https://klinikka.fi",
        "https://a.example",
        "http://b.example:8080",
    ] {
        assert_eq!(post_from(&addr, origin).await, 201, "{origin}");
    }
    assert_eq!(post_from(&addr, "https://evil.example").await, 403);
    for bad in [
        "https://klinikka.fi/fi",
        "klinikka.fi",
        "ftp://klinikka.fi",
        "https://user@klinikka.fi",
        "https://klinikka.fi:99999",
        "https://",
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let refused = support::serve::try_start(dir.path(), &["--origin", bad]).await;
        let said = refused
            .err()
            .unwrap_or_else(|| panic!("{bad}: the server started"));
        assert!(said.contains(bad), "{bad}: {said}");
    }
}

/// The demo's stand-in tags report hits of a few hundred bytes (`POST /demo/hit`, public),
/// which it refused past 4 kB only after reading up to axum's default 2 MB into memory: a
/// body announced as larger is refused at once now, its rest never read.
#[tokio::test]
async fn an_oversized_demo_hit_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = support::serve::start(dir.path(), &["--demo"]).await;
    let head = "POST /demo/hit HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                Content-Length: 2000000\r\nConnection: close\r\n\r\n";
    // The start of the body, then nothing: the rest would come only if asked for.
    let request = format!("{head}{}", "x".repeat(8192));
    let answer = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        support::raw::send_raw(&addr, request),
    )
    .await
    .expect("answered without waiting for the rest of the body");
    assert_eq!(answer.status, 413, "{}\n{}", answer.head, answer.body);
    assert!(answer.json()["error"].is_string(), "{}", answer.body);
}

/// An authentication scheme is case-insensitive (RFC 9110, 11.1): a mailer or script that
/// writes `bearer <token>` or `BASIC ...` with the right token is the admin, and was refused.
#[tokio::test]
async fn the_admin_tokens_scheme_is_read_without_case() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("staff:{ADMIN}"),
    );
    for authorization in [
        format!("bearer {ADMIN}"),
        format!("BEARER  {ADMIN}"),
        format!("basic {basic}"),
    ] {
        let answer = send(
            &addr,
            "GET",
            "/register/outbox?peek=true",
            &format!("Authorization: {authorization}\r\n"),
            "",
        )
        .await;
        assert_eq!(answer.status, 200, "{authorization}: {}", answer.body);
    }
    // A wrong token is still wrong, whatever its case.
    let wrong = send(
        &addr,
        "GET",
        "/register/outbox?peek=true",
        &format!("Authorization: bearer {}\r\n", ADMIN.to_uppercase()),
        "",
    )
    .await;
    assert_eq!(wrong.status, 401, "{}", wrong.body);
    // Taking needs a Bearer token, in whatever case it is written.
    let take = send(
        &addr,
        "GET",
        "/register/outbox",
        &format!("Authorization: bearer {ADMIN}\r\n"),
        "",
    )
    .await;
    assert_eq!(take.status, 200, "{}", take.body);
}

/// A media type's type and subtype are case-insensitive, and its parameters apart: a client
/// that sends `Application/JSON; charset=UTF-8` sends JSON, and was refused 415; one that
/// sends `application/jsonp` does not, and was read as JSON.
#[tokio::test]
async fn the_content_type_is_read_as_a_media_type() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    let form = |content_type: &str| {
        let addr = addr.clone();
        let content_type = content_type.to_owned();
        async move {
            send(
                &addr,
                "POST",
                "/consent/form",
                &format!("Origin: {ORIGIN}\r\nContent-Type: {content_type}\r\n"),
                "action=reject_all&return_to=%2F",
            )
            .await
            .status
        }
    };
    assert_eq!(
        form("Application/X-WWW-Form-URLEncoded; charset=UTF-8").await,
        303
    );
    assert_eq!(form("application/x-www-form-urlencoded-not").await, 415);
    let signup = |content_type: &'static str, body: &'static str| {
        let addr = addr.clone();
        async move {
            send(
                &addr,
                "POST",
                "/register/signup",
                &format!("Origin: {ORIGIN}\r\nContent-Type: {content_type}\r\n"),
                body,
            )
            .await
            .status
        }
    };
    let json = r#"{"contact": "a@example.fi", "channels": ["email"]}"#;
    assert_eq!(signup("Application/JSON; charset=UTF-8", json).await, 202);
    assert_eq!(signup("application/jsonp", json).await, 415);
}

/// A contact confirms a sign-up for several channels, and the request goes away before the
/// server is done: the browser gave up, the page was left, a double click cancelled the
/// first post, or the request timed out while the log was busy. The consents were appended
/// one by one within the request, so those after the cut were lost, and the link, its first
/// consent now on record, was "already used": the contact could never confirm the rest.
/// Confirming now runs to its end whatever becomes of the request.
#[tokio::test]
async fn a_confirmation_cut_short_by_its_request_still_records_every_channel() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = support::serve::start(
        dir.path(),
        &[
            "--origin",
            ORIGIN,
            "--admin-token",
            ADMIN,
            "--request-timeout",
            "1",
        ],
    )
    .await;
    let contact = "+358401234567";
    let signed_up = send(
        &addr,
        "POST",
        "/register/signup",
        &format!("Origin: {ORIGIN}\r\nContent-Type: application/json\r\n"),
        &serde_json::json!({ "contact": contact, "channels": ["sms", "post"] }).to_string(),
    )
    .await;
    assert_eq!(signed_up.status, 202, "{}", signed_up.body);
    let messages = outbox(&addr, ADMIN).await;
    let link = messages[0]["link"].as_str().expect("link");
    let token = link.split_once("token=").expect("a token").1.to_owned();
    // Someone else writes to the log (a backup, a second process): the server's writer
    // waits for it, longer than the request may take.
    let db = rusqlite::Connection::open(dir.path().join("consent.db")).expect("open the log");
    db.execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");
    let confirmed = send(
        &addr,
        "POST",
        "/register/confirm",
        "Content-Type: application/x-www-form-urlencoded\r\n",
        &format!("token={token}"),
    )
    .await;
    assert_eq!(confirmed.status, 408, "{}", confirmed.head);
    db.execute_batch("ROLLBACK")
        .expect("release the write lock");
    // Every channel ticked is recorded once the log is free.
    let bearer = format!("Authorization: Bearer {ADMIN}\r\nContent-Type: application/json\r\n");
    let mut consents = 0;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let access = send(
            &addr,
            "POST",
            "/register/access",
            &bearer,
            &serde_json::json!({ "contact": contact }).to_string(),
        )
        .await;
        let may_market: Vec<String> = access.json()["marketing"]
            .as_array()
            .map(|channels| {
                channels
                    .iter()
                    .filter(|c| c["may_market"] == true)
                    .filter_map(|c| c["channel"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        consents = may_market.len();
        if consents >= 2 {
            assert_eq!(may_market, ["sms", "post"]);
            break;
        }
    }
    assert_eq!(
        consents, 2,
        "channels that may be marketed to after the confirmation"
    );
}

/// Another cookie of the site holding UTF-8 text (a city, a name: browsers send what was
/// set) made the whole `Cookie` header unreadable to the server's own routes, which read it
/// with `to_str` (ASCII only): the visitor's records (`GET /consent/me`) answered 401, and the
/// server-rendered preferences showed a decided visitor's switches off.
#[tokio::test]
async fn another_cookies_utf8_text_leaves_the_visitors_decision_readable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    let (name, token) = accepted_by_form(&addr).await;
    for cookies in [
        format!("{name}={token}"),
        format!("kaupunki=Jyväskylä; {name}={token}"),
        format!("{name}={token}; nimi=Åsa Öberg"),
    ] {
        let mine = send(
            &addr,
            "GET",
            "/consent/me",
            &format!("Cookie: {cookies}\r\n"),
            "",
        )
        .await;
        assert_eq!(mine.status, 200, "{cookies}: {}", mine.head);
        assert!(mine.body.contains("accept_all"), "{cookies}: {}", mine.body);
        shown_as_decided(&addr, &cookies).await;
    }
}

/// "Accept all" posted from the no-JavaScript form: the consent cookie's name and token.
async fn accepted_by_form(addr: &str) -> (String, String) {
    let name = config().cookie().name().to_owned();
    let decided = form_post(addr, "", "action=accept_all&return_to=%2F").await;
    assert_eq!(decided.status, 303, "{}", decided.head);
    let token = decided.set_cookie(&name).expect("the consent cookie");
    (name, token)
}

/// A visitor who accepted everything, sending `cookies`, is shown as decided by the
/// server-rendered banner: no first layer (`GET /consent/first-layer`), and the preferences
/// page with the decision's switches on.
async fn shown_as_decided(addr: &str, cookies: &str) {
    let cookie = format!("Cookie: {cookies}\r\n");
    let fragment = send(addr, "GET", "/consent/first-layer", &cookie, "").await;
    assert_eq!(fragment.status, 200, "{}", fragment.head);
    assert_eq!(
        fragment.body, "",
        "{cookies}: the first layer again, over a signed decision"
    );
    let page = send(addr, "GET", "/consent/preferences", &cookie, "").await;
    let switch = page
        .body
        .split("<input")
        .find(|i| i.contains(r#"value="analytics""#))
        .expect("the analytics switch");
    assert!(
        switch.contains("checked"),
        "{cookies}: analytics shown off: {switch}"
    );
}
