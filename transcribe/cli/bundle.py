"""bundle: page images and OCR into one PDF or DjVu with a text layer."""

from __future__ import annotations
