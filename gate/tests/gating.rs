//! Server-side gating: the plain function, the tower layer and the axum extractor.

// Helpers outside #[test] functions, where clippy's in-test allowances do not reach.
#![allow(clippy::expect_used)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode};
use axum::routing::get;
use consent_core::policy::{self, Action, Context, Signals, StoredStatus};
use consent_core::{Config, ConsentId, Gate, Lang, SigningKey, Token};
use consent_gate::{Consent, ConsentLayer, verdict};
use time::OffsetDateTime;
use tower::ServiceExt as _;

fn setup() -> (Config, SigningKey, String) {
    let config = Config::from_json(consent_core::EXAMPLE_CONFIG).expect("valid");
    let key = SigningKey::new(&[4; 32]).expect("key");
    let now = OffsetDateTime::now_utc();
    let before = policy::evaluate(&config, None, None, now, Signals::default());
    let ctx = Context {
        now,
        signals: Signals::default(),
        lang: Lang::Fi,
        fresh_id: ConsentId::from_bytes([8; 16]),
    };
    let d = policy::decide(&config, &before, Action::AcceptAll, ctx).expect("in range");
    let token = Token::signed(*d.state(), &key).to_string();
    (config, key, token)
}

#[test]
fn the_plain_function_reads_split_cookie_headers_gpc_and_dnt() {
    let (config, key, token) = setup();
    let gate = Gate::new(&config, Some(key));
    let (analytics, marketing) = (
        gate.category("analytics").expect("a"),
        gate.category("marketing").expect("m"),
    );
    let now = OffsetDateTime::now_utc();
    let mut headers = HeaderMap::new();
    headers.append("cookie", HeaderValue::from_static("lang=fi; theme=dark"));
    headers.append(
        "cookie",
        HeaderValue::from_str(&format!("consent={token}")).expect("header"),
    );
    let v = verdict(&gate, &headers, now);
    assert_eq!(v.status(), StoredStatus::Valid);
    assert!(v.allows(analytics) && v.allows(marketing));
    headers.insert("sec-gpc", HeaderValue::from_static("1"));
    let v = verdict(&gate, &headers, now);
    assert!(v.allows(analytics) && !v.allows(marketing));
    assert_eq!(
        verdict(&gate, &HeaderMap::new(), now).status(),
        StoredStatus::None
    );
}

/// A grant left at another path or domain and the visitor's later refusal, in the two `Cookie`
/// headers HTTP/2 may split them into, in either order: the later decision counts (policy
/// rule 15), as within one header and in the banner.
#[test]
fn of_consent_cookies_in_split_headers_the_latest_decision_counts() {
    let (config, key, grant) = setup();
    let gate = Gate::new(&config, Some(key.clone()));
    let analytics = gate.category("analytics").expect("a");
    let now = OffsetDateTime::now_utc();
    let later = now + time::Duration::minutes(1);
    let before = policy::evaluate(&config, None, None, later, Signals::default());
    let ctx = Context {
        now: later,
        signals: Signals::default(),
        lang: Lang::Fi,
        fresh_id: ConsentId::from_bytes([9; 16]),
    };
    let d = policy::decide(&config, &before, Action::RejectAll, ctx).expect("in range");
    let refusal = Token::signed(*d.state(), &key).to_string();
    for (a, b) in [(&grant, &refusal), (&refusal, &grant)] {
        let mut headers = HeaderMap::new();
        for t in [a, b] {
            let value = HeaderValue::from_str(&format!("lang=fi; consent={t}")).expect("header");
            headers.append("cookie", value);
        }
        let v = verdict(&gate, &headers, later);
        assert_eq!(v.status(), StoredStatus::Valid);
        assert!(!v.allows(analytics), "the earlier grant counted");
    }
}

/// Browsers send a cookie's bytes as they were set: another cookie of the site holding
/// UTF-8 text (a name, a city) or any byte at all makes the header no visible ASCII. The
/// consent cookie in it still counts (the header was read as absent, and a visitor who had
/// decided was asked again on every page, with nothing made live); one in a header of its
/// own, beside such a header, too.
#[test]
fn a_cookie_header_with_other_bytes_still_holds_the_decision() {
    let (config, key, token) = setup();
    let gate = Gate::new(&config, Some(key));
    let analytics = gate.category("analytics").expect("a");
    let now = OffsetDateTime::now_utc();
    for other in [
        &b"city=J\xc3\xa4rvenp\xc3\xa4\xc3\xa4"[..],
        b"x=\xff\xfe; y=\x80",
    ] {
        let mut one = other.to_vec();
        one.extend_from_slice(format!("; consent={token}").as_bytes());
        let mut headers = HeaderMap::new();
        headers.append("cookie", HeaderValue::from_bytes(&one).expect("obs-text"));
        let v = verdict(&gate, &headers, now);
        assert_eq!(v.status(), StoredStatus::Valid, "{one:?}");
        assert!(v.allows(analytics));
        // A damaged consent cookie in such a header grants nothing.
        let mut damaged = format!("consent={token}").into_bytes();
        damaged[12] = 0xff;
        let mut headers = HeaderMap::new();
        headers.append(
            "cookie",
            HeaderValue::from_bytes(&damaged).expect("obs-text"),
        );
        let v = verdict(&gate, &headers, now);
        assert_ne!(v.status(), StoredStatus::Valid);
        assert!(!v.allows(analytics));
    }
}

#[tokio::test]
async fn the_layer_and_extractor_gate_a_handler() {
    let (config, key, token) = setup();
    let gate = Arc::new(Gate::new(&config, Some(key)));
    let analytics = gate.category("analytics").expect("analytics");
    let app = Router::new()
        .route(
            "/collect",
            get(move |Consent(v): Consent| async move {
                if v.allows(analytics) {
                    "forwarded"
                } else {
                    "dropped"
                }
            }),
        )
        .layer(ConsentLayer::new(gate));
    let call = |cookie: Option<String>| {
        let app = app.clone();
        async move {
            let mut req = Request::builder().uri("/collect");
            if let Some(c) = cookie {
                req = req.header("cookie", c);
            }
            let response = app
                .oneshot(req.body(Body::empty()).expect("request"))
                .await
                .expect("infallible");
            let bytes = axum::body::to_bytes(response.into_body(), 1024)
                .await
                .expect("body");
            String::from_utf8_lossy(&bytes).into_owned()
        }
    };
    assert_eq!(call(Some(format!("consent={token}"))).await, "forwarded");
    assert_eq!(call(None).await, "dropped");
    let unsigned = format!(
        "consent={}",
        token.rsplit_once('.').map(|(t, _)| t).unwrap_or(&token)
    );
    assert_eq!(
        call(Some(unsigned)).await,
        "dropped",
        "an unsigned token is not one the server logged"
    );
}

#[tokio::test]
async fn the_extractor_without_the_layer_is_a_clear_500() {
    let app: Router = Router::new().route("/x", get(|Consent(_): Consent| async { "" }));
    let response = app
        .oneshot(Request::builder().uri("/x").body(Body::empty()).expect("r"))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let bytes = axum::body::to_bytes(response.into_body(), 1024)
        .await
        .expect("body");
    assert!(String::from_utf8_lossy(&bytes).contains("ConsentLayer"));
}
