//! A rotated server key file (`consent key rotate`): the gate, the page layer and the
//! `static_site` example read it as the server does, and count a cookie signed under a
//! retired key for as long as the server accepts it.

// Helpers outside #[test] functions, where clippy's in-test allowances do not reach.
#![allow(clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use axum::routing::get;
use common::{config, cookie, cookie_at};
use consent_core::policy::{Action, StoredStatus};
use consent_core::{Gate, Keyring, KeyringError, SigningKey, TokenError};
use consent_gate::{KeyFileError, PageLayer, Pages, read_key_file};
use time::{Duration, OffsetDateTime};
use tower::ServiceExt as _;

const OLD: [u8; 32] = [4; 32];
const NEW: [u8; 32] = [5; 32];

fn signing(secret: &[u8]) -> SigningKey {
    SigningKey::new(secret).expect("32 bytes")
}

/// A temporary directory, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "consent-gate-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A key file after one `consent key rotate` (with `--revoke-tokens` when `revoke`): the
/// file's bytes, as the server writes them.
fn rotated_key_file(dir: &Path, revoke: bool) -> PathBuf {
    let ring = Keyring::parse(&OLD)
        .and_then(|k| k.rotated(&NEW, revoke))
        .expect("rotated");
    let path = dir.join("consent.key");
    std::fs::write(&path, ring.to_string()).expect("write");
    path
}

#[test]
fn a_gate_from_a_rotated_key_file_counts_a_retired_keys_cookie_until_it_expires() {
    let dir = Dir::new("gate");
    let config = config();
    let gate = Gate::with_keys(
        &config,
        read_key_file(&rotated_key_file(&dir.0, false)).expect("read"),
    );
    let analytics = gate.category("analytics").expect("a");
    let now = OffsetDateTime::now_utc();
    let retired = cookie(&config, Action::AcceptAll, Some(&signing(&OLD)));
    let current = cookie(&config, Action::AcceptAll, Some(&signing(&NEW)));
    for header in [
        retired.clone(),
        current,
        // The full decoder's path (quotes, spaces), where the one-pass reader gives up.
        retired.replacen("consent=", "consent=\"", 1) + "\" ",
        format!("theme=dark; {retired}; lang=fi"),
    ] {
        let v = gate.check(Some(&header), None, now);
        assert_eq!(v.status(), StoredStatus::Valid, "{header}");
        assert!(v.allows(analytics), "{header}");
    }
    // The token's lifetime still holds: a decision of 400 days ago is over, whoever signed it.
    let old = cookie_at(
        &config,
        Action::AcceptAll,
        Some(&signing(&OLD)),
        now - Duration::days(400),
    );
    let v = gate.check(Some(&old), None, now);
    assert_ne!(v.status(), StoredStatus::Valid);
    assert!(!v.allows(analytics));
    // Unsigned, or under a key the file never held: nothing.
    for header in [
        cookie(&config, Action::AcceptAll, None),
        cookie(&config, Action::AcceptAll, Some(&signing(&[6; 32]))),
    ] {
        let v = gate.check(Some(&header), None, now);
        assert_ne!(v.status(), StoredStatus::Valid, "{header}");
        assert!(!v.allows(analytics), "{header}");
    }
}

#[test]
fn a_revoke_tokens_rotation_refuses_the_retired_keys_cookie() {
    let dir = Dir::new("revoke");
    let config = config();
    let gate = Gate::with_keys(
        &config,
        read_key_file(&rotated_key_file(&dir.0, true)).expect("read"),
    );
    let analytics = gate.category("analytics").expect("a");
    let now = OffsetDateTime::now_utc();
    let retired = cookie(&config, Action::AcceptAll, Some(&signing(&OLD)));
    for header in [
        retired.clone(),
        retired.replacen("consent=", "consent=\"", 1) + "\"",
    ] {
        let v = gate.check(Some(&header), None, now);
        assert_eq!(
            v.status(),
            StoredStatus::Malformed(TokenError::BadSignature),
            "{header}"
        );
        assert!(!v.allows(analytics));
    }
    let current = cookie(&config, Action::AcceptAll, Some(&signing(&NEW)));
    assert!(gate.check(Some(&current), None, now).allows(analytics));
}

