//! The cookie banner's decisions: [`consent_core`]'s rules over the site's compiled policy,
//! compiled to WebAssembly, behind a small API that `dist/consent.js` calls.
//!
//! The browser does only what only a browser can do. The site's config was validated and
//! compiled ahead (`consent banner build`, or `consent serve`), so the banner reads a
//! [`CompiledPolicy`] of a few hundred bytes, checked whole (a damaged or foreign one fails
//! closed), and never sees JSON config, texts or records. Every decision is the core's:
//! [`policy::evaluate`] says what may run and whether to ask, [`decision::make`] turns a click
//! into a decision, its token (the cookie) and the cookies a withdrawal deletes, and
//! [`Evaluation::allows_element`] which gated element may load. The texts the visitor reads
//! are data the script loads beside the policy, one language at a time, only when the banner
//! is drawn (the preferences' part only with them), and draws only if they are of the
//! policy's revision ([`state`] names it). The endpoint receives the token and the
//! page; the server makes the record.
//!
//! Sites do not use this crate directly but `dist/` (built by `bash wasm/build.sh`) and the
//! files `consent banner build` writes beside it:
//!
//! ```html
//! <link rel="stylesheet" href="/consent/consent.css">
//! <script type="module" src="/consent/consent.js"></script>
//! <script type="text/plain" data-category="analytics" data-service="ga"
//!         data-src="https://www.googletagmanager.com/gtag/js?id=G-XXXX"></script>
//! ```
//!
//! | JavaScript (`window.Consent`) | what it does |
//! | --- | --- |
//! | `run(policyUrl?, options?)` | starts the banner (by itself unless the script has `data-manual`) |
//! | `show()`, `showPreferences()` | opens the first layer or the preferences |
//! | `acceptedCategory(id)`, `acceptedService(id)` | whether it may run now |
//! | `acceptCategory(ids)` | decides: `"all"`, `[]` (reject all) or a list of categories |
//! | `getConsent()` | the stored decision (consent id, times, revision, choices) or `null` |
//! | `setLanguage(lang)` | `"fi"`, `"sv"` or `"en"`, if the site offers it |
//! | `reset()` | forgets the decision, deletes the cookies it allowed, asks again |
//!
//! Events on `window`: `consent:first` (the first decision) and `consent:change` (a decision
//! that changes what is allowed), with `detail: {categories, changed}`.
//!
//! A category counts as accepted (`acceptedCategory`, `categories`, the preferences' switch,
//! Consent Mode) only when granted whole: "Allow and show" on an embed's placeholder grants
//! the embed's service alone (`acceptedService`), not the rest of its category.
//!
//! The functions below are that JavaScript's, not a site's: their names and shapes may change
//! with any release of `dist/`.

//! Without its `std` feature (the download) the crate links no allocator at all: consent-core
//! comes without its `alloc` feature, every answer is written into a [`Sink`], and the
//! script and the module talk through linear memory ([`abi`](crate) below), not
//! wasm-bindgen, whose strings need an allocator.

#![cfg_attr(not(feature = "std"), no_std)]

mod js;

#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
pub mod abi;

use core::cell::RefCell;

use consent_core::compiled::CompiledPolicy;
use consent_core::decision::{self, ActionKind, Made};
use consent_core::policy::{self, Context, Evaluation, Latest};
use consent_core::text::{Buf, Sink, split_ascii, split_once_ascii, trim_ascii};
use consent_core::{Choices, ConsentId, Lang, Signals, Token, consent_mode};

use crate::js::Json;

/// Where the API writes its answers: the module's memory in the browser ([`abi::Answer`]),
/// a `String` natively. One type, not `dyn Sink`: the module calls its writer directly (124 B
/// gzip less, measured).
#[cfg(not(feature = "std"))]
pub type Out = abi::Answer;
/// Where the API writes its answers: a `String` natively (the module's memory in the
/// browser).
#[cfg(feature = "std")]
pub type Out = String;

