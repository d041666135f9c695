//! The bulk check of a mailing list: CSV in, the addresses that may not be contacted out, so
//! a clinic can clean a newsletter list before sending.
//!
//! 1. The list is CSV (comma, or semicolon as spreadsheets in Finland write it), with or
//!    without a header row. The address column is the one named by `column` (a header name
//!    or a number from 1); otherwise the first column whose header is a known name (`email`,
//!    `sähköposti`, `e-post`, `phone`, `puhelin`, ...), otherwise the first column, with no
//!    header.
//! 2. Every row whose address is malformed is flagged with its line number and what is wrong:
//!    a list is never silently shortened, and an address the register cannot read is never
//!    cleared for sending.
//! 3. Every address that may not be marketed to on the channel now is flagged, with its
//!    status (`no_decision` when the register holds nothing).
//!
//! Caveats:
//! - An address listed twice is checked, and flagged, twice.

use core::fmt;
use std::collections::HashMap;
use std::io::Read;

use consent_core::register::{
    Contact, ContactError, ContactHash, ContactKind, MarketingChannel, MarketingStatus, MayMarket,
};
use time::OffsetDateTime;

use crate::key::ServerKey;
use crate::store::{Store, StoreError};

/// Header names taken as the address column, compared without case.
const ADDRESS_HEADERS: [&str; 14] = [
    "email",
    "e-mail",
    "sähköposti",
    "sahkoposti",
    "e-post",
    "epost",
    "phone",
    "puhelin",
    "puhelinnumero",
    "telefon",
    "mobile",
    "gsm",
    "contact",
    "yhteystieto",
];

/// One address of a list, with its line.
#[derive(Clone, PartialEq, Eq)]
pub struct Row {
    /// The line in the file, from 1.
    pub line: u64,
    /// The address as written.
    pub address: String,
}

impl fmt::Debug for Row {
    // Hand-written: the address is personal data.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Row(line {})", self.line)
    }
}

/// Why a list could not be read at all.
#[derive(Debug)]
#[non_exhaustive]
pub enum ListError {
    /// Not readable as CSV (or not UTF-8) at this line.
    Csv {
        /// The line, from 1.
        line: u64,
        /// What the CSV reader said.
        message: String,
    },
    /// The named column is not in the header row.
    NoColumn {
        /// The column asked for.
        wanted: String,
        /// The header row's names.
        headers: Vec<String>,
    },
}

impl fmt::Display for ListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListError::Csv { line, message } => write!(f, "line {line}: {message}"),
            ListError::NoColumn { wanted, headers } => write!(
                f,
                "line 1: no column {wanted:?}; the header row has {}",
                headers.join(", ")
            ),
        }
    }
}

impl std::error::Error for ListError {}

/// Reads the addresses of a list. `column` names the address column (a header name, or a
/// number from 1); see the module's rules.
///
/// # Errors
/// [`ListError`] when the file is not CSV or the named column does not exist. Malformed
/// addresses are not errors here: [`check`] flags each with its line.
pub fn read(input: impl Read, column: Option<&str>) -> Result<Vec<Row>, ListError> {
    let mut bytes = Vec::new();
    let mut input = input;
    input.read_to_end(&mut bytes).map_err(|e| ListError::Csv {
        line: 1,
        message: e.to_string(),
    })?;
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let first_line = text.split(|b| *b == b'\n').next().unwrap_or_default();
    let delimiter = if first_line.contains(&b';') && !first_line.contains(&b',') {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .trim(csv::Trim::All)
        .from_reader(text);
    let mut records = reader.records();
    let csv_error = |e: csv::Error| ListError::Csv {
        line: e.position().map_or(1, csv::Position::line),
        message: e.to_string(),
    };
    let Some(first) = records.next().transpose().map_err(csv_error)? else {
        return Ok(Vec::new());
    };
    let headers: Vec<String> = first.iter().map(str::to_owned).collect();
    let named = headers
        .iter()
        .position(|h| ADDRESS_HEADERS.contains(&h.to_lowercase().as_str()));
    let (index, has_header) = match column {
        Some(c) => match c.parse::<usize>() {
            Ok(n) if n >= 1 => (n - 1, named.is_some()),
            _ => match headers.iter().position(|h| h.eq_ignore_ascii_case(c)) {
                Some(i) => (i, true),
                None => {
                    return Err(ListError::NoColumn {
                        wanted: c.to_owned(),
                        headers,
                    });
                }
            },
        },
        None => (named.unwrap_or(0), named.is_some()),
    };
    let mut rows = Vec::new();
    let mut take = |record: &csv::StringRecord| {
        let line = record.position().map_or(0, csv::Position::line);
        rows.push(Row {
            line,
            address: record.get(index).unwrap_or_default().to_owned(),
        });
    };
    if !has_header {
        take(&first);
    }
    for record in records {
        take(&record.map_err(csv_error)?);
    }
    Ok(rows)
}

/// Why an address of a list may not be contacted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// The register holds no decision for it on the channel.
    NoDecision,
    /// Its status forbids marketing (refused, withdrawn, objected, suppressed).
    Status(MarketingStatus),
    /// It cannot be reached on the channel (a phone number on an e-mail list).
    WrongChannel(ContactKind),
    /// It is not a valid address.
    Malformed(ContactError),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NoDecision => f.write_str("no_decision"),
            Reason::Status(s) => s.fmt(f),
            Reason::WrongChannel(kind) => write!(f, "wrong_channel: {}", kind.described()),
            Reason::Malformed(e) => write!(f, "malformed: {e}"),
        }
    }
}

