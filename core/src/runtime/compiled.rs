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
//! # Format (version 1)
//!
//! Little-endian throughout. `str` is a two-byte length and that many bytes of UTF-8.
//!
//! | field | encoding |
//! | --- | --- |
//! | magic | `CPOL` |
//! | format version | 1 byte: 1 |
//! | length | 4 bytes: every byte of the policy, checksum included |
//! | revision, fingerprint | 4 bytes each |
//! | flags | 1 byte: honour DNT (bit 0), Consent Mode on (bit 1) |
//! | acceptance and refusal lifetimes | 2 bytes each, days |
//! | Consent Mode's `wait_for_update` | 4 bytes, milliseconds |
//! | GPC categories | 4 bytes, a category bit set |
//! | Consent Mode signals | 7 × 4 bytes: the categories each signal follows, in [`Signal::ALL`](crate::consent_mode::Signal::ALL) order |
//! | languages | 1 byte default, 1 byte count, then one byte each (0 fi, 1 sv, 2 en) |
//! | site | `str`, empty for none |
//! | consent cookie | name `str`, path `str`, domain `str` (empty: the host's), 1 byte: SameSite (bits 0-1: 0 strict, 1 lax, 2 none), always `Secure` (bit 2: a `__Secure-` or `__Host-` name) |
//! | endpoint | `str`, empty for none |
//! | categories | 1 byte count (1-32), then each: id `str`, flags 1 byte (necessary: bit 0) |
//! | services | 1 byte count (0-128), then each: id `str`, category 1 byte, `exclude_paths` (1 byte count, each `str`), cookies (1 byte count, each: name pattern `str`, path `str`, domain `str`) |
//! | checksum | 4 bytes: Adler-32 of every byte before it |

use core::fmt;

use crate::index::{CategoryIndex, ServiceIndex};
use crate::lang::Lang;
use crate::state::{MAX_CATEGORIES, MAX_SERVICES};

/// The first four bytes of every compiled policy.
pub const MAGIC: [u8; 4] = *b"CPOL";
/// The format version this crate writes and reads.
pub const FORMAT_VERSION: u8 = 1;
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
    bytes: &'a [u8],
    fixed: Fixed,
    site: &'a str,
    cookie: CookieSettings<'a>,
    endpoint: &'a str,
    /// Where the categories start (their count byte) and the services (theirs).
    categories_at: usize,
    services_at: usize,
    n_categories: u8,
    n_services: u8,
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
    langs: [Option<Lang>; 3],
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
    exclude: Reader<'a>,
    n_exclude: u8,
    cookies: Reader<'a>,
    n_cookies: u8,
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
    /// The paths the service is kept off (`exclude_paths`).
    pub fn exclude_paths(&self) -> impl Iterator<Item = &'a str> + 'a {
        let mut r = self.exclude;
        (0..self.n_exclude).map_while(move |_| r.str().ok())
    }

    /// The declared cookies.
    pub fn cookies(&self) -> impl Iterator<Item = CookieEntry<'a>> + 'a {
        let mut r = self.cookies;
        (0..self.n_cookies).map_while(move |_| read_cookie(&mut r).ok())
    }

    /// Whether the service is kept off the page at `path` (the same rule as
    /// [`Service::is_excluded_on`](crate::Service::is_excluded_on)).
    #[must_use]
    pub fn is_excluded_on(&self, path: &str) -> bool {
        excluded(self.exclude_paths(), path)
    }
}

fn read_cookie<'a>(r: &mut Reader<'a>) -> Result<CookieEntry<'a>, PolicyError> {
    let name = r.str()?;
    let path = r.str()?;
    let domain = r.str()?;
    if name.is_empty() || !path.starts_with("/") {
        return Err(PolicyError::Field("service cookie"));
    }
    Ok(CookieEntry {
        name,
        path,
        domain: (!domain.is_empty()).then_some(domain),
    })
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

/// A cursor over the bytes; every read is checked.
#[derive(Clone, Copy, Debug)]
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], PolicyError> {
        let end = self.at.checked_add(n).ok_or(PolicyError::Length)?;
        let slice = self.bytes.get(self.at..end).ok_or(PolicyError::Length)?;
        self.at = end;
        Ok(slice)
    }

    /// The next `N` bytes. Without an index that could panic: the banner's module then links
    /// no bounds-check panic, and none of `core::fmt` with it.
    fn array<const N: usize>(&mut self) -> Result<[u8; N], PolicyError> {
        self.take(N)?.try_into().map_err(|_| PolicyError::Length)
    }

    fn u8(&mut self) -> Result<u8, PolicyError> {
        let [b] = self.array()?;
        Ok(b)
    }

    fn u16(&mut self) -> Result<u16, PolicyError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, PolicyError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn str_of(&mut self, len: usize) -> Result<&'a str, PolicyError> {
        core::str::from_utf8(self.take(len)?).map_err(|_| PolicyError::Field("text"))
    }

    fn str(&mut self) -> Result<&'a str, PolicyError> {
        let len = self.u16()?;
        self.str_of(len.into())
    }
}

