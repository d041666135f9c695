//! The embedded store: one SQLite file in WAL mode, with group commit.
//!
//! Appends go to one writer thread, which takes the appends waiting (up to [`MAX_BATCH`];
//! the `batch` module, written once for both stores, says how many) into one
//! `BEGIN IMMEDIATE` transaction and commits it with `synchronous = FULL`, so each
//! acknowledged record is on disk, and one fsync serves many. `BEGIN IMMEDIATE` also serialises writers in other
//! processes on the same file: each batch reads the chain's head inside its own write lock.
//!
//! The callers encode, digest and summarise their records before handing them over, and a
//! committed batch is answered from the runtime the store was opened in, so the writer
//! thread, the serial part of every append, only chains, inserts and commits.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use consent_core::{ConsentId, DecisionRecord, Digest, chain_link};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio::sync::watch;

use consent_core::register::{ContactHash, MarketingChannel, MarketingRecord};

use super::batch::{Appends, Batches, Job, Settled, submit_marketing, submit_one};
use super::chain::{Signer, catch_up, ends_at, holds};
use super::erasure::{Erasure, Whose};
use super::error::{Cause, Corrupt, Doing};
use super::{
    Appended, Checkpoint, Entry, EntryKind, LatestState, Log, LogKeys, MarketingAppend,
    MarketingState, NothingLater, Prepared, REQUEST_COLUMNS, Register, Requests, SignedHead,
    StateRow, StatsRow, StoreError, Summary, SummaryColumns, outbox_message, request_texts, stored,
};
use crate::register::outbox::{Budget, CAPACITY, COUNTED, Message};
use crate::register::requests::{RawRequest, Request};

/// The most appends committed together.
pub const MAX_BATCH: usize = 1024;

/// How much of the database file the reader maps into memory (SQLite's `mmap_size`).
const READER_MMAP: i64 = 1 << 30;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS decisions (
    seq         INTEGER PRIMARY KEY,
    time        INTEGER NOT NULL,
    consent_id  BLOB,
    record      TEXT,
    digest      BLOB NOT NULL,
    link        BLOB NOT NULL,
    action      TEXT NOT NULL,
    revision    INTEGER NOT NULL,
    granted     TEXT NOT NULL,
    kind        TEXT NOT NULL DEFAULT 'cookie',
    contact     BLOB
);
CREATE INDEX IF NOT EXISTS decisions_consent_id ON decisions (consent_id);
CREATE TABLE IF NOT EXISTS checkpoint (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    seq     INTEGER NOT NULL,
    link    BLOB NOT NULL,
    purged  INTEGER NOT NULL,
    time    INTEGER NOT NULL,
    mac     BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS chain_head (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    seq        INTEGER NOT NULL,
    link       BLOB NOT NULL,
    time       INTEGER NOT NULL,
    keyed_from INTEGER NOT NULL,
    mac        BLOB NOT NULL
);
";

/// The customer register's part, after [`migrate`] gave an older log its columns.
/// `marketing_state` is each contact's latest state per channel, updated in the transaction
/// that appends the decision: what `may_market` and the bulk list check read. `outbox` holds
/// the confirmation messages waiting for the site's mailer ([`crate::register::outbox`]),
/// `outbox_budget` how many more a contact may be sent (its rule 5).
/// Every statement is `IF NOT EXISTS`, so a log from an older release gets what it lacks.
const REGISTER_SCHEMA: &str = "
CREATE INDEX IF NOT EXISTS decisions_contact ON decisions (contact) WHERE contact IS NOT NULL;
CREATE TABLE IF NOT EXISTS marketing_state (
    contact BLOB NOT NULL,
    channel TEXT NOT NULL,
    status  TEXT NOT NULL,
    since   INTEGER NOT NULL,
    latest  INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    PRIMARY KEY (contact, channel)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS requests (
    id       INTEGER PRIMARY KEY,
    kind     TEXT NOT NULL,
    subject  TEXT NOT NULL,
    received TEXT NOT NULL,
    extended INTEGER NOT NULL,
    identity TEXT NOT NULL,
    staff    TEXT NOT NULL,
    outcome  TEXT,
    closed   TEXT
);
CREATE TABLE IF NOT EXISTS outbox (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient TEXT NOT NULL,
    link      TEXT NOT NULL,
    expires   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox_budget (
    contact  BLOB PRIMARY KEY,
    whole_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS outbox_budget_whole_at ON outbox_budget (whole_at);
";

/// Gives a log written before the customer register its `kind` and `contact` columns, and a
/// log written before the keyed chain its `chain_head` row ([`seed_chain_head`]). Where the
/// keyed chain starts.
fn migrate(conn: &mut Connection, key: &LogKeys) -> Result<u64, StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(map_err)?;
    let has_kind: bool = tx
        .query_row(
            "SELECT count(*) FROM pragma_table_info('decisions') WHERE name = 'kind'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map_err(map_err)?
        > 0;
    if !has_kind {
        tx.execute_batch(
            "ALTER TABLE decisions ADD COLUMN kind TEXT NOT NULL DEFAULT 'cookie';
             ALTER TABLE decisions ADD COLUMN contact BLOB;",
        )
        .map_err(map_err)?;
    }
    tx.execute_batch(REGISTER_SCHEMA).map_err(map_err)?;
    let keyed_from = seed_chain_head(&tx, key)?;
    rotate_if_behind(&tx, key)?;
    tx.commit().map_err(map_err)?;
    Ok(keyed_from)
}

/// Where the keyed chain starts: read from the `chain_head` row, or, on a log's first open by
/// this version, recorded there ([`first_head`]).
fn seed_chain_head(conn: &Connection, key: &LogKeys) -> Result<u64, StoreError> {
    let stored: Option<i64> = conn
        .query_row("SELECT keyed_from FROM chain_head WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()
        .map_err(map_err)?;
    if let Some(keyed_from) = stored {
        return u64::try_from(keyed_from)
            .map_err(|_| StoreError::Corrupt(Corrupt::Negative("keyed_from")));
    }
    let head = first_head(conn, key)?;
    write_chain_head(conn, &head)?;
    Ok(head.keyed_from)
}

/// The head a log with no `chain_head` row gets on its first open by this version, signed
/// under `key`'s current key. A new log is keyed from its start; a log written before the
/// keyed chain keeps its plain links up to its last record. A log whose row is gone but whose
/// last link is not a plain one was keyed, so the row was removed: that is refused rather
/// than signed again.
fn first_head(conn: &Connection, key: &LogKeys) -> Result<SignedHead, StoreError> {
    let (seq, link) = head(conn)?;
    if seq > 0 {
        let last: Option<(Vec<u8>, Vec<u8>)> = conn
            .query_row(
                "SELECT digest, link FROM decisions WHERE seq = ?1",
                params![seq as i64],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(map_err)?;
        if let Some((d, l)) = last {
            let previous = previous_link(conn, seq)?;
            if chain_link(&previous, &digest(&d)?) != digest(&l)? {
                return Err(StoreError::Corrupt(Corrupt::HeadRemoved));
            }
        }
    }
    let now = OffsetDateTime::now_utc().unix_timestamp();
    Ok(key.sign_head(seq, link, now, seq))
}

/// Rotates the log to `keys`' current key when its head is signed under an older key of the
/// file ([`super::rotation`], rule 3): appends the rotation entry, linked under the old key,
/// signs the checkpoint again and signs the head under the new key, in the caller's
/// transaction (which holds the write lock).
fn rotate_if_behind(conn: &Connection, keys: &LogKeys) -> Result<(), StoreError> {
    let head = read_chain_head(conn)?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let checkpoint = read_checkpoint(conn)?;
    let Some(plan) = catch_up(keys, head.as_ref(), checkpoint.as_ref(), now)? else {
        return Ok(());
    };
    let Some(head) = head else {
        return Ok(());
    };
    let p = &plan.entry;
    let seq = head.seq + 1;
    let link = plan.from.link(&head.link, p.linked(seq));
    insert_entry(conn, seq, link, p)?;
    if let Some(mac) = plan.checkpoint_mac {
        conn.execute(
            "UPDATE checkpoint SET mac = ?1 WHERE id = 1",
            params![&mac[..]],
        )
        .map_err(map_err)?;
    }
    write_chain_head(conn, &keys.sign_head(seq, link, now, head.keyed_from))
}

/// Inserts an entry that is neither a cookie nor a marketing decision (an erasure, a
/// rotation): no consent id, no contact.
fn insert_entry(conn: &Connection, seq: u64, link: Digest, p: &Prepared) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO decisions (seq, time, record, digest, link, action, revision, granted, kind)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            seq as i64,
            p.time,
            p.json,
            &p.digest.as_bytes()[..],
            &link.as_bytes()[..],
            p.summary.action,
            p.summary.revision,
            p.summary.granted,
            p.kind().as_str()
        ],
    )
    .map_err(map_err)?;
    Ok(())
}

/// The link before position `seq`: the entry before it, the checkpoint, or zero.
fn previous_link(conn: &Connection, seq: u64) -> Result<Digest, StoreError> {
    let before: Option<Vec<u8>> = conn
        .query_row(
            "SELECT link FROM decisions WHERE seq = ?1",
            params![seq as i64 - 1],
            |r| r.get(0),
        )
        .optional()
        .map_err(map_err)?;
    match before {
        Some(link) => digest(&link),
        None => Ok(read_checkpoint(conn)?
            .filter(|c| c.seq + 1 == seq)
            .map_or(Digest::ZERO, |c| c.link)),
    }
}

fn write_chain_head(conn: &Connection, head: &SignedHead) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO chain_head (id, seq, link, time, keyed_from, mac) VALUES (1, ?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, link = excluded.link,
         time = excluded.time, keyed_from = excluded.keyed_from, mac = excluded.mac",
    )
    .and_then(|mut st| {
        st.execute(params![
            head.seq as i64,
            &head.link.as_bytes()[..],
            head.time,
            head.keyed_from as i64,
            &head.mac[..]
        ])
    })
    .map_err(map_err)?;
    Ok(())
}

pub(super) fn read_chain_head(conn: &Connection) -> Result<Option<SignedHead>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT seq, link, time, keyed_from, mac FROM chain_head WHERE id = 1")
        .map_err(map_err)?;
    let mut rows = stmt.query([]).map_err(map_err)?;
    let Some(row) = rows.next().map_err(map_err)? else {
        return Ok(None);
    };
    let mac: Vec<u8> = column(row, 4, "chain_head.mac")?;
    Ok(Some(SignedHead {
        seq: u64::try_from(column::<i64>(row, 0, "chain_head.seq")?)
            .map_err(|_| StoreError::Corrupt(Corrupt::Negative("seq")))?,
        link: digest(&column::<Vec<u8>>(row, 1, "chain_head.link")?)?,
        time: column(row, 2, "chain_head.time")?,
        keyed_from: u64::try_from(column::<i64>(row, 3, "chain_head.keyed_from")?)
            .map_err(|_| StoreError::Corrupt(Corrupt::Negative("keyed_from")))?,
        mac: mac.as_slice().try_into().map_err(|_| {
            StoreError::Corrupt(Corrupt::Length {
                column: "chain_head mac",
                bytes: mac.len(),
            })
        })?,
    }))
}

/// The SQLite decision log.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    appends: Appends,
    reader: Arc<Mutex<Connection>>,
    path: PathBuf,
    heads: watch::Receiver<Option<SignedHead>>,
    /// Shared with the writer thread: erasures chain their entries outside it.
    signer: Arc<Signer>,
    /// Opened by [`SqliteStore::open_read_only`]: nothing is appended.
    read_only: bool,
    /// A log opened read-only with no `chain_head` row (written before the keyed chain): the
    /// head its first writer would sign ([`first_head`]), which [`Log::chain_head`] answers.
    first_head: Option<SignedHead>,
}

