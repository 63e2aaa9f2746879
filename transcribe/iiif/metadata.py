"""What a IIIF manifest says about its object, as a work's entry: title, author, year, licence, page labels, origin.

`work_entry(presentation)` maps a `Presentation` (presentation.py) to the fields of a work (`WorkMeta`'s names):
the label or the metadata's title, the metadata pairs whatever language their labels are in (author/creator/Autor/
auteur/Verfasser, date/Datum/Jahr, publisher/Verlag/éditeur, place/Ort/lieu, language/Sprache/langue, imprint
statements such as '[Cairo?] : Maṭbaʻat Fāḍil, [1949]'...), values that are JSON-LD @value objects or hold HTML
(read as text; a link's address is kept where an address is wanted), the rights (licences.py decides the
template or the refusal), the required statement (`attribution`), the provider (`institution`), the homepage
(`source_url`), the manifest's own address (`iiif_manifest`) and the canvas labels (`page_labels`).

Nothing is dropped silently: every metadata pair that fills no field, and every value that could not be read
(a date that is not a year, a language that is not a Wikisource language), comes back in `comments`, which
`init --from` writes into the entry.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser

from transcribe import licences
from transcribe.iiif.presentation import LangMap, Presentation
from transcribe.pagelabels import pagelist_from_labels
from transcribe.progress.report import page_ranges

# Metadata labels (lower case, accents removed, '(English)' and the like dropped) -> the field they fill.
_LABELS: dict[str, tuple[str, ...]] = {
    "title": ("title", "titel", "titre", "titolo", "titulo", "tytul", "hauptsachtitel", "書名", "标题", "題名"),
    "author": ("author", "authors", "creator", "creators", "autor", "autoren", "auteur", "auteurs", "verfasser",
               "verfasserin", "urheber", "autore", "autori", "auteur du texte", "作者", "著者"),
    "contributor": ("contributor", "contributors", "mitwirkende", "beteiligte", "contributeur", "contributeurs",
                    "person", "personen", "names", "name"),
    "editor": ("editor", "editors", "herausgeber", "hrsg", "editeur scientifique"),
    "translator": ("translator", "ubersetzer", "traducteur", "traduttore", "traductor"),
    "illustrator": ("illustrator", "illustrateur", "illustratore"),
    "year": ("date", "year", "datum", "jahr", "date de publication", "date of publication", "publication date",
             "date statement", "date of origin", "erscheinungsjahr", "erscheinungsdatum", "entstehungszeit",
             "datierung", "anno", "data", "fecha", "date created", "date issued", "issued", "年代", "出版年"),
    "publisher": ("publisher", "verlag", "verleger", "editeur", "editore", "editorial", "uitgever", "出版者"),
    "printer": ("printer", "drucker", "imprimeur", "tipografo", "impresor"),
    "place": ("place", "ort", "lieu", "place of publication", "lieu de publication", "erscheinungsort",
              "verlagsort", "place of origin", "entstehungsort", "luogo", "lugar", "出版地"),
    "imprint": ("imprint", "publication", "published", "publication statement", "created published",
                "publication info", "publication information", "erschienen", "impressum", "veroffentlichung",
                "publication (imprint)", "adresse bibliographique"),
    "language": ("language", "languages", "sprache", "langue", "langues", "text language", "lingua", "idioma",
                 "taal", "jezyk", "語言", "语言", "言語"),
    "description": ("description", "beschreibung", "summary", "resume", "abstract", "descripcion", "descrizione"),
    "institution": ("holding institution", "repository", "institution", "provider", "holding library", "library",
                    "bibliothek", "bibliotheque", "owner", "besitzende institution", "data provider"),
    "source_url": ("homepage", "available online", "item url", "source", "url", "link", "permalink",
                   "persistent url", "persistent link", "online", "catalogue record", "catalog record", "record"),
    "rights": ("rights", "license", "licence", "lizenz", "rechte", "droits", "rights statement", "terms of use",
               "nutzungsbedingungen", "copyright", "conditions of use", "usage", "rechtehinweis"),
    "isbn": ("isbn",),
    "oclc": ("oclc", "oclc number"),
    "lccn": ("lccn",),
}
_LABEL_FIELD = {label: fld for fld, labels in _LABELS.items() for label in labels}

# Roles written after a name ('[author]', ', author.', '. Auteur du texte', '(colCollector)') -> the field.
_ROLES: dict[str, str] = {
    "author": "author", "aut": "author", "auteur": "author", "auteur du texte": "author", "autor": "author",
    "verfasser": "author", "verfasserin": "author", "creator": "author", "cre": "author", "writer": "author",
    "editor": "editor", "edt": "editor", "herausgeber": "editor", "hrsg": "editor", "editeur scientifique": "editor",
    "translator": "translator", "trl": "translator", "traducteur": "translator", "ubersetzer": "translator",
    "illustrator": "illustrator", "ill": "illustrator", "illustrateur": "illustrator",
    "printer": "printer", "prt": "printer", "imprimeur": "printer", "drucker": "printer",
    "publisher": "publisher", "pbl": "publisher", "verlag": "publisher",
}
_OTHER_ROLE_WORDS = ("annotateur", "annotator", "funder", "sponsor", "performer", "collector", "col", "former owner",
                     "possesseur", "ancien possesseur", "scribe", "copiste", "contributor", "donor", "depositor",
                     "compiler", "commentator", "dedicatee", "bookseller", "libraire")

# ISO 639-2/B codes and names in other languages that the language files (langs/*.toml) do not hold.
_LANGUAGE_NAMES = {
    "ger": "de", "fre": "fr", "dut": "nl", "gre": "el", "cze": "cs", "chi": "zh", "per": "fa", "rum": "ro",
    "slo": "sk", "wel": "cy", "arm": "hy", "baq": "eu", "geo": "ka", "ice": "is", "mac": "mk", "may": "ms",
    "allemand": "de", "anglais": "en", "francais": "fr", "latin": "la", "italien": "it", "espagnol": "es",
    "englisch": "en", "franzosisch": "fr", "latein": "la", "lateinisch": "la", "italienisch": "it",
    "spanisch": "es", "niederlandisch": "nl", "griechisch": "el", "grec": "el", "neerlandais": "nl",
    "polnisch": "pl", "russisch": "ru", "schwedisch": "sv", "danisch": "da", "tschechisch": "cs",
}


@dataclass
class WorkEntry:
    """A work's fields from a manifest (`WorkMeta`'s names) and the comments that go with them."""

    fields: dict[str, str]
    comments: list[str] = field(default_factory=list)  # what could not be mapped, one line each (no '#')
    refused: str = ""  # the source's licence when it is not free: `licence` is left unset
    label_notes: list[str] = field(default_factory=list)  # canvas labels left out of page_labels


def work_entry(p: Presentation, *, languages: dict[str, str] | None = None) -> WorkEntry:
    """Map a manifest to a work's fields. `languages`: name/code -> Wikisource code (default: from langs/)."""
    out: dict[str, str] = {}
    comments: list[str] = []
    lang_index = languages if languages is not None else language_index()
    label = _text(_pick(p.label))
    values: dict[str, list[str]] = {}  # field -> values in the manifest's order
    rights_texts: list[str] = []
    for lab, val in p.metadata:
        name = _text(_pick(lab)) or "(no label)"
        fld = _field_of(lab)
        texts = [v for v in (_text(x) for x in _all(val)) if v]
        if not texts:
            continue
        # a comment keeps every value, in every language given ('type': a schema.org address and three English
        # words); a field takes one language's
        shown = "; ".join(_unique([_with_links(x) for vs in val.values() for x in vs if _text(x)]))
        if fld in ("author", "contributor"):
            _people(name, fld, texts, values, comments)
        elif fld == "imprint" and len(texts) == 1 and _imprint(texts[0]):
            for k, v in _imprint(texts[0]).items():
                values.setdefault(k, []).append(v)
        elif fld == "source_url":
            links = [u for x in _all(val) for u in _links(x)]
            if links:
                values.setdefault("source_url", []).extend(links)
            else:
                comments.append(f"{name}: {_short(shown)}")
        elif fld == "rights":
            rights_texts += [u for x in _all(val) for u in (_links(x) or [_text(x)])]
        elif fld is None:
            comments.append(f"{name}: {_short(shown)}")
        else:
            values.setdefault(fld, []).extend(texts)

    # title: the metadata's title names the work; the label is often a shelfmark ('Human Freaks 2 (33)')
    titles = _unique(values.pop("title", []))
    if titles:
        out["title"] = titles[0]
        others = titles[1:] + ([label] if label and label != titles[0] else [])
        comments += [f"title in the manifest's label or metadata, not used: {t}" for t in others]
    elif label:
        out["title"] = label
    else:
        comments.append("title: the manifest has neither a label nor a title: give one")

    people = {k: _unique(values.pop(k, [])) for k in ("author", "editor", "translator", "illustrator")}
    for k, names in people.items():
        if names:
            out[k] = "; ".join(names)

    for k in ("publisher", "printer", "place"):
        vs = _unique(values.pop(k, []))
        if vs:
            out[k] = vs[0]
            comments += [f"{k} also given, not used: {v}" for v in vs[1:]]

    years = _unique(values.pop("year", []))
    for y in years:
        year = _year(y)
        if year and "year" not in out:
            out["year"] = year
        elif not year:
            comments.append(f"date '{_short(y)}' is not a year transcribe can use (like 1881, 1761-1765, c. 1600)")

    langs = _unique(values.pop("language", []))
    codes = _unique([c for c in (lang_index.get(_norm(x)) for x in langs) if c])
    if codes:
        out["language"] = codes[0]
        if len(codes) > 1:
            comments.append(f"languages {', '.join(langs)}: the first, '{codes[0]}', is used as the Wikisource "
                            "language (use 'mul' for a work in several)")
    elif langs:
        comments.append(f"language '{', '.join(langs)}' is not a Wikisource language transcribe knows: set "
                        "language yourself ('transcribe langs list')")

    summary = _text(_pick(p.summary))
    descriptions = [d for d in _unique(([summary] if summary else []) + values.pop("description", []))
                    if d != out.get("title")]
    if descriptions:
        out["description"] = descriptions[0]
        comments += [f"description also given, not used: {_short(d)}" for d in descriptions[1:]]

    institutions = _unique(list(p.provider) + values.pop("institution", []))
    if len(institutions) == 1:
        out["institution"] = institutions[0]
    elif institutions:
        comments.append(f"held by {'; '.join(institutions)}: set institution to the one whose Commons category the "
                        "file belongs in")

    for k in ("isbn", "oclc", "lccn"):
        vs = _unique(values.pop(k, []))
        if vs:
            out[k] = vs[0]
    for url in p.see_also:  # catalogue records by address: lccn.loc.gov/N, worldcat.org/oclc/N
        m = re.search(r"lccn\.loc\.gov/(\d{8,12})\b", url)
        if m and "lccn" not in out:
            out["lccn"] = m.group(1)
        m = re.search(r"worldcat\.org/oclc/(\d+)", url)
        if m and "oclc" not in out:
            out["oclc"] = m.group(1)

    homepages = _unique([u for h in p.homepage for u in (_links(h) or [h])] + values.pop("source_url", []))
    if homepages:
        out["source_url"] = homepages[0]
        comments += [f"homepage also given, not used: {h}" for h in homepages[1:]]
    if p.see_also:
        comments.append(f"records for machines (seeAlso): {'; '.join(p.see_also)}")
    for k, vs in values.items():  # a field read but not placed above (none today): never lost
        comments += [f"{k}: {_short(v)}" for v in vs]

    if p.id.startswith(("http://", "https://")):
        out["iiif_manifest"] = p.id
    elif p.source.startswith(("http://", "https://")):
        out["iiif_manifest"] = p.source

    # the credit line the source asks for, and who provides the object when nothing else said
    attribution = ""
    if p.required_statement:
        attribution = "; ".join(_unique([_text(x) for x in _all(p.required_statement[1])]))
        credit = re.sub(r"https?://[^\s<>\"']+", "", attribution).strip(" .;,-")
        if credit and credit.lower() not in ("none", "true", "false"):
            out["attribution"] = attribution
            holder = _institution_in(attribution)
            if holder and "institution" not in out and not any(c.startswith("held by") for c in comments):
                out["institution"] = holder
                comments.append(f"institution '{holder}' is read from the attribution; the file page is "
                                f"categorised under it: check that it is the Commons category's name")

    rights = licences.read_rights(list(p.rights) + rights_texts or licences.statements_in_text(attribution))
    if rights.statements:
        out["source_rights"] = "; ".join(rights.statements)
    refused = ""
    if rights.template:
        out["licence"] = rights.template
    elif rights.refused:
        refused = rights.refused
        comments.append(f"licence not set: the source's licence, {rights.refused}, is not free. {licences.ADVICE}")
    else:
        comments.append("licence not set: the manifest names no licence transcribe can use; give the one that "
                        "applies (ask the library), e.g. licence = \"PD-old-70\"")
    comments += list(rights.notes)

    labels = pagelist_from_labels([c.label for c in p.canvases], what="canvas")
    if labels.spec:
        out["page_labels"] = labels.spec
    notes = list(labels.notes)
    lacunae = p.lacunae
    if lacunae:
        notes.append(f"{len(lacunae)} canvas(es) have no image (lacunae: {page_ranges(lacunae)}); their labels keep the "
                     "pages after them numbered as the manifest numbers them")
    return WorkEntry(fields=out, comments=comments, refused=refused, label_notes=notes)


