//! The summary kept with every entry after its content is erased: what statistics and the log's
//! readers need, nothing personal.
//!
//! Readers get it typed ([`Summary`]); the stores keep it, and the chain link covers it, as
//! three columns ([`SummaryColumns`]: `action`, `revision`, `granted`). The one way between
//! the two:
//!
//! 1. [`Summary::columns`] prints the columns.
//! 2. [`Summary::from_columns`] reads them for an entry of a kind, and only columns that it
//!    would print again: an edit the typed value would hide (a marketing entry's revision, an
//!    erasure's action) is not what this version wrote.
//! 3. The statistics read a cookie decision's `action` and `granted` columns through the same
//!    parser ([`cookie()`]).

use consent_core::register::{MarketingChannel, MarketingKind, MarketingRecord};
use consent_core::{CategoryId, DecisionRecord, Method};

use super::rotation::KeyId;
use super::{Corrupt, EntryKind, StoreError};

/// What statistics and the log's readers need of an entry, without anything personal: kept
/// after erasure, and covered by the entry's chain link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Summary {
    /// A cookie banner decision.
    Cookie {
        /// How the decision was given.
        action: Method,
        /// The policy revision.
        revision: u32,
        /// The granted categories, in config order.
        granted: Vec<CategoryId>,
    },
    /// A direct-marketing decision (never counted in the cookie statistics).
    Marketing {
        /// The decision.
        kind: MarketingKind,
        /// The channel it is about.
        channel: MarketingChannel,
    },
    /// An erasure.
    Erasure {
        /// How many records it erased.
        records: usize,
    },
    /// A key rotation.
    Rotation {
        /// The new key's epoch.
        epoch: u32,
        /// The new key's id.
        to: KeyId,
    },
}

/// A [`Summary`] as the stores keep it and the chain link covers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummaryColumns {
    /// The `action` column: a cookie decision's method, a marketing decision's kind,
    /// `erasure` or `rotation`.
    pub action: String,
    /// The `revision` column: a cookie decision's policy revision, a rotation's epoch, else 0.
    pub revision: u32,
    /// The `granted` column: a cookie decision's granted category ids (comma-separated, in
    /// config order), a marketing decision's channel, how many records an erasure erased, or
    /// the id of the key a rotation hands the log to.
    pub granted: String,
}

impl Summary {
    /// The summary of a cookie decision.
    #[must_use]
    pub fn of(record: &DecisionRecord) -> Self {
        Summary::Cookie {
            action: record.action(),
            revision: record.revision().get(),
            granted: record
                .categories()
                .iter()
                .filter(|c| c.granted)
                .map(|c| c.id.clone())
                .collect(),
        }
    }

    /// The summary of a marketing decision: the decision and the channel.
    #[must_use]
    pub fn of_marketing(record: &MarketingRecord) -> Self {
        Summary::Marketing {
            kind: record.kind(),
            channel: record.channel(),
        }
    }

    /// The columns the stores keep.
    #[must_use]
    pub fn columns(&self) -> SummaryColumns {
        let (action, revision, granted) = match self {
            Summary::Cookie {
                action,
                revision,
                granted,
            } => {
                let ids: Vec<&str> = granted.iter().map(CategoryId::as_str).collect();
                (action.as_str(), *revision, ids.join(","))
            }
            Summary::Marketing { kind, channel } => (kind.as_str(), 0, channel.as_str().to_owned()),
            Summary::Erasure { records } => ("erasure", 0, records.to_string()),
            Summary::Rotation { epoch, to } => ("rotation", *epoch, to.to_string()),
        };
        SummaryColumns {
            action: action.to_owned(),
            revision,
            granted,
        }
    }

