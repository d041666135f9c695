//! The server-side check allocates nothing, on the success path and on every failure path.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use consent_core::policy::{self, Action, Context, Signals};
use consent_core::{Config, ConsentId, Gate, Keyring, Lang, SigningKey, Token};
use time::OffsetDateTime;

/// Counts allocations made by the current thread only, so parallel tests do not interfere.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
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

fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn check_never_allocates() {
    let config = Config::from_json(consent_core::EXAMPLE_CONFIG).expect("valid");
    let now = OffsetDateTime::from_unix_timestamp(1_793_491_200).expect("in range");
    let before = policy::evaluate(&config, None, None, now, Signals::default());
    let ctx = Context {
        now,
        signals: Signals::default(),
        lang: Lang::En,
        fresh_id: ConsentId::from_bytes([1; 16]),
    };
    let d = policy::decide(&config, &before, Action::AcceptAll, ctx).expect("in range");
    let key = SigningKey::new(&[8; 32]).expect("key");
    let signed = format!(
        "_ga=GA1.1.1.1; consent={}; lang=fi",
        Token::signed(*d.state(), &key)
    );
    let unsigned = format!(
        "_ga=GA1.1.1.1; consent={}; lang=fi",
        Token::unsigned(*d.state())
    );
    let plain = Gate::new(&config, None);
    let keyed = Gate::new(&config, Some(key));
    // After `consent key rotate`: the key above retired (its tokens accepted), then another
    // retired and revoked, and a new current key. Its tokens take the retired keys' path.
    let ring = Keyring::new(&[8; 32])
        .and_then(|k| k.rotated(&[9; 32], false))
        .and_then(|k| k.rotated(&[10; 32], true))
        .expect("rotated");
    let rotated = Gate::with_keys(&config, ring.token_keys());
    let analytics = plain.category("analytics").expect("analytics");
    // Past the one-pass decoder: quotes, a trailing space, a corrupt tail.
    let token = Token::unsigned(*d.state()).to_string();
    let quoted = format!("a=b; consent=\"{token}\"; c=d");
    let spaced = format!("consent={token} ; c=d");
    let corrupt = format!("consent={}!; c=d", &token[..token.len() - 1]);

    let headers = [
        Some(signed.as_str()),
        Some(unsigned.as_str()),
        Some(quoted.as_str()),
        Some(spaced.as_str()),
        Some(corrupt.as_str()),
        Some("consent=1.garbage!; a=b"),
        Some("consent=9.AAAA"),
        Some("a=b"),
        Some(""),
        None,
    ];
    for header in headers {
        for gate in [&plain, &keyed, &rotated] {
            for gpc in [None, Some("1")] {
                let n = allocations_in(|| {
                    std::hint::black_box(gate.check(std::hint::black_box(header), gpc, now));
                });
                assert_eq!(n, 0, "{header:?} gpc={gpc:?}");
            }
        }
    }
    // The success paths really were taken.
    assert!(keyed.check(Some(&signed), None, now).allows(analytics));
    assert!(rotated.check(Some(&signed), None, now).allows(analytics));
    let signed_quoted = signed
        .replacen("consent=", "consent=\"", 1)
        .replacen("; lang", "\"; lang", 1);
    assert!(
        rotated
            .check(Some(&signed_quoted), None, now)
            .allows(analytics)
    );
    assert_eq!(
        allocations_in(|| {
            std::hint::black_box(rotated.check(Some(&signed_quoted), None, now));
        }),
        0
    );
    assert!(plain.check(Some(&quoted), None, now).allows(analytics));
    assert!(plain.check(Some(&spaced), None, now).allows(analytics));
    assert!(!plain.check(Some(&corrupt), None, now).allows(analytics));
    assert!(!keyed.check(Some(&unsigned), None, now).allows(analytics));
}
