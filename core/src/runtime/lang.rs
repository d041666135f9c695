//! Languages the banner speaks, and strings given per language.

use core::fmt;
use core::str::FromStr;

use serde::{Serialize, Serializer};

/// A language with complete built-in texts.
///
/// Parsing accepts a BCP 47 tag and looks only at its primary subtag, so `fi-FI`, `sv-FI`
/// and `en-GB` parse; the printed form is always the bare subtag.
///
/// # Example
/// ```
/// use consent_core::Lang;
/// assert_eq!("sv-FI".parse::<Lang>(), Ok(Lang::Sv));
/// assert_eq!(Lang::Fi.to_string(), "fi");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lang {
    /// Finnish, `fi`.
    Fi,
    /// Swedish, `sv`.
    Sv,
    /// English, `en`.
    En,
}

impl Lang {
    /// Every built-in language, in the order used by encodings.
    pub const ALL: [Lang; 3] = [Lang::Fi, Lang::Sv, Lang::En];

    /// The ISO 639-1 code.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Lang::Fi => "fi",
            Lang::Sv => "sv",
            Lang::En => "en",
        }
    }

    /// The language's name in itself, for a language switcher.
    #[must_use]
    pub const fn native_name(self) -> &'static str {
        match self {
            Lang::Fi => "Suomi",
            Lang::Sv => "Svenska",
            Lang::En => "English",
        }
    }

    pub(crate) const fn index(self) -> usize {
        match self {
            Lang::Fi => 0,
            Lang::Sv => 1,
            Lang::En => 2,
        }
    }

    pub(crate) const fn from_index(index: u8) -> Option<Lang> {
        match index {
            0 => Some(Lang::Fi),
            1 => Some(Lang::Sv),
            2 => Some(Lang::En),
            _ => None,
        }
    }

    /// Picks the first of `preferred` (BCP 47 tags, best first, as in
    /// `navigator.languages` or `<html lang>`) that is in `available`.
    ///
    /// # Example
    /// ```
    /// use consent_core::Lang;
    /// let available = [Lang::Fi, Lang::Sv];
    /// assert_eq!(Lang::negotiate(["de-DE", "sv-SE", "fi"], &available), Some(Lang::Sv));
    /// assert_eq!(Lang::negotiate(["de"], &available), None);
    /// ```
    // Always inlined into the banner's one call: out of line, its `Option<Lang>` came back
    // through memory (29 B gzip of the banner's module, measured).
    #[inline(always)]
    pub fn negotiate<'a, I>(preferred: I, available: &[Lang]) -> Option<Lang>
    where
        I: IntoIterator<Item = &'a str>,
    {
        preferred
            .into_iter()
            .filter_map(|tag| tag.parse::<Lang>().ok())
            .find(|lang| available.contains(lang))
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a language tag that names none of [`Lang::ALL`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseLangError;

impl fmt::Display for ParseLangError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unsupported language: expected fi, sv or en")
    }
}

impl core::error::Error for ParseLangError {}

impl FromStr for Lang {
    type Err = ParseLangError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // The primary subtag: two letters, then the end or a `-` or `_`.
        let b = s.as_bytes();
        let code = match (b.first(), b.get(1), b.get(2)) {
            (Some(x), Some(y), None | Some(b'-' | b'_')) => {
                [x.to_ascii_lowercase(), y.to_ascii_lowercase()]
            }
            _ => return Err(ParseLangError),
        };
        match &code {
            b"fi" => Ok(Lang::Fi),
            b"sv" => Ok(Lang::Sv),
            b"en" => Ok(Lang::En),
            _ => Err(ParseLangError),
        }
    }
}

impl Serialize for Lang {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_primary_subtag_only() {
        assert_eq!("FI".parse::<Lang>(), Ok(Lang::Fi));
        assert_eq!("en_US".parse::<Lang>(), Ok(Lang::En));
        assert_eq!("se".parse::<Lang>(), Err(ParseLangError));
        assert_eq!("".parse::<Lang>(), Err(ParseLangError));
        assert_eq!("finnish".parse::<Lang>(), Err(ParseLangError));
    }

    use proptest::prelude::*;

    proptest! {
        /// The language is the primary subtag's (up to the first `-` or `_`), in any case.
        #[test]
        fn the_primary_subtag_decides(tag in "[efinsvEFINSV_ä-]{0,5}") {
            let primary = tag.split(['-', '_']).next().unwrap_or_default();
            let want = Lang::ALL.into_iter().find(|l| primary.eq_ignore_ascii_case(l.as_str()));
            prop_assert_eq!(tag.parse::<Lang>().ok(), want);
        }
    }

    #[test]
    fn display_round_trips() {
        for lang in Lang::ALL {
            assert_eq!(lang.to_string().parse::<Lang>(), Ok(lang));
            assert_eq!(Lang::from_index(lang.index() as u8), Some(lang));
        }
        assert_eq!(Lang::from_index(3), None);
    }
}
