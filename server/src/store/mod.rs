//! The decision log's storage: three small traits (the log, the register, the requests), two
//! stores.
//!
//! - [`sqlite::SqliteStore`], the embedded default: one file, WAL, created on first start.
//! - [`postgres::PgStore`]: for several application servers sharing one log.
//!
//! Both keep the same append-only chained table. A store computes each record's chain link
//! inside the transaction that appends it, after locking the chain's head, so concurrent
//! writers (threads or processes) always extend one valid chain, and signs the new head in the
//! same transaction ([`chain`] holds the rules). An `append` that returns `Ok` is committed
//! durably (group commit: concurrent appends share one commit).

use std::future::Future;

use consent_core::register::{ContactHash, MarketingChannel, MarketingRecord, MarketingStatus};
use consent_core::{CategoryId, ConsentId, DecisionRecord, Digest, Method};

use crate::register::outbox::Message;
use crate::register::requests::Request;
use time::{Date, OffsetDateTime};

pub mod backup;
mod batch;
pub mod chain;
pub mod erasure;
pub mod error;
pub mod postgres;
pub mod rotation;
pub mod sqlite;
mod summary;

pub use chain::{LogKey, LogKeys, SignedHead};
pub use error::{Cause, Corrupt, Doing, StoreError};
pub use rotation::KeyId;
pub use summary::{Summary, SummaryColumns};

/// What a log entry records: the log holds cookie decisions and marketing decisions in one
/// chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// A cookie banner decision ([`DecisionRecord`]).
    Cookie,
    /// A direct-marketing decision of the customer register ([`MarketingRecord`]).
    Marketing,
    /// An erasure: which records' content was removed, and why ([`erasure::Erasure`]).
    Erasure,
    /// A key rotation: the key the log was under hands it to the next
    /// ([`rotation::Rotation`]).
    Rotation,
}

impl EntryKind {
    /// The name stored in the `kind` column.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            EntryKind::Cookie => "cookie",
            EntryKind::Marketing => "marketing",
            EntryKind::Erasure => "erasure",
            EntryKind::Rotation => "rotation",
        }
    }

    /// The kind of a stored name.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] for a name this version never wrote.
    pub fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "cookie" => Ok(EntryKind::Cookie),
            "marketing" => Ok(EntryKind::Marketing),
            "erasure" => Ok(EntryKind::Erasure),
            "rotation" => Ok(EntryKind::Rotation),
            other => Err(StoreError::Corrupt(Corrupt::Unknown {
                column: "entry kind",
                value: other.to_owned(),
            })),
        }
    }
}

/// One record of the log as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Position in the chain, from 1, without gaps (except a purged prefix).
    pub seq: u64,
    /// Whether a cookie or a marketing decision.
    pub kind: EntryKind,
    /// When the server appended it (UTC, whole seconds).
    pub time: OffsetDateTime,
    /// [`DecisionRecord::digest`] of the record.
    pub digest: Digest,
    /// The chain link after this record: `chain_link(previous link, digest)`.
    pub link: Digest,
    /// The record as JSON; `None` once erased.
    pub record_json: Option<String>,
    /// The non-personal summary kept after erasure, for statistics.
    pub summary: Summary,
    /// The `consent_id` column (a cookie decision's, until erased): what an access request
    /// finds the record by.
    pub consent_id: Option<ConsentId>,
    /// The `contact` column (a marketing decision's keyed contact hash, until erased).
    pub contact: Option<ContactHash>,
}

impl Entry {
    /// The cookie decision, parsed; `None` once erased or for a marketing entry.
    #[must_use]
    pub fn record(&self) -> Option<Result<DecisionRecord, serde_json::Error>> {
        match self.kind {
            EntryKind::Cookie => self.record_json.as_deref().map(serde_json::from_str),
            EntryKind::Marketing | EntryKind::Erasure | EntryKind::Rotation => None,
        }
    }

    /// The marketing decision, parsed; `None` once erased or for a cookie entry.
    #[must_use]
    pub fn marketing_record(&self) -> Option<Result<MarketingRecord, serde_json::Error>> {
        match self.kind {
            EntryKind::Marketing => self.record_json.as_deref().map(serde_json::from_str),
            EntryKind::Cookie | EntryKind::Erasure | EntryKind::Rotation => None,
        }
    }

