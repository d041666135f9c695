//! The clinic's customer register: direct-marketing consents, refusals, withdrawals and
//! objections per customer and channel, and whether a customer may be marketed to.
//!
//! A [`MarketingRecord`] is what the log keeps of one decision. It never holds the contact in
//! clear: callers normalise an e-mail address or phone number into a [`Contact`] and hash it
//! with the server's [`ContactKey`] (HMAC-SHA-256) into a [`ContactHash`], so the log proves
//! decisions without becoming a second customer database.
//!
//! ```
//! use consent_core::register::{
//!     Contact, ContactKey, MarketingChannel, MarketingKind, MarketingRecord, Staff, may_market,
//! };
//! use consent_core::Channel;
//! use time::macros::datetime;
//!
//! let key = ContactKey::new(&[7; 32])?;
//! let contact = key.hash(&Contact::parse(" Maija.Meikalainen@Example.FI ")?);
//! let signed_up = MarketingRecord::new(
//!     contact, MarketingChannel::Email, MarketingKind::Consent,
//!     datetime!(2026-11-01 10:00 UTC), Channel::WebForm, None,
//! )?;
//! let objected = MarketingRecord::new(
//!     contact, MarketingChannel::Email, MarketingKind::Objection,
//!     datetime!(2026-11-10 09:30 UTC), Channel::Phone, Some("reception-2".parse::<Staff>()?),
//! )?;
//! let answer = may_market(&[signed_up, objected], MarketingChannel::Email, datetime!(2026-11-22 0:00 UTC));
//! assert!(!answer.allowed());
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```
//!
//! # Rules
//!
//! [`may_market`] folds a contact's decisions on one channel, oldest first, into a
//! [`MarketingStatus`] ([`MarketingStatus::after`]):
//!
//! 1. No decision: no. Marketing by e-mail and SMS needs prior consent (Information Society
//!    Code 917/2014 s. 200); the register answers only from what it holds.
//! 2. A consent: yes, until a later refusal, withdrawal or objection.
//! 3. A soft opt-in (an existing customer's contact collected with a chance to refuse, s. 200
//!    (2)): yes, but only if nothing was refused, withdrawn or objected before it. A soft opt-in
//!    never overrides a refusal, a withdrawal or an objection, and never downgrades a consent.
//! 4. A refusal, a withdrawal or an objection (GDPR art. 21(3)): no, until a later explicit
//!    consent.
//! 5. A suppression (written when the customer's data are erased): no, until a later explicit
//!    consent.
//! 6. Decisions dated after `now` are not in force yet and are skipped.
//!
//! Caveats:
//! - Postal direct marketing to someone with no decision is allowed by Finnish law unless the
//!   person forbade it; the register still answers no (rule 1). A clinic that markets by post
//!   to customers without a decision does so on its own assessment.
//! - The register answers for one contact. A customer known by both an e-mail address and a
//!   phone number has two contacts; an objection recorded under one does not reach the other.

use crate::prelude::*;
use core::fmt;
use core::str::FromStr;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::digest::Digest;
use crate::record::{Channel, rfc3339};
use crate::state::serde_via_str;

/// A direct-marketing channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MarketingChannel {
    /// E-mail newsletters and offers.
    Email,
    /// Text messages.
    Sms,
    /// Letters and printed mail.
    Post,
}

impl MarketingChannel {
    /// Every channel.
    pub const ALL: [MarketingChannel; 3] = [
        MarketingChannel::Email,
        MarketingChannel::Sms,
        MarketingChannel::Post,
    ];

    /// The lowercase name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            MarketingChannel::Email => "email",
            MarketingChannel::Sms => "sms",
            MarketingChannel::Post => "post",
        }
    }

    const fn code(self) -> u8 {
        match self {
            MarketingChannel::Email => 0,
            MarketingChannel::Sms => 1,
            MarketingChannel::Post => 2,
        }
    }

    /// Whether a contact of this kind can be reached on this channel: e-mail needs an address,
    /// SMS a phone number; post takes either as the customer's identifier.
    #[must_use]
    pub const fn accepts(self, kind: ContactKind) -> bool {
        match (self, kind) {
            (MarketingChannel::Email, ContactKind::Email)
            | (MarketingChannel::Sms, ContactKind::Phone)
            | (MarketingChannel::Post, ContactKind::Email | ContactKind::Phone) => true,
            (MarketingChannel::Email, ContactKind::Phone)
            | (MarketingChannel::Sms, ContactKind::Email) => false,
        }
    }
}

impl fmt::Display for MarketingChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for an unknown marketing channel name.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseMarketingChannelError;

impl fmt::Display for ParseMarketingChannelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown marketing channel: expected email, sms or post")
    }
}

impl core::error::Error for ParseMarketingChannelError {}

impl FromStr for MarketingChannel {
    type Err = ParseMarketingChannelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MarketingChannel::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or(ParseMarketingChannelError)
    }
}

serde_via_str!(MarketingChannel);

/// What the customer decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MarketingKind {
    /// Explicit consent (an unticked box ticked, a clear yes by phone).
    Consent,
    /// Asked and said no.
    Refusal,
    /// Took back an earlier consent.
    Withdrawal,
    /// Forbade direct marketing (GDPR art. 21(2)-(3)).
    Objection,
    /// An existing customer's contact collected for marketing of similar services, with a
    /// clear and free chance to refuse (Information Society Code s. 200(2)).
    SoftOptIn,
    /// The customer's data were erased: never market to this contact again without a new
    /// consent. Written by the register, not given by the customer.
    Suppression,
}

impl MarketingKind {
    /// Every kind.
    pub const ALL: [MarketingKind; 6] = [
        MarketingKind::Consent,
        MarketingKind::Refusal,
        MarketingKind::Withdrawal,
        MarketingKind::Objection,
        MarketingKind::SoftOptIn,
        MarketingKind::Suppression,
    ];

    /// The snake_case name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            MarketingKind::Consent => "consent",
            MarketingKind::Refusal => "refusal",
            MarketingKind::Withdrawal => "withdrawal",
            MarketingKind::Objection => "objection",
            MarketingKind::SoftOptIn => "soft_opt_in",
            MarketingKind::Suppression => "suppression",
        }
    }

    const fn code(self) -> u8 {
        match self {
            MarketingKind::Consent => 0,
            MarketingKind::Refusal => 1,
            MarketingKind::Withdrawal => 2,
            MarketingKind::Objection => 3,
            MarketingKind::SoftOptIn => 4,
            MarketingKind::Suppression => 5,
        }
    }
}

impl fmt::Display for MarketingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for an unknown decision kind.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseMarketingKindError;

impl fmt::Display for ParseMarketingKindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "unknown decision: expected consent, refusal, withdrawal, objection, soft_opt_in or suppression",
        )
    }
}

impl core::error::Error for ParseMarketingKindError {}

impl FromStr for MarketingKind {
    type Err = ParseMarketingKindError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MarketingKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(ParseMarketingKindError)
    }
}

serde_via_str!(MarketingKind);

/// Whether a contact is an e-mail address or a phone number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContactKind {
    /// An e-mail address.
    Email,
    /// A phone number.
    Phone,
}

impl ContactKind {
    /// The lowercase name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            ContactKind::Email => "email",
            ContactKind::Phone => "phone",
        }
    }

    /// The noun with its article, for messages: "an e-mail address", "a phone number".
    #[must_use]
    pub const fn described(self) -> &'static str {
        match self {
            ContactKind::Email => "an e-mail address",
            ContactKind::Phone => "a phone number",
        }
    }

    const fn code(self) -> u8 {
        match self {
            ContactKind::Email => 0,
            ContactKind::Phone => 1,
        }
    }
}

impl fmt::Display for ContactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a contact was refused. Offsets are bytes into the input after trimming.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContactError {
    /// Nothing but whitespace.
    Empty,
    /// Letters without an `@`: neither an e-mail address nor a phone number.
    Unrecognised,
    /// An e-mail address without exactly one `@`.
    EmailAt,
    /// An e-mail address over 254 bytes, or a local part over 64.
    EmailTooLong,
    /// A character an e-mail address cannot hold, at this byte offset.
    EmailChar(usize),
    /// An empty local part, or dots at its start, end or side by side.
    EmailLocal,
    /// A domain that is not dot-separated labels of letters, digits and hyphens with a dot.
    EmailDomain,
    /// A character a phone number cannot hold, at this byte offset.
    PhoneChar(usize),
    /// A phone number that starts with neither `+`, `00` nor a Finnish trunk `0`.
    PhonePrefix,
    /// A phone number with this many digits (E.164 allows 8 to 15 with the country code).
    PhoneLength(usize),
}

impl fmt::Display for ContactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContactError::Empty => f.write_str("contact: empty"),
            ContactError::Unrecognised => {
                f.write_str("contact: neither an e-mail address (no @) nor a phone number")
            }
            ContactError::EmailAt => f.write_str("e-mail address: expected exactly one @"),
            ContactError::EmailTooLong => f.write_str(
                "e-mail address: longer than 254 bytes, or more than 64 before the @",
            ),
            ContactError::EmailChar(at) => {
                write!(f, "e-mail address: character not allowed at byte {at}")
            }
            ContactError::EmailLocal => f.write_str(
                "e-mail address: the part before the @ is empty or has a misplaced dot",
            ),
            ContactError::EmailDomain => f.write_str(
                "e-mail address: the domain must be labels of letters, digits and hyphens joined by dots",
            ),
            ContactError::PhoneChar(at) => {
                write!(f, "phone number: character not allowed at byte {at}")
            }
            ContactError::PhonePrefix => f.write_str(
                "phone number: start with + and the country code, 00, or a Finnish 0",
            ),
            ContactError::PhoneLength(n) => write!(
                f,
                "phone number: {n} digits with the country code, expected 8 to 15"
            ),
        }
    }
}

impl core::error::Error for ContactError {}

/// A normalised e-mail address or phone number, in clear. Hash it with a [`ContactKey`]
/// before storing anything.
///
/// E-mail addresses are trimmed and lowercased (the local part too: no mail system a clinic
/// uses tells `Maija@` from `maija@`, and a customer who typed both is one customer). Phone
/// numbers lose spaces, hyphens, dots and parentheses and become `+` and digits; `00` is read
/// as `+` and a leading `0` as Finland's `+358`.
///
/// `Debug` never shows the contact.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Contact {
    kind: ContactKind,
    normalized: Box<str>,
}

impl Contact {
    /// An e-mail address or, without an `@`, a phone number.
    ///
    /// # Errors
    /// [`ContactError`] naming what is wrong and where.
    ///
    /// # Example
    /// ```
    /// use consent_core::register::Contact;
    /// assert_eq!(Contact::parse("040 123 4567")?.as_str(), "+358401234567");
    /// assert_eq!(Contact::parse(" Maija@Klinikka.FI")?.as_str(), "maija@klinikka.fi");
    /// # Ok::<(), consent_core::register::ContactError>(())
    /// ```
    pub fn parse(input: &str) -> Result<Self, ContactError> {
        if input.contains('@') {
            Self::email(input)
        } else if input.chars().any(char::is_alphabetic) {
            Err(ContactError::Unrecognised)
        } else {
            Self::phone(input)
        }
    }

    /// An e-mail address.
    ///
    /// # Errors
    /// [`ContactError`] for anything but `local@domain.tld` in ASCII (international domains in
    /// their `xn--` form).
    pub fn email(input: &str) -> Result<Self, ContactError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(ContactError::Empty);
        }
        if s.len() > 254 {
            return Err(ContactError::EmailTooLong);
        }
        if let Some(at) = s.bytes().position(|b| !is_email_byte(b)) {
            return Err(ContactError::EmailChar(at));
        }
        let (local, domain) = s.split_once('@').ok_or(ContactError::EmailAt)?;
        if domain.contains('@') {
            return Err(ContactError::EmailAt);
        }
        if local.len() > 64 {
            return Err(ContactError::EmailTooLong);
        }
        if local.is_empty()
            || local.starts_with('.')
            || local.ends_with('.')
            || local.contains("..")
        {
            return Err(ContactError::EmailLocal);
        }
        let labels_ok = domain.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
        if !labels_ok || !domain.contains('.') {
            return Err(ContactError::EmailDomain);
        }
        Ok(Self {
            kind: ContactKind::Email,
            normalized: s.to_ascii_lowercase().into(),
        })
    }

    /// A phone number, as `+` and 8 to 15 digits.
    ///
    /// # Errors
    /// [`ContactError`] for letters, a number without a country code or trunk `0`, or a
    /// length E.164 does not allow.
    pub fn phone(input: &str) -> Result<Self, ContactError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(ContactError::Empty);
        }
        let mut digits = String::with_capacity(16);
        for (at, c) in s.char_indices() {
            match c {
                '0'..='9' => digits.push(c),
                '+' if at == 0 => {}
                ' ' | '-' | '.' | '(' | ')' | '/' => {}
                _ => return Err(ContactError::PhoneChar(at)),
            }
        }
        let international = if s.starts_with('+') {
            digits
        } else if let Some(rest) = digits.strip_prefix("00") {
            rest.to_owned()
        } else if let Some(rest) = digits.strip_prefix('0') {
            format!("358{rest}")
        } else {
            return Err(ContactError::PhonePrefix);
        };
        if international.starts_with('0') {
            return Err(ContactError::PhonePrefix);
        }
        if !(8..=15).contains(&international.len()) {
            return Err(ContactError::PhoneLength(international.len()));
        }
        Ok(Self {
            kind: ContactKind::Phone,
            normalized: format!("+{international}").into(),
        })
    }

    /// Whether this is an e-mail address or a phone number.
    #[must_use]
    pub fn kind(&self) -> ContactKind {
        self.kind
    }

    /// The normalised contact.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.normalized
    }
}

