//! Why a store could not do what was asked: the kind of failure, what the store was doing,
//! and the driver's or the system's error as the `source`.

use core::fmt;
use std::error::Error;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::KeyId;

/// Why a store could not do what was asked. Cheap to clone: every append of a failed batch
/// gets the same error.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The database cannot be reached or opened (a restarted or unreachable PostgreSQL, a
    /// missing directory). Retrying later may succeed.
    Unavailable(Cause),
    /// The disk or database is full: nothing was written.
    Full,
    /// The stored data is not what this version wrote.
    Corrupt(Corrupt),
    /// The store's writer has shut down.
    Closed,
    /// Any other database error.
    Database(Cause),
    /// The log's head is not signed under this store's current key: another process rotated
    /// the key (this one must be restarted with the new key file), or the head was edited.
    /// Nothing was written.
    ForeignHead,
    /// The store was opened read-only (by a command that only reads): nothing was written.
    ReadOnly,
    /// A log opened read-only lacks a table or column of this version's schema: it was
    /// written by an older version (which a command that only reads does not upgrade), or it
    /// is no decision log.
    Outdated {
        /// What it lacks (`the kind column of decisions`, `the outbox table`).
        lacks: &'static str,
    },
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Unavailable(c) => write!(f, "decision log unavailable: {c}"),
            StoreError::Full => f.write_str("decision log: disk full, nothing written"),
            StoreError::Corrupt(c) => write!(f, "decision log corrupt: {c}"),
            StoreError::Closed => f.write_str("decision log is shutting down"),
            StoreError::Database(c) => write!(f, "decision log: {c}"),
            StoreError::ForeignHead => f.write_str(
                "decision log: its signed head is not signed under this server's current key: \
                 the key was rotated by another process (restart with the new key file) or the \
                 head was edited; nothing written",
            ),
            StoreError::ReadOnly => {
                f.write_str("decision log: opened read-only by a command that only reads")
            }
            StoreError::Outdated { lacks } => write!(
                f,
                "decision log: it has no {lacks}: it is not a decision log, or one written by an \
                 older version of consent, which a command that only reads does not upgrade; \
                 upgrade it (or a copy of it) by starting `consent serve` on it once"
            ),
        }
    }
}

impl Error for StoreError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            StoreError::Unavailable(c) | StoreError::Database(c) => c.source(),
            StoreError::Corrupt(Corrupt::Driver(c) | Corrupt::Type { cause: c, .. }) => c.source(),
            StoreError::Corrupt(Corrupt::Entry { cause, .. }) => match &**cause {
                Corrupt::Driver(c) | Corrupt::Type { cause: c, .. } => c.source(),
                _ => None,
            },
            _ => None,
        }
    }
}

/// What the store was doing when a database call failed, and the error it got.
#[derive(Clone)]
pub struct Cause {
    doing: Doing,
    source: Option<Arc<dyn Error + Send + Sync>>,
}

impl Cause {
    /// The store was `doing` this and got `source`.
    #[must_use]
    pub fn new(doing: Doing, source: impl Error + Send + Sync + 'static) -> Self {
        Self {
            doing,
            source: Some(Arc::new(source)),
        }
    }

    /// The store was `doing` this, and that is the whole story.
    #[must_use]
    pub fn only(doing: Doing) -> Self {
        Self {
            doing,
            source: None,
        }
    }

    /// What the store was doing.
    #[must_use]
    pub fn doing(&self) -> &Doing {
        &self.doing
    }

    /// The driver's or the system's error.
    #[must_use]
    pub fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.doing, &self.source) {
            (Doing::Query, Some(e)) => e.fmt(f),
            (doing, Some(e)) => write!(f, "{doing}: {e}"),
            (doing, None) => doing.fmt(f),
        }
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cause({self})")
    }
}

