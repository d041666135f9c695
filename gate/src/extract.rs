//! [`Consent`]: the axum extractor.

use axum_core::extract::FromRequestParts;
use consent_core::Verdict;
use http::StatusCode;
use http::request::Parts;

/// An axum extractor for the request's [`Verdict`], put there by
/// [`ConsentLayer`](crate::ConsentLayer).
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
