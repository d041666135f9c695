//! Key rotation: the log spans keys, verifies across them, and names a rotation that was
//! forged or is missing.

use consent_core::policy::Action;
use consent_core::register::MarketingKind;
use consent_server::ServerKey;
use consent_server::store::rotation::Rotation;
use consent_server::store::{EntryKind, KeyId, Log as _, Register as _, Store, StoreError};
use consent_server::verify::{Break, VerifyError, verify};

use super::{Harness, key, marketing, record, t0};

/// The suite's key rotated to a second key (epoch 1).
pub fn rotated() -> ServerKey {
    key().rotated(&[0x55; 32], false).expect("rotated")
}

async fn broken_under<S: Store>(s: &S, key: &ServerKey) -> Break {
    match verify(s, key, None, |_| {}).await {
        Err(VerifyError::Broken(b)) => b,
        other => panic!("expected a break, got {other:?}"),
    }
}

/// Record 1 under the suite's key, the rotation at 2, record 3 under the new key.
async fn rotated_log<H: Harness>(h: &H) -> H::S {
    h.store()
        .append(record(1, Action::AcceptAll, t0()))
        .await
        .expect("append");
    let s = h.reopen_with(&rotated()).await.expect("reopen rotates");
    s.append(record(2, Action::RejectAll, t0()))
        .await
        .expect("append under the new key");
    s
}

pub async fn a_log_verifies_across_rotations<H: Harness>(h: &H) {
    let old = h.store();
    old.append(record(1, Action::AcceptAll, t0()))
        .await
        .expect("append");
    old.append(record(2, Action::RejectAll, t0() + time::Duration::days(2)))
        .await
        .expect("append");
    old.append_marketing(marketing("maija@example.fi", MarketingKind::Objection, 1))
        .await
        .expect("append");
    // A checkpoint under the old key, signed again by the rotation.
    let k = key();
    let purged = old
        .purge(t0() + time::Duration::days(1), &|seq, link, total| {
            k.checkpoint_mac(seq, link, total)
        })
        .await
        .expect("purge");
    assert_eq!(purged, 1);

    let new_key = rotated();
    let new = h.reopen_with(&new_key).await.expect("reopen rotates");
    let rotation = new.scan(3, 10).await.expect("scan");
    assert_eq!(rotation.len(), 1);
    assert_eq!(rotation[0].kind, EntryKind::Rotation);
    let r = rotation[0].rotation().expect("kept").expect("json");
    assert_eq!((r.from, r.to, r.epoch), (key().id(), new_key.id(), 1));
    new.append(record(3, Action::AcceptAll, t0()))
        .await
        .expect("append under the new key");
    let v = verify(&new, &new_key, None, |_| {})
        .await
        .expect("verifies across the rotation");
    assert_eq!(
        (v.entries, v.checkpoint, v.rotations.clone(), v.epoch),
        (4, Some(1), vec![(4, 1)], 1)
    );

    // The process still under the old key appends nothing after the rotation.
    let refused = old.append(record(4, Action::AcceptAll, t0())).await;
    assert!(
        matches!(refused, Err(StoreError::ForeignHead)),
        "{refused:?}"
    );
    let refused = old
        .erase(consent_core::ConsentId::from_bytes([2; 16]))
        .await;
    assert!(
        matches!(refused, Err(StoreError::ForeignHead)),
        "{refused:?}"
    );
    // The old key alone cannot vouch for the new head.
    assert_eq!(broken_under(&new, &key()).await, Break::HeadSignature);

    // Opened again with the same file: nothing more to record. A second rotation is another
    // entry, linked under the second key.
    let again = h.reopen_with(&new_key).await.expect("reopen");
    assert_eq!(again.len().await.expect("len"), 4, "records 2 to 5");
    let third = new_key.rotated(&[0x66; 32], true).expect("rotated");
    let third_store = h.reopen_with(&third).await.expect("reopen rotates");
    third_store
        .append(record(5, Action::RejectAll, t0()))
        .await
        .expect("append under the third key");
    let v = verify(&third_store, &third, None, |_| {})
        .await
        .expect("verifies across both rotations");
    assert_eq!((v.rotations, v.epoch), (vec![(4, 1), (6, 2)], 2));
}

