//! The WebAssembly API the banner's script calls, in headless Chromium
//! (wasm-bindgen-test-runner + chromedriver): what each call answers and what it changes.
//! The DOM the script draws from these answers is tested through the built `dist/` in
//! `wasm/tests/browser/`.

// Browser tests only: natively there is no JavaScript to call.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::panic)]

use consent_wasm as api;
use js_sys::{Array, Reflect};
use serde_json::Value;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// 2026-11-20T12:00:00Z, in milliseconds.
const NOW: f64 = 1_795_694_400_000.0;
const DAY: f64 = 86_400_000.0;
const HOST: &str = "www.klinikka.fi";
const HREF: &str = "https://www.klinikka.fi/palvelut?x=1";

fn config(edit: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(consent_core::EXAMPLE_CONFIG).unwrap();
    edit(&mut v);
    v.to_string()
}

fn get(o: &JsValue, key: &str) -> JsValue {
    Reflect::get(o, &key.into()).unwrap_or_else(|_| panic!("no {key}"))
}

fn string(o: &JsValue, key: &str) -> String {
    get(o, key)
        .as_string()
        .unwrap_or_else(|| panic!("{key} is not a string"))
}

fn strings(o: &JsValue, key: &str) -> Vec<String> {
    Array::from(&get(o, key))
        .iter()
        .map(|v| v.as_string().unwrap())
        .collect()
}

fn langs(l: &[&str]) -> Vec<String> {
    l.iter().map(|s| (*s).to_owned()).collect()
}

fn start(json: &str, jar: &str) -> JsValue {
    api::start(json, jar, NOW, false, langs(&["en"]))
}

fn decide(kind: &str, ids: &[&str], jar: &str) -> JsValue {
    api::decide(kind, langs(ids), NOW, &[7; 16], jar, HOST, HREF, true)
}

/// The `name=value` of the consent cookie in a decision's first cookie line.
fn stored(decision: &JsValue) -> String {
    let lines = strings(decision, "cookies");
    lines[0].split(';').next().unwrap().to_owned()
}

#[wasm_bindgen_test]
fn an_invalid_config_names_every_wrong_field_and_nothing_is_allowed() {
    let json = config(|v| {
        v["revision"] = "one".into();
        v["categories"][1]["id"] = "Analytics!".into();
    });
    let answer = start(&json, "");
    let error = string(&answer, "error");
    assert!(error.contains("revision"), "{error}");
    assert!(error.contains("categories[1].id"), "{error}");
    assert!(api::view().is_null());
    assert!(!api::allows("necessary", None, "/"));
    assert!(!api::accepted_category("necessary"));
    assert!(api::decide("all", vec![], NOW, &[1; 16], "", HOST, HREF, true).is_null());
}

#[wasm_bindgen_test]
fn a_first_visit_asks_with_consent_mode_denied_and_only_necessary_allowed() {
    let v = start(&config(|_| {}), "other=1");
    assert_eq!(get(&v, "show"), JsValue::TRUE);
    assert_eq!(string(&v, "lang"), "en");
    assert!(get(&v, "id").is_null());
    assert_eq!(
        string(&get(&v, "t"), "accept_all"),
        consent_core::TextKey::AcceptAll.builtin(consent_core::Lang::En)
    );
    let default = get(&v, "gcmDefault");
    assert_eq!(string(&default, "analytics_storage"), "denied");
    assert_eq!(string(&default, "ad_storage"), "denied");
    assert_eq!(get(&default, "wait_for_update").as_f64(), Some(500.0));
    assert!(get(&v, "gcmUpdate").is_null());
    assert!(api::allows("necessary", Some("site".into()), "/"));
    assert!(!api::allows("analytics", None, "/"));
    assert!(!api::allows("analytics", Some("ga".into()), "/"));
    // Refused is not the same as not asked yet: "!marketing" waits for a decision.
    assert!(!api::allows("!marketing", None, "/"));
    assert!(!api::allows("nosuch", None, "/"));
    let categories = Array::from(&get(&v, "categories"));
    assert_eq!(categories.length(), 3);
    let necessary = categories.get(0);
    assert_eq!(get(&necessary, "necessary"), JsValue::TRUE);
    assert_eq!(get(&categories.get(1), "on"), JsValue::FALSE);
}

