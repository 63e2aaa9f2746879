"""`transcribe init --from MANIFEST`: a work's entry in a batch manifest (TOML), filled from a IIIF manifest.

A manifest gives one `[[work]]` table: its fields from `metadata.work_entry`, `scan` = the manifest (so `run`
fetches its pages), and as comments everything the manifest says that fills no field. A collection gives one table
per manifest it lists: each manifest is read when it can be reached; one that cannot (no network, a server that
is down) still gets its table, from what the collection says of it (its address and label), with a comment; after
a host fails once, its other manifests are not tried (no minutes of waiting for a host that is not there).

When the file exists, it is edited, never rewritten: a work already in it (same `iiif_manifest` or `scan`) gets
only the fields it lacks, and whatever the person wrote stays (the report says which fields were filled and which
were kept); a new work is appended. Comments and layout of the file are left as they are.
"""

from __future__ import annotations

import json
import os
import re
import textwrap
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from transcribe import licences
from transcribe.errors import ManifestError, TranscribeError, UsageError
from transcribe.fsutil import write_text
from transcribe.iiif.metadata import WorkEntry, language_index, manifest_id, work_entry
from transcribe.iiif.presentation import IsCollection, parse_presentation, read_presentation
from transcribe.manifest import address_stem

# The order fields are written in: what a person checks first, first.
FIELD_ORDER = ("id", "scan", "iiif_manifest", "title", "subtitle", "author", "editor", "translator", "illustrator",
               "year", "publisher", "printer", "place", "language", "description", "institution", "source_url",
               "lccn", "oclc", "isbn", "licence", "source_rights", "attribution", "page_labels")
MARK = "# From the IIIF manifest"  # the first line of the comments init writes into a table (found on a re-run)


@dataclass
class InitWork:
    id: str
    address: str
    fields: dict[str, str]
    comments: list[str]
    label_notes: list[str] = field(default_factory=list)
    refused: str = ""
    unreachable: str = ""  # why the manifest could not be read ('' when it was)
    filled: list[str] = field(default_factory=list)  # fields added to a work that was already in the file
    kept: list[str] = field(default_factory=list)  # fields the person had written, left as they are
    new: bool = True


@dataclass
class InitReport:
    path: Path
    source: str
    collection: bool
    works: list[InitWork]
    subcollections: tuple[tuple[str, str | None], ...] = ()  # collections a collection lists: not followed


def init_from(source: str, out: Path, *, session: Any = None) -> InitReport:
    """Write (or complete) the entries for the manifest or collection at `source` in the batch manifest `out`."""
    out = Path(out)
    if out.suffix.lower() != ".toml":
        raise UsageError(f"{out.name}: 'init --from' writes a TOML manifest (it keeps what the IIIF manifest says "
                         "that fills no field as comments, which a CSV cannot hold).",
                         hint="Give a name such as books.toml.")
    existing_text = out.read_text(encoding="utf-8-sig") if out.exists() else ""
    try:
        existing = tomllib.loads(existing_text) if existing_text else {}
    except tomllib.TOMLDecodeError as e:
        raise ManifestError(f"{out} is not valid TOML: {e}.", hint="Fix the line it names, then run the same "
                                                                    "command again.") from e
    languages = language_index()
    collection = False
    subcollections: tuple[tuple[str, str | None], ...] = ()
    try:
        p = read_presentation(source, session=session, require_images=False)
        works = [_work(source, work_entry(p, languages=languages), manifest_id(p))]
    except IsCollection as c:
        collection = True
        works = _collection(c.manifests, languages, session)
        subcollections = c.collections
    report = InitReport(out, source, collection, works, subcollections)
    text = _write(out, existing_text, existing, works, source)
    if subcollections:
        text = text.rstrip("\n") + "\n\n# Collections listed in " + source + ", not followed (run 'transcribe " \
            "init --from' on each to add their works):\n" + "".join(f"#   {a}" + (f" ({lb})" if lb else "") + "\n"
                                                               for a, lb in subcollections)
    write_text(out, text)
    return report


def _work(address: str, entry: WorkEntry, wid: str) -> InitWork:
    return InitWork(id=wid, address=address, fields=dict(entry.fields), comments=list(entry.comments),
                    label_notes=list(entry.label_notes), refused=entry.refused)


def _collection(manifests: tuple[tuple[str, str | None], ...], languages: dict[str, str],
                session: Any) -> list[InitWork]:
    from transcribe import download

    failed_hosts: dict[str, str] = {}
    works: list[InitWork] = []
    for address, label in manifests:
        host = urlsplit(address).hostname or ""
        reason = failed_hosts.get(host, "")
        entry: WorkEntry | None = None
        if not reason:
            try:
                data = download.get_json(address, session=session, retries=1, timeout=20.0, max_wait=30.0)
                p = parse_presentation(data, source=address, require_images=False)
                entry = work_entry(p, languages=languages)
                wid = manifest_id(p)
            except download.NotFound as e:
                reason = e.message
            except download.DownloadError as e:
                reason = e.message
                if e.status is None:  # the host did not answer at all: do not wait for it again
                    failed_hosts[host] = f"{host} could not be reached"
            except TranscribeError as e:  # not a manifest, another collection...
                reason = e.message
        if entry is None:
            fields = {"iiif_manifest": address}
            if label:
                fields["title"] = label
            said = (f"the manifest could not be read ({reason}); this entry holds only what the collection "
                    f"says. When it can be reached: transcribe init --from {address}")
            w = InitWork(id=address_stem(address), address=address, fields=fields, comments=[said],
                         unreachable=reason)
        else:
            w = _work(address, entry, wid)
        works.append(w)
    return works


