//! Script, iframe and image gating with the markup sites already use for
//! vanilla-cookieconsent: `<script type="text/plain" data-category="analytics"
//! data-service="ga" data-src="...">`, `<iframe data-category=... data-src=...>`.
//!
//! Which elements may load is asked of the policy's [`Evaluation`]; this module only finds
//! them in document order and brings each to life once.

use std::cell::RefCell;
use std::rc::Rc;

use consent_core::policy::Evaluation;
use consent_core::texts::fill;
use consent_core::{CategoryIndex, Config, TextKey};
use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Element;

use crate::dom::{Listener, add, attr, document, el, text_el};

/// What to gate: scripts still `text/plain`, iframes and images still without `src`.
/// Scripts queued behind an external one that is still loading are left out.
const SELECTOR: &str = "script[type='text/plain'][data-category]:not([data-consent-queued]),\
                        iframe[data-category][data-src],img[data-category][data-src]";
/// Attributes of a gated script that are not carried over to the live one.
const GATE_ATTRS: [&str; 3] = ["type", "data-src", "data-type"];

/// What has been revoked on this page: its elements are not activated again before a reload.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Revoked {
    pub(crate) categories: u32,
    pub(crate) services: u128,
}

/// Whether an element's `data-category` (`x` or `!x`) and `data-service` may load now.
///
/// `!x` loads once a valid decision refuses `x`. An unknown category or service never loads.
pub(crate) fn allows(
    config: &Config,
    evaluation: &Evaluation,
    revoked: Revoked,
    category: &str,
    service: Option<&str>,
) -> bool {
    let (negated, category) = match category.strip_prefix('!') {
        Some(c) => (true, c.trim()),
        None => (false, category.trim()),
    };
    let Some(ci) = config.category_index(category) else {
        return false;
    };
    let service = match service.map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) => match config.service_index(id) {
            Some(si) => Some(si),
            None => return false,
        },
        None => None,
    };
    let allowed = evaluation.allowed();
    // A service kept off this page (`exclude_paths`) does not load here, even with consent.
    let granted = allowed.allows_category(ci)
        && service.is_none_or(|s| {
            allowed.allows_service(s)
                && !config
                    .service(s)
                    .is_some_and(|sv| sv.is_excluded_on(&crate::env::path()))
        });
    if negated {
        return !evaluation.show_banner() && !granted;
    }
    let revoked_here = revoked.categories & (1 << ci.get()) != 0
        || service.is_some_and(|s| revoked.services & (1 << s.get()) != 0);
    granted && !revoked_here
}

/// The gated elements, in document order.
pub(crate) fn pending() -> Vec<Element> {
    let Ok(list) = document().query_selector_all(SELECTOR) else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.item(i)?.dyn_into::<Element>().ok())
        .collect()
}

/// The element's `data-category` and `data-service`.
pub(crate) fn labels(e: &Element) -> (String, Option<String>) {
    (
        e.get_attribute("data-category").unwrap_or_default(),
        e.get_attribute("data-service"),
    )
}

/// Brings gated elements to life in document order. After an external script the rest wait
/// for it to load (or fail), as parser-inserted scripts would; they are marked queued so that
/// nothing else activates them meanwhile.
pub(crate) fn activate_in_order(elements: Vec<Element>, nonce: Option<String>) {
    let mut rest = elements.into_iter();
    while let Some(e) = rest.next() {
        let Some(script) = activate(&e, nonce.as_deref()) else {
            continue;
        };
        let rest: Vec<Element> = rest.collect();
        if rest.is_empty() {
            return;
        }
        for r in &rest {
            attr(r, "data-consent-queued", "");
        }
        // Exactly one of load and error fires; the other once-closure is freed with the page.
        let next = Rc::new(RefCell::new(Some((rest, nonce))));
        for event in ["onload", "onerror"] {
            let next = Rc::clone(&next);
            let go = Closure::once_into_js(move |_: JsValue| {
                let taken = next.borrow_mut().take();
                if let Some((rest, nonce)) = taken {
                    for r in &rest {
                        let _ = r.remove_attribute("data-consent-queued");
                    }
                    activate_in_order(rest, nonce);
                }
            });
            let _ = Reflect::set(&script, &JsValue::from_str(event), &go);
        }
        return;
    }
}

