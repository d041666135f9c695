//! What a visitor has decided: the consent state that the token carries.

use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

use crate::index::{CategoryIndex, ServiceIndex};
use crate::lang::Lang;

/// Seconds in a day: lifetimes are whole days.
pub(crate) const DAY: i64 = 86_400;

/// The most categories a config may have: choices are a 32-bit set.
pub const MAX_CATEGORIES: usize = 32;
/// The most services a config may have, across all categories: choices are a 128-bit set.
pub const MAX_SERVICES: usize = 128;

/// Implements `Serialize` through `Display` and `Deserialize` through `FromStr`, so that serde
/// never bypasses a type's validation.
macro_rules! serde_via_str {
    ($ty:ty) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        #[cfg(feature = "alloc")]
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <alloc::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
#[cfg(feature = "alloc")]
pub(crate) use serde_via_str;

/// A pseudonymous consent id: 128 random bits that the caller draws (the core has no RNG).
///
/// Printed as 32 lowercase hex digits.
///
/// # Example
/// ```
/// use consent_core::ConsentId;
/// let id = ConsentId::from_bytes([0xab; 16]);
/// assert_eq!(id.to_string(), "abababababababababababababababab");
/// assert_eq!(id.to_string().parse::<ConsentId>(), Ok(id));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConsentId([u8; 16]);

impl ConsentId {
    /// An id from 16 random bytes (from `getrandom`, `crypto.getRandomValues`, ...).
    #[must_use]
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The 16 bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Debug for ConsentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConsentId({self})")
    }
}

impl ConsentId {
    /// The 32 lowercase hex digits, written into `buf` without `core::fmt` (what
    /// [`Display`](core::fmt::Display) writes).
    #[must_use]
    pub fn hex<'b>(&self, buf: &'b mut [u8; 32]) -> &'b str {
        crate::digits::hex(&self.0, buf)
    }
}

impl fmt::Display for ConsentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.hex(&mut [0; 32]))
    }
}

/// The error for a consent id that is not 32 lowercase hex digits.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseConsentIdError;

impl fmt::Display for ParseConsentIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid consent id: expected 32 lowercase hex digits")
    }
}

impl core::error::Error for ParseConsentIdError {}

impl FromStr for ConsentId {
    type Err = ParseConsentIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex = s.as_bytes();
        if hex.len() != 32 {
            return Err(ParseConsentIdError);
        }
        let mut out = [0u8; 16];
        for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
            *byte = (nibble(pair[0])? << 4) | nibble(pair[1])?;
        }
        Ok(Self(out))
    }
}

fn nibble(c: u8) -> Result<u8, ParseConsentIdError> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        _ => Err(ParseConsentIdError),
    }
}

serde_via_str!(ConsentId);

/// The policy revision: bumped by the site whenever purposes, services or texts change in a
/// way that needs new consent. Starts at 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Revision(u32);

impl Revision {
    /// Revision 1.
    pub(crate) const FIRST: Revision = Revision(1);

    /// A revision; `None` for 0.
    #[must_use]
    pub const fn new(n: u32) -> Option<Self> {
        if n == 0 { None } else { Some(Self(n)) }
    }

    /// The number.
    #[must_use]
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for Revision {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.0)
    }
}

impl<'de> Deserialize<'de> for Revision {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Revision::new(u32::deserialize(d)?)
            .ok_or_else(|| serde::de::Error::custom("revision must be at least 1"))
    }
}

/// How a decision was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// "Accept all" on the first layer or in the preferences.
    AcceptAll,
    /// "Reject all".
    RejectAll,
    /// Choices saved in the preferences.
    Custom,
    /// A decision that revoked something an earlier valid decision granted.
    Withdraw,
    /// Recorded from a Global Privacy Control signal, without a click.
    Gpc,
}

impl Method {
    /// Every method.
    pub const ALL: [Method; 5] = [
        Method::AcceptAll,
        Method::RejectAll,
        Method::Custom,
        Method::Withdraw,
        Method::Gpc,
    ];

