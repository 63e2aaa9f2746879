"""Page preparation: what a page shows before and after a first reading (x-height, ink), and scaling it.

Scaling small print is NOT used by any method since PIPELINE_VERSION 3: judged leave one book out over
../shared/corpus, corpus-wide and books (35 books) with the default's other rules, it helped only the book it was
chosen on (held-out mean 0.1180 with it, 0.1178 without, with the second reading in).
bench/bench_ocr_quality.py (`--lobo scale_small_print`) keeps testing it with scale_for and scaled_copy; what follows is how it was first measured.

Scaling, measured on the 15 corpus pages (Tesseract 5.3.0, strict CER, x-height = the median over the text lines
of Tesseract's own measure in the hOCR, x_size - x_ascenders - x_descenders; corpus pages: 15-39 px):
- a German page with 16 px x-height, scaled to 25 px: 0.045 -> 0.019; a commentary page at 15 px: 0.124 ->
  0.126 (scaled 1.5x: 0.139; within the noise of where the pixels fall); a commentary page at 19 px, scaled
  1.3x: 0.0084 -> 0.0074, for 1.2x the page's CPU.
- pages at 20-23 px scaled 1.5x got worse (French 0.109 -> 0.115, 0.083 -> 0.089; Fraktur 0.087 -> 0.090), and
  so did pages at 29-37 px. So only text smaller than 18 px is scaled (19 px gains too little for a second
  reading), to 25 px (inside the 20-35 px band where Tesseract's LSTM models read best), never more than 2x.
The x-height comes from a first reading, so a scaled page costs two readings; pages of normal size cost one.
"""

from __future__ import annotations

import re
import statistics
from pathlib import Path

SMALL_X_HEIGHT = 18.0  # px: below this the page is scaled (module docstring)
TARGET_X_HEIGHT = 25.0
MAX_SCALE = 2.0
_MIN_LINES = 3  # lines needed before the x-height is trusted
_LINE_SIZES = re.compile(r"x_size ([\d.]+); x_descenders ([\d.]+); x_ascenders ([\d.]+)")


def x_height(hocr: str) -> float | None:
    """Median x-height of the text lines, as Tesseract measured them (hOCR `x_size` minus ascenders and
    descenders); None with fewer than 3 lines."""
    heights = [float(size) - float(desc) - float(asc) for size, desc, asc in _LINE_SIZES.findall(hocr)]
    return round(float(statistics.median(heights)), 1) if len(heights) >= _MIN_LINES else None


def scale_for(xh: float | None) -> float:
    """1.0, or the factor that brings small text to TARGET_X_HEIGHT."""
    if xh is None or xh <= 0 or xh >= SMALL_X_HEIGHT:
        return 1.0
    return round(min(MAX_SCALE, TARGET_X_HEIGHT / xh), 3)


def scaled_copy(image: Path, factor: float, target: Path, *, dpi: int | None = None) -> Path:
    """`image` scaled by `factor` (Lanczos, in grey), with its DPI scaled too: Tesseract reads the DPI. The
    format follows `target`'s suffix (a `.tif` is written uncompressed: a hundredth of a PNG's CPU).

    `dpi` is the resolution split recorded, for an image that does not carry one.
    """
    from PIL import Image

    with Image.open(image) as im:
        dpi = im.info.get("dpi") or ((dpi, dpi) if dpi else (300, 300))
        grey = im.convert("L")
    size = (max(1, round(grey.width * factor)), max(1, round(grey.height * factor)))
    grey.resize(size, Image.Resampling.LANCZOS).save(target, dpi=(float(dpi[0]) * factor, float(dpi[1]) * factor))
    return target


def ink(image: Path) -> float:
    """Share of dark pixels (luminance < 128) in the image."""
    from PIL import Image

    with Image.open(image) as im:
        im.load()
        hist = im.convert("L").histogram()
    total = sum(hist)
    return sum(hist[:128]) / total if total else 0.0


_HOCR_NUMBERS = re.compile(r"\b(bbox|baseline|x_size|x_descenders|x_ascenders|scan_res)((?: -?[\d.]+)+)")


def unscale_hocr(hocr: str, factor: float, image_name: str) -> str:
    """The hOCR of a copy scaled by `factor`, in the coordinates of the page image itself (named `image_name`):
    boxes, baseline offsets and font sizes divided by the factor, the resolution too; the slope stays."""

    def fix(m: re.Match[str]) -> str:
        name, values = m.group(1), m.group(2).split()
        if name == "baseline" and len(values) == 2:
            return f"baseline {values[0]} {round(float(values[1]) / factor)}"
        if name in ("bbox", "scan_res"):
            return f"{name} " + " ".join(str(round(float(v) / factor)) for v in values)
        return f"{name} " + " ".join(f"{float(v) / factor:g}" for v in values)

    out = _HOCR_NUMBERS.sub(fix, hocr)
    return re.sub(r"image \"[^\"]*\"", f'image "{image_name}"', out, count=1)
