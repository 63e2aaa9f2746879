"""Learning from the checked pages of the same book: its own words and the OCR confusions that recur in it.

`learn(pairs)` takes (OCR text, checked text) of some pages of a work and returns:
- words: the book's own spelling (every word of the checked text). Given to Tesseract as `--user-words` they
  made one of nine measured pages worse, so the stage uses them only to keep correct words from being changed;
- corrections: OCR word -> checked word, kept only when the alignment of the OCR with the checked text showed
  the same replacement at least twice, never another one for that OCR word, and the OCR word never appears in
  the checked text itself (so a correct word is never changed). The same confusions recur through a book
  (long s read as f, `ꝛ`, ligatures, hyphenation): the book's pages show which.
`apply_corrections` replaces whole words only (punctuation around a word is kept).

The checked pages come from a folder of ground truth (`X.gt.txt` / `X.txt` named after the page images) or from
a wiki: the Page: pages of an Index at quality level 3 (proofread) or 4 (validated), read through wiki/site.py.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rapidfuzz.distance import Levenshtein

from transcribe.errors import InputError

if TYPE_CHECKING:
    from transcribe.wiki.site import Wiki

MIN_SEEN = 2  # a correction must have been seen this often in the checked pages
_WORD = re.compile(r"^(\W*)(.*?)(\W*)$", re.DOTALL)
CHECKED_LEVELS = (3, 4)


@dataclass(frozen=True)
class Learned:
    words: tuple[str, ...] = ()
    corrections: tuple[tuple[str, str], ...] = ()
    pages: tuple[str, ...] = ()  # the checked pages learned from (names or titles)
    source: str = ""
    notes: list[str] = field(default_factory=list, compare=False, hash=False)


def _core(token: str) -> tuple[str, str, str]:
    m = _WORD.match(token)
    assert m is not None
    return m.group(1), m.group(2), m.group(3)


def learn(pairs: Iterable[tuple[str, str]], *, source: str = "", pages: Iterable[str] = ()) -> Learned:
    """Words and corrections from (OCR text, checked text) pairs (module docstring)."""
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    checked_words: Counter[str] = Counter()
    for ocr, checked in pairs:
        o, c = ocr.split(), checked.split()
        checked_words.update(w for w in (_core(t)[1] for t in c) if w)
        for op in Levenshtein.opcodes(o, c):
            i1, i2, j1, j2 = op.src_start, op.src_end, op.dest_start, op.dest_end
            if op.tag != "replace" or i2 - i1 != j2 - j1:
                continue
            for a, b in zip(o[i1:i2], c[j1:j2]):
                (_, ca, _), (_, cb, _) = _core(a), _core(b)
                if ca and cb and ca != cb:
                    seen[ca][cb] += 1
    corrections = []
    for wrong, targets in sorted(seen.items()):
        (right, n), = targets.most_common(1)
        if n >= MIN_SEEN and len(targets) == 1 and wrong not in checked_words:
            corrections.append((wrong, right))
    words = tuple(sorted(w for w in checked_words if len(w) > 1 and not any(ch.isdigit() for ch in w)))
    return Learned(words=words, corrections=tuple(corrections), pages=tuple(pages), source=source)


def apply_corrections(text: str, corrections: dict[str, str]) -> tuple[str, int]:
    """`text` with every whole word found in `corrections` replaced; and how many were replaced."""
    fixed = 0

    def one(m: re.Match[str]) -> str:
        nonlocal fixed
        pre, core, post = _core(m.group(0))
        if core in corrections:
            fixed += 1
            return pre + corrections[core] + post
        return m.group(0)

    return re.sub(r"\S+", one, text), fixed


def checked_pages_from_dir(gt_dir: Path, images: dict[str, int]) -> dict[int, tuple[str, str]]:
    """Page number -> (name, checked text) for every GT file of `gt_dir` named after a page image's stem."""
    gt_dir = Path(gt_dir)
    if not gt_dir.is_dir():
        raise InputError(f"The folder of checked pages {gt_dir} does not exist.",
                         hint="Give a folder of X.gt.txt (or X.txt) files named after the page images, or "
                              "\"Index:NAME\" with --wiki.")
    out = {}
    for stem, n in images.items():
        for cand in (gt_dir / f"{stem}.gt.txt", gt_dir / f"{stem}.txt"):
            if cand.is_file():
                try:
                    out[n] = (cand.name, cand.read_text(encoding="utf-8"))
                except (OSError, UnicodeDecodeError) as e:
                    raise InputError(f"{cand} cannot be read as UTF-8 text ({e}).",
                                     hint="Save it as UTF-8 and run the command again.") from e
                break
    if not out:
        raise InputError(f"No file in {gt_dir} is named after a page image of the folder.",
                         hint="Name the checked text of page image 0007.png '0007.gt.txt' or '0007.txt'.")
    return out


def checked_pages_from_wiki(wiki: Wiki, index: str) -> dict[int, tuple[str, str]]:
    """Page number -> (title, body) of the Page: pages of `index` ('Index:Book.djvu') at level 3 or 4.

    Pages are listed by prefix (`Page:Book.djvu/N`), which works with or without the ProofreadPage API, and
    their text is read in the same requests (prop=revisions). Header and footer are left out: only the body is
    what the OCR of the page should have given.
    """
    from transcribe.wiki.pagetext import parse_page

    ns = wiki.namespaces
    name = index.split(":", 1)[1] if ":" in index else index
    if not name:
        raise InputError(f"'{index}' is not an Index page title.", hint="Give it as \"Index:Book.djvu\".")
    prefix = f"{ns.page.name}:{name}/"
    out: dict[int, tuple[str, str]] = {}
    for data in wiki.query_all(generator="allpages", gapnamespace=ns.page.id, gapprefix=f"{name}/",
                               gaplimit="50", prop="revisions", rvprop="content", rvslots="main"):
        for p in data.get("query", {}).get("pages", []):
            title = str(p.get("title", ""))
            rest = title[len(prefix):] if title.startswith(prefix) else ""
            revs = p.get("revisions") or []
            if not rest.isdigit() or not revs:
                continue
            content = revs[0].get("slots", {}).get("main", {}).get("content")
            if content is None:
                continue
            page = parse_page(str(content))
            if page.level in CHECKED_LEVELS:
                out[int(rest)] = (title, page.body)
    if not out:
        raise InputError(f"{index} has no page proofread (level 3) or validated (level 4) on {wiki!r}.",
                         hint="Learning needs some checked pages of the same book; run without --learn-from.")
    return out
