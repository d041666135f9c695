//! Walking the chain: every digest recomputed, every link checked, the first break named.

use core::fmt;

use consent_core::{Digest, chain_link};

use crate::key::ServerKey;
use crate::store::{Store, StoreError};

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
}

/// Where and how the chain is broken.
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
    /// The stored link is not the link of the previous link and this digest: an entry was
    /// edited, inserted or removed before this point.
    Link(u64),
    /// A stored record is not readable JSON of a decision record.
    Unreadable(u64),
    /// The purge checkpoint's signature does not match (or no key was given to check it).
    Checkpoint,
}

impl Break {
    /// The position of the first broken entry (0 for the checkpoint).
    #[must_use]
    pub fn seq(&self) -> u64 {
        match self {
            Break::Gap { expected, .. } => *expected,
            Break::Digest(s) | Break::Link(s) | Break::Unreadable(s) => *s,
            Break::Checkpoint => 0,
        }
    }
}

impl fmt::Display for Break {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Break::Gap { expected, found } => {
                write!(f, "record {expected} is missing (next is {found}): removed")
            }
            Break::Digest(s) => write!(f, "record {s} does not match its digest: edited"),
            Break::Link(s) => write!(
                f,
                "record {s} does not link to the record before it: edited, inserted or removed"
            ),
            Break::Unreadable(s) => write!(
                f,
                "record {s} is not a readable decision record of its kind"
            ),
            Break::Checkpoint => f.write_str("the purge checkpoint's signature does not match"),
        }
    }
}

/// Why verification did not complete.
#[derive(Debug)]
#[non_exhaustive]
pub enum VerifyError {
    /// The chain is broken; the first break.
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

/// Verifies the whole log, calling `progress` with the entries checked so far.
///
/// A purged prefix is accepted only with a checkpoint whose MAC verifies under `key`.
///
/// # Errors
/// [`VerifyError::Broken`] with the first break, or [`VerifyError::Store`].
pub async fn verify<S: Store>(
    store: &S,
    key: Option<&ServerKey>,
    mut progress: impl FnMut(u64),
) -> Result<Verified, VerifyError> {
    let checkpoint = store.checkpoint().await?;
    let (mut seq, mut link) = match &checkpoint {
        None => (0, Digest::ZERO),
        Some(c) => {
            let ok = key.is_some_and(|k| k.verify_checkpoint(c.seq, &c.link, c.purged, &c.mac));
            if !ok {
                return Err(VerifyError::Broken(Break::Checkpoint));
            }
            (c.seq, c.link)
        }
    };
    let (mut entries, mut erased) = (0u64, 0u64);
    loop {
        let page = store.scan(seq, PAGE).await?;
        if page.is_empty() {
            break;
        }
        for entry in page {
            if entry.seq != seq + 1 {
                return Err(VerifyError::Broken(Break::Gap {
                    expected: seq + 1,
                    found: entry.seq,
                }));
            }
            // Cookie and marketing decisions share the chain; each kind hashes under its own
            // domain tag, so one can never pass for the other.
            match entry.recomputed_digest() {
                None => erased += 1,
                Some(Err(_)) => return Err(VerifyError::Broken(Break::Unreadable(entry.seq))),
                Some(Ok(digest)) if digest != entry.digest => {
                    return Err(VerifyError::Broken(Break::Digest(entry.seq)));
                }
                Some(Ok(_)) => {}
            }
            let expected = chain_link(&link, &entry.digest);
            if expected != entry.link {
                return Err(VerifyError::Broken(Break::Link(entry.seq)));
            }
            seq = entry.seq;
            link = entry.link;
            entries += 1;
        }
        progress(entries);
    }
    Ok(Verified {
        entries,
        erased,
        checkpoint: checkpoint.map(|c| c.seq),
        head: link,
    })
}
