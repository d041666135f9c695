//! The PostgreSQL store, for several application servers sharing one log.
//!
//! Same table and behaviour as [`super::sqlite`], on a server that many processes can write
//! to at once.
//!
//! 1. **One chain across processes.** A one-row `chain_head` table holds the last position
//!    and link, and every append transaction moves it in the statement that inserts the rows,
//!    before `COMMIT`. A writer that does not know the head (on its first batch, after a
//!    failure, or for a batch with marketing decisions, which are judged against the state
//!    under the same lock) starts with `SELECT ... FROM chain_head FOR UPDATE` and computes
//!    the links from the head it read. A writer that does know it, from its own last commit,
//!    saves that round trip: its one statement moves the head only if it is still where that
//!    commit left it, and inserts the rows only if it moved; if another process extended the
//!    chain meanwhile, nothing is inserted and the writer locks and reads the head as above,
//!    in the same transaction. Either way the row lock makes writers in other processes wait
//!    for the commit and then see the new head, so they can only extend the chain, never fork
//!    it. A row lock rather than an advisory lock because Postgres-compatible distributed
//!    databases honour `FOR UPDATE` but not always `pg_advisory_xact_lock`.
//! 2. **Group commit.** Appends go to one writer task per [`PgStore`], which takes the
//!    appends waiting (up to [`MAX_BATCH`]; the `batch` module, written once for both stores,
//!    says how many) into one transaction: one multi-row `INSERT` (`unnest` over array parameters, so
//!    one round trip whatever the batch size) and one `COMMIT`, hence one WAL flush for many
//!    records. Each append is answered after `COMMIT` returns. The writer session runs with
//!    `synchronous_commit` at least `on`, so `Ok` means durable.
//! 3. **Faults.** Connection failures are [`StoreError::Unavailable`], a full disk
//!    (SQLSTATE `53100`) is [`StoreError::Full`], anything else [`StoreError::Database`];
//!    nothing panics. A connection that dropped (a restarted or unreachable server) is
//!    replaced on the next batch or read, waiting between failed attempts with a bounded
//!    backoff; connecting and each operation are bounded in time.
//! 4. Reads, erasure and purge use a second connection of their own. Erasure and purge are
//!    single statements, so each is atomic without a transaction on the shared reader.
//!
//! Caveats:
//! - If the connection drops while `COMMIT` is in flight, the batch may or may not be
//!   committed: its appends get [`StoreError::Unavailable`] (never `Ok`), and a record may
//!   then exist that the caller was told failed. An acknowledged record is never lost.
//! - `chain_head` is seeded once, when the schema is created, from the last record (or the
//!   purge checkpoint), and signed with every batch ([`super::chain`]). Deleting the newest
//!   records by hand does not roll the head back, so `verify` reports them missing, and
//!   `consent serve` refuses to start on the log ([`Log::check_end`]).

use core::fmt;
use std::sync::Arc;
use std::time::Duration;

use consent_core::{ConsentId, DecisionRecord, Digest, chain_link};
use time::OffsetDateTime;
use tokio::sync::{Mutex, mpsc, watch};
use tokio::task::AbortHandle;
use tokio::time::Instant;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, NoTls, Row, Statement};

use std::collections::HashMap;

use consent_core::register::{ContactHash, MarketingChannel, MarketingRecord};

use super::batch::{Appends, Batches, Job, Settled, submit_marketing, submit_one};
use super::chain::{Signer, catch_up, ends_at, holds};
use super::erasure::{Erasure, Whose};
use super::error::{Cause, Corrupt, Doing};
use super::{
    Appended, Checkpoint, Entry, EntryKind, LatestState, Log, LogKey, LogKeys, MarketingAppend,
    MarketingIndex, MarketingState, NothingLater, Prepared, REQUEST_COLUMNS, Register, Requests,
    SignedHead, StateRow, StatsRow, StoreError, Summary, outbox_message, request_texts, stored,
};
use crate::register::outbox::{Budget, CAPACITY, COUNTED, Message};
use crate::register::requests::{RawRequest, Request};

/// The most appends committed together.
pub const MAX_BATCH: usize = 1024;

/// Connecting gives up after this long unless the configuration sets `connect_timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// An operation (a batch, a read) without an answer for this long is reported unavailable.
const OP_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest wait between two failed connection attempts of the writer.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// The advisory lock key that serialises schema creation by processes starting together.
const SCHEMA_LOCK: i64 = 0x636f_6e73_656e_7431; // "consent1"

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS decisions (
    seq         BIGINT PRIMARY KEY,
    time        BIGINT NOT NULL,
    consent_id  BYTEA,
    record      TEXT,
    digest      BYTEA NOT NULL,
    link        BYTEA NOT NULL,
    action      TEXT NOT NULL,
    revision    INTEGER NOT NULL,
    granted     TEXT NOT NULL,
    kind        TEXT NOT NULL DEFAULT 'cookie',
    contact     BYTEA
);
-- A log written before the customer register gets its columns.
ALTER TABLE decisions ADD COLUMN IF NOT EXISTS kind TEXT NOT NULL DEFAULT 'cookie';
ALTER TABLE decisions ADD COLUMN IF NOT EXISTS contact BYTEA;
CREATE INDEX IF NOT EXISTS decisions_consent_id ON decisions (consent_id);
CREATE INDEX IF NOT EXISTS decisions_contact ON decisions (contact) WHERE contact IS NOT NULL;
-- Each contact's latest state per channel, updated with the append: what may_market and the
-- bulk list check read.
CREATE TABLE IF NOT EXISTS marketing_state (
    contact BYTEA NOT NULL,
    channel TEXT NOT NULL,
    status  TEXT NOT NULL,
    since   BIGINT NOT NULL,
    latest  BIGINT NOT NULL,
    seq     BIGINT NOT NULL,
    PRIMARY KEY (contact, channel)
);
CREATE TABLE IF NOT EXISTS requests (
    id       BIGSERIAL PRIMARY KEY,
    kind     TEXT NOT NULL,
    subject  TEXT NOT NULL,
    received TEXT NOT NULL,
    extended BOOLEAN NOT NULL,
    identity TEXT NOT NULL,
    staff    TEXT NOT NULL,
    outcome  TEXT,
    closed   TEXT
);
-- The confirmation messages waiting for the site's mailer (register/outbox.rs).
CREATE TABLE IF NOT EXISTS outbox (
    id        BIGSERIAL PRIMARY KEY,
    recipient TEXT NOT NULL,
    link      TEXT NOT NULL,
    expires   BIGINT NOT NULL
);
-- How many more confirmation messages a contact may be sent (register/outbox.rs, rule 5).
CREATE TABLE IF NOT EXISTS outbox_budget (
    contact  BYTEA PRIMARY KEY,
    whole_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_budget_whole_at ON outbox_budget (whole_at);
CREATE TABLE IF NOT EXISTS checkpoint (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    seq     BIGINT NOT NULL,
    link    BYTEA NOT NULL,
    purged  BIGINT NOT NULL,
    time    BIGINT NOT NULL,
    mac     BYTEA NOT NULL
);
CREATE TABLE IF NOT EXISTS chain_head (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    seq     BIGINT NOT NULL,
    link    BYTEA NOT NULL
);
-- The signed head (a log written before the keyed chain gets the columns). Only when they
-- are missing: `ALTER TABLE` takes an exclusive lock even when it changes nothing, which
-- would deadlock with another server's append holding the head's row lock.
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                   WHERE table_schema = current_schema() AND table_name = 'chain_head'
                     AND column_name = 'mac') THEN
        ALTER TABLE chain_head ADD COLUMN time BIGINT NOT NULL DEFAULT 0;
        ALTER TABLE chain_head ADD COLUMN keyed_from BIGINT;
        ALTER TABLE chain_head ADD COLUMN mac BYTEA;
    END IF;
END $$;
";

/// The head, locked: its position and link, and its signature, which the writer checks is its
/// own key's before it extends the chain ([`Signer::owns`]).
const LOCK_HEAD: &str =
    "SELECT seq, link, time, keyed_from, mac FROM chain_head WHERE id = 1 FOR UPDATE";

const INSERT: &str = "
WITH inserted AS (
    INSERT INTO decisions (seq, time, consent_id, record, digest, link, action, revision, granted,
                           kind, contact)
    SELECT * FROM unnest($1::BIGINT[], $2::BIGINT[], $3::BYTEA[], $4::TEXT[], $5::BYTEA[],
                         $6::BYTEA[], $7::TEXT[], $8::INTEGER[], $9::TEXT[], $12::TEXT[],
                         $13::BYTEA[])
)
UPDATE chain_head SET seq = $10, link = $11, time = $14, mac = $15 WHERE id = 1";

