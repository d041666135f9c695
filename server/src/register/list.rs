//! The bulk check of a mailing list: CSV in, the addresses that may not be contacted out, so
//! a clinic can clean a newsletter list before sending.
//!
//! 1. The list is CSV (comma, or semicolon as spreadsheets in Finland write it), with or
//!    without a header row. The address column is the one named by `column` (a header name
//!    or a number from 1); otherwise the first column whose header is a known name (`email`,
//!    `sähköposti`, `e-post`, `phone`, `puhelin`, ...), otherwise the first column, with no
//!    header.
//! 2. Every row whose address is malformed (or not UTF-8: only the address column is read,
//!    so a list a spreadsheet saved in Windows-1252 is checked all the same) is flagged with
//!    its line number and what is wrong: a list is never silently shortened, and an address
//!    the register cannot read is never cleared for sending. A quoted field never closed, which
//!    would make the rest of the file one address, is an error naming its line.
//! 3. Every address that may not be marketed to on the channel now is flagged, with its
//!    status (`no_decision` when the register holds nothing).
//!
//! 4. The flagged rows go back to staff, who open them in a spreadsheet or read them in a
//!    terminal, and a list's rows may come from anyone (a web form, another system's export).
//!    So an address is written out as [`spreadsheet_cell`] makes it: a control character
//!    (an escape sequence for the terminal) as U+FFFD, as bytes that are not UTF-8 are, and
//!    a cell a spreadsheet would run as a formula (`=`, `+`, `-` or `@` first) after a `'`,
//!    which makes it text. The line number still names the row.
//!
//! Caveats:
//! - An address listed twice is checked, and flagged, twice.
//! - A cell starting `+` or `-` made of nothing but digits, spaces and `+-()./` (a phone
//!   number, `+358 40 123 4567`) is left as written: a spreadsheet reads it as a number or
//!   sums it, and no function can be called without a letter.

use core::fmt;
use std::borrow::Cow;
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

/// The largest list read (the CLI's file or standard input, the API's body): far above a
/// clinic's (a million addresses is about 30 MB).
pub const MAX_LEN: usize = 32 * 1024 * 1024;

/// One address of a list, with its line.
#[derive(Clone, PartialEq, Eq)]
pub struct Row {
    /// The line in the file, from 1.
    pub line: u64,
    /// The address as written (bytes that are not UTF-8 shown as U+FFFD).
    pub address: String,
    /// Whether the address was UTF-8 text: one that is not is flagged, never checked.
    pub utf8: bool,
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
    /// Not readable as CSV at this line.
    Csv {
        /// The line, from 1.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// The named column is not in the header row.
    NoColumn {
        /// The column asked for.
        wanted: String,
        /// The header row's names.
        headers: Vec<String>,
    },
    /// Longer than [`MAX_LEN`].
    TooLong,
}

impl fmt::Display for ListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListError::Csv { line, message } => write!(f, "line {line}: {message}"),
            ListError::NoColumn { wanted, headers } => {
                let headers: Vec<_> = headers.iter().map(|h| printable(h)).collect();
                write!(
                    f,
                    "line 1: no column {wanted:?}; the header row has {}",
                    headers.join(", ")
                )
            }
            ListError::TooLong => write!(f, "the list is longer than {MAX_LEN} bytes"),
        }
    }
}

impl std::error::Error for ListError {}

/// The lines a file's bytes `from..to` end: at `\n`, `\r\n` or a lone `\r` (all three are
/// line ends to the CSV reader, and to the spreadsheets that write the lists). A `\r\n`
/// counts at its `\r`, so a range that stops between the two counts it once.
fn line_ends(text: &[u8], from: usize, to: usize) -> u64 {
    let part = text.get(from..to).unwrap_or_default();
    part.iter()
        .enumerate()
        .filter(|&(i, &b)| {
            b == b'\r'
                || (b == b'\n'
                    && (from + i).checked_sub(1).and_then(|p| text.get(p)) != Some(&b'\r'))
        })
        .count() as u64
}

