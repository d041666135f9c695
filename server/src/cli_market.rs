//! `consent market ...` and `consent request ...`: the customer register's direct-marketing
//! decisions and data-subject requests from the command line. Kept apart from `main.rs` so
//! the register's commands merge cleanly with others.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use consent_core::register::{Contact, MarketingChannel, MarketingKind};
use consent_core::requests::{Identity, Outcome, RequestKind};
use consent_core::{Channel, ConsentId, Lang};
use consent_server::register::access;
use consent_server::register::list::{self, Reason};
use consent_server::register::requests::{self, Request, RequestError, Subject, Update};
use consent_server::register::{self, Decision, RecordError, Recorded};
use consent_server::store::AnyStore;
use consent_server::store::Requests as _;
use consent_server::{ServerKey, StoreError};
use time::Date;
use time::OffsetDateTime;

/// The `market` subcommands.
#[derive(Subcommand)]
pub(crate) enum Market {
    /// Record a customer's consent, refusal, withdrawal, objection or soft opt-in.
    Record {
        /// The customer's e-mail address or phone number.
        #[arg(long)]
        contact: String,
        /// email, sms or post.
        #[arg(long)]
        channel: MarketingChannel,
        /// consent, refusal, withdrawal, objection or soft_opt_in.
        #[arg(long)]
        kind: MarketingKind,
        /// How it was given: phone, front_desk, email or web_form.
        #[arg(long)]
        via: Channel,
        /// The staff id of whoever recorded it (required unless via web_form).
        #[arg(long)]
        staff: Option<String>,
        /// When it was given (RFC 3339), not before 2000-01-01; default now.
        #[arg(long, value_parser = parse_time)]
        time: Option<OffsetDateTime>,
    },
    /// Whether a contact may be marketed to on a channel now (exit 0 yes, 1 no).
    Check {
        /// The customer's e-mail address or phone number.
        #[arg(long)]
        contact: String,
        /// email, sms or post.
        #[arg(long)]
        channel: MarketingChannel,
    },
    /// Erase a contact (GDPR art. 17): suppress it on every channel first, then remove the
    /// record and contact of its earlier marketing decisions; the chain stays verifiable.
    Erase {
        /// The customer's e-mail address or phone number.
        #[arg(long)]
        contact: String,
        /// How the erasure was asked for: phone, front_desk, email or web_form.
        #[arg(long)]
        via: Channel,
        /// The staff id of whoever handled it (required unless via web_form).
        #[arg(long)]
        staff: Option<String>,
    },
    /// Everything held for a contact or a consent id (GDPR art. 15), as JSON or as a
    /// readable HTML page.
    Access {
        /// The customer's e-mail address or phone number.
        #[arg(
            long,
            conflicts_with = "consent_id",
            required_unless_present = "consent_id"
        )]
        contact: Option<String>,
        /// A visitor's consent id (32 hex digits).
        #[arg(long)]
        consent_id: Option<String>,
        /// json or html.
        #[arg(long, default_value = "json")]
        format: AccessFormat,
        /// The page's language: fi, sv or en.
        #[arg(long, default_value = "fi")]
        lang: Lang,
    },
    /// Check a mailing list (CSV, `-` for standard input): print the rows that may NOT be
    /// contacted as CSV (`line,address,reason`). Malformed rows are listed too, and named on
    /// standard error with their line numbers (exit 1). An address that would be a formula
    /// in a spreadsheet is written after a `'`, and a control character as U+FFFD.
    Bulk {
        /// The list.
        file: PathBuf,
        /// email, sms or post.
        #[arg(long, default_value = "email")]
        channel: MarketingChannel,
        /// The address column: a header name or a number from 1 (default: found by header).
        #[arg(long)]
        column: Option<String>,
    },
}

impl Market {
    /// Whether it appends to the log (and so may start one). The others only read: with no
    /// log where one is named (a mistyped `--db` or `--data-dir`), they fail rather than
    /// answer from a new empty log under a new key.
    pub(crate) fn writes(&self) -> bool {
        match self {
            Market::Record { .. } | Market::Erase { .. } => true,
            Market::Check { .. } | Market::Access { .. } | Market::Bulk { .. } => false,
        }
    }
}

/// The access export's formats.
#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum AccessFormat {
    /// Machine-readable JSON.
    Json,
    /// A readable page.
    Html,
}

