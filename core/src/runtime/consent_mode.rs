//! Google Consent Mode v2: the consent state mapped to Google's storage signals.
//!
//! With consent mode enabled, the banner sends `gtag('consent', 'default', ...)` with every
//! signal denied before any Google tag runs, then `gtag('consent', 'update', ...)` with
//! [`ConsentModeState`] after every decision. Each signal is granted when every category mapped
//! to it is allowed; a signal mapped to no category is always denied.
//!
//! A category counts here only when it is granted whole, with every one of its services
//! ([`Choices::whole_categories`]): after "Allow and show" on a YouTube embed, which grants
//! YouTube alone, `ad_storage` stays denied, since the Google tags it governs belong to
//! services of `marketing` that the visitor did not allow.
//!
//! The default mapping, used for any signal the config does not map:
//!
//! | signal | categories |
//! | --- | --- |
//! | `ad_storage`, `ad_user_data`, `ad_personalization` | `marketing` |
//! | `analytics_storage` | `analytics` |
//! | `functionality_storage` | `preferences` if the config has it, else `necessary` |
//! | `personalization_storage` | `preferences` |
//! | `security_storage` | `necessary` |

use core::fmt;
use core::str::FromStr;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::state::Choices;

/// One Consent Mode signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Signal {
    /// `ad_storage`: cookies for advertising.
    AdStorage,
    /// `ad_user_data`: sending user data to Google for advertising (v2).
    AdUserData,
    /// `ad_personalization`: personalised advertising (v2).
    AdPersonalization,
    /// `analytics_storage`: cookies for analytics.
    AnalyticsStorage,
    /// `functionality_storage`: cookies for site functions such as language.
    FunctionalityStorage,
    /// `personalization_storage`: cookies for personalisation such as recommendations.
    PersonalizationStorage,
    /// `security_storage`: cookies for security such as authentication and fraud prevention.
    SecurityStorage,
}

impl Signal {
    /// Every signal, in the order gtag calls list them.
    pub const ALL: [Signal; 7] = [
        Signal::AdStorage,
        Signal::AdUserData,
        Signal::AdPersonalization,
        Signal::AnalyticsStorage,
        Signal::FunctionalityStorage,
        Signal::PersonalizationStorage,
        Signal::SecurityStorage,
    ];

    /// The name gtag uses.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Signal::AdStorage => "ad_storage",
            Signal::AdUserData => "ad_user_data",
            Signal::AdPersonalization => "ad_personalization",
            Signal::AnalyticsStorage => "analytics_storage",
            Signal::FunctionalityStorage => "functionality_storage",
            Signal::PersonalizationStorage => "personalization_storage",
            Signal::SecurityStorage => "security_storage",
        }
    }

    pub(crate) const fn index(self) -> usize {
        match self {
            Signal::AdStorage => 0,
            Signal::AdUserData => 1,
            Signal::AdPersonalization => 2,
            Signal::AnalyticsStorage => 3,
            Signal::FunctionalityStorage => 4,
            Signal::PersonalizationStorage => 5,
            Signal::SecurityStorage => 6,
        }
    }

    /// The categories this signal follows when the config does not say.
    #[cfg(feature = "alloc")]
    pub(crate) fn default_categories(self, has_preferences: bool) -> &'static [&'static str] {
        match self {
            Signal::AdStorage | Signal::AdUserData | Signal::AdPersonalization => &["marketing"],
            Signal::AnalyticsStorage => &["analytics"],
            Signal::FunctionalityStorage if has_preferences => &["preferences"],
            Signal::FunctionalityStorage | Signal::SecurityStorage => &["necessary"],
            Signal::PersonalizationStorage => &["preferences"],
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for an unknown Consent Mode signal name.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseSignalError;

impl fmt::Display for ParseSignalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown consent mode signal")
    }
}

impl core::error::Error for ParseSignalError {}

impl FromStr for Signal {
    type Err = ParseSignalError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Signal::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or(ParseSignalError)
    }
}

/// A signal's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignalState {
    /// `granted`.
    Granted,
    /// `denied`.
    Denied,
}

impl SignalState {
    /// The value gtag uses.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            SignalState::Granted => "granted",
            SignalState::Denied => "denied",
        }
    }
}

impl fmt::Display for SignalState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The signals for what the policy allows, from each signal's categories (`masks`, in
/// [`Signal::ALL`] order): granted when every category it follows is allowed.
pub(crate) fn state_of(masks: [u32; 7], allowed: Choices) -> ConsentModeState {
    let mut granted = 0u8;
    for signal in Signal::ALL {
        let mask = masks[signal.index()];
        if mask != 0 && allowed.categories & mask == mask {
            granted |= 1 << signal.index();
        }
    }
    ConsentModeState { granted }
}

/// Consent Mode's update for what `allowed` allows under a site's policy, or `None` when the
/// site does not use Consent Mode. A category granted only partly counts as denied
/// ([`Choices::whole_categories`]).
#[must_use]
#[inline(always)]
pub fn update<P: crate::SitePolicy + ?Sized>(
    site: &P,
    allowed: Choices,
) -> Option<ConsentModeState> {
    let (enabled, _, masks) = site.consent_mode();
    enabled.then(|| state_of(masks, allowed.whole_categories(site)))
}

/// Consent Mode's `default` command for a site's policy (every signal denied) and its
/// `wait_for_update` in milliseconds, or `None` when the site does not use Consent Mode.
#[must_use]
pub fn default<P: crate::SitePolicy + ?Sized>(site: &P) -> Option<(ConsentModeState, u32)> {
    let (enabled, wait, _) = site.consent_mode();
    enabled.then_some((ConsentModeState { granted: 0 }, wait))
}

/// The value of every Consent Mode signal; serializes as the object gtag takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConsentModeState {
    pub(crate) granted: u8,
}

impl ConsentModeState {
    /// One signal's value.
    #[must_use]
    pub const fn get(&self, signal: Signal) -> SignalState {
        if self.granted & (1 << signal.index()) != 0 {
            SignalState::Granted
        } else {
            SignalState::Denied
        }
    }

    /// Every signal with its value.
    // Always inlined, as `update`: out of line, each returned its value (the iterator, the
    // `Option`) through memory (7 and 33 B gzip of the banner's module, measured).
    #[inline(always)]
    pub fn iter(&self) -> impl Iterator<Item = (Signal, SignalState)> + '_ {
        Signal::ALL.into_iter().map(|s| (s, self.get(s)))
    }
}

impl Serialize for ConsentModeState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(7))?;
        for (signal, state) in self.iter() {
            map.serialize_entry(signal.as_str(), state.as_str())?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Signal::ALL {
            assert_eq!(s.as_str().parse::<Signal>(), Ok(s));
        }
        assert_eq!("ads_storage".parse::<Signal>(), Err(ParseSignalError));
    }
}
