//! The store test suite: every store runs the same cases through [`store_suite!`].
#![allow(dead_code, unreachable_pub, clippy::expect_used, clippy::panic)]

use std::future::Future;

use consent_core::policy::{self, Action, Context, Signals};
use consent_core::{Channel, Config, ConsentId, DecisionRecord, Lang, PageUrl};
use consent_server::ServerKey;
use consent_server::store::{Log as _, Store};
use consent_server::verify::{Break, VerifyError, verify};
use time::OffsetDateTime;

mod outbox;
mod red_team;
mod register;
mod rotation;
mod tamper;
pub use outbox::*;
pub use red_team::*;
pub use register::*;
pub use rotation::*;
pub use tamper::*;

/// What a store's tests need: the store, a way to reopen it, and raw SQL to tamper with it.
pub trait Harness: Send + Sync {
    /// The store under test.
    type S: Store;
    /// The store.
    fn store(&self) -> &Self::S;
    /// A second handle on the same database, as after a restart or from another process.
    fn reopen(&self) -> impl Future<Output = Self::S> + Send;
    /// A handle on the same database opened with another key file (a rotated one).
    fn reopen_with(
        &self,
        key: &ServerKey,
    ) -> impl Future<Output = Result<Self::S, consent_server::StoreError>> + Send;
    /// Runs SQL directly against the database (tampering, as an attacker with write access).
    fn exec(&self, sql: &str) -> impl Future<Output = ()> + Send;
    /// A byte string as an SQL literal of this database.
    fn blob(&self, bytes: &[u8]) -> String;
}

pub fn config() -> Config {
    Config::from_json(consent_core::EXAMPLE_CONFIG).expect("valid")
}

pub fn key() -> ServerKey {
    ServerKey::new(&[0x33; 32]).expect("key")
}

/// A decision record for visitor `id` at `time`.
pub fn record(id: u8, action: Action, time: OffsetDateTime) -> DecisionRecord {
    let config = config();
    let before = policy::evaluate(&config, None, None, time, Signals::default());
    let ctx = Context {
        now: time,
        signals: Signals::default(),
        lang: Lang::Fi,
        fresh_id: ConsentId::from_bytes([id; 16]),
    };
    let d = policy::decide(&config, &before, action, ctx).expect("in range");
    let url = PageUrl::new("https://klinikka.fi/").expect("url");
    DecisionRecord::new(&config, d.state(), Some(url), Channel::Banner)
}

pub fn t0() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_793_491_200).expect("in range")
}

pub async fn appends_form_one_chain<H: Harness>(h: &H) {
    let s = h.store();
    for i in 0..5u8 {
        let a = s
            .append(record(i, Action::AcceptAll, t0()))
            .await
            .expect("append");
        assert_eq!(a.seq, u64::from(i) + 1);
    }
    let v = verify(s, &key(), None, |_| {}).await.expect("verifies");
    assert_eq!(v.entries, 5);
    assert_eq!(s.len().await.expect("len"), 5);
    let all = s.scan(0, 100).await.expect("scan");
    assert_eq!(
        all.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(all[4].link, v.head);
}

pub async fn records_for_returns_only_that_visitor<H: Harness>(h: &H) {
    let s = h.store();
    s.append(record(1, Action::AcceptAll, t0()))
        .await
        .expect("append");
    s.append(record(2, Action::RejectAll, t0()))
        .await
        .expect("append");
    s.append(record(
        1,
        Action::RejectAll,
        t0() + time::Duration::hours(1),
    ))
    .await
    .expect("append");
    let mine = s
        .records_for(ConsentId::from_bytes([1; 16]))
        .await
        .expect("read");
    assert_eq!(mine.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 3]);
    let actions: Vec<String> = mine
        .iter()
        .map(|e| {
            e.record()
                .expect("kept")
                .expect("json")
                .action()
                .to_string()
        })
        .collect();
    assert_eq!(actions, ["accept_all", "reject_all"]);
    assert!(
        s.records_for(ConsentId::from_bytes([9; 16]))
            .await
            .expect("read")
            .is_empty()
    );
}

