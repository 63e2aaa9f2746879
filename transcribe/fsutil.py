"""Files written safely: to a temporary name in the same folder, then renamed over the target.

A crash or a power cut leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], *, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success fsync it and rename it to `target`.

    On an exception the temporary file is removed and `target` is untouched; after a crash its name
    ('.<name>.XXXX<ext>.part') is what `remove_stale_parts` looks for. `mode` sets the file's permissions (e.g. 0o600 for a file holding a secret); by default they follow the umask.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix + ".part", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        if mode is None:
            # mkstemp makes 0600 files; a page or a report should get the mode any new file gets (umask).
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp_path, 0o666 & ~umask)
        else:
            os.chmod(tmp_path, mode)
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def write_bytes(target: str | os.PathLike[str], data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text(target: str | os.PathLike[str], text: str) -> None:
    write_bytes(target, text.encode("utf-8"))


def sha1_file(path: str | os.PathLike[str], *, chunk: int = 1 << 20, algorithm: str = "sha1") -> str:
    """The hex digest of a file (SHA-1 unless `algorithm` names another hashlib algorithm, e.g. 'sha256')."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def remove_stale_parts(folder: str | os.PathLike[str]) -> int:
    """Delete temporary `.part` files left by a killed run, in `folder` and below; return how many."""
    n = 0
    for p in Path(folder).rglob(".*.part"):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
            n += 1
    return n
