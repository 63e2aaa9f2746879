"""The OCR methods: `fast` (plain Tesseract), `default` (what transcribe recommends) and `best` (may spend more).

The default is chosen to hold on books nobody tuned it on. Every rule and model choice below was kept only if it
improved the mean CER over the books it was NOT chosen on (leave one book out over ../shared/corpus,
../shared/corpus-wide and ../shared/books: 35 books, 96 pages) and made no book worse by more than 0.01.
`bench/bench_ocr_quality.py --lobo NAME` prints that test (held-out mean over the books against the baseline);
Tesseract 5.3.0, strict CER as `transcribe evaluate` computes it, CPU = Tesseract's user + system time.

- fast: exactly `tesseract IMAGE OUT -l MODELS --psm 3`, i.e. plain Tesseract and today's speed.
- default:
  - models: an installed catalogue model (langs/models.toml, transcribe/models.py) reads in place of the Debian
    models it `replaces`, a recommended one first: german_print for frk and deu (held out: frk 0.094 against
    0.175 over 17 books, deu 0.019 against 0.036 over 4; no book worse; 0.84x the CPU on Fraktur); frak2021 for
    frk when german_print is missing (0.100). lat and fra stay Debian's: german_print was better on the mean of
    their books (lat 0.198 against 0.237, 7 books) but a Latin-Greek page got worse by 0.33 (Debian's lat plus
    the second reading below reads it far better) and French is better with fra (0.107 against 0.185).
    When the better model is not installed the default reads with Debian's models and says, in one `note:`,
    what to install (`transcribe langs install NAME`).
  - a page whose mean word confidence is below 70 (REREAD_BELOW) is read again with --psm 4 and the surer
    reading is kept (only with the default --psm 3): held out 0.1178 against 0.1460 (the threshold chosen among
    50/60/70 on the other books: 70 in all 35 folds), no book worse; a binarised 1610 French page whose text
    block psm 3 dropped: 0.727 -> 0.150.
  - dropped, each because it helped only the book it was chosen on (held out 0.1178 with and without it, with
    the rules above): Tesseract's table finder off (`textord_tabfind_find_tables=0`: a 1761 catalogue page 0.530
    -> 0.381, no other book changed); scaling small print (prepare.py); the reading-order rebuild (now bench/ocr_layout.py; it
    also scrambled an unseen exhibition catalogue); a white border around the page (`--lobo white_border`: it
    found a Fraktur page's edge letters and page number, but held out 0.1311 against 0.1198, one book +0.39); reading
    every page from a grey copy scaled down (`--lobo downscale`: 0.85x gave the best mean of all, 0.1007 against
    0.1198 over the 35 books at 0.79x the CPU, herrtreiw 0.46 -> 0.18, but four books worse by more than 0.01,
    akz1860 +0.012 and faictz1538 +0.030 among them; no page signal found says which books it helps). Also dropped: GT4HistOCR for frk (two books worse by > 0.02),
    german_print together with the Debian model (worse than german_print alone on every Antiqua language),
    `Fraktur+frk` for frk (1.8x the CPU of frk: over the CPU budget of 1.0x plain).
  Result (`bench/bench_ocr_quality.py --methods default,fast --recipe`, library run): corpus-wide 0.591x plain's
  mean CER (0.123 against 0.208), worst book +0.004, 1.22x the CPU (plain and default read in the same run, from
  an empty cache; the second reading of low-confidence pages costs 0.28x: over the 1.0x target, which only the
  CER of the first reading alone, 0.78x, would meet); books/ 0.519x, every page better; all 35 books 0.561x,
  1.08x the CPU. DTA pages
  may have been in the models' training data (reported apart: corpus-wide without them 0.596x).
- best: the default, plus the `Latin` script model added to a Latin-script language the default reads with
  Debian's models (measured on the 15 corpus pages only; about 1.5x the CPU of default on those pages).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

METHODS = ("default", "fast", "best")

# Tesseract parameters of default and best (see the module docstring: the table finder stays on).
CONFIG: tuple[tuple[str, str], ...] = ()
# A page whose mean word confidence is below this is read again with --psm 4 (default and best; module docstring).
REREAD_BELOW = 70.0

# Language models whose script is Latin (Debian 12), for best's added `Latin`.
_LATIN_SCRIPT = frozenset(
    ["afr", "aze", "bos", "cat", "ces", "cos", "cym", "dan", "deu", "eng", "enm", "epo", "est", "eus", "fao", "fil", "fin", "fra", "frm", "fry", "gla", "gle", "glg", "hat", "hrv", "hun", "ind", "isl", "ita", "ita_old", "lav", "lit", "ltz", "mlt", "msa", "nld", "nor", "oci", "pol", "por", "ron", "slk", "slv", "spa", "spa_old", "sqi", "srp_latn", "sun", "swa", "swe", "tgl", "tur", "uzb", "vie", "yor"]
)


@dataclass(frozen=True)
class Reading:
    """What a method reads with: the `-l` string, why it differs from the user's models, and what it could not
    use (each note says what to install)."""

    models: str
    why: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def models_for(models: str, method: str, installed: set[str] | None, *,
               replacements: Mapping[str, Iterable[str]] | None = None,
               catalogue_installed: set[str] | None = None) -> Reading:
    """The models `method` reads with instead of the user's `models`.

    `replacements`: Debian model -> catalogue models that read in place of it, best first (from langs/models.toml
    `replaces`); `catalogue_installed`: the catalogue models that are installed; `installed`: what Tesseract
    loads (None: everything, for callers that do not probe).
    """
    if method == "fast":
        return Reading(models)
    have = (lambda m: True) if installed is None else (lambda m: m in installed)
    names = models.split("+")
    out: list[str] = []
    why: list[str] = []
    notes: list[str] = []
    missing: dict[str, list[str]] = {}  # catalogue model to install -> the Debian models read instead
    for name in names:
        better = list((replacements or {}).get(name, ()))
        usable = [c for c in better if catalogue_installed is not None and c in catalogue_installed]
        if usable:
            if usable[0] not in out:
                out.append(usable[0])
            why.append(f"{name} read as {usable[0]} (catalogue model, measured better on books it was not chosen "
                       "on: langs/models.toml)")
            if usable[0] != better[0]:
                missing.setdefault(better[0], []).append(name)
            continue
        if better:
            missing.setdefault(better[0], []).append(name)
        if name not in out:
            out.append(name)
    if method == "best" and "Latin" not in out and any(n in _LATIN_SCRIPT for n in out) and have("Latin"):
        out.append("Latin")
        why.append("Latin script model added (best)")
    for model, instead in missing.items():  # one line per model to install
        notes.append(f"the {method} method reads {' and '.join(instead)} with the model '{model}', which is not "
                     f"installed: read with '{'+'.join(out)}' instead; install it with: "
                     f"transcribe langs install {model}")
    return Reading("+".join(out), tuple(why), tuple(notes))


def config_for(method: str) -> tuple[tuple[str, str], ...]:
    return () if method == "fast" else CONFIG
