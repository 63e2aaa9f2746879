"""split, ocr, evaluate: from a scan to page images and OCR text."""

from __future__ import annotations
