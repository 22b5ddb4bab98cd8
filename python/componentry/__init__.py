"""Call WebAssembly components (Component Model 0.2) from Python, on the
wasmi interpreter (through the Rust crate componentry).

    import componentry
    component = componentry.Component.from_file("image-filter.wasm")
    inst = component.instantiate({"progress": lambda done, total: None})
    out = inst.exports.apply(img, component.types["Filter"].BoxBlur(2))
"""

from ._native import Component, Config, Instance, Wasi
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
