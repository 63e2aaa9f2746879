"""Language packs: which Tesseract models fit each Wikisource language edition, and whether they are installed.

The data lives in `langs/<code>.toml`, one file per Wikisource language edition, so a community can fix its own
entry. Extra folders of such files (a community's own entries, or fixes) are merged over the shipped ones: pass
`extra_dirs`, or set TRANSCRIBE_LANGS_DIR to one or more folders separated by the path separator (':').

Probing ("which models can Tesseract load?") is kept apart from running Tesseract, which is `ocr.py`'s job.
"""

from __future__ import annotations

import csv
import difflib
import logging
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from transcribe.errors import LanguageError, MissingProgram

log = logging.getLogger(__name__)

# The shipped data: `langs/` at the top of the source tree, beside the package.
LANGS_DIR = Path(__file__).resolve().parent.parent / "langs"
ENV_VAR = "TRANSCRIBE_LANGS_DIR"
# Every model Tesseract's Debian packages ship, with its package (made by langs/tools/make_model_list.py).
MODEL_LIST = "tesseract-models.tsv"
CATALOGUE_FILE = "models.toml"  # read by transcribe/models.py
DIRECTIONS = ("ltr", "rtl")

_REQUIRED = {"code": str, "name": str, "scripts": list, "direction": str, "models": list, "packages": list}
_OPTIONAL = {"native_name": str, "notes": str}
_CODE_RE = re.compile(r"^[a-z]{2,3}(-[a-z]{2,8})*$")
_SCRIPT_RE = re.compile(r"^[A-Z][a-z]{3}$")  # ISO 15924
_MODEL_RE = re.compile(r"^[A-Za-z0-9_./-]+$")  # a traineddata name; '+' joins models, so it is not allowed inside
_PACKAGE_RE = re.compile(r"^[a-z0-9][a-z0-9.+-]+$")  # Debian policy for package names


@dataclass(frozen=True)
class Language:
    code: str  # the Wikisource edition: 'fr', 'zh-min-nan', 'mul'
    name: str  # English name
    scripts: tuple[str, ...]  # ISO 15924 codes, main script first
    direction: str  # 'ltr' | 'rtl'
    models: tuple[str, ...]  # Tesseract models, best first, joined with '+' for use; () = no model
    packages: tuple[str, ...]  # Debian packages that provide them
    notes: str = ""
    native_name: str = ""
    source: str = field(default="", compare=False)  # the file it was read from

    @property
    def model_string(self) -> str | None:
        """What to pass to `tesseract -l`, or None when Tesseract has no model for the script."""
        return "+".join(self.models) or None


# -- reading and validating the data --------------------------------------------------------------------------


def _extra_dirs_from_env() -> list[Path]:
    value = os.environ.get(ENV_VAR, "")
    return [Path(p) for p in value.split(os.pathsep) if p.strip()]


def _validate(data: dict[str, object], path: Path) -> list[str]:
    """Every problem of one entry, each naming the file and the field."""
    where = path.name
    problems = []
    for key, typ in _REQUIRED.items():
        if key not in data:
            problems.append(f"{where}: the field '{key}' is missing")
        elif not isinstance(data[key], typ):
            problems.append(f"{where}: the field '{key}' must be a {'list' if typ is list else 'text'}")
    for key, typ in _OPTIONAL.items():
        if key in data and not isinstance(data[key], typ):
            problems.append(f"{where}: the field '{key}' must be text")
    for key in data:
        if key not in _REQUIRED and key not in _OPTIONAL:
            problems.append(f"{where}: unknown field '{key}' (known: {', '.join([*_REQUIRED, *_OPTIONAL])})")
    if problems:
        return problems

    code = data["code"]
    assert isinstance(code, str)
    if not _CODE_RE.match(code):
        problems.append(f"{where}: the field 'code' is not a language code: {code!r}")
    elif path.stem != code:
        problems.append(f"{where}: the field 'code' is {code!r} but the file is named {path.name!r}")
    if not str(data["name"]).strip():
        problems.append(f"{where}: the field 'name' is empty")
    if data["direction"] not in DIRECTIONS:
        problems.append(f"{where}: the field 'direction' must be 'ltr' or 'rtl', not {data['direction']!r}")
    checks = {"scripts": (_SCRIPT_RE, "an ISO 15924 script code such as 'Latn'"),
              "models": (_MODEL_RE, "a Tesseract model name such as 'fra' (one per item, no '+')"),
              "packages": (_PACKAGE_RE, "a Debian package name such as 'tesseract-ocr-fra'")}
    for key, (pattern, what) in checks.items():
        items = data[key]
        assert isinstance(items, list)
        for item in items:
            if not isinstance(item, str) or not pattern.match(item):
                problems.append(f"{where}: in the field '{key}', {item!r} is not {what}")
    if not data["scripts"]:
        problems.append(f"{where}: the field 'scripts' is empty (name at least one script)")
    if data["models"] and not data["packages"] and path.parent.resolve() == LANGS_DIR.resolve():
        problems.append(f"{where}: the field 'packages' is empty but models are named")
    return problems


