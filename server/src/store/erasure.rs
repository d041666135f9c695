//! An erasure as an entry of the chain: what it erased, so that no record's content can go
//! missing without one.
//!
//! Erasing a visitor's cookie decisions (an access or erasure request) or a contact's
//! marketing decisions removes their personal fields but keeps their digests and links, so
//! the chain still verifies. The same transaction appends an erasure entry naming the
//! positions it erased and why. `verify` then refuses any record of the keyed chain whose
//! content is gone without a later erasure entry naming it: a withdrawal deleted by hand
//! does not pass for a lawful erasure.

use consent_core::register::{ContactHash, MarketingRecord};
use consent_core::{ConsentId, DecisionRecord, Digest};
use serde::{Deserialize, Serialize};

use super::error::Corrupt;
use super::{EntryKind, Prepared, StoreError, Summary};

/// Why records were erased.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reason {
    /// A visitor's cookie decisions, at their request (GDPR art. 17).
    Visitor,
    /// A contact's marketing decisions, after their suppression entries (GDPR art. 17).
    Contact,
}

/// The record of an erasure entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Erasure {
    /// The positions whose content was erased, in order.
    pub erased: Vec<u64>,
    /// Why.
    pub reason: Reason,
}

impl Erasure {
    /// The digest the chain links: SHA-256 under its own domain tag over the JSON, so an
    /// erasure can never pass for a decision.
    #[must_use]
    pub fn digest_of(json: &str) -> Digest {
        super::chain::entry_digest(b"consent-erasure-v1\0", json)
    }

    /// The summary kept with it: the action `erasure`, and how many records, for the log's
    /// readers.
    #[must_use]
    pub fn summary(&self) -> Summary {
        Summary::Erasure {
            records: self.erased.len(),
        }
    }

    /// The entry to append at `time` (unix seconds).
    pub(crate) fn prepared(&self, time: i64) -> Result<Prepared, StoreError> {
        let json = serde_json::to_string(self).map_err(super::encode)?;
        Ok(Prepared {
            time,
            consent_id: None,
            digest: Self::digest_of(&json),
            json,
            summary: self.summary().columns(),
            marketing: None,
            kind: EntryKind::Erasure,
        })
    }
}

/// Whose records an erasure removes: a visitor's cookie decisions or a contact's marketing
/// decisions, found by the column naming them.
///
/// The column is not covered by the record's digest or link: whoever can write the database
/// can put one person's id on another's record. So each row is checked against its own
/// content before anything is erased ([`Whose::check`]); an erasure that took such a row
/// would remove the record with the evidence of the edit, and name it in its entry as
/// lawfully erased.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Whose {
    /// A visitor's cookie decisions.
    Visitor(ConsentId),
    /// A contact's marketing decisions.
    Contact(ContactHash),
}

impl Whose {
    /// Why their records are erased.
    pub(crate) fn reason(self) -> Reason {
        match self {
            Whose::Visitor(_) => Reason::Visitor,
            Whose::Contact(_) => Reason::Contact,
        }
    }

    /// The column naming them, emptied with the record.
    pub(crate) fn column(self) -> &'static str {
        match self {
            Whose::Visitor(_) => "consent_id",
            Whose::Contact(_) => "contact",
        }
    }

    /// Checks that the row at `seq` (its `record` and `digest` columns), found by
    /// [`column`](Self::column), is theirs by its content: readable, hashing to its digest,
    /// and naming them.
    ///
    /// # Errors
    /// [`Corrupt::NotItsOwn`] naming what does not match.
    pub(crate) fn check(
        self,
        seq: i64,
        record: Option<&str>,
        digest: &[u8],
    ) -> Result<(), StoreError> {
        let mismatch = |column| StoreError::Corrupt(Corrupt::NotItsOwn { seq, column });
        let json = record.ok_or_else(|| mismatch("record (gone)"))?;
        let (hashed, theirs) = match self {
            Whose::Visitor(id) => {
                let r: DecisionRecord =
                    serde_json::from_str(json).map_err(|_| mismatch("record (unreadable)"))?;
                (r.digest(), r.consent_id() == id)
            }
            Whose::Contact(contact) => {
                let r: MarketingRecord =
                    serde_json::from_str(json).map_err(|_| mismatch("record (unreadable)"))?;
                (r.digest(), r.contact() == contact)
            }
        };
        if hashed.as_bytes()[..] != *digest {
            return Err(mismatch("digest"));
        }
        if !theirs {
            return Err(mismatch(self.column()));
        }
        Ok(())
    }
}