fn lang(code: u8) -> Result<Lang, PolicyError> {
    Lang::ALL
        .get(usize::from(code))
        .copied()
        .ok_or(PolicyError::Field("language"))
}

impl<'a> CompiledPolicy<'a> {
    /// Checks `bytes` whole (magic, version, length, checksum, every field) and reads them.
    ///
    /// # Errors
    /// A [`PolicyError`] saying what is wrong; nothing of a policy with an error is used.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, PolicyError> {
        if bytes.get(..4) != Some(&MAGIC[..]) {
            return Err(PolicyError::Magic);
        }
        let mut r = Reader { bytes, at: 4 };
        let version = r.u8()?;
        if version != FORMAT_VERSION {
            return Err(PolicyError::Version(version));
        }
        let len = r.u32()? as usize;
        if len != bytes.len() || !(13..=MAX_LEN).contains(&len) {
            return Err(PolicyError::Length);
        }
        let (body, sum) = bytes.split_at_checked(len - 4).ok_or(PolicyError::Length)?;
        if adler32(body).to_le_bytes() != sum {
            return Err(PolicyError::Checksum);
        }
        // From here on, reads stop at the checksum.
        r.bytes = body;
        let revision = r.u32()?;
        if revision == 0 {
            return Err(PolicyError::Field("revision"));
        }
        let fingerprint = r.u32()?;
        let flags = r.u8()?;
        if flags & !0b11 != 0 {
            return Err(PolicyError::Field("flags"));
        }
        let accept_days = r.u16()?;
        let refuse_days = r.u16()?;
        if accept_days == 0 || refuse_days == 0 {
            return Err(PolicyError::Field("lifetime"));
        }
        let wait_for_update_ms = r.u32()?;
        let gpc_mask = r.u32()?;
        let mut consent_mode_masks = [0u32; 7];
        for m in &mut consent_mode_masks {
            *m = r.u32()?;
        }
        let default_lang = lang(r.u8()?)?;
        let n_langs = r.u8()?;
        if !(1..=3).contains(&n_langs) {
            return Err(PolicyError::Field("languages"));
        }
        let mut langs = [None; 3];
        for slot in langs.iter_mut().take(n_langs.into()) {
            *slot = Some(lang(r.u8()?)?);
        }
        if !langs.contains(&Some(default_lang)) {
            return Err(PolicyError::Field("default language"));
        }
        let site = r.str()?;
        let name = r.str()?;
        let path = r.str()?;
        let domain = r.str()?;
        let attributes = r.u8()?;
        let same_site = match attributes & !4 {
            0 => crate::SameSite::Strict,
            1 => crate::SameSite::Lax,
            2 => crate::SameSite::None,
            _ => return Err(PolicyError::Field("cookie SameSite")),
        };
        if name.is_empty() || !path.starts_with("/") {
            return Err(PolicyError::Field("consent cookie"));
        }
        let cookie = CookieSettings {
            name,
            path,
            domain: (!domain.is_empty()).then_some(domain),
            same_site,
            always_secure: attributes & 4 != 0,
        };
        let endpoint = r.str()?;

        let categories_at = r.at;
        let n_categories = r.u8()?;
        if !(1..=MAX_CATEGORIES).contains(&usize::from(n_categories)) {
            return Err(PolicyError::Field("category count"));
        }
        for i in 0..n_categories {
            let id = r.str()?;
            let flags = r.u8()?;
            // The first category, and only it, is the strictly necessary one.
            if id.is_empty() || flags & !1 != 0 || (flags == 1) != (i == 0) {
                return Err(PolicyError::Field("category"));
            }
        }
        let all_categories = u32::MAX >> (32 - u32::from(n_categories));
        if gpc_mask & !all_categories != 0
            || consent_mode_masks.iter().any(|m| m & !all_categories != 0)
        {
            return Err(PolicyError::Field("category set"));
        }
        let services_at = r.at;
        let n_services = r.u8()?;
        if usize::from(n_services) > MAX_SERVICES {
            return Err(PolicyError::Field("service count"));
        }
        for _ in 0..n_services {
            let id = r.str()?;
            let category = r.u8()?;
            if id.is_empty() || category >= n_categories {
                return Err(PolicyError::Field("service"));
            }
            for _ in 0..r.u8()? {
                r.str()?;
            }
            for _ in 0..r.u8()? {
                read_cookie(&mut r)?;
            }
        }
        if r.at != body.len() {
            return Err(PolicyError::Length);
        }
        Ok(Self {
            bytes: body,
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
            },
            site,
            cookie,
            endpoint,
            categories_at,
            services_at,
            n_categories,
            n_services,
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
    pub fn languages(&self) -> impl Iterator<Item = Lang> + '_ {
        self.fixed.langs.iter().flatten().copied()
    }

