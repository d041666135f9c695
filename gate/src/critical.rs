//! The first layer's critical CSS: the rules of the banner's stylesheet (`consent.css`) that
//! the server-rendered first layer uses, inlined in front of it, so that it paints with the
//! page's first paint instead of waiting for the stylesheet.
//!
//! The rules are not written again by hand: `critical.css` is made from
//! `wasm/css/consent.css` by keeping each rule whose selector names only classes of the
//! rendered first layer ([`first_layer::render`](crate::first_layer::render)), and a test
//! fails when the file is not what the two make today (`UPDATE_CRITICAL_CSS=1 cargo test -p
//! consent-gate --all-features critical` writes it). The file is in the crate, rather than
//! read from `wasm/` at build time, so that the published crate builds on its own. The whole
//! stylesheet still loads (after the page's content, see [`crate::Pages`]); its rules repeat
//! these, so nothing changes when it arrives.

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

/// The first layer's rules of the banner's stylesheet (see the module docs).
const CRITICAL_CSS: &str = include_str!("critical.css");

/// The attribute that marks the banner's stylesheet, held back until the first paint.
pub(crate) const STYLESHEET_MARK: &str = "data-consent-css";

/// The attribute that holds the `src` of the banner's module script, held back until the
/// first paint.
pub(crate) const MODULE_MARK: &str = "data-consent-js";

/// The attribute of the end script's own tag that names the `src` of the module held back
/// just before it: the only element the end script loads.
pub(crate) const MODULE_SRC: &str = "data-consent-src";

/// The script, at the end of `<body>`, that loads what the layer held back from the first
/// paint. Once the first contentful paint is on screen (the browser's `paint` timing entry;
/// at once in a hidden tab, which paints nothing; after three seconds at the latest, for a
/// page that paints no content; after the next frame in a browser without paint timing):
/// - it makes the banner's stylesheet a stylesheet again: added by a script, it
///   holds back neither the paint nor any script, and the first frame does not restyle the
///   page with it (the first layer has its critical CSS);
/// - it puts the banner's module script back, with its attributes and nonce, so that the
///   banner's module is not evaluated while the first frame is produced, nor competes with
///   an analytics tag the layer made live. Only the one the layer wrote just before the
///   script's own tag, with the `src` that tag names ([`MODULE_SRC`]): a document-wide query
///   also found marks that page content placed where lol_html reads text and a browser
///   makes elements (foreign content), and under `'strict-dynamic'` what the script adds
///   runs whatever its URL.
///
/// A settings control (`[data-consent-open]`) clicked loads them at once, if they are not
/// loaded yet, and is marked `data-consent-clicked`: a banner that has not started yet opens
/// its preferences when it starts (one that has, at the click, and drops the mark).
pub(crate) const END_SCRIPT: &str = "{const me=document.currentScript,src=me?.dataset.consentSrc,\
go=()=>{for(const l of document.querySelectorAll('link[data-consent-css]'))l.rel='stylesheet';\
const o=me?.previousElementSibling;if(src&&o?.dataset?.consentJs===src){\
const s=document.createElement('script');for(const a of o.attributes)s.setAttribute(a.name,a.value);\
s.removeAttribute('data-consent-js');s.type='module';s.nonce=o.nonce;s.src=src;o.replaceWith(s)}},\
early=e=>{const o=e.target instanceof Element&&e.target.closest('[data-consent-open]');if(o){o.setAttribute('data-consent-clicked','');go()}},\
later=()=>setTimeout(go);addEventListener('click',early,true);\
if(document.hidden)go();else if(self.PerformanceObserver?.supportedEntryTypes?.includes('paint')){\
new PerformanceObserver((l,o)=>{for(const e of l.getEntries())if(e.name==='first-contentful-paint'){o.disconnect();later()}})\
.observe({type:'paint',buffered:true});setTimeout(go,3e3)}else requestAnimationFrame(later)}";

