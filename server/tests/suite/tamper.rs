//! The log as someone with write access to the database but not the server key edits it:
//! each edit of issue 15's list, and what `verify` names. Every case runs on both stores.

use consent_core::policy::Action;
use consent_core::register::MarketingKind;
use consent_core::{ConsentId, Digest, chain_link};
use consent_server::store::{Log as _, Register as _, SignedHead, Store};
use consent_server::verify::{Break, HeadSource, VerifyError, verify};

use super::register::marketing;
use super::{Harness, key, record, t0};

/// Appends four cookie decisions (visitors 1-4) and returns the signed head after them.
async fn four<H: Harness>(h: &H) -> SignedHead {
    let s = h.store();
    for i in 1..=4u8 {
        s.append(record(i, Action::AcceptAll, t0()))
            .await
            .expect("append");
    }
    let head = *s.heads().borrow();
    head.expect("a signed head after the appends")
}

async fn broken<S: Store>(s: &S, head_file: Option<&SignedHead>) -> Break {
    match verify(s, &key(), head_file, |_| {}).await {
        Err(VerifyError::Broken(b)) => b,
        other => panic!("expected a break, got {other:?}"),
    }
}

pub async fn the_last_records_deleted_are_named<H: Harness>(h: &H) {
    four(h).await;
    h.exec("DELETE FROM decisions WHERE seq = 4").await;
    assert_eq!(
        broken(h.store(), None).await,
        Break::Truncated {
            head: 4,
            last: 3,
            source: HeadSource::Database
        }
    );
    h.exec("DELETE FROM decisions WHERE seq >= 2").await;
    assert_eq!(
        broken(h.store(), None).await,
        Break::Truncated {
            head: 4,
            last: 1,
            source: HeadSource::Database
        }
    );
    h.exec("DELETE FROM decisions").await;
    assert_eq!(
        broken(h.store(), None).await,
        Break::Truncated {
            head: 4,
            last: 0,
            source: HeadSource::Database
        }
    );
}

/// Record 2 removed, the later ones renumbered and every link recomputed the way anyone
/// can: the plain SHA-256 links of the log before the keyed chain.
pub async fn a_removed_record_relinked_without_the_key_is_named<H: Harness>(h: &H) {
    four(h).await;
    let entries = h.store().scan(0, 10).await.expect("scan");
    let mut sql = String::from("DELETE FROM decisions WHERE seq = 2;");
    let mut link = Digest::ZERO;
    for (new_seq, e) in entries.iter().filter(|e| e.seq != 2).enumerate() {
        link = chain_link(&link, &e.digest);
        sql += &format!(
            "UPDATE decisions SET seq = {}, link = {} WHERE seq = {};",
            new_seq + 1,
            h.blob(link.as_bytes()),
            e.seq
        );
    }
    h.exec(&sql).await;
    assert_eq!(broken(h.store(), None).await, Break::Link(1));
    // Moving the database's head to match needs its signature, which needs the key.
    h.exec(&format!(
        "UPDATE chain_head SET seq = 3, link = {} WHERE id = 1",
        h.blob(link.as_bytes())
    ))
    .await;
    assert_eq!(broken(h.store(), None).await, Break::HeadSignature);
}

pub async fn content_removed_by_hand_is_not_an_erasure<H: Harness>(h: &H) {
    four(h).await;
    h.exec("UPDATE decisions SET record = NULL, consent_id = NULL WHERE seq = 2")
        .await;
    assert_eq!(broken(h.store(), None).await, Break::ErasedWithoutEntry(2));
}

