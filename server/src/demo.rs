//! The demo clinic site (`consent serve --demo`): its pages in Finnish, Swedish and English,
//! and the hit log of its stand-in tags.
//!
//! | route | what |
//! | --- | --- |
//! | `/`, `/ajanvaraus`, ... (fi), `/sv/...`, `/en/...` | the pages, whose banner reads the server's compiled policy (`/consent/policy.bin`); on the newsletter pages, `?signup=<outcome>` (a sign-up posted without JavaScript) fills the form's status |
//! | `POST /demo/hit` | a stand-in tag (GA, Ads, pixel, video) reports that it ran |
//! | `GET /demo/hits[?pv=...]` | what ran, for the page and the end-to-end suite |
//! | `GET /demo/<file>` | the demo's static files |
//!
//! Every response carries a strict Content-Security-Policy (no `'unsafe-inline'`, no
//! `'unsafe-eval'`; `'wasm-unsafe-eval'` only lets the banner compile its WebAssembly), so
//! the demo shows that the banner needs nothing more.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use consent_core::Config;
use consent_gate::{PageLayer, Pages};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// The demo's Content-Security-Policy.
pub(crate) const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' data:; frame-src 'self'; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'";

/// How many hits are kept (the oldest go first).
const MAX_HITS: usize = 2000;

/// The largest hit accepted: a stand-in's report is a few hundred bytes. Refused past it
/// before it is read, not after axum's default 2 MB.
const MAX_HIT: usize = 4096;

/// One page in its three languages: the paths (fi, sv, en), the files under
/// `examples/demo/<lang>/`, and whether it handles health information (the marketing pixel
/// is then left off the page even after consent).
struct Page {
    paths: [&'static str; 3],
    files: [&'static str; 3],
    sensitive: bool,
}

const LANGS: [&str; 3] = ["fi", "sv", "en"];

static PAGES: [Page; 6] = [
    Page {
        paths: ["/", "/sv/", "/en/"],
        files: ["index.html", "index.html", "index.html"],
        sensitive: false,
    },
    Page {
        paths: ["/ajanvaraus", "/sv/tidsbokning", "/en/booking"],
        files: ["ajanvaraus.html", "tidsbokning.html", "booking.html"],
        sensitive: true,
    },
    Page {
        paths: ["/video", "/sv/video", "/en/video"],
        files: ["video.html", "video.html", "video.html"],
        sensitive: false,
    },
    Page {
        paths: ["/uutiskirje", "/sv/nyhetsbrev", "/en/newsletter"],
        files: ["uutiskirje.html", "nyhetsbrev.html", "newsletter.html"],
        sensitive: false,
    },
    Page {
        paths: ["/tietosuoja", "/sv/dataskydd", "/en/privacy"],
        files: ["tietosuoja.html", "dataskydd.html", "privacy.html"],
        sensitive: false,
    },
    Page {
        paths: ["/omat-tiedot", "/sv/mina-uppgifter", "/en/my-data"],
        files: ["omat-tiedot.html", "mina-uppgifter.html", "my-data.html"],
        sensitive: false,
    },
];

/// The stand-in tags that report hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Tag {
    Ga,
    Ads,
    Pixel,
    Video,
}

/// What a stand-in reports: which tag, on which page view, the Consent Mode state it read,
/// whether a `default` came before any update, and the cookies it set. Nothing personal.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Hit {
    tag: Tag,
    page: String,
    pv: String,
    consent: BTreeMap<String, String>,
    default_first: bool,
    cookies: Vec<String>,
}

impl Hit {
    /// Bounds every field, so the log stays small whatever a page sends.
    fn check(&self) -> Result<(), String> {
        let short = |s: &str| s.len() <= 64;
        if self.page.len() > 256 || !self.page.starts_with('/') {
            return Err("page: expected a path of at most 256 bytes".into());
        }
        if !short(&self.pv) {
            return Err("pv: at most 64 bytes".into());
        }
        if self.consent.len() > 8 || !self.consent.iter().all(|(k, v)| short(k) && short(v)) {
            return Err("consent: at most 8 short signals".into());
        }
        if self.cookies.len() > 8 || !self.cookies.iter().all(|c| short(c)) {
            return Err("cookies: at most 8 short names".into());
        }
        Ok(())
    }
}

