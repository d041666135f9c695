//! The clinic's customer register on the server: direct-marketing decisions in the same
//! chained log as cookie decisions, contacts kept only as keyed hashes, and the checks a
//! clinic runs before marketing.
//!
//! | item | what it does |
//! | --- | --- |
//! | [`record`] | normalise, hash and append one decision, with a clear answer for duplicates and out-of-order decisions |
//! | [`may_market`] | whether one contact may be marketed to on a channel now |
//! | [`list`] | read a mailing list (CSV) and name the addresses that may not be contacted |
//! | [`api`] | the HTTP routes: staff recording and checks (admin), the public newsletter sign-up |
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use consent_server::register::{self, Decision};
//! use consent_server::store::sqlite::SqliteStore;
//! use consent_server::consent_core::register::{MarketingChannel, MarketingKind};
//! use consent_server::consent_core::Channel;
//!
//! let key = consent_server::ServerKey::load_or_create("consent.key".as_ref())?;
//! let store = SqliteStore::open("consent.db", key.log_keys())?;
//! let now = time::OffsetDateTime::now_utc();
//! let decision = Decision {
//!     contact: "maija@example.fi".into(),
//!     channel: MarketingChannel::Email,
//!     kind: MarketingKind::Objection,
//!     via: Channel::Phone,
//!     staff: Some("reception-2".into()),
//!     time: None,
//! };
//! register::record(&store, &key, decision, now).await?;
//! let contact = "maija@example.fi".parse()?;
//! let answer = register::may_market(&store, &key, &contact, MarketingChannel::Email, now).await?;
//! assert!(!answer.allowed());
//! # Ok(()) }
//! ```

use core::fmt;

use consent_core::Channel;
use consent_core::register::{
    Contact, ContactError, MarketingChannel, MarketingError, MarketingKind, MarketingRecord,
    MayMarket, Staff, may_market as fold,
};
use time::OffsetDateTime;

use crate::key::ServerKey;
use crate::store::{MarketingAppend, Store, StoreError};

pub mod access;
pub mod api;
pub mod confirm;
pub mod confirm_page;
pub mod demo_mail;
pub mod list;
pub mod outbox;
pub mod requests;

/// How far in the future a decision's time may be (clock skew between staff machines and the
/// server); such a decision is dated when the server records it, and later ones are refused,
/// so a mistyped year cannot lock a contact's state.
pub const MAX_SKEW: time::Duration = time::Duration::minutes(5);

/// A decision as staff or a form give it: the contact in clear, not yet checked.
#[derive(Clone, PartialEq, Eq)]
pub struct Decision {
    /// The customer's e-mail address or phone number, as typed.
    pub contact: String,
    /// The channel decided on.
    pub channel: MarketingChannel,
    /// What was decided.
    pub kind: MarketingKind,
    /// How it was given.
    pub via: Channel,
    /// The staff member who recorded it (phone, front desk, e-mail).
    pub staff: Option<String>,
    /// When it was given; `None` for now. A time up to [`MAX_SKEW`] ahead is now; one
    /// before [`EARLIEST`](consent_core::register::EARLIEST) is refused.
    pub time: Option<OffsetDateTime>,
}

impl fmt::Debug for Decision {
    // Hand-written: the contact is personal data.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decision")
            .field("channel", &self.channel)
            .field("kind", &self.kind)
            .field("via", &self.via)
            .finish_non_exhaustive()
    }
}

/// What became of a recorded decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// Appended at this position.
    Stored {
        /// The position in the chain.
        seq: u64,
    },
    /// The very same decision was already recorded here; nothing was stored again.
    Duplicate {
        /// The first copy's position.
        seq: u64,
    },
}

