//! The customer register's HTTP routes, merged into the API by [`router`].
//!
//! | route | who | what |
//! | --- | --- | --- |
//! | `POST /register/marketing` | admin (staff tools) | record a consent, refusal, withdrawal, objection or soft opt-in |
//! | `POST /register/may-market` | admin | whether a contact may be marketed to on a channel now |
//! | `POST /register/check?channel=email[&column=...]` | admin | a mailing list (CSV body) in, the rows that may not be contacted out (CSV) |
//! | `GET /register/requests[?all=true]` | admin | data-subject requests (open ones by default) with deadlines and days left |
//! | `POST /register/requests` | admin | record a new request: `{"kind", "contact" or "consent_id", "staff", "received"?, "identity"?}` |
//! | `POST /register/requests/{id}` | admin | update one: `{"identity"?, "extend"?, "close"?, "closed"?}` |
//! | `POST /register/access` | admin | everything held for `{"contact"}` or `{"consent_id"}`, as JSON or (`"format": "html"`, `"lang"`) a readable page |
//! | `POST /register/signup` | the site's newsletter form, from an allowed `Origin`, rate-limited per client like `POST /consent` | a confirmation link for the customer's consent to each channel ticked (double opt-in: nothing is recorded yet) |
//! | `GET /register/confirm?token=...` | the contact, from the link | a page with a button that confirms |
//! | `POST /register/confirm` | the contact (form: `token`), rate-limited per client like the sign-up | records the consents ([`super::confirm`]) |
//! | `GET /register/outbox[?peek=true][&format=html]` | admin (the site's mailer) | the confirmation messages to send (`id`, `to`, `link`, `expires`), taken out unless `peek` ([`super::outbox`]); taking needs the token as `Bearer`, not a browser's login |
//! | `DELETE /register/outbox/{id}` | admin (the site's mailer) | removes a message sent after a `peek` |
//!
//! The sign-up takes JSON (`{"contact": ..., "channels": ["email", ...]}`, answered 202 with
//! the channels waiting for confirmation, or an error) from the banner package's
//! `consent-signup.js`, and a plain
//! form post (`application/x-www-form-urlencoded`: `contact`, one `channels` field per box
//! ticked, `return_to`) from a page without JavaScript. A form post is answered with a 303
//! back to `return_to` (a path on this site, checked like the banner form's) with
//! `signup=<outcome>` added to its query, so the page can say what happened in its language:
//!
//! | outcome | meaning |
//! | --- | --- |
//! | `ok` | accepted: a confirmation link goes to the contact; nothing is recorded until it is used |
//! | `channels` | no box ticked |
//! | `contact` | not an e-mail address or a phone number |
//! | `channel` | a ticked channel cannot reach the contact (SMS to an e-mail address) |
//! | `busy` | too many sign-ups from this client; try again shortly |
//! | `error` | anything else (the log failed, a later decision is on record) |
//!
//! A malformed form (an unknown or repeated field, an unknown channel, a foreign
//! `return_to`) is the site's mistake and is answered 422 with the field named.
//!
//! An admin route asked without the admin token answers 401 with the dashboard's Basic
//! challenge, so a browser (staff opening the outbox's page) prompts for it.
//!
//! A body is read only once the route knows who asks (the admin token, or the sign-up's
//! `Origin`), and at most [`MAX_BODY`] bytes (the list check: [`list::MAX_LEN`]); past that, 413
//! with the API's JSON error (the confirmation's form post: 413 and the page saying the link
//! is not valid).
//!
//! Contacts travel in request bodies, never in URLs, where proxies and access logs would keep
//! them. Answers never echo a contact except the check's, which returns the caller's own list.
//!
//! Double opt-in ([`super::confirm`]): a sign-up records nothing until the contact opens the
//! link and confirms, so a forged sign-up cannot make `may_market` say yes, and a link mailed
//! before an objection cannot lift it. Sending the message is the site's mailer's job: it takes
//! them from `GET /register/outbox`, kept in the store so a restart loses none.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use consent_core::Channel;
use consent_core::register::{Contact, ContactError, MarketingChannel, MarketingKind, MayMarket};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;

use super::confirm::{self, ConfirmError, Pending};
use super::confirm_page::{self, Outcome};
use super::list::{self, Flagged};
use super::outbox::Message;
use super::{Decision, RecordError, Recorded};
use crate::api::{ApiError, Settings, admin_bearer_in, admin_in, origin_in};
use crate::store::Store;

// The sign-up's messages per contact are counted in the store (the outbox's rule 5), so
// that every server on one database shares the count; the terms are the outbox's.
pub use super::outbox::{MESSAGE_EVERY, MESSAGES_PER_CONTACT};

