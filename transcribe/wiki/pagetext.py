"""Page:, Index: and File: wikitext: build and parse. Pure functions, no wiki needed.

A Page: page is stored as
    <noinclude><pagequality level="1" user="TranscribeBot" />HEADER</noinclude>BODY<noinclude>FOOTER</noinclude>
(see PROOFREADPAGE.md). The tool only ever builds levels 0 and 1; `build_page` refuses anything higher, so no
code path can send a proofread or validated level to a wiki. Parsing is lenient: it reads whatever a human or
another tool may have saved, including the JSON form and text with no structure at all.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from transcribe.pagelabels import pagelist_tag
from transcribe.work import WorkMeta

# Machine text is level 1 ("Not proofread"), a blank page level 0 ("Without text"). Never more.
MAX_TOOL_LEVEL = 1

# The extension's own header regex (ProofreadPage REL1_39, PageContentHandler).
_QUALITY = re.compile(r'^<pagequality level="([0-4])" user="(.*?)" *(?:/>|> *</pagequality>)')
_HEADER = re.compile(r"^<noinclude>(.*?)\n*</noinclude>(.*)$", re.DOTALL)
_HEADER_OPEN = re.compile(r"^<noinclude>(.*?)$", re.DOTALL)
_FOOTER = re.compile(r"^(.*?)<noinclude>(.*?)</noinclude>\s*$", re.DOTALL)
_FOOTER_OPEN = re.compile(r"^(.*?)<noinclude>(.*?)$", re.DOTALL)

# Tags that give a Page: page its structure or can swallow the rest of it. In OCR output they are text, not
# markup, so their '<' is written as '&lt;' (which renders as the same '<').
_STRUCTURAL = re.compile(r"<(/?\s*(?:noinclude|includeonly|onlyinclude|pagequality)\b)", re.IGNORECASE)
_SWALLOWING = ("nowiki", "pre")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class PageTextError(ValueError):
    """A text the tool was asked to build would break the rules (a level above 1, a bad user name)."""


@dataclass(frozen=True)
class PageText:
    level: int
    user: str
    header: str = ""
    body: str = ""
    footer: str = ""


# -- OCR text -> body -------------------------------------------------------------------------------------------

def ocr_to_body(text: str) -> str:
    """Tesseract's output as a Page: body: same words and paragraphs, nothing that breaks the page's structure.

    Trailing form feeds and spaces go, line ends become '\\n', runs of blank lines become one (a paragraph
    break), text is NFC (MediaWiki normalises on save, so comparing with what the wiki returns works).
    `{{`, `[[` and other wiki markup are kept as they are: wrapping them would change what proofreaders see
    in the editor, and they cannot escape the page's body.
    """
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.replace("\f", "\n")
    text = _CONTROL.sub("", text)
    lines = [line.rstrip() for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    return neutralise(text)


def neutralise(body: str) -> str:
    """Make `body` unable to close the noinclude sections or smuggle in a quality tag."""
    body = _STRUCTURAL.sub(r"&lt;\1", body)
    for tag in _SWALLOWING:
        # an opening tag without its closing tag would hide the footer (and everything after) when rendered
        opens = list(re.finditer(rf"<{tag}\b[^>]*(?<!/)>", body, re.IGNORECASE))
        closes = len(re.findall(rf"</{tag}\s*>", body, re.IGNORECASE))
        for m in reversed(opens[closes:]):
            body = body[: m.start()] + "&lt;" + body[m.start() + 1:]
    # an unclosed comment hides everything after it
    start = body.rfind("<!--")
    if start != -1 and body.find("-->", start) == -1:
        body = body[:start] + "&lt;!--" + body[start + 4:]
    return body


# -- Page: pages --------------------------------------------------------------------------------------------------

def build_page(body: str, *, level: int, user: str, header: str = "", footer: str = "") -> str:
    """The wikitext of a Page: page at `level` (0 or 1 only) by `user`.

    Every Page: text this tool sends is built here, so the level check below is the guard that keeps
    the tool from ever marking a page proofread or validated.
    """
    if level not in range(MAX_TOOL_LEVEL + 1):
        raise PageTextError(f"transcribe never writes quality level {level}: only 0 (blank) and 1 (OCR text).")
    if '"' in user or "<" in user or ">" in user:
        raise PageTextError(f"the user name {user!r} cannot go into a pagequality tag.")
    if level == 0:
        body = ""
    return (f'<noinclude><pagequality level="{level}" user="{user}" />{header}</noinclude>'
            f"{neutralise(body)}<noinclude>{footer}</noinclude>")


def parse_page(text: str) -> PageText:
    """Read a Page: page's text as ProofreadPage does (wikitext or JSON form; anything else is a level 1 body)."""
    stripped = text.strip()
    if stripped.startswith("{") and stripped.endswith("}"):
        parsed = _parse_json(stripped)
        if parsed is not None:
            return parsed
    header, footer = "", ""
    m = _HEADER.match(text)
    if m:
        header, body = m.group(1), m.group(2)
    else:
        m = _HEADER_OPEN.match(text)
        if m:
            header, body = m.group(1), ""
        else:
            body = text
    m = _FOOTER.match(body) or _FOOTER_OPEN.match(body)
    if m:
        body, footer = m.group(1), m.group(2)
    level, user = 1, ""
    q = _QUALITY.match(header)
    if q:
        level, user = int(q.group(1)), q.group(2)
        header = header[q.end():]
    return PageText(level=level, user=user, header=header, body=body, footer=footer)


