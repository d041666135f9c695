//! The policy: the one state machine that decides what a visitor has agreed to.
//!
//! The banner (in the browser) and the server (on every request) run the same rules, from the
//! same config, so a decision means the same thing on both sides.
//!
//! # Rules
//!
//! 1. The `necessary` category and its services are always allowed, and nothing else is
//!    allowed without a stored decision that is valid now and grants it.
//! 2. No stored decision: the banner is shown and only necessary is allowed.
//! 3. A malformed stored decision (not a token, an unknown version, out-of-range fields, made
//!    more than five minutes in the future, and, when the server holds a key, unsigned or
//!    badly signed) counts as none: banner, necessary only.
//! 4. A decision made under another policy revision, or under a config whose categories and
//!    services differ (the [fingerprint](crate::Config::fingerprint)), asks again: banner,
//!    necessary only.
//! 5. A decision expires after the config's lifetime from the last decision: the acceptance
//!    lifetime if it granted anything beyond necessary, else the refusal lifetime. An expired
//!    decision asks again: banner, necessary only.
//! 6. A valid decision shows no banner and allows what it granted: a category, and those of
//!    its services the visitor left on. A service of a refused category is refused.
//! 7. Global Privacy Control (and `DNT: 1` when the config honours it) keeps the categories
//!    marked `gpc` (by default `marketing`) off, unless the decision was made while the
//!    signal was present and granted them: an explicit grant.
//! 8. Deciding: "Accept all" grants every category and service, except the `gpc` categories
//!    while GPC is present; "Reject all" and a GPC-only decision grant nothing beyond
//!    necessary; custom choices grant exactly what was chosen; a grant (an embed's "Allow
//!    and show") adds to what is allowed now, one service with its category, the category's
//!    other services staying as they were. Necessary is granted whatever the choice.
//! 9. A decision that revokes anything the previous valid decision allowed is a withdrawal:
//!    its method is [`Method::Withdraw`] and the declared cookies of every revoked service are
//!    to be cleared at once ([`Decision::cookies_to_clear`]; the banner and the server delete
//!    them with the same lines, [`Decision::clear_lines`]).
//! 10. A new decision keeps the consent id (and first decision time) of the stored one when
//!     that could be read, even if it expired or came from another revision, so a visitor's
//!     records stay together; otherwise it takes the fresh id the caller drew. A server keeps
//!     it only when the request shows a token it signed for that id
//!     ([`decision::Signer`](crate::decision::Signer)): knowing an id is not enough.
//! 11. A gated element of a page (`data-category`, and `data-service` if it names one) loads
//!     only when its category is allowed and its service, if named, is allowed and not kept
//!     off the page's path (the service's `exclude_paths`). An element naming no service
//!     loads only when its category is granted whole, with every one of its services
//!     ([`Choices::whole_categories`]): it may be any of them. An element naming a category
//!     or service the config does not have never loads ([`Evaluation::allows_element`]).
//! 12. An element for `!category` is what shows while the category is refused: it loads
//!     only when a valid decision stands and its category (and service) would not load by
//!     rule 11.
//! 13. What a decision withdrew on a page does not load again on that page, even when
//!     granted anew: its scripts may have run there once and cannot be unloaded. The page
//!     keeps what it withdrew (`revoked_here`, the union of [`Decision::revoked`]).
//! 14. Without a readable policy (damaged, cut short, of another format version, or not
//!     loaded) only the strictly necessary runs: an element of the category `necessary`,
//!     which every config's first category is ([`allows_without_policy`]).
//! 15. Of several consent cookies on one page or request (a parent domain's or another
//!     path's beside the host's own), the valid decision made last counts
//!     ([`Evaluation::rank`]), whatever order the browser sends them in: a withdrawal
//!     outlives an older grant left at another path or domain. With none valid, the first
//!     counts, as with one.
//!
//! # Caveats
//!
//! - A category granted only partly (one service of it, from an embed's placeholder) counts
//!   as refused wherever a category stands for all of its services: an element naming no
//!   service (rule 11), Consent Mode's signals
//!   ([`consent_mode::update`](crate::consent_mode::update)) and the banner's category
//!   switch. The token and the log's record carry the category's bit and each service's.
//! - The policy cannot see cookies that scripts set without declaring them; a withdrawal
//!   clears only declared cookies. The cookie scanner finds undeclared ones.
//! - Without a key (in the browser) a token's signature is not checked: a visitor can grant
//!   themselves consent in their own browser, which harms nobody else. A server that must
//!   prove consent checks signatures ([`Gate`](crate::Gate) with a key). A token from another
//!   site is kept out by the config's [`site`](crate::Config::site), which is part of the
//!   fingerprint (rule 4).

#[cfg(feature = "alloc")]
use crate::prelude::*;
use core::fmt;

use time::OffsetDateTime;

use crate::index::{CategoryIndex, ServiceIndex};
use crate::lang::Lang;
use crate::site::{Params, SitePolicy};
pub use crate::state::DecideError;
use crate::state::{
    Choices, ConsentId, ConsentState, MAX_TIME, MIN_TIME, Method, ServiceSet, Timestamp,
};
use crate::text::{Buf, Sink, contains_ascii, split_once_ascii, trim_ascii, trim_end_ascii};
use crate::token::{SigningKey, TokenError, TokenField, decode};

