//! Walking the chain: every digest recomputed, every link checked under the log key, every
//! column the statistics, the access requests and `may_market` read checked against the
//! records, the signed heads checked against the chain's end, and the first break named.
//!
//! DESIGN.md ("The decision log: threat model") says who can edit what, and what each edit
//! becomes here.

use core::fmt;
use std::collections::HashMap;

use consent_core::register::{MarketingChannel, MarketingRecord, MarketingStatus};
use consent_core::{Digest, chain_link};

use crate::key::ServerKey;
use crate::store::{
    Entry, EntryKind, LogKey, LogKeys, SignedHead, StateRow, Store, StoreError, Summary,
};

/// Entries read per page while verifying.
const PAGE: usize = 4096;

/// A chain that verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// Entries checked.
    pub entries: u64,
    /// Of which erased (their digests checked as links only).
    pub erased: u64,
    /// The last purged position the chain starts after, if anything was purged.
    pub checkpoint: Option<u64>,
    /// The head link.
    pub head: Digest,
    /// The last position linked with plain SHA-256, by a version before the keyed chain (0
    /// when the whole log is keyed). Anyone can recompute plain links, so up to here the
    /// chain proves only that nobody *without write access* changed the records.
    pub keyed_from: u64,
    /// The position the head file vouched for, when one was given.
    pub head_file: Option<u64>,
    /// `marketing_state` rows checked against the records.
    pub states: u64,
    /// The key rotations the walk passed: each rotation entry's position and the epoch of
    /// the key it handed the log to.
    pub rotations: Vec<(u64, u32)>,
    /// The epoch of the key the log is under: the key file's current key, or for a log
    /// opened read-only that was not rotated since the key file was, the retired key that
    /// signed its head.
    pub epoch: u32,
}

/// Where and how the log is broken.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Break {
    /// A position is missing: an entry was removed (or inserted out of order).
    Gap {
        /// The position expected.
        expected: u64,
        /// The one found.
        found: u64,
    },
    /// The record's content does not hash to its stored digest: the record was edited.
    Digest(u64),
    /// The stored link is not the link of the previous link and this entry: an entry was
    /// edited (its digest, position, kind, time or summary), inserted or removed before this
    /// point.
    Link(u64),
    /// A row is at or before the chain's start (position 0 or below, or inside the purged
    /// prefix), where the walk does not look: it was inserted.
    BeforeStart {
        /// Its position, as stored.
        seq: i64,
        /// The last purged position (0 when nothing was purged).
        start: u64,
    },
    /// A stored record is not readable JSON of a decision record (or an erasure entry's
    /// content is gone).
    Unreadable(u64),
    /// A record of the keyed chain lost its content without a later erasure entry naming it:
    /// it was removed by hand, not erased.
    ErasedWithoutEntry(u64),
    /// A record an erasure entry says it erased holds content: put back by hand.
    NotErased {
        /// The record.
        seq: u64,
        /// The erasure entry.
        by: u64,
    },
    /// An erasure entry in the part of the log linked without a key. Only versions before the
    /// keyed chain linked so, and none of them wrote erasure entries: a keyed log was relinked
    /// with plain hashes, to be passed off as an older one.
    PlainErasure(u64),
    /// A column read without the record (`consent_id`, `contact`, or the summary the
    /// statistics read) does not match the record.
    Column {
        /// The entry.
        seq: u64,
        /// The column.
        column: &'static str,
    },
    /// The purge checkpoint's signature does not match (or no key was given to check it).
    Checkpoint,
    /// The database's signed head is missing, or its signature does not match.
    HeadSignature,
    /// The log ends before the position its signed head names: the last records were removed.
    Truncated {
        /// Where the signed head says the log ends.
        head: u64,
        /// Where it ends.
        last: u64,
        /// Which head said so: the database's or the head file's.
        source: HeadSource,
    },
    /// The entry at a signed head's position has another link, or the head vouches for a
    /// different start of the keyed chain: the log was rewritten.
    Rewritten {
        /// The position.
        seq: u64,
        /// Which head said so.
        source: HeadSource,
    },
    /// The head file's signature does not match: it was not written by this key.
    HeadFileSignature,
    /// A key rotation entry is not linked under the key the log was under: only that key's
    /// holder can hand the log to another key, so this one was forged (or edited).
    ForgedRotation(u64),
    /// A key rotation entry that is linked correctly but does not hand the log on as the
    /// key file says.
    Rotation {
        /// The entry.
        seq: u64,
        /// What is wrong.
        what: &'static str,
    },
    /// A record is linked under another key of the key file than the one the log is under,
    /// with no rotation entry before it handing the log to that key.
    UnannouncedKey {
        /// The record.
        seq: u64,
        /// The epoch of the key it is linked under.
        epoch: u32,
    },
    /// The log ends under an older key than the one that signed its head (the key file's
    /// current key, for a log a writer opened): the rotation entry that handed it on is
    /// missing.
    Unrotated {
        /// The epoch the walk ended under.
        epoch: u32,
        /// The epoch of the key that signed the head.
        current: u32,
    },
    /// A `marketing_state` row does not follow from the marketing decisions in the chain.
    MarketingState {
        /// The channel of the row.
        channel: String,
        /// What is wrong.
        what: &'static str,
    },
}

