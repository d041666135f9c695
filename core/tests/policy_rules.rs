//! One test per numbered rule of `consent_core::policy`.

mod common;

use common::*;
use consent_core::policy::{self, Action, Signals, StoredStatus};
use consent_core::{Choices, ConsentId, Method, SigningKey, Token, TokenError};

const NO_SIGNALS: Signals = Signals {
    gpc: false,
    dnt: false,
};
const GPC: Signals = Signals {
    gpc: true,
    dnt: false,
};

#[test]
fn rule_01_necessary_always_allowed_nothing_else_without_a_grant() {
    let config = config();
    let necessary = config.necessary_only();
    assert!(necessary.allows_category(consent_core::CategoryIndex::NECESSARY));
    assert!(necessary.allows_service(config.service_index("site").expect("site")));
    for stored in [None, Some(""), Some("junk"), Some("1.AAAA")] {
        let e = eval(&config, stored, t0(), NO_SIGNALS);
        assert_eq!(e.allowed(), necessary, "{stored:?}");
    }
    // Even a "reject all" decision keeps necessary.
    let (d, _) = decide_fresh(&config, Action::RejectAll, t0(), NO_SIGNALS);
    assert_eq!(d.state().choices(), necessary);
}

#[test]
fn rule_02_no_decision_shows_the_banner() {
    let config = config();
    let e = eval(&config, None, t0(), NO_SIGNALS);
    assert_eq!(e.status(), StoredStatus::None);
    assert!(e.show_banner());
    assert!(e.state().is_none());
}

#[test]
fn rule_03_malformed_or_untrusted_counts_as_none() {
    let config = config();
    let (_, token) = decide_fresh(&config, Action::AcceptAll, t0(), NO_SIGNALS);
    let analytics = cat(&config, "analytics");
    let truncated = &token[..token.len() - 4];
    let future = decide_fresh(&config, Action::AcceptAll, t0() + days(1), NO_SIGNALS).1;
    for bad in [truncated, "2.AAAA", "consent", &future] {
        let e = eval(&config, Some(bad), t0(), NO_SIGNALS);
        assert!(
            matches!(e.status(), StoredStatus::Malformed(_)),
            "{bad}: {:?}",
            e.status()
        );
        assert!(e.show_banner());
        assert!(!e.allows_category(analytics));
    }
    // With a key: unsigned and foreign-signed tokens are malformed; a signed one is valid.
    let key = SigningKey::new(&[1; 32]).expect("key");
    let other = SigningKey::new(&[2; 32]).expect("key");
    let state = *token.parse::<Token>().expect("token").state();
    let check = |t: &str| policy::evaluate(&config, Some(t), Some(&key), t0(), NO_SIGNALS).status();
    assert_eq!(check(&token), StoredStatus::Malformed(TokenError::Unsigned));
    assert_eq!(
        check(&Token::signed(state, &other).to_string()),
        StoredStatus::Malformed(TokenError::BadSignature)
    );
    assert_eq!(
        check(&Token::signed(state, &key).to_string()),
        StoredStatus::Valid
    );
}

#[test]
fn rule_04_another_revision_or_config_asks_again() {
    let config = config();
    let (_, token) = decide_fresh(&config, Action::AcceptAll, t0(), NO_SIGNALS);
    let bumped = config_with(|v| v["revision"] = 2.into());
    let e = eval(&bumped, Some(&token), t0(), NO_SIGNALS);
    assert_eq!(e.status(), StoredStatus::OlderRevision);
    assert!(e.show_banner());
    assert_eq!(e.allowed(), bumped.necessary_only());
    // Same revision, but a service was added without bumping it: the fingerprint differs.
    let edited = config_with(|v| {
        let svc = v["categories"][1]["services"][0].clone();
        let mut svc2 = svc.clone();
        svc2["id"] = "matomo".into();
        v["categories"][1]["services"] = serde_json::json!([svc, svc2]);
    });
    let e = eval(&edited, Some(&token), t0(), NO_SIGNALS);
    assert_eq!(e.status(), StoredStatus::OlderRevision);
    assert_eq!(e.allowed(), edited.necessary_only());
}

