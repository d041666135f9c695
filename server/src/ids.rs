//! Consent ids are the server's to give. An id appears in the visitor's cookie, in the log,
//! and (for staff) in URLs, so knowing one must not be enough to act as its visitor: a decision
//! continues the id it carries only when the request shows a token this server signed for that
//! id (the consent cookie, or the banner's `previous` token when the endpoint is on another
//! origin and the cookie does not travel). Any other decision gets a fresh random id, which the
//! banner adopts from the signed answer
//! ([`ConsentState::same_decision`](consent_core::ConsentState::same_decision) ignores ids).
//! Reading and erasing a visitor's records needs the signed cookie too, so an id copied from a
//! log or a URL opens nothing.

use consent_core::{ConsentId, ConsentState, Token};

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

/// Whether one of `shown` (token texts the request carries) is signed by `key` for `id`.
#[must_use]
pub fn proves(shown: &[&str], id: ConsentId, key: &ServerKey) -> bool {
    shown.iter().any(|s| {
        Token::parse_verified(s, Some(key.token_key())).is_ok_and(|t| t.state().id() == id)
    })
}

/// `state` under the id the log will keep: its own when `shown` proves it, else `fresh`.
#[must_use]
pub fn issue(
    state: ConsentState,
    shown: &[&str],
    key: &ServerKey,
    fresh: ConsentId,
) -> ConsentState {
    if proves(shown, state.id(), key) {
        state
    } else {
        state.with_id(fresh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_continued_only_with_a_token_signed_for_it() {
        let key = ServerKey::new(&[3; 32]).unwrap();
        let state = consent_core::doc_state();
        let fresh = ConsentId::from_bytes([0xee; 16]);
        let signed = Token::signed(state, key.token_key()).to_string();
        let unsigned = Token::unsigned(state).to_string();
        let other_key = ServerKey::new(&[4; 32]).unwrap();
        let foreign = Token::signed(state, other_key.token_key()).to_string();
        let other_id = Token::signed(state.with_id(fresh), key.token_key()).to_string();
        assert_eq!(issue(state, &[&signed], &key, fresh).id(), state.id());
        for shown in [
            &[][..],
            &[unsigned.as_str()],
            &[foreign.as_str()],
            &[other_id.as_str()],
        ] {
            assert_eq!(issue(state, shown, &key, fresh).id(), fresh, "{shown:?}");
        }
        assert_eq!(
            issue(state, &[&unsigned, &signed], &key, fresh).id(),
            state.id(),
            "any one proof is enough"
        );
    }
}
