//! The first layer and the preferences dialog. Every text comes from the core's [`Texts`]
//! or the config and goes in as text; styling is by classes from `consent.css` only, so a
//! strict `style-src 'self'` needs nothing more.

use consent_core::policy::Evaluation;
use consent_core::{CategoryIndex, Config, Lang, TextKey, Texts};
use wasm_bindgen::JsCast;
use web_sys::{Element, Event, HtmlInputElement, HtmlSelectElement, KeyboardEvent};

use crate::app::{Msg, dispatch};
use crate::dom::{Listener, add, attr, document, el, focus, text_el};
use crate::env::Options;

/// What is on screen, and the listeners that go with it.
pub(crate) struct Ui {
    root: Element,
    live: Element,
    layer: Option<Layer>,
}

/// One open layer: its element, its listeners and, for the preferences, the switches.
struct Layer {
    element: Element,
    preferences: bool,
    switches: Vec<(CategoryIndex, HtmlInputElement)>,
    _listeners: Vec<Listener>,
}

impl Drop for Layer {
    fn drop(&mut self) {
        self.element.remove();
    }
}

impl Drop for Ui {
    fn drop(&mut self) {
        self.root.remove();
    }
}

/// Everything a layer is built from.
pub(crate) struct View<'a> {
    pub(crate) config: &'a Config,
    pub(crate) lang: Lang,
    pub(crate) evaluation: &'a Evaluation,
    pub(crate) gpc: bool,
}

fn button(text: &str, msg: Msg, listeners: &mut Vec<Listener>) -> Element {
    let b = text_el("button", "cc-btn", text);
    attr(&b, "type", "button");
    listeners.push(Listener::new(&b, "click", move |_| dispatch(msg)));
    b
}

/// Accept all, Reject all and a third button: the same element and class, so the same
/// size, font and colours (equal weight on the first layer).
fn choice_buttons(t: &Texts<'_>, third: (&str, Msg), listeners: &mut Vec<Listener>) -> Element {
    let row = el("div", "cc-actions");
    add(
        &row,
        &button(t.get(TextKey::RejectAll), Msg::RejectAll, listeners),
    );
    add(
        &row,
        &button(t.get(TextKey::AcceptAll), Msg::AcceptAll, listeners),
    );
    add(&row, &button(third.0, third.1, listeners));
    row
}

fn gpc_notice(parent: &Element, t: &Texts<'_>, gpc: bool) {
    if gpc {
        add(parent, &text_el("p", "cc-gpc", t.get(TextKey::GpcNotice)));
    }
}

