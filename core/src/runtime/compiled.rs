//! The compiled site policy: what the browser needs of a config, as a compact, versioned,
//! checksummed binary, read without allocating.
//!
//! The authoring side ([`compile`](crate::compile::compile)) turns a validated
//! [`Config`](crate::Config) into these bytes; the runtime reads them with
//! [`CompiledPolicy::parse`], which checks everything once and then answers from the bytes.
//! A policy that is damaged, cut short or of another format version is refused as a whole
//! ([`PolicyError`]): a banner that cannot read its policy fails closed, allowing only the
//! necessary. The policy's rules ([`policy`](crate::policy)) run over it as over a config
//! ([`SitePolicy`](crate::SitePolicy): every rule is generic over the two): the parameters they read
//! are the same from either, which a test holds for every config it tries.
//!
//! # Format (version 3)
//!
//! Pre-digested for a reader without a parser: after a fixed header, every list is a column
//! of fixed-size cells, and the texts are one run of UTF-8 with a column of where each ends,
//! in the order of the fields they fill, so the runtime finds any field by arithmetic and
//! checks the whole policy with a few flat loops. Little-endian throughout.
//!
//! Version 2 named each text by a number into a table of distinct texts: a text used twice
//! (a path `/`) was stored once, but the reader checked every number and followed it at
//! every read (73 B gzip of the banner's module, and 15 B of the example's policy).
//!
//! | field | encoding |
//! | --- | --- |
//! | magic | `CPOL` |
//! | format version | 1 byte: 3 |
//! | length | 4 bytes: every byte of the policy, checksum included |
//! | revision, fingerprint | 4 bytes each |
//! | flags | 1 byte: honour DNT (bit 0), Consent Mode on (bit 1) |
//! | acceptance and refusal lifetimes | 2 bytes each, days |
//! | Consent Mode's `wait_for_update` | 4 bytes, milliseconds |
//! | GPC categories | 4 bytes, a category bit set |
//! | Consent Mode signals | 7 × 4 bytes: the categories each signal follows, in [`Signal::ALL`](crate::consent_mode::Signal::ALL) order |
//! | languages | 1 byte default, then 3 bytes: the offered ones in order (0 fi, 1 sv, 2 en), `0xff` after the last |
//! | consent cookie's attributes | 1 byte: SameSite (bits 0-1: 0 strict, 1 lax, 2 none), always `Secure` (bit 2: a `__Secure-` or `__Host-` name) |
//! | counts | categories 1 byte (1-32), services 1 byte (0-128), excluded paths 2 bytes, declared cookies 2 bytes |
//! | text ends | per text, 2 bytes: where it ends in the text bytes (it starts where the one before ends); the texts are, in order: site, consent cookie name, path and domain, endpoint (empty: none; a domain, the host's); each category's id (the first category is the strictly necessary one); each service's id; each excluded path, as the rule compares it ([`exclude_path_key`]: the compiler normalises it, so the reader does not); each declared cookie's name pattern, then each one's path, then each one's domain |
//! | services' categories | 1 byte each |
//! | services' excluded paths | 2 bytes each: where the service's end in the excluded paths (they start where the service before's end) |
//! | services' cookies | 2 bytes each: likewise in the declared cookies |
//! | text bytes | UTF-8, every text's end a character boundary |
//! | checksum | 4 bytes: Adler-32 of every byte before it |

use core::fmt;

use crate::index::{CategoryIndex, ServiceIndex};
use crate::lang::Lang;
use crate::state::{MAX_CATEGORIES, MAX_SERVICES};

/// The first four bytes of every compiled policy.
pub const MAGIC: [u8; 4] = *b"CPOL";
/// The format version this crate writes and reads.
pub const FORMAT_VERSION: u8 = 3;
/// The largest compiled policy read: far above any real site's (a few kilobytes).
pub const MAX_LEN: usize = 256 * 1024;

/// Why bytes are not a compiled policy this crate can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyError {
    /// The bytes do not start with [`MAGIC`]: not a compiled policy at all (an HTML error
    /// page, say).
    Magic,
    /// Another format version than [`FORMAT_VERSION`]: built by another release.
    Version(u8),
    /// The length field does not match the bytes (a cut download), or is over [`MAX_LEN`].
    Length,
    /// The checksum does not match: damaged in transit or on disk.
    Checksum,
    /// A field is out of range or cut short; names which.
    Field(&'static str),
}

impl PolicyError {
    /// What is wrong, in a sentence (what [`Display`](core::fmt::Display) writes), without
    /// `core::fmt`: the banner reports it.
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            PolicyError::Magic => "not a compiled consent policy",
            PolicyError::Version(_) => {
                "a compiled policy of another format version: rebuild it with this release's `consent banner build`"
            }
            PolicyError::Length => "compiled policy cut short or padded",
            PolicyError::Checksum => "compiled policy damaged: checksum mismatch",
            PolicyError::Field(_) => "compiled policy: a field is out of range",
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())?;
        match self {
            PolicyError::Version(v) => {
                write!(f, " (format {v}; this release reads {FORMAT_VERSION})")
            }
            PolicyError::Field(what) => write!(f, " ({what})"),
            _ => Ok(()),
        }
    }
}