/// How long a statement waits for a lock another connection holds.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// How long [`forget_deleted`] waits for readers of an older snapshot: it holds the reader
/// connection meanwhile, so it must not stall every read for [`BUSY_TIMEOUT`].
const CHECKPOINT_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

fn open(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)
        .map_err(|e| StoreError::Unavailable(Cause::new(Doing::Open(path.to_owned()), e)))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(map_err)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(map_err)?;
    // FULL: a commit is on disk before it returns, so a 2xx answer means durable.
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(map_err)?;
    // What a row held before it was erased or purged is overwritten with zeros, not left in
    // its page's free space for anyone with a copy of the file to read ([`forget_deleted`]).
    conn.pragma_update(None, "secure_delete", "ON")
        .map_err(map_err)?;
    Ok(conn)
}

/// A read-only connection to the log at `path` (which must exist): nothing in it or beside
/// it is created, converted or written, not even `journal_mode`.
///
/// A log with neither a `-wal` nor a `-journal` file beside it (a copy, a log no process has
/// open: the last connection to close removes the `-wal` file) is opened `immutable`, without
/// locks: SQLite would otherwise create `-wal` and `-shm` files beside a WAL-mode file, and
/// cannot in a read-only directory. Caveat: a writer that opens such a log while it is read
/// goes unseen, and its checkpoint (after a thousand pages) could change pages under the
/// reader.
fn open_read_only(path: &Path) -> Result<Connection, StoreError> {
    let beside = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        Path::new(&name).exists()
    };
    let immutable = !beside("-wal") && !beside("-journal");
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(uri(path, immutable), flags)
        .map_err(|e| StoreError::Unavailable(Cause::new(Doing::Open(path.to_owned()), e)))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(map_err)?;
    Ok(conn)
}

/// `path` as an SQLite URI filename: `file:` and the path with every byte but the unreserved
/// ones and `/` percent-encoded (a `?`, `#` or `%` in a name would otherwise end or change
/// it), then `?immutable=1` if asked.
fn uri(path: &Path, immutable: bool) -> String {
    use core::fmt::Write as _;
    let mut uri = String::from("file:");
    for &b in path.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            uri.push(char::from(b));
        } else {
            let _ = write!(uri, "%{b:02X}");
        }
    }
    if immutable {
        uri.push_str("?immutable=1");
    }
    uri
}

