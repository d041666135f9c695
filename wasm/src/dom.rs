//! Small DOM helpers: elements with text (never HTML) and listeners removed on drop.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Document, Element, Event, EventTarget, HtmlElement, Window};

/// The page's window.
pub(crate) fn window() -> Window {
    web_sys::window().expect_throw("unreachable: the banner runs in a window")
}

/// The page's document.
pub(crate) fn document() -> Document {
    window()
        .document()
        .expect_throw("unreachable: a window has a document")
}

/// A new element with a class (none when `class` is empty).
pub(crate) fn el(tag: &str, class: &str) -> Element {
    let e = document()
        .create_element(tag)
        .expect_throw("unreachable: tag names are constants");
    if !class.is_empty() {
        e.set_class_name(class);
    }
    e
}

/// A new element holding `text` as text.
pub(crate) fn text_el(tag: &str, class: &str, text: &str) -> Element {
    let e = el(tag, class);
    e.set_text_content(Some(text));
    e
}

/// Sets an attribute; names are constants, so this cannot fail.
pub(crate) fn attr(e: &Element, name: &str, value: &str) {
    let _ = e.set_attribute(name, value);
}

/// Appends `child` to `parent`.
pub(crate) fn add(parent: &Element, child: &Element) {
    let _ = parent.append_child(child);
}

/// Moves keyboard focus to `e`.
pub(crate) fn focus(e: &Element) {
    if let Some(e) = e.dyn_ref::<HtmlElement>() {
        let _ = e.focus();
    }
}

/// An event listener that is removed when dropped (after gloo's `EventListener`).
pub(crate) struct Listener {
    target: EventTarget,
    kind: &'static str,
    callback: Closure<dyn FnMut(Event)>,
}

impl Listener {
    /// Listens for `kind` events on `target` until dropped.
    pub(crate) fn new(
        target: &EventTarget,
        kind: &'static str,
        f: impl FnMut(Event) + 'static,
    ) -> Self {
        let callback = Closure::<dyn FnMut(Event)>::new(f);
        let _ = target.add_event_listener_with_callback(kind, callback.as_ref().unchecked_ref());
        Self {
            target: target.clone(),
            kind,
            callback,
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.kind, self.callback.as_ref().unchecked_ref());
    }
}
