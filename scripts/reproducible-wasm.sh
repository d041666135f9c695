# Sourced by wasm/build.sh and build/build.sh: what makes a committed WebAssembly build
# reproducible byte for byte, so that CI can check it is not stale.
#   source scripts/reproducible-wasm.sh <target dir name> [extra rustflags]
# Sets `root` (the workspace) and moves there; builds in target/<name>, since the remapping
# flags would otherwise rebuild everyone's target/; remaps the paths that rustc writes into
# the module; and stops unless wasm-bindgen-cli is the version Cargo.lock pins (its glue
# must match the crate).
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="$root/target/$1"
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
export RUSTFLAGS="--remap-path-prefix=$cargo_home=/cargo --remap-path-prefix=$root=/src ${2:-}"
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
if ! wasm-bindgen --version | grep -qx "wasm-bindgen $want"; then
  echo "wasm-bindgen-cli $want is needed (bash scripts/setup.sh installs it)" >&2
  exit 1
fi
