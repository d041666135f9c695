//! [`read_key_file`]: the consent server's key file, read as the server reads it.
//!
//! The file's format and the rule of which keys' tokens count are consent-core's
//! ([`consent_core::keyring`]), which `consent serve` reads its own file with too; this is
//! the one step the pure core leaves out, opening the file. A key is never built from the
//! file's bytes as they are: after `consent key rotate` they are a text keyring, and a
//! [`SigningKey`](consent_core::SigningKey) made of that text would refuse every signed
//! visitor's decision, without an error.

use core::fmt;
use std::path::{Path, PathBuf};

use consent_core::{Keyring, KeyringError, TokenKeys};

/// Reads the consent server's key file (`consent.key`: 32 raw bytes, or a keyring once
/// rotated) into the keys whose tokens the server accepts, for
/// [`Gate::with_keys`](consent_core::Gate::with_keys) and `Pages::with_keys` (the `html`
/// feature).
///
/// Read it at start-up, and again (with a restart) after every `consent key rotate`: a gate
/// that holds yesterday's keys does not know the new current key, and counts the tokens it
/// signs as no decision.
///
/// Unlike `consent serve`, it does not warn about a file that others may read: it logs
/// nothing.
///
/// # Errors
/// [`KeyFileError::Io`] when the file cannot be read; [`KeyFileError::Keyring`] when it is
/// neither a raw key nor a keyring (text of another kind, a key cut short, a keyring
/// damaged), which names what is wrong and where.
///
/// # Example
/// ```
/// use consent_core::{Config, Gate, Keyring};
/// # let dir = std::env::temp_dir().join(format!("consent-gate-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// # let path = dir.join("consent.key");
/// # std::fs::write(&path, Keyring::new(&[7; 32])?.rotated(&[8; 32], false)?.to_string())?;
/// let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
/// let keys = consent_gate::read_key_file(&path)?;
/// let gate = Gate::with_keys(&config, keys);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_key_file(path: &Path) -> Result<TokenKeys, KeyFileError> {
    let bytes = std::fs::read(path).map_err(|e| KeyFileError::Io(path.to_owned(), e))?;
    Keyring::parse(&bytes)
        .map(|ring| ring.token_keys())
        .map_err(|e| KeyFileError::Keyring(path.to_owned(), e))
}

/// Why [`read_key_file`] read no keys.
#[derive(Debug)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file at this path could not be read.
    Io(PathBuf, std::io::Error),
    /// The file at this path is not a server key file.
    Keyring(PathBuf, KeyringError),
}

impl KeyFileError {
    /// The key file's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        match self {
            KeyFileError::Io(path, _) | KeyFileError::Keyring(path, _) => path,
        }
    }
}

impl fmt::Display for KeyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyFileError::Io(path, e) => write!(f, "{}: server key file: {e}", path.display()),
            KeyFileError::Keyring(path, e) => write!(f, "{}: {e}", path.display()),
        }
    }
}

impl std::error::Error for KeyFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            KeyFileError::Io(_, e) => Some(e),
            KeyFileError::Keyring(_, e) => Some(e),
        }
    }
}
