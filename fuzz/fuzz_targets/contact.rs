//! Fuzzes the customer register's contact parser (`consent_core::register::Contact::parse`)
//! and the marketing record's JSON reader.
//!
//! The input is read as UTF-8 (lossily). It checks that:
//! - neither parser panics;
//! - normalising is idempotent: a parsed contact's normal form parses to itself, with the
//!   same kind, so the same customer always hashes the same;
//! - a normal form is what the rules promise: an e-mail address in lowercase ASCII with one
//!   `@`, or `+` and 8 to 15 digits;
//! - a marketing record read from JSON writes back to JSON that reads as the same record.
#![no_main]

use consent_core::register::{Contact, ContactKind, MarketingRecord};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(c) = Contact::parse(&text) {
        let again = Contact::parse(c.as_str()).expect("a normal form parses");
        assert_eq!(again, c, "normalising is not idempotent for {text:?}");
        let s = c.as_str();
        match c.kind() {
            ContactKind::Email => {
                assert_eq!(s.matches('@').count(), 1, "{s:?}");
                assert!(s.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()), "{s:?}");
            }
            ContactKind::Phone => {
                let digits = s.strip_prefix('+').expect("starts with +");
                assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{s:?}");
                assert!((8..=15).contains(&digits.len()), "{s:?}");
            }
        }
    }
    if let Ok(r) = serde_json::from_str::<MarketingRecord>(&text) {
        let json = serde_json::to_string(&r).expect("a read record writes");
        let back: MarketingRecord = serde_json::from_str(&json).expect("written JSON reads");
        assert_eq!(back, r);
        assert_eq!(back.digest(), r.digest());
    }
});