# -- writing ------------------------------------------------------------------------------------------------------

def _write(out: Path, text: str, existing: dict[str, Any], works: list[InitWork], source: str) -> str:
    from transcribe.manifest import _slug

    tables = existing.get("work", [])
    tables = [tables] if isinstance(tables, dict) else [t for t in tables if isinstance(t, dict)] \
        if isinstance(tables, list) else []
    used = {str(t.get("id") or "") for t in tables}
    appended: list[str] = []
    for w in works:
        local = not re.match(r"(?i)https?://", w.address)
        scan = os.path.relpath(Path(w.address).resolve(), out.resolve().parent) if local else w.address
        w.fields["scan"] = scan
        index = _find(tables, w, scan)
        if index is not None:
            w.new = False
            w.id = str(tables[index].get("id") or "")
            text = _complete(text, index, tables[index], w)
            continue
        base = _slug(w.id or w.fields.get("title", "") or "work")
        wid, n = base, 2
        while wid in used:
            wid, n = f"{base}-{n}", n + 1
        used.add(wid)
        w.id = wid
        w.fields["id"] = wid
        appended.append(_table(w))
    if not text:
        text = (f"# A transcribe manifest, written by: transcribe init --from {source}\n"
                "# Check each work, fill in what is missing, then run it with:  transcribe run "
                f"{out.name}\n")
    if appended:
        text = text.rstrip("\n") + "\n\n" + "\n\n".join(appended)
    return text.rstrip("\n") + "\n"


def _find(tables: list[dict[str, Any]], w: InitWork, scan: str) -> int | None:
    """The work already in the file for this manifest: the same manifest address or the same scan."""
    wanted = {x for x in (w.fields.get("iiif_manifest"), w.address, scan) if x}
    for i, t in enumerate(tables):
        if {str(t.get("iiif_manifest") or ""), str(t.get("scan") or "")} & wanted:
            return i
    return None


def _value(v: str) -> str:
    return json.dumps(v, ensure_ascii=False)  # a JSON string is a TOML basic string


def _comment_lines(w: InitWork) -> list[str]:
    lines = [f"{MARK} {w.fields.get('iiif_manifest') or w.address}:"]
    if not w.fields.get("language"):
        lines.append("#   language: not in the manifest; give the Wikisource language code "
                     "('transcribe langs list'), e.g. language = \"de\"")
    for c in w.comments + [f"page labels: {n}" for n in w.label_notes]:
        lines += textwrap.wrap(" ".join(c.split()), width=116, initial_indent="#   ", subsequent_indent="#     ",
                               break_long_words=False, break_on_hyphens=False)
    return lines


def _table(w: InitWork) -> str:
    lines = ["[[work]]"]
    for k in FIELD_ORDER:
        v = w.fields.get(k, "")
        if v:
            lines.append(f"{k} = {_value(v)}")
    if not w.fields.get("licence"):
        lines.append('# licence = ""   # not set: see the comments below')
    lines += _comment_lines(w)
    return "\n".join(lines)


_HEADER = re.compile(r"^\s*\[")
_WORK_HEADER = re.compile(r"^\s*\[\[\s*work\s*\]\]")


def _complete(text: str, index: int, table: dict[str, Any], w: InitWork) -> str:
    """Add the fields the index-th [[work]] table lacks, at its end; keep the person's values."""
    from transcribe.work import field_name

    have = {field_name(str(k)): str(v).strip() for k, v in table.items() if isinstance(v, (str, int))}
    add: list[str] = []
    for k in FIELD_ORDER:
        v = w.fields.get(k, "")
        if not v or k == "id":
            continue
        if have.get(k):
            if have[k] != v and k != "scan":
                w.kept.append(k)
            continue
        w.filled.append(k)
        add.append(f"{k} = {_value(v)}")
    if w.refused and have.get("licence"):
        w.kept.append("licence")
        w.comments = [c for c in w.comments if not c.startswith("licence not set")]
        w.comments.append(f"your licence '{have['licence']}' is kept; the manifest's is {w.refused}, which is "
                          "not free")
    if MARK not in _table_text(text, index):
        add += _comment_lines(w)
    if not add:
        return text
    lines = text.split("\n")
    starts = [i for i, ln in enumerate(lines) if _WORK_HEADER.match(ln)]
    if index >= len(starts):  # a single [work] table written without the double brackets
        start = next((i for i, ln in enumerate(lines) if re.match(r"^\s*\[\s*work\s*\]", ln)), len(lines))
    else:
        start = starts[index]
    end = next((i for i in range(start + 1, len(lines)) if _HEADER.match(lines[i])), len(lines))
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return "\n".join(lines[:end] + add + lines[end:])


def _table_text(text: str, index: int) -> str:
    lines = text.split("\n")
    starts = [i for i, ln in enumerate(lines) if _WORK_HEADER.match(ln)]
    if index >= len(starts):
        return text
    end = next((i for i in range(starts[index] + 1, len(lines)) if _HEADER.match(lines[i])), len(lines))
    return "\n".join(lines[starts[index]:end])


def refusal_lines(report: InitReport) -> list[str]:
    """One line per work whose licence is refused, for the command to say."""
    return [f"{w.id}: licence not set: the manifest's licence, {w.refused}, is not free. {licences.ADVICE}"
            for w in report.works if w.refused and "licence" not in w.kept]
