//! Server-side gating: does this request's visitor consent to a category?
//!
//! Three ways in, all on [`consent_core::Gate`] (signature checked when it holds a key,
//! `Sec-GPC` honoured, nothing allocated):
//! - [`verdict`], a plain function over an `http::HeaderMap`, for any framework (actix-web,
//!   hyper, ...);
//! - [`ConsentLayer`], a tower layer that puts the [`Verdict`] into request extensions;
//! - [`Consent`], an axum extractor.
//!
//! ```
//! use std::sync::Arc;
//! use axum::{Router, routing::post};
//! use consent_core::{Config, Gate};
//! use consent_server::gating::{Consent, ConsentLayer};
//!
//! let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
//! let gate = Arc::new(Gate::new(&config, None));
//! let analytics = gate.category("analytics").expect("in the example config");
//!
//! let app: Router = Router::new()
//!     .route("/collect", post(move |Consent(verdict): Consent| async move {
//!         if verdict.allows(analytics) { "forwarded" } else { "dropped: no consent" }
//!     }))
//!     .layer(ConsentLayer::new(gate));
//! # Ok::<(), consent_core::ConfigError>(())
//! ```

use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, Request, StatusCode, header, request::Parts};
use consent_core::policy::Signals;
use consent_core::{Gate, Verdict};
use time::OffsetDateTime;

/// The verdict for a request's headers: the `Cookie` header(s), `Sec-GPC` and `DNT`.
///
/// HTTP/2 may split cookies over several `Cookie` headers; the first that holds the consent
/// cookie decides.
#[must_use]
pub fn verdict(gate: &Gate, headers: &HeaderMap, now: OffsetDateTime) -> Verdict {
    let signals = signals(headers);
    let mut first = None;
    for value in headers.get_all(header::COOKIE) {
        let Ok(value) = value.to_str() else { continue };
        let v = gate.check_with(Some(value), signals, now);
        if v.status() != consent_core::policy::StoredStatus::None {
            return v;
        }
        first.get_or_insert(v);
    }
    first.unwrap_or_else(|| gate.check_with(None, signals, now))
}

/// The privacy signals of a request's `Sec-GPC` and `DNT` headers
/// ([`Signals::from_headers`]): how every part of the server reads them.
#[must_use]
pub fn signals(headers: &HeaderMap) -> Signals {
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    Signals::from_headers(value("sec-gpc"), value("dnt"))
}

/// A tower layer that computes the [`Verdict`] once per request and stores it in the
/// request's extensions, for handlers and inner middleware.
#[derive(Clone, Debug)]
pub struct ConsentLayer {
    gate: Arc<Gate>,
}

impl ConsentLayer {
    /// A layer checking requests with `gate`.
    #[must_use]
    pub fn new(gate: Arc<Gate>) -> Self {
        Self { gate }
    }
}

impl<S> tower::Layer<S> for ConsentLayer {
    type Service = ConsentService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        ConsentService {
            inner,
            gate: Arc::clone(&self.gate),
        }
    }
}

/// The service [`ConsentLayer`] makes.
#[derive(Clone, Debug)]
pub struct ConsentService<S> {
    inner: S,
    gate: Arc<Gate>,
}

impl<S, B> tower::Service<Request<B>> for ConsentService<S>
where
    S: tower::Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let v = verdict(&self.gate, req.headers(), OffsetDateTime::now_utc());
        req.extensions_mut().insert(v);
        self.inner.call(req)
    }
}

/// An axum extractor for the request's [`Verdict`], put there by [`ConsentLayer`].
#[derive(Clone, Copy, Debug)]
pub struct Consent(pub Verdict);

impl<S: Send + Sync> FromRequestParts<S> for Consent {
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Verdict>()
            .copied()
            .map(Consent)
            // A wiring mistake, not bad input: say so plainly.
            .ok_or((
                StatusCode::INTERNAL_SERVER_ERROR,
                "the Consent extractor needs ConsentLayer on the router",
            ))
    }
}