pub async fn an_erasure_entry_cannot_cover_another_record<H: Harness>(h: &H) {
    four(h).await;
    let s = h.store();
    assert_eq!(
        s.erase(ConsentId::from_bytes([1; 16]))
            .await
            .expect("erase"),
        1
    );
    verify(s, &key(), None, |_| {})
        .await
        .expect("a lawful erasure verifies");
    // The erasure entry (5) names record 1; widening it to record 3 breaks its digest.
    h.exec("UPDATE decisions SET record = replace(record, '[1]', '[1,3]') WHERE seq = 5")
        .await;
    h.exec("UPDATE decisions SET record = NULL, consent_id = NULL WHERE seq = 3")
        .await;
    assert_eq!(broken(s, None).await, Break::Digest(5));
}

pub async fn edited_summary_and_id_columns_are_named<H: Harness>(h: &H) {
    four(h).await;
    let s = h.store();
    for (edit, undo) in [
        (
            "UPDATE decisions SET action = 'reject_all' WHERE seq = 2",
            "UPDATE decisions SET action = 'accept_all' WHERE seq = 2",
        ),
        (
            "UPDATE decisions SET granted = 'necessary' WHERE seq = 2",
            "UPDATE decisions SET granted = 'necessary,analytics,marketing' WHERE seq = 2",
        ),
        (
            "UPDATE decisions SET revision = 9 WHERE seq = 2",
            "UPDATE decisions SET revision = 1 WHERE seq = 2",
        ),
    ] {
        h.exec(edit).await;
        assert_eq!(broken(s, None).await, Break::Link(2), "{edit}");
        h.exec(undo).await;
        verify(s, &key(), None, |_| {})
            .await
            .unwrap_or_else(|e| panic!("undone {edit}: {e}"));
    }
    // A value no code path writes cannot be read at all: verify names the record and the
    // column, and undone the log verifies again.
    h.exec("UPDATE decisions SET action = 'accept_everything' WHERE seq = 2")
        .await;
    let e = verify(s, &key(), None, |_| {})
        .await
        .expect_err("an unreadable action")
        .to_string();
    assert!(
        e.contains("record 2") && e.contains("action") && e.contains("accept_everything"),
        "{e}"
    );
    h.exec("UPDATE decisions SET action = 'accept_all' WHERE seq = 2")
        .await;
    verify(s, &key(), None, |_| {})
        .await
        .expect("undone, it verifies");
    // The id column hides a record from its owner's access request.
    h.exec(&format!(
        "UPDATE decisions SET consent_id = {} WHERE seq = 2",
        h.blob(&[9; 16])
    ))
    .await;
    assert_eq!(
        broken(s, None).await,
        Break::Column {
            seq: 2,
            column: "consent_id"
        }
    );
}

pub async fn an_edited_marketing_state_is_named<H: Harness>(h: &H) {
    let s = h.store();
    for (who, kind, minutes) in [
        ("maija@example.fi", MarketingKind::Consent, 0),
        ("maija@example.fi", MarketingKind::Objection, 5),
        ("pekka@example.fi", MarketingKind::Refusal, 6),
    ] {
        s.append_marketing(marketing(who, kind, minutes))
            .await
            .expect("append");
    }
    let v = verify(s, &key(), None, |_| {}).await.expect("verifies");
    assert_eq!(v.states, 2);
    for (edit, undo) in [
        (
            "UPDATE marketing_state SET status = 'consented' WHERE status = 'objected'",
            "UPDATE marketing_state SET status = 'objected' WHERE status = 'consented'",
        ),
        (
            "UPDATE marketing_state SET seq = 1 WHERE status = 'objected'",
            "UPDATE marketing_state SET seq = 2 WHERE status = 'objected'",
        ),
    ] {
        h.exec(edit).await;
        assert!(
            matches!(broken(s, None).await, Break::MarketingState { .. }),
            "{edit}"
        );
        h.exec(undo).await;
        verify(s, &key(), None, |_| {})
            .await
            .unwrap_or_else(|e| panic!("undone {edit}: {e}"));
    }
    h.exec("DELETE FROM marketing_state WHERE status = 'objected'")
        .await;
    assert!(matches!(
        broken(s, None).await,
        Break::MarketingState { .. }
    ));
}