/// What the store was doing when it failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Doing {
    /// A database call; the driver's error says which.
    Query,
    /// Opening the SQLite file at this path.
    Open(PathBuf),
    /// Looking for the log at this path, for a command that only reads it and never creates
    /// one.
    Find(PathBuf),
    /// Looking for the log at this path, for a command that changes a log that is there
    /// (erases, purges, rotates the key) but never creates one.
    FindToChange(PathBuf),
    /// Starting the SQLite store's writer thread.
    StartWriter,
    /// Reading the PostgreSQL connection string.
    ConnectionString,
    /// Connecting to PostgreSQL.
    Connect,
    /// Connecting to PostgreSQL, which did not answer in time.
    ConnectTimeout,
    /// Waiting for PostgreSQL, which did not answer within this time.
    Wait(Duration),
    /// Committing a batch, when PostgreSQL did not answer within this time: the batch may or
    /// may not be committed.
    Commit(Duration),
    /// Talking to PostgreSQL over a connection that was lost.
    Connection,
    /// Encoding a record as JSON.
    Encode,
    /// Inserting a batch, of which only some rows went in.
    Insert {
        /// Rows inserted.
        inserted: u64,
        /// Rows in the batch.
        expected: u64,
    },
    /// Storing a record whose revision does not fit the database's column.
    Revision(u32),
    /// Answering a cookie decision, which the writer judged as a marketing one (a bug).
    Judge,
}

impl fmt::Display for Doing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Doing::Query => f.write_str("a database call failed"),
            Doing::Open(path) => write!(f, "{}", path.display()),
            Doing::Find(path) => write!(
                f,
                "no decision log at {} (a read-only command never creates one; check --db or \
                 --data-dir)",
                path.display()
            ),
            Doing::FindToChange(path) => write!(
                f,
                "no decision log at {} (a command that erases, purges or rotates the key changes \
                 a log that is there and never creates one; check --db or --data-dir)",
                path.display()
            ),
            Doing::StartWriter => f.write_str("cannot start the writer thread"),
            Doing::ConnectionString => f.write_str("invalid PostgreSQL connection string"),
            Doing::Connect => f.write_str("cannot connect to PostgreSQL"),
            Doing::ConnectTimeout => f.write_str("cannot connect to PostgreSQL: no answer in time"),
            Doing::Wait(t) => write!(f, "no answer from PostgreSQL in {} s", t.as_secs()),
            Doing::Commit(t) => write!(
                f,
                "no answer from PostgreSQL in {} s; the batch may or may not be committed",
                t.as_secs()
            ),
            Doing::Connection => f.write_str("lost the connection"),
            Doing::Encode => f.write_str("cannot encode a record as JSON"),
            Doing::Insert { inserted, expected } => {
                write!(f, "{inserted} of {expected} rows inserted")
            }
            Doing::Revision(r) => write!(f, "revision {r} out of range"),
            Doing::Judge => f.write_str("a cookie decision was judged as a marketing one"),
        }
    }
}

