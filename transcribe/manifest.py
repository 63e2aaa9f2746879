"""A batch manifest: the works a library wants on Wikisource, as TOML or as a CSV kept in a spreadsheet.

TOML: a `[defaults]` table (wiki, licence, institution, files_to, or any other field) and one `[[work]]` table
per work. CSV: one row per work, header names matching `WorkMeta`'s field names (case, spaces and dashes do not
matter), UTF-8 with or without a byte-order mark, comma- or semicolon-separated (spreadsheets in many locales
export ';'). Everything is validated before any work starts, and every problem is reported at once, naming the
CSV line and column or the work's id, so that a librarian can fix the whole file in one go.

Beside the manifest `books.toml` a batch keeps its state in `books.transcribe.db` and each work's page images
and OCR in `books.transcribe/<id>/pages/`.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from transcribe.errors import LanguageError, ManifestError
from transcribe.work import PAGES_DIR, WorkMeta, field_name, misspelt_field

log = logging.getLogger(__name__)

# Where a work's scan file is uploaded (publish's vocabulary): 'auto' = the wiki's shared file repository (Commons
# on Wikimedia wikis) when it has one, else the wiki itself; 'local' = the wiki itself ('wiki' is accepted for
# it); 'commons' = the shared repository the wiki names (meta=filerepoinfo).
FILES_TO = ("auto", "local", "commons")
SCAN_SUFFIXES = {".pdf", ".djvu", ".djv", ".tif", ".tiff", ".zip"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".jp2", ".webp", ".gif", ".bmp", ".pbm", ".pgm",
                  ".ppm"}
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")
# Header names people write in spreadsheets -> WorkMeta's names (on top of work.field_name's own aliases).
_COLUMN_ALIASES = {
    "scan_file": "scan", "scan_folder": "scan", "path": "scan", "source": "source_url", "link": "source_url",
    "languages": "language", "models_override": "models", "tesseract_models": "models", "labels": "page_labels",
    "page_list": "page_labels", "library": "institution", "date": "year", "target_wiki": "wiki",
    "key": "id", "work": "id", "work_id": "id", "files": "files_to",
}


@dataclass(frozen=True)
class Entry:
    """One work of the batch, validated."""

    id: str  # unique key: the folder name in the work area and the work's key in the state
    meta: WorkMeta
    scan: Path  # absolute: a scan file, or a folder of page images
    where: str  # how to name it to a person: 'books.csv line 4' / "books.toml, work 'glauber'"
    files_to: str = "auto"  # where the scan file is uploaded: 'auto', 'local' or 'commons' (see FILES_TO)
    address: str | None = None  # the scan is a IIIF manifest at this http(s) address (`scan` is then a name only)
    learn_from: str | None = None  # checked pages to learn the book's model from: a folder (absolute) or "Index:NAME"
    learn_minutes: float | None = None  # CPU minutes the training may take (None: the learn stage's default)

    @property
    def scan_is_folder(self) -> bool:
        return self.scan.is_dir()

    @property
    def source(self) -> Path | str:
        """What the split stage reads: the manifest's address, or the scan's path."""
        return self.address or self.scan


@dataclass(frozen=True)
class Manifest:
    path: Path
    entries: list[Entry]
    warnings: list[str] = field(default_factory=list)  # things worth knowing that do not stop the run

    @property
    def state_path(self) -> Path:
        """The SQLite state of the batch: `books.toml` -> `books.transcribe.db`."""
        return self.path.with_name(self.path.stem + ".transcribe.db")

    @property
    def work_area(self) -> Path:
        """Page images and OCR of every work: `books.toml` -> `books.transcribe/`."""
        return self.path.with_name(self.path.stem + ".transcribe")

    def pages_dir(self, entry: Entry) -> Path:
        return self.work_area / entry.id / PAGES_DIR


def state_path_for(manifest: str | Path) -> Path:
    """Where the state of a manifest lives, without reading the manifest (for `status`)."""
    p = Path(manifest).resolve()
    return p.with_name(p.stem + ".transcribe.db")


# -- reading ------------------------------------------------------------------------------------------------


def load_manifest(
    path: str | Path,
    *,
    defaults: dict[str, str] | None = None,
    overrides: dict[str, str] | None = None,
    check_models: bool = True,
    tessdata_dir: Path | None = None,
    publishing: bool = False,
) -> Manifest:
    """Read and validate a manifest; ManifestError (exit 10) listing every problem when anything is wrong.

    `publishing`: the batch goes to a wiki, so every work needs a licence for its file page.
    `defaults` fill fields a work leaves empty (after the manifest's own [defaults]); `overrides` replace
    the field in every work (`run --wiki W` sends the whole batch to W). `check_models` also asks Tesseract
    whether each work's models are installed, so a missing model is found before hours of work, not after.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise ManifestError(
            f"The manifest {path} does not exist.",
            hint="Check the path, or create an example with 'transcribe init FILE'.",
        )
    if path.suffix.lower() == ".csv":
        rows, file_defaults, problems, warnings = _read_csv(path)
    elif path.suffix.lower() == ".toml":
        rows, file_defaults, problems, warnings = _read_toml(path)
    else:
        raise ManifestError(
            f"{path.name} is neither a .toml nor a .csv file.",
            hint="Give the manifest as TOML (see 'transcribe init books.toml') or as a CSV saved from a spreadsheet.",
        )
    merged_defaults = {**file_defaults, **{k: v for k, v in (defaults or {}).items() if v}}
    checker = _LanguageChecker(check_models, tessdata_dir)
    entries: list[Entry] = []
    names: list[tuple[str, str, str, str]] = []  # (id, where, destination, file name), valid or not
    for where, data in rows:
        entry, found, name = _entry(path, where, data, merged_defaults, overrides or {}, checker, publishing)
        problems += found
        if name is not None:
            names.append(name)
        if entry is not None:
            entries.append(entry)
    if not rows and not problems:
        problems.append(f"{path.name}: there are no works in it (add a [[work]] table or a CSV row per work)")
    problems += _cross_checks(names)
    problems = list(dict.fromkeys(problems))  # a [defaults] problem is found once per work: say it once
    if problems:
        raise ManifestError(
            f"The manifest {path.name} has {len(problems)} problem(s); nothing was started.",
            # a misspelt column is often why a field is "missing": say so among the problems
            problems=_in_order(problems, [w for w, _ in rows]) + [f"note: {w}" for w in warnings],
            hint="Fix them all and run the same command again.",
        )
    return Manifest(path, entries, warnings)


