//! The page layer's cost per page: [`consent_gate::rewrite`] of a realistic 50 kB page
//! (`common::page`) for a returning visitor with a signed decision and for a new visitor,
//! without the page cache (lol_html on every page) and replayed from it (for a new visitor,
//! also with the first layer for another URL on every page), measured in the same run as
//! copying the page's bytes (what a server without the layer does at least), and the
//! per-request parts on their own: reading the visit, and preparing the response (headers
//! and the rewriter, before any byte).
//!
//! ```text
//! cargo bench -p consent-gate --all-features --bench page
//! ```
//!
//! Before criterion runs, the rewritten pages are checked: the decided visitor's allowed
//! scripts are live and no first layer is in the page; the new visitor's page has the first
//! layer and nothing live. The load benchmark is `examples/page_load.rs`; figures and method
//! are in BENCHMARKS.md ("Server-side page layer").

// A benchmark's set-up may panic: it fails loudly rather than measure the wrong thing.
#![allow(clippy::expect_used)]

mod common;

use std::hint::black_box;
use std::sync::Arc;

use consent_gate::Pages;
use criterion::{Criterion, Throughput};
use http::{HeaderMap, HeaderValue, StatusCode, header};

const PATH: &str = "/palvelut/hammashoito";

fn request(cookie: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        header::COOKIE,
        HeaderValue::from_str(cookie).expect("ascii"),
    );
    h.insert(
        header::ACCEPT,
        HeaderValue::from_static("text/html,application/xhtml+xml"),
    );
    h
}

fn response() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("50000"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h
}

fn rewrite(pages: &Arc<Pages>, req: &HeaderMap, body: &[u8]) -> Vec<u8> {
    rewrite_at(pages, req, PATH, body)
}

fn rewrite_at(pages: &Arc<Pages>, req: &HeaderMap, path: &str, body: &[u8]) -> Vec<u8> {
    let mut headers = response();
    consent_gate::rewrite(pages, req, path, StatusCode::OK, &mut headers, body)
        .expect("an HTML page is rewritten")
}

/// The same page fed in `chunk`-byte pieces, as a streamed body arrives.
fn rewrite_chunked(pages: &Arc<Pages>, req: &HeaderMap, body: &[u8], chunk: usize) -> usize {
    let visit = pages.visit(req, PATH);
    let mut headers = response();
    let mut r = pages
        .respond(&visit, StatusCode::OK, &mut headers)
        .expect("an HTML page is rewritten");
    let mut n = 0;
    for c in body.chunks(chunk) {
        n += black_box(r.write(c)).len();
    }
    n + r.end().len()
}

/// How many selectors [`lol_html_floor`] sets.
#[derive(Clone, Copy)]
enum Selectors {
    None,
    Script,
    Layer,
}

/// lol_html alone with the layer's selectors and handlers that do nothing, into a `Vec`: the
/// floor of a layer built on it (`None`: no handler at all, the parser's own floor; `Script`:
/// only `script`, to tell the selector machine's cost per element from its cost per selector).
fn lol_html_floor(body: &[u8], selectors: Selectors) -> Vec<u8> {
    use lol_html::{HtmlRewriter, Settings, element};
    let mut out = Vec::with_capacity(body.len() + 4096);
    let settings = match selectors {
        Selectors::None => Settings::new(),
        Selectors::Script => {
            Settings::new().append_element_content_handler(element!("script", |_| Ok(())))
        }
        Selectors::Layer => Settings::new()
            .append_element_content_handler(element!("html", |_| Ok(())))
            .append_element_content_handler(element!("head", |_| Ok(())))
            .append_element_content_handler(element!("script", |_| Ok(())))
            .append_element_content_handler(element!(
                "iframe[data-category][data-src], img[data-category][data-src]",
                |_| Ok(())
            ))
            .append_element_content_handler(element!("body", |_| Ok(()))),
    };
    let mut r = HtmlRewriter::new(settings, |c: &[u8]| out.extend_from_slice(c));
    r.write(body).expect("write");
    r.end().expect("end");
    out
}

