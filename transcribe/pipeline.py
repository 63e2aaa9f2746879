"""Run a batch: for every work of a manifest, split -> ocr -> (bundle) -> publish or export, resumably.

The recipe, per work, in the manifest's order:
1. split the scan into page images in `<manifest>.transcribe/<id>/pages/` (split keeps a journal per page);
2. OCR them (ocr keys each page by its image's SHA-1 and every setting, and skips finished pages); a work with
   `learn_from` first learns its book model (ocr/learn.py), or, with `learn_in_background`, has it learned in a
   worker thread (one training at a time) while the next works go on, and is read and published when the model
   is ready (between two works, at the latest after the last);
3. a work whose scan is a folder of images (or a TIFF or ZIP, which a wiki cannot page through) gets a PDF
   with a text layer made by bundle, which is what is uploaded;
4. publish to the wiki (publish records every edit and upload, so nothing is done twice), or export offline.

Resuming is the stages' business: each records its pages as it goes, so running the same command after Ctrl-C,
`kill -9` or a power cut redoes only what is unfinished or changed. This module only orders the stages, keeps
one row per work and stage in `stages` (for `status`), and makes sure that one work failing does not stop the
others. Only this (coordinating) process writes files and state; OCR workers get page images and return text.
The one other writer is the training thread, through its own connection to the state file (learn.py records the
book model in one short transaction; the store's busy timeout lets either wait for the other).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import functools
import hashlib
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from transcribe.errors import MissingProgram, TranscribeError, UsageError
from transcribe.events import ProgressFn, no_progress
from transcribe.fsutil import remove_stale_parts, write_text
from transcribe.manifest import Entry, Manifest, target_file_name
from transcribe.store import Store, Work

log = logging.getLogger(__name__)

STAGES = ("split", "ocr", "bundle", "export", "publish")
DASK_HINT = "Install the Dask extra with: .venv/bin/pip install 'transcribe[dask]' (or pip install 'dask[distributed]')."


@dataclass
class WorkResult:
    """What happened to one work in this run."""

    id: str
    pages: int = 0
    ocrd: int = 0  # pages with OCR text (or found blank)
    output: int = 0  # pages published or exported
    failed: int = 0  # pages that failed in some stage
    status: str = "pending"  # 'done', 'failed' (the work stopped at `stage`), 'partial' (some pages failed)
    stage: str = ""  # the stage it stopped at
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    read_with: str | None = None  # the models the OCR stage read with (None: not reached, or no model)
    model_notes: list[str] = field(default_factory=list)  # models the method meant to use and could not
    learned: Any = None  # learn.BookModel: what learning from the work's checked pages did (learn_from)
    seconds: float = 0.0


@dataclass
class BatchResult:
    target: str  # 'export' or 'wiki'
    works: list[WorkResult]
    seconds: float = 0.0

    @property
    def failed(self) -> list[WorkResult]:
        return [w for w in self.works if w.status != "done"]

    @property
    def model_notes(self) -> list[str]:
        """Every work's model notes, each once (a batch of 50 Fraktur books needs one 'install german_print')."""
        return list(dict.fromkeys(n for w in self.works for n in w.model_notes))


@dataclass(frozen=True)
class RunOptions:
    export_dir: Path | None = None  # export offline there, instead of publishing
    jobs: int | None = None
    scheduler: str | None = None  # a Dask scheduler address for the OCR stage
    tessdata_dir: Path | None = None
    dpi: int = 300
    update_ocr: bool = False  # publish: replace the text of pages nobody has edited since our last OCR
    dry_run: bool = False  # publish: say what would change, change nothing
    ocr_method: str = "default"  # 'fast', 'default' or 'best' (transcribe/ocr/method.py)
    learn_in_background: bool = False  # train book models (learn_from) in a thread while the next works go on