# -- reading values -------------------------------------------------------------------------------------------------

def _pick(m: LangMap) -> str:
    """One value of a language map: without a language, else English, else the first."""
    for key in ("none", "@none", "en"):
        if m.get(key):
            return m[key][0]
    return next((v[0] for v in m.values() if v), "")


def _all(m: LangMap) -> list[str]:
    """Every value of a language map in one language (without, else English, else the first given)."""
    for key in ("none", "@none", "en"):
        if m.get(key):
            return m[key]
    return next((v for v in m.values() if v), [])


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "p", "div", "li"):
            self.parts.append(" ")
        if tag == "a":
            self.links += [v for k, v in attrs if k == "href" and v]

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _text(value: str | None) -> str:
    """A value as plain text: HTML tags removed, entities decoded, white space collapsed."""
    if not value:
        return ""
    if "<" in value and ">" in value:
        parser = _Text()
        parser.feed(value)
        parser.close()
        value = "".join(parser.parts)
    else:
        value = html.unescape(value)
    return " ".join(value.split())


def _with_links(value: str) -> str:
    """A value as text, with the addresses of its links that the text does not show ('Catalog record <https://..>')."""
    text = _text(value)
    extra = [u for u in _links(value) if u not in text]
    return text + "".join(f" <{u}>" for u in extra)


