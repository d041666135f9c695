//! Placeholder, replaced by the server-side check benchmark.
fn main() {}