def run_batch(manifest: Manifest, options: RunOptions, *, progress: ProgressFn | None = None) -> BatchResult:
    """Run every work of `manifest`; a failing work is recorded and the others go on.

    Raises Locked (exit 11) when another run holds the state. The caller reads the result's `failed` to decide
    the exit code (6). KeyboardInterrupt passes through, after the stages have recorded what they finished (and,
    with `learn_in_background`, after a training under way has stopped at its last checkpoint, unrecorded).
    """
    progress = progress or no_progress
    started = time.monotonic()
    _connections.clear()  # connections live for one run
    _unreadable.clear()
    _models.cache_clear()  # models may have been installed since the last run in this process
    total = len(manifest.entries)
    with Store(manifest.state_path) as store:
        store.acquire_lock()
        done: dict[str, WorkResult] = {}
        with _ocr_executor(options) as (executor, remote), _trainer(options, manifest.state_path, progress) as trainer:
            if trainer is not None:
                progress = trainer.progress  # the training thread draws its bar too: one caller at a time

            def finish(learning: _Learning) -> None:
                done[learning.result.id] = _after_learning(manifest, learning, store, options, executor, remote,
                                                           progress)
                waiting.remove(learning)

            # Register every work first: `status` then shows the whole batch, even the works not reached yet.
            works = {e.id: store.work(e.id, scan=str(e.source), meta=_meta_record(e)) for e in manifest.entries}
            waiting: list[_Learning] = []  # works whose book model is being learned in the background, in order
            for entry in manifest.entries:
                for learning in [w for w in waiting if w.future.done()]:  # a model is ready: that work comes first
                    finish(learning)
                progress("works", len(done), total)
                outcome = _run_work(manifest, entry, works[entry.id], store, options, executor, remote, progress,
                                    trainer)
                if isinstance(outcome, _Learning):
                    waiting.append(outcome)
                else:
                    done[entry.id] = outcome
            while waiting:  # the other works are done: wait for each model, in the manifest's order
                progress("works", len(done), total)
                finish(waiting[0])
            progress("works", total, total)
    results = [done[e.id] for e in manifest.entries]
    _connections.clear()
    if options.export_dir is not None:
        write_batch_index(Path(options.export_dir), manifest, results)
    return BatchResult("export" if options.export_dir else "wiki", results, round(time.monotonic() - started, 2))


def write_batch_index(out_dir: Path, manifest: Manifest, results: list[WorkResult]) -> Path:
    """`DIR/index.html`: one line per work, linking to its own preview, so a batch is reviewed from one page."""
    import html

    titles = {e.id: e.meta.title for e in manifest.entries}
    sources = {e.id: e.meta.iiif_manifest for e in manifest.entries if e.meta.iiif_manifest}
    rows = []
    for r in results:
        link = (f'<a href="{html.escape(r.id)}/index.html">{html.escape(titles.get(r.id, r.id))}</a>'
                if (out_dir / r.id / "index.html").is_file() else html.escape(titles.get(r.id, r.id)))
        src = sources.get(r.id, "")
        origin = f'<br><small>from <a href="{html.escape(src)}">{html.escape(src)}</a></small>' if src else ""
        rows.append(f"<tr><td>{html.escape(r.id)}</td><td>{link}{origin}</td><td>{r.pages}</td><td>{r.ocrd}</td>"
                    f"<td>{r.output}</td><td>{r.failed}</td><td>{html.escape(r.status)}</td>"
                    f"<td>{html.escape(r.reason)}</td></tr>")
    heading = html.escape(batch_title(manifest))
    page = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>'
        f"{heading}: preview</title><style>body{{font-family:sans-serif;margin:2em}}"
        "td,th{padding:.3em .8em;text-align:left;border-bottom:1px solid #ddd}</style></head><body>"
        f"<h1>{heading}</h1><p>What <code>transcribe run {html.escape(manifest.path.name)}</code> would publish, "
        "work by work. Open a title to see its pages beside their OCR text.</p><table><tr><th>work</th><th>title</th>"
        "<th>pages</th><th>OCR'd</th><th>exported</th><th>failed</th><th>result</th><th>reason</th></tr>"
        + "".join(rows) + "</table></body></html>\n"
    )
    target = out_dir / "index.html"
    write_text(target, page)
    return target


