"""init, run, status: a whole batch from a manifest."""

from __future__ import annotations
