"""How good is the OCR? Character and word error rates of OCR text against ground truth, per page and overall.

CER = Levenshtein distance (insertions + deletions + substitutions, in characters) / characters of the ground
truth, after normalising both texts. WER is the same over words. "Overall" is weighted by size: the sum of all
errors over the sum of all ground-truth characters (or words), so a long page counts more than a short one.

Normalisation (the corpus README's, so the numbers match baseline.csv):
- strict (default): Unicode NFC, every run of whitespace (line breaks too) -> one space, ends trimmed.
- relaxed: also NFKC, ſ -> s, ꝛ -> r, aͤ/oͤ/uͤ -> ä/ö/ü, every dash or hyphen -> '-', every double quote -> '"',
  every single quote (also ʼ) -> "'". It separates recognition errors from transcription conventions.

rapidfuzz computes the distances in C: a 3000-character page takes about a millisecond.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from transcribe.errors import InputError

_WS = re.compile(r"\s+")
# Dashes and hyphens: - ‐ ‑ ‒ – — ― ⸗ (double oblique hyphen, Fraktur) ⹀ − ﹣ －  and the not-sign used as a hyphen.
_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2e17\u2e40\u2212\ufe63\uff0d\u00ac"})
_QUOTES = str.maketrans({**{c: '"' for c in "\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033\u301d\u301e"},
                         **{c: "'" for c in "\u2018\u2019\u201a\u201b\u2039\u203a\u2032\u00b4`\u02bc"}})
_E_ABOVE = {"a\u0364": "ä", "o\u0364": "ö", "u\u0364": "ü", "A\u0364": "Ä", "O\u0364": "Ö", "U\u0364": "Ü"}


def normalize(text: str, *, relaxed: bool = False) -> str:
    """The text as it is compared (see the module docstring)."""
    if relaxed:
        for old, new in _E_ABOVE.items():
            text = text.replace(old, new)
        text = unicodedata.normalize("NFKC", text)  # also ſ -> s and ligatures such as ﬁ -> fi
        text = text.replace("ſ", "s").replace("ꝛ", "r").translate(_DASHES).translate(_QUOTES)
    text = unicodedata.normalize("NFC", text)
    return _WS.sub(" ", text).strip()


def char_errors(gt: str, ocr: str) -> int:
    return int(Levenshtein.distance(gt, ocr))


def word_errors(gt: str, ocr: str) -> int:
    return int(Levenshtein.distance(gt.split(), ocr.split()))


@dataclass(frozen=True)
class PageScore:
    page: str  # the OCR file's stem, e.g. '0001'
    ocr_file: str
    gt_file: str
    chars: int  # characters of the normalised ground truth
    char_errors: int
    words: int
    word_errors: int

    @property
    def cer(self) -> float:
        return self.char_errors / self.chars if self.chars else float(self.char_errors > 0)

    @property
    def wer(self) -> float:
        return self.word_errors / self.words if self.words else float(self.word_errors > 0)


@dataclass
class Evaluation:
    pages: list[PageScore]
    relaxed: bool
    unmatched: list[str] = field(default_factory=list)  # OCR files with no ground truth

    @property
    def chars(self) -> int:
        return sum(p.chars for p in self.pages)

    @property
    def char_errors(self) -> int:
        return sum(p.char_errors for p in self.pages)

    @property
    def words(self) -> int:
        return sum(p.words for p in self.pages)

    @property
    def word_errors(self) -> int:
        return sum(p.word_errors for p in self.pages)

    @property
    def cer(self) -> float:
        return self.char_errors / self.chars if self.chars else 0.0

    @property
    def wer(self) -> float:
        return self.word_errors / self.words if self.words else 0.0


def score(page: str, gt_text: str, ocr_text: str, *, relaxed: bool = False, ocr_file: str = "",
          gt_file: str = "") -> PageScore:
    gt, ocr = normalize(gt_text, relaxed=relaxed), normalize(ocr_text, relaxed=relaxed)
    return PageScore(page, ocr_file, gt_file, len(gt), char_errors(gt, ocr), len(gt.split()), word_errors(gt, ocr))


def pair_files(ocr_dir: Path, gt_dir: Path) -> tuple[list[tuple[str, Path, Path]], list[str]]:
    """(page, OCR file, GT file) for every OCR `X.txt` with a ground truth, and the names of those without.

    GT for `X.txt` is `X.gt.txt` or `X.txt` in `gt_dir`; when `ocr_dir` holds a pages.json from `split`, also
    the GT named after each page's source image (so `split` of a folder of pages keeps their ground truth).
    """
    ocr_dir, gt_dir = Path(ocr_dir), Path(gt_dir)
    for folder, what in ((ocr_dir, "OCR"), (gt_dir, "ground-truth")):
        if not folder.is_dir():
            raise InputError(f"The {what} folder {folder} does not exist.",
                             hint="Give two folders: the OCR output first, then the ground truth.")
    sources = _source_stems(ocr_dir)
    pairs, unmatched = [], []
    for txt in sorted(ocr_dir.glob("*.txt")):
        if txt.name.endswith(".gt.txt"):
            continue
        stem = txt.name[: -len(".txt")]
        candidates = [gt_dir / f"{stem}.gt.txt", gt_dir / f"{stem}.txt"]
        if stem in sources:
            candidates += [gt_dir / f"{sources[stem]}.gt.txt", gt_dir / f"{sources[stem]}.txt"]
        gt = next((c for c in candidates if c.is_file() and c.resolve() != txt.resolve()), None)
        if gt is None:
            unmatched.append(txt.name)
        else:
            pairs.append((stem, txt, gt))
    return pairs, unmatched


def _source_stems(ocr_dir: Path) -> dict[str, str]:
    """Page image stem -> its source file's stem, from pages.json (only sources that are one page each)."""
    path = ocr_dir / "pages.json"
    if not path.is_file():
        return {}
    try:
        pages = json.loads(path.read_text(encoding="utf-8")).get("pages", [])
    except (OSError, ValueError, AttributeError):
        return {}
    stems: dict[str, str] = {}
    seen: dict[str, int] = {}
    for p in pages:
        if not isinstance(p, dict) or "image" not in p or "source" not in p:
            continue
        src = Path(str(p["source"]).split("#", 1)[0]).name
        src_stem = src.rsplit(".", 1)[0] if "." in src else src
        stems[Path(str(p["image"])).stem] = src_stem
        seen[src_stem] = seen.get(src_stem, 0) + 1
    # A multi-page scan gives every page the same source: its name says nothing about one page.
    return {k: v for k, v in stems.items() if seen[v] == 1}