def batch_title(manifest: Manifest) -> str:
    """What a batch is called to a person: its one work's title, or 'N works' and the institution they share."""
    entries = manifest.entries
    if len(entries) == 1:
        return entries[0].meta.title
    institutions = {e.meta.institution for e in entries}
    shared = institutions.pop() if len(institutions) == 1 else ""
    return f"{len(entries)} works" + (f" from {shared}" if shared else "")


def _meta_record(entry: Entry) -> dict[str, Any]:
    return {**entry.meta.to_dict(), "id": entry.id, "files_to": entry.files_to}


# -- one work -------------------------------------------------------------------------------------------------


def _run_work(manifest: Manifest, entry: Entry, work: Work, store: Store, options: RunOptions,
              executor: cf.Executor | None, remote: bool, progress: ProgressFn,
              trainer: _Trainer | None = None) -> WorkResult | _Learning:
    """Split, (learn,) read and publish or export one work; with `trainer`, a work with `learn_from` stops after
    its split and the start of its training: the caller finishes it with `_after_learning` when it is ready."""
    result = WorkResult(entry.id)
    t0 = time.monotonic()
    pages_dir = manifest.pages_dir(entry)
    # A run killed while writing leaves temporary '.part' files (never a half-written real file): drop them.
    remove_stale_parts(manifest.work_area / entry.id)
    if options.export_dir is not None:
        remove_stale_parts(Path(options.export_dir) / entry.id)
    with _one_work(store, work, result) as step:
        _start(store, work, step.stage)
        pages = _split(entry, pages_dir, store, work, options, _labelled(progress, "split"))
        result.pages = len(pages)
        _finish(store, work, step.stage, len(pages), len(pages))

        step.stage = "ocr"
        _start(store, work, step.stage)
        settings = _ocr_settings(entry, options)
        if entry.learn_from and settings.models:
            checked = checked_pages(pages_dir, entry.learn_from, entry.meta.wiki)
            if trainer is not None:
                future = trainer.submit(pages_dir, settings, checked, entry, work, options)
                return _Learning(entry, work, result, t0, future)
            settings, result.learned = _learn(pages_dir, settings, checked, entry, store, work, options,
                                              _labelled(progress, "ocr"))
        elif entry.learn_from:
            result.notes.append("no OCR model for this language, so nothing to learn from the checked pages")
        _read_and_output(manifest, entry, pages_dir, settings, store, work, options, executor, remote, result,
                         progress, step)
    result.seconds = round(time.monotonic() - t0, 2)
    return result


@dataclass
class _Learning:
    """A work split and waiting for its book model, learned in the background."""

    entry: Entry
    work: Work
    result: WorkResult
    t0: float  # when the work started (its time in the result includes the wait)
    future: cf.Future[tuple[Any, Any]]  # -> (settings, learn.BookModel)


def _after_learning(manifest: Manifest, learning: _Learning, store: Store, options: RunOptions,
                    executor: cf.Executor | None, remote: bool, progress: ProgressFn) -> WorkResult:
    """The rest of a work whose model was learned in the background: read it with what was learned, then publish
    or export it. A training that failed fails the work with its reason, as it would have without the thread."""
    result, work = learning.result, learning.work
    with _one_work(store, work, result) as step:
        step.stage = "ocr"
        settings, result.learned = learning.future.result()  # waits for a training still under way
        _read_and_output(manifest, learning.entry, manifest.pages_dir(learning.entry), settings, store, work,
                         options, executor, remote, result, progress, step)
    result.seconds = round(time.monotonic() - learning.t0, 2)
    return result


@dataclass
class _Step:
    stage: str = "split"  # the stage a work is in: the one a failure is recorded against


