//! The chain's rules, written once for both stores and for `verify`: how a link is made, and
//! the signed head that says where the chain ended.
//!
//! A link is HMAC-SHA-256 under a key derived from the server key ([`LogKey`]), over the
//! position, the previous link, the record's digest and every column kept after an erasure
//! (kind, time, summary). So someone who can edit the database but does not hold the key can
//! neither relink the chain after removing or renumbering rows, nor edit a summary column,
//! without `verify` naming the first record touched.
//!
//! After every committed batch a store signs the new head ([`SignedHead`]: position, link,
//! time, and where the keyed chain starts) and keeps it in its `chain_head` row. A copy kept
//! outside the database (the head file, [`keep_head_file`]) catches what no row inside it
//! can: the last records deleted together with the head row, or the whole database rolled
//! back to an older copy.
//!
//! Logs written before the keyed chain keep their plain SHA-256 links
//! ([`consent_core::chain_link`]) up to the position the store recorded when it first opened
//! them ([`SignedHead::keyed_from`]); `verify` says how many records that prefix holds and what
//! it cannot prove.

use core::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use consent_core::Digest;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::OffsetDateTime;
use tokio::sync::watch;

use super::rotation::{KeyId, Rotation};
use super::{Checkpoint, Corrupt, EntryKind, Prepared, StoreError, SummaryColumns};

/// One epoch's log key: the key its links and heads are made under, derived from that
/// epoch's server key so that it never signs anything else, and the key its purge checkpoints
/// are signed under (the server key itself, as before the keyed chain).
#[derive(Clone)]
pub struct LogKey {
    mac: Hmac<Sha256>,
    checkpoint: Hmac<Sha256>,
    id: KeyId,
    epoch: u32,
}

impl fmt::Debug for LogKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LogKey(epoch {}, id {})", self.epoch, self.id)
    }
}

/// The log keys of a key file ([`ServerKey::log_keys`](crate::ServerKey::log_keys)): the
/// current one, which links and signs, and the retired ones, which verify the records made
/// before their rotations ([`super::rotation`]).
#[derive(Clone, Debug)]
pub struct LogKeys {
    /// Oldest first; the last is current. Never empty.
    keys: Vec<LogKey>,
}

impl LogKeys {
    /// The keys of a key file, oldest first; `None` when there are none.
    pub(crate) fn new(keys: Vec<LogKey>) -> Option<Self> {
        (!keys.is_empty()).then_some(Self { keys })
    }

    /// The current key: new links, heads and checkpoints are made under it.
    #[must_use]
    pub fn current(&self) -> &LogKey {
        // `new` refuses an empty ring.
        &self.keys[self.keys.len() - 1]
    }

    /// Every key, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &LogKey> {
        self.keys.iter()
    }

    /// The key with this id.
    #[must_use]
    pub fn get(&self, id: KeyId) -> Option<&LogKey> {
        self.keys.iter().find(|k| k.id == id)
    }

    /// The key `head` was signed under, if it is one of these.
    #[must_use]
    pub fn signer_of(&self, head: &SignedHead) -> Option<&LogKey> {
        self.keys.iter().rev().find(|k| k.verify_head(head))
    }

    /// The key under which `entry` links to `link` after `previous`, if it is one of these.
    #[must_use]
    pub fn linker_of(
        &self,
        previous: &Digest,
        entry: Linked<'_>,
        link: &Digest,
    ) -> Option<&LogKey> {
        self.keys
            .iter()
            .rev()
            .find(|k| k.link(previous, entry) == *link)
    }

    /// The current key's [`LogKey::link`], for tests and tools that chain one key's records.
    #[must_use]
    pub fn link(&self, previous: &Digest, entry: Linked<'_>) -> Digest {
        self.current().link(previous, entry)
    }

    /// The current key's [`LogKey::sign_head`].
    #[must_use]
    pub fn sign_head(&self, seq: u64, link: Digest, time: i64, keyed_from: u64) -> SignedHead {
        self.current().sign_head(seq, link, time, keyed_from)
    }

    /// Whether `head` was signed under the current key.
    #[must_use]
    pub fn verify_head(&self, head: &SignedHead) -> bool {
        self.current().verify_head(head)
    }
}

