//! [`PageCache`]: each page rewritten once per verdict class, then replayed from shared
//! slices of the recording.

use std::collections::HashMap;
use std::hash::BuildHasher as _;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use consent_core::{Choices, Lang};
use http::{HeaderMap, header};

use crate::Visit;
use crate::pages::Pages;

/// What starts every hole in a recording. Its first byte occurs nowhere else in it, so no
/// occurrence can overlap another, and a recording whose page holds it is not kept (rule:
/// the holes counted while recording must be exactly the occurrences found).
const HOLE: &str = "X9k2consentgatehole";
/// The hole for the script nonce.
pub(crate) const HOLE_SCRIPT_NONCE: &str = "X9k2consentgateholeN";
/// The hole for the style nonce.
pub(crate) const HOLE_STYLE_NONCE: &str = "X9k2consentgateholeS";
/// The hole for the first layer.
pub(crate) const HOLE_FIRST_LAYER: &str = "X9k2consentgateholeF";

/// The default capacity: 32 MiB, some 300 recordings of a 50 kB page with their sources.
pub const DEFAULT_CAPACITY: usize = 32 << 20;
/// The largest page buffered to be keyed by its bytes.
const MAX_BODY: usize = 1 << 20;
/// The shortest run of a recording's text sent as a slice of it rather than copied.
const SHARE_FROM: usize = 4096;
/// The longest URL whose first layer an entry keeps.
const MAX_KEPT_URL: usize = 256;
/// What an entry costs besides its bytes (its key, its parts, the map's slot, and a kept
/// first layer at most), roughly.
const ENTRY_OVERHEAD: usize = 4096;

/// Recorded rewrites of the site's pages, bounded in bytes. Each [`Pages`] has one
/// ([`Pages::with_cache_capacity`] sets its size); [`Pages::cache`] shows what it holds.
///
/// lol_html spends about 120 µs on a 50 kB page (BENCHMARKS.md, "Server-side page layer"),
/// eight times what a server spends sending it. But a page's rewrite depends on little: its
/// bytes, its charset, its path, and of the visit only what the policy allows. So the layer
/// records the rewrite once, with the parts that differ per response left as holes (the
/// nonces, and the first layer, whose form returns to the page's full URL and shows the GPC
/// notice), and for the next response with the same key it sends the recording's text as
/// slices of it (no copy), with the holes filled: the first layer kept for the URL, also
/// shared, and each nonce copied together with the few bytes around it. A page with a first
/// layer and no nonce is the same for every visit to its URL: asked for there a second
/// time, it is put together whole and kept, and sent as one slice from then on (a server
/// sends one chunk, not three, that its client need not join).
///
/// Rules:
/// 1. The key holds everything the recorded bytes depend on: the page (its strong `ETag`
///    and the resource it names, or its bytes), the charset the response names (or that it
///    names none, so the page's `<meta>` may), the path (page exclusions), what the visit
///    allows, whether the first layer is due, and whether the response has a script or a
///    style nonce. Two visits that differ in any of them never share an entry.
/// 2. A page keyed by its bytes is compared byte for byte with the recording's source
///    before it is replayed: the hash only finds the entry, it never vouches for it.
/// 3. A strong `ETag` is trusted only where a shared cache would trust it: on a response a
///    shared cache may store (no `private`, `no-store` or `Set-Cookie`, no `Vary` but
///    `Accept-Encoding`) to a `GET` request without `Authorization` or a cookie besides
///    the consent cookie (Varnish's built-in rules serve none of the others from the cache:
///    a page built for a session, or for what a form posted, may carry the `ETag` of the
///    page for every visitor). It names the resource with the request's full path and query
///    and everything the request says of its origin, as the app may read it (its URI's
///    authority, `Host`, `Forwarded`'s `host=` and `proto=`, every `X-Forwarded-*` but
///    `X-Forwarded-For`): one host's page is never another's, whichever of them the app
///    reads.
/// 4. Nonces are never recorded: each response's own go into the holes.
/// 5. The cache holds at most its capacity in bytes (recordings, kept sources, and a page
///    kept whole, counted as another recording); past it, the least recently used entries
///    go. A page larger than a quarter of it is not kept.
///
/// Caveats:
/// - A page is buffered whole before it is rewritten when it may be recorded (its length
///   known and at most [`PageCache::max_body`]), so its first byte waits for its last. A
///   page of unknown length streams through the rewriter as before; it is replayed only if
///   its trusted `ETag` was recorded from a response of known length.
/// - A page that changes on every response (a CSRF token, the time) is recorded every
///   time: a hash, a second copy and an insertion more than without the cache. Such a site
///   can turn the cache off (`Pages::with_cache_capacity(0)`).
/// - A replay from a trusted `ETag` does not read the inner body at all (nor its trailers).
/// - A page that the app builds from another request header without naming it in `Vary`
///   (an `X-Original-URL`, the language of `Accept-Language`) under one `ETag` is replayed
///   as it was built for the first request, as a shared cache would store it: such a site
///   names it in `Vary` (the page is then not recorded by its `ETag`) or turns the cache off.
pub struct PageCache {
    capacity: usize,
    state: Mutex<State>,
    hasher: foldhash::quality::RandomState,
    tick: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for PageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageCache")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .field("bytes", &self.bytes())
            .field("hits", &self.hits())
            .field("misses", &self.misses())
            .finish()
    }
}

