"""Fixtures every test area shares. Area-specific fixtures live in their own modules and are imported here."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The shared folder sits beside the repository (CI clones the repo with ../shared beside it).
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"

# Tesseract's own OpenMP threads fight each other on a small machine (see ../shared/OCR-NOTES.md).
os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def pytest_sessionstart(session: pytest.Session) -> None:
    """The catalogue models the tests read with (german_print...), installed from ../shared/models through the
    same download code as `transcribe langs install --all --from ../shared/models` (what scripts/test runs), so
    that a plain `pytest` finds them too. Nothing is fetched from elsewhere; installed models are only checked."""
    from transcribe import models

    if (SHARED / "models").is_dir() and set(models.catalogue()) - models.installed_catalogue_models():
        for name in models.catalogue():
            models.install(name, source=str(SHARED / "models"))


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The folder of scanned pages with ground truth (read-only)."""
    if not (CORPUS / "manifest.csv").is_file():
        pytest.fail(f"The test corpus is missing: expected {CORPUS} beside the repository (see README).")
    return CORPUS


@pytest.fixture(scope="session")
def corpus_pages(corpus: Path) -> list[dict[str, str]]:
    """Rows of the corpus manifest: file, gt_file, tesseract_lang, script, dpi..."""
    with open(corpus / "manifest.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="session")
def baseline(corpus: Path) -> dict[str, float]:
    """Plain Tesseract's CER per corpus page: our OCR must do at least as well."""
    with open(corpus / "baseline.csv", newline="", encoding="utf-8") as f:
        return {row["page"]: float(row["cer"]) for row in csv.DictReader(f)}


# Small rendered scans for publishing (tests/publish_helpers.py): fixture scans.
from publish_helpers import scans  # noqa: F401

# The real local MediaWiki (tests/wikiserver.py): fixtures wiki_en, wiki_fr, wiki_en_shared, fault_proxy...
from wikifixtures import *
