"""What a scan is and which pages it has: PDF, DjVu, multi-page TIFF, image, folder of images, ZIP, or a IIIF
manifest (an http(s) address or a local .json file: `split/iiif.py`).

Only looks (magic bytes, page counts, file lists); making the images is `split/pages.py`'s job. A ZIP is checked
entry by entry before anything is read from it: absolute paths, '..' and symbolic links are refused.
"""

from __future__ import annotations

import re
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transcribe.errors import InputError, UsageError
from transcribe.fsutil import sha1_file
from transcribe.split import pdf as _pdf
from transcribe.split.pages import SourcePage, open_image, pixel_limit
from transcribe.split.tools import last_line, need, run

MAX_ZIP_MEMBER = 1 << 30  # bytes of one unpacked page image in a ZIP
IMAGE_SUFFIXES = {".png", ".tif", ".tiff", ".jpg", ".jpeg", ".jp2", ".j2k", ".bmp", ".gif", ".webp",
                  ".pbm", ".pgm", ".ppm", ".pnm"}


@dataclass
class Scan:
    """What `inspect_scan` learnt about a scan: its kind, its pages and notes for the user."""

    path: Path
    kind: str  # 'pdf', 'djvu', 'tiff', 'image', 'folder', 'zip', 'iiif'
    pages: list[SourcePage]
    notes: list[str] = field(default_factory=list)
    address: str | None = None  # a manifest's http(s) address (path is then meaningless)
    maker: Callable[[Any], Any] | None = None  # makes one page's image (Job -> Made) instead of make_page

    @property
    def name(self) -> str:
        return self.address or self.path.name

    @property
    def location(self) -> str:
        """What the records name as the scan: the address, or the absolute path."""
        return self.address or str(self.path.resolve())


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
            beyond = max(first, count + 1)  # the first page asked for that the scan does not have
            raise UsageError(
                f"--pages '{spec}' asks for page {beyond}, but {scan_name} has {count} "
                f"page{'' if count == 1 else 's'}.",
                hint=f"Ask for pages between 1 and {count}.")
        wanted.update(range(first, last + 1))
    return sorted(wanted)


def natural_key(name: str) -> list[Any]:
    """Sort key putting 'p2' before 'p10': digit runs compare as numbers."""
    return [int(t) if t.isdigit() else t.casefold() for t in re.split(r"(\d+)", name)]


def inspect_scan(scan: Path | str, *, max_pixels: int | None = None, skip: Path | None = None) -> Scan:
    """Find out what `scan` is and list its pages, without making any image. Raises InputError, MissingProgram.

    `skip`: a folder inside a folder scan that is not part of it (the output folder). A IIIF manifest (an
    http(s) address, or a .json file) is read here; its images are fetched when the pages are made.
    """
    with pixel_limit(max_pixels):
        return inspect(scan, skip)


def is_address(scan: Path | str) -> bool:
    """An http(s) address (only a IIIF manifest is read from the web). A Path has lost its '//': not one."""
    return isinstance(scan, str) and bool(re.match(r"(?i)https?://", scan))


def inspect(scan: Path | str, skip: Path | None = None) -> Scan:
    if is_address(scan) or str(scan).lower().endswith(".json"):
        from transcribe.split.iiif import inspect_iiif

        return inspect_iiif(str(scan))
    scan = Path(scan)
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
    fingerprint = sha1_file(scan)
    with open_image(scan, scan.name, max_pixels=0) as im:  # the limit is checked when the page is made
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
    fingerprint = sha1_file(scan)
    pages = [SourcePage(n, "pdf", str(scan), f"{scan.name}#page={n}", fingerprint=fingerprint)
             for n in range(1, count + 1)]
    return Scan(scan, "pdf", pages)


def _inspect_djvu(scan: Path) -> Scan:
    need("djvused", "djvulibre-bin")
    need("ddjvu", "djvulibre-bin")
    proc = run(["djvused", "-e", "n", str(scan)])
    if proc.returncode != 0 or not proc.stdout.strip().isdigit():
        raise InputError(f"{scan} is damaged or not a complete DjVu file ({last_line(proc.stderr)}).",
                         hint="Copy or download it again.")
    count = int(proc.stdout.strip())
    if count == 0:
        raise InputError(f"{scan} has no pages.", hint="Check that it is the scan you meant.")
    fingerprint = sha1_file(scan)
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
    pages = [SourcePage(i, "frame", str(p), f"{folder.name}/{p.name}", fingerprint=sha1_file(p))
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
            if info.file_size > MAX_ZIP_MEMBER:  # each page is read into memory: keep that bounded
                raise InputError(f"{scan} holds '{name}', {info.file_size / 2**30:.1f} GB unpacked: too large for a "
                                 "page image.", hint="Unpack the ZIP yourself and split the folder instead.")
            images.append(info.filename)
        else:
            ignored.append(name)
    if not images:
        raise InputError(f"{scan} holds no page images.",
                         hint=f"Put the pages in it as {', '.join(sorted(IMAGE_SUFFIXES))} files.")
    notes = [f"Ignored {len(ignored)} file(s) in {scan.name} that are not page images: {', '.join(ignored)}."
             ] if ignored else []
    fingerprint = sha1_file(scan)
    images.sort(key=natural_key)
    pages = [SourcePage(i, "zip", str(scan), f"{scan.name}#{name}", ref=name, fingerprint=fingerprint)
             for i, name in enumerate(images, 1)]
    return Scan(scan, "zip", pages, notes)
