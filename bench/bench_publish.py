"""Benchmark `publish`: API requests per published page and pages per second against the local test wiki.

    .venv/bin/python bench/bench_publish.py [--pages 60] [--jobs N]

Starts a fresh local MediaWiki (tests/wikiserver.py, throttle off), publishes a work of N text pages plus its
Index through a counting proxy, then publishes it again (nothing to do). Prints one line per phase and a JSON
summary. Target: at most 1.1 requests per published page for the publish phase (the edit itself plus batched
reads), with login and the wiki's description (siteinfo) counted separately as one-time costs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

os.environ.setdefault("TRANSCRIBE_THROTTLE", "0")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=60)
    ap.add_argument("--jobs", type=int, default=None, help="parallel edits (default: publish's own choice)")
    args = ap.parse_args()

    import wikiserver
    from publish_helpers import make_work, render_images, small_pdf

    from transcribe.store import Store
    from transcribe.wiki.publish import publish_work
    from transcribe.wiki.site import connect
    from transcribe.work import load_work

    with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
        root = Path(tmp)
        t0 = time.monotonic()
        wiki = wikiserver.install_template(root / "wiki", "en")
        wiki.start()
        setup = time.monotonic() - t0
        proxy = wikiserver.FaultProxy(wiki.base_url)
        try:
            images = render_images(root / "cache")
            pdf = small_pdf(images, root / "cache", pages=args.pages)
            work_dir = make_work(root / "work", pdf=pdf, pages=args.pages)
            meta = load_work(work_dir)
            results: dict[str, object] = {"pages": args.pages, "wiki_setup_s": round(setup, 1)}

            t = time.monotonic()
            site = connect(proxy.api_url)
            site.login(wiki.bot_user, wiki.bot_password)
            results["connect_login_requests"] = proxy.count
            results["connect_login_s"] = round(time.monotonic() - t, 2)

            with Store(work_dir / "pages" / "transcribe.db") as store:
                w = store.work(".")
                for phase in ("first", "rerun"):
                    proxy.reset()
                    t = time.monotonic()
                    report = publish_work(work_dir / "glauber.pdf", work_dir / "pages", meta, site, store=store,
                                          work=w, jobs=args.jobs)
                    secs = time.monotonic() - t
                    written = report.count("created") + report.count("updated")
                    reads = proxy.count - proxy.calls(action="edit") - proxy.calls(action="upload")
                    line = {
                        "requests": proxy.count, "edits": proxy.calls(action="edit"),
                        "uploads": proxy.calls(action="upload"), "reads_and_token": reads,
                        "written": written, "seconds": round(secs, 2),
                        "requests_per_written_page": round(proxy.count / written, 3) if written else None,
                        "pages_per_second": round(written / secs, 1) if written else None,
                    }
                    results[phase] = line
                    print(f"{phase:>6}: {line}", file=sys.stderr)
            print(json.dumps(results))
        finally:
            proxy.close()
            wiki.stop()


if __name__ == "__main__":
    main()
