"""OCR of a pages folder: page image -> plain text, hOCR and a mean word confidence, in parallel, resumably.

The unit of work is `ocr_page(job) -> PageResult`: a module-level function from a small picklable job to a
small picklable result, so any `concurrent.futures.Executor` can run it (our thread pool, a process pool, a Dask
`Client.get_executor()`). Workers never touch the pages folder's outputs nor SQLite: the parent writes
`0001.txt` / `0001.hocr` atomically and records each page in its own transaction (table `ocr`, see store.py).

Layout of the package: `method.py` (what fast/default/best do, and the measurements behind each choice),
`tesseract.py` (running and probing the CLI), `prepare.py` (x-height, scaling, ink), `learn.py` and `train.py` (a
model for the book from its checked pages).

Choices, measured on the 15 corpus pages with Tesseract 5.3.0 (Debian 12) on 2 cores:
- One Tesseract call per page writes txt, hOCR and TSV together (1.03x the cost of text alone, OCR-NOTES.md);
  the default method reads a page a second time only when Tesseract is unsure of it (method.py).
- Page segmentation stays `--psm 3` (plain Tesseract's) for every page Tesseract is sure of; a page whose mean
  word confidence is under 70 is read again with `--psm 4` and the surer reading kept (method.py: it held leave
  one book out, 0.1460 -> 0.1178). `--psm` stays an option a community can check with `transcribe evaluate`.
- Workers: a thread pool of one `tesseract` subprocess per core, each with OMP_THREAD_LIMIT=1 (Tesseract's
  own OpenMP threads make it 6.7x slower per page here). The work happens in the subprocess, so threads are
  enough: a ProcessPoolExecutor used the same CPU (10 pages: 19.2-19.4 s either way) and its wall time was
  sometimes better, sometimes worse, within the noise of a shared machine (bench/bench_split_ocr.py
  --process-pool). Threads start at once, pickle nothing, and an interrupted parent can stop its Tesseracts.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import html
import itertools
import json
import logging
import os
import re
import subprocess
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from transcribe import fsutil
from transcribe.errors import InputError, LanguageError
from transcribe.events import ProgressFn, no_progress
from transcribe.ocr import prepare as P
from transcribe.ocr import tesseract as T
from transcribe.ocr.method import METHODS, REREAD_BELOW, Reading, config_for, models_for
from transcribe.split import PageImage, read_pages
from transcribe.store import Store, Work

log = logging.getLogger(__name__)

from transcribe.work import OCR_JSON, output_paths  # noqa: E402, F401  the pages folder's layout, as ocr.X too
DEFAULT_PSM = 3
DEFAULT_TIMEOUT = 600.0  # seconds for one page; a 600 dpi newspaper page takes about a minute on one core
# Bump when the way text, hOCR or the blank decision is made changes, so that finished pages are redone.
# 2: the methods (fast = version 1's plain Tesseract; default: table finder off, model companions, scaling of
# small text, reading order of fragmented layouts; best). The method and the learned words are in the key too.
# 3: the default reads with installed catalogue models (method.py), no longer rebuilds the reading order nor
# scales small print, and reads a low-confidence page again with --psm 4 (its threshold is in the fingerprint too).
PIPELINE_VERSION = "3"
DEFAULT_METHOD = "default"

# Blank pages: no word Tesseract is reasonably sure of, and almost no ink. Both, because a page of faint text
# in a script the model does not know has no sure words but plenty of ink (it must reach a proofreader), and a
# page with a few specks has a little ink but Tesseract reads them as low-confidence punctuation at most.
# The 15 corpus text pages have 8-27 % dark pixels; an A4 page at 300 dpi with 25 specks and a line 0.1 %.
SURE_WORD_CONF = 60.0
BLANK_MAX_INK = 0.01  # share of dark pixels (luminance < 128)

_PAGE_STATUSES = ("done", "blank", "failed", "no-model")


# -- settings, jobs, results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OcrSettings:
    """Everything that changes the text. `models` None: the language has no Tesseract model (no OCR)."""

    models: str | None
    tessdata_dir: str | None = None
    psm: int = DEFAULT_PSM
    timeout: float = DEFAULT_TIMEOUT
    method: str = DEFAULT_METHOD  # 'fast' (plain Tesseract), 'default' or 'best' (method.py)
    learned_from: str | None = None  # the checked pages of the book a model was learned from (learn.py)
    learning: str | None = None  # what learning from the book measured and chose (learn.py learn_book)
    # Lines whose mean word confidence is below this are left out (pictures read as text); chosen by the book's
    # checked pages (learn.py), never set otherwise.
    min_line_conf: float | None = None
    # Every page read from a grey copy scaled by this; chosen by the book's checked pages (learn.py), never set
    # otherwise (as a rule for every book it helped most books and hurt four: bench --lobo downscale).
    scale: float = 1.0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown OCR method {self.method!r}: one of {', '.join(METHODS)}")
        if self.tessdata_dir:
            # Resolved where it enters: Tesseract runs in each image's folder, where a relative path means nothing.
            object.__setattr__(self, "tessdata_dir", str(Path(self.tessdata_dir).resolve()))


@dataclass(frozen=True)
class PageJob:
    """One page to OCR: small and picklable. `image_bytes` replaces the path for executors on other machines."""

    n: int
    image_name: str  # e.g. '0001.png'; Tesseract writes it into the hOCR, so it is the same however we run
    image_path: str | None
    image_bytes: bytes | None
    models: str
    tessdata_dir: str | None
    psm: int
    timeout: float
    method: str = DEFAULT_METHOD
    config: tuple[tuple[str, str], ...] = ()  # Tesseract -c variables
    # The page's resolution as split recorded it. Tesseract 5.3 (leptonica) finds none in an RGB JPEG page (it can
    # carry no JFIF marker, see split/jpeg.py) and guesses one: measured on 5 JPEG-TIFF pages, CER 0.1061 with the
    # guess against 0.1047 from PNG pages, and identical text to the PNG pages with --dpi given.
    dpi: int | None = None
    min_line_conf: float | None = None  # OcrSettings.min_line_conf
    group: str = ""  # the run the page belongs to: a failed or interrupted run stops its own Tesseracts only
    scale: float = 1.0  # OcrSettings.scale


@dataclass(frozen=True)
class PageResult:
    n: int
    ok: bool
    text: str = ""
    hocr: str = ""
    confidence: float | None = None  # mean word confidence 0-100; None when there are no words
    words: int = 0
    ink: float | None = None  # share of dark pixels, measured only when no word is sure
    blank: bool = False
    reason: str | None = None  # why it failed, for people
    seconds: float = 0.0
    choices: dict[str, Any] = field(default_factory=dict)  # what was done to the page and why (ocr.json)
    model_problem: bool = False  # failed because Tesseract could not load the models (not the image's fault)
    killed: bool = False  # failed because Tesseract was ended by a signal (Ctrl-C, kill)


@dataclass(frozen=True)
class PageFailure:
    n: int
    image: str
    reason: str


@dataclass
class OcrSummary:
    total: int = 0
    done: int = 0  # read by Tesseract in this run, with text
    blank: int = 0  # read in this run and found blank
    skipped: int = 0  # unchanged since an earlier run
    no_model: int = 0  # no model for the language: recorded, ready for typing
    failed: list[PageFailure] = field(default_factory=list)
    mean_confidence: float | None = None  # over every page of the folder that has text
    models: str | None = None  # the models the method read with (e.g. 'german_print' for 'frk')
    method: str = DEFAULT_METHOD
    why: list[str] = field(default_factory=list)  # why they differ from the models asked for
    notes: list[str] = field(default_factory=list)  # models the method meant to use and could not: what to install
    seconds: float = 0.0


# -- the worker -----------------------------------------------------------------------------------------------


def ocr_page(job: PageJob) -> PageResult:
    """OCR one page by the job's method. Never raises for a bad page: returns ok=False with the reason."""
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="transcribe-ocr-") as tmp:
        if job.image_bytes is not None:
            image = Path(tmp) / job.image_name
            image.write_bytes(job.image_bytes)
        else:
            assert job.image_path is not None
            image = Path(job.image_path)
        try:
            result = _read(job, image, Path(tmp))
        except subprocess.TimeoutExpired:
            return PageResult(job.n, False, reason=f"Tesseract took longer than {job.timeout:g} s and was stopped",
                              seconds=time.monotonic() - start)
        except Exception as e:  # noqa: BLE001  Pillow raises many kinds for a damaged file
            return PageResult(job.n, False, reason=f"the image could not be read ({e})",
                              seconds=time.monotonic() - start)
        if isinstance(result, T.Output):  # failed
            return PageResult(job.n, False, reason=result.error, seconds=time.monotonic() - start,
                              model_problem=result.model_problem, killed=result.killed)
        out, choices = result
        confs = T.word_confidences(out.tsv)
        sure = any(c >= SURE_WORD_CONF and any(ch.isalnum() for ch in w) for c, w in confs)
        ink = None
        if not sure:  # only then does the ink decide (decoding the image again costs ~2 % of a page's OCR)
            try:
                ink = P.ink(image)
            except Exception as e:  # noqa: BLE001  Pillow raises many kinds for a damaged file
                return PageResult(job.n, False, reason=f"the image could not be read ({e})",
                                  seconds=time.monotonic() - start)
    confidence = round(sum(c for c, _ in confs) / len(confs), 2) if confs else None
    blank = ink is not None and ink < BLANK_MAX_INK
    return PageResult(
        job.n, True, text="" if blank else out.text, hocr=out.hocr, confidence=confidence, words=len(confs),
        ink=None if ink is None else round(ink, 5), blank=blank, seconds=round(time.monotonic() - start, 3),
        choices=choices,
    )


