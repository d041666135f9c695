//! The banner without JavaScript: the first layer and a minimal preferences form rendered on
//! the server from consent-core, and the plain form post that records the decision.
//!
//! A page that includes [`first_layer`] in its HTML has the banner on screen at first paint,
//! and it works where JavaScript is off or a strict CSP forbids WebAssembly: its buttons post
//! a form to `POST /consent/form`, which makes the decision with the same
//! [`policy::decide`] as the banner, logs it, sets the signed consent cookie and sends the
//! visitor back to the page. When the WebAssembly banner loads, it removes the rendered
//! markup (marked `data-consent-nojs`) and puts its own, identical-looking one in its place.
//!
//! The markup uses the banner's own classes from `consent.css` and no inline style or
//! script, so it needs nothing from a strict CSP but `style-src 'self'`.
//!
//! # Example
//! ```
//! use consent_core::{Config, Lang};
//! use consent_server::nojs;
//!
//! let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
//! let html = nojs::first_layer(&config, Lang::Fi, "/ajanvaraus", false);
//! assert!(html.contains(r#"action="/consent/form""#));
//! assert!(html.contains("Hylkää kaikki"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use core::fmt;

use axum::http::HeaderMap;
use consent_core::decision::{self, ActionKind, Signer};
use consent_core::policy::{self, Action, Context, Evaluation, Signals};
use consent_core::{
    Channel, Choices, Config, ConsentId, DecisionRecord, Lang, PageUrl, Service, TextKey, Texts,
    Token,
};
use maud::{Markup, html};
use time::OffsetDateTime;

use crate::key::ServerKey;

pub use consent_gate::first_layer::{
    FORM_ACTION, PREFERENCES_PATH, pick_lang, render as first_layer, sanitize_return_to,
};

/// The request's cookies, as (name, value) pairs; malformed pairs are skipped.
pub(crate) fn request_cookies(headers: &HeaderMap) -> Vec<(String, String)> {
    consent_gate::cookie_headers(headers)
        .flat_map(|h| cookie::Cookie::split_parse(h.into_owned()))
        .filter_map(Result::ok)
        .map(|c| (c.name().to_owned(), c.value().to_owned()))
        .collect()
}

/// The first layer for a request, or nothing (an empty string) when the request's consent
/// cookies hold a current decision signed by `gate`'s key, so no banner is due. A token the
/// server did not sign (unsigned, edited, foreign) is no decision here, as for the gate: the
/// visitor is asked again, and nothing but the necessary runs meanwhile. Of several consent
/// cookies the first valid decision counts, as in the gate ([`consent_gate::verdict`]): a
/// stray one sent first does not bring the banner back.
#[must_use]
pub fn first_layer_if_due(
    config: &Config,
    gate: &consent_core::Gate,
    headers: &HeaderMap,
    lang: Lang,
    return_to: &str,
) -> String {
    let verdict = consent_gate::verdict(gate, headers, OffsetDateTime::now_utc());
    if verdict.evaluation().show_banner() {
        let gpc = consent_gate::signals(headers).gpc;
        first_layer(config, lang, return_to, gpc)
    } else {
        String::new()
    }
}

