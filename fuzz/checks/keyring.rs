//! The `keyring` target's invariants, shared by `fuzz_targets/keyring.rs` and by
//! `core/tests/fuzz_seeds.rs`.
//!
//! The input is a server key file's bytes (`consent.key`): parsing never panics; a keyring
//! read prints back to text that parses to the same keyring and prints the same
//! (`parse -> print -> parse`); its current key's tokens are accepted and it has one
//! `TokenKeys` retired key per other key whose tokens are; and bytes that are all text are
//! never one raw key.

use consent_core::keyring::{KEYRING_TAG, Keyring, Tokens};

/// Checks one input; panics (an assertion) on a broken invariant.
pub(crate) fn check(data: &[u8]) {
    let Ok(ring) = Keyring::parse(data) else {
        return;
    };
    let text = ring.to_string();
    let back = Keyring::parse(text.as_bytes());
    assert_eq!(
        back.as_ref(),
        Ok(&ring),
        "parse -> print -> parse: {text:?}"
    );
    assert_eq!(
        back.map(|b| b.to_string()).ok(),
        Some(text),
        "print is not canonical"
    );
    assert_eq!(
        ring.current().tokens(),
        Tokens::Accepted,
        "the current key signs"
    );
    let accepted = ring
        .entries()
        .iter()
        .filter(|e| e.tokens() == Tokens::Accepted)
        .count();
    assert_eq!(ring.token_keys().retired().len() + 1, accepted);
    assert!(ring.entries().iter().all(|e| e.secret().len() >= 32));
    if !data.starts_with(KEYRING_TAG.as_bytes()) {
        assert_eq!(ring.entries().len(), 1, "a raw key file is one key");
        assert!(
            !data
                .iter()
                .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace()),
            "text taken for a raw key: {data:?}"
        );
    }
}
