//! [`PageLayer`]: the HTML layer as tower middleware.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use crate::pages::{Pages, Pending, Plan, Untouched, Visit};
use crate::rewriter::PageRewriter;

/// A tower layer that rewrites the HTML pages of the service it wraps for each visitor's
/// consent, as they stream (see the [crate docs](crate) for what it does to a page), and
/// puts the request's [`Verdict`](consent_core::Verdict) into its extensions for the
/// [`Consent`](crate::Consent) extractor, as [`ConsentLayer`](crate::ConsentLayer) does.
///
/// It reads bodies as the inner service sends them: put it inside (closer to the
/// handlers than) any compression layer, so that it sees the HTML before it is
/// compressed. A response that is already compressed passes through untouched.
///
/// A `GET` for a page (a navigation) reaches the service without `If-None-Match` and
/// `If-Modified-Since`: the layer's pages carry no validator, so the copy such a request
/// revalidates is not one of them, and the service's `304` would show it again.
///
/// Put it on the outermost router, the one that sees the path the browser shows: a page's
/// rules (a service's excluded paths) are written for that path, and a router given to
/// `Router::nest` sees it without the nest's prefix.
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
        let mut visit = self.pages.visit(req.headers(), path);
        if let Some(authority) = req.uri().authority() {
            visit.set_authority(authority.as_str());
        }
        let method = req.method().clone();
        visit.set_method(&method);
        visit.drop_validators(&method, req.headers_mut());
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
    B: Body,
{
    type Output = Result<Response<PageBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = ready!(this.inner.poll(cx))?;
        let (mut parts, body) = response.into_parts();
        let plan = match this.visit.take() {
            Some(visit) if parts.extensions.get::<Untouched>().is_none() => {
                let len = body.size_hint().upper();
                this.pages
                    .plan(visit, parts.status, &mut parts.headers, len)
            }
            _ => None,
        };
        let mut body = PageBody::new(body, plan);
        body.read_ahead(cx);
        Poll::Ready(Ok(Response::from_parts(parts, body)))
    }
}

pin_project! {
    /// A response body through [`PageLayer`]: the page rewritten as it streams or replayed
    /// from the cache, or the inner body untouched (byte for byte, its size hint kept).
    ///
    /// A page read whole before it is rewritten (to replay a recording or record one) is
    /// read before the response is returned, as far as the inner body has it ready: a page
    /// that is all there (most are one `Bytes`) is replayed with its exact length, which a
    /// server sends as `Content-Length` rather than in chunks that its client must join.
    pub struct PageBody<B: Body> {
        #[pin]
        inner: Inner<B>,
        state: State,
        // Trailers that came after the page, to send after its last bytes.
        trailers: Option<http::HeaderMap>,
        // The page's first bytes, rewritten when a page read ahead turned out longer than it
        // said: sent before the rest streams.
        ahead: Option<Bytes>,
        // The inner body's error met while reading ahead: the body's first frame.
        error: Option<B::Error>,
    }
}

pin_project! {
    /// The inner body: as the service returned it, or boxed to be read ahead (polled before
    /// the response is returned, then moved into it).
    #[project = InnerProj]
    #[project_ref = InnerRef]
    enum Inner<B> {
        Direct { #[pin] body: B },
        Boxed { body: Pin<Box<B>> },
    }
}

impl<B: Body> Body for Inner<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        match self.project() {
            InnerProj::Direct { body } => body.poll_frame(cx),
            InnerProj::Boxed { body } => body.as_mut().poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Direct { body } => body.is_end_stream(),
            Self::Boxed { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Direct { body } => body.size_hint(),
            Self::Boxed { body } => body.size_hint(),
        }
    }
}

enum State {
    /// Not a page: the inner body as it is.
    Untouched,
    /// The page's rewriter, until the page ends.
    Stream(Box<PageRewriter>),
    /// The page read whole before it is replayed or recorded.
    Buffer(Box<Pending>, Chunks),
    /// The page's parts, to send in turn.
    Replay(std::vec::IntoIter<Bytes>),
    /// The page is sent.
    Done,
}

/// A page's body as read so far.
#[derive(Default)]
struct Chunks {
    /// Most bodies are one `Bytes`, kept without a copy (and without a `Vec` for it).
    first: Option<Bytes>,
    rest: Vec<Bytes>,
    len: usize,
}

impl Chunks {
    fn push(&mut self, chunk: Bytes) {
        self.len += chunk.len();
        match self.first {
            None => self.first = Some(chunk),
            Some(_) => self.rest.push(chunk),
        }
    }

    /// The whole body, copied together only when it came in several chunks.
    fn into_bytes(self) -> Bytes {
        match self.first {
            None => Bytes::new(),
            Some(first) if self.rest.is_empty() => first,
            Some(first) => {
                let mut all = Vec::with_capacity(self.len);
                for c in std::iter::once(&first).chain(&self.rest) {
                    all.extend_from_slice(c);
                }
                Bytes::from(all)
            }
        }
    }
}