/// Why a decision was not recorded.
#[derive(Debug)]
#[non_exhaustive]
pub enum RecordError {
    /// The contact is not a valid e-mail address or phone number.
    Contact(ContactError),
    /// The staff id is not valid.
    Staff(String),
    /// The decision does not fit together (channel and contact, staff and how it was given).
    Decision(MarketingError),
    /// Dated more than [`MAX_SKEW`] after the server's clock.
    Future,
    /// The log holds a later decision for this contact and channel.
    OutOfOrder {
        /// When that later decision was made.
        latest: OffsetDateTime,
    },
    /// The log holds a decision for this contact made after the position a conditional
    /// append named (a confirmed sign-up's: [`confirm`]).
    Superseded {
        /// The position of that decision.
        seq: u64,
    },
    /// Suppressions are written by erasure, not recorded by hand.
    Suppression,
    /// The log failed.
    Store(StoreError),
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::Contact(e) => e.fmt(f),
            RecordError::Staff(s) => write!(
                f,
                "staff: {s:?} is not a staff id (1 to 64 letters, digits, '.', '_', '-' or '@')"
            ),
            RecordError::Decision(e) => e.fmt(f),
            RecordError::Future => write!(
                f,
                "time: more than {} minutes after the server's clock",
                MAX_SKEW.whole_minutes()
            ),
            RecordError::OutOfOrder { latest } => write!(
                f,
                "out of order: the register already holds a later decision for this contact and channel (made {}); record decisions in the order they were given",
                latest
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_else(|_| latest.unix_timestamp().to_string())
            ),
            RecordError::Superseded { seq } => write!(
                f,
                "superseded: the register holds a later decision for this contact (record {seq})"
            ),
            RecordError::Suppression => f.write_str(
                "kind: suppression is written when a customer's data are erased, not recorded by hand",
            ),
            RecordError::Store(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for RecordError {}

impl From<StoreError> for RecordError {
    fn from(e: StoreError) -> Self {
        RecordError::Store(e)
    }
}

/// The record a decision makes: contact normalised and hashed, checked, dated (no later
/// than `now`).
///
/// # Errors
/// [`RecordError`] for a bad contact or staff id, a decision that does not fit together
/// (among them a time before [`EARLIEST`](consent_core::register::EARLIEST), which
/// [`MarketingRecord::new`] refuses for every path that makes a record), or a time too far
/// in the future.
pub fn prepare(
    key: &ServerKey,
    decision: Decision,
    now: OffsetDateTime,
) -> Result<MarketingRecord, RecordError> {
    if decision.kind == MarketingKind::Suppression {
        return Err(RecordError::Suppression);
    }
    let contact = Contact::parse(&decision.contact).map_err(RecordError::Contact)?;
    let staff = decision
        .staff
        .map(|s| s.parse::<Staff>().map_err(|_| RecordError::Staff(s)))
        .transpose()?;
    let time = decision.time.unwrap_or(now);
    if time > now + MAX_SKEW {
        return Err(RecordError::Future);
    }
    // Nothing is decided after the server hears of it. Kept ahead, the time made every
    // decision recorded before then out of order: an objection was refused.
    let time = time.min(now);
    MarketingRecord::new(
        key.contact_hash(&contact),
        decision.channel,
        decision.kind,
        time,
        decision.via,
        staff,
    )
    .map_err(RecordError::Decision)
}

/// Records a decision in the log.
///
/// # Errors
/// As [`prepare`], and [`RecordError::OutOfOrder`] or [`RecordError::Store`] from the log.
pub async fn record<S: Store>(
    store: &S,
    key: &ServerKey,
    decision: Decision,
    now: OffsetDateTime,
) -> Result<Recorded, RecordError> {
    let record = prepare(key, decision, now)?;
    append(store, record).await
}

/// Appends a prepared record, turning the log's answer into a [`Recorded`] or an error.
///
/// # Errors
/// [`RecordError::OutOfOrder`] or [`RecordError::Store`].
pub async fn append<S: Store>(store: &S, record: MarketingRecord) -> Result<Recorded, RecordError> {
    recorded(store.append_marketing(record).await?)
}

/// The log's answer to an append as a [`Recorded`] or an error.
fn recorded(landed: MarketingAppend) -> Result<Recorded, RecordError> {
    match landed {
        MarketingAppend::Stored(a) => Ok(Recorded::Stored { seq: a.seq }),
        MarketingAppend::Duplicate { seq } => Ok(Recorded::Duplicate { seq }),
        MarketingAppend::OutOfOrder { latest } => Err(RecordError::OutOfOrder { latest }),
        MarketingAppend::Superseded { seq } => Err(RecordError::Superseded { seq }),
    }
}

/// Whether `contact` may be marketed to on `channel` at `now`, by the rules of
/// [`consent_core::register`].
///
/// Read from the contact's latest state, one index lookup. When that state was set by a
/// decision dated after `now` (a `now` in the past, or a log from before [`prepare`] dated
/// such decisions when it recorded them), the answer is folded from the contact's history up
/// to `now` instead.
///
/// # Errors
/// [`StoreError`] when the log cannot be read.
pub async fn may_market<S: Store>(
    store: &S,
    key: &ServerKey,
    contact: &Contact,
    channel: MarketingChannel,
    now: OffsetDateTime,
) -> Result<MayMarket, StoreError> {
    let hash = key.contact_hash(contact);
    let state = store
        .marketing_states(channel, vec![hash])
        .await?
        .into_iter()
        .next()
        .flatten();
    match state {
        Some((_, since)) if since > now => {
            let entries = store.contact_records(hash).await?;
            let records: Vec<MarketingRecord> = entries
                .iter()
                .filter_map(|e| e.marketing_record().and_then(Result::ok))
                .collect();
            Ok(fold(&records, channel, now))
        }
        state => Ok(MayMarket::from_status(state)),
    }
}

/// What an erasure did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Erased {
    /// Marketing entries whose record and contact were removed.
    pub erased: u64,
    /// The position of the last suppression entry appended (one per channel the contact can
    /// be reached on).
    pub suppressed_at: u64,
    /// Confirmation messages to the contact that were waiting for the mailer, deleted.
    pub messages: u64,
}

/// Erases a contact from the register (GDPR art. 17): first appends a suppression entry for
/// every channel the contact can be reached on, so it is never marketed to again without a
/// new consent, then removes the record and the contact of every earlier marketing entry,
/// and the confirmation messages to the contact waiting in the outbox. Digests and links
/// stay, so the chain still verifies; the suppression entries keep only the contact's keyed
/// hash, what art. 21(3) needs to honour the objection.
///
/// # Errors
/// [`RecordError`] when the staff id or the time does not fit, a later decision is already
/// held ([`RecordError::OutOfOrder`]), or the log fails. Nothing is erased unless every
/// suppression was appended.
pub async fn erase<S: Store>(
    store: &S,
    key: &ServerKey,
    contact: &Contact,
    via: Channel,
    staff: Option<String>,
    now: OffsetDateTime,
) -> Result<Erased, RecordError> {
    let staff = staff
        .map(|s| s.parse::<Staff>().map_err(|_| RecordError::Staff(s)))
        .transpose()?;
    let hash = key.contact_hash(contact);
    let mut last = 0;
    for channel in MarketingChannel::ALL {
        if !channel.accepts(contact.kind()) {
            continue;
        }
        let record = MarketingRecord::new(
            hash,
            channel,
            MarketingKind::Suppression,
            now,
            via,
            staff.clone(),
        )
        .map_err(RecordError::Decision)?;
        let (Recorded::Stored { seq } | Recorded::Duplicate { seq }) =
            append(store, record).await?;
        last = last.max(seq);
    }
    let erased = store.erase_contact(hash, last).await?;
    // The outbox holds the address in clear, and a link sent now would ask the contact to
    // subscribe again (the suppression would refuse its confirmation).
    let messages = store.outbox_forget(contact.as_str()).await?;
    Ok(Erased {
        erased,
        suppressed_at: last,
        messages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contact_error_names_its_field_once() {
        let e = RecordError::Contact(ContactError::Empty);
        assert_eq!(e.to_string(), "contact: empty");
        let e = RecordError::Contact(ContactError::EmailAt);
        assert_eq!(e.to_string(), "e-mail address: expected exactly one @");
    }
}
