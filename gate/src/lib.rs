//! Server-side consent gating for Rust web apps, on [consent-core]'s policy.
//!
//! A server that holds the site's config (and the key that signs its visitors' decisions)
//! knows each visitor's consent before it sends the first byte. This crate puts that to
//! work in three ways, from the smallest:
//!
//! | what | for | feature |
//! | --- | --- | --- |
//! | [`verdict`] | a plain function over an [`http::HeaderMap`], for any framework | — |
//! | [`ConsentLayer`] + [`Consent`] | a tower layer that puts the request's [`Verdict`] into its extensions, and the axum extractor that reads it | `axum` for the extractor |
//! | [`PageLayer`] + [`Pages`] ([`rewrite`] without tower) | the HTML layer: each page rewritten as it streams, so the page itself obeys the visitor's consent | `html` |
//!
//! All three read the request through [`Gate`] (the signature checked when it holds a key,
//! `Sec-GPC` and `DNT` honoured, nothing allocated), and every element is decided by the
//! core's page rule ([`Evaluation::allows_element`](consent_core::policy::Evaluation::allows_element)),
//! the same function the banner calls.
//!
//! # The HTML layer
//!
//! For a visitor with a valid decision, every gated element the decision allows on this
//! path is live in the HTML as sent: `<script type="text/plain" data-category=...
//! data-src=...>` becomes the script it stands for (its `data-type` as its type, the
//! response's CSP nonce), an `<iframe>` or `<img>` gets its `data-src` as `src`, and
//! `data-category="!marketing"` elements follow the same rule as in the browser. Refused
//! elements stay as they were, so the banner can still bring them to life if the visitor
//! changes their mind. The banner does not load twice what the server made live: its
//! selectors only match elements still inert. A `<template>`'s content is left as written:
//! the banner gates it when the page puts a copy of it in.
//!
//! For a visitor without one (a first visit, an expired or older-revision decision, a
//! cookie that is unsigned, edited or foreign when the server has a key), nothing gated is
//! live and the first layer ([`first_layer::render`]) goes at the end of `<body>`, so it is
//! in the first paint; the banner takes it over when it loads. When the page links the
//! banner's stylesheet (`<link rel="stylesheet" href=".../consent.css">`), the first layer
//! comes with the few rules it needs inline (its critical CSS, written in front of the link
//! so that the whole stylesheet comes after it in the cascade, let in by the response's
//! style nonce or its hash). For every visitor the link and the banner's module script
//! (`<script type="module" src=".../consent.js">`) are held back inert and put back once
//! the first contentful paint is on screen, by a small script at the end of `<body>` (let in
//! by the script nonce or its hash): neither holds back the page's first paint, nor competes
//! with a live analytics tag, and the banner is not fetched or evaluated while the first
//! frame is produced. A settings
//! control (`[data-consent-open]`) clicked before then loads the banner at once and opens
//! its preferences. Only `window.Consent` comes later than a module script's would.
//!
//! # The page cache
//!
//! A page's rewrite depends on its bytes and on what the visitor allows, not on who they
//! are, so [`Pages`] records each page's rewrite once per kind of verdict and replays it
//! with copies, the response's own nonces and first layer filled in ([`PageCache`]: its
//! rules, what it keys on, and its caveats). It holds at most 32 MiB by default
//! ([`Pages::with_cache_capacity`]). A page is keyed by its strong `ETag` where a shared
//! cache would trust it, else by its bytes (compared whole before a replay), which means
//! buffering it: pages of unknown length, or larger than [`PageCache::max_body`], stream
//! through the rewriter as before.
//!
//! When the site uses Consent Mode, its `default` command (and the `update` for a valid
//! decision) is written first in `<head>` (or before its first script, where the page's
//! `<meta charset>` must stay in its first 1024 bytes), before any Google tag; the layer
//! lets it run under the response's Content-Security-Policy (its nonce, or else its hash
//! added).
//!
//! Everything else passes through byte for byte: responses that are not `text/html` (or
//! that name several types, which browsers may read otherwise than the layer), HTML
//! under a `Content-Encoding` (put the layer inside the compression layer), HTML to save
//! (`Content-Disposition: attachment`), partial and empty responses, responses carrying
//! [`Untouched`], and what a script fetched (`Sec-Fetch-Dest: empty`: htmx, Turbo, `fetch`),
//! a fragment to swap into a page that has the banner already. A rewritten response is marked
//! `Cache-Control: private` and `Vary: Cookie, Sec-GPC, DNT, Sec-Fetch-Dest`, without its
//! `ETag` and `Last-Modified`; so is the response to a `HEAD` request for a page, a
//! script's fetch of one and a part of one (`206`), whose bodies pass through: no cache gives
//! them to a navigation, which would get the page without Consent Mode's `default` or the
//! first layer.
//!
//! ```
//! # #[cfg(feature = "html")] {
//! use std::sync::Arc;
//! use axum::{Router, response::Html, routing::get};
//! use consent_core::Config;
//! use consent_gate::{PageLayer, Pages};
//!
//! let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
//! let pages = Arc::new(Pages::new(config, None)); // with_keys in production (below)
//! let app: Router = Router::new()
//!     .route("/", get(|| async { Html(include_str!("../README.md")) }))
//!     .layer(PageLayer::new(pages));
//! # }
//! # Ok::<(), consent_core::ConfigError>(())
//! ```
//!
//! # The server's key
//!
//! With a key, only decisions the consent server signed count, not ones a browser made up.
//! The key is the server's key file (`consent.key`): 32 raw bytes until the first `consent
//! key rotate`, a text keyring after it, which holds the retired keys whose tokens the server
//! still accepts. [`read_key_file`] reads either into [`TokenKeys`], for [`Gate::with_keys`]
//! and `Pages::with_keys` (`html`), so a cookie signed under a retired key counts here for as long
//! as it does on the server (until it expires, or not at all after `consent key rotate
//! --revoke-tokens`), and anything else in the file is an error, never a key.
//!
//! ```no_run
//! # #[cfg(feature = "html")] {
//! use std::sync::Arc;
//! use consent_core::Config;
//! use consent_gate::Pages;
//!
//! let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
//! let keys = consent_gate::read_key_file("/etc/consent/consent.key".as_ref())?;
//! let pages = Arc::new(Pages::with_keys(config, keys));
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Gating a handler
//!
//! ```
//! # #[cfg(feature = "axum")] {
//! use std::sync::Arc;
//! use axum::{Router, routing::post};
//! use consent_core::{Config, Gate};
//! use consent_gate::{Consent, ConsentLayer};
//!
//! let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
//! let gate = Arc::new(Gate::new(&config, None));
//! let analytics = gate.category("analytics").expect("in the example config");
//!
//! let app: Router = Router::new()
//!     .route("/collect", post(move |Consent(verdict): Consent| async move {
//!         if verdict.allows(analytics) { "forwarded" } else { "dropped: no consent" }
//!     }))
//!     .layer(ConsentLayer::new(gate));
//! # }
//! # Ok::<(), consent_core::ConfigError>(())
//! ```
//!
//! [consent-core]: consent_core

