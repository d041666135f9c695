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

use std::net::SocketAddr;
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
    // The same key as `consent serve` (its key file), so tokens it signed are accepted.
    let key = ServerKey::load_or_create(std::path::Path::new("consent.key"))?;
    let gate = Arc::new(Gate::new(&config, Some(key.token_key().clone())));
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
