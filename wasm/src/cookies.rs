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

/// Writes the consent cookie: the core's [`Token::to_cookie`] attributes, written out here
/// because the `cookie` crate's `Display` links a date formatter the banner never uses.
pub(crate) fn write(config: &Config, token: &Token, secure: bool) {
    let c = token.to_cookie(config, secure);
    let mut line = String::with_capacity(160);
    line.push_str(c.name());
    line.push('=');
    line.push_str(c.value());
    if let Some(path) = c.path() {
        line.push_str("; Path=");
        line.push_str(path);
    }
    if let Some(domain) = c.domain() {
        line.push_str("; Domain=");
        line.push_str(domain);
    }
    if let Some(age) = c.max_age() {
        line.push_str("; Max-Age=");
        push_int(&mut line, age.whole_seconds());
    }
    if let Some(same_site) = config.cookie().same_site().as_str().get(..1) {
        // "lax" -> "Lax": browsers take either case; this is the conventional spelling.
        line.push_str("; SameSite=");
        line.push_str(&same_site.to_ascii_uppercase());
        line.push_str(&config.cookie().same_site().as_str()[1..]);
    }
    if c.secure() == Some(true) {
        line.push_str("; Secure");
    }
    set(&line);
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

/// Appends `n` in decimal, as `to_string` would, without `core::fmt`'s integer formatting
/// (which the banner otherwise does not need).
fn push_int(line: &mut String, n: i64) {
    if n < 0 {
        line.push('-');
    }
    let mut n = n.unsigned_abs();
    let mut digits = Vec::new();
    loop {
        digits.push(char::from(b'0' + (n % 10) as u8));
        n /= 10;
        if n == 0 {
            break;
        }
    }
    line.extend(digits.iter().rev());
}

#[cfg(test)]
mod tests {
    use super::{pairs, push_int};

    #[test]
    fn pairs_split_and_trim() {
        let got: Vec<_> = pairs("a=1; consent=1.x; b; =c; d=").collect();
        assert_eq!(got, [("a", "1"), ("consent", "1.x"), ("b", ""), ("d", "")]);
    }

    #[test]
    fn ints_as_to_string() {
        for n in [0, 7, 10, 15_724_800, -1, i64::MIN, i64::MAX] {
            let mut line = String::new();
            push_int(&mut line, n);
            assert_eq!(line, n.to_string());
        }
    }
}
