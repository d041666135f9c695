//! What the page layer's benchmarks share (`benches/page.rs`, `examples/page_load.rs`): a
//! realistic 50 kB page, the site's config and key, and a returning visitor's signed cookie.

// Each user takes the parts it needs.
#![allow(dead_code, unreachable_pub)]

use consent_core::policy::{self, Action, Context, Signals};
use consent_core::{Config, ConsentId, Lang, SigningKey, Token};
use time::OffsetDateTime;

/// The page's size, give or take a paragraph.
pub const PAGE_BYTES: usize = 50_000;

/// consent-core's example config: three categories, four services, three languages and
/// Consent Mode on (so a rewritten page also gets its `default` and `update` script).
pub fn config() -> Config {
    Config::from_json(consent_core::EXAMPLE_CONFIG).expect("the example config is valid")
}

/// The site's signing key.
pub fn key() -> SigningKey {
    SigningKey::new(&[7; 32]).expect("32 bytes is long enough")
}

/// A `Cookie` header as a returning visitor who accepted everything sends it: the signed
/// consent cookie among a site's usual others.
pub fn decided_cookie(config: &Config, key: &SigningKey) -> String {
    let now = OffsetDateTime::now_utc();
    let before = policy::evaluate(config, None, None, now, Signals::default());
    let ctx = Context {
        now,
        signals: Signals::default(),
        lang: Lang::Fi,
        fresh_id: ConsentId::from_bytes([8; 16]),
    };
    let d = policy::decide(config, &before, Action::AcceptAll, ctx).expect("in range");
    let token = Token::signed(*d.state(), key);
    format!(
        "_ga=GA1.1.1234567890.1700000000; _ga_ABC123=GS1.1.1700000000.1.1.1700000100.0.0.0; \
         consent={token}; session=7f3a9c2e51b84d06a1e2f3c4d5b6a7980; lang=fi"
    )
}

/// A Cookie header with the site's other cookies and no decision: a new visitor's.
pub const UNDECIDED_COOKIE: &str = "session=7f3a9c2e51b84d06a1e2f3c4d5b6a7980; lang=fi";

/// A clinic's article page of about [`PAGE_BYTES`]: a `<head>` with stylesheets, meta
/// tags, JSON-LD, the banner's two tags, three gated scripts (one inline) and the site's own
/// scripts; a `<body>` with navigation, an article of paragraphs, lists, images and a
/// table, a gated video iframe and a gated pixel, a footer and inline scripts. What the
/// layer reads (every `<script>`, `<img>` and `<iframe>`, `<html>`, `<head>`, `<body>`)
/// appears about as often as on a real page.
pub fn page() -> String {
    let mut p = String::with_capacity(PAGE_BYTES + 4096);
    p.push_str(HEAD);
    p.push_str(NAV);
    p.push_str("<main id=\"content\"><article class=\"post\">\n<h1>Hammashoito koiralle ja kissalle</h1>\n");
    let mut i = 0;
    while p.len() + FOOTER.len() < PAGE_BYTES {
        p.push_str(&section(i));
        i += 1;
    }
    p.push_str("</article></main>\n");
    p.push_str(FOOTER);
    p
}

fn section(i: usize) -> String {
    let mut s = format!(
        "<section id=\"s{i}\" class=\"section section--{kind}\">\n<h2>Osio {i}: hampaiden hoito kotona</h2>\n",
        kind = ["text", "media", "list"][i % 3]
    );
    for j in 0..3 {
        s.push_str(&format!(
            "<p class=\"lead-{j}\">Lemmikin hampaat kaipaavat hoitoa siinä missä omistajankin. \
             <a href=\"/palvelut/hammashoito#k{i}{j}\" title=\"Hammashoito\">Hammaskiven poisto</a> \
             tehdään nukutuksessa, ja ennen sitä eläinlääkäri tutkii suun. <strong>Varaa aika</strong> \
             verkossa tai soita; päivystys palvelee joka päivä. Kotona hampaita voi harjata \
             <em>lemmikeille tarkoitetulla</em> tahnalla kolmesti viikossa.</p>\n"
        ));
    }
    match i % 3 {
        0 => s.push_str(&format!(
            "<figure><img src=\"/kuvat/hampaat-{i}.webp\" srcset=\"/kuvat/hampaat-{i}@2x.webp 2x\" \
             width=\"800\" height=\"450\" loading=\"lazy\" decoding=\"async\" alt=\"Koiran hampaat tarkastuksessa\">\
             <figcaption>Tarkastus vastaanotolla.</figcaption></figure>\n"
        )),
        1 => s.push_str(&format!(
            "<ul class=\"checklist\"><li>Harjaa hampaat</li><li>Tarkista ikenet</li>\
             <li>Anna purutikku</li><li><a href=\"/ajanvaraus?palvelu=hammas&amp;r={i}\">Varaa tarkastus</a></li></ul>\n\
             <table class=\"prices\"><thead><tr><th>Palvelu</th><th>Hinta</th></tr></thead><tbody>\
             <tr><td>Suun tutkimus</td><td>65 €</td></tr><tr><td>Hammaskiven poisto</td><td>290 €</td></tr>\
             </tbody></table>\n"
        )),
        _ => s.push_str(&format!(
            "<div class=\"cta\" data-track=\"cta-{i}\"><button type=\"button\" class=\"btn\" \
             onclick=\"book({i})\">Varaa aika</button></div>\n"
        )),
    }
    if i == 4 {
        s.push_str(
            "<iframe data-category=\"marketing\" data-service=\"google-ads\" \
             data-src=\"https://www.youtube-nocookie.com/embed/x1y2z3\" width=\"560\" height=\"315\" \
             title=\"Video\" allowfullscreen></iframe>\n",
        );
    }
    s.push_str("</section>\n");
    s
}