def _parse_json(text: str) -> PageText | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or "body" not in data:
        return None
    lv = data.get("level") or {}
    try:
        level = int(lv.get("level", 1)) if isinstance(lv, dict) else 1
    except (TypeError, ValueError):
        level = 1
    if level not in range(5):
        level = 1
    user = str(lv.get("user") or "") if isinstance(lv, dict) else ""
    return PageText(level=level, user=user, header=str(data.get("header") or ""),
                    body=str(data.get("body") or ""), footer=str(data.get("footer") or ""))


def text_key(text: str) -> str:
    """A short hash of a text sent to the wiki (the `edits.key` column): same key, nothing to update."""
    return hashlib.sha1(unicodedata.normalize("NFC", text).strip().encode("utf-8")).hexdigest()[:16]


# -- what a proofread page says is printed (learning from checked pages) --------------------------------------------

# Templates that show their first unnamed argument as it is printed (formatting: size, centring, spacing, fonts).
_SHOW_FIRST = frozenset({
    "c", "center", "centre", "block center", "larger", "large", "smaller", "small", "x-larger", "xx-larger",
    "x-smaller", "xx-smaller", "larger block", "smaller block", "bold", "b", "i", "italic", "sc", "smallcaps",
    "small-caps", "small caps", "uc", "lc", "uppercase", "lowercase", "sp", "sperrsatz", "sperrschrift", "g",
    "gesperrt", "antiqua", "ak", "fraktur", "nowrap", "right", "left", "float right", "float left", "pline", "sic",
    "hwe", "hyphenated word end", "tiret2", "fs", "font-size", "u", "underline", "overline", "ls", "letter-spacing",
    "gr", "greek", "polytonic"})
# Templates printed as their first argument and a line-end hyphen (the start of a word cut at the page's end).
_HYPHEN_START = frozenset({"hws", "hyphenated word start", "tiret"})
# Running headers (and footers): every unnamed argument, on one line.
_RUNNING = frozenset({"rh", "running header", "runningheader", "rh/2", "rh/4", "nr", "en-tête", "kopfzeile",
                      "running footer", "rf"})
# Printed as their second argument: {{lang|la|TEXT}}; de.wikisource {{Korr|corrected|printed}}.
_PRINTED_SECOND = frozenset({"korr", "korrektur", "lang"})
# Everything else (gap, nop, dhr, pb, clear, smallrefs, reflist, dotted TOC line, brace, images...) prints nothing
# a line of text would hold.

