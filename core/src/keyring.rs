//! The server's key file, parsed: the current key and the retired ones, and which of them a
//! consent token may be signed under.
//!
//! `consent key rotate` turns the key file (`consent.key`) from 32 raw bytes into a text
//! keyring. Everyone who checks the server's consent cookies must read that file the same way
//! and accept the same keys: the server itself, and every application that gates with
//! [`Gate`](crate::Gate) (consent-gate). So the file's format and the rule of which keys sign
//! acceptable tokens live here, in the pure core, and the server reads its file through this
//! parser rather than a copy of it. The line is drawn on purpose: this module takes the
//! file's *bytes* and never opens a file (no I/O in the core); reading the file, its mode and
//! its path's errors are the caller's (`consent_server::ServerKey`, or
//! `consent_gate::read_token_keys`). What the server derives from the keys beyond tokens (the
//! log's keys, the contact hashes, the site id) stays in the server.
//!
//! # The file
//!
//! 1. A file that starts `consent-keyring-v1` and a line end (`\n` or `\r\n`) is a keyring:
//!    one line per key, `epoch=<n> tokens=<accepted|revoked> secret=<hex>`, oldest first,
//!    epochs increasing, blank lines ignored. The last key is the current one, and its tokens
//!    must be accepted (it signs every new one).
//! 2. Any other file of 32 or more bytes that is not all text is one raw secret: the key file
//!    written before rotations existed, read as a keyring of one key, epoch 0.
//! 3. Everything else is refused: text that is not a keyring (a PEM or OpenSSH key, hex
//!    digits, a password: [`KeyringError::Text`]), 32 bytes and a line end
//!    ([`KeyringError::LineEnd`]), fewer than 32 bytes ([`KeyringError::TooShort`]). A key is
//!    never built from the text of a keyring, nor from any other text.
//!
//! ```text
//! consent-keyring-v1
//! epoch=0 tokens=revoked secret=<64 hex digits>
//! epoch=1 tokens=accepted secret=<64 hex digits>
//! ```
//!
//! # Which tokens are accepted
//!
//! 1. A token signed under the current key.
//! 2. A token signed under a retired key whose line says `tokens=accepted`: a rotation keeps
//!    them (`consent key rotate`), so the visitors of yesterday are not asked again. The
//!    token's own lifetime still applies, as to any other: the policy counts it until the
//!    decision it holds expires.
//! 3. Nothing signed under a key whose line says `tokens=revoked` (`consent key rotate
//!    --revoke-tokens`, for a key that leaked).
//!
//! [`TokenKeys`] is that rule, built by [`Keyring::token_keys`]: the current key first, so a
//! cookie signed under it costs one HMAC as before, then the accepted retired keys, newest
//! first, tried only when the current key's signature does not match.
//!
//! Caveats:
//! - Tokens carry no key id, so a cookie that no key signed (a forged or foreign one) costs
//!   one HMAC per accepted key before it is refused. A keyring holds a handful of keys.
//! - The secrets are kept in memory as they were read; `Debug` never shows them.
//!
//! # Example
//! ```
//! use consent_core::{Keyring, SigningKey, Token};
//! # let state = consent_core::doc_state();
//!
//! let old = Keyring::parse(&[7; 32])?; // a key file from before any rotation
//! let new = old.rotated(&[8; 32], false)?; // `consent key rotate`
//! let text = new.to_string(); // the file it writes
//! assert!(text.starts_with("consent-keyring-v1\n"));
//!
//! let keys = Keyring::parse(text.as_bytes())?.token_keys();
//! let cookie = Token::signed(state, &SigningKey::new(&[7; 32])?).to_string();
//! assert!(keys.parse_verified(&cookie).is_ok(), "a retired key's token, still accepted");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use core::fmt;

use crate::prelude::*;
use crate::token::{SigningKey, Token, TokenError};

/// The first line of a keyring file.
pub const KEYRING_TAG: &str = "consent-keyring-v1";

/// The shortest secret: 32 bytes (256 bits).
const MIN_SECRET: usize = 32;

