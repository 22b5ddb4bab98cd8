"""Every WIT value type, both ways: the `everything` guest forwards each
exported call to the matching import, which the host implements in Python."""

import math

import pytest

import componentry


def test_no_params_no_result(inst, host_log):
    assert inst.exports.api.nothing() is None
    assert host_log == [("nothing", ())]


def test_world_level_import_and_export(inst):
    assert inst.exports.shout_twice("hi") == "HI!!"


def test_integers(inst):
    assert inst.exports.api.one(41) == 42
    assert inst.exports.api.one(x=1) == 2


def test_many_scalars(inst):
    out = inst.exports.api.many(255, -(2**63), 1.5, "héllo", "é")
    assert out == (255, -(2**63), 1.5, "héllo", "é")
    assert isinstance(out, tuple)


def test_scalars_record(everything, inst):
    Scalars = everything.types["Scalars"]
    s = Scalars(
        b=True, u8v=255, u16v=65535, u32v=2**32 - 1, u64v=2**64 - 1,
        s8v=-128, s16v=-32768, s32v=-(2**31), s64v=-(2**63),
        f32v=1.5, f64v=math.pi, c="\U0001F600",
    )
    out = inst.exports.api.echo_scalars(s)
    assert out == s
    assert type(out) is Scalars
    assert Scalars.__name__ == "Scalars" and Scalars._wit_name == "scalars"


def test_f32_rounds(everything, inst):
    Scalars = everything.types["Scalars"]
    s = Scalars(False, 0, 0, 0, 0, 0, 0, 0, 0, 0.1, 0.1, "a")
    out = inst.exports.api.echo_scalars(s)
    assert out.f32v == pytest.approx(0.1, rel=1e-7) and out.f32v != 0.1
    assert out.f64v == 0.1


def test_nan_canonical(everything, inst):
    Scalars = everything.types["Scalars"]
    s = Scalars(False, 0, 0, 0, 0, 0, 0, 0, 0, float("nan"), float("inf"), "a")
    out = inst.exports.api.echo_scalars(s)
    assert math.isnan(out.f32v) and out.f64v == float("inf")


def test_variant_cases(everything, inst):
    Shape, Point, Thing = (everything.types[n] for n in ("Shape", "Point", "Thing"))
    for v in [
        Shape.Circle(2.5),
        Shape.Rect(Point(1, -2)),
        Shape.Empty(),
        Shape.Named("n"),
        Shape.Things([Thing(1, "one"), Thing(2**64 - 1, "")]),
    ]:
        out = inst.exports.api.echo_shape(v)
        assert out == v and type(out) is type(v) and isinstance(out, Shape)


def test_enum(everything, inst):
    Color = everything.types["Color"]
    assert [c.name for c in Color] == ["RED", "GREEN", "BLUE_ISH"]
    assert inst.exports.api.echo_color(Color.BLUE_ISH) is Color.BLUE_ISH
    # The WIT name of a case is accepted too.
    assert inst.exports.api.echo_color("green") is Color.GREEN


def test_flags(everything, inst):
    Perms = everything.types["Perms"]
    for p in [Perms(0), Perms.READ, Perms.READ | Perms.EXEC_IT, Perms.READ | Perms.WRITE | Perms.EXEC_IT]:
        assert inst.exports.api.echo_perms(p) == p


def test_list_of_records(everything, inst):
    Point = everything.types["Point"]
    pts = [Point(i, -i) for i in range(100)]
    assert inst.exports.api.echo_points(pts) == pts
    assert inst.exports.api.echo_points([]) == []
    assert inst.exports.api.echo_points(tuple(pts[:2])) == pts[:2]


def test_bag_nested_everything(everything, inst):
    T = everything.types
    bag = T["Bag"](
        name="b",
        tags=["x", "", "z"],
        maybe=7,
        pair=(3, "three"),
        outcome=componentry.Ok(T["Color"].RED),
        perms=T["Perms"].WRITE,
        shapes=[T["Shape"].Empty(), T["Shape"].Circle(1.0)],
        nested=componentry.Some([T["Point"](1, 2)]),
        type=9,
    )
    assert inst.exports.api.echo_bag(bag) == bag
    variants = [
        dict(maybe=None, outcome=componentry.Err("bad"), nested=None),
        dict(maybe=0, outcome=componentry.Ok(T["Color"].GREEN), nested=componentry.Some(None)),
    ]
    for v in variants:
        b2 = T["Bag"](**{**bag.__dict__, **v})
        assert inst.exports.api.echo_bag(b2) == b2


def test_nested_option_rule(everything, inst):
    T = everything.types
    base = dict(name="", tags=[], maybe=None, pair=(0, ""), outcome=componentry.Ok(T["Color"].RED),
                perms=T["Perms"](0), shapes=[], type=0)
    # option<option<points>>: None, Some(None), Some([...]).
    for nested in [None, componentry.Some(None), componentry.Some([])]:
        b = T["Bag"](nested=nested, **base)
        assert inst.exports.api.echo_bag(b).nested == nested
    with pytest.raises(TypeError, match=r"echo-bag: b.nested: expected None or Some"):
        inst.exports.api.echo_bag(T["Bag"](nested=[], **base))


def test_option(inst):
    assert inst.exports.api.maybe(None) is None
    assert inst.exports.api.maybe("x") == "x"
    assert inst.exports.api.maybe("") == ""


def test_result_ok_and_err(inst):
    assert inst.exports.api.fallible(True) == 42
    with pytest.raises(componentry.Err) as e:
        inst.exports.api.fallible(False)
    assert e.value.value == "no"
    assert inst.exports.api.unit_result(True) is None
    with pytest.raises(componentry.Err) as e:
        inst.exports.api.unit_result(False)
    assert e.value.value is None


def test_spilled_params(inst):
    q = (2**40, 1, 2, 3)
    assert inst.exports.api.spilled(q, (0, 0, 0, 0), (1, 1, 1, 1), (0, 0, 0, 1), 5) == 2**40 + 6 + 4 + 1 + 5


def test_strings(inst):
    for s in ["", "a", "héllo wörld", "\U0001F600" * 100, "x" * 100_000]:
        assert inst.exports.api.maybe(s) == s


def test_bytes_like_inputs(inst):
    data = bytes(range(256)) * 10
    for arg in [data, bytearray(data), memoryview(data), list(data)]:
        b = inst.exports.api.blob_make(arg)
        # The guest makes `data` twice (import and constructor) and merges them.
        assert inst.exports.api.blob_take(b) == data + data


def test_help_shows_signature(inst):
    import inspect

    sig = inspect.signature(inst.exports.api.echo_bag)
    assert str(sig) == "(b: 'Bag') -> 'Bag'"
    assert "WIT: echo-bag: func(b: bag) -> bag" in inst.exports.api.echo_bag.__doc__
    assert "raises componentry.Err" in inst.exports.api.fallible.__doc__


def test_exports_by_wit_name(inst):
    api = inst.exports["test:everything/api@1.2.0"]
    assert api is inst.exports.api
    assert api["echo-color"] is api.echo_color