/// [`INSERT`] for a batch of cookie decisions by a writer that knows the head from its own
/// last commit: the head moves only if it is still where that commit left it (`$12`, `$13`),
/// and the rows go in only if it moved, all in one statement. Another process that extended
/// the chain meanwhile makes it insert nothing; the writer then locks and reads the head and
/// inserts with [`INSERT`]. The `UPDATE` waits for the row lock of any other writer's open
/// transaction and then sees its committed head, so two writers can never both extend the
/// same head. Cookie decisions take the columns' defaults for `kind` and `contact`.
const INSERT_AT_HEAD: &str = "
WITH moved AS (
    UPDATE chain_head SET seq = $10, link = $11, time = $14, mac = $15
    WHERE id = 1 AND seq = $12 AND link = $13
    RETURNING 1
)
INSERT INTO decisions (seq, time, consent_id, record, digest, link, action, revision, granted)
SELECT * FROM unnest($1::BIGINT[], $2::BIGINT[], $3::BYTEA[], $4::TEXT[], $5::BYTEA[],
                     $6::BYTEA[], $7::TEXT[], $8::INTEGER[], $9::TEXT[])
WHERE EXISTS (SELECT 1 FROM moved)";

const FIND_DUPLICATE: &str = "SELECT seq FROM decisions WHERE contact = $1 AND digest = $2 LIMIT 1";

const READ_STATE: &str =
    "SELECT status, since, latest, seq FROM marketing_state WHERE contact = $1 AND channel = $2";

const UPSERT_STATE: &str = "
INSERT INTO marketing_state (contact, channel, status, since, latest, seq)
SELECT * FROM unnest($1::BYTEA[], $2::TEXT[], $3::TEXT[], $4::BIGINT[], $5::BIGINT[], $6::BIGINT[])
ON CONFLICT (contact, channel) DO UPDATE SET status = excluded.status, since = excluded.since,
    latest = excluded.latest, seq = excluded.seq";

const STATES: &str = "
SELECT contact, status, since, latest FROM marketing_state
WHERE channel = $1 AND contact = ANY($2::BYTEA[])";

const ENTRY_COLUMNS: &str =
    "seq, time, record, digest, link, action, revision, granted, kind, consent_id, contact";

/// The last purged position and its link, how many that purge removes and how many were
/// purged before, read in one snapshot. The prefix never reaches the proof of a contact's
/// current marketing state (an objection, a suppression, a consent): retention keeps it.
/// That is the decision that set the status (at `since`: a consent with a soft opt-in after
/// it is still a consent), not only the latest one.
const PLAN_PURGE: &str = "
WITH last AS (
    SELECT seq, link FROM decisions
    WHERE seq < coalesce(least((SELECT min(seq) FROM decisions WHERE time >= $1),
                               (SELECT min(seq) FROM marketing_state),
                               (SELECT min(d.seq) FROM marketing_state m
                                JOIN decisions d ON d.contact = m.contact AND d.time >= m.since)),
                         9223372036854775807)
    ORDER BY seq DESC LIMIT 1
)
SELECT last.seq, last.link,
       (SELECT count(*) FROM decisions WHERE seq <= last.seq),
       coalesce((SELECT purged FROM checkpoint WHERE id = 1), 0)
FROM last";

/// Deletes the prefix and records its checkpoint in one statement. A checkpoint never moves
/// back, so of two racing purges the one that reached further wins.
const PURGE: &str = "
WITH deleted AS (DELETE FROM decisions WHERE seq <= $1 RETURNING 1),
saved AS (
    INSERT INTO checkpoint (id, seq, link, purged, time, mac) VALUES (1, $1, $2, $3, $4, $5)
    ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, link = excluded.link,
        purged = excluded.purged, time = excluded.time, mac = excluded.mac
    WHERE checkpoint.seq < excluded.seq
)
SELECT count(*) FROM deleted";

/// `to_char` over UTC gives the same days as SQLite's `date(time, 'unixepoch')`; the `C`
/// collation sorts text bytewise, as SQLite does, whatever the database's locale.
const STATS: &str = "
SELECT to_char(to_timestamp(time) AT TIME ZONE 'UTC', 'YYYY-MM-DD') COLLATE \"C\" AS day,
       action, revision, granted, count(*)
FROM decisions
WHERE kind = 'cookie'
GROUP BY day, action, revision, granted
ORDER BY day, action COLLATE \"C\", revision, granted COLLATE \"C\"";

/// The PostgreSQL decision log.
///
/// Cheap to clone: clones share the writer task and the reader connection. Every
/// [`PgStore::connect`] opens connections of its own, as another application server would.
#[derive(Clone)]
pub struct PgStore {
    appends: Appends,
    reader: Arc<Reader>,
    heads: watch::Receiver<Option<SignedHead>>,
    /// Shared with the writer task: erasures chain their entries outside it.
    signer: Arc<Signer>,
    /// Opened by [`PgStore::connect_read_only`]: no writer, nothing is appended.
    read_only: bool,
    /// A log opened read-only with no signed head (written before the keyed chain): the head
    /// its first writer would sign ([`first_head`]), which [`Log::chain_head`] answers.
    first_head: Option<SignedHead>,
}

impl fmt::Debug for PgStore {
    // Hand-written: the configuration may hold a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("dbname", &self.reader.config.get_dbname())
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to the database named by a connection string (`host=/run/postgresql
    /// dbname=consent` or `postgresql://user@localhost/consent`), creating the tables on
    /// first start.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the string is invalid or the server cannot be
    /// reached; [`StoreError::Database`] when the schema cannot be created.
    pub async fn connect(config: &str, key: &LogKeys) -> Result<Self, StoreError> {
        let config: Config = config.parse().map_err(|e| {
            StoreError::Unavailable(Cause::new(Doing::ConnectionString, Described::of(e)))
        })?;
        Self::from_config(config, key).await
    }

    /// Connects with a ready-made configuration, creating the tables on first start. Without
    /// a `connect_timeout`, connecting gives up after 5 seconds.
    ///
    /// # Errors
    /// As [`PgStore::connect`].
    pub async fn from_config(mut config: Config, key: &LogKeys) -> Result<Self, StoreError> {
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let config = Arc::new(config);
        let mut conn = Conn::open(&config).await?;
        let (keyed_from, current) = create_schema(&mut conn.client, key).await?;
        let (signer, heads) = Signer::new(key, keyed_from, current);
        let signer = Arc::new(signer);
        let writer = Writer::new(conn).await?;
        let reader = Arc::new(Reader {
            config: Arc::clone(&config),
            conn: Mutex::new(Some(Arc::new(Conn::open(&config).await?))),
        });
        let (appends, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_loop(config, Arc::clone(&signer), Some(writer), rx));
        Ok(Self {
            appends,
            reader,
            heads,
            signer,
            read_only: false,
            first_head: None,
        })
    }

    /// Connects for reading only, as the commands that only read do (`consent verify`,
    /// `export`, `stats`): every transaction of its sessions is read-only
    /// (`default_transaction_read_only`, so the server itself refuses a write), and nothing is
    /// created, migrated, signed or rotated. A role with only `SELECT` on the tables will do.
    /// Appends fail with [`StoreError::ReadOnly`].
    ///
    /// A log written before the keyed chain (no signed head) is read with the head its first
    /// writer would sign; a log under an older key of `key` is read under that key.
    ///
    /// # Errors
    /// As [`PgStore::connect`]; [`StoreError::Outdated`] when the database lacks a table or
    /// column of this version's schema.
    pub async fn connect_read_only(config: &str, key: &LogKeys) -> Result<Self, StoreError> {
        let mut config: Config = config.parse().map_err(|e| {
            StoreError::Unavailable(Cause::new(Doing::ConnectionString, Described::of(e)))
        })?;
        let options = match config.get_options() {
            Some(given) => format!("{given} -c default_transaction_read_only=on"),
            None => "-c default_transaction_read_only=on".to_owned(),
        };
        config.options(options);
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let config = Arc::new(config);
        let conn = Conn::open(&config).await?;
        let stored = read_schema(&conn.client).await?;
        let (stored, first_head) = match stored {
            Ok(head) => (Some(head), None),
            Err(unsigned) => (None, Some(first_head(&conn.client, unsigned, key).await?)),
        };
        let head = stored.or(first_head);
        let (signer, heads) = Signer::new(key, head.map_or(0, |h| h.keyed_from), head);
        // No writer: the receiver is dropped at once.
        let (appends, _) = mpsc::unbounded_channel();
        Ok(Self {
            appends,
            reader: Arc::new(Reader {
                config,
                conn: Mutex::new(Some(Arc::new(conn))),
            }),
            heads,
            signer: Arc::new(signer),
            read_only: true,
            first_head,
        })
    }

    /// [`StoreError::ReadOnly`] for a store connected read-only.
    fn writable(&self) -> Result<(), StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnly);
        }
        Ok(())
    }
}