/// The critical CSS and its CSP hash source, computed once per [`Pages`](crate::Pages).
#[derive(Debug)]
pub(crate) struct Critical {
    /// The `<style>` element's text.
    pub(crate) css: String,
    /// `'sha256-<base64>'` of [`Self::css`].
    pub(crate) hash: String,
    /// `'sha256-<base64>'` of [`END_SCRIPT`].
    pub(crate) script_hash: String,
}

impl Critical {
    /// The first layer's critical CSS and its hash.
    pub(crate) fn new() -> Self {
        let mut css = CRITICAL_CSS.trim_end().to_owned();
        // Never the end of the element: the text goes between <style> and </style> raw.
        if css.contains("</") {
            css.clear();
        }
        let hash = |text: &str| {
            format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
            )
        };
        Self {
            hash: hash(&css),
            script_hash: hash(END_SCRIPT),
            css,
        }
    }
}

/// How `critical.css` is made: only in tests, which check the file against it.
#[cfg(test)]
mod make {
    /// Every class named in `class="..."` attributes of `html` (maud writes them double-quoted).
    pub(super) fn classes(html: &str) -> Vec<&str> {
        let mut out: Vec<&str> = html
            .split("class=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .flat_map(str::split_ascii_whitespace)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The rules of `stylesheet` whose selectors name only `classes`, minified (comments and
    /// runs of white space dropped). In a rule, the selectors that name another class are left
    /// out; `@media` blocks are filtered in the same way, and `@keyframes` are kept when a kept
    /// rule names them. Other at-rules are left out.
    pub(super) fn extract(stylesheet: &str, classes: &[&str]) -> String {
        let text = minify(stylesheet);
        let mut kept = String::new();
        let mut keyframes = Vec::new();
        filter_block(&text, classes, &mut kept, &mut keyframes);
        for (name, rule) in keyframes {
            if kept.contains(name) {
                kept.push_str(rule);
            }
        }
        kept
    }

    /// The top-level items of a block: `(prelude, body)` for each `prelude{body}`.
    pub(super) fn items(block: &str) -> Vec<(&str, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let mut depth = 0usize;
        let mut open = 0;
        for (i, b) in block.bytes().enumerate() {
            match b {
                b'{' => {
                    if depth == 0 {
                        open = i;
                    }
                    depth += 1;
                }
                b'}' if depth > 0 => {
                    depth -= 1;
                    if depth == 0 {
                        out.push((block[start..open].trim(), &block[open + 1..i]));
                        start = i + 1;
                    }
                }
                _ => {}
            }
        }
        out
    }

    pub(super) fn filter_block<'a>(
        block: &'a str,
        classes: &[&str],
        kept: &mut String,
        keyframes: &mut Vec<(&'a str, &'a str)>,
    ) {
        for (prelude, body) in items(block) {
            if let Some(name) = prelude.strip_prefix("@keyframes") {
                // The whole rule, to add at the end if a kept rule uses it.
                let start = prelude.as_ptr() as usize - block.as_ptr() as usize;
                let end = body.as_ptr() as usize - block.as_ptr() as usize + body.len() + 1;
                keyframes.push((name.trim(), &block[start..end]));
            } else if prelude.starts_with("@media") {
                let mut inner = String::new();
                filter_block(body, classes, &mut inner, keyframes);
                if !inner.is_empty() {
                    kept.push_str(prelude);
                    kept.push('{');
                    kept.push_str(&inner);
                    kept.push('}');
                }
            } else if !prelude.starts_with('@') {
                let selectors: Vec<&str> = selectors(prelude)
                    .into_iter()
                    .filter(|s| names_only(s, classes))
                    .collect();
                if !selectors.is_empty() {
                    kept.push_str(&selectors.join(","));
                    kept.push('{');
                    kept.push_str(body.trim());
                    kept.push('}');
                }
            }
        }
    }

    /// A selector list split at its top-level commas (not those inside `:has(...)`).
    pub(super) fn selectors(list: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut depth = 0usize;
        let mut start = 0;
        for (i, b) in list.bytes().enumerate() {
            match b {
                b'(' => depth += 1,
                b')' => depth = depth.saturating_sub(1),
                b',' if depth == 0 => {
                    out.push(list[start..i].trim());
                    start = i + 1;
                }
                _ => {}
            }
        }
        out.push(list[start..].trim());
        out
    }

    /// Whether every class `selector` names is one of `classes`.
    pub(super) fn names_only(selector: &str, classes: &[&str]) -> bool {
        selector.split('.').skip(1).all(|rest| {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                .unwrap_or(rest.len());
            classes.contains(&&rest[..end])
        })
    }

    /// `css` without comments, with every run of white space one space.
    pub(super) fn minify(css: &str) -> String {
        let mut out = String::with_capacity(css.len());
        let mut rest = css;
        while let Some(start) = rest.find("/*") {
            out.push_str(&rest[..start]);
            rest = rest[start + 2..]
                .find("*/")
                .map_or("", |end| &rest[start + 2 + end + 2..]);
        }
        out.push_str(rest);
        out.split_ascii_whitespace().collect::<Vec<_>>().join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::make::*;
    use super::*;

    /// The banner's stylesheet, as the banner ships it.
    const STYLESHEET: &str = include_str!("../../wasm/css/consent.css");

    fn critical() -> Critical {
        Critical::new()
    }

    #[test]
    fn critical_css_is_the_stylesheet_s_first_layer_rules() {
        let config = consent_core::Config::from_json(consent_core::EXAMPLE_CONFIG)
            .unwrap_or_else(|e| unreachable!("{e}"));
        let html = crate::first_layer::render(&config, consent_core::Lang::En, "/", true);
        let names = classes(&html);
        let made = extract(STYLESHEET, &names) + "\n";
        if made != CRITICAL_CSS {
            if std::env::var_os("UPDATE_CRITICAL_CSS").is_some() {
                let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/critical.css");
                std::fs::write(path, &made).unwrap_or_else(|e| unreachable!("{path}: {e}"));
            }
            panic!(
                "gate/src/critical.css is not the first layer's rules of wasm/css/consent.css: \
                 run UPDATE_CRITICAL_CSS=1 cargo test -p consent-gate --all-features critical"
            );
        }
    }

    #[test]
    fn the_first_layer_s_rules_and_no_others() {
        let c = critical();
        for rule in [
            ".consent-root{",
            ".consent-banner{",
            ".consent-box .consent-banner{",
            ".consent-box.consent-pos-bottom .consent-banner{",
            ".consent-btn{",
            ".consent-actions{",
            ".consent-gpc{",
            ".consent-root :focus-visible{",
            ".consent-banner:focus{",
            ".consent-still .consent-banner{",
            "@media (max-width: 40rem){.consent-root[class] .consent-banner{",
            "@keyframes consent-in",
        ] {
            assert!(c.css.contains(rule), "{rule} missing from {}", c.css);
        }
        for other in [
            "consent-prefs",
            "consent-switch",
            "consent-theme-dark",
            "consent-float",
            "consent-wait",
            "consent-embed",
            "/*",
        ] {
            assert!(!c.css.contains(other), "{other} in {}", c.css);
        }
        assert!(c.css.len() < STYLESHEET.len() / 2, "{} B", c.css.len());
        assert!(c.hash.starts_with("'sha256-") && c.hash.ends_with("='"));
    }

    #[test]
    fn selector_lists_split_outside_parentheses() {
        assert_eq!(
            selectors(".a:has(.b, .c) .d, .e"),
            vec![".a:has(.b, .c) .d", ".e"]
        );
        assert!(names_only(
            ".consent-root[class] .consent-banner",
            &["consent-root", "consent-banner"]
        ));
        assert!(!names_only(
            ".consent-root.consent-theme-dark",
            &["consent-root"]
        ));
        assert_eq!(minify("a /* x */ {\n  b: c;\n}"), "a { b: c; }");
    }
}
