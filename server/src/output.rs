//! What the `consent` command writes: its output to standard output, its messages to
//! standard error, neither ever in a panic.
//!
//! 1. Output goes through `outln!` and `out!` (not `println!`, which panics when the
//!    write fails). A reader that went away (`consent export <id> | head -1`, once `head`
//!    has its line) ends the command quietly with [`BROKEN_PIPE`], as a command that SIGPIPE
//!    killed ends; any other failure (a full disk under `> file`) with a message and 1.
//! 2. Messages go through `errln!`: with standard error gone there is nobody to tell, so a
//!    failed write is let go.
//!
//! 3. JSON for a person at a terminal goes through [`json`]: serde_json escapes only ASCII's
//!    control characters, and a visitor's page address may hold C1 controls (U+009B is a
//!    terminal's CSI), which an escape sequence needs; [`json`] escapes every one.
//!
//! Caveats:
//! - The command stops at the first output it cannot write; what it did before (a record
//!   appended, an erasure) stands. The head file is kept up to date as records are appended,
//!   so stopping early loses nothing.

use std::io::{self, Write as _};

/// The exit status when standard output's reader went away: 128 + SIGPIPE, what a shell
/// reports for a command killed by it. Never 0: `consent market check ... | head -0` must not
/// read as "yes, may market".
pub(crate) const BROKEN_PIPE: u8 = 141;

/// Writes `text` to standard output and flushes it; ends the process if that fails
/// (module docs, rule 1).
pub(crate) fn stdout(text: std::fmt::Arguments<'_>, newline: bool) {
    let mut out = io::stdout().lock();
    let written = out
        .write_fmt(text)
        .and_then(|()| {
            if newline {
                out.write_all(b"\n")
            } else {
                Ok(())
            }
        })
        .and_then(|()| out.flush());
    if let Err(e) = written {
        failed(&e);
    }
}

/// Writes `bytes` to standard output as they are (the bulk check's CSV); as [`stdout`].
pub(crate) fn bytes(bytes: &[u8]) {
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_all(bytes).and_then(|()| out.flush()) {
        failed(&e);
    }
}

/// `value` as pretty JSON with every control character a JSON escape (rule 3): the same JSON
/// value, with nothing in it a terminal would run. Outside strings serde_json writes only
/// newlines and spaces, so the only controls left are in strings, where `\u00XX` means the
/// same character.
pub(crate) fn json(value: &impl serde::Serialize) -> serde_json::Result<String> {
    let text = serde_json::to_string_pretty(value)?;
    if !text.chars().any(|c| c.is_control() && c != '\n') {
        return Ok(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if c.is_control() && c != '\n' {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// Writes a line to standard error, if it is there to take it (rule 2).
pub(crate) fn stderr(text: std::fmt::Arguments<'_>) {
    let mut err = io::stderr().lock();
    let _ = err.write_fmt(text).and_then(|()| err.write_all(b"\n"));
}

fn failed(e: &io::Error) -> ! {
    if e.kind() == io::ErrorKind::BrokenPipe {
        std::process::exit(i32::from(BROKEN_PIPE));
    }
    stderr(format_args!("error: cannot write the output: {e}"));
    std::process::exit(1);
}

/// `println!` for the command's output (module docs).
macro_rules! outln {
    () => {
        $crate::output::stdout(format_args!(""), true)
    };
    ($($arg:tt)*) => {
        $crate::output::stdout(format_args!($($arg)*), true)
    };
}

/// `print!` for the command's output (module docs).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::stdout(format_args!($($arg)*), false)
    };
}

/// `eprintln!` for the command's messages (module docs).
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::output::stderr(format_args!($($arg)*))
    };
}

#[cfg(test)]
mod tests {
    /// Text a visitor chose (a page address recorded before `PageUrl` refused C1 controls,
    /// say): U+009B is a terminal's CSI, the start of an escape sequence, and serde_json
    /// writes it raw. `consent export` and `consent market access` print this JSON for staff
    /// at a terminal.
    #[test]
    fn json_escapes_every_control_character_and_keeps_the_value() {
        let page = "https://klinikka.fi/\u{9b}2J\u{9b}H\u{9d}0;pwned\u{9c}\u{1b}[0m";
        let value = serde_json::json!({ "records": [{ "page_url": page }] });
        let text = super::json(&value).unwrap_or_else(|e| unreachable!("{e}"));
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "a control character written raw: {text:?}"
        );
        let back: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(back, value);
    }
}