    /// The summary of an entry of `kind` from its columns.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] for columns this version never writes for that kind.
    pub fn from_columns(
        kind: EntryKind,
        action: &str,
        revision: u32,
        granted: &str,
    ) -> Result<Self, StoreError> {
        let summary = match kind {
            EntryKind::Cookie => {
                let (action, granted) = cookie(action, granted)?;
                Summary::Cookie {
                    action,
                    revision,
                    granted,
                }
            }
            EntryKind::Marketing => Summary::Marketing {
                kind: parse("marketing action", action)?,
                channel: parse("marketing channel", granted)?,
            },
            EntryKind::Erasure => Summary::Erasure {
                records: parse("erasure count", granted)?,
            },
            EntryKind::Rotation => Summary::Rotation {
                epoch: revision,
                to: parse("rotation key id", granted)?,
            },
        };
        let columns = summary.columns();
        if (
            columns.action.as_str(),
            columns.revision,
            columns.granted.as_str(),
        ) != (action, revision, granted)
        {
            return Err(unknown(
                "summary",
                &format!("{action}, {revision}, {granted}"),
            ));
        }
        Ok(summary)
    }
}

/// A cookie decision's `action` and `granted` columns (`""` for none granted), as the entries
/// and the statistics read them.
///
/// # Errors
/// [`StoreError::Corrupt`] for a method or a category id this version never writes.
pub(crate) fn cookie(action: &str, granted: &str) -> Result<(Method, Vec<CategoryId>), StoreError> {
    let ids = if granted.is_empty() {
        Vec::new()
    } else {
        granted
            .split(',')
            .map(|id| CategoryId::new(id).map_err(|_| unknown("granted category", id)))
            .collect::<Result<_, _>>()?
    };
    Ok((parse("action", action)?, ids))
}

fn parse<T: core::str::FromStr>(column: &'static str, value: &str) -> Result<T, StoreError> {
    value.parse().map_err(|_| unknown(column, value))
}

fn unknown(column: &'static str, value: &str) -> StoreError {
    StoreError::Corrupt(Corrupt::Unknown {
        column,
        value: value.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookie_summary() -> Summary {
        Summary::Cookie {
            action: Method::Custom,
            revision: 3,
            granted: ["necessary", "analytics"]
                .into_iter()
                .map(|id| CategoryId::new(id).unwrap())
                .collect(),
        }
    }

    #[test]
    fn each_kind_reads_back_from_the_columns_it_prints() {
        for (kind, summary) in [
            (EntryKind::Cookie, cookie_summary()),
            (
                EntryKind::Marketing,
                Summary::Marketing {
                    kind: MarketingKind::Objection,
                    channel: MarketingChannel::Sms,
                },
            ),
            (EntryKind::Erasure, Summary::Erasure { records: 2 }),
            (
                EntryKind::Rotation,
                Summary::Rotation {
                    epoch: 1,
                    to: "00112233445566778899aabbccddeeff".parse().unwrap(),
                },
            ),
        ] {
            let c = summary.columns();
            let read = Summary::from_columns(kind, &c.action, c.revision, &c.granted).unwrap();
            assert_eq!(read, summary);
        }
        assert_eq!(
            cookie_summary().columns(),
            SummaryColumns {
                action: "custom".into(),
                revision: 3,
                granted: "necessary,analytics".into(),
            }
        );
    }

    #[test]
    fn columns_this_version_never_writes_are_corrupt() {
        for (kind, action, revision, granted) in [
            (EntryKind::Cookie, "everything", 1, "necessary"),
            (EntryKind::Cookie, "custom", 1, "necessary,,analytics"),
            (EntryKind::Cookie, "custom", 1, "Necessary"),
            (EntryKind::Marketing, "objection", 1, "sms"),
            (EntryKind::Marketing, "objection", 0, "fax"),
            (EntryKind::Erasure, "rotation", 0, "2"),
            (EntryKind::Erasure, "erasure", 0, "02"),
            (EntryKind::Rotation, "rotation", 1, "00"),
        ] {
            assert!(
                matches!(
                    Summary::from_columns(kind, action, revision, granted),
                    Err(StoreError::Corrupt(Corrupt::Unknown { .. }))
                ),
                "{kind:?} {action} {revision} {granted}"
            );
        }
    }
}
