//! `consent scan` in real headless Chromium: against a deliberately bad page on 127.0.0.1
//! (tracking before consent, an undeclared cookie, a cookie that survives withdrawal), against
//! bad addresses, and against the demo site, which must come out clean.

#![cfg(feature = "scan")]
// Helpers outside #[test] functions, where clippy's in-test allowances do not reach.
#![allow(clippy::expect_used)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use consent_core::Config;
use consent_server::scan::{self, FindingKind, Options, Pass, Report};

const CONFIG: &str = r#"{
  "revision": 1, "privacy_notice": "/privacy", "languages": ["en"],
  "categories": [
    {"id": "necessary"},
    {"id": "analytics", "services": [{
      "id": "ga", "name": "Google Analytics", "provider": "Google Ireland Ltd",
      "purpose": {"en": "Statistics"}, "hosts": ["localhost"],
      "cookies": [{"name": "_ga", "lifetime": "13mo", "description": {"en": "Visitor id"}}]
    }]}
  ]
}"#;

/// A page that does everything wrong: a tracking cookie and a request to the analytics host
/// before any decision, a second such cookie one link away, and "Reject all" and the settings
/// control that delete nothing.
fn bad_site(port: u16) -> Router {
    let page = format!(
        r#"<!doctype html><html lang="en"><head><title>Bad clinic</title></head><body>
<script>document.cookie = "_tracker=1; max-age=86400; path=/";</script>
<img src="http://localhost:{port}/pixel.gif" alt="">
<button type="button" onclick="document.cookie='_ga=GA1.1.42; max-age=31536000; path=/'">Accept all</button>
<button type="button">Reject all</button>
<button type="button" data-consent-open>Cookie settings</button>
<a href="/second">Second page</a> <a href="https://elsewhere.invalid/">Elsewhere</a>
</body></html>"#
    );
    let second = r#"<!doctype html><html><body><script>document.cookie = "_second=1; path=/";</script><a href="/">Home</a></body></html>"#;
    Router::new()
        .route("/", get(move || async move { Html(page) }))
        .route("/second", get(move || async move { Html(second) }))
        .route("/pixel.gif", get(|| async { ([(header::CONTENT_TYPE, "image/gif")], "GIF89a") }))
        .route("/robots.txt", get(|| async { "User-agent: *\nDisallow: /private\n" }))
        .route("/loop", get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/loop")]) }))
        .route(
            "/hang",
            get(|| async {
                // Never answers within the scan's page timeout.
                tokio::time::sleep(Duration::from_secs(3600)).await;
                "late"
            }),
        )
        .route(
            "/many",
            get(|| async {
                Html("<script>for (let i = 0; i < 3000; i++) document.cookie = 'c' + i + '=1; path=/';</script>".into_response())
            }),
        )
}

async fn serve(router: impl FnOnce(u16) -> Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = router(addr.port());
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    addr
}

fn options() -> Options {
    Options {
        max_pages: 3,
        page_timeout: Duration::from_secs(5),
        total_timeout: Duration::from_secs(120),
        ..Options::default()
    }
}

fn has(report: &Report, kind: FindingKind, subject: &str) -> bool {
    report
        .findings
        .iter()
        .any(|f| f.kind == kind && f.subject.starts_with(subject))
}

#[tokio::test(flavor = "multi_thread")]
async fn finds_everything_wrong_with_a_bad_page() {
    let addr = serve(bad_site).await;
    let config = Config::from_json(CONFIG).expect("valid");
    let url = format!("http://{addr}/");
    let report = scan::scan(&config, &url, &options(), &|_| {})
        .await
        .expect("scanned");
    let table = report.to_table();
    assert!(
        has(&report, FindingKind::BeforeConsent, "cookie _tracker "),
        "{table}"
    );
    assert!(
        has(&report, FindingKind::BeforeConsent, "cookie _second "),
        "the crawl reached /second: {table}"
    );
    assert!(
        has(&report, FindingKind::BeforeConsent, "host localhost"),
        "{table}"
    );
    assert!(
        has(&report, FindingKind::AfterRefusal, "cookie _tracker "),
        "{table}"
    );
    assert!(
        has(&report, FindingKind::SurvivesWithdrawal, "cookie _ga "),
        "{table}"
    );
    assert!(
        has(&report, FindingKind::UndeclaredCookie, "cookie _tracker "),
        "{table}"
    );
    // _ga is declared, and only set after "Accept all": no finding but its survival.
    assert!(
        !has(&report, FindingKind::BeforeConsent, "cookie _ga "),
        "{table}"
    );
    assert!(
        !has(&report, FindingKind::UndeclaredCookie, "cookie _ga "),
        "{table}"
    );
    assert!(
        !has(&report, FindingKind::UndeclaredHost, "host localhost"),
        "{table}"
    );
    let accept = report
        .passes
        .iter()
        .find(|p| p.pass == Pass::AcceptAll)
        .expect("pass");
    assert!(
        accept
            .cookies
            .iter()
            .any(|c| c.name == "_ga" && c.declared.is_some())
    );
    assert!(
        accept.pages.iter().all(|p| p.starts_with(&url)),
        "same origin only: {:?}",
        accept.pages
    );
    let patch = report.patch();
    assert!(
        patch["cookies"].as_array().is_some_and(|c| c
            .iter()
            .any(|c| c["name"] == "_tracker" && c["lifetime"] == "1d")),
        "{patch}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn keeps_to_its_bounds_on_a_page_with_thousands_of_cookies() {
    let addr = serve(bad_site).await;
    let config = Config::from_json(CONFIG).expect("valid");
    let options = Options {
        max_cookies: 50,
        max_pages: 1,
        ..options()
    };
    let report = scan::scan(&config, &format!("http://{addr}/many"), &options, &|_| {})
        .await
        .expect("scanned");
    let first = &report.passes[0];
    assert_eq!(first.cookies.len(), 50);
    assert!(
        first.not_kept > 0,
        "Chromium kept more than 50, the rest are counted"
    );
}

fn consent() -> tokio::process::Command {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_consent"));
    c.kill_on_drop(true);
    c
}

/// The exit code, stdout and stderr together, and stdout alone.
async fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = consent().args(args).output().await.expect("run consent");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let text = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text, stdout)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_command_explains_bad_addresses_and_fails_on_findings() {
    let addr = serve(bad_site).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("site.json");
    std::fs::write(&config, CONFIG).expect("write");
    let config = config.to_str().expect("utf-8");
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let cases: [(&str, Option<i32>, &str); 4] = [
        (
            "ftp://example.com/",
            Some(2),
            "expected an http:// or https:// address",
        ),
        (
            &format!("http://{closed}/"),
            Some(3),
            "net::ERR_CONNECTION_REFUSED (nothing listens there)",
        ),
        (
            &format!("http://{addr}/loop"),
            Some(3),
            "net::ERR_TOO_MANY_REDIRECTS (a redirect loop)",
        ),
        (
            &format!("http://{addr}/hang"),
            Some(3),
            "did not load within 2 s",
        ),
    ];
    for (url, code, message) in cases {
        let (got, text, _) = run(&["scan", "--config", config, "--page-timeout", "2", url]).await;
        assert_eq!(got, code, "{url}: {text}");
        assert!(text.contains(message), "{url}: {text}");
    }
    let url = format!("http://{addr}/");
    let (code, text, _) = run(&["scan", "--config", config, "--max-pages", "2", &url]).await;
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("before_consent") && text.contains("_tracker"),
        "{text}"
    );
    // The browser's protocol library says nothing of its own: a scan prints its report.
    assert!(!text.contains("chromiumoxide"), "{text}");
    let (code, text, stdout) = run(&[
        "scan",
        "--config",
        config,
        "--format",
        "json",
        "--max-pages",
        "1",
        &url,
    ])
    .await;
    assert_eq!(code, Some(1), "{text}");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert!(json["findings"].as_array().is_some_and(|f| !f.is_empty()));
    let (code, text, stdout) = run(&[
        "scan",
        "--config",
        config,
        "--format",
        "patch",
        "--max-pages",
        "1",
        &url,
    ])
    .await;
    assert_eq!(code, Some(1), "{text}");
    let patch: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(patch["cookies"][0]["name"], "_tracker", "{patch}");
}

