//! Fuzzes consent-gate's HTML layer: arbitrary bytes as a page, cut into chunks of an
//! arbitrary size, for a visitor who accepted everything, one who refused, and one who has
//! not decided.
//!
//! The first input byte picks the chunk size (1 to 256) and the visitor. It checks that:
//! - rewriting never panics, whatever the markup, the chunking or the encoding;
//! - the page rewritten in chunks is the page rewritten whole (nothing lost or doubled at a
//!   chunk boundary);
//! - for a visitor who refused everything, on a site without Consent Mode, a page with no
//!   necessary or negated (`!category`) element, no banner stylesheet or module (held back
//!   until the first paint), no end script's mark (taken off) and no policy in a `<meta>`
//!   (which gets the layer's hashes) comes out unchanged, byte for byte;
//! - the page replayed from the layer's cache (`consent_gate::rewrite`, twice: recorded,
//!   then replayed) is the page rewritten as it streams;
//! - the first two hold whether the response names UTF-8 or no charset (the page's `<meta>`
//!   or byte order mark may then name one).
#![no_main]

use std::sync::{Arc, OnceLock};

use consent_core::policy::{self, Action, Context, Signals};
use consent_core::{Config, ConsentId, Lang, Token};
use consent_gate::Pages;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use libfuzzer_sys::fuzz_target;

struct Site {
    pages: Arc<Pages>,
    /// The cookie headers of the three visitors: none, accepted all, refused all.
    visitors: [HeaderMap; 3],
}

fn site() -> &'static Site {
    static SITE: OnceLock<Site> = OnceLock::new();
    SITE.get_or_init(|| {
        let json = consent_core::EXAMPLE_CONFIG.replacen(
            "\"consent_mode\": {\"enabled\": true",
            "\"consent_mode\": {\"enabled\": false",
            1,
        );
        let config = Config::from_json(&json).expect("the example config, without Consent Mode");
        // Decided now: the layer reads the clock, and the decisions must be current.
        let now = time::OffsetDateTime::now_utc();
        let cookie = |action| {
            let before = policy::evaluate(&config, None, None, now, Signals::default());
            let ctx = Context {
                now,
                signals: Signals::default(),
                lang: Lang::Fi,
                fresh_id: ConsentId::from_bytes([1; 16]),
            };
            let d = policy::decide(&config, &before, action, ctx).expect("in range");
            let mut h = HeaderMap::new();
            let value = format!("consent={}", Token::unsigned(*d.state()));
            h.insert(
                header::COOKIE,
                HeaderValue::from_str(&value).expect("a token is header text"),
            );
            h
        };
        let visitors = [
            HeaderMap::new(),
            cookie(Action::AcceptAll),
            cookie(Action::RejectAll),
        ];
        Site {
            pages: Arc::new(Pages::new(config, None)),
            visitors,
        }
    })
}

/// The response's `Content-Type`: UTF-8 named, or no charset (the page's `<meta>` or byte
/// order mark may name one).
const CONTENT_TYPES: [&str; 2] = ["text/html; charset=utf-8", "text/html"];

fn rewrite(
    site: &Site,
    visitor: usize,
    body: &[u8],
    chunk: usize,
    content_type: &'static str,
) -> Vec<u8> {
    let visit = site.pages.visit(&site.visitors[visitor], "/");
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let mut r = site
        .pages
        .respond(&visit, StatusCode::OK, &mut headers)
        .expect("an HTML page is rewritten");
    let mut out = Vec::new();
    for piece in body.chunks(chunk) {
        out.extend(r.write(piece));
    }
    out.extend(r.end());
    out
}

/// The page rewritten whole, after checking that it is the page rewritten in chunks of
/// `chunk` and the page replayed from the cache.
fn same_every_way(
    site: &Site,
    visitor: usize,
    body: &[u8],
    chunk: usize,
    content_type: &'static str,
) -> Vec<u8> {
    let chunked = rewrite(site, visitor, body, chunk, content_type);
    let whole = rewrite(site, visitor, body, body.len().max(1), content_type);
    assert_eq!(
        chunked, whole,
        "chunks of {chunk} change the page ({content_type})"
    );
    for _ in 0..2 {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        let cached = consent_gate::rewrite(
            &site.pages,
            &site.visitors[visitor],
            "/",
            StatusCode::OK,
            &mut headers,
            body,
        );
        // `None` is a page passed through as it was (an empty one, say).
        assert_eq!(
            cached.as_deref().unwrap_or(body),
            &whole[..],
            "the cache changes the page ({content_type})"
        );
    }
    whole
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let site = site();
    let chunk = usize::from(first) + 1;
    let visitor = usize::from(first % 3);
    let whole = same_every_way(site, visitor, body, chunk, CONTENT_TYPES[0]);
    same_every_way(site, visitor, body, chunk, CONTENT_TYPES[1]);
    let text = String::from_utf8_lossy(body).to_ascii_lowercase();
    if visitor == 2
        && !text.contains("necessary")
        && !text.contains('!')
        && !text.contains("consent.css")
        && !text.contains("consent.js")
        // The end script's marks, which the layer takes off the page's own elements.
        && !text.contains("data-consent-")
        // A policy in a `<meta>`, which gets the hashes of what the layer writes.
        && !text.contains("content-security-policy")
    {
        assert_eq!(whole, body, "a refused visitor's page changed");
    }
});
