//! The banner in headless Chromium (wasm-bindgen-test-runner + chromedriver), one section per
//! numbered point of the banner issue. Every test uses its own consent cookie name, so tests
//! sharing the page cannot see each other's decisions.

// Browser tests only: natively there is no DOM to run them against.
#![cfg(target_arch = "wasm32")]
// Helpers run outside #[test] functions, where clippy's in-test allowances do not reach; a
// failed unwrap in them is a failed test.
#![allow(clippy::unwrap_used, clippy::panic)]

use consent_wasm as banner;
use serde_json::{Value, json};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const CSS: &str = include_str!("../css/consent.css");

fn js(code: &str) -> JsValue {
    js_sys::eval(code).unwrap_or_else(|e| panic!("{code}: {e:?}"))
}
fn js_bool(code: &str) -> bool {
    js(code)
        .as_bool()
        .unwrap_or_else(|| panic!("{code}: not a boolean"))
}
fn js_str(code: &str) -> String {
    js(code)
        .as_string()
        .unwrap_or_else(|| panic!("{code}: not a string"))
}
fn js_num(code: &str) -> f64 {
    js(code)
        .as_f64()
        .unwrap_or_else(|| panic!("{code}: not a number"))
}

/// The example config with its own cookie name and no endpoint, edited by `edit`.
fn config(cookie: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(consent_core::EXAMPLE_CONFIG).unwrap();
    v["cookie"]["name"] = cookie.into();
    v.as_object_mut().unwrap().remove("endpoint");
    edit(&mut v);
    v.to_string()
}

/// A fresh page: test markup in `#t`, no banner, no cookies, English, no GPC, the CSS.
fn page(html: &str) {
    js(r#"
        for (const c of document.cookie.split(';')) {
            const n = c.split('=')[0].trim();
            if (n) document.cookie = n + '=; Max-Age=0; Path=/';
        }"#);
    next_page(html);
}

/// The next page view of the same visitor: like [`page`], but the cookies stay.
fn next_page(html: &str) {
    js(r#"
        document.querySelectorAll('#t, [data-consent-ui], [data-consent-placeholder]').forEach(e => e.remove());
        document.documentElement.lang = 'en';
        window.log = [];
        delete window.gtag;
        delete window.dataLayer;
        if (!document.getElementById('cc-css')) {
            const s = document.createElement('style'); s.id = 'cc-css'; document.head.append(s);
        }
        const t = document.createElement('div'); t.id = 't'; document.body.append(t);
    "#);
    js_sys::Reflect::set(
        &js("document.getElementById('cc-css')"),
        &"textContent".into(),
        &CSS.into(),
    )
    .unwrap();
    js_sys::Reflect::set(
        &js("document.getElementById('t')"),
        &"innerHTML".into(),
        &html.into(),
    )
    .unwrap();
}

fn start(json: &str) -> bool {
    banner::run(JsValue::from_str(json), JsValue::UNDEFINED)
}

fn start_with(json: &str, options: &str) -> bool {
    banner::run(JsValue::from_str(json), js(&format!("({options})")))
}

/// Clicks the button with exactly this text inside the banner's UI.
fn press(text: &str) {
    let code = format!(
        "(() => {{ const b = [...document.querySelectorAll('[data-consent-ui] button, .cc-embed button')]
            .find(b => b.textContent === {text:?}); if (!b) return false; b.click(); return true; }})()"
    );
    assert!(js_bool(&code), "no button {text:?}");
}

fn banner_shown() -> bool {
    js_bool("!!document.querySelector('[data-consent-ui] .cc-banner')")
}

fn log() -> Vec<String> {
    js_sys::Array::from(&js("window.log"))
        .iter()
        .filter_map(|v| v.as_string())
        .collect()
}

async fn sleep(ms: i32) {
    let p = js(&format!("new Promise(r => setTimeout(r, {ms}))"));
    wasm_bindgen_futures::JsFuture::from(js_sys::Promise::from(p))
        .await
        .unwrap();
}

const SCRIPTS: &str = r#"
    <script type="text/plain" data-category="analytics" data-service="ga" id="ga1" data-extra="kept">window.log.push('ga')</script>
    <script type="text/plain" data-category="marketing">window.log.push('ads')</script>
    <script type="text/plain" data-category="!marketing">window.log.push('no-ads')</script>
    <script type="text/plain" data-category="necessary">window.log.push('necessary')</script>
"#;

