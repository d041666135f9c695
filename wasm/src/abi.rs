//! The module's exports, as the banner's script calls them, through linear memory and
//! without an allocator.
//!
//! Above `__heap_base` (where an allocator would start) nothing of Rust's lives: the stack
//! and the statics are below it. The compiled policy is kept there, from the first byte, for
//! the page's lifetime; [`base`] is the first byte after it. For each call the script writes
//! the call's arguments one after the other from `base` (growing the memory if they do not
//! fit), bytes (the policy, random bytes) before texts, and passes their lengths; the call reads them there, writes its answer right
//! after them (growing the memory if the answer does not fit) and returns the answer's
//! length. The script knows where the answer starts: `base` plus the lengths it passed.
//!
//! A length the script gets wrong makes a call read its own or a neighbour's text, never
//! memory outside the module's: slices are bounded by the memory's size.

// The boundary itself is unsafe code: exported symbols, a linker symbol, and reads and writes
// of linear memory above the heap base. Each unsafe block says why it is sound.
#![allow(unsafe_code)]

use core::sync::atomic::{AtomicUsize, Ordering};

use consent_core::decision::ActionKind;
use consent_core::text::Sink;

unsafe extern "C" {
    /// Where the linker would start a heap: the first byte after the stack and the statics.
    static __heap_base: u8;
}

/// One page of linear memory.
const PAGE: usize = 65_536;

/// The first byte after the compiled policy (0: no policy yet, the heap base).
static POLICY_END: AtomicUsize = AtomicUsize::new(0);

/// Where the script writes a call's arguments.
#[unsafe(no_mangle)]
pub extern "C" fn base() -> usize {
    match POLICY_END.load(Ordering::Relaxed) {
        0 => heap_base(),
        end => end,
    }
}

fn heap_base() -> usize {
    core::ptr::addr_of!(__heap_base) as usize
}

fn memory_end() -> usize {
    core::arch::wasm32::memory_size(0) * PAGE
}

/// The arguments at [`base`]: first `bytes` bytes as they are (the policy, or 16 random
/// bytes), then `N` texts, `lens` bytes each; and where the answer goes (after them). An
/// argument that runs past the memory's end is empty; a text that is not UTF-8 (the script
/// encodes with `TextEncoder`, which always writes UTF-8) is empty too.
///
/// Always inlined: a copy per count, returning its arrays through memory, was 44 B gzip more.
#[inline(always)]
fn args<const N: usize>(
    bytes: usize,
    lens: [usize; N],
) -> (&'static [u8], [&'static str; N], usize) {
    let mut texts = [""; N];
    let (bytes, at) = fill(bytes, &lens, &mut texts);
    (bytes, texts, at)
}

/// [`args`]' work, not generic over the count: the module has it once, and checks every
/// text in one place.
#[inline(never)]
fn fill(bytes: usize, lens: &[usize], texts: &mut [&'static str]) -> (&'static [u8], usize) {
    let at = base();
    let raw = arg_at(at, bytes);
    let mut at = at.saturating_add(bytes);
    for (text, &len) in texts.iter_mut().zip(lens) {
        *text = consent_core::text::utf8(arg_at(at, len)).unwrap_or_default();
        at = at.saturating_add(len);
    }
    (raw, at)
}

/// `len` bytes at `at`, or none if they run past the memory's end.
fn arg_at(at: usize, len: usize) -> &'static [u8] {
    if at.saturating_add(len) > memory_end() {
        return &[];
    }
    // SAFETY: `at..at + len` lies within linear memory (checked above) and above the heap
    // base, which no Rust value uses (there is no allocator): only the script writes there,
    // before this call, and nothing writes it while the call runs (one thread).
    unsafe { core::slice::from_raw_parts(at as *const u8, len) }
}

/// The answer, written into memory from `at` up, growing the memory as it needs.
pub struct Answer {
    start: usize,
    at: usize,
}

impl Answer {
    fn new(at: usize) -> Self {
        Self { start: at, at }
    }

    fn len(&self) -> usize {
        self.at - self.start
    }
}