/// Checks that a log opened read-only has every table and column this version reads (a
/// command that only reads does not migrate it); whether it has a `chain_head` table, which a
/// log written before the keyed chain lacks.
fn check_schema(conn: &Connection) -> Result<bool, StoreError> {
    let has = |sql: &str, name: &str| {
        conn.query_row(sql, [name], |r| r.get::<_, i64>(0))
            .map(|n| n > 0)
            .map_err(map_err)
    };
    let table = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1";
    let column = "SELECT count(*) FROM pragma_table_info('decisions') WHERE name = ?1";
    for (sql, name, lacks) in [
        (table, "decisions", "decisions table"),
        (column, "kind", "kind column in its decisions table"),
        (column, "contact", "contact column in its decisions table"),
        (table, "checkpoint", "checkpoint table"),
        (table, "marketing_state", "marketing_state table"),
        (table, "requests", "requests table"),
        (table, "outbox", "outbox table"),
    ] {
        if !has(sql, name)? {
            return Err(StoreError::Outdated { lacks });
        }
    }
    has(table, "chain_head")
}

/// Writes the write-ahead log back into the database and truncates it, after an erasure or
/// a purge (`secure_delete` zeroed the deleted bytes in the pages it changed): until then,
/// the log still holds earlier copies of those pages, deleted records and all. Readers of an older
/// snapshot (another process's `verify` or backup) can hold it up; past [`CHECKPOINT_WAIT`]
/// the copies stay until the next checkpoint reuses the log, and this says so.
fn forget_deleted(conn: &Connection) {
    let _ = conn.busy_timeout(CHECKPOINT_WAIT);
    let checkpoint = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
        r.get::<_, i64>(0)
    });
    let _ = conn.busy_timeout(BUSY_TIMEOUT);
    match checkpoint {
        Ok(0) => {}
        Ok(_) => tracing::warn!(
            "erased or purged records: the write-ahead log is in use and was not truncated; \
             it keeps copies of them until the next checkpoint"
        ),
        Err(e) => tracing::warn!(
            error = %e,
            "erased or purged records: the write-ahead log was not truncated; it keeps copies \
             of them until the next checkpoint"
        ),
    }
}

fn map_err(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => StoreError::Full,
        Some(
            ErrorCode::CannotOpen
            | ErrorCode::ReadOnly
            | ErrorCode::SystemIoFailure
            | ErrorCode::PermissionDenied,
        ) => StoreError::Unavailable(Cause::new(Doing::Query, e)),
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            StoreError::Corrupt(Corrupt::Driver(Cause::new(Doing::Query, e)))
        }
        _ => StoreError::Database(Cause::new(Doing::Query, e)),
    }
}

impl SqliteStore {
    /// Opens the log at `path`, creating the file and its tables on first start. Links and
    /// heads are made under `key`'s current key ([`ServerKey::log_keys`](crate::ServerKey::log_keys)); a log
    /// under an older key of `key` is rotated to it first ([`super::rotation`]).
    ///
    /// Opened within a tokio runtime (as `consent serve` does), the store answers committed
    /// appends on that runtime's threads; elsewhere its writer thread answers them itself.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the file cannot be opened or created;
    /// [`StoreError::Corrupt`] when the chain's head row was removed from a keyed log.
    pub fn open(path: impl AsRef<Path>, key: &LogKeys) -> Result<Self, StoreError> {
        Self::open_with_limit(path, key, None)
    }

    /// Like [`open`](Self::open), with the database capped at about `max_bytes`: past it,
    /// appends fail with [`StoreError::Full`] and nothing is written, exactly as on a full
    /// disk. For a log on a shared volume that must not starve its neighbours.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the file cannot be opened or created.
    pub fn open_with_limit(
        path: impl AsRef<Path>,
        key: &LogKeys,
        max_bytes: Option<u64>,
    ) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let mut writer = open(&path)?;
        writer.execute_batch(SCHEMA).map_err(map_err)?;
        let keyed_from = migrate(&mut writer, key)?;
        let (signer, heads) = Signer::new(key, keyed_from, read_chain_head(&writer)?);
        let signer = Arc::new(signer);
        let chain = Arc::clone(&signer);
        if let Some(max) = max_bytes {
            let page: i64 = writer
                .query_row("PRAGMA page_size", [], |r| r.get(0))
                .map_err(map_err)?;
            let pages = (max / page.max(512) as u64).max(1);
            writer
                .pragma_update(None, "max_page_count", pages as i64)
                .map_err(map_err)?;
        }
        let reader = open(&path)?;
        // Reads are memory-mapped: the bulk list check's 100,000 index lookups then cost
        // memory reads, not a pread system call per page (BENCHMARKS.md, customer register).
        reader
            .pragma_update(None, "mmap_size", READER_MMAP)
            .map_err(map_err)?;
        let (appends, rx) = mpsc::unbounded_channel();
        let replier = tokio::runtime::Handle::try_current().ok().map(|runtime| {
            let (replier, settled) = mpsc::unbounded_channel();
            runtime.spawn(reply_loop(settled));
            replier
        });
        std::thread::Builder::new()
            .name("consent-sqlite-writer".into())
            .spawn(move || write_loop(writer, chain, rx, replier))
            .map_err(|e| StoreError::Unavailable(Cause::new(Doing::StartWriter, e)))?;
        Ok(Self {
            appends,
            reader: Arc::new(Mutex::new(reader)),
            path,
            heads,
            signer,
            read_only: false,
            first_head: None,
        })
    }

    /// Opens the log at `path` for reading only, as the commands that only read do (`consent
    /// verify`, `export`, `stats`): the file is opened read-only and nothing is created,
    /// migrated, signed or rotated, so a read-only file, or an evidence copy, is read as it is
    /// and left as it was. Appends fail with [`StoreError::ReadOnly`].
    ///
    /// A log written before the keyed chain (no `chain_head` row) is read with the head its
    /// first writer would sign; a log under an older key of `key` is read under that key.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the file cannot be opened (a missing file is not
    /// created); [`StoreError::Outdated`] when it lacks a table or column of this version's
    /// schema; [`StoreError::Corrupt`] when the chain's head row was removed from a keyed log.
    pub fn open_read_only(path: impl AsRef<Path>, key: &LogKeys) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let conn = open_read_only(&path)?;
        conn.pragma_update(None, "mmap_size", READER_MMAP)
            .map_err(map_err)?;
        let stored = if check_schema(&conn)? {
            read_chain_head(&conn)?
        } else {
            None
        };
        let first_head = match stored {
            Some(_) => None,
            None => Some(first_head(&conn, key)?),
        };
        let head = stored.or(first_head);
        let (signer, heads) = Signer::new(key, head.map_or(0, |h| h.keyed_from), head);
        // No writer: the receiver is dropped at once.
        let (appends, _) = mpsc::unbounded_channel();
        Ok(Self {
            appends,
            reader: Arc::new(Mutex::new(conn)),
            path,
            heads,
            signer: Arc::new(signer),
            read_only: true,
            first_head,
        })
    }

    /// The database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// [`StoreError::ReadOnly`] for a store opened read-only.
    fn writable(&self) -> Result<(), StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnly);
        }
        Ok(())
    }

    /// Runs `f` on a connection of its own in a blocking thread: reads, and the rare writes
    /// that are not appends (erase, purge), which take SQLite's write lock like any writer.
    async fn with_reader<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let reader = Arc::clone(&self.reader);
        tokio::task::spawn_blocking(move || {
            let mut conn = reader.lock().map_err(|_| StoreError::Closed)?;
            f(&mut conn)
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }
}

