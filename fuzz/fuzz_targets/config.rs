//! Fuzzes config parsing and validation (`consent_core::Config::from_json`): the invariants
//! are in `checks/config.rs`, which `core/tests/fuzz_seeds.rs` also replays the seeds through.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/config.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::check(data));
