//! One direct-marketing decision as the log keeps it: whose (a [`ContactHash`]), on which
//! [`MarketingChannel`], what ([`MarketingKind`]), when, how it was given and who on the
//! staff recorded it.

use crate::prelude::*;
use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use super::contact::{ContactHash, ContactKind};
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
    /// Dated before [`EARLIEST`]: a mistyped year or a tool's zero date, not a decision.
    TooEarly,
    /// Marked confirmed by the contact, yet not a consent given on the web form, or
    /// confirmed before it was signed up for.
    Confirmation,
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
            MarketingError::TooEarly => f.write_str(
                "time: before 2000-01-01T00:00:00Z, the earliest a marketing decision may be dated (a mistyped year?)",
            ),
            MarketingError::Confirmation => f.write_str(
                "confirmed: only a consent given on the web form is confirmed by its contact, after the sign-up",
            ),
        }
    }
}

impl core::error::Error for MarketingError {}

/// The earliest time a marketing decision may be dated: 2000-01-01 00:00 UTC.
///
/// A clinic holds no marketing decision from before e-mail and SMS marketing needed consent
/// (Directive 2002/58/EC, in Finland from 2004), so an earlier date is a mistyped year (0025
/// for 2025) or the zero date of the tool that sent it (0001-01-01, 1900-01-01,
/// 1970-01-01). Kept, it sorted before everything the contact decided: a consent of year 1
/// became the proof marketing rested on. A fixed date rather than one counted back from
/// the clock: a decision valid when recorded stays valid, the check needs no clock (this
/// crate reads none), and a genuine paper decision of any age since is taken with its true
/// date. Only [`MarketingRecord::new`] checks it: a log that holds an earlier record from
/// before the rule is still read.
pub const EARLIEST: OffsetDateTime =
    OffsetDateTime::UNIX_EPOCH.saturating_add(time::Duration::days(10_957));

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
    #[serde(skip_serializing_if = "Option::is_none")]
    confirmed: Option<Confirmed>,
}

/// The proof of double opt-in on a web-form consent: the contact opened the link sent to
/// them and confirmed, at the record's time, what the form posted at [`signed_up`](Self::signed_up)
/// asked for. Part of the record's content, so the chain covers it; a record without it is a
/// web-form consent nobody confirmed (the only kind before double opt-in).
///
/// In JSON: `"confirmed": {"signed_up": "2026-11-01T10:00:00Z"}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirmed {
    #[serde(with = "rfc3339")]
    signed_up: OffsetDateTime,
}

impl Confirmed {
    /// When the sign-up form was posted (UTC, whole seconds).
    #[must_use]
    pub fn signed_up(&self) -> OffsetDateTime {
        self.signed_up
    }
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
    #[serde(default)]
    confirmed: Option<Confirmed>,
}

