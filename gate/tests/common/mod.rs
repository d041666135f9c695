//! What the page layer's test files share: the site's key, config and visitors' cookies, and
//! pages for the property tests. Each test file uses some of it.
#![allow(dead_code, reason = "each test file uses a part")]

pub(crate) mod html;

use consent_core::policy::{self, Action, Context, Signals};
use consent_core::{Config, ConsentId, Lang, SigningKey, Token};
use time::OffsetDateTime;

/// The server's token key.
pub(crate) fn key() -> SigningKey {
    SigningKey::new(&[4; 32]).expect("key")
}

/// The example clinic's config.
pub(crate) fn config() -> Config {
    Config::from_json(consent_core::EXAMPLE_CONFIG).expect("valid")
}

/// The consent cookie after `action` under `config` now, signed with `key` when given.
pub(crate) fn cookie(config: &Config, action: Action, key: Option<&SigningKey>) -> String {
    cookie_at(config, action, key, OffsetDateTime::now_utc())
}

/// The consent cookie of a decision made at `now`.
pub(crate) fn cookie_at(
    config: &Config,
    action: Action,
    key: Option<&SigningKey>,
    now: OffsetDateTime,
) -> String {
    let before = policy::evaluate(config, None, None, now, Signals::default());
    let ctx = Context {
        now,
        signals: Signals::default(),
        lang: Lang::Sv,
        fresh_id: ConsentId::from_bytes([8; 16]),
    };
    let d = policy::decide(config, &before, action, ctx).expect("in range");
    let token = match key {
        Some(k) => Token::signed(*d.state(), k),
        None => Token::unsigned(*d.state()),
    };
    format!("consent={token}")
}
