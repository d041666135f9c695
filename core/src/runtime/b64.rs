//! Unpadded base64url (RFC 4648 section 5), strict, for the token.
//!
//! Written here rather than taken from the `base64` crate because it sits on the server's
//! per-request path: a table lookup per character and one validity check per token cost a
//! third of the general-purpose engine's instructions (BENCHMARKS.md). Strict means one
//! spelling per byte string: no padding, no line breaks, and a last character whose unused
//! bits are zero. The `base64` crate stays as the oracle of the property tests.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const INVALID: u8 = 0xff;

/// Each byte's 6-bit value, or [`INVALID`]. Not in the banner's module (see [`value`]).
#[cfg(any(not(target_family = "wasm"), feature = "alloc"))]
const DECODE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// A byte's 6-bit value, or [`INVALID`], for [`decode`].
///
/// The banner's module searches the alphabet instead of linking the 256 B table: it decodes a
/// token or two per page, and the search is smaller than the table. The server looks up.
#[cfg_attr(target_family = "wasm", inline(never))]
fn value(c: u8) -> u8 {
    #[cfg(target_family = "wasm")]
    return searched(c);
    #[cfg(not(target_family = "wasm"))]
    DECODE[usize::from(c)]
}

/// [`value`] as the banner's module finds it, by searching the alphabet; native tests hold it
/// to [`DECODE`], so both builds read every byte alike.
#[cfg(any(target_family = "wasm", test))]
fn searched(c: u8) -> u8 {
    ALPHABET
        .iter()
        .position(|&a| a == c)
        .map_or(INVALID, |i| i as u8)
}

/// [`DECODE`] widened and shifted into place for the `i`th character of a block of four, for
/// [`decode_prefix`]: a block is four lookups OR-ed. An invalid byte is all ones, so it sets
/// bit 31 whatever the others hold; valid ones never reach bit 24. 4 KiB, linked only by
/// the server's check.
#[cfg(feature = "alloc")]
const DECODE_BLOCK: [[u32; 256]; 4] = {
    let mut tables = [[u32::MAX; 256]; 4];
    let mut i = 0;
    while i < 256 {
        if DECODE[i] != INVALID {
            let v = DECODE[i] as u32;
            tables[0][i] = v << 18;
            tables[1][i] = v << 12;
            tables[2][i] = v << 6;
            tables[3][i] = v;
        }
        i += 1;
    }
    tables
};

/// Why a string is not strict unpadded base64url.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum B64Error {
    /// A byte outside the alphabet, or a last character with unused bits set, at this offset;
    /// or the input's length, where a length that leaves a single character (`len % 4 == 1`)
    /// ends without a byte.
    Byte(usize),
    /// The output buffer is too small.
    Capacity,
}

/// The number of characters that encode `n` bytes.
pub(crate) const fn encoded_len(n: usize) -> usize {
    (n * 4).div_ceil(3)
}

/// Base64url written as bytes arrive: the token's fields and its tag go straight into its
/// text, with no buffer of the binary payload between.
///
/// Six bits at a time from an accumulator of the bits not yet written; [`Encoder::finish`]
/// writes what is left, padded with zero bits. Characters that do not fit `out` are dropped
/// (callers size `out` with [`encoded_len`]). No index that could panic (`& 63` stays in the
/// alphabet; the slots are an iterator), so the banner links no panic. Only a decision and a
/// re-signed token encode, never the server's check.
pub(crate) struct Encoder<'a> {
    slots: core::slice::IterMut<'a, u8>,
    written: usize,
    acc: u32,
    bits: u32,
}

impl<'a> Encoder<'a> {
    /// An encoder writing into `out` from its start.
    pub(crate) fn new(out: &'a mut [u8]) -> Self {
        Self {
            slots: out.iter_mut(),
            written: 0,
            acc: 0,
            bits: 0,
        }
    }

    pub(crate) fn byte(&mut self, b: u8) {
        self.acc = self.acc << 8 | u32::from(b);
        self.bits += 8;
        while self.bits >= 6 {
            self.bits -= 6;
            self.put(self.acc >> self.bits);
        }
    }

    /// Out of line: one copy for the token's fields and its tag (25 B gzip less in the
    /// banner's module, measured).
    #[inline(never)]
    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.byte(b);
        }
    }

    fn put(&mut self, six: u32) {
        if let Some(slot) = self.slots.next() {
            *slot = ALPHABET[six as usize & 63];
            self.written += 1;
        }
    }

    /// Writes the last character, if bits are left, and returns the number of characters
    /// written.
    pub(crate) fn finish(mut self) -> usize {
        if self.bits > 0 {
            self.put(self.acc << (6 - self.bits));
        }
        self.written
    }
}