/// The largest body the register's other routes accept (JSON or a form of a few fields),
/// as `POST /consent`'s.
pub const MAX_BODY: usize = crate::api::MAX_BODY;

struct Register<S> {
    store: Arc<S>,
    settings: Settings,
    /// The per-client limit of the sign-up and the confirmation, at `POST /consent`'s rate.
    limiter: Option<crate::client::Limiter>,
}

/// The register's routes, to merge into [`crate::api::router`]'s.
pub fn router<S: Store>(store: Arc<S>, settings: Settings) -> Router {
    let limiter = settings.rate_limit.map(crate::client::Limiter::new);
    let cors = crate::api::cors_for(&settings.origins);
    let demo = settings.demo.is_some();
    let app = Arc::new(Register {
        store,
        settings,
        limiter,
    });
    let router = if demo {
        Router::new().route("/demo/mail", axum::routing::get(get_demo_mail::<S>))
    } else {
        Router::new()
    };
    router
        .route("/register/marketing", post(post_marketing::<S>))
        .route("/register/may-market", post(post_may_market::<S>))
        .route(
            "/register/check",
            post(post_check::<S>).layer(axum::extract::DefaultBodyLimit::max(list::MAX_LEN)),
        )
        .route(
            "/register/requests",
            axum::routing::get(get_requests::<S>).post(post_request::<S>),
        )
        .route("/register/requests/{id}", post(post_request_update::<S>))
        .route("/register/access", post(post_access::<S>))
        .route("/register/signup", post(post_signup::<S>).layer(cors))
        .route(
            "/register/confirm",
            axum::routing::get(get_confirm::<S>).post(post_confirm::<S>),
        )
        .route("/register/outbox", axum::routing::get(get_outbox::<S>))
        .route(
            "/register/outbox/{id}",
            axum::routing::delete(delete_outbox::<S>),
        )
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            limit_admin_guesses::<S>,
        ))
        .with_state(app)
        // Contacts, their decisions, requests and messages: never kept by a cache.
        .layer(axum::middleware::from_fn(crate::api::no_store))
        .layer(axum::middleware::from_fn(crate::api::json_errors))
        .layer(axum::middleware::from_fn(crate::api::security_headers))
}

/// Counts every request to an admin route without the admin token against the client's
/// budget (the sign-up's), so the token cannot be guessed at speed; staff with the token are
/// never held back.
async fn limit_admin_guesses<S: Store>(
    State(app): State<Arc<Register<S>>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let public = matches!(
        request.uri().path(),
        "/register/signup" | "/register/confirm" | "/demo/mail"
    );
    if !public && !admin_in(&app.settings, request.headers()) {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        if let (Some(limiter), Some(peer)) = (app.limiter.as_ref(), peer) {
            let client =
                crate::client::address(peer, request.headers(), &app.settings.trusted_proxies);
            if !limiter.allows(client) {
                return ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too many requests without the admin token from this address; try again shortly",
                )
                .into_response();
            }
        }
    }
    next.run(request).await
}

fn admin<S>(app: &Register<S>, headers: &HeaderMap) -> Result<(), ApiError> {
    if admin_in(&app.settings, headers) {
        Ok(())
    } else if crate::api::login_from_script(headers) {
        Err(crate::api::script_refused())
    } else {
        // With the Basic challenge, as the dashboard's: staff open the outbox's page
        // (`format=html`) in a browser, which then prompts for the token.
        Err(ApiError::admin_required(
            "the customer register needs the admin token (as the password, or \
             Authorization: Bearer <token>)",
        ))
    }
}

fn json_body<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<T, ApiError> {
    let json = crate::api::content_type_is(headers, "application/json");
    if !json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected Content-Type: application/json",
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("invalid body: {e}"),
        )
    })
}

/// The body of a request to one of the register's routes but the list check, read only
/// once the handler knows who asks (the admin token, or the sign-up's `Origin`), and at most
/// [`MAX_BODY`] bytes; past it, the API's JSON error.
async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("body larger than {MAX_BODY} bytes"),
        )
    })
}

