#!/usr/bin/env bash
# Builds both firmwares in release, runs each under QEMU (mps2-an386,
# Cortex-M4F), fails unless both exit with EXIT_SUCCESS and print
# "RESULT PASS", checks the wasmparsers in each firmware's dependency graph
# (wasmi's alone in the baseline), and prints the footprint table.
#
# Installs nothing. Needs: qemu-system-arm, the rustup target
# thumbv7em-none-eabihf, and llvm-size (Debian's `llvm`, or rustup's
# llvm-tools component) or arm-none-eabi-size; set SIZE=/path/to/tool to
# choose one.
set -euo pipefail
cd "$(dirname "$0")"

TARGET=thumbv7em-none-eabihf
QEMU=(qemu-system-arm -cpu cortex-m4 -machine mps2-an386 -nographic
      -semihosting-config enable=on,target=native)
BINS=(wasmi-only component)

find_size() {
    if [[ -n "${SIZE:-}" ]]; then echo "$SIZE"; return; fi
    local t
    for t in llvm-size "$(rustc --print sysroot)"/lib/rustlib/*/bin/llvm-size \
             arm-none-eabi-size; do
        if command -v "$t" >/dev/null 2>&1; then echo "$t"; return; fi
    done
    echo "run.sh: no llvm-size or arm-none-eabi-size found (set SIZE=...)" >&2
    exit 1
}
SIZE_TOOL=$(find_size)
command -v qemu-system-arm >/dev/null || { echo "run.sh: qemu-system-arm not found" >&2; exit 1; }

# Each firmware is built with only its own runtime in its dependency graph
# (see Cargo.toml): the baseline must not get componentry's wasmparser
# features.
declare -A FEATURES=(
    [component]=""
    [wasmi-only]="--no-default-features --features wasmi-only"
)

echo "== build (release: opt-level z, fat LTO, 1 codegen unit, panic=abort)"
for bin in "${BINS[@]}"; do
    # shellcheck disable=SC2086
    cargo build --release --bin "$bin" ${FEATURES[$bin]}
done

# The baseline has wasmi's wasmparser only; the component firmware has that
# one (core modules) and componentry's (components), no more.
# (Proc macros, such as `bindgen!` with its wit-parser, run on the build
# host and are left out.)
echo "== wasmparsers in each firmware's dependency graph"
declare -A MAX_PARSERS=([component]=2 [wasmi-only]=1)
for bin in "${BINS[@]}"; do
    # shellcheck disable=SC2086
    parsers=$(cargo tree -e normal,no-proc-macro --target "$TARGET" --prefix none ${FEATURES[$bin]} |
        sed -n 's/^\(wasmparser v[^ ]*\).*/\1/p' | sort -u)
    echo "$bin: $parsers"
    if [[ $(grep -c . <<<"$parsers") -gt ${MAX_PARSERS[$bin]} ]]; then
        echo "run.sh: expected at most ${MAX_PARSERS[$bin]} wasmparser(s) in $bin" >&2
        exit 1
    fi
done

elf_dir="${CARGO_TARGET_DIR:-target}/$TARGET/release"
declare -A FLASH HEAP STACK
for bin in "${BINS[@]}"; do
    elf="$elf_dir/$bin"
    echo "== run $bin under QEMU"
    set +e
    out=$(timeout 120 "${QEMU[@]}" -kernel "$elf" 2>&1)
    rc=$?
    set -e
    echo "$out"
    if [[ $rc -ne 0 ]] || ! grep -qx 'RESULT PASS' <<<"$out"; then
        echo "run.sh: $bin failed (exit status $rc)" >&2
        exit 1
    fi
    HEAP[$bin]=$(sed -n 's/^FOOTPRINT heap_peak=\([0-9]*\).*/\1/p' <<<"$out")
    STACK[$bin]=$(sed -n 's/^FOOTPRINT .*stack_peak=\([0-9]*\).*/\1/p' <<<"$out")
    # flash = .vector_table + .text + .rodata + .data (the initial values of
    # .data are stored in flash).
    FLASH[$bin]=$("$SIZE_TOOL" -A "$elf" | awk '
        $1 == ".vector_table" || $1 == ".text" || $1 == ".rodata" || $1 == ".data" { s += $2 }
        END { print s }')
    if [[ -z "${HEAP[$bin]}" || -z "${FLASH[$bin]}" ]]; then
        echo "run.sh: no footprint for $bin" >&2
        exit 1
    fi
done

a=wasmi-only b=component
kib() { awk -v n="$1" 'BEGIN { printf "%.1f KiB", n / 1024 }'; }
echo
echo "== footprint (release, $TARGET, QEMU mps2-an386)"
printf '| %-22s | %12s | %15s | %16s |\n' "firmware" "flash (B)" "peak heap (B)" "peak stack (B)"
printf '| %-22s | %12s | %15s | %16s |\n' "---" "---:" "---:" "---:"
printf '| %-22s | %12d | %15d | %16d |\n' "wasmi alone" "${FLASH[$a]}" "${HEAP[$a]}" "${STACK[$a]}"
printf '| %-22s | %12d | %15d | %16d |\n' "componentry + wasmi" "${FLASH[$b]}" "${HEAP[$b]}" "${STACK[$b]}"
df=$(( FLASH[$b] - FLASH[$a] )) dh=$(( HEAP[$b] - HEAP[$a] )) ds=$(( STACK[$b] - STACK[$a] ))
printf '| %-22s | %12d | %15d | %16d |\n' "difference" "$df" "$dh" "$ds"
echo
echo "component layer: flash +$df B ($(kib $df); budget 64 KiB), heap +$dh B ($(kib $dh); budget 16 KiB)"
if (( df > 64 * 1024 || dh > 16 * 1024 )); then
    echo "component layer is over budget (reported, not an error)"
fi
