//! The server-side check: from a raw `Cookie` header to "may this request be tracked".
//!
//! It runs on every request, so it allocates nothing: the consent cookie is found with a
//! SIMD substring search, the token is decoded into stack buffers, and the signature (when a
//! key is configured) is checked with a pre-keyed HMAC state.

use memchr::memmem::Finder;
use time::OffsetDateTime;

use crate::config::{CategoryIndex, Config, ServiceIndex};
use crate::policy::{Evaluation, Params, Signals, StoredStatus};
use crate::state::{Choices, ConsentState};
use crate::token::{SigningKey, decode};

/// The policy for one config, ready to check requests.
///
/// Build it once at start-up and share it (it is `Send + Sync`).
///
/// # Example
/// ```
/// use consent_core::{Config, Gate};
/// let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
/// let gate = Gate::new(&config, None);
/// let analytics = gate.category("analytics").expect("in the example config");
///
/// let now = time::OffsetDateTime::now_utc();
/// let verdict = gate.check(Some("theme=dark; consent=1.garbage"), None, now);
/// assert!(!verdict.allows(analytics));
/// # Ok::<(), consent_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Gate {
    params: Params,
    finder: Finder<'static>,
    key: Option<SigningKey>,
    categories: Vec<Box<str>>,
}

impl Gate {
    /// A gate for `config`. With a `key`, only tokens signed with it count: decisions the
    /// server logged, not ones a browser made up.
    #[must_use]
    pub fn new(config: &Config, key: Option<SigningKey>) -> Self {
        let needle = format!("{}=", config.cookie().name());
        Self {
            params: Params::new(config),
            finder: Finder::new(needle.as_bytes()).into_owned(),
            key,
            categories: config
                .categories()
                .iter()
                .map(|c| c.id().as_str().into())
                .collect(),
        }
    }

    /// The index of a category, to look up once at start-up rather than per request.
    #[must_use]
    pub fn category(&self, id: &str) -> Option<CategoryIndex> {
        let i = self.categories.iter().position(|c| &**c == id)?;
        Some(CategoryIndex(i as u8))
    }

    /// Checks a request from its `Cookie` header and its `Sec-GPC` header (either may be
    /// absent). Never allocates; never panics.
    #[must_use]
    pub fn check(
        &self,
        cookie_header: Option<&str>,
        sec_gpc: Option<&str>,
        now: OffsetDateTime,
    ) -> Verdict {
        let signals = Signals {
            gpc: sec_gpc.is_some_and(|v| v.trim() == "1"),
            dnt: false,
        };
        self.check_with(cookie_header, signals, now)
    }

    /// Like [`check`](Self::check), with the signals already read (for `DNT`, say).
    #[must_use]
    pub fn check_with(
        &self,
        cookie_header: Option<&str>,
        signals: Signals,
        now: OffsetDateTime,
    ) -> Verdict {
        let decoded = cookie_header
            .and_then(|h| self.find_value(h.as_bytes()))
            .map(|value| decode(value, self.key.as_ref()));
        let stored = decoded.as_ref().map(|d| match d {
            Ok(d) => Ok(d.token.state()),
            Err(e) => Err(*e),
        });
        Verdict {
            evaluation: self.params.evaluate(stored, now.unix_timestamp(), signals),
        }
    }

    /// The value of the first consent cookie in the header. A name match counts only at the
    /// start of a cookie-pair (after the start or a `;` and optional spaces), so `xconsent=`
    /// and values that contain `consent=` are not taken for it.
    fn find_value<'h>(&self, header: &'h [u8]) -> Option<&'h [u8]> {
        let needle_len = self.finder.needle().len();
        for at in self.finder.find_iter(header) {
            let before = header[..at]
                .iter()
                .rposition(|b| !matches!(b, b' ' | b'\t'));
            if before.is_some_and(|i| header[i] != b';') {
                continue;
            }
            let rest = &header[at + needle_len..];
            let end = memchr::memchr(b';', rest).unwrap_or(rest.len());
            let mut value = rest[..end].trim_ascii_end();
            if let [b'"', inner @ .., b'"'] = value {
                value = inner;
            }
            return Some(value);
        }
        None
    }
}

