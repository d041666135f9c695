//! The outbox's cases of the store suite: confirmation messages survive a restart, are
//! handed out once, and are deleted when expired or past the bound.

use consent_server::register::outbox::{CAPACITY, Message};
use consent_server::store::{Log as _, Register as _};
use time::Duration;

use super::{Harness, t0};

fn message(to: &str, expires_in: Duration) -> Message {
    Message {
        id: 0,
        to: to.to_owned(),
        link: format!("https://klinikka.fi/register/confirm?token={to}"),
        expires: t0() + expires_in,
    }
}

fn recipients(messages: &[Message]) -> Vec<&str> {
    messages.iter().map(|m| m.to.as_str()).collect()
}

pub async fn the_outbox_survives_a_reopen_and_hands_each_message_out_once<H: Harness>(h: &H) {
    let s = h.store();
    let mut ids = Vec::new();
    for (to, hours) in [
        ("a@example.fi", 48),
        ("b@example.fi", 1),
        ("c@example.fi", 48),
    ] {
        ids.push(
            s.outbox_push(message(to, Duration::hours(hours)), t0())
                .await
                .expect("push"),
        );
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

    // A restart: another handle on the same database sees every message, oldest first.
    let reopened = h.reopen().await;
    let peeked = reopened.outbox_take(t0(), true).await.expect("peek");
    assert_eq!(
        recipients(&peeked),
        ["a@example.fi", "b@example.fi", "c@example.fi"]
    );
    assert_eq!(peeked.iter().map(|m| m.id).collect::<Vec<_>>(), ids);
    assert_eq!(peeked[0], {
        let mut m = message("a@example.fi", Duration::hours(48));
        m.id = ids[0];
        m
    });

    // A mailer that peeked removes what it sent, by id; once only.
    assert!(reopened.outbox_remove(ids[2]).await.expect("remove"));
    assert!(!reopened.outbox_remove(ids[2]).await.expect("remove again"));
    assert!(!reopened.outbox_remove(u64::MAX).await.expect("no such id"));

    // Two hours on, b's link has expired: it is not handed out, and it is deleted.
    let later = t0() + Duration::hours(2);
    let taken = s.outbox_take(later, false).await.expect("take");
    assert_eq!(recipients(&taken), ["a@example.fi"]);
    assert!(s.outbox_take(later, false).await.expect("again").is_empty());
    assert!(
        reopened
            .outbox_take(t0(), true)
            .await
            .expect("peek")
            .is_empty(),
        "b deleted"
    );
    // Ids are never reused, so a late DELETE cannot remove a newer message.
    let next = s
        .outbox_push(message("d@example.fi", Duration::hours(48)), later)
        .await
        .expect("push");
    assert!(next > ids[2], "{next} after {ids:?}");
    // The outbox is not the log.
    assert_eq!(s.len().await.expect("len"), 0);
}

pub async fn the_outbox_keeps_its_bound_and_drops_the_oldest<H: Harness>(h: &H) {
    let s = h.store();
    // CAPACITY messages written at once (SQL both databases read), far from expiring.
    let expires = (t0() + Duration::days(1)).unix_timestamp();
    h.exec(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {CAPACITY})
         INSERT INTO outbox (recipient, link, expires)
         SELECT 'old' || i || '@example.fi', 'https://klinikka.fi/', {expires} FROM n;"
    ))
    .await;
    s.outbox_push(message("new@example.fi", Duration::hours(48)), t0())
        .await
        .expect("push");
    let all = s.outbox_take(t0(), true).await.expect("peek");
    assert_eq!(all.len() as u64, CAPACITY);
    assert_eq!(all[0].to, "old2@example.fi", "the oldest went first");
    assert_eq!(all.last().map(|m| m.to.as_str()), Some("new@example.fi"));
}

