//! The decision log, the HTTP API, gating middleware and the `consent` command.
//!
//! A shell for now; the server is built in its own issue. It re-exports the core so the
//! crate graph is in place.

pub use consent_core;
