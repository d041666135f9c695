//! Consent ids are the server's to give. An id appears in the visitor's cookie, in the log,
//! and (for staff) in URLs, so knowing one must not be enough to act as its visitor: a decision
//! continues the id it carries only when the request shows a token this server signed for that
//! id (the consent cookie, or the banner's `previous` token when the endpoint is on another
//! origin and the cookie does not travel). Any other decision gets a fresh random id
//! ([`consent_core::decision`] applies the rule), which the banner adopts from the signed answer
//! ([`ConsentState::same_decision`](consent_core::ConsentState::same_decision) ignores ids).
//! Reading and erasing a visitor's records needs the signed cookie too, so an id copied from a
//! log or a URL opens nothing.

use consent_core::ConsentId;
use consent_core::decision::Signer;

use crate::key::ServerKey;

/// A fresh random consent id.
///
/// # Errors
/// When the system's random number generator fails.
pub fn fresh() -> Result<ConsentId, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(ConsentId::from_bytes(bytes))
}

/// Whether one of `shown` (token texts the request carries) is signed by `key` for `id`: the
/// core's rule ([`Signer::proves`]), which decisions use too.
#[must_use]
pub fn proves(shown: &[&str], id: ConsentId, key: &ServerKey) -> bool {
    Signer {
        key: key.token_key(),
        proofs: shown,
    }
    .proves(id)
}
