//! [`Config::shown_hash`]: SHA-256 of exactly what a visitor was shown, computed once per
//! language.

use sha2::{Digest as _, Sha256};

use super::Config;
use crate::digest::Digest;
use crate::lang::Lang;
use crate::texts::TextKey;

/// The lazily computed [`Config::shown_hash`] of each language. Derived from the rest of the
/// config, so it takes no part in comparing configs. With std a `OnceLock`, so configs are
/// shared across threads; without (the banner: one thread) a `OnceCell`.
#[derive(Clone, Debug, Default)]
pub(super) struct ShownHashes(pub(super) [Once<Digest>; 3]);

#[cfg(feature = "std")]
type Once<T> = std::sync::OnceLock<T>;
#[cfg(not(feature = "std"))]
type Once<T> = core::cell::OnceCell<T>;

impl PartialEq for ShownHashes {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for ShownHashes {}

impl Config {
    pub(super) fn compute_shown_hash(&self, lang: Lang) -> Digest {
        let mut h = Sha256::new();
        h.update(b"consent-shown-v1\0");
        h.update(self.to_json().as_bytes());
        h.update(b"\0");
        h.update(lang.as_str().as_bytes());
        let texts = self.texts(lang);
        for &key in TextKey::ALL {
            h.update(b"\0");
            h.update(key.as_str().as_bytes());
            h.update(b"=");
            h.update(texts.get(key).as_bytes());
        }
        Digest::from_bytes(h.finalize().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_hash_changes_with_language_and_texts() {
        let a = Config::from_json(crate::EXAMPLE_CONFIG).unwrap_or_else(|e| unreachable!("{e}"));
        assert_ne!(a.shown_hash(Lang::Fi), a.shown_hash(Lang::Sv));
        let mut v: serde_json::Value =
            serde_json::from_str(crate::EXAMPLE_CONFIG).unwrap_or_default();
        v["texts"] = serde_json::json!({"fi": {"accept_all": "Hyväksyn"}});
        let b = Config::from_value(&v).unwrap_or_else(|e| unreachable!("{e}"));
        assert_ne!(a.shown_hash(Lang::Fi), b.shown_hash(Lang::Fi));
        // The same config and language always hash the same (browser and server agree).
        let again = Config::from_json(&a.to_json()).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(a.shown_hash(Lang::En), again.shown_hash(Lang::En));
    }
}
