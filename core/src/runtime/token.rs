//! The consent token: the compact, cookie-safe string the consent cookie holds.
//!
//! # Format (version 1)
//! ```text
//! 1.<payload>            unsigned, written by a browser
//! 1.<payload>.<tag>      signed by a server
//! ```
//! `payload` and `tag` are base64url without padding, so the token needs no percent-encoding
//! in a cookie. The payload is binary, in this order:
//!
//! | field | encoding |
//! | --- | --- |
//! | consent id | 16 bytes |
//! | first decision | LEB128 varint, Unix seconds |
//! | last decision | LEB128 varint, seconds after the first |
//! | revision | LEB128 varint, at least 1 |
//! | config fingerprint | 4 bytes, little-endian |
//! | flags | 1 byte: method (bits 0-2), language (bits 3-4), GPC (bit 5) |
//! | categories | 1 byte count (1-32), then the granted bits, little-endian, `ceil(count/8)` bytes |
//! | services | 1 byte count (0-128), then the granted bits likewise |
//!
//! The tag is HMAC-SHA-256 over the ASCII text `1.<payload>`, truncated to its first 128 bits
//! (RFC 2104 section 5 allows truncation to half the output; 128 bits keeps forgery out of
//! reach and the cookie short). A token for 8 categories and 16 services is 73 bytes signed.
//!
//! Parsing is strict: every field has exactly one encoding (minimal varints, zero padding
//! bits), so [`Display`](core::fmt::Display) of a parsed token gives back the same string.

use core::fmt;
use core::str::FromStr;

#[cfg(feature = "keys")]
use hmac::{Hmac, Mac};
#[cfg(feature = "keys")]
use sha2::Sha256;

use crate::b64;
use crate::lang::Lang;
use crate::state::{
    Choices, ConsentId, ConsentState, MAX_CATEGORIES, MAX_SERVICES, MAX_TIME, MIN_TIME, Method,
    Revision, ServiceSet,
};

/// The token format version this crate writes and reads.
pub const TOKEN_VERSION: u8 = 1;
/// The longest token string accepted. Longer input is refused before any decoding.
pub const MAX_TOKEN_LEN: usize = 160;
const MAX_PAYLOAD: usize = 16 + 10 + 10 + 5 + 4 + 1 + 1 + MAX_CATEGORIES / 8 + 1 + MAX_SERVICES / 8;
const TAG_LEN: usize = 16;
const TAG_B64_LEN: usize = 22;

/// Why a string is not a consent token, or not one to trust.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenError {
    /// The string is empty.
    Empty,
    /// Longer than [`MAX_TOKEN_LEN`] bytes.
    TooLong,
    /// A token of a format version this crate does not read.
    UnknownVersion,
    /// The string is not `<version>.<payload>[.<tag>]`; the byte offset of the problem.
    Malformed(usize),
    /// Not base64url at this byte offset of the string.
    Base64(usize),
    /// The payload ends before its last field.
    Truncated,
    /// Bytes after the payload's last field.
    TrailingBytes,
    /// A payload field out of range: which one.
    Field(TokenField),
    /// A signature was required and the token has none.
    Unsigned,
    /// The signature does not match: the token was altered or signed with another key.
    BadSignature,
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("consent token: ")?;
        match self {
            TokenError::Empty => f.write_str("empty"),
            TokenError::TooLong => write!(f, "longer than {MAX_TOKEN_LEN} bytes"),
            TokenError::UnknownVersion => write!(
                f,
                "unknown format version (this is version {TOKEN_VERSION})"
            ),
            TokenError::Malformed(at) => write!(
                f,
                "malformed at byte {at}: expected <version>.<payload>[.<tag>]"
            ),
            TokenError::Base64(at) => write!(f, "invalid base64url at byte {at}"),
            TokenError::Truncated => f.write_str("payload is truncated"),
            TokenError::TrailingBytes => f.write_str("bytes after the payload"),
            TokenError::Field(name) => write!(f, "invalid {name}"),
            TokenError::Unsigned => f.write_str("not signed, and a signature is required"),
            TokenError::BadSignature => f.write_str("signature does not match"),
        }
    }
}

impl core::error::Error for TokenError {}

/// Which field of a token's payload is out of range ([`TokenError::Field`]), or which rule
/// over the fields a decision breaks.
///
/// A closed set rather than a text: only [`as_str`](Self::as_str) and `Display` hold the
/// names, so a build that never shows a token's error (the banner's module) carries none of
/// them (BENCHMARKS.md, "Banner size").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenField {
    /// The first decision time: outside 2020-2099, or not a minimal varint.
    FirstDecisionTime,
    /// The last decision time: before the first, after 2099, or not a minimal varint.
    LastDecisionTime,
    /// A last decision time more than the allowed clock skew ahead of the clock.
    LastDecisionInFuture,
    /// A submitted decision that is not current at its own decision time.
    LastDecisionNotCurrent,
    /// The policy revision: zero, too large, or not a minimal varint.
    Revision,
    /// Flag bits the format does not define.
    Flags,
    /// A method code the format does not define.
    Method,
    /// A language code the format does not define.
    Language,
    /// No category, or more than [`MAX_CATEGORIES`].
    CategoryCount,
    /// A category bit at or above the count.
    Categories,
    /// The necessary category not granted.
    NecessaryNotGranted,
    /// More than [`MAX_SERVICES`] services.
    ServiceCount,
    /// A service bit at or above the count.
    Services,
}

impl TokenField {
    /// Every field, in the order of the variants.
    pub const ALL: [TokenField; 13] = [
        TokenField::FirstDecisionTime,
        TokenField::LastDecisionTime,
        TokenField::LastDecisionInFuture,
        TokenField::LastDecisionNotCurrent,
        TokenField::Revision,
        TokenField::Flags,
        TokenField::Method,
        TokenField::Language,
        TokenField::CategoryCount,
        TokenField::Categories,
        TokenField::NecessaryNotGranted,
        TokenField::ServiceCount,
        TokenField::Services,
    ];