def _read_toml(path: Path) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, str], list[str], list[str]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as e:
        raise ManifestError(f"{path.name} is not UTF-8 text ({e}).", hint="Save it as UTF-8 and try again.") from e
    except tomllib.TOMLDecodeError as e:
        raise ManifestError(f"{path.name} is not valid TOML: {e}.", hint="Fix the line it names.") from e
    problems: list[str] = []
    warnings: list[str] = []
    defaults: dict[str, str] = {}
    raw_defaults = data.get("defaults", {})
    if not isinstance(raw_defaults, dict):
        problems.append(f"{path.name}: 'defaults' must be a table: [defaults]")
    else:
        for k, v in raw_defaults.items():
            if isinstance(v, (str, int)) and not isinstance(v, bool):
                defaults[_norm_key(k)] = str(v).strip()
            else:
                problems.append(f"{path.name}, [defaults]: '{k}' must be text")
    works = data.get("work", [])
    if isinstance(works, dict):  # a single [work] table instead of [[work]]
        works = [works]
    if not isinstance(works, list) or not all(isinstance(w, dict) for w in works):
        problems.append(f"{path.name}: works must be tables written [[work]]")
        works = []
    for key in data:
        if key not in ("defaults", "work"):
            warnings.append(f"{path.name}: the top-level key '{key}' is not used (works go in [[work]] tables)")
    unknown = sorted({str(k) for w in works for k in w if _norm_key(str(k)) not in _known_keys()})
    for k in unknown:
        if (guess := misspelt_field(_norm_key(k), _known_keys())) is not None:
            problems.append(_misspelt(path.name, "field", k, guess))
        else:
            warnings.append(_unknown_field(path.name, "field", k))
    rows = []
    for i, w in enumerate(works, 1):
        label = w.get("id") or w.get("scan")
        rows.append((f"{path.name}, work '{label}'" if label else f"{path.name}, work number {i}", w))
    return rows, defaults, problems, warnings