#[cfg(feature = "std")]
std::thread_local! {
    static APP: RefCell<Option<(CompiledPolicy<'static>, App)>> = const { RefCell::new(None) };
}

#[cfg(not(feature = "std"))]
static APP: single::Local<RefCell<Option<(CompiledPolicy<'static>, App)>>> =
    single::Local(RefCell::new(None));

#[cfg(all(
    not(feature = "std"),
    not(all(target_arch = "wasm32", not(target_feature = "atomics")))
))]
compile_error!("consent-wasm without its `std` feature builds only for wasm32 without threads");

/// Without std: the page's state in a plain static, and a panic is a trap.
#[cfg(not(feature = "std"))]
mod single {
    /// A value for the one thread there is: wasm32 without the atomics feature has no
    /// others (the `compile_error!` above keeps it so).
    pub(crate) struct Local<T>(pub(crate) T);

    // SAFETY: there is exactly one thread (see above), so nothing is ever shared.
    #[allow(unsafe_code)]
    unsafe impl<T> Sync for Local<T> {}

    impl<T> Local<T> {
        /// As `LocalKey::with`.
        pub(crate) fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
            f(&self.0)
        }
    }

    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
        core::arch::wasm32::unreachable()
    }
}

/// The banner's state on this page, beside its compiled policy (checked once by [`start`]
/// and read in place by every call; its bytes live as long as the page).
struct App {
    lang: Lang,
    signals: Signals,
    evaluation: Evaluation,
    /// What was withdrawn on this page (policy rule 13).
    revoked_here: Choices,
}

/// Runs `f` on the banner and its policy, if it has started (and is not busy: a re-entrant
/// call gets `None`, never a panic).
fn with<R>(f: impl FnOnce(&mut App, &CompiledPolicy<'static>) -> R) -> Option<R> {
    APP.with(|a| {
        let mut app = a.try_borrow_mut().ok()?;
        let (policy, app) = app.as_mut()?;
        Some(f(app, policy))
    })
}

/// `f`'s answer, or `null` before [`start`] accepted a policy.
fn answer(out: &mut Out, f: impl FnOnce(&mut App, &CompiledPolicy<'static>, &mut Out)) {
    if with(|app, p| f(app, p, &mut *out)).is_none() {
        Sink::push_str(out, NULL);
    }
}

/// The script's `Date.now()` as the runtime's Unix seconds
/// ([`Timestamp`](consent_core::state::Timestamp)): no calendar in the module.
fn time(ms: f64) -> i64 {
    (ms / 1000.0) as i64
}

/// A consent id from the script's 16 random bytes (all zero if it passed fewer, which it
/// never does: `crypto.getRandomValues(new Uint8Array(16))`).
// Out of line: one copy for `decide` and `reset` (37 B gzip less with `pairs` out of line,
// measured).
#[inline(never)]
fn consent_id(random: &[u8]) -> ConsentId {
    ConsentId::from_bytes(random.first_chunk().copied().unwrap_or_default())
}

/// The `name=value` pairs of `document.cookie`, trimmed; pairs without a name are skipped.
fn pairs(jar: &str) -> Pairs<'_> {
    Pairs(split_ascii(jar, b';'))
}

/// The iterator of [`pairs`]: a type of its own so that its `next` is one function, out of
/// line, for `start`, `decide` and the withdrawal, which walks the jar in two loops (69 B gzip
/// less than the `filter_map` that `pairs` returned, inlined into each, measured).
#[derive(Clone)]
struct Pairs<'a>(consent_core::text::SplitAscii<'a>);

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a str, &'a str);

    #[inline(never)]
    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        self.0.by_ref().find_map(|pair| {
            let (name, value) = split_once_ascii(pair, b'=').unwrap_or((pair, ""));
            let name = trim_ascii(name);
            (!name.is_empty()).then_some((name, trim_ascii(value)))
        })
    }
}

/// Of the consent cookies in `jar` (several when a parent domain's or another path's comes
/// first: stale, damaged or another site's), the value that counts by policy rule 15
/// ([`Latest`]) as `judge` ranks them; `None` when it can read none. One walk for `start`'s
/// stored decision and `decide`'s previous token.
#[inline(never)]
fn stored<'j>(p: &CompiledPolicy<'_>, jar: &'j str, judge: &mut dyn Judge) -> Option<&'j str> {
    let mut latest = Latest::default();
    for (name, value) in pairs(jar) {
        if name != p.cookie().name {
            continue;
        }
        let rank = judge.judge(value);
        if rank != UNREADABLE {
            // `i64::MIN` (not valid) ranks as `None` does.
            latest.offer_rank(value, Some(rank));
        }
    }
    latest.get()
}