    /// What [`TokenError`]'s message names: `"first decision time"`, `"categories:
    /// necessary not granted"`, ...
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenField::FirstDecisionTime => "first decision time",
            TokenField::LastDecisionTime => "last decision time",
            TokenField::LastDecisionInFuture => "last decision time: in the future",
            TokenField::LastDecisionNotCurrent => "last decision time: not a current decision",
            TokenField::Revision => "revision",
            TokenField::Flags => "flags",
            TokenField::Method => "method",
            TokenField::Language => "language",
            TokenField::CategoryCount => "category count",
            TokenField::Categories => "categories",
            TokenField::NecessaryNotGranted => "categories: necessary not granted",
            TokenField::ServiceCount => "service count",
            TokenField::Services => "services",
        }
    }
}

impl fmt::Display for TokenField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The server's key for signing tokens with HMAC-SHA-256.
///
/// `Debug` never shows the key.
#[derive(Clone)]
pub struct SigningKey {
    // Keyed once: cloning the state skips re-hashing the key for every token.
    #[cfg(feature = "keys")]
    mac: Hmac<Sha256>,
    /// Without the `keys` feature (the banner, which holds no key) the type has no values:
    /// every keyed path is unreachable, and HMAC-SHA-256 is not linked.
    #[cfg(not(feature = "keys"))]
    never: core::convert::Infallible,
}

/// The error for a signing key shorter than 32 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyTooShort;

impl fmt::Display for KeyTooShort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("signing key is shorter than 32 bytes")
    }
}

impl core::error::Error for KeyTooShort {}

impl SigningKey {
    /// A key from at least 32 secret bytes (256 bits).
    ///
    /// # Errors
    /// [`KeyTooShort`] for fewer than 32 bytes.
    #[cfg(feature = "keys")]
    pub fn new(secret: &[u8]) -> Result<Self, KeyTooShort> {
        if secret.len() < 32 {
            return Err(KeyTooShort);
        }
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).map_err(|_| KeyTooShort)?;
        Ok(Self { mac })
    }

    /// Nothing. Without the `keys` feature no key exists, so a path that holds one never
    /// runs: called first on such a path, it lets the compiler drop the rest of it (the
    /// banner's module has no signer).
    pub(crate) fn held(&self) {
        #[cfg(not(feature = "keys"))]
        match self.never {}
    }

    #[cfg(not(feature = "keys"))]
    fn tag(&self, _: &[u8]) -> [u8; TAG_LEN] {
        match self.never {}
    }

    #[cfg(not(feature = "keys"))]
    pub(crate) fn verify(&self, _: &[u8], _: &[u8; TAG_LEN]) -> bool {
        match self.never {}
    }

    #[cfg(feature = "keys")]
    fn tag(&self, message: &[u8]) -> [u8; TAG_LEN] {
        let mut mac = self.mac.clone();
        mac.update(message);
        let full = mac.finalize().into_bytes();
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&full[..TAG_LEN]);
        tag
    }

    /// Constant-time comparison of the tag (hmac's `verify_truncated_left`).
    #[cfg(feature = "keys")]
    pub(crate) fn verify(&self, message: &[u8], tag: &[u8; TAG_LEN]) -> bool {
        let mut mac = self.mac.clone();
        mac.update(message);
        mac.verify_truncated_left(tag).is_ok()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

/// A consent token: a [`ConsentState`] and, if a server signed it, its tag.
///
/// # Example
/// ```
/// use consent_core::{SigningKey, Token};
/// # let state = consent_core::doc_state();
/// let key = SigningKey::new(&[7; 32])?;
/// let token = Token::signed(state, &key);
/// let text = token.to_string();
/// assert!(text.len() <= 100);
///
/// let back = Token::parse_verified(&text, Some(&key))?;
/// assert_eq!(back.state(), &state);
/// // Flipping one character breaks the signature.
/// let mut forged = text.into_bytes();
/// forged[10] = if forged[10] == b'A' { b'B' } else { b'A' };
/// let forged = String::from_utf8(forged).unwrap();
/// assert!(Token::parse_verified(&forged, Some(&key)).is_err());
/// # Ok::<(), Box<dyn core::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    state: ConsentState,
    tag: Option<[u8; TAG_LEN]>,
}

impl Token {
    /// A token without a signature, as a browser writes it.
    #[must_use]
    pub fn unsigned(state: ConsentState) -> Self {
        Self { state, tag: None }
    }

    /// A token signed with `key`.
    #[must_use]
    pub fn signed(state: ConsentState, key: &SigningKey) -> Self {
        let mut buf = [0u8; MAX_TOKEN_LEN];
        let n = write_unsigned(&state, &mut buf);
        Self {
            state,
            tag: Some(key.tag(buf.get(..n).unwrap_or_default())),
        }
    }

    /// Parses a token and, with a key, requires a valid signature.
    ///
    /// Without a key, signed and unsigned tokens parse and no tag is checked: that is the
    /// browser's view, which cannot hold the key.
    ///
    /// # Errors
    /// Any [`TokenError`]; with a key also [`TokenError::Unsigned`] and
    /// [`TokenError::BadSignature`].
    pub fn parse_verified(s: &str, key: Option<&SigningKey>) -> Result<Self, TokenError> {
        decode(s.as_bytes(), key).map(|d| d.token)
    }

    /// The decision the token carries.
    #[must_use]
    pub fn state(&self) -> &ConsentState {
        &self.state
    }

    /// The signature, checked or not.
    #[cfg(feature = "alloc")]
    pub(crate) fn tag(&self) -> Option<&[u8; TAG_LEN]> {
        self.tag.as_ref()
    }

    /// Whether the token carries a signature (checked or not).
    #[must_use]
    pub fn is_signed(&self) -> bool {
        self.tag.is_some()
    }
}

