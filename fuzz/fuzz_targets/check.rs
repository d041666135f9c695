//! Fuzzes the allocation-free server-side check (`consent_core::Gate::check`).
//!
//! The input is split at its first `\n`: the bytes before are the `Cookie` header, the bytes
//! after the `Sec-GPC` header (lossily decoded as UTF-8). Both are checked under
//! `consent_core::EXAMPLE_CONFIG` at a fixed `now` (unix 1 793 491 200), once by a gate
//! without a key and once by a gate with a fixed key. It checks that:
//! - the check never panics;
//! - malformed, missing, expired or outdated consent never grants anything: whenever the
//!   status is not `Valid`, `verdict.allowed() == config.necessary_only()`;
//! - a `Valid` verdict always allows necessary and nothing outside the config;
//! - a key only adds a check: a `Valid` verdict from the keyed gate is also `Valid`, with the
//!   same allowed set, from the unkeyed gate;
//! - the gate's one-pass decoder changes no answer: each verdict (status, allowed set, state)
//!   is what `policy::evaluate` gives for the consent cookie's value found the slow way
//!   (the header split into cookie-pairs).
#![no_main]

use std::sync::OnceLock;

use consent_core::policy::{self, Signals, StoredStatus};
use consent_core::{Config, Gate, SigningKey, Verdict};
use libfuzzer_sys::fuzz_target;
use time::OffsetDateTime;

/// The fixed key the signed seeds in `seeds/check/` were made with (as for `token`).
const KEY: [u8; 32] = [0x42; 32];
/// 2026-11-01T00:00:00Z: the seeds' tokens are valid at this time.
const NOW: i64 = 1_793_491_200;

struct Fixture {
    config: Config,
    key: SigningKey,
    unkeyed: Gate,
    keyed: Gate,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let config =
            Config::from_json(consent_core::EXAMPLE_CONFIG).expect("the example config is valid");
        let key = SigningKey::new(&KEY).expect("32 bytes is long enough");
        Fixture {
            unkeyed: Gate::new(&config, None),
            keyed: Gate::new(&config, Some(key.clone())),
            key,
            config,
        }
    })
}

fn check_invariants(config: &Config, verdict: &Verdict, input: (&str, &str)) {
    let allowed = verdict.allowed();
    if verdict.status() == StoredStatus::Valid {
        assert!(
            config.necessary_only().is_subset_of(&allowed),
            "valid verdict without necessary for {input:?}"
        );
        assert!(
            allowed.is_subset_of(&config.everything()),
            "valid verdict allows something outside the config for {input:?}"
        );
    } else {
        assert_eq!(
            allowed,
            config.necessary_only(),
            "status {} grants more than necessary for {input:?}",
            verdict.status()
        );
    }
}

/// The consent cookie's value, found the slow way: the first cookie-pair named `consent`, up
/// to its `;`, without trailing whitespace and surrounding double quotes.
fn consent_value(header: &str) -> Option<&str> {
    let value = header
        .split(';')
        .find_map(|pair| {
            pair.trim_start_matches([' ', '\t'])
                .strip_prefix("consent=")
        })?
        .trim_ascii_end();
    Some(
        value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value),
    )
}

/// The verdict is what the policy says about the value found the slow way.
fn check_against_policy(
    f: &Fixture,
    verdict: &Verdict,
    key: Option<&SigningKey>,
    header: &str,
    gpc: &str,
    now: OffsetDateTime,
) {
    let signals = Signals {
        gpc: gpc.trim() == "1",
        dnt: false,
    };
    let e = policy::evaluate(&f.config, consent_value(header), key, now, signals);
    let input = (header, gpc, key.is_some());
    assert_eq!(
        verdict.status(),
        e.status(),
        "status differs from the policy's for {input:?}"
    );
    assert_eq!(
        verdict.allowed(),
        e.allowed(),
        "allowed differs from the policy's for {input:?}"
    );
    assert_eq!(
        verdict.state(),
        e.state(),
        "state differs from the policy's for {input:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let (header, gpc) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let header = String::from_utf8_lossy(header);
    let gpc = String::from_utf8_lossy(gpc);
    let input = (&*header, &*gpc);

    let f = fixture();
    let now = OffsetDateTime::from_unix_timestamp(NOW).expect("in range");

    let open = f.unkeyed.check(Some(&header), Some(&gpc), now);
    check_invariants(&f.config, &open, input);

    let signed = f.keyed.check(Some(&header), Some(&gpc), now);
    check_invariants(&f.config, &signed, input);

    check_against_policy(f, &open, None, &header, &gpc, now);
    check_against_policy(f, &signed, Some(&f.key), &header, &gpc, now);

    if signed.status() == StoredStatus::Valid {
        assert_eq!(
            open.status(),
            StoredStatus::Valid,
            "keyed valid, unkeyed not, for {input:?}"
        );
        assert_eq!(
            open.allowed(),
            signed.allowed(),
            "keyed and unkeyed differ for {input:?}"
        );
        assert_eq!(
            open.state(),
            signed.state(),
            "keyed and unkeyed states differ for {input:?}"
        );
    }
});