/// An address that may not be contacted, and why.
#[derive(Clone, PartialEq, Eq)]
pub struct Flagged {
    /// The line in the file.
    pub line: u64,
    /// The address as written.
    pub address: String,
    /// Why not.
    pub reason: Reason,
}

impl fmt::Debug for Flagged {
    // Hand-written: the address is personal data.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Flagged(line {}, {})", self.line, self.reason)
    }
}

/// The rows of a list that may not be marketed to on `channel` at `now`, in list order.
///
/// # Errors
/// [`StoreError`] when the log cannot be read.
pub async fn check<S: Store>(
    store: &S,
    key: &ServerKey,
    channel: MarketingChannel,
    rows: Vec<Row>,
    now: OffsetDateTime,
) -> Result<Vec<Flagged>, StoreError> {
    let mut flagged = Vec::new();
    let mut asked: Vec<(Row, ContactHash)> = Vec::with_capacity(rows.len());
    for row in rows {
        let reason = match Contact::parse(&row.address) {
            Err(e) => Reason::Malformed(e),
            Ok(c) if !channel.accepts(c.kind()) => Reason::WrongChannel(c.kind()),
            Ok(c) => {
                asked.push((row, key.contact_hash(&c)));
                continue;
            }
        };
        flagged.push(Flagged {
            line: row.line,
            address: row.address,
            reason,
        });
    }
    let hashes: Vec<ContactHash> = asked.iter().map(|(_, h)| *h).collect();
    let states = store.marketing_states(channel, hashes).await?;
    // States set after `now` (a staff clock ahead) are answered from the history instead.
    let mut late: HashMap<ContactHash, MayMarket> = HashMap::new();
    for ((row, hash), state) in asked.into_iter().zip(states) {
        let answer = match state {
            Some((_, since)) if since > now => match late.get(&hash) {
                Some(a) => *a,
                None => {
                    let a = history_answer(store, hash, channel, now).await?;
                    late.insert(hash, a);
                    a
                }
            },
            state => MayMarket::from_status(state),
        };
        if !answer.allowed() {
            flagged.push(Flagged {
                line: row.line,
                address: row.address,
                reason: answer.status().map_or(Reason::NoDecision, Reason::Status),
            });
        }
    }
    flagged.sort_by_key(|f| f.line);
    Ok(flagged)
}

async fn history_answer<S: Store>(
    store: &S,
    hash: ContactHash,
    channel: MarketingChannel,
    now: OffsetDateTime,
) -> Result<MayMarket, StoreError> {
    let entries = store.contact_records(hash).await?;
    let records: Vec<_> = entries
        .iter()
        .filter_map(|e| e.marketing_record().and_then(Result::ok))
        .collect();
    Ok(consent_core::register::may_market(&records, channel, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(rows: &[Row]) -> Vec<(u64, &str)> {
        rows.iter().map(|r| (r.line, r.address.as_str())).collect()
    }

    #[test]
    fn headers_are_found_by_name_or_skipped() {
        let csv = "nimi;sähköposti\nMaija;maija@a.fi\n\"Matti; jr\";matti@a.fi\n";
        let rows = read(csv.as_bytes(), None).unwrap();
        assert_eq!(lines(&rows), [(2, "maija@a.fi"), (3, "matti@a.fi")]);
        let bare = "a@b.fi\n c@d.fi \n";
        assert_eq!(
            lines(&read(bare.as_bytes(), None).unwrap()),
            [(1, "a@b.fi"), (2, "c@d.fi")]
        );
        let numbered = "x,y\n1,a@b.fi\n";
        assert_eq!(
            lines(&read(numbered.as_bytes(), Some("2")).unwrap()),
            [(1, "y"), (2, "a@b.fi")]
        );
    }

    #[test]
    fn a_missing_column_names_the_headers() {
        let err = read("name,mail\n".as_bytes(), Some("email")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 1: no column \"email\"; the header row has name, mail"
        );
    }

    #[test]
    fn invalid_utf8_names_its_line() {
        let err = read(&b"email\na@b.fi\n\xff@c.fi\n"[..], None).unwrap_err();
        assert!(err.to_string().starts_with("line 3:"), "{err}");
    }
}
