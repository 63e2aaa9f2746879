"""Requests and time of `transcribe progress` on a collection: 20 works of 200 pages on a local test wiki.

    .venv/bin/python bench/bench_progress.py [--works 20] [--pages 200]

Builds a fresh test wiki (tests/wikiserver.py), uploads one PDF per work, writes the Index pages, and imports
every page with importDump.php: a bot revision at level 1 for each page, and for one page in five a history
(Alice proofreads, and for half of those Bob validates; one in twenty is sent back to 1). Then three runs of
`transcribe progress --category ...` through a counting proxy, with one state file:
  1. first run (every history read),
  2. second run, nothing changed (target: under 5% of the first run's requests),
  3. third run after 10 page edits by Alice.
Prints one line per run and checks that each run gives the same numbers as a run on a fresh state.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import wikiserver
from progress_helpers import Revision, add_work, import_pages, page_text
from wikiserver import FaultProxy

CATEGORY = "Category:Bench library"


def revisions(file: str, n: int) -> list[Revision]:
    """Page n's history: (text, user, timestamp), oldest first."""
    revs = [(1, wikiserver.BOT_USER, "2026-01-15T10:00:00Z")]
    if n % 5 == 0:
        revs.append((3, "Alice", f"2026-{3 + n % 6:02d}-10T10:00:00Z"))
        if n % 10 == 0:
            revs.append((4, "Bob", f"2026-{9 + n % 2:02d}-12T10:00:00Z"))
        if n % 20 == 5:
            revs.append((1, "Bob", "2026-10-20T10:00:00Z"))
    return [(page_text(level, f"Text of page {n} of {file}.", user), user, ts) for level, user, ts in revs]


def build(root: Path, works: int, pages: int) -> wikiserver.WikiServer:
    t = time.monotonic()
    wiki = wikiserver.install_template(root / "template", "en").clone(root / "wiki")
    wiki.start()
    histories = {}
    for i in range(1, works + 1):
        file = f"Bench book {i:02d}.pdf"
        add_work(wiki, root, file, pages, CATEGORY)
        histories |= {f"Page:{file}/{n}": revisions(file, n) for n in range(1, pages + 1)}
    import_pages(wiki, histories)  # one dump of every work: importDump.php pays its start-up once
    print(f"built {works} works x {pages} pages in {time.monotonic() - t:.0f} s", flush=True)
    return wiki


def run(proxy: FaultProxy, state: Path) -> tuple[dict, int, float]:
    from typer.testing import CliRunner

    from transcribe.cli import app

    proxy.reset()
    t = time.monotonic()
    result = CliRunner().invoke(app, ["progress", "--category", CATEGORY, "--wiki", proxy.api_url, "--state",
                                      str(state), "--format", "json", "-q"])
    if result.exit_code != 0:
        raise SystemExit(result.output)
    return json.loads(result.stdout), proxy.count, time.monotonic() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--works", type=int, default=20)
    ap.add_argument("--pages", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-progress-") as tmp:
        root = Path(tmp)
        wiki = build(root, args.works, args.pages)
        proxy = FaultProxy(wiki.base_url)
        try:
            state = root / "progress.db"
            first, n1, t1 = run(proxy, state)
            print(f"first run:  {n1:5d} requests {t1:7.1f} s  proofread {first['totals']['proofread']}"
                  f" validated {first['totals']['validated']}", flush=True)
            second, n2, t2 = run(proxy, state)
            print(f"second run: {n2:5d} requests {t2:7.1f} s  ({100 * n2 / n1:.1f}% of the first run's requests)")
            assert second["works"] == first["works"] and second["people"] == first["people"]
            alice = wiki.human("Alice")
            for i in range(10):
                alice.set_page_quality(f"Page:Bench book {1 + i % args.works:02d}.pdf/{1 + 7 * i}", 3)
            third, n3, t3 = run(proxy, state)
            fresh, _, _ = run(proxy, root / "fresh.db")
            assert third["works"] == fresh["works"] and third["people"] == fresh["people"], "cache drifted"
            print(f"after 10 edits: {n3:5d} requests {t3:7.1f} s  proofread {third['totals']['proofread']}"
                  f" (same numbers as a run on a fresh state)")
        finally:
            proxy.close()
            wiki.stop()


if __name__ == "__main__":
    main()
