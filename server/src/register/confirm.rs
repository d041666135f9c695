//! Double opt-in: a consent given on the web form is recorded only once the contact confirms
//! it, through a link sent to that contact.
//!
//! `POST /register/signup` is public and its only gate is the `Origin` header, which any
//! client outside a browser can set. So it records nothing: it checks the contact and the
//! channels, makes a confirmation ([`Pending`]) and leaves a message for the site's mailer in
//! the store's outbox ([`super::outbox`]). The link's token is the contact's keyed hash, the
//! channels, when it was issued and until when it holds, signed under the server key: no
//! personal data in the URL, nothing in the log until it is used.
//!
//! Confirming (`POST /register/confirm`, from the page the link opens) appends one consent per
//! channel, given on the web form and marked confirmed by the contact with the sign-up's time
//! ([`consent_core::register::Confirmed`], in the record, so the chain covers it), all in one
//! transaction, unless the log already holds a decision for the contact on any of the
//! channels appended after the sign-up (past the log position the token names). That rule
//! makes the token single-use (its own consents are such decisions) and keeps a later
//! objection, refusal or erasure standing: a link mailed before an objection cannot lift it.
//! The store's writer judges it ([`NothingLater`]) in the transaction that would append the
//! consents, so a refusal that staff record while the confirmation is under way stands too.
//! A confirmation is recorded whole or not at all: a crash, a store error or a refused
//! channel leaves the link unused, to be tried again. Until confirmed, `may_market` answers
//! as before the sign-up.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use consent_core::Channel;
use consent_core::register::{ContactHash, MarketingChannel, MarketingKind, MarketingRecord};
use time::{Duration, OffsetDateTime};

use super::{RecordError, Recorded};
use crate::key::ServerKey;
use crate::store::{NothingLater, Store};

/// How long a confirmation link holds.
pub const VALID_FOR: Duration = Duration::hours(48);

/// Payload: the contact hash (33 bytes), the channels (1 byte, bit per
/// [`MarketingChannel::ALL`] position), the log position, issued and expires (8 bytes each,
/// big-endian).
const PAYLOAD: usize = 33 + 1 + 8 + 8 + 8;

/// A sign-up waiting for its contact's confirmation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    /// Who signed up, as the register keeps it.
    pub contact: ContactHash,
    /// The channels ticked, in [`MarketingChannel::ALL`] order.
    pub channels: Vec<MarketingChannel>,
    /// The log's last position at the sign-up: a decision of the contact on these channels
    /// after it supersedes the link.
    pub after: u64,
    /// When the sign-up was made (unix seconds).
    pub issued: i64,
    /// Until when the link holds (unix seconds).
    pub expires: i64,
}

/// Why a confirmation was not recorded.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfirmError {
    /// The token is not one this server made (malformed, or its signature does not match).
    Invalid,
    /// The link is past its time.
    Expired,
    /// The register already holds a decision for the contact on a channel made after the
    /// sign-up: the link was used, or an objection or refusal came later.
    Superseded,
    /// Recording failed.
    Record(RecordError),
}

