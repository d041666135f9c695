//! The page cache through a real axum router: a replayed page is the page rewritten for
//! that visitor and that response, never another visitor's, never with another response's
//! nonce; and the cache stays within its bound. Also the first layer's critical CSS and the
//! banner's stylesheet kept out of the way of the first paint.

#![allow(clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use base64::Engine as _;
use consent_core::Config;
use consent_core::policy::Action;
use consent_gate::{PageLayer, Pages};
use sha2::{Digest as _, Sha256};
use tower::ServiceExt as _;

mod common;

use common::{config, cookie, key};

const PAGE: &str = r#"<!doctype html>
<html lang="fi"><head><title>t</title>
<link rel="stylesheet" href="/consent/consent.css">
<script type="text/plain" data-category="analytics" data-service="ga" data-src="/ga.js" async></script>
<script type="text/plain" data-category="marketing" data-service="facebook-pixel" data-src="/px.js"></script>
<script type="text/plain" data-category="!marketing" data-src="/no-marketing.js"></script>
<script type="module" src="/consent/consent.js"></script>
</head><body><h1>Hei</h1>
<img data-category="marketing" data-service="facebook-pixel" data-src="/pixel.svg" alt="">
</body></html>"#;

/// The visitors: new, accepted, refused, accepted with GPC on.
fn visitors(config: &Config) -> Vec<Vec<(&'static str, String)>> {
    let accepted = cookie(config, Action::AcceptAll, Some(&key()));
    vec![
        vec![],
        vec![("cookie", accepted.clone())],
        vec![("cookie", cookie(config, Action::RejectAll, Some(&key())))],
        vec![("cookie", accepted), ("sec-gpc", "1".to_owned())],
    ]
}

/// The response headers of the pages: shared-cacheable with a strong ETag (`/etag`), or
/// with neither (`/plain`, keyed by its bytes), and a nonce that changes for every response
/// (`/nonce`).
fn app(pages: Arc<Pages>) -> Router {
    let counter = Arc::new(AtomicUsize::new(0));
    Router::new()
        .route(
            "/etag",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                        (header::CACHE_CONTROL, "public, max-age=60"),
                        (header::ETAG, "\"v1\""),
                    ],
                    PAGE,
                )
            }),
        )
        .route(
            "/plain",
            get(|| async { ([(header::CONTENT_TYPE, "text/html")], PAGE) }),
        )
        .route(
            "/nonce",
            get(move || {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                async move {
                    let csp = format!(
                        "script-src 'nonce-bm9uY2U{n}' 'strict-dynamic'; style-src 'self' 'nonce-bm9uY2U{n}'"
                    );
                    (
                        [
                            (header::CONTENT_TYPE, "text/html".to_owned()),
                            (header::CONTENT_SECURITY_POLICY, csp),
                        ],
                        PAGE,
                    )
                        .into_response()
                }
            }),
        )
        .route(
            "/p/{n}",
            get(|Path(n): Path<usize>| async move {
                let page = format!("{PAGE}<!-- {} -->", "x".repeat(n));
                ([(header::CONTENT_TYPE, "text/html")], page)
            }),
        )
        .layer(PageLayer::new(pages))
}

/// A page long enough to be replayed in several frames: runs of text longer than the cache
/// shares without copying, with gated scripts (which get the response's nonce) between them.
fn long_page() -> String {
    let para = "<p>Lemmikin hampaat kaipaavat hoitoa siinä missä omistajankin.</p>\n".repeat(100);
    let (head, body) = PAGE
        .split_once("<h1>Hei</h1>")
        .expect("the page has a heading");
    format!(
        "{head}<h1>Hei</h1>{para}\
         <script type=\"text/plain\" data-category=\"analytics\" data-src=\"/a2.js\"></script>\
         {para}<script>let x = 1;</script>\
         <iframe data-category=\"marketing\" data-src=\"/video\"></iframe>{para}{body}"
    )
}

/// The long page, plain (`/long`) and with a nonce that changes for every response
/// (`/long-nonce`, counting from `first_nonce`).
fn long_app(pages: Arc<Pages>, first_nonce: usize) -> Router {
    let counter = Arc::new(AtomicUsize::new(first_nonce));
    Router::new()
        .route(
            "/long",
            get(|| async { ([(header::CONTENT_TYPE, "text/html")], long_page()) }),
        )
        .route(
            "/long-nonce",
            get(move || {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                async move {
                    let csp = format!("script-src 'nonce-bG9uZw{n}'; style-src 'nonce-bG9uZw{n}'");
                    (
                        [
                            (header::CONTENT_TYPE, "text/html".to_owned()),
                            (header::CONTENT_SECURITY_POLICY, csp),
                        ],
                        long_page(),
                    )
                        .into_response()
                }
            }),
        )
        .layer(PageLayer::new(pages))
}