    /// The digest the entry's record hashes to now, or `None` once erased.
    ///
    /// # Errors
    /// The JSON error when the stored record is not readable as its kind.
    pub fn recomputed_digest(&self) -> Option<Result<Digest, serde_json::Error>> {
        match self.kind {
            EntryKind::Cookie => self.record().map(|r| r.map(|r| r.digest())),
            EntryKind::Marketing => self.marketing_record().map(|r| r.map(|r| r.digest())),
            EntryKind::Erasure => self.record_json.as_deref().map(|json| {
                serde_json::from_str::<erasure::Erasure>(json)
                    .map(|_| erasure::Erasure::digest_of(json))
            }),
            EntryKind::Rotation => self.record_json.as_deref().map(|json| {
                serde_json::from_str::<rotation::Rotation>(json)
                    .map(|_| rotation::Rotation::digest_of(json))
            }),
        }
    }

    /// The erasure an erasure entry records; `None` for the other kinds (or once its content
    /// is gone, which `verify` reports).
    #[must_use]
    pub fn erasure(&self) -> Option<Result<erasure::Erasure, serde_json::Error>> {
        match self.kind {
            EntryKind::Erasure => self.record_json.as_deref().map(serde_json::from_str),
            EntryKind::Cookie | EntryKind::Marketing | EntryKind::Rotation => None,
        }
    }

    /// The rotation a rotation entry records; `None` for the other kinds (or once its content
    /// is gone, which `verify` reports).
    #[must_use]
    pub fn rotation(&self) -> Option<Result<rotation::Rotation, serde_json::Error>> {
        match self.kind {
            EntryKind::Rotation => self.record_json.as_deref().map(serde_json::from_str),
            EntryKind::Cookie | EntryKind::Marketing | EntryKind::Erasure => None,
        }
    }

    /// Whether the personal fields were erased.
    #[must_use]
    pub fn is_erased(&self) -> bool {
        self.record_json.is_none()
    }

    /// The columns its chain link covers, with its summary's `columns` (printed by the caller,
    /// which keeps them while it links).
    #[must_use]
    pub fn linked<'a>(&'a self, columns: &'a SummaryColumns) -> chain::Linked<'a> {
        chain::Linked {
            seq: self.seq,
            kind: self.kind,
            time: self.time.unix_timestamp(),
            digest: &self.digest,
            summary: columns,
        }
    }
}

/// A record made ready to insert by the task that appends it: the JSON, the digest and the
/// summary are computed by the callers, in parallel, so a store's one writer only chains and
/// inserts.
pub(crate) struct Prepared {
    pub(crate) time: i64,
    pub(crate) consent_id: Option<[u8; 16]>,
    pub(crate) json: String,
    pub(crate) digest: Digest,
    pub(crate) summary: SummaryColumns,
    pub(crate) marketing: Option<MarketingIndex>,
    pub(crate) kind: EntryKind,
}

/// What the writer needs of a marketing decision to check and update the latest state.
pub(crate) struct MarketingIndex {
    pub(crate) contact: [u8; 33],
    pub(crate) channel: MarketingChannel,
    pub(crate) kind: consent_core::register::MarketingKind,
}

impl Prepared {
    pub(crate) fn new(record: &DecisionRecord) -> Result<Self, StoreError> {
        Ok(Self {
            time: record.time().unix_timestamp(),
            consent_id: Some(*record.consent_id().as_bytes()),
            json: to_json(record)?,
            digest: record.digest(),
            summary: Summary::of(record).columns(),
            marketing: None,
            kind: EntryKind::Cookie,
        })
    }

    /// A marketing decision, with [`Summary::of_marketing`].
    pub(crate) fn marketing(record: &MarketingRecord) -> Result<Self, StoreError> {
        Ok(Self {
            time: record.time().unix_timestamp(),
            consent_id: None,
            json: to_json(record)?,
            digest: record.digest(),
            summary: Summary::of_marketing(record).columns(),
            marketing: Some(MarketingIndex {
                contact: record.contact().to_bytes(),
                channel: record.channel(),
                kind: record.kind(),
            }),
            kind: EntryKind::Marketing,
        })
    }

