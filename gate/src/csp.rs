//! What the response's Content-Security-Policy asks of the scripts and styles the layer
//! writes or brings to life.
//!
//! A script made live from `<script type="text/plain">` gets the policy's nonce, as the
//! banner gives it. The Consent Mode script is inline: it runs under the nonce when the
//! policy has one, under `'unsafe-inline'` when that is what the policy allows, and else the
//! layer adds the script's own hash to the policy. The hash lets that exact text run and
//! nothing else, and the policy stays as strict as the site made it. The first layer's
//! critical CSS (an inline `<style>`) is let in by the same rules under the style directives.

use base64::Engine as _;
use http::{HeaderMap, HeaderValue, header};
use sha2::{Digest as _, Sha256};

/// What an inline element is, for the directives that govern it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `<script>`: `script-src-elem`, else `script-src`, else `default-src`.
    Script,
    /// `<style>`: `style-src-elem`, else `style-src`, else `default-src`.
    Style,
}

impl Kind {
    /// The directives that govern the element, the first present one winning.
    const fn directives(self) -> [&'static str; 3] {
        match self {
            Self::Script => ["script-src-elem", "script-src", "default-src"],
            Self::Style => ["style-src-elem", "style-src", "default-src"],
        }
    }

    /// The directive added when only `default-src` governs the element.
    const fn own(self) -> &'static str {
        match self {
            Self::Script => "script-src",
            Self::Style => "style-src",
        }
    }
}

/// The nonce of the response's policies, if one names a nonce for `kind`.
pub(crate) fn nonce(headers: &HeaderMap, kind: Kind) -> Option<String> {
    policies(headers).find_map(|p| {
        let (_, sources) = directive(p, kind)?;
        sources
            .split_ascii_whitespace()
            .find_map(nonce_of)
            .filter(|n| !n.is_empty() && n.bytes().all(is_base64))
            .map(str::to_owned)
    })
}

/// The nonce of a `'nonce-...'` source: its keyword without case, as CSP's grammar reads it
/// (`'NONCE-abc'` is the nonce `abc`); the nonce itself as written.
fn nonce_of(source: &str) -> Option<&str> {
    let keyword = source.get(..7)?;
    let rest = source.get(7..)?;
    keyword
        .eq_ignore_ascii_case("'nonce-")
        .then(|| rest.strip_suffix('\''))
        .flatten()
}

/// Lets the inline element whose hash source is `hash` (`'sha256-...'`) apply under every
/// policy of the response, enforced or report-only, that would block it; `nonce` is the
/// nonce the element carries, if any.
pub(crate) fn allow_inline(headers: &mut HeaderMap, hash: &str, nonce: Option<&str>, kind: Kind) {
    for name in [
        header::CONTENT_SECURITY_POLICY,
        header::CONTENT_SECURITY_POLICY_REPORT_ONLY,
    ] {
        let values: Vec<HeaderValue> = headers.get_all(&name).iter().cloned().collect();
        if values.is_empty() {
            continue;
        }
        let rewritten: Vec<HeaderValue> = values
            .into_iter()
            .map(|v| match v.to_str() {
                Ok(text) => {
                    let changed = text
                        .split(',')
                        .map(|p| with_inline(p, hash, nonce, kind))
                        .collect::<Vec<_>>()
                        .join(",");
                    HeaderValue::from_str(&changed).unwrap_or(v)
                }
                Err(_) => v,
            })
            .collect();
        headers.remove(&name);
        for v in rewritten {
            headers.append(&name, v);
        }
    }
}

/// Every policy of the enforced header (one header may carry several, comma-separated).
fn policies(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::CONTENT_SECURITY_POLICY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
}

/// The directive that governs `kind`'s elements under `policy` ([`Kind::directives`]); its
/// name and its sources.
fn directive(policy: &str, kind: Kind) -> Option<(&str, &str)> {
    let directives = || {
        policy.split(';').filter_map(|d| {
            let d = d.trim();
            let (name, sources) = d
                .split_once(|c: char| c.is_ascii_whitespace())
                .unwrap_or((d, ""));
            (!name.is_empty()).then_some((name, sources.trim()))
        })
    };
    kind.directives()
        .into_iter()
        .find_map(|wanted| directives().find(|(name, _)| name.eq_ignore_ascii_case(wanted)))
}

/// The hash source of an inline element's text: `'sha256-<base64>'`.
pub(crate) fn hash_source(text: &str) -> String {
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
    )
}