/// How far in the future a decision time may be before it counts as malformed: clocks of
/// browsers and servers disagree a little.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;
use crate::state::DAY;

pub use crate::decision::Action;
pub use crate::signals::Signals;

/// What was found where a decision is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoredStatus {
    /// No decision stored (rule 2).
    None,
    /// A decision that applies now (rule 6).
    Valid,
    /// A decision past its lifetime (rule 5).
    Expired,
    /// A decision made under another revision or config (rule 4), normally an older one.
    OlderRevision,
    /// Something that is not a trustworthy decision (rule 3), and why.
    Malformed(TokenError),
}

impl StoredStatus {
    /// A short lowercase name, for logs and metrics.
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            StoredStatus::None => "none",
            StoredStatus::Valid => "valid",
            StoredStatus::Expired => "expired",
            StoredStatus::OlderRevision => "older_revision",
            StoredStatus::Malformed(_) => "malformed",
        }
    }
}

impl fmt::Display for StoredStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoredStatus::Malformed(e) => write!(f, "malformed: {e}"),
            other => f.write_str(other.as_str()),
        }
    }
}

/// Rule 15 over several consent cookies: offered each one's evaluation in the order the
/// browser sent them, it keeps the valid decision made last ([`Evaluation::rank`]; the first
/// of those alike), else the first offered.
///
/// ```
/// use consent_core::{Config, policy::{self, Latest, Signals}};
/// let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
/// let now = time::OffsetDateTime::now_utc();
/// let mut latest = Latest::default();
/// for value in ["1.AAAA", "junk"] {
///     latest.offer(value, &policy::evaluate(&config, Some(value), None, now, Signals::default()));
/// }
/// assert_eq!(latest.get(), Some("1.AAAA"), "none valid: the first");
/// # Ok::<(), consent_core::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Latest<T>(
    /// The one that counts so far, and its rank: `i64::MIN` for one not valid, below every
    /// decision (made 2020 to 2099), so only a valid one replaces it, and only a later one.
    Option<(T, i64)>,
);

impl<T> Default for Latest<T> {
    fn default() -> Self {
        Latest(None)
    }
}

impl<T: Copy> Latest<T> {
    /// The next consent cookie, `item`, and its evaluation.
    pub fn offer(&mut self, item: T, evaluation: &Evaluation) {
        self.offer_rank(item, evaluation.rank());
    }

    /// As [`offer`](Self::offer), with the rank already known (`None`: not valid).
    pub fn offer_rank(&mut self, item: T, rank: Option<i64>) {
        let rank = rank.unwrap_or(i64::MIN);
        if self.0.is_none_or(|(_, r)| rank > r) {
            self.0 = Some((item, rank));
        }
    }

    /// The one that counts; `None` if none was offered.
    #[must_use]
    pub fn get(&self) -> Option<T> {
        self.0.map(|(item, _)| item)
    }
}

/// The policy's answer for a page view or a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Evaluation {
    status: StoredStatus,
    allowed: Choices,
    state: Option<ConsentState>,
}

impl Evaluation {
    /// What was stored.
    #[must_use]
    pub fn status(&self) -> StoredStatus {
        self.status
    }

    /// Whether the banner must ask: every status but [`StoredStatus::Valid`].
    #[must_use]
    // Always inlined: one comparison, where the banner's module made a call (10 B gzip of
    // the module, measured).
    #[inline(always)]
    pub fn show_banner(&self) -> bool {
        self.status != StoredStatus::Valid
    }

    /// What may run now.
    #[must_use]
    pub fn allowed(&self) -> Choices {
        self.allowed
    }

    /// Whether a category may run now.
    #[must_use]
    pub fn allows_category(&self, category: CategoryIndex) -> bool {
        self.allowed.allows_category(category)
    }

    /// The stored decision, if it could be read (even when expired or of another revision).
    #[must_use]
    pub fn state(&self) -> Option<&ConsentState> {
        self.state.as_ref()
    }

    /// How the stored decision ranks among several consent cookies (rule 15): a valid
    /// decision by when it was last made (Unix seconds), `None` for one not valid here. A
    /// decision from more than five minutes ahead is not valid (rule 3), so none outranks the
    /// visitor's own by a date far in the future.
    #[must_use]
    // Inlined into its callers: 79 B gzip less of the banner's module (measured).
    #[inline]
    pub fn rank(&self) -> Option<i64> {
        match self.state {
            Some(s) if !self.show_banner() => Some(s.decision_times::<i64>().1),
            _ => None,
        }
    }

