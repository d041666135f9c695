//! The server's keys: the key file, which holds the current key and the retired ones.
//!
//! The current key signs consent tokens, the decision log's links, heads and purge
//! checkpoints, and sign-up confirmation links. A rotation (`consent key rotate`,
//! [`ServerKey::rotate_file`]) makes a new current key and keeps the old ones: they still
//! verify the log's records made before the rotation ([`crate::store::rotation`]), and the
//! consent tokens and confirmation links they signed, unless the rotation revoked them (a key
//! that leaked). Two things stay with the file's *first* key whatever the rotations, because
//! what they made must keep matching: the customer register's keyed contact hashes (the
//! register holds only the hashes, so it could not hash its contacts again) and the site id
//! that the config's `site` names.
//!
//! Everything here is HMAC-SHA-256: there are no public keys. Whoever checks a signature
//! holds the key that made it.
//!
//! The file: a key file written before rotations existed is the secret's raw bytes (32 or
//! more), read as a key file of one key, epoch 0; after the first rotation it is a text
//! keyring (`consent-keyring-v1`, one line per key, oldest first; the last is current). Its
//! format, and which keys' consent tokens are accepted, are consent-core's
//! ([`consent_core::keyring`]): this module reads and writes the file through that parser,
//! so the server and every application gating with consent-gate read one file one way.
//! What the server derives from the keys beyond tokens (the log's keys, the contact hashes,
//! the site id, confirmation links) is made here.
//!
//! On Unix the file is created mode 0600 (set as it is created, so never open to others for
//! a moment, a rotation's new file included), and one that users other than its owner and
//! its group can read or write is used with a warning naming it, its mode and `chmod 600`
//! ([`ServerKey::load`]).

use core::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use consent_core::keyring::{KeyEntry, Keyring, KeyringError, SignedBy, TokenKeys, Tokens};
use consent_core::register::{Contact, ContactHash, ContactKey};
use consent_core::{Digest, SigningKey, Token};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::store::{KeyId, LogKey, LogKeys};

/// The key file: the current key and the retired ones, each 32 or more secret bytes. Tokens,
/// checkpoints and confirmation links are signed with HMAC-SHA-256 under the current key,
/// over messages that cannot be confused (tokens start `1.`, checkpoints and contacts with
/// their own tags).
///
/// `Debug` never shows a secret.
#[derive(Clone)]
pub struct ServerKey {
    /// The file's keys, oldest first; the last is current.
    ring: Keyring,
    /// The keys whose consent tokens are accepted (the current one first).
    tokens: TokenKeys,
    /// Each key's MAC state, as `ring`'s entries.
    macs: Vec<Hmac<Sha256>>,
    contact: ContactKey,
    log: LogKeys,
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
    /// A line of a key file is not a key (its number, from 1, and what is wrong).
    Malformed(usize, &'static str),
    /// The key file to rotate does not exist.
    Missing(PathBuf),
    /// Text that is not a keyring: a key of another format (PEM, OpenSSH), hex digits, a
    /// password. Never the 32 random bytes `consent` makes, which are not text.
    Text,
    /// The current key's epoch is the last one (`u32::MAX`): no key can follow it.
    LastEpoch,
    /// 32 bytes and a line end (`\n` or `\r\n`) after them: the key `consent` makes, with a
    /// line end an editor, `echo` or a secret store added. Read as it is, that is another key.
    LineEnd,
    /// What is wrong with the key file at this path.
    File(PathBuf, Box<KeyError>),
    /// A key file consent-core's parser refused for a reason this server does not name.
    Keyring(KeyringError),
}

impl KeyError {
    /// This error, of the key file at `path`.
    fn of(self, path: &Path) -> Self {
        match self {
            KeyError::File(..) | KeyError::Missing(_) => self,
            e => KeyError::File(path.to_owned(), Box::new(e)),
        }
    }

    /// Whether the key file is not there at all (nothing to read, nothing damaged).
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        match self {
            KeyError::Io(e) => e.kind() == std::io::ErrorKind::NotFound,
            KeyError::File(_, e) => e.is_not_found(),
            _ => false,
        }
    }

