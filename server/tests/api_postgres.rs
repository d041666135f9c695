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
use consent_core::{Config, ConsentId, Lang, Token};
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
    serde_json::json!({ "token": Token::unsigned(*d.state()).to_string() }).to_string()
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
            ServerKey::new(&[9; 32]).expect("key").log_keys(),
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
        demo_page_layer: true,
        trusted_proxies: Default::default(),
        head_file: None,
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

/// `POST /consent` and its issued consent id, read from the 201 answer.
async fn post_for_id(app: &axum::Router, seed: u8) -> (StatusCode, Option<ConsentId>) {
    let req = Request::builder()
        .method("POST")
        .uri("/consent")
        .header(header::ORIGIN, "https://klinikka.fi")
        .header(header::CONTENT_TYPE, "application/json")
        .extension(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 1))))
        .body(Body::from(body(seed)))
        .expect("request");
    let response = app.clone().oneshot(req).await.expect("infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .expect("body");
    let id = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v["consent_id"].as_str().and_then(|s| s.parse().ok()));
    (status, id)
}

/// Issue 15's target: PostgreSQL stops and starts again while clients keep posting. Every
/// answer is a 201 or a 503, the server recovers without a restart of its own, and no
/// acknowledged decision is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_restart_under_load_loses_nothing_acknowledged() {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};
    if support::pg::skip() {
        return;
    }
    let cluster = support::pg::Cluster::start_new();
    let key = ServerKey::new(&[9; 32]).expect("key");
    let store = Arc::new(
        PgStore::connect(&cluster.url("consent"), key.log_keys())
            .await
            .expect("connect"),
    );
    let settings = Settings {
        config: Arc::new(Config::from_json(consent_core::EXAMPLE_CONFIG).expect("valid")),
        key: key.clone(),
        origins: vec!["https://klinikka.fi".into()],
        admin_token: None,
        secure_cookie: false,
        rate_limit: None,
        dist: None,
        demo: None,
        demo_page_layer: true,
        trusted_proxies: Default::default(),
        head_file: None,
    };
    let app = router(Arc::clone(&store), settings);
    let acked: Arc<Mutex<Vec<ConsentId>>> = Arc::default();
    let unavailable = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..4u8 {
        let (app, acked, unavailable, stop) = (
            app.clone(),
            Arc::clone(&acked),
            Arc::clone(&unavailable),
            Arc::clone(&stop),
        );
        clients.push(tokio::spawn(async move {
            let mut n = 0u8;
            while !stop.load(Ordering::Relaxed) {
                n = n.wrapping_add(1);
                match post_for_id(&app, c.wrapping_mul(64).wrapping_add(n)).await {
                    (StatusCode::CREATED, Some(id)) => acked.lock().expect("lock").push(id),
                    (StatusCode::SERVICE_UNAVAILABLE, _) => {
                        unavailable.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    }
                    (other, _) => panic!("unexpected {other}"),
                }
            }
        }));
    }
    let wait_for = |target: usize| {
        let acked = Arc::clone(&acked);
        async move {
            for _ in 0..600 {
                if acked.lock().expect("lock").len() >= target {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            panic!("{target} acknowledged decisions within 30 s");
        }
    };
    wait_for(100).await;
    cluster.stop();
    let before = acked.lock().expect("lock").len();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    cluster.start();
    wait_for(before + 100).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.expect("client");
    }
    assert!(
        unavailable.load(Ordering::Relaxed) > 0,
        "the stop was seen as 503s"
    );
    let acked = acked.lock().expect("lock").clone();
    for id in &acked {
        use consent_server::store::Log as _;
        assert_eq!(
            store.records_for(*id).await.expect("read").len(),
            1,
            "acknowledged {id} lost"
        );
    }
    verify(&*store, &key, None, |_| {})
        .await
        .expect("chain verifies after the restart");
}