    pub(crate) fn kind(&self) -> EntryKind {
        self.kind
    }

    pub(crate) fn contact(&self) -> Option<&[u8]> {
        self.marketing.as_ref().map(|m| &m.contact[..])
    }

    /// The columns its link covers, at position `seq`.
    pub(crate) fn linked(&self, seq: u64) -> chain::Linked<'_> {
        chain::Linked {
            seq,
            kind: self.kind(),
            time: self.time,
            digest: &self.digest,
            summary: &self.summary,
        }
    }
}

/// A row of the `marketing_state` table, as stored: what `verify` checks against the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateRow {
    /// The keyed contact hash, as stored.
    pub contact: Vec<u8>,
    /// The channel, as stored.
    pub channel: String,
    /// The status, as stored.
    pub status: String,
    /// Since when (unix seconds).
    pub since: i64,
    /// When the latest decision was made (unix seconds).
    pub latest: i64,
    /// The position of the latest decision.
    pub seq: i64,
}

/// The error of a record that cannot be encoded as JSON.
pub(crate) fn encode(e: serde_json::Error) -> StoreError {
    StoreError::Database(Cause::new(Doing::Encode, e))
}

/// A record as JSON, encoded into a buffer the calling thread keeps: `serde_json::to_string`
/// grows its string from 128 bytes, three reallocations for a 600-byte record, the last of
/// them a 1 kB request, large enough to make glibc's malloc consolidate its free lists (a
/// third of the callers' CPU time in a profile). This makes one allocation of the exact size
/// instead.
fn to_json<T: serde::Serialize>(record: &T) -> Result<String, StoreError> {
    thread_local! {
        static BUFFER: core::cell::RefCell<Vec<u8>> = const { core::cell::RefCell::new(Vec::new()) };
    }
    BUFFER.with_borrow_mut(|buffer| {
        buffer.clear();
        serde_json::to_writer(&mut *buffer, record).map_err(encode)?;
        let json = core::str::from_utf8(buffer)
            .map(str::to_owned)
            .map_err(|e| StoreError::Database(Cause::new(Doing::Encode, e)));
        // A record is a few hundred bytes; do not keep an odd large one's buffer for good.
        if buffer.capacity() > 64 * 1024 {
            *buffer = Vec::new();
        }
        json
    })
}

/// Where a marketing decision stands for its contact and channel, as the `marketing_state`
/// table keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LatestState {
    pub(crate) status: MarketingStatus,
    /// When the decision that set the status was made.
    pub(crate) since: i64,
    /// When the latest decision was made: older ones are out of order.
    pub(crate) latest: i64,
}

impl LatestState {
    /// The state after `p` (a marketing decision) from `before`, or why it cannot be appended.
    pub(crate) fn after(
        before: Option<LatestState>,
        p: &Prepared,
        m: &MarketingIndex,
    ) -> Result<LatestState, MarketingAppend> {
        if let Some(b) = before {
            if p.time < b.latest {
                return Err(MarketingAppend::OutOfOrder {
                    latest: OffsetDateTime::from_unix_timestamp(b.latest)
                        .unwrap_or(OffsetDateTime::UNIX_EPOCH),
                });
            }
        }
        let status = MarketingStatus::after(before.map(|b| b.status), m.kind);
        let since = match before {
            Some(b) if b.status == status => b.since,
            _ => p.time,
        };
        Ok(LatestState {
            status,
            since,
            latest: p.time,
        })
    }

    pub(crate) fn parse(status: &str, since: i64, latest: i64) -> Result<Self, StoreError> {
        Ok(Self {
            status: status.parse().map_err(|_| {
                StoreError::Corrupt(Corrupt::Unknown {
                    column: "marketing status",
                    value: status.to_owned(),
                })
            })?,
            since,
            latest,
        })
    }

