//! An erasure as an entry of the chain: what it erased, so that no record's content can go
//! missing without one.
//!
//! Erasing a visitor's cookie decisions (an access or erasure request) or a contact's
//! marketing decisions removes their personal fields but keeps their digests and links, so
//! the chain still verifies. The same transaction appends an erasure entry naming the
//! positions it erased and why. `verify` then refuses any record of the keyed chain whose
//! content is gone without a later erasure entry naming it: a withdrawal deleted by hand
//! does not pass for a lawful erasure.

use consent_core::Digest;
use serde::{Deserialize, Serialize};

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