def _read_dir(folder: Path) -> tuple[dict[str, Language], list[str]]:
    languages: dict[str, Language] = {}
    problems: list[str] = []
    if not folder.is_dir():
        return languages, [f"{folder}: the language folder does not exist"]
    for path in sorted(folder.glob("*.toml")):
        if path.name == CATALOGUE_FILE:
            continue  # the catalogue of models beyond Debian's (transcribe/models.py), not a language
        try:
            with open(path, "rb") as f:
                data = tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError) as e:
            problems.append(f"{path.name}: not readable TOML ({e})")
            continue
        found = _validate(data, path)
        if found:
            problems.extend(found)
            continue
        languages[data["code"]] = Language(
            code=data["code"], name=data["name"].strip(), scripts=tuple(data["scripts"]),
            direction=data["direction"], models=tuple(data["models"]), packages=tuple(data["packages"]),
            notes=data.get("notes", "").strip(), native_name=data.get("native_name", "").strip(),
            source=str(path),
        )
    return languages, problems


def load_languages(langs_dir: Path | None = None, extra_dirs: Iterable[Path] = ()) -> dict[str, Language]:
    """Every language entry, by code: `langs_dir` (default: the shipped `langs/`), then each extra folder over it.

    Without `langs_dir`, the folders in TRANSCRIBE_LANGS_DIR are merged too. An entry with a bad field makes
    the whole load fail with a LanguageError naming the file and the field, so a typo is never silently ignored.
    """
    dirs = [Path(langs_dir) if langs_dir else LANGS_DIR, *map(Path, extra_dirs)]
    if langs_dir is None:
        dirs += _extra_dirs_from_env()
    languages: dict[str, Language] = {}
    problems: list[str] = []
    for folder in dirs:
        found, bad = _read_dir(folder)
        problems += [p if p.startswith(str(folder)) else f"{folder}/{p}" for p in bad]
        for code, lang in found.items():
            if code in languages:
                log.debug("%s replaces the entry for %r from %s", lang.source, code, languages[code].source)
            languages[code] = lang
    if problems:
        raise LanguageError(
            f"The language data has {len(problems)} problem(s): {'; '.join(problems)}.",
            hint="Fix the named file(s) (see langs/README.md for the fields) and run the command again.",
        )
    return languages


def _aliases(languages: dict[str, Language]) -> dict[str, str]:
    """Lower-case names, native names and model names -> code, for suggestions."""
    alias: dict[str, str] = {}
    for lang in languages.values():
        for key in (lang.name, lang.native_name, *lang.models):
            if key:
                alias.setdefault(key.lower(), lang.code)
    return alias


def suggest(code: str, languages: dict[str, Language]) -> str | None:
    """The code a user most likely meant by `code` (a typo, a name, a Tesseract model name), or None."""
    wanted = code.strip().lower()
    if wanted in languages:
        return wanted
    alias = _aliases(languages)
    if wanted in alias:
        return alias[wanted]
    close = difflib.get_close_matches(wanted, list(languages), n=1, cutoff=0.6)
    if close:
        return close[0]
    close = difflib.get_close_matches(wanted, list(alias), n=1, cutoff=0.75)
    return alias[close[0]] if close else None


def get_language(code: str, languages: dict[str, Language] | None = None) -> Language:
    """The entry for a Wikisource language code; LanguageError (exit 5) with a suggestion for an unknown one."""
    languages = load_languages() if languages is None else languages
    if code in languages:
        return languages[code]
    guess = suggest(code, languages)
    hint = (f"Did you mean '{guess}' ({languages[guess].name})?" if guess
            else "See 'transcribe langs list' for the codes.")
    raise LanguageError(
        f"'{code}' is not a Wikisource language code transcribe knows. {hint}",
        hint="" if guess else "A language of your own can be added with a TOML file (see langs/README.md).",
    )