fn check(decided: &str, undecided: &str) {
    assert!(decided.contains(r#"src="https://www.googletagmanager.com/gtag/js?id=G-ABC123""#));
    assert!(
        decided.contains("gtag('consent','update'"),
        "Consent Mode's update"
    );
    assert!(
        !decided.contains("data-consent-nojs"),
        "no first layer for a decided visitor"
    );
    assert!(undecided.contains("data-consent-nojs"), "the first layer");
    assert!(undecided.contains(r#"data-src="https://www.googletagmanager.com"#));
    assert!(!undecided.contains(r#" src="https://www.googletagmanager.com"#));
}

fn main() {
    let config = common::config();
    let key = common::key();
    let decided = request(&common::decided_cookie(&config, &key));
    let undecided = request(common::UNDECIDED_COOKIE);
    let pages = Arc::new(Pages::new(config.clone(), Some(key.clone())).with_cache_capacity(0));
    let cached = Arc::new(Pages::new(config, Some(key)));
    let page = common::page();
    let body = page.as_bytes();

    let d = rewrite(&pages, &decided, body);
    let u = rewrite(&pages, &undecided, body);
    check(
        std::str::from_utf8(&d).expect("utf-8"),
        std::str::from_utf8(&u).expect("utf-8"),
    );
    for _ in 0..2 {
        assert_eq!(
            rewrite(&cached, &decided, body),
            d,
            "the cache replays the page"
        );
        assert_eq!(
            rewrite(&cached, &undecided, body),
            u,
            "the cache replays the page"
        );
    }
    assert_eq!(cached.cache().hits(), 2, "recorded once, then replayed");
    eprintln!(
        "page {} B; rewritten {} B (decided), {} B (undecided)",
        body.len(),
        d.len(),
        u.len()
    );

    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("page 50 kB");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("copy the bytes", |b| b.iter(|| black_box(body).to_vec()));
    g.bench_function("compare the bytes with a copy", |b| {
        let copy = body.to_vec();
        b.iter(|| black_box(body) == black_box(&copy[..]));
    });
    g.bench_function("lol_html alone, no handlers", |b| {
        b.iter(|| lol_html_floor(black_box(body), Selectors::None));
    });
    g.bench_function(
        "lol_html alone, one selector (script), no-op handler",
        |b| {
            b.iter(|| lol_html_floor(black_box(body), Selectors::Script));
        },
    );
    g.bench_function(
        "lol_html alone, the layer's selectors, no-op handlers",
        |b| {
            b.iter(|| lol_html_floor(black_box(body), Selectors::Layer));
        },
    );
    g.bench_function("rewrite, decided visitor", |b| {
        b.iter(|| rewrite(&pages, black_box(&decided), black_box(body)));
    });
    g.bench_function("rewrite, undecided visitor", |b| {
        b.iter(|| rewrite(&pages, black_box(&undecided), black_box(body)));
    });
    g.bench_function("rewrite, decided visitor, cache hit", |b| {
        b.iter(|| rewrite(&cached, black_box(&decided), black_box(body)));
    });
    g.bench_function("rewrite, undecided visitor, cache hit", |b| {
        b.iter(|| rewrite(&cached, black_box(&undecided), black_box(body)));
    });
    // Two URLs in turn: each replay renders the first layer for its URL again (the page
    // cache keeps one), and the page goes out in frames, never kept whole.
    g.bench_function(
        "rewrite, undecided visitor, cache hit, two URLs in turn",
        |b| {
            let urls = [PATH, "/palvelut/hammashoito?utm_source=x"];
            let mut n = 0;
            b.iter(|| {
                n += 1;
                rewrite_at(&cached, black_box(&undecided), urls[n % 2], black_box(body))
            });
        },
    );
    g.bench_function("rewrite, decided visitor, 16 kB chunks", |b| {
        b.iter(|| rewrite_chunked(&pages, black_box(&decided), black_box(body), 16 * 1024));
    });
    g.finish();

    let mut g = c.benchmark_group("per request");
    g.bench_function("visit (verdict on the Cookie header)", |b| {
        b.iter(|| pages.visit(black_box(&decided), PATH));
    });
    let visit = pages.visit(&decided, PATH);
    g.bench_function("respond (headers and rewriter, no body)", |b| {
        b.iter(|| {
            let mut headers = response();
            pages.respond(black_box(&visit), StatusCode::OK, &mut headers)
        });
    });
    g.finish();
    c.final_summary();
}