def _read(job: PageJob, image: Path, tmp: Path) -> tuple[T.Output, dict[str, Any]] | T.Output:
    """Tesseract's output for the page after the method's steps, and what was done and why; or the failed
    Output (its `error` says why)."""
    choices: dict[str, Any] = {"method": job.method, "models": job.models, "psm": job.psm,
                               "config": dict(job.config)}

    def read(path: Path, name: str, dpi: int | None = None) -> T.Output:
        return T.read_page(path, tmp / name, models=job.models, psm=job.psm, tessdata_dir=job.tessdata_dir,
                           timeout=job.timeout, config=job.config, dpi=dpi, group=job.group)

    dpi = job.dpi
    if job.scale != 1.0 and job.method != "fast":  # the book's checked pages chose a scaled copy (learn.py)
        image = P.scaled_copy(image, job.scale, tmp / f"{Path(job.image_name).stem}.tif", dpi=job.dpi)
        dpi = None  # the copy carries its own, scaled
        choices["scale"] = job.scale
    out = read(image, "out", dpi)
    if out.error is not None:
        return out
    if job.method == "fast":
        return out, choices
    xh = P.x_height(out.hocr)  # small print is no longer read scaled (method.py)
    choices["x_height"] = round(xh / job.scale, 1) if xh is not None and job.scale != 1.0 else xh
    if job.psm == DEFAULT_PSM:
        confs = T.word_confidences(out.tsv)
        first = sum(c for c, _ in confs) / len(confs) if confs else None
        if first is not None and first < REREAD_BELOW:
            # Low confidence: read the page again with --psm 4 (single column of lines), keep the surer reading.
            again = T.read_page(image, tmp / "psm4-out", models=job.models, psm=4, tessdata_dir=job.tessdata_dir,
                                timeout=job.timeout, config=job.config, dpi=dpi, group=job.group)
            if again.error is not None:
                return again
            confs = T.word_confidences(again.tsv)
            second = sum(c for c, _ in confs) / len(confs) if confs else 0.0
            kept = second > first
            choices["reread"] = {"reason": f"mean word confidence {first:.1f} < {REREAD_BELOW:g}: read again with "
                                           "--psm 4", "confidence": round(second, 2), "kept": kept}
            if kept:
                out = again
                choices["psm"] = 4
    text = out.text
    if job.scale != 1.0:  # boxes in the page image's own pixels, as every reader of the hOCR expects (the TSV, only
        # read for its confidences here and never kept, stays in the copy's)
        out = T.Output(text=out.text, hocr=P.unscale_hocr(out.hocr, job.scale, job.image_name), tsv=out.tsv)
    if job.min_line_conf is not None:
        from transcribe.ocr.learn import drop_unsure_lines

        text, choices["unsure_lines_dropped"] = drop_unsure_lines(text, out.hocr, job.min_line_conf)
    return T.Output(text=text, hocr=out.hocr, tsv=out.tsv), choices