struct Demo {
    dir: PathBuf,
    config: Arc<Config>,
    hits: Mutex<VecDeque<Hit>>,
}

/// The demo site's routes, for `dir` (`examples/demo`) and the site's config.
pub(crate) fn router(
    dir: PathBuf,
    config: Arc<Config>,
    key: consent_core::SigningKey,
    page_layer: bool,
) -> Router {
    // The pages go through the HTML layer: for a visitor with a signed decision, what it
    // allows is live in the HTML as sent; for one without, the first layer is in the first
    // paint (and works without JavaScript). The banner takes over from there.
    let pages = Arc::new(Pages::new((*config).clone(), Some(key)));
    let demo = Arc::new(Demo {
        dir: dir.clone(),
        config,
        hits: Mutex::new(VecDeque::new()),
    });
    let mut router = Router::new();
    for page in &PAGES {
        for lang in 0..LANGS.len() {
            router = router.route(
                page.paths[lang],
                get(move |State(demo): State<Arc<Demo>>, uri: axum::http::Uri| {
                    render(demo, page, lang, uri.query().map(str::to_owned))
                }),
            );
        }
    }
    let router = router
        .route(
            "/demo/hit",
            axum::routing::post(post_hit).layer(axum::extract::DefaultBodyLimit::max(MAX_HIT)),
        )
        .route("/demo/hits", get(get_hits))
        .nest_service("/demo", ServeDir::new(dir))
        .with_state(demo)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ));
    // Outside the CSP: the layer lets its Consent Mode script run under the policy.
    if page_layer {
        router.layer(PageLayer::new(pages))
    } else {
        router
    }
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// A page: its language's layout around its main content. Its banner reads the policy the
/// server compiles from its own config (`/consent/policy.bin`), so the page and the log
/// always agree on the revision.
async fn render(
    demo: Arc<Demo>,
    page: &'static Page,
    lang: usize,
    query: Option<String>,
) -> Response {
    let (Some(code), Some(file)) = (LANGS.get(lang), page.files.get(lang)) else {
        return error(StatusCode::NOT_FOUND, "not found");
    };
    let dir = demo.dir.join(code);
    let read = |name: &str| {
        let path = dir.join(name);
        async move {
            tokio::fs::read_to_string(&path)
                .await
                .map_err(|e| (path, e))
        }
    };
    let (layout, main) = match (read("_layout.html").await, read(file).await) {
        (Ok(layout), Ok(main)) => (layout, main),
        (Err((path, e)), _) | (_, Err((path, e))) => {
            tracing::error!(path = %path.display(), error = %e, "demo page");
            return error(StatusCode::INTERNAL_SERVER_ERROR, "demo page missing");
        }
    };
    let status = signup_status(&main, query.as_deref());
    // The privacy notice's cookie section, from the same config as the banner.
    let declaration = consent_core::declaration::Declaration::new(
        &demo.config,
        crate::nojs::pick_lang(&demo.config, Some(code)),
        None,
    )
    .map(|d| d.render(consent_core::declaration::Format::Html))
    .unwrap_or_default();
    let html = fill(&layout, &main, page)
        .replace("{{CONSENT_DECLARATION}}", &declaration)
        .replace("{{SIGNUP_STATUS}}", status);
    let headers = [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    (headers, html).into_response()
}

/// Fills the layout's slots; on a sensitive page, drops the marketing pixel's tag.
fn fill(layout: &str, main: &str, page: &Page) -> String {
    let title = main
        .split_once("<h1>")
        .and_then(|(_, rest)| rest.split_once("</h1>"))
        .map_or("", |(t, _)| t);
    let mut html = layout
        .replace("{{TITLE}}", title)
        .replace("{{HREF_FI}}", page.paths[0])
        .replace("{{HREF_SV}}", page.paths[1])
        .replace("{{HREF_EN}}", page.paths[2])
        .replace("{{MAIN}}", main);
    if page.sensitive {
        if let Some((before, rest)) = html.split_once("<!--pixel-->") {
            if let Some((_, after)) = rest.split_once("<!--/pixel-->") {
                html = format!("{before}<!-- no marketing pixel on a page about health -->{after}");
            }
        }
    }
    html
}

/// The newsletter form's status after a post without JavaScript: `POST /register/signup`
/// sent the visitor back with `?signup=<outcome>`, and the page's form carries the text for
/// each outcome in its language as `data-msg-<outcome>` (the same text the sign-up script
/// shows). Empty for any other query. The text is the page's own attribute value, already
/// escaped, and is valid as element content.
fn signup_status<'m>(main: &'m str, query: Option<&str>) -> &'m str {
    let outcome = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "signup")
        .map(|(_, v)| v)
        .filter(|v| {
            matches!(
                &**v,
                "ok" | "channels" | "contact" | "channel" | "busy" | "error"
            )
        });
    let Some(outcome) = outcome else { return "" };
    let attribute = format!(" data-msg-{outcome}=\"");
    main.split_once(&attribute)
        .and_then(|(_, rest)| rest.split_once('"'))
        .map_or("", |(text, _)| text)
}

