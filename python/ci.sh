#!/usr/bin/env bash
# The Python package's CI step (called by .ci/run): a virtual environment
# under target/, maturin, pytest, Pillow and mypy from PyPI, the extension
# built and installed with `maturin develop`, then pytest. Expects the Rust
# image-filter host (`cargo run --example image-filter`) built before, as
# .ci/run does; without it the test builds it with cargo.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
venv="$root/target/python-venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check maturin pytest pillow mypy
export VIRTUAL_ENV="$venv"
export PATH="$venv/bin:$PATH"
export CARGO_TARGET_DIR="$root/target/python-ext"
maturin develop --quiet
cargo fmt --check
cargo clippy --quiet --all-targets -- -D warnings
python -m pytest -q tests