async fn get_page(app: &Router, path: &str, headers: &[(&str, String)]) -> (HeaderMap, String) {
    let mut req = Request::builder().uri(path);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let response = app
        .clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.expect("body");
    (
        parts.headers,
        String::from_utf8(bytes.to_vec()).expect("utf-8"),
    )
}

/// The page rewritten for `visitor` by a layer without a cache.
async fn uncached(path: &str, visitor: &[(&str, String)]) -> String {
    let pages = Arc::new(Pages::new(config(), Some(key())).with_cache_capacity(0));
    get_page(&app(pages), path, visitor).await.1
}

#[tokio::test]
async fn visitors_never_get_each_others_page_even_with_one_etag() {
    let config = config();
    let visitors = visitors(&config);
    let pages = Arc::new(Pages::new(config, Some(key())));
    let app = app(Arc::clone(&pages));
    for path in ["/etag", "/plain", "/plain?utm=x"] {
        let mut expected = Vec::new();
        for v in &visitors {
            expected.push(uncached(path, v).await);
        }
        // The four pages differ: a mix-up could not go unseen.
        for (i, a) in expected.iter().enumerate() {
            for b in &expected[i + 1..] {
                assert_ne!(a, b, "{path}");
            }
        }
        // Interleaved, three rounds: the first records, the others replay.
        for round in 0..3 {
            for (i, v) in visitors.iter().enumerate() {
                let (_, got) = get_page(&app, path, v).await;
                assert_eq!(got, expected[i], "{path}, visitor {i}, round {round}");
            }
        }
    }
    assert!(pages.cache().hits() >= 24, "{:?}", pages.cache());
}

#[tokio::test]
async fn a_long_page_replayed_in_frames_is_the_page_rewritten() {
    let config = config();
    let visitors = visitors(&config);
    let pages = Arc::new(Pages::new(config, Some(key())));
    let app = long_app(Arc::clone(&pages), 0);
    let uncached_app = long_app(
        Arc::new(Pages::new(crate::config(), Some(key())).with_cache_capacity(0)),
        1000,
    );
    assert!(
        long_page().len() > 3 * 4096,
        "longer than the runs shared whole"
    );
    // Two URLs of one page: the first layer's form returns to each its own.
    for path in ["/long", "/long?from=mail", "/long-nonce"] {
        for round in 0..3 {
            for (i, v) in visitors.iter().enumerate() {
                let (headers, got) = get_page(&app, path, v).await;
                let (want_headers, mut want) = get_page(&uncached_app, path, v).await;
                if path == "/long-nonce" {
                    // Each response its own nonce: the uncached one's, replaced by ours.
                    let nonce = |h: &HeaderMap| {
                        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().expect("text");
                        let (_, rest) = csp.split_once("'nonce-").expect("a nonce");
                        rest.split_once('\'').expect("a nonce").0.to_owned()
                    };
                    let (ours, theirs) = (nonce(&headers), nonce(&want_headers));
                    assert_ne!(ours, theirs);
                    assert!(got.contains(&format!("nonce=\"{ours}\"")), "{got}");
                    want = want.replace(&theirs, &ours);
                }
                assert_eq!(got, want, "{path}, visitor {i}, round {round}");
                assert_eq!(
                    got.contains("data-consent-nojs"),
                    i == 0,
                    "the first layer for the new visitor only"
                );
            }
        }
    }
    // Recorded once per page and visitor (the query is not part of the key), then replayed.
    let cache = pages.cache();
    assert_eq!((cache.misses(), cache.hits()), (8, 28), "{cache:?}");
}