    /// What is wrong, without saying whose.
    fn what(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::TooShort(n) => write!(
                f,
                "{n} bytes, need at least 32 (cut short? restore it from its backup: a new key \
                 would not verify the log, or find the register's contacts)"
            ),
            KeyError::Io(e) => write!(f, "{e}"),
            KeyError::Random => f.write_str("the system random number generator failed"),
            KeyError::Malformed(line, what) => write!(f, "line {line}: {what}"),
            KeyError::Missing(path) => write!(
                f,
                "{}: missing, so there is no key to rotate",
                path.display()
            ),
            KeyError::Text => f.write_str(
                "not a server key: the file is text (a PEM or OpenSSH key? hex digits?), and a \
                 server key file is either the 32 random bytes `consent` makes or a \
                 consent-keyring-v1 file; check --key-file (CONSENT_KEY_FILE)",
            ),
            KeyError::LastEpoch => f.write_str(
                "the current key's epoch is 4294967295, the last there is: no key can follow \
                 it; start a new log with a new key file, and keep this log and its key \
                 read-only as the proof of what came before",
            ),
            KeyError::LineEnd => f.write_str(
                "32 bytes and a line end after the key, which `consent` never writes: something \
                 added it (an editor, echo, a secret store) and made it another key; remove the \
                 line end (truncate -s 32 FILE)",
            ),
            KeyError::File(path, e) => {
                write!(f, "{}: ", path.display())?;
                e.what(f)
            }
            KeyError::Keyring(e) => write!(f, "{e}"),
        }
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyError::Missing(_) | KeyError::File(..) => "server key file ",
            KeyError::Io(_) | KeyError::Malformed(..) => "server key file: ",
            // Its own message says "server key file: ".
            KeyError::Keyring(_) => "",
            _ => "server key: ",
        })?;
        self.what(f)
    }
}

impl std::error::Error for KeyError {}

impl From<KeyringError> for KeyError {
    fn from(e: KeyringError) -> Self {
        match e {
            KeyringError::TooShort(n) => KeyError::TooShort(n),
            KeyringError::Malformed(line, what) => KeyError::Malformed(line, what),
            KeyringError::Text => KeyError::Text,
            KeyringError::LineEnd => KeyError::LineEnd,
            KeyringError::LastEpoch => KeyError::LastEpoch,
            // `KeyringError` is consent-core's and may grow: its own message then.
            other => KeyError::Keyring(other),
        }
    }
}

impl ServerKey {
    /// A key file of one key from secret bytes.
    ///
    /// # Errors
    /// [`KeyError::TooShort`] under 32 bytes.
    pub fn new(secret: &[u8]) -> Result<Self, KeyError> {
        Self::from_ring(Keyring::new(secret)?)
    }

