"""Page labels: how scan positions map to printed page numbers (ProofreadPage's <pagelist/>).

A work gives them as pagelist attributes, e.g. '1=Cover 2to5=roman 2=1 6=— 7=1': scan page 1 is labelled
'Cover', 2-5 are roman numerals counting from 1 (i..iv), 6 has the label '—', and from 7 on arabic numbers
count from 1. Manuscripts are counted in leaves: '3=12 3to20=folio' labels scan pages 3, 4, 5... as 12r, 12v,
13r... (ProofreadPage's folio styles: folio, folioroman, foliohighroman; a range starts on a recto). This module
parses them, checks them, and renders the <pagelist/> tag.

`pagelist_from_labels` goes the other way: from the labels a library gives each page (IIIF canvas labels such as
'p. 12', 'fol. 3v', 'xii'), the shortest attributes that reproduce them, and a note for each label that is not a
page number (left out of the <pagelist/>).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FOLIO_STYLES = {"folio": "arabic", "folioroman": "roman", "foliohighroman": "highroman"}  # -> how the leaf is counted
STYLES = {"roman", "highroman", "arabic", "empty", "-", *FOLIO_STYLES}


class PageLabelError(ValueError):
    pass


@dataclass(frozen=True)
class Rule:
    first: int
    last: int | None  # None: a single page (n=value), or to the end for numbering resets
    value: str


_TOKEN = re.compile(r'(\d+)(?:to(\d+))?=("[^"]*"|\S+)')


def parse_page_labels(spec: str) -> list[Rule]:
    """Parse '1=Cover 2to5=roman 7=1' into rules, rejecting what ProofreadPage would choke on."""
    rules: list[Rule] = []
    pos = 0
    spec = spec.strip()
    while pos < len(spec):
        if spec[pos].isspace():
            pos += 1
            continue
        m = _TOKEN.match(spec, pos)
        if not m:
            raise PageLabelError(
                f"cannot read '{spec[pos:pos + 20]}': write rules like '1=Cover 2to5=roman 7=1'"
            )
        first, last = int(m.group(1)), int(m.group(2)) if m.group(2) else None
        value = m.group(3).strip('"')
        if first < 1 or (last is not None and last < first):
            raise PageLabelError(f"'{m.group(0)}' is not a range of scan pages (they count from 1)")
        if last is not None and value not in STYLES:
            raise PageLabelError(f"'{m.group(0)}': a range takes a style ({', '.join(sorted(STYLES))})")
        rules.append(Rule(first, last, value))
        pos = m.end()
    return rules


def label_pages(spec: str, page_count: int) -> list[str]:
    """The label of every scan page 1..page_count, as ProofreadPage shows them (a folio as '12r')."""
    rules = parse_page_labels(spec)
    style = ["arabic"] * (page_count + 1)
    range_start = [0] * (page_count + 1)  # where the folio range holding a page begins
    fixed: dict[int, str] = {}
    # numbering: n=<int> resets the count at n; ranges set the style
    offset_at: dict[int, int] = {}
    for r in rules:
        if r.last is not None:
            for n in range(r.first, min(r.last, page_count) + 1):
                style[n] = "-" if r.value == "empty" else r.value
                range_start[n] = r.first
        elif r.value.isdigit():
            offset_at[r.first] = int(r.value)
        else:
            fixed[r.first] = r.value
    number = 1
    labels: list[str] = []
    for n in range(1, page_count + 1):
        if n in offset_at:
            number = offset_at[n]
        if n in fixed:
            labels.append(fixed[n])
        elif style[n] in FOLIO_STYLES:
            # ProofreadPage: leaf = count at the range's first page + (n - first) // 2; recto when (n - first) is even
            start = range_start[n]
            leaf = number - (n - start) + (n - start) // 2
            side = "r" if (n - start) % 2 == 0 else "v"
            labels.append(_format(leaf, FOLIO_STYLES[style[n]]) + side)
        elif style[n] in ("roman", "highroman"):
            labels.append(_format(number, style[n]))
        elif style[n] == "-":
            labels.append("-")
        else:
            labels.append(str(number))
        number += 1
    return labels


def _format(n: int, style: str) -> str:
    return _roman(n).lower() if style == "roman" else _roman(n) if style == "highroman" else str(n)


def pagelist_tag(spec: str) -> str:
    """The <pagelist/> tag for an Index page."""
    parts = []
    for r in parse_page_labels(spec):
        key = f"{r.first}to{r.last}" if r.last is not None else str(r.first)
        value = r.value if re.fullmatch(r"[\w-]+", r.value) else f'"{r.value}"'
        parts.append(f"{key}={value}")
    return "<pagelist " + " ".join(parts) + (" />" if parts else "/>")


def _roman(n: int) -> str:
    if n <= 0:
        return str(n)
    out = []
    for value, numeral in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                           (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out.append(numeral)
            n -= value
    return "".join(out)


def describe_labels(labels: list[str]) -> str:
    """The labels as a reader sees them in the wiki's page list: 'Cover, i–iv, 1–20' (runs joined with a dash)."""
    runs: list[list[str]] = []
    for label in labels:
        if runs and _follows(runs[-1][-1], label):
            runs[-1].append(label)
        else:
            runs.append([label])
    return ", ".join(r[0] if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs)


