//! What an attacker, or an odd server, sends the page layer: requests, responses and pages
//! at the edges of HTTP and HTML. Nothing of them may make live what the policy does not
//! allow, leak one visitor's page to another or to a shared cache, or lose the page.

#![allow(clippy::expect_used)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use consent_core::policy::Action;
use consent_gate::{PageLayer, Pages};
use tower::ServiceExt as _;

mod common;

use common::{config, cookie, key};

const PAGE: &str = r#"<!doctype html>
<html lang="fi"><head><title>t</title>
<script type="text/plain" data-category="analytics" data-service="ga" data-src="/ga.js"></script>
</head><body><h1>Hei</h1>
</body></html>"#;

fn pages() -> Arc<Pages> {
    Arc::new(Pages::new(config(), Some(key())))
}

/// One route, `/`, answering `headers` and `body` to GET (and so to HEAD).
fn app(pages: Arc<Pages>, headers: &[(&'static str, &'static str)], body: &'static [u8]) -> Router {
    let headers: Vec<_> = headers.to_vec();
    Router::new()
        .route(
            "/",
            get(move || {
                let headers = headers.clone();
                async move {
                    let mut r = body.into_response();
                    r.headers_mut().remove(header::CONTENT_TYPE);
                    for (k, v) in headers {
                        r.headers_mut().append(k, v.parse().expect("value"));
                    }
                    r
                }
            }),
        )
        .layer(PageLayer::new(pages))
}

async fn send(app: &Router, method: Method, headers: &[(&str, &str)]) -> (HeaderMap, Vec<u8>) {
    let mut req = Request::builder().method(method).uri("/");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let response = app
        .clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 16 << 20).await.expect("body");
    (parts.headers, bytes.to_vec())
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A response's whole body, as text.
async fn body_text(response: Response) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    text(&bytes)
}

/// A HEAD request gets the headers of the page without its body. A server that answers it
/// with an empty body inside the layer (a proxy in front of nginx, a file server; axum
/// itself drops the body outside) must not have that empty body taken for the page:
/// recorded under the page's trusted ETag, it would be replayed to every later GET.
#[tokio::test]
async fn a_head_request_does_not_replace_the_page_in_the_cache() {
    let config = config();
    let accepted = cookie(&config, Action::AcceptAll, Some(&key()));
    // As nginx answers a static page: a strong ETag, shareable, no body to HEAD.
    let origin = |method: Method| async move {
        let body = if method == Method::HEAD { "" } else { PAGE };
        (
            [
                (header::CONTENT_TYPE, "text/html"),
                (header::ETAG, "\"5f3a-1a2b\""),
                (header::CACHE_CONTROL, "max-age=60"),
            ],
            body,
        )
    };
    let pages = pages();
    let app = Router::new()
        .route("/", get(origin))
        .layer(PageLayer::new(Arc::clone(&pages)));
    for visitor in [vec![], vec![("cookie", accepted.as_str())]] {
        let (head, body) = send(&app, Method::HEAD, &visitor).await;
        assert!(body.is_empty(), "no body to a HEAD request");
        assert_eq!(head["cache-control"], "private, max-age=60", "as a GET's");
        assert!(head.get("etag").is_none(), "as a GET's");
        for _ in 0..2 {
            let (_, body) = send(&app, Method::GET, &visitor).await;
            let body = text(&body);
            assert!(body.contains("<h1>Hei</h1>"), "the page itself: {body}");
        }
    }
}

/// CDNs read their own targeted field before `Cache-Control` (RFC 9213's
/// `CDN-Cache-Control`, and `Surrogate-Control`), and nginx's `proxy_cache` its
/// `X-Accel-Expires` even beside `private`: left on a rewritten page, it would still let the
/// cache keep one visitor's page and serve it to the next.
#[tokio::test]
async fn a_cdn_is_kept_out_by_its_own_fields_too() {
    let app = app(
        pages(),
        &[
            ("content-type", "text/html"),
            ("cache-control", "public, max-age=60"),
            ("cdn-cache-control", "public, max-age=600"),
            ("cloudflare-cdn-cache-control", "max-age=600"),
            ("surrogate-control", "max-age=600"),
            ("x-accel-expires", "600"),
        ],
        PAGE.as_bytes(),
    );
    let (headers, body) = send(&app, Method::GET, &[]).await;
    assert!(text(&body).contains("data-consent-nojs"), "rewritten");
    assert_eq!(headers["cache-control"], "private, max-age=60");
    for name in [
        "cdn-cache-control",
        "cloudflare-cdn-cache-control",
        "surrogate-control",
        "x-accel-expires",
    ] {
        assert!(headers.get(name).is_none(), "{name}: {headers:?}");
    }
}

/// A script's fetch of a page (`Sec-Fetch-Dest: empty`, which anyone can send) passes
/// through as written: the page without Consent Mode's `default`, so a Google tag on it
/// runs unconstrained, and without the first layer. It is a representation of the same
/// address as the page, so it must never be the one a navigation gets from a cache: not from
/// a CDN that an attacker's forged header filled with it (many CDNs ignore `Vary`), nor
/// from the browser's cache, whose stored copy Chromium and Firefox revalidate for a
/// navigation with its `ETag` even when its `Vary` does not match (httpwg/http-core#832):
/// the site's 304 then brings the fragment back as the page.
#[tokio::test]
async fn a_scripts_fetch_of_a_page_never_reaches_a_navigation_through_a_cache() {
    let app = app(
        pages(),
        &[
            ("content-type", "text/html; charset=utf-8"),
            ("cache-control", "public, max-age=600"),
            ("cdn-cache-control", "max-age=600"),
            ("etag", "\"v1\""),
            ("last-modified", "Mon, 07 Dec 2026 12:00:00 GMT"),
        ],
        PAGE.as_bytes(),
    );
    let (page, _) = send(&app, Method::GET, &[]).await;
    for dest in ["empty", "Empty"] {
        let (fetched, body) = send(&app, Method::GET, &[("sec-fetch-dest", dest)]).await;
        assert_eq!(text(&body), PAGE, "{dest}: passed through as written");
        assert_eq!(fetched[header::CONTENT_LENGTH], PAGE.len().to_string());
        assert_eq!(
            fetched[header::CACHE_CONTROL],
            "private, max-age=600",
            "{dest}: no shared cache keeps it"
        );
        assert!(fetched.get("cdn-cache-control").is_none(), "{dest}");
        assert_eq!(
            fetched.get_all(header::VARY).iter().collect::<Vec<_>>(),
            page.get_all(header::VARY).iter().collect::<Vec<_>>(),
            "{dest}: the browser keeps it apart from the page"
        );
        for validator in [header::ETAG, header::LAST_MODIFIED] {
            assert!(fetched.get(&validator).is_none(), "{dest}: {validator}");
        }
    }
}

/// A `Range` request for a page (which any client can send; a CDN may then keep the part, or
/// the page it assembles from parts) got the untouched part with the app's headers: `public`,
/// its `ETag`, no `Vary`, as a script's fetch did above. It keeps its body, status and
/// `Content-Range`, with a rewritten page's cache headers.
#[tokio::test]
async fn a_part_of_a_page_never_reaches_a_navigation_through_a_cache() {
    let part = &PAGE.as_bytes()[..10];
    let app = Router::new()
        .route(
            "/",
            get(move || async move {
                let mut r = (StatusCode::PARTIAL_CONTENT, part).into_response();
                let h = r.headers_mut();
                h.insert(
                    header::CONTENT_TYPE,
                    "text/html; charset=utf-8".parse().unwrap(),
                );
                h.insert(
                    header::CACHE_CONTROL,
                    "public, max-age=600".parse().unwrap(),
                );
                h.insert(header::ETAG, "\"v1\"".parse().unwrap());
                let range = format!("bytes 0-9/{}", PAGE.len());
                h.insert(header::CONTENT_RANGE, range.parse().unwrap());
                r
            }),
        )
        .layer(PageLayer::new(pages()));
    let request = Request::get("/").header(header::RANGE, "bytes=0-9");
    let response = app
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.expect("body");
    assert_eq!(&body[..], part, "passed through as written");
    let h = &parts.headers;
    assert_eq!(
        h[header::CONTENT_RANGE],
        format!("bytes 0-9/{}", PAGE.len())
    );
    assert_eq!(
        h[header::CACHE_CONTROL],
        "private, max-age=600",
        "no shared cache keeps it"
    );
    assert_eq!(h[header::VARY], "Cookie, Sec-GPC, DNT, Sec-Fetch-Dest");
    assert!(h.get(header::ETAG).is_none());
}

