//! The `config` target's invariants, shared by `fuzz_targets/config.rs` and by
//! `core/tests/fuzz_seeds.rs`.
//!
//! Any bytes, read as every reader of a config file reads them (`Config::from_slice`: a byte
//! order mark, bytes that are not UTF-8, a file too large): an accepted config offers a
//! declaration in each of its languages (HTML without markup from the config, Markdown, JSON
//! that parses) and round-trips through `to_json`; a rejected one has at least one problem,
//! each with a non-empty message on one line.

use consent_core::Config;
use consent_core::declaration::{Declaration, Format};

/// Checks one input; panics (an assertion) on a broken invariant.
pub(crate) fn check(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    match Config::from_slice(data) {
        Ok(config) => {
            for &lang in config.languages() {
                let d = Declaration::new(&config, lang, None);
                assert!(d.is_ok(), "an offered language {lang} was refused: {d:?}");
                let Ok(d) = d else { return };
                let html = d.render(Format::Html);
                assert!(!html.contains("<script"), "markup from the config: {html}");
                let _ = d.render(Format::Markdown);
                let json = d.render(Format::Json);
                assert!(
                    serde_json::from_str::<serde_json::Value>(&json).is_ok(),
                    "declaration JSON does not parse: {json}"
                );
            }
            let json = config.to_json();
            assert_eq!(
                Config::from_json(&json),
                Ok(config),
                "round trip failed; to_json gave {json}"
            );
        }
        Err(err) => {
            assert!(
                !err.problems().is_empty(),
                "rejected with no problem: {s:?}"
            );
            for problem in err.problems() {
                let line = problem.to_string();
                assert!(
                    !line.is_empty(),
                    "empty problem message {problem:?} for {s:?}"
                );
                assert!(
                    !line.contains(['\n', '\r', '\u{1b}']),
                    "a problem that is not one line: {line:?} for {s:?}"
                );
            }
        }
    }
}
