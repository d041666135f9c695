//! The HTTP API the banner and the site's staff talk to.
//!
//! | route | who | what |
//! | --- | --- | --- |
//! | `POST /consent` | the banner, from an allowed `Origin` | log a decision, answer with the signed token |
//! | `GET /consent/{id}` | the visitor (their consent cookie) or admin | every record of a consent id |
//! | `DELETE /consent/{id}` | the visitor (their consent cookie) or admin | erase them, keeping the chain |
//! | `GET /stats[?format=csv]` | admin | decisions per day, action, revision; acceptance per category |
//! | `POST /consent/form` | a no-JavaScript form, from an allowed `Origin` | log a decision, set the cookie, go back (303) |
//! | `GET /consent/preferences?lang=&return_to=` | anyone | the preferences as a page of their own, for pages without JavaScript |
//! | `GET /consent/first-layer?lang=&return_to=` | anyone | the first layer as an HTML fragment, to include server-side |
//! | `GET /admin[?lang=]` | admin (Bearer, or Basic with the token as password) | the clinic's dashboard ([`crate::admin`]): requests, consent rates, the register, the log's integrity |
//! | `GET /admin/consent?id=` | admin | one consent id's records, as a page |
//! | `GET /admin/logout` | anyone | 401 without a challenge: the browser forgets the password; 403 to a request from another site's page ([`crate::admin`]'s "Logout") |
//! | `GET /consent/declaration[?lang=fi&format=html]` | anyone | the privacy notice's cookie section, from the config (`html`, `md` or `json`) |
//! | `GET /healthz` | anyone | liveness |
//! | `GET /consent/favicon.svg`, `GET /favicon.ico` | anyone | the icon the server's own pages link (the same SVG at both: no page's console shows a 404 for it) |
//! | `GET /consent/<file>` | anyone | the banner's files (`consent.js`, `consent_bg.wasm`, ...) |
//! | `/`, `/demo/...` | anyone, with `--demo` | the demo clinic site ([`Settings::demo`]) |
//!
//! Admin requests carry `Authorization: Bearer <token>`. Every error is JSON,
//! `{"error": "..."}`, with a status that says what kind.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use base64::Engine as _;
use consent_core::decision::{self, Signer, SubmitError};
use consent_core::{Channel, Config, ConsentId, DecisionRecord, PageUrl, Token, policy};
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq as _;
use time::OffsetDateTime;
use tower::ServiceExt as _;
use tower_http::services::ServeDir;

use crate::key::ServerKey;
use crate::stats::Stats;
use crate::store::chain::{HeadFileError, SignedHead};
use crate::store::{Store, StoreError};

/// The largest `POST /consent` body accepted.
pub const MAX_BODY: usize = 16 * 1024;

/// How the API is set up.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The site's consent config.
    pub config: Arc<Config>,
    /// Signs tokens and checkpoints.
    pub key: ServerKey,
    /// Origins allowed to `POST /consent` (`https://klinikka.fi`), compared byte for byte
    /// with a request's `Origin`: write them as browsers do ([`parse_origin`]).
    pub origins: Vec<String>,
    /// The admin token; admin routes answer 401 to everyone without one.
    pub admin_token: Option<String>,
    /// Whether the consent cookie is `Secure` even when the origin is plain http.
    pub secure_cookie: bool,
    /// `POST /consent` requests per second per client (an IPv4 address or an IPv6 /64,
    /// [`crate::client::client_of`]); `None` for no limit.
    pub rate_limit: Option<NonZeroU32>,
    /// The banner's `dist/`, served under `/consent/`.
    pub dist: Option<PathBuf>,
    /// The demo site's directory (`examples/demo`): its pages in fi/sv/en (`/`, `/sv/`,
    /// `/en/`, ...) with this config inlined, its stand-in tags' hit log, and its other files
    /// under `/demo/`.
    pub demo: Option<PathBuf>,
    /// Whether the demo's pages go through consent-gate's page layer (the default), or are
    /// sent as they are and gated by the banner alone (as a site whose pages are static or
    /// cached would be).
    pub demo_page_layer: bool,
    /// Reverse proxies whose forwarding header (`X-Forwarded-For` or `Forwarded`, the one
    /// they write) names the client for the rate limits ([`crate::client::address`]); from
    /// anyone else those headers are ignored.
    pub trusted_proxies: crate::client::Proxies,
    /// The log's head file, which `consent serve` keeps outside the database: the dashboard
    /// checks the log against it, as `consent verify` does. `None` checks the database
    /// alone, which cannot see the whole database rolled back to an older copy.
    pub head_file: Option<PathBuf>,
}

struct App<S> {
    store: Arc<S>,
    settings: Settings,
    /// How the server-rendered banner reads a request's consent cookies: the gate's rule,
    /// under the server's key.
    gate: consent_core::Gate,
    limiter: Option<crate::client::Limiter>,
    files: Option<ServeDir>,
}