    /// Whether a gated element may load on the page at `path` (rules 11 to 13): `category`
    /// and `service` as the markup writes them (`data-category="!marketing"`,
    /// `data-service="ga"`), `revoked_here` what was withdrawn on this page. As
    /// [`element`](Self::element), with markup the site lacks refused.
    ///
    /// # Example
    /// ```
    /// use consent_core::{Choices, Config, Token, policy::{self, Signals}};
    /// let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
    /// let now = time::OffsetDateTime::now_utc();
    /// let ev = policy::evaluate(&config, None, None, now, Signals::default());
    /// assert!(!ev.allows_element(&config, "analytics", Some("ga"), "/", Choices::none()));
    /// assert!(!ev.allows_element(&config, "!marketing", None, "/", Choices::none()), "no decision yet");
    /// assert!(!ev.allows_element(&config, "analytics", Some("nosuch"), "/", Choices::none()));
    /// # Ok::<(), consent_core::ConfigError>(())
    /// ```
    #[must_use]
    pub fn allows_element<P: SitePolicy + ?Sized>(
        &self,
        site: &P,
        category: &str,
        service: Option<&str>,
        path: &str,
        revoked_here: Choices,
    ) -> bool {
        self.element(site, category, service, path, revoked_here) == Some(true)
    }

    /// Whether a gated element may load on the page at `path`, as
    /// [`allows_element`](Self::allows_element); `None` when its markup names a category or
    /// service the site does not have, so that it never loads whatever the visitor decides
    /// (a typo, or a list where one id belongs), which the banner tells the site's developer.
    ///
    /// # Example
    /// ```
    /// use consent_core::{Choices, Config, policy::{self, Signals}};
    /// let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
    /// let now = time::OffsetDateTime::now_utc();
    /// let ev = policy::evaluate(&config, None, None, now, Signals::default());
    /// let none = Choices::none();
    /// assert_eq!(ev.element(&config, " ! marketing ", Some("facebook-pixel"), "/", none), Some(false));
    /// assert_eq!(ev.element(&config, "analytic", None, "/", none), None);
    /// assert_eq!(ev.element(&config, "analytics marketing", None, "/", none), None);
    /// assert_eq!(ev.element(&config, "analytics", Some("nosuch"), "/", none), None);
    /// # Ok::<(), consent_core::ConfigError>(())
    /// ```
    #[must_use]
    pub fn element<P: SitePolicy + ?Sized>(
        &self,
        site: &P,
        category: &str,
        service: Option<&str>,
        path: &str,
        revoked_here: Choices,
    ) -> Option<bool> {
        let Element {
            negated,
            category: ci,
            service,
        } = Element::resolve(site, category, service)?;
        let granted = match service {
            Some(s) => {
                self.allowed.allows_category(ci)
                    && self.allows_service_on(site, s, path, Choices::none())
            }
            None => self.allowed.whole_categories(site).allows_category(ci),
        };
        if negated {
            return Some(!self.show_banner() && !granted);
        }
        Some(
            granted
                && !revoked_here.allows_category(ci)
                && service.is_none_or(|s| !revoked_here.allows_service(s)),
        )
    }

    /// Whether a service may run on the page at `path`: allowed, not kept off the path
    /// (rule 11) and not withdrawn on this page (rule 13, `revoked_here`).
    #[must_use]
    pub fn allows_service_on<P: SitePolicy + ?Sized>(
        &self,
        site: &P,
        service: ServiceIndex,
        path: &str,
        revoked_here: Choices,
    ) -> bool {
        self.allowed.allows_service(service)
            && !revoked_here.allows_service(service)
            && !site.excluded(service, path)
    }
}

impl Params {
    /// The revision, as a decision stores it.
    pub(crate) fn revision(&self) -> crate::state::Revision {
        crate::state::Revision::new(self.revision).unwrap_or(crate::state::Revision::FIRST)
    }

    /// Rule 6's normal form: within the config, necessary on, services only of granted
    /// categories.
    fn normalize(&self, choices: Choices) -> Choices {
        let all = self.everything;
        let categories = (choices.categories & all.categories) | self.necessary.categories;
        let mut services_of_granted = ServiceSet::EMPTY;
        let mut rest = categories;
        while rest != 0 {
            services_of_granted =
                services_of_granted.or(self.category_services[rest.trailing_zeros() as usize]);
            rest &= rest - 1;
        }
        Choices {
            categories,
            services: (choices.services.and(all.services).and(services_of_granted))
                .or(self.necessary.services),
        }
    }

    /// [`Choices::with_service_granted`]: the service and its category.
    #[inline(always)]
    pub(crate) fn with_service_granted(
        &self,
        mut choices: Choices,
        service: ServiceIndex,
    ) -> Choices {
        let bit = ServiceSet::bit(service.0);
        if let Some(c) = self
            .category_services
            .iter()
            .position(|s| !s.and(bit).is_empty())
        {
            choices.categories |= 1 << c;
            choices.services = choices.services.or(bit);
        }
        choices
    }

    /// [`Choices::whole_categories`]: a category only with every one of its services.
    // Always inlined into `Choices::whole_categories`: the choices no longer come back
    // through memory twice (12 B gzip of the banner's module, measured).
    #[inline(always)]
    pub(crate) fn whole_categories(&self, mut choices: Choices) -> Choices {
        for (c, services) in self.category_services.iter().enumerate() {
            if !services.minus(choices.services).is_empty() {
                choices.categories &= !(1 << c);
            }
        }
        choices
    }

    fn without_gpc_categories(&self, choices: Choices) -> Choices {
        self.normalize(Choices {
            categories: choices.categories & !self.gpc_mask,
            ..choices
        })
    }

    fn gpc_active(&self, signals: Signals) -> bool {
        signals.gpc || (signals.dnt && self.honour_dnt)
    }

