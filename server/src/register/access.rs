//! The right of access (GDPR art. 15): everything the log holds for a contact or a consent
//! id, as JSON and as a readable page in Finnish, Swedish or English.

use consent_core::Lang;
use consent_core::register::{Contact, MarketingChannel, MayMarket};
use maud::{DOCTYPE, PreEscaped, html};
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

    /// The export as a self-contained HTML page in `lang`. Every value is escaped by maud.
    #[must_use]
    pub fn to_html(&self, lang: Lang) -> String {
        let t = Texts::of(lang);
        html! {
            (DOCTYPE)
            html lang=(lang.as_str()) {
                meta charset="utf-8";
                title { (t.title) }
                style { (PreEscaped(STYLE)) }
                h1 { (t.title) }
                p { (t.intro) }
                p {
                    (t.made) ": " (rfc3339(self.made))
                    @if let Some(c) = &self.contact {
                        br; (t.contact) ": " (c)
                    }
                    br; (t.subject) ": " code { (self.subject) }
                }
                @if !self.channels.is_empty() {
                    h2 { (t.marketing) }
                    table {
                        @for (c, a) in &self.channels {
                            tr {
                                th { (t.channel(*c)) }
                                td {
                                    (if a.allowed() { t.yes } else { t.no })
                                    " (" (a.status().map_or("no_decision", |s| s.as_str()))
                                    @if let Some(since) = a.since() { ", " (rfc3339(since)) }
                                    ")"
                                }
                            }
                        }
                    }
                }
                h2 { (t.records) }
                @if self.records.is_empty() {
                    p { (t.none) }
                } @else {
                    table {
                        tr { th { "#" } th { (t.record) } }
                        @for r in &self.records {
                            tr {
                                td { (r["seq"]) }
                                td {
                                    @match r.get("record").and_then(Value::as_object) {
                                        Some(fields) => {
                                            @for (k, v) in fields {
                                                (k) ": " (v.as_str().map_or_else(|| v.to_string(), str::to_owned)) br;
                                            }
                                        }
                                        None => (t.erased),
                                    }
                                }
                            }
                        }
                    }
                }
                h2 { (t.requests) }
                @if self.requests.is_empty() {
                    p { (t.none) }
                } @else {
                    ul {
                        @for r in &self.requests {
                            li {
                                @for key in ["kind", "received", "deadline", "outcome", "closed"] {
                                    @if let Some(v) = r.get(key).and_then(Value::as_str) {
                                        (key) ": " (v) "; "
                                    }
                                }
                            }
                        }
                    }
                }
                p { (t.footer) }
            }
        }
        .into_string()
    }
}

/// The page's stylesheet, inline: the page is saved and sent on as one self-contained file.
const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}code{word-break:break-all}";

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
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
    use consent_core::register::MarketingStatus;

    #[test]
    fn html_escapes_every_value() {
        let t = OffsetDateTime::UNIX_EPOCH;
        let nasty = "<script>alert('x')</script>&\"";
        let access = Access {
            subject: Subject::Consent(consent_core::ConsentId::from_bytes([7; 16])),
            contact: Some(nasty.to_owned()),
            records: vec![
                json!({ "seq": 1, "record": { nasty: nasty } }),
                json!({ "seq": 2, "record": null }),
            ],
            channels: vec![(
                MarketingChannel::Email,
                MayMarket::from_status(Some((MarketingStatus::Objected, t))),
            )],
            requests: vec![json!({ "kind": nasty, "closed": nasty })],
            made: t,
        };
        let html = access.to_html(Lang::En);
        let escaped = "&lt;script&gt;alert('x')&lt;/script&gt;&amp;&quot;";
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("&\""), "{html}");
        assert!(html.contains(&format!("Contact: {escaped}<br>")), "{html}");
        assert!(
            html.contains(&format!("<td>{escaped}: {escaped}<br></td>")),
            "{html}"
        );
        assert!(
            html.contains(&format!("<li>kind: {escaped}; closed: {escaped}; </li>")),
            "{html}"
        );
        // The page's structure around the values is as before.
        assert!(html.starts_with("<!DOCTYPE html><html lang=\"en\"><meta charset=\"utf-8\">"));
        assert!(html.contains("<code>consent:07070707070707070707070707070707</code>"));
        assert!(
            html.contains("<th>E-mail</th><td>not allowed (objected, 1970-01-01T00:00:00Z)</td>")
        );
        assert!(html.contains("<tr><td>2</td><td>erased ("), "{html}");
    }
}