@contextlib.contextmanager
def _one_work(store: Store, work: Work, result: WorkResult) -> Iterator[_Step]:
    """A work's failure is recorded in its result and the state, and the batch goes on with the next work."""
    step = _Step()
    try:
        yield step
    except TranscribeError as e:  # PagesFailed too: the stage kept what it did; go on with the next work
        _fail(store, work, step.stage, str(e), result)
    except Exception as e:  # a bug met in one work must not cost the batch its other works
        log.info("work %s failed in %s", work.key, step.stage, exc_info=True)  # the traceback with --verbose
        _fail(store, work, step.stage, f"unexpected {type(e).__name__}: {e} (run with --verbose and report it)",
              result)


def _read_and_output(manifest: Manifest, entry: Entry, pages_dir: Path, settings: Any, store: Store, work: Work,
                     options: RunOptions, executor: cf.Executor | None, remote: bool, result: WorkResult,
                     progress: ProgressFn, step: _Step) -> None:
    """OCR (the 'ocr' stage has started), then bundle if needed, then export or publish."""
    step.stage = "ocr"
    summary = _ocr(pages_dir, settings, store, work, options, executor, remote, _labelled(progress, "ocr"))
    result.read_with, result.model_notes = summary.models, list(summary.notes)
    counts = ocr_counts(store, work.id)
    result.ocrd = counts["ocrd"]
    if summary.no_model:
        result.notes.append("no OCR model for this language: the pages are ready for typing")
    if summary.failed:
        result.failed += len(summary.failed)
        first = summary.failed[0]
        reason = f"OCR failed on {len(summary.failed)} page(s), e.g. page {first.n}: {first.reason}"
        result.notes.append(reason)
        _finish(store, work, step.stage, counts["ocrd"], result.pages, status="failed", reason=reason)
    else:
        _finish(store, work, step.stage, counts["ocrd"] + counts["no_model"], result.pages)

    scan = entry.scan
    if needs_bundle(entry):
        step.stage = "bundle"
        scan = _bundle(manifest, entry, pages_dir, store, work, _labelled(progress, "bundle"))

    # a IIIF scan without page labels of its own gets its canvas labels (kept by split): export and publish
    meta = replace(entry.meta, file_name=target_file_name(entry))
    if options.export_dir is not None:
        step.stage = "export"
        _start(store, work, step.stage)
        from transcribe.wiki.export import export_work

        report = export_work(scan, pages_dir, meta, Path(options.export_dir) / entry.id,
                             progress=_labelled(progress, "export"), store=store, work=work)
        result.output = report.pages
        result.notes += list(report.notes)
        _finish(store, work, step.stage, result.output, result.pages)
    else:
        step.stage = "publish"
        _publish_stage(entry, scan, pages_dir, meta, store, work, options, result.pages, result,
                       _labelled(progress, "publish"))
    result.status = "partial" if result.failed else "done"
    result.reason = "; ".join(result.notes if result.failed else [])


def _fail(store: Store, work: Work, stage: str, reason: str, result: WorkResult) -> None:
    log.info("work %s failed in %s: %s", work.key, stage, reason)
    _set_stage(store, work, stage, "failed", reason=reason)
    result.status, result.stage, result.reason = "failed", stage, f"{stage}: {reason}"


def _labelled(progress: ProgressFn, stage: str) -> ProgressFn:
    """One bar per stage: the stages' own labels ('images', 'text') become 'bundle', 'bundle text'..."""

    def report(label: str, done: int, total: int) -> None:
        progress(stage if label in (stage, "pages", "images") else f"{stage} {label}", done, total)

    return report


# -- the stages -----------------------------------------------------------------------------------------------


def _split(entry: Entry, pages_dir: Path, store: Store, work: Work, options: RunOptions,
           progress: ProgressFn) -> list[Any]:
    from transcribe.split import split

    # --jobs is CPU cores; a IIIF manifest's images come a few at a time (split's own polite default), whatever it says
    return split(entry.source, pages_dir, dpi=options.dpi, jobs=None if entry.address else options.jobs,
                 store=store, work=work,
                 progress=progress)


def _ocr_settings(entry: Entry, options: RunOptions) -> Any:
    from transcribe.ocr import OcrSettings

    tessdata = str(options.tessdata_dir) if options.tessdata_dir else None
    models = _models(entry.meta.language, entry.meta.models or None, options.tessdata_dir)
    return OcrSettings(models=models, tessdata_dir=tessdata, method=options.ocr_method)


