"""Whatever a Python caller passes, the result is a value or an exception
(never a crash or a Rust panic): every export of the `everything` guest
called with many kinds of wrong values."""

import itertools

import pytest

import componentry


class Weird:
    """An object whose every attribute read raises."""

    def __getattr__(self, name):
        raise RuntimeError("no attributes here")


class Liar:
    """Claims every attribute, with values of the wrong kind."""

    def __getattr__(self, name):
        return Weird()


def garbage(everything):
    T = everything.types
    loop = []
    loop.append(loop)
    return [
        None, True, 0, -1, 2**200, -(2**200), 1.5, float("nan"), "", "x", "\ud800", b"", b"\xff" * 10,
        bytearray(3), memoryview(b"ab"), [], [1, "a"], loop, (), (1, 2, 3), {}, {"x": 1}, object(), Weird(),
        Liar(), T["Point"](1, 2), T["Point"]("a", None), T["Shape"].Circle("no"), T["Color"].RED,
        T["Perms"].READ, componentry.Ok(1), componentry.Err(Weird()), componentry.Some(Weird()),
        range(5), iter([1, 2]), type, componentry.Resource,
    ]


def test_garbage_in_every_export(everything, inst):
    values = garbage(everything)
    funcs = [f for name in inst.exports.api for f in [inst.exports.api[name]] if callable(f) and not isinstance(f, type)]
    funcs.append(inst.exports.shout_twice)
    assert len(funcs) > 15
    calls = 0
    for f in funcs:
        n = len(__import__("inspect").signature(f).parameters)
        combos = itertools.islice(itertools.product(values, repeat=n), 400) if n else [()]
        for args in combos:
            calls += 1
            try:
                f(*args)
            except (TypeError, ValueError, componentry.Error, componentry.Err):
                pass
    assert calls > 1000
    # The instance still works (no call above trapped it).
    assert inst.exports.api.one(1) == 2


def test_garbage_in_resources(inst):
    Acc = inst.exports.accounts.Acc
    for v in [None, "1", 2**64, Weird(), Acc]:
        with pytest.raises((TypeError, ValueError)):
            Acc(v)
    with pytest.raises(TypeError):
        Acc.combine(Weird(), Liar())


def test_garbage_imports(everything):
    for imports in [None, {}, [], 3, Weird(), {"test:everything/api@1.2.0": 5}]:
        with pytest.raises((componentry.Error, TypeError, ValueError, AttributeError, RuntimeError)):
            everything.instantiate(imports)


def test_host_functions_returning_garbage(everything):
    from conftest import Blob, echo_api

    for bad in [Weird(), 2**100, "x", None, object()]:
        api = {k: (lambda *a, _b=bad: _b) for k in echo_api([])}
        inst = everything.instantiate(
            {"test:everything/api@1.2.0": api, "test:everything/types@1.2.0": {"blob": Blob}, "shout": lambda m: bad}
        )
        with pytest.raises(componentry.Trap):
            inst.exports.api.one(1)
        with pytest.raises(componentry.Trap):
            inst.exports.shout_twice("x")
