"""progress: how the proofreading goes, as a table, CSV, JSON, an HTML report or a table on the wiki."""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from transcribe.cli._app import QuietOpt, WikiOpt, command, err, progress_bar


class By(str, Enum):
    week = "week"
    month = "month"


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


class Rows(str, Enum):
    works = "works"
    people = "people"
    timeline = "timeline"
    readers = "readers"
    contributors = "contributors"
    corrections = "corrections"


def _month_or_day(value: str | None, option: str) -> str | None:
    import re

    from transcribe.errors import UsageError

    if value is None:
        return None
    value = value.strip()
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?", value):
        raise UsageError(f"{option} {value!r} is not a month or a day.",
                         hint=f"Write it like {option} 2026-01 (a month) or {option} 2026-01-15 (a day).")
    return value


def default_state() -> Path:
    """The cache of revisions already read: $XDG_CACHE_HOME/transcribe/progress.db (~/.cache by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "transcribe" / "progress.db"


@command("progress")
def progress_command(
    index: Annotated[list[str] | None, typer.Argument(
        help="Index pages to report on, e.g. 'Index:Foo.pdf' (or just the file name).", show_default=False)]
    = None,
    wiki: WikiOpt = None,
    manifest: Annotated[Path | None, typer.Option(
        "--manifest", help="Report on every work of a batch manifest (its state file is used as the cache).",
        dir_okay=False)] = None,
    category: Annotated[str | None, typer.Option(
        "--category", help="Report on every Index page in this category of the wiki.")] = None,
    by: Annotated[By, typer.Option("--by", help="Count each person's pages per week or per month.")] = By.month,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="What to print: a table, CSV or JSON.")]
    = Format.table,
    rows: Annotated[Rows, typer.Option(
        "--rows", help="With --format csv: one row per work, per person and period, per period (timeline), per "
                       "month (readers, contributors), or per proofread page (corrections).")] = Rows.works,
    since: Annotated[str | None, typer.Option(
        "--since", metavar="DATE",
        help="Report on a period from this month or day on, e.g. 2026-01 (a funder's year).")] = None,
    until: Annotated[str | None, typer.Option(
        "--until", metavar="DATE",
        help="Report on a period up to this month or day, included, e.g. 2026-12.")] = None,
    views: Annotated[bool, typer.Option(
        "--views/--no-views", help="Count readers with the Wikimedia page views service (Wikimedia wikis).")]
    = True,
    views_of_pages: Annotated[bool, typer.Option(
        "--views-of-pages", help="Also count the views of every Page: page (one request per page and new "
                                 "month: slow on big collections).")] = False,
    views_project: Annotated[str | None, typer.Option(
        "--views-project", metavar="PROJECT",
        help="Whose page views to count, e.g. en.wikisource.org (default: the wiki's own, "
             "when it is a Wikimedia wiki).")] = None,
    html: Annotated[Path | None, typer.Option(
        "--html", help="Also write a one-file HTML report with charts (opens offline, prints well).",
        dir_okay=False)] = None,
    to_wiki: Annotated[str | None, typer.Option(
        "--to-wiki", metavar="PAGE",
        help="Also put the summary table on this wiki page (e.g. a project page); needs a login.")]
    = None,
    anonymize: Annotated[bool, typer.Option(
        "--anonymize", help="Replace people's names by 'Contributor 1', 'Contributor 2'... everywhere.")] = False,
    top: Annotated[int, typer.Option("--top", min=1, help="How many contributors to show.")] = 10,
    state: Annotated[Path | None, typer.Option(
        "--state", help="The cache of what was already read (default: ~/.cache/transcribe/progress.db).",
        dir_okay=False)] = None,
    quiet: QuietOpt = False,
) -> None:
    """How the proofreading goes: pages at each quality level, who proofread and validated, and the curve so far.

    The first run reads every page's history (it can take a while on big books); later runs read only what
    changed. Examples:

    \b
      transcribe progress "Index:Foo.pdf" --wiki wikisource:fr
      transcribe progress --category "Category:Library X" --wiki wikisource:en --html report.html
      transcribe progress --manifest books.toml --format csv > progress.csv
    """
    from transcribe.errors import UsageError
    from transcribe.progress import pageviews, report
    from transcribe.progress.impact import summarize
    from transcribe.progress.read import (
        bot_accounts,
        category_indexes,
        read_corrections,
        read_views,
        read_works,
        update_wiki_page,
    )
    from transcribe.store import Store
    from transcribe.wiki.site import connect

    since, until = _month_or_day(since, "--since"), _month_or_day(until, "--until")
    if since and until and until < since[:len(until)]:
        raise UsageError(f"--until {until} is before --since {since}.", hint="Swap them.")

    names = list(index or [])
    sources: dict[str, str] = {}  # file name -> the IIIF manifest it came from
    if manifest is not None:
        from transcribe.manifest import load_manifest, target_file_name

        m = load_manifest(manifest, check_models=False)
        wikis = {e.meta.wiki for e in m.entries if e.meta.wiki}
        if not wiki:
            if len(wikis) > 1:
                raise UsageError(f"The works of {manifest.name} go to {len(wikis)} wikis.",
                                 hint="Say which one to report on with --wiki.")
            wiki = next(iter(wikis), None)
        names += [target_file_name(e) for e in m.entries if not wiki or e.meta.wiki in ("", wiki)]
        sources = {target_file_name(e): e.meta.iiif_manifest for e in m.entries if e.meta.iiif_manifest}
        state = state or m.state_path
    if not wiki:
        raise UsageError("Say which wiki: --wiki wikisource:fr (a family and language) or the address of its api.php.")
    site = connect(wiki, login=bool(to_wiki))
    if category:
        names += category_indexes(site, category)
    if not names:
        raise UsageError("Say which works: Index titles, --manifest FILE or --category NAME.")
    notes: list[str] = []
    views_note = ""
    project = views_project or pageviews.project_of(site.api_url, site.is_wikimedia)
    with Store(state or default_state()) as store, progress_bar(quiet) as bar:
        works = read_works(site, names, store=store, progress=bar, notes=notes)
        read_corrections(site, works, store=store, progress=bar)
        if not views:
            views_note = "page views: not counted (--no-views)"
        elif project is None:
            views_note = pageviews.NOT_AVAILABLE
        else:
            stamps = [h[0].timestamp for w in works for h in w.histories.values() if h]
            last = pageviews.last_complete_month()
            first = max(min(stamps)[:7] if stamps else last, since[:7] if since else "")
            if until:
                last = min(last, until[:7])
            try:
                read_views(site, works, pageviews.PageViews(store), project, first, last, pages=views_of_pages,
                           progress=bar)
            except pageviews.PageViewsError as e:
                views_note = f"page views: not available now ({e}); run again later"
    for note in notes:
        err(f"Note: {note}")
    users = {r.user for w in works for h in w.histories.values() for r in h}
    summary = summarize(works, wiki=site.name, by=by.value, bots=bot_accounts(site, sorted(users)),
                        anonymize=anonymize, since=since, until=until, views_note=views_note, notes=notes)
    if html is not None:
        from transcribe.fsutil import write_text

        write_text(html, report.to_html(summary, top=top, sources=sources))
        err(f"Wrote the report to {html}.")
    if to_wiki:
        block = report.to_wikitext(summary, top=top)
        outcome = update_wiki_page(site, to_wiki, lambda old: report.replace_block(old, block))
        err(f"{to_wiki} on {site.name}: {outcome}.")
    if fmt is Format.json:
        typer.echo(report.to_json(summary), nl=False)
    elif fmt is Format.csv:
        typer.echo(report.to_csv(summary, rows.value), nl=False)
    else:
        from rich.console import Console

        # Piped into a file or a mail, the table keeps its full width instead of the 80 columns rich assumes.
        console = Console(soft_wrap=False, width=None if sys.stdout.isatty() else 140)
        for t in report.tables(summary, top=top):
            console.print(t)
        lines = report.attention_lines(summary)
        if lines:
            console.print("Pages that need attention:", markup=False, highlight=False)
        for line in lines:
            console.print(f"  {line}", markup=False, highlight=False)
