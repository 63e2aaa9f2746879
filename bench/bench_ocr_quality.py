"""Benchmark: OCR quality and CPU of `transcribe ocr` (default, --fast, --best) against plain Tesseract.

    .venv/bin/python bench/bench_ocr_quality.py [--jobs 2] [--methods default,fast,best] [--pages GLOB]

On the 15 pages of ../shared/corpus, with each page's `tesseract_lang` from manifest.csv as the models:
  plain    `tesseract PAGE OUT -l MODELS` (what baseline.csv and the Wikimedia OCR gadget run), one process per
           page, `--jobs` at a time.
  METHOD   our library's ocr_pages() on a folder of the pages, with method=METHOD, `--jobs` Tesseracts.
CER is the strict CER of `transcribe evaluate` (the one baseline.csv uses). CPU is the user + system time of the
Tesseract child processes (resource.getrusage(RUSAGE_CHILDREN)), not wall time: the machine is shared.
Prints one row per page (CER of each), then per method the mean CER, its ratio to plain, the pages worse than
plain by more than 0.005 and the CPU ratio; the last line holds the mean ratios. Prints numbers from one run;
it is not a test. Targets (issue 10): default mean CER <= 0.8x plain, no page worse by > 0.005, CPU <= 1.6x.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import csv
import fnmatch
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CORPUS = REPO.parent / "shared" / "corpus"


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def plain(rows: list[dict[str, str]], jobs: int, tmp: Path) -> tuple[dict[str, str], float]:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")

    def one(row: dict[str, str]) -> tuple[str, str]:
        out = tmp / "plain" / row["file"].rsplit(".", 1)[0]
        subprocess.run(["tesseract", str(CORPUS / row["file"]), str(out), "-l", row["tesseract_lang"]],
                       env=env, capture_output=True, check=True)
        return row["file"], out.with_suffix(".txt").read_text(encoding="utf-8")

    (tmp / "plain").mkdir()
    before = children_cpu()
    with cf.ThreadPoolExecutor(jobs) as pool:
        texts = dict(pool.map(one, rows))
    return texts, children_cpu() - before


def ours(rows: list[dict[str, str]], method: str, jobs: int, tmp: Path) -> tuple[dict[str, str], float]:
    from transcribe.ocr import OcrSettings, ocr_pages
    from transcribe.store import Store

    groups: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        groups.setdefault(row["tesseract_lang"], []).append(row)
    texts = {}
    cpu = 0.0
    with cf.ThreadPoolExecutor(jobs) as pool:
        for models, group in groups.items():
            folder = tmp / method / models
            folder.mkdir(parents=True)
            for row in group:
                (folder / row["file"]).symlink_to(CORPUS / row["file"])
            before = children_cpu()
            with Store(folder / "transcribe.db") as store:
                s = ocr_pages(folder, OcrSettings(models=models, method=method), store=store,
                              work=store.work("."), executor=pool)
            # The probes (tesseract --version, --list-langs) are children too: a few ms, counted honestly.
            cpu += children_cpu() - before
            assert not s.failed, s.failed
            for row in group:
                texts[row["file"]] = (folder / (row["file"].rsplit(".", 1)[0] + ".txt")).read_text(encoding="utf-8")
    return texts, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--methods", default="default,fast,best")
    ap.add_argument("--pages", default="*", help="only the corpus pages matching this glob")
    args = ap.parse_args()
    os.environ["OMP_THREAD_LIMIT"] = "1"
    from transcribe.evaluate import score

    with open(CORPUS / "manifest.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if fnmatch.fnmatch(r["file"], args.pages)]
    methods = [m for m in args.methods.split(",") if m]
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="bench-ocr-quality-") as t:
        tmp = Path(t)
        base_texts, base_cpu = plain(rows, args.jobs, tmp)
        results = {m: ours(rows, m, args.jobs, tmp) for m in methods}

    def cer(row: dict[str, str], text: str) -> float:
        gt = (CORPUS / row["gt_file"]).read_text(encoding="utf-8")
        return score(row["file"], gt, text).cer

    print(f"{'page':<32} {'plain':>7} " + " ".join(f"{m:>8}" for m in methods))
    cers: dict[str, list[float]] = {m: [] for m in ["plain", *methods]}
    for row in rows:
        p = cer(row, base_texts[row["file"]])
        cers["plain"].append(p)
        line = f"{row['file']:<32} {p:>7.4f} "
        for m in methods:
            c = cer(row, results[m][0][row["file"]])
            cers[m].append(c)
            line += f" {c:>8.4f}"
        print(line)
    n = len(rows)
    mean_plain = sum(cers["plain"]) / n
    print(f"plain Tesseract: mean CER {mean_plain:.4f}, CPU {base_cpu:.1f} s ({base_cpu / n:.2f} s a page)")
    summary = []
    for m in methods:
        mean = sum(cers[m]) / n
        worse = [f"{r['file']} (+{c - p:.4f})" for r, c, p in zip(rows, cers[m], cers["plain"]) if c > p + 0.005]
        cpu = results[m][1]
        print(f"{m}: mean CER {mean:.4f} = {mean / mean_plain:.3f}x plain; CPU {cpu:.1f} s = {cpu / base_cpu:.2f}x;"
              f" pages worse than plain by > 0.005: {', '.join(worse) or 'none'}")
        summary.append(f"{m} CER {mean / mean_plain:.3f}x CPU {cpu / base_cpu:.2f}x")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print("mean ratios to plain Tesseract: " + "; ".join(summary))


if __name__ == "__main__":
    main()
