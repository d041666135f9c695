//! [`Pages`]: the site's policy, ready to rewrite its HTML for each visit.

use std::sync::Arc;

use bytes::Bytes;
use consent_core::policy::Evaluation;
use consent_core::{Config, Gate, Lang, SigningKey, TokenKeys, Verdict};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use lol_html::{AsciiCompatibleEncoding, Selector};
use time::OffsetDateTime;

use crate::cache::{Class, Key, Origin, PageCache, Recorded};
use crate::critical::Critical;
use crate::csp::Kind;
use crate::rewriter::{FirstLayer, Inserts, PageRewriter};

/// The request header that says what the response is for (a page, a frame, a script's fetch).
const SEC_FETCH_DEST: http::HeaderName = http::HeaderName::from_static("sec-fetch-dest");

/// The site's config and [`Gate`], ready to rewrite its pages: build it once at start-up
/// and share it (the [`PageLayer`](crate::PageLayer) holds it in an `Arc`).
///
/// # Example
/// ```
/// use std::sync::Arc;
/// use consent_core::Config;
/// use consent_gate::Pages;
/// use http::{HeaderMap, StatusCode};
///
/// let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
/// let pages = Arc::new(Pages::new(config, None));
///
/// // A first visit: nothing gated is made live, and the first layer is in the page.
/// let html = br#"<html lang="en"><body><script type="text/plain" data-category="analytics"
///     data-src="/ga.js"></script></body></html>"#;
/// let mut headers = HeaderMap::new();
/// headers.insert("content-type", "text/html; charset=utf-8".parse()?);
/// let out = consent_gate::rewrite(&pages, &HeaderMap::new(), "/", StatusCode::OK, &mut headers, html)
///     .expect("an HTML page is rewritten");
/// let out = String::from_utf8(out)?;
/// assert!(out.contains(r#"data-src="/ga.js""#), "still inert");
/// assert!(out.contains("Accept all"), "the first layer, in the page's language");
/// assert_eq!(headers["cache-control"], "private");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Pages {
    config: Config,
    gate: Arc<Gate>,
    selectors: Selectors,
    critical: Critical,
    cache: PageCache,
}

/// The elements the layer reads, parsed once: the banner's gated elements (its `GATED`
/// selector) and the few the layer writes into.
#[derive(Debug)]
pub(crate) struct Selectors {
    pub(crate) html: Selector,
    pub(crate) head: Selector,
    pub(crate) script: Selector,
    pub(crate) embed: Selector,
    pub(crate) stylesheet: Selector,
    pub(crate) meta: Selector,
    pub(crate) title: Selector,
    pub(crate) template: Selector,
    pub(crate) policy: Selector,
    /// The elements after which lol_html guesses the tree ([`Page::guessed`]).
    pub(crate) guessed: Selector,
    /// The elements the layer makes live or writes a nonce at, where lol_html guesses the
    /// tree: inside a drawing or a formula, even an HTML part of one (`Page::foreign`).
    pub(crate) in_foreign: Selector,
}

impl Selectors {
    fn new() -> Self {
        let parse = |s: &str| match s.parse::<Selector>() {
            Ok(selector) => selector,
            // The selectors are fixed text, tested below: this arm never runs.
            Err(e) => unreachable!("selector {s}: {e}"),
        };
        const SCRIPT: &str = "script";
        const EMBED: &str = "iframe[data-category][data-src], img[data-category][data-src]";
        // Any link already marked too: the page's own marks are taken off (`Page::link`).
        const STYLESHEET: &str = "link[href*=\"consent.css\"], link[data-consent-css]";
        // Each of them inside a drawing or a formula: exactly those, since a mark left on
        // one that no later handler takes would be taken by the next element's.
        let in_foreign = [SCRIPT, EMBED, STYLESHEET]
            .iter()
            .flat_map(|list| list.split(", "))
            .flat_map(|one| [format!("svg {one}"), format!("math {one}")])
            .collect::<Vec<_>>()
            .join(", ");
        Self {
            html: parse("html"),
            head: parse("head"),
            script: parse(SCRIPT),
            embed: parse(EMBED),
            stylesheet: parse(STYLESHEET),
            meta: parse("meta"),
            title: parse("title"),
            template: parse("template"),
            policy: parse("meta[http-equiv][content]"),
            guessed: parse("svg, math, select"),
            in_foreign: parse(&in_foreign),
        }
    }
}

