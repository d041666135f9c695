//! `consent market ...`: the customer register's direct-marketing decisions from the command
//! line. Kept apart from `main.rs` so the register's commands merge cleanly with others.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use consent_core::Channel;
use consent_core::register::{Contact, MarketingChannel, MarketingKind};
use consent_server::register::list::{self, Reason};
use consent_server::register::{self, Decision, RecordError, Recorded};
use consent_server::store::AnyStore;
use consent_server::{ServerKey, StoreError};
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
        /// When it was given (RFC 3339); default now.
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
    /// Check a mailing list (CSV, `-` for standard input): print the rows that may NOT be
    /// contacted as CSV (`line,address,reason`). Malformed rows are listed too, and named on
    /// standard error with their line numbers (exit 1).
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
                    println!("recorded {kind} to {channel} marketing as record {seq}");
                    Ok(ExitCode::SUCCESS)
                }
                Ok(Recorded::Duplicate { seq }) => {
                    println!("already recorded as record {seq}; nothing stored again");
                    Ok(ExitCode::SUCCESS)
                }
                Err(RecordError::Store(e)) => Err(e.into()),
                Err(e) => {
                    eprintln!("error: {e}");
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
            println!("{channel} marketing: {verdict} ({why})");
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
    std::io::stdout().lock().write_all(&csv)?;
    let malformed: Vec<_> = flagged
        .iter()
        .filter_map(|f| match f.reason {
            Reason::Malformed(e) => Some((f.line, e)),
            _ => None,
        })
        .collect();
    for (line, e) in &malformed {
        eprintln!("error: {}: line {line}: {e}", file.display());
    }
    eprintln!(
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
