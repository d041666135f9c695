//! Prints valid `POST /consent` bodies, one JSON object per line, for load tests.
//!
//! Each body is what the banner sends after "accept all" on the example clinic's config: an
//! unsigned token, with its own consent id, and the page (the server makes the record).
//!
//! ```text
//! cargo run -p consent-server --example submission -- 1000 > bodies.jsonl
//! ```
//!
//! The argument is how many bodies (default 1). Ids are `00…01`, `00…02`, ... so runs are
//! reproducible; the decision time is now, so the bodies are accepted for as long as the
//! config's consent lifetime.

// An example binary: a broken config or an out-of-range decision stops it with a message.
#![allow(clippy::expect_used)]

use std::io::Write as _;

use consent_core::policy::{self, Action, Context, Signals};
use consent_core::{Config, ConsentId, Lang, Token};

fn main() {
    let count: u64 = std::env::args()
        .nth(1)
        .map_or(1, |n| n.parse().expect("the argument is a count of bodies"));
    let config = Config::from_json(consent_core::EXAMPLE_CONFIG).expect("the example config");
    let now = time::OffsetDateTime::now_utc();
    let before = policy::evaluate(&config, None, None, now, Signals::default());
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for n in 1..=count {
        let mut bytes = [0u8; 16];
        bytes[8..].copy_from_slice(&n.to_be_bytes());
        let ctx = Context {
            now,
            signals: Signals::default(),
            lang: Lang::Fi,
            fresh_id: ConsentId::from_bytes(bytes),
        };
        let decision =
            policy::decide(&config, &before, Action::AcceptAll, ctx).expect("a valid decision");
        let body = serde_json::json!({
            "token": Token::unsigned(*decision.state()).to_string(),
            "page": "https://klinikka.fi/",
        });
        writeln!(out, "{body}").expect("write to stdout");
    }
    out.flush().expect("flush stdout");
}
