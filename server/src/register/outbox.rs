//! The outbox: the confirmation messages of double opt-in ([`super::confirm`]) waiting for the
//! site's mailer, kept in the store (the `outbox` table of both stores) so that a restart
//! does not lose a link the contact is waiting for.
//!
//! Sending e-mail or text messages is the site's job: its mailer takes the messages over
//! HTTP (admin token) and sends them.
//!
//! 1. `GET /register/outbox` answers the waiting messages (`id`, `to`, `link`, `expires`),
//!    oldest first, and removes them in the same statement: each message is handed out once,
//!    even to several mailers polling at once. Taking needs the admin token as
//!    `Authorization: Bearer`: a browser logged in with HTTP Basic sends that login with any
//!    request, one a page on another site makes it send by a link included, so it may only
//!    peek. A mailer that crashes after taking a message
//!    loses it; the contact signs up again.
//! 2. A mailer that wants at-least-once delivery takes with `?peek=true` (nothing is
//!    removed), sends, then removes each message sent with `DELETE /register/outbox/{id}`.
//! 3. A message whose link has expired ([`super::confirm::VALID_FOR`]) is never handed out
//!    and is deleted at the next sign-up or take.
//! 4. At most [`CAPACITY`] messages are kept; past it, the oldest go first, so a flood of
//!    forged sign-ups cannot grow the database without bound.
//! 5. Sign-ups put at most [`MESSAGES_PER_CONTACT`](super::api::MESSAGES_PER_CONTACT)
//!    messages for one contact here at once, then one each
//!    [`MESSAGE_EVERY`](super::api::MESSAGE_EVERY), so the public form cannot have the
//!    mailer flood an address.
//!
//! What is kept is what the mailer needs and nothing more: the address to send to
//! (normalised), the link (whose token holds the contact's keyed hash, the channels and two
//! times, no personal data in clear) and when it expires. No IP address, no name, no page.
//! The address is personal data kept for at most 48 hours: it is deleted when the mailer
//! takes the message, or when the link expires, whichever comes first. The table is outside
//! the chain: a message is not a decision, and nothing is recorded until the contact
//! confirms.
//!
//! # Example
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use consent_server::register::outbox::Message;
//! use consent_server::store::Register as _;
//! use consent_server::store::sqlite::SqliteStore;
//!
//! let key = consent_server::ServerKey::load_or_create("consent.key".as_ref())?;
//! let store = SqliteStore::open("consent.db", key.log_keys())?;
//! let now = time::OffsetDateTime::now_utc();
//! for message in store.outbox_take(now, false).await? {
//!     // Hand `message.link` to the mailer, addressed to `message.to`.
//! }
//! # Ok(()) }
//! ```

use core::fmt;

use serde::Serialize;
use time::OffsetDateTime;

/// The most messages the outbox keeps; the oldest go first.
pub const CAPACITY: u64 = 10_000;

/// A message for the site's mailer: the confirmation link to send to a contact.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// Its number in the outbox, for `DELETE /register/outbox/{id}` (0 until stored).
    pub id: u64,
    /// The contact as typed (normalised): where to send the link.
    pub to: String,
    /// The link.
    pub link: String,
    /// Until when the link holds (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub expires: OffsetDateTime,
}

impl fmt::Debug for Message {
    // Hand-written: the address is personal data.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("id", &self.id)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_leaves_out_the_address_and_the_link() {
        let m = Message {
            id: 7,
            to: "maija@example.fi".into(),
            link: "https://klinikka.fi/register/confirm?token=abc".into(),
            expires: OffsetDateTime::UNIX_EPOCH,
        };
        let debug = format!("{m:?}");
        assert!(
            !debug.contains("maija") && !debug.contains("token"),
            "{debug}"
        );
    }
}
