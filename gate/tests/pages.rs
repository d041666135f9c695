//! The HTML layer through a real axum router: every kind of visitor, and every response
//! that must pass through untouched.

#![allow(clippy::expect_used)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use base64::Engine as _;
use consent_core::policy::Action;
use consent_core::{Config, SigningKey};
use consent_gate::{Consent, PageLayer, Pages, Untouched};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use tower::ServiceExt as _;

mod common;

use common::{cookie, cookie_at, key};

const PAGE: &str = r#"<!doctype html>
<html lang="sv"><head><title>t</title>
<script type="text/plain" data-category="analytics" data-service="ga" data-src="/ga.js" async></script>
<script type="text/plain" data-category="analytics" data-type="module">inline()</script>
<script type="text/plain" data-category="marketing" data-service="facebook-pixel" data-src="/px.js"></script>
<script type="text/plain" data-category="!marketing" data-src="/no-marketing.js"></script>
<script src="/app.js"></script>
</head><body><h1>Hej</h1>
<iframe data-category="marketing" data-service="google-ads" data-src="https://www.youtube-nocookie.com/embed/x"></iframe>
<img data-category="marketing" data-service="facebook-pixel" data-src="/pixel.svg" alt="">
<img data-category="analytics" src="/plain.svg" alt="">
</body></html>"#;

const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'";

fn config_json(consent_mode: bool, revision: u32) -> String {
    consent_core::EXAMPLE_CONFIG
        .replacen("\"revision\": 1,", &format!("\"revision\": {revision},"), 1)
        .replacen(
            "\"consent_mode\": {\"enabled\": true",
            &format!("\"consent_mode\": {{\"enabled\": {consent_mode}"),
            1,
        )
}

fn config() -> Config {
    Config::from_json(&config_json(true, 1)).expect("valid")
}

fn app(config: Config, key: Option<SigningKey>) -> Router {
    let pages = Arc::new(Pages::new(config, key));
    let page = |ct: &'static str, body: &'static str| {
        move || async move {
            (
                [
                    (header::CONTENT_TYPE, ct),
                    (header::CONTENT_SECURITY_POLICY, CSP),
                    (header::CACHE_CONTROL, "public, max-age=60"),
                    (header::ETAG, "\"v1\""),
                ],
                body,
            )
                .into_response()
        }
    };
    Router::new()
        .route("/", get(page("text/html; charset=utf-8", PAGE)))
        .route("/ajanvaraus", get(page("text/html", PAGE)))
        // A nested router: the layer around the whole app judges the path the browser shows.
        .nest(
            "/en",
            Router::new().route("/booking", get(page("text/html", PAGE))),
        )
        .route("/data.json", get(page("application/json", PAGE)))
        .route(
            "/gzipped",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/html"),
                        (header::CONTENT_ENCODING, "gzip"),
                    ],
                    PAGE,
                )
                    .into_response()
            }),
        )
        // A page to save (an export): the site's file as it wrote it.
        .route(
            "/export",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/html"),
                        (
                            header::CONTENT_DISPOSITION,
                            "Attachment; filename=\"report.html\"",
                        ),
                    ],
                    PAGE,
                )
                    .into_response()
            }),
        )
        // Two types, which browsers and the layer could read differently.
        .route(
            "/two-types",
            get(|| async {
                let mut r = ([(header::CONTENT_TYPE, "text/html")], PAGE).into_response();
                r.headers_mut()
                    .append(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
                r
            }),
        )
        .route(
            "/untouched",
            get(|| async {
                let mut r = ([(header::CONTENT_TYPE, "text/html")], PAGE).into_response();
                r.extensions_mut().insert(Untouched);
                r
            }),
        )
        .route(
            "/nonce",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/html"),
                        (
                            header::CONTENT_SECURITY_POLICY,
                            "script-src 'nonce-Zm9v' 'strict-dynamic'",
                        ),
                    ],
                    PAGE,
                )
                    .into_response()
            }),
        )
        .route(
            "/collect",
            get(|Consent(v): Consent| async move { format!("{:?}", v.status()) }),
        )
        .layer(PageLayer::new(pages))
}

