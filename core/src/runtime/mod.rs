//! The runtime: the consent state, the token and its cookie, and evaluate and decide over a
//! site's policy (a compiled policy in the browser, a config on the server). No heap: the
//! crate builds this layer alone without its `alloc` feature, which is how the WebAssembly
//! banner links it; every rule here is the server's too, so nothing is written twice.
//!
//! Its modules are re-exported at the crate's root (`consent_core::policy`, ...).

pub(crate) mod b64;
pub mod compiled;
pub mod consent_cookie;
pub mod consent_mode;
pub mod decision;
pub(crate) mod digits;
pub(crate) mod index;
pub mod lang;
pub mod policy;
pub(crate) mod signals;
pub mod site;
pub mod state;
pub mod text;
pub mod token;
