//! The server-side check: from a raw `Cookie` header to "may this request be tracked".
//!
//! It runs on every request, so it allocates nothing: the consent cookie is found with a
//! SIMD substring search, the token is decoded into stack buffers in one pass that also finds
//! where it ends, and the signature (when a key is configured) is checked with a pre-keyed
//! HMAC state. Anything unusual (quotes, spaces, a malformed token) takes the full decoder,
//! which gives the same answer and says what is wrong.

use crate::prelude::*;
use memchr::memmem::Finder;
use time::OffsetDateTime;

use crate::config::{CategoryIndex, Config, ServiceIndex};
use crate::keyring::TokenKeys;
use crate::policy::{Evaluation, Latest, Signals, StoredStatus};
use crate::site::Params;
use crate::state::{Choices, ConsentState};
use crate::token::{self, SigningKey, TokenError, decode};

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
    keys: Option<TokenKeys>,
    categories: Vec<Box<str>>,
}

impl Gate {
    /// A gate for `config`. With a `key`, only tokens signed with it count: decisions the
    /// server logged, not ones a browser made up.
    ///
    /// A server whose key file was rotated (`consent key rotate`) still accepts the tokens
    /// its retired keys signed: check them with [`with_keys`](Self::with_keys), or the
    /// visitors who hold one count as undecided here.
    #[must_use]
    pub fn new(config: &Config, key: Option<SigningKey>) -> Self {
        Self::build(config, key.map(TokenKeys::new))
    }

    /// A gate for `config` that counts the tokens signed under any of `keys`: the server key
    /// file's current key, and the retired keys whose tokens it still accepts
    /// ([`Keyring::token_keys`](crate::Keyring::token_keys), the rules in
    /// [`keyring`](crate::keyring)). A token signed under the current key costs what it does
    /// with [`new`](Self::new); the retired keys are tried only when its signature does not
    /// match. Unsigned tokens never count.
    ///
    /// # Example
    /// ```
    /// use consent_core::{Config, Gate, Keyring};
    /// let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
    /// // The key file's bytes, after one `consent key rotate`.
    /// let file = Keyring::new(&[7; 32])?.rotated(&[8; 32], false)?.to_string();
    /// let gate = Gate::with_keys(&config, Keyring::parse(file.as_bytes())?.token_keys());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_keys(config: &Config, keys: TokenKeys) -> Self {
        Self::build(config, Some(keys))
    }

    fn build(config: &Config, keys: Option<TokenKeys>) -> Self {
        let needle = format!("{}=", config.cookie().name());
        Self {
            params: Params::new(config),
            finder: Finder::new(needle.as_bytes()).into_owned(),
            keys,
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
        let now = now.unix_timestamp();
        let header = cookie_header.map_or(&b""[..], str::as_bytes);
        // Of several consent cookies (a parent domain's or another path's, stale, damaged or
        // another site's), the valid decision made last counts; with none valid, the first,
        // as with one (policy rule 15). The banner reads a page's cookies the same way.
        let mut latest = Latest::default();
        let mut from = 0;
        while let Some(start) = self.value_start(header, from) {
            let rest = header.get(start..).unwrap_or_default();
            let read = self.read(rest);
            let stored = read.as_ref().map_err(|e| *e);
            let evaluation = self.params.evaluate(Some(stored), now, signals);
            latest.offer(evaluation, &evaluation);
            from = start;
        }
        Verdict {
            evaluation: latest
                .get()
                .unwrap_or_else(|| self.params.evaluate(None, now, signals)),
        }
    }

    /// The decision of the consent cookie whose value `rest` starts with, or why there is
    /// none to count.
    fn read(&self, rest: &[u8]) -> Result<ConsentState, token::TokenError> {
        // The usual case in one pass: a well-formed token, then the end of the cookie-pair.
        if let Some((token, signed_len, len)) = token::decode_prefix(rest) {
            if matches!(rest.get(len), None | Some(b';')) {
                return self
                    .check_signature(token.tag(), &rest[..signed_len])
                    .map(|()| *token.state());
            }
        }
        // Anything else (quotes, trailing spaces, a malformed token) is delimited first, and
        // the full decoder says what is wrong.
        let value = delimit(rest);
        let token = decode(value, None)?.token;
        // The signed part ends before the tag's dot (a tag holds none); without a tag it is
        // not read.
        let signed_len = value.iter().rposition(|&b| b == b'.').unwrap_or(0);
        self.check_signature(token.tag(), &value[..signed_len])
            .map(|()| *token.state())
    }

    /// Whether `tag` signs `signed_part` under the gate's keys (the current one first), or
    /// under no key when the gate has none.
    #[inline]
    fn check_signature(
        &self,
        tag: Option<&[u8; 16]>,
        signed_part: &[u8],
    ) -> Result<(), TokenError> {
        let current = self.keys.as_ref().map(TokenKeys::current);
        match token::check_signature(tag, signed_part, current) {
            Err(TokenError::BadSignature)
                if self
                    .keys
                    .as_ref()
                    .is_some_and(|k| tag.is_some_and(|tag| k.verify_retired(signed_part, tag))) =>
            {
                Ok(())
            }
            checked => checked,
        }
    }

    /// Where the value of the next consent cookie starts, after the byte `from` of the header
    /// (0: the first). A name match counts only at the start of a cookie-pair (after the start
    /// or a `;` and optional spaces), so `xconsent=` and values that contain `consent=` are not
    /// taken for it.
    fn value_start(&self, header: &[u8], mut from: usize) -> Option<usize> {
        let needle_len = self.finder.needle().len();
        // `find` in a loop, not `find_iter`, which copies the finder on every call.
        loop {
            let at = from + self.finder.find(header.get(from..)?)?;
            let before = header[..at]
                .iter()
                .rposition(|b| !matches!(b, b' ' | b'\t'));
            if before.is_none_or(|i| header[i] == b';') {
                return Some(at + needle_len);
            }
            from = at + 1;
        }
    }
}