fn is_email_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"@.!#$%&'*+/=?^_`{|}~-".contains(&b)
}

impl fmt::Debug for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Contact({}, ..)", self.kind)
    }
}

impl FromStr for Contact {
    type Err = ContactError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The secret that turns contacts into [`ContactHash`]es: HMAC-SHA-256, 32 bytes or more.
///
/// Without the key nobody can tell which contact a hash stands for, not even by hashing a
/// list of guessed addresses. `Debug` never shows it.
#[derive(Clone)]
pub struct ContactKey(Hmac<Sha256>);

/// The error for a contact key under 32 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ContactKeyTooShort;

impl fmt::Display for ContactKeyTooShort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("contact key: need at least 32 bytes")
    }
}

impl core::error::Error for ContactKeyTooShort {}

impl ContactKey {
    /// A key from secret bytes.
    ///
    /// # Errors
    /// [`ContactKeyTooShort`] under 32 bytes.
    pub fn new(secret: &[u8]) -> Result<Self, ContactKeyTooShort> {
        if secret.len() < 32 {
            return Err(ContactKeyTooShort);
        }
        <Hmac<Sha256> as Mac>::new_from_slice(secret)
            .map(Self)
            .map_err(|_| ContactKeyTooShort)
    }

    /// The keyed hash of a contact, domain-separated from every other MAC made with the same
    /// secret.
    #[must_use]
    pub fn hash(&self, contact: &Contact) -> ContactHash {
        let mut mac = self.0.clone();
        mac.update(b"consent-contact-v1\0");
        mac.update(&[contact.kind.code()]);
        mac.update(contact.normalized.as_bytes());
        ContactHash {
            kind: contact.kind,
            mac: mac.finalize().into_bytes().into(),
        }
    }
}