/// `policy` with `hash` allowed where it would block an inline element of `kind`.
pub(crate) fn with_inline(policy: &str, hash: &str, nonce: Option<&str>, kind: Kind) -> String {
    let Some((name, sources)) = directive(policy, kind) else {
        return policy.to_owned(); // not restricted
    };
    let list: Vec<&str> = sources.split_ascii_whitespace().collect();
    let has = |s: &str| list.iter().any(|x| x.eq_ignore_ascii_case(s));
    let nonce_or_hash = list.iter().any(|s| {
        let s = s.to_ascii_lowercase();
        s.starts_with("'nonce-") || s.starts_with("'sha") || s == "'strict-dynamic'"
    });
    let by_nonce = nonce.is_some_and(|n| list.iter().any(|s| nonce_of(s) == Some(n)));
    if by_nonce || (has("'unsafe-inline'") && !nonce_or_hash) {
        return policy.to_owned();
    }
    // 'none' stands alone: with a source beside it, it would mean nothing.
    let kept: Vec<&str> = list
        .iter()
        .copied()
        .filter(|s| !s.eq_ignore_ascii_case("'none'"))
        .collect();
    let mut allowed = kept.join(" ");
    if !allowed.is_empty() {
        allowed.push(' ');
    }
    allowed.push_str(hash);
    if name.eq_ignore_ascii_case("default-src") {
        // A directive of its own, starting from default-src's sources.
        format!(
            "{}; {} {allowed}",
            policy.trim_end().trim_end_matches(';'),
            kind.own()
        )
    } else {
        policy
            .split(';')
            .map(|d| {
                let t = d.trim();
                let dn = t.split_ascii_whitespace().next().unwrap_or("");
                if dn.eq_ignore_ascii_case(name) {
                    format!(" {name} {allowed}")
                } else {
                    d.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(";")
            .trim_start()
            .to_owned()
    }
}

fn is_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "'sha256-abc='";

    fn headers(csp: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(csp).unwrap_or_else(|e| unreachable!("{e}")),
        );
        h
    }

    fn after(csp: &str, nonce: Option<&str>) -> String {
        let mut h = headers(csp);
        allow_inline(&mut h, H, nonce, Kind::Script);
        h.get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    #[test]
    fn the_nonce_is_read_from_the_script_directive() {
        assert_eq!(
            nonce(
                &headers("default-src 'self'; script-src 'nonce-r4nd0m' 'self'"),
                Kind::Script
            )
            .as_deref(),
            Some("r4nd0m")
        );
        assert_eq!(
            nonce(&headers("default-src 'nonce-d3f'"), Kind::Script).as_deref(),
            Some("d3f")
        );
        // A style nonce is not a script nonce; a nonce with a quote in it is no nonce.
        assert_eq!(
            nonce(
                &headers("style-src 'nonce-s'; script-src 'self'"),
                Kind::Script
            ),
            None
        );
        assert_eq!(
            nonce(&headers("script-src 'nonce-a\"b'"), Kind::Script),
            None
        );
        assert_eq!(nonce(&HeaderMap::new(), Kind::Script), None);
        // The keyword without case, as browsers read it; the nonce as written.
        assert_eq!(
            nonce(&headers("script-src 'NONCE-AbC9'"), Kind::Script).as_deref(),
            Some("AbC9")
        );
        assert_eq!(
            after("script-src 'Nonce-n1'", Some("n1")),
            "script-src 'Nonce-n1'",
            "an element carrying the nonce needs no hash"
        );
        assert_eq!(nonce(&headers("script-src 'nonce"), Kind::Script), None);
        assert_eq!(nonce(&headers("script-src 'nonceé'"), Kind::Script), None);
    }

    #[test]
    fn a_strict_policy_gets_the_hash_and_nothing_else() {
        assert_eq!(
            after(
                "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'",
                None
            ),
            format!(
                "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {H}; object-src 'none'"
            )
        );
        // Only default-src: a script-src of its own with the same sources.
        assert_eq!(
            after("default-src 'self'", None),
            format!("default-src 'self'; script-src 'self' {H}")
        );
        // 'none' would mean nothing beside a hash.
        assert_eq!(after("script-src 'none'", None), format!("script-src {H}"));
        // script-src-elem governs elements when present.
        assert_eq!(
            after("script-src 'self'; script-src-elem 'self'", None),
            format!("script-src 'self'; script-src-elem 'self' {H}")
        );
    }

    #[test]
    fn policies_that_already_allow_it_are_untouched() {
        for csp in ["img-src 'self'", "script-src 'self' 'unsafe-inline'"] {
            assert_eq!(after(csp, None), csp);
        }
        assert_eq!(
            after("script-src 'nonce-n1'", Some("n1")),
            "script-src 'nonce-n1'"
        );
        // 'unsafe-inline' beside a nonce is ignored by browsers: the hash is still needed.
        assert_eq!(
            after("script-src 'unsafe-inline' 'nonce-x'", None),
            format!("script-src 'unsafe-inline' 'nonce-x' {H}")
        );
    }

    #[test]
    fn report_only_policies_are_kept_in_step() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_SECURITY_POLICY_REPORT_ONLY,
            HeaderValue::from_static("script-src 'self'"),
        );
        allow_inline(&mut h, H, None, Kind::Script);
        assert_eq!(
            h.get(header::CONTENT_SECURITY_POLICY_REPORT_ONLY)
                .and_then(|v| v.to_str().ok()),
            Some(format!("script-src 'self' {H}").as_str())
        );
        assert!(
            h.get(header::CONTENT_SECURITY_POLICY).is_none(),
            "no policy is made up"
        );
    }
}
