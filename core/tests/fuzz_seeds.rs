//! Replays the fuzz corpus seeds (`fuzz/seeds/<target>/`) of the targets that exercise
//! consent-core alone (`config`, `token`, `contact`, `check`, `keyring`) as ordinary `cargo test`
//! regressions, on stable Rust, without cargo-fuzz. The invariants are not copied: each target
//! and this test include the same file, `fuzz/checks/<target>.rs`. On top of them, the seeds
//! named `*_signed` and `*_unsigned` must do what their names say (a broken MAC check or a
//! changed token format shows up here, not only as a silent fuzz no-op).
//!
//! Not replayed here: `banner`, `policy` and `page` (they call the banner and consent-gate;
//! `scripts/fuzz-bounded.sh` runs every target from its seeds on nightly).

use std::fs;
use std::path::PathBuf;

use consent_core::policy::StoredStatus;
use consent_core::{Config, SigningKey};

#[path = "../../fuzz/checks/token.rs"]
mod token;

#[path = "../../fuzz/checks/config.rs"]
mod config;

#[path = "../../fuzz/checks/contact.rs"]
mod contact;

#[path = "../../fuzz/checks/check.rs"]
mod check;

#[path = "../../fuzz/checks/keyring.rs"]
mod keyring;

/// The fixed key the signed seeds were made with (as in the targets).
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
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push((name, bytes));
    }
    out.sort();
    if out.is_empty() {
        return Err(format!("no seeds in {}", dir.display()));
    }
    Ok(out)
}

#[test]
fn config_seeds() -> Result<(), String> {
    for (_, bytes) in seeds("config")? {
        config::check(&bytes);
    }
    Ok(())
}

#[test]
fn keyring_seeds() -> Result<(), String> {
    let mut read = 0;
    for (name, bytes) in seeds("keyring")? {
        keyring::check(&bytes);
        read += usize::from(consent_core::Keyring::parse(&bytes).is_ok());
        // The seeds named for a refusal are refused.
        if name == "text" || name == "short-secret" {
            assert!(consent_core::Keyring::parse(&bytes).is_err(), "{name}");
        }
    }
    assert!(
        read >= 3,
        "the raw key and the keyrings among the seeds read"
    );
    Ok(())
}

#[test]
fn contact_seeds() -> Result<(), String> {
    for (_, bytes) in seeds("contact")? {
        contact::check(&bytes);
    }
    Ok(())
}

#[test]
fn token_seeds() -> Result<(), String> {
    let key = SigningKey::new(&KEY).map_err(|e| format!("{e:?}"))?;
    let mut verified_any = false;
    for (name, bytes) in seeds("token")? {
        let Some((parsed, verified)) = token::check(&bytes, &key) else {
            continue;
        };
        verified_any |= verified.is_ok();
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

/// Beyond the target's invariants: a seed named `*_unsigned` grants nothing but necessary to
/// the keyed gate (COMPLIANCE C8: a server with a key trusts no unsigned token), and
/// `*_signed*` seeds are valid there.
#[test]
fn check_seeds() -> Result<(), String> {
    let config = Config::from_json(consent_core::EXAMPLE_CONFIG).map_err(|e| format!("{e:?}"))?;
    let key = SigningKey::new(&KEY).map_err(|e| format!("{e:?}"))?;
    let f = check::Fixture::new(config, key);
    for (name, data) in seeds("check")? {
        let (_, signed) = check::check(&f, &data);
        if name.contains("_unsigned") {
            assert_eq!(
                signed.allowed(),
                f.config.necessary_only(),
                "{name}: the keyed gate trusted an unsigned token (C8)"
            );
        } else if name.contains("_signed") {
            assert_eq!(
                signed.status(),
                StoredStatus::Valid,
                "{name}: signed seed not valid"
            );
        }
    }
    Ok(())
}
