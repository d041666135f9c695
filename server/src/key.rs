//! The server's secret: signs consent tokens and purge checkpoints, and hashes the customer
//! register's contacts.

use core::fmt;
use std::io::Write as _;
use std::path::Path;

use consent_core::register::{Contact, ContactHash, ContactKey};
use consent_core::{Digest, SigningKey};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::store::LogKey;

/// 32 or more secret bytes. Tokens and checkpoints are signed with HMAC-SHA-256 under it,
/// over messages that cannot be confused (tokens start `1.`, checkpoints and contacts with
/// their own tags).
///
/// `Debug` never shows the secret.
#[derive(Clone)]
pub struct ServerKey {
    token: SigningKey,
    checkpoint: Hmac<Sha256>,
    contact: ContactKey,
    log: LogKey,
}

/// Why a key could not be loaded or made.
#[derive(Debug)]
#[non_exhaustive]
pub enum KeyError {
    /// Shorter than 32 bytes.
    TooShort(usize),
    /// The key file could not be read or written.
    Io(std::io::Error),
    /// The system's random number generator failed.
    Random,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::TooShort(n) => write!(f, "server key: {n} bytes, need at least 32"),
            KeyError::Io(e) => write!(f, "server key file: {e}"),
            KeyError::Random => {
                f.write_str("server key: the system random number generator failed")
            }
        }
    }
}

impl std::error::Error for KeyError {}

impl ServerKey {
    /// A key from secret bytes.
    ///
    /// # Errors
    /// [`KeyError::TooShort`] under 32 bytes.
    pub fn new(secret: &[u8]) -> Result<Self, KeyError> {
        let token = SigningKey::new(secret).map_err(|_| KeyError::TooShort(secret.len()))?;
        let checkpoint = <Hmac<Sha256> as Mac>::new_from_slice(secret)
            .map_err(|_| KeyError::TooShort(secret.len()))?;
        let contact = ContactKey::new(secret).map_err(|_| KeyError::TooShort(secret.len()))?;
        let log = LogKey::derive(secret).map_err(|_| KeyError::TooShort(secret.len()))?;
        Ok(Self {
            token,
            checkpoint,
            contact,
            log,
        })
    }

    /// Reads the key file, which must exist (for commands that only read the log).
    ///
    /// # Errors
    /// [`KeyError::Io`] when the file cannot be read, [`KeyError::TooShort`] for a short key.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        Self::new(&std::fs::read(path).map_err(KeyError::Io)?)
    }

    /// Reads the key file, or creates it with 32 random bytes (mode 0600) if it does not exist.
    /// A new file is synced, and so is its directory, so a key that signed anything survives a
    /// power loss.
    ///
    /// # Errors
    /// [`KeyError`] when the file cannot be read or created, or holds a short key.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyError> {
        match std::fs::read(path) {
            Ok(bytes) => Self::new(&bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut secret = [0u8; 32];
                getrandom::fill(&mut secret).map_err(|_| KeyError::Random)?;
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt as _;
                    options.mode(0o600);
                }
                let mut file = options.open(path).map_err(KeyError::Io)?;
                file.write_all(&secret)
                    .and_then(|()| file.sync_all())
                    .map_err(KeyError::Io)?;
                let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
                if let Some(dir) = dir {
                    std::fs::File::open(dir)
                        .and_then(|d| d.sync_all())
                        .map_err(KeyError::Io)?;
                }
                Self::new(&secret)
            }
            Err(e) => Err(KeyError::Io(e)),
        }
    }

    /// The key that signs consent tokens.
    #[must_use]
    pub fn token_key(&self) -> &SigningKey {
        &self.token
    }

    /// The key the decision log's links and signed heads are made under (derived from this
    /// one, so it signs nothing else).
    #[must_use]
    pub fn log_key(&self) -> &LogKey {
        &self.log
    }

    /// The keyed hash under which the customer register stores a contact.
    #[must_use]
    pub fn contact_hash(&self, contact: &Contact) -> ContactHash {
        self.contact.hash(contact)
    }

    /// This key's site id: 16 hex digits of HMAC-SHA-256 under the key, for the
    /// config's `site` ([`Config::site`](consent_core::Config::site)). Sites with different
    /// keys get different ids, so a consent token made under one site's config does not
    /// apply under another's, in the browser too, where the key is not known. The id reveals
    /// nothing about the key.
    #[must_use]
    pub fn site_id(&self) -> String {
        let mut mac = self.checkpoint.clone();
        mac.update(b"consent-site-id-v1\0");
        let bytes = mac.finalize().into_bytes();
        bytes[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The MAC of a purge checkpoint.
    #[must_use]
    pub fn checkpoint_mac(&self, seq: u64, link: &Digest, purged: u64) -> [u8; 32] {
        let mut mac = self.checkpoint.clone();
        mac.update(b"consent-checkpoint-v1\0");
        mac.update(&seq.to_be_bytes());
        mac.update(link.as_bytes());
        mac.update(&purged.to_be_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The signature of a sign-up's confirmation link ([`crate::register::confirm`]).
    #[must_use]
    pub fn confirmation_mac(&self, payload: &[u8]) -> [u8; 32] {
        let mut mac = self.checkpoint.clone();
        mac.update(b"consent-confirm-v1\0");
        mac.update(payload);
        mac.finalize().into_bytes().into()
    }

    /// Whether `mac` is the confirmation link's signature, compared in constant time.
    #[must_use]
    pub fn verify_confirmation(&self, payload: &[u8], mac: &[u8]) -> bool {
        let mut m = self.checkpoint.clone();
        m.update(b"consent-confirm-v1\0");
        m.update(payload);
        m.verify_slice(mac).is_ok()
    }

    /// Whether `mac` is the checkpoint's MAC, compared in constant time.
    #[must_use]
    pub fn verify_checkpoint(&self, seq: u64, link: &Digest, purged: u64, mac: &[u8; 32]) -> bool {
        let mut m = self.checkpoint.clone();
        m.update(b"consent-checkpoint-v1\0");
        m.update(&seq.to_be_bytes());
        m.update(link.as_bytes());
        m.update(&purged.to_be_bytes());
        m.verify_slice(mac).is_ok()
    }
}

impl fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerKey(..)")
    }
}
