"""Making the image of one page: extracted from a PDF, rendered, decoded from DjVu, converted or copied.

`make_page(job) -> Made` is the unit of work: a small picklable job in, a finished image under a temporary
name out. It runs in worker threads; only the parent moves files into place and records them.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import threading
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PIL import Image

from transcribe.errors import InputError
from transcribe.split import pdf as _pdf
from transcribe.split.jpeg import join_tiff_strips, keepable_jpeg, same_pixels
from transcribe.split.tools import last_line, run


@dataclass(frozen=True)
class SourcePage:
    """One page of a scan and how to make its image (small and picklable: the unit of work)."""

    n: int
    kind: str  # 'pdf', 'djvu', 'frame' (an image file, or a frame of a TIFF), 'zip'
    path: str  # the scan file, or the image file for a folder
    source: str
    ref: str = ""  # the ZIP member name
    frame: int = 0  # TIFF frame
    fingerprint: str = ""  # SHA-1 of what this page is made from (the whole scan, or its own image file)


# 'auto': JPEG data stays JPEG (a .jpg page, see split/jpeg.py), anything else becomes PNG. 'png' and 'tiff'
# convert every page, JPEG ones too (decoded, losslessly stored: much larger files).
FORMATS = ("auto", "png", "tiff")
EXTENSIONS = {"png": ".png", "tiff": ".tif", "jpeg": ".jpg"}
# Bump when the output of a page changes for the same input and settings, so old pages are redone.
# 2: JPEG pages and JPEG-in-TIFF frames are kept as .jpg pages by default.
SPLIT_VERSION = 2

# Pillow warns (DecompressionBombWarning) when it opens an image between 1x and 2x its pixel limit; open_image
# catches that warning and turns it into our own clear InputError (or nothing, when the caller's limit allows it).
# catch_warnings changes process-wide state, so the pages' threads open their images one at a time (opening only
# reads the header: no decoding happens under the lock).
_OPEN_LOCK = threading.Lock()


@dataclass(frozen=True)
class Settings:
    dpi: int
    fmt: str
    gray: bool
    max_pixels: int | None

    @property
    def out_fmt(self) -> str:
        """The format of a page that is not kept as JPEG."""
        return "png" if self.fmt == "auto" else self.fmt

    def keeps_jpeg(self, im: Image.Image) -> bool:
        """Keep this image's JPEG data (format 'auto'; with --gray only when it is grey already)."""
        return self.fmt == "auto" and (not self.gray or im.mode == "L")

    def key_part(self) -> str:
        return json.dumps({"dpi": self.dpi, "fmt": self.fmt, "gray": self.gray, "v": SPLIT_VERSION},
                          sort_keys=True)


@contextlib.contextmanager
def pixel_limit(max_pixels: int | None) -> Iterator[None]:
    """Use the caller's pixel limit instead of Pillow's (0: none) while splitting; None keeps Pillow's.

    Pillow refuses images over twice Image.MAX_IMAGE_PIXELS when opening them, before our own clearer check
    runs, so a genuine large scan needs the global raised. It is restored afterwards.
    """
    if max_pixels is None:
        yield
        return
    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = max_pixels or None
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = saved


# -- making one page -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Job:
    page: SourcePage
    scratch: str  # a private folder for temporary files
    settings: Settings
    pdf_plan: _pdf.PagePlan | None = None


@dataclass(frozen=True)
class Made:
    tmp: str  # the finished image, under a temporary name
    width: int
    height: int
    dpi: int | None
    method: str


