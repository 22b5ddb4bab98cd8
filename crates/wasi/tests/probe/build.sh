#!/usr/bin/env bash
# Rebuilds ../probe.wasm (needs the wasm32-wasip2 target and crates.io).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"
cargo build --quiet --release --locked --target wasm32-wasip2 --manifest-path "$here/Cargo.toml" \
  --config "build.rustflags=['--remap-path-prefix=$here=probe']"
cp "$CARGO_TARGET_DIR/wasm32-wasip2/release/probe.wasm" "$here/../probe.wasm"