#[derive(Default)]
struct State {
    map: HashMap<Key, Arc<Recorded>, foldhash::fast::RandomState>,
    /// The recordings keyed by their bytes, by where those bytes are (see
    /// [`PageCache::get_same`]): one buffer may be the source of a page for several
    /// classes of visit, and of several paths.
    same: HashMap<At, Vec<(Key, Arc<Recorded>)>, foldhash::fast::RandomState>,
    bytes: usize,
}

/// Where a buffer is: its address and length.
type At = (usize, usize);

/// Where the source of a recording keyed by its bytes is, if it keeps it.
fn source_at(key: &Key, recorded: &Recorded) -> Option<At> {
    let (Source::Body { .. }, Some(source)) = (&key.source, &recorded.source) else {
        return None;
    };
    Some((source.as_ptr() as usize, source.len()))
}

impl State {
    fn remove(&mut self, key: &Key) {
        if let Some(old) = self.map.remove(key) {
            self.bytes -= old.size();
            if let Some(at) = source_at(key, &old) {
                if let Some(entries) = self.same.get_mut(&at) {
                    entries.retain(|(k, _)| k != key);
                    if entries.is_empty() {
                        self.same.remove(&at);
                    }
                }
            }
        }
    }
}

/// What a request says of its origin, every way an app may read it: its URI's authority,
/// `Host`, and what a proxy forwards (`Forwarded`'s `host=` and `proto=`, every
/// `X-Forwarded-*` but `X-Forwarded-For`), each in its place. axum's `Host` extractor, for
/// one, takes `Forwarded`, then `X-Forwarded-Host`, then `Host`, then the URI's authority,
/// and the layer knows the headers only as a client sent them: keyed by one of them, the
/// page an app built for the host another one named (a site's tenants, by their host) was
/// recorded for the first, and replayed to its visitors. The client's own address
/// (`X-Forwarded-For`, `Forwarded`'s `for=`) names no resource, and would keep a page per
/// visitor.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Origin(Box<[u8]>);

impl Origin {
    /// The origin that `headers` name (the URI's authority, when there is one, is added by
    /// [`Origin::with_authority`]).
    pub(crate) fn of(headers: &HeaderMap) -> Self {
        let mut named: Vec<(&str, &[u8])> = headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes()))
            .filter(|(name, _)| {
                matches!(*name, "host" | "forwarded")
                    || (name.starts_with("x-forwarded-") && *name != "x-forwarded-for")
            })
            .collect();
        // The same headers in another order are the same origin; the values of one header
        // keep theirs (the first may be the one read).
        named.sort_by_key(|(name, _)| *name);
        let mut out = Vec::new();
        for (name, value) in named {
            if name == "forwarded" {
                push_field(&mut out, name, &forwarded_origin(value));
            } else {
                push_field(&mut out, name, value);
            }
        }
        Self(out.into())
    }

    /// With the request's URI's authority, which HTTP/2 (and an absolute-form HTTP/1.1
    /// request) sends beside or instead of `Host`.
    pub(crate) fn with_authority(self, authority: &str) -> Self {
        let mut out = Vec::from(self.0);
        push_field(&mut out, "", authority.as_bytes());
        Self(out.into())
    }
}

