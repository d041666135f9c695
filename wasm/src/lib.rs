//! The cookie banner's decisions: [`consent_core`] compiled to WebAssembly, behind a small
//! API that `dist/consent.js` calls.
//!
//! Every decision is the core's: [`policy::evaluate`] says what may run and whether to ask,
//! [`decision::make`] turns a click into a decision, its token (the cookie) and the cookies a
//! withdrawal deletes, [`Evaluation::allows_element`] which gated element may load, and
//! [`Texts`](consent_core::Texts) what the visitor reads. The endpoint receives the token and
//! the page; the server makes the record. This crate keeps the page's state (config, language, evaluation) and
//! answers the banner's JavaScript (`wasm/js/banner.js`) in plain values: what to draw, which
//! cookie lines to write, what to send, which gated element may load. The JavaScript draws,
//! writes and sends; it decides nothing (DESIGN.md, "The banner").
//!
//! Sites do not use this crate directly but `dist/` (built by `bash wasm/build.sh`):
//!
//! ```html
//! <link rel="stylesheet" href="/consent/consent.css">
//! <script type="application/json" id="consent-config">{"revision": 1, ...}</script>
//! <script type="module" src="/consent/consent.js"></script>
//! <script type="text/plain" data-category="analytics" data-service="ga"
//!         data-src="https://www.googletagmanager.com/gtag/js?id=G-XXXX"></script>
//! ```
//!
//! | JavaScript (`window.Consent`) | what it does |
//! | --- | --- |
//! | `run(config, options?)` | starts the banner (config as an object or JSON text) |
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
//! The functions below are that JavaScript's, not a site's: their names and shapes may change
//! with any release of `dist/`.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

mod js;

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;

use consent_core::__private::json_strings;
use consent_core::decision::{self, ActionKind, Made};
use consent_core::policy::{self, Context, Evaluation};
use consent_core::texts::fill;
use consent_core::{Choices, Config, ConsentId, Lang, Signals, TextKey, Token};
use wasm_bindgen::prelude::*;

use crate::js::Json;

// The banner allocates little (the config, a few strings per decision) for the page's
// lifetime: lol_alloc's free list instead of dlmalloc is 6 kB less to download.
// `AssumeSingleThreaded` is sound because wasm32-unknown-unknown without the atomics
// feature has no threads: nothing can call the allocator concurrently.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
#[allow(unsafe_code)]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    // SAFETY: single-threaded, see above.
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

#[cfg(feature = "std")]
std::thread_local! {
    static APP: RefCell<Option<App>> = const { RefCell::new(None) };
}

#[cfg(not(feature = "std"))]
static APP: single::Local<RefCell<Option<App>>> = single::Local(RefCell::new(None));

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

/// The banner's state on this page.
struct App {
    config: Config,
    lang: Lang,
    signals: Signals,
    evaluation: Evaluation,
    /// What was withdrawn on this page (policy rule 13).
    revoked_here: Choices,
}

/// Runs `f` on the banner, if it has started (and is not busy: a re-entrant call gets
/// `None`, never a panic).
fn with<R>(f: impl FnOnce(&mut App) -> R) -> Option<R> {
    APP.with(|a| a.try_borrow_mut().ok()?.as_mut().map(f))
}

fn time(ms: f64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp((ms / 1000.0) as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

fn consent_id(random: &[u8]) -> ConsentId {
    let mut bytes = [0u8; 16];
    for (b, r) in bytes.iter_mut().zip(random) {
        *b = *r;
    }
    ConsentId::from_bytes(bytes)
}

/// The `name=value` pairs of `document.cookie`, trimmed; pairs without a name are skipped.
fn pairs(jar: &str) -> impl Iterator<Item = (&str, &str)> {
    jar.split(';').filter_map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = name.trim();
        (!name.is_empty()).then_some((name, value.trim()))
    })
}

/// `"null"`: the answer of every call before [`start`] accepted a config.
const NULL: &str = "null";

