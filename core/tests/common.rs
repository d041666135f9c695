//! Helpers shared by the integration tests.
// Helpers run outside #[test] functions, where clippy's in-test allowances do not reach.
#![allow(dead_code, unreachable_pub, missing_docs, clippy::expect_used)]

use consent_core::policy::{self, Action, Context, Decision, Evaluation, Signals};
use consent_core::{CategoryIndex, Config, ConsentId, Lang, Token};
use time::OffsetDateTime;

pub fn config() -> Config {
    Config::from_json(consent_core::EXAMPLE_CONFIG).expect("the example config is valid")
}

/// The example config with JSON edits applied.
pub fn config_with(edit: impl FnOnce(&mut serde_json::Value)) -> Config {
    let mut v: serde_json::Value =
        serde_json::from_str(consent_core::EXAMPLE_CONFIG).expect("json");
    edit(&mut v);
    Config::from_value(&v).expect("the edited config is valid")
}

/// 2026-11-01T00:00:00Z.
pub fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_793_491_200).expect("in range")
}

pub fn days(n: i64) -> time::Duration {
    time::Duration::days(n)
}

pub fn ctx(now: OffsetDateTime, signals: Signals) -> Context {
    Context {
        now,
        signals,
        lang: Lang::Fi,
        fresh_id: ConsentId::from_bytes([0x11; 16]),
    }
}

pub fn cat(config: &Config, id: &str) -> CategoryIndex {
    config.category_index(id).expect("category in config")
}

/// Evaluates a token string at `now`.
pub fn eval(
    config: &Config,
    token: Option<&str>,
    now: OffsetDateTime,
    signals: Signals,
) -> Evaluation {
    policy::evaluate(config, token, None, now, signals)
}

/// A first-visit decision and its token.
pub fn decide_fresh(
    config: &Config,
    action: Action,
    now: OffsetDateTime,
    signals: Signals,
) -> (Decision, String) {
    let before = eval(config, None, now, signals);
    let d = policy::decide(config, &before, action, ctx(now, signals)).expect("clock in range");
    let token = Token::unsigned(*d.state()).to_string();
    (d, token)
}
