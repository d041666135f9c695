//! The crate's error, joining each module's.

use core::fmt;

use crate::config::ConfigError;
use crate::declaration::DeclarationError;
use crate::policy::DecideError;
use crate::record::{PageUrlError, RecordError};
use crate::token::{KeyTooShort, TokenError};

/// Any error of this crate.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// An invalid config.
    Config(ConfigError),
    /// An invalid or untrusted token.
    Token(TokenError),
    /// A signing key that is too short.
    Key(KeyTooShort),
    /// A decision that cannot be made.
    Decide(DecideError),
    /// A record that does not fit the config.
    Record(RecordError),
    /// An invalid page address.
    PageUrl(PageUrlError),
    /// A cookie declaration that cannot be made.
    Declaration(DeclarationError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(e) => e.fmt(f),
            Error::Token(e) => e.fmt(f),
            Error::Key(e) => e.fmt(f),
            Error::Decide(e) => e.fmt(f),
            Error::Record(e) => e.fmt(f),
            Error::PageUrl(e) => e.fmt(f),
            Error::Declaration(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Error::Config(e) => Some(e),
            Error::Token(e) => Some(e),
            Error::Key(e) => Some(e),
            Error::Decide(e) => Some(e),
            Error::Record(e) => Some(e),
            Error::PageUrl(e) => Some(e),
            Error::Declaration(e) => Some(e),
        }
    }
}

macro_rules! from {
    ($($variant:ident($ty:ty)),*) => {$(
        impl From<$ty> for Error {
            fn from(e: $ty) -> Self {
                Error::$variant(e)
            }
        }
    )*};
}

from!(
    Config(ConfigError),
    Token(TokenError),
    Key(KeyTooShort),
    Decide(DecideError),
    Record(RecordError),
    PageUrl(PageUrlError),
    Declaration(DeclarationError)
);