/// Starts the banner with `config` (JSON text) for a visitor whose browser holds `jar`
/// (`document.cookie`) at `now_ms`, with Global Privacy Control `gpc`
/// (`navigator.globalPrivacyControl`), Do Not Track `dnt` (`navigator.doNotTrack` as text: `"1"` is on) and preferred
/// languages `langs`, a JSON list (`<html lang>` first, then `navigator.languages`; any
/// other text counts as none). Lists cross the boundary as JSON text: one string, not an
/// array of JavaScript strings, whose glue would cost the download a kilobyte.
///
/// Returns JSON: `{"error": "..."}` (every problem of an invalid config, one per line) or
/// the view (see [`view`]) with `gcmDefault` (Consent Mode's default command with
/// `wait_for_update`, `null` when it is off) and `gcmUpdate` (the update for a stored
/// decision, else `null`).
#[wasm_bindgen]
pub fn start(config: &str, jar: &str, now_ms: f64, gpc: bool, dnt: &str, langs: &str) -> String {
    APP.with(|a| a.try_borrow_mut().map(|mut a| a.take()).ok());
    let config = match Config::from_json(config) {
        Ok(config) => config,
        Err(e) => {
            let mut j = Json::new();
            j.open('{').key("error").str(&e.to_string()).close('}');
            return j.finish();
        }
    };
    let signals = Signals::from_navigator(gpc, Some(dnt));
    let langs = json_strings(langs).unwrap_or_default();
    let lang = Lang::negotiate(langs.iter().map(String::as_str), config.languages())
        .unwrap_or(config.default_language());
    let stored = pairs(jar)
        .find(|(n, _)| *n == config.cookie().name())
        .map(|(_, v)| v);
    let evaluation = policy::evaluate(&config, stored, None, time(now_ms), signals);
    let app = App {
        config,
        lang,
        signals,
        evaluation,
        revoked_here: Choices::none(),
    };
    let mut j = Json::new();
    app.view_open(&mut j);
    let mode = app.config.consent_mode();
    j.key("gcmDefault");
    if mode.enabled() {
        j.consent_mode_open(mode.default_state())
            .key("wait_for_update")
            .num(mode.wait_for_update_ms().into())
            .close('}');
    } else {
        j.raw(NULL);
    }
    j.key("gcmUpdate");
    if app.evaluation.show_banner() {
        j.raw(NULL);
    } else {
        app.consent_mode(&mut j);
    }
    j.close('}');
    APP.with(|a| a.try_borrow_mut().map(|mut a| *a = Some(app)).ok());
    j.finish()
}

/// What the banner draws now, in its language, as JSON:
/// `{show, lang, langs: [[code, name]], t: {text_key: text}, privacy, gpc, id, categories:
/// [{id, title, description, necessary, on, services: [{name, provider, purpose, privacy,
/// cookies: [[name, lifetime, purpose]]}]}]}`; `show` is whether the first layer must be
/// shown, `id` the stored decision's consent id (or `null`). `null` before [`start`].
#[wasm_bindgen]
pub fn view() -> String {
    with(|app| app.view()).unwrap_or_else(|| NULL.to_string())
}

/// Switches the language; the new [`view`], or `null` if the site does not offer `lang`.
#[wasm_bindgen(js_name = setLanguage)]
pub fn set_language(lang: &str) -> String {
    let switched = lang.parse::<Lang>().ok().and_then(|lang| {
        with(|app| {
            app.config.languages().contains(&lang).then(|| {
                app.lang = lang;
                app.view()
            })
        })
        .flatten()
    });
    switched.unwrap_or_else(|| NULL.to_string())
}

/// Decides: `kind` is an action's name ([`ActionKind`]: `accept_all`, `reject_all`,
/// `custom` with exactly the categories `ids`, a JSON list, or `grant`, what is allowed now
/// plus the categories `ids`, from an embed's placeholder); `ids` that are not a JSON list of
/// strings decide nothing. `random` is 16 random bytes (a new consent id if there is none),
/// `jar` the page's cookies, `host` and `href` the page's, `https` whether it is served over
/// https.
///
/// Returns JSON: `{"unknown": [ids]}` (nothing decided), `{"error": "..."}`, or what the
/// page must do, in order: `{cookies: [lines for document.cookie], send: {url, body} |
/// null, gcm: update | null, saved: text to announce, first, changed: [ids], allowed:
/// [ids]}`; `null` before [`start`].
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn decide(
    kind: &str,
    ids: &str,
    now_ms: f64,
    random: &[u8],
    jar: &str,
    host: &str,
    href: &str,
    https: bool,
) -> String {
    with(|app| {
        let error = |message: &str| {
            let mut j = Json::new();
            j.open('{').key("error").str(message).close('}');
            j.finish()
        };
        let Ok(kind) = kind.parse::<ActionKind>() else {
            return error("unknown action: expected accept_all, reject_all, custom or grant");
        };
        let choices = match kind {
            ActionKind::Custom | ActionKind::Grant => {
                let Some(ids) = json_strings(ids) else {
                    return error("the category ids are not a JSON list of strings");
                };
                match app.choices(&ids) {
                    Ok(choices) => choices,
                    Err(unknown) => {
                        let mut j = Json::new();
                        j.open('{').key("unknown").open('[');
                        for id in &unknown {
                            j.str(id);
                        }
                        j.close(']').close('}');
                        return j.finish();
                    }
                }
            }
            _ => Choices::none(),
        };
        app.decide(
            kind.with(choices),
            time(now_ms),
            consent_id(random),
            jar,
            host,
            href,
            https,
        )
    })
    .unwrap_or_else(|| NULL.to_string())
}

