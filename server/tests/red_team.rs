//! `consent serve` against an attacker, on a real socket and a real SQLite file: what the
//! other attack suites (`adversarial.rs`, `adversarial_admin.rs`, `hostile.rs`, `slow.rs`)
//! leave out. Each test failed before the fix it names.

// Helpers outside #[test] functions, where clippy's in-test allowances do not reach.
#![allow(clippy::expect_used, clippy::panic)]

mod support;

use support::raw::{Answer, send};

const ORIGIN: &str = "https://klinikka.fi";

/// A "Reject all" from the no-JavaScript form, as a reverse proxy in front of the server
/// forwards it for `client` (`X-Forwarded-For`).
async fn form_post_for(addr: &str, client: &str) -> Answer {
    send(
        addr,
        "POST",
        "/consent/form",
        &format!(
            "Origin: {ORIGIN}\r\nContent-Type: application/x-www-form-urlencoded\r\nX-Forwarded-For: {client}\r\n"
        ),
        "action=reject_all",
    )
    .await
}

/// `consent serve` in `dir` behind a reverse proxy at 127.0.0.1, with a rate limit of 1 a
/// second (a burst of 2).
async fn behind_a_proxy(dir: &std::path::Path) -> (tokio::process::Child, String) {
    support::serve::start(
        dir,
        &[
            "--origin",
            ORIGIN,
            "--rate-limit",
            "1",
            "--trusted-proxy",
            "127.0.0.1",
        ],
    )
    .await
}

/// The statuses of six form posts forwarded for `client(1)` to `client(6)`.
async fn six_posts(addr: &str, client: impl Fn(u32) -> String) -> Vec<u16> {
    let mut statuses = Vec::new();
    for i in 1..=6 {
        statuses.push(form_post_for(addr, &client(i)).await.status);
    }
    statuses
}

/// One IPv6 host is given a whole /64 and may send from any address in it (privacy
/// addresses change by the hour, and a host can take thousands at once). The per-client
/// rate limit counted each address as a client of its own, so one host had a fresh budget
/// for every request while the connection limit, by /64, held; and a flood of addresses
/// reset every client's budget. It counts a /64 as one client now, as the connection
/// limit does.
#[tokio::test]
async fn one_ipv6_host_cannot_take_a_fresh_budget_from_each_of_its_addresses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = behind_a_proxy(dir.path()).await;
    let statuses = six_posts(&addr, |i| format!("2001:db8:1:2::{i:x}")).await;
    // A burst of 2 at 1 a second: the rest of the six within the second are refused.
    assert_eq!(statuses[..2], [303, 303], "{statuses:?}");
    assert!(
        statuses[2..].iter().filter(|s| **s == 429).count() >= 3,
        "one /64, one budget: {statuses:?}"
    );
    // Another /64 is another client.
    assert_eq!(form_post_for(&addr, "2001:db8:1:3::1").await.status, 303);
}

/// A server listening on every address (`--listen [::]:8080`, one dual-stack socket) sees
/// an IPv4 proxy's connections from its IPv4-mapped address, `::ffff:127.0.0.1`. The trusted
/// proxy named `127.0.0.1` was then no trusted proxy: its forwarding header was ignored and
/// every visitor behind it shared the proxy's one budget, so one visitor's burst refused
/// everyone's decisions.
#[tokio::test]
async fn a_trusted_ipv4_proxy_is_trusted_on_a_dual_stack_socket() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = support::serve::start(
        dir.path(),
        &[
            "--listen",
            "[::]:0",
            "--admin-token",
            "red-team-admin-token-0123456789abcdef",
            "--origin",
            ORIGIN,
            "--rate-limit",
            "1",
            "--trusted-proxy",
            "127.0.0.1",
        ],
    )
    .await;
    let port = addr.rsplit(':').next().expect("a port");
    let addr = format!("127.0.0.1:{port}");
    for _ in 0..3 {
        form_post_for(&addr, "203.0.113.1").await;
    }
    assert_eq!(form_post_for(&addr, "203.0.113.1").await.status, 429);
    // Another visitor behind the proxy has a budget of their own.
    assert_eq!(form_post_for(&addr, "203.0.113.2").await.status, 303);
}

