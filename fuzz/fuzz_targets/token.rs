//! Fuzzes the consent token parser (`consent_core::Token`): the invariants are in
//! `checks/token.rs`, which `core/tests/fuzz_seeds.rs` also replays the seeds through.
#![no_main]

use std::sync::OnceLock;

use consent_core::SigningKey;
use libfuzzer_sys::fuzz_target;

#[path = "../checks/token.rs"]
mod checks;

/// The fixed key the signed seeds in `seeds/token/` were made with.
const KEY: [u8; 32] = [0x42; 32];

fn key() -> &'static SigningKey {
    static KEY_CELL: OnceLock<SigningKey> = OnceLock::new();
    KEY_CELL.get_or_init(|| SigningKey::new(&KEY).expect("32 bytes is long enough"))
}

fuzz_target!(|data: &[u8]| {
    let _ = checks::check(data, key());
});