impl From<RecordError> for ApiError {
    fn from(e: RecordError) -> Self {
        match e {
            RecordError::Store(e) => e.into(),
            RecordError::OutOfOrder { .. } | RecordError::Superseded { .. } => {
                ApiError::new(StatusCode::CONFLICT, e.to_string())
            }
            RecordError::Contact(_)
            | RecordError::Staff(_)
            | RecordError::Decision(_)
            | RecordError::Future
            | RecordError::Suppression => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MarketingBody {
    contact: String,
    channel: MarketingChannel,
    kind: MarketingKind,
    via: Channel,
    #[serde(default)]
    staff: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    time: Option<OffsetDateTime>,
}

fn recorded(r: Recorded) -> Response {
    match r {
        Recorded::Stored { seq } => (
            StatusCode::CREATED,
            Json(json!({ "seq": seq, "duplicate": false })),
        )
            .into_response(),
        Recorded::Duplicate { seq } => (
            StatusCode::OK,
            Json(json!({ "seq": seq, "duplicate": true })),
        )
            .into_response(),
    }
}

async fn post_marketing<S: Store>(
    State(app): State<Arc<Register<S>>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    admin(&app, &headers)?;
    let body = read_body(body).await?;
    let b: MarketingBody = json_body(&headers, &body)?;
    let decision = Decision {
        contact: b.contact,
        channel: b.channel,
        kind: b.kind,
        via: b.via,
        staff: b.staff,
        time: b.time,
    };
    let now = OffsetDateTime::now_utc();
    let r = super::record(&*app.store, &app.settings.key, decision, now).await?;
    Ok(recorded(r))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MayMarketBody {
    contact: String,
    channel: MarketingChannel,
}

fn answer_json(channel: MarketingChannel, a: &MayMarket) -> serde_json::Value {
    json!({
        "channel": channel,
        "allowed": a.allowed(),
        "status": a.status().map_or("no_decision", |s| s.as_str()),
        "since": a.since().map(|t| t.unix_timestamp()),
    })
}

async fn post_may_market<S: Store>(
    State(app): State<Arc<Register<S>>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    admin(&app, &headers)?;
    let body = read_body(body).await?;
    let b: MayMarketBody = json_body(&headers, &body)?;
    let contact = Contact::parse(&b.contact)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    let now = OffsetDateTime::now_utc();
    let a = super::may_market(&*app.store, &app.settings.key, &contact, b.channel, now).await?;
    Ok(Json(answer_json(b.channel, &a)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckQuery {
    channel: MarketingChannel,
    #[serde(default)]
    column: Option<String>,
}

/// The flagged rows as CSV: `line,address,reason`, each address as
/// [`list::spreadsheet_cell`] writes it (never a formula, nor a terminal's escape).
///
/// # Errors
/// The CSV writer's, which writes to memory and does not fail in practice.
pub fn flagged_csv(flagged: &[Flagged]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["line", "address", "reason"])?;
    for f in flagged {
        let address = list::spreadsheet_cell(&f.address);
        w.write_record([&f.line.to_string(), &*address, &f.reason.to_string()])?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

async fn post_check<S: Store>(
    State(app): State<Arc<Register<S>>>,
    headers: HeaderMap,
    Query(q): Query<CheckQuery>,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    // The token first: nobody else gets up to list::MAX_LEN bytes read. Nor does a page of
    // another site, whose form staff's browser would send with their login: a list to read
    // and check, at the server's cost, for an answer that page cannot see.
    admin(&app, &headers)?;
    if crate::api::from_another_site(&headers) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "a page on another site may not post a list to check: post it from the dashboard's \
             own pages or a program",
        ));
    }
    let body = axum::body::to_bytes(body, list::MAX_LEN)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("list larger than {} bytes", list::MAX_LEN),
            )
        })?;
    let rows = list::read(&body[..], q.column.as_deref())
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    let now = OffsetDateTime::now_utc();
    let flagged = list::check(&*app.store, &app.settings.key, q.channel, rows, now).await?;
    let csv = flagged_csv(&flagged)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignupBody {
    contact: String,
    channels: Vec<MarketingChannel>,
}

/// Why a sign-up recorded nothing.
enum SignupError {
    /// No channel ticked.
    NoChannel,
    /// The contact or a channel's record was refused, or the log failed.
    Record(RecordError),
}

impl From<SignupError> for ApiError {
    fn from(e: SignupError) -> Self {
        match e {
            SignupError::NoChannel => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "channels: tick at least one of email, sms or post",
            ),
            SignupError::Record(e) => e.into(),
        }
    }
}

/// The sign-up's outcomes, as a form post's redirect names them (`?signup=<code>`), so the
/// page can say what happened in its own language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SignupOutcome {
    /// Recorded: `ok`.
    Ok,
    /// No channel was ticked: `channels`.
    NoChannel,
    /// The contact is not an e-mail address or a phone number: `contact`.
    Contact,
    /// A ticked channel cannot reach the contact (SMS to an e-mail address): `channel`.
    ChannelContact,
    /// Too many sign-ups from the client: `busy`.
    Busy,
    /// Anything else (the log failed, a later decision is on record): `error`.
    Error,
}

impl SignupOutcome {
    /// The code in the redirect's query.
    const fn as_str(self) -> &'static str {
        match self {
            SignupOutcome::Ok => "ok",
            SignupOutcome::NoChannel => "channels",
            SignupOutcome::Contact => "contact",
            SignupOutcome::ChannelContact => "channel",
            SignupOutcome::Busy => "busy",
            SignupOutcome::Error => "error",
        }
    }

