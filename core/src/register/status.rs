//! Where a contact stands on one channel after its decisions: [`MarketingStatus`], and
//! [`MarketingStatus::after`], one step of the fold by the register's rules.

use core::fmt;
use core::str::FromStr;

use super::record::MarketingKind;
use crate::state::serde_via_str;

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