/// What a store appends when it is opened with a key file whose current key is newer than the
/// key its head is signed under ([`super::rotation`], rule 3).
pub(crate) struct CatchUp<'a> {
    /// The key the log was under: it links the rotation entry.
    pub(crate) from: &'a LogKey,
    /// The rotation entry.
    pub(crate) entry: Prepared,
    /// The purge checkpoint's MAC under the new key, when the log has a checkpoint.
    pub(crate) checkpoint_mac: Option<[u8; 32]>,
}

/// Whether the log whose head is `head` must be rotated to `keys`' current key, and what to
/// append if so. A head signed under no key of `keys` is left alone: `verify` names it, and
/// no writer appends after it.
///
/// # Errors
/// [`StoreError::Corrupt`] when the checkpoint does not verify under the key the log was
/// under: a forged checkpoint is not signed again.
pub(crate) fn catch_up<'a>(
    keys: &'a LogKeys,
    head: Option<&SignedHead>,
    checkpoint: Option<&Checkpoint>,
    now: i64,
) -> Result<Option<CatchUp<'a>>, StoreError> {
    let current = keys.current();
    let Some(from) = head.and_then(|h| keys.signer_of(h)) else {
        return Ok(None);
    };
    if from.id == current.id {
        return Ok(None);
    }
    let checkpoint_mac = match checkpoint {
        None => None,
        Some(c) => {
            if !from.verify_checkpoint(c.seq, &c.link, c.purged, &c.mac) {
                return Err(StoreError::Corrupt(Corrupt::CheckpointUnsigned(from.id)));
            }
            Some(current.checkpoint_mac(c.seq, &c.link, c.purged))
        }
    };
    let rotation = Rotation {
        from: from.id,
        to: current.id,
        epoch: current.epoch,
    };
    Ok(Some(CatchUp {
        from,
        entry: rotation.prepared(now)?,
        checkpoint_mac,
    }))
}

/// The columns of an entry that its link covers.
#[derive(Clone, Copy, Debug)]
pub struct Linked<'a> {
    /// The entry's position.
    pub seq: u64,
    /// Cookie or marketing.
    pub kind: EntryKind,
    /// When it was appended (unix seconds).
    pub time: i64,
    /// The record's digest.
    pub digest: &'a Digest,
    /// The summary kept after erasure, as stored.
    pub summary: &'a SummaryColumns,
}

impl LogKey {
    /// The log key of a server secret of key epoch `epoch`.
    ///
    /// # Errors
    /// Never for a secret of any length (HMAC takes any key); `Err` is kept for symmetry with
    /// the other keys.
    pub(crate) fn derive(secret: &[u8], epoch: u32) -> Result<Self, hmac::digest::InvalidLength> {
        let checkpoint = <Hmac<Sha256> as Mac>::new_from_slice(secret)?;
        let mut derive = checkpoint.clone();
        derive.update(b"consent-log-key-v1\0");
        let key = derive.finalize().into_bytes();
        let mut id = checkpoint.clone();
        id.update(b"consent-key-id-v1\0");
        Ok(Self {
            mac: <Hmac<Sha256> as Mac>::new_from_slice(&key)?,
            id: KeyId::from_mac(&id.finalize().into_bytes()),
            checkpoint,
            epoch,
        })
    }

    /// The key's id, as rotation entries name it.
    #[must_use]
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// The key's epoch in its key file.
    #[must_use]
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    fn checkpoint_hmac(&self, seq: u64, link: &Digest, purged: u64) -> Hmac<Sha256> {
        let mut mac = self.checkpoint.clone();
        mac.update(b"consent-checkpoint-v1\0");
        mac.update(&seq.to_be_bytes());
        mac.update(link.as_bytes());
        mac.update(&purged.to_be_bytes());
        mac
    }

