"""Benchmark: learning a book model from its first checked pages (`transcribe ocr --learn-from`).

    nice -n 10 .venv/bin/python bench/bench_learn.py [--books akz1860,faictz1538] [--checked 10] [--minutes 4]
                                                     [--jobs 2] [--cache /tmp/learn-cache/bench]

For each book of ../shared/books (pages in manifest order, `tesseract_lang` of the manifest as the language's
models): its first `--checked` pages are the checked pages (their .gt.txt as the checked text), the others are
read twice through the library, as `transcribe ocr` does:
  default  ocr_pages() with the default method, no learning (the later pages only);
  base     the same with german_print, the model learning fine-tunes, instead of the language's models;
  learned  learn_from_checked() (lines from Tesseract's layout, fine-tuning german_print, held-back lines, psm
           choice) then ocr_pages() with the settings it returns (every page of the book).
CER is the strict CER of `transcribe evaluate`, mean over the later pages. CPU = user + system time of the child
processes (tesseract, lstmtraining). Prints one row per later page, then per book: default vs learned mean CER and
their ratio, the held-back CERs, lines trained on, lines held back, iterations and the training's CPU seconds.
Targets (issue 17): learned <= 0.5 x default on the later pages; training <= 5 CPU-minutes per book.
The base model comes from $TRANSCRIBE_MODELS_DIR (default: ../shared/models). Folders in --cache are kept, so a
re-run reuses the readings and the book model (delete them to measure again from scratch).
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from pathlib import Path

from bench_ocr_quality import REPO, children_cpu  # the script's folder is on sys.path; it puts REPO there

BOOKS = REPO.parent / "shared" / "books"


def folder_of(book: str, rows: list[dict[str, str]], target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for i, row in enumerate(rows, 1):
        link = target / f"{i:04d}{Path(row['file']).suffix}"
        if not link.exists():
            link.symlink_to(BOOKS / book / row["file"])
    return target


def run_book(book: str, checked_n: int, minutes: float, jobs: int, cache: Path) -> dict[str, object]:
    from transcribe import ocr as O
    from transcribe.evaluate import score
    from transcribe.store import DB_NAME, Store

    with open(BOOKS / book / "manifest.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    models = rows[0]["tesseract_lang"]
    later = rows[checked_n:]
    truth = {i: (BOOKS / book / row["gt_file"]).read_text(encoding="utf-8") for i, row in enumerate(rows, 1)}

    default_dir = folder_of(book, later, cache / book / "default")
    before = children_cpu()
    with Store(default_dir / DB_NAME) as store:
        O.ocr_pages(default_dir, O.OcrSettings(models=models), store=store, work=store.work("."), jobs=jobs)
    default_cpu = children_cpu() - before
    base_dir = folder_of(book, later, cache / book / "base")
    models_dir = Path(os.environ["TRANSCRIBE_MODELS_DIR"])
    with Store(base_dir / DB_NAME) as store:
        O.ocr_pages(base_dir, O.OcrSettings(models="german_print", tessdata_dir=str(models_dir)), store=store,
                    work=store.work("."), jobs=jobs)

    learned_dir = folder_of(book, rows, cache / book / "learned")
    checked = {i: (row["gt_file"], truth[i]) for i, row in enumerate(rows[:checked_n], 1)}
    before = children_cpu()
    with Store(learned_dir / DB_NAME) as store:
        work = store.work(".")
        t = time.monotonic()
        settings, model = O.learn_from_checked(learned_dir, O.OcrSettings(models=models), checked,
                                               source=f"{book} first {checked_n}", store=store, work=work,
                                               minutes=minutes, jobs=jobs)
        learn_wall = time.monotonic() - t
        learn_cpu = children_cpu() - before
        O.ocr_pages(learned_dir, settings, store=store, work=work, jobs=jobs)
    learned_cpu = children_cpu() - before

    out = []
    for k, row in enumerate(later):
        n = checked_n + k + 1
        d = score(str(n), truth[n], (default_dir / f"{k + 1:04d}.txt").read_text(encoding="utf-8")).cer
        b = score(str(n), truth[n], (base_dir / f"{k + 1:04d}.txt").read_text(encoding="utf-8")).cer
        ln = score(str(n), truth[n], (learned_dir / f"{n:04d}.txt").read_text(encoding="utf-8")).cer
        out.append((row["file"], d, b, ln))
        print(f"{book}  {row['file']:<24} default {d:.4f}  german_print {b:.4f}  learned {ln:.4f}")
    mean_d = sum(x[1] for x in out) / len(out)
    mean_b = sum(x[2] for x in out) / len(out)
    mean_l = sum(x[3] for x in out) / len(out)
    return {"book": book, "default": mean_d, "base": mean_b, "learned": mean_l,
            "ratio": mean_l / mean_d if mean_d else 0.0,
            "model": model, "learn_cpu": learn_cpu, "learn_wall": learn_wall, "default_cpu": default_cpu,
            "learned_cpu": learned_cpu, "read_with": settings.models, "psm": settings.psm}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--books", default="akz1860,faictz1538")
    ap.add_argument("--checked", type=int, default=10)
    ap.add_argument("--minutes", type=float, default=None, help="--learn-minutes (default: the CLI's)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/learn-cache/bench"))
    args = ap.parse_args()
    os.environ.setdefault("TRANSCRIBE_MODELS_DIR", str(REPO.parent / "shared" / "models"))
    from transcribe.ocr.learn import DEFAULT_MINUTES

    results = [run_book(b, args.checked, args.minutes or DEFAULT_MINUTES, args.jobs, args.cache)
               for b in args.books.split(",")]
    print()
    for r in results:
        m = r["model"]
        print(f"{r['book']}: later pages mean CER default {r['default']:.4f} -> learned {r['learned']:.4f} "
              f"({r['ratio']:.2f} x; target <= 0.5 x), read with {r['read_with']} --psm {r['psm']}; plain "
              f"german_print {r['base']:.4f} ({r['learned'] / r['base'] if r['base'] else 0:.2f} x)")
        print(f"  {m.sentence()}; held-back CER {m.held_back_cer}; psm CER on checked pages {m.psm_cer}; scale CER "
              f"{m.scale_cer} (read at {m.scale:g})")
        print(f"  lines trained on {m.lines}, held back {m.held_back}, left out {m.left_out} "
              f"({'; '.join(m.notes) or 'none unwritable'}); iterations {m.iterations}; training CPU "
              f"{m.cpu_seconds:.0f} s (target <= 300 s); learning CPU in all {r['learn_cpu']:.0f} s "
              f"({r['learn_wall']:.0f} s wall){' (reused)' if m.reused else ''}; OCR CPU default "
              f"{r['default_cpu']:.0f} s (later pages), learned run {r['learned_cpu']:.0f} s (all pages + learning)")


if __name__ == "__main__":
    main()
