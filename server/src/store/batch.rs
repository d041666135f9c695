//! Group commit, written once for both stores: how appends reach a store's one writer, how
//! the writer takes them into batches, and how each append is answered.
//!
//! The SQLite writer is a thread and the PostgreSQL writer a task, so each waits for its first
//! append its own way ([`Batches::wait_blocking`], [`Batches::wait`]); everything else is
//! here.

use tokio::sync::{mpsc, oneshot};

use consent_core::register::MarketingRecord;

use super::{Cause, Doing, MarketingAppend, NothingLater, Prepared, StoreError};

/// Where an append's answer goes: one answer per record of its [`Job`], in order.
pub(crate) type Reply = oneshot::Sender<Result<Vec<MarketingAppend>, StoreError>>;

/// Records on their way to the writer, appended together or not at all: one record (every
/// cookie decision, a lone marketing decision), or a confirmed sign-up's consents, one per
/// channel ([`Register::append_marketing_if`](super::Register::append_marketing_if)).
pub(crate) struct Job {
    /// The records, in the order they are chained.
    pub(crate) records: Vec<Prepared>,
    /// Judged for every record's contact before any of them is appended (when there is one).
    pub(crate) condition: Option<NothingLater>,
    reply: Reply,
}

/// The sending side of a store's writer queue.
pub(crate) type Appends = mpsc::UnboundedSender<Job>;

/// Hands prepared records to the writer, to be appended in one transaction, all or none, if
/// `condition` holds (when there is one), and waits for what became of each. A lone record
/// travels in a `Vec` of one too: one small allocation beside its JSON, for one path through
/// the writer.
///
/// # Errors
/// [`StoreError::Closed`] when the writer has shut down, or the writer's error.
pub(crate) async fn submit(
    appends: &Appends,
    records: Vec<Prepared>,
    condition: Option<NothingLater>,
) -> Result<Vec<MarketingAppend>, StoreError> {
    let (reply, rx) = oneshot::channel();
    let job = Job {
        records,
        condition,
        reply,
    };
    appends.send(job).map_err(|_| StoreError::Closed)?;
    rx.await.map_err(|_| StoreError::Closed)?
}

/// Hands one record to the writer, unconditionally; what became of it.
///
/// # Errors
/// As [`submit`].
pub(crate) async fn submit_one(
    appends: &Appends,
    p: Prepared,
) -> Result<MarketingAppend, StoreError> {
    let mut answers = submit(appends, vec![p], None).await?;
    // The writer answers each record of a job: one here.
    answers
        .pop()
        .ok_or(StoreError::Database(Cause::only(Doing::Judge)))
}

/// Hands marketing decisions to the writer, appended together or not at all, only if
/// `condition` holds (when there is one); what became of each.
///
/// # Errors
/// As [`submit`], and why a record could not be prepared ([`Prepared::marketing`]).
pub(crate) async fn submit_marketing(
    appends: &Appends,
    records: &[MarketingRecord],
    condition: Option<NothingLater>,
) -> Result<Vec<MarketingAppend>, StoreError> {
    let prepared = records
        .iter()
        .map(Prepared::marketing)
        .collect::<Result<Vec<_>, _>>()?;
    submit(appends, prepared, condition).await
}

/// A batch the writer is done with: the appends and what became of them.
pub(crate) struct Settled {
    batch: Vec<Job>,
    /// One answer per record of the batch's jobs, in order.
    result: Result<Vec<MarketingAppend>, StoreError>,
}

impl Settled {
    /// Answers every append of the batch, in order, and drops the records.
    pub(crate) fn answer(self) {
        match self.result {
            Ok(appended) => {
                let mut appended = appended.into_iter();
                for job in self.batch {
                    let answers = appended.by_ref().take(job.records.len()).collect();
                    let _ = job.reply.send(Ok(answers));
                }
            }
            Err(e) => {
                for job in self.batch {
                    let _ = job.reply.send(Err(e.clone()));
                }
            }
        }
    }
}

/// The writer's side of the queue: the batch it commits next, and the one it committed last,
/// not yet answered. A writer loops: [`turn`](Self::turn), then, when that gave an empty
/// batch, [`wait`](Self::wait) (or [`wait_blocking`](Self::wait_blocking)), then commits
/// [`batch`](Self::batch) and [`settle`](Self::settle)s it.
pub(crate) struct Batches {
    rx: mpsc::UnboundedReceiver<Job>,
    batch: Vec<Job>,
    settled: Option<Settled>,
    /// The size of the batch committed last, as [`take_waiting`] weighs it.
    last: usize,
    max: usize,
}

impl Batches {
    /// The queue `rx`, taken up to `max` appends a batch.
    pub(crate) fn new(rx: mpsc::UnboundedReceiver<Job>, max: usize) -> Self {
        Self {
            rx,
            batch: Vec::new(),
            settled: None,
            last: 0,
            max,
        }
    }