    /// Whether the policy could have made `state`: its choices in rule 6's normal form and
    /// its method agreeing with them (rule 8). A decision the banner submits is checked so,
    /// since the log's record says what the method says. The reason when it could not.
    pub(crate) fn consistent(&self, state: &ConsentState) -> Result<(), &'static str> {
        let choices = state.choices;
        if self.normalize(choices) != choices {
            return Err(
                "its choices are not a decision's: necessary off, or a service of a refused category",
            );
        }
        let expected = match state.method {
            Method::AcceptAll if state.gpc => Some(self.without_gpc_categories(self.everything)),
            Method::AcceptAll => Some(self.everything),
            Method::RejectAll | Method::Gpc => Some(self.necessary),
            Method::Custom | Method::Withdraw => None,
        };
        if expected.is_some_and(|e| e != choices) {
            return Err("its method contradicts its choices");
        }
        if state.method == Method::Gpc && !state.gpc {
            return Err("a decision from Global Privacy Control without the signal");
        }
        Ok(())
    }

    pub(crate) fn lifetime_secs(&self, state: &ConsentState) -> i64 {
        if state.grants_beyond_necessary() {
            self.accept_secs
        } else {
            self.refuse_secs
        }
    }

    /// Rules 2 to 7 for a decoded (or not) stored token.
    pub(crate) fn evaluate(
        &self,
        stored: Option<Result<&ConsentState, TokenError>>,
        now: i64,
        signals: Signals,
    ) -> Evaluation {
        let necessary_only = |status, state: Option<&ConsentState>| Evaluation {
            status,
            allowed: self.necessary,
            state: state.copied(),
        };
        // A reference to the end: the state is copied once, into the answer.
        let state = match stored {
            None => return necessary_only(StoredStatus::None, None),
            Some(Err(e)) => return necessary_only(StoredStatus::Malformed(e), None),
            Some(Ok(state)) => state,
        };
        if state.last > now.saturating_add(MAX_CLOCK_SKEW_SECS) {
            let e = TokenError::Field(TokenField::LastDecisionInFuture);
            return necessary_only(StoredStatus::Malformed(e), None);
        }
        if state.revision.get() != self.revision
            || state.fingerprint != self.fingerprint
            || state.n_categories != self.n_categories
            || state.n_services != self.n_services
        {
            return necessary_only(StoredStatus::OlderRevision, Some(state));
        }
        if now >= state.last.saturating_add(self.lifetime_secs(state)) {
            return necessary_only(StoredStatus::Expired, Some(state));
        }
        let mut allowed = self.normalize(state.choices);
        if self.gpc_active(signals) && !state.gpc {
            allowed = self.without_gpc_categories(allowed);
        }
        Evaluation {
            status: StoredStatus::Valid,
            allowed,
            state: Some(*state),
        }
    }
}

/// Evaluates what is stored in the consent cookie (the token string, if any) at `now`, under
/// a site's policy: its [`Config`](crate::Config) or its [compiled policy](crate::compiled::CompiledPolicy),
/// with the same rules and the same answers.
///
/// With a `key`, only tokens signed with it count (rule 3); the browser passes `None`.
///
/// # Example
/// ```
/// use consent_core::{Config, policy::{self, Signals, StoredStatus}};
/// let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
/// let now = time::OffsetDateTime::now_utc();
/// let first_visit = policy::evaluate(&config, None, None, now, Signals::default());
/// assert!(first_visit.show_banner());
/// assert_eq!(first_visit.allowed(), config.necessary_only());
///
/// let junk = policy::evaluate(&config, Some("1.AAAA"), None, now, Signals::default());
/// assert!(matches!(junk.status(), StoredStatus::Malformed(_)));
/// assert_eq!(junk.allowed(), config.necessary_only());
/// # Ok::<(), consent_core::ConfigError>(())
/// ```
#[must_use]
pub fn evaluate<P: SitePolicy + ?Sized>(
    site: &P,
    stored: Option<&str>,
    key: Option<&SigningKey>,
    now: impl Timestamp,
    signals: Signals,
) -> Evaluation {
    let decoded = stored.map(|s| decode(s.as_bytes(), key));
    let stored = decoded.as_ref().map(|d| match d {
        Ok(d) => Ok(d.token.state()),
        Err(e) => Err(*e),
    });
    site.params().evaluate(stored, now.unix(), signals)
}

/// A gated element's markup (`data-category`, `data-service`) resolved against a site's
/// policy, as rules 11 to 13 read it: blanks around the ids and after `!` do not count.
struct Element {
    /// `!category`: the element loads when the category is refused.
    negated: bool,
    category: CategoryIndex,
    service: Option<ServiceIndex>,
}

impl Element {
    /// `None` when the markup names a category or service the site does not have.
    fn resolve<P: SitePolicy + ?Sized>(
        site: &P,
        category: &str,
        service: Option<&str>,
    ) -> Option<Self> {
        let category = trim_ascii(category);
        let (negated, category) = match category.strip_prefix("!") {
            // Its end is trimmed already: `trim_ascii`, the banner's one copy of a trim, trims
            // only its start (27 B gzip less than `trim_ascii_start`, measured).
            Some(c) => (true, trim_ascii(c)),
            None => (false, category),
        };
        let category = site.category_index(category)?;
        let service = match service.map(trim_ascii).filter(|s| !s.is_empty()) {
            Some(id) => Some(site.service_index(id)?),
            None => None,
        };
        Some(Self {
            negated,
            category,
            service,
        })
    }
}

