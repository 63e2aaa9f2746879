"""init, run, status: a whole batch from a manifest."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from transcribe.cli._app import DpiOpt, JobsOpt, QuietOpt, TessdataOpt, command, err, progress_bar
from transcribe.errors import ManifestError, PagesFailed, UsageError

ManifestArg = Annotated[
    Path,
    typer.Argument(help="The batch manifest: a .toml file (see 'transcribe init') or a .csv from a spreadsheet.",
                   dir_okay=False),
]


class Format(str, Enum):
    table = "table"
    json = "json"


@command("init")
def init(
    manifest: Annotated[Path, typer.Argument(help="The manifest to create, e.g. books.toml (or books.csv).",
                                             dir_okay=False)] = Path("books.toml"),
    from_: Annotated[str | None, typer.Option(
        "--from", metavar="ADDRESS",
        help="Fill the entry from a IIIF manifest (its address, or a downloaded .json file): title, author, "
             "year, language, licence, page labels...; a IIIF collection gives one work per manifest. An "
             "existing file is completed, never overwritten: what you wrote wins.")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", dir_okay=False, help="With --from: the manifest to write or complete (default: the "
                                            "MANIFEST argument, books.toml).")] = None,
) -> None:
    """Write an example manifest to fill in: one entry per work (scan, title, author, language...).

    With --from, the entry is filled from a IIIF manifest (or one per manifest of a IIIF collection)."""
    if from_ is not None:
        _init_from(from_, out or manifest)
        return
    if out is not None:
        raise UsageError("--out goes with --from; without it, name the file to create as the argument.")
    from transcribe.manifest import write_example

    path = write_example(manifest)
    typer.echo(f"Wrote {path}.")
    err(f"Fill in one entry per work, then run: transcribe run {path}")


def _init_from(source: str, out: Path) -> None:
    from transcribe.iiif.init import init_from, refusal_lines

    report = init_from(source, out)
    added = [w for w in report.works if w.new]
    completed = [w for w in report.works if not w.new]
    what = f"the collection {source}" if report.collection else source
    parts = []
    if added:
        parts.append(f"added {len(added)} work(s) ({_ids(added)})")
    if completed:
        parts.append(f"completed {len(completed)} work(s) already in it ({_ids(completed)})")
    if added or any(w.filled for w in completed):
        typer.echo(f"Wrote {report.path}: {' and '.join(parts)}, from {what}.")
    else:  # the same command again: nothing to add, and saying "Wrote" would suggest something changed
        typer.echo(f"{report.path} unchanged: it already has everything {what} gives for {_ids(completed)}.")
    for w in completed:
        filled = ", ".join(w.filled) or "nothing (every field was there)"
        kept = f"; kept yours: {', '.join(w.kept)}" if w.kept else ""
        err(f"{w.id}: filled {filled}{kept}.")
    if report.subcollections:
        err(f"note: the collection also lists {len(report.subcollections)} collection(s), not followed: "
            f"{', '.join(a for a, _ in report.subcollections[:3])}{' ...' if len(report.subcollections) > 3 else ''}"
            f" (listed at the end of {report.path}; run 'transcribe init --from' on each to add their works).")
    unreachable = [w for w in report.works if w.unreachable]
    if unreachable:
        err(f"note: {len(unreachable)} manifest(s) could not be read ({unreachable[0].unreachable}); their entries "
            "hold only the address and the collection's label: run 'transcribe init --from ADDRESS' for each when "
            "it can be reached.")
    unmapped = sum(len(w.comments) + len(w.label_notes) for w in report.works)
    if unmapped:
        err(f"note: what the manifest says that fills no field is listed as comments in {report.path} "
            f"({unmapped} line(s)).")
    for line in refusal_lines(report):
        err(f"note: {line}")
    err(f"Check the entries, fill in what is missing, then run: transcribe run {report.path}")


def _ids(works: list) -> str:
    shown = ", ".join(w.id for w in works[:5])
    return shown + (f" and {len(works) - 5} more" if len(works) > 5 else "")


@command("run")
def run(
    manifest: ManifestArg,
    export: Annotated[Path | None, typer.Option(
        "--export", "-e", file_okay=False,
        help="Do not publish: write every work's pages as they would be published, with an HTML preview, "
             "into this folder (one subfolder per work).")] = None,
    wiki: Annotated[str | None, typer.Option(
        "--wiki", "-w", help="Publish every work to this wiki instead of each work's own 'wiki' "
                             "('wikisource:fr', or an api.php URL, e.g. a test wiki).")] = None,
    jobs: JobsOpt = None,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", metavar="ADDRESS",
        help="OCR on a Dask cluster, e.g. tcp://host:8786 (needs the Dask extra: "
             ".venv/bin/pip install 'transcribe[dask]'; every worker needs Tesseract and the "
             "models).")] = None,
    licence: Annotated[str | None, typer.Option(
        "--licence", "--license", help="Licence template for works that name none, e.g. PD-old-70.")] = None,
    institution: Annotated[str | None, typer.Option(
        "--institution", help="Holding library for works that name none.")] = None,
    files_to: Annotated[str | None, typer.Option(
        "--files-to", metavar="auto|local|commons",
        help="Where to upload scans, for works that do not say: 'auto' (the shared file repository the "
             "wiki names, i.e. Commons on Wikimedia wikis; else the wiki itself), 'local' (the wiki "
             "itself) or 'commons' (the shared repository; refused if the wiki has none).")]
    = None,
    tessdata_dir: TessdataOpt = None,
    dpi: DpiOpt = 300,
    update_ocr: Annotated[bool, typer.Option(
        "--update-ocr", help="Replace the OCR text of wiki pages nobody has edited since the last run.")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Show what publishing would do, change nothing on the wiki.")] = False,
    fast: Annotated[bool, typer.Option("--fast", help="OCR with plain Tesseract (see 'transcribe ocr --help').")]
    = False,
    best: Annotated[bool, typer.Option("--best", help="OCR spending more CPU (see 'transcribe ocr --help').")]
    = False,
    learn_in_background: Annotated[bool, typer.Option(
        "--learn-in-background",
        help="Train the book models of works with learn_from one at a time in the background while the next "
             "works are split, read and published; each such work is read and published as soon as its model "
             "is ready (at the latest after the others). The result is the same as without it.")] = False,
    quiet: QuietOpt = False,
) -> None:
    """Split, OCR and publish (or --export) every work of a manifest. Stop any time; run again to continue.

    A work whose entry names checked pages (learn_from, learn_minutes) first gets a model learned from them, then
    the rest of its pages are read with it (with --learn-in-background, while the next works go on). After the table, a line per work says which models read it; a better
    model that is not installed is named once, in a note with the command that installs it."""
    from transcribe.manifest import load_manifest
    from transcribe.pipeline import RunOptions, run_batch

    if export is not None and wiki is not None:
        raise UsageError("Give either --export DIR (offline) or --wiki WIKI (publish), not both.")
    if fast and best:
        raise UsageError("Give either --fast or --best, not both.")
    defaults = {"licence": licence or "", "institution": institution or "", "files_to": files_to or ""}
    overrides = {"wiki": wiki} if wiki else {}
    m = load_manifest(manifest, defaults=defaults, overrides=overrides, tessdata_dir=tessdata_dir,
                      publishing=export is None)
    for warning in m.warnings:
        err(f"note: {warning}")
    if export is None:
        no_wiki = [e.id for e in m.entries if not e.meta.wiki]
        if no_wiki:
            raise ManifestError(
                f"{len(no_wiki)} work(s) have no target wiki: {', '.join(no_wiki)}.",
                hint="Add 'wiki' to them or to [defaults], pass --wiki WIKI, or pass --export DIR to work offline.",
            )
    options = RunOptions(export_dir=export.resolve() if export else None, jobs=jobs, scheduler=scheduler,
                         tessdata_dir=tessdata_dir, dpi=dpi, update_ocr=update_ocr, dry_run=dry_run,
                         ocr_method="fast" if fast else "best" if best else "default",
                         learn_in_background=learn_in_background)
    with progress_bar(quiet) as progress:
        result = run_batch(m, options, progress=progress)

    done_word = "exported" if result.target == "export" else "published"
    if dry_run and result.target != "export":
        done_word = "would publish"
    rows = [[w.id, str(w.pages), str(w.ocrd), str(w.output), str(w.failed), _word(w.status),
             w.reason] for w in result.works]
    typer.echo(_table(["work", "pages", "OCR'd", done_word, "failed", "result", "reason"], rows))
    ok = len(result.works) - len(result.failed)
    where = f" into {export}" if export is not None else ""
    if dry_run and result.target != "export":
        # what would happen is the result of a dry run: on stdout, with the table
        typer.echo(f"Dry run, nothing was written: {ok} of {len(result.works)} work(s) could be published "
                   f"({result.seconds:.0f} s).")
        for w in result.works:
            for note in w.notes:
                typer.echo(f"  {w.id}: {note}")
    else:
        typer.echo(f"{ok} of {len(result.works)} work(s) {done_word}{where} in {result.seconds:.0f} s.")
    _models_read_with(result)
    if not (dry_run and result.target != "export"):
        for w in result.works:
            for note in w.notes:
                if note not in w.reason:
                    err(f"note: {w.id}: {note}")
    if export is not None:
        # The last line, and the path as the user typed it: it is what the README and scripts/demo tell to open.
        err(f"Open {export / 'index.html'} in a browser to review every page before publishing.")
    if result.failed:
        raise PagesFailed(
            f"{len(result.failed)} work(s) did not finish: {', '.join(w.id for w in result.failed)}.",
            hint="The reasons are in the table above. Fix them and run the same command again: "
                 "finished work is kept and not done twice.",
        )


def _models_read_with(result: object) -> None:
    """Which models each work was read with (stdout, the run's result); what learning did; and, once per run,
    the better models the method could not use and how to install them (stderr, like 'transcribe ocr')."""
    from transcribe.cli.ocr import _learned_line
    from transcribe.pipeline import BatchResult

    assert isinstance(result, BatchResult)
    for w in result.works:
        if w.learned is not None:
            typer.echo(f"{w.id}: {_learned_line(w.learned)}")
        if w.read_with:
            typer.echo(f"{w.id}: OCR with '{w.read_with}'.")
    for note in result.model_notes:
        err(f"note: {note}")


@command("status")
def status(
    manifest: ManifestArg,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="table or json.")] = Format.table,
) -> None:
    """Where each work of a batch stands (split, OCR'd, published or exported, failed), from the saved state."""
    from transcribe.manifest import state_path_for
    from transcribe.pipeline import batch_status

    state = state_path_for(manifest)
    if not manifest.is_file() and not state.is_file():  # a typo in the name, not a batch that never ran
        raise ManifestError(f"The manifest {manifest} does not exist.",
                            hint="Check the path, or create an example with 'transcribe init FILE'.")
    if not state.is_file():
        err(f"Nothing has run for {manifest} yet (no {state.name} beside it). Start with: transcribe run {manifest}")
        if fmt is Format.json:
            typer.echo(json.dumps({"running": False, "works": []}, indent=2))
        return
    works, running = batch_status(state)
    if fmt is Format.json:
        typer.echo(json.dumps({"running": running, "works": [w.to_dict() for w in works]}, indent=2,
                              ensure_ascii=False))
        return
    rows = [[w.id, str(w.pages), str(w.ocrd), str(w.published), str(w.exported), str(w.failed), w.state,
             w.stage, w.reason] for w in works]
    header = ["work", "pages", "OCR'd", "published", "exported", "failed", "state", "stage", "reason"]
    if any(w.source for w in works):  # where each work came from (a IIIF manifest's address, or its scan)
        header.append("from")
        for row, w in zip(rows, works):
            row.append(w.source)
    typer.echo(_table(header, rows))
    if running:
        err("A run is working on this batch right now; these numbers are a moment's picture.")


def _word(status: str) -> str:
    return {"done": "done", "partial": "some pages failed", "failed": "failed"}.get(status, status)


def _table(header: list[str], rows: list[list[str]]) -> str:
    """A plain text table: readable in a terminal, and easy to paste into an e-mail."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    numeric = {i for i, h in enumerate(header) if rows and all(r[i].isdigit() for r in rows)}

    def line(cells: list[str]) -> str:
        out = [c.rjust(widths[i]) if i in numeric else c.ljust(widths[i]) for i, c in enumerate(cells)]
        return "  ".join(out).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])
