//! Transfers of personal data outside the EU/EEA, as a service declares them.
//!
//! GDPR chapter V allows a transfer to a country outside the EU/EEA only on a safeguard, and
//! art. 13(1)(f) makes the controller say which one. A service says so in the config:
//!
//! ```json
//! "transfer": {"outside_eea": true, "safeguard": "dpf",
//!              "countries": {"fi": "Yhdysvallat", "sv": "USA", "en": "the United States"}}
//! ```
//!
//! Without `transfer`, a service declares that its data stays in the EU/EEA, and the cookie
//! declaration says so.

use core::fmt;
use core::str::FromStr;

use serde::{Serialize, Serializer};

use crate::localized::Localized;

/// What a transfer outside the EU/EEA rests on (GDPR art. 45-47).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Safeguard {
    /// The EU-US Data Privacy Framework (the Commission's adequacy decision of 10 July 2023),
    /// for a US provider certified under it, such as Google or Meta.
    Dpf,
    /// Another adequacy decision of the Commission for the receiving country (art. 45).
    Adequacy,
    /// Standard contractual clauses adopted by the Commission (art. 46(2)(c)).
    Scc,
    /// The provider's binding corporate rules (art. 47).
    Bcr,
}

impl Safeguard {
    /// Every safeguard, in config order.
    pub const ALL: [Safeguard; 4] = [
        Safeguard::Dpf,
        Safeguard::Adequacy,
        Safeguard::Scc,
        Safeguard::Bcr,
    ];

    /// The config spelling: `dpf`, `adequacy`, `scc` or `bcr`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Safeguard::Dpf => "dpf",
            Safeguard::Adequacy => "adequacy",
            Safeguard::Scc => "scc",
            Safeguard::Bcr => "bcr",
        }
    }
}

impl fmt::Display for Safeguard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a safeguard other than `dpf`, `adequacy`, `scc` or `bcr`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseSafeguardError;

impl fmt::Display for ParseSafeguardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("expected \"dpf\", \"adequacy\", \"scc\" or \"bcr\"")
    }
}

impl core::error::Error for ParseSafeguardError {}

impl FromStr for Safeguard {
    type Err = ParseSafeguardError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Safeguard::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or(ParseSafeguardError)
    }
}

impl Serialize for Safeguard {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Whether a service's data leaves the EU/EEA, where to, and on what safeguard.
///
/// # Example
/// ```
/// use consent_core::{Config, transfer::Safeguard};
/// let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
/// let ga = config.service(config.service_index("ga").expect("declared")).expect("exists");
/// assert!(ga.transfer().outside_eea());
/// assert_eq!(ga.transfer().safeguard(), Some(Safeguard::Dpf));
/// # Ok::<(), consent_core::ConfigError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Transfer {
    pub(crate) outside_eea: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) safeguard: Option<Safeguard>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) countries: Option<Localized>,
}

impl Transfer {
    /// Whether the service's data may be transferred outside the EU/EEA.
    #[must_use]
    pub fn outside_eea(&self) -> bool {
        self.outside_eea
    }

    /// The safeguard of a transfer outside the EU/EEA; config validation makes sure a
    /// transfer has one.
    #[must_use]
    pub fn safeguard(&self) -> Option<Safeguard> {
        self.safeguard
    }

    /// The receiving countries in words, if the config names them.
    #[must_use]
    pub fn countries(&self) -> Option<&Localized> {
        self.countries.as_ref()
    }

    /// Whether this is the default, nothing leaves the EU/EEA (the config omits it then).
    pub(crate) fn is_default(&self) -> bool {
        *self == Transfer::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safeguard_round_trips() {
        for g in Safeguard::ALL {
            assert_eq!(g.to_string().parse::<Safeguard>(), Ok(g));
        }
        assert_eq!("DPF".parse::<Safeguard>(), Err(ParseSafeguardError));
        assert_eq!("".parse::<Safeguard>(), Err(ParseSafeguardError));
    }
}