/// One field of an [`Origin`]: `\r`, its name, `\n`, its value; neither byte is in a header's
/// name or value, so no two lists of fields make the same bytes.
fn push_field(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.push(b'\r');
    out.extend_from_slice(name.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(value);
}

/// The `host=` and `proto=` pairs of a `Forwarded` value, as written. Split at every `,`
/// and `;`, even in a quoted string, so that it finds every pair any parser finds, and
/// perhaps more.
fn forwarded_origin(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for pair in value.split(|&b| b == b',' || b == b';') {
        let pair = pair.trim_ascii();
        let key = pair.split(|&b| b == b'=').next().unwrap_or_default();
        let key = key.trim_ascii();
        if key.eq_ignore_ascii_case(b"host") || key.eq_ignore_ascii_case(b"proto") {
            out.extend_from_slice(pair);
            out.push(b';');
        }
    }
    out
}

/// Rule 1: what a recording depends on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    source: Source,
    class: Class,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Source {
    /// Rule 3: a trusted strong `ETag`, with the resource it names.
    ETag {
        origin: Origin,
        path_and_query: Box<str>,
        etag: Box<[u8]>,
    },
    /// Rule 2: the page's bytes, found by hash and compared whole.
    Body {
        path: Box<str>,
        hash: u64,
        len: usize,
    },
}

impl Source {
    /// Whether it is a page keyed by its bytes at `path`.
    fn is_path(&self, path: &str) -> bool {
        matches!(self, Self::Body { path: p, .. } if **p == *path)
    }
}

/// What of a visit and its response the recorded bytes depend on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Class {
    /// What the policy allows: every element's fate (with the path) and Consent Mode's.
    allowed: Choices,
    /// No valid decision: nothing negated is live, and the first layer is due.
    first_layer_due: bool,
    /// Whether the scripts made live carry a nonce (its value is a hole).
    script_nonce: bool,
    /// Whether the critical CSS carries a nonce.
    style_nonce: bool,
    /// The page's charset, as the response names it.
    encoding: &'static encoding_rs::Encoding,
    /// Whether the response names none, so that the page's `<meta>` may.
    meta_charset: bool,
}

impl Class {
    pub(crate) fn new(
        visit: &Visit,
        script_nonce: bool,
        style_nonce: bool,
        encoding: &'static encoding_rs::Encoding,
        meta_charset: bool,
    ) -> Self {
        Self {
            allowed: visit.evaluation().allowed(),
            first_layer_due: visit.first_layer_due(),
            script_nonce,
            style_nonce,
            encoding,
            meta_charset,
        }
    }
}

/// One recorded rewrite.
pub(crate) struct Recorded {
    /// The page it was recorded from, when keyed by its bytes (rule 2).
    source: Option<Bytes>,
    /// The rewritten page, holes and all (the frames are slices of it).
    out: Bytes,
    /// The frames a response is sent in, with the holes between them.
    frames: Box<[Frame]>,
    /// The language of the page's first layer.
    lang: Lang,
    /// The page's charset, which its first layer is written in (`None`: no charset is
    /// named, and it is written in ASCII).
    encoding: Option<&'static encoding_rs::Encoding>,
    /// The first layer last rendered for it: most visits to a page come to the same URL,
    /// and rendering it is a good part of a replay's cost.
    first_layer: Mutex<Option<FirstLayerHtml>>,
    /// Whether a response's page depends on nothing but the visit's URL and GPC signal (a
    /// first layer, and no nonce): then it is kept whole with its first layer.
    whole: bool,
    last_used: AtomicU64,
}

/// A rendered first layer and what it was rendered for.
struct FirstLayerHtml {
    path_and_query: Box<str>,
    gpc: bool,
    html: Bytes,
    /// The whole page with it (a [`Recorded::whole`] page), once it is used again.
    page: Option<Bytes>,
}

impl FirstLayerHtml {
    fn is_for(&self, visit: &Visit) -> bool {
        self.gpc == visit.gpc() && *self.path_and_query == *visit.path_and_query()
    }
}

/// A recording cut at its holes.
#[derive(Debug, PartialEq, Eq)]
enum Part {
    Text(Range<usize>),
    ScriptNonce,
    StyleNonce,
    FirstLayer,
}

/// One frame of a replayed page, decided when the page is recorded.
#[derive(Debug, PartialEq, Eq)]
enum Frame {
    /// A run of the recording, sent as a slice of it (no copy).
    Shared(Bytes),
    /// The first layer, as kept for the visit's URL (no copy either).
    FirstLayer,
    /// Short runs with nonces between them, copied together into one frame for each
    /// response (a nonce is a few bytes: a frame of its own would cost more than the copy).
    Joined(Box<[Part]>),
}

/// Splits a recording at its holes; `None` unless exactly `holes` are found.
fn split(out: &[u8], holes: usize) -> Option<Vec<Part>> {
    let mut parts = Vec::with_capacity(2 * holes + 1);
    let mut at = 0;
    for start in memchr::memmem::find_iter(out, HOLE.as_bytes()) {
        let end = start + HOLE.len() + 1;
        let part = match out.get(start..end) {
            Some(h) if h == HOLE_SCRIPT_NONCE.as_bytes() => Part::ScriptNonce,
            Some(h) if h == HOLE_STYLE_NONCE.as_bytes() => Part::StyleNonce,
            Some(h) if h == HOLE_FIRST_LAYER.as_bytes() => Part::FirstLayer,
            // The page's own text: the recording cannot be told from it.
            _ => return None,
        };
        if start > at {
            parts.push(Part::Text(at..start));
        }
        parts.push(part);
        at = end;
    }
    if parts.iter().filter(|p| !matches!(p, Part::Text(_))).count() != holes {
        return None;
    }
    if at < out.len() {
        parts.push(Part::Text(at..out.len()));
    }
    Some(parts)
}