/// Which signed head a break was found against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeadSource {
    /// The `chain_head` row in the database.
    Database,
    /// The head file kept outside it.
    File,
}

impl fmt::Display for HeadSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HeadSource::Database => "the database's signed head",
            HeadSource::File => "the head file",
        })
    }
}

impl Break {
    /// The position of the first broken entry (0 when the break is not at one entry).
    #[must_use]
    pub fn seq(&self) -> u64 {
        match self {
            Break::Gap { expected, .. } => *expected,
            Break::Digest(s)
            | Break::Link(s)
            | Break::Unreadable(s)
            | Break::ErasedWithoutEntry(s)
            | Break::PlainErasure(s)
            | Break::ForgedRotation(s) => *s,
            Break::Column { seq, .. }
            | Break::Rewritten { seq, .. }
            | Break::Rotation { seq, .. }
            | Break::NotErased { seq, .. }
            | Break::UnannouncedKey { seq, .. } => *seq,
            Break::Truncated { last, .. } => last + 1,
            Break::BeforeStart { seq, .. } => u64::try_from(*seq).unwrap_or(0),
            Break::Checkpoint
            | Break::HeadSignature
            | Break::HeadFileSignature
            | Break::Unrotated { .. }
            | Break::MarketingState { .. } => 0,
        }
    }
}