/// Checks that a log read without being migrated has every table and column this version
/// reads. Its signed head, or else (a log written before the keyed chain) the unsigned
/// `chain_head` row's position and link if there is one.
async fn read_schema(
    client: &Client,
) -> Result<Result<SignedHead, Option<(i64, Vec<u8>)>>, StoreError> {
    let rows = within(client.query(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
         WHERE table_schema = current_schema()",
        &[],
    ))
    .await?;
    let columns = rows
        .iter()
        .map(|r| Ok((column::<String>(r, 0)?, column::<String>(r, 1)?)))
        .collect::<Result<std::collections::HashSet<_>, StoreError>>()?;
    let has = |table: &str, name: &str| columns.contains(&(table.to_owned(), name.to_owned()));
    for (table, name, lacks) in [
        ("decisions", "seq", "decisions table"),
        ("decisions", "kind", "kind column in its decisions table"),
        (
            "decisions",
            "contact",
            "contact column in its decisions table",
        ),
        ("checkpoint", "seq", "checkpoint table"),
        ("marketing_state", "seq", "marketing_state table"),
        ("requests", "id", "requests table"),
        ("outbox", "id", "outbox table"),
    ] {
        if !has(table, name) {
            return Err(StoreError::Outdated { lacks });
        }
    }
    if !has("chain_head", "seq") {
        return Ok(Err(None));
    }
    let sql = if has("chain_head", "mac") {
        "SELECT seq, link, time, keyed_from, mac FROM chain_head WHERE id = 1"
    } else {
        "SELECT seq, link FROM chain_head WHERE id = 1"
    };
    let Some(row) = within(client.query_opt(sql, &[])).await? else {
        return Ok(Err(None));
    };
    if row.len() == 5 {
        if let Some(head) = to_signed_head(&row)? {
            return Ok(Ok(head));
        }
    }
    Ok(Err(Some((column(&row, 0)?, column(&row, 1)?))))
}

/// A client and the task that drives its connection.
struct Conn {
    client: Client,
    task: AbortHandle,
}

impl Conn {
    async fn open(config: &Config) -> Result<Self, StoreError> {
        let connecting = tokio::time::timeout(
            config
                .get_connect_timeout()
                .copied()
                .unwrap_or(CONNECT_TIMEOUT)
                * 2,
            config.connect(NoTls),
        );
        let (client, connection) = match connecting.await {
            Ok(Ok(pair)) => pair,
            Ok(Err(e)) => {
                return Err(StoreError::Unavailable(Cause::new(
                    Doing::Connect,
                    Described::of(e),
                )));
            }
            Err(_) => {
                return Err(StoreError::Unavailable(Cause::only(Doing::ConnectTimeout)));
            }
        };
        let task = tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!("PostgreSQL connection lost: {}", Described::of(e));
            }
        })
        .abort_handle();
        let conn = Self { client, task };
        conn.durable().await?;
        Ok(conn)
    }

    /// Acknowledged means durable, on every connection: the writer's, and those that erase,
    /// purge or rotate, whose heads are published to the head file too. A server (or
    /// database, or role) default of `synchronous_commit = off` would answer before the WAL
    /// is flushed, and a crash then lose what was acknowledged. Stronger settings
    /// (`remote_apply`, ...) are kept.
    async fn durable(&self) -> Result<(), StoreError> {
        let sync: String = column(
            &within(
                self.client
                    .query_one("SELECT current_setting('synchronous_commit')", &[]),
            )
            .await?,
            0,
        )?;
        if sync == "off" {
            within(self.client.batch_execute("SET synchronous_commit = on")).await?;
        }
        Ok(())
    }

    /// Drops a connection that stopped answering, without waiting for its requests.
    fn discard(self) {
        self.task.abort();
    }
}

/// Creates the tables and seeds the chain's head, once, even with several processes
/// starting together. Where the keyed chain starts, and the signed head.
///
/// On a log's first open by this version the head is signed and the keyed chain starts after
/// its last record (0 for a new log). A head whose signature is gone while the last link is
/// not a plain one belongs to a keyed log whose row was edited: that is refused rather than
/// signed again.
async fn create_schema(
    client: &mut Client,
    key: &LogKeys,
) -> Result<(u64, Option<SignedHead>), StoreError> {
    let tx = within(client.transaction()).await?;
    within(tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])).await?;
    // Every `IF NOT EXISTS` that finds what it would make sends a notice ("column \"kind\" of
    // relation \"decisions\" already exists, skipping"), which tokio-postgres logs at INFO:
    // a dozen lines at each start that say nothing. Quiet for this transaction only, so the
    // notices of anything else (and this one's warnings) still reach the log.
    within(tx.batch_execute("SET LOCAL client_min_messages = warning")).await?;
    within(tx.batch_execute(SCHEMA)).await?;
    let row = within(tx.query_opt(
        "SELECT seq, link, time, keyed_from, mac FROM chain_head WHERE id = 1",
        &[],
    ))
    .await?;
    if let Some(row) = &row {
        if let Some(head) = to_signed_head(row)? {
            let head = rotate_if_behind(&tx, key, head).await?;
            within(tx.commit()).await?;
            return Ok((head.keyed_from, Some(head)));
        }
    }
    let unsigned = match &row {
        Some(row) => Some((column::<i64>(row, 0)?, column::<Vec<u8>>(row, 1)?)),
        None => None,
    };
    let head = first_head(&tx, unsigned, key).await?;
    let keyed_from = head.keyed_from;
    let seq = position(head.seq);
    within(tx.execute(
        "INSERT INTO chain_head (id, seq, link, time, keyed_from, mac) VALUES (1, $1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, link = excluded.link,
         time = excluded.time, keyed_from = excluded.keyed_from, mac = excluded.mac",
        &[&seq, &&head.link.as_bytes()[..], &head.time, &seq, &&head.mac[..]],
    ))
    .await?;
    let head = rotate_if_behind(&tx, key, head).await?;
    within(tx.commit()).await?;
    Ok((keyed_from, Some(head)))
}

/// The head a log with no signed head gets on its first open by this version, signed under
/// `key`'s current key: at the unsigned `chain_head` row's position and link (`unsigned_row`),
/// else at the last record (or the purge checkpoint), and the keyed chain starts after it.
/// A log whose last link there is not a plain one was keyed, so its signature was removed:
/// that is refused rather than signed again.
async fn first_head(
    client: &(impl tokio_postgres::GenericClient + Sync),
    unsigned_row: Option<(i64, Vec<u8>)>,
    key: &LogKeys,
) -> Result<SignedHead, StoreError> {
    let (seq, link) = match unsigned_row {
        Some(found) => found,
        None => {
            let last = within(client.query_opt(
                "SELECT seq, link FROM decisions ORDER BY seq DESC LIMIT 1",
                &[],
            ))
            .await?;
            let last = match last {
                Some(row) => Some(row),
                None => {
                    within(client.query_opt("SELECT seq, link FROM checkpoint WHERE id = 1", &[]))
                        .await?
                }
            };
            match last {
                Some(row) => (column::<i64>(&row, 0)?, column::<Vec<u8>>(&row, 1)?),
                None => (0, Digest::ZERO.as_bytes().to_vec()),
            }
        }
    };
    let last = within(client.query_opt(
        "SELECT d.digest, d.link,
                coalesce((SELECT p.link FROM decisions p WHERE p.seq = d.seq - 1),
                         (SELECT c.link FROM checkpoint c WHERE c.id = 1 AND c.seq = d.seq - 1))
         FROM decisions d WHERE d.seq = $1",
        &[&seq],
    ))
    .await?;
    if let Some(row) = last {
        let previous = match column::<Option<Vec<u8>>>(&row, 2)? {
            Some(p) => digest(&p)?,
            None => Digest::ZERO,
        };
        let plain = chain_link(&previous, &digest(column(&row, 0)?)?);
        if plain != digest(column(&row, 1)?)? {
            return Err(StoreError::Corrupt(Corrupt::HeadRemoved));
        }
    }
    let keyed_from = unsigned(seq, "seq")?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    Ok(key.sign_head(keyed_from, digest(&link)?, now, keyed_from))
}

/// Rotates the log to `keys`' current key when its head (`head`, as read) is signed under an
/// older key of the file ([`super::rotation`], rule 3): appends the rotation entry, linked
/// under the old key, signs the checkpoint again and signs the head under the new key, in
/// `tx`, after locking the head as a writer does. The head after it.
async fn rotate_if_behind(
    tx: &tokio_postgres::Transaction<'_>,
    keys: &LogKeys,
    head: SignedHead,
) -> Result<SignedHead, StoreError> {
    if keys.verify_head(&head) {
        return Ok(head);
    }
    // Locked and read again: another server's writer may have moved it meanwhile.
    let Some(row) = within(tx.query_opt(LOCK_HEAD, &[])).await? else {
        return Ok(head);
    };
    let Some(head) = to_signed_head(&row)? else {
        return Ok(head);
    };
    let checkpoint = within(tx.query_opt(
        "SELECT seq, link, purged, time, mac FROM checkpoint WHERE id = 1",
        &[],
    ))
    .await?
    .map(|row| to_checkpoint(&row))
    .transpose()?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let Some(plan) = catch_up(keys, Some(&head), checkpoint.as_ref(), now)? else {
        return Ok(head);
    };
    let p = &plan.entry;
    let seq = head.seq + 1;
    let link = plan.from.link(&head.link, p.linked(seq));
    let revision = i32::try_from(p.summary.revision)
        .map_err(|_| StoreError::Corrupt(Corrupt::Epoch(p.summary.revision)))?;
    within(tx.execute(
        "INSERT INTO decisions (seq, time, record, digest, link, action, revision, granted, kind)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &position(seq),
            &p.time,
            &p.json,
            &&p.digest.as_bytes()[..],
            &&link.as_bytes()[..],
            &p.summary.action,
            &revision,
            &p.summary.granted,
            &p.kind().as_str(),
        ],
    ))
    .await?;
    if let Some(mac) = plan.checkpoint_mac {
        within(tx.execute("UPDATE checkpoint SET mac = $1 WHERE id = 1", &[&&mac[..]])).await?;
    }
    let signed = keys.sign_head(seq, link, now, head.keyed_from);
    within(tx.execute(
        "UPDATE chain_head SET seq = $1, link = $2, time = $3, mac = $4 WHERE id = 1",
        &[
            &position(seq),
            &&link.as_bytes()[..],
            &signed.time,
            &&signed.mac[..],
        ],
    ))
    .await?;
    Ok(signed)
}

