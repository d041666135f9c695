//! Replays the fuzz corpus seeds (`fuzz/seeds/<target>/`) of the targets that exercise
//! consent-core alone (`config`, `token`, `contact`) as ordinary `cargo test` regressions: each
//! seed goes through the same calls and the same invariants as its fuzz target in
//! `fuzz/fuzz_targets/<target>.rs`, on stable Rust, without cargo-fuzz. Keep the two in step:
//! a change to a target's invariants belongs here too.
//!
//! Not replayed here: `check` (its fixture lives in the target) and `banner` (it calls
//! `consent_wasm`, not this crate); see the report of issue 18.

use std::fs;
use std::path::PathBuf;

use consent_core::declaration::{Declaration, Format};
use consent_core::register::{Contact, ContactKind, MarketingRecord};
use consent_core::{Config, SigningKey, Token};

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