/// Decodes `input` into `out` and returns the number of bytes written.
///
/// # Errors
/// [`B64Error::Byte`] with the offset of the first bad character (the input's length for a
/// length that ends no byte), or [`B64Error::Capacity`].
pub(crate) fn decode(input: &[u8], out: &mut [u8]) -> Result<usize, B64Error> {
    let tail = input.len() % 4;
    if tail == 1 {
        return Err(B64Error::Byte(input.len()));
    }
    let len = input.len() / 4 * 3 + tail.saturating_sub(1);
    let out = out.get_mut(..len).ok_or(B64Error::Capacity)?;
    // Six bits a character into an accumulator, a byte out whenever eight are there: one
    // loop, not blocks of four and two kinds of tail (160 B gzip less in the banner's module,
    // measured; the server's check decodes with `decode_prefix`). It stops at the first
    // invalid character, which is the error's offset (27 B gzip less than one check for the
    // whole input and a second pass to find the offset, measured).
    let mut slots = out.iter_mut();
    let (mut acc, mut bits) = (0u32, 0u32);
    for (at, &c) in input.iter().enumerate() {
        let v = value(c);
        if v == INVALID {
            return Err(B64Error::Byte(at));
        }
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            if let Some(slot) = slots.next() {
                *slot = (acc >> bits) as u8;
            }
        }
    }
    // The last character's bits that make no byte (two or four) must be zero.
    if acc & ((1 << bits) - 1) != 0 {
        return Err(B64Error::Byte(input.len().saturating_sub(1)));
    }
    Ok(len)
}

/// Decodes the run of alphabet characters that `input` starts with into `out`, as strictly as
/// [`decode`] would decode that run alone; `input` may go on after it with any other byte.
/// Returns the run's length in characters and the number of bytes written.
///
/// For the server's check, which finds the end of a token while decoding it instead of
/// searching for it first. `None` when the run does not decode ([`decode`] says why) or does
/// not fit `out`.
#[cfg(feature = "alloc")]
pub(crate) fn decode_prefix(input: &[u8], out: &mut [u8]) -> Option<(usize, usize)> {
    let (mut i, mut o) = (0, 0);
    // Two blocks a round while both decode: one check, one store.
    while let (Some(c), Some(dst)) = (input.get(i..i + 8), out.get_mut(o..o + 6)) {
        let (high, low) = (block(&c[..4]), block(&c[4..]));
        if (high | low) >> 31 != 0 {
            // The run ends in this round: keep its first block if that decoded.
            if high >> 31 == 0 {
                dst[..3].copy_from_slice(&high.to_be_bytes()[1..]);
                return tail(input, i + 4, out, o + 3);
            }
            return tail(input, i, out, o);
        }
        let both = (u64::from(high) << 40 | u64::from(low) << 16).to_be_bytes();
        dst.copy_from_slice(&both[..6]);
        i += 8;
        o += 6;
    }
    // Near the end of the input or of `out`: a block at a time.
    while let (Some(c), Some(dst)) = (input.get(i..i + 4), out.get_mut(o..o + 3)) {
        let n = block(c);
        if n >> 31 != 0 {
            break;
        }
        dst.copy_from_slice(&n.to_be_bytes()[1..]);
        i += 4;
        o += 3;
    }
    tail(input, i, out, o)
}

/// Four characters as 24 bits, with bit 31 set if any is invalid.
#[cfg(feature = "alloc")]
fn block(c: &[u8]) -> u32 {
    let [t0, t1, t2, t3] = &DECODE_BLOCK;
    t0[usize::from(c[0])] | t1[usize::from(c[1])] | t2[usize::from(c[2])] | t3[usize::from(c[3])]
}