impl fmt::Debug for ContactKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContactKey(..)")
    }
}

/// A contact as the log keeps it: its kind and its HMAC under the [`ContactKey`].
///
/// Printed as `email:` or `phone:` and 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContactHash {
    kind: ContactKind,
    mac: [u8; 32],
}

impl PartialOrd for ContactKind {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ContactKind {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.code().cmp(&other.code())
    }
}

impl ContactHash {
    /// A hash from its parts, as a store read them back.
    #[must_use]
    pub const fn from_parts(kind: ContactKind, mac: [u8; 32]) -> Self {
        Self { kind, mac }
    }

    /// The kind of contact hashed.
    #[must_use]
    pub const fn kind(&self) -> ContactKind {
        self.kind
    }

    /// The 32 bytes of the MAC.
    #[must_use]
    pub const fn mac(&self) -> &[u8; 32] {
        &self.mac
    }

    /// The 33 bytes a store indexes: the kind's code, then the MAC.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; 33] {
        let mut out = [0u8; 33];
        out[0] = self.kind.code();
        out[1..].copy_from_slice(&self.mac);
        out
    }

    /// The hash from [`to_bytes`](Self::to_bytes), or `None` for anything else.
    #[must_use]
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let (&code, mac) = bytes.split_first()?;
        let kind = match code {
            0 => ContactKind::Email,
            1 => ContactKind::Phone,
            _ => return None,
        };
        Some(Self {
            kind,
            mac: mac.try_into().ok()?,
        })
    }
}

