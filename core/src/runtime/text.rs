//! Text written without the heap: what the runtime's writers (cookie lines, deletion lines,
//! the banner's answers) write into.
//!
//! A writer takes any [`Sink`]: a `String` on the server (with the `alloc` feature), or a
//! [`Buf`] of fixed capacity in the browser, where the runtime has no allocator.
//!
//! ```
//! use consent_core::text::{Buf, Sink};
//! let mut line = Buf::<16>::new();
//! line.push_str("consent=");
//! line.push_str("1.x");
//! assert_eq!(line.as_str(), "consent=1.x");
//! line.push_str("a text longer than what is left");
//! assert!(line.overflowed());
//! assert_eq!(line.as_str(), "consent=1.x", "nothing of what did not fit");
//! ```

/// Where text is written.
pub trait Sink {
    /// Appends `s`.
    fn push_str(&mut self, s: &str);
}

#[cfg(feature = "alloc")]
impl Sink for alloc::string::String {
    fn push_str(&mut self, s: &str) {
        alloc::string::String::push_str(self, s);
    }
}

/// Text of at most `N` bytes, on the stack or in a static.
///
/// A piece that does not fit is left out whole and marks the buffer
/// [overflowed](Buf::overflowed), so what it holds is always valid UTF-8 and never a cut
/// piece; a caller that must not lose text checks the mark.
#[derive(Clone)]
pub struct Buf<const N: usize> {
    bytes: [u8; N],
    len: usize,
    overflowed: bool,
}

impl<const N: usize> Buf<N> {
    /// An empty buffer.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            bytes: [0; N],
            len: 0,
            overflowed: false,
        }
    }

    /// What was written.
    #[must_use]
    // Always inlined into a call of `written`, which is not generic over the capacity: one
    // copy in the banner's module for its two capacities (8 B gzip, 62 B before compression,
    // measured).
    #[inline(always)]
    pub fn as_str(&self) -> &str {
        written(&self.bytes, self.len)
    }

    /// Whether a piece was left out for want of room.
    #[must_use]
    pub const fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// Empties the buffer (and clears the overflow mark).
    pub fn clear(&mut self) {
        self.len = 0;
        self.overflowed = false;
    }
}

impl<const N: usize> Default for Buf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Sink for Buf<N> {
    fn push_str(&mut self, s: &str) {
        if !push(&mut self.bytes, &mut self.len, s) {
            self.overflowed = true;
        }
    }
}

/// [`Buf::as_str`]: the first `len` of `bytes` as text. Only whole `&str`s are ever copied
/// in, so this never fails.
#[inline(never)]
fn written(bytes: &[u8], len: usize) -> &str {
    utf8(bytes.get(..len).unwrap_or_default()).unwrap_or_default()
}

/// Copies `s` into `bytes` at `len` and moves `len` past it, if it fits; whether it did. Not
/// generic over the capacity, so the banner's module has it once.
fn push(bytes: &mut [u8], len: &mut usize, s: &str) -> bool {
    // Copied byte by byte: `copy_from_slice` checks the lengths with a panic, whose message
    // would link `core::fmt` into the banner's module.
    match bytes
        .get_mut(*len..)
        .and_then(|free| free.get_mut(..s.len()))
    {
        Some(room) => {
            for (to, from) in room.iter_mut().zip(s.bytes()) {
                *to = from;
            }
            *len += s.len();
            true
        }
        None => false,
    }
}

impl<const N: usize> core::fmt::Debug for Buf<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self.as_str(), f)
    }
}

