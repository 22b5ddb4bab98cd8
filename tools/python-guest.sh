#!/usr/bin/env bash
# Builds tests/guests/python/app.py into a WASI 0.2 command component with
# componentize-py (from PyPI, in a virtualenv), runs it with `componentry
# run`, checks its output and prints its start-up time. The component
# (about 18 MB: CPython and its standard library) is not committed; it is
# written to target/python-guest/hello-py.wasm.
#
# Needs: python3 with venv and pip, PyPI, and the WASI 0.2 WIT
# (../shared/wasi/0.2, or the folder $COMPONENTRY_WASI_WIT names; skipped
# if absent). The componentry binary is $COMPONENTRY, default
# target/debug/componentry (built if missing); a debug build takes about
# 6 s to start the guest, a release build 0.3-0.4 s.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
wit_src="${COMPONENTRY_WASI_WIT:-$root/../shared/wasi/0.2}"
if [ ! -d "$wit_src/cli" ]; then
  echo "python-guest: no WASI 0.2 WIT at $wit_src (set COMPONENTRY_WASI_WIT): skipped"
  exit 0
fi
work="$root/target/python-guest"
mkdir -p "$work"

if [ ! -x "$work/venv/bin/componentize-py" ]; then
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install --quiet componentize-py==0.25.1
fi

# The wasi:cli package at the root, the packages it uses in deps/.
rm -rf "$work/wit"
mkdir -p "$work/wit/deps"
cp "$wit_src"/cli/*.wit "$work/wit/"
for pkg in io clocks random filesystem sockets; do
  mkdir -p "$work/wit/deps/$pkg"
  cp "$wit_src/$pkg"/*.wit "$work/wit/deps/$pkg/"
done

start=$(date +%s%N)
"$work/venv/bin/componentize-py" -q -d "$work/wit" -w wasi:cli/command componentize app \
  -p "$root/tests/guests/python" -o "$work/hello-py.wasm"
# componentize-py compiles the app with the host's Python, leaving a cache.
rm -rf "$root/tests/guests/python/__pycache__"
echo "python-guest: componentize-py wrote target/python-guest/hello-py.wasm" \
  "($(wc -c <"$work/hello-py.wasm") bytes) in $(( ($(date +%s%N) - start) / 1000000 )) ms"

bin="${COMPONENTRY:-$root/target/debug/componentry}"
if [ ! -x "$bin" ]; then
  cargo build --quiet -p componentry-cli --manifest-path "$root/Cargo.toml"
fi

expected="Hello from Python! ['a', '--b']
GREETING = hi
ONE
TWO"
start=$(date +%s%N)
out=$(printf 'one\ntwo\n' | "$bin" run --env GREETING=hi "$work/hello-py.wasm" a --b)
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
if [ "$out" != "$expected" ]; then
  printf 'python-guest: unexpected output:\n%s\n' "$out" >&2
  exit 1
fi
echo "python-guest: output as expected; componentry run took $elapsed ms ($bin)"
