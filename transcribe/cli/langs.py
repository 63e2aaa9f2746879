"""langs list|show|check: which languages transcribe knows and which models are installed."""

from __future__ import annotations
