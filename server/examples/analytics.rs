//! Server-side analytics that forwards nothing without consent.
//!
//! Like GA4's Measurement Protocol, the site posts events to its own server, which forwards
//! them to the analytics provider, but only for visitors whose consent cookie allows
//! analytics (signature checked, `Sec-GPC` honoured). Everything else is dropped here, before
//! anything leaves the server.
//!
//! ```text
//! cargo run -p consent-server --example analytics
//! curl -i -X POST http://127.0.0.1:8081/collect -H 'content-type: application/json' \
//!     -d '{"name":"page_view"}'   # 204: dropped (no consent cookie); 202 when forwarded
//! ```
//!
//! It checks consent cookies under the server key of `consent serve`, found where the command
//! finds it: `--key-file`'s `CONSENT_KEY_FILE` if set, else `consent.key` in the data directory,
//! `CONSENT_DATA_DIR` or `./consent-data` (created, mode 0700, with the key if neither is
//! there yet). Run it from the directory `consent serve --demo` runs in and the two share one
//! key, so the demo's cookies are accepted here; it never writes `consent.key` in the working
//! directory, where earlier versions kept it and where `consent serve` now refuses to start
//! beside it.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use consent_core::{CategoryIndex, Config, Gate};
use consent_gate::{Consent, ConsentLayer};
use consent_server::ServerKey;

/// What would be sent to the analytics provider; here, kept in memory and counted.
#[derive(Default)]
struct Forwarded {
    events: Mutex<Vec<serde_json::Value>>,
}

#[derive(Clone)]
struct AppState {
    analytics: CategoryIndex,
    forwarded: Arc<Forwarded>,
}

async fn collect(
    State(app): State<AppState>,
    Consent(verdict): Consent,
    Json(event): Json<serde_json::Value>,
) -> (StatusCode, &'static str) {
    if !verdict.allows(app.analytics) {
        // No consent (none, expired, forged, or GPC for a marketing event): drop it here.
        return (StatusCode::NO_CONTENT, "");
    }
    if let Ok(mut events) = app.forwarded.events.lock() {
        // A real server would POST this to https://www.google-analytics.com/mp/collect.
        events.push(event);
    }
    (StatusCode::ACCEPTED, "forwarded")
}

async fn forwarded_count(State(app): State<AppState>) -> String {
    app.forwarded
        .events
        .lock()
        .map(|e| e.len())
        .unwrap_or(0)
        .to_string()
}

/// Where `consent serve` keeps its key, given `CONSENT_KEY_FILE` and `CONSENT_DATA_DIR`:
/// the key file if named, else `consent.key` in the data directory (`consent-data` unless
/// named), as the command resolves `--key-file` and `--data-dir`.
fn key_file(named: Option<OsString>, data_dir: Option<OsString>) -> PathBuf {
    let named = named.filter(|n| !n.is_empty());
    let data_dir = data_dir.filter(|d| !d.is_empty());
    named.map_or_else(
        || {
            data_dir
                .map_or_else(|| PathBuf::from("consent-data"), PathBuf::from)
                .join("consent.key")
        },
        PathBuf::from,
    )
}

/// Creates the key file's directory, mode 0700 (it holds the key) as `consent serve` makes
/// the data directory, if it is not there.
fn make_room_for(key_file: &Path) -> std::io::Result<()> {
    let Some(dir) = key_file.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    if dir.exists() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
    // The same key as `consent serve` (its key file), so tokens it signed are accepted.
    let key_file = key_file(
        std::env::var_os("CONSENT_KEY_FILE"),
        std::env::var_os("CONSENT_DATA_DIR"),
    );
    make_room_for(&key_file)?;
    let key = ServerKey::load_or_create(&key_file)?;
    // Every key whose tokens still count after a `consent key rotate`, as the server's.
    let gate = Arc::new(Gate::with_keys(&config, key.token_keys().clone()));
    let analytics = gate
        .category("analytics")
        .ok_or_else(|| anyhow::anyhow!("the config has no analytics category"))?;
    let state = AppState {
        analytics,
        forwarded: Arc::default(),
    };
    let app = Router::new()
        .route("/collect", post(collect))
        .route("/forwarded", get(forwarded_count))
        .layer(ConsentLayer::new(gate))
        .with_state(state);
    let addr = SocketAddr::from(([127, 0, 0, 1], 8081));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("POST events to http://{addr}/collect; forwarded so far: http://{addr}/forwarded");
    axum::serve(listener, app).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_where_consent_serve_keeps_it() {
        assert_eq!(
            key_file(None, None),
            Path::new("consent-data").join("consent.key")
        );
        assert_eq!(
            key_file(None, Some("/var/lib/consent".into())),
            Path::new("/var/lib/consent/consent.key")
        );
        assert_eq!(
            key_file(
                Some("/etc/consent/key".into()),
                Some("/var/lib/consent".into())
            ),
            Path::new("/etc/consent/key")
        );
        // Set but empty is not set, as for clap's `env` (a blank line in an env file).
        assert_eq!(
            key_file(Some("".into()), Some("".into())),
            Path::new("consent-data").join("consent.key")
        );
    }
}
