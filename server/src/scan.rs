//! `consent scan`: what a site really sets, in headless Chromium, held against the config.
//!
//! The scanner drives Chromium over the DevTools protocol ([chromiumoxide]) through four
//! visits, each in a fresh browser profile except the last:
//!
//! 1. **no decision**: the start page and up to `max_pages` same-origin pages, touching nothing;
//! 2. **accept all**: the banner's "Accept all" clicked (found by the config's own text in any
//!    of its languages), then the pages again;
//! 3. **withdrawn**: in the same profile, the settings control (`[data-consent-open]`) opened
//!    and "Reject all" clicked, then the start page reloaded;
//! 4. **reject all**: a fresh profile, "Reject all" clicked, then the pages again.
//!
//! It records every cookie (first and third party) and every host requested, matches them
//! against the config's services, and reports [`Finding`]s:
//!
//! 1. a cookie or a request to another host before a decision, or after "Reject all", that
//!    is not declared necessary (a violation);
//! 2. a cookie or host the config does not declare, with a suggested config entry;
//! 3. a cookie that is not necessary and is still there after the withdrawal.
//!
//! Caveats:
//! - Pages, time per page, the whole scan and the number of cookies and hosts kept are all
//!   bounded ([`Options`]); a site that sets more is reported as truncated, not followed.
//! - Hosts are compared exactly (`www.example.com`), not by registrable domain; a site on
//!   `example.com` loading from `cdn.example.com` counts as another host and must be declared.
//! - `robots.txt` is read for `Disallow` lines under `User-agent: *`, which the crawl skips.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::network::{Cookie, EventRequestWillBeSent};
use chromiumoxide::page::Page;
use consent_core::{Config, Lang, TextKey};
use futures_util::StreamExt as _;
use serde::Serialize;

/// Bounds and settings of a scan.
#[derive(Clone, Debug)]
pub struct Options {
    /// The Chromium binary.
    pub chromium: PathBuf,
    /// Pages visited per pass, the start page included.
    pub max_pages: usize,
    /// How long one page may take to load.
    pub page_timeout: Duration,
    /// How long the whole scan may take.
    pub total_timeout: Duration,
    /// Cookies kept per pass; more are counted, not kept.
    pub max_cookies: usize,
    /// Distinct other hosts kept per pass.
    pub max_hosts: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            chromium: PathBuf::from("/usr/bin/chromium"),
            max_pages: 5,
            page_timeout: Duration::from_secs(15),
            total_timeout: Duration::from_secs(180),
            max_cookies: 500,
            max_hosts: 500,
        }
    }
}

/// One of the scan's passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pass {
    /// Before any decision.
    NoDecision,
    /// After "Accept all".
    AcceptAll,
    /// After "Accept all", then "Reject all" from the settings.
    Withdrawn,
    /// After "Reject all".
    RejectAll,
}

impl Pass {
    /// Every pass, in the order run.
    pub const ALL: [Pass; 4] = [
        Pass::NoDecision,
        Pass::AcceptAll,
        Pass::Withdrawn,
        Pass::RejectAll,
    ];

    /// The snake_case name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Pass::NoDecision => "no_decision",
            Pass::AcceptAll => "accept_all",
            Pass::Withdrawn => "withdrawn",
            Pass::RejectAll => "reject_all",
        }
    }
}

impl fmt::Display for Pass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the config says about a cookie or host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Declared {
    /// The service's id.
    pub service: String,
    /// Its category's id.
    pub category: String,
    /// Whether the category is `necessary`.
    pub necessary: bool,
}

/// A cookie seen in the browser.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SeenCookie {
    /// Its name.
    pub name: String,
    /// Its domain (`.example.com` for a domain cookie).
    pub domain: String,
    /// Whether it is set on the scanned site's host or a parent domain of it.
    pub first_party: bool,
    /// Days until it expires; `None` for a session cookie.
    pub days: Option<u32>,
    /// The config's declaration of it, if any.
    pub declared: Option<Declared>,
}

/// Another host the pages requested.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SeenHost {
    /// The host.
    pub host: String,
    /// The first address requested from it, without its query.
    pub example: String,
    /// The config's service that loads from it, if any.
    pub declared: Option<Declared>,
}

