"""Benchmark: a folder of page images -> a searchable PDF, transcribe against img2pdf + OCRmyPDF.

    .venv/bin/python bench/bench_bundle.py [--pages 5] [--lang frk] [--jobs 2] [--keep DIR]

transcribe: split (folder -> pages), ocr (Tesseract, hOCR), bundle (PDF; and DjVu for comparison).
Baseline:   Debian's `img2pdf` (images -> PDF), then `ocrmypdf --jobs N -l LANG --output-type pdf`.
Both use the same images and the same Tesseract model, one Tesseract thread each (OMP_THREAD_LIMIT=1).
Reported: wall time, file size, the PDF's size against the scans' JPEG data (issue 11: at most 1.1 x; split
keeps JPEG data as .jpg pages, and the PDF of `split --format png` pages is made too, for comparison), and the CER of the text layer (`pdftotext` page by page) against the corpus
ground truth, with the corpus' normalisation (NFC, whitespace collapsed; see transcribe/evaluate.py).
Prints numbers from one run; it is not a test.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from transcribe.bundle import bundle
from transcribe.evaluate import char_errors, normalize
from transcribe.ocr import OcrSettings, ocr_pages
from transcribe.split import split
from transcribe.split.jpeg import join_tiff_strips
from transcribe.store import Store

CORPUS = REPO.parent / "shared" / "corpus"


def _pick(corpus: Path, n: int, lang: str) -> list[tuple[Path, Path]]:
    with open(corpus / "manifest.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["tesseract_lang"] == lang]
    if len(rows) < n:
        sys.exit(f"the corpus has only {len(rows)} pages for {lang}")
    return [(corpus / r["file"], corpus / r["gt_file"]) for r in rows[:n]]


def _cer(pdf: Path, gts: list[Path]) -> tuple[float, list[float]]:
    errors = chars = 0
    per_page = []
    for i, gt_file in enumerate(gts, 1):
        text = subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), "-enc", "UTF-8", str(pdf), "-"],
                              check=True, capture_output=True, text=True).stdout
        gt = normalize(gt_file.read_text(encoding="utf-8"))
        e = char_errors(gt, normalize(text))
        errors, chars = errors + e, chars + len(gt)
        per_page.append(e / len(gt))
    return errors / chars, per_page


def _jpeg_bytes(image: Path) -> int:
    """The JPEG data in a scan: a JPEG file's size, a JPEG-in-TIFF's strips (0 for other scans)."""
    from PIL import Image

    if image.suffix.lower() in (".jpg", ".jpeg"):
        return image.stat().st_size
    with Image.open(image) as im:
        return sum(im.tag_v2[279]) if join_tiff_strips(str(image), im) is not None else 0


def _timed(args: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(args, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=5)
    ap.add_argument("--lang", default="frk", help="Tesseract model; pages of the corpus with this model are used")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--keep", type=Path, help="keep the work files here")
    a = ap.parse_args()
    os.environ["OMP_THREAD_LIMIT"] = "1"
    env = dict(os.environ)

    pages = _pick(a.corpus, a.pages, a.lang)
    work = Path(a.keep or tempfile.mkdtemp(prefix="bench-bundle-"))
    scans = work / "scans"
    shutil.rmtree(work / "pages", ignore_errors=True)
    scans.mkdir(parents=True, exist_ok=True)
    for n, (image, _) in enumerate(pages, 1):
        shutil.copy(image, scans / f"{n:04d}{image.suffix}")
    gts = [gt for _, gt in pages]
    images = sorted(scans.iterdir())
    print(f"{len(pages)} pages ({', '.join(p.name for p, _ in pages)}), model {a.lang}, jobs {a.jobs}, "
          f"input {sum(p.stat().st_size for p in images) / 1e6:.1f} MB")

    # -- transcribe ------------------------------------------------------------------------------------------
    rows = []
    t0 = time.perf_counter()
    split(scans, work / "pages", jobs=a.jobs)
    t1 = time.perf_counter()
    with Store(work / "pages" / "transcribe.db") as store:
        summary = ocr_pages(work / "pages", OcrSettings(models=a.lang), store=store, work=store.work("."),
                            jobs=a.jobs)
    t2 = time.perf_counter()
    ours = work / "transcribe.pdf"
    bundle(work / "pages", ours, lang="de", jobs=a.jobs)
    t3 = time.perf_counter()
    ours_djvu = work / "transcribe.djvu"
    bundle(work / "pages", ours_djvu, lang="de", jobs=a.jobs)
    t4 = time.perf_counter()
    pages_png = work / "pages-png"
    split(scans, pages_png, fmt="png", jobs=a.jobs)
    png_pdf = work / "png-pages.pdf"
    bundle(pages_png, png_pdf, jobs=a.jobs)
    jpeg_data = sum(_jpeg_bytes(p) for p in images)
    kinds = sorted({p.suffix for p in (work / "pages").iterdir() if p.suffix in (".jpg", ".png", ".tif")})
    ocr_txt_cer = sum(char_errors(normalize(g.read_text(encoding="utf-8")),
                                  normalize((work / "pages" / f"{n:04d}.txt").read_text(encoding="utf-8")))
                      for n, g in enumerate(gts, 1)) / sum(len(normalize(g.read_text(encoding="utf-8"))) for g in gts)
    cer, per = _cer(ours, gts)
    rows.append(("transcribe split+ocr+bundle -> PDF", t3 - t0, ours.stat().st_size, cer, per))
    print(f"  transcribe: split {t1 - t0:.1f} s, ocr {t2 - t1:.1f} s ({summary.total} pages), "
          f"bundle PDF {t3 - t2:.1f} s, bundle DjVu {t4 - t3:.1f} s ({ours_djvu.stat().st_size / 1e6:.2f} MB)")
    if jpeg_data:
        print(f"  JPEG data of the scans {jpeg_data / 1e6:.2f} MB; pages {', '.join(kinds)}; PDF "
              f"{ours.stat().st_size / 1e6:.2f} MB = {ours.stat().st_size / jpeg_data:.3f} x the JPEG data "
              f"(target <= 1.1); with split --format png pages (no text) {png_pdf.stat().st_size / 1e6:.2f} MB = "
              f"{png_pdf.stat().st_size / jpeg_data:.1f} x")
    print(f"  CER of the OCR .txt files: {ocr_txt_cer:.4f} (the PDF text layer should match it)")

    # -- img2pdf + ocrmypdf ----------------------------------------------------------------------------------
    raw = work / "img2pdf.pdf"
    theirs = work / "ocrmypdf.pdf"
    t_img = _timed(["img2pdf", *map(str, images), "-o", str(raw)], env)
    t_ocr = _timed(["ocrmypdf", "--jobs", str(a.jobs), "-l", a.lang, "--output-type", "pdf", str(raw), str(theirs)],
                   env)
    cer, per = _cer(theirs, gts)
    rows.append(("img2pdf + ocrmypdf -> PDF", t_img + t_ocr, theirs.stat().st_size, cer, per))
    print(f"  baseline: img2pdf {t_img:.1f} s, ocrmypdf {t_ocr:.1f} s")

    print(f"\n{'pipeline':<38} {'time s':>7} {'size MB':>8} {'CER':>7}  CER per page")
    for name, t, size, c, per_page in rows:
        print(f"{name:<38} {t:7.1f} {size / 1e6:8.2f} {c:7.4f}  {' '.join(f'{x:.3f}' for x in per_page)}")
    print(f"{'transcribe bundle -> DjVu (same pages)':<38} {t4 - t3:7.1f} {ours_djvu.stat().st_size / 1e6:8.2f}")
    if not a.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