_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
_REF = re.compile(r"<ref\b[^>/]*>(.*?)</ref\s*>", re.DOTALL | re.IGNORECASE)
_REF_EMPTY = re.compile(r"<ref\b[^>]*/>", re.IGNORECASE)
_REFERENCES = re.compile(r"<references\b[^>]*/>|<references\b[^>]*>.*?</references\s*>", re.DOTALL | re.IGNORECASE)
_INNER_TEMPLATE = re.compile(r"\{\{([^{}]*)\}\}")
_FILE_LINK = re.compile(r"\[\[\s*(?:file|image|datei|bild|fichier|category|kategorie|catégorie)\s*:[^\[\]]*"
                        r"(?:\[\[[^\[\]]*\]\][^\[\]]*)*\]\]", re.IGNORECASE)
_LINK = re.compile(r"\[\[([^\[\]|]*)(?:\|([^\[\]]*))?\]\]")
_EXTERNAL = re.compile(r"\[(?:https?:)?//[^\s\]]+\s*([^\]]*)\]")
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_DROP_WITH_CONTENT = re.compile(r"<(math|score|timeline|gallery|syntaxhighlight)\b[^>]*>.*?</\1\s*>",
                                re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][\w-]*(?:\s[^<>]*)?/?>")
_MAGIC = re.compile(r"__[A-Z]+__")
_HEADING = re.compile(r"^(=+)\s*(.*?)\s*\1\s*$")


def printed_text(page: PageText) -> str:
    """What the printed page says, line by line, from a proofread Page: page: the wiki's markup taken away.

    The running header (`{{rh|12|TITLE|}}`, in the header section) becomes one line of its parts, formatting
    templates (`{{c|...}}`, `{{sc|...}}`, `{{larger|...}}`, `{{SperrSchrift|...}}`...) their text, `{{hws|hy|hyphen}}`
    'hy-', `{{sic|X}}` X, links their label, `<br />` a line break; references (`<ref>`) are taken out of the line
    and put after the body, where the print has its footnotes; comments, `<references/>`, `{{smallrefs}}`, images,
    categories, tables' markup, headings' `=`, bold and italic quotes go. Unknown templates print nothing. Line
    breaks are kept as the page has them; characters are kept as the wiki writes them (its conventions, such as
    long s written as s, are what a model learned from it will write).
    """
    parts = [page.header, page.body, page.footer]
    refs: list[str] = []
    out = []
    for k, part in enumerate(parts):
        text = _COMMENT.sub("", part)
        text = _DROP_WITH_CONTENT.sub("", text)
        text = _REFERENCES.sub("", text)
        text = _REF_EMPTY.sub("", text)
        text = _REF.sub(lambda m: refs.append(m.group(1)) or "", text)  # type: ignore[func-returns-value]
        out.append(_reduce(text))
        if k == 1:
            out.extend(_reduce(r) for r in refs)
            refs = []
    lines = []
    for block in out:
        for line in block.split("\n"):
            line = " ".join(line.split())
            if line:
                lines.append(line)
    return "\n".join(lines)


def _reduce(text: str) -> str:
    import html as _html

    text = _FILE_LINK.sub("", text)
    text = _LINK.sub(lambda m: (m.group(2) if m.group(2) is not None else m.group(1)).strip(), text)
    text = _EXTERNAL.sub(lambda m: m.group(1), text)
    for _ in range(20):  # innermost templates first
        new = _INNER_TEMPLATE.sub(lambda m: _template(m.group(1)), text)
        if new == text:
            break
        text = new
    text = _BR.sub("\n", text)
    text = _TAG.sub("", text)
    text = _MAGIC.sub("", text)
    text = text.replace("'''", "").replace("''", "")
    lines = []
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped.startswith(("{|", "|}", "|-")):
            continue
        if stripped.startswith(("|+", "|", "!")):
            cells = re.split(r"\|\||!!", stripped.lstrip("|+!"))
            stripped = " ".join(c.split("|", 1)[1] if "|" in c and "=" in c.split("|", 1)[0] else c for c in cells)
        m = _HEADING.match(stripped)
        if m:
            stripped = m.group(2)
        stripped = re.sub(r"^[*#:;]+\s*", "", stripped)
        lines.append(_html.unescape(stripped).replace("\xa0", " "))
    return "\n".join(lines)


