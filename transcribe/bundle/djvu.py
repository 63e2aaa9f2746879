"""Write a DjVu: each page encoded with djvulibre, bundled with `djvm -c`, hidden text and metadata by djvused.

Black-and-white pages go to `cjb2` (JB2, lossless by default), grey and colour pages to `c44` (IW44 wavelets).
The hidden text is DjVu's page/line/word S-expression, coordinates in pixels with the origin at the bottom
left (hOCR's is top left), which is what ProofreadPage reads to prefill a new Page: page.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

from transcribe.bundle.hocr import HocrPage
from transcribe.bundle.pages import BookPage
from transcribe.errors import InputError, MissingProgram, TranscribeError

log = logging.getLogger(__name__)

PROGRAMS = ("cjb2", "c44", "djvm", "djvused")
DJVU_MAX_DPI = 1200  # cjb2 and c44 (djvulibre 3.5.28) take 25..1200 dpi


def check_programs() -> None:
    missing = [p for p in PROGRAMS if shutil.which(p) is None]
    if missing:
        raise MissingProgram(
            f"Making a DjVu needs djvulibre's {', '.join(missing)}, which is not installed.",
            hint="Install it with: sudo apt-get install djvulibre-bin (or make a PDF instead: -o book.pdf).",
        )


def _run(args: list[str], what: str) -> None:
    log.debug("run %s", " ".join(args))
    try:
        proc = subprocess.run(args, check=False, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired as e:
        raise TranscribeError(f"{args[0]} took more than 10 minutes on {what}.") from e
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise InputError(
            f"{args[0]} could not encode {what}: {detail[-1] if detail else f'exit status {proc.returncode}'}.",
            hint="Check the image opens in an image viewer; replace it or run 'transcribe split' again.",
        )


def quote(text: str) -> str:
    """A djvused string: `"` and `\\` escaped, control characters as octal, everything else as UTF-8."""
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\{ord(ch):03o}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def hidden_text(page: HocrPage, width: int, height: int) -> str:
    """djvused `set-txt` input for one page of `width` x `height` pixels."""
    hp = page.scaled(width, height)

    def box(b: tuple[int, int, int, int]) -> str:
        x0, y0, x1, y1 = (max(0, min(v, lim)) for v, lim in zip(b, (width, height, width, height), strict=True))
        return f"{x0} {height - y1} {x1} {height - y0}"  # flip y: DjVu's origin is the bottom left

    lines = []
    for line in hp.lines:
        words = " ".join(f"(word {box(w.box)} {quote(w.text)})" for w in line.words)
        lines.append(f" (line {box(line.box)} {words})")
    return f"(page 0 0 {width} {height}\n" + "\n".join(lines) + ")\n"


def _encode(page: BookPage, tmp: Path) -> Path:
    """One page as a single-page DjVu file."""
    out = tmp / f"p{page.n:05d}.djvu"
    dpi = str(round(page.dpi))
    what = f"page {page.n} ({page.image.name})"
    if page.kind == "colour" and page.fmt == "JPEG":
        _run(["c44", "-dpi", dpi, str(page.image), str(out)], what)  # c44 reads JPEG itself
        return out
    with Image.open(page.image) as im:
        if page.kind == "bitonal":
            src = tmp / f"p{page.n:05d}.pbm"
            # No dithering: the page is already black and white, only its storage is 8-bit or a palette.
            (im if im.mode == "1" else im.convert("L").convert("1", dither=Image.Dither.NONE)).save(src)
        elif page.kind == "grey":
            src = tmp / f"p{page.n:05d}.pgm"
            im.convert("L").save(src)
        else:
            src = tmp / f"p{page.n:05d}.ppm"
            im.convert("RGB").save(src)
    _run(["cjb2" if page.kind == "bitonal" else "c44", "-dpi", dpi, str(src), str(out)], what)
    src.unlink()
    return out


def write_djvu(
    pages: list[BookPage],
    hocr: Callable[[BookPage], HocrPage | None],
    out: Path,
    tmp: Path,
    *,
    title: str | None,
    author: str | None,
    lang: str | None,
    jobs: int,
    progress: Callable[[str, int, int], None],
) -> None:
    """Write the book to `out` (a temporary path the caller renames). Work files go to `tmp`.

    The caller has run `check_programs()` already, before reading the pages."""
    for p in pages:
        if p.dpi > DJVU_MAX_DPI:
            raise InputError(
                f"page {p.n} ({p.image.name}) is {p.dpi:g} dpi; DjVu takes at most {DJVU_MAX_DPI} dpi.",
                hint="Make a PDF instead (-o book.pdf), or scale the images down.",
            )
    total = len(pages)
    encoded: list[Path] = []
    # The encoders are separate processes, so threads are enough to keep every core busy.
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for i, path in enumerate(pool.map(lambda p: _encode(p, tmp), pages), 1):
            encoded.append(path)
            progress("images", i, total)
    _run(["djvm", "-c", str(out), *map(str, encoded)], "the pages into one file")
    for path in encoded:
        path.unlink()

    script: list[str] = []
    for i, page in enumerate(pages, 1):
        hp = hocr(page)
        if hp is not None and hp.lines:
            txt = tmp / f"p{page.n:05d}.txt"
            txt.write_text(hidden_text(hp, page.width, page.height), encoding="utf-8")
            script += [f"select {i}", f"set-txt {txt}"]
        progress("text", i, total)
    meta = [f"{key}\t{quote(value)}" for key, value in (("title", title), ("author", author),
                                                        ("language", lang)) if value]
    if meta:
        meta_file = tmp / "meta.txt"
        meta_file.write_text("\n".join(meta) + "\n", encoding="utf-8")
        script += ["select", f"set-meta {meta_file}"]  # no page selected: the document's shared annotations
    if script:
        script_file = tmp / "djvused.txt"
        script_file.write_text("\n".join(script + ["save"]) + "\n", encoding="utf-8")
        _run(["djvused", "-f", str(script_file), str(out)], "the hidden text")