// 1. A returning visitor with a valid decision sees no banner; allowed scripts run at once.
#[wasm_bindgen_test]
fn returning_visitor_sees_no_banner_and_scripts_run_at_once() {
    page("");
    let cfg = config("c1", |_| {});
    assert!(start(&cfg));
    assert!(banner_shown());
    assert!(banner::accept_category(JsValue::from_str("analytics")));
    // The next page view: a new run with the stored cookie.
    next_page(SCRIPTS);
    assert!(js_bool("document.cookie.includes('c1=1.')"));
    assert!(start(&cfg));
    assert!(!banner_shown(), "no banner for a valid decision");
    assert_eq!(log(), ["ga", "no-ads", "necessary"]);
}

// 2. The first layer: three equal buttons, a privacy link, nothing pre-ticked, layouts, themes.
#[wasm_bindgen_test]
fn first_layer_has_three_equal_buttons_and_nothing_pre_ticked() {
    page("");
    assert!(start_with(
        &config("c2", |_| {}),
        "{layout: 'bar', theme: 'dark'}"
    ));
    let labels = js_str(
        "[...document.querySelectorAll('.cc-banner button')].map(b => b.textContent).join('|')",
    );
    assert_eq!(labels, "Reject all|Accept all|Settings");
    // Same element, class, size and colours.
    let same = js_bool(
        "(() => { const b = [...document.querySelectorAll('.cc-banner button')];
          const k = e => { const s = getComputedStyle(e), r = e.getBoundingClientRect();
            return [e.tagName, e.className, s.backgroundColor, s.color, s.fontSize, s.fontWeight,
                    s.borderTopWidth, Math.round(r.height)].join(); };
          return b.length === 3 && b.every(x => k(x) === k(b[0])); })()",
    );
    assert!(
        same,
        "Accept all, Reject all and Settings must look the same"
    );
    let widths = js_str(
        "[...document.querySelectorAll('.cc-banner button')].map(b => Math.round(b.getBoundingClientRect().width)).join()",
    );
    let w: Vec<f64> = widths.split(',').map(|w| w.parse().unwrap()).collect();
    assert!(w.iter().all(|x| (x - w[0]).abs() <= 2.0), "widths {w:?}");
    assert_eq!(
        js_str("document.querySelector('.cc-banner a').getAttribute('href')"),
        "/en/privacy"
    );
    assert!(js_bool(
        "document.querySelector('[data-consent-ui]').classList.contains('cc-bar')"
    ));
    assert!(js_bool(
        "document.querySelector('[data-consent-ui]').classList.contains('cc-theme-dark')"
    ));
    // A custom property reaches the buttons.
    js("document.querySelector('[data-consent-ui]').classList.add('cc-test-var')");
    let custom = js_str(
        "(() => { const r = document.querySelector('[data-consent-ui]'); r.style.setProperty('--cc-btn-bg', 'rgb(1, 2, 3)'); return getComputedStyle(document.querySelector('.cc-banner .cc-btn')).backgroundColor; })()",
    );
    assert_eq!(custom, "rgb(1, 2, 3)");
    // The box layout too: the buttons do not wrap into rows of different widths.
    page("");
    assert!(start_with(&config("c2b", |_| {}), "{layout: 'box'}"));
    let sizes = js_str(
        "[...document.querySelectorAll('.cc-banner button')].map(b => { const r = b.getBoundingClientRect(); return Math.round(r.width) + 'x' + Math.round(r.height); }).join()",
    );
    let sizes: Vec<&str> = sizes.split(',').collect();
    assert_eq!(sizes.len(), 3);
    assert!(
        sizes.iter().all(|s| *s == sizes[0]),
        "box layout sizes {sizes:?}"
    );
    // No box is pre-ticked but necessary (locked on).
    press("Settings");
    assert_eq!(
        js_num(
            "document.querySelectorAll('.cc-prefs input[type=checkbox]:checked:not(:disabled)').length"
        ),
        0.0
    );
    assert!(banner::accepted_category("necessary"));
    assert!(!banner::accepted_category("analytics"));
}