/// What one pass saw.
#[derive(Clone, Debug, Serialize)]
pub struct PassReport {
    /// Which pass.
    pub pass: Pass,
    /// The pages visited.
    pub pages: Vec<String>,
    /// Every cookie present at its end (at most `max_cookies`).
    pub cookies: Vec<SeenCookie>,
    /// Every other host requested (at most `max_hosts`).
    pub hosts: Vec<SeenHost>,
    /// Cookies and hosts seen beyond the bounds, counted only.
    pub not_kept: usize,
    /// What went wrong in it without stopping the scan (a button not found, a page that
    /// did not load).
    pub notes: Vec<String>,
}

/// The kind of a [`Finding`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A cookie or request before a decision that is not declared necessary.
    BeforeConsent,
    /// A cookie or request after "Reject all" that is not declared necessary.
    AfterRefusal,
    /// A cookie that is not necessary and survived the withdrawal.
    SurvivesWithdrawal,
    /// A cookie the config does not declare.
    UndeclaredCookie,
    /// Another host the config's services do not list.
    UndeclaredHost,
}

impl FindingKind {
    /// The snake_case name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            FindingKind::BeforeConsent => "before_consent",
            FindingKind::AfterRefusal => "after_refusal",
            FindingKind::SurvivesWithdrawal => "survives_withdrawal",
            FindingKind::UndeclaredCookie => "undeclared_cookie",
            FindingKind::UndeclaredHost => "undeclared_host",
        }
    }
}

/// One thing wrong with the site against its config.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// What kind.
    pub kind: FindingKind,
    /// `cookie NAME (DOMAIN)` or `host HOST`.
    pub subject: String,
    /// Why, in a sentence.
    pub detail: String,
    /// For an undeclared cookie or host, the config entry to add.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<serde_json::Value>,
}

/// Everything a scan saw and found.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The start page.
    pub url: String,
    /// Each pass.
    pub passes: Vec<PassReport>,
    /// What is wrong, most serious first.
    pub findings: Vec<Finding>,
}

/// Why a scan could not be made.
#[derive(Debug)]
#[non_exhaustive]
pub enum ScanError {
    /// The address is not an `http://` or `https://` URL with a host.
    BadUrl(String),
    /// Chromium did not start.
    Launch(String),
    /// The start page did not load (unreachable, refused, a redirect loop).
    Load {
        /// The page.
        url: String,
        /// Chromium's reason, such as `net::ERR_CONNECTION_REFUSED`.
        reason: String,
    },
    /// The start page, or the whole scan, took longer than allowed.
    Timeout {
        /// The page or site.
        url: String,
        /// The limit.
        limit: Duration,
    },
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScanError::BadUrl(u) => write!(f, "{u:?}: expected an http:// or https:// address"),
            ScanError::Launch(e) => write!(f, "cannot start Chromium: {e}"),
            ScanError::Load { url, reason } => {
                let hint = match reason.as_str() {
                    "net::ERR_TOO_MANY_REDIRECTS" => " (a redirect loop)",
                    "net::ERR_CONNECTION_REFUSED" => " (nothing listens there)",
                    "net::ERR_NAME_NOT_RESOLVED" => " (no such host)",
                    _ => "",
                };
                write!(f, "cannot load {url}: {reason}{hint}")
            }
            ScanError::Timeout { url, limit } => {
                write!(f, "{url} did not load within {} s", limit.as_secs())
            }
        }
    }
}

impl std::error::Error for ScanError {}

/// The scheme, host and port of an http(s) URL: `("http", "127.0.0.1", "127.0.0.1:8080")`.
fn origin(url: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = match authority.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => authority,
    };
    if host.is_empty() || authority.contains('@') {
        return None;
    }
    Some((scheme, host, authority))
}

fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(base) => host
            .strip_suffix(base)
            .is_some_and(|sub| sub.ends_with('.')),
        None => pattern == host,
    }
}

/// Whether a cookie on `domain` is sent to `host`: the host itself or a parent domain.
fn domain_covers(domain: &str, host: &str) -> bool {
    let d = domain.strip_prefix('.').unwrap_or(domain);
    host == d || host.strip_suffix(d).is_some_and(|sub| sub.ends_with('.'))
}

