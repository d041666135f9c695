//! [`PageLayer`]: the HTML layer as tower middleware.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use crate::pages::{Pages, Untouched, Visit};
use crate::rewriter::PageRewriter;

/// A tower layer that rewrites the HTML pages of the service it wraps for each visitor's
/// consent, as they stream (see the [crate docs](crate) for what it does to a page), and
/// puts the request's [`Verdict`](consent_core::Verdict) into its extensions for the
/// [`Consent`](crate::Consent) extractor, as [`ConsentLayer`](crate::ConsentLayer) does.
///
/// It reads bodies as the inner service sends them: put it inside (closer to the
/// handlers than) any compression layer, so that it sees the HTML before it is
/// compressed. A response that is already compressed passes through untouched.
#[derive(Clone, Debug)]
pub struct PageLayer {
    pages: Arc<Pages>,
}

impl PageLayer {
    /// A layer rewriting pages for `pages`.
    #[must_use]
    pub fn new(pages: Arc<Pages>) -> Self {
        Self { pages }
    }
}

impl<S> tower_layer::Layer<S> for PageLayer {
    type Service = PageService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        PageService {
            inner,
            pages: Arc::clone(&self.pages),
        }
    }
}

/// The service [`PageLayer`] makes.
#[derive(Clone, Debug)]
pub struct PageService<S> {
    inner: S,
    pages: Arc<Pages>,
}

impl<S, ReqB, ResB> tower_service::Service<Request<ReqB>> for PageService<S>
where
    S: tower_service::Service<Request<ReqB>, Response = Response<ResB>>,
    ResB: Body,
    ResB::Data: Buf,
{
    type Response = Response<PageBody<ResB>>;
    type Error = S::Error;
    type Future = PageFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqB>) -> Self::Future {
        let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
        let visit = self.pages.visit(req.headers(), path);
        req.extensions_mut().insert(*visit.verdict());
        PageFuture {
            inner: self.inner.call(req),
            pages: Arc::clone(&self.pages),
            visit: Some(visit),
        }
    }
}

pin_project! {
    /// The future [`PageService`] returns.
    pub struct PageFuture<F> {
        #[pin]
        inner: F,
        pages: Arc<Pages>,
        visit: Option<Visit>,
    }
}

impl<F, B, E> Future for PageFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<PageBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = ready!(this.inner.poll(cx))?;
        let (mut parts, body) = response.into_parts();
        let rewriter = match this.visit.take() {
            Some(visit) if parts.extensions.get::<Untouched>().is_none() => {
                this.pages.respond(&visit, parts.status, &mut parts.headers)
            }
            _ => None,
        };
        Poll::Ready(Ok(Response::from_parts(
            parts,
            PageBody::new(body, rewriter),
        )))
    }
}

pin_project! {
    /// A response body through [`PageLayer`]: the page rewritten as it streams, or the inner
    /// body untouched (byte for byte, its size hint kept).
    pub struct PageBody<B> {
        #[pin]
        inner: B,
        // Whether the body is a page being rewritten.
        rewriting: bool,
        // The page's rewriter, until the page ends.
        rewriter: Option<PageRewriter>,
        // Trailers that came after the page, to send after its last bytes.
        trailers: Option<http::HeaderMap>,
    }
}

impl<B> PageBody<B> {
    fn new(inner: B, rewriter: Option<PageRewriter>) -> Self {
        Self {
            inner,
            rewriting: rewriter.is_some(),
            rewriter,
            trailers: None,
        }
    }
}

impl<B> Body for PageBody<B>
where
    B: Body,
    B::Data: Buf,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        if !*this.rewriting {
            let frame = ready!(this.inner.poll_frame(cx));
            return Poll::Ready(
                frame.map(|f| f.map(|f| f.map_data(|mut d| d.copy_to_bytes(d.remaining())))),
            );
        }
        loop {
            if let Some(t) = this.trailers.take() {
                return Poll::Ready(Some(Ok(Frame::trailers(t))));
            }
            let Some(active) = this.rewriter.as_mut() else {
                return Poll::Ready(None);
            };
            let last = match ready!(this.inner.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(mut data) => {
                        let mut out = Vec::new();
                        while data.has_remaining() {
                            let chunk = data.chunk();
                            let n = chunk.len();
                            let written = active.write(chunk);
                            // A frame is mostly one chunk: send its bytes without a copy.
                            if out.is_empty() {
                                out = written;
                            } else {
                                out.extend(written);
                            }
                            data.advance(n);
                        }
                        if !out.is_empty() {
                            return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                        }
                        continue;
                    }
                    // Trailers end the body: the page's last bytes go before them.
                    Err(frame) => {
                        *this.trailers = frame.into_trailers().ok();
                        this.rewriter.take().map(PageRewriter::end)
                    }
                },
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => this.rewriter.take().map(PageRewriter::end),
            };
            if let Some(last) = last.filter(|l| !l.is_empty()) {
                return Poll::Ready(Some(Ok(Frame::data(Bytes::from(last)))));
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        if self.rewriting {
            self.rewriter.is_none() && self.trailers.is_none()
        } else {
            self.inner.is_end_stream()
        }
    }

    fn size_hint(&self) -> SizeHint {
        if self.rewriting {
            SizeHint::default()
        } else {
            self.inner.size_hint()
        }
    }
}
