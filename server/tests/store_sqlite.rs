//! The store suite against a real SQLite file.

// Helpers outside #[test] functions, where clippy's in-test allowances do not reach.
#![allow(clippy::expect_used)]

mod suite;

use consent_server::store::sqlite::SqliteStore;
use suite::Harness;

struct Sqlite {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    store: SqliteStore,
}

impl Harness for Sqlite {
    type S = SqliteStore;
    fn store(&self) -> &SqliteStore {
        &self.store
    }
    async fn reopen(&self) -> SqliteStore {
        SqliteStore::open(&self.path, suite::key().log_key()).expect("reopen")
    }
    async fn exec(&self, sql: &str) {
        let conn = rusqlite::Connection::open(&self.path).expect("open");
        conn.execute_batch(sql).expect("tamper");
    }
}

async fn setup() -> Sqlite {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("consent.db");
    let store = SqliteStore::open(&path, suite::key().log_key()).expect("open");
    Sqlite {
        _dir: dir,
        path,
        store,
    }
}

store_suite!(setup());

#[tokio::test]
async fn an_unwritable_path_is_a_clear_error() {
    let err = SqliteStore::open("/nonexistent-dir/consent.db", suite::key().log_key())
        .expect_err("cannot open");
    assert!(
        err.to_string().contains("/nonexistent-dir/consent.db"),
        "{err}"
    );
}

#[tokio::test]
async fn a_log_from_before_the_register_is_migrated() {
    use consent_core::policy::Action;
    use consent_server::store::{MarketingAppend, Store};
    let h = setup().await;
    h.store
        .append(suite::record(1, Action::AcceptAll, suite::t0()))
        .await
        .expect("append");
    // Back to the schema of the previous release.
    h.exec(
        "DROP INDEX decisions_contact; DROP TABLE marketing_state;
         ALTER TABLE decisions DROP COLUMN contact; ALTER TABLE decisions DROP COLUMN kind;",
    )
    .await;
    let store = SqliteStore::open(&h.path, suite::key().log_key()).expect("reopen migrates");
    let landed = store
        .append_marketing(suite::marketing(
            "a@b.fi",
            consent_core::register::MarketingKind::Consent,
            0,
        ))
        .await
        .expect("append");
    assert!(matches!(landed, MarketingAppend::Stored(a) if a.seq == 2));
    let v = consent_server::verify::verify(&store, &suite::key(), None, |_| {})
        .await
        .expect("verifies");
    assert_eq!(v.entries, 2);
}