/// Whether an element with `data-category="category"` (`"!marketing"`: when marketing is
/// refused) and `data-service="service"` may load on the page at `path`.
#[wasm_bindgen]
pub fn allows(category: &str, service: Option<String>, path: &str) -> bool {
    with(|app| {
        app.evaluation.allows_element(
            &app.config,
            category,
            service.as_deref(),
            path,
            app.revoked_here,
        )
    })
    .unwrap_or(false)
}

/// Whether the category `id` may run now (only `necessary` without a decision).
#[wasm_bindgen(js_name = acceptedCategory)]
pub fn accepted_category(id: &str) -> bool {
    with(|app| {
        app.config
            .category_index(id)
            .is_some_and(|c| app.evaluation.allows_category(c))
    })
    .unwrap_or(false)
}

/// Whether the service `id` may run now on the page at `path`: not on a page it is kept off,
/// nor on a page where it was withdrawn (policy rules 11 and 13).
#[wasm_bindgen(js_name = acceptedService)]
pub fn accepted_service(id: &str, path: &str) -> bool {
    with(|app| {
        app.config.service_index(id).is_some_and(|s| {
            app.evaluation
                .allows_service_on(&app.config, s, path, app.revoked_here)
        })
    })
    .unwrap_or(false)
}

/// The stored decision if it is valid now, as JSON: `{consentId, firstDecision,
/// lastDecision, expires, revision, method, language, gpc, categories, services}` (times in
/// milliseconds since the epoch), else `null`.
#[wasm_bindgen]
pub fn consent() -> String {
    with(|app| app.consent()).unwrap_or_else(|| NULL.to_string())
}

/// As JSON: the cookie line that stores the server's signed `token` if it carries the
/// decision in force, whatever its times and consent id (the server re-times a decision to its
/// own clock and issues the id:
/// [`ConsentState::same_decision`](consent_core::ConsentState::same_decision)); `null` if it
/// does not (a late answer to an older decision), `false` if it is not a token at all. The
/// banner then holds the signed decision, the server's id included.
#[wasm_bindgen]
pub fn signed(token: &str, https: bool) -> String {
    let Ok(signed) = token.parse::<Token>() else {
        return "false".to_string();
    };
    let line = with(|app| {
        let current = app
            .evaluation
            .state()
            .is_some_and(|s| s.same_decision(signed.state()))
            && !app.evaluation.show_banner();
        if !current {
            return None;
        }
        // Adopt it, judged at its own time: the server's id and times.
        let at = signed.state().last_decision();
        let adopted = policy::evaluate(&app.config, Some(token), None, at, app.signals);
        if adopted.state().is_some() && !adopted.show_banner() {
            app.evaluation = adopted;
        }
        Some(signed.cookie_line(&app.config, https))
    })
    .flatten();
    let mut j = Json::new();
    j.opt_str(line.as_deref());
    j.finish()
}

/// Forgets the stored decision. As JSON: `{cookies: [lines], gcm}` deleting the consent
/// cookie and the declared cookies of whatever it allowed (nothing is recorded); the banner
/// then asks again (the new [`view`] has `show`). `null` before [`start`].
#[wasm_bindgen]
pub fn reset(now_ms: f64, random: &[u8], jar: &str, host: &str) -> String {
    with(|app| {
        let now = time(now_ms);
        let ctx = Context {
            now,
            signals: app.signals,
            lang: app.lang,
            fresh_id: consent_id(random),
        };
        let mut lines = Vec::new();
        let evaluation = app.evaluation;
        let reject = decision::make(
            &app.config,
            &evaluation,
            ActionKind::RejectAll.with(Choices::none()),
            ctx,
            None,
        );
        if let Ok(made) = reject {
            app.withdraw(&made, jar, host, &mut lines);
        }
        let c = app.config.cookie();
        lines.push(policy::deletion_line(c.name(), c.path(), None));
        if c.domain().is_some() {
            lines.push(policy::deletion_line(c.name(), c.path(), c.domain()));
        }
        app.evaluation = policy::evaluate(&app.config, None, None, now, app.signals);
        let mut j = Json::new();
        j.open('{').key("cookies").open('[');
        for line in &lines {
            j.str(line);
        }
        j.close(']').key("gcm");
        app.consent_mode(&mut j);
        j.close('}');
        j.finish()
    })
    .unwrap_or_else(|| NULL.to_string())
}