def _template(inner: str) -> str:
    name, _, rest = inner.partition("|")
    name = " ".join(name.replace("_", " ").split()).lower()
    if name.startswith(("#", "subst:", "safesubst:")) or ":" in name:
        return ""
    args = [a for a in rest.split("|")] if rest else []
    unnamed = [a.strip() for a in args if "=" not in a.split("\n", 1)[0] or a.strip().startswith("=")]
    if name in _RUNNING:
        return "  ".join(a for a in unnamed if a)
    if name in _HYPHEN_START:
        return (unnamed[0] + "-") if unnamed else ""
    if name in _PRINTED_SECOND:
        return unnamed[1] if len(unnamed) > 1 else (unnamed[0] if unnamed else "")
    if name in _SHOW_FIRST:
        return unnamed[0] if unnamed else ""
    return ""


# -- Index: pages -------------------------------------------------------------------------------------------------

INDEX_TEMPLATE = ":MediaWiki:Proofreadpage_index_template"

# WorkMeta fields that describe the book, with the ProofreadPage `data` role they fill in an index config.
_META_ROLES = {
    "title": "title", "author": "author", "year": "year", "publisher": "publisher", "place": "place",
    "language": "language",
}
# Described in the index only when the wiki has a field for them (matched by field name or label).
# ProofreadPage has no `data` role for these; the names are what Wikisource index forms commonly call them.
_META_BY_NAME = {
    "remarks": ("remarks", "remarques", "bemerkungen", "notes", "notas"),
    "institution": ("institution", "library", "bibliotheque", "bibliothek", "biblioteca", "bibliotheca"),
    "source_url": ("source_url", "url", "catalogue", "catalog"),
}


@dataclass(frozen=True)
class IndexText:
    text: str
    fields: dict[str, str]
    unmapped: list[str] = field(default_factory=list)  # metadata the wiki's index has no field for


# Labels that mean "the pages have text, nobody has proofread them yet", in the languages of the larger
# Wikisources. The keys differ per wiki and mean different things: on en.wikisource 'OCR' means "the file still
# needs an OCR text layer" and 'C' is "To be proofread" ('T' is "Done"), as on fr ('T' "Terminé", 'C' "À corriger").
# So the value is found by its label, never by its key.
_TO_PROOFREAD = (
    "to be proofread", "to proofread", "needs proofreading", "à corriger", "a corriger", "korrigier",
    "unkorrigiert", "por corregir", "para corregir", "a corregir", "da correggere", "por revisar",
    "para revisar", "do korekty", "к вычитке", "не вычитано", "te corrigeren", "att korrekturläsa",
)


def progress_value(config: Mapping[str, Mapping[str, Any]]) -> tuple[str | None, str | None]:
    """(field name, value) for "OCR text, not proofread yet" in this wiki's progress field, if it has one.

    Found by the meaning of each value's label (see _TO_PROOFREAD); a wiki whose labels say none of these gets
    the field's own default. A work can always name the value itself (`progress` in work.toml).
    """
    name = _field_with_role(config, "progress")
    if name is None:
        return None, None
    spec = config[name]
    values = spec.get("values") or {}
    for key, label in values.items():
        text = _norm_label(str(label))
        if any(phrase in text for phrase in _TO_PROOFREAD):
            return name, str(key)
    default = spec.get("default")
    return name, (str(default) if default else None)


