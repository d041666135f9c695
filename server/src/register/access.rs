//! The right of access (GDPR art. 15): everything the log holds for a contact or a consent
//! id, as JSON and as a readable page in Finnish, Swedish or English.

use consent_core::Lang;
use consent_core::register::{Contact, MarketingChannel, MayMarket};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::requests::Subject;
use crate::key::ServerKey;
use crate::store::{Store, StoreError};

/// What the log holds for one subject.
#[derive(Clone, Debug, PartialEq)]
pub struct Access {
    /// Whose data.
    pub subject: Subject,
    /// The contact as the requester gave it (normalised), for a contact subject.
    pub contact: Option<String>,
    /// Every decision held, as stored (erased ones as `null`), with position and digest.
    pub records: Vec<Value>,
    /// For a contact: the state on each channel it can be reached on.
    pub channels: Vec<(MarketingChannel, MayMarket)>,
    /// Data-subject requests about this subject, as JSON.
    pub requests: Vec<Value>,
    /// When the export was made.
    pub made: OffsetDateTime,
}

/// Collects what the log holds for a contact.
///
/// # Errors
/// [`StoreError`] when the log cannot be read.
pub async fn for_contact<S: Store>(
    store: &S,
    key: &ServerKey,
    contact: &Contact,
    now: OffsetDateTime,
) -> Result<Access, StoreError> {
    let hash = key.contact_hash(contact);
    let subject = Subject::Contact(hash);
    let entries = store.contact_records(hash).await?;
    let records = entries.iter().map(entry_json).collect();
    let mut channels = Vec::new();
    for channel in MarketingChannel::ALL {
        if channel.accepts(contact.kind()) {
            channels.push((
                channel,
                super::may_market(store, key, contact, channel, now).await?,
            ));
        }
    }
    Ok(Access {
        subject,
        contact: Some(contact.as_str().to_owned()),
        records,
        channels,
        requests: requests_about(store, subject, now).await?,
        made: now,
    })
}

/// Collects what the log holds for a consent id (the cookie decisions).
///
/// # Errors
/// [`StoreError`] when the log cannot be read.
pub async fn for_consent_id<S: Store>(
    store: &S,
    id: consent_core::ConsentId,
    now: OffsetDateTime,
) -> Result<Access, StoreError> {
    let subject = Subject::Consent(id);
    let entries = store.records_for(id).await?;
    Ok(Access {
        subject,
        contact: None,
        records: entries.iter().map(entry_json).collect(),
        channels: Vec::new(),
        requests: requests_about(store, subject, now).await?,
        made: now,
    })
}

fn entry_json(e: &crate::store::Entry) -> Value {
    let record = e
        .record_json
        .as_deref()
        .and_then(|j| serde_json::from_str::<Value>(j).ok());
    json!({ "seq": e.seq, "kind": e.kind.as_str(), "digest": e.digest.to_string(), "record": record })
}

async fn requests_about<S: Store>(
    store: &S,
    subject: Subject,
    now: OffsetDateTime,
) -> Result<Vec<Value>, StoreError> {
    Ok(store
        .requests(false)
        .await?
        .iter()
        .filter(|r| r.subject == subject)
        .map(|r| r.to_json(now.date()))
        .collect())
}

