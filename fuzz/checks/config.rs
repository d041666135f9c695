//! The `config` target's invariants, shared by `fuzz_targets/config.rs` and by
//! `core/tests/fuzz_seeds.rs`.
//!
//! For bytes that are valid UTF-8: an accepted config offers a declaration in each of its
//! languages (HTML without markup from the config, Markdown, JSON that parses) and round-trips
//! through `to_json`; a rejected one has at least one problem, each with a non-empty message.

use consent_core::Config;
use consent_core::declaration::{Declaration, Format};

/// Checks one input; panics (an assertion) on a broken invariant.
pub(crate) fn check(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    match Config::from_json(s) {
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
                assert!(
                    !problem.to_string().is_empty(),
                    "empty problem message {problem:?} for {s:?}"
                );
            }
        }
    }
}
