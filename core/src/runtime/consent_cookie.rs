//! The consent cookie: its `SameSite`, and the token written as the cookie that stores it,
//! with the lifetime the site's policy gives the decision (policy rule 5).

use core::fmt;
use core::str::FromStr;

use time::OffsetDateTime;

use serde::{Serialize, Serializer};

use crate::site::SitePolicy;
use crate::text::Sink;
use crate::token::{MAX_TOKEN_LEN, Token};

/// The `SameSite` attribute of the consent cookie.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum SameSite {
    /// `Strict`.
    Strict,
    /// `Lax`, the default: sent on top-level navigation from other sites.
    #[default]
    Lax,
    /// `None`: sent in every context; browsers require `Secure` with it.
    None,
}

impl SameSite {
    /// The lowercase config spelling.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            SameSite::Strict => "strict",
            SameSite::Lax => "lax",
            SameSite::None => "none",
        }
    }

    #[cfg(feature = "std")]
    pub(crate) const fn to_cookie(self) -> cookie::SameSite {
        match self {
            SameSite::Strict => cookie::SameSite::Strict,
            SameSite::Lax => cookie::SameSite::Lax,
            SameSite::None => cookie::SameSite::None,
        }
    }
}

impl fmt::Display for SameSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a `SameSite` value other than `strict`, `lax` or `none`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseSameSiteError;

impl fmt::Display for ParseSameSiteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("expected \"strict\", \"lax\" or \"none\"")
    }
}

impl core::error::Error for ParseSameSiteError {}

impl FromStr for SameSite {
    type Err = ParseSameSiteError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "strict" => Ok(SameSite::Strict),
            "lax" => Ok(SameSite::Lax),
            "none" => Ok(SameSite::None),
            _ => Err(ParseSameSiteError),
        }
    }
}
impl Serialize for SameSite {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl Token {
    /// The consent cookie that stores this token: the policy's name, path, domain and
    /// `SameSite`, `Max-Age` until the decision expires, and `Secure` when `secure` is true (the
    /// page or request is HTTPS), `SameSite` is `None` or the name has a `__Secure-` or
    /// `__Host-` prefix ([`CookieSettings::secure`](crate::compiled::CookieSettings::secure)).
    /// Not `HttpOnly`: the banner reads it.
    ///
    /// # Example
    /// ```
    /// use consent_core::{Config, Token};
    /// let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
    /// # let state = consent_core::doc_state();
    /// let cookie = Token::unsigned(state).to_cookie(&config, true);
    /// let header = cookie.to_string();
    /// assert!(header.starts_with("consent=1."));
    /// assert!(header.contains("SameSite=Lax") && header.contains("Secure"));
    /// # Ok::<(), consent_core::ConfigError>(())
    /// ```
    #[must_use]
    #[cfg(feature = "std")]
    pub fn to_cookie<P: SitePolicy + ?Sized>(
        &self,
        site: &P,
        secure: bool,
    ) -> cookie::Cookie<'static> {
        let c = site.cookie();
        let days = crate::policy::lifetime_days(site, self.state());
        let mut text = [0u8; MAX_TOKEN_LEN];
        let mut builder =
            cookie::Cookie::build((c.name.to_owned(), self.text(&mut text).to_owned()))
                .path(c.path.to_owned())
                .same_site(c.same_site.to_cookie())
                .secure(c.secure(secure))
                .max_age(time::Duration::days(i64::from(days)));
        if let Some(domain) = c.domain {
            builder = builder.domain(domain.to_owned());
        }
        builder.build()
    }

    /// Writes the cookie as `document.cookie` takes it: `name=value; Path=..; Domain=..;
    /// Max-Age=..; SameSite=..` and `; Secure`, with exactly the attributes of
    /// [`to_cookie`](Self::to_cookie) (a test parses one and compares it with the other).
    ///
    /// The banner writes this instead of `to_cookie`'s `Display`, which would link the
    /// `cookie` crate's date formatter for an `Expires` the consent cookie never has.
    pub fn write_cookie_line<P: SitePolicy + ?Sized>(
        &self,
        site: &P,
        secure: bool,
        line: &mut (impl Sink + ?Sized),
    ) {
        let c = site.cookie();
        let days = crate::policy::lifetime_days(site, self.state());
        line.push_str(c.name);
        line.push_str("=");
        line.push_str(self.text(&mut [0u8; MAX_TOKEN_LEN]));
        line.push_str("; Path=");
        line.push_str(c.path);
        if let Some(domain) = c.domain {
            line.push_str("; Domain=");
            line.push_str(domain);
        }
        line.push_str("; Max-Age=");
        line.push_str(crate::digits::Decimal::new(u64::from(days) * 86_400).as_str());
        line.push_str("; SameSite=");
        line.push_str(match c.same_site {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        });
        if c.secure(secure) {
            line.push_str("; Secure");
        }
    }

    /// [`write_cookie_line`](Self::write_cookie_line) as a `String`.
    ///
    /// # Example
    /// ```
    /// use consent_core::{Config, Token};
    /// let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
    /// # let state = consent_core::doc_state();
    /// let line = Token::unsigned(state).cookie_line(&config, true);
    /// assert!(line.starts_with("consent=1."));
    /// assert!(line.ends_with("; Max-Age=15724800; SameSite=Lax; Secure"));
    /// # Ok::<(), consent_core::ConfigError>(())
    /// ```
    #[must_use]
    #[cfg(feature = "alloc")]
    pub fn cookie_line<P: SitePolicy + ?Sized>(
        &self,
        site: &P,
        secure: bool,
    ) -> alloc::string::String {
        let mut line = alloc::string::String::with_capacity(192);
        self.write_cookie_line(site, secure, &mut line);
        line
    }

    /// When the decision in this token expires under the site's policy.
    #[must_use]
    pub fn expires<P: SitePolicy + ?Sized>(&self, site: &P) -> OffsetDateTime {
        crate::policy::expires(site, self.state())
    }
}
