//! The store suite against a real PostgreSQL server: a throw-away cluster per test (see
//! `support/pg.rs`), plus what only a server can do: restart under the store, and serve
//! several application servers at once.

mod suite;
mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use consent_core::policy::Action;
use consent_server::store::postgres::PgStore;
use consent_server::store::{Log as _, StoreError};
use consent_server::verify::verify;
use suite::{Harness, record, t0};
use support::pg::Cluster;

/// Fields drop in order: the store closes its connections before the cluster stops.
struct Pg {
    store: PgStore,
    url: String,
    cluster: Cluster,
}

#[allow(clippy::expect_used)]
impl Harness for Pg {
    type S = PgStore;
    fn store(&self) -> &PgStore {
        &self.store
    }
    async fn reopen(&self) -> PgStore {
        // A store of its own, with its own connections: another application server.
        PgStore::connect(&self.url, suite::key().log_keys())
            .await
            .expect("reopen")
    }
    async fn reopen_with(
        &self,
        key: &consent_server::ServerKey,
    ) -> Result<PgStore, consent_server::StoreError> {
        PgStore::connect(&self.url, key.log_keys()).await
    }
    async fn exec(&self, sql: &str) {
        client(&self.url)
            .await
            .batch_execute(sql)
            .await
            .expect("tamper");
    }
    fn blob(&self, bytes: &[u8]) -> String {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("'\\x{hex}'::bytea")
    }
}

#[allow(clippy::expect_used)]
async fn setup() -> Pg {
    let cluster = Cluster::start_new();
    let url = cluster.url("consent");
    let store = PgStore::connect(&url, suite::key().log_keys())
        .await
        .expect("connect");
    Pg {
        store,
        url,
        cluster,
    }
}

// The `return` leaves the test early when PostgreSQL is missing and CONSENT_SKIP_POSTGRES=1;
// missing binaries otherwise fail the test (see `support::pg::skip`).
store_suite!(if support::pg::skip() {
    return;
} else {
    setup()
});

/// Bounds a call that must not hang on a dead server.
#[allow(clippy::panic)]
async fn bounded<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within 20 s"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_gives_clear_errors_then_recovers() {
    if support::pg::skip() {
        return;
    }
    let h = setup().await;
    let s = h.store();
    for i in 0..3u8 {
        s.append(record(i, Action::AcceptAll, t0()))
            .await
            .expect("append");
    }
    h.cluster.stop();

    let err = bounded("append", s.append(record(3, Action::AcceptAll, t0())))
        .await
        .expect_err("the server is down");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(err.to_string().contains("PostgreSQL"), "{err}");
    let err = bounded("len", s.len())
        .await
        .expect_err("the server is down");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let err = bounded(
        "reconnect",
        PgStore::connect(&h.url, suite::key().log_keys()),
    )
    .await
    .expect_err("the server is down");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");

    h.cluster.start();
    // Stopped with -m immediate, as in a crash: acknowledged records survive recovery.
    assert_eq!(bounded("len", s.len()).await.expect("len"), 3);
    let a = bounded("append", s.append(record(4, Action::RejectAll, t0())))
        .await
        .expect("appends work again");
    assert_eq!(a.seq, 4);
    let v = verify(s, &suite::key(), None, |_| {})
        .await
        .expect("verifies");
    assert_eq!(v.entries, 4);
}

#[tokio::test]
async fn an_unreachable_server_is_a_clear_error() {
    let err = PgStore::connect(
        "host=127.0.0.1 port=1 user=consent dbname=consent connect_timeout=5",
        suite::key().log_keys(),
    )
    .await
    .expect_err("nothing listens on port 1");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(
        err.to_string().contains("cannot connect to PostgreSQL"),
        "{err}"
    );
    let err = PgStore::connect(
        "host=/nonexistent-dir user=consent dbname=consent",
        suite::key().log_keys(),
    )
    .await
    .expect_err("no socket");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    let err = PgStore::connect("port=notanumber", suite::key().log_keys())
        .await
        .expect_err("invalid");
    assert!(
        err.to_string()
            .contains("invalid PostgreSQL connection string"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_app_servers_append_concurrently() {
    if support::pg::skip() {
        return;
    }
    let h = setup().await;
    let second = h.reopen().await;
    let mut tasks = Vec::new();
    for (n, store) in [h.store().clone(), second.clone()].into_iter().enumerate() {
        for w in 0..4u8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut got = Vec::new();
                for i in 0..50u8 {
                    let id = (n as u8 * 4 + w).wrapping_mul(50).wrapping_add(i);
                    let a = store
                        .append(record(id, Action::AcceptAll, t0()))
                        .await
                        .expect("append");
                    got.push(a);
                }
                got
            }));
        }
    }
    let mut acked = Vec::new();
    for t in tasks {
        acked.extend(t.await.expect("task"));
    }
    let seqs: BTreeSet<u64> = acked.iter().map(|a| a.seq).collect();
    assert_eq!(
        seqs,
        (1..=400).collect(),
        "one position per append, no gaps"
    );
    let entries = h.store().scan(0, 1000).await.expect("scan");
    for a in &acked {
        let e = &entries[usize::try_from(a.seq).expect("small") - 1];
        assert_eq!(
            (e.seq, e.link),
            (a.seq, a.link),
            "acknowledged link is stored"
        );
    }
    let v = verify(&second, &suite::key(), None, |_| {})
        .await
        .expect("one valid chain");
    assert_eq!(v.entries, 400);
}

