"""Each Wikisource's Page: and Index: namespace names when the wiki cannot be asked (the offline preview).

Online the names always come from the wiki (`Wiki.namespaces`); this table only lets an offline export show
`Seite:` for a German work instead of `Page:`. The table is `langs/wikisource-namespaces.tsv`; its header and
langs/README.md say where each row comes from and which rows were checked against the live wiki.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

TABLE = Path(__file__).resolve().parents[2] / "langs" / "wikisource-namespaces.tsv"


@dataclass(frozen=True)
class NamespaceNames:
    page: str  # the local name, e.g. 'Seite'
    index: str  # e.g. 'Livre'
    checked: bool  # checked against the live wiki, or only the extension's default for the language
    code: str | None = None  # the Wikisource language code the names are for; None: the canonical names


CANONICAL = NamespaceNames("Page", "Index", checked=True)  # every wiki with ProofreadPage accepts these


@functools.cache
def _table() -> dict[str, NamespaceNames]:
    with open(TABLE, encoding="utf-8", newline="") as f:
        lines = [ln for ln in f if not ln.startswith("#")]
    return {row["code"]: NamespaceNames(row["page"].replace("_", " "), row["index"].replace("_", " "),
                                        row["checked"] == "yes", row["code"])
            for row in csv.DictReader(lines, delimiter="\t")}


def wikisource_code(wiki: str | None, language: str | None = None) -> str | None:
    """'wikisource:de' -> 'de'; an api.php address -> None; no wiki -> the work's language (its Wikisource)."""
    if wiki:
        family, _, code = wiki.partition(":")
        return code if family == "wikisource" and code and "/" not in code else None
    return language or None


def namespace_names(wiki: str | None, language: str | None = None) -> NamespaceNames:
    """The Page: and Index: names of the Wikisource a work goes to, from the table; else the canonical names."""
    code = wikisource_code(wiki, language)
    return _table().get(code or "", CANONICAL)