impl fmt::Display for ContactHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, Digest::from_bytes(self.mac))
    }
}

impl fmt::Debug for ContactHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContactHash({self})")
    }
}

/// The error for text that is not a printed [`ContactHash`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseContactHashError;

impl fmt::Display for ParseContactHashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid contact hash: expected email: or phone: and 64 lowercase hex digits")
    }
}

impl core::error::Error for ParseContactHashError {}

impl FromStr for ContactHash {
    type Err = ParseContactHashError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, hex) = s.split_once(':').ok_or(ParseContactHashError)?;
        let kind = match kind {
            "email" => ContactKind::Email,
            "phone" => ContactKind::Phone,
            _ => return Err(ParseContactHashError),
        };
        let mac = hex.parse::<Digest>().map_err(|_| ParseContactHashError)?;
        Ok(Self {
            kind,
            mac: *mac.as_bytes(),
        })
    }
}

serde_via_str!(ContactHash);

/// Who on the staff recorded a decision: a login name or staff number, 1 to 64 bytes of
/// letters, digits and `.`, `_`, `-`, `@`. Never the customer.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Staff(Box<str>);

/// The error for an invalid staff id.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StaffError;

impl fmt::Display for StaffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("staff id: expected 1 to 64 letters, digits, '.', '_', '-' or '@'")
    }
}

impl core::error::Error for StaffError {}

impl Staff {
    /// The id.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Staff {
    type Err = StaffError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-_@".contains(&b));
        if ok {
            Ok(Self(s.into()))
        } else {
            Err(StaffError)
        }
    }
}

impl fmt::Display for Staff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Staff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Staff({})", self.0)
    }
}

serde_via_str!(Staff);

/// Why a marketing record cannot be made.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MarketingError {
    /// The contact cannot be reached on the channel (an SMS decision for an e-mail address).
    ContactChannel {
        /// The contact's kind.
        contact: ContactKind,
        /// The channel.
        channel: MarketingChannel,
    },
    /// Recorded through the cookie banner, which never asks about direct marketing.
    Banner,
    /// Given by phone, at the front desk or by e-mail, without the staff member who recorded it.
    StaffMissing(Channel),
    /// Given on the web form, yet with a staff member: the customer filled it in.
    StaffNotExpected,
    /// A time RFC 3339 cannot hold (outside the years 0-9999).
    Time,
}

