//! The cookie banner: [`consent_core`] compiled to WebAssembly.
//!
//! A shell for now; the banner itself is built in its own issue. It re-exports the core so
//! the crate graph and the wasm build are in place.

pub use consent_core;
