//! The page layer under load: the same 50 kB page (`benches/common`) from three axum servers
//! on 127.0.0.1, one without the layer, one through [`PageLayer`] (with its page cache, the
//! default) and one through a `PageLayer` without the cache (lol_html on every page), each
//! driven by a closed-loop load generator (hyper's HTTP/1.1 client, in this process) at a
//! fixed number of keep-alive connections for a bounded time. Each layered server is driven
//! twice: as returning visitors with a signed decision, and as new visitors (the first layer
//! is added to every page).
//!
//! ```text
//! cargo run --release -p consent-gate --all-features --example page_load -- \
//!     [--runs 5] [--seconds 5] [--connections 32]
//! # or keep both servers up for another load generator (wrk), for N seconds:
//! cargo run --release -p consent-gate --all-features --example page_load -- --serve 120
//! # or a fixed number of requests per case (0: without the layer, 1: decided, 2: new
//! # visitor, 3 and 4 without the cache), for counting instructions under callgrind (the
//! # difference between two counts, over the difference in requests, is per request):
//! TOKIO_WORKER_THREADS=1 valgrind --tool=callgrind .../page_load --requests 2000 \
//!     --connections 1 --only 2
//! ```
//!
//! Each run measures the three cases in turn, in an order that rotates from run to run, so
//! that a change in the load of a shared machine hits all of them alike; after the runs it
//! prints the medians and the layer's figures as ratios of the plain server's. The load
//! generator shares the machine's cores with the servers (one tokio runtime), so req/s is
//! of the whole loop, client included. Figures are in BENCHMARKS.md ("Server-side page
//! layer"). The process's CPU time per request is printed too (Linux): on a machine that
//! other work shares, req/s follows what the others leave; CPU per request does not.

// A benchmark's set-up may panic: it fails loudly rather than measure the wrong thing.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

#[path = "../benches/common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use consent_gate::{PageLayer, Pages};
use http::{Request, StatusCode, header};
use http_body_util::{BodyExt as _, Empty};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

const PATH: &str = "/palvelut/hammashoito";

struct Options {
    runs: usize,
    seconds: f64,
    connections: usize,
    serve: Option<u64>,
    /// Requests per case instead of `seconds`, and a warm-up of one request per connection.
    requests: Option<usize>,
    /// The cases to drive (their indices), else all.
    only: Option<Vec<usize>>,
}

fn options() -> Options {
    let mut o = Options {
        runs: 5,
        seconds: 5.0,
        connections: 32,
        serve: None,
        requests: None,
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut v = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--runs" => o.runs = v().parse().expect("--runs N"),
            "--seconds" => o.seconds = v().parse().expect("--seconds S"),
            "--connections" => o.connections = v().parse().expect("--connections N"),
            "--serve" => o.serve = Some(v().parse().expect("--serve SECONDS")),
            "--requests" => o.requests = Some(v().parse().expect("--requests N")),
            "--only" => {
                let cases = v()
                    .split(',')
                    .map(|c| c.parse().expect("--only 0,2"))
                    .collect();
                o.only = Some(cases);
            }
            // `cargo bench` passes --bench to every target; nothing else is expected.
            "--bench" => {}
            _ => panic!("unknown argument {a}"),
        }
    }
    assert!(o.runs >= 1 && o.seconds > 0.0 && o.connections >= 1);
    o
}

/// One case: a server and the Cookie header its visitors send.
struct Case {
    name: &'static str,
    addr: SocketAddr,
    cookie: String,
}

/// One measured run of one case.
#[derive(Clone, Copy)]
struct Figures {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    bytes: usize,
    /// The process's CPU time per request (servers and load generator), in µs, where the
    /// system says it (Linux): unlike req/s, it does not change with what else runs on a
    /// shared machine, so its ratios are what an idle machine's req/s would show.
    cpu_us: Option<f64>,
}

