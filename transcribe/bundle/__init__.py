"""bundle: a folder of page images and their OCR -> one PDF or DjVu with a hidden text layer.

Many libraries keep a book as a folder of TIFF or JPEG files; Wikisource needs one multi-page file on Commons,
and ProofreadPage fills every new Page: page from that file's text layer. So the text layer delivers the OCR to
every proofreader, even on pages no bot created.

    result = bundle(Path("work/pages"), Path("book.djvu"), title="Die Frau", author="August Bebel", lang="de")

Every page is checked before anything is written; the book file appears all at once (temporary name, rename).
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from transcribe.bundle.hocr import HocrPage, read_hocr
from transcribe.bundle.pages import BookPage, book_pages, odd_sizes, page_ranges
from transcribe.errors import InputError, UsageError
from transcribe.events import ProgressFn, no_progress
from transcribe.fsutil import atomic_path

log = logging.getLogger(__name__)

FORMATS = {".pdf": "pdf", ".djvu": "djvu"}
# Commons takes a file in one request up to 100 MiB; above that publish must upload it in chunks.
COMMONS_SINGLE_UPLOAD = 100 * 1024 * 1024

__all__ = ["COMMONS_SINGLE_UPLOAD", "BundleResult", "bundle", "output_format"]


@dataclass(frozen=True)
class BundleResult:
    path: Path
    format: str  # "pdf" or "djvu"
    pages: int
    pages_with_text: int
    size: int  # bytes
    notes: tuple[str, ...] = ()  # things the user should know; none of them stopped the work

    @property
    def needs_chunked_upload(self) -> bool:
        return self.size > COMMONS_SINGLE_UPLOAD


def output_format(out: Path) -> str:
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise UsageError(
            f"Cannot make '{out.name}': the book file must end in .pdf or .djvu.",
            hint="For example: -o book.djvu or -o book.pdf.",
        )
    return fmt


def _metadata(pages_dir: Path, title: str | None, author: str | None,
              lang: str | None) -> tuple[str | None, str | None, str | None]:
    """Options first, then the work.toml of the work folder the pages folder sits in."""
    if title and author and lang:
        return title, author, lang
    work_folder = pages_dir.resolve().parent
    from transcribe.work import WORK_FILE, load_work

    if not (work_folder / WORK_FILE).is_file():
        return title, author, lang
    meta = load_work(work_folder)
    return title or meta.title or None, author or meta.author or None, lang or meta.language or None


def bundle(
    pages_dir: Path,
    out: Path,
    *,
    title: str | None = None,
    author: str | None = None,
    lang: str | None = None,
    progress: ProgressFn | None = None,
    require_text: bool = False,
    dpi: float | None = None,
    jobs: int | None = None,
) -> BundleResult:
    """Make `out` (.pdf or .djvu) from the pages folder `pages_dir` as split and ocr leave it.

    `dpi` overrides every page's resolution (default: the pages record's, then the image's, then 300).
    `require_text`: a page without hOCR is an error instead of a page without text.
    """
    pages_dir, out = Path(pages_dir), Path(out)
    fmt = output_format(out)
    progress = progress or no_progress
    title, author, lang = _metadata(pages_dir, title, author, lang)

    if fmt == "djvu":
        from transcribe.bundle.djvu import check_programs

        check_programs()  # before the pages are read, which takes a while for a big book
    with tempfile.TemporaryDirectory(prefix="transcribe-bundle-") as tmp:
        pages = book_pages(pages_dir, dpi=dpi, placeholders=Path(tmp))  # lacunae: placeholder pages drawn in tmp
        return _bundle(pages, out, fmt, Path(tmp), title=title, author=author, lang=lang,
                       progress=progress, require_text=require_text, jobs=jobs)


def _bundle(pages: list[BookPage], out: Path, fmt: str, tmp: Path, *, title: str | None,
            author: str | None, lang: str | None, progress: ProgressFn, require_text: bool,
            jobs: int | None) -> BundleResult:
    notes: list[str] = []
    lacunae = [p.n for p in pages if p.lacuna]
    if lacunae:
        notes.append(f"Page(s) {page_ranges(lacunae)} are lacunae (canvases of the manifest without an image): "
                     "each is a placeholder page that says so, so that page n stays canvas n.")
    without = [p.n for p in pages if p.hocr is None and not p.lacuna]
    if without and require_text:
        raise InputError(
            f"{len(without)} of {len(pages)} pages have no OCR (no .hocr file): page(s) {page_ranges(without)}.",
            hint="Run 'transcribe ocr' on the folder first, or leave out --require-text.",
        )
    if without:
        notes.append(f"No OCR for page(s) {page_ranges(without)}: they have no text layer "
                     "(run 'transcribe ocr' on the folder to add it).")
    odd = odd_sizes(pages)
    if odd:
        notes.append(f"Page(s) {page_ranges(odd)} are a different size from most pages: check they belong to "
                     "this book and that their resolution (dpi) is right. A foldout is fine.")

    # Read every hOCR before writing anything: a damaged one must stop the run, not spoil the book.
    hocrs = {p.n: _page_hocr(p) for p in pages}
    with_text = sum(1 for hp in hocrs.values() if hp is not None and hp.lines)

    def hocr(page: BookPage) -> HocrPage | None:
        return hocrs[page.n]

    from transcribe import __version__

    with atomic_path(out) as part:
        if fmt == "pdf":
            from transcribe.bundle.pdf import write_pdf

            write_pdf(pages, hocr, part, tmp, title=title, author=author, lang=lang,
                      creator=f"transcribe {__version__}", progress=progress)
        else:
            from transcribe.bundle.djvu import write_djvu

            write_djvu(pages, hocr, part, tmp, title=title, author=author, lang=lang,
                       jobs=jobs or os.cpu_count() or 1, progress=progress)
    size = out.stat().st_size
    log.info("wrote %s: %d pages, %d bytes", out, len(pages), size)
    return BundleResult(out, fmt, len(pages), with_text, size, tuple(notes))


def _page_hocr(page: BookPage) -> HocrPage | None:
    if page.hocr is None:
        return None
    hp = read_hocr(page.hocr)
    if (hp.width, hp.height) != (page.width, page.height):
        # OCR of a rescaled copy is fine (its boxes scale); OCR of another image is not.
        if abs(hp.width / hp.height - page.width / page.height) > 0.02 * page.width / page.height:
            raise InputError(
                f"{page.hocr.name} was made from a different image than {page.image.name} "
                f"({hp.width}x{hp.height} pixels, the image is {page.width}x{page.height}).",
                hint="Run 'transcribe ocr' on the folder again.",
            )
        hp = hp.scaled(page.width, page.height)
    return hp