def _read_csv(path: Path) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, str], list[str], list[str]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")  # utf-8-sig drops the BOM Excel writes
    except UnicodeDecodeError as e:
        raise ManifestError(
            f"{path.name} is not UTF-8 text (byte {e.start} cannot be read).",
            hint="In the spreadsheet, save it again as 'CSV UTF-8' and try again.",
        ) from e
    lines = text.splitlines()
    header_line = next((ln for ln in lines if ln.strip()), "")
    # The delimiter is whichever of ';' and ',' splits the header into more cells (a title may hold commas,
    # but a header row does not).
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    problems: list[str] = []
    warnings: list[str] = []
    header: list[str] | None = None
    rows: list[tuple[str, dict[str, Any]]] = []
    line = 1  # the physical line a record starts on, as a spreadsheet numbers its rows
    for record in reader:
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in record):
            continue  # spreadsheets export empty rows as ';;;;'
        if header is None:
            header = [c.strip() for c in record]
            seen: dict[str, str] = {}
            for name in header:
                k = _norm_key(name)
                if k and k in seen:
                    problems.append(f"{path.name} line {start}: the columns '{seen[k]}' and '{name}' "
                                    "mean the same field; keep one")
                seen[k] = name
                if k and k not in _known_keys():
                    if (guess := misspelt_field(k, _known_keys())) is not None:
                        problems.append(_misspelt(f"{path.name} line {start}", "column", name, guess))
                    else:
                        warnings.append(_unknown_field(path.name, "column", name))
            continue
        if len(record) > len(header) and any(c.strip() for c in record[len(header):]):
            problems.append(f"{path.name} line {start}: {len(record)} cells but the header has {len(header)} "
                            "columns (is a value with a ';' or ',' missing its quotes?)")
        data = {name: value for name, value in zip(header, record) if name}
        rows.append((f"{path.name} line {start}", data))
    if header is None:
        problems.append(f"{path.name} is empty: the first row must name the columns (id, scan, title, language...)")
    return rows, {}, problems, warnings


def _misspelt(where: str, what: str, name: str, guess: str) -> str:
    """A key close to a known field: a problem, since its values would otherwise go nowhere the user meant."""
    return f"{where}: the {what} '{name}' is not a known field; did you mean '{guess}'? (rename the {what})"


def _unknown_field(file: str, what: str, name: str) -> str:
    """A key far from every field: an extra field, passed to the Index page field of the same name."""
    return (f"{file}: the {what} '{name}' is not a known field; its values go to the Index page's field of that "
            "name where the wiki's Index form has one, else they are left out (the preview and publish name them)")


def _known_keys() -> set[str]:
    return {f.name for f in fields(WorkMeta)} - {"extra"} | {"id", "files_to", "learn_from", "learn_minutes"}


def _norm_key(key: str) -> str:
    k = field_name(key)
    return _COLUMN_ALIASES.get(k, k)