impl Token {
    /// The token's text, written into `buf` without `core::fmt` (what [`Display`] writes; the
    /// banner's build links no formatter).
    ///
    /// [`Display`]: core::fmt::Display
    #[must_use]
    pub fn text<'b>(&self, buf: &'b mut [u8; MAX_TOKEN_LEN]) -> &'b str {
        let mut n = write_unsigned(&self.state, buf);
        if let Some(tag) = &self.tag {
            // `get`, never an index that could panic (see `decode`).
            if let Some([dot, rest @ ..]) = buf.get_mut(n..) {
                *dot = b'.';
                let mut w = b64::Encoder::new(rest);
                w.bytes(tag);
                n += 1 + w.finish();
            }
        }
        crate::text::utf8(buf.get(..n).unwrap_or_default()).unwrap_or_default()
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text(&mut [0u8; MAX_TOKEN_LEN]))
    }
}

impl FromStr for Token {
    type Err = TokenError;

    /// Parses without checking any signature; see [`Token::parse_verified`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Token::parse_verified(s, None)
    }
}

/// A decoded token and, for the server-side check, nothing allocated.
pub(crate) struct Decoded {
    pub(crate) token: Token,
}

/// Writes `1.<payload>` into `out` and returns its length.
fn write_unsigned(state: &ConsentState, out: &mut [u8; MAX_TOKEN_LEN]) -> usize {
    let [version, dot, rest @ ..] = out;
    *version = b'0' + TOKEN_VERSION;
    *dot = b'.';
    // The fields go into base64 as they are written: `MAX_PAYLOAD` bytes are at most 91
    // characters, so `out` always fits them (and a tag after them).
    let mut w = b64::Encoder::new(rest);
    w.bytes(state.id.as_bytes());
    varint(&mut w, state.first as u64);
    varint(&mut w, (state.last - state.first) as u64);
    varint(&mut w, u64::from(state.revision.get()));
    w.bytes(&state.fingerprint.to_le_bytes());
    w.byte(state.method.code() | (state.lang.index() as u8) << 3 | u8::from(state.gpc) << 5);
    bits(
        &mut w,
        state.n_categories,
        &state.choices.categories.to_le_bytes(),
    );
    bits(
        &mut w,
        state.n_services,
        &state.choices.services.to_le_bytes(),
    );
    2 + w.finish()
}

/// A count of bits, then the set's first `ceil(count/8)` bytes.
fn bits(w: &mut b64::Encoder<'_>, count: u8, set: &[u8]) {
    w.byte(count);
    w.bytes(set.get(..bit_bytes(count)).unwrap_or_default());
}

/// `n` as a minimal LEB128 varint.
fn varint(w: &mut b64::Encoder<'_>, mut n: u64) {
    loop {
        let low = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            w.byte(low);
            return;
        }
        w.byte(low | 0x80);
    }
}

const fn bit_bytes(n: u8) -> usize {
    (n as usize).div_ceil(8)
}

/// The payload's fields, read from the front a byte at a time: one reader for the server's
/// check and the banner.
///
/// Plain reads over a slice, no word loads: the server's check stays far inside its budget
/// (BENCHMARKS.md), and the banner's module is smaller than with a reader written for speed.
struct Fields<'a> {
    rest: &'a [u8],
}

impl Fields<'_> {
    fn byte(&mut self) -> Result<u8, TokenError> {
        let [b] = self.array::<1>()?;
        Ok(b)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], TokenError> {
        let (array, rest) = self
            .rest
            .split_first_chunk::<N>()
            .ok_or(TokenError::Truncated)?;
        self.rest = rest;
        Ok(*array)
    }

    /// A minimal LEB128 varint of at most 63 bits (nine bytes).
    ///
    /// Out of line: one copy for the three varints (24 B gzip less in the banner's module than
    /// LLVM's choice; the server's check runs as many instructions either way, measured).
    #[inline(never)]
    fn varint(&mut self, field: TokenField) -> Result<u64, TokenError> {
        let (mut n, mut shift) = (0u64, 0u32);
        loop {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                // A zero last byte after the first means a longer encoding than needed.
                return if b == 0 && shift > 0 {
                    Err(TokenError::Field(field))
                } else {
                    Ok(n)
                };
            }
            shift += 7;
            if shift > 56 {
                return Err(TokenError::Field(field));
            }
        }
    }

    /// A set of `count` bits (at most 128) in `ceil(count/8)` bytes, little-endian, with no
    /// bit set at or above `count`.
    fn bits(&mut self, count: u8, field: TokenField) -> Result<ServiceSet, TokenError> {
        let (bytes, rest) = self
            .rest
            .split_at_checked(bit_bytes(count))
            .ok_or(TokenError::Truncated)?;
        self.rest = rest;
        // Little-endian: the last byte is the highest (at most 16 bytes: a count is at most
        // 128), shifted in through both words.
        let set = bytes
            .iter()
            .rev()
            .fold(ServiceSet::EMPTY, |ServiceSet([low, high]), &b| {
                ServiceSet([low << 8 | u64::from(b), high << 8 | low >> 56])
            });
        // Only the last byte can hold bits at or above the count: it holds the count's last
        // 1 to 8 bits (no shift of the set by a variable amount).
        if let Some((&top, full)) = bytes.split_last() {
            if u32::from(top) >> (u32::from(count) - 8 * full.len() as u32) != 0 {
                return Err(TokenError::Field(field));
            }
        }
        Ok(set)
    }
}

