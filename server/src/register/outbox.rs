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
//! 5. Sign-ups put at most [`MESSAGES_PER_CONTACT`] messages for one contact here at once,
//!    then one each [`MESSAGE_EVERY`], so the public form cannot have the mailer flood an
//!    address. The count is kept in the store, beside the outbox (`outbox_budget`: the
//!    contact's keyed hash and when its budget is whole again, in one statement that reads
//!    and moves it), so every server on one database, and a server started again, share it.
//!    A contact's row goes once its budget is whole; past [`COUNTED`] rows, the ones nearest
//!    whole go first (all of those as near as the one past the bound). An e-mail address is
//!    counted by the mailbox it reaches: without its sub-address (`maija+news@example.fi`
//!    as `maija@example.fi`, which most providers deliver to the same inbox), and at Gmail
//!    without the dots Gmail ignores.
//!
//! Caveats:
//! - Rule 5 counts the sign-ups that left a message, not the messages the mailer sent: a
//!   message taken or deleted still counts until its turn is whole again.
//! - A contact's count outlives its erasure by at most `MESSAGES_PER_CONTACT` x
//!   `MESSAGE_EVERY` (3 hours): the row holds the keyed hash and a time, nothing in clear.
//! - A flood of sign-ups for more than [`COUNTED`] contacts within that time forgets the
//!   contacts signed up for least, whose budget is nearest whole; an address being flooded
//!   has the budget furthest from whole, so it is forgotten last.
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

/// How many confirmation messages a contact is sent at once by sign-ups (rule 5): the
/// sign-up is public, and without a limit per contact anyone could have the site's mailer
/// send one address a message per request. Past it, one more each [`MESSAGE_EVERY`]; a
/// sign-up over it is answered as any other (saying nothing about who signed up before) and
/// sends nothing.
pub const MESSAGES_PER_CONTACT: u32 = 3;

/// How often a contact past [`MESSAGES_PER_CONTACT`] may be sent one more.
pub const MESSAGE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// The most contacts whose messages are counted at once (rule 5); past it, the ones whose
/// budget is nearest whole are forgotten first.
pub const COUNTED: u64 = 100_000;

/// A contact's budget as the store keeps it (rule 5): when it is whole again, in Unix
/// seconds, moved on [`MESSAGE_EVERY`] by each message (the generic cell rate algorithm, as
/// governor's limiters count). A message may go while that time is at most
/// `MESSAGES_PER_CONTACT - 1` periods ahead of `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Budget {
    /// `now`.
    pub(crate) now: i64,
    /// One message's share, in seconds.
    pub(crate) every: i64,
    /// The latest "whole again" that still allows a message at `now`.
    pub(crate) allows_until: i64,
}

impl Budget {
    /// The budget's terms at `now`.
    #[must_use]
    pub(crate) fn at(now: OffsetDateTime) -> Self {
        let every = i64::try_from(MESSAGE_EVERY.as_secs()).unwrap_or(i64::MAX);
        let now = now.unix_timestamp();
        Self {
            now,
            every,
            allows_until: now.saturating_add(
                every.saturating_mul(i64::from(MESSAGES_PER_CONTACT.saturating_sub(1))),
            ),
        }
    }

    /// When a contact with no count is whole again after one message.
    #[must_use]
    pub(crate) fn first(&self) -> i64 {
        self.now.saturating_add(self.every)
    }
}

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