def _learn(pages_dir: Path, settings: Any, checked: dict[int, tuple[str, str]], entry: Entry, store: Store,
           work: Work, options: RunOptions, progress: ProgressFn) -> tuple[Any, Any]:
    """The settings the rest of the book is read with and the learn.BookModel (learn_book records it, so a re-run
    does not train again)."""
    from transcribe.ocr import learn_from_checked

    return learn_from_checked(pages_dir, settings, checked, source=str(entry.learn_from), store=store, work=work,
                              minutes=entry.learn_minutes, jobs=options.jobs, progress=progress)


def _ocr(pages_dir: Path, settings: Any, store: Store, work: Work, options: RunOptions,
         executor: cf.Executor | None, remote: bool, progress: ProgressFn) -> Any:
    from transcribe.ocr import ocr_pages

    return ocr_pages(pages_dir, settings, store=store, work=work, jobs=options.jobs, executor=executor,
                     send_images=remote, progress=progress)


def checked_pages(pages_dir: Path, source: str, wiki: str | None) -> dict[int, tuple[str, str]]:
    """Page number -> (name, checked text): a folder of X.gt.txt named after the page images, or the level 3/4
    pages of "Index:NAME" on `wiki` (read without logging in)."""
    from transcribe.ocr import learn as learning
    from transcribe.split import read_pages

    if source.startswith("Index:"):
        from transcribe.wiki.site import connect

        if not wiki:
            raise UsageError(f"learn_from {source!r} names an Index page, but the work has no wiki.",
                             hint="Add 'wiki' to the work or to [defaults], or pass --wiki.")
        return learning.checked_pages_from_wiki(connect(wiki, login=False), source)
    stems = {Path(p.image).stem: p.n for p in read_pages(pages_dir)}
    return learning.checked_pages_from_dir(Path(source), stems)


@functools.lru_cache(maxsize=64)
def _models(lang: str, models: str | None, tessdata_dir: Path | None) -> str | None:
    # asks Tesseract which models it has: once per distinct setting, not once per work of a long batch
    from transcribe.langs import resolve_models

    return resolve_models(lang, models, tessdata_dir)


def needs_bundle(entry: Entry) -> bool:
    """A wiki pages through PDF and DjVu files only: anything else (a IIIF manifest too) is bundled into one."""
    return entry.address is not None or entry.scan_is_folder or entry.scan.suffix.lower() not in (".pdf", ".djvu", ".djv")


def _bundle(manifest: Manifest, entry: Entry, pages_dir: Path, store: Store, work: Work,
            progress: ProgressFn) -> Path:
    """The PDF of a folder-of-images work, remade only when a page image or its OCR changed."""
    from transcribe.bundle import bundle

    out = manifest.work_area / entry.id / target_file_name(entry)
    key = _bundle_key(store, work, entry)
    row = store.stages(work.id).get("bundle")
    if row is not None and row["status"] == "done" and row["key"] == key and out.is_file():
        return out
    _start(store, work, "bundle")
    result = bundle(pages_dir, out, title=entry.meta.title, author=entry.meta.author or None,
                    lang=entry.meta.language, progress=progress)
    _finish(store, work, "bundle", result.pages_with_text, result.pages, key=key)
    return out


def _bundle_key(store: Store, work: Work, entry: Entry) -> str:
    h = hashlib.sha1()
    for r in store.query("SELECT n, sha1 FROM pages WHERE work_id = ? ORDER BY n", (work.id,)):
        h.update(f"p{r['n']}:{r['sha1']};".encode())
    for r in store.query("SELECT n, key, status FROM ocr WHERE work_id = ? ORDER BY n", (work.id,)):
        h.update(f"o{r['n']}:{r['key']}:{r['status']};".encode())
    h.update(json.dumps([entry.meta.title, entry.meta.author, entry.meta.language, target_file_name(entry)])
             .encode())
    return h.hexdigest()


