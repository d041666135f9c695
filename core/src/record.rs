//! Decision records: what the log keeps as proof of each decision (GDPR art. 7(1)).
//!
//! A record holds the pseudonymous consent id, the UTC time, the action, the choice per
//! category and service, the policy revision, a SHA-256 of exactly what was shown, the
//! language, the page address without its query string, the channel, the expiry and whether
//! Global Privacy Control was present. It holds no IP address.
//!
//! [`DecisionRecord::canonical_bytes`] is the one byte encoding that the server hashes into
//! its chain ([`DecisionRecord::chain_hash`]); JSON is only for transport.

use crate::prelude::*;
use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::config::Config;
use crate::digest::Digest;
use crate::id::{CategoryId, ServiceId};
use crate::lang::Lang;
use crate::policy;
use crate::state::{ConsentId, ConsentState, Method, Revision, serde_via_str};

const MAX_URL_LEN: usize = 2048;

/// Where a decision was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Channel {
    /// The cookie banner.
    Banner,
    /// A form on the site, such as a newsletter sign-up.
    WebForm,
    /// By phone, recorded by staff.
    Phone,
    /// At the front desk, recorded by staff.
    FrontDesk,
    /// By e-mail, recorded by staff.
    Email,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 5] = [
        Channel::Banner,
        Channel::WebForm,
        Channel::Phone,
        Channel::FrontDesk,
        Channel::Email,
    ];

    /// The snake_case name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Banner => "banner",
            Channel::WebForm => "web_form",
            Channel::Phone => "phone",
            Channel::FrontDesk => "front_desk",
            Channel::Email => "email",
        }
    }

    pub(crate) const fn code(self) -> u8 {
        match self {
            Channel::Banner => 0,
            Channel::WebForm => 1,
            Channel::Phone => 2,
            Channel::FrontDesk => 3,
            Channel::Email => 4,
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for an unknown channel name.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseChannelError;

impl fmt::Display for ParseChannelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown channel: expected banner, web_form, phone, front_desk or email")
    }
}

impl core::error::Error for ParseChannelError {}

impl FromStr for Channel {
    type Err = ParseChannelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or(ParseChannelError)
    }
}

serde_via_str!(Channel);

/// A page address with its query string and fragment removed: they may hold personal data.
///
/// # Example
/// ```
/// use consent_core::PageUrl;
/// let url = PageUrl::new("https://klinikka.fi/ajanvaraus?email=a@b.fi#top")?;
/// assert_eq!(url.as_str(), "https://klinikka.fi/ajanvaraus");
/// # Ok::<(), consent_core::PageUrlError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PageUrl(Box<str>);

/// Why a page address was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PageUrlError {
    /// Not an `http://` or `https://` address.
    Scheme,
    /// Longer than 2048 bytes.
    TooLong,
    /// Holds whitespace, a control character or a bidirectional formatting character, at
    /// this byte offset.
    BadChar(usize),
}

impl fmt::Display for PageUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PageUrlError::Scheme => {
                f.write_str("page url: expected an http:// or https:// address")
            }
            PageUrlError::TooLong => write!(f, "page url: longer than {MAX_URL_LEN} bytes"),
            PageUrlError::BadChar(at) => {
                write!(
                    f,
                    "page url: whitespace, a control or a bidirectional formatting character at byte {at}"
                )
            }
        }
    }
}

impl core::error::Error for PageUrlError {}