/// The host as an app reads it, in the order of axum's `Host` extractor: `Forwarded`'s
/// `host=`, `X-Forwarded-Host`, `Host`, the URI's authority.
fn host_as_the_app_reads_it(req: &Request<Body>) -> String {
    let headers = req.headers();
    let forwarded = headers
        .get(header::FORWARDED)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').find_map(|p| p.trim().strip_prefix("host=")));
    let named = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    forwarded
        .or_else(|| named("x-forwarded-host"))
        .or_else(|| named("host"))
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or_default()
        .to_owned()
}

/// A site that serves several hosts (a site builder's tenants, by the host the request
/// names), each page with a strong `ETag` of its own revision, so two hosts' pages may share
/// one: an `ETag` names a representation of one resource. The layer's cache keyed the page by
/// the URI's authority, else `Host`, while the app read the host otherwise: a request for
/// the victim's host whose `Host` (or `X-Forwarded-Host`, or `Forwarded`) named the
/// attacker's had the attacker's page recorded as the victim's, and replayed to every one of
/// the victim's visitors, scripts and all. Without the layer the app had no shared cache, and
/// the forged header reached only the attacker's own response.
#[tokio::test]
async fn a_forged_host_never_puts_another_hosts_page_in_the_cache() {
    let tenants = || {
        Router::new()
            .route(
                "/",
                get(|req: Request<Body>| async move {
                    let page = match host_as_the_app_reads_it(&req).as_str() {
                        "victim.example" => "<html><body><h1>The victim's page</h1></body></html>",
                        _ => "<html><body><script src=/steal.js></script></body></html>",
                    };
                    (
                        [
                            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                            (header::ETAG, "\"r1\""),
                            (header::CACHE_CONTROL, "public, max-age=60"),
                        ],
                        page,
                    )
                }),
            )
            .layer(PageLayer::new(pages()))
    };
    let forged: [(&str, &[(&str, &str)]); 4] = [
        ("http://victim.example/", &[("host", "attacker.example")]),
        (
            "/",
            &[
                ("host", "victim.example"),
                ("x-forwarded-host", "attacker.example"),
            ],
        ),
        (
            "/",
            &[
                ("host", "victim.example"),
                ("forwarded", "host=attacker.example"),
            ],
        ),
        (
            "/",
            &[
                ("host", "victim.example"),
                (
                    "forwarded",
                    "for=192.0.2.1;host=attacker.example;proto=https",
                ),
            ],
        ),
    ];
    for (uri, headers) in forged {
        let app = tenants();
        let get = |uri: &str, headers: &[(&str, &str)]| {
            let mut req = Request::builder().uri(uri);
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            app.clone()
                .oneshot(req.body(Body::empty()).expect("request"))
        };
        let attack = get(uri, headers).await.expect("infallible");
        let attack = body_text(attack).await;
        assert!(attack.contains("/steal.js"), "the attacker's own page");
        let visit = get("/", &[("host", "victim.example")])
            .await
            .expect("infallible");
        let visit = body_text(visit).await;
        assert!(
            visit.contains("The victim's page") && !visit.contains("/steal.js"),
            "{uri} {headers:?}: {visit}"
        );
    }
}

/// A page built for the visitor's session (their name, a CSRF token) that carries one
/// strong `ETag` for everyone, here the revision of the article it shows, and no
/// `Cache-Control`: it breaks nothing without a shared cache, as each browser revalidates only
/// its own copy. The layer added one: Alice's page, recorded under the `ETag`, was replayed to
/// Bob, since their consent was alike. Varnish's built-in rules do not serve a request with a
/// cookie from the cache; only the consent cookie, which the cache's key holds, is the
/// layer's to read.
#[tokio::test]
async fn one_visitors_session_page_never_reaches_another() {
    let config = config();
    let accepted = cookie(&config, Action::AcceptAll, Some(&key()));
    let app = Router::new()
        .route(
            "/article",
            get(|headers: HeaderMap| async move {
                let cookies = headers
                    .get(header::COOKIE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                let who = cookies
                    .split(';')
                    .find_map(|c| c.trim().strip_prefix("session="))
                    .unwrap_or("nobody");
                let page = format!(
                    "<html><body><p>Signed in as {who}</p>\
                     <form method=post><input name=csrf value=token-of-{who}></form></body></html>"
                );
                (
                    [
                        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                        (header::ETAG, "\"article-7\""),
                    ],
                    page,
                )
            }),
        )
        .layer(PageLayer::new(pages()));
    for who in ["alice", "bob", "carol"] {
        let cookie = format!("session={who}; {accepted}");
        let req = Request::builder()
            .uri("/article")
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .expect("request");
        let got = app.clone().oneshot(req).await.expect("infallible");
        let got = body_text(got).await;
        assert!(got.contains(&format!("token-of-{who}")), "{who} got: {got}");
    }
}

/// A form's page, rendered again for its `POST` with what was posted (a comment's preview)
/// by the same code as for `GET`, so with the same `ETag`, the article's revision. No shared
/// cache serves a `POST`'s response to a `GET`; the layer recorded it under the page's
/// `ETag`, and every later visitor to the article got the attacker's preview.
#[tokio::test]
async fn a_posts_page_never_becomes_the_pages_page() {
    let article = |preview: String| {
        (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::ETAG, "\"article-7\""),
            ],
            format!("<html><body><h1>Article</h1><p>{preview}</p></body></html>"),
        )
    };
    let app = Router::new()
        .route(
            "/article",
            get(move || async move { article(String::new()) })
                .post(move |body: String| async move { article(format!("Preview: {body}")) }),
        )
        .layer(PageLayer::new(pages()));
    let post = Request::builder()
        .method(Method::POST)
        .uri("/article")
        .body(Body::from("Send your password to evil.example"))
        .expect("request");
    let posted = app.clone().oneshot(post).await.expect("infallible");
    let posted = body_text(posted).await;
    assert!(posted.contains("Preview: Send"), "the poster's own page");
    let req = Request::builder()
        .uri("/article")
        .body(Body::empty())
        .expect("request");
    let got = app.clone().oneshot(req).await.expect("infallible");
    let got = body_text(got).await;
    assert!(
        got.contains("<h1>Article</h1>") && !got.contains("evil.example"),
        "{got}"
    );
}

/// A page in windows-1252 gets its first layer in windows-1252, whether rewritten as it
/// streams or replayed from the cache.
#[tokio::test]
async fn a_replayed_first_layer_is_in_the_pages_charset() {
    let cached = app(
        pages(),
        &[("content-type", "text/html; charset=windows-1252")],
        PAGE.as_bytes(),
    );
    let uncached = app(
        Arc::new(Pages::new(config(), Some(key())).with_cache_capacity(0)),
        &[("content-type", "text/html; charset=windows-1252")],
        PAGE.as_bytes(),
    );
    let (_, want) = send(&uncached, Method::GET, &[]).await;
    let (decoded, _, bad) = encoding_rs::WINDOWS_1252.decode(&want);
    assert!(!bad && decoded.contains("Hylkää kaikki"), "{decoded}");
    for round in 0..3 {
        let (_, got) = send(&cached, Method::GET, &[]).await;
        assert_eq!(text(&got), text(&want), "round {round}");
    }
}

/// An HTML response with an empty body (a HEAD answered inside the layer, an empty page)
/// passes through as it is: nothing is added to it.
#[tokio::test]
async fn an_empty_page_stays_empty() {
    for cache in [0, 1 << 20] {
        let pages = Arc::new(Pages::new(config(), Some(key())).with_cache_capacity(cache));
        let app = app(pages, &[("content-type", "text/html")], b"");
        let (_, body) = send(&app, Method::GET, &[]).await;
        assert_eq!(text(&body), "", "cache {cache}");
    }
    // A streamed body that turns out empty: nothing either.
    let pages = pages();
    let visit = pages.visit(&HeaderMap::new(), "/");
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, "text/html".parse().expect("value"));
    let mut r = pages
        .respond(&visit, StatusCode::OK, &mut headers)
        .expect("html");
    assert!(r.write(b"").is_empty());
    assert!(r.end().is_empty());
}

/// The page rewritten by [`Pages::respond`] in chunks of `size`, for a request with
/// `cookie` (or none).
fn rewrite_chunks(pages: &Arc<Pages>, cookie: &str, body: &[u8], size: usize) -> Vec<u8> {
    let mut req = HeaderMap::new();
    if !cookie.is_empty() {
        req.insert(header::COOKIE, cookie.parse().expect("value"));
    }
    let visit = pages.visit(&req, "/");
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, "text/html".parse().expect("value"));
    let mut r = pages
        .respond(&visit, StatusCode::OK, &mut headers)
        .expect("html");
    let mut out = Vec::new();
    for c in body.chunks(size) {
        out.extend(r.write(c));
    }
    out.extend(r.end());
    out
}

