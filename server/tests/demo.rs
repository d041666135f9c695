//! The demo clinic site (`consent serve --demo`): its pages and its stand-ins' hit log,
//! through the real router. The browser side is tests/e2e/run.mjs.

// Helpers outside #[test] functions, where clippy's in-test allowances do not reach.
#![allow(clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use consent_core::Config;
use consent_server::ServerKey;
use consent_server::api::{Settings, router};
use consent_server::store::sqlite::SqliteStore;
use serde_json::{Value, json};
use tower::ServiceExt as _;

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/demo");

fn config() -> Config {
    Config::from_json(consent_core::EXAMPLE_CONFIG).expect("valid")
}

fn demo() -> (tempfile::TempDir, Router) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(
        SqliteStore::open(
            dir.path().join("consent.db"),
            ServerKey::new(&[0x5a; 32]).expect("key").log_keys(),
        )
        .expect("open"),
    );
    let settings = Settings {
        config: Arc::new(config()),
        key: ServerKey::new(&[0x5a; 32]).expect("key"),
        origins: vec!["http://www.clinic.test:8080".into()],
        admin_token: None,
        secure_cookie: false,
        rate_limit: None,
        dist: None,
        demo: Some(DEMO.into()),
        demo_page_layer: true,
        trusted_proxies: Default::default(),
        head_file: None,
    };
    (dir, router(store, settings))
}

async fn send(
    router: &Router,
    method: &str,
    uri: &str,
    body: &str,
) -> (StatusCode, HeaderMap, String) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .extension(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 5555))))
        .body(Body::from(body.to_owned()))
        .expect("request");
    let response = router.clone().oneshot(req).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

const PAGES: [(&str, &str); 18] = [
    ("/", "fi"),
    ("/ajanvaraus", "fi"),
    ("/video", "fi"),
    ("/uutiskirje", "fi"),
    ("/tietosuoja", "fi"),
    ("/omat-tiedot", "fi"),
    ("/sv/", "sv"),
    ("/sv/tidsbokning", "sv"),
    ("/sv/video", "sv"),
    ("/sv/nyhetsbrev", "sv"),
    ("/sv/dataskydd", "sv"),
    ("/sv/mina-uppgifter", "sv"),
    ("/en/", "en"),
    ("/en/booking", "en"),
    ("/en/video", "en"),
    ("/en/newsletter", "en"),
    ("/en/privacy", "en"),
    ("/en/my-data", "en"),
];

#[tokio::test]
async fn every_page_in_every_language_reads_the_server_policy_under_a_strict_csp() {
    let (_dir, demo) = demo();
    for (path, lang) in PAGES {
        let (status, headers, html) = send(&demo, "GET", path, "").await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .is_ok_and(|t| t.starts_with("text/html")),
            "{path}"
        );
        let csp = headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("ascii");
        // The page layer's two inline scripts (Consent Mode's defaults, and the line that
        // applies the banner's stylesheet at the end of <body>) and its inlined critical CSS
        // are allowed by their own hashes, and nothing else inline is.
        let directive = |name: &str| {
            csp.split(';')
                .map(str::trim)
                .find(|d| d.starts_with(name))
                .unwrap_or_else(|| panic!("{path}: no {name} in {csp}"))
                .to_owned()
        };
        let scripts = directive("script-src ");
        assert!(
            scripts.starts_with("script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
            "{csp}"
        );
        assert_eq!(scripts.matches("'sha256-").count(), 2, "{csp}");
        assert_eq!(
            directive("style-src ").matches("'sha256-").count(),
            1,
            "{csp}"
        );
        assert_eq!(csp.matches("'sha256-").count(), 3, "{csp}");
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"),
            "{csp}"
        );
        assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{path}");
        // No config in the page: the banner loads the policy beside its script.
        assert!(!html.contains("consent-config"), "{path}");
        // The banner's script, held back by the page layer until after the first frame.
        assert!(
            html.contains(
                r#"<script type="text/plain" data-consent-js="/consent/consent.js"></script>"#
            ),
            "{path}"
        );
        assert!(!html.contains("{{"), "{path}: an unfilled slot");
        assert!(
            html.contains("data-consent-open"),
            "{path}: no way back to the settings"
        );
        // The booking pages handle health information: no marketing pixel there.
        let booking = ["/ajanvaraus", "/sv/tidsbokning", "/en/booking"].contains(&path);
        assert_eq!(
            html.contains(r#"data-service="facebook-pixel""#),
            !booking,
            "{path}"
        );
        // The pixel's image waits for consent like its script (C1 checks it in the browser).
        assert_eq!(
            html.contains(r#"data-service="facebook-pixel" data-src="/demo/pixel.svg"#),
            !booking,
            "{path}"
        );
        assert!(html.contains(r#"data-service="ga""#), "{path}");
    }
    let (status, _, policy) = send(&demo, "GET", "/consent/policy.bin", "").await;
    assert_eq!(status, StatusCode::OK);
    let compiled = consent_core::compile::compile(&config()).expect("compiles");
    assert_eq!(
        policy.as_bytes(),
        String::from_utf8_lossy(&compiled).as_bytes(),
        "the server's own config, compiled"
    );
    for file in ["/demo/ga.js", "/demo/pixel.svg"] {
        let (status, headers, _) = send(&demo, "GET", file, "").await;
        assert_eq!(status, StatusCode::OK, "{file}");
        assert!(
            headers.contains_key(header::CONTENT_SECURITY_POLICY),
            "{file}"
        );
    }
}

#[tokio::test]
async fn stand_in_hits_are_kept_per_page_view_and_bad_ones_refused() {
    let (_dir, demo) = demo();
    let hit = |tag: &str, pv: &str| {
        json!({"tag": tag, "page": "/", "pv": pv, "consent": {"analytics_storage": "granted"},
               "default_first": true, "cookies": ["_ga"]})
        .to_string()
    };
    for (tag, pv) in [("ga", "a1"), ("ads", "a1"), ("pixel", "b2")] {
        let (status, _, body) = send(&demo, "POST", "/demo/hit", &hit(tag, pv)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    let (_, _, body) = send(&demo, "GET", "/demo/hits?pv=a1", "").await;
    let hits: Value = serde_json::from_str(&body).expect("json");
    let tags: Vec<&str> = hits["hits"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|h| h["tag"].as_str())
        .collect();
    assert_eq!(tags, ["ga", "ads"]);

    let long = "x".repeat(300);
    for (bad, status, says) in [
        (
            hit("matomo", "a"),
            StatusCode::BAD_REQUEST,
            "unknown variant",
        ),
        ("{".to_owned(), StatusCode::BAD_REQUEST, "invalid hit"),
        (
            hit("ga", "a").replace("\"/\"", &format!("\"/{long}\"")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "page:",
        ),
        (hit("ga", &long), StatusCode::UNPROCESSABLE_ENTITY, "pv:"),
        (
            hit("ga", "a").replace("\"cookies\"", "\"ip\":\"10.0.0.7\",\"cookies\""),
            StatusCode::BAD_REQUEST,
            "unknown field",
        ),
    ] {
        let (got, _, body) = send(&demo, "POST", "/demo/hit", &bad).await;
        assert_eq!(got, status, "{bad}: {body}");
        assert!(body.contains(says), "{bad}: {body}");
    }
    let (_, _, body) = send(&demo, "GET", "/demo/hits", "").await;
    let all: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        all["hits"].as_array().map(Vec::len),
        Some(3),
        "bad hits were kept"
    );
}
