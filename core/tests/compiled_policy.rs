//! The rules over a compiled policy give the answers they give over its config: every step
//! the banner takes (evaluate, decide, the cookie line, the deletions, which element loads),
//! for arbitrary stored cookies, actions, signals, pages and present cookies.
//! And every config that validates, of arbitrary categories, services, cookies and
//! exclude_paths, compiles to a policy that reads back as the config.

mod common;

use common::*;
use consent_core::compile::compile;
use consent_core::compiled::{CompiledPolicy, exclude_path_key};
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
            prop_assert_eq!(policy::expires::<i64, _>(config, x.state()), policy::expires::<i64, _>(&compiled, y.state()));
            here = here.union(&x.revoked());
            token = Some(Token::unsigned(*x.state()).to_string());
        }
    }
}

/// A string of `chars` (a regex class) of `len` bytes: ASCII, so bytes and chars agree.
fn ascii(class: &'static str, len: std::ops::RangeInclusive<usize>) -> BoxedStrategy<String> {
    proptest::string::string_regex(&format!("{class}{{{},{}}}", len.start(), len.end()))
        .unwrap_or_else(|e| unreachable!("{class}: {e:?}"))
        .boxed()
}

/// A declared cookie: names, paths and domains valid or not, near the limits or far past.
fn cookie_json() -> impl Strategy<Value = serde_json::Value> {
    let name = prop_oneof![
        40 => ascii("[A-Za-z0-9_]", 1..=12),
        10 => ascii("[A-Za-z0-9_]", 1..=8).prop_map(|n| format!("{n}*")),
        1 => ascii("[A-Za-z0-9_;= .*]", 0..=210),
    ];
    let path = prop::option::of(prop_oneof![
        40 => ascii("/[a-z0-9/]", 0..=40),
        1 => ascii("[a-z/;]", 0..=8)
    ]);
    let domain = prop::option::of(prop_oneof![
        20 => Just("klinikka.fi".to_owned()),
        20 => Just(".klinikka.fi".to_owned()),
        1 => ascii("[a-z.]", 0..=20)
    ]);
    (name, path, domain).prop_map(|(name, path, domain)| {
        let mut c = serde_json::json!({"name": name, "lifetime": "1y", "description": {"fi": "x", "sv": "x", "en": "x"}});
        if let Some(p) = path {
            c["path"] = p.into();
        }
        if let Some(d) = domain {
            c["domain"] = d.into();
        }
        c
    })
}

/// A service with the example's texts and arbitrary cookies and exclude_paths.
fn service_json() -> impl Strategy<Value = serde_json::Value> {
    let paths = prop::collection::vec(
        prop_oneof![
            500 => ascii("/[a-z0-9-]", 0..=250),
            1 => ascii("/[a-z0-9/%-]", 0..=250),
            1 => ascii("[a-z/?# ]", 0..=5)
        ],
        0..=64,
    );
    (prop::collection::vec(cookie_json(), 0..=4), paths).prop_map(|(cookies, paths)| {
        let text = serde_json::json!({"fi": "x", "sv": "x", "en": "x"});
        serde_json::json!({
            "id": "s", "name": "S", "provider": "P", "purpose": text,
            "cookies": cookies, "exclude_paths": paths,
        })
    })
}

/// The example config with arbitrary categories of arbitrary services after `necessary`, and
/// an arbitrary site and consent cookie: many valid, many not, some too large to compile.
fn config_json() -> impl Strategy<Value = serde_json::Value> {
    let categories = prop::collection::vec(prop::collection::vec(service_json(), 0..=6), 0..=8);
    let site = prop::option::of(ascii("[a-z0-9.]", 1..=64));
    let cookie_name = ascii("[A-Za-z_-]", 1..=30);
    (categories, site, cookie_name).prop_map(|(categories, site, cookie_name)| {
        let mut v: serde_json::Value = serde_json::from_str(consent_core::EXAMPLE_CONFIG)
            .unwrap_or_else(|e| unreachable!("{e}"));
        let mut all = vec![v["categories"][0].clone()];
        let mut n = 0;
        for (i, services) in categories.into_iter().enumerate() {
            let text = serde_json::json!({"fi": "x", "sv": "x", "en": "x"});
            let services: Vec<_> = services
                .into_iter()
                .map(|mut s| {
                    n += 1;
                    s["id"] = format!("s{n}").into();
                    s
                })
                .collect();
            all.push(serde_json::json!({
                "id": format!("k{i}"), "title": text, "description": text, "services": services,
            }));
        }
        v["categories"] = all.into();
        if let Some(site) = site {
            v["site"] = site.into();
        }
        v["cookie"]["name"] = cookie_name.into();
        v
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Every config that validates compiles, and the browser reads back from the compiled
    /// policy what the config says; one that does not validate says why, never panics.
    #[test]
    fn every_valid_config_compiles_and_reads_back(v in config_json()) {
        let Ok(c) = Config::from_value(&v) else {
            return Ok(());
        };
        let bytes = compile(&c).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let p = CompiledPolicy::parse(&bytes).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        let (cookie, want) = (p.cookie(), c.cookie());
        prop_assert_eq!(
            (p.fingerprint(), p.site(), p.endpoint(), cookie.name, cookie.path, cookie.domain),
            (c.fingerprint(), c.site(), c.endpoint(), want.name(), want.path(), want.domain())
        );
        // Each service as the browser reads it: id, category, exclude_paths, cookies.
        let got: Vec<_> = p
            .services()
            .map(|e| {
                let paths: Vec<Vec<u8>> = e.exclude_paths().map(|p| p.as_bytes().to_vec()).collect();
                let cookies: Vec<_> = e.cookies().map(|k| (k.name, k.path, k.domain)).collect();
                (e.id, e.category, paths, cookies)
            })
            .collect();
        let want: Vec<_> = c
            .services()
            .map(|(_, ci, s)| {
                // Each as the rule compares it: the compiler stores that.
                let paths: Vec<Vec<u8>> = s
                    .exclude_paths()
                    .iter()
                    .map(|x| exclude_path_key(x).collect())
                    .collect();
                let cookies: Vec<_> = s
                    .cookies()
                    .iter()
                    .map(|k| (k.name().as_str(), k.path(), k.domain()))
                    .collect();
                (s.id().as_str(), ci, paths, cookies)
            })
            .collect();
        prop_assert_eq!(got, want);
        prop_assert!(p.categories().map(|e| e.id).eq(c.categories().iter().map(|k| k.id().as_str())));
    }
}