    fn of(e: &SignupError) -> Self {
        match e {
            SignupError::NoChannel => SignupOutcome::NoChannel,
            SignupError::Record(RecordError::Contact(_)) => SignupOutcome::Contact,
            SignupError::Record(RecordError::Decision(
                consent_core::register::MarketingError::ContactChannel { .. },
            )) => SignupOutcome::ChannelContact,
            SignupError::Record(_) => SignupOutcome::Error,
        }
    }
}

/// A sign-up: every channel ticked is checked as the consent it would record, then a
/// confirmation link for all of them goes to the outbox, addressed to the contact. Nothing is
/// recorded until the contact confirms ([`confirm`]); nothing is sent when one channel fails,
/// nor to a contact past [`MESSAGES_PER_CONTACT`]. The channels waiting, and the link's
/// token if a message went to the outbox.
async fn sign_up<S: Store>(
    app: &Register<S>,
    origin: &str,
    contact: &str,
    mut channels: Vec<MarketingChannel>,
) -> Result<(Vec<MarketingChannel>, Option<String>), SignupError> {
    channels.sort_unstable();
    channels.dedup();
    if channels.is_empty() {
        return Err(SignupError::NoChannel);
    }
    let now = OffsetDateTime::now_utc();
    // Every record is checked before any is appended.
    let records = channels
        .iter()
        .map(|channel| {
            let decision = Decision {
                contact: contact.to_owned(),
                channel: *channel,
                kind: MarketingKind::Consent,
                via: Channel::WebForm,
                staff: None,
                time: None,
            };
            super::prepare(&app.settings.key, decision, now)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(SignupError::Record)?;
    let normalised =
        Contact::parse(contact).map_err(|e| SignupError::Record(RecordError::Contact(e)))?;
    let Some(first) = records.first() else {
        return Err(SignupError::NoChannel);
    };
    // Checked once the sign-up is valid, so a mistyped one does not use the contact's turn;
    // counted in the store, so every server on the database shares the count; counted per
    // mailbox, so that sub-addresses do not each bring a budget of their own.
    let budget = app.settings.key.contact_hash(&mailbox(&normalised));
    let turn = app
        .store
        .outbox_turn(budget, now)
        .await
        .map_err(|e| SignupError::Record(RecordError::Store(e)))?;
    if !turn {
        return Ok((channels, None));
    }
    let after = app
        .store
        .chain_head()
        .await
        .map_err(|e| SignupError::Record(RecordError::Store(e)))?
        .map_or(0, |h| h.seq);
    let pending = Pending::new(first.contact(), &channels, after, now);
    let expires =
        OffsetDateTime::from_unix_timestamp(pending.expires).unwrap_or(now + confirm::VALID_FOR);
    let token = pending.token(&app.settings.key);
    let message = Message {
        id: 0,
        to: normalised.as_str().to_owned(),
        link: format!("{origin}/register/confirm?token={token}"),
        expires,
    };
    app.store
        .outbox_push(message, now)
        .await
        .map_err(|e| SignupError::Record(RecordError::Store(e)))?;
    Ok((pending.channels, Some(token)))
}

/// The contact whose message budget (the outbox's rule 5) a sign-up for `contact` spends: the
/// mailbox an e-mail address is delivered to, so that writing one address another way brings
/// no budget of its own (a budget per written address let one client have the mailer send a
/// mailbox a message per sign-up):
///
/// 1. Without its sub-address: `maija+news@example.fi` spends `maija@example.fi`'s, since
///    most mail providers deliver every `+tag` of an address to the one mailbox.
/// 2. At Gmail (`gmail.com`, `googlemail.com`), without the dots of its local part, which
///    Gmail ignores: `m.aija@googlemail.com` spends `maija@gmail.com`'s.
///
/// A phone number, and an address that would be left with no local part, as it is. The
/// message still goes to the address as written.
fn mailbox(contact: &Contact) -> Contact {
    let Some((local, domain)) = contact.as_str().split_once('@') else {
        return contact.clone();
    };
    let local = local.split_once('+').map_or(local, |(base, _tag)| base);
    let (local, domain) = match domain {
        "gmail.com" | "googlemail.com" => (local.replace('.', ""), "gmail.com"),
        _ => (local.to_owned(), domain),
    };
    Contact::email(&format!("{local}@{domain}")).unwrap_or_else(|_| contact.clone())
}

/// The newsletter form, as JSON (the sign-up script: answers 201 with what was recorded)
/// or as a plain form post (without JavaScript: answers 303 back to the form's page with
/// `?signup=<outcome>`).
async fn post_signup<S: Store>(
    State(app): State<Arc<Register<S>>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let limited = over_budget(&app, client, &headers);
    let form = crate::api::content_type_is(&headers, "application/x-www-form-urlencoded");
    if form {
        let origin = origin_in(&app.settings, &headers)?;
        let body = read_body(body).await?;
        let input = parse_signup_form(&body)?;
        let (outcome, token) = if limited {
            (SignupOutcome::Busy, None)
        } else {
            match sign_up(&app, origin, &input.contact, input.channels).await {
                Ok((_, token)) => (SignupOutcome::Ok, token),
                Err(e) => (SignupOutcome::of(&e), None),
            }
        };
        let mut response = back_to(&input.return_to, outcome);
        demo_mail_cookie(&app, &mut response, token.as_deref());
        return Ok(response);
    }
    if limited {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many sign-ups from this address; try again shortly",
        ));
    }
    let origin = origin_in(&app.settings, &headers)?;
    let json = crate::api::content_type_is(&headers, "application/json");
    if !json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected Content-Type: application/json or application/x-www-form-urlencoded",
        ));
    }
    let body = read_body(body).await?;
    let b: SignupBody = json_body(&headers, &body)?;
    let (pending, token) = sign_up(&app, origin, &b.contact, b.channels).await?;
    let mut response = (
        StatusCode::ACCEPTED,
        Json(json!({
            "pending": pending,
            "confirm": "a confirmation link goes to the contact; nothing is recorded until it is used",
        })),
    )
        .into_response();
    demo_mail_cookie(&app, &mut response, token.as_deref());
    Ok(response)
}

