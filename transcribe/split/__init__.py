"""Scan -> one image per page, numbered as Wikisource numbers them (`Page:<file>/n`, n = position in the file).

Inputs: a PDF (poppler), a DjVu (djvulibre), a multi-page TIFF, a single image, a folder of images (natural
order), a ZIP of images, or a IIIF manifest (its canvases' images fetched: `split/iiif.py`; page n = canvas n,
canvases without an image are gaps in the numbering). Output: `DIR/0001.png ...` (`0001.jpg` for JPEG data) and the record `DIR/pages.json` (see docs/design.md).

How a page is made, best first:
- a PDF page that paints one embedded image covering the page and nothing else visible is *extracted*: its
  pixels are taken as stored, at their native resolution (a Flate image is even wrapped into a PNG without
  decoding, see `split/pdf.py`); any other PDF page is *rendered* with pdftoppm at `dpi`;
- a DjVu page is *decoded* by ddjvu at the page's own resolution;
- an image (alone, in a folder, in a ZIP, a TIFF frame) is *converted* to the output format without loss, or
  *copied* as it is when it already is a PNG (or TIFF) of the wanted kind, or (format 'auto', the default) a
  baseline JPEG: JPEG data stays JPEG, so a book's PDF is not ten times its scans;
- a JPEG-compressed TIFF frame is *joined* into one JPEG file without decoding (`split/jpeg.py`), when its
  strips allow it and the result decodes to the same pixels; otherwise it is converted.

The work is shared out: `split/inputs.py` says what a scan is and lists its pages, `split/pages.py` makes one
page's image (the unit of work, run in threads), `split/pdf.py` knows PDFs, `split/tools.py` runs programs; this
module runs the stage and keeps the record.

Resuming: each finished page is appended to a small journal (`.split-journal.jsonl`) with a key made of the
scan's SHA-1, the page number and the settings. A run that was killed skips the pages whose key and image file
still match; a changed scan redoes its pages but rewrites only the images whose pixels changed, so their SHA-1
(and so the OCR stage's work) changes only for those. `pages.json` is written at the end, even after an error.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

from transcribe.errors import InputError, UsageError
from transcribe.events import ProgressFn
from transcribe.fsutil import sha1_file, write_text
from transcribe.split import iiif as _iiif
from transcribe.split import pdf as _pdf
from transcribe.split.inputs import (
    IMAGE_SUFFIXES,
    Scan,
    SourcePage,
    inspect_scan,
    is_address,
    natural_key,
    parse_page_spec,
)
from transcribe.split.inputs import inspect as _inspect
from transcribe.split.pages import (
    FORMATS,
    Job,
    Made,
    Settings,
    dpi_of,
    make_page,
    open_image,
    pixel_limit,
)
from transcribe.store import Store, Work

__all__ = ["PageImage", "inspect_scan", "natural_key", "parse_page_spec", "read_labels", "read_lacunae",
           "read_pages", "split", "summary_counts"]

log = logging.getLogger(__name__)

PAGES_JSON = "pages.json"
JOURNAL = ".split-journal.jsonl"
SCRATCH = ".split-tmp"

NoteFn = Callable[[str], None]


@dataclass(frozen=True)
class PageImage:
    """Page n of the scan, as an image file in the pages folder."""

    n: int  # 1-based position in the scan = the n of Page:<file>/n
    image: str  # file name, relative to the pages folder
    source: str  # where it came from: 'book.pdf#page=3', 'scans/0003.tif', 'book.zip#p3.png'
    width: int
    height: int
    dpi: int | None
    sha1: str  # of the image file
    method: str = ""  # 'extracted', 'rendered', 'decoded', 'converted', 'copied', 'joined' (JPEG-in-TIFF)
    #                   or 'downloaded' (a IIIF image kept as the server sent it)


# -- the record: pages.json, the journal, the state ----------------------------------------------------------------
def page_key(page: SourcePage, settings: Settings) -> str:
    """What page n's image depends on: the bytes it is made from, its position and the settings."""
    return hashlib.sha1(f"{page.fingerprint}|{page.n}|{page.source}|{settings.key_part()}".encode()).hexdigest()


def _load_json_record(out_dir: Path) -> dict[str, Any]:
    path = out_dir / PAGES_JSON
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(f"{path} is damaged ({e}).",
                         hint="Delete it and run 'transcribe split' again: the pages are remade.") from e
    if not isinstance(data, dict) or not isinstance(data.get("pages"), list):
        raise InputError(f"{path} is not a pages record made by 'transcribe split'.",
                         hint="Delete it and run 'transcribe split' again.")
    return data


