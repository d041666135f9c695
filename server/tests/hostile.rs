//! `consent serve` against a hostile or careless client, on a real socket and a real SQLite
//! file: what it answers a request that no browser of the site's visitors would make the
//! way it is made here (stray cookies first, odd paths, no credentials where staff would
//! log in), each a test of a defect found that way.

// Helpers outside #[test] functions, where clippy's in-test allowances do not reach.
#![allow(clippy::expect_used, clippy::panic)]

mod support;

use support::raw::send;

use std::path::Path;

use tokio::process::Child;

const ORIGIN: &str = "https://klinikka.fi";
const ADMIN: &str = "hostile-admin-token";

async fn start(dir: &Path) -> (Child, String) {
    support::serve::start(dir, &["--origin", ORIGIN, "--admin-token", ADMIN]).await
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