// 3. Preferences: a switch per category, necessary locked on and explained, services and
//    cookies with lifetimes; saving grants exactly what is switched on.
#[wasm_bindgen_test]
fn preferences_show_categories_services_and_cookies_and_save_the_switches() {
    page("");
    assert!(start(&config("c3", |_| {})));
    banner::show_preferences();
    assert_eq!(js_str("document.activeElement.className"), "cc-prefs");
    assert_eq!(
        js_num("document.querySelectorAll('.cc-prefs .cc-switch').length"),
        3.0
    );
    assert!(js_bool(
        "(() => { const n = document.getElementById('cc-cat-necessary'); return n.checked && n.disabled; })()"
    ));
    assert!(
        js_str("document.querySelector('.cc-prefs .cc-cat').textContent").contains("Always on")
    );
    let table = js_str(
        "[...document.querySelectorAll('.cc-cookies td')].map(t => t.textContent).join('|')",
    );
    assert!(
        table.contains("_ga_*|13 months|Keeps the session's state."),
        "{table}"
    );
    assert!(table.contains("_fbp|90 days|"), "{table}");
    assert!(
        js_str("document.querySelector('.cc-svc').textContent")
            .contains("Kuopion Eläinlääkärikeskus Oy")
    );
    js("document.getElementById('cc-cat-analytics').click()");
    press("Save choices");
    assert!(banner::accepted_category("analytics"));
    assert!(banner::accepted_service("ga"));
    assert!(!banner::accepted_category("marketing"));
    assert!(!banner::accepted_service("facebook-pixel"));
    let consent = banner::get_consent();
    let method = js_sys::Reflect::get(&consent, &"method".into()).unwrap();
    assert_eq!(method.as_string().as_deref(), Some("custom"));
}

// 4. Gating: each allowed script runs once, in document order, with its attributes and nonce;
//    `!category` runs when refused; embeds get a placeholder that grants in place.
#[wasm_bindgen_test]
async fn scripts_run_once_in_order_with_attributes_and_embeds_wait_for_consent() {
    page(
        r#"
        <script type="text/plain" data-category="analytics" id="first" data-extra="kept" nonce="n0nce">window.log.push('a1')</script>
        <script type="text/plain" data-category="analytics" data-src="data:text/javascript,window.log.push('ext')"></script>
        <script type="text/plain" data-category="analytics">window.log.push('a2')</script>
        <script type="text/plain" data-category="analytics" data-service="nope">window.log.push('unknown-service')</script>
        <script type="text/plain" data-category="!analytics">window.log.push('not-analytics')</script>
        <iframe data-category="marketing" data-service="google-ads" data-src="about:blank#video" id="video"></iframe>
        <img data-category="analytics" data-src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" id="pixel" alt="">
    "#,
    );
    assert!(start(&config("c4", |_| {})));
    assert!(log().is_empty(), "nothing before a decision");
    assert!(js_bool(
        "document.getElementById('video').classList.contains('cc-wait') && !document.getElementById('video').hasAttribute('src')"
    ));
    let placeholder = js_str("document.querySelector('.cc-embed p').textContent");
    assert!(
        placeholder.contains("Google Ads") && placeholder.contains("Marketing"),
        "{placeholder}"
    );
    press("Accept all");
    sleep(100).await;
    assert_eq!(log(), ["a1", "ext", "a2"]);
    let live = js_str(
        "(() => { const s = document.getElementById('first'); return [s.type, s.getAttribute('data-extra'), s.nonce, s.getAttribute('data-category')].join(); })()",
    );
    assert_eq!(live, ",kept,n0nce,analytics");
    assert_eq!(
        js_str("document.getElementById('pixel').getAttribute('src').slice(0, 10)"),
        "data:image"
    );
    // Deciding again activates nothing twice.
    assert!(banner::accept_category(JsValue::from_str("all")));
    sleep(50).await;
    assert_eq!(log(), ["a1", "ext", "a2"]);
    // The marketing embed was granted by Accept all; a new page with "!marketing" after refusing:
    page(
        r#"<script type="text/plain" data-category="!marketing">window.log.push('no-ads')</script>
            <iframe data-category="marketing" data-src="about:blank#map" id="map"></iframe>"#,
    );
    assert!(start(&config("c4b", |_| {})));
    assert!(log().is_empty(), "!marketing waits for a decision");
    press("Reject all");
    assert_eq!(log(), ["no-ads"]);
    assert!(js_bool("!!document.querySelector('.cc-embed')"));
    press("Allow and show");
    assert_eq!(
        js_str("document.getElementById('map').getAttribute('src')"),
        "about:blank#map"
    );
    assert!(js_bool(
        "!document.querySelector('.cc-embed') && !document.getElementById('map').classList.contains('cc-wait')"
    ));
    assert!(banner::accepted_category("marketing"));
}