/// How [`stored`] ranks a consent cookie's value ([`Latest::offer_rank`]), from a closure's
/// `None` if it cannot be read at all, else its rank (`None`: not valid). A trait of its own
/// rather than `dyn FnMut`, whose vtables also hold a `call_once` shim for each closure that
/// nothing calls (27 B gzip of the module, measured).
trait Judge {
    /// The rank as one number: [`UNREADABLE`], `i64::MIN` for one not valid, else the rank (a
    /// time in 2020-2099), not an `Option<Option<i64>>` through memory (19 B gzip, measured).
    fn judge(&mut self, value: &str) -> i64;
}

/// [`Judge::judge`] of a value that cannot be read at all.
const UNREADABLE: i64 = i64::MAX;

impl<F: FnMut(&str) -> Option<Option<i64>>> Judge for F {
    fn judge(&mut self, value: &str) -> i64 {
        match self(value) {
            None => UNREADABLE,
            Some(rank) => rank.unwrap_or(i64::MIN),
        }
    }
}

/// A list as the script passes it: its items percent-encoded (`encodeURIComponent`) and
/// joined with commas, so an item holding a comma or any character an id or a language tag
/// does not have stays one item that matches nothing. Plain text is cheaper to read than
/// JSON (no reader in the module).
fn items(list: &str) -> impl Iterator<Item = &str> + Clone {
    split_ascii(list, b',').filter(|item| !item.is_empty())
}

/// `"null"`: the answer of every call before [`start`] accepted a policy.
const NULL: &str = "null";

/// The longest cookie line the banner writes for its own cookie: the policy's name, path and
/// domain (each bounded by the config's validation) and the longest token.
type CookieLine = Buf<{ 1024 + consent_core::token::MAX_TOKEN_LEN }>;

/// Starts the banner with the site's compiled `policy` for a visitor whose browser holds
/// `jar` (`document.cookie`) at `now_ms`, with Global Privacy Control `gpc`
/// (`navigator.globalPrivacyControl`), Do Not Track `dnt` (`navigator.doNotTrack` as text:
/// `"1"` is on) and preferred languages `langs` (`<html lang>` first, then
/// `navigator.languages`; a list as `items` reads it).
///
/// Answers JSON: `{"error": "..."}` (a damaged, cut or foreign policy: nothing but the
/// necessary may run) or the state (see [`state`]) with `langs` (the offered language codes),
/// `gcmDefault` (Consent Mode's default command with `wait_for_update`, `null` when it is
/// off) and `gcmUpdate` (the update for a stored decision, else `null`).
#[allow(clippy::too_many_arguments)]
pub fn start(
    policy: &'static [u8],
    jar: &str,
    now_ms: f64,
    gpc: bool,
    dnt: &str,
    langs: &str,
    out: &mut Out,
) {
    APP.with(|a| a.try_borrow_mut().map(|mut a| a.take()).ok());
    let mut j = Json::new(out);
    let parsed = match CompiledPolicy::parse(policy) {
        Ok(p) => p,
        Err(e) => return j.error(e.as_str()),
    };
    let signals = Signals::from_navigator(gpc, Some(dnt));
    let offered = parsed.languages();
    let lang = Lang::negotiate(items(langs), offered).unwrap_or(parsed.default_language());
    // Of several cookies of the name, the one policy rule 15 counts; with no cookie at all,
    // no decision.
    let judge =
        |stored: Option<&str>| policy::evaluate(&parsed, stored, None, time(now_ms), signals);
    let stored = stored(&parsed, jar, &mut |v: &str| Some(judge(Some(v)).rank()));
    let evaluation = judge(stored);
    let app = App {
        lang,
        signals,
        evaluation,
        revoked_here: Choices::none(),
    };
    app.state_open(&parsed, &mut j);
    j.key("langs").open("[");
    for l in offered {
        j.str(l.as_str());
    }
    j.close("]").key("gcmDefault");
    match consent_mode::default(&parsed) {
        Some((state, wait)) => {
            j.consent_mode_open(state)
                .key("wait_for_update")
                .num(wait.into())
                .close("}");
        }
        None => {
            j.raw(NULL);
        }
    }
    j.key("gcmUpdate");
    if app.evaluation.show_banner() {
        j.raw(NULL);
    } else {
        app.consent_mode(&parsed, &mut j);
    }
    j.close("}");
    APP.with(|a| {
        a.try_borrow_mut()
            .map(|mut a| *a = Some((parsed, app)))
            .ok()
    });
}