def _entry(
    manifest: Path, where: str, data: dict[str, Any], defaults: dict[str, str], overrides: dict[str, str],
    checker: _LanguageChecker, publishing: bool,
) -> tuple[Entry | None, list[str], tuple[str, str, str, str] | None]:
    problems: list[str] = []
    values: dict[str, Any] = {}
    for key, value in data.items():
        values[_norm_key(str(key))] = value
    from_defaults: set[str] = set()
    for k, v in defaults.items():
        if not str(values.get(k, "") or "").strip():
            values[k] = v
            from_defaults.add(k)
    values.update({k: v for k, v in overrides.items() if v})
    placeholders = [k for k, v in values.items() if is_placeholder(v)]
    for k in placeholders:
        where_k = f"{manifest.name}, [defaults]" if k in from_defaults else where
        what = ("fill it in" if k in ("scan", "title", "language") else  # needed: deleting it is no way out
                "fill it in, or delete the line" + ("" if k in from_defaults else " if the work has none"))
        problems.append(f"{where_k}: '{k}' is still the example's placeholder {str(values.pop(k)).strip()}: "
                        + what)

    raw_id = str(values.pop("id", "") or "").strip()
    files_to = str(values.pop("files_to", "") or "auto").strip().lower()
    files_to = {"wiki": "local", "wikisource": "local"}.get(files_to, files_to)
    if files_to not in FILES_TO:
        problems.append(f"{where}: files_to '{files_to}' must be 'auto', 'local' (the wiki itself) or 'commons'")
    learn_from, learn_minutes = _learning(manifest, where, values, problems)
    scan_value = str(values.get("scan", "") or "").strip()
    scan: Path | None = None
    address = scan_value if re.match(r"(?i)https?://", scan_value) else None  # a IIIF manifest (split/iiif.py)
    if not scan_value:
        problems.append(f"{where}: 'scan' is missing (the scan file or folder, relative to {manifest.name})")
    elif address:
        scan = Path(_address_stem(address) + ".json")  # a name only: the pages are fetched by split
    else:
        scan = (manifest.parent / scan_value).resolve()
        problems += _check_scan(where, scan_value, scan)
    if raw_id:
        if not _ID_RE.fullmatch(raw_id):
            problems.append(f"{where}: id '{raw_id}' may only hold letters, digits, '.', '_' and '-' "
                            "(it names the work's folder)")
        work_id = raw_id
    else:
        work_id = _slug(_address_stem(address) if address else Path(scan_value).stem) if scan_value else ""
    refused = _licence_refusal(data, values)
    if refused and not publishing and not str(_own(data, "licence")).strip():
        # an export shows what would be published: not a [defaults]/--licence licence that publishing refuses
        values.pop("licence", None)
    try:
        meta = WorkMeta.from_mapping(values, where=where, names_checked=True)
    except ManifestError as e:
        problems += e.problems
        meta = None
    if refused and publishing:
        problems.append(f"{where}: {refused}")
    elif publishing and not str(values.get("licence", "") or "").strip():
        problems.append(f"{where}: 'licence' is missing (a scan is never uploaded without one: give a template "
                        "such as PD-old-70, here or in [defaults], or pass --licence)")
    file_name = ""
    if meta is not None and scan is not None:
        try:
            file_name = target_file_name_for(meta, scan)
        except ValueError as e:  # pagetext.FileNameError
            problems.append(f"{where}: file_name: {e} Try '{getattr(e, 'suggestion', '')}'.")
    lang = str(values.get("language", "") or "").strip()
    if lang and not any(p.startswith(f"{where}: language") for p in problems):
        problems += [f"{where}: {p}" for p in checker.check(lang, str(values.get("models", "") or "").strip())]
    name = None
    if work_id:
        dest = "commons" if files_to == "commons" else str(values.get("wiki", "") or "").strip()
        name = (work_id, where, dest, file_name)
    # a placeholder is the problem to fix, not the field it leaves missing
    problems = [p for p in problems if not any(p.startswith(f"{where}: '{k}' is missing") for k in placeholders)]
    if problems or meta is None or scan is None:
        return None, problems, name
    return (Entry(work_id, replace(meta, scan=scan_value), scan, where, files_to, address, learn_from, learn_minutes),
            [], name)


