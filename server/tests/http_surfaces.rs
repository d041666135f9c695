//! `consent serve`'s HTTP surfaces besides `POST /consent`, against an attacker, on a real
//! socket and a real SQLite file: the no-JavaScript pages and form, the dashboard and its
//! login, the register's sign-up and confirmation. Each test is a defect found that way, or a
//! protection a regression could quietly remove.

// Helpers outside #[test] functions, where clippy's in-test allowances do not reach.
#![allow(clippy::expect_used, clippy::panic)]

mod support;

use support::raw::{outbox, send};

use std::path::Path;

use tokio::process::Child;

const ORIGIN: &str = "https://klinikka.fi";
const ADMIN: &str = "surfaces-admin-token";

async fn start(dir: &Path) -> (Child, String) {
    support::serve::start(dir, &["--origin", ORIGIN, "--admin-token", ADMIN]).await
}

/// How many of the outbox's `messages` go to an address `to` accepts.
fn sent_to(messages: &[serde_json::Value], to: impl Fn(&str) -> bool) -> usize {
    messages
        .iter()
        .filter(|m| m["to"].as_str().is_some_and(&to))
        .count()
}

/// The consent id of the decision the consent cookie `cookie` holds, as `/consent/me` reads it.
async fn consent_id(addr: &str, cookie: &str) -> String {
    let mine = send(
        addr,
        "GET",
        "/consent/me",
        &format!("Cookie: {cookie}\r\n"),
        "",
    )
    .await;
    mine.json()["consent_id"]
        .as_str()
        .expect("consent_id")
        .to_owned()
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
    let messages = outbox(&addr, ADMIN).await;
    let to_victim = sent_to(&messages, |to| {
        to.starts_with("victim") && to.ends_with("@example.fi")
    });
    assert!(
        (1..=3).contains(&to_victim),
        "{to_victim} messages to one mailbox: {messages:?}"
    );
    let to_other = sent_to(&messages, |to| to == "other+news@example.fi");
    assert_eq!(to_other, 1, "{messages:?}");
}

/// Gmail delivers `v.ictim@gmail.com`, `vi.ctim@gmail.com`, ... (every way of dotting the
/// local part) to `victim@gmail.com`, as it documents: each had a budget of its own, so the
/// public sign-up could have the mailer send such a mailbox a message per request.
#[tokio::test]
async fn dotted_gmail_addresses_share_their_mailboxs_message_budget() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    let dotted = [
        "victim@gmail.com",
        "v.ictim@gmail.com",
        "vi.ctim@gmail.com",
        "vic.tim@gmail.com",
        "v.i.c.t.i.m@gmail.com",
        "victim+x@googlemail.com",
        "vic.tim@googlemail.com",
    ];
    for contact in dotted {
        assert_eq!(sign_up(&addr, contact).await, 202, "{contact}");
    }
    // Dots are the address elsewhere: another provider's dotted address is another mailbox.
    assert_eq!(sign_up(&addr, "vic.tim@example.fi").await, 202);
    let messages = outbox(&addr, ADMIN).await;
    let to_victim = sent_to(&messages, |to| dotted.contains(&to));
    assert!(
        (1..=3).contains(&to_victim),
        "{to_victim} messages to one mailbox: {messages:?}"
    );
    let to_other = sent_to(&messages, |to| to == "vic.tim@example.fi");
    assert_eq!(to_other, 1, "{messages:?}");
}

/// A decision posted from the no-JavaScript form: the signed consent cookie's `name=value`.
async fn decided_by_form(addr: &str) -> String {
    let answer = send(
        addr,
        "POST",
        "/consent/form",
        &format!("Origin: {ORIGIN}\r\nContent-Type: application/x-www-form-urlencoded\r\n"),
        "action=custom&category=analytics&return_to=/ajanvaraus",
    )
    .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let value = answer.set_cookie("consent").expect("the consent cookie");
    format!("consent={value}")
}

