"""The other wit-bindgen guests: a `counter` resource and a string API."""

import componentry
from conftest import guest


def test_counter_resource():
    inst = componentry.Component.from_file(guest("counter.wasm")).instantiate()
    ns = inst.exports.counters
    Counter = ns.Counter
    with Counter(1) as a, Counter(10) as b:
        a.inc()
        assert a.get() == 2
        m = Counter.merge(a, b)
        assert m.get() == 12 and ns.live() == 3
        assert Counter.finish(m) == 12 and m.closed
        assert ns.live() == 2
    assert ns.live() == 0
    assert "merge" in Counter.merge.__doc__ and Counter.__name__ == "Counter"


def test_strings_and_host_log():
    logged = []
    inst = componentry.Component.from_file(guest("strings.wasm")).instantiate({"log": logged.append})
    e = inst.exports
    assert e.split("a,b,,c", ",") == ["a", "b", "", "c"]
    assert e.join(["x", "y", "ü"], "-") == "x-y-ü"
    assert e.upper("straße") == "STRASSE"
    assert e.shout("héllo") == (5, 6)
    assert logged == ["HÉLLO"]
