//! `Cache-Control` directives as a cache reads them: the one reader of the field in the
//! gate (the page's cache headers, and whether its `ETag` may key the [`PageCache`]).
//!
//! [`PageCache`]: crate::PageCache
//!
//! Rules (RFC 9111 section 5.2, with RFC 9110 section 5.6's list, token and quoted-string):
//! 1. A field is a comma-separated list of directives; empty members (`a,,b`) and the
//!    whitespace around a comma are nothing. A comma inside a quoted string does not split:
//!    `no-cache="Set-Cookie, Foo"` is one directive.
//! 2. A directive is a token, then optionally `=` and a token or a quoted string, with no
//!    whitespace around the `=`. Its name is compared without regard to case.
//! 3. Anything else up to the next comma outside a quoted string (a name that is not a token,
//!    text after the argument, a quoted string that does not end) is one [`Malformed`]
//!    member: a reader that cannot tell what a cache makes of it treats it as the worst case.
//!
//! Caveats:
//! - A field's bytes are read as they are: `obs-text` (bytes from 0x80) inside a quoted
//!   string is allowed, as in RFC 9110, and makes nothing else of the field unreadable.

use http::{HeaderMap, header};

/// One well-formed directive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Directive<'a> {
    /// The directive as written, without the whitespace around it.
    pub(crate) text: &'a [u8],
    /// Its name (a token).
    name: &'a [u8],
    /// Whether it has an argument (`=` and a token or a quoted string).
    argument: bool,
}

impl Directive<'_> {
    /// Whether it is the directive `name` (lowercase), with an argument or not.
    pub(crate) fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name.as_bytes())
    }

    /// Whether it is the directive `name` (lowercase) without an argument.
    pub(crate) fn is_bare(&self, name: &str) -> bool {
        !self.argument && self.is(name)
    }
}

/// A member of the list that is not a directive (rule 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Malformed;

/// The members of every `Cache-Control` field of `headers`, in order.
pub(crate) fn directives(
    headers: &HeaderMap,
) -> impl Iterator<Item = Result<Directive<'_>, Malformed>> {
    headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .flat_map(|v| Members { rest: v.as_bytes() })
}

/// The members of one field value.
struct Members<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Members<'a> {
    type Item = Result<Directive<'a>, Malformed>;

    fn next(&mut self) -> Option<Self::Item> {
        // Rule 1: empty members and the whitespace around commas.
        let start = self
            .rest
            .iter()
            .position(|&b| !matches!(b, b',' | b' ' | b'\t'))?;
        let member = &self.rest[start..];
        let (end, parsed) = match directive(member) {
            Some((len, d)) => (len, Ok(d)),
            None => (malformed_len(member), Err(Malformed)),
        };
        self.rest = &member[end..];
        Some(parsed)
    }
}

/// The directive at the start of `s` and its length up to the comma (or end) after it, if
/// it is well formed (rule 2).
fn directive(s: &[u8]) -> Option<(usize, Directive<'_>)> {
    let name_len = token_len(s);
    if name_len == 0 {
        return None;
    }
    let mut at = name_len;
    let argument = s.get(at) == Some(&b'=');
    if argument {
        at += 1;
        let len = match s.get(at) {
            Some(b'"') => quoted_len(&s[at..])?,
            _ => token_len(&s[at..]),
        };
        if len == 0 {
            return None;
        }
        at += len;
    }
    let text = &s[..at];
    let after = s[at..]
        .iter()
        .position(|&b| !matches!(b, b' ' | b'\t'))
        .map_or(s.len(), |n| at + n);
    if after < s.len() && s[after] != b',' {
        return None;
    }
    let name = &s[..name_len];
    Some((
        after,
        Directive {
            text,
            name,
            argument,
        },
    ))
}

/// The length of the token at the start of `s` (RFC 9110 `tchar`s).
fn token_len(s: &[u8]) -> usize {
    s.iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)))
        .unwrap_or(s.len())
}

/// The length of the quoted string at the start of `s` (which starts with `"`), quotes
/// included, or `None` when it does not end or holds a byte a quoted string may not.
fn quoted_len(s: &[u8]) -> Option<usize> {
    let mut i = 1;
    while let Some(&b) = s.get(i) {
        match b {
            b'"' => return Some(i + 1),
            // A quoted pair: any byte a quoted string may hold, escaped.
            b'\\' => {
                let escaped = *s.get(i + 1)?;
                if !quotable(escaped) {
                    return None;
                }
                i += 2;
            }
            _ if quotable(b) => i += 1,
            _ => return None,
        }
    }
    None
}