pub async fn a_rollback_to_an_older_copy_is_caught_by_the_head_file<H: Harness>(h: &H) {
    let s = h.store();
    s.append(record(1, Action::AcceptAll, t0()))
        .await
        .expect("append");
    let old = s.heads().borrow().expect("head");
    let latest = four(h).await;
    verify(s, &key(), Some(&latest), |_| {})
        .await
        .expect("the log holds what its head file vouches for");
    // The database rolled back to its state after the first record, its signed head too.
    h.exec(&format!(
        "DELETE FROM decisions WHERE seq > 1; UPDATE chain_head SET seq = {}, link = {}, time = {}, mac = {} WHERE id = 1",
        old.seq,
        h.blob(old.link.as_bytes()),
        old.time,
        h.blob(&old.mac)
    ))
    .await;
    verify(s, &key(), None, |_| {})
        .await
        .expect("without the head file the rollback is consistent");
    assert_eq!(
        broken(s, Some(&latest)).await,
        Break::Truncated {
            head: 5,
            last: 1,
            source: HeadSource::File
        }
    );
    // A head file signed under another key vouches for nothing.
    let forged = consent_server::ServerKey::new(&[0x44; 32])
        .expect("key")
        .log_keys()
        .sign_head(1, old.link, old.time, old.keyed_from);
    assert_eq!(broken(s, Some(&forged)).await, Break::HeadFileSignature);
}

pub async fn retention_keeps_the_proof_of_a_standing_objection<H: Harness>(h: &H) {
    let s = h.store();
    let key = key();
    s.append(record(1, Action::AcceptAll, t0()))
        .await
        .expect("append");
    for (who, kind, minutes) in [
        ("maija@example.fi", MarketingKind::Consent, 1),
        ("maija@example.fi", MarketingKind::Objection, 2),
    ] {
        s.append_marketing(marketing(who, kind, minutes))
            .await
            .expect("append");
    }
    s.append(record(
        2,
        Action::RejectAll,
        t0() + time::Duration::minutes(3),
    ))
    .await
    .expect("append");
    // Everything is past the retention period; the objection (3) still decides may_market.
    let purged = s
        .purge(t0() + time::Duration::days(400), &|seq, link, total| {
            key.checkpoint_mac(seq, link, total)
        })
        .await
        .expect("purge");
    assert_eq!(purged, 2, "the purge stops before the objection");
    let rest = s.scan(0, 10).await.expect("scan");
    assert_eq!(rest.first().map(|e| e.seq), Some(3));
    let v = verify(s, &key, None, |_| {}).await.expect("verifies");
    assert_eq!((v.entries, v.checkpoint, v.states), (2, Some(2), 1));
}

/// A cookie decision at [`t0`], then `decisions` of maija's on e-mail a minute apart, all
/// purged 400 days later as far as retention allows: how many records went.
async fn maija_purged<H: Harness>(h: &H, decisions: [MarketingKind; 2]) -> u64 {
    let s = h.store();
    let key = key();
    s.append(record(1, Action::AcceptAll, t0()))
        .await
        .expect("append");
    for (kind, minutes) in decisions.into_iter().zip(1..) {
        s.append_marketing(marketing("maija@example.fi", kind, minutes))
            .await
            .expect("append");
    }
    s.purge(t0() + time::Duration::days(400), &|seq, link, total| {
        key.checkpoint_mac(seq, link, total)
    })
    .await
    .expect("purge")
}

