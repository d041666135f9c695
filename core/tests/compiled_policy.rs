//! The rules over a compiled policy give the answers they give over its config: every step
//! the banner takes (evaluate, decide, the cookie line, the deletions, which element loads),
//! for arbitrary stored cookies, actions, signals, pages and present cookies.

mod common;

use common::*;
use consent_core::compile::compile;
use consent_core::compiled::CompiledPolicy;
use consent_core::decision::{self, Action};
use consent_core::policy::{self, Context, Signals};
use consent_core::{Choices, Config, ConsentId, Lang, Token};
use proptest::prelude::*;

fn configs() -> Vec<Config> {
    vec![
        config(),
        config_with(|v| {
            v["honour_dnt"] = true.into();
            v["site"] = "klinikka.fi".into();
            v["lifetime"] = serde_json::json!({"accept_days": 30, "refuse_days": 7});
            v["cookie"] = serde_json::json!({"name": "cc", "domain": "klinikka.fi", "path": "/", "same_site": "strict"});
            v["categories"][1]["services"][0]["cookies"][0]["path"] = "/blog".into();
            v["categories"][1]["services"][0]["cookies"][0]["domain"] = ".klinikka.fi".into();
        }),
    ]
}

fn action(config: &Config, kind: u8, bits: u32) -> Action {
    let mut choices = Choices::none();
    for (ci, _) in config.indexed_categories() {
        if bits & (1 << ci.get()) != 0 {
            choices = choices.with_category(config, ci, true);
        }
    }
    match kind % 5 {
        0 => Action::AcceptAll,
        1 => Action::RejectAll,
        2 => Action::Custom(choices),
        3 => Action::Grant(choices),
        _ => Action::Gpc,
    }
}

const ELEMENTS: [(&str, Option<&str>); 9] = [
    ("necessary", None),
    ("analytics", None),
    ("analytics", Some("ga")),
    ("marketing", Some("facebook-pixel")),
    ("marketing", Some("google-ads")),
    ("!marketing", None),
    ("! analytics", Some("ga")),
    ("nosuch", None),
    ("marketing", Some("nosuch")),
];
const PATHS: [&str; 4] = ["/", "/ajanvaraus", "/en/booking?x", "/blog/a"];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn compiled_and_config_answer_alike(
        which in 0usize..2,
        steps in proptest::collection::vec((0u8..5, any::<u32>(), any::<bool>(), any::<bool>()), 1..5),
        junk in proptest::option::of("[ -~]{0,80}"),
        days in 0i64..400,
    ) {
        let config = &configs()[which];
        let bytes = compile(config).expect("compiles");
        let compiled = CompiledPolicy::parse(&bytes).expect("parses");
        let now = t0();
        // Whatever the cookie holds, even junk, is judged alike.
        if let Some(junk) = &junk {
            let signals = Signals { gpc: junk.len() % 2 == 0, dnt: true };
            prop_assert_eq!(
                policy::evaluate(config, Some(junk), None, now, signals),
                policy::evaluate(&compiled, Some(junk), None, now, signals)
            );
        }
        let mut token: Option<String> = None;
        let mut here = Choices::none();
        for (i, (kind, bits, gpc, dnt)) in steps.into_iter().enumerate() {
            let at = now + time::Duration::days(days * i as i64);
            let signals = Signals { gpc, dnt };
            let a = policy::evaluate(config, token.as_deref(), None, at, signals);
            let b = policy::evaluate(&compiled, token.as_deref(), None, at, signals);
            prop_assert_eq!(a, b);
            for (category, service) in ELEMENTS {
                for path in PATHS {
                    prop_assert_eq!(
                        a.allows_element(config, category, service, path, here),
                        b.allows_element(&compiled, category, service, path, here),
                        "{} {:?} {}", category, service, path
                    );
                }
            }
            let ctx = Context { now: at, signals, lang: Lang::ALL[i % 3], fresh_id: ConsentId::from_bytes([i as u8; 16]) };
            let act = action(config, kind, bits);
            let x = decision::make(config, &a, act, ctx, None).expect("in range");
            let y = decision::make(&compiled, &b, act, ctx, None).expect("in range");
            prop_assert_eq!(x, y);
            for secure in [false, true] {
                prop_assert_eq!(x.cookie_line(config, secure), y.cookie_line(&compiled, secure));
            }
            let present = ["_ga", "_ga_X1", "_gcl_au", "_fbp", "lang", "cc", "consent"];
            for host in ["www.klinikka.fi", "localhost", "127.0.0.1"] {
                prop_assert_eq!(
                    x.clear_lines(config, present, host),
                    y.clear_lines(&compiled, present, host)
                );
            }
            prop_assert_eq!(policy::expires(config, x.state()), policy::expires(&compiled, y.state()));
            here = here.union(&x.revoked());
            token = Some(Token::unsigned(*x.state()).to_string());
        }
    }
}
