//! Decision records: transport as JSON, the canonical encoding, and checks against the config.

mod common;

use common::*;
use consent_core::policy::{Action, Signals};
use consent_core::{Channel, DecisionRecord, Digest, Lang, Method, PageUrl, RecordError};

#[allow(clippy::expect_used)] // a helper outside #[test]
fn record() -> DecisionRecord {
    let config = config();
    let analytics = cat(&config, "analytics");
    let choices = config
        .necessary_only()
        .with_category(&config, analytics, true);
    let (d, _) = decide_fresh(&config, Action::Custom(choices), t0(), Signals::default());
    let url = PageUrl::new("https://klinikka.fi/ajanvaraus?nimi=Matti").expect("url");
    DecisionRecord::new(&config, d.state(), Some(url), Channel::Banner)
}

#[test]
fn holds_what_art_7_1_asks_and_no_query_string() {
    let config = config();
    let r = record();
    assert_eq!(r.consent_id().to_string(), "11".repeat(16));
    assert_eq!(r.time(), t0());
    assert_eq!(r.action(), Method::Custom);
    assert_eq!(r.revision(), config.revision());
    assert_eq!(r.shown_hash(), config.shown_hash(Lang::Fi));
    assert_eq!(r.lang(), Lang::Fi);
    assert_eq!(
        r.page_url().map(PageUrl::as_str),
        Some("https://klinikka.fi/ajanvaraus")
    );
    assert_eq!(r.channel(), Channel::Banner);
    assert_eq!(r.expires(), t0() + days(182));
    let granted: Vec<(&str, bool)> = r
        .categories()
        .iter()
        .map(|c| (c.id.as_str(), c.granted))
        .collect();
    assert_eq!(
        granted,
        [
            ("necessary", true),
            ("analytics", true),
            ("marketing", false)
        ]
    );
    let services: Vec<(&str, bool)> = r
        .services()
        .iter()
        .map(|s| (s.id.as_str(), s.granted))
        .collect();
    assert_eq!(
        services,
        [
            ("site", true),
            ("ga", true),
            ("google-ads", false),
            ("facebook-pixel", false),
            ("youtube", false)
        ]
    );
    let json = serde_json::to_string(&r).expect("json");
    assert!(!json.contains("Matti") && !json.contains("ip"), "{json}");
}

#[test]
fn json_round_trips_and_keeps_the_canonical_bytes() {
    let r = record();
    let json = serde_json::to_string(&r).expect("json");
    let back: DecisionRecord = serde_json::from_str(&json).expect("parse");
    assert_eq!(back, r);
    assert_eq!(back.canonical_bytes(), r.canonical_bytes());
}

#[test]
fn the_encoding_is_stable() {
    // Changing the canonical encoding breaks every existing log's chain: this golden value
    // must only change together with a new encoding version.
    // A literal record, so that edits to texts or the example config do not move it.
    let r: DecisionRecord = serde_json::from_str(
        r#"{"consent_id":"00112233445566778899aabbccddeeff","time":"2026-11-01T08:30:00Z",
            "action":"withdraw","categories":[{"id":"necessary","granted":true},{"id":"marketing","granted":false}],
            "services":[{"id":"ga","granted":false}],"revision":4,
            "shown_hash":"0101010101010101010101010101010101010101010101010101010101010101",
            "lang":"sv","page_url":"https://klinikka.fi/sv/","channel":"banner",
            "expires":"2027-05-02T08:30:00Z","gpc":true}"#,
    )
    .expect("parse");
    assert_eq!(
        r.chain_hash(&Digest::ZERO).to_string(),
        "3617733c70114d5960b0b9f5290f7ec044ff8a8bd236dab6abab6eea44ebd5db"
    );
}