/// An erased contact's confirmation links waiting for the mailer go with the erasure: the
/// outbox holds their address in clear, and a link sent afterwards would ask the erased
/// contact to subscribe again.
pub async fn erasure_deletes_the_contacts_waiting_messages<H: Harness>(h: &H) {
    use consent_core::Channel;
    use consent_core::register::Contact;
    use consent_server::register;
    let s = h.store();
    for to in ["maija@example.fi", "other@example.fi", "maija@example.fi"] {
        s.outbox_push(message(to, Duration::hours(48)), t0())
            .await
            .expect("push");
    }
    let maija = Contact::parse("Maija@Example.fi").expect("contact");
    let erased = register::erase(s, &super::key(), &maija, Channel::WebForm, None, t0())
        .await
        .expect("erase");
    assert_eq!(erased.messages, 2);
    let left = s.outbox_take(t0(), true).await.expect("peek");
    assert_eq!(recipients(&left), ["other@example.fi"]);
}

/// Rule 5's count is the store's: two handles on one database (two servers, or one started
/// again) share one contact's budget, three at once then one an hour, while another contact
/// has its own. Kept in each server's memory, every server sent its own three, and a
/// restart three more.
pub async fn one_contacts_messages_are_counted_by_every_server_alike<H: Harness>(h: &H) {
    use consent_core::register::Contact;
    use consent_server::register::outbox::{MESSAGE_EVERY, MESSAGES_PER_CONTACT};
    let key = super::key();
    let hash = |c: &str| key.contact_hash(&Contact::parse(c).expect("contact"));
    let (victim, other) = (hash("victim@example.fi"), hash("other@example.fi"));
    let (a, b) = (h.store(), h.reopen().await);
    let every = Duration::try_from(MESSAGE_EVERY).expect("an hour");
    assert_eq!(MESSAGES_PER_CONTACT, 3);
    let mut turns = Vec::new();
    for i in 0..6 {
        let s = if i % 2 == 0 { a } else { &b };
        turns.push(s.outbox_turn(victim, t0()).await.expect("turn"));
    }
    assert_eq!(turns, [true, true, true, false, false, false]);
    assert!(a.outbox_turn(other, t0()).await.expect("turn"), "its own");

    // A server started again still counts them; a minute short of an hour, none came back.
    let restarted = h.reopen().await;
    let almost = t0() + every - Duration::minutes(1);
    assert!(!restarted.outbox_turn(victim, almost).await.expect("turn"));
    // An hour on, one; then none until the next hour.
    let hour = t0() + every;
    assert!(b.outbox_turn(victim, hour).await.expect("turn"));
    assert!(!a.outbox_turn(victim, hour).await.expect("turn"));
    assert!(
        restarted
            .outbox_turn(victim, hour + every)
            .await
            .expect("turn")
    );
    // Once the budget is whole again, three at once.
    let whole = hour + every * 4;
    let turns = [
        a.outbox_turn(victim, whole).await.expect("turn"),
        b.outbox_turn(victim, whole).await.expect("turn"),
        restarted.outbox_turn(victim, whole).await.expect("turn"),
        a.outbox_turn(victim, whole).await.expect("turn"),
    ];
    assert_eq!(turns, [true, true, true, false]);
}

/// Turns taken at once from several handles for one contact on one database: exactly
/// [`MESSAGES_PER_CONTACT`](consent_server::register::outbox::MESSAGES_PER_CONTACT) of them
/// are granted, whichever handle asked, so servers racing cannot exceed the count.
pub async fn turns_taken_at_once_are_counted_once<H: Harness>(h: &H) {
    use consent_core::register::Contact;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let contact = super::key().contact_hash(&Contact::parse("victim@example.fi").expect("contact"));
    let handles = [h.reopen().await, h.reopen().await, h.reopen().await];
    let granted = AtomicUsize::new(0);
    let mut tasks = Vec::new();
    for s in &handles {
        for _ in 0..4 {
            let granted = &granted;
            tasks.push(async move {
                if s.outbox_turn(contact, t0()).await.expect("turn") {
                    granted.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    }
    super::futures_join_all(tasks).await;
    assert_eq!(granted.into_inner(), 3);
}