#[wasm_bindgen_test]
fn accept_all_stores_sends_and_allows_and_a_returning_visit_does_not_ask() {
    let json = config(|_| {});
    start(&json, "");
    let d = decide("all", &[], "");
    assert!(stored(&d).starts_with("consent="));
    let line = &strings(&d, "cookies")[0];
    assert!(
        line.contains("; Max-Age=15724800; SameSite=Lax; Secure"),
        "{line}"
    );
    assert_eq!(get(&d, "first"), JsValue::TRUE);
    assert_eq!(strings(&d, "changed"), ["analytics", "marketing"]);
    assert_eq!(
        strings(&d, "allowed"),
        ["necessary", "analytics", "marketing"]
    );
    assert_eq!(string(&get(&d, "gcm"), "ad_storage"), "granted");
    let send = get(&d, "send");
    assert_eq!(string(&send, "url"), "/consent");
    let body: Value = serde_json::from_str(&string(&send, "body")).unwrap();
    assert_eq!(body["record"]["action"], "accept_all");
    assert_eq!(
        body["record"]["page_url"],
        "https://www.klinikka.fi/palvelut"
    );
    assert_eq!(body["token"].as_str(), stored(&d).strip_prefix("consent="));
    assert!(api::allows("analytics", Some("ga".into()), "/"));
    assert!(!api::allows("!marketing", None, "/"));
    // The pixel is kept off the booking page even with consent.
    assert!(api::allows("marketing", Some("facebook-pixel".into()), "/"));
    assert!(!api::allows(
        "marketing",
        Some("facebook-pixel".into()),
        "/ajanvaraus"
    ));
    assert!(!api::accepted_service("facebook-pixel", "/ajanvaraus"));
    let info = api::consent();
    assert_eq!(
        strings(&info, "categories"),
        ["necessary", "analytics", "marketing"]
    );
    assert_eq!(string(&info, "method"), "accept_all");

    // The next page view of the same visitor.
    let v = api::start(&json, &stored(&d), NOW + DAY, false, langs(&["fi"]));
    assert_eq!(get(&v, "show"), JsValue::FALSE);
    assert_eq!(string(&v, "lang"), "fi");
    assert_eq!(string(&v, "id"), string(&info, "consentId"));
    assert_eq!(
        string(&get(&v, "gcmUpdate"), "analytics_storage"),
        "granted"
    );
    assert!(api::accepted_category("marketing"));
}

#[wasm_bindgen_test]
fn unknown_categories_decide_nothing() {
    start(&config(|_| {}), "");
    let d = decide("custom", &["analytics", "nope"], "");
    assert_eq!(strings(&d, "unknown"), ["nope"]);
    assert!(!api::accepted_category("analytics"));
    assert_eq!(get(&api::view(), "show"), JsValue::TRUE);
}

#[wasm_bindgen_test]
fn a_withdrawal_deletes_declared_cookies_everywhere_and_they_stay_off_on_this_page() {
    start(&config(|_| {}), "");
    decide("all", &[], "");
    let jar = "consent=x; _ga=GA1.1; _ga_ABC123=GS1; _gcl_au=1.1; mine=1";
    let d = decide("custom", &["marketing"], jar);
    let lines = strings(&d, "cookies");
    let deleted = |name: &str, domain: Option<&str>| {
        lines.iter().any(|l| {
            l.starts_with(&format!("{name}=; Max-Age=0"))
                && domain.is_none_or(|d| l.ends_with(&format!("; Domain={d}")))
        })
    };
    assert!(deleted("_ga", None));
    assert!(deleted("_ga", Some("klinikka.fi")));
    assert!(deleted("_ga", Some("www.klinikka.fi")));
    assert!(deleted("_ga_ABC123", Some("klinikka.fi")));
    assert!(!deleted("_gcl_au", None), "marketing stays granted");
    assert!(!deleted("mine", None) && !deleted("consent", None));
    assert_eq!(strings(&d, "changed"), ["analytics"]);
    assert_eq!(get(&d, "first"), JsValue::FALSE);
    // Granted again, analytics may be stored again, but what it gates never loads again on
    // this page (its scripts may already have run once).
    decide("all", &[], "");
    assert!(api::accepted_category("analytics"));
    assert!(!api::allows("analytics", None, "/"));
    assert!(api::allows("marketing", None, "/"));
}

