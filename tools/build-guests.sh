#!/usr/bin/env bash
# Builds the guest components that componentry's example, tests and
# benchmarks load, from their Rust sources:
#
#   examples/image-filter/image-filter.wasm  (examples/image-filter/guest)
#   tests/guests/counter.wasm                (tests/guests/counter)
#   tests/guests/strings.wasm                (tests/guests/strings)
#   tests/guests/everything.wasm             (tests/guests/everything: every type, for bindgen!)
#   benches/components/bench-guest.wasm      (tests/guests/bench: the boundary benchmark's guest)
#   tests/guests/async-echo.wasm             (tests/guests/async-echo: the component model's async ABI)
#   tests/guests/async-tasks.wasm            (tests/guests/async-tasks: async-echo less streams and futures)
#   tests/guests/async-yield.wasm            (tests/guests/async-yield: async-echo's yielding tasks alone)
#   tests/guests/wasi/{hello,cli,fs,image-filter}.wasm  (tests/guests/wasi/*)
#   tests/guests/wasi/fs-p1.wasm             (tests/guests/wasi/fs, for wasip1)
#
# The first eight are compiled with wit-bindgen for wasm32-unknown-unknown,
# then turned into components by tools/componentize (wit-component);
# the async guests in a cargo invocation of their own, because they turn on
# wit-bindgen's `async`, `async-spawn` and `inter-task-wakeup` features, which would otherwise be
# unified into the other guests' build of wit-bindgen. The
# WASI programs are plain Rust programs using std: for wasm32-wasip2, rustc
# (its linker, wasm-component-ld) already writes a component, which is
# copied; `fs` is also built for wasm32-wasip1 and made a component by
# tools/componentize with the preview1 command adapter. The components are
# committed; `build-guests.sh --check` rebuilds them into a temporary
# directory and fails if any differs from the committed file.
#
# Needs: the wasm32-unknown-unknown, wasm32-wasip1 and wasm32-wasip2
# targets (`rustup target add wasm32-unknown-unknown wasm32-wasip1
# wasm32-wasip2`) and crates.io. Everything is built with `--locked` in
# target/guests. Paths are remapped so that the bytes do not depend on where
# the repository or the cargo home is.
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
remap="--remap-path-prefix=$root=/componentry --remap-path-prefix=$cargo_home=/cargo"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$remap"
export CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS="$remap"
export CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS="$remap"

installed="$(rustup target list --installed 2>/dev/null || true)"
for target in wasm32-unknown-unknown wasm32-wasip1 wasm32-wasip2; do
  if ! grep -qx "$target" <<<"$installed"; then
    echo "build-guests: the $target target is missing: rustup target add $target" >&2
    exit 1
  fi
done

cargo build --quiet --release --locked --target wasm32-unknown-unknown \
  --manifest-path "$root/examples/image-filter/guest/Cargo.toml"
cargo build --quiet --release --locked --target wasm32-unknown-unknown \
  --manifest-path "$root/tests/guests/Cargo.toml" --workspace --exclude async-echo-guest \
  --exclude async-tasks-guest --exclude async-yield-guest
cargo build --quiet --release --locked --target wasm32-unknown-unknown \
  --manifest-path "$root/tests/guests/Cargo.toml" -p async-echo-guest -p async-tasks-guest \
  -p async-yield-guest
cargo build --quiet --release --locked --target wasm32-wasip2 \
  --manifest-path "$root/tests/guests/wasi/Cargo.toml" --workspace
cargo build --quiet --release --locked --target wasm32-wasip1 \
  --manifest-path "$root/tests/guests/wasi/Cargo.toml" -p fs
cargo build --quiet --release --locked \
  --manifest-path "$root/tools/componentize/Cargo.toml"

core="$CARGO_TARGET_DIR/wasm32-unknown-unknown/release"
p1="$CARGO_TARGET_DIR/wasm32-wasip1/release"
p2="$CARGO_TARGET_DIR/wasm32-wasip2/release"
tool="$CARGO_TARGET_DIR/release/componentize"
out="$root"
if $check; then
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
  mkdir -p "$out/examples/image-filter" "$out/tests/guests/wasi" "$out/benches/components"
fi

# HOW:BUILT-FILE:DESTINATION. HOW is `bindgen` (componentize a wit-bindgen
# module), `wasip1` (componentize with the preview1 adapter) or `copy` (a
# component already).
status=0
for entry in \
  bindgen:$core/image_filter_guest.wasm:examples/image-filter/image-filter.wasm \
  bindgen:$core/counter_guest.wasm:tests/guests/counter.wasm \
  bindgen:$core/strings_guest.wasm:tests/guests/strings.wasm \
  bindgen:$core/everything_guest.wasm:tests/guests/everything.wasm \
  bindgen:$core/bench_guest.wasm:benches/components/bench-guest.wasm \
  bindgen:$core/async_echo_guest.wasm:tests/guests/async-echo.wasm \
  bindgen:$core/async_tasks_guest.wasm:tests/guests/async-tasks.wasm \
  bindgen:$core/async_yield_guest.wasm:tests/guests/async-yield.wasm \
  copy:$p2/hello.wasm:tests/guests/wasi/hello.wasm \
  copy:$p2/cli.wasm:tests/guests/wasi/cli.wasm \
  copy:$p2/fs.wasm:tests/guests/wasi/fs.wasm \
  copy:$p2/image-filter.wasm:tests/guests/wasi/image-filter.wasm \
  wasip1:$p1/fs.wasm:tests/guests/wasi/fs-p1.wasm; do
  how="${entry%%:*}"
  rest="${entry#*:}"
  built="${rest%%:*}"
  dest="${rest#*:}"
  case "$how" in
    bindgen) "$tool" "$built" "$out/$dest" ;;
    wasip1) "$tool" --wasip1-command "$built" "$out/$dest" ;;
    copy) cp "$built" "$out/$dest" ;;
  esac
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