#[tokio::test]
async fn the_page_layer_with_a_rotated_key_file_makes_a_retired_keys_visitor_decided() {
    let dir = Dir::new("pages");
    let config = config();
    let retired = cookie(&config, Action::AcceptAll, Some(&signing(&OLD)));
    let keys = read_key_file(&rotated_key_file(&dir.0, false)).expect("read");
    let pages = Arc::new(Pages::with_keys(config, keys));
    let app = Router::new()
        .route(
            "/",
            get(|| async { ([(header::CONTENT_TYPE, "text/html")], PAGE) }),
        )
        .layer(PageLayer::new(pages));
    let response = app
        .oneshot(
            Request::builder()
                .uri("/")
                .header("cookie", &retired)
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    let body = String::from_utf8(body.to_vec()).expect("utf-8");
    assert_decided(&body);
}

const PAGE: &str = r#"<!doctype html><html lang="en"><head><title>t</title></head><body>
<script type="text/plain" data-category="analytics" data-src="/ga.js"></script>
</body></html>"#;

/// A page as a visitor with a valid decision that allows analytics gets it.
fn assert_decided(body: &str) {
    assert!(
        !body.contains("data-consent-nojs"),
        "no first layer for a decided visitor:\n{body}"
    );
    assert!(
        body.contains(r#"src="/ga.js""#) && !body.contains(r#"data-src="/ga.js""#),
        "analytics live:\n{body}"
    );
}

#[test]
fn a_key_file_that_is_neither_a_key_nor_a_keyring_is_an_error_never_a_key() {
    let dir = Dir::new("text");
    let path = dir.0.join("consent.key");
    for (bytes, want) in [
        (
            &b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtM\n-----END PRIVATE KEY-----\n"[..],
            KeyringError::Text,
        ),
        (&b"0123456789abcdef0123456789abcdef0123456789abcdef"[..], KeyringError::Text),
        (&[0xf9; 20][..], KeyringError::TooShort(20)),
        (
            &b"consent-keyring-v1\nepoch=0 tokens=accepted secret=0404\n"[..],
            KeyringError::Malformed(2, "secret: fewer than 32 bytes (cut short?)"),
        ),
    ] {
        std::fs::write(&path, bytes).expect("write");
        match read_key_file(&path) {
            Err(KeyFileError::Keyring(p, e)) => {
                assert_eq!((p.as_path(), &e), (path.as_path(), &want));
                let message = KeyFileError::Keyring(p, e).to_string();
                assert!(message.starts_with(&path.display().to_string()), "{message}");
            }
            other => panic!("{bytes:?}: {other:?}"),
        }
    }
    // A raw key file, as `consent serve` first makes it: one key.
    std::fs::write(&path, [0xf4; 32]).expect("write");
    assert!(read_key_file(&path).expect("raw").retired().is_empty());
    let missing = read_key_file(&dir.0.join("nope")).map(|_| ());
    assert!(matches!(missing, Err(KeyFileError::Io(..))), "{missing:?}");
}

/// The `static_site` example as a visitor meets it: started with a rotated key file, it
/// counts a cookie signed under the retired key. It read the file's bytes as one key (the
/// keyring's text), and every signed visitor got the first layer, without an error.
#[test]
fn the_static_site_example_reads_a_rotated_key_file() {
    let dir = Dir::new("static-site");
    let key = rotated_key_file(&dir.0, false);
    let config_path = dir.0.join("site.json");
    std::fs::write(&config_path, consent_core::EXAMPLE_CONFIG).expect("write");
    let root = dir.0.join("site");
    std::fs::create_dir(&root).expect("mkdir");
    std::fs::write(root.join("index.html"), PAGE).expect("write");
    let mut child = Server(
        Command::new(example("static_site"))
            .args(["--config".as_ref(), config_path.as_os_str()])
            .args(["--root".as_ref(), root.as_os_str()])
            .args(["--key-file".as_ref(), key.as_os_str()])
            .args(["--listen", "127.0.0.1:0", "--for", "60"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("the static_site example starts"),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("its first line");
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("not started: {line:?}"));
    let retired = cookie(&config(), Action::AcceptAll, Some(&signing(&OLD)));
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "GET / HTTP/1.1\r\nhost: {addr}\r\ncookie: {retired}\r\nconnection: close\r\n\r\n"
    )
    .expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert_decided(&response);
}

/// A key file that is text but no keyring (hex digits, as a secret store may hand one out)
/// stops the example with the file and what is wrong: it was taken for a key of those bytes.
#[test]
fn the_static_site_example_refuses_a_key_file_of_text() {
    let dir = Dir::new("static-site-text");
    let key = dir.0.join("consent.key");
    std::fs::write(&key, "07".repeat(32)).expect("write");
    let config_path = dir.0.join("site.json");
    std::fs::write(&config_path, consent_core::EXAMPLE_CONFIG).expect("write");
    let out = Command::new(example("static_site"))
        .args(["--config".as_ref(), config_path.as_os_str()])
        .args(["--root".as_ref(), dir.0.as_os_str()])
        .args(["--key-file".as_ref(), key.as_os_str()])
        .args(["--for", "1"])
        .output()
        .expect("the static_site example runs");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains(&key.display().to_string()), "{said}");
    assert!(said.contains("not a consent-keyring-v1 keyring"), "{said}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("listening"));
}

/// Stops the example when the test ends, passed or not.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An example of this package, which `cargo test` builds beside the tests
/// (`target/<profile>/examples/`).
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    let path = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps")
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is not built: `cargo test -p consent-gate --all-features` builds it (a run of \
         one test file does not: `cargo build -p consent-gate --all-features --example {name}` first)",
        path.display()
    );
    path
}
