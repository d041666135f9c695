//! `consent validate`'s input: a JSON config, or an HTML page that embeds one.
//!
//! Before the banner read a compiled policy (issue 13) a page carried its config itself, in
//! `<script type="application/json" id="consent-config">`; sites that still do can check that
//! config without cutting it out first. The page's config is validated as if it stood where
//! it stands in the page, so a syntax error's line and column are the page's.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// The `id` of the element an old-style page embeds its config in.
const EMBED_ID: &str = "consent-config";

/// A config read from a file, ready for [`consent_core::Config::from_json`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Input {
    /// The JSON text; for a page, padded with blanks so that positions are the page's.
    pub(crate) json: String,
    /// For a config embedded in a page, the line of the page where it starts.
    pub(crate) embedded_at: Option<usize>,
}

/// Why a file gave no config to validate.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The file could not be read: the path as given, the path it resolves to, and why.
    Io {
        given: PathBuf,
        tried: PathBuf,
        source: io::Error,
    },
    /// An HTML page with no `<script id="consent-config">`.
    NoEmbeddedConfig(PathBuf),
    /// Too large, or not UTF-8 text (where): [`consent_core::config::json_text`].
    NotText(PathBuf, consent_core::ConfigError),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io {
                given,
                tried,
                source,
            } if given == tried => write!(f, "cannot read {}: {source}", given.display()),
            ReadError::Io {
                given,
                tried,
                source,
            } => write!(
                f,
                "cannot read {} ({}): {source}",
                given.display(),
                tried.display()
            ),
            ReadError::NoEmbeddedConfig(path) => write!(
                f,
                "{}: an HTML page with no config in it: expected a JSON config, or a page that \
                 embeds one in <script type=\"application/json\" id=\"{EMBED_ID}\">",
                path.display()
            ),
            ReadError::NotText(path, e) => write!(f, "{}: {e}", path.display()),
        }
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReadError::Io { source, .. } => Some(source),
            ReadError::NoEmbeddedConfig(_) | ReadError::NotText(..) => None,
        }
    }
}

/// Reads the config at `path`: the file itself, or the config its HTML embeds.
///
/// # Errors
/// A file that cannot be read (named by the path it resolves to), is not UTF-8 text, or is
/// a page without a config.
pub(crate) fn read(path: &Path) -> Result<Input, ReadError> {
    let bytes = read_bounded(path).map_err(|source| ReadError::Io {
        given: path.to_owned(),
        // Relative to the working directory, which the message then names.
        tried: std::path::absolute(path).unwrap_or_else(|_| path.to_owned()),
        source,
    })?;
    // As every command reads a config: UTF-8, a byte order mark left out (no part of the JSON).
    let text = consent_core::config::json_text(&bytes)
        .map_err(|e| ReadError::NotText(path.to_owned(), e))?;
    if !text.trim_start().starts_with('<') {
        return Ok(Input {
            json: text.to_owned(),
            embedded_at: None,
        });
    }
    let (start, json) =
        embedded(text).ok_or_else(|| ReadError::NoEmbeddedConfig(path.to_owned()))?;
    let before = text.get(..start).unwrap_or_default();
    let line = before.matches('\n').count();
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1);
    let mut padded = "\n".repeat(line);
    padded.push_str(&" ".repeat(column));
    padded.push_str(json);
    Ok(Input {
        json: padded,
        embedded_at: Some(line + 1),
    })
}

