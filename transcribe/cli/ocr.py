"""ocr, evaluate: page images to text, and how good that text is."""

from __future__ import annotations