impl Sink for Answer {
    fn push_str(&mut self, s: &str) {
        let end = self.at.saturating_add(s.len());
        let have = memory_end();
        if end > have {
            let pages = (end - have).div_ceil(PAGE);
            if core::arch::wasm32::memory_grow(0, pages) == usize::MAX {
                // The browser refused more memory: the answer ends here, and the script's
                // `JSON.parse` refuses it, so nothing cut short is ever acted on.
                return;
            }
        }
        // SAFETY: `self.at..end` lies within linear memory (grown above) and above the heap
        // base, where no Rust value lives; `s` lies elsewhere (a value on the stack, the
        // policy or an argument, all below `self.start`).
        unsafe {
            core::ptr::copy_nonoverlapping(s.as_ptr(), self.at as *mut u8, s.len());
        }
        self.at = end;
    }
}

/// Runs `f` with an answer after the arguments; returns its length.
fn answer(at: usize, f: impl FnOnce(&mut Answer)) -> usize {
    let mut out = Answer::new(at);
    f(&mut out);
    out.len()
}

/// [`crate::start`]: the policy, the jar, `navigator.doNotTrack` and the languages.
#[unsafe(no_mangle)]
pub extern "C" fn start(
    policy: usize,
    jar: usize,
    dnt: usize,
    langs: usize,
    now_ms: f64,
    gpc: u32,
) -> usize {
    let (policy_bytes, [jar, dnt, langs], at) = args(policy, [jar, dnt, langs]);
    // The policy stays where it is, and the next calls' arguments go after it.
    POLICY_END.store(base() + policy_bytes.len(), Ordering::Relaxed);
    answer(at, |out| {
        crate::start(policy_bytes, jar, now_ms, gpc != 0, dnt, langs, out);
    })
}

/// [`crate::state`].
#[unsafe(no_mangle)]
pub extern "C" fn state() -> usize {
    answer(base(), crate::state)
}

/// [`crate::set_language`].
#[unsafe(no_mangle)]
pub extern "C" fn language(lang: usize) -> u32 {
    let (_, [lang], _) = args(0, [lang]);
    crate::set_language(lang).into()
}

/// [`crate::decide`]: 16 random bytes, the ids, the jar, the host and the page; `kind` is
/// the action's place in [`ActionKind::ALL`] (a number costs the module less than its name:
/// no parser, 94 B gzip).
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn decide(
    random: usize,
    ids: usize,
    jar: usize,
    host: usize,
    href: usize,
    now_ms: f64,
    https: u32,
    kind: u32,
) -> usize {
    let (random, [ids, jar, host, href], at) = args(random, [ids, jar, host, href]);
    let kind = ActionKind::ALL.get(kind as usize).copied();
    answer(at, |out| {
        crate::decide(kind, ids, now_ms, random, jar, host, href, https != 0, out);
    })
}

/// [`crate::allows`]: the category, the service (absent when `has_service` is 0), the path;
/// the [`Verdict`](crate::Verdict)'s number.
#[unsafe(no_mangle)]
pub extern "C" fn allows(category: usize, service: usize, path: usize, has_service: u32) -> u32 {
    let (_, [category, service, path], _) = args(0, [category, service, path]);
    let service = (has_service != 0).then_some(service);
    crate::allows(category, service, path) as u32
}

/// [`crate::accepted_category`].
#[unsafe(no_mangle)]
pub extern "C" fn category(id: usize) -> u32 {
    let (_, [id], _) = args(0, [id]);
    crate::accepted_category(id).into()
}

/// [`crate::accepted_service`].
#[unsafe(no_mangle)]
pub extern "C" fn service(id: usize, path: usize) -> u32 {
    let (_, [id, path], _) = args(0, [id, path]);
    crate::accepted_service(id, path).into()
}

/// [`crate::consent`].
#[unsafe(no_mangle)]
pub extern "C" fn consent() -> usize {
    answer(base(), crate::consent)
}

/// [`crate::signed`].
#[unsafe(no_mangle)]
pub extern "C" fn signed(token: usize, https: u32) -> usize {
    let (_, [token], at) = args(0, [token]);
    answer(at, |out| crate::signed(token, https != 0, out))
}

/// [`crate::reset`]: 16 random bytes, the jar and the host.
#[unsafe(no_mangle)]
pub extern "C" fn reset(random: usize, jar: usize, host: usize, now_ms: f64) -> usize {
    let (random, [jar, host], at) = args(random, [jar, host]);
    answer(at, |out| crate::reset(now_ms, random, jar, host, out))
}