/// Whether the client is over its per-second budget for the register's public routes that
/// write (the sign-up and the confirmation), at the settings' `POST /consent` rate.
fn over_budget<S>(app: &Register<S>, client: SocketAddr, headers: &HeaderMap) -> bool {
    app.limiter.as_ref().is_some_and(|l| {
        !l.allows(crate::client::address(
            client,
            headers,
            &app.settings.trusted_proxies,
        ))
    })
}

/// In demo mode only, names the sign-up's message for the demo's mailbox page
/// ([`super::demo_mail`]).
fn demo_mail_cookie<S>(app: &Register<S>, response: &mut Response, token: Option<&str>) {
    if app.settings.demo.is_none() {
        return;
    }
    if let Some(cookie) = token.and_then(super::demo_mail::set_cookie) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
}

/// The demo's mailbox (demo mode only): the confirmation message of this browser's latest
/// sign-up, as the mailer would send it ([`super::demo_mail`]).
async fn get_demo_mail<S: Store>(
    State(app): State<Arc<Register<S>>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let message = match super::demo_mail::token(&headers) {
        Some(token) => {
            let waiting = app
                .store
                .outbox_take(OffsetDateTime::now_utc(), true)
                .await?;
            super::demo_mail::find(&waiting, &token).cloned()
        }
        None => None,
    };
    Ok(confirm_html(
        StatusCode::OK,
        super::demo_mail::page(message.as_ref()),
    ))
}

#[derive(Deserialize)]
struct ConfirmQuery {
    token: Option<String>,
    lang: Option<String>,
}

/// The page's language: `lang` if the site offers it, else the browser's, else the site's.
fn page_lang(settings: &Settings, asked: Option<&str>, headers: &HeaderMap) -> consent_core::Lang {
    let config = &settings.config;
    asked
        .and_then(|l| l.parse::<consent_core::Lang>().ok())
        .filter(|l| config.languages().contains(l))
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| {
                    let tags = v
                        .split(',')
                        .map(|t| t.split(';').next().unwrap_or("").trim());
                    consent_core::Lang::negotiate(tags, config.languages())
                })
        })
        .unwrap_or(config.default_language())
}

fn confirm_html(status: StatusCode, html: String) -> Response {
    let headers = [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
        // The token is in this page's URL: never pass it on, nor list the page (with its
        // button) where a robot that came by a leaked link would show it.
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::HeaderName::from_static("x-robots-tag"),
            "noindex, nofollow",
        ),
    ];
    (status, headers, html).into_response()
}