/// The API's router. Serve it with `into_make_service_with_connect_info::<SocketAddr>()`,
/// which the per-client rate limit needs.
pub fn router<S: Store>(store: Arc<S>, settings: Settings) -> Router {
    let limiter = settings.rate_limit.map(crate::client::Limiter::new);
    let files = settings.dist.clone().map(ServeDir::new);
    let demo = settings.demo.clone().map(|dir| {
        crate::demo::router(
            dir,
            Arc::clone(&settings.config),
            settings.key.token_key().clone(),
            settings.demo_page_layer,
        )
    });
    let cors = cors_for(&settings.origins);
    let gate = consent_core::Gate::new(&settings.config, Some(settings.key.token_key().clone()));
    let app = Arc::new(App {
        store,
        gate,
        settings,
        limiter,
        files,
    });
    let router = Router::new()
        .route("/consent", post(post_consent::<S>).layer(cors))
        .route(
            "/consent/{id}",
            get(get_consent::<S>).delete(delete_consent::<S>),
        )
        .route("/consent/form", post(post_form::<S>))
        .route("/consent/preferences", get(get_preferences::<S>))
        .route("/consent/first-layer", get(get_first_layer::<S>))
        .route("/consent/declaration", get(get_declaration::<S>))
        .route("/stats", get(get_stats::<S>))
        .route("/admin", get(get_admin::<S>))
        .route("/admin/consent", get(get_admin_consent::<S>))
        .route("/admin/logout", get(get_admin_logout::<S>))
        .route(
            "/admin/admin.css",
            get(|| async { static_file("text/css; charset=utf-8", crate::admin::STYLESHEET) }),
        )
        .route(
            "/admin/favicon.svg",
            get(|| async { static_file("image/svg+xml", crate::admin::FAVICON) }),
        )
        // The server's own pages (the preferences without JavaScript, the register's pages)
        // link this icon; a browser that asks for /favicon.ico anyway gets it too, rather
        // than a 404 in the console.
        .route(
            "/consent/favicon.svg",
            get(|| async { static_file("image/svg+xml", crate::admin::FAVICON) }),
        )
        .route(
            "/favicon.ico",
            get(|| async { static_file("image/svg+xml", crate::admin::FAVICON) }),
        )
        .route("/healthz", get(|| async { "ok" }));
    let router = site_files(router, &app.settings.config);
    let key = app.settings.key.clone();
    let router = router.with_state(app);
    let router = match demo {
        Some(site) => router.merge(site),
        None => router,
    };
    router
        .layer(axum::middleware::from_fn_with_state(key, resign_cookies))
        .layer(axum::middleware::from_fn(no_overlong_segments))
        .layer(axum::middleware::from_fn(json_errors))
        .layer(axum::middleware::from_fn(security_headers))
}

/// Consent cookies signed under a retired key that the key file still accepts are signed again
/// under the current key before any handler reads them ([`ServerKey::resign_token`]): after a
/// rotation, a visitor's decision holds until it expires, as it would have, and the core's
/// rules, which know one key, need no change. The response does not set the cookie again:
/// it is signed again on each request until the visitor next decides.
async fn resign_cookies(
    State(key): State<ServerKey>,
    mut request: Request,
    next: axum::middleware::Next,
) -> Response {
    let headers = request.headers_mut();
    let resigned: Vec<Option<String>> = consent_gate::cookie_headers(headers)
        .map(|v| resign_cookie_header(&key, &v))
        .collect();
    if resigned.iter().any(Option::is_some) {
        let old: Vec<HeaderValue> = headers.get_all(header::COOKIE).iter().cloned().collect();
        headers.remove(header::COOKIE);
        for (old, new) in old.into_iter().zip(resigned) {
            let value = new
                .and_then(|n| HeaderValue::from_str(&n).ok())
                .unwrap_or(old);
            headers.append(header::COOKIE, value);
        }
    }
    next.run(request).await
}

/// A `Cookie` header with the values that [`ServerKey::resign_token`] signs again replaced;
/// `None` when there are none.
fn resign_cookie_header(key: &ServerKey, header: &str) -> Option<String> {
    let mut changed = false;
    let pairs: Vec<std::borrow::Cow<'_, str>> = header
        .split(';')
        .map(|pair| {
            let resigned = pair
                .split_once('=')
                .and_then(|(name, value)| Some((name, key.resign_token(value.trim())?)));
            match resigned {
                Some((name, token)) => {
                    changed = true;
                    format!("{name}={token}").into()
                }
                None => pair.into(),
            }
        })
        .collect();
    changed.then(|| pairs.join(";"))
}

/// Serves the site's banner files compiled from the server's own config
/// ([`consent_core::bundle::files`]: the compiled policy and each language's texts) at
/// `/consent/<name>`, so that the banner a site embeds and the server that proves its
/// decisions read one config. Built once, at start-up.
fn site_files<S: Store>(router: Router<Arc<App<S>>>, config: &Config) -> Router<Arc<App<S>>> {
    let files = match consent_core::bundle::files(config) {
        Ok(files) => files,
        Err(e) => {
            tracing::error!("the banner's compiled policy is not served: {e}");
            return router;
        }
    };
    files.into_iter().fold(router, |router, (name, bytes)| {
        let kind = if name.ends_with(".json") {
            "application/json"
        } else {
            "application/octet-stream"
        };
        let bytes = axum::body::Bytes::from(bytes);
        router.route(
            &format!("/consent/{name}"),
            get(move || {
                let bytes = bytes.clone();
                async move {
                    (
                        [
                            (header::CONTENT_TYPE, kind),
                            // As the banner's other files: cache briefly, then revalidate.
                            (
                                header::CACHE_CONTROL,
                                "public, max-age=300, must-revalidate",
                            ),
                        ],
                        bytes,
                    )
                }
            }),
        )
    })
}

/// The Content-Security-Policy of an HTML page that brings none of its own: nothing may frame
/// it (clickjacking a "Reject all" or an erasure), and it may post forms only here.
const PAGE_CSP: &str =
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'self'";

/// Gives every response `X-Content-Type-Options: nosniff`, and every HTML page without a
/// policy of its own (the demo brings one) [`PAGE_CSP`], `X-Frame-Options: DENY` for browsers
/// without CSP, and `Referrer-Policy: same-origin` unless it set one. Written once for every
/// route: the API's and the register's ([`crate::register::api::router`]).
pub(crate) async fn security_headers(request: Request, next: axum::middleware::Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    if html {
        if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(PAGE_CSP),
            );
            h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        }
        if !h.contains_key(header::REFERRER_POLICY) {
            h.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("same-origin"),
            );
        }
    }
    response
}

/// The most of a plain-text error's body that [`json_errors`] reads (axum's are one line).
const MAX_PLAIN_ERROR: usize = 4096;

/// Gives a client error that axum answered in plain text (an extractor's rejection: a query
/// or path that does not parse, a body over a route's limit) the API's JSON form,
/// `{"error": "<its text>"}`, with its status and other headers. The handlers' own errors are
/// [`ApiError`]s already; this is the one place for those they never see. Written once for
/// every route: the API's and the register's ([`crate::register::api::router`]).
pub(crate) async fn json_errors(request: Request, next: axum::middleware::Next) -> Response {
    let response = next.run(request).await;
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/plain"));
    if !plain || !response.status().is_client_error() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_PLAIN_ERROR)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let mut json = ApiError::new(parts.status, text).into_response();
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(header::CONTENT_LENGTH);
    json.headers_mut().extend(parts.headers);
    json
}

