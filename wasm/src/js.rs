//! Plain JavaScript values for the banner's script: objects, arrays and strings.

use consent_core::consent_mode::ConsentModeState;
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsValue;

/// A JavaScript string.
pub(crate) fn str(s: &str) -> JsValue {
    JsValue::from_str(s)
}

/// Sets `o[key] = value` (on a plain object this cannot fail).
pub(crate) fn set(o: &Object, key: &str, value: JsValue) {
    let _ = Reflect::set(o, &str(key), &value);
}

/// An array of `items`.
pub(crate) fn arr(items: impl IntoIterator<Item = JsValue>) -> Array {
    let a = Array::new();
    for item in items {
        a.push(&item);
    }
    a
}

/// Consent Mode's signals as the object `gtag('consent', ...)` takes.
pub(crate) fn consent_mode(state: ConsentModeState) -> Object {
    let o = Object::new();
    for (signal, value) in state.iter() {
        set(&o, signal.as_str(), str(value.as_str()));
    }
    o
}
