"""Models beyond Debian's: the catalogue `langs/models.toml`, the user's model folder, installing, and one folder
Tesseract can load any combination from.

- The catalogue lists public models that read some scripts, languages or periods better than Debian's, with their
  source address (pinned to a commit), SHA-256, size, licence, kind (float models can be fine-tuned) and what
  justifies them (`measured`). `replaces` names the Debian models the default OCR method reads in place of when
  the model is installed (a `recommended` one before the others).
- `install(name)` downloads a model with `transcribe.download` (resumable, checked, atomic) into `models_dir()`
  under its catalogue file name; `source` installs from a local copy instead (a folder, a `file:` address, or an
  http(s) base address holding the file by that name), through the same code.
- Tesseract loads models from ONE folder (`--tessdata-dir`; 5.3.0 then looks nowhere else). `tessdata_for(models)`
  makes the user's model folder such a folder on demand: symbolic links to Debian's models (and its `configs`)
  beside the installed catalogue models, so `-l german_print+grc` works. When the models folder cannot be written,
  the links go to a folder of this user in the temporary folder instead.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import os
import re
import tempfile
import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path

from transcribe import download, fsutil
from transcribe.errors import LanguageError
from transcribe.langs import CATALOGUE_FILE, LANGS_DIR, default_tessdata_dir
from transcribe.events import ProgressFn

ENV_VAR = "TRANSCRIBE_MODELS_DIR"
KINDS = ("float", "integer")
# Tesseract's own folder when it cannot be asked (Debian 12); `tesseract --list-langs` is asked first.
DEBIAN_TESSDATA = Path("/usr/share/tesseract-ocr/5/tessdata")
# What Tesseract reads from its folder besides models (configs for `hocr`, `txt`; pdf.ttf for PDF output).
_TESSDATA_EXTRAS = ("configs", "tessconfigs", "pdf.ttf")

_FIELDS: dict[str, type | tuple[type, ...]] = {
    "name": str, "file": str, "description": str, "scripts": list, "languages": list, "periods": list,
    "url": str, "sha256": str, "size": int, "kind": str, "licence": str, "licence_note": str, "replaces": list,
    "recommended": bool, "measured": str,
}
_OPTIONAL = {"licence_note"}
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_PERIOD_RE = re.compile(r"^\d{3,4}-\d{3,4}$")


@dataclass(frozen=True)
class CatalogModel:
    name: str  # what `-l` and `langs install` call it
    file: str  # the installed file name: NAME.traineddata
    description: str
    scripts: tuple[str, ...]  # ISO 15924 ('Latf' = Fraktur)
    languages: tuple[str, ...]  # Wikisource codes it reads well
    periods: tuple[str, ...]  # 'YYYY-YYYY' ranges of printing it was trained on or measured with
    url: str  # the public source, pinned to a commit
    sha256: str
    size: int  # bytes
    kind: str  # 'float' (can be fine-tuned) | 'integer'
    licence: str  # SPDX identifier
    licence_note: str
    replaces: tuple[str, ...]  # Debian models the default reads in place of when installed (recommended first)
    recommended: bool
    measured: str  # what justifies it, and where the numbers come from

    @property
    def reads(self) -> str:
        """'Fraktur, Latin script; de la fr; 1500-1900': scripts (by name); languages; periods."""
        scripts = ", ".join(SCRIPT_NAMES.get(s, s) for s in self.scripts)
        return "; ".join(x for x in (scripts, " ".join(self.languages), " ".join(self.periods)) if x)


# ISO 15924 codes of the catalogue, by the names a librarian uses ('Latf' is how ISO writes Fraktur).
SCRIPT_NAMES = {"Latf": "Fraktur", "Latn": "Latin script", "Latg": "Gaelic", "Grek": "Greek", "Cyrl": "Cyrillic",
                "Hebr": "Hebrew", "Arab": "Arabic"}


def catalogue_path() -> Path:
    return LANGS_DIR / CATALOGUE_FILE


def _validate(i: int, data: dict[str, object]) -> list[str]:
    where = f"{CATALOGUE_FILE}, model {i + 1} ({data.get('name', '?')})"
    problems = []
    for key, typ in _FIELDS.items():
        if key not in data:
            if key not in _OPTIONAL:
                problems.append(f"{where}: the field '{key}' is missing")
        elif not isinstance(data[key], typ) or (typ is int and isinstance(data[key], bool)):
            problems.append(f"{where}: the field '{key}' must be {typ.__name__}")  # type: ignore[union-attr]
    problems += [f"{where}: unknown field '{k}'" for k in data if k not in _FIELDS]
    if problems:
        return problems
    if not _NAME_RE.match(str(data["name"])):
        problems.append(f"{where}: 'name' must be letters, digits, '_' or '-'")
    if data["file"] != f"{data['name']}.traineddata":
        problems.append(f"{where}: 'file' must be '{data['name']}.traineddata' (Tesseract loads NAME.traineddata)")
    if not _SHA256_RE.match(str(data["sha256"])):
        problems.append(f"{where}: 'sha256' must be 64 lower-case hex digits")
    if data["kind"] not in KINDS:
        problems.append(f"{where}: 'kind' must be 'float' or 'integer'")
    if not str(data["url"]).startswith(("https://", "http://")):
        problems.append(f"{where}: 'url' must be an http(s) address")
    for p in data["periods"]:  # type: ignore[union-attr]
        if not isinstance(p, str) or not _PERIOD_RE.match(p):
            problems.append(f"{where}: in 'periods', {p!r} is not a range of years such as '1500-1900'")
    return problems


@functools.cache
def _load(path: Path, mtime: float) -> dict[str, CatalogModel]:
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise LanguageError(f"{path}: the model catalogue is not readable TOML ({e}).") from None
    entries = data.get("model", [])
    problems = [f"{path.name}: unknown top-level key '{k}'" for k in data if k != "model"]
    out: dict[str, CatalogModel] = {}
    for i, entry in enumerate(entries):
        found = _validate(i, entry)
        if found:
            problems += found
            continue
        if entry["name"] in out:
            problems.append(f"{path.name}: the model {entry['name']!r} is named twice")
        out[entry["name"]] = CatalogModel(
            name=entry["name"], file=entry["file"], description=entry["description"].strip(),
            scripts=tuple(entry["scripts"]), languages=tuple(entry["languages"]), periods=tuple(entry["periods"]),
            url=entry["url"], sha256=entry["sha256"], size=entry["size"], kind=entry["kind"],
            licence=entry["licence"], licence_note=entry.get("licence_note", "").strip(),
            replaces=tuple(entry["replaces"]), recommended=entry["recommended"], measured=entry["measured"].strip())
    if problems:
        raise LanguageError(f"The model catalogue has {len(problems)} problem(s): {'; '.join(problems)}.",
                            hint="Fix langs/models.toml (its fields are in langs/README.md).")
    return out


def catalogue(path: Path | None = None) -> dict[str, CatalogModel]:
    """Every catalogue model by name (`langs/models.toml`); LanguageError naming the entry and field if one is bad."""
    path = path or catalogue_path()
    return _load(path, path.stat().st_mtime if path.exists() else 0.0)


def get_model(name: str) -> CatalogModel:
    """A catalogue model by name; LanguageError (exit 5) with a suggestion for an unknown one."""
    cat = catalogue()
    if name in cat:
        return cat[name]
    lower = {k.lower(): k for k in cat}
    guess = lower.get(name.lower().removesuffix(".traineddata"))
    if guess is None:
        close = difflib.get_close_matches(name.lower(), list(lower), n=1, cutoff=0.6)
        guess = lower[close[0]] if close else None
    hint = f"Did you mean '{guess}'?" if guess else "See 'transcribe langs models' for the catalogue."
    raise LanguageError(f"'{name}' is not a model in the catalogue. {hint}")


# -- where models go ------------------------------------------------------------------------------------------


def models_dir() -> Path:
    """$TRANSCRIBE_MODELS_DIR, else $XDG_DATA_HOME/transcribe/models, else ~/.local/share/transcribe/models."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "transcribe" / "models"