/// The writer thread: one transaction per batch of waiting appends ([`Batches`]). A
/// committed batch goes to `replier` (a task on the runtime the store was opened in) to be
/// answered, so that waking a hundred callers and freeing their records happens on
/// the runtime's threads while this one commits the next batch: this thread's work is the
/// serial part of every append. Without a runtime, or once it is gone, the writer answers
/// itself.
fn write_loop(
    mut conn: Connection,
    chain: Arc<Signer>,
    rx: mpsc::UnboundedReceiver<Job>,
    replier: Option<mpsc::UnboundedSender<Settled>>,
) {
    let answer = |settled: Settled| match &replier {
        Some(replier) => {
            if let Err(mpsc::error::SendError(settled)) = replier.send(settled) {
                settled.answer();
            }
        }
        None => settled.answer(),
    };
    let mut batches = Batches::new(rx, MAX_BATCH);
    loop {
        if !batches.turn(answer) && !batches.wait_blocking() {
            return;
        }
        let result = append_batch(&mut conn, &chain, batches.batch());
        batches.settle(result);
    }
}

/// Answers the batches the writer hands over (see [`write_loop`]).
async fn reply_loop(mut settled: mpsc::UnboundedReceiver<Settled>) {
    while let Some(s) = settled.recv().await {
        s.answer();
    }
}

