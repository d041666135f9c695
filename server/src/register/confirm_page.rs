//! The pages a confirmation link opens: a button that confirms (a link scanner's `GET` must
//! not), and what came of it. In the visitor's language, escaped by maud.

use consent_core::Lang;
use maud::{DOCTYPE, Markup, PreEscaped, html};

/// The page's phrases in one language.
struct Phrases {
    title: &'static str,
    ask: &'static str,
    button: &'static str,
    done: &'static str,
    invalid: &'static str,
    expired: &'static str,
    superseded: &'static str,
    failed: &'static str,
}

const fn phrases(lang: Lang) -> Phrases {
    match lang {
        Lang::Fi => Phrases {
            title: "Vahvista suoramarkkinointisuostumus",
            ask: "Vahvista, että haluat vastaanottaa tarjouksia ja uutisia tilaamillasi tavoilla.",
            button: "Vahvistan tilauksen",
            done: "Kiitos! Suostumuksesi on vahvistettu ja tallennettu. Voit perua sen milloin tahansa.",
            invalid: "Tämä vahvistuslinkki ei ole voimassa.",
            expired: "Vahvistuslinkki on vanhentunut. Tilaa uudelleen.",
            superseded: "Linkki on jo käytetty, tai olet sen jälkeen ilmoittanut toisin. Mitään ei muutettu.",
            failed: "Vahvistus ei onnistunut. Yritä myöhemmin uudelleen.",
        },
        Lang::Sv => Phrases {
            title: "Bekräfta samtycke till direktmarknadsföring",
            ask: "Bekräfta att du vill få erbjudanden och nyheter på de sätt du valde.",
            button: "Jag bekräftar prenumerationen",
            done: "Tack! Ditt samtycke är bekräftat och sparat. Du kan återkalla det när som helst.",
            invalid: "Den här bekräftelselänken gäller inte.",
            expired: "Bekräftelselänken har gått ut. Prenumerera igen.",
            superseded: "Länken har redan använts, eller så har du meddelat något annat efteråt. Inget ändrades.",
            failed: "Bekräftelsen lyckades inte. Försök igen senare.",
        },
        Lang::En => Phrases {
            title: "Confirm your consent to direct marketing",
            ask: "Please confirm that you want offers and news in the ways you chose.",
            button: "I confirm my subscription",
            done: "Thank you! Your consent is confirmed and recorded. You can withdraw it at any time.",
            invalid: "This confirmation link is not valid.",
            expired: "This confirmation link has expired. Please subscribe again.",
            superseded: "This link was already used, or you told us otherwise since. Nothing was changed.",
            failed: "The confirmation did not go through. Please try again later.",
        },
    }
}

/// What came of a confirmation, for the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Recorded.
    Done,
    /// Not a link of this site.
    Invalid,
    /// Past its time.
    Expired,
    /// Used, or a later decision stands.
    Superseded,
    /// The log failed.
    Failed,
}

/// The stylesheet of the register's own pages (this one and the demo's mailbox,
/// [`super::demo_mail`]), inline: they are served without the site's stylesheet, and their
/// policy ([`crate::api`]'s page CSP) restricts no style. Without it a phone shows the
/// browser's defaults: a long word of a heading ("suoramarkkinointisuostumus") or a
/// confirmation link wider than the screen, and a button smaller than a fingertip. Dark
/// mode is the browser's own (`color-scheme`), with a button that keeps its contrast.
pub(crate) const STYLE: &str = concat!(
    ":root{color-scheme:light dark}",
    "body{font:1.0625rem/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;margin:0;padding:1rem}",
    "main{max-width:36rem;margin:1rem auto}",
    // The Finnish title is one 26-letter word: whole on a 320 px screen at this size, even in
    // a wide font (DejaVu Sans); `overflow-wrap` below breaks it only on a narrower one.
    "h1{font-size:clamp(1.0625rem,5vw,1.5rem);line-height:1.25;hyphens:auto}",
    "h1,p,dd,li{overflow-wrap:anywhere}",
    "dt{font-weight:600}dd{margin:0 0 .5rem}",
    "button{font:inherit;font-weight:600;min-height:2.75rem;padding:.5rem 1.25rem;border:0;",
    "border-radius:.375rem;background:#0b5fa5;color:#fff;cursor:pointer}",
    "button:hover{background:#084a80}",
    ":focus-visible{outline:3px solid #0b5fa5;outline-offset:2px}",
    "@media (prefers-color-scheme:dark){button{background:#8cc8ff;color:#0b1a26}",
    "button:hover{background:#b5dcff}:focus-visible{outline-color:#8cc8ff}}",
);

fn page(lang: Lang, title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang=(lang.as_str()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                main { h1 { (title) } (body) }
            }
        }
    }
    .into_string()
}

/// The page the link opens: a form that posts the token back.
#[must_use]
pub fn ask(lang: Lang, token: &str) -> String {
    let p = phrases(lang);
    page(
        lang,
        p.title,
        html! {
            p { (p.ask) }
            form method="post" action="/register/confirm" {
                input type="hidden" name="token" value=(token);
                input type="hidden" name="lang" value=(lang.as_str());
                button type="submit" { (p.button) }
            }
        },
    )
}

/// The page after the form is posted.
#[must_use]
pub fn result(lang: Lang, outcome: Outcome) -> String {
    let p = phrases(lang);
    let text = match outcome {
        Outcome::Done => p.done,
        Outcome::Invalid => p.invalid,
        Outcome::Expired => p.expired,
        Outcome::Superseded => p.superseded,
        Outcome::Failed => p.failed,
    };
    page(
        lang,
        p.title,
        html! { p role="status" data-outcome=(format!("{outcome:?}").to_lowercase()) { (text) } },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On a phone nothing is wider than the screen (the Finnish title is one long word) and
    /// the one button is big enough to press; the browser's Chromium check is by eye
    /// (screenshots), this one keeps the rules in the page.
    #[test]
    fn the_pages_fit_a_phone_and_carry_their_style() {
        for lang in [Lang::Fi, Lang::Sv, Lang::En] {
            for html in [ask(lang, "t0k3n"), result(lang, Outcome::Done)] {
                assert!(html.contains(&format!(r#"<html lang="{}">"#, lang.as_str())));
                assert!(html.contains(r#"content="width=device-width, initial-scale=1""#));
                assert!(html.contains(&format!("<style>{STYLE}</style>")), "{html}");
            }
        }
        assert!(STYLE.contains("h1,p,dd,li{overflow-wrap:anywhere}"));
        assert!(STYLE.contains("min-height:2.75rem"));
        assert!(STYLE.contains("color-scheme:light dark"));
    }
}
