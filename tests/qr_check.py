"""Read a QR code PNG back into its modules, to check that it is the symbol of a given text."""

from __future__ import annotations

import io

import segno
from PIL import Image


def modules(png: bytes) -> list[list[int]]:
    """The dark (1) and light (0) modules of a QR code image with a quiet zone around it."""
    image = Image.open(io.BytesIO(png)).convert("L")
    width, height = image.size
    dark = [[image.getpixel((x, y)) < 128 for x in range(width)] for y in range(height)]
    top = next(y for y in range(height) if any(dark[y]))
    left = min(row.index(True) for row in dark if True in row)
    right = max(width - 1 - row[::-1].index(True) for row in dark if True in row)
    finder = next(x for x in range(left, width) if not dark[top][x]) - left  # 7 modules wide
    scale = finder // 7
    count = (right - left + 1) // scale
    return [
        [int(dark[top + row * scale + scale // 2][left + col * scale + scale // 2]) for col in
         range(count)]
        for row in range(count)
    ]  # fmt: skip


def assert_qr_of(png: bytes, text: str) -> None:
    """The image is a readable PNG showing exactly the QR symbol that encodes ``text``."""
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = Image.open(io.BytesIO(png)).size
    assert width == height
    assert 250 <= width <= 1000  # printable: 10 px a module
    expected = [list(row) for row in segno.make(text, error="m", micro=False).matrix]
    assert modules(png) == expected