/// A `chain_head` row (`seq, link, time, keyed_from, mac`) as a signed head; `None` when it
/// was never signed.
/// [`holds`] on a PostgreSQL log, in the transaction that locked its head (`stored`): the
/// log still holds the record of the last head this store signed, with its link.
async fn check_holds(
    tx: &tokio_postgres::Transaction<'_>,
    signer: &Signer,
    stored: Option<&SignedHead>,
) -> Result<(), StoreError> {
    let (Some(last), Some(stored)) = (signer.last(), stored) else {
        return Ok(());
    };
    let link_at = if stored.seq > last.seq {
        within(tx.query_opt(
            "SELECT link FROM decisions WHERE seq = $1",
            &[&position(last.seq)],
        ))
        .await?
        .map(|row| column::<Vec<u8>>(&row, 0).and_then(|l| digest(&l)))
        .transpose()?
    } else {
        None
    };
    holds(&last, stored, link_at)
}

fn to_signed_head(row: &Row) -> Result<Option<SignedHead>, StoreError> {
    let keyed_from: Option<i64> = column(row, 3)?;
    let mac: Option<Vec<u8>> = column(row, 4)?;
    let (Some(keyed_from), Some(mac)) = (keyed_from, mac) else {
        return Ok(None);
    };
    Ok(Some(SignedHead {
        seq: unsigned(column(row, 0)?, "seq")?,
        link: digest(column(row, 1)?)?,
        time: column(row, 2)?,
        keyed_from: unsigned(keyed_from, "keyed_from")?,
        mac: mac.as_slice().try_into().map_err(|_| {
            StoreError::Corrupt(Corrupt::Length {
                column: "chain_head mac",
                bytes: mac.len(),
            })
        })?,
    }))
}

/// The writer's connection and its prepared statements.
struct Writer {
    conn: Conn,
    statements: Statements,
    /// The chain's head as this writer's last commit left it; `None` until a commit of its
    /// own and after any failure, when the next batch locks and reads it.
    head: Option<(i64, Digest)>,
}

/// The writer's prepared statements.
struct Statements {
    lock_head: Statement,
    insert: Statement,
    insert_at_head: Statement,
    find_duplicate: Statement,
    read_state: Statement,
    upsert_state: Statement,
}

/// Why a batch failed, and whether it might have committed all the same.
struct Failure {
    error: StoreError,
    maybe_committed: bool,
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Self {
            error,
            maybe_committed: false,
        }
    }
}

impl Writer {
    async fn new(conn: Conn) -> Result<Self, StoreError> {
        let client = &conn.client;
        let fsync: String = column(
            &within(client.query_one("SELECT current_setting('fsync')", &[])).await?,
            0,
        )?;
        if fsync == "off" {
            tracing::warn!("PostgreSQL runs with fsync=off: acknowledged records may be lost");
        }
        let lock_head = within(client.prepare(LOCK_HEAD)).await?;
        let insert = within(client.prepare(INSERT)).await?;
        let insert_at_head = within(client.prepare(INSERT_AT_HEAD)).await?;
        let find_duplicate = within(client.prepare(FIND_DUPLICATE)).await?;
        let read_state = within(client.prepare(READ_STATE)).await?;
        let upsert_state = within(client.prepare(UPSERT_STATE)).await?;
        Ok(Self {
            conn,
            statements: Statements {
                lock_head,
                insert,
                insert_at_head,
                find_duplicate,
                read_state,
                upsert_state,
            },
            head: None,
        })
    }

    async fn connect(config: &Config) -> Result<Self, StoreError> {
        Self::new(Conn::open(config).await?).await
    }

    /// Appends a batch in one transaction. A batch of cookie decisions after a commit of this
    /// writer's own goes in with one statement ([`INSERT_AT_HEAD`]); otherwise, or when another
    /// writer moved the head meanwhile, the head is locked and read first.
    async fn append(
        &mut self,
        batch: &[Job],
        signer: &Signer,
    ) -> Result<Vec<MarketingAppend>, Failure> {
        let tx = within(self.conn.client.transaction()).await?;
        // Forgotten until this batch commits: any failure leaves the head unknown.
        let known = self.head.take();
        let mut rows = None;
        let records = || batch.iter().flat_map(|job| &job.records);
        if let Some(head) = known.filter(|_| records().all(|p| p.marketing.is_none())) {
            let mut cookies = Rows::new(head, records().count());
            for p in records() {
                cookies.push(p, &signer.key)?;
            }
            let inserted = cookies
                .insert(&tx, &self.statements.insert_at_head, Some(&head), signer)
                .await?;
            match inserted {
                // Another writer moved the head: lock and read it below.
                0 => {}
                n if n == cookies.seqs.len() as u64 => rows = Some(cookies),
                n => {
                    let m = cookies.seqs.len();
                    let doing = Doing::Insert {
                        inserted: n,
                        expected: m as u64,
                    };
                    return Err(StoreError::Database(Cause::only(doing)).into());
                }
            }
        }
        let rows = match rows {
            Some(rows) => rows,
            None => self.statements.append_locked(&tx, batch, signer).await?,
        };
        match tx.commit().await {
            Ok(()) => {
                self.head = Some((rows.seq, rows.link));
                if let Some(head) = rows.signed {
                    signer.publish(head);
                }
                Ok(rows.out)
            }
            Err(e) => Err(Failure {
                // A refusal from the server means rolled back; a lost connection may have
                // committed.
                maybe_committed: e.as_db_error().is_none(),
                error: map_err(e),
            }),
        }
    }
}

impl Statements {
    /// Appends a batch inside `tx` after locking the chain's head, judging its marketing
    /// decisions: the rows inserted, not yet committed.
    async fn append_locked<'a>(
        &self,
        tx: &tokio_postgres::Transaction<'_>,
        batch: &'a [Job],
        signer: &Signer,
    ) -> Result<Rows<'a>, StoreError> {
        let head = within(tx.query_opt(&self.lock_head, &[]))
            .await?
            .ok_or(StoreError::Corrupt(Corrupt::HeadMissing))?;
        let stored = to_signed_head(&head)?;
        signer.owns(stored.as_ref())?;
        check_holds(tx, signer, stored.as_ref()).await?;
        let head = (column(&head, 0)?, digest(&column::<Vec<u8>>(&head, 1)?)?);
        let records = batch.iter().map(|job| job.records.len()).sum();
        let mut rows = Rows::new(head, records);
        let mut judged = Judged::default();
        for job in batch {
            self.append_job(tx, &mut rows, &mut judged, job, signer)
                .await?;
        }
        rows.insert(tx, &self.insert, None, signer).await?;
        if !judged.states.is_empty() {
            let mut cols = (
                Vec::new(),
                Vec::new(),
                Vec::new(),
                Vec::new(),
                Vec::new(),
                Vec::new(),
            );
            for ((contact, channel), (state, at)) in &judged.states {
                cols.0.push(&contact[..]);
                cols.1.push(channel.as_str());
                cols.2.push(state.status.as_str());
                cols.3.push(state.since);
                cols.4.push(state.latest);
                cols.5.push(*at);
            }
            within(tx.execute(
                &self.upsert_state,
                &[&cols.0, &cols.1, &cols.2, &cols.3, &cols.4, &cols.5],
            ))
            .await?;
        }
        Ok(rows)
    }

    /// Chains a job's records after `rows`, all or none, and pushes their answers. A refusal
    /// takes back the job's records before it: the rows, and what `judged` learnt of them.
    async fn append_job<'a>(
        &self,
        tx: &tokio_postgres::Transaction<'_>,
        rows: &mut Rows<'a>,
        judged: &mut Judged,
        job: &'a Job,
        signer: &Signer,
    ) -> Result<(), StoreError> {
        let mark = rows.mark();
        // What the job's records taught `judged`, the entries they replaced, to put back on a
        // refusal (only a job of several records has any by then: a confirmation's channels).
        let mut learnt = Vec::new();
        let mut refused = self.broken(tx, &judged.states, job).await?;
        if refused.is_none() {
            for p in &job.records {
                if let Some(m) = &p.marketing {
                    let statements = (&self.find_duplicate, &self.read_state);
                    match judge(tx, statements, p, m, judged).await? {
                        Ok(state) => learnt.push(judged.learn(m, p, state, rows.seq + 1)),
                        Err(landed) if landed.is_refusal() => {
                            refused = Some(landed);
                            break;
                        }
                        Err(duplicate) => {
                            rows.out.push(duplicate);
                            continue;
                        }
                    }
                }
                rows.push(p, &signer.key)?;
            }
        }
        if let Some(refused) = refused {
            rows.undo(mark);
            judged.forget(learnt);
            rows.out.resize(mark.out + job.records.len(), refused);
        }
        Ok(())
    }

    /// The refusal when `job`'s condition does not hold for one of its records' contacts,
    /// judged before any of them is appended.
    async fn broken(
        &self,
        tx: &tokio_postgres::Transaction<'_>,
        states: &States,
        job: &Job,
    ) -> Result<Option<MarketingAppend>, StoreError> {
        let Some(condition) = &job.condition else {
            return Ok(None);
        };
        for m in job.records.iter().filter_map(|p| p.marketing.as_ref()) {
            for channel in &condition.channels {
                let latest = latest(tx, &self.read_state, states, m.contact, *channel).await?;
                if let Some(refused) = latest.and_then(|(_, seq)| condition.broken_by(seq)) {
                    return Ok(Some(refused));
                }
            }
        }
        Ok(None)
    }
}

