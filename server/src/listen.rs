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
//!   Each request carries its [`Deadline`], so that a handler whose work may run long (the
//!   dashboard's walk of the log) can stop it and answer in time.
//! - **Write timeout:** a write to the client that waits longer than
//!   [`Limits::request_timeout`] for it to read closes the connection (`WriteDeadline`).
//!   hyper has none, so a client that pipelined requests and never read the answers held
//!   its connection for good once the kernel's buffers were full. Like nginx's
//!   `send_timeout`, the clock runs between two writes that make progress, not over the
//!   whole answer.
//! - **Connection limit:** at most [`Limits::max_connections`] connections are served at once;
//!   past it the loop stops accepting until one closes, and the rest wait in the kernel's
//!   backlog instead of costing memory here.
//!
//! Shutdown stops accepting and lets the open connections finish their requests.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::Sleep;
use tower::ServiceExt as _;

/// The limits of [`serve`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// How long a client may take to send a request's head.
    pub header_read_timeout: Duration,
    /// How long a request may take, body included, before it is answered 408; and how long
    /// a write may wait for the client to read before the connection is closed.
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
        let request_timeout = limits.request_timeout;
        let service = app.clone().map_request(
            move |mut request: axum::http::Request<hyper::body::Incoming>| {
                let extensions = request.extensions_mut();
                extensions.insert(ConnectInfo::<SocketAddr>(peer));
                extensions.insert(Deadline(tokio::time::Instant::now() + request_timeout));
                request.map(axum::body::Body::new)
            },
        );
        let hyper_service = TowerToHyperService::new(service);
        let builder = Arc::clone(&builder);
        let stream = WriteDeadline::new(stream, limits.request_timeout);
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

/// When a request is answered 408 if it has not been answered yet: when it came in, plus
/// [`Limits::request_timeout`]. [`serve`] puts it in every request's extensions (a router
/// served otherwise has none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline(tokio::time::Instant);

impl Deadline {
    /// The time left until the deadline (zero once it has passed).
    #[must_use]
    pub fn remaining(self) -> Duration {
        self.0
            .saturating_duration_since(tokio::time::Instant::now())
    }
}

/// A connection whose writes must make progress: a write, flush or shutdown that has waited
/// `limit` for the client to read fails with [`io::ErrorKind::TimedOut`], and hyper closes
/// the connection. Reads pass through (hyper times the head itself, and the
/// `TimeoutLayer` the rest of a request).
struct WriteDeadline<S> {
    inner: S,
    limit: Duration,
    /// Since when a write has been waiting, if one is.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<S> WriteDeadline<S> {
    fn new(inner: S, limit: Duration) -> Self {
        Self {
            inner,
            limit,
            stalled: None,
        }
    }

    /// `polled` as it is, or an error once a write has waited `limit`.
    fn timed<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if polled.is_ready() {
            self.stalled = None;
            return polled;
        }
        let limit = self.limit;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client read nothing for the write timeout",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WriteDeadline<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WriteDeadline<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.timed(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.timed(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.timed(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.timed(cx, polled)
    }
}