    /// The MAC of a purge checkpoint.
    #[must_use]
    pub fn checkpoint_mac(&self, seq: u64, link: &Digest, purged: u64) -> [u8; 32] {
        self.checkpoint_hmac(seq, link, purged)
            .finalize()
            .into_bytes()
            .into()
    }

    /// Whether `mac` is the checkpoint's MAC under this key, compared in constant time.
    #[must_use]
    pub fn verify_checkpoint(&self, seq: u64, link: &Digest, purged: u64, mac: &[u8; 32]) -> bool {
        self.checkpoint_hmac(seq, link, purged)
            .verify_slice(mac)
            .is_ok()
    }

    /// The link after `previous` for an entry.
    #[must_use]
    pub fn link(&self, previous: &Digest, entry: Linked<'_>) -> Digest {
        let mut mac = self.mac.clone();
        mac.update(b"consent-chain-v2\0");
        mac.update(&entry.seq.to_be_bytes());
        mac.update(previous.as_bytes());
        mac.update(entry.digest.as_bytes());
        for text in [entry.kind.as_str(), entry.summary.action.as_str()] {
            mac.update(&(text.len() as u64).to_be_bytes());
            mac.update(text.as_bytes());
        }
        mac.update(&entry.time.to_be_bytes());
        mac.update(&entry.summary.revision.to_be_bytes());
        mac.update(&(entry.summary.granted.len() as u64).to_be_bytes());
        mac.update(entry.summary.granted.as_bytes());
        Digest::from_bytes(mac.finalize().into_bytes().into())
    }

    fn head_mac(&self, seq: u64, link: &Digest, time: i64, keyed_from: u64) -> Hmac<Sha256> {
        let mut mac = self.mac.clone();
        mac.update(b"consent-head-v1\0");
        mac.update(&seq.to_be_bytes());
        mac.update(link.as_bytes());
        mac.update(&time.to_be_bytes());
        mac.update(&keyed_from.to_be_bytes());
        mac
    }

    /// The signed head of a chain that ends at `seq` with `link`.
    #[must_use]
    pub fn sign_head(&self, seq: u64, link: Digest, time: i64, keyed_from: u64) -> SignedHead {
        let mac = self.head_mac(seq, &link, time, keyed_from).finalize();
        SignedHead {
            seq,
            link,
            time,
            keyed_from,
            mac: mac.into_bytes().into(),
        }
    }

    /// Whether `head` was signed under this key (compared in constant time).
    #[must_use]
    pub fn verify_head(&self, head: &SignedHead) -> bool {
        self.head_mac(head.seq, &head.link, head.time, head.keyed_from)
            .verify_slice(&head.mac)
            .is_ok()
    }
}

/// What a store's writer links and signs with: the key, where the keyed chain starts, and
/// where each committed head is published ([`Log::heads`](super::Log::heads)).
#[derive(Debug)]
pub(crate) struct Signer {
    pub(crate) key: LogKey,
    pub(crate) keyed_from: u64,
    published: watch::Sender<Option<SignedHead>>,
}

impl Signer {
    /// A signer, and the receiver of the heads it publishes, starting at `current`.
    pub(crate) fn new(
        keys: &LogKeys,
        keyed_from: u64,
        current: Option<SignedHead>,
    ) -> (Self, watch::Receiver<Option<SignedHead>>) {
        let (published, heads) = watch::channel(current);
        (
            Self {
                key: keys.current().clone(),
                keyed_from,
                published,
            },
            heads,
        )
    }

    /// The signed head of a chain ending at `seq` with `link`, now.
    pub(crate) fn sign(&self, seq: u64, link: Digest) -> SignedHead {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        self.key.sign_head(seq, link, now, self.keyed_from)
    }

    /// Whether the head a batch is about to extend (`stored`, as read in its transaction) was
    /// signed under this signer's key. Another process that rotated the key signed it under
    /// the new one, and a head edited by hand is signed under none: either way this signer
    /// must not extend the chain.
    ///
    /// # Errors
    /// [`StoreError::ForeignHead`].
    pub(crate) fn owns(&self, stored: Option<&SignedHead>) -> Result<(), StoreError> {
        match stored {
            Some(head) if self.key.verify_head(head) => Ok(()),
            _ => Err(StoreError::ForeignHead),
        }
    }