/// Whether the tokens a key signed are still accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tokens {
    /// Accepted until they expire (the current key's, and a retired key's by default).
    Accepted,
    /// No longer accepted (`consent key rotate --revoke-tokens`).
    Revoked,
}

impl Tokens {
    /// The word in the key file: `accepted` or `revoked`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Tokens::Accepted => "accepted",
            Tokens::Revoked => "revoked",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "accepted" => Some(Tokens::Accepted),
            "revoked" => Some(Tokens::Revoked),
            _ => None,
        }
    }
}

impl fmt::Display for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One key of a key file: its epoch, its secret and whether its tokens are accepted.
///
/// `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyEntry {
    epoch: u32,
    secret: Box<[u8]>,
    tokens: Tokens,
}

impl KeyEntry {
    /// The key's epoch: 0 for the file's first key, then increasing with each rotation.
    #[must_use]
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// The key's secret bytes (32 or more).
    #[must_use]
    pub fn secret(&self) -> &[u8] {
        &self.secret
    }

    /// Whether the tokens it signed are accepted.
    #[must_use]
    pub fn tokens(&self) -> Tokens {
        self.tokens
    }

    fn signing_key(&self) -> SigningKey {
        // Every entry's secret is at least `MIN_SECRET` bytes: checked when it was made.
        SigningKey::new(&self.secret).unwrap_or_else(|_| unreachable!("a checked secret"))
    }
}

impl fmt::Debug for KeyEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyEntry")
            .field("epoch", &self.epoch)
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

/// A key file: the current key and the retired ones, oldest first (see the [module
/// docs](self) for the format and the rules).
///
/// [`Display`](fmt::Display) writes the keyring text, which [`Keyring::parse`] reads back
/// as the same keyring (whatever the file it was read from: a raw key prints as a keyring of
/// one key). `Debug` never shows a secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Keyring {
    /// Never empty; epochs increase; the last one's tokens are accepted.
    entries: Vec<KeyEntry>,
}

/// Why bytes are not a key file, or a key file cannot be rotated.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyringError {
    /// A raw key shorter than 32 bytes (the number of bytes).
    TooShort(usize),
    /// A line of a keyring is not a key (its number, from 1, and what is wrong).
    Malformed(usize, &'static str),
    /// Text that is not a keyring: a key of another format (PEM, OpenSSH), hex digits, a
    /// password. Never the 32 random bytes `consent` makes, which are not text.
    Text,
    /// 32 bytes and a line end (`\n` or `\r\n`) after them: the key `consent` makes, with a
    /// line end an editor, `echo` or a secret store added. Read as it is, that is another key.
    LineEnd,
    /// The current key's epoch is the last one (`u32::MAX`): no key can follow it.
    LastEpoch,
}

impl fmt::Display for KeyringError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("server key file: ")?;
        match self {
            KeyringError::TooShort(n) => write!(f, "{n} bytes, need at least 32"),
            KeyringError::Malformed(line, what) => write!(f, "line {line}: {what}"),
            KeyringError::Text => f.write_str(
                "text that is not a consent-keyring-v1 keyring (a PEM or OpenSSH key? hex \
                 digits?); a server key file is either the 32 random bytes `consent` makes or \
                 a consent-keyring-v1 file",
            ),
            KeyringError::LineEnd => f.write_str(
                "32 bytes and a line end after the key, which `consent` never writes: remove \
                 the line end (truncate -s 32 FILE)",
            ),
            KeyringError::LastEpoch => f.write_str(
                "the current key's epoch is 4294967295, the last there is: no key can follow it",
            ),
        }
    }
}

impl core::error::Error for KeyringError {}

impl Keyring {
    /// A key file of one key, epoch 0, from its secret bytes.
    ///
    /// # Errors
    /// [`KeyringError::TooShort`] under 32 bytes.
    pub fn new(secret: &[u8]) -> Result<Self, KeyringError> {
        let entry =
            entry(0, secret, Tokens::Accepted).ok_or(KeyringError::TooShort(secret.len()))?;
        Ok(Self {
            entries: vec![entry],
        })
    }

