//! Retention (`consent purge`, `consent serve --retention-days`) never reaches the records of
//! decisions that still stand: a retention shorter than a decision's lifetime is refused
//! before the log is opened, with what and why.

// Helpers outside #[test] functions, where clippy's in-test allowances do not reach.
#![allow(clippy::expect_used)]

use std::path::Path;

mod support;

use support::cli::{log_with, run as consent, text};

/// The example clinic's config file: its decisions stand 182 days.
const EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../core/src/example_config.json"
);

/// Whether the decision of `log_with(dir, &[1])` is still in the log.
fn still_there(dir: &Path) -> bool {
    let out = consent(dir, &["export", &"01".repeat(16)]);
    out.status.success() && text(&out).contains("accept_all")
}

/// `consent purge --retention-days 0` deleted every record, those of decisions made a
/// second before included, whose consent cookies visitors still act on for months. Without
/// a config it cannot know the site's lifetimes, so it refuses anything shorter than the
/// longest lifetime a config may set (395 days), and says so.
/// `consent <args>` (a purge the floor allows) runs and leaves the decision where it was.
fn purges_nothing(dir: &Path, args: &[&str]) {
    let out = consent(dir, args);
    assert!(
        out.status.success() && text(&out).contains("purged 0 records"),
        "{}",
        text(&out)
    );
    assert!(still_there(dir));
}

#[tokio::test]
async fn purge_refuses_a_retention_shorter_than_a_decision_can_stand() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    log_with(d, &[1]).await;
    // Records are timed to the second: a second later, a retention of 0 days reaches it.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for days in ["0", "1", "394"] {
        let out = consent(d, &["purge", "--retention-days", days]);
        let said = text(&out);
        assert!(still_there(d), "{days}: the decision was purged: {said}");
        assert_eq!(out.status.code(), Some(1), "{days}: {said}");
        assert!(
            said.contains(&format!("--retention-days {days}")) && said.contains("395 days"),
            "{days}: {said}"
        );
        assert!(said.contains("--config"), "{days}: {said}");
    }
    purges_nothing(d, &["purge", "--retention-days", "395"]);
}

/// With the site's config, the floor is the config's own longest lifetime (the example's
/// 182 days).
#[tokio::test]
async fn purge_with_the_config_refuses_less_than_its_longest_lifetime() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    log_with(d, &[1]).await;
    let out = consent(
        d,
        &["purge", "--retention-days", "181", "--config", EXAMPLE],
    );
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(
        said.contains("182 days") && said.contains("lifetime"),
        "{said}"
    );
    assert!(still_there(d));
    purges_nothing(
        d,
        &["purge", "--retention-days", "182", "--config", EXAMPLE],
    );
}

/// `consent serve --retention-days 1` purged at start and daily what visitors' cookies
/// still stood on; it now refuses to start, naming its config's lifetime.
#[tokio::test]
async fn serve_refuses_a_retention_shorter_than_its_configs_lifetime() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    log_with(d, &[1]).await;
    let refused = support::serve::try_start(d, &["--retention-days", "1"]).await;
    let said = refused.expect_err("the server refused to start");
    assert!(
        said.contains("--retention-days 1") && said.contains("182 days"),
        "{said}"
    );
    assert!(still_there(d), "the decision was purged");
    // At the config's lifetime it starts.
    let started = support::serve::try_start(d, &["--retention-days", "182"]).await;
    assert!(started.is_ok(), "{:?}", started.err());
}