/// What the policy allows for one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    evaluation: Evaluation,
}

impl Verdict {
    /// Whether the category may be used for this request.
    #[must_use]
    pub fn allows(&self, category: CategoryIndex) -> bool {
        self.evaluation.allowed().allows_category(category)
    }

    /// Whether the service may be used for this request.
    #[must_use]
    pub fn allows_service(&self, service: ServiceIndex) -> bool {
        self.evaluation.allowed().allows_service(service)
    }

    /// Everything allowed.
    #[must_use]
    pub fn allowed(&self) -> Choices {
        self.evaluation.allowed()
    }

    /// What the consent cookie held.
    #[must_use]
    pub fn status(&self) -> StoredStatus {
        self.evaluation.status()
    }

    /// The decision, if the cookie held a readable one.
    #[must_use]
    pub fn state(&self) -> Option<&ConsentState> {
        self.evaluation.state()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Action, Context, decide, evaluate};
    use crate::{ConsentId, Lang, Token};

    fn config() -> Config {
        Config::from_json(crate::EXAMPLE_CONFIG).unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn accepted_token(config: &Config, now: OffsetDateTime) -> Token {
        let before = evaluate(config, None, None, now, Signals::default());
        let ctx = Context {
            now,
            signals: Signals::default(),
            lang: Lang::Fi,
            fresh_id: ConsentId::from_bytes([1; 16]),
        };
        let d =
            decide(config, &before, Action::AcceptAll, ctx).unwrap_or_else(|e| unreachable!("{e}"));
        Token::unsigned(*d.state())
    }

    #[test]
    fn finds_the_cookie_only_at_a_pair_boundary() {
        let config = config();
        let gate = Gate::new(&config, None);
        let analytics = gate.category("analytics").unwrap_or_else(|| unreachable!());
        let now = OffsetDateTime::now_utc();
        let t = accepted_token(&config, now);
        for header in [
            format!("consent={t}"),
            format!("a=1; consent={t}"),
            format!("a=1;consent={t}; b=2"),
            format!("a=1;  consent=\"{t}\""),
            format!("xconsent=junk; consent={t} "),
        ] {
            let v = gate.check(Some(&header), None, now);
            assert_eq!(v.status(), StoredStatus::Valid, "{header}");
            assert!(v.allows(analytics), "{header}");
        }
        for header in [
            format!("xconsent={t}"),
            format!("a=consent={t}"),
            String::new(),
        ] {
            let v = gate.check(Some(&header), None, now);
            assert_eq!(v.status(), StoredStatus::None, "{header}");
            assert!(!v.allows(analytics), "{header}");
        }
        assert_eq!(gate.check(None, None, now).status(), StoredStatus::None);
    }

    #[test]
    fn sec_gpc_turns_marketing_off_for_an_older_grant() {
        let config = config();
        let gate = Gate::new(&config, None);
        let marketing = gate.category("marketing").unwrap_or_else(|| unreachable!());
        let now = OffsetDateTime::now_utc();
        let header = format!("consent={}", accepted_token(&config, now));
        assert!(gate.check(Some(&header), None, now).allows(marketing));
        assert!(gate.check(Some(&header), Some("0"), now).allows(marketing));
        assert!(!gate.check(Some(&header), Some("1"), now).allows(marketing));
    }

    #[test]
    fn with_a_key_only_signed_tokens_count() {
        let config = config();
        let key = SigningKey::new(&[3; 32]).unwrap_or_else(|_| unreachable!());
        let gate = Gate::new(&config, Some(key.clone()));
        let analytics = gate.category("analytics").unwrap_or_else(|| unreachable!());
        let now = OffsetDateTime::now_utc();
        let unsigned = accepted_token(&config, now);
        let signed = Token::signed(*unsigned.state(), &key);
        assert!(
            !gate
                .check(Some(&format!("consent={unsigned}")), None, now)
                .allows(analytics)
        );
        assert!(
            gate.check(Some(&format!("consent={signed}")), None, now)
                .allows(analytics)
        );
    }
}
