//! A consistent copy of a live SQLite log (`consent backup`), taken with SQLite's online
//! backup API while the server goes on writing.
//!
//! Copying the file with `cp` can catch a commit half-written, and misses whatever is still in
//! the `-wal` file beside it. [`backup`] instead:
//!
//! 1. Opens the log read-only: a mistyped path is an error, never a new empty log, and a file
//!    without a `decisions` table is refused as not a log.
//! 2. Copies every page in one backup step, that is under one read transaction: the copy is
//!    the log as it stood after one commit, every record acknowledged before the backup
//!    started included. In WAL mode the server's appends go on meanwhile. (Copying a few pages
//!    at a time would let other writers in between, and SQLite restarts the copy after each
//!    of their commits: under steady load it might never finish.)
//! 3. Writes the copy to a temporary file beside the destination, switches it to
//!    `journal_mode = DELETE` (one self-contained file; the server turns WAL back on when it
//!    opens a restored copy), syncs it, renames it into place and syncs the directory: a
//!    destination that exists is a whole copy.
//! 4. Writes the copy's own signed head (its `chain_head` row) to the head file beside it,
//!    `<copy>.head`, so that `consent verify --db <copy>` checks the copy as it would the
//!    live log. The live head file is not copied: it may already vouch for records the copy
//!    does not hold.
//!
//! Caveats:
//! - The server key is not in the copy, and `verify` needs it: back the key up once, apart
//!   from the copies (docs/DEPLOY.md).
//! - The copy holds the same personal data as the log: keep it as carefully, and delete old
//!   copies as the retention period asks.
//! - Restoring a copy loses the records after it; the live head file then says so (`consent
//!   serve` refuses to start on a log that ends before its head file) until it is replaced
//!   with the copy's.
//! - PostgreSQL logs are backed up with `pg_dump`, which takes a consistent snapshot too.

use core::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use super::SignedHead;
use super::chain::write_head;
use super::sqlite::read_chain_head;

/// How often a backup step that finds the log locked is tried again, [`RETRY_PAUSE`] apart.
const RETRIES: u32 = 200;

/// The pause between tries of a locked log: with [`RETRIES`], about ten seconds in all, as
/// long as the store's own busy timeout.
const RETRY_PAUSE: Duration = Duration::from_millis(50);

/// What [`backup`] copied.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Copied {
    /// The entries in the copy (cookie, marketing and erasure entries).
    pub entries: u64,
    /// The copy's signed head, also written to its head file; `None` for a log nothing was
    /// ever appended to.
    pub head: Option<SignedHead>,
    /// The copy's size in bytes.
    pub bytes: u64,
    /// Where the copy's head file is.
    pub head_file: PathBuf,
}

/// Why a backup was not made. Nothing is left at the destination.
#[derive(Debug)]
#[non_exhaustive]
pub enum BackupError {
    /// The log cannot be opened or read.
    Source(PathBuf, String),
    /// The file is an SQLite database but not a decision log.
    NotALog(PathBuf),
    /// The destination, or its head file, exists already: a backup never replaces a file.
    Exists(PathBuf),
    /// The copy cannot be written.
    Destination(PathBuf, String),
}

impl fmt::Display for BackupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackupError::Source(path, e) => {
                write!(f, "cannot read the log {}: {e}", path.display())
            }
            BackupError::NotALog(path) => write!(
                f,
                "{} is not a decision log (it has no decisions table)",
                path.display()
            ),
            BackupError::Exists(path) => write!(
                f,
                "{} exists already: a backup never replaces a file; name a new one",
                path.display()
            ),
            BackupError::Destination(path, e) => {
                write!(f, "cannot write the copy {}: {e}", path.display())
            }
        }
    }
}

impl std::error::Error for BackupError {}

/// The head file that goes with a log or copy at `db`: `db` with `.head` added, the default
/// `consent verify --db` looks for.
#[must_use]
pub fn head_file_of(db: &Path) -> PathBuf {
    let mut path = db.as_os_str().to_owned();
    path.push(".head");
    PathBuf::from(path)
}

/// Copies the SQLite log at `source` to `dest`, and its signed head to `dest`'s head file
/// ([`head_file_of`]), while other connections and processes may be writing to it. Blocks for
/// as long as the copy takes: call it from a blocking thread.
///
/// # Errors
/// [`BackupError`]: the source cannot be read or is not a log, the destination or its head
/// file exists, or the copy cannot be written.
pub fn backup(source: &Path, dest: &Path) -> Result<Copied, BackupError> {
    let head_file = head_file_of(dest);
    for path in [dest, head_file.as_path()] {
        if path.symlink_metadata().is_ok() {
            return Err(BackupError::Exists(path.to_owned()));
        }
    }
    let src = open_source(source)?;
    let tmp = temporary(dest);
    let copied = copy_to(&src, &tmp).and_then(|copied| {
        std::fs::rename(&tmp, dest).map_err(|e| e.to_string())?;
        sync_parent(dest).map_err(|e| e.to_string())?;
        Ok(copied)
    });
    let (entries, head) = copied.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        BackupError::Destination(dest.to_owned(), e)
    })?;
    if let Some(head) = &head {
        write_head(&head_file, head)
            .map_err(|e| BackupError::Destination(head_file.clone(), e.to_string()))?;
    }
    let bytes = std::fs::metadata(dest)
        .map_err(|e| BackupError::Destination(dest.to_owned(), e.to_string()))?
        .len();
    Ok(Copied {
        entries,
        head,
        bytes,
        head_file,
    })
}