/// Each contact's latest state per channel after a batch's decisions so far, and where.
type States = HashMap<([u8; 33], MarketingChannel), (LatestState, i64)>;

/// What a batch's marketing decisions so far, which the database does not hold yet, tell the
/// next: their positions by digest, and the states they leave.
#[derive(Default)]
struct Judged {
    digests: HashMap<([u8; 33], Digest), i64>,
    states: States,
}

/// What one [`Judged::learn`] replaced: its keys, and the entries they held before.
type Learnt = (
    ([u8; 33], Digest),
    Option<i64>,
    ([u8; 33], MarketingChannel),
    Option<(LatestState, i64)>,
);

impl Judged {
    /// `p` is to be stored at `seq`, leaving `state`; what it replaced, for [`forget`].
    ///
    /// [`forget`]: Self::forget
    fn learn(&mut self, m: &MarketingIndex, p: &Prepared, state: LatestState, seq: i64) -> Learnt {
        let (digest, channel) = ((m.contact, p.digest), (m.contact, m.channel));
        let had_digest = self.digests.insert(digest, seq);
        let had_state = self.states.insert(channel, (state, seq));
        (digest, had_digest, channel, had_state)
    }

    /// Takes back what `learnt` (in the order learnt) taught: each entry as it was before.
    fn forget(&mut self, learnt: Vec<Learnt>) {
        for (digest, had_digest, channel, had_state) in learnt.into_iter().rev() {
            match had_digest {
                Some(seq) => self.digests.insert(digest, seq),
                None => self.digests.remove(&digest),
            };
            match had_state {
                Some(state) => self.states.insert(channel, state),
                None => self.states.remove(&channel),
            };
        }
    }
}

/// How far a batch's [`Rows`] went, to go back to.
#[derive(Clone, Copy)]
struct Mark {
    rows: usize,
    out: usize,
    seq: i64,
    link: Digest,
}

/// A batch's rows as the columns the `INSERT` statements take (one array each), chained from
/// a head, and the answer for each append.
struct Rows<'a> {
    seqs: Vec<i64>,
    times: Vec<i64>,
    ids: Vec<Option<&'a [u8]>>,
    records: Vec<&'a str>,
    digests: Vec<&'a [u8]>,
    links: Vec<[u8; 32]>,
    actions: Vec<&'a str>,
    revisions: Vec<i32>,
    granted: Vec<&'a str>,
    kinds: Vec<&'static str>,
    contacts: Vec<Option<&'a [u8]>>,
    out: Vec<MarketingAppend>,
    /// The head after the rows: the last position and link.
    seq: i64,
    link: Digest,
    /// The head as signed when the rows were inserted.
    signed: Option<SignedHead>,
}

impl<'a> Rows<'a> {
    fn new((seq, link): (i64, Digest), n: usize) -> Self {
        Self {
            seqs: Vec::with_capacity(n),
            times: Vec::with_capacity(n),
            ids: Vec::with_capacity(n),
            records: Vec::with_capacity(n),
            digests: Vec::with_capacity(n),
            links: Vec::with_capacity(n),
            actions: Vec::with_capacity(n),
            revisions: Vec::with_capacity(n),
            granted: Vec::with_capacity(n),
            kinds: Vec::with_capacity(n),
            contacts: Vec::with_capacity(n),
            out: Vec::with_capacity(n),
            seq,
            link,
            signed: None,
        }
    }

    /// Inserts the rows with `statement`: [`INSERT`], or [`INSERT_AT_HEAD`] with the head it
    /// expects. How many rows went in.
    async fn insert(
        &mut self,
        tx: &tokio_postgres::Transaction<'_>,
        statement: &Statement,
        expected: Option<&(i64, Digest)>,
        signer: &Signer,
    ) -> Result<u64, StoreError> {
        let head = signer.sign(unsigned(self.seq, "seq")?, self.link);
        self.signed = Some(head);
        let links: Vec<&[u8]> = self.links.iter().map(|l| &l[..]).collect();
        let head_link = &self.link.as_bytes()[..];
        let head_mac = &head.mac[..];
        let mut params: Vec<&(dyn ToSql + Sync)> = vec![
            &self.seqs,
            &self.times,
            &self.ids,
            &self.records,
            &self.digests,
            &links,
            &self.actions,
            &self.revisions,
            &self.granted,
            &self.seq,
            &head_link,
        ];
        let expected_link;
        match expected {
            None => {
                params.push(&self.kinds);
                params.push(&self.contacts);
            }
            Some((seq, link)) => {
                expected_link = &link.as_bytes()[..];
                params.push(seq);
                params.push(&expected_link);
            }
        }
        params.push(&head.time);
        params.push(&head_mac);
        within(tx.execute(statement, &params)).await
    }

    /// Where the rows are now.
    fn mark(&self) -> Mark {
        Mark {
            rows: self.seqs.len(),
            out: self.out.len(),
            seq: self.seq,
            link: self.link,
        }
    }

    /// Back to `mark`: the rows and answers since are dropped.
    fn undo(&mut self, mark: Mark) {
        self.seqs.truncate(mark.rows);
        self.times.truncate(mark.rows);
        self.ids.truncate(mark.rows);
        self.records.truncate(mark.rows);
        self.digests.truncate(mark.rows);
        self.links.truncate(mark.rows);
        self.actions.truncate(mark.rows);
        self.revisions.truncate(mark.rows);
        self.granted.truncate(mark.rows);
        self.kinds.truncate(mark.rows);
        self.contacts.truncate(mark.rows);
        self.out.truncate(mark.out);
        self.seq = mark.seq;
        self.link = mark.link;
    }

    /// Chains `p` after the rows so far.
    fn push(&mut self, p: &'a Prepared, key: &LogKey) -> Result<(), StoreError> {
        self.seq += 1;
        let seq = unsigned(self.seq, "seq")?;
        self.link = key.link(&self.link, p.linked(seq));
        self.seqs.push(self.seq);
        self.times.push(p.time);
        self.ids.push(p.consent_id.as_ref().map(|id| &id[..]));
        self.kinds.push(p.kind().as_str());
        self.contacts.push(p.contact());
        self.records.push(p.json.as_str());
        self.digests.push(&p.digest.as_bytes()[..]);
        self.links.push(*self.link.as_bytes());
        self.actions.push(p.summary.action.as_str());
        // Checked to fit in `append`.
        self.revisions
            .push(i32::try_from(p.summary.revision).unwrap_or(i32::MAX));
        self.granted.push(p.summary.granted.as_str());
        self.out.push(MarketingAppend::Stored(Appended {
            seq,
            link: self.link,
        }));
        Ok(())
    }
}

/// Whether a marketing decision may be appended, inside the batch's transaction (after the
/// head is locked, so no other writer moves the state meanwhile): the state after it, or why
/// not (its job's condition is judged before, by [`Statements::broken`]). The batch's own
/// earlier decisions are in `judged`.
async fn judge(
    tx: &tokio_postgres::Transaction<'_>,
    (find_duplicate, read_state): (&Statement, &Statement),
    p: &Prepared,
    m: &MarketingIndex,
    judged: &Judged,
) -> Result<Result<LatestState, MarketingAppend>, StoreError> {
    let contact = &m.contact[..];
    let first = match judged.digests.get(&(m.contact, p.digest)) {
        Some(seq) => Some(*seq),
        None => {
            let digest = &p.digest.as_bytes()[..];
            let row = within(tx.query_opt(find_duplicate, &[&contact, &digest])).await?;
            row.map(|r| column::<i64>(&r, 0)).transpose()?
        }
    };
    if let Some(seq) = first {
        return Ok(Err(MarketingAppend::Duplicate {
            seq: unsigned(seq, "seq")?,
        }));
    }
    let before = latest(tx, read_state, &judged.states, m.contact, m.channel).await?;
    Ok(LatestState::after(before.map(|(state, _)| state), p, m))
}