    fn from_ring(ring: Keyring) -> Result<Self, KeyError> {
        let first = ring.first().secret();
        let contact = ContactKey::new(first).map_err(|_| KeyError::TooShort(first.len()))?;
        let log = ring
            .entries()
            .iter()
            .map(|e| LogKey::derive(e.secret(), e.epoch()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| KeyError::TooShort(0))?;
        let log = LogKeys::new(log).ok_or(KeyError::Malformed(1, "no key"))?;
        let macs = ring
            .entries()
            .iter()
            .map(|e| {
                <Hmac<Sha256> as Mac>::new_from_slice(e.secret())
                    .map_err(|_| KeyError::TooShort(e.secret().len()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            tokens: ring.token_keys(),
            ring,
            macs,
            contact,
            log,
        })
    }

    /// This key file with a new current key, `secret`: the current key is retired, and when
    /// `revoke_tokens` the tokens and confirmation links it signed are no longer accepted
    /// (for a key that leaked). The log's records made under it still verify.
    ///
    /// # Errors
    /// [`KeyError::TooShort`] under 32 bytes; [`KeyError::LastEpoch`] when no epoch follows
    /// the current one.
    pub fn rotated(&self, secret: &[u8], revoke_tokens: bool) -> Result<Self, KeyError> {
        Self::from_ring(self.ring.rotated(secret, revoke_tokens)?)
    }

    /// The file's keys with their MAC states, oldest first.
    fn keyed(&self) -> impl Iterator<Item = (&KeyEntry, &Hmac<Sha256>)> {
        self.ring.entries().iter().zip(&self.macs)
    }

    /// A key file's bytes: a keyring, or (written before rotations) one raw secret
    /// ([`Keyring::parse`]).
    ///
    /// # Errors
    /// [`KeyError::Malformed`], [`KeyError::Text`], [`KeyError::LineEnd`] or
    /// [`KeyError::TooShort`].
    pub fn parse(bytes: &[u8]) -> Result<Self, KeyError> {
        Self::from_ring(Keyring::parse(bytes)?)
    }

    /// The key file's text (a keyring, whatever the file it was read from).
    fn to_file(&self) -> String {
        self.ring.to_string()
    }

    /// The file's keys, as consent-core parsed them.
    #[must_use]
    pub fn keyring(&self) -> &Keyring {
        &self.ring
    }

    /// Reads the key file, which must exist (for commands that only read the log). A file
    /// that others than its owner and group may read or change is read, with a warning
    /// naming its mode and the fix (Unix).
    ///
    /// # Errors
    /// [`KeyError::Io`] when the file cannot be read, [`KeyError::TooShort`] for a short key,
    /// [`KeyError::Malformed`] for a keyring that is not one.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let bytes = read_key_file(path).map_err(|e| KeyError::Io(e).of(path))?;
        Self::parse(&bytes).map_err(|e| e.of(path))
    }

    /// Reads the key file (with a warning, as [`load`](Self::load) gives it, if others than
    /// its owner and group may read or change it), or creates it with 32 random bytes (mode
    /// 0600, set as it is created) if it does not exist. A new file is synced, and so is its
    /// directory, so a key that signed anything survives a power loss.
    ///
    /// # Errors
    /// [`KeyError`] when the file cannot be read or created, or holds a short key.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyError> {
        match read_key_file(path) {
            Ok(bytes) => Self::parse(&bytes).map_err(|e| e.of(path)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let secret = random_secret()?;
                write_new(path, &secret, false).map_err(|e| e.of(path))?;
                Self::new(&secret)
            }
            Err(e) => Err(KeyError::Io(e).of(path)),
        }
    }

    /// Rotates the key file at `path`: a new random current key, the old ones kept (see
    /// [`rotated`](Self::rotated) for `revoke_tokens`). The new file replaces the old one
    /// whole (written beside it, synced, renamed over it, the directory synced), so a crash
    /// leaves the old file or the new one. The log records the rotation when a store is next
    /// opened with the new file ([`crate::store::rotation`]); until then nothing was signed
    /// under the new key.
    ///
    /// # Errors
    /// [`KeyError::Missing`] when there is no key file, [`KeyError::LastEpoch`] when no
    /// epoch follows the current one, or the I/O error.
    pub fn rotate_file(path: &Path, revoke_tokens: bool) -> Result<Self, KeyError> {
        let old = match std::fs::read(path) {
            Ok(bytes) => Self::parse(&bytes).map_err(|e| e.of(path))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(KeyError::Missing(path.to_owned()));
            }
            Err(e) => return Err(KeyError::Io(e).of(path)),
        };
        let new = old.rotated(&random_secret()?, revoke_tokens)?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(format!(".{}.rotate", std::process::id()));
        let tmp = PathBuf::from(tmp);
        let _ = std::fs::remove_file(&tmp);
        write_new(&tmp, new.to_file().as_bytes(), true).map_err(|e| e.of(&tmp))?;
        std::fs::rename(&tmp, path).map_err(|e| KeyError::Io(e).of(path))?;
        sync_dir(path).map_err(|e| e.of(path))?;
        Ok(new)
    }