/// The frames of a recording: the first layer and every run of text that no nonce touches
/// are shared; a nonce and the short runs around it (up to the next long run or the first
/// layer) are joined.
fn frames(out: &Bytes, parts: Vec<Part>) -> Box<[Frame]> {
    let mut frames = Vec::with_capacity(parts.len());
    let mut joined: Vec<Part> = Vec::new();
    let flush = |joined: &mut Vec<Part>, frames: &mut Vec<Frame>| match joined.as_slice() {
        [] => {}
        [Part::Text(r)] => {
            frames.push(Frame::Shared(out.slice(r.clone())));
            joined.clear();
        }
        _ => frames.push(Frame::Joined(std::mem::take(joined).into_boxed_slice())),
    };
    for p in parts {
        match p {
            Part::Text(r) if r.len() >= SHARE_FROM => {
                flush(&mut joined, &mut frames);
                frames.push(Frame::Shared(out.slice(r)));
            }
            Part::FirstLayer => {
                flush(&mut joined, &mut frames);
                frames.push(Frame::FirstLayer);
            }
            p => joined.push(p),
        }
    }
    flush(&mut joined, &mut frames);
    frames.into_boxed_slice()
}

impl Recorded {
    /// Splits a recording at its holes; `None` unless exactly `holes` are found.
    pub(crate) fn new(
        source: Option<Bytes>,
        out: Vec<u8>,
        holes: usize,
        lang: Lang,
        encoding: Option<&'static encoding_rs::Encoding>,
    ) -> Option<Self> {
        let parts = split(&out, holes)?;
        let out = Bytes::from(out);
        let frames = frames(&out, parts);
        // Nonces are joined with the text around them: no joined frame, no nonce.
        let whole = frames.contains(&Frame::FirstLayer)
            && !frames.iter().any(|f| matches!(f, Frame::Joined(_)));
        Some(Self {
            source,
            frames,
            out,
            lang,
            encoding,
            first_layer: Mutex::new(None),
            whole,
            last_used: AtomicU64::new(0),
        })
    }

    /// What the entry costs the cache: its kept first layer counted at its largest, and a
    /// page kept whole as much as the recording, before it is made.
    fn size(&self) -> usize {
        let whole = if self.whole { self.out.len() } else { 0 };
        self.recording_size() + whole
    }

    /// What the recording itself costs (its page, kept source and overhead): what rule 5's
    /// quarter is compared with, so that keeping a page whole as well never leaves a page
    /// out of the cache that fits in it.
    fn recording_size(&self) -> usize {
        self.out.len() + self.source.as_ref().map_or(0, Bytes::len) + ENTRY_OVERHEAD
    }

    /// The whole page for `visit` when its first layer is the one kept (`None` otherwise,
    /// and for a page with nonces): put together the first time that first layer is used
    /// again, so that a URL asked for once costs no copy of the page.
    fn whole_page(&self, visit: &Visit) -> Option<Bytes> {
        if !self.whole {
            return None;
        }
        let mut kept = self
            .first_layer
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let kept = kept.as_mut().filter(|k| k.is_for(visit))?;
        let html = &kept.html;
        let page = kept.page.get_or_insert_with(|| {
            let frames = self.frames.iter().map(|f| self.frame(f, html, None, None));
            Bytes::from(frames.collect::<Vec<_>>().concat())
        });
        Some(page.clone())
    }

    /// The first layer for `visit`, rendered again only when it asks for another one.
    fn first_layer(&self, pages: &Pages, visit: &Visit) -> Bytes {
        let mut kept = self
            .first_layer
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match &*kept {
            Some(k) if k.is_for(visit) => k.html.clone(),
            _ => {
                let html = visit.first_layer_html(pages, self.lang);
                // In the page's charset, as the rewriter writes it (characters it lacks as
                // character references).
                let html = match self.encoding.map(|e| e.encode(&html)) {
                    Some((std::borrow::Cow::Borrowed(_), ..)) => Bytes::from(html),
                    Some((std::borrow::Cow::Owned(bytes), ..)) => Bytes::from(bytes),
                    None => Bytes::from(crate::first_layer::ascii(html)),
                };
                // A long URL is rendered for each response rather than kept.
                if visit.path_and_query().len() <= MAX_KEPT_URL {
                    *kept = Some(FirstLayerHtml {
                        path_and_query: visit.path_and_query().into(),
                        gpc: visit.gpc(),
                        html: html.clone(),
                        page: None,
                    });
                }
                html
            }
        }
    }

