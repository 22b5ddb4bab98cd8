#!/usr/bin/env bash
# Instructions per iteration of boundary workloads, under callgrind:
# for each GUEST:API:WORKLOAD (see benches/boundary.rs), runs the bench
# binary with BOUNDARY_N=0 and BOUNDARY_N=N and prints
# (Ir(N) - Ir(0)) / N. Stable where wall-clock times on a shared machine
# are not.
#
#   benches/callgrind.sh [BENCH_BINARY] [SPEC...]
#
# BENCH_BINARY defaults to the newest target/release/deps/boundary-*;
# build it first with `cargo bench --bench boundary --no-run`. SPEC is
# GUEST:API:WORKLOAD[=N] (default N: 200, 5 for the x1000 host-call
# workloads, 10 for instantiate, 20 for count-strings).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-}"
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
  bin=$(ls -t target/release/deps/boundary-* | grep -v '\.d$' | head -1)
else
  shift
fi
specs=("$@")
if [ ${#specs[@]} -eq 0 ]; then
  specs=()
  for w in nop add echo-string-16 echo-record count-strings call-host-add call-host-log resource instantiate; do
    specs+=("raw:wit-bindgen:$w" "wit-bindgen:typed:$w" "wat:typed:$w")
  done
  for w in nop add echo-record; do
    specs+=("wit-bindgen:val:$w" "wat:val:$w")
  done
  specs+=("compose:host:echo-string-16" "compose:c2c:echo-string-16")
fi
ir() {
  local out
  out=$(mktemp)
  BOUNDARY_CALLGRIND="$1" BOUNDARY_N="$2" valgrind --tool=callgrind --callgrind-out-file="$out" \
    "$bin" >/dev/null 2>&1
  awk '/^summary:/ { print $2 }' "$out"
  rm -f "$out"
}
for spec in "${specs[@]}"; do
  name="${spec%%=*}"
  n="${spec#*=}"
  if [ "$n" = "$spec" ]; then
    case "$name" in
      *call-host-*) n=5 ;;
      *instantiate) n=10 ;;
      *count-strings) n=20 ;;
      *) n=200 ;;
    esac
  fi
  # The N=0 run sets up (and warms) the same workload, so the difference
  # is N iterations exactly.
  base=$(ir "$name" 0)
  total=$(ir "$name" "$n")
  echo "$name $(( (total - base) / n ))"
done