/// The preferences as a whole HTML page: a switch per category (necessary locked on), each
/// category's services and cookies, and "Reject all", "Accept all" and "Save" buttons.
/// The switches start from what `evaluation` allows (nothing beyond necessary before a
/// decision).
#[must_use]
pub fn preferences_page(
    config: &Config,
    lang: Lang,
    return_to: &str,
    evaluation: &Evaluation,
    gpc: bool,
) -> String {
    let t = config.texts(lang);
    let return_to = sanitize_return_to(return_to).unwrap_or("/");
    let markup = html! {
        (maud::DOCTYPE)
        html lang=(lang.as_str()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (t.get(TextKey::PreferencesTitle)) }
                link rel="icon" href="/consent/favicon.svg" type="image/svg+xml";
                link rel="stylesheet" href="/consent/consent.css";
                link rel="stylesheet" href="/consent/consent-prefs.css";
            }
            body {
                main.consent-root.consent-box.consent-pos-middle.consent-theme-light data-consent-ui data-consent-nojs {
                    // A page of its own, not a dialog over one (and a form may not take the
                    // dialog role): a form landmark named by its title.
                    form.consent-prefs.consent-nojs-page aria-labelledby="consent-ptitle" lang=(lang.as_str())
                        method="post" action=(FORM_ACTION) {
                        div.consent-head { h1.consent-title #consent-ptitle { (t.get(TextKey::PreferencesTitle)) } }
                        p.consent-desc { (t.get(TextKey::PreferencesDescription)) }
                        @if gpc { p.consent-gpc { (t.get(TextKey::GpcNotice)) } }
                        a.consent-link href=(config.privacy_notice(lang)) { (t.get(TextKey::PrivacyNotice)) }
                        input type="hidden" name="lang" value=(lang.as_str());
                        input type="hidden" name="return_to" value=(return_to);
                        @for (ci, category) in config.indexed_categories() {
                            @let id = format!("consent-cat-{}", category.id().as_str());
                            @let on = evaluation.allows_category(ci);
                            section.consent-cat {
                                div.consent-cat-head {
                                    label.consent-cat-title for=(id) { (category.title(&t)) }
                                    @if category.is_necessary() {
                                        input.consent-switch #(id) type="checkbox" role="switch" checked disabled;
                                        span.consent-always { (t.get(TextKey::AlwaysOn)) }
                                    } @else {
                                        input.consent-switch #(id) type="checkbox" role="switch"
                                            name="category" value=(category.id().as_str()) checked[on];
                                    }
                                }
                                p { (category.description(&t)) }
                                @if !category.services().is_empty() {
                                    details.consent-services {
                                        summary { (t.get(TextKey::Services)) }
                                        @for service in category.services() { (service_block(&t, lang, service)) }
                                    }
                                }
                            }
                        }
                        div.consent-actions {
                            button.consent-btn type="submit" name="action" value="reject_all" { (t.get(TextKey::RejectAll)) }
                            button.consent-btn type="submit" name="action" value="accept_all" { (t.get(TextKey::AcceptAll)) }
                            button.consent-btn type="submit" name="action" value="custom" { (t.get(TextKey::Save)) }
                        }
                    }
                }
            }
        }
    };
    markup.into_string()
}

fn service_block(t: &Texts<'_>, lang: Lang, service: &Service) -> Markup {
    html! {
        div.consent-svc {
            // Under the page's h1 (the banner's dialog, under its h2, has h3).
            h2 { (service.name(lang)) }
            p { span.consent-k { (t.get(TextKey::Provider)) ":" } " " (service.provider()) }
            p { (service.purpose().get(lang)) }
            @if let Some(url) = service.privacy_url() {
                a.consent-link href=(url) rel="noopener" { (t.get(TextKey::ProviderPrivacy)) }
            }
            @if !service.cookies().is_empty() {
                table.consent-cookies {
                    tr {
                        th scope="col" { (t.get(TextKey::CookieName)) }
                        th scope="col" { (t.get(TextKey::CookieLifetime)) }
                        th scope="col" { (t.get(TextKey::CookiePurpose)) }
                    }
                    @for cookie in service.cookies() {
                        tr {
                            td { (cookie.name().as_str()) }
                            td { (t.lifetime(cookie.lifetime())) }
                            td { (cookie.description().get(lang)) }
                        }
                    }
                }
            }
        }
    }
}

/// What a form post asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormInput {
    /// What the visitor pressed.
    pub action: Action,
    /// The language the form was shown in.
    pub lang: Lang,
    /// Where to send the visitor afterwards.
    pub return_to: String,
}