impl core::error::Error for PolicyError {}

/// A compiled site policy, checked and read in place.
///
/// # Example
/// ```
/// use consent_core::{Config, compile::compile, compiled::CompiledPolicy};
/// let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
/// let bytes = compile(&config)?;
/// let policy = CompiledPolicy::parse(&bytes)?;
/// assert_eq!(policy.revision(), config.revision().get());
/// assert_eq!(policy.category_index("analytics"), config.category_index("analytics"));
///
/// // A byte changed in transit, or the download cut short: refused as a whole.
/// let mut damaged = bytes.clone();
/// damaged[20] ^= 1;
/// assert!(CompiledPolicy::parse(&damaged).is_err());
/// assert!(CompiledPolicy::parse(&bytes[..bytes.len() - 1]).is_err());
/// # Ok::<(), Box<dyn core::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct CompiledPolicy<'a> {
    fixed: Fixed,
    cookie: CookieSettings<'a>,
    tables: Tables<'a>,
}

/// The fixed-size fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Fixed {
    revision: u32,
    fingerprint: u32,
    flags: u8,
    accept_days: u16,
    refuse_days: u16,
    wait_for_update_ms: u32,
    gpc_mask: u32,
    consent_mode_masks: [u32; 7],
    default_lang: Lang,
    /// The offered languages, the first `n_langs` of them.
    langs: [Lang; 3],
    n_langs: u8,
}

/// The consent cookie's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CookieSettings<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its `Path`.
    pub path: &'a str,
    /// Its `Domain`, if any.
    pub domain: Option<&'a str>,
    /// Its `SameSite`.
    pub same_site: crate::SameSite,
    /// `Secure` whatever the scheme: its name has a [`secure_prefix`], which browsers refuse
    /// without it (worked out by the authoring side, so the banner does not compare names).
    pub always_secure: bool,
}

impl CookieSettings<'_> {
    /// Whether the cookie is written with `Secure`: on a page or request over HTTPS
    /// (`https`), and always with `SameSite=None` or a name with the `__Secure-` or `__Host-`
    /// prefix, which browsers refuse without it.
    #[must_use]
    pub fn secure(&self, https: bool) -> bool {
        https || self.same_site == crate::SameSite::None || self.always_secure
    }
}

/// The prefix of a cookie name that binds the cookie to `Secure` (`__Secure-`) or to
/// `Secure`, `Path=/` and no `Domain` (`__Host-`, which a sibling subdomain therefore cannot
/// set for this host), if `name` starts with it as the standard spells it. Browsers also
/// take the prefixes in other cases; a config must spell them so (its validation says).
#[must_use]
pub fn secure_prefix(name: &str) -> Option<&'static str> {
    SECURE_PREFIXES
        .into_iter()
        .find(|prefix| name.starts_with(prefix))
}

/// The cookie name prefixes that browsers bind to `Secure`, as the standard spells them.
pub const SECURE_PREFIXES: [&str; 2] = ["__Secure-", "__Host-"];

/// A category of a compiled policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CategoryEntry<'a> {
    /// Its id (`analytics`).
    pub id: &'a str,
    /// Whether it is the strictly necessary category.
    pub necessary: bool,
}

/// A service of a compiled policy.
#[derive(Clone, Copy, Debug)]
pub struct ServiceEntry<'a> {
    /// Its id (`ga`).
    pub id: &'a str,
    /// Its category.
    pub category: CategoryIndex,
    tables: Tables<'a>,
    /// Its position: its excluded paths and cookies are found from it only when read.
    index: usize,
}

/// A cookie a service sets, as declared: what a withdrawal deletes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CookieEntry<'a> {
    /// The name, or a pattern with `*` (`_ga_*`).
    pub name: &'a str,
    /// The declared path.
    pub path: &'a str,
    /// The declared domain, if any.
    pub domain: Option<&'a str>,
}

impl<'a> ServiceEntry<'a> {
    /// The paths the service is kept off (`exclude_paths`), each as the rule compares it
    /// (in lower case, its escapes decoded, runs of `/` as one, no `/` at its end: what the
    /// compiler stored, [`exclude_path_key`]).
    pub fn exclude_paths(&self) -> impl Iterator<Item = &'a str> + 'a {
        let t = self.tables;
        let (start, end) = t.excluded_span(self.index);
        (start..end).map(move |k| t.excluded_path(k))
    }

    /// The declared cookies.
    pub fn cookies(&self) -> impl Iterator<Item = CookieEntry<'a>> + 'a {
        let t = self.tables;
        let (start, end) = t.cookies_span(self.index);
        (start..end).map(move |k| t.cookie(k))
    }

    /// Whether the service is kept off the page at `path` (the same rule as
    /// [`Service::is_excluded_on`](crate::Service::is_excluded_on)).
    #[must_use]
    pub fn is_excluded_on(&self, path: &str) -> bool {
        excluded(self.exclude_paths().map(str::bytes), path)
    }
}

