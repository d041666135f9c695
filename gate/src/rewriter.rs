//! [`PageRewriter`]: one response's HTML, rewritten as it streams through lol_html.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};

use consent_core::{Choices, Lang};
use lol_html::html_content::{ContentType, Element, EndTag};
use lol_html::send::SendHandlerTypes;
use lol_html::send::{DocumentContentHandlers, ElementContentHandlers, HtmlRewriter, Settings};
use lol_html::{AsciiCompatibleEncoding, HandlerResult, MemorySettings};

use crate::Visit;
use crate::csp::Kind;
use crate::pages::Pages;

/// The most memory one page's rewriter may hold (lol_html's buffers for a tag that spans
/// chunks). Past it, the rest of the page passes through as it is: nothing more is made live.
const MEMORY_LIMIT: usize = 1 << 20;

/// What goes in front of what the layer writes at the end of the page (the first layer, the
/// end script): the end tags that take it out of whatever page content left open, as
/// Chromium parses it. Each is ignored where nothing it closes is open, and none of them
/// shows. In the order it must be, since each closes only what is not inside another:
///
/// 1. An unclosed comment, or a CDATA section in foreign content: the whole is a comment
///    in the data state, where it starts one (`<!--` inside a comment is text of it).
/// 2. Text elements: `<textarea>` and `<title>` (the rest of the page is their text),
///    `<style>`, `<xmp>`, `<iframe>`, `<noembed>`, `<noframes>`, and `<noscript>` (raw text
///    when scripting is on: the end script in it never ran). Until its own end tag, each
///    other end tag is its text.
/// 3. Elements that the page's own end tags after the content cannot close, or that take
///    what follows out of the page: a `<template>` (its content is inert), a `<select>`
///    (Chromium keeps all that follows in the select, not drawn), a `<table>` (what
///    follows is put before it, in the content's container, which the page's `</div>`
///    could no longer close), an `<object>` (what follows is the fallback of an object that
///    loaded), a `<marquee>` or `<applet>`, and foreign content's integration points
///    (`<svg><foreignObject>`, clipped to the drawing). `</template>` goes before
///    `</select>`, which a template inside a select ignores.
/// 4. A `<form>`: it stays the browser's form to the page's end (its end tag only unsets
///    it), so the first layer's own `<form>` tag was ignored and its buttons posted the
///    decision to that form's address.
/// 5. Formatting elements: one left open (`<a href>`) is made again around every text
///    and button that follows, so the first layer's buttons were in a link to the page
///    content's address, and its text restyled.
///
/// Caveats: `<plaintext>` has no end: what follows it is its text, in any browser. An
/// unclosed `<script>` is not closed: at the end of the page it never runs, and closed it
/// would. Only one of each is closed, which is what a page needs that closed its own
/// elements: tables nested open in page content close one at a time, an ordinary element
/// page content leaves open around a table, or more of them than the page closes after it
/// (`<div hidden>`), holds the first layer as ever, and the parser keeps up to three
/// equal formatting elements (`<b><b>`). None of this grants anything: with the first
/// layer hidden, nothing is allowed, and the end script lost in it loads no banner.
/// `tests/e2e/page-layer.mjs` checks them in Chromium.
const CLOSE_PAGE_CONTENT: &str = "<!--]]><!---->\
    </textarea></title></style></xmp></iframe></noembed></noframes></noscript>\
    </template></select></table></object></marquee></applet>\
    </foreignObject></desc></mi></mo></mn></ms></mtext></annotation-xml>\
    </form>\
    </a></b></big></code></em></font></i></nobr></s></small></strike></strong></tt></u>";

/// One response's HTML rewritten for one visit, chunk by chunk: what
/// [`Pages::respond`] hands out for a response that the layer rewrites.
///
/// Feed it the body's chunks with [`write`](Self::write) and finish with
/// [`end`](Self::end); each returns the bytes ready to send. It never fails: if the page
/// overwhelms the rewriter, the rest passes through unchanged, which makes nothing live that
/// the page did not already run, and what goes at the end of `<body>` (the first layer, the
/// script that loads the banner) still goes at the end of the page.
pub struct PageRewriter {
    rewriter: Option<HtmlRewriter<'static, Sink>>,
    out: Arc<Mutex<Vec<u8>>>,
    page: Arc<Page>,
    /// Whether the body has a byte: an empty one stays empty.
    written: bool,
    /// Whether lol_html gave up on the page (the rest passed through as it was).
    bailed_out: bool,
    /// The charset the rewriter reads the page in (a byte order mark may change it).
    encoding: &'static encoding_rs::Encoding,
    /// Whether the page's `<meta>` may name its charset (the response names none).
    meta_charset: bool,
    /// Whether the body's first bytes were read for a byte order mark.
    sniffed: bool,
    /// The body's first bytes, held while they may be the start of a byte order mark.
    head: Vec<u8>,
}

impl std::fmt::Debug for PageRewriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageRewriter")
            .field("passing_through", &self.rewriter.is_none())
            .finish_non_exhaustive()
    }
}

