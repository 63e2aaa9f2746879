"""ProofreadPage's quality levels: the one fact that publishing (`wiki/`) and progress reports (`progress/`) share.

A Page: page is at one of five levels. transcribe writes only the first two (0 for a blank page, 1 for machine
text); people raise a page to 3 (proofread) and 4 (validated), or mark it 2 (problematic). The names are
ProofreadPage's English ones (a wiki shows its own, read by `wiki/site.py` where it can); the colours are
Wikisource's, so that bars and badges look like the ones proofreaders know.
"""

from __future__ import annotations

LEVELS = (0, 1, 2, 3, 4)
WITHOUT_TEXT, NOT_PROOFREAD, PROBLEMATIC, PROOFREAD, VALIDATED = LEVELS
LEVEL_NAMES = {0: "Without text", 1: "Not proofread", 2: "Problematic", 3: "Proofread", 4: "Validated"}
LEVEL_COLOURS = {0: "#dddddd", 1: "#ffa0a0", 2: "#b0b0ff", 3: "#ffe867", 4: "#90ff90"}