/// A contact's latest state on a channel and the position of the decision that left it: the
/// batch's own, else the table's.
async fn latest(
    tx: &tokio_postgres::Transaction<'_>,
    read_state: &Statement,
    states: &States,
    contact: [u8; 33],
    channel: MarketingChannel,
) -> Result<Option<(LatestState, i64)>, StoreError> {
    if let Some(latest) = states.get(&(contact, channel)) {
        return Ok(Some(*latest));
    }
    let row = within(tx.query_opt(read_state, &[&&contact[..], &channel.as_str()])).await?;
    row.map(|r| {
        let state = LatestState::parse(&column::<String>(&r, 0)?, column(&r, 1)?, column(&r, 2)?)?;
        Ok((state, column(&r, 3)?))
    })
    .transpose()
}

/// Waits between failed connection attempts: 50 ms, doubling up to [`MAX_BACKOFF`].
#[derive(Default)]
struct Backoff {
    delay: Duration,
    last_failure: Option<Instant>,
}

impl Backoff {
    async fn wait(&self) {
        if let Some(at) = self.last_failure {
            tokio::time::sleep_until(at + self.delay).await;
        }
    }

    fn failed(&mut self) {
        self.delay = (self.delay * 2).clamp(Duration::from_millis(50), MAX_BACKOFF);
        self.last_failure = Some(Instant::now());
    }

    fn succeeded(&mut self) {
        *self = Self::default();
    }
}

async fn write_loop(
    config: Arc<Config>,
    signer: Arc<Signer>,
    mut writer: Option<Writer>,
    rx: mpsc::UnboundedReceiver<Job>,
) {
    let mut batches = Batches::new(rx, MAX_BATCH);
    let mut backoff = Backoff::default();
    loop {
        // Answered by a task of its own: waking a hundred callers is not the next batch's
        // business.
        let answer = |done: Settled| drop(tokio::spawn(async move { done.answer() }));
        if !batches.turn(answer) && !batches.wait().await {
            return;
        }
        let result = commit(&config, &signer, &mut writer, &mut backoff, batches.batch()).await;
        batches.settle(result);
    }
}

/// Commits a batch, connecting first if needed. A batch that failed on a dropped
/// connection before `COMMIT` was sent is tried once more on a new connection: the first
/// batch after a server restart then succeeds instead of reporting the old connection.
async fn commit(
    config: &Config,
    signer: &Signer,
    slot: &mut Option<Writer>,
    backoff: &mut Backoff,
    batch: &[Job],
) -> Result<Vec<MarketingAppend>, StoreError> {
    let mut retried = false;
    loop {
        let writer = match slot.take() {
            Some(w) if !w.conn.client.is_closed() => slot.insert(w),
            _ => {
                backoff.wait().await;
                match Writer::connect(config).await {
                    Ok(w) => {
                        backoff.succeeded();
                        slot.insert(w)
                    }
                    Err(e) => {
                        backoff.failed();
                        return Err(e);
                    }
                }
            }
        };
        let failure = match tokio::time::timeout(OP_TIMEOUT, writer.append(batch, signer)).await {
            Ok(Ok(appended)) => return Ok(appended),
            Ok(Err(failure)) => failure,
            Err(_) => Failure {
                error: StoreError::Unavailable(Cause::only(Doing::Commit(OP_TIMEOUT))),
                maybe_committed: true,
            },
        };
        if let StoreError::Unavailable(_) = failure.error {
            if let Some(w) = slot.take() {
                w.conn.discard();
            }
            if !failure.maybe_committed && !retried {
                retried = true;
                continue;
            }
        }
        return Err(failure.error);
    }
}

/// The connection for reads, erasure and purge, replaced when it drops.
struct Reader {
    config: Arc<Config>,
    conn: Mutex<Option<Arc<Conn>>>,
}

impl Reader {
    async fn client(&self) -> Result<Arc<Conn>, StoreError> {
        let mut slot = self.conn.lock().await;
        match slot.as_ref() {
            Some(c) if !c.client.is_closed() => Ok(Arc::clone(c)),
            _ => {
                *slot = None;
                let c = Arc::new(Conn::open(&self.config).await?);
                *slot = Some(Arc::clone(&c));
                Ok(c)
            }
        }
    }
}

/// Awaits a database call with the operation timeout, mapping its error.
async fn within<T>(
    call: impl Future<Output = Result<T, tokio_postgres::Error>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(OP_TIMEOUT, call).await {
        Ok(result) => result.map_err(map_err),
        Err(_) => Err(StoreError::Unavailable(Cause::only(Doing::Wait(
            OP_TIMEOUT,
        )))),
    }
}

fn map_err(e: tokio_postgres::Error) -> StoreError {
    let lost =
        e.is_closed() || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
    match e.code() {
        Some(code) if *code == SqlState::DISK_FULL => StoreError::Full,
        Some(code) if is_unavailable(code) => {
            StoreError::Unavailable(Cause::new(Doing::Query, Described::of(e)))
        }
        _ if lost => StoreError::Unavailable(Cause::new(Doing::Connection, Described::of(e))),
        _ => StoreError::Database(Cause::new(Doing::Query, Described::of(e))),
    }
}

/// Connection exceptions (class 08) and the server shutting down, crashing or starting.
fn is_unavailable(code: &SqlState) -> bool {
    code.code().starts_with("08")
        || *code == SqlState::ADMIN_SHUTDOWN
        || *code == SqlState::CRASH_SHUTDOWN
        || *code == SqlState::CANNOT_CONNECT_NOW
}

/// A tokio-postgres error that says what it is: tokio-postgres's own `Display` says only
/// "db error".
#[derive(Debug)]
struct Described {
    text: String,
    error: tokio_postgres::Error,
}

impl Described {
    /// The server's message and SQLSTATE, or the error and its causes.
    fn of(error: tokio_postgres::Error) -> Self {
        let text = match error.as_db_error() {
            Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
            None => {
                let mut text = error.to_string();
                let mut source = std::error::Error::source(&error);
                while let Some(s) = source {
                    text.push_str(": ");
                    text.push_str(&s.to_string());
                    source = s.source();
                }
                text
            }
        };
        Self { text, error }
    }
}