def make_page(job: Job) -> Made:
    """Make the image of one page under a temporary name in the scratch folder (runs in a worker thread)."""
    page, s = job.page, job.settings
    ext = EXTENSIONS[s.out_fmt]
    tmp = Path(job.scratch) / f"{page.n:04d}{ext}"
    jpg = tmp.with_suffix(EXTENSIONS["jpeg"])
    if page.kind == "pdf":
        assert job.pdf_plan is not None
        plan = job.pdf_plan
        if plan.extract:
            _check_pixels(plan.width * plan.height, page.source, s.max_pixels)
            wrapped, produced = _pdf.extract(Path(page.path), plan, Path(job.scratch))
            if wrapped and isinstance(produced, bytes) and s.out_fmt == "png" and not (s.gray and plan.colours == 3):
                tmp.write_bytes(produced)  # the stored pixels, in a PNG file without decoding
                return Made(str(tmp), plan.width, plan.height, plan.dpi, "extracted")
            # A grey image comes back from pdfimages as RGB with equal channels: make it grey again, losslessly.
            s_page = replace(s, gray=True) if plan.colours == 1 else s
            src = produced if isinstance(produced, Path) else io.BytesIO(produced)
            try:
                with open_image(src, page.source, s.max_pixels) as im:
                    return _save(im, tmp, s_page, plan.dpi, "extracted", page.source)
            finally:
                if isinstance(produced, Path):
                    produced.unlink(missing_ok=True)
        _check_pixels(job.pdf_plan.render_pixels(s.dpi), page.source, s.max_pixels, rendering=s.dpi)
        _pdf.render(Path(page.path), page.n, s.dpi, s.out_fmt, s.gray, tmp)
        with Image.open(tmp) as im:
            return Made(str(tmp), im.width, im.height, s.dpi, "rendered")
    if page.kind == "djvu":
        raw = Path(job.scratch) / f"{page.n:04d}.ddjvu.tif"
        proc = run(["ddjvu", "-format=tiff", f"-page={page.n}", page.path, str(raw)])
        if proc.returncode != 0 or not raw.is_file():
            raise InputError(f"Page {page.n} of {Path(page.path).name} could not be decoded "
                             f"({last_line(proc.stderr)}).", hint="The DjVu file may be damaged: get it again.")
        try:
            with open_image(raw, page.source, s.max_pixels) as im:
                return _save(im, tmp, s, dpi_of(im), "decoded", page.source)
        finally:
            raw.unlink(missing_ok=True)
    if page.kind == "zip":
        with zipfile.ZipFile(page.path) as z:
            data = z.read(page.ref)
        with open_image(io.BytesIO(data), page.source, s.max_pixels) as im:
            if s.keeps_jpeg(im) and keepable_jpeg(im):
                _load(im, page.source)
                jpg.write_bytes(data)
                return Made(str(jpg), im.width, im.height, dpi_of(im), "copied")
            if _can_copy(im, s):
                _load(im, page.source)
                tmp.write_bytes(data)
                return Made(str(tmp), im.width, im.height, dpi_of(im), "copied")
            return _save(im, tmp, s, dpi_of(im), "converted", page.source)
    with open_image(Path(page.path), page.source, s.max_pixels) as im:
        if page.frame:
            im.seek(page.frame)
        if s.keeps_jpeg(im):
            if not page.frame and keepable_jpeg(im):
                _load(im, page.source)
                shutil.copyfile(page.path, jpg)
                return Made(str(jpg), im.width, im.height, dpi_of(im), "copied")
            joined = join_tiff_strips(page.path, im)
            if joined is not None:
                _load(im, page.source)
                # Only when the joined file decodes to the very pixels of the frame (see split/jpeg.py).
                if same_pixels(joined, im):
                    jpg.write_bytes(joined)
                    return Made(str(jpg), im.width, im.height, dpi_of(im), "joined")
        if not page.frame and _can_copy(im, s):
            _load(im, page.source)
            shutil.copyfile(page.path, tmp)
            return Made(str(tmp), im.width, im.height, dpi_of(im), "copied")
        return _save(im, tmp, s, dpi_of(im), "converted", page.source)


