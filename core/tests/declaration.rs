//! Snapshots of the cookie declaration of the example config in every language and format,
//! and what untrusted config text turns into.
//!
//! The snapshots under `tests/snapshots/` were read and checked by a person: update them
//! with `cargo insta review` (or `INSTA_UPDATE=always`) and read the diff.

use consent_core::declaration::{Declaration, Format};
use consent_core::{Config, Lang};

fn example() -> Config {
    Config::from_json(consent_core::EXAMPLE_CONFIG).unwrap_or_else(|e| unreachable!("{e}"))
}

fn render(config: &Config, lang: Lang, format: Format) -> String {
    Declaration::new(config, lang, None)
        .unwrap_or_else(|e| unreachable!("{e}"))
        .render(format)
}

#[test]
fn example_in_every_language_and_format() {
    let config = example();
    for lang in Lang::ALL {
        for format in Format::ALL {
            let name = format!("example_{lang}_{format}");
            insta::assert_snapshot!(name, render(&config, lang, format));
        }
    }
}

#[test]
fn json_is_the_same_content_as_data() {
    let config = example();
    let json: serde_json::Value = serde_json::from_str(&render(&config, Lang::Fi, Format::Json))
        .unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(json["lang"], "fi");
    assert_eq!(json["revision"], 1);
    assert_eq!(json["date"], "2026-11-01");
    let ga = &json["categories"][1]["services"][0];
    assert_eq!(ga["id"], "ga");
    assert_eq!(ga["transfer"]["safeguard"], "dpf");
    assert_eq!(ga["cookies"][0]["lifetime"], "13mo");
    assert_eq!(ga["cookies"][0]["lifetime_text"], "13 kuukautta");
    assert_eq!(json["categories"][0]["necessary"], true);
}

/// A config whose every free-text field tries to break out of its place.
const HOSTILE: &str = r##"{
  "revision": 3,
  "languages": ["en"],
  "privacy_notice": "/privacy",
  "categories": [
    {"id": "necessary"},
    {"id": "research",
     "title": {"en": "<img src=x onerror=alert(1)>"},
     "description": {"en": "# Not a heading\n| not | a row |"},
     "services": [{
       "id": "evil",
       "name": "Evil \"Co\" & <b>Sons</b>",
       "provider": "[click](javascript:alert(1))",
       "purpose": {"en": "1. not a list *nor emphasis* `nor code`"},
       "privacy_url": "https://example.com/a?b=1&c='2'",
       "hosts": ["cdn.example.com"],
       "transfer": {"outside_eea": true, "safeguard": "scc",
                    "countries": {"en": "</dd><script>alert(1)</script>"}},
       "cookies": [{"name": "a|b`c", "lifetime": "session",
                    "description": {"en": "<!-- x --> & 'quoted'"}}]
     }]}
  ]
}"##;

#[test]
fn untrusted_text_stays_text() {
    let config = Config::from_json(HOSTILE).unwrap_or_else(|e| unreachable!("{e}"));
    let html = render(&config, Lang::En, Format::Html);
    for bad in ["<img", "<b>", "<script", "<!--", "</dd><"] {
        assert!(!html.contains(bad), "{bad} in {html}");
    }
    insta::assert_snapshot!("hostile_en_html", html);
    let md = render(&config, Lang::En, Format::Markdown);
    assert!(!md.contains("[click](javascript"), "{md}");
    assert!(!md.contains("| not | a row |"), "{md}");
    insta::assert_snapshot!("hostile_en_md", md);
}
