"""ocr, evaluate: page images to text, and how good that text is."""

from __future__ import annotations

import csv
import io
import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from transcribe import evaluate as ev
from transcribe import ocr as O
from transcribe.cli._app import JobsOpt, LangOpt, ModelsOpt, QuietOpt, TessdataOpt, command, err, progress_bar
from transcribe.errors import PagesFailed
from transcribe.store import DB_NAME, Store

DirArg = Annotated[
    Path,
    typer.Argument(help="The pages folder made by 'transcribe split' (page images, pages.json).",
                   file_okay=False, show_default=False),
]


@command("ocr")
def ocr_command(
    pages_dir: DirArg,
    lang: LangOpt = None,
    models: ModelsOpt = None,
    tessdata_dir: TessdataOpt = None,
    psm: Annotated[int, typer.Option(
        "--psm", min=0, max=13,
        help="Tesseract page segmentation mode. 3 (default) = plain Tesseract; 4 can help on catalogues and "
             "multi-column pages and hurt others: compare with 'transcribe evaluate'.")] = O.DEFAULT_PSM,
    timeout: Annotated[float, typer.Option(
        "--timeout", min=1, help="Seconds allowed for one page before it is given up as failed.")]
    = O.DEFAULT_TIMEOUT,
    jobs: JobsOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Read the text of every page with Tesseract: writes 0001.txt, 0001.hocr ... and ocr.json.

    Pages already read with the same image and settings are skipped, so running it again continues an
    interrupted run. Blank pages are marked (they become "Without text" on the wiki).
    """
    from transcribe.langs import resolve_models

    # A missing model is found here, before any page is touched (exit 5, with what to install).
    resolved = resolve_models(lang, models, tessdata_dir)
    settings = O.OcrSettings(models=resolved, tessdata_dir=str(tessdata_dir) if tessdata_dir else None,
                             psm=psm, timeout=timeout)
    O.check_pages_dir(pages_dir)  # before the state file would create a folder that isn't there
    with Store(pages_dir / DB_NAME) as store:
        store.acquire_lock()
        work = store.work(".")
        with progress_bar(quiet) as bar:
            summary = O.ocr_pages(pages_dir, settings, store=store, work=work, jobs=jobs, progress=bar)
    _report(summary, lang)
    if summary.failed:
        pages = ", ".join(f"{f.n} ({f.image})" for f in summary.failed[:10])
        more = f" and {len(summary.failed) - 10} more" if len(summary.failed) > 10 else ""
        raise PagesFailed(
            f"{len(summary.failed)} of {summary.total} page(s) could not be read: {pages}{more}.",
            hint=f"The other pages are done and kept. See the reasons above and in {pages_dir / O.OCR_JSON}; "
                 "fix or replace those images and run the same command again.",
        )


def _report(s: O.OcrSummary, lang: str | None) -> None:
    """The result, on stdout (the error that follows a failure goes to stderr)."""
    if s.models is None:
        typer.echo(f"Tesseract has no model for the language '{lang}': {s.no_model} page(s) recorded as ready for typing "
            f"({s.skipped} already recorded). Nothing else to do here: proofreaders will type these pages.")
        return
    parts = [f"{s.done} page(s) read", f"{s.blank} blank", f"{s.skipped} unchanged (already done)",
             f"{len(s.failed)} failed"]
    conf = f"; mean word confidence {s.mean_confidence:.0f}%" if s.mean_confidence is not None else ""
    typer.echo(f"OCR with '{s.models}' of {s.total} page(s): {', '.join(parts)}{conf} ({s.seconds:.0f} s).")
    for f in s.failed:
        typer.echo(f"  page {f.n} ({f.image}): {f.reason}")


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


@command("evaluate")
def evaluate_command(
    ocr_dir: Annotated[Path, typer.Argument(help="Folder with the OCR text: X.txt (e.g. a pages folder).",
                                            file_okay=False, show_default=False)],
    gt_dir: Annotated[Path, typer.Argument(help="Folder with the ground truth: X.gt.txt or X.txt.",
                                           file_okay=False, show_default=False)],
    relaxed: Annotated[bool, typer.Option(
        "--relaxed", help="Also ignore spelling conventions: NFKC, long s as s, r rotunda as r, "
                          "a/o/u with small e as ä/ö/ü, all dashes and all quote marks alike.")] = False,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="table, csv or json.")] = Format.table,
) -> None:
    """Measure OCR quality against corrected text: character and word error rates per page and overall.

    CER = character edits needed / characters of the correct text (0.05 = 5 errors per 100 characters), after
    Unicode NFC and turning every run of spaces and line breaks into one space. Overall = all edits / all
    characters. Use it to compare models or --psm settings on a few pages of your own.
    """
    result = ev.evaluate(ocr_dir, gt_dir, relaxed=relaxed)
    typer.echo(render(result, fmt.value), nl=False)
    if result.unmatched:
        err(f"note: {len(result.unmatched)} OCR file(s) have no ground truth and were left out: "
            + ", ".join(result.unmatched[:5]) + (" ..." if len(result.unmatched) > 5 else ""))


def render(result: ev.Evaluation, fmt: str) -> str:
    rows = [(p.page, p.chars, p.char_errors, p.cer, p.words, p.word_errors, p.wer) for p in result.pages]
    total = ("overall", result.chars, result.char_errors, result.cer, result.words, result.word_errors, result.wer)
    header = ("page", "chars", "char_errors", "cer", "words", "word_errors", "wer")
    if fmt == "json":
        doc = {"normalisation": "relaxed" if result.relaxed else "strict",
               "pages": [dict(zip(header, r)) | {"ocr_file": p.ocr_file, "gt_file": p.gt_file}
                         for r, p in zip(rows, result.pages)],
               "overall": dict(zip(header[1:], total[1:])), "unmatched": result.unmatched}
        return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(header)
        for r in [*rows, total]:
            w.writerow([r[0], r[1], r[2], f"{r[3]:.4f}", r[4], r[5], f"{r[6]:.4f}"])
        return buf.getvalue()
    width = max(len("overall"), *(len(r[0]) for r in rows))
    lines = [f"{'page':<{width}}  {'chars':>6}  {'CER':>7}  {'words':>6}  {'WER':>7}"]
    for r in [*rows, total]:
        if r is total:
            lines.append("-" * len(lines[0]))
        lines.append(f"{r[0]:<{width}}  {r[1]:>6}  {r[3]:>7.2%}  {r[4]:>6}  {r[6]:>7.2%}")
    return "\n".join(lines) + "\n"
