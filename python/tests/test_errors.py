"""Wrong arguments, traps, host exceptions, fuel, limits and reentrance."""

import pytest

import componentry
from conftest import Blob, echo_api, guest


def test_out_of_range_ints(everything, inst):
    Scalars = everything.types["Scalars"]
    ok = dict(b=True, u8v=0, u16v=0, u32v=0, u64v=0, s8v=0, s16v=0, s32v=0, s64v=0, f32v=0.0, f64v=0.0, c="a")
    cases = [
        ("u8v", 256, "u8"), ("u8v", -1, "u8"), ("u16v", 65536, "u16"), ("u32v", -1, "u32"),
        ("u64v", 2**64, "u64"), ("s8v", 128, "s8"), ("s16v", -32769, "s16"),
        ("s32v", 2**31, "s32"), ("s64v", 2**63, "s64"),
    ]
    for field, value, ty in cases:
        with pytest.raises(ValueError, match=rf"^echo-scalars: s.{field}: expected {ty}, got {value}$"):
            inst.exports.api.echo_scalars(Scalars(**{**ok, field: value}))


def test_wrong_types(everything, inst):
    Scalars = everything.types["Scalars"]
    ok = dict(b=True, u8v=0, u16v=0, u32v=0, u64v=0, s8v=0, s16v=0, s32v=0, s64v=0, f32v=0.0, f64v=0.0, c="a")
    for field, value, msg in [
        ("b", 1, "expected bool, got 1"),
        ("u32v", 1.0, "expected u32, got 1.0"),
        ("u32v", True, "expected u32, got True"),
        ("f64v", "1", "expected f64, got '1'"),
    ]:
        with pytest.raises(TypeError, match=rf"^echo-scalars: s.{field}: {msg}$"):
            inst.exports.api.echo_scalars(Scalars(**{**ok, field: value}))
    with pytest.raises(ValueError, match=r"s.c: expected char \(a str of length 1\), got 'ab'"):
        inst.exports.api.echo_scalars(Scalars(**{**ok, "c": "ab"}))


def test_paths_in_lists_and_variants(everything, inst):
    T = everything.types
    with pytest.raises(TypeError, match=r"^echo-points: p\[1\].x: expected s32, got 'a'$"):
        inst.exports.api.echo_points([T["Point"](0, 0), T["Point"]("a", 0)])
    with pytest.raises(TypeError, match=r"^echo-shape: s.rect.y: expected s32, got None$"):
        inst.exports.api.echo_shape(T["Shape"].Rect(T["Point"](1, None)))
    with pytest.raises(TypeError, match=r"^echo-shape: s: expected Shape \(variant shape\), got 3$"):
        inst.exports.api.echo_shape(3)
    with pytest.raises(TypeError, match=r"^echo-color: c: expected Color \(enum color\), got 'purple'$"):
        inst.exports.api.echo_color("purple")


def test_argument_count(inst):
    with pytest.raises(TypeError, match="one: takes 1 argument, got 2"):
        inst.exports.api.one(1, 2)
    with pytest.raises(TypeError, match="one: missing argument 'x'"):
        inst.exports.api.one()
    with pytest.raises(TypeError, match="one: no parameter named 'y'"):
        inst.exports.api.one(y=1)


def test_strings_and_bytes(inst):
    with pytest.raises(ValueError, match="lone surrogate"):
        inst.exports.api.maybe("\ud800")
    with pytest.raises(TypeError, match=r"blob-make: data: expected bytes"):
        inst.exports.api.blob_make("text")
    with pytest.raises(ValueError, match=r"blob-make: data\[1\]: expected u8, got 256"):
        inst.exports.api.blob_make([1, 256])


def test_host_exception_is_a_trap_with_cause(everything):
    def boom(x):
        raise KeyError("host failed")

    api = echo_api([])
    api["one"] = boom
    inst = everything.instantiate(
        {"test:everything/api@1.2.0": api, "test:everything/types@1.2.0": {"blob": Blob}, "shout": str.upper}
    )
    with pytest.raises(componentry.Trap) as e:
        inst.exports.api.one(1)
    assert e.value.kind == "host error"
    assert isinstance(e.value.__cause__, KeyError)
    # The instance is poisoned now.
    with pytest.raises(componentry.Trap) as e:
        inst.exports.api.nothing()
    assert e.value.kind == "instance poisoned by an earlier trap"


