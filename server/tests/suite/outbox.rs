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