#[tokio::test]
async fn each_response_carries_its_own_nonce() {
    let config = config();
    let visitors = visitors(&config);
    let pages = Arc::new(Pages::new(config, Some(key())));
    let app = app(Arc::clone(&pages));
    for (i, v) in visitors.iter().enumerate().take(2) {
        for _ in 0..3 {
            let (headers, body) = get_page(&app, "/nonce", v).await;
            let csp = headers[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .expect("text");
            let nonce = csp
                .split_once("'nonce-")
                .and_then(|(_, r)| r.split_once('\''))
                .map(|(n, _)| n)
                .expect("a nonce");
            let ours = format!("nonce=\"{nonce}\"");
            let all = body.matches("nonce=\"").count();
            assert_eq!(body.matches(&ours).count(), all, "visitor {i}: {body}");
            // Consent Mode's script and the one that applies the banner's stylesheet; for
            // the new visitor the critical CSS, for the returning one the two scripts made
            // live.
            assert_eq!(all, if i == 0 { 3 } else { 4 }, "visitor {i}: {body}");
            if i == 0 {
                assert!(body.contains(&format!("<style {ours}>")), "{body}");
            }
        }
    }
    assert!(pages.cache().hits() >= 4, "{:?}", pages.cache());
}

#[tokio::test]
async fn the_cache_stays_within_its_bound() {
    let pages = Arc::new(Pages::new(config(), Some(key())).with_cache_capacity(64 * 1024));
    let app = app(Arc::clone(&pages));
    for n in 0..100 {
        get_page(&app, &format!("/p/{n}"), &[]).await;
        let cache = pages.cache();
        assert!(cache.bytes() <= cache.capacity(), "{cache:?} after {n}");
    }
    let len = pages.cache().len();
    assert!(len > 1 && len < 100, "{:?}", pages.cache());
    // The latest page is still there: asked again, it is replayed.
    let hits = pages.cache().hits();
    get_page(&app, "/p/99", &[]).await;
    assert_eq!(pages.cache().hits(), hits + 1);
    // Asked for the first again, it had gone: recorded anew.
    get_page(&app, "/p/0", &[]).await;
    assert_eq!(pages.cache().hits(), hits + 1);
}

#[tokio::test]
async fn the_first_layer_paints_without_waiting_for_the_stylesheet() {
    let config = config();
    let visitors = visitors(&config);
    let pages = Arc::new(Pages::new(config, Some(key())));
    let app = app(pages);
    let preload = r#"<link href="/consent/consent.css" data-consent-css="">"#;
    // The script at the end of <body> applies the stylesheet and puts back the banner's
    // module, held back inert meanwhile just before it (its own tag names it).
    let apply = "<script data-consent-src=\"/consent/consent.js\">{const me=document.currentScript,\
        src=me?.dataset.consentSrc,go=()=>{for(const l of document.querySelectorAll('link[data-consent-css]'))l.rel='stylesheet';";
    let module = r#"<script type="text/plain" data-consent-js="/consent/consent.js"></script>"#;
    // A new visitor: the banner's stylesheet link stays in <head> but inert, holding back
    // no paint, with the critical CSS in front of it (so that in the cascade the whole
    // stylesheet, once applied, comes after it and decides); at the end of <body>, the
    // first layer, and the script that applies the stylesheet.
    let (headers, body) = get_page(&app, "/plain", &visitors[0]).await;
    let head = &body[..body.find("<body>").expect("body")];
    let style = head
        .find("<style>.consent-root{")
        .expect("critical CSS in <head>");
    let link = head.find(preload).expect("the preload");
    assert!(style < link, "{head}");
    assert_eq!(head[style..link].matches("</style>").count(), 1, "{head}");
    assert!(head[style..link].trim_end().ends_with("</style>"), "{head}");
    assert_eq!(body.matches("<style").count(), 1, "{body}");
    assert!(!body.contains("rel=\"stylesheet\""), "{body}");
    let layer = body.find("data-consent-nojs").expect("first layer");
    let script = body
        .find(apply)
        .expect("the script applying the stylesheet");
    assert!(body[script..].contains("requestAnimationFrame"), "{body}");
    let held = body.find(module).expect("the banner's module, held back");
    assert_eq!(held + module.len(), script, "{body}");
    assert!(!body.contains("type=\"module\""), "{body}");
    // After the page's own end tags, which a browser parses into the body.
    let end = body.find("</body></html>").expect("the page's end");
    assert!(style < end && end < layer && layer < script, "{body}");
    assert!(body.ends_with("</script>"), "{body}");
    assert!(headers.get(header::CONTENT_SECURITY_POLICY).is_none());
    // A returning visitor: no CSS inlined, the stylesheet applied by the same script.
    let (_, body) = get_page(&app, "/plain", &visitors[1]).await;
    assert!(!body.contains("<style"), "{body}");
    assert!(
        body.contains(preload) && body.contains(apply) && body.contains(module),
        "{body}"
    );
}

#[test]
fn only_the_banners_own_module_script_is_held_back() {
    let pages = Arc::new(Pages::new(config(), Some(key())));
    let rewrite = |page: &str| {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, "text/html".parse().expect("value"));
        let out = consent_gate::rewrite(
            &pages,
            &axum::http::HeaderMap::new(),
            "/",
            axum::http::StatusCode::OK,
            &mut headers,
            page.as_bytes(),
        )
        .expect("rewritten");
        String::from_utf8(out).expect("UTF-8")
    };
    // Held back, with its other attributes, wherever the banner is served from.
    for src in [
        "/consent/consent.js",
        "consent.js",
        "https://cdn.example/c/consent.js?v=2",
    ] {
        let out = rewrite(&format!(
            r#"<html><head><script type="module" src="{src}" data-layout="bar"></script></head><body></body></html>"#
        ));
        assert!(
            out.contains(&format!(
                r#"<script type="text/plain" data-layout="bar" data-consent-js="{src}"></script>"#
            )),
            "{out}"
        );
        assert!(out.contains("requestAnimationFrame"), "{out}");
    }
    // Left alone: another module, a classic script of that name, and a banner the site
    // starts itself (`data-manual`).
    for page in [
        r#"<html><head><script type="module" src="/app.js"></script></head><body></body></html>"#,
        r#"<html><head><script src="/consent/consent.js"></script></head><body></body></html>"#,
        r#"<html><head><script type="module" src="/consent/consent.js" data-manual></script></head><body></body></html>"#,
    ] {
        let out = rewrite(page);
        assert!(!out.contains("data-consent-js"), "{out}");
        let tag = &page[page.find("<script").expect("a script")..];
        let tag = &tag[..=tag.find('>').expect("its end")];
        assert!(out.contains(tag), "{tag} kept:\n{out}");
    }
}