/// Whether a gated element of `category` (as the markup writes it) may load on a page whose
/// policy could not be read (rule 14): only the strictly necessary.
///
/// # Example
/// ```
/// use consent_core::policy::allows_without_policy;
/// assert!(allows_without_policy(" necessary "));
/// assert!(!allows_without_policy("analytics"));
/// assert!(!allows_without_policy("!marketing"), "no decision refuses anything either");
/// ```
#[must_use]
pub fn allows_without_policy(category: &str) -> bool {
    trim_ascii(category) == CategoryIndex::NECESSARY_ID
}

/// What a decision needs besides the config and the previous evaluation.
#[derive(Clone, Copy, Debug)]
pub struct Context<T = OffsetDateTime> {
    /// The decision time: an `OffsetDateTime`, or the banner's Unix seconds ([`Timestamp`]).
    pub now: T,
    /// The browser's privacy signals at decision time.
    pub signals: Signals,
    /// The language the banner was shown in.
    pub lang: Lang,
    /// A fresh random id, used when no stored decision could be read (rule 10).
    pub fresh_id: ConsentId,
}

/// A new decision and what it changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    state: ConsentState,
    revoked: Choices,
}

impl Decision {
    pub(crate) const fn new(state: ConsentState, revoked: Choices) -> Self {
        Self { state, revoked }
    }

    /// The new consent state, to store as a [`Token`](crate::Token) and log as a
    /// [`DecisionRecord`](crate::DecisionRecord).
    #[must_use]
    pub fn state(&self) -> &ConsentState {
        &self.state
    }

    /// What was allowed before and is not now (rule 9).
    #[must_use]
    pub fn revoked(&self) -> Choices {
        self.revoked
    }

    /// Whether this decision withdraws anything.
    #[must_use]
    pub fn is_withdrawal(&self) -> bool {
        !self.revoked.is_empty()
    }

    /// The lines that delete every cookie this decision revokes
    /// ([`cookies_to_clear`](Self::cookies_to_clear)): at its declared path and at `/`, on the
    /// host itself (no `Domain`), on `host` and each parent domain ([`clear_domains`]) and on
    /// its declared domain. A cookie declared by its exact name is deleted whether or not
    /// `present` (what the browser or the request shows) names it, since neither shows a
    /// cookie set at another path than the page's; a declared pattern (`_ga_*`) deletes the
    /// names in `present` that it matches. Each line is both a `document.cookie` assignment and
    /// a `Set-Cookie` value ([`deletion_line`]). The consent cookie is never among them.
    ///
    /// # Example
    /// ```
    /// use consent_core::{Config, ConsentId, Lang, Token, policy::{self, Action, Context, Signals}};
    /// let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
    /// let now = time::OffsetDateTime::now_utc();
    /// let ctx = Context { now, signals: Signals::default(), lang: Lang::Fi, fresh_id: ConsentId::from_bytes([9; 16]) };
    /// let before = policy::evaluate(&config, None, None, now, Signals::default());
    /// let all = policy::decide(&config, &before, Action::AcceptAll, ctx)?;
    /// let token = Token::unsigned(*all.state()).to_string();
    /// let after = policy::evaluate(&config, Some(&token), None, now, Signals::default());
    /// let withdrawn = policy::decide(&config, &after, Action::RejectAll, ctx)?;
    ///
    /// let lines = withdrawn.clear_lines(&config, ["_ga", "_ga_X1", "lang", "consent"], "www.klinikka.fi");
    /// assert!(lines.contains(&"_ga_X1=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Domain=klinikka.fi".to_owned()));
    /// // `_fbp` is declared by name: deleted though the page did not show it.
    /// assert!(lines.iter().any(|l| l.starts_with("_fbp=")));
    /// assert!(!lines.iter().any(|l| l.starts_with("lang=") || l.starts_with("consent=")));
    /// # Ok::<(), Box<dyn core::error::Error>>(())
    /// ```
    #[cfg(feature = "alloc")]
    #[must_use]
    pub fn clear_lines<'n, P, I>(&self, site: &P, present: I, host: &str) -> Vec<String>
    where
        P: SitePolicy + ?Sized,
        I: IntoIterator<Item = &'n str>,
        I::IntoIter: Clone,
    {
        let mut lines = Vec::new();
        self.for_each_clear_line(site, present, host, &mut |line| lines.push(line.to_owned()));
        lines
    }

