"""Python classes made from a component's WIT types, and the wrappers the
native module returns. Used by the native module; not a public API except
through ``componentry``."""

from __future__ import annotations

import dataclasses
import enum
import inspect
from typing import Any, Generic, TypeVar

T = TypeVar("T")
E = TypeVar("E")


class Error(Exception):
    """Base class of componentry's errors."""


class LoadError(Error, ValueError):
    """The component binary is malformed or invalid."""


class LinkError(Error):
    """An import is missing or of the wrong type."""


class UnsupportedError(Error, NotImplementedError):
    """A feature componentry does not implement."""


class UsageError(Error):
    """The API was used wrongly (e.g. a closed resource, a foreign store)."""


class Trap(Error):
    """The component trapped. ``kind`` is a short stable name (``"unreachable"``,
    ``"out of fuel"``, ``"host error"``, ...) and ``message`` says what happened.
    After a trap the instance refuses further calls (they trap with kind
    ``"instance poisoned by an earlier trap"``)."""

    def __init__(self, kind: str, message: str):
        super().__init__(f"{kind}: {message}" if message else kind)
        self.kind = kind
        self.message = message


class Err(Exception, Generic[E]):
    """The ``err`` case of a WIT ``result``. Raised by a call whose result is
    ``result<T, E>`` when the component returns ``err(e)`` (``value`` is the
    payload, ``None`` without one); raise it (or return it) from a host
    function to return ``err``. Inside other values it is the value itself."""

    def __init__(self, value: Any = None):
        super().__init__(value)
        self.value = value

    def __repr__(self) -> str:
        return f"Err({self.value!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is Err and other.value == self.value

    __hash__ = None  # type: ignore[assignment]


@dataclasses.dataclass(frozen=True)
class Ok(Generic[T]):
    """The ``ok`` case of a WIT ``result`` nested inside another value."""

    value: Any = None


@dataclasses.dataclass(frozen=True)
class Some(Generic[T]):
    """``some(x)`` of an ``option<option<T>>``: the outer option's ``some``
    when the inner one could be ``None`` (see the README's nested-option rule)."""

    value: Any = None


class Resource:
    """Base of the classes of resources a component exports. ``close()``
    drops the handle (running the component's destructor); a ``with`` block
    closes it at its end. Passing it to a function that takes ``own<R>``
    moves it: it is closed afterwards."""

    __slots__ = ("_h", "__weakref__")

    @classmethod
    def _wrap(cls, handle):
        obj = object.__new__(cls)
        obj._h = handle
        return obj

    def __init__(self, *args, **kwargs):
        pass

    def close(self) -> None:
        """Drops the resource (idempotent)."""
        h = getattr(self, "_h", None)
        if h is not None:
            h.close()

    @property
    def closed(self) -> bool:
        h = getattr(self, "_h", None)
        return h is None or h.closed

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        h = getattr(self, "_h", None)
        if h is not None:
            try:
                h.close_quietly()
            except Exception:
                pass

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<{type(self).__name__} resource ({state})>"


def make_record(name: str, wit: str, fields: list, doc: str):
    cls = dataclasses.make_dataclass(name, [(py, ann) for (py, _w, ann) in fields])
    cls.__doc__ = doc
    cls._wit_name = wit
    cls.__module__ = "componentry.types"
    return cls


def make_enum(name: str, wit: str, cases: list, doc: str):
    cls = enum.Enum(name, [(member, w) for (member, w) in cases])
    cls.__doc__ = doc
    cls._wit_name = wit
    cls.__module__ = "componentry.types"
    return cls


def make_flags(name: str, wit: str, cases: list, doc: str):
    cls = enum.Flag(name, [(member, 1 << i) for i, (member, _w) in enumerate(cases)])
    cls.__doc__ = doc
    cls._wit_name = wit
    cls.__module__ = "componentry.types"
    return cls


def make_variant(name: str, wit: str, cases: list, doc: str):
    """A base class ``name`` with one subclass per case, as its attributes:
    ``Filter.BoxBlur(3)``, ``Filter.Grayscale()``. A case with a payload has
    one field, ``value``."""
    base = type(name, (), {"__doc__": doc, "_wit_name": wit, "__slots__": ()})
    base.__module__ = "componentry.types"
    out = []
    for cls_name, w, has_payload, ann in cases:
        fields = [("value", ann)] if has_payload else []
        case = dataclasses.make_dataclass(cls_name, fields, bases=(base,), frozen=True)
        case.__qualname__ = f"{name}.{cls_name}"
        case.__module__ = "componentry.types"
        case._wit_case = w
        setattr(base, cls_name, case)
        out.append(case)
    return base, out


def make_resource(name: str, wit: str, doc: str):
    cls = type(name, (Resource,), {"__doc__": doc, "__slots__": (), "_wit_name": wit})
    cls.__module__ = "componentry.types"
    return cls


def _signature(params: list, result: str | None) -> inspect.Signature:
    ps = [
        inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=ann)
        for (p, ann) in params
    ]
    ret = inspect.Signature.empty if result is None else result
    return inspect.Signature(ps, return_annotation=ret)


def make_function(native, py_name: str, params: list, result: str | None, doc: str):
    """A Python function calling ``native`` (so ``help()`` and
    ``inspect.signature`` show the WIT signature)."""

    def f(*args, **kwargs):
        return native(*args, **kwargs)

    f.__name__ = py_name
    f.__qualname__ = py_name
    f.__doc__ = doc
    f.__signature__ = _signature(params, result)
    f._native = native
    f.__module__ = "componentry.exports"
    return f


def add_method(cls, kind: str, py_name: str, native, params: list, result: str | None, doc: str):
    """Attaches a constructor, method or static function to a resource class."""
    if kind == "constructor":

        def __new__(klass, *args, **kwargs):
            return native(*args, **kwargs)

        __new__.__doc__ = doc
        cls.__new__ = __new__
        cls.__init__.__doc__ = doc
        cls.__signature__ = _signature(params, None)
        cls.__doc__ = (cls.__doc__ or "") + "\n\n" + doc
    elif kind == "method":

        def m(self, *args, **kwargs):
            return native(self, *args, **kwargs)

        m.__name__ = py_name
        m.__qualname__ = f"{cls.__name__}.{py_name}"
        m.__doc__ = doc
        m.__signature__ = _signature([("self", inspect.Parameter.empty)] + params[1:], result)
        setattr(cls, py_name, m)
    else:
        f = make_function(native, py_name, params, result, doc)
        f.__qualname__ = f"{cls.__name__}.{py_name}"
        setattr(cls, py_name, staticmethod(f))


class Namespace:
    """The exports of an instance, or of one of its exported interfaces:
    functions and resource classes as attributes in Python case, and by their
    WIT names with ``ns["name"]``."""

    def __init__(self, name: str, doc: str = ""):
        self._name = name
        self._items: dict = {}
        self.__doc__ = doc

    def _add(self, wit: str, py: str, item) -> None:
        self._items[wit] = item
        if py and not py.startswith("_") and py not in self.__dict__:
            setattr(self, py, item)

    def __getitem__(self, wit: str):
        return self._items[wit]

    def __iter__(self):
        return iter(self._items)

    def __contains__(self, wit: str) -> bool:
        return wit in self._items

    def __dir__(self):
        return [k for k in self.__dict__ if not k.startswith("_")]

    def __repr__(self) -> str:
        names = ", ".join(k for k in self.__dict__ if not k.startswith("_"))
        return f"<exports {self._name!r}: {names}>"