/// The longest path segment a file name can have (`NAME_MAX` on Linux).
const MAX_SEGMENT: usize = 255;

/// Answers 404 for a path with a segment longer than any file name: it names no file or
/// route, and the file services would otherwise pass it to the file system, which refuses it
/// (`ENAMETOOLONG`) with what they report as a server error. Every router with a file
/// service applies it (the playground's too: [`crate::playground::router`]).
pub(crate) async fn no_overlong_segments(
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    if request
        .uri()
        .path()
        .split('/')
        .any(|segment| segment.len() > MAX_SEGMENT)
    {
        return ApiError::new(StatusCode::NOT_FOUND, "not found").into_response();
    }
    next.run(request).await
}

/// An API error: a status and a message, sent as `{"error": "..."}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    /// Whether a 401 asks for the admin token with [`ADMIN_CHALLENGE`].
    challenge: bool,
}

/// The challenge of a 401 that wants the admin token: a browser shows its login prompt (any
/// user name, the token as the password), a program reads that Basic or Bearer will do.
const ADMIN_CHALLENGE: &str = "Basic realm=\"consent admin\", charset=\"UTF-8\"";

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            challenge: false,
        }
    }

    /// 401 with [`ADMIN_CHALLENGE`]: the route needs the admin token, and a browser that
    /// opened it should prompt for it. (A 401 for a missing consent cookie has no challenge:
    /// no password would do, and the visitor's page must not prompt.)
    pub(crate) fn admin_required(message: impl Into<String>) -> Self {
        Self {
            challenge: true,
            ..Self::new(StatusCode::UNAUTHORIZED, message)
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(json!({ "error": self.message }))).into_response();
        if self.challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(ADMIN_CHALLENGE),
            );
        }
        if self.status == StatusCode::TOO_MANY_REQUESTS
            || self.status == StatusCode::SERVICE_UNAVAILABLE
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "decision log");
        match e {
            StoreError::Full => ApiError::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "the decision log is full: nothing was recorded",
            ),
            StoreError::Unavailable(_)
            | StoreError::Closed
            | StoreError::ForeignHead
            | StoreError::ReadOnly => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the decision log is unavailable: nothing was recorded, try again",
            ),
            StoreError::Corrupt(_) | StoreError::Database(_) | StoreError::Outdated { .. } => {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the decision log failed: nothing was recorded",
                )
            }
        }
    }
}

/// The body of `POST /consent`: the token of the decision the banner made, the page it was
/// made on, and optionally the signed token the visitor held before (for an endpoint on
/// another origin, where the consent cookie does not travel): it proves the consent id
/// ([`consent_core::decision::Signer`]). The server makes the record itself, from the token
/// and its own config. A `record` sent by a banner of an earlier release is read and
/// ignored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Submission {
    token: String,
    #[serde(default)]
    page: Option<String>,
    #[serde(default)]
    previous: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    record: Option<serde::de::IgnoredAny>,
}

fn allowed_origin<'h, S>(app: &App<S>, headers: &'h HeaderMap) -> Result<&'h str, ApiError> {
    origin_in(&app.settings, headers)
}

/// Why an allowed origin ([`Settings::origins`], `--origin`) is not one.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OriginError {
    /// The text given.
    pub given: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl core::fmt::Display for OriginError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "origin {:?}: {}; an origin is http(s)://host[:port] as browsers send it in \
             their Origin header (https://klinikka.fi)",
            self.given, self.reason
        )
    }
}

impl std::error::Error for OriginError {}

/// An allowed origin as browsers write it in `Origin`, which [`Settings::origins`] is
/// compared with byte for byte: `HTTPS://Klinikka.FI:443/` and ` https://klinikka.fi` (a
/// space after a comma in `CONSENT_ORIGINS`) are `https://klinikka.fi`. Written any other
/// way, an origin would match no browser, and every decision from its site be refused.
///
/// # Errors
/// An [`OriginError`] naming the text: not http or https, a path, query or user name, no
/// host, a port that is no port.
pub fn parse_origin(text: &str) -> Result<String, OriginError> {
    let bad = |reason| OriginError {
        given: text.to_owned(),
        reason,
    };
    let trimmed = text.trim();
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    let (scheme, rest) = trimmed.split_once("://").ok_or_else(|| bad("no scheme"))?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port: u16 = match scheme.as_str() {
        "https" => 443,
        "http" => 80,
        _ => return Err(bad("not http or https")),
    };
    if rest.is_empty() {
        return Err(bad("no host"));
    }
    if let Some(c) = rest
        .chars()
        .find(|c| "/?#@\\".contains(*c) || c.is_whitespace())
    {
        return Err(bad(match c {
            '@' => "a user name",
            '/' | '\\' => "a path",
            '?' => "a query",
            '#' => "a fragment",
            _ => "a space",
        }));
    }
    let (host, port) = host_and_port(rest);
    if host.is_empty() {
        return Err(bad("no host"));
    }
    if !host.is_ascii() {
        return Err(bad(
            "a host not in ASCII (browsers send it in punycode, xn--...)",
        ));
    }
    let host = host.to_ascii_lowercase();
    match port {
        None => Ok(format!("{scheme}://{host}")),
        Some(p) => match p.parse::<u16>() {
            Ok(0) | Err(_) => Err(bad("a port that is not a number from 1 to 65535")),
            Ok(n) if n == default_port => Ok(format!("{scheme}://{host}")),
            Ok(n) => Ok(format!("{scheme}://{host}:{n}")),
        },
    }
}

/// `host[:port]` split at the port's colon: the last one, after an IPv6 address's brackets.
fn host_and_port(authority: &str) -> (&str, Option<&str>) {
    let after_host = authority.rfind(']').unwrap_or(0);
    let colon = authority
        .get(after_host..)
        .and_then(|rest| rest.rfind(':'))
        .map(|at| after_host + at);
    match colon {
        Some(at) => (
            authority.get(..at).unwrap_or_default(),
            authority.get(at + 1..),
        ),
        None => (authority, None),
    }
}