/// Where lol_html writes: a buffer the rewriter empties after each chunk.
struct Sink(Arc<Mutex<Vec<u8>>>);

impl lol_html::OutputSink for Sink {
    fn handle_chunk(&mut self, chunk: &[u8]) {
        lock(&self.0).extend_from_slice(chunk);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Nothing panics while holding it; a poisoned buffer is still a buffer.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What the layer writes into one page besides the elements it brings to life.
pub(crate) struct Inserts {
    /// The nonce for scripts made live (and the Consent Mode script).
    pub(crate) script_nonce: Option<String>,
    /// The nonce for the critical CSS's `<style>`.
    pub(crate) style_nonce: Option<String>,
    /// The Consent Mode script element, when the site uses Consent Mode.
    pub(crate) consent_mode: Option<String>,
    /// How the first layer is written, when it is due.
    pub(crate) first_layer: FirstLayer,
}

/// How the first layer is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FirstLayer {
    /// Rendered for this visit.
    Rendered,
    /// As [`crate::cache::HOLE_FIRST_LAYER`], for a recording (the cache renders it for each
    /// visit).
    Hole,
}

/// What every handler of one page shares.
pub(crate) struct Page {
    pages: Arc<Pages>,
    visit: Visit,
    inserts: Inserts,
    progress: Mutex<Progress>,
}

#[derive(Default)]
struct Progress {
    /// The page's own language (`<html lang>`), for the first layer.
    lang: Option<Lang>,
    consent_mode_written: bool,
    /// The end of the page is written: the first layer and the script that loads the banner's
    /// stylesheet and module.
    end_written: bool,
    /// Whether the layer held back the banner's stylesheet or module ([`Page::link`],
    /// [`Page::banner_module`]), which the script at the end of `<body>` puts back.
    held_back: bool,
    /// The banner's module script held back ([`Page::banner_module`]): its inert tag, and
    /// its `src` as written, which the end script's own tag names.
    held_module: Option<(String, String)>,
    /// Whether the critical CSS is written (in front of the banner's stylesheet).
    critical_written: bool,
    /// How many holes a recording has (each written once, so the cache can count them).
    holes: usize,
    /// The charset the page's `<meta>` switched to, when the response named none.
    meta_encoding: Option<&'static encoding_rs::Encoding>,
    /// The charset the response or a byte order mark names. Else only a `<meta>` may, and
    /// without one a browser guesses (windows-1252 in most locales, and Firefox never
    /// UTF-8): the first layer then goes in ASCII, its other characters as character
    /// references, read alike in any charset the layer rewrites.
    named_encoding: Option<&'static encoding_rs::Encoding>,
    /// The language and charset of the page where the first layer's hole is, once written
    /// (an `<html lang>` or a `<meta>` after it does not change what the rewriter wrote
    /// there): what a replay writes the first layer in.
    hole: Option<(Lang, Option<&'static encoding_rs::Encoding>)>,
    /// How many `<template>` elements are open ([`Page::template`]).
    templates: usize,
    /// The element being handled is inside a drawing or a formula, to lol_html
    /// ([`Page::in_foreign`]); taken by the next handler ([`Page::foreign`]).
    in_foreign: bool,
}

impl PageRewriter {
    pub(crate) fn new(
        pages: Arc<Pages>,
        visit: Visit,
        encoding: AsciiCompatibleEncoding,
        meta_charset: bool,
        inserts: Inserts,
    ) -> Self {
        let out = Arc::new(Mutex::new(Vec::new()));
        let page = Arc::new(Page {
            pages,
            visit,
            inserts,
            progress: Mutex::new(Progress::default()),
        });
        page.progress().named_encoding = (!meta_charset).then_some(encoding.into());
        let rewriter = build(&page, encoding, meta_charset, &out);
        Self {
            rewriter: Some(rewriter),
            out,
            page,
            written: false,
            bailed_out: false,
            encoding: encoding.into(),
            meta_charset,
            sniffed: false,
            head: Vec::new(),
        }
    }

    /// Rewrites the next chunk of the body; returns what is ready to send (it may hold back
    /// the end of a tag that continues in the next chunk).
    pub fn write(&mut self, chunk: &[u8]) -> Vec<u8> {
        if self.sniffed {
            return self.rewrite(chunk);
        }
        let bom = if self.head.is_empty() {
            Bom::of(chunk)
        } else {
            self.head.extend_from_slice(chunk);
            Bom::of(&self.head)
        };
        let Some(bom) = bom else {
            // The start of a byte order mark, or nothing yet: held until it is known.
            if self.head.is_empty() {
                self.head.extend_from_slice(chunk);
            }
            return Vec::new();
        };
        self.follow(bom);
        let head = std::mem::take(&mut self.head);
        if head.is_empty() {
            self.rewrite(chunk)
        } else {
            self.rewrite(&head)
        }
    }