/// The payload's fields, checked in the order they are read, so each malformed payload has
/// one error (a property test holds it to an independent reader).
///
/// Always inlined: in the server's check the state then goes straight to where the verdict
/// reads it, and error values the caller drops are never built (BENCHMARKS.md).
#[inline(always)]
fn decode_payload(payload: &[u8]) -> Result<ConsentState, TokenError> {
    let mut r = Fields { rest: payload };
    let id = ConsentId::from_bytes(r.array::<16>()?);
    let first = r.varint(TokenField::FirstDecisionTime)?;
    let delta = r.varint(TokenField::LastDecisionTime)?;
    let revision = r.varint(TokenField::Revision)?;
    let fingerprint = u32::from_le_bytes(r.array::<4>()?);
    let flags = r.byte()?;
    let n_categories = r.byte()?;
    if n_categories == 0 || usize::from(n_categories) > MAX_CATEGORIES {
        return Err(TokenError::Field(TokenField::CategoryCount));
    }
    // Fits: the count is at most 32, and `bits` refused any bit at or above it.
    let categories = r.bits(n_categories, TokenField::Categories)?.0[0] as u32;
    let n_services = r.byte()?;
    if usize::from(n_services) > MAX_SERVICES {
        return Err(TokenError::Field(TokenField::ServiceCount));
    }
    let services = r.bits(n_services, TokenField::Services)?;
    if !r.rest.is_empty() {
        return Err(TokenError::TrailingBytes);
    }

    let first =
        i64::try_from(first).map_err(|_| TokenError::Field(TokenField::FirstDecisionTime))?;
    if !(MIN_TIME..=MAX_TIME).contains(&first) {
        return Err(TokenError::Field(TokenField::FirstDecisionTime));
    }
    let last = first
        .checked_add(
            i64::try_from(delta).map_err(|_| TokenError::Field(TokenField::LastDecisionTime))?,
        )
        .filter(|t| *t <= MAX_TIME)
        .ok_or(TokenError::Field(TokenField::LastDecisionTime))?;
    let revision = u32::try_from(revision)
        .ok()
        .and_then(Revision::new)
        .ok_or(TokenError::Field(TokenField::Revision))?;
    if flags >> 6 != 0 {
        return Err(TokenError::Field(TokenField::Flags));
    }
    let method = Method::from_code(flags & 0b111).ok_or(TokenError::Field(TokenField::Method))?;
    let lang =
        Lang::from_index((flags >> 3) & 0b11).ok_or(TokenError::Field(TokenField::Language))?;
    if categories & 1 == 0 {
        return Err(TokenError::Field(TokenField::NecessaryNotGranted));
    }
    Ok(ConsentState {
        id,
        first,
        last,
        revision,
        fingerprint,
        method,
        lang,
        gpc: flags & (1 << 5) != 0,
        choices: Choices {
            categories,
            services,
        },
        n_categories,
        n_services,
    })
}

/// Decodes a token without allocating; with a key, requires and checks its tag.
pub(crate) fn decode(s: &[u8], key: Option<&SigningKey>) -> Result<Decoded, TokenError> {
    if s.is_empty() {
        return Err(TokenError::Empty);
    }
    if s.len() > MAX_TOKEN_LEN {
        return Err(TokenError::TooLong);
    }
    // Patterns and `get`, never an index that could panic: the banner's module then links no
    // bounds-check panic, and none of `core::fmt` with it.
    let body = match s {
        [v, b'.', body @ ..] if *v == b'0' + TOKEN_VERSION => body,
        _ => {
            let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
            return Err(match s.get(digits) {
                Some(b'.') if digits > 0 => TokenError::UnknownVersion,
                _ => TokenError::Malformed(digits),
            });
        }
    };
    // A plain search (a predicate, not `memchr`): a token is at most `MAX_TOKEN_LEN` bytes,
    // and the banner's module is smaller without memchr's word-at-a-time loop.
    let mut parts = body.splitn(2, |&b| b == b'.');
    let payload_text = parts.next().unwrap_or_default();
    let tag_text = parts.next().map(|tag| (2 + payload_text.len() + 1, tag));
    let signed_part = s.get(..2 + payload_text.len()).unwrap_or_default();
    let mut payload = [0u8; MAX_PAYLOAD];
    if payload_text.len() > b64::encoded_len(MAX_PAYLOAD) {
        return Err(TokenError::TooLong);
    }
    let n = b64::decode(payload_text, &mut payload).map_err(|e| base64_error(e, 2))?;
    let state = decode_payload(payload.get(..n).unwrap_or_default())?;

    let tag = match tag_text {
        None => None,
        Some((start, text)) => {
            if let Some(dot) = text.iter().position(|&b| b == b'.') {
                return Err(TokenError::Malformed(start + dot));
            }
            if text.len() != TAG_B64_LEN {
                return Err(TokenError::Malformed(start));
            }
            // 22 characters are 16 bytes, always.
            let mut tag = [0u8; TAG_LEN];
            b64::decode(text, &mut tag).map_err(|e| base64_error(e, start))?;
            Some(tag)
        }
    };
    check_signature(tag.as_ref(), signed_part, key)?;
    Ok(Decoded {
        token: Token { state, tag },
    })
}

/// [`decode`]'s last step: with a key, the token must carry a tag, and the tag must match
/// `signed_part` (the token's text up to the tag).
#[inline]
pub(crate) fn check_signature(
    tag: Option<&[u8; TAG_LEN]>,
    signed_part: &[u8],
    key: Option<&SigningKey>,
) -> Result<(), TokenError> {
    match (key, tag) {
        (None, _) => Ok(()),
        (Some(_), None) => Err(TokenError::Unsigned),
        (Some(key), Some(tag)) if key.verify(signed_part, tag) => Ok(()),
        (Some(_), Some(_)) => Err(TokenError::BadSignature),
    }
}