impl Access {
    /// Whether the log holds anything at all for the subject.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.records.is_empty() && self.requests.is_empty()
    }

    /// The export as JSON.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let channels: Vec<Value> = self
            .channels
            .iter()
            .map(|(c, a)| {
                json!({
                    "channel": c,
                    "may_market": a.allowed(),
                    "status": a.status().map_or("no_decision", |s| s.as_str()),
                    "since": a.since().map(rfc3339),
                })
            })
            .collect();
        json!({
            "subject": self.subject.to_string(),
            "contact": self.contact,
            "made": rfc3339(self.made),
            "marketing": channels,
            "records": self.records,
            "requests": self.requests,
        })
    }

    /// The export as a self-contained HTML page in `lang`. Every value is escaped.
    #[must_use]
    pub fn to_html(&self, lang: Lang) -> String {
        let t = Texts::of(lang);
        let mut h = String::with_capacity(4096);
        h.push_str("<!doctype html>\n<html lang=\"");
        h.push_str(lang.as_str());
        h.push_str("\"><meta charset=\"utf-8\"><title>");
        h.push_str(t.title);
        h.push_str("</title>\n<style>body{font:16px/1.5 system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}code{word-break:break-all}</style>\n<h1>");
        h.push_str(t.title);
        h.push_str("</h1>\n<p>");
        h.push_str(t.intro);
        h.push_str("</p>\n<p>");
        h.push_str(t.made);
        h.push_str(": ");
        escape_into(&mut h, &rfc3339(self.made));
        if let Some(c) = &self.contact {
            h.push_str("<br>");
            h.push_str(t.contact);
            h.push_str(": ");
            escape_into(&mut h, c);
        }
        h.push_str("<br>");
        h.push_str(t.subject);
        h.push_str(": <code>");
        escape_into(&mut h, &self.subject.to_string());
        h.push_str("</code></p>\n");
        if !self.channels.is_empty() {
            h.push_str("<h2>");
            h.push_str(t.marketing);
            h.push_str("</h2>\n<table>");
            for (c, a) in &self.channels {
                h.push_str("<tr><th>");
                h.push_str(t.channel(*c));
                h.push_str("</th><td>");
                h.push_str(if a.allowed() { t.yes } else { t.no });
                h.push_str(" (");
                escape_into(&mut h, a.status().map_or("no_decision", |s| s.as_str()));
                if let Some(since) = a.since() {
                    h.push_str(", ");
                    escape_into(&mut h, &rfc3339(since));
                }
                h.push_str(")</td></tr>");
            }
            h.push_str("</table>\n");
        }
        h.push_str("<h2>");
        h.push_str(t.records);
        h.push_str("</h2>\n");
        if self.records.is_empty() {
            h.push_str("<p>");
            h.push_str(t.none);
            h.push_str("</p>\n");
        } else {
            h.push_str("<table><tr><th>#</th><th>");
            h.push_str(t.record);
            h.push_str("</th></tr>");
            for r in &self.records {
                h.push_str("<tr><td>");
                escape_into(&mut h, &r["seq"].to_string());
                h.push_str("</td><td>");
                match r.get("record").and_then(Value::as_object) {
                    Some(fields) => {
                        for (k, v) in fields {
                            escape_into(&mut h, k);
                            h.push_str(": ");
                            let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                            escape_into(&mut h, &text);
                            h.push_str("<br>");
                        }
                    }
                    None => h.push_str(t.erased),
                }
                h.push_str("</td></tr>");
            }
            h.push_str("</table>\n");
        }
        h.push_str("<h2>");
        h.push_str(t.requests);
        h.push_str("</h2>\n");
        if self.requests.is_empty() {
            h.push_str("<p>");
            h.push_str(t.none);
            h.push_str("</p>\n");
        } else {
            h.push_str("<ul>");
            for r in &self.requests {
                h.push_str("<li>");
                for key in ["kind", "received", "deadline", "outcome", "closed"] {
                    if let Some(v) = r.get(key).and_then(Value::as_str) {
                        escape_into(&mut h, key);
                        h.push_str(": ");
                        escape_into(&mut h, v);
                        h.push_str("; ");
                    }
                }
                h.push_str("</li>");
            }
            h.push_str("</ul>\n");
        }
        h.push_str("<p>");
        h.push_str(t.footer);
        h.push_str("</p>\n</html>\n");
        h
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// Text into HTML: the five characters that could open markup or end an attribute escaped.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
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

/// The page's fixed texts in one language.
struct Texts {
    title: &'static str,
    intro: &'static str,
    made: &'static str,
    contact: &'static str,
    subject: &'static str,
    marketing: &'static str,
    yes: &'static str,
    no: &'static str,
    records: &'static str,
    record: &'static str,
    erased: &'static str,
    requests: &'static str,
    none: &'static str,
    footer: &'static str,
    channels: [&'static str; 3],
}

impl Texts {
    fn of(lang: Lang) -> &'static Texts {
        match lang {
            Lang::Fi => &FI,
            Lang::Sv => &SV,
            Lang::En => &EN,
        }
    }

    fn channel(&self, c: MarketingChannel) -> &'static str {
        match c {
            MarketingChannel::Email => self.channels[0],
            MarketingChannel::Sms => self.channels[1],
            MarketingChannel::Post => self.channels[2],
        }
    }
}

const FI: Texts = Texts {
    title: "Sinusta tallennetut suostumustiedot",
    intro: "Tämä on jäljennös kaikesta, mitä suostumusrekisterimme sisältää sinusta: suoramarkkinointia koskevat suostumukset ja kiellot, evästevalinnat sekä tekemäsi pyynnöt (EU:n tietosuoja-asetus, 15 artikla).",
    made: "Laadittu",
    contact: "Yhteystieto",
    subject: "Tunniste rekisterissä",
    marketing: "Suoramarkkinointi nyt",
    yes: "sallittu",
    no: "ei sallittu",
    records: "Tallennetut päätökset",
    record: "Päätös",
    erased: "poistettu (vain tarkistussumma säilytetään ketjun eheyden todentamiseksi)",
    requests: "Pyyntösi",
    none: "Ei tietoja.",
    footer: "Yhteystietoa ei tallenneta rekisteriin selväkielisenä, vain avaimella laskettuna tiivisteenä.",
    channels: ["Sähköposti", "Tekstiviesti", "Posti"],
};

const SV: Texts = Texts {
    title: "Samtyckesuppgifter som sparats om dig",
    intro: "Detta är en kopia av allt vårt samtyckesregister innehåller om dig: samtycken och förbud som gäller direktmarknadsföring, cookieval och dina begäranden (EU:s dataskyddsförordning, artikel 15).",
    made: "Upprättad",
    contact: "Kontaktuppgift",
    subject: "Identifierare i registret",
    marketing: "Direktmarknadsföring nu",
    yes: "tillåten",
    no: "inte tillåten",
    records: "Sparade beslut",
    record: "Beslut",
    erased: "raderat (endast kontrollsumman sparas för att kedjans integritet ska kunna verifieras)",
    requests: "Dina begäranden",
    none: "Inga uppgifter.",
    footer: "Kontaktuppgiften sparas inte i klartext i registret, endast som en nyckelberäknad hash.",
    channels: ["E-post", "Sms", "Post"],
};

const EN: Texts = Texts {
    title: "Consent data held about you",
    intro: "This is a copy of everything our consent register holds about you: your consents to and prohibitions of direct marketing, your cookie choices and your requests (GDPR, Article 15).",
    made: "Made",
    contact: "Contact",
    subject: "Identifier in the register",
    marketing: "Direct marketing now",
    yes: "allowed",
    no: "not allowed",
    records: "Decisions held",
    record: "Decision",
    erased: "erased (only a checksum is kept so the log's integrity can be verified)",
    requests: "Your requests",
    none: "Nothing held.",
    footer: "The register never stores your contact in clear, only as a keyed hash.",
    channels: ["E-mail", "Text message", "Post"],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_every_value() {
        let mut out = String::new();
        escape_into(&mut out, "<script>alert('x')</script>&\"");
        assert_eq!(
            out,
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
    }
}
