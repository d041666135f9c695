//! The cookie banner: [`consent_core`] compiled to WebAssembly, with a DOM front end.
//!
//! Every decision is the core's: [`policy::evaluate`](consent_core::policy::evaluate) says
//! what may run and whether to ask, [`policy::decide`](consent_core::policy::decide) turns a
//! click into a decision, [`Token`](consent_core::Token) is the cookie,
//! [`DecisionRecord`](consent_core::DecisionRecord) what the endpoint receives. This crate
//! reads the browser (cookies, clock, `crypto`, GPC, languages), draws the banner, gates
//! scripts and embeds, and reports back; it holds no consent logic of its own.
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

mod app;
mod cookies;
mod dom;
mod env;
mod gate;
mod gcm;
mod sync;
mod ui;

use consent_core::policy::Action;
use wasm_bindgen::prelude::*;

pub use consent_core;

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

/// Starts the banner with `config` (a JSON string or an object) and `options`
/// (`{layout, position, theme, nonce, gtag}`; may be `undefined`). Returns `false`, after one
/// console error listing every problem, when the config is invalid: only necessary cookies
/// are then allowed.
#[wasm_bindgen]
pub fn run(config: JsValue, options: JsValue) -> bool {
    let json = match config.as_string() {
        Some(text) => text,
        None => js_sys::JSON::stringify(&config)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_default(),
    };
    app::run(&json, env::Options::from_js(&options))
}

/// Shows the first layer.
#[wasm_bindgen]
pub fn show() {
    app::with(app::App::show_banner);
}

/// Opens the preferences dialog.
#[wasm_bindgen(js_name = showPreferences)]
pub fn show_preferences() {
    app::with(app::App::open_preferences);
}

/// Whether the category `id` may run now.
#[wasm_bindgen(js_name = acceptedCategory)]
pub fn accepted_category(id: &str) -> bool {
    app::with(|a| a.accepted_category(id)).unwrap_or(false)
}

/// Whether the service `id` may run now.
#[wasm_bindgen(js_name = acceptedService)]
pub fn accepted_service(id: &str) -> bool {
    app::with(|a| a.accepted_service(id)).unwrap_or(false)
}

/// Decides on the visitor's behalf, as a site's own controls do: `"all"` accepts all, `[]`
/// rejects all, `["analytics"]` (or `"analytics"`) grants exactly those categories. Unknown
/// ids decide nothing and log an error. Returns whether a decision was stored.
#[wasm_bindgen(js_name = acceptCategory)]
pub fn accept_category(ids: JsValue) -> bool {
    let list: Vec<String> = match ids.as_string() {
        Some(all) if all == "all" => return app::decide(Action::AcceptAll),
        Some(one) => vec![one],
        None => js_sys::Array::from(&ids)
            .iter()
            .filter_map(|v| v.as_string())
            .collect(),
    };
    if list.is_empty() {
        return app::decide(Action::RejectAll);
    }
    match app::with(|a| a.choices_of(&list)) {
        Some(Ok(choices)) => app::decide(Action::Custom(choices)),
        Some(Err(unknown)) => {
            let unknown: js_sys::Array = unknown.iter().map(|s| JsValue::from_str(s)).collect();
            web_sys::console::error_2(
                &JsValue::from_str("consent: acceptCategory: no such categories, nothing decided:"),
                &unknown,
            );
            false
        }
        None => false,
    }
}

/// The stored decision if it is valid now: `{consentId, firstDecision, lastDecision, expires,
/// revision, method, language, gpc, categories, services}` (times in milliseconds since the
/// epoch), else `null`.
#[wasm_bindgen(js_name = getConsent)]
pub fn get_consent() -> JsValue {
    app::with(|a| a.consent()).unwrap_or(JsValue::NULL)
}

/// Switches the banner's language; `false` if the site does not offer `lang`.
#[wasm_bindgen(js_name = setLanguage)]
pub fn set_language(lang: &str) -> bool {
    let Ok(lang) = lang.parse::<consent_core::Lang>() else {
        return false;
    };
    let done = app::with(|a| a.set_language(lang)).unwrap_or(false);
    app::regate();
    done
}

/// Forgets the stored decision, deletes the declared cookies of what it allowed, and shows
/// the banner again. Nothing is recorded.
#[wasm_bindgen]
pub fn reset() {
    app::with(app::App::reset);
}
