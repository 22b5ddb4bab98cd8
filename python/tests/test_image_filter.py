"""The example: PNG in, the image-filter component from Python, PNG out;
the pixels equal the Rust host's (examples/image_filter.rs) for the same
input, and the same program built for WASI (run with preopened dirs)."""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

PIL = pytest.importorskip("PIL.Image")

import componentry
from conftest import ROOT, guest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "examples"))
import image_filter  # noqa: E402


def make_png(path, w=40, h=30):
    img = PIL.new("RGB", (w, h))
    img.putdata([((x * 7) % 256, (y * 11) % 256, (x * y) % 256) for y in range(h) for x in range(w)])
    img.save(path)
    return img


def to_ppm(pil, path):
    pil.convert("RGB").save(path, format="PPM")


def rust_host(args):
    """Runs the Rust host (examples/image_filter.rs): the built binary if
    there is one, else through cargo."""
    for profile in ("release", "debug"):
        exe = ROOT / "target" / profile / "examples" / "image-filter"
        if exe.exists():
            return subprocess.run([str(exe), *args], check=True, capture_output=True)
    if not shutil.which("cargo"):
        pytest.skip("no cargo to run the Rust host")
    return subprocess.run(
        ["cargo", "run", "--quiet", "--example", "image-filter", "--", *args],
        cwd=ROOT, check=True, capture_output=True,
    )


def test_example_matches_rust_host(tmp_path):
    src = tmp_path / "in.png"
    make_png(src)
    out = tmp_path / "out.png"
    f = image_filter.ImageFilter()
    assert image_filter.main([str(src), str(out), "--resize", "20", "15", "--filter", "box-blur", "2"]) == 0
    py_pixels = PIL.open(out).convert("RGB").tobytes()
    # The Rust host, one filter per run, on PPM files.
    to_ppm(PIL.open(src), tmp_path / "in.ppm")
    rust_host([str(tmp_path / "in.ppm"), str(tmp_path / "mid.ppm"), "resize", "20", "15", "bilinear"])
    rust_host([str(tmp_path / "mid.ppm"), str(tmp_path / "rust.ppm"), "box-blur", "2"])
    rust = PIL.open(tmp_path / "rust.ppm").convert("RGB")
    assert rust.size == (20, 15)
    assert py_pixels == rust.tobytes()
    del f


def test_each_filter_and_progress(tmp_path):
    f = image_filter.ImageFilter()
    img = f.from_pil(make_png(tmp_path / "a.png", 8, 6))
    for words in (["grayscale"], ["box-blur", "1"], ["brightness-contrast", "20", "1.3"]):
        out = f.apply(img, f.parse_filter(words))
        assert (out.width, out.height) == (8, 6) and len(out.pixels) == 8 * 6 * 4
    assert f.progress_calls > 0
    gray = f.apply(img, f.parse_filter(["grayscale"]))
    px = gray.pixels
    assert all(px[i] == px[i + 1] == px[i + 2] for i in range(0, len(px), 4))


def test_component_errors_are_err(tmp_path):
    f = image_filter.ImageFilter()
    T = f.types
    with pytest.raises(componentry.Err) as e:
        f.apply(T["Image"](2, 2, b"\0" * 15), T["Filter"].Grayscale())
    assert e.value.value == T["Error"].BufferLengthMismatch(T["LengthMismatch"](16, 15))
    with pytest.raises(componentry.Err) as e:
        f.apply(T["Image"](0, 0, b""), T["Filter"].Grayscale())
    assert e.value.value == T["Error"].BadDimensions()


def test_wasi_build_same_bytes(tmp_path):
    """The image filter built for wasm32-wasip2, run as a command with a
    preopened directory and arguments, writes what the library gives."""
    src = make_png(tmp_path / "in.png", 12, 9)
    to_ppm(src, tmp_path / "in.ppm")
    c = componentry.Component.from_file(guest("wasi/image-filter.wasm"))
    wasi = componentry.Wasi(
        args=["image-filter", "/t/in.ppm", "/t/out.ppm", "box-blur", "1"],
        dirs=[(str(tmp_path), "/t")],
    )
    inst = c.instantiate(wasi=wasi)
    assert inst.run() == 0
    assert b"12x9 pixels" in inst.stderr
    wasi_px = PIL.open(tmp_path / "out.ppm").convert("RGB").tobytes()
    f = image_filter.ImageFilter()
    lib = f.apply(f.from_pil(src), f.parse_filter(["box-blur", "1"]))
    assert wasi_px == f.to_pil(lib).convert("RGB").tobytes()


def test_plain_python_blur_matches_the_component():
    """bench/pure_blur.py (the measured baseline) computes the same bytes."""
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "bench"))
    import pure_blur

    f = image_filter.ImageFilter()
    w, h = 13, 7
    px = bytes((i * 37) % 256 for i in range(w * h * 4))
    for r in (0, 1, 3, 20):
        out = f.apply(f.types["Image"](w, h, px), f.types["Filter"].BoxBlur(r))
        assert pure_blur.box_blur(w, h, px, r) == out.pixels
