"""scripts/setup's apt part (scripts/lib/apt.sh): it waits for another installation's package lock, a bounded time,
and cuts apt-get's output down to whole, countable lines."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from conftest import REPO

LIB = REPO / "scripts" / "lib" / "apt.sh"
# A process that holds a POSIX (fcntl) lock on a file, as apt and dpkg hold theirs, for some seconds.
HOLD = "import fcntl, sys, time; f = open(sys.argv[1], 'w'); fcntl.lockf(f, fcntl.LOCK_EX); print('held', flush=True); " \
       "time.sleep(float(sys.argv[2]))"
COMM = Path(sys.executable).name[:15]  # the holder's name, as /proc/PID/comm gives it


def _bash(script: str, *, stdin: str = "") -> subprocess.CompletedProcess[str]:
    prelude = f'set -euo pipefail; say() {{ echo "setup: $*" >&2; }}; source {LIB}; '
    return subprocess.run(["bash", "-c", prelude + script], input=stdin, capture_output=True, text=True,
                          timeout=60, check=False)


def _holder(lock: Path, seconds: float) -> subprocess.Popen[str]:
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(lock), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None and p.stdout.readline().strip() == "held"
    return p


def test_setup_waits_for_the_package_lock_and_says_so(tmp_path: Path) -> None:
    lock = tmp_path / "lock-frontend"
    holder = _holder(lock, 2)
    started = time.monotonic()
    r = _bash(f'apt_locks=({lock}); lock_wait=20; wait_for_lock; echo went on')
    holder.wait()
    assert r.returncode == 0 and r.stdout == "went on\n", r.stderr
    first, last = r.stderr.strip().splitlines()
    assert first == (f"setup: another package installation (process {holder.pid} ({COMM})) holds the package "
                     "lock; waiting for it, at most 20 s")
    assert last.startswith("setup: the package lock is free after ")
    assert time.monotonic() - started < 10
    # a free lock: not a word
    assert _bash(f'apt_locks=({lock}); wait_for_lock; echo went on').stderr == ""


def test_setup_explains_in_one_line_when_the_lock_stays_held(tmp_path: Path) -> None:
    lock = tmp_path / "lock-frontend"
    holder = _holder(lock, 20)
    try:
        r = _bash(f'apt_locks=({lock}); lock_wait=2; wait_for_lock; echo went on')
    finally:
        holder.kill()
        holder.wait()
    assert r.returncode == 1 and r.stdout == ""
    last = r.stderr.strip().splitlines()[-1]
    assert last == (f"setup: error: process {holder.pid} ({COMM}) still holds the package lock after 2 s; let it "
                    "finish (or stop it), then run scripts/setup again")


APT_OUTPUT = """Reading package lists...
Building dependency tree...
The following NEW packages will be installed:
  tesseract-ocr-script-frak tesseract-ocr-script-latn
1 upgraded, 2 newly installed, 0 to remove and 143 not upgraded.
Need to get 7513 kB/14.4 MB of archives.
After this operation, 40.1 MB of additional disk space will be used.
Get:1 http://deb.debian.org/debian bookworm/main amd64 tesseract-ocr-script-frak all 1:4.1.0-2 [1234 kB]
Get:2 http://deb.debian.org/debian bookworm/main amd64 tesseract-ocr-script-latn all 1:4.1.0-2 [6279 kB]
debconf: delaying package configuration, since apt-utils is not installed
Selecting previously unselected package tesseract-ocr-script-frak.
Setting up libc-bin:amd64 (2.36-9) ...
Setting up tesseract-ocr-script-frak (1:4.1.0-2) ...
Setting up tesseract-ocr-script-latn (1:4.1.0-2) ...
Setting up libc-bin:amd64 (2.36-9) ...
W: a warning apt gives
"""


def test_apt_lines_are_whole_counted_and_without_noise() -> None:
    r = _bash("apt_lines", stdin=APT_OUTPUT)
    assert r.returncode == 0 and r.stdout == ""
    assert r.stderr.splitlines() == [
        "setup: 3 packages to install, with what they need",
        "setup: downloading 7513 kB (of 14.4 MB; the rest is already here)",
        "setup: [1/3] downloading tesseract-ocr-script-frak",
        "setup: [2/3] downloading tesseract-ocr-script-latn",
        "setup: [1/3] setting up libc-bin",
        "setup: [2/3] setting up tesseract-ocr-script-frak",
        "setup: [3/3] setting up tesseract-ocr-script-latn",
        "setup: [3/3] setting up libc-bin",  # a package set up twice never counts past the total
        "W: a warning apt gives",
    ]
    r = _bash("apt_lines", stdin="0 upgraded, 1 newly installed, 0 to remove and 0 not upgraded.\n"
                                 "Need to get 14.4 MB of archives.\n"
                                 "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 7 (apt)\n"
                                 "E: Unable to acquire the dpkg frontend lock, is another process using it?\n")
    assert r.stderr.splitlines() == [
        "setup: 1 package to install, with what they need",
        "setup: downloading 14.4 MB",
        "setup: error: another package installation still holds the package lock after 600 s; let it finish (or "
        "stop it), then run scripts/setup again",
    ]