impl fmt::Display for MarketingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MarketingError::ContactChannel { contact, channel } => write!(
                f,
                "channel: {} cannot be marketed to by {channel}",
                contact.described()
            ),
            MarketingError::Banner => {
                f.write_str("via: the cookie banner does not record marketing decisions")
            }
            MarketingError::StaffMissing(via) => {
                write!(
                    f,
                    "staff: a decision given by {via} needs the staff id who recorded it"
                )
            }
            MarketingError::StaffNotExpected => {
                f.write_str("staff: a web form decision is the customer's own, without staff")
            }
            MarketingError::Time => f.write_str("time: outside the years 0-9999"),
        }
    }
}

impl core::error::Error for MarketingError {}

/// One marketing decision as the log keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MarketingRecord {
    contact: ContactHash,
    channel: MarketingChannel,
    kind: MarketingKind,
    #[serde(with = "rfc3339")]
    time: OffsetDateTime,
    via: Channel,
    #[serde(skip_serializing_if = "Option::is_none")]
    staff: Option<Staff>,
}

/// The JSON form, checked by [`MarketingRecord::new`] when read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMarketingRecord {
    contact: ContactHash,
    channel: MarketingChannel,
    kind: MarketingKind,
    #[serde(with = "rfc3339")]
    time: OffsetDateTime,
    via: Channel,
    #[serde(default)]
    staff: Option<Staff>,
}

impl<'de> Deserialize<'de> for MarketingRecord {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawMarketingRecord::deserialize(d)?;
        let record = MarketingRecord::new(
            raw.contact,
            raw.channel,
            raw.kind,
            raw.time,
            raw.via,
            raw.staff,
        )
        .map_err(serde::de::Error::custom)?;
        // A stored record whose time had a fraction would not hash as it was written.
        if record.time != raw.time {
            return Err(serde::de::Error::custom(
                "time: a marketing record holds whole seconds in UTC",
            ));
        }
        Ok(record)
    }
}

impl MarketingRecord {
    /// A decision. `time` is kept in whole seconds, UTC.
    ///
    /// # Errors
    /// [`MarketingError`] when the contact does not fit the channel, the decision came
    /// through the banner, or the staff member is missing (phone, front desk, e-mail) or
    /// present on a web form decision.
    pub fn new(
        contact: ContactHash,
        channel: MarketingChannel,
        kind: MarketingKind,
        time: OffsetDateTime,
        via: Channel,
        staff: Option<Staff>,
    ) -> Result<Self, MarketingError> {
        if !channel.accepts(contact.kind) {
            return Err(MarketingError::ContactChannel {
                contact: contact.kind,
                channel,
            });
        }
        match (via, &staff) {
            (Channel::Banner, _) => return Err(MarketingError::Banner),
            (Channel::WebForm, Some(_)) => return Err(MarketingError::StaffNotExpected),
            (Channel::Phone | Channel::FrontDesk | Channel::Email, None) => {
                return Err(MarketingError::StaffMissing(via));
            }
            (Channel::WebForm, None)
            | (Channel::Phone | Channel::FrontDesk | Channel::Email, Some(_)) => {}
        }
        let time = time
            .to_offset(time::UtcOffset::UTC)
            .replace_nanosecond(0)
            .map_err(|_| MarketingError::Time)?;
        if rfc3339::format(&time).is_none() {
            return Err(MarketingError::Time);
        }
        Ok(Self {
            contact,
            channel,
            kind,
            time,
            via,
            staff,
        })
    }

    /// The contact's keyed hash.
    #[must_use]
    pub fn contact(&self) -> ContactHash {
        self.contact
    }
    /// The channel decided on.
    #[must_use]
    pub fn channel(&self) -> MarketingChannel {
        self.channel
    }
    /// What was decided.
    #[must_use]
    pub fn kind(&self) -> MarketingKind {
        self.kind
    }
    /// When (UTC, whole seconds).
    #[must_use]
    pub fn time(&self) -> OffsetDateTime {
        self.time
    }
    /// How it was given.
    #[must_use]
    pub fn via(&self) -> Channel {
        self.via
    }
    /// The staff member who recorded it, if not the customer on the web form.
    #[must_use]
    pub fn staff(&self) -> Option<&Staff> {
        self.staff.as_ref()
    }

