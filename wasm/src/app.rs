//! The banner's state on this page, and what each visitor action does. Every decision is the
//! core's ([`policy::decide`]); this module stores it, tells the page, and redraws.

use std::cell::RefCell;

use consent_core::policy::{self, Action, Context, Evaluation, Signals};
use consent_core::{CategoryIndex, Choices, Config, ConsentState, Lang, TextKey, Token};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CustomEvent, CustomEventInit, Element, Event};

use crate::dom::{Listener, document, focus, window};
use crate::env::{self, Options};
use crate::gate::{self, Placeholder, Revoked};
use crate::ui::{Ui, View};
use crate::{cookies, gcm, sync};

thread_local! {
    static APP: RefCell<Option<App>> = const { RefCell::new(None) };
}

/// A visitor action.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Msg {
    AcceptAll,
    RejectAll,
    OpenPreferences,
    ClosePreferences,
    Save,
    Grant(CategoryIndex),
    Language(Lang),
}

/// The banner on this page.
pub(crate) struct App {
    config: Config,
    options: Options,
    lang: Lang,
    signals: Signals,
    evaluation: Evaluation,
    revoked: Revoked,
    ui: Ui,
    placeholders: Vec<Placeholder>,
    opener: Option<Element>,
    _open: Listener,
}

/// What the page must hear after a decision, sent once the state is no longer borrowed
/// (listeners and revived scripts may call the API again).
struct Changes {
    first: bool,
    changed: Array,
    allowed: Array,
}

/// Runs `f` on the banner, if there is one and it is not busy (a re-entrant call from a
/// script the banner is activating gets `None`, never a panic).
pub(crate) fn with<R>(f: impl FnOnce(&mut App) -> R) -> Option<R> {
    APP.with(|a| a.try_borrow_mut().ok()?.as_mut().map(f))
}

fn console_error(message: &str, detail: &str) {
    web_sys::console::error_2(&JsValue::from_str(message), &JsValue::from_str(detail));
}

/// Starts the banner with a JSON config. An invalid config logs one error listing every
/// problem, and the page goes on with necessary cookies only.
pub(crate) fn run(json: &str, options: Options) -> bool {
    APP.with(|a| a.try_borrow_mut().map(|mut a| a.take()).ok());
    let config = match Config::from_json(json) {
        Ok(config) => config,
        Err(e) => {
            console_error(
                "consent: the banner is off and only necessary cookies are allowed, because",
                &e.to_string(),
            );
            return false;
        }
    };
    gcm::default(&config, options.gtag.as_ref());
    let signals = env::signals();
    let lang = env::language(config.languages(), config.default_language());
    let stored = cookies::read(config.cookie().name());
    let evaluation = policy::evaluate(&config, stored.as_deref(), None, env::now(), signals);
    if !evaluation.show_banner() {
        gcm::update(&config, &evaluation);
    }
    let open = Listener::new(&document(), "click", open_from_page);
    let mut app = App {
        ui: Ui::new(&options),
        config,
        options,
        lang,
        signals,
        evaluation,
        revoked: Revoked::default(),
        placeholders: Vec::new(),
        opener: None,
        _open: open,
    };
    if app.evaluation.show_banner() {
        app.show_banner();
    }
    APP.with(|a| a.try_borrow_mut().map(|mut a| *a = Some(app)).ok());
    regate();
    true
}

/// Any element with `data-consent-open` opens the preferences.
fn open_from_page(e: Event) {
    let opener = e
        .target()
        .and_then(|t| t.dyn_into::<Element>().ok())
        .and_then(|t| t.closest("[data-consent-open]").ok().flatten());
    if let Some(opener) = opener {
        e.prevent_default();
        with(|app| {
            app.opener = Some(opener);
            app.open_preferences();
        });
    }
}

/// Handles a visitor action.
pub(crate) fn dispatch(msg: Msg) {
    let changes = with(|app| app.handle(msg)).flatten();
    after(changes);
}

/// Decides for the API (`acceptCategory`).
pub(crate) fn decide(action: Action) -> bool {
    let changes = with(|app| app.decide(action)).flatten();
    let decided = changes.is_some();
    after(changes);
    decided
}

fn after(changes: Option<Changes>) {
    regate();
    if let Some(c) = changes {
        if c.first {
            fire("consent:first", &c);
        }
        if c.changed.length() > 0 {
            fire("consent:change", &c);
        }
    }
}

/// Dispatches `name` on `window` with `detail: {categories, changed}`.
fn fire(name: &str, c: &Changes) {
    let detail = Object::new();
    let _ = Reflect::set(&detail, &JsValue::from_str("categories"), &c.allowed);
    let _ = Reflect::set(&detail, &JsValue::from_str("changed"), &c.changed);
    let init = CustomEventInit::new();
    init.set_detail(&detail);
    if let Ok(event) = CustomEvent::new_with_event_init_dict(name, &init) {
        let _ = window().dispatch_event(&event);
    }
}