/// `consent verify` in `dir`: whether it passed, and what it said.
fn verify(dir: &std::path::Path) -> (bool, String) {
    let out = support::cli::run(dir, &["verify"]);
    (out.status.success(), support::cli::text(&out))
}

/// Someone with write access to the database, without the key, wants recent decisions gone.
/// Deleting them is a break `verify` names; but the time column is theirs to edit, and a
/// purge deleted every record it found dated before the retention, then signed a checkpoint
/// over the last one's link: the records and the edit went together, and the log verified
/// with the server's own signature under the forgery. A purge now walks the chain first and
/// refuses a log that does not verify, deleting nothing.
#[tokio::test]
async fn a_purge_does_not_sign_away_records_whose_times_were_edited() {
    let dir = tempfile::tempdir().expect("tempdir");
    support::cli::log_with(dir.path(), &[1, 2, 3, 4, 5]).await;
    assert!(verify(dir.path()).0, "{}", verify(dir.path()).1);
    let conn = rusqlite::Connection::open(dir.path().join("consent.db")).expect("open");
    // 2001-01-01: older than any retention.
    conn.execute("UPDATE decisions SET time = 978307200 WHERE seq <= 3", [])
        .expect("edit the times");
    drop(conn);
    let (passed, said) = verify(dir.path());
    assert!(!passed && said.contains("record 1"), "{said}");

    let out = support::cli::run(dir.path(), &["purge", "--retention-days", "400"]);
    let purge_said = support::cli::text(&out);
    assert!(!out.status.success(), "the purge went ahead: {purge_said}");
    assert!(
        purge_said.contains("record 1") && purge_said.contains("verify"),
        "says what is broken and where: {purge_said}"
    );
    let (passed, said) = verify(dir.path());
    assert!(
        !passed && said.contains("record 1"),
        "the evidence stays: {said}"
    );
    let conn = rusqlite::Connection::open(dir.path().join("consent.db")).expect("open");
    let left: i64 = conn
        .query_row("SELECT count(*) FROM decisions", [], |r| r.get(0))
        .expect("count");
    assert_eq!(left, 5, "nothing purged");
}

/// A "Reject all" from the no-JavaScript form: the signed consent cookie's value.
async fn decided(addr: &str) -> String {
    let answer = send(
        addr,
        "POST",
        "/consent/form",
        &format!("Origin: {ORIGIN}\r\nContent-Type: application/x-www-form-urlencoded\r\n"),
        "action=reject_all",
    )
    .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    answer.set_cookie("consent").expect("the consent cookie")
}

/// The visitor's own records (`GET /consent/me`) as the cookie `token` shows them.
async fn mine(addr: &str, token: &str) -> Answer {
    send(
        addr,
        "GET",
        "/consent/me",
        &format!("Cookie: consent={token}\r\n"),
        "",
    )
    .await
}

