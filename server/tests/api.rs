//! The HTTP API, through the real router and a real SQLite file.

// Helpers outside #[test] functions, where clippy's in-test allowances do not reach.
#![allow(clippy::expect_used)]

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use consent_core::policy::{self, Action, Context, Signals};
use consent_core::{
    Channel, Config, ConsentId, ConsentState, DecisionRecord, Lang, Method, PageUrl, Token,
};
use consent_server::ServerKey;
use consent_server::api::{Settings, router};
use consent_server::store::Log as _;
use consent_server::store::sqlite::SqliteStore;
use consent_server::verify::verify;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tower::ServiceExt as _;

const ORIGIN: &str = "https://klinikka.fi";
const ADMIN: &str = "s3cret-admin-token";

struct Api {
    _dir: tempfile::TempDir,
    dist: std::path::PathBuf,
    store: Arc<SqliteStore>,
    router: Router,
    key: ServerKey,
}

fn config() -> Config {
    Config::from_json(consent_core::EXAMPLE_CONFIG).expect("valid")
}

fn api_with(rate_limit: Option<u32>, config: Config) -> Api {
    api_behind(rate_limit, config, Vec::new())
}

/// As [`api_with`], behind the reverse proxies `trusted` (the test requests come from
/// 10.0.0.7).
fn api_behind(rate_limit: Option<u32>, config: Config, trusted: Vec<std::net::IpAddr>) -> Api {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = ServerKey::new(&[0x5a; 32]).expect("key");
    api_in(dir, key, rate_limit, config, trusted)
}

/// The API on the log in `dir`, under `key`.
fn api_in(
    dir: tempfile::TempDir,
    key: ServerKey,
    rate_limit: Option<u32>,
    config: Config,
    trusted: Vec<std::net::IpAddr>,
) -> Api {
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(&dist).expect("mkdir");
    std::fs::write(dist.join("consent.js"), "export default 1;").expect("write");
    std::fs::write(dist.join("consent_bg.wasm"), b"\0asm\x01\0\0\0").expect("write");
    let store =
        Arc::new(SqliteStore::open(dir.path().join("consent.db"), key.log_keys()).expect("open"));
    let settings = Settings {
        config: Arc::new(config),
        key: key.clone(),
        origins: vec![ORIGIN.into()],
        admin_token: Some(ADMIN.into()),
        secure_cookie: false,
        rate_limit: rate_limit.and_then(NonZeroU32::new),
        dist: Some(dist.clone()),
        demo: Some(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/demo").into()),
        demo_page_layer: true,
        trusted_proxies: consent_server::client::Proxies {
            trusted,
            header: Default::default(),
        },
        head_file: None,
    };
    // As `consent serve` mounts them: the decision API beside the register's routes.
    let router = router(Arc::clone(&store), settings.clone()).merge(
        consent_server::register::api::router(Arc::clone(&store), settings),
    );
    Api {
        _dir: dir,
        dist,
        store,
        router,
        key,
    }
}

fn api() -> Api {
    api_with(None, config())
}

/// A decision made in the browser: the unsigned token and the page, as the banner sends them.
fn submission(id: u8, action: Action) -> (Value, ConsentId) {
    submission_under(&config(), id, action)
}

/// As [`submission`], made by a banner whose config is `config`.
fn submission_under(config: &Config, id: u8, action: Action) -> (Value, ConsentId) {
    let now = OffsetDateTime::now_utc();
    let before = policy::evaluate(config, None, None, now, Signals::default());
    let ctx = Context {
        now,
        signals: Signals::default(),
        lang: Lang::Sv,
        fresh_id: ConsentId::from_bytes([id; 16]),
    };
    let d = policy::decide(config, &before, action, ctx).expect("in range");
    let body = json!({
        "token": Token::unsigned(*d.state()).to_string(),
        "page": "https://klinikka.fi/sv/?utm_source=x",
    });
    (body, d.state().id())
}

/// The token of `body` with its method replaced: a token the policy never makes, with
/// everything else (and its structure) intact. The flags byte follows the 16-byte id, the two
/// time varints (5 and 1 bytes now), the revision (1 byte) and the 4-byte fingerprint.
fn forge_method(body: &Value, method: Method) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let token = body["token"].as_str().expect("token");
    let mut payload = b64.decode(&token[2..]).expect("base64url");
    let flags = &mut payload[16 + 5 + 1 + 1 + 4];
    let code = Method::ALL
        .iter()
        .position(|m| *m == method)
        .expect("a method") as u8;
    *flags = (*flags & !0b111) | code;
    let forged = format!("1.{}", b64.encode(payload));
    let parsed: Token = forged.parse().expect("still a token");
    assert_eq!(parsed.state().method(), method);
    forged
}

fn request(method: &str, uri: &str, body: Body) -> axum::http::request::Builder {
    let _ = body;
    Request::builder()
        .method(method)
        .uri(uri)
        .extension(ConnectInfo(SocketAddr::from(([10, 0, 0, 7], 5555))))
}

async fn send(api: &Api, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
    let response = api.router.clone().oneshot(req).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, headers, value)
}