/// The demo site, with its banner, must come out clean. `CONSENT_TEST_DIST` points at
/// another build of the banner than `wasm/dist`.
#[tokio::test(flavor = "multi_thread")]
async fn the_demo_site_is_clean() {
    use consent_server::ServerKey;
    use consent_server::api::{Settings, router};
    use consent_server::store::sqlite::SqliteStore;
    let dir = tempfile::tempdir().expect("tempdir");
    let key = ServerKey::new(&[7; 32]).expect("key");
    let store =
        Arc::new(SqliteStore::open(dir.path().join("consent.db"), key.log_keys()).expect("open"));
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dist = std::env::var_os("CONSENT_TEST_DIST")
        .map_or_else(|| manifest.join("../wasm/dist"), PathBuf::from);
    let config = Config::from_json(consent_core::EXAMPLE_CONFIG).expect("valid");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let settings = Settings {
        config: Arc::new(config.clone()),
        key,
        origins: vec![format!("http://{addr}")],
        admin_token: None,
        secure_cookie: false,
        rate_limit: None,
        dist: Some(dist),
        demo: Some(manifest.join("../examples/demo")),
        demo_page_layer: true,
        trusted_proxies: Default::default(),
        head_file: None,
    };
    let app = router(store, settings);
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    let report = scan::scan(&config, &format!("http://{addr}/"), &options(), &|_| {})
        .await
        .expect("scanned");
    let table = report.to_table();
    assert!(report.findings.is_empty(), "{table}");
    // Not clean by doing nothing: the banner was there and "Accept all" set the trackers.
    let accept = report
        .passes
        .iter()
        .find(|p| p.pass == Pass::AcceptAll)
        .expect("pass");
    assert!(
        !accept.notes.iter().any(|n| n.contains("button")),
        "{table}"
    );
    assert!(accept.cookies.iter().any(|c| c.name == "_ga"), "{table}");
}
