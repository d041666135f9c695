//! Property tests: the token codec round-trips and never panics, and the policy's invariants
//! hold for any sequence of decisions.

// Strategies run outside #[test] functions, where clippy's in-test allowances do not reach.
#![allow(clippy::expect_used)]

mod common;

use common::*;
use consent_core::policy::{self, Action, Context, Signals, StoredStatus};
use consent_core::{Choices, Config, ConsentId, Gate, Lang, SigningKey, Token};
use proptest::prelude::*;
use time::OffsetDateTime;

fn action(config: &Config) -> impl Strategy<Value = Action> + use<> {
    let (n_cat, n_svc) = (config.categories().len(), config.service_count());
    let config = config.clone();
    prop_oneof![
        Just(Action::AcceptAll),
        Just(Action::RejectAll),
        Just(Action::Gpc),
        (
            proptest::bits::u32::between(0, n_cat),
            proptest::bits::u32::between(0, n_svc)
        )
            .prop_map(move |(cats, svcs)| {
                let mut c = Choices::none();
                for i in 0..n_cat {
                    if let Some(idx) = config.category_index(config.categories()[i].id().as_str()) {
                        c = c.with_category(&config, idx, cats & (1 << i) != 0);
                    }
                }
                for (s, _, _) in config.services() {
                    if svcs & (1 << s.get()) == 0 {
                        c = c.with_service(s, false);
                    }
                }
                Action::Custom(c)
            }),
    ]
}

fn signals() -> impl Strategy<Value = Signals> {
    (any::<bool>(), any::<bool>()).prop_map(|(gpc, dnt)| Signals { gpc, dnt })
}

fn lang() -> impl Strategy<Value = Lang> {
    prop_oneof![Just(Lang::Fi), Just(Lang::Sv), Just(Lang::En)]
}

/// A time between 2020 and 2099.
fn time() -> impl Strategy<Value = OffsetDateTime> {
    (1_577_836_800i64..4_000_000_000)
        .prop_map(|t| OffsetDateTime::from_unix_timestamp(t).expect("in range"))
}

