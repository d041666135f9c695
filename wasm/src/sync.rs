//! Sending a decision record to the configured endpoint and keeping the signed token the
//! server returns.

use std::cell::Cell;

use consent_core::{Channel, Config, ConsentState, DecisionRecord, PageUrl, Token};
use js_sys::{Function, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{RequestInit, Response};

use crate::dom::window;

thread_local! {
    static WARNED: Cell<bool> = const { Cell::new(false) };
}

/// Warns once per page: the local decision stands whatever the server does.
fn warn(what: &str) {
    if !WARNED.with(|w| w.replace(true)) {
        web_sys::console::warn_2(
            &JsValue::from_str("consent: could not record the decision; it is kept locally:"),
            &JsValue::from_str(what),
        );
    }
}

/// The request body: `{"token": "<unsigned token>", "record": <DecisionRecord>}`.
pub(crate) fn body(config: &Config, state: &ConsentState) -> String {
    let href = window().location().href().unwrap_or_default();
    let record = DecisionRecord::new(config, state, PageUrl::new(&href).ok(), Channel::Banner);
    let mut body = String::from("{\"token\":\"");
    // A token is base64url and dots: nothing to escape.
    body.push_str(&Token::unsigned(*state).to_string());
    body.push_str("\",\"record\":");
    body.push_str(&record.to_json().unwrap_or_default());
    body.push('}');
    body
}

/// `promise.then(ok, err)` with two once-closures: each frees itself when called.
fn then(promise: &JsValue, ok: JsValue, err: JsValue) {
    let then = Reflect::get(promise, &JsValue::from_str("then"))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok());
    if let Some(then) = then {
        let _ = then.call2(promise, &ok, &err);
    }
}

/// POSTs the record with `keepalive` (so following a link does not cancel it) and calls
/// `store` with the token of a 2xx answer.
pub(crate) fn send(endpoint: &str, body: &str, store: impl FnOnce(Token) + 'static) {
    let headers = Object::new();
    let _ = Reflect::set(
        &headers,
        &JsValue::from_str("Content-Type"),
        &JsValue::from_str("application/json"),
    );
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    init.set_headers(&headers);
    // web-sys has no setter for keepalive yet; it is a plain RequestInit member.
    let _ = Reflect::set(&init, &JsValue::from_str("keepalive"), &JsValue::TRUE);
    let request = window().fetch_with_str_and_init(endpoint, &init);
    let on_response = Closure::once_into_js(move |response: JsValue| {
        let Ok(response) = response.dyn_into::<Response>() else {
            return;
        };
        if !response.ok() {
            warn("the endpoint did not answer 2xx");
            return;
        }
        let Ok(json) = response.json() else {
            return warn("the answer is not JSON");
        };
        let on_json = Closure::once_into_js(move |json: JsValue| {
            let token = Reflect::get(&json, &JsValue::from_str("token"))
                .ok()
                .and_then(|t| t.as_string())
                .and_then(|t| t.parse::<Token>().ok());
            match token {
                Some(token) => store(token),
                None => warn("the answer holds no valid token"),
            }
        });
        let on_bad = Closure::once_into_js(|_: JsValue| warn("the answer is not JSON"));
        then(&json, on_json, on_bad);
    });
    let on_error = Closure::once_into_js(|_: JsValue| warn("the request failed"));
    then(&request, on_response, on_error);
}