/// The placeholder for an embed that waits for `category` (and `service`), as JSON: `{text,
/// button, category}`, or `null` for an unknown category.
#[wasm_bindgen]
pub fn placeholder(category: &str, service: Option<String>) -> String {
    with(|app| {
        let config = &app.config;
        let ci = config.category_index(category.trim())?;
        let texts = config.texts(app.lang);
        let cat = config.category(ci)?;
        let title = cat.title(&texts);
        let name = service
            .as_deref()
            .and_then(|id| config.service(config.service_index(id.trim())?))
            .map_or(title, |s| s.name());
        let text = fill(
            &fill(texts.get(TextKey::PlaceholderText), "{service}", name),
            "{category}",
            title,
        );
        let mut j = Json::new();
        j.open('{').key("text").str(&text);
        j.key("button").str(texts.get(TextKey::PlaceholderButton));
        j.key("category").str(cat.id().as_str()).close('}');
        Some(j.finish())
    })
    .flatten()
    .unwrap_or_else(|| NULL.to_string())
}

impl App {
    fn view(&self) -> String {
        let mut j = Json::new();
        self.view_open(&mut j);
        j.close('}');
        j.finish()
    }

    /// The view's members, its object left open for more.
    fn view_open(&self, j: &mut Json) {
        let config = &self.config;
        let lang = self.lang;
        let t = config.texts(lang);
        let ev = &self.evaluation;
        j.open('{').key("show").bool(ev.show_banner());
        j.key("lang").str(lang.as_str());
        j.key("langs").open('[');
        for l in config.languages() {
            j.open('[').str(l.as_str()).str(l.native_name()).close(']');
        }
        j.close(']').key("t").open('{');
        for key in TextKey::ALL {
            j.key(key.as_str()).str(t.get(*key));
        }
        j.close('}').key("privacy").str(config.privacy_notice(lang));
        j.key("gpc").bool(self.signals.gpc);
        let id = ev
            .state()
            .filter(|_| !ev.show_banner())
            .map(|s| s.id().to_string());
        j.key("id").opt_str(id.as_deref());
        j.key("categories").open('[');
        for (ci, c) in config.indexed_categories() {
            j.open('{').key("id").str(c.id().as_str());
            j.key("title").str(c.title(&t));
            j.key("description").str(c.description(&t));
            j.key("necessary").bool(c.is_necessary());
            j.key("on").bool(ev.allows_category(ci));
            j.key("services").open('[');
            for s in c.services() {
                j.open('{').key("name").str(s.name());
                j.key("provider").str(s.provider());
                j.key("purpose").str(s.purpose().get(lang));
                j.key("privacy").opt_str(s.privacy_url());
                j.key("cookies").open('[');
                for k in s.cookies() {
                    j.open('[').str(k.name().as_str());
                    j.str(&t.lifetime(k.lifetime()));
                    j.str(k.description().get(lang)).close(']');
                }
                j.close(']').close('}');
            }
            j.close(']').close('}');
        }
        j.close(']');
    }

    /// Consent Mode's update for what is allowed now, or `null` when it is off.
    fn consent_mode(&self, j: &mut Json) {
        let mode = self.config.consent_mode();
        if mode.enabled() {
            j.consent_mode_open(mode.state(self.evaluation.allowed()))
                .close('}');
        } else {
            j.raw(NULL);
        }
    }

    /// Exactly the categories `ids` (with all their services); the unknown ids if any.
    fn choices(&self, ids: &[String]) -> Result<Choices, Vec<String>> {
        let mut choices = Choices::none();
        let mut unknown = Vec::new();
        for id in ids {
            match self.config.category_index(id) {
                Some(ci) => choices = choices.with_category(&self.config, ci, true),
                None => unknown.push(id.clone()),
            }
        }
        if unknown.is_empty() {
            Ok(choices)
        } else {
            Err(unknown)
        }
    }