/// The `request` subcommands: data-subject requests and their one-month deadline.
#[derive(Subcommand)]
pub(crate) enum Requests {
    /// Record a request received.
    Open {
        /// access, rectification, erasure, objection or restriction.
        #[arg(long)]
        kind: RequestKind,
        /// The customer's e-mail address or phone number.
        #[arg(
            long,
            conflicts_with = "consent_id",
            required_unless_present = "consent_id"
        )]
        contact: Option<String>,
        /// A visitor's consent id.
        #[arg(long)]
        consent_id: Option<String>,
        /// The staff id handling it.
        #[arg(long)]
        staff: String,
        /// The day it was received (YYYY-MM-DD); default today.
        #[arg(long, value_parser = parse_date)]
        received: Option<Date>,
        /// How the identity was checked so far.
        #[arg(long, default_value = "pending")]
        identity: Identity,
    },
    /// Record an identity check, an extension or the outcome of a request.
    Update {
        /// The request's number.
        id: u64,
        /// in_person, strong_authentication, known_contact or failed.
        #[arg(long)]
        identity: Option<Identity>,
        /// Extend the deadline by two months (tell the customer within the first month).
        #[arg(long)]
        extend: bool,
        /// Close it: completed, partial, refused or withdrawn.
        #[arg(long)]
        close: Option<Outcome>,
        /// The day it was closed (YYYY-MM-DD); default today.
        #[arg(long, value_parser = parse_date, requires = "close")]
        closed: Option<Date>,
    },
    /// List requests with their deadlines and days left (open ones unless --all).
    List {
        /// Closed ones too.
        #[arg(long)]
        all: bool,
    },
    /// The open requests past their deadline (exit 1 when there are any: for cron).
    Overdue,
}

impl Requests {
    /// Whether it records anything (see [`Market::writes`]).
    pub(crate) fn writes(&self) -> bool {
        match self {
            Requests::Open { .. } | Requests::Update { .. } => true,
            Requests::List { .. } | Requests::Overdue => false,
        }
    }
}

/// The `request` command's arguments.
#[derive(Args)]
pub(crate) struct RequestArgs {
    #[command(subcommand)]
    pub(crate) command: Requests,
}

fn parse_date(s: &str) -> Result<Date, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &format).map_err(|e| format!("expected a day as YYYY-MM-DD: {e}"))
}

/// The `market` command's arguments.
#[derive(Args)]
pub(crate) struct MarketArgs {
    #[command(subcommand)]
    pub(crate) command: Market,
}

fn parse_time(s: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("expected an RFC 3339 time such as 2026-11-22T09:30:00+02:00: {e}"))
}

