//! The verdict for a request's headers: how every part of a server reads consent.

use std::borrow::Cow;

use consent_core::policy::Signals;
use consent_core::{Gate, Verdict};
use http::{HeaderMap, HeaderName, header};
use time::OffsetDateTime;

/// The verdict for a request's headers: the `Cookie` header(s), `Sec-GPC` and `DNT`.
///
/// Of several consent cookies (a parent domain's or another path's beside the host's own),
/// the valid decision made last counts, else the first (policy rule 15, [`Gate::check`]); so
/// too across the several `Cookie` headers HTTP/2 may split them into, read as the one header
/// they stand for (RFC 9113, 8.2.3). Bytes of a header that are not
/// UTF-8 (another cookie's, as browsers send what was set) are read as U+FFFD: the consent
/// cookie is ASCII, so one that holds them is damaged and grants nothing.
///
/// # Example
/// ```
/// use consent_core::{Config, Gate};
/// use http::HeaderMap;
///
/// let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
/// let gate = Gate::new(&config, None);
/// let analytics = gate.category("analytics").expect("in the example config");
///
/// let mut headers = HeaderMap::new();
/// headers.insert("cookie", "theme=dark".parse()?);
/// let verdict = consent_gate::verdict(&gate, &headers, time::OffsetDateTime::now_utc());
/// assert!(!verdict.allows(analytics), "no decision: nothing but the necessary");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub fn verdict(gate: &Gate, headers: &HeaderMap, now: OffsetDateTime) -> Verdict {
    verdict_with(gate, headers, signals(headers), now)
}

/// [`verdict`] with the request's signals already read.
pub(crate) fn verdict_with(
    gate: &Gate,
    headers: &HeaderMap,
    signals: Signals,
    now: OffsetDateTime,
) -> Verdict {
    let mut values = cookie_headers(headers);
    let Some(first) = values.next() else {
        return gate.check_with(None, signals, now);
    };
    match values.next() {
        None => gate.check_with(Some(&first), signals, now),
        // HTTP/2's split headers joined as the one header they stand for, so one rule picks
        // among all their consent cookies.
        Some(second) => {
            let mut joined = first.into_owned();
            for value in std::iter::once(second).chain(values) {
                joined.push_str("; ");
                joined.push_str(&value);
            }
            gate.check_with(Some(&joined), signals, now)
        }
    }
}

/// The request's `Cookie` headers as text, as every part of the server reads them.
///
/// Not [`HeaderValue::to_str`](http::HeaderValue::to_str), which refuses any byte past ASCII:
/// a header with another cookie's UTF-8 text in it (a name, a city) would lose the consent
/// cookie beside it, and a decided visitor would be asked again on every page. Bytes that are
/// not UTF-8 become U+FFFD, which no consent cookie holds. Borrowed, not copied, when the
/// header is UTF-8.
///
/// ```
/// use http::{HeaderMap, HeaderValue, header};
///
/// let mut headers = HeaderMap::new();
/// let value = HeaderValue::from_bytes("city=Jyväskylä; consent=1.AAAA".as_bytes()).unwrap();
/// headers.insert(header::COOKIE, value);
/// let texts: Vec<_> = consent_gate::cookie_headers(&headers).collect();
/// assert_eq!(texts, ["city=Jyväskylä; consent=1.AAAA"]);
/// ```
pub fn cookie_headers(headers: &HeaderMap) -> impl Iterator<Item = Cow<'_, str>> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .map(|value| text(value.as_bytes()))
}

/// A header's bytes as text, U+FFFD for what is not UTF-8: checked first as UTF-8, which
/// reads ASCII a word at a time (`from_utf8_lossy` reads it a byte at a time).
fn text(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// The privacy signals of a request's `Sec-GPC` and `DNT` headers
/// ([`Signals::from_headers`]): how every part of the server reads them.
#[must_use]
pub fn signals(headers: &HeaderMap) -> Signals {
    // Names parsed once, not on every request.
    const SEC_GPC: HeaderName = HeaderName::from_static("sec-gpc");
    let value = |name: &HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    Signals::from_headers(value(&SEC_GPC), value(&header::DNT))
}
