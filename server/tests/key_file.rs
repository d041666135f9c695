//! The server key file's mode: a key file others may read is used, with a warning that says
//! how to fix it; the key files the `consent` command makes are its user's alone.
#![cfg(unix)]
// Helpers outside #[test] functions, where clippy's in-test allowances do not reach.
#![allow(clippy::expect_used)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Output;

mod support;

use support::cli::text;

/// `consent <args>` in `dir`, its log at `info` (the warning is one).
fn consent(dir: &Path, args: &[&str]) -> Output {
    support::cli::command(dir)
        .args(args)
        .env("RUST_LOG", "info")
        .output()
        .expect("run consent")
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Docker and Kubernetes mount secrets 0444: such a key file is used, not refused, but the
/// command says once which file, its mode, and `chmod 600`. It said nothing.
#[test]
fn a_key_file_others_may_read_is_used_with_one_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let key = d.join("consent.key");
    let out = consent(d, &["site-id"]);
    assert!(out.status.success(), "{}", text(&out));
    let site = String::from_utf8_lossy(&out.stdout).into_owned();
    for m in [0o444, 0o644, 0o604] {
        set_mode(&key, m);
        let out = consent(d, &["site-id"]);
        let said = text(&out);
        assert!(out.status.success(), "{m:o}: {said}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), site, "{m:o}");
        let warning = format!("{} has mode 0{m:o}", key.display());
        assert_eq!(said.matches(&warning).count(), 1, "{m:o}: {said}");
        assert!(said.contains("chmod 600"), "{m:o}: {said}");
        assert!(said.contains("WARN"), "{m:o}: {said}");
    }
    // The owner's alone, or shared with its group only: no warning.
    for m in [0o600, 0o400, 0o640] {
        set_mode(&key, m);
        let out = consent(d, &["key", "list"]);
        assert!(out.status.success(), "{m:o}: {}", text(&out));
        assert!(!text(&out).contains("has mode"), "{m:o}: {}", text(&out));
    }
}

/// The key file `consent` makes (on first use, and anew on each rotation) is created 0600,
/// not chmod-ed after: there is no moment when others could open it.
#[test]
fn the_key_files_consent_makes_are_its_users_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let key = d.join("consent.key");
    let out = consent(d, &["site-id"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(mode(&key), 0o600);
    // A log under the key, for the rotation to record itself in.
    let server_key = consent_server::ServerKey::load(&key).expect("key");
    drop(
        consent_server::store::sqlite::SqliteStore::open(
            d.join("consent.db"),
            server_key.log_keys(),
        )
        .expect("open"),
    );
    // A rotation replaces a file others may read with one that is the user's alone.
    set_mode(&key, 0o644);
    let out = consent(d, &["key", "rotate"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(mode(&key), 0o600, "{}", text(&out));
}