# -- probing: what identifies the engine and the models ---------------------------------------------------------

tesseract_version = T.tesseract_version


def reading_for(settings: OcrSettings) -> tuple[Reading, str | None]:
    """What the method reads with (method.py: catalogue models in place of Debian's, companions) and the tessdata
    folder from which Tesseract loads them all (None: Tesseract's own)."""
    if not settings.models:
        return Reading(settings.models or ""), settings.tessdata_dir
    if settings.method == "fast":  # exactly the models given; from the models folder when one is installed there
        if settings.tessdata_dir is None:
            from transcribe import models as catalogue_models

            found = catalogue_models.tessdata_for(settings.models, None)
            return Reading(settings.models), str(found) if found is not None else None
        return Reading(settings.models), settings.tessdata_dir
    from transcribe.langs import installed_models

    tessdata = Path(settings.tessdata_dir) if settings.tessdata_dir else None
    cat, have = _catalogue()
    installed = installed_models(tessdata)
    if tessdata is not None:  # Tesseract then looks only there: a catalogue model must be in that folder too
        have = {m for m in have if m in installed}
    replacements: dict[str, list[str]] = {}
    for name, model in cat.items():  # recommended catalogue models first, then the catalogue's order
        for debian in model.replaces:
            replacements.setdefault(debian, []).append(name)
    for names in replacements.values():
        names.sort(key=lambda n: not cat[n].recommended)
    reading = models_for(settings.models, settings.method, installed, replacements=replacements,
                         catalogue_installed=have)
    folder = settings.tessdata_dir
    if any(m in cat for m in reading.models.split("+")):
        from transcribe import models as catalogue_models

        found = catalogue_models.tessdata_for(reading.models, tessdata)
        folder = str(found) if found is not None else folder
    return reading, folder