    /// [`clear_lines`](Self::clear_lines) without the heap: calls `line` with each.
    // `line` generic, not `&mut dyn FnMut`: the caller's closure is then inlined where the
    // line is written, with no vtable and `call_once` shim (28 B gzip of the banner's
    // module, measured); `?Sized` so that a `dyn FnMut` still fits.
    pub fn for_each_clear_line<'n, P, I>(
        &self,
        site: &P,
        present: I,
        host: &str,
        line: &mut (impl FnMut(&str) + ?Sized),
    ) where
        P: SitePolicy + ?Sized,
        I: IntoIterator<Item = &'n str>,
        I::IntoIter: Clone,
    {
        let consent = site.cookie().name;
        let revoked = self.revoked;
        let present = present.into_iter();
        site.each_cookie(
            &mut |service: ServiceIndex, decl: crate::compiled::CookieEntry<'_>| {
                if !revoked.allows_service(service) {
                    return;
                }
                let mut delete = |name: &str| {
                    let root = (decl.path != "/").then_some("/");
                    for path in core::iter::once(decl.path).chain(root) {
                        let mut at = |domain: Option<&str>| {
                            let mut text = DeletionLine::new();
                            write_deletion_line(&mut text, name, path, domain);
                            // Only a name longer than any browser keeps overflows.
                            if !text.overflowed() {
                                line(text.as_str());
                            }
                        };
                        at(None);
                        clear_domains(host).for_each(|d| at(Some(d)));
                        if decl.domain.is_some() {
                            at(decl.domain);
                        }
                    }
                };
                if !contains_ascii(decl.name, b'*') {
                    if decl.name != consent {
                        delete(decl.name);
                    }
                    return;
                }
                for (i, name) in present.clone().enumerate() {
                    let first = !present.clone().take(i).any(|n| n == name);
                    if first && name != consent && pattern_matches(decl.name, name) {
                        delete(name);
                    }
                }
            },
        );
    }
}

/// The longest deletion line [`Decision::for_each_clear_line`] writes: a cookie name as long
/// as browsers keep (4 kB with its value), a path and a domain.
const DELETION_LINE_MAX: usize = 4096 + 1024;

/// A buffer that holds any deletion line the runtime writes ([`write_deletion_line`] of a
/// declared cookie, or of the consent cookie).
pub type DeletionLine = Buf<DELETION_LINE_MAX>;

/// A line that deletes the cookie `name` set at `path` (and `domain`, without which it is
/// the host's own): `name=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=...`,
/// both a `document.cookie` assignment and a `Set-Cookie` value. A name with the
/// `__Secure-` or `__Host-` prefix ([`SECURE_PREFIXES`](crate::compiled::SECURE_PREFIXES)) gets
/// `; Secure`, without which browsers refuse the line and the cookie stays.
#[cfg(feature = "alloc")]
#[must_use]
pub fn deletion_line(name: &str, path: &str, domain: Option<&str>) -> String {
    let mut line = String::with_capacity(80 + name.len() + path.len());
    write_deletion_line(&mut line, name, path, domain);
    line
}

/// [`deletion_line`] into any [`Sink`].
pub fn write_deletion_line(
    line: &mut (impl Sink + ?Sized),
    name: &str,
    path: &str,
    domain: Option<&str>,
) {
    line.push_str(name);
    line.push_str("=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=");
    line.push_str(path);
    if let Some(domain) = domain {
        line.push_str("; Domain=");
        line.push_str(domain);
    }
    // The prefixes as `secure_prefix` spells them, compared here: the banner's module does
    // not otherwise need that function (82 B gzip more, measured).
    if name.starts_with("__Secure-") || name.starts_with("__Host-") {
        line.push_str("; Secure");
    }
}

/// Whether a cookie `name` matches a declared name `pattern` (`*` for any run of characters):
/// the rule of `CookiePattern::matches`, for a pattern read from a compiled policy.
pub(crate) fn pattern_matches(pattern: &str, name: &str) -> bool {
    glob(pattern.as_bytes(), name.as_bytes())
}

fn glob(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(&c) if Some(&c) == name.get(n) => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    p = sp + 1;
                    n = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    pattern.iter().skip(p).all(|&b| b == b'*')
}

/// Makes a decision from what the visitor did (rules 8 to 10).
///
/// `previous` is the [`evaluate`] result for the page the visitor decided on.
///
/// # Errors
/// [`DecideError::ClockOutOfRange`] when `ctx.now` is before 2020 or after 2099.
///
/// # Example
/// ```
/// use consent_core::{Config, ConsentId, Lang, Method, policy::{self, Action, Context, Signals}};
/// let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
/// let now = time::OffsetDateTime::now_utc();
/// let before = policy::evaluate(&config, None, None, now, Signals::default());
/// let ctx = Context { now, signals: Signals::default(), lang: Lang::Fi, fresh_id: ConsentId::from_bytes([9; 16]) };
///
/// let accepted = policy::decide(&config, &before, Action::AcceptAll, ctx)?;
/// assert_eq!(accepted.state().choices(), config.everything());
///
/// // Rejecting after accepting is a withdrawal that clears the trackers' cookies.
/// let token = consent_core::Token::unsigned(*accepted.state()).to_string();
/// let after = policy::evaluate(&config, Some(&token), None, now, Signals::default());
/// let withdrawn = policy::decide(&config, &after, Action::RejectAll, ctx)?;
/// assert_eq!(withdrawn.state().method(), Method::Withdraw);
/// let cleared: Vec<&str> = withdrawn.cookies_to_clear(&config).map(|(_, c)| c.name().as_str()).collect();
/// assert_eq!(cleared, ["_ga", "_ga_*", "_gcl_au", "_fbp", "YSC", "VISITOR_INFO1_LIVE"]);
/// # Ok::<(), Box<dyn core::error::Error>>(())
/// ```
pub fn decide<P: SitePolicy + ?Sized, T: Timestamp>(
    site: &P,
    previous: &Evaluation,
    action: Action,
    ctx: Context<T>,
) -> Result<Decision, DecideError> {
    site.params().decide(previous, action, ctx)
}

