//! Erasures on a log someone with write access to the database relabelled: the column that
//! names whose a record is (`consent_id`, `contact`) is not covered by its digest or link, so
//! an edit there put one person's record under another's name, and that other's erasure
//! took it, the edit's evidence with it, and named it in its entry as lawfully erased.
//! Every case runs on both stores.

use consent_core::policy::Action;
use consent_core::register::{Contact, MarketingKind};
use consent_core::{Channel, ConsentId};
use consent_server::store::{Corrupt, Log as _, Register as _, StoreError};
use consent_server::verify::{Break, VerifyError, verify};

use super::register::{contact, marketing};
use super::{Harness, key, record, t0};

/// The break `verify` names now.
async fn broken<H: Harness>(h: &H) -> Break {
    match verify(h.store(), &key(), None, |_| {}).await {
        Err(VerifyError::Broken(b)) => b,
        other => panic!("expected a break, got {other:?}"),
    }
}

pub async fn an_erasure_refuses_a_cookie_record_relabelled_as_its_own<H: Harness>(h: &H) {
    let s = h.store();
    for i in 1..=2u8 {
        s.append(record(i, Action::AcceptAll, t0()))
            .await
            .expect("append");
    }
    // Visitor 2's id on visitor 1's record.
    h.exec(&format!(
        "UPDATE decisions SET consent_id = {} WHERE seq = 1",
        h.blob(&[2; 16])
    ))
    .await;
    let before = broken(h).await;
    assert!(matches!(before, Break::Column { seq: 1, .. }), "{before:?}");
    let refused = s.erase(ConsentId::from_bytes([2; 16])).await;
    assert!(
        matches!(
            refused,
            Err(StoreError::Corrupt(Corrupt::NotItsOwn {
                seq: 1,
                column: "consent_id"
            }))
        ),
        "{refused:?}"
    );
    assert_eq!(broken(h).await, before, "the evidence stays");
    assert_eq!(s.len().await.expect("len"), 2, "no erasure entry");
    // The visitor's own erasure, on a log as written, still erases.
    h.exec(&format!(
        "UPDATE decisions SET consent_id = {} WHERE seq = 1",
        h.blob(&[1; 16])
    ))
    .await;
    assert_eq!(
        s.erase(ConsentId::from_bytes([2; 16]))
            .await
            .expect("erase"),
        1
    );
    verify(s, &key(), None, |_| {})
        .await
        .expect("a lawful erasure verifies");
}

pub async fn an_erasure_refuses_a_marketing_record_relabelled_as_the_contacts<H: Harness>(h: &H) {
    let s = h.store();
    // Maija objects; Matti consents, then asks to be erased.
    for r in [
        marketing("maija@example.fi", MarketingKind::Objection, 0),
        marketing("matti@example.fi", MarketingKind::Consent, 1),
    ] {
        s.append_marketing(r).await.expect("append");
    }
    h.exec(&format!(
        "UPDATE decisions SET contact = {} WHERE seq = 1",
        h.blob(&contact("matti@example.fi").to_bytes())
    ))
    .await;
    let before = broken(h).await;
    assert!(matches!(before, Break::Column { seq: 1, .. }), "{before:?}");
    let matti = Contact::parse("matti@example.fi").expect("contact");
    let refused = consent_server::register::erase(
        s,
        &key(),
        &matti,
        Channel::Phone,
        Some("desk-2".into()),
        t0() + time::Duration::days(1),
    )
    .await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("record 1") && e.to_string().contains("contact")),
        "{:?}",
        refused.map(|e| e.erased)
    );
    // Maija's objection is still hers to prove, and the edit still named.
    let history = s
        .contact_records(contact("maija@example.fi"))
        .await
        .expect("history");
    assert!(history.is_empty(), "relabelled, not erased");
    let entry = s.scan(0, 1).await.expect("scan").remove(0);
    assert!(
        entry.marketing_record().is_some(),
        "the objection's content stays"
    );
    assert!(matches!(broken(h).await, Break::Column { seq: 1, .. }));
}