    /// A key file's bytes: a keyring, or (written before rotations) one raw secret.
    ///
    /// # Errors
    /// [`KeyringError::Malformed`] for a keyring that is not one, [`KeyringError::Text`] for
    /// other text, [`KeyringError::LineEnd`] for a raw key with a line end added,
    /// [`KeyringError::TooShort`] for a raw key under 32 bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, KeyringError> {
        match bytes.strip_prefix(KEYRING_TAG.as_bytes()) {
            Some(rest) => parse_keyring(rest),
            None => parse_raw(bytes),
        }
    }

    /// This key file with a new current key, `secret`, epoch one more than the current one's:
    /// the current key is retired, and when `revoke_tokens` the tokens it signed are no
    /// longer accepted (for a key that leaked). `consent key rotate`'s step without the file.
    ///
    /// # Errors
    /// [`KeyringError::TooShort`] under 32 bytes; [`KeyringError::LastEpoch`] when no epoch
    /// follows the current one.
    pub fn rotated(&self, secret: &[u8], revoke_tokens: bool) -> Result<Self, KeyringError> {
        let epoch = self
            .current()
            .epoch
            .checked_add(1)
            .ok_or(KeyringError::LastEpoch)?;
        let next =
            entry(epoch, secret, Tokens::Accepted).ok_or(KeyringError::TooShort(secret.len()))?;
        let mut entries = self.entries.clone();
        if revoke_tokens {
            if let Some(old) = entries.last_mut() {
                old.tokens = Tokens::Revoked;
            }
        }
        entries.push(next);
        Ok(Self { entries })
    }

    /// The keys, oldest first; the last is current.
    #[must_use]
    pub fn entries(&self) -> &[KeyEntry] {
        &self.entries
    }

    /// The current key: the one that signs.
    #[must_use]
    pub fn current(&self) -> &KeyEntry {
        // Never empty: every constructor makes at least one entry.
        self.entries
            .last()
            .unwrap_or_else(|| unreachable!("a keyring has a key"))
    }

    /// The file's first key (epoch 0 for a file `consent` made).
    #[must_use]
    pub fn first(&self) -> &KeyEntry {
        self.entries
            .first()
            .unwrap_or_else(|| unreachable!("a keyring has a key"))
    }

    /// The keys whose consent tokens are accepted, ready to check tokens: the current one
    /// first, then the retired ones no rotation revoked, newest first.
    #[must_use]
    pub fn token_keys(&self) -> TokenKeys {
        let current = self.current().signing_key();
        let retired = self
            .entries
            .iter()
            .rev()
            .skip(1)
            .filter(|e| e.tokens == Tokens::Accepted)
            .map(KeyEntry::signing_key)
            .collect();
        TokenKeys { current, retired }
    }
}

impl fmt::Display for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{KEYRING_TAG}")?;
        for e in &self.entries {
            write!(f, "epoch={} tokens={} secret=", e.epoch, e.tokens)?;
            for b in &e.secret {
                write!(f, "{b:02x}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.entries).finish()
    }
}

fn entry(epoch: u32, secret: &[u8], tokens: Tokens) -> Option<KeyEntry> {
    (secret.len() >= MIN_SECRET).then(|| KeyEntry {
        epoch,
        secret: secret.into(),
        tokens,
    })
}

/// A key file that does not start with the keyring's tag: one raw secret, unless it is text.
fn parse_raw(bytes: &[u8]) -> Result<Keyring, KeyringError> {
    // Random bytes are text once in 10^13: a file that is text is another one.
    if bytes.starts_with(b"consent-keyring") {
        return Err(KeyringError::Malformed(1, "not a consent-keyring-v1 file"));
    }
    if !bytes.is_empty()
        && bytes
            .iter()
            .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        return Err(KeyringError::Text);
    }
    if matches!(bytes.len(), 33 | 34) && matches!(bytes.get(32..), Some(b"\n" | b"\r\n")) {
        return Err(KeyringError::LineEnd);
    }
    Keyring::new(bytes)
}

