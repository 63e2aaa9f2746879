"""JPEG data kept as JPEG: a JPEG file copied as it is, a JPEG-compressed TIFF frame joined into one JPEG file.

A TIFF with Compression 7 ("new-style" JPEG, TIFF Technical Note 2) stores each strip as a small JPEG stream
(SOI, its own headers, one scan, EOI), the Huffman and quantisation tables usually shared in the JPEGTables tag.
The strips are rows of whole MCUs of one image, so they can be put back together without decoding: one header
with the full image height, a restart interval of exactly one strip (DRI), and the strips' entropy-coded data
one after the other, separated by the restart markers RST0..RST7. A decoder resets its DC predictors at each
restart marker, as it did at the start of each strip, so every coefficient, and so every pixel, is the same.

`join_tiff_strips` returns None whenever one of these conditions does not hold (tiles, planar data, progressive
or 12-bit JPEG, strips that already use restart markers, strips with different tables...); the caller then
decodes the page as before. Its result is also compared pixel for pixel with Pillow's (libtiff's) decoding of
the TIFF frame before it is used: chroma upsampling, for one, may blend across strip boundaries in one file and
not in the other.
"""

from __future__ import annotations

import io
import struct
from typing import Any

from PIL import Image

SOI, EOI, SOS, DRI, SOF0, APP0, APP14 = 0xD8, 0xD9, 0xDA, 0xDD, 0xC0, 0xE0, 0xEE
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # markers without a length

COMPRESSION, PHOTOMETRIC, STRIP_OFFSETS, SAMPLES, ROWS_PER_STRIP, STRIP_BYTES, PLANAR = 259, 262, 273, 277, 278, 279, 284
TILE_WIDTH, JPEG_TABLES, ORIENTATION = 322, 347, 274


class _NotJoinable(Exception):
    pass