impl PageUrl {
    /// Validates an address and cuts it at the first `?` or `#`.
    ///
    /// # Errors
    /// [`PageUrlError`] for another scheme, an address over 2048 bytes, whitespace, a control
    /// character (C0 or C1) or a bidirectional formatting character.
    pub fn new(url: &str) -> Result<Self, PageUrlError> {
        let cut = url.find(['?', '#']).unwrap_or(url.len());
        let url = url.get(..cut).unwrap_or(url);
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or(PageUrlError::Scheme)?;
        if rest.is_empty() {
            return Err(PageUrlError::Scheme);
        }
        if url.len() > MAX_URL_LEN {
            return Err(PageUrlError::TooLong);
        }
        // Browsers send `location.href`, which is ASCII (a path's other characters
        // percent-encoded, a host's in punycode): what else a client writes here is shown to
        // staff (the dashboard, an export in a terminal), where a C1 control (U+009B starts a
        // terminal's escape sequence) or a bidirectional override (U+202E shows the rest of
        // the address reversed) would lie about the address.
        if let Some((at, _)) = url
            .char_indices()
            .find(|&(_, c)| c.is_whitespace() || c.is_control() || is_bidi_format(c))
        {
            return Err(PageUrlError::BadChar(at));
        }
        Ok(Self(url.into()))
    }

    /// The address.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address's scheme and authority as it is written, with no path: what a browser
    /// sends as the `Origin` of a request from the page (compared byte for byte, a page a
    /// browser wrote `location.href` of is on the request's origin).
    ///
    /// ```
    /// use consent_core::PageUrl;
    /// let url = PageUrl::new("https://klinikka.fi:8443/sv/ajanvaraus")?;
    /// assert_eq!(url.origin(), "https://klinikka.fi:8443");
    /// assert_eq!(PageUrl::new("http://klinikka.fi")?.origin(), "http://klinikka.fi");
    /// # Ok::<(), consent_core::PageUrlError>(())
    /// ```
    #[must_use]
    pub fn origin(&self) -> &str {
        let authority = self.0.find("://").map_or(0, |at| at + 3);
        let end = self
            .0
            .get(authority..)
            .and_then(|rest| rest.find('/'))
            .map_or(self.0.len(), |at| authority + at);
        self.0.get(..end).unwrap_or_default()
    }
}

/// The characters that change the direction text is shown in (Unicode's `Bidi_Control`):
/// marks, embeddings, overrides and isolates.
fn is_bidi_format(c: char) -> bool {
    matches!(
        c,
        '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
    )
}

impl fmt::Display for PageUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for PageUrl {
    type Err = PageUrlError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

serde_via_str!(PageUrl);

/// One category's or service's choice in a record.
///
/// A field the record does not know is refused, as on the record itself: its digest covers
/// only what is read, so a field added to a stored record would be shown (by an export of the
/// stored JSON) without the chain proving it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryChoice {
    /// The category.
    pub id: CategoryId,
    /// Whether it was granted.
    pub granted: bool,
}

/// One service's choice in a record (unknown fields refused, as in [`CategoryChoice`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceChoice {
    /// The service.
    pub id: ServiceId,
    /// Whether it was granted.
    pub granted: bool,
}

/// A decision as the log keeps it.
///
/// # Example
/// ```
/// use consent_core::{Channel, Config, DecisionRecord, Digest, PageUrl};
/// let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
/// # let state = consent_core::doc_state();
/// let url = PageUrl::new("https://klinikka.fi/?utm_source=x")?;
/// let record = DecisionRecord::new(&config, &state, Some(url), Channel::Banner);
/// assert_eq!(record.page_url().map(|u| u.as_str()), Some("https://klinikka.fi/"));
///
/// // The server chains records: each hash covers the one before.
/// let first = record.chain_hash(&Digest::ZERO);
/// let second = record.chain_hash(&first);
/// assert_ne!(first, second);
/// # Ok::<(), Box<dyn core::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRecord {
    consent_id: ConsentId,
    #[serde(with = "rfc3339")]
    time: OffsetDateTime,
    action: Method,
    categories: Vec<CategoryChoice>,
    services: Vec<ServiceChoice>,
    revision: Revision,
    shown_hash: Digest,
    lang: LangField,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    page_url: Option<PageUrl>,
    channel: Channel,
    #[serde(with = "rfc3339")]
    expires: OffsetDateTime,
    gpc: bool,
}

/// Record times as RFC 3339 text.
///
/// Serializing writes the same text as `time::serde::rfc3339` (a property test compares them)
/// by hand: time's generic formatter is most of the time-crate code the WebAssembly banner
/// would otherwise link. Deserializing is time's own parser.
pub(crate) mod rfc3339 {
    use serde::{Deserializer, Serializer, ser::Error as _};
    use time::OffsetDateTime;