    /// The key that signs consent tokens: the current one.
    #[must_use]
    pub fn token_key(&self) -> &SigningKey {
        self.tokens.current()
    }

    /// The keys whose consent tokens are accepted: the current one, then the retired ones a
    /// rotation did not revoke, newest first (consent-core's rule, which a consent-gate
    /// `Gate::with_keys` applies too).
    #[must_use]
    pub fn token_keys(&self) -> &TokenKeys {
        &self.tokens
    }

    /// A consent token signed under a retired key that is still accepted, signed again under
    /// the current key, so that the core's rules, which know one key, accept it until it
    /// expires as it would have. `None` for a token the current key signed, or one no accepted
    /// key signed: the caller keeps the text as it is.
    #[must_use]
    pub fn resign_token(&self, text: &str) -> Option<String> {
        if !text.starts_with("1.") || self.tokens.retired().is_empty() {
            return None;
        }
        match self.tokens.parse_verified(text).ok()? {
            (_, SignedBy::Current) => None,
            (token, SignedBy::Retired) => {
                Some(Token::signed(*token.state(), self.token_key()).to_string())
            }
        }
    }

    /// The log's keys: links and heads are made under keys derived from these ones, so they
    /// sign nothing else.
    #[must_use]
    pub fn log_keys(&self) -> &LogKeys {
        &self.log
    }

    /// The current key's id, as the log's rotation entries name it.
    #[must_use]
    pub fn id(&self) -> KeyId {
        self.log.current().id()
    }

    /// The current key's epoch.
    #[must_use]
    pub fn epoch(&self) -> u32 {
        self.ring.current().epoch()
    }

    /// Each key's epoch, id and whether its tokens are accepted, oldest first (no secrets).
    pub fn describe(&self) -> impl Iterator<Item = (u32, KeyId, bool)> + '_ {
        self.ring
            .entries()
            .iter()
            .zip(self.log.iter())
            .map(|(e, l)| (e.epoch(), l.id(), e.tokens() == Tokens::Accepted))
    }

    /// The keyed hash under which the customer register stores a contact (under the file's
    /// first key, whatever the rotations: the register holds only the hashes).
    #[must_use]
    pub fn contact_hash(&self, contact: &Contact) -> ContactHash {
        self.contact.hash(contact)
    }

    /// This key file's site id: 16 hex digits of HMAC-SHA-256 under its first key, for the
    /// config's `site` ([`Config::site`](consent_core::Config::site)). Sites with different
    /// keys get different ids, so a consent token made under one site's config does not
    /// apply under another's, in the browser too, where the key is not known. The id reveals
    /// nothing about the key, and a rotation does not change it.
    #[must_use]
    pub fn site_id(&self) -> String {
        let mut mac = self.macs[0].clone();
        mac.update(b"consent-site-id-v1\0");
        let bytes = mac.finalize().into_bytes();
        bytes[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The MAC of a purge checkpoint, under the current key.
    #[must_use]
    pub fn checkpoint_mac(&self, seq: u64, link: &Digest, purged: u64) -> [u8; 32] {
        self.log.current().checkpoint_mac(seq, link, purged)
    }

    /// The signature of a sign-up's confirmation link ([`crate::register::confirm`]).
    #[must_use]
    pub fn confirmation_mac(&self, payload: &[u8]) -> [u8; 32] {
        let mut mac = self.macs[self.macs.len() - 1].clone();
        mac.update(b"consent-confirm-v1\0");
        mac.update(payload);
        mac.finalize().into_bytes().into()
    }

    /// Whether `mac` is the confirmation link's signature under the current key or a retired
    /// one still accepted, compared in constant time.
    #[must_use]
    pub fn verify_confirmation(&self, payload: &[u8], mac: &[u8]) -> bool {
        self.keyed()
            .filter(|(e, _)| e.tokens() == Tokens::Accepted)
            .any(|(_, key)| {
                let mut m = key.clone();
                m.update(b"consent-confirm-v1\0");
                m.update(payload);
                m.verify_slice(mac).is_ok()
            })
    }

    /// Whether `mac` is the checkpoint's MAC under the current key, compared in constant
    /// time. A rotation signs the checkpoint again under the new key.
    #[must_use]
    pub fn verify_checkpoint(&self, seq: u64, link: &Digest, purged: u64, mac: &[u8; 32]) -> bool {
        self.log.current().verify_checkpoint(seq, link, purged, mac)
    }
}

fn random_secret() -> Result<[u8; 32], KeyError> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|_| KeyError::Random)?;
    Ok(secret)
}