/// One request, as the layer sees it: the verdict on its headers and the page's path.
#[derive(Clone, Debug)]
pub struct Visit {
    verdict: Verdict,
    gpc: bool,
    path_and_query: String,
    path_len: usize,
    /// What the request says of its origin: with the path, the resource an `ETag` names.
    origin: Origin,
    /// Whether its response is its own, not the page's for every request alike: built for
    /// its credentials (`Authorization`, or a cookie besides the consent cookie: a session)
    /// or for its method (any but `GET` and `HEAD`: a form's `POST`, with what was posted).
    /// Varnish's built-in rules serve none of them from the cache, nor keep their responses.
    own: bool,
    /// Whether it is a `HEAD` request: its response has the page's headers but no page.
    head: bool,
    /// Whether a script asked for it (`Sec-Fetch-Dest: empty`: `fetch`, htmx, Turbo): a
    /// fragment to swap into a page that already has the banner, not a page.
    fetched: bool,
    /// Whether it asks for a page to show ([`asks_for_a_page`]).
    page: bool,
}

impl Visit {
    /// The verdict on the request's cookie, `Sec-GPC` and `DNT` (the same as
    /// [`verdict`](crate::verdict)).
    #[must_use]
    pub fn verdict(&self) -> &Verdict {
        &self.verdict
    }

    pub(crate) fn evaluation(&self) -> &Evaluation {
        self.verdict.evaluation()
    }

    /// The page's path, for the rules that depend on it.
    pub(crate) fn path(&self) -> &str {
        self.path_and_query.get(..self.path_len).unwrap_or("/")
    }

    pub(crate) fn gpc(&self) -> bool {
        self.gpc
    }

    pub(crate) fn path_and_query(&self) -> &str {
        &self.path_and_query
    }

    pub(crate) fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The request's authority from its URI, which HTTP/2 sends instead of `Host`.
    pub(crate) fn set_authority(&mut self, authority: &str) {
        self.origin = std::mem::take(&mut self.origin).with_authority(authority);
    }

    /// Reads the request's method: a `HEAD` request's response gets the headers a `GET`'s
    /// would, and its body (empty, or the page a handler wrote anyway) is neither rewritten
    /// nor recorded; the response to any method but `GET` and `HEAD` is its own.
    pub(crate) fn set_method(&mut self, method: &http::Method) {
        if method == http::Method::HEAD {
            self.head = true;
        } else if method != http::Method::GET {
            self.own = true;
        }
    }

    /// Takes from a `GET` or `HEAD` request for a page the validators of a stored copy
    /// (`If-None-Match`, `If-Modified-Since`), so that the app sends the page to rewrite.
    /// The layer's pages carry none: a copy revalidated for a page is one the layer did not
    /// make (the page as served before the layer, or passed through it, compressed or
    /// [`Untouched`]), or a validator anyone can send, and the app's `304` would show it
    /// again, ungated, and keep it fresh. Any other method's (`If-None-Match: *` on a `PUT`)
    /// are kept, as is any request's that is not for a page (an image, a script's fetch).
    pub(crate) fn drop_validators(&self, method: &http::Method, headers: &mut HeaderMap) {
        if self.page && (method == http::Method::GET || method == http::Method::HEAD) {
            headers.remove(header::IF_NONE_MATCH);
            headers.remove(header::IF_MODIFIED_SINCE);
        }
    }

    /// Whether the first layer is due: no valid decision (none, expired, of an older
    /// revision, unsigned when the server has a key, or damaged).
    pub(crate) fn first_layer_due(&self) -> bool {
        self.evaluation().show_banner()
    }

    pub(crate) fn first_layer_html(&self, pages: &Pages, lang: Lang) -> String {
        crate::first_layer::render(pages.config(), lang, &self.path_and_query, self.gpc)
    }
}

/// A response marked to pass through the [`PageLayer`](crate::PageLayer) untouched: put it
/// in the response's extensions (`response.extensions_mut().insert(Untouched)`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Untouched;

impl Pages {
    /// The pages of the site `config` describes. With a `key`, only decisions signed with it
    /// count, as for [`Gate::new`]. For the consent server's key file, which holds retired
    /// keys once rotated, use [`with_keys`](Self::with_keys).
    #[must_use]
    pub fn new(config: Config, key: Option<SigningKey>) -> Self {
        let gate = Gate::new(&config, key);
        Self::with_gate(config, gate)
    }

    /// The pages of the site `config` describes, where only decisions signed under one of
    /// `keys` count: the server key file's current key and the retired keys whose tokens it
    /// still accepts ([`read_key_file`](crate::read_key_file), [`Gate::with_keys`]).
    #[must_use]
    pub fn with_keys(config: Config, keys: TokenKeys) -> Self {
        let gate = Gate::with_keys(&config, keys);
        Self::with_gate(config, gate)
    }

    fn with_gate(config: Config, gate: Gate) -> Self {
        let gate = Arc::new(gate);
        let critical = Critical::new();
        Self {
            config,
            gate,
            selectors: Selectors::new(),
            critical,
            cache: PageCache::new(crate::cache::DEFAULT_CAPACITY),
        }
    }