/// The keyring after its tag.
fn parse_keyring(rest: &[u8]) -> Result<Keyring, KeyringError> {
    // A keyring edited or copied on Windows has CRLF line ends: the same keyring.
    let text = rest
        .strip_prefix(b"\n")
        .or_else(|| rest.strip_prefix(b"\r\n"))
        .ok_or(KeyringError::Malformed(1, "not a consent-keyring-v1 file"))?;
    let text = core::str::from_utf8(text).map_err(|_| KeyringError::Malformed(2, "not text"))?;
    let mut entries: Vec<KeyEntry> = Vec::new();
    let mut last_line = 1;
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let n = i + 2;
        let (epoch, secret, tokens) =
            parse_line(line).map_err(|what| KeyringError::Malformed(n, what))?;
        let entry = entry(epoch, &secret, tokens).ok_or(KeyringError::Malformed(
            n,
            "secret: fewer than 32 bytes (cut short?)",
        ))?;
        if entries.last().is_some_and(|last| last.epoch >= entry.epoch) {
            return Err(KeyringError::Malformed(n, "epochs must increase"));
        }
        entries.push(entry);
        last_line = n;
    }
    match entries.last() {
        None => Err(KeyringError::Malformed(1, "no key")),
        // The current key signs every new token and confirmation link, which it must accept.
        Some(e) if e.tokens == Tokens::Revoked => Err(KeyringError::Malformed(
            last_line,
            "the current key (the last) must have tokens=accepted: it signs every new \
             consent token and confirmation link",
        )),
        Some(_) => Ok(Keyring { entries }),
    }
}

/// A keyring line: `epoch=<n> tokens=<accepted|revoked> secret=<hex>`.
fn parse_line(line: &str) -> Result<(u32, Vec<u8>, Tokens), &'static str> {
    let mut fields = line.split_ascii_whitespace();
    let mut take = |name: &'static str| {
        fields
            .next()
            .and_then(|f| f.strip_prefix(name))
            .and_then(|f| f.strip_prefix('='))
            .ok_or(name)
    };
    let epoch = take("epoch")?.parse().map_err(|_| "epoch")?;
    let tokens = Tokens::parse(take("tokens")?).ok_or("tokens")?;
    let secret = hex(take("secret")?.as_bytes()).ok_or("secret")?;
    if fields.next().is_some() {
        return Err("trailing fields");
    }
    Ok((epoch, secret, tokens))
}

/// Lowercase hex digits, two a byte (as the keyring is written).
fn hex(text: &[u8]) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    text.chunks_exact(2)
        .map(|p| Some((digit(p[0])? << 4) | digit(p[1])?))
        .collect()
}

/// The keys a consent token may be signed under: the current key, then the retired keys
/// whose tokens are still accepted, newest first ([`Keyring::token_keys`]; the rules are in
/// the [module docs](self)).
///
/// [`Gate::with_keys`](crate::Gate::with_keys) checks cookies against it; the server checks
/// the tokens it is sent with [`parse_verified`](Self::parse_verified). `Debug` never shows
/// a key.
#[derive(Clone)]
pub struct TokenKeys {
    current: SigningKey,
    retired: Vec<SigningKey>,
}

/// Which key of [`TokenKeys`] signed a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignedBy {
    /// The current key.
    Current,
    /// A retired key whose tokens are still accepted.
    Retired,
}

impl TokenKeys {
    /// One key and no retired ones (a key file before any rotation).
    #[must_use]
    pub fn new(current: SigningKey) -> Self {
        Self {
            current,
            retired: Vec::new(),
        }
    }

    /// The current key, which signs every new token.
    #[must_use]
    pub fn current(&self) -> &SigningKey {
        &self.current
    }

    /// The retired keys whose tokens are still accepted, newest first.
    #[must_use]
    pub fn retired(&self) -> &[SigningKey] {
        &self.retired
    }

    /// A token's text, parsed and checked: signed under the current key or an accepted
    /// retired one, and which.
    ///
    /// # Errors
    /// The [`TokenError`] of a malformed or unsigned token, or
    /// [`TokenError::BadSignature`] when no accepted key signed it.
    pub fn parse_verified(&self, s: &str) -> Result<(Token, SignedBy), TokenError> {
        match Token::parse_verified(s, Some(&self.current)) {
            Ok(token) => Ok((token, SignedBy::Current)),
            Err(TokenError::BadSignature) => self
                .retired
                .iter()
                .find_map(|k| Token::parse_verified(s, Some(k)).ok())
                .map(|t| (t, SignedBy::Retired))
                .ok_or(TokenError::BadSignature),
            Err(e) => Err(e),
        }
    }