/// The head of the chain: the last entry, or the checkpoint when everything was purged.
fn head(conn: &Connection) -> Result<(u64, Digest), StoreError> {
    let read = |sql| {
        conn.prepare_cached(sql)
            .and_then(|mut st| {
                st.query_row([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
                    .optional()
            })
            .map_err(map_err)
    };
    let found = match read("SELECT seq, link FROM decisions ORDER BY seq DESC LIMIT 1")? {
        Some(found) => Some(found),
        None => read("SELECT seq, link FROM checkpoint WHERE id = 1")?,
    };
    match found {
        None => Ok((0, Digest::ZERO)),
        Some((seq, link)) => Ok((
            u64::try_from(seq).map_err(|_| StoreError::Corrupt(Corrupt::Negative("seq")))?,
            digest(&link)?,
        )),
    }
}

/// Where the chain ends, checked against its signed head before anything is appended: the
/// head must be signed under `signer`'s key ([`Signer::owns`]), and the last record (or the
/// checkpoint) must be the one it names. Appending after records removed or added by hand
/// would sign a new head over the edit, and the head file would move on to it.
fn signed_end(conn: &Connection, signer: &Signer) -> Result<(u64, Digest), StoreError> {
    let signed = read_chain_head(conn)?;
    signer.owns(signed.as_ref())?;
    let (seq, link) = head(conn)?;
    if let Some(h) = signed {
        ends_at(&h, (seq, link))?;
        if let Some(last) = signer.last() {
            let link_at = if h.seq > last.seq {
                link_at(conn, last.seq)?
            } else {
                None
            };
            holds(&last, &h, link_at)?;
        }
    }
    Ok((seq, link))
}

/// The link stored at position `seq`, if a row holds it.
fn link_at(conn: &Connection, seq: u64) -> Result<Option<Digest>, StoreError> {
    let link: Option<Vec<u8>> = conn
        .query_row(
            "SELECT link FROM decisions WHERE seq = ?1",
            [i64::try_from(seq).unwrap_or(i64::MAX)],
            |r| r.get(0),
        )
        .optional()
        .map_err(map_err)?;
    link.map(|l| digest(&l)).transpose()
}

fn digest(bytes: &[u8]) -> Result<Digest, StoreError> {
    let array: [u8; 32] = bytes.try_into().map_err(|_| {
        StoreError::Corrupt(Corrupt::Length {
            column: "digest",
            bytes: bytes.len(),
        })
    })?;
    Ok(Digest::from_bytes(array))
}

/// Appends a batch in one transaction: one answer per record of its jobs, in order.
fn append_batch(
    conn: &mut Connection,
    chain: &Signer,
    batch: &[Job],
) -> Result<Vec<MarketingAppend>, StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(map_err)?;
    let mut end = signed_end(&tx, chain)?;
    let mut out = Vec::with_capacity(batch.len());
    for job in batch {
        append_job(&tx, chain, &mut end, &mut out, job)?;
    }
    let (seq, link) = end;
    let signed = chain.sign(seq, link);
    write_chain_head(&tx, &signed)?;
    tx.commit().map_err(map_err)?;
    chain.publish(signed);
    Ok(out)
}

/// Appends a job's records after `end` (the chain's end so far, moved past them), all or
/// none, and pushes their answers to `out`. A job of several records runs in a savepoint, so
/// that a refusal takes back the records before it (a lone record refused inserts nothing).
fn append_job(
    tx: &Connection,
    chain: &Signer,
    end: &mut (u64, Digest),
    out: &mut Vec<MarketingAppend>,
    job: &Job,
) -> Result<(), StoreError> {
    let several = job.records.len() > 1;
    if several {
        tx.execute_batch("SAVEPOINT job").map_err(map_err)?;
    }
    let (start, answered) = (*end, out.len());
    let mut refused = broken(tx, job)?;
    if refused.is_none() {
        for p in &job.records {
            let landed = append_one(tx, chain, end, p)?;
            if landed.is_refusal() {
                refused = Some(landed);
                break;
            }
            out.push(landed);
        }
    }
    if let Some(refused) = refused {
        if several {
            tx.execute_batch("ROLLBACK TO job").map_err(map_err)?;
        }
        *end = start;
        out.truncate(answered);
        out.resize(answered + job.records.len(), refused);
    }
    if several {
        tx.execute_batch("RELEASE job").map_err(map_err)?;
    }
    Ok(())
}

/// The refusal when `job`'s condition does not hold for one of its records' contacts, judged
/// before any of them is appended.
fn broken(conn: &Connection, job: &Job) -> Result<Option<MarketingAppend>, StoreError> {
    let Some(condition) = &job.condition else {
        return Ok(None);
    };
    for m in job.records.iter().filter_map(|p| p.marketing.as_ref()) {
        for channel in &condition.channels {
            let latest = read_state(conn, &m.contact, *channel)?;
            if let Some(refused) = latest.and_then(|(_, seq)| condition.broken_by(seq)) {
                return Ok(Some(refused));
            }
        }
    }
    Ok(None)
}

/// Appends one record after `end`, moved past it when it is stored: what became of it.
fn append_one(
    tx: &Connection,
    chain: &Signer,
    end: &mut (u64, Digest),
    p: &Prepared,
) -> Result<MarketingAppend, StoreError> {
    let state = match &p.marketing {
        None => None,
        Some(m) => match judge(tx, p, m)? {
            Ok(state) => Some((m, state)),
            Err(refused) => return Ok(refused),
        },
    };
    let seq = end.0 + 1;
    let link = chain.key.link(&end.1, p.linked(seq));
    let row = params![
        seq as i64,
        p.time,
        p.consent_id.as_ref().map(|id| &id[..]),
        p.json,
        &p.digest.as_bytes()[..],
        &link.as_bytes()[..],
        p.summary.action,
        p.summary.revision,
        p.summary.granted,
    ];
    if let Some((m, state)) = state {
        tx.prepare_cached(
            "INSERT INTO decisions (seq, time, consent_id, record, digest, link, action, revision, granted, kind, contact)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )
        .and_then(|mut st| {
            let kind = p.kind().as_str();
            let marketing = params![kind, &m.contact[..]];
            st.execute(rusqlite::params_from_iter(row.iter().chain(marketing.iter())))
        })
        .map_err(map_err)?;
        tx.prepare_cached(
            "INSERT INTO marketing_state (contact, channel, status, since, latest, seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (contact, channel) DO UPDATE SET status = excluded.status,
             since = excluded.since, latest = excluded.latest, seq = excluded.seq",
        )
        .and_then(|mut st| {
            st.execute(params![
                &m.contact[..],
                m.channel.as_str(),
                state.status.as_str(),
                state.since,
                state.latest,
                seq as i64
            ])
        })
        .map_err(map_err)?;
    } else {
        // Cookie decisions take the columns' defaults for `kind` and `contact`.
        tx.prepare_cached(
            "INSERT INTO decisions (seq, time, consent_id, record, digest, link, action, revision, granted)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .and_then(|mut st| st.execute(row))
        .map_err(map_err)?;
    }
    *end = (seq, link);
    Ok(MarketingAppend::Stored(Appended { seq, link }))
}

/// Whether a marketing decision may be appended, inside the writer's transaction (which sees
/// the batch's earlier rows): the state after it, or why not (its job's condition is judged
/// before, by [`broken`]).
fn judge(
    conn: &Connection,
    p: &Prepared,
    m: &super::MarketingIndex,
) -> Result<Result<LatestState, MarketingAppend>, StoreError> {
    let first: Option<i64> = conn
        .prepare_cached("SELECT seq FROM decisions WHERE contact = ?1 AND digest = ?2 LIMIT 1")
        .and_then(|mut st| {
            st.query_row(params![&m.contact[..], &p.digest.as_bytes()[..]], |r| {
                r.get(0)
            })
            .optional()
        })
        .map_err(map_err)?;
    if let Some(seq) = first {
        return Ok(Err(MarketingAppend::Duplicate { seq: seq as u64 }));
    }
    let before = read_state(conn, &m.contact, m.channel)?.map(|(state, _)| state);
    Ok(LatestState::after(before, p, m))
}

/// A contact's latest state on a channel and the position of the decision that left it.
fn read_state(
    conn: &Connection,
    contact: &[u8],
    channel: MarketingChannel,
) -> Result<Option<(LatestState, i64)>, StoreError> {
    let row: Option<(String, i64, i64, i64)> = conn
        .prepare_cached(
            "SELECT status, since, latest, seq FROM marketing_state
             WHERE contact = ?1 AND channel = ?2",
        )
        .and_then(|mut st| {
            st.query_row(params![contact, channel.as_str()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()
        })
        .map_err(map_err)?;
    row.map(|(status, since, latest, seq)| Ok((LatestState::parse(&status, since, latest)?, seq)))
        .transpose()
}

const ENTRY_COLUMNS: &str =
    "seq, time, record, digest, link, action, revision, granted, kind, consent_id, contact";

/// A row as SQLite holds it, checked into an [`Entry`] outside rusqlite's row callback.
struct RawEntry {
    seq: i64,
    time: i64,
    record_json: Option<String>,
    digest: Vec<u8>,
    link: Vec<u8>,
    summary: SummaryColumns,
    kind: String,
    consent_id: Option<Vec<u8>>,
    contact: Option<Vec<u8>>,
}

fn raw_entry(row: &rusqlite::Row<'_>) -> Result<RawEntry, StoreError> {
    Ok(RawEntry {
        seq: column(row, 0, "seq")?,
        time: column(row, 1, "time")?,
        record_json: column(row, 2, "record")?,
        digest: column(row, 3, "digest")?,
        link: column(row, 4, "link")?,
        summary: SummaryColumns {
            action: column(row, 5, "action")?,
            revision: column(row, 6, "revision")?,
            granted: column(row, 7, "granted")?,
        },
        kind: column(row, 8, "kind")?,
        consent_id: column(row, 9, "consent_id")?,
        contact: column(row, 10, "contact")?,
    })
}

/// A column of a row read back, or what it holds instead: SQLite keeps a value of any type in
/// any column, whatever the schema says, and text that is not UTF-8.
fn column<T: rusqlite::types::FromSql>(
    row: &rusqlite::Row<'_>,
    idx: usize,
    name: &'static str,
) -> Result<T, StoreError> {
    row.get(idx).map_err(|e| {
        StoreError::Corrupt(Corrupt::Type {
            column: name,
            cause: Cause::new(Doing::Query, e),
        })
    })
}

impl RawEntry {
    fn read(self) -> Result<Entry, StoreError> {
        let kind = EntryKind::parse(&self.kind)?;
        let s = &self.summary;
        Ok(Entry {
            seq: u64::try_from(self.seq)
                .map_err(|_| StoreError::Corrupt(Corrupt::Negative("seq")))?,
            kind,
            time: OffsetDateTime::from_unix_timestamp(self.time)
                .map_err(|_| StoreError::Corrupt(Corrupt::Time("time")))?,
            digest: digest(&self.digest)?,
            link: digest(&self.link)?,
            summary: Summary::from_columns(kind, &s.action, s.revision, &s.granted)?,
            record_json: self.record_json,
            consent_id: self
                .consent_id
                .map(|id| {
                    <[u8; 16]>::try_from(id.as_slice())
                        .map(ConsentId::from_bytes)
                        .map_err(|_| {
                            StoreError::Corrupt(Corrupt::Length {
                                column: "consent id",
                                bytes: id.len(),
                            })
                        })
                })
                .transpose()?,
            contact: self
                .contact
                .map(|c| {
                    ContactHash::from_bytes(&c).ok_or(StoreError::Corrupt(Corrupt::Length {
                        column: "contact hash",
                        bytes: c.len(),
                    }))
                })
                .transpose()?,
        })
    }
}

fn query_entries(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Entry>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(map_err)?;
    let mut rows = stmt.query(params).map_err(map_err)?;
    let mut entries = Vec::new();
    while let Some(row) = rows.next().map_err(map_err)? {
        // `seq` is the rowid, always an integer: the one column every error can name.
        let seq: i64 = column(row, 0, "seq")?;
        let entry = raw_entry(row).and_then(RawEntry::read);
        entries.push(entry.map_err(|e| e.in_entry(seq))?);
    }
    Ok(entries)
}

impl Log for SqliteStore {
    async fn append(&self, record: DecisionRecord) -> Result<Appended, StoreError> {
        self.writable()?;
        stored(submit_one(&self.appends, Prepared::new(&record)?).await?)
    }

    async fn records_for(&self, id: ConsentId) -> Result<Vec<Entry>, StoreError> {
        self.with_reader(move |conn| {
            let sql =
                format!("SELECT {ENTRY_COLUMNS} FROM decisions WHERE consent_id = ?1 ORDER BY seq");
            query_entries(conn, &sql, params![&id.as_bytes()[..]])
        })
        .await
    }

    async fn erase(&self, id: ConsentId) -> Result<u64, StoreError> {
        let signer = Arc::clone(&self.signer);
        self.with_reader(move |conn| {
            erase_with_entry(
                conn,
                &signer,
                Whose::Visitor(id),
                "consent_id = ?1 AND kind = 'cookie'",
                params![&id.as_bytes()[..]],
            )
        })
        .await
    }

    async fn scan(&self, after: u64, limit: usize) -> Result<Vec<Entry>, StoreError> {
        self.with_reader(move |conn| {
            let sql = format!(
                "SELECT {ENTRY_COLUMNS} FROM decisions WHERE seq > ?1 ORDER BY seq LIMIT ?2"
            );
            query_entries(conn, &sql, params![after as i64, limit as i64])
        })
        .await
    }

    async fn len(&self) -> Result<u64, StoreError> {
        self.with_reader(|conn| {
            conn.query_row("SELECT count(*) FROM decisions", [], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
                .map_err(map_err)
        })
        .await
    }

    async fn lowest(&self) -> Result<Option<i64>, StoreError> {
        self.with_reader(|conn| {
            conn.query_row("SELECT min(seq) FROM decisions", [], |r| r.get(0))
                .map_err(map_err)
        })
        .await
    }

    async fn checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        self.with_reader(|conn| read_checkpoint(conn)).await
    }

    async fn chain_head(&self) -> Result<Option<SignedHead>, StoreError> {
        if let Some(head) = self.first_head {
            return Ok(Some(head));
        }
        self.with_reader(|conn| read_chain_head(conn)).await
    }

    async fn check_end(&self) -> Result<(), StoreError> {
        self.with_reader(|conn| {
            // One read transaction: both reads see the same commit.
            let tx = conn.transaction().map_err(map_err)?;
            let signed = read_chain_head(&tx)?.ok_or(StoreError::Corrupt(Corrupt::HeadMissing))?;
            ends_at(&signed, head(&tx)?)
        })
        .await
    }

    fn heads(&self) -> watch::Receiver<Option<SignedHead>> {
        self.heads.clone()
    }

    async fn purge(
        &self,
        before: OffsetDateTime,
        sign: &(dyn Fn(u64, &Digest, u64) -> [u8; 32] + Sync),
    ) -> Result<u64, StoreError> {
        // Find the prefix and its last link first, then sign outside the blocking closure
        // (the signer is borrowed), then delete in one transaction that re-checks the head.
        let cutoff = before.unix_timestamp();
        let plan = self
            .with_reader(move |conn| {
                let first_kept: Option<i64> = conn
                    .query_row(
                        // Never past the proof of a contact's current marketing state (an
                        // objection, a suppression, a consent): retention keeps it. That is
                        // the decision that set the status (at `since`: a consent with a soft
                        // opt-in after it is still a consent), not only the latest one.
                        "SELECT min(seq) FROM (SELECT min(seq) AS seq FROM decisions WHERE time >= ?1
                         UNION ALL SELECT min(seq) FROM marketing_state
                         UNION ALL SELECT min(d.seq) FROM marketing_state m
                             JOIN decisions d ON d.contact = m.contact AND d.time >= m.since)",
                        params![cutoff],
                        |r| r.get(0),
                    )
                    .map_err(map_err)?;
                let last_purged: Option<(i64, Vec<u8>)> = match first_kept {
                    Some(kept) => conn.query_row(
                        "SELECT seq, link FROM decisions WHERE seq < ?1 ORDER BY seq DESC LIMIT 1",
                        params![kept],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    ),
                    None => conn.query_row(
                        "SELECT seq, link FROM decisions ORDER BY seq DESC LIMIT 1",
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    ),
                }
                .optional()
                .map_err(map_err)?;
                let count: i64 = match &last_purged {
                    Some((seq, _)) => conn
                        .query_row(
                            "SELECT count(*) FROM decisions WHERE seq <= ?1",
                            params![seq],
                            |r| r.get(0),
                        )
                        .map_err(map_err)?,
                    None => 0,
                };
                let previous = read_checkpoint(conn)?.map_or(0, |c| c.purged);
                Ok(last_purged.map(|(seq, link)| (seq, link, count, previous)))
            })
            .await?;
        let Some((seq, link, count, previous)) = plan else {
            return Ok(0);
        };
        let link_digest = digest(&link)?;
        let total = previous + count as u64;
        let mac = sign(seq as u64, &link_digest, total);
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let signer = Arc::clone(&self.signer);
        self.with_reader(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(map_err)?;
            // A checkpoint is signed under the key the log is under: not after a rotation
            // by another process.
            signer.owns(read_chain_head(&tx)?.as_ref())?;
            let deleted = tx.execute("DELETE FROM decisions WHERE seq <= ?1", params![seq]).map_err(map_err)?;
            tx.execute(
                "INSERT INTO checkpoint (id, seq, link, purged, time, mac) VALUES (1, ?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, link = excluded.link, purged = excluded.purged,
                 time = excluded.time, mac = excluded.mac",
                params![seq, link, total as i64, now, &mac[..]],
            )
            .map_err(map_err)?;
            tx.commit().map_err(map_err)?;
            // Purged records go from the write-ahead log's copies of their pages too.
            forget_deleted(conn);
            Ok(deleted as u64)
        })
        .await
    }

    async fn stats(&self) -> Result<Vec<StatsRow>, StoreError> {
        self.with_reader(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT date(time, 'unixepoch') AS day, action, revision, granted, count(*)
                     FROM decisions WHERE kind = 'cookie' GROUP BY day, action, revision, granted ORDER BY day, action, revision, granted",
                )
                .map_err(map_err)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, u32>(2)?, r.get::<_, String>(3)?, r.get::<_, i64>(4)?))
                })
                .map_err(map_err)?;
            rows.map(|r| {
                let (day, action, revision, granted, count) = r.map_err(map_err)?;
                StatsRow::from_columns(&day, &action, revision, &granted, count)
            })
            .collect()
        })
        .await
    }
}

