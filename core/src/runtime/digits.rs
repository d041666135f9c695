//! Decimal and hex digits without `core::fmt`'s number formatting.
//!
//! Integer `Display` and `{:02x}` bring `core::fmt`'s padding and radix machinery into every
//! binary that uses them; the WebAssembly banner is measured by the byte (BENCHMARKS.md,
//! "Banner size"). These write the same text as `{n}` and `{b:02x}` from a stack buffer.

/// The decimal digits of `n`, as `n.to_string()` writes them.
pub struct Decimal {
    buf: [u8; 20],
    start: usize,
}

impl Decimal {
    /// The digits of `n`.
    #[must_use]
    pub fn new(n: u64) -> Self {
        let mut buf = [b'0'; 20];
        let mut start = buf.len();
        let mut n = n;
        while let Some(slot) = start.checked_sub(1).and_then(|i| buf.get_mut(i)) {
            *slot = b'0' + (n % 10) as u8;
            start -= 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        Self { buf, start }
    }

    /// The digits as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Only ASCII digits were written.
        crate::text::utf8(self.buf.get(self.start..).unwrap_or_default()).unwrap_or_default()
    }
}

impl core::fmt::Display for Decimal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Appends the decimal digits of `n` to `out`, zero-padded to `width`, as `{n:0width$}`.
#[cfg(feature = "alloc")]
pub(crate) fn push_padded(out: &mut (impl crate::text::Sink + ?Sized), n: u64, width: usize) {
    let digits = Decimal::new(n);
    let digits = digits.as_str();
    for _ in digits.len()..width {
        out.push_str("0");
    }
    out.push_str(digits);
}

/// Lowercase hex of `bytes` into `out` (twice as long), as `{b:02x}` for each byte.
pub(crate) fn hex<'a>(bytes: &[u8], out: &'a mut [u8]) -> &'a str {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // Pairs of slots without `Zip` over chunks, which sizes them with a division (and links
    // its panic into the banner's module).
    let mut pairs = out.chunks_exact_mut(2);
    for b in bytes {
        if let Some([high, low]) = pairs.next() {
            *high = HEX[usize::from(b >> 4)];
            *low = HEX[usize::from(b & 0xf)];
        }
    }
    let n = (bytes.len() * 2).min(out.len());
    crate::text::utf8(out.get(..n).unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn padded_is_what_format_writes() {
        for (n, width) in [(0, 4), (7, 2), (12, 2), (2026, 4), (123_456, 2), (5, 0)] {
            let mut out = String::from("x");
            super::push_padded(&mut out, n, width);
            assert_eq!(out, format!("x{n:0width$}"));
        }
    }

    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn decimal_is_display(n in any::<u64>()) {
            let d = Decimal::new(n);
            prop_assert_eq!(d.as_str(), n.to_string());
        }

        #[test]
        fn hex_is_02x(bytes in any::<[u8; 16]>()) {
            let mut out = [0; 32];
            let want: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            prop_assert_eq!(hex(&bytes, &mut out), want);
        }
    }

    #[test]
    fn edges() {
        assert_eq!(Decimal::new(0).as_str(), "0");
        assert_eq!(Decimal::new(u64::MAX).as_str(), "18446744073709551615");
    }
}