def evaluate(ocr_dir: Path, gt_dir: Path, *, relaxed: bool = False) -> Evaluation:
    """Score every OCR text of `ocr_dir` that has a ground truth in `gt_dir`."""
    pairs, unmatched = pair_files(ocr_dir, gt_dir)
    if not pairs:
        raise InputError(
            f"No OCR text in {ocr_dir} has a ground truth in {gt_dir}.",
            hint="The ground truth of 'X.txt' must be named 'X.gt.txt' or 'X.txt' (or after the page's source "
                 "image when the folder comes from 'transcribe split').",
        )
    scores = []
    for page, ocr_file, gt_file in pairs:
        scores.append(score(page, _read(gt_file), _read(ocr_file), relaxed=relaxed, ocr_file=ocr_file.name,
                            gt_file=gt_file.name))
    return Evaluation(scores, relaxed, unmatched)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path} is not UTF-8 text ({e.reason} at byte {e.start}).",
                         hint="Save it as UTF-8 and run the command again.") from e
    except OSError as e:
        raise InputError(f"{path} cannot be read ({e.strerror}).") from e


# -- what a CER means, and comparing two OCR folders ---------------------------------------------------------------

LINE = 60  # characters in a printed line of a book, about


def per_line(cer: float) -> float:
    """About how many wrong characters a proofreader finds in every 60-character line at this CER."""
    return cer * LINE


