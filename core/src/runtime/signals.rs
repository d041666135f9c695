//! The browser's privacy signals, and the one place they are read.
//!
//! A signal reaches the core three ways: as request headers on the server (`Sec-GPC: 1`,
//! `DNT: 1`), and as `navigator.globalPrivacyControl` and `navigator.doNotTrack` in the
//! banner. All of them are read here, so the banner, the no-JavaScript form, `POST /consent`
//! and the server-side [`Gate`](crate::Gate) agree on what a visitor's browser asked for. What
//! a signal then does is the policy's (rule 7): GPC always counts, DNT only when the config
//! [honours it](crate::Config::honour_dnt).

/// Privacy signals from the browser.
///
/// # Example
/// ```
/// use consent_core::Signals;
/// let s = Signals::from_headers(Some(" 1 "), Some("0"));
/// assert_eq!(s, Signals { gpc: true, dnt: false });
/// assert_eq!(Signals::from_headers(None, Some("1")), Signals { gpc: false, dnt: true });
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Signals {
    /// Global Privacy Control: `navigator.globalPrivacyControl` or `Sec-GPC: 1`.
    pub gpc: bool,
    /// Do Not Track: `navigator.doNotTrack` or `DNT: 1`. Counts only when the config honours
    /// it.
    pub dnt: bool,
}

impl Signals {
    /// The signals of a request's `Sec-GPC` and `DNT` header values (absent: `None`). Each is
    /// on only when its value is `1`, surrounding whitespace aside, as both specifications
    /// define; anything else is off.
    #[must_use]
    pub fn from_headers(sec_gpc: Option<&str>, dnt: Option<&str>) -> Self {
        Self {
            gpc: sec_gpc.is_some_and(is_on),
            dnt: dnt.is_some_and(is_on),
        }
    }

    /// The signals of the browser's `navigator.globalPrivacyControl` (a boolean) and
    /// `navigator.doNotTrack` (`"1"` when on; `"0"`, `"unspecified"` or absent otherwise).
    #[must_use]
    // Always inlined: out of line, the two flags came back through memory to the banner's
    // one caller (31 B gzip of its module, measured).
    #[inline(always)]
    pub fn from_navigator(global_privacy_control: bool, do_not_track: Option<&str>) -> Self {
        Self {
            gpc: global_privacy_control,
            dnt: do_not_track.is_some_and(is_on),
        }
    }
}

/// Whether a header or `navigator` value turns its signal on.
fn is_on(value: &str) -> bool {
    crate::text::trim_ascii(value) == "1"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_one_turns_a_signal_on() {
        for (value, on) in [
            ("1", true),
            (" 1\t", true),
            ("0", false),
            ("", false),
            ("true", false),
            ("11", false),
            ("unspecified", false),
            ("yes", false),
        ] {
            let headers = Signals::from_headers(Some(value), Some(value));
            assert_eq!(headers, Signals { gpc: on, dnt: on }, "{value:?}");
            assert_eq!(
                Signals::from_navigator(false, Some(value)).dnt,
                on,
                "{value:?}"
            );
        }
        assert_eq!(Signals::from_headers(None, None), Signals::default());
        assert_eq!(
            Signals::from_navigator(true, None),
            Signals {
                gpc: true,
                dnt: false
            }
        );
    }
}
