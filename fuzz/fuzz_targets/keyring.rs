//! Fuzzes the server key file's parser (`consent_core::Keyring::parse`, which `consent serve`
//! and consent-gate's `read_key_file` read `consent.key` with): the invariants are in
//! `checks/keyring.rs`, which `core/tests/fuzz_seeds.rs` also replays the seeds through.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/keyring.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::check(data));