def _can_copy(im: Image.Image, s: Settings) -> bool:
    """An image file already in the wanted format (one frame, and grey when --gray) is kept byte for byte."""
    fmt = {"PNG": "png", "TIFF": "tiff"}.get(im.format or "")
    return fmt == s.out_fmt and getattr(im, "n_frames", 1) == 1 and (not s.gray or im.mode in ("1", "L"))


@contextlib.contextmanager
def open_image(src: Path | io.BytesIO, label: str, max_pixels: int | None = None) -> Any:
    try:
        with _OPEN_LOCK, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", Image.DecompressionBombWarning)
            im = Image.open(src)
        for w in caught:
            if not issubclass(w.category, Image.DecompressionBombWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)  # not ours: pass it on
    except Image.DecompressionBombError as e:
        m = re.search(r"\((\d+) pixels\)", str(e))
        _check_pixels(int(m.group(1)) if m else 0, label, None)  # Pillow's limit, as set by pixel_limit()
        raise InputError(f"{label} is too large to open safely ({e}).", hint=_BOMB_HINT) from e
    except (OSError, SyntaxError, ValueError) as e:
        raise InputError(f"{label} is not an image this tool can read ({e}).",
                         hint="Check the file, or export the page again as PNG or TIFF.") from e
    try:
        _check_pixels(im.width * im.height, label, max_pixels)
        yield im
    finally:
        im.close()


_BOMB_HINT = ("If it is a genuine scan, run again with a higher --max-pixels (or 0 for no limit), "
              "or reduce the image's resolution first.")


def _check_pixels(pixels: int, label: str, max_pixels: int | None, rendering: int | None = None) -> None:
    limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else (max_pixels or None)
    if limit and pixels > limit:
        what = f"Rendered at {rendering} dpi, {label}" if rendering else label
        raise InputError(
            f"{what} would be {_count(pixels)} pixels, over the safety limit of {_count(limit)} "
            "(a file that large may be a decompression bomb).",
            hint=("Use a lower --dpi, or " + _BOMB_HINT[0].lower() + _BOMB_HINT[1:]) if rendering else _BOMB_HINT)


def _count(pixels: int) -> str:
    return f"{pixels / 1e6:.0f} million" if pixels >= 10**7 else f"{pixels:,}"


def dpi_of(im: Image.Image) -> int | None:
    dpi = im.info.get("dpi")
    try:
        value = round(float(dpi[0])) if dpi else 0
    except (TypeError, ValueError):
        value = 0
    return value or None


def _load(im: Image.Image, label: str) -> None:
    """Decode the open image in full: a truncated file must not slip through (as a copy or a join)."""
    try:
        im.load()
    except (OSError, SyntaxError, ValueError) as e:
        raise InputError(f"{label} is damaged or truncated ({e}).",
                         hint="Copy or export this page again, then run the same command.") from e


def _save(im: Image.Image, tmp: Path, s: Settings, dpi: int | None, method: str, label: str) -> Made:
    _load(im, label)
    s = replace(s, fmt=s.out_fmt)
    out = im
    if s.gray and im.mode not in ("1", "L", "I;16", "I"):
        out = im.convert("L")
    elif im.mode in ("CMYK", "YCbCr", "LAB", "HSV") or (im.mode == "P" and s.fmt == "tiff"):
        out = im.convert("RGB")
    elif im.mode in ("LA", "RGBA", "PA") and s.fmt == "tiff":
        out = im.convert("RGB" if im.mode != "LA" else "L")
    params: dict[str, Any] = {}
    if dpi:
        params["dpi"] = (dpi, dpi)
    if s.fmt == "png":
        # zlib level 1: 4x faster than Pillow's default 6 on scanned pages (0.4 s against 1.6 s for a
        # 1200x1956 RGB page, Pillow 13) for files only about 5 % larger; the pixels are the same.
        out.save(tmp, "PNG", compress_level=1, **params)
    else:
        out.save(tmp, "TIFF", compression="group4" if out.mode == "1" else "tiff_deflate", **params)
    return Made(str(tmp), out.width, out.height, dpi, method)


