"""Work folders for the publish and export tests, made from the Glauber sample without running Tesseract.

The page text is the sample's ground truth standing in for OCR output (publish does not care who read it);
images are rendered small with pdftoppm so the preview has something to show.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GLAUBER = REPO / "samples" / "glauber"
PDF = GLAUBER / "glauber.pdf"

WORK_TOML = """title = "Annotationes über den Appendicem"
language = "{language}"
author = "Johann Rudolf Glauber"
year = "1656"
publisher = "Jansson"
place = "Amsterdam"
institution = "Test Library"
licence = "{licence}"
page_labels = "1=10"
scan = "glauber.pdf"
{extra}"""


def render_images(cache: Path) -> Path:
    """The five pages as small PNGs (rendered once per session into `cache`)."""
    out = cache / "glauber-images"
    if not (out / "0005.png").is_file():
        out.mkdir(parents=True, exist_ok=True)
        subprocess.run(["pdftoppm", "-r", "30", "-png", str(PDF), str(out / "p")], check=True)
        for i, p in enumerate(sorted(out.glob("p-*.png")), 1):
            p.rename(out / f"{i:04d}.png")
    return out


def make_work(root: Path, images: Path | None = None, *, statuses: dict[int, str] | None = None,
              language: str = "en", licence: str = "PD-old-70", extra: str = "", texts: dict[int, str] | None = None,
              pdf: Path = PDF, pages: int = 5) -> Path:
    """A work folder: work.toml, the scan, pages/ with 000N.txt (and 000N.png when `images`), ocr.json.

    `statuses` overrides a page's OCR status ('blank', 'failed', 'no-model'); `texts` its text.
    """
    root.mkdir(parents=True, exist_ok=True)
    (root / "work.toml").write_text(WORK_TOML.format(language=language, licence=licence, extra=extra),
                                    encoding="utf-8")
    shutil.copy(pdf, root / "glauber.pdf")
    pd = root / "pages"
    pd.mkdir()
    statuses = statuses or {}
    entries = []
    for n in range(1, pages + 1):
        gt = GLAUBER / "ground-truth" / f"{(n - 1) % 5 + 1:04d}.gt.txt"
        status = statuses.get(n, "done")
        text = (texts or {}).get(n, gt.read_text(encoding="utf-8") + "\n\f")
        if status == "blank":
            text = "\f"
        if status in ("done", "blank"):
            (pd / f"{n:04d}.txt").write_text(text, encoding="utf-8")
        if images is not None:
            shutil.copy(images / f"{(n - 1) % 5 + 1:04d}.png", pd / f"{n:04d}.png")
        entries.append({"n": n, "image": f"{n:04d}.png", "status": status,
                        "reason": "tesseract crashed (test)" if status == "failed" else None})
    (pd / "ocr.json").write_text(json.dumps({"settings": {}, "pages": entries}), encoding="utf-8")
    if images is None:
        # no images: pages.json still says which pages there are
        (pd / "pages.json").write_text(json.dumps({"scan": "glauber.pdf", "pages": [
            {"n": e["n"], "image": e["image"], "source": f"glauber.pdf#page={e['n']}", "width": 1, "height": 1,
             "dpi": 30, "sha1": "0" * 40} for e in entries]}), encoding="utf-8")
    return root


def small_pdf(images: Path, cache: Path, pages: int = 5) -> Path:
    """A small PDF of `pages` pages from the low-resolution images: uploads in milliseconds, page count kept."""
    out = cache / f"small-{pages}.pdf"
    if not out.is_file():
        import img2pdf

        files = [str(images / f"{(n - 1) % 5 + 1:04d}.png") for n in range(1, pages + 1)]
        out.write_bytes(img2pdf.convert(files))
    return out


# A module-scoped fixture: a test module that imports it renders the scans once.
@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    cache = tmp_path_factory.mktemp("scans")
    images = render_images(cache)
    return images, small_pdf(images, cache)