    /// Room for `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+HH:MM`.
    pub(crate) struct Text {
        bytes: [u8; 35],
        len: usize,
    }

    impl Text {
        fn push(&mut self, b: u8) {
            self.bytes[self.len] = b;
            self.len += 1;
        }

        fn digits(&mut self, value: u32, width: u32) {
            for k in (0..width).rev() {
                self.push(b'0' + (value / 10u32.pow(k) % 10) as u8);
            }
        }

        pub(crate) fn as_str(&self) -> &str {
            // Only ASCII digits and separators were pushed.
            core::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
        }
    }

    /// The RFC 3339 text of `t`, or `None` for a year outside 0-9999 or an offset with
    /// seconds, which RFC 3339 cannot express (time refuses the same).
    pub(crate) fn format(t: &OffsetDateTime) -> Option<Text> {
        let year = u32::try_from(t.year()).ok().filter(|y| *y < 10_000)?;
        let (oh, om, os) = t.offset().as_hms();
        if os != 0 {
            return None;
        }
        let mut out = Text {
            bytes: [0; 35],
            len: 0,
        };
        out.digits(year, 4);
        out.push(b'-');
        out.digits(u32::from(u8::from(t.month())), 2);
        out.push(b'-');
        out.digits(u32::from(t.day()), 2);
        out.push(b'T');
        out.digits(u32::from(t.hour()), 2);
        out.push(b':');
        out.digits(u32::from(t.minute()), 2);
        out.push(b':');
        out.digits(u32::from(t.second()), 2);
        let (mut nanos, mut width) = (t.nanosecond(), 9);
        if nanos != 0 {
            while nanos % 10 == 0 {
                nanos /= 10;
                width -= 1;
            }
            out.push(b'.');
            out.digits(nanos, width);
        }
        if t.offset().is_utc() {
            out.push(b'Z');
        } else {
            out.push(if t.offset().is_negative() { b'-' } else { b'+' });
            out.digits(u32::from(oh.unsigned_abs()), 2);
            out.push(b':');
            out.digits(u32::from(om.unsigned_abs()), 2);
        }
        Some(out)
    }

    pub(crate) fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        match format(t) {
            Some(text) => s.serialize_str(text.as_str()),
            None => Err(S::Error::custom("time cannot be written as RFC 3339")),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        time::serde::rfc3339::deserialize(d)
    }
}

/// `Lang` through its `FromStr`, which accepts only the three built-in languages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LangField(Lang);

impl fmt::Display for LangField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for LangField {
    type Err = crate::lang::ParseLangError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.parse::<Lang>()? {
            lang if lang.as_str() == s => Ok(LangField(lang)),
            _ => Err(crate::lang::ParseLangError),
        }
    }
}

serde_via_str!(LangField);

/// Why a record does not fit the config it claims to follow.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordError {
    /// Made under another revision than the config's.
    Revision {
        /// The record's.
        record: u32,
        /// The config's.
        config: u32,
    },
    /// A category the config does not have.
    UnknownCategory(CategoryId),
    /// A service the config does not have.
    UnknownService(ServiceId),
    /// A category or service listed twice, or one of the config's left out.
    Incomplete,
    /// The necessary category is not granted.
    NecessaryRefused,
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::Revision { record, config } => write!(
                f,
                "record is for revision {record}, the policy is at revision {config}"
            ),
            RecordError::UnknownCategory(id) => write!(f, "categories: unknown category {id:?}"),
            RecordError::UnknownService(id) => write!(f, "services: unknown service {id:?}"),
            RecordError::Incomplete => {
                f.write_str("categories and services must list each of the config's exactly once")
            }
            RecordError::NecessaryRefused => f.write_str("categories: necessary cannot be refused"),
        }
    }
}

impl core::error::Error for RecordError {}