    /// Publishes a head once its batch is committed.
    pub(crate) fn publish(&self, head: SignedHead) {
        self.published.send_replace(Some(head));
    }

    /// The last head this store signed, or found when it opened.
    pub(crate) fn last(&self) -> Option<SignedHead> {
        *self.published.borrow()
    }
}

/// [`Corrupt::RolledBack`] unless a log whose signed head is `stored` still holds the record
/// of `last` (the last head this store signed or found) with its link. `link_at` is the link
/// stored at `last.seq`, needed only when the head moved past it (another process or server
/// appended); `None` when no row holds it (purged since; a row removed from the middle is a
/// gap `verify` names).
///
/// A signed head only moves forward, whoever signs it, so one behind `last`, or at its
/// position with another link, is an older head put back: extended, the log's next head and
/// the head file would vouch for what was left.
pub(crate) fn holds(
    last: &SignedHead,
    stored: &SignedHead,
    link_at: Option<Digest>,
) -> Result<(), StoreError> {
    let holds = match stored.seq.cmp(&last.seq) {
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => stored.link == last.link,
        std::cmp::Ordering::Greater => link_at.is_none_or(|link| link == last.link),
    };
    if holds {
        Ok(())
    } else {
        Err(StoreError::Corrupt(Corrupt::RolledBack { seq: last.seq }))
    }
}

/// [`Corrupt::NotAtHead`] unless the chain ends where `signed` says it does: `last` is its
/// last position and link as stored (the last record, or the purge checkpoint). A writer
/// extends the chain only from the record its signed head names.
pub(crate) fn ends_at(signed: &SignedHead, (seq, link): (u64, Digest)) -> Result<(), StoreError> {
    if signed.seq != seq || signed.link != link {
        return Err(StoreError::Corrupt(Corrupt::NotAtHead {
            head: signed.seq,
            last: seq,
        }));
    }
    Ok(())
}

/// Where the chain ended after a commit, signed under the [`LogKey`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedHead {
    /// The last position (0 for an empty log).
    pub seq: u64,
    /// The link after it.
    pub link: Digest,
    /// When the head was signed (unix seconds).
    pub time: i64,
    /// The last position linked with plain SHA-256, written before the keyed chain (0 for a
    /// log that was keyed from its start).
    pub keyed_from: u64,
    /// HMAC-SHA-256 of the above.
    pub mac: [u8; 32],
}

/// Why a head file could not be read.
#[derive(Debug)]
#[non_exhaustive]
pub enum HeadFileError {
    /// The file could not be read.
    Io(PathBuf, std::io::Error),
    /// The file does not hold one signed head.
    Malformed(PathBuf, &'static str),
}

impl fmt::Display for HeadFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeadFileError::Io(p, e) => write!(f, "head file {}: {e}", p.display()),
            HeadFileError::Malformed(p, what) => {
                write!(f, "head file {}: not a signed head ({what})", p.display())
            }
        }
    }
}

impl std::error::Error for HeadFileError {}

const HEAD_TAG: &str = "consent-head-v1";

impl SignedHead {
    /// The head as the one line a head file holds.
    #[must_use]
    pub fn to_line(&self) -> String {
        let mac = Digest::from_bytes(self.mac);
        format!(
            "{HEAD_TAG} seq={} link={} time={} keyed_from={} mac={mac}\n",
            self.seq, self.link, self.time, self.keyed_from
        )
    }

