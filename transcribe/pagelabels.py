"""Page labels: how scan positions map to printed page numbers (ProofreadPage's <pagelist/>).

A work gives them as pagelist attributes, e.g. '1=Cover 2to5=roman 2=1 6=— 7=1': scan page 1 is labelled
'Cover', 2-5 are roman numerals counting from 1 (i..iv), 6 has the label '—', and from 7 on arabic numbers
count from 1. This module parses them, checks them, and renders the <pagelist/> tag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STYLES = {"roman", "highroman", "arabic", "empty", "-"}


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
    """The label of every scan page 1..page_count, as ProofreadPage shows them."""
    rules = parse_page_labels(spec)
    style = ["arabic"] * (page_count + 1)
    fixed: dict[int, str] = {}
    # numbering: n=<int> resets the count at n; ranges set the style
    offset_at: dict[int, int] = {}
    for r in rules:
        if r.last is not None:
            for n in range(r.first, min(r.last, page_count) + 1):
                style[n] = "-" if r.value == "empty" else r.value
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
        elif style[n] == "roman":
            labels.append(_roman(number).lower())
        elif style[n] == "highroman":
            labels.append(_roman(number))
        elif style[n] == "-":
            labels.append("-")
        else:
            labels.append(str(number))
        number += 1
    return labels


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
    """Whether `label` is the number after `prev`, in the same style (arabic, roman or ROMAN)."""
    a, b = _value(prev), _value(label)
    return a is not None and b is not None and a[1] == b[1] and b[0] == a[0] + 1


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
