//! The declaration as CommonMark (with GitHub-style pipe tables).
//!
//! Config strings are backslash-escaped so that they stay text: no emphasis, links, raw
//! HTML or table cells can come out of a service's name or a cookie's purpose.

use super::phrases::Phrase;
use super::{CategoryDecl, Declaration, ServiceDecl, fill};
use crate::prelude::*;

/// Appends `s` as inline text: Markdown's punctuation escaped, line breaks made spaces.
fn escape(out: &mut String, s: &str) {
    for (i, c) in s.chars().enumerate() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '&' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            // Only at the start of a block could these open a heading, list or quote.
            '#' | '+' | '-' | '=' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
}

/// A paragraph of text; a leading `1.` would open an ordered list, so its dot is escaped.
fn paragraph(out: &mut String, s: &str) {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && matches!(s.as_bytes().get(digits), Some(b'.' | b')')) {
        out.push_str(&s[..digits]);
        out.push('\\');
        escape(out, &s[digits..]);
    } else {
        escape(out, s);
    }
    out.push_str("\n\n");
}

fn heading(out: &mut String, level: &str, s: &str) {
    out.push_str(level);
    out.push(' ');
    escape(out, s);
    out.push_str("\n\n");
}

/// A code span whose fence is longer than any run of backticks inside.
fn code(out: &mut String, s: &str) {
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    out.push_str(&fence);
    out.push_str(pad);
    out.push_str(s);
    out.push_str(pad);
    out.push_str(&fence);
}

/// A table cell's code span: a `|` would end the cell even inside code.
fn cell_code(out: &mut String, s: &str) {
    if s.contains('|') {
        escape(out, s);
    } else {
        code(out, s);
    }
}

pub(super) fn render(d: &Declaration) -> String {
    let mut out = String::with_capacity(8 * 1024);
    heading(&mut out, "##", &d.title);
    paragraph(&mut out, &d.intro);
    for c in &d.categories {
        category(&mut out, d, c);
    }
    if let Some(note) = &d.wildcard_note {
        paragraph(&mut out, note);
    }
    heading(&mut out, "###", &d.transfers.title);
    paragraph(&mut out, &d.transfers.text);
    let w = &d.withdrawal;
    heading(&mut out, "###", &w.title);
    fill(Phrase::Withdrawal.get(d.lang), &mut out, escape, |o, _| {
        o.push_str("**");
        escape(o, &w.settings_label);
        o.push_str("**");
    });
    out.push_str("\n\n");
    fill(
        Phrase::Remembered.get(d.lang),
        &mut out,
        escape,
        |o, name| {
            if name == "cookie" {
                code(o, &w.consent_cookie);
            } else {
                escape(o, &w.kept_for);
            }
        },
    );
    out.push_str("\n\n");
    if let Some(record) = &w.record {
        paragraph(&mut out, record);
    }
    out.push('*');
    escape(&mut out, &d.revision_text);
    out.push_str("*\n");
    out
}

fn category(out: &mut String, d: &Declaration, c: &CategoryDecl) {
    heading(out, "###", &c.title);
    paragraph(out, &c.description);
    paragraph(out, &c.legal_basis);
    if let Some(none) = &c.no_services {
        paragraph(out, none);
    }
    for s in &c.services {
        service(out, d, s);
    }
}

fn item(out: &mut String, label: &str, value: impl FnOnce(&mut String)) {
    out.push_str("- **");
    escape(out, label);
    out.push_str(":** ");
    value(out);
    out.push('\n');
}

fn service(out: &mut String, d: &Declaration, s: &ServiceDecl) {
    heading(out, "####", &s.name);
    item(out, &d.labels.provider, |o| escape(o, &s.provider));
    item(out, &d.labels.purpose, |o| escape(o, &s.purpose));
    if !s.hosts.is_empty() {
        item(out, &d.labels.hosts, |o| {
            for (i, host) in s.hosts.iter().enumerate() {
                if i > 0 {
                    o.push_str(", ");
                }
                code(o, host);
            }
        });
    }
    item(out, &d.labels.transfer, |o| escape(o, &s.transfer.text));
    if let Some(url) = &s.privacy_url {
        // Config validation allows no spaces or angle brackets in addresses, so the
        // pointy-bracket form holds any of them.
        out.push_str("- [");
        escape(out, &d.labels.provider_privacy);
        out.push_str("](<");
        out.push_str(url);
        out.push_str(">)\n");
    }
    out.push('\n');
    if let Some(none) = &s.no_cookies {
        paragraph(out, none);
        return;
    }
    out.push('*');
    escape(out, &s.cookies_caption);
    out.push_str("*\n\n| ");
    for (i, label) in [
        &d.labels.cookie,
        &d.labels.domain,
        &d.labels.lifetime,
        &d.labels.purpose,
    ]
    .into_iter()
    .enumerate()
    {
        if i > 0 {
            out.push_str(" | ");
        }
        escape(out, label);
    }
    out.push_str(" |\n| --- | --- | --- | --- |\n");
    for c in &s.cookies {
        out.push_str("| ");
        cell_code(out, &c.name);
        out.push_str(" | ");
        escape(out, &c.domain_text);
        out.push_str(" | ");
        escape(out, &c.lifetime_text);
        out.push_str(" | ");
        escape(out, &c.purpose);
        out.push_str(" |\n");
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_text_cannot_become_markup() {
        let mut out = String::new();
        escape(&mut out, "# [x](javascript:y) *b* <i> a|b\nc");
        assert_eq!(out, r"\# \[x\](javascript:y) \*b\* \<i\> a\|b c");
        let mut out = String::new();
        paragraph(&mut out, "1. not a list");
        assert_eq!(out, "1\\. not a list\n\n");
    }

    #[test]
    fn code_spans_outlast_backticks() {
        let mut out = String::new();
        code(&mut out, "a`b");
        assert_eq!(out, "``a`b``");
        let mut out = String::new();
        code(&mut out, "`x");
        assert_eq!(out, "`` `x ``");
    }
}