# -- probing Tesseract ----------------------------------------------------------------------------------------


def tesseract_exe() -> str:
    """The path of the tesseract program, or MissingProgram saying how to install it."""
    exe = shutil.which("tesseract")
    if not exe:
        raise MissingProgram("Tesseract is not installed. Install it with: sudo apt-get install tesseract-ocr")
    return exe


# `tesseract --list-langs` per (program, folder asked, TESSDATA_PREFIX): its answer and the folder's state it was given for.
# One run asks several times (the CLI, the OCR stage, the method's model choice); a model added to or removed from
# the folder changes its modification time, and the answer is asked again.
_LISTED: dict[tuple[str, str | None, str | None], tuple[tuple[int, ...], tuple[Path | None, set[str]]]] = {}


def _stamp(folder: Path | None) -> tuple[int, ...]:
    stamp = []
    for f in (folder, folder / "script") if folder is not None else ():
        try:
            stamp.append(f.stat().st_mtime_ns)
        except OSError:
            stamp.append(-1)
    return tuple(stamp)


def _list_langs(tessdata_dir: Path | None) -> tuple[Path | None, set[str]]:
    key = (tesseract_exe(), str(tessdata_dir) if tessdata_dir is not None else None, os.environ.get("TESSDATA_PREFIX"))
    cached = _LISTED.get(key)
    if cached is not None and cached[1][0] is not None and cached[0] == _stamp(cached[1][0]):
        return cached[1][0], set(cached[1][1])
    folder, models = _run_list_langs(tessdata_dir)
    _LISTED[key] = (_stamp(folder), (folder, set(models)))
    return folder, models


