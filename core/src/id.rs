//! Identifiers of categories and services, as written in the config.

use crate::prelude::*;
use core::fmt;

use crate::digits::Decimal;
use core::str::FromStr;

/// The longest identifier, in bytes.
pub const MAX_ID_LEN: usize = 32;

/// Why a string is not a valid category or service identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdError {
    /// The string is empty.
    Empty,
    /// The string is longer than [`MAX_ID_LEN`] bytes.
    TooLong,
    /// The string does not start with a lowercase ASCII letter.
    BadStart,
    /// The string holds something other than `a-z`, `0-9`, `_` and `-`, at this byte offset.
    BadChar(usize),
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdError::Empty => f.write_str("empty"),
            IdError::TooLong => {
                f.write_str("longer than ")?;
                f.write_str(Decimal::new(MAX_ID_LEN as u64).as_str())?;
                f.write_str(" bytes")
            }
            IdError::BadStart => f.write_str("must start with a lowercase letter a-z"),
            IdError::BadChar(at) => {
                f.write_str("invalid character at byte ")?;
                f.write_str(Decimal::new(*at as u64).as_str())?;
                f.write_str(": use a-z, 0-9, '_' and '-'")
            }
        }
    }
}

impl core::error::Error for IdError {}

fn validate(s: &str) -> Result<(), IdError> {
    let bytes = s.as_bytes();
    match bytes.first() {
        None => return Err(IdError::Empty),
        Some(b) if !b.is_ascii_lowercase() => return Err(IdError::BadStart),
        Some(_) => {}
    }
    if bytes.len() > MAX_ID_LEN {
        return Err(IdError::TooLong);
    }
    match bytes
        .iter()
        .position(|b| !(b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_' || *b == b'-'))
    {
        Some(at) => Err(IdError::BadChar(at)),
        None => Ok(()),
    }
}

macro_rules! ident {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Box<str>);

        impl $name {
            /// Validates `s` as an identifier: 1 to 32 bytes of `a-z`, `0-9`, `_`, `-`,
            /// starting with a letter.
            ///
            /// # Errors
            /// Returns [`IdError`] saying what is wrong with `s`.
            pub fn new(s: &str) -> Result<Self, IdError> {
                validate(s).map(|()| Self(s.into()))
            }

            /// The identifier as written in the config.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                &*self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                &*self.0 == *other
            }
        }

        // Not through `Display` (which pads, as `str` does): the banner's build leaves
        // `core::fmt`'s padding out.
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <alloc::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

ident! {
    /// The identifier of a cookie category, such as `necessary`, `analytics` or `marketing`.
    ///
    /// # Example
    /// ```
    /// use consent_core::CategoryId;
    /// let id: CategoryId = "analytics".parse()?;
    /// assert_eq!(id, "analytics");
    /// assert!("Analytics".parse::<CategoryId>().is_err());
    /// # Ok::<(), consent_core::IdError>(())
    /// ```
    CategoryId
}

ident! {
    /// The identifier of a service within the config, such as `ga` or `facebook-pixel`.
    /// Unique across all categories.
    ServiceId
}

impl CategoryId {
    /// The id of the strictly necessary category, always allowed and never switchable.
    pub const NECESSARY: &'static str = crate::CategoryIndex::NECESSARY_ID;

    /// Whether this is the strictly necessary category.
    #[must_use]
    pub fn is_necessary(&self) -> bool {
        &*self.0 == Self::NECESSARY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_config_style_ids() {
        for ok in [
            "necessary",
            "ga",
            "facebook-pixel",
            "ga4_x",
            "a",
            "a1234567890123456789012345678901",
        ] {
            assert!(CategoryId::new(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_with_reason() {
        assert_eq!(ServiceId::new(""), Err(IdError::Empty));
        assert_eq!(ServiceId::new("1ga"), Err(IdError::BadStart));
        assert_eq!(ServiceId::new("Ga"), Err(IdError::BadStart));
        assert_eq!(ServiceId::new("ga pixel"), Err(IdError::BadChar(2)));
        assert_eq!(ServiceId::new("gä"), Err(IdError::BadChar(1)));
        assert_eq!(ServiceId::new(&"a".repeat(33)), Err(IdError::TooLong));
        assert_eq!(
            IdError::BadChar(2).to_string(),
            "invalid character at byte 2: use a-z, 0-9, '_' and '-'"
        );
    }
}