impl fmt::Display for Break {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Break::Gap { expected, found } => {
                write!(f, "record {expected} is missing (next is {found}): removed")
            }
            Break::BeforeStart { seq, start: 0 } => write!(
                f,
                "record {seq} is before the chain's first position (1): inserted"
            ),
            Break::BeforeStart { seq, start } => write!(
                f,
                "record {seq} is inside the prefix the purge checkpoint says was purged \
                 (1..={start}): inserted"
            ),
            Break::Digest(s) => write!(f, "record {s} does not match its digest: edited"),
            Break::Link(s) => write!(
                f,
                "record {s} does not link to the record before it: edited, inserted or removed"
            ),
            Break::Unreadable(s) => write!(
                f,
                "record {s} is not a readable decision record of its kind"
            ),
            Break::ErasedWithoutEntry(s) => write!(
                f,
                "record {s} has no content and no erasure entry names it: removed by hand"
            ),
            Break::NotErased { seq, by } => write!(
                f,
                "record {seq} holds content, but erasure entry {by} says it was erased: put \
                 back by hand"
            ),
            Break::PlainErasure(s) => write!(
                f,
                "record {s}, an erasure entry, is linked without a key, which only versions \
                 before the keyed chain did, and they wrote no erasure entries: the log was \
                 relinked without the key"
            ),
            Break::Column { seq, column } => write!(
                f,
                "record {seq}: the {column} column does not match the record: edited"
            ),
            Break::Checkpoint => f.write_str("the purge checkpoint's signature does not match"),
            Break::HeadSignature => f.write_str(
                "the database's signed head (chain_head) is missing or its signature does not \
                 match: edited",
            ),
            Break::Truncated { head, last, source } => write!(
                f,
                "{source} says the log ends at record {head}, but it ends at {last}: records \
                 {}..={head} were removed (or the database was rolled back)",
                last + 1
            ),
            Break::Rewritten { seq, source } => write!(
                f,
                "record {seq} is not the record {source} signed: the log was rewritten"
            ),
            Break::HeadFileSignature => {
                f.write_str("the head file's signature does not match any key of the key file")
            }
            Break::ForgedRotation(s) => write!(
                f,
                "record {s}, a key rotation, is not linked under the key the log was under: \
                 forged (a rotation can only be written with the old key)"
            ),
            Break::Rotation { seq, what } => write!(f, "record {seq}, a key rotation: {what}"),
            Break::UnannouncedKey { seq, epoch } => write!(
                f,
                "record {seq} is linked under key epoch {epoch}, but no rotation entry before it \
                 hands the log to that key: a rotation statement is missing or was forged"
            ),
            Break::Unrotated { epoch, current } => write!(
                f,
                "the log ends under key epoch {epoch}, but its head is signed under key epoch \
                 {current}: the rotation entry that handed it on is missing"
            ),
            Break::MarketingState { channel, what } => {
                write!(f, "marketing_state ({channel}): {what}: edited")
            }
        }
    }
}

