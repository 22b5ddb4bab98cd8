"""Calls release the GIL while the component runs; calls from two threads
into one instance take turns; a host function calling back into its own
instance is refused (tested in test_errors)."""

import threading

import componentry
from conftest import guest


def test_gil_released_during_a_call():
    c = componentry.Component.from_file(guest("strings.wasm"))
    inst = c.instantiate({"log": lambda m: None})
    big = "x" * (2 << 20)
    done = threading.Event()
    out = {}

    def work():
        out["r"] = inst.exports.upper(big)
        done.set()

    t = threading.Thread(target=work)
    spins = 0
    t.start()
    while not done.is_set():
        spins += 1
    t.join()
    assert out["r"] == big.upper()
    assert spins > 1000, spins


def test_two_threads_one_instance():
    c = componentry.Component.from_file(guest("strings.wasm"))
    inst = c.instantiate({"log": lambda m: None})
    errors = []

    def work(word):
        try:
            for _ in range(50):
                assert inst.exports.split(f"{word},{word}", ",") == [word, word]
                assert inst.exports.upper(word * 1000) == word.upper() * 1000
        except Exception as e:  # pragma: no cover
            errors.append(e)

    ts = [threading.Thread(target=work, args=(w,)) for w in ("ab", "cd", "ef")]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert errors == []