    /// The page for one response: the recording's frames, with this response's first layer
    /// and nonces in its holes. Only the short runs joined with a nonce are copied; the rest
    /// (the page's text and the kept first layer) goes out as shared slices.
    pub(crate) fn replay(
        &self,
        pages: &Pages,
        visit: &Visit,
        script_nonce: Option<&str>,
        style_nonce: Option<&str>,
    ) -> Vec<Bytes> {
        if let Some(page) = self.whole_page(visit) {
            return vec![page];
        }
        let mut first_layer = None;
        self.frames
            .iter()
            .map(|f| {
                let html = match f {
                    Frame::FirstLayer => first_layer.insert(self.first_layer(pages, visit)),
                    Frame::Shared(_) | Frame::Joined(_) => &Bytes::new(),
                };
                self.frame(f, html, script_nonce, style_nonce)
            })
            .collect()
    }

    /// One frame for a response, with `first_layer` and the nonces filled in.
    fn frame(
        &self,
        frame: &Frame,
        first_layer: &Bytes,
        script_nonce: Option<&str>,
        style_nonce: Option<&str>,
    ) -> Bytes {
        match frame {
            Frame::Shared(b) => b.clone(),
            Frame::FirstLayer => first_layer.clone(),
            Frame::Joined(parts) => {
                let piece = |p: &Part| -> &[u8] {
                    match p {
                        Part::Text(r) => &self.out[r.clone()],
                        Part::ScriptNonce => script_nonce.unwrap_or_default().as_bytes(),
                        Part::StyleNonce => style_nonce.unwrap_or_default().as_bytes(),
                        // Never joined: a frame of its own.
                        Part::FirstLayer => &[],
                    }
                };
                let mut joined = Vec::with_capacity(parts.iter().map(|p| piece(p).len()).sum());
                for p in parts.iter() {
                    joined.extend_from_slice(piece(p));
                }
                Bytes::from(joined)
            }
        }
    }
}

impl PageCache {
    /// A cache of at most `capacity` bytes; `0` keeps nothing (every page is rewritten as
    /// it streams).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            state: Mutex::new(State::default()),
            hasher: foldhash::quality::RandomState::default(),
            tick: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The most bytes it holds.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The largest page it buffers to key by its bytes: a quarter of the capacity, at most
    /// 1 MiB.
    #[must_use]
    pub fn max_body(&self) -> usize {
        (self.capacity / 4).min(MAX_BODY)
    }

