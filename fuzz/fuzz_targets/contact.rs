//! Fuzzes the customer register's contact parser and the marketing record's JSON reader: the
//! invariants are in `checks/contact.rs`, which `core/tests/fuzz_seeds.rs` also replays the
//! seeds through.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/contact.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::check(data));