pub async fn erasure_keeps_the_chain_verifiable<H: Harness>(h: &H) {
    let s = h.store();
    for i in [1u8, 2, 1, 3] {
        s.append(record(i, Action::AcceptAll, t0()))
            .await
            .expect("append");
    }
    assert_eq!(
        s.erase(ConsentId::from_bytes([1; 16]))
            .await
            .expect("erase"),
        2
    );
    assert!(
        s.records_for(ConsentId::from_bytes([1; 16]))
            .await
            .expect("read")
            .is_empty()
    );
    let all = s.scan(0, 10).await.expect("scan");
    assert!(all[0].is_erased() && all[2].is_erased() && !all[1].is_erased());
    assert!(!all.iter().any(|e| {
        e.record_json
            .as_deref()
            .is_some_and(|j| j.contains(&"01".repeat(16)))
    }));
    let v = verify(s, &key(), None, |_| {})
        .await
        .expect("still verifies");
    // The erasure is an entry of its own that names what it erased.
    assert_eq!((v.entries, v.erased), (5, 2));
    let entry = s.scan(4, 1).await.expect("scan").remove(0);
    let erasure = entry
        .erasure()
        .expect("an erasure entry")
        .expect("readable");
    assert_eq!(erasure.erased, [1, 3]);
    // Statistics still count erased decisions.
    let total: u64 = s
        .stats()
        .await
        .expect("stats")
        .iter()
        .map(|r| r.count)
        .sum();
    assert_eq!(total, 4);
}

pub async fn an_edited_record_is_named<H: Harness>(h: &H) {
    let s = h.store();
    for i in 0..4u8 {
        s.append(record(i, Action::AcceptAll, t0()))
            .await
            .expect("append");
    }
    h.exec("UPDATE decisions SET record = replace(record, '\"accept_all\"', '\"reject_all\"') WHERE seq = 3").await;
    match verify(s, &key(), None, |_| {}).await {
        Err(VerifyError::Broken(b)) => assert_eq!(b, Break::Digest(3)),
        other => panic!("expected a break at 3, got {other:?}"),
    }
}

pub async fn a_removed_record_is_named<H: Harness>(h: &H) {
    let s = h.store();
    for i in 0..4u8 {
        s.append(record(i, Action::AcceptAll, t0()))
            .await
            .expect("append");
    }
    h.exec("DELETE FROM decisions WHERE seq = 2").await;
    match verify(s, &key(), None, |_| {}).await {
        Err(VerifyError::Broken(b)) => assert_eq!(
            b,
            Break::Gap {
                expected: 2,
                found: 3
            }
        ),
        other => panic!("expected a gap at 2, got {other:?}"),
    }
}

pub async fn a_rewritten_link_is_named<H: Harness>(h: &H) {
    let s = h.store();
    for i in 0..4u8 {
        s.append(record(i, Action::AcceptAll, t0()))
            .await
            .expect("append");
    }
    // Replace record 2 wholesale with record 4's content and digest, as a forger would.
    h.exec("UPDATE decisions SET record = (SELECT record FROM decisions WHERE seq = 4), digest = (SELECT digest FROM decisions WHERE seq = 4) WHERE seq = 2").await;
    match verify(s, &key(), None, |_| {}).await {
        Err(VerifyError::Broken(b)) => assert_eq!(b, Break::Link(2)),
        other => panic!("expected a link break at 2, got {other:?}"),
    }
}