/// `bytes` as text if they are UTF-8, as `core::str::from_utf8(bytes).ok()`; what every
/// `str` of the banner's path is made with, from outside bytes (the compiled policy, the
/// script's arguments) and from its own ASCII (digits, base64).
///
/// Not `core::str::from_utf8`: with its word-at-a-time loop for ASCII and its table of
/// character widths it was 1 kB of the banner's module (730 B gzip, measured), for texts of a
/// few hundred bytes. This one checks a byte at a time against the well-formed sequences of
/// Unicode's table 3-7 (no overlong forms, no surrogates, nothing past U+10FFFF); a test holds
/// it to `core`'s on every sequence of up to three bytes and on every four-byte one that
/// starts like a character.
///
/// ```
/// use consent_core::text::utf8;
/// assert_eq!(utf8("ä€😀".as_bytes()), Some("ä€😀"));
/// assert_eq!(utf8(b"\xc0\x80"), None, "overlong");
/// assert_eq!(utf8(b"\xed\xa0\x80"), None, "a surrogate");
/// ```
#[must_use]
#[allow(unsafe_code)]
// Always inlined around `is_utf8`: the text is the bytes, so only a `bool` comes back from the
// check, not an `Option<&str>` through memory at every call (48 B gzip of the banner's module,
// measured).
#[inline(always)]
pub fn utf8(bytes: &[u8]) -> Option<&str> {
    // SAFETY: `is_utf8` read every byte as part of a well-formed sequence of table 3-7,
    // which is what UTF-8 is.
    is_utf8(bytes).then(|| unsafe { core::str::from_utf8_unchecked(bytes) })
}

/// [`utf8`]'s check.
#[cfg_attr(target_family = "wasm", inline(never))]
fn is_utf8(bytes: &[u8]) -> bool {
    let mut at = 0;
    while let Some(&lead) = bytes.get(at) {
        // A character's bytes: ASCII alone, or a lead `11..0` with as many bytes as it has ones.
        let len = match lead.leading_ones() {
            0 => 1,
            n @ 2..=4 => n as usize,
            _ => return false,
        };
        let mut c = u32::from(lead & (0x7f >> len));
        for k in 1..len {
            let Some(&b) = bytes.get(at + k) else {
                return false;
            };
            if b & 0xc0 != 0x80 {
                return false;
            }
            c = c << 6 | u32::from(b & 0x3f);
        }
        // The shortest form only, and a scalar value (no surrogate, nothing past U+10FFFF).
        let least = [0, 0, 0x80, 0x800, 0x1_0000];
        if c < least.get(len).copied().unwrap_or(0) || char::from_u32(c).is_none() {
            return false;
        }
        at += len;
    }
    true
}

/// `s` split at the first ASCII byte `sep`, as `str::split_once` with a `char` splits it.
///
/// This and [`split_ascii`] and [`trim_end_ascii`] cut text at ASCII bytes, which are always
/// char boundaries, without `core`'s pattern searcher: its slicing can panic, and a panic's
/// message would link `core::fmt` into the banner's module.
///
/// ```
/// use consent_core::text::{split_ascii, split_once_ascii, trim_end_ascii};
/// assert_eq!(split_once_ascii("a=b=c", b'='), Some(("a", "b=c")));
/// assert_eq!(split_ascii("ä,,b", b',').collect::<Vec<_>>(), ["ä", "", "b"]);
/// assert_eq!(trim_end_ascii("example.com..", b'.'), "example.com");
/// ```
#[must_use]
pub fn split_once_ascii(s: &str, sep: u8) -> Option<(&str, &str)> {
    let at = s.bytes().position(|b| b == sep)?;
    let (head, tail) = s.split_at_checked(at)?;
    Some((head, tail.get(1..)?))
}

/// Whether `s` holds the ASCII byte `b`.
// One out-of-line search for the deletion lines' three (a name's `*`, a parent domain's `.`,
// an IP address's `:`): 54 B gzip less in the banner's module than each inlined, measured.
#[cfg_attr(target_family = "wasm", inline(never))]
pub(crate) fn contains_ascii(s: &str, b: u8) -> bool {
    s.bytes().any(|c| c == b)
}

/// The pieces of `s` between the ASCII bytes `sep`, as `str::split` with a `char` gives them;
/// see [`split_once_ascii`].
pub fn split_ascii(s: &str, sep: u8) -> SplitAscii<'_> {
    SplitAscii { rest: Some(s), sep }
}

