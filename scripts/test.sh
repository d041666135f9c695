#!/usr/bin/env bash
# Every check CI makes, in the order it makes them. Installs the Rust pieces it needs.
#   bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# No incremental caches: every step here builds once, and they were a quarter of target/
# (2.5 of 10 GB on a fresh clone).
export CARGO_INCREMENTAL=0

step() { printf '\n==> %s\n' "$*"; }

step "set-up: what a fresh machine lacks (scripts/setup.sh)"
source scripts/setup.sh

step "cargo fmt --check"
cargo fmt --all --check

step "clippy, all targets and features, warnings denied"
cargo clippy --workspace --all-targets --all-features -- -D warnings

step "tests: unit, integration, property, doctests (README included)"
cargo test --workspace --all-features

step "rustdoc, warnings and broken links denied"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features
# And with the default features: a link to a feature-gated item is broken there.
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
# consent-gate's examples as an app that takes it with the default features (no `html`, no
# `axum`) compiles them: in the workspace's runs above its features are those of its users.
cargo test -q -p consent-gate --doc

step "the library crates package for crates.io (consent-core, consent-gate: packaged, then built from the package)"
# Cargo verifies consent-gate's package against consent-core's, which it treats as a registry
# crate: in a target directory that built consent-core 0.1.0 from an older commit (a kept
# checkout, as CI's is) that stale build counts as fresh, since a registry crate's version is
# taken to fix its contents. So the check builds in a target directory of its own, new each run.
PACKAGE_TARGET="${CARGO_TARGET_DIR:-target}/package-check"
rm -rf "$PACKAGE_TARGET"
cargo package --quiet -p consent-core -p consent-gate --allow-dirty --target-dir "$PACKAGE_TARGET"

step "consent-core for wasm32-unknown-unknown"
cargo build -p consent-core -p consent-wasm --target wasm32-unknown-unknown --profile wasm-release

# The banner's own checks (dist/ freshness, size budget, browser tests), when present.
if [ -f scripts/test-wasm.sh ]; then
  step "banner: scripts/test-wasm.sh"
  bash scripts/test-wasm.sh
fi

step "end to end: the banner against consent serve --demo, in Chromium"
(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
# The binaries and examples as the tests above built them (the same features: nothing new
# is compiled; another feature set would build the dependencies a second time).
cargo build -q --workspace --all-features --bins --examples
CONSENT_BIN="$PWD/target/debug/consent" timeout 600 node --test tests/e2e/run.mjs

# The page layer where the demo does not go (consent-gate's static_site example): under a
# nonce-only CSP (the banner's module, held back until after the first frame and put back by
# the layer's script, the Consent Mode script and every tag made live carry the response's
# nonce; no violation), and with gzip outside the layer (pages rewritten, then compressed)
# and inside it (pages pass through as written; the banner alone gates them).
step "end to end: the page layer under a nonce policy and with compression, in Chromium"
GATE_BIN="$PWD/target/debug/examples/static_site" timeout 180 node --test tests/e2e/page-layer.mjs

# The playground (playground/) at /playground/ of consent serve and as a plain static
# directory: a config's problems with their paths, the real banner previewed in fi/sv/en with
# a layout, position and theme switch, the declaration and the downloads against the CLI's.
step "playground: in Chromium, served by consent serve and as a static directory"
CONSENT_BIN="$PWD/target/debug/consent" timeout 120 node --test tests/e2e/playground.mjs

# The clinic's dashboard (/admin): every panel in fi/sv/en, phone and desktop, no overflow,
# axe, the search by consent id, the export and logout (screenshots in target/e2e-artifacts/).
step "end to end: the clinic's dashboard in Chromium"
CONSENT_BIN="$PWD/target/debug/consent" timeout 180 node --test tests/e2e/dashboard.mjs

# The npm package (npm/, @consent-rs/banner) as a static site gets it: npm pack, npm install
# of the tarball into an empty site with no registry, `npx @consent-rs/banner build` of the
# example config, the banner driven in Chromium on that site (first layer, "Reject all",
# "Accept all", a gated script), and npm publish --dry-run. Uses tests/e2e's playwright-core.
step "npm package: packed, installed into an empty static site, the banner in Chromium"
timeout 120 node --test tests/e2e/npm-package.mjs

step "fuzz targets compile"
cargo check --manifest-path fuzz/Cargo.toml --bins

step "fuzz: every target for a bounded time from its seeds (scripts/fuzz-bounded.sh)"
FUZZ_SECONDS=${FUZZ_SECONDS:-15} bash scripts/fuzz-bounded.sh

printf '\nall checks passed\n'