#[test]
fn rule_05_expiry_uses_the_accept_or_refuse_lifetime() {
    let config =
        config_with(|v| v["lifetime"] = serde_json::json!({"accept_days": 365, "refuse_days": 30}));
    let (_, accepted) = decide_fresh(&config, Action::AcceptAll, t0(), NO_SIGNALS);
    let (_, refused) = decide_fresh(&config, Action::RejectAll, t0(), NO_SIGNALS);
    let at = |token: &str, d: i64| eval(&config, Some(token), t0() + days(d), NO_SIGNALS).status();
    assert_eq!(at(&refused, 29), StoredStatus::Valid);
    assert_eq!(at(&refused, 30), StoredStatus::Expired);
    assert_eq!(at(&accepted, 364), StoredStatus::Valid);
    assert_eq!(at(&accepted, 365), StoredStatus::Expired);
    let e = eval(&config, Some(&accepted), t0() + days(400), NO_SIGNALS);
    assert!(e.show_banner());
    assert_eq!(e.allowed(), config.necessary_only());
}

#[test]
fn rule_06_valid_decision_allows_what_it_granted() {
    let config = config();
    let analytics = cat(&config, "analytics");
    let marketing = cat(&config, "marketing");
    let ads = config.service_index("google-ads").expect("ads");
    let pixel = config.service_index("facebook-pixel").expect("pixel");
    // Marketing on, but the visitor switched the pixel off; a service of a refused category
    // (ga, analytics refused) stays refused even if its bit is set.
    let ga = config.service_index("ga").expect("ga");
    let choices = Choices::none()
        .with_category(&config, marketing, true)
        .with_service(pixel, false)
        .with_service(ga, true);
    let (_, token) = decide_fresh(&config, Action::Custom(choices), t0(), NO_SIGNALS);
    let e = eval(&config, Some(&token), t0() + days(1), NO_SIGNALS);
    assert_eq!(e.status(), StoredStatus::Valid);
    assert!(!e.show_banner());
    assert!(e.allows_category(marketing));
    assert!(e.allowed().allows_service(ads));
    assert!(!e.allowed().allows_service(pixel));
    assert!(!e.allows_category(analytics));
    assert!(!e.allowed().allows_service(ga));
}

#[test]
fn rule_07_gpc_keeps_marketing_off_unless_granted_under_gpc() {
    let config = config();
    let marketing = cat(&config, "marketing");
    let analytics = cat(&config, "analytics");
    // Granted before GPC: GPC now turns marketing off, analytics stays.
    let (_, before_gpc) = decide_fresh(&config, Action::AcceptAll, t0(), NO_SIGNALS);
    let e = eval(&config, Some(&before_gpc), t0(), GPC);
    assert!(!e.allows_category(marketing));
    assert!(e.allows_category(analytics));
    // Explicitly switched on while GPC was present: it stands.
    let explicit = Choices::none().with_category(&config, marketing, true);
    let (d, under_gpc) = decide_fresh(&config, Action::Custom(explicit), t0(), GPC);
    assert!(d.state().gpc());
    assert!(eval(&config, Some(&under_gpc), t0(), GPC).allows_category(marketing));
    // DNT counts only when the config honours it.
    let dnt = Signals {
        gpc: false,
        dnt: true,
    };
    assert!(eval(&config, Some(&before_gpc), t0(), dnt).allows_category(marketing));
    let honouring = config_with(|v| v["honour_dnt"] = true.into());
    let (_, t) = decide_fresh(&honouring, Action::AcceptAll, t0(), NO_SIGNALS);
    assert!(!eval(&honouring, Some(&t), t0(), dnt).allows_category(marketing));
}

#[test]
fn rule_08_accept_reject_custom_and_gpc_decisions() {
    let config = config();
    let marketing = cat(&config, "marketing");
    let analytics = cat(&config, "analytics");
    let (d, _) = decide_fresh(&config, Action::AcceptAll, t0(), NO_SIGNALS);
    assert_eq!(d.state().choices(), config.everything());
    assert_eq!(d.state().method(), Method::AcceptAll);
    let (d, _) = decide_fresh(&config, Action::AcceptAll, t0(), GPC);
    assert!(!d.state().choices().allows_category(marketing));
    assert!(d.state().choices().allows_category(analytics));
    let (d, _) = decide_fresh(&config, Action::RejectAll, t0(), NO_SIGNALS);
    assert_eq!(
        (d.state().choices(), d.state().method()),
        (config.necessary_only(), Method::RejectAll)
    );
    let (d, _) = decide_fresh(&config, Action::Gpc, t0(), GPC);
    assert_eq!(
        (d.state().choices(), d.state().method()),
        (config.necessary_only(), Method::Gpc)
    );
    // Custom without necessary still grants necessary.
    let custom = Choices::none().with_category(&config, analytics, true);
    let (d, _) = decide_fresh(&config, Action::Custom(custom), t0(), NO_SIGNALS);
    assert_eq!(
        d.state().choices(),
        custom.with_category(&config, consent_core::CategoryIndex::NECESSARY, true)
    );
    assert_eq!(d.state().method(), Method::Custom);
}

