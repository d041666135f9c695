//! The site's own proof of consent: a tamper-evident decision log, the HTTP API the banner
//! talks to, server-side gating, and the `consent` command.
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`store`] | the log's storage trait, with SQLite (embedded default) and PostgreSQL |
//! | [`verify`] | walking the hash chain and naming the first broken record |
//! | [`key`] | the server key that signs tokens and purge checkpoints |
//! | [`admin`] | the clinic's dashboard (fi/sv/en): requests, consent rates, the register, the log's integrity |
//! | [`api`] | the HTTP API (axum) |
//! | [`nojs`] | the first layer and preferences rendered on the server, for pages without JavaScript |
//! | [`playground`] | the playground page at `/playground/`: a config checked, previewed and compiled in the browser |
//! | [`gating`] | server-side consent checks and the HTML layer: [`consent_gate`], re-exported |
//! | [`register`] | the customer register: marketing consents and objections, `may_market`, the bulk list check |
//! | [`stats`] | decisions per day and acceptance per category |
// `scan` is linked only where it is built: without the feature the link would be broken,
// and rustdoc refuses broken links.
#![cfg_attr(
    feature = "scan",
    doc = "| [`scan`] | `consent scan`: what a site really sets, in headless Chromium, against the config |"
)]
#![cfg_attr(
    not(feature = "scan"),
    doc = "| `scan` (feature `scan`) | `consent scan`: what a site really sets, in headless Chromium, against the config |"
)]

pub mod admin;
pub mod api;
pub mod client;
mod demo;
pub mod ids;
pub mod key;
pub mod listen;
pub mod nojs;
pub mod playground;
pub mod register;
#[cfg(feature = "scan")]
pub mod scan;
pub mod stats;
pub mod store;
pub mod verify;

pub use consent_core;
/// Server-side gating, from the [`consent_gate`] crate (kept here under its old name).
pub use consent_gate as gating;
pub use key::ServerKey;
pub use store::{Store, StoreError};

// The README's snippets are compiled and run as doctests here, where both the core and the
// server (with axum) are dependencies.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
