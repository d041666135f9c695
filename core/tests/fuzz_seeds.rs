//! Replays the fuzz corpus seeds (`fuzz/seeds/<target>/`) of the targets that exercise
//! consent-core alone (`config`, `token`, `contact`, `check`) as ordinary `cargo test` regressions: each
//! seed goes through the same calls and the same invariants as its fuzz target in
//! `fuzz/fuzz_targets/<target>.rs`, on stable Rust, without cargo-fuzz. Keep the two in step:
//! a change to a target's invariants belongs here too.
//!
//! Not replayed here: `banner` (it calls `consent_wasm`, not this crate).

use std::fs;
use std::path::PathBuf;

use consent_core::declaration::{Declaration, Format};
use consent_core::policy::{self, Signals, StoredStatus};
use consent_core::register::{Contact, ContactKind, MarketingRecord};
use consent_core::{Config, Gate, SigningKey, Token, Verdict};
use time::OffsetDateTime;

/// The fixed key the signed seeds in `fuzz/seeds/token/` were made with (as in the target).
const KEY: [u8; 32] = [0x42; 32];

/// Every seed of `target`, as (file name, bytes); fails if the directory is missing or empty,
/// so that a renamed or emptied corpus is noticed rather than replayed as nothing.
fn seeds(target: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/seeds")
        .join(target);
    let mut out = Vec::new();
    let entries = fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        let bytes = fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        out.push((path.display().to_string(), bytes));
    }
    out.sort();
    if out.is_empty() {
        return Err(format!("no seeds in {}", dir.display()));
    }
    Ok(out)
}

/// `fuzz_targets/config.rs`: a config either validates, offers a declaration in each of its
/// languages (HTML without markup from the config, JSON that parses) and round-trips through
/// `to_json`, or is refused with at least one non-empty problem.
#[test]
fn config_seeds() -> Result<(), String> {
    for (name, bytes) in seeds("config")? {
        let Ok(s) = std::str::from_utf8(&bytes) else {
            continue;
        };
        match Config::from_json(s) {
            Ok(config) => {
                for &lang in config.languages() {
                    let d = Declaration::new(&config, lang, None)
                        .map_err(|e| format!("{name}: offered language {lang} refused: {e:?}"))?;
                    let html = d.render(Format::Html);
                    assert!(!html.contains("<script"), "{name}: markup from the config");
                    let _ = d.render(Format::Markdown);
                    let json = d.render(Format::Json);
                    assert!(
                        serde_json::from_str::<serde_json::Value>(&json).is_ok(),
                        "{name}: declaration JSON does not parse: {json}"
                    );
                }
                let json = config.to_json();
                assert_eq!(
                    Config::from_json(&json),
                    Ok(config),
                    "{name}: round trip failed; to_json gave {json}"
                );
            }
            Err(err) => {
                assert!(
                    !err.problems().is_empty(),
                    "{name}: rejected with no problem"
                );
                for problem in err.problems() {
                    assert!(
                        !problem.to_string().is_empty(),
                        "{name}: empty problem message {problem:?}"
                    );
                }
            }
        }
    }
    Ok(())
}

/// `fuzz_targets/token.rs`: parsing without a key is `parse`; a token that parses prints back
/// to exactly its input; a token verified with the key is signed and equal to the parsed one.
#[test]
fn token_seeds() -> Result<(), String> {
    let key = SigningKey::new(&KEY).map_err(|e| format!("{e:?}"))?;
    let mut verified_any = false;
    for (name, bytes) in seeds("token")? {
        let Ok(s) = std::str::from_utf8(&bytes) else {
            continue;
        };
        let parsed = s.parse::<Token>();
        assert_eq!(
            Token::parse_verified(s, None),
            parsed,
            "{name}: parse_verified(s, None) != parse(s)"
        );
        if let Ok(token) = &parsed {
            let printed = token.to_string();
            assert_eq!(printed, s, "{name}: not canonical");
            assert_eq!(
                printed.parse::<Token>().as_ref(),
                Ok(token),
                "{name}: re-parse"
            );
        }
        let verified = Token::parse_verified(s, Some(&key));
        if let Ok(token) = &verified {
            verified_any = true;
            assert!(token.is_signed(), "{name}: verified but unsigned");
            assert_eq!(
                parsed.as_ref(),
                Ok(token),
                "{name}: verified differs from parsed"
            );
        }
        // Seeds named `*_signed` were made with KEY: they must verify (a broken MAC check or
        // a changed token format shows up here, not only as a silent fuzz no-op).
        if name.ends_with("_signed") {
            assert!(
                verified.is_ok(),
                "{name}: a signed seed does not verify: {verified:?}"
            );
        }
        if name.ends_with("_unsigned") {
            assert!(
                parsed.is_ok(),
                "{name}: an unsigned seed does not parse: {parsed:?}"
            );
            assert!(
                verified.is_err(),
                "{name}: an unsigned token verified with a key"
            );
        }
    }
    assert!(verified_any, "no token seed verified with the fuzz key");
    Ok(())
}