    /// The snake_case name used in records and APIs.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::AcceptAll => "accept_all",
            Method::RejectAll => "reject_all",
            Method::Custom => "custom",
            Method::Withdraw => "withdraw",
            Method::Gpc => "gpc",
        }
    }

    /// The method of a decision made as `self` that leaves `revoked` off of what the decision
    /// before it allowed: a withdrawal exactly when it revokes something (policy rule 9), so a
    /// `withdraw` that revokes nothing is the choice it is ([`Custom`](Method::Custom)).
    #[must_use]
    // Always inlined: the banner's `decide` then folds the arm it never takes (14 B gzip of
    // the module, measured).
    #[inline(always)]
    pub(crate) fn revoking(self, revoked: &Choices) -> Method {
        match self {
            _ if !revoked.is_empty() => Method::Withdraw,
            Method::Withdraw => Method::Custom,
            made => made,
        }
    }

    pub(crate) const fn code(self) -> u8 {
        match self {
            Method::AcceptAll => 0,
            Method::RejectAll => 1,
            Method::Custom => 2,
            Method::Withdraw => 3,
            Method::Gpc => 4,
        }
    }

    pub(crate) const fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Method::AcceptAll),
            1 => Some(Method::RejectAll),
            2 => Some(Method::Custom),
            3 => Some(Method::Withdraw),
            4 => Some(Method::Gpc),
            _ => None,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for an unknown method name.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseMethodError;

impl fmt::Display for ParseMethodError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown method: expected accept_all, reject_all, custom, withdraw or gpc")
    }
}

impl core::error::Error for ParseMethodError {}

impl FromStr for Method {
    type Err = ParseMethodError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Method::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or(ParseMethodError)
    }
}

serde_via_str!(Method);

/// A set of granted categories and services, by their position in the config.
///
/// The same type says what a visitor chose and what the policy allows. Build one for a custom
/// decision with [`Config::category_index`](crate::Config::category_index) and [`Choices::with_category`].
///
/// # Example
/// ```
/// use consent_core::{Choices, Config};
/// # let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
/// let analytics = config.category_index("analytics").expect("in the example config");
/// let choices = Choices::none().with_category(&config, analytics, true);
/// assert!(choices.allows_category(analytics));
/// assert!(choices.allows_service(config.service_index("ga").expect("in the example config")));
/// # Ok::<(), consent_core::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Choices {
    pub(crate) categories: u32,
    pub(crate) services: ServiceSet,
}

/// A set of services by position (at most [`MAX_SERVICES`]): two 64-bit words, bit `i` of
/// the set bit `i % 64` of word `i / 64`.
///
/// Not a `u128`: WebAssembly has no 128-bit integers, so every operation on one is done on a
/// pair of words with carries, and one shifted by a variable amount calls compiler-rt's
/// `__ashlti3` or `__lshrti3`; as words, the banner's module is smaller (BENCHMARKS.md,
/// "Banner size").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub(crate) struct ServiceSet(pub(crate) [u64; 2]);

impl ServiceSet {
    /// No service.
    pub(crate) const EMPTY: Self = Self([0; 2]);

    /// The service at `i` alone (`i` below 128; above, as a `u128`'s shift, modulo 128).
    pub(crate) const fn bit(i: u8) -> Self {
        let high = (i >> 6 & 1) as u64;
        Self([(1 - high) << (i & 63), high << (i & 63)])
    }

    /// The first `n` services (`n` at most 128).
    pub(crate) fn first(n: u8) -> Self {
        let word = |n: u8| {
            u64::MAX
                .checked_shr(64u32.saturating_sub(n.into()))
                .unwrap_or(0)
        };
        Self([word(n), word(n.saturating_sub(64))])
    }

    /// Whether the service at `i` is in the set.
    pub(crate) const fn has(self, i: u8) -> bool {
        self.0[(i >> 6 & 1) as usize] >> (i & 63) & 1 != 0
    }

    pub(crate) const fn is_empty(self) -> bool {
        self.0[0] | self.0[1] == 0
    }

    pub(crate) const fn and(self, other: Self) -> Self {
        Self([self.0[0] & other.0[0], self.0[1] & other.0[1]])
    }

    pub(crate) const fn or(self, other: Self) -> Self {
        Self([self.0[0] | other.0[0], self.0[1] | other.0[1]])
    }