/// The banner's state now, as JSON: `{show, lang, revision, gpc, id, on: [bool per category,
/// in the policy's order]}`; `show` is whether the first layer must be shown, `revision` the
/// policy's (a decision's token carries it), `id` the stored decision's consent id (or
/// `null`). The texts to draw it with are the script's, loaded for `lang`, and drawn only if
/// they are of `revision`. `null` before [`start`].
pub fn state(out: &mut Out) {
    answer(out, |app, p, out| {
        let mut j = Json::new(out);
        app.state_open(p, &mut j);
        j.close("}");
    });
}

/// Switches the language: `true` if the site offers `lang` (the script then loads its texts).
pub fn set_language(lang: &str) -> bool {
    let Ok(lang) = lang.parse::<Lang>() else {
        return false;
    };
    with(|app, p| {
        let offered = p.languages().contains(&lang);
        if offered {
            app.lang = lang;
        }
        offered
    })
    .unwrap_or(false)
}

/// Decides: `kind` is the action ([`ActionKind`]: `accept_all`, `reject_all`, `custom`
/// with exactly the categories `ids` (a list as `items` reads it), or `grant`, what is
/// allowed now plus `ids`, from an embed's placeholder: a service alone, or a whole
/// category; `None` for one the script does not know). `random` is 16 random bytes (a new consent id if there is none),
/// `jar` the page's cookies, `host` and `href` the page's, `https` whether it is served over
/// https.
///
/// Answers JSON: `{"unknown": [ids]}` (nothing decided), `{"error": "..."}`, or what the
/// page must do, in order: `{cookies: [lines for document.cookie], send: {url, token, page,
/// previous} | null, gcm: update | null, first, changed: [ids], allowed: [ids]}`; `null`
/// before [`start`].
#[allow(clippy::too_many_arguments)]
pub fn decide(
    kind: Option<ActionKind>,
    ids: &str,
    now_ms: f64,
    random: &[u8],
    jar: &str,
    host: &str,
    href: &str,
    https: bool,
    out: &mut Out,
) {
    answer(out, |app, p, out| {
        let mut j = Json::new(out);
        let Some(kind) = kind else {
            // Only a caller other than the banner's script passes a kind outside
            // `ActionKind::ALL`, so the message is short (23 B gzip less than one listing
            // the four).
            return j.error("unknown action");
        };
        let choices = match kind {
            ActionKind::Custom | ActionKind::Grant => {
                let mut unknown = false;
                let chosen = choices(p, ids, kind, &mut |_| unknown = true);
                if unknown {
                    j.open("{").key("unknown").open("[");
                    choices(p, ids, kind, &mut |id| {
                        j.str(id);
                    });
                    j.close("]").close("}");
                    return;
                }
                chosen
            }
            _ => Choices::none(),
        };
        let page = Page {
            jar,
            host,
            href,
            https,
        };
        app.decide(
            p,
            kind.with(choices),
            time(now_ms),
            consent_id(random),
            page,
            &mut j,
        );
    });
}

/// Exactly the categories `ids` (with all their services) and, for a grant, the services
/// `ids` (each alone, with its category: the rest of it stays off); `unknown` is told each id
/// that names neither (then nothing is decided).
fn choices(
    p: &CompiledPolicy<'_>,
    ids: &str,
    kind: ActionKind,
    unknown: &mut dyn FnMut(&str),
) -> Choices {
    let mut categories = Choices::none();
    for id in items(ids) {
        let service = || p.service_index(id).filter(|_| kind == ActionKind::Grant);
        match (p.category_index(id), service()) {
            (Some(ci), _) => categories = categories.with_category(p, ci, true),
            (None, Some(si)) => categories = categories.with_service_granted(p, si),
            (None, None) => unknown(id),
        }
    }
    categories
}

