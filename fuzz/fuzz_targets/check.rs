//! Fuzzes the allocation-free server-side check (`consent_core::Gate::check`): the invariants
//! are in `checks/check.rs`, which `core/tests/fuzz_seeds.rs` also replays the seeds through.
#![no_main]

use std::sync::OnceLock;

use consent_core::{Config, SigningKey};
use libfuzzer_sys::fuzz_target;

#[path = "../checks/check.rs"]
mod checks;

/// The fixed key the signed seeds in `seeds/check/` were made with (as for `token`).
const KEY: [u8; 32] = [0x42; 32];

fn fixture() -> &'static checks::Fixture {
    static FIXTURE: OnceLock<checks::Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let config =
            Config::from_json(consent_core::EXAMPLE_CONFIG).expect("the example config is valid");
        checks::Fixture::new(
            config,
            SigningKey::new(&KEY).expect("32 bytes is long enough"),
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = checks::check(fixture(), data);
});