impl Ui {
    /// The banner's root element, appended to `<body>`, with its live region.
    pub(crate) fn new(options: &Options) -> Self {
        // A first layer the server rendered (for pages without JavaScript) is replaced by
        // this one in the same task, so nothing is painted in between: no second banner.
        let mut taken_over = false;
        if let Ok(rendered) = document().query_selector_all("[data-consent-nojs]") {
            for i in 0..rendered.length() {
                if let Some(e) = rendered.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                    e.remove();
                    taken_over = true;
                }
            }
        }
        let root = el("div", &options.classes());
        if taken_over {
            // Already on screen: no second fade-in.
            let _ = root.class_list().add_1("cc-taken-over");
        }
        attr(&root, "data-consent-ui", "");
        let live = el("div", "cc-sr");
        attr(&live, "role", "status");
        attr(&live, "aria-live", "polite");
        add(&root, &live);
        if let Some(body) = document().body() {
            let _ = body.append_child(&root);
        }
        Self {
            root,
            live,
            layer: None,
        }
    }

    /// Whether the preferences dialog is open.
    pub(crate) fn preferences_open(&self) -> bool {
        self.layer.as_ref().is_some_and(|l| l.preferences)
    }

    /// Whether any layer is open.
    pub(crate) fn is_open(&self) -> bool {
        self.layer.is_some()
    }

    /// Closes whatever is open.
    pub(crate) fn close(&mut self) {
        self.layer = None;
    }

    /// Says `text` to screen readers.
    pub(crate) fn announce(&self, text: &str) {
        self.live.set_text_content(Some(text));
    }

    /// The categories switched on in the open preferences.
    pub(crate) fn switched_on(&self) -> Vec<CategoryIndex> {
        self.layer.as_ref().map_or_else(Vec::new, |l| {
            l.switches
                .iter()
                .filter(|(_, s)| s.checked())
                .map(|(c, _)| *c)
                .collect()
        })
    }

    /// Shows the first layer and moves focus into it.
    pub(crate) fn show_banner(&mut self, v: &View<'_>) {
        self.layer = None;
        let t = v.config.texts(v.lang);
        let mut listeners = Vec::new();
        let banner = el("div", "cc-banner");
        attr(&banner, "role", "dialog");
        attr(&banner, "aria-modal", "false");
        attr(&banner, "aria-label", t.get(TextKey::BannerLabel));
        attr(&banner, "aria-describedby", "cc-desc");
        attr(&banner, "tabindex", "-1");
        attr(&banner, "lang", v.lang.as_str());
        add(
            &banner,
            &text_el("h2", "cc-title", t.get(TextKey::BannerTitle)),
        );
        let desc = text_el("p", "cc-desc", t.get(TextKey::BannerDescription));
        attr(&desc, "id", "cc-desc");
        add(&banner, &desc);
        gpc_notice(&banner, &t, v.gpc);
        let link = text_el("a", "cc-link", t.get(TextKey::PrivacyNotice));
        attr(&link, "href", v.config.privacy_notice(v.lang));
        add(&banner, &link);
        let settings = (t.get(TextKey::Settings), Msg::OpenPreferences);
        add(&banner, &choice_buttons(&t, settings, &mut listeners));
        add(&self.root, &banner);
        focus(&banner);
        self.layer = Some(Layer {
            element: banner,
            preferences: false,
            switches: Vec::new(),
            _listeners: listeners,
        });
    }

    /// Shows the preferences dialog, traps focus in it, and closes it on Esc.
    pub(crate) fn show_preferences(&mut self, v: &View<'_>) {
        self.layer = None;
        let t = v.config.texts(v.lang);
        let mut listeners = Vec::new();
        let overlay = el("div", "cc-overlay");
        let dialog = el("div", "cc-prefs");
        attr(&dialog, "role", "dialog");
        attr(&dialog, "aria-modal", "true");
        attr(&dialog, "aria-labelledby", "cc-ptitle");
        attr(&dialog, "tabindex", "-1");
        attr(&dialog, "lang", v.lang.as_str());
        let head = el("div", "cc-head");
        let title = text_el("h2", "cc-title", t.get(TextKey::PreferencesTitle));
        attr(&title, "id", "cc-ptitle");
        add(&head, &title);
        let close = button("×", Msg::ClosePreferences, &mut listeners);
        close.set_class_name("cc-close");
        attr(&close, "aria-label", t.get(TextKey::Close));
        add(&head, &close);
        add(&dialog, &head);
        add(
            &dialog,
            &text_el("p", "cc-desc", t.get(TextKey::PreferencesDescription)),
        );
        gpc_notice(&dialog, &t, v.gpc);
        let link = text_el("a", "cc-link", t.get(TextKey::PrivacyNotice));
        attr(&link, "href", v.config.privacy_notice(v.lang));
        add(&dialog, &link);
        if v.config.languages().len() > 1 {
            add(&dialog, &language_select(v, &t, &mut listeners));
        }
        let mut switches = Vec::new();
        for (i, category) in v.config.categories().iter().enumerate() {
            let Some(ci) = v.config.category_index(category.id().as_str()) else {
                continue;
            };
            debug_assert_eq!(ci.get(), i);
            let on = v.evaluation.allows_category(ci);
            let (section, switch) = category_section(v, &t, ci, on);
            if let Some(s) = switch {
                switches.push((ci, s));
            }
            add(&dialog, &section);
        }
        if let Some(state) = v.evaluation.state().filter(|_| !v.evaluation.show_banner()) {
            let id = text_el("p", "cc-id", t.get(TextKey::ConsentId));
            add(&id, &text_el("code", "", &state.id().to_string()));
            add(&dialog, &id);
        }
        add(
            &dialog,
            &choice_buttons(&t, (t.get(TextKey::Save), Msg::Save), &mut listeners),
        );
        add(&overlay, &dialog);
        add(&self.root, &overlay);
        listeners.push(Listener::new(&dialog, "keydown", trap_focus));
        focus(&dialog);
        self.layer = Some(Layer {
            element: overlay,
            preferences: true,
            switches,
            _listeners: listeners,
        });
    }
}

fn language_select(v: &View<'_>, t: &Texts<'_>, listeners: &mut Vec<Listener>) -> Element {
    let label = text_el("label", "cc-lang", t.get(TextKey::Language));
    let select = el("select", "");
    for lang in v.config.languages() {
        let option = text_el("option", "", lang.native_name());
        attr(&option, "value", lang.as_str());
        attr(&option, "lang", lang.as_str());
        if *lang == v.lang {
            attr(&option, "selected", "");
        }
        add(&select, &option);
    }
    listeners.push(Listener::new(&select, "change", |e: Event| {
        let lang = e
            .target()
            .and_then(|t| t.dyn_into::<HtmlSelectElement>().ok())
            .and_then(|s| s.value().parse::<Lang>().ok());
        if let Some(lang) = lang {
            dispatch(Msg::Language(lang));
        }
    }));
    add(&label, &select);
    label
}

