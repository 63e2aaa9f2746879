"""The pages of a book, checked before anything is written: every image readable, numbered 1..N, a resolution.

`book_pages(pages_dir)` turns the pages record (split's `read_pages`) into `BookPage`s that the PDF and DjVu
writers can use without asking again: resolved DPI, colour kind (which decides the DjVu encoder), and the hOCR
file, if there is one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Literal

from PIL import Image, UnidentifiedImageError

from transcribe.errors import InputError
from transcribe.split import PageImage, read_labels, read_lacunae, read_pages

log = logging.getLogger(__name__)

Kind = Literal["bitonal", "grey", "colour"]

DEFAULT_DPI = 300
# Below or above this a recorded resolution cannot be a book scan's (and DjVu encoders take 25..1200).
MIN_DPI, MAX_DPI = 50, 2400
# A page whose width or height differs from the book's usual by more than this is pointed out.
SIZE_TOLERANCE = 0.25

@dataclass(frozen=True)
class BookPage:
    n: int  # page number in the book file, 1-based
    image: Path
    hocr: Path | None  # None: no OCR for this page, it gets no text
    width: int  # pixels
    height: int
    dpi: float
    kind: Kind
    fmt: str  # Pillow's format name: PNG, TIFF, JPEG...
    lacuna: bool = False  # a placeholder for a IIIF canvas without an image (`lacuna_page`)

    @property
    def inches(self) -> tuple[float, float]:
        return self.width / self.dpi, self.height / self.dpi


def _kind(im: Image.Image) -> Kind:
    if im.mode == "1":
        return "bitonal"
    if im.mode == "P":
        # A palette image is grey (or black and white) only if every colour it uses is.
        palette = im.getpalette() or []
        used = [tuple(palette[3 * i:3 * i + 3]) for _, i in im.getcolors(256) or []]
        if any(len(set(c)) > 1 for c in used):
            return "colour"
        return "bitonal" if {c[0] for c in used if c} <= {0, 255} else "grey"
    if im.mode in ("L", "LA", "I;16", "I"):
        colours = (im if im.mode == "L" else im.convert("L")).getcolors(2)
        if colours is not None and {v for _, v in colours} <= {0, 255}:
            return "bitonal"  # a binarised scan saved as 8-bit: encode it as the black-and-white page it is
        return "grey"
    return "colour"


def _inspect(pages_dir: Path, listed: PageImage, dpi_override: float | None) -> BookPage:
    path = pages_dir / listed.image
    label = f"page {listed.n} ({path.name})"
    if not path.is_file():
        raise InputError(
            f"{label} is missing from {path.parent}.",
            hint="Put the image back, or run 'transcribe split' again to remake the folder.",
        )
    try:
        with Image.open(path) as im:
            frames = getattr(im, "n_frames", 1)
            if frames > 1:
                raise InputError(
                    f"{label} holds {frames} pages, not one.",
                    hint="Split it into page images first: transcribe split FILE -o FOLDER.",
                )
            im.load()  # decode every pixel now: a truncated file must fail here, not halfway through the book
            kind = _kind(im)
            info_dpi = im.info.get("dpi")
            width, height, fmt = im.width, im.height, im.format or path.suffix.lstrip(".").upper()
    except InputError:
        raise
    except Image.DecompressionBombError as e:
        raise InputError(
            f"{label} is too large to handle safely ({e}).",
            hint="Scale it down to the resolution of the other pages, or split the book with fewer pixels.",
        ) from e
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise InputError(
            f"{label} cannot be read: {e}.",
            hint="The file is damaged or not an image: replace it, or run 'transcribe split' again.",
        ) from e
    dpi = dpi_override or listed.dpi
    if not dpi and info_dpi and info_dpi[0] and float(info_dpi[0]) > 1:
        dpi = float(info_dpi[0])
    if not dpi:
        dpi = DEFAULT_DPI
    if not MIN_DPI <= dpi <= MAX_DPI:
        raise InputError(
            f"{label} says it was scanned at {dpi:g} dpi, which cannot be right for a book page.",
            hint="Give the scan's real resolution with --dpi (for example --dpi 300).",
        )
    hocr = path.with_suffix(".hocr")
    return BookPage(listed.n, path, hocr if hocr.is_file() else None, width, height, float(dpi), kind, fmt)


def book_pages(pages_dir: Path, *, dpi: float | None = None, placeholders: Path | None = None) -> list[BookPage]:
    """Every page of the folder, checked; InputError naming the first page that cannot be used.

    The lacunae of a IIIF scan (canvases without an image, `split.read_lacunae`) become placeholder pages drawn
    into the folder `placeholders` (`lacuna_page`), so that page n of the book stays canvas n.
    """
    listed = read_pages(pages_dir)  # in book order: split's record, or the folder's images in natural order
    if not listed:
        raise InputError(
            f"{pages_dir} has no page images.",
            hint="Run 'transcribe split SCAN -o FOLDER' first, or give the folder that holds the images.",
        )
    gaps = read_lacunae(pages_dir) if placeholders is not None else []
    numbers = sorted([p.n for p in listed] + gaps)
    if numbers != list(range(1, len(numbers) + 1)):
        missing = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
        what = f"page(s) {page_ranges(missing)} are missing" if missing else "some page numbers are repeated"
        raise InputError(
            f"The pages of {pages_dir} are not numbered 1 to {max(numbers)}: {what}.",
            hint="Each page of the book file becomes Page:<file>/n, so none may be skipped: run split again "
                 "(it fetches or makes only the missing pages).",
        )
    pages = [_inspect(pages_dir, p, dpi) for p in listed]
    if gaps and placeholders is not None:
        labels = read_labels(pages_dir) or []
        for n in gaps:  # in order, so a run of lacunae takes the size of the page before it
            before = [p for p in pages if p.n < n]
            like = before[-1] if before else min(pages, key=lambda p: p.n)
            label = labels[n - 1] if n <= len(labels) else None
            pages.append(lacuna_page(n, label, like, placeholders))
            pages.sort(key=lambda p: p.n)
    return pages


def lacuna_page(n: int, label: str | None, like: BookPage, folder: Path) -> BookPage:
    """A placeholder for lacuna n: a white page the size of `like` (its neighbour) that says, in the scan itself,
    that the source has no image of this page.

    Why words and not a plain white page: on Wikisource a white page reads as a blank page of the book, and a
    proofreader would take the leaf for blank rather than lost; the words travel with the file wherever it goes
    (the Page: page's scan, the Index's thumbnails, the PDF or DjVu downloaded from Commons), where no note on the
    wiki does. Wikisource's own habit for missing leaves is the same: a placeholder page that says so, keeping the
    numbering. Black on white (bitonal), so it costs a few hundred bytes; and no text layer, so nothing is
    prefilled into its Page: page, which is published 'Without text'.
    """
    from PIL import ImageDraw, ImageFont

    im = Image.new("1", (like.width, like.height), 1)
    draw = ImageDraw.Draw(im)
    size = max(10, like.width // 28)
    lines = [("Lacuna", size * 2),
             ("The source has no image of this page", size),
             (f"(canvas {n} of the IIIF manifest" + (f": \u201c{label[:40]}\u201d)" if label else ")"), size)]
    y = like.height // 3
    for text, px in lines:
        font = ImageFont.load_default(px)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        draw.text(((like.width - (right - left)) // 2 - left, y - top), text, font=font, fill=0)
        y += int((bottom - top) * 1.8)
    path = folder / f"lacuna-{n:05d}.png"
    im.save(path, dpi=(like.dpi, like.dpi))
    return BookPage(n, path, None, like.width, like.height, like.dpi, "bitonal", "PNG", lacuna=True)


def odd_sizes(pages: list[BookPage]) -> list[int]:
    """Pages whose printed size differs much from the book's usual one (a foldout, or a page of another scan)."""
    if len(pages) < 3:
        return []
    mw = median(p.inches[0] for p in pages)
    mh = median(p.inches[1] for p in pages)
    return [
        p.n for p in pages
        if abs(p.inches[0] - mw) > SIZE_TOLERANCE * mw or abs(p.inches[1] - mh) > SIZE_TOLERANCE * mh
    ]


def page_ranges(ns: list[int]) -> str:
    """[1, 2, 3, 7, 9, 10] -> '1-3, 7, 9-10'."""
    runs: list[list[int]] = []
    for n in sorted(set(ns)):
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)
