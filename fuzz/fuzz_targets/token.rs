//! Fuzzes the consent token parser (`consent_core::Token`).
//!
//! For arbitrary bytes that are valid UTF-8 it checks that:
//! - parsing never panics, with or without a signing key;
//! - the format is canonical: a string that parses prints back as exactly itself
//!   (`print(parse(s)) == s`), and parses again to an equal token;
//! - `Token::parse_verified(s, None)` is the same as `s.parse()`;
//! - `Token::parse_verified(s, Some(&key))` succeeds only for a signed token, and then gives
//!   the same token as parsing without a key (a key only adds a check, never changes the result).
#![no_main]

use std::sync::OnceLock;

use consent_core::{SigningKey, Token};
use libfuzzer_sys::fuzz_target;

/// The fixed key the signed seeds in `seeds/token/` were made with.
const KEY: [u8; 32] = [0x42; 32];

fn key() -> &'static SigningKey {
    static KEY_CELL: OnceLock<SigningKey> = OnceLock::new();
    KEY_CELL.get_or_init(|| SigningKey::new(&KEY).expect("32 bytes is long enough"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };

    let parsed = s.parse::<Token>();
    assert_eq!(Token::parse_verified(s, None), parsed, "parse_verified(s, None) != parse(s)");
    if let Ok(token) = &parsed {
        let printed = token.to_string();
        assert_eq!(printed, s, "not canonical: {s:?} printed back as {printed:?}");
        assert_eq!(printed.parse::<Token>().as_ref(), Ok(token), "re-parse differs for {s:?}");
    }

    let verified = Token::parse_verified(s, Some(key()));
    if let Ok(token) = &verified {
        assert!(token.is_signed(), "verified but unsigned: {s:?}");
        assert_eq!(parsed.as_ref(), Ok(token), "verified token differs from parsed for {s:?}");
    }
});