/// A consent followed by a soft opt-in (a purchase) stays a consent, since the consent's time:
/// the status rests on the consent, not on the latest decision. Retention keeps that consent,
/// or "consented since" would be an answer with nothing left in the log to prove it.
pub async fn retention_keeps_the_decision_a_status_rests_on<H: Harness>(h: &H) {
    use consent_core::register::{MarketingChannel, MarketingStatus};
    let s = h.store();
    let key = key();
    let purged = maija_purged(h, [MarketingKind::Consent, MarketingKind::SoftOptIn]).await;
    assert_eq!(purged, 1, "the purge stops before the consent");
    let maija = super::register::contact("maija@example.fi");
    let held: Vec<MarketingKind> = s
        .contact_records(maija)
        .await
        .expect("history")
        .iter()
        .map(|e| e.marketing_record().expect("kept").expect("json").kind())
        .collect();
    assert_eq!(held, [MarketingKind::Consent, MarketingKind::SoftOptIn]);
    let states = s
        .marketing_states(MarketingChannel::Email, vec![maija])
        .await
        .expect("states");
    assert_eq!(
        states,
        [Some((
            MarketingStatus::Consented,
            t0() + time::Duration::minutes(1)
        ))]
    );
    let v = verify(s, &key, None, |_| {}).await.expect("verifies");
    assert_eq!((v.entries, v.checkpoint, v.states), (2, Some(1), 1));
}

/// A `marketing_state` row is what `may_market` answers from. After a purge, a row for a
/// channel the contact never decided on, with a position inside the purged prefix, must not
/// pass for the state of a decision that was purged: retention never purges the decision a
/// state rests on, so in a keyed log no such row is the server's.
pub async fn a_state_row_forged_behind_the_checkpoint_is_named<H: Harness>(h: &H) {
    use consent_core::register::{MarketingChannel, MarketingStatus};
    let s = h.store();
    let key = key();
    let purged = maija_purged(h, [MarketingKind::Consent, MarketingKind::Objection]).await;
    assert_eq!(purged, 2, "the purge stops before the objection");
    verify(s, &key, None, |_| {}).await.expect("verifies");
    // Maija objected on e-mail; a row says she consented to letters, as of record 1.
    let maija = super::register::contact("maija@example.fi");
    let at = t0().unix_timestamp();
    h.exec(&format!(
        "INSERT INTO marketing_state (contact, channel, status, since, latest, seq)
         VALUES ({}, 'post', 'consented', {at}, {at}, 1)",
        h.blob(&maija.to_bytes())
    ))
    .await;
    let states = s
        .marketing_states(MarketingChannel::Post, vec![maija])
        .await
        .expect("read");
    assert_eq!(
        states[0].map(|(status, _)| status),
        Some(MarketingStatus::Consented),
        "may_market reads the row as it is"
    );
    assert_eq!(
        broken(s, None).await,
        Break::MarketingState {
            channel: "post".into(),
            what: "a row with no decision in the log"
        }
    );
}

/// The record's digest covers what the record's type reads; a field it does not read is not
/// covered, yet `consent export` and the register's access report show the stored JSON. So a
/// field added to a category's choice is a break, not a note nobody signed.
pub async fn a_field_the_digest_does_not_cover_is_named<H: Harness>(h: &H) {
    four(h).await;
    h.exec(
        r#"UPDATE decisions SET record = replace(record, '"granted":true}', '"granted":true,"note":"and marketing by phone"}') WHERE seq = 2"#,
    )
    .await;
    let edited = h.store().scan(1, 1).await.expect("scan");
    assert!(
        edited[0]
            .record_json
            .as_deref()
            .is_some_and(|j| j.contains("by phone")),
        "the edit landed"
    );
    assert_eq!(broken(h.store(), None).await, Break::Unreadable(2));
}