/// `fuzz_targets/contact.rs`: a contact that parses normalises idempotently into a lower-case
/// e-mail with one `@` or an international phone number of 8-15 digits; a marketing record
/// that reads round-trips through JSON with the same digest.
#[test]
fn contact_seeds() -> Result<(), String> {
    for (name, bytes) in seeds("contact")? {
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(c) = Contact::parse(&text) {
            let again = Contact::parse(c.as_str()).map_err(|e| format!("{name}: {e:?}"))?;
            assert_eq!(again, c, "{name}: normalising is not idempotent");
            let s = c.as_str();
            match c.kind() {
                ContactKind::Email => {
                    assert_eq!(s.matches('@').count(), 1, "{name}: {s:?}");
                    assert!(
                        s.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()),
                        "{name}: {s:?}"
                    );
                }
                ContactKind::Phone => {
                    let digits = s
                        .strip_prefix('+')
                        .ok_or(format!("{name}: no + in {s:?}"))?;
                    assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{name}: {s:?}");
                    assert!((8..=15).contains(&digits.len()), "{name}: {s:?}");
                }
            }
        }
        if let Ok(r) = serde_json::from_str::<MarketingRecord>(&text) {
            let json = serde_json::to_string(&r).map_err(|e| format!("{name}: {e}"))?;
            let back: MarketingRecord =
                serde_json::from_str(&json).map_err(|e| format!("{name}: {e}"))?;
            assert_eq!(back, r, "{name}: record round trip");
            assert_eq!(back.digest(), r.digest(), "{name}: digest changed");
        }
    }
    Ok(())
}

/// 2026-11-01T00:00:00Z: the `check` seeds' tokens are valid at this time (as in the target).
const NOW: i64 = 1_793_491_200;

/// The consent cookie's value found the slow way, as `fuzz_targets/check.rs` does.
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

/// A verdict never grants more than necessary unless valid, and agrees with the policy.
fn check_verdict(
    config: &Config,
    verdict: &Verdict,
    key: Option<&SigningKey>,
    (name, header, gpc): (&str, &str, &str),
    now: OffsetDateTime,
) {
    let allowed = verdict.allowed();
    if verdict.status() == StoredStatus::Valid {
        assert!(config.necessary_only().is_subset_of(&allowed), "{name}");
        assert!(allowed.is_subset_of(&config.everything()), "{name}");
    } else {
        assert_eq!(
            allowed,
            config.necessary_only(),
            "{name}: grants more than necessary"
        );
    }
    let signals = Signals {
        gpc: gpc.trim() == "1",
        dnt: false,
    };
    let e = policy::evaluate(config, consent_value(header), key, now, signals);
    assert_eq!(
        verdict.status(),
        e.status(),
        "{name}: status differs from the policy's"
    );
    assert_eq!(
        verdict.allowed(),
        e.allowed(),
        "{name}: allowed differs from the policy's"
    );
    assert_eq!(
        verdict.state(),
        e.state(),
        "{name}: state differs from the policy's"
    );
}

/// `fuzz_targets/check.rs`: the server-side gate with and without a key. Beyond the target's
/// invariants, a seed named `*_unsigned` must grant nothing but necessary to the keyed gate
/// (COMPLIANCE C8: a server with a key trusts no unsigned token), and `*_signed*` seeds
/// must be valid there.
#[test]
fn check_seeds() -> Result<(), String> {
    let config = Config::from_json(consent_core::EXAMPLE_CONFIG).map_err(|e| format!("{e:?}"))?;
    let key = SigningKey::new(&KEY).map_err(|e| format!("{e:?}"))?;
    let unkeyed = Gate::new(&config, None);
    let keyed = Gate::new(&config, Some(key.clone()));
    let now = OffsetDateTime::from_unix_timestamp(NOW).map_err(|e| e.to_string())?;
    for (name, data) in seeds("check")? {
        let (header, gpc) = match data.iter().position(|&b| b == b'\n') {
            Some(at) => (&data[..at], &data[at + 1..]),
            None => (&data[..], &[][..]),
        };
        let header = String::from_utf8_lossy(header);
        let gpc = String::from_utf8_lossy(gpc);
        let input = (name.as_str(), &*header, &*gpc);

        let open = unkeyed.check(Some(&header), Some(&gpc), now);
        check_verdict(&config, &open, None, input, now);
        let signed = keyed.check(Some(&header), Some(&gpc), now);
        check_verdict(&config, &signed, Some(&key), input, now);

        if signed.status() == StoredStatus::Valid {
            assert_eq!(
                open.status(),
                StoredStatus::Valid,
                "{name}: keyed valid, unkeyed not"
            );
            assert_eq!(
                open.allowed(),
                signed.allowed(),
                "{name}: keyed and unkeyed differ"
            );
            assert_eq!(open.state(), signed.state(), "{name}: states differ");
        }
        let file = name.rsplit('/').next().unwrap_or_default();
        if file.contains("_unsigned") {
            assert_eq!(
                signed.allowed(),
                config.necessary_only(),
                "{name}: the keyed gate trusted an unsigned token (C8)"
            );
        }
        if file.contains("_signed") && !file.contains("_unsigned") {
            assert_eq!(
                signed.status(),
                StoredStatus::Valid,
                "{name}: signed seed not valid"
            );
        }
    }
    Ok(())
}