    /// The cookie lines deleting what decision `made` revokes, on this host and its parent
    /// domains and the declared paths; remembers what it revoked on this page.
    fn withdraw(&mut self, made: &Made, jar: &str, host: &str, lines: &mut Vec<String>) {
        lines.extend(made.clear_lines(&self.config, pairs(jar).map(|(n, _)| n), host));
        self.revoked_here = self.revoked_here.union(&made.revoked());
    }

    #[allow(clippy::too_many_arguments)]
    fn decide(
        &mut self,
        action: decision::Action,
        now: time::OffsetDateTime,
        fresh_id: ConsentId,
        jar: &str,
        host: &str,
        href: &str,
        https: bool,
    ) -> String {
        let ctx = Context {
            now,
            signals: self.signals,
            lang: self.lang,
            fresh_id,
        };
        let mut j = Json::new();
        let made = match decision::make(&self.config, &self.evaluation, action, ctx, None) {
            Ok(made) => made,
            Err(e) => {
                j.open('{').key("error").str(&e.to_string()).close('}');
                return j.finish();
            }
        };
        let mut lines = vec![made.cookie_line(&self.config, https)];
        self.evaluation = made.evaluation();
        if made.is_withdrawal() {
            self.withdraw(&made, jar, host, &mut lines);
        }
        j.open('{').key("cookies").open('[');
        for line in &lines {
            j.str(line);
        }
        j.close(']').key("send");
        match self.config.endpoint() {
            Some(url) => {
                // The token and the page: the server makes the record from them and its own
                // config. The token held before (signed, if the server answered) proves the
                // consent id to the server, which otherwise issues a new one; the cookie is
                // overwritten by now, and does not travel to an endpoint on another origin.
                let mut body = Json::new();
                body.open('{').key("token").str(&made.token().to_string());
                body.key("page").str(href);
                let previous = pairs(jar)
                    .find(|(n, _)| *n == self.config.cookie().name())
                    .map(|(_, v)| v)
                    .filter(|v| v.parse::<Token>().is_ok());
                if let Some(previous) = previous {
                    body.key("previous").str(previous);
                }
                body.close('}');
                j.open('{')
                    .key("url")
                    .str(url)
                    .key("body")
                    .str(&body.finish())
                    .close('}');
            }
            None => {
                j.raw(NULL);
            }
        }
        j.key("gcm");
        self.consent_mode(&mut j);
        let saved = self.config.texts(self.lang).get(TextKey::Saved);
        j.key("saved").str(saved);
        j.key("first").bool(made.first());
        j.key("allowed").open('[');
        let allowed = self.evaluation.allowed();
        for (ci, category) in self.config.indexed_categories() {
            if allowed.allows_category(ci) {
                j.str(category.id().as_str());
            }
        }
        j.close(']').key("changed").open('[');
        let changed = made.changed();
        for (ci, category) in self.config.indexed_categories() {
            if changed.allows_category(ci) {
                j.str(category.id().as_str());
            }
        }
        j.close(']').close('}');
        j.finish()
    }

    fn consent(&self) -> String {
        let ev = &self.evaluation;
        let Some(state) = ev.state().filter(|_| !ev.show_banner()) else {
            return NULL.to_string();
        };
        let config = &self.config;
        let ms = |t: time::OffsetDateTime| u64::try_from(t.unix_timestamp()).unwrap_or(0) * 1000;
        let mut j = Json::new();
        j.open('{').key("consentId").str(&state.id().to_string());
        j.key("firstDecision").num(ms(state.first_decision()));
        j.key("lastDecision").num(ms(state.last_decision()));
        j.key("expires").num(ms(policy::expires(config, state)));
        j.key("revision").num(state.revision().get().into());
        j.key("method").str(state.method().as_str());
        j.key("language").str(state.lang().as_str());
        j.key("gpc").bool(state.gpc());
        let allowed = ev.allowed();
        j.key("categories").open('[');
        for c in allowed.categories().filter_map(|c| config.category(c)) {
            j.str(c.id().as_str());
        }
        j.close(']').key("services").open('[');
        for s in allowed.services().filter_map(|s| config.service(s)) {
            j.str(s.id().as_str());
        }
        j.close(']').close('}');
        j.finish()
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
