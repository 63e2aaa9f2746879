"""The OCR methods: `fast` (plain Tesseract), `default` (what transcribe recommends) and `best` (may spend more).

Each choice below names the measurement it rests on (the 15 pages of ../shared/corpus, Tesseract 5.3.0 with
Debian 12's models, strict CER as `transcribe evaluate` computes it; plain Tesseract's mean is 0.115):

- fast: exactly `tesseract IMAGE OUT -l MODELS --psm 3`, i.e. plain Tesseract and today's speed.
- default and best:
  - `textord_tabfind_find_tables=0`: Tesseract's table finder merged a 1761 catalogue's columns (0.530 ->
    0.381 without it); on the 14 other pages it changed no page by more than 0.001.
  - models read as others: `frk` as `Fraktur+frk` (better than `frk` on all six Fraktur pages, 0.1049 ->
    0.0961 mean, OCR-NOTES.md; about 1.8x the CPU); `lat` as `Latin`, the Latin script model (the Latin page:
    0.381 -> 0.358 with the table finder off; better than `lat` with --psm 3 and 4 too, 0.530 -> 0.524 and
    0.436 -> 0.429; `Latin+lat` 0.363 for 1.9x the CPU of `lat`, `Latin` 1.4x).
    Only for that model alone (the measured case; `deu+frk` stays as it is) and when the other model is
    installed. `--fast` reads with exactly the models given.
  - small text is scaled (prepare.py) and the reading order of fragmented layouts is rebuilt (layout.py).
- best: also adds the `Latin` script model to the models of a Latin-script language (measured in
  langs/README.md); about 1.5x the CPU of default on those pages.
"""

from __future__ import annotations

METHODS = ("default", "fast", "best")

# Tesseract parameters of default and best (see the module docstring).
CONFIG: tuple[tuple[str, str], ...] = (("textord_tabfind_find_tables", "0"),)

READ_AS = {"frk": ("Fraktur", "frk"), "lat": ("Latin",)}  # a model alone -> the models read instead

# Language models whose script is Latin (Debian 12), for best's added `Latin`.
_LATIN_SCRIPT = frozenset(
    ["afr", "aze", "bos", "cat", "ces", "cos", "cym", "dan", "deu", "eng", "enm", "epo", "est", "eus", "fao", "fil", "fin", "fra", "frm", "fry", "gla", "gle", "glg", "hat", "hrv", "hun", "ind", "isl", "ita", "ita_old", "lav", "lit", "ltz", "mlt", "msa", "nld", "nor", "oci", "pol", "por", "ron", "slk", "slv", "spa", "spa_old", "sqi", "srp_latn", "sun", "swa", "swe", "tgl", "tur", "uzb", "vie", "yor"]
)


def models_for(models: str, method: str, installed: set[str] | None) -> tuple[str, list[str]]:
    """The `-l` string a method reads with, and why it differs from `models` (empty when it does not)."""
    if method == "fast":
        return models, []
    names = models.split("+")
    why = []
    have = (lambda m: True) if installed is None else (lambda m: m in installed)
    for model, instead in READ_AS.items():
        if names == [model] and all(have(m) for m in instead if m != model):
            names = list(instead)
            why.append(f"{model} read as {'+'.join(instead)} (measured better on the corpus pages in {model})")
    if method == "best" and "Latin" not in names and any(n in _LATIN_SCRIPT for n in names) and have("Latin"):
        names.append("Latin")
        why.append("Latin script model added (best)")
    return "+".join(names), why


def config_for(method: str) -> tuple[tuple[str, str], ...]:
    return () if method == "fast" else CONFIG
