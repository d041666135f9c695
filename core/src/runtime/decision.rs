//! One decision, one path: from what the visitor did to the consent cookie, the cookies to
//! delete and the log's record.
//!
//! Every place that decides calls this module and nothing else:
//! - the banner (in the browser, without a key): [`make`];
//! - the server's no-JavaScript form (with the server's key): [`make`] with a [`Signer`];
//! - the server's `POST /consent`, which receives the token the banner made: [`accept`].
//!
//! [`make`] runs the policy's rules 8 to 10 ([`policy::decide`](crate::policy::decide)) and then what follows from
//! them: the consent id the decision keeps, the token (signed when a key is given), what is
//! allowed afterwards, and the cookies a withdrawal deletes. The log's record is
//! [`Made::record`], built from the token's state and the config by the side that holds the
//! config it will be proven against, the server.
//!
//! ```
//! use consent_core::{Config, ConsentId, Lang, Signals, SigningKey};
//! use consent_core::decision::{self, Action, Signer};
//! use consent_core::policy::{self, Context};
//!
//! let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
//! let now = time::OffsetDateTime::now_utc();
//! let before = policy::evaluate(&config, None, None, now, Signals::default());
//! let ctx = Context { now, signals: Signals::default(), lang: Lang::En, fresh_id: ConsentId::from_bytes([7; 16]) };
//!
//! // In the browser: "Accept all" from the first layer. The token goes into the cookie.
//! let made = decision::make(&config, &before, "accept_all".parse::<Action>()?, ctx, None)?;
//! assert!(made.first() && !made.evaluation().show_banner());
//! let line = made.cookie_line(&config, true);
//! assert!(line.starts_with("consent=1."));
//!
//! // On the server: the banner's token, checked, re-timed, given the server's id and signed.
//! let key = SigningKey::new(&[1; 32])?;
//! let fresh = ConsentId::from_bytes([9; 16]);
//! let submitted = made.token().to_string();
//! let accepted = decision::accept(&config, &submitted, Signer { key: &key, proofs: &[] }, fresh, now)?;
//! assert!(accepted.token().is_signed());
//! assert_eq!(accepted.token().state().id(), fresh, "no proof of the old id: a fresh one");
//! let record = accepted.record(&config, None, consent_core::Channel::Banner);
//! assert_eq!(record.action(), consent_core::Method::AcceptAll);
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```

use core::fmt;
use core::str::FromStr;

use time::OffsetDateTime;

use crate::policy::{Context, DecideError, Decision, Evaluation, StoredStatus};
use crate::site::{Params, SitePolicy};
use crate::state::{Choices, ConsentId, ConsentState, Timestamp};
use crate::token::{SigningKey, Token, TokenError, TokenField};

/// What the visitor did: one vocabulary for the banner, the form and the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// "Accept all".
    AcceptAll,
    /// "Reject all".
    RejectAll,
    /// Saved choices from the preferences: exactly these.
    Custom(Choices),
    /// What is allowed now and these besides: "Allow" on an embed's placeholder, say.
    Grant(Choices),
    /// No click: a decision recorded from Global Privacy Control alone.
    Gpc,
}

impl Action {
    /// What kind of action it is, without its choices.
    #[must_use]
    pub const fn kind(&self) -> ActionKind {
        match self {
            Action::AcceptAll => ActionKind::AcceptAll,
            Action::RejectAll => ActionKind::RejectAll,
            Action::Custom(_) => ActionKind::Custom,
            Action::Grant(_) => ActionKind::Grant,
            Action::Gpc => ActionKind::Gpc,
        }
    }

    /// The snake_case name: `accept_all`, `reject_all`, `custom`, `grant` or `gpc`.
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        self.kind().as_str()
    }
}

/// An [`Action`] without its choices, as a form field or the banner's script names it.
///
/// # Example
/// ```
/// use consent_core::decision::{Action, ActionKind};
/// use consent_core::Choices;
/// let kind: ActionKind = "custom".parse()?;
/// assert_eq!(kind.with(Choices::none()), Action::Custom(Choices::none()));
/// assert_eq!(kind.as_str(), "custom");
/// assert!("all".parse::<ActionKind>().is_err());
/// # Ok::<(), consent_core::decision::ParseActionError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ActionKind {
    /// [`Action::AcceptAll`].
    AcceptAll,
    /// [`Action::RejectAll`].
    RejectAll,
    /// [`Action::Custom`].
    Custom,
    /// [`Action::Grant`].
    Grant,
    /// [`Action::Gpc`].
    Gpc,
}