/// The page a confirmation link opens: a button that posts the token. Nothing is recorded by
/// opening the link (mail scanners open links).
async fn get_confirm<S: Store>(
    State(app): State<Arc<Register<S>>>,
    Query(q): Query<ConfirmQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = page_lang(&app.settings, q.lang.as_deref(), &headers);
    match q
        .token
        .as_deref()
        .map(|t| Pending::parse(t, &app.settings.key))
    {
        Some(Ok(_)) => confirm_html(
            StatusCode::OK,
            confirm_page::ask(lang, q.token.as_deref().unwrap_or_default()),
        ),
        _ => confirm_html(
            StatusCode::BAD_REQUEST,
            confirm_page::result(lang, Outcome::Invalid),
        ),
    }
}

/// Records a confirmed sign-up (the form of [`get_confirm`]'s page: `token`, `lang`). Each
/// post with a valid link reaches the log's writer, so a client is held to the sign-up's
/// budget: past it, 429 and the page saying to try again later.
async fn post_confirm<S: Store>(
    State(app): State<Arc<Register<S>>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if over_budget(&app, client, &headers) {
        let lang = page_lang(&app.settings, None, &headers);
        return confirm_html(
            StatusCode::TOO_MANY_REQUESTS,
            confirm_page::result(lang, Outcome::Failed),
        );
    }
    let Ok(body) = read_body(body).await else {
        let lang = page_lang(&app.settings, None, &headers);
        return confirm_html(
            StatusCode::PAYLOAD_TOO_LARGE,
            confirm_page::result(lang, Outcome::Invalid),
        );
    };
    let mut token = None;
    let mut lang = None;
    for (name, value) in form_urlencoded::parse(&body) {
        match &*name {
            "token" => token = Some(value.into_owned()),
            "lang" => lang = Some(value.into_owned()),
            _ => {}
        }
    }
    let lang = page_lang(&app.settings, lang.as_deref(), &headers);
    let now = OffsetDateTime::now_utc();
    let result = match token {
        // In a task of its own, which runs to the end whatever becomes of the request (a
        // double click, a closed tab, the request timeout while the log is busy). That once
        // kept such a request from cutting a confirmation between two channels' appends; the
        // channels are one append now, handed to the writer when first polled, all or none,
        // so the task is belt and braces.
        Some(t) => {
            let (store, key) = (Arc::clone(&app.store), app.settings.key.clone());
            let task = tokio::spawn(async move { confirm::confirm(&*store, &key, &t, now).await });
            match task.await {
                Ok(result) => result,
                Err(e) => {
                    tracing::error!(error = %e, "confirming a sign-up failed");
                    return confirm_html(
                        StatusCode::SERVICE_UNAVAILABLE,
                        confirm_page::result(lang, Outcome::Failed),
                    );
                }
            }
        }
        None => Err(ConfirmError::Invalid),
    };
    let (status, outcome) = match result {
        Ok(_) => (StatusCode::OK, Outcome::Done),
        Err(ConfirmError::Invalid) => (StatusCode::BAD_REQUEST, Outcome::Invalid),
        Err(ConfirmError::Expired) => (StatusCode::GONE, Outcome::Expired),
        Err(ConfirmError::Superseded) => (StatusCode::CONFLICT, Outcome::Superseded),
        Err(e) => {
            tracing::error!(error = %e, "confirming a sign-up failed");
            (StatusCode::SERVICE_UNAVAILABLE, Outcome::Failed)
        }
    };
    confirm_html(status, confirm_page::result(lang, outcome))
}

#[derive(Deserialize)]
struct OutboxQuery {
    #[serde(default)]
    peek: bool,
    format: Option<String>,
}

/// The confirmation messages for the site's mailer (admin): JSON, taken out of the outbox
/// unless `peek`; `format=html` shows them as a page (always a peek), as the demo does.
async fn get_outbox<S: Store>(
    State(app): State<Arc<Register<S>>>,
    method: Method,
    Query(q): Query<OutboxQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    admin(&app, &headers)?;
    let html = q.format.as_deref() == Some("html");
    // A HEAD's answer has no body, so it never takes what it could not show.
    let peek = q.peek || method == Method::HEAD;
    // Taking deletes the messages: a browser's login (which a page on another site can make it
    // send, by a link) may only look.
    if !peek && !html && !admin_bearer_in(&app.settings, &headers) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "taking the outbox's messages needs Authorization: Bearer <admin token> (the \
             mailer's); a browser's login may only look (?peek=true or format=html)",
        ));
    }
    let now = OffsetDateTime::now_utc();
    if html {
        let messages = app.store.outbox_take(now, true).await?;
        let page = maud::html! {
            (maud::DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { "Confirmation messages" }
                    style { (maud::PreEscaped(confirm_page::STYLE)) }
                }
                body { main {
                    h1 { "Confirmation messages waiting for the mailer" }
                    @if messages.is_empty() { p { "None." } }
                    ul { @for m in &messages { li { (m.to) ": " a href=(m.link) { (m.link) } } } }
                } }
            }
        };
        return Ok(confirm_html(StatusCode::OK, page.into_string()));
    }
    let messages = app.store.outbox_take(now, peek).await?;
    Ok(Json(json!({ "messages": messages })).into_response())
}

