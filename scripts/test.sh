#!/usr/bin/env bash
# Every check CI makes, in the order it makes them. Installs the Rust pieces it needs.
#   bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain: wasm32 target, rustfmt, clippy"
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed | grep -q '^clippy' || rustup component add clippy

step "cargo fmt --check"
cargo fmt --all --check

step "clippy, all targets and features, warnings denied"
cargo clippy --workspace --all-targets --all-features -- -D warnings

step "tests: unit, integration, property, doctests (README included)"
cargo test --workspace --all-features

step "rustdoc, warnings and broken links denied"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features

step "consent-core for wasm32-unknown-unknown"
cargo build -p consent-core -p consent-wasm --target wasm32-unknown-unknown --profile wasm-release

step "fuzz targets compile"
cargo check --manifest-path fuzz/Cargo.toml --bins

printf '\nall checks passed\n'