    /// `self` without `other`'s services.
    pub(crate) const fn minus(self, other: Self) -> Self {
        Self([self.0[0] & !other.0[0], self.0[1] & !other.0[1]])
    }

    /// The set as 16 bytes, little-endian (as a token stores it).
    pub(crate) fn to_le_bytes(self) -> [u8; 16] {
        // A constant shift: the words placed side by side, no 128-bit arithmetic.
        (u128::from(self.0[1]) << 64 | u128::from(self.0[0])).to_le_bytes()
    }
}

/// A set from a `u128`'s bits, for the tests that check the words against `u128` arithmetic.
#[cfg(test)]
impl From<u128> for ServiceSet {
    fn from(set: u128) -> Self {
        Self([set as u64, (set >> 64) as u64])
    }
}

impl Choices {
    /// Nothing granted, not even necessary (the policy always adds necessary).
    #[must_use]
    pub const fn none() -> Self {
        Self {
            categories: 0,
            services: ServiceSet::EMPTY,
        }
    }

    /// The first `n_categories` categories and `n_services` services, all granted.
    pub(crate) fn all(n_categories: u8, n_services: u8) -> Self {
        Self {
            categories: u32::MAX
                .checked_shr(32 - u32::from(n_categories))
                .unwrap_or(0),
            services: ServiceSet::first(n_services),
        }
    }

    /// Whether the category is granted.
    #[must_use]
    pub const fn allows_category(&self, category: CategoryIndex) -> bool {
        self.categories & (1 << category.0) != 0
    }

    /// Whether the service is granted.
    #[must_use]
    // Always inlined, as `minus`, `union` and `is_empty`: a few word operations, where the
    // banner's module made a call to each (71 B gzip of the module for the four, measured).
    #[inline(always)]
    pub const fn allows_service(&self, service: ServiceIndex) -> bool {
        self.services.has(service.0)
    }

    /// Returns `self` with the category and every one of its services granted (`on`) or
    /// refused.
    #[must_use]
    // Always inlined into the banner's two calls (11 B gzip of its module with
    // `Tables::category` inlined too, measured).
    #[inline(always)]
    pub fn with_category<P: crate::SitePolicy + ?Sized>(
        mut self,
        site: &P,
        category: CategoryIndex,
        on: bool,
    ) -> Self {
        self.set_bit_category(category, on);
        let services = site.services_of(category);
        self.services = if on {
            self.services.or(services)
        } else {
            self.services.minus(services)
        };
        self
    }

    /// Returns `self` with one service granted or refused. A granted service of a refused
    /// category stays refused: the policy clears it.
    #[must_use]
    pub fn with_service(mut self, service: ServiceIndex, on: bool) -> Self {
        self.set_bit_service(service, on);
        self
    }

    /// Returns `self` with one service granted and, so that the policy keeps it, its
    /// category: what "Allow and show" on an embed's placeholder adds. The category's other
    /// services stay as they were, so the category may now be granted only partly
    /// ([`whole_categories`](Self::whole_categories)). A service the site does not have
    /// changes nothing.
    ///
    /// # Example
    /// ```
    /// use consent_core::{Choices, Config};
    /// # let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
    /// let ads = config.service_index("google-ads").expect("in the example config");
    /// let pixel = config.service_index("facebook-pixel").expect("in the example config");
    /// let marketing = config.category_index("marketing").expect("in the example config");
    /// let choices = Choices::none().with_service_granted(&config, ads);
    /// assert!(choices.allows_service(ads) && !choices.allows_service(pixel));
    /// assert!(choices.allows_category(marketing));
    /// assert!(!choices.whole_categories(&config).allows_category(marketing), "granted only partly");
    /// # Ok::<(), consent_core::ConfigError>(())
    /// ```
    #[must_use]
    // Always inlined, as `Params::with_service_granted`, into the banner's one call: out of
    // line, each returned its `Choices` through memory (13 B gzip of its module, measured).
    #[inline(always)]
    pub fn with_service_granted<P: crate::SitePolicy + ?Sized>(
        self,
        site: &P,
        service: ServiceIndex,
    ) -> Self {
        site.params().with_service_granted(self, service)
    }

