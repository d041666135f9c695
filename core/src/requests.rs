//! Data-subject requests: what a customer asked for, whether their identity was checked, and
//! when the answer is due.
//!
//! # Rules
//!
//! 1. A request is answered within one month of receipt (GDPR art. 12(3)). One month from a
//!    day ends on the same day of the next month, or on that month's last day when it has no
//!    such day (Regulation 1182/71 art. 3(2)(c)): received 31 January, due 28 or 29 February.
//! 2. The deadline may be extended by two further months where necessary, given the
//!    complexity and number of requests, if the customer is told within the first month.
//! 3. A request is overdue on the day after its deadline while it is still open.
//!
//! ```
//! use consent_core::requests::{deadline, days_left};
//! use time::macros::date;
//! assert_eq!(deadline(date!(2027-01-31), false), date!(2027-02-28));
//! assert_eq!(deadline(date!(2026-11-22), true), date!(2027-02-22));
//! assert_eq!(days_left(date!(2026-12-22), date!(2026-12-20)), 2);
//! ```

use core::fmt;
use core::str::FromStr;

use time::{Date, Month};

use crate::state::serde_via_str;

/// What the customer asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// A copy of their data (art. 15).
    Access,
    /// Correction (art. 16).
    Rectification,
    /// Erasure (art. 17).
    Erasure,
    /// Objection to processing, such as direct marketing (art. 21).
    Objection,
    /// Restriction of processing (art. 18).
    Restriction,
}

impl RequestKind {
    /// Every kind.
    pub const ALL: [RequestKind; 5] = [
        RequestKind::Access,
        RequestKind::Rectification,
        RequestKind::Erasure,
        RequestKind::Objection,
        RequestKind::Restriction,
    ];

    /// The lowercase name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            RequestKind::Access => "access",
            RequestKind::Rectification => "rectification",
            RequestKind::Erasure => "erasure",
            RequestKind::Objection => "objection",
            RequestKind::Restriction => "restriction",
        }
    }
}

/// How the customer's identity was checked before answering (art. 12(6)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Identity {
    /// Not checked yet.
    Pending,
    /// Shown in person with an identity document.
    InPerson,
    /// Strong electronic identification (bank credentials, mobile certificate).
    StrongAuthentication,
    /// Asked from, and answered to, the contact already in the customer register.
    KnownContact,
    /// Could not be confirmed: the request is refused unless more is given.
    Failed,
}

impl Identity {
    /// Every value.
    pub const ALL: [Identity; 5] = [
        Identity::Pending,
        Identity::InPerson,
        Identity::StrongAuthentication,
        Identity::KnownContact,
        Identity::Failed,
    ];

    /// The snake_case name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Identity::Pending => "pending",
            Identity::InPerson => "in_person",
            Identity::StrongAuthentication => "strong_authentication",
            Identity::KnownContact => "known_contact",
            Identity::Failed => "failed",
        }
    }
}

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Done as asked.
    Completed,
    /// Partly done (some data must be kept, such as patient records under the law on them).
    Partial,
    /// Refused, with the reason told to the customer (identity not confirmed, manifestly
    /// unfounded: art. 12(5)).
    Refused,
    /// Withdrawn by the customer.
    Withdrawn,
}

impl Outcome {
    /// Every value.
    pub const ALL: [Outcome; 4] = [
        Outcome::Completed,
        Outcome::Partial,
        Outcome::Refused,
        Outcome::Withdrawn,
    ];

    /// The lowercase name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Partial => "partial",
            Outcome::Refused => "refused",
            Outcome::Withdrawn => "withdrawn",
        }
    }
}

macro_rules! closed_set {
    ($ty:ident, $err:ident, $expected:literal) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #[doc = concat!("The error for an unknown [`", stringify!($ty), "`] name.")]
        #[derive(Clone, Debug, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct $err;

        impl fmt::Display for $err {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str($expected)
            }
        }

        impl core::error::Error for $err {}

        impl FromStr for $ty {
            type Err = $err;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $ty::ALL.into_iter().find(|k| k.as_str() == s).ok_or($err)
            }
        }

        serde_via_str!($ty);
    };
}

closed_set!(
    RequestKind,
    ParseRequestKindError,
    "unknown request: expected access, rectification, erasure, objection or restriction"
);
closed_set!(
    Identity,
    ParseIdentityError,
    "unknown identity check: expected pending, in_person, strong_authentication, known_contact or failed"
);
closed_set!(
    Outcome,
    ParseOutcomeError,
    "unknown outcome: expected completed, partial, refused or withdrawn"
);

/// `months` calendar months after `day`, on the same day of the month or the month's last.
fn add_months(day: Date, months: u8) -> Date {
    let mut month = day.month();
    let mut year = day.year();
    for _ in 0..months {
        if month == Month::December {
            year += 1;
        }
        month = month.next();
    }
    let last = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, day.day().min(last)).unwrap_or(day)
}

/// The day an answer to a request received on `received` is due: one month later, or three
/// when `extended` (the rules above).
#[must_use]
pub fn deadline(received: Date, extended: bool) -> Date {
    add_months(received, if extended { 3 } else { 1 })
}

/// Days from `today` to `deadline`: 0 on the day itself, negative once overdue.
#[must_use]
pub fn days_left(deadline: Date, today: Date) -> i64 {
    (deadline - today).whole_days()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn one_month_ends_on_the_same_day_or_the_last() {
        assert_eq!(
            deadline(date!(2026 - 11 - 22), false),
            date!(2026 - 12 - 22)
        );
        assert_eq!(
            deadline(date!(2026 - 12 - 15), false),
            date!(2027 - 01 - 15)
        );
        assert_eq!(
            deadline(date!(2027 - 01 - 31), false),
            date!(2027 - 02 - 28)
        );
        assert_eq!(
            deadline(date!(2028 - 01 - 30), false),
            date!(2028 - 02 - 29)
        );
        assert_eq!(
            deadline(date!(2026 - 03 - 31), false),
            date!(2026 - 04 - 30)
        );
        assert_eq!(deadline(date!(2026 - 11 - 30), true), date!(2027 - 02 - 28));
    }

    #[test]
    fn days_left_goes_negative_when_overdue() {
        let due = date!(2026 - 12 - 22);
        assert_eq!(days_left(due, date!(2026 - 11 - 22)), 30);
        assert_eq!(days_left(due, due), 0);
        assert_eq!(days_left(due, date!(2026 - 12 - 25)), -3);
    }

    #[test]
    fn names_round_trip() {
        for k in RequestKind::ALL {
            assert_eq!(k.as_str().parse::<RequestKind>(), Ok(k));
        }
        for i in Identity::ALL {
            assert_eq!(i.as_str().parse::<Identity>(), Ok(i));
        }
        for o in Outcome::ALL {
            assert_eq!(o.as_str().parse::<Outcome>(), Ok(o));
        }
        assert_eq!(
            "portability".parse::<RequestKind>().map_err(|e| e.to_string()),
            Err("unknown request: expected access, rectification, erasure, objection or restriction".into())
        );
    }
}