#[tokio::test]
async fn a_strict_policy_lets_in_the_critical_css_by_its_hash() {
    let pages = Arc::new(Pages::new(config(), Some(key())));
    let app = Router::new()
        .route(
            "/",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/html"),
                        (
                            header::CONTENT_SECURITY_POLICY,
                            "default-src 'self'; script-src 'self'",
                        ),
                    ],
                    PAGE,
                )
            }),
        )
        .layer(PageLayer::new(pages));
    let (headers, body) = get_page(&app, "/", &[]).await;
    let css = body
        .split_once("<style>")
        .and_then(|(_, r)| r.split_once("</style>"))
        .map(|(s, _)| s)
        .expect("the critical CSS");
    let script = body
        .split_once(">{const me=")
        .and_then(|(_, r)| r.split_once("</script>"))
        .map(|(s, _)| format!("{{const me={s}"))
        .expect("the script applying the stylesheet");
    let hash = |text: &str| {
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
    };
    let csp = headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("text");
    assert!(
        csp.ends_with(&format!("; style-src 'self' 'sha256-{}'", hash(css))),
        "{csp}"
    );
    assert!(
        csp.contains(&format!(
            "script-src 'self' 'sha256-{}' 'sha256-",
            hash(&script)
        )) || csp.contains(&format!("' 'sha256-{}'", hash(&script))),
        "{csp}"
    );
}

mod arbitrary_pages {
    use super::*;
    use proptest::prelude::*;

    use crate::common::html::page;

    fn request(visitor: &[(&'static str, String)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in visitor {
            h.append(*k, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    fn response(nonce: usize) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
        let csp = format!("script-src 'nonce-n{nonce}'; style-src 'nonce-n{nonce}'");
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&csp).expect("header"),
        );
        h
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Any page, any visitor: the page replayed from the cache (and the one recorded)
        /// is the page rewritten without it, with each response's own nonce.
        #[test]
        fn a_replayed_page_is_the_page_rewritten(body in page(), visitor in 0usize..4) {
            let config = config();
            let v = request(&visitors(&config)[visitor]);
            let cached = Arc::new(Pages::new(config.clone(), Some(key())));
            let plain = Arc::new(Pages::new(config, Some(key())).with_cache_capacity(0));
            for n in 0..3 {
                let got = consent_gate::rewrite(&cached, &v, "/a?b", StatusCode::OK, &mut response(n), &body);
                let want = consent_gate::rewrite(&plain, &v, "/a?b", StatusCode::OK, &mut response(n), &body);
                prop_assert_eq!(got, want);
            }
        }
    }
}

#[tokio::test]
async fn a_page_read_ahead_ends_in_its_body_s_error() {
    let pages = Arc::new(Pages::new(config(), Some(key())));
    // A body that says it is half the page long, then fails on the page's bytes.
    let server = tower::service_fn(|_: Request<()>| async {
        let page = http_body_util::Full::new(bytes::Bytes::from_static(PAGE.as_bytes()));
        let body = http_body_util::Limited::new(page, PAGE.len() / 2);
        let mut response = axum::http::Response::new(body);
        let html = HeaderValue::from_static("text/html");
        response.headers_mut().insert(header::CONTENT_TYPE, html);
        Ok::<_, std::convert::Infallible>(response)
    });
    let app = tower::Layer::layer(&PageLayer::new(pages), server);
    let response = app.oneshot(Request::new(())).await.expect("infallible");
    let body = http_body_util::BodyExt::collect(response.into_body()).await;
    let error = body.expect_err("the inner body's error, not a page");
    assert_eq!(error.to_string(), "length limit exceeded");
}