    pub(crate) fn answer(&self) -> Result<(MarketingStatus, OffsetDateTime), StoreError> {
        let since = OffsetDateTime::from_unix_timestamp(self.since)
            .map_err(|_| StoreError::Corrupt(Corrupt::Time("since")))?;
        Ok((self.status, since))
    }
}

/// What became of a marketing decision sent to the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MarketingAppend {
    /// Appended to the chain.
    Stored(Appended),
    /// The very same record is already in the log at this position: nothing was stored.
    Duplicate {
        /// Where the first copy is.
        seq: u64,
    },
    /// The log already holds a later decision for this contact and channel: nothing was
    /// stored. Decisions are recorded in the order they were made.
    OutOfOrder {
        /// When the latest decision held was made.
        latest: OffsetDateTime,
    },
    /// The append's condition ([`NothingLater`]) does not hold: the log holds a decision for
    /// this contact, on a channel the condition names, after the position it names. Nothing
    /// was stored.
    Superseded {
        /// The position of that decision.
        seq: u64,
    },
}

impl MarketingAppend {
    /// Whether the record was refused (out of order, or its condition broken): what makes a
    /// conditional append of several records store none of them.
    pub(crate) fn is_refusal(&self) -> bool {
        match self {
            MarketingAppend::Stored(_) | MarketingAppend::Duplicate { .. } => false,
            MarketingAppend::OutOfOrder { .. } | MarketingAppend::Superseded { .. } => true,
        }
    }
}

/// The condition of a conditional marketing append ([`Register::append_marketing_if`]): the
/// log holds no decision for the records' contact on any of `channels` after position
/// `after`.
///
/// A confirmed sign-up's consents carry it, so that a refusal recorded after the sign-up
/// stands even when it reaches the log while the confirmation is under way. The writer judges
/// it in the transaction that would append the records, before any of them, by the position
/// of each channel's latest decision (`marketing_state.seq`, or the batch's own decision
/// before it), which `verify` checks is the last one in the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NothingLater {
    /// The log position the caller read (the chain's head at the sign-up).
    pub after: u64,
    /// The channels whose decisions count.
    pub channels: Vec<MarketingChannel>,
}

impl NothingLater {
    /// The refusal when the latest decision on one of the channels, at `seq`, came after
    /// [`after`](Self::after).
    pub(crate) fn broken_by(&self, seq: i64) -> Option<MarketingAppend> {
        u64::try_from(seq)
            .ok()
            .filter(|&seq| seq > self.after)
            .map(|seq| MarketingAppend::Superseded { seq })
    }
}

/// A contact's latest state on a channel: the status and since when.
pub type MarketingState = Option<(MarketingStatus, OffsetDateTime)>;

/// Where an append landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    /// The record's position.
    pub seq: u64,
    /// The chain link after it.
    pub link: Digest,
}

/// The signed summary of a purged prefix of the log, so the rest still verifies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The last purged position.
    pub seq: u64,
    /// The chain link after it: the next record's previous link.
    pub link: Digest,
    /// How many records were purged in all.
    pub purged: u64,
    /// When the last purge ran.
    pub time: OffsetDateTime,
    /// HMAC-SHA-256 of the above under the server key ([`crate::ServerKey::checkpoint_mac`]).
    pub mac: [u8; 32],
}

/// A row of the statistics: how many decisions of one kind on one day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatsRow {
    /// The UTC day.
    pub day: Date,
    /// How the decisions were given.
    pub action: Method,
    /// The policy revision.
    pub revision: u32,
    /// The granted categories, in config order.
    pub granted: Vec<CategoryId>,
    /// How many decisions.
    pub count: u64,
}

impl StatsRow {
    /// A row from the columns both stores' statistics queries give: the day as `YYYY-MM-DD`,
    /// the summary's `action`, `revision` and `granted` (comma-separated), and the count.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] for a column this version never writes.
    pub(crate) fn from_columns(
        day: &str,
        action: &str,
        revision: u32,
        granted: &str,
        count: i64,
    ) -> Result<Self, StoreError> {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let (action, granted) = summary::cookie(action, granted)?;
        Ok(Self {
            day: Date::parse(day, &format).map_err(|_| {
                StoreError::Corrupt(Corrupt::Unknown {
                    column: "day",
                    value: day.to_owned(),
                })
            })?,
            action,
            revision,
            granted,
            count: u64::try_from(count)
                .map_err(|_| StoreError::Corrupt(Corrupt::Negative("count")))?,
        })
    }
}