impl Register for SqliteStore {
    async fn state_rows(&self) -> Result<Vec<StateRow>, StoreError> {
        self.with_reader(|conn| {
            let mut stmt = conn
                .prepare("SELECT contact, channel, status, since, latest, seq FROM marketing_state")
                .map_err(map_err)?;
            let mut rows = stmt.query([]).map_err(map_err)?;
            let mut states = Vec::new();
            while let Some(r) = rows.next().map_err(map_err)? {
                states.push(StateRow {
                    contact: column(r, 0, "marketing_state.contact")?,
                    channel: column(r, 1, "marketing_state.channel")?,
                    status: column(r, 2, "marketing_state.status")?,
                    since: column(r, 3, "marketing_state.since")?,
                    latest: column(r, 4, "marketing_state.latest")?,
                    seq: column(r, 5, "marketing_state.seq")?,
                });
            }
            Ok(states)
        })
        .await
    }

    async fn append_marketing(
        &self,
        record: MarketingRecord,
    ) -> Result<MarketingAppend, StoreError> {
        self.writable()?;
        submit_one(&self.appends, Prepared::marketing(&record)?).await
    }

    async fn append_marketing_if(
        &self,
        records: Vec<MarketingRecord>,
        condition: NothingLater,
    ) -> Result<Vec<MarketingAppend>, StoreError> {
        self.writable()?;
        submit_marketing(&self.appends, &records, Some(condition)).await
    }