def _catalogue() -> tuple[dict[str, Any], set[str]]:
    """The model catalogue (langs/models.toml) and which of its models are installed."""
    from transcribe import models as catalogue_models

    return catalogue_models.catalogue(), catalogue_models.installed_catalogue_models()


def read_with(settings: OcrSettings) -> tuple[str | None, list[str]]:
    """The models the method reads with and why they differ from settings' (see reading_for)."""
    if not settings.models:
        return settings.models, []
    reading, _ = reading_for(settings)
    return reading.models, list(reading.why)


def settings_fingerprint(settings: OcrSettings, resolved: tuple[Reading, str | None] | None = None) -> dict[str, Any]:
    """Every setting that changes the text, resolved (engine version, model files), for the page keys.

    `resolved`: reading_for(settings), when the caller has it already (it runs `tesseract --list-langs`)."""
    reading, folder = resolved or reading_for(settings)
    models = reading.models or None
    return {
        "pipeline": PIPELINE_VERSION,
        "tesseract": tesseract_version(),
        "models": settings.models,
        "method": settings.method,
        "read_with": models,
        "config": dict(config_for(settings.method)),
        "reread_below": None if settings.method == "fast" else REREAD_BELOW,
        **({} if settings.method == "fast" else {"scale_small_print": False}),
        "model_files": T.model_identity(models, folder) if models else {},
        "psm": settings.psm,
        # only when set, so that the keys of pages read without it stay as they were
        **({"min_line_conf": settings.min_line_conf} if settings.min_line_conf is not None else {}),
        **({"scale": settings.scale} if settings.scale != 1.0 else {}),
    }