/// Every HTML page of the dashboard, the register and the no-JavaScript banner, errors
/// included, refuses to be framed (clickjacking a "Reject all", a confirmation, or staff's
/// view of someone's records), is not sniffed, and is kept by no cache: each shows a visitor's
/// choices or records, a contact, or staff's view. The API's tests check the dashboard's
/// front page and the public pages; these are the rest.
#[tokio::test]
async fn every_staff_and_visitor_page_is_unframeable_and_never_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    let cookie = decided_by_form(&addr).await;
    assert_eq!(sign_up(&addr, "maija@example.fi").await, 202);
    let bearer = format!("Authorization: Bearer {ADMIN}\r\n");
    let id = consent_id(&addr, &cookie).await;
    let json = format!("{bearer}Content-Type: application/json\r\n");
    let access = serde_json::json!({ "consent_id": id, "format": "html" }).to_string();
    let pages = [
        (
            "GET",
            format!("/admin/consent?id={id}"),
            bearer.clone(),
            String::new(),
            200,
        ),
        (
            "GET",
            "/admin/consent?id=nope".into(),
            bearer.clone(),
            String::new(),
            400,
        ),
        (
            "GET",
            "/admin/logout".into(),
            bearer.clone(),
            String::new(),
            401,
        ),
        (
            "GET",
            "/register/outbox?format=html".into(),
            bearer.clone(),
            String::new(),
            200,
        ),
        ("POST", "/register/access".into(), json, access, 200),
        (
            "GET",
            "/register/confirm?token=forged".into(),
            String::new(),
            String::new(),
            400,
        ),
        (
            "GET",
            "/consent/preferences?lang=en".into(),
            format!("Cookie: {cookie}\r\n"),
            String::new(),
            200,
        ),
        (
            "GET",
            "/consent/first-layer".into(),
            String::new(),
            String::new(),
            200,
        ),
    ];
    for (method, path, headers, body, status) in pages {
        let answer = send(&addr, method, &path, &headers, &body).await;
        assert_eq!(answer.status, status, "{method} {path}: {}", answer.body);
        let header = |name| answer.header(name).unwrap_or_default();
        assert!(
            header("content-type").starts_with("text/html"),
            "{path}: {}",
            answer.head
        );
        assert!(
            header("content-security-policy").contains("frame-ancestors 'none'"),
            "{path} may be framed: {}",
            answer.head
        );
        assert_eq!(header("x-frame-options"), "DENY", "{path}: {}", answer.head);
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(
            header("cache-control"),
            "no-store",
            "{path} may be kept by a cache: {}",
            answer.head
        );
    }
}

/// What a browser logged in to the dashboard sends with every request to the server: HTTP
/// Basic, whichever page made the request.
fn basic() -> String {
    use base64::Engine as _;
    let pair = base64::engine::general_purpose::STANDARD.encode(format!("staff:{ADMIN}"));
    format!("Authorization: Basic {pair}\r\n")
}

/// The dashboard walks the whole log on every visit (seconds on a long log), and staff's
/// browser sends their Basic login with any request to the server, an image or a script
/// another site's page asks for included: such a page could have the logged-in browser make
/// the server walk its log as often as the rate limit lets it, and use up staff's own budget.
/// The staff pages and exports are opened as pages (a link, a bookmark, typed in) or by
/// programs, never embedded by another site: such a request is refused before any work.
#[tokio::test]
async fn another_sites_page_cannot_make_a_logged_in_browser_load_the_dashboard() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    let embedded = |site: &str, dest: &str, mode: &str| {
        format!(
            "{}Sec-Fetch-Site: {site}\r\nSec-Fetch-Mode: {mode}\r\nSec-Fetch-Dest: {dest}\r\n",
            basic()
        )
    };
    for path in ["/admin", "/admin/consent?id=nope", "/stats?format=csv"] {
        for (site, dest, mode) in [
            ("cross-site", "image", "no-cors"),
            ("cross-site", "script", "no-cors"),
            ("same-site", "iframe", "navigate"),
            ("cross-site", "empty", "cors"),
        ] {
            let answer = send(&addr, "GET", path, &embedded(site, dest, mode), "").await;
            assert_eq!(
                answer.status, 403,
                "{path} from a {site} {dest}: {}",
                answer.head
            );
            assert!(answer.header("www-authenticate").is_none(), "{path}");
        }
    }
    // Opened as a page from a link elsewhere (an intranet's bookmark), from its own pages,
    // typed in, or by a program: as before.
    for headers in [
        embedded("cross-site", "document", "navigate"),
        embedded("same-origin", "document", "navigate"),
        embedded("none", "document", "navigate"),
        basic(),
    ] {
        let answer = send(&addr, "GET", "/admin", &headers, "").await;
        assert_eq!(answer.status, 200, "{headers}: {}", answer.head);
    }
}