#[wasm_bindgen_test]
fn only_a_token_for_the_decision_in_force_is_kept() {
    start(&config(|_| {}), "");
    let first = decide("none", &[], "");
    let token = stored(&first).strip_prefix("consent=").unwrap().to_owned();
    assert_eq!(api::signed("not a token", true), JsValue::FALSE);
    let line = api::signed(&token, false).as_string().unwrap();
    assert!(
        line.starts_with(&format!("consent={token}; Path=/")),
        "{line}"
    );
    assert!(!line.contains("Secure"));
    decide("all", &[], "");
    assert!(
        api::signed(&token, true).is_null(),
        "an answer to an older decision"
    );
}

#[wasm_bindgen_test]
fn reset_forgets_the_decision_and_asks_again() {
    start(&config(|_| {}), "");
    decide("all", &[], "");
    let r = api::reset(NOW, &[2; 16], "consent=x; _ga=1", HOST);
    let lines = strings(&r, "cookies");
    assert!(lines.iter().any(|l| l.starts_with("consent=; Max-Age=0")));
    assert!(lines.iter().any(|l| l.starts_with("_ga=; Max-Age=0")));
    assert_eq!(string(&get(&r, "gcm"), "analytics_storage"), "denied");
    assert_eq!(get(&api::view(), "show"), JsValue::TRUE);
    assert!(api::consent().is_null());
    assert!(!api::accepted_category("analytics"));
}

#[wasm_bindgen_test]
fn an_embed_placeholder_names_its_service_and_grants_its_category() {
    start(&config(|_| {}), "");
    let p = api::placeholder(" marketing ", Some("google-ads".into()));
    assert!(
        string(&p, "text").contains("Google Ads"),
        "{:?}",
        string(&p, "text")
    );
    assert_eq!(string(&p, "category"), "marketing");
    assert!(api::placeholder("!marketing", None).is_null());
    assert!(api::placeholder("nosuch", None).is_null());
    let d = decide("grant", &["marketing"], "");
    assert_eq!(strings(&d, "allowed"), ["necessary", "marketing"]);
    assert!(!api::accepted_category("analytics"));
}

#[wasm_bindgen_test]
fn the_language_follows_the_visitor_and_switches_only_to_offered_ones() {
    let json = config(|v| v["languages"] = serde_json::json!(["fi", "sv"]));
    let v = api::start(&json, "", NOW, false, langs(&["", "sv-FI", "en"]));
    assert_eq!(string(&v, "lang"), "sv");
    let v = api::set_language("fi");
    assert_eq!(string(&v, "lang"), "fi");
    assert!(
        api::set_language("en").is_null(),
        "not offered by this site"
    );
    assert!(api::set_language("xx").is_null());
}

#[wasm_bindgen_test]
fn malformed_or_foreign_cookies_grant_nothing() {
    let json = config(|_| {});
    for jar in [
        "consent=garbage",
        "consent=1.AAAA",
        "consent=",
        "consent=1.AQIDBAUGBwgJCgsMDQ4PEA",
    ] {
        let v = start(&json, jar);
        assert_eq!(get(&v, "show"), JsValue::TRUE, "{jar}");
        assert!(!api::accepted_category("analytics"), "{jar}");
    }
    // A decision made under another site's config (its `site` id is in the fingerprint).
    start(&config(|v| v["site"] = "other-clinic".into()), "");
    let foreign = stored(&decide("all", &[], ""));
    let v = start(&json, &foreign);
    assert_eq!(get(&v, "show"), JsValue::TRUE);
    assert!(!api::allows("analytics", None, "/"));
}

#[wasm_bindgen_test]
fn global_privacy_control_keeps_marketing_off_until_granted() {
    let json = config(|_| {});
    let v = api::start(&json, "", NOW, true, langs(&["en"]));
    assert_eq!(get(&v, "gpc"), JsValue::TRUE);
    let d = api::decide("all", vec![], NOW, &[3; 16], "", HOST, HREF, true);
    assert_eq!(strings(&d, "allowed"), ["necessary", "analytics"]);
    let body: Value = serde_json::from_str(&string(&get(&d, "send"), "body")).unwrap();
    assert_eq!(body["record"]["gpc"], true);
    let d = api::decide(
        "custom",
        langs(&["marketing"]),
        NOW,
        &[3; 16],
        "",
        HOST,
        HREF,
        true,
    );
    assert_eq!(strings(&d, "allowed"), ["necessary", "marketing"]);
}
