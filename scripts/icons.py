#!/usr/bin/env python3
"""Draws the app's home-screen icons (www/icon-192.png, www/icon-512.png) — the design of
www/icon.svg: a blue rounded square, a skin-coloured disc, a dark lesion and a white arc — with
the standard library only (4×4 supersampling). Run: python3 scripts/icons.py"""
import math
import struct
import zlib
from pathlib import Path

BLUE, SKIN, LESION, WHITE = (0x2F, 0x6F, 0xDB), (0xF1, 0xD3, 0xB8), (0x6B, 0x3F, 0x2A), (255, 255, 255)


def colour_at(x, y):
    """RGBA of the 512-unit design at (x, y)."""
    r = 96  # corner radius of the square
    cx, cy = min(max(x, r), 512 - r), min(max(y, r), 512 - r)
    if (x - cx) ** 2 + (y - cy) ** 2 > r * r:
        return None
    d = math.hypot(x - 256, y - 256)
    if y <= 256 and abs(d - 146) <= 11:
        return WHITE
    if ((x - 246) / 62) ** 2 + ((y - 262) / 50) ** 2 <= 1:
        return LESION
    if d <= 150:
        return SKIN
    return BLUE


def png(side):
    s = 4
    rows = []
    for j in range(side):
        row = bytearray([0])
        for i in range(side):
            acc = [0, 0, 0, 0]
            for dj in range(s):
                for di in range(s):
                    x = (i + (di + 0.5) / s) * 512 / side
                    y = (j + (dj + 0.5) / s) * 512 / side
                    c = colour_at(x, y)
                    if c:
                        acc[0] += c[0]
                        acc[1] += c[1]
                        acc[2] += c[2]
                        acc[3] += 255
            n = s * s
            a = acc[3] // n
            row += bytes([acc[0] // max(1, acc[3] // 255), acc[1] // max(1, acc[3] // 255),
                          acc[2] // max(1, acc[3] // 255), a]) if a else bytes(4)
        rows.append(bytes(row))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))


if __name__ == "__main__":
    www = Path(__file__).resolve().parent.parent / "www"
    for side in (192, 512):
        (www / f"icon-{side}.png").write_bytes(png(side))
        print(f"wrote www/icon-{side}.png")