    /// The same pages with a [`PageCache`] of `bytes` (the default is
    /// [`DEFAULT_CAPACITY`](crate::DEFAULT_CAPACITY), 32 MiB); `0` turns the cache off, and
    /// every page is rewritten as it streams.
    #[must_use]
    pub fn with_cache_capacity(mut self, bytes: usize) -> Self {
        self.cache = PageCache::new(bytes);
        self
    }

    /// The cache of recorded rewrites.
    #[must_use]
    pub fn cache(&self) -> &PageCache {
        &self.cache
    }

    pub(crate) fn critical(&self) -> &Critical {
        &self.critical
    }

    /// The site's config.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The gate, to share with a [`ConsentLayer`](crate::ConsentLayer) or handlers.
    #[must_use]
    pub fn gate(&self) -> &Arc<Gate> {
        &self.gate
    }

    pub(crate) fn selectors(&self) -> &Selectors {
        &self.selectors
    }

    /// Reads a request: its consent (headers) and its page (`path_and_query`, as in
    /// `/ajanvaraus?x=1`).
    #[must_use]
    pub fn visit(&self, headers: &HeaderMap, path_and_query: &str) -> Visit {
        let signals = crate::signals(headers);
        let verdict =
            crate::request::verdict_with(&self.gate, headers, signals, OffsetDateTime::now_utc());
        let path_len = path_and_query.find('?').unwrap_or(path_and_query.len());
        Visit {
            verdict,
            gpc: signals.gpc,
            path_and_query: path_and_query.to_owned(),
            path_len,
            origin: Origin::of(headers),
            own: headers.contains_key(header::AUTHORIZATION)
                || other_cookies(headers, self.config.cookie().name()),
            head: false,
            fetched: headers
                .get(SEC_FETCH_DEST)
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"empty")),
            page: asks_for_a_page(headers),
        }
    }

    /// Prepares a response for `visit`: `None` when it passes through as it is (not HTML,
    /// compressed, with no body, or partial or fetched by a script, whose page keeps its body
    /// but gets the cache headers below too); else its headers are made right for a page
    /// that differs per visitor, and the returned rewriter rewrites its body.
    ///
    /// The headers: `Cache-Control: private` (a shared cache must never serve one visitor's
    /// page to another; `public` and `s-maxage` go, and so do the fields a CDN or proxy
    /// reads instead, `CDN-Cache-Control`, `Surrogate-Control` and nginx's
    /// `X-Accel-Expires`), `Vary: Cookie, Sec-GPC, DNT, Sec-Fetch-Dest` (a browser's own
    /// cache keeps one copy per decision, and a script's fetch of the address, which passes
    /// through, is another response), no `ETag` or `Last-Modified` (they describe the page
    /// before rewriting), no `Content-Length` (the length changes; a script's fetch keeps
    /// its own), and the Content-Security-Policy allows the Consent Mode script. A `304 Not
    /// Modified` to a request for a page (a navigation) gets the same cache headers: it
    /// carries those of the page it validates. The [`PageLayer`](crate::PageLayer) also takes
    /// the validators (`If-None-Match`, `If-Modified-Since`) off a `GET` for a page, so that
    /// the app sends the page to rewrite: a server that calls this directly takes them off
    /// itself, or its app's `304` shows again a copy of the page the layer did not make.
    pub fn respond(
        self: &Arc<Self>,
        visit: &Visit,
        status: StatusCode,
        headers: &mut HeaderMap,
    ) -> Option<PageRewriter> {
        let prepared = self.prepare(visit, status, headers)?;
        Some(prepared.rewriter(self, visit.clone(), FirstLayer::Rendered))
    }

    /// How a response is rewritten: streamed, or through the cache (`body_len` is the
    /// body's length when known).
    pub(crate) fn plan(
        self: &Arc<Self>,
        visit: Visit,
        status: StatusCode,
        headers: &mut HeaderMap,
        body_len: Option<u64>,
    ) -> Option<Plan> {
        if visit.head || status == StatusCode::NOT_MODIFIED {
            // The headers of the page, for a body that is not the page.
            let _ = self.prepare(&visit, status, headers);
            return None;
        }
        if body_len == Some(0) {
            // No page: nothing to add to it (an empty swap of htmx, say).
            return None;
        }
        let prepared = self.prepare(&visit, status, headers)?;
        if !self.cache.enabled() {
            return Some(Plan::Stream(Box::new(prepared.rewriter(
                self,
                visit,
                FirstLayer::Rendered,
            ))));
        }
        let class = prepared.class(&visit);
        if let Some(etag) = &prepared.etag {
            let key = PageCache::etag_key(&visit, etag, class.clone());
            if let Some(recorded) = self.cache.get(&key, None) {
                return Some(Plan::Replay(prepared.replay(self, &visit, &recorded)));
            }
        }
        let small = body_len.is_some_and(|n| n <= self.cache.max_body() as u64);
        if !small {
            return Some(Plan::Stream(Box::new(prepared.rewriter(
                self,
                visit,
                FirstLayer::Rendered,
            ))));
        }
        Some(Plan::Buffer(Box::new(Pending {
            pages: Arc::clone(self),
            visit,
            prepared,
            class,
        })))
    }

    /// The response's headers made right for a rewritten page, and what its rewrite needs.
    fn prepare(
        &self,
        visit: &Visit,
        status: StatusCode,
        headers: &mut HeaderMap,
    ) -> Option<Prepared> {
        if status == StatusCode::NOT_MODIFIED {
            // It carries the headers of the representation it validates (RFC 9110, 15.4.5),
            // which a cache puts on its stored copy: for a page, a rewritten page's.
            if visit.page {
                private(headers);
            }
            return None;
        }
        if status.is_informational() || status == StatusCode::NO_CONTENT {
            return None;
        }
        let (encoding, declared) = html_encoding(headers)?;
        if download(headers) {
            return None;
        }
        let compressed = headers
            .get_all(header::CONTENT_ENCODING)
            .iter()
            .any(|v| !v.as_bytes().eq_ignore_ascii_case(b"identity"));
        if compressed {
            return None;
        }
        if visit.fetched || status == StatusCode::PARTIAL_CONTENT {
            // Passed through as written (a part of the page cannot be rewritten), but as one
            // of the page's representations: anyone can ask for it (`Range` as well as
            // `Sec-Fetch-Dest`), and no cache may give it, or the page it assembles from such
            // parts, to a navigation (it has no Consent Mode `default` and no first layer).
            private(headers);
            return None;
        }
        // Before `private` takes the ETag away: it names the page as the server sent it.
        let etag = crate::cache::trusted_etag(headers, visit.own);
        private(headers);
        // The length changes.
        headers.remove(header::CONTENT_LENGTH);
        let csp = headers.contains_key(header::CONTENT_SECURITY_POLICY)
            || headers.contains_key(header::CONTENT_SECURITY_POLICY_REPORT_ONLY);
        // A nonce is only ever read from a policy.
        let script_nonce = csp
            .then(|| crate::csp::nonce(headers, Kind::Script))
            .flatten();
        // The script itself is written only when the page is rewritten (not replayed).
        if csp {
            if let Some(js) = crate::consent_mode::script(&self.config, visit.evaluation()) {
                let hash = crate::csp::hash_source(&js);
                crate::csp::allow_inline(headers, &hash, script_nonce.as_deref(), Kind::Script);
            }
        }
        if csp {
            // The script that applies the banner's stylesheet, if the page links it.
            crate::csp::allow_inline(
                headers,
                &self.critical.script_hash,
                script_nonce.as_deref(),
                Kind::Script,
            );
        }
        let mut style_nonce = None;
        if visit.first_layer_due() && csp && !self.critical.css.is_empty() {
            style_nonce = crate::csp::nonce(headers, Kind::Style);
            crate::csp::allow_inline(
                headers,
                &self.critical.hash,
                style_nonce.as_deref(),
                Kind::Style,
            );
        }
        Some(Prepared {
            encoding,
            meta_charset: !declared,
            script_nonce,
            style_nonce,
            etag,
        })
    }
}