def _run_list_langs(tessdata_dir: Path | None) -> tuple[Path | None, set[str]]:
    cmd = [tesseract_exe(), "--list-langs"]
    if tessdata_dir is not None:
        cmd += ["--tessdata-dir", str(tessdata_dir)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise MissingProgram(f"Tesseract could not be run ({e}). Reinstall it: sudo apt-get install tesseract-ocr") \
            from e
    # Tesseract 5.3 prints: List of available languages in "/usr/share/tesseract-ocr/5/tessdata/" (40):
    lines = (proc.stdout or proc.stderr).splitlines()
    folder = None
    if lines and (m := re.search(r'"(.*)"', lines[0])):
        folder = Path(m.group(1))
    return folder, {line.strip() for line in lines[1:] if line.strip()}


def installed_models(tessdata_dir: Path | None = None) -> set[str]:
    """The models Tesseract can load, as `tesseract --list-langs` reports them ('deu', 'Bengali'...).

    With `tessdata_dir`, Tesseract looks only in that folder (5.3.0: not in its own folder as well).
    """
    return _list_langs(tessdata_dir)[1]


def default_tessdata_dir() -> Path | None:
    """Tesseract's own model folder, as it reports it (Debian 12: /usr/share/tesseract-ocr/5/tessdata)."""
    return _list_langs(None)[0]


def debian_models(langs_dir: Path | None = None) -> dict[str, str]:
    """Model name -> the Debian package that ships it, from the committed list `langs/tesseract-models.tsv`."""
    path = (langs_dir or LANGS_DIR) / MODEL_LIST
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8") as f:
        return {row["model"]: row["package"] for row in csv.DictReader(
            (line for line in f if not line.startswith("#")), delimiter="\t")}


def _loadable_name(model: str, installed: set[str]) -> str | None:
    """The name Tesseract knows the model by: Debian installs `script/Bengali` as plain `Bengali`."""
    for name in (model, f"script/{model}", model.removeprefix("script/")):
        if name in installed:
            return name
    return None


def install_advice(models: Iterable[str], tessdata_dir: Path | None = None) -> str:
    """What to do so that Tesseract finds `models`: the apt-get line, or where to put the .traineddata files."""
    from transcribe import models as catalogue_models  # models.py reads this module's folder: import late

    known = debian_models()
    models = [m.removeprefix("script/") for m in models]
    catalogued = catalogue_models.catalogue()
    fetchable = [m for m in models if m in catalogued and m not in known]
    if fetchable and tessdata_dir is None:
        rest = [m for m in models if m not in fetchable]
        install = f"Install {'it' if len(fetchable) == 1 else 'them'} with: transcribe langs install " \
                  f"{' '.join(fetchable)} (a download; or --from a folder holding a copy)."
        return f"{install} {install_advice(rest)}" if rest else install
    packages = sorted({known[m] for m in models if m in known})
    others = [m for m in models if m not in known]
    apt = f"sudo apt-get install {' '.join(packages)}"
    if tessdata_dir is not None:
        # Tesseract 5.3.0 searches only the given folder, so a model in its own folder must be copied over.
        home, have = _list_langs(None)
        steps = []
        for m in models:
            if _loadable_name(m, have) and home:
                steps.append(f"copy {home / (m + '.traineddata')} into {tessdata_dir}")
            elif m in known:
                folder = home or "Tesseract's folder"
                steps.append(f"install {m} with 'sudo apt-get install {known[m]}', then copy "
                             f"{folder}/{m}.traineddata into {tessdata_dir}")
            elif m in catalogued:
                steps.append(f"install {m} with 'transcribe langs install {m}', then copy "
                             f"{catalogue_models.models_dir() / catalogued[m].file} into {tessdata_dir}")
            else:
                steps.append(f"put {m}.traineddata (a community model: ask its authors) into {tessdata_dir}")
        return "To fix it: " + "; ".join(steps) + " (Tesseract looks only there when --tessdata-dir is given)."
    parts = []
    if packages:
        parts.append(f"Install {'it' if len(models) == 1 else 'them'} with: {apt}")
    if others:
        home = default_tessdata_dir() or "Tesseract's model folder (see tesseract --list-langs)"
        names = ", ".join(f"{m}.traineddata" for m in others)
        parts.append(f"{names} is not in Debian: put it in {home}, "
                     "or in a folder of your own and pass --tessdata-dir FOLDER")
    return ". ".join(parts) + "."


def check_models(models: Iterable[str], tessdata_dir: Path | None = None) -> dict[str, str | None]:
    """Each model -> the name Tesseract loads it by, or None when it is missing."""
    installed = installed_models(tessdata_dir)
    return {m: _loadable_name(m, installed) for m in models}


def resolve_models(lang: str | None, models: str | None = None, tessdata_dir: Path | None = None, *,
                   languages: dict[str, Language] | None = None) -> str | None:
    """The model string to pass to `tesseract -l` ('frk', 'deu+grc').

    An explicit `models` wins over the language's (`languages`: default `load_languages()`). None when the language's script has no model: its works get
    no OCR and are made ready for typing. LanguageError when a needed model is not installed, saying what to do.
    """
    if models is not None and models.strip():
        wanted = [m.strip() for m in models.split("+") if m.strip()]
        for m in wanted:
            if not _MODEL_RE.match(m):
                raise LanguageError(f"'{m}' in --models '{models}' is not a Tesseract model name; "
                                    "give names such as 'frk' or 'deu+grc' (see 'transcribe langs list').")
        why = f"--models {models}"
    elif lang is not None:
        language = get_language(lang, languages)
        if not language.models:
            return None
        wanted = list(language.models)
        why = f"{language.name} ('{lang}')"
    else:
        raise LanguageError("No language given: pass --lang CODE (see 'transcribe langs list') or --models.")

    found = check_models(wanted, tessdata_dir)
    if tessdata_dir is None and any(name is None for name in found.values()):
        # a catalogue model installed in the user's model folder (transcribe langs install): the OCR stage reads
        # from that folder (models.tessdata_for), where Debian's models are linked beside it
        from transcribe import models as catalogue_models

        mine = catalogue_models.models_dir()
        for m, name in found.items():
            if name is None and (mine / f"{m}.traineddata").is_file():
                found[m] = m
    missing = [m for m, name in found.items() if name is None]
    if missing:
        where = f"in {tessdata_dir}" if tessdata_dir is not None else "installed"
        names = ", ".join(f"'{m}'" for m in missing)
        raise LanguageError(
            f"{why[0].upper()}{why[1:]} needs the Tesseract model{'s' if len(missing) > 1 else ''} {names}, "
            f"not {where}. {install_advice(missing, tessdata_dir)}",
            hint="Then run the command again ('transcribe langs check' says when all is ready).",
        )
    return "+".join(name for name in found.values() if name)


def status(language: Language, installed: set[str]) -> str:
    """'installed', 'missing' or 'no model', given what `installed_models()` found."""
    if not language.models:
        return "no model"
    return "installed" if all(_loadable_name(m, installed) for m in language.models) else "missing"


def is_loadable(model: str, installed: set[str]) -> bool:
    """Whether Tesseract can load `model` given what `installed_models()` found."""
    return _loadable_name(model, installed) is not None
