//! `document.cookie`: reading the consent cookie, writing it, and deleting revoked cookies.

use consent_core::policy::{self, Decision};
use consent_core::{Config, Token};
use wasm_bindgen::JsCast;
use web_sys::HtmlDocument;

use crate::dom::{document, window};

fn jar() -> String {
    document()
        .dyn_into::<HtmlDocument>()
        .ok()
        .and_then(|d| d.cookie().ok())
        .unwrap_or_default()
}

fn set(line: &str) {
    if let Ok(d) = document().dyn_into::<HtmlDocument>() {
        let _ = d.set_cookie(line);
    }
}

/// The names and values in `document.cookie`, in the order the browser gives them (more
/// specific paths first).
fn pairs(jar: &str) -> impl Iterator<Item = (&str, &str)> {
    jar.split(';').filter_map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = name.trim();
        (!name.is_empty()).then_some((name, value.trim()))
    })
}

/// The value of the first cookie called `name`, as the server-side check reads it.
pub(crate) fn read(name: &str) -> Option<String> {
    pairs(&jar())
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_owned())
}

/// Writes the consent cookie with the core's attributes ([`Token::cookie_line`]).
pub(crate) fn write(config: &Config, token: &Token, secure: bool) {
    set(&token.cookie_line(config, secure));
}

/// Expires the cookie `name` at `path` on `domain` (host-only when `None`).
fn expire(name: &str, path: &str, domain: Option<&str>) {
    let mut line = String::with_capacity(96);
    line.push_str(name);
    line.push_str("=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=");
    line.push_str(path);
    if let Some(domain) = domain {
        line.push_str("; Domain=");
        line.push_str(domain);
    }
    set(&line);
}

/// Deletes the consent cookie (for `reset()`).
pub(crate) fn delete_consent(config: &Config) {
    let c = config.cookie();
    expire(c.name(), c.path(), c.domain());
    expire(c.name(), c.path(), None);
}

/// Deletes every cookie the decision revokes: each declared name or pattern matched against
/// the names the page can see, on the host and every parent domain (and a declared domain),
/// at the declared path and at `/`.
pub(crate) fn clear_revoked(config: &Config, decision: &Decision) {
    let jar = jar();
    let host = window().location().hostname().unwrap_or_default();
    for (_, decl) in decision.cookies_to_clear(config) {
        for (name, _) in pairs(&jar).filter(|(n, _)| decl.name().matches(n)) {
            for path in [decl.path(), "/"] {
                expire(name, path, None);
                for domain in policy::clear_domains(&host).chain(decl.domain()) {
                    expire(name, path, Some(domain));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::pairs;

    #[test]
    fn pairs_split_and_trim() {
        let got: Vec<_> = pairs("a=1; consent=1.x; b; =c; d=").collect();
        assert_eq!(got, [("a", "1"), ("consent", "1.x"), ("b", ""), ("d", "")]);
    }
}
