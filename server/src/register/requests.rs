//! Data-subject requests as the register keeps them: received, identity checked, due, closed.
//!
//! Requests live in a `requests` table beside the chained log, not in the chain: a request
//! changes (its identity is checked, its deadline extended, it is closed), and the chain
//! holds only what never changes. What a request leads to (an objection, a suppression on
//! erasure) is recorded in the chain as a marketing decision.
//!
//! The subject is a contact's keyed hash or a consent id: never a name or an address.

use core::fmt;
use core::str::FromStr;

use consent_core::ConsentId;
use consent_core::register::{ContactHash, Staff};
use consent_core::requests::{Identity, Outcome, RequestKind, days_left, deadline};
use time::Date;

use crate::store::{Corrupt, Store, StoreError};

/// Whose data a request is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A customer known by a contact (its keyed hash).
    Contact(ContactHash),
    /// A visitor known by a consent id.
    Consent(ConsentId),
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Contact(h) => h.fmt(f),
            Subject::Consent(id) => write!(f, "consent:{id}"),
        }
    }
}

/// The error for text that is not a printed [`Subject`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseSubjectError;

impl fmt::Display for ParseSubjectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid subject: expected consent:<id> or a contact hash")
    }
}

impl std::error::Error for ParseSubjectError {}

impl FromStr for Subject {
    type Err = ParseSubjectError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.strip_prefix("consent:") {
            Some(id) => id
                .parse()
                .map(Subject::Consent)
                .map_err(|_| ParseSubjectError),
            None => s
                .parse()
                .map(Subject::Contact)
                .map_err(|_| ParseSubjectError),
        }
    }
}

/// One request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// Its number, from 1; 0 before it is stored.
    pub id: u64,
    /// What was asked.
    pub kind: RequestKind,
    /// About whom.
    pub subject: Subject,
    /// The day it was received.
    pub received: Date,
    /// Whether the deadline was extended by two months (art. 12(3)).
    pub extended: bool,
    /// How the identity was checked.
    pub identity: Identity,
    /// Who on the staff handles it.
    pub staff: Staff,
    /// How and when it was closed; `None` while open.
    pub closed: Option<(Outcome, Date)>,
}

impl Request {
    /// The day the answer is due.
    #[must_use]
    pub fn deadline(&self) -> Date {
        deadline(self.received, self.extended)
    }

    /// Days left on `today`: negative once overdue.
    #[must_use]
    pub fn days_left(&self, today: Date) -> i64 {
        days_left(self.deadline(), today)
    }

    /// Whether it is open and past its deadline on `today`.
    #[must_use]
    pub fn is_overdue(&self, today: Date) -> bool {
        self.closed.is_none() && self.days_left(today) < 0
    }

    /// The request as JSON, with its deadline and, while open, the days left on `today`.
    #[must_use]
    pub fn to_json(&self, today: Date) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "kind": self.kind,
            "subject": self.subject.to_string(),
            "received": self.received.to_string(),
            "deadline": self.deadline().to_string(),
            "extended": self.extended,
            "identity": self.identity,
            "staff": self.staff,
            "outcome": self.closed.map(|(o, _)| o),
            "closed": self.closed.map(|(_, d)| d.to_string()),
            "days_left": self.closed.is_none().then(|| self.days_left(today)),
            "overdue": self.is_overdue(today),
        })
    }
}

/// A change to an open request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Update {
    /// The identity check's result.
    pub identity: Option<Identity>,
    /// Extend the deadline by two months.
    pub extend: bool,
    /// Close it with this outcome on this day.
    pub close: Option<(Outcome, Date)>,
}