def _links(value: str) -> list[str]:
    """The addresses a value gives: its links' targets, else the addresses written in it."""
    if "<" in value and ">" in value:
        parser = _Text()
        parser.feed(value)
        parser.close()
        if parser.links:
            return parser.links
        value = "".join(parser.parts)
    return [u.rstrip(".,;)") for u in re.findall(r"https?://[^\s<>\"']+", value)]


def _norm(label: str) -> str:
    """'Date of Origin (English)' -> 'date of origin'; 'Éditeur' -> 'editeur'; '語言' stays."""
    s = unicodedata.normalize("NFKD", label)
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).casefold()
    s = re.sub(r"\((?:english|deutsch|french|francais|en|de|fr)\)", "", s)
    return " ".join(re.sub(r"[:.]+$", "", s.strip()).split())


def _field_of(label: LangMap) -> str | None:
    for values in label.values():
        for v in values:
            f = _LABEL_FIELD.get(_norm(_text(v)))
            if f:
                return f
    return None


def _people(name: str, fld: str, texts: list[str], values: dict[str, list[str]], comments: list[str]) -> None:
    """Names with their roles: an author field's names without a role are authors; a contributor's are kept only
    when the role says what they did (author, editor, translator, illustrator, printer, publisher)."""
    for t in texts:
        person, role = _role(t)
        target = _ROLES.get(role) if role else ("author" if fld == "author" else None)
        if target:
            values.setdefault(target, []).append(person)
        else:
            comments.append(f"{name}: {t}" + (" (not an author)" if role else ""))