/// A header cell as text: UTF-8, else Latin-1 (a list a spreadsheet saved in Windows-1252
/// still has its `Sähköposti` column found).
fn header_text(cell: &[u8]) -> String {
    match core::str::from_utf8(cell) {
        Ok(s) => s.to_owned(),
        Err(_) => cell.iter().map(|&b| char::from(b)).collect(),
    }
}

/// Reads the addresses of a list. `column` names the address column (a header name, or a
/// number from 1); see the module's rules. Only the address column need be UTF-8: the other
/// columns (names, in a list a spreadsheet saved in Windows-1252) are not read, and a row
/// whose address is not UTF-8 is flagged by [`check`].
///
/// # Errors
/// [`ListError`] when the file is not CSV (a quoted field never closed), is longer than
/// [`MAX_LEN`], or the named column does not exist. Malformed addresses are not errors here:
/// [`check`] flags each with its line.
pub fn read(input: impl Read, column: Option<&str>) -> Result<Vec<Row>, ListError> {
    let mut bytes = Vec::new();
    input
        .take(MAX_LEN as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ListError::Csv {
            line: 1,
            message: e.to_string(),
        })?;
    if bytes.len() > MAX_LEN {
        return Err(ListError::TooLong);
    }
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
    // Each record's line, counted from the bytes: the reader's own count is off after a
    // `\r\n` or a lone `\r`.
    let (mut at, mut line) = (0, 1);
    let mut records = reader.byte_records().map(|record| {
        let record = record.map_err(|e| ListError::Csv {
            line: e
                .position()
                .map_or(line, |p| line + line_ends(text, at, p.byte() as usize)),
            message: e.to_string(),
        })?;
        // Where the record's first field starts: past the line ends (blank lines, the `\n`
        // of a `\r\n`) the reader counts into it.
        let mut start = record.position().map_or(at, |p| p.byte() as usize);
        while matches!(text.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        line += line_ends(text, at, start);
        at = start;
        Ok::<_, ListError>((line, start, record))
    });
    let Some((first_line, first_start, first)) = records.next().transpose()? else {
        return Ok(Vec::new());
    };
    let headers: Vec<String> = first.iter().map(header_text).collect();
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
    let row = |line: u64, record: &csv::ByteRecord| {
        let cell = record.get(index).unwrap_or_default();
        match core::str::from_utf8(cell) {
            Ok(address) => Row {
                line,
                address: address.to_owned(),
                utf8: true,
            },
            Err(_) => Row {
                line,
                address: String::from_utf8_lossy(cell).into_owned(),
                utf8: false,
            },
        }
    };
    let mut rows = Vec::new();
    if !has_header {
        rows.push(row(first_line, &first));
    }
    let mut last = (first_line, first_start, first);
    for record in records {
        let (line, start, record) = record?;
        rows.push(row(line, &record));
        last = (line, start, record);
    }
    // A quote opened and never closed makes the rest of the file one field: the rows in it
    // would be neither checked nor named.
    let (line, start, record) = last;
    let quotes = text
        .get(start..)
        .unwrap_or_default()
        .iter()
        .filter(|&&b| b == b'"')
        .count();
    if quotes % 2 == 1
        && record
            .iter()
            .any(|c| c.contains(&b'\n') || c.contains(&b'\r'))
    {
        return Err(ListError::Csv {
            line,
            message: "a quoted field opened on this line is never closed".to_owned(),
        });
    }
    Ok(rows)
}

/// `text` with every control character (C0, DEL, C1) as U+FFFD: a list's cell as it may be
/// shown in a terminal, where an escape sequence would be run rather than shown.
fn printable(text: &str) -> Cow<'_, str> {
    if text.chars().any(char::is_control) {
        Cow::Owned(
            text.chars()
                .map(|c| if c.is_control() { '\u{fffd}' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(text)
    }
}

/// An address as the flagged list writes it (the module's rule 4): printable, and never a
/// formula. A cell starting with `=`, `+`, `-` or `@` gets a `'` before it, unless it is
/// nothing but digits, spaces and `+-()./` (a phone number), which no spreadsheet runs as a
/// call.
#[must_use]
pub fn spreadsheet_cell(address: &str) -> Cow<'_, str> {
    let text = printable(address);
    let formula = text.starts_with(['=', '+', '-', '@'])
        && !text
            .chars()
            .all(|c| c.is_ascii_digit() || " +-()./".contains(c));
    if formula {
        Cow::Owned(format!("'{text}"))
    } else {
        text
    }
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
    /// It is not UTF-8 text (a list a spreadsheet saved in another encoding).
    NotUtf8,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NoDecision => f.write_str("no_decision"),
            Reason::Status(s) => s.fmt(f),
            Reason::WrongChannel(kind) => write!(f, "wrong_channel: {}", kind.described()),
            Reason::Malformed(e) => write!(f, "malformed: {e}"),
            Reason::NotUtf8 => {
                f.write_str("malformed: not UTF-8 text (save the list as CSV UTF-8)")
            }
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
            _ if !row.utf8 => Reason::NotUtf8,
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
    // States set after `now` (an earlier `now`, a decision a staff clock dated ahead in an
    // older log) are answered from the history instead.
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
    fn only_the_address_column_need_be_utf8() {
        // Saved by a spreadsheet in Windows-1252: the header is found, the names are not read,
        // and an address that is not UTF-8 is a row of its own, flagged by `check`.
        let csv = b"Nimi;S\xe4hk\xf6posti\r\nMatti M\xe4ki;matti@a.fi\r\n\xc4iti;\xe4iti@a.fi\r\n";
        let rows = read(&csv[..], None).unwrap();
        assert_eq!(lines(&rows), [(2, "matti@a.fi"), (3, "\u{fffd}iti@a.fi")]);
        assert_eq!(
            rows.iter().map(|r| r.utf8).collect::<Vec<_>>(),
            [true, false]
        );
    }

    #[test]
    fn lines_are_counted_whatever_ends_them() {
        for csv in [
            "email\na@b.fi\nc@d.fi\n",
            "email\r\na@b.fi\r\nc@d.fi\r\n",
            "email\ra@b.fi\rc@d.fi\r",
        ] {
            let rows = read(csv.as_bytes(), None).unwrap();
            assert_eq!(lines(&rows), [(2, "a@b.fi"), (3, "c@d.fi")], "{csv:?}");
        }
        // Blank lines first, and no header: the first row is on line 3.
        assert_eq!(
            lines(&read(&b"\n\na@b.fi\n"[..], None).unwrap()),
            [(3, "a@b.fi")]
        );
        // A quoted field over two lines: the next row is on line 4.
        let quoted = "email,note\r\na@b.fi,\"x\r\ny\"\r\nc@d.fi,z\r\n";
        assert_eq!(
            lines(&read(quoted.as_bytes(), None).unwrap()),
            [(2, "a@b.fi"), (4, "c@d.fi")]
        );
    }

    #[test]
    fn a_quote_never_closed_is_an_error_not_a_shorter_list() {
        let err = read(&b"email\na@b.fi\n\"c@d.fi\ne@f.fi\ng@h.fi\n"[..], None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "line 3: a quoted field opened on this line is never closed"
        );
        // A quote inside a field, closed on its line, is no such thing.
        let ok = read(&b"email,note\na@b.fi,\"say \"\"hi\"\"\"\n"[..], None).unwrap();
        assert_eq!(lines(&ok), [(2, "a@b.fi")]);
    }

    #[test]
    fn a_list_past_the_bound_is_refused_unread() {
        let endless = std::io::repeat(b'a');
        assert!(matches!(read(endless, None), Err(ListError::TooLong)));
    }
}