/// What a response's rewrite needs, once its headers are made right.
pub(crate) struct Prepared {
    encoding: AsciiCompatibleEncoding,
    /// The response names no charset: the page's `<meta charset>` may.
    meta_charset: bool,
    script_nonce: Option<String>,
    style_nonce: Option<String>,
    /// The page's strong `ETag`, when it may key the cache.
    etag: Option<Box<[u8]>>,
}

impl Prepared {
    fn class(&self, visit: &Visit) -> Class {
        Class::new(
            visit,
            self.script_nonce.is_some(),
            self.style_nonce.is_some(),
            self.encoding.into(),
            self.meta_charset,
        )
    }

    /// A rewriter for this response: writing its nonces and first layer, or (`Hole`) the
    /// cache's holes in their place.
    fn rewriter(&self, pages: &Arc<Pages>, visit: Visit, first_layer: FirstLayer) -> PageRewriter {
        let hole = first_layer == FirstLayer::Hole;
        let nonce = |n: &Option<String>, h: &str| {
            n.as_ref()
                .map(|n| if hole { h.to_owned() } else { n.clone() })
        };
        let script_nonce = nonce(&self.script_nonce, crate::cache::HOLE_SCRIPT_NONCE);
        let js = crate::consent_mode::script(pages.config(), visit.evaluation());
        let consent_mode = js.map(|js| {
            let nonce = script_nonce
                .as_deref()
                .map(|n| format!(" nonce=\"{n}\""))
                .unwrap_or_default();
            format!("<script {}{nonce}>{js}</script>", crate::consent_mode::MARK)
        });
        let inserts = Inserts {
            style_nonce: nonce(&self.style_nonce, crate::cache::HOLE_STYLE_NONCE),
            script_nonce,
            consent_mode,
            first_layer,
        };
        PageRewriter::new(
            Arc::clone(pages),
            visit,
            self.encoding,
            self.meta_charset,
            inserts,
        )
    }