/// Where a form sends the visitor afterwards (`return_to`) is a path on this site, however it
/// is written: another site (scheme-relative, with a backslash, a tab or a newline that
/// browsers drop, a `javascript:` address) is refused with the field named, and what is
/// accepted comes back as a path. Both forms that redirect: the banner's and the sign-up's.
#[tokio::test]
async fn no_form_redirects_a_visitor_to_another_site() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    let post = |path: &'static str, form: String| {
        let addr = addr.clone();
        async move {
            send(
                &addr,
                "POST",
                path,
                &format!("Origin: {ORIGIN}\r\nContent-Type: application/x-www-form-urlencoded\r\n"),
                &form,
            )
            .await
        }
    };
    let foreign = [
        "https%3A%2F%2Fevil.example%2F",
        "%2F%2Fevil.example",
        "%2F%5Cevil.example",
        "%2F%09%2Fevil.example",
        "%2F%0A%2Fevil.example",
        "%5C%5Cevil.example",
        "javascript%3Aalert(1)",
        "evil.example",
    ];
    for target in foreign {
        for (path, form) in [
            (
                "/consent/form",
                format!("action=reject_all&return_to={target}"),
            ),
            (
                "/register/signup",
                format!("contact=maija%40example.fi&channels=email&return_to={target}"),
            ),
        ] {
            let answer = post(path, form).await;
            assert_eq!(answer.status, 422, "{path} {target}: {}", answer.head);
            assert!(answer.header("location").is_none(), "{path} {target}");
            assert!(answer.body.contains("return_to"), "{}", answer.body);
        }
    }
    for (target, location) in [
        ("%2Fajanvaraus%3Fx%3D1", "/ajanvaraus?x=1"),
        ("%2F.%2F%2Fevil.example", "/.//evil.example"),
        ("%2F%25%32%46evil.example", "/%2Fevil.example"),
        ("%2F%C3%A4%22%3E%3C", "/%C3%A4%22%3E%3C"),
    ] {
        let answer = post(
            "/consent/form",
            format!("action=reject_all&return_to={target}"),
        )
        .await;
        assert_eq!(answer.status, 303, "{target}: {}", answer.body);
        assert_eq!(answer.header("location"), Some(location), "{target}");
    }
}

/// What a visitor's request puts in the server's pages (the page to go back to, the
/// language, a searched id) is text in them, never markup.
#[tokio::test]
async fn what_a_request_says_is_never_markup_in_a_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    let xss = "%2Fx%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E%3Cx%20y%3D%22";
    for (path, auth) in [
        (
            format!("/consent/preferences?lang=en&return_to={xss}"),
            String::new(),
        ),
        (
            format!("/consent/first-layer?return_to={xss}"),
            String::new(),
        ),
        (format!("/consent/preferences?lang={xss}"), String::new()),
        (format!("/admin/consent?id={xss}"), basic()),
        (format!("/admin?lang={xss}"), basic()),
        (
            format!("/register/confirm?lang={xss}&token={xss}"),
            String::new(),
        ),
    ] {
        let answer = send(&addr, "GET", &path, &auth, "").await;
        assert!(
            answer
                .header("content-type")
                .is_some_and(|t| t.starts_with("text/html")),
            "{path}: {}",
            answer.head
        );
        assert!(!answer.body.contains("<script"), "{path}: {}", answer.body);
        assert!(!answer.body.contains("<x y"), "{path}: {}", answer.body);
    }
}

