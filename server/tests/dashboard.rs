//! The clinic's dashboard (`/admin`) through the real router and a real SQLite file: its
//! panels in three languages, escaping, the order of open requests, the periods of the
//! consent-rate chart with one day of data and with two years, the search by consent id and
//! logout.

#![allow(clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use consent_core::policy::{self, Action, Context, Signals};
use consent_core::register::{MarketingChannel, MarketingKind};
use consent_core::requests::{Identity, Outcome, RequestKind};
use consent_core::{Channel, Choices, Config, ConsentId, DecisionRecord, Lang, PageUrl};
use consent_server::ServerKey;
use consent_server::api::{Settings, router};
use consent_server::register::requests::{Request as Dsr, Subject};
use consent_server::store::sqlite::SqliteStore;
use consent_server::store::{Log as _, Requests as _};
use time::{Date, Duration, Month, OffsetDateTime};
use tower::ServiceExt as _;

const ADMIN: &str = "vastaanotto-2026";

struct Api {
    _dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    router: Router,
    key: ServerKey,
    config: Config,
}

/// The example clinic, its analytics category titled with markup in every language.
fn api() -> Api {
    let mut json: serde_json::Value =
        serde_json::from_str(consent_core::EXAMPLE_CONFIG).expect("json");
    json["categories"][1]["title"] = serde_json::json!({
        "fi": "Analytiikka <img src=x>",
        "sv": "Analys <img src=x>",
        "en": "Analytics <img src=x>",
    });
    let config = Config::from_json(&json.to_string()).expect("valid");
    let dir = tempfile::tempdir().expect("tempdir");
    let key = ServerKey::new(&[0x3c; 32]).expect("key");
    let store =
        Arc::new(SqliteStore::open(dir.path().join("consent.db"), key.log_keys()).expect("open"));
    let settings = Settings {
        config: Arc::new(config.clone()),
        key: key.clone(),
        origins: vec!["https://www.klinikka.fi".into()],
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

async fn get(api: &Api, uri: &str, admin: bool) -> (StatusCode, HeaderMap, String) {
    let mut req = Request::builder()
        .uri(uri)
        .extension(ConnectInfo(SocketAddr::from(([10, 0, 0, 8], 4444))));
    if admin {
        req = req.header(header::AUTHORIZATION, format!("Bearer {ADMIN}"));
    }
    let response = api
        .router
        .clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
        .await
        .expect("body");
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

/// A decision of `id` at `now`, granting analytics and, if `marketing`, marketing too.
async fn decide(api: &Api, id: u8, now: OffsetDateTime, marketing: bool) -> ConsentId {
    let config = &api.config;
    let before = policy::evaluate(config, None, None, now, Signals::default());
    let mut choices = Choices::none();
    for (cat, on) in [("analytics", true), ("marketing", marketing)] {
        let index = config.category_index(cat).expect("category");
        choices = choices.with_category(config, index, on);
    }
    let fresh_id = ConsentId::from_bytes([id; 16]);
    let ctx = Context {
        now,
        signals: Signals::default(),
        lang: Lang::Sv,
        fresh_id,
    };
    let decision = policy::decide(config, &before, Action::Custom(choices), ctx).expect("decide");
    let page = PageUrl::new("https://www.klinikka.fi/sv/tidsbokning").expect("url");
    let record = DecisionRecord::new(config, decision.state(), Some(page), Channel::Banner);
    api.store.append(record).await.expect("append");
    fresh_id
}

fn day(y: i32, m: Month, d: u8) -> OffsetDateTime {
    Date::from_calendar_date(y, m, d)
        .expect("date")
        .with_hms(12, 0, 0)
        .expect("time")
        .assume_utc()
}

fn headers_are_strict(headers: &HeaderMap) {
    let csp = headers
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .expect("csp");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(
        headers.get(header::CACHE_CONTROL).map(|v| v.as_bytes()),
        Some(&b"no-store"[..])
    );
}

#[tokio::test]
async fn every_panel_in_each_language_with_values_escaped() {
    let api = api();
    let (status, headers, _) = get(&api, "/admin", false).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(headers.contains_key(header::WWW_AUTHENTICATE));

    let id = decide(&api, 7, OffsetDateTime::now_utc(), true).await;
    let record = |contact: &str, kind| consent_server::register::Decision {
        contact: contact.into(),
        channel: MarketingChannel::Email,
        kind,
        via: Channel::FrontDesk,
        staff: Some("desk-1".into()),
        time: None,
    };
    let now = OffsetDateTime::now_utc();
    for (contact, kind) in [
        ("maija@example.fi", MarketingKind::Consent),
        ("pekka@example.fi", MarketingKind::Consent),
        ("liisa@example.fi", MarketingKind::Objection),
    ] {
        consent_server::register::record(&*api.store, &api.key, record(contact, kind), now)
            .await
            .expect("record");
    }

    let expected = [
        (
            "fi",
            "Avoimet rekisteröityjen pyynnöt",
            "1 päätös",
            "Sähköposti",
        ),
        (
            "sv",
            "Öppna begäranden från registrerade",
            "1 beslut",
            "E-post",
        ),
        ("en", "Open data-subject requests", "1 decision,", "E-mail"),
    ];
    for (lang, requests, decisions, email) in expected {
        let (status, headers, html) = get(&api, &format!("/admin?lang={lang}"), true).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        headers_are_strict(&headers);
        assert!(html.contains(&format!(r#"<html lang="{lang}">"#)), "{html}");
        assert!(html.contains(requests), "{lang}: {html}");
        assert!(html.contains(decisions), "{lang}: {html}");
        assert!(
            html.contains(&format!(r#"<th scope="col">{email}</th>"#)),
            "{lang}: {html}"
        );
        // The register: two consented and one objection on e-mail, in rows of their own.
        assert!(html.contains("<td>2</td>"), "{lang}: {html}");
        // The log: four records (one cookie decision, three marketing), verified.
        assert!(html.contains(r#"<p class="ok">"#), "{lang}: {html}");
        assert!(html.contains("<dd>4</dd>"), "{lang}: {html}");
        // Export and logout are linked, in the page's language.
        assert!(html.contains(r#"href="/stats?format=csv""#), "{html}");
        assert!(
            html.contains(&format!(r#"href="/admin/logout?lang={lang}""#)),
            "{html}"
        );
        // The config's title is text, not markup, in the chart, its label and the table.
        assert!(!html.contains("<img"), "{lang}: {html}");
        assert!(html.contains("&lt;img src=x&gt;"), "{lang}: {html}");
        assert!(
            !html.contains("style=") && !html.contains("<script"),
            "{html}"
        );
        assert!(
            !html.contains("records</") && !html.contains("1 decisions"),
            "{html}"
        );
    }
    // Accept-Language picks the language when the query does not.
    let req = Request::builder()
        .uri("/admin")
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
        .header(header::ACCEPT_LANGUAGE, "de-DE, sv;q=0.8")
        .extension(ConnectInfo(SocketAddr::from(([10, 0, 0, 8], 4444))))
        .body(Body::empty())
        .expect("request");
    let response = api.router.clone().oneshot(req).await.expect("infallible");
    assert_eq!(
        response
            .headers()
            .get(header::CONTENT_LANGUAGE)
            .map(|v| v.as_bytes()),
        Some(&b"sv"[..])
    );

    // The search by consent id: the id's records, in the page's language.
    let (status, headers, html) = get(&api, &format!("/admin/consent?id={id}&lang=en"), true).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    headers_are_strict(&headers);
    assert!(html.contains("1 record<"), "{html}");
    assert!(html.contains("Own choices"), "{html}");
    assert!(
        html.contains("Analytics &lt;img src=x&gt;, Marketing"),
        "{html}"
    );
    assert!(
        html.contains("https://www.klinikka.fi/sv/tidsbokning"),
        "{html}"
    );
    assert!(html.contains(&format!(r#"href="/consent/{id}""#)), "{html}");
    let (status, _, html) = get(&api, "/admin/consent?id=&lang=fi", true).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    let other = ConsentId::from_bytes([8; 16]);
    let (_, _, html) = get(&api, &format!("/admin/consent?id={other}&lang=fi"), true).await;
    assert!(
        html.contains("Tällä tunnisteella ei ole tietueita."),
        "{html}"
    );
    // What was typed is shown back as text, in the field and in the message.
    let (status, _, html) = get(
        &api,
        "/admin/consent?id=%3Cscript%3Ealert(1)%3C%2Fscript%3E%22&lang=en",
        true,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!html.contains("<script"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;"),
        "{html}"
    );
    let (status, _, _) = get(&api, &format!("/admin/consent?id={id}"), false).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the search is the admin's"
    );
}

#[tokio::test]
async fn open_requests_list_the_overdue_first_the_most_overdue_at_the_top() {
    let api = api();
    let today = OffsetDateTime::now_utc().date();
    let dsr = |kind, days_ago: i64, extended, closed| Dsr {
        id: 0,
        kind,
        subject: Subject::Consent(ConsentId::from_bytes([9; 16])),
        received: today - Duration::days(days_ago),
        extended,
        identity: Identity::Pending,
        staff: "desk-1".parse().expect("staff"),
        closed,
    };
    let requests = [
        dsr(RequestKind::Erasure, 2, false, None),
        dsr(RequestKind::Access, 40, false, None),
        dsr(RequestKind::Objection, 40, true, None),
        dsr(RequestKind::Rectification, 70, false, None),
        dsr(
            RequestKind::Restriction,
            90,
            false,
            Some((Outcome::Refused, today)),
        ),
    ];
    for r in requests {
        api.store.insert_request(r).await.expect("insert");
    }
    let (_, _, html) = get(&api, "/admin?lang=en", true).await;
    assert!(html.contains("2 requests are overdue."), "{html}");
    let order: Vec<&str> = html
        .split(r#"<span class="kind">"#)
        .skip(1)
        .filter_map(|s| s.split('<').next())
        .collect();
    // Rectification (70 days ago) and access (40) are overdue; then erasure (due in about
    // four weeks) and the extended objection (due in about seven); the closed one is not open.
    assert_eq!(
        order,
        ["Rectification", "Access", "Erasure", "Objection"],
        "{html}"
    );
    assert_eq!(
        html.matches(r#"<li class="request overdue">"#).count(),
        2,
        "{html}"
    );
    assert!(html.contains("(extended)"), "{html}");
    assert!(html.contains(" days overdue<"), "{html}");
    assert!(html.contains(" days left<"), "{html}");
}

/// The bars of the first category's chart.
fn bars(html: &str) -> usize {
    html.split("</svg>")
        .next()
        .map_or(0, |chart| chart.matches(r#"<rect class="bar""#).count())
}

/// The rows of the consent-rate table's body.
fn rows(html: &str) -> usize {
    html.split(r#"<caption id="rates-caption">"#)
        .nth(1)
        .and_then(|t| t.split("<tbody>").nth(1))
        .and_then(|t| t.split("</tbody>").next())
        .map_or(0, |body| body.matches("<tr>").count())
}

#[tokio::test]
async fn one_day_of_data_is_one_bar_per_category_by_day() {
    let api = api();
    for (i, marketing) in [(1, true), (2, false), (3, false), (4, true)] {
        decide(&api, i, day(2026, Month::November, 3), marketing).await;
    }
    let (_, _, html) = get(&api, "/admin?lang=en", true).await;
    assert!(html.contains("4 decisions, 2026-11-03, per day."), "{html}");
    assert_eq!(html.matches(r#"<svg class="chart""#).count(), 2, "{html}");
    assert_eq!(bars(&html), 1, "{html}");
    assert_eq!(rows(&html), 1, "{html}");
    // Each chart says its own value, so neither series hides the other.
    assert!(html.contains(">100\u{a0}%</text>"), "{html}");
    assert!(html.contains(">50\u{a0}%</text>"), "{html}");
    assert!(
        html.contains(r#"aria-label="Marketing: consent rate per day, 2026-11-03. Overall 50"#),
        "{html}"
    );
}

#[tokio::test]
async fn two_years_of_data_are_grouped_by_month_and_a_season_by_week() {
    let years = api();
    // The 15th of every month of 2025 and 2026 but one: 23 decisions over two years.
    let mut n = 0;
    for year in [2025, 2026] {
        for month in 1..=12u8 {
            let month = Month::try_from(month).expect("month");
            if (year, month) == (2025, Month::June) {
                continue;
            }
            n += 1;
            decide(&years, n, day(year, month, 15), year == 2026).await;
        }
    }
    let (_, _, html) = get(&years, "/admin?lang=fi", true).await;
    assert!(
        html.contains("23 päätöstä, tammi 2025–joulu 2026, kuukausittain."),
        "{html}"
    );
    // 24 months, June 2025 among them without decisions (a gap, not a bar).
    assert_eq!(rows(&html), 24, "{html}");
    assert_eq!(bars(&html), 23, "{html}");
    assert!(
        html.contains("<th class=\"period\" scope=\"row\">kesä 2025</th><td>0</td>"),
        "{html}"
    );
    // Too many bars to label each: the values are in the table.
    assert!(
        !html
            .split("</svg>")
            .next()
            .unwrap_or_default()
            .contains(">100\u{a0}%</text>")
    );

    let weeks = api();
    for (i, d) in [1u8, 30, 60, 90].into_iter().enumerate() {
        let when = day(2026, Month::January, 5) + Duration::days(i64::from(d));
        decide(&weeks, u8::try_from(i).expect("small") + 1, when, false).await;
    }
    let (_, _, html) = get(&weeks, "/admin?lang=sv", true).await;
    assert!(html.contains("per vecka."), "{html}");
    // From the week of 6 January to the week of 5 April 2026: 13 weeks.
    assert_eq!(rows(&html), 13, "{html}");
    assert_eq!(bars(&html), 4, "{html}");
    assert!(html.contains("v. 2 2026"), "{html}");
}

#[tokio::test]
async fn logout_answers_401_without_a_challenge_and_says_so() {
    let api = api();
    for (lang, text) in [
        ("fi", "Olet kirjautunut ulos"),
        ("sv", "Du har loggat ut"),
        ("en", "You are logged out"),
    ] {
        let (status, headers, html) = get(&api, &format!("/admin/logout?lang={lang}"), true).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(
            !headers.contains_key(header::WWW_AUTHENTICATE),
            "no new login prompt"
        );
        headers_are_strict(&headers);
        assert!(html.contains(text), "{html}");
        assert!(
            html.contains(&format!(r#"href="/admin?lang={lang}""#)),
            "{html}"
        );
    }
    let (status, headers, css) = get(&api, "/admin/admin.css", false).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/css")
    );
    assert!(css.contains(".requests"));
    let (status, _, _) = get(&api, "/admin/favicon.svg", false).await;
    assert_eq!(status, StatusCode::OK);
}