/// Brings one gated element to life: a script is replaced by a live copy (same attributes,
/// nonce and text; `data-src` as `src`, `data-type` as `type`); an iframe or image gets its
/// `src`. Returns the new script when it is external (it loads asynchronously).
fn activate(e: &Element, nonce: Option<&str>) -> Option<Element> {
    if e.tag_name().eq_ignore_ascii_case("script") {
        return activate_script(e, nonce);
    }
    if let Some(src) = e.get_attribute("data-src") {
        let _ = e.remove_attribute("data-src");
        let _ = e.class_list().remove_1("cc-wait");
        attr(e, "src", &src);
    }
    None
}

fn activate_script(old: &Element, nonce: Option<&str>) -> Option<Element> {
    let script = el("script", "");
    for name in old
        .get_attribute_names()
        .iter()
        .filter_map(|n| n.as_string())
    {
        if !GATE_ATTRS.contains(&name.as_str()) && name != "nonce" {
            if let Some(value) = old.get_attribute(&name) {
                attr(&script, &name, &value);
            }
        }
    }
    if let Some(t) = old.get_attribute("data-type") {
        attr(&script, "type", &t);
    }
    // Browsers hide a parsed nonce from getAttribute; the property still has it.
    let kept = Reflect::get(old, &JsValue::from_str("nonce"))
        .ok()
        .and_then(|n| n.as_string())
        .filter(|n| !n.is_empty());
    if let Some(n) = nonce.map(str::to_owned).or(kept) {
        let _ = Reflect::set(&script, &JsValue::from_str("nonce"), &JsValue::from_str(&n));
    }
    let _ = Reflect::set(&script, &JsValue::from_str("async"), &JsValue::FALSE);
    let external = old.get_attribute("data-src");
    match &external {
        Some(src) => attr(&script, "src", src),
        None => script.set_text_content(old.text_content().as_deref()),
    }
    // The text/plain original goes, so it can never be activated a second time.
    let parent = old.parent_node()?;
    let next = old.next_sibling();
    old.remove();
    let _ = parent.insert_before(&script, next.as_ref());
    external.map(|_| script)
}

/// A placeholder over an embed waiting for consent, with a button that grants it in place.
pub(crate) struct Placeholder {
    element: Element,
    _click: Listener,
}

impl Placeholder {
    /// Puts a placeholder before `embed` (an iframe), which is hidden until it may load.
    pub(crate) fn new(
        config: &Config,
        lang: consent_core::Lang,
        embed: &Element,
        category: CategoryIndex,
        service: Option<&str>,
        on_grant: impl FnMut(web_sys::Event) + 'static,
    ) -> Option<Self> {
        let texts = config.texts(lang);
        let cat = config.category(category)?;
        let title = cat.title(&texts);
        let name = service
            .and_then(|id| config.service(config.service_index(id)?))
            .map_or(title, |s| s.name());
        let text = fill(
            &fill(texts.get(TextKey::PlaceholderText), "{service}", name),
            "{category}",
            title,
        );
        let element = el("div", "cc-embed");
        attr(&element, "data-consent-placeholder", "");
        add(&element, &text_el("p", "", &text));
        let button = text_el("button", "cc-btn", texts.get(TextKey::PlaceholderButton));
        attr(&button, "type", "button");
        add(&element, &button);
        let _ = embed.class_list().add_1("cc-wait");
        if let Some(parent) = embed.parent_node() {
            let _ = parent.insert_before(&element, Some(embed));
        }
        Some(Self {
            _click: Listener::new(&button, "click", on_grant),
            element,
        })
    }
}

impl Drop for Placeholder {
    fn drop(&mut self) {
        self.element.remove();
    }
}