    /// How many recordings it holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.state().map.len()
    }

    /// Whether it holds none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes it holds (recordings, kept sources, and an estimate of each entry's
    /// overhead): never more than [`capacity`](Self::capacity).
    #[must_use]
    pub fn bytes(&self) -> usize {
        self.state().bytes
    }

    /// How many responses were replayed from a recording.
    #[must_use]
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// How many cacheable responses had to be recorded (or could not be).
    #[must_use]
    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }

    pub(crate) fn enabled(&self) -> bool {
        self.capacity > 0
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // Nothing panics while holding it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The key of a page known by its trusted `etag` (rule 3).
    pub(crate) fn etag_key(visit: &Visit, etag: &[u8], class: Class) -> Key {
        Key {
            source: Source::ETag {
                origin: visit.origin().clone(),
                path_and_query: visit.path_and_query().into(),
                etag: etag.into(),
            },
            class,
        }
    }

    /// The key of a page known by its bytes (rule 2).
    pub(crate) fn body_key(&self, visit: &Visit, body: &[u8], class: Class) -> Key {
        Key {
            source: Source::Body {
                path: visit.path().into(),
                hash: self.hasher.hash_one(body),
                len: body.len(),
            },
            class,
        }
    }

    /// The recording for `key`, if any (and, keyed by bytes, if `body` is its source).
    pub(crate) fn get(&self, key: &Key, body: Option<&[u8]>) -> Option<Arc<Recorded>> {
        let found = self.state().map.get(key).cloned();
        let found = found.filter(|r| match (&r.source, body) {
            (Some(source), Some(body)) => {
                // The same buffer (a server sending one `Bytes` again) needs no comparison.
                (source.as_ptr() == body.as_ptr() && source.len() == body.len())
                    || source.as_ref() == body
            }
            (None, None) => true,
            _ => false,
        });
        match &found {
            Some(r) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                let now = self.tick.fetch_add(1, Ordering::Relaxed);
                r.last_used.store(now, Ordering::Relaxed);
            }
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
            }
        }
        found
    }

    /// Keeps `recorded` under `key`, making room by dropping the least recently used
    /// entries (rule 5); a recording larger than a quarter of the capacity is not kept.
    pub(crate) fn insert(&self, key: Key, recorded: Arc<Recorded>) {
        if recorded.recording_size() > self.capacity / 4 {
            return;
        }
        let size = recorded.size();
        recorded
            .last_used
            .store(self.tick.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
        let mut state = self.state();
        state.remove(&key);
        while state.bytes + size > self.capacity {
            // A scan for the oldest: only on a miss, over a few hundred entries at most.
            let oldest = state
                .map
                .iter()
                .min_by_key(|(_, r)| r.last_used.load(Ordering::Relaxed))
                .map(|(k, _)| k.clone());
            let Some(oldest) = oldest else { break };
            state.remove(&oldest);
        }
        state.bytes += size;
        if let Some(at) = source_at(&key, &recorded) {
            let entry = (key.clone(), Arc::clone(&recorded));
            state.same.entry(at).or_default().push(entry);
        }
        state.map.insert(key, recorded);
    }

    /// The recording whose kept source is `body` itself, the same buffer (a server that
    /// sends one `Bytes` for every response): found without hashing or comparing the page.
    /// The buffer cannot have changed: `Bytes` are immutable, and the entry holds it, so
    /// its memory is not freed and used again while the entry lives.
    pub(crate) fn get_same(
        &self,
        visit: &Visit,
        class: &Class,
        body: &Bytes,
    ) -> Option<Arc<Recorded>> {
        let at = (body.as_ptr() as usize, body.len());
        let found = self.state().same.get(&at).and_then(|entries| {
            entries
                .iter()
                .find(|(k, _)| k.class == *class && k.source.is_path(visit.path()))
                .map(|(_, r)| Arc::clone(r))
        });
        let r = found?;
        self.hits.fetch_add(1, Ordering::Relaxed);
        r.last_used
            .store(self.tick.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
        Some(r)
    }
}

/// The response's strong `ETag`, when a shared cache would trust it (rule 3): `own` is
/// whether the response is the request's own (its credentials, or a method but `GET`).
pub(crate) fn trusted_etag(headers: &HeaderMap, own: bool) -> Option<Box<[u8]>> {
    // Most pages have none: the cheapest test first.
    let mut etags = headers.get_all(header::ETAG).iter();
    let etag = etags.next()?.as_bytes();
    if !strong_etag(etag) || etags.next().is_some() {
        return None;
    }
    if own || headers.contains_key(header::SET_COOKIE) {
        return None;
    }
    // A member that is no directive may be read as `private` by some cache: the worst case.
    let shareable = crate::cache_control::directives(headers)
        .all(|d| d.is_ok_and(|d| !d.is("private") && !d.is("no-store")));
    if !shareable {
        return None;
    }
    let vary_ok = headers.get_all(header::VARY).iter().all(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',')
                .all(|v| v.trim().eq_ignore_ascii_case("accept-encoding") || v.trim().is_empty())
        })
    });
    vary_ok.then(|| etag.into())
}

