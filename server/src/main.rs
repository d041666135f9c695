//! The `consent` command.
fn main() {}