/// A tag larger than the rewriter may buffer (an inline image of a few megabytes, sent in
/// chunks) makes it give up: the rest of the page passes through. What goes at the end of
/// `<body>` must still come: the first layer, and the script that puts back the banner's
/// module and stylesheet already held back, else nobody could ever decide.
#[test]
fn a_page_too_big_for_the_rewriter_still_gets_its_first_layer_and_banner() {
    let page = format!(
        "<html><head><link rel=stylesheet href=/consent/consent.css>\
         <script type=module src=/consent/consent.js></script></head>\
         <body><img src=\"data:image/png;base64,{}\"><p>end</p></body></html>",
        "A".repeat(3 << 20)
    );
    let out = text(&rewrite_chunks(&pages(), "", page.as_bytes(), 64 * 1024));
    assert!(
        out.contains("<p>end</p></body></html>"),
        "the page is whole"
    );
    assert!(
        out.contains("data-consent-js=\"/consent/consent.js\""),
        "the banner's module was held back before the rewriter gave up"
    );
    assert!(
        out.contains("link[data-consent-css]"),
        "the script that puts it back"
    );
    assert!(out.contains("data-consent-nojs"), "the first layer");
}

/// A response that names no charset is read in the one its `<meta>` names: the first layer
/// is written in it, whether the page is rewritten as it streams or replayed.
#[tokio::test]
async fn a_meta_charset_is_the_charset_of_the_first_layer() {
    const LEGACY: &[u8] = b"<!doctype html><html lang=fi><head>\
        <meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\">\
        <title>t</title></head><body><p>P\xe4\xe4sivu</p></body></html>";
    for cache in [0, 1 << 20] {
        let pages = Arc::new(Pages::new(config(), Some(key())).with_cache_capacity(cache));
        let app = app(pages, &[("content-type", "text/html")], LEGACY);
        for round in 0..2 {
            let (_, got) = send(&app, Method::GET, &[]).await;
            let (page, _, bad) = encoding_rs::WINDOWS_1252.decode(&got);
            assert!(!bad && page.contains("Pääsivu"), "{page}");
            assert!(
                page.contains("Hylkää kaikki"),
                "cache {cache}, round {round}: {page}"
            );
        }
    }
}