    /// Parses a head file's line. The signature is not checked here
    /// ([`LogKey::verify_head`] does).
    ///
    /// # Errors
    /// What is missing or malformed.
    pub fn parse(line: &str) -> Result<Self, &'static str> {
        let mut fields = line.split_ascii_whitespace();
        if fields.next() != Some(HEAD_TAG) {
            return Err("it does not start with consent-head-v1");
        }
        let mut take = |name: &'static str| -> Result<&str, &'static str> {
            fields
                .next()
                .and_then(|f| f.strip_prefix(name))
                .and_then(|f| f.strip_prefix('='))
                .ok_or(name)
        };
        let seq = take("seq")?.parse().map_err(|_| "seq")?;
        let link = take("link")?.parse().map_err(|_| "link")?;
        let time = take("time")?.parse().map_err(|_| "time")?;
        let keyed_from = take("keyed_from")?.parse().map_err(|_| "keyed_from")?;
        let mac: Digest = take("mac")?.parse().map_err(|_| "mac")?;
        if fields.next().is_some() {
            return Err("trailing fields");
        }
        Ok(Self {
            seq,
            link,
            time,
            keyed_from,
            mac: *mac.as_bytes(),
        })
    }

    /// Reads a head file.
    ///
    /// # Errors
    /// [`HeadFileError`] when the file cannot be read or holds no signed head.
    pub fn read(path: &Path) -> Result<Self, HeadFileError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| HeadFileError::Io(path.to_owned(), e))?;
        Self::parse(&text).map_err(|what| HeadFileError::Malformed(path.to_owned(), what))
    }

    /// When the head was signed.
    #[must_use]
    pub fn signed_at(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.time).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

/// Writes `head` to `path` so that a reader sees the old head or the new one, never a mix: a
/// temporary file beside it, synced, then renamed over it, then the directory synced.
///
/// # Errors
/// The I/O error.
pub fn write_head(path: &Path, head: &SignedHead) -> std::io::Result<()> {
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.{n}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(head.to_line().as_bytes())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Writes `head` to the head file at `path` unless the file already holds a later head: a
/// head file never moves back, so a log rolled back to an older copy cannot launder it.
///
/// # Errors
/// The I/O error, or [`std::io::ErrorKind::InvalidData`] when the file holds a later head.
pub fn advance_head(path: &Path, head: &SignedHead) -> std::io::Result<()> {
    if let Ok(held) = SignedHead::read(path) {
        if held.seq > head.seq {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "it holds record {} and the log signed {}: the log was rolled back",
                    held.seq, head.seq
                ),
            ));
        }
        // The same record with another link: the log's end was deleted, an older head put
        // back and the log extended again (by another process on the same file).
        if held.seq == head.seq && held.link != head.link {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "it holds record {} with another link than the log signed: the log was \
                     rewritten at its end",
                    held.seq
                ),
            ));
        }
    }
    write_head(path, head)
}

/// Keeps the head file at `path` up to date with the heads a store signs, until the store is
/// dropped: spawn it on the runtime (`consent serve` does). Heads that arrive while one is
/// written are skipped for the latest, so appends never wait for the file. After a crash it
/// may lag the log by the last batches, which `verify` accepts: records after the file's head
/// are keyed, so they cannot be forged without the key.
pub async fn keep_head_file(path: PathBuf, mut heads: watch::Receiver<Option<SignedHead>>) {
    let mut written: Option<SignedHead> = None;
    loop {
        let head = *heads.borrow_and_update();
        if let Some(head) = head.filter(|h| Some(*h) != written) {
            let target = path.clone();
            match tokio::task::spawn_blocking(move || advance_head(&target, &head)).await {
                Ok(Ok(())) => written = Some(head),
                Ok(Err(e)) => {
                    tracing::error!(error = %e, path = %path.display(), "cannot write the head file");
                }
                Err(_) => return,
            }
        }
        if heads.changed().await.is_err() {
            return;
        }
    }
}