fn context() -> impl Strategy<Value = Context> {
    (time(), signals(), lang(), any::<[u8; 16]>()).prop_map(|(now, signals, lang, id)| Context {
        now,
        signals,
        lang,
        fresh_id: ConsentId::from_bytes(id),
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn token_print_parse_round_trip(action in action(&config()), ctx in context(), signed in any::<bool>()) {
        let config = config();
        let before = policy::evaluate(&config, None, None, ctx.now, ctx.signals);
        let d = policy::decide(&config, &before, action, ctx).expect("time in range");
        let key = SigningKey::new(&[9; 32]).expect("key");
        let token = if signed { Token::signed(*d.state(), &key) } else { Token::unsigned(*d.state()) };
        let text = token.to_string();
        prop_assert!(text.len() <= 100);
        prop_assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
        let back: Token = text.parse().expect("own output parses");
        prop_assert_eq!(back, token);
        prop_assert_eq!(back.to_string(), text.clone());
        if signed {
            prop_assert!(Token::parse_verified(&text, Some(&key)).is_ok());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_never_grant(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let config = config();
        let s = String::from_utf8_lossy(&bytes);
        let _ = s.parse::<Token>();
        let e = policy::evaluate(&config, Some(&s), None, t0(), Signals::default());
        if e.status() != StoredStatus::Valid {
            prop_assert_eq!(e.allowed(), config.necessary_only());
        }
        let gate = Gate::new(&config, None);
        let v = gate.check(Some(&format!("a=b; consent={s}")), Some(&s), t0());
        if v.status() != StoredStatus::Valid {
            prop_assert_eq!(v.allowed(), config.necessary_only());
        }
    }

    #[test]
    fn a_mutated_token_never_grants_more_than_a_valid_decision(action in action(&config()), ctx in context(), at in 0usize..80, to in any::<u8>()) {
        // With a key, any single-byte change of a signed token is refused.
        let config = config();
        let key = SigningKey::new(&[5; 32]).expect("key");
        let before = policy::evaluate(&config, None, None, ctx.now, ctx.signals);
        let d = policy::decide(&config, &before, action, ctx).expect("time in range");
        let mut bytes = Token::signed(*d.state(), &key).to_string().into_bytes();
        let at = at % bytes.len();
        prop_assume!(bytes[at] != to);
        bytes[at] = to;
        let s = String::from_utf8_lossy(&bytes);
        let e = policy::evaluate(&config, Some(&s), Some(&key), ctx.now, ctx.signals);
        prop_assert!(matches!(e.status(), StoredStatus::Malformed(_)), "{:?}", e.status());
        prop_assert_eq!(e.allowed(), config.necessary_only());
    }

    #[test]
    fn allowed_is_never_more_than_granted(actions in proptest::collection::vec((action(&config()), signals()), 1..6), start in time(), steps in proptest::collection::vec(0i64..400, 6)) {
        // Over any sequence of decisions and page views: what the policy allows is within
        // what the last decision granted, and within necessary when nothing is valid.
        let config = config();
        let mut token: Option<String> = None;
        let mut now = start;
        for (i, (action, signals)) in actions.into_iter().enumerate() {
            now += time::Duration::days(steps[i]);
            prop_assume!(now.unix_timestamp() < 4_102_444_800);
            let e = policy::evaluate(&config, token.as_deref(), None, now, signals);
            match e.state().filter(|_| e.status() == StoredStatus::Valid) {
                Some(state) => prop_assert!(e.allowed().is_subset_of(&state.choices())),
                None => prop_assert_eq!(e.allowed(), config.necessary_only()),
            }
            let ctx = Context { now, signals, lang: Lang::Sv, fresh_id: ConsentId::from_bytes([i as u8; 16]) };
            let d = policy::decide(&config, &e, action, ctx).expect("in range");
            // A withdrawal denies at once: nothing revoked is allowed by the new token.
            let t = Token::unsigned(*d.state()).to_string();
            let after = policy::evaluate(&config, Some(&t), None, now, signals);
            prop_assert_eq!(after.status(), StoredStatus::Valid);
            prop_assert!(after.allowed().minus(&d.revoked()) == after.allowed());
            prop_assert!(after.allowed().is_subset_of(&d.state().choices()));
            // Nothing beyond necessary without an explicit grant.
            if matches!(action, Action::RejectAll | Action::Gpc) {
                prop_assert_eq!(after.allowed(), config.necessary_only());
            }
            // GPC: marketing only when granted while the signal was present.
            let marketing = cat(&config, "marketing");
            if signals.gpc && after.allows_category(marketing) {
                prop_assert!(d.state().gpc() && matches!(action, Action::Custom(_)));
            }
            token = Some(t);
        }
    }

    #[test]
    fn a_new_revision_shows_the_banner(action in action(&config()), ctx in context(), bump in 1u32..1000) {
        let config = config();
        let before = policy::evaluate(&config, None, None, ctx.now, ctx.signals);
        let d = policy::decide(&config, &before, action, ctx).expect("in range");
        let token = Token::unsigned(*d.state()).to_string();
        let newer = config_with(|v| v["revision"] = (1 + bump).into());
        let e = policy::evaluate(&newer, Some(&token), None, ctx.now, ctx.signals);
        prop_assert_eq!(e.status(), StoredStatus::OlderRevision);
        prop_assert!(e.show_banner());
        prop_assert_eq!(e.allowed(), newer.necessary_only());
    }

    #[test]
    fn an_expired_decision_shows_the_banner_and_allows_only_necessary(action in action(&config()), ctx in context(), extra in 0i64..10_000) {
        let config = config();
        let before = policy::evaluate(&config, None, None, ctx.now, ctx.signals);
        let d = policy::decide(&config, &before, action, ctx).expect("in range");
        let token = Token::unsigned(*d.state()).to_string();
        let expiry = d.state().last_decision() + time::Duration::days(182);
        let just_before = policy::evaluate(&config, Some(&token), None, expiry - time::Duration::seconds(1), ctx.signals);
        prop_assert_eq!(just_before.status(), StoredStatus::Valid);
        let e = policy::evaluate(&config, Some(&token), None, expiry + time::Duration::seconds(extra), ctx.signals);
        prop_assert_eq!(e.status(), StoredStatus::Expired);
        prop_assert!(e.show_banner());
        prop_assert_eq!(e.allowed(), config.necessary_only());
    }

    #[test]
    fn config_parser_never_panics(s in ".{0,400}") {
        let _ = Config::from_json(&s);
    }

    #[test]
    fn config_parser_never_panics_on_json_shaped_input(v in json_value()) {
        if let Err(e) = Config::from_value(&v) {
            prop_assert!(!e.problems().is_empty());
        }
    }
}

/// Arbitrary JSON biased towards the config's own keys, to reach deep validation paths.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let key = prop_oneof![
        Just("revision"),
        Just("categories"),
        Just("id"),
        Just("services"),
        Just("cookies"),
        Just("name"),
        Just("lifetime"),
        Just("fi"),
        Just("sv"),
        Just("en"),
        Just("privacy_notice"),
        Just("purpose"),
        Just("provider"),
        Just("description"),
        Just("texts"),
        Just("consent_mode"),
        Just("signals"),
        Just("languages"),
        Just("cookie"),
        Just("hosts"),
        Just("title"),
    ];
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        prop_oneof![
            Just("necessary"),
            Just("analytics"),
            Just("_ga_*"),
            Just("13mo"),
            Just("/p"),
            Just(""),
            Just("x y")
        ]
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(5, 64, 8, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(key.clone(), inner, 0..6).prop_map(|m| {
                serde_json::Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}