def _publish_stage(entry: Entry, scan: Path, pages_dir: Path, meta: Any, store: Store, work: Work,
                   options: RunOptions, total: int, result: WorkResult, progress: ProgressFn) -> None:
    from transcribe.wiki.publish import publish_work

    if not meta.wiki:
        raise UsageError(f"The work '{entry.id}' has no target wiki.",
                         hint="Add a 'wiki' field to it or to [defaults], pass --wiki, or use --export DIR.")
    if not options.dry_run:
        _start(store, work, "publish")
    report = publish_work(scan, pages_dir, meta, _connect(meta.wiki, options.dry_run), store=store, work=work,
                          files_to=entry.files_to, update_ocr=options.update_ocr, dry_run=options.dry_run,
                          progress=progress)
    result.notes += report.notes
    by_status: dict[str, int] = {}
    for o in report.outcomes:
        if o.n is not None:
            by_status[o.status] = by_status.get(o.status, 0) + 1
    if options.dry_run:  # nothing was written: say what would be, record nothing
        if meta.wiki in _unreadable:  # say so: "5 would be created" means little if the wiki was not asked
            why = _unreadable[meta.wiki].rstrip(".")
            result.notes.append(f"dry run: {meta.wiki} could not be read ({why}), so this lists what would be "
                                "sent if nothing existed there yet")
        result.notes.append("dry run: " + ", ".join(f"{k} would be {v}" for v, k in sorted(by_status.items())))
        result.output = by_status.get("created", 0) + by_status.get("updated", 0)  # pages that would be written
        return
    result.output = published_count(store, work.id)
    skipped = [o for o in report.outcomes if o.n is not None and o.status == "skipped"]
    if skipped:  # pages people edited, pages without OCR text: left as they are, on purpose
        result.notes.append(f"{len(skipped)} page(s) not written, e.g. page {skipped[0].n}: {skipped[0].reason}")
    failed = report.failed
    result.failed += len(failed)
    if failed:
        first = failed[0]
        reason = (f"{len(failed)} page(s) could not be written to the wiki, e.g. "
                  f"{first.title}: {first.reason or 'refused'}")
        result.notes.append(reason)
        _finish(store, work, "publish", result.output, total, status="failed", reason=reason)
    else:
        _finish(store, work, "publish", result.output, total)


_connections: dict[tuple[str, bool], Any] = {}
_unreadable: dict[str, str] = {}  # wiki -> why a dry run could not read it


def _connect(wiki: str, dry_run: bool) -> Any:
    """One connection (and one login) per wiki for the whole batch; a dry run may go on without the wiki."""
    from transcribe.errors import WikiError
    from transcribe.wiki.site import connect

    key = (wiki, dry_run)
    if key not in _connections:
        try:
            _connections[key] = connect(wiki, login=not dry_run)
        except WikiError as e:
            if not dry_run:
                raise
            _connections[key] = None  # publish lists what it would send as if nothing existed yet
            _unreadable[wiki] = e.message
    return _connections[key]


# -- the OCR executor -----------------------------------------------------------------------------------------


@contextlib.contextmanager
def _ocr_executor(options: RunOptions) -> Iterator[tuple[cf.Executor | None, bool]]:
    """(executor, remote): None = the OCR stage's own local pool; a Dask cluster's executor with --scheduler.

    Dask workers may run on other machines, so they are sent the page images' bytes (remote=True), and they
    return text; only this process writes files and state.
    """
    if not options.scheduler:
        yield None, False
        return
    try:
        from distributed import Client
    except ImportError as e:
        raise MissingProgram(f"--scheduler needs Dask, which is not installed ({e.name}).", hint=DASK_HINT) from e
    try:
        _reachable(options.scheduler)  # a wrong address fails at once, not after the client's long retries
        client = Client(options.scheduler, timeout="30s")
    except (OSError, TimeoutError, ValueError) as e:
        raise UsageError(
            f"Could not reach the Dask scheduler at {options.scheduler} ({e}).",
            hint="Check the address (like tcp://host:8786) and that 'dask scheduler' runs there; "
                 "or leave out --scheduler to OCR on this machine.",
        ) from e
    try:
        yield client.get_executor(), True
    finally:
        client.close()