    async fn contact_records(&self, contact: ContactHash) -> Result<Vec<Entry>, StoreError> {
        self.with_reader(move |conn| {
            let sql =
                format!("SELECT {ENTRY_COLUMNS} FROM decisions WHERE contact = ?1 ORDER BY seq");
            query_entries(conn, &sql, params![&contact.to_bytes()[..]])
        })
        .await
    }

    async fn erase_contact(&self, contact: ContactHash, before: u64) -> Result<u64, StoreError> {
        let signer = Arc::clone(&self.signer);
        self.with_reader(move |conn| {
            erase_with_entry(
                conn,
                &signer,
                Whose::Contact(contact),
                "contact = ?1 AND seq < ?2 AND kind = 'marketing' AND action <> 'suppression'",
                params![&contact.to_bytes()[..], before as i64],
            )
        })
        .await
    }

    async fn marketing_states(
        &self,
        channel: MarketingChannel,
        contacts: Vec<ContactHash>,
    ) -> Result<Vec<MarketingState>, StoreError> {
        self.with_reader(move |conn| Self::states_blocking(conn, channel, &contacts))
            .await
    }

    async fn outbox_push(&self, message: Message, now: OffsetDateTime) -> Result<u64, StoreError> {
        self.with_reader(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(map_err)?;
            tx.execute(
                "DELETE FROM outbox WHERE expires < ?1",
                [now.unix_timestamp()],
            )
            .map_err(map_err)?;
            tx.execute(
                "INSERT INTO outbox (recipient, link, expires) VALUES (?1, ?2, ?3)",
                params![message.to, message.link, message.expires.unix_timestamp()],
            )
            .map_err(map_err)?;
            let id = tx.last_insert_rowid();
            tx.execute(
                "DELETE FROM outbox WHERE id <= \
                 (SELECT id FROM outbox ORDER BY id DESC LIMIT 1 OFFSET ?1)",
                [CAPACITY as i64],
            )
            .map_err(map_err)?;
            tx.commit().map_err(map_err)?;
            Ok(id as u64)
        })
        .await
    }

    async fn outbox_turn(
        &self,
        contact: ContactHash,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let b = Budget::at(now);
        self.with_reader(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(map_err)?;
            tx.execute("DELETE FROM outbox_budget WHERE whole_at <= ?1", [b.now])
                .map_err(map_err)?;
            let taken = tx
                .query_row(
                    "INSERT INTO outbox_budget (contact, whole_at) VALUES (?1, ?2)
                     ON CONFLICT (contact) DO UPDATE
                     SET whole_at = max(outbox_budget.whole_at, ?3) + ?4
                     WHERE outbox_budget.whole_at <= ?5
                     RETURNING whole_at",
                    params![
                        &contact.to_bytes()[..],
                        b.first(),
                        b.now,
                        b.every,
                        b.allows_until
                    ],
                    |r| r.get::<_, i64>(0),
                )
                .optional()
                .map_err(map_err)?
                .is_some();
            tx.execute(
                "DELETE FROM outbox_budget WHERE whole_at <= \
                 (SELECT whole_at FROM outbox_budget ORDER BY whole_at DESC LIMIT 1 OFFSET ?1)",
                [COUNTED as i64],
            )
            .map_err(map_err)?;
            tx.commit().map_err(map_err)?;
            Ok(taken)
        })
        .await
    }

    async fn outbox_take(
        &self,
        now: OffsetDateTime,
        peek: bool,
    ) -> Result<Vec<Message>, StoreError> {
        self.with_reader(move |conn| {
            let now = now.unix_timestamp();
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(map_err)?;
            tx.execute("DELETE FROM outbox WHERE expires < ?1", [now])
                .map_err(map_err)?;
            let sql = if peek {
                "SELECT id, recipient, link, expires FROM outbox WHERE expires >= ?1"
            } else {
                "DELETE FROM outbox WHERE expires >= ?1 RETURNING id, recipient, link, expires"
            };
            let mut messages = {
                let mut stmt = tx.prepare(sql).map_err(map_err)?;
                let rows = stmt
                    .query_map([now], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get(1)?,
                            r.get(2)?,
                            r.get::<_, i64>(3)?,
                        ))
                    })
                    .map_err(map_err)?;
                rows.map(|row| {
                    let (id, to, link, expires) = row.map_err(map_err)?;
                    outbox_message(id, to, link, expires)
                })
                .collect::<Result<Vec<_>, _>>()?
            };
            tx.commit().map_err(map_err)?;
            // RETURNING promises no order.
            messages.sort_unstable_by_key(|m| m.id);
            Ok(messages)
        })
        .await
    }

    async fn outbox_remove(&self, id: u64) -> Result<bool, StoreError> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(false);
        };
        self.with_reader(move |conn| {
            let n = conn
                .execute("DELETE FROM outbox WHERE id = ?1", [id])
                .map_err(map_err)?;
            Ok(n == 1)
        })
        .await
    }

    async fn outbox_forget(&self, to: &str) -> Result<u64, StoreError> {
        let to = to.to_owned();
        self.with_reader(move |conn| {
            let n = conn
                .execute("DELETE FROM outbox WHERE recipient = ?1", [to])
                .map_err(map_err)?;
            if n > 0 {
                // The address goes from the write-ahead log's copies of the page too.
                forget_deleted(conn);
            }
            Ok(n as u64)
        })
        .await
    }
}