def test_host_returns_wrong_type_traps(everything):
    api = echo_api([])
    api["one"] = lambda x: -1
    inst = everything.instantiate(
        {"test:everything/api@1.2.0": api, "test:everything/types@1.2.0": {"blob": Blob}, "shout": str.upper}
    )
    with pytest.raises(componentry.Trap) as e:
        inst.exports.api.one(1)
    assert isinstance(e.value.__cause__, ValueError)
    assert "one (its result): expected u32, got -1" in str(e.value.__cause__)


def test_reentrance_is_refused(everything):
    holder = {}

    def shout(msg):
        return holder["inst"].exports.api.maybe(msg)  # calls back into the running instance

    inst = everything.instantiate(
        {"test:everything/api@1.2.0": echo_api([]), "test:everything/types@1.2.0": {"blob": Blob}, "shout": shout}
    )
    holder["inst"] = inst
    with pytest.raises(componentry.Trap) as e:
        inst.exports.shout_twice("x")
    assert e.value.kind == "host error"
    assert isinstance(e.value.__cause__, componentry.Trap)
    assert e.value.__cause__.kind == "cannot enter component instance"


def test_missing_import(everything):
    with pytest.raises(componentry.LinkError, match="missing import: interface `test:everything/api@1.2.0`"):
        everything.instantiate({"test:everything/types@1.2.0": {"blob": Blob}, "shout": str.upper})
    api = echo_api([])
    del api["one"]
    with pytest.raises(componentry.LinkError, match="missing import: function `one`"):
        everything.instantiate(
            {"test:everything/api@1.2.0": api, "test:everything/types@1.2.0": {"blob": Blob}, "shout": str.upper}
        )


def test_load_errors(tmp_path):
    with pytest.raises(componentry.LoadError):
        componentry.Component(b"\0asm garbage")
    with pytest.raises(TypeError):
        componentry.Component("not bytes")
    with pytest.raises(FileNotFoundError):
        componentry.Component.from_file(tmp_path / "missing.wasm")


def test_unreachable_trap():
    c = componentry.Component.from_file(guest("wasi/cli.wasm"))
    inst = c.instantiate(wasi=componentry.Wasi(args=["cli", "panic"]))
    with pytest.raises(componentry.Trap) as e:
        inst.run()
    assert e.value.kind == "unreachable"


def test_fuel():
    cfg = componentry.Config(consume_fuel=True)
    c = componentry.Component.from_file(guest("strings.wasm"), config=cfg)
    inst = c.instantiate({"log": print}, fuel=1_000_000)
    assert inst.exports.upper("abc") == "ABC"
    left = inst.fuel
    assert 0 < left < 1_000_000
    inst.fuel = 10
    with pytest.raises(componentry.Trap) as e:
        inst.exports.upper("abc" * 100)
    assert e.value.kind == "out of fuel"


def test_fuel_needs_config():
    c = componentry.Component.from_file(guest("strings.wasm"))
    with pytest.raises(componentry.UsageError, match="fuel is not metered"):
        c.instantiate({"log": print}, fuel=10)


def test_memory_limit():
    cfg = componentry.Config(max_memory_bytes=1 << 20)
    c = componentry.Component.from_file(guest("strings.wasm"), config=cfg)
    with pytest.raises(componentry.Trap, match="over the memory size limit"):
        c.instantiate({"log": print})  # the guest's initial memory is 1.06 MiB
    cfg = componentry.Config(max_memory_bytes=4 << 20)
    c = componentry.Component.from_file(guest("strings.wasm"), config=cfg)
    inst = c.instantiate({"log": print})
    assert inst.exports.upper("x" * 1000) == "X" * 1000
    with pytest.raises(componentry.Trap):
        inst.exports.upper("x" * (8 << 20))


def test_deterministic_profile_loads():
    cfg = componentry.Config(deterministic=True, consume_fuel=True)
    c = componentry.Component.from_file(guest("strings.wasm"), config=cfg)
    fuels = []
    for _ in range(2):
        inst = c.instantiate({"log": lambda m: None}, fuel=10_000_000)
        inst.exports.shout("hello")
        fuels.append(inst.fuel)
    assert fuels[0] == fuels[1]


def test_too_long_bytes(inst):
    with pytest.raises(ValueError, match=r"blob-make: data: a list<u8> of 268435456 bytes is longer than the canonical ABI allows"):
        inst.exports.api.blob_make(bytes(1 << 28))