/// Behind the documented reverse proxy (docs/DEPLOY.md) the dashboard and the register are on
/// the site's own origin, and a browser that logged in to `/admin` with HTTP Basic sends that
/// login with every request to the origin, those a script on any of the site's pages makes
/// included: the site's tags (which run once a visitor accepts them) or an injected script
/// then read every contact waiting in the outbox and anyone's records, recorded marketing
/// decisions and erased records, as staff, while staff browsed the site. The dashboard's
/// pages have no script: a browser's login counts only for a page or a download opened as
/// such (`Sec-Fetch-Mode: navigate` into no frame); a program (no `Sec-Fetch-*`) or a Bearer
/// token as before.
#[tokio::test]
async fn a_script_on_the_sites_own_pages_cannot_act_with_staffs_login() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    let cookie = decided_by_form(&addr).await;
    let id = consent_id(&addr, &cookie).await;
    assert_eq!(sign_up(&addr, "maija@example.fi").await, 202);
    let script = |dest: &str, mode: &str| {
        format!(
            "{}Sec-Fetch-Site: same-origin\r\nSec-Fetch-Mode: {mode}\r\nSec-Fetch-Dest: {dest}\r\n",
            basic()
        )
    };
    let fetch = script("empty", "cors");
    let json = format!("{fetch}Content-Type: application/json\r\n");
    let marketing = r#"{"contact": "pekka@example.fi", "channel": "email", "kind": "consent", "via": "web_form"}"#;
    for (method, path, headers, body) in [
        ("GET", "/admin".to_owned(), fetch.clone(), ""),
        ("GET", "/admin".to_owned(), script("image", "no-cors"), ""),
        ("GET", "/stats".to_owned(), fetch.clone(), ""),
        (
            "GET",
            "/register/outbox?format=html".to_owned(),
            fetch.clone(),
            "",
        ),
        (
            "GET",
            "/register/outbox?peek=true".to_owned(),
            fetch.clone(),
            "",
        ),
        // A frame of the same origin is the script's to read, whatever the answer's type.
        (
            "GET",
            "/register/outbox?peek=true".to_owned(),
            script("iframe", "navigate"),
            "",
        ),
        (
            "GET",
            format!("/consent/{id}"),
            script("iframe", "navigate"),
            "",
        ),
        ("GET", "/stats".to_owned(), script("object", "no-cors"), ""),
        ("GET", "/register/requests".to_owned(), fetch.clone(), ""),
        (
            "POST",
            "/register/marketing".to_owned(),
            json.clone(),
            marketing,
        ),
        ("GET", format!("/consent/{id}"), fetch.clone(), ""),
        ("DELETE", format!("/consent/{id}"), fetch.clone(), ""),
    ] {
        let answer = send(&addr, method, &path, &headers, body).await;
        assert!(
            answer.status == 401 || answer.status == 403,
            "{method} {path} by a script: {}\n{}",
            answer.head,
            answer.body
        );
        assert!(
            !answer.body.contains("maija@example.fi"),
            "{method} {path}: {}",
            answer.body
        );
    }
    // Nothing was recorded or erased.
    let bearer = format!("Authorization: Bearer {ADMIN}\r\n");
    let may = send(
        &addr,
        "POST",
        "/register/may-market",
        &format!("{bearer}Content-Type: application/json\r\n"),
        r#"{"contact": "pekka@example.fi", "channel": "email"}"#,
    )
    .await;
    assert_eq!(may.json()["status"], "no_decision", "{}", may.body);
    let records = send(&addr, "GET", &format!("/consent/{id}"), &bearer, "").await;
    assert_eq!(records.status, 200, "{}", records.body);
    // The visitor's own page still reads their records with their cookie, login or not.
    let own = send(
        &addr,
        "GET",
        "/consent/me",
        &format!("{fetch}Cookie: {cookie}\r\n"),
        "",
    )
    .await;
    assert_eq!(own.status, 200, "{}", own.body);
    // Staff opening the pages, and a program with the login, as before.
    for path in [
        "/admin",
        "/register/outbox?format=html",
        "/stats?format=csv",
    ] {
        let answer = send(&addr, "GET", path, &script("document", "navigate"), "").await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.head);
    }
    // The export's download link, as Chromium asks for it (a navigation into no document) and
    // as a browser that does not call a download a navigation might.
    for (dest, mode) in [("empty", "navigate"), ("document", "no-cors")] {
        let answer = send(&addr, "GET", "/stats?format=csv", &script(dest, mode), "").await;
        assert_eq!(answer.status, 200, "{dest} {mode}: {}", answer.head);
    }
    let program = send(
        &addr,
        "POST",
        "/register/marketing",
        &format!("{}Content-Type: application/json\r\n", basic()),
        marketing,
    )
    .await;
    assert_eq!(program.status, 201, "{}", program.body);
}

/// `GET /admin/logout` answers 401 without a challenge, which makes a browser forget staff's
/// password. Another site's page may not make that request (tested in `adversarial_admin`),
/// nor may a script on the site's own pages (a `fetch`, an image), which share the origin
/// behind the documented proxy: staff log out with the dashboard's link.
#[tokio::test]
async fn a_script_on_the_sites_own_pages_cannot_log_staff_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = start(dir.path()).await;
    for (dest, mode) in [
        ("empty", "cors"),
        ("image", "no-cors"),
        ("script", "no-cors"),
    ] {
        let answer = send(
            &addr,
            "GET",
            "/admin/logout",
            &format!(
                "{}Sec-Fetch-Site: same-origin\r\nSec-Fetch-Mode: {mode}\r\nSec-Fetch-Dest: {dest}\r\n",
                basic()
            ),
            "",
        )
        .await;
        assert_eq!(answer.status, 403, "{dest}: {}", answer.head);
    }
    let link = send(
        &addr,
        "GET",
        "/admin/logout",
        &format!(
            "{}Sec-Fetch-Site: same-origin\r\nSec-Fetch-Mode: navigate\r\nSec-Fetch-Dest: document\r\n",
            basic()
        ),
        "",
    )
    .await;
    assert_eq!(link.status, 401, "{}", link.head);
}