    /// The canonical encoding: tag `CMR1`, then fixed-order fields, big-endian integers and a
    /// length-prefixed staff id. It starts differently from a cookie record's `CDR1`, so no
    /// byte string is both.
    #[must_use]
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(96);
        out.extend_from_slice(b"CMR1");
        out.extend_from_slice(&self.contact.to_bytes());
        out.push(self.channel.code());
        out.push(self.kind.code());
        out.extend_from_slice(&self.time.unix_timestamp().to_be_bytes());
        out.push(self.via.code());
        let staff = self.staff.as_ref().map_or("", Staff::as_str);
        // At most 64 bytes.
        out.push(staff.len() as u8);
        out.extend_from_slice(staff.as_bytes());
        out
    }

    /// SHA-256 of the canonical bytes under its own domain tag, distinct from
    /// [`DecisionRecord::digest`](crate::DecisionRecord::digest)'s: what the chain links.
    #[must_use]
    pub fn digest(&self) -> Digest {
        let mut h = Sha256::new();
        h.update(b"consent-marketing-v1\0");
        h.update(self.canonical_bytes());
        Digest::from_bytes(h.finalize().into())
    }
}

/// Where a contact stands on one channel after its decisions ([`MarketingStatus::after`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MarketingStatus {
    /// Explicit consent in force.
    Consented,
    /// Soft opt-in in force.
    SoftOptIn,
    /// Refused.
    Refused,
    /// Consent withdrawn.
    Withdrawn,
    /// Objected to direct marketing.
    Objected,
    /// Erased and suppressed.
    Suppressed,
}

impl MarketingStatus {
    /// Every status.
    pub const ALL: [MarketingStatus; 6] = [
        MarketingStatus::Consented,
        MarketingStatus::SoftOptIn,
        MarketingStatus::Refused,
        MarketingStatus::Withdrawn,
        MarketingStatus::Objected,
        MarketingStatus::Suppressed,
    ];

    /// The status after `kind`, from `before` (`None`: no decision yet). The rules are the
    /// module's.
    #[must_use]
    pub const fn after(before: Option<MarketingStatus>, kind: MarketingKind) -> MarketingStatus {
        match kind {
            MarketingKind::Consent => MarketingStatus::Consented,
            MarketingKind::Refusal => MarketingStatus::Refused,
            MarketingKind::Withdrawal => MarketingStatus::Withdrawn,
            MarketingKind::Objection => MarketingStatus::Objected,
            MarketingKind::Suppression => MarketingStatus::Suppressed,
            MarketingKind::SoftOptIn => match before {
                None | Some(MarketingStatus::SoftOptIn) => MarketingStatus::SoftOptIn,
                Some(kept) => kept,
            },
        }
    }

    /// Whether marketing is allowed in this status.
    #[must_use]
    pub const fn allows(self) -> bool {
        match self {
            MarketingStatus::Consented | MarketingStatus::SoftOptIn => true,
            MarketingStatus::Refused
            | MarketingStatus::Withdrawn
            | MarketingStatus::Objected
            | MarketingStatus::Suppressed => false,
        }
    }

    /// The snake_case name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            MarketingStatus::Consented => "consented",
            MarketingStatus::SoftOptIn => "soft_opt_in",
            MarketingStatus::Refused => "refused",
            MarketingStatus::Withdrawn => "withdrawn",
            MarketingStatus::Objected => "objected",
            MarketingStatus::Suppressed => "suppressed",
        }
    }
}

impl fmt::Display for MarketingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for an unknown status name.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseMarketingStatusError;

impl fmt::Display for ParseMarketingStatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown marketing status")
    }
}

impl core::error::Error for ParseMarketingStatusError {}

impl FromStr for MarketingStatus {
    type Err = ParseMarketingStatusError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MarketingStatus::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(ParseMarketingStatusError)
    }
}

serde_via_str!(MarketingStatus);

/// The answer of [`may_market`]: yes or no, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MayMarket {
    status: Option<MarketingStatus>,
    since: Option<OffsetDateTime>,
}

impl MayMarket {
    /// The answer for a status reached at `since`; `None` for no decision.
    #[must_use]
    pub const fn from_status(status: Option<(MarketingStatus, OffsetDateTime)>) -> Self {
        match status {
            Some((s, t)) => Self {
                status: Some(s),
                since: Some(t),
            },
            None => Self {
                status: None,
                since: None,
            },
        }
    }

    /// Whether the contact may be marketed to on the channel.
    #[must_use]
    pub const fn allowed(&self) -> bool {
        match self.status {
            Some(s) => s.allows(),
            None => false,
        }
    }

    /// The status the answer comes from; `None` when nothing was decided.
    #[must_use]
    pub const fn status(&self) -> Option<MarketingStatus> {
        self.status
    }

    /// When the decision that set the status was made.
    #[must_use]
    pub const fn since(&self) -> Option<OffsetDateTime> {
        self.since
    }
}

