//! Fuzzes the API the banner's script calls (`consent_wasm`: `start`, `decide`, `allows`,
//! `state`, `setLanguage`, `signed`, `reset`, `consent`), natively.
//!
//! The input is split at `\n` into up to four parts: a text, a cookie jar, category ids
//! (comma-separated) and operations (one byte each). If the text starts with `{` it is the
//! config; otherwise the config is `consent_core::EXAMPLE_CONFIG` with the text as a
//! category's id. A config that validates is compiled, and a text that does not is given to
//! `start` as the policy bytes as they are (so arbitrary bytes reach the policy reader). Then
//! `start` runs with the jar, and each operation byte (the first 32) picks a call. It checks
//! that:
//! - no call panics;
//! - every answer is JSON that parses;
//! - after "Reject all" nothing but necessary may load, and what a withdrawal revoked never
//!   loads again on the page;
//! - a jar whose consent cookie is not a token of this config asks (`show`).
#![no_main]

use consent_wasm::strings as api;
use consent_wasm::strings::Verdict;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// 2026-11-01T00:00:00Z, in milliseconds.
const NOW: f64 = 1_793_491_200_000.0;

/// At most this many calls after `start`.
const MAX_OPS: usize = 32;

/// Whether an element of `category` (no service) may load on `/` now.
fn allows(category: &str) -> bool {
    api::allows(category, None, "/") == Verdict::Allowed
}

fn parse(answer: &str) -> Value {
    serde_json::from_str(answer).unwrap_or_else(|e| panic!("not JSON ({e}): {answer}"))
}

/// The policy bytes `start` gets, and whether they are a compiled config.
fn policy(text: &str) -> (Vec<u8>, bool) {
    let json = if text.starts_with('{') {
        text.to_owned()
    } else {
        let mut v: Value = serde_json::from_str(consent_core::EXAMPLE_CONFIG).unwrap_or_default();
        v["categories"][2]["id"] = text.into();
        v.to_string()
    };
    match consent_core::Config::from_json(&json) {
        Ok(c) => match consent_core::compile::compile(&c) {
            Ok(bytes) => (bytes, true),
            Err(_) => (text.as_bytes().to_vec(), false),
        },
        Err(_) => (text.as_bytes().to_vec(), false),
    }
}

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    let mut parts = input.splitn(4, '\n');
    let text = parts.next().unwrap_or_default();
    let jar = parts.next().unwrap_or_default();
    // Category ids, comma-separated, passed on as the script passes them (any text reaches
    // the reader as it is).
    let ids_part = parts.next().unwrap_or_default();
    let id_list: Vec<&str> = ids_part.split(',').filter(|s| !s.is_empty()).collect();
    let ids = ids_part.to_owned();
    // A page's worth of calls: longer sequences explore nothing new and make each run slow
    // (every answer is parsed back, and `view` is the whole config's texts).
    let ops = parts.next().unwrap_or_default().as_bytes();
    let ops = &ops[..ops.len().min(MAX_OPS)];

    let (bytes, compiled) = policy(text);
    let v = parse(&api::start(
        &bytes,
        jar,
        NOW,
        ops.first() == Some(&b'g'),
        if ops.get(1) == Some(&b'd') {
            "1"
        } else {
            "null"
        },
        "en",
    ));
    if v.get("error").is_some() {
        assert!(!compiled, "a compiled config is refused: {v}");
        assert!(api::state() == "null" && !allows("analytics"));
        assert!(allows("necessary"), "rule 14: only the necessary");
        return;
    }
    let has_token = jar.split(';').any(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        name.trim() == "consent" && value.trim().parse::<consent_core::Token>().is_ok()
    });
    // The example's cookie is `consent`; a config from the input may name another.
    if !text.starts_with('{') && !has_token {
        assert_eq!(v["show"], true, "no token in {jar:?}, and yet no banner");
    }
    let categories: Vec<String> = {
        let policy = consent_core::compiled::CompiledPolicy::parse(&bytes).expect("started");
        policy.categories().map(|c| c.id.to_owned()).collect()
    };
    let mut revoked: Vec<String> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let random = [op.wrapping_add(i as u8); 16];
        match op % 9 {
            0..=3 => {
                let kind = ["accept_all", "reject_all", "custom", "grant"][usize::from(op % 4)];
                let d = parse(&api::decide(
                    kind,
                    &ids,
                    NOW,
                    &random,
                    jar,
                    "www.a.fi",
                    "https://www.a.fi/x",
                    true,
                ));
                if d.get("cookies").is_some() {
                    for c in &categories {
                        let allowed = d["allowed"]
                            .as_array()
                            .is_some_and(|a| a.iter().any(|x| x == c.as_str()));
                        let changed = d["changed"]
                            .as_array()
                            .is_some_and(|a| a.iter().any(|x| x == c.as_str()));
                        if changed && !allowed {
                            revoked.push(c.clone());
                        }
                    }
                    if kind == "reject_all" {
                        for c in categories.iter().filter(|c| c.as_str() != "necessary") {
                            assert!(!allows(c), "{c} loads after Reject all");
                        }
                    }
                    for c in &revoked {
                        assert!(!allows(c), "{c} loads again after its withdrawal");
                    }
                }
            }
            4 | 6 => {
                let _ = parse(&api::state());
                let id = id_list.first().copied().unwrap_or("marketing");
                // Markup naming what the policy lacks is never allowed.
                if api::allows(id, id_list.get(1).copied(), "/a") == Verdict::Allowed {
                    assert!(
                        categories.iter().any(|c| {
                            let id = id.trim_ascii();
                            c.as_str() == id.strip_prefix('!').unwrap_or(id).trim_ascii()
                        }),
                        "{id} allowed but the policy has no such category"
                    );
                }
            }
            5 => {
                let _ = api::set_language(["fi", "sv", "en", "de"][usize::from(op / 9 % 4)]);
            }
            7 => {
                let _ = parse(&api::signed(jar, false));
                let _ = parse(&api::consent());
            }
            _ => {
                let _ = parse(&api::reset(NOW, &random, jar, "a.fi"));
                assert!(
                    !categories
                        .iter()
                        .any(|c| c != "necessary" && api::accepted_category(c))
                );
            }
        }
    }
});
