//! The pure consent core shared by the cookie banner (compiled to WebAssembly) and the server.
//!
//! It decides what a visitor has agreed to, byte for byte the same in the browser and on the
//! server. It does no I/O, never reads the clock and never draws random numbers: callers pass
//! `now` and random ids in. It builds for `wasm32-unknown-unknown`.
//!
//! ```
//! use consent_core::{Channel, Config, ConsentId, DecisionRecord, Gate, Lang, Token};
//! use consent_core::policy::{self, Action, Context, Signals};
//!
//! let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
//! let now = time::OffsetDateTime::now_utc();
//!
//! // A first visit: nothing stored, so the banner asks and only necessary may run.
//! let visit = policy::evaluate(&config, None, None, now, Signals::default());
//! assert!(visit.show_banner());
//!
//! // The visitor clicks "Reject all".
//! let ctx = Context { now, signals: Signals::default(), lang: Lang::Fi, fresh_id: ConsentId::from_bytes([7; 16]) };
//! let decision = policy::decide(&config, &visit, Action::RejectAll, ctx)?;
//! let token = Token::unsigned(*decision.state()).to_string();     // the consent cookie
//! let record = DecisionRecord::new(&config, decision.state(), None, Channel::Banner); // the log
//! assert_eq!(record.action(), consent_core::Method::RejectAll);
//!
//! // On the next request the server checks the Cookie header without allocating.
//! let gate = Gate::new(&config, None);
//! let analytics = gate.category("analytics").expect("the example config has it");
//! let verdict = gate.check(Some(&format!("lang=fi; consent={token}")), None, now);
//! assert!(!verdict.allows(analytics));
//! # Ok::<(), consent_core::Error>(())
//! ```
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`config`] | the site's config from JSON, validated with every problem reported by path |
//! | [`texts`] | every banner string in Finnish, Swedish and English, overridable per config |
//! | [`policy`] | the rules: when to ask, what is allowed, what a decision changes |
//! | [`token`] | the compact, optionally HMAC-signed consent cookie value |
//! | [`record`] | decision records and their canonical, hash-chainable encoding |
//! | [`requests`] | data-subject requests: kinds, identity checks, outcomes, the one-month deadline |
//! | [`register`] | the customer register: direct-marketing decisions per contact and channel, `may_market` |
//! | [`consent_mode`] | Google Consent Mode v2 signals |
//! | [`check`] | the allocation-free server-side check of a `Cookie` header |
//! | [`keyring`] | the server's key file (`consent.key`, a keyring once rotated), parsed, and which of its keys' tokens count |
//! | [`decision`] | one decision, one path: from a click, a form post or a banner's token to the cookie, the deletions and the record |
//! | [`compile`], [`compiled`] | the config compiled into the versioned, checksummed binary policy the browser reads without allocating |
//! | [`consent_cookie`] | the consent cookie's line, its `SameSite` and its lifetime |
//! | [`text`] | text written without the heap: the runtime's writers' [`Sink`](text::Sink) |
//! | [`bundle`] | the banner's texts for one language, as data beside the compiled policy |
//! | [`declaration`] | the privacy notice's cookie section in HTML, Markdown or JSON, from the config |
//! | [`transfer`] | a service's transfers outside the EU/EEA and their safeguard |
//!
//! Two layers, and the imports run one way. The runtime (`core/src/runtime/`: [`state`],
//! [`token`], [`consent_cookie`], [`policy`], [`decision`], [`compiled`], [`site`],
//! [`consent_mode`], [`lang`], [`text`]) is what the browser needs: evaluate and decide over a
//! site's policy, without the heap. The authoring side (config, validation, texts,
//! declaration, records, register, the compiler of policies, the server's check) builds on it
//! with the `alloc` feature. The server and the banner sit above both.
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `std` | yes | `std::error::Error`-based integrations: [`Token::to_cookie`] (the `cookie` crate), `Sync` configs (a [`Config`] shared across threads), and "did you mean" for a misspelt config field ([`Problem::did_you_mean`], the `strsim` crate); implies `alloc` |
//! | `serde_json` | yes | [`Config::from_value`], `Deserialize` for [`Config`], and serde_json's syntax messages (line and column) for [`Config::from_json`]; implies `std` |
//! | `alloc` | yes | the authoring side above the runtime; without it the crate is the runtime alone, `no_std` without a heap (the WebAssembly banner's build), and the compiler keeps the heap out of it; implies `keys` |
//! | `keys` | yes | signing and verifying tokens with a [`SigningKey`] (HMAC-SHA-256); without it the type has no values, so a build that holds no key links no HMAC |
//!
//! Without `serde_json` [`Config::from_json`] reads the text with a small reader of the
//! crate's own that accepts the same documents, and its syntax messages have the same
//! wording. Everything else, validation and its messages included, is the same in both, but
//! for the suggestions for misspelt fields, which need `std`.

#![cfg_attr(not(feature = "std"), no_std)]

#[cfg(feature = "alloc")]
extern crate alloc;