impl fmt::Display for Described {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for Described {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// A column, without the panic of [`Row::get`] on a type the schema did not promise.
fn column<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a Row,
    idx: usize,
) -> Result<T, StoreError> {
    row.try_get(idx).map_err(|e| {
        StoreError::Corrupt(Corrupt::Driver(Cause::new(Doing::Query, Described::of(e))))
    })
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

fn unsigned(value: i64, what: &'static str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(Corrupt::Negative(what)))
}

/// The entry, or what is wrong with it and at which record.
fn to_entry(row: &Row) -> Result<Entry, StoreError> {
    let seq: i64 = column(row, 0)?;
    read_entry(row).map_err(|e| e.in_entry(seq))
}

fn read_entry(row: &Row) -> Result<Entry, StoreError> {
    let revision: i32 = column(row, 6)?;
    let kind = EntryKind::parse(&column::<String>(row, 8)?)?;
    Ok(Entry {
        seq: unsigned(column(row, 0)?, "seq")?,
        time: OffsetDateTime::from_unix_timestamp(column(row, 1)?)
            .map_err(|_| StoreError::Corrupt(Corrupt::Time("time")))?,
        record_json: column(row, 2)?,
        digest: digest(column(row, 3)?)?,
        link: digest(column(row, 4)?)?,
        summary: Summary::from_columns(
            kind,
            column(row, 5)?,
            u32::try_from(revision)
                .map_err(|_| StoreError::Corrupt(Corrupt::Negative("revision")))?,
            column(row, 7)?,
        )?,
        kind,
        consent_id: column::<Option<Vec<u8>>>(row, 9)?
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
        contact: column::<Option<Vec<u8>>>(row, 10)?
            .map(|c| {
                ContactHash::from_bytes(&c).ok_or(StoreError::Corrupt(Corrupt::Length {
                    column: "contact hash",
                    bytes: c.len(),
                }))
            })
            .transpose()?,
    })
}

fn to_request(row: &Row) -> Result<Request, StoreError> {
    RawRequest {
        id: column(row, 0)?,
        kind: column(row, 1)?,
        subject: column(row, 2)?,
        received: column(row, 3)?,
        extended: column(row, 4)?,
        identity: column(row, 5)?,
        staff: column(row, 6)?,
        outcome: column(row, 7)?,
        closed: column(row, 8)?,
    }
    .check()
}

fn to_checkpoint(row: &Row) -> Result<Checkpoint, StoreError> {
    let mac: &[u8] = column(row, 4)?;
    Ok(Checkpoint {
        seq: unsigned(column(row, 0)?, "checkpoint seq")?,
        link: digest(column(row, 1)?)?,
        purged: unsigned(column(row, 2)?, "purged count")?,
        time: OffsetDateTime::from_unix_timestamp(column(row, 3)?)
            .map_err(|_| StoreError::Corrupt(Corrupt::Time("checkpoint time")))?,
        mac: mac.try_into().map_err(|_| {
            StoreError::Corrupt(Corrupt::Length {
                column: "checkpoint mac",
                bytes: mac.len(),
            })
        })?,
    })
}

fn to_stats_row(row: &Row) -> Result<StatsRow, StoreError> {
    let revision: i32 = column(row, 2)?;
    StatsRow::from_columns(
        column(row, 0)?,
        column(row, 1)?,
        u32::try_from(revision).map_err(|_| StoreError::Corrupt(Corrupt::Negative("revision")))?,
        column(row, 3)?,
        column(row, 4)?,
    )
}

/// A position as a `BIGINT` parameter; positions past `i64::MAX` do not exist.
fn position(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

impl PgStore {
    /// Erases with `sql` (an `UPDATE ... RETURNING seq`) and appends the erasure entry that
    /// names what it erased, in one transaction on a connection of its own, after locking the
    /// chain's head as the writer does. How many records were erased (none: nothing is
    /// appended).
    async fn erase_with_entry(
        &self,
        whose: Whose,
        filter: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        let reason = whose.reason();
        let mut conn = Conn::open(&self.reader.config).await?;
        let result = async {
            let tx = within(conn.client.transaction()).await?;
            let head = within(tx.query_opt(LOCK_HEAD, &[]))
                .await?
                .ok_or(StoreError::Corrupt(Corrupt::HeadMissing))?;
            let stored = to_signed_head(&head)?;
            self.signer.owns(stored.as_ref())?;
            check_holds(&tx, &self.signer, stored.as_ref()).await?;
            let (seq, link): (i64, Digest) =
                (column(&head, 0)?, digest(&column::<Vec<u8>>(&head, 1)?)?);
            // Each row checked against its own content first, in the transaction that
            // erases it (`Whose::check`).
            let select = format!("SELECT seq, record, digest FROM decisions WHERE {filter} FOR UPDATE");
            for row in within(tx.query(&select, params)).await? {
                let seq: i64 = column(&row, 0)?;
                let unreadable = |column| StoreError::Corrupt(Corrupt::NotItsOwn { seq, column });
                let record: Option<String> =
                    row.try_get(1).map_err(|_| unreadable("record (unreadable)"))?;
                let digest: Vec<u8> = row.try_get(2).map_err(|_| unreadable("digest"))?;
                whose.check(seq, record.as_deref(), &digest)?;
            }
            let sql = format!(
                "UPDATE decisions SET {} = NULL, record = NULL WHERE {filter} RETURNING seq",
                whose.column()
            );
            let rows = within(tx.query(&sql, params)).await?;
            let mut erased = rows
                .iter()
                .map(|r| unsigned(column(r, 0)?, "seq"))
                .collect::<Result<Vec<u64>, _>>()?;
            if erased.is_empty() {
                return Ok((0, None));
            }
            erased.sort_unstable();
            let n = erased.len() as u64;
            let now = OffsetDateTime::now_utc().unix_timestamp();
            let p = Erasure { erased, reason }.prepared(now)?;
            let seq = seq + 1;
            let link = self.signer.key.link(&link, p.linked(unsigned(seq, "seq")?));
            let signed = self.signer.sign(unsigned(seq, "seq")?, link);
            let revision = 0i32;
            within(tx.execute(
                "INSERT INTO decisions (seq, time, record, digest, link, action, revision, granted, kind)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &seq,
                    &p.time,
                    &p.json,
                    &&p.digest.as_bytes()[..],
                    &&link.as_bytes()[..],
                    &p.summary.action,
                    &revision,
                    &p.summary.granted,
                    &p.kind().as_str(),
                ],
            ))
            .await?;
            within(tx.execute(
                "UPDATE chain_head SET seq = $1, link = $2, time = $3, mac = $4 WHERE id = 1",
                &[&seq, &&link.as_bytes()[..], &signed.time, &&signed.mac[..]],
            ))
            .await?;
            within(tx.commit()).await?;
            Ok((n, Some(signed)))
        }
        .await;
        conn.discard();
        let (n, signed) = result?;
        if let Some(signed) = signed {
            self.signer.publish(signed);
        }
        Ok(n)
    }
}

impl Log for PgStore {
    async fn append(&self, record: DecisionRecord) -> Result<Appended, StoreError> {
        self.writable()?;
        let pending = Prepared::new(&record)?;
        // The column is INTEGER: refuse here what the writer could not insert.
        if i32::try_from(pending.summary.revision).is_err() {
            let r = pending.summary.revision;
            return Err(StoreError::Database(Cause::only(Doing::Revision(r))));
        }
        stored(submit_one(&self.appends, pending).await?)
    }

    async fn records_for(&self, id: ConsentId) -> Result<Vec<Entry>, StoreError> {
        let conn = self.reader.client().await?;
        let sql =
            format!("SELECT {ENTRY_COLUMNS} FROM decisions WHERE consent_id = $1 ORDER BY seq");
        let rows = within(conn.client.query(&sql, &[&&id.as_bytes()[..]])).await?;
        rows.iter().map(to_entry).collect()
    }

    async fn erase(&self, id: ConsentId) -> Result<u64, StoreError> {
        self.erase_with_entry(
            Whose::Visitor(id),
            "consent_id = $1 AND kind = 'cookie'",
            &[&&id.as_bytes()[..]],
        )
        .await
    }

    async fn scan(&self, after: u64, limit: usize) -> Result<Vec<Entry>, StoreError> {
        let conn = self.reader.client().await?;
        let sql =
            format!("SELECT {ENTRY_COLUMNS} FROM decisions WHERE seq > $1 ORDER BY seq LIMIT $2");
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = within(conn.client.query(&sql, &[&position(after), &limit])).await?;
        rows.iter().map(to_entry).collect()
    }

    async fn len(&self) -> Result<u64, StoreError> {
        let conn = self.reader.client().await?;
        let row = within(conn.client.query_one("SELECT count(*) FROM decisions", &[])).await?;
        unsigned(column(&row, 0)?, "count")
    }

    async fn lowest(&self) -> Result<Option<i64>, StoreError> {
        let conn = self.reader.client().await?;
        let row = within(conn.client.query_one("SELECT min(seq) FROM decisions", &[])).await?;
        column(&row, 0)
    }

    async fn chain_head(&self) -> Result<Option<SignedHead>, StoreError> {
        if let Some(head) = self.first_head {
            return Ok(Some(head));
        }
        let conn = self.reader.client().await?;
        let row = within(conn.client.query_opt(
            "SELECT seq, link, time, keyed_from, mac FROM chain_head WHERE id = 1",
            &[],
        ))
        .await?;
        Ok(row.as_ref().map(to_signed_head).transpose()?.flatten())
    }

    async fn check_end(&self) -> Result<(), StoreError> {
        let conn = self.reader.client().await?;
        // One statement, so one snapshot: another server's batch moves the head and adds its
        // records in one transaction.
        let row = within(conn.client.query_one(
            "SELECT h.seq, h.link, h.time, h.keyed_from, h.mac, last.seq, last.link
             FROM (SELECT 1) AS one
             LEFT JOIN chain_head h ON h.id = 1
             LEFT JOIN LATERAL (
                 SELECT seq, link FROM decisions
                 UNION ALL SELECT seq, link FROM checkpoint WHERE id = 1
                 ORDER BY seq DESC LIMIT 1
             ) AS last ON true",
            &[],
        ))
        .await?;
        let signed = match column::<Option<i64>>(&row, 0)? {
            Some(_) => to_signed_head(&row)?,
            None => None,
        }
        .ok_or(StoreError::Corrupt(Corrupt::HeadMissing))?;
        let last = match column::<Option<i64>>(&row, 5)? {
            Some(seq) => (unsigned(seq, "seq")?, digest(column(&row, 6)?)?),
            None => (0, Digest::ZERO),
        };
        ends_at(&signed, last)
    }

    fn heads(&self) -> watch::Receiver<Option<SignedHead>> {
        self.heads.clone()
    }

    async fn checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        let conn = self.reader.client().await?;
        let row = within(conn.client.query_opt(
            "SELECT seq, link, purged, time, mac FROM checkpoint WHERE id = 1",
            &[],
        ))
        .await?;
        row.as_ref().map(to_checkpoint).transpose()
    }

    async fn purge(
        &self,
        before: OffsetDateTime,
        sign: &(dyn Fn(u64, &Digest, u64) -> [u8; 32] + Sync),
    ) -> Result<u64, StoreError> {
        let conn = self.reader.client().await?;
        let plan = within(
            conn.client
                .query_opt(PLAN_PURGE, &[&before.unix_timestamp()]),
        )
        .await?;
        let Some(plan) = plan else {
            return Ok(0);
        };
        let seq: i64 = column(&plan, 0)?;
        let link: Vec<u8> = column(&plan, 1)?;
        let total = unsigned(
            column::<i64>(&plan, 2)? + column::<i64>(&plan, 3)?,
            "purged count",
        )?;
        let mac = sign(unsigned(seq, "seq")?, &digest(&link)?, total);
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let row = within(
            conn.client
                .query_one(PURGE, &[&seq, &link, &position(total), &now, &&mac[..]]),
        )
        .await?;
        unsigned(column(&row, 0)?, "count")
    }

    async fn stats(&self) -> Result<Vec<StatsRow>, StoreError> {
        let conn = self.reader.client().await?;
        let rows = within(conn.client.query(STATS, &[])).await?;
        rows.iter().map(to_stats_row).collect()
    }
}

impl Register for PgStore {
    async fn state_rows(&self) -> Result<Vec<StateRow>, StoreError> {
        let conn = self.reader.client().await?;
        let rows = within(conn.client.query(
            "SELECT contact, channel, status, since, latest, seq FROM marketing_state",
            &[],
        ))
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StateRow {
                    contact: column(r, 0)?,
                    channel: column(r, 1)?,
                    status: column(r, 2)?,
                    since: column(r, 3)?,
                    latest: column(r, 4)?,
                    seq: column(r, 5)?,
                })
            })
            .collect()
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
        let conn = self.reader.client().await?;
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM decisions WHERE contact = $1 ORDER BY seq");
        let rows = within(conn.client.query(&sql, &[&&contact.to_bytes()[..]])).await?;
        rows.iter().map(to_entry).collect()
    }

    async fn erase_contact(&self, contact: ContactHash, before: u64) -> Result<u64, StoreError> {
        self.erase_with_entry(
            Whose::Contact(contact),
            "contact = $1 AND seq < $2 AND kind = 'marketing' AND action <> 'suppression'",
            &[&&contact.to_bytes()[..], &position(before)],
        )
        .await
    }

    async fn marketing_states(
        &self,
        channel: MarketingChannel,
        contacts: Vec<ContactHash>,
    ) -> Result<Vec<MarketingState>, StoreError> {
        // One round trip per 10,000 contacts, matched back by contact.
        let conn = self.reader.client().await?;
        let mut found: HashMap<[u8; 33], LatestState> = HashMap::new();
        for chunk in contacts.chunks(10_000) {
            let keys: Vec<[u8; 33]> = chunk.iter().map(ContactHash::to_bytes).collect();
            let keys: Vec<&[u8]> = keys.iter().map(|k| &k[..]).collect();
            let rows = within(conn.client.query(STATES, &[&channel.as_str(), &keys])).await?;
            for row in &rows {
                let contact: &[u8] = column(row, 0)?;
                let key: [u8; 33] = contact.try_into().map_err(|_| {
                    StoreError::Corrupt(Corrupt::Length {
                        column: "contact",
                        bytes: contact.len(),
                    })
                })?;
                let state = LatestState::parse(
                    &column::<String>(row, 1)?,
                    column(row, 2)?,
                    column(row, 3)?,
                )?;
                found.insert(key, state);
            }
        }
        contacts
            .iter()
            .map(|c| {
                found
                    .get(&c.to_bytes())
                    .map(LatestState::answer)
                    .transpose()
            })
            .collect()
    }

    async fn outbox_push(&self, message: Message, now: OffsetDateTime) -> Result<u64, StoreError> {
        let conn = self.reader.client().await?;
        within(conn.client.execute(
            "DELETE FROM outbox WHERE expires < $1",
            &[&now.unix_timestamp()],
        ))
        .await?;
        let row = within(conn.client.query_one(
            "INSERT INTO outbox (recipient, link, expires) VALUES ($1, $2, $3) RETURNING id",
            &[
                &message.to,
                &message.link,
                &message.expires.unix_timestamp(),
            ],
        ))
        .await?;
        within(conn.client.execute(
            "DELETE FROM outbox WHERE id <= \
             (SELECT id FROM outbox ORDER BY id DESC LIMIT 1 OFFSET $1)",
            &[&(CAPACITY as i64)],
        ))
        .await?;
        unsigned(column(&row, 0)?, "outbox id")
    }

    async fn outbox_turn(
        &self,
        contact: ContactHash,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let b = Budget::at(now);
        let conn = self.reader.client().await?;
        within(
            conn.client
                .execute("DELETE FROM outbox_budget WHERE whole_at <= $1", &[&b.now]),
        )
        .await?;
        // One statement: the row it updates is locked until it commits, so a sign-up on
        // another server for the same contact waits, then judges the budget this one left.
        let taken = within(conn.client.query_opt(
            "INSERT INTO outbox_budget (contact, whole_at) VALUES ($1, $2)
             ON CONFLICT (contact) DO UPDATE
             SET whole_at = greatest(outbox_budget.whole_at, $3) + $4
             WHERE outbox_budget.whole_at <= $5
             RETURNING whole_at",
            &[
                &&contact.to_bytes()[..],
                &b.first(),
                &b.now,
                &b.every,
                &b.allows_until,
            ],
        ))
        .await?
        .is_some();
        within(conn.client.execute(
            "DELETE FROM outbox_budget WHERE whole_at <= \
             (SELECT whole_at FROM outbox_budget ORDER BY whole_at DESC LIMIT 1 OFFSET $1)",
            &[&(COUNTED as i64)],
        ))
        .await?;
        Ok(taken)
    }

    async fn outbox_take(
        &self,
        now: OffsetDateTime,
        peek: bool,
    ) -> Result<Vec<Message>, StoreError> {
        let conn = self.reader.client().await?;
        let now = now.unix_timestamp();
        within(
            conn.client
                .execute("DELETE FROM outbox WHERE expires < $1", &[&now]),
        )
        .await?;
        // Taking locks the rows it deletes and skips rows another server is taking: each
        // message goes to one mailer.
        let sql = if peek {
            "SELECT id, recipient, link, expires FROM outbox WHERE expires >= $1"
        } else {
            "DELETE FROM outbox WHERE id IN \
             (SELECT id FROM outbox WHERE expires >= $1 FOR UPDATE SKIP LOCKED) \
             RETURNING id, recipient, link, expires"
        };
        let rows = within(conn.client.query(sql, &[&now])).await?;
        let mut messages = rows
            .iter()
            .map(|r| outbox_message(column(r, 0)?, column(r, 1)?, column(r, 2)?, column(r, 3)?))
            .collect::<Result<Vec<_>, _>>()?;
        // RETURNING promises no order.
        messages.sort_unstable_by_key(|m| m.id);
        Ok(messages)
    }

    async fn outbox_remove(&self, id: u64) -> Result<bool, StoreError> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(false);
        };
        let conn = self.reader.client().await?;
        let n = within(
            conn.client
                .execute("DELETE FROM outbox WHERE id = $1", &[&id]),
        )
        .await?;
        Ok(n == 1)
    }

    async fn outbox_forget(&self, to: &str) -> Result<u64, StoreError> {
        let conn = self.reader.client().await?;
        within(
            conn.client
                .execute("DELETE FROM outbox WHERE recipient = $1", &[&to]),
        )
        .await
    }
}