impl core::fmt::Display for ConfirmError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ConfirmError::Invalid => f.write_str("token: not a confirmation link of this site"),
            ConfirmError::Expired => f.write_str("token: the confirmation link has expired"),
            ConfirmError::Superseded => {
                f.write_str("token: already used, or a later decision of this contact is on record")
            }
            ConfirmError::Record(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ConfirmError {}

impl From<RecordError> for ConfirmError {
    fn from(e: RecordError) -> Self {
        match e {
            RecordError::Superseded { .. } => ConfirmError::Superseded,
            e => ConfirmError::Record(e),
        }
    }
}

impl Pending {
    /// A sign-up made `now`, when the log ended at position `after`.
    #[must_use]
    pub fn new(
        contact: ContactHash,
        channels: &[MarketingChannel],
        after: u64,
        now: OffsetDateTime,
    ) -> Self {
        let channels = MarketingChannel::ALL
            .into_iter()
            .filter(|c| channels.contains(c))
            .collect();
        let issued = now.unix_timestamp();
        Self {
            contact,
            channels,
            after,
            issued,
            expires: issued + VALID_FOR.whole_seconds(),
        }
    }

    fn payload(&self) -> [u8; PAYLOAD] {
        let mut p = [0u8; PAYLOAD];
        p[..33].copy_from_slice(&self.contact.to_bytes());
        p[33] = MarketingChannel::ALL
            .iter()
            .enumerate()
            .filter(|(_, c)| self.channels.contains(c))
            .fold(0u8, |bits, (i, _)| bits | (1 << i));
        p[34..42].copy_from_slice(&self.after.to_be_bytes());
        p[42..50].copy_from_slice(&self.issued.to_be_bytes());
        p[50..].copy_from_slice(&self.expires.to_be_bytes());
        p
    }

    /// The link's token: the payload and its signature, base64url.
    #[must_use]
    pub fn token(&self, key: &ServerKey) -> String {
        let payload = self.payload();
        let mut bytes = payload.to_vec();
        bytes.extend_from_slice(&key.confirmation_mac(&payload));
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Reads a token this server made.
    ///
    /// # Errors
    /// [`ConfirmError::Invalid`] for anything else.
    pub fn parse(token: &str, key: &ServerKey) -> Result<Self, ConfirmError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(token.trim())
            .map_err(|_| ConfirmError::Invalid)?;
        let (payload, mac) = bytes
            .split_at_checked(PAYLOAD)
            .ok_or(ConfirmError::Invalid)?;
        if !key.verify_confirmation(payload, mac) {
            return Err(ConfirmError::Invalid);
        }
        let contact = ContactHash::from_bytes(&payload[..33]).ok_or(ConfirmError::Invalid)?;
        let bits = payload[33];
        let channels: Vec<_> = MarketingChannel::ALL
            .into_iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .map(|(_, c)| c)
            .collect();
        let number = |range: core::ops::Range<usize>| {
            payload
                .get(range)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(i64::from_be_bytes)
                .ok_or(ConfirmError::Invalid)
        };
        if channels.is_empty() {
            return Err(ConfirmError::Invalid);
        }
        Ok(Self {
            contact,
            channels,
            after: u64::from_be_bytes(number(34..42)?.to_be_bytes()),
            issued: number(42..50)?,
            expires: number(50..58)?,
        })
    }
}

/// Records the confirmed sign-up of `token` at `now`: one consent per channel, given on the
/// web form and marked confirmed by the contact, appended together in one transaction or not
/// at all ([`Register::append_marketing_if`](crate::store::Register::append_marketing_if)).
///
/// 1. Nothing is recorded when any of the sign-up's channels already holds a decision of the
///    contact made after the sign-up ([`ConfirmError::Superseded`]): the link was used, or a
///    later objection or refusal stands, on every channel of the link alike.
/// 2. Nothing is recorded when the store refuses any one channel's consent (a decision on it
///    dated after `now`: [`RecordError::OutOfOrder`]) or fails: the link stays unused and
///    can be tried again.
///
/// The positions answered are in the sign-up's channel order.
///
/// # Errors
/// [`ConfirmError`].
pub async fn confirm<S: Store>(
    store: &S,
    key: &ServerKey,
    token: &str,
    now: OffsetDateTime,
) -> Result<Vec<(MarketingChannel, u64)>, ConfirmError> {
    let pending = Pending::parse(token, key)?;
    if now.unix_timestamp() > pending.expires {
        return Err(ConfirmError::Expired);
    }
    let signed_up =
        OffsetDateTime::from_unix_timestamp(pending.issued).map_err(|_| ConfirmError::Invalid)?;
    let records = pending
        .channels
        .iter()
        .map(|channel| {
            MarketingRecord::new(
                pending.contact,
                *channel,
                MarketingKind::Consent,
                now,
                Channel::WebForm,
                None,
            )
            .and_then(|r| r.confirmed_by_contact(signed_up))
            .map_err(RecordError::Decision)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let condition = NothingLater {
        after: pending.after,
        channels: pending.channels.clone(),
    };
    let landed = store
        .append_marketing_if(records, condition)
        .await
        .map_err(RecordError::from)?;
    pending
        .channels
        .iter()
        .zip(landed)
        .map(|(channel, landed)| {
            let (Recorded::Stored { seq } | Recorded::Duplicate { seq }) = super::recorded(landed)?;
            Ok((*channel, seq))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use consent_core::register::Contact;

    fn key() -> ServerKey {
        ServerKey::new(&[0x21; 32]).unwrap()
    }

    fn pending() -> Pending {
        let contact = key().contact_hash(&Contact::parse("maija@example.fi").unwrap());
        Pending::new(
            contact,
            &[MarketingChannel::Post, MarketingChannel::Email],
            41,
            OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap(),
        )
    }

    #[test]
    fn a_token_round_trips_and_only_under_its_key() {
        let p = pending();
        let token = p.token(&key());
        assert_eq!(Pending::parse(&token, &key()).unwrap(), p);
        assert_eq!(p.expires - p.issued, 48 * 3600);
        let other = ServerKey::new(&[0x22; 32]).unwrap();
        assert!(matches!(
            Pending::parse(&token, &other),
            Err(ConfirmError::Invalid)
        ));
    }

    #[test]
    fn an_edited_or_truncated_token_is_invalid() {
        let token = pending().token(&key());
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        // The channels byte: grant SMS too.
        bytes[33] |= 0b111;
        let edited = URL_SAFE_NO_PAD.encode(&bytes);
        for bad in [
            &edited[..],
            &token[..token.len() - 4],
            "",
            "!!!!",
            &token[..20],
        ] {
            assert!(
                matches!(Pending::parse(bad, &key()), Err(ConfirmError::Invalid)),
                "{bad}"
            );
        }
    }
}