    /// Reads the page in the charset its byte order mark names, as a browser does whatever
    /// the response or its `<meta>` say: UTF-8, or UTF-16, which lol_html cannot rewrite
    /// (the page passes through as it is, with nothing added).
    fn follow(&mut self, bom: Bom) {
        self.sniffed = true;
        match bom {
            Bom::Absent => {}
            Bom::Utf16 => self.rewriter = None,
            Bom::Utf8 => {
                self.page.progress().named_encoding = Some(encoding_rs::UTF_8);
                if self.encoding != encoding_rs::UTF_8 || self.meta_charset {
                    let utf_8 = AsciiCompatibleEncoding::utf_8();
                    self.rewriter = Some(build(&self.page, utf_8, false, &self.out));
                    self.encoding = encoding_rs::UTF_8;
                    self.meta_charset = false;
                }
            }
        }
    }

    /// Rewrites a chunk in the page's charset.
    fn rewrite(&mut self, chunk: &[u8]) -> Vec<u8> {
        self.written |= !chunk.is_empty();
        let Some(rewriter) = self.rewriter.as_mut() else {
            return chunk.to_vec();
        };
        // Room for the chunk and what the layer adds (Consent Mode, the first layer: about
        // 2 kB), so lol_html's many small writes do not grow the buffer from nothing. The
        // saving (a few copies, 1-3 µs of ~125) is below what the benchmarks can resolve.
        lock(&self.out).reserve(chunk.len() + 2048);
        if rewriter.write(chunk).is_err() {
            // lol_html flushed every byte it had not written yet ("graceful bail-out"); the
            // rest of the page passes through as it is.
            self.rewriter = None;
            self.bailed_out = true;
        }
        std::mem::take(&mut *lock(&self.out))
    }

    /// Finishes the page; returns its last bytes.
    pub fn end(self) -> Vec<u8> {
        self.finish().0
    }

    /// The page's charset: the response's (or its byte order mark's), or the one its
    /// `<meta>` switched to; `None` when nothing names it.
    fn encoding(&self) -> Option<&'static encoding_rs::Encoding> {
        self.page.progress().encoding()
    }

    /// Finishes the page; returns its last bytes, how many holes the page has, the
    /// language its first layer speaks and the charset it is in, if named (for a recording).
    pub(crate) fn finish(
        mut self,
    ) -> (Vec<u8>, usize, Lang, Option<&'static encoding_rs::Encoding>) {
        // A body shorter than a byte order mark: what there is of it.
        let head = std::mem::take(&mut self.head);
        let mut first = Vec::new();
        if !head.is_empty() {
            self.follow(Bom::of(&head).unwrap_or(Bom::Absent));
            first = self.rewrite(&head);
        }
        if let Some(rewriter) = self.rewriter.take() {
            // An empty body is no page: nothing goes at its end.
            if self.written {
                // On an error lol_html has flushed what it held, as in `write`.
                self.bailed_out |= rewriter.end().is_err();
            }
        }
        let mut out = first;
        out.append(&mut lock(&self.out));
        // A page lol_html gave up on still gets what goes at the end of `<body>`, if it was
        // not written yet: the first layer when it is due, and the script that puts back the
        // banner's stylesheet and module if they were held back. Without it, a first visitor
        // would be asked nothing and the banner would never load. After `</html>` it is still
        // parsed into the body.
        if self.bailed_out {
            if let Some(html) = self.page.end_of_body() {
                let encoding = self.encoding().unwrap_or(encoding_rs::UTF_8);
                out.extend_from_slice(&encoding.encode(&html).0);
            }
        }
        let p = self.page.progress();
        let (lang, encoding) = p.hole.unwrap_or_else(|| {
            let lang = p
                .lang
                .unwrap_or_else(|| self.page.pages.config().default_language());
            (lang, p.encoding())
        });
        (out, p.holes, lang, encoding)
    }
}

/// lol_html's rewriter for `page` in `encoding`, writing into `out`.
fn build(
    page: &Arc<Page>,
    encoding: AsciiCompatibleEncoding,
    meta_charset: bool,
    out: &Arc<Mutex<Vec<u8>>>,
) -> HtmlRewriter<'static, Sink> {
    let s = page.pages.selectors();
    let on = |f: fn(&Arc<Page>, &mut Element<'_, '_, SendHandlerTypes>) -> HandlerResult| {
        let page = Arc::clone(page);
        ElementContentHandlers::default()
            .element(move |el: &mut Element<'_, '_, SendHandlerTypes>| f(&page, el))
    };
    let end_page = Arc::clone(page);
    let settings = Settings::new_send()
        .with_encoding(encoding)
        // Not strict: on markup whose parse needs the whole tree, lol_html guesses
        // instead of stopping. Either guess is safe here: an element taken for text stays
        // as the page wrote it, and one taken for a script is only made live when the
        // policy allows it anyway.
        .with_strict(false)
        .with_memory_settings(
            MemorySettings::new()
                .with_max_allowed_memory_usage(MEMORY_LIMIT)
                .with_graceful_bail_out_on_memory_limit_exceeded(true),
        )
        .with_graceful_bail_out_on_content_handler_error(true)
        // First: the handlers after it read the mark it leaves.
        .append_element_content_handler((Cow::Borrowed(&s.in_foreign), on(Page::in_foreign)))
        .append_element_content_handler((Cow::Borrowed(&s.template), on(Page::template)))
        .append_element_content_handler((Cow::Borrowed(&s.html), on(Page::html)))
        .append_element_content_handler((Cow::Borrowed(&s.head), on(Page::head)))
        .append_element_content_handler((Cow::Borrowed(&s.title), on(Page::title)))
        .append_element_content_handler((Cow::Borrowed(&s.guessed), on(Page::guessed)))
        .append_element_content_handler((Cow::Borrowed(&s.script), on(Page::script)))
        .append_element_content_handler((Cow::Borrowed(&s.embed), on(Page::embed)))
        .append_element_content_handler((Cow::Borrowed(&s.stylesheet), on(Page::link)))
        .append_element_content_handler((Cow::Borrowed(&s.policy), on(Page::policy)))
        // A response that names no charset is read in the one its `<meta>` names, as a
        // browser reads it: lol_html then writes what the layer adds in it.
        .with_adjust_charset_on_meta_tag(meta_charset)
        .append_document_content_handler(DocumentContentHandlers::default().end(
            move |end: &mut lol_html::html_content::DocumentEnd<'_>| {
                // At the end of the page, which a browser parses into the body (after
                // `</body>` and `</html>` too), rather than before a `</body>`: which of them
                // is the page's own, and whether a browser reads it as a tag at all, needs
                // the tree that lol_html only guesses. It took one in a template for the
                // page's, one in a drawing's `<foreignObject>`, and, where its guess of
                // foreign content differs (`<svg/>`, `<math><svg><p>`), one that a browser
                // reads in a `<style>`'s text: page content could hide the first layer and
                // the banner in it, on a page that looked whole.
                if let Some(html) = end_page.end_of_body() {
                    end.append(&html, ContentType::Html);
                }
                Ok(())
            },
        ));
    let settings = if meta_charset {
        settings.append_element_content_handler((Cow::Borrowed(&s.meta), on(Page::meta)))
    } else {
        settings
    };
    HtmlRewriter::new(settings, Sink(Arc::clone(out)))
}

