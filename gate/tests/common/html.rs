//! Pages made of pieces that look like HTML often enough to reach every handler of the
//! rewriter, for the property tests.

use proptest::prelude::*;

/// Bytes that look like HTML often enough to reach every handler: gated scripts and embeds,
/// the banner's stylesheet and module script, markup whose parse needs the whole tree, a run
/// longer than the page cache copies (replayed as a shared slice), text that starts like
/// the cache's own holes, templates, byte order marks, charset and CSP `<meta>`s, several
/// `<html lang>`, and the end script's marks written by the page itself.
pub(crate) fn page() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        any::<Vec<u8>>(),
        Just(
            b"<script type=\"text/plain\" data-category=\"analytics\" data-src=\"/a.js\">".to_vec()
        ),
        Just(b"<script type='text/plain' data-category=marketing>x</script>".to_vec()),
        Just(b"<script>".to_vec()),
        Just(b"<script type=module src=/consent/consent.js data-layout=bar></script>".to_vec()),
        Just(b"<iframe data-category=\"marketing\" data-src=\"/v\">".to_vec()),
        Just(b"<img data-category data-src>".to_vec()),
        Just(b"<html lang=\"sv\"><head><body></body></html>".to_vec()),
        Just(b"<link rel=stylesheet href=/consent.css>".to_vec()),
        Just(b"<body>".to_vec()),
        Just(b"<template>".to_vec()),
        Just(b"</template>".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        Just(b"<head>".to_vec()),
        Just(b"</head>".to_vec()),
        Just(b"</body>".to_vec()),
        Just(b"<select><xmp>".to_vec()),
        Just(b"<noscript>".to_vec()),
        Just(b"<plaintext>".to_vec()),
        Just(b"<script type=text/plain data-consent-js=/x.js></script>".to_vec()),
        Just(b"<link data-consent-css href=/x.css>".to_vec()),
        Just(b"<meta http-equiv=content-type content=\"text/html; charset=iso-8859-1\">".to_vec()),
        Just(b"<meta charset=utf-8>".to_vec()),
        Just(b"P\xe4\xe4sivu \xc3\xa4".to_vec()),
        Just(b"<html lang=fi>".to_vec()),
        Just(b"<img data-category=\"!marketing\" data-src=/n.png>".to_vec()),
        Just(b"<meta http-equiv=Content-Security-Policy content=\"default-src 'self'\">".to_vec()),
        Just(b"\xFF\xFE".to_vec()),
        Just(b"<meta charset=windows-1252>".to_vec()),
        Just(
            b"<meta http-equiv=content-security-policy content=\"script-src &#39;self&#39;\">"
                .to_vec()
        ),
        Just(b"<!-- <script".to_vec()),
        Just(b"<svg><script>".to_vec()),
        Just(b"<svg><foreignObject><body>".to_vec()),
        Just(b"</svg>".to_vec()),
        Just(b"</".to_vec()),
        Just(b"\"'<>=".to_vec()),
        Just(b"<p>text</p>".repeat(500)),
        Just(b"X9k2consentgateholeN".to_vec()),
        Just(b"X9k2consentgatehole".to_vec()),
    ];
    proptest::collection::vec(piece, 0..12).prop_map(|p| p.concat())
}