struct Got {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn get_page(app: &Router, path: &str, headers: &[(&str, &str)]) -> Got {
    let mut req = Request::builder().uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let response: Response<_> = app
        .clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(Body::new(body), 1 << 20)
        .await
        .expect("body");
    Got {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8(bytes.to_vec()).expect("utf-8"),
    }
}

/// Whether the page has the live script (or element) that `inert` stands for.
fn live(body: &str, src: &str) -> bool {
    body.contains(&format!(" src=\"{src}\"")) && !body.contains(&format!("data-src=\"{src}\""))
}

const FIRST_LAYER: &str = "data-consent-nojs";

#[tokio::test]
async fn a_first_visit_gets_the_first_layer_and_nothing_gated() {
    let app = app(config(), Some(key()));
    let got = get_page(&app, "/?from=ad", &[]).await;
    assert_eq!(got.status, StatusCode::OK);
    for src in ["/ga.js", "/px.js", "/no-marketing.js", "/pixel.svg"] {
        assert!(
            !live(&got.body, src),
            "{src} must stay inert:\n{}",
            got.body
        );
    }
    assert!(got.body.contains(r#"<script type="text/plain" data-category="analytics" data-type="module">inline()</script>"#));
    // The first layer, in the page's language, at the end of the page (a browser parses it
    // into the body), returning to this page.
    let at = got.body.find(FIRST_LAYER).expect("the first layer");
    assert!(at > got.body.find("</body>").expect("body end"));
    assert!(
        got.body.contains("Godkänn alla"),
        "in Swedish, as <html lang>"
    );
    assert!(got.body.contains(r#"name="return_to" value="/?from=ad""#));
    // Consent Mode's default (everything denied) before any script, and no update.
    let mode = got.body.find("data-consent-mode").expect("Consent Mode");
    assert!(mode < got.body.find("<script type=").expect("a script"));
    assert!(
        got.body
            .contains("gtag('consent','default',{\"ad_storage\":\"denied\"")
    );
    assert!(!got.body.contains("'update'"));
    // One visitor's page: never from a shared cache; no validators of the original.
    assert_eq!(got.headers[header::CACHE_CONTROL], "private, max-age=60");
    assert_eq!(
        got.headers[header::VARY],
        "Cookie, Sec-GPC, DNT, Sec-Fetch-Dest"
    );
    assert!(got.headers.get(header::ETAG).is_none());
    // The original's length is gone; the page read ahead is sent with its own.
    if let Some(len) = got.headers.get(header::CONTENT_LENGTH) {
        assert_eq!(len, got.body.len().to_string().as_str());
    }
}

#[tokio::test]
async fn an_accepted_decision_makes_the_page_live_as_sent() {
    let config = config();
    let accepted = cookie(&config, Action::AcceptAll, Some(&key()));
    let app = app(config, Some(key()));
    let got = get_page(&app, "/", &[("cookie", &accepted)]).await;
    assert!(
        !got.body.contains(FIRST_LAYER),
        "no first layer after a decision"
    );
    assert!(
        got.body
            .contains(r#"<script data-category="analytics" data-service="ga" async src="/ga.js">"#),
        "{}",
        got.body
    );
    assert!(
        got.body
            .contains(r#"<script type="module" data-category="analytics">inline()</script>"#),
        "{}",
        got.body
    );
    for src in [
        "/px.js",
        "/pixel.svg",
        "https://www.youtube-nocookie.com/embed/x",
    ] {
        assert!(live(&got.body, src), "{src} allowed:\n{}", got.body);
    }
    assert!(
        !live(&got.body, "/no-marketing.js"),
        "!marketing waits while marketing is allowed"
    );
    assert!(
        got.body
            .contains("gtag('consent','update',{\"ad_storage\":\"granted\"")
    );
    // The inline script runs under the strict CSP: its exact hash was added, nothing else.
    let script = got
        .body
        .split_once("<script data-consent-mode>")
        .and_then(|(_, r)| r.split_once("</script>"))
        .map(|(s, _)| s)
        .expect("the script");
    let hash =
        |s: &str| base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s.as_bytes()));
    // And the script that loads the banner's stylesheet and module (if the page links them;
    // this one does not, and the hash lets in only that script's text: the one the layer
    // writes at the end of a page that does).
    let apply = end_script(&self::config());
    assert_eq!(
        got.headers[header::CONTENT_SECURITY_POLICY],
        format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'sha256-{}' 'sha256-{}'; object-src 'none'",
            hash(script),
            hash(&apply)
        )
        .as_str()
    );
}

/// The script the layer writes at the end of a page that loads the banner.
fn end_script(config: &Config) -> String {
    let pages = Arc::new(Pages::new(config.clone(), None));
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    let page = br#"<html><head><link rel="stylesheet" href="/consent/consent.css">
<script type="module" src="/consent/consent.js"></script></head><body></body></html>"#;
    let out = consent_gate::rewrite(
        &pages,
        &axum::http::HeaderMap::new(),
        "/",
        StatusCode::OK,
        &mut headers,
        page,
    )
    .expect("rewritten");
    let out = String::from_utf8(out).expect("UTF-8");
    let before = out.strip_suffix("</script>").expect("a script at the end");
    let (_, script) = before
        .rsplit_once("<script data-consent-src=\"/consent/consent.js\">")
        .expect("its start, naming the module held back");
    assert!(
        script.contains("data-consent-css") && script.contains("data-consent-js"),
        "{script}"
    );
    script.to_owned()
}

#[tokio::test]
async fn scripts_made_live_carry_the_responses_nonce() {
    let config = config();
    let accepted = cookie(&config, Action::AcceptAll, Some(&key()));
    let app = app(config, Some(key()));
    let got = get_page(&app, "/nonce", &[("cookie", &accepted)]).await;
    assert!(
        got.body.contains(r#"src="/ga.js" nonce="Zm9v""#),
        "{}",
        got.body
    );
    assert!(
        got.body
            .contains(r#"<script data-consent-mode nonce="Zm9v">"#)
    );
    assert_eq!(
        got.headers[header::CONTENT_SECURITY_POLICY],
        "script-src 'nonce-Zm9v' 'strict-dynamic'",
        "a nonce needs no hash"
    );
}

#[tokio::test]
async fn a_refusal_keeps_everything_inert_but_its_negation() {
    let config = config();
    let refused = cookie(&config, Action::RejectAll, Some(&key()));
    let app = app(config, Some(key()));
    let got = get_page(&app, "/", &[("cookie", &refused)]).await;
    assert!(!got.body.contains(FIRST_LAYER));
    for src in ["/ga.js", "/px.js", "/pixel.svg"] {
        assert!(!live(&got.body, src), "{src} refused");
    }
    assert!(
        live(&got.body, "/no-marketing.js"),
        "!marketing runs once marketing is refused"
    );
    assert!(
        got.body
            .contains("gtag('consent','update',{\"ad_storage\":\"denied\"")
    );
}

#[tokio::test]
async fn gpc_and_page_exclusions_hold_as_in_the_banner() {
    let config = config();
    let accepted = cookie(&config, Action::AcceptAll, Some(&key()));
    let app = app(config, Some(key()));
    let got = get_page(&app, "/", &[("cookie", &accepted), ("sec-gpc", "1")]).await;
    assert!(live(&got.body, "/ga.js"), "GPC leaves analytics");
    assert!(
        !live(&got.body, "/px.js") && !live(&got.body, "/pixel.svg"),
        "GPC keeps marketing off"
    );
    // The pixel is excluded from the booking page even after consent.
    let got = get_page(&app, "/ajanvaraus", &[("cookie", &accepted)]).await;
    assert!(live(&got.body, "/ga.js"));
    assert!(!live(&got.body, "/px.js"), "excluded on /ajanvaraus");
    assert!(
        live(&got.body, "https://www.youtube-nocookie.com/embed/x"),
        "other marketing services still run"
    );
    let got = get_page(&app, "/en/booking", &[("cookie", &accepted)]).await;
    assert!(live(&got.body, "/ga.js"));
    assert!(
        !live(&got.body, "/px.js"),
        "excluded on /en/booking, served by a nested router"
    );
}

#[tokio::test]
async fn forged_foreign_and_outdated_cookies_grant_nothing() {
    let config = config();
    let key = key();
    let signed = cookie(&config, Action::AcceptAll, Some(&key));
    let unsigned = cookie(&config, Action::AcceptAll, None);
    let foreign = cookie(
        &config,
        Action::AcceptAll,
        Some(&SigningKey::new(&[5; 32]).expect("key")),
    );
    let old = cookie(
        &Config::from_json(&config_json(true, 2)).expect("valid"),
        Action::AcceptAll,
        Some(&key),
    );
    // A payload character changed with the tag kept: the signature no longer matches.
    let (payload, tag) = signed.rsplit_once('.').expect("signed");
    let mut bytes = payload.as_bytes().to_vec();
    let last = bytes.len() - 1;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{}.{tag}", String::from_utf8(bytes).expect("ascii"));
    // Signed by this server, but longer ago than the config's 182 days of an acceptance.
    let expired = cookie_at(
        &config,
        Action::AcceptAll,
        Some(&key),
        OffsetDateTime::now_utc() - time::Duration::days(183),
    );
    let fresh = cookie_at(
        &config,
        Action::AcceptAll,
        Some(&key),
        OffsetDateTime::now_utc() - time::Duration::days(181),
    );
    let app = app(
        Config::from_json(&config_json(true, 3)).expect("valid"),
        Some(key.clone()),
    );
    let current = app.clone();
    assert!(
        live(
            &get_page(
                &current,
                "/",
                &[(
                    "cookie",
                    &cookie(
                        &Config::from_json(&config_json(true, 3)).expect("v"),
                        Action::AcceptAll,
                        Some(&key)
                    )
                )]
            )
            .await
            .body,
            "/ga.js"
        ),
        "the control: a current signed decision works"
    );
    let app_now = self::app(config, Some(key));
    assert!(
        live(
            &get_page(&app_now, "/", &[("cookie", &fresh)]).await.body,
            "/ga.js"
        ),
        "a day before it expires it holds"
    );
    for (name, c, app) in [
        ("unsigned", &unsigned, &app_now),
        ("foreign key", &foreign, &app_now),
        ("tampered", &tampered, &app_now),
        ("expired", &expired, &app_now),
        ("older revision", &old, &app),
    ] {
        let got = get_page(app, "/", &[("cookie", c)]).await;
        assert!(
            !live(&got.body, "/ga.js") && !live(&got.body, "/px.js"),
            "{name}: nothing live"
        );
        assert!(got.body.contains(FIRST_LAYER), "{name}: asked again");
    }
}

#[tokio::test]
async fn what_is_not_a_readable_page_passes_through_byte_for_byte() {
    let config = config();
    let accepted = cookie(&config, Action::AcceptAll, Some(&key()));
    let app = app(config, Some(key()));
    for path in [
        "/data.json",
        "/gzipped",
        "/export",
        "/two-types",
        "/untouched",
    ] {
        for c in ["", accepted.as_str()] {
            let got = get_page(&app, path, &[("cookie", c)]).await;
            assert_eq!(got.body, PAGE, "{path}");
            assert!(
                got.headers.get(header::VARY).is_none(),
                "{path}: untouched headers"
            );
            assert_eq!(
                got.headers[header::CONTENT_LENGTH],
                PAGE.len().to_string().as_str()
            );
        }
    }
    // A script's fetch of a page (htmx, Turbo, `fetch`): a fragment to swap into a page that
    // has the banner already, passed through as written. With the first layer, every swap
    // added another consent box to the page; a decided visitor's gated elements there are
    // the banner's to revive, as for any element a script adds.
    for c in ["", accepted.as_str()] {
        for dest in ["empty", "EMPTY"] {
            let got = get_page(&app, "/", &[("cookie", c), ("sec-fetch-dest", dest)]).await;
            assert_eq!(got.body, PAGE, "fetched ({dest}) with {c:?}");
        }
    }
    // A page or a frame is rewritten as before.
    for dest in ["document", "iframe"] {
        let got = get_page(&app, "/", &[("sec-fetch-dest", dest)]).await;
        assert!(got.body.contains(FIRST_LAYER), "{dest}");
    }
    // The layer also puts the verdict where the Consent extractor reads it.
    let got = get_page(&app, "/collect", &[("cookie", &accepted)]).await;
    assert_eq!(got.body, "Valid");
}

#[test]
fn streaming_in_any_chunks_gives_the_same_page() {
    let config = config();
    let accepted = cookie(&config, Action::AcceptAll, Some(&key()));
    let pages = Arc::new(Pages::new(config, Some(key())));
    let mut req = axum::http::HeaderMap::new();
    req.insert(
        header::COOKIE,
        HeaderValue::from_str(&accepted).expect("header"),
    );
    let html_headers = || {
        let mut h = axum::http::HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
        h
    };
    let whole = consent_gate::rewrite(
        &pages,
        &req,
        "/",
        StatusCode::OK,
        &mut html_headers(),
        PAGE.as_bytes(),
    )
    .expect("rewritten");
    for size in [1, 2, 7, 64, 1000] {
        let visit = pages.visit(&req, "/");
        let mut r = pages
            .respond(&visit, StatusCode::OK, &mut html_headers())
            .expect("html");
        let mut out = Vec::new();
        for chunk in PAGE.as_bytes().chunks(size) {
            out.extend(r.write(chunk));
        }
        out.extend(r.end());
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&whole),
            "chunks of {size}"
        );
    }
}

mod arbitrary_pages {
    use super::*;
    use proptest::prelude::*;

    fn html() -> axum::http::HeaderMap {
        let mut h = axum::http::HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
        h
    }

    use crate::common::html::page;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any bytes, in any chunks, for any visitor: no panic, and for a visitor who
        /// refused everything on a site without Consent Mode, nothing changes at all when
        /// the page has no necessary or negated element and does not load the banner.
        #[test]
        fn any_bytes_in_any_chunks(body in page(), size in 1usize..64, visitor in 0u8..3) {
            let config = Config::from_json(&config_json(false, 1)).expect("valid");
            let key = key();
            let header = match visitor {
                0 => String::new(),
                1 => cookie(&config, Action::RejectAll, Some(&key)),
                _ => cookie(&config, Action::AcceptAll, Some(&key)),
            };
            let pages = Arc::new(Pages::new(config, Some(key)));
            let mut req = axum::http::HeaderMap::new();
            req.insert(header::COOKIE, HeaderValue::from_str(&header).expect("header"));
            let visit = pages.visit(&req, "/");
            let mut r = pages.respond(&visit, StatusCode::OK, &mut html()).expect("html");
            let mut out = Vec::new();
            for chunk in body.chunks(size) {
                out.extend(r.write(chunk));
            }
            out.extend(r.end());
            let text = String::from_utf8_lossy(&body).to_ascii_lowercase();
            // A policy in a `<meta>` gets the hashes of what the layer writes, and the end
            // script's marks are taken off the page's own elements.
            let policy = text.contains("content-security-policy") || text.contains("data-consent-");
            if visitor == 1 && !text.contains("necessary") && !text.contains('!') && !text.contains("consent.css") && !text.contains("consent.js") && !policy {
                prop_assert_eq!(out, body);
            }
        }
    }
}
