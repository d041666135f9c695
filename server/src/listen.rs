//! The accept loop of `consent serve`: what `axum::serve` does, with the limits a server on
//! the open internet needs and `axum::serve` does not set.
//!
//! - **Header read timeout:** a connection that has not sent a whole request head within
//!   [`Limits::header_read_timeout`] is closed (slowloris), one that sends nothing at all
//!   included. Between requests on a kept-alive connection the same clock runs.
//! - **HTTP/1.1 only:** the API needs nothing else, and hyper's HTTP/2 (or the protocol
//!   detection of hyper-util's `auto` builder, which waits for the first bytes with no
//!   clock) would let a client hold a connection without ever sending a head.
//! - **Request timeout:** a request not answered within [`Limits::request_timeout`], a slow
//!   body included, is answered 408 (tower-http's `TimeoutLayer`, applied by [`serve`]).
//! - **Connection limit:** at most [`Limits::max_connections`] connections are served at once;
//!   past it the loop stops accepting until one closes, and the rest wait in the kernel's
//!   backlog instead of costing memory here.
//!
//! Shutdown stops accepting and lets the open connections finish their requests.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

/// The limits of [`serve`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// How long a client may take to send a request's head.
    pub header_read_timeout: Duration,
    /// How long a request may take, body included, before it is answered 408.
    pub request_timeout: Duration,
    /// How many connections are served at once.
    pub max_connections: usize,
}

impl Default for Limits {
    /// 10 s for a head, 30 s for a request, 1,024 connections.
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 1024,
        }
    }
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes, then waits for the
/// open connections' requests to finish. Each request carries [`ConnectInfo`] with the
/// client's address, as `into_make_service_with_connect_info` gives it.
///
/// # Errors
/// Never for a failed accept (logged and retried after a pause, as `axum::serve` does); the
/// `Result` is for the caller's `?`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let app = app.layer(tower_http::timeout::TimeoutLayer::with_status_code(
        axum::http::StatusCode::REQUEST_TIMEOUT,
        limits.request_timeout,
    ));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let builder = Arc::new(builder);
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&slots).acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = app.clone().map_request(
            move |mut request: axum::http::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(peer));
                request.map(axum::body::Body::new)
            },
        );
        let hyper_service = TowerToHyperService::new(service);
        let builder = Arc::clone(&builder);
        let connection = builder.serve_connection(TokioIo::new(stream), hyper_service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that goes away or times out is no error of the server's.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