    fn replay(&self, pages: &Pages, visit: &Visit, recorded: &Recorded) -> Vec<Bytes> {
        recorded.replay(
            pages,
            visit,
            self.script_nonce.as_deref(),
            self.style_nonce.as_deref(),
        )
    }
}

/// How one response's page is made.
pub(crate) enum Plan {
    /// Rewritten as it streams (boxed: lol_html's rewriter is a kilobyte).
    Stream(Box<PageRewriter>),
    /// Read whole, then replayed from the cache or recorded.
    Buffer(Box<Pending>),
    /// Replayed from the cache (a trusted `ETag`): the inner body is not read.
    Replay(Vec<Bytes>),
}

/// A page to read whole, then replay or record.
pub(crate) struct Pending {
    pages: Arc<Pages>,
    visit: Visit,
    prepared: Prepared,
    class: Class,
}

impl Pending {
    /// The largest body to buffer; past it, the page is streamed.
    pub(crate) fn max_body(&self) -> usize {
        self.pages.cache.max_body()
    }

    /// Gives up buffering: a rewriter to stream the page through.
    pub(crate) fn into_stream(self) -> PageRewriter {
        self.prepared
            .rewriter(&self.pages, self.visit, FirstLayer::Rendered)
    }

    /// The page for `body` (the whole body; `owned` makes a `Bytes` of it to keep): replayed
    /// from a recording, or recorded and kept, then replayed.
    pub(crate) fn finish(self, body: &[u8], owned: impl FnOnce() -> Bytes) -> Vec<Bytes> {
        self.finish_shared(body, None, owned)
    }

    /// [`Self::finish`] for a body the layer holds as a `Bytes`: the same buffer as a
    /// recording's source needs no hash.
    pub(crate) fn finish_bytes(self, body: Bytes) -> Vec<Bytes> {
        let shared = body.clone();
        self.finish_shared(&body, Some(&shared), || body.clone())
    }

    fn finish_shared(
        self,
        body: &[u8],
        shared: Option<&Bytes>,
        owned: impl FnOnce() -> Bytes,
    ) -> Vec<Bytes> {
        let cache = &self.pages.cache;
        let (key, source): (Key, Option<Bytes>) = match &self.prepared.etag {
            Some(etag) => (
                PageCache::etag_key(&self.visit, etag, self.class.clone()),
                None,
            ),
            None => {
                if let Some(r) = shared.and_then(|b| cache.get_same(&self.visit, &self.class, b)) {
                    return self.prepared.replay(&self.pages, &self.visit, &r);
                }
                let key = cache.body_key(&self.visit, body, self.class.clone());
                if let Some(r) = cache.get(&key, Some(body)) {
                    return self.prepared.replay(&self.pages, &self.visit, &r);
                }
                (key, Some(owned()))
            }
        };
        let mut r = self
            .prepared
            .rewriter(&self.pages, self.visit.clone(), FirstLayer::Hole);
        let mut out = r.write(body);
        let (last, holes, lang, encoding) = r.finish();
        out.extend(last);
        match Recorded::new(source, out, holes, lang, encoding) {
            Some(recorded) => {
                let recorded = Arc::new(recorded);
                cache.insert(key, Arc::clone(&recorded));
                self.prepared.replay(&self.pages, &self.visit, &recorded)
            }
            // The page holds what looks like a hole: rewritten for this response alone.
            None => {
                let mut r = self.into_stream();
                let mut out = r.write(body);
                out.extend(r.end());
                vec![Bytes::from(out)]
            }
        }
    }
}

/// Whether `headers` carry a cookie besides the consent cookie `name`: what the consent
/// cookie means, the layer reads itself (the cache keys on it); any other may be a session
/// the page is built for.
fn other_cookies(headers: &HeaderMap, name: &str) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .flat_map(|v| v.as_bytes().split(|&b| b == b';'))
        .map(<[u8]>::trim_ascii)
        .filter(|pair| !pair.is_empty())
        .any(|pair| {
            let own = pair.split(|&b| b == b'=').next().unwrap_or_default();
            own.trim_ascii() != name.as_bytes()
        })
}