/// The policy's checksum: Adler-32 (RFC 1950) of everything before it.
///
/// Written here, a dozen lines, rather than taken from `adler2`, whose unrolled loops are
/// half a kilobyte of the banner's module for a file of a few hundred bytes; `adler2` stays
/// as the oracle of the tests.
pub(crate) fn adler32(bytes: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    // The most bytes whose sums cannot overflow a u32 before they are reduced.
    const RUN: usize = 5_552;
    let (mut a, mut b) = (1u32, 0u32);
    for run in bytes.chunks(RUN) {
        for &byte in run {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    b << 16 | a
}

/// A cursor over the columns after the header; every read is checked.
#[derive(Clone, Copy, Debug)]
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// Out of line in the browser build (24 B gzip less in the banner's module, measured).
    #[cfg_attr(target_family = "wasm", inline(never))]
    fn take(&mut self, n: usize) -> Result<&'a [u8], PolicyError> {
        let end = self.at.checked_add(n).ok_or(PolicyError::Length)?;
        let slice = self.bytes.get(self.at..end).ok_or(PolicyError::Length)?;
        self.at = end;
        Ok(slice)
    }

    /// The next column of `n` two-byte cells.
    fn column(&mut self, n: usize) -> Result<&'a [u8], PolicyError> {
        self.take(2 * n)
    }
}

/// The two bytes at `at` of `bytes` (0 past their end, which no read of a checked policy
/// reaches).
///
/// Out of line in the browser build: one copy for the header's fields and the columns, not
/// one at each read (48 B gzip less in the banner's module, measured).
#[cfg_attr(target_family = "wasm", inline(never))]
fn cell(bytes: &[u8], at: usize) -> usize {
    bytes
        .get(at..at + 2)
        .and_then(|b| b.try_into().ok())
        .map_or(0, |b| u16::from_le_bytes(b).into())
}

/// The four bytes at `at` of `bytes`.
fn cell32(bytes: &[u8], at: usize) -> u32 {
    (cell(bytes, at) | cell(bytes, at + 2) << 16) as u32
}

/// Checks a column of ends: never decreasing, the last `total` (none: 0).
// Always inlined into `parse`, so that no `Result` comes back through memory (32 B gzip of
// the banner's module, measured); the loop, `ends_ok`, once.
#[inline(always)]
fn check_ends(column: &[u8], total: usize) -> Result<(), PolicyError> {
    if ends_ok(column, total) {
        Ok(())
    } else {
        Err(PolicyError::Field("ends"))
    }
}

/// [`check_ends`]' test.
#[cfg_attr(target_family = "wasm", inline(never))]
fn ends_ok(column: &[u8], total: usize) -> bool {
    let mut last = 0;
    for i in 0..column.len() / 2 {
        let end = cell(column, 2 * i);
        if end < last {
            return false;
        }
        last = end;
    }
    last == total
}

/// The header's length: every field before the columns has a fixed place in it.
const HEADER: usize = 69;

/// The language of `code`, as a token's flags name one ([`Lang::from_index`]: no table of
/// its own in the banner's module).
// Always inlined, as `check_ends`: out of line, its `Result` came back through memory (60 B
// gzip of the banner's module, measured).
#[inline(always)]
fn lang(code: u8) -> Result<Lang, PolicyError> {
    Lang::from_index(code).ok_or(PolicyError::Field("language"))
}

/// The columns, read in place: every field is found by arithmetic, and [`CompiledPolicy::parse`]
/// checked every cell before any is read, so the reads below cannot miss (they answer empty
/// if they did, never panic).
#[derive(Clone, Copy, Debug)]
struct Tables<'a> {
    /// The bytes before the checksum.
    body: &'a [u8],
    /// The text bytes.
    texts: &'a [u8],
    text_ends: usize,
    /// The services' categories (one byte each).
    service_categories: usize,
    /// The services' excluded paths' ends, then their cookies' ends.
    excluded_ends: usize,
    n_categories: u8,
    n_services: u8,
    n_excluded: u16,
    n_cookies: u16,
}

/// Where each list starts in the texts: the five fixed texts, then the categories'
/// ids, the services', the excluded paths and the cookies' names, paths and domains.
const SITE: usize = 0;
const COOKIE_NAME: usize = 1;
const COOKIE_PATH: usize = 2;
const COOKIE_DOMAIN: usize = 3;
const ENDPOINT: usize = 4;
const CATEGORY_IDS: usize = 5;

impl<'a> Tables<'a> {
    fn u16(&self, at: usize) -> usize {
        cell(self.body, at)
    }

    /// Entry `i`'s start and end, in a column of ends starting at `column`.
    // Always inlined around `packed_span`: the two cells come back in one number, not as a
    // pair through memory (19 B gzip of the banner's module, measured).
    #[inline(always)]
    fn span(&self, column: usize, i: usize) -> (usize, usize) {
        let packed = self.packed_span(column, i);
        (packed & 0xffff, packed >> 16)
    }

