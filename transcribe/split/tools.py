"""The outside programs `split` uses (poppler, djvulibre): probing kept apart from running."""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Sequence

from transcribe.errors import MissingProgram

log = logging.getLogger(__name__)


def need(program: str, package: str) -> str:
    """The path of `program`, or MissingProgram saying which Debian package brings it."""
    path = shutil.which(program)
    if path is None:
        raise MissingProgram(
            f"The program '{program}' is needed for this scan but is not installed (it comes with {package}).",
            hint=f"Install it with: sudo apt-get install {package}")
    return path


def run(args: Sequence[str], *, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    """Run a program, capturing its output as text; the caller reads the return code."""
    log.debug("running %s", " ".join(args))
    try:
        return subprocess.run(list(args), capture_output=True, text=True, errors="replace", timeout=timeout,
                              check=False)
    except FileNotFoundError as e:  # removed between the probe and the run
        raise MissingProgram(f"The program '{args[0]}' could not be started ({e}).",
                             hint="Install it again (see 'scripts/setup').") from e


def last_line(text: str, default: str = "no details") -> str:
    """The last non-empty line of a program's error output: usually the one that says what went wrong."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else default
