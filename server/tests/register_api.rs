//! The customer register's HTTP routes, through the real routers, on a real SQLite file and
//! a real PostgreSQL server: recording, duplicates, out-of-order decisions, bad input, the
//! public sign-up's Origin check, may-market and the bulk list check.

// Helpers outside #[test] functions, where clippy's in-test allowances do not reach.
#![allow(clippy::expect_used)]

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use consent_core::Config;
use consent_core::register::Contact;
use consent_server::ServerKey;
use consent_server::api::{Settings, router};
use consent_server::store::postgres::PgStore;
use consent_server::store::sqlite::SqliteStore;
use consent_server::store::{Log as _, Store};
use consent_server::verify::verify;
use serde_json::{Value, json};
use tower::ServiceExt as _;

const ORIGIN: &str = "https://klinikka.fi";
const ADMIN: &str = "s3cret-admin-token";

fn app<S: Store>(store: Arc<S>) -> Router {
    app_with(store, None)
}

fn app_with<S: Store>(store: Arc<S>, rate_limit: Option<u32>) -> Router {
    let settings = Settings {
        config: Arc::new(Config::from_json(consent_core::EXAMPLE_CONFIG).expect("valid")),
        key: ServerKey::new(&[0x5a; 32]).expect("key"),
        origins: vec![ORIGIN.into()],
        admin_token: Some(ADMIN.into()),
        secure_cookie: false,
        rate_limit: rate_limit.and_then(std::num::NonZeroU32::new),
        dist: None,
        demo: None,
        demo_page_layer: true,
        trusted_proxies: Default::default(),
        head_file: None,
    };
    router(Arc::clone(&store), settings.clone())
        .merge(consent_server::register::api::router(store, settings))
}

struct Call<'a> {
    uri: &'a str,
    admin: bool,
    origin: Option<&'a str>,
    content_type: &'a str,
    body: String,
}

fn admin_json<'a>(uri: &'a str, body: &Value) -> Call<'a> {
    Call {
        uri,
        admin: true,
        origin: None,
        content_type: "application/json",
        body: body.to_string(),
    }
}

async fn send(app: &Router, call: Call<'_>) -> (StatusCode, axum::http::HeaderMap, Value) {
    let mut req = Request::builder()
        .method("POST")
        .uri(call.uri)
        .header(header::CONTENT_TYPE, call.content_type)
        .extension(ConnectInfo(SocketAddr::from(([10, 0, 0, 7], 5555))));
    if call.admin {
        req = req.header(header::AUTHORIZATION, format!("Bearer {ADMIN}"));
    }
    if let Some(o) = call.origin {
        req = req.header(header::ORIGIN, o);
    }
    let req = req.body(Body::from(call.body)).expect("request");
    let response = app.clone().oneshot(req).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, headers, value)
}