impl ActionKind {
    /// Every kind. The banner's script names a kind by its place here (`wasm/js/banner.js`,
    /// `ACCEPT_ALL` ...), so a new kind goes at the end and none moves.
    pub const ALL: [ActionKind; 5] = [
        ActionKind::AcceptAll,
        ActionKind::RejectAll,
        ActionKind::Custom,
        ActionKind::Grant,
        ActionKind::Gpc,
    ];

    /// The snake_case name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            ActionKind::AcceptAll => "accept_all",
            ActionKind::RejectAll => "reject_all",
            ActionKind::Custom => "custom",
            ActionKind::Grant => "grant",
            ActionKind::Gpc => "gpc",
        }
    }

    /// The action of this kind; `choices` count for `custom` and `grant` only.
    #[must_use]
    pub const fn with(self, choices: Choices) -> Action {
        match self {
            ActionKind::AcceptAll => Action::AcceptAll,
            ActionKind::RejectAll => Action::RejectAll,
            ActionKind::Custom => Action::Custom(choices),
            ActionKind::Grant => Action::Grant(choices),
            ActionKind::Gpc => Action::Gpc,
        }
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for an unknown action name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseActionError;

impl fmt::Display for ParseActionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown action: expected accept_all, reject_all, custom, grant or gpc")
    }
}

impl core::error::Error for ParseActionError {}

impl FromStr for ActionKind {
    type Err = ParseActionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ActionKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(ParseActionError)
    }
}

/// The actions that need no choices: `accept_all`, `reject_all` and `gpc`.
impl FromStr for Action {
    type Err = ParseActionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.parse::<ActionKind>()? {
            kind @ (ActionKind::AcceptAll | ActionKind::RejectAll | ActionKind::Gpc) => {
                Ok(kind.with(Choices::none()))
            }
            ActionKind::Custom | ActionKind::Grant => Err(ParseActionError),
        }
    }
}

/// The server's part in a decision: its key, and the tokens the request showed (the
/// consent cookie, or the banner's previous token). The decision keeps the consent id it
/// carries only when one of `proofs` is signed by `key` for that id; otherwise it takes the
/// fresh id (rule 10). A consent id appears in logs and URLs, so knowing one must not be
/// enough to continue it.
#[derive(Clone, Copy, Debug)]
pub struct Signer<'a> {
    /// The key that signs tokens.
    pub key: &'a SigningKey,
    /// Token texts the request carried.
    pub proofs: &'a [&'a str],
}

impl Signer<'_> {
    /// Whether one of the proofs is a token signed by the key for `id`.
    #[must_use]
    pub fn proves(&self, id: ConsentId) -> bool {
        self.proven(id).is_some()
    }

    /// What the proofs signed by the key for `id` vouch for, each checked once: `None` when
    /// none does.
    fn proven(&self, id: ConsentId) -> Option<Proven> {
        self.proofs
            .iter()
            .filter_map(|s| Token::parse_verified(s, Some(self.key)).ok())
            .map(|t| *t.state())
            .filter(|s| s.id() == id)
            .fold(None, |proven: Option<Proven>, s| {
                Some(match proven {
                    None => Proven {
                        first: s.first,
                        latest: s,
                    },
                    Some(p) => Proven {
                        first: p.first.min(s.first),
                        latest: if s.last > p.latest.last { s } else { p.latest },
                    },
                })
            })
    }

    /// The token of `decision`, made on `before` (rules 8 to 10), signed. A previous decision
    /// the request does not prove is none to the server: the token's state is decided as the
    /// first (its method the action's, nothing granted by the unproven one), while `decision`,
    /// made on what the unproven one let the browser run, still says what to revoke and clear
    /// ([`Made::clear_lines`]).
    fn decided<T: Timestamp>(
        &self,
        params: &Params,
        before: &Evaluation,
        action: Action,
        ctx: Context<T>,
        decision: &Decision,
    ) -> Result<Token, DecideError> {
        // First, so that the banner's module, which has no key, drops the rest.
        self.key.held();
        // The decision keeps the previous one's id, so what proves that proves this one's.
        let proven = before.state().and_then(|s| self.proven(s.id()));
        let state = if before.state().is_some() && proven.is_none() {
            let none = params.evaluate(None, ctx.now.unix(), ctx.signals);
            *params.decide(&none, action, ctx)?.state()
        } else {
            *decision.state()
        };
        Ok(self.sign(state, ctx.fresh_id, proven))
    }

    /// `state` under the id it may keep, signed: its own when `proven` (what proves its id),
    /// with the first decision time the proofs carry; else `fresh`, with this decision as the
    /// first under it. The first decision time a request claims is no more proven than its id.
    fn sign(&self, state: ConsentState, fresh: ConsentId, proven: Option<Proven>) -> Token {
        self.key.held();
        let state = match proven {
            Some(Proven { first, .. }) => ConsentState {
                first: first.min(state.last),
                ..state
            },
            None => ConsentState {
                id: fresh,
                first: state.last,
                ..state
            },
        };
        Token::signed(state, self.key)
    }
}