impl Progress {
    /// The page's charset as read so far: the one the response or a byte order mark names,
    /// or the one its `<meta>` switched to; `None` when nothing names it.
    fn encoding(&self) -> Option<&'static encoding_rs::Encoding> {
        self.named_encoding.or(self.meta_encoding)
    }
}

impl Page {
    fn progress(&self) -> std::sync::MutexGuard<'_, Progress> {
        lock(&self.progress)
    }

    /// A `<template>`'s content is not part of the page, nor seen by the banner, until the
    /// page's code puts a copy of it in (nor is a declarative shadow root's, to the banner's
    /// selectors): the layer leaves it as written, and puts nothing of its own in it (what
    /// goes there never runs, nor shows). The banner gates what the page puts in when it
    /// does, by the decision of that moment.
    fn template(self: &Arc<Self>, el: &mut Element<'_, '_, SendHandlerTypes>) -> HandlerResult {
        if !el.can_have_content() {
            return Ok(());
        }
        self.progress().templates += 1;
        let page = Arc::clone(self);
        el.on_end_tag(Box::new(move |_: &mut EndTag<'_>| {
            let mut p = page.progress();
            p.templates = p.templates.saturating_sub(1);
            Ok(())
        }))
    }

    /// A script, link, iframe or image of the layer's that lol_html reads inside a drawing
    /// or a formula: marked for the handler after this one ([`Page::foreign`]). Its selector
    /// is exactly theirs inside `svg` or `math`, so that the handler takes the mark.
    fn in_foreign(self: &Arc<Self>, _: &mut Element<'_, '_, SendHandlerTypes>) -> HandlerResult {
        self.progress().in_foreign = true;
        Ok(())
    }

    fn in_template(&self) -> bool {
        self.progress().templates > 0
    }

    /// `<html lang>`: the first layer speaks the page's language. The first `lang` counts,
    /// as in a browser: a later `<html>` tag only adds attributes the root lacks.
    fn html(self: &Arc<Self>, el: &mut Element<'_, '_, SendHandlerTypes>) -> HandlerResult {
        if self.in_template() || self.progress().lang.is_some() {
            return Ok(());
        }
        let Some(asked) = el.get_attribute("lang") else {
            return Ok(());
        };
        let lang = crate::first_layer::pick_lang(self.pages.config(), Some(&asked));
        self.progress().lang = Some(lang);
        Ok(())
    }

    /// `<meta charset>` (or `http-equiv="Content-Type"`), in a response that names no
    /// charset: the first that names one is the page's, as lol_html reads it. Consent Mode
    /// goes right after it, where it moves the charset past no browser's look ([`Page::head`]).
    fn meta(self: &Arc<Self>, el: &mut Element<'_, '_, SendHandlerTypes>) -> HandlerResult {
        let mut p = self.progress();
        if p.meta_encoding.is_some() {
            return Ok(());
        }
        let charset = el
            .get_attribute("charset")
            .and_then(|c| crate::pages::charset_encoding(&c))
            .or_else(|| {
                let equiv = el.get_attribute("http-equiv")?;
                if !equiv.eq_ignore_ascii_case("content-type") {
                    return None;
                }
                let content = el.get_attribute("content")?;
                content.split(';').skip(1).find_map(|param| {
                    let (k, v) = param.split_once('=')?;
                    k.trim().eq_ignore_ascii_case("charset").then_some(())?;
                    crate::pages::charset_encoding(v.trim().trim_matches('"'))
                })
            });
        p.meta_encoding = charset.map(Into::into);
        let named = p.meta_encoding.is_some();
        drop(p);
        if named && !self.in_template() {
            if let Some(script) = self.take_consent_mode() {
                el.after(&script, ContentType::Html);
            }
        }
        Ok(())
    }

    /// A Content-Security-Policy in the page's `<meta>` governs what comes after it, as the
    /// response's does: the layer's own inline script and style (the end script, Consent
    /// Mode's, the critical CSS) are let in by their hashes, as in the response's policy
    /// ([`Pages::respond`]). Without them the end script was blocked, and the banner held back
    /// never loaded.
    fn policy(self: &Arc<Self>, el: &mut Element<'_, '_, SendHandlerTypes>) -> HandlerResult {
        let is_policy = el
            .get_attribute("http-equiv")
            .is_some_and(|e| e.trim().eq_ignore_ascii_case("content-security-policy"));
        if !is_policy || self.in_template() {
            return Ok(());
        }
        // As written, references and all (`&#39;self&#39;`, as template engines escape
        // quotes): read as the browser reads it, or left alone.
        let Some(read) = el.get_attribute("content").and_then(|c| unescape(&c)) else {
            return Ok(());
        };
        let mut policy = read.clone();
        let critical = self.pages.critical();
        let mut hashes = vec![(critical.script_hash.clone(), Kind::Script)];
        let config = self.pages.config();
        if let Some(js) = crate::consent_mode::script(config, self.visit.evaluation()) {
            hashes.push((crate::csp::hash_source(&js), Kind::Script));
        }
        if self.visit.first_layer_due() && !critical.css.is_empty() {
            hashes.push((critical.hash.clone(), Kind::Style));
        }
        // Without the response's nonce: a recording holds a hole in its place.
        // A `<meta>` holds one policy: a comma in it separates nothing.
        for (hash, kind) in hashes {
            policy = crate::csp::with_inline(&policy, &hash, None, kind);
        }
        if policy != read {
            // lol_html escapes the quote it writes the value in, not `&`.
            el.set_attribute("content", &policy.replace('&', "&amp;"))?;
        }
        Ok(())
    }

    /// Consent Mode goes first in `<head>`, before any tag, or, without a `<head>` tag (a
    /// minifier drops it), before `<title>` ([`Page::title`]).
    ///
    /// Unless the page's charset may come from its `<meta>` (the response names none): a
    /// browser looks for that in the first 1024 bytes only, and the script (some 300 to 700
    /// bytes) in front of it could push it out, and the page would be read in a guessed
    /// charset. Consent Mode then goes right after that `<meta>` ([`Page::meta`]), else
    /// before the first script, or at the end of `<head>` when it holds none: still before
    /// any tag.
    ///
    /// Before the first script only as a last resort, and before the first `<svg>`, `<math>`
    /// or `<select>` if that comes first ([`Page::guessed`]): content placed before the
    /// page's own scripts (a comment) can show lol_html a `<script>` that a browser reads as
    /// text, where lol_html's guess of foreign content differs (`<svg/><style><script>`),
    /// and Consent Mode's `default` was lost in it.
    fn head(self: &Arc<Self>, el: &mut Element<'_, '_, SendHandlerTypes>) -> HandlerResult {
        if self.in_template() {
            return Ok(());
        }
        if self.progress().named_encoding.is_some() {
            if let Some(script) = self.take_consent_mode() {
                el.prepend(&script, ContentType::Html);
            }
            return Ok(());
        }
        if !el.can_have_content() {
            return Ok(());
        }
        let page = Arc::clone(self);
        el.on_end_tag(Box::new(move |end: &mut EndTag<'_>| {
            if !page.in_template() {
                if let Some(script) = page.take_consent_mode() {
                    end.before(&script, ContentType::Html);
                }
            }
            Ok(())
        }))
    }

    /// The first `<svg>`, `<math>` or `<select>`, in a page that gave Consent Mode no
    /// place before it (no `<head>` tag, `<title>` or `<meta>` naming the charset, see
    /// [`Page::head`]): Consent Mode goes before it. After them lol_html guesses the tree
    /// where a browser builds it, and the two may read a tag differently: a `<script>`
    /// after `<svg/><style>` is a tag to lol_html (it reads the style as SVG's) and a
    /// style's text to a browser (which closes `<svg/>` at once), and the reverse after
    /// `<math><mi><mglyph><style>`. Before the first of them the two read the page alike,
    /// so the first `<script>` lol_html sees before it is one to a browser too.
    fn guessed(self: &Arc<Self>, el: &mut Element<'_, '_, SendHandlerTypes>) -> HandlerResult {
        if !self.in_template() {
            if let Some(script) = self.take_consent_mode() {
                el.before(&script, ContentType::Html);
            }
        }
        Ok(())
    }

    /// Any script: Consent Mode before the first one when the page has no `<head>` tag (or
    /// the response names no charset, see [`Page::head`]) and nothing of
    /// [`Page::guessed`]'s came before it, and a gated one
    /// (`type="text/plain"` with `data-category`) made live when the policy allows it.
    fn script(self: &Arc<Self>, el: &mut Element<'_, '_, SendHandlerTypes>) -> HandlerResult {
        // Only the layer marks a script for the end script to load as a module: a mark the
        // page already carries (markup injected into it) would have the end script load any
        // URL, trusted as its own under `'strict-dynamic'`.
        let foreign = self.foreign(el);
        el.remove_attribute(crate::critical::MODULE_MARK);
        if self.in_template() || foreign {
            return Ok(());
        }
        if let Some(script) = self.take_consent_mode() {
            el.before(&script, ContentType::Html);
        }
        let kind = el.get_attribute("type");
        if kind
            .as_deref()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("module"))
        {
            return self.banner_module(el);
        }
        let gated = kind.is_some_and(|t| t.trim().eq_ignore_ascii_case("text/plain"))
            && el.has_attribute("data-category");
        if !gated || !self.allows(el) {
            return Ok(());
        }
        // As the banner's revive(): the script it stands for, with its attributes (its
        // `data-type` as its type) and the response's nonce.
        match el.get_attribute("data-type") {
            Some(t) => el.set_attribute("type", &t)?,
            None => el.remove_attribute("type"),
        }
        el.remove_attribute("data-type");
        if let Some(src) = el.get_attribute("data-src") {
            el.set_attribute("src", &src)?;
            el.remove_attribute("data-src");
        }
        if let Some(nonce) = &self.inserts.script_nonce {
            el.set_attribute("nonce", nonce)?;
            self.progress().holes += 1;
        }
        Ok(())
    }

    /// The banner's module script (`<script type="module" src=".../consent.js">`) seen
    /// before the end of `<body>` is held back from the first paint: it moves, inert
    /// (`type="text/plain"`, its `src` kept in `data-consent-js`), to just before the script
    /// at the end of `<body>` ([`crate::critical::END_SCRIPT`]), which puts it back after the
    /// first paint. The end script takes only the element before its own tag, and only when
    /// its tag names that `src` (`data-consent-src`): page content that carries the mark
    /// where the layer's parser reads text and a browser makes an element (in foreign
    /// content, where lol_html's guess of the tree differs) is never loaded by it. The
    /// page needs nothing from it sooner: the layer has made live what the decision allows
    /// and put the first layer, whose buttons work as a form, in the HTML. Only the banner's
    /// own API (`window.Consent`) comes later than a module script's would (after
    /// `DOMContentLoaded`); its events are unchanged. A tag with `data-manual` is left as it
    /// is: the site starts the banner from its own script, which expects `window.Consent`; so
    /// is a second module tag of the banner (the end script puts back one).
    fn banner_module(
        self: &Arc<Self>,
        el: &mut Element<'_, '_, SendHandlerTypes>,
    ) -> HandlerResult {
        let Some(src) = el
            .get_attribute("src")
            .filter(|src| is_banner_file(src, "consent.js"))
        else {
            return Ok(());
        };
        if el.has_attribute("data-manual") {
            return Ok(());
        }
        let mut p = self.progress();
        if p.end_written || p.held_module.is_some() {
            return Ok(());
        }
        let mut tag = String::from("<script type=\"text/plain\"");
        for a in el.attributes() {
            let name = a.name();
            if !matches!(name.as_str(), "type" | "src") {
                push_attribute(&mut tag, &name, &a.value());
            }
        }
        push_attribute(&mut tag, crate::critical::MODULE_MARK, &src);
        tag.push_str("></script>");
        p.held_back = true;
        p.held_module = Some((tag, src));
        drop(p);
        el.remove();
        Ok(())
    }

    /// A gated iframe or image: its `data-src` becomes its `src` when the policy allows it.
    fn embed(self: &Arc<Self>, el: &mut Element<'_, '_, SendHandlerTypes>) -> HandlerResult {
        if !self.foreign(el) && !self.in_template() && self.allows(el) {
            if let Some(src) = el.get_attribute("data-src") {
                el.set_attribute("src", &src)?;
                el.remove_attribute("data-src");
            }
        }
        Ok(())
    }

    /// The banner's stylesheet (`<link rel="stylesheet" href=".../consent.css">`) seen before
    /// the end of `<body>` no longer holds back the page's first paint, nor a classic script
    /// (a live analytics tag) after it: it becomes inert (no `rel`, marked
    /// `data-consent-css`), and the script at the end of `<body>`
    /// ([`crate::critical::END_SCRIPT`]) makes it a stylesheet again after the first paint,
    /// as it loads the banner's module. A stylesheet a script adds blocks neither rendering
    /// nor scripts (a parser-inserted one in `<body>` still held back the first paint in
    /// Chromium). Nothing needs it sooner: the first layer comes with its critical CSS, and
    /// the banner, which draws the rest, loads at the same time. Not a preload either: on a
    /// returning visitor's page its fetch competed with the analytics tag's (measured).
    ///
    /// The critical CSS goes in front of the link, when the first layer is due: it must come
    /// before the stylesheet in the cascade, so that once the stylesheet applies, its rules
    /// decide (the critical rules are a subset; after it, one of them would override a rule
    /// of the stylesheet it leaves out, such as a position the banner is given on a phone).
    fn link(self: &Arc<Self>, el: &mut Element<'_, '_, SendHandlerTypes>) -> HandlerResult {
        // Only the layer marks a link for the end script to make a stylesheet: a mark the
        // page already carries (markup injected into it) would have it apply any stylesheet.
        let foreign = self.foreign(el);
        el.remove_attribute(crate::critical::STYLESHEET_MARK);
        if self.in_template() || foreign {
            return Ok(());
        }
        let stylesheet = el.get_attribute("rel").is_some_and(|rel| {
            rel.split_ascii_whitespace()
                .any(|r| r.eq_ignore_ascii_case("stylesheet"))
        }) && el
            .get_attribute("href")
            .is_some_and(|href| is_banner_file(&href, "consent.css"));
        let mut p = self.progress();
        if !stylesheet || p.end_written {
            return Ok(());
        }
        p.held_back = true;
        let critical = &self.pages.critical().css;
        if self.visit.first_layer_due() && !p.critical_written && !critical.is_empty() {
            // Only where the page loads the banner's stylesheet: a site that styles the
            // banner its own way keeps its look.
            p.critical_written = true;
            let mut html = String::from("<style");
            if let Some(nonce) = &self.inserts.style_nonce {
                html.push_str(" nonce=\"");
                html.push_str(nonce);
                html.push('"');
                p.holes += 1;
            }
            html.push('>');
            html.push_str(critical);
            html.push_str("</style>");
            el.before(&html, ContentType::Html);
        }
        drop(p);
        el.remove_attribute("rel");
        el.set_attribute(crate::critical::STYLESHEET_MARK, "")?;
        Ok(())
    }

    /// What goes at the end of `<body>` (written at the end of the page), if not yet
    /// written: the first layer when it is due, then the script that loads the banner's
    /// stylesheet and module.
    fn end_of_body(&self) -> Option<String> {
        let mut p = self.progress();
        if p.end_written {
            return None;
        }
        p.end_written = true;
        if !self.visit.first_layer_due() && !p.held_back {
            return None;
        }
        let mut html = String::from(CLOSE_PAGE_CONTENT);
        if self.visit.first_layer_due() {
            let lang = p
                .lang
                .unwrap_or_else(|| self.pages.config().default_language());
            match self.inserts.first_layer {
                FirstLayer::Rendered => {
                    let layer = self.visit.first_layer_html(&self.pages, lang);
                    if p.encoding().is_some() {
                        html.push_str(&layer);
                    } else {
                        html.push_str(&crate::first_layer::ascii(layer));
                    }
                }
                FirstLayer::Hole => {
                    html.push_str(crate::cache::HOLE_FIRST_LAYER);
                    p.holes += 1;
                    p.hole = Some((lang, p.encoding()));
                }
            }
        }
        if p.held_back {
            let module = p.held_module.take();
            if let Some((tag, _)) = &module {
                html.push_str(tag);
            }
            html.push_str("<script");
            if let Some(nonce) = &self.inserts.script_nonce {
                html.push_str(" nonce=\"");
                html.push_str(nonce);
                html.push('"');
                p.holes += 1;
            }
            if let Some((_, src)) = &module {
                push_attribute(&mut html, crate::critical::MODULE_SRC, src);
            }
            html.push('>');
            html.push_str(crate::critical::END_SCRIPT);
            html.push_str("</script>");
        }
        Some(html)
    }

    /// `<title>`, in a page without a `<head>` tag: Consent Mode goes before it when the
    /// response names the charset ([`Page::head`]).
    fn title(self: &Arc<Self>, el: &mut Element<'_, '_, SendHandlerTypes>) -> HandlerResult {
        if self.progress().named_encoding.is_some() && !self.in_template() {
            if let Some(script) = self.take_consent_mode() {
                el.before(&script, ContentType::Html);
            }
        }
        Ok(())
    }

    fn take_consent_mode(&self) -> Option<String> {
        let script = self.inserts.consent_mode.as_ref()?;
        let mut p = self.progress();
        if p.consent_mode_written {
            return None;
        }
        p.consent_mode_written = true;
        p.holes += usize::from(self.inserts.script_nonce.is_some());
        Some(script.clone())
    }

    /// The core's page rule for this element (rules 11 to 13), the one the banner asks.
    fn allows(&self, el: &Element<'_, '_, SendHandlerTypes>) -> bool {
        let Some(category) = el.get_attribute("data-category") else {
            return false;
        };
        let service = el.get_attribute("data-service");
        self.visit.evaluation().allows_element(
            self.pages.config(),
            &category,
            service.as_deref(),
            self.visit.path(),
            Choices::none(),
        )
    }

    /// Whether lol_html took `el` for SVG's or MathML's, or for an HTML part of a drawing or
    /// a formula (an SVG `<title>`, a `<foreignObject>`, a MathML `<mi>`); it takes the mark
    /// [`Page::in_foreign`] left, so the script, link and embed handlers each call it first.
    ///
    /// A gated element, the banner's module or its stylesheet is no part of one in a page
    /// as written; where it is to lol_html, its guess of the tree may differ from a
    /// browser's, which may read the element as a `<style>`'s or a `<textarea>`'s text
    /// (after `<svg/>`, lol_html reads SVG on, a browser closes it at once; after a
    /// `</foreignObject>` a browser ignores, lol_html takes a `<title>` for SVG's, whose
    /// content is HTML, and a browser for HTML's, whose content is text). Made live there,
    /// the response's nonce went into text that the visitor sees, a form posts, and a style
    /// sends wherever its `url()` points: the nonce browsers hide from page content. The
    /// layer leaves such an element as written (the banner gates it in the browser, if it is
    /// one there), as it leaves those lol_html reads as text; it makes nothing live that the
    /// policy does not allow either way. Caveat: after a `<svg/>` or `<math/>` lol_html reads
    /// foreign content until a tag that ends it (a `<p>`, a `<div>`), so a page's own tag
    /// right after one is left to the banner too.
    fn foreign(&self, el: &Element<'_, '_, SendHandlerTypes>) -> bool {
        let marked = std::mem::take(&mut self.progress().in_foreign);
        marked || el.namespace_uri() != "http://www.w3.org/1999/xhtml"
    }
}

