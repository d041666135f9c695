//! The first layer rendered on the server: in the page at first paint, and usable without
//! JavaScript.
//!
//! Its buttons post a form to [`FORM_ACTION`] (`POST /consent/form` of `consent serve`, or
//! any server that mounts its API), which makes the decision with the core, logs it, sets the
//! signed consent cookie and sends the visitor back. When the WebAssembly banner loads, it
//! removes this markup (marked `data-consent-nojs`) and draws its own, identical-looking one
//! in its place. The markup uses the banner's own classes from `consent.css` and no inline
//! style or script, so it needs nothing from a strict CSP but `style-src 'self'`.
//!
//! # Example
//! ```
//! use consent_core::{Config, Lang};
//! use consent_gate::first_layer;
//!
//! let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
//! let html = first_layer::render(&config, Lang::Fi, "/ajanvaraus", false);
//! assert!(html.contains(r#"action="/consent/form""#));
//! assert!(html.contains("Hylkää kaikki"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use consent_core::{Config, Lang, TextKey};
use maud::html;

/// Where the rendered forms post their decision.
pub const FORM_ACTION: &str = "/consent/form";
/// Where the rendered "Settings" button leads: the preferences form as a page of its own.
pub const PREFERENCES_PATH: &str = "/consent/preferences";
/// The id of the layer's description, which its dialog names (`aria-describedby`): not one a
/// page is likely to have. The layer is at the end of `<body>`, and an id names the first
/// element that has it: a site form's own `consent-desc` (a newsletter's consent line) would
/// be read as the dialog's description.
const DESCRIPTION_ID: &str = "consent-nojs-desc";
/// The longest `return_to` path accepted.
const MAX_RETURN_TO: usize = 2048;

/// The first layer as an HTML fragment, to put at the end of a page's `<body>`: title, text,
/// the privacy notice link, and "Reject all", "Accept all" and "Settings" as three submit
/// buttons of one form (the same element and class: equal weight).
///
/// `return_to` is the path of the page it is shown on (where the visitor goes back to after
/// deciding; anything but a path on this site becomes `/`); `gpc` adds the notice that
/// Global Privacy Control keeps marketing off.
#[must_use]
pub fn render(config: &Config, lang: Lang, return_to: &str, gpc: bool) -> String {
    let t = config.texts(lang);
    let return_to = sanitize_return_to(return_to).unwrap_or("/");
    let markup = html! {
        div.consent-root.consent-box.consent-pos-bottom.consent-theme-light.consent-still data-consent-ui data-consent-nojs {
            // The dialog is the box around the form: a form may not take the dialog role.
            div.consent-banner role="dialog" aria-modal="false" aria-label=(t.get(TextKey::BannerLabel))
                aria-describedby=(DESCRIPTION_ID) lang=(lang.as_str()) { form method="post" action=(FORM_ACTION) {
                h2.consent-title { (t.get(TextKey::BannerTitle)) }
                p.consent-desc id=(DESCRIPTION_ID) { (t.get(TextKey::BannerDescription)) }
                @if gpc { p.consent-gpc { (t.get(TextKey::GpcNotice)) } }
                a.consent-link href=(config.privacy_notice(lang)) { (t.get(TextKey::PrivacyNotice)) }
                input type="hidden" name="lang" value=(lang.as_str());
                input type="hidden" name="return_to" value=(return_to);
                div.consent-actions {
                    button.consent-btn type="submit" name="action" value="reject_all" { (t.get(TextKey::RejectAll)) }
                    button.consent-btn type="submit" name="action" value="accept_all" { (t.get(TextKey::AcceptAll)) }
                    button.consent-btn type="submit" formmethod="get" formaction=(PREFERENCES_PATH) { (t.get(TextKey::Settings)) }
                }
            } }
        }
    };
    markup.into_string()
}

/// `html` in ASCII, every other character as a character reference (`ä` as `&#228;`): for a
/// page whose charset nobody names, which a browser may read in any of them. The first layer
/// has such characters only in text and attribute values, where references are read.
pub(crate) fn ascii(html: String) -> String {
    if html.is_ascii() {
        return html;
    }
    let mut out = String::with_capacity(html.len() + 64);
    for c in html.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            out.push_str("&#");
            out.push_str(&u32::from(c).to_string());
            out.push(';');
        }
    }
    out
}

/// `path` if it is a safe place to send the visitor back to: a path on this site (starting
/// with one `/`), not another site (`//evil.example`, `/\evil.example`), without control
/// characters, at most 2 kB.
#[must_use]
pub fn sanitize_return_to(path: &str) -> Option<&str> {
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && path.len() <= MAX_RETURN_TO
        && !path.chars().any(|c| c.is_control() || c == '\\');
    ok.then_some(path)
}

/// The language a request or a page asked for (`sv`, `sv-FI`: the first two letters), if
/// the config offers it; else the config's default.
#[must_use]
pub fn pick_lang(config: &Config, asked: Option<&str>) -> Lang {
    asked
        .and_then(|l| l.get(..2))
        .and_then(|l| l.to_ascii_lowercase().parse::<Lang>().ok())
        .filter(|l| config.languages().contains(l))
        .unwrap_or_else(|| config.default_language())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::from_json(consent_core::EXAMPLE_CONFIG).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn the_dialog_is_described_by_its_own_text_under_an_id_sites_do_not_use() {
        let html = render(&config(), Lang::En, "/", false);
        let described = html
            .split_once(r#"aria-describedby=""#)
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(id, _)| id)
            .unwrap_or_default();
        assert_eq!(described, DESCRIPTION_ID);
        assert_ne!(described, "consent-desc", "a site form's likely id");
        let target = format!(r#"<p class="consent-desc" id="{described}">"#);
        assert_eq!(html.matches(&target).count(), 1, "{html}");
        assert_eq!(
            html.matches(&format!(r#""{described}""#)).count(),
            2,
            "{html}"
        );
    }

    #[test]
    fn a_return_to_off_the_site_goes_home() {
        let html = render(&config(), Lang::En, "//evil.example/x", true);
        assert!(html.contains(r#"name="return_to" value="/""#), "{html}");
        assert!(html.contains("consent-gpc"), "the GPC notice is shown");
        for bad in ["//a", "/\\a", "a", "/a\nb", ""] {
            assert_eq!(sanitize_return_to(bad), None, "{bad:?}");
        }
        assert_eq!(sanitize_return_to("/a?b=1"), Some("/a?b=1"));
    }

    #[test]
    fn the_language_is_the_page_or_the_default() {
        let c = config();
        assert_eq!(pick_lang(&c, Some("sv-FI")), Lang::Sv);
        assert_eq!(pick_lang(&c, Some("EN")), Lang::En);
        assert_eq!(pick_lang(&c, Some("de")), c.default_language());
        assert_eq!(
            pick_lang(&c, Some("é")),
            c.default_language(),
            "never a panic on a cut character"
        );
        assert_eq!(pick_lang(&c, None), c.default_language());
    }
}
