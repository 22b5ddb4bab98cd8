#!/usr/bin/env bash
# Builds the guest components that componentry's example, tests and
# benchmarks load, from their Rust sources:
#
#   examples/image-filter/image-filter.wasm  (examples/image-filter/guest)
#   tests/guests/counter.wasm                (tests/guests/counter)
#   tests/guests/strings.wasm                (tests/guests/strings)
#
# Each guest is compiled with wit-bindgen for wasm32-unknown-unknown, then
# turned into a component by tools/componentize (wit-component). The
# components are committed; `build-guests.sh --check` rebuilds them into a
# temporary directory and fails if any differs from the committed file.
#
# Needs: the wasm32-unknown-unknown target (`rustup target add
# wasm32-unknown-unknown`) and crates.io. Everything is built with
# `--locked` in target/guests. Paths are remapped so that the bytes do not
# depend on where the repository or the cargo home is.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
check=false
case "${1:-}" in
  --check) check=true ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

export CARGO_TARGET_DIR="$root/target/guests"
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
# Only the wasm target's code gets these flags (host code, proc macros and
# the tool, is built without them).
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--remap-path-prefix=$root=/componentry --remap-path-prefix=$cargo_home=/cargo"

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  echo "build-guests: the wasm32-unknown-unknown target is missing: rustup target add wasm32-unknown-unknown" >&2
  exit 1
fi

cargo build --quiet --release --locked --target wasm32-unknown-unknown \
  --manifest-path "$root/examples/image-filter/guest/Cargo.toml"
cargo build --quiet --release --locked --target wasm32-unknown-unknown \
  --manifest-path "$root/tests/guests/Cargo.toml" --workspace
cargo build --quiet --release --locked \
  --manifest-path "$root/tools/componentize/Cargo.toml"

core="$CARGO_TARGET_DIR/wasm32-unknown-unknown/release"
tool="$CARGO_TARGET_DIR/release/componentize"
out="$root"
if $check; then
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
  mkdir -p "$out/examples/image-filter" "$out/tests/guests"
fi

status=0
for pair in \
  image_filter_guest:examples/image-filter/image-filter.wasm \
  counter_guest:tests/guests/counter.wasm \
  strings_guest:tests/guests/strings.wasm \
  everything_guest:tests/guests/everything.wasm; do
  module="${pair%%:*}"
  dest="${pair#*:}"
  "$tool" "$core/$module.wasm" "$out/$dest"
  if $check; then
    if cmp -s "$out/$dest" "$root/$dest"; then
      echo "build-guests: $dest is current"
    else
      echo "build-guests: $dest is stale or was built differently: run tools/build-guests.sh and commit it" >&2
      status=1
    fi
  else
    echo "build-guests: wrote $dest ($(wc -c <"$root/$dest") bytes)"
  fi
done
exit $status
