//! The decision log's storage: one small trait, two stores.
//!
//! - [`sqlite::SqliteStore`], the embedded default: one file, WAL, created on first start.
//! - [`postgres::PgStore`]: for several application servers sharing one log.
//!
//! Both keep the same append-only, hash-chained table. A store computes each record's chain
//! link inside the transaction that appends it, after locking the chain's head, so concurrent
//! writers (threads or processes) always extend one valid chain. An `append` that returns
//! `Ok` is committed durably (group commit: concurrent appends share one commit).

use core::fmt;
use std::future::Future;

use consent_core::{ConsentId, DecisionRecord, Digest};
use time::OffsetDateTime;

pub mod postgres;
pub mod sqlite;

/// One record of the log as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Position in the chain, from 1, without gaps (except a purged prefix).
    pub seq: u64,
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
}

impl Entry {
    /// The record, parsed; `None` once erased.
    #[must_use]
    pub fn record(&self) -> Option<Result<DecisionRecord, serde_json::Error>> {
        self.record_json.as_deref().map(serde_json::from_str)
    }

    /// Whether the personal fields were erased.
    #[must_use]
    pub fn is_erased(&self) -> bool {
        self.record_json.is_none()
    }
}

/// What statistics need of a record, without anything personal: kept after erasure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// How the decision was given (`accept_all`, ...).
    pub action: String,
    /// The policy revision.
    pub revision: u32,
    /// The ids of the granted categories, comma-separated, in config order.
    pub granted: String,
}

impl Summary {
    /// The summary of a record.
    #[must_use]
    pub fn of(record: &DecisionRecord) -> Self {
        let granted: Vec<&str> = record
            .categories()
            .iter()
            .filter(|c| c.granted)
            .map(|c| c.id.as_str())
            .collect();
        Self {
            action: record.action().as_str().to_owned(),
            revision: record.revision().get(),
            granted: granted.join(","),
        }
    }
}

/// A record made ready to insert by the task that appends it: the JSON, the digest and the
/// summary are computed by the callers, in parallel, so a store's one writer only chains and
/// inserts.
pub(crate) struct Prepared {
    pub(crate) time: i64,
    pub(crate) consent_id: [u8; 16],
    pub(crate) json: String,
    pub(crate) digest: Digest,
    pub(crate) summary: Summary,
}

impl Prepared {
    pub(crate) fn new(record: &DecisionRecord) -> Result<Self, StoreError> {
        Ok(Self {
            time: record.time().unix_timestamp(),
            consent_id: *record.consent_id().as_bytes(),
            json: serde_json::to_string(record).map_err(|e| StoreError::Database(e.to_string()))?,
            digest: record.digest(),
            summary: Summary::of(record),
        })
    }
}

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
    /// The UTC day, `YYYY-MM-DD`.
    pub day: String,
    /// How the decisions were given.
    pub action: String,
    /// The policy revision.
    pub revision: u32,
    /// The granted categories, comma-separated.
    pub granted: String,
    /// How many decisions.
    pub count: u64,
}

/// Why a store could not do what was asked.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The database cannot be reached or opened (a restarted or unreachable PostgreSQL, a
    /// missing directory). Retrying later may succeed.
    Unavailable(String),
    /// The disk or database is full: nothing was written.
    Full,
    /// The stored data is not what this version wrote.
    Corrupt(String),
    /// The store's writer has shut down.
    Closed,
    /// Any other database error.
    Database(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Unavailable(e) => write!(f, "decision log unavailable: {e}"),
            StoreError::Full => f.write_str("decision log: disk full, nothing written"),
            StoreError::Corrupt(e) => write!(f, "decision log corrupt: {e}"),
            StoreError::Closed => f.write_str("decision log is shutting down"),
            StoreError::Database(e) => write!(f, "decision log: {e}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// The decision log's storage.
///
/// Implementations run the same test suite (`server/tests/suite`).
// A log's length is a count of entries; nothing asks whether it is empty.
#[allow(clippy::len_without_is_empty)]
pub trait Store: Send + Sync + 'static {
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

    /// Decisions per day, action, revision and granted categories.
    fn stats(&self) -> impl Future<Output = Result<Vec<StatsRow>, StoreError>> + Send;
}

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

impl Store for AnyStore {
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