/// The request's `Origin` if the settings allow it to record decisions.
pub(crate) fn origin_in<'h>(
    settings: &Settings,
    headers: &'h HeaderMap,
) -> Result<&'h str, ApiError> {
    let origin = headers
        .get(header::ORIGIN)
        .ok_or_else(|| ApiError::new(StatusCode::FORBIDDEN, "missing Origin header"))?
        .to_str()
        .map_err(|_| ApiError::new(StatusCode::FORBIDDEN, "Origin header is not text"))?;
    if settings.origins.iter().any(|o| o == origin) {
        Ok(origin)
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("origin {origin} may not record consent here"),
        ))
    }
}

/// The CORS answer of an endpoint that a banner on one of `origins` posts to, with its
/// cookies: the preflight and the answers (errors included, so the banner can read why).
/// The handlers still refuse any other origin themselves ([`origin_in`]): CORS only tells
/// browsers what they may read.
pub(crate) fn cors_for(origins: &[String]) -> tower_http::cors::CorsLayer {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(
            origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()),
        ))
        .allow_methods([axum::http::Method::POST])
        .allow_headers([header::CONTENT_TYPE])
        .allow_credentials(true)
        .max_age(std::time::Duration::from_secs(600))
}

async fn post_consent<S: Store>(
    State(app): State<Arc<App<S>>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    limit(&app, client, &headers, "decisions")?;
    let origin = allowed_origin(&app, &headers)?;
    let bytes = read_body(&headers, body, "application/json").await?;
    let now = OffsetDateTime::now_utc();
    let cookies = crate::nojs::request_cookies(&headers);
    let shown: Vec<&str> = cookies
        .iter()
        .filter(|(n, _)| n == app.settings.config.cookie().name())
        .map(|(_, v)| v.as_str())
        .collect();
    let (record, token) = accept(
        &app.settings.config,
        &app.settings.key,
        &bytes,
        origin,
        &shown,
        now,
    )?;
    let appended = app.store.append(record).await?;

    let secure = app.settings.secure_cookie || origin.starts_with("https://");
    let cookie = token.to_cookie(&*app.settings.config, secure);
    let mut response = (
        StatusCode::CREATED,
        Json(json!({ "token": token.to_string(), "consent_id": token.state().id().to_string(), "seq": appended.seq })),
    )
        .into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&cookie.to_string()) {
        h.insert(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// Refuses a client over its per-second budget of `what` (decisions, sign-ups, reads).
pub(crate) fn rate_limit(
    limiter: Option<&crate::client::Limiter>,
    settings: &Settings,
    peer: SocketAddr,
    headers: &HeaderMap,
    what: &str,
) -> Result<(), ApiError> {
    let Some(l) = limiter else {
        return Ok(());
    };
    if l.allows(crate::client::address(
        peer,
        headers,
        &settings.trusted_proxies,
    )) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many {what} from this address; try again shortly"),
        ))
    }
}

fn limit<S>(
    app: &App<S>,
    peer: SocketAddr,
    headers: &HeaderMap,
    what: &str,
) -> Result<(), ApiError> {
    rate_limit(app.limiter.as_ref(), &app.settings, peer, headers, what)
}

/// Whether the request's `Content-Type` is `media_type` (`application/json`): its type and
/// subtype without case, as HTTP defines them, and parameters (`; charset=utf-8`) aside. A
/// type that merely begins the same (`application/jsonp`) is another.
pub(crate) fn content_type_is(headers: &HeaderMap, media_type: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(media_type))
}

/// The body of a request that must be of `content_type`, at most [`MAX_BODY`] bytes.
async fn read_body(
    headers: &HeaderMap,
    body: Body,
    content_type: &'static str,
) -> Result<axum::body::Bytes, ApiError> {
    if !content_type_is(headers, content_type) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("expected Content-Type: {content_type}"),
        ));
    }
    axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("body larger than {MAX_BODY} bytes"),
        )
    })
}

/// Accepts a submission with the core's one step for it ([`decision::accept`]): the token
/// checked against the config, re-timed to the server's clock, given the server's consent id
/// and signed; the record made from it here. What the log stores is what the server checked,
/// never what it was sent; so is the page, which must be on the request's `origin` (an
/// honest banner sends its own `location.href`).
fn accept(
    config: &Config,
    key: &ServerKey,
    body: &[u8],
    origin: &str,
    shown: &[&str],
    now: OffsetDateTime,
) -> Result<(DecisionRecord, Token), ApiError> {
    let bad = |m: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m);
    let submission: Submission = serde_json::from_slice(body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}")))?;
    let page = submission
        .page
        .as_deref()
        .map(PageUrl::new)
        .transpose()
        .map_err(|e| bad(format!("page: {e}")))?;
    if let Some(page) = page.as_ref().filter(|p| p.origin() != origin) {
        return Err(bad(format!(
            "page: {} is not on the origin the decision came from ({origin})",
            page.origin()
        )));
    }
    let mut proofs = shown.to_vec();
    // The banner's previous token, signed again if a retired key signed it (as the cookie is,
    // by `resign_cookies`).
    let previous = submission.previous.as_deref().map(|p| {
        key.resign_token(p)
            .map_or(p.into(), std::borrow::Cow::Owned)
    });
    proofs.extend(previous.as_deref());
    let fresh = crate::ids::fresh().map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("no random consent id: {e}"),
        )
    })?;
    let signer = Signer {
        key: key.token_key(),
        proofs: &proofs,
    };
    let made = match decision::accept(config, &submission.token, signer, fresh, now) {
        Ok(made) => made,
        // Another revision, or a config with other categories, services or site than this
        // server's (a banner config out of step with the server's says so here).
        Err(SubmitError::OtherPolicy) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!(
                    "the decision was made under another policy than this server's (revision {}{}{}): reload the page and decide again",
                    config.revision(),
                    if config.site().is_some() {
                        ", site "
                    } else {
                        ""
                    },
                    config.site().unwrap_or(""),
                ),
            ));
        }
        Err(SubmitError::Clock(e)) => {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                e.to_string(),
            ));
        }
        Err(e) => return Err(bad(e.to_string())),
    };
    Ok((made.record(config, page, Channel::Banner), *made.token()))
}