/// Activates what may load now, in document order, and puts placeholders on embeds that
/// wait for consent. Elements are chosen under the borrow and activated after it.
pub(crate) fn regate() {
    let pending = gate::pending();
    let chosen = with(|app| {
        app.placeholders.clear();
        let mut go = Vec::new();
        for e in pending {
            let (category, service) = gate::labels(&e);
            if gate::allows(
                &app.config,
                &app.evaluation,
                app.revoked,
                &category,
                service.as_deref(),
            ) {
                go.push(e);
            } else if e.tag_name().eq_ignore_ascii_case("iframe") {
                app.placeholder(&e, &category, service.as_deref());
            }
        }
        (go, app.options.nonce.clone())
    });
    if let Some((go, nonce)) = chosen {
        gate::activate_in_order(go, nonce);
    }
}

impl App {
    pub(crate) fn show_banner(&mut self) {
        let view = View {
            config: &self.config,
            lang: self.lang,
            evaluation: &self.evaluation,
            gpc: self.signals.gpc,
        };
        self.ui.show_banner(&view);
    }

    pub(crate) fn open_preferences(&mut self) {
        if self.opener.is_none() {
            self.opener = document()
                .active_element()
                .filter(|e| e.closest("[data-consent-ui]").ok().flatten().is_none());
        }
        let view = View {
            config: &self.config,
            lang: self.lang,
            evaluation: &self.evaluation,
            gpc: self.signals.gpc,
        };
        self.ui.show_preferences(&view);
    }

    /// Switches the language and redraws what is open. `false` if the site does not offer it.
    pub(crate) fn set_language(&mut self, lang: Lang) -> bool {
        if !self.config.languages().contains(&lang) {
            return false;
        }
        self.lang = lang;
        if self.ui.preferences_open() {
            self.open_preferences();
        } else if self.ui.is_open() {
            self.show_banner();
        }
        true
    }

    fn handle(&mut self, msg: Msg) -> Option<Changes> {
        match msg {
            Msg::AcceptAll => self.decide(Action::AcceptAll),
            Msg::RejectAll => self.decide(Action::RejectAll),
            Msg::Save => {
                let choices = self
                    .ui
                    .switched_on()
                    .into_iter()
                    .fold(self.config.necessary_only(), |c, ci| {
                        c.with_category(&self.config, ci, true)
                    });
                self.decide(Action::Custom(choices))
            }
            Msg::Grant(ci) => {
                let choices = self
                    .evaluation
                    .allowed()
                    .with_category(&self.config, ci, true);
                self.decide(Action::Custom(choices))
            }
            Msg::OpenPreferences => {
                self.open_preferences();
                None
            }
            Msg::ClosePreferences => {
                // Dismissing grants nothing: without a decision the first layer comes back.
                if self.evaluation.show_banner() {
                    self.show_banner();
                } else {
                    self.ui.close();
                    self.restore_focus();
                }
                None
            }
            Msg::Language(lang) => {
                self.set_language(lang);
                None
            }
        }
    }

    fn restore_focus(&mut self) {
        if let Some(opener) = self.opener.take() {
            focus(&opener);
        }
    }

    /// Makes a decision with the core, stores it, clears what it revokes, tells Consent
    /// Mode and the endpoint, and closes the banner.
    fn decide(&mut self, action: Action) -> Option<Changes> {
        let now = env::now();
        let ctx = Context {
            now,
            signals: self.signals,
            lang: self.lang,
            fresh_id: env::random_id(),
        };
        let decision = match policy::decide(&self.config, &self.evaluation, action, ctx) {
            Ok(d) => d,
            Err(e) => {
                console_error("consent: no decision was stored:", &e.to_string());
                return None;
            }
        };
        let before = self.evaluation;
        let state = *decision.state();
        let token = Token::unsigned(state);
        cookies::write(&self.config, &token, env::https());
        self.evaluation = policy::evaluate(
            &self.config,
            Some(&token.to_string()),
            None,
            now,
            self.signals,
        );
        if decision.is_withdrawal() {
            cookies::clear_revoked(&self.config, &decision);
            let revoked = decision.revoked();
            for c in revoked.categories() {
                self.revoked.categories |= 1 << c.get();
            }
            for s in revoked.services() {
                self.revoked.services |= 1 << s.get();
            }
        }
        gcm::update(&self.config, &self.evaluation);
        if let Some(endpoint) = self.config.endpoint() {
            let body = sync::body(&self.config, &state);
            sync::send(endpoint, &body, move |signed| store_signed(signed, state));
        }
        self.ui.close();
        self.ui
            .announce(self.config.texts(self.lang).get(TextKey::Saved));
        self.restore_focus();
        Some(self.changes(&before))
    }