def _norm_label(label: str) -> str:
    return " ".join(label.casefold().split())


def _field_with_role(config: Mapping[str, Mapping[str, Any]], role: str) -> str | None:
    for name, spec in config.items():
        if isinstance(spec, Mapping) and spec.get("data") == role:
            return name
    return None


def _field_by_name(config: Mapping[str, Mapping[str, Any]], wanted: str) -> str | None:
    norm = _norm(wanted)
    for name, spec in config.items():
        if _norm(name) == norm or (isinstance(spec, Mapping) and _norm(str(spec.get("label", ""))) == norm):
            return name
    return None


def _norm(s: str) -> str:
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]", "", s)


def template_value(value: str) -> str:
    """A value that stays one template parameter: '|' and '}}' would end it, so they become entities."""
    return value.replace("|", "&#124;").replace("}}", "&#125;&#125;").replace("{{", "&#123;&#123;").strip()


def build_index(meta: WorkMeta, config: Mapping[str, Mapping[str, Any]], *,
                file_kind: str | None = None) -> IndexText:
    """The Index: page text for a work, through the wiki's own index fields (`index_data_config`).

    `file_kind` ('pdf', 'djvu') fills a field whose values offer it (en/fr `Source`). Metadata the wiki has no
    field for is listed in `unmapped` so the caller can say so; nothing is dropped silently.
    """
    out: dict[str, str] = {}
    unmapped: list[str] = []
    for attr, role in _META_ROLES.items():
        value = str(getattr(meta, attr) or "")
        if not value:
            continue
        name = _field_with_role(config, role) or _field_by_name(config, attr)
        if name is None:
            if attr != "language":  # the wiki's language is implied; no field for it is normal
                unmapped.append(attr)
            continue
        out[name] = value
    for attr, aliases in _META_BY_NAME.items():
        value = str(getattr(meta, attr) or "")
        if not value:
            continue
        name = next((n for a in aliases if (n := _field_by_name(config, a))), None)
        if name is None:
            unmapped.append(attr)
        else:
            out[name] = value
    for key, value in meta.extra.items():
        name = _field_by_name(config, key) or _field_with_role(config, _norm(key))
        if name is None:
            unmapped.append(key)
        else:
            out[name] = value
    prog_field, prog_value = progress_value(config)
    if prog_field and prog_value and prog_field not in out:
        out[prog_field] = prog_value
    pl_field = _field_with_role(config, "pagelist") or _field_by_name(config, "pages")
    if pl_field:
        out[pl_field] = pagelist_tag(meta.page_labels)
    if file_kind:
        for name, spec in config.items():
            values = spec.get("values") if isinstance(spec, Mapping) else None
            if isinstance(values, Mapping) and file_kind in values and name not in out:
                out[name] = file_kind
                break
    # the wiki's field order, which is the order its form shows them in
    order = {name: i for i, name in enumerate(config)}
    ordered = sorted(out.items(), key=lambda kv: order.get(kv[0], len(order)))
    lines = ["{{" + INDEX_TEMPLATE]
    for name, value in ordered:
        v = value if name == pl_field else template_value(value)
        lines.append(f"|{name}={v}")
    lines.append("}}")
    return IndexText(text="\n".join(lines), fields=dict(ordered), unmapped=unmapped)


def parse_index(text: str) -> dict[str, str]:
    """The fields of an Index: page text (`{{:MediaWiki:Proofreadpage_index_template|Field=value...}}`)."""
    m = re.search(r"\{\{\s*:?\s*MediaWiki:Proofreadpage[ _]index[ _]template\s*(.*)\}\}", text, re.DOTALL | re.IGNORECASE)
    if not m:
        return {}
    fields: dict[str, str] = {}
    depth = 0
    buf: list[str] = []
    # split on '|' at depth 0 (not inside {{...}}, [[...]] or a tag attribute list)
    chunks: list[str] = []
    i, body = 0, m.group(1)
    while i < len(body):
        two = body[i:i + 2]
        if two in ("{{", "[["):
            depth += 1
            buf.append(two)
            i += 2
            continue
        if two in ("}}", "]]"):
            depth = max(0, depth - 1)
            buf.append(two)
            i += 2
            continue
        if body[i] == "|" and depth == 0:
            chunks.append("".join(buf))
            buf = []
        else:
            buf.append(body[i])
        i += 1
    chunks.append("".join(buf))
    for chunk in chunks:
        if "=" in chunk:
            name, _, value = chunk.partition("=")
            fields[name.strip()] = value.strip()
    return fields