#[test]
fn rule_09_revoking_is_a_withdrawal_that_clears_cookies() {
    let config = config();
    let marketing = cat(&config, "marketing");
    let (_, token) = decide_fresh(&config, Action::AcceptAll, t0(), NO_SIGNALS);
    let before = eval(&config, Some(&token), t0() + days(1), NO_SIGNALS);
    let keep_marketing_only = config
        .necessary_only()
        .with_category(&config, marketing, true);
    let d = policy::decide(
        &config,
        &before,
        Action::Custom(keep_marketing_only),
        ctx(t0() + days(1), NO_SIGNALS),
    )
    .expect("ok");
    assert_eq!(d.state().method(), Method::Withdraw);
    assert!(d.is_withdrawal());
    let cleared: Vec<(&str, &str)> = d
        .cookies_to_clear(&config)
        .map(|(s, c)| (s.id().as_str(), c.name().as_str()))
        .collect();
    assert_eq!(cleared, [("ga", "_ga"), ("ga", "_ga_*")]);
    // The new token denies analytics at once.
    let after = eval(
        &config,
        Some(&Token::unsigned(*d.state()).to_string()),
        t0() + days(1),
        NO_SIGNALS,
    );
    assert!(!after.allows_category(cat(&config, "analytics")));
    // Granting more is not a withdrawal.
    let d = policy::decide(
        &config,
        &after,
        Action::AcceptAll,
        ctx(t0() + days(2), NO_SIGNALS),
    )
    .expect("ok");
    assert_eq!(d.state().method(), Method::AcceptAll);
    assert_eq!(d.cookies_to_clear(&config).count(), 0);
}

#[test]
fn rule_10_a_new_decision_keeps_the_readable_id() {
    let config = config();
    let (first, token) = decide_fresh(&config, Action::RejectAll, t0(), NO_SIGNALS);
    assert_eq!(first.state().id(), ConsentId::from_bytes([0x11; 16]));
    // Expired, still readable: the id and first time carry over.
    let later = t0() + days(200);
    let before = eval(&config, Some(&token), later, NO_SIGNALS);
    assert_eq!(before.status(), StoredStatus::Expired);
    let mut c = ctx(later, NO_SIGNALS);
    c.fresh_id = ConsentId::from_bytes([0x22; 16]);
    let d = policy::decide(&config, &before, Action::AcceptAll, c).expect("ok");
    assert_eq!(d.state().id(), first.state().id());
    assert_eq!(d.state().first_decision(), t0());
    assert_eq!(d.state().last_decision(), later);
    // Unreadable: the fresh id.
    let junk = eval(&config, Some("1.junk"), later, NO_SIGNALS);
    let d = policy::decide(&config, &junk, Action::AcceptAll, c).expect("ok");
    assert_eq!(d.state().id(), ConsentId::from_bytes([0x22; 16]));
}

#[test]
fn a_clock_outside_the_token_range_is_an_error() {
    let config = config();
    let before = eval(&config, None, t0(), NO_SIGNALS);
    let epoch = time::OffsetDateTime::UNIX_EPOCH;
    assert_eq!(
        policy::decide(&config, &before, Action::AcceptAll, ctx(epoch, NO_SIGNALS)),
        Err(policy::DecideError::ClockOutOfRange)
    );
}