    fn changes(&self, before: &Evaluation) -> Changes {
        let changed = Array::new();
        let allowed = Array::new();
        for category in self.config.categories() {
            let Some(ci) = self.config.category_index(category.id().as_str()) else {
                continue;
            };
            let now = self.evaluation.allows_category(ci);
            let id = JsValue::from_str(category.id().as_str());
            if now != before.allows_category(ci) {
                changed.push(&id);
            }
            if now {
                allowed.push(&id);
            }
        }
        Changes {
            first: before.show_banner(),
            changed,
            allowed,
        }
    }

    /// `reset()`: forgets the stored decision and deletes the declared cookies of whatever
    /// it allowed (the core's withdrawal list, nothing recorded), then asks again.
    pub(crate) fn reset(&mut self) {
        let ctx = Context {
            now: env::now(),
            signals: self.signals,
            lang: self.lang,
            fresh_id: env::random_id(),
        };
        if let Ok(d) = policy::decide(&self.config, &self.evaluation, Action::RejectAll, ctx) {
            cookies::clear_revoked(&self.config, &d);
            let revoked = d.revoked();
            for c in revoked.categories() {
                self.revoked.categories |= 1 << c.get();
            }
            for s in revoked.services() {
                self.revoked.services |= 1 << s.get();
            }
        }
        cookies::delete_consent(&self.config);
        self.evaluation = policy::evaluate(&self.config, None, None, ctx.now, self.signals);
        gcm::update(&self.config, &self.evaluation);
        self.show_banner();
    }

    fn placeholder(&mut self, embed: &Element, category: &str, service: Option<&str>) {
        let Some(ci) = self.config.category_index(category.trim()) else {
            return;
        };
        let grant = move |_| dispatch(Msg::Grant(ci));
        if let Some(p) = Placeholder::new(&self.config, self.lang, embed, ci, service, grant) {
            self.placeholders.push(p);
        }
    }

    /// The API's view of the stored decision, or `null` without a valid one.
    pub(crate) fn consent(&self) -> JsValue {
        let Some(state) = self
            .evaluation
            .state()
            .filter(|_| !self.evaluation.show_banner())
        else {
            return JsValue::NULL;
        };
        let o = Object::new();
        let set = |k: &str, v: JsValue| {
            let _ = Reflect::set(&o, &JsValue::from_str(k), &v);
        };
        let ms = |t: time::OffsetDateTime| JsValue::from_f64(t.unix_timestamp() as f64 * 1000.0);
        set("consentId", JsValue::from_str(&state.id().to_string()));
        set("firstDecision", ms(state.first_decision()));
        set("lastDecision", ms(state.last_decision()));
        set("expires", ms(policy::expires(&self.config, state)));
        set("revision", JsValue::from(state.revision().get()));
        set("method", JsValue::from_str(state.method().as_str()));
        set("language", JsValue::from_str(state.lang().as_str()));
        set("gpc", JsValue::from_bool(state.gpc()));
        let allowed = self.evaluation.allowed();
        let categories = Array::new();
        for c in allowed.categories() {
            if let Some(c) = self.config.category(c) {
                categories.push(&JsValue::from_str(c.id().as_str()));
            }
        }
        let services = Array::new();
        for s in allowed.services() {
            if let Some(s) = self.config.service(s) {
                services.push(&JsValue::from_str(s.id().as_str()));
            }
        }
        set("categories", categories.into());
        set("services", services.into());
        o.into()
    }

    /// Whether the category `id` may run now (only `necessary` without a decision).
    pub(crate) fn accepted_category(&self, id: &str) -> bool {
        self.config
            .category_index(id)
            .is_some_and(|c| self.evaluation.allows_category(c))
    }

    /// Whether the service `id` may run now, on this page (not on a page it is kept off).
    pub(crate) fn accepted_service(&self, id: &str) -> bool {
        self.config.service_index(id).is_some_and(|s| {
            self.evaluation.allowed().allows_service(s)
                && !self
                    .config
                    .service(s)
                    .is_some_and(|sv| sv.is_excluded_on(&env::path()))
        })
    }

    /// The choices granting exactly `ids` (with all their services); the unknown ids if any.
    pub(crate) fn choices_of(&self, ids: &[String]) -> Result<Choices, Vec<String>> {
        let mut choices = self.config.necessary_only();
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
}

/// Keeps the server's signed token when it carries exactly the decision made here.
fn store_signed(signed: Token, state: ConsentState) {
    if signed.state() != &state {
        return;
    }
    with(|app| {
        if app.evaluation.state() == Some(&state) {
            cookies::write(&app.config, &signed, env::https());
        }
    });
}
