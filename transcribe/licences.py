"""Licences: what a library's rights statement means for Commons, and the refusal of a licence that is not free.

Commons accepts only free licences and public-domain works. A library states the rights of a digitised object as
an address (Creative Commons, the Public Domain Mark, rightsstatements.org) or as text ("All rights reserved");
`read_rights` reads such statements into the matching licence template (`CC-BY-4.0`, `CC-BY-SA-3.0-de`,
`CC-zero`, `PD-old-70` for the Public Domain Mark), into a refusal (non-commercial, no-derivatives, in copyright,
all rights reserved), or into neither (a statement this module does not know: the person decides).

`refusal(licence, source_rights)` is the one check that publishing and the manifest use: a work is never published
with a licence that is not free, and never silently relicensed. A licence the person wrote wins over what the
source says, so a faithful photograph of a public-domain page can be published as `PD-Art|PD-old-100` when that
is right; a non-free template (`CC-BY-NC-4.0`) is refused whoever wrote it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# The Public Domain Mark says "no known copyright" without saying why; Commons wants the reason as a template.
# PD-old-70 (the author died more than 70 years ago) is the common case for what libraries mark; the entry
# written from a manifest says so in a comment, for the person to check.
PDM_TEMPLATE = "PD-old-70"

ADVICE = ("Commons accepts only free licences and public-domain works, so this scan is not published with it, and "
          "transcribe does not choose another licence for you. If the scan is a faithful photograph of a page in "
          "the public domain, set 'licence' yourself, e.g. licence = \"PD-Art|PD-old-100\", if that is right.")

_CC = re.compile(r"creativecommons\.org/licen[cs]es/(?P<kind>[a-z-]+)/(?P<version>\d(?:\.\d)?)"
                 r"(?:/(?P<port>[a-z]{2}(?:-[a-z]{2})?))?(?=/|$|[^a-z])", re.IGNORECASE)
_CC_PD = re.compile(r"creativecommons\.org/publicdomain/(?P<kind>zero|mark)/", re.IGNORECASE)
_RS = re.compile(r"rightsstatements\.org/(?:vocab|page)/(?P<kind>[A-Za-z-]+)/", re.IGNORECASE)
_RESERVED = re.compile(r"all rights reserved|alle rechte vorbehalten|tous droits réservés|todos los derechos "
                       r"reservados|tutti i diritti riservati|\bin copyright\b", re.IGNORECASE)
_URL = re.compile(r"https?://[^\s<>\"']+")
# A licence template that is not free, however it got into the work: CC-BY-NC-*, CC-BY-ND-*, CC-BY-NC-SA-*...
_NONFREE_TEMPLATE = re.compile(r"(?i)\bCC-BY(?:-SA)?-N[CD]\b|\bCC-BY-NC-(?:SA|ND)\b|\bCC-BY-ND\b")


@dataclass(frozen=True)
class Rights:
    """What a source's rights statements come to."""

    template: str = ""  # the licence template for the file page, '' when none could be chosen
    refused: str = ""  # the statement that is not free ('CC BY-NC 4.0 (http://...)'), '' when none
    statements: tuple[str, ...] = ()  # every statement read, as the source gave it
    notes: tuple[str, ...] = field(default=())  # what a person should know (PDM chosen as PD-old-70, unknown ones)