pub(crate) async fn run(
    command: Market,
    store: AnyStore,
    key: ServerKey,
) -> anyhow::Result<ExitCode> {
    let now = OffsetDateTime::now_utc();
    match command {
        Market::Record {
            contact,
            channel,
            kind,
            via,
            staff,
            time,
        } => {
            let decision = Decision {
                contact,
                channel,
                kind,
                via,
                staff,
                time,
            };
            match register::record(&store, &key, decision, now).await {
                Ok(Recorded::Stored { seq }) => {
                    outln!("recorded {kind} to {channel} marketing as record {seq}");
                    Ok(ExitCode::SUCCESS)
                }
                Ok(Recorded::Duplicate { seq }) => {
                    outln!("already recorded as record {seq}; nothing stored again");
                    Ok(ExitCode::SUCCESS)
                }
                Err(RecordError::Store(e)) => Err(e.into()),
                Err(e) => {
                    errln!("error: {e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Market::Check { contact, channel } => {
            let contact: Contact = contact.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
            let a = register::may_market(&store, &key, &contact, channel, now).await?;
            let why = match (a.status(), a.since()) {
                (Some(s), Some(t)) => format!("{s} since {}", rfc3339(t)),
                _ => "no decision recorded".into(),
            };
            let verdict = if a.allowed() { "yes" } else { "no" };
            outln!("{channel} marketing: {verdict} ({why})");
            Ok(if a.allowed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Market::Bulk {
            file,
            channel,
            column,
        } => bulk(&store, &key, &file, channel, column.as_deref(), now).await,
        Market::Erase {
            contact,
            via,
            staff,
        } => {
            let contact: Contact = contact.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
            match register::erase(&store, &key, &contact, via, staff, now).await {
                Ok(e) => {
                    outln!(
                        "erased {} marketing records and {} waiting confirmation messages; suppressed on every channel (up to record {}); the chain stays verifiable",
                        e.erased,
                        e.messages,
                        e.suppressed_at
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(RecordError::Store(e)) => Err(e.into()),
                Err(e) => {
                    errln!("error: {e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Market::Access {
            contact,
            consent_id,
            format,
            lang,
        } => {
            let a = match (contact, consent_id) {
                (Some(c), _) => {
                    let c: Contact = c.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
                    access::for_contact(&store, &key, &c, now).await?
                }
                (None, Some(id)) => {
                    let id: ConsentId = id.parse().map_err(|e| anyhow::anyhow!("{id:?}: {e}"))?;
                    access::for_consent_id(&store, id, now).await?
                }
                (None, None) => anyhow::bail!("give --contact or --consent-id"),
            };
            match format {
                AccessFormat::Json => outln!("{}", crate::output::json(&a.to_json())?),
                AccessFormat::Html => outln!("{}", a.to_html(lang)),
            }
            if a.is_empty() {
                errln!("nothing held for {}", a.subject);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub(crate) async fn run_requests(
    command: Requests,
    store: AnyStore,
    key: ServerKey,
) -> anyhow::Result<ExitCode> {
    let today = OffsetDateTime::now_utc().date();
    match command {
        Requests::Open {
            kind,
            contact,
            consent_id,
            staff,
            received,
            identity,
        } => {
            let subject = match (contact, consent_id) {
                (Some(c), _) => {
                    let c: Contact = c.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
                    Subject::Contact(key.contact_hash(&c))
                }
                (None, Some(id)) => {
                    Subject::Consent(id.parse().map_err(|e| anyhow::anyhow!("{id:?}: {e}"))?)
                }
                (None, None) => anyhow::bail!("give --contact or --consent-id"),
            };
            let received = received.unwrap_or(today);
            if received > today {
                anyhow::bail!("--received {received} is in the future");
            }
            let request = Request {
                id: 0,
                kind,
                subject,
                received,
                extended: false,
                identity,
                staff: staff
                    .parse()
                    .map_err(|e| anyhow::anyhow!("--staff {staff:?}: {e}"))?,
                closed: None,
            };
            let deadline = request.deadline();
            let id = store.insert_request(request).await?;
            outln!("request {id} ({kind}) recorded; answer due {deadline}");
            Ok(ExitCode::SUCCESS)
        }
        Requests::Update {
            id,
            identity,
            extend,
            close,
            closed,
        } => {
            let update = Update {
                identity,
                extend,
                close: close.map(|o| (o, closed.unwrap_or(today))),
            };
            match requests::update(&store, id, update, today).await {
                Ok(r) => {
                    let state = match r.closed {
                        Some((o, d)) => format!("closed {d} ({o})"),
                        None => format!(
                            "open, due {} ({} days left)",
                            r.deadline(),
                            r.days_left(today)
                        ),
                    };
                    outln!("request {id}: identity {}, {state}", r.identity);
                    Ok(ExitCode::SUCCESS)
                }
                Err(RequestError::Store(e)) => Err(e.into()),
                Err(e) => {
                    errln!("error: {e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Requests::List { all } => {
            let list = store.requests(!all).await?;
            print_requests(&list, today);
            Ok(ExitCode::SUCCESS)
        }
        Requests::Overdue => {
            let list: Vec<Request> = store
                .requests(true)
                .await?
                .into_iter()
                .filter(|r| r.is_overdue(today))
                .collect();
            if list.is_empty() {
                outln!("no overdue requests");
                return Ok(ExitCode::SUCCESS);
            }
            print_requests(&list, today);
            errln!("{} requests are past their one-month deadline", list.len());
            Ok(ExitCode::FAILURE)
        }
    }
}

fn print_requests(list: &[Request], today: Date) {
    outln!("id\tkind\treceived\tdeadline\tdays left\tidentity\tstaff\tstate");
    for r in list {
        let state = match r.closed {
            Some((o, d)) => format!("closed {d} ({o})"),
            None if r.is_overdue(today) => "OVERDUE".to_owned(),
            None => "open".to_owned(),
        };
        let left = if r.closed.is_some() {
            "-".to_owned()
        } else {
            r.days_left(today).to_string()
        };
        outln!(
            "{}\t{}\t{}\t{}{}\t{left}\t{}\t{}\t{state}",
            r.id,
            r.kind,
            r.received,
            r.deadline(),
            if r.extended { " (extended)" } else { "" },
            r.identity,
            r.staff
        );
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

async fn bulk(
    store: &AnyStore,
    key: &ServerKey,
    file: &PathBuf,
    channel: MarketingChannel,
    column: Option<&str>,
    now: OffsetDateTime,
) -> anyhow::Result<ExitCode> {
    let rows = if file.as_os_str() == "-" {
        list::read(std::io::stdin().lock(), column)
    } else {
        let f = std::fs::File::open(file)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
        list::read(std::io::BufReader::new(f), column)
    }
    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let total = rows.len();
    let flagged = list::check(store, key, channel, rows, now)
        .await
        .map_err(|e: StoreError| anyhow::Error::from(e))?;
    let csv = register::api::flagged_csv(&flagged)?;
    crate::output::bytes(&csv);
    let malformed: Vec<_> = flagged
        .iter()
        .filter_map(|f| match f.reason {
            Reason::Malformed(e) => Some((f.line, e)),
            _ => None,
        })
        .collect();
    for (line, e) in &malformed {
        errln!("error: {}: line {line}: {e}", file.display());
    }
    errln!(
        "{total} addresses checked for {channel} marketing: {} may not be contacted ({} malformed)",
        flagged.len(),
        malformed.len()
    );
    Ok(if malformed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
