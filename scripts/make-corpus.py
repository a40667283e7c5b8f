#!/usr/bin/env python3
"""Writes tests/corpus/: awkward files for every parser that takes outside bytes.

Run once by hand (needs Pillow: `pip install pillow`); the files are committed and
tests/corpus/expected.csv says what each must give. The native test `crates/core/tests/corpus.rs`
runs every file through the core parsers; the end-to-end test uploads every image in the page.

    python3 scripts/make-corpus.py
"""
import io
import json
import os
import random
import struct
import zlib

from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "corpus")
W, H = 64, 48


def write(rel, data):
    path = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def base(mode="RGB"):
    """A 64 × 48 gradient with a red 8 × 8 square in its top-left corner (orientation checks)."""
    img = Image.new("RGB", (W, H))
    px = img.load()
    for y in range(H):
        for x in range(W):
            px[x, y] = (40 + x * 2, 60 + y * 3, 120)
    for y in range(8):
        for x in range(8):
            px[x, y] = (230, 20, 20)
    return img.convert(mode) if mode != "RGB" else img


def pil(img, fmt, **kw):
    b = io.BytesIO()
    img.save(b, fmt, **kw)
    return b.getvalue()


def chunk(kind, data):
    c = kind + data
    return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xFFFFFFFF)


def png_raw(width, height, bit_depth, color_type, rows, interlace=0):
    """A PNG from filtered scanline bytes (`rows`: the IDAT payload before compression)."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, interlace)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def rgb16_png():
    img = base()
    rows = b""
    for y in range(H):
        rows += b"\x00"
        for x in range(W):
            for v in img.getpixel((x, y)):
                rows += struct.pack(">H", v * 257)
    return png_raw(W, H, 16, 2, rows)


def adam7_png():
    """An interlaced (Adam7) 8-bit RGB PNG of the base image."""
    img = base()
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    data = b""
    for x0, y0, dx, dy in passes:
        xs = list(range(x0, W, dx))
        ys = list(range(y0, H, dy))
        if not xs or not ys:
            continue
        for y in ys:
            data += b"\x00" + b"".join(bytes(img.getpixel((x, y))) for x in xs)
    return png_raw(W, H, 8, 2, data, interlace=1)


def with_exif_orientation(jpeg, orientation):
    """`jpeg` with an APP1 EXIF segment holding only an Orientation tag."""
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHII", 0x0112, 3, 1, orientation << 16) + struct.pack(">I", 0)
    app1 = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + jpeg[2:]


def jpeg_claiming(width, height):
    """A baseline JPEG whose SOF0 header claims `width` × `height`."""
    j = bytearray(pil(base(), "JPEG", quality=90))
    i = j.index(b"\xff\xc0")
    struct.pack_into(">HH", j, i + 5, height, width)
    return bytes(j)


def webp_claiming(width, height):
    """An extended (VP8X) WebP whose canvas claims `width` × `height`, with a small frame."""
    small = pil(base(), "WEBP", lossless=True)
    vp8l = small[12:]
    vp8x = bytes([0, 0, 0, 0]) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x + vp8l
    return b"RIFF" + struct.pack("<I", len(body)) + body


def images():
    rgb = base()
    out = {}
    # Read: every supported layout, orientation applied, first frame of an animation.
    out["rgb.png"] = pil(rgb, "PNG")
    rgba = rgb.convert("RGBA")
    rgba.putalpha(128)
    out["rgba.png"] = pil(rgba, "PNG")
    out["gray.png"] = pil(base("L"), "PNG")
    out["gray-alpha.png"] = pil(base("LA"), "PNG")
    out["palette.png"] = pil(rgb.convert("P", palette=Image.ADAPTIVE, colors=16), "PNG")
    out["rgb-16-bit.png"] = rgb16_png()
    out["gray-16-bit.png"] = pil(base("L").convert("I;16"), "PNG")
    out["interlaced.png"] = adam7_png()
    blue = Image.new("RGB", (W, H), (20, 20, 230))
    out["animated.png"] = pil(rgb, "PNG", save_all=True, append_images=[blue], duration=100, loop=0)
    out["one-pixel.png"] = pil(Image.new("RGB", (1, 1), (200, 100, 50)), "PNG")
    out["baseline.jpg"] = pil(rgb, "JPEG", quality=92)
    out["progressive.jpg"] = pil(rgb, "JPEG", quality=92, progressive=True)
    out["grayscale.jpg"] = pil(base("L"), "JPEG", quality=92)
    out["cmyk.jpg"] = pil(base("CMYK"), "JPEG", quality=92)
    out["exif-rotated-90.jpg"] = with_exif_orientation(out["baseline.jpg"], 6)
    out["exif-upside-down.jpg"] = with_exif_orientation(out["baseline.jpg"], 3)
    out["trailing-bytes-after-end.jpg"] = out["baseline.jpg"] + b"camera trailer " * 20
    out["png-named-as.jpg"] = out["rgb.png"]
    out["lossy.webp"] = pil(rgb, "WEBP", quality=90)
    out["lossless.webp"] = pil(rgb, "WEBP", lossless=True)
    out["alpha.webp"] = pil(rgba, "WEBP", lossless=True)
    out["animated.webp"] = pil(rgb, "WEBP", save_all=True, append_images=[blue], duration=100, lossless=True)
    # Refused: too large by the header, before decoding.
    out["header-claims-50000x50000.png"] = png_raw(50000, 50000, 8, 2, b"\x00" * 16)
    out["header-claims-50000x50000.jpg"] = jpeg_claiming(50000, 50000)
    out["canvas-claims-50000x50000.webp"] = webp_claiming(50000, 50000)
    # Refused: damaged.
    png = out["rgb.png"]
    out["truncated.png"] = png[: len(png) // 2]
    idat = png.index(b"IDAT")
    bad = bytearray(png)
    for k in range(idat + 8, idat + 40):
        bad[k] ^= 0x5A
    out["corrupted-pixels.png"] = bytes(bad)
    out["zero-width.png"] = png_raw(0, 10, 8, 2, b"")
    jpg = out["baseline.jpg"]
    out["truncated.jpg"] = jpg[: len(jpg) * 2 // 3]
    out["header-only.jpg"] = jpg[: jpg.index(b"\xff\xda")]
    webp = out["lossy.webp"]
    out["truncated.webp"] = webp[: len(webp) // 2]
    out["empty.png"] = b""
    rnd = random.Random(18)
    out["random-bytes.jpg"] = bytes(rnd.randrange(256) for _ in range(2048))
    # Refused: other formats, each named.
    out["drawing.svg"] = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48"><circle cx="32" cy="24" r="20" fill="red"/></svg>\n'
    out["bare.svg"] = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"/>'
    out["page.html"] = b"<!DOCTYPE html>\n<html><head><title>photo</title></head><body><img src=x></body></html>\n"
    out["photo.heic"] = struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00" + b"mif1heic" + b"\x00" * 64
    out["photo.avif"] = struct.pack(">I", 24) + b"ftypavif" + b"\x00\x00\x00\x00" + b"avifmif1" + b"\x00" * 64
    out["image.bmp"] = pil(rgb, "BMP")
    out["image.tiff"] = pil(rgb, "TIFF")
    out["image.gif"] = pil(rgb, "GIF")
    out["notes.txt"] = b"lesion on the left forearm, photographed 2026-11-30\n"
    out["document.pdf"] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    out["utf16-text.txt"] = "a note\n".encode("utf-16")
    return out


def safetensors_parts(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    return b, json.loads(b[8 : 8 + n]), b[8 + n :]


def safetensors_bytes(header, data):
    h = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(h)) + h + data


def models():
    path = os.path.join(ROOT, "www", "models", "tiny-fair-me-p64-int8.safetensors")
    whole, header, data = safetensors_parts(path)
    out = {}
    out["empty.safetensors"] = b""
    out["seven-bytes.safetensors"] = whole[:7]
    out["cut-in-header.safetensors"] = whole[:200]
    out["cut-in-tensors.safetensors"] = whole[: len(whole) // 2]
    huge = bytearray(whole[:4096])
    struct.pack_into("<Q", huge, 0, 1 << 40)
    out["header-length-1-TB.safetensors"] = bytes(huge)
    n = struct.unpack("<Q", whole[:8])[0]
    out["header-not-json.safetensors"] = whole[:8] + b"{" + b"x" * (n - 1)
    no_card = dict(header)
    no_card.pop("__metadata__")
    out["no-card.safetensors"] = safetensors_bytes(no_card, b"")
    card = json.loads(header["__metadata__"]["fairscreen.card"])
    card["format_version"] = 99
    v99 = dict(header)
    v99["__metadata__"] = {"fairscreen.card": json.dumps(card)}
    out["format-version-99.safetensors"] = safetensors_bytes(v99, b"")
    card_not_json = dict(header)
    card_not_json["__metadata__"] = {"fairscreen.card": "{not json"}
    out["card-not-json.safetensors"] = safetensors_bytes(card_not_json, b"")
    flipped = bytearray(whole)
    flipped[-100] ^= 0x01
    out["one-bit-flipped-in-weights.safetensors"] = bytes(flipped)
    out["png-renamed.safetensors"] = pil(base(), "PNG")
    out["onnx-model.onnx"] = b"\x08\x08\x12\x0bfairscreen:\x0a\x05graph" + b"\x00" * 32
    return out


def bundles():
    path = os.path.join(ROOT, "www", "eval", "synthderm-test.safetensors")
    whole, header, data = safetensors_parts(path)
    out = {}
    out["empty.safetensors"] = b""
    out["cut-in-header.safetensors"] = whole[:1000]
    out["cut-in-images.safetensors"] = whole[:65536]
    no_card = dict(header)
    no_card.pop("__metadata__")
    out["no-data-card.safetensors"] = safetensors_bytes(no_card, b"")
    model = os.path.join(ROOT, "www", "models", "tiny-fair-me-p64-int8.safetensors")
    out["a-model-file.safetensors"] = open(model, "rb").read()[:8192]
    out["text.safetensors"] = b"this is not an evaluation subset\n"
    return out


PRED_HEADER = "label,prediction,prob_0,prob_1,prob_2,skin_type,sex\n"


def predictions():
    ok_rows = [
        "0,0,0.8,0.1,0.1,1,0",
        "1,1,0.1,0.8,0.1,2,1",
        "2,2,0.1,0.1,0.8,5,0",
        "0,1,0.4,0.5,0.1,6,1",
    ]

    def table(rows, header=PRED_HEADER):
        return header + "\n".join(rows) + "\n"

    out = {}
    out["ok.csv"] = table(ok_rows)
    out["ok-with-bom-and-crlf.csv"] = "\ufeff" + table(ok_rows).replace("\n", "\r\n")
    out["label-written-07.csv"] = table(ok_rows[:3] + ["07,0,0.8,0.1,0.1,1,0"])
    out["label-one-billion.csv"] = table(ok_rows[:3] + ["1000000000,0,0.8,0.1,0.1,1,0"])
    out["label-not-a-number.csv"] = table(ok_rows[:3] + ["benign,0,0.8,0.1,0.1,1,0"])
    out["probability-nan.csv"] = table(ok_rows[:3] + ["0,0,NaN,0.1,0.1,1,0"])
    out["probability-negative.csv"] = table(ok_rows[:3] + ["0,0,1.2,-0.1,-0.1,1,0"])
    out["probability-infinite.csv"] = table(ok_rows[:3] + ["0,0,inf,0.1,0.1,1,0"])
    out["probability-above-one.csv"] = table(ok_rows[:3] + ["0,0,1.5,0.0,0.0,1,0"])
    out["probabilities-sum-to-0.7.csv"] = table(ok_rows[:3] + ["0,0,0.5,0.1,0.1,1,0"])
    out["duplicate-label-column.csv"] = table(
        [r + ",0" for r in ok_rows], "label,prediction,prob_0,prob_1,prob_2,skin_type,sex,label\n"
    )
    out["missing-prediction-column.csv"] = "label,skin_type\n0,1\n1,2\n"
    out["header-only.csv"] = PRED_HEADER
    out["empty.csv"] = ""
    out["unclosed-quote.csv"] = table(ok_rows[:2] + ['"0,0,0.8,0.1,0.1,1,0'])
    out["ragged-row.csv"] = table(ok_rows[:2] + ["0,0,0.8"])
    out["not-utf8.csv"] = PRED_HEADER.encode() + b"0,0,0.8,0.1,0.1,\xff\xfe,0\n"
    out["one-skin-group.csv"] = table([r.rsplit(",", 2)[0] + ",3," + r[-1] for r in ok_rows])
    out["only-label-and-prediction.csv"] = "label,prediction\n0,0\n1,1\n"
    out["some-probability-columns.csv"] = table(
        ["0,0,0.8,0.2,1,0", "1,1,0.2,0.8,2,1"], "label,prediction,prob_0,prob_1,skin_type,sex\n"
    ).replace("prob_1,", "prob_1,") + "2,2,0.5,0.5,1,0\n"
    return out


def labels():
    out = {}
    out["ok.csv"] = "file,label,skin_type,sex,age\na.png,benign,2,female,40\nb.png,malignant,5,male,61\n"
    out["bad-rows.csv"] = (
        "file,label,skin_type,sex,age\n"
        "a.png,benign,2,female,40\n"
        "b.png,cancerous,2,female,40\n"
        "c.png,benign,9,female,40\n"
        "d.png,benign,3,unknown-sex,40\n"
        "e.png,benign,3,male,four\n"
    )
    out["no-label-column.csv"] = "file,skin_type\na.png,2\n"
    out["no-file-column.csv"] = "label,skin_type\nbenign,2\n"
    out["empty.csv"] = ""
    out["not-utf8.csv"] = b"file,label\n\xff\xfe.png,benign\n"
    return out


def manifests():
    ok = {"format": 1, "assets": [{"path": "index.html", "bytes": 10, "sha256": "ab" * 32}]}
    out = {}
    out["manifest-ok.json"] = json.dumps(ok)
    out["manifest-not-json.json"] = "{format: 1"
    out["manifest-missing-assets.json"] = json.dumps({"format": 1})
    out["manifest-bytes-negative.json"] = json.dumps(
        {"format": 1, "assets": [{"path": "a", "bytes": -1, "sha256": "00"}]}
    )
    out["manifest-empty.json"] = ""
    idx = {
        "format": 1,
        "default": "m",
        "assets": [{"name": "m", "file": "m.safetensors", "bytes": 1, "sha256": "00" * 32}],
    }
    out["index-ok.json"] = json.dumps(idx)
    out["index-default-unlisted.json"] = json.dumps(dict(idx, default="other"))
    out["index-assets-not-a-list.json"] = json.dumps(dict(idx, assets={"m": 1}))
    return out


def main():
    for rel, data in images().items():
        write(f"images/{rel}", data)
    for rel, data in models().items():
        write(f"models/{rel}", data)
    for rel, data in bundles().items():
        write(f"bundles/{rel}", data)
    for rel, data in predictions().items():
        write(f"predictions/{rel}", data)
    for rel, data in labels().items():
        write(f"labels/{rel}", data)
    for rel, data in manifests().items():
        write(f"manifests/{rel}", data)


if __name__ == "__main__":
    main()
