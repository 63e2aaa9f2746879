"""progress: how the proofreading goes."""

from __future__ import annotations
