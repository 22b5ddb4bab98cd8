"""Resources: the component's own (`acc`, a class with methods, `close()`
and `with`), and the host's (`blob`, a Python class)."""

import gc

import pytest

import componentry
from conftest import Blob


def test_guest_resource_methods(inst):
    Acc = inst.exports.accounts.Acc
    a = Acc(5)
    assert isinstance(a, Acc) and isinstance(a, componentry.Resource)
    a.add(10)
    assert a.total() == 15
    assert inst.exports.accounts.live() == 1
    a.close()
    assert a.closed
    assert inst.exports.accounts.live() == 0
    a.close()  # idempotent


def test_guest_resource_context_manager(inst):
    Acc = inst.exports.accounts.Acc
    with Acc(1) as a, Acc(2) as b:
        with Acc.combine(a, b) as c:
            assert c.total() == 3
            assert inst.exports.accounts.live() == 3
    assert inst.exports.accounts.live() == 0


def test_own_moves_the_handle(inst):
    Acc = inst.exports.accounts.Acc
    a = Acc(7)
    assert Acc.consume(a) == 7
    assert a.closed
    with pytest.raises(ValueError, match=r"\[static\]acc.consume: a: the resource was closed or moved"):
        Acc.consume(a)
    with pytest.raises(ValueError, match="closed or moved"):
        a.total()
    assert inst.exports.accounts.live() == 0


def test_dropped_by_gc(inst):
    Acc = inst.exports.accounts.Acc
    Acc(1)
    gc.collect()
    assert inst.exports.accounts.live() == 0


def test_wrong_resource_class(inst, everything):
    with pytest.raises(TypeError, match=r"add: self: expected Acc \(a resource\), got 5"):
        inst.exports.accounts.Acc.add(5, 1)


def test_resources_of_two_instances_are_distinct(everything, inst, host_log):
    from conftest import echo_api

    other = everything.instantiate(
        {
            "test:everything/api@1.2.0": echo_api(host_log),
            "test:everything/types@1.2.0": {"blob": Blob},
            "shout": str.upper,
        }
    )
    a = inst.exports.accounts.Acc(1)
    with pytest.raises(TypeError, match="expected Acc"):
        other.exports.accounts.Acc.consume(a)


def test_host_resource(inst):
    Blob.live = 0
    b = Blob(b"xyz")
    assert inst.exports.api.blob_len(b) == 3  # borrowed: the guest calls b.len() too
    made = inst.exports.api.blob_make(b"ab")
    assert isinstance(made, Blob) and made.data == b"abab"
    assert inst.exports.api.blob_take(made) == b"abab"


def test_host_resource_wrong_class(inst):
    with pytest.raises(TypeError, match=r"blob-len: b: expected Blob \(a resource\), got 'nope'"):
        inst.exports.api.blob_len("nope")


def test_missing_host_resource_class(everything):
    with pytest.raises(componentry.LinkError, match="resource `blob`"):
        everything.instantiate({"test:everything/api@1.2.0": {}, "shout": str.upper})


def test_host_objects_are_not_kept(inst):
    """Borrowed host objects are let go after each call, and an owned one
    given to a call that never happens (a later argument is wrong) too."""
    import weakref

    b = Blob(b"abc")
    ref = weakref.ref(b)
    for _ in range(1000):
        assert inst.exports.api.blob_len(b) == 3
    del b
    gc.collect()
    assert ref() is None
    c = Blob(b"x")
    ref = weakref.ref(c)
    with pytest.raises(TypeError):
        inst.exports.accounts.Acc.consume(c)  # wrong class: nothing created
    del c
    gc.collect()
    assert ref() is None
