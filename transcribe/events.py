"""How the library tells its caller about long work, without printing anything itself.

Stage functions take `progress: ProgressFn | None`; the CLI turns the calls into a progress bar on stderr.
"""

from __future__ import annotations

from collections.abc import Callable

# progress(label, done, total): `done` of `total` units (pages, requests...) of the step `label` are finished.
ProgressFn = Callable[[str, int, int], None]


def no_progress(label: str, done: int, total: int) -> None:
    """The default: nobody is watching."""
