//! The `token` target's invariants, shared by `fuzz_targets/token.rs` and by
//! `core/tests/fuzz_seeds.rs` (which replays the committed seeds through them in `cargo test`).
//!
//! For bytes that are valid UTF-8: parsing without a key is `parse`; a token that parses prints
//! back as exactly its input and parses again to an equal token; a token verified with `key`
//! is signed and equal to the one parsed without a key.

use consent_core::{SigningKey, Token, TokenError};

/// What one input gave: parsed without a key, and verified with it (`None`: not UTF-8).
pub(crate) type Outcome = Option<(Result<Token, TokenError>, Result<Token, TokenError>)>;

/// Checks one input; panics (an assertion) on a broken invariant.
pub(crate) fn check(data: &[u8], key: &SigningKey) -> Outcome {
    let s = std::str::from_utf8(data).ok()?;
    let parsed = s.parse::<Token>();
    assert_eq!(
        Token::parse_verified(s, None),
        parsed,
        "parse_verified(s, None) != parse(s) for {s:?}"
    );
    if let Ok(token) = &parsed {
        let printed = token.to_string();
        assert_eq!(
            printed, s,
            "not canonical: {s:?} printed back as {printed:?}"
        );
        assert_eq!(
            printed.parse::<Token>().as_ref(),
            Ok(token),
            "re-parse differs for {s:?}"
        );
    }
    let verified = Token::parse_verified(s, Some(key));
    if let Ok(token) = &verified {
        assert!(token.is_signed(), "verified but unsigned: {s:?}");
        assert_eq!(
            parsed.as_ref(),
            Ok(token),
            "verified token differs from parsed for {s:?}"
        );
    }
    Some((parsed, verified))
}