/// What a request's proofs vouch for about one consent id ([`Signer`]).
#[derive(Clone, Copy, Debug)]
struct Proven {
    /// The earliest first decision time they carry: the id's history as this server vouched
    /// for it.
    first: i64,
    /// The latest decision they carry: what the visitor had decided before.
    latest: ConsentState,
}

/// A decision made, with everything that follows from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Made {
    token: Token,
    /// The policy's decision (rules 8 and 9): what it revokes. Its state is the token's
    /// before the server re-timed it or gave it its id; when the request did not prove the
    /// previous decision, the token's is decided as a first decision instead ([`make`]).
    decision: Decision,
    before: Choices,
    first: bool,
    evaluation: Evaluation,
}

impl Made {
    /// The token to store in the consent cookie (signed when a [`Signer`] was given).
    #[must_use]
    pub fn token(&self) -> &Token {
        &self.token
    }

    /// The new decision.
    #[must_use]
    pub fn state(&self) -> &ConsentState {
        self.token.state()
    }

    /// What the decision allows from now on.
    #[must_use]
    pub fn evaluation(&self) -> Evaluation {
        self.evaluation
    }

    /// Whether this is the visitor's first decision here (none valid was stored before).
    #[must_use]
    pub fn first(&self) -> bool {
        self.first
    }

    /// The policy's decision: what it revokes ([`Decision::revoked`]), whether it is a
    /// withdrawal ([`Decision::is_withdrawal`]).
    #[must_use]
    pub fn decision(&self) -> &Decision {
        &self.decision
    }

    /// What was allowed before and is not now (rule 9).
    #[must_use]
    // Always inlined: out of line, the set came back through memory (17 B gzip of the
    // banner's module, measured; 6 B in round 1, before the clear lines' callback was
    // generic).
    #[inline(always)]
    pub fn revoked(&self) -> Choices {
        self.decision.revoked()
    }

    /// Whether this decision withdraws anything (rule 9).
    #[must_use]
    pub fn is_withdrawal(&self) -> bool {
        self.decision.is_withdrawal()
    }

    /// What was allowed before and is not now, and what is allowed now and was not before:
    /// the categories a page's `consent:change` event names.
    #[must_use]
    pub fn changed(&self) -> Choices {
        let now = self.evaluation.allowed();
        self.before.minus(&now).union(&now.minus(&self.before))
    }

    /// The `Set-Cookie` value and `document.cookie` line that stores the token.
    #[cfg(feature = "alloc")]
    #[must_use]
    pub fn cookie_line<P: SitePolicy + ?Sized>(
        &self,
        site: &P,
        secure: bool,
    ) -> alloc::string::String {
        self.token.cookie_line(site, secure)
    }

    /// The lines deleting every cookie in `present` that the decision revokes, on `host`,
    /// its parent domains and the declared paths ([`Decision::clear_lines`]).
    #[cfg(feature = "alloc")]
    #[must_use]
    pub fn clear_lines<'n, P, I>(
        &self,
        site: &P,
        present: I,
        host: &str,
    ) -> alloc::vec::Vec<alloc::string::String>
    where
        P: SitePolicy + ?Sized,
        I: IntoIterator<Item = &'n str>,
        I::IntoIter: Clone,
    {
        self.decision.clear_lines(site, present, host)
    }
}