/// Markup at the edges of HTML, in chunks of 7 bytes: uppercase names and values count as a
/// browser counts them, the first of two attributes wins as in a browser, and what a browser
/// reads as text (comments, `<textarea>`, `<title>`, `<style>`, `<xmp>`, `<noscript>`, a
/// script's own text) is never touched.
#[test]
fn markup_at_the_edges_is_read_as_a_browser_reads_it() {
    let config = config();
    let accepted = cookie(&config, Action::AcceptAll, Some(&key()));
    let refused = cookie(&config, Action::RejectAll, Some(&key()));
    let gated = |src: &str| {
        format!(
            r#"<script type="text/plain" data-category="analytics" data-src="/{src}.js"></script>"#
        )
    };
    let text_only = [
        "comment", "textarea", "title", "style", "xmp", "noscript", "string",
    ];
    let page = format!(
        r#"<html><head></head><body>
<SCRIPT TYPE=" TEXT/PLAIN" DATA-CATEGORY="analytics" DATA-SRC="/upper.js"></SCRIPT>
<script type="text/plain" data-category="marketing" data-category="necessary" data-src="/dup.js"></script>
<!-- {} --><textarea>{}</textarea><title>{}</title><style>{}</style><xmp>{}</xmp>
<noscript>{}</noscript><script>var s = '{}';</script>
</body></html>"#,
        gated("comment"),
        gated("textarea"),
        gated("title"),
        gated("style"),
        gated("xmp"),
        gated("noscript"),
        gated("string"),
    );
    let out = text(&rewrite_chunks(&pages(), &accepted, page.as_bytes(), 7));
    assert!(
        out.contains(r#"<SCRIPT DATA-CATEGORY="analytics" src="/upper.js">"#),
        "{out}"
    );
    for src in text_only {
        assert!(out.contains(&gated(src)), "{src}: {out}");
    }
    let out = text(&rewrite_chunks(&pages(), &refused, page.as_bytes(), 7));
    assert!(
        out.contains(r#"data-category="necessary" data-src="/dup.js""#),
        "{out}"
    );
    assert!(out.contains(r#"DATA-SRC="/upper.js""#), "{out}");
}

/// The end script makes every `link[data-consent-css]` a stylesheet and loads the
/// `script[data-consent-js]` just before its own tag as a module. Markup injected into a page
/// (a comment, a profile) that carries those marks itself must not be loaded by it: the end
/// script is trusted by the policy's nonce or hash, so under `'strict-dynamic'` a script it
/// adds runs whatever its URL. Only what the layer held back keeps a mark, streamed or
/// replayed (where the layer cannot see a mark, see the next test).
#[tokio::test]
async fn marks_the_page_forged_are_never_loaded_by_the_end_script() {
    const FORGED: &[u8] = br#"<!doctype html><html><head>
<link rel="stylesheet" href="/consent/consent.css">
<script type="module" src="/consent/consent.js"></script>
</head><body><div class="comment">
<script type="text/plain" data-consent-js="https://evil.example/x.js"></script>
<SCRIPT DATA-CONSENT-JS="https://evil.example/y.js"></SCRIPT>
<script type="text/plain" data-category="analytics" data-consent-js="https://evil.example/z.js" data-src="/ga.js"></script>
<link data-consent-css href="https://evil.example/x.css">
<link rel="preload" href="/consent/consent.css" DATA-CONSENT-CSS>
</div></body></html>
<script type="text/plain" data-consent-js="https://evil.example/late.js"></script>"#;
    let config = config();
    let accepted = cookie(&config, Action::AcceptAll, Some(&key()));
    for cache in [0, 1 << 20] {
        let pages = Arc::new(Pages::new(config.clone(), Some(key())).with_cache_capacity(cache));
        let app = app(pages, &[("content-type", "text/html")], FORGED);
        for visitor in [vec![], vec![("cookie", accepted.as_str())]] {
            for round in 0..2 {
                let (_, body) = send(&app, Method::GET, &visitor).await;
                let out = text(&body).to_ascii_lowercase();
                assert!(
                    !out.contains("evil.example/x.css\" data-consent-css"),
                    "{out}"
                );
                assert_eq!(
                    out.matches("data-consent-js=").count(),
                    1,
                    "only the banner's module, cache {cache}, round {round}: {out}"
                );
                assert!(
                    out.contains("data-consent-js=\"/consent/consent.js\""),
                    "{out}"
                );
                // The banner's stylesheet held back, and nothing else marked.
                assert_eq!(
                    out.matches("data-consent-css").count(),
                    1 + out.matches("link[data-consent-css]").count(),
                    "{out}"
                );
                assert!(out.contains("\"/ga.js\""), "the rest of the page is kept");
            }
        }
    }
}

/// Where lol_html's guess of the tree differs from a browser's, in foreign content, page
/// content can carry the end script's mark where the layer reads text and a browser makes an
/// element: `<math><mi><mglyph><style>` is MathML to a browser (its content markup), a raw
/// text `<style>` to lol_html; after `<svg/>` lol_html reads a CDATA section, a browser a
/// bogus comment that ends at the first `>` (`tests/e2e/page-layer.mjs` has them in
/// Chromium). So the end script looks at no such mark: it loads the module the layer moved
/// right before its own tag, when that tag names its `src`, and nothing else.
#[test]
fn the_end_script_loads_only_the_module_written_before_its_own_tag() {
    const FORGED: &str = r#"<math><mi><mglyph><style><script type="text/plain" data-consent-js="/evil.js"></script></style></mglyph></mi></math><svg/><![CDATA[><script type="text/plain" data-consent-js="/evil.js"></script>]]>"#;
    let config = config();
    let accepted = cookie(&config, Action::AcceptAll, Some(&key()));
    let page = format!(
        "<!doctype html><html><head><link rel=stylesheet href=/consent/consent.css>\
         <script type=module src='/consent/consent.js?v=\"2\"&amp;x' data-layout=bar async></script>\
         </head><body><div class=comment>{FORGED}</div><p>end</p></body></html>"
    );
    let module = r#"<script type="text/plain" data-layout="bar" async="" data-consent-js="/consent/consent.js?v=&quot;2&quot;&amp;x"></script>"#;
    for visitor in ["", accepted.as_str()] {
        for size in [5, 1 << 20] {
            let out = text(&rewrite_chunks(&pages(), visitor, page.as_bytes(), size));
            assert!(out.contains(FORGED), "the page's text is left: {out}");
            assert!(
                out.contains(&format!(
                    "{module}<script data-consent-src=\"/consent/consent.js?v=&quot;2&quot;&amp;x\">{{const me="
                )),
                "{out}"
            );
            assert!(!out.contains("type=module"), "moved, not copied: {out}");
        }
    }
}

/// Where lol_html's guess of the tree differs from a browser's, page content can show it a
/// `</body>` that a browser reads as text: after `<svg/>` (a browser closes it at once,
/// lol_html reads SVG until a tag that ends foreign content), after `<math><svg><p>` (a
/// browser leaves both, lol_html one), after a `</foreignObject>` that a browser ignores,
/// or in a CDATA section a browser reads in MathML and lol_html takes for a bogus comment.
/// The first layer and the end script went there, into a `<style>`'s or a `<textarea>`'s
/// text: an undecided visitor, on a page that looked whole, was asked nothing, and the
/// banner never loaded (`tests/e2e/page-layer.mjs` has one in Chromium). They go at the end
/// of the page, which a browser parses into the body.
#[test]
fn a_body_end_tag_a_browser_reads_as_text_does_not_take_the_first_layer() {
    for swallow in [
        "<svg/><style></body></style>",
        "<math/><textarea></body></textarea>",
        "<math><svg><p><style></body></style></p></svg></math>",
        "<svg><foreignObject><div></foreignObject><title></body></title></div></foreignObject></svg>",
        "<math><mi><mglyph><![CDATA[x></body>]]></mglyph></mi></math>",
    ] {
        let page = format!(
            "<!doctype html><html><head><script type=module src=/consent/consent.js></script></head>\
             <body><div class=comment>{swallow}</div><p>after</p></body></html>"
        );
        for size in [3, 1 << 20] {
            let out = text(&rewrite_chunks(&pages(), "", page.as_bytes(), size));
            let after = out.find("<p>after</p>").expect("after");
            for ours in ["data-consent-nojs", "{const me="] {
                let at = out.find(ours).expect("written");
                assert!(at > after, "{swallow}: {ours} in it:\n{out}");
            }
        }
    }
}

/// What page content leaves open (a comment's or a CMS field's tag without its end tag)
/// is still open where the layer writes at the end of the page, in a browser: a `<form>`
/// took the first layer's buttons (they posted the decision to its address), an `<a>` was
/// made again around them (a link to its address), a `<select>` or a `<template>` kept the
/// first layer out of sight, a `<table>` put it before itself in the comment, and a
/// `<textarea>`, or a `<noscript>` where scripts run, made it and the end script text. The
/// layer writes the end tags that close them before its own, each ignored where nothing
/// it closes is open (`tests/e2e/page-layer.mjs` has them in Chromium).
#[test]
fn what_the_page_leaves_open_does_not_take_the_first_layer() {
    for open in [
        "<form method=post action=https://evil.example/>",
        "<a href=https://evil.example/>",
        "<select>",
        "<template>",
        "<table><tr><td>",
        "<textarea>",
        "<noscript>",
        "<!--",
        "<svg><foreignObject>",
    ] {
        let page = format!(
            "<!doctype html><html><head></head><body>\
             <div class=comment>{open}Hi!</div></body></html>"
        );
        let out = text(&rewrite_as("text/html", page.as_bytes(), 5));
        let end = out.find("</body></html>").expect("the page's end") + "</body></html>".len();
        let layer = out
            .find("<div class=\"consent-root")
            .expect("the first layer");
        let close = match open[1..].split([' ', '>']).next().unwrap_or_default() {
            "!--" => "<!--]]><!---->".to_owned(),
            "svg" => "</foreignObject>".to_owned(),
            name => format!("</{name}>"),
        };
        assert!(
            out[end..layer].contains(&close),
            "{open}: nothing closes it:\n{out}"
        );
    }
}

/// Without a `<head>` tag (a minifier drops it), Consent Mode went before the first
/// `<script>` lol_html saw, and page content placed before the page's scripts could show it
/// one that a browser reads as text (`<svg/><style><script>`): the `default` command was
/// lost in a `<style>`, and the Google tag after it ran as if everything were granted. It
/// goes before `<title>` when the response names the charset, else right after the `<meta>`
/// that names it, ahead of any content.
#[test]
fn consent_mode_goes_ahead_of_page_content_without_a_head_tag() {
    let config = config();
    let accepted = cookie(&config, Action::AcceptAll, Some(&key()));
    let content = "<div class=comment><svg/><style><script></script></style></div>";
    for (content_type, meta) in [
        ("text/html; charset=utf-8", ""),
        ("text/html", "<meta charset=utf-8>"),
    ] {
        let page = format!(
            "<!doctype html><html lang=en>{meta}<title>t</title>{content}\
             <script src=/gtag.js></script>"
        );
        for visitor in ["", accepted.as_str()] {
            let pages = pages();
            let mut req = HeaderMap::new();
            if !visitor.is_empty() {
                req.insert(header::COOKIE, visitor.parse().expect("value"));
            }
            let visit = pages.visit(&req, "/");
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, content_type.parse().expect("value"));
            let mut r = pages
                .respond(&visit, StatusCode::OK, &mut headers)
                .expect("html");
            let mut out = r.write(page.as_bytes());
            out.extend(r.end());
            let out = text(&out);
            let mode = out.find("<script data-consent-mode").expect("Consent Mode");
            let comment = out.find("<div class=comment>").expect("the comment");
            assert!(mode < comment, "{content_type}: {out}");
            if !meta.is_empty() {
                assert!(mode > out.find(meta).expect("meta"), "{out}");
            }
        }
    }
}

/// Without a `<head>` tag, a `<title>` or a `<meta>` naming the charset (as a minifier may
/// write a page), Consent Mode still went before the first `<script>` lol_html saw, and a
/// comment could show it one that a browser reads as text: after `<svg/>` lol_html reads
/// SVG, a browser closes it at once and reads the `<style>` after it as HTML's, and in
/// `<math><mi><mglyph>` the reverse. Before the first `<svg>`, `<math>` or `<select>`, the
/// only tags after which lol_html guesses the tree, both read the page alike: Consent Mode
/// goes before the first of them or of the scripts, whichever comes first
/// (`tests/e2e/page-layer.mjs` runs one in Chromium).
#[test]
fn consent_mode_goes_ahead_of_foreign_content_without_any_anchor() {
    let config = config();
    let accepted = cookie(&config, Action::AcceptAll, Some(&key()));
    for content in [
        "<div class=comment><svg/><style><script></script></style></div>",
        "<div class=comment><math><mi><mglyph><style><!--</style><script></script>--></style></mglyph></mi></math></div>",
        "<div class=comment><select><xmp><script></script></xmp></select></div>",
    ] {
        for content_type in ["text/html; charset=utf-8", "text/html"] {
            let page =
                format!("<!doctype html><html lang=en>{content}<script src=/gtag.js></script>");
            for visitor in ["", accepted.as_str()] {
                let pages = pages();
                let mut req = HeaderMap::new();
                if !visitor.is_empty() {
                    req.insert(header::COOKIE, visitor.parse().expect("value"));
                }
                let visit = pages.visit(&req, "/");
                let mut headers = HeaderMap::new();
                headers.insert(header::CONTENT_TYPE, content_type.parse().expect("value"));
                let mut r = pages
                    .respond(&visit, StatusCode::OK, &mut headers)
                    .expect("html");
                let mut out = Vec::new();
                for c in page.as_bytes().chunks(5) {
                    out.extend(r.write(c));
                }
                out.extend(r.end());
                let out = text(&out);
                let mode = out.find("<script data-consent-mode").expect("Consent Mode");
                let inner = &content["<div class=comment>".len()..];
                let guessed = out.find(&inner[..5]).expect("the comment");
                assert!(mode < guessed, "{content_type}, {content}: {out}");
            }
        }
    }
}

/// Where lol_html's guess of the tree differs from a browser's, page content can show it a
/// gated script, or the banner's stylesheet, that a browser reads as a `<style>`'s or a
/// `<textarea>`'s text: after `<svg/>` or `<math/>` (lol_html reads SVG or MathML on, a
/// browser closes them at once), after `<math><svg><p>` (a browser leaves both, lol_html
/// one) or after a `</foreignObject>` a browser ignores. Made live there, the script carried
/// the response's nonce, and the stylesheet got the critical CSS with it, into text the
/// visitor sees, a form posts, and a style sends wherever its `url()` points: the nonce that
/// was to be hidden from page content (browsers hide a nonce attribute from selectors).
/// lol_html took each for SVG's or MathML's, or for an HTML part of a drawing, which a
/// gated script never is: those are left as written, and so the banner gates them, as it
/// does any it finds. The page's own tag after the drawing is made live as before.
#[test]
fn a_nonce_never_goes_where_lol_html_guesses_foreign_content() {
    let config = config();
    let accepted = cookie(&config, Action::AcceptAll, Some(&key()));
    let gated = r#"<script type="text/plain" data-category="analytics" data-src="/a.js"></script><link rel=stylesheet href=/consent/consent.css>"#;
    for (open, close) in [
        ("<svg/><style>", "</style>"),
        ("<math/><textarea>", "</textarea>"),
        ("<math><svg><p><style>", "</style></p></svg></math>"),
        (
            "<svg><foreignObject><div></foreignObject><title>",
            "</title></div></foreignObject></svg>",
        ),
    ] {
        let page = format!(
            "<!doctype html><html><head><title>t</title></head><body>\
             <div class=comment>{open}{gated}{close}</div>\
             <p><script type=text/plain data-category=analytics data-src=/own.js></script>\
             </body></html>"
        );
        for visitor in ["", accepted.as_str()] {
            let pages = pages();
            let mut req = HeaderMap::new();
            if !visitor.is_empty() {
                req.insert(header::COOKIE, visitor.parse().expect("value"));
            }
            let visit = pages.visit(&req, "/");
            let mut headers = HeaderMap::new();
            headers.insert(
                header::CONTENT_TYPE,
                "text/html; charset=utf-8".parse().expect("value"),
            );
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                "script-src 'nonce-bm9uY2U'; style-src 'nonce-bm9uY2U'"
                    .parse()
                    .expect("value"),
            );
            let mut r = pages
                .respond(&visit, StatusCode::OK, &mut headers)
                .expect("html");
            let mut out = Vec::new();
            for c in page.as_bytes().chunks(7) {
                out.extend(r.write(c));
            }
            out.extend(r.end());
            let out = text(&out);
            let comment = out.find("<div class=comment>").expect("the comment");
            let end = out[comment..].find("</div>").expect("its end") + comment;
            assert!(
                !out[comment..end].contains("bm9uY2U"),
                "{open}: the nonce in it:\n{out}"
            );
            assert!(
                out[comment..end].contains(gated),
                "{open}: as written:\n{out}"
            );
            if !visitor.is_empty() {
                assert!(
                    out.contains("src=\"/own.js\" nonce=\"bm9uY2U\""),
                    "{open}: the page's own:\n{out}"
                );
            }
        }
    }
}

/// The page for `body` with `content_type`, rewritten in chunks of `size` (and the same
/// again through the page cache, which must agree).
fn rewrite_as(content_type: &str, body: &[u8], size: usize) -> Vec<u8> {
    let pages = pages();
    let visit = pages.visit(&HeaderMap::new(), "/");
    let headers = || {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, content_type.parse().expect("value"));
        h
    };
    let mut r = pages
        .respond(&visit, StatusCode::OK, &mut headers())
        .expect("html");
    let mut out = Vec::new();
    for c in body.chunks(size) {
        out.extend(r.write(c));
    }
    out.extend(r.end());
    for round in 0..2 {
        let cached = consent_gate::rewrite(
            &pages,
            &HeaderMap::new(),
            "/",
            StatusCode::OK,
            &mut headers(),
            body,
        )
        .expect("html");
        assert_eq!(text(&cached), text(&out), "cached, round {round}");
    }
    out
}

/// A byte order mark names the page's charset before the response and its `<meta>` do, in
/// a browser: what the layer adds must be in that charset, and a UTF-16 page, which the
/// layer cannot read, passes through as it is (a first layer in UTF-8 bytes at its end was
/// a line of garbage in the page, and no first layer).
#[test]
fn a_byte_order_mark_names_the_charset() {
    let mut utf_8 = b"\xEF\xBB\xBF".to_vec();
    utf_8.extend_from_slice(PAGE.as_bytes());
    let meta = PAGE.replace("<head>", "<head><meta charset=windows-1252>");
    let mut utf_8_meta = b"\xEF\xBB\xBF".to_vec();
    utf_8_meta.extend_from_slice(meta.as_bytes());
    for size in [1, 2, 7, 1 << 20] {
        for (content_type, body) in [
            ("text/html; charset=windows-1252", &utf_8),
            ("text/html", &utf_8_meta),
        ] {
            let out = rewrite_as(content_type, body, size);
            let out = std::str::from_utf8(&out)
                .unwrap_or_else(|e| panic!("{content_type}, chunks of {size}: {e}"));
            assert!(out.starts_with("\u{feff}<!doctype html>"), "{out}");
            assert!(out.contains("Hylkää kaikki"), "{content_type}: {out}");
        }
        for bom in [[0xFF, 0xFE], [0xFE, 0xFF]] {
            let mut utf_16 = bom.to_vec();
            for unit in PAGE.encode_utf16() {
                let bytes = if bom[0] == 0xFF {
                    unit.to_le_bytes()
                } else {
                    unit.to_be_bytes()
                };
                utf_16.extend_from_slice(&bytes);
            }
            assert_eq!(rewrite_as("text/html", &utf_16, size), utf_16, "{bom:?}");
        }
    }
    // Bodies shorter than a mark, or only starting like one, are pages as before.
    for body in [&b"\xEF"[..], b"\xEF\xBB", b"\xFF", b"\xEFx<p>"] {
        let out = rewrite_as("text/html", body, 1);
        assert!(out.starts_with(body), "{body:?}");
        assert!(text(&out).contains("data-consent-nojs"), "{body:?}");
    }
}

/// A `<template>`'s content is no part of the page until the page's code copies it in, and
/// the banner's selectors do not see it: the first layer, the end script or Consent Mode's
/// `default` put there would never show or run (a `</body>` in a template, or a template
/// before the first script), and an element made live there would go live whenever the page
/// copies it, even after the visitor withdrew. The layer leaves it as written.
#[tokio::test]
async fn a_templates_content_is_left_as_written() {
    const TEMPLATED: &[u8] =
        br#"<!doctype html><html lang="fi"><template id="t"><body><p>row</p></body>
<script type="text/plain" data-category="analytics" data-src="/tpl.js"></script>
<iframe data-category="marketing" data-src="/tpl-frame"></iframe>
<link rel="stylesheet" href="/consent/consent.css"></template>
<head><script type="module" src="/consent/consent.js"></script></head>
<body><h1>Hei</h1>
<script type="text/plain" data-category="analytics" data-src="/ga.js"></script>
</body></html>"#;
    let template = |out: &str| -> String {
        let start = out.find("<template").expect("the template");
        let end = out.find("</template>").expect("its end");
        out[start..end].to_owned()
    };
    let config = config();
    let accepted = cookie(&config, Action::AcceptAll, Some(&key()));
    for cache in [0, 1 << 20] {
        let pages = Arc::new(Pages::new(config.clone(), Some(key())).with_cache_capacity(cache));
        let app = app(pages, &[("content-type", "text/html")], TEMPLATED);
        for visitor in [vec![], vec![("cookie", accepted.as_str())]] {
            let (_, body) = send(&app, Method::GET, &visitor).await;
            let out = text(&body);
            let inside = template(&out);
            assert_eq!(
                inside,
                template(&text(TEMPLATED)),
                "cache {cache}, {visitor:?}"
            );
            let after = &out[out.find("</template>").expect("end")..];
            assert!(after.contains("data-consent-mode"), "{out}");
            assert!(
                after.contains("link[data-consent-css]"),
                "the end script: {out}"
            );
            if visitor.is_empty() {
                assert!(
                    after.contains("data-consent-nojs"),
                    "the first layer: {out}"
                );
            } else {
                assert!(after.contains(r#"src="/ga.js""#), "{out}");
            }
        }
    }
    // Streamed in small chunks too.
    let out = text(&rewrite_chunks(&pages(), "", TEMPLATED, 5));
    assert_eq!(template(&out), template(&text(TEMPLATED)));
    assert!(
        out.contains("</template>\n<head><script data-consent-mode"),
        "{out}"
    );
}

/// A Content-Security-Policy in the page's `<meta>` governs what comes after it as the
/// response's does. The layer's own inline script and style after it (the end script that
/// loads the banner it held back, the critical CSS, Consent Mode's script when it goes
/// before a first script) must be let in by their hashes there too: blocked, the end script
/// never loaded the banner, and a visitor who had decided could not open it again.
#[tokio::test]
async fn a_policy_in_the_pages_meta_lets_in_what_the_layer_writes() {
    use base64::Engine as _;
    use sha2::{Digest as _, Sha256};
    const META: &[u8] = br#"<!doctype html><html lang="fi"><meta charset="utf-8">
<meta http-equiv="content-security-policy" content="default-src 'self'; script-src 'self' https://www.googletagmanager.com; img-src *">
<link rel="stylesheet" href="/consent/consent.css">
<script src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>
<script type="module" src="/consent/consent.js"></script>
<body><h1>Hei</h1></body></html>"#;
    let hash = |text: &str| {
        format!(
            "'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
        )
    };
    let config = config();
    let accepted = cookie(&config, Action::AcceptAll, Some(&key()));
    for cache in [0, 1 << 20] {
        let pages = Arc::new(Pages::new(config.clone(), Some(key())).with_cache_capacity(cache));
        let app = app(pages, &[("content-type", "text/html")], META);
        for visitor in [vec![], vec![("cookie", accepted.as_str())]] {
            let (_, body) = send(&app, Method::GET, &visitor).await;
            let out = text(&body);
            let policy = out
                .split_once(r#"http-equiv="content-security-policy" content=""#)
                .and_then(|(_, rest)| rest.split_once('"'))
                .map(|(p, _)| p.to_owned())
                .expect("the policy");
            assert!(
                policy.starts_with(
                    "default-src 'self'; script-src 'self' https://www.googletagmanager.com '"
                ),
                "as strict as written, and hashes: {policy}"
            );
            // Every inline script and style the layer wrote, by its hash.
            let mut inline = Vec::new();
            for (open, close) in [("<script", "</script>"), ("<style", "</style>")] {
                for piece in out.split(open).skip(1) {
                    let (tag, rest) = piece.split_once('>').expect("a tag");
                    let (content, _) = rest.split_once(close).expect("its end");
                    if !tag.contains(" src=") && !content.is_empty() {
                        inline.push((open, content.to_owned()));
                    }
                }
            }
            assert_eq!(inline.len(), 2 + visitor.is_empty() as usize, "{out}");
            for (open, content) in inline {
                let directive = if open == "<style" {
                    "style-src 'self' "
                } else {
                    "script-src 'self' "
                };
                let allowed = policy
                    .split(';')
                    .find(|d| d.trim().starts_with(directive))
                    .is_some_and(|d| d.contains(&hash(&content)));
                assert!(allowed, "{open} {content}: {policy}");
            }
        }
    }
}

/// One page (the same bytes at the same path) sent once with `charset=utf-8` and once with
/// no charset: the second is read in the charset its `<meta>` names, the first is not. The
/// page cache must not replay the one's first layer to the other.
#[test]
fn a_declared_and_an_undeclared_charset_are_two_pages_to_the_cache() {
    const PAGE_1252: &[u8] = b"<!doctype html><html lang=fi><head><meta charset=windows-1252>\
        <title>t</title></head><body><p>x</p></body></html>";
    let pages = pages();
    let uncached = Arc::new(Pages::new(config(), Some(key())).with_cache_capacity(0));
    for round in 0..2 {
        for content_type in ["text/html; charset=utf-8", "text/html"] {
            let page = |pages: &Arc<Pages>| {
                let mut headers = HeaderMap::new();
                headers.insert(header::CONTENT_TYPE, content_type.parse().expect("value"));
                consent_gate::rewrite(
                    pages,
                    &HeaderMap::new(),
                    "/",
                    StatusCode::OK,
                    &mut headers,
                    PAGE_1252,
                )
                .expect("html")
            };
            let want = page(&uncached);
            assert_eq!(
                text(&page(&pages)),
                text(&want),
                "{content_type}, round {round}"
            );
        }
    }
}

/// A page whose charset nobody names (no charset in the response, no `<meta>`, no byte
/// order mark) is read in the browser's guess: windows-1252 in most locales, and never
/// UTF-8 in Firefox. The first layer's text goes as ASCII with character references, which
/// every such charset reads alike; in UTF-8 bytes it read "HylkÃ¤Ã¤ kaikki".
#[tokio::test]
async fn a_page_of_no_named_charset_gets_its_first_layer_in_ascii() {
    let want = "Hylk&#228;&#228; kaikki";
    for cache in [0, 1 << 20] {
        let pages = Arc::new(Pages::new(config(), Some(key())).with_cache_capacity(cache));
        let unnamed = app(pages, &[("content-type", "text/html")], PAGE.as_bytes());
        for round in 0..2 {
            let (_, body) = send(&unnamed, Method::GET, &[]).await;
            assert!(
                body.is_ascii(),
                "cache {cache}, round {round}: {}",
                text(&body)
            );
            assert!(text(&body).contains(want), "{}", text(&body));
        }
        // Named by the response, or by the page's `<meta>`: in that charset, as before.
        let meta = PAGE.replace("<head>", "<head><meta charset=\"utf-8\">");
        let meta: &'static [u8] = Box::leak(meta.into_bytes().into_boxed_slice());
        let pages = Arc::new(Pages::new(config(), Some(key())).with_cache_capacity(cache));
        for (content_type, page) in [
            ("text/html; charset=utf-8", PAGE.as_bytes()),
            ("text/html", meta),
        ] {
            let named = app(Arc::clone(&pages), &[("content-type", content_type)], page);
            let (_, body) = send(&named, Method::GET, &[]).await;
            assert!(text(&body).contains("Hylkää kaikki"), "{content_type}");
        }
    }
    let out = rewrite_chunks(&pages(), "", PAGE.as_bytes(), 3);
    assert!(
        out.is_ascii() && text(&out).contains(want),
        "{}",
        text(&out)
    );
}

/// A browser looks for a page's `<meta charset>` in its first 1024 bytes only. When the
/// response names no charset, Consent Mode's script (hundreds of bytes) must not go in
/// front of it and push it past them: the page would be read in a guessed charset. It goes
/// before the first script instead, still before any tag.
#[tokio::test]
async fn consent_mode_leaves_the_meta_charset_where_browsers_look() {
    let preamble = format!("<!-- {} -->", "built by the site's generator; ".repeat(17));
    let page = format!(
        "<!doctype html>\n{preamble}\n<html lang=fi><head>\n\
         <meta name=viewport content=\"width=device-width, initial-scale=1\">\n\
         <meta charset=\"windows-1252\">\n<title>t</title>\n\
         <script type=\"text/plain\" data-category=\"analytics\" data-src=\"/ga.js\"></script>\n\
         </head><body><p>P\u{e4}\u{e4}sivu</p></body></html>"
    );
    let (page, _, _) = encoding_rs::WINDOWS_1252.encode(&page);
    let page: &'static [u8] = Box::leak(page.into_owned().into_boxed_slice());
    let meta = |out: &[u8]| {
        let at = find_bytes(out, b"<meta charset").expect("the meta");
        at + b"<meta charset=\"windows-1252\">".len()
    };
    assert!(
        meta(page) < 1024 && meta(page) > 1024 - 400,
        "{}",
        meta(page)
    );
    let config = config();
    let accepted = cookie(&config, Action::AcceptAll, Some(&key()));
    for cache in [0, 1 << 20] {
        let pages = Arc::new(Pages::new(config.clone(), Some(key())).with_cache_capacity(cache));
        // Named by the response: in front of everything, as before.
        for (content_type, within) in [
            ("text/html", true),
            ("text/html; charset=windows-1252", false),
        ] {
            let app = app(Arc::clone(&pages), &[("content-type", content_type)], page);
            for visitor in [vec![], vec![("cookie", accepted.as_str())]] {
                let (_, out) = send(&app, Method::GET, &visitor).await;
                let mode = find_bytes(&out, b"<script data-consent-mode").expect("Consent Mode");
                let first =
                    find_bytes(&out, b"data-category=\"analytics\"").expect("the page's script");
                assert!(mode < first, "before the page's first script");
                if within {
                    assert!(meta(&out) <= 1024, "{content_type}: at {}", meta(&out));
                } else {
                    assert!(mode < meta(&out), "{content_type}: first in <head>");
                }
            }
        }
    }
}

fn find_bytes(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A template engine escapes the quotes of a policy it writes into the `<meta>`
/// (`&#39;self&#39;`): the policy is read as the browser reads it. Its `'unsafe-inline'`
/// already lets the layer's scripts in, and a hash beside it would have turned it off for
/// the site's own inline scripts.
#[test]
fn a_policy_in_a_meta_with_character_references_is_read_as_a_browser_reads_it() {
    let page = |policy: &str| {
        format!(
            "<!doctype html><html><head><meta http-equiv=\"Content-Security-Policy\" \
             content=\"{policy}\"><script type=module src=/consent/consent.js></script>\
             </head><body><script>site()</script></body></html>"
        )
    };
    let policy_of = |out: &[u8]| {
        let out = text(out);
        let (_, rest) = out.split_once("content=\"").expect("the policy");
        let (policy, _) = rest.split_once('"').expect("its end");
        policy.to_owned()
    };
    let inline = "script-src &#39;self&#39; &#x27;unsafe-inline&#x27;; img-src &apos;self&apos;";
    let out = rewrite_chunks(&pages(), "", page(inline).as_bytes(), 11);
    assert_eq!(
        policy_of(&out),
        inline,
        "a policy that needs nothing is left as written"
    );
    let strict = "script-src &#39;self&#39;";
    let out = rewrite_chunks(&pages(), "", page(strict).as_bytes(), 11);
    assert!(
        policy_of(&out).starts_with("script-src 'self' 'sha256-"),
        "{}",
        policy_of(&out)
    );
    // A reference it does not read, and a bare `&`: the policy is the page's.
    for odd in [
        "script-src &#39;self&#39; &copy;",
        "script-src 'self'; report-uri /r?a=1&b=2",
    ] {
        let out = rewrite_chunks(&pages(), "", page(odd).as_bytes(), 11);
        assert_eq!(policy_of(&out), odd);
    }
}

/// A `<meta charset>` after `</body>` (the property test found it) switches the charset
/// only after the first layer is written: a replay must write the first layer as the
/// rewriter did there, not in the charset the page ended in.
#[test]
fn a_replayed_first_layer_is_in_the_charset_where_it_goes() {
    const LATE: &[u8] = b"<html lang=\"fi\"><head><body></body></html><meta charset=windows-1252>";
    let cached = pages();
    let uncached = Arc::new(Pages::new(config(), Some(key())).with_cache_capacity(0));
    let page = |pages: &Arc<Pages>| {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, "text/html".parse().expect("value"));
        consent_gate::rewrite(
            pages,
            &HeaderMap::new(),
            "/",
            StatusCode::OK,
            &mut headers,
            LATE,
        )
        .expect("html")
    };
    let want = page(&uncached);
    for round in 0..2 {
        assert_eq!(text(&page(&cached)), text(&want), "round {round}");
    }
}

/// Of several `<html lang>`, the first counts, as in a browser (a later `<html>` tag only adds
/// the attributes the root lacks); and a replay writes the first layer in the language the
/// rewriter wrote it in, whatever comes after `</body>` (the property test found both).
#[test]
fn the_first_layer_speaks_the_pages_first_language_replayed_too() {
    let cached = pages();
    let uncached = Arc::new(Pages::new(config(), Some(key())).with_cache_capacity(0));
    let page = |pages: &Arc<Pages>, body: &[u8]| {
        let mut headers = HeaderMap::new();
        let utf_8 = "text/html; charset=utf-8".parse().expect("value");
        headers.insert(header::CONTENT_TYPE, utf_8);
        let out = consent_gate::rewrite(
            pages,
            &HeaderMap::new(),
            "/",
            StatusCode::OK,
            &mut headers,
            body,
        );
        text(&out.expect("html"))
    };
    for body in [
        &b"<html lang=\"sv\"><head></head><body><p>x</p></body></html><html lang=\"fi\">"[..],
        b"<html><head></head><body><p>x</p></body></html><html lang=\"sv\">",
    ] {
        let want = page(&uncached, body);
        for round in 0..2 {
            assert_eq!(page(&cached, body), want, "round {round}");
        }
    }
    let swedish = page(
        &uncached,
        b"<html lang=sv><body></body></html><html lang=fi>",
    );
    assert!(swedish.contains("Godkänn alla"), "{swedish}");
}

/// A response body as an odd server sends it: its page in frames of the given sizes, a size
/// hint that may lie, and trailers.
struct Frames {
    frames: std::collections::VecDeque<bytes::Bytes>,
    hint: http_body::SizeHint,
    trailers: bool,
}

impl http_body::Body for Frames {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let frame = match self.frames.pop_front() {
            Some(data) => Some(http_body::Frame::data(data)),
            None if self.trailers => {
                self.trailers = false;
                Some(http_body::Frame::trailers(HeaderMap::new()))
            }
            None => None,
        };
        std::task::Poll::Ready(frame.map(Ok))
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.hint
    }
}

mod through_the_layer {
    use super::*;
    use proptest::prelude::*;

    /// The page through the tower layer, twice, from a server that sends it in frames of
    /// `sizes` with the length `hint` (exact, or none), with an `ETag` or not.
    fn through(
        body: &[u8],
        sizes: &[usize],
        hint: Option<u64>,
        cookie: &str,
        cache: usize,
        etag: bool,
    ) -> Vec<String> {
        let pages = Arc::new(Pages::new(config(), Some(key())).with_cache_capacity(cache));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        (0..2)
            .map(|_| {
                let mut frames = std::collections::VecDeque::new();
                let mut rest = body;
                for size in sizes.iter().cycle() {
                    if rest.is_empty() {
                        break;
                    }
                    let (frame, after) = rest.split_at((*size).min(rest.len()));
                    frames.push_back(bytes::Bytes::copy_from_slice(frame));
                    rest = after;
                }
                let hint = hint.map_or_else(
                    http_body::SizeHint::default,
                    http_body::SizeHint::with_exact,
                );
                let server = tower::service_fn(move |_: Request<()>| {
                    let mut response = axum::http::Response::new(Frames {
                        frames: frames.clone(),
                        hint,
                        trailers: true,
                    });
                    response
                        .headers_mut()
                        .insert(header::CONTENT_TYPE, "text/html".parse().expect("value"));
                    if etag {
                        response
                            .headers_mut()
                            .insert(header::ETAG, "\"v1\"".parse().expect("value"));
                    }
                    std::future::ready(Ok::<_, std::convert::Infallible>(response))
                });
                let app = tower::Layer::layer(&PageLayer::new(Arc::clone(&pages)), server);
                let mut request = Request::builder().uri("/");
                if !cookie.is_empty() {
                    request = request.header(header::COOKIE, cookie);
                }
                let request = request.body(()).expect("request");
                runtime.block_on(async {
                    let response = app.oneshot(request).await.expect("infallible");
                    let body = http_body_util::BodyExt::collect(response.into_body())
                        .await
                        .expect("body");
                    text(&body.to_bytes())
                })
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Whatever frames the server sends, whatever length it says they have (the page's,
        /// half of it, more, or none), with an `ETag` or not, and trailers after: each
        /// response through the layer (streamed, buffered, recorded or replayed) is the page
        /// rewritten whole.
        #[test]
        fn a_page_in_any_frames_with_any_size_hint_is_the_page_rewritten(
            body in common::html::page(),
            sizes in proptest::collection::vec(1usize..300, 1..5),
            hint in 0u8..4,
            visitor in 0usize..3,
            cache in prop_oneof![Just(0usize), Just(4096), Just(1 << 20)],
            etag in any::<bool>(),
        ) {
            let config = config();
            let cookie = match visitor {
                0 => String::new(),
                1 => cookie(&config, Action::AcceptAll, Some(&key())),
                _ => cookie(&config, Action::RejectAll, Some(&key())),
            };
            let len = body.len() as u64;
            // A server that says a body is empty is believed: never that one.
            let hint = [None, Some(len), Some((len / 2).max(1)), Some(len + 7)][usize::from(hint)];
            let mut request = HeaderMap::new();
            if !cookie.is_empty() {
                request.insert(header::COOKIE, cookie.parse().expect("value"));
            }
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, "text/html".parse().expect("value"));
            let plain = Arc::new(Pages::new(config, Some(key())).with_cache_capacity(0));
            let want = consent_gate::rewrite(&plain, &request, "/", StatusCode::OK, &mut headers, &body)
                .unwrap_or_else(|| body.clone());
            for got in through(&body, &sizes, hint, &cookie, cache, etag) {
                prop_assert_eq!(&got, &text(&want));
            }
        }
    }
}

/// SVG files write HTML in a `<foreignObject>` as a `<body>` (`<body
/// xmlns="http://www.w3.org/1999/xhtml">`), and pages paste such drawings in. A browser
/// makes no body of it, and its `</body>` ends nothing: the first layer and the end script
/// went there, inside the drawing's box, clipped to its size.
#[test]
fn a_body_in_a_drawing_is_not_the_pages() {
    let drawing = "<svg width=100 height=50><foreignObject width=100 height=50>\
        <body xmlns=\"http://www.w3.org/1999/xhtml\"><div>Label</div></body></foreignObject></svg>";
    let math = "<math><annotation-xml encoding=\"text/html\"><body><p>x</p></body></annotation-xml></math>";
    for page in [
        format!(
            "<!doctype html><html><head></head><body><h1>Hei</h1>{drawing}{math}<p>after</p></body></html>"
        ),
        // No `<body>` tag of the page's own: the drawing's is still not it.
        format!("<!doctype html><html><head></head><h1>Hei</h1>{drawing}{math}<p>after</p></html>"),
    ] {
        for size in [3, 1 << 20] {
            let out = text(&rewrite_chunks(&pages(), "", page.as_bytes(), size));
            let layer = out.find("data-consent-nojs").expect("the first layer");
            assert!(layer > out.find("<p>after</p>").expect("after"), "{out}");
        }
    }
}

/// `Cache-Control` is a list whose members may hold a quoted string, commas and all (RFC 9110
/// 5.6): `no-cache="X-A, no-store, X-B"` is one directive, `no-cache` with three field names.
/// Split at every comma, its `no-store` read as a directive of its own made the layer drop
/// `private` ("no-store already keeps every cache out"), and the page went out with
/// `max-age=600` and `no-cache` naming fields: a shared cache may store that, one visitor's
/// page for the next.
#[tokio::test]
async fn a_comma_in_a_quoted_cache_directive_never_lets_a_shared_cache_keep_the_page() {
    for cache_control in [
        r#"public, max-age=600, no-cache="X-A, no-store, X-B""#,
        r#"public, max-age=600, no-cache="X-A,no-store""#,
    ] {
        let app = app(
            pages(),
            &[
                ("content-type", "text/html"),
                ("cache-control", cache_control),
            ],
            PAGE.as_bytes(),
        );
        let (headers, body) = send(&app, Method::GET, &[]).await;
        assert!(text(&body).contains("data-consent-nojs"), "rewritten");
        let got = headers[header::CACHE_CONTROL].to_str().expect("ascii");
        let kept = cache_control.strip_prefix("public, ").expect("public");
        assert_eq!(got, format!("private, {kept}"), "{cache_control}");
    }
}

/// An app that answers conditional requests for its page, as a static file server or a
/// framework's conditional-GET middleware does: `304 Not Modified` to an `If-None-Match` with
/// the page's `ETag`, or to any `If-Modified-Since`, with the cache headers of its `200`.
fn conditional_app(pages: Arc<Pages>) -> Router {
    async fn page(headers: HeaderMap) -> Response {
        let cache = [
            (header::CACHE_CONTROL, "public, max-age=600"),
            (header::ETAG, "\"v1\""),
            (header::LAST_MODIFIED, "Mon, 07 Dec 2026 12:00:00 GMT"),
        ];
        let fresh = headers
            .get(header::IF_NONE_MATCH)
            .is_some_and(|v| v == "\"v1\"")
            || headers.contains_key(header::IF_MODIFIED_SINCE);
        if fresh {
            return (StatusCode::NOT_MODIFIED, cache).into_response();
        }
        let html = [(header::CONTENT_TYPE, "text/html; charset=utf-8")];
        (html, cache, PAGE).into_response()
    }
    async fn put(headers: HeaderMap) -> StatusCode {
        // `If-None-Match: *`: create, never overwrite.
        if headers.contains_key(header::IF_NONE_MATCH) {
            StatusCode::PRECONDITION_FAILED
        } else {
            StatusCode::NO_CONTENT
        }
    }
    Router::new()
        .route("/", get(page).put(put))
        .layer(PageLayer::new(pages))
}

/// The layer's pages carry no validator, so a browser or a CDN that revalidates the address
/// for a page holds a copy the layer did not make: the page as the site served it before the
/// layer was put in, or one that passed through it (compressed, `Untouched`), ungated, with
/// its `ETag`, `public`, no `Vary`. The app's `304` went through untouched: the copy, Consent
/// Mode's `default` and the first layer missing, was shown again and kept fresh for ten
/// minutes more. Anyone can also send the validator (it is in the page's old headers). A
/// navigation's validators are not the app's to answer: it gets the page, rewritten.
#[tokio::test]
async fn a_navigation_never_revalidates_a_copy_the_layer_did_not_make() {
    let app = conditional_app(pages());
    let navigation: [&[(&str, &str)]; 3] = [
        &[("sec-fetch-dest", "document")],
        &[("sec-fetch-dest", "iframe")],
        // A browser without `Sec-Fetch-*`: what it accepts.
        &[("accept", "text/html,application/xhtml+xml,*/*;q=0.8")],
    ];
    let validators = [
        ("if-none-match", "\"v1\""),
        ("if-modified-since", "Mon, 07 Dec 2026 12:00:00 GMT"),
    ];
    for request in navigation {
        for validator in validators {
            let mut headers = request.to_vec();
            headers.push(validator);
            let (got, body) = send(&app, Method::GET, &headers).await;
            assert!(
                text(&body).contains("data-consent-nojs"),
                "{headers:?}: the page, rewritten"
            );
            assert_eq!(got[header::CACHE_CONTROL], "private, max-age=600");
            assert!(got.get(header::ETAG).is_none(), "{headers:?}");
        }
    }
    // What is not a page (an image, a script's fetch) is still the app's to revalidate, and
    // a `PUT`'s `If-None-Match: *` still keeps it from overwriting.
    for dest in ["image", "empty"] {
        let request = Request::get("/")
            .header("sec-fetch-dest", dest)
            .header(header::IF_NONE_MATCH, "\"v1\"")
            .body(Body::empty())
            .expect("request");
        let response = app.clone().oneshot(request).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED, "{dest}");
    }
    let request = Request::put("/")
        .header("sec-fetch-dest", "document")
        .header(header::IF_NONE_MATCH, "*")
        .body(Body::empty())
        .expect("request");
    let response = app.oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
}

/// A `304` carries the cache headers of the representation it validates (RFC 9110 15.4.5),
/// and a cache puts them on its stored copy (RFC 9111 4.3.4). One that an app still answers
/// to a page (through the plain function, which sees the response only, or without a
/// validator the layer knows) had the app's: `public`, the CDN's own field, its `ETag`, no
/// `Vary`, so that a cache made a visitor's stored page shareable, or freshened an ungated
/// copy for everyone. It gets a rewritten page's.
#[test]
fn a_not_modified_for_a_page_has_the_rewritten_pages_cache_headers() {
    let pages = pages();
    let mut request = HeaderMap::new();
    request.insert("sec-fetch-dest", "document".parse().expect("value"));
    let mut headers = HeaderMap::new();
    for (k, v) in [
        ("cache-control", "public, max-age=600, s-maxage=3600"),
        ("cdn-cache-control", "max-age=600"),
        ("etag", "\"v1\""),
        ("last-modified", "Mon, 07 Dec 2026 12:00:00 GMT"),
    ] {
        headers.insert(k, v.parse().expect("value"));
    }
    let out = consent_gate::rewrite(
        &pages,
        &request,
        "/",
        StatusCode::NOT_MODIFIED,
        &mut headers,
        b"",
    );
    assert!(out.is_none(), "no page to rewrite");
    assert_eq!(headers[header::CACHE_CONTROL], "private, max-age=600");
    assert_eq!(
        headers[header::VARY],
        "Cookie, Sec-GPC, DNT, Sec-Fetch-Dest"
    );
    for name in ["cdn-cache-control", "etag", "last-modified"] {
        assert!(headers.get(name).is_none(), "{name}: {headers:?}");
    }
    // Not a page (an image): the app's headers, as they were.
    let mut request = HeaderMap::new();
    request.insert("sec-fetch-dest", "image".parse().expect("value"));
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CACHE_CONTROL,
        "public, max-age=600".parse().expect("value"),
    );
    headers.insert(header::ETAG, "\"v1\"".parse().expect("value"));
    let visit = pages.visit(&request, "/");
    assert!(
        pages
            .respond(&visit, StatusCode::NOT_MODIFIED, &mut headers)
            .is_none()
    );
    assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=600");
    assert_eq!(headers[header::ETAG], "\"v1\"");
}