impl DecisionRecord {
    /// The record of a decision made in `config`.
    #[must_use]
    pub fn new(
        config: &Config,
        state: &ConsentState,
        page_url: Option<PageUrl>,
        channel: Channel,
    ) -> Self {
        let choices = state.choices();
        let categories = config
            .indexed_categories()
            .map(|(ci, c)| CategoryChoice {
                id: c.id().clone(),
                granted: choices.allows_category(ci),
            })
            .collect();
        let services = config
            .services()
            .map(|(si, _, s)| ServiceChoice {
                id: s.id().clone(),
                granted: choices.allows_service(si),
            })
            .collect();
        Self {
            consent_id: state.id(),
            time: state.last_decision(),
            action: state.method(),
            categories,
            services,
            revision: state.revision(),
            shown_hash: config.shown_hash(state.lang()),
            lang: LangField(state.lang()),
            page_url,
            channel,
            expires: policy::expires(config, state),
            gpc: state.gpc(),
        }
    }

    /// Checks a record (received as JSON, say) against the current config: same revision,
    /// every category and service of the config exactly once, necessary granted.
    ///
    /// # Errors
    /// The first [`RecordError`] found.
    pub fn check(&self, config: &Config) -> Result<(), RecordError> {
        if self.revision != config.revision() {
            return Err(RecordError::Revision {
                record: self.revision.get(),
                config: config.revision().get(),
            });
        }
        for c in &self.categories {
            if config.category_index(c.id.as_str()).is_none() {
                return Err(RecordError::UnknownCategory(c.id.clone()));
            }
            if c.id.is_necessary() && !c.granted {
                return Err(RecordError::NecessaryRefused);
            }
        }
        for s in &self.services {
            if config.service_index(s.id.as_str()).is_none() {
                return Err(RecordError::UnknownService(s.id.clone()));
            }
        }
        let mut cats: Vec<&str> = self.categories.iter().map(|c| c.id.as_str()).collect();
        let mut svcs: Vec<&str> = self.services.iter().map(|s| s.id.as_str()).collect();
        cats.sort_unstable();
        cats.dedup();
        svcs.sort_unstable();
        svcs.dedup();
        if cats.len() != self.categories.len()
            || svcs.len() != self.services.len()
            || cats.len() != config.categories().len()
            || svcs.len() != config.service_count()
        {
            return Err(RecordError::Incomplete);
        }
        Ok(())
    }

    /// The visitor's consent id.
    #[must_use]
    pub fn consent_id(&self) -> ConsentId {
        self.consent_id
    }
    /// When the decision was made (UTC).
    #[must_use]
    pub fn time(&self) -> OffsetDateTime {
        self.time
    }
    /// How it was given.
    #[must_use]
    pub fn action(&self) -> Method {
        self.action
    }
    /// The choice per category.
    #[must_use]
    pub fn categories(&self) -> &[CategoryChoice] {
        &self.categories
    }
    /// The choice per service.
    #[must_use]
    pub fn services(&self) -> &[ServiceChoice] {
        &self.services
    }
    /// The policy revision.
    #[must_use]
    pub fn revision(&self) -> Revision {
        self.revision
    }
    /// SHA-256 of the config and texts shown ([`Config::shown_hash`]).
    #[must_use]
    pub fn shown_hash(&self) -> Digest {
        self.shown_hash
    }
    /// The language shown.
    #[must_use]
    pub fn lang(&self) -> Lang {
        self.lang.0
    }
    /// The page, without query string.
    #[must_use]
    pub fn page_url(&self) -> Option<&PageUrl> {
        self.page_url.as_ref()
    }
    /// Where the decision was given.
    #[must_use]
    pub fn channel(&self) -> Channel {
        self.channel
    }
    /// When the decision expires.
    #[must_use]
    pub fn expires(&self) -> OffsetDateTime {
        self.expires
    }
    /// Whether Global Privacy Control was present.
    #[must_use]
    pub fn gpc(&self) -> bool {
        self.gpc
    }