    /// [`span`](Self::span)'s cells, the start in the low 16 bits and the end above them.
    #[cfg_attr(target_family = "wasm", inline(never))]
    fn packed_span(&self, column: usize, i: usize) -> usize {
        let start = if i == 0 {
            0
        } else {
            self.u16(column + 2 * (i - 1))
        };
        start | self.u16(column + 2 * i) << 16
    }

    /// The `i`-th text.
    fn text(&self, i: usize) -> &'a str {
        let (start, end) = self.span(self.text_ends, i);
        let text = self.texts.get(start..end).unwrap_or_default();
        crate::text::utf8(text).unwrap_or_default()
    }

    /// The position of `id` among the `n` texts from text `first`: one search for
    /// the categories' ids and the services' (their entries are not built to compare an id).
    // Always inlined around `position`, which answers `n` for none: a plain number comes
    // back from the search, not an `Option` through memory (18 B gzip of the banner's
    // module, measured).
    #[inline(always)]
    fn find(&self, first: usize, n: usize, id: &str) -> Option<u8> {
        let i = self.position(first, n, id);
        (i < n).then_some(i as u8)
    }

    /// [`find`](Self::find)'s search: `n` when `id` is none of the texts.
    #[cfg_attr(target_family = "wasm", inline(never))]
    fn position(&self, first: usize, n: usize, id: &str) -> usize {
        (0..n).position(|i| self.text(first + i) == id).unwrap_or(n)
    }

    fn service_ids(&self) -> usize {
        CATEGORY_IDS + usize::from(self.n_categories)
    }

    fn excluded_path(&self, k: usize) -> &'a str {
        self.text(self.service_ids() + usize::from(self.n_services) + k)
    }

    fn cookie(&self, k: usize) -> CookieEntry<'a> {
        let names =
            self.service_ids() + usize::from(self.n_services) + usize::from(self.n_excluded);
        let n = usize::from(self.n_cookies);
        CookieEntry {
            name: self.text(names + k),
            path: self.text(names + n + k),
            domain: non_empty(self.text(names + 2 * n + k)),
        }
    }

    // Always inlined: one byte read, where the banner's module made a call (18 B gzip,
    // measured).
    #[inline(always)]
    fn category(&self, i: usize) -> CategoryIndex {
        CategoryIndex(
            self.body
                .get(self.service_categories + i)
                .copied()
                .unwrap_or(0),
        )
    }

    /// Where service `i`'s excluded paths start and end in their column.
    fn excluded_span(&self, i: usize) -> (usize, usize) {
        self.span(self.excluded_ends, i)
    }

    /// Where service `i`'s cookies start and end in their column (after the excluded paths').
    fn cookies_span(&self, i: usize) -> (usize, usize) {
        self.span(self.excluded_ends + 2 * usize::from(self.n_services), i)
    }

    // Always inlined: out of line, the entry came back through memory, and the callers read
    // one or two of its fields (44 B gzip of the banner's module, measured).
    #[inline(always)]
    fn service(&self, i: usize) -> ServiceEntry<'a> {
        ServiceEntry {
            id: self.text(self.service_ids() + i),
            category: self.category(i),
            tables: *self,
            index: i,
        }
    }
}

// Always inlined: one test, where the banner's module made a call (11 B gzip, measured).
#[inline(always)]
fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