/// The CPU time the process has run, in ns, from each thread's `schedstat` (Linux).
fn cpu_ns() -> Option<u64> {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

async fn serve(router: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    addr
}

fn site(page: Bytes) -> Router {
    Router::new().route(
        PATH,
        get(move || {
            let page = page.clone();
            async move {
                (
                    [
                        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                        (header::CACHE_CONTROL, "no-cache"),
                    ],
                    page,
                )
            }
        }),
    )
}

/// One keep-alive connection, sending requests back to back until `until` or `limit`
/// requests: each request's latency (µs, send to the last body byte) and the bytes of the
/// last body.
async fn connection(
    addr: SocketAddr,
    cookie: Arc<str>,
    until: Instant,
    limit: usize,
) -> (Vec<u32>, usize) {
    let stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    let mut latencies = Vec::with_capacity(1 << 14);
    let mut bytes = 0;
    while Instant::now() < until && latencies.len() < limit {
        let req = Request::get(PATH)
            .header(header::HOST, "127.0.0.1")
            .header(header::COOKIE, &*cookie)
            .header(header::ACCEPT, "text/html")
            .body(Empty::<Bytes>::new())
            .expect("request");
        let t = Instant::now();
        sender.ready().await.expect("ready");
        let res = sender.send_request(req).await.expect("response");
        assert_eq!(res.status(), StatusCode::OK);
        let body = res.into_body().collect().await.expect("body").to_bytes();
        latencies.push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
        bytes = body.len();
    }
    (latencies, bytes)
}

/// Drives `case` for `seconds`, or (`requests`) for that many requests in all.
async fn drive(case: &Case, connections: usize, seconds: f64, requests: Option<usize>) -> Figures {
    let cookie: Arc<str> = case.cookie.as_str().into();
    let cpu_start = cpu_ns();
    let start = Instant::now();
    let (until, limit) = match requests {
        None => (start + Duration::from_secs_f64(seconds), usize::MAX),
        Some(n) => (start + Duration::from_secs(86_400), n.div_ceil(connections)),
    };
    let tasks: Vec<_> = (0..connections)
        .map(|_| tokio::spawn(connection(case.addr, Arc::clone(&cookie), until, limit)))
        .collect();
    let mut all = Vec::new();
    let mut bytes = 0;
    for t in tasks {
        let (l, b) = t.await.expect("connection task");
        all.extend(l);
        bytes = bytes.max(b);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let cpu_us = cpu_start
        .zip(cpu_ns())
        .map(|(a, b)| (b - a) as f64 / 1000.0 / all.len() as f64);
    all.sort_unstable();
    let q = |p: f64| {
        f64::from(all[((all.len() as f64 * p).ceil() as usize).clamp(1, all.len()) - 1]) / 1000.0
    };
    Figures {
        rps: all.len() as f64 / elapsed,
        p50_ms: q(0.50),
        p99_ms: q(0.99),
        bytes,
        cpu_us,
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

#[tokio::main]
async fn main() {
    let o = options();
    let config = common::config();
    let key = common::key();
    let decided = common::decided_cookie(&config, &key);
    let pages = Arc::new(Pages::new(config.clone(), Some(key.clone())));
    let uncached_pages = Arc::new(Pages::new(config, Some(key)).with_cache_capacity(0));
    let page = Bytes::from(common::page());

    let plain = serve(site(page.clone())).await;
    let layered = serve(site(page.clone()).layer(PageLayer::new(Arc::clone(&pages)))).await;
    let uncached = serve(site(page.clone()).layer(PageLayer::new(uncached_pages))).await;
    if let Some(secs) = o.serve {
        println!("plain   http://{plain}{PATH}");
        println!("layered http://{layered}{PATH}");
        println!("layered, no cache http://{uncached}{PATH}");
        println!("decided visitor's Cookie: {decided}");
        println!("serving for {secs} s");
        tokio::time::sleep(Duration::from_secs(secs)).await;
        return;
    }
    let cases = [
        Case {
            name: "without the layer",
            addr: plain,
            cookie: decided.clone(),
        },
        Case {
            name: "layer, decided visitor",
            addr: layered,
            cookie: decided,
        },
        Case {
            name: "layer, new visitor",
            addr: layered,
            cookie: common::UNDECIDED_COOKIE.to_owned(),
        },
        Case {
            name: "no cache, decided visitor",
            addr: uncached,
            cookie: common::decided_cookie(&common::config(), &common::key()),
        },
        Case {
            name: "no cache, new visitor",
            addr: uncached,
            cookie: common::UNDECIDED_COOKIE.to_owned(),
        },
    ];
    println!(
        "{} B page, {} connections, {} s per case, {} runs; {} cores shared by servers and load generator",
        page.len(),
        o.connections,
        o.seconds,
        o.runs,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let only = o.only.clone().unwrap_or_else(|| (0..cases.len()).collect());
    // Warm-up: connections, allocator, caches (with a fixed count, the cache's recording).
    let warm_up = o.requests.map(|_| o.connections);
    for &k in &only {
        drive(&cases[k], o.connections, 0.5, warm_up).await;
    }
    let mut runs: Vec<Vec<Figures>> = vec![Vec::new(); cases.len()];
    for run in 0..o.runs {
        for i in 0..only.len() {
            let k = only[(i + run) % only.len()];
            let f = drive(&cases[k], o.connections, o.seconds, o.requests).await;
            println!(
                "run {}  {:<26} {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  ({} B body){}",
                run + 1,
                cases[k].name,
                f.rps,
                f.p50_ms,
                f.p99_ms,
                f.bytes,
                f.cpu_us
                    .map(|c| format!("  {c:.2} µs CPU/request"))
                    .unwrap_or_default()
            );
            runs[k].push(f);
        }
    }
    println!(
        "\npage cache: {} recordings, {} B, {} hits, {} misses",
        pages.cache().len(),
        pages.cache().bytes(),
        pages.cache().hits(),
        pages.cache().misses()
    );
    if o.only.is_some() {
        // The ratios need every case.
        return;
    }
    let med = |k: usize, f: fn(&Figures) -> f64| median(runs[k].iter().map(f).collect());
    println!("\nmedians of {} runs:\n", o.runs);
    println!("| case | req/s | p50 ms | p99 ms | req/s vs without | added p99 ms |");
    println!("|---|---|---|---|---|---|");
    for (k, c) in cases.iter().enumerate() {
        let rps = med(k, |f| f.rps);
        let p99 = med(k, |f| f.p99_ms);
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.2} | {:+.2} |",
            c.name,
            rps,
            med(k, |f| f.p50_ms),
            p99,
            rps / med(0, |f| f.rps),
            p99 - med(0, |f| f.p99_ms)
        );
    }
    if runs.iter().flatten().all(|f| f.cpu_us.is_some()) {
        // Each run's ratio to the plain server of the same run, then their median.
        let cpu = |f: &Figures| f.cpu_us.unwrap_or(f64::NAN);
        println!("\nCPU time of the process per request (servers and load generator), medians:\n");
        println!("| case | µs CPU per request | requests per CPU second vs without |");
        println!("|---|---|---|");
        for (k, c) in cases.iter().enumerate() {
            let ratio = median(
                runs[k]
                    .iter()
                    .zip(&runs[0])
                    .map(|(f, plain)| cpu(plain) / cpu(f))
                    .collect(),
            );
            println!("| {} | {:.2} | {:.2} |", c.name, med(k, cpu), ratio);
        }
    }
}
