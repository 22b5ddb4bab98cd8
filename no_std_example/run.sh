#!/usr/bin/env bash
# Builds the three firmwares in release for one target, runs each under
# QEMU, fails unless each exits with EXIT_SUCCESS and prints "RESULT PASS",
# checks the wasmparsers in each firmware's dependency graph, and prints the
# footprint table.
#
#   run.sh [TARGET]
#
# TARGET is thumbv7em-none-eabihf (the default: Cortex-M4F on QEMU's
# mps2-an386) or riscv32imac-unknown-none-elf (RISC-V on QEMU's virt).
#
# Installs nothing. Needs: qemu-system-arm or qemu-system-riscv32 (Debian's
# qemu-system-arm / qemu-system-misc), the rustup target, and llvm-size
# (Debian's `llvm`, or rustup's llvm-tools component) or arm-none-eabi-size
# (Cortex-M only); set SIZE=/path/to/tool to choose one. llvm-objdump
# (Debian's `llvm` too), where present, checks no loadable section is left
# out of the flash sum.
set -euo pipefail
cd "$(dirname "$0")"

TARGET=${1:-thumbv7em-none-eabihf}
# Flash is the sum of these sections of `llvm-size -A` (the initial values
# of .data are stored in flash too).
case "$TARGET" in
    thumbv7em-none-eabihf)
        BOARD="QEMU mps2-an386"
        QEMU=(qemu-system-arm -cpu cortex-m4 -machine mps2-an386 -nographic
              -semihosting-config enable=on,target=native)
        FLASH_SECTIONS=".vector_table .text .rodata .data"
        ;;
    riscv32imac-unknown-none-elf)
        # -bios none: no firmware; the reset code jumps to 0x80000000, where
        # memory/riscv32.x puts riscv-rt's entry (.init, first in .text).
        # riscv-rt puts its trap code in .text too, and _start_rust in
        # .init.rust.
        BOARD="QEMU virt"
        QEMU=(qemu-system-riscv32 -machine virt -bios none -nographic
              -semihosting-config enable=on,target=native)
        FLASH_SECTIONS=".text .init.rust .rodata .data"
        ;;
    *)
        echo "run.sh: unknown target $TARGET (thumbv7em-none-eabihf or riscv32imac-unknown-none-elf)" >&2
        exit 1
        ;;
esac
BINS=(wasmi-only wasmi-prevalidated component-validating component)

find_size() {
    if [[ -n "${SIZE:-}" ]]; then echo "$SIZE"; return; fi
    local t
    local tools=(llvm-size "$(rustc --print sysroot)"/lib/rustlib/*/bin/llvm-size)
    [[ $TARGET == thumbv* ]] && tools+=(arm-none-eabi-size)
    for t in "${tools[@]}"; do
        if command -v "$t" >/dev/null 2>&1; then echo "$t"; return; fi
    done
    echo "run.sh: no llvm-size or arm-none-eabi-size found (set SIZE=...)" >&2
    exit 1
}
SIZE_TOOL=$(find_size)
command -v "${QEMU[0]}" >/dev/null || { echo "run.sh: ${QEMU[0]} not found" >&2; exit 1; }

# Each firmware is built with only its own runtime in its dependency graph
# (see Cargo.toml): the baseline must not get componentry's wasmparser
# features.
declare -A FEATURES=(
    [component]=""
    [component-validating]="--features component-validating"
    [wasmi-only]="--no-default-features --features wasmi-only"
    [wasmi-prevalidated]="--no-default-features --features wasmi-prevalidated"
)

echo "== build for $TARGET (release: opt-level z, fat LTO, 1 codegen unit, panic=abort)"
for bin in "${BINS[@]}"; do
    # shellcheck disable=SC2086
    cargo build --release --target "$TARGET" --bin "$bin" ${FEATURES[$bin]}
done

# Both have wasmi's wasmparser only (core modules): the component firmware
# loads an image made on the host, so it has no component parser or
# validator.
# (Proc macros, such as `bindgen!` with its wit-parser, run on the build
# host and are left out.)
echo "== wasmparsers in each firmware's dependency graph"
declare -A MAX_PARSERS=([component]=1 [component-validating]=2 [wasmi-only]=1 [wasmi-prevalidated]=1)
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
    echo "== run $bin under $BOARD"
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
    FLASH[$bin]=$("$SIZE_TOOL" -A "$elf" | awk -v sections="$FLASH_SECTIONS" '
        BEGIN { n = split(sections, a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1 }
        $1 in want { s += $2 }
        END { print s }')
    # A loadable section left out of the sum would make the flash column
    # lie (riscv-rt's link.x places orphan sections such as .eh_frame in
    # flash): fail on any non-empty one, where llvm-objdump is at hand.
    if command -v llvm-objdump >/dev/null 2>&1; then
        extra=$(llvm-objdump -h "$elf" | awk -v sections="$FLASH_SECTIONS" '
            BEGIN { n = split(sections, a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1 }
            ($NF == "TEXT" || $NF == "DATA") && $3 !~ /^0+$/ && !($2 in want) { print $2 }')
        if [[ -n "$extra" ]]; then
            echo "run.sh: $bin has loadable sections not counted as flash:" $extra >&2
            exit 1
        fi
    fi
    if [[ -z "${HEAP[$bin]}" || -z "${FLASH[$bin]}" ]]; then
        echo "run.sh: no footprint for $bin" >&2
        exit 1
    fi
done

a=wasmi-prevalidated b=component v=wasmi-only c=component-validating
kib() { awk -v n="$1" 'BEGIN { printf "%.1f KiB", n / 1024 }'; }
echo
echo "== footprint (release, $TARGET, $BOARD; flash = ${FLASH_SECTIONS// / + })"
printf '| %-28s | %12s | %15s | %16s |\n' "firmware" "flash (B)" "peak heap (B)" "peak stack (B)"
printf '| %-28s | %12s | %15s | %16s |\n' "---" "---:" "---:" "---:"
printf '| %-28s | %12d | %15d | %16d |\n' "wasmi alone, validating" "${FLASH[$v]}" "${HEAP[$v]}" "${STACK[$v]}"
printf '| %-28s | %12d | %15d | %16d |\n' "wasmi alone, prevalidated" "${FLASH[$a]}" "${HEAP[$a]}" "${STACK[$a]}"
printf '| %-28s | %12d | %15d | %16d |\n' "componentry, validating" "${FLASH[$c]}" "${HEAP[$c]}" "${STACK[$c]}"
printf '| %-28s | %12d | %15d | %16d |\n' "componentry, image" "${FLASH[$b]}" "${HEAP[$b]}" "${STACK[$b]}"
df=$(( FLASH[$b] - FLASH[$a] )) dh=$(( HEAP[$b] - HEAP[$a] )) ds=$(( STACK[$b] - STACK[$a] ))
printf '| %-28s | %12d | %15d | %16d |\n' "image - wasmi prevalidated" "$df" "$dh" "$ds"
dv=$(( FLASH[$b] - FLASH[$v] )) dvh=$(( HEAP[$b] - HEAP[$v] )) dvs=$(( STACK[$b] - STACK[$v] ))
printf '| %-28s | %12d | %15d | %16d |\n' "image - wasmi validating" "$dv" "$dvh" "$dvs"
echo
echo "component layer: flash +$df B ($(kib $df); budget 64 KiB), heap +$dh B ($(kib $dh); budget 16 KiB)"
if (( df > 64 * 1024 || dh > 16 * 1024 )); then
    echo "component layer is over budget (reported, not an error)"
fi
