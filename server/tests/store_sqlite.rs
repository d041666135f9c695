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
        SqliteStore::open(&self.path).expect("reopen")
    }
    async fn exec(&self, sql: &str) {
        let conn = rusqlite::Connection::open(&self.path).expect("open");
        conn.execute_batch(sql).expect("tamper");
    }
}

async fn setup() -> Sqlite {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("consent.db");
    let store = SqliteStore::open(&path).expect("open");
    Sqlite {
        _dir: dir,
        path,
        store,
    }
}

store_suite!(setup());

#[tokio::test]
async fn an_unwritable_path_is_a_clear_error() {
    let err = SqliteStore::open("/nonexistent-dir/consent.db").expect_err("cannot open");
    assert!(
        err.to_string().contains("/nonexistent-dir/consent.db"),
        "{err}"
    );
}
