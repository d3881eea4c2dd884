"""The demo's photo: a road with a pothole, drawn as a PNG by hand (no imaging library needed)."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

Pixel = tuple[int, int, int]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width: int, height: int, pixel: Callable[[int, int], Pixel]) -> bytes:
    """A valid 8-bit RGB PNG whose colour at (x, y) is ``pixel(x, y)``."""
    rows = b"".join(b"\x00" + bytes(c for x in range(width) for c in pixel(x, y)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows, 9))
            + _chunk(b"IEND", b""))


def pothole(width: int = 320, height: int = 240) -> bytes:
    """Grey asphalt, a white centre line, and a dark hole in the lane: what a citizen photographs."""
    cx, cy, rx, ry = width * 0.42, height * 0.62, width * 0.18, height * 0.12

    def pixel(x: int, y: int) -> Pixel:
        d = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2
        if d < 1:
            return (38, 34, 30) if d < 0.7 else (70, 64, 58)
        if abs(x - width // 2) < 3 and (y // 16) % 2 == 0:
            return (235, 235, 225)
        if y < height // 6:
            return (150, 190, 230)  # sky above the road
        grain = (x * 7 + y * 13) % 9
        return (112 + grain, 112 + grain, 108 + grain)

    return png(width, height, pixel)