def _reachable(address: str) -> None:
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if not parts.hostname or not parts.port:
        raise ValueError("the address needs a host and a port")
    socket.create_connection((parts.hostname, parts.port), timeout=10).close()


# -- learning in the background (--learn-in-background) -------------------------------------------------------


class _Stopped(BaseException):
    """The run was interrupted: a training under way stops (a BaseException, so that nothing on the way takes it
    for a failure of the book's pages)."""


class _Trainer:
    """Book models learned one at a time in a worker thread while the batch goes on with the next works.

    The thread opens its own connection to the state file (an sqlite3 connection belongs to the thread that made
    it); learn.py writes the book model in one short transaction, waiting (busy timeout) for the main thread's.
    lstmtraining runs under `nice` (ocr/train.py), so the other works' OCR comes first on a busy machine.
    """

    def __init__(self, state_path: Path, progress: ProgressFn) -> None:
        self._state_path = state_path
        self._pool = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="transcribe-learn")
        self._stop = threading.Event()
        lock = threading.Lock()

        def report(label: str, done: int, total: int) -> None:  # the bars are drawn from two threads
            with lock:
                progress(label, done, total)

        self.progress: ProgressFn = report

    def submit(self, pages_dir: Path, settings: Any, checked: dict[int, tuple[str, str]], entry: Entry, work: Work,
               options: RunOptions) -> cf.Future[tuple[Any, Any]]:
        """Start learning the work's model (after the ones before it); the future gives (settings, BookModel)."""
        return self._pool.submit(self._learn, pages_dir, settings, checked, entry, work, options)

    def _learn(self, pages_dir: Path, settings: Any, checked: dict[int, tuple[str, str]], entry: Entry, work: Work,
               options: RunOptions) -> tuple[Any, Any]:
        if self._stop.is_set():
            raise _Stopped
        with Store(self._state_path) as store:  # this thread's own connection to the same file
            return _learn(pages_dir, settings, checked, entry, store, work, options,
                          self._watched(_labelled(self.progress, "ocr")))

    def _watched(self, progress: ProgressFn) -> ProgressFn:
        """Progress reports are where an interrupted run stops the training: learning calls them every half
        second while lstmtraining runs, and train.py kills lstmtraining when one raises (its checkpoint is kept,
        and learn.py records nothing, so the next run finishes the training)."""

        def report(label: str, done: int, total: int) -> None:
            if self._stop.is_set():
                raise _Stopped
            progress(label, done, total)

        return report

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def _trainer(options: RunOptions, state_path: Path, progress: ProgressFn) -> Iterator[_Trainer | None]:
    """A _Trainer with --learn-in-background, else None. When the run ends early (Ctrl-C), the training under way
    is stopped and waited for, so that nothing writes the state after the run has let go of its lock."""
    if not options.learn_in_background:
        yield None
        return
    trainer = _Trainer(state_path, progress)
    try:
        yield trainer
    except BaseException:
        trainer.stop()
        raise
    finally:
        trainer.close()


# -- the state of each stage ----------------------------------------------------------------------------------


def _start(store: Store, work: Work, stage: str) -> None:
    # 'pending' while a stage runs: if the process dies here, `status` shows where it stopped.
    _set_stage(store, work, stage, "pending")


def _finish(store: Store, work: Work, stage: str, done: int, total: int, *, status: str = "done",
            reason: str | None = None, key: str | None = None) -> None:
    _set_stage(store, work, stage, status, reason=reason, key=key, done=done, total=total)