    /// The canonical encoding: fixed field order, big-endian integers, length-prefixed
    /// strings, categories and services sorted by id. Equal records give equal bytes, on
    /// every platform.
    #[must_use]
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(b"CDR1");
        out.extend_from_slice(self.consent_id.as_bytes());
        out.extend_from_slice(&self.time.unix_timestamp().to_be_bytes());
        out.push(self.action.code());
        out.extend_from_slice(&self.revision.get().to_be_bytes());
        out.extend_from_slice(self.shown_hash.as_bytes());
        out.push(self.lang.0.index() as u8);
        out.push(self.channel.code());
        out.extend_from_slice(&self.expires.unix_timestamp().to_be_bytes());
        out.push(u8::from(self.gpc));
        let url = self.page_url.as_ref().map_or("", PageUrl::as_str);
        out.extend_from_slice(&(url.len() as u32).to_be_bytes());
        out.extend_from_slice(url.as_bytes());
        let mut cats: Vec<(&str, bool)> = self
            .categories
            .iter()
            .map(|c| (c.id.as_str(), c.granted))
            .collect();
        let mut svcs: Vec<(&str, bool)> = self
            .services
            .iter()
            .map(|s| (s.id.as_str(), s.granted))
            .collect();
        for list in [&mut cats, &mut svcs] {
            list.sort_unstable();
            out.extend_from_slice(&(list.len() as u16).to_be_bytes());
            for (id, granted) in list.iter() {
                // Ids are at most 32 bytes, so one length byte holds them.
                out.push(id.len() as u8);
                out.extend_from_slice(id.as_bytes());
                out.push(u8::from(*granted));
            }
        }
        out
    }

    /// SHA-256 of the canonical bytes: what the chain links, so that an erased record's
    /// digest can stay in the chain after its personal fields are gone.
    #[must_use]
    pub fn digest(&self) -> Digest {
        let mut h = Sha256::new();
        h.update(b"consent-record-v1\0");
        h.update(self.canonical_bytes());
        Digest::from_bytes(h.finalize().into())
    }

    /// The chain link for this record after `previous`: [`chain_link`] of its
    /// [`digest`](Self::digest). Use [`Digest::ZERO`] before the first record.
    #[must_use]
    pub fn chain_hash(&self, previous: &Digest) -> Digest {
        chain_link(previous, &self.digest())
    }

    /// The record as compact JSON, the form `POST /consent` takes: the same text as
    /// `serde_json::to_string`, without needing serde_json (the banner's build has none).
    ///
    /// `None` only for a time outside what RFC 3339 can write (years 0-9999), which no record
    /// made by [`DecisionRecord::new`] from a real clock has.
    ///
    /// # Example
    /// ```
    /// use consent_core::{Channel, Config, DecisionRecord};
    /// let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
    /// # let state = consent_core::doc_state();
    /// let record = DecisionRecord::new(&config, &state, None, Channel::Banner);
    /// let json = record.to_json().unwrap_or_default();
    /// assert!(json.starts_with(r#"{"consent_id":""#));
    /// assert_eq!(serde_json::from_str::<DecisionRecord>(&json)?, record);
    /// # Ok::<(), Box<dyn core::error::Error>>(())
    /// ```
    #[must_use]
    pub fn to_json(&self) -> Option<String> {
        crate::json_write::to_string(self).ok()
    }
}

/// One link of a tamper-evident chain: SHA-256 over the previous link and a record's
/// [`digest`](DecisionRecord::digest). Any edit, insertion or removal changes every later link.
#[must_use]
pub fn chain_link(previous: &Digest, record_digest: &Digest) -> Digest {
    let mut h = Sha256::new();
    h.update(b"consent-chain-v1\0");
    h.update(previous.as_bytes());
    h.update(record_digest.as_bytes());
    Digest::from_bytes(h.finalize().into())
}