/// The log, read-only, after checking that it is one.
fn open_source(path: &Path) -> Result<Connection, BackupError> {
    let failed = |e: rusqlite::Error| BackupError::Source(path.to_owned(), e.to_string());
    if !path.is_file() {
        let what = if path.is_dir() {
            "a directory, not a log file (check --db or --data-dir)"
        } else {
            "no such file (check --db or --data-dir)"
        };
        return Err(BackupError::Source(path.to_owned(), what.into()));
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(failed)?;
    conn.busy_timeout(RETRY_PAUSE * RETRIES).map_err(failed)?;
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'decisions'",
            [],
            |r| r.get(0),
        )
        .map_err(failed)?;
    if tables == 0 {
        return Err(BackupError::NotALog(path.to_owned()));
    }
    Ok(conn)
}

/// A name beside `dest` for the copy in the making.
fn temporary(dest: &Path) -> PathBuf {
    let mut path = dest.as_os_str().to_owned();
    path.push(format!(".{}.tmp", std::process::id()));
    PathBuf::from(path)
}

/// Copies `src` into a new database at `to` in one step, then makes `to` a single synced
/// file. Returns the copy's entries and signed head.
fn copy_to(src: &Connection, to: &Path) -> Result<(u64, Option<SignedHead>), String> {
    let text = |e: rusqlite::Error| e.to_string();
    let mut dst = Connection::open(to).map_err(text)?;
    {
        let backup = Backup::new(src, &mut dst).map_err(text)?;
        step_to_the_end(&backup)?;
    }
    dst.pragma_update(None, "journal_mode", "DELETE")
        .map_err(text)?;
    let entries: i64 = dst
        .query_row("SELECT count(*) FROM decisions", [], |r| r.get(0))
        .map_err(text)?;
    let head = read_chain_head(&dst).map_err(|e| e.to_string())?;
    dst.close().map_err(|(_, e)| e.to_string())?;
    std::fs::File::open(to)
        .and_then(|f| f.sync_all())
        .map_err(|e| e.to_string())?;
    Ok((u64::try_from(entries).unwrap_or(0), head))
}

/// Runs the backup as one step (all pages, one read transaction), trying again while
/// another connection holds a lock that stops it from starting.
fn step_to_the_end(backup: &Backup<'_, '_>) -> Result<(), String> {
    for _ in 0..RETRIES {
        match backup.step(-1).map_err(|e| e.to_string())? {
            StepResult::Done => return Ok(()),
            // -1 copies every page in one step, so More is not expected; stepping again
            // continues the copy if it ever is.
            StepResult::More => {}
            // Busy or Locked (or whatever a later rusqlite adds): wait and try again.
            _ => std::thread::sleep(RETRY_PAUSE),
        }
    }
    Err(format!(
        "the log stayed locked for {} s",
        (RETRY_PAUSE * RETRIES).as_secs()
    ))
}

/// Syncs the directory holding `path`, so that the rename into it survives a power loss.
fn sync_parent(path: &Path) -> std::io::Result<()> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => std::fs::File::open(dir)?.sync_all(),
        None => std::fs::File::open(".")?.sync_all(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_log_and_never_replaces_a_file() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
        let other = dir.path().join("other.db");
        Connection::open(&other)
            .and_then(|c| c.execute_batch("CREATE TABLE t (x)"))
            .unwrap_or_else(|e| unreachable!("{e}"));
        let dest = dir.path().join("copy.db");
        assert!(matches!(
            backup(&other, &dest),
            Err(BackupError::NotALog(p)) if p == other
        ));
        let missing = dir.path().join("missing.db");
        let err = backup(&missing, &dest).map(|_| ()).unwrap_err();
        assert!(err.to_string().contains("missing.db"), "{err}");
        assert!(!missing.exists(), "a backup never creates its source");
        assert!(!dest.exists());
        std::fs::write(&dest, b"keep me").unwrap_or_else(|e| unreachable!("{e}"));
        let err = backup(&other, &dest).map(|_| ()).unwrap_err();
        assert!(matches!(err, BackupError::Exists(_)), "{err}");
        assert_eq!(std::fs::read(&dest).ok().as_deref(), Some(&b"keep me"[..]));
    }
}