async fn may(app: &Router, contact: &str, channel: &str) -> Value {
    let (status, _, body) = send(
        app,
        admin_json(
            "/register/may-market",
            &json!({ "contact": contact, "channel": channel }),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn get(app: &Router, uri: &str, admin: bool) -> (StatusCode, String) {
    let mut req = Request::builder()
        .method("GET")
        .uri(uri)
        .extension(ConnectInfo(SocketAddr::from(([10, 0, 0, 7], 5555))));
    if admin {
        req = req.header(header::AUTHORIZATION, format!("Bearer {ADMIN}"));
    }
    let response = app
        .clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// The confirmation messages the site's mailer would send: (to, token).
async fn outbox(app: &Router) -> Vec<(String, String)> {
    let (status, body) = get(app, "/register/outbox", true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let body: Value = serde_json::from_str(&body).expect("json");
    body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            let link = m["link"].as_str().expect("link");
            let token = link
                .split_once("/register/confirm?token=")
                .map(|(_, t)| t.to_owned())
                .expect("a confirmation link");
            (m["to"].as_str().expect("to").to_owned(), token)
        })
        .collect()
}

/// A new SQLite file (kept while the directory is), under the tests' key.
fn sqlite() -> (tempfile::TempDir, ServerKey, Arc<SqliteStore>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = ServerKey::new(&[0x5a; 32]).expect("key");
    let store =
        Arc::new(SqliteStore::open(dir.path().join("consent.db"), key.log_keys()).expect("open"));
    (dir, key, store)
}

/// The routers on a new SQLite file (kept while the directory is), under the tests' key.
fn on_sqlite() -> (tempfile::TempDir, ServerKey, Arc<SqliteStore>, Router) {
    let (dir, key, store) = sqlite();
    let app = app(Arc::clone(&store));
    (dir, key, store, app)
}

/// The form of the page a link opens, posted with `body`.
fn confirm_post(body: String) -> Call<'static> {
    Call {
        uri: "/register/confirm",
        admin: false,
        origin: None,
        content_type: "application/x-www-form-urlencoded",
        body,
    }
}

/// The contact presses the button on the page the link opens.
async fn confirm(app: &Router, token: &str) -> (StatusCode, Value) {
    let (status, _, body) = send(app, confirm_post(format!("token={token}&lang=en"))).await;
    (status, body)
}

/// The sign-up script's post for `contact` on e-mail, from the site.
fn email_signup(contact: &str) -> Call<'static> {
    Call {
        uri: "/register/signup",
        admin: false,
        origin: Some(ORIGIN),
        content_type: "application/json",
        body: json!({ "contact": contact, "channels": ["email"] }).to_string(),
    }
}

/// A sign-up for `contact` on e-mail, and the token of the link the mailer takes.
async fn signed_up(app: &Router, contact: &str) -> String {
    let (status, _, body) = send(app, email_signup(contact)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    outbox(app).await.remove(0).1
}

fn error(body: &Value) -> &str {
    body["error"].as_str().expect("an error message")
}

/// Double opt-in: a sign-up records nothing, its link confirms once, a forged or edited link
/// confirms nothing, and a link mailed before an objection cannot lift it.
#[tokio::test]
async fn a_signup_is_recorded_only_once_its_contact_confirms() {
    let (_dir, key, store) = sqlite();
    let app = app(Arc::clone(&store));
    let signup = email_signup;
    let (status, _, body) = send(&app, signup("maija@example.fi")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(
        store.len().await.expect("len"),
        0,
        "nothing recorded before confirming"
    );
    let (_, token) = outbox(&app).await.remove(0);
    assert!(outbox(&app).await.is_empty(), "taken by the mailer");

    // Opening the link records nothing (mail scanners open links); it shows a button.
    let (status, page) = get(&app, &format!("/register/confirm?token={token}"), false).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"action="/register/confirm""#), "{page}");
    assert_eq!(store.len().await.expect("len"), 0);

    // A forged token, or one edited to add a channel, confirms nothing.
    let other = ServerKey::new(&[0x11; 32]).expect("key");
    let contact = key.contact_hash(&Contact::parse("maija@example.fi").expect("contact"));
    let forged = consent_server::register::confirm::Pending::new(
        contact,
        &[consent_core::register::MarketingChannel::Email],
        0,
        time::OffsetDateTime::now_utc(),
    )
    .token(&other);
    let mut edited = token.clone().into_bytes();
    let last = edited.len() - 1;
    edited[last] = if edited[last] == b'A' { b'B' } else { b'A' };
    for bad in [
        forged,
        String::from_utf8(edited).expect("ascii"),
        String::new(),
    ] {
        let (status, _) = confirm(&app, &bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
    assert_eq!(
        may(&app, "maija@example.fi", "email").await["allowed"],
        false
    );

    let (status, _) = confirm(&app, &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        may(&app, "maija@example.fi", "email").await["allowed"],
        true
    );
    // Single use: the same link again records nothing more.
    let (status, _) = confirm(&app, &token).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(store.len().await.expect("len"), 1);

    // An objection after a sign-up: its link, used later, cannot lift it.
    let (status, _, _) = send(&app, signup("pekka@example.fi")).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (_, token) = outbox(&app).await.remove(0);
    let (status, _, body) = send(
        &app,
        admin_json(
            "/register/marketing",
            &json!({ "contact": "pekka@example.fi", "channel": "email", "kind": "objection",
                     "via": "phone", "staff": "desk-1" }),
        ),
    )
    .await;
    assert!(status.is_success(), "{body}");
    let (status, _) = confirm(&app, &token).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        may(&app, "pekka@example.fi", "email").await["allowed"],
        false
    );
    // A new sign-up after the objection likewise waits for its own confirmation.
    let (status, _, _) = send(&app, signup("pekka@example.fi")).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(
        may(&app, "pekka@example.fi", "email").await["allowed"],
        false
    );
    let (status, _) = confirm(&app, &outbox(&app).await.remove(0).1).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        may(&app, "pekka@example.fi", "email").await["allowed"],
        true
    );
    verify(&*store, &key, None, |_| {}).await.expect("verifies");

    // The page the link opens cannot be framed, and does not pass its token on.
    let req = Request::builder()
        .uri(format!("/register/confirm?token={token}"))
        .body(Body::empty())
        .expect("request");
    let response = app.clone().oneshot(req).await.expect("infallible");
    let h = response.headers();
    assert!(
        h.get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.contains("frame-ancestors 'none'")),
        "{h:?}"
    );
    assert_eq!(
        h.get(header::REFERRER_POLICY).and_then(|v| v.to_str().ok()),
        Some("no-referrer")
    );
    // The outbox is the admin's (the mailer's) only.
    let (status, _) = get(&app, "/register/outbox", false).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// A request body that never ends, as a slow or hostile client sends.
struct Endless;

impl http_body::Body for Endless {
    type Data = axum::body::Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::task::Poll::Pending
    }
}

/// `POST /register/check` takes up to 32 MB: a client without the admin token is refused
/// before any of it is read.
#[tokio::test]
async fn the_list_check_refuses_a_stranger_before_reading_the_body() {
    let (_dir, _, store) = sqlite();
    let app = app(store);
    let req = Request::builder()
        .method("POST")
        .uri("/register/check?channel=email")
        .header(header::CONTENT_TYPE, "text/csv")
        .extension(ConnectInfo(SocketAddr::from(([10, 0, 0, 7], 5555))))
        .body(Body::new(Endless))
        .expect("request");
    let response = tokio::time::timeout(std::time::Duration::from_secs(5), app.oneshot(req))
        .await
        .expect("answered without waiting for the body")
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

async fn scenario<S: Store>(store: Arc<S>) {
    let app = app(Arc::clone(&store));
    let now = time::OffsetDateTime::now_utc();
    let earlier = (now - time::Duration::hours(1))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    let objection = json!({
        "contact": "Maija@Example.fi", "channel": "email", "kind": "objection",
        "via": "phone", "staff": "desk-1", "time": earlier,
    });

    // Admin only.
    let mut call = admin_json("/register/marketing", &objection);
    call.admin = false;
    let (status, _, body) = send(&app, call).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(store.len().await.expect("len"), 0);

    // Recorded once; the same decision again is a duplicate, not a second record.
    let (status, _, body) = send(&app, admin_json("/register/marketing", &objection)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body, json!({ "seq": 1, "duplicate": false }));
    let (status, _, body) = send(&app, admin_json("/register/marketing", &objection)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({ "seq": 1, "duplicate": true }));
    assert_eq!(store.len().await.expect("len"), 1);

    let answer = may(&app, " maija@example.FI", "email").await;
    assert_eq!(answer["allowed"], false);
    assert_eq!(answer["status"], "objected");
    assert_eq!(
        may(&app, "maija@example.fi", "post").await["status"],
        "no_decision"
    );

    // An older decision for the same contact and channel is refused.
    let older = (now - time::Duration::hours(2))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    let mut consent = objection.clone();
    consent["kind"] = json!("consent");
    consent["time"] = json!(older);
    let (status, _, body) = send(&app, admin_json("/register/marketing", &consent)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(error(&body).starts_with("out of order:"), "{body}");

    // Bad input: clear errors, nothing stored.
    let bad = [
        (
            json!({ "channel": "fax" }),
            "unknown marketing channel: expected email, sms or post",
        ),
        (
            json!({ "contact": "maija@@example.fi" }),
            "e-mail address: expected exactly one @",
        ),
        (
            json!({ "staff": null }),
            "staff: a decision given by phone needs the staff id who recorded it",
        ),
        (
            json!({ "via": "banner", "staff": null }),
            "via: the cookie banner does not record marketing decisions",
        ),
        (
            json!({ "channel": "sms" }),
            "channel: an e-mail address cannot be marketed to by sms",
        ),
        (
            json!({ "kind": "suppression" }),
            "kind: suppression is written when a customer's data are erased",
        ),
        (
            json!({ "time": "2099-01-01T00:00:00Z" }),
            "time: more than 5 minutes after the server's clock",
        ),
    ];
    for (change, message) in bad {
        let mut body = objection.clone();
        for (k, v) in change.as_object().expect("object") {
            body[k] = v.clone();
        }
        let (status, _, answer) = send(&app, admin_json("/register/marketing", &body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert!(
            error(&answer).contains(message),
            "{answer} should say {message}"
        );
    }
    assert_eq!(store.len().await.expect("len"), 1);

    // The public sign-up: only from an allowed Origin, every channel checked before any is
    // stored.
    let signup = |origin: Option<&'static str>, body: Value| Call {
        uri: "/register/signup",
        admin: false,
        origin,
        content_type: "application/json",
        body: body.to_string(),
    };
    let both = json!({ "contact": "uusi@example.fi", "channels": ["email", "sms"] });
    let (status, _, _) = send(&app, signup(None, both.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = send(&app, signup(Some("https://evil.example"), both.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, body) = send(&app, signup(Some(ORIGIN), both)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _, body) = send(
        &app,
        signup(
            Some(ORIGIN),
            json!({ "contact": "uusi@example.fi", "channels": [] }),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(store.len().await.expect("len"), 1);
    let (status, headers, body) = send(
        &app,
        signup(
            Some(ORIGIN),
            json!({ "contact": "uusi@example.fi", "channels": ["email", "post", "email"] }),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["pending"], json!(["email", "post"]));
    assert_eq!(
        headers
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .and_then(|v| v.to_str().ok()),
        Some(ORIGIN)
    );
    // Nothing is recorded until the contact confirms through the link sent to them.
    assert_eq!(
        may(&app, "uusi@example.fi", "email").await["allowed"],
        false
    );
    let messages = outbox(&app).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].0, "uusi@example.fi");
    let (status, body) = confirm(&app, &messages[0].1).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(may(&app, "uusi@example.fi", "email").await["allowed"], true);
    assert_eq!(may(&app, "uusi@example.fi", "sms").await["allowed"], false);

    // The bulk check: CSV in, who may not be contacted out.
    let (status, headers, body) = send(
        &app,
        Call {
            uri: "/register/check?channel=email",
            admin: true,
            origin: None,
            content_type: "text/csv",
            body: "sähköposti;nimi\nuusi@example.fi;U\nMAIJA@example.fi;M\nx@;X\n".into(),
        },
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("text/csv; charset=utf-8")
    );
    assert_eq!(
        body,
        Value::String(
            "line,address,reason\n3,MAIJA@example.fi,objected\n4,x@,\"malformed: e-mail address: the domain must be labels of letters, digits and hyphens joined by dots\"\n".into()
        )
    );
    let (status, _, _) = send(
        &app,
        Call {
            uri: "/register/check?channel=fax",
            admin: true,
            origin: None,
            content_type: "text/csv",
            body: String::new(),
        },
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let v = verify(
        &*store,
        &ServerKey::new(&[0x5a; 32]).expect("key"),
        None,
        |_| {},
    )
    .await
    .expect("verifies");
    assert_eq!(v.entries, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_routes_on_sqlite() {
    let (_dir, _, store) = sqlite();
    scenario(Arc::clone(&store)).await;
    requests_and_access(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_routes_on_postgresql() {
    if support::pg::skip() {
        return;
    }
    let cluster = support::pg::Cluster::start_new();
    let store = Arc::new(
        PgStore::connect(
            &cluster.url("consent"),
            ServerKey::new(&[0x5a; 32]).expect("key").log_keys(),
        )
        .await
        .expect("connect"),
    );
    scenario(Arc::clone(&store)).await;
    requests_and_access(Arc::clone(&store)).await;
    drop(store);
    drop(cluster);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_signup_is_rate_limited_per_client() {
    let (_dir, _, store) = sqlite();
    let app = app_with(Arc::clone(&store), Some(1));
    let mut statuses = Vec::new();
    for i in 0..4 {
        let call = Call {
            uri: "/register/signup",
            admin: false,
            origin: Some(ORIGIN),
            content_type: "application/json",
            body: json!({ "contact": format!("u{i}@example.fi"), "channels": ["email"] })
                .to_string(),
        };
        statuses.push(send(&app, call).await.0);
    }
    // A burst of two, then refused: no confirmation link for the refused ones.
    assert_eq!(
        statuses,
        [
            StatusCode::ACCEPTED,
            StatusCode::ACCEPTED,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    assert_eq!(outbox(&app).await.len(), 2);
}

/// The confirmation's post is public and reaches the log's one writer (a conditional append of
/// a consent per channel, refused or not): one client repeating a link it holds (its own sign-up's) is held
/// to the same per-client budget as the sign-up and `POST /consent`, so it cannot keep the
/// writer busy for everyone else.
#[tokio::test]
async fn repeated_confirmations_are_rate_limited_per_client() {
    let (_dir, _, store) = sqlite();
    let app = app_with(Arc::clone(&store), Some(1));
    let token = signed_up(&app, "maija@example.fi").await;
    // A second apart: the sign-up's turn is whole again.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(confirm(&app, &token).await.0);
    }
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::CONFLICT,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}

fn form_post(body: &str) -> Call<'_> {
    Call {
        uri: "/register/signup",
        admin: false,
        origin: Some(ORIGIN),
        content_type: "application/x-www-form-urlencoded",
        body: body.to_owned(),
    }
}

fn location(headers: &axum::http::HeaderMap) -> &str {
    headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .expect("a Location header")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_signup_form_works_without_javascript() {
    let (_dir, _, store) = sqlite();
    let app = app(Arc::clone(&store));

    // Repeated `channels` fields, one per box ticked; back to the page with the outcome.
    let (status, headers, _) = send(
        &app,
        form_post(
            "contact=Lomake%40Example.fi&channels=email&channels=post&return_to=%2Fuutiskirje",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location(&headers), "/uutiskirje?signup=ok");
    // One link for both channels, to the contact as normalised; confirmed, both are recorded.
    assert_eq!(store.len().await.expect("len"), 0);
    let messages = outbox(&app).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].0, "lomake@example.fi");
    assert_eq!(confirm(&app, &messages[0].1).await.0, StatusCode::OK);
    assert_eq!(store.len().await.expect("len"), 2);
    assert_eq!(
        may(&app, "lomake@example.fi", "email").await["allowed"],
        true
    );
    assert_eq!(
        may(&app, "lomake@example.fi", "post").await["allowed"],
        true
    );
    assert_eq!(
        may(&app, "lomake@example.fi", "sms").await["allowed"],
        false
    );

    // The visitor's mistakes come back as outcomes the page can explain; nothing stored.
    let visitor_mistakes = [
        (
            "contact=a%40example.fi&return_to=/en/newsletter",
            "/en/newsletter?signup=channels",
        ),
        (
            "contact=a%40%40example.fi&channels=email&return_to=/sv/nyhetsbrev?x=1",
            "/sv/nyhetsbrev?x=1&signup=contact",
        ),
        (
            "contact=&channels=email&return_to=/uutiskirje",
            "/uutiskirje?signup=contact",
        ),
        (
            "contact=a%40example.fi&channels=email&channels=sms&return_to=/uutiskirje%23tilaa",
            "/uutiskirje?signup=channel#tilaa",
        ),
    ];
    for (body, to) in visitor_mistakes {
        let (status, headers, answer) = send(&app, form_post(body)).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}: {answer}");
        assert_eq!(location(&headers), to, "{body}");
    }
    assert_eq!(store.len().await.expect("len"), 2);

    // A malformed form is the site's mistake: 422 naming the field, no redirect anywhere.
    let site_mistakes = [
        (
            "contact=a%40example.fi&channels=email&return_to=https://evil.example/",
            "return_to: \"https://evil.example/\" is not a path on this site",
        ),
        (
            "contact=a%40example.fi&channels=email&return_to=//evil.example",
            "return_to: \"//evil.example\" is not a path on this site",
        ),
        (
            "contact=a%40example.fi&channels=email",
            "return_to: missing",
        ),
        (
            "contact=a%40example.fi&channels=fax&return_to=/",
            "channels: \"fax\": unknown marketing channel",
        ),
        (
            "contact=a%40example.fi&contact=b%40example.fi&channels=email&return_to=/",
            "contact: given more than once",
        ),
        (
            "contact=a%40example.fi&channels=email&return_to=/&kind=objection",
            "kind: unknown field",
        ),
    ];
    for (body, message) in site_mistakes {
        let (status, headers, answer) = send(&app, form_post(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert!(headers.get(header::LOCATION).is_none(), "{body}");
        assert!(
            error(&answer).starts_with(message),
            "{answer} should say {message}"
        );
    }
    // Only from an allowed Origin, like the JSON sign-up.
    let mut call = form_post("contact=b%40example.fi&channels=email&return_to=/");
    call.origin = Some("https://evil.example");
    assert_eq!(send(&app, call).await.0, StatusCode::FORBIDDEN);
    let mut call = form_post("contact=b%40example.fi&channels=email&return_to=/");
    call.origin = None;
    assert_eq!(send(&app, call).await.0, StatusCode::FORBIDDEN);
    // Another content type is refused with what is accepted.
    let mut call = form_post("contact=b%40example.fi");
    call.content_type = "text/plain";
    let (status, _, answer) = send(&app, call).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        error(&answer).contains("application/x-www-form-urlencoded"),
        "{answer}"
    );
    assert_eq!(store.len().await.expect("len"), 2);
    let v = verify(
        &*store,
        &ServerKey::new(&[0x5a; 32]).expect("key"),
        None,
        |_| {},
    )
    .await
    .expect("verifies");
    assert_eq!(v.entries, 2);
}

/// The admin token cannot be guessed at speed: requests without it count against the
/// client's budget; staff with it are never held back.
#[tokio::test]
async fn guessing_the_admin_token_is_rate_limited() {
    let (_dir, _, store) = sqlite();
    let app = app_with(store, Some(1));
    let guess = |token: &str| {
        Request::builder()
            .method("POST")
            .uri("/register/may-market")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .extension(ConnectInfo(SocketAddr::from(([10, 0, 0, 9], 5555))))
            .body(Body::from(
                r#"{"contact": "a@example.fi", "channel": "email"}"#,
            ))
            .expect("request")
    };
    let mut statuses = Vec::new();
    for i in 0..4 {
        let response = app
            .clone()
            .oneshot(guess(&format!("wrong-{i}")))
            .await
            .expect("infallible");
        statuses.push(response.status());
    }
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    for _ in 0..4 {
        let response = app.clone().oneshot(guess(ADMIN)).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_form_post_goes_back_with_busy() {
    let (_dir, _, store) = sqlite();
    let app = app_with(Arc::clone(&store), Some(1));
    let mut outcomes = Vec::new();
    for i in 0..3 {
        let body = format!("contact=f{i}%40example.fi&channels=email&return_to=/uutiskirje");
        let (status, headers, _) = send(&app, form_post(&body)).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        outcomes.push(location(&headers).to_owned());
    }
    assert_eq!(
        outcomes,
        [
            "/uutiskirje?signup=ok",
            "/uutiskirje?signup=ok",
            "/uutiskirje?signup=busy"
        ]
    );
    assert_eq!(outbox(&app).await.len(), 2);
}

async fn get_admin(app: &Router, uri: &str) -> (StatusCode, Value) {
    let req = Request::builder()
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
        .body(Body::empty())
        .expect("request");
    let response = app.clone().oneshot(req).await.expect("infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Data-subject requests and the access export over HTTP (after `scenario`, on the same log).
async fn requests_and_access<S: Store>(store: Arc<S>) {
    let app = app(Arc::clone(&store));
    let today = time::OffsetDateTime::now_utc().date();
    let long_ago = (today - time::Duration::days(40)).to_string();

    // Bad input first: nothing is recorded.
    for (body, needle) in [
        (
            json!({ "kind": "access", "staff": "desk-1" }),
            "exactly one of contact and consent_id",
        ),
        (
            json!({ "kind": "gossip", "contact": "a@b.fi", "staff": "desk-1" }),
            "unknown request",
        ),
        (
            json!({ "kind": "access", "contact": "not a contact", "staff": "desk-1" }),
            "contact:",
        ),
        (
            json!({ "kind": "access", "contact": "a@b.fi", "staff": "desk-1", "received": "2099-01-01" }),
            "in the future",
        ),
        (
            json!({ "kind": "access", "contact": "a@b.fi", "staff": "desk-1", "received": "1.1.2026" }),
            "received:",
        ),
    ] {
        let (status, _, answer) = send(&app, admin_json("/register/requests", &body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert!(error(&answer).contains(needle), "{body}: {answer}");
    }
    let (status, list) = get_admin(&app, "/register/requests").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["requests"].as_array().map(Vec::len), Some(0));

    let (status, _, late) = send(
        &app,
        admin_json(
            "/register/requests",
            &json!({ "kind": "access", "contact": " Maija@Example.FI ", "staff": "desk-1", "received": long_ago }),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{late}");
    assert_eq!(late["overdue"], true);
    let (status, _, fresh) = send(
        &app,
        admin_json(
            "/register/requests",
            &json!({ "kind": "erasure", "consent_id": "5e".repeat(16), "staff": "desk-2" }),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{fresh}");
    assert!(
        fresh["days_left"].as_i64().is_some_and(|d| d >= 28),
        "{fresh}"
    );

    let (_, list) = get_admin(&app, "/register/requests").await;
    assert_eq!(list["overdue"], 1, "{list}");
    let ids: Vec<u64> = list["requests"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|r| r["id"].as_u64())
        .collect();
    assert_eq!(
        ids,
        [
            late["id"].as_u64().expect("id"),
            fresh["id"].as_u64().expect("id")
        ],
        "soonest deadline first"
    );

    // Closed on a day that has not come (the record would say the customer was answered then,
    // and the request leaves the open ones now): refused, as a request received then is.
    let uri = format!("/register/requests/{}", late["id"]);
    let tomorrow = (today + time::Duration::days(1)).to_string();
    let (status, _, answer) = send(
        &app,
        admin_json(&uri, &json!({ "close": "refused", "closed": tomorrow })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(error(&answer).contains("in the future"), "{answer}");

    // Completing before the identity is confirmed is refused; confirming then completing works.
    let (status, _, answer) = send(&app, admin_json(&uri, &json!({ "close": "completed" }))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert!(error(&answer).contains("identity"), "{answer}");
    let (status, _, answer) = send(
        &app,
        admin_json(
            &uri,
            &json!({ "identity": "in_person", "close": "completed" }),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["outcome"], "completed");
    let (status, _, answer) = send(
        &app,
        admin_json("/register/requests/999", &json!({ "extend": true })),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    let (_, open) = get_admin(&app, "/register/requests").await;
    assert_eq!(open["requests"].as_array().map(Vec::len), Some(1));
    let (_, all) = get_admin(&app, "/register/requests?all=true").await;
    assert_eq!(all["requests"].as_array().map(Vec::len), Some(2));

    // Access: the contact's records and answers, and the request about them.
    let (status, _, access) = send(
        &app,
        admin_json(
            "/register/access",
            &json!({ "contact": "maija@example.fi" }),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{access}");
    assert!(access.to_string().contains("maija@example.fi"), "{access}");
    let (status, _, page) = send(
        &app,
        admin_json(
            "/register/access",
            &json!({ "contact": "maija@example.fi", "format": "html", "lang": "sv" }),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let page = page.as_str().expect("html");
    assert!(page.contains(r#"lang="sv""#), "{page}");
    let (status, _, answer) = send(
        &app,
        admin_json(
            "/register/access",
            &json!({ "contact": "nobody@example.fi" }),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    // Without the admin token, nothing.
    let (status, _, _) = send(
        &app,
        Call {
            uri: "/register/access",
            admin: false,
            origin: Some(ORIGIN),
            content_type: "application/json",
            body: json!({ "contact": "maija@example.fi" }).to_string(),
        },
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn delete(app: &Router, uri: &str, admin: bool) -> StatusCode {
    let mut req = Request::builder()
        .method("DELETE")
        .uri(uri)
        .extension(ConnectInfo(SocketAddr::from(([10, 0, 0, 7], 5555))));
    if admin {
        req = req.header(header::AUTHORIZATION, format!("Bearer {ADMIN}"));
    }
    let response = app
        .clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    response.status()
}

/// A confirmation link waiting for the mailer survives a restart of the server, and a mailer
/// that peeks removes what it sent by id.
#[tokio::test]
async fn the_outbox_survives_a_restart_and_a_peeking_mailer_removes_what_it_sent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("consent.db");
    let key = ServerKey::new(&[0x5a; 32]).expect("key");
    let app1 = app(Arc::new(
        SqliteStore::open(&path, key.log_keys()).expect("open"),
    ));
    for contact in ["maija@example.fi", "pekka@example.fi"] {
        let (status, _, body) = send(&app1, email_signup(contact)).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    drop(app1);

    // Restarted: a new store on the same file, a new router.
    let store = Arc::new(SqliteStore::open(&path, key.log_keys()).expect("reopen"));
    let app2 = app(Arc::clone(&store));
    let (status, body) = get(&app2, "/register/outbox?peek=true", true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let body: Value = serde_json::from_str(&body).expect("json");
    let messages = body["messages"].as_array().expect("messages");
    let to: Vec<&str> = messages.iter().filter_map(|m| m["to"].as_str()).collect();
    assert_eq!(to, ["maija@example.fi", "pekka@example.fi"]);
    let id = messages[0]["id"].as_u64().expect("an id");

    // Sent: removed by id, once; the other stays for the next take.
    assert_eq!(
        delete(&app2, &format!("/register/outbox/{id}"), false).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        delete(&app2, &format!("/register/outbox/{id}"), true).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        delete(&app2, &format!("/register/outbox/{id}"), true).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        delete(&app2, "/register/outbox/not-a-number", true).await,
        StatusCode::BAD_REQUEST
    );
    let left = outbox(&app2).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].0, "pekka@example.fi");
    // The link taken after the restart still confirms.
    let (status, _) = confirm(&app2, &left[0].1).await;
    assert_eq!(status, StatusCode::OK);
    assert!(outbox(&app2).await.is_empty());
}

/// A link past its 48 hours is refused with a page that says so, and records nothing; up to
/// its last second it still confirms. The clock is the `now` that `confirm` takes.
#[tokio::test]
async fn an_expired_link_is_refused_and_records_nothing() {
    use consent_core::register::MarketingChannel;
    use consent_server::register::confirm::{self, ConfirmError, Pending, VALID_FOR};
    use time::{Duration, OffsetDateTime};
    let (_dir, key, store) = sqlite();
    let app = app(Arc::clone(&store));
    let contact = key.contact_hash(&Contact::parse("maija@example.fi").expect("contact"));

    // Through the page: a link mailed 49 hours ago.
    let signed_up = OffsetDateTime::now_utc() - Duration::hours(49);
    let old = Pending::new(contact, &[MarketingChannel::Email], 0, signed_up).token(&key);
    let (status, _) = get(&app, &format!("/register/confirm?token={old}"), false).await;
    assert_eq!(status, StatusCode::OK, "opening it shows the page");
    let (status, page) = confirm(&app, &old).await;
    assert_eq!(status, StatusCode::GONE);
    let page = page.as_str().expect("html");
    assert!(page.contains(r#"data-outcome="expired""#), "{page}");
    assert!(
        page.contains("This confirmation link has expired"),
        "{page}"
    );
    assert_eq!(store.len().await.expect("len"), 0);
    assert_eq!(
        may(&app, "maija@example.fi", "email").await["allowed"],
        false
    );

    // At the boundary, with the clock given: one second late is refused, the last second is not.
    let t = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time");
    let token = Pending::new(contact, &[MarketingChannel::Email], 0, t).token(&key);
    let late = confirm::confirm(&*store, &key, &token, t + VALID_FOR + Duration::seconds(1)).await;
    assert!(matches!(late, Err(ConfirmError::Expired)), "{late:?}");
    assert_eq!(
        late.map(|_| ()).expect_err("expired").to_string(),
        "token: the confirmation link has expired"
    );
    assert_eq!(store.len().await.expect("len"), 0);
    let last = confirm::confirm(&*store, &key, &token, t + VALID_FOR).await;
    assert_eq!(last.expect("still valid").len(), 1);
    assert_eq!(store.len().await.expect("len"), 1);
}

/// A confirmation for several channels records every channel or none: when the store refuses
/// one channel's consent (here the post one, older than a decision on post the log already
/// held), the e-mail consent is not left recorded either, and the link, still unused,
/// confirms both once the clock is past that decision.
#[tokio::test]
async fn a_confirmation_records_every_channel_or_none() {
    use consent_core::Channel;
    use consent_core::register::{MarketingChannel, MarketingKind, MarketingRecord, Staff};
    use consent_server::register::RecordError;
    use consent_server::register::confirm::{self, ConfirmError, Pending};
    use consent_server::store::{MarketingAppend, Register as _};
    use time::{Duration, OffsetDateTime};
    let (_dir, key, store) = sqlite();
    let contact = key.contact_hash(&Contact::parse("maija@example.fi").expect("contact"));
    let t = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time");
    // Before the sign-up, staff noted a decision on post made half an hour after it (a clock
    // ahead, a time typed in): the confirmation's post consent, ten minutes after the sign-up,
    // is older than it.
    let post = MarketingRecord::new(
        contact,
        MarketingChannel::Post,
        MarketingKind::SoftOptIn,
        t + Duration::minutes(30),
        Channel::Phone,
        Some("desk-1".parse::<Staff>().expect("staff")),
    )
    .expect("record");
    let held = store.append_marketing(post).await.expect("append");
    assert!(matches!(held, MarketingAppend::Stored(_)), "{held:?}");
    let channels = [MarketingChannel::Email, MarketingChannel::Post];
    let token = Pending::new(contact, &channels, 1, t).token(&key);

    let early = confirm::confirm(&*store, &key, &token, t + Duration::minutes(10)).await;
    assert!(
        matches!(
            early,
            Err(ConfirmError::Record(RecordError::OutOfOrder { .. }))
        ),
        "{early:?}"
    );
    assert_eq!(
        store.len().await.expect("len"),
        1,
        "neither channel recorded"
    );

    // Retried later, the same link confirms both channels together.
    let later = confirm::confirm(&*store, &key, &token, t + Duration::minutes(40)).await;
    let recorded = later.expect("confirmed");
    assert_eq!(
        recorded
            .iter()
            .map(|(channel, _)| *channel)
            .collect::<Vec<_>>(),
        channels
    );
    assert_eq!(store.len().await.expect("len"), 3);
    let again = confirm::confirm(&*store, &key, &token, t + Duration::minutes(41)).await;
    assert!(matches!(again, Err(ConfirmError::Superseded)), "{again:?}");
    verify(&*store, &key, None, |_| {}).await.expect("verifies");
}

/// The confirmation is in the chain: the recorded consent says the contact confirmed it and
/// when the sign-up was posted, and removing that from the record is caught by `verify`.
#[tokio::test]
async fn the_recorded_consent_says_its_contact_confirmed_it() {
    use consent_core::register::MarketingChannel;
    use consent_server::register::confirm::{self, Pending};
    use time::{Duration, OffsetDateTime};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("consent.db");
    let key = ServerKey::new(&[0x5a; 32]).expect("key");
    let store = SqliteStore::open(&path, key.log_keys()).expect("open");
    let contact = key.contact_hash(&Contact::parse("maija@example.fi").expect("contact"));
    let t = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time");
    let token = Pending::new(
        contact,
        &[MarketingChannel::Email, MarketingChannel::Post],
        0,
        t,
    )
    .token(&key);
    let recorded = confirm::confirm(&store, &key, &token, t + Duration::hours(3))
        .await
        .expect("confirmed");
    assert_eq!(recorded.len(), 2);
    let entries = store.scan(0, 10).await.expect("scan");
    for e in &entries {
        let r = e.marketing_record().expect("marketing").expect("valid");
        assert_eq!(r.via(), consent_core::Channel::WebForm);
        assert_eq!(r.confirmed().map(|c| c.signed_up()), Some(t));
        let json = e.record_json.as_deref().expect("json");
        assert!(
            json.contains(r#""confirmed":{"signed_up":"2027-01-15T08:00:00Z"}"#),
            "{json}"
        );
    }
    verify(&store, &key, None, |_| {}).await.expect("verifies");
    drop(store);

    // Someone with the database strips the confirmation from the first record: named.
    let conn = rusqlite::Connection::open(&path).expect("open");
    conn.execute(
        "UPDATE decisions SET record = replace(record, \
         ',\"confirmed\":{\"signed_up\":\"2027-01-15T08:00:00Z\"}', '') WHERE seq = 1",
        [],
    )
    .expect("tamper");
    drop(conn);
    let store = SqliteStore::open(&path, key.log_keys()).expect("reopen");
    let err = verify(&store, &key, None, |_| {})
        .await
        .expect_err("the edit is caught");
    assert!(
        err.to_string()
            .contains("record 1 does not match its digest"),
        "{err}"
    );
}

/// A staff refusal recorded while a confirmation is under way, after the sign-up and before
/// the confirmed consent reaches the log, stands: the confirmation is refused as a link
/// superseded by a later decision, and the contact stays refused.
///
/// Another connection holds the database's write lock, so the store's writer waits with what
/// it was given: the refusal first (handed over on its first poll), then the confirmation's
/// consent. The wait before the lock is released lets a confirmation that reads the log
/// before appending (as it did before the check moved into the writer) read it while the
/// refusal is not yet committed; the answer asserted does not depend on how long it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_recorded_during_a_confirmation_stands() {
    use consent_core::Channel;
    use consent_core::register::{MarketingChannel, MarketingKind, MarketingStatus};
    use consent_server::register::confirm::{self, ConfirmError, Pending};
    use consent_server::register::{self, Decision, Recorded};
    use time::{Duration, OffsetDateTime};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("consent.db");
    let key = ServerKey::new(&[0x5a; 32]).expect("key");
    let store = SqliteStore::open(&path, key.log_keys()).expect("open");
    let maija = Contact::parse("maija@example.fi").expect("contact");
    let t = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time");
    let token =
        Pending::new(key.contact_hash(&maija), &[MarketingChannel::Email], 0, t).token(&key);
    let now = t + Duration::hours(1);

    let holder = rusqlite::Connection::open(&path).expect("open");
    holder.execute_batch("BEGIN IMMEDIATE").expect("lock");
    let refusal = Decision {
        contact: "maija@example.fi".into(),
        channel: MarketingChannel::Email,
        kind: MarketingKind::Refusal,
        via: Channel::Phone,
        staff: Some("desk-1".into()),
        time: None,
    };
    let mut refusal = std::pin::pin!(register::record(&store, &key, refusal, now));
    support::writer::queue(refusal.as_mut()).await;
    let release = async {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        holder.execute_batch("COMMIT").expect("unlock");
    };
    let (refused, confirmed, ()) = tokio::join!(
        refusal,
        confirm::confirm(&store, &key, &token, now),
        release
    );
    assert_eq!(refused.expect("recorded"), Recorded::Stored { seq: 1 });
    assert!(
        matches!(confirmed, Err(ConfirmError::Superseded)),
        "{confirmed:?}"
    );
    let answer = register::may_market(&store, &key, &maija, MarketingChannel::Email, now)
        .await
        .expect("check");
    assert_eq!(answer.status(), Some(MarketingStatus::Refused));
    assert_eq!(store.len().await.expect("len"), 1);
    verify(&store, &key, None, |_| {}).await.expect("verifies");
}

/// `consent serve --demo`: the demo has no mailer, so its mailbox page shows the browser
/// that signed up the link the mailer would send, and nothing to anyone else.
#[tokio::test]
async fn the_demo_mailbox_shows_a_visitor_their_own_link_and_only_in_demo_mode() {
    let (_dir, key, store) = sqlite();
    let settings = Settings {
        config: Arc::new(Config::from_json(consent_core::EXAMPLE_CONFIG).expect("valid")),
        key: key.clone(),
        origins: vec![ORIGIN.into()],
        admin_token: Some(ADMIN.into()),
        secure_cookie: false,
        rate_limit: None,
        dist: None,
        demo: Some(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/demo").into()),
        demo_page_layer: true,
        trusted_proxies: Default::default(),
        head_file: None,
    };
    let demo = router(Arc::clone(&store), settings.clone()).merge(
        consent_server::register::api::router(Arc::clone(&store), settings),
    );
    let (status, headers, _) = send(
        &demo,
        Call {
            uri: "/register/signup",
            admin: false,
            origin: Some(ORIGIN),
            content_type: "application/x-www-form-urlencoded",
            body: "contact=maija%40example.fi&channels=email&return_to=%2Fen%2Fnewsletter".into(),
        },
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cookie = headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("the demo names the message")
        .split(';')
        .next()
        .expect("name=value")
        .to_owned();
    let mailbox = |cookie: Option<String>| {
        let demo = demo.clone();
        async move {
            let mut req = Request::builder()
                .uri("/demo/mail")
                .extension(ConnectInfo(SocketAddr::from(([10, 0, 0, 7], 5555))));
            if let Some(c) = cookie {
                req = req.header(header::COOKIE, c);
            }
            let response = demo
                .oneshot(req.body(Body::empty()).expect("request"))
                .await
                .expect("infallible");
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .expect("body");
            (status, String::from_utf8_lossy(&bytes).into_owned())
        }
    };
    let (status, page) = mailbox(Some(format!("consent=x; {cookie}"))).await;
    assert_eq!(status, StatusCode::OK);
    let (to, token) = {
        let (_, body) = get(&demo, "/register/outbox?peek=true", true).await;
        let body: Value = serde_json::from_str(&body).expect("json");
        let m = &body["messages"][0];
        (
            m["to"].as_str().expect("to").to_owned(),
            m["link"].as_str().expect("link").to_owned(),
        )
    };
    assert!(page.contains(&to), "{page}");
    assert!(page.contains(&format!(r#"href="{token}""#)), "{page}");
    // Another browser, without the cookie, sees no one's message.
    let (status, page) = mailbox(None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !page.contains("maija") && page.contains("No confirmation message"),
        "{page}"
    );
    // Following the link confirms.
    let (status, _) = confirm(&demo, token.rsplit_once("token=").expect("token").1).await;
    assert_eq!(status, StatusCode::OK);

    // Outside demo mode: no cookie, no mailbox page.
    let plain = app(Arc::clone(&store));
    let (status, headers, _) = send(
        &plain,
        Call {
            uri: "/register/signup",
            admin: false,
            origin: Some(ORIGIN),
            content_type: "application/json",
            body: json!({ "contact": "pekka@example.fi", "channels": ["email"] }).to_string(),
        },
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert!(headers.get(header::SET_COOKIE).is_none());
    let (status, _) = get(&plain, "/demo/mail", false).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The pages a confirmation link opens are the contact's alone: its token is in their URL. A
/// mail scanner's or a browser's prefetch (`GET`, `HEAD`, `Sec-Purpose: prefetch`) records
/// nothing, and no page of the link (the one asking, the one answering the button) may be
/// kept by a cache, pass the token on in a `Referer`, or be indexed by a search engine that
/// came by the link (a webmail's preview, a forwarded message). They said `no-store` and
/// `no-referrer` but nothing to a robot, so a link that leaked was listed with its button.
#[tokio::test]
async fn the_confirmation_pages_are_never_kept_passed_on_or_indexed() {
    let (_dir, _, store, app) = on_sqlite();
    let token = signed_up(&app, "maija@example.fi").await;
    let page = |method: &'static str, purpose: Option<&'static str>| {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("/register/confirm?token={token}"));
        if let Some(p) = purpose {
            req = req.header("Sec-Purpose", p);
        }
        app.clone()
            .oneshot(req.body(Body::empty()).expect("request"))
    };
    let mut answers = Vec::new();
    for (method, purpose) in [
        ("GET", None),
        ("HEAD", None),
        ("GET", Some("prefetch")),
        ("GET", Some("prefetch;prerender")),
    ] {
        let response = page(method, purpose).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::OK, "{method} {purpose:?}");
        answers.push(response.headers().clone());
    }
    assert_eq!(
        store.len().await.expect("len"),
        0,
        "opening records nothing"
    );
    let (status, headers, _) = send(&app, confirm_post(format!("token={token}&lang=fi"))).await;
    assert_eq!(status, StatusCode::OK);
    answers.push(headers);
    let (status, headers, _) = send(&app, confirm_post("token=forged".into())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    answers.push(headers);
    for h in &answers {
        let value = |name: &str| h.get(name).and_then(|v| v.to_str().ok());
        assert_eq!(value("cache-control"), Some("no-store"), "{h:?}");
        assert_eq!(value("referrer-policy"), Some("no-referrer"), "{h:?}");
        assert!(
            value("x-robots-tag").is_some_and(|v| v.contains("noindex") && v.contains("nofollow")),
            "{h:?}"
        );
    }
    assert_eq!(store.len().await.expect("len"), 1);
}

/// A decision may be dated up to a few minutes after the server's clock (a staff machine's
/// clock ahead). Kept at that time, it made every decision recorded for the contact and
/// channel before then "out of order": the customer's objection, recorded a minute later,
/// was refused with 409, and marketing went on; a link the contact confirmed meanwhile
/// failed. Such a decision is dated when the server recorded it.
#[tokio::test]
async fn a_decision_dated_ahead_does_not_hold_back_an_objection() {
    let (_dir, key, store, app) = on_sqlite();
    let ahead = (time::OffsetDateTime::now_utc() + time::Duration::minutes(4))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    // Recorded by the front desk for `contact` on e-mail, at `time` (or now).
    let decide = async |contact: &str, kind: &str, time: Option<&str>| {
        let mut body = json!({ "contact": contact, "channel": "email", "kind": kind,
                               "via": "front_desk", "staff": "desk-2" });
        if let Some(t) = time {
            body["time"] = json!(t);
        }
        let (status, _, body) = send(&app, admin_json("/register/marketing", &body)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    };
    decide("maija@example.fi", "consent", Some(&ahead)).await;
    assert_eq!(
        may(&app, "maija@example.fi", "email").await["allowed"],
        true,
        "in force at once"
    );
    decide("maija@example.fi", "objection", None).await;
    let answer = may(&app, "maija@example.fi", "email").await;
    assert_eq!(answer["status"], "objected", "{answer}");

    // Staff record a refusal dated ahead after a sign-up: its link is superseded, not failed,
    // and a new sign-up's link confirms.
    let token = signed_up(&app, "pekka@example.fi").await;
    decide("pekka@example.fi", "refusal", Some(&ahead)).await;
    let (status, _) = confirm(&app, &token).await;
    assert_eq!(status, StatusCode::CONFLICT, "superseded, not failed");
    let token = signed_up(&app, "pekka@example.fi").await;
    let (status, _) = confirm(&app, &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        may(&app, "pekka@example.fi", "email").await["status"],
        "consented"
    );
    verify(&*store, &key, None, |_| {}).await.expect("verifies");
}

/// A decision dated before 2000 is a mistyped year (0025 for 2025) or a zero date from a
/// staff tool (0001-01-01, 1900-01-01, 1970-01-01), never a decision the clinic holds: it
/// was recorded, and sorted before everything the contact had decided, a consent from year
/// 1 as the proof marketing rested on. It is refused (422), naming the field and the bound,
/// and nothing is stored; a paper consent from last year, or one from 2000-01-01 itself, is
/// recorded.
#[tokio::test]
async fn a_decision_dated_before_2000_is_refused() {
    let (_dir, key, store, app) = on_sqlite();
    let consent = |contact: &str, time: &str| {
        json!({ "contact": contact, "channel": "email", "kind": "consent",
                "via": "front_desk", "staff": "desk-2", "time": time })
    };
    for time in [
        "0001-01-01T00:00:00Z",
        "0025-11-22T09:30:00+02:00",
        "1900-01-01T00:00:00Z",
        "1970-01-01T00:00:00Z",
        "1999-12-31T23:59:59Z",
        "2000-01-01T01:59:59+02:00",
    ] {
        let (status, _, body) = send(
            &app,
            admin_json("/register/marketing", &consent("maija@example.fi", time)),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{time}: {body}");
        assert!(
            error(&body).starts_with("time: before 2000-01-01T00:00:00Z"),
            "{time}: {body}"
        );
    }
    assert_eq!(store.len().await.expect("len"), 0, "nothing stored");
    assert_eq!(
        may(&app, "maija@example.fi", "email").await["allowed"],
        false
    );

    let last_year = (time::OffsetDateTime::now_utc() - time::Duration::days(365))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format");
    for (contact, time) in [
        ("maija@example.fi", "2000-01-01T00:00:00Z"),
        ("pekka@example.fi", last_year.as_str()),
    ] {
        let (status, _, body) = send(
            &app,
            admin_json("/register/marketing", &consent(contact, time)),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{time}: {body}");
        assert_eq!(may(&app, contact, "email").await["allowed"], true);
    }
    verify(&*store, &key, None, |_| {}).await.expect("verifies");
}

/// Sign-ups for `victim@example.fi` through two servers (`a` and `b`) on one database, and
/// through a third started afterwards (`restarted`): the contact's limit of confirmation
/// messages holds across them. Kept in each server's memory, every server sent its own
/// three at once and one an hour, and a restart sent three more.
async fn one_limit_across_servers<S: Store>(a: Arc<S>, b: Arc<S>, restarted: Arc<S>) {
    let (a, b) = (app(a), app(b));
    for _ in 0..5 {
        for server in [&a, &b] {
            let (status, _, body) = send(server, email_signup("victim@example.fi")).await;
            assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        }
    }
    let restarted = app(restarted);
    let (status, _, body) = send(&restarted, email_signup(" Victim@Example.FI ")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let (status, _, body) = send(&restarted, email_signup("other@example.fi")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let sent = outbox(&b).await;
    let to = |who: &str| sent.iter().filter(|(to, _)| to == who).count();
    assert_eq!(to("victim@example.fi"), 3, "{sent:?}");
    assert_eq!(
        to("other@example.fi"),
        1,
        "another contact is not held back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_messages_to_one_contact_are_limited_across_servers_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("consent.db");
    let open = || {
        Arc::new(
            SqliteStore::open(&path, ServerKey::new(&[0x5a; 32]).expect("key").log_keys())
                .expect("open"),
        )
    };
    let (a, b) = (open(), open());
    one_limit_across_servers(a, b, open()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_messages_to_one_contact_are_limited_across_servers_on_postgresql() {
    if support::pg::skip() {
        return;
    }
    let cluster = support::pg::Cluster::start_new();
    let connect = async || {
        Arc::new(
            PgStore::connect(
                &cluster.url("consent"),
                ServerKey::new(&[0x5a; 32]).expect("key").log_keys(),
            )
            .await
            .expect("connect"),
        )
    };
    let (a, b) = (connect().await, connect().await);
    one_limit_across_servers(a, b, connect().await).await;
    drop(cluster);
}
