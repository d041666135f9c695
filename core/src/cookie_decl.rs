//! Cookies as a config declares them: name patterns, lifetimes and attributes.

use crate::prelude::*;
use core::fmt;

use crate::digits::Decimal;
use core::str::FromStr;

use serde::{Serialize, Serializer};

use crate::config::{Config, Service};
use crate::localized::Localized;

/// The longest cookie name or pattern accepted, in bytes.
pub const MAX_COOKIE_NAME_LEN: usize = 256;

/// Why a cookie name, pattern, domain, path or lifetime is invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CookieDeclError {
    /// The value is empty.
    Empty,
    /// The value is too long.
    TooLong,
    /// A byte that a cookie name cannot hold, at this offset.
    BadChar(usize),
    /// The pattern is only wildcards and would match every cookie.
    MatchesEverything,
    /// A lifetime that is not `session`, `<n>d`, `<n>mo` or `<n>y` with `n` from 1 to 9999.
    BadLifetime,
}

impl fmt::Display for CookieDeclError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CookieDeclError::Empty => f.write_str("empty"),
            CookieDeclError::TooLong => {
                f.write_str("longer than ")?;
                f.write_str(Decimal::new(MAX_COOKIE_NAME_LEN as u64).as_str())?;
                f.write_str(" bytes")
            }
            CookieDeclError::BadChar(at) => {
                f.write_str("invalid character at byte ")?;
                f.write_str(Decimal::new(*at as u64).as_str())
            }
            CookieDeclError::MatchesEverything => {
                f.write_str("pattern matches every cookie; name the cookies")
            }
            CookieDeclError::BadLifetime => f.write_str(
                "invalid lifetime: expected \"session\", \"<n>d\", \"<n>mo\" or \"<n>y\" (n from 1 to 9999)",
            ),
        }
    }
}

impl core::error::Error for CookieDeclError {}

/// A cookie name, exact (`_gcl_au`) or with `*` wildcards (`_ga_*`).
///
/// # Example
/// ```
/// use consent_core::CookiePattern;
/// let p: CookiePattern = "_ga_*".parse()?;
/// assert!(p.matches("_ga_ABC123"));
/// assert!(!p.matches("_ga"));
/// assert!(!p.is_exact());
/// # Ok::<(), consent_core::CookieDeclError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CookiePattern(Box<str>);

impl CookiePattern {
    /// Validates a cookie name or pattern.
    ///
    /// # Errors
    /// Empty, longer than [`MAX_COOKIE_NAME_LEN`], holding a byte that is not a cookie-name
    /// token character (RFC 6265), or only wildcards.
    pub fn new(s: &str) -> Result<Self, CookieDeclError> {
        if s.is_empty() {
            return Err(CookieDeclError::Empty);
        }
        if s.len() > MAX_COOKIE_NAME_LEN {
            return Err(CookieDeclError::TooLong);
        }
        if let Some(at) = s.bytes().position(|b| !is_token_byte(b)) {
            return Err(CookieDeclError::BadChar(at));
        }
        if s.bytes().all(|b| b == b'*') {
            return Err(CookieDeclError::MatchesEverything);
        }
        Ok(Self(s.into()))
    }

    /// The pattern as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the pattern has no wildcard, so it names exactly one cookie.
    #[must_use]
    pub fn is_exact(&self) -> bool {
        !self.0.contains('*')
    }

    /// Whether the cookie `name` matches; `*` matches any run of bytes, including none.
    #[must_use]
    pub fn matches(&self, name: &str) -> bool {
        pattern_matches(&self.0, name)
    }
}

/// RFC 6265 `token` bytes: visible ASCII except separators.
const fn is_token_byte(b: u8) -> bool {
    b.is_ascii_graphic()
        && !matches!(
            b,
            b'(' | b')'
                | b'<'
                | b'>'
                | b'@'
                | b','
                | b';'
                | b':'
                | b'\\'
                | b'"'
                | b'/'
                | b'['
                | b']'
                | b'?'
                | b'='
                | b'{'
                | b'}'
        )
}

pub(crate) use crate::policy::pattern_matches;