pub async fn a_forged_rotation_is_named<H: Harness>(h: &H) {
    let s = rotated_log(h).await;
    let new_key = rotated();
    verify(&s, &new_key, None, |_| {}).await.expect("verifies");
    let entry = s.scan(1, 1).await.expect("scan").remove(0);
    // Someone with write access to the database names a key of their own (and fixes the
    // digest and summary), without the old key to link it.
    let forged = Rotation {
        from: key().id(),
        to: "00112233445566778899aabbccddeeff"
            .parse::<KeyId>()
            .expect("id"),
        epoch: 1,
    };
    let json = serde_json::to_string(&forged).expect("json");
    let digest = Rotation::digest_of(&json);
    h.exec(&format!(
        "UPDATE decisions SET record = {}, digest = {}, granted = '{}' WHERE seq = 2",
        sql_text(&json),
        h.blob(digest.as_bytes()),
        forged.to
    ))
    .await;
    let b = broken_under(&s, &new_key).await;
    assert_eq!(b, Break::ForgedRotation(2));
    assert!(b.to_string().contains("record 2, a key rotation"), "{b}");

    // Put back, the rotation entry turned into something else: the records after it are
    // linked under a key nothing handed the log to.
    h.exec(&format!(
        "UPDATE decisions SET record = {}, digest = {}, granted = '{}' WHERE seq = 2",
        sql_text(entry.record_json.as_deref().expect("kept")),
        h.blob(entry.digest.as_bytes()),
        entry.summary.columns().granted
    ))
    .await;
    verify(&s, &new_key, None, |_| {})
        .await
        .expect("verifies again");
}

/// Someone who holds the new key but rewrites the log without its rotation entry: the records
/// after it are linked under a key that nothing handed the log to.
pub async fn a_missing_rotation_is_named<H: Harness>(h: &H) {
    let s = rotated_log(h).await;
    let new_key = rotated();
    let entries = s.scan(0, 10).await.expect("scan");
    let (first, after) = (&entries[0], &entries[2]);
    let mut moved = after.clone();
    moved.seq = 2;
    let link = new_key
        .log_keys()
        .current()
        .link(&first.link, moved.linked(&moved.summary.columns()));
    let head = new_key.log_keys().sign_head(2, link, 0, 0);
    h.exec(&format!(
        "DELETE FROM decisions WHERE seq >= 2;
         INSERT INTO decisions (seq, time, consent_id, record, digest, link, action, revision, granted, kind)
         VALUES (2, {}, {}, {}, {}, {}, '{}', {}, '{}', 'cookie');
         UPDATE chain_head SET seq = 2, link = {}, time = 0, mac = {} WHERE id = 1;",
        moved.time.unix_timestamp(),
        h.blob(moved.consent_id.expect("kept").as_bytes()),
        sql_text(moved.record_json.as_deref().expect("kept")),
        h.blob(moved.digest.as_bytes()),
        h.blob(link.as_bytes()),
        moved.summary.columns().action,
        moved.summary.columns().revision,
        moved.summary.columns().granted,
        h.blob(link.as_bytes()),
        h.blob(&head.mac),
    ))
    .await;
    let b = broken_under(&s, &new_key).await;
    assert_eq!(b, Break::UnannouncedKey { seq: 2, epoch: 1 });
    assert!(
        b.to_string().contains("rotation statement is missing"),
        "{b}"
    );
}

/// A key file that does not hold the key the log is under (a wrong or lost key file) appends
/// nothing and rotates nothing.
pub async fn a_log_under_a_key_the_file_lacks_is_left_alone<H: Harness>(h: &H) {
    h.store()
        .append(record(1, Action::AcceptAll, t0()))
        .await
        .expect("append");
    let stranger = ServerKey::new(&[0x77; 32]).expect("key");
    let s = h.reopen_with(&stranger).await.expect("opens to read");
    assert_eq!(s.len().await.expect("len"), 1);
    let refused = s.append(record(2, Action::AcceptAll, t0())).await;
    assert!(
        matches!(refused, Err(StoreError::ForeignHead)),
        "{refused:?}"
    );
    assert_eq!(broken_under(&s, &stranger).await, Break::HeadSignature);
    verify(&s, &key(), None, |_| {})
        .await
        .expect("still verifies under its own key");
}

fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
