//! Contacts: an e-mail address or phone number normalised into a [`Contact`], and the keyed
//! hash of it ([`ContactHash`], under a [`ContactKey`]) that is all the log keeps.

use crate::prelude::*;
use core::fmt;
use core::str::FromStr;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::digest::Digest;
use crate::state::serde_via_str;

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
    /// A number written with the country code keeps no trunk `0`: one in parentheses
    /// (`+358 (0)40 ...`, `+44 (0)20 ...`, as cards print numbers) is left out, and so is a
    /// `0` right after Finland's `358` (`+358 040 ...`), which no Finnish number has there.
    /// Otherwise one customer would be two contacts, and an objection recorded under one
    /// writing would not stop marketing under the other.
    ///
    /// # Errors
    /// [`ContactError`] for letters, a number without a country code or trunk `0`, or a
    /// length E.164 does not allow.
    pub fn phone(input: &str) -> Result<Self, ContactError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(ContactError::Empty);
        }
        let with_country = s.starts_with('+') || s.starts_with("00");
        let mut digits = String::with_capacity(16);
        let mut skip_to = 0;
        for (at, c) in s.char_indices() {
            match c {
                _ if at < skip_to => {}
                '(' if with_country && s.get(at..).is_some_and(|r| r.starts_with("(0)")) => {
                    skip_to = at + 3;
                }
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
        // Every 0 there, so that the normal form reads back as itself.
        let international = match international.strip_prefix("3580") {
            Some(rest) => format!("358{}", rest.trim_start_matches('0')),
            None => international,
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A contact's hash under a fixed key, for the register's tests.
    pub(crate) fn hash(s: &str) -> ContactHash {
        let key = ContactKey::new(&[9; 32]).unwrap();
        key.hash(&Contact::parse(s).unwrap())
    }

    #[test]
    fn contacts_normalise() {
        let c = |s: &str| Contact::parse(s).map(|c| c.as_str().to_owned());
        assert_eq!(c(" A.B+x@Example.FI\n"), Ok("a.b+x@example.fi".into()));
        assert_eq!(c("+358 40 123 4567"), Ok("+358401234567".into()));
        // The trunk 0 of a number written with its country code.
        for same in [
            "+358 (0)40 123 4567",
            "+358(0)401234567",
            "00358 (0)40 123 4567",
            "+358 040 123 4567",
            "(0)40 123 4567",
        ] {
            assert_eq!(c(same), Ok("+358401234567".into()), "{same}");
        }
        assert_eq!(c("+44 (0)20 7946 0000"), Ok("+442079460000".into()));
        assert_eq!(c("+358 00 40 123 4567"), Ok("+358401234567".into()));
        // Italy keeps its 0 after the country code, written without parentheses.
        assert_eq!(c("+39 06 1234 5678"), Ok("+390612345678".into()));
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
    fn contact_hash_round_trips() {
        let h = hash("0401234567");
        assert_eq!(h.to_string().parse::<ContactHash>(), Ok(h));
        assert_eq!(ContactHash::from_bytes(&h.to_bytes()), Some(h));
        assert_eq!(ContactHash::from_bytes(&[2; 33]), None);
        assert!(h.to_string().starts_with("phone:"));
    }
}