def page_key(image_sha1: str, fingerprint: dict[str, Any]) -> str:
    blob = json.dumps({"image": image_sha1, **fingerprint}, sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()


# -- the pages of a folder --------------------------------------------------------------------------------------


def check_pages_dir(pages_dir: Path) -> None:
    if not Path(pages_dir).is_dir():
        raise InputError(f"The pages folder {pages_dir} does not exist.",
                         hint="Give the folder 'transcribe split' made, e.g. 'transcribe ocr book-pages --lang fr'.")


# -- the run ----------------------------------------------------------------------------------------------------


def ocr_pages(
    pages_dir: Path,
    settings: OcrSettings,
    *,
    store: Store,
    work: Work,
    jobs: int | None = None,
    executor: cf.Executor | None = None,
    send_images: bool = False,
    progress: ProgressFn | None = None,
) -> OcrSummary:
    """OCR every page of `pages_dir` that is new or changed; record each page; return the summary.

    A failed page is recorded with its reason and the others go on: the caller decides what a failure means
    (the CLI exits 6). `executor`: any concurrent.futures.Executor (default: a thread pool of `jobs` Tesseract
    subprocesses); `send_images`: ship the image bytes to the workers instead of paths (remote executors).
    """
    pages_dir = Path(pages_dir)
    progress = progress or no_progress
    started = time.monotonic()
    check_pages_dir(pages_dir)
    pages = read_pages(pages_dir)
    if not pages:
        raise InputError(f"There are no page images in {pages_dir}.",
                         hint="Run 'transcribe split SCAN -o FOLDER' first, then OCR that folder.")
    fsutil.remove_stale_parts(pages_dir)
    if settings.models:
        from transcribe.langs import resolve_models

        # Finds a missing model before any page is touched (LanguageError: exit 5, with install advice).
        resolve_models(None, settings.models, Path(settings.tessdata_dir) if settings.tessdata_dir else None)
    # resolved once: asking Tesseract which models are installed is a program run (`tesseract --list-langs`)
    reading, folder = reading_for(settings)
    fingerprint = settings_fingerprint(settings, (reading, folder))
    summary = OcrSummary(total=len(pages), models=fingerprint["read_with"], method=settings.method,
                         why=list(reading.why), notes=list(reading.notes))
    previous = {r["n"]: r for r in store.query("SELECT * FROM ocr WHERE work_id = ?", (work.id,))}

    todo: list[tuple[PageImage, str]] = []
    keys: dict[int, str] = {}
    for page in pages:
        image = pages_dir / page.image
        try:
            sha1 = fsutil.sha1_file(image)
        except OSError as e:
            _record(store, work, page.n, "-", "failed", reason=f"the image cannot be opened ({e.strerror})")
            summary.failed.append(PageFailure(page.n, page.image, f"the image cannot be opened ({e.strerror})"))
            continue
        key = keys[page.n] = page_key(sha1, fingerprint)
        row = previous.get(page.n)
        if row is not None and row["key"] == key and _finished(row["status"], pages_dir, page.image):
            summary.skipped += 1
            continue
        todo.append((page, key))

    try:
        if settings.models is None:
            for page, key in todo:
                _record(store, work, page.n, key, "no-model")
                summary.no_model += 1
        elif todo:
            _run_pages(pages_dir, replace(settings, tessdata_dir=folder), fingerprint["read_with"], todo, store, work, summary, jobs, executor,
                       send_images, progress)
    finally:
        write_ocr_json(pages_dir, pages, store, work, settings, fingerprint, keys, reading)
    done_conf = [r["confidence"] for r in store.query(
        "SELECT confidence FROM ocr WHERE work_id = ? AND status = 'done' AND confidence IS NOT NULL", (work.id,))]
    summary.mean_confidence = round(sum(done_conf) / len(done_conf), 1) if done_conf else None
    summary.seconds = round(time.monotonic() - started, 2)
    return summary


def _finished(status: str, pages_dir: Path, image: str) -> bool:
    if status == "no-model":
        return True
    txt, hocr = output_paths(pages_dir, image)
    return status in ("done", "blank") and txt.is_file() and hocr.is_file()


def _run_pages(pages_dir: Path, settings: OcrSettings, models: str, todo: list[tuple[PageImage, str]],
               store: Store, work: Work, summary: OcrSummary, jobs: int | None, executor: cf.Executor | None, send_images: bool,
               progress: ProgressFn) -> None:
    assert settings.models is not None
    jobs = jobs or os.cpu_count() or 1
    own = executor is None
    if executor is None:
        executor = cf.ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="tesseract")

    group = uuid.uuid4().hex  # this run's Tesseracts (stop_running)

    def make_job(page: PageImage) -> PageJob:
        path = pages_dir / page.image
        return PageJob(
            n=page.n, image_name=page.image,
            image_path=None if send_images else str(path.resolve()),
            image_bytes=path.read_bytes() if send_images else None,
            models=models, tessdata_dir=settings.tessdata_dir, psm=settings.psm,
            timeout=settings.timeout, method=settings.method, config=config_for(settings.method),
            dpi=page.dpi, min_line_conf=settings.min_line_conf, group=group, scale=settings.scale,
        )

    queue = iter(todo)
    # A window of work in flight (not all pages at once): bounded memory with image bytes, quick Ctrl-C.
    window = max(2, jobs * 2)
    pending: dict[cf.Future[PageResult], tuple[PageImage, str]] = {}
    finished = 0
    progress("ocr", 0, len(todo))
    try:
        for page, key in itertools.islice(queue, window):
            pending[executor.submit(ocr_page, make_job(page))] = (page, key)
        while pending:
            done, _ = cf.wait(list(pending), return_when=cf.FIRST_COMPLETED)
            for fut in done:
                page, key = pending.pop(fut)
                try:
                    result = fut.result()
                except Exception as e:  # noqa: BLE001  a worker that died (process pool, remote executor)
                    result = PageResult(page.n, False, reason=f"the OCR worker failed ({type(e).__name__}: {e})")
                _keep(pages_dir, page, key, result, store, work, summary)
                finished += 1
                progress("ocr", finished, len(todo))
                for nxt, nxt_key in itertools.islice(queue, 1):
                    pending[executor.submit(ocr_page, make_job(nxt))] = (nxt, nxt_key)
    except BaseException:
        for fut in pending:
            fut.cancel()
        T.stop_running(group)
        raise
    finally:
        if own:
            executor.shutdown(wait=True, cancel_futures=True)