def _role(value: str) -> tuple[str, str]:
    """'Becket, Mr [author]' -> ('Becket, Mr', 'author'); 'Saint Augustin. Auteur du texte' -> ('Saint Augustin',
    'auteur du texte'); 'Tilghman, B. Noah (colCollector)' -> ('Tilghman, B. Noah', 'collector')."""
    patterns = (r"^(.*?)\s*\[([^\[\]]+)\]$", r"^(.*?)\s*\(([^()]+)\)$", r"^(.*?),\s*([^,]+?)\.?$",
                r"^(.*?)\.\s+([^.]+)$")
    for pattern in patterns:
        m = re.match(pattern, value.strip())
        if not m:
            continue
        role = _norm(m.group(2))
        role = re.sub(r"^col(?=[a-z])", "", role)  # MARC relator code glued to the term: 'colCollector'
        role = role.split("/")[0].strip()
        if role in _ROLES or role in _OTHER_ROLE_WORDS:
            return m.group(1).strip().rstrip(","), role
    return value.strip(), ""


_YEAR = re.compile(r"(?P<circa>(?:c|ca|circa|um|vers|around|about|env)\.?\s*)?(?P<y>\d{3,4})(?P<q>\?)?")


def _year(value: str) -> str | None:
    """'[1787]' -> '1787', 'ca. 1600' -> 'c. 1600', '1761-1765' -> '1761-1765', '1909-11-26' -> '1909'; None for
    anything else ('VIIe/VIIIe siècle', '2. Hälfte 15. Jh.')."""
    v = value.strip().strip("[]").strip().rstrip(".")
    v = re.sub(r"^(\d{4})-\d{2}(?:-\d{2})?(?:T[\d:.]+Z?)?$", r"\1", v)
    m = _YEAR.fullmatch(v)
    if m:
        return ("c. " if m.group("circa") else "") + m.group("y") + (m.group("q") or "")
    m = re.fullmatch(r"(\d{3,4})\s*[-–]\s*(\d{3,4})", v)
    if m:
        return f"{m.group(1)}-{m.group(2)}"
    return None