/// A row inserted before the chain's start (position 0 or below, or inside a purged prefix)
/// is outside the walk, which starts after the checkpoint; yet the visitor's access request,
/// `consent export` and the statistics read it. `verify` names it.
pub async fn a_row_inserted_before_the_start_of_the_chain_is_named<H: Harness>(h: &H) {
    four(h).await;
    let s = h.store();
    let copy = |to: i64, from: u64| {
        format!(
            "INSERT INTO decisions (seq, time, consent_id, record, digest, link, action, revision, granted, kind, contact)
             SELECT {to}, time, consent_id, record, digest, link, action, revision, granted, kind, contact
             FROM decisions WHERE seq = {from}"
        )
    };
    h.exec(&copy(0, 2)).await;
    let held = s
        .records_for(ConsentId::from_bytes([2; 16]))
        .await
        .expect("read");
    assert_eq!(held.len(), 2, "the access request shows the inserted copy");
    assert_eq!(
        broken(s, None).await,
        Break::BeforeStart { seq: 0, start: 0 }
    );
    h.exec("DELETE FROM decisions WHERE seq = 0").await;
    h.exec(&copy(-7, 2)).await;
    assert_eq!(
        broken(s, None).await,
        Break::BeforeStart { seq: -7, start: 0 }
    );
    h.exec("DELETE FROM decisions WHERE seq = -7").await;
    verify(s, &key(), None, |_| {})
        .await
        .expect("undone, it verifies");
    // Inside a purged prefix.
    let key = key();
    let purged = s
        .purge(t0() + time::Duration::seconds(1), &|seq, link, total| {
            key.checkpoint_mac(seq, link, total)
        })
        .await
        .expect("purge");
    assert_eq!(purged, 4);
    s.append(record(
        5,
        Action::RejectAll,
        t0() + time::Duration::hours(1),
    ))
    .await
    .expect("append");
    verify(s, &key, None, |_| {})
        .await
        .expect("purged, it verifies");
    h.exec(&copy(3, 5)).await;
    assert_eq!(
        broken(s, None).await,
        Break::BeforeStart { seq: 3, start: 4 }
    );
}

/// `verify` on a log being written to (the dashboard runs it on every visit, a cron job on a
/// live server): records and marketing decisions appended while it walks are no break.
pub async fn a_log_verified_while_it_is_written_to_has_no_break<H: Harness>(h: &H) {
    let writer = h.reopen().await;
    let appending = tokio::spawn(async move {
        for i in 0..600i64 {
            let id = u8::try_from(i % 200).expect("small");
            writer
                .append(record(id, Action::AcceptAll, t0()))
                .await
                .expect("append");
            if i % 3 == 0 {
                let who = format!("p{}@x.fi", i % 7);
                let kind = if i % 2 == 0 {
                    MarketingKind::Consent
                } else {
                    MarketingKind::Objection
                };
                writer
                    .append_marketing(marketing(&who, kind, i))
                    .await
                    .expect("append");
            }
        }
    });
    let s = h.store();
    let mut rounds = 0;
    while !appending.is_finished() {
        if let Err(e) = verify(s, &key(), None, |_| {}).await {
            panic!("round {rounds}: {e}");
        }
        rounds += 1;
    }
    appending.await.expect("appends");
    verify(s, &key(), None, |_| {}).await.expect("verifies");
    assert!(rounds > 0);
    // Records past the signed head with no head after them are still a break: an older
    // signed head put back over the database's, its records left in place.
    let old = s.scan(9, 1).await.expect("scan").remove(0);
    let older = key()
        .log_keys()
        .sign_head(old.seq, old.link, t0().unix_timestamp(), 0);
    h.exec(&format!(
        "UPDATE chain_head SET seq = {}, link = {}, time = {}, mac = {} WHERE id = 1",
        older.seq,
        h.blob(older.link.as_bytes()),
        older.time,
        h.blob(&older.mac)
    ))
    .await;
    assert_eq!(
        broken(s, None).await,
        Break::Rewritten {
            seq: 10,
            source: HeadSource::Database
        }
    );
}

/// The writer extends the chain from its signed head, never from whatever row is last: after
/// the last record was deleted, or a row was added after it, the next append must not sign a
/// new head over the edit (and move the head file on to it), which would leave the log
/// verifying without the record.
pub async fn an_append_after_an_edit_at_the_end_keeps_the_evidence<H: Harness>(h: &H) {
    four(h).await;
    let s = h.store();
    h.exec("DELETE FROM decisions WHERE seq = 4").await;
    let landed = s.append(record(9, Action::RejectAll, t0())).await;
    let verified = verify(s, &key(), None, |_| {}).await;
    assert!(
        landed.is_err() || verified.is_err(),
        "the deleted record 4 was replaced and the log verifies: {landed:?}, {verified:?}"
    );
}