/// Someone with write access to the database puts their own consent id on another visitor's
/// record (a break `verify` names: the column no longer matches the record), then erases
/// "their own" records with their own signed cookie. The erasure removed the other visitor's
/// record with theirs and named both in its entry, so the edit and the record it hid were
/// gone and the log verified: proof of a decision destroyed through the visitor's right to
/// erasure. An erasure now erases only records that are the consent id's own, by their
/// content, and refuses otherwise, erasing nothing.
#[tokio::test]
async fn an_erasure_cannot_take_a_record_someone_relabelled_as_theirs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = support::serve::start(dir.path(), &["--origin", ORIGIN]).await;
    let victim = decided(&addr).await;
    let attacker = decided(&addr).await;
    let attackers_id = mine(&addr, &attacker).await.json()["consent_id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let conn = rusqlite::Connection::open(dir.path().join("consent.db")).expect("open");
    let id = (0..attackers_id.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&attackers_id[i..i + 2], 16).expect("hex"))
        .collect::<Vec<u8>>();
    conn.execute(
        "UPDATE decisions SET consent_id = ?1 WHERE seq = 1",
        rusqlite::params![id],
    )
    .expect("relabel the victim's record");
    drop(conn);
    let (passed, said) = verify(dir.path());
    assert!(!passed && said.contains("record 1"), "{said}");

    let erased = send(
        &addr,
        "DELETE",
        "/consent/me",
        &format!("Cookie: consent={attacker}\r\n"),
        "",
    )
    .await;
    assert!(
        erased.status >= 500 && erased.body.contains("error"),
        "refused: {} {}",
        erased.status,
        erased.body
    );
    let (passed, said) = verify(dir.path());
    assert!(
        !passed && said.contains("record 1"),
        "the evidence stays: {said}"
    );
    // The victim's record is still theirs to read, as written.
    assert_eq!(
        mine(&addr, &victim).await.status,
        404,
        "relabelled, not erased"
    );
    let conn = rusqlite::Connection::open(dir.path().join("consent.db")).expect("open");
    let content: i64 = conn
        .query_row(
            "SELECT count(*) FROM decisions WHERE record IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(content, 2, "nothing erased");
}

/// Someone with write access to a PostgreSQL log rolls it back in place: the last decision
/// deleted and the `chain_head` row swapped for the one signed before it (copied while it
/// stood), a consistent older log. The database alone cannot tell; the head file of the
/// server that wrote it can: `consent serve` refuses to start on it, and `consent verify`
/// names the records the head file vouches for.
#[tokio::test]
async fn a_postgresql_log_rolled_back_in_place_is_refused_and_named() {
    if support::pg::skip() {
        return;
    }
    let cluster = support::pg::Cluster::start_new();
    let url = cluster.url("consent");
    let dir = tempfile::tempdir().expect("tempdir");
    let args = ["--origin", ORIGIN, "--postgres", url.as_str()];
    let (mut server, addr) = support::serve::start(dir.path(), &args).await;
    let (db, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    decided(&addr).await;
    decided(&addr).await;
    let older = db
        .query_one("SELECT seq, link, time, mac FROM chain_head", &[])
        .await
        .expect("the head after two");
    decided(&addr).await;
    let head_file = dir.path().join("consent.head");
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while consent_server::store::SignedHead::read(&head_file).map_or(0, |h| h.seq) < 3 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the head file vouches for record 3");
    server.start_kill().expect("kill");
    server.wait().await.expect("reaped");

    db.execute("DELETE FROM decisions WHERE seq = 3", &[])
        .await
        .expect("delete the last");
    let (seq, link, time, mac): (i64, Vec<u8>, i64, Vec<u8>) =
        (older.get(0), older.get(1), older.get(2), older.get(3));
    db.execute(
        "UPDATE chain_head SET seq = $1, link = $2, time = $3, mac = $4",
        &[&seq, &link, &time, &mac],
    )
    .await
    .expect("put the older head back");

    let refused = support::serve::try_start(dir.path(), &args).await;
    assert!(
        refused.is_err(),
        "consent serve started on a rolled-back log"
    );
    let said = refused.err().unwrap_or_default();
    assert!(said.contains("head file"), "says why: {said}");
    let out = support::cli::command(dir.path())
        .args(["verify", "--postgres", &url, "--head-file"])
        .arg(&head_file)
        .output()
        .expect("run consent verify");
    let said = support::cli::text(&out);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("record 3"), "names what is missing: {said}");
}

/// A proxy does not always write an address: nginx behind a unix socket writes `unix:`, and
/// RFC 7239 has `for=unknown` and obfuscated names (`for=_hidden`). The client's own entries
/// come before the proxy's in the same header, and an entry that was no address was skipped,
/// so the client's entry before it counted: each request with another made-up address had
/// a fresh budget. The nearest entry that is not a trusted proxy counts, address or not; one
/// that is not an address counts as the proxy itself.
#[tokio::test]
async fn a_proxy_entry_that_is_no_address_does_not_hand_the_choice_to_the_client() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = behind_a_proxy(dir.path()).await;
    let statuses = six_posts(&addr, |i| format!("198.51.100.{i}, unix:")).await;
    assert!(
        statuses.iter().filter(|s| **s == 429).count() >= 3,
        "the client chose its address: {statuses:?}"
    );
}

