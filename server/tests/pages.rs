//! Pages the server renders: the banner without JavaScript (first layer, preferences page,
//! the form posts that record decisions) and the admin page, through the real router and a
//! real SQLite file.

#![allow(clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use consent_core::{Config, Lang, Method, PageUrl, Token};
use consent_server::ServerKey;
use consent_server::api::{Settings, router};
use consent_server::store::sqlite::SqliteStore;
use consent_server::store::{Log as _, Requests as _};
use consent_server::verify::verify;
use tower::ServiceExt as _;

const ORIGIN: &str = "https://www.klinikka.fi";
const ADMIN: &str = "vastaanotto-2026";

struct Api {
    _dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    router: Router,
    key: ServerKey,
    config: Config,
}

fn api() -> Api {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = ServerKey::new(&[0x3c; 32]).expect("key");
    let store =
        Arc::new(SqliteStore::open(dir.path().join("consent.db"), key.log_keys()).expect("open"));
    let config = Config::from_json(consent_core::EXAMPLE_CONFIG).expect("valid");
    let settings = Settings {
        config: Arc::new(config.clone()),
        key: key.clone(),
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
    Api {
        router: router(Arc::clone(&store), settings),
        _dir: dir,
        store,
        key,
        config,
    }
}

async fn send(api: &Api, req: Request<Body>) -> (StatusCode, HeaderMap, String) {
    let response = api.router.clone().oneshot(req).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn get(uri: &str, cookie: Option<&str>) -> Request<Body> {
    let mut req = Request::builder()
        .uri(uri)
        .extension(ConnectInfo(SocketAddr::from(([10, 0, 0, 8], 4444))));
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    req.body(Body::empty()).expect("request")
}

fn form(body: &str, origin: Option<&str>, cookie: Option<&str>) -> Request<Body> {
    let mut req = Request::builder()
        .method("POST")
        .uri("/consent/form")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .extension(ConnectInfo(SocketAddr::from(([10, 0, 0, 8], 4444))));
    if let Some(o) = origin {
        req = req.header(header::ORIGIN, o);
    }
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    req.body(Body::from(body.to_owned())).expect("request")
}

fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn reject_all_by_form_post_is_logged_and_sets_a_signed_cookie() {
    let api = api();
    let (status, headers, body) = send(
        &api,
        form(
            "action=reject_all&lang=sv&return_to=%2Fboka%3Futm%3Dx",
            Some(ORIGIN),
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(
        headers.get(header::LOCATION).and_then(|v| v.to_str().ok()),
        Some("/boka?utm=x")
    );
    let cookies = set_cookies(&headers);
    let consent = cookies
        .iter()
        .find(|c| c.starts_with("consent="))
        .expect("consent cookie set");
    assert!(consent.contains("Secure"), "https origin: {consent}");
    let value = consent
        .trim_start_matches("consent=")
        .split(';')
        .next()
        .expect("value");
    let token = Token::parse_verified(value, Some(api.key.token_key())).expect("signed");
    assert_eq!(token.state().choices(), api.config.necessary_only());

    let entries = api
        .store
        .records_for(token.state().id())
        .await
        .expect("read");
    assert_eq!(entries.len(), 1);
    let record = entries[0].record().expect("kept").expect("json");
    assert_eq!(record.action(), Method::RejectAll);
    assert_eq!(record.lang(), Lang::Sv);
    assert_eq!(
        record.page_url().map(PageUrl::as_str),
        Some("https://www.klinikka.fi/boka")
    );
    verify(&*api.store, &api.key, None, |_| {})
        .await
        .expect("verifies");
}

#[tokio::test]
async fn custom_choice_then_withdrawal_keeps_the_id_and_clears_tracker_cookies() {
    let api = api();
    let (status, headers, body) = send(
        &api,
        form("action=custom&category=analytics", Some(ORIGIN), None),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let consent = set_cookies(&headers)
        .into_iter()
        .find(|c| c.starts_with("consent="))
        .expect("consent cookie");
    let pair = consent.split(';').next().expect("pair").to_owned();
    let token: Token = pair.trim_start_matches("consent=").parse().expect("token");
    let analytics = api.config.category_index("analytics").expect("analytics");
    let marketing = api.config.category_index("marketing").expect("marketing");
    assert!(token.state().choices().allows_category(analytics));
    assert!(!token.state().choices().allows_category(marketing));

    // Later the visitor, carrying GA's cookies, rejects everything on the preferences page.
    let cookie = format!("{pair}; _ga=GA1.1.1.1; _ga_XYZ=GS1; theme=dark");
    let (status, headers, body) =
        send(&api, form("action=reject_all", Some(ORIGIN), Some(&cookie))).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let set = set_cookies(&headers);
    for name in ["_ga=;", "_ga_XYZ=;"] {
        assert!(
            set.iter()
                .any(|c| c.starts_with(name) && c.contains("Domain=klinikka.fi")),
            "{name} not cleared on the parent domain: {set:?}"
        );
    }
    assert!(!set.iter().any(|c| c.starts_with("theme=")));
    let entries = api
        .store
        .records_for(token.state().id())
        .await
        .expect("read");
    let actions: Vec<Method> = entries
        .iter()
        .map(|e| e.record().expect("kept").expect("json").action())
        .collect();
    assert_eq!(actions, [Method::Custom, Method::Withdraw]);
}

#[tokio::test]
async fn foreign_or_malformed_posts_record_nothing() {
    let api = api();
    let cases = [
        (
            form("action=accept_all", Some("https://evil.example"), None),
            StatusCode::FORBIDDEN,
        ),
        (form("action=accept_all", None, None), StatusCode::FORBIDDEN),
        (
            form("action=everything", Some(ORIGIN), None),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            form("action=custom&category=ads_everywhere", Some(ORIGIN), None),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            form(
                "action=accept_all&return_to=https%3A%2F%2Fevil.example",
                Some(ORIGIN),
                None,
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (req, expected) in cases {
        let (status, _, body) = send(&api, req).await;
        assert_eq!(status, expected, "{body}");
        assert!(body.contains("error"), "{body}");
    }
    let json = Request::builder()
        .method("POST")
        .uri("/consent/form")
        .header(header::ORIGIN, ORIGIN)
        .header(header::CONTENT_TYPE, "application/json")
        .extension(ConnectInfo(SocketAddr::from(([10, 0, 0, 8], 4444))))
        .body(Body::from("{}"))
        .expect("request");
    assert_eq!(send(&api, json).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(api.store.len().await.expect("len"), 0);
}

#[tokio::test]
async fn the_first_layer_is_rendered_until_a_decision_is_made() {
    let api = api();
    let (status, headers, html) =
        send(&api, get("/consent/first-layer?lang=en&return_to=/x", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("text/html; charset=utf-8")
    );
    assert!(html.contains("data-consent-nojs"), "{html}");
    assert!(
        html.contains("Reject all") && html.contains("Accept all"),
        "{html}"
    );
    assert!(html.contains(r#"name="return_to" value="/x""#));
    // No inline style or script: a strict CSP needs nothing more.
    assert!(!html.contains("style=") && !html.contains("<script"));

    let (_, headers, _) = send(&api, form("action=accept_all", Some(ORIGIN), None)).await;
    let consent = set_cookies(&headers)
        .into_iter()
        .find(|c| c.starts_with("consent="))
        .expect("cookie");
    let pair = consent.split(';').next().expect("pair").to_owned();
    let (_, _, html) = send(&api, get("/consent/first-layer", Some(&pair))).await;
    assert_eq!(html, "", "no banner once decided");
    // A tampered cookie is no decision: the banner is due again.
    let tampered = format!("{}x", &pair[..pair.len() - 2]);
    let (_, _, html) = send(&api, get("/consent/first-layer", Some(&tampered))).await;
    assert!(html.contains("data-consent-nojs"));
}

/// The attributes of every `<input ...>` in `html`, in any order, as (name, value) pairs (a
/// bare attribute has an empty value). Enough of HTML for the server's own pages: attribute
/// values are double-quoted.
fn inputs(html: &str) -> Vec<Vec<(String, String)>> {
    html.split("<input")
        .skip(1)
        .filter_map(|rest| rest.split_once('>').map(|(attrs, _)| attrs))
        .map(|attrs| {
            let mut out = Vec::new();
            let mut rest = attrs.trim().trim_end_matches('/');
            while !rest.is_empty() {
                let end = rest
                    .find(|c: char| c == '=' || c.is_whitespace())
                    .unwrap_or(rest.len());
                let name = rest[..end].to_owned();
                rest = rest[end..].trim_start();
                let value = match rest.strip_prefix("=\"") {
                    Some(quoted) => {
                        let close = quoted.find('"').unwrap_or(quoted.len());
                        let v = quoted[..close].to_owned();
                        rest = quoted.get(close + 1..).unwrap_or("").trim_start();
                        v
                    }
                    None => String::new(),
                };
                if !name.is_empty() {
                    out.push((name, value));
                }
            }
            out
        })
        .collect()
}

/// Whether the category switch `id` on the page is on (and whether it can be switched).
fn switch(html: &str, id: &str) -> (bool, bool) {
    let input = inputs(html)
        .into_iter()
        .find(|a| {
            a.iter()
                .any(|(n, v)| n == "id" && *v == format!("consent-cat-{id}"))
        })
        .expect("a switch for the category");
    let has = |attr: &str| input.iter().any(|(n, _)| n == attr);
    (has("checked"), has("disabled"))
}

#[tokio::test]
async fn the_preferences_page_starts_from_the_stored_choice() {
    let api = api();
    let (status, _, html) = send(&api, get("/consent/preferences?lang=fi&return_to=/", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains(r#"<html lang="fi">"#));
    // Before a decision nothing but necessary is on, and necessary cannot be switched off.
    assert_eq!(switch(&html, "analytics"), (false, false), "{html}");
    assert_eq!(switch(&html, "marketing"), (false, false), "{html}");
    assert_eq!(switch(&html, "necessary"), (true, true), "{html}");
    assert!(html.contains("_ga"), "cookies listed");

    let (_, headers, _) = send(
        &api,
        form("action=custom&category=analytics", Some(ORIGIN), None),
    )
    .await;
    let consent = set_cookies(&headers)
        .into_iter()
        .find(|c| c.starts_with("consent="))
        .expect("cookie");
    let pair = consent.split(';').next().expect("pair").to_owned();
    let (_, _, html) = send(&api, get("/consent/preferences", Some(&pair))).await;
    assert_eq!(switch(&html, "analytics"), (true, false), "{html}");
    assert_eq!(switch(&html, "marketing"), (false, false), "{html}");
}

#[tokio::test]
async fn the_admin_page_needs_the_token_and_shows_acceptance_and_the_log() {
    let api = api();
    let (status, headers, _) = send(&api, get("/admin", None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        headers
            .get(header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Basic ")),
        "a browser is asked to log in"
    );
    let with_auth = |auth: &str| {
        Request::builder()
            .uri("/admin?lang=en")
            .header(header::AUTHORIZATION, auth)
            .extension(ConnectInfo(SocketAddr::from(([10, 0, 0, 8], 4444))))
            .body(Body::empty())
            .expect("request")
    };
    // "staff:wrong" and "staff:vastaanotto-2026" in base64.
    let (status, _, _) = send(&api, with_auth("Basic c3RhZmY6d3Jvbmc=")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = send(&api, with_auth("Basic !!notbase64")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    for body in [
        "action=accept_all",
        "action=reject_all",
        "action=custom&category=analytics",
    ] {
        let (status, _, answer) = send(&api, form(body, Some(ORIGIN), None)).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{answer}");
    }
    let (status, _, html) = send(&api, with_auth("Basic c3RhZmY6dmFzdGFhbm90dG8tMjAyNg==")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("The chain verifies"), "{html}");
    assert!(
        html.contains("<dt>Records in the log</dt><dd>3</dd>"),
        "{html}"
    );
    assert!(html.contains(r#"<svg class="chart""#), "{html}");
    // analytics: 2 of 3 decisions; marketing: 1 of 3.
    assert!(
        html.contains("67\u{a0}%") && html.contains("33\u{a0}%"),
        "{html}"
    );
    assert!(
        html.contains("No open requests."),
        "no data-subject requests yet"
    );

    // Two open data-subject requests, one past its one-month deadline.
    use consent_core::requests::{Identity, RequestKind};
    use consent_server::register::requests::{Request as Dsr, Subject};
    let today = time::OffsetDateTime::now_utc().date();
    let dsr = |kind, days_ago: i64| Dsr {
        id: 0,
        kind,
        subject: Subject::Consent(consent_core::ConsentId::from_bytes([9; 16])),
        received: today - time::Duration::days(days_ago),
        extended: false,
        identity: Identity::Pending,
        staff: "desk-1".parse().expect("staff"),
        closed: None,
    };
    api.store
        .insert_request(dsr(RequestKind::Access, 45))
        .await
        .expect("insert");
    api.store
        .insert_request(dsr(RequestKind::Erasure, 2))
        .await
        .expect("insert");
    let (_, _, html) = send(&api, with_auth("Basic c3RhZmY6dmFzdGFhbm90dG8tMjAyNg==")).await;
    assert!(html.contains("1 request is overdue."), "{html}");
    assert_eq!(
        html.matches(r#"<li class="request overdue">"#).count(),
        1,
        "{html}"
    );
    // Overdue first: the access request, then the erasure.
    let access = html.find(">Access<").expect("access listed");
    let erasure = html.find(">Erasure<").expect("erasure listed");
    assert!(access < erasure);
    let (status, _, bearer) = send(&api, with_auth(&format!("Bearer {ADMIN}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(bearer.contains("The chain verifies"));
}