/// The file at `path`, but never more than one byte past
/// [`consent_core::config::MAX_FILE_LEN`], which [`consent_core::config::json_text`] then
/// refuses: a file that is not a config (a 50 MB export, `/dev/zero`) is not read into memory.
///
/// # Errors
/// The file cannot be opened or read.
pub(crate) fn read_bounded(path: &Path) -> io::Result<Vec<u8>> {
    use io::Read as _;
    let limit = consent_core::config::MAX_FILE_LEN as u64 + 1;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The text of the page's `<script id="consent-config">` and the byte offset where it
/// starts. Comments and other scripts' contents are skipped, as a browser would.
fn embedded(page: &str) -> Option<(usize, &str)> {
    // ASCII lowercasing keeps every byte offset.
    let lower = page.to_ascii_lowercase();
    let mut at = 0;
    while let Some(i) = lower.get(at..)?.find('<') {
        let tag = at + i;
        let rest = lower.get(tag..)?;
        if rest.starts_with("<!--") {
            at = tag + 4 + rest.get(4..)?.find("-->")? + 3;
        } else if rest.starts_with("<script")
            && rest
                .as_bytes()
                .get(7)
                .is_some_and(|&b| b.is_ascii_whitespace() || b == b'>' || b == b'/')
        {
            let (attributes_end, is_config) = script_tag(page, tag + 7)?;
            let body = attributes_end;
            let end = body
                + lower
                    .get(body..)?
                    .find("</script")
                    .unwrap_or(page.len() - body);
            if is_config {
                return Some((body, page.get(body..end)?));
            }
            at = end;
        } else {
            at = tag + 1;
        }
    }
    None
}

/// Reads a start tag's attributes from `at` (just after `<script`) to its `>`: where its
/// content starts, and whether its `id` is [`EMBED_ID`].
fn script_tag(page: &str, mut at: usize) -> Option<(usize, bool)> {
    let bytes = page.as_bytes();
    let mut is_config = false;
    loop {
        while bytes
            .get(at)
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b'/')
        {
            at += 1;
        }
        if *bytes.get(at)? == b'>' {
            return Some((at + 1, is_config));
        }
        let name_start = at;
        while bytes
            .get(at)
            .is_some_and(|b| !b.is_ascii_whitespace() && !matches!(b, b'/' | b'>' | b'='))
        {
            at += 1;
        }
        let name = page.get(name_start..at)?;
        while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
            at += 1;
        }
        if bytes.get(at) != Some(&b'=') {
            continue;
        }
        at += 1;
        while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
            at += 1;
        }
        let value = match *bytes.get(at)? {
            quote @ (b'"' | b'\'') => {
                let start = at + 1;
                let len = page.get(start..)?.find(char::from(quote))?;
                at = start + len + 1;
                page.get(start..start + len)?
            }
            _ => {
                let start = at;
                while bytes
                    .get(at)
                    .is_some_and(|b| !b.is_ascii_whitespace() && *b != b'>')
                {
                    at += 1;
                }
                page.get(start..at)?
            }
        };
        is_config |= name.eq_ignore_ascii_case("id") && value == EMBED_ID;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_of(page: &str) -> Option<&str> {
        embedded(page).map(|(_, json)| json)
    }

    #[test]
    fn finds_the_config_in_its_script_and_nowhere_else() {
        let page = r#"<!doctype html><html><head>
<!-- <script id="consent-config">{"old": true}</script> -->
<script>const s = '<script id="consent-config">no</script>';</script>
<script src="/x.js"></script>
<SCRIPT data-layout="box" type='application/json' ID=consent-config>{"revision": 1}</SCRIPT>
<script id="consent-config">{"second": true}</script>"#;
        assert_eq!(config_of(page), Some(r#"{"revision": 1}"#));
        for page in [
            "<p>no script</p>",
            r#"<script id="consent-configs">{}</script>"#,
            r#"<scripts id="consent-config">{}</scripts>"#,
            r#"<!-- <script id="consent-config">{}</script>"#,
            r#"<script id="consent-config""#,
            "<",
            "<script",
        ] {
            assert_eq!(config_of(page), None, "{page}");
        }
        // An unclosed script runs to the end of the page, as in a browser.
        assert_eq!(
            config_of(r#"<script id="consent-config">{"a": 1}"#),
            Some(r#"{"a": 1}"#)
        );
    }

    #[test]
    fn positions_in_the_config_are_the_pages() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
        let path = dir.path().join("page.html");
        let page = "<html>\n<body>\n  <script id=\"consent-config\">{\n  \"revision\": 1,\n  oops\n}</script>";
        std::fs::write(&path, page).unwrap_or_else(|e| unreachable!("{e}"));
        let input = read(&path).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(input.embedded_at, Some(3));
        let err = consent_core::Config::from_json(&input.json)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        // `oops` is on the page's line 5, column 3.
        assert!(err.contains("at line 5 column 3"), "{err}");
        let first_line = "<script id=\"consent-config\">[";
        std::fs::write(&path, format!("\u{feff}{first_line}</script>"))
            .unwrap_or_else(|e| unreachable!("{e}"));
        let input = read(&path).unwrap_or_else(|e| unreachable!("{e}"));
        let err = consent_core::Config::from_json(&input.json)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        // The page's BOM is not counted, as an editor does not show it.
        assert!(
            err.contains(&format!("at line 1 column {}", first_line.len())),
            "{err}"
        );
    }

    #[test]
    fn a_json_file_is_read_as_it_is() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
        let path = dir.path().join("site.json");
        std::fs::write(&path, "\u{feff}  {\"revision\": 1}")
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            read(&path).ok(),
            Some(Input {
                json: "  {\"revision\": 1}".into(),
                embedded_at: None
            })
        );
        std::fs::write(&path, "<p>hello</p>").unwrap_or_else(|e| unreachable!("{e}"));
        let err = read(&path).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            err.contains("site.json: an HTML page with no config in it"),
            "{err}"
        );
    }
}