/// A token at the start of `s`, which may go on after it (the rest of a `Cookie` header), as
/// [`decode`] with no key decodes `s[..len]`. Returns the token, the length of its signed part
/// (`1.<payload>`, for [`check_signature`]) and `len`.
///
/// The server's check: it finds the token's end while decoding it, in one pass, where
/// [`decode`] needs the end first. `None` for anything but a well-formed token; the caller
/// then delimits the value and asks [`decode`], which says what is wrong. A property test
/// holds the two to agreeing.
#[cfg(feature = "alloc")]
#[inline]
pub(crate) fn decode_prefix(s: &[u8]) -> Option<(Token, usize, usize)> {
    let text = s.strip_prefix(&[b'0' + TOKEN_VERSION, b'.'])?;
    let mut payload = [0u8; MAX_PAYLOAD];
    // At most `MAX_PAYLOAD` bytes, so at most as many characters as `decode` takes.
    let (chars, n) = b64::decode_prefix(text, &mut payload)?;
    let state = decode_payload(payload.get(..n)?).ok()?;
    let signed_len = 2 + chars;
    let (tag, len) = match s.get(signed_len) {
        Some(b'.') => {
            let mut tag = [0u8; TAG_LEN];
            match b64::decode_prefix(&s[signed_len + 1..], &mut tag)? {
                (TAG_B64_LEN, TAG_LEN) => (Some(tag), signed_len + 1 + TAG_B64_LEN),
                _ => return None,
            }
        }
        _ => (None, signed_len),
    };
    if len > MAX_TOKEN_LEN {
        return None;
    }
    Some((Token { state, tag }, signed_len, len))
}

/// A base64 error as a token error, with offsets counted from the start of the token.
fn base64_error(e: b64::B64Error, start: usize) -> TokenError {
    match e {
        b64::B64Error::Byte(at) => TokenError::Base64(start + at),
        b64::B64Error::Capacity => TokenError::TooLong,
    }
}

/// Strategies for the crate's property tests.
#[cfg(test)]
pub(crate) mod strategy {
    use proptest::prelude::*;

    use super::*;

    /// Any state a token can carry: every field over its whole range, with short and long
    /// varints.
    pub(crate) fn any_state() -> impl Strategy<Value = ConsentState> {
        let times = (
            MIN_TIME..=MAX_TIME,
            prop_oneof![0i64..200, 0i64..=MAX_TIME - MIN_TIME],
        );
        let revision = prop_oneof![1u32..200, 1u32..];
        let flags = (0usize..5, 0u8..3, any::<bool>());
        let bits = (1u8..=32, 0u8..=128, any::<u32>(), any::<u128>());
        (
            any::<[u8; 16]>(),
            times,
            revision,
            any::<u32>(),
            flags,
            bits,
        )
            .prop_map(
                |(id, (first, delta), revision, fingerprint, (method, lang, gpc), bits)| {
                    let (n_categories, n_services, categories, services) = bits;
                    let all = Choices::all(n_categories, n_services);
                    ConsentState {
                        id: ConsentId::from_bytes(id),
                        first,
                        last: (first + delta).min(MAX_TIME),
                        revision: Revision::new(revision).unwrap_or_else(|| unreachable!()),
                        fingerprint,
                        method: Method::ALL[method],
                        lang: Lang::from_index(lang).unwrap_or_else(|| unreachable!()),
                        gpc,
                        choices: Choices {
                            categories: categories & all.categories | 1,
                            services: ServiceSet::from(services).and(all.services),
                        },
                        n_categories,
                        n_services,
                    }
                },
            )
    }
}

#[cfg(test)]
mod tests {
    use super::strategy::any_state;
    use super::*;
    use crate::Config;
    use proptest::prelude::*;

    fn payload(bytes: &[u8]) -> Result<ConsentState, TokenError> {
        decode_payload(bytes)
    }