async fn post_hit(State(demo): State<Arc<Demo>>, body: axum::body::Bytes) -> Response {
    // Past MAX_HIT the extractor has refused already (413, made JSON by api::json_errors).
    let hit: Hit = match serde_json::from_slice(&body) {
        Ok(hit) => hit,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("invalid hit: {e}")),
    };
    if let Err(e) = hit.check() {
        return error(StatusCode::UNPROCESSABLE_ENTITY, e);
    }
    let Ok(mut hits) = demo.hits.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "hit log poisoned");
    };
    if hits.len() == MAX_HITS {
        hits.pop_front();
    }
    hits.push_back(hit);
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct HitsQuery {
    pv: Option<String>,
}

async fn get_hits(State(demo): State<Arc<Demo>>, Query(q): Query<HitsQuery>) -> Response {
    let Ok(hits) = demo.hits.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "hit log poisoned");
    };
    let hits: Vec<&Hit> = hits
        .iter()
        .filter(|h| q.pv.as_ref().is_none_or(|pv| *pv == h.pv))
        .collect();
    Json(json!({ "hits": hits })).into_response()
}

#[cfg(test)]
mod tests {
    use super::{PAGES, fill, signup_status};

    const LAYOUT: &str = "<title>{{TITLE}}</title>{{MAIN}}<a href=\"{{HREF_SV}}\">\
        <!--pixel--><script data-service=\"facebook-pixel\"></script><!--/pixel-->";

    #[test]
    fn a_sensitive_page_has_no_pixel_and_others_do() {
        let booking = PAGES
            .iter()
            .find(|p| p.sensitive)
            .expect("a sensitive page");
        let home = &PAGES[0];
        let main = "<h1>Ajanvaraus</h1>";
        assert!(!fill(LAYOUT, main, booking).contains("facebook-pixel"));
        assert!(fill(LAYOUT, main, home).contains("facebook-pixel"));
    }

    #[test]
    fn slots_are_filled() {
        let html = fill(LAYOUT, "<h1>Koti</h1>", &PAGES[0]);
        assert!(html.starts_with("<title>Koti</title><h1>Koti</h1><a href=\"/sv/\">"));
        assert!(!html.contains("{{"));
    }

    #[test]
    fn the_signup_status_is_the_pages_own_text_for_a_known_outcome() {
        let main = r#"<form data-msg-ok="Kiitos &quot;heti&quot;" data-msg-contact="Tarkista">"#;
        assert_eq!(
            signup_status(main, Some("signup=ok")),
            "Kiitos &quot;heti&quot;"
        );
        assert_eq!(signup_status(main, Some("x=1&signup=contact")), "Tarkista");
        // No text for it on the page, an unknown outcome, or no query: nothing.
        assert_eq!(signup_status(main, Some("signup=busy")), "");
        assert_eq!(signup_status(main, Some("signup=ok%22%3E%3Cscript%3E")), "");
        assert_eq!(signup_status(main, None), "");
    }
}