def _previous(out_dir: Path) -> dict[int, dict[str, Any]]:
    """Pages recorded by earlier runs, newest last: pages.json, then the journal of an interrupted run."""
    entries: dict[int, dict[str, Any]] = {}
    with contextlib.suppress(InputError):
        for rec in _load_json_record(out_dir).get("pages", []):
            if isinstance(rec, dict) and isinstance(rec.get("n"), int):
                entries[rec["n"]] = rec
    journal = out_dir / JOURNAL
    if journal.is_file():
        for line in journal.read_text(encoding="utf-8", errors="replace").splitlines():
            with contextlib.suppress(ValueError, TypeError):  # a line cut short by a kill is ignored
                rec = json.loads(line)
                entries[int(rec["n"])] = rec
    return entries


def _still_good(rec: dict[str, Any] | None, key: str, out_dir: Path) -> bool:
    if not rec or rec.get("key") != key:
        return False
    path = out_dir / str(rec.get("image", ""))
    return path.is_file() and sha1_file(path) == rec.get("sha1")


def _page_from(rec: dict[str, Any]) -> PageImage:
    return PageImage(n=int(rec["n"]), image=str(rec["image"]), source=str(rec["source"]),
                     width=int(rec["width"]), height=int(rec["height"]),
                     dpi=int(rec["dpi"]) if rec.get("dpi") else None, sha1=str(rec["sha1"]),
                     method=str(rec.get("method", "")))


def _install(made: Made, target: Path, got: _iiif.Got | None = None) -> str:
    """Move a finished image over `target`, unless `target` already holds the same bytes; return its SHA-1.

    `got`: a downloaded image kept as it came (download.fetch hashed and fsynced it already)."""
    tmp = Path(made.tmp)
    kept_as_fetched = got is not None and made.method == "downloaded"
    digest = got.sha1 if got is not None and kept_as_fetched else sha1_file(tmp)
    if target.is_file() and sha1_file(target) == digest:
        tmp.unlink()  # unchanged: keep the old file (and its date), so nothing downstream is redone
        return digest
    if not kept_as_fetched:
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
    os.replace(tmp, target)
    return digest


_UPSERT = (
    "INSERT INTO pages (work_id, n, image, source, width, height, dpi, sha1) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (work_id, n) DO UPDATE SET image = excluded.image, source = excluded.source,"
    " width = excluded.width, height = excluded.height, dpi = excluded.dpi, sha1 = excluded.sha1")


def _record_in_store(store: Store, work: Work, page: PageImage) -> None:
    with store.tx() as c:
        c.execute(_UPSERT, (work.id, page.n, page.image, page.source, page.width, page.height, page.dpi, page.sha1))


def _keep(made: Made, target: Path, p: SourcePage, key: str, journal: TextIO, store: Store | None,
          work: Work | None, got: _iiif.Got | None = None) -> PageImage:
    """Put a finished page in place and record it: journal first (for a resume), then the state."""
    digest = _install(made, target, got)
    page = PageImage(p.n, target.name, p.source, made.width, made.height, made.dpi, digest, made.method)
    if got is not None and store is not None and work is not None:  # first: the image is never asked again
        _iiif.record_image(store, work, p, got, page.image, page.sha1, key)
    journal.write(json.dumps({**asdict(page), "key": key}, sort_keys=True) + "\n")
    journal.flush()
    if got is None:
        # A downloaded page needs no fsync here: a resume checks every recorded page's SHA-1 against its file, so
        # a line lost to a power cut only means that page is fetched again (fsync costs ~15 ms a page).
        os.fsync(journal.fileno())
    if store is not None and work is not None:
        _record_in_store(store, work, page)
    return page


# -- the stage -----------------------------------------------------------------------------------------------------
def split(scan: Path | str, out_dir: Path, *, pages: str | None = None, dpi: int = 300, fmt: str = "auto",
          gray: bool = False, jobs: int | None = None, store: Store | None = None, work: Work | None = None,
          progress: ProgressFn | None = None, note: NoteFn | None = None,
          max_pixels: int | None = None, info: Scan | None = None) -> list[PageImage]:
    """Split `scan` into one image per page in `out_dir`; return every page now recorded there, by n.

    `pages` picks some pages ('5-20', '3,7,9-12'); `dpi` is for rendered PDF pages only (extracted images and
    DjVu pages keep their own resolution); `fmt` is 'auto' (JPEG data kept as
    .jpg pages, everything else PNG), 'png' or 'tiff' (every page converted); `gray` turns colour pages grey;
    `max_pixels` overrides Pillow's decompression-bomb limit (0: none). `note(text)` receives remarks for the
    user (ignored files, pages kept from an earlier run). `info`: what `inspect_scan(scan, skip=out_dir)`
    already found, so that a caller who looked first does not make the scan be read and hashed twice.
    Resumable: see the module's docstring.
    """
    with pixel_limit(max_pixels):
        return _split(scan if is_address(scan) else Path(scan), Path(out_dir), pages=pages, dpi=dpi, fmt=fmt, gray=gray, jobs=jobs, store=store,
                      work=work, progress=progress, note=note, max_pixels=max_pixels, info=info)