/// The digest the chain links for an entry that is not a decision (an erasure, a rotation):
/// SHA-256 under the entry kind's own domain `tag` over its JSON, so that no entry can pass
/// for one of another kind.
pub(crate) fn entry_digest(tag: &[u8], json: &str) -> Digest {
    use sha2::Digest as _;
    let mut h = Sha256::new();
    h.update(tag);
    h.update(json.as_bytes());
    Digest::from_bytes(h.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> LogKey {
        LogKey::derive(&[7u8; 32], 0).unwrap()
    }

    fn summary() -> SummaryColumns {
        SummaryColumns {
            action: "accept_all".into(),
            revision: 3,
            granted: "necessary,analytics".into(),
        }
    }

    #[test]
    fn a_link_covers_every_column_kept_after_erasure() {
        let (k, s, d) = (key(), summary(), Digest::from_bytes([1; 32]));
        let base = Linked {
            seq: 5,
            kind: EntryKind::Cookie,
            time: 100,
            digest: &d,
            summary: &s,
        };
        let link = k.link(&Digest::ZERO, base);
        let other_digest = Digest::from_bytes([2; 32]);
        let mut edited_summary = summary();
        edited_summary.granted = "necessary".into();
        let mut other_revision = summary();
        other_revision.revision = 4;
        let mut other_action = summary();
        other_action.action = "reject_all".into();
        let edits = [
            Linked { seq: 4, ..base },
            Linked {
                kind: EntryKind::Marketing,
                ..base
            },
            Linked { time: 101, ..base },
            Linked {
                digest: &other_digest,
                ..base
            },
            Linked {
                summary: &edited_summary,
                ..base
            },
            Linked {
                summary: &other_revision,
                ..base
            },
            Linked {
                summary: &other_action,
                ..base
            },
        ];
        for edit in edits {
            assert_ne!(k.link(&Digest::ZERO, edit), link, "{edit:?}");
        }
        assert_ne!(k.link(&Digest::from_bytes([9; 32]), base), link);
        assert_ne!(
            LogKey::derive(&[8u8; 32], 0)
                .unwrap()
                .link(&Digest::ZERO, base),
            link
        );
        assert_eq!(k.link(&Digest::ZERO, base), link);
    }

    #[test]
    fn a_head_round_trips_through_its_line_and_its_signature_covers_each_field() {
        let k = key();
        let head = k.sign_head(42, Digest::from_bytes([3; 32]), 1_700_000_000, 7);
        let parsed = SignedHead::parse(&head.to_line()).unwrap();
        assert_eq!(parsed, head);
        assert!(k.verify_head(&parsed));
        for edited in [
            SignedHead { seq: 41, ..head },
            SignedHead { time: 0, ..head },
            SignedHead {
                keyed_from: 0,
                ..head
            },
            SignedHead {
                link: Digest::ZERO,
                ..head
            },
        ] {
            assert!(!k.verify_head(&edited));
        }
        assert!(!LogKey::derive(&[8u8; 32], 0).unwrap().verify_head(&head));
    }

    #[test]
    fn a_malformed_head_line_names_what_is_wrong() {
        let line = key()
            .sign_head(1, Digest::ZERO, 0, 0)
            .to_line()
            .replace("seq=1", "seq=x");
        assert_eq!(SignedHead::parse(&line), Err("seq"));
        assert!(SignedHead::parse("").is_err());
        assert!(SignedHead::parse("consent-head-v1 seq=1").is_err());
    }

    #[test]
    fn the_head_file_is_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.head");
        let k = key();
        for seq in 1..4 {
            let head = k.sign_head(seq, Digest::ZERO, 0, 0);
            write_head(&path, &head).unwrap();
            assert_eq!(SignedHead::read(&path).unwrap(), head);
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let older = k.sign_head(2, Digest::ZERO, 0, 0);
        assert!(advance_head(&path, &older).is_err());
        assert_eq!(SignedHead::read(&path).unwrap().seq, 3);
        let newer = k.sign_head(4, Digest::ZERO, 0, 0);
        advance_head(&path, &newer).unwrap();
        assert_eq!(SignedHead::read(&path).unwrap(), newer);
        // The same head again moves nothing; the same record with another link is refused.
        advance_head(&path, &newer).unwrap();
        let rewritten = k.sign_head(4, Digest::from_bytes([1; 32]), 0, 0);
        assert!(advance_head(&path, &rewritten).is_err());
        assert_eq!(SignedHead::read(&path).unwrap(), newer);
    }
}
