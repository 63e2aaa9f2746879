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
from transcribe.cli._app import (
    JobsOpt,
    LangOpt,
    ModelsOpt,
    QuietOpt,
    TessdataOpt,
    command,
    err,
    progress_bar,
)
from transcribe.errors import InputError, PagesFailed, UsageError
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
        "--timeout", min=1, metavar="SECONDS",
        help="Seconds allowed for one page before it is given up as failed.")]
    = O.DEFAULT_TIMEOUT,
    fast: Annotated[bool, typer.Option(
        "--fast", help="Plain Tesseract with the models given: the speed and text of the Wikimedia OCR gadget.")]
    = False,
    best: Annotated[bool, typer.Option(
        "--best", help="Spend more CPU for a little better text (adds the Latin script model to Latin-script "
                       "languages).")] = False,
    learn_from: Annotated[str | None, typer.Option(
        "--learn-from", metavar="DIR|INDEX",
        help="Checked pages of the same book to learn from: a folder of X.gt.txt / X.txt named "
             "after the page images, or \"Index:NAME\" with --wiki (its pages at level 3 or 4). "
             "Fine-tunes german_print on their lines into PAGES/model/book.traineddata, and reads "
             "the rest with it (and the --psm they read best with) where it measured better on "
             "held-back lines.", show_default=False)] = None,
    learn_minutes: Annotated[float, typer.Option(
        "--learn-minutes", min=0.01, metavar="MINUTES",
        help="CPU minutes the training of the book's model may take (a killed or "
             "stopped training continues on the next run).")] = 4.0,
    wiki: Annotated[str | None, typer.Option(
        "--wiki", "-w", metavar="WIKI",
        help="With --learn-from \"Index:NAME\": the wiki of that Index page, e.g. 'wikisource:de' or an api.php "
             "address (ocr publishes nothing).")] = None,
    jobs: JobsOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Read the text of every page with Tesseract: writes 0001.txt, 0001.hocr ... and ocr.json.

    By default transcribe does more than plain Tesseract (about 0.6x its errors on 25 pages of 25 books it was
    not tuned on, for no more CPU): a better model where one is installed (german_print for Fraktur and German,
    see 'transcribe langs models'), and a page Tesseract is unsure of read again as a single column. ocr.json
    says for every page what was done and why. --fast is plain Tesseract.
    Pages already read with the same image and settings are skipped, so running it again continues an
    interrupted run. Blank pages are marked (they become "Without text" on the wiki).
    """
    from transcribe.langs import resolve_models

    if fast and best:
        raise InputError("--fast and --best exclude each other.", hint="Give one of them, or neither (default).")
    if wiki and not learn_from:
        raise InputError("--wiki is only used with --learn-from \"Index:NAME\".",
                         hint="Leave out --wiki, or add --learn-from \"Index:NAME\".")
    if not lang and not (models or "").strip():
        raise UsageError("Say which language the pages are in: --lang CODE (the Wikisource code, e.g. --lang de; "
                         "'transcribe langs list' shows them all), or which Tesseract models to read with: "
                         "--models frk.")
    # A missing model is found here, before any page is touched (exit 5, with what to install).
    resolved = resolve_models(lang, models, tessdata_dir)
    method = "fast" if fast else "best" if best else O.DEFAULT_METHOD
    settings = O.OcrSettings(models=resolved, tessdata_dir=str(tessdata_dir) if tessdata_dir else None,
                             psm=psm, timeout=timeout, method=method)
    O.check_pages_dir(pages_dir)  # before the state file would create a folder that isn't there
    checked = _checked(pages_dir, learn_from, wiki) if learn_from and resolved else None
    learned = None
    with Store(pages_dir / DB_NAME) as store:
        store.acquire_lock()
        work = store.work(".")
        with progress_bar(quiet) as bar:
            if checked is not None and learn_from:
                settings, learned = O.learn_from_checked(pages_dir, settings, checked, source=learn_from,
                                                         store=store, work=work, minutes=learn_minutes, jobs=jobs,
                                                         progress=bar)
            summary = O.ocr_pages(pages_dir, settings, store=store, work=work, jobs=jobs, progress=bar)
    if learned is not None:
        typer.echo(_learned_line(learned))
    _report(summary, lang)
    if summary.failed:
        pages = ", ".join(f"{f.n} ({f.image})" for f in summary.failed[:10])
        more = f" and {len(summary.failed) - 10} more" if len(summary.failed) > 10 else ""
        raise PagesFailed(
            f"{len(summary.failed)} of {summary.total} page(s) could not be read: {pages}{more}.",
            hint=f"The other pages are done and kept. See the reasons above and in {pages_dir / O.OCR_JSON}; "
                 "fix or replace those images and run the same command again.",
        )


def _checked(pages_dir: Path, source: str, wiki: str | None) -> dict[int, tuple[str, str]]:
    from transcribe.ocr import learn as learning
    from transcribe.split import read_pages

    if source.startswith("Index:") or wiki:
        if not wiki:
            raise InputError(f"--learn-from {source!r} names an Index page, so give its wiki with --wiki.",
                             hint="e.g. --learn-from \"Index:Book.djvu\" --wiki wikisource:de")
        from transcribe.wiki.site import connect

        return learning.checked_pages_from_wiki(connect(wiki), source)
    stems = {Path(p.image).stem: p.n for p in read_pages(pages_dir)}
    return learning.checked_pages_from_dir(Path(source), stems)


def _learned_line(b: object) -> str:
    from transcribe.ocr.learn import BookModel

    assert isinstance(b, BookModel)
    how = "recorded earlier, not trained again" if b.reused else \
        f"{b.iterations} iterations, {b.cpu_seconds:.0f} CPU s"
    model = f"book model trained on {b.lines} lines ({how})" if b.model else "no line to train on"
    notes = b.page_choices() + "".join(f"; {n}" for n in b.notes)
    return (f"Learned from {b.source} ({b.pages} page(s)): {model}; {b.sentence()}; reading with {b.chosen}, "
            f"--psm {b.psm}{notes}.")


def _report(s: O.OcrSummary, lang: str | None) -> None:
    """The result, on stdout (the error that follows a failure goes to stderr)."""
    if s.models is None:
        typer.echo(f"Tesseract has no model for the language '{lang}': {s.no_model} page(s) recorded as ready for typing "
            f"({s.skipped} already recorded). Nothing else to do here: proofreaders will type these pages.")
        return
    parts = [f"{s.done} page(s) read", f"{s.blank} blank", f"{s.skipped} unchanged (already done)",
             f"{len(s.failed)} failed"]
    conf = f"; mean word confidence {s.mean_confidence:.0f}%" if s.mean_confidence is not None else ""
    why = f" ({'; '.join(s.why)})" if s.why else ""
    typer.echo(f"OCR with '{s.models}'{why} of {s.total} page(s): {', '.join(parts)}{conf} ({s.seconds:.0f} s).")
    for f in s.failed:
        typer.echo(f"  page {f.n} ({f.image}): {f.reason}")
    for note in s.notes:
        err(f"note: {note}")


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
    against: Annotated[Path | None, typer.Option(
        "--against", help="A second OCR folder of the same pages (e.g. made with --fast or other models): "
                          "says page by page which one is better and by how much.", file_okay=False,
        show_default=False)] = None,
) -> None:
    """Measure OCR quality against corrected text: character and word error rates per page and overall.

    CER = character edits needed / characters of the correct text (0.05 = 5 errors per 100 characters, about 3
    wrong characters in every 60-character line), after Unicode NFC and turning every run of spaces and line
    breaks into one space. WER is the same for words (0.25 = about 2.5 words in every 10 need a correction).
    Overall = all edits / all characters. Use it to compare models or settings on a few
    pages of your own: --against OTHER_FOLDER compares two OCR runs page by page.
    """
    if against is not None:
        comparison = ev.compare(ocr_dir, against, gt_dir, relaxed=relaxed)
        typer.echo(render_comparison(comparison, fmt.value, *ev.distinct_names(ocr_dir, against)), nl=False)
        if comparison.only_one:
            err(f"note: {len(comparison.only_one)} page(s) are scored in one folder only and were left out: "
                + ", ".join(comparison.only_one[:5]) + (" ..." if len(comparison.only_one) > 5 else ""))
        return
    result = ev.evaluate(ocr_dir, gt_dir, relaxed=relaxed)
    typer.echo(render(result, fmt.value, ev.plain_tesseract(gt_dir, result)), nl=False)
    if result.unmatched:
        err(f"note: {len(result.unmatched)} OCR file(s) have no ground truth and were left out: "
            + ", ".join(result.unmatched[:5]) + (" ..." if len(result.unmatched) > 5 else ""))


def render(result: ev.Evaluation, fmt: str, plain: tuple[float, int] | None = None) -> str:
    rows = [(p.page, p.chars, p.char_errors, p.cer, p.words, p.word_errors, p.wer) for p in result.pages]
    total = ("overall", result.chars, result.char_errors, result.cer, result.words, result.word_errors, result.wer)
    header = ("page", "chars", "char_errors", "cer", "words", "word_errors", "wer")
    if fmt == "json":
        doc = {"normalisation": "relaxed" if result.relaxed else "strict",
               "pages": [dict(zip(header, r)) | {"ocr_file": p.ocr_file, "gt_file": p.gt_file}
                         for r, p in zip(rows, result.pages)],
               "overall": dict(zip(header[1:], total[1:])), "unmatched": result.unmatched,
               "wrong_per_60_characters": round(ev.per_line(result.cer), 2),
               "plain_tesseract_cer": None if plain is None else round(plain[0], 4)}
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
    lines.append(f"CER {result.cer:.2%}: {ev.meaning(result.cer)}.")
    lines.append(f"WER {result.wer:.2%}: {ev.word_meaning(result.wer)} (a word with any wrong character is wrong).")
    if plain is not None:
        cer, n = plain
        lines.append(f"Plain Tesseract on the same {n} page(s) (baseline.csv): CER {cer:.2%}, {ev.meaning(cer)}.")
    return "\n".join(lines) + "\n"


def render_comparison(c: ev.Comparison, fmt: str, name: str, other_name: str) -> str:
    header = ("page", "chars", "cer", "other_cer", "change", "verdict")
    rows = [(p.page, p.chars, p.cer, p.other_cer, p.change, p.verdict) for p in c.pages]
    if fmt == "json":
        doc = {"normalisation": "relaxed" if c.first.relaxed else "strict", "folder": name, "other": other_name,
               "pages": [dict(zip(header, r)) for r in rows],
               "overall": {"cer": c.first.cer, "other_cer": c.other.cer, "change": c.first.cer - c.other.cer,
                           "better": c.count("better"), "worse": c.count("worse"), "same": c.count("same")},
               "left_out": c.only_one}
        return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow([r[0], r[1], f"{r[2]:.4f}", f"{r[3]:.4f}", f"{r[4]:+.4f}", r[5]])
        w.writerow(["overall", c.first.chars, f"{c.first.cer:.4f}", f"{c.other.cer:.4f}",
                    f"{c.first.cer - c.other.cer:+.4f}", ""])
        return buf.getvalue()
    wa, wb = max(12, len(name)), max(12, len(other_name))  # each column as wide as its folder's name
    width = max(len("overall"), *(len(r[0]) for r in rows))
    lines = [f"{'page':<{width}}  {'chars':>6}  {name:>{wa}}  {other_name:>{wb}}  {'change':>8}  verdict"]
    for r in rows:
        lines.append(f"{r[0]:<{width}}  {r[1]:>6}  {r[2]:>{wa}.2%}  {r[3]:>{wb}.2%}  {r[4] * 100:>+7.2f}%  {r[5]}")
    lines.append("-" * len(lines[0]))
    change = c.first.cer - c.other.cer
    lines.append(f"{'overall':<{width}}  {c.first.chars:>6}  {c.first.cer:>{wa}.2%}  {c.other.cer:>{wb}.2%}  "
                 f"{change * 100:>+7.2f}%")
    lines.append(f"{name} against {other_name}: better on {c.count('better')} page(s), worse on {c.count('worse')}, "
                 f"the same on {c.count('same')}. {name}: {ev.meaning(c.first.cer)}; {other_name}: "
                 f"{ev.meaning(c.other.cer)}.")
    return "\n".join(lines) + "\n"
