//! The demo's mailbox (`GET /demo/mail`, only with `consent serve --demo`): the demo has no
//! mailer, so a visitor who signed up on its newsletter form reads here the confirmation
//! message the site's mailer would have sent, and follows its link.
//!
//! 1. In demo mode only, a sign-up's answer (the JSON one and the form post's redirect) sets
//!    the cookie [`COOKIE`]: the link's token, for this page only (`Path=/demo/mail`,
//!    `HttpOnly`, `SameSite=Strict`), for as long as the link holds.
//! 2. The page shows the outbox's message whose link carries that token, if it is still
//!    waiting; it takes nothing out of the outbox.
//!
//! Caveats:
//! - Each browser sees only the message of its own latest sign-up: the page never lists the
//!   outbox, which holds other visitors' addresses.
//! - Whoever signs up here gets the link without owning the address, so on the demo a
//!   confirmation proves nothing. That is why the page and the cookie exist only in demo
//!   mode; a real site's mailer takes the messages from `GET /register/outbox` (admin).

use axum::http::{HeaderMap, HeaderValue};
use maud::{DOCTYPE, PreEscaped, html};

use super::confirm::VALID_FOR;
use super::outbox::Message;

/// The cookie that names the visitor's own confirmation message.
pub const COOKIE: &str = "consent_demo_mail";

/// The `Set-Cookie` value naming `token`, or `None` if it cannot be a header (a token is
/// base64url, so it always can).
#[must_use]
pub fn set_cookie(token: &str) -> Option<HeaderValue> {
    let value = format!(
        "{COOKIE}={token}; Path=/demo/mail; HttpOnly; SameSite=Strict; Max-Age={}",
        VALID_FOR.whole_seconds()
    );
    HeaderValue::from_str(&value).ok()
}

/// The token the visitor's cookie names, if any.
#[must_use]
pub fn token(headers: &HeaderMap) -> Option<String> {
    consent_gate::cookie_headers(headers).find_map(|h| {
        h.split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == COOKIE)
            .map(|(_, value)| value.to_owned())
            .filter(|t| !t.is_empty())
    })
}

/// The message among `messages` whose link carries `token`.
#[must_use]
pub fn find<'m>(messages: &'m [Message], token: &str) -> Option<&'m Message> {
    messages.iter().find(|m| {
        m.link
            .rsplit_once("token=")
            .is_some_and(|(_, t)| t == token)
    })
}

/// The page: the message, or how to get one.
#[must_use]
pub fn page(message: Option<&Message>) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Demo mailbox" }
                style { (PreEscaped(super::confirm_page::STYLE)) }
            }
            body { main {
                h1 { "Demo mailbox" }
                p { "This demo sends no e-mail or text messages. Here is the confirmation message its mailer would have sent after your sign-up." }
                @match message {
                    Some(m) => {
                        dl class="demo-mail" {
                            dt { "To" } dd { (m.to) }
                            dt { "Subject" } dd { "Please confirm your subscription" }
                            dt { "Link" } dd { a href=(m.link) { (m.link) } }
                        }
                        p { "Open the link and confirm: only then is your consent recorded." }
                    }
                    None => p role="status" {
                        "No confirmation message is waiting for this browser: sign up on the "
                        a href="/en/newsletter" { "newsletter page" } " first (links expire after 48 hours)."
                    },
                }
            } }
        }
    }
    .into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(token: &str) -> Message {
        Message {
            id: 1,
            to: "<b>maija@example.fi</b>".into(),
            link: format!("https://klinikka.fi/register/confirm?token={token}"),
            expires: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_cookie_names_the_visitors_own_message_only() {
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::COOKIE,
            HeaderValue::from_static("consent=1.x; consent_demo_mail=abc"),
        );
        assert_eq!(token(&headers), Some("abc".to_owned()));
        let messages = [message("abcd"), message("abc")];
        assert_eq!(
            find(&messages, "abc").map(|m| m.link.as_str()),
            Some(messages[1].link.as_str())
        );
        assert!(find(&messages, "ab").is_none());
        assert_eq!(token(&HeaderMap::new()), None);
        let cookie = set_cookie("abc").expect("a header");
        assert!(
            cookie
                .to_str()
                .is_ok_and(|c| c.contains("Path=/demo/mail; HttpOnly"))
        );
    }

    #[test]
    fn the_page_escapes_what_it_shows() {
        let html = page(Some(&message("abc")));
        assert!(html.contains("&lt;b&gt;maija@example.fi"), "{html}");
        assert!(page(None).contains("No confirmation message"));
        // The link (a 150-character token) breaks instead of widening a phone's page.
        assert!(html.contains(super::super::confirm_page::STYLE));
    }
}