def _follows(prev: str, label: str) -> bool:
    """Whether `label` is the number after `prev`, in the same style (arabic, roman or ROMAN; 12r, 12v, 13r)."""
    a, b = _value(prev), _value(label)
    if a is not None and b is not None:
        return a[1] == b[1] and b[0] == a[0] + 1
    fa, fb = _folio(prev), _folio(label)
    return fa is not None and fb is not None and fb.follows(fa)


def _folio(label: str) -> PageNumber | None:
    """'12r' -> leaf 12 recto (as label_pages writes folios), else None."""
    m = re.fullmatch(r"(.+?)([rv])", label)
    if not m:
        return None
    v = _value(m.group(1))
    return PageNumber(v[0], v[1], m.group(2)) if v else None


def _value(label: str) -> tuple[int, str] | None:
    if label.isdigit():
        return int(label), "arabic"
    for style, text in (("roman", label.upper()), ("highroman", label)):
        if text and (style == "roman") == label.islower() and re.fullmatch(r"[MDCLXVI]+", text):
            n = _from_roman(text)
            if n and _roman(n) == text:
                return n, style
    return None


def _from_roman(text: str) -> int:
    values = {"M": 1000, "D": 500, "C": 100, "L": 50, "X": 10, "V": 5, "I": 1}
    total = 0
    for i, ch in enumerate(text):
        v = values[ch]
        total += -v if i + 1 < len(text) and values[text[i + 1]] > v else v
    return total


# -- from the labels a library gives each page ----------------------------------------------------------------------

@dataclass(frozen=True)
class PageNumber:
    """A page number read from a label: 12 (arabic), xii (roman), XII (highroman), 12r / 12v (a leaf's side)."""

    number: int
    style: str  # 'arabic', 'roman' or 'highroman'
    side: str = ""  # '' for a page, 'r' (recto) or 'v' (verso) for a side of a leaf

    @property
    def text(self) -> str:
        return _format(self.number, self.style) + self.side

    def follows(self, prev: PageNumber) -> bool:
        """Whether this is the page after `prev` in the same numbering (12 after 11, 12v after 12r, 13r after 12v)."""
        if self.style != prev.style or bool(self.side) != bool(prev.side):
            return False
        if not self.side:
            return self.number == prev.number + 1
        if prev.side == "r":
            return self.side == "v" and self.number == prev.number
        return self.side == "r" and self.number == prev.number + 1