def _learning(manifest: Path, where: str, values: dict[str, Any], problems: list[str]) -> tuple[str | None,
                                                                                                float | None]:
    """`learn_from` (a folder of checked pages, relative to the manifest, or "Index:NAME" on the work's wiki) and
    `learn_minutes` (a positive number), taken out of `values` (they are the run's, not the Index page's)."""
    source = str(values.pop("learn_from", "") or "").strip()
    raw_minutes = values.pop("learn_minutes", None)
    minutes: float | None = None
    if raw_minutes is not None and str(raw_minutes).strip():
        try:
            minutes = float(str(raw_minutes).strip().replace(",", "."))
        except ValueError:
            minutes = None
        if minutes is None or not minutes > 0 or isinstance(raw_minutes, bool):
            problems.append(f"{where}: learn_minutes '{raw_minutes}' must be a number of minutes above 0, e.g. 4")
            minutes = None
        elif not source:
            problems.append(f"{where}: learn_minutes is given but learn_from is not (the checked pages to learn "
                            "from): add learn_from, or delete learn_minutes")
    if not source:
        return None, minutes
    if source.startswith("Index:"):
        if not str(values.get("wiki", "") or "").strip():
            problems.append(f"{where}: learn_from '{source}' is an Index page, but the work has no 'wiki' to read "
                            "it from: add 'wiki' here or in [defaults], or pass --wiki")
        return source, minutes
    folder = (manifest.parent / source).resolve()
    if not folder.is_dir():
        problems.append(f"{where}: learn_from: the folder of checked pages '{source}' does not exist (give a folder "
                        f"of X.gt.txt files named after the page images, relative to {manifest.name}, or "
                        "\"Index:NAME\")")
    return str(folder), minutes


def address_stem(address: str) -> str:
    """A name from a manifest's address: 'https://x.org/iiif/bsb00122140/manifest' -> 'bsb00122140' ('' when
    it has none). The one rule for a work id from an address (`run`, `init --from`, a collection's members)."""
    parts = [p for p in re.split(r"[/?=&]", address.split("://", 1)[-1])[1:] if p]
    parts = [p for p in parts if not re.fullmatch(
        r"(?i)manifest(\.json)?|iiif|presentation|items?|v\d+|\d{1,3}(\.\d)?", p)]
    return re.sub(r"(?i)\.json$", "", parts[-1]) if parts else ""


def _address_stem(address: str) -> str:
    return address_stem(address) or "manifest"


def _own(data: dict[str, Any], key: str) -> str:
    """What the work's own entry says for `key` ('' when it leaves it to [defaults] or an option)."""
    return next((str(v or "").strip() for k, v in data.items() if _norm_key(str(k)) == key), "")


def _licence_refusal(data: dict[str, Any], values: dict[str, Any]) -> str | None:
    """Why the work may not be published with its licence (licences.refusal). A licence from [defaults] or
    --licence is not a decision about a work whose source's licence is not free: only the work's own counts then."""
    from transcribe.licences import refusal

    own = _own(data, "licence")
    rights = str(values.get("source_rights", "") or "")
    return refusal(own, rights) if rights.strip() and not own else refusal(str(values.get("licence", "") or ""),
                                                                          rights)


def _check_scan(where: str, value: str, scan: Path) -> list[str]:
    if scan.is_dir():
        if not any(p.suffix.lower() in IMAGE_SUFFIXES for p in scan.iterdir() if p.is_file()):
            return [f"{where}: the scan folder '{value}' has no page images (.png, .jpg, .tif...)"]
        return []
    if not scan.exists():
        return [f"{where}: the scan '{value}' does not exist (looked for {scan})"]
    if scan.suffix.lower() not in SCAN_SUFFIXES | IMAGE_SUFFIXES | {".json"}:  # .json: a IIIF manifest
        return [f"{where}: the scan '{value}' is not a PDF, DjVu, TIFF, ZIP of images, a folder of page images "
                "or a IIIF manifest"]
    return []


def _slug(stem: str) -> str:
    """A work id from a file name: 'Glauber – Annotationes (1659)' -> 'Glauber-Annotationes-1659'."""
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_stem).strip("-._")
    return slug[:80] or "work"