/// The decision log: the chain of cookie decisions (and of every other entry), read, erased,
/// purged and counted.
// A log's length is a count of entries; nothing asks whether it is empty.
#[allow(clippy::len_without_is_empty)]
pub trait Log: Send + Sync + 'static {
    /// Appends a record at the head of the chain. `Ok` means committed durably.
    fn append(
        &self,
        record: DecisionRecord,
    ) -> impl Future<Output = Result<Appended, StoreError>> + Send;

    /// Every record of a consent id, oldest first (erased ones have no id any more).
    fn records_for(
        &self,
        id: ConsentId,
    ) -> impl Future<Output = Result<Vec<Entry>, StoreError>> + Send;

    /// Removes the personal fields of every record of a consent id, keeping digests and
    /// links so the chain still verifies. Returns how many records were erased.
    fn erase(&self, id: ConsentId) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Up to `limit` entries after position `after`, in order.
    fn scan(
        &self,
        after: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Entry>, StoreError>> + Send;

    /// How many entries the log holds now.
    fn len(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// The lowest position a row holds, as stored: a row written by hand may hold 0 or less,
    /// or a position of the purged prefix, where no walk from the checkpoint looks. `None`
    /// when the log holds no rows.
    fn lowest(&self) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send;

    /// The signed head kept in the database's `chain_head` row, as stored (`None` when the
    /// row is missing or was never signed).
    fn chain_head(&self) -> impl Future<Output = Result<Option<SignedHead>, StoreError>> + Send;

    /// Checks, in one snapshot, that the log ends where its signed head (the `chain_head` row)
    /// says: at the head's record with the head's link, or at the purge checkpoint when
    /// everything was purged. A writer extends the chain only from there, so a server checks
    /// it before it starts.
    ///
    /// # Errors
    /// [`Corrupt::NotAtHead`] when records were removed, added or edited at the end by hand;
    /// [`Corrupt::HeadMissing`] when the log has no signed head; the store's error when it
    /// cannot be read.
    fn check_end(&self) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The heads this store signs, the latest first: one after each committed batch. For
    /// keeping a copy outside the database ([`chain::keep_head_file`]).
    fn heads(&self) -> tokio::sync::watch::Receiver<Option<SignedHead>>;

    /// The checkpoint of the purged prefix, if anything was purged.
    fn checkpoint(&self) -> impl Future<Output = Result<Option<Checkpoint>, StoreError>> + Send;

    /// Deletes the longest prefix of entries appended before `before` and records a
    /// checkpoint signed by `sign` (given seq, link and total purged). Returns how many
    /// entries were deleted.
    fn purge(
        &self,
        before: OffsetDateTime,
        sign: &(dyn Fn(u64, &Digest, u64) -> [u8; 32] + Sync),
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Decisions per day, action, revision and granted categories (cookie decisions only).
    fn stats(&self) -> impl Future<Output = Result<Vec<StatsRow>, StoreError>> + Send;
}

/// The customer register's part of the log: marketing decisions in the same chain, and each
/// contact's latest state per channel beside it.
pub trait Register: Send + Sync + 'static {
    /// Appends a marketing decision to the same chain, in the same transaction updating the
    /// contact's latest state on its channel. The very same record sent twice is stored once
    /// ([`MarketingAppend::Duplicate`]); a decision made before the latest one held for its
    /// contact and channel is refused ([`MarketingAppend::OutOfOrder`]).
    fn append_marketing(
        &self,
        record: MarketingRecord,
    ) -> impl Future<Output = Result<MarketingAppend, StoreError>> + Send;

    /// Appends `records` (a confirmed sign-up's consents, one per channel) in one
    /// transaction, all or none, if `condition` holds for each record's contact, judged in
    /// that transaction before any of them is appended. One answer per record, in order:
    ///
    /// 1. When the condition does not hold, nothing is stored and every record answers
    ///    [`MarketingAppend::Superseded`] (before a duplicate: a first copy appended after
    ///    the condition's position breaks it).
    /// 2. Otherwise each record is judged as by [`append_marketing`](Self::append_marketing),
    ///    after the ones before it. When one is refused ([`MarketingAppend::OutOfOrder`]),
    ///    the ones before it are taken back out of the transaction, nothing is stored, and
    ///    every record answers that refusal.
    /// 3. Else each record answers [`MarketingAppend::Stored`] (at consecutive positions
    ///    but for duplicates) or [`MarketingAppend::Duplicate`].
    ///
    /// No records, no answers.
    fn append_marketing_if(
        &self,
        records: Vec<MarketingRecord>,
        condition: NothingLater,
    ) -> impl Future<Output = Result<Vec<MarketingAppend>, StoreError>> + Send;

    /// Every marketing entry of a contact, oldest first (erased ones have no contact any more).
    fn contact_records(
        &self,
        contact: ContactHash,
    ) -> impl Future<Output = Result<Vec<Entry>, StoreError>> + Send;

    /// Removes the record and the contact of every marketing entry of `contact` before
    /// position `before` except suppressions, keeping digests and links so the chain still
    /// verifies, and leaving the latest-state table alone (the caller appends suppressions
    /// first). Returns how many entries were erased.
    fn erase_contact(
        &self,
        contact: ContactHash,
        before: u64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// The latest state of each contact on `channel`, in the order given: what `may_market`
    /// and the bulk list check read. One lookup per contact in an index, not a scan of the log.
    fn marketing_states(
        &self,
        channel: MarketingChannel,
        contacts: Vec<ContactHash>,
    ) -> impl Future<Output = Result<Vec<MarketingState>, StoreError>> + Send;

    /// Every row of the `marketing_state` table, for `verify`.
    fn state_rows(&self) -> impl Future<Output = Result<Vec<StateRow>, StoreError>> + Send;

    /// Leaves a confirmation message for the site's mailer in the `outbox` table (outside the
    /// chain; [`crate::register::outbox`] has the rules): first deletes the messages expired
    /// at `now`, then, past [`CAPACITY`](crate::register::outbox::CAPACITY), the oldest.
    /// The message's `id` is ignored; returns the one it gets (ids are never reused).
    fn outbox_push(
        &self,
        message: Message,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Takes a turn of `contact`'s budget of confirmation messages at `now`
    /// ([`crate::register::outbox`], rule 5, in the `outbox_budget` table): `true`, and the
    /// turn counted, while [`MESSAGES_PER_CONTACT`](crate::register::outbox::MESSAGES_PER_CONTACT)
    /// are left or one came back ([`MESSAGE_EVERY`](crate::register::outbox::MESSAGE_EVERY));
    /// `false`, and nothing counted, when none is left. Read and moved in one statement, so
    /// several servers on one database share the count. First forgets the contacts whose
    /// budget is whole at `now`, then, past [`COUNTED`](crate::register::outbox::COUNTED),
    /// those nearest whole.
    fn outbox_turn(
        &self,
        contact: ContactHash,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The messages whose links still hold at `now`, oldest first, removed from the outbox in
    /// the same statement unless `peek` (so each is taken once, whoever else is taking); the
    /// expired ones are deleted.
    fn outbox_take(
        &self,
        now: OffsetDateTime,
        peek: bool,
    ) -> impl Future<Output = Result<Vec<Message>, StoreError>> + Send;

    /// Removes one message (the mailer sent it); `false` when no message has that id.
    fn outbox_remove(&self, id: u64) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Removes every message to `to` (a contact being erased, normalised as
    /// [`Contact::as_str`](consent_core::register::Contact::as_str) writes it); how many.
    fn outbox_forget(&self, to: &str) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// The data-subject requests (outside the chain: DESIGN.md says why).
pub trait Requests: Send + Sync + 'static {
    /// Stores a new data-subject request (its `id` is ignored) and returns its number.
    fn insert_request(
        &self,
        request: Request,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// A request by number.
    fn request(&self, id: u64) -> impl Future<Output = Result<Option<Request>, StoreError>> + Send;

    /// Replaces a stored request; `false` when no request has its number.
    fn save_request(
        &self,
        request: Request,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Every request (or only the open ones), oldest first.
    fn requests(
        &self,
        open_only: bool,
    ) -> impl Future<Output = Result<Vec<Request>, StoreError>> + Send;
}

/// The decision log's storage: the log, the customer register and the data-subject requests,
/// each a trait of its own ([`Log`], [`Register`], [`Requests`]), implemented by both stores.
/// Code that needs all three names this one; every type with the three has it.
///
/// Implementations run the same test suite (`server/tests/suite`).
pub trait Store: Log + Register + Requests {}

impl<T: Log + Register + Requests> Store for T {}

/// Either store, chosen at run time (the `consent` command's `--db` or `--postgres`).
#[derive(Debug, Clone)]
pub enum AnyStore {
    /// The embedded SQLite log.
    Sqlite(sqlite::SqliteStore),
    /// A PostgreSQL log shared by several servers.
    Postgres(postgres::PgStore),
}

macro_rules! delegate {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            AnyStore::Sqlite($s) => $call.await,
            AnyStore::Postgres($s) => $call.await,
        }
    };
}

impl Log for AnyStore {
    async fn append(&self, record: DecisionRecord) -> Result<Appended, StoreError> {
        delegate!(self, s => s.append(record))
    }
    async fn records_for(&self, id: ConsentId) -> Result<Vec<Entry>, StoreError> {
        delegate!(self, s => s.records_for(id))
    }
    async fn erase(&self, id: ConsentId) -> Result<u64, StoreError> {
        delegate!(self, s => s.erase(id))
    }
    async fn scan(&self, after: u64, limit: usize) -> Result<Vec<Entry>, StoreError> {
        delegate!(self, s => s.scan(after, limit))
    }
    async fn len(&self) -> Result<u64, StoreError> {
        delegate!(self, s => s.len())
    }
    async fn lowest(&self) -> Result<Option<i64>, StoreError> {
        delegate!(self, s => s.lowest())
    }
    async fn chain_head(&self) -> Result<Option<SignedHead>, StoreError> {
        delegate!(self, s => s.chain_head())
    }
    async fn check_end(&self) -> Result<(), StoreError> {
        delegate!(self, s => s.check_end())
    }
    fn heads(&self) -> tokio::sync::watch::Receiver<Option<SignedHead>> {
        match self {
            AnyStore::Sqlite(s) => s.heads(),
            AnyStore::Postgres(s) => s.heads(),
        }
    }
    async fn checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        delegate!(self, s => s.checkpoint())
    }
    async fn purge(
        &self,
        before: OffsetDateTime,
        sign: &(dyn Fn(u64, &Digest, u64) -> [u8; 32] + Sync),
    ) -> Result<u64, StoreError> {
        delegate!(self, s => s.purge(before, sign))
    }
    async fn stats(&self) -> Result<Vec<StatsRow>, StoreError> {
        delegate!(self, s => s.stats())
    }
}

impl Register for AnyStore {
    async fn state_rows(&self) -> Result<Vec<StateRow>, StoreError> {
        delegate!(self, s => s.state_rows())
    }
    async fn append_marketing(
        &self,
        record: MarketingRecord,
    ) -> Result<MarketingAppend, StoreError> {
        delegate!(self, s => s.append_marketing(record))
    }
    async fn append_marketing_if(
        &self,
        records: Vec<MarketingRecord>,
        condition: NothingLater,
    ) -> Result<Vec<MarketingAppend>, StoreError> {
        delegate!(self, s => s.append_marketing_if(records, condition))
    }
    async fn contact_records(&self, contact: ContactHash) -> Result<Vec<Entry>, StoreError> {
        delegate!(self, s => s.contact_records(contact))
    }
    async fn marketing_states(
        &self,
        channel: MarketingChannel,
        contacts: Vec<ContactHash>,
    ) -> Result<Vec<MarketingState>, StoreError> {
        delegate!(self, s => s.marketing_states(channel, contacts))
    }
    async fn erase_contact(&self, contact: ContactHash, before: u64) -> Result<u64, StoreError> {
        delegate!(self, s => s.erase_contact(contact, before))
    }
    async fn outbox_push(&self, message: Message, now: OffsetDateTime) -> Result<u64, StoreError> {
        delegate!(self, s => s.outbox_push(message, now))
    }
    async fn outbox_turn(
        &self,
        contact: ContactHash,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        delegate!(self, s => s.outbox_turn(contact, now))
    }
    async fn outbox_take(
        &self,
        now: OffsetDateTime,
        peek: bool,
    ) -> Result<Vec<Message>, StoreError> {
        delegate!(self, s => s.outbox_take(now, peek))
    }
    async fn outbox_remove(&self, id: u64) -> Result<bool, StoreError> {
        delegate!(self, s => s.outbox_remove(id))
    }
    async fn outbox_forget(&self, to: &str) -> Result<u64, StoreError> {
        delegate!(self, s => s.outbox_forget(to))
    }
}

impl Requests for AnyStore {
    async fn insert_request(&self, request: Request) -> Result<u64, StoreError> {
        delegate!(self, s => s.insert_request(request))
    }
    async fn request(&self, id: u64) -> Result<Option<Request>, StoreError> {
        delegate!(self, s => s.request(id))
    }
    async fn save_request(&self, request: Request) -> Result<bool, StoreError> {
        delegate!(self, s => s.save_request(request))
    }
    async fn requests(&self, open_only: bool) -> Result<Vec<Request>, StoreError> {
        delegate!(self, s => s.requests(open_only))
    }
}

/// The answer for a cookie append: only [`MarketingAppend::Stored`] can come back for one.
pub(crate) fn stored(landed: MarketingAppend) -> Result<Appended, StoreError> {
    match landed {
        MarketingAppend::Stored(a) => Ok(a),
        MarketingAppend::Duplicate { .. }
        | MarketingAppend::OutOfOrder { .. }
        | MarketingAppend::Superseded { .. } => {
            Err(StoreError::Database(Cause::only(Doing::Judge)))
        }
    }
}

/// An outbox row as both stores read it (`id, recipient, link, expires`).
pub(crate) fn outbox_message(
    id: i64,
    to: String,
    link: String,
    expires: i64,
) -> Result<Message, StoreError> {
    Ok(Message {
        id: u64::try_from(id).map_err(|_| StoreError::Corrupt(Corrupt::Negative("outbox id")))?,
        to,
        link,
        expires: OffsetDateTime::from_unix_timestamp(expires)
            .map_err(|_| StoreError::Corrupt(Corrupt::Time("outbox expires")))?,
    })
}

/// The columns of a request row, in the order both stores read and write them.
pub(crate) const REQUEST_COLUMNS: &str =
    "id, kind, subject, received, extended, identity, staff, outcome, closed";

/// A request's text columns (all but `id` and `extended`), as stored.
pub(crate) fn request_texts(r: &Request) -> [Option<String>; 7] {
    [
        Some(r.kind.as_str().to_owned()),
        Some(r.subject.to_string()),
        Some(r.received.to_string()),
        Some(r.identity.as_str().to_owned()),
        Some(r.staff.as_str().to_owned()),
        r.closed.map(|(o, _)| o.as_str().to_owned()),
        r.closed.map(|(_, d)| d.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepared_holds_what_serde_json_writes_and_the_granted_ids_in_order() {
        let config = consent_core::Config::from_json(consent_core::EXAMPLE_CONFIG).unwrap();
        let state = consent_core::doc_state();
        let record = DecisionRecord::new(&config, &state, None, consent_core::Channel::Banner);
        for _ in 0..2 {
            let p = Prepared::new(&record).unwrap();
            assert_eq!(p.json, serde_json::to_string(&record).unwrap());
            let granted: Vec<&str> = record
                .categories()
                .iter()
                .filter(|c| c.granted)
                .map(|c| c.id.as_str())
                .collect();
            assert_eq!(p.summary.granted, granted.join(","));
        }
    }
}