# -- File: description page ---------------------------------------------------------------------------------------

class LicenceMissing(ValueError):
    """No licence template in the work's metadata: a file is never uploaded without one."""


def licence_template(licence: str) -> str:
    """'PD-old-70' or '{{PD-old-70}}' -> '{{PD-old-70}}'; several may be given ('PD-old-70, PD-scan')."""
    licence = licence.strip()
    if "{{" in licence:
        found = re.findall(r"\{\{.*?\}\}", licence, re.DOTALL)
    else:
        found = ["{{" + p + "}}" for p in re.split(r"[,;\s]+", licence) if p]
    if not found:
        raise LicenceMissing("no licence")
    return "\n".join(found)


# MediaWiki refuses these in any title; ':', '/' and '\\' it silently turns into '-' in file names.
_TITLE_ILLEGAL = re.compile(r"[#<>\[\]|{}\x00-\x1f\x7f]|%[0-9A-Fa-f]{2}|~{3,}")
MAX_FILE_NAME_BYTES = 240
_REPLACEMENTS = str.maketrans({"[": "(", "{": "(", "<": "(", "]": ")", "}": ")", ">": ")", "|": "-", "#": "",
                               ":": " -", "/": "-", "\\": "-"})


class FileNameError(ValueError):
    def __init__(self, message: str, suggestion: str) -> None:
        super().__init__(message)
        self.suggestion = suggestion


def normalise_file_name(name: str) -> str:
    """How MediaWiki writes a file name: '_' as ' ', single spaces, first letter upper case."""
    name = re.sub(r"[ _]+", " ", unicodedata.normalize("NFC", name)).strip()
    return name[:1].upper() + name[1:]


def suggest_file_name(name: str, extension: str) -> str:
    """A name MediaWiki takes, as close to `name` as possible, ending in `extension` ('.pdf')."""
    stem = name[: -len(extension)] if name.lower().endswith(extension.lower()) else name
    stem = stem.translate(_REPLACEMENTS)
    stem = _TITLE_ILLEGAL.sub("", stem)
    stem = re.sub(r"\s+", " ", re.sub(r"-{2,}", "-", stem)).strip(" .-~") or "Scan"
    stem = normalise_file_name(stem)
    limit = MAX_FILE_NAME_BYTES - len(extension.encode())
    while len(stem.encode("utf-8")) > limit:
        stem = stem[:-1]
    return stem.rstrip(" .-") + extension


def check_file_name(name: str, extension: str) -> str:
    """The normalised file name, or FileNameError (with a suggested name) when MediaWiki would refuse it."""
    n = normalise_file_name(name)
    problem = None
    if not n:
        problem = "is empty"
    elif m := _TITLE_ILLEGAL.search(n):
        problem = f"contains '{m.group(0)}', which wiki page names cannot contain"
    elif re.search(r"[:/\\]", n):
        problem = "contains ':', '/' or '\\', which file names on a wiki cannot contain"
    elif len(n.encode("utf-8")) > MAX_FILE_NAME_BYTES:
        problem = f"is {len(n.encode('utf-8'))} bytes long; a wiki file name may have at most {MAX_FILE_NAME_BYTES}"
    elif not n.lower().endswith(extension.lower()):
        problem = f"does not end in {extension} like the scan"
    elif n.startswith((".", "~")):
        problem = "starts with '.' or '~'"
    if problem:
        raise FileNameError(f"The file name '{name}' {problem}.", suggest_file_name(name, extension))
    return n


