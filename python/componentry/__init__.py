"""Call WebAssembly components (Component Model 0.2) from Python, on the
wasmi interpreter (through the Rust crate componentry).

    import componentry
    component = componentry.Component.from_file("image-filter.wasm")
    inst = component.instantiate({"progress": lambda done, total: None})
    out = inst.exports.apply(img, component.types["Filter"].BoxBlur(2))
"""

from ._native import Component, Config, Instance
from ._native import Wasi as _Wasi
from ._types import (
    Err,
    Error,
    LinkError,
    LoadError,
    Ok,
    Resource,
    Some,
    Trap,
    UnsupportedError,
    UsageError,
)



def Wasi(
    *,
    args=(),
    env=(),
    dirs=(),
    readonly_dirs=(),
    stdin=b"",
    capture_stdout=True,
    capture_stderr=True,
    inherit_stdio=False,
    seed=None,
):
    """WASI settings for ``Component.instantiate(wasi=...)``: the program's
    ``args`` (program name first), ``env`` (a dict or ``(name, value)``
    pairs), preopened host directories as ``(host_path, guest_path)`` pairs
    (``readonly_dirs`` for read-only ones), ``stdin`` bytes, stdout and
    stderr captured (``inst.stdout`` / ``inst.stderr``) or inherited, and
    ``seed`` for the deterministic profile (virtual clocks, seeded
    randomness). Nothing else is granted."""
    if isinstance(env, dict):
        env = env.items()
    return _Wasi(
        args=[str(a) for a in args],
        env=[(str(k), str(v)) for k, v in env],
        dirs=[(str(h), str(g)) for h, g in dirs],
        readonly_dirs=[(str(h), str(g)) for h, g in readonly_dirs],
        stdin=bytes(stdin),
        capture_stdout=capture_stdout,
        capture_stderr=capture_stderr,
        inherit_stdio=inherit_stdio,
        seed=seed,
    )


__all__ = [
    "Component",
    "Config",
    "Err",
    "Error",
    "Instance",
    "LinkError",
    "LoadError",
    "Ok",
    "Resource",
    "Some",
    "Trap",
    "UnsupportedError",
    "UsageError",
    "Wasi",
]
