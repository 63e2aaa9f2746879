"""The command line: a thin skin over the library. Each command parses, calls one library function, renders.

Command modules register themselves on the shared app by being imported here.
"""

from __future__ import annotations

from transcribe.cli._app import app

# Importing a module registers its commands, in the order `--help` lists them (the workflow's order).
from transcribe.cli import scan as _scan  # noqa: E402,F401  split, ocr, evaluate
from transcribe.cli import langs as _langs  # noqa: E402,F401  langs list|show|check

__all__ = ["app", "main"]


def main() -> None:
    app(prog_name="transcribe")