/// Why a form post was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FormError {
    /// No `action` field, or one this form does not send.
    Action(String),
    /// A `category` field naming no category of the config.
    UnknownCategory(String),
    /// `return_to` is not a path on this site.
    ReturnTo(String),
    /// A field appeared twice where one was expected, or an unknown field.
    Field(String),
    /// The server's clock is outside what a token can carry.
    Clock(String),
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormError::Action(a) => write!(
                f,
                "action: {a:?} is not one of accept_all, reject_all, custom"
            ),
            FormError::UnknownCategory(c) => write!(f, "category: {c:?} is not in the config"),
            FormError::ReturnTo(p) => write!(f, "return_to: {p:?} is not a path on this site"),
            FormError::Field(m) => f.write_str(m),
            FormError::Clock(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for FormError {}

/// Reads a form body (`application/x-www-form-urlencoded`): `action`, `lang`, `return_to`,
/// and one `category` field per switched-on category (read only for `custom`).
///
/// # Errors
/// A [`FormError`] naming the field: a missing or unknown action, an unknown category, a
/// `return_to` that is not a path on this site, a repeated or unknown field.
pub fn parse_form(config: &Config, body: &[u8]) -> Result<FormInput, FormError> {
    let mut action = None;
    let mut lang = None;
    let mut return_to = None;
    let mut choices = Choices::none();
    let once = |slot: &mut Option<String>, name: &str, value: String| {
        if slot.replace(value).is_some() {
            Err(FormError::Field(format!("{name}: given more than once")))
        } else {
            Ok(())
        }
    };
    for (name, value) in form_urlencoded::parse(body) {
        match &*name {
            "action" => once(&mut action, "action", value.into_owned())?,
            "lang" => once(&mut lang, "lang", value.into_owned())?,
            "return_to" => once(&mut return_to, "return_to", value.into_owned())?,
            "category" => {
                let index = config
                    .category_index(&value)
                    .ok_or_else(|| FormError::UnknownCategory(value.clone().into_owned()))?;
                choices = choices.with_category(config, index, true);
            }
            other => return Err(FormError::Field(format!("{other}: unknown field"))),
        }
    }
    let action = action.unwrap_or_default();
    let action = match action.parse::<ActionKind>() {
        Ok(kind @ (ActionKind::AcceptAll | ActionKind::RejectAll | ActionKind::Custom)) => {
            kind.with(choices)
        }
        _ => return Err(FormError::Action(action)),
    };
    let return_to = return_to.unwrap_or_else(|| "/".to_owned());
    if sanitize_return_to(&return_to).is_none() {
        return Err(FormError::ReturnTo(return_to));
    }
    Ok(FormInput {
        action,
        lang: pick_lang(config, lang.as_deref()),
        return_to: uri_reference(&return_to),
    })
}

/// A `return_to` checked by [`sanitize_return_to`] as a URI reference, fit for `Location` and
/// a record's page: every byte outside visible ASCII (a space, the UTF-8 of `ä`), and the
/// ASCII a URI may not hold (`"`, `<`, `>`, `^`, the backquote, `{`, `|`, `}`),
/// percent-encoded; `%` and the rest as they are, so an address encoded already stays as it
/// is. A site that fills the form's field from a decoded path or query gives such text: raw
/// UTF-8 in `Location` leaves the browser to guess its encoding, and a page address with a
/// space is no address.
///
/// Hand-written rather than the `percent-encoding` crate's: eight lines against a dependency.
pub(crate) fn uri_reference(path: &str) -> String {
    use core::fmt::Write as _;
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_graphic() && !b"\"<>^`{|}".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A decision made from a form post: what to log and what to set.
#[derive(Debug)]
pub struct FormDecision {
    /// The record to append to the log.
    pub record: DecisionRecord,
    /// The signed token for the consent cookie.
    pub token: Token,
    /// `Set-Cookie` values that delete the declared cookies of withdrawn services that the
    /// request carried (exact names and patterns), on the host and its parent domains.
    pub clear: Vec<String>,
}

/// Makes the decision a form post asked for, with the same policy as the banner.
///
/// `stored` is the consent cookie's value from the request, if any: a visitor whose cookie
/// this server signed keeps their consent id, and withdrawing makes the decision a withdrawal;
/// a cookie it did not sign only says which cookies the decision deletes. `origin`
/// is the page's origin (already checked against the allowed ones); the record's page URL is
/// `origin` + `return_to` without its query string. `cookie_names` are the names in the
/// request's `Cookie` header, so that a withdrawal can delete the ones it revokes.
///
/// # Errors
/// [`FormError::Clock`] when the server's clock is outside 2020-2099;
/// [`FormError::ReturnTo`] when the page URL cannot be made.
#[allow(clippy::too_many_arguments)]
pub fn decide(
    config: &Config,
    key: &ServerKey,
    input: &FormInput,
    stored: Option<&str>,
    signals: Signals,
    origin: &str,
    host: &str,
    cookie_names: &[&str],
    now: OffsetDateTime,
    fresh_id: ConsentId,
) -> Result<FormDecision, FormError> {
    // The previous decision is read without the key: it only says what a withdrawal
    // revokes, and grants nothing by itself. The id is the server's: the previous decision's
    // only when its cookie is signed by this server ([`decision::Signer`]).
    let before = policy::evaluate(config, stored, None, now, signals);
    let ctx = Context {
        now,
        signals,
        lang: input.lang,
        fresh_id,
    };
    let signer = Signer {
        key: key.token_key(),
        proofs: stored.as_slice(),
    };
    let made = decision::make(config, &before, input.action, ctx, Some(signer))
        .map_err(|e| FormError::Clock(e.to_string()))?;
    let path = input
        .return_to
        .split(['?', '#'])
        .next()
        .unwrap_or(&input.return_to);
    let page = PageUrl::new(&format!("{origin}{path}"))
        .map_err(|_| FormError::ReturnTo(input.return_to.clone()))?;
    Ok(FormDecision {
        record: made.record(config, Some(page), Channel::Banner),
        token: *made.token(),
        clear: made.clear_lines(config, cookie_names.iter().copied(), host),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use consent_core::Method;

    fn config() -> Config {
        Config::from_json(consent_core::EXAMPLE_CONFIG).unwrap()
    }

    fn key() -> ServerKey {
        ServerKey::new(&[7; 32]).unwrap()
    }

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap()
    }

    #[test]
    fn first_layer_has_three_equal_buttons_and_escapes_text() {
        let c = config();
        let html = first_layer(&c, Lang::Sv, "/boka?x=\"<y>", false);
        assert_eq!(
            html.matches(r#"<button class="consent-btn" type="submit""#)
                .count(),
            3
        );
        assert!(html.contains(r#"lang="sv""#));
        assert!(html.contains("Avvisa alla"), "{html}");
        // The quote and angle brackets of the path are escaped, not markup.
        assert!(!html.contains("<y>"));
        assert!(html.contains("&quot;&lt;y&gt;"));
        assert!(!html.contains("consent-gpc"));
        assert!(first_layer(&c, Lang::Sv, "/", true).contains("consent-gpc"));
    }

    #[test]
    fn return_to_must_stay_on_the_site() {
        assert_eq!(sanitize_return_to("/a/b?c=d"), Some("/a/b?c=d"));
        for bad in [
            "",
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "/a\nb",
        ] {
            assert_eq!(sanitize_return_to(bad), None, "{bad:?}");
        }
        assert_eq!(sanitize_return_to(&"/".repeat(3000)), None);
        // The first layer falls back to "/" rather than rendering a foreign target.
        assert!(first_layer(&config(), Lang::En, "//evil.example", false).contains(r#"value="/""#));
    }

    #[test]
    fn a_return_to_becomes_a_uri_reference() {
        assert_eq!(uri_reference("/a/b?c=d#e"), "/a/b?c=d#e");
        assert_eq!(uri_reference("/päivä x"), "/p%C3%A4iv%C3%A4%20x");
        // Encoded already: as it is.
        assert_eq!(uri_reference("/p%C3%A4?q=%22"), "/p%C3%A4?q=%22");
        assert_eq!(uri_reference("/x?y=\"<`>"), "/x?y=%22%3C%60%3E");
        let input = parse_form(&config(), "action=reject_all&return_to=/ä".as_bytes()).unwrap();
        assert_eq!(input.return_to, "/%C3%A4");
    }

    #[test]
    fn parse_form_reads_actions_and_categories() {
        let c = config();
        let input = parse_form(&c, b"action=accept_all&lang=en&return_to=%2Fbook").unwrap();
        assert_eq!(input.action, Action::AcceptAll);
        assert_eq!(input.lang, Lang::En);
        assert_eq!(input.return_to, "/book");

        let input = parse_form(&c, b"action=custom&category=analytics").unwrap();
        let analytics = c.category_index("analytics").unwrap();
        let Action::Custom(choices) = input.action else {
            panic!("not custom: {:?}", input.action)
        };
        assert!(choices.allows_category(analytics));
        assert!(!choices.allows_category(c.category_index("marketing").unwrap()));
        assert_eq!(input.lang, c.default_language());
    }

    #[test]
    fn parse_form_names_what_is_wrong() {
        let c = config();
        let err = |body: &[u8]| parse_form(&c, body).unwrap_err().to_string();
        assert!(err(b"lang=fi").starts_with("action:"));
        assert!(err(b"action=grant_everything").contains("grant_everything"));
        assert!(err(b"action=custom&category=spying").contains("spying"));
        assert!(err(b"action=accept_all&return_to=https://evil.example").starts_with("return_to"));
        assert!(err(b"action=accept_all&action=reject_all").contains("more than once"));
        assert!(err(b"action=accept_all&admin=1").contains("admin: unknown field"));
    }

    #[test]
    fn decide_logs_a_banner_record_and_signs_the_token() {
        let c = config();
        let input = parse_form(&c, b"action=reject_all&lang=fi&return_to=/ajanvaraus?x=1").unwrap();
        let d = decide(
            &c,
            &key(),
            &input,
            None,
            Signals::default(),
            "https://klinikka.fi",
            "klinikka.fi",
            &[],
            now(),
            ConsentId::from_bytes([1; 16]),
        )
        .unwrap();
        assert_eq!(d.record.action(), Method::RejectAll);
        assert_eq!(d.record.channel(), Channel::Banner);
        assert_eq!(
            d.record.page_url().map(PageUrl::as_str),
            Some("https://klinikka.fi/ajanvaraus")
        );
        assert!(d.token.is_signed());
        assert_eq!(d.token.state().choices(), c.necessary_only());
        assert!(d.clear.is_empty());
        // The server's key verifies it: a gate with the key accepts it.
        let gate = consent_core::Gate::new(&c, Some(key().token_key().clone()));
        let header = format!("{}={}", c.cookie().name(), d.token);
        assert_eq!(
            gate.check(Some(&header), None, now()).status(),
            policy::StoredStatus::Valid
        );
    }

    #[test]
    fn withdrawal_keeps_the_id_and_clears_present_tracker_cookies() {
        let c = config();
        let accept = parse_form(&c, b"action=accept_all").unwrap();
        let first = decide(
            &c,
            &key(),
            &accept,
            None,
            Signals::default(),
            "https://www.klinikka.fi",
            "www.klinikka.fi",
            &[],
            now(),
            ConsentId::from_bytes([2; 16]),
        )
        .unwrap();
        let stored = first.token.to_string();
        let reject = parse_form(&c, b"action=reject_all").unwrap();
        let names = ["_ga", "_ga_ABC123", "lang", "_fbp", c.cookie().name()];
        let second = decide(
            &c,
            &key(),
            &reject,
            Some(&stored),
            Signals::default(),
            "https://www.klinikka.fi",
            "www.klinikka.fi",
            &names,
            now() + time::Duration::minutes(5),
            ConsentId::from_bytes([3; 16]),
        )
        .unwrap();
        assert_eq!(second.record.action(), Method::Withdraw);
        assert_eq!(second.token.state().id(), first.token.state().id());
        let cleared: Vec<&str> = second
            .clear
            .iter()
            .filter_map(|c| c.split('=').next())
            .collect();
        for name in ["_ga", "_ga_ABC123", "_fbp"] {
            assert!(cleared.contains(&name), "{name} not cleared: {cleared:?}");
        }
        assert!(!cleared.contains(&"lang"));
        assert!(!cleared.contains(&c.cookie().name()));
        assert!(
            second
                .clear
                .iter()
                .any(|c| c.starts_with("_ga=") && c.ends_with("Domain=klinikka.fi"))
        );
    }

    #[test]
    fn gpc_keeps_marketing_off_on_accept_all() {
        let c = config();
        let input = parse_form(&c, b"action=accept_all").unwrap();
        let d = decide(
            &c,
            &key(),
            &input,
            None,
            Signals {
                gpc: true,
                dnt: false,
            },
            "https://klinikka.fi",
            "klinikka.fi",
            &[],
            now(),
            ConsentId::from_bytes([4; 16]),
        )
        .unwrap();
        assert!(d.record.gpc());
        let marketing = c.category_index("marketing").unwrap();
        assert!(!d.token.state().choices().allows_category(marketing));
        assert!(
            d.token
                .state()
                .choices()
                .allows_category(c.category_index("analytics").unwrap())
        );
    }
}