impl Params {
    /// Rules 8 to 10 ([`decide`]) over parameters already read.
    pub(crate) fn decide<T: Timestamp>(
        &self,
        previous: &Evaluation,
        action: Action,
        ctx: Context<T>,
    ) -> Result<Decision, DecideError> {
        let now = ctx.now.unix();
        if !(MIN_TIME..=MAX_TIME).contains(&now) {
            return Err(DecideError::ClockOutOfRange);
        }
        let gpc = self.gpc_active(ctx.signals);
        let granted = match action {
            Action::AcceptAll if gpc => self.without_gpc_categories(self.everything),
            Action::AcceptAll => self.everything,
            Action::RejectAll | Action::Gpc => self.necessary,
            Action::Custom(choices) => self.normalize(choices),
            Action::Grant(more) => self.normalize(previous.allowed.union(&more)),
        };
        let revoked = previous.allowed.minus(&granted);
        let method = match action {
            Action::AcceptAll => Method::AcceptAll,
            Action::RejectAll => Method::RejectAll,
            Action::Custom(_) | Action::Grant(_) => Method::Custom,
            Action::Gpc => Method::Gpc,
        }
        .revoking(&revoked);
        let (id, first) = match &previous.state {
            Some(s) => (s.id, s.first.min(now)),
            None => (ctx.fresh_id, now),
        };
        let state = ConsentState {
            id,
            first,
            last: now,
            revision: self.revision(),
            fingerprint: self.fingerprint,
            method,
            lang: ctx.lang,
            gpc,
            choices: granted,
            n_categories: self.n_categories,
            n_services: self.n_services,
        };
        Ok(Decision { state, revoked })
    }
}

/// How many days a decision stands under a site's policy (rule 5).
#[must_use]
pub fn lifetime_days<P: SitePolicy + ?Sized>(site: &P, state: &ConsentState) -> u16 {
    let (accept, refuse) = site.lifetime_days();
    if state.grants_beyond_necessary() {
        accept
    } else {
        refuse
    }
}

/// When a decision expires under a site's policy (rule 5), as any [`Timestamp`].
#[must_use]
pub fn expires<T: Timestamp, P: SitePolicy + ?Sized>(site: &P, state: &ConsentState) -> T {
    T::from_unix(state.last + i64::from(lifetime_days(site, state)) * DAY)
}

/// The domains to try when deleting a cookie from the page at `host`: the host itself, then
/// each parent domain with at least two labels, since a tracker may have set its cookie on
/// any of them.
///
/// # Example
/// ```
/// let domains: Vec<&str> = consent_core::policy::clear_domains("www.vet.klinikka.fi").collect();
/// assert_eq!(domains, ["www.vet.klinikka.fi", "vet.klinikka.fi", "klinikka.fi"]);
/// ```
// Always inlined into its one caller: out of line, the iterator came back through memory
// (15 B gzip of the banner's module, measured).
#[inline(always)]
pub fn clear_domains(host: &str) -> impl Iterator<Item = &str> {
    let host = trim_end_ascii(host, b'.');
    let is_ip = is_ip(host);
    // Each parent is what follows the first dot, while that still has two labels.
    core::iter::successors(Some(host), move |domain| {
        let (_, parent) = split_once_ascii(domain, b'.')?;
        (!is_ip && contains_ascii(parent, b'.')).then_some(parent)
    })
}

