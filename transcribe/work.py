"""A work: one scan and the library's metadata about it, read from the work folder's `work.toml`.

A work folder looks like this (the layout `transcribe publish WORK` and `transcribe run` use):

    WORK/
      work.toml        the metadata below
      <scan>           the scan as the library gave it (PDF, DjVu, TIFF...), named by `scan`
      pages/           page images from `split`, OCR text and hOCR from `ocr` (0001.png, 0001.txt, 0001.hocr)

The batch manifest (many works, TOML or CSV) is read by `transcribe.manifest`.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Collection
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from transcribe.errors import ManifestError

WORK_FILE = "work.toml"
PAGES_DIR = "pages"
OCR_JSON = "ocr.json"  # in a pages folder: every page's OCR status and choices (written by ocr)


def output_paths(pages_dir: Path, image: str) -> tuple[Path, Path]:
    """Where OCR puts a page image's text and hOCR in its pages folder: 0001.png -> 0001.txt, 0001.hocr."""
    stem = Path(image).stem
    return pages_dir / f"{stem}.txt", pages_dir / f"{stem}.hocr"


_ALIASES = {"license": "licence", "lang": "language", "url": "source_url", "pagelist": "page_labels",
            "filename": "file_name", "file": "scan", "sub_title": "subtitle", "translators": "translator",
            "editors": "editor", "illustrators": "illustrator", "category": "categories", "city": "place"}
# Fields whose value may be a TOML list (joined with '; ', the separator a CSV cell uses for several)
_LISTS = ("categories", "author", "translator", "editor", "illustrator")


# Index page fields (en.wikisource's form) that are not WorkMeta fields although their names are close to one:
# passed through as extra fields, never taken for a misspelling.
_INDEX_ONLY = {"volumes"}


def misspelt_field(key: str, known: Collection[str]) -> str | None:
    """The known field a key not among `known` is probably a misspelling of ('autor' -> 'author', 'titel' ->
    'title'), or None when it is far from every field (then it is an extra field of its own)."""
    k = field_name(key)
    if k in known or k in _INDEX_ONLY:
        return None
    guess = difflib.get_close_matches(k, sorted(known), n=1, cutoff=0.75)
    return guess[0] if guess else None


def field_name(key: str) -> str:
    """A key as people write it ('Page Labels', 'license') -> WorkMeta's field name ('page_labels', 'licence')."""
    k = key.strip().lower().replace(" ", "_").replace("-", "_")
    return _ALIASES.get(k, k)