# Words (and abbreviations) that say "page" or "leaf" before a number, in the languages libraries label in:
# p., pp., pag., page, pagina, página, Seite, S., str. (Slavic), с./стр.; fol., f., folio, foglio, feuillet, Bl., Blatt,
# leaf, k. (karta).
_PREFIX = (r"(?:p|pp|pg|pag|page|pagina|página|pagine|seite|s|str|стр|с|fol|f|ff|folio|foglio|feuillet|fo|bl|blatt|"
           r"leaf|k|karta)\.?\s*")
_SIDE = r"(?:\s*(?P<side>r|v|recto|verso|ro|vo|r°|v°))?"
_LABEL = re.compile(rf"(?:{_PREFIX})?\[?\s*(?P<num>\d{{1,5}}|[ivxlcdm]+|[IVXLCDM]+){_SIDE}\s*\]?\.?", re.IGNORECASE)


def parse_label(label: str | None) -> PageNumber | None:
    """'p. 12' -> 12, 'xii' -> roman 12, 'fol. 3v' -> 3v, '[7]' -> 7; None for anything that is not a page number
    ('Cover', 'fragm1a', '(0001)': a number in round brackets alone is the image's place in the sequence)."""
    if not label:
        return None
    text = " ".join(label.split())
    m = _LABEL.fullmatch(text)
    if not m:
        return None
    num, side = m.group("num"), (m.group("side") or "").lower()
    side = side[:1]
    if num.isdigit():
        n = int(num)
        return PageNumber(n, "arabic", side) if n > 0 else None
    style = "roman" if num.islower() else "highroman" if num.isupper() else ""
    if not style:
        return None
    # 'iv' is 4, never 'i' verso; 'xivv' is xiv verso; one letter other than i, v, x is a letter, not a number
    if not side and len(num) > 1 and num[-1] in "vV" and not _canonical_roman(num):
        num, side = num[:-1], "v"
    n = _canonical_roman(num)
    if not n or (len(num) == 1 and num.upper() not in "IVX"):
        return None
    return PageNumber(n, style, side)


def _canonical_roman(text: str) -> int:
    up = text.upper()
    if not re.fullmatch(r"[MDCLXVI]+", up):
        return 0
    n = _from_roman(up)
    return n if _roman(n) == up else 0


def _candidates(label: str | None) -> tuple[PageNumber | None, PageNumber | None]:
    """(the label's number, the number in brackets after it): '2r (31r)' -> (2r, 31r), 'Lacune (32r)' -> (None, 32r);
    a label without a bracketed part gives its number twice."""
    if not label:
        return None, None
    m = re.fullmatch(r"\s*(.*?\S)\s*\(([^()]*)\)\s*", label)
    if m:
        return parse_label(m.group(1)), parse_label(m.group(2))
    n = parse_label(label)
    return n, n


@dataclass(frozen=True)
class DerivedLabels:
    spec: str  # pagelist attributes for `page_labels` ('' when no label is a page number)
    labels: list[str | None]  # the label each page gets from the spec's rules, None where left out
    notes: list[str]  # one line per label (or run of labels) left out, and how the labels were read


