"""OCR of a pages folder: page image -> plain text, hOCR and a mean word confidence, in parallel, resumably.

The unit of work is `ocr_page(job) -> PageResult`: a module-level function from a small picklable job to a
small picklable result, so any `concurrent.futures.Executor` can run it (our thread pool, a process pool, a Dask
`Client.get_executor()`). Workers never touch the pages folder's outputs nor SQLite: the parent writes
`0001.txt` / `0001.hocr` atomically and records each page in its own transaction (table `ocr`, see store.py).

Choices, measured on the 15 corpus pages with Tesseract 5.3.0 (Debian 12) on 2 cores:
- One Tesseract call per page writes txt, hOCR and TSV together (1.03x the cost of text alone, OCR-NOTES.md).
  We run the tesseract CLI on the image FILE (never a PIL image: that loses the DPI and changes the text).
- Page segmentation: the default `--psm 3` reproduces plain `tesseract IMAGE - -l LANG` exactly (mean CER
  0.115, every page equal to baseline.csv). `--psm 4` has a better mean (0.103) thanks to two hard layouts
  (a 1761 catalogue 0.530 -> 0.436, a commentary 0.268 -> 0.162) but is worse on five pages (Fraktur
  glauanno_0016 0.117 -> 0.132, bankgraf 0.105 -> 0.113, three by < 0.002). Tesseract's mean word confidence
  does not tell which of the two is better (it prefers the worse one on 0512 and glauanno_0016), and running
  both doubles the time, so the default stays 3 and `--psm 4` is an option a community can check with
  `transcribe evaluate` on its own pages.
- Workers: a thread pool of one `tesseract` subprocess per core, each with OMP_THREAD_LIMIT=1 (Tesseract's
  own OpenMP threads make it 6.7x slower per page here). The work happens in the subprocess, so threads are
  enough: a ProcessPoolExecutor used the same CPU (10 pages: 19.2-19.4 s either way) and its wall time was
  sometimes better, sometimes worse, within the noise of a shared machine (bench/bench_split_ocr.py
  --process-pool). Threads start at once, pickle nothing, and an interrupted parent can stop its Tesseracts.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import csv
import hashlib
import io
import itertools
import json
import logging
import os
import re
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from transcribe import fsutil
from transcribe.errors import InputError, MissingProgram
from transcribe.events import ProgressFn, no_progress
from transcribe.split import PageImage, read_pages
from transcribe.store import Store, Work

log = logging.getLogger(__name__)

OCR_JSON = "ocr.json"
DEFAULT_PSM = 3
DEFAULT_TIMEOUT = 600.0  # seconds for one page; a 600 dpi newspaper page takes about a minute on one core
# Bump when the way text, hOCR or the blank decision is made changes, so that finished pages are redone.
PIPELINE_VERSION = "1"

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
    models: str | None = None
    seconds: float = 0.0


# -- the worker -----------------------------------------------------------------------------------------------

# Tesseract subprocesses of this process, so that an interrupted parent can stop them at once (thread pool).
_running: set[subprocess.Popen[bytes]] = set()
_running_lock = threading.Lock()


def ocr_page(job: PageJob) -> PageResult:
    """OCR one page with one Tesseract call (txt + hOCR + TSV). Never raises for a bad page: returns ok=False."""
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="transcribe-ocr-") as tmp:
        if job.image_bytes is not None:
            image = Path(tmp) / job.image_name
            image.write_bytes(job.image_bytes)
        else:
            assert job.image_path is not None
            image = Path(job.image_path)
        out = Path(tmp) / "out"
        cmd = [_tesseract_exe(), image.name, str(out), "-l", job.models, "--psm", str(job.psm)]
        if job.tessdata_dir:
            cmd += ["--tessdata-dir", job.tessdata_dir]
        # The renderers as variables, not as the config files `txt hocr tsv`: Tesseract 5.3.0 looks for those in
        # the tessdata folder, and a community's own --tessdata-dir has none (no output at all, exit 0).
        cmd += ["-c", "tessedit_create_txt=1", "-c", "tessedit_create_hocr=1", "-c", "hocr_font_info=0",
                "-c", "tessedit_create_tsv=1"]
        try:
            code, stderr = _run(cmd, cwd=image.parent, timeout=job.timeout)
        except subprocess.TimeoutExpired:
            return PageResult(job.n, False, reason=f"Tesseract took longer than {job.timeout:g} s and was stopped",
                              seconds=time.monotonic() - start)
        except OSError as e:
            return PageResult(job.n, False, reason=f"Tesseract could not be started ({e})",
                              seconds=time.monotonic() - start)
        if code != 0 or not (out.with_suffix(".txt").exists() and out.with_suffix(".tsv").exists()):
            return PageResult(job.n, False, reason=_explain_failure(code, stderr), seconds=time.monotonic() - start)
        text = out.with_suffix(".txt").read_text(encoding="utf-8", errors="replace")
        hocr = out.with_suffix(".hocr").read_text(encoding="utf-8", errors="replace")
        confs = _word_confidences(out.with_suffix(".tsv").read_text(encoding="utf-8", errors="replace"))
        sure = any(c >= SURE_WORD_CONF and any(ch.isalnum() for ch in w) for c, w in confs)
        ink = None
        if not sure:  # only then does the ink decide (decoding the image again costs ~2 % of a page's OCR)
            try:
                ink = _ink(image)
            except Exception as e:  # noqa: BLE001  Pillow raises many kinds for a damaged file
                return PageResult(job.n, False, reason=f"the image could not be read ({e})",
                                  seconds=time.monotonic() - start)
    confidence = round(sum(c for c, _ in confs) / len(confs), 2) if confs else None
    blank = ink is not None and ink < BLANK_MAX_INK
    return PageResult(
        job.n, True, text="" if blank else text, hocr=hocr, confidence=confidence, words=len(confs),
        ink=None if ink is None else round(ink, 5), blank=blank, seconds=round(time.monotonic() - start, 3),
    )


def _run(cmd: list[str], *, cwd: Path, timeout: float) -> tuple[int, str]:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with _running_lock:
        _running.add(proc)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    finally:
        with _running_lock:
            _running.discard(proc)
    return proc.returncode, err.decode("utf-8", errors="replace")


def _stop_running() -> None:
    with _running_lock:
        for proc in list(_running):
            with contextlib.suppress(OSError):
                proc.kill()


def _explain_failure(code: int, stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    # Tesseract 5.3.0 (leptonica 1.82) says "Error in pixReadStream..." / "Image file X cannot be read!" for a
    # damaged or unknown image file; anything else is shown as its last line.
    if any("cannot be read" in ln or "pixRead" in ln or "truncated" in ln for ln in lines):
        return "the image file is damaged or not an image Tesseract can read"
    if code < 0:
        return f"Tesseract crashed (signal {-code})" + (f": {lines[-1]}" if lines else "")
    if code == 0:
        return "Tesseract ended without writing its text" + (f": {lines[-1]}" if lines else "")
    return f"Tesseract failed (exit {code})" + (f": {lines[-1]}" if lines else "")


def _word_confidences(tsv: str) -> list[tuple[float, str]]:
    """(confidence, text) of every recognised word in Tesseract's TSV (level 5 rows with text)."""
    words = []
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        text = (row.get("text") or "").strip()
        if row.get("level") == "5" and text:
            with contextlib.suppress(TypeError, ValueError):
                conf = float(row["conf"])
                if conf >= 0:
                    words.append((conf, text))
    return words


