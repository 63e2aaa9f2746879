"""split: a scan into page images."""

from __future__ import annotations
