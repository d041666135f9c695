//! The store suite against a real SQLite file.

// Helpers outside #[test] functions, where clippy's in-test allowances do not reach.
#![allow(clippy::expect_used)]

mod suite;
mod support;

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
        SqliteStore::open(&self.path, suite::key().log_keys()).expect("reopen")
    }
    async fn reopen_with(
        &self,
        key: &consent_server::ServerKey,
    ) -> Result<SqliteStore, consent_server::StoreError> {
        SqliteStore::open(&self.path, key.log_keys())
    }
    async fn exec(&self, sql: &str) {
        let conn = rusqlite::Connection::open(&self.path).expect("open");
        conn.execute_batch(sql).expect("tamper");
    }
    fn blob(&self, bytes: &[u8]) -> String {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("X'{hex}'")
    }
}

async fn setup() -> Sqlite {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("consent.db");
    let store = SqliteStore::open(&path, suite::key().log_keys()).expect("open");
    Sqlite {
        _dir: dir,
        path,
        store,
    }
}

store_suite!(setup());

#[tokio::test]
async fn an_unwritable_path_is_a_clear_error() {
    let err = SqliteStore::open("/nonexistent-dir/consent.db", suite::key().log_keys())
        .expect_err("cannot open");
    assert!(
        err.to_string().contains("/nonexistent-dir/consent.db"),
        "{err}"
    );
}

#[tokio::test]
async fn a_log_from_before_the_register_is_migrated() {
    use consent_core::policy::Action;
    use consent_server::store::{Log as _, MarketingAppend, Register as _};
    let h = setup().await;
    h.store
        .append(suite::record(1, Action::AcceptAll, suite::t0()))
        .await
        .expect("append");
    // Back to the schema of the previous release.
    h.exec(
        "DROP INDEX decisions_contact; DROP TABLE marketing_state; DROP TABLE outbox;
         DROP TABLE outbox_budget;
         ALTER TABLE decisions DROP COLUMN contact; ALTER TABLE decisions DROP COLUMN kind;",
    )
    .await;
    let store = SqliteStore::open(&h.path, suite::key().log_keys()).expect("reopen migrates");
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
    // The outbox table, new in a later release, is there too.
    let message = consent_server::register::outbox::Message {
        id: 0,
        to: "a@b.fi".into(),
        link: "https://klinikka.fi/register/confirm?token=x".into(),
        expires: suite::t0() + time::Duration::hours(48),
    };
    store
        .outbox_push(message, suite::t0())
        .await
        .expect("the outbox after migration");
    let contact = suite::key().contact_hash(&"a@b.fi".parse().expect("contact"));
    assert!(
        store
            .outbox_turn(contact, suite::t0())
            .await
            .expect("the count of messages per contact after migration")
    );
}

/// Past `COUNTED` contacts being counted (a flood of sign-ups for made-up addresses), the
/// counts nearest whole are forgotten, so the table stays bounded; an address being flooded,
/// its budget the furthest from whole, is still counted.
#[tokio::test]
async fn the_counts_of_messages_keep_their_bound_and_the_flooded_address_last() {
    use consent_server::register::outbox::COUNTED;
    use consent_server::store::Register as _;
    let h = setup().await;
    let key = suite::key();
    let victim = key.contact_hash(&"victim@example.fi".parse().expect("contact"));
    for _ in 0..3 {
        assert!(
            h.store
                .outbox_turn(victim, suite::t0())
                .await
                .expect("turn")
        );
    }
    let one_each = (suite::t0() + time::Duration::hours(1)).unix_timestamp();
    h.exec(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {COUNTED})
         INSERT INTO outbox_budget (contact, whole_at) SELECT randomblob(33), {one_each} FROM n;"
    ))
    .await;
    let new = key.contact_hash(&"new@example.fi".parse().expect("contact"));
    assert!(h.store.outbox_turn(new, suite::t0()).await.expect("turn"));
    let conn = rusqlite::Connection::open(&h.path).expect("open");
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM outbox_budget", [], |r| r.get(0))
        .expect("count");
    assert!(rows as u64 <= COUNTED, "{rows} counts kept");
    assert!(
        !h.store
            .outbox_turn(victim, suite::t0())
            .await
            .expect("turn"),
        "the flooded address is still counted"
    );
}

/// Rewrites the log in `h` as a version before the keyed chain wrote it: plain SHA-256 links
/// and no `chain_head` table.
async fn as_before_the_keyed_chain(h: &Sqlite) {
    use consent_server::store::Log as _;
    let entries = h.store.scan(0, 100).await.expect("scan");
    let mut link = consent_core::Digest::ZERO;
    let mut sql = String::from("DROP TABLE chain_head;");
    for e in &entries {
        link = consent_core::chain_link(&link, &e.digest);
        sql += &format!(
            "UPDATE decisions SET link = {} WHERE seq = {};",
            suite::Harness::blob(h, link.as_bytes()),
            e.seq
        );
    }
    h.exec(&sql).await;
}

