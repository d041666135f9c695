//! Helpers for integration tests that need real services.
#![allow(dead_code, unreachable_pub, clippy::expect_used, clippy::panic)]

pub mod cli;
pub mod pg;
pub mod raw;
pub mod serve;
pub mod sqlite;
pub mod writer;
