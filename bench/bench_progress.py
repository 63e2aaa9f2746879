"""Requests and time of `transcribe progress` on a collection: 20 works of 200 pages on a local test wiki.

    .venv/bin/python bench/bench_progress.py [--works 20] [--pages 200]

Builds a fresh test wiki (tests/wikiserver.py), uploads one PDF per work, writes the Index pages, and imports
every page with importDump.php: a bot revision at level 1 for each page, and for one page in five a history
(Alice proofreads, and for half of those Bob validates; one in twenty is sent back to 1). Then three runs of
`transcribe progress --category ... --views-project en.wikisource.org` through a counting proxy, with one state
file, the page views coming from a local stand-in of the Wikimedia REST API (tests/progress_helpers.py
PageViewsServer) that knows views for every Index page:
  1. first run (every history read, every month of views fetched),
  2. second run, nothing changed (target: under 5% of the first run's wiki requests, no page views request),
  3. third run after 10 page edits by Alice.
Wiki requests and page views requests are counted apart (the wiki's count is what a run without views makes);
page views must stay within one request per work per month not yet cached. Prints one line per run and checks
that each run gives the same numbers as a run on a fresh state.
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
from progress_helpers import PageViewsServer, Revision, add_work, import_pages, page_text
from wikiserver import FaultProxy

from transcribe.progress.pageviews import last_complete_month, months

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


def run(proxy: FaultProxy, views: PageViewsServer, state: Path) -> tuple[dict, int, int, float]:
    """(the report, wiki requests, page views requests, seconds)."""
    from typer.testing import CliRunner

    from transcribe.cli import app

    proxy.reset()
    asked = len(views.paths)
    t = time.monotonic()
    result = CliRunner().invoke(app, ["progress", "--category", CATEGORY, "--wiki", proxy.api_url, "--state",
                                      str(state), "--format", "json", "-q", "--views-project", "en.wikisource.org"],
                                env={"TRANSCRIBE_PAGEVIEWS_API": views.url})
    if result.exit_code != 0:
        raise SystemExit(result.output)
    return json.loads(result.stdout), proxy.count, len(views.paths) - asked, time.monotonic() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--works", type=int, default=20)
    ap.add_argument("--pages", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-progress-") as tmp:
        root = Path(tmp)
        wiki = build(root, args.works, args.pages)
        proxy = FaultProxy(wiki.base_url)
        views = PageViewsServer()
        month_list = months("2026-01", last_complete_month())  # the works' first revisions are of 2026-01
        for i in range(1, args.works + 1):
            views.views[("en.wikisource.org", f"Index:Bench book {i:02d}.pdf")] = \
                {m: 10 * i + k for k, m in enumerate(month_list)}
        try:
            state = root / "progress.db"
            first, n1, v1, t1 = run(proxy, views, state)
            bound = args.works * len(month_list)
            print(f"first run:  {n1:5d} wiki requests + {v1:4d} page views requests (at most {bound}: {args.works}"
                  f" works x {len(month_list)} months not cached) {t1:7.1f} s  proofread"
                  f" {first['totals']['proofread']} validated {first['totals']['validated']}"
                  f" views {first['totals']['views']}", flush=True)
            assert v1 <= bound, "page views: more than one request per work per month not yet cached"
            second, n2, v2, t2 = run(proxy, views, state)
            print(f"second run: {n2:5d} wiki requests + {v2:4d} page views requests {t2:7.1f} s"
                  f"  ({100 * n2 / n1:.1f}% of the first run's wiki requests)")
            assert v2 == 0 and second["totals"]["views"] == first["totals"]["views"]
            assert second["works"] == first["works"] and second["people"] == first["people"]
            alice = wiki.human("Alice")
            for i in range(10):
                alice.set_page_quality(f"Page:Bench book {1 + i % args.works:02d}.pdf/{1 + 7 * i}", 3)
            third, n3, v3, t3 = run(proxy, views, state)
            fresh, _, _, _ = run(proxy, views, root / "fresh.db")
            assert third["works"] == fresh["works"] and third["people"] == fresh["people"], "cache drifted"
            print(f"after 10 edits: {n3:5d} wiki requests + {v3:4d} page views requests {t3:7.1f} s  proofread"
                  f" {third['totals']['proofread']} (same numbers as a run on a fresh state)")
            # A month ends: as if the last complete month had not been fetched yet (drop it from the state).
            import sqlite3

            with sqlite3.connect(state) as db:
                db.execute("DELETE FROM progress_views WHERE month = ?", (month_list[-1],))
            fourth, n4, v4, t4 = run(proxy, views, state)
            assert fourth["totals"]["views"] == third["totals"]["views"]
            print(f"a new month: {n4:5d} wiki requests + {v4:4d} page views requests {t4:7.1f} s"
                  f"  ({v4 / args.works:.0f} per work: its Index and its file page, one title a request)")
        finally:
            views.close()
            proxy.close()
            wiki.stop()


if __name__ == "__main__":
    main()
