//! The `contact` target's invariants, shared by `fuzz_targets/contact.rs` and by
//! `core/tests/fuzz_seeds.rs`.
//!
//! The input read as UTF-8 (lossily): normalising a contact is idempotent and gives what the
//! rules promise (lowercase ASCII e-mail with one `@`, or `+` and 8 to 15 digits); a marketing
//! record read from JSON writes back to JSON that reads as the same record, with the same digest.

use consent_core::register::{Contact, ContactKind, MarketingRecord};

/// Checks one input; panics (an assertion) on a broken invariant.
pub(crate) fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(c) = Contact::parse(&text) {
        let again = Contact::parse(c.as_str());
        assert_eq!(
            again.as_ref(),
            Ok(&c),
            "normalising is not idempotent for {text:?}"
        );
        let s = c.as_str();
        match c.kind() {
            ContactKind::Email => {
                assert_eq!(s.matches('@').count(), 1, "{s:?}");
                assert!(
                    s.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()),
                    "{s:?}"
                );
            }
            ContactKind::Phone => {
                let digits = s.strip_prefix('+');
                assert!(digits.is_some(), "no + in {s:?}");
                let digits = digits.unwrap_or_default();
                assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{s:?}");
                assert!((8..=15).contains(&digits.len()), "{s:?}");
            }
        }
    }
    if let Ok(r) = serde_json::from_str::<MarketingRecord>(&text) {
        let json = serde_json::to_string(&r);
        assert!(json.is_ok(), "a read record does not write: {json:?}");
        let back = serde_json::from_str::<MarketingRecord>(&json.unwrap_or_default());
        assert_eq!(back.as_ref().ok(), Some(&r), "record round trip");
        assert_eq!(
            back.map(|b| b.digest()).ok(),
            Some(r.digest()),
            "digest changed"
        );
    }
}
