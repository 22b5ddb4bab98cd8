"""The image filter's box blur written in plain Python (the same running-sum
algorithm as examples/image-filter/filters), for the comparison in
boundary.py: what moving the library to a component buys."""


def _blur_line(src, n, stride, offset, r):
    """Blurs `n` items of `src` at `offset + i * stride`, one channel."""
    window = 2 * r + 1
    last = n - 1
    at = lambda i: src[offset + i * stride]  # noqa: E731
    head = min(r, last)
    s = r * at(0) + (r - head) * at(last)
    for i in range(head + 1):
        s += at(i)
    out = [0] * n
    for x in range(n):
        out[x] = (s + window // 2) // window
        s += at(min(x + r + 1, last)) - at(max(x - r, 0))
    return out


def box_blur(width: int, height: int, pixels: bytes, r: int) -> bytes:
    """Box blur of radius `r` on all four channels of RGBA `pixels`, edges
    clamped: horizontal pass, then vertical."""
    tmp = bytearray(len(pixels))
    row = width * 4
    for y in range(height):
        for c in range(4):
            tmp[y * row + c : (y + 1) * row : 4] = bytes(_blur_line(pixels, width, 4, y * row + c, r))
    out = bytearray(len(pixels))
    for x in range(width):
        for c in range(4):
            col = _blur_line(tmp, height, row, x * 4 + c, r)
            out[x * 4 + c :: row] = bytes(col)
    return bytes(out)