def _set_stage(store: Store, work: Work, stage: str, status: str, *, reason: str | None = None,
               key: str | None = None, done: int | None = None, total: int | None = None) -> None:
    with store.tx() as c:
        row = c.execute("SELECT key, done, total FROM stages WHERE work_id = ? AND stage = ?",
                        (work.id, stage)).fetchone()
        if row is not None:  # a stage starting or failing keeps the counts and key it had
            key = key if key is not None else row["key"]
            done = done if done is not None else row["done"]
            total = total if total is not None else row["total"]
        c.execute(
            "INSERT INTO stages (work_id, stage, status, reason, key, done, total) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (work_id, stage) DO UPDATE SET status = excluded.status, reason = excluded.reason,"
            " key = excluded.key, done = excluded.done, total = excluded.total,"
            " updated = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
            (work.id, stage, status, reason, key, done, total),
        )


# -- reading the state (status) -------------------------------------------------------------------------------


def ocr_counts(store: Store, work_id: int) -> dict[str, int]:
    rows = store.query("SELECT status, COUNT(*) AS k FROM ocr WHERE work_id = ? GROUP BY status", (work_id,))
    by = {r["status"]: r["k"] for r in rows}
    return {"ocrd": by.get("done", 0) + by.get("blank", 0), "failed": by.get("failed", 0),
            "no_model": by.get("no-model", 0)}


def published_count(store: Store, work_id: int) -> int:
    row = store.query(
        "SELECT COUNT(DISTINCT n) AS k FROM edits WHERE work_id = ? AND n IS NOT NULL"
        " AND status IN ('created', 'updated', 'unchanged')", (work_id,))
    return int(row[0]["k"]) if row else 0


@dataclass
class WorkStatus:
    id: str
    title: str
    pages: int
    ocrd: int
    published: int
    exported: int
    failed: int
    state: str  # 'done', 'failed', 'partial', 'stopped', 'not started'
    stage: str  # the last stage reached
    reason: str
    source: str = ""  # where the work came from: its IIIF manifest's address, else its scan as the manifest names it

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def batch_status(state_path: Path) -> tuple[list[WorkStatus], bool]:
    """Where each work of a batch stands, from its state file alone; and whether a run holds it right now."""
    from transcribe.errors import Locked

    with Store(state_path) as store:
        running = False
        try:
            store.acquire_lock()
        except Locked:
            running = True
        out: list[WorkStatus] = []
        for work in store.works():
            pages = int(store.query("SELECT COUNT(*) AS k FROM pages WHERE work_id = ?", (work.id,))[0]["k"])
            counts = ocr_counts(store, work.id)
            stages = store.stages(work.id)
            published = published_count(store, work.id)
            failed_edits = int(store.query(
                "SELECT COUNT(*) AS k FROM edits WHERE work_id = ? AND n IS NOT NULL AND status = 'failed'",
                (work.id,))[0]["k"])
            exported = (stages["export"]["done"] or 0) if "export" in stages else 0
            reached = [s for s in STAGES if s in stages]
            last = max(reached, key=lambda s: (stages[s]["updated"], STAGES.index(s))) if reached else ""
            failed_stage = next((s for s in reached if stages[s]["status"] == "failed"), None)
            pending_stage = next((s for s in reached if stages[s]["status"] == "pending"), None)
            if not reached:
                state, reason = "not started", ""
            elif pending_stage:
                state = "running" if running else "stopped"
                reason = f"{pending_stage} was interrupted; run again to continue" if not running else ""
                last = pending_stage
            elif failed_stage:
                row = stages[failed_stage]
                some = (row["done"] or 0) > 0 and failed_stage in ("ocr", "publish")
                state, last, reason = ("partial" if some else "failed"), failed_stage, row["reason"] or ""
            elif "export" in stages or "publish" in stages:
                state, reason = "done", ""
            else:
                state, reason = "stopped", f"stopped after {last}; run again to continue"
            out.append(WorkStatus(
                id=work.key, title=str(work.meta.get("title", "")), pages=pages, ocrd=counts["ocrd"],
                published=published, exported=exported, failed=counts["failed"] + failed_edits, state=state,
                stage=last, reason=reason,
                source=str(work.meta.get("iiif_manifest") or work.meta.get("scan") or work.scan or ""),
            ))
        return out, running