    /// The binary payload of `state`'s token, decoded by the `base64` crate.
    fn raw(state: &ConsentState) -> Vec<u8> {
        use base64::Engine as _;
        let text = Token::unsigned(*state).to_string();
        let payload = text.strip_prefix("1.").unwrap_or_default();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload);
        bytes.unwrap_or_else(|e| unreachable!("{e}"))
    }

    // A reader written apart from `Fields` (offsets into the bytes, not a shrinking slice):
    // the reference for `decode_payload`'s errors.
    struct Reader<'a> {
        bytes: &'a [u8],
        at: usize,
    }

    impl Reader<'_> {
        fn byte(&mut self) -> Result<u8, TokenError> {
            let b = *self.bytes.get(self.at).ok_or(TokenError::Truncated)?;
            self.at += 1;
            Ok(b)
        }

        fn take<const N: usize>(&mut self) -> Result<[u8; N], TokenError> {
            let end = self.at + N;
            let slice = self.bytes.get(self.at..end).ok_or(TokenError::Truncated)?;
            self.at = end;
            let mut out = [0u8; N];
            out.copy_from_slice(slice);
            Ok(out)
        }

        /// A minimal LEB128 varint of at most 63 bits.
        fn varint(&mut self, field: TokenField) -> Result<u64, TokenError> {
            let mut n = 0u64;
            for shift in (0..63).step_by(7) {
                let b = self.byte()?;
                n |= u64::from(b & 0x7f) << shift;
                if b & 0x80 == 0 {
                    // A zero last byte after the first means a longer encoding than needed.
                    if b == 0 && shift > 0 {
                        return Err(TokenError::Field(field));
                    }
                    return Ok(n);
                }
            }
            Err(TokenError::Field(field))
        }

        /// A bit set of `n` bits stored in `ceil(n/8)` bytes, with no bit set at or above `n`.
        fn bits(&mut self, n: u8, field: TokenField) -> Result<u128, TokenError> {
            let len = bit_bytes(n);
            let bytes = self
                .bytes
                .get(self.at..self.at + len)
                .ok_or(TokenError::Truncated)?;
            self.at += len;
            // One little-endian load instead of a shift per byte.
            let mut word = [0u8; 16];
            for (w, b) in word.iter_mut().zip(bytes) {
                *w = *b;
            }
            let set = u128::from_le_bytes(word);
            if n < 128 && set >> n != 0 {
                return Err(TokenError::Field(field));
            }
            Ok(set)
        }
    }

    fn reference(bytes: &[u8]) -> Result<ConsentState, TokenError> {
        let mut r = Reader { bytes, at: 0 };
        let id = ConsentId::from_bytes(r.take::<16>()?);
        let first = r.varint(TokenField::FirstDecisionTime)?;
        let delta = r.varint(TokenField::LastDecisionTime)?;
        let revision = r.varint(TokenField::Revision)?;
        let fingerprint = u32::from_le_bytes(r.take::<4>()?);
        let flags = r.byte()?;
        let n_categories = r.byte()?;
        if n_categories == 0 || usize::from(n_categories) > MAX_CATEGORIES {
            return Err(TokenError::Field(TokenField::CategoryCount));
        }
        let categories = r.bits(n_categories, TokenField::Categories)?;
        let n_services = r.byte()?;
        if usize::from(n_services) > MAX_SERVICES {
            return Err(TokenError::Field(TokenField::ServiceCount));
        }
        let services = r.bits(n_services, TokenField::Services)?;
        if r.at != bytes.len() {
            return Err(TokenError::TrailingBytes);
        }

        let first =
            i64::try_from(first).map_err(|_| TokenError::Field(TokenField::FirstDecisionTime))?;
        if !(MIN_TIME..=MAX_TIME).contains(&first) {
            return Err(TokenError::Field(TokenField::FirstDecisionTime));
        }
        let last = first
            .checked_add(
                i64::try_from(delta)
                    .map_err(|_| TokenError::Field(TokenField::LastDecisionTime))?,
            )
            .filter(|t| *t <= MAX_TIME)
            .ok_or(TokenError::Field(TokenField::LastDecisionTime))?;
        let revision = u32::try_from(revision)
            .ok()
            .and_then(Revision::new)
            .ok_or(TokenError::Field(TokenField::Revision))?;
        if flags >> 6 != 0 {
            return Err(TokenError::Field(TokenField::Flags));
        }
        let method =
            Method::from_code(flags & 0b111).ok_or(TokenError::Field(TokenField::Method))?;
        let lang =
            Lang::from_index((flags >> 3) & 0b11).ok_or(TokenError::Field(TokenField::Language))?;
        if categories & 1 == 0 {
            return Err(TokenError::Field(TokenField::NecessaryNotGranted));
        }
        Ok(ConsentState {
            id,
            first,
            last,
            revision,
            fingerprint,
            method,
            lang,
            gpc: flags & (1 << 5) != 0,
            // Fits: `bits` refused any bit at or above the count, and the count is at most 32.
            choices: Choices {
                categories: categories as u32,
                services: ServiceSet::from(services),
            },
            n_categories,
            n_services,
        })
    }

    #[test]
    fn cookie_line_has_to_cookies_attributes() {
        let base = serde_json::json!({
            "revision": 1, "privacy_notice": "/p",
            "categories": [{"id": "necessary"}, {"id": "analytics"}],
        });
        let mut with_domain = base.clone();
        with_domain["cookie"] = serde_json::json!({"name": "cc", "domain": "klinikka.fi", "path": "/x", "same_site": "none"});
        with_domain["lifetime"] = serde_json::json!({"accept_days": 30, "refuse_days": 7});
        let mut strict = base.clone();
        strict["cookie"] = serde_json::json!({"same_site": "strict"});
        for config in [base, with_domain, strict] {
            let config = Config::from_value(&config).unwrap_or_else(|e| unreachable!("{e}"));
            let refused = ConsentState {
                choices: Choices {
                    categories: 0b1,
                    services: ServiceSet::EMPTY,
                },
                ..state(2, 0)
            };
            for (state, secure) in [(crate::doc_state(), true), (refused, false)] {
                let token = Token::unsigned(state);
                let line = token.cookie_line(&config, secure);
                let parsed =
                    cookie::Cookie::parse(line.as_str()).unwrap_or_else(|e| unreachable!("{e}"));
                let want = token.to_cookie(&config, secure);
                assert_eq!(parsed.name_value(), want.name_value(), "{line}");
                assert_eq!(parsed.path(), want.path(), "{line}");
                assert_eq!(parsed.domain(), want.domain(), "{line}");
                assert_eq!(parsed.max_age(), want.max_age(), "{line}");
                assert_eq!(parsed.same_site(), want.same_site(), "{line}");
                // `Some(false)` from the builder and `None` from parsing both write no `Secure`.
                assert_eq!(
                    parsed.secure().unwrap_or(false),
                    want.secure().unwrap_or(false),
                    "{line}"
                );
                assert_eq!(parsed.expires(), None);
            }
        }
    }

    #[test]
    fn a_prefixed_cookie_name_is_always_written_secure() {
        for (name, same_site, https, secure) in [
            ("consent", "lax", false, false),
            ("consent", "lax", true, true),
            ("consent", "none", false, true),
            ("__Host-consent", "lax", false, true),
            ("__Secure-consent", "strict", false, true),
            ("_Host-consent", "lax", false, false),
        ] {
            let config = serde_json::json!({
                "revision": 1, "privacy_notice": "/p",
                "categories": [{"id": "necessary"}],
                "cookie": {"name": name, "same_site": same_site},
            });
            let config = Config::from_value(&config).unwrap_or_else(|e| unreachable!("{e}"));
            let token = Token::unsigned(crate::doc_state());
            let line = token.cookie_line(&config, https);
            assert_eq!(line.ends_with("; Secure"), secure, "{line}");
            assert_eq!(
                token.to_cookie(&config, https).secure().unwrap_or(false),
                secure,
                "{name}"
            );
            // The banner's way: the compiled policy carries it.
            let bytes = crate::compile::compile(&config).unwrap_or_else(|e| unreachable!("{e}"));
            let compiled = crate::compiled::CompiledPolicy::parse(&bytes)
                .unwrap_or_else(|e| unreachable!("{e:?}"));
            assert_eq!(token.cookie_line(&compiled, https), line, "{name}");
        }
    }

    fn state(n_categories: u8, n_services: u8) -> ConsentState {
        ConsentState {
            id: ConsentId::from_bytes(*b"0123456789abcdef"),
            first: 1_790_000_000,
            last: 1_795_000_000,
            revision: Revision::new(12).unwrap_or_else(|| unreachable!()),
            fingerprint: 0xdead_beef,
            method: Method::Custom,
            lang: Lang::Sv,
            gpc: true,
            choices: Choices {
                categories: 0b1011,
                services: ServiceSet::from(0b1001),
            },
            n_categories,
            n_services,
        }
    }

    fn key() -> SigningKey {
        SigningKey::new(&[42; 32]).unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn round_trips_signed_and_unsigned() {
        for token in [
            Token::unsigned(state(8, 16)),
            Token::signed(state(8, 16), &key()),
        ] {
            let text = token.to_string();
            assert_eq!(text.parse::<Token>(), Ok(token));
            assert_eq!(text.parse::<Token>().map(|t| t.to_string()), Ok(text));
        }
    }

    #[test]
    fn fits_the_size_budget() {
        // The issue's budget: at most 100 bytes for 8 categories and 16 services, signed.
        let signed = Token::signed(state(8, 16), &key()).to_string();
        assert!(signed.len() <= 100, "{} bytes: {signed}", signed.len());
        assert_eq!(signed.len(), 73);
        let biggest = Token::signed(state(32, 128), &key()).to_string();
        assert!(biggest.len() <= MAX_TOKEN_LEN);
        assert!(
            signed
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        );
    }

    #[test]
    fn signature_is_required_and_checked() {
        let key = key();
        let unsigned = Token::unsigned(state(8, 16)).to_string();
        assert_eq!(
            Token::parse_verified(&unsigned, Some(&key)),
            Err(TokenError::Unsigned)
        );
        let other = SigningKey::new(&[1; 32]).unwrap_or_else(|_| unreachable!());
        let foreign = Token::signed(state(8, 16), &other).to_string();
        assert_eq!(
            Token::parse_verified(&foreign, Some(&key)),
            Err(TokenError::BadSignature)
        );
        // A signed token with its payload swapped for another decision's.
        let mine = Token::signed(state(8, 16), &key).to_string();
        let mut upgraded = state(8, 16);
        upgraded.choices.categories = 0xff;
        let swapped = format!(
            "{}{}",
            Token::unsigned(upgraded),
            &mine[mine.rfind('.').unwrap_or(0)..]
        );
        assert_eq!(
            Token::parse_verified(&swapped, Some(&key)),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn rejects_malformed_input_with_a_reason() {
        let good = Token::unsigned(state(8, 16)).to_string();
        assert_eq!("".parse::<Token>(), Err(TokenError::Empty));
        assert_eq!("2.AAAA".parse::<Token>(), Err(TokenError::UnknownVersion));
        assert_eq!("x.AAAA".parse::<Token>(), Err(TokenError::Malformed(0)));
        assert_eq!("1".parse::<Token>(), Err(TokenError::Malformed(1)));
        assert_eq!("12.AAAA".parse::<Token>(), Err(TokenError::UnknownVersion));
        assert_eq!("01.AAAA".parse::<Token>(), Err(TokenError::UnknownVersion));
        assert_eq!(".AAAA".parse::<Token>(), Err(TokenError::Malformed(0)));
        assert_eq!("1x.AAAA".parse::<Token>(), Err(TokenError::Malformed(1)));
        assert_eq!("1.AAAA.".parse::<Token>(), Err(TokenError::Truncated));
        assert_eq!("1.".parse::<Token>(), Err(TokenError::Truncated));
        assert_eq!("1.AA=A".parse::<Token>(), Err(TokenError::Base64(4)));
        // Five characters end no byte: the error is at the payload's end.
        assert_eq!("1.AAAAA".parse::<Token>(), Err(TokenError::Base64(7)));
        assert!(good[..good.len() - 3].parse::<Token>().is_err());
        assert_eq!("1.".repeat(100).parse::<Token>(), Err(TokenError::TooLong));
        assert_eq!(
            format!("{good}.AAAA").parse::<Token>(),
            Err(TokenError::Malformed(good.len() + 1))
        );
        assert_eq!(
            format!("{good}.{}.x", "A".repeat(22)).parse::<Token>(),
            Err(TokenError::Malformed(good.len() + 23))
        );
    }

    #[test]
    fn rejects_non_canonical_and_out_of_range_fields() {
        let good = raw(&state(8, 16));
        assert_eq!(payload(&good), Ok(state(8, 16)));
        // Layout for 8 categories and 16 services: ... flags, n_cat, cat, n_svc, svc, svc.
        let (flags_at, n_cat_at, cat_at, svc_at) = (
            good.len() - 6,
            good.len() - 5,
            good.len() - 4,
            good.len() - 1,
        );
        let with = |at: usize, b: u8| {
            let mut bytes = good.clone();
            bytes[at] = b;
            payload(&bytes)
        };
        assert_eq!(payload(&good[..good.len() - 1]), Err(TokenError::Truncated));
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(payload(&trailing), Err(TokenError::TrailingBytes));
        // Each field out of range, with the field its error names (0b1010: categories
        // without the necessary one; 33: more than MAX_CATEGORIES; 3: a category bit at or
        // above the declared count).
        for (at, b, field) in [
            (cat_at, 0b1010, TokenField::NecessaryNotGranted),
            (n_cat_at, 0, TokenField::CategoryCount),
            (n_cat_at, 33, TokenField::CategoryCount),
            (n_cat_at, 3, TokenField::Categories),
            (flags_at, 0b101, TokenField::Method),
            (flags_at, 0b1_1000, TokenField::Language),
            (flags_at, 0b100_0000, TokenField::Flags),
        ] {
            assert_eq!(with(at, b), Err(TokenError::Field(field)), "{at}: {b:#b}");
        }
        // The last service byte's top bit is service 15, within the count: accepted.
        assert_eq!(
            with(svc_at, 0x80),
            Ok(ConsentState {
                choices: Choices {
                    services: ServiceSet::from(0x8009),
                    ..state(8, 16).choices
                },
                ..state(8, 16)
            })
        );

        let mut early = state(8, 16);
        early.first = 1_000_000_000;
        early.last = 1_000_000_000;
        assert_eq!(
            payload(&raw(&early)),
            Err(TokenError::Field(TokenField::FirstDecisionTime))
        );
        let mut late = state(8, 16);
        late.last = MAX_TIME + 1;
        assert_eq!(
            payload(&raw(&late)),
            Err(TokenError::Field(TokenField::LastDecisionTime))
        );
    }

    #[test]
    fn token_fields_have_distinct_names_and_name_the_error() {
        for (i, field) in TokenField::ALL.into_iter().enumerate() {
            assert_eq!(field.to_string(), field.as_str());
            assert!(!field.as_str().is_empty());
            for other in &TokenField::ALL[i + 1..] {
                assert_ne!(field.as_str(), other.as_str(), "{field:?} and {other:?}");
            }
        }
        assert_eq!(
            TokenError::Field(TokenField::NecessaryNotGranted).to_string(),
            "consent token: invalid categories: necessary not granted"
        );
    }

    #[test]
    fn non_minimal_varint_is_refused() {
        let read = |bytes: &[u8]| {
            let mut r = Fields { rest: bytes };
            r.varint(TokenField::Revision)
                .map(|v| (v, bytes.len() - r.rest.len()))
        };
        assert_eq!(
            read(&[0x81, 0x00]),
            Err(TokenError::Field(TokenField::Revision))
        );
        assert_eq!(read(&[0x00]), Ok((0, 1)));
        assert_eq!(read(&[0x81]), Err(TokenError::Truncated));
        assert_eq!(
            read(&[0xff; 12]),
            Err(TokenError::Field(TokenField::Revision))
        );
        assert_eq!(read(&[0xff; 8]), Err(TokenError::Truncated));
        let mut nine = [0xff; 9];
        nine[8] = 0x7f;
        assert_eq!(read(&nine), Ok((i64::MAX as u64, 9)));
        nine[8] = 0;
        assert_eq!(read(&nine), Err(TokenError::Field(TokenField::Revision)));
        let mut r = Reader {
            bytes: &[0x81, 0x00],
            at: 0,
        };
        assert_eq!(
            r.varint(TokenField::Revision),
            Err(TokenError::Field(TokenField::Revision))
        );
    }

    proptest! {
        #[test]
        fn varint_agrees_with_the_reader(bytes in proptest::collection::vec(any::<u8>(), 0..12)) {
            let mut r = Reader { bytes: &bytes, at: 0 };
            let theirs = r.varint(TokenField::Revision).map(|v| (v, r.at));
            let mut ours = Fields { rest: &bytes };
            prop_assert_eq!(ours.varint(TokenField::Revision).map(|v| (v, bytes.len() - ours.rest.len())), theirs);
        }

        #[test]
        fn decode_payload_agrees_with_the_reader(
            state in any_state(),
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..3),
            cut in 0usize..4,
            extra in proptest::collection::vec(any::<u8>(), 0..3),
        ) {
            let mut bytes = raw(&state);
            prop_assert_eq!(payload(&bytes), Ok(state));
            for (at, b) in edits {
                let i = at % bytes.len();
                bytes[i] = b;
            }
            bytes.truncate(bytes.len() - cut);
            bytes.extend(extra);
            prop_assert_eq!(payload(&bytes), reference(&bytes));
        }

        #[test]
        fn decode_payload_agrees_with_the_reader_on_any_bytes(
            bytes in proptest::collection::vec(any::<u8>(), 0..=MAX_PAYLOAD),
        ) {
            prop_assert_eq!(payload(&bytes), reference(&bytes));
        }

        /// The server's one-pass decoder agrees with `decode` on what it accepts, signature
        /// check included, and accepts every well-formed token that a cookie-pair ends.
        #[test]
        fn decode_prefix_agrees_with_decode(
            state in any_state(),
            signed in any::<bool>(),
            edit in proptest::option::of((any::<usize>(), proptest::sample::select(b"AQgw_-9.;= \"\\x1".to_vec()))),
            suffix in "([;, \"=.]|[A-Za-z0-9_-])?.{0,6}",
        ) {
            let key = key();
            let token = if signed { Token::signed(state, &key) } else { Token::unsigned(state) };
            let original = token.to_string().into_bytes();
            let mut s = original.clone();
            if let Some((at, b)) = edit {
                let i = at % s.len();
                s[i] = b;
            }
            let unedited = s == original;
            let ends_the_pair = matches!(suffix.as_bytes().first(), None | Some(b';' | b',' | b' ' | b'"' | b'='));
            s.extend_from_slice(suffix.as_bytes());
            match decode_prefix(&s) {
                Some((prefix, signed_len, len)) => {
                    let whole = decode(&s[..len], None).map(|d| d.token);
                    prop_assert_eq!(whole, Ok(prefix));
                    prop_assert_eq!(signed_len, if prefix.is_signed() { len - 1 - TAG_B64_LEN } else { len });
                    for key in [None, Some(&key)] {
                        let checked = check_signature(prefix.tag.as_ref(), &s[..signed_len], key);
                        prop_assert_eq!(checked.map(|()| prefix), decode(&s[..len], key).map(|d| d.token));
                    }
                    if unedited {
                        prop_assert_eq!(prefix, token);
                    }
                }
                None => prop_assert!(!(unedited && ends_the_pair), "{}", String::from_utf8_lossy(&s)),
            }
        }
    }

    #[test]
    fn debug_hides_the_key() {
        assert_eq!(format!("{:?}", key()), "SigningKey(..)");
        assert_eq!(SigningKey::new(&[0; 31]).map(|_| ()), Err(KeyTooShort));
    }
}
