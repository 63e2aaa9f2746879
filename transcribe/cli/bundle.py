"""bundle: page images and OCR into one PDF or DjVu with a text layer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from transcribe.cli._app import JobsOpt, QuietOpt, command, err, progress_bar

LangMetaOpt = Annotated[
    str | None,
    typer.Option("--lang", "-l", help="Language of the book, written into the file (a code such as de, fr, la). "
                                      "Default: 'language' in the work.toml beside the pages folder."),
]


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


@command("bundle")
def bundle_command(
    pages_dir: Annotated[Path, typer.Argument(
        help="The folder of page images (0001.png...) made by 'transcribe split', with the OCR from "
             "'transcribe ocr' (0001.hocr...), or any folder of page images in page order.",
        file_okay=False, exists=True)],
    output: Annotated[Path, typer.Option(
        "--output", "-o", help="The book file to write: NAME.djvu or NAME.pdf.", dir_okay=False)],
    title: Annotated[str | None, typer.Option(
        "--title", help="Title written into the file. Default: 'title' in the work.toml beside the pages folder.",
    )] = None,
    author: Annotated[str | None, typer.Option(
        "--author", help="Author written into the file. Default: 'author' in the work.toml.")] = None,
    lang: LangMetaOpt = None,
    require_text: Annotated[bool, typer.Option(
        "--require-text", help="Stop with an error if any page has no OCR, instead of leaving it without text.",
    )] = False,
    dpi: Annotated[int | None, typer.Option(
        "--dpi", min=50, max=2400,
        help="Resolution the pages were scanned at, for every page (default: as recorded by split, else 300). "
             "It sets the printed page size.")] = None,
    jobs: JobsOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Make one PDF or DjVu for Wikisource from a folder of page images, with the OCR as a hidden text layer.

    Example: transcribe bundle work/pages -o "Die Frau.djvu" --title "Die Frau und der Sozialismus"
    """
    from transcribe.bundle import COMMONS_SINGLE_UPLOAD, bundle

    with progress_bar(quiet) as progress:
        result = bundle(pages_dir, output, title=title, author=author, lang=lang, progress=progress,
                        require_text=require_text, dpi=dpi, jobs=jobs)
    for note in result.notes:
        err(f"note: {note}")
    if result.needs_chunked_upload:
        err(f"note: {output.name} is {_mb(result.size)}, more than the {_mb(COMMONS_SINGLE_UPLOAD)} Commons takes "
            "in one piece: 'transcribe publish' will upload it in chunks, which is fine but takes longer.")
    typer.echo(f"Wrote {output}: {result.pages} pages, {_mb(result.size)}, text on {result.pages_with_text} pages.")