/// The bytes of the key file at `path`; on Unix, with a warning when others than its owner
/// and its group may read or write it (`0644`, `0444`, `0666`...). Whoever reads the key can
/// sign consent cookies and rewrite the log under it.
///
/// Caveats: only a warning, not a refusal, because Docker mounts secrets `0444` and
/// Kubernetes `0644` by default, and a server that refused them would not start where it
/// is most often run; the operator is told how to tighten it (`chmod 600`, or the secret's mode).
/// Group access is left alone: a key readable by the service's group alone (`0640`, a
/// Kubernetes `defaultMode: 0440` with `fsGroup`) is a deliberate choice. The mode is read
/// from the file opened, not from its path, so it is the file whose bytes are used.
fn read_key_file(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let meta = file.metadata()?;
        let mode = meta.permissions().mode() & 0o7777;
        let others = match (mode & 0o004 != 0, mode & 0o002 != 0) {
            (true, true) => "read and change",
            (true, false) => "read",
            (false, true) => "change",
            (false, false) => "",
        };
        if meta.is_file() && !others.is_empty() {
            tracing::warn!(
                "the server key file {} has mode {mode:04o}: users other than its owner and \
                 its group can {others} it, and whoever reads it can sign consent cookies and \
                 rewrite the log; make it the server user's alone: chmod 600 {} (for a Docker \
                 or Kubernetes secret, set its mode to 0400)",
                path.display(),
                path.display()
            );
        }
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Creates `path` (mode 0600) with `bytes` and syncs it; and its directory unless
/// `skip_dir` (the caller renames it and syncs the directory then).
fn write_new(path: &Path, bytes: &[u8], skip_dir: bool) -> Result<(), KeyError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(KeyError::Io)?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(KeyError::Io)?;
    if skip_dir {
        return Ok(());
    }
    sync_dir(path)
}

fn sync_dir(path: &Path) -> Result<(), KeyError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(KeyError::Io)?;
    }
    Ok(())
}

