"""Works with proofreading histories on the test wiki, written directly (no publish run).

Shared by tests/test_progress.py and bench/bench_progress.py: the bot creates the pages, people move them through
the levels, and importDump.php writes many pages (and their past) in one go.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import ClassVar
from xml.sax.saxutils import escape

import wikiserver
from wikiserver import WikiServer

Revision = tuple[str, str, str]  # (text, user, timestamp)


def page_text(level: int, body: str, user: str = wikiserver.BOT_USER) -> str:
    """A Page: text at any level, as a person's editor saves it (pagetext.build_page only makes levels 0 and 1)."""
    return f'<noinclude><pagequality level="{level}" user="{user}" /></noinclude>{body}<noinclude></noinclude>'


def import_pages(wiki: WikiServer, pages: dict[str, list[Revision]]) -> None:
    """Create Page: pages with their histories (oldest first) in one go with MediaWiki's importDump.php.

    Much faster than one API edit per revision, and it can date revisions in the past (imports make no recent
    changes entries, like pages written before the first run).
    """
    out = ['<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" xml:lang="en">']
    for title, revisions in pages.items():
        out.append(f"<page><title>{escape(title)}</title><ns>104</ns>")
        for text, user, ts in revisions:
            out.append(f"<revision><timestamp>{ts}</timestamp><contributor><username>{escape(user)}</username>"
                       f"</contributor><model>wikitext</model><format>text/x-wiki</format>"
                       f'<text xml:space="preserve">{escape(text)}</text></revision>')
        out.append("</page>")
    out.append("</mediawiki>")
    dump = wiki.root / "tmp" / f"import-{time.monotonic_ns()}.xml"
    dump.write_text("\n".join(out), encoding="utf-8")
    wikiserver._run_php(wiki.root, ["maintenance/importDump.php", "--no-updates", str(dump)], "importDump.php")


def add_work(wiki: WikiServer, tmp: Path, file: str, pages: int, category: str | None = None) -> None:
    """Upload a `pages`-page PDF as File:<file> and write its Index (in `category` when given)."""
    admin = wiki.human("Admin")
    admin.upload(wikiserver.tiny_pdf(tmp / file, pages, seed=file), file)
    cat = f"\n[[{category}]]" if category else ""
    admin.edit(f"Index:{file}", f"{{{{:MediaWiki:Proofreadpage_index_template\n|Title={file}\n}}}}{cat}")


def make_work(wiki: WikiServer, tmp: Path, file: str, pages: int, levels: dict[int, int | tuple[int, str]],
              category: str | None = None) -> None:
    """`add_work`, then import the bot's pages at `levels`.

    A level may come with the timestamp of the bot's revision: (3, '2026-09-10T10:00:00Z').
    """
    add_work(wiki, tmp, file, pages, category)
    rows = {}
    for n, spec in levels.items():
        level, ts = spec if isinstance(spec, tuple) else (spec, "2026-01-15T10:00:00Z")
        rows[f"Page:{file}/{n}"] = [(page_text(level, f"OCR text of page {n}"), wikiserver.BOT_USER, ts)]
    import_pages(wiki, rows)


class PageViewsServer:
    """A stand-in for the Wikimedia page views REST API on 127.0.0.1, speaking its documented format.

    The real service (wikimedia.org/api/rest_v1) is not MediaWiki and cannot run here, and tests never call the
    internet: this server answers `/metrics/pageviews/per-article/{project}/all-access/user/{article}/monthly/
    {start}/{end}` with `{"items": [...]}` (one item per month with views, timestamps like '2026010100'), a 404
    with a JSON body of type `.../not_found` for a title it has no views of, and 429 with Retry-After on demand.
    `views[(project, title)] = {'2026-01': 12, ...}` sets what it knows; `paths` and `agents` record the calls.
    """

    NOT_FOUND: ClassVar[dict[str, str]] = {"type": "https://mediawiki.org/wiki/HyperSwitch/errors/not_found", "title": "Not found.",
                 "method": "get", "detail": "The date(s) you used are valid, but we either do not have data for "
                 "those date(s), or the project you asked for is not loaded yet. Please check documentation "
                 "for more information."}

    def __init__(self) -> None:
        import http.server
        import json
        import re
        import threading
        import urllib.parse

        self.views: dict[tuple[str, str], dict[str, int]] = {}
        self.paths: list[str] = []
        self.agents: list[str] = []
        self.too_many = 0  # answer this many next requests with 429
        self.retry_after = "1"
        outer = self
        pattern = re.compile(r"^/metrics/pageviews/per-article/([^/]+)/all-access/user/([^/]+)/monthly/"
                             r"(\d{8})(?:\d\d)?/(\d{8})(?:\d\d)?$")

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def _send(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                outer.paths.append(self.path)
                outer.agents.append(self.headers.get("User-Agent", ""))
                if outer.too_many > 0:
                    outer.too_many -= 1
                    self._send(429, {"type": "https://mediawiki.org/wiki/HyperSwitch/errors/request_rate_exceeded",
                                     "title": "Too Many Requests"}, {"Retry-After": outer.retry_after})
                    return
                m = pattern.match(self.path)
                if not m:
                    self._send(400, {"type": "https://mediawiki.org/wiki/HyperSwitch/errors/bad_request"})
                    return
                project, article = m.group(1), urllib.parse.unquote(m.group(2)).replace("_", " ")
                start, end = f"{m.group(3)[:4]}-{m.group(3)[4:6]}", f"{m.group(4)[:4]}-{m.group(4)[4:6]}"
                known = outer.views.get((project, article), {})
                items = [{"project": project.removesuffix(".org"), "article": m.group(2),
                          "granularity": "monthly", "timestamp": month.replace("-", "") + "0100",
                          "access": "all-access", "agent": "user", "views": n}
                         for month, n in sorted(known.items()) if start <= month <= end and n]
                if not items:
                    self._send(404, {**outer.NOT_FOUND, "uri": self.path})
                    return
                self._send(200, {"items": items})

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