/// An attribute's value as written, with its character references read as a browser reads
/// them; `None` when it holds one this does not know (a named one but the five of XML, or a
/// bare `&`), which it leaves to the page.
fn unescape(raw: &str) -> Option<String> {
    if !raw.contains('&') {
        return Some(raw.to_owned());
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let (name, after) = rest[at + 1..].split_once(';')?;
        let c = match name {
            "amp" => '&',
            "apos" => '\'',
            "quot" => '"',
            "lt" => '<',
            "gt" => '>',
            _ => {
                let n = name.strip_prefix('#')?;
                let (digits, radix) = match n.strip_prefix(['x', 'X']) {
                    Some(hex) => (hex, 16),
                    None => (n, 10),
                };
                if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
                    return None;
                }
                // What browsers read otherwise (NUL, the C1 range, past Unicode) is left too.
                let n = u32::from_str_radix(digits, radix).ok()?;
                char::from_u32(n).filter(|c| !matches!(*c, '\0' | '\u{80}'..='\u{9f}'))?
            }
        };
        out.push(c);
        rest = after;
    }
    out.push_str(rest);
    Some(out)
}

/// ` name="value"` onto `html`: `value` as lol_html read it, character references and all,
/// with the quote it goes in escaped.
fn push_attribute(html: &mut String, name: &str, value: &str) {
    html.push(' ');
    html.push_str(name);
    html.push_str("=\"");
    html.push_str(&value.replace('"', "&quot;"));
    html.push('"');
}

/// What a body's first bytes say of its charset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bom {
    /// No byte order mark.
    Absent,
    /// `EF BB BF`.
    Utf8,
    /// `FE FF` or `FF FE`.
    Utf16,
}

impl Bom {
    /// The byte order mark `start` begins with; `None` while it is (only) the start of one.
    fn of(start: &[u8]) -> Option<Self> {
        const UTF_8: &[u8] = b"\xEF\xBB\xBF";
        const UTF_16: [&[u8]; 2] = [b"\xFE\xFF", b"\xFF\xFE"];
        if start.starts_with(UTF_8) {
            Some(Self::Utf8)
        } else if UTF_16.iter().any(|b| start.starts_with(b)) {
            Some(Self::Utf16)
        } else if UTF_8.starts_with(start) || UTF_16.iter().any(|b| b.starts_with(start)) {
            None
        } else {
            Some(Self::Absent)
        }
    }
}

/// Whether `url` names the banner's file `name` (`consent.css`, `consent.js`), wherever the
/// site serves it from.
fn is_banner_file(url: &str, name: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or("");
    path.rsplit('/').next() == Some(name)
}