pub async fn concurrent_writers_keep_one_chain<H: Harness>(h: &H) {
    let other = h.reopen().await;
    let s = h.store();
    let mut tasks = Vec::new();
    for w in 0..8u8 {
        let store_a = s;
        let store_b = &other;
        tasks.push(async move {
            for i in 0..50u8 {
                let r = record(w.wrapping_mul(50).wrapping_add(i), Action::AcceptAll, t0());
                if i % 2 == 0 {
                    store_a.append(r).await
                } else {
                    store_b.append(r).await
                }
                .expect("append");
            }
        });
    }
    futures_join_all(tasks).await;
    assert_eq!(s.len().await.expect("len"), 400);
    let v = verify(s, &key(), None, |_| {})
        .await
        .expect("one valid chain");
    assert_eq!(v.entries, 400);
}

async fn futures_join_all<F: Future<Output = ()> + Send>(tasks: Vec<F>) {
    // Polls every task concurrently on this task, without a futures dependency.
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = tasks.into_iter().map(Box::pin).collect();
    std::future::poll_fn(|cx| {
        pinned.retain_mut(|f| f.as_mut().poll(cx).is_pending());
        if pinned.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
}

pub async fn purge_leaves_a_signed_checkpoint<H: Harness>(h: &H) {
    let s = h.store();
    let key = key();
    for d in 0..6i64 {
        let t = t0() + time::Duration::days(d * 30);
        s.append(record(d as u8, Action::AcceptAll, t))
            .await
            .expect("append");
    }
    let cutoff = t0() + time::Duration::days(95);
    let purged = s
        .purge(cutoff, &|seq, link, total| {
            key.checkpoint_mac(seq, link, total)
        })
        .await
        .expect("purge");
    assert_eq!(purged, 4);
    assert_eq!(s.len().await.expect("len"), 2);
    let v = verify(s, &key, None, |_| {})
        .await
        .expect("verifies from the checkpoint");
    assert_eq!((v.entries, v.checkpoint), (2, Some(4)));
    // Under another key nothing is trusted, the signed head first.
    let other = ServerKey::new(&[0x44; 32]).expect("key");
    assert!(matches!(
        verify(s, &other, None, |_| {}).await,
        Err(VerifyError::Broken(Break::HeadSignature))
    ));
    // Appends continue the chain; a second purge accumulates.
    s.append(record(
        9,
        Action::RejectAll,
        t0() + time::Duration::days(400),
    ))
    .await
    .expect("append");
    let purged = s
        .purge(t0() + time::Duration::days(300), &|seq, link, total| {
            key.checkpoint_mac(seq, link, total)
        })
        .await
        .expect("purge");
    assert_eq!(purged, 2);
    assert_eq!(
        s.checkpoint()
            .await
            .expect("read")
            .map(|c| (c.seq, c.purged)),
        Some((6, 6))
    );
    let v = verify(s, &key, None, |_| {}).await.expect("verifies");
    assert_eq!(v.entries, 1);
    // Purging everything still leaves a chain to extend.
    let purged = s
        .purge(t0() + time::Duration::days(1000), &|seq, link, total| {
            key.checkpoint_mac(seq, link, total)
        })
        .await
        .expect("purge");
    assert_eq!(purged, 1);
    let a = s
        .append(record(
            10,
            Action::AcceptAll,
            t0() + time::Duration::days(1001),
        ))
        .await
        .expect("append");
    assert_eq!(a.seq, 8);
    verify(s, &key, None, |_| {}).await.expect("verifies");
}

pub async fn stats_count_per_day_action_and_revision<H: Harness>(h: &H) {
    let s = h.store();
    s.append(record(1, Action::AcceptAll, t0()))
        .await
        .expect("append");
    s.append(record(
        2,
        Action::AcceptAll,
        t0() + time::Duration::hours(3),
    ))
    .await
    .expect("append");
    s.append(record(3, Action::RejectAll, t0() + time::Duration::days(1)))
        .await
        .expect("append");
    let rows = s.stats().await.expect("stats");
    let got: Vec<(String, String, u32, String, u64)> = rows
        .into_iter()
        .map(|r| {
            let granted: Vec<&str> = r.granted.iter().map(|c| c.as_str()).collect();
            (
                r.day.to_string(),
                r.action.to_string(),
                r.revision,
                granted.join(","),
                r.count,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "2026-11-01".into(),
                "accept_all".into(),
                1,
                "necessary,analytics,marketing".into(),
                2
            ),
            (
                "2026-11-02".into(),
                "reject_all".into(),
                1,
                "necessary".into(),
                1
            ),
        ]
    );
}

pub async fn records_survive_a_reopen<H: Harness>(h: &H) {
    for i in 0..3u8 {
        h.store()
            .append(record(i, Action::AcceptAll, t0()))
            .await
            .expect("append");
    }
    let again = h.reopen().await;
    assert_eq!(again.len().await.expect("len"), 3);
    let a = again
        .append(record(7, Action::AcceptAll, t0()))
        .await
        .expect("append");
    assert_eq!(a.seq, 4);
    verify(&again, &key(), None, |_| {})
        .await
        .expect("verifies");
}

/// Generates one `#[tokio::test]` per case for a store; `$setup` is an async expression
/// giving a fresh [`Harness`].
#[macro_export]
macro_rules! store_suite {
    ($setup:expr) => {
        $crate::store_suite!(@cases $setup;
            appends_form_one_chain, records_for_returns_only_that_visitor,
            erasure_keeps_the_chain_verifiable, an_edited_record_is_named, a_removed_record_is_named,
            a_rewritten_link_is_named, concurrent_writers_keep_one_chain, purge_leaves_a_signed_checkpoint,
            stats_count_per_day_action_and_revision, records_survive_a_reopen,
            marketing_decisions_share_the_chain, a_duplicate_is_stored_once,
            an_out_of_order_decision_is_refused, a_conditional_append_is_refused_after_a_later_decision,
            a_conditional_append_of_several_records_is_all_or_none,
            latest_states_follow_the_rules,
            concurrent_decisions_keep_state_and_chain, an_edited_marketing_record_is_named,
            the_bulk_check_names_who_may_not_be_contacted, erasure_suppresses_and_keeps_the_chain,
            requests_follow_their_deadline, access_exports_everything_held,
            the_last_records_deleted_are_named, a_removed_record_relinked_without_the_key_is_named,
            content_removed_by_hand_is_not_an_erasure, an_erasure_entry_cannot_cover_another_record,
            edited_summary_and_id_columns_are_named, an_edited_marketing_state_is_named,
            a_rollback_to_an_older_copy_is_caught_by_the_head_file,
            retention_keeps_the_proof_of_a_standing_objection, retention_keeps_the_decision_a_status_rests_on,
            a_state_row_forged_behind_the_checkpoint_is_named, a_field_the_digest_does_not_cover_is_named,
            a_row_inserted_before_the_start_of_the_chain_is_named,
            a_log_verified_while_it_is_written_to_has_no_break,
            an_append_after_an_edit_at_the_end_keeps_the_evidence,
            an_append_after_a_row_added_at_the_end_is_refused,
            an_edited_since_is_named_after_a_purge,
            content_put_back_after_an_erasure_is_named,
            a_log_verifies_across_rotations,
            a_forged_rotation_is_named, a_missing_rotation_is_named,
            a_log_under_a_key_the_file_lacks_is_left_alone,
            the_outbox_survives_a_reopen_and_hands_each_message_out_once,
            the_outbox_keeps_its_bound_and_drops_the_oldest,
            erasure_deletes_the_contacts_waiting_messages,
            one_contacts_messages_are_counted_by_every_server_alike,
            turns_taken_at_once_are_counted_once,
            an_erasure_refuses_a_cookie_record_relabelled_as_its_own,
            an_erasure_refuses_a_marketing_record_relabelled_as_the_contacts);
    };
    (@cases $setup:expr; $($case:ident),*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $case() {
            let harness = $setup.await;
            suite::$case(&harness).await;
        }
    )*};
}
