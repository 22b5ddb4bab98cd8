"""The image-filter example from Python: a Rust image library compiled to a
WebAssembly component (examples/image-filter), called with no glue.

    python examples/image_filter.py IN.png OUT.png [--resize W H [nearest|bilinear]]
                                      [--filter grayscale | box-blur R | brightness-contrast B C]

Pillow reads and writes the PNGs; the component does the pixel work.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from PIL import Image as PILImage

import componentry

COMPONENT = pathlib.Path(__file__).resolve().parents[2] / "examples" / "image-filter" / "image-filter.wasm"


class ImageFilter:
    """The component, instantiated once; `progress` calls are counted."""

    def __init__(self, path: pathlib.Path = COMPONENT):
        self.component = componentry.Component.from_file(path)
        self.types = self.component.types
        self.progress_calls = 0
        self.instance = self.component.instantiate({"progress": self._progress})

    def _progress(self, done: int, total: int) -> None:
        self.progress_calls += 1

    def apply(self, img, filt):
        """`apply(img, f) -> result<image, error>`: the image, or raises
        componentry.Err with the component's `error`."""
        return self.instance.exports.apply(img, filt)

    def from_pil(self, pil: PILImage.Image):
        rgba = pil.convert("RGBA")
        return self.types["Image"](rgba.width, rgba.height, rgba.tobytes())

    @staticmethod
    def to_pil(img) -> PILImage.Image:
        return PILImage.frombytes("RGBA", (img.width, img.height), img.pixels)

    def parse_filter(self, words: list[str]):
        F = self.types["Filter"]
        name, args = words[0], words[1:]
        if name == "grayscale":
            return F.Grayscale()
        if name == "box-blur":
            return F.BoxBlur(int(args[0]))
        if name == "brightness-contrast":
            return F.BrightnessContrast(self.types["BrightnessContrastArgs"](int(args[0]), float(args[1])))
        raise SystemExit(f"unknown filter {name!r}")

    def resize(self, width: int, height: int, method: str = "bilinear"):
        M = self.types["ResizeMethod"]
        return self.types["Filter"].Resize(self.types["ResizeArgs"](width, height, M[method.upper()]))


def process(src, dst, resize=None, filter_words=None, filters: ImageFilter | None = None):
    """Reads `src` (any format Pillow reads), resizes (`(w, h[, method])`),
    applies a filter, writes `dst`."""
    f = filters or ImageFilter()
    img = f.from_pil(PILImage.open(src))
    if resize:
        img = f.apply(img, f.resize(*resize))
    if filter_words:
        img = f.apply(img, f.parse_filter(filter_words))
    f.to_pil(img).save(dst)
    return img


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--resize", nargs="+", metavar="W H [METHOD]")
    p.add_argument("--filter", nargs="+", metavar="NAME [ARGS]")
    a = p.parse_args(argv)
    resize = None
    if a.resize:
        resize = (int(a.resize[0]), int(a.resize[1]), *(a.resize[2:3]))
    try:
        img = process(a.input, a.output, resize, a.filter)
    except componentry.Err as e:
        print(f"the filter failed: {e.value}", file=sys.stderr)
        return 1
    print(f"{a.output}: {img.width}x{img.height}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