/// Why verification did not complete.
#[derive(Debug)]
#[non_exhaustive]
pub enum VerifyError {
    /// The log is broken; the first break.
    Broken(Break),
    /// The log could not be read.
    Store(StoreError),
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Broken(b) => write!(f, "chain broken: {b}"),
            VerifyError::Store(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for VerifyError {}

impl From<StoreError> for VerifyError {
    fn from(e: StoreError) -> Self {
        VerifyError::Store(e)
    }
}

impl From<Break> for VerifyError {
    fn from(b: Break) -> Self {
        VerifyError::Broken(b)
    }
}

/// A marketing decision's place in the replay of the latest states.
#[derive(Clone, Copy)]
struct Replayed {
    status: MarketingStatus,
    since: i64,
    /// Whether the walk saw the decision that set the status follow one of another status:
    /// then `since` is exact, though earlier decisions were purged. Else a purged decision of
    /// the same status may have set it earlier.
    changed: bool,
    latest: i64,
    seq: u64,
}

/// Verifies the whole log under `key`, calling `progress` with the entries checked so far.
///
/// `head_file` is the copy of a signed head kept outside the database (the server's head
/// file): the log must still hold that record with that link. Without one, a rollback of
/// the whole database to an older copy cannot be detected.
///
/// # Errors
/// [`VerifyError::Broken`] with the first break, or [`VerifyError::Store`].
pub async fn verify<S: Store>(
    store: &S,
    key: &ServerKey,
    head_file: Option<&SignedHead>,
    mut progress: impl FnMut(u64),
) -> Result<Verified, VerifyError> {
    let keys = key.log_keys();
    // A store opened for writing with the key file rotates its log to the current key (the
    // store's `rotation` module), so the database's head is signed under it. A log opened
    // read-only that no writer opened since the key file was rotated (a copy made before the
    // rotation) is still under the retired key that signed its head: it is checked under that
    // key, must end under it, and `Verified::epoch` says which it is.
    let db_head = store.chain_head().await?;
    let (db_head, head_key) = db_head
        .and_then(|h| keys.signer_of(&h).map(|k| (h, k)))
        .ok_or(Break::HeadSignature)?;
    if let Some(file) = head_file {
        // The head file may lag behind a rotation: any key of the file may have signed it.
        if keys.signer_of(file).is_none() {
            return Err(Break::HeadFileSignature.into());
        }
        if file.keyed_from != db_head.keyed_from {
            return Err(Break::Rewritten {
                seq: file.keyed_from.min(db_head.keyed_from),
                source: HeadSource::File,
            }
            .into());
        }
    }
    let keyed_from = db_head.keyed_from;
    let checkpoint = store.checkpoint().await?;
    let (mut seq, mut link) = match &checkpoint {
        None => (0, Digest::ZERO),
        Some(c) => {
            if !key.verify_checkpoint(c.seq, &c.link, c.purged, &c.mac) {
                return Err(Break::Checkpoint.into());
            }
            (c.seq, c.link)
        }
    };
    let start = seq;
    // The walk starts after the checkpoint; a row at or before it is outside the chain, yet
    // access requests and the statistics read it.
    if let Some(lowest) = store.lowest().await? {
        if lowest <= i64::try_from(seq).unwrap_or(i64::MAX) {
            return Err(Break::BeforeStart {
                seq: lowest,
                start: seq,
            }
            .into());
        }
    }
    // The head file's record, checked as the walk passes it (or at the checkpoint).
    let mut file_confirmed = head_file.is_some_and(|f| f.seq == seq && f.link == link);
    // The database's head, read before the walk: the log must hold its record with its link.
    let mut db_confirmed = db_head.seq == seq && db_head.link == link;
    let mut states: HashMap<(Vec<u8>, &'static str), Replayed> = HashMap::new();
    let (mut entries, mut erased) = (0u64, 0u64);
    // Erased records that no erasure entry has named yet (those of the plain prefix need
    // none), and records an erasure entry named while they held content.
    let mut unaccounted = std::collections::BTreeSet::new();
    let mut not_erased = Vec::new();
    // The key the log is under: whichever key links the first keyed record, then the one
    // each rotation entry hands it to.
    let mut under: Option<&LogKey> = None;
    let mut rotations = Vec::new();
    loop {
        let page = store.scan(seq, PAGE).await?;
        if page.is_empty() {
            break;
        }
        for entry in page {
            if entry.seq != seq + 1 {
                return Err(Break::Gap {
                    expected: seq + 1,
                    found: entry.seq,
                }
                .into());
            }
            if entry.seq <= keyed_from {
                if chain_link(&link, &entry.digest) != entry.link {
                    return Err(Break::Link(entry.seq).into());
                }
                // Erasure entries came with the keyed chain: one linked plainly was relinked by
                // someone without the key, passing a keyed log off as an older one.
                if entry.kind == EntryKind::Erasure {
                    return Err(Break::PlainErasure(entry.seq).into());
                }
            } else {
                let k = check_link(keys, &mut under, &link, &entry)?;
                under = Some(k);
            }
            if let Some(named) = check_record(&entry, &mut states)? {
                for s in named {
                    if !unaccounted.remove(&s) && s > start {
                        not_erased.push((s, entry.seq));
                    }
                }
            }
            if entry.kind == EntryKind::Rotation {
                let to = check_rotation(keys, under, &entry)?;
                rotations.push((entry.seq, to.epoch()));
                under = Some(to);
            }
            if entry.is_erased() {
                erased += 1;
                unaccounted.insert(entry.seq);
            }
            if entry.seq == db_head.seq {
                if entry.link != db_head.link {
                    return Err(Break::Rewritten {
                        seq: entry.seq,
                        source: HeadSource::Database,
                    }
                    .into());
                }
                db_confirmed = true;
            }
            if let Some(file) = head_file.filter(|f| f.seq == entry.seq) {
                if file.link != entry.link {
                    return Err(Break::Rewritten {
                        seq: entry.seq,
                        source: HeadSource::File,
                    }
                    .into());
                }
                file_confirmed = true;
            }
            seq = entry.seq;
            link = entry.link;
            entries += 1;
        }
        progress(entries);
    }
    if let Some(first) = unaccounted.range(keyed_from + 1..).next() {
        return Err(Break::ErasedWithoutEntry(*first).into());
    }
    // An erasure during the walk empties records it already read: only content still there
    // now is a break.
    for (seq, by) in not_erased {
        let now = store.scan(seq - 1, 1).await?;
        if now.first().is_some_and(|e| e.seq == seq && !e.is_erased()) {
            return Err(Break::NotErased { seq, by }.into());
        }
    }
    let current = head_key;
    if let Some(k) = under.filter(|k| k.id() != current.id()) {
        return Err(Break::Unrotated {
            epoch: k.epoch(),
            current: current.epoch(),
        }
        .into());
    }
    // The database's head is signed in the transaction of every batch: it is the end.
    if db_head.seq > seq {
        return Err(Break::Truncated {
            head: db_head.seq,
            last: seq,
            source: HeadSource::Database,
        }
        .into());
    }
    if !db_confirmed {
        return Err(Break::Rewritten {
            seq: db_head.seq,
            source: HeadSource::Database,
        }
        .into());
    }
    if let Some(file) = head_file {
        if file.seq > seq {
            return Err(Break::Truncated {
                head: file.seq,
                last: seq,
                source: HeadSource::File,
            }
            .into());
        }
        // A head file older than the purge checkpoint vouches for nothing still held.
        let purged_past = checkpoint.as_ref().is_some_and(|c| file.seq < c.seq);
        if !file_confirmed && !purged_past {
            return Err(Break::Rewritten {
                seq: file.seq,
                source: HeadSource::File,
            }
            .into());
        }
    }
    // Only a version before the keyed chain purged the decision a state rests on: in the
    // keyed part, a row behind the checkpoint with no decision is not the server's.
    let legacy = checkpoint.as_ref().map_or(0, |c| c.seq.min(keyed_from));
    let purged = checkpoint.as_ref().map_or(0, |c| c.seq);
    let rows = store.state_rows().await?;
    // Records (and the states they set) appended while the walk ran go past the head read
    // before it: the head signed with them, read after the rows, must cover them. Anything
    // past a signed head was not appended by the server.
    let walked = i64::try_from(seq).unwrap_or(i64::MAX);
    let covered = if db_head.seq < seq || rows.iter().any(|r| r.seq > walked) {
        let later = store
            .chain_head()
            .await?
            .filter(|h| {
                keys.signer_of(h)
                    .is_some_and(|k| k.epoch() >= head_key.epoch())
            })
            .ok_or(Break::HeadSignature)?;
        if later.seq < seq || (later.seq == seq && later.link != link) {
            return Err(Break::Rewritten {
                seq: later.seq,
                source: HeadSource::Database,
            }
            .into());
        }
        later.seq
    } else {
        seq
    };
    let checked = check_states(
        rows,
        &states,
        Positions {
            purged,
            legacy,
            walked: seq,
            covered,
        },
    )?;
    Ok(Verified {
        entries,
        erased,
        checkpoint: checkpoint.map(|c| c.seq),
        head: link,
        keyed_from,
        head_file: head_file.map(|f| f.seq),
        states: checked,
        rotations,
        epoch: current.epoch(),
    })
}

/// Checks a keyed record's link under the key the log is under (`under`; for the first
/// keyed record, whichever key of the file links it). The key it is linked under.
fn check_link<'k>(
    keys: &'k LogKeys,
    under: &mut Option<&'k LogKey>,
    previous: &Digest,
    entry: &Entry,
) -> Result<&'k LogKey, Break> {
    let columns = entry.summary.columns();
    let linked = entry.linked(&columns);
    let linker = keys.linker_of(previous, linked, &entry.link);
    let Some(k) = *under else {
        return match (linker, entry.kind) {
            (Some(k), _) => Ok(k),
            (None, EntryKind::Rotation) => Err(Break::ForgedRotation(entry.seq)),
            (None, _) => Err(Break::Link(entry.seq)),
        };
    };
    if k.link(previous, linked) == entry.link {
        return Ok(k);
    }
    Err(match (linker, entry.kind) {
        (_, EntryKind::Rotation) => Break::ForgedRotation(entry.seq),
        (Some(other), _) => Break::UnannouncedKey {
            seq: entry.seq,
            epoch: other.epoch(),
        },
        (None, _) => Break::Link(entry.seq),
    })
}

/// Checks that a rotation entry (linked under `under`, its content checked) hands the log
/// from that key to a newer key of the file. The key it hands the log to.
fn check_rotation<'k>(
    keys: &'k LogKeys,
    under: Option<&'k LogKey>,
    entry: &Entry,
) -> Result<&'k LogKey, Break> {
    let broken = |what| Break::Rotation {
        seq: entry.seq,
        what,
    };
    let rotation = entry
        .rotation()
        .and_then(Result::ok)
        .ok_or(Break::Unreadable(entry.seq))?;
    let from = under.ok_or_else(|| broken("it is in the part of the log linked without a key"))?;
    if rotation.from != from.id() {
        return Err(broken(
            "it names another key than the one the log was under",
        ));
    }
    let to = keys
        .get(rotation.to)
        .ok_or_else(|| broken("it hands the log to a key the key file does not hold"))?;
    if to.epoch() <= from.epoch() || rotation.epoch != to.epoch() {
        return Err(broken("it does not hand the log to a newer key"));
    }
    Ok(to)
}