def _imprint(value: str) -> dict[str, str] | None:
    """'[Cairo?] : Maṭbaʻat Fāḍil, [1949]' -> place, publisher, year (ISBD's publication statement)."""
    m = re.fullmatch(r"\s*(?P<place>[^:]+?)\s*:\s*(?P<pub>.+?)\s*,\s*(?P<year>\[?[^,]*?\d{3,4}\??\]?)\.?\s*", value)
    if not m:
        return None
    year = _year(m.group("year"))
    if not year:
        return None
    out = {"place": m.group("place").strip("[] "), "publisher": m.group("pub").strip("[] "), "year": year}
    return {k: v for k, v in out.items() if v and v.lower() not in ("s.l.", "s.n.", "sine loco", "sine nomine")}


def _institution_in(attribution: str) -> str | None:
    """The institution a short credit line names ('Bayerische Staatsbibliothek', 'Provided by the Library of
    Congress'); None for a longer statement, a copyright line or one with addresses."""
    a = re.sub(r"(?i)^(provided by|courtesy of|bereitgestellt von|fourni par)\s+(the\s+)?", "", attribution).strip()
    if len(a) > 60 or re.search(r"(?i)https?://|©|\(c\)|copyright|rights|licen[cs]e|\d{3,}", a):
        return None
    return a.rstrip(".") or None


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _short(value: str, limit: int = 200) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def language_index() -> dict[str, str]:
    """Language names and codes -> Wikisource code, from langs/*.toml (code, English and native name, the ISO
    639-2/3 names of its Tesseract models) and a few names in other languages."""
    from transcribe.langs import load_languages

    index: dict[str, str] = {}
    for code, lang in load_languages().items():
        for key in (code, lang.name, lang.native_name, *(m.split("_")[0] for m in lang.models if m.islower())):
            if key:
                index.setdefault(_norm(key), code)
    for key, code in _LANGUAGE_NAMES.items():
        index.setdefault(key, code)
    return index


def manifest_id(p: Presentation) -> str:
    """A work id from the manifest's address ('.../bsb00122140/manifest' -> 'bsb00122140'), else ''."""
    from transcribe.manifest import address_stem

    return address_stem(p.id if "://" in p.id else p.source)
