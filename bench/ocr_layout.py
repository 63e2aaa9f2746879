"""Reading order from Tesseract's own word boxes, for pages whose layout Tesseract cut into side-by-side pieces.

NOT USED by any method since PIPELINE_VERSION 3: judged leave one book out over ../shared/corpus, corpus-wide and
books (35 books), it helped only the book it was chosen on (held-out mean 0.1196 with and without it), and on an
unseen exhibition catalogue it scrambled the columns (one page 0.014 -> 0.155). bench/bench_ocr_quality.py
(`--lobo reading_order_rebuild`) keeps testing it as a candidate; what follows is how it was first measured.

Measured on the 15 corpus pages (Tesseract 5.3.0, strict CER): on a page of commentary (a verse block with line
numbers, a full-width apparatus with wide word spaces, two columns of notes) `--psm 3` recognises the words
well but cuts the apparatus into narrow blocks and prints them between the two columns below (0.269); `--psm 4`
keeps the lines whole (0.162). Re-ordering psm 3's own words by a recursive XY cut (blocks apart top to bottom,
then columns left to right, then rows) gives 0.124 on that page, and exactly Tesseract's order on the 13 plain
pages. It cannot help where Tesseract's lines themselves run across columns (a 1761 table with braces and rules:
0.381 in Tesseract's order, 0.546 re-ordered), so it is used only when it resolves the page (see `decide`).

The signals, both read from the TSV of the one Tesseract call the page needs anyway (no second OCR pass):
- fragmented: share of text lines that sit beside a line of ANOTHER block, closer than 3 line heights. A
  column gutter is about a line height; 0 on 12 of the 13 plain pages (one Fraktur page: 2 of 34 lines), 72 %
  on the commentary page, 69 % on the table.
- unresolved: share of rows the XY cut still has to read as pieces side by side. 13 % on the commentary page
  (a few verse lines with their numbers), 49 % on the table: there the XY cut is no better than Tesseract.
"""

from __future__ import annotations

import csv
import io
import statistics
from dataclasses import dataclass

# Thresholds halfway between what the plain pages and the commentary page show (numbers above).
FRAGMENTED_MIN = 0.25
UNRESOLVED_MAX = 0.25

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Word:
    text: str
    box: Box
    line: tuple[int, int, int]  # Tesseract's (block, paragraph, line)


@dataclass
class Piece:
    """A run of words of one Tesseract line, without a gap wider than a gutter inside."""

    words: list[Word]
    box: Box


@dataclass(frozen=True)
class Order:
    text: str | None  # the text in XY order, None when Tesseract's own order is kept
    fragmented: float
    unresolved: float | None
    reason: str


def read_words(tsv: str) -> list[Word]:
    words = []
    for r in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        text = (r.get("text") or "").strip()
        if r.get("level") != "5" or not text:
            continue
        try:
            x, y, w, h = int(r["left"]), int(r["top"]), int(r["width"]), int(r["height"])
            key = (int(r["block_num"]), int(r["par_num"]), int(r["line_num"]))
        except (TypeError, ValueError, KeyError):
            continue
        words.append(Word(text, (x, y, x + w, y + h), key))
    return words


def _union(boxes: list[Box]) -> Box:
    return min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)


def fragmented_share(words: list[Word]) -> float:
    """Share of lines beside a line of another block, closer than 3 line heights (see the module docstring)."""
    by_line: dict[tuple[int, int, int], list[Box]] = {}
    for w in words:
        by_line.setdefault(w.line, []).append(w.box)
    lines = [(k, _union(v)) for k, v in by_line.items()]
    if not lines:
        return 0.0
    height = statistics.median(b[3] - b[1] for _, b in lines)
    beside: set[tuple[int, int, int]] = set()
    for i, (k1, a) in enumerate(lines):
        for k2, b in lines[i + 1:]:
            if k1[0] == k2[0]:
                continue
            overlap = min(a[3], b[3]) - max(a[1], b[1])
            if overlap > 0.5 * min(a[3] - a[1], b[3] - b[1]):
                gap = max(b[0] - a[2], a[0] - b[2])
                if 0 < gap < 3 * height:
                    beside.update((k1, k2))
    return len(beside) / len(lines)