/// What in the stored data is not what this version wrote.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Corrupt {
    /// A column that is never negative is.
    Negative(&'static str),
    /// A column of fixed length has another.
    Length {
        /// The column.
        column: &'static str,
        /// Its length.
        bytes: usize,
    },
    /// A column holds a name or value this version never writes.
    Unknown {
        /// The column.
        column: &'static str,
        /// What it holds.
        value: String,
    },
    /// A column holds a time or date outside what this version writes.
    Time(&'static str),
    /// A closed request has a closing date without an outcome, or the other way round.
    HalfClosed,
    /// The `chain_head` row is missing.
    HeadMissing,
    /// The `chain_head` row of a keyed log was removed or lost its signature: the store
    /// refuses to sign whatever it finds.
    HeadRemoved,
    /// The log's last record is not the one its signed head names: records were removed,
    /// added or edited at its end by hand. Nothing is appended after them.
    NotAtHead {
        /// The position the signed head names.
        head: u64,
        /// The last position held.
        last: u64,
    },
    /// The purge checkpoint does not verify under the key the log is under: a rotation does
    /// not sign it again.
    CheckpointUnsigned(KeyId),
    /// A key epoch past the database's column.
    Epoch(u32),
    /// The database says so (SQLite's `SQLITE_CORRUPT`, a column of an unexpected type).
    Driver(Cause),
    /// A column holds a value of another type than this version writes there, or text that
    /// is not UTF-8 (SQLite keeps whatever it is given); the driver's error says what.
    Type {
        /// The column.
        column: &'static str,
        /// The driver's error.
        cause: Cause,
    },
    /// The log no longer holds, with its link, the record of the last head this store
    /// signed (or found when it opened): its end was deleted and an older signed head put
    /// back, or rewritten, while it ran. Nothing is appended after it, lest its next head
    /// (and the head file) vouch for the rewritten log.
    RolledBack {
        /// The position of the last head this store signed.
        seq: u64,
    },
    /// A record an erasure would remove is not the one its row says: its content is gone or
    /// unreadable, hashes to another digest, or names another consent id or contact than the
    /// row (edited by hand). Nothing is erased: the erasure would take the evidence with it.
    NotItsOwn {
        /// The record's position in the log.
        seq: i64,
        /// What does not match.
        column: &'static str,
    },
    /// A column of the log's record at `seq` is not what this version writes, so the record
    /// cannot be read (an edit to a value no code path writes).
    Entry {
        /// The record's position in the log.
        seq: i64,
        /// What is wrong with it.
        cause: Box<Corrupt>,
    },
}

impl StoreError {
    /// The same error, said of the log's record at `seq` when it is about what is stored
    /// there, so that `verify` names the record as well as the column.
    pub(crate) fn in_entry(self, seq: i64) -> Self {
        match self {
            StoreError::Corrupt(cause) => StoreError::Corrupt(Corrupt::Entry {
                seq,
                cause: Box::new(cause),
            }),
            other => other,
        }
    }
}

impl fmt::Display for Corrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Corrupt::Negative(column) => write!(f, "negative {column}"),
            Corrupt::Length { column, bytes } => write!(f, "{column} of {bytes} bytes"),
            Corrupt::Unknown { column, value } => write!(f, "unknown {column} {value:?}"),
            Corrupt::Time(column) => write!(f, "{column}: not a time this version writes"),
            Corrupt::HalfClosed => f.write_str("a request closed without an outcome or a date"),
            Corrupt::HeadMissing => f.write_str("the chain_head row is missing"),
            Corrupt::HeadRemoved => f.write_str(
                "the chain_head row is missing from a keyed log, or lost its signature: it was \
                 removed or edited",
            ),
            Corrupt::NotAtHead { head, last } => write!(
                f,
                "the log's last record ({last}) is not the one its signed head names ({head}): \
                 records were removed, added or edited at its end by hand; nothing is appended \
                 after them (run `consent verify`)"
            ),
            Corrupt::CheckpointUnsigned(key) => write!(
                f,
                "the purge checkpoint is not signed under key {key} that the log is under: not \
                 rotating a log whose checkpoint does not verify"
            ),
            Corrupt::Epoch(epoch) => write!(f, "key epoch {epoch} past the revision column"),
            Corrupt::Driver(c) => c.fmt(f),
            Corrupt::Type { column, cause } => write!(f, "{column}: {cause}"),
            Corrupt::RolledBack { seq } => write!(
                f,
                "the log no longer holds record {seq} as this server signed it: its end was \
                 deleted or rewritten, or an older copy put back, while the server ran; nothing \
                 is appended after it (run `consent verify`)"
            ),
            Corrupt::NotItsOwn { seq, column } => write!(
                f,
                "record {seq}: its {column} does not match the row (edited by hand): nothing was \
                 erased, since the erasure would remove the evidence; run `consent verify`"
            ),
            Corrupt::Entry { seq, cause } => write!(f, "record {seq}: {cause}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_failed_and_keep_the_cause() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = StoreError::Unavailable(Cause::new(Doing::Open("/x/consent.db".into()), io));
        assert_eq!(
            e.to_string(),
            "decision log unavailable: /x/consent.db: no such file"
        );
        assert!(e.source().is_some_and(|s| s.is::<std::io::Error>()));
        let copy = e.clone();
        assert_eq!(copy.to_string(), e.to_string());
        let e = StoreError::Corrupt(Corrupt::Length {
            column: "digest",
            bytes: 31,
        });
        assert_eq!(e.to_string(), "decision log corrupt: digest of 31 bytes");
        let e = StoreError::Database(Cause::only(Doing::Insert {
            inserted: 2,
            expected: 3,
        }));
        assert_eq!(e.to_string(), "decision log: 2 of 3 rows inserted");
        assert!(e.source().is_none());
    }
}