#[test]
fn rule_11_an_element_loads_when_its_category_and_service_are_allowed_off_excluded_paths() {
    let config = config();
    let none = Choices::none();
    let (_, all) = decide_fresh(&config, Action::AcceptAll, t0(), NO_SIGNALS);
    let (_, analytics_only) = decide_fresh(
        &config,
        Action::Custom(Choices::none().with_category(&config, cat(&config, "analytics"), true)),
        t0(),
        NO_SIGNALS,
    );
    let all = eval(&config, Some(&all), t0(), NO_SIGNALS);
    let analytics_only = eval(&config, Some(&analytics_only), t0(), NO_SIGNALS);
    let first_visit = eval(&config, None, t0(), NO_SIGNALS);
    for (ev, category, service, path, loads) in [
        (&all, "marketing", Some("facebook-pixel"), "/", true),
        (&all, " marketing ", Some(" facebook-pixel "), "/", true),
        // Kept off the booking pages in every language, with consent.
        (
            &all,
            "marketing",
            Some("facebook-pixel"),
            "/ajanvaraus",
            false,
        ),
        (
            &all,
            "marketing",
            Some("facebook-pixel"),
            "/sv/tidsbokning?x=1",
            false,
        ),
        (&all, "marketing", None, "/ajanvaraus", true),
        (&all, "analytics", Some("ga"), "/ajanvaraus", true),
        // Unknown category or service: never.
        (&all, "statistics", None, "/", false),
        (&all, "marketing", Some("youtube-ads"), "/", false),
        (&analytics_only, "analytics", Some("ga"), "/", true),
        (&analytics_only, "marketing", None, "/", false),
        // A service under another category than the element's is judged by both.
        (&analytics_only, "marketing", Some("ga"), "/", false),
        (&first_visit, "analytics", None, "/", false),
        (&first_visit, "necessary", None, "/", true),
    ] {
        assert_eq!(
            ev.allows_element(&config, category, service, path, none),
            loads,
            "{category} {service:?} {path}"
        );
    }
    let ga = config.service_index("ga").expect("ga");
    let pixel = config.service_index("facebook-pixel").expect("pixel");
    assert!(all.allows_service_on(&config, pixel, "/", none));
    assert!(!all.allows_service_on(&config, pixel, "/en/booking", none));
    assert!(!analytics_only.allows_service_on(&config, pixel, "/", none));
    assert!(analytics_only.allows_service_on(&config, ga, "/", none));
}

#[test]
fn rule_12_a_negated_element_loads_only_under_a_decision_that_refuses() {
    let config = config();
    let none = Choices::none();
    let (_, refused) = decide_fresh(&config, Action::RejectAll, t0(), NO_SIGNALS);
    let (_, all) = decide_fresh(&config, Action::AcceptAll, t0(), NO_SIGNALS);
    let refused = eval(&config, Some(&refused), t0(), NO_SIGNALS);
    let all = eval(&config, Some(&all), t0(), NO_SIGNALS);
    let first_visit = eval(&config, None, t0(), NO_SIGNALS);
    let expired = eval(
        &config,
        Some(&decide_fresh(&config, Action::RejectAll, t0(), NO_SIGNALS).1),
        t0() + days(4000),
        NO_SIGNALS,
    );
    assert!(refused.allows_element(&config, "!marketing", None, "/", none));
    assert!(refused.allows_element(&config, "! marketing", Some("facebook-pixel"), "/", none));
    assert!(!all.allows_element(&config, "!marketing", None, "/", none));
    // Where the service is kept off, the alternative shows even under "Accept all".
    assert!(all.allows_element(
        &config,
        "!marketing",
        Some("facebook-pixel"),
        "/ajanvaraus",
        none
    ));
    for nobody in [&first_visit, &expired] {
        assert!(
            !nobody.allows_element(&config, "!marketing", None, "/", none),
            "no decision stands"
        );
    }
    assert!(!refused.allows_element(&config, "!nosuch", None, "/", none));
}

#[test]
fn rule_13_what_was_withdrawn_on_a_page_does_not_load_again_there() {
    let config = config();
    let (all, token) = decide_fresh(&config, Action::AcceptAll, t0(), NO_SIGNALS);
    let accepted = eval(&config, Some(&token), t0(), NO_SIGNALS);
    let withdrawn = policy::decide(&config, &accepted, Action::RejectAll, ctx(t0(), NO_SIGNALS))
        .expect("decides");
    let here = withdrawn.revoked();
    assert!(!here.is_empty());
    // Granted again on the same page: allowed, yet what was withdrawn here stays unloaded.
    let again = eval(
        &config,
        Some(&Token::unsigned(*all.state()).to_string()),
        t0(),
        NO_SIGNALS,
    );
    let ga = config.service_index("ga").expect("ga");
    assert!(again.allows_category(cat(&config, "analytics")));
    assert!(!again.allows_element(&config, "analytics", None, "/", here));
    assert!(!again.allows_element(&config, "analytics", Some("ga"), "/", here));
    assert!(!again.allows_service_on(&config, ga, "/", here));
    // A negated element is not held back: it is the alternative.
    assert!(!again.allows_element(&config, "!analytics", None, "/", here));
    // On a new page (nothing withdrawn there) it loads.
    assert!(again.allows_element(&config, "analytics", Some("ga"), "/", Choices::none()));
    assert!(again.allows_service_on(&config, ga, "/", Choices::none()));
    // Necessary is never withdrawn.
    assert!(again.allows_element(&config, "necessary", None, "/", here));
}
