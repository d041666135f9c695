//! The HTTP API on PostgreSQL: a stopped or restarted database gets a clear 503, the server
//! keeps serving, and decisions are recorded again once the database is back.

// Helpers outside #[test] functions, where clippy's in-test allowances do not reach.
#![allow(clippy::expect_used)]

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use consent_core::policy::{self, Action, Context, Signals};
use consent_core::{Channel, Config, ConsentId, DecisionRecord, Lang, Token};
use consent_server::ServerKey;
use consent_server::api::{Settings, router};
use consent_server::store::postgres::PgStore;
use consent_server::verify::verify;
use tower::ServiceExt as _;

fn body(id: u8) -> String {
    let config = Config::from_json(consent_core::EXAMPLE_CONFIG).expect("valid");
    let now = time::OffsetDateTime::now_utc();
    let before = policy::evaluate(&config, None, None, now, Signals::default());
    let ctx = Context {
        now,
        signals: Signals::default(),
        lang: Lang::Fi,
        fresh_id: ConsentId::from_bytes([id; 16]),
    };
    let d = policy::decide(&config, &before, Action::AcceptAll, ctx).expect("in range");
    let record = DecisionRecord::new(&config, d.state(), None, Channel::Banner);
    serde_json::json!({ "token": Token::unsigned(*d.state()).to_string(), "record": record })
        .to_string()
}

async fn post(app: &axum::Router, id: u8) -> (StatusCode, Option<String>) {
    let req = Request::builder()
        .method("POST")
        .uri("/consent")
        .header(header::ORIGIN, "https://klinikka.fi")
        .header(header::CONTENT_TYPE, "application/json")
        .extension(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 1))))
        .body(Body::from(body(id)))
        .expect("request");
    let response = app.clone().oneshot(req).await.expect("infallible");
    let retry = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    (response.status(), retry)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_postgresql_gets_503_then_recovers() {
    if support::pg::skip() {
        return;
    }
    let cluster = support::pg::Cluster::start_new();
    let store = Arc::new(
        PgStore::connect(
            &cluster.url("consent"),
            ServerKey::new(&[9; 32]).expect("key").log_key(),
        )
        .await
        .expect("connect"),
    );
    let settings = Settings {
        config: Arc::new(Config::from_json(consent_core::EXAMPLE_CONFIG).expect("valid")),
        key: ServerKey::new(&[9; 32]).expect("key"),
        origins: vec!["https://klinikka.fi".into()],
        admin_token: None,
        secure_cookie: false,
        rate_limit: None,
        dist: None,
        demo: None,
        trusted_proxies: Vec::new(),
    };
    let app = router(Arc::clone(&store), settings);
    assert_eq!(post(&app, 1).await.0, StatusCode::CREATED);

    cluster.stop();
    let (status, retry) = post(&app, 2).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(retry.as_deref(), Some("1"));

    cluster.start();
    // The store reconnects on the next batch; a client retrying after Retry-After succeeds.
    let mut status = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..20 {
        status = post(&app, 3).await.0;
        if status == StatusCode::CREATED {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(
        status,
        StatusCode::CREATED,
        "recorded again once PostgreSQL is back"
    );
    let v = verify(
        &*store,
        &ServerKey::new(&[9; 32]).expect("key"),
        None,
        |_| {},
    )
    .await
    .expect("chain verifies");
    assert_eq!(v.entries, 2, "the decision answered 503 was not recorded");
}