    /// `self` with only the categories granted whole: a category granted with one of its
    /// services off (one embed's service allowed, say) is left out, its granted services
    /// kept. What a category stands for (a gated element naming no service, a Consent Mode
    /// signal, the preferences' switch) runs only when every service of it may: granting
    /// YouTube must not turn on whatever else is "marketing".
    #[must_use]
    pub fn whole_categories<P: crate::SitePolicy + ?Sized>(&self, site: &P) -> Choices {
        site.params().whole_categories(*self)
    }

    /// Whether nothing is granted in `self` that is not in `other`.
    #[must_use]
    pub const fn is_subset_of(&self, other: &Choices) -> bool {
        self.categories & !other.categories == 0 && self.services.minus(other.services).is_empty()
    }

    /// What `self` grants and `other` does not.
    #[must_use]
    #[inline(always)]
    pub const fn minus(&self, other: &Choices) -> Choices {
        Choices {
            categories: self.categories & !other.categories,
            services: self.services.minus(other.services),
        }
    }

    /// What either grants.
    #[must_use]
    #[inline(always)]
    pub const fn union(&self, other: &Choices) -> Choices {
        Choices {
            categories: self.categories | other.categories,
            services: self.services.or(other.services),
        }
    }

    /// Whether no category and no service is granted.
    #[must_use]
    #[inline(always)]
    pub const fn is_empty(&self) -> bool {
        self.categories == 0 && self.services.is_empty()
    }

    /// The granted categories, in config order.
    pub fn categories(&self) -> impl Iterator<Item = CategoryIndex> + '_ {
        (0..MAX_CATEGORIES as u8)
            .map(CategoryIndex)
            .filter(|c| self.allows_category(*c))
    }

    /// The granted services, in config order.
    pub fn services(&self) -> impl Iterator<Item = ServiceIndex> + '_ {
        (0..MAX_SERVICES as u8)
            .map(ServiceIndex)
            .filter(|s| self.allows_service(*s))
    }

    fn set_bit_category(&mut self, category: CategoryIndex, on: bool) {
        let bit = 1u32 << category.0;
        if on {
            self.categories |= bit
        } else {
            self.categories &= !bit
        }
    }

    fn set_bit_service(&mut self, service: ServiceIndex, on: bool) {
        let bit = ServiceSet::bit(service.0);
        self.services = if on {
            self.services.or(bit)
        } else {
            self.services.minus(bit)
        };
    }
}

/// A visitor's decision as the consent cookie carries it.
///
/// Made by [`policy::decide`](crate::policy::decide) and read back from a
/// [`Token`](crate::Token). Times are whole UTC seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConsentState {
    pub(crate) id: ConsentId,
    pub(crate) first: i64,
    pub(crate) last: i64,
    pub(crate) revision: Revision,
    pub(crate) fingerprint: u32,
    pub(crate) method: Method,
    pub(crate) lang: Lang,
    pub(crate) gpc: bool,
    pub(crate) choices: Choices,
    pub(crate) n_categories: u8,
    pub(crate) n_services: u8,
}

/// The earliest decision time a token may carry (2020-01-01T00:00:00Z).
pub(crate) const MIN_TIME: i64 = 1_577_836_800;
/// The latest decision time a token may carry (2100-01-01T00:00:00Z).
pub(crate) const MAX_TIME: i64 = 4_102_444_800;

/// A time as the runtime takes and gives it: an [`OffsetDateTime`], or whole seconds since
/// the Unix epoch as an `i64`. A token carries seconds, and the rules compare seconds.
///
/// The banner passes seconds, from the browser's clock: with no `OffsetDateTime` on its path
/// its module carries none of `time`'s calendar (433 B gzip of it, measured). Every other
/// caller passes an `OffsetDateTime`.
///
/// ```
/// use consent_core::state::Timestamp;
/// use time::OffsetDateTime;
/// assert_eq!(OffsetDateTime::from_unix(86_400).unix(), 86_400);
/// assert_eq!(OffsetDateTime::from_unix(i64::MAX), OffsetDateTime::UNIX_EPOCH);
/// assert_eq!(i64::from_unix(86_400), 86_400);
/// ```
pub trait Timestamp: Copy {
    /// Whole seconds since the Unix epoch.
    fn unix(self) -> i64;

