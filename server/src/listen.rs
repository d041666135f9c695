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
//! - **Per-client connection limit:** at most [`Limits::max_connections_per_client`] of those
//!   come from one client; a connection past it is closed as soon as it is accepted, so that
//!   one address holding idle connections (each kept until the header timeout, and opened
//!   again) cannot take every slot and starve everyone else. A client is an IPv4 address, or
//!   an IPv6 address's /64: one host is usually given a whole /64, and counting each of its
//!   addresses apart would let it open as many connections as it likes. An IPv4-mapped IPv6
//!   address (a dual-stack socket's) counts as its IPv4 address. The addresses in
//!   [`Limits::uncapped`] (the trusted proxies, from which every proxied visitor's
//!   connection comes) are not limited; loopback is no exception unless it is named there.
//!
//! Shutdown stops accepting and lets the open connections finish their requests.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Sleep;
use tower::ServiceExt as _;

/// The limits of [`serve`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// How long a client may take to send a request's head.
    pub header_read_timeout: Duration,
    /// How long a request may take, body included, before it is answered 408; and how long
    /// a write may wait for the client to read before the connection is closed.
    pub request_timeout: Duration,
    /// How many connections are served at once.
    pub max_connections: usize,
    /// How many of them one client may hold (an IPv4 address, an IPv6 /64); a connection
    /// past it is closed at once.
    pub max_connections_per_client: usize,
    /// The addresses [`Limits::max_connections_per_client`] does not apply to: the trusted
    /// reverse proxies, whose connections carry every visitor's requests.
    pub uncapped: Vec<IpAddr>,
}

impl Default for Limits {
    /// 10 s for a head, 30 s for a request, 1,024 connections, 64 of them per client, no
    /// address uncapped.
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 1024,
            max_connections_per_client: 64,
            uncapped: Vec::new(),
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
    let clients = Arc::new(Clients::new(&limits));
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
        // The slot is kept for the next connection while a client over its cap is turned away.
        let (stream, peer, client) = tokio::select! {
            admitted = accept(&listener, &clients) => admitted,
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
            drop(client);
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// The next connection whose client is within its cap; the others are closed as they come
/// (dropping the stream), and a failed accept is logged and retried after a pause.
async fn accept(
    listener: &TcpListener,
    clients: &Arc<Clients>,
) -> (TcpStream, SocketAddr, Option<ClientSlot>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(pair) => pair,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        match clients.admit(peer.ip()) {
            Admission::Admitted(slot) => return (stream, peer, slot),
            // Debug, not warn: a client that floods would flood the log too.
            Admission::OverCap => {
                tracing::debug!(client = %peer.ip(), "connection past the per-client cap closed");
            }
        }
    }
}

/// How many connections each client holds, for [`Limits::max_connections_per_client`]. A
/// client's entry goes when its last connection closes, so the map holds only clients with
/// a connection open: at most [`Limits::max_connections`] entries. No `Debug`: it holds
/// visitors' addresses.
struct Clients {
    cap: usize,
    uncapped: Vec<IpAddr>,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// Whether [`Clients::admit`] let a connection in: with the slot it holds (none for an
/// uncapped address), or not.
enum Admission {
    Admitted(Option<ClientSlot>),
    OverCap,
}

impl Clients {
    fn new(limits: &Limits) -> Self {
        Self {
            cap: limits.max_connections_per_client.max(1),
            uncapped: limits.uncapped.iter().map(|ip| ip.to_canonical()).collect(),
            open: Mutex::new(HashMap::new()),
        }
    }

    /// One more connection from `ip`, if its client is within the cap.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Admission {
        let ip = ip.to_canonical();
        if self.uncapped.contains(&ip) {
            return Admission::Admitted(None);
        }
        let client = crate::client::client_of(ip);
        let mut open = self.lock();
        let count = open.entry(client).or_insert(0);
        if *count >= self.cap {
            return Admission::OverCap;
        }
        *count += 1;
        Admission::Admitted(Some(ClientSlot {
            clients: Arc::clone(self),
            client,
        }))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, usize>> {
        // The map is consistent between two statements: a panic elsewhere leaves it usable.
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One open connection of a client, counted in [`Clients`] until dropped.
struct ClientSlot {
    clients: Arc<Clients>,
    client: IpAddr,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = self.clients.lock();
        if let Some(count) = open.get_mut(&self.client) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.client);
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn clients(cap: usize, uncapped: &[&str]) -> Arc<Clients> {
        Arc::new(Clients::new(&Limits {
            max_connections_per_client: cap,
            uncapped: uncapped.iter().map(|ip| ip.parse().unwrap()).collect(),
            ..Limits::default()
        }))
    }

    fn slot(admission: Admission) -> Option<ClientSlot> {
        match admission {
            Admission::Admitted(slot) => slot,
            Admission::OverCap => panic!("over the cap"),
        }
    }

    #[test]
    fn a_client_is_capped_and_forgotten_when_its_last_connection_closes() {
        let clients = clients(2, &[]);
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        let a = slot(clients.admit(ip));
        let b = slot(clients.admit(ip));
        assert!(matches!(clients.admit(ip), Admission::OverCap));
        // Another client is counted apart.
        let other = slot(clients.admit("203.0.113.8".parse().unwrap()));
        drop(a);
        let c = slot(clients.admit(ip));
        drop((b, c, other));
        assert!(clients.lock().is_empty(), "{:?}", clients.lock());
    }

    #[test]
    fn an_ipv6_client_is_its_64_and_a_mapped_ipv4_address_its_ipv4_one() {
        let clients = clients(1, &[]);
        let _a = slot(clients.admit("2001:db8:1:2::1".parse().unwrap()));
        let over = clients.admit("2001:db8:1:2:ffff::9".parse().unwrap());
        assert!(matches!(over, Admission::OverCap));
        let _other = slot(clients.admit("2001:db8:1:3::1".parse().unwrap()));
        let _v4 = slot(clients.admit("192.0.2.1".parse().unwrap()));
        let mapped = clients.admit("::ffff:192.0.2.1".parse().unwrap());
        assert!(matches!(mapped, Admission::OverCap));
    }

    #[test]
    fn an_uncapped_address_is_not_counted() {
        let clients = clients(1, &["192.0.2.9"]);
        for _ in 0..3 {
            assert!(slot(clients.admit("192.0.2.9".parse().unwrap())).is_none());
        }
        assert!(slot(clients.admit("::ffff:192.0.2.9".parse().unwrap())).is_none());
        assert!(clients.lock().is_empty());
    }
}