@dataclass(frozen=True)
class WorkMeta:
    """What a library knows about a work. Field names are the keys of `work.toml` and the manifest columns."""

    title: str
    language: str  # Wikisource language code: 'fr', 'de', 'jv', 'mul'...
    author: str = ""
    subtitle: str = ""
    volume: str = ""  # 'II', '3': the volume of a work in several
    edition: str = ""  # '2nd edition'
    translator: str = ""
    editor: str = ""
    illustrator: str = ""
    year: str = ""
    publisher: str = ""
    place: str = ""  # place of publication
    printer: str = ""
    description: str = ""  # a sentence or two about the book, for the Commons file page
    oclc: str = ""  # catalogue numbers, shown on the Commons file page
    isbn: str = ""
    lccn: str = ""
    categories: str = ""  # Commons categories for the file page, separated by ';' (a TOML list is fine)
    institution: str = ""  # the library or archive that holds the original
    source_url: str = ""  # the library's catalogue or digital-collection page
    iiif_manifest: str = ""  # the address of the IIIF manifest the scan came from (shown on the file page)
    attribution: str = ""  # the credit line the source asks for (IIIF requiredStatement/attribution)
    source_rights: str = ""  # the rights statements the source gives, '; '-separated (what `licence` rests on)
    licence: str = ""  # a licence template for the file page, e.g. 'PD-old-70', 'PD-scan', 'CC-BY-SA-4.0'
    page_labels: str = ""  # ProofreadPage pagelist attributes, e.g. '1=Cover 2to5=roman 2=1 7=1'
    file_name: str = ""  # name of the scan on the wiki, without 'File:' (default: from the title)
    scan: str = ""  # the scan file or folder, relative to the work folder (or the manifest)
    models: str = ""  # Tesseract models overriding the language's, e.g. 'frk+grc'
    wiki: str = ""  # target wiki: 'wikisource:fr' or an api.php URL
    remarks: str = ""  # free text for the Index page's remarks field
    extra: dict[str, str] = field(default_factory=dict)  # any other key: reported, kept, passed to the Index

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_mapping(cls, data: dict[str, Any], *, where: str, names_checked: bool = False) -> WorkMeta:
        """Build from a TOML table or a CSV row; every problem is reported at once, by name.

        A key close to a known field ('titel') is a problem naming the field it probably means, unless the
        caller has checked the names already (`names_checked`: the manifest does, once per column)."""
        known = {f.name for f in fields(cls)} - {"extra"}
        problems: list[str] = []
        values: dict[str, Any] = {}
        extra: dict[str, str] = {}
        for key, value in data.items():
            k = field_name(key)
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if k in _LISTS and isinstance(value, list) and all(isinstance(v, str) for v in value):
                value = "; ".join(v.strip() for v in value if v.strip())
            if not isinstance(value, str):
                problems.append(f"{where}: '{key}' must be text, not {type(value).__name__}")
                continue
            value = value.strip()
            if k in known:
                values[k] = value
            elif not names_checked and (guess := misspelt_field(k, known)):
                problems.append(f"{where}: '{key}' is not a known field; did you mean '{guess}'? (rename it)")
            elif value:
                extra[key] = value
        for required in ("title", "language"):
            if not values.get(required):
                problems.append(f"{where}: '{required}' is missing")
        lang = values.get("language", "")
        if lang and not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9-]+)?|mul", lang):
            problems.append(f"{where}: language '{lang}' is not a Wikisource language code (like 'fr', 'de', 'jv')")
        year = values.get("year", "")
        if year and not re.fullmatch(r"\d{1,4}(\s*[-–]\s*\d{1,4})?|c\.?\s*\d{3,4}|\d{3,4}\?", year):
            problems.append(f"{where}: year '{year}' is not a year (like 1881, 1761-1765, c. 1600)")
        labels = values.get("page_labels", "")
        if labels:
            from transcribe.pagelabels import PageLabelError, parse_page_labels

            try:
                parse_page_labels(labels)
            except PageLabelError as e:
                problems.append(f"{where}: page_labels: {e}")
        manifest = values.get("iiif_manifest", "")
        if manifest and not re.fullmatch(r"(?i)https?://\S+", manifest):
            problems.append(f"{where}: iiif_manifest '{manifest}' is not a web address (the manifest's own, "
                            "https://...)")
        for key in ("oclc", "isbn", "lccn"):
            v = values.get(key, "")
            if v and not re.fullmatch(r"[0-9Xx][0-9Xx ./-]*", v):
                problems.append(f"{where}: {key} '{v}' is not a catalogue number (digits, e.g. {key} = \"12345678\")")
        for cat in split_list(values.get("categories", "")):
            if re.search(r"[\[\]{}|#<>]", cat):
                problems.append(f"{where}: category '{cat}' cannot be a wiki category name (no [ ] {{ }} | # < >)")
        if problems:
            raise ManifestError(f"{where} has {len(problems)} problem(s).", problems=problems)
        return cls(**values, extra=extra)

    @property
    def category_list(self) -> list[str]:
        """`categories` as a list, without a 'Category:' prefix."""
        return [re.sub(r"(?i)^category:\s*", "", c) for c in split_list(self.categories)]


def split_list(value: str) -> list[str]:
    """'A; B' -> ['A', 'B'] (a TOML list was joined with '; ' on reading)."""
    return [v.strip() for v in re.split(r"\s*;\s*", value) if v.strip()]


def load_work(folder: str | Path) -> WorkMeta:
    """Read `WORK/work.toml`."""
    path = Path(folder) / WORK_FILE
    if not path.is_file():
        raise ManifestError(
            f"{path} is missing.",
            hint="Create it with at least 'title' and 'language' (see 'transcribe init' for an example).",
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ManifestError(f"{path} is not valid TOML: {e}.", hint="Fix the line it names.") from e
    return WorkMeta.from_mapping(data.get("work", data), where=str(path))
