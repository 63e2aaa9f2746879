"""Benchmark: `transcribe run --export` on a three-work batch against running the stages by hand.

    .venv/bin/python bench/bench_run.py [--pages 3] [--width 1200] [--jobs 2] [--repeat 2] [--keep DIR]

Batch:   three PDFs made from Fraktur corpus pages (`--pages` each, downscaled to `--width` pixels), with a
         manifest; `transcribe run books.toml --export OUT --jobs N`, a real subprocess (interpreter start-up,
         manifest validation and model checks included).
By hand: the same three works, one after the other, in one Python process: `split()`, `ocr_pages()`,
         `export_work()` per work, each with its own state file: what a careful script would do.
Both run from scratch each time (fresh folders), alternately, `--repeat` times; the median wall time is reported.
The outputs are compared file by file (page images, OCR text and hOCR, every exported wikitext file): the batch
must give the same result. Tesseract runs with one thread per process (OMP_THREAD_LIMIT=1) in both.
Prints numbers from the runs; it is not a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from scans import make_pdf, small_pages

from transcribe.langs import resolve_models
from transcribe.ocr import OcrSettings, ocr_pages
from transcribe.split import split
from transcribe.store import Store
from transcribe.wiki.export import export_work
from transcribe.work import WorkMeta

CORPUS = REPO.parent / "shared" / "corpus"
FRAKTUR = ["vdsbb_glauanno_0014.tif", "vdsbb_glauanno_0015.tif", "vdsbb_glauanno_0016.tif",
           "vdsbb_glauanno_0017.tif", "vdsbb_glauanno_0018.tif", "vdsbb_borrdisc_0018.tif",
           "vdsbb_borrdisc_0019.tif", "vdsbb_fiscfrie_0015.tif", "vdsbb_bankgraf_0077.tif"]
WORKS = [("glauber", "Annotationes vber den Appendicem"), ("borrdisc", "Borrichius, Discursus"),
         ("fiscfrie", "Fischer, Friedens-Schluss")]


def build_batch(root: Path, pages: int, width: int) -> None:
    images = small_pages(CORPUS, root / "images", files=FRAKTUR[: 3 * pages], width=width)
    (root / "scans").mkdir()
    lines = ['[defaults]\nlicence = "PD-old-70"\nwiki = "wikisource:de"\n']
    for i, (wid, title) in enumerate(WORKS):
        make_pdf(images[i * pages:(i + 1) * pages], root / "scans" / f"{wid}.pdf")
        lines.append(f'[[work]]\nid = "{wid}"\nscan = "scans/{wid}.pdf"\ntitle = "{title}"\nlanguage = "de"\n'
                     f'models = "frk"\npage_labels = "1=1"\n')
    (root / "books.toml").write_text("\n".join(lines), encoding="utf-8")


def run_batch(root: Path, jobs: int) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "transcribe", "run", str(root / "books.toml"), "--export",
                    str(root / "out"), "--jobs", str(jobs), "--quiet"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    return time.perf_counter() - t


def by_hand(root: Path, jobs: int) -> float:
    """The stages of each work, called directly: the floor a batch runner should not fall below."""
    t = time.perf_counter()
    for wid, title in WORKS:
        scan = root / "scans" / f"{wid}.pdf"
        pages_dir = root / "books.transcribe" / wid / "pages"
        meta = WorkMeta(title=title, language="de", models="frk", licence="PD-old-70", wiki="wikisource:de",
                        page_labels="1=1", scan=f"scans/{wid}.pdf")
        with Store(root / "hand" / f"{wid}.db") as store:
            work = store.work(wid)
            split(scan, pages_dir, jobs=jobs, store=store, work=work)
            models = resolve_models("de", "frk")
            ocr_pages(pages_dir, OcrSettings(models=models), store=store, work=work, jobs=jobs)
            export_work(scan, pages_dir, meta, root / "out" / wid, store=store, work=work)
    return time.perf_counter() - t


def outputs(root: Path) -> dict[str, bytes]:
    """Every page image, OCR text, hOCR and exported file (the per-batch index.html is the batch's extra)."""
    found: dict[str, bytes] = {}
    for folder in (root / "books.transcribe", root / "out"):
        for p in sorted(folder.rglob("*")):
            rel = str(p.relative_to(root))
            if p.is_file() and p.suffix in (".png", ".txt", ".hocr", ".wiki", ".html", ".jpg") \
                    and rel != "out/index.html":
                found[rel] = p.read_bytes()
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=3, help="pages per work (3 works)")
    ap.add_argument("--width", type=int, default=1200, help="page width in pixels (the corpus pages: ~1200)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--keep", type=Path, help="keep the folders here")
    a = ap.parse_args()
    os.environ["OMP_THREAD_LIMIT"] = "1"

    base = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="bench-run-"))
    template = base / "template"
    shutil.rmtree(template, ignore_errors=True)
    template.mkdir(parents=True)
    build_batch(template, a.pages, a.width)
    times: dict[str, list[float]] = {"run": [], "hand": []}
    results: dict[str, dict[str, bytes]] = {}
    for i in range(a.repeat):
        for kind in ("run", "hand") if i % 2 == 0 else ("hand", "run"):
            root = base / f"{kind}-{i}"
            shutil.rmtree(root, ignore_errors=True)
            shutil.copytree(template, root)
            times[kind].append(run_batch(root, a.jobs) if kind == "run" else by_hand(root, a.jobs))
            results[kind] = outputs(root)
            print(f"  {kind:<4} #{i + 1}: {times[kind][-1]:6.2f} s", flush=True)

    same = results["run"] == results["hand"]
    differing = sorted(k for k in results["run"].keys() | results["hand"].keys()
                       if results["run"].get(k) != results["hand"].get(k))
    n_pages = 3 * a.pages
    print(f"3 works x {a.pages} pages ({n_pages} pages, {a.width} px wide), --jobs {a.jobs}, "
          f"{a.repeat} run(s) each, load {os.getloadavg()[0]:.1f}")
    for kind, label in (("run", "transcribe run --export"), ("hand", "stages by hand        ")):
        med = statistics.median(times[kind])
        print(f"{label}: median {med:6.2f} s ({n_pages / med * 60:5.1f} pages/min); runs: "
              + ", ".join(f"{t:.2f}" for t in times[kind]))
    ratio = statistics.median(times["run"]) / statistics.median(times["hand"])
    print(f"run / by hand: {ratio:.2f}x")
    print(f"same outputs: {same} ({len(results['run'])} files compared)"
          + ("" if same else f"; differing: {', '.join(differing[:10])}"))
    if not a.keep:
        shutil.rmtree(base, ignore_errors=True)
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
