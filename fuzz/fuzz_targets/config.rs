//! Fuzzes config parsing and validation (`consent_core::Config::from_json`).
//!
//! For arbitrary bytes that are valid UTF-8 it checks that:
//! - parsing and validation never panic;
//! - an accepted config round-trips: `Config::from_json(&config.to_json()) == Ok(config)`;
//! - the cookie declaration of an accepted config renders in each of its languages and every
//!   format without a panic, its HTML holds no markup from the config (`<script`), and its
//!   JSON parses;
//! - a rejected one says why: `problems()` is non-empty and every problem displays as a
//!   non-empty message.
#![no_main]

use consent_core::Config;
use consent_core::declaration::{Declaration, Format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    match Config::from_json(s) {
        Ok(config) => {
            for &lang in config.languages() {
                let Ok(d) = Declaration::new(&config, lang, None) else {
                    panic!("an offered language {lang} was refused");
                };
                let html = d.render(Format::Html);
                assert!(!html.contains("<script"), "markup from the config: {html}");
                let _ = d.render(Format::Markdown);
                assert!(serde_json::from_str::<serde_json::Value>(&d.render(Format::Json)).is_ok());
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
});