def _keep(pages_dir: Path, page: PageImage, key: str, result: PageResult, store: Store, work: Work,
          summary: OcrSummary) -> None:
    """The parent's half of a page: files first (atomically), then the state row, so a kill in between redoes it."""
    if not result.ok and result.model_problem:
        # Not the image's fault: nothing is recorded for the page (a re-run reads it), the run stops with advice.
        raise LanguageError(f"{result.reason}.", hint=_model_hint(result.reason or ""))
    if not result.ok:
        reason = result.reason or "unknown failure"
        log.info("page %d (%s) failed: %s", page.n, page.image, reason)
        _record(store, work, page.n, key, "failed", reason=reason, seconds=round(result.seconds, 3))
        summary.failed.append(PageFailure(page.n, page.image, reason))
        return
    txt, hocr = output_paths(pages_dir, page.image)
    # The page's choices travel in its own hOCR (written atomically before the state row), so that ocr.json can
    # be rebuilt with them after a kill, when the run never got to write it.
    fsutil.write_text(hocr, _with_choices(result.hocr, result.choices))
    fsutil.write_text(txt, result.text)
    status = "blank" if result.blank else "done"
    _record(store, work, page.n, key, status, confidence=result.confidence, chars=len(result.text.strip()),
            seconds=result.seconds)
    if result.blank:
        summary.blank += 1
    else:
        summary.done += 1


def _model_hint(reason: str) -> str:
    """What to do when Tesseract could not load a model: which one, and how to install it."""
    from transcribe.langs import install_advice

    m = re.search(r"Failed loading language '([^']+)'", reason)
    advice = install_advice([m.group(1)]) if m else ""
    return (f"{advice} " if advice else "") + ("Check that the model files are complete (a damaged .traineddata "
                                               "fails the same way) and that --tessdata-dir names the folder that "
                                               "holds them; 'transcribe langs check' tests them.")


def _record(store: Store, work: Work, n: int, key: str, status: str, *, confidence: float | None = None,
            chars: int | None = None, reason: str | None = None, seconds: float | None = None) -> None:
    assert status in _PAGE_STATUSES
    with store.tx() as c:
        c.execute(
            "INSERT INTO ocr (work_id, n, key, status, confidence, chars, reason, seconds) VALUES (?,?,?,?,?,?,?,?)"
            " ON CONFLICT (work_id, n) DO UPDATE SET key = excluded.key, status = excluded.status,"
            " confidence = excluded.confidence, chars = excluded.chars, reason = excluded.reason,"
            " seconds = excluded.seconds, updated = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
            (work.id, n, key, status, confidence, chars, reason, seconds),
        )


_CHOICES_META = "transcribe-choices"
_CHOICES_RE = re.compile(r"<meta name='transcribe-choices' content='([^']*)'\s*/>")