fn is_admin<S>(app: &App<S>, headers: &HeaderMap) -> bool {
    admin_in(&app.settings, headers)
}

/// Whether the request carries the settings' admin token, as a Bearer token or as a
/// browser's login (HTTP Basic).
pub(crate) fn admin_in(settings: &Settings, headers: &HeaderMap) -> bool {
    admin_token_in(settings, headers, false)
}

/// Whether the request carries the admin token as `Authorization: Bearer`: a client the staff
/// wrote (the mailer) sent it on purpose. A browser that logged in with HTTP Basic sends its
/// password with every request to this server, also one that a page on another site makes it
/// send (a link, an image), so Basic alone must never do more than show.
pub(crate) fn admin_bearer_in(settings: &Settings, headers: &HeaderMap) -> bool {
    admin_token_in(settings, headers, true)
}

/// Whether a browser made the request other than as a page or a download staff opened,
/// whichever page made it: a `fetch`, an image, a script (`Sec-Fetch-Mode` other than
/// `navigate`, unless `Sec-Fetch-Dest` is `document`: browsers give a download of the
/// dashboard's exports one or the other), or a page loaded into a frame (`Sec-Fetch-Dest`
/// `iframe`, `frame`, `fencedframe`, `embed` or `object`: a frame of the same origin is the
/// page's to read, a JSON or CSV answer included, which no `frame-ancestors` covers).
///
/// A browser that logged in with HTTP Basic sends the login with every request to the
/// origin, and behind the documented reverse proxy (docs/DEPLOY.md) the dashboard shares
/// its origin with the site, whose pages run tags and scripts staff do not control: one of
/// them could read the register and act on it as staff. The dashboard's pages have no
/// script of their own, so a browser's login counts only for pages and downloads; programs
/// send no `Sec-Fetch-*`.
fn scripted(headers: &HeaderMap) -> bool {
    let dest = headers.get("sec-fetch-dest");
    let framed = dest.is_some_and(|d| {
        ["iframe", "frame", "fencedframe", "embed", "object"]
            .iter()
            .any(|f| d == f)
    });
    let fetched = headers
        .get("sec-fetch-mode")
        .is_some_and(|mode| mode != "navigate")
        && dest.is_none_or(|d| d != "document");
    framed || fetched
}

/// Whether the request carries a browser's login (HTTP Basic) that a script's request may
/// not use ([`scripted`]): answered 403, without the challenge that would have the browser
/// ask staff for the password again.
pub(crate) fn login_from_script(headers: &HeaderMap) -> bool {
    scripted(headers)
        && headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
}

/// The 403 of [`login_from_script`].
pub(crate) fn script_refused() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "a browser's login opens the dashboard's pages only: a script's request needs \
         Authorization: Bearer <admin token>",
    )
}

fn admin_token_in(settings: &Settings, headers: &HeaderMap, bearer_only: bool) -> bool {
    let Some(expected) = &settings.admin_token else {
        return false;
    };
    let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    // Digests compared, not the texts: `ct_eq` answers at once for texts of two lengths,
    // which would tell the token's length.
    let digest = |b: &[u8]| <sha2::Sha256 as sha2::Digest>::digest(b);
    let expected = digest(expected.as_bytes());
    let matches = |given: &[u8]| bool::from(digest(given).ct_eq(&expected));
    // The scheme is case-insensitive (RFC 9110, 11.1): `bearer` is `Bearer`.
    let Some((scheme, credentials)) = auth.split_once(' ') else {
        return false;
    };
    let credentials = credentials.trim_start_matches(' ');
    if scheme.eq_ignore_ascii_case("bearer") {
        return matches(credentials.as_bytes());
    }
    if bearer_only || !scheme.eq_ignore_ascii_case("basic") || scripted(headers) {
        return false;
    }
    // A browser's login prompt: any user name, the token as the password.
    base64::engine::general_purpose::STANDARD
        .decode(credentials.trim())
        .ok()
        .and_then(|pair| {
            let colon = pair.iter().position(|&b| b == b':')?;
            pair.get(colon + 1..).map(matches)
        })
        .unwrap_or(false)
}

/// The consent id of the request's signed consent cookie (`/consent/me`): the visitor's own,
/// without it ever going into a URL.
fn own_id<S>(app: &App<S>, headers: &HeaderMap) -> Result<ConsentId, ApiError> {
    crate::nojs::request_cookies(headers)
        .iter()
        .filter(|(n, _)| n == app.settings.config.cookie().name())
        .find_map(|(_, v)| Token::parse_verified(v, Some(app.settings.key.token_key())).ok())
        .map(|t| t.state().id())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "no consent cookie signed by this server: nothing to show",
            )
        })
}

/// Admin, or the visitor whose signed consent cookie holds this id.
fn may_access<S>(app: &App<S>, headers: &HeaderMap, id: ConsentId) -> Result<(), ApiError> {
    if is_admin(app, headers) {
        return Ok(());
    }
    // Signed for this id by this server, expired or not: the right of access outlives the
    // consent.
    let cookies = crate::nojs::request_cookies(headers);
    let shown: Vec<&str> = cookies
        .iter()
        .filter(|(n, _)| n == app.settings.config.cookie().name())
        .map(|(_, v)| v.as_str())
        .collect();
    if crate::ids::proves(&shown, id, &app.settings.key) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::UNAUTHORIZED,
        "only the visitor with this consent id (their consent cookie) or an admin may see or erase its records",
    ))
}