impl<'a> CompiledPolicy<'a> {
    /// Checks `bytes` whole (magic, version, length, checksum, every field) and reads them.
    ///
    /// # Errors
    /// A [`PolicyError`] saying what is wrong; nothing of a policy with an error is used.
    // Inlined in the browser build: the banner reads only `PolicyError::as_str`, and with
    // its one call inlined the compiler drops the fields' names (120 B gzip of the module,
    // measured).
    #[cfg_attr(target_family = "wasm", inline(always))]
    // The length's range compared as two bounds: see the check.
    #[allow(clippy::manual_range_contains)]
    pub fn parse(bytes: &'a [u8]) -> Result<Self, PolicyError> {
        if bytes.get(..4) != Some(&MAGIC[..]) {
            return Err(PolicyError::Magic);
        }
        let version = bytes.get(4).copied().unwrap_or(0);
        if version != FORMAT_VERSION {
            return Err(PolicyError::Version(version));
        }
        let len = bytes
            .get(5..9)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u32::from_le_bytes) as usize;
        // Compared, not `RangeInclusive::contains`: the banner's module kept that out of line,
        // with each range in its data (42 B gzip with the counts' below, measured).
        if len != bytes.len() || len < 13 || len > MAX_LEN {
            return Err(PolicyError::Length);
        }
        let (body, sum) = bytes.split_at_checked(len - 4).ok_or(PolicyError::Length)?;
        if adler32(body).to_le_bytes() != sum {
            return Err(PolicyError::Checksum);
        }
        // The fixed header, then the columns after it; reads stop at the checksum.
        let h = body.get(..HEADER).ok_or(PolicyError::Length)?;
        let byte = |at: usize| h.get(at).copied().unwrap_or(0);
        let revision = cell32(h, 9);
        if revision == 0 {
            return Err(PolicyError::Field("revision"));
        }
        let fingerprint = cell32(h, 13);
        let flags = byte(17);
        if flags & !0b11 != 0 {
            return Err(PolicyError::Field("flags"));
        }
        let accept_days = cell(h, 18) as u16;
        let refuse_days = cell(h, 20) as u16;
        if accept_days == 0 || refuse_days == 0 {
            return Err(PolicyError::Field("lifetime"));
        }
        let wait_for_update_ms = cell32(h, 22);
        let gpc_mask = cell32(h, 26);
        let mut consent_mode_masks = [0u32; 7];
        for (i, m) in consent_mode_masks.iter_mut().enumerate() {
            *m = cell32(h, 30 + 4 * i);
        }
        let default_lang = lang(byte(58))?;
        // The offered ones first, then `0xff` to the end.
        let mut langs = [Lang::Fi; 3];
        let mut n_langs = 0;
        for (i, slot) in langs.iter_mut().enumerate() {
            match byte(59 + i) {
                0xff => {}
                _ if n_langs < i => return Err(PolicyError::Field("languages")),
                code => {
                    *slot = lang(code)?;
                    n_langs += 1;
                }
            }
        }
        let langs_offered = langs.get(..n_langs).unwrap_or_default();
        if !langs_offered.contains(&default_lang) {
            return Err(PolicyError::Field("default language"));
        }
        let attributes = byte(62);
        let same_site = match attributes & !4 {
            0 => crate::SameSite::Strict,
            1 => crate::SameSite::Lax,
            2 => crate::SameSite::None,
            _ => return Err(PolicyError::Field("cookie SameSite")),
        };
        let (n_categories, n_services) = (byte(63), byte(64));
        if n_categories == 0
            || usize::from(n_categories) > MAX_CATEGORIES
            || usize::from(n_services) > MAX_SERVICES
        {
            return Err(PolicyError::Field("counts"));
        }
        let n_excluded = cell(h, 65) as u16;
        let n_cookies = cell(h, 67) as u16;
        let (nc, ns) = (usize::from(n_categories), usize::from(n_services));
        let n_texts = CATEGORY_IDS + nc + ns + usize::from(n_excluded) + 3 * usize::from(n_cookies);
        let mut r = Reader {
            bytes: body,
            at: HEADER,
        };
        let text_ends = r.at;
        let ends = r.column(n_texts)?;
        let service_categories = r.at;
        // Every service's category is one of the policy's.
        if r.take(ns)?.iter().any(|&c| c >= n_categories) {
            return Err(PolicyError::Field("service category"));
        }
        let excluded_ends = r.at;
        check_ends(r.column(ns)?, n_excluded.into())?;
        check_ends(r.column(ns)?, n_cookies.into())?;
        let texts = r.take(body.len() - r.at)?;
        check_ends(ends, texts.len())?;
        let tables = Tables {
            body,
            texts,
            text_ends,
            service_categories,
            excluded_ends,
            n_categories,
            n_services,
            n_excluded,
            n_cookies,
        };