/// A category: its switch (necessary: locked on and labelled so), description, and its
/// services with their cookies in an expandable `<details>`.
fn category_section(
    v: &View<'_>,
    t: &Texts<'_>,
    ci: CategoryIndex,
    on: bool,
) -> (Element, Option<HtmlInputElement>) {
    let Some(category) = v.config.category(ci) else {
        return (el("section", ""), None);
    };
    let section = el("section", "cc-cat");
    let head = el("div", "cc-cat-head");
    let mut id = String::from("cc-cat-");
    id.push_str(category.id().as_str());
    let label = text_el("label", "cc-cat-title", category.title(t));
    attr(&label, "for", &id);
    add(&head, &label);
    let input = el("input", "cc-switch");
    attr(&input, "type", "checkbox");
    attr(&input, "role", "switch");
    attr(&input, "id", &id);
    let input = input.dyn_into::<HtmlInputElement>().ok();
    let mut switch = None;
    if let Some(input) = input {
        if category.is_necessary() {
            input.set_checked(true);
            input.set_disabled(true);
            add(&head, &input);
            add(
                &head,
                &text_el("span", "cc-always", t.get(TextKey::AlwaysOn)),
            );
        } else {
            input.set_checked(on);
            add(&head, &input);
            switch = Some(input);
        }
    }
    add(&section, &head);
    add(&section, &text_el("p", "", category.description(t)));
    if !category.services().is_empty() {
        let details = el("details", "cc-services");
        add(&details, &text_el("summary", "", t.get(TextKey::Services)));
        for service in category.services() {
            add(&details, &service_block(v, t, service));
        }
        add(&section, &details);
    }
    (section, switch)
}

fn service_block(v: &View<'_>, t: &Texts<'_>, service: &consent_core::Service) -> Element {
    let block = el("div", "cc-svc");
    add(&block, &text_el("h3", "", service.name()));
    let provider = text_el("p", "", t.get(TextKey::Provider));
    add(&provider, &text_el("span", "", service.provider()));
    add(&block, &provider);
    add(&block, &text_el("p", "", service.purpose().get(v.lang)));
    if let Some(url) = service.privacy_url() {
        let a = text_el("a", "cc-link", t.get(TextKey::ProviderPrivacy));
        attr(&a, "href", url);
        attr(&a, "rel", "noopener");
        add(&block, &a);
    }
    if !service.cookies().is_empty() {
        let table = el("table", "cc-cookies");
        let head = el("tr", "");
        for key in [
            TextKey::CookieName,
            TextKey::CookieLifetime,
            TextKey::CookiePurpose,
        ] {
            let th = text_el("th", "", t.get(key));
            attr(&th, "scope", "col");
            add(&head, &th);
        }
        add(&table, &head);
        for cookie in service.cookies() {
            let row = el("tr", "");
            add(&row, &text_el("td", "", cookie.name().as_str()));
            add(&row, &text_el("td", "", &t.lifetime(cookie.lifetime())));
            add(&row, &text_el("td", "", cookie.description().get(v.lang)));
            add(&table, &row);
        }
        add(&block, &table);
    }
    block
}

/// Esc closes the preferences; Tab and Shift+Tab wrap around inside them.
fn trap_focus(e: Event) {
    let Some(key) = e.dyn_ref::<KeyboardEvent>() else {
        return;
    };
    if key.key() == "Escape" {
        e.prevent_default();
        dispatch(Msg::ClosePreferences);
        return;
    }
    if key.key() != "Tab" {
        return;
    }
    let Some(dialog) = e
        .current_target()
        .and_then(|t| t.dyn_into::<Element>().ok())
    else {
        return;
    };
    let Ok(list) = dialog
        .query_selector_all("button:not([disabled]),a[href],input:not([disabled]),select,summary")
    else {
        return;
    };
    let (Some(first), Some(last)) = (list.item(0), list.item(list.length().saturating_sub(1)))
    else {
        return;
    };
    let active = document().active_element().map(wasm_bindgen::JsValue::from);
    let at = |n: &web_sys::Node| active.as_ref() == Some(n.as_ref());
    let wrap_to = if key.shift_key() && (at(&first) || active == Some(dialog.clone().into())) {
        Some(last)
    } else if !key.shift_key() && at(&last) {
        Some(first)
    } else {
        None
    };
    if let Some(target) = wrap_to.and_then(|n| n.dyn_into::<Element>().ok()) {
        e.prevent_default();
        focus(&target);
    }
}
