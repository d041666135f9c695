//! The playground's routes (`/playground/`): the repository's directory served as a static
//! host would, under its strict Content-Security-Policy. The page itself is tested in
//! Chromium by tests/e2e/playground.mjs.

// Helpers outside #[test] functions, where clippy's in-test allowances do not reach.
#![allow(clippy::expect_used)]

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use tower::ServiceExt as _;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../playground");

async fn get(uri: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    let router = consent_server::playground::router(DIR.into());
    let req = Request::get(uri).body(Body::empty()).expect("request");
    let response = router.oneshot(req).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
        .await
        .expect("body");
    (status, headers, bytes.to_vec())
}

#[tokio::test]
async fn the_page_and_its_files_are_served_under_the_strict_policy() {
    let (status, headers, body) = get("/playground/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[header::CONTENT_SECURITY_POLICY],
        consent_server::playground::CSP
    );
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(
        !headers.contains_key(header::X_FRAME_OPTIONS),
        "the preview is a frame of its own"
    );
    assert!(String::from_utf8_lossy(&body).contains("playground.js"));
    let csp = consent_server::playground::CSP;
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"),
        "{csp}"
    );
    for (file, kind) in [
        ("/playground/playground.js", "text/javascript"),
        ("/playground/preview/sw.js", "text/javascript"),
        (
            "/playground/build/consent_build_bg.wasm",
            "application/wasm",
        ),
        ("/playground/banner/consent_bg.wasm", "application/wasm"),
        ("/playground/preview/frame.html", "text/html"),
    ] {
        let (status, headers, _) = get(file).await;
        assert_eq!(status, StatusCode::OK, "{file}");
        let got = headers[header::CONTENT_TYPE].to_str().unwrap_or_default();
        assert!(got.starts_with(kind), "{file}: {got}");
    }
}

#[tokio::test]
async fn without_its_slash_the_page_is_redirected() {
    let (status, headers, _) = get("/playground").await;
    assert_eq!(status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(headers[header::LOCATION], "/playground/");
    let (status, _, _) = get("/playground/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
