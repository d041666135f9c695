//! The playground (`playground/` of the repository) at `/playground/`: a page where a site
//! owner edits a config and sees its problems, the banner previewed and the files to deploy.
//!
//! | route | what |
//! | --- | --- |
//! | `GET /playground` | a redirect to `/playground/` |
//! | `GET /playground/...` | the directory's files, as any static host would serve them |
//!
//! The page is static and needs nothing from the server: it validates and compiles in the
//! browser, with the authoring side compiled to WebAssembly. Served here under a strict
//! Content-Security-Policy ([`CSP`]), which is what the page needs and no more.
//!
//! Caveats:
//! 1. The preview runs in a frame of the playground's own (`frame-ancestors 'self'`), so these
//!    pages are not covered by the API's `frame-ancestors 'none'`. Nothing here acts for a
//!    visitor: the preview sets no cookie and sends no decision.

use std::path::PathBuf;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// The playground's Content-Security-Policy: no inline script or style; `'wasm-unsafe-eval'`
/// lets the page compile the authoring side's WebAssembly and the preview the banner's;
/// `worker-src 'self'` is the preview's Service Worker; `blob:` the downloads.
pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' data:; frame-src 'self'; worker-src 'self'; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'self'";

/// The playground's routes, serving the directory `dir` (the repository's `playground/`).
pub fn router(dir: PathBuf) -> Router {
    Router::new()
        .nest_service("/playground", ServeDir::new(dir))
        .layer(axum::middleware::from_fn(with_slash))
        // A name longer than any file's is no file: 404, not the file system's refusal
        // answered as a server error.
        .layer(axum::middleware::from_fn(crate::api::no_overlong_segments))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(axum::middleware::from_fn(crate::api::security_headers))
}

/// Sends `/playground` to `/playground/`, where the page's relative addresses resolve.
async fn with_slash(request: Request, next: Next) -> Response {
    if request.uri().path() == "/playground" {
        return Redirect::permanent("/playground/").into_response();
    }
    next.run(request).await
}