/// Checks a record against its digest and the columns read without it, and replays a
/// marketing decision into the latest states. The positions an erasure entry names.
fn check_record(
    entry: &Entry,
    states: &mut HashMap<(Vec<u8>, &'static str), Replayed>,
) -> Result<Option<Vec<u64>>, Break> {
    let column = |column| Break::Column {
        seq: entry.seq,
        column,
    };
    // Cookie and marketing decisions share the chain; each kind hashes under its own domain
    // tag, so one can never pass for the other.
    match entry.kind {
        EntryKind::Cookie => {
            if entry.contact.is_some() {
                return Err(column("contact"));
            }
            let Some(record) = entry.record() else {
                return if entry.consent_id.is_some() {
                    Err(column("consent_id"))
                } else {
                    Ok(None)
                };
            };
            let record = record.map_err(|_| Break::Unreadable(entry.seq))?;
            if record.digest() != entry.digest {
                return Err(Break::Digest(entry.seq));
            }
            if entry.consent_id != Some(record.consent_id()) {
                return Err(column("consent_id"));
            }
            if entry.summary != Summary::of(&record) {
                return Err(column("summary (action, revision, granted)"));
            }
        }
        EntryKind::Marketing => {
            if entry.consent_id.is_some() {
                return Err(column("consent_id"));
            }
            let Some(record) = entry.marketing_record() else {
                return if entry.contact.is_some() {
                    Err(column("contact"))
                } else {
                    Ok(None)
                };
            };
            let record: MarketingRecord = record.map_err(|_| Break::Unreadable(entry.seq))?;
            if record.digest() != entry.digest {
                return Err(Break::Digest(entry.seq));
            }
            if entry.contact != Some(record.contact()) {
                return Err(column("contact"));
            }
            if entry.summary != Summary::of_marketing(&record) {
                return Err(column("summary (action, channel)"));
            }
            let time = record.time().unix_timestamp();
            let slot = (
                record.contact().to_bytes().to_vec(),
                record.channel().as_str(),
            );
            let before = states.get(&slot).copied();
            let status = MarketingStatus::after(before.map(|b| b.status), record.kind());
            let (since, changed) = match before {
                Some(b) if b.status == status => (b.since, b.changed),
                Some(_) => (time, true),
                None => (time, false),
            };
            states.insert(
                slot,
                Replayed {
                    status,
                    since,
                    changed,
                    latest: time,
                    seq: entry.seq,
                },
            );
        }
        EntryKind::Rotation => {
            if entry.consent_id.is_some() {
                return Err(column("consent_id"));
            }
            if entry.contact.is_some() {
                return Err(column("contact"));
            }
            let rotation = entry
                .rotation()
                .and_then(Result::ok)
                .ok_or(Break::Unreadable(entry.seq))?;
            if entry.recomputed_digest().and_then(Result::ok) != Some(entry.digest) {
                return Err(Break::Digest(entry.seq));
            }
            if entry.summary != rotation.summary() {
                return Err(column("summary (action, epoch, key)"));
            }
        }
        EntryKind::Erasure => {
            if entry.consent_id.is_some() {
                return Err(column("consent_id"));
            }
            if entry.contact.is_some() {
                return Err(column("contact"));
            }
            let erasure = entry
                .erasure()
                .and_then(Result::ok)
                .ok_or(Break::Unreadable(entry.seq))?;
            if entry.recomputed_digest().and_then(Result::ok) != Some(entry.digest) {
                return Err(Break::Digest(entry.seq));
            }
            if entry.summary != erasure.summary() {
                return Err(column("summary (action, count)"));
            }
            if erasure.erased.iter().any(|&s| s >= entry.seq) {
                return Err(Break::Unreadable(entry.seq));
            }
            return Ok(Some(erasure.erased));
        }
    }
    Ok(None)
}

/// Where the walk started and ended, for [`check_states`].
#[derive(Clone, Copy)]
struct Positions {
    /// The last purged position (0 when nothing was purged).
    purged: u64,
    /// The last purged position of the plain prefix (0 when none was purged).
    legacy: u64,
    /// The last position the walk checked.
    walked: u64,
    /// The last position a signed head read after the rows vouches for.
    covered: u64,
}

/// Checks every `marketing_state` row against the replay of the chain's marketing decisions:
/// the same rows, each with the status, times and position the decisions give. Not checked,
/// nor counted: rows with no decision at or before `legacy` (the purged part of the plain
/// prefix, where a version before retention kept them purged the decision a state rests
/// on), and rows of a decision appended after the walk, under a head read after the rows
/// (the next walk checks them). After a purge `since` is exact only where the log holds the
/// change to the status (the decision that set it may be purged while a later one of the same
/// status is kept); elsewhere it is no later than the first decision held. How many rows were
/// checked.
fn check_states(
    rows: Vec<StateRow>,
    replayed: &HashMap<(Vec<u8>, &'static str), Replayed>,
    at: Positions,
) -> Result<u64, VerifyError> {
    let mut seen = std::collections::HashSet::new();
    let mut checked = 0u64;
    for row in rows {
        let broken = |what| Break::MarketingState {
            channel: row.channel.clone(),
            what,
        };
        let channel: MarketingChannel = row
            .channel
            .parse()
            .map_err(|_| broken("an unknown channel"))?;
        let found = replayed
            .get(&(row.contact.clone(), channel.as_str()))
            .copied();
        let position = u64::try_from(row.seq).ok();
        if found.is_some() {
            seen.insert((row.contact.clone(), channel.as_str()));
        }
        if position.is_some_and(|s| s > at.walked && s <= at.covered) {
            continue;
        }
        let Some(r) = found else {
            if position.is_some_and(|s| s <= at.legacy) {
                continue;
            }
            return Err(broken("a row with no decision in the log").into());
        };
        checked += 1;
        if row.status != r.status.as_str() {
            return Err(broken("the status is not what the decisions give").into());
        }
        if u64::try_from(row.seq).ok() != Some(r.seq) || row.latest != r.latest {
            return Err(broken("the latest decision is not the last one in the log").into());
        }
        // After a purge a decision of the same status before the first one held may have set
        // `since`: then it is no later than that one.
        let exact = at.purged == 0 || r.changed;
        if (exact && row.since != r.since) || row.since > r.since {
            return Err(broken("`since` is not when the decisions set the status").into());
        }
    }
    // The first decision (in the log's order) whose contact and channel have no row.
    let missing = replayed
        .iter()
        .filter(|(key, _)| !seen.contains(*key))
        .min_by_key(|(_, r)| r.seq);
    if let Some(((_, channel), _)) = missing {
        return Err(Break::MarketingState {
            channel: (*channel).to_owned(),
            what: "a contact's decisions have no row: removed",
        }
        .into());
    }
    Ok(checked)
}
