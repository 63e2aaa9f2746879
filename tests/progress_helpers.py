"""Works with proofreading histories on the test wiki, written directly (no publish run).

Shared by tests/test_progress.py and bench/bench_progress.py: the bot creates the pages, people move them through
the levels, and importDump.php writes many pages (and their past) in one go.
"""

from __future__ import annotations

import time
from pathlib import Path
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