        // Every text UTF-8 on its own (and so the whole, with every end a character's).
        if (0..n_texts).any(|i| {
            let (start, end) = tables.span(text_ends, i);
            texts.get(start..end).and_then(crate::text::utf8).is_none()
        }) {
            return Err(PolicyError::Field("text"));
        }
        let cookie = CookieSettings {
            name: tables.text(COOKIE_NAME),
            path: tables.text(COOKIE_PATH),
            domain: non_empty(tables.text(COOKIE_DOMAIN)),
            same_site,
            always_secure: attributes & 4 != 0,
        };
        if cookie.name.is_empty() || !cookie.path.starts_with("/") {
            return Err(PolicyError::Field("consent cookie"));
        }
        // Every category and service has an id.
        if (0..nc + ns).any(|i| tables.text(CATEGORY_IDS + i).is_empty()) {
            return Err(PolicyError::Field("id"));
        }
        for k in 0..n_cookies.into() {
            let c = tables.cookie(k);
            if c.name.is_empty() || !c.path.starts_with("/") {
                return Err(PolicyError::Field("service cookie"));
            }
        }
        let all_categories = u32::MAX >> (32 - u32::from(n_categories));
        if gpc_mask & !all_categories != 0
            || consent_mode_masks.iter().any(|m| m & !all_categories != 0)
        {
            return Err(PolicyError::Field("category set"));
        }
        Ok(Self {
            fixed: Fixed {
                revision,
                fingerprint,
                flags,
                accept_days,
                refuse_days,
                wait_for_update_ms,
                gpc_mask,
                consent_mode_masks,
                default_lang,
                langs,
                n_langs: n_langs as u8,
            },
            cookie,
            tables,
        })
    }

    /// The policy revision.
    #[must_use]
    pub fn revision(&self) -> u32 {
        self.fixed.revision
    }

    /// The config's [fingerprint](crate::Config::fingerprint).
    #[must_use]
    pub fn fingerprint(&self) -> u32 {
        self.fixed.fingerprint
    }

    /// Whether `DNT: 1` counts as GPC.
    #[must_use]
    pub fn honour_dnt(&self) -> bool {
        self.fixed.flags & 1 != 0
    }

    /// Whether the banner sends Consent Mode commands.
    #[must_use]
    pub fn consent_mode_enabled(&self) -> bool {
        self.fixed.flags & 2 != 0
    }

    /// Consent Mode's `wait_for_update`, in milliseconds.
    #[must_use]
    pub fn wait_for_update_ms(&self) -> u32 {
        self.fixed.wait_for_update_ms
    }

    /// The categories each Consent Mode signal follows, as bit sets in
    /// [`Signal::ALL`](crate::consent_mode::Signal::ALL) order.
    #[must_use]
    pub fn consent_mode_masks(&self) -> [u32; 7] {
        self.fixed.consent_mode_masks
    }

    /// The acceptance and refusal lifetimes, in days.
    #[must_use]
    pub fn lifetime_days(&self) -> (u16, u16) {
        (self.fixed.accept_days, self.fixed.refuse_days)
    }

    /// The categories Global Privacy Control keeps off, as a bit set.
    #[must_use]
    pub fn gpc_mask(&self) -> u32 {
        self.fixed.gpc_mask
    }

    /// The languages the site offers, in the config's order.
    #[must_use]
    pub fn languages(&self) -> &[Lang] {
        let n = usize::from(self.fixed.n_langs);
        self.fixed.langs.get(..n).unwrap_or_default()
    }

    /// The default language.
    #[must_use]
    pub fn default_language(&self) -> Lang {
        self.fixed.default_lang
    }

    /// The site the decisions are for, if the config names one.
    #[must_use]
    pub fn site(&self) -> Option<&'a str> {
        non_empty(self.tables.text(SITE))
    }

    /// The consent cookie's settings.
    #[must_use]
    #[inline(always)]
    pub fn cookie(&self) -> CookieSettings<'a> {
        self.cookie
    }

    /// Where the banner sends decisions, if anywhere.
    #[must_use]
    // Always inlined: its `Option<&str>` came back through memory to its one caller (10 B
    // gzip of the banner's module, measured).
    #[inline(always)]
    pub fn endpoint(&self) -> Option<&'a str> {
        non_empty(self.tables.text(ENDPOINT))
    }

    /// How many categories there are.
    #[must_use]
    pub fn category_count(&self) -> usize {
        self.tables.n_categories.into()
    }

    /// How many services there are, across categories.
    #[must_use]
    pub fn service_count(&self) -> usize {
        self.tables.n_services.into()
    }

    /// The categories, in order; the first is the strictly necessary one.
    pub fn categories(&self) -> impl Iterator<Item = CategoryEntry<'a>> + 'a {
        self.indexed_categories().map(|(_, c)| c)
    }

    /// The services, in order (their positions are their [`ServiceIndex`]).
    pub fn services(&self) -> impl Iterator<Item = ServiceEntry<'a>> + 'a {
        self.indexed_services().map(|(_, s)| s)
    }

    /// Each service's category, in order: what the rules' parameters need of the services,
    /// read without their texts.
    pub(crate) fn service_categories(&self) -> impl Iterator<Item = CategoryIndex> + 'a {
        let t = self.tables;
        (0..self.service_count()).map(move |i| t.category(i))
    }

    /// Each declared cookie with its service's position, read without the services' ids.
    pub(crate) fn each_service_cookie(&self, f: &mut dyn crate::site::EachCookie) {
        let t = &self.tables;
        for i in 0..self.service_count() {
            let (start, end) = t.cookies_span(i);
            for k in start..end {
                f.cookie(ServiceIndex(i as u8), t.cookie(k));
            }
        }
    }

    /// Whether the service at `index` is kept off the page at `path`
    /// ([`ServiceEntry::is_excluded_on`]), read without its texts.
    pub(crate) fn service_excluded_on(&self, index: ServiceIndex, path: &str) -> bool {
        let t = &self.tables;
        let (start, end) = t.excluded_span(index.get());
        index.get() < self.service_count()
            && excluded((start..end).map(|k| t.excluded_path(k).bytes()), path)
    }

    /// The categories with their positions.
    // Always inlined: the iterator is built where it is read (3 B gzip, measured).
    #[inline(always)]
    pub fn indexed_categories(
        &self,
    ) -> impl Iterator<Item = (CategoryIndex, CategoryEntry<'a>)> + 'a {
        let t = self.tables;
        (0..self.category_count()).map(move |i| {
            let id = t.text(CATEGORY_IDS + i);
            let c = CategoryEntry {
                id,
                necessary: i == 0,
            };
            (CategoryIndex(i as u8), c)
        })
    }

    /// The services with their positions.
    // Always inlined, as `indexed_categories`: the iterator is built where it is read, not
    // returned through memory (28 B gzip of the banner's module, measured).
    #[inline(always)]
    pub fn indexed_services(&self) -> impl Iterator<Item = (ServiceIndex, ServiceEntry<'a>)> + 'a {
        let t = self.tables;
        (0..self.service_count()).map(move |i| (ServiceIndex(i as u8), t.service(i)))
    }

    /// The position of the category `id`.
    #[must_use]
    // Always inlined, as `service_index` and the sealed trait's two: the search's position
    // comes back as a number, not an `Option` through memory (41 B gzip of the banner's
    // module, measured).
    #[inline(always)]
    pub fn category_index(&self, id: &str) -> Option<CategoryIndex> {
        self.tables
            .find(CATEGORY_IDS, self.category_count(), id)
            .map(CategoryIndex)
    }

    /// The position of the service `id`.
    #[must_use]
    #[inline(always)]
    pub fn service_index(&self, id: &str) -> Option<ServiceIndex> {
        let t = &self.tables;
        t.find(t.service_ids(), self.service_count(), id)
            .map(ServiceIndex)
    }

    /// The service at `index`.
    #[must_use]
    pub fn service(&self, index: ServiceIndex) -> Option<ServiceEntry<'a>> {
        (index.get() < self.service_count()).then(|| self.tables.service(index.get()))
    }
}