    /// The time `unix` seconds after the epoch. An `OffsetDateTime` is the epoch itself
    /// outside `time`'s range; every constructor of the runtime's states clamps or checks
    /// times to the years 2020 to 2099, well inside it.
    fn from_unix(unix: i64) -> Self;
}

impl Timestamp for OffsetDateTime {
    fn unix(self) -> i64 {
        self.unix_timestamp()
    }

    fn from_unix(unix: i64) -> Self {
        OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

impl Timestamp for i64 {
    fn unix(self) -> i64 {
        self
    }

    fn from_unix(unix: i64) -> Self {
        unix
    }
}

impl ConsentState {
    /// The visitor's pseudonymous consent id.
    #[must_use]
    pub fn id(&self) -> ConsentId {
        self.id
    }

    /// When this visitor first decided (kept across later decisions).
    #[must_use]
    pub fn first_decision(&self) -> OffsetDateTime {
        Timestamp::from_unix(self.first)
    }

    /// When this visitor last decided.
    #[must_use]
    pub fn last_decision(&self) -> OffsetDateTime {
        Timestamp::from_unix(self.last)
    }

    /// When this visitor first and last decided, as any [`Timestamp`]: the banner's seconds.
    #[must_use]
    pub fn decision_times<T: Timestamp>(&self) -> (T, T) {
        (T::from_unix(self.first), T::from_unix(self.last))
    }

    /// The policy revision the decision was made under.
    #[must_use]
    pub fn revision(&self) -> Revision {
        self.revision
    }

    /// How the last decision was given.
    #[must_use]
    pub fn method(&self) -> Method {
        self.method
    }

    /// The language the banner was shown in.
    #[must_use]
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// Whether the browser sent Global Privacy Control when the decision was made.
    #[must_use]
    pub fn gpc(&self) -> bool {
        self.gpc
    }

    /// What the visitor granted. The policy may allow less (an expired decision, GPC).
    #[must_use]
    pub fn choices(&self) -> Choices {
        self.choices
    }

    /// The same decision as made at `now`: the last decision time becomes `now` (and the first
    /// too, if it was later). A server uses it to log and sign a decision at its own clock
    /// rather than the browser's.
    ///
    /// # Errors
    /// [`DecideError::ClockOutOfRange`] when
    /// `now` is before 2020 or after 2099.
    pub fn at(mut self, now: OffsetDateTime) -> Result<Self, DecideError> {
        let now = now.unix_timestamp();
        if !(MIN_TIME..=MAX_TIME).contains(&now) {
            return Err(DecideError::ClockOutOfRange);
        }
        self.first = self.first.min(now);
        self.last = now;
        Ok(self)
    }

    /// Whether `other` is this decision, whatever its times, its consent id and its method:
    /// the same policy (revision and fingerprint), language, GPC and choices. The banner keeps
    /// (and adopts) the server's signed token when it is the decision the visitor just made:
    /// the server re-times a decision to its own clock ([`at`](Self::at)), so its seconds may
    /// differ from the browser's; it issues the consent id ([`with_id`](Self::with_id))
    /// unless the visitor showed a token it signed for the one the decision carries; and it
    /// calls a decision a withdrawal only over a grant the visitor proved to it, so a
    /// `withdraw` over an unproven one comes back as `custom`.
    ///
    /// # Example
    /// ```
    /// let state = consent_core::doc_state();
    /// let later = state.at(state.last_decision() + time::Duration::seconds(7))?;
    /// assert_ne!(state, later);
    /// assert!(state.same_decision(&later));
    /// let issued = later.with_id(consent_core::ConsentId::from_bytes([9; 16]));
    /// assert!(state.same_decision(&issued));
    /// # Ok::<(), consent_core::policy::DecideError>(())
    /// ```
    #[must_use]
    // Always inlined into the banner's one call (17 B gzip of its module, measured).
    #[inline(always)]
    pub fn same_decision(&self, other: &ConsentState) -> bool {
        // Every field named, so that a new one must be put on one side or the other; compared
        // one by one, not as a copy of the state compared whole (44 B gzip less of the banner's
        // module, measured; a tuple of them was 19 B more).
        let ConsentState {
            id: _,
            first: _,
            last: _,
            method: _,
            revision,
            fingerprint,
            lang,
            gpc,
            choices,
            n_categories,
            n_services,
        } = self;
        *revision == other.revision
            && *fingerprint == other.fingerprint
            && *lang == other.lang
            && *gpc == other.gpc
            && *choices == other.choices
            && *n_categories == other.n_categories
            && *n_services == other.n_services
    }

    /// This decision under another consent id. A consent id is not a password: the server
    /// continues an id only for a visitor who shows a token it signed for that id, and gives
    /// any other decision a fresh one.
    #[must_use]
    pub const fn with_id(mut self, id: ConsentId) -> Self {
        self.id = id;
        self
    }

    /// Whether anything beyond the strictly necessary category (index 0) is granted.
    #[must_use]
    pub fn grants_beyond_necessary(&self) -> bool {
        self.choices.categories & !1 != 0
    }
}

/// The error for a decision that cannot be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecideError {
    /// The clock reads before 2020 or after 2099: a token could not carry the time.
    ClockOutOfRange,
}

impl DecideError {
    /// What is wrong, in a sentence (what [`Display`](core::fmt::Display) writes).
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            DecideError::ClockOutOfRange => {
                "decision time is outside 2020-2099: is the clock right?"
            }
        }
    }
}