/// Whether a request asks for a page to show: a navigation of the window or of a frame
/// (`Sec-Fetch-Dest`), or, from a browser that does not send that, one that accepts HTML.
fn asks_for_a_page(headers: &HeaderMap) -> bool {
    const PAGES: [&[u8]; 6] = [
        b"document",
        b"iframe",
        b"frame",
        b"fencedframe",
        b"embed",
        b"object",
    ];
    match headers.get(SEC_FETCH_DEST) {
        Some(dest) => PAGES
            .iter()
            .any(|p| dest.as_bytes().eq_ignore_ascii_case(p)),
        None => headers.get_all(header::ACCEPT).iter().any(|v| {
            v.as_bytes()
                .windows(b"text/html".len())
                .any(|w| w.eq_ignore_ascii_case(b"text/html"))
        }),
    }
}

/// The encoding of an HTML response (`Content-Type: text/html`; UTF-8 unless its charset
/// says otherwise) and whether the header names it, or `None` when it is not HTML or its
/// charset is one lol_html cannot rewrite (UTF-16, say) or does not know.
///
/// A response with several `Content-Type` fields is not read as HTML: browsers take the
/// last one they can parse, with its charset or an earlier one's, and a page the layer
/// might read otherwise than the browser passes through as the site sent it.
fn html_encoding(headers: &HeaderMap) -> Option<(AsciiCompatibleEncoding, bool)> {
    let mut types = headers.get_all(header::CONTENT_TYPE).iter();
    let value = types.next()?.to_str().ok()?;
    if types.next().is_some() {
        return None;
    }
    // The usual header, without splitting it.
    if value == "text/html; charset=utf-8" {
        return Some((AsciiCompatibleEncoding::utf_8(), true));
    }
    let (essence, parameters) = value.split_once(';').unwrap_or((value, ""));
    if !essence.trim().eq_ignore_ascii_case("text/html") {
        return None;
    }
    match charset_parameter(parameters) {
        // The usual label, without looking it up.
        None => Some((AsciiCompatibleEncoding::utf_8(), false)),
        Some(label) if label.eq_ignore_ascii_case("utf-8") => {
            Some((AsciiCompatibleEncoding::utf_8(), true))
        }
        Some(label) => charset_encoding(label).map(|e| (e, true)),
    }
}

/// The first `charset` of a media type's `parameters` (what follows the first `;`), as
/// browsers read them (WHATWG MIME Sniffing, "parse a MIME type"): `;`-separated `name=value`
/// pairs, a value in double quotes taken to its closing quote (a `\` keeps the next character
/// in it), so that a `;` inside one splits nothing.
fn charset_parameter(parameters: &str) -> Option<&str> {
    let mut rest = parameters;
    loop {
        let (name, after) = rest.split_at(rest.find([';', '=']).unwrap_or(rest.len()));
        let Some(after) = after.strip_prefix('=') else {
            rest = after.strip_prefix(';')?;
            continue;
        };
        let (value, after) = match after.strip_prefix('"') {
            Some(quoted) => {
                let mut escaped = false;
                let close = quoted
                    .bytes()
                    .position(|b| {
                        let end = b == b'"' && !escaped;
                        escaped = b == b'\\' && !escaped;
                        end
                    })
                    .unwrap_or(quoted.len());
                let (value, after) = quoted.split_at(close);
                (value, after.get(after.find(';').unwrap_or(after.len())..)?)
            }
            None => after.split_at(after.find(';').unwrap_or(after.len())),
        };
        if name.trim().eq_ignore_ascii_case("charset") {
            return Some(value.trim());
        }
        rest = after.strip_prefix(';')?;
    }
}

/// Whether the response is a file to save (`Content-Disposition: attachment`, or any type
/// but `inline`, which browsers take for one), not a page to show: an HTML export or a
/// saved copy is the site's file as it wrote it.
fn download(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_DISPOSITION).is_some_and(|v| {
        let kind = v
            .as_bytes()
            .split(|&b| b == b';')
            .next()
            .unwrap_or_default();
        let kind = kind.trim_ascii();
        !kind.is_empty() && !kind.eq_ignore_ascii_case(b"inline")
    })
}

/// The encoding a charset label names, if lol_html can rewrite it.
pub(crate) fn charset_encoding(label: &str) -> Option<AsciiCompatibleEncoding> {
    AsciiCompatibleEncoding::new(encoding_rs::Encoding::for_label_no_replacement(
        label.as_bytes(),
    )?)
}