def default_file_name(meta: WorkMeta, extension: str) -> str:
    """The name on the wiki: `file_name` from work.toml, else '<Title> (<year>)<ext>' made acceptable."""
    if meta.file_name:
        name = meta.file_name
        if not name.lower().endswith(extension.lower()) and "." not in name[-6:]:
            name += extension
        return name
    stem = meta.title + (f" ({meta.year})" if meta.year else "")
    return suggest_file_name(stem, extension)


# WorkMeta field -> the parameter of Commons' {{Book}} (Template:Book's documented parameters) that shows it
BOOK_FIELDS = (
    ("author", "Author"), ("translator", "Translator"), ("editor", "Editor"), ("illustrator", "Illustrator"),
    ("title", "Title"), ("subtitle", "Subtitle"), ("volume", "Volume"), ("edition", "Edition"),
    ("publisher", "Publisher"), ("printer", "Printer"), ("year", "Date"), ("place", "City"),
    ("language", "Language"), ("description", "Description"), ("source_url", "Source"),
    ("institution", "Institution"), ("isbn", "ISBN"), ("lccn", "LCCN"), ("oclc", "OCLC"),
)


def split_unmapped(unmapped: list[str], *, file_page: bool = True) -> tuple[list[str], list[str]]:
    """What the Index page has no field for, as (shown on the file's description page by {{Book}}, left out).
    `file_page` False: no file description page is written (no licence, or one that is not free): all left out."""
    if not file_page:
        return [], list(unmapped)
    book = {attr for attr, _ in BOOK_FIELDS}
    return [u for u in unmapped if u in book], [u for u in unmapped if u not in book]


def file_categories(meta: WorkMeta) -> list[str]:
    """The categories of the file page: the institution's own (named after it), then those the work gives,
    each once. A library whose Commons category has another name gives it in `categories`."""
    cats = ([meta.institution] if meta.institution else []) + meta.category_list
    return list(dict.fromkeys(c for c in cats if c))


def build_file_description(meta: WorkMeta, *, index_link: str, source: str = "") -> str:
    """A Commons-style file page: `{{Book}}` with every field the metadata has, the licence, the categories.

    `index_link` is the interwiki link to the Index page (e.g. 's:fr:Index:Book.pdf', or 'Index:Book.pdf' for
    a file kept on the Wikisource itself). Raises `LicenceMissing` when the work has no licence. The file page
    is categorised under the institution and the work's `categories`; a work with neither gets
    `{{Uncategorized}}`, so that Commons' maintenance lists show it (never silently left without a category).
    """
    licence = licence_template(meta.licence) if meta.licence.strip() else None
    if licence is None:
        raise LicenceMissing("no licence")
    params = [(param, str(getattr(meta, attr) or "")) for attr, param in BOOK_FIELDS]
    source = "<br />".join(s for s in (source or meta.source_url, _iiif_source(meta), meta.attribution) if s)
    params = [(k, source if k == "Source" else v) for k, v in params]
    params.append(("Wikisource", index_link))
    lines = ["== {{int:filedesc}} ==", "{{Book"]
    lines += [f" |{k}={template_value(v)}" for k, v in params if v or k in ("Title", "Wikisource")]
    lines += ["}}", "", "== {{int:license-header}} ==", licence, ""]
    cats = file_categories(meta)
    lines += [f"[[Category:{c}]]" for c in cats] if cats else ["{{Uncategorized}}"]
    return "\n".join(lines) + "\n"


def _iiif_source(meta: WorkMeta) -> str:
    """The manifest the scan came from, as a link readers can follow to the original (IIIF viewers open it)."""
    return f"[{meta.iiif_manifest} IIIF manifest]" if meta.iiif_manifest.startswith(("http://", "https://")) else ""