/// What std's prelude brings, for the `no_std` build.
#[cfg(feature = "alloc")]
mod prelude {
    pub(crate) use alloc::borrow::ToOwned;
    pub(crate) use alloc::boxed::Box;
    pub(crate) use alloc::string::{String, ToString};
    pub(crate) use alloc::vec::Vec;
    pub(crate) use alloc::{format, vec};
}

// The runtime (`runtime/`): what the browser needs, without the heap. The crate without its
// `alloc` feature builds only this layer, so the compiler keeps the heap out of it, and it
// imports nothing from the authoring side above it.
mod runtime;
pub(crate) use runtime::{b64, digits, index, signals};
pub use runtime::{
    compiled, consent_cookie, consent_mode, decision, lang, policy, site, state, text, token,
};

// The authoring side, over the runtime: configs and their validation, texts, the
// declaration, records, the register, the compiler of policies, and the server's check.
#[cfg(feature = "alloc")]
pub mod bundle;
#[cfg(feature = "alloc")]
pub mod check;
#[cfg(feature = "alloc")]
pub mod compile;
#[cfg(feature = "alloc")]
pub mod config;
#[cfg(feature = "alloc")]
mod consent_mode_config;
#[cfg(feature = "alloc")]
pub mod cookie_decl;
#[cfg(feature = "alloc")]
pub mod declaration;
#[cfg(feature = "alloc")]
pub mod digest;
#[cfg(feature = "alloc")]
mod error;
#[cfg(feature = "alloc")]
pub mod id;
#[cfg(feature = "alloc")]
mod json;
#[cfg(feature = "alloc")]
mod json_write;
#[cfg(feature = "alloc")]
pub mod keyring;
#[cfg(feature = "alloc")]
pub mod localized;
#[cfg(feature = "alloc")]
pub mod record;
#[cfg(feature = "alloc")]
pub mod register;
#[cfg(feature = "alloc")]
pub mod requests;
#[cfg(feature = "alloc")]
pub mod texts;
#[cfg(feature = "alloc")]
pub mod transfer;

pub use consent_cookie::SameSite;
pub use index::{CategoryIndex, ServiceIndex};
pub use lang::Lang;
pub use signals::Signals;
pub use site::SitePolicy;
pub use state::{Choices, ConsentId, ConsentState, Method, Revision};
pub use token::{KeyTooShort, SigningKey, Token, TokenError, TokenField};

#[cfg(feature = "alloc")]
pub use check::{Gate, Verdict};
#[cfg(feature = "alloc")]
pub use config::{
    Category, Config, ConfigError, Problem, ProblemKind, Service, ServiceName, TextShape,
};
#[cfg(feature = "alloc")]
pub use cookie_decl::{CookieDecl, CookieDeclError, CookiePattern, Lifetime};
#[cfg(feature = "alloc")]
pub use declaration::{Declaration, DeclarationError};
#[cfg(feature = "alloc")]
pub use digest::Digest;
#[cfg(feature = "alloc")]
pub use error::Error;
#[cfg(feature = "alloc")]
pub use id::{CategoryId, IdError, ServiceId};
#[cfg(feature = "alloc")]
pub use keyring::{Keyring, KeyringError, TokenKeys};
#[cfg(feature = "alloc")]
pub use localized::Localized;
#[cfg(feature = "alloc")]
pub use record::{Channel, DecisionRecord, PageUrl, PageUrlError, RecordError, chain_link};
#[cfg(feature = "alloc")]
pub use texts::{TextKey, Texts};
#[cfg(feature = "alloc")]
pub use transfer::{Safeguard, Transfer};

/// Not part of the API: what consent-wasm needs of the crate's own writers, so that the
/// banner's answers to its script are written without `core::fmt`.
/// May change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::digits::Decimal;
}

#[cfg(feature = "alloc")]
/// A complete config for a small Finnish veterinary clinic with Google Analytics, Google Ads,
/// the Facebook pixel and YouTube videos: for examples, tests and the demo.
pub const EXAMPLE_CONFIG: &str = include_str!("example_config.json");

#[cfg(feature = "alloc")]
/// A decision under [`EXAMPLE_CONFIG`] (analytics granted, on 2026-11-01), for doc examples.
#[doc(hidden)]
#[must_use]
pub fn doc_state() -> ConsentState {
    use policy::{Action, Context, Signals};
    let Ok(config) = Config::from_json(EXAMPLE_CONFIG) else {
        unreachable!("the example config is valid")
    };
    let now = time::OffsetDateTime::from_unix_timestamp(1_793_491_200)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let before = policy::evaluate(&config, None, None, now, Signals::default());
    let analytics = config
        .category_index("analytics")
        .unwrap_or(CategoryIndex::NECESSARY);
    let choices = Choices::none().with_category(&config, analytics, true);
    let ctx = Context {
        now,
        signals: Signals::default(),
        lang: Lang::Fi,
        fresh_id: ConsentId::from_bytes([0x5e; 16]),
    };
    match policy::decide(&config, &before, Action::Custom(choices), ctx) {
        Ok(d) => *d.state(),
        Err(e) => unreachable!("{e}"),
    }
}
