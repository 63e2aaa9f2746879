"""Scan -> one image per page, numbered as Wikisource numbers them (`Page:<file>/n`, n = position in the file).

Inputs: a PDF (poppler), a DjVu (djvulibre), a multi-page TIFF, a single image, a folder of images (natural
order) or a ZIP of images. Output: `DIR/0001.png ...` and the record `DIR/pages.json` (see docs/design.md).

How a page is made, best first:
- a PDF page that paints one embedded image covering the page and nothing else visible is *extracted*: its
  pixels are taken as stored, at their native resolution (a Flate image is even wrapped into a PNG without
  decoding, see `split_pdf.py`); any other PDF page is *rendered* with pdftoppm at `dpi`;
- a DjVu page is *decoded* by ddjvu at the page's own resolution;
- an image (alone, in a folder, in a ZIP, a TIFF frame) is *converted* to the output format without loss, or
  *copied* as it is when it already is a PNG (or TIFF) of the wanted kind.

Resuming: each finished page is appended to a small journal (`.split-journal.jsonl`) with a key made of the
scan's SHA-1, the page number and the settings. A run that was killed skips the pages whose key and image file
still match; a changed scan redoes its pages but rewrites only the images whose pixels changed, so their SHA-1
(and so the OCR stage's work) changes only for those. `pages.json` is written at the end, even after an error.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import hashlib
import io
import json
import logging
import os
import re
import shutil
import stat
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from PIL import Image

from transcribe import split_pdf as _pdf
from transcribe.errors import InputError, UsageError
from transcribe.events import ProgressFn
from transcribe.fsutil import sha1_file, write_text
from transcribe.split_tools import need, run
from transcribe.store import Store, Work

log = logging.getLogger(__name__)

PAGES_JSON = "pages.json"
JOURNAL = ".split-journal.jsonl"
SCRATCH = ".split-tmp"
FORMATS = ("png", "tiff")
EXTENSIONS = {"png": ".png", "tiff": ".tif"}
IMAGE_SUFFIXES = {".png", ".tif", ".tiff", ".jpg", ".jpeg", ".jp2", ".j2k", ".bmp", ".gif", ".webp",
                  ".pbm", ".pgm", ".ppm", ".pnm"}
# Bump when the output of a page changes for the same input and settings, so old pages are redone.
SPLIT_VERSION = 1

NoteFn = Callable[[str], None]

# We check Image.MAX_IMAGE_PIXELS ourselves before decoding and raise a clear InputError; Pillow's own warning
# (between 1x and 2x the limit) would only repeat it in programmer's words.
warnings.simplefilter("ignore", Image.DecompressionBombWarning)


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
    method: str = ""  # 'extracted', 'rendered', 'decoded', 'converted' or 'copied'


@dataclass(frozen=True)
class SourcePage:
    """One page of a scan and how to make its image (small and picklable: the unit of work)."""

    n: int
    kind: str  # 'pdf', 'djvu', 'frame' (an image file, or a frame of a TIFF), 'zip'
    path: str  # the scan file, or the image file for a folder
    source: str
    ref: str = ""  # the ZIP member name
    frame: int = 0  # TIFF frame
    fingerprint: str = ""  # SHA-1 of what this page is made from (the whole scan, or its own image file)


@dataclass
class Scan:
    """What `inspect_scan` learnt about a scan: its kind, its pages and notes for the user."""

    path: Path
    kind: str  # 'pdf', 'djvu', 'tiff', 'image', 'folder', 'zip'
    pages: list[SourcePage]
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class Settings:
    dpi: int
    fmt: str
    gray: bool
    max_pixels: int | None

    def key_part(self) -> str:
        return json.dumps({"dpi": self.dpi, "fmt": self.fmt, "gray": self.gray, "v": SPLIT_VERSION},
                          sort_keys=True)


# -- page numbers --------------------------------------------------------------------------------------------------
def parse_page_spec(spec: str | None, count: int, scan_name: str = "the scan") -> list[int]:
    """'5-20', '3,7,9-12' or '12-' (to the end) -> sorted page numbers; None means every page."""
    if spec is None or not spec.strip():
        return list(range(1, count + 1))
    wanted: set[int] = set()
    for part in spec.replace(" ", "").split(","):
        m = re.fullmatch(r"(\d+)(?:-(\d*))?", part)
        if not m:
            raise UsageError(f"--pages '{spec}' is not understood: use numbers and ranges like 5-20 or 3,7,9-12.")
        first = int(m.group(1))
        last = first if m.group(2) is None else (int(m.group(2)) if m.group(2) else count)
        if first < 1 or last < first:
            raise UsageError(f"--pages '{spec}': '{part}' is not a range of pages (they start at 1, low to high).")
        if last > count:
            raise UsageError(
                f"--pages '{spec}' asks for page {last}, but {scan_name} has only {count} page(s).",
                hint=f"Ask for pages between 1 and {count}.")
        wanted.update(range(first, last + 1))
    return sorted(wanted)


def natural_key(name: str) -> list[Any]:
    """Sort key putting 'p2' before 'p10': digit runs compare as numbers."""
    return [int(t) if t.isdigit() else t.casefold() for t in re.split(r"(\d+)", name)]


# -- inspecting a scan ---------------------------------------------------------------------------------------------
@contextlib.contextmanager
def pixel_limit(max_pixels: int | None) -> Iterator[None]:
    """Use the caller's pixel limit instead of Pillow's (0: none) while splitting; None keeps Pillow's.

    Pillow refuses images over twice Image.MAX_IMAGE_PIXELS when opening them, before our own clearer check
    runs, so a genuine large scan needs the global raised. It is restored afterwards.
    """
    if max_pixels is None:
        yield
        return
    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = max_pixels or None
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def inspect_scan(scan: Path, *, max_pixels: int | None = None) -> Scan:
    """Find out what `scan` is and list its pages, without making any image. Raises InputError, MissingProgram."""
    with pixel_limit(max_pixels):
        return _inspect(Path(scan))


def _inspect(scan: Path, skip: Path | None = None) -> Scan:
    if scan.is_dir():
        return _inspect_folder(scan, skip)
    if not scan.exists():
        raise InputError(f"{scan} does not exist.", hint="Check the name and the folder of the scan.")
    if not scan.is_file():
        raise InputError(f"{scan} is not a file or a folder.")
    size = scan.stat().st_size
    if size == 0:
        raise InputError(f"{scan} is empty (0 bytes).", hint="Copy or download the scan again.")
    with open(scan, "rb") as f:
        head = f.read(1024)
    suffix = scan.suffix.lower()
    if b"%PDF-" in head:
        return _inspect_pdf(scan)
    if head.startswith(b"AT&TFORM"):
        return _inspect_djvu(scan)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _inspect_zip(scan)
    if suffix == ".pdf":
        what = "text" if _looks_like_text(head) else "something else"
        raise InputError(f"{scan} is named like a PDF but is not one (it holds {what}).",
                         hint="Check that it is the scan you meant, or download it again.")
    if suffix == ".djvu" or suffix == ".djv":
        raise InputError(f"{scan} is named like a DjVu file but is not one.",
                         hint="Check that it is the scan you meant, or download it again.")
    if suffix == ".zip":
        raise InputError(f"{scan} is named like a ZIP file but is not one.",
                         hint="Check that it is the scan you meant, or download it again.")
    fingerprint = _sha1_cached(scan)
    with _open_image(scan, scan.name, max_pixels=0) as im:  # the limit is checked when the page is made
        frames = getattr(im, "n_frames", 1)
    if frames > 1:
        pages = [SourcePage(i + 1, "frame", str(scan), f"{scan.name}#page={i + 1}", frame=i,
                            fingerprint=fingerprint) for i in range(frames)]
        return Scan(scan, "tiff", pages)
    return Scan(scan, "image", [SourcePage(1, "frame", str(scan), scan.name, fingerprint=fingerprint)])


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _inspect_pdf(scan: Path) -> Scan:
    count = _pdf.page_count(scan)
    fingerprint = _sha1_cached(scan)
    pages = [SourcePage(n, "pdf", str(scan), f"{scan.name}#page={n}", fingerprint=fingerprint)
             for n in range(1, count + 1)]
    return Scan(scan, "pdf", pages)


def _inspect_djvu(scan: Path) -> Scan:
    need("djvused", "djvulibre-bin")
    need("ddjvu", "djvulibre-bin")
    proc = run(["djvused", "-e", "n", str(scan)])
    if proc.returncode != 0 or not proc.stdout.strip().isdigit():
        raise InputError(f"{scan} is damaged or not a complete DjVu file ({_last_line(proc.stderr)}).",
                         hint="Copy or download it again.")
    count = int(proc.stdout.strip())
    if count == 0:
        raise InputError(f"{scan} has no pages.", hint="Check that it is the scan you meant.")
    fingerprint = _sha1_cached(scan)
    pages = [SourcePage(n, "djvu", str(scan), f"{scan.name}#page={n}", fingerprint=fingerprint)
             for n in range(1, count + 1)]
    return Scan(scan, "djvu", pages)


def _inspect_folder(folder: Path, skip: Path | None = None) -> Scan:
    images, ignored = [], []
    for p in sorted(folder.iterdir(), key=lambda p: natural_key(p.name)):
        if p.name.startswith(".") or (skip is not None and p.resolve() == skip.resolve()):
            continue  # hidden files, and the output folder when it sits inside the scans
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES:
            images.append(p)
        else:
            ignored.append(p.name + ("/" if p.is_dir() else ""))
    if not images:
        raise InputError(f"The folder {folder} holds no page images.",
                         hint=f"Put the pages there as {', '.join(sorted(IMAGE_SUFFIXES))} files.")
    notes = [(f"Ignored {len(ignored)} file(s) in {folder.name}/ that are not page images: "
              f"{', '.join(ignored)}.")] if ignored else []
    pages = [SourcePage(i, "frame", str(p), f"{folder.name}/{p.name}", fingerprint=_sha1_cached(p))
             for i, p in enumerate(images, 1)]
    return Scan(folder, "folder", pages, notes)


def _inspect_zip(scan: Path) -> Scan:
    try:
        with zipfile.ZipFile(scan) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError) as e:
        raise InputError(f"{scan} is damaged or not a complete ZIP file ({e}).",
                         hint="Copy or download it again.") from e
    images, ignored = [], []
    for info in infos:
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name) or ".." in parts:
            raise InputError(f"{scan} holds an entry with an unsafe path ('{name}') that points outside its folder.",
                             hint="Nothing was unpacked. Ask for a ZIP whose entries are plain page images.")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise InputError(f"{scan} holds a symbolic link ('{name}'), which is refused for safety.",
                             hint="Nothing was unpacked. Ask for a ZIP whose entries are plain page images.")
        if info.is_dir() or any(part.startswith(".") or part == "__MACOSX" for part in parts):
            continue
        if Path(name).suffix.lower() in IMAGE_SUFFIXES:
            images.append(info.filename)
        else:
            ignored.append(name)
    if not images:
        raise InputError(f"{scan} holds no page images.",
                         hint=f"Put the pages in it as {', '.join(sorted(IMAGE_SUFFIXES))} files.")
    notes = [f"Ignored {len(ignored)} file(s) in {scan.name} that are not page images: {', '.join(ignored)}."
             ] if ignored else []
    fingerprint = _sha1_cached(scan)
    images.sort(key=natural_key)
    pages = [SourcePage(i, "zip", str(scan), f"{scan.name}#{name}", ref=name, fingerprint=fingerprint)
             for i, name in enumerate(images, 1)]
    return Scan(scan, "zip", pages, notes)


_sha1_memo: dict[tuple[str, int, int], str] = {}


def _sha1_cached(path: Path) -> str:
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _sha1_memo:
        _sha1_memo[key] = sha1_file(path)
    return _sha1_memo[key]


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no details"


# -- making one page -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Job:
    page: SourcePage
    scratch: str  # a private folder for temporary files
    settings: Settings
    pdf_plan: _pdf.PagePlan | None = None


@dataclass(frozen=True)
class Made:
    tmp: str  # the finished image, under a temporary name
    width: int
    height: int
    dpi: int | None
    method: str


def make_page(job: Job) -> Made:
    """Make the image of one page under a temporary name in the scratch folder (runs in a worker thread)."""
    page, s = job.page, job.settings
    ext = EXTENSIONS[s.fmt]
    tmp = Path(job.scratch) / f"{page.n:04d}{ext}"
    if page.kind == "pdf":
        assert job.pdf_plan is not None
        plan = job.pdf_plan
        if plan.extract:
            _check_pixels(plan.width * plan.height, page.source, s.max_pixels)
            wrapped, produced = _pdf.extract(Path(page.path), plan, Path(job.scratch))
            if wrapped and isinstance(produced, bytes) and s.fmt == "png" and not (s.gray and plan.colours == 3):
                tmp.write_bytes(produced)  # the stored pixels, in a PNG file without decoding
                return Made(str(tmp), plan.width, plan.height, plan.dpi, "extracted")
            # A grey image comes back from pdfimages as RGB with equal channels: make it grey again, losslessly.
            s_page = replace(s, gray=True) if plan.colours == 1 else s
            src = produced if isinstance(produced, Path) else io.BytesIO(produced)
            try:
                with _open_image(src, page.source, s.max_pixels) as im:
                    return _save(im, tmp, s_page, plan.dpi, "extracted", page.source)
            finally:
                if isinstance(produced, Path):
                    produced.unlink(missing_ok=True)
        _check_pixels(job.pdf_plan.render_pixels(s.dpi), page.source, s.max_pixels, rendering=s.dpi)
        _pdf.render(Path(page.path), page.n, s.dpi, s.fmt, s.gray, tmp)
        with Image.open(tmp) as im:
            return Made(str(tmp), im.width, im.height, s.dpi, "rendered")
    if page.kind == "djvu":
        raw = Path(job.scratch) / f"{page.n:04d}.ddjvu.tif"
        proc = run(["ddjvu", "-format=tiff", f"-page={page.n}", page.path, str(raw)])
        if proc.returncode != 0 or not raw.is_file():
            raise InputError(f"Page {page.n} of {Path(page.path).name} could not be decoded "
                             f"({_last_line(proc.stderr)}).", hint="The DjVu file may be damaged: get it again.")
        try:
            with _open_image(raw, page.source, s.max_pixels) as im:
                return _save(im, tmp, s, _dpi_of(im), "decoded", page.source)
        finally:
            raw.unlink(missing_ok=True)
    if page.kind == "zip":
        with zipfile.ZipFile(page.path) as z:
            data = z.read(page.ref)
        with _open_image(io.BytesIO(data), page.source, s.max_pixels) as im:
            if _can_copy(im, s):
                _verify(io.BytesIO(data), page.source)
                tmp.write_bytes(data)
                return Made(str(tmp), im.width, im.height, _dpi_of(im), "copied")
            return _save(im, tmp, s, _dpi_of(im), "converted", page.source)
    with _open_image(Path(page.path), page.source, s.max_pixels) as im:
        if page.frame:
            im.seek(page.frame)
        elif _can_copy(im, s):
            _verify(Path(page.path), page.source)
            shutil.copyfile(page.path, tmp)
            return Made(str(tmp), im.width, im.height, _dpi_of(im), "copied")
        return _save(im, tmp, s, _dpi_of(im), "converted", page.source)


def _can_copy(im: Image.Image, s: Settings) -> bool:
    """An image file already in the wanted format (one frame, and grey when --gray) is kept byte for byte."""
    fmt = {"PNG": "png", "TIFF": "tiff"}.get(im.format or "")
    return fmt == s.fmt and getattr(im, "n_frames", 1) == 1 and (not s.gray or im.mode in ("1", "L"))


@contextlib.contextmanager
def _open_image(src: Path | io.BytesIO, label: str, max_pixels: int | None = None) -> Any:
    try:
        im = Image.open(src)
    except Image.DecompressionBombError as e:
        m = re.search(r"\((\d+) pixels\)", str(e))
        _check_pixels(int(m.group(1)) if m else 0, label, None)  # Pillow's limit, as set by pixel_limit()
        raise InputError(f"{label} is too large to open safely ({e}).", hint=_BOMB_HINT) from e
    except (OSError, SyntaxError, ValueError) as e:
        raise InputError(f"{label} is not an image this tool can read ({e}).",
                         hint="Check the file, or export the page again as PNG or TIFF.") from e
    try:
        _check_pixels(im.width * im.height, label, max_pixels)
        yield im
    finally:
        im.close()


_BOMB_HINT = ("If it is a genuine scan, run again with a higher --max-pixels (or 0 for no limit), "
              "or reduce the image's resolution first.")


def _check_pixels(pixels: int, label: str, max_pixels: int | None, rendering: int | None = None) -> None:
    limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else (max_pixels or None)
    if limit and pixels > limit:
        what = f"Rendered at {rendering} dpi, {label}" if rendering else label
        raise InputError(
            f"{what} would be {_count(pixels)} pixels, over the safety limit of {_count(limit)} "
            "(a file that large may be a decompression bomb).",
            hint=("Use a lower --dpi, or " + _BOMB_HINT[0].lower() + _BOMB_HINT[1:]) if rendering else _BOMB_HINT)


def _count(pixels: int) -> str:
    return f"{pixels / 1e6:.0f} million" if pixels >= 10**7 else f"{pixels:,}"


def _verify(src: Path | io.BytesIO, label: str) -> None:
    """Check a file we are about to copy unchanged: a truncated image must not slip through."""
    try:
        with Image.open(src) as im:
            im.load()
    except (OSError, SyntaxError, ValueError) as e:
        raise InputError(f"{label} is damaged or truncated ({e}).",
                         hint="Copy or export this page again, then run the same command.") from e


def _dpi_of(im: Image.Image) -> int | None:
    dpi = im.info.get("dpi")
    try:
        value = round(float(dpi[0])) if dpi else 0
    except (TypeError, ValueError):
        value = 0
    return value or None


def _save(im: Image.Image, tmp: Path, s: Settings, dpi: int | None, method: str, label: str) -> Made:
    try:
        im.load()
    except (OSError, SyntaxError, ValueError) as e:
        raise InputError(f"{label} is damaged or truncated ({e}).",
                         hint="Copy or export this page again, then run the same command.") from e
    out = im
    if s.gray and im.mode not in ("1", "L", "I;16", "I"):
        out = im.convert("L")
    elif im.mode in ("CMYK", "YCbCr", "LAB", "HSV") or (im.mode == "P" and s.fmt == "tiff"):
        out = im.convert("RGB")
    elif im.mode in ("LA", "RGBA", "PA") and s.fmt == "tiff":
        out = im.convert("RGB" if im.mode != "LA" else "L")
    params: dict[str, Any] = {}
    if dpi:
        params["dpi"] = (dpi, dpi)
    if s.fmt == "png":
        # zlib level 1: 4x faster than Pillow's default 6 on scanned pages (0.4 s against 1.6 s for a
        # 1200x1956 RGB page, Pillow 13) for files only about 5 % larger; the pixels are the same.
        out.save(tmp, "PNG", compress_level=1, **params)
    else:
        out.save(tmp, "TIFF", compression="group4" if out.mode == "1" else "tiff_deflate", **params)
    return Made(str(tmp), out.width, out.height, dpi, method)


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


def _install(made: Made, target: Path) -> str:
    """Move a finished image over `target`, unless `target` already holds the same bytes; return its SHA-1."""
    tmp = Path(made.tmp)
    digest = sha1_file(tmp)
    if target.is_file() and sha1_file(target) == digest:
        tmp.unlink()  # unchanged: keep the old file (and its date), so nothing downstream is redone
        return digest
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
          work: Work | None) -> PageImage:
    """Put a finished page in place and record it: journal first (for a resume), then the state."""
    digest = _install(made, target)
    page = PageImage(p.n, target.name, p.source, made.width, made.height, made.dpi, digest, made.method)
    journal.write(json.dumps({**asdict(page), "key": key}, sort_keys=True) + "\n")
    journal.flush()
    os.fsync(journal.fileno())
    if store is not None and work is not None:
        _record_in_store(store, work, page)
    return page


# -- the stage -----------------------------------------------------------------------------------------------------
def split(scan: Path, out_dir: Path, *, pages: str | None = None, dpi: int = 300, fmt: str = "png",
          gray: bool = False, jobs: int | None = None, store: Store | None = None, work: Work | None = None,
          progress: ProgressFn | None = None, note: NoteFn | None = None,
          max_pixels: int | None = None) -> list[PageImage]:
    """Split `scan` into one image per page in `out_dir`; return every page now recorded there, by n.

    `pages` picks some pages ('5-20', '3,7,9-12'); `dpi` is for rendered PDF pages only (extracted images and
    DjVu pages keep their own resolution); `fmt` is 'png' or 'tiff'; `gray` turns colour pages grey;
    `max_pixels` overrides Pillow's decompression-bomb limit (0: none). `note(text)` receives remarks for the
    user (ignored files, pages kept from an earlier run). Resumable: see the module's docstring.
    """
    with pixel_limit(max_pixels):
        return _split(Path(scan), Path(out_dir), pages=pages, dpi=dpi, fmt=fmt, gray=gray, jobs=jobs, store=store,
                      work=work, progress=progress, note=note, max_pixels=max_pixels)


def _split(scan: Path, out_dir: Path, *, pages: str | None, dpi: int, fmt: str, gray: bool, jobs: int | None,
           store: Store | None, work: Work | None, progress: ProgressFn | None, note: NoteFn | None,
           max_pixels: int | None) -> list[PageImage]:
    if fmt not in FORMATS:
        raise UsageError(f"--format '{fmt}' is not supported: use png or tiff.")
    if not 30 <= dpi <= 1200:
        raise UsageError(f"--dpi {dpi} is out of range: use a value between 30 and 1200 (300 suits OCR).")
    say = note or (lambda text: None)
    info = _inspect(scan, skip=out_dir)
    if info.kind == "folder" and out_dir.resolve() == scan.resolve():
        raise UsageError("The output folder must not be the folder of page images itself.",
                         hint="Choose another folder with -o.")
    for text in info.notes:
        say(text)
    count = len(info.pages)
    wanted = parse_page_spec(pages, count, scan.name)
    settings = Settings(dpi=dpi, fmt=fmt, gray=gray, max_pixels=max_pixels)
    ext = EXTENSIONS[fmt]
    width = max(4, len(str(count)))

    previous = _previous(out_dir) if out_dir.is_dir() else {}
    keys = {p.n: page_key(p, settings) for p in info.pages}
    done: dict[int, PageImage] = {}
    # Pages of the same scan and settings outside --pages stay; pages of another scan or settings go.
    for n, rec in previous.items():
        if n <= count and _still_good(rec, keys[n], out_dir):
            done[n] = _page_from(rec)
    todo = [info.pages[n - 1] for n in wanted if n not in done]
    kept = len(wanted) - len(todo)
    plans = _pdf.plan_pages(scan, [p.n for p in todo]) if info.kind == "pdf" else {}
    if kept:
        say(f"{kept} page(s) were already split from this scan with the same settings and were kept.")

    out_dir.mkdir(parents=True, exist_ok=True)
    scratch = out_dir / SCRATCH
    shutil.rmtree(scratch, ignore_errors=True)  # left by a killed run
    scratch.mkdir()
    if store is not None and work is None:
        work = store.work(".", scan=str(scan.resolve()))

    report = progress or (lambda label, d, t: None)
    total, finished = len(wanted), kept
    report("split", finished, total)
    error: BaseException | None = None
    pool = cf.ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1, thread_name_prefix="split")
    try:
        with open(out_dir / JOURNAL, "a", encoding="utf-8") as journal:
            futures = {pool.submit(make_page, Job(p, str(scratch), settings, plans.get(p.n))): p for p in todo}
            for future in cf.as_completed(futures):
                p = futures[future]
                try:
                    made = future.result()
                except BaseException as e:  # noqa: BLE001 - the first failure stops the run, raised below
                    error = error or e
                    for other in futures:
                        other.cancel()
                    continue
                page = _keep(made, out_dir / f"{p.n:0{width}d}{ext}", p, keys[p.n], journal, store, work)
                done[p.n] = page
                finished += 1
                report("split", finished, total)
    except BaseException as e:  # noqa: BLE001 - Ctrl-C while waiting: the pages finished so far are kept
        error = error or e
    finally:
        # Let running pages end (each is one short program run), drop the others, then write the record.
        pool.shutdown(wait=True, cancel_futures=True)
        complete = error is None and all(n in done for n in wanted)
        result = _finish(out_dir, scan, info, done, keys, count, previous, store, work, complete=complete)
        shutil.rmtree(scratch, ignore_errors=True)
    if error is not None:
        raise error
    return result


def _finish(out_dir: Path, scan: Path, info: Scan, done: dict[int, PageImage], keys: dict[int, str], count: int,
            previous: dict[int, dict[str, Any]], store: Store | None, work: Work | None, *,
            complete: bool) -> list[PageImage]:
    """Write pages.json, remove images of pages that no longer exist (or changed format), drop the journal."""
    pages = [done[n] for n in sorted(done)]
    keep = {p.image for p in pages}
    for n, rec in previous.items():
        image = str(rec.get("image", ""))
        if image and image not in keep and "/" not in image and (n not in done or done[n].image != image):
            (out_dir / image).unlink(missing_ok=True)
    record = {
        "scan": str(scan.resolve()),
        "scan_kind": info.kind,
        "scan_pages": count,
        "complete": complete,
        "pages": [{**asdict(p), "key": keys[p.n]} for p in pages],
    }
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
        with _open_image(path, path.name) as im:
            result.append(PageImage(n, path.name, path.name, im.width, im.height, _dpi_of(im), sha1_file(path)))
    return result


def summary_counts(pages: Iterable[PageImage]) -> dict[str, int]:
    """How many pages were made each way ('extracted', 'rendered', ...), for the closing line."""
    counts: dict[str, int] = {}
    for p in pages:
        counts[p.method or "kept"] = counts.get(p.method or "kept", 0) + 1
    return counts