#[tokio::test]
async fn a_log_from_before_the_keyed_chain_keeps_its_plain_prefix_and_says_so() {
    use consent_core::policy::Action;
    use consent_server::store::Log as _;
    let h = setup().await;
    for i in 1..=3u8 {
        h.store
            .append(suite::record(i, Action::AcceptAll, suite::t0()))
            .await
            .expect("append");
    }
    as_before_the_keyed_chain(&h).await;
    let store = SqliteStore::open(&h.path, suite::key().log_keys()).expect("an old log opens");
    store
        .append(suite::record(4, Action::RejectAll, suite::t0()))
        .await
        .expect("append");
    let v = consent_server::verify::verify(&store, &suite::key(), None, |_| {})
        .await
        .expect("verifies");
    assert_eq!((v.entries, v.keyed_from), (4, 3));
    // The keyed record after the plain prefix is keyed: relinking it plainly is caught.
    h.exec("UPDATE decisions SET action = 'accept_all' WHERE seq = 4")
        .await;
    assert!(matches!(
        consent_server::verify::verify(&store, &suite::key(), None, |_| {}).await,
        Err(consent_server::verify::VerifyError::Broken(
            consent_server::verify::Break::Link(4)
        ))
    ));
}

/// A version before the keyed chain could purge the decision a contact's state rests on: such
/// a row, behind the checkpoint in the plain prefix, is not a break (the keyed part has none:
/// `a_state_row_forged_behind_the_checkpoint_is_named`).
#[tokio::test]
async fn a_state_row_an_old_purge_left_without_its_decision_verifies() {
    use consent_core::policy::Action;
    use consent_server::store::{Log as _, Register as _};
    let h = setup().await;
    h.store
        .append_marketing(suite::marketing(
            "maija@example.fi",
            consent_core::register::MarketingKind::Consent,
            0,
        ))
        .await
        .expect("append");
    for i in 2..=3u8 {
        h.store
            .append(suite::record(i, Action::AcceptAll, suite::t0()))
            .await
            .expect("append");
    }
    as_before_the_keyed_chain(&h).await;
    // The old purge: records 1 and 2 gone, the consent's state row kept.
    let second = h.store.scan(1, 1).await.expect("scan").remove(0);
    let mac = suite::key().checkpoint_mac(2, &second.link, 2);
    h.exec(&format!(
        "DELETE FROM decisions WHERE seq <= 2;
         INSERT INTO checkpoint (id, seq, link, purged, time, mac) VALUES (1, 2, {}, 2, 0, {})",
        suite::Harness::blob(&h, second.link.as_bytes()),
        suite::Harness::blob(&h, &mac)
    ))
    .await;
    let store = SqliteStore::open(&h.path, suite::key().log_keys()).expect("an old log opens");
    let v = consent_server::verify::verify(&store, &suite::key(), None, |_| {})
        .await
        .expect("verifies");
    assert_eq!((v.entries, v.keyed_from, v.states), (1, 3, 0));
}

#[tokio::test]
async fn a_keyed_log_whose_head_row_was_removed_does_not_open() {
    use consent_core::policy::Action;
    use consent_server::store::Log as _;
    let h = setup().await;
    h.store
        .append(suite::record(1, Action::AcceptAll, suite::t0()))
        .await
        .expect("append");
    // Removing the head row so that the next start signs a rolled-back log as it finds it.
    h.exec("DELETE FROM chain_head").await;
    let err = SqliteStore::open(&h.path, suite::key().log_keys()).expect_err("refused");
    assert!(err.to_string().contains("chain_head"), "{err}");
}

/// Purged records must be gone from the database's files, not merely from its queries:
/// SQLite leaves a row's old bytes in the write-ahead log's copies of its page until a
/// checkpoint truncates it (`secure_delete` zeroes them in the database file itself).
#[tokio::test]
async fn purged_records_leave_no_trace_in_the_database_files() {
    use consent_core::policy::Action;
    use consent_server::store::Log as _;
    let h = setup().await;
    let key = suite::key();
    for d in 0..6u8 {
        let t = suite::t0() + time::Duration::days(i64::from(d) * 30);
        h.store
            .append(suite::record(0xa0 + d, Action::AcceptAll, t))
            .await
            .expect("append");
    }
    let files = || {
        let mut all = Vec::new();
        for suffix in ["", "-wal"] {
            let mut name = h.path.clone().into_os_string();
            name.push(suffix);
            all.extend(std::fs::read(name).unwrap_or_default());
        }
        all
    };
    let holds = |bytes: &[u8], id: u8| {
        let hex = format!("{id:02x}").repeat(16);
        bytes.windows(hex.len()).any(|w| w == hex.as_bytes())
    };
    assert!(
        holds(&files(), 0xa0),
        "the test's premise: the first record's consent id is in the files"
    );
    let purged = h
        .store
        .purge(
            suite::t0() + time::Duration::days(95),
            &|seq, link, total| key.checkpoint_mac(seq, link, total),
        )
        .await
        .expect("purge");
    assert_eq!(purged, 4);
    let after = files();
    for id in 0xa0..0xa4 {
        assert!(
            !holds(&after, id),
            "purged record {id:#x} is still in the files"
        );
    }
    assert!(holds(&after, 0xa5), "a kept record is still there");
}