async fn get_consent<S: Store>(
    State(app): State<Arc<App<S>>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(name): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    if name == "me" || name.parse::<ConsentId>().is_ok() {
        limit(&app, client, request.headers(), "reads")?;
    }
    let id = if name == "me" {
        own_id(&app, request.headers())?
    } else {
        let Ok(id) = name.parse::<ConsentId>() else {
            // Not an id: one of the banner's files.
            return serve_file(&app, request).await;
        };
        id
    };
    may_access(&app, request.headers(), id)?;
    let entries = app.store.records_for(id).await?;
    if entries.is_empty() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no records for this consent id",
        ));
    }
    let records: Vec<serde_json::Value> = entries
        .iter()
        .map(|e| {
            let record = e
                .record()
                .and_then(Result::ok)
                .map(|r| serde_json::to_value(r).unwrap_or_default());
            json!({ "seq": e.seq, "digest": e.digest.to_string(), "record": record })
        })
        .collect();
    Ok(personal(
        Json(json!({ "consent_id": id.to_string(), "records": records })).into_response(),
    ))
}

/// An answer holding one person's data (their records, what was erased): no cache may keep
/// it, the browser's own on a shared computer included.
pub(crate) fn personal(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// [`personal`] for every answer of a router whose routes all answer with personal data or
/// about it (the customer register's), unless the route set a policy of its own.
pub(crate) async fn no_store(request: Request, next: axum::middleware::Next) -> Response {
    let mut response = next.run(request).await;
    if !response.headers().contains_key(header::CACHE_CONTROL) {
        response = personal(response);
    }
    response
}

async fn serve_file<S>(app: &App<S>, request: Request) -> Result<Response, ApiError> {
    let Some(files) = &app.files else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "not found"));
    };
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed",
        ));
    }
    // Strip the /consent prefix: the directory holds consent.js, not consent/consent.js.
    let (mut parts, body) = request.into_parts();
    let path = parts.uri.path().strip_prefix("/consent").unwrap_or("/");
    parts.uri = path
        .parse()
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "bad path"))?;
    let mut response = files
        .clone()
        .oneshot(Request::from_parts(parts, body))
        .await
        .map(IntoResponse::into_response)
        .unwrap_or_else(|e| match e {});
    if response.status().is_success() {
        // Not content-hashed names: cache briefly, then revalidate (ETag/Last-Modified).
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300, must-revalidate"),
        );
    }
    Ok(response)
}

async fn delete_consent<S: Store>(
    State(app): State<Arc<App<S>>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    limit(&app, client, &headers, "erasures")?;
    let id: ConsentId = if id == "me" {
        own_id(&app, &headers)?
    } else {
        id.parse()
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("{e}")))?
    };
    may_access(&app, &headers, id)?;
    let erased = app.store.erase(id).await?;
    if erased == 0 {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no records for this consent id",
        ));
    }
    Ok(personal(Json(json!({ "erased": erased })).into_response()))
}

#[derive(Deserialize)]
struct StatsQuery {
    format: Option<String>,
}

async fn get_stats<S: Store>(
    State(app): State<Arc<App<S>>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<StatsQuery>,
) -> Result<Response, ApiError> {
    // With the Basic challenge too: the dashboard links here, for its export.
    if let Some(refused) = admin_only(&app, client, &headers)? {
        return Ok(refused);
    }
    let stats = Stats::new(&app.store.stats().await?, &app.settings.config);
    // `no-store` as the dashboard that links here: staff download it in the clinic's
    // browser, whose disk cache the next person at a shared computer reads without a password.
    match q.format.as_deref() {
        None | Some("json") => Ok(personal(Json(stats).into_response())),
        Some("csv") => Ok(personal(
            (
                [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
                stats.to_csv(),
            )
                .into_response(),
        )),
        Some(other) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("format {other:?}: expected json or csv"),
        )),
    }
}

/// The query of the no-JavaScript pages.
#[derive(Deserialize)]
struct NojsQuery {
    lang: Option<String>,
    return_to: Option<String>,
}

fn html_response(html: String) -> Response {
    let headers = [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    (headers, html).into_response()
}

/// The first layer as a fragment, for pages that include it server-side. Empty when the
/// request carries a current decision (no banner is due).
async fn get_first_layer<S: Store>(
    State(app): State<Arc<App<S>>>,
    headers: HeaderMap,
    Query(q): Query<NojsQuery>,
) -> Response {
    let config = &app.settings.config;
    let lang = crate::nojs::pick_lang(config, q.lang.as_deref());
    html_response(crate::nojs::first_layer_if_due(
        config,
        &app.gate,
        &headers,
        lang,
        q.return_to.as_deref().unwrap_or("/"),
    ))
}

async fn get_preferences<S: Store>(
    State(app): State<Arc<App<S>>>,
    headers: HeaderMap,
    Query(q): Query<NojsQuery>,
) -> Response {
    let config = &app.settings.config;
    // The switches start from the decision the gate reads (the first valid of several
    // consent cookies, signed by this server), as the first layer's fragment does.
    let verdict = consent_gate::verdict(&app.gate, &headers, OffsetDateTime::now_utc());
    let lang = crate::nojs::pick_lang(config, q.lang.as_deref());
    html_response(crate::nojs::preferences_page(
        config,
        lang,
        q.return_to.as_deref().unwrap_or("/"),
        verdict.evaluation(),
        consent_gate::signals(&headers).gpc,
    ))
}

/// A decision from the no-JavaScript first layer or preferences page: logged like one from
/// the banner, answered with the signed cookie and a redirect back to the page.
async fn post_form<S: Store>(
    State(app): State<Arc<App<S>>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    limit(&app, client, &headers, "decisions")?;
    let origin = allowed_origin(&app, &headers)?.to_owned();
    let bytes = read_body(&headers, body, "application/x-www-form-urlencoded").await?;
    let config = &app.settings.config;
    let input = crate::nojs::parse_form(config, &bytes)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    let cookies = crate::nojs::request_cookies(&headers);
    // Of several consent cookies (a stale one of a parent domain or another path), the
    // visitor's decision as the gate reads it (policy rule 15 under this server's key): the
    // valid one decided last; else the first this server signed, whose id a new decision
    // continues (rule 10); else the first. `POST /consent` takes every one as a proof alike.
    let now = OffsetDateTime::now_utc();
    let signals = consent_gate::signals(&headers);
    let key = app.settings.key.token_key();
    let mut first = None;
    let mut signed = policy::Latest::default();
    for (_, v) in cookies.iter().filter(|(n, _)| n == config.cookie().name()) {
        first.get_or_insert(v.as_str());
        let evaluation = policy::evaluate(&**config, Some(v), Some(key), now, signals);
        if evaluation.state().is_some() {
            signed.offer(v.as_str(), &evaluation);
        }
    }
    let stored = signed.get().or(first);
    let names: Vec<&str> = cookies.iter().map(|(n, _)| n.as_str()).collect();
    let host = origin
        .split_once("://")
        .map_or(origin.as_str(), |(_, h)| h)
        .split(':')
        .next()
        .unwrap_or_default();
    let decision = crate::nojs::decide(
        config,
        &app.settings.key,
        &input,
        stored,
        signals,
        &origin,
        host,
        &names,
        now,
        random_id()?,
    )
    .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    app.store.append(decision.record).await?;
    let secure = app.settings.secure_cookie || origin.starts_with("https://");
    let mut response = StatusCode::SEE_OTHER.into_response();
    let h = response.headers_mut();
    for value in std::iter::once(decision.token.to_cookie(&**config, secure).to_string())
        .chain(decision.clear)
    {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.append(header::SET_COOKIE, v);
        }
    }
    if let Ok(v) = HeaderValue::from_str(&input.return_to) {
        h.insert(header::LOCATION, v);
    }
    Ok(response)
}

