# ruff: noqa: I001  -- the order of the imports below is the order of the commands in --help: the workflow's.
"""The command line: a thin skin over the library. Each command parses, calls one library function, renders.

Command modules register themselves on the shared app by being imported here, in the workflow's order.
"""

from __future__ import annotations

from transcribe.cli import split as _split  # noqa: F401  split
from transcribe.cli import ocr as _ocr  # noqa: F401  ocr, evaluate
from transcribe.cli import langs as _langs  # noqa: F401  langs list|show|check
from transcribe.cli import bundle as _bundle  # noqa: F401  bundle
from transcribe.cli import wiki as _wiki  # noqa: F401  login, publish
from transcribe.cli import progress as _progress  # noqa: F401  progress
from transcribe.cli import batch as _batch  # noqa: F401  init, run, status
from transcribe.cli._app import app

__all__ = ["app", "main"]


def main() -> None:
    import sys

    from transcribe.cli._app import hoist_verbose

    app(args=hoist_verbose(sys.argv[1:]), prog_name="transcribe")