def read_rights(statements: list[str] | tuple[str, ...]) -> Rights:
    """The licence template for a list of rights statements (addresses or text), or why there is none.

    A free statement wins over non-free ones given beside it (a source offering a free licence among others);
    only when none is free and one is not free is the result a refusal.
    """
    free: list[tuple[str, str]] = []  # (template, statement)
    nonfree: list[str] = []
    unknown: list[str] = []
    notes: list[str] = []
    for s in statements:
        kind, value = _classify(s)
        if kind == "free":
            free.append((value, s))
        elif kind == "nonfree":
            nonfree.append(value)
        else:
            unknown.append(s)
    if free:
        template, statement = free[0]
        if template == PDM_TEMPLATE and "publicdomain/mark" in statement.lower():
            notes.append(f"the source marks it Public Domain Mark ({statement}); that becomes {PDM_TEMPLATE} (the "
                         "author died more than 70 years ago): check it, or give the reason that applies "
                         "(e.g. PD-old-100, PD-anon-70, PD-US-expired)")
        for other, s in free[1:]:
            notes.append(f"the source also gives {s} ({other})")
        for s in nonfree:
            notes.append(f"the source also gives {s}, which is not free; the free licence is used")
        return Rights(template=template, statements=tuple(statements), notes=tuple(notes + _unknown(unknown)))
    if nonfree:
        return Rights(refused="; ".join(nonfree), statements=tuple(statements), notes=tuple(_unknown(unknown)))
    return Rights(statements=tuple(statements), notes=tuple(_unknown(unknown)))


def _unknown(unknown: list[str]) -> list[str]:
    return [f"rights statement not understood, so not used: {s}" for s in unknown]


def _classify(statement: str) -> tuple[str, str]:
    """('free', template) | ('nonfree', how to name it) | ('unknown', '')."""
    s = statement.strip()
    m = _CC.search(s)
    if m:
        kind, version, port = m.group("kind").lower(), m.group("version"), (m.group("port") or "").lower()
        if "." not in version:
            version += ".0"
        name = f"CC {kind.upper()} {version}" + (f" {port}" if port else "")
        if kind in ("by", "by-sa"):
            template = f"CC-{kind.upper()}-{version}" + (f"-{port}" if port else "")
            return "free", template
        return "nonfree", f"{name} ({_url(s) or s})"
    m = _CC_PD.search(s)
    if m:
        return "free", "CC-zero" if m.group("kind").lower() == "zero" else PDM_TEMPLATE
    m = _RS.search(s)
    if m:
        kind = m.group("kind")
        # In Copyright (InC, InC-EDU, InC-NC...) and No Copyright with restrictions other than copyright (NoC-NC,
        # NoC-CR, NoC-OKLR) are not free; NoC-US, CNE, UND, NKC say too little for a licence: the person decides.
        if kind.startswith("InC") or kind in ("NoC-NC", "NoC-CR", "NoC-OKLR"):
            return "nonfree", f"rightsstatements.org {kind} ({_url(s) or s})"
        return "unknown", ""
    if _RESERVED.search(s):
        return "nonfree", f"'{_shorten(s)}'"
    return "unknown", ""


def statements_in_text(text: str) -> list[str]:
    """Rights statements inside a credit line: licence addresses it names, or the whole line when it reserves
    all rights ('Copyright (c) ... All rights reserved.')."""
    found = [u.rstrip(".,;)") for u in _URL.findall(text) if _classify(u)[0] != "unknown"]
    if not found and _RESERVED.search(text):
        found.append(text.strip())
    return found


def _url(s: str) -> str | None:
    m = _URL.search(s)
    return m.group(0).rstrip(".,;)") if m else None


def _shorten(s: str, limit: int = 120) -> str:
    s = " ".join(s.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def is_free_template(licence: str) -> bool:
    return not _NONFREE_TEMPLATE.search(licence)


def refusal(licence: str, source_rights: str) -> str | None:
    """Why this work may not be published with its licence, or None.

    `licence`: the work's licence template(s) as written ('' when unset); `source_rights`: the rights statements the
    source gave ('; '-separated, as `init --from` records them). None when the work may go on (or when the only
    problem is a missing licence, which the caller reports in its own words).
    """
    if licence.strip():
        if not is_free_template(licence):
            return f"the licence '{licence.strip()}' is not free (non-commercial or no-derivatives). {ADVICE}"
        return None
    if not source_rights.strip():
        return None
    rights = read_rights(split_statements(source_rights))
    if rights.refused:
        return f"the source's licence, {rights.refused}, is not free. {ADVICE}"
    return None


def split_statements(value: str) -> list[str]:
    """'a; b' -> ['a', 'b'] (how `source_rights` keeps several statements)."""
    return [v.strip() for v in value.split("; ") if v.strip()]
