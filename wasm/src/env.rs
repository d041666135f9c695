//! What the core takes as arguments, read from the browser: the clock, random ids, privacy
//! signals, languages, and the embedding options.

use consent_core::policy::Signals;
use consent_core::{ConsentId, Lang};
use js_sys::Reflect;
use time::OffsetDateTime;
use wasm_bindgen::{JsCast, JsValue};

use crate::dom::{document, window};

/// `Date.now()`, whole seconds.
pub(crate) fn now() -> OffsetDateTime {
    let secs = (js_sys::Date::now() / 1000.0) as i64;
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// 16 bytes from `crypto.getRandomValues`.
pub(crate) fn random_id() -> ConsentId {
    let mut bytes = [0u8; 16];
    if let Ok(crypto) = window().crypto() {
        let _ = crypto.get_random_values_with_u8_array(&mut bytes);
    }
    ConsentId::from_bytes(bytes)
}

/// `navigator.globalPrivacyControl === true` (anything else, including absent, is no signal).
pub(crate) fn signals() -> Signals {
    let gpc = Reflect::get(
        &window().navigator(),
        &JsValue::from_str("globalPrivacyControl"),
    )
    .ok()
    .and_then(|v| v.as_bool())
        == Some(true);
    Signals { gpc, dnt: false }
}

/// The banner's language: `<html lang>`, then `navigator.languages`, then the config's
/// default, each only if the site offers it.
pub(crate) fn language(offered: &[Lang], default: Lang) -> Lang {
    let html = document()
        .document_element()
        .and_then(|e| e.get_attribute("lang"))
        .unwrap_or_default();
    let browser: Vec<String> = window()
        .navigator()
        .languages()
        .iter()
        .filter_map(|v| v.as_string())
        .collect();
    let preferred = core::iter::once(html.as_str()).chain(browser.iter().map(String::as_str));
    Lang::negotiate(preferred, offered).unwrap_or(default)
}

/// The page's path (`/ajanvaraus`), for services kept off some pages.
pub(crate) fn path() -> String {
    window().location().pathname().unwrap_or_default()
}

/// Whether the page is served over https (the consent cookie is then `Secure`).
pub(crate) fn https() -> bool {
    window().location().protocol().ok().as_deref() == Some("https:")
}

/// Embedding options: from `run(config, options)` or the config element's `data-*`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Options {
    /// `box` (default) or `bar`.
    pub(crate) layout: Option<String>,
    /// `bottom` (default), `bottom-left`, `bottom-right`, `top`, `middle`.
    pub(crate) position: Option<String>,
    /// `light` (default), `dark` or `auto` (follows `prefers-color-scheme`).
    pub(crate) theme: Option<String>,
    /// A CSP nonce for revived inline scripts.
    pub(crate) nonce: Option<String>,
    /// The `gtag` to install when the page has none (the loader's, which pushes
    /// `arguments` to `dataLayer`).
    pub(crate) gtag: Option<js_sys::Function>,
}

impl Options {
    /// Reads `{layout, position, theme, nonce}` from a JavaScript object, ignoring the rest.
    pub(crate) fn from_js(value: &JsValue) -> Self {
        let get = |key: &str| {
            Reflect::get(value, &JsValue::from_str(key))
                .ok()
                .and_then(|v| v.as_string())
                .filter(|s| !s.is_empty())
        };
        if !value.is_object() {
            return Self::default();
        }
        Self {
            layout: get("layout"),
            position: get("position"),
            theme: get("theme"),
            nonce: get("nonce"),
            gtag: Reflect::get(value, &JsValue::from_str("gtag"))
                .ok()
                .and_then(|f| f.dyn_into().ok()),
        }
    }

    /// The classes of the banner's root element for these options. Unknown values fall back
    /// to the defaults, so a typo never produces an invisible banner.
    pub(crate) fn classes(&self) -> String {
        let pick = |v: &Option<String>, allowed: &[&'static str]| -> &'static str {
            let v = v.as_deref().unwrap_or(allowed[0]);
            allowed
                .iter()
                .find(|a| **a == v)
                .copied()
                .unwrap_or(allowed[0])
        };
        let mut c = String::from("cc-root cc-");
        c.push_str(pick(&self.layout, &["box", "bar"]));
        c.push_str(" cc-pos-");
        c.push_str(pick(
            &self.position,
            &["bottom", "bottom-left", "bottom-right", "top", "middle"],
        ));
        c.push_str(" cc-theme-");
        c.push_str(pick(&self.theme, &["light", "dark", "auto"]));
        c
    }
}