/// The iterator of [`split_ascii`].
#[derive(Clone, Debug)]
pub struct SplitAscii<'a> {
    rest: Option<&'a str>,
    sep: u8,
}

impl<'a> Iterator for SplitAscii<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        match split_once_ascii(rest, self.sep) {
            Some((piece, after)) => {
                self.rest = Some(after);
                Some(piece)
            }
            None => self.rest.take(),
        }
    }
}

/// `s` without ASCII whitespace at either end, as `str::trim_ascii`: one copy in the banner's
/// module, not one inlined into each caller (32 B gzip less, measured). The server, which
/// resolves every gated element of a page with it, keeps it inline.
#[cfg_attr(target_family = "wasm", inline(never))]
#[must_use]
pub fn trim_ascii(s: &str) -> &str {
    s.trim_ascii()
}

/// `s` without the ASCII byte `c` repeated at its end, as `str::trim_end_matches` with a
/// `char`; see [`split_once_ascii`].
#[must_use]
pub fn trim_end_ascii(s: &str, c: u8) -> &str {
    let mut end = s.len();
    while end > 0 && s.as_bytes().get(end - 1) == Some(&c) {
        end -= 1;
    }
    s.get(..end).unwrap_or(s)
}

/// Appends `s` to `out` as a JSON string literal, escaped as serde_json escapes it.
pub fn json_string(out: &mut (impl Sink + ?Sized), s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push_str("\"");
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        out.push_str(s.get(start..i).unwrap_or_default());
        // The two-character escape serde_json writes, else `\u00XX`: written from its letter,
        // not taken from a table of escape texts (27 B gzip less in the banner's module).
        let short = match b {
            b'"' | b'\\' => b,
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            0x08 => b'b',
            0x0c => b'f',
            _ => 0,
        };
        let digit = |nibble: u8| HEX.get(usize::from(nibble)).copied().unwrap_or(b'0');
        let code = [b'\\', b'u', b'0', b'0', digit(b >> 4), digit(b & 0xf)];
        let code = match short {
            0 => &code[..],
            _ => &[b'\\', short][..],
        };
        out.push_str(utf8(code).unwrap_or_default());
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out.push_str("\"");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_piece_that_does_not_fit_is_left_out_whole() {
        let mut b = Buf::<4>::new();
        b.push_str("ab");
        b.push_str("äb");
        assert!(b.overflowed());
        assert_eq!(b.as_str(), "ab");
        b.push_str("c");
        assert_eq!(b.as_str(), "abc");
        b.clear();
        assert!(!b.overflowed());
        assert_eq!(b.as_str(), "");
    }

    /// `utf8` against `core`'s: every sequence of one and two bytes, and of three and four
    /// bytes every lead and second byte with the bytes after them from each side of every
    /// boundary of table 3-7.
    #[test]
    fn utf8_is_cores_from_utf8() {
        let same = |b: &[u8]| assert_eq!(utf8(b), core::str::from_utf8(b).ok(), "{b:x?}");
        let edges = [0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff];
        for a in 0..=0xff {
            same(&[a]);
            for b in 0..=0xff {
                same(&[a, b]);
                for c in edges {
                    same(&[a, b, c]);
                    for d in edges {
                        same(&[a, b, c, d]);
                        same(&[b'x', a, b, c, d, b'y']);
                    }
                }
            }
        }
        same("a\u{10ffff}b\u{7ff}\u{800}\u{ffff}\u{10000}\u{d7ff}\u{e000}".as_bytes());
    }

    #[test]
    fn json_strings_are_escaped_as_serde_json_escapes_them() {
        let ascii: String = (0..0x80).map(char::from).collect();
        for s in [
            "plain",
            "q\"b\\s",
            "\n\r\t\u{8}\u{c}",
            "\u{1}\u{1f}ä€",
            "",
            &ascii,
        ] {
            let mut out = String::new();
            json_string(&mut out, s);
            assert_eq!(out, serde_json::to_string(s).unwrap_or_default());
        }
    }
}