/// Marks a response as one of a page's representations, which differ per visitor (and for
/// a script's fetch): no shared cache keeps it, a browser's keeps each apart (`Vary`), and
/// none revalidates it, since the page's `ETag` and `Last-Modified` describe it as the site
/// wrote it. Chromium and Firefox revalidate a stored response with its `ETag` even for a
/// request its `Vary` does not match, and the site's 304 would bring back another
/// representation.
fn private(headers: &mut HeaderMap) {
    // `private` and the site's directives but those a shared cache reads, in one field,
    // each as written (a quoted string's commas, and its bytes past ASCII, included).
    let mut value = Vec::with_capacity(64);
    value.extend_from_slice(b"private");
    let mut no_store = false;
    // Whether a cache may read something that makes it store the page despite `no-store`:
    // `must-understand`, or a member that is no directive, which caches read each their way.
    let mut overridden = false;
    for d in crate::cache_control::directives(headers) {
        let Ok(d) = d else {
            overridden = true;
            continue;
        };
        if ["public", "s-maxage", "private"].iter().any(|n| d.is(n)) {
            continue;
        }
        no_store |= d.is_bare("no-store");
        overridden |= d.is("must-understand");
        value.extend_from_slice(b", ");
        value.extend_from_slice(d.text);
    }
    // `no-store` already keeps every cache out: it goes without `private`. Not beside
    // `must-understand`, which tells a cache that knows the status code to ignore `no-store`
    // (RFC 9111, 5.2.2.3): a shared one would then store the page.
    let value = if no_store && !overridden {
        value.get(b"private, ".len()..).unwrap_or_default()
    } else {
        &value
    };
    // Each part was in a field value, and so is their join: `private` is never lost.
    let value = HeaderValue::from_bytes(value).unwrap_or(HeaderValue::from_static("private"));
    headers.insert(header::CACHE_CONTROL, value);
    headers.append(
        header::VARY,
        HeaderValue::from_static("Cookie, Sec-GPC, DNT, Sec-Fetch-Dest"),
    );
    // The fields a CDN or proxy cache reads before `Cache-Control` (RFC 9213's
    // `CDN-Cache-Control` and the vendors' `*-CDN-Cache-Control`, `Surrogate-Control`,
    // Akamai's `Edge-Control`, nginx's `X-Accel-Expires`, which its `proxy_cache` obeys even
    // beside `private`): left in, they would still let it keep one visitor's page for the
    // next.
    let targeted: Vec<_> = headers
        .keys()
        .filter(|name| {
            let name = name.as_str(); // lowercase
            name.ends_with("cdn-cache-control")
                || name == "surrogate-control"
                || name == "edge-control"
                || name == "x-accel-expires"
        })
        .cloned()
        .collect();
    for name in targeted {
        headers.remove(name);
    }
    headers.remove(header::ETAG);
    headers.remove(header::LAST_MODIFIED);
}