impl Requests for SqliteStore {
    async fn insert_request(&self, request: Request) -> Result<u64, StoreError> {
        self.with_reader(move |conn| {
            let [kind, subject, received, identity, staff, outcome, closed] =
                request_texts(&request);
            conn.execute(
                "INSERT INTO requests (kind, subject, received, extended, identity, staff, outcome, closed)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![kind, subject, received, request.extended, identity, staff, outcome, closed],
            )
            .map_err(map_err)?;
            Ok(conn.last_insert_rowid() as u64)
        })
        .await
    }

    async fn request(&self, id: u64) -> Result<Option<Request>, StoreError> {
        self.with_reader(move |conn| {
            let sql = format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE id = ?1");
            query_requests(conn, &sql, params![id as i64]).map(|v| v.into_iter().next())
        })
        .await
    }

    async fn save_request(&self, request: Request) -> Result<bool, StoreError> {
        self.with_reader(move |conn| {
            let [kind, subject, received, identity, staff, outcome, closed] =
                request_texts(&request);
            let n = conn
                .execute(
                    "UPDATE requests SET kind = ?2, subject = ?3, received = ?4, extended = ?5,
                     identity = ?6, staff = ?7, outcome = ?8, closed = ?9 WHERE id = ?1",
                    params![
                        request.id as i64,
                        kind,
                        subject,
                        received,
                        request.extended,
                        identity,
                        staff,
                        outcome,
                        closed
                    ],
                )
                .map_err(map_err)?;
            Ok(n == 1)
        })
        .await
    }

    async fn requests(&self, open_only: bool) -> Result<Vec<Request>, StoreError> {
        self.with_reader(move |conn| {
            let sql = format!(
                "SELECT {REQUEST_COLUMNS} FROM requests WHERE ?1 = 0 OR closed IS NULL ORDER BY id"
            );
            query_requests(conn, &sql, params![open_only])
        })
        .await
    }
}

impl SqliteStore {
    /// Reads the states in one blocking task: one indexed point lookup per contact on a
    /// cached statement.
    fn states_blocking(
        conn: &Connection,
        channel: MarketingChannel,
        contacts: &[ContactHash],
    ) -> Result<Vec<MarketingState>, StoreError> {
        // Looked up in key order, so neighbouring lookups share index pages, then put back in
        // the order asked.
        let mut order: Vec<(usize, [u8; 33])> = contacts
            .iter()
            .enumerate()
            .map(|(i, c)| (i, c.to_bytes()))
            .collect();
        order.sort_unstable_by_key(|(_, key)| *key);
        let mut out: Vec<MarketingState> = vec![None; contacts.len()];
        for (i, key) in order {
            let state = read_state(conn, &key, channel)?
                .map(|(s, _)| s.answer())
                .transpose()?;
            if let Some(slot) = out.get_mut(i) {
                *slot = state;
            }
        }
        Ok(out)
    }
}

/// Erases with `sql` (an `UPDATE ... RETURNING seq`) and appends the erasure entry that names
/// what it erased, in one transaction that holds the write lock, so the chain's head cannot
/// move meanwhile. How many records were erased (none: nothing is appended).
fn erase_with_entry(
    conn: &mut Connection,
    signer: &Signer,
    whose: Whose,
    filter: &str,
    params: &[&dyn rusqlite::ToSql],
) -> Result<u64, StoreError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(map_err)?;
    {
        let mut stmt = tx
            .prepare(&format!(
                "SELECT seq, record, digest FROM decisions WHERE {filter}"
            ))
            .map_err(map_err)?;
        let mut rows = stmt.query(params).map_err(map_err)?;
        while let Some(row) = rows.next().map_err(map_err)? {
            let seq: i64 = row.get(0).map_err(map_err)?;
            let unreadable = |column| StoreError::Corrupt(Corrupt::NotItsOwn { seq, column });
            let record: Option<String> =
                row.get(1).map_err(|_| unreadable("record (unreadable)"))?;
            let digest: Vec<u8> = row.get(2).map_err(|_| unreadable("digest"))?;
            whose.check(seq, record.as_deref(), &digest)?;
        }
    }
    let reason = whose.reason();
    let sql = format!(
        "UPDATE decisions SET {} = NULL, record = NULL WHERE {filter} RETURNING seq",
        whose.column()
    );
    let mut erased: Vec<u64> = {
        let mut stmt = tx.prepare(&sql).map_err(map_err)?;
        let rows = stmt
            .query_map(params, |r| r.get::<_, i64>(0))
            .map_err(map_err)?;
        rows.map(|r| r.map(|s| s as u64).map_err(map_err))
            .collect::<Result<_, _>>()?
    };
    if erased.is_empty() {
        return Ok(0);
    }
    erased.sort_unstable();
    let n = erased.len() as u64;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let p = Erasure { erased, reason }.prepared(now)?;
    let (seq, link) = signed_end(&tx, signer)?;
    let seq = seq + 1;
    let link = signer.key.link(&link, p.linked(seq));
    insert_entry(&tx, seq, link, &p)?;
    let signed = signer.sign(seq, link);
    write_chain_head(&tx, &signed)?;
    tx.commit().map_err(map_err)?;
    signer.publish(signed);
    forget_deleted(conn);
    Ok(n)
}

fn query_requests(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Request>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(map_err)?;
    let rows = stmt
        .query_map(params, |r| {
            Ok(RawRequest {
                id: r.get(0)?,
                kind: r.get(1)?,
                subject: r.get(2)?,
                received: r.get(3)?,
                extended: r.get(4)?,
                identity: r.get(5)?,
                staff: r.get(6)?,
                outcome: r.get(7)?,
                closed: r.get(8)?,
            })
        })
        .map_err(map_err)?;
    rows.map(|r| r.map_err(map_err).and_then(RawRequest::check))
        .collect()
}

fn read_checkpoint(conn: &Connection) -> Result<Option<Checkpoint>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT seq, link, purged, time, mac FROM checkpoint WHERE id = 1")
        .map_err(map_err)?;
    let mut rows = stmt.query([]).map_err(map_err)?;
    let Some(row) = rows.next().map_err(map_err)? else {
        return Ok(None);
    };
    let (seq, link, purged, time, mac): (i64, Vec<u8>, i64, i64, Vec<u8>) = (
        column(row, 0, "checkpoint.seq")?,
        column(row, 1, "checkpoint.link")?,
        column(row, 2, "checkpoint.purged")?,
        column(row, 3, "checkpoint.time")?,
        column(row, 4, "checkpoint.mac")?,
    );
    let unsigned =
        |v: i64, what| u64::try_from(v).map_err(|_| StoreError::Corrupt(Corrupt::Negative(what)));
    Ok(Some(Checkpoint {
        seq: unsigned(seq, "checkpoint seq")?,
        link: digest(&link)?,
        purged: unsigned(purged, "purged count")?,
        time: OffsetDateTime::from_unix_timestamp(time)
            .map_err(|_| StoreError::Corrupt(Corrupt::Time("checkpoint time")))?,
        mac: mac.as_slice().try_into().map_err(|_| {
            StoreError::Corrupt(Corrupt::Length {
                column: "checkpoint mac",
                bytes: mac.len(),
            })
        })?,
    }))
}
