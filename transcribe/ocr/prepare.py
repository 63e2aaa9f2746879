"""Page preparation: what a page shows before and after a first reading (x-height, ink), and scaling it.

Scaling, measured on the 15 corpus pages (Tesseract 5.3.0, strict CER, x-height = median height of the words
Tesseract read with confidence > 80 made only of x-height letters such as 'a', 'n', 'o', 'ε'):
- a German page with 16.5 px x-height, scaled to 25 px: 0.045 -> 0.024; a commentary page at 16 px: 0.124 ->
  0.126-0.139 (scale 1.56 and 1.5: within the noise of where the pixels fall); a commentary page at 19 px:
  0.0084 -> 0.0074, for 1.2x the page's CPU.
- pages at 20-23 px scaled 1.5x got worse (French 0.109 -> 0.115, 0.083 -> 0.089; Fraktur 0.087 -> 0.090), and
  so did pages at 29-37 px. So only text smaller than 18 px is scaled (19 px gains too little for a second
  reading), to 25 px (inside the 20-35 px band where Tesseract's LSTM models read best), never more than 2x.
The x-height comes from a first reading, so a scaled page costs two readings; pages of normal size cost one.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import statistics
from pathlib import Path

SMALL_X_HEIGHT = 18.0  # px: below this the page is scaled (module docstring)
TARGET_X_HEIGHT = 25.0
MAX_SCALE = 2.0
_X_LETTERS = frozenset("acemnorsuvwxzαειοκνπστυωμ")
_MIN_SAMPLES = 3  # words needed before the x-height is trusted


def x_height(tsv: str) -> float | None:
    """Median height of the sure words made of x-height letters only; None with fewer than 3 such words."""
    heights = []
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        word = (row.get("text") or "").strip()
        if row.get("level") != "5" or len(word) < 3 or not set(word) <= _X_LETTERS:
            continue
        with contextlib.suppress(TypeError, ValueError, KeyError):
            if float(row["conf"]) > 80:
                heights.append(int(row["height"]))
    return float(statistics.median(heights)) if len(heights) >= _MIN_SAMPLES else None


def scale_for(xh: float | None) -> float:
    """1.0, or the factor that brings small text to TARGET_X_HEIGHT."""
    if xh is None or xh <= 0 or xh >= SMALL_X_HEIGHT:
        return 1.0
    return round(min(MAX_SCALE, TARGET_X_HEIGHT / xh), 3)


def scaled_copy(image: Path, factor: float, target: Path) -> Path:
    """`image` scaled by `factor` (Lanczos, in grey) as a PNG, with its DPI scaled too: Tesseract reads the DPI."""
    from PIL import Image

    with Image.open(image) as im:
        dpi = im.info.get("dpi") or (300, 300)
        grey = im.convert("L")
    size = (max(1, round(grey.width * factor)), max(1, round(grey.height * factor)))
    grey.resize(size, Image.Resampling.LANCZOS).save(target, dpi=(float(dpi[0]) * factor, float(dpi[1]) * factor))
    return target


_BBOX = re.compile(r"bbox (\d+) (\d+) (\d+) (\d+)")
_SIZES = re.compile(r"(x_size|x_descenders|x_ascenders) ([\d.]+)")
_BASELINE = re.compile(r"baseline (-?[\d.]+) (-?[\d.]+)")


def unscale_hocr(hocr: str, factor: float) -> str:
    """hOCR of a scaled image, with its coordinates back on the original image (for the DjVu text layer)."""
    def box(m: re.Match[str]) -> str:
        return "bbox " + " ".join(str(round(int(v) / factor)) for v in m.groups())

    hocr = _BBOX.sub(box, hocr)
    hocr = _SIZES.sub(lambda m: f"{m.group(1)} {float(m.group(2)) / factor:.4g}", hocr)
    return _BASELINE.sub(lambda m: f"baseline {m.group(1)} {round(float(m.group(2)) / factor)}", hocr)


def ink(image: Path) -> float:
    """Share of dark pixels (luminance < 128) in the image."""
    from PIL import Image

    with Image.open(image) as im:
        im.load()
        hist = im.convert("L").histogram()
    total = sum(hist)
    return sum(hist[:128]) / total if total else 0.0
