"""langs list|show|check: which languages transcribe knows and which models are installed."""

from __future__ import annotations

import csv
import io
import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from transcribe import langs as L
from transcribe import models as M
from transcribe.errors import UsageError
from transcribe.cli._app import ModelsOpt, QuietOpt, TessdataOpt, app, command, err, progress_bar

sub = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                  context_settings={"help_option_names": ["-h", "--help"]})
app.add_typer(sub, name="langs",
              help="Which Wikisource languages transcribe knows, their Tesseract models, and which are installed.")


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


LangsDirOpt = Annotated[
    list[Path] | None,
    typer.Option("--langs-dir", file_okay=False,
                 help="A folder of extra language files (CODE.toml) merged over the shipped ones; "
                      "may be repeated. TRANSCRIBE_LANGS_DIR does the same for every command."),
]
CodeArg = Annotated[str, typer.Argument(help="Wikisource language code, such as fr, de, bn or zh-min-nan.")]


def _load(langs_dir: list[Path] | None) -> dict[str, L.Language]:
    return L.load_languages(extra_dirs=langs_dir or ())


def _row(lang: L.Language, installed: set[str]) -> dict[str, Any]:
    return {
        "code": lang.code, "name": lang.name, "native_name": lang.native_name, "scripts": list(lang.scripts),
        "direction": lang.direction, "models": lang.model_string or "", "packages": list(lang.packages),
        "status": L.status(lang, installed),
        "missing": [m for m in lang.models if not L.is_loadable(m, installed)],
        "notes": lang.notes,
    }


def _machine_readable(rows: list[dict[str, Any]], fmt: Format, csv_columns: list[str]) -> bool:
    """Print `rows` as JSON or CSV (lists joined with spaces) and return True; False for a table."""
    if fmt is Format.json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return True
    if fmt is Format.csv:
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(csv_columns)
        for r in rows:
            w.writerow([" ".join(r[k]) if isinstance(r[k], list) else r[k] for k in csv_columns])
        typer.echo(out.getvalue(), nl=False)
        return True
    return False


def _print_table(table: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


@command("list", group=sub)
def list_(
    installed: Annotated[bool, typer.Option("--installed", help="Only languages whose models are installed.")]
    = False,
    missing: Annotated[bool, typer.Option("--missing", help="Only languages with a model not installed.")]
    = False,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="table, csv or json.")] = Format.table,
    tessdata_dir: TessdataOpt = None,
    langs_dir: LangsDirOpt = None,
) -> None:
    """Every language: code, name, script, Tesseract models, and whether they are installed."""
    have = L.installed_models(tessdata_dir)
    rows = [_row(lang, have) for lang in sorted(_load(langs_dir).values(), key=lambda x: x.code)]
    if installed or missing:
        keep = {"installed"} if installed else set()
        keep |= {"missing"} if missing else set()
        rows = [r for r in rows if r["status"] in keep]
    if _machine_readable(rows, fmt, ["code", "name", "native_name", "scripts", "direction", "models", "packages",
                                     "status"]):
        return
    table = [["code", "name", "script", "models", "status"]]
    table += [[r["code"], r["name"], "+".join(r["scripts"]), r["models"] or "-", r["status"]] for r in rows]
    _print_table(table)
    counts = {s: sum(r["status"] == s for r in rows) for s in ("installed", "missing", "no model")}
    typer.echo(f"{len(rows)} languages: {counts['installed']} installed, {counts['missing']} missing a model, "
        f"{counts['no model']} without a Tesseract model (pages made ready for typing).")


@command("show", group=sub)
def show(
    code: CodeArg,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="table (readable text), csv or json.")]
    = Format.table,
    tessdata_dir: TessdataOpt = None,
    langs_dir: LangsDirOpt = None,
) -> None:
    """Everything transcribe knows about one language, and whether each of its models is installed."""
    lang = L.get_language(code, _load(langs_dir))
    have = L.installed_models(tessdata_dir)  # one `tesseract --list-langs` for the row and each model
    info = _row(lang, have)
    info["model_status"] = {m: ("installed" if L.is_loadable(m, have) else "missing") for m in lang.models}
    info["source"] = lang.source
    if fmt is Format.json:
        typer.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    if fmt is Format.csv:  # one row, the columns of 'langs list --format csv' and what is missing
        _machine_readable([info], fmt, ["code", "name", "native_name", "scripts", "direction", "models", "packages",
                                        "status", "missing"])
        return
    models = ", ".join(f"{m} ({s})" for m, s in info["model_status"].items())
    lines = [
        ("code", lang.code), ("name", lang.name), ("native name", lang.native_name or "-"),
        ("scripts", ", ".join(lang.scripts)), ("direction", "right to left" if lang.direction == "rtl"
                                                 else "left to right"),
        ("models", models or "none: Tesseract has no model for this script; pages are made ready for typing"),
        ("use as", f"--models {lang.model_string}" if lang.model_string else "-"),
        ("packages", " ".join(lang.packages) or "-"), ("status", info["status"]),
        ("notes", lang.notes or "-"), ("file", lang.source),
    ]
    for key, value in lines:
        typer.echo(f"{key + ':':<13}{value}")