// 4. The nonce option is given to revived scripts.
#[wasm_bindgen_test]
fn nonce_option_is_given_to_revived_scripts() {
    page(
        r#"<script type="text/plain" data-category="analytics" id="s" data-type="module">window.log.push('m')</script>"#,
    );
    assert!(start_with(&config("c4n", |_| {}), "{nonce: 'opt-nonce'}"));
    press("Accept all");
    assert_eq!(js_str("document.getElementById('s').nonce"), "opt-nonce");
    assert_eq!(js_str("document.getElementById('s').type"), "module");
}

// 5. Withdrawal deletes the declared cookies (names and patterns), fires the change event and
//    never activates that category again on this page.
#[wasm_bindgen_test]
fn withdrawal_clears_declared_cookies_and_never_reactivates() {
    page(r#"<script type="text/plain" data-category="analytics">window.log.push('ga')</script>"#);
    assert!(start(&config("c5", |_| {})));
    press("Accept all");
    assert_eq!(log(), ["ga"]);
    js(
        "document.cookie = '_ga=GA1.1; Path=/'; document.cookie = '_ga_ABC123=GS1; Path=/'; document.cookie = 'keep_me=1; Path=/'; document.cookie = '_fbp=fb.1; Path=/';",
    );
    js(
        "window.changes = []; window.addEventListener('consent:change', e => window.changes.push(e.detail.changed.join()))",
    );
    js_sys::Reflect::set(&js("document.getElementById('t')"), &"innerHTML".into(), &r#"<script type="text/plain" data-category="analytics">window.log.push('ga-again')</script>"#.into()).unwrap();
    banner::show_preferences();
    js("document.getElementById('cc-cat-analytics').click()");
    press("Save choices");
    let jar = js_str("document.cookie");
    assert!(!jar.contains("_ga="), "{jar}");
    assert!(!jar.contains("_ga_ABC123"), "{jar}");
    assert!(
        jar.contains("_fbp=") && jar.contains("keep_me=1"),
        "only analytics was revoked: {jar}"
    );
    assert_eq!(js_str("window.changes.join(';')"), "analytics");
    let method = js_sys::Reflect::get(&banner::get_consent(), &"method".into()).unwrap();
    assert_eq!(method.as_string().as_deref(), Some("withdraw"));
    // Granted again on the same page: the revoked category does not come back before a reload.
    assert!(banner::accept_category(JsValue::from_str("all")));
    assert_eq!(log(), ["ga"]);
}

// 6. Persistence: the token cookie, and the record POSTed to the endpoint, whose signed token
//    replaces the local one. (fetch is replaced in this test only: the server is its own crate.)
#[wasm_bindgen_test]
async fn decision_is_stored_and_sent_and_the_signed_token_kept() {
    page("");
    js(r#"window.realFetch = window.realFetch || window.fetch;
        window.sent = [];
        window.fetch = (url, init) => {
            window.sent.push({url, init});
            const token = JSON.parse(init.body).token + '.c2lnbmVkc2lnbmVkc2lnbg';
            return Promise.resolve(new Response(JSON.stringify({token}), {status: 200}));
        };"#);
    assert!(start(
        &config("c6", |v| v["endpoint"] = "/consent-endpoint".into())
    ));
    press("Reject all");
    sleep(50).await;
    js("window.fetch = window.realFetch");
    assert_eq!(js_num("window.sent.length"), 1.0);
    assert_eq!(js_str("window.sent[0].url"), "/consent-endpoint");
    assert!(js_bool(
        "window.sent[0].init.keepalive === true && window.sent[0].init.method === 'POST'"
    ));
    assert_eq!(
        js_str("window.sent[0].init.headers['Content-Type']"),
        "application/json"
    );
    let body: Value = serde_json::from_str(&js_str("window.sent[0].init.body")).unwrap();
    let token = body["token"].as_str().unwrap();
    assert!(token.starts_with("1."));
    let record: consent_core::DecisionRecord =
        serde_json::from_value(body["record"].clone()).unwrap();
    assert_eq!(record.action(), consent_core::Method::RejectAll);
    assert_eq!(record.channel(), consent_core::Channel::Banner);
    let page_url = record
        .page_url()
        .map(|u| u.as_str().to_owned())
        .unwrap_or_default();
    assert!(
        page_url.starts_with("http://127.0.0.1") && !page_url.contains('?'),
        "{page_url}"
    );
    let cookie = js_str("document.cookie.split('; ').find(c => c.startsWith('c6='))");
    assert_eq!(
        cookie,
        format!("c6={token}.c2lnbmVkc2lnbmVkc2lnbg"),
        "the signed token is stored"
    );
    assert_eq!(consent_core::Lang::En, record.lang());
}

// 6. A failing endpoint keeps the local decision and warns once.
#[wasm_bindgen_test]
async fn failing_endpoint_keeps_the_local_decision() {
    page("");
    assert!(start(
        &config("c6b", |v| v["endpoint"] = "/no-such-endpoint".into())
    ));
    press("Accept all");
    sleep(300).await;
    assert!(js_bool("document.cookie.includes('c6b=1.')"));
    assert!(banner::accepted_category("marketing"));
}

// 7. Consent Mode v2: default (all denied, wait_for_update) before any gated tag, then update.
#[wasm_bindgen_test]
fn consent_mode_default_comes_before_tags_and_update_follows_decisions() {
    page(
        r#"<script type="text/plain" data-category="analytics">window.log.push('tag:' + window.dataLayer.length)</script>"#,
    );
    js(
        "window.gtag = function () { window.dataLayer.push(Array.from(arguments)); }; window.dataLayer = [];",
    );
    assert!(start(&config("c7", |_| {})));
    assert_eq!(js_num("window.dataLayer.length"), 1.0);
    let default = js_str("JSON.stringify(window.dataLayer[0])");
    assert_eq!(
        default,
        r#"["consent","default",{"ad_storage":"denied","ad_user_data":"denied","ad_personalization":"denied","analytics_storage":"denied","functionality_storage":"denied","personalization_storage":"denied","security_storage":"denied","wait_for_update":500}]"#
    );
    assert!(banner::accept_category(JsValue::from_str("analytics")));
    let update = js_str("JSON.stringify(window.dataLayer[1])");
    assert!(update.starts_with(r#"["consent","update",{"#), "{update}");
    assert!(
        update.contains(r#""analytics_storage":"granted""#)
            && update.contains(r#""ad_storage":"denied""#),
        "{update}"
    );
    assert_eq!(log(), ["tag:2"], "the tag ran after default and update");
}

// 7. Without a gtag on the page the loader's shim is installed, with dataLayer.
#[wasm_bindgen_test]
fn consent_mode_installs_the_given_gtag_when_the_page_has_none() {
    page("");
    js(
        "window.shimCalls = []; window.shim = function () { window.shimCalls.push(Array.from(arguments)); };",
    );
    assert!(start_with(&config("c7b", |_| {}), "{gtag: window.shim}"));
    assert!(js_bool(
        "window.gtag === window.shim && Array.isArray(window.dataLayer)"
    ));
    assert_eq!(js_str("window.shimCalls[0][1]"), "default");
}

// 8. Global Privacy Control keeps marketing off after "Accept all" and the record says so.
#[wasm_bindgen_test]
fn global_privacy_control_keeps_marketing_off() {
    page("");
    js(
        "Object.defineProperty(navigator, 'globalPrivacyControl', {value: true, configurable: true})",
    );
    assert!(start(&config("c8", |_| {})));
    assert!(
        js_str("document.querySelector('.cc-banner').textContent")
            .contains("Global Privacy Control")
    );
    press("Accept all");
    let gpc = js_sys::Reflect::get(&banner::get_consent(), &"gpc".into()).unwrap();
    js("delete navigator.globalPrivacyControl");
    assert_eq!(gpc.as_bool(), Some(true));
    assert!(banner::accepted_category("analytics"));
    assert!(!banner::accepted_category("marketing"));
}

// 9. Languages: from <html lang>, switchable.
#[wasm_bindgen_test]
fn language_follows_the_page_and_can_be_switched() {
    page("");
    js("document.documentElement.lang = 'sv-FI'");
    assert!(start(&config("c9", |_| {})));
    assert_eq!(
        js_str("document.querySelector('.cc-banner h2').textContent"),
        "Kakor och din integritet"
    );
    assert!(banner::set_language("fi"));
    assert_eq!(
        js_str("document.querySelector('.cc-banner h2').textContent"),
        "Evästeet ja yksityisyytesi"
    );
    assert!(!banner::set_language("de"));
    banner::show_preferences();
    js(
        "(() => { const s = document.querySelector('.cc-lang select'); s.value = 'en'; s.dispatchEvent(new Event('change')); })()",
    );
    assert_eq!(
        js_str("document.querySelector('.cc-prefs h2').textContent"),
        "Cookie settings"
    );
    // A site offering only Finnish stays Finnish.
    page("");
    assert!(start(&config("c9b", |v| v["languages"] = json!(["fi"]))));
    assert_eq!(
        js_str("document.querySelector('.cc-banner .cc-btn').textContent"),
        "Hylkää kaikki"
    );
}

// 10. Accessibility: dialog roles and names, focus into the banner, trapped in the
//     preferences, Esc closes them, and the saved choice is announced.
#[wasm_bindgen_test]
fn keyboard_focus_and_announcements() {
    page(r#"<button data-consent-open id="open">Cookie settings</button>"#);
    assert!(start(&config("c10", |_| {})));
    assert!(js_bool(
        "(() => { const b = document.querySelector('.cc-banner'); return b.getAttribute('role') === 'dialog' && b.getAttribute('aria-label') === 'Cookie notice' && document.activeElement === b; })()"
    ));
    press("Settings");
    assert!(js_bool(
        "(() => { const d = document.querySelector('.cc-prefs'); return d.getAttribute('aria-modal') === 'true' && document.getElementById(d.getAttribute('aria-labelledby')).textContent === 'Cookie settings' && document.activeElement === d; })()"
    ));
    // Tab on the last control wraps to the first; Shift+Tab on the first to the last.
    let wrap = "(shift) => { const d = document.querySelector('.cc-prefs');
        const f = [...d.querySelectorAll('button:not([disabled]),a[href],input:not([disabled]),select,summary')];
        (shift ? f[0] : f[f.length - 1]).focus();
        d.dispatchEvent(new KeyboardEvent('keydown', {key: 'Tab', shiftKey: shift, bubbles: true, cancelable: true}));
        return document.activeElement === (shift ? f[f.length - 1] : f[0]); }";
    assert!(js_bool(&format!("({wrap})(false)")));
    assert!(js_bool(&format!("({wrap})(true)")));
    // Esc closes the preferences; without a decision the first layer comes back (nothing granted).
    js(
        "document.querySelector('.cc-prefs').dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true}))",
    );
    assert!(js_bool("!document.querySelector('.cc-prefs')"));
    assert!(banner_shown());
    assert!(!banner::accepted_category("analytics"));
    assert!(!js_bool("document.cookie.includes('c10=')"));
    press("Reject all");
    assert_eq!(
        js_str("document.querySelector('[data-consent-ui] [role=status]').textContent"),
        "Your choices have been saved."
    );
    // The page's own control reopens the preferences, and Esc returns focus to it.
    js("document.getElementById('open').focus(); document.getElementById('open').click()");
    assert!(js_bool("!!document.querySelector('.cc-prefs')"));
    js(
        "document.querySelector('.cc-prefs').dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true}))",
    );
    assert!(!banner_shown());
    assert_eq!(js_str("document.activeElement.id"), "open");
}

// 11. Strict CSP: the banner adds no inline style or script: only classes and elements.
#[wasm_bindgen_test]
fn nothing_inline_for_a_strict_csp() {
    page("<iframe data-category='marketing' data-src='about:blank'></iframe>");
    let before = js_num("document.querySelectorAll('style, script').length");
    assert!(start(&config("c11", |_| {})));
    banner::show_preferences();
    assert_eq!(
        js_num(
            "document.querySelectorAll('[data-consent-ui] [style], [data-consent-ui][style], .cc-embed [style], .cc-embed[style]').length"
        ),
        0.0
    );
    assert_eq!(
        js_num("document.querySelectorAll('style, script').length"),
        before
    );
    assert_eq!(
        js_num(
            "document.querySelectorAll('[data-consent-ui] [onclick], [data-consent-ui] [onkeydown]').length"
        ),
        0.0
    );
}

// 12. Bad input: an invalid config logs one error naming each wrong field and allows only
//     necessary; a malformed or foreign cookie is no consent; config text is never HTML.
#[wasm_bindgen_test]
fn invalid_config_logs_every_problem_once_and_allows_only_necessary() {
    page(SCRIPTS);
    js(
        "window.errors = []; window.realError = console.error; console.error = (...a) => window.errors.push(a.join(' '));",
    );
    let bad = config("c12", |v| {
        v["categories"][1]["enabled_by_default"] = true.into();
        v["revision"] = "one".into();
    });
    let ok = start(&bad);
    js("console.error = window.realError");
    assert!(!ok);
    assert_eq!(js_num("window.errors.length"), 1.0);
    let error = js_str("window.errors[0]");
    assert!(
        error.contains("revision: expected a whole number"),
        "{error}"
    );
    assert!(
        error.contains("categories[1].enabled_by_default"),
        "{error}"
    );
    assert!(!banner::accepted_category("analytics"));
    assert!(!banner_shown());
    assert!(log().is_empty());
}

/// Text that is not JSON (the core's own reader in this build, not serde_json) fails closed
/// the same way, with serde_json's wording and the place it stopped.
#[wasm_bindgen_test]
fn malformed_json_logs_where_and_allows_only_necessary() {
    let good = config("c12b", |_| {});
    let cut = good.len() - 5;
    for (text, place) in [
        (&good[..cut], "EOF while parsing"),
        (
            &good.replacen(':', "", 1)[..],
            "expected `:` at line 1 column",
        ),
    ] {
        page(SCRIPTS);
        js(
            "window.errors = []; window.realError = console.error; console.error = (...a) => window.errors.push(a.join(' '));",
        );
        let ok = start(text);
        js("console.error = window.realError");
        assert!(!ok);
        assert_eq!(js_num("window.errors.length"), 1.0);
        let error = js_str("window.errors[0]");
        assert!(
            error.contains("only necessary cookies are allowed"),
            "{error}"
        );
        assert!(error.contains("not valid JSON: "), "{error}");
        assert!(error.contains(place), "{error}");
        assert!(!banner::accepted_category("analytics"));
        assert!(!banner_shown());
        assert!(log().is_empty());
    }
}

#[wasm_bindgen_test]
fn malformed_or_foreign_cookies_grant_nothing() {
    for (i, value) in ["garbage", "1.AAAA", "2.eyJhbGciOiJub25lIn0", "", "1.%%%"]
        .iter()
        .enumerate()
    {
        page(SCRIPTS);
        let name = format!("c12c{i}");
        js(&format!("document.cookie = '{name}={value}; Path=/'"));
        assert!(start(&config(&name, |_| {})));
        assert!(banner_shown(), "{value:?} must count as no consent");
        assert!(!banner::accepted_category("analytics"));
        assert_eq!(log(), ["necessary"], "{value:?}: only necessary runs");
    }
    // A decision made under another revision asks again.
    page("");
    assert!(start(&config("c12r", |_| {})));
    press("Accept all");
    next_page(SCRIPTS);
    assert!(start(&config("c12r", |v| v["revision"] = 2.into())));
    assert!(banner_shown());
    assert_eq!(log(), ["necessary"]);
    // A decision made on another site (another `site` id, same categories and revision)
    // grants nothing here: the banner cannot check signatures, but the site is part of the
    // config fingerprint the token carries.
    page("");
    assert!(start(&config("c12s", |v| v["site"] = "other-clinic".into())));
    press("Accept all");
    next_page(SCRIPTS);
    assert!(start(&config("c12s", |v| v["site"] = "our-clinic".into())));
    assert!(banner_shown(), "another site's decision asks again");
    assert!(!banner::accepted_category("analytics"));
    assert_eq!(log(), ["necessary"]);
    // The same site's decision is honoured.
    next_page(SCRIPTS);
    assert!(start(&config("c12s", |v| v["site"] = "other-clinic".into())));
    assert!(!banner_shown());
}

#[wasm_bindgen_test]
fn config_text_is_text_never_html() {
    page("");
    let evil = "<img src=x id=evil onerror=\"window.log.push('xss')\">";
    assert!(start(&config("c12h", |v| v["texts"] =
        json!({"en": {"banner_title": evil}}))));
    assert_eq!(
        js_str("document.querySelector('.cc-banner h2').textContent"),
        evil
    );
    assert!(js_bool("!document.getElementById('evil')"));
    assert!(log().is_empty());
}

// The JavaScript API: acceptCategory, getConsent, reset, consent:first.
#[wasm_bindgen_test]
fn api_decides_reports_and_resets() {
    page(r#"<script type="text/plain" data-category="analytics">window.log.push('ga')</script>"#);
    js(
        "window.firsts = []; window.addEventListener('consent:first', e => window.firsts.push(e.detail.categories.join()))",
    );
    assert!(start(&config("c13", |_| {})));
    assert!(banner::get_consent().is_null());
    js(
        "window.errors = []; window.realError = console.error; console.error = (...a) => window.errors.push(a.join(' '));",
    );
    assert!(!banner::accept_category(js("['analytics', 'analitycs']")));
    js("console.error = window.realError");
    assert!(js_str("window.errors[0]").contains("analitycs"));
    assert!(
        banner::get_consent().is_null(),
        "a bad call decides nothing"
    );
    assert!(banner::accept_category(js("['analytics']")));
    assert_eq!(js_str("window.firsts.join(';')"), "necessary,analytics");
    let consent = banner::get_consent();
    let id = js_sys::Reflect::get(&consent, &"consentId".into())
        .unwrap()
        .as_string()
        .unwrap();
    assert_eq!(id.len(), 32);
    assert_ne!(
        id,
        "0".repeat(32),
        "the id comes from crypto.getRandomValues"
    );
    let last = js_sys::Reflect::get(&consent, &"lastDecision".into())
        .unwrap()
        .as_f64()
        .unwrap();
    assert!(
        (last - js_sys::Date::now()).abs() < 5_000.0,
        "the time comes from Date.now()"
    );
    js("document.cookie = '_ga=1; Path=/'");
    banner::reset();
    assert!(banner_shown());
    assert!(banner::get_consent().is_null());
    assert!(!js_bool("document.cookie.includes('c13=')"));
    assert!(!js_bool("document.cookie.includes('_ga=')"));
    assert!(!banner::accepted_category("analytics"));
    assert!(banner::accept_category(js("[]")));
    let method = js_sys::Reflect::get(&banner::get_consent(), &"method".into()).unwrap();
    assert_eq!(method.as_string().as_deref(), Some("reject_all"));
}

#[wasm_bindgen_test]
fn a_server_rendered_first_layer_is_taken_over_not_doubled() {
    // What consent-server's `nojs::first_layer` puts in the page for visitors without
    // JavaScript.
    page(
        r#"<div class="cc-root" data-consent-ui data-consent-nojs><form class="cc-banner" method="post" action="/consent/form"><button class="cc-btn" name="action" value="reject_all">Hylkää kaikki</button></form></div>"#,
    );
    assert_eq!(
        js_num("document.querySelectorAll('.cc-banner').length"),
        1.0
    );
    assert!(start(&config("c9", |_| {})));
    assert_eq!(
        js_num("document.querySelectorAll('[data-consent-nojs]').length"),
        0.0,
        "the rendered markup is removed"
    );
    assert_eq!(
        js_num("document.querySelectorAll('.cc-banner').length"),
        1.0,
        "one banner: the WebAssembly one"
    );
    assert!(!js_bool(
        "!!document.querySelector('.cc-banner form, form.cc-banner')"
    ));
    // It was on screen already: no second fade-in (no flash).
    assert_eq!(
        js_str("getComputedStyle(document.querySelector('.cc-banner')).animationName"),
        "none"
    );
}

#[wasm_bindgen_test]
fn a_server_rendered_first_layer_stays_when_the_config_is_malformed() {
    page(r#"<div data-consent-nojs id="nojs"><form class="cc-banner"></form></div>"#);
    assert!(!start("{not json"));
    assert!(
        js_bool("!!document.getElementById('nojs')"),
        "the form still works when the banner cannot start"
    );
}

#[wasm_bindgen_test]
fn a_service_kept_off_this_page_never_loads_here_even_with_consent() {
    page(
        r#"
        <script type="text/plain" data-category="marketing" data-service="facebook-pixel">window.log.push('pixel')</script>
        <script type="text/plain" data-category="marketing" data-service="google-ads">window.log.push('ads')</script>
    "#,
    );
    // This test page's own path, kept off for the pixel only.
    let here = js_str("location.pathname");
    let cfg = config("c10", |v| {
        v["categories"][2]["services"][1]["exclude_paths"] = serde_json::json!([here]);
    });
    assert!(cfg.contains("exclude_paths"), "{cfg}");
    assert!(start(&cfg));
    assert!(banner::accept_category(JsValue::from_str("all")));
    assert_eq!(log(), ["ads"], "the pixel stays off this page");
    assert!(banner::accepted_service("google-ads"));
    assert!(!banner::accepted_service("facebook-pixel"));
    assert!(banner::accepted_category("marketing"));
}

#[wasm_bindgen_test]
fn a_banner_drawn_from_scratch_fades_in() {
    // The counterpart of the takeover test: the stylesheet is loaded and animates a new banner.
    page("");
    assert!(start(&config("c11", |_| {})));
    assert_eq!(
        js_str("getComputedStyle(document.querySelector('.cc-banner')).animationName"),
        "cc-in"
    );
}