/// [`decode_prefix`] from character `i` and byte `o`, where the run ends within four
/// characters unless `out` ran out first.
#[cfg(feature = "alloc")]
fn tail(input: &[u8], i: usize, out: &mut [u8], o: usize) -> Option<(usize, usize)> {
    let value = |k: usize| {
        input
            .get(i + k)
            .map_or(INVALID, |&c| DECODE[usize::from(c)])
    };
    let (a, b) = (value(0), value(1));
    if a == INVALID {
        return Some((i, o));
    }
    // One character encodes no byte; the last character's unused bits must be zero.
    if b == INVALID {
        return None;
    }
    let c = value(2);
    if c == INVALID {
        if b & 0x0f != 0 {
            return None;
        }
        *out.get_mut(o)? = a << 2 | b >> 4;
        return Some((i + 2, o + 1));
    }
    // A fourth character: the run went on past what fits `out`.
    if value(3) != INVALID || c & 0x03 != 0 {
        return None;
    }
    out.get_mut(o..o + 2)?
        .copy_from_slice(&[a << 2 | b >> 4, b << 4 | c >> 2]);
    Some((i + 3, o + 2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use proptest::prelude::*;

    #[test]
    fn the_banner_s_search_reads_every_byte_as_the_server_s_table() {
        for c in 0..=u8::MAX {
            assert_eq!(searched(c), DECODE[usize::from(c)], "byte {c:#04x}");
        }
    }

    fn enc(bytes: &[u8]) -> String {
        let mut out = vec![0u8; encoded_len(bytes.len())];
        let mut encoder = Encoder::new(&mut out);
        encoder.bytes(bytes);
        let n = encoder.finish();
        assert_eq!(n, out.len());
        String::from_utf8(out).unwrap_or_default()
    }

    fn dec(s: &str) -> Result<Vec<u8>, B64Error> {
        let mut out = vec![0u8; s.len()];
        decode(s.as_bytes(), &mut out).map(|n| out[..n].to_vec())
    }

    #[test]
    fn rfc_4648_vectors() {
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(enc(plain.as_bytes()), coded);
            assert_eq!(dec(coded), Ok(plain.as_bytes().to_vec()));
        }
        assert_eq!(enc(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn refuses_what_is_not_strict() {
        assert_eq!(dec("Zg=="), Err(B64Error::Byte(2)));
        assert_eq!(dec("Zh"), Err(B64Error::Byte(1)), "unused bits set");
        assert_eq!(dec("Zm9"), Err(B64Error::Byte(2)), "unused bits set");
        assert_eq!(dec("Z"), Err(B64Error::Byte(1)));
        assert_eq!(dec("Zm+v"), Err(B64Error::Byte(2)), "standard alphabet");
        assert_eq!(dec("Zm9v\n"), Err(B64Error::Byte(5)));
        let mut small = [0u8; 2];
        assert_eq!(decode(b"Zm9v", &mut small), Err(B64Error::Capacity));
        // What does not fit is dropped, and not counted.
        let mut encoder = Encoder::new(&mut small);
        encoder.bytes(b"foo");
        assert_eq!(encoder.finish(), 2);
        assert_eq!(&small, b"Zm");
    }

    proptest! {
        #[test]
        fn agrees_with_the_base64_crate(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
            let ours = enc(&bytes);
            prop_assert_eq!(&ours, &URL_SAFE_NO_PAD.encode(&bytes));
            prop_assert_eq!(dec(&ours), Ok(bytes));
        }

        #[test]
        fn decode_prefix_agrees_with_decode(
            bytes in proptest::collection::vec(any::<u8>(), 0..60),
            cut in 0usize..3,
            after in "([^A-Za-z0-9_-][ -~]{0,8})?",
            cap in 0usize..64,
        ) {
            // A valid run (from real bytes, or cut to make it invalid), then anything.
            let run = enc(&bytes);
            let run = &run[..run.len().saturating_sub(cut)];
            let input = format!("{run}{after}");
            let mut out = vec![0u8; cap];
            let prefix = decode_prefix(input.as_bytes(), &mut out);
            let whole = dec(run);
            match prefix {
                Some((chars, n)) => {
                    prop_assert_eq!(chars, run.len());
                    prop_assert_eq!(whole, Ok(out[..n].to_vec()));
                }
                None => prop_assert!(whole.is_err() || whole.is_ok_and(|b| b.len() > cap)),
            }
            if cut == 0 && bytes.len() <= cap {
                prop_assert!(prefix.is_some());
            }
        }

        #[test]
        fn decode_prefix_stops_where_the_alphabet_does(s in "[A-Za-z0-9_=+/.;\" -]{0,40}") {
            let run = s.bytes().take_while(|c| DECODE[usize::from(*c)] != INVALID).count();
            let mut out = [0u8; 40];
            let prefix = decode_prefix(s.as_bytes(), &mut out);
            match dec(&s[..run]) {
                Ok(bytes) => prop_assert_eq!(prefix, Some((run, bytes.len()))),
                Err(_) => prop_assert_eq!(prefix, None),
            }
        }

        #[test]
        fn accepts_exactly_what_the_base64_crate_accepts(s in "[A-Za-z0-9_=+/-]{0,40}") {
            let theirs = URL_SAFE_NO_PAD.decode(&s);
            prop_assert_eq!(dec(&s).ok(), theirs.ok());
        }
    }
}