fn random_id() -> Result<ConsentId, ApiError> {
    crate::ids::fresh().map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("no random consent id: {e}"),
        )
    })
}

/// A file compiled into the server: cached briefly, then revalidated, as the banner's.
fn static_file(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (
                header::CACHE_CONTROL,
                "public, max-age=300, must-revalidate",
            ),
        ],
        body,
    )
        .into_response()
}

/// The query of the admin pages.
#[derive(Deserialize)]
struct AdminQuery {
    lang: Option<String>,
    id: Option<String>,
}

/// The admin pages' language ([`crate::admin::lang_of`]).
fn admin_lang(config: &Config, headers: &HeaderMap, q: &AdminQuery) -> consent_core::Lang {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    crate::admin::lang_of(q.lang.as_deref(), accept, config.default_language())
}

/// An admin page: never cached, and under the admin pages' own strict policy
/// ([`crate::admin::CSP`]).
fn admin_html(status: StatusCode, lang: consent_core::Lang, html: String) -> Response {
    let mut response = (status, html_response(html)).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(crate::admin::CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.as_str()),
    );
    h.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    response
}

/// Lets only the admin through. Without the admin token it answers 401 with a Basic
/// challenge, so a browser shows its login prompt (the token is the password).
fn admin_only<S>(
    app: &App<S>,
    client: SocketAddr,
    headers: &HeaderMap,
) -> Result<Option<Response>, ApiError> {
    // Also what keeps the admin token from being guessed through the login prompt.
    limit(app, client, headers, "admin requests")?;
    if embedded_by_another_site(headers) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "the dashboard and its exports open as a page (a link, a bookmark, typed in) or \
             for a program: another site's page may not embed or fetch them",
        ));
    }
    if is_admin(app, headers) {
        return Ok(None);
    }
    if login_from_script(headers) {
        return Err(script_refused());
    }
    Ok(Some(
        ApiError::admin_required(
            "admin token required (as the password, or Authorization: Bearer <token>)",
        )
        .into_response(),
    ))
}

/// The dashboard ([`crate::admin`]).
async fn get_admin<S: Store>(
    State(app): State<Arc<App<S>>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    deadline: Option<Extension<crate::listen::Deadline>>,
    headers: HeaderMap,
    Query(q): Query<AdminQuery>,
) -> Result<Response, ApiError> {
    if let Some(refused) = admin_only(&app, client, &headers)? {
        return Ok(refused);
    }
    let config = &app.settings.config;
    let stats = Stats::new(&app.store.stats().await?, config);
    // The head file before the database: the server writes it after the records it names
    // are committed, so a log that holds less than it was rolled back. A head file that
    // cannot be read is a break too: whoever can edit the database may have damaged it.
    let head_file = match app.settings.head_file.as_deref().map(SignedHead::read) {
        Some(Ok(head)) => Ok(Some(head)),
        Some(Err(HeadFileError::Io(_, e))) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Some(Err(e)) => Err(e.to_string()),
        None => Ok(None),
    };
    // Stopped in time to answer ([`crate::admin`]'s "The log's check").
    let checked = std::sync::atomic::AtomicU64::new(0);
    let log = match head_file {
        Err(e) => crate::admin::LogStatus::Broken(e),
        Ok(head_file) => {
            let walk =
                crate::verify::verify(&*app.store, &app.settings.key, head_file.as_ref(), |n| {
                    checked.store(n, std::sync::atomic::Ordering::Relaxed);
                });
            let walked = match deadline {
                Some(Extension(d)) => {
                    tokio::time::timeout(crate::admin::walk_budget(d.remaining()), walk)
                        .await
                        .ok()
                }
                None => Some(walk.await),
            };
            match walked {
                Some(Ok(v)) => crate::admin::LogStatus::Verified {
                    entries: v.entries,
                    erased: v.erased,
                    purged: v.checkpoint.unwrap_or(0),
                },
                Some(Err(e)) => crate::admin::LogStatus::Broken(e.to_string()),
                None => crate::admin::LogStatus::Unchecked {
                    entries: checked.load(std::sync::atomic::Ordering::Relaxed),
                },
            }
        }
    };
    // The latest-state table holds one row per contact and channel: a clinic's register
    // is thousands of rows, counted here rather than by a query each store would need.
    let register = crate::admin::RegisterCounts::from_rows(&app.store.state_rows().await?);
    let requests = app.store.requests(true).await?;
    let dashboard = crate::admin::Dashboard {
        config,
        stats: &stats,
        log: &log,
        requests: &requests,
        register: &register,
        now: OffsetDateTime::now_utc(),
    };
    let lang = admin_lang(config, &headers, &q);
    Ok(admin_html(
        StatusCode::OK,
        lang,
        crate::admin::page(&dashboard, lang),
    ))
}