fn declared_cookie(config: &Config, name: &str, domain: &str) -> Option<Declared> {
    config.services().find_map(|(_, ci, s)| {
        let hit = s.cookies().iter().any(|c| {
            c.name().matches(name)
                && c.domain()
                    .is_none_or(|d| d.trim_start_matches('.') == domain.trim_start_matches('.'))
        });
        hit.then(|| declared(config, ci, s))
    })
}

fn declared_host(config: &Config, host: &str) -> Option<Declared> {
    config.services().find_map(|(_, ci, s)| {
        s.hosts()
            .iter()
            .any(|h| host_matches(h, host))
            .then(|| declared(config, ci, s))
    })
}

fn declared(
    config: &Config,
    ci: consent_core::CategoryIndex,
    s: &consent_core::Service,
) -> Declared {
    let category = config.category(ci);
    Declared {
        service: s.id().as_str().to_owned(),
        category: category.map_or(String::new(), |c| c.id().as_str().to_owned()),
        necessary: category.is_some_and(consent_core::Category::is_necessary),
    }
}

/// Runs the four passes against `url`. `progress` is told what is being visited.
///
/// # Errors
/// A [`ScanError`] when the address is bad, Chromium does not start, the start page cannot
/// be loaded in the first pass, or the scan runs out of time.
pub async fn scan(
    config: &Config,
    url: &str,
    options: &Options,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Report, ScanError> {
    let Some((_, host, _)) = origin(url) else {
        return Err(ScanError::BadUrl(url.to_owned()));
    };
    let host = host.to_owned();
    let run = async {
        let disallowed = robots(url, options, progress).await;
        let mut passes = Vec::new();
        for pair in [
            [Pass::NoDecision, Pass::NoDecision],
            [Pass::AcceptAll, Pass::Withdrawn],
            [Pass::RejectAll, Pass::RejectAll],
        ] {
            let (a, b) = run_pair(config, url, &host, options, pair, &disallowed, progress).await?;
            passes.push(a);
            passes.extend(b);
        }
        Ok(passes)
    };
    let passes = tokio::time::timeout(options.total_timeout, run)
        .await
        .map_err(|_| ScanError::Timeout {
            url: url.to_owned(),
            limit: options.total_timeout,
        })??;
    let findings = findings(&passes);
    Ok(Report {
        url: url.to_owned(),
        passes,
        findings,
    })
}

/// Paths under `Disallow:` for `User-agent: *` in the site's robots.txt; none when it has none.
async fn robots(url: &str, options: &Options, progress: &(dyn Fn(&str) + Sync)) -> Vec<String> {
    let Some((scheme, _, authority)) = origin(url) else {
        return Vec::new();
    };
    let robots_url = format!("{scheme}://{authority}/robots.txt");
    progress(&robots_url);
    let Ok(session) = Session::start(options).await else {
        return Vec::new();
    };
    let text = match session.visit(&robots_url, options.page_timeout).await {
        Ok(()) => session
            .page
            .evaluate("document.contentType === 'text/plain' ? document.body.innerText : ''")
            .await
            .ok()
            .and_then(|r| r.into_value::<String>().ok())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    session.close().await;
    parse_robots(&text)
}

fn parse_robots(text: &str) -> Vec<String> {
    let mut applies = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim().to_ascii_lowercase().as_str() {
            "user-agent" => applies = value == "*",
            "disallow" if applies && !value.is_empty() => out.push(value.to_owned()),
            _ => {}
        }
    }
    out
}

/// One browser with a fresh profile, and the requests its page made.
struct Session {
    browser: Browser,
    page: Page,
    handler: tokio::task::JoinHandle<()>,
    listener: tokio::task::JoinHandle<()>,
    requests: Arc<Mutex<Requests>>,
    profile: PathBuf,
}

#[derive(Default)]
struct Requests {
    count: usize,
    /// New hosts seen after `hosts` was full.
    dropped: usize,
    /// Host -> first URL requested from it (without its query).
    hosts: BTreeMap<String, String>,
}

static SESSIONS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

impl Session {
    async fn start(options: &Options) -> Result<Self, ScanError> {
        let n = SESSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let profile = std::env::temp_dir().join(format!("consent-scan-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        let config = BrowserConfig::builder()
            .chrome_executable(&options.chromium)
            .no_sandbox()
            .user_data_dir(&profile)
            .request_timeout(options.page_timeout)
            .build()
            .map_err(ScanError::Launch)?;
        let (browser, mut events) = Browser::launch(config)
            .await
            .map_err(|e| ScanError::Launch(e.to_string()))?;
        let handler = tokio::spawn(async move { while events.next().await.is_some() {} });
        let page = browser
            .new_page("about:blank")
            .await
            .map_err(|e| ScanError::Launch(e.to_string()))?;
        let requests = Arc::new(Mutex::new(Requests::default()));
        let mut stream = page
            .event_listener::<EventRequestWillBeSent>()
            .await
            .map_err(|e| ScanError::Launch(e.to_string()))?;
        let seen = Arc::clone(&requests);
        let max_hosts = options.max_hosts;
        let listener = tokio::spawn(async move {
            while let Some(event) = stream.next().await {
                let url = event.request.url.as_str();
                let Some((_, host, _)) = origin(url) else {
                    continue;
                };
                let Ok(mut r) = seen.lock() else { return };
                r.count += 1;
                if !r.hosts.contains_key(host) {
                    if r.hosts.len() < max_hosts {
                        let bare = url.split(['?', '#']).next().unwrap_or(url);
                        r.hosts.insert(host.to_owned(), bare.to_owned());
                    } else {
                        r.dropped += 1;
                    }
                }
            }
        });
        Ok(Self {
            browser,
            page,
            handler,
            listener,
            requests,
            profile,
        })
    }

    /// Navigates and waits for the load, then for the network to be quiet.
    async fn visit(&self, url: &str, limit: Duration) -> Result<(), ScanError> {
        let load = async {
            self.page.goto(url).await?;
            self.page.wait_for_navigation().await?;
            Ok::<(), chromiumoxide::error::CdpError>(())
        };
        match tokio::time::timeout(limit, load).await {
            Err(_) => Err(ScanError::Timeout {
                url: url.to_owned(),
                limit,
            }),
            Ok(Err(e)) => Err(ScanError::Load {
                url: url.to_owned(),
                reason: match e {
                    chromiumoxide::error::CdpError::ChromeMessage(m) => m,
                    other => other.to_string(),
                },
            }),
            Ok(Ok(())) => {
                self.settle().await;
                Ok(())
            }
        }
    }

    /// Waits until no request has started for 500 ms, at most 5 s: trackers set their
    /// cookies after the load event.
    async fn settle(&self) {
        let quiet = Duration::from_millis(500);
        let start = tokio::time::Instant::now();
        let mut last = self.request_count();
        let mut since = tokio::time::Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let now = self.request_count();
            if now != last {
                last = now;
                since = tokio::time::Instant::now();
            } else if since.elapsed() >= quiet {
                break;
            }
        }
    }

    fn request_count(&self) -> usize {
        self.requests.lock().map_or(0, |r| r.count)
    }

    /// Clicks the first button or link whose text is one of `texts`; whether one was found.
    async fn click_text(&self, texts: &[&str]) -> bool {
        let Ok(wanted) = serde_json::to_string(texts) else {
            return false;
        };
        let js = format!(
            "(() => {{ const want = {wanted}; for (const el of document.querySelectorAll('button, [role=button], a, input[type=button]')) {{ const t = (el.innerText || el.value || '').trim(); if (want.includes(t) && el.getClientRects().length > 0) {{ el.click(); return true; }} }} return false; }})()"
        );
        self.eval_bool(&js).await
    }

    async fn eval_bool(&self, js: &str) -> bool {
        let clicked = self
            .page
            .evaluate(js)
            .await
            .ok()
            .and_then(|r| r.into_value::<bool>().ok())
            .unwrap_or(false);
        if clicked {
            self.settle().await;
        }
        clicked
    }

    /// Same-origin links of the current page, without fragments.
    async fn links(&self) -> Vec<String> {
        self.page
            .evaluate("Array.from(document.links, a => a.href.split('#')[0])")
            .await
            .ok()
            .and_then(|r| r.into_value::<Vec<String>>().ok())
            .unwrap_or_default()
    }

    async fn cookies(&self) -> Vec<Cookie> {
        self.browser.get_cookies().await.unwrap_or_default()
    }

    async fn close(mut self) {
        let _ = self.browser.close().await;
        let _ = self.browser.wait().await;
    }
}

/// Also when a scan is cut short by its time limit: Chromium itself is killed when its
/// `Browser` drops.
impl Drop for Session {
    fn drop(&mut self) {
        self.listener.abort();
        self.handler.abort();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Texts of `key` in every language of the config, overrides applied.
fn texts(config: &Config, key: TextKey) -> Vec<&str> {
    let mut out: Vec<&str> = Lang::ALL
        .into_iter()
        .map(|l| config.texts(l).get(key))
        .collect();
    out.dedup();
    out
}

/// Runs `pair[0]` and, when it is "accept all", the withdrawal in the same profile.
async fn run_pair(
    config: &Config,
    url: &str,
    host: &str,
    options: &Options,
    pair: [Pass; 2],
    disallowed: &[String],
    progress: &(dyn Fn(&str) + Sync),
) -> Result<(PassReport, Option<PassReport>), ScanError> {
    let pass = pair[0];
    let session = Session::start(options).await?;
    let mut notes = Vec::new();
    progress(&format!("{pass}: {url}"));
    if let Err(e) = session.visit(url, options.page_timeout).await {
        session.close().await;
        return Err(e);
    }
    let (accept, reject) = (
        texts(config, TextKey::AcceptAll),
        texts(config, TextKey::RejectAll),
    );
    let button = match pass {
        Pass::AcceptAll => Some(&accept),
        Pass::RejectAll => Some(&reject),
        Pass::NoDecision | Pass::Withdrawn => None,
    };
    if let Some(button) = button {
        if !session.click_text(button).await {
            notes.push(format!(
                "no visible button {:?} on the start page",
                button.join("\" / \"")
            ));
        }
    }
    let pages = crawl(
        &session, url, options, disallowed, pass, progress, &mut notes,
    )
    .await;
    let report = collect(&session, config, host, pass, pages, notes, options).await;
    let withdrawn = if pair[1] == Pass::Withdrawn {
        let mut notes = Vec::new();
        progress(&format!("{}: {url}", Pass::Withdrawn));
        let _ = session.visit(url, options.page_timeout).await;
        let opened = session
            .eval_bool("(() => { const o = document.querySelector('[data-consent-open]'); if (!o) return false; o.click(); return true; })()")
            .await
            || session.click_text(&texts(config, TextKey::OpenPreferences)).await;
        if !opened {
            notes.push("no [data-consent-open] control or settings link to withdraw with".into());
        }
        if !session.click_text(&reject).await {
            notes.push("no visible \"Reject all\" button in the settings".into());
        }
        if let Err(e) = session.visit(url, options.page_timeout).await {
            notes.push(e.to_string());
        }
        Some(
            collect(
                &session,
                config,
                host,
                Pass::Withdrawn,
                vec![url.to_owned()],
                notes,
                options,
            )
            .await,
        )
    } else {
        None
    };
    session.close().await;
    Ok((report, withdrawn))
}

async fn crawl(
    session: &Session,
    start: &str,
    options: &Options,
    disallowed: &[String],
    pass: Pass,
    progress: &(dyn Fn(&str) + Sync),
    notes: &mut Vec<String>,
) -> Vec<String> {
    let Some((scheme, _, authority)) = origin(start) else {
        return Vec::new();
    };
    let prefix = format!("{scheme}://{authority}/");
    let mut visited = vec![start.to_owned()];
    let mut queue: Vec<String> = session.links().await;
    while visited.len() < options.max_pages && !queue.is_empty() {
        let next = queue.remove(0);
        let path = next.strip_prefix(&prefix[..prefix.len() - 1]).unwrap_or("");
        if !next.starts_with(&prefix)
            || visited.contains(&next)
            || disallowed.iter().any(|d| path.starts_with(d.as_str()))
        {
            continue;
        }
        progress(&format!("{pass}: {next}"));
        visited.push(next.clone());
        match session.visit(&next, options.page_timeout).await {
            Ok(()) => queue.extend(session.links().await),
            Err(e) => notes.push(e.to_string()),
        }
        queue.truncate(10_000);
    }
    visited
}

async fn collect(
    session: &Session,
    config: &Config,
    host: &str,
    pass: Pass,
    pages: Vec<String>,
    notes: Vec<String>,
    options: &Options,
) -> PassReport {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let all = session.cookies().await;
    let mut not_kept = all.len().saturating_sub(options.max_cookies);
    let cookies = all
        .into_iter()
        .take(options.max_cookies)
        .map(|c| SeenCookie {
            declared: declared_cookie(config, &c.name, &c.domain),
            first_party: domain_covers(&c.domain, host),
            days: (!c.session)
                .then(|| ((c.expires - now) / 86_400.0).ceil().clamp(1.0, 9999.0) as u32),
            name: c.name,
            domain: c.domain,
        })
        .collect();
    let hosts = session.requests.lock().map_or_else(
        |_| Vec::new(),
        |r| {
            not_kept += r.dropped;
            r.hosts
                .iter()
                .filter(|(h, _)| h.as_str() != host)
                .map(|(h, example)| SeenHost {
                    host: h.clone(),
                    example: example.clone(),
                    declared: declared_host(config, h),
                })
                .collect()
        },
    );
    PassReport {
        pass,
        pages,
        cookies,
        hosts,
        not_kept,
        notes,
    }
}

fn cookie_subject(c: &SeenCookie) -> String {
    format!("cookie {} ({})", c.name, c.domain)
}

fn suggest_cookie(c: &SeenCookie) -> serde_json::Value {
    let lifetime = c.days.map_or("session".to_owned(), |d| format!("{d}d"));
    let mut entry = serde_json::json!({
        "name": c.name,
        "lifetime": lifetime,
        "description": {"fi": "", "sv": "", "en": ""},
    });
    if !c.first_party {
        entry["domain"] = c.domain.clone().into();
    }
    entry
}

/// The findings of the passes, most serious first, each subject once per kind.
fn findings(passes: &[PassReport]) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    let mut push = |f: Finding| {
        if !out
            .iter()
            .any(|o| o.kind == f.kind && o.subject == f.subject)
        {
            out.push(f);
        }
    };
    let necessary = |d: &Option<Declared>| d.as_ref().is_some_and(|d| d.necessary);
    for p in passes {
        let kind = match p.pass {
            Pass::NoDecision => Some((FindingKind::BeforeConsent, "before any decision")),
            Pass::RejectAll => Some((FindingKind::AfterRefusal, "after \"Reject all\"")),
            Pass::AcceptAll | Pass::Withdrawn => None,
        };
        if let Some((kind, when)) = kind {
            for c in p.cookies.iter().filter(|c| !necessary(&c.declared)) {
                push(Finding {
                    kind,
                    subject: cookie_subject(c),
                    detail: format!("set {when}, and not declared necessary"),
                    suggestion: None,
                });
            }
            for h in p.hosts.iter().filter(|h| !necessary(&h.declared)) {
                push(Finding {
                    kind,
                    subject: format!("host {}", h.host),
                    detail: format!(
                        "requested {when} ({}), and not a necessary service's",
                        h.example
                    ),
                    suggestion: None,
                });
            }
        }
        if p.pass == Pass::Withdrawn {
            for c in p.cookies.iter().filter(|c| !necessary(&c.declared)) {
                let whose = c.declared.as_ref().map_or("undeclared".to_owned(), |d| {
                    format!("of {} ({})", d.service, d.category)
                });
                push(Finding {
                    kind: FindingKind::SurvivesWithdrawal,
                    subject: cookie_subject(c),
                    detail: format!("{whose}, still set after the withdrawal"),
                    suggestion: None,
                });
            }
        }
    }
    for p in passes {
        for c in p.cookies.iter().filter(|c| c.declared.is_none()) {
            push(Finding {
                kind: FindingKind::UndeclaredCookie,
                subject: cookie_subject(c),
                detail: format!(
                    "seen in the {} pass; the config does not declare it",
                    p.pass
                ),
                suggestion: Some(suggest_cookie(c)),
            });
        }
        for h in p.hosts.iter().filter(|h| h.declared.is_none()) {
            push(Finding {
                kind: FindingKind::UndeclaredHost,
                subject: format!("host {}", h.host),
                detail: format!("requested in the {} pass; no service lists it", p.pass),
                suggestion: Some(serde_json::Value::String(h.host.clone())),
            });
        }
    }
    out.sort_by_key(|f| f.kind);
    out
}

impl Report {
    /// Whether anything was found: the scan's exit code is non-zero then.
    #[must_use]
    pub fn has_findings(&self) -> bool {
        !self.findings.is_empty()
    }

    /// A readable table of the findings, then the cookies and hosts per pass.
    #[must_use]
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "scan of {}", self.url);
        if self.findings.is_empty() {
            out.push_str("\nno findings\n");
        } else {
            let _ = writeln!(out, "\n{} findings:", self.findings.len());
            let w = self
                .findings
                .iter()
                .map(|f| f.subject.len())
                .max()
                .unwrap_or(0);
            for f in &self.findings {
                let _ = writeln!(
                    out,
                    "  {:<20} {:<w$}  {}",
                    f.kind.as_str(),
                    f.subject,
                    f.detail
                );
            }
        }
        for p in &self.passes {
            let _ = writeln!(out, "\n{} ({} pages):", p.pass, p.pages.len());
            for c in &p.cookies {
                let who = c.declared.as_ref().map_or("UNDECLARED".to_owned(), |d| {
                    format!("{}/{}", d.category, d.service)
                });
                let life = c.days.map_or("session".to_owned(), |d| format!("{d} d"));
                let party = if c.first_party { "first" } else { "third" };
                let _ = writeln!(
                    out,
                    "  cookie {:<24} {:<28} {party:<5} {life:<8} {who}",
                    c.name, c.domain
                );
            }
            for h in &p.hosts {
                let who = h.declared.as_ref().map_or("UNDECLARED".to_owned(), |d| {
                    format!("{}/{}", d.category, d.service)
                });
                let _ = writeln!(out, "  host   {:<53} {who}", h.host);
            }
            if p.not_kept > 0 {
                let _ = writeln!(out, "  ... and {} more not kept (bounds)", p.not_kept);
            }
            for n in &p.notes {
                let _ = writeln!(out, "  note: {n}");
            }
        }
        out
    }

    /// The config additions the undeclared cookies and hosts need, as one service entry to
    /// sort into the right category and describe: `{"cookies": [...], "hosts": [...]}`.
    #[must_use]
    pub fn patch(&self) -> serde_json::Value {
        let (mut cookies, mut hosts) = (Vec::new(), Vec::new());
        for f in &self.findings {
            match (f.kind, &f.suggestion) {
                (FindingKind::UndeclaredCookie, Some(s)) => cookies.push(s.clone()),
                (FindingKind::UndeclaredHost, Some(s)) => hosts.push(s.clone()),
                _ => {}
            }
        }
        serde_json::json!({
            "id": "undeclared",
            "name": "",
            "provider": "",
            "purpose": {"fi": "", "sv": "", "en": ""},
            "hosts": hosts,
            "cookies": cookies,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_hosts_and_domains() {
        assert_eq!(
            origin("http://127.0.0.1:8080/a?b"),
            Some(("http", "127.0.0.1", "127.0.0.1:8080"))
        );
        assert_eq!(origin("ftp://x/"), None);
        assert_eq!(origin("http://user@evil/"), None);
        assert_eq!(origin("https://"), None);
        assert!(host_matches("*.facebook.net", "connect.facebook.net"));
        assert!(!host_matches("*.facebook.net", "facebook.net"));
        assert!(!host_matches("*.facebook.net", "evilfacebook.net"));
        assert!(domain_covers(".klinikka.fi", "www.klinikka.fi"));
        assert!(domain_covers("klinikka.fi", "klinikka.fi"));
        assert!(!domain_covers(".doubleclick.net", "klinikka.fi"));
    }

    #[test]
    fn robots_disallow_lines_for_everyone() {
        let got = parse_robots(
            "User-agent: Googlebot\nDisallow: /g\n\nUser-agent: *\nDisallow: /admin # staff\nDisallow:\n",
        );
        assert_eq!(got, ["/admin"]);
    }
}