impl<B: Body> PageBody<B> {
    fn new(inner: B, plan: Option<Plan>) -> Self {
        let (inner, state) = match plan {
            None => (Inner::Direct { body: inner }, State::Untouched),
            Some(Plan::Stream(r)) => (Inner::Direct { body: inner }, State::Stream(r)),
            Some(Plan::Buffer(p)) => (
                Inner::Boxed {
                    body: Box::pin(inner),
                },
                State::Buffer(p, Chunks::default()),
            ),
            Some(Plan::Replay(parts)) => (
                Inner::Direct { body: inner },
                State::Replay(parts.into_iter()),
            ),
        };
        Self {
            inner,
            state,
            trailers: None,
            ahead: None,
            error: None,
        }
    }

    /// Reads a page to buffer as far as its inner body has it ready, before the body is
    /// pinned (the inner body is boxed for it).
    fn read_ahead(&mut self, cx: &mut Context<'_>) {
        let Inner::Boxed { body } = &mut self.inner else {
            return;
        };
        let read = poll_buffer(
            &mut self.state,
            body.as_mut(),
            &mut self.trailers,
            &mut self.ahead,
            cx,
        );
        if let Poll::Ready(Err(e)) = read {
            self.error = Some(e);
        }
    }
}

/// Reads a buffered page until it is whole (then replayed or recorded), longer than it said
/// (then streamed, its first bytes in `ahead`), or the inner body waits.
fn poll_buffer<B: Body>(
    state: &mut State,
    mut inner: Pin<&mut B>,
    trailers: &mut Option<http::HeaderMap>,
    ahead: &mut Option<Bytes>,
    cx: &mut Context<'_>,
) -> Poll<Result<(), B::Error>> {
    while let State::Buffer(pending, chunks) = state {
        let end = match ready!(inner.as_mut().poll_frame(cx)) {
            Some(Ok(frame)) => match frame.into_data() {
                Ok(mut data) => {
                    chunks.push(data.copy_to_bytes(data.remaining()));
                    false
                }
                Err(frame) => {
                    *trailers = frame.into_trailers().ok();
                    true
                }
            },
            Some(Err(e)) => return Poll::Ready(Err(e)),
            None => true,
        };
        if end {
            let State::Buffer(pending, chunks) = std::mem::replace(state, State::Done) else {
                unreachable!("matched above")
            };
            let parts = pending.finish_bytes(chunks.into_bytes());
            *state = State::Replay(parts.into_iter());
        } else if chunks.len > pending.max_body() {
            // Longer than it said: streamed from here on.
            let State::Buffer(pending, chunks) = std::mem::replace(state, State::Done) else {
                unreachable!("matched above")
            };
            let mut rewriter = pending.into_stream();
            let mut out = Vec::new();
            for c in chunks.first.iter().chain(&chunks.rest) {
                out.extend(rewriter.write(c));
            }
            *state = State::Stream(Box::new(rewriter));
            if !out.is_empty() {
                *ahead = Some(Bytes::from(out));
            }
        }
    }
    Poll::Ready(Ok(()))
}

impl<B> Body for PageBody<B>
where
    B: Body,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        if let Some(e) = this.error.take() {
            return Poll::Ready(Some(Err(e)));
        }
        loop {
            match this.state {
                State::Untouched => {
                    let frame = ready!(this.inner.poll_frame(cx));
                    return Poll::Ready(
                        frame
                            .map(|f| f.map(|f| f.map_data(|mut d| d.copy_to_bytes(d.remaining())))),
                    );
                }
                State::Done => {
                    return Poll::Ready(this.trailers.take().map(|t| Ok(Frame::trailers(t))));
                }
                State::Replay(parts) => {
                    let part = parts.next();
                    // Done with the last part, so that the server sees the end with it.
                    if parts.as_slice().is_empty() {
                        *this.state = State::Done;
                    }
                    match part {
                        Some(part) if !part.is_empty() => {
                            return Poll::Ready(Some(Ok(Frame::data(part))));
                        }
                        _ => {}
                    }
                }
                State::Buffer(..) => {
                    let read = poll_buffer(
                        this.state,
                        this.inner.as_mut(),
                        this.trailers,
                        this.ahead,
                        cx,
                    );
                    if let Err(e) = ready!(read) {
                        return Poll::Ready(Some(Err(e)));
                    }
                }
                State::Stream(active) => {
                    if let Some(first) = this.ahead.take() {
                        return Poll::Ready(Some(Ok(Frame::data(first))));
                    }
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
                                true
                            }
                        },
                        Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                        None => true,
                    };
                    if last {
                        let State::Stream(rewriter) = std::mem::replace(this.state, State::Done)
                        else {
                            unreachable!("matched above")
                        };
                        let last = rewriter.end();
                        if !last.is_empty() {
                            return Poll::Ready(Some(Ok(Frame::data(Bytes::from(last)))));
                        }
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.state {
            State::Untouched => self.inner.is_end_stream(),
            State::Done => self.trailers.is_none(),
            State::Replay(_) | State::Buffer(..) | State::Stream(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.state {
            State::Untouched => self.inner.size_hint(),
            State::Replay(parts) => {
                SizeHint::with_exact(parts.as_slice().iter().map(|p| p.len() as u64).sum())
            }
            State::Done | State::Buffer(..) | State::Stream(_) => SizeHint::default(),
        }
    }
}