def _segments(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """(marker, payload) of every header segment up to and including SOS, and the entropy-coded data after it."""
    if data[:2] != b"\xff\xd8":
        raise _NotJoinable("no SOI")
    i, out = 2, list[tuple[int, bytes]]()
    while i + 2 <= len(data):
        if data[i] != 0xFF:
            raise _NotJoinable("bad marker")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == EOI:
            return out, b""  # a tables-only stream (JPEGTables)
        if marker in _STANDALONE:
            raise _NotJoinable("unexpected marker")
        (length,) = struct.unpack(">H", data[i + 2:i + 4])
        out.append((marker, data[i + 4:i + 2 + length]))
        i += 2 + length
        if marker == SOS:
            rest = data[i:]
            end = rest.rfind(b"\xff\xd9")
            if end < 0:
                raise _NotJoinable("no EOI")
            return out, rest[:end]
    raise _NotJoinable("truncated")


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def join_tiff_strips(path: str, im: Image.Image) -> bytes | None:
    """One baseline JPEG file with the pixels of the TIFF frame `im` (already seeked) of `path`, or None."""
    try:
        return _join(path, im)
    except (_NotJoinable, KeyError, struct.error, IndexError, OSError, TypeError, ValueError):
        return None


def _join(path: str, im: Image.Image) -> bytes:
    tags: Any = getattr(im, "tag_v2", None)
    if tags is None or tags.get(COMPRESSION) != 7 or TILE_WIDTH in tags or tags.get(PLANAR, 1) != 1:
        raise _NotJoinable("not strip-based JPEG-in-TIFF")
    if tags.get(ORIENTATION, 1) != 1:
        raise _NotJoinable("rotated")  # the PNG path ignores the orientation too; keep both the same
    photometric, samples = tags.get(PHOTOMETRIC), tags.get(SAMPLES, 1)
    # Which colour transform the decoder must apply: none for RGB (Adobe transform 0), YCbCr -> RGB for YCbCr.
    if (photometric, samples) in ((0, 1), (1, 1)):
        colour = None
        if photometric == 0:
            raise _NotJoinable("white-is-zero")  # its grey values are inverted: not a plain JPEG
    elif (photometric, samples) == (2, 3):
        colour = 0
    elif (photometric, samples) == (6, 3):
        colour = 1
    else:
        raise _NotJoinable("colour space")
    width, height = im.size
    rows = int(tags.get(ROWS_PER_STRIP, height))
    offsets, counts = list(tags[STRIP_OFFSETS]), list(tags[STRIP_BYTES])
    if len(offsets) != len(counts) or len(offsets) != -(-height // rows):
        raise _NotJoinable("strip count")
    tables: list[tuple[int, bytes]] = []
    if JPEG_TABLES in tags:
        tables, _ = _segments(bytes(tags[JPEG_TABLES]))
    with open(path, "rb") as f:
        strips = []
        for off, n in zip(offsets, counts, strict=True):
            f.seek(off)
            strips.append(f.read(n))
    header: list[tuple[int, bytes]] | None = None
    sof: bytes = b""
    sos: bytes = b""
    scans: list[bytes] = []
    for k, strip in enumerate(strips):
        segs, scan = _segments(strip)
        frames = [(m, q) for m, q in segs if 0xC0 <= m <= 0xCF and m not in (0xC4, 0xC8, 0xCC)]  # SOFn
        if [m for m, _ in frames] != [SOF0]:
            raise _NotJoinable("not baseline")
        if any(m == DRI for m, _ in segs) or any(m == DRI for m, _ in tables):
            raise _NotJoinable("already uses restart markers")
        p = frames[0][1]
        strip_rows = min(rows, height - k * rows)
        precision, h, w = p[0], struct.unpack(">H", p[1:3])[0], struct.unpack(">H", p[3:5])[0]
        if precision != 8 or w != width or h != strip_rows:
            raise _NotJoinable("strip size")
        others = [(m, q) for m, q in segs if m != SOF0 and m != SOS and not 0xE0 <= m <= 0xEF]
        if header is None:
            header, sof, sos = others, p, segs[-1][1]
        elif others != header or p[5:] != sof[5:] or segs[-1][1] != sos:
            raise _NotJoinable("strips differ")
        scans.append(scan)
    assert header is not None
    comps = sof[5]
    if comps != samples or len(sof) != 6 + 3 * comps:
        raise _NotJoinable("components")
    hmax = max(sof[6 + 3 * c + 1] >> 4 for c in range(comps))
    vmax = max(sof[6 + 3 * c + 1] & 15 for c in range(comps))
    if rows % (8 * vmax) and len(strips) > 1:
        raise _NotJoinable("strips are not whole MCU rows")
    interval = -(-width // (8 * hmax)) * (rows // (8 * vmax))
    if interval > 0xFFFF:
        raise _NotJoinable("restart interval too large")

    out = bytearray(b"\xff\xd8")
    if colour is not None:
        # Without this marker a decoder guesses YCbCr for 3 components (libjpeg-turbo 2.1, and PDF's DCTDecode
        # default), which would turn RGB data into false colours. A JFIF marker would force YCbCr, so none is added.
        out += _segment(APP14, b"Adobe\x00\x64\x00\x00\x00\x00" + bytes((colour,)))
    dpi = im.info.get("dpi")
    if dpi and dpi[0] and dpi[1]:
        exif = Image.Exif()
        exif[282], exif[283], exif[296] = float(dpi[0]), float(dpi[1]), 2  # X/YResolution, inch
        out += _segment(0xE1, exif.tobytes())
    for m, q in tables:
        out += _segment(m, q)
    for m, q in header:
        out += _segment(m, q)
    out += _segment(SOF0, sof[:1] + struct.pack(">H", height) + sof[3:])
    if len(scans) > 1:
        out += _segment(DRI, struct.pack(">H", interval))
    out += _segment(SOS, sos)
    for k, scan in enumerate(scans):
        if k:
            out += bytes((0xFF, 0xD0 + (k - 1) % 8))
        out += scan
    out += b"\xff\xd9"
    return bytes(out)


def same_pixels(joined: bytes, im: Image.Image) -> bool:
    """Does the joined JPEG decode to exactly the pixels Pillow decodes from the TIFF frame `im`?"""
    with Image.open(io.BytesIO(joined)) as j:
        j.load()
        return j.mode == im.mode and j.size == im.size and j.tobytes() == im.tobytes()


def keepable_jpeg(im: Image.Image) -> bool:
    """A JPEG file that can be used as a page as it is: baseline, grey or colour, not rotated by EXIF."""
    if im.format != "JPEG" or im.mode not in ("L", "RGB") or getattr(im, "n_frames", 1) != 1:
        return False
    if im.info.get("progressive") or im.info.get("progression"):
        return False
    return im.getexif().get(ORIENTATION, 1) == 1
