//! The customer register's cases of the store suite: marketing decisions in the same chain
//! as cookie decisions, duplicates, out-of-order decisions, latest states, the bulk check.

use consent_core::Channel;
use consent_core::policy::Action;
use consent_core::register::{
    Contact, ContactHash, MarketingChannel, MarketingKind, MarketingRecord, MarketingStatus, Staff,
    may_market,
};
use consent_server::register::list;
use consent_server::store::{
    EntryKind, Log as _, MarketingAppend, NothingLater, Register as _, Requests as _, Store,
};
use consent_server::verify::{Break, VerifyError, verify};
use time::OffsetDateTime;

use std::future::Future;

use super::{Harness, key, record, t0};

pub fn contact(s: &str) -> ContactHash {
    key().contact_hash(&Contact::parse(s).expect("valid contact"))
}

/// A marketing decision for `who` on e-mail, `minutes` after [`t0`].
pub fn marketing(who: &str, kind: MarketingKind, minutes: i64) -> MarketingRecord {
    marketing_on(MarketingChannel::Email, who, kind, minutes)
}

/// A marketing decision for `who` on `channel`, given by phone `minutes` after [`t0`].
pub fn marketing_on(
    channel: MarketingChannel,
    who: &str,
    kind: MarketingKind,
    minutes: i64,
) -> MarketingRecord {
    MarketingRecord::new(
        contact(who),
        channel,
        kind,
        t0() + time::Duration::minutes(minutes),
        Channel::Phone,
        Some("desk-1".parse::<Staff>().expect("staff")),
    )
    .expect("valid record")
}

async fn stored<S: Store>(s: &S, r: MarketingRecord) -> u64 {
    match s.append_marketing(r).await.expect("append") {
        MarketingAppend::Stored(a) => a.seq,
        other => panic!("expected stored, got {other:?}"),
    }
}

async fn status<S: Store>(s: &S, who: &str) -> Option<MarketingStatus> {
    let states = s
        .marketing_states(MarketingChannel::Email, vec![contact(who)])
        .await
        .expect("states");
    states[0].map(|(status, _)| status)
}

pub async fn marketing_decisions_share_the_chain<H: Harness>(h: &H) {
    let s = h.store();
    s.append(record(1, Action::AcceptAll, t0()))
        .await
        .expect("append");
    assert_eq!(
        stored(s, marketing("a@b.fi", MarketingKind::Consent, 0)).await,
        2
    );
    s.append(record(2, Action::RejectAll, t0()))
        .await
        .expect("append");
    assert_eq!(
        stored(s, marketing("a@b.fi", MarketingKind::Objection, 1)).await,
        4
    );
    let v = verify(s, &key(), None, |_| {}).await.expect("verifies");
    assert_eq!(v.entries, 4);
    let kinds: Vec<EntryKind> = s
        .scan(0, 10)
        .await
        .expect("scan")
        .iter()
        .map(|e| e.kind)
        .collect();
    use EntryKind::{Cookie, Marketing};
    assert_eq!(kinds, [Cookie, Marketing, Cookie, Marketing]);
    // Cookie statistics count cookie decisions only.
    let total: u64 = s
        .stats()
        .await
        .expect("stats")
        .iter()
        .map(|r| r.count)
        .sum();
    assert_eq!(total, 2);
    // The contact is never stored in clear.
    let all = s.scan(0, 10).await.expect("scan");
    assert!(
        all.iter()
            .all(|e| !e.record_json.as_deref().unwrap_or("").contains("a@b.fi"))
    );
    let history = s.contact_records(contact("a@b.fi")).await.expect("history");
    assert_eq!(history.iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 4]);
    let back = history[1].marketing_record().expect("kept").expect("json");
    assert_eq!(back.kind(), MarketingKind::Objection);
}