def meaning(cer: float) -> str:
    return f"about {per_line(cer):.1f} wrong characters in every {LINE}-character line"


def word_meaning(wer: float) -> str:
    """WER for a proofreader: a word with any wrong character is a wrong word."""
    return f"about {wer * 10:.1f} words in every 10 need a correction"


def distinct_names(first: Path, other: Path) -> tuple[str, str]:
    """Names for two folders' columns: their own names, or as many parent folders as tell them apart
    ('pages' and 'pages' -> 'fast/pages' and 'best/pages')."""
    a, b = Path(first).resolve().parts, Path(other).resolve().parts
    for k in range(1, max(len(a), len(b)) + 1):
        name_a, name_b = "/".join(a[-k:]).lstrip("/"), "/".join(b[-k:]).lstrip("/")
        if name_a != name_b:
            return name_a, name_b
    return str(first), str(other)  # the same folder twice


@dataclass(frozen=True)
class PageChange:
    page: str
    chars: int
    cer: float  # of the first folder
    other_cer: float  # of the folder compared against

    @property
    def change(self) -> float:
        return self.cer - self.other_cer

    @property
    def verdict(self) -> str:
        # Half an error per 1000 characters either way is the same text for a proofreader.
        if self.change < -0.0005:
            return "better"
        if self.change > 0.0005:
            return "worse"
        return "same"


@dataclass
class Comparison:
    pages: list[PageChange]
    first: Evaluation  # on the pages both folders have
    other: Evaluation
    only_one: list[str] = field(default_factory=list)  # pages scored in one folder only

    def count(self, verdict: str) -> int:
        return sum(1 for p in self.pages if p.verdict == verdict)


def compare(ocr_dir: Path, other_dir: Path, gt_dir: Path, *, relaxed: bool = False) -> Comparison:
    """Score two OCR folders against the same ground truth, page by page (pages both have)."""
    a, b = evaluate(ocr_dir, gt_dir, relaxed=relaxed), evaluate(other_dir, gt_dir, relaxed=relaxed)
    by_b = {p.page: p for p in b.pages}
    common = [p for p in a.pages if p.page in by_b]
    if not common:
        raise InputError(f"{ocr_dir} and {other_dir} have no page in common with a ground truth in {gt_dir}.",
                         hint="Compare two OCR runs of the same pages (their text files must have the same names).")
    only = sorted({p.page for p in a.pages} ^ set(by_b))
    changes = [PageChange(p.page, p.chars, p.cer, by_b[p.page].cer) for p in common]
    return Comparison(changes, Evaluation(common, relaxed), Evaluation([by_b[p.page] for p in common], relaxed),
                      only)


def plain_tesseract(gt_dir: Path, result: Evaluation) -> tuple[float, int] | None:
    """Plain Tesseract's CER on the same pages, when the ground truth comes with a `baseline.csv` (columns page
    and cer, cer_relaxed for --relaxed, as in the test corpus) that has all of them; weighted like
    `Evaluation.cer`. Else None."""
    import csv

    gt_dir = Path(gt_dir)
    for path in (gt_dir / "baseline.csv", gt_dir.parent / "baseline.csv"):
        if path.is_file():
            break
    else:
        return None
    try:
        with open(path, newline="", encoding="utf-8") as f:
            column = "cer_relaxed" if result.relaxed else "cer"
            rows = {Path(r["page"]).stem: float(r[column]) for r in csv.DictReader(f) if r.get("page")}
    except (OSError, KeyError, ValueError, UnicodeDecodeError):
        return None
    errors = 0.0
    for p in result.pages:
        stem = Path(p.gt_file).name.removesuffix(".gt.txt").removesuffix(".txt")
        cer = rows.get(stem, rows.get(p.page))
        if cer is None:
            return None
        errors += cer * p.chars
    return (errors / result.chars if result.chars else 0.0), len(result.pages)