/// Whether a contact may be marketed to on `channel` at `now`, from its decisions in log
/// order (oldest first; any contact's, others are skipped). The rules are the module's.
#[must_use]
pub fn may_market<'a>(
    history: impl IntoIterator<Item = &'a MarketingRecord>,
    channel: MarketingChannel,
    now: OffsetDateTime,
) -> MayMarket {
    let mut contact = None;
    let mut state: Option<(MarketingStatus, OffsetDateTime)> = None;
    for r in history {
        if r.channel != channel || r.time > now || *contact.get_or_insert(r.contact) != r.contact {
            continue;
        }
        let next = MarketingStatus::after(state.map(|(s, _)| s), r.kind);
        if state.map(|(s, _)| s) != Some(next) {
            state = Some((next, r.time));
        }
    }
    MayMarket::from_status(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    fn hash(s: &str) -> ContactHash {
        let key = ContactKey::new(&[9; 32]).unwrap();
        key.hash(&Contact::parse(s).unwrap())
    }

    fn rec(kind: MarketingKind, day: u8) -> MarketingRecord {
        let time = datetime!(2026-11-01 12:00 UTC) + time::Duration::days(i64::from(day));
        MarketingRecord::new(
            hash("a@b.fi"),
            MarketingChannel::Email,
            kind,
            time,
            Channel::WebForm,
            None,
        )
        .unwrap()
    }

    const NOW: OffsetDateTime = datetime!(2027-01-01 0:00 UTC);

    fn answer(kinds: &[MarketingKind]) -> bool {
        let history: Vec<_> = kinds
            .iter()
            .enumerate()
            .map(|(i, k)| rec(*k, i as u8))
            .collect();
        may_market(&history, MarketingChannel::Email, NOW).allowed()
    }

    use MarketingKind::*;

    #[test]
    fn nothing_decided_is_no() {
        assert!(!answer(&[]));
        assert_eq!(may_market(&[], MarketingChannel::Post, NOW).status(), None);
    }

    #[test]
    fn consent_is_yes_until_taken_back() {
        assert!(answer(&[Consent]));
        assert!(!answer(&[Consent, Withdrawal]));
        assert!(!answer(&[Consent, Refusal]));
        assert!(!answer(&[Consent, Objection]));
        assert!(answer(&[Consent, Withdrawal, Consent]));
    }

    #[test]
    fn objection_is_final_until_new_consent() {
        assert!(!answer(&[Objection, SoftOptIn]));
        assert!(!answer(&[Objection, SoftOptIn, SoftOptIn]));
        assert!(answer(&[Objection, Consent]));
    }

    #[test]
    fn soft_opt_in_never_overrides_a_no() {
        assert!(answer(&[SoftOptIn]));
        assert!(!answer(&[Refusal, SoftOptIn]));
        assert!(!answer(&[Withdrawal, SoftOptIn]));
        assert!(!answer(&[Suppression, SoftOptIn]));
        // Nor downgrades a consent.
        let h = [rec(Consent, 0), rec(SoftOptIn, 1)];
        let a = may_market(&h, MarketingChannel::Email, NOW);
        assert_eq!(a.status(), Some(MarketingStatus::Consented));
        assert_eq!(a.since(), Some(h[0].time()));
    }

    #[test]
    fn other_channels_contacts_and_the_future_do_not_count() {
        let h = [rec(Consent, 0)];
        assert!(!may_market(&h, MarketingChannel::Post, NOW).allowed());
        assert!(
            !may_market(
                &h,
                MarketingChannel::Email,
                h[0].time() - time::Duration::SECOND
            )
            .allowed()
        );
        assert!(may_market(&h, MarketingChannel::Email, h[0].time()).allowed());
    }

    #[test]
    fn contacts_normalise() {
        let c = |s: &str| Contact::parse(s).map(|c| c.as_str().to_owned());
        assert_eq!(c(" A.B+x@Example.FI\n"), Ok("a.b+x@example.fi".into()));
        assert_eq!(c("+358 40 123 4567"), Ok("+358401234567".into()));
        assert_eq!(c("(09) 123-456"), Ok("+3589123456".into()));
        assert_eq!(c("0046 70 123 45 67"), Ok("+46701234567".into()));
        assert_eq!(hash("A@B.fi"), hash("a@b.fi "));
        assert_ne!(hash("a@b.fi"), hash("a@b.fi.x"));
    }

    #[test]
    fn bad_contacts_say_what_and_where() {
        let e = |s: &str| Contact::parse(s).err();
        assert_eq!(e("   "), Some(ContactError::Empty));
        assert_eq!(e("a@@b.fi"), Some(ContactError::EmailAt));
        assert_eq!(e("a b@c.fi"), Some(ContactError::EmailChar(1)));
        assert_eq!(e(".a@b.fi"), Some(ContactError::EmailLocal));
        assert_eq!(e("a@localhost"), Some(ContactError::EmailDomain));
        assert_eq!(e("a@-b.fi"), Some(ContactError::EmailDomain));
        assert_eq!(e("040 123x"), Some(ContactError::Unrecognised));
        assert_eq!(
            Contact::phone("040 123x").err(),
            Some(ContactError::PhoneChar(7))
        );
        assert_eq!(e("040 123*"), Some(ContactError::PhoneChar(7)));
        assert_eq!(e("401234567"), Some(ContactError::PhonePrefix));
        assert_eq!(e("+358 40"), Some(ContactError::PhoneLength(5)));
        assert_eq!(
            e("040 123*").map(|e| e.to_string()),
            Some("phone number: character not allowed at byte 7".into())
        );
    }

    #[test]
    fn records_refuse_what_does_not_fit() {
        let t = datetime!(2026-11-01 12:00 UTC);
        let phone = hash("0401234567");
        let staff: Staff = "desk-1".parse().unwrap();
        let new = |c, ch, via, st| MarketingRecord::new(c, ch, Consent, t, via, st);
        assert_eq!(
            new(phone, MarketingChannel::Email, Channel::WebForm, None),
            Err(MarketingError::ContactChannel {
                contact: ContactKind::Phone,
                channel: MarketingChannel::Email
            })
        );
        assert!(new(phone, MarketingChannel::Sms, Channel::WebForm, None).is_ok());
        assert!(new(phone, MarketingChannel::Post, Channel::WebForm, None).is_ok());
        assert_eq!(
            new(phone, MarketingChannel::Sms, Channel::Banner, None),
            Err(MarketingError::Banner)
        );
        assert_eq!(
            new(phone, MarketingChannel::Sms, Channel::Phone, None),
            Err(MarketingError::StaffMissing(Channel::Phone))
        );
        assert_eq!(
            new(
                phone,
                MarketingChannel::Sms,
                Channel::WebForm,
                Some(staff.clone())
            ),
            Err(MarketingError::StaffNotExpected)
        );
        assert!(
            new(
                phone,
                MarketingChannel::Sms,
                Channel::FrontDesk,
                Some(staff)
            )
            .is_ok()
        );
        assert!("".parse::<Staff>().is_err());
        assert!("a b".parse::<Staff>().is_err());
    }

    #[test]
    fn json_round_trips_and_checks() {
        let r = rec(Objection, 3);
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<MarketingRecord>(&json).unwrap(), r);
        let sms = json.replace("\"email\",", "\"sms\",");
        let err = serde_json::from_str::<MarketingRecord>(&sms).unwrap_err();
        assert!(
            err.to_string().contains("cannot be marketed to by sms"),
            "{err}"
        );
        let frac = json.replace(":00Z", ":00.5Z");
        assert!(serde_json::from_str::<MarketingRecord>(&frac).is_err());
    }

    #[test]
    fn digest_is_domain_separated_and_covers_every_field() {
        let r = rec(Consent, 0);
        let mut plain = Sha256::new();
        plain.update(b"consent-record-v1\0");
        plain.update(r.canonical_bytes());
        assert_ne!(Digest::from_bytes(plain.finalize().into()), r.digest());
        assert_ne!(r.digest(), rec(Refusal, 0).digest());
        assert_ne!(r.digest(), rec(Consent, 1).digest());
    }

    #[test]
    fn contact_hash_round_trips() {
        let h = hash("0401234567");
        assert_eq!(h.to_string().parse::<ContactHash>(), Ok(h));
        assert_eq!(ContactHash::from_bytes(&h.to_bytes()), Some(h));
        assert_eq!(ContactHash::from_bytes(&[2; 33]), None);
        assert!(h.to_string().starts_with("phone:"));
    }

    fn kind() -> impl Strategy<Value = MarketingKind> {
        prop::sample::select(MarketingKind::ALL.to_vec())
    }

    proptest! {
        /// Never yes after an objection (or refusal, withdrawal, suppression) without a later
        /// explicit consent.
        #[test]
        fn no_yes_after_a_no_without_later_consent(kinds in prop::collection::vec(kind(), 0..24)) {
            let last_no = kinds.iter().rposition(|k| matches!(k, Objection | Refusal | Withdrawal | Suppression));
            let consent_after = last_no.is_some_and(|i| kinds[i..].contains(&Consent));
            if last_no.is_some() && !consent_after {
                prop_assert!(!answer(&kinds));
            }
            // And a yes always has a consent or a soft opt-in behind it.
            if answer(&kinds) {
                prop_assert!(kinds.iter().any(|k| matches!(k, Consent | SoftOptIn)));
            }
        }

        /// Folding the history step by step (as a store keeps the latest state) gives the
        /// same answer as folding it at once.
        #[test]
        fn incremental_fold_agrees(kinds in prop::collection::vec(kind(), 0..24)) {
            let mut status = None;
            for k in &kinds {
                status = Some(MarketingStatus::after(status, *k));
            }
            prop_assert_eq!(status.is_some_and(MarketingStatus::allows), answer(&kinds));
        }
    }
}
