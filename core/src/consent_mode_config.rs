//! The config's Consent Mode section: which categories each of Google's signals follows
//! (the authoring side of [`consent_mode`](crate::consent_mode)).

use crate::prelude::*;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::consent_mode::{ConsentModeState, Signal, state_of};
use crate::id::CategoryId;
use crate::state::Choices;

/// The config's Consent Mode section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentModeConfig {
    pub(crate) enabled: bool,
    pub(crate) wait_for_update_ms: u32,
    pub(crate) mapping: [Vec<CategoryId>; 7],
    pub(crate) masks: [u32; 7],
}

impl ConsentModeConfig {
    /// Whether the banner sends Consent Mode commands.
    #[must_use]
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The `wait_for_update` of the default command, in milliseconds.
    #[must_use]
    pub fn wait_for_update_ms(&self) -> u32 {
        self.wait_for_update_ms
    }

    /// The categories a signal follows.
    #[must_use]
    pub fn categories(&self, signal: Signal) -> &[CategoryId] {
        &self.mapping[signal.index()]
    }

    /// The signals for what the policy allows, its categories taken as given: pass
    /// [`Choices::whole_categories`] to count a category granted only partly as denied, as
    /// [`update`](crate::consent_mode::update) does.
    ///
    /// # Example
    /// ```
    /// use consent_core::{Config, policy};
    /// use consent_core::consent_mode::{Signal, SignalState};
    /// let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
    /// let analytics = config.category_index("analytics").expect("in the example");
    /// let allowed = config.necessary_only().with_category(&config, analytics, true);
    /// let state = config.consent_mode().state(allowed);
    /// assert_eq!(state.get(Signal::AnalyticsStorage), SignalState::Granted);
    /// assert_eq!(state.get(Signal::AdUserData), SignalState::Denied);
    /// # Ok::<(), consent_core::ConfigError>(())
    /// ```
    #[must_use]
    pub fn state(&self, allowed: Choices) -> ConsentModeState {
        state_of(self.masks, allowed)
    }

    /// Every signal denied: the `default` command.
    #[must_use]
    pub fn default_state(&self) -> ConsentModeState {
        ConsentModeState { granted: 0 }
    }
}

impl Serialize for ConsentModeConfig {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Mapping<'a>(&'a [Vec<CategoryId>; 7]);
        impl Serialize for Mapping<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(7))?;
                for signal in Signal::ALL {
                    map.serialize_entry(signal.as_str(), &self.0[signal.index()])?;
                }
                map.end()
            }
        }
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("enabled", &self.enabled)?;
        map.serialize_entry("wait_for_update_ms", &self.wait_for_update_ms)?;
        map.serialize_entry("signals", &Mapping(&self.mapping))?;
        map.end()
    }
}