#[test]
fn list_order_does_not_change_the_bytes_but_any_field_does() {
    let r = record();
    let mut v: serde_json::Value = serde_json::to_value(&r).expect("json");
    v["categories"].as_array_mut().expect("list").reverse();
    let reordered: DecisionRecord = serde_json::from_value(v.clone()).expect("parse");
    assert_eq!(reordered.canonical_bytes(), r.canonical_bytes());
    for (field, value) in [
        ("action", serde_json::json!("accept_all")),
        ("lang", serde_json::json!("sv")),
        ("channel", serde_json::json!("phone")),
        ("gpc", serde_json::json!(true)),
        ("revision", serde_json::json!(2)),
        ("page_url", serde_json::json!("https://klinikka.fi/")),
        ("time", serde_json::json!("2026-11-01T00:00:01Z")),
    ] {
        let mut changed = v.clone();
        changed[field] = value;
        let changed: DecisionRecord = serde_json::from_value(changed).expect("parse");
        assert_ne!(
            changed.chain_hash(&Digest::ZERO),
            r.chain_hash(&Digest::ZERO),
            "{field}"
        );
    }
    // The previous hash is part of the link.
    assert_ne!(
        r.chain_hash(&Digest::ZERO),
        r.chain_hash(&Digest::from_bytes([1; 32]))
    );
}

#[test]
fn bad_json_is_refused_with_the_field() {
    let v = serde_json::to_value(record()).expect("json");
    for (field, value, expect) in [
        ("consent_id", serde_json::json!("xyz"), "invalid consent id"),
        ("action", serde_json::json!("maybe"), "unknown method"),
        ("lang", serde_json::json!("de"), "unsupported language"),
        ("lang", serde_json::json!("fi-FI"), "unsupported language"),
        (
            "page_url",
            serde_json::json!("javascript:alert(1)"),
            "page url",
        ),
        (
            "revision",
            serde_json::json!(0),
            "revision must be at least 1",
        ),
        ("shown_hash", serde_json::json!("00"), "invalid digest"),
        ("ip", serde_json::json!("10.0.0.1"), "unknown field"),
    ] {
        let mut bad = v.clone();
        bad[field] = value;
        let err = serde_json::from_value::<DecisionRecord>(bad)
            .expect_err(field)
            .to_string();
        assert!(err.contains(expect), "{field}: {err}");
    }
}

#[test]
fn check_against_the_config() {
    let config = config();
    let r = record();
    assert_eq!(r.check(&config), Ok(()));
    let bumped = config_with(|v| v["revision"] = 3.into());
    assert_eq!(
        r.check(&bumped),
        Err(RecordError::Revision {
            record: 1,
            config: 3
        })
    );

    let v = serde_json::to_value(&r).expect("json");
    let with = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut v = v.clone();
        edit(&mut v);
        serde_json::from_value::<DecisionRecord>(v)
            .expect("parse")
            .check(&config)
    };
    assert!(matches!(
        with(&|v| v["categories"][1]["id"] = "stats".into()),
        Err(RecordError::UnknownCategory(_))
    ));
    assert!(matches!(
        with(&|v| v["services"][1]["id"] = "hotjar".into()),
        Err(RecordError::UnknownService(_))
    ));
    assert_eq!(
        with(&|v| v["categories"][0]["granted"] = false.into()),
        Err(RecordError::NecessaryRefused)
    );
    assert_eq!(
        with(&|v| {
            v["services"].as_array_mut().map(Vec::pop);
        }),
        Err(RecordError::Incomplete)
    );
    assert_eq!(
        with(&|v| v["categories"][2]["id"] = "analytics".into()),
        Err(RecordError::Incomplete)
    );
}

#[test]
fn a_state_retimed_to_the_server_clock_keeps_everything_else() {
    let config = config();
    let (d, _) = decide_fresh(&config, Action::AcceptAll, t0(), Signals::default());
    let later = d.state().at(t0() + days(1)).expect("in range");
    assert_eq!(later.last_decision(), t0() + days(1));
    assert_eq!(later.first_decision(), t0());
    assert_eq!(
        (later.id(), later.choices(), later.method()),
        (d.state().id(), d.state().choices(), d.state().method())
    );
    let earlier = d.state().at(t0() - days(1)).expect("in range");
    assert_eq!(earlier.first_decision(), t0() - days(1));
    assert!(d.state().at(time::OffsetDateTime::UNIX_EPOCH).is_err());
}
