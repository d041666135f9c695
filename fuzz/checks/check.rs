//! The `check` target's invariants, shared by `fuzz_targets/check.rs` and by
//! `core/tests/fuzz_seeds.rs`.
//!
//! The input is split at its first `\n`: the `Cookie` header before, the `Sec-GPC` header
//! after (lossily as UTF-8). Both go through a gate without a key and one with a fixed key,
//! under `EXAMPLE_CONFIG` at a fixed `now`:
//! - a status other than `Valid` grants exactly `config.necessary_only()`;
//! - `Valid` allows necessary and nothing outside the config;
//! - a key only adds a check: keyed `Valid` implies unkeyed `Valid`, with the same result
//!   when the header holds one consent cookie (of several, the key may pass over an unsigned
//!   one that the gate without it takes);
//! - the one-pass decoder changes no answer: each verdict is what `policy::evaluate` gives
//!   for the consent values found the slow way (the header split into cookie-pairs): the
//!   valid one decided last (the first of those alike; policy rule 15), else the first.

use consent_core::policy::{self, Signals, StoredStatus};
use consent_core::{Config, Gate, SigningKey, Verdict};
use time::OffsetDateTime;

/// 2026-11-01T00:00:00Z: the seeds' tokens are valid at this time.
pub(crate) const NOW: i64 = 1_793_491_200;

/// The config, its key and the two gates, built once.
pub(crate) struct Fixture {
    pub(crate) config: Config,
    pub(crate) key: SigningKey,
    pub(crate) unkeyed: Gate,
    pub(crate) keyed: Gate,
}

impl Fixture {
    pub(crate) fn new(config: Config, key: SigningKey) -> Self {
        Self {
            unkeyed: Gate::new(&config, None),
            keyed: Gate::new(&config, Some(key.clone())),
            key,
            config,
        }
    }
}

/// Checks one input; panics (an assertion) on a broken invariant. The verdicts of the gate
/// without and with the key.
pub(crate) fn check(f: &Fixture, data: &[u8]) -> (Verdict, Verdict) {
    let (header, gpc) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let header = String::from_utf8_lossy(header);
    let gpc = String::from_utf8_lossy(gpc);
    let input = (&*header, &*gpc);
    let Ok(now) = OffsetDateTime::from_unix_timestamp(NOW) else {
        unreachable!("a fixed time in range")
    };
    let open = f.unkeyed.check(Some(&header), Some(&gpc), now);
    let signed = f.keyed.check(Some(&header), Some(&gpc), now);
    for (verdict, key) in [(&open, None), (&signed, Some(&f.key))] {
        invariants(&f.config, verdict, input);
        against_policy(&f.config, verdict, key, input, now);
    }
    if signed.status() == StoredStatus::Valid {
        assert_eq!(
            open.status(),
            StoredStatus::Valid,
            "keyed valid, unkeyed not, for {input:?}"
        );
    }
    if signed.status() == StoredStatus::Valid && consent_values(&header).len() == 1 {
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
    (open, signed)
}

fn invariants(config: &Config, verdict: &Verdict, input: (&str, &str)) {
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

/// The consent cookies' values, found the slow way: every cookie-pair named `consent`, up to
/// its `;`, without trailing whitespace and surrounding double quotes.
fn consent_values(header: &str) -> Vec<&str> {
    header
        .split(';')
        .filter_map(|pair| {
            pair.trim_start_matches([' ', '\t'])
                .strip_prefix("consent=")
        })
        .map(|value| {
            let value = value.trim_ascii_end();
            value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value)
        })
        .collect()
}

fn against_policy(
    config: &Config,
    verdict: &Verdict,
    key: Option<&SigningKey>,
    input: (&str, &str),
    now: OffsetDateTime,
) {
    let signals = Signals {
        gpc: input.1.trim() == "1",
        dnt: false,
    };
    let each: Vec<_> = consent_values(input.0)
        .into_iter()
        .map(|v| policy::evaluate(config, Some(v), key, now, signals))
        .collect();
    let last = |e: &policy::Evaluation| e.state().map(|s| s.decision_times::<i64>().1);
    let mut latest: Option<&policy::Evaluation> = None;
    for e in each.iter().filter(|e| e.status() == StoredStatus::Valid) {
        if latest.is_none_or(|l| last(e) > last(l)) {
            latest = Some(e);
        }
    }
    let e = latest
        .or(each.first())
        .copied()
        .unwrap_or_else(|| policy::evaluate(config, None, key, now, signals));
    let keyed = key.is_some();
    assert_eq!(
        verdict.status(),
        e.status(),
        "status differs from the policy's for {input:?} (keyed {keyed})"
    );
    assert_eq!(
        verdict.allowed(),
        e.allowed(),
        "allowed differs from the policy's for {input:?} (keyed {keyed})"
    );
    assert_eq!(
        verdict.state(),
        e.state(),
        "state differs from the policy's for {input:?} (keyed {keyed})"
    );
}