/// Whether `host` is an IP address, so that it has no parent domains: anything with a `:`,
/// which no host name has (IPv6), or a host whose last label is a number. A browser's URL
/// parser reads such a host as IPv4 and refuses the URL if it is not one (the WHATWG URL
/// standard's "ends in a number" check), so a page's `location.hostname` that ends in a number
/// is an IPv4 address; a server's `Host` that ends in one names no domain a cookie can be
/// set on. Read a byte at a time: no IPv4 parser in the browser build (62 B gzip less than
/// checking for a dotted quad, measured; std's parser would be 2.7 kB).
fn is_ip(host: &str) -> bool {
    let mut last = host.bytes().rev().take_while(|&b| b != b'.');
    contains_ascii(host, b':') || last.all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn is_ip_when_it_ends_in_a_number(host in "[0-9.:a]{0,16}") {
            // The WHATWG URL standard's "ends in a number" for a host whose trailing dots are
            // trimmed (what `clear_domains` passes): the last label is all digits.
            let last = host.rsplit('.').next().unwrap_or_default();
            let number = last.bytes().all(|b| b.is_ascii_digit());
            prop_assert_eq!(is_ip(&host), number || host.contains(':'));
            // Every address std reads is one.
            if host.parse::<std::net::IpAddr>().is_ok() {
                prop_assert!(is_ip(&host));
            }
        }

        /// The host, then every suffix after a dot that still has a dot (never for an IP).
        #[test]
        fn clear_domains_are_the_suffixes_of_two_labels_or_more(host in "[a-c1.:]{0,12}") {
            let host = trim_end_ascii(&host, b'.');
            let parents = host.match_indices('.').map(|(i, _)| &host[i + 1..]);
            let want: Vec<&str> = core::iter::once(host)
                .chain(parents.filter(|p| p.contains('.') && !is_ip(host)))
                .collect();
            prop_assert_eq!(clear_domains(host).collect::<Vec<_>>(), want);
        }
    }

    #[test]
    fn is_ip_edges() {
        for (host, ip) in [
            ("127.0.0.1", true),
            ("255.255.255.255", true),
            ("0.0.0.0", true),
            // Not addresses, but no browser's page has such a host (its URL is refused), and
            // none is a domain a cookie is set on.
            ("256.0.0.1", true),
            ("1.2.3", true),
            ("::1", true),
            ("", true),
            ("klinikka.fi", false),
            ("1.2.3.fi", false),
            ("a1", false),
            ("1a.2b", false),
        ] {
            assert_eq!(is_ip(host), ip, "{host}");
        }
    }

    #[test]
    fn a_prefixed_cookie_is_deleted_with_secure() {
        // Browsers refuse a line for a `__Secure-` or `__Host-` cookie without `Secure`.
        assert_eq!(
            deletion_line("__Host-chat", "/", None),
            "__Host-chat=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Secure"
        );
        assert!(
            deletion_line("__Secure-x", "/a", Some("klinikka.fi"))
                .ends_with("; Domain=klinikka.fi; Secure")
        );
        assert!(!deletion_line("_ga", "/", None).contains("Secure"));
        assert!(!deletion_line("x__Host-", "/", None).contains("Secure"));
    }

    #[test]
    fn clear_lines_cover_paths_and_domains_once_and_never_the_consent_cookie() {
        let mut v: serde_json::Value = serde_json::from_str(crate::EXAMPLE_CONFIG).unwrap();
        // `_ga` set by the tag under /blog on the registrable domain.
        v["categories"][1]["services"][0]["cookies"][0]["path"] = "/blog".into();
        v["categories"][1]["services"][0]["cookies"][0]["domain"] = ".klinikka.fi".into();
        let config = Config::from_value(&v).unwrap();
        let now = time::macros::datetime!(2026-11-01 12:00 UTC);
        let ctx = Context {
            now,
            signals: Signals::default(),
            lang: Lang::Fi,
            fresh_id: crate::ConsentId::from_bytes([9; 16]),
        };
        let before = evaluate(&config, None, None, now, Signals::default());
        let all = decide(&config, &before, Action::AcceptAll, ctx).unwrap();
        let token = crate::Token::unsigned(*all.state()).to_string();
        let after = evaluate(&config, Some(&token), None, now, Signals::default());
        let none = decide(&config, &after, Action::RejectAll, ctx).unwrap();
        // The page at `/` does not show the `_ga` set under /blog: it is deleted all the same.
        let present = ["_ga_X1", "_ga_X1", "_fbp", "lang", config.cookie().name()];
        let lines = none.clear_lines(&config, present, "www.klinikka.fi");
        let line = |n: &str, p: &str, d: Option<&str>| deletion_line(n, p, d);
        for path in ["/blog", "/"] {
            assert!(lines.contains(&line("_ga", path, None)), "{lines:#?}");
            for domain in ["www.klinikka.fi", "klinikka.fi", ".klinikka.fi"] {
                assert!(
                    lines.contains(&line("_ga", path, Some(domain))),
                    "{lines:#?}"
                );
            }
        }
        // `_fbp` is declared at `/` without a domain: one path, the host's domains.
        assert_eq!(
            lines.iter().filter(|l| l.starts_with("_fbp=")).count(),
            3,
            "{lines:#?}"
        );
        const NAMES: [&str; 6] = [
            "_ga=",
            "_ga_X1=",
            "_gcl_au=",
            "_fbp=",
            "YSC=",
            "VISITOR_INFO1_LIVE=",
        ];
        // Every name declared exactly, and of the patterns only the names present (once,
        // though the browser showed `_ga_X1` twice); never `lang` or the consent cookie.
        for name in NAMES {
            assert!(
                lines.iter().any(|l| l.starts_with(name)),
                "{name} {lines:#?}"
            );
        }
        assert!(lines.iter().all(|l| NAMES.iter().any(|n| l.starts_with(n))));
        let mut unique = lines.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), lines.len(), "no line twice: {lines:#?}");
        // Accepting revokes nothing: nothing to delete.
        assert!(
            all.clear_lines(&config, present, "www.klinikka.fi")
                .is_empty()
        );
        assert_eq!(
            line("_ga", "/", Some("klinikka.fi")),
            "_ga=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Domain=klinikka.fi"
        );
    }

    #[test]
    fn clear_domains_of_single_label_and_ip_hosts() {
        assert_eq!(
            clear_domains("localhost").collect::<Vec<_>>(),
            ["localhost"]
        );
        assert_eq!(
            clear_domains("127.0.0.1").collect::<Vec<_>>(),
            ["127.0.0.1"]
        );
        assert_eq!(
            clear_domains("klinikka.fi").collect::<Vec<_>>(),
            ["klinikka.fi"]
        );
    }
}