/// A conditional append judged in the same batch as the decision that breaks its condition
/// (neither in `marketing_state` yet) is refused: the writer judges it against the batch's own
/// decisions too.
///
/// Another connection holds the chain's head, so the writer's batch of one cookie decision
/// waits for it; the refusal and the conditional consent queued meanwhile make its next batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_condition_sees_the_decisions_before_it_in_its_batch() {
    use consent_core::register::{MarketingChannel, MarketingKind};
    use consent_server::store::{MarketingAppend, NothingLater, Register as _};
    use support::writer::queue;
    if support::pg::skip() {
        return;
    }
    let h = setup().await;
    let s = h.store();
    let holder = hold_the_head(&h.url).await;
    let mut cookie = std::pin::pin!(s.append(record(1, Action::AcceptAll, t0())));
    queue(cookie.as_mut()).await;
    until_the_writer_waits(&h.url).await;
    let refusal = suite::marketing("a@b.fi", MarketingKind::Refusal, 0);
    let mut refusal = std::pin::pin!(s.append_marketing(refusal));
    queue(refusal.as_mut()).await;
    let consent = suite::marketing("a@b.fi", MarketingKind::Consent, 0);
    let condition = NothingLater {
        after: 1,
        channels: vec![MarketingChannel::Email],
    };
    let mut consent = std::pin::pin!(s.append_marketing_if(vec![consent], condition));
    queue(consent.as_mut()).await;
    holder.batch_execute("COMMIT").await.expect("unlock");
    let (cookie, refusal, consent) = bounded("the appends", async {
        tokio::join!(cookie, refusal, consent)
    })
    .await;
    assert_eq!(cookie.expect("append").seq, 1);
    assert!(
        matches!(refusal, Ok(MarketingAppend::Stored(a)) if a.seq == 2),
        "{refusal:?}"
    );
    assert_eq!(
        consent.expect("append"),
        [MarketingAppend::Superseded { seq: 2 }]
    );
    verify(s, &suite::key(), None, |_| {})
        .await
        .expect("verifies");
}

/// A confirmation refused in the middle of a batch takes back only its own records
/// (`suite::a_refused_group_in_a_held_batch`): the batch's rows and what it judged of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_group_in_a_batch_leaves_the_rest_whole() {
    in_a_held_batch(suite::HeldBatch::RefusedGroup).await;
}

/// Runs `test` on a batch the writer is held on: another connection holds the chain's head,
/// so the writer's batch of one cookie decision waits for it, and the appends `test` queues
/// meanwhile make its next batches.
#[allow(clippy::expect_used)]
async fn in_a_held_batch(test: suite::HeldBatch) {
    use support::writer::queue;
    if support::pg::skip() {
        return;
    }
    let h = setup().await;
    let s = h.store();
    suite::before_a_held_batch(s).await;
    let holder = hold_the_head(&h.url).await;
    let mut first = std::pin::pin!(s.append(record(1, Action::AcceptAll, t0())));
    queue(first.as_mut()).await;
    until_the_writer_waits(&h.url).await;
    let release = async {
        holder.batch_execute("COMMIT").await.expect("unlock");
    };
    let (first, ()) = bounded("the appends", async {
        tokio::join!(first, test.run(s, release))
    })
    .await;
    assert_eq!(first.expect("append").seq, 2);
}

/// A connection of the test's own that holds the chain's head (in a transaction it leaves
/// open: `COMMIT` releases it), so that the writer's next batch waits for it.
#[allow(clippy::expect_used)]
async fn hold_the_head(url: &str) -> tokio_postgres::Client {
    let holder = client(url).await;
    holder
        .batch_execute("BEGIN; SELECT 1 FROM chain_head WHERE id = 1 FOR UPDATE")
        .await
        .expect("lock");
    holder
}