def pieces(words: list[Word], gap: float) -> list[Piece]:
    """Tesseract's lines, cut where two neighbouring words are further apart than `gap`; words keep its order."""
    by_line: dict[tuple[int, int, int], list[Word]] = {}
    for w in words:
        by_line.setdefault(w.line, []).append(w)
    out = []
    for ws in by_line.values():
        run = [ws[0]]
        for w in ws[1:]:
            if w.box[0] - run[-1].box[2] >= gap:
                out.append(Piece(run, _union([x.box for x in run])))
                run = []
            run.append(w)
        out.append(Piece(run, _union([x.box for x in run])))
    return out


def _cuts(spans: list[tuple[int, int]], min_gap: float) -> list[float]:
    """Middles of the stretches at least `min_gap` long that no span covers."""
    if not spans:
        return []
    spans = sorted(spans)
    cuts, end = [], spans[0][1]
    for a, b in spans[1:]:
        if a - end >= min_gap:
            cuts.append((a + end) / 2)
        end = max(end, b)
    return cuts


def _split(items: list[Piece], cuts: list[float], axis: int) -> list[list[Piece]]:
    parts: list[list[Piece]] = [[] for _ in range(len(cuts) + 1)]
    for p in items:
        mid = (p.box[axis] + p.box[axis + 2]) / 2
        parts[sum(1 for c in cuts if mid > c)].append(p)
    return [p for p in parts if p]


def _rows(items: list[Piece]) -> list[list[Piece]]:
    """Pieces grouped into rows by vertical overlap, each row left to right."""
    rows: list[list[Piece]] = []
    bottom = -1.0
    for p in sorted(items, key=lambda p: (p.box[1] + p.box[3]) / 2):
        mid = (p.box[1] + p.box[3]) / 2
        if rows and mid < bottom:
            rows[-1].append(p)
        else:
            rows.append([p])
            bottom = p.box[3]
    return [sorted(r, key=lambda p: p.box[0]) for r in rows]


def xy_order(items: list[Piece], height: float, depth: int = 0) -> list[list[Piece]]:
    """Rows of pieces by a recursive XY cut: blocks a line height apart top to bottom, then columns at least
    0.6 line heights apart left to right (a narrow gutter is about a line height), then rows."""
    if len(items) <= 1 or depth > 30:
        return _rows(items)
    # Vertical text, rules and braces (taller than 3 lines) would block every cut: read them after the rest.
    tall = [p for p in items if p.box[3] - p.box[1] > 3 * height]
    if tall:
        rest = [p for p in items if p.box[3] - p.box[1] <= 3 * height]
        return xy_order(rest, height, depth + 1) + [[p] for p in tall]
    for axis, min_gap in ((1, height), (0, 0.6 * height)):
        cuts = _cuts([(p.box[axis], p.box[axis + 2]) for p in items], min_gap)
        parts = _split(items, cuts, axis) if cuts else []
        if len(parts) > 1:
            return [row for part in parts for row in xy_order(part, height, depth + 1)]
    return _rows(items)


def decide(tsv: str) -> Order:
    """Keep Tesseract's reading order, or the XY-cut order when Tesseract fragmented the page and the cut
    resolves it (module docstring)."""
    words = read_words(tsv)
    if not words:
        return Order(None, 0.0, None, "no words")
    frag = fragmented_share(words)
    if frag < FRAGMENTED_MIN:
        return Order(None, round(frag, 3), None, "Tesseract's layout is not fragmented: its reading order")
    height = statistics.median(w.box[3] - w.box[1] for w in words)
    items = pieces(words, 1.5 * height)
    height = statistics.median(p.box[3] - p.box[1] for p in items)
    rows = xy_order(items, height)
    unresolved = sum(1 for r in rows if len(r) > 1) / len(rows)
    if unresolved > UNRESOLVED_MAX:
        return Order(None, round(frag, 3), round(unresolved, 3),
                     "fragmented, but the XY cut does not resolve it: Tesseract's reading order")
    text = "\n".join(" ".join(w.text for p in row for w in p.words) for row in rows) + "\n"
    return Order(text, round(frag, 3), round(unresolved, 3),
                 "Tesseract cut lines into side-by-side blocks: reading order rebuilt from its word boxes")