impl Requests for PgStore {
    async fn insert_request(&self, request: Request) -> Result<u64, StoreError> {
        let conn = self.reader.client().await?;
        let [kind, subject, received, identity, staff, outcome, closed] = request_texts(&request);
        let row = within(conn.client.query_one(
            "INSERT INTO requests (kind, subject, received, extended, identity, staff, outcome, closed)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            &[&kind, &subject, &received, &request.extended, &identity, &staff, &outcome, &closed],
        ))
        .await?;
        unsigned(column(&row, 0)?, "request id")
    }

    async fn request(&self, id: u64) -> Result<Option<Request>, StoreError> {
        let conn = self.reader.client().await?;
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE id = $1");
        let row = within(conn.client.query_opt(&sql, &[&position(id)])).await?;
        row.as_ref().map(to_request).transpose()
    }

    async fn save_request(&self, request: Request) -> Result<bool, StoreError> {
        let conn = self.reader.client().await?;
        let [kind, subject, received, identity, staff, outcome, closed] = request_texts(&request);
        let n = within(conn.client.execute(
            "UPDATE requests SET kind = $2, subject = $3, received = $4, extended = $5,
             identity = $6, staff = $7, outcome = $8, closed = $9 WHERE id = $1",
            &[
                &position(request.id),
                &kind,
                &subject,
                &received,
                &request.extended,
                &identity,
                &staff,
                &outcome,
                &closed,
            ],
        ))
        .await?;
        Ok(n == 1)
    }

    async fn requests(&self, open_only: bool) -> Result<Vec<Request>, StoreError> {
        let conn = self.reader.client().await?;
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM requests WHERE NOT $1 OR closed IS NULL ORDER BY id"
        );
        let rows = within(conn.client.query(&sql, &[&open_only])).await?;
        rows.iter().map(to_request).collect()
    }
}