/// Makes a decision from what the visitor did, on the page whose evaluation was `before`
/// (rules 8 to 10), and everything that follows from it, under a site's policy: its
/// [`Config`](crate::Config) or its [compiled policy](crate::compiled::CompiledPolicy).
///
/// Without a `signer` (the banner) the token is unsigned and keeps the stored decision's
/// consent id. With one (a server) it is signed and keeps the id only when the request
/// proves it ([`Signer`]); a previous decision it does not prove counts for the cookies to
/// clear only, and the new one is a first decision under a fresh id.
///
/// # Errors
/// [`DecideError::ClockOutOfRange`] when `ctx.now` is before 2020 or after 2099.
pub fn make<P: SitePolicy + ?Sized, T: Timestamp>(
    site: &P,
    before: &Evaluation,
    action: Action,
    ctx: Context<T>,
    signer: Option<Signer<'_>>,
) -> Result<Made, DecideError> {
    // The rules' parameters, read once for the decision and for what it allows afterwards.
    let params = site.params();
    let decision = params.decide(before, action, ctx)?;
    let token = match signer {
        Some(signer) => signer.decided(&params, before, action, ctx, &decision)?,
        None => Token::unsigned(*decision.state()),
    };
    let evaluation = params.evaluate(Some(Ok(token.state())), ctx.now.unix(), ctx.signals);
    Ok(Made {
        token,
        decision,
        before: before.allowed(),
        first: before.show_banner(),
        evaluation,
    })
}

/// Why a submitted decision was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubmitError {
    /// Not a token, or not a well-formed decision (rule 3).
    Token(TokenError),
    /// A decision under another revision or config than this one (rule 4): the page's
    /// banner is out of step with the server.
    OtherPolicy,
    /// The decision's method contradicts its choices ("Accept all" that leaves something
    /// off, "Reject all" that grants something), or its choices are not what the policy
    /// would store: the policy never makes such a decision.
    Inconsistent(&'static str),
    /// The server's clock is outside 2020-2099.
    Clock(DecideError),
}