#![cfg_attr(docsrs, feature(doc_cfg))]

mod key_file;
mod layer;
mod request;

#[cfg(feature = "axum")]
mod extract;

#[cfg(feature = "html")]
mod cache;
#[cfg(feature = "html")]
mod cache_control;
#[cfg(feature = "html")]
mod consent_mode;
#[cfg(feature = "html")]
mod critical;
#[cfg(feature = "html")]
mod csp;
#[cfg(feature = "html")]
pub mod first_layer;
#[cfg(feature = "html")]
mod page_layer;
#[cfg(feature = "html")]
mod pages;
#[cfg(feature = "html")]
mod rewriter;

#[cfg(feature = "html")]
pub use cache::{DEFAULT_CAPACITY, PageCache};
pub use consent_core;
pub use consent_core::{Gate, TokenKeys, Verdict};
#[cfg(feature = "axum")]
pub use extract::Consent;
pub use key_file::{KeyFileError, read_key_file};
pub use layer::{ConsentLayer, ConsentService};
#[cfg(feature = "html")]
pub use page_layer::{PageBody, PageFuture, PageLayer, PageService};
#[cfg(feature = "html")]
pub use pages::{Pages, Untouched, Visit, rewrite};
pub use request::{cookie_headers, signals, verdict};
#[cfg(feature = "html")]
pub use rewriter::PageRewriter;