/// Whether a gated element may load ([`allows`]), and if not, whether because its markup
/// names what the policy does not have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Verdict {
    /// Not now: the visitor's decision (or the lack of one) keeps it off.
    Refused = 0,
    /// It may load.
    Allowed = 1,
    /// Never: it names a category or service the policy does not have
    /// ([`Evaluation::element`] is `None`); the script tells the site's developer.
    Unknown = 2,
}

/// Whether an element with `data-category="category"` (`"!marketing"`: when marketing is
/// refused) and `data-service="service"` may load on the page at `path`. Before a policy was
/// accepted (a damaged one, say), only the strictly necessary (policy rule 14).
pub fn allows(category: &str, service: Option<&str>, path: &str) -> Verdict {
    let verdict = |allowed| {
        if allowed {
            Verdict::Allowed
        } else {
            Verdict::Refused
        }
    };
    with(|app, p| {
        app.evaluation
            .element(p, category, service, path, app.revoked_here)
            .map_or(Verdict::Unknown, verdict)
    })
    .unwrap_or_else(|| verdict(policy::allows_without_policy(category)))
}

/// Whether the category `id` may run now (only `necessary` without a decision): granted
/// whole, with every one of its services.
pub fn accepted_category(id: &str) -> bool {
    with(|app, p| {
        let whole = app.evaluation.allowed().whole_categories(p);
        p.category_index(id)
            .is_some_and(|c| whole.allows_category(c))
    })
    .unwrap_or(false)
}

/// Whether the service `id` may run now on the page at `path`: not on a page it is kept off,
/// nor on a page where it was withdrawn (policy rules 11 and 13).
pub fn accepted_service(id: &str, path: &str) -> bool {
    with(|app, p| {
        p.service_index(id).is_some_and(|s| {
            app.evaluation
                .allows_service_on(p, s, path, app.revoked_here)
        })
    })
    .unwrap_or(false)
}

/// The stored decision if it is valid now, as JSON: `{consentId, firstDecision,
/// lastDecision, expires, revision, method, language, gpc, categories, services}` (times in
/// milliseconds since the epoch), else `null`.
pub fn consent(out: &mut Out) {
    answer(out, |app, p, out| app.consent(p, &mut Json::new(out)));
}

/// As JSON: the cookie line that stores the server's signed `token` if it carries the
/// decision in force, whatever its times and consent id (the server re-times a decision to its
/// own clock and issues the id:
/// [`ConsentState::same_decision`](consent_core::ConsentState::same_decision)); `null` if it
/// does not (a late answer to an older decision), `false` if it is not a token at all. The
/// banner then holds the signed decision, the server's id included.
pub fn signed(token: &str, https: bool, out: &mut Out) {
    let Ok(signed) = token.parse::<Token>() else {
        return Sink::push_str(out, "false");
    };
    let mut line = CookieLine::new();
    let kept = with(|app, p| {
        let current = app
            .evaluation
            .state()
            .is_some_and(|s| s.same_decision(signed.state()))
            && !app.evaluation.show_banner();
        if !current {
            return false;
        }
        // Adopt it, judged at its own time: the server's id and times.
        let (_, at) = signed.state().decision_times::<i64>();
        let adopted = policy::evaluate(p, Some(token), None, at, app.signals);
        if adopted.state().is_some() && !adopted.show_banner() {
            app.evaluation = adopted;
        }
        signed.write_cookie_line(p, https, &mut line);
        !line.overflowed()
    });
    Json::new(out).opt_str(kept.unwrap_or(false).then(|| line.as_str()));
}