def _split(scan: Path | str, out_dir: Path, *, pages: str | None, dpi: int, fmt: str, gray: bool, jobs: int | None,
           store: Store | None, work: Work | None, progress: ProgressFn | None, note: NoteFn | None,
           max_pixels: int | None, info: Scan | None) -> list[PageImage]:
    if fmt not in FORMATS:
        raise UsageError(f"--format '{fmt}' is not supported: use auto, png or tiff.")
    if not 30 <= dpi <= 1200:
        raise UsageError(f"--dpi {dpi} is out of range: use a value between 30 and 1200 (300 suits OCR).")
    say = note or (lambda text: None)
    info = info or _inspect(scan, skip=out_dir)
    if info.kind == "folder" and out_dir.resolve() == Path(scan).resolve():
        raise UsageError("The output folder must not be the folder of page images itself.",
                         hint="Choose another folder with -o.")
    for text in info.notes:
        say(text)
    count = len(info.pages)
    wanted = parse_page_spec(pages, count, info.name)
    settings = Settings(dpi=dpi, fmt=fmt, gray=gray, max_pixels=max_pixels)
    width = max(4, len(str(count)))

    previous = _previous(out_dir) if out_dir.is_dir() else {}
    keys = {p.n: page_key(p, settings) for p in info.pages}
    done: dict[int, PageImage] = {}
    # Pages of the same scan and settings outside --pages stay; pages of another scan or settings go.
    for n, rec in previous.items():
        if n <= count and _still_good(rec, keys[n], out_dir):
            done[n] = _page_from(rec)
    gaps = [n for n in wanted if info.pages[n - 1].kind == _iiif.LACUNA]  # canvases without an image
    if info.kind == _iiif.KIND and store is not None and work is not None:
        _iiif.remember(store, work, info, out_dir, done, keys)  # journalled by a killed run, not yet recorded
        done.update(_iiif.known_pages(store, work, info, out_dir, [n for n in wanted if n not in done], keys))
    todo = [info.pages[n - 1] for n in wanted if n not in done and n not in gaps]
    kept = len(wanted) - len(todo) - len(gaps)
    plans = _pdf.plan_pages(Path(scan), [p.n for p in todo]) if info.kind == "pdf" else {}
    if kept:
        say(f"{kept} page(s) were already split from this scan with the same settings and were kept.")

    out_dir.mkdir(parents=True, exist_ok=True)
    scratch = out_dir / SCRATCH
    shutil.rmtree(scratch, ignore_errors=True)  # left by a killed run
    scratch.mkdir()
    if store is not None and work is None:
        work = store.work(".", scan=info.location)

    report = progress or (lambda label, d, t: None)
    label = "download" if info.kind == _iiif.KIND else "split"
    total, finished = len(wanted) - len(gaps), kept
    report(label, finished, total)
    error: BaseException | None = None
    failed: dict[int, str] = {}  # pages that could not be had (IIIF): they fail alone
    make = info.maker or make_page
    workers = jobs or (_iiif.JOBS if info.kind == _iiif.KIND else os.cpu_count() or 1)
    if isinstance(info.maker, _iiif.Fetcher):
        workers = info.maker.at_once(workers)  # `jobs` image requests at a time, and threads to check them
    pool = cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="split")
    try:
        with open(out_dir / JOURNAL, "a", encoding="utf-8") as journal:
            futures = {pool.submit(make, Job(p, str(scratch), settings, plans.get(p.n))): p for p in todo}
            for future in cf.as_completed(futures):
                p = futures[future]
                try:
                    made = future.result()
                except _iiif.PageUnavailable as e:
                    failed[p.n] = e.reason
                    continue
                except BaseException as e:  # noqa: BLE001 - the first failure stops the run, raised below
                    error = error or e
                    for other in futures:
                        other.cancel()
                    continue
                # The extension is the page's own: .jpg for JPEG data kept as it is, else the --format's.
                got = info.maker.got.pop(p.n, None) if isinstance(info.maker, _iiif.Fetcher) else None
                page = _keep(made, out_dir / f"{p.n:0{width}d}{Path(made.tmp).suffix}", p, keys[p.n], journal,
                             store, work, got)
                done[p.n] = page
                finished += 1
                report(label, finished, total)
    except BaseException as e:  # noqa: BLE001 - Ctrl-C while waiting: the pages finished so far are kept
        error = error or e
    finally:
        # Let running pages end (each is one short program run), drop the others, then write the record.
        pool.shutdown(wait=True, cancel_futures=True)
        complete = error is None and all(n in done for n in wanted if n not in gaps)
        result = _finish(out_dir, info, done, keys, count, previous, store, work, complete=complete,
                         failed=failed)
        shutil.rmtree(scratch, ignore_errors=True)
        with contextlib.suppress(OSError):
            (out_dir / _iiif.DOWNLOADS).rmdir()  # only when empty: an image fetched in full but not yet kept stays
    if error is not None:
        raise error
    if failed:
        raise _iiif.pages_failed(info, failed, total)
    return result


