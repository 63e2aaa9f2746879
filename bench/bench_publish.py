"""Benchmark `publish`: API requests per published page and pages per second against the local test wiki.

    .venv/bin/python bench/bench_publish.py [--pages 60] [--jobs N] [--commons]

Starts a fresh local MediaWiki (tests/wikiserver.py, throttle off), publishes a work of N text pages plus its
Index through a counting proxy, then publishes it again (nothing to do). Prints one line per phase and a JSON
summary. Target: at most 1.1 requests per published page for the publish phase (the edit itself plus batched
reads), with login and the wiki's description (siteinfo) counted separately as one-time costs.

`--commons`: the Wikimedia layout. A Commons-like wiki beside the Wikisource, which reads its files from there;
the scan goes to Commons, the Index and pages to the Wikisource. Requests of the client to both wikis are
counted (a response hook on each connection's session); the upload requests are reported apart, as the target
leaves them aside.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

os.environ.setdefault("TRANSCRIBE_THROTTLE", "0")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=60)
    ap.add_argument("--jobs", type=int, default=None, help="parallel edits (default: publish's own choice)")
    ap.add_argument("--commons", action="store_true", help="the scan on a Commons-like wiki (two wikis)")
    args = ap.parse_args()
    if args.commons:
        commons_path(args)
        return

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


def _action(req: Any) -> str:
    """'upload', 'edit' or 'other' for a sent request (form fields or a multipart body)."""
    body = req.body or b""
    body = body.encode() if isinstance(body, str) else body
    url = req.url or ""
    if "action=upload" in url or b"action=upload" in body or b'name="action"\r\n\r\nupload' in body:
        return "upload"
    return "edit" if b"action=edit" in body else "other"


def commons_path(args: argparse.Namespace) -> None:
    import wikiserver
    from publish_helpers import make_work, render_images, small_pdf

    from transcribe.store import Store
    from transcribe.wiki.publish import publish_work
    from transcribe.wiki.site import connect
    from transcribe.work import load_work

    with tempfile.TemporaryDirectory(prefix="bench-publish-commons-") as tmp:
        root = Path(tmp)
        commons = wikiserver.install_template(root / "commons-tpl", "commons").clone(root / "commons")
        commons.start()
        wiki = wikiserver.install_template(root / "wiki-tpl", "en").clone(root / "wiki", files_from=commons)
        wiki.start()
        try:
            images = render_images(root / "cache")
            pdf = small_pdf(images, root / "cache", pages=args.pages)
            work_dir = make_work(root / "work", pdf=pdf, pages=args.pages)
            meta = load_work(work_dir)
            seen: list[tuple[str, str]] = []  # (wiki, action) of every request the client made

            def counter(name: str) -> Any:
                def hook(r: Any, *args: Any, **kwargs: Any) -> None:
                    seen.append((name, _action(r.request)))
                return hook

            site = connect(wiki.api_url)
            site.login(wiki.bot_user, wiki.bot_password)
            files = site.file_wiki(login=False)
            files.login(commons.bot_user, commons.bot_password)
            site.session.hooks["response"].append(counter("wikisource"))
            files.session.hooks["response"].append(counter("commons"))
            results: dict[str, object] = {"pages": args.pages, "layout": "commons"}
            with Store(work_dir / "pages" / "transcribe.db") as store:
                w = store.work(".")
                for phase in ("first", "rerun"):
                    seen.clear()
                    t = time.monotonic()
                    report = publish_work(work_dir / "glauber.pdf", work_dir / "pages", meta, site, store=store,
                                          work=w, jobs=args.jobs)
                    secs = time.monotonic() - t
                    written = report.count("created") + report.count("updated")
                    uploads = sum(1 for _, a in seen if a == "upload")
                    line = {
                        "requests": len(seen), "wikisource": sum(1 for n, _ in seen if n == "wikisource"),
                        "commons": sum(1 for n, _ in seen if n == "commons"), "uploads": uploads,
                        "edits": sum(1 for _, a in seen if a == "edit"), "written": written,
                        "file": report.file_status, "seconds": round(secs, 2),
                        "requests_per_written_page_upload_aside":
                            round((len(seen) - uploads) / written, 3) if written else None,
                    }
                    results[phase] = line
                    print(f"{phase:>6}: {line}", file=sys.stderr)
            assert wiki.local_files() == [], "the Wikisource must hold no copy of the scan"
            print(json.dumps(results))
        finally:
            wiki.stop()
            commons.stop()


if __name__ == "__main__":
    main()