def pagelist_from_labels(labels: list[str | None], *, what: str = "page") -> DerivedLabels:
    """The pagelist attributes that give scan page n (labels[n-1]) its label, where the label is a page number.

    Runs of numbers in sequence become a numbering reset and, for roman numerals and folios, a range
    ('3=12 3to40=folio'); a run that starts on a verso gets that first label as text. Labels that are not page
    numbers are left out (ProofreadPage then counts on from the last number), each with a note naming it.
    Labels that give two numberings, the second in brackets ('2r (31r)', and 'Lacune (32r)' for a missing leaf),
    are read in the numbering that gives more pages a number.
    """
    first = [_candidates(label) for label in labels]
    primary = [a for a, _ in first]
    bracketed = [b for _, b in first]
    notes: list[str] = []
    numbers = primary
    if sum(b is not None for b in bracketed) > sum(a is not None for a in primary):
        numbers = bracketed
        notes.append(f"the labels give two numberings, the second in brackets (e.g. '{_example(labels, first)}'); "
                     f"the one in brackets numbers more {_plural(what)} ({sum(b is not None for b in bracketed)} against "
                     f"{sum(a is not None for a in primary)}) and is used")
    parts: list[str] = []
    offset = 0  # ProofreadPage shows page p as p - offset outside a range
    runs: list[list[tuple[int, PageNumber]]] = []
    for pos, num in enumerate(numbers, 1):
        if num is None:
            continue
        if runs and runs[-1][-1][0] == pos - 1 and num.follows(runs[-1][-1][1]):
            runs[-1].append((pos, num))
        else:
            runs.append([(pos, num)])
    for run in runs:
        pos, num = run[0]
        if num.side == "v" or (num.side and len(run) == 1):
            parts.append(f"{pos}={num.text}")  # a folio range always starts on a recto
            run = run[1:]
            if not run:
                continue
            pos, num = run[0]
        last = run[-1][0]
        if num.side or num.style != "arabic":
            if len(run) == 1:
                parts.append(f"{pos}={num.text}")
                continue
            if pos - offset != num.number:
                parts.append(f"{pos}={num.number}")
                offset = pos - num.number
            style = num.style if not num.side else {"arabic": "folio", "roman": "folioroman",
                                                    "highroman": "foliohighroman"}[num.style]
            parts.append(f"{pos}to{last}={style}")
        elif pos - offset != num.number:
            parts.append(f"{pos}={num.number}")
            offset = pos - num.number
    spec = " ".join(parts)
    notes += _left_out(labels, numbers, what)
    shown = label_pages(spec, len(labels)) if labels else []
    return DerivedLabels(spec, [shown[i] if n is not None else None for i, n in enumerate(numbers)], notes)


def page_labels_from_canvases(labels: list[str | None]) -> tuple[str, list[str]]:
    """(page_labels, notes) from a IIIF manifest's canvas labels (canvas n = page n), for a work that gives none:
    the spec, a note saying where it came from, and one note on what was left out (if anything was)."""
    d = pagelist_from_labels(labels, what="canvas")
    notes = [f"page labels from the canvas labels: {d.spec}"] if d.spec else []
    left = [n for n in d.notes if "left out" in n]
    if left:
        notes.append(f"page labels: {left[0]}" + (f" (and {len(left) - 1} more)" if len(left) > 1 else ""))
    return d.spec, notes


def _example(labels: list[str | None], first: list[tuple[PageNumber | None, PageNumber | None]]) -> str:
    return next((str(lb) for lb, (a, b) in zip(labels, first) if a is not None and b is not None and a != b),
                next((str(lb) for lb, (_, b) in zip(labels, first) if b is not None), ""))


def _left_out(labels: list[str | None], numbers: list[PageNumber | None], what: str) -> list[str]:
    """'canvas 3 'fragm1a': not a page number, left out of <pagelist/>', runs of them on one line."""
    notes: list[str] = []
    runs: list[list[int]] = []
    for i, num in enumerate(numbers):
        if num is None:
            if runs and runs[-1][-1] == i - 1:
                runs[-1].append(i)
            else:
                runs.append([i])
    for run in runs:
        first, last = labels[run[0]], labels[run[-1]]
        if len(run) == 1:
            said = f"'{first}'" if first else "has no label"
            notes.append(f"{what} {run[0] + 1} {said}: not a page number, left out of <pagelist/>")
        else:
            said = f"'{first}' … '{last}'" if first or last else "no labels"
            notes.append(f"{_plural(what)} {run[0] + 1}–{run[-1] + 1} ({said}): not page numbers, left out of <pagelist/>")
    return notes


def _plural(word: str) -> str:
    return word + ("es" if word.endswith("s") else "s")
