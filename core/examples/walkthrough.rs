//! A walk through one visitor's decisions, as the banner and the server see them.
//!
//! ```text
//! cargo run -p consent-core --example walkthrough               # the example clinic config
//! cargo run -p consent-core --example walkthrough -- site.json  # validate and use your own
//! ```

use std::process::ExitCode;

use consent_core::policy::{self, Action, Context, Signals};
use consent_core::{
    Channel, Config, ConsentId, DecisionRecord, Gate, Lang, PageUrl, SigningKey, TextKey, Token,
};

fn main() -> ExitCode {
    let bytes = match std::env::args().nth(1) {
        Some(path) => match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                eprintln!("error: cannot read {path}: {e}");
                return ExitCode::from(2);
            }
        },
        None => consent_core::EXAMPLE_CONFIG.as_bytes().to_vec(),
    };
    // As the `consent` command reads a config file: UTF-8, a byte order mark left out.
    let config = match Config::from_slice(&bytes) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match run(&config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(config: &Config) -> Result<(), Box<dyn std::error::Error>> {
    let now = time::OffsetDateTime::now_utc();
    let lang = config.default_language();
    let texts = config.texts(lang);
    println!(
        "config: revision {}, {} categories, {} services",
        config.revision(),
        config.categories().len(),
        config.service_count()
    );
    for category in config.categories() {
        println!(
            "  {:<12} {}",
            category.id().as_str(),
            category.title(&texts)
        );
    }

    // First visit: nothing stored.
    let visit = policy::evaluate(config, None, None, now, Signals::default());
    println!(
        "\nfirst visit: stored={}, banner shown={}",
        visit.status(),
        visit.show_banner()
    );
    println!(
        "  \"{}\" | \"{}\" | \"{}\"",
        texts.get(TextKey::AcceptAll),
        texts.get(TextKey::RejectAll),
        texts.get(TextKey::Settings)
    );

    // The visitor accepts all. The caller supplies the random id (the core has no RNG).
    let ctx = Context {
        now,
        signals: Signals::default(),
        lang,
        fresh_id: ConsentId::from_bytes(random_id()?),
    };
    let accepted = policy::decide(config, &visit, Action::AcceptAll, ctx)?;
    let key = SigningKey::new(b"demo key: use 32+ secret random bytes in production")?;
    let token = Token::signed(*accepted.state(), &key);
    println!("\naccept all -> consent id {}", accepted.state().id());
    println!("  Set-Cookie: {}", token.to_cookie(config, true));
    let record = DecisionRecord::new(
        config,
        accepted.state(),
        Some(PageUrl::new("https://klinikka.fi/?utm=x")?),
        Channel::Banner,
    );
    println!("  record: {}", serde_json::to_string(&record)?);
    println!(
        "  chain hash after genesis: {}",
        record.chain_hash(&consent_core::Digest::ZERO)
    );

    // A later request: the server checks the Cookie header.
    let gate = Gate::new(config, Some(key.clone()));
    let header = format!("lang={lang}; {}={token}", config.cookie().name());
    for category in config.categories() {
        if let Some(index) = gate.category(category.id().as_str()) {
            let verdict = gate.check(Some(&header), None, now);
            let with_gpc = gate.check(Some(&header), Some("1"), now);
            println!(
                "  server: may track for {:<12} {:<5} (with Sec-GPC: {})",
                category.id().as_str(),
                verdict.allows(index),
                with_gpc.allows(index)
            );
        }
    }

    // The visitor withdraws: reject all.
    let stored = token.to_string();
    let before = policy::evaluate(config, Some(&stored), Some(&key), now, Signals::default());
    let withdrawn = policy::decide(
        config,
        &before,
        Action::RejectAll,
        Context {
            lang: Lang::En,
            ..ctx
        },
    )?;
    println!(
        "\nreject all -> method {}, clear:",
        withdrawn.state().method()
    );
    for (service, cookie) in withdrawn.cookies_to_clear(config) {
        println!(
            "  {:<10} {} ({})",
            cookie.name(),
            service.name(Lang::En),
            config.texts(Lang::En).lifetime(cookie.lifetime())
        );
    }
    Ok(())
}

/// 128 bits from the operating system's RNG (in the browser: `crypto.getRandomValues`).
fn random_id() -> Result<[u8; 16], getrandom::Error> {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id)?;
    Ok(id)
}
