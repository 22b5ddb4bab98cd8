#!/usr/bin/env bash
# Runs every fuzz target for SECONDS seconds each, one after the other,
# with nightly Rust and cargo-fuzz (`cargo install cargo-fuzz`):
#
#   fuzz/run.sh 600            # ten minutes per target
#   fuzz/run.sh 60 load        # one target
#
# New inputs go to fuzz/target/corpus/<target>/ (not committed); the
# committed seeds and regression inputs in fuzz/corpus/<target>/ are read.
# Crashes are written to fuzz/artifacts/<target>/: minimize one with
# `cargo +nightly fuzz tmin <target> <file>`, copy it into
# fuzz/corpus/<target>/ and `cargo test --test fuzz_corpus` replays it.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:?usage: fuzz/run.sh SECONDS [TARGET...]}"
shift
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    targets=(load roundtrip valid_modules)
fi

for t in "${targets[@]}"; do
    mkdir -p "target/corpus/$t"
    echo "== $t for ${seconds}s"
    cargo +nightly fuzz run -O "$t" "target/corpus/$t" "corpus/$t" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=8192
done
