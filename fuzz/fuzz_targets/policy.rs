//! Fuzzes the compiled site policy reader (`consent_core::compiled::CompiledPolicy`) and the
//! rules over it, with arbitrary policy bytes and cookie bytes.
//!
//! The input is split at its first `0xff 0xfe` pair (or taken whole as the policy): the bytes
//! before it are the policy, the rest a cookie value. It checks that:
//! - parsing never panics, and a policy that parses answers every accessor without panicking;
//! - arbitrary bytes with the example policy's checksum recomputed still never panic (so the
//!   fields themselves are fuzzed, not only the checksum);
//! - evaluating any cookie over a policy that parses never panics and never allows a category
//!   outside the policy.
#![no_main]

use consent_core::compiled::CompiledPolicy;
use consent_core::policy::{self, Signals};
use libfuzzer_sys::fuzz_target;

fn exercise(policy: &CompiledPolicy<'_>, cookie: &str) {
    let _ = (
        policy.site(),
        policy.endpoint(),
        policy.cookie(),
        policy.languages().len(),
    );
    for c in policy.categories() {
        assert_eq!(
            policy.category_index(c.id).map(|i| i.get() < 32),
            Some(true)
        );
    }
    for s in policy.services() {
        let _ = (
            s.exclude_paths().count(),
            s.cookies().count(),
            s.is_excluded_on("/a/b"),
        );
        assert!(s.category.get() < policy.category_count());
    }
    let now = time::OffsetDateTime::from_unix_timestamp(1_793_491_200).expect("in range");
    for gpc in [false, true] {
        let ev = policy::evaluate(policy, Some(cookie), None, now, Signals { gpc, dnt: gpc });
        assert!(
            ev.allowed()
                .categories()
                .all(|c| c.get() < policy.category_count())
        );
        assert!(
            ev.allowed()
                .services()
                .all(|s| s.get() < policy.service_count())
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let split = data.windows(2).position(|w| w == [0xff, 0xfe]);
    let (bytes, cookie) = match split {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (data, &[][..]),
    };
    let cookie = String::from_utf8_lossy(cookie);
    if let Ok(policy) = CompiledPolicy::parse(bytes) {
        exercise(&policy, &cookie);
    }
    // The same bytes behind a valid header and checksum: the body's fields are what is tried.
    if bytes.len() >= 13 {
        let mut framed = bytes.to_vec();
        framed[..4].copy_from_slice(b"CPOL");
        framed[4] = consent_core::compiled::FORMAT_VERSION;
        let len = framed.len() as u32;
        framed[5..9].copy_from_slice(&len.to_le_bytes());
        let body = framed.len() - 4;
        let sum = adler2::adler32_slice(&framed[..body]);
        framed[body..].copy_from_slice(&sum.to_le_bytes());
        if let Ok(policy) = CompiledPolicy::parse(&framed) {
            exercise(&policy, &cookie);
        }
    }
});
