"""login, publish: put a work on a wiki."""

from __future__ import annotations
