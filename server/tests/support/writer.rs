//! Putting appends in a store's writer queue in a known order.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

/// Polls `append` (a store's append, not yet awaited) once: an append hands its record to
/// the store's writer on its first poll, so it is queued ahead of any sent after. Await it
/// later for its answer.
pub async fn queue<F: Future>(mut append: Pin<&mut F>) {
    std::future::poll_fn(|cx| {
        assert!(
            append.as_mut().poll(cx).is_pending(),
            "queued, not yet answered"
        );
        Poll::Ready(())
    })
    .await;
}