def _ink(image: Path) -> float:
    """Share of dark pixels (luminance < 128) in the image."""
    from PIL import Image

    with Image.open(image) as im:
        im.load()
        hist = im.convert("L").histogram()
    total = sum(hist)
    return sum(hist[:128]) / total if total else 0.0


_tesseract_path: str | None = None


def _tesseract_exe() -> str:
    """langs.tesseract_exe(), looked up once per process rather than once per page."""
    global _tesseract_path
    if _tesseract_path is None:
        from transcribe.langs import tesseract_exe

        _tesseract_path = tesseract_exe()
    return _tesseract_path


# -- probing: what identifies the engine and the models ---------------------------------------------------------


def tesseract_version() -> str:
    """'5.3.0', from `tesseract --version`; MissingProgram when it is not installed."""
    try:
        out = subprocess.run([_tesseract_exe(), "--version"], capture_output=True, text=True, timeout=60,
                             check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise MissingProgram(f"Tesseract could not be run ({e}). Reinstall it: sudo apt-get install tesseract-ocr") \
            from e
    m = re.search(r"tesseract\s+v?(\S+)", out.stdout + out.stderr)
    return m.group(1) if m else "unknown"


def _model_identity(models: str, tessdata_dir: str | None) -> dict[str, str]:
    """Model name -> sha1 of its .traineddata file, so that a retrained model with the same name redoes pages."""
    from transcribe.langs import default_tessdata_dir

    folder = Path(tessdata_dir) if tessdata_dir else default_tessdata_dir()
    ident = {}
    for name in models.split("+"):
        for candidate in (f"{name}.traineddata", f"script/{name}.traineddata"):
            path = folder / candidate if folder else None
            if path is not None and path.is_file():
                ident[name] = fsutil.sha1_file(path)
                break
        else:
            ident[name] = "?"  # Tesseract found it elsewhere (TESSDATA_PREFIX); the name alone identifies it
    return ident


def settings_fingerprint(settings: OcrSettings) -> dict[str, Any]:
    """Every setting that changes the text, resolved (engine version, model files), for the page keys."""
    return {
        "pipeline": PIPELINE_VERSION,
        "tesseract": tesseract_version(),
        "models": settings.models,
        "model_files": _model_identity(settings.models, settings.tessdata_dir) if settings.models else {},
        "psm": settings.psm,
    }


def page_key(image_sha1: str, fingerprint: dict[str, Any]) -> str:
    blob = json.dumps({"image": image_sha1, **fingerprint}, sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()


# -- the pages of a folder --------------------------------------------------------------------------------------


def check_pages_dir(pages_dir: Path) -> None:
    if not Path(pages_dir).is_dir():
        raise InputError(f"The pages folder {pages_dir} does not exist.",
                         hint="Give the folder 'transcribe split' made, e.g. 'transcribe ocr book-pages --lang fr'.")


def output_paths(pages_dir: Path, image: str) -> tuple[Path, Path]:
    stem = Path(image).stem
    return pages_dir / f"{stem}.txt", pages_dir / f"{stem}.hocr"


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
    summary = OcrSummary(total=len(pages), models=settings.models)

    if settings.models:
        from transcribe.langs import resolve_models

        # Finds a missing model before any page is touched (LanguageError: exit 5, with install advice).
        resolve_models(None, settings.models, Path(settings.tessdata_dir) if settings.tessdata_dir else None)
    fingerprint = settings_fingerprint(settings)
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
            _run_pages(pages_dir, settings, todo, store, work, summary, jobs, executor, send_images, progress)
    finally:
        write_ocr_json(pages_dir, pages, store, work, settings, fingerprint, keys)
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


def _run_pages(pages_dir: Path, settings: OcrSettings, todo: list[tuple[PageImage, str]], store: Store,
               work: Work, summary: OcrSummary, jobs: int | None, executor: cf.Executor | None, send_images: bool,
               progress: ProgressFn) -> None:
    assert settings.models is not None
    jobs = jobs or os.cpu_count() or 1
    own = executor is None
    if executor is None:
        executor = cf.ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="tesseract")

    def make_job(page: PageImage) -> PageJob:
        path = pages_dir / page.image
        return PageJob(
            n=page.n, image_name=page.image,
            image_path=None if send_images else str(path.resolve()),
            image_bytes=path.read_bytes() if send_images else None,
            models=settings.models or "", tessdata_dir=settings.tessdata_dir, psm=settings.psm,
            timeout=settings.timeout,
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
        _stop_running()
        raise
    finally:
        if own:
            executor.shutdown(wait=True, cancel_futures=True)


def _keep(pages_dir: Path, page: PageImage, key: str, result: PageResult, store: Store, work: Work,
          summary: OcrSummary) -> None:
    """The parent's half of a page: files first (atomically), then the state row, so a kill in between redoes it."""
    if not result.ok:
        reason = result.reason or "unknown failure"
        log.info("page %d (%s) failed: %s", page.n, page.image, reason)
        _record(store, work, page.n, key, "failed", reason=reason, seconds=round(result.seconds, 3))
        summary.failed.append(PageFailure(page.n, page.image, reason))
        return
    txt, hocr = output_paths(pages_dir, page.image)
    fsutil.write_text(hocr, result.hocr)
    fsutil.write_text(txt, result.text)
    status = "blank" if result.blank else "done"
    _record(store, work, page.n, key, status, confidence=result.confidence, chars=len(result.text.strip()),
            seconds=result.seconds)
    if result.blank:
        summary.blank += 1
    else:
        summary.done += 1


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


def write_ocr_json(pages_dir: Path, pages: list[PageImage], store: Store, work: Work, settings: OcrSettings,
                   fingerprint: dict[str, Any], keys: dict[int, str]) -> None:
    """The mirror of the state for people and other tools. SQLite stays the truth; this is rebuilt every run.

    `current` is false for a page last handled with other settings or another image (an interrupted run).
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
            "models": settings.models if keys.get(r["n"]) == r["key"] else None,
            "confidence": r["confidence"], "chars": r["chars"], "reason": r["reason"], "seconds": r["seconds"],
            "text": txt.name if r["status"] in ("done", "blank") else None,
            "hocr": hocr.name if r["status"] in ("done", "blank") else None,
            "key": r["key"], "updated": r["updated"],
        })
    doc = {"settings": {**asdict(settings), **fingerprint}, "pages": entries}
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