/// The plain function, for servers that are not tower-based: rewrites a whole HTML
/// response for the request whose headers and path are given, or returns `None` when the
/// response passes through as it is (see [`Pages::respond`], which also adjusts
/// `response_headers`; for a streamed body use it and [`PageRewriter`] directly).
///
/// It takes the request for a `GET` (or a `HEAD`'s body), whose page the cache may record:
/// for the response to another method (a form's `POST`), use [`Pages::respond`], which
/// never records.
pub fn rewrite(
    pages: &Arc<Pages>,
    request_headers: &HeaderMap,
    path_and_query: &str,
    status: StatusCode,
    response_headers: &mut HeaderMap,
    body: &[u8],
) -> Option<Vec<u8>> {
    let visit = pages.visit(request_headers, path_and_query);
    let len = u64::try_from(body.len()).ok();
    let parts = match pages.plan(visit, status, response_headers, len)? {
        Plan::Stream(mut rewriter) => {
            let mut out = rewriter.write(body);
            out.extend(rewriter.end());
            return Some(out);
        }
        Plan::Buffer(pending) => pending.finish(body, || Bytes::copy_from_slice(body)),
        Plan::Replay(parts) => parts,
    };
    Some(parts.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(*k, HeaderValue::from_static(v));
        }
        m
    }

    #[test]
    fn only_readable_html_is_rewritten() {
        assert!(html_encoding(&h(&[("content-type", "text/html")])).is_some());
        assert!(
            html_encoding(&h(&[(
                "content-type",
                "TEXT/HTML ; Charset=\"windows-1252\""
            )]))
            .is_some()
        );
        assert!(html_encoding(&h(&[("content-type", "text/html; charset=utf-16le")])).is_none());
        assert!(html_encoding(&h(&[("content-type", "text/html; charset=nonsense")])).is_none());
        assert!(html_encoding(&h(&[("content-type", "application/json")])).is_none());
        assert!(html_encoding(&h(&[("content-type", "text/htmlx")])).is_none());
        assert!(html_encoding(&h(&[])).is_none());
    }

    /// A `;` inside a quoted parameter value splits nothing, as browsers read a media type
    /// (WHATWG MIME Sniffing): such a page is HTML in UTF-8 to the browser, and gated.
    #[test]
    fn a_quoted_parameter_hides_no_charset() {
        let utf8 = Some((AsciiCompatibleEncoding::utf_8(), false));
        for value in [
            "text/html; x=\"a;charset=utf-16\"",
            "text/html; x=\"a\\\";charset=utf-16\"",
            "text/html;x=\"\";y=\";charset=nonsense\"",
        ] {
            let m = h(&[("content-type", value)]);
            assert_eq!(html_encoding(&m), utf8, "{value}");
        }
        let m = h(&[("content-type", "text/html; x=\"a;b\"; charset=windows-1252")]);
        assert_eq!(
            html_encoding(&m),
            charset_encoding("windows-1252").map(|e| (e, true))
        );
        let m = h(&[("content-type", "text/html; charset=\"utf-16\"; x=\"")]);
        assert_eq!(html_encoding(&m), None, "a charset it cannot read");
    }

    proptest::proptest! {
        /// Any parameters, of the characters that matter to the reader: no panic (a slice
        /// off a character's boundary, say), and a charset read is a part of them.
        #[test]
        fn any_parameters_are_read_without_a_panic(
            chars in proptest::collection::vec(
                proptest::sample::select(vec![';', '=', '"', '\\', ' ', 'c', 'h', 'a', 'r', 's', 'e', 't', 'ä']),
                0..40,
            )
        ) {
            let parameters: String = chars.into_iter().collect();
            if let Some(charset) = charset_parameter(&parameters) {
                proptest::prop_assert!(parameters.contains(charset));
            }
        }
    }

    #[test]
    fn only_the_consent_cookie_is_no_credential() {
        for (cookies, other) in [
            (&["consent=1.AAAA"][..], false),
            (&[" consent = 1.AAAA ; ", "consent=2.BBBB"], false),
            (&["consent=1.AAAA; session=abc"], true),
            (&["consent=1.AAAA", "_ga=GA1.2"], true),
            (&["consentx=1"], true),
            (&["session"], true),
        ] {
            let mut m = HeaderMap::new();
            for c in cookies {
                m.append(header::COOKIE, HeaderValue::from_static(c));
            }
            assert_eq!(other_cookies(&m, "consent"), other, "{cookies:?}");
        }
        assert!(!other_cookies(&HeaderMap::new(), "consent"));
    }

    #[test]
    fn a_rewritten_page_is_private_to_its_visitor() {
        let mut m = h(&[
            ("cache-control", "public, max-age=600, s-maxage=3600"),
            ("etag", "\"abc\""),
            ("cdn-cache-control", "max-age=600"),
        ]);
        private(&mut m);
        assert_eq!(m["cache-control"], "private, max-age=600");
        assert_eq!(m["vary"], "Cookie, Sec-GPC, DNT, Sec-Fetch-Dest");
        assert!(m.get("etag").is_none());
        assert!(m.get("cdn-cache-control").is_none());
        let mut m = h(&[("cache-control", "no-store")]);
        private(&mut m);
        assert_eq!(
            m["cache-control"], "no-store",
            "no-store already keeps every cache out"
        );
        let mut m = h(&[("cache-control", "must-understand, no-store, max-age=60")]);
        private(&mut m);
        assert_eq!(
            m["cache-control"], "private, must-understand, no-store, max-age=60",
            "a shared cache that understands 200 ignores no-store"
        );
    }

    #[test]
    fn a_quoted_comma_makes_no_directive_of_its_own() {
        for (field, want) in [
            // The field names' `no-store` misread as a directive took `private` away.
            (
                r#"public, max-age=600, no-cache="X-A, no-store, X-B""#,
                r#"private, max-age=600, no-cache="X-A, no-store, X-B""#,
            ),
            // A qualified `private` goes whole, not its first field name only.
            (r#"private="a, b", max-age=60"#, "private, max-age=60"),
            (
                r#"no-cache="Set-Cookie, s-maxage=1", max-age=60"#,
                r#"private, no-cache="Set-Cookie, s-maxage=1", max-age=60"#,
            ),
            // What is not a directive is not copied: no quote is left open.
            (r#"max-age=60, no-cache="a, b"#, "private, max-age=60"),
            ("max-age = 60, no-store", "private, no-store"),
        ] {
            let mut m = h(&[("cache-control", field)]);
            private(&mut m);
            assert_eq!(m["cache-control"], want, "{field}");
        }
    }

    #[test]
    fn a_field_with_bytes_past_ascii_keeps_its_directives() {
        let mut m = HeaderMap::new();
        let field = b"no-store, no-cache=\"X-\xc3\xa9\"";
        let v = HeaderValue::from_bytes(field).unwrap_or_else(|e| unreachable!("{e}"));
        m.insert(header::CACHE_CONTROL, v);
        private(&mut m);
        assert_eq!(m["cache-control"].as_bytes(), field, "no-store kept");
    }
}
