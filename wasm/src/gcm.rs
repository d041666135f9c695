//! Google Consent Mode v2: `default` before any gated tag runs, `update` on every decision.

use consent_core::Config;
use consent_core::consent_mode::ConsentModeState;
use consent_core::policy::Evaluation;
use js_sys::{Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::dom::window;

/// `window.gtag`, which the loader in `consent.js` defines when the page has not: a static
/// file, so no inline script and no `eval` is needed to create it.
fn gtag() -> Option<Function> {
    Reflect::get(&window(), &JsValue::from_str("gtag"))
        .ok()?
        .dyn_into::<Function>()
        .ok()
}

fn object(state: ConsentModeState) -> Object {
    let o = Object::new();
    for (signal, value) in state.iter() {
        let _ = Reflect::set(
            &o,
            &JsValue::from_str(signal.as_str()),
            &JsValue::from_str(value.as_str()),
        );
    }
    o
}

fn send(command: &str, params: &Object) {
    if let Some(gtag) = gtag() {
        let _ = gtag.call3(
            &JsValue::UNDEFINED,
            &JsValue::from_str("consent"),
            &JsValue::from_str(command),
            params,
        );
    }
}

/// `gtag('consent', 'default', {every signal denied, wait_for_update})`, after installing
/// `dataLayer` and `shim` as `window.gtag` when the page has neither.
pub(crate) fn default(config: &Config, shim: Option<&Function>) {
    let mode = config.consent_mode();
    if mode.enabled() {
        let w = window();
        let layer = JsValue::from_str("dataLayer");
        if Reflect::get(&w, &layer).is_ok_and(|l| l.is_undefined()) {
            let _ = Reflect::set(&w, &layer, &js_sys::Array::new());
        }
        if let (None, Some(shim)) = (gtag(), shim) {
            let _ = Reflect::set(&w, &JsValue::from_str("gtag"), shim);
        }
        let params = object(mode.default_state());
        let _ = Reflect::set(
            &params,
            &JsValue::from_str("wait_for_update"),
            &JsValue::from(mode.wait_for_update_ms()),
        );
        send("default", &params);
    }
}

/// `gtag('consent', 'update', {...})` for what the policy allows now.
pub(crate) fn update(config: &Config, evaluation: &Evaluation) {
    let mode = config.consent_mode();
    if mode.enabled() {
        send("update", &object(mode.state(evaluation.allowed())));
    }
}
