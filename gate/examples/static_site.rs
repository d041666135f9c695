//! A static site served through the page layer: every file of a directory, from memory,
//! with the banner's compiled policy and texts under `/consent/` compiled from the site's
//! config (what `consent serve` serves there), and every HTML page rewritten by
//! [`PageLayer`] for each visitor. The browser benchmark (`bench/browser`) starts it to
//! measure our banner with the page layer in front.
//!
//! ```text
//! cargo run --release -p consent-gate --all-features --example static_site -- \
//!     --config config.json --root site/ [--mount /consent/=wasm/dist] \
//!     [--key-file consent.key] [--listen 127.0.0.1:0] [--for 1800] [--csp POLICY] \
//!     [--compress outside|inside]
//! ```
//!
//! It prints `listening on http://ADDR` once it accepts connections, and stops by itself
//! after `--for` seconds. Pages (`.html`) are sent with `Cache-Control: no-store` (which the
//! layer keeps: it already keeps every cache out), other files with `public, max-age=3600`, as the
//! benchmark's Node server sends them. Without `--key-file`, unsigned decisions count (a
//! site whose banner has no endpoint to sign them); with one, only decisions signed under
//! `consent serve`'s key file do: its key, or once rotated (a keyring), its current key or a
//! retired key whose tokens the server still accepts. With `--csp`, pages carry that
//! `Content-Security-Policy`, as written: a nonce in it is the same on every response, so
//! it is for tests of a nonce policy (the page's own tags carry it literally), never a site.
//! `--compress outside` gzips what the page layer sends (the order the layer's docs ask for:
//! compression outside it); `--compress inside` gzips before the layer, which then passes
//! every page through as it is, for the tests of that case.

// An example's set-up may panic with a message: it is a tool, not a library.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Response, StatusCode, Uri, header};
use bytes::Bytes;
use consent_core::Config;
use consent_gate::{PageLayer, Pages};
use tower_http::compression::CompressionLayer;

/// One file: its type, whether browsers may cache it, and its bytes.
struct File {
    kind: &'static str,
    page: bool,
    bytes: Bytes,
}

fn kind(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

/// Every file under `dir` (following symbolic links), at `prefix` + its relative path.
fn load(dir: &Path, prefix: &str, files: &mut HashMap<String, File>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("a UTF-8 name");
        if path.is_dir() {
            load(&path, &format!("{prefix}{name}/"), files);
        } else {
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let kind = kind(&path);
            files.insert(
                format!("{prefix}{name}"),
                File {
                    kind,
                    page: kind.starts_with("text/html"),
                    bytes: bytes.into(),
                },
            );
        }
    }
}

fn respond(files: &HashMap<String, File>, uri: &Uri, csp: Option<&str>) -> Response<Body> {
    let path = match uri.path() {
        p if p.ends_with('/') => format!("{p}index.html"),
        p => p.to_owned(),
    };
    let Some(f) = files.get(&path) else {
        return Response::builder()
            .status(StatusCode::NOT_FOUND)
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from("not found\n"))
            .unwrap();
    };
    let mut response = Response::builder();
    if let (true, Some(csp)) = (f.page, csp) {
        response = response.header(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
        .header(header::CONTENT_TYPE, f.kind)
        .header(
            header::CACHE_CONTROL,
            if f.page {
                "no-store"
            } else {
                "public, max-age=3600"
            },
        )
        .body(Body::from(f.bytes.clone()))
        .unwrap()
}

struct Options {
    config: PathBuf,
    root: PathBuf,
    mounts: Vec<(String, PathBuf)>,
    key: Option<PathBuf>,
    listen: String,
    seconds: u64,
    csp: Option<String>,
    compress: Option<Compress>,
}

/// Where gzip goes relative to the page layer.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Compress {
    Outside,
    Inside,
}

fn options() -> Options {
    let mut o = Options {
        config: PathBuf::new(),
        root: PathBuf::new(),
        mounts: Vec::new(),
        key: None,
        listen: "127.0.0.1:0".into(),
        seconds: 1800,
        csp: None,
        compress: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut v = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--config" => o.config = v().into(),
            "--root" => o.root = v().into(),
            "--mount" => {
                let m = v();
                let (at, dir) = m.split_once('=').expect("--mount /prefix/=DIR");
                assert!(
                    at.starts_with('/') && at.ends_with('/'),
                    "--mount: a /prefix/"
                );
                o.mounts.push((at.to_owned(), dir.into()));
            }
            "--key-file" => o.key = Some(v().into()),
            "--listen" => o.listen = v(),
            "--for" => o.seconds = v().parse().expect("--for SECONDS"),
            "--csp" => o.csp = Some(v()),
            "--compress" => {
                o.compress = Some(match v().as_str() {
                    "outside" => Compress::Outside,
                    "inside" => Compress::Inside,
                    other => panic!("--compress outside|inside, not {other}"),
                });
            }
            _ => panic!("unknown argument {a}"),
        }
    }
    assert!(
        !o.config.as_os_str().is_empty() && !o.root.as_os_str().is_empty(),
        "--config and --root are needed"
    );
    o
}

#[tokio::main]
async fn main() {
    let o = options();
    let json = std::fs::read_to_string(&o.config)
        .unwrap_or_else(|e| panic!("{}: {e}", o.config.display()));
    let config = Config::from_json(&json).unwrap_or_else(|e| panic!("{}: {e}", o.config.display()));
    // The server's key file, as `consent serve` reads it: 32 raw bytes, or a keyring once
    // rotated, whose retired keys' tokens still count. Anything else stops the example with
    // what is wrong, never a key built from the file's text.
    let keys = o
        .key
        .as_ref()
        .map(|p| consent_gate::read_key_file(p).unwrap_or_else(|e| panic!("{e}")));

    let mut files = HashMap::new();
    load(&o.root, "/", &mut files);
    for (at, dir) in &o.mounts {
        load(dir, at, &mut files);
    }
    // The banner's policy and texts, from the config the layer decides with: the page and
    // the banner cannot disagree on the revision.
    for (name, bytes) in consent_core::bundle::files(&config).expect("the config compiles") {
        let path = PathBuf::from(&name);
        files.insert(
            format!("/consent/{name}"),
            File {
                kind: kind(&path),
                page: false,
                bytes: bytes.into(),
            },
        );
    }
    let files = Arc::new(files);
    let csp: Option<Arc<str>> = o.csp.map(Into::into);

    let pages = Arc::new(match keys {
        Some(keys) => Pages::with_keys(config, keys),
        None => Pages::new(config, None),
    });
    let app = Router::new().fallback(move |uri: Uri| {
        let files = Arc::clone(&files);
        let csp = csp.clone();
        async move { respond(&files, &uri, csp.as_deref()) }
    });
    // A later `layer` wraps the earlier ones: outside, gzip sees what the page layer sent.
    let gzip = || CompressionLayer::new().gzip(true);
    let app = match o.compress {
        None => app.layer(PageLayer::new(pages)),
        Some(Compress::Outside) => app.layer(PageLayer::new(pages)).layer(gzip()),
        Some(Compress::Inside) => app.layer(gzip()).layer(PageLayer::new(pages)),
    };
    let listener = tokio::net::TcpListener::bind(&o.listen)
        .await
        .expect("bind");
    println!(
        "listening on http://{}",
        listener.local_addr().expect("address")
    );
    let stop = tokio::time::sleep(Duration::from_secs(o.seconds));
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await
        .expect("serve");
}
