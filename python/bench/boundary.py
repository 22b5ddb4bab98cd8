"""Per-call cost from Python: a no-op, a 16-byte string echo and a 1 MiB
`list<u8>` (both ways), through componentry and through wasmtime's Python
package (if installed), and the image filter's box blur on a 1 MP image
through the component against the same blur in plain Python.

    python bench/boundary.py            # (pip install wasmtime for its column)

The guest is benches/components/bench.wat (the Rust `boundary` bench's);
turning its text into a binary needs `wasmtime.wat2wasm`.
"""

from __future__ import annotations

import pathlib
import sys
import time

import componentry

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
import pure_blur  # noqa: E402

try:
    import wasmtime
    import wasmtime.component as wc
except ImportError:  # pragma: no cover
    wasmtime = None


def per_call(f, n: int, repeat: int = 5) -> float:
    """The best of `repeat` runs of `n` calls, in microseconds per call."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(n):
            f()
        best = min(best, (time.perf_counter() - t) / n)
    return best * 1e6


def main() -> None:
    if wasmtime is None:
        sys.exit("needs `pip install wasmtime` (for wat2wasm, and its column)")
    wasm = wasmtime.wat2wasm((ROOT / "benches" / "components" / "bench.wat").read_text())
    c = componentry.Component(wasm)
    inst = c.instantiate({"add": lambda a, b: (a + b) % 2**32, "log": lambda s: None})
    e = inst.exports
    s16 = "0123456789abcdef"
    mib = bytes(range(256)) * 4096
    s1m = "abcdefgh" * (1 << 17)
    assert e.echo_string(s16) == s16 and e.sum_bytes(mib) == sum(mib) and len(e.make_bytes(1 << 20)) == 1 << 20
    rows = [
        ("no-op `nop()`", lambda: e.nop(), 20000),
        ("16 B string echo", lambda: e.echo_string(s16), 20000),
        ("1 MiB list<u8> in (`sum-bytes`)", lambda: e.sum_bytes(mib), 5),
        ("1 MiB list<u8> out (`make-bytes`)", lambda: e.make_bytes(1 << 20), 5),
        ("1 MiB string echo (no guest loop)", lambda: e.echo_string(s1m), 5),
    ]
    ours = [per_call(f, n) for _, f, n in rows]

    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    linker = wc.Linker(engine)
    with linker.root() as root:
        root.add_func("add", lambda _s, a, b: (a + b) % 2**32)
        root.add_func("log", lambda _s, s: None)
    wi = linker.instantiate(store, wc.Component(engine, wasm))
    nop, echo, sb, mb = (wi.get_func(store, n) for n in ("nop", "echo-string", "sum-bytes", "make-bytes"))
    assert echo(store, s16) == s16 and sb(store, mib) == sum(mib)
    theirs = [
        per_call(lambda: nop(store), 2000),
        per_call(lambda: echo(store, s16), 2000),
        per_call(lambda: sb(store, mib), 1, 2),
        per_call(lambda: mb(store, 1 << 20), 1, 2),
        per_call(lambda: echo(store, s1m), 1, 2),
    ]
    print("| call | componentry | wasmtime-py | ratio |")
    print("| --- | --- | --- | --- |")
    for (name, _, _), a, b in zip(rows, ours, theirs):
        print(f"| {name} | {fmt(a)} | {fmt(b)} | {b / a:.1f}x |")

    # The image filter on a 1 MP image: component against plain Python.
    f = componentry.Component.from_file(ROOT / "examples" / "image-filter" / "image-filter.wasm")
    T = f.types
    fi = f.instantiate({"progress": lambda d, t: None})
    w = h = 1000
    px = bytes((i * 7) % 251 for i in range(w * h * 4))
    img = T["Image"](w, h, px)
    t = time.perf_counter()
    out = fi.exports.apply(img, T["Filter"].BoxBlur(1))
    comp_s = time.perf_counter() - t
    t = time.perf_counter()
    pure = pure_blur.box_blur(w, h, px, 1)
    pure_s = time.perf_counter() - t
    assert pure == out.pixels, "the plain-Python blur must give the component's bytes"
    print(f"| box blur r=1, 1000x1000 RGBA | component {comp_s * 1e3:.0f} ms | plain Python {pure_s * 1e3:.0f} ms | {pure_s / comp_s:.1f}x |")


def fmt(us: float) -> str:
    return f"{us:.2f} µs" if us < 1000 else f"{us / 1000:.1f} ms"


if __name__ == "__main__":
    main()
