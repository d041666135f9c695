//! [`ConsentLayer`]: the request's verdict, once, in its extensions.

use std::sync::Arc;
use std::task::{Context, Poll};

use consent_core::Gate;
use http::Request;
use time::OffsetDateTime;

/// A tower layer that computes the [`Verdict`](consent_core::Verdict) once per request and
/// stores it in the request's extensions, for handlers and inner middleware (the
/// [`Consent`](crate::Consent) extractor reads it there).
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

impl<S> tower_layer::Layer<S> for ConsentLayer {
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

impl<S, B> tower_service::Service<Request<B>> for ConsentService<S>
where
    S: tower_service::Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let v = crate::verdict(&self.gate, req.headers(), OffsetDateTime::now_utc());
        req.extensions_mut().insert(v);
        self.inner.call(req)
    }
}