impl fmt::Display for CookiePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl FromStr for CookiePattern {
    type Err = CookieDeclError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl Serialize for CookiePattern {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// How long a declared cookie lives: `session`, or a count of days (`30d`), months (`13mo`)
/// or years (`2y`).
///
/// # Example
/// ```
/// use consent_core::Lifetime;
/// let l: Lifetime = "13mo".parse()?;
/// assert_eq!(l, Lifetime::Months(13));
/// assert_eq!(l.to_string(), "13mo");
/// # Ok::<(), consent_core::CookieDeclError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lifetime {
    /// Deleted when the browser session ends.
    Session,
    /// A number of days.
    Days(u16),
    /// A number of months.
    Months(u16),
    /// A number of years.
    Years(u16),
}

impl fmt::Display for Lifetime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lifetime::Session => f.write_str("session"),
            // Without integer formatting: this text is hashed into `shown_hash` in the
            // browser too (digits.rs).
            Lifetime::Days(n) => Self::write(f, *n, "d"),
            Lifetime::Months(n) => Self::write(f, *n, "mo"),
            Lifetime::Years(n) => Self::write(f, *n, "y"),
        }
    }
}

impl Lifetime {
    fn write(f: &mut fmt::Formatter<'_>, n: u16, unit: &str) -> fmt::Result {
        f.write_str(crate::digits::Decimal::new(n.into()).as_str())?;
        f.write_str(unit)
    }
}

impl FromStr for Lifetime {
    type Err = CookieDeclError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "session" {
            return Ok(Lifetime::Session);
        }
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        // ASCII digits end on a character boundary; `split_at_checked` keeps the slicing
        // panic (and its formatting) out of the browser build.
        let (n, unit) = s.split_at_checked(digits).unwrap_or((s, ""));
        // Leading zeros are refused so that print -> parse -> print is the identity.
        if n.is_empty() || n.len() > 4 || n.starts_with('0') {
            return Err(CookieDeclError::BadLifetime);
        }
        let n: u16 = n.parse().map_err(|_| CookieDeclError::BadLifetime)?;
        match unit {
            "d" => Ok(Lifetime::Days(n)),
            "mo" => Ok(Lifetime::Months(n)),
            "y" => Ok(Lifetime::Years(n)),
            _ => Err(CookieDeclError::BadLifetime),
        }
    }
}

impl Serialize for Lifetime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

pub use crate::consent_cookie::{ParseSameSiteError, SameSite};

/// A cookie that a service sets, as declared in the config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CookieDecl {
    pub(crate) name: CookiePattern,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) domain: Option<Box<str>>,
    pub(crate) path: Box<str>,
    pub(crate) lifetime: Lifetime,
    pub(crate) description: Localized,
}

impl CookieDecl {
    /// The cookie's name or name pattern.
    #[must_use]
    pub fn name(&self) -> &CookiePattern {
        &self.name
    }

    /// The domain the cookie is set on, if the config names one (such as `.clinic.fi`).
    #[must_use]
    pub fn domain(&self) -> Option<&str> {
        self.domain.as_deref()
    }

    /// The cookie's path; `/` unless the config says otherwise.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// How long the cookie lives.
    #[must_use]
    pub fn lifetime(&self) -> Lifetime {
        self.lifetime
    }

    /// What the cookie is for.
    #[must_use]
    pub fn description(&self) -> &Localized {
        &self.description
    }
}