/// SQLite keeps whatever type a value is written with, whatever the column says. A value of
/// another type, or text that is not UTF-8, written into a record's row by someone who can
/// edit the file: `verify` names the record and the column, and, undone, the log verifies.
#[tokio::test]
async fn a_value_of_another_type_names_its_record_and_column() {
    use consent_core::policy::Action;
    use consent_server::store::Log as _;
    let h = setup().await;
    for i in 1..=3u8 {
        h.store
            .append(suite::record(i, Action::AcceptAll, suite::t0()))
            .await
            .expect("append");
    }
    let entries = h.store.scan(0, 10).await.expect("scan");
    let original = &entries[1];
    let restore = format!(
        "UPDATE decisions SET time = {}, record = '{}', digest = {}, revision = {}, kind = 'cookie' WHERE seq = 2",
        original.time.unix_timestamp(),
        original
            .record_json
            .as_deref()
            .expect("kept")
            .replace('\'', "''"),
        suite::Harness::blob(&h, original.digest.as_bytes()),
        1
    );
    for (edit, column) in [
        (
            "UPDATE decisions SET time = 'yesterday' WHERE seq = 2",
            "time",
        ),
        (
            "UPDATE decisions SET record = CAST(record AS BLOB) WHERE seq = 2",
            "record",
        ),
        (
            "UPDATE decisions SET record = CAST(X'7bff7d' AS TEXT) WHERE seq = 2",
            "record",
        ),
        (
            "UPDATE decisions SET digest = 'abc' WHERE seq = 2",
            "digest",
        ),
        (
            "UPDATE decisions SET revision = 1.5 WHERE seq = 2",
            "revision",
        ),
        (
            "UPDATE decisions SET revision = 99999999999 WHERE seq = 2",
            "revision",
        ),
        ("UPDATE decisions SET kind = X'00' WHERE seq = 2", "kind"),
    ] {
        h.exec(edit).await;
        let e = consent_server::verify::verify(&h.store, &suite::key(), None, |_| {})
            .await
            .expect_err(edit)
            .to_string();
        assert!(e.contains(&format!("record 2: {column}: ")), "{edit}: {e}");
        h.exec(&restore).await;
        consent_server::verify::verify(&h.store, &suite::key(), None, |_| {})
            .await
            .unwrap_or_else(|e| panic!("undone {edit}: {e}"));
    }
    // The tables beside the chain name the table and the column.
    use consent_server::store::Register as _;
    h.store
        .append_marketing(suite::marketing(
            "maija@example.fi",
            consent_core::register::MarketingKind::Consent,
            0,
        ))
        .await
        .expect("append");
    for (edit, column) in [
        (
            "UPDATE marketing_state SET since = 'x'",
            "marketing_state.since",
        ),
        ("UPDATE chain_head SET time = X'00'", "chain_head.time"),
    ] {
        h.exec(edit).await;
        let e = consent_server::verify::verify(&h.store, &suite::key(), None, |_| {})
            .await
            .expect_err(edit)
            .to_string();
        assert!(e.contains(&format!("{column}: ")), "{edit}: {e}");
    }
}

/// A confirmation refused in the middle of a batch takes back only its own records
/// (`suite::a_refused_group_in_a_held_batch`): a savepoint, not the batch's transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_group_in_a_batch_leaves_the_rest_whole() {
    in_a_held_batch(suite::HeldBatch::RefusedGroup).await;
}

/// Runs `test` on a batch the writer is held on: another connection holds the file's write
/// lock, so the writer's batch of one cookie decision waits for it, and the appends `test`
/// queues meanwhile make its next batches.
#[allow(clippy::expect_used)]
async fn in_a_held_batch(test: suite::HeldBatch) {
    use consent_core::policy::Action;
    use consent_server::store::Log as _;
    use support::writer::queue;
    let h = setup().await;
    let s = h.store();
    suite::before_a_held_batch(s).await;
    let holder = rusqlite::Connection::open(&h.path).expect("open");
    holder.execute_batch("BEGIN IMMEDIATE").expect("lock");
    let mut first = std::pin::pin!(s.append(suite::record(1, Action::AcceptAll, suite::t0())));
    queue(first.as_mut()).await;
    let release = async {
        holder.execute_batch("COMMIT").expect("unlock");
    };
    let both = async {
        let (first, ()) = tokio::join!(first, test.run(s, release));
        assert_eq!(first.expect("append").seq, 2);
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), both)
        .await
        .expect("the appends, in time");
}

/// A confirmation refused in the middle of a batch leaves nothing of what was judged of its
/// records to the appends after it in the batch (`suite::a_refused_group_teaches_its_batch_nothing`):
/// its rows and `marketing_state` go back with the savepoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_group_teaches_its_batch_nothing() {
    in_a_held_batch(suite::HeldBatch::TeachesNothing).await;
}