@command("check", group=sub)
def check(
    code: CodeArg,
    models: ModelsOpt = None,
    tessdata_dir: TessdataOpt = None,
    langs_dir: LangsDirOpt = None,
) -> None:
    """Is everything installed to OCR this language? Exit 0 if ready, 5 with what to install if not."""
    languages = _load(langs_dir)
    lang = L.get_language(code, languages)
    resolved = L.resolve_models(code, models, tessdata_dir, languages=languages)
    where = f" in {tessdata_dir}" if tessdata_dir else ""
    if resolved is None:
        # Nothing to install, so exit 0; but not "ready": there will be no OCR at all.
        typer.echo(f"no OCR for {lang.name} ('{code}'): Tesseract has no model for its main script "
                   f"({lang.scripts[0]}), so its pages will be made ready for typing, without OCR text.")
        if lang.notes:
            err(f"note: {lang.notes}")
    else:
        from transcribe.ocr import OcrSettings, reading_for

        # what the default method reads with: an installed catalogue model in place of the Debian ones it replaces
        reading, _ = reading_for(OcrSettings(models=resolved, tessdata_dir=str(tessdata_dir) if tessdata_dir else None))
        instead = "" if reading.models == resolved else \
            f" (a catalogue model, in place of {models_phrase(resolved, bare=True)}, which --fast reads with)"
        typer.echo(f"ready: {lang.name} ('{code}') will be read with {models_phrase(reading.models)}{where}{instead}.")
        for better in M.better_missing(resolved, code):
            err(f"note: a better model, {better.name}, is not installed (it reads {better.reads} in place of "
                f"{'+'.join(better.replaces)}): transcribe langs install {better.name}")


def models_phrase(models: str, *, bare: bool = False) -> str:
    """'deu+frk' -> "the Tesseract models 'deu' and 'frk'"; 'frk' -> "the Tesseract model 'frk'" (bare: "'frk'")."""
    names = [f"'{m}'" for m in models.split("+")]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    if bare:
        return listed
    return f"the Tesseract model{'' if len(names) == 1 else 's'} {listed}"


# -- models beyond Debian's (langs/models.toml) ---------------------------------------------------------------


def _model_row(m: M.CatalogModel, installed: set[str]) -> dict[str, Any]:
    return {"name": m.name, "reads": m.reads, "scripts": list(m.scripts), "languages": list(m.languages),
            "periods": list(m.periods), "kind": m.kind, "size": m.size, "licence": m.licence,
            "status": "installed" if m.name in installed else "missing", "recommended": m.recommended,
            "replaces": list(m.replaces), "url": m.url, "sha256": m.sha256, "description": m.description,
            "licence_note": m.licence_note, "measured": m.measured}


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


@command("models", group=sub)
def models_(
    fmt: Annotated[Format, typer.Option("--format", "-f", help="table, csv or json.")] = Format.table,
) -> None:
    """Public models beyond Debian's (langs/models.toml): what each reads, its licence, and whether it is installed."""
    installed = M.installed_catalogue_models()
    rows = [_model_row(m, installed) for m in M.catalogue().values()]
    if _machine_readable(rows, fmt, ["name", "reads", "kind", "size", "licence", "status", "recommended",
                                     "replaces", "url", "sha256"]):
        return
    table = [["name", "reads (scripts; languages; years)", "kind", "size", "licence", "status"]]
    table += [[r["name"] + (" *" if r["recommended"] else ""), r["reads"], r["kind"], _mb(r["size"]),
               r["licence"], r["status"]] for r in rows]
    _print_table(table)
    typer.echo("* recommended. An installed model is read in place of the Debian models it replaces "
               f"(--format json shows them). Models folder: {M.models_dir()}")


@command("install", group=sub)
def install(
    names: Annotated[list[str] | None, typer.Argument(help="Catalogue model names (see 'transcribe langs models').",
                                                      show_default=False)] = None,
    source: Annotated[str | None, typer.Option(
        "--from", metavar="SOURCE",
        help="A folder, file: address or http(s) base address holding NAME.traineddata (a local copy), "
             "instead of the model's public address.")] = None,
    recommended: Annotated[bool, typer.Option("--recommended", help="Also every recommended model.")] = False,
    all_: Annotated[bool, typer.Option("--all", help="Every model of the catalogue.")] = False,
    retries: Annotated[int, typer.Option("--retries", min=0, help="Further attempts after a failed one.")] = 5,
    timeout: Annotated[float, typer.Option("--timeout", min=1, metavar="SECONDS",
                                           help="Seconds to wait for the server to answer.")] = 60.0,
    quiet: QuietOpt = False,
) -> None:
    """Download models into your models folder: resumable, checked against their SHA-256, written atomically."""
    cat = M.catalogue()
    wanted = list(dict.fromkeys([*(names or []), *(m.name for m in cat.values() if all_ or
                                                  (recommended and m.recommended))]))
    if not wanted:
        raise UsageError("No model named: give a NAME, --recommended or --all "
                              "(see 'transcribe langs models').")
    for name in wanted:
        M.get_model(name)  # every name checked before anything is fetched
    def identity(path: Path) -> tuple[int, int] | None:
        return (path.stat().st_ino, path.stat().st_mtime_ns) if path.exists() else None

    with progress_bar(quiet) as progress:
        for name in wanted:
            before = identity(M.models_dir() / cat[name].file)
            path = M.install(name, source=source, progress=progress, retries=retries, timeout=timeout)
            was = "already installed" if identity(path) == before else "installed"
            typer.echo(f"{was}: {name} ({cat[name].licence}) in {path}")
