"""split: a scan into page images."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from transcribe.cli._app import DpiOpt, QuietOpt, command, err, progress_bar
from transcribe.split import PageImage, inspect_scan, parse_page_spec, split, summary_counts
from transcribe.store import DB_NAME, Store


class Format(str, Enum):
    auto = "auto"
    png = "png"
    tiff = "tiff"


@command("split")
def split_command(
    scan: Annotated[str, typer.Argument(
        help="The scan: a PDF, a DjVu, a (multi-page) TIFF, an image, a folder of page images, a ZIP of them, or a "
             "IIIF manifest (its https address or a .json file: each canvas's image is downloaded).",
        metavar="SCAN", show_default=False)],
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="Folder for the page images (0001.png ...) and pages.json; created if needed.",
        file_okay=False, show_default=False)],
    pages: Annotated[str | None, typer.Option(
        "--pages", "-p", help="Only these pages, by position in the scan: '5-20', '3,7,9-12' or '40-'.")] = None,
    fmt: Annotated[Format, typer.Option(
        "--format", "-f",
        help="Image format of the pages. auto: JPEG scans (and JPEG-compressed TIFFs) stay JPEG (0001.jpg, the "
             "same pixels, a small PDF), everything else PNG; png or tiff: every page converted.")] = Format.auto,
    gray: Annotated[bool, typer.Option("--gray", help="Make colour pages grey (smaller files; black-and-white pages stay as they are).")] = False,
    dpi: DpiOpt = 300,
    max_pixels: Annotated[int | None, typer.Option(
        "--max-pixels", min=0,
        help="Refuse pages larger than this many pixels (default: Pillow's safety limit, about 89 million; "
             "0: no limit).")] = None,
    jobs: Annotated[int | None, typer.Option(
        "--jobs", "-j", min=1,
        help="Pages processed at once (default: one per CPU core; for a IIIF manifest, 4 images downloaded "
             "at a time, to be polite to the library's server).")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Split a scan into one image per page, numbered as Wikisource numbers them (Page:<file>/n = 0001.png...).

    Pages already split from the same scan with the same settings are kept, so a stopped run continues
    where it stopped, and a changed scan rewrites only the pages that changed.
    """
    # Look at the scan before creating anything, so a bad scan leaves no empty folder behind.
    info = inspect_scan(scan, max_pixels=max_pixels, skip=out)
    wanted = set(parse_page_spec(pages, len(info.pages), info.name))
    source = scan if info.address else Path(scan)
    with Store(out / DB_NAME) as store, progress_bar(quiet) as progress:
        store.acquire_lock()
        work = store.work(".", scan=info.location)
        result = split(source, out, pages=pages, dpi=dpi, fmt=fmt.value, gray=gray, jobs=jobs, store=store,
                       work=work, progress=progress, note=lambda text: err(f"note: {text}"),
                       max_pixels=max_pixels, info=info)
    typer.echo(summary_line([p for p in result if p.n in wanted], info.name, out, dpi))


def summary_line(pages: list[PageImage], scan: Path | str, out: Path, dpi: int) -> str:
    counts = summary_counts(pages)
    words = {
        "extracted": "extracted losslessly",
        "rendered": f"rendered at {dpi} dpi",
        "decoded": "decoded at the scan's own resolution",
        "converted": "converted losslessly",
        "joined": "kept as JPEG (TIFF strips joined, not decoded)",
        "copied": "copied as they were",
        "downloaded": "downloaded from the IIIF server as served",
        "kept": "kept",
    }
    parts = [f"{counts[m]} {words[m]}" for m in words if counts.get(m)]
    where = f"{out}/" if not str(out).endswith("/") else str(out)
    noun = "page" if len(pages) == 1 else "pages"
    name = scan if isinstance(scan, str) else scan.name
    return f"Split {len(pages)} {noun} of {name} into {where} ({', '.join(parts)})."