/// Removes a message the mailer sent after taking it with `?peek=true` (admin): 204, or 404
/// when no message has that id (already removed, taken or expired).
async fn delete_outbox<S: Store>(
    State(app): State<Arc<Register<S>>>,
    axum::extract::Path(id): axum::extract::Path<u64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    admin(&app, &headers)?;
    if app.store.outbox_remove(id).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("outbox: no message {id} (removed, taken or expired)"),
        ))
    }
}

/// A sign-up form post: `contact`, one `channels` field per box ticked, `return_to`.
struct SignupForm {
    contact: String,
    channels: Vec<MarketingChannel>,
    return_to: String,
}

/// Reads a form post. A malformed form is the site's mistake, not the visitor's: it is
/// answered with an error naming the field rather than a redirect.
fn parse_signup_form(body: &[u8]) -> Result<SignupForm, ApiError> {
    let invalid = |m: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m);
    let mut contact = None;
    let mut return_to = None;
    let mut channels = Vec::new();
    for (name, value) in form_urlencoded::parse(body) {
        let slot = match &*name {
            "contact" => &mut contact,
            "return_to" => &mut return_to,
            "channels" => {
                let channel = value
                    .parse::<MarketingChannel>()
                    .map_err(|e| invalid(format!("channels: {value:?}: {e}")))?;
                channels.push(channel);
                continue;
            }
            other => return Err(invalid(format!("{other}: unknown field"))),
        };
        if slot.replace(value.into_owned()).is_some() {
            return Err(invalid(format!("{name}: given more than once")));
        }
    }
    let return_to = return_to.ok_or_else(|| {
        invalid("return_to: missing; the form names the page to go back to".into())
    })?;
    if crate::nojs::sanitize_return_to(&return_to).is_none() {
        return Err(invalid(format!(
            "return_to: {return_to:?} is not a path on this site"
        )));
    }
    Ok(SignupForm {
        contact: contact.unwrap_or_default(),
        channels,
        return_to: crate::nojs::uri_reference(&return_to),
    })
}

/// 303 to `return_to` (already checked to be a path on this site) with `signup=<outcome>`
/// added to its query, before any fragment.
fn back_to(return_to: &str, outcome: SignupOutcome) -> Response {
    let (path, fragment) = return_to
        .split_once('#')
        .map_or((return_to, None), |(p, f)| (p, Some(f)));
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut location = format!("{path}{sep}signup={}", outcome.as_str());
    if let Some(f) = fragment {
        location.push('#');
        location.push_str(f);
    }
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

#[derive(Deserialize)]
struct RequestsQuery {
    #[serde(default)]
    all: bool,
}

/// The data-subject requests, open ones only unless `?all=true`, soonest deadline first.
async fn get_requests<S: Store>(
    State(app): State<Arc<Register<S>>>,
    headers: HeaderMap,
    Query(q): Query<RequestsQuery>,
) -> Result<Response, ApiError> {
    admin(&app, &headers)?;
    let today = OffsetDateTime::now_utc().date();
    let mut list = app.store.requests(!q.all).await?;
    list.sort_by_key(|r| (r.closed.is_some(), r.deadline(), r.id));
    let overdue = list.iter().filter(|r| r.is_overdue(today)).count();
    let requests: Vec<serde_json::Value> = list.iter().map(|r| r.to_json(today)).collect();
    Ok(
        Json(json!({ "today": today.to_string(), "overdue": overdue, "requests": requests }))
            .into_response(),
    )
}

/// Who a request or an access export is about: a contact or a consent id, exactly one.
fn subject_of(
    key: &crate::key::ServerKey,
    contact: Option<&str>,
    consent_id: Option<&str>,
) -> Result<(super::requests::Subject, Option<Contact>), ApiError> {
    use super::requests::Subject;
    let bad = |m: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m);
    match (contact, consent_id) {
        (Some(c), None) => {
            let c: Contact = c.parse().map_err(|e: ContactError| bad(e.to_string()))?;
            Ok((Subject::Contact(key.contact_hash(&c)), Some(c)))
        }
        (None, Some(id)) => Ok((
            Subject::Consent(id.parse().map_err(|e| bad(format!("consent_id: {e}")))?),
            None,
        )),
        _ => Err(bad("give exactly one of contact and consent_id".into())),
    }
}