def _with_choices(hocr: str, choices: dict[str, Any]) -> str:
    if not choices or "</head>" not in hocr:
        return hocr
    blob = html.escape(json.dumps(choices, ensure_ascii=False, sort_keys=True), quote=True)
    return hocr.replace("</head>", f"  <meta name='{_CHOICES_META}' content='{blob}' />\n </head>", 1)


def page_choices(hocr_path: Path) -> dict[str, Any] | None:
    """What was done to a page and why, from the head of its hOCR (None when it has no record)."""
    try:
        with open(hocr_path, encoding="utf-8", errors="replace") as f:
            head = f.read(8192)
    except OSError:
        return None
    m = _CHOICES_RE.search(head)
    if not m:
        return None
    try:
        value = json.loads(html.unescape(m.group(1)))
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def write_ocr_json(pages_dir: Path, pages: list[PageImage], store: Store, work: Work, settings: OcrSettings,
                   fingerprint: dict[str, Any], keys: dict[int, str], reading: Reading | None = None) -> None:
    """The mirror of the state for people and other tools. SQLite stays the truth; this is rebuilt every run.

    `current` is false for a page last handled with other settings or another image (an interrupted run).
    `choices`: per page, what the method did and why (models, psm, x-height and scale, reading order...), from
    the page's hOCR.
    """
    images = {p.n: p.image for p in pages}
    rows = store.query("SELECT * FROM ocr WHERE work_id = ? ORDER BY n", (work.id,))
    entries = []
    for r in rows:
        if r["n"] not in images:
            continue
        txt, hocr = output_paths(pages_dir, images[r["n"]])
        entries.append({
            "n": r["n"], "image": images[r["n"]], "status": r["status"], "blank": r["status"] == "blank",
            "current": keys.get(r["n"]) == r["key"],
            "models": fingerprint["read_with"] if keys.get(r["n"]) == r["key"] else None,
            "confidence": r["confidence"], "chars": r["chars"], "reason": r["reason"], "seconds": r["seconds"],
            "text": txt.name if r["status"] in ("done", "blank") else None,
            "hocr": hocr.name if r["status"] in ("done", "blank") else None,
            "key": r["key"], "updated": r["updated"],
            "choices": page_choices(hocr) if keys.get(r["n"]) == r["key"] and r["status"] in ("done", "blank")
            else None,
        })
    shown = asdict(settings)
    if reading is not None:
        shown["read_with_why"] = list(reading.why)
        shown["notes"] = list(reading.notes)
    doc = {"settings": {**shown, **fingerprint}, "pages": entries}
    fsutil.write_text(pages_dir / OCR_JSON, json.dumps(doc, ensure_ascii=False, indent=1) + "\n")


def read_ocr_json(pages_dir: Path) -> dict[str, Any]:
    """The per-page record `ocr` wrote (for `bundle`, `publish` and other tools)."""
    path = Path(pages_dir) / OCR_JSON
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path} does not exist: the pages have not been OCR'd yet.",
                         hint=f"Run 'transcribe ocr {pages_dir} --lang CODE' first.") from None
    except (OSError, ValueError) as e:
        raise InputError(f"{path} is damaged ({e}).",
                         hint=f"Run 'transcribe ocr {pages_dir} --lang CODE' again to rebuild it.") from e


# -- learning from checked pages of the same book ------------------------------------------------------------------


def learn_from_checked(pages_dir: Path, settings: OcrSettings, checked: dict[int, tuple[str, str]], *,
                       source: str, store: Store, work: Work, minutes: float | None = None, jobs: int | None = None,
                       progress: ProgressFn | None = None) -> tuple[OcrSettings, Any]:
    """`settings` for the rest of the book, learned from `checked` (page number -> (name, checked text)): a model
    fine-tuned on the checked pages and the page segmentation mode they read best with, each used only where it
    measured better on held-back lines of the book (learn.py learn_book); and the learn.BookModel record."""
    from transcribe.ocr.learn import DEFAULT_MINUTES, learn_book

    check_pages_dir(pages_dir)
    return learn_book(Path(pages_dir), settings, checked, source=source, store=store, work=work,
                      minutes=DEFAULT_MINUTES if minutes is None else minutes, jobs=jobs, progress=progress)