/// Whether a quoted string may hold `b` (RFC 9110 `qdtext`, and `"` and `\` once escaped).
fn quotable(b: u8) -> bool {
    matches!(b, b'\t' | b' ' | 0x21..=0x7e | 0x80..=0xff)
}

/// The length of a malformed member at the start of `s`: up to the next comma outside a
/// quoted string, or the end (rule 3).
fn malformed_len(s: &[u8]) -> usize {
    let mut quoted = false;
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        match b {
            b'"' => quoted = !quoted,
            b'\\' if quoted => i += 1,
            b',' if !quoted => return i,
            _ => {}
        }
        i += 1;
    }
    s.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    /// The members of `fields`, each as its text or `None` when malformed.
    fn members(fields: &[&[u8]]) -> Vec<Option<String>> {
        let mut headers = HeaderMap::new();
        for f in fields {
            let v = HeaderValue::from_bytes(f).unwrap_or_else(|e| unreachable!("{f:?}: {e}"));
            headers.append(header::CACHE_CONTROL, v);
        }
        directives(&headers)
            .map(|d| d.ok().map(|d| String::from_utf8_lossy(d.text).into_owned()))
            .collect()
    }

    fn ok(texts: &[&str]) -> Vec<Option<String>> {
        texts.iter().map(|t| Some((*t).to_owned())).collect()
    }

    #[test]
    fn a_comma_in_a_quoted_string_does_not_split() {
        assert_eq!(
            members(&[b"public, no-cache=\"Set-Cookie, Foo\", max-age=60"]),
            ok(&["public", "no-cache=\"Set-Cookie, Foo\"", "max-age=60"])
        );
        assert_eq!(
            members(&[br#"private="a, b", no-cache="x\", no-store""#]),
            ok(&[r#"private="a, b""#, r#"no-cache="x\", no-store""#])
        );
    }

    #[test]
    fn empty_members_and_whitespace_are_nothing() {
        assert_eq!(
            members(&[b" ,, no-store ,\t", b"", b"max-age=0"]),
            ok(&["no-store", "max-age=0"])
        );
        assert!(members(&[b""]).is_empty());
    }

    #[test]
    fn what_is_not_a_directive_is_malformed_up_to_the_next_comma() {
        for (field, want) in [
            (&b"max-age = 60, private"[..], vec![None, Some("private")]),
            (b"max-age=60 x, private", vec![None, Some("private")]),
            (b"no-cache=\"a, private", vec![None]),
            (b"no-cache=\"a\"b, private", vec![None, Some("private")]),
            (
                b"=x, \"private, a\", no-store",
                vec![None, None, Some("no-store")],
            ),
            (b"max-age=, private", vec![None, Some("private")]),
        ] {
            let want: Vec<_> = want.into_iter().map(|w| w.map(str::to_owned)).collect();
            assert_eq!(
                members(&[field]),
                want,
                "{}",
                String::from_utf8_lossy(field)
            );
        }
    }

    #[test]
    fn a_field_with_other_bytes_in_a_quoted_string_is_read() {
        assert_eq!(
            members(&[b"no-store, x=\"\xc3\xa9\""]),
            ok(&["no-store", "x=\"\u{e9}\""])
        );
    }

    proptest::proptest! {
        /// Any field parses without panicking, and its directives joined again (as the page
        /// layer writes them after `private`) are read as the same directives: a quoted
        /// comma never becomes a directive of its own when written out.
        #[test]
        fn directives_written_out_are_read_back_the_same(
            field in proptest::collection::vec(
                proptest::sample::select(b" \t,=\"\\az-\xe9".to_vec()),
                0..40,
            ),
        ) {
            let Ok(value) = HeaderValue::from_bytes(&field) else { return Ok(()) };
            let mut headers = HeaderMap::new();
            headers.insert(header::CACHE_CONTROL, value);
            let texts: Vec<&[u8]> = directives(&headers).filter_map(|d| d.ok()).map(|d| d.text).collect();
            let joined = texts.join(&b", "[..]);
            let mut again = HeaderMap::new();
            let value = HeaderValue::from_bytes(&joined);
            proptest::prop_assert!(value.is_ok() || joined.is_empty());
            if let Ok(value) = value {
                again.insert(header::CACHE_CONTROL, value);
            }
            let read: Vec<_> = directives(&again).map(|d| d.map(|d| d.text)).collect();
            proptest::prop_assert_eq!(read, texts.into_iter().map(Ok).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_name_is_compared_without_case_and_an_argument_is_seen() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("No-Store, PRIVATE=\"x\""),
        );
        let ds: Vec<_> = directives(&headers).filter_map(Result::ok).collect();
        assert!(ds[0].is("no-store") && ds[0].is_bare("no-store"));
        assert!(ds[1].is("private") && !ds[1].is_bare("private"));
    }
}