    /// Takes the appends waiting into the next batch, *then* hands the batch committed last to
    /// `answer` ([`take_waiting`] says why in that order). Whether the next batch has anything.
    pub(crate) fn turn(&mut self, answer: impl FnOnce(Settled)) -> bool {
        self.last = self.settled.as_ref().map_or(0, |s| s.batch.len());
        take_waiting(&mut self.rx, &mut self.batch, self.last, self.max);
        if let Some(done) = self.settled.take() {
            answer(done);
        }
        !self.batch.is_empty()
    }

    /// Waits for an append on an empty batch, then takes the others waiting. `false` when
    /// every sender is gone: the writer stops.
    pub(crate) async fn wait(&mut self) -> bool {
        match self.rx.recv().await {
            Some(job) => self.first(job),
            None => false,
        }
    }

    /// [`wait`](Self::wait) for a writer thread outside the runtime.
    pub(crate) fn wait_blocking(&mut self) -> bool {
        match self.rx.blocking_recv() {
            Some(job) => self.first(job),
            None => false,
        }
    }

    fn first(&mut self, job: Job) -> bool {
        self.batch.push(job);
        take_waiting(&mut self.rx, &mut self.batch, self.last, self.max);
        true
    }

    /// The batch to commit.
    pub(crate) fn batch(&self) -> &[Job] {
        &self.batch
    }

    /// Records what became of the batch (one answer per record of its jobs, in order): it is
    /// answered after the next one is taken.
    pub(crate) fn settle(&mut self, result: Result<Vec<MarketingAppend>, StoreError>) {
        // The next batch is about as large as this one: sized once instead of grown.
        let next = Vec::with_capacity(self.batch.len());
        self.settled = Some(Settled {
            batch: std::mem::replace(&mut self.batch, next),
            result,
        });
    }
}

/// Moves waiting appends into the writer's next `batch` (which may hold some already),
/// without waiting for any: as many as [`batch_limit`] allows, given the size of the batch
/// before (`last`).
///
/// Group commit, and how a writer keeps its batches in turn: the writer takes its next batch
/// *before* it answers the batch it just committed, and takes at most half of the appends in
/// play. Taking every waiting append after answering, the obvious rule, lets a busy log fall
/// into one of two poor rhythms, in which the callers' work and the commits do not overlap:
///
/// 1. Every caller is in every batch. The callers just answered encode their next records
///    while the writer (on a busy machine, waiting for a CPU itself) has not yet looked for
///    work; it then finds all of them and commits them together, and sits idle while they
///    all prepare their next records again. Taking the next batch before answering the last
///    means a batch's callers can never be in the batch right after it.
/// 2. A large batch alternates with a tiny one: the callers of the large one are still
///    preparing when the writer looks, so it commits the few already there and pays a whole
///    commit (an `fsync`) for them. Taking at most half of the waiting appends plus those of
///    the last batch (which come back once answered) when the queue grows breaks this up.
///
/// The batches then settle into two halves in turn: one commits while the callers of the
/// other prepare their next appends. When the queue does not grow (a steady or light load)
/// every waiting append is taken, so a lone append is never held back.
fn take_waiting<T>(
    rx: &mut mpsc::UnboundedReceiver<T>,
    batch: &mut Vec<T>,
    last: usize,
    max: usize,
) {
    let limit = batch_limit(batch.len() + rx.len(), last, max);
    while batch.len() < limit {
        match rx.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
}

/// How many of `waiting` appends the next batch takes after a batch of `last`: all of them
/// unless the queue grew, then half of the appends in play; never more than `max`.
fn batch_limit(waiting: usize, last: usize, max: usize) -> usize {
    (waiting + last).div_ceil(2).clamp(1, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_append_is_taken_at_once() {
        assert_eq!(batch_limit(1, 0, 1024), 1);
        assert_eq!(batch_limit(1, 1, 1024), 1);
        assert_eq!(batch_limit(2, 1, 1024), 2);
    }

    #[test]
    fn a_steady_queue_is_taken_whole() {
        for (waiting, last) in [(128, 128), (26, 230), (5, 6)] {
            assert!(batch_limit(waiting, last, 1024) >= waiting);
        }
    }

    #[test]
    fn a_growing_queue_is_taken_by_half_of_the_appends_in_play() {
        // 230 back from a large batch after a tiny one of 26: two halves of 128.
        assert_eq!(batch_limit(230, 26, 1024), 128);
        assert_eq!(batch_limit(256, 0, 1024), 128);
        assert_eq!(batch_limit(5000, 1024, 1024), 1024);
    }

    #[tokio::test]
    async fn take_waiting_takes_no_more_than_the_limit_and_never_waits() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        for i in 0..10 {
            tx.send(i).ok();
        }
        let mut batch = Vec::new();
        take_waiting(&mut rx, &mut batch, 0, 1024);
        assert_eq!(batch, [0, 1, 2, 3, 4]);
        let mut next = Vec::new();
        take_waiting(&mut rx, &mut next, batch.len(), 1024);
        assert_eq!(next, [5, 6, 7, 8, 9]);
        take_waiting(&mut rx, &mut next, 0, 1024);
        assert_eq!(next.len(), 5);
    }
}