impl crate::decision::Made {
    /// The log's record of this decision, made at `page_url` through `channel`, with the
    /// hash of the texts `config` shows in the decision's language.
    #[must_use]
    pub fn record(
        &self,
        config: &Config,
        page_url: Option<PageUrl>,
        channel: Channel,
    ) -> DecisionRecord {
        DecisionRecord::new(config, self.state(), page_url, channel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn rfc3339_is_what_time_writes(
            secs in -62_167_219_200i64..253_402_300_799,
            nanos in prop_oneof![Just(0u32), 0u32..1_000_000_000, Just(5_000_000)],
            offset in -86_399i32..86_399,
        ) {
            use time::format_description::well_known::Rfc3339;
            let offset = time::UtcOffset::from_whole_seconds(offset).unwrap_or(time::UtcOffset::UTC);
            let t = OffsetDateTime::from_unix_timestamp(secs).unwrap()
                .replace_nanosecond(nanos).unwrap()
                .to_offset(offset);
            let ours = rfc3339::format(&t).map(|t| t.as_str().to_owned());
            prop_assert_eq!(ours, t.format(&Rfc3339).ok());
        }
    }

    /// The digest covers what is read: a field nobody reads is refused at every level.
    #[cfg(feature = "serde_json")]
    #[test]
    fn a_record_with_a_field_it_does_not_know_is_refused() {
        let config = crate::Config::from_json(crate::EXAMPLE_CONFIG).unwrap();
        let record = DecisionRecord::new(&config, &crate::doc_state(), None, Channel::Banner);
        let json = serde_json::to_string(&record).unwrap();
        assert_eq!(
            serde_json::from_str::<DecisionRecord>(&json).ok(),
            Some(record)
        );
        for (from, to) in [
            ("\"gpc\":", "\"note\":1,\"gpc\":"),
            ("\"granted\":", "\"note\":1,\"granted\":"),
        ] {
            let edited = json.replacen(from, to, 1);
            assert_ne!(edited, json);
            assert!(
                serde_json::from_str::<DecisionRecord>(&edited).is_err(),
                "{edited}"
            );
        }
        // The services' choices, which the example's state may leave empty.
        let service = r#"{"id":"ga","granted":true,"note":1}"#;
        assert!(serde_json::from_str::<ServiceChoice>(service).is_err());
    }

    #[test]
    fn rfc3339_of_record_times() {
        let t = OffsetDateTime::from_unix_timestamp(1_793_491_200).unwrap();
        assert_eq!(
            rfc3339::format(&t).unwrap().as_str(),
            "2026-11-01T00:00:00Z"
        );
    }

    #[test]
    fn page_url_strips_and_refuses() {
        assert_eq!(
            PageUrl::new("http://a.fi#x").map(|u| u.to_string()),
            Ok("http://a.fi".into())
        );
        assert_eq!(PageUrl::new("ftp://a.fi"), Err(PageUrlError::Scheme));
        assert_eq!(PageUrl::new("https://"), Err(PageUrlError::Scheme));
        assert_eq!(PageUrl::new("https://a b"), Err(PageUrlError::BadChar(9)));
        // What staff would see otherwise: a terminal's escape sequence (C1 CSI), an address
        // shown reversed (RLO), a no-break space that reads as a space.
        for (url, at) in [
            ("https://a.fi/\u{9b}31m", 13),
            ("https://a.fi/\u{202e}lmth.x", 13),
            ("https://a.fi/\u{2067}x", 13),
            ("https://a.fi/\u{200f}", 13),
            ("https://a.fi/a\u{a0}b", 14),
            ("https://a.fi/\u{85}", 13),
        ] {
            assert_eq!(PageUrl::new(url), Err(PageUrlError::BadChar(at)), "{url:?}");
        }
        // Other characters are the address's (a client that did not percent-encode).
        assert!(PageUrl::new("https://a.fi/hinnasto-ä").is_ok());
        assert_eq!(
            PageUrl::new(&format!("https://{}", "a".repeat(2048))),
            Err(PageUrlError::TooLong)
        );
    }

    #[test]
    fn channel_round_trips() {
        for c in Channel::ALL {
            assert_eq!(c.as_str().parse::<Channel>(), Ok(c));
        }
    }
}