def installed_catalogue_models() -> set[str]:
    """Names of catalogue models whose file is in `models_dir()` with the catalogue's size (a quick check; the
    SHA-256 was checked when it was installed)."""
    folder = models_dir()
    out = set()
    for m in catalogue().values():
        path = folder / m.file
        with contextlib.suppress(OSError):
            if path.is_file() and not path.is_symlink() and path.stat().st_size == m.size:
                out.add(m.name)
    return out


def _source_address(model: CatalogModel, source: str | None) -> str:
    """Where to get `model`: its catalogue address, or the file by its catalogue name in `source`."""
    if source is None:
        return model.url
    if source.endswith(".traineddata"):
        return source  # the file itself
    if download.is_local(source):
        path = download.local_path(source)
        return str(path / model.file)
    return source.rstrip("/") + "/" + model.file


def install(name: str, *, source: str | None = None, progress: ProgressFn | None = None, retries: int = 5,
            timeout: float = 60.0, max_wait: float = 300.0) -> Path:
    """Download catalogue model `name` into `models_dir()` (resumable, checked against its SHA-256, atomic).

    `source`: a folder, `file:` address or http(s) base address holding the file by its catalogue name (a local
    copy such as ../shared/models), instead of the catalogue's address. An installed file with the right SHA-256
    is kept as it is. Raises LanguageError (unknown name, exit 5) or the DownloadError family (exit 12).
    """
    model = get_model(name)
    dest = models_dir() / model.file
    if dest.is_file() and not dest.is_symlink() and dest.stat().st_size == model.size \
            and fsutil.sha1_file(dest, algorithm="sha256") == model.sha256:
        return dest
    address = _source_address(model, source)
    try:
        download.fetch(address, dest, sha256=model.sha256, size=model.size, retries=retries, timeout=timeout,
                       max_wait=max_wait, progress=progress)
    except download.DownloadError as e:
        again = f"'transcribe langs install {name}'"
        if isinstance(e, download.ChecksumMismatch):
            hint = f"Nothing was installed; Debian's models are used meanwhile. {e.hint or ''}".strip()
        elif isinstance(e, download.NotFound):
            hint = ("Nothing was installed. Give a folder holding the file with --from FOLDER"
                    if source else "Nothing was installed; the address may have moved: get the file "
                    f"({model.file}) yourself and run {again} --from ITS_FOLDER") + "."
        else:
            kept = dest.with_name(dest.name + ".part").exists()
            hint = (f"{'What was fetched is kept: run' if kept else 'Run'} {again} again "
                    f"{'to continue' if kept else 'when the source can be reached'}, or get {model.file} "
                    "another way and use --from ITS_FOLDER. Debian's models are used meanwhile.")
        raise type(e)(f"The model {name} could not be installed: {e.message}", url=e.url, status=e.status,
                      hint=hint) from None
    return dest