def target_file_name(entry: Entry) -> str:
    """The scan's name on the wiki, without 'File:': the work's file_name, or '<Title> (<year>).pdf'."""
    return target_file_name_for(entry.meta, entry.scan)


def upload_extension(scan: Path, file_name: str = "") -> str:
    """A wiki pages through PDF and DjVu only: anything else (folder, TIFF, ZIP, image) is bundled, into a
    DjVu when the work's file_name asks for one, else into a PDF."""
    ext = scan.suffix.lower() if not scan.is_dir() else ""
    if ext in (".pdf", ".djvu", ".djv"):
        return ".djvu" if ext == ".djv" else ext
    return ".djvu" if file_name.lower().endswith((".djvu", ".djv")) else ".pdf"


def target_file_name_for(meta: WorkMeta, scan: Path) -> str:
    """The same name publish will use (wiki.pagetext), so that clashes are found before anything runs."""
    from transcribe.wiki import pagetext as pt

    ext = upload_extension(scan, meta.file_name)
    return pt.check_file_name(pt.default_file_name(meta, ext), ext)


def _cross_checks(names: list[tuple[str, str, str, str]]) -> list[str]:
    from transcribe.wiki.pagetext import normalise_file_name  # how MediaWiki compares file names

    problems: list[str] = []
    by_id: dict[str, str] = {}
    by_file: dict[tuple[str, str], str] = {}
    for work_id, where, dest, file_name in names:
        if work_id in by_id:
            problems.append(f"{where}: the id '{work_id}' is already used by {by_id[work_id]} "
                            "(give each work its own 'id')")
        else:
            by_id[work_id] = where
        key = (dest, normalise_file_name(file_name))
        if not file_name:
            continue
        if key in by_file:
            problems.append(f"{where}: the file name 'File:{file_name}' is also the target of {by_file[key]}; "
                            "give one of them another 'file_name'")
        else:
            by_file[key] = where
    return problems


def _in_order(problems: list[str], wheres: list[str]) -> list[str]:
    """Problems sorted by the row they are about, so a person can walk down the spreadsheet once."""
    rank = {w: i for i, w in enumerate(wheres)}

    def key(p: str) -> int:
        for w, i in rank.items():
            if p.startswith(w + ":"):
                return i
        return -1

    return sorted(problems, key=key)


class _LanguageChecker:
    """Language codes (via langs) and, optionally, installed models; each distinct pair asked once."""

    def __init__(self, check_models: bool, tessdata_dir: Path | None) -> None:
        self.check_models = check_models
        self.tessdata_dir = tessdata_dir
        self._languages: dict[str, Any] | None = None
        self._cache: dict[tuple[str, str], list[str]] = {}

    def check(self, lang: str, models: str) -> list[str]:
        from transcribe import langs

        if (lang, models) in self._cache:
            return self._cache[(lang, models)]
        found: list[str] = []
        try:
            if self._languages is None:
                self._languages = langs.load_languages()
            langs.get_language(lang, self._languages)
        except LanguageError as e:
            found.append(f"language: {e.message}")
        else:
            if self.check_models:
                try:
                    langs.resolve_models(lang, models or None, self.tessdata_dir)
                except LanguageError as e:
                    found.append(f"models: {e.message}")
        self._cache[(lang, models)] = found
        return found


# -- writing the example ---------------------------------------------------------------------------------------