/// Why a request could not be changed.
#[derive(Debug)]
#[non_exhaustive]
pub enum RequestError {
    /// No request has this number.
    Unknown(u64),
    /// The request is closed already.
    Closed(u64),
    /// Completed (in whole or part) before the identity was confirmed.
    IdentityUnchecked(u64),
    /// Extended after its first month had passed: the customer must be told within it.
    LateExtension(u64),
    /// Closed before it was received.
    ClosedBeforeReceived(u64),
    /// Closed on a day after today.
    ClosedInFuture(u64),
    /// The log failed.
    Store(StoreError),
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::Unknown(id) => write!(f, "request {id}: no such request"),
            RequestError::Closed(id) => write!(f, "request {id}: already closed"),
            RequestError::IdentityUnchecked(id) => write!(
                f,
                "request {id}: confirm the requester's identity before completing it (or close it as refused)"
            ),
            RequestError::LateExtension(id) => write!(
                f,
                "request {id}: an extension must be told to the customer within the first month"
            ),
            RequestError::ClosedBeforeReceived(id) => {
                write!(f, "request {id}: closed before it was received")
            }
            RequestError::ClosedInFuture(id) => {
                write!(f, "request {id}: closed on a day in the future")
            }
            RequestError::Store(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for RequestError {}

impl From<StoreError> for RequestError {
    fn from(e: StoreError) -> Self {
        RequestError::Store(e)
    }
}

/// Applies `update` to request `id` on `today`, by the rules of
/// [`consent_core::requests`].
///
/// # Errors
/// [`RequestError`] for an unknown or closed request, completion before the identity was
/// confirmed, a late extension, a closing day before the request was received or after
/// `today`, or a failing log.
pub async fn update<S: Store>(
    store: &S,
    id: u64,
    update: Update,
    today: Date,
) -> Result<Request, RequestError> {
    let mut r = store.request(id).await?.ok_or(RequestError::Unknown(id))?;
    if r.closed.is_some() {
        return Err(RequestError::Closed(id));
    }
    if let Some(identity) = update.identity {
        r.identity = identity;
    }
    if update.extend && !r.extended {
        if today > deadline(r.received, false) {
            return Err(RequestError::LateExtension(id));
        }
        r.extended = true;
    }
    if let Some((outcome, day)) = update.close {
        let confirmed = !matches!(r.identity, Identity::Pending | Identity::Failed);
        if matches!(outcome, Outcome::Completed | Outcome::Partial) && !confirmed {
            return Err(RequestError::IdentityUnchecked(id));
        }
        if day < r.received {
            return Err(RequestError::ClosedBeforeReceived(id));
        }
        // A day to come would take the request off the open ones (and the overdue) now.
        if day > today {
            return Err(RequestError::ClosedInFuture(id));
        }
        r.closed = Some((outcome, day));
    }
    if !store.save_request(r.clone()).await? {
        return Err(RequestError::Unknown(id));
    }
    Ok(r)
}

/// Dates in the `requests` table: `YYYY-MM-DD`.
pub(crate) fn parse_date(s: &str) -> Result<Date, StoreError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &format).map_err(|_| {
        StoreError::Corrupt(Corrupt::Unknown {
            column: "request date",
            value: s.to_owned(),
        })
    })
}

/// A row of the `requests` table, checked.
pub(crate) struct RawRequest {
    pub(crate) id: i64,
    pub(crate) kind: String,
    pub(crate) subject: String,
    pub(crate) received: String,
    pub(crate) extended: bool,
    pub(crate) identity: String,
    pub(crate) staff: String,
    pub(crate) outcome: Option<String>,
    pub(crate) closed: Option<String>,
}

impl RawRequest {
    pub(crate) fn check(self) -> Result<Request, StoreError> {
        let bad = |column: &'static str, v: &str| {
            StoreError::Corrupt(Corrupt::Unknown {
                column,
                value: v.to_owned(),
            })
        };
        let closed = match (self.outcome, self.closed) {
            (Some(o), Some(d)) => Some((
                o.parse().map_err(|_| bad("request outcome", &o))?,
                parse_date(&d)?,
            )),
            (None, None) => None,
            _ => return Err(StoreError::Corrupt(Corrupt::HalfClosed)),
        };
        Ok(Request {
            id: u64::try_from(self.id)
                .map_err(|_| StoreError::Corrupt(Corrupt::Negative("request id")))?,
            kind: self
                .kind
                .parse()
                .map_err(|_| bad("request kind", &self.kind))?,
            subject: self
                .subject
                .parse()
                .map_err(|_| bad("request subject", &self.subject))?,
            received: parse_date(&self.received)?,
            extended: self.extended,
            identity: self
                .identity
                .parse()
                .map_err(|_| bad("request identity", &self.identity))?,
            staff: self
                .staff
                .parse()
                .map_err(|_| bad("request staff", &self.staff))?,
            closed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_round_trip() {
        let id = Subject::Consent(ConsentId::from_bytes([7; 16]));
        assert_eq!(id.to_string().parse::<Subject>(), Ok(id));
        let c = Subject::Contact(ContactHash::from_parts(
            consent_core::register::ContactKind::Phone,
            [3; 32],
        ));
        assert_eq!(c.to_string().parse::<Subject>(), Ok(c));
        assert!("maija@example.fi".parse::<Subject>().is_err());
    }
}