/// Forgets the stored decision. As JSON: `{cookies: [lines], gcm}` deleting the consent
/// cookie and the declared cookies of whatever it allowed (nothing is recorded); the banner
/// then asks again (the new [`state`] has `show`). `null` before [`start`].
pub fn reset(now_ms: f64, random: &[u8], jar: &str, host: &str, out: &mut Out) {
    answer(out, |app, p, out| {
        let now = time(now_ms);
        let ctx = Context {
            now,
            signals: app.signals,
            lang: app.lang,
            fresh_id: consent_id(random),
        };
        let mut j = Json::new(out);
        j.open("{").key("cookies").open("[");
        let reject = ActionKind::RejectAll.with(Choices::none());
        if let Ok(made) = decision::make(p, &app.evaluation, reject, ctx, None) {
            app.withdraw(p, &made, jar, host, &mut j);
        }
        let c = p.cookie();
        // The host's cookie, and the declared domain's if there is one.
        // In a deletion line's buffer, as the declared cookies': one copy of the writer.
        let mut delete = |domain| {
            let mut line = policy::DeletionLine::new();
            policy::write_deletion_line(&mut line, c.name, c.path, domain);
            j.str(line.as_str());
        };
        delete(None);
        if c.domain.is_some() {
            delete(c.domain);
        }
        app.evaluation = policy::evaluate(p, None, None, now, app.signals);
        j.close("]").key("gcm");
        app.consent_mode(p, &mut j);
        j.close("}");
    });
}

/// The page a decision is made on.
struct Page<'a> {
    /// `document.cookie`.
    jar: &'a str,
    host: &'a str,
    href: &'a str,
    https: bool,
}

impl App {
    /// The state's members, its object left open for more.
    fn state_open(&self, p: &CompiledPolicy<'_>, j: &mut Json<'_>) {
        let ev = &self.evaluation;
        j.open("{").key("show").bool(ev.show_banner());
        j.key("lang").str(self.lang.as_str());
        j.key("revision").num(p.revision().into());
        j.key("gpc").bool(self.signals.gpc);
        let mut hex = [0; 32];
        let id = ev.state().filter(|_| !ev.show_banner()).map(|s| s.id());
        j.key("id").opt_str(id.as_ref().map(|id| id.hex(&mut hex)));
        // A category granted only partly (one embed's service) shows off: saving the
        // preferences must not grant the rest of it.
        let whole = ev.allowed().whole_categories(p);
        j.key("on").open("[");
        for (ci, _) in p.indexed_categories() {
            j.bool(whole.allows_category(ci));
        }
        j.close("]");
    }

    /// Consent Mode's update for what is allowed now, or `null` when it is off.
    fn consent_mode(&self, p: &CompiledPolicy<'_>, j: &mut Json<'_>) {
        match consent_mode::update(p, self.evaluation.allowed()) {
            Some(state) => {
                j.consent_mode_open(state).close("}");
            }
            None => {
                j.raw(NULL);
            }
        }
    }

    /// Writes the cookie lines deleting what decision `made` revokes, on this host and its
    /// parent domains and the declared paths; remembers what it revoked on this page.
    fn withdraw(
        &mut self,
        p: &CompiledPolicy<'_>,
        made: &Made,
        jar: &str,
        host: &str,
        j: &mut Json<'_>,
    ) {
        let present = pairs(jar).map(|(n, _)| n);
        made.decision()
            .for_each_clear_line(p, present, host, &mut |line| {
                j.str(line);
            });
        self.revoked_here = self.revoked_here.union(&made.revoked());
    }

    fn decide(
        &mut self,
        p: &CompiledPolicy<'_>,
        action: decision::Action,
        now: i64,
        fresh_id: ConsentId,
        page: Page<'_>,
        j: &mut Json<'_>,
    ) {
        let ctx = Context {
            now,
            signals: self.signals,
            lang: self.lang,
            fresh_id,
        };
        let made = match decision::make(p, &self.evaluation, action, ctx, None) {
            Ok(made) => made,
            Err(e) => return j.error(e.as_str()),
        };
        let mut line = CookieLine::new();
        made.token().write_cookie_line(p, page.https, &mut line);
        if line.overflowed() {
            return j.error("the consent cookie's line is too long");
        }
        self.evaluation = made.evaluation();
        j.open("{").key("cookies").open("[").str(line.as_str());
        if made.is_withdrawal() {
            self.withdraw(p, &made, page.jar, page.host, j);
        }
        j.close("]").key("send");
        match p.endpoint() {
            Some(url) => {
                // The token and the page: the server makes the record from them and its own
                // config. The token held before (signed, if the server answered) proves the
                // consent id to the server, which otherwise issues a new one; the cookie is
                // overwritten by now, and does not travel to an endpoint on another origin.
                let mut text = [0; consent_core::token::MAX_TOKEN_LEN];
                j.open("{").key("url").str(url);
                j.key("token").str(made.token().text(&mut text));
                j.key("page").str(page.href);
                // Of several cookies of the name, the latest token of the decision this one
                // continues (its consent id); else the first token.
                let id = made.token().state().id();
                let previous = stored(p, page.jar, &mut |v: &str| {
                    let t = v.parse::<Token>().ok()?;
                    let s = t.state();
                    Some((s.id() == id).then(|| s.decision_times::<i64>().1))
                });
                if let Some(previous) = previous {
                    j.key("previous").str(previous);
                }
                j.close("}");
            }
            None => {
                j.raw(NULL);
            }
        }
        j.key("gcm");
        self.consent_mode(p, j);
        j.key("first").bool(made.first());
        let allowed = self.evaluation.allowed().whole_categories(p);
        let changed = made.changed();
        j.key("allowed").categories(p, allowed);
        j.key("changed").categories(p, changed).close("}");
    }