impl fmt::Display for SubmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubmitError::Token(e) => write!(f, "token: {e}"),
            SubmitError::OtherPolicy => {
                f.write_str("token: the decision was made under another policy revision or config")
            }
            SubmitError::Inconsistent(why) => write!(f, "token: {why}"),
            SubmitError::Clock(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl core::error::Error for SubmitError {}

/// Accepts a decision the banner made (`submitted`, its unsigned token): checks that the
/// policy could have made it (valid under this config at its own decision time, its method
/// agreeing with its choices), makes it a withdrawal exactly when it revokes what the
/// decision the request proves granted (rule 9), re-times it to the server's clock `now`,
/// gives it the consent id the request proves or `fresh` ([`Signer`]), and signs it.
///
/// Nothing is revoked here: the banner deleted what its withdrawal revoked. A `withdraw`
/// over a decision the request does not prove (the banner's, made while the endpoint was
/// down) is signed and logged as the choice it is, under the fresh id.
///
/// # Errors
/// A [`SubmitError`] saying what is wrong with the submission.
pub fn accept<P: SitePolicy + ?Sized>(
    site: &P,
    submitted: &str,
    signer: Signer<'_>,
    fresh: ConsentId,
    now: OffsetDateTime,
) -> Result<Made, SubmitError> {
    let token: Token = submitted.parse().map_err(SubmitError::Token)?;
    let state = *token.state();
    let params = site.params();
    // Judged at its own decision time: is it a well-formed decision under this policy?
    let at_decision = params.evaluate(Some(Ok(&state)), state.last, crate::Signals::default());
    match at_decision.status() {
        StoredStatus::Valid => {}
        StoredStatus::OlderRevision => return Err(SubmitError::OtherPolicy),
        StoredStatus::Malformed(e) => return Err(SubmitError::Token(e)),
        StoredStatus::None | StoredStatus::Expired => {
            return Err(SubmitError::Token(TokenError::Field(
                TokenField::LastDecisionNotCurrent,
            )));
        }
    }
    params
        .consistent(&state)
        .map_err(SubmitError::Inconsistent)?;
    // A withdrawal is one only over a grant the request proves (rule 9 against the decision
    // the server vouched for), whatever the banner saw: its method follows from that.
    let proven = signer.proven(state.id());
    let before = params.evaluate(
        proven.as_ref().map(|p| Ok(&p.latest)),
        now.unix_timestamp(),
        crate::Signals::default(),
    );
    let state = ConsentState {
        method: state
            .method
            .revoking(&before.allowed().minus(&state.choices)),
        ..state
    };
    let state = state.at(now).map_err(SubmitError::Clock)?;
    // The id is the submitted one still: what proves it is `proven`.
    let token = signer.sign(state, fresh, proven);
    let evaluation = params.evaluate(
        Some(Ok(token.state())),
        now.unix_timestamp(),
        crate::Signals::default(),
    );
    Ok(Made {
        token,
        decision: Decision::new(*token.state(), Choices::none()),
        before: evaluation.allowed(),
        first: false,
        evaluation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use crate::policy;
    use crate::{Lang, Method, Signals};

    fn config() -> Config {
        Config::from_json(crate::EXAMPLE_CONFIG).unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn ctx(signals: Signals) -> Context {
        Context {
            now: time::macros::datetime!(2026-11-01 12:00 UTC),
            signals,
            lang: Lang::Sv,
            fresh_id: ConsentId::from_bytes([0xf0; 16]),
        }
    }

    fn first_visit(config: &Config) -> Evaluation {
        policy::evaluate(
            config,
            None,
            None,
            ctx(Signals::default()).now,
            Signals::default(),
        )
    }

    #[test]
    fn the_vocabulary_round_trips_and_refuses_the_old_words() {
        for kind in ActionKind::ALL {
            assert_eq!(kind.as_str().parse::<ActionKind>(), Ok(kind));
            assert_eq!(kind.with(Choices::none()).kind(), kind);
            assert_eq!(kind.to_string(), kind.as_str());
        }
        for old in ["all", "none", "Accept_all", "", " accept_all", "withdraw"] {
            assert_eq!(old.parse::<ActionKind>(), Err(ParseActionError), "{old:?}");
        }
        assert!(
            "custom".parse::<Action>().is_err(),
            "custom needs its choices"
        );
        assert_eq!("reject_all".parse::<Action>(), Ok(Action::RejectAll));
    }

    #[test]
    fn grant_adds_to_what_is_allowed_and_withdraws_nothing() {
        let c = config();
        let analytics = c.category_index("analytics").unwrap();
        let marketing = c.category_index("marketing").unwrap();
        let only = |ci| Choices::none().with_category(&c, ci, true);
        let s = Signals::default();
        let first = make(
            &c,
            &first_visit(&c),
            Action::Custom(only(analytics)),
            ctx(s),
            None,
        )
        .unwrap();
        let granted = make(
            &c,
            &first.evaluation(),
            Action::Grant(only(marketing)),
            ctx(s),
            None,
        )
        .unwrap();
        let allowed = granted.evaluation().allowed();
        assert!(allowed.allows_category(analytics) && allowed.allows_category(marketing));
        assert_eq!(granted.state().method(), Method::Custom);
        assert!(!granted.is_withdrawal() && !granted.first());
        assert_eq!(
            granted.changed().categories().collect::<Vec<_>>(),
            [marketing]
        );
        assert_eq!(
            granted.state().id(),
            first.state().id(),
            "rule 10 without a key"
        );
    }

    #[test]
    fn granting_one_service_leaves_the_rest_of_its_category_off() {
        let c = config();
        let marketing = c.category_index("marketing").unwrap();
        let ads = c.service_index("google-ads").unwrap();
        let pixel = c.service_index("facebook-pixel").unwrap();
        let s = Signals::default();
        let rejected = make(&c, &first_visit(&c), Action::RejectAll, ctx(s), None).unwrap();
        let more = Choices::none().with_service_granted(&c, ads);
        let granted = make(
            &c,
            &rejected.evaluation(),
            Action::Grant(more),
            ctx(s),
            None,
        )
        .unwrap();
        let ev = granted.evaluation();
        assert!(ev.allowed().allows_service(ads) && !ev.allowed().allows_service(pixel));
        assert!(!ev.allowed().whole_categories(&c).allows_category(marketing));
        assert_eq!(granted.state().method(), Method::Custom);
        assert!(!granted.is_withdrawal());
        let none = Choices::none();
        let loads = |category, service| ev.allows_element(&c, category, service, "/", none);
        assert!(loads("marketing", Some("google-ads")));
        assert!(!loads("marketing", Some("facebook-pixel")));
        assert!(
            !loads("marketing", None),
            "an element of no named service may be any of the category's"
        );
        assert!(
            loads("!marketing", None),
            "what shows while marketing is off"
        );
        // The server takes the decision as the banner made it: the policy could make it.
        let key = SigningKey::new(&[5; 32]).unwrap();
        let signer = Signer {
            key: &key,
            proofs: &[],
        };
        let fresh = ConsentId::from_bytes([1; 16]);
        let submitted = granted.token().to_string();
        let accepted = accept(&c, &submitted, signer, fresh, ctx(s).now).unwrap();
        assert_eq!(accepted.state().choices(), granted.state().choices());
        // Granting the category's other services makes it whole.
        let youtube = c.service_index("youtube").unwrap();
        let rest = Choices::none()
            .with_service_granted(&c, pixel)
            .with_service_granted(&c, youtube);
        let whole = make(&c, &ev, Action::Grant(rest), ctx(s), None).unwrap();
        let ev = whole.evaluation();
        assert!(ev.allowed().whole_categories(&c).allows_category(marketing));
        assert!(ev.allows_element(&c, "marketing", None, "/", none));
    }

    #[test]
    fn dnt_counts_in_a_decision_only_when_the_config_honours_it() {
        let mut v: serde_json::Value = serde_json::from_str(crate::EXAMPLE_CONFIG).unwrap();
        let marketing = |c: &Config| c.category_index("marketing").unwrap();
        let dnt = Signals {
            gpc: false,
            dnt: true,
        };
        for (honour, granted) in [(true, false), (false, true)] {
            v["honour_dnt"] = honour.into();
            let c = Config::from_value(&v).unwrap();
            let made = make(&c, &first_visit(&c), Action::AcceptAll, ctx(dnt), None).unwrap();
            assert_eq!(made.state().gpc(), honour, "honour_dnt {honour}");
            assert_eq!(made.evaluation().allows_category(marketing(&c)), granted);
        }
    }

    #[test]
    fn a_server_keeps_an_id_only_when_a_signed_token_proves_it() {
        let c = config();
        let key = SigningKey::new(&[5; 32]).unwrap();
        let s = Signals::default();
        let fresh = ctx(s).fresh_id;
        let old_ctx = Context {
            fresh_id: ConsentId::from_bytes([7; 16]),
            ..ctx(s)
        };
        let old = make(&c, &first_visit(&c), Action::AcceptAll, old_ctx, None).unwrap();
        let unsigned = old.token().to_string();
        let before = policy::evaluate(&c, Some(&unsigned), None, ctx(s).now, s);
        let no_proof = Signer {
            key: &key,
            proofs: &[&unsigned],
        };
        let made = make(&c, &before, Action::RejectAll, ctx(s), Some(no_proof)).unwrap();
        assert_eq!(made.state().id(), fresh, "an unsigned token proves nothing");
        // Nothing was granted under the fresh id: no withdrawal in the record, no earlier
        // first decision; the unsigned grant's cookies are cleared all the same.
        assert_eq!(made.state().method(), Method::RejectAll);
        let (first, last) = made.state().decision_times::<i64>();
        assert_eq!(first, last);
        assert!(made.token().is_signed() && made.is_withdrawal());
        let signed = Token::signed(*old.state(), &key).to_string();
        let proof = Signer {
            key: &key,
            proofs: &[&signed],
        };
        let made = make(&c, &before, Action::RejectAll, ctx(s), Some(proof)).unwrap();
        assert_eq!(made.state().id(), old.state().id());
    }

    #[test]
    fn accept_refuses_what_the_policy_never_makes() {
        let c = config();
        let key = SigningKey::new(&[5; 32]).unwrap();
        let signer = Signer {
            key: &key,
            proofs: &[],
        };
        let s = Signals::default();
        let now = ctx(s).now;
        let fresh = ConsentId::from_bytes([1; 16]);
        let made = |a| make(&c, &first_visit(&c), a, ctx(s), None).unwrap();
        let accepted = accept(
            &c,
            &made(Action::AcceptAll).token().to_string(),
            signer,
            fresh,
            now + time::Duration::seconds(3),
        )
        .unwrap();
        assert_eq!(
            accepted.state().last_decision(),
            now + time::Duration::seconds(3),
            "re-timed"
        );
        assert!(
            accepted
                .state()
                .same_decision(made(Action::AcceptAll).state())
        );
        // "Accept all" that grants nothing, and "Reject all" that grants all: forged.
        let accept_nothing = {
            let mut st = *made(Action::RejectAll).state();
            st = crate::state::ConsentState {
                method: Method::AcceptAll,
                ..st
            };
            Token::unsigned(st).to_string()
        };
        let reject_everything = {
            let st = *made(Action::AcceptAll).state();
            Token::unsigned(crate::state::ConsentState {
                method: Method::RejectAll,
                ..st
            })
            .to_string()
        };
        for forged in [accept_nothing, reject_everything] {
            assert!(
                matches!(
                    accept(&c, &forged, signer, fresh, now),
                    Err(SubmitError::Inconsistent(_))
                ),
                "{forged}"
            );
        }
        assert!(matches!(
            accept(&c, "1.AAAA", signer, fresh, now),
            Err(SubmitError::Token(_))
        ));
    }
}