/// Whether the page at `path` (its query and fragment ignored) is under one of `paths`: a
/// path equal to one, or below it (`/ajanvaraus` keeps off `/ajanvaraus/uusi`, not
/// `/ajanvaraukset`), or one followed by a `.` or `;` (`/ajanvaraus.html`, which a static
/// host answers with the page `/ajanvaraus`, and `/ajanvaraus;jsessionid=...`, which a Java
/// server does). The one rule for a config's services and a compiled policy's; each of
/// `paths` is given as [`exclude_path_key`] reads it (a config's when asked, a compiled
/// policy's by the compiler, ahead).
///
/// Both are compared as many servers route them ([`Normalized`]): without case, with runs of
/// `/` as one and escapes of letters, digits, `-._~` and `/` decoded, so that a link to
/// `/Ajanvaraus`, `//ajanvaraus` or `/%61janvaraus`, which such a server answers with the
/// booking page, still keeps the service off it. Every difference this ignores can only
/// exclude more, never less.
pub(crate) fn excluded<K: Iterator<Item = u8>>(
    paths: impl IntoIterator<Item = K>,
    path: &str,
) -> bool {
    // Up to the query or fragment (ASCII, so a char boundary).
    let end = path.bytes().position(|b| b == b'?' || b == b'#');
    let path = path.get(..end.unwrap_or(path.len())).unwrap_or(path);
    paths.into_iter().any(|mut key| {
        let mut page = Normalized::new(path);
        loop {
            match key.next() {
                // All of the excluded path: the page is it, below it, or it with a suffix or
                // path parameters.
                None => return matches!(page.next(), None | Some(b'/' | b'.' | b';')),
                Some(b) if page.next() == Some(b) => {}
                Some(_) => return false,
            }
        }
    })
}

/// An excluded path's bytes as the exclusion rule compares them: in lower case, runs of `/` as
/// one, escapes of letters, digits, `-._~` and `/` decoded, and without the `/` at
/// its end (`/ajanvaraus/` keeps off `/ajanvaraus` too). What the compiler stores for each
/// of a service's `exclude_paths`, so the banner's reader normalises only the page's path.
pub fn exclude_path_key(path: &str) -> impl Iterator<Item = u8> + '_ {
    Normalized::new(crate::text::trim_end_ascii(path, b'/'))
}

/// A path's bytes as [`excluded`] compares them: ASCII letters in lower case, a run of `/` as
/// one, and `%XX` that stands for a letter, a digit or one of `-._~` (which RFC 3986 says
/// mean the same escaped or not) as that character; `%2F` as `/` too, as servers that decode
/// it before routing read it.
struct Normalized<'a> {
    bytes: &'a [u8],
    at: usize,
    slash: bool,
}

impl<'a> Normalized<'a> {
    fn new(path: &'a str) -> Self {
        Self {
            bytes: path.as_bytes(),
            at: 0,
            slash: false,
        }
    }

    /// After a `%`: the unreserved character its two hex digits stand for, past them; else
    /// the `%` itself.
    // Out of line in the browser build, the rare case of `next` kept apart from it (10 B
    // gzip less in the banner's module, measured).
    #[cfg_attr(target_family = "wasm", inline(never))]
    fn unescape(&mut self) -> u8 {
        let hex = |i: usize| (*self.bytes.get(i).unwrap_or(&b'g') as char).to_digit(16);
        if let (Some(hi), Some(lo)) = (hex(self.at), hex(self.at + 1)) {
            let b = (hi * 16 + lo) as u8;
            if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                self.at += 2;
                return b;
            }
        }
        b'%'
    }
}

impl Iterator for Normalized<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        loop {
            let b = *self.bytes.get(self.at)?;
            self.at += 1;
            let b = if b == b'%' { self.unescape() } else { b };
            let slash = b == b'/';
            if !(slash && self.slash) {
                self.slash = slash;
                return Some(b.to_ascii_lowercase());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn adler32_is_adler2s(bytes in proptest::collection::vec(any::<u8>(), 0..12_000)) {
            prop_assert_eq!(super::adler32(&bytes), adler2::adler32_slice(&bytes));
        }
    }