    fn consent(&self, p: &CompiledPolicy<'_>, j: &mut Json<'_>) {
        let ev = &self.evaluation;
        let Some(state) = ev.state().filter(|_| !ev.show_banner()) else {
            j.raw(NULL);
            return;
        };
        let ms = |t: i64| u64::try_from(t).unwrap_or(0) * 1000;
        let (first, last) = state.decision_times();
        j.open("{")
            .key("consentId")
            .str(state.id().hex(&mut [0; 32]));
        j.key("firstDecision").num(ms(first));
        j.key("lastDecision").num(ms(last));
        j.key("expires").num(ms(policy::expires(p, state)));
        j.key("revision").num(state.revision().get().into());
        j.key("method").str(state.method().as_str());
        j.key("language").str(state.lang().as_str());
        j.key("gpc").bool(state.gpc());
        let allowed = ev.allowed();
        let whole = allowed.whole_categories(p);
        j.key("categories").categories(p, whole);
        j.key("services").open("[");
        for (si, s) in p.indexed_services() {
            if allowed.allows_service(si) {
                j.str(s.id);
            }
        }
        j.close("]").close("}");
    }
}

/// The API with its answers as `String`s, natively: what the tests and the fuzz target call
/// (the module's exports, `abi`, are the same functions over linear memory).
#[cfg(feature = "std")]
pub mod strings {
    pub use crate::{Verdict, accepted_category, accepted_service, allows, set_language};

    fn text(f: impl FnOnce(&mut String)) -> String {
        let mut out = String::new();
        f(&mut out);
        out
    }

    /// [`crate::start`]; the policy's bytes are kept for the process's lifetime, as a page
    /// keeps them.
    pub fn start(policy: &[u8], jar: &str, now: f64, gpc: bool, dnt: &str, langs: &str) -> String {
        // The module keeps its policy for the page's lifetime.
        let policy: &'static [u8] = Box::leak(policy.into());
        text(|o| crate::start(policy, jar, now, gpc, dnt, langs, o))
    }

    /// [`crate::decide`].
    #[allow(clippy::too_many_arguments)]
    pub fn decide(
        kind: &str,
        ids: &str,
        now: f64,
        random: &[u8],
        jar: &str,
        host: &str,
        href: &str,
        https: bool,
    ) -> String {
        let kind = kind.parse().ok();
        text(|o| crate::decide(kind, ids, now, random, jar, host, href, https, o))
    }

    /// [`crate::state`].
    pub fn state() -> String {
        text(crate::state)
    }

    /// [`crate::consent`].
    pub fn consent() -> String {
        text(crate::consent)
    }

    /// [`crate::signed`].
    pub fn signed(token: &str, https: bool) -> String {
        text(|o| crate::signed(token, https, o))
    }

    /// [`crate::reset`].
    pub fn reset(now: f64, random: &[u8], jar: &str, host: &str) -> String {
        text(|o| crate::reset(now, random, jar, host, o))
    }
}

#[cfg(test)]
mod tests {
    use super::pairs;

    #[test]
    fn pairs_split_and_trim() {
        let got: Vec<_> = pairs("a=1; consent=1.x; b; =c; d=").collect();
        assert_eq!(got, [("a", "1"), ("consent", "1.x"), ("b", ""), ("d", "")]);
    }
}
