"""`python -m componentry stubs`: the stub is valid Python, names the WIT
types and exports, and (with mypy installed) type-checks a caller."""

import subprocess
import sys

import pytest

from conftest import ROOT, guest

FILTER = ROOT / "examples" / "image-filter" / "image-filter.wasm"


def stub(path):
    r = subprocess.run([sys.executable, "-m", "componentry", "stubs", str(path)], capture_output=True, text=True, check=True)
    return r.stdout


def test_stub_is_python_and_names_everything():
    for path in (FILTER, guest("everything.wasm"), guest("counter.wasm"), guest("strings.wasm")):
        text = stub(path)
        compile(text, str(path), "exec")
    text = stub(guest("everything.wasm"))
    for needle in ["class Bag:", "class Color(enum.Enum):", "class Perms(enum.Flag):", "class Acc(componentry.Resource):",
                   "def __init__(self, start: int) -> None", "def combine(a: Acc, b: Acc) -> Acc:", "api: _ApiExports",
                   "def echo_bag(self, b: Bag) -> Bag:", "nested: Some[list[Point] | None] | None"]:
        assert needle in text, needle


def test_usage():
    r = subprocess.run([sys.executable, "-m", "componentry"], capture_output=True, text=True)
    assert r.returncode == 2 and "usage" in r.stderr


def test_mypy_checks_a_caller(tmp_path):
    api = pytest.importorskip("mypy.api")
    (tmp_path / "imagefilter.pyi").write_text(stub(FILTER))
    (tmp_path / "use.py").write_text(
        "import imagefilter as f\n"
        "def run(e: f.Exports) -> int:\n"
        "    out = e.apply(f.Image(1, 1, b'abcd'), f.Filter.BoxBlur(1))\n"
        "    return out.width\n"
        "def bad(e: f.Exports) -> None:\n"
        "    e.apply(f.Image(1, 1, b'abcd'), 3)\n"
    )
    out, _, code = api.run([str(tmp_path / "use.py"), "--no-error-summary"])
    assert code == 1
    assert out.count("error:") == 1 and 'Argument 2 to "apply" of "Exports"' in out