const HEAD: &str = r#"<!doctype html>
<html lang="fi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hammashoito koiralle ja kissalle | Kuopion Eläinlääkärikeskus</title>
<meta name="description" content="Lemmikin hampaiden hoito: tarkastus, hammaskiven poisto ja kotihoito.">
<link rel="canonical" href="https://klinikka.fi/palvelut/hammashoito">
<link rel="alternate" hreflang="sv" href="https://klinikka.fi/sv/tjanster/tandvard">
<link rel="alternate" hreflang="en" href="https://klinikka.fi/en/services/dental">
<meta property="og:title" content="Hammashoito koiralle ja kissalle">
<meta property="og:image" content="https://klinikka.fi/kuvat/og-hampaat.jpg">
<link rel="preload" href="/fonts/inter-var.woff2" as="font" type="font/woff2" crossorigin>
<link rel="stylesheet" href="/css/site.3f9a2c.css">
<link rel="stylesheet" href="/consent/consent.css">
<script type="application/ld+json">{"@context":"https://schema.org","@type":"VeterinaryCare","name":"Kuopion Eläinlääkärikeskus","telephone":"+358 17 123 4567","address":{"@type":"PostalAddress","streetAddress":"Kauppakatu 1","addressLocality":"Kuopio","postalCode":"70100"}}</script>
<script type="text/plain" data-category="analytics" data-service="ga" data-src="https://www.googletagmanager.com/gtag/js?id=G-ABC123" async></script>
<script type="text/plain" data-category="analytics" data-service="ga">window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}gtag('js',new Date());gtag('config','G-ABC123');</script>
<script type="text/plain" data-category="marketing" data-service="facebook-pixel" data-src="https://connect.facebook.net/en_US/fbevents.js" async></script>
<script type="module" src="/consent/consent.js"></script>
<script src="/js/site.8b1e4d.js" defer></script>
</head>
<body class="page page--article">
"#;

const NAV: &str = r##"<a class="skip" href="#content">Siirry sisältöön</a>
<header class="site-header"><a class="logo" href="/"><img src="/kuvat/logo.svg" width="160" height="40" alt="Kuopion Eläinlääkärikeskus"></a>
<nav aria-label="Päävalikko"><ul>
<li><a href="/palvelut">Palvelut</a></li><li><a href="/palvelut/rokotukset">Rokotukset</a></li>
<li><a href="/palvelut/hammashoito" aria-current="page">Hammashoito</a></li><li><a href="/palvelut/kirurgia">Kirurgia</a></li>
<li><a href="/palvelut/laboratorio">Laboratorio</a></li><li><a href="/hinnasto">Hinnasto</a></li>
<li><a href="/ajanvaraus">Ajanvaraus</a></li><li><a href="/yhteystiedot">Yhteystiedot</a></li>
<li><a href="/sv/">På svenska</a></li><li><a href="/en/">In English</a></li>
</ul></nav></header>
"##;

const FOOTER: &str = r#"<img data-category="marketing" data-service="facebook-pixel" data-src="https://www.facebook.com/tr?id=123&amp;ev=PageView&amp;noscript=1" width="1" height="1" alt="">
<footer class="site-footer"><p>Kuopion Eläinlääkärikeskus · Kauppakatu 1, 70100 Kuopio · <a href="tel:+358171234567">017 123 4567</a></p>
<p><a href="/tietosuoja">Tietosuoja</a> · <button type="button" data-consent-open>Evästeasetukset</button></p></footer>
<script>document.documentElement.classList.add('js');</script>
<script>window.addEventListener('load',function(){document.body.classList.add('loaded')});</script>
</body>
</html>
"#;