impl<'de> Deserialize<'de> for MarketingRecord {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawMarketingRecord::deserialize(d)?;
        // Not `new`: a record dated before `EARLIEST` was taken before the rule, and the log
        // that holds it must still read and verify.
        let record = MarketingRecord::checked(
            raw.contact,
            raw.channel,
            raw.kind,
            raw.time,
            raw.via,
            raw.staff,
        )
        .map_err(serde::de::Error::custom)?;
        let record = match raw.confirmed {
            Some(c) => record
                .confirmed_by_contact(c.signed_up)
                .map_err(serde::de::Error::custom)?,
            None => record,
        };
        // A stored record whose times had a fraction would not hash as it was written.
        if record.time != raw.time
            || record.confirmed.map(|c| c.signed_up) != raw.confirmed.map(|c| c.signed_up)
        {
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
    /// through the banner, the staff member is missing (phone, front desk, e-mail) or
    /// present on a web form decision, or `time` is before [`EARLIEST`].
    pub fn new(
        contact: ContactHash,
        channel: MarketingChannel,
        kind: MarketingKind,
        time: OffsetDateTime,
        via: Channel,
        staff: Option<Staff>,
    ) -> Result<Self, MarketingError> {
        if time < EARLIEST {
            return Err(MarketingError::TooEarly);
        }
        Self::checked(contact, channel, kind, time, via, staff)
    }

    /// [`new`](Self::new) but for [`EARLIEST`], which a record read from the log may
    /// predate.
    fn checked(
        contact: ContactHash,
        channel: MarketingChannel,
        kind: MarketingKind,
        time: OffsetDateTime,
        via: Channel,
        staff: Option<Staff>,
    ) -> Result<Self, MarketingError> {
        if !channel.accepts(contact.kind()) {
            return Err(MarketingError::ContactChannel {
                contact: contact.kind(),
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
            confirmed: None,
        })
    }

    /// The same consent, marked confirmed by its contact through the link sent to them
    /// (double opt-in) for the sign-up posted at `signed_up` (kept in whole seconds, UTC).
    ///
    /// # Errors
    /// [`MarketingError::Confirmation`] unless this is a consent given on the web form made
    /// no earlier than `signed_up`; [`MarketingError::Time`] for a time RFC 3339 cannot hold.
    ///
    /// # Example
    /// ```
    /// use consent_core::Channel;
    /// use consent_core::register::{Contact, ContactKey, MarketingChannel, MarketingKind, MarketingRecord};
    /// use time::macros::datetime;
    ///
    /// let contact = ContactKey::new(&[7; 32])?.hash(&Contact::parse("maija@example.fi")?);
    /// let record = MarketingRecord::new(
    ///     contact, MarketingChannel::Email, MarketingKind::Consent,
    ///     datetime!(2026-11-02 08:00 UTC), Channel::WebForm, None,
    /// )?
    /// .confirmed_by_contact(datetime!(2026-11-01 21:15 UTC))?;
    /// assert_eq!(record.confirmed().map(|c| c.signed_up()), Some(datetime!(2026-11-01 21:15 UTC)));
    /// # Ok::<(), Box<dyn core::error::Error>>(())
    /// ```
    pub fn confirmed_by_contact(
        mut self,
        signed_up: OffsetDateTime,
    ) -> Result<Self, MarketingError> {
        let signed_up = signed_up
            .to_offset(time::UtcOffset::UTC)
            .replace_nanosecond(0)
            .map_err(|_| MarketingError::Time)?;
        if rfc3339::format(&signed_up).is_none() {
            return Err(MarketingError::Time);
        }
        let fits = self.kind == MarketingKind::Consent
            && self.via == Channel::WebForm
            && signed_up <= self.time;
        if !fits {
            return Err(MarketingError::Confirmation);
        }
        self.confirmed = Some(Confirmed { signed_up });
        Ok(self)
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
    /// The proof that the contact confirmed this web-form consent (double opt-in), if they did.
    #[must_use]
    pub fn confirmed(&self) -> Option<Confirmed> {
        self.confirmed
    }

    /// The canonical encoding: tag `CMR1`, then fixed-order fields, big-endian integers and a
    /// length-prefixed staff id, then, only for a confirmed consent, `C` and the sign-up's
    /// time. It starts differently from a cookie record's `CDR1`, so no byte string is both;
    /// a record without confirmation encodes as it did before confirmations existed, so logs
    /// written then still verify.
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
        if let Some(c) = self.confirmed {
            out.push(b'C');
            out.extend_from_slice(&c.signed_up.unix_timestamp().to_be_bytes());
        }
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::register::contact::tests::hash;
    use time::macros::datetime;

    /// A decision on the e-mail channel by the web form, `day` days after 2026-11-01.
    pub(crate) fn rec(kind: MarketingKind, day: u8) -> MarketingRecord {
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

    use MarketingKind::*;

    #[test]
    fn a_decision_dated_before_2000_is_refused_but_one_held_is_read() {
        assert_eq!(EARLIEST, datetime!(2000-01-01 0:00 UTC));
        let at = |time| {
            MarketingRecord::new(
                hash("a@b.fi"),
                MarketingChannel::Email,
                Consent,
                time,
                Channel::WebForm,
                None,
            )
        };
        for early in [
            datetime!(0001-01-01 0:00 UTC),
            datetime!(1970-01-01 0:00 UTC),
            datetime!(1999-12-31 23:59:59 UTC),
            datetime!(2000-01-01 1:59:59 +2),
        ] {
            assert_eq!(at(early), Err(MarketingError::TooEarly), "{early}");
        }
        assert!(at(datetime!(2000-01-01 0:00 UTC)).is_ok());
        assert!(at(datetime!(2000-01-01 2:00 +2)).is_ok());

        // A log written before the rule may hold one: it is read as it was written.
        let held = MarketingRecord::checked(
            hash("a@b.fi"),
            MarketingChannel::Email,
            Consent,
            datetime!(0001-01-01 0:00 UTC),
            Channel::WebForm,
            None,
        )
        .unwrap();
        let json = serde_json::to_string(&held).unwrap();
        assert_eq!(
            serde_json::from_str::<MarketingRecord>(&json).unwrap(),
            held
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
    fn a_confirmed_consent_says_so_in_json_and_digest_and_nothing_else_can() {
        let signed_up = datetime!(2026-11-01 09:30:15.25 UTC);
        let plain = rec(Consent, 0);
        let confirmed = plain.clone().confirmed_by_contact(signed_up).unwrap();
        assert_eq!(
            confirmed.confirmed().map(|c| c.signed_up()),
            Some(datetime!(2026-11-01 09:30:15 UTC))
        );
        let json = serde_json::to_string(&confirmed).unwrap();
        assert!(
            json.ends_with(
                r#","via":"web_form","confirmed":{"signed_up":"2026-11-01T09:30:15Z"}}"#
            ),
            "{json}"
        );
        assert_eq!(
            serde_json::from_str::<MarketingRecord>(&json).unwrap(),
            confirmed
        );
        // Covered by the digest; a record without it encodes as before.
        assert_ne!(confirmed.digest(), plain.digest());
        assert!(!serde_json::to_string(&plain).unwrap().contains("confirmed"));
        assert_eq!(
            plain.canonical_bytes().len() + 9,
            confirmed.canonical_bytes().len()
        );
        // Only a web-form consent, confirmed after its sign-up.
        let after = datetime!(2026-11-01 12:00:01 UTC);
        for bad in [
            rec(Objection, 0).confirmed_by_contact(signed_up),
            rec(Consent, 0).confirmed_by_contact(after),
            crate::register::MarketingRecord::new(
                hash("a@b.fi"),
                MarketingChannel::Email,
                Consent,
                after,
                Channel::Phone,
                Some("desk-1".parse().unwrap()),
            )
            .unwrap()
            .confirmed_by_contact(signed_up),
        ] {
            assert_eq!(bad, Err(MarketingError::Confirmation));
        }
        let late = json.replace("2026-11-01T09:30:15Z", "2026-11-01T12:00:01Z");
        let err = serde_json::from_str::<MarketingRecord>(&late).unwrap_err();
        assert!(
            err.to_string().contains("confirmed: only a consent"),
            "{err}"
        );
        let frac = json.replace("09:30:15Z", "09:30:15.5Z");
        assert!(serde_json::from_str::<MarketingRecord>(&frac).is_err());
        let extra = json.replace(r#"{"signed_up""#, r#"{"ip":"1.2.3.4","signed_up""#);
        assert!(serde_json::from_str::<MarketingRecord>(&extra).is_err());
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
}
