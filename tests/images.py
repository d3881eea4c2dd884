"""Small real image files for tests (PNG drawn by ``omnichannel.demo.photo``: no imaging library needed)."""

from __future__ import annotations

from omnichannel.demo import photo


def png(width: int = 64, height: int = 48, rgb: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A PNG of one colour with a darker diagonal band (so a screenshot shows it is drawn)."""
    dark = tuple(c // 3 for c in rgb)
    return photo.png(width, height, lambda x, y: dark if abs(x * height - y * width) < width * 4 else rgb)


# the start of a JPEG (SOI + JFIF APP0): what sniffing looks at; browsers are not asked to draw it
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 200 + b"\xff\xd9"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 100
