//! The config's fingerprint, which keeps a token made under another config from applying,
//! and the site id that is part of it.

use sha2::{Digest as _, Sha256};

use super::Category;

/// The longest [`Config::site`](super::Config::site).
pub const MAX_SITE_LEN: usize = 64;
pub(super) const SITE_ID_RULE: &str = "a site id is letters, digits, '-', '_' and '.' only";

pub(super) fn is_site_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_SITE_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

pub(super) fn fingerprint(categories: &[Category], site: Option<&str>) -> u32 {
    let mut h = Sha256::new();
    h.update(b"consent-fingerprint-v1\0");
    // Without a site the fingerprint is what it was before sites existed, so tokens made
    // then still apply.
    if let Some(site) = site {
        h.update(b"site=");
        h.update(site.as_bytes());
        h.update(b";");
    }
    for c in categories {
        h.update(c.id.as_str().as_bytes());
        h.update(b":");
        for s in &c.services {
            h.update(s.id.as_str().as_bytes());
            h.update(b",");
        }
        h.update(b";");
    }
    let d = h.finalize();
    u32::from_le_bytes([d[0], d[1], d[2], d[3]])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::lang::Lang;

    #[test]
    fn site_is_part_of_the_fingerprint_and_checked_with_its_path() {
        let plain =
            Config::from_json(crate::EXAMPLE_CONFIG).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(plain.site(), None);
        let mut v: serde_json::Value =
            serde_json::from_str(crate::EXAMPLE_CONFIG).unwrap_or_default();
        v["site"] = "klinikka.fi".into();
        let a = Config::from_value(&v).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(a.site(), Some("klinikka.fi"));
        assert_ne!(a.fingerprint(), plain.fingerprint());
        assert_ne!(a.shown_hash(Lang::Fi), plain.shown_hash(Lang::Fi));
        // Setting the site on a parsed config gives exactly the config parsed with it.
        let b = plain
            .clone()
            .with_site("klinikka.fi")
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(a, b);
        assert_eq!(a.to_json(), b.to_json());
        v["site"] = "other.fi".into();
        let c = Config::from_value(&v).unwrap_or_else(|e| unreachable!("{e}"));
        assert_ne!(a.fingerprint(), c.fingerprint());
        for (bad, message) in [
            ("", "site: empty"),
            (
                "two words",
                "site: a site id is letters, digits, '-', '_' and '.' only",
            ),
            (
                "é",
                "site: a site id is letters, digits, '-', '_' and '.' only",
            ),
        ] {
            v["site"] = bad.into();
            let e = Config::from_value(&v)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains(message), "{bad:?}: {e}");
            let e = plain
                .clone()
                .with_site(bad)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains(message), "with_site({bad:?}): {e}");
        }
        let long = "a".repeat(MAX_SITE_LEN + 1);
        assert!(plain.clone().with_site(&long).is_err());
        assert!(plain.with_site(&long[1..]).is_ok());
    }

    #[test]
    fn fingerprint_follows_ids_and_order() {
        let a = Config::from_json(crate::EXAMPLE_CONFIG).unwrap_or_else(|e| unreachable!("{e}"));
        let mut v: serde_json::Value =
            serde_json::from_str(crate::EXAMPLE_CONFIG).unwrap_or_default();
        if let Some(c) = v["categories"].as_array_mut() {
            c.swap(1, 2);
        }
        let b = Config::from_value(&v).unwrap_or_else(|e| unreachable!("{e}"));
        assert_ne!(a.fingerprint(), b.fingerprint());
        v["revision"] = 9.into();
        let c = Config::from_value(&v).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(b.fingerprint(), c.fingerprint());
    }
}
