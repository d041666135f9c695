//! The server-side check ([`consent_core::Gate::check`]) on a realistic 600-byte `Cookie`
//! header holding 12 cookies, measured in the same run as parsing that header with the
//! `cookie` crate, plus the heap allocations per call of each.
//!
//! ```text
//! cargo bench -p consent-core --bench check
//! ```
//!
//! Before criterion runs, every benchmarked operation is run 10,000 times under a counting
//! global allocator; the process fails if either gate check allocates. Figures and method are
//! in BENCHMARKS.md.

// A benchmark's set-up may panic: it fails loudly rather than measure the wrong thing.
#![allow(clippy::expect_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;

use consent_core::policy::{Action, Context, Signals, StoredStatus, decide, evaluate};
use consent_core::{Config, ConsentId, Gate, Lang, SigningKey, Token};
use cookie::Cookie;
use criterion::Criterion;
use time::{Duration, OffsetDateTime};

/// Counts allocations (and reallocations) made by the current thread; forwards to `System`.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The decision's time: 2026-11-01T00:00:00Z.
const DECIDED_AT: i64 = 1_793_491_200;
/// Calls per operation when counting allocations.
const COUNT_CALLS: u64 = 10_000;
/// Every header is padded to exactly this length.
const HEADER_LEN: usize = 600;
/// Cookies per header, the consent cookie included.
const COOKIES: usize = 12;

/// Everything the benchmarks share, built once.
struct Fixture {
    plain: Gate,
    keyed: Gate,
    /// The header with the unsigned token.
    unsigned: String,
    /// The header with the signed token.
    signed: String,
    /// When the requests are checked: a day after the decision.
    now: OffsetDateTime,
}

/// A `Cookie` header as a Finnish clinic's site receives it from a returning visitor who
/// accepted everything: analytics, ads, the Facebook pixel, Hotjar, Cloudflare, a session and
/// a CSRF token, with the consent cookie in the middle (7th of 12). The Hotjar cookie's value
/// is cut to make the header exactly [`HEADER_LEN`] bytes, so both headers cost the `cookie`
/// crate the same to parse.
fn header(token: &str) -> String {
    const HOTJAR: &str = "eyJpZCI6IjhmM2MxZDJlLTRiNWEtNWM2ZC05ZTdmLTBhMWIyYzNkNGU1ZiIsImNyZWF0ZWQiOjE3OTM0OTEyMDAwMDAsImV4aXN0aW5nIjp0cnVlLCJ1c2VySWQiOiJ1c2VyMTIzNDUiLCJwYWdlcyI6M30";
    let before = [
        "_ga=GA1.1.1234567890.1790000000",
        "_ga_7K2M9Q4LPX=GS1.1.1793480000.12.1.1793481234.0.0.0",
        "_gcl_au=1.1.987654321.1790000000",
        "_fbp=fb.1.1790000000123.1234567890",
        "lang=fi",
        "sessionid=k3x9q2m8v7w1z5b4n6c0d8f2g4h6j8l0p1r3t5y7u9i2o4a6s8",
    ]
    .join("; ");
    let after = [
        "csrftoken=Xq7Lm2Vb9Nc4Zt8Rk1Wp6Ys3Hd5Jf0Ga2Qe7Ui9Ox4Bn1Mv8Cl3Kw6Tz0Rj5Py2Hs",
        "_gid=GA1.1.1837465029.1793480000",
        "cf_clearance=Zc8Qw1Ex3Rt5Yu7Io9Pa2Sd4Fg6Hj8Kl0-1793481234-1.2.1.1-Mn3Bv5Cx7Zl9Kj1Hg",
    ]
    .join("; ");
    let hotjar_name = "_hjSessionUser_3412345";
    let last = "theme=dark";
    let fixed = format!("{before}; consent={token}; {after}; {hotjar_name}=; {last}");
    let room = HEADER_LEN
        .checked_sub(fixed.len())
        .expect("room for the Hotjar value");
    let hotjar = HOTJAR.get(..room).expect("the Hotjar value is long enough");
    let header = format!("{before}; consent={token}; {after}; {hotjar_name}={hotjar}; {last}");
    assert!(
        (580..=620).contains(&header.len()),
        "{} bytes",
        header.len()
    );
    assert_eq!(header.len(), HEADER_LEN);
    let cookies: Vec<_> = Cookie::split_parse(header.as_str())
        .collect::<Result<_, _>>()
        .expect("every cookie in the header parses");
    assert_eq!(cookies.len(), COOKIES, "{header}");
    let position = cookies.iter().position(|c| c.name() == "consent");
    assert!(
        position.is_some_and(|i| i != 0 && i != COOKIES - 1),
        "consent cookie at {position:?}"
    );
    header
}

impl Fixture {
    fn new() -> Self {
        let config = Config::from_json(consent_core::EXAMPLE_CONFIG).expect("valid example");
        let decided = OffsetDateTime::from_unix_timestamp(DECIDED_AT).expect("in range");
        let visit = evaluate(&config, None, None, decided, Signals::default());
        let ctx = Context {
            now: decided,
            signals: Signals::default(),
            lang: Lang::Fi,
            fresh_id: ConsentId::from_bytes([0x5e; 16]),
        };
        let decision = decide(&config, &visit, Action::AcceptAll, ctx).expect("a decision");
        let key = SigningKey::new(&[7u8; 32]).expect("a 32-byte key");
        let unsigned = header(&Token::unsigned(*decision.state()).to_string());
        let signed = header(&Token::signed(*decision.state(), &key).to_string());
        let fixture = Self {
            plain: Gate::new(&config, None),
            keyed: Gate::new(&config, Some(key)),
            unsigned,
            signed,
            now: decided + Duration::days(1),
        };
        // The benchmarks measure the success path: a valid token that allows analytics.
        for (gate, header) in [
            (&fixture.plain, &fixture.unsigned),
            (&fixture.keyed, &fixture.signed),
        ] {
            let analytics = gate.category("analytics").expect("in the example config");
            let verdict = gate.check(Some(header), None, fixture.now);
            assert_eq!(verdict.status(), StoredStatus::Valid, "{header}");
            assert!(verdict.allows(analytics), "{header}");
        }
        // And the keyed gate really verifies: the unsigned token does not count for it.
        let analytics = fixture.keyed.category("analytics").expect("in the config");
        assert!(
            !fixture
                .keyed
                .check(Some(&fixture.unsigned), None, fixture.now)
                .allows(analytics)
        );
        fixture
    }