    /// The default language.
    #[must_use]
    pub fn default_language(&self) -> Lang {
        self.fixed.default_lang
    }

    /// The site the decisions are for, if the config names one.
    #[must_use]
    pub fn site(&self) -> Option<&'a str> {
        (!self.site.is_empty()).then_some(self.site)
    }

    /// The consent cookie's settings.
    #[must_use]
    pub fn cookie(&self) -> CookieSettings<'a> {
        self.cookie
    }

    /// Where the banner sends decisions, if anywhere.
    #[must_use]
    pub fn endpoint(&self) -> Option<&'a str> {
        (!self.endpoint.is_empty()).then_some(self.endpoint)
    }

    /// How many categories there are.
    #[must_use]
    pub fn category_count(&self) -> usize {
        self.n_categories.into()
    }

    /// How many services there are, across categories.
    #[must_use]
    pub fn service_count(&self) -> usize {
        self.n_services.into()
    }

    /// The categories, in order.
    pub fn categories(&self) -> impl Iterator<Item = CategoryEntry<'a>> + 'a {
        let mut r = Reader {
            bytes: self.bytes,
            at: self.categories_at + 1,
        };
        (0..self.n_categories).map_while(move |_| {
            let id = r.str().ok()?;
            let flags = r.u8().ok()?;
            Some(CategoryEntry {
                id,
                necessary: flags & 1 != 0,
            })
        })
    }

    /// The services, in order (their positions are their [`ServiceIndex`]).
    pub fn services(&self) -> impl Iterator<Item = ServiceEntry<'a>> + 'a {
        let mut r = Reader {
            bytes: self.bytes,
            at: self.services_at + 1,
        };
        (0..self.n_services).map_while(move |_| {
            let id = r.str().ok()?;
            let category = CategoryIndex(r.u8().ok()?);
            let n_exclude = r.u8().ok()?;
            let exclude = r;
            for _ in 0..n_exclude {
                r.str().ok()?;
            }
            let n_cookies = r.u8().ok()?;
            let cookies = r;
            for _ in 0..n_cookies {
                read_cookie(&mut r).ok()?;
            }
            Some(ServiceEntry {
                id,
                category,
                exclude,
                n_exclude,
                cookies,
                n_cookies,
            })
        })
    }

    /// The categories with their positions.
    pub fn indexed_categories(
        &self,
    ) -> impl Iterator<Item = (CategoryIndex, CategoryEntry<'a>)> + 'a {
        self.categories()
            .enumerate()
            .map(|(i, c)| (CategoryIndex(i as u8), c))
    }

    /// The services with their positions.
    pub fn indexed_services(&self) -> impl Iterator<Item = (ServiceIndex, ServiceEntry<'a>)> + 'a {
        self.services()
            .enumerate()
            .map(|(i, s)| (ServiceIndex(i as u8), s))
    }

    /// The position of the category `id`.
    #[must_use]
    pub fn category_index(&self, id: &str) -> Option<CategoryIndex> {
        let i = self.categories().position(|c| c.id == id)?;
        Some(CategoryIndex(i as u8))
    }

    /// The position of the service `id`.
    #[must_use]
    pub fn service_index(&self, id: &str) -> Option<ServiceIndex> {
        let i = self.services().position(|s| s.id == id)?;
        Some(ServiceIndex(i as u8))
    }

    /// The service at `index`.
    #[must_use]
    pub fn service(&self, index: ServiceIndex) -> Option<ServiceEntry<'a>> {
        self.services().nth(index.get())
    }
}

/// Whether the page at `path` (its query and fragment ignored) is under one of `paths`: a
/// path equal to one, or below it (`/ajanvaraus` keeps off `/ajanvaraus/uusi`, not
/// `/ajanvaraukset`). The one rule for a config's services and a compiled policy's.
pub(crate) fn excluded<'p>(paths: impl IntoIterator<Item = &'p str>, path: &str) -> bool {
    // Up to the query or fragment (ASCII, so a char boundary).
    let end = path.bytes().position(|b| b == b'?' || b == b'#');
    let path = path.get(..end.unwrap_or(path.len())).unwrap_or(path);
    paths.into_iter().any(|p| {
        let p = crate::text::trim_end_ascii(p, b'/');
        p.is_empty()
            || path
                .strip_prefix(p)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with("/"))
    })
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

    #[test]
    fn adler32_of_long_runs_of_0xff() {
        // The worst case for the sums between reductions.
        let bytes = vec![0xff; 3 * 5_552 + 7];
        assert_eq!(super::adler32(&bytes), adler2::adler32_slice(&bytes));
    }
}