    /// Whether `tag` is `signed_part`'s tag under a retired key whose tokens are accepted,
    /// compared in constant time: the check after the current key's failed. Allocates
    /// nothing.
    pub(crate) fn verify_retired(&self, signed_part: &[u8], tag: &[u8; 16]) -> bool {
        self.retired.iter().any(|k| k.verify(signed_part, tag))
    }
}

impl From<SigningKey> for TokenKeys {
    fn from(current: SigningKey) -> Self {
        Self::new(current)
    }
}

impl fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenKeys(1 current, {} retired)", self.retired.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Any keyring `rotated` can make: a first key, then rotations, each revoking or not.
    fn any_keyring() -> impl Strategy<Value = Keyring> {
        let secret = proptest::collection::vec(any::<u8>(), 32..48);
        (
            secret.clone(),
            proptest::collection::vec((secret, any::<bool>()), 0..5),
        )
            .prop_map(|(first, rotations)| {
                let first = Keyring::new(&first);
                rotations
                    .iter()
                    .fold(first, |ring, (s, revoke)| ring?.rotated(s, *revoke))
                    .unwrap_or_else(|e| unreachable!("{e}"))
            })
    }

    proptest! {
        #[test]
        fn parse_print_parse_round_trips(ring in any_keyring()) {
            let text = ring.to_string();
            let back = Keyring::parse(text.as_bytes());
            prop_assert_eq!(back.as_ref(), Ok(&ring));
            prop_assert_eq!(back.map(|b| b.to_string()), Ok(text.clone()));
            // CRLF line ends: the same keyring.
            let crlf = text.replace('\n', "\r\n");
            prop_assert_eq!(Keyring::parse(crlf.as_bytes()), Ok(ring.clone()));
            // The rule: the current key, then every retired key not revoked, newest first.
            let accepted = ring.entries().iter().filter(|e| e.tokens() == Tokens::Accepted);
            prop_assert_eq!(ring.token_keys().retired().len() + 1, accepted.count());
        }

        #[test]
        fn no_bytes_make_the_parser_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Keyring::parse(&bytes);
            let mut ring = KEYRING_TAG.as_bytes().to_vec();
            ring.extend_from_slice(&bytes);
            let _ = Keyring::parse(&ring);
        }
    }

    #[test]
    fn a_raw_key_file_is_a_keyring_of_one_key() {
        let raw = Keyring::parse(&[7; 32]).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(raw.current().epoch(), 0);
        assert_eq!(raw.entries().len(), 1);
        assert!(raw.token_keys().retired().is_empty());
    }

    #[test]
    fn revoked_keys_sign_no_accepted_token() {
        let ring = Keyring::new(&[1; 32])
            .and_then(|k| k.rotated(&[2; 32], true))
            .and_then(|k| k.rotated(&[3; 32], false))
            .unwrap_or_else(|e| unreachable!("{e}"));
        let tokens: Vec<Tokens> = ring.entries().iter().map(KeyEntry::tokens).collect();
        assert_eq!(
            tokens,
            [Tokens::Revoked, Tokens::Accepted, Tokens::Accepted]
        );
        assert_eq!(ring.token_keys().retired().len(), 1);
        assert_eq!(
            format!("{:?}", ring.token_keys()),
            "TokenKeys(1 current, 1 retired)"
        );
        assert!(!format!("{ring:?}").contains("secret"));
    }

    #[test]
    fn text_and_short_files_are_no_key() {
        assert_eq!(
            Keyring::parse(b"0123456789abcdef".repeat(4).as_slice()),
            Err(KeyringError::Text)
        );
        assert_eq!(Keyring::parse(&[7; 5]), Err(KeyringError::TooShort(5)));
        assert_eq!(Keyring::parse(&[]), Err(KeyringError::TooShort(0)));
        let mut line_end = vec![0xf7; 32];
        line_end.extend_from_slice(b"\r\n");
        assert_eq!(Keyring::parse(&line_end), Err(KeyringError::LineEnd));
    }
}