/// Waits (at most 10 s) until `head_file` vouches for record `seq`.
async fn head_file_at(head_file: &std::path::Path, seq: u64) {
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while consent_server::store::SignedHead::read(head_file).map_or(0, |h| h.seq) < seq {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the head file vouches for record {seq}"));
}

/// A decision posted to a server that must not extend its log: refused with a server error,
/// and given time to have been written had it not been.
async fn not_appended(addr: &str) {
    let answer = send(
        addr,
        "POST",
        "/consent/form",
        &format!("Origin: {ORIGIN}\r\nContent-Type: application/x-www-form-urlencoded\r\n"),
        "action=accept_all",
    )
    .await;
    assert!(
        answer.status >= 500,
        "appended: {} {}",
        answer.status,
        answer.body
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
}

/// Someone with write access deletes the last decision while the server runs, and puts back
/// the `chain_head` row signed before it (copied while it stood): a consistent older log.
/// The server extended it from that head, and its head file, which held that record's
/// number with the deleted record's link, took the new record's under the same number: the
/// deleted decision (a withdrawal, say) was gone and `verify` passed, head file and all. A
/// writer now refuses to extend a log that no longer holds the last head it signed.
#[tokio::test]
async fn a_log_rolled_back_under_a_running_server_is_not_extended() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, addr) = support::serve::start(dir.path(), &["--origin", ORIGIN]).await;
    decided(&addr).await;
    decided(&addr).await;
    let db = rusqlite::Connection::open(dir.path().join("consent.db")).expect("open");
    let older: (i64, Vec<u8>, i64, Vec<u8>) = db
        .query_row("SELECT seq, link, time, mac FROM chain_head", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .expect("the head after two");
    decided(&addr).await;
    let head_file = dir.path().join("consent.db.head");
    head_file_at(&head_file, 3).await;
    db.execute_batch("BEGIN IMMEDIATE; DELETE FROM decisions WHERE seq = 3;")
        .expect("delete the last");
    db.execute(
        "UPDATE chain_head SET seq = ?1, link = ?2, time = ?3, mac = ?4",
        rusqlite::params![older.0, older.1, older.2, older.3],
    )
    .expect("put the older head back");
    db.execute_batch("COMMIT").expect("commit");
    drop(db);

    not_appended(&addr).await;
    let (passed, said) = verify(dir.path());
    assert!(
        !passed && said.contains("record 3"),
        "the deletion is named: {said}"
    );
}

/// [`a_log_rolled_back_under_a_running_server_is_not_extended`] on PostgreSQL, where a
/// writer extends the chain from its signed head row.
#[tokio::test]
async fn a_postgresql_log_rolled_back_under_a_running_server_is_not_extended() {
    if support::pg::skip() {
        return;
    }
    let cluster = support::pg::Cluster::start_new();
    let url = cluster.url("consent");
    let dir = tempfile::tempdir().expect("tempdir");
    let args = ["--origin", ORIGIN, "--postgres", url.as_str()];
    let (_server, addr) = support::serve::start(dir.path(), &args).await;
    let (db, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    decided(&addr).await;
    decided(&addr).await;
    let older = db
        .query_one("SELECT seq, link, time, mac FROM chain_head", &[])
        .await
        .expect("the head after two");
    decided(&addr).await;
    let head_file = dir.path().join("consent.head");
    head_file_at(&head_file, 3).await;
    let (seq, link, time, mac): (i64, Vec<u8>, i64, Vec<u8>) =
        (older.get(0), older.get(1), older.get(2), older.get(3));
    db.batch_execute("BEGIN; DELETE FROM decisions WHERE seq = 3;")
        .await
        .expect("delete the last");
    db.execute(
        "UPDATE chain_head SET seq = $1, link = $2, time = $3, mac = $4",
        &[&seq, &link, &time, &mac],
    )
    .await
    .expect("put the older head back");
    db.batch_execute("COMMIT").await.expect("commit");

    not_appended(&addr).await;
    let out = support::cli::command(dir.path())
        .args(["verify", "--postgres", &url, "--head-file"])
        .arg(&head_file)
        .output()
        .expect("run consent verify");
    let said = support::cli::text(&out);
    assert!(!out.status.success() && said.contains("record 3"), "{said}");
}

/// A contact's row removed from `marketing_state` (what `may_market` reads: "no decision"
/// for a contact who objected) is named with its channel; `verify` said
/// `marketing_state ()`, naming nothing.
#[tokio::test]
async fn a_removed_marketing_state_row_is_named_with_its_channel() {
    let dir = tempfile::tempdir().expect("tempdir");
    for kind in ["consent", "objection"] {
        let out = support::cli::run(
            dir.path(),
            &[
                "market",
                "record",
                "--contact",
                "+358401234567",
                "--channel",
                "sms",
                "--kind",
                kind,
                "--via",
                "phone",
                "--staff",
                "desk-1",
            ],
        );
        let said = support::cli::text(&out);
        assert!(out.status.success(), "{said}");
        // Decisions are dated to the second: the next one in a later second.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    }
    let conn = rusqlite::Connection::open(dir.path().join("consent.db")).expect("open");
    conn.execute("DELETE FROM marketing_state", [])
        .expect("remove the row");
    drop(conn);
    let (passed, said) = verify(dir.path());
    assert!(!passed, "{said}");
    assert!(
        said.contains("marketing_state (sms)"),
        "names the channel: {said}"
    );
}

/// The whole log deleted, or its file emptied (a zero-length file is an empty SQLite
/// database), while its head file vouches for records: `verify` answered that there was no
/// log, or one of an older version to upgrade by starting `consent serve` on it (exit 3, as
/// for a mistyped path). It is a break like any other deletion (exit 1), named by the head
/// file.
#[tokio::test]
async fn a_log_deleted_or_emptied_is_a_break_the_head_file_names() {
    for emptied in [true, false] {
        let dir = tempfile::tempdir().expect("tempdir");
        support::cli::log_with(dir.path(), &[1, 2, 3]).await;
        // The store's writer thread checkpoints its write-ahead log as it closes.
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let db = dir.path().join("consent.db");
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(dir.path().join(format!("consent.db{suffix}")));
        }
        if emptied {
            std::fs::write(&db, b"").expect("empty the file");
        } else {
            std::fs::remove_file(&db).expect("delete the file");
        }
        let out = support::cli::run(dir.path(), &["verify"]);
        let said = support::cli::text(&out);
        assert_eq!(out.status.code(), Some(1), "emptied {emptied}: {said}");
        assert!(
            said.contains("chain broken") && said.contains("record 3"),
            "emptied {emptied}: {said}"
        );
    }
}

/// [`a_log_deleted_or_emptied_is_a_break_the_head_file_names`] on PostgreSQL: the log's
/// tables dropped.
#[tokio::test]
async fn a_postgresql_log_dropped_is_a_break_the_head_file_names() {
    if support::pg::skip() {
        return;
    }
    let cluster = support::pg::Cluster::start_new();
    let url = cluster.url("consent");
    let dir = tempfile::tempdir().expect("tempdir");
    let args = ["--origin", ORIGIN, "--postgres", url.as_str()];
    let (mut server, addr) = support::serve::start(dir.path(), &args).await;
    decided(&addr).await;
    decided(&addr).await;
    let head_file = dir.path().join("consent.head");
    head_file_at(&head_file, 2).await;
    server.start_kill().expect("kill");
    server.wait().await.expect("reaped");
    let (db, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    db.batch_execute("DROP TABLE decisions, chain_head, checkpoint")
        .await
        .expect("drop the log");
    let out = support::cli::command(dir.path())
        .args(["verify", "--postgres", &url, "--head-file"])
        .arg(&head_file)
        .output()
        .expect("run consent verify");
    let said = support::cli::text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("record 2"), "{said}");
}