def _finish(out_dir: Path, info: Scan, done: dict[int, PageImage], keys: dict[int, str], count: int,
            previous: dict[int, dict[str, Any]], store: Store | None, work: Work | None, *,
            complete: bool, failed: dict[int, str] | None = None) -> list[PageImage]:
    """Write pages.json, remove images of pages that no longer exist (or changed format), drop the journal."""
    pages = [done[n] for n in sorted(done)]
    keep = {p.image for p in pages}
    for n, rec in previous.items():
        image = str(rec.get("image", ""))
        if image and image not in keep and "/" not in image and (n not in done or done[n].image != image):
            (out_dir / image).unlink(missing_ok=True)
    record: dict[str, Any] = {
        "scan": info.location,
        "scan_kind": info.kind,
        "scan_pages": count,
        "complete": complete,
        "pages": [{**asdict(p), "key": keys[p.n]} for p in pages],
    }
    lacunae = [p.n for p in info.pages if p.kind == _iiif.LACUNA]
    if lacunae:  # canvases without an image: no page n, so the numbering keeps the canvases' positions
        record["lacunae"] = lacunae
    if isinstance(info.maker, _iiif.Fetcher):  # the canvas labels, so that publish needs no second fetch
        record["labels"] = [c.label for c in info.maker.pres.canvases]
    if failed:
        record["failed"] = {str(n): reason for n, reason in sorted(failed.items())}
    write_text(out_dir / PAGES_JSON, json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    (out_dir / JOURNAL).unlink(missing_ok=True)
    if store is not None and work is not None:
        with store.tx() as c:
            c.execute(f"DELETE FROM pages WHERE work_id = ? AND n NOT IN ({','.join('?' * len(pages)) or 'NULL'})",
                      (work.id, *[p.n for p in pages]))
            c.executemany(_UPSERT, [(work.id, p.n, p.image, p.source, p.width, p.height, p.dpi, p.sha1)
                                    for p in pages])
    return pages


def read_pages(pages_dir: Path) -> list[PageImage]:
    """The pages of a pages folder: from `pages.json`, or else its images in natural order (n = position)."""
    pages_dir = Path(pages_dir)
    if not pages_dir.is_dir():
        raise InputError(f"The pages folder {pages_dir} does not exist.",
                         hint=f"Make it with: transcribe split SCAN -o {pages_dir}")
    data = _load_json_record(pages_dir)
    if data:
        return [_page_from(rec) for rec in sorted(data["pages"], key=lambda r: int(r["n"]))]
    images = sorted((p for p in pages_dir.iterdir()
                     if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES),
                    key=lambda p: natural_key(p.name))
    if not images:
        raise InputError(f"The folder {pages_dir} holds no page images.",
                         hint=f"Make them with: transcribe split SCAN -o {pages_dir}")
    result = []
    for n, path in enumerate(images, 1):
        with open_image(path, path.name) as im:
            result.append(PageImage(n, path.name, path.name, im.width, im.height, dpi_of(im), sha1_file(path)))
    return result


def read_lacunae(pages_dir: Path) -> list[int]:
    """The lacunae (IIIF canvases without an image) that are pages of the book: page n = canvas n, so every lacuna
    before the last page image is one, and those after it too when the record holds every canvas."""
    data = _load_json_record(Path(pages_dir))
    gaps = sorted({int(n) for n in data.get("lacunae") or []})
    if not gaps:
        return []
    have = {int(r["n"]) for r in data["pages"]}
    last = max(have, default=0)
    if have | set(gaps) >= set(range(1, int(data.get("scan_pages") or 0) + 1)):
        last = max(last, gaps[-1])  # the whole manifest was split: lacunae at its end are pages too
    return [n for n in gaps if n <= last]


def read_labels(pages_dir: Path) -> list[str | None] | None:
    """The scan's own label of each page (IIIF canvas labels, labels[n-1] for page n); None when it has none."""
    labels = _load_json_record(Path(pages_dir)).get("labels")
    return [None if lb is None else str(lb) for lb in labels] if isinstance(labels, list) else None


def summary_counts(pages: Iterable[PageImage]) -> dict[str, int]:
    """How many pages were made each way ('extracted', 'rendered', ...), for the closing line."""
    counts: dict[str, int] = {}
    for p in pages:
        counts[p.method or "kept"] = counts.get(p.method or "kept", 0) + 1
    return counts