EXAMPLE_TOML = '''\
# A transcribe manifest: the works of one batch. Run it with:  transcribe run {name}
# Paths are relative to this file. Lines starting with '#' are comments.
# Every value written "<like this>" is a placeholder: replace it with your own, or delete the line if the work
# has none. Until then the manifest is refused (exit 10), so nobody publishes this example by mistake.
# The batch keeps its state in {stem}.transcribe.db and page images in {stem}.transcribe/ beside this file:
# run the same command again after a stop and it continues where it was.

[defaults]                      # used by every work that does not say otherwise
wiki = "<wikisource:xx>"        # where to publish: 'wikisource:fr', 'wikisource:de'... or an api.php address
licence = "<licence template>"  # for the scan's file page, e.g. "PD-old-70" (author died over 70 years ago)
institution = "<your library>"  # the holder of the original, e.g. "Staatsbibliothek zu Berlin"
files_to = "auto"               # where scans go: "auto" (the wiki's shared repository: Commons for Wikisource), "local", "commons"

[[work]]
# id = "glauber-annotationes"   # optional: a short unique name (letters, digits, - _ .); default: from the scan's file name
scan = "<scans/your-book.pdf>"  # a PDF, DjVu or TIFF, a folder of page images, or a IIIF manifest's address, e.g. "scans/glauber.pdf"
# (for a IIIF manifest, 'transcribe init other.toml --from ADDRESS' writes a filled-in entry instead)
title = "<title as printed>"    # e.g. "Annotationes vber den Appendicem"
author = "<author>"             # e.g. "Johann Rudolf Glauber"
year = "<year>"                 # e.g. "1659", "1761-1765", "c. 1600"
language = "<language code>"    # the Wikisource language code, e.g. "de" ('transcribe langs list' shows them all)
source_url = "<address of the scan in your catalogue>"   # e.g. "https://digital.staatsbibliothek-berlin.de/werkansicht?PPN=PPN66072944X"
# models = "frk"                # optional: Tesseract models instead of the language's own (here: Fraktur)
# page_labels = "1=10"          # optional: printed page numbers, e.g. "1=Cover 2to5=roman 2=1 7=1"
# file_name = "Glauber Annotationes 1659.pdf"   # optional: the scan's name on the wiki (default: "Title (year).pdf")
# Optional, for the scan's file page on Commons ({{{{Book}}}}): subtitle, volume, edition, translator, editor,
# illustrator, printer, description, oclc, isbn, lccn, and Commons categories:
# categories = ["Johann Rudolf Glauber", "Alchemy books"]

# [[work]]                      # the next work: copy the table above and change what differs
# scan = "scans/another-book.djvu"
# title = "..."
# language = "de"
'''

EXAMPLE_CSV_HEADER = ["id", "scan", "title", "author", "year", "language", "models", "licence", "institution",
                      "source_url", "page_labels", "wiki", "file_name"]
# The CSV has no comments: its one row holds placeholders (refused until filled in) and optional cells left empty.
EXAMPLE_CSV_ROW = ["", "<scans/your-book.pdf>", "<title as printed>", "<author>", "<year>", "<language code>", "",
                   "<licence template, e.g. PD-old-70>", "<your library>", "<address of the scan in your catalogue>",
                   "", "<wikisource:xx>", ""]
_PLACEHOLDER_RE = re.compile(r"<[^<>]*>")


def is_placeholder(value: Any) -> bool:
    """A value still as the example of `transcribe init` wrote it: "<title as printed>"."""
    return isinstance(value, str) and _PLACEHOLDER_RE.fullmatch(value.strip()) is not None


def example_manifest(path: Path) -> str:
    """The commented example `transcribe init` writes (a CSV gets a header and one example row)."""
    if path.suffix.lower() == ".csv":
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\r\n")
        w.writerow(EXAMPLE_CSV_HEADER)
        w.writerow(EXAMPLE_CSV_ROW)
        return out.getvalue()
    return EXAMPLE_TOML.format(name=path.name, stem=path.stem)


def write_example(path: str | Path) -> Path:
    """Write the example manifest; refuse to overwrite an existing file (it may be a library's real list)."""
    from transcribe.errors import Refused
    from transcribe.fsutil import write_text

    path = Path(path)
    if path.suffix.lower() not in (".toml", ".csv"):
        raise ManifestError(f"{path.name}: a manifest is a .toml or a .csv file.",
                            hint="Give a name such as books.toml or books.csv.")
    if path.exists():
        raise Refused(f"{path} already exists; it was left as it is.",
                      hint="Choose another name, or move the file away first.")
    write_text(path, example_manifest(path))
    return path