pub async fn a_duplicate_is_stored_once<H: Harness>(h: &H) {
    let s = h.store();
    let r = marketing("a@b.fi", MarketingKind::Consent, 0);
    assert_eq!(stored(s, r.clone()).await, 1);
    assert_eq!(
        s.append_marketing(r.clone()).await.expect("append"),
        MarketingAppend::Duplicate { seq: 1 }
    );
    // Sent many times at once (one batch, or racing batches): stored once.
    let mut tasks = Vec::new();
    let r2 = marketing("a@b.fi", MarketingKind::Withdrawal, 5);
    for _ in 0..16 {
        let s2 = h.reopen().await;
        let r2 = r2.clone();
        tasks.push(tokio::spawn(async move { s2.append_marketing(r2).await }));
    }
    let mut seqs = Vec::new();
    let mut stored_count = 0;
    for t in tasks {
        match t.await.expect("join").expect("append") {
            MarketingAppend::Stored(a) => {
                stored_count += 1;
                seqs.push(a.seq);
            }
            MarketingAppend::Duplicate { seq } => seqs.push(seq),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(stored_count, 1);
    assert!(seqs.iter().all(|s| *s == 2), "{seqs:?}");
    assert_eq!(s.len().await.expect("len"), 2);
    verify(s, &key(), None, |_| {}).await.expect("verifies");
}

pub async fn an_out_of_order_decision_is_refused<H: Harness>(h: &H) {
    let s = h.store();
    stored(s, marketing("a@b.fi", MarketingKind::Objection, 10)).await;
    let late = s
        .append_marketing(marketing("a@b.fi", MarketingKind::Consent, 5))
        .await
        .expect("append");
    assert_eq!(
        late,
        MarketingAppend::OutOfOrder {
            latest: t0() + time::Duration::minutes(10)
        }
    );
    assert_eq!(s.len().await.expect("len"), 1);
    assert_eq!(status(s, "a@b.fi").await, Some(MarketingStatus::Objected));
    // Another contact, or another channel, is not held back by it.
    stored(s, marketing("c@d.fi", MarketingKind::Consent, 5)).await;
    let post = MarketingRecord::new(
        contact("a@b.fi"),
        MarketingChannel::Post,
        MarketingKind::Consent,
        t0(),
        Channel::WebForm,
        None,
    )
    .expect("valid");
    stored(s, post).await;
}

/// A conditional append (a confirmed sign-up's) is refused once the log holds a decision for
/// its contact, on a channel the condition names, after the position the condition names:
/// a refusal recorded after the sign-up was read stands, whenever it reached the writer.
pub async fn a_conditional_append_is_refused_after_a_later_decision<H: Harness>(h: &H) {
    use MarketingChannel::{Email, Post};
    use MarketingKind::{Consent, Refusal, SoftOptIn};
    let s = h.store();
    let since = |after, channels: &[MarketingChannel]| NothingLater {
        after,
        channels: channels.to_vec(),
    };
    stored(s, marketing("a@b.fi", SoftOptIn, 0)).await;
    // The sign-up read the log at 1; then staff recorded a refusal.
    let refused = stored(s, marketing("a@b.fi", Refusal, 1)).await;
    let consent = marketing("a@b.fi", Consent, 1);
    assert_eq!(
        s.append_marketing_if(vec![consent], since(1, &[Email]))
            .await
            .expect("append"),
        [MarketingAppend::Superseded { seq: refused }]
    );
    assert_eq!(status(s, "a@b.fi").await, Some(MarketingStatus::Refused));
    assert_eq!(s.len().await.expect("len"), 2);
    // A decision on a channel the condition names refuses it too; one on another does not.
    stored(s, marketing_on(Post, "c@d.fi", Refusal, 0)).await;
    let other = marketing("c@d.fi", Consent, 1);
    assert_eq!(
        s.append_marketing_if(vec![other.clone()], since(2, &[Email, Post]))
            .await
            .expect("append"),
        [MarketingAppend::Superseded { seq: 3 }]
    );
    let first = match s
        .append_marketing_if(vec![other.clone()], since(2, &[Email]))
        .await
        .expect("append")[..]
    {
        [MarketingAppend::Stored(a)] => a.seq,
        ref landed => panic!("expected stored, got {landed:?}"),
    };
    // The very same append again is refused by its first copy, not taken as a duplicate.
    assert_eq!(
        s.append_marketing_if(vec![other], since(2, &[Email]))
            .await
            .expect("append"),
        [MarketingAppend::Superseded { seq: first }]
    );
    verify(s, &key(), None, |_| {}).await.expect("verifies");
}

/// A conditional append of several records (a confirmed sign-up's, one per channel) stores
/// all of them or none: the condition is judged for every record before any is appended, and
/// a record the writer refuses takes the ones before it back out of the transaction.
pub async fn a_conditional_append_of_several_records_is_all_or_none<H: Harness>(h: &H) {
    use MarketingChannel::{Email, Post};
    use MarketingKind::{Consent, Refusal, SoftOptIn};
    let s = h.store();
    let both = |after| NothingLater {
        after,
        channels: vec![Email, Post],
    };
    let answers = |landed: Vec<MarketingAppend>| {
        landed
            .into_iter()
            .map(|a| match a {
                MarketingAppend::Stored(a) => a.seq,
                other => panic!("expected stored, got {other:?}"),
            })
            .collect::<Vec<_>>()
    };
    // The sign-up read the log at 1; then staff recorded a refusal on the second channel.
    stored(s, marketing("a@b.fi", SoftOptIn, 0)).await;
    let refused = stored(s, marketing_on(Post, "a@b.fi", Refusal, 1)).await;
    let group = vec![
        marketing("a@b.fi", Consent, 2),
        marketing_on(Post, "a@b.fi", Consent, 2),
    ];
    assert_eq!(
        s.append_marketing_if(group, both(1)).await.expect("append"),
        vec![MarketingAppend::Superseded { seq: refused }; 2]
    );
    assert_eq!(s.len().await.expect("len"), 2);
    assert_eq!(status(s, "a@b.fi").await, Some(MarketingStatus::SoftOptIn));

    // The condition holds, but the writer refuses the second record (older than the latest
    // decision on its channel): the first, already chained in the transaction, goes too.
    let late = stored(s, marketing_on(Post, "c@d.fi", Refusal, 30)).await;
    let group = vec![
        marketing("c@d.fi", Consent, 10),
        marketing_on(Post, "c@d.fi", Consent, 10),
    ];
    let landed = s.append_marketing_if(group, both(late)).await;
    let out_of_order = MarketingAppend::OutOfOrder {
        latest: t0() + time::Duration::minutes(30),
    };
    assert_eq!(landed.expect("append"), vec![out_of_order; 2]);
    assert_eq!(s.len().await.expect("len"), 3);
    assert_eq!(status(s, "c@d.fi").await, None);

    // Both in one go, at consecutive positions, then the chain goes on from the last.
    let group = vec![
        marketing("c@d.fi", Consent, 40),
        marketing_on(Post, "c@d.fi", Consent, 40),
    ];
    let landed = s.append_marketing_if(group.clone(), both(late)).await;
    assert_eq!(answers(landed.expect("append")), [late + 1, late + 2]);
    assert_eq!(status(s, "c@d.fi").await, Some(MarketingStatus::Consented));
    // Its own records are decisions after the position (the first found on e-mail): the
    // same group again is refused.
    assert_eq!(
        s.append_marketing_if(group, both(late))
            .await
            .expect("append"),
        vec![MarketingAppend::Superseded { seq: late + 1 }; 2]
    );
    assert!(
        s.append_marketing_if(Vec::new(), both(0))
            .await
            .expect("append")
            .is_empty()
    );
    stored(s, marketing("e@f.fi", SoftOptIn, 50)).await;
    assert_eq!(s.len().await.expect("len"), 6);
    verify(s, &key(), None, |_| {}).await.expect("verifies");
}

/// A test of a batch the caller holds the writer on (its one append waits for a lock the
/// store's own test holds), after [`before_a_held_batch`].
#[derive(Clone, Copy, Debug)]
pub enum HeldBatch {
    /// [`a_refused_group_in_a_held_batch`].
    RefusedGroup,
    /// [`a_refused_group_teaches_its_batch_nothing`].
    TeachesNothing,
}

impl HeldBatch {
    /// Runs the test on `s`; `release` lets the held batch go on.
    pub async fn run<S: Store>(self, s: &S, release: impl Future<Output = ()>) {
        match self {
            HeldBatch::RefusedGroup => a_refused_group_in_a_held_batch(s, release).await,
            HeldBatch::TeachesNothing => {
                a_refused_group_teaches_its_batch_nothing(s, release).await;
            }
        }
    }
}

/// For [`a_refused_group_in_a_held_batch`]: a decision on post for `late@b.fi`, half an hour
/// after [`t0`], stored before the writer is held (at position 1).
pub async fn before_a_held_batch<S: Store>(s: &S) {
    let post = marketing_on(
        MarketingChannel::Post,
        "late@b.fi",
        MarketingKind::Refusal,
        30,
    );
    assert_eq!(stored(s, post).await, 1);
}

/// A confirmation refused in the middle of a batch (one transaction) takes back only its own
/// records: the appends before and after it, and the chain, stay whole.
///
/// The caller holds the writer on a batch with one append (at position 2); the appends queued
/// here meanwhile (a lone decision, a confirmation refused on its second record, older than
/// [`before_a_held_batch`]'s decision, a confirmation stored, a cookie decision) make its next
/// batches, in this order, once `release` lets it go on.
pub async fn a_refused_group_in_a_held_batch<S: Store>(s: &S, release: impl Future<Output = ()>) {
    // Every test crate with the suite has the support module too.
    use crate::support::writer::queue;
    use MarketingChannel::{Email, Post};
    use MarketingKind::Consent;
    let group = |who: &str| {
        vec![
            marketing(who, Consent, 10),
            marketing_on(Post, who, Consent, 10),
        ]
    };
    let condition = || NothingLater {
        after: 1,
        channels: vec![Email, Post],
    };
    let mut lone = std::pin::pin!(s.append_marketing(marketing("lone@b.fi", Consent, 10)));
    queue(lone.as_mut()).await;
    let mut refused = std::pin::pin!(s.append_marketing_if(group("late@b.fi"), condition()));
    queue(refused.as_mut()).await;
    let mut confirmed = std::pin::pin!(s.append_marketing_if(group("ok@b.fi"), condition()));
    queue(confirmed.as_mut()).await;
    let mut cookie = std::pin::pin!(s.append(record(7, Action::AcceptAll, t0())));
    queue(cookie.as_mut()).await;
    release.await;
    let (lone, refused, confirmed, cookie) = tokio::join!(lone, refused, confirmed, cookie);
    assert!(
        matches!(lone, Ok(MarketingAppend::Stored(a)) if a.seq == 3),
        "{lone:?}"
    );
    let out_of_order = MarketingAppend::OutOfOrder {
        latest: t0() + time::Duration::minutes(30),
    };
    assert_eq!(refused.expect("append"), vec![out_of_order; 2]);
    let seqs: Vec<_> = confirmed
        .expect("append")
        .into_iter()
        .map(|a| match a {
            MarketingAppend::Stored(a) => a.seq,
            other => panic!("expected stored, got {other:?}"),
        })
        .collect();
    assert_eq!(seqs, [4, 5]);
    assert_eq!(cookie.expect("append").seq, 6);
    assert_eq!(status(s, "late@b.fi").await, None);
    assert_eq!(status(s, "ok@b.fi").await, Some(MarketingStatus::Consented));
    assert_eq!(s.len().await.expect("len"), 6);
    verify(s, &key(), None, |_| {}).await.expect("verifies");
}

pub async fn latest_states_follow_the_rules<H: Harness>(h: &H) {
    let s = h.store();
    use MarketingKind::*;
    stored(s, marketing("a@b.fi", Objection, 0)).await;
    stored(s, marketing("a@b.fi", SoftOptIn, 1)).await;
    assert_eq!(status(s, "a@b.fi").await, Some(MarketingStatus::Objected));
    stored(s, marketing("a@b.fi", Consent, 2)).await;
    assert_eq!(status(s, "a@b.fi").await, Some(MarketingStatus::Consented));
    stored(s, marketing("c@d.fi", Refusal, 0)).await;
    stored(s, marketing("c@d.fi", SoftOptIn, 3)).await;
    let states = s
        .marketing_states(
            MarketingChannel::Email,
            vec![contact("c@d.fi"), contact("nobody@x.fi"), contact("a@b.fi")],
        )
        .await
        .expect("states");
    assert_eq!(
        states,
        [
            Some((MarketingStatus::Refused, t0())),
            None,
            Some((
                MarketingStatus::Consented,
                t0() + time::Duration::minutes(2)
            )),
        ]
    );
    // The state agrees with the core's fold of the contact's history.
    for who in ["a@b.fi", "c@d.fi"] {
        let history: Vec<MarketingRecord> = s
            .contact_records(contact(who))
            .await
            .expect("history")
            .iter()
            .map(|e| e.marketing_record().expect("kept").expect("json"))
            .collect();
        let folded = may_market(
            &history,
            MarketingChannel::Email,
            t0() + time::Duration::days(1),
        );
        assert_eq!(folded.status(), status(s, who).await);
    }
    // A reopened store (another process) reads the same states.
    let other = h.reopen().await;
    assert_eq!(
        status(&other, "a@b.fi").await,
        Some(MarketingStatus::Consented)
    );
}

pub async fn concurrent_decisions_keep_state_and_chain<H: Harness>(h: &H) {
    // Two writers (as two application servers) record decisions for the same contacts.
    let kinds = [
        MarketingKind::Consent,
        MarketingKind::Objection,
        MarketingKind::SoftOptIn,
        MarketingKind::Withdrawal,
    ];
    let mut tasks = Vec::new();
    for w in 0..2i64 {
        let s = h.reopen().await;
        tasks.push(tokio::spawn(async move {
            for i in 0..20i64 {
                let who = format!("p{}@x.fi", i % 4);
                let kind = kinds[((i + w) % 4) as usize];
                // Same minute from both writers: neither is out of order.
                let _ = s
                    .append_marketing(marketing(&who, kind, i))
                    .await
                    .expect("append");
            }
        }));
    }
    for t in tasks {
        t.await.expect("join");
    }
    let s = h.store();
    verify(s, &key(), None, |_| {}).await.expect("verifies");
    for i in 0..4 {
        let who = format!("p{i}@x.fi");
        let history: Vec<MarketingRecord> = s
            .contact_records(contact(&who))
            .await
            .expect("history")
            .iter()
            .map(|e| e.marketing_record().expect("kept").expect("json"))
            .collect();
        assert!(history.windows(2).all(|w| w[0].time() <= w[1].time()));
        let folded = may_market(
            &history,
            MarketingChannel::Email,
            t0() + time::Duration::days(1),
        );
        assert_eq!(folded.status(), status(s, &who).await, "{who}");
    }
}

pub async fn an_edited_marketing_record_is_named<H: Harness>(h: &H) {
    let s = h.store();
    stored(s, marketing("a@b.fi", MarketingKind::Consent, 0)).await;
    stored(s, marketing("a@b.fi", MarketingKind::Objection, 1)).await;
    h.exec("UPDATE decisions SET record = replace(record, 'objection', 'consent') WHERE seq = 2")
        .await;
    let err = verify(s, &key(), None, |_| {}).await.expect_err("broken");
    assert!(
        matches!(err, VerifyError::Broken(Break::Digest(2))),
        "{err}"
    );
}

pub async fn the_bulk_check_names_who_may_not_be_contacted<H: Harness>(h: &H) {
    let s = h.store();
    use MarketingKind::*;
    stored(s, marketing("yes@x.fi", Consent, 0)).await;
    stored(s, marketing("no@x.fi", Consent, 0)).await;
    stored(s, marketing("no@x.fi", Objection, 1)).await;
    let csv = "email,name\nYES@x.fi,A\nno@x.fi,B\nnew@x.fi,C\nnot an address,D\n0401234567,E\n";
    let rows = list::read(csv.as_bytes(), None).expect("csv");
    let now = OffsetDateTime::now_utc();
    let flagged = list::check(s, &key(), MarketingChannel::Email, rows, now)
        .await
        .expect("check");
    let got: Vec<(u64, String)> = flagged
        .iter()
        .map(|f| (f.line, format!("{} {}", f.address, f.reason)))
        .collect();
    assert_eq!(
        got,
        [
            (3, "no@x.fi objected".to_owned()),
            (4, "new@x.fi no_decision".to_owned()),
            (
                5,
                "not an address malformed: contact: neither an e-mail address (no @) nor a phone number".to_owned(),
            ),
            (6, "0401234567 wrong_channel: a phone number".to_owned()),
        ]
    );
}

pub async fn erasure_suppresses_and_keeps_the_chain<H: Harness>(h: &H) {
    use consent_server::register;
    let s = h.store();
    let maija = Contact::parse("maija@example.fi").expect("contact");
    stored(s, marketing("maija@example.fi", MarketingKind::Consent, 0)).await;
    let post = MarketingRecord::new(
        contact("maija@example.fi"),
        MarketingChannel::Post,
        MarketingKind::Consent,
        t0(),
        Channel::WebForm,
        None,
    )
    .expect("valid");
    stored(s, post).await;
    stored(s, marketing("other@example.fi", MarketingKind::Consent, 0)).await;
    let now = t0() + time::Duration::days(1);
    let erased = register::erase(
        s,
        &key(),
        &maija,
        Channel::Phone,
        Some("desk-2".into()),
        now,
    )
    .await
    .expect("erase");
    assert_eq!(erased.erased, 2);
    assert_eq!(erased.suppressed_at, 5);
    for channel in [MarketingChannel::Email, MarketingChannel::Post] {
        let a = register::may_market(s, &key(), &maija, channel, now)
            .await
            .expect("check");
        assert_eq!(a.status(), Some(MarketingStatus::Suppressed), "{channel}");
    }
    // Only the suppressions keep the contact's hash; the other customer is untouched.
    let left: Vec<MarketingKind> = s
        .contact_records(contact("maija@example.fi"))
        .await
        .expect("history")
        .iter()
        .map(|e| e.marketing_record().expect("kept").expect("json").kind())
        .collect();
    assert_eq!(
        left,
        [MarketingKind::Suppression, MarketingKind::Suppression]
    );
    assert_eq!(
        status(s, "other@example.fi").await,
        Some(MarketingStatus::Consented)
    );
    let v = verify(s, &key(), None, |_| {}).await.expect("verifies");
    // Five decisions and the erasure entry that names the two erased.
    assert_eq!((v.entries, v.erased), (6, 2));
    // An old consent sent again cannot undo the suppression; a new one can.
    let old = s
        .append_marketing(marketing("maija@example.fi", MarketingKind::Consent, 0))
        .await
        .expect("append");
    assert!(matches!(old, MarketingAppend::OutOfOrder { .. }), "{old:?}");
    stored(
        s,
        marketing("maija@example.fi", MarketingKind::Consent, 60 * 48),
    )
    .await;
    assert_eq!(
        status(s, "maija@example.fi").await,
        Some(MarketingStatus::Consented)
    );
}

pub async fn requests_follow_their_deadline<H: Harness>(h: &H) {
    use consent_core::requests::{Identity, Outcome, RequestKind};
    use consent_server::register::requests::{self, Request, RequestError, Subject, Update};
    use time::macros::date;
    let s = h.store();
    let today = date!(2026 - 11 - 22);
    let new = |kind, received| Request {
        id: 0,
        kind,
        subject: Subject::Contact(contact("maija@example.fi")),
        received,
        extended: false,
        identity: Identity::Pending,
        staff: "desk-1".parse().expect("staff"),
        closed: None,
    };
    let late = s
        .insert_request(new(RequestKind::Access, date!(2026 - 10 - 10)))
        .await
        .expect("insert");
    let fresh = s
        .insert_request(new(RequestKind::Erasure, date!(2026 - 11 - 20)))
        .await
        .expect("insert");
    assert_eq!((late, fresh), (1, 2));
    let open = s.requests(true).await.expect("list");
    let overdue: Vec<u64> = open
        .iter()
        .filter(|r| r.is_overdue(today))
        .map(|r| r.id)
        .collect();
    assert_eq!(overdue, [1]);
    assert_eq!(open[0].days_left(today), -12);
    assert_eq!(open[1].deadline(), date!(2026 - 12 - 20));

    let complete = Update {
        close: Some((Outcome::Completed, today)),
        ..Update::default()
    };
    let err = requests::update(s, 1, complete, today)
        .await
        .expect_err("identity first");
    assert!(matches!(err, RequestError::IdentityUnchecked(1)), "{err}");
    let err = requests::update(s, 7, complete, today)
        .await
        .expect_err("unknown");
    assert_eq!(err.to_string(), "request 7: no such request");
    let late_extension = Update {
        extend: true,
        ..Update::default()
    };
    let err = requests::update(s, 1, late_extension, today)
        .await
        .expect_err("too late");
    assert!(matches!(err, RequestError::LateExtension(1)), "{err}");
    let extended = requests::update(s, 2, late_extension, today)
        .await
        .expect("extend");
    assert_eq!(extended.deadline(), date!(2027 - 02 - 20));
    let checked = Update {
        identity: Some(Identity::InPerson),
        close: Some((Outcome::Completed, today)),
        ..Update::default()
    };
    let closed = requests::update(s, 1, checked, today).await.expect("close");
    assert_eq!(closed.closed, Some((Outcome::Completed, today)));
    let err = requests::update(s, 1, checked, today)
        .await
        .expect_err("closed");
    assert!(matches!(err, RequestError::Closed(1)), "{err}");

    let other = h.reopen().await;
    let open: Vec<u64> = other
        .requests(true)
        .await
        .expect("list")
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(open, [2]);
    let all = other.requests(false).await.expect("list");
    assert_eq!(all.len(), 2);
    assert_eq!(all[0], closed);
    assert!(all[1].extended);
}

pub async fn access_exports_everything_held<H: Harness>(h: &H) {
    use consent_core::Lang;
    use consent_server::register::access;
    let s = h.store();
    let maija = Contact::parse("maija@example.fi").expect("contact");
    stored(s, marketing("maija@example.fi", MarketingKind::Consent, 0)).await;
    stored(
        s,
        marketing("maija@example.fi", MarketingKind::Objection, 1),
    )
    .await;
    stored(s, marketing("other@example.fi", MarketingKind::Consent, 0)).await;
    let now = t0() + time::Duration::days(1);
    let a = access::for_contact(s, &key(), &maija, now)
        .await
        .expect("access");
    let json = a.to_json();
    assert_eq!(json["contact"], "maija@example.fi");
    assert_eq!(json["records"].as_array().map(Vec::len), Some(2));
    assert_eq!(json["records"][1]["record"]["kind"], "objection");
    assert_eq!(json["marketing"][0]["status"], "objected");
    assert_eq!(json["marketing"][1]["channel"], "post");
    let fi = a.to_html(Lang::Fi);
    assert!(fi.contains("<html lang=\"fi\">"), "{fi}");
    assert!(fi.contains("Sinusta tallennetut suostumustiedot"));
    assert!(fi.contains("kind: objection"));
    assert!(!fi.contains("other@example.fi"));
    assert!(a.to_html(Lang::Sv).contains("Samtyckesuppgifter"));
    assert!(a.to_html(Lang::En).contains("Consent data held about you"));
    let nobody = Contact::parse("nobody@example.fi").expect("contact");
    assert!(
        access::for_contact(s, &key(), &nobody, now)
            .await
            .expect("access")
            .is_empty()
    );
}

/// What a confirmation refused in the middle of a batch had judged of its own records goes
/// with them, and what a confirmation stored in it had judged stays: the appends after each
/// in the same batch are judged against the log as it will be committed.
///
/// The caller holds the writer on a batch with one append (at position 2), as for
/// [`a_refused_group_in_a_held_batch`], after [`before_a_held_batch`]. Eight appends are
/// queued meanwhile; the writer's next batch takes half of those in play with the held one
/// (five): the confirmation of `late@b.fi`, refused on post after its e-mail consent (10
/// minutes) was chained, then on e-mail an earlier refusal (5 minutes) and the
/// confirmation's own e-mail consent, then one link of `twin@b.fi` confirmed twice (a double
/// click). Had the batch kept the refused e-mail consent, the refusal would be out of order
/// and the consent a duplicate of a record that is not there; had it forgotten the first
/// confirmation of the twin link, the second would be stored too.
pub async fn a_refused_group_teaches_its_batch_nothing<S: Store>(
    s: &S,
    release: impl Future<Output = ()>,
) {
    use crate::support::writer::queue;
    use MarketingChannel::{Email, Post};
    use MarketingKind::{Consent, Refusal};
    // A confirmation of `contact`'s sign-up on two channels, made at 10.
    let confirm = |contact: &'static str| {
        let group = vec![
            marketing(contact, Consent, 10),
            marketing_on(Post, contact, Consent, 10),
        ];
        let condition = NothingLater {
            after: 1,
            channels: vec![Email, Post],
        };
        s.append_marketing_if(group, condition)
    };
    let mut refused = std::pin::pin!(confirm("late@b.fi"));
    queue(refused.as_mut()).await;
    let mut earlier = std::pin::pin!(s.append_marketing(marketing("late@b.fi", Refusal, 5)));
    queue(earlier.as_mut()).await;
    let mut again = std::pin::pin!(s.append_marketing(marketing("late@b.fi", Consent, 10)));
    queue(again.as_mut()).await;
    let mut twin1 = std::pin::pin!(confirm("twin@b.fi"));
    queue(twin1.as_mut()).await;
    let mut twin2 = std::pin::pin!(confirm("twin@b.fi"));
    queue(twin2.as_mut()).await;
    let mut cookie = std::pin::pin!(s.append(record(7, Action::AcceptAll, t0())));
    queue(cookie.as_mut()).await;
    let mut next = std::pin::pin!(s.append(record(8, Action::RejectAll, t0())));
    queue(next.as_mut()).await;
    let mut last = std::pin::pin!(s.append_marketing(marketing("next@b.fi", Consent, 10)));
    queue(last.as_mut()).await;
    release.await;
    let (refused, earlier, again, twin1, twin2, cookie, next, last) =
        tokio::join!(refused, earlier, again, twin1, twin2, cookie, next, last);
    let out_of_order = MarketingAppend::OutOfOrder {
        latest: t0() + time::Duration::minutes(30),
    };
    assert_eq!(refused.expect("append"), vec![out_of_order; 2]);
    let seq = |landed: Result<MarketingAppend, _>| match landed.expect("append") {
        MarketingAppend::Stored(a) => a.seq,
        other => panic!("expected stored, got {other:?}"),
    };
    assert_eq!(seq(earlier), 3);
    assert_eq!(seq(again), 4);
    let twin1: Vec<_> = twin1
        .expect("append")
        .into_iter()
        .map(Ok)
        .map(seq)
        .collect();
    assert_eq!(twin1, [5, 6]);
    assert_eq!(
        twin2.expect("append"),
        vec![MarketingAppend::Superseded { seq: 5 }; 2]
    );
    assert_eq!(cookie.expect("append").seq, 7);
    assert_eq!(next.expect("append").seq, 8);
    assert_eq!(seq(last), 9);
    // Every acknowledged record is there, and nothing of the confirmation.
    let held: Vec<_> = s
        .contact_records(contact("late@b.fi"))
        .await
        .expect("records")
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(held, [1, 3, 4]);
    assert_eq!(
        status(s, "late@b.fi").await,
        Some(MarketingStatus::Consented)
    );
    assert_eq!(
        s.contact_records(contact("twin@b.fi"))
            .await
            .expect("records")
            .len(),
        2
    );
    assert_eq!(s.len().await.expect("len"), 9);
    verify(s, &key(), None, |_| {}).await.expect("verifies");
    // The writer's next batch goes on from the head it signed.
    assert_eq!(
        s.append(record(9, Action::AcceptAll, t0()))
            .await
            .expect("append")
            .seq,
        10
    );
    verify(s, &key(), None, |_| {}).await.expect("verifies");
}