    use super::{CompiledPolicy, HEADER, PolicyError, cell};

    #[test]
    fn an_excluded_path_with_a_suffix_or_parameters_is_excluded() {
        let keys = || [super::exclude_path_key("/ajanvaraus")];
        for (path, excluded) in [
            ("/ajanvaraus.html", true),
            ("/ajanvaraus;jsessionid=1", true),
            ("/ajanvaraus%2Ehtml", true),
            ("/ajanvaraus/vahvistus.php", true),
            ("/ajanvaraukset", false),
            ("/ajanvaraus-vanha", false),
        ] {
            assert_eq!(super::excluded(keys(), path), excluded, "{path}");
        }
    }

    /// The example's compiled policy.
    fn example() -> Vec<u8> {
        let config = crate::Config::from_json(crate::EXAMPLE_CONFIG).unwrap();
        crate::compile::compile(&config).unwrap()
    }

    /// `bytes` changed by `edit`, with the checksum made right again: what the field checks
    /// alone must refuse.
    fn resealed(bytes: &[u8], edit: impl FnOnce(&mut Vec<u8>)) -> Result<(), PolicyError> {
        let mut b = bytes.to_vec();
        edit(&mut b);
        let body = b.len() - 4;
        let sum = super::adler32(&b[..body]);
        b[body..].copy_from_slice(&sum.to_le_bytes());
        CompiledPolicy::parse(&b).map(|_| ())
    }

    #[test]
    fn every_field_out_of_range_is_refused_with_a_good_checksum() {
        let bytes = example();
        assert!(resealed(&bytes, |_| {}).is_ok());
        let field = |what| Err(PolicyError::Field(what));
        // The header's fields.
        assert_eq!(resealed(&bytes, |b| b[9..13].fill(0)), field("revision"));
        assert_eq!(resealed(&bytes, |b| b[17] = 4), field("flags"));
        assert_eq!(resealed(&bytes, |b| b[20..22].fill(0)), field("lifetime"));
        assert_eq!(resealed(&bytes, |b| b[58] = 3), field("language"));
        assert_eq!(
            resealed(&bytes, |b| b[59..62].copy_from_slice(&[0, 0xff, 1])),
            field("languages")
        );
        assert_eq!(
            resealed(&bytes, |b| b[59..62].copy_from_slice(&[1, 0xff, 0xff])),
            field("default language")
        );
        assert_eq!(resealed(&bytes, |b| b[62] = 3), field("cookie SameSite"));
        assert_eq!(resealed(&bytes, |b| b[63] = 33), field("counts"));
        assert_eq!(resealed(&bytes, |b| b[64] = 129), field("counts"));
        assert_eq!(resealed(&bytes, |b| b[26] |= 0x80), field("category set"));
        // The columns: where each starts, from the counts.
        let (nc, ns) = (usize::from(bytes[63]), usize::from(bytes[64]));
        let (ne, nk) = (cell(&bytes, 65), cell(&bytes, 67));
        let nt = 5 + nc + ns + ne + 3 * nk;
        let categories = HEADER + 2 * nt;
        let texts = categories + 5 * ns;
        let set = |b: &mut Vec<u8>, at: usize, v: usize| {
            b[at..at + 2].copy_from_slice(&(v as u16).to_le_bytes())
        };
        assert_eq!(
            resealed(&bytes, |b| b[categories] = nc as u8),
            field("service category")
        );
        // An end before the one ahead of it, and the last not the end.
        let end = |i: usize| cell(&bytes, HEADER + 2 * i);
        let after_text = (1..nt).find(|&i| end(i - 1) > 0).unwrap();
        assert_eq!(
            resealed(&bytes, |b| set(
                b,
                HEADER + 2 * after_text,
                end(after_text - 1) - 1
            )),
            field("ends")
        );
        assert_eq!(
            resealed(&bytes, |b| set(b, categories + ns + 2 * (ns - 1), ne - 1)),
            field("ends")
        );
        // The consent cookie's name is the second text: ended where the first (the site, which
        // the example does not name) ends, it is empty.
        assert_eq!(end(0), 0, "the example names no site");
        assert_eq!(
            resealed(&bytes, |b| set(b, HEADER + 2, 0)),
            field("consent cookie")
        );
        // Text bytes that are not UTF-8, and a text ending inside a character.
        assert_eq!(resealed(&bytes, |b| b[texts] = 0xff), field("text"));
        let boundary = (0..nt)
            .map(end)
            .find(|&e| e > 0 && texts + e < bytes.len() - 5)
            .unwrap();
        assert_eq!(
            resealed(&bytes, |b| b[texts + boundary - 1..texts + boundary + 1]
                .copy_from_slice("ä".as_bytes())),
            field("text")
        );
    }

    #[test]
    fn adler32_of_long_runs_of_0xff() {
        // The worst case for the sums between reductions.
        let bytes = vec![0xff; 3 * 5_552 + 7];
        assert_eq!(super::adler32(&bytes), adler2::adler32_slice(&bytes));
    }
}