/// Returns once a connection waits for a lock: the writer, for the head [`hold_the_head`]
/// holds.
#[allow(clippy::expect_used)]
async fn until_the_writer_waits(url: &str) {
    let observer = client(url).await;
    let waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'";
    bounded("the writer waiting for the head", async {
        while observer
            .query_one(waiting, &[])
            .await
            .expect("query")
            .get::<_, i64>(0)
            == 0
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

/// A connection of the test's own, as another server's.
#[allow(clippy::expect_used)]
async fn client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
}

#[tokio::test]
async fn a_writer_extends_the_head_another_server_moved() {
    if support::pg::skip() {
        return;
    }
    let h = setup().await;
    let second = h.reopen().await;
    // Each store remembers the head its last commit left; the other store moves it between
    // their appends, so every append after the first finds its remembered head stale.
    let mut acked = Vec::new();
    for i in 0..6u8 {
        let store = if i % 2 == 0 { h.store() } else { &second };
        acked.push(
            store
                .append(record(i, Action::AcceptAll, t0()))
                .await
                .expect("append"),
        );
    }
    let seqs: Vec<u64> = acked.iter().map(|a| a.seq).collect();
    assert_eq!(
        seqs,
        [1, 2, 3, 4, 5, 6],
        "each append extends the latest head"
    );
    let entries = h.store().scan(0, 10).await.expect("scan");
    let links: Vec<_> = entries.iter().map(|e| e.link).collect();
    let acked_links: Vec<_> = acked.iter().map(|a| a.link).collect();
    assert_eq!(links, acked_links, "acknowledged links are stored");
    let v = verify(h.store(), &suite::key(), None, |_| {})
        .await
        .expect("one valid chain");
    assert_eq!(v.entries, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_starting_together_create_the_schema_once() {
    if support::pg::skip() {
        return;
    }
    let cluster = Cluster::start_new();
    let url = cluster.url("consent");
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { PgStore::connect(&url, suite::key().log_keys()).await })
        })
        .collect();
    let mut stores = Vec::new();
    for s in starts {
        stores.push(s.await.expect("task").expect("connect"));
    }
    for (i, s) in stores.iter().enumerate() {
        let a = s
            .append(record(i as u8, Action::AcceptAll, t0()))
            .await
            .expect("append");
        assert_eq!(a.seq, i as u64 + 1);
    }
    drop(stores);
}

/// A database from before the outbox gets its table when a server of this version connects.
#[tokio::test]
#[allow(clippy::expect_used)]
async fn a_database_from_before_the_outbox_is_migrated() {
    use consent_server::register::outbox::Message;
    use consent_server::store::Register as _;
    if support::pg::skip() {
        return;
    }
    let h = setup().await;
    h.exec("DROP TABLE outbox; DROP TABLE outbox_budget;").await;
    let store = h.reopen().await;
    let message = Message {
        id: 0,
        to: "a@b.fi".into(),
        link: "https://klinikka.fi/register/confirm?token=x".into(),
        expires: t0() + time::Duration::hours(48),
    };
    store.outbox_push(message, t0()).await.expect("push");
    assert_eq!(store.outbox_take(t0(), false).await.expect("take").len(), 1);
    // And the count of messages per contact, newer still.
    let contact = suite::key().contact_hash(&"a@b.fi".parse().expect("contact"));
    assert!(store.outbox_turn(contact, t0()).await.expect("turn"));
}

/// A database whose default is `synchronous_commit = off` (a DBA's choice for speed): what
/// the store acknowledges is durable all the same. An erasure, on a connection of its own, is
/// acknowledged (and its head published to the head file) only once its commit is flushed,
/// so a crash right after it loses neither the erasure nor the head file's record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acknowledged_erasure_survives_a_crash_under_asynchronous_commit() {
    use consent_core::ConsentId;
    if support::pg::skip() {
        return;
    }
    let cluster = Cluster::start_new();
    let url = cluster.url("consent");
    {
        let c = client(&url).await;
        c.batch_execute("ALTER DATABASE consent SET synchronous_commit = off")
            .await
            .expect("asynchronous commit by default");
        // The WAL writer flushes an asynchronous commit within this delay: longer than the
        // test takes, so only a commit the store waited for is on disk when the server dies.
        c.batch_execute("ALTER SYSTEM SET wal_writer_delay = '10s'")
            .await
            .expect("wal_writer_delay");
        c.batch_execute("SELECT pg_reload_conf()")
            .await
            .expect("reload");
    }
    let store = PgStore::connect(&url, suite::key().log_keys())
        .await
        .expect("connect");
    for i in 1..=3u8 {
        store
            .append(record(i, Action::AcceptAll, t0()))
            .await
            .expect("append");
    }
    assert_eq!(
        store
            .erase(ConsentId::from_bytes([2; 16]))
            .await
            .expect("erase"),
        1
    );
    let head = *store.heads().borrow();
    assert_eq!(
        head.map(|h| h.seq),
        Some(4),
        "the erasure's head is published"
    );
    // The server dies at once, as in a power cut, before the WAL writer's next round.
    cluster.stop();
    drop(store);
    cluster.start();
    let store = PgStore::connect(&url, suite::key().log_keys())
        .await
        .expect("reconnect");
    let v = verify(&store, &suite::key(), head.as_ref(), |_| {})
        .await
        .expect("the acknowledged erasure and the head file's record are there");
    assert_eq!((v.entries, v.erased), (4, 1));
}

/// A confirmation refused in the middle of a batch leaves nothing of what was judged of its
/// records to the appends after it in the batch (`suite::a_refused_group_teaches_its_batch_nothing`):
/// neither its rows nor the positions and states the batch had learnt from them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_group_teaches_its_batch_nothing() {
    in_a_held_batch(suite::HeldBatch::TeachesNothing).await;
}