impl fmt::Display for DecideError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::error::Error for DecideError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consent_id_parse_rejects() {
        assert!(
            "ABABABABABABABABABABABABABABABAB"
                .parse::<ConsentId>()
                .is_err()
        );
        assert!("abab".parse::<ConsentId>().is_err());
        assert!("zz".repeat(16).parse::<ConsentId>().is_err());
        assert!("é".repeat(16).parse::<ConsentId>().is_err());
        assert_eq!(
            "00".repeat(16).parse::<ConsentId>(),
            Ok(ConsentId::from_bytes([0; 16]))
        );
    }

    #[test]
    fn method_round_trips() {
        for m in Method::ALL {
            assert_eq!(m.as_str().parse::<Method>(), Ok(m));
            assert_eq!(Method::from_code(m.code()), Some(m));
        }
        assert_eq!(Method::from_code(5), None);
        assert_eq!("accept".parse::<Method>(), Err(ParseMethodError));
    }

    #[test]
    fn revision_zero_is_not_a_revision() {
        assert_eq!(Revision::new(0), None);
        assert_eq!(Revision::new(7).map(Revision::get), Some(7));
    }

    #[test]
    fn service_set_is_a_u128_as_words() {
        let set = 0x8000_0000_0000_0001_0000_0000_0000_8001u128;
        for i in 0..128u8 {
            assert_eq!(ServiceSet::bit(i), ServiceSet::from(1u128 << i));
            assert_eq!(ServiceSet::from(set).has(i), set >> i & 1 != 0, "{i}");
        }
        for n in 0..=128u8 {
            let first = u128::MAX.checked_shr(128 - u32::from(n)).unwrap_or(0);
            assert_eq!(ServiceSet::first(n), ServiceSet::from(first), "{n}");
        }
        assert_eq!(ServiceSet::from(set).to_le_bytes(), set.to_le_bytes());
        let other = ServiceSet::from(0xff00u128 | 1 << 127);
        assert_eq!(
            ServiceSet::from(set).minus(other),
            ServiceSet::from(1u128 << 64 | 1)
        );
        assert_eq!(
            ServiceSet::from(set).and(other),
            ServiceSet::from(1u128 << 127 | 0x8000)
        );
    }

    #[test]
    fn choice_set_algebra() {
        let a = Choices {
            categories: 0b011,
            services: ServiceSet::from(0b1),
        };
        let b = Choices {
            categories: 0b001,
            services: ServiceSet::EMPTY,
        };
        assert!(b.is_subset_of(&a));
        assert!(!a.is_subset_of(&b));
        assert_eq!(
            a.minus(&b),
            Choices {
                categories: 0b010,
                services: ServiceSet::from(0b1)
            }
        );
        assert!(b.minus(&a).is_empty());
        assert_eq!(a.categories().map(|c| c.0).collect::<Vec<_>>(), [0, 1]);
    }
}