/// The cookie value that `rest` starts with: up to the next `;`, without trailing whitespace
/// and without surrounding double quotes.
fn delimit(rest: &[u8]) -> &[u8] {
    let end = memchr::memchr(b';', rest).unwrap_or(rest.len());
    let value = rest[..end].trim_ascii_end();
    match value {
        [b'"', inner @ .., b'"'] => inner,
        _ => value,
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

    /// The policy's whole answer, for the page rules
    /// ([`Evaluation::allows_element`]: what the banner asks of each gated element).
    #[must_use]
    pub fn evaluation(&self) -> &Evaluation {
        &self.evaluation
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Action, Context, decide, evaluate};
    use crate::token::strategy::any_state;
    use crate::{ConsentId, Lang, Token};
    use proptest::prelude::*;

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
    fn of_several_consent_cookies_the_first_valid_one_counts() {
        let config = config();
        let key = SigningKey::new(&[3; 32]).unwrap_or_else(|_| unreachable!());
        let gate = Gate::new(&config, Some(key.clone()));
        let analytics = gate.category("analytics").unwrap_or_else(|| unreachable!());
        let now = OffsetDateTime::now_utc();
        let unsigned = accepted_token(&config, now);
        let signed = Token::signed(*unsigned.state(), &key);
        let other = SigningKey::new(&[4; 32]).unwrap_or_else(|_| unreachable!());
        let foreign = Token::signed(*unsigned.state(), &other);
        // A stray cookie of the name sent first (damaged, unsigned, another key's) hides no
        // decision the server signed.
        for header in [
            format!("consent=1.garbage; consent={signed}"),
            format!("consent={unsigned}; a=1; consent={signed}"),
            format!("consent=\"{foreign}\" ;consent={signed}"),
        ] {
            let v = gate.check(Some(&header), None, now);
            assert_eq!(v.status(), StoredStatus::Valid, "{header}");
            assert!(v.allows(analytics), "{header}");
        }
        // None valid: the first says why, and nothing is granted.
        let header = format!("consent=1.garbage; consent={unsigned}");
        let v = gate.check(Some(&header), None, now);
        assert!(matches!(v.status(), StoredStatus::Malformed(_)), "{header}");
        assert!(!v.allows(analytics));
        // A value holding the name is no second cookie.
        let header = format!("consent=consent={signed}");
        assert!(!gate.check(Some(&header), None, now).allows(analytics));
    }

    #[test]
    fn of_several_valid_consent_cookies_the_latest_decision_counts() {
        let config = config();
        let key = SigningKey::new(&[3; 32]).unwrap_or_else(|_| unreachable!());
        let gate = Gate::new(&config, Some(key.clone()));
        let analytics = gate.category("analytics").unwrap_or_else(|| unreachable!());
        let now = OffsetDateTime::now_utc();
        // A grant left at another path or domain a day ago, and the visitor's withdrawal an
        // hour ago: the browser may send either first, and the withdrawal holds both ways.
        let decided = |action, at: OffsetDateTime| {
            let before = evaluate(&config, None, None, at, Signals::default());
            let ctx = Context {
                now: at,
                signals: Signals::default(),
                lang: Lang::Fi,
                fresh_id: ConsentId::from_bytes([1; 16]),
            };
            let d = decide(&config, &before, action, ctx).unwrap_or_else(|e| unreachable!("{e}"));
            Token::signed(*d.state(), &key)
        };
        let grant = decided(Action::AcceptAll, now - time::Duration::days(1));
        let refusal = decided(Action::RejectAll, now - time::Duration::hours(1));
        for header in [
            format!("consent={grant}; consent={refusal}"),
            format!("consent={refusal}; consent={grant}"),
            format!("consent={grant}; a=1; consent=1.garbage; consent={refusal}"),
        ] {
            let v = gate.check(Some(&header), None, now);
            assert_eq!(v.status(), StoredStatus::Valid, "{header}");
            assert!(!v.allows(analytics), "the older grant counted: {header}");
        }
        // An expired or unsigned later one does not outrank a valid earlier one.
        let unsigned_refusal = Token::unsigned(*refusal.state());
        let header = format!("consent={grant}; consent={unsigned_refusal}");
        assert!(
            gate.check(Some(&header), None, now).allows(analytics),
            "{header}"
        );
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

    /// A gate whose keys are a key file rotated twice from the tests' key (`[3; 32]`), its
    /// tokens accepted or revoked by the first rotation.
    fn rotated(revoke: bool) -> Gate {
        let ring = crate::Keyring::new(&[3; 32])
            .and_then(|k| k.rotated(&[5; 32], revoke))
            .and_then(|k| k.rotated(&[6; 32], false))
            .unwrap_or_else(|e| unreachable!("{e}"));
        Gate::with_keys(&config(), ring.token_keys())
    }

    #[test]
    fn a_retired_keys_token_counts_until_its_key_is_revoked() {
        let config = config();
        let key = SigningKey::new(&[3; 32]).unwrap_or_else(|_| unreachable!());
        let now = OffsetDateTime::now_utc();
        let signed = Token::signed(*accepted_token(&config, now).state(), &key);
        for header in [
            format!("consent={signed}"),
            format!("a=1; consent=\"{signed}\" "),
        ] {
            let v = rotated(false).check(Some(&header), None, now);
            assert_eq!(v.status(), StoredStatus::Valid, "{header}");
            let v = rotated(true).check(Some(&header), None, now);
            assert_eq!(
                v.status(),
                StoredStatus::Malformed(TokenError::BadSignature),
                "{header}"
            );
        }
    }

    #[test]
    fn a_corrupt_tail_grants_nothing() {
        let config = config();
        let key = SigningKey::new(&[3; 32]).unwrap_or_else(|_| unreachable!());
        let now = OffsetDateTime::now_utc();
        let unsigned = accepted_token(&config, now);
        let signed = Token::signed(*unsigned.state(), &key).to_string();
        let unsigned = unsigned.to_string();
        let cut = |t: &str, n: usize| t[..t.len() - n].to_owned();
        let with_last = |t: &str, c: char| format!("{}{c}", cut(t, 1));
        let mut tails = vec![
            cut(&unsigned, 1),
            cut(&unsigned, 2),
            cut(&unsigned, 3),
            format!("{unsigned}A"),
            format!("{unsigned}."),
            format!("{unsigned}.{}", "A".repeat(21)),
            format!("{unsigned}.{}", "A".repeat(23)),
            with_last(&unsigned, '!'),
            with_last(&unsigned, '='),
            with_last(&unsigned, ' '),
            cut(&signed, 1),
            format!("{signed}A"),
            format!("{signed}."),
            with_last(&signed, '!'),
        ];
        // The last character with unused bits set (43 characters: two unused bits).
        assert_eq!(unsigned.len() % 4, 1, "{unsigned}");
        tails.push(with_last(&unsigned, '_'));
        for gate in [
            Gate::new(&config, None),
            Gate::new(&config, Some(key.clone())),
            rotated(false),
        ] {
            for tail in &tails {
                for header in [
                    format!("a=1; consent={tail}; b=2"),
                    format!("consent={tail}"),
                ] {
                    let v = gate.check(Some(&header), None, now);
                    assert!(
                        matches!(v.status(), StoredStatus::Malformed(_)),
                        "{header}: {:?}",
                        v.status()
                    );
                    assert_eq!(v.allowed(), config.necessary_only(), "{header}");
                    assert_eq!(v.state(), None, "{header}");
                }
            }
        }
    }

    /// The check as it was before its one-pass decoder: the values found by splitting the
    /// header into cookie-pairs, then the full decoder; the valid one decided last, else the
    /// first.
    fn reference(gate: &Gate, header: &str, signals: Signals, now: OffsetDateTime) -> Evaluation {
        let evaluations = header
            .split(';')
            .filter_map(|pair| {
                pair.trim_start_matches([' ', '\t'])
                    .strip_prefix("consent=")
            })
            .map(|v| {
                let v = v.trim_ascii_end();
                let v = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(v);
                // The keys' own rule (`TokenKeys::parse_verified`), not the gate's.
                let decoded = match &gate.keys {
                    Some(keys) => keys.parse_verified(v).map(|(t, _)| t),
                    None => Token::parse_verified(v, None),
                };
                let stored = match &decoded {
                    Ok(t) => Ok(t.state()),
                    Err(e) => Err(*e),
                };
                gate.params
                    .evaluate(Some(stored), now.unix_timestamp(), signals)
            })
            .collect::<Vec<_>>();
        // The valid one decided last (the first of those alike), else the first.
        let mut latest: Option<&Evaluation> = None;
        for e in evaluations.iter().filter(|e| !e.show_banner()) {
            let last = |e: &Evaluation| e.state().map(|s| s.decision_times::<i64>().1);
            if latest.is_none_or(|l| last(e) > last(l)) {
                latest = Some(e);
            }
        }
        latest
            .or(evaluations.first())
            .copied()
            .unwrap_or_else(|| gate.params.evaluate(None, now.unix_timestamp(), signals))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

        /// Whatever the header holds around the consent cookie, the gate's verdict is the
        /// reference's: the fast path changes no answer and no error.
        #[test]
        fn the_check_agrees_with_the_reference(
            state in any_state(),
            fits in any::<bool>(),
            age in -1_000i64..40_000_000,
            signed in any::<bool>(),
            edit in proptest::option::of((any::<usize>(), proptest::sample::select(b"AQgw_-9.;= \"x".to_vec()))),
            quoted in any::<bool>(),
            before in proptest::sample::select(vec!["", "a=1; ", "a=1;", " \t", "xconsent=1.AAAA; ", "a=\"consent=x\"; ", "consent=junk; "]),
            after in proptest::sample::select(vec!["", ";", "; b=2", " ", " ; b=2", "\t;", "\"", ".", ".AAAA", "x", "=", ";consent=1.AAAA"]),
            gpc in any::<bool>(),
        ) {
            let config = config();
            let key = SigningKey::new(&[3; 32]).unwrap_or_else(|_| unreachable!());
            let now = OffsetDateTime::from_unix_timestamp(1_793_577_600).unwrap_or_else(|_| unreachable!());
            let mut state = state;
            if fits {
                // A decision under this config, of some age: valid, expired or from the future.
                state.revision = config.revision();
                state.fingerprint = config.fingerprint();
                state.n_categories = config.categories().len() as u8;
                state.n_services = config.service_count() as u8;
                state.choices.categories &= config.everything().categories;
                state.choices.categories |= 1;
                state.choices.services = state.choices.services.and(config.everything().services);
                state.last = now.unix_timestamp() - age;
                state.first = state.first.min(state.last);
            }
            let token = if signed { Token::signed(state, &key) } else { Token::unsigned(state) };
            let mut text = token.to_string().into_bytes();
            if let Some((at, b)) = edit {
                let i = at % text.len();
                text[i] = b;
            }
            let text = String::from_utf8(text).unwrap_or_else(|_| unreachable!());
            let value = if quoted { format!("\"{text}\"") } else { text };
            let header = format!("{before}consent={value}{after}");
            let signals = Signals { gpc, dnt: false };
            for gate in [Gate::new(&config, None), Gate::new(&config, Some(key.clone())), rotated(false), rotated(true)] {
                let verdict = gate.check_with(Some(&header), signals, now);
                prop_assert_eq!(verdict.evaluation, reference(&gate, &header, signals, now), "{}", header);
            }
        }
    }
}