    fn gate_unsigned(&self) -> bool {
        let verdict = self.plain.check(
            black_box(Some(self.unsigned.as_str())),
            None,
            black_box(self.now),
        );
        black_box(verdict).status() == StoredStatus::Valid
    }

    fn gate_signed(&self) -> bool {
        let verdict = self.keyed.check(
            black_box(Some(self.signed.as_str())),
            None,
            black_box(self.now),
        );
        black_box(verdict).status() == StoredStatus::Valid
    }

    /// Parses every cookie of the header, counting those that parse.
    fn parse_all(&self) -> usize {
        let n = Cookie::split_parse(black_box(self.unsigned.as_str()))
            .filter(Result::is_ok)
            .count();
        black_box(n)
    }

    /// Parses cookies until the consent cookie, returning its value.
    fn find_consent(&self) -> Option<&str> {
        let value = Cookie::split_parse(black_box(self.unsigned.as_str()))
            .filter_map(Result::ok)
            .find(|c| c.name() == "consent")
            .and_then(|c| c.value_raw());
        black_box(value)
    }
}

/// Allocations per call of `f`, over [`COUNT_CALLS`] calls on this thread.
fn allocations_per_call(mut f: impl FnMut()) -> (u64, f64) {
    f(); // Warm up anything lazily initialised (CPU feature detection, say).
    let before = ALLOCATIONS.with(Cell::get);
    for _ in 0..COUNT_CALLS {
        f();
    }
    let total = ALLOCATIONS.with(Cell::get) - before;
    (total, total as f64 / COUNT_CALLS as f64)
}

fn count_allocations(fx: &Fixture) {
    let counts = [
        (
            "gate_check/unsigned",
            allocations_per_call(|| {
                black_box(fx.gate_unsigned());
            }),
        ),
        (
            "gate_check/signed",
            allocations_per_call(|| {
                black_box(fx.gate_signed());
            }),
        ),
        (
            "cookie_crate/parse_all",
            allocations_per_call(|| {
                black_box(fx.parse_all());
            }),
        ),
        (
            "cookie_crate/find_consent",
            allocations_per_call(|| {
                black_box(fx.find_consent());
            }),
        ),
    ];
    let line: Vec<String> = counts
        .iter()
        .map(|(name, (_, per_call))| format!("{name} {per_call}"))
        .collect();
    println!(
        "header: {} bytes, {COOKIES} cookies; allocations per call ({COUNT_CALLS} calls each): {}",
        fx.unsigned.len(),
        line.join(", ")
    );
    for (name, (total, _)) in &counts[..2] {
        assert_eq!(
            *total, 0,
            "{name} allocated {total} times in {COUNT_CALLS} calls"
        );
    }
}

fn bench_check(c: &mut Criterion) {
    let fx = Fixture::new();
    // One group, so the check and the cookie-crate parse are measured in the same run.
    let mut group = c.benchmark_group("check");
    group.bench_function("gate_check/unsigned", |b| b.iter(|| fx.gate_unsigned()));
    group.bench_function("gate_check/signed", |b| b.iter(|| fx.gate_signed()));
    group.bench_function("cookie_crate/parse_all", |b| b.iter(|| fx.parse_all()));
    group.bench_function("cookie_crate/find_consent", |b| {
        b.iter(|| fx.find_consent().map(str::len))
    });
    group.finish();
}

/// One benchmarked operation, returning something to keep it from being optimised away.
type Call = fn(&Fixture) -> usize;

/// With `CHECK_BENCH_REPEAT="<function> <calls>"` (say `"gate_check/signed 10000"`), calls
/// that function that many times and exits: for counting instructions per call with
/// `valgrind --tool=cachegrind` at two call counts, which the machine's load does not skew.
fn repeat(spec: &str) {
    let fx = Fixture::new();
    let (name, calls) = spec.split_once(' ').expect("\"<function> <calls>\"");
    let calls: u64 = calls.parse().expect("a number of calls");
    let functions: [(&str, Call); 4] = [
        ("gate_check/unsigned", |fx| usize::from(fx.gate_unsigned())),
        ("gate_check/signed", |fx| usize::from(fx.gate_signed())),
        ("cookie_crate/parse_all", Fixture::parse_all),
        ("cookie_crate/find_consent", |fx| {
            fx.find_consent().map_or(0, str::len)
        }),
    ];
    let call = functions
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| *f)
        .expect("one of the four benchmark functions");
    let mut sink = 0usize;
    for _ in 0..calls {
        sink += call(&fx);
    }
    black_box(sink);
}

fn main() {
    if let Ok(spec) = std::env::var("CHECK_BENCH_REPEAT") {
        return repeat(&spec);
    }
    count_allocations(&Fixture::new());
    // What `criterion_group!` and `criterion_main!` expand to, after the allocation count.
    let mut criterion = Criterion::default().configure_from_args();
    bench_check(&mut criterion);
    criterion.final_summary();
}
