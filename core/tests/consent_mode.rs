//! Google Consent Mode v2: the default is all denied; updates follow the allowed categories.

mod common;

use common::*;
use consent_core::consent_mode::{Signal, SignalState};
use consent_core::policy::{Action, Signals};

#[test]
fn default_denies_every_signal() {
    let config = config();
    let json = serde_json::to_value(config.consent_mode().default_state()).expect("json");
    assert_eq!(json.as_object().map(|m| m.len()), Some(7));
    assert!(
        json.as_object()
            .expect("object")
            .values()
            .all(|v| v == "denied"),
        "{json}"
    );
}

#[test]
fn updates_follow_the_decision() {
    let config = config();
    let mode = config.consent_mode();
    assert!(mode.enabled());
    assert_eq!(mode.wait_for_update_ms(), 500);
    let (accepted, _) = decide_fresh(&config, Action::AcceptAll, t0(), Signals::default());
    let state = mode.state(accepted.state().choices());
    // No preferences category in the example: personalization_storage has nothing to follow.
    for (signal, want) in [
        (Signal::AdStorage, SignalState::Granted),
        (Signal::AdUserData, SignalState::Granted),
        (Signal::AdPersonalization, SignalState::Granted),
        (Signal::AnalyticsStorage, SignalState::Granted),
        (Signal::FunctionalityStorage, SignalState::Granted),
        (Signal::PersonalizationStorage, SignalState::Denied),
        (Signal::SecurityStorage, SignalState::Granted),
    ] {
        assert_eq!(state.get(signal), want, "{signal}");
    }
    let (rejected, _) = decide_fresh(&config, Action::RejectAll, t0(), Signals::default());
    let state = mode.state(rejected.state().choices());
    let granted: Vec<Signal> = state
        .iter()
        .filter(|(_, s)| *s == SignalState::Granted)
        .map(|(s, _)| s)
        .collect();
    assert_eq!(
        granted,
        [Signal::FunctionalityStorage, Signal::SecurityStorage]
    );
}

/// A category granted only partly (one service of it, from an embed's placeholder) keeps its
/// signals denied: Consent Mode follows whole categories.
#[test]
fn a_category_granted_partly_keeps_its_signals_denied() {
    let config = config();
    let ads = config.service_index("google-ads").expect("in the example");
    let pixel = config
        .service_index("facebook-pixel")
        .expect("in the example");
    let partly = config.necessary_only().with_service_granted(&config, ads);
    let state = consent_core::consent_mode::update(&config, partly).expect("enabled");
    for signal in [
        Signal::AdStorage,
        Signal::AdUserData,
        Signal::AdPersonalization,
    ] {
        assert_eq!(state.get(signal), SignalState::Denied, "{signal}");
    }
    let youtube = config.service_index("youtube").expect("in the example");
    let whole = partly
        .with_service_granted(&config, pixel)
        .with_service_granted(&config, youtube);
    let state = consent_core::consent_mode::update(&config, whole).expect("enabled");
    assert_eq!(state.get(Signal::AdStorage), SignalState::Granted);
    // The compiled policy the banner reads answers the same.
    let compiled = consent_core::compile::compile(&config).expect("compiles");
    let policy = consent_core::compiled::CompiledPolicy::parse(&compiled).expect("compiled");
    let state = consent_core::consent_mode::update(&policy, partly).expect("enabled");
    assert_eq!(state.get(Signal::AdStorage), SignalState::Denied);
}

#[test]
fn gpc_denies_the_ad_signals_of_an_earlier_acceptance() {
    let config = config();
    let (_, token) = decide_fresh(&config, Action::AcceptAll, t0(), Signals::default());
    let allowed = eval(
        &config,
        Some(&token),
        t0(),
        Signals {
            gpc: true,
            dnt: false,
        },
    )
    .allowed();
    let state = config.consent_mode().state(allowed);
    assert_eq!(state.get(Signal::AdUserData), SignalState::Denied);
    assert_eq!(state.get(Signal::AnalyticsStorage), SignalState::Granted);
}

#[test]
fn a_config_can_remap_signals() {
    let config = config_with(|v| {
        v["categories"]
            .as_array_mut()
            .expect("list")
            .push(serde_json::json!({"id": "preferences"}));
        v["consent_mode"]["signals"] =
            serde_json::json!({"ad_user_data": ["marketing", "analytics"], "security_storage": []});
    });
    let mode = config.consent_mode();
    assert_eq!(
        mode.categories(Signal::FunctionalityStorage),
        ["preferences"]
    );
    let marketing = cat(&config, "marketing");
    let only_marketing = config
        .necessary_only()
        .with_category(&config, marketing, true);
    let state = mode.state(only_marketing);
    assert_eq!(state.get(Signal::AdStorage), SignalState::Granted);
    assert_eq!(
        state.get(Signal::AdUserData),
        SignalState::Denied,
        "needs analytics too"
    );
    assert_eq!(
        state.get(Signal::SecurityStorage),
        SignalState::Denied,
        "mapped to nothing"
    );
    assert_eq!(state.get(Signal::FunctionalityStorage), SignalState::Denied);
}