fn parse_day(field: &str, s: &str) -> Result<time::Date, ApiError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &format).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{field}: {s:?} is not a YYYY-MM-DD date: {e}"),
        )
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRequest {
    kind: consent_core::requests::RequestKind,
    contact: Option<String>,
    consent_id: Option<String>,
    staff: String,
    received: Option<String>,
    identity: Option<consent_core::requests::Identity>,
}

/// Records a new data-subject request; answers its number and deadline.
async fn post_request<S: Store>(
    State(app): State<Arc<Register<S>>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    admin(&app, &headers)?;
    let body = read_body(body).await?;
    let b: NewRequest = json_body(&headers, &body)?;
    let today = OffsetDateTime::now_utc().date();
    let (subject, _) = subject_of(
        &app.settings.key,
        b.contact.as_deref(),
        b.consent_id.as_deref(),
    )?;
    let received = match b.received.as_deref() {
        Some(s) => parse_day("received", s)?,
        None => today,
    };
    if received > today {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("received: {received} is in the future"),
        ));
    }
    let staff = b
        .staff
        .parse()
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("staff: {e}")))?;
    let mut request = super::requests::Request {
        id: 0,
        kind: b.kind,
        subject,
        received,
        extended: false,
        identity: b
            .identity
            .unwrap_or(consent_core::requests::Identity::Pending),
        staff,
        closed: None,
    };
    request.id = app.store.insert_request(request.clone()).await?;
    Ok((StatusCode::CREATED, Json(request.to_json(today))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestChange {
    identity: Option<consent_core::requests::Identity>,
    #[serde(default)]
    extend: bool,
    close: Option<consent_core::requests::Outcome>,
    closed: Option<String>,
}

/// Updates a request by the rules of `consent_core::requests`.
async fn post_request_update<S: Store>(
    State(app): State<Arc<Register<S>>>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<u64>,
    body: Body,
) -> Result<Response, ApiError> {
    use super::requests::{RequestError, Update, update};
    admin(&app, &headers)?;
    let body = read_body(body).await?;
    let b: RequestChange = json_body(&headers, &body)?;
    let today = OffsetDateTime::now_utc().date();
    let closed = match b.closed.as_deref() {
        Some(s) => parse_day("closed", s)?,
        None => today,
    };
    let change = Update {
        identity: b.identity,
        extend: b.extend,
        close: b.close.map(|o| (o, closed)),
    };
    match update(&*app.store, id, change, today).await {
        Ok(r) => Ok(Json(r.to_json(today)).into_response()),
        Err(RequestError::Store(e)) => Err(e.into()),
        Err(e @ RequestError::Unknown(_)) => {
            Err(ApiError::new(StatusCode::NOT_FOUND, e.to_string()))
        }
        Err(e @ RequestError::ClosedInFuture(_)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            e.to_string(),
        )),
        Err(e) => Err(ApiError::new(StatusCode::CONFLICT, e.to_string())),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccessBody {
    contact: Option<String>,
    consent_id: Option<String>,
    format: Option<String>,
    lang: Option<String>,
}

/// Everything held for a contact or a consent id (GDPR art. 15), as JSON or a readable page.
async fn post_access<S: Store>(
    State(app): State<Arc<Register<S>>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    admin(&app, &headers)?;
    let body = read_body(body).await?;
    let b: AccessBody = json_body(&headers, &body)?;
    let now = OffsetDateTime::now_utc();
    let (subject, contact) = subject_of(
        &app.settings.key,
        b.contact.as_deref(),
        b.consent_id.as_deref(),
    )?;
    let access = match (&contact, subject) {
        (Some(c), _) => super::access::for_contact(&*app.store, &app.settings.key, c, now).await?,
        (None, super::requests::Subject::Consent(id)) => {
            super::access::for_consent_id(&*app.store, id, now).await?
        }
        (None, super::requests::Subject::Contact(_)) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "contact: missing",
            ));
        }
    };
    if access.is_empty() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "nothing is held for this contact or consent id",
        ));
    }
    match b.format.as_deref() {
        None | Some("json") => Ok(Json(access.to_json()).into_response()),
        Some("html") => {
            let lang = match b.lang.as_deref() {
                Some(l) => l.parse().map_err(|e| {
                    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("lang: {e}"))
                })?,
                None => app.settings.config.default_language(),
            };
            Ok((
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                access.to_html(lang),
            )
                .into_response())
        }
        Some(other) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("format: {other:?}: expected json or html"),
        )),
    }
}