# -- which models to use, and one folder to load them from --------------------------------------------------


def better_missing(models: str, language_code: str | None) -> list[CatalogModel]:
    """Recommended catalogue models, not installed, that the default would read with in place of one of `models`
    ('deu+frk'), for the language `language_code` (None: any language)."""
    wanted = {m.strip().removeprefix("script/") for m in models.split("+") if m.strip()}
    have = installed_catalogue_models()
    return [m for m in catalogue().values()
            if m.recommended and m.name not in have and m.name not in wanted and set(m.replaces) & wanted
            and (language_code is None or language_code in m.languages)]


@functools.cache
def _debian_tessdata() -> Path:
    with contextlib.suppress(Exception):
        found = default_tessdata_dir()
        if found is not None and found.is_dir():
            return found
    return DEBIAN_TESSDATA


def _model_file(folder: Path, name: str) -> Path | None:
    for candidate in (folder / f"{name}.traineddata", folder / "script" / f"{name.removeprefix('script/')}.traineddata"):
        if candidate.is_file():
            return candidate
    return None


def _link(target: Path, link: Path) -> None:
    """`link` -> `target`, made atomically (a temporary link renamed over it); a real file is left alone."""
    if link.is_symlink():
        if os.readlink(link) == str(target):
            return
    elif link.exists():
        return  # the user's own file (or folder) by that name wins
    tmp = link.with_name(f".{link.name}.{uuid.uuid4().hex}.link")  # unique: other processes and threads link too
    os.symlink(target, tmp)
    try:
        os.replace(tmp, link)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _link_debian(folder: Path, debian: Path) -> None:
    """Links in `folder` to every model and config of Debian's folder (idempotent; safe when run at once)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.traineddata"):  # a Debian model removed since: its link goes too
        if old.is_symlink() and not old.exists() and os.readlink(old).startswith(str(debian)):
            with contextlib.suppress(FileNotFoundError):
                old.unlink()
    for item in sorted(debian.iterdir()):
        if item.name.endswith(".traineddata") or item.name in _TESSDATA_EXTRAS:
            _link(item, folder / item.name)
    script = debian / "script"
    if script.is_dir():
        (folder / "script").mkdir(exist_ok=True)
        for item in sorted(script.glob("*.traineddata")):
            _link(item, folder / "script" / item.name)


def tessdata_for(models: str, tessdata_dir: Path | None) -> Path | None:
    """A folder from which Tesseract can load every model of `models` ('german_print+grc'), or None when
    Debian's own folder has them all (and when some model is in neither place: the caller reports it missing).

    With `tessdata_dir` (the user's own --tessdata-dir), that folder is used as it is. Otherwise the user's model
    folder, with links to Debian's models made on demand; if it cannot be written (read-only), a folder of
    links of this user's in the temporary folder.
    """
    if tessdata_dir is not None:
        return tessdata_dir
    names = [m.strip() for m in models.split("+") if m.strip()]
    debian = _debian_tessdata()
    outside = [m for m in names if _model_file(debian, m) is None]
    if not outside:
        return None
    mine = models_dir()
    if any(_model_file(mine, m) is None for m in outside):
        return None
    try:
        _link_debian(mine, debian)
        return mine
    except OSError:
        pass
    # a read-only models folder: links to both in a folder of our own
    spare = Path(tempfile.gettempdir()) / f"transcribe-tessdata-{os.getuid()}"
    _link_debian(spare, debian)
    for item in mine.glob("*.traineddata"):
        _link(item.resolve(), spare / item.name)
    return spare
