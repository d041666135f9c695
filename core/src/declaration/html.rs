//! The declaration as an HTML fragment.
//!
//! Every string from the config is escaped; the markup is semantic (sections and headings,
//! a definition list per service, a table per service's cookies with a caption and header
//! cells with `scope`) and carries `consent-declaration*` classes for a notice to style.

use crate::prelude::*;
use core::fmt::Write as _;

use super::phrases::Phrase;
use super::{CategoryDecl, Declaration, IsoDate, ServiceDecl, fill, local_date};

/// Appends `s` with `&`, `<`, `>`, `"` and `'` escaped: safe in text and in quoted
/// attribute values.
fn escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

fn element(out: &mut String, open: &str, text: &str, close: &str) {
    out.push_str(open);
    escape(out, text);
    out.push_str(close);
    out.push('\n');
}

fn code(out: &mut String, s: &str) {
    out.push_str("<code>");
    escape(out, s);
    out.push_str("</code>");
}

pub(super) fn render(d: &Declaration) -> String {
    let mut out = String::with_capacity(8 * 1024);
    let _ = writeln!(
        out,
        r#"<section class="consent-declaration" lang="{}">"#,
        d.lang
    );
    element(&mut out, "<h2>", &d.title, "</h2>");
    element(&mut out, "<p>", &d.intro, "</p>");
    for c in &d.categories {
        category(&mut out, d, c);
    }
    if let Some(note) = &d.wildcard_note {
        element(
            &mut out,
            r#"<p class="consent-declaration-note">"#,
            note,
            "</p>",
        );
    }
    out.push_str("<section class=\"consent-declaration-transfers\">\n");
    element(&mut out, "<h3>", &d.transfers.title, "</h3>");
    element(&mut out, "<p>", &d.transfers.text, "</p>");
    out.push_str("</section>\n");
    withdrawal(&mut out, d);
    revision(&mut out, d);
    out.push_str("</section>\n");
    out
}

fn category(out: &mut String, d: &Declaration, c: &CategoryDecl) {
    out.push_str(r#"<section class="consent-declaration-category" data-category=""#);
    escape(out, &c.id);
    out.push_str("\">\n");
    element(out, "<h3>", &c.title, "</h3>");
    element(out, "<p>", &c.description, "</p>");
    element(out, "<p>", &c.legal_basis, "</p>");
    if let Some(none) = &c.no_services {
        element(out, "<p>", none, "</p>");
    }
    for s in &c.services {
        service(out, d, s);
    }
    out.push_str("</section>\n");
}

fn service(out: &mut String, d: &Declaration, s: &ServiceDecl) {
    out.push_str(r#"<section class="consent-declaration-service" data-service=""#);
    escape(out, &s.id);
    out.push_str("\">\n");
    element(out, "<h4>", &s.name, "</h4>");
    out.push_str("<dl>\n");
    element(out, "<dt>", &d.labels.provider, "</dt>");
    out.push_str("<dd>");
    escape(out, &s.provider);
    if let Some(url) = &s.privacy_url {
        out.push_str(r#" (<a href=""#);
        escape(out, url);
        out.push_str(r#"" rel="noopener noreferrer">"#);
        escape(out, &d.labels.provider_privacy);
        out.push_str("</a>)");
    }
    out.push_str("</dd>\n");
    element(out, "<dt>", &d.labels.purpose, "</dt>");
    element(out, "<dd>", &s.purpose, "</dd>");
    if !s.hosts.is_empty() {
        element(out, "<dt>", &d.labels.hosts, "</dt>");
        out.push_str("<dd>");
        for (i, host) in s.hosts.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            code(out, host);
        }
        out.push_str("</dd>\n");
    }
    element(out, "<dt>", &d.labels.transfer, "</dt>");
    element(out, "<dd>", &s.transfer.text, "</dd>");
    out.push_str("</dl>\n");
    if let Some(none) = &s.no_cookies {
        element(out, "<p>", none, "</p>");
    } else {
        cookies(out, d, s);
    }
    out.push_str("</section>\n");
}

fn cookies(out: &mut String, d: &Declaration, s: &ServiceDecl) {
    out.push_str("<table class=\"consent-declaration-cookies\">\n");
    element(out, "<caption>", &s.cookies_caption, "</caption>");
    out.push_str("<thead><tr>");
    for label in [
        &d.labels.cookie,
        &d.labels.domain,
        &d.labels.lifetime,
        &d.labels.purpose,
    ] {
        out.push_str(r#"<th scope="col">"#);
        escape(out, label);
        out.push_str("</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for c in &s.cookies {
        out.push_str(r#"<tr><th scope="row">"#);
        code(out, &c.name);
        out.push_str("</th><td>");
        escape(out, &c.domain_text);
        out.push_str("</td><td>");
        escape(out, &c.lifetime_text);
        out.push_str("</td><td>");
        escape(out, &c.purpose);
        out.push_str("</td></tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

fn withdrawal(out: &mut String, d: &Declaration) {
    let w = &d.withdrawal;
    out.push_str("<section class=\"consent-declaration-withdrawal\">\n");
    element(out, "<h3>", &w.title, "</h3>");
    out.push_str("<p>");
    fill(Phrase::Withdrawal.get(d.lang), out, escape, |o, _| {
        o.push_str(r#"<button type="button" data-consent-open>"#);
        escape(o, &w.settings_label);
        o.push_str("</button>");
    });
    out.push_str("</p>\n<p>");
    fill(Phrase::Remembered.get(d.lang), out, escape, |o, name| {
        if name == "cookie" {
            code(o, &w.consent_cookie);
        } else {
            escape(o, &w.kept_for);
        }
    });
    out.push_str("</p>\n");
    if let Some(record) = &w.record {
        element(out, "<p>", record, "</p>");
    }
    out.push_str("</section>\n");
}

fn revision(out: &mut String, d: &Declaration) {
    out.push_str(r#"<p class="consent-declaration-revision">"#);
    let template = match d.date {
        Some(_) => Phrase::RevisionDated,
        None => Phrase::Revision,
    };
    fill(template.get(d.lang), out, escape, |o, name| {
        match (name, d.date) {
            ("date", Some(date)) => {
                let _ = write!(
                    o,
                    r#"<time datetime="{}">{}</time>"#,
                    IsoDate(date),
                    local_date(date, d.lang)
                );
            }
            _ => {
                let _ = write!(o, "{}", d.revision);
            }
        }
    });
    out.push_str("</p>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_could_open_markup() {
        let mut out = String::new();
        escape(&mut out, r#"<script>alert("x&y's")</script>"#);
        assert_eq!(
            out,
            "&lt;script&gt;alert(&quot;x&amp;y&#39;s&quot;)&lt;/script&gt;"
        );
    }
}
