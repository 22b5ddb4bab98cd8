import pathlib

import pytest

import componentry

ROOT = pathlib.Path(__file__).resolve().parents[2]
GUESTS = ROOT / "tests" / "guests"


def guest(name: str) -> pathlib.Path:
    return GUESTS / name


@pytest.fixture(scope="session")
def everything():
    return componentry.Component.from_file(guest("everything.wasm"))


class Blob:
    """The host's `blob` resource (test:everything/types)."""

    live = 0

    def __init__(self, init: bytes):
        self.data = bytearray(init)
        Blob.live += 1

    def len(self) -> int:
        return len(self.data)

    def append(self, more: bytes) -> None:
        self.data += more

    @staticmethod
    def merge(a, b):
        return Blob(bytes(a.data + b.data))


def echo_api(log):
    """Host functions for test:everything/api that echo what they get (the
    guest's exports forward to them), logging each call."""

    def rec(name):
        def f(*args):
            log.append((name, args))
            return args[0] if len(args) == 1 else None

        return f

    def fallible(ok):
        if ok:
            return 42
        raise componentry.Err("no")

    def unit_result(ok):
        if not ok:
            raise componentry.Err()

    return {
        "nothing": rec("nothing"),
        "one": lambda x: x + 1,
        "many": lambda a, b, c, d, e: (a, b, c, d, e),
        "echo-scalars": rec("echo-scalars"),
        "echo-shape": rec("echo-shape"),
        "echo-color": rec("echo-color"),
        "echo-perms": rec("echo-perms"),
        "echo-points": rec("echo-points"),
        "echo-bag": rec("echo-bag"),
        "echo-thing": rec("echo-thing"),
        "maybe": rec("maybe"),
        "fallible": fallible,
        "unit-result": unit_result,
        "spilled": lambda a, b, c, d, e: sum(a) + sum(b) + sum(c) + sum(d) + e,
        "blob-len": lambda b: b.len(),
        "blob-take": lambda b: bytes(b.data),
        "blob-make": lambda data: Blob(data),
    }


@pytest.fixture
def host_log():
    return []


@pytest.fixture
def inst(everything, host_log):
    return everything.instantiate(
        {
            "test:everything/api@1.2.0": echo_api(host_log),
            "test:everything/types@1.2.0": {"blob": Blob},
            "shout": lambda msg: msg.upper() + "!",
        }
    )