/// One consent id's records, as the dashboard's search finds them.
async fn get_admin_consent<S: Store>(
    State(app): State<Arc<App<S>>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<AdminQuery>,
) -> Result<Response, ApiError> {
    if let Some(refused) = admin_only(&app, client, &headers)? {
        return Ok(refused);
    }
    let config = &app.settings.config;
    let text = q.id.as_deref().unwrap_or_default().trim();
    // Ids are printed in lower case; one pasted in upper case is the same id.
    let lookup = match text.to_ascii_lowercase().parse::<ConsentId>() {
        Ok(id) => crate::admin::Lookup::Found {
            id,
            entries: app.store.records_for(id).await?,
        },
        Err(_) => crate::admin::Lookup::NotAnId(text.to_owned()),
    };
    let status = match lookup {
        crate::admin::Lookup::NotAnId(_) => StatusCode::BAD_REQUEST,
        crate::admin::Lookup::Found { .. } => StatusCode::OK,
    };
    let lang = admin_lang(config, &headers, &q);
    Ok(admin_html(
        status,
        lang,
        crate::admin::consent_page(config, &lookup, lang),
    ))
}

/// Whether a browser made the request for a page of another site (`Sec-Fetch-Site` other
/// than `same-origin` or `none`): staff's browser sends their Basic login with it all the
/// same, so a route that acts on the login refuses it. Programs (curl, a mailer) send no
/// `Sec-Fetch-Site`.
pub(crate) fn from_another_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .is_some_and(|v| v != "same-origin" && v != "none")
}

/// Whether another site's page made the request ([`from_another_site`]) other than as a
/// navigation to a page of its own (an image, a script, a frame, a `fetch`): staff's browser
/// sends their Basic login with it all the same, and the dashboard walks the whole log on
/// every visit, so such a page could have the server walk it as often as the rate limit
/// lets through. A link or a bookmark elsewhere (`Sec-Fetch-Mode: navigate`,
/// `Sec-Fetch-Dest: document`) still opens the dashboard.
pub(crate) fn embedded_by_another_site(headers: &HeaderMap) -> bool {
    let is = |name: &str, value: &str| headers.get(name).is_some_and(|v| v == value);
    from_another_site(headers)
        && !(is("sec-fetch-mode", "navigate") && is("sec-fetch-dest", "document"))
}

/// Logout for HTTP Basic: 401 without a challenge ([`crate::admin`]'s "Logout"); 403 to a
/// request another site's page or a script made.
async fn get_admin_logout<S: Store>(
    State(app): State<Arc<App<S>>>,
    headers: HeaderMap,
    Query(q): Query<AdminQuery>,
) -> Response {
    // A 403 leaves the browser's login as it is, where a 401 would drop it. Nor may a script
    // on the site's own pages, which share the origin behind the documented proxy.
    if from_another_site(&headers) || scripted(&headers) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "log out with the dashboard's own link: a page on another site, or a script, may \
             not log staff out",
        )
        .into_response();
    }
    let lang = admin_lang(&app.settings.config, &headers, &q);
    admin_html(
        StatusCode::UNAUTHORIZED,
        lang,
        crate::admin::logout_page(lang),
    )
}

#[derive(Deserialize)]
struct DeclarationQuery {
    lang: Option<String>,
    format: Option<String>,
}

/// The cookie declaration, rendered from the server's own config so that the privacy notice
/// and the banner say the same. The language is `?lang=`, else the first of the config's in
/// `Accept-Language`, else the config's default. Public and cacheable: it holds nothing
/// about the visitor, and any page may fetch it.
async fn get_declaration<S: Store>(
    State(app): State<Arc<App<S>>>,
    headers: HeaderMap,
    Query(q): Query<DeclarationQuery>,
) -> Result<Response, ApiError> {
    use consent_core::declaration::{Declaration, Format};
    let config = &app.settings.config;
    let bad = |m: String| ApiError::new(StatusCode::BAD_REQUEST, m);
    let format: Format = match q.format.as_deref() {
        None => Format::Html,
        Some(f) => f.parse().map_err(|e| bad(format!("format {f:?}: {e}")))?,
    };
    let lang = match q.lang.as_deref() {
        Some(l) => l.parse().map_err(|e| bad(format!("lang {l:?}: {e}")))?,
        None => headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let tags = v
                    .split(',')
                    .map(|t| t.split(';').next().unwrap_or("").trim());
                consent_core::Lang::negotiate(tags, config.languages())
            })
            .unwrap_or(config.default_language()),
    };
    // The server has no date of its own for the revision: the config's revision_date, if any.
    let declaration = Declaration::new(config, lang, None)
        .map_err(|e| ApiError::new(StatusCode::NOT_FOUND, e.to_string()))?;
    let mut response = declaration.render(format).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    h.insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.as_str()),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    h.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_is_read_as_browsers_write_it() {
        for (given, origin) in [
            ("https://klinikka.fi", "https://klinikka.fi"),
            (" HTTPS://Klinikka.FI:443/ ", "https://klinikka.fi"),
            ("http://localhost:80", "http://localhost"),
            ("https://klinikka.fi:0443", "https://klinikka.fi"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://[::1]:8080/", "http://[::1]:8080"),
            ("https://[2001:DB8::1]", "https://[2001:db8::1]"),
        ] {
            assert_eq!(parse_origin(given).as_deref(), Ok(origin), "{given}");
        }
        for (given, why) in [
            ("klinikka.fi", "no scheme"),
            ("ftp://klinikka.fi", "not http"),
            ("https://klinikka.fi/fi", "a path"),
            ("https://klinikka.fi?x", "a query"),
            ("https://u@klinikka.fi", "a user name"),
            ("https://klinikka.fi:0", "a port"),
            ("https://klinikka.fi:x", "a port"),
            ("https://:8080", "no host"),
            ("https://kävijä.fi", "punycode"),
        ] {
            let e = parse_origin(given).expect_err(given);
            assert!(e.to_string().contains(why), "{given}: {e}");
            assert!(e.to_string().contains(given), "{given}: {e}");
        }
    }
}