/// Whether `etag` is one strong entity tag (RFC 9110 8.8.3): `"..."` of `etagc` bytes, not
/// `W/"..."`, and not two tags that a proxy joined into one field (`"a", "b"`).
fn strong_etag(etag: &[u8]) -> bool {
    let Some(opaque) = etag.strip_prefix(b"\"").and_then(|e| e.strip_suffix(b"\"")) else {
        return false;
    };
    opaque
        .iter()
        .all(|&b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn recorded(out: &str, holes: usize) -> Option<Recorded> {
        Recorded::new(
            None,
            out.as_bytes().to_vec(),
            holes,
            Lang::En,
            Some(encoding_rs::UTF_8),
        )
    }

    #[test]
    fn a_recording_splits_at_exactly_its_holes() {
        let out = format!("<a nonce=\"{HOLE_SCRIPT_NONCE}\">b{HOLE_FIRST_LAYER}</body>");
        let r = recorded(&out, 2).unwrap_or_else(|| unreachable!("two holes"));
        assert_eq!(
            split(out.as_bytes(), 2).as_deref(),
            Some(
                &[
                    Part::Text(0..10),
                    Part::ScriptNonce,
                    Part::Text(30..33),
                    Part::FirstLayer,
                    Part::Text(53..60)
                ][..]
            )
        );
        // The nonce is joined with the short runs around it; the first layer and the run
        // after it are shared.
        assert_eq!(
            r.frames.as_ref(),
            [
                Frame::Joined(Box::new([
                    Part::Text(0..10),
                    Part::ScriptNonce,
                    Part::Text(30..33)
                ])),
                Frame::FirstLayer,
                Frame::Shared(Bytes::from_static(b"</body>")),
            ]
        );
        assert!(recorded(&out, 1).is_none(), "a hole more than written");
        let page_has_it = format!("{HOLE}Q and {HOLE_SCRIPT_NONCE}");
        assert!(recorded(&page_has_it, 1).is_none(), "the page's own text");
        assert!(recorded(&format!("x{HOLE_STYLE_NONCE}"), 2).is_none());
    }

    #[test]
    fn long_runs_and_the_first_layer_are_shared() {
        let long = "x".repeat(SHARE_FROM);
        let out = format!("a{HOLE_SCRIPT_NONCE}{long}{HOLE_FIRST_LAYER}c{HOLE_STYLE_NONCE}");
        let r = recorded(&out, 3).unwrap_or_else(|| unreachable!("three holes"));
        let c = 21 + SHARE_FROM + 20;
        assert!(
            r.frames.as_ref()
                == [
                    Frame::Joined(Box::new([Part::Text(0..1), Part::ScriptNonce])),
                    Frame::Shared(Bytes::from(long)),
                    Frame::FirstLayer,
                    Frame::Joined(Box::new([Part::Text(c..c + 1), Part::StyleNonce])),
                ],
            "{:?}",
            r.frames
                .iter()
                .map(std::mem::discriminant)
                .collect::<Vec<_>>()
        );
        // A page without holes is one shared frame, the recording itself.
        let r = recorded("<p>hi</p>", 0).unwrap_or_else(|| unreachable!("no holes"));
        assert_eq!(
            r.frames.as_ref(),
            [Frame::Shared(Bytes::from_static(b"<p>hi</p>"))]
        );
    }

    #[test]
    fn a_page_without_nonces_is_kept_whole_for_its_url() {
        let config = consent_core::Config::from_json(consent_core::EXAMPLE_CONFIG)
            .unwrap_or_else(|e| unreachable!("the example config: {e}"));
        let pages = Pages::new(config, None);
        let long = "x".repeat(SHARE_FROM);
        let r = recorded(&format!("<body>{long}{HOLE_FIRST_LAYER}</body>"), 1)
            .unwrap_or_else(|| unreachable!("one hole"));
        let here = pages.visit(&HeaderMap::new(), "/a");
        let first = r.replay(&pages, &here, None, None);
        assert_eq!(first.len(), 3, "asked for once: in frames, without a copy");
        let page = Bytes::from(first.concat());
        for _ in 0..2 {
            assert_eq!(
                r.replay(&pages, &here, None, None),
                std::slice::from_ref(&page)
            );
        }
        // Another URL's first layer returns there: in frames again, then whole for it.
        let there = pages.visit(&HeaderMap::new(), "/b?c=d");
        let other = r.replay(&pages, &there, None, None);
        assert_eq!(other.len(), 3);
        assert!(String::from_utf8_lossy(&other[1]).contains("value=\"/b?c=d\""));
        assert_eq!(r.replay(&pages, &there, None, None), [other.concat()]);
        // A nonce differs for each response: never whole.
        let out = format!("<script nonce=\"{HOLE_SCRIPT_NONCE}\"></script>{HOLE_FIRST_LAYER}");
        let r = recorded(&out, 2).unwrap_or_else(|| unreachable!("two holes"));
        for nonce in ["bm9uY2Ux", "bm9uY2Uy"] {
            let page = r.replay(&pages, &here, Some(nonce), None);
            assert_eq!(page.len(), 2, "the nonce's frame and the first layer");
            assert!(page[0].ends_with(format!("nonce=\"{nonce}\"></script>").as_bytes()));
        }
    }

    #[test]
    fn an_etag_is_trusted_only_where_a_shared_cache_would() {
        let h = |pairs: &[(&'static str, &'static str)]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.append(*k, HeaderValue::from_static(v));
            }
            m
        };
        let ok = h(&[("etag", "\"v1\""), ("cache-control", "public, max-age=60")]);
        assert_eq!(trusted_etag(&ok, false).as_deref(), Some(&b"\"v1\""[..]));
        assert!(trusted_etag(&ok, true).is_none(), "the request's own");
        for bad in [
            h(&[("etag", "W/\"v1\"")]),
            h(&[("etag", "\"v1\""), ("cache-control", "private")]),
            h(&[("etag", "\"v1\""), ("cache-control", "max-age=0, no-store")]),
            h(&[("etag", "\"v1\""), ("set-cookie", "a=b")]),
            h(&[("etag", "\"v1\""), ("vary", "Accept-Language")]),
            h(&[("etag", "\"v1\""), ("etag", "\"v2\"")]),
            h(&[]),
        ] {
            assert!(trusted_etag(&bad, false).is_none(), "{bad:?}");
        }
        assert!(
            trusted_etag(
                &h(&[("etag", "\"v1\""), ("vary", "accept-encoding")]),
                false
            )
            .is_some()
        );
    }

    #[test]
    fn an_etag_is_trusted_only_by_the_whole_cache_control() {
        let h = |pairs: &[(&'static str, &'static [u8])]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                let v = HeaderValue::from_bytes(v).unwrap_or_else(|e| unreachable!("{e}"));
                m.append(*k, v);
            }
            m
        };
        for bad in [
            // A field with a byte past ASCII was skipped whole, `private` with it.
            h(&[
                ("etag", b"\"v1\""),
                ("cache-control", b"private, x=\"\xc3\xa9\""),
            ]),
            // What a cache may read otherwise: not trusted.
            h(&[
                ("etag", b"\"v1\""),
                ("cache-control", b"max-age=60, x=\"a, b"),
            ]),
            h(&[("etag", b"\"v1\""), ("cache-control", b"max-age = 60")]),
            // Two tags in one field, as a proxy joins two fields: no one validator.
            h(&[("etag", b"\"v1\", \"v2\"")]),
            h(&[("etag", b"\"v1\", W/\"v2\"")]),
        ] {
            assert!(trusted_etag(&bad, false).is_none(), "{bad:?}");
        }
        let field_names = h(&[
            ("etag", b"\"v1\""),
            ("cache-control", b"public, no-cache=\"Set-Cookie, X-A\""),
        ]);
        assert!(trusted_etag(&field_names, false).is_some());
    }

    #[test]
    fn an_origin_is_what_names_the_resource_and_not_the_visitor() {
        let origin = |pairs: &[(&'static str, &'static str)]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.append(*k, HeaderValue::from_static(v));
            }
            Origin::of(&m)
        };
        let proxied = origin(&[
            ("host", "a.example"),
            ("x-forwarded-for", "192.0.2.1"),
            ("forwarded", "for=192.0.2.1;proto=https"),
        ]);
        // Another visitor through the same proxy, its headers in another order.
        let other = origin(&[
            ("forwarded", "for=\"[2001:db8::1]\";proto=https"),
            ("x-forwarded-for", "198.51.100.7"),
            ("host", "a.example"),
        ]);
        assert_eq!(proxied, other);
        for forged in [
            origin(&[("host", "a.example"), ("forwarded", "proto=http")]),
            origin(&[
                ("host", "a.example"),
                ("forwarded", "HOST=b.example;proto=https"),
            ]),
            origin(&[
                ("host", "a.example"),
                ("forwarded", "proto=https"),
                ("x-forwarded-prefix", "/b"),
            ]),
        ] {
            assert_ne!(proxied, forged, "{forged:?}");
        }
        let host = origin(&[("host", "a.example")]);
        assert_ne!(host.clone().with_authority("b.example"), host);
        // A value is never read as a name, nor two values as one.
        assert_ne!(
            origin(&[("host", "a"), ("x-forwarded-host", "b")]),
            origin(&[("host", "a"), ("host", "b")])
        );
    }

    #[test]
    fn the_cache_stays_within_its_capacity() {
        let cache = PageCache::new(64 * 1024);
        let class = Class {
            allowed: Choices::none(),
            first_layer_due: true,
            script_nonce: false,
            style_nonce: false,
            encoding: encoding_rs::UTF_8,
            meta_charset: false,
        };
        for i in 0..100u32 {
            let body = vec![b'a' + (i % 26) as u8; 5000 + i as usize];
            let key = Key {
                source: Source::Body {
                    path: "/".into(),
                    hash: u64::from(i),
                    len: body.len(),
                },
                class: class.clone(),
            };
            let r = Recorded::new(
                Some(Bytes::from(body.clone())),
                body,
                0,
                Lang::En,
                Some(encoding_rs::UTF_8),
            )
            .unwrap_or_else(|| unreachable!("no holes"));
            cache.insert(key, Arc::new(r));
            assert!(
                cache.bytes() <= cache.capacity(),
                "{} at {i}",
                cache.bytes()
            );
        }
        assert!(
            cache.len() >= 3,
            "the most recent are kept: {}",
            cache.len()
        );
        // Larger than a quarter of the capacity: not kept.
        let big = vec![b'z'; 20_000];
        let key = Key {
            source: Source::Body {
                path: "/big".into(),
                hash: 1,
                len: big.len(),
            },
            class,
        };
        let r = Recorded::new(
            Some(Bytes::from(big.clone())),
            big.clone(),
            0,
            Lang::En,
            Some(encoding_rs::UTF_8),
        )
        .unwrap_or_else(|| unreachable!("no holes"));
        cache.insert(key.clone(), Arc::new(r));
        assert!(cache.get(&key, Some(&big)).is_none());
    }
}
