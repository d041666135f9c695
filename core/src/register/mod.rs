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

use time::OffsetDateTime;

// One concept a file, its public items re-exported below so that the paths stay
// `register::X`: `contact` turns an e-mail address or phone number into the keyed hash the
// log keeps; `record` is one decision, on which channel and of which kind; `status` is
// where a contact stands after its decisions, by the rules above. Here `may_market` folds
// a contact's history into an answer.
mod contact;
mod record;
mod status;

pub use contact::{
    Contact, ContactError, ContactHash, ContactKey, ContactKeyTooShort, ContactKind,
    ParseContactHashError,
};
pub use record::{
    Confirmed, EARLIEST, MarketingChannel, MarketingError, MarketingKind, MarketingRecord,
    ParseMarketingChannelError, ParseMarketingKindError, Staff, StaffError,
};
pub use status::{MarketingStatus, ParseMarketingStatusError};

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
        if r.channel() != channel
            || r.time() > now
            || *contact.get_or_insert(r.contact()) != r.contact()
        {
            continue;
        }
        let next = MarketingStatus::after(state.map(|(s, _)| s), r.kind());
        if state.map(|(s, _)| s) != Some(next) {
            state = Some((next, r.time()));
        }
    }
    MayMarket::from_status(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use record::tests::rec;
    use time::macros::datetime;

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