/// Validates a cookie `Domain` value: a hostname, optionally with a leading dot.
pub(crate) fn validate_domain(s: &str) -> Result<(), CookieDeclError> {
    let host = s.strip_prefix('.').unwrap_or(s);
    if host.is_empty() {
        return Err(CookieDeclError::Empty);
    }
    if host.len() > 253 {
        return Err(CookieDeclError::TooLong);
    }
    let offset = s.len() - host.len();
    let bad = host
        .bytes()
        .position(|b| !(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'));
    match bad {
        Some(at) => Err(CookieDeclError::BadChar(at + offset)),
        None if host.starts_with('.')
            || host.ends_with('.')
            || host.as_bytes().windows(2).any(|w| w == b"..") =>
        {
            Err(CookieDeclError::BadChar(offset))
        }
        None => Ok(()),
    }
}

/// Validates a cookie `Path` value: starts with `/`, visible ASCII, no `;`.
pub(crate) fn validate_path(s: &str) -> Result<(), CookieDeclError> {
    if !s.starts_with('/') {
        return Err(CookieDeclError::BadChar(0));
    }
    if s.len() > 1024 {
        return Err(CookieDeclError::TooLong);
    }
    match s.bytes().position(|b| !b.is_ascii_graphic() || b == b';') {
        Some(at) => Err(CookieDeclError::BadChar(at)),
        None => Ok(()),
    }
}

impl crate::policy::Decision {
    /// The declared cookies of every revoked service, to delete now.
    pub fn cookies_to_clear<'a>(
        &self,
        config: &'a Config,
    ) -> impl Iterator<Item = (&'a Service, &'a CookieDecl)> + 'a {
        let revoked = self.revoked();
        config
            .services()
            .filter(move |(s, _, _)| revoked.allows_service(*s))
            .flat_map(|(_, _, service)| service.cookies().iter().map(move |c| (service, c)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> CookiePattern {
        CookiePattern::new(s).unwrap_or_else(|e| unreachable!("{s}: {e}"))
    }

    #[test]
    fn glob_matches_like_a_shell() {
        assert!(p("_ga").matches("_ga"));
        assert!(!p("_ga").matches("_gat"));
        assert!(p("_ga_*").matches("_ga_"));
        assert!(p("_ga_*").matches("_ga_XYZ"));
        assert!(!p("_ga_*").matches("_gaXYZ"));
        assert!(p("*_fbp").matches("x_fbp"));
        assert!(p("a*b*c").matches("aXXbYYc"));
        assert!(p("a*b*c").matches("abcbc"));
        assert!(!p("a*b*c").matches("aXXbYY"));
        assert!(p("_hj*").matches("_hjSessionUser_123"));
    }

    #[test]
    fn pattern_validation() {
        assert_eq!(CookiePattern::new(""), Err(CookieDeclError::Empty));
        assert_eq!(
            CookiePattern::new("**"),
            Err(CookieDeclError::MatchesEverything)
        );
        assert_eq!(CookiePattern::new("a=b"), Err(CookieDeclError::BadChar(1)));
        assert_eq!(CookiePattern::new("a b"), Err(CookieDeclError::BadChar(1)));
        assert_eq!(CookiePattern::new("_gä"), Err(CookieDeclError::BadChar(2)));
    }

    #[test]
    fn lifetime_round_trips_and_rejects() {
        for s in ["session", "1d", "400d", "13mo", "2y", "9999y"] {
            let l: Lifetime = s.parse().unwrap_or_else(|e| unreachable!("{s}: {e}"));
            assert_eq!(l.to_string(), s);
        }
        for s in [
            "", "0d", "01d", "10000d", "13", "d", "2 years", "2Y", "-1d", "1w",
        ] {
            assert_eq!(
                s.parse::<Lifetime>(),
                Err(CookieDeclError::BadLifetime),
                "{s}"
            );
        }
    }

    #[test]
    fn domain_and_path_validation() {
        assert!(validate_domain(".klinikka.fi").is_ok());
        assert!(validate_domain("www.klinikka.fi").is_ok());
        assert_eq!(validate_domain("."), Err(CookieDeclError::Empty));
        assert_eq!(
            validate_domain("Klinikka.fi"),
            Err(CookieDeclError::BadChar(0))
        );
        assert_eq!(validate_domain("a..fi"), Err(CookieDeclError::BadChar(0)));
        assert_eq!(
            validate_domain("https://a.fi"),
            Err(CookieDeclError::BadChar(5))
        );
        assert!(validate_path("/").is_ok());
        assert_eq!(validate_path("x"), Err(CookieDeclError::BadChar(0)));
        assert_eq!(validate_path("/a;b"), Err(CookieDeclError::BadChar(2)));
    }
}