/// The consent id the server issued, from its answer.
fn issued(answer: &Value) -> ConsentId {
    answer["consent_id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("a consent id in the answer")
}

async fn post(api: &Api, body: &Value) -> (StatusCode, axum::http::HeaderMap, Value) {
    let req = request("POST", "/consent", Body::empty())
        .header(header::ORIGIN, ORIGIN)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    send(api, req).await
}

#[tokio::test]
async fn a_decision_is_logged_and_answered_with_a_signed_token() {
    let api = api();
    let (body, posted) = submission(1, Action::AcceptAll);
    let (status, headers, answer) = post(&api, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let token = answer["token"].as_str().expect("token");
    let signed =
        Token::parse_verified(token, Some(api.key.token_key())).expect("signed by the server key");
    // The server issues the id: the visitor showed no token it signed for the posted one.
    let id = issued(&answer);
    assert_eq!(signed.state().id(), id);
    assert_ne!(id, posted);
    assert!(
        api.store
            .records_for(posted)
            .await
            .expect("read")
            .is_empty()
    );
    let cookie = headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("Set-Cookie");
    assert!(
        cookie.starts_with(&format!("consent={token}")) && cookie.contains("Secure"),
        "{cookie}"
    );
    assert_eq!(
        headers
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .map(|v| v.to_str().ok()),
        Some(Some(ORIGIN))
    );

    let entries = api.store.records_for(id).await.expect("read");
    assert_eq!(entries.len(), 1);
    let record = entries[0].record().expect("kept").expect("json");
    assert_eq!(
        record.page_url().map(PageUrl::as_str),
        Some("https://klinikka.fi/sv/")
    );
    assert_eq!(record.lang(), Lang::Sv);
    assert_eq!(record.action(), consent_core::Method::AcceptAll);
    // Logged at the server's clock, the same instant the signed token carries.
    assert_eq!(record.time(), signed.state().last_decision());
    verify(&*api.store, &api.key, None, |_| {})
        .await
        .expect("chain verifies");
}

#[tokio::test]
async fn the_compiled_policy_and_texts_are_served_from_the_servers_config() {
    let api = api();
    for (name, bytes) in consent_core::bundle::files(&config()).expect("compiles") {
        let req = request("GET", &format!("/consent/{name}"), Body::empty())
            .body(Body::empty())
            .expect("request");
        let response = api.router.clone().oneshot(req).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::OK, "{name}");
        let kind = response.headers()[header::CONTENT_TYPE]
            .to_str()
            .expect("text")
            .to_owned();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        assert_eq!(body.as_ref(), bytes.as_slice(), "{name}");
        assert_eq!(
            kind.ends_with("json"),
            name.ends_with(".json"),
            "{name}: {kind}"
        );
    }
    let req = request("GET", "/consent/texts-de.json", Body::empty())
        .body(Body::empty())
        .expect("request");
    assert_ne!(send(&api, req).await.0, StatusCode::OK, "no German texts");
}

#[tokio::test]
async fn only_allowed_origins_may_record() {
    let api = api();
    let (body, _) = submission(2, Action::AcceptAll);
    for origin in [
        Some("https://evil.example"),
        Some("http://klinikka.fi"),
        None,
    ] {
        let mut req = request("POST", "/consent", Body::empty())
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(o) = origin {
            req = req.header(header::ORIGIN, o);
        }
        let (status, _, answer) = send(
            &api,
            req.body(Body::from(body.to_string())).expect("request"),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{origin:?}: {answer}");
        assert!(answer["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    assert_eq!(api.store.len().await.expect("len"), 0);
}

/// A banner on another origin asks first: the two public endpoints it posts to answer the
/// preflight of an allowed origin alike, and give any other origin nothing to go on.
#[tokio::test]
async fn the_public_endpoints_answer_a_preflight_from_an_allowed_origin_only() {
    let api = api();
    for path in ["/consent", "/register/signup"] {
        let preflight = |origin: &str| {
            request("OPTIONS", path, Body::empty())
                .header(header::ORIGIN, origin)
                .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
                .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
                .body(Body::empty())
                .expect("request")
        };
        let (status, h, _) = send(&api, preflight(ORIGIN)).await;
        assert!(status.is_success(), "{path}: {status}");
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_ORIGIN], ORIGIN, "{path}");
        assert_eq!(
            h[header::ACCESS_CONTROL_ALLOW_CREDENTIALS],
            "true",
            "{path}"
        );
        let methods = h[header::ACCESS_CONTROL_ALLOW_METHODS]
            .to_str()
            .expect("text");
        assert!(methods.contains("POST"), "{path}: {methods}");
        let allowed = h[header::ACCESS_CONTROL_ALLOW_HEADERS]
            .to_str()
            .expect("text");
        assert!(
            allowed.to_ascii_lowercase().contains("content-type"),
            "{path}: {allowed}"
        );
        assert_eq!(h[header::ACCESS_CONTROL_MAX_AGE], "600", "{path}");
        let vary: Vec<_> = h
            .get_all(header::VARY)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        assert!(
            vary.iter()
                .any(|v| v.to_ascii_lowercase().contains("origin")),
            "{path}: {vary:?}"
        );
        for foreign in ["https://evil.example", "http://klinikka.fi"] {
            let (_, h, _) = send(&api, preflight(foreign)).await;
            assert!(
                h.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none(),
                "{path} {foreign}"
            );
        }
    }
    assert_eq!(api.store.len().await.expect("len"), 0);
}

#[tokio::test]
async fn bad_bodies_get_clear_statuses_and_record_nothing() {
    let api = api();
    let (good, _) = submission(3, Action::AcceptAll);
    // Tokens the policy never makes: "Accept all" that grants nothing, "Reject all" that
    // grants everything. Their records would say what the method says.
    let mut accept_nothing = good.clone();
    accept_nothing["token"] =
        forge_method(&submission(3, Action::RejectAll).0, Method::AcceptAll).into();
    let mut reject_everything = good.clone();
    reject_everything["token"] = forge_method(&good, Method::RejectAll).into();
    let mut bad_page = good.clone();
    bad_page["page"] = "javascript:alert(1)".into();
    let mut bad_token = good.clone();
    bad_token["token"] = "1.AAAA".into();
    let mut extra = good.clone();
    extra["ip"] = "10.0.0.1".into();
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            json!("not an object"),
            StatusCode::BAD_REQUEST,
            "invalid JSON body",
        ),
        (extra, StatusCode::BAD_REQUEST, "unknown field"),
        (bad_token, StatusCode::UNPROCESSABLE_ENTITY, "token:"),
        (
            accept_nothing,
            StatusCode::UNPROCESSABLE_ENTITY,
            "method contradicts its choices",
        ),
        (
            reject_everything,
            StatusCode::UNPROCESSABLE_ENTITY,
            "method contradicts its choices",
        ),
        (bad_page, StatusCode::UNPROCESSABLE_ENTITY, "page:"),
    ];
    for (body, want, message) in cases {
        let (status, _, answer) = post(&api, &body).await;
        assert_eq!(status, want, "{answer}");
        assert!(
            answer["error"]
                .as_str()
                .is_some_and(|e| e.contains(message)),
            "{answer}"
        );
    }
    let req = request("POST", "/consent", Body::empty())
        .header(header::ORIGIN, ORIGIN)
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from(good.to_string()))
        .expect("request");
    assert_eq!(send(&api, req).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = json!({ "token": "x".repeat(20_000), "record": {} });
    assert_eq!(post(&api, &huge).await.0, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(api.store.len().await.expect("len"), 0);
}

#[tokio::test]
async fn the_log_keeps_the_servers_record_never_the_one_sent() {
    // A banner of an earlier release sends its own record beside the token. The server reads
    // and ignores it: the record it logs is made from the token and the server's config, with
    // the server's hash of the texts, whatever the body claimed.
    let (mut body, _) = submission(9, Action::Custom(consent_core::Choices::none()));
    let mut v: Value = serde_json::from_str(consent_core::EXAMPLE_CONFIG).expect("json");
    v["categories"][1]["services"][0]["purpose"]["sv"] = "Något annat än på servern.".into();
    let other = Config::from_value(&v).expect("valid");
    let token: Token = body["token"]
        .as_str()
        .expect("token")
        .parse()
        .expect("token");
    let mut lie = json!(DecisionRecord::new(
        &other,
        token.state(),
        None,
        Channel::WebForm
    ));
    lie["action"] = "accept_all".into();
    lie["categories"][2]["granted"] = true.into();
    body["record"] = lie;
    let api = api();
    let (status, _, answer) = post(&api, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let entries = api.store.records_for(issued(&answer)).await.expect("read");
    let record = entries[0].record().expect("kept").expect("json");
    assert_eq!(record.action(), Method::Custom, "the token's method");
    assert!(record.categories().iter().skip(1).all(|c| !c.granted));
    assert_eq!(record.shown_hash(), config().shown_hash(Lang::Sv));
    assert_eq!(record.channel(), Channel::Banner);
    assert_eq!(
        record.page_url().map(PageUrl::as_str),
        Some("https://klinikka.fi/sv/")
    );
    let signed: Token = answer["token"]
        .as_str()
        .expect("token")
        .parse()
        .expect("token");
    assert_eq!(
        record,
        DecisionRecord::new(
            &config(),
            signed.state(),
            record.page_url().cloned(),
            Channel::Banner
        ),
        "exactly the record the server makes of its signed token"
    );
}

#[tokio::test]
async fn a_decision_under_an_older_revision_is_a_conflict() {
    let mut v: Value = serde_json::from_str(consent_core::EXAMPLE_CONFIG).expect("json");
    v["revision"] = 2.into();
    let api = api_with(None, Config::from_value(&v).expect("valid"));
    let (body, _) = submission(4, Action::AcceptAll);
    let (status, _, answer) = post(&api, &body).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .is_some_and(|e| e.contains("revision 2"))
    );
}

#[tokio::test]
async fn a_decision_under_another_sites_config_is_a_conflict() {
    let config = Config::from_json(consent_core::EXAMPLE_CONFIG).expect("valid");
    let api = api_with(None, config.with_site("our-clinic").expect("a site id"));
    // `submission` decides under the example config, which has no site.
    let (body, _) = submission(5, Action::AcceptAll);
    let (status, _, answer) = post(&api, &body).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .is_some_and(|e| e.contains("revision 1, site our-clinic")),
        "{answer}"
    );
    assert_eq!(api.store.len().await.expect("len"), 0);
}

#[tokio::test]
async fn each_client_is_rate_limited() {
    // 2 a second, bursts of 4: the first 4 at once are taken, the rest refused.
    let api = api_with(Some(2), config());
    let mut statuses = Vec::new();
    for i in 0..8u8 {
        let (body, _) = submission(10 + i, Action::RejectAll);
        statuses.push(post(&api, &body).await.0);
    }
    let expected: Vec<_> = [StatusCode::CREATED; 4]
        .into_iter()
        .chain([StatusCode::TOO_MANY_REQUESTS; 4])
        .collect();
    assert_eq!(statuses, expected);
    assert_eq!(api.store.len().await.expect("len"), 4);
    // Reading records is limited too, and a forged X-Forwarded-For from a client that is
    // not a trusted proxy buys no new budget.
    let read = |xff: &'static str| {
        request("GET", "/consent/me", Body::empty())
            .header("x-forwarded-for", xff)
            .body(Body::empty())
            .expect("r")
    };
    assert_eq!(
        send(&api, read("203.0.113.1")).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        send(&api, read("203.0.113.2")).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Erasing is limited too (issue 15: `DELETE /consent/...` had no limit), and the limit is
/// checked before anything else: over it, even the record's owner with a valid cookie is
/// refused and the record stays.
#[tokio::test]
async fn rate_limit_erasures_answer_429_and_erase_nothing() {
    // 1 a second, bursts of 2: the decision and one erasure attempt use up the budget.
    let api = api_with(Some(1), config());
    let (body, _) = submission(60, Action::AcceptAll);
    let (status, _, answer) = post(&api, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let token = answer["token"].as_str().expect("token").to_owned();
    let id = issued(&answer);
    let erase = |uri: String, cookie: Option<&str>| {
        let mut r = request("DELETE", &uri, Body::empty());
        if let Some(token) = cookie {
            r = r.header("cookie", format!("consent={token}"));
        }
        r.body(Body::empty()).expect("r")
    };
    let (status, _, _) = send(&api, erase(format!("/consent/{id}"), None)).await;
    assert_ne!(status, StatusCode::TOO_MANY_REQUESTS);
    for uri in ["/consent/me".to_owned(), format!("/consent/{id}")] {
        let (status, _, answer) = send(&api, erase(uri.clone(), Some(&token))).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{uri}: {answer}");
    }
    let records = api.store.records_for(id).await.expect("records");
    assert_eq!(records.len(), 1);
    assert!(!records[0].is_erased(), "nothing erased over the limit");
}

/// The admin login prompt is limited (issue 15), before the token is checked, so the token
/// cannot be guessed at speed: over the limit even the right token is refused, without the
/// Basic challenge.
#[tokio::test]
async fn rate_limit_admin_login_answers_429() {
    let api = api_with(Some(1), config());
    let admin = |authorization: Option<String>| {
        let mut r = request("GET", "/admin", Body::empty());
        if let Some(a) = authorization {
            r = r.header(header::AUTHORIZATION, a);
        }
        r.body(Body::empty()).expect("r")
    };
    for guess in [None, Some("Bearer wrong".to_owned())] {
        let (status, headers, _) = send(&api, admin(guess)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(headers.contains_key(header::WWW_AUTHENTICATE));
    }
    for guess in [
        None,
        Some("Bearer wrong-again".to_owned()),
        Some(format!("Bearer {ADMIN}")),
    ] {
        let (status, headers, _) = send(&api, admin(guess.clone())).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{guess:?}");
        assert!(!headers.contains_key(header::WWW_AUTHENTICATE), "{guess:?}");
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_visitor_has_their_own_budget() {
    let proxy: std::net::IpAddr = "10.0.0.7".parse().expect("ip");
    let api = api_behind(Some(1), config(), vec![proxy]);
    let from = |visitor: &'static str, i: u8| {
        let (body, _) = submission(40 + i, Action::RejectAll);
        request("POST", "/consent", Body::empty())
            .header(header::ORIGIN, ORIGIN)
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-forwarded-for", visitor)
            .body(Body::from(body.to_string()))
            .expect("request")
    };
    let mut statuses = Vec::new();
    for i in 0..3 {
        statuses.push(send(&api, from("203.0.113.1", i)).await.0);
    }
    // Bursts of 2 for the first visitor; the second has a budget of their own.
    assert_eq!(
        statuses,
        [
            StatusCode::CREATED,
            StatusCode::CREATED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    assert_eq!(
        send(&api, from("203.0.113.2", 3)).await.0,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn the_visitor_or_an_admin_may_read_and_erase() {
    let api = api();
    let (body, _) = submission(5, Action::AcceptAll);
    let (_, _, answer) = post(&api, &body).await;
    let token = answer["token"].as_str().expect("token").to_owned();
    let id = issued(&answer);
    let uri = format!("/consent/{id}");
    // The visitor's own records without the id in the URL: the signed cookie says whose.
    let (status, _, mine) = send(
        &api,
        request("GET", "/consent/me", Body::empty())
            .header("cookie", format!("consent={token}"))
            .body(Body::empty())
            .expect("r"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["consent_id"], id.to_string());
    // An unsigned token for the same id is no key to the records.
    let unsigned = Token::unsigned(
        *Token::parse_verified(&token, Some(api.key.token_key()))
            .expect("signed")
            .state(),
    );
    for path in ["/consent/me".to_owned(), uri.clone()] {
        let (status, _, _) = send(
            &api,
            request("GET", &path, Body::empty())
                .header("cookie", format!("consent={unsigned}"))
                .body(Body::empty())
                .expect("r"),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
    }
    let get = |auth: Option<(&'static str, String)>| {
        let mut req = request("GET", &uri, Body::empty());
        if let Some((name, value)) = auth {
            req = req.header(name, value);
        }
        req.body(Body::empty()).expect("request")
    };
    assert_eq!(send(&api, get(None)).await.0, StatusCode::UNAUTHORIZED);
    let (_, other_id) = submission(6, Action::AcceptAll);
    let (status, _, _) = send(
        &api,
        request("GET", &format!("/consent/{other_id}"), Body::empty())
            .header("cookie", format!("consent={token}"))
            .body(Body::empty())
            .expect("r"),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a visitor may read only their own id"
    );
    let (status, _, mine) = send(
        &api,
        get(Some(("cookie", format!("lang=sv; consent={token}")))),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["records"][0]["record"]["consent_id"], id.to_string());
    let (status, _, _) = send(
        &api,
        get(Some(("authorization", format!("Bearer {ADMIN}")))),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = send(
        &api,
        get(Some(("authorization", "Bearer wrong".to_owned()))),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let del = request("DELETE", &uri, Body::empty())
        .header("cookie", format!("consent={token}"))
        .body(Body::empty())
        .expect("r");
    let (status, _, answer) = send(&api, del).await;
    assert_eq!(
        (status, answer["erased"].as_u64()),
        (StatusCode::OK, Some(1))
    );
    let (status, _, _) = send(
        &api,
        get(Some(("authorization", format!("Bearer {ADMIN}")))),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let v = verify(&*api.store, &api.key, None, |_| {})
        .await
        .expect("still verifies");
    // The decision and the erasure entry that names it.
    assert_eq!((v.entries, v.erased), (2, 1));
    let (status, _, answer) = send(
        &api,
        request("GET", "/consent/zz", Body::empty())
            .body(Body::empty())
            .expect("r"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
}

/// A consent id is not a password: knowing one (from a log, a URL) and posting a decision for
/// it gets a fresh id, never a signed token for the victim's; the visitor who shows the signed
/// cookie, or the signed token in the body (an endpoint on another origin), keeps theirs.
#[tokio::test]
async fn a_consent_id_is_continued_only_with_a_token_signed_for_it() {
    let api = api();
    let (body, _) = submission(7, Action::AcceptAll);
    let (_, _, answer) = post(&api, &body).await;
    let victim = issued(&answer);
    let victims_token = answer["token"].as_str().expect("token").to_owned();
    // The attacker makes their own decision under the victim's id.
    let forge = |id: ConsentId| {
        let (mut body, _) = submission(0, Action::RejectAll);
        let token: Token = body["token"]
            .as_str()
            .expect("token")
            .parse()
            .expect("token");
        let state = token.state().with_id(id);
        let config = config();
        let url = PageUrl::new("https://klinikka.fi/sv/?utm_source=x").expect("url");
        body["token"] = json!(Token::unsigned(state).to_string());
        body["record"] = json!(DecisionRecord::new(
            &config,
            &state,
            Some(url),
            Channel::Banner
        ));
        body
    };
    let (status, _, answer) = post(&api, &forge(victim)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_ne!(
        issued(&answer),
        victim,
        "the forged decision gets an id of its own"
    );
    assert_eq!(api.store.records_for(victim).await.expect("read").len(), 1);
    // An unsigned cookie for the id proves nothing either.
    let req = |body: &Value, cookie: String| {
        request("POST", "/consent", Body::empty())
            .header(header::ORIGIN, ORIGIN)
            .header(header::CONTENT_TYPE, "application/json")
            .header("cookie", cookie)
            .body(Body::from(body.to_string()))
            .expect("request")
    };
    let unsigned = forge(victim)["token"].as_str().expect("token").to_owned();
    let (_, _, answer) = send(&api, req(&forge(victim), format!("consent={unsigned}"))).await;
    assert_ne!(issued(&answer), victim);
    // The visitor, with the signed cookie, continues their id: a withdrawal joins the consent.
    let (_, _, answer) = send(
        &api,
        req(&forge(victim), format!("consent={victims_token}")),
    )
    .await;
    assert_eq!(issued(&answer), victim);
    // So does the signed token in the body, when the cookie does not travel.
    let mut body = forge(victim);
    body["previous"] = json!(victims_token);
    let (_, _, answer) = post(&api, &body).await;
    assert_eq!(issued(&answer), victim);
    assert_eq!(api.store.records_for(victim).await.expect("read").len(), 3);
}

/// A withdrawal is logged as one only where the server sees what it withdraws: a decision
/// the request proves (a token the server signed for the id) that granted something the new
/// one leaves off. Over an unproven decision the banner's `withdraw` is the choice it is, under
/// a fresh id; a `reject_all` that revokes a proven grant is the withdrawal it is.
#[tokio::test]
async fn a_withdrawal_is_logged_only_over_a_grant_the_request_proves() {
    let api = api();
    let config = config();
    let now = OffsetDateTime::now_utc();
    let ctx = |id| Context {
        now,
        signals: Signals::default(),
        lang: Lang::Sv,
        fresh_id: ConsentId::from_bytes([id; 16]),
    };
    let decide = |before: Option<&ConsentState>, action| {
        let stored = before.map(|s| Token::unsigned(*s).to_string());
        let before = policy::evaluate(&config, stored.as_deref(), None, now, Signals::default());
        *policy::decide(&config, &before, action, ctx(3))
            .expect("in range")
            .state()
    };
    let body = |state: ConsentState, previous: Option<&str>| {
        json!({
            "token": Token::unsigned(state).to_string(),
            "page": "https://klinikka.fi/sv/",
            "previous": previous,
        })
    };
    let logged = async |answer: &Value| {
        let id = issued(answer);
        let entries = api.store.records_for(id).await.expect("read");
        let record = entries
            .last()
            .expect("logged")
            .record()
            .expect("kept")
            .expect("json");
        let signed: Token = answer["token"]
            .as_str()
            .expect("token")
            .parse()
            .expect("token");
        assert_eq!(
            signed.state().method(),
            record.action(),
            "the token says what the log says"
        );
        record.action()
    };
    // The banner's withdrawal over a decision it made while the endpoint was down.
    let accepted = decide(None, Action::AcceptAll);
    let withdrawn = decide(Some(&accepted), Action::RejectAll);
    assert_eq!(withdrawn.method(), Method::Withdraw);
    let (status, _, answer) = post(&api, &body(withdrawn, None)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(
        logged(&answer).await,
        Method::Custom,
        "nothing proven was withdrawn"
    );
    // Over a grant the server signed, it is a withdrawal, and so is a `reject_all` over it.
    let (_, _, answer) = post(&api, &body(accepted, None)).await;
    let proof = answer["token"].as_str().expect("token").to_owned();
    let id = issued(&answer);
    let (_, _, answer) = post(&api, &body(withdrawn.with_id(id), Some(&proof))).await;
    assert_eq!(
        (issued(&answer), logged(&answer).await),
        (id, Method::Withdraw)
    );
    let rejected = decide(None, Action::RejectAll);
    assert_eq!(rejected.method(), Method::RejectAll);
    let (_, _, answer) = post(&api, &body(rejected.with_id(id), Some(&proof))).await;
    assert_eq!(
        (issued(&answer), logged(&answer).await),
        (id, Method::Withdraw)
    );
    // A `withdraw` over a proven refusal withdraws nothing.
    let (_, _, answer) = post(&api, &body(rejected, None)).await;
    let (proof, id) = (
        answer["token"].as_str().expect("token").to_owned(),
        issued(&answer),
    );
    let (_, _, answer) = post(&api, &body(withdrawn.with_id(id), Some(&proof))).await;
    assert_eq!(
        (issued(&answer), logged(&answer).await),
        (id, Method::Custom)
    );
    verify(&*api.store, &api.key, None, |_| {})
        .await
        .expect("chain verifies");
}

/// The page a decision names is on the origin that sent it: a client cannot log a decision as
/// made on another site's page, or on a page of this site it never saw.
#[tokio::test]
async fn a_decision_made_on_a_page_of_another_origin_is_refused() {
    let api = api();
    for page in [
        "https://evil.example/sv/",
        "https://klinikka.fi.evil.example/",
        "http://klinikka.fi/sv/",
        "https://klinikka.fi:8443/",
        "https://user@klinikka.fi/",
    ] {
        let (mut body, _) = submission(4, Action::AcceptAll);
        body["page"] = page.into();
        let (status, _, answer) = post(&api, &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}: {answer}");
        assert!(
            answer["error"].as_str().is_some_and(|e| e.contains(ORIGIN)),
            "{page}: {answer}"
        );
    }
    for page in [
        "https://klinikka.fi",
        "https://klinikka.fi/",
        "https://klinikka.fi?x=1",
    ] {
        let (mut body, _) = submission(4, Action::AcceptAll);
        body["page"] = page.into();
        let (status, _, answer) = post(&api, &body).await;
        assert_eq!(status, StatusCode::CREATED, "{page}: {answer}");
    }
    assert_eq!(api.store.len().await.expect("len"), 3);
}

/// Every HTML page refuses to be framed by another site (clickjacking a "Reject all" or an
/// erasure), and nothing is sniffed into another type.
#[tokio::test]
async fn every_html_page_refuses_to_be_framed() {
    let api = api();
    let admin = format!("Bearer {ADMIN}");
    for (path, auth) in [
        ("/consent/preferences", None),
        ("/consent/preferences?lang=en", None),
        ("/consent/first-layer", None),
        ("/consent/declaration?format=html", None),
        ("/admin", Some(admin.clone())),
        ("/", None),
        ("/en/newsletter", None),
    ] {
        let mut req = request("GET", path, Body::empty());
        if let Some(a) = auth {
            req = req.header(header::AUTHORIZATION, a);
        }
        let (status, headers, _) = send(&api, req.body(Body::empty()).expect("r")).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let get = |name| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
        };
        assert!(get(header::CONTENT_TYPE).starts_with("text/html"), "{path}");
        let csp = get(header::CONTENT_SECURITY_POLICY);
        assert!(
            csp.contains("frame-ancestors 'none'") || csp.contains("frame-ancestors 'self'"),
            "{path}: {csp:?}"
        );
        assert_eq!(get(header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{path}");
    }
    // The server's own pages may not be framed even by the site itself.
    let (_, headers, _) = send(
        &api,
        request("GET", "/consent/preferences", Body::empty())
            .body(Body::empty())
            .expect("r"),
    )
    .await;
    assert_eq!(
        headers
            .get(header::X_FRAME_OPTIONS)
            .and_then(|v| v.to_str().ok()),
        Some("DENY")
    );
}

/// A path segment longer than any file name is a 404, not a file system error reported as a
/// 500: under the banner's files, the demo's, and anywhere else.
#[tokio::test]
async fn an_overlong_path_segment_is_not_found() {
    let api = api();
    let long = "a".repeat(300);
    for path in [
        format!("/consent/{long}"),
        format!("/consent/{long}.js"),
        format!("/demo/{long}"),
        format!("/demo/x/{long}"),
        format!("/{long}"),
    ] {
        let (status, _, _) = send(
            &api,
            request("GET", &path, Body::empty())
                .body(Body::empty())
                .expect("r"),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    // A name of 255 bytes is still looked up (and is simply not there).
    let (status, _, _) = send(
        &api,
        request(
            "GET",
            &format!("/consent/{}", "a".repeat(255)),
            Body::empty(),
        )
        .body(Body::empty())
        .expect("r"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn stats_need_the_admin_token() {
    let api = api();
    for (i, action) in [Action::AcceptAll, Action::RejectAll, Action::RejectAll]
        .into_iter()
        .enumerate()
    {
        let (body, _) = submission(20 + i as u8, action);
        assert_eq!(post(&api, &body).await.0, StatusCode::CREATED);
    }
    let stats = |q: &str, auth: bool| {
        let mut req = request("GET", &format!("/stats{q}"), Body::empty());
        if auth {
            req = req.header("authorization", format!("Bearer {ADMIN}"));
        }
        req.body(Body::empty()).expect("r")
    };
    assert_eq!(
        send(&api, stats("", false)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _, json) = send(&api, stats("", true)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["total"], 3);
    assert_eq!(json["per_action"]["reject_all"], 2);
    assert!((json["acceptance"]["analytics"].as_f64().expect("rate") - 1.0 / 3.0).abs() < 1e-9);
    let (status, headers, csv) = send(&api, stats("?format=csv", true)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/csv"))
    );
    assert!(
        csv.as_str().is_some_and(
            |c| c.starts_with("day,action,revision,count\n") && c.contains(",reject_all,1,2")
        ),
        "{csv}"
    );
    assert_eq!(
        send(&api, stats("?format=xml", true)).await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn serves_the_banner_files_with_types_and_caching() {
    let api = api();
    let get = |path: &str| {
        request("GET", path, Body::empty())
            .body(Body::empty())
            .expect("r")
    };
    let (status, headers, body) = send(&api, get("/consent/consent_bg.wasm")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers[header::CONTENT_TYPE], "application/wasm");
    assert!(
        headers[header::CACHE_CONTROL]
            .to_str()
            .is_ok_and(|c| c.contains("max-age"))
    );
    let (status, headers, body) = send(&api, get("/consent/consent.js")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .is_ok_and(|t| t.contains("javascript"))
    );
    // The file from the dist directory, byte for byte.
    let on_disk = std::fs::read_to_string(api.dist.join("consent.js")).expect("fixture");
    assert_eq!(body, Value::String(on_disk));
    assert_eq!(
        send(&api, get("/consent/missing.js")).await.0,
        StatusCode::NOT_FOUND
    );
    // Nothing outside the dist directory: the log beside it is not served.
    for path in [
        "/consent/../consent.db",
        "/consent/..%2fconsent.db",
        "/consent/%2e%2e/consent.db",
    ] {
        let (status, _, _) = send(&api, get(path)).await;
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::BAD_REQUEST,
            "{path}: {status}"
        );
    }
}

#[tokio::test]
async fn the_demo_page_reads_the_servers_compiled_policy() {
    let api = api();
    let (status, headers, body) = send(
        &api,
        request("GET", "/", Body::empty())
            .body(Body::empty())
            .expect("r"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/html"))
    );
    let html = body.as_str().expect("html");
    assert!(!html.contains("consent-config"), "no config in the page");
    // The banner's script, held back by the page layer until after the first frame.
    assert!(
        html.contains(r#"data-consent-js="/consent/consent.js""#),
        "{html}"
    );
    let req = request("GET", "/consent/policy.bin", Body::empty())
        .body(Body::empty())
        .expect("r");
    let response = api.router.clone().oneshot(req).await.expect("infallible");
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    let policy = consent_core::compiled::CompiledPolicy::parse(&bytes).expect("a policy");
    assert_eq!(policy.fingerprint(), config().fingerprint());
    let (status, _, _) = send(
        &api,
        request("GET", "/demo/ga.js", Body::empty())
            .body(Body::empty())
            .expect("r"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_full_log_answers_507_and_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("consent.db");
    // A real SQLITE_FULL from the writer: the database may not grow past ~64 KiB.
    let store = Arc::new(
        SqliteStore::open_with_limit(
            &path,
            ServerKey::new(&[0x5a; 32]).expect("key").log_keys(),
            Some(64 * 1024),
        )
        .expect("open"),
    );
    let settings = Settings {
        config: Arc::new(config()),
        key: ServerKey::new(&[0x5a; 32]).expect("key"),
        origins: vec![ORIGIN.into()],
        admin_token: Some(ADMIN.into()),
        secure_cookie: false,
        rate_limit: None,
        dist: None,
        demo: None,
        demo_page_layer: true,
        trusted_proxies: Default::default(),
        head_file: None,
    };
    let router = router(Arc::clone(&store), settings);
    let api = Api {
        _dir: dir,
        dist: std::path::PathBuf::new(),
        store: Arc::clone(&store),
        router,
        key: ServerKey::new(&[0x5a; 32]).expect("key"),
    };
    let mut acknowledged = Vec::new();
    let mut full = None;
    for i in 0..=255u8 {
        let (body, _) = submission(i, Action::AcceptAll);
        let (status, _, answer) = post(&api, &body).await;
        match status {
            StatusCode::CREATED => acknowledged.push(issued(&answer)),
            StatusCode::INSUFFICIENT_STORAGE => {
                full = Some(answer);
                break;
            }
            other => panic!("unexpected {other}: {answer}"),
        }
    }
    let answer = full.expect("the log filled up within 256 decisions");
    assert!(
        answer["error"].as_str().is_some_and(|e| e.contains("full")),
        "{answer}"
    );
    assert!(
        acknowledged.len() > 10,
        "{} records fitted",
        acknowledged.len()
    );
    for id in &acknowledged {
        assert_eq!(
            api.store
                .records_for(*id)
                .await
                .expect("reads still work")
                .len(),
            1
        );
    }
    let v = verify(&*api.store, &api.key, None, |_| {})
        .await
        .expect("chain verifies");
    assert_eq!(v.entries, acknowledged.len() as u64);
    let (status, _, _) = send(
        &api,
        request("GET", "/healthz", Body::empty())
            .body(Body::empty())
            .expect("r"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "the server keeps serving");
}

#[tokio::test]
async fn serves_the_declaration_of_its_own_config() {
    use consent_core::declaration::{Declaration, Format};
    let api = api();
    let get = |path: &str, accept_language: Option<&str>| {
        let mut r = request("GET", path, Body::empty());
        if let Some(l) = accept_language {
            r = r.header(header::ACCEPT_LANGUAGE, l);
        }
        r.body(Body::empty()).expect("request")
    };
    let want = |lang: Lang, format: Format| {
        Declaration::new(&config(), lang, None)
            .expect("offered")
            .render(format)
    };

    // Defaults: HTML in the config's default language, public and cacheable.
    let (status, headers, body) = send(&api, get("/consent/declaration", None)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert_eq!(headers[header::CONTENT_LANGUAGE], "fi");
    assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(
        headers[header::CACHE_CONTROL]
            .to_str()
            .is_ok_and(|c| c.contains("max-age"))
    );
    assert_eq!(body, Value::String(want(Lang::Fi, Format::Html)));

    let (status, headers, body) =
        send(&api, get("/consent/declaration?lang=sv&format=md", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "text/markdown; charset=utf-8"
    );
    assert_eq!(body, Value::String(want(Lang::Sv, Format::Markdown)));
    // The long name is the same format, as on the command line.
    let (status, _, long) = send(
        &api,
        get("/consent/declaration?lang=sv&format=markdown", None),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(long, body);

    // Without ?lang, the visitor's first language the config offers.
    let (status, headers, body) = send(
        &api,
        get(
            "/consent/declaration?format=json",
            Some("de-DE, en-GB;q=0.8, fi;q=0.5"),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(headers[header::CONTENT_LANGUAGE], "en");
    assert_eq!(body["lang"], "en");
    assert_eq!(
        body["categories"][2]["services"][1]["transfer"]["safeguard"],
        "dpf"
    );

    for (uri, status, message) in [
        (
            "/consent/declaration?format=pdf",
            StatusCode::BAD_REQUEST,
            "format \"pdf\": unknown format: expected html, md (or markdown) or json",
        ),
        (
            "/consent/declaration?lang=de",
            StatusCode::BAD_REQUEST,
            "lang \"de\": unsupported language: expected fi, sv or en",
        ),
    ] {
        let (got, _, body) = send(&api, get(uri, None)).await;
        assert_eq!(got, status, "{uri}");
        assert_eq!(body["error"], message, "{uri}");
    }

    // It follows the server's config: another config, another declaration.
    let finnish_only = Config::from_json(
        r#"{"revision": 7, "revision_date": "2026-10-15", "privacy_notice": "/tietosuoja", "languages": ["fi"],
            "categories": [{"id": "necessary"}]}"#,
    )
    .expect("valid");
    let other = api_with(None, finnish_only);
    let (status, _, body) = send(&other, get("/consent/declaration?format=md", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.as_str()
            .is_some_and(|b| b.contains("*Evästekäytännön versio 7, päivitetty 15.10.2026.*")),
        "{body}"
    );
    let (status, _, body) = send(&other, get("/consent/declaration?lang=sv", None)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body["error"],
        "language sv is not one of the config's languages (fi)"
    );
}

/// The visitor's own records, by the consent cookie `token`.
async fn read_mine(api: &Api, token: &str) -> (StatusCode, Value) {
    let (status, _, body) = send(
        api,
        request("GET", "/consent/me", Body::empty())
            .header("cookie", format!("theme=dark; consent={token}"))
            .body(Body::empty())
            .expect("r"),
    )
    .await;
    (status, body)
}

#[tokio::test]
async fn a_cookie_signed_before_a_rotation_holds_until_its_key_is_revoked() {
    let before = api();
    let (body, _) = submission(7, Action::AcceptAll);
    let (_, _, answer) = post(&before, &body).await;
    let token = answer["token"].as_str().expect("token").to_owned();
    let id = issued(&answer);
    let Api { _dir: dir, key, .. } = before;

    // The server restarted with the rotated key file: the cookie the old key signed still
    // opens the visitor's records, and a new decision continues its id.
    let rotated = key.rotated(&[0x6b; 32], false).expect("rotated");
    let after = api_in(dir, rotated.clone(), None, config(), Vec::new());
    let (status, mine) = read_mine(&after, &token).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["consent_id"], id.to_string());
    let (mut next, _) = submission(8, Action::RejectAll);
    let made: Token = next["token"]
        .as_str()
        .expect("token")
        .parse()
        .expect("token");
    next["token"] = json!(Token::unsigned(made.state().with_id(id)).to_string());
    let (status, _, answer) = send(
        &after,
        request("POST", "/consent", Body::empty())
            .header(header::ORIGIN, ORIGIN)
            .header(header::CONTENT_TYPE, "application/json")
            .header("cookie", format!("consent={token}"))
            .body(Body::from(next.to_string()))
            .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(issued(&answer), id, "the old cookie proves the id");
    let renewed = answer["token"].as_str().expect("token");
    assert!(Token::parse_verified(renewed, Some(rotated.token_key())).is_ok());
    // So does the old token in the body, when the cookie does not travel.
    next["previous"] = json!(token);
    let (_, _, answer) = post(&after, &next).await;
    assert_eq!(issued(&answer), id);
    let v = verify(after.store.as_ref(), &rotated, None, |_| {})
        .await
        .expect("verifies across the rotation");
    assert_eq!((v.entries, v.rotations.len()), (4, 1));

    // A rotation that revoked the old key's tokens: the old cookie opens nothing.
    let Api { _dir: dir, .. } = after;
    let revoked = key.rotated(&[0x6b; 32], true).expect("rotated");
    let revoked = api_in(dir, revoked, None, config(), Vec::new());
    let (status, _) = read_mine(&revoked, &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