/// A row added after the last record: the writer neither links to it nor signs a head over
/// it, which would make every later record's proof hang on a link nobody made.
pub async fn an_append_after_a_row_added_at_the_end_is_refused<H: Harness>(h: &H) {
    four(h).await;
    let s = h.store();
    h.exec(
        "INSERT INTO decisions (seq, time, consent_id, record, digest, link, action, revision, granted, kind, contact)
         SELECT 5, time, consent_id, record, digest, link, action, revision, granted, kind, contact
         FROM decisions WHERE seq = 2",
    )
    .await;
    let landed = s.append(record(9, Action::RejectAll, t0())).await;
    assert!(landed.is_err(), "{landed:?}");
    assert_eq!(s.heads().borrow().map(|h| h.seq), Some(4));
    assert_eq!(broken(s, None).await, Break::Link(5));
}

/// After a purge the decision that set a status may be gone, so `since` cannot always be
/// checked; but when the log still holds the change of status, it says when, and an edited
/// `since` (a consent made to look older than it is) is named.
pub async fn an_edited_since_is_named_after_a_purge<H: Harness>(h: &H) {
    let s = h.store();
    let key = key();
    s.append(record(1, Action::AcceptAll, t0()))
        .await
        .expect("append");
    for (who, kind, minutes) in [
        ("maija@example.fi", MarketingKind::Objection, 1),
        ("pekka@example.fi", MarketingKind::Refusal, 2),
        ("pekka@example.fi", MarketingKind::Consent, 3),
    ] {
        s.append_marketing(marketing(who, kind, minutes))
            .await
            .expect("append");
    }
    let purged = s
        .purge(t0() + time::Duration::days(400), &|seq, link, total| {
            key.checkpoint_mac(seq, link, total)
        })
        .await
        .expect("purge");
    assert_eq!(purged, 1, "the purge stops before maija's objection");
    verify(s, &key, None, |_| {}).await.expect("verifies");
    let pekka = super::register::contact("pekka@example.fi");
    let year_before = (t0() - time::Duration::days(365)).unix_timestamp();
    h.exec(&format!(
        "UPDATE marketing_state SET since = {year_before} WHERE contact = {}",
        h.blob(&pekka.to_bytes())
    ))
    .await;
    assert_eq!(
        broken(s, None).await,
        Break::MarketingState {
            channel: "email".into(),
            what: "`since` is not when the decisions set the status"
        }
    );
}

/// Content put back into a record an erasure entry says was erased (from a backup, say): the
/// log would hold personal data it says it removed, and `consent export` would show it again.
pub async fn content_put_back_after_an_erasure_is_named<H: Harness>(h: &H) {
    four(h).await;
    let s = h.store();
    let before = s.scan(0, 1).await.expect("scan").remove(0);
    assert_eq!(
        s.erase(ConsentId::from_bytes([1; 16]))
            .await
            .expect("erase"),
        1
    );
    verify(s, &key(), None, |_| {}).await.expect("verifies");
    h.exec(&format!(
        "UPDATE decisions SET record = '{}', consent_id = {} WHERE seq = 1",
        before
            .record_json
            .as_deref()
            .expect("kept")
            .replace('\'', "''"),
        h.blob(&[1; 16])
    ))
    .await;
    assert_eq!(
        s.records_for(ConsentId::from_bytes([1; 16]))
            .await
            .expect("read")
            .len(),
        1,
        "the erased record is back"
    );
    assert_eq!(broken(s, None).await, Break::NotErased { seq: 1, by: 5 });
}