impl fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use consent_core::keyring::KEYRING_TAG;

    #[test]
    fn a_raw_key_file_is_a_keyring_of_one_key() {
        let raw = ServerKey::parse(&[7; 32]).unwrap();
        assert_eq!(raw.epoch(), 0);
        assert_eq!(raw.site_id(), ServerKey::new(&[7; 32]).unwrap().site_id());
    }

    #[test]
    fn a_keyring_round_trips_and_keeps_what_must_not_change() {
        let old = ServerKey::new(&[7; 32]).unwrap();
        let new = old.rotated(&[8; 32], true).unwrap();
        let read = ServerKey::parse(new.to_file().as_bytes()).unwrap();
        assert_eq!(read.to_file(), new.to_file());
        assert_eq!(read.epoch(), 1);
        assert_eq!(read.id(), ServerKey::new(&[8; 32]).unwrap().id());
        assert_ne!(read.id(), old.id());
        assert_eq!(read.site_id(), old.site_id());
        let c = Contact::parse("maija@example.fi").unwrap();
        assert_eq!(read.contact_hash(&c), old.contact_hash(&c));
        assert_eq!(
            read.describe().map(|d| d.2).collect::<Vec<_>>(),
            [false, true]
        );
    }

    #[test]
    fn a_malformed_keyring_names_its_line() {
        let text = format!("{KEYRING_TAG}\nepoch=0 tokens=accepted secret=zz\n");
        assert!(matches!(
            ServerKey::parse(text.as_bytes()),
            Err(KeyError::Malformed(2, "secret"))
        ));
        // Two keys of one epoch; and a current key whose tokens are revoked, when it signs
        // every new token and confirmation link (the server refused the links it had sent).
        for (first, second) in [
            ("1 tokens=accepted", "1 tokens=accepted"),
            ("0 tokens=revoked", "1 tokens=revoked"),
        ] {
            let ring = format!(
                "{KEYRING_TAG}\nepoch={first} secret={0}\nepoch={second} secret={0}1f\n\n",
                "07".repeat(32)
            );
            assert!(
                matches!(
                    ServerKey::parse(ring.as_bytes()),
                    Err(KeyError::Malformed(3, _))
                ),
                "{ring}"
            );
        }
        assert!(matches!(
            ServerKey::parse(format!("{KEYRING_TAG}\n").as_bytes()),
            Err(KeyError::Malformed(1, _))
        ));
    }

    #[test]
    fn a_text_file_is_no_raw_key_and_a_crlf_keyring_is_a_keyring() {
        for text in [
            &b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n-----END PRIVATE KEY-----\n"[..],
            &b"0123456789abcdef".repeat(4),
            b"correct horse battery staple, my very long password",
        ] {
            assert!(matches!(ServerKey::parse(text), Err(KeyError::Text)));
        }
        assert!(matches!(
            ServerKey::parse(b"consent-keyring-v2\nepoch=0"),
            Err(KeyError::Malformed(1, _))
        ));
        // Random bytes that are not text stay a key of their own, as before.
        let raw: Vec<u8> = (0u8..32).map(|b| b.wrapping_mul(151)).collect();
        assert!(ServerKey::parse(&raw).is_ok());
        let ring = ServerKey::new(&[7; 32])
            .and_then(|k| k.rotated(&[8; 32], false))
            .unwrap();
        let crlf = ring.to_file().replace('\n', "\r\n");
        assert_eq!(
            ServerKey::parse(crlf.as_bytes()).unwrap().to_file(),
            ring.to_file()
        );
        let cut = &ring.to_file()[..ring.to_file().len() - 10];
        assert!(matches!(
            ServerKey::parse(cut.as_bytes()),
            Err(KeyError::Malformed(3, _))
        ));
    }

    #[test]
    fn confirmation_links_of_a_retired_key_pass_until_it_is_revoked() {
        let old = ServerKey::new(&[7; 32]).unwrap();
        let mac = old.confirmation_mac(b"link");
        assert!(
            old.rotated(&[8; 32], false)
                .unwrap()
                .verify_confirmation(b"link", &mac)
        );
        assert!(
            !old.rotated(&[8; 32], true)
                .unwrap()
                .verify_confirmation(b"link", &mac)
        );
    }

    #[test]
    fn a_key_file_at_the_last_epoch_is_not_rotated_and_kept_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("consent.key");
        let ring = format!(
            "consent-keyring-v1\nepoch={} tokens=accepted secret={}\n",
            u32::MAX,
            "07".repeat(32)
        );
        std::fs::write(&path, &ring).unwrap();
        let err = ServerKey::rotate_file(&path, false).map(|k| k.epoch());
        assert!(
            matches!(&err, Err(e) if e.to_string().contains("4294967295")),
            "{err:?}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), ring);
        assert!(ServerKey::load(&path).is_ok());
    }

    #[test]
    fn rotating_a_key_file_replaces_it_whole_and_keeps_the_old_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("consent.key");
        assert!(matches!(
            ServerKey::rotate_file(&path, false),
            Err(KeyError::Missing(_))
        ));
        let old = ServerKey::load_or_create(&path).unwrap();
        let new = ServerKey::rotate_file(&path, false).unwrap();
        let read = ServerKey::load(&path).unwrap();
        assert_eq!((read.id(), read.epoch()), (new.id(), 1));
        assert_eq!(read.log_keys().iter().next().unwrap().id(), old.id());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
