"""login, publish: put a work on a wiki."""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from transcribe.cli._app import QuietOpt, WikiOpt, command, err, progress_bar, settings
from transcribe.errors import UsageError

if TYPE_CHECKING:
    from transcribe.wiki.publish import PublishReport
    from transcribe.work import WorkMeta


def _need_wiki(wiki: str | None) -> str:
    if not wiki:
        raise UsageError("Say which wiki: --wiki wikisource:fr (a family and language) or the address of its "
                         "api.php.")
    return wiki


@command("login")
def login_command(
    wiki: WikiOpt = None,
    user: Annotated[str | None, typer.Option(
        "--user", "-u", envvar="TRANSCRIBE_BOT_USER", show_envvar=True,
        help="The bot password's user name, 'YourName@botname' (made on the wiki at Special:BotPasswords).")]
    = None,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the bot password's secret from standard input instead of asking.")]
    = False,
    forget: Annotated[bool, typer.Option("--forget", help="Remove the stored login for this wiki.")] = False,
    files_wiki: Annotated[bool, typer.Option(
        "--files-wiki/--no-files-wiki", help="Also log in, with the same bot password, to the wiki where this wiki "
                                             "keeps its files (Commons for Wikisource).")] = True,
) -> None:
    """Check and store a bot password for a wiki, so that publish and progress can log in.

    Make the bot password on the wiki at Special:BotPasswords (grants: high-volume editing, edit existing
    pages, create pages, upload files). The secret is asked for without showing it (or read from standard
    input with --password-stdin, or from the TRANSCRIBE_BOT_PASSWORD environment variable); it is never
    accepted on the command line. It is kept in the transcribe configuration folder, readable only by you.
    The same login is checked and stored for the wiki's file repository (Commons, on Wikimedia wikis: one bot
    password works on both).
    """
    from transcribe.errors import AuthError, WikiError
    from transcribe.wiki import credentials
    from transcribe.wiki.site import Wiki, resolve

    wiki = _need_wiki(wiki)
    address = resolve(wiki)
    if forget:
        if credentials.forget(address.api_url):
            typer.echo(f"Forgot the login for {address.name}.")
        else:
            typer.echo(f"No login was stored for {address.name}; nothing to forget.")
        return
    if not user:
        if not sys.stdin.isatty():
            raise UsageError("Give the bot password's user name with --user YourName@botname.")
        user = typer.prompt("Bot password user name (YourName@botname)").strip()
    secret = os.environ.get("TRANSCRIBE_BOT_PASSWORD")
    if not secret:
        if password_stdin:
            secret = sys.stdin.readline()
        elif sys.stdin.isatty():
            secret = typer.prompt("Bot password secret (not shown)", hide_input=True)
        else:
            raise UsageError("No terminal to ask for the secret: use --password-stdin and pipe it in, or set "
                             "TRANSCRIBE_BOT_PASSWORD.")
    secret = secret.strip()
    if not secret:
        raise UsageError("The bot password's secret is empty.")
    site = Wiki(address, wiki_arg=wiki)
    account = site.login(user, secret)
    path = credentials.save_bot_password(address.api_url, user, secret)
    done = f"Logged in to {address.name} as {account}"
    # The wiki's shared file repository (Commons) is where publish puts the scans: the same bot password is
    # tried there (on Wikimedia wikis one works on every wiki: single sign-on), so one command makes both work.
    repo = site.shared_repo
    if repo is None or repo.api_url is None or not files_wiki:
        typer.echo(f"{done}; saved to {path}.")
        return
    files = Wiki(resolve(repo.api_url), wiki_arg=repo.api_url)
    try:
        files.login(user, secret)
    except (AuthError, WikiError) as e:
        typer.echo(f"{done}; saved to {path}.")
        advice = ("On Wikimedia wikis one bot password works everywhere: check that it has the grant to upload "
                  "files. Elsewhere, make a bot password on that wiki too (Special:BotPasswords) and run: "
                  f"transcribe login --wiki {repo.api_url}")
        if isinstance(e, AuthError):
            raise AuthError(f"{files.name}, where {address.name} keeps its files, refused the login of {user} "
                            f"({e.message})", hint=advice) from None
        raise WikiError(f"{files.name}, where {address.name} keeps its files, could not be reached ({e.message})",
                        hint=f"Run the same command again later, or: transcribe login --wiki {repo.api_url}"
                        ) from None
    credentials.save_bot_password(files.api_url, user, secret)
    typer.echo(f"{done} and to {files.name} (where {address.name} keeps its files) as {account}; saved to {path}.")


# -- publish ----------------------------------------------------------------------------------------------------

class FilesTo(str, Enum):
    auto = "auto"
    commons = "commons"
    local = "local"


_VERBS = {"created": "created", "updated": "updated", "unchanged": "unchanged", "skipped": "skipped",
          "failed": "failed"}
_WOULD = {"created": "would create", "updated": "would update", "unchanged": "unchanged",
          "skipped": "would skip", "failed": "failed"}


@command("publish")
def publish_command(
    work_dir: Annotated[Path, typer.Argument(
        help="The work folder: work.toml, the scan it names, and pages/ (from split and ocr).",
        file_okay=False, show_default=False)],
    wiki: WikiOpt = None,
    files_to: Annotated[FilesTo, typer.Option(
        "--files-to", help="Where the scan goes: 'commons' (the shared file repository the wiki names, i.e. "
                           "Commons on Wikimedia wikis), 'local' (the wiki itself); 'auto': the shared repository "
                           "when the wiki has one, else the wiki itself.")] = FilesTo.auto,
    update_ocr: Annotated[bool, typer.Option(
        "--update-ocr", help="Also replace the text of pages this tool published before, when nobody else has "
                             "edited them and they are still 'Not proofread'.")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Say what would be uploaded and written, and write nothing (no login needed).")] = False,
    export: Annotated[Path | None, typer.Option(
        "--export", help="Write the pages as files plus an HTML preview into this folder instead of publishing.",
        file_okay=False)] = None,
    report_file: Annotated[Path | None, typer.Option(
        "--report", help="Also write the page-by-page result to this JSON file.", dir_okay=False)] = None,
    quiet: QuietOpt = False,
) -> None:
    """Publish a work to Wikisource: upload the scan, create its Index: page and one Page: page per scan page.

    Machine text goes in at 'Not proofread' (blank pages 'Without text'), never higher. A page that exists is
    never overwritten; with --update-ocr, only pages this tool wrote and nobody else touched are replaced.
    Running the same command again continues an interrupted run and changes nothing that is already done.
    """
    from transcribe.store import DB_NAME, Store
    from transcribe.wiki.plan import FILE_KINDS
    from transcribe.work import PAGES_DIR, load_work

    meta = load_work(work_dir)
    scan = work_dir / (meta.scan or "")
    if not meta.scan:
        found = sorted(p for p in work_dir.iterdir() if p.suffix.lower() in FILE_KINDS)
        if len(found) != 1:
            raise UsageError(f"work.toml in {work_dir} does not say which file is the scan.",
                             hint="Add scan = \"book.pdf\" to work.toml.")
        scan = found[0]
    pages_dir = work_dir / PAGES_DIR
    if export is not None:
        _export(scan, pages_dir, meta, export, quiet, files_to.value, wiki or meta.wiki or "the wiki",
                _reachable(wiki))
        return
    from transcribe.errors import PagesFailed, WikiError
    from transcribe.wiki.plan import read_pages
    from transcribe.wiki.publish import check_offline, publish_work
    from transcribe.wiki.site import connect

    target = wiki or meta.wiki or None
    target = _need_wiki(target)
    # what needs no network is refused before the first request: offline, the licence error comes first
    read_pages(pages_dir)
    check_offline(scan, meta)
    site = None
    try:
        site = connect(target, login=not dry_run)
    except WikiError as e:
        if not dry_run:
            raise
        err(f"note: cannot read {target} ({e.message}); listing what would be sent if nothing existed yet.")
    db = pages_dir / DB_NAME
    # a dry run writes nothing, not even a new state file
    with Store(db if (db.is_file() or not dry_run) else ":memory:") as store:
        if not dry_run:
            store.acquire_lock()
        work = store.work(".")
        with progress_bar(quiet) as bar:
            report = publish_work(scan, pages_dir, meta, site, store=store, work=work, files_to=files_to.value,
                                  update_ocr=update_ocr, dry_run=dry_run, progress=bar, wiki_name=target)
    _show(report, meta.title)
    if report_file is not None:
        import json

        from transcribe import fsutil

        fsutil.write_text(report_file, json.dumps(report.to_dict(), ensure_ascii=False, indent=1) + "\n")
        err(f"The page-by-page result is in {report_file}.")
    if report.failed:
        raise PagesFailed(
            f"{len(report.failed)} page(s) could not be written to {report.wiki} (listed above).",
            hint="Everything else was done and recorded; fix what the reasons say and run the same command again.")


def _show(report: PublishReport, title: str) -> None:
    err = typer.echo  # what was (or would be) done is the result, so stdout (README: "What goes where")
    verbs = _WOULD if report.dry_run else _VERBS
    if report.read_only:
        err(f"Dry run, nothing was written: \"{title}\" for {report.wiki}, which could not be reached; this is "
            "what would be sent if nothing existed there yet.")
    else:
        head = "Dry run, nothing was written" if report.dry_run else "Published"
        err(f"{head}: \"{title}\" on {report.wiki}.")
    err(f"  scan: {report.file_note}.")
    if report.file_pages is not None:
        err(f"  the file has {report.file_pages} page(s) on {report.file_wiki}.")
    if report.dry_run and report.file_description:
        err(f"  file description page (File:{report.file_name}):")
        for line in report.file_description.rstrip("\n").splitlines():
            err(f"    {line}")
    pages = [o for o in report.outcomes if o.n is not None]
    for o in report.outcomes:
        if o.n is None:
            err(f"  {o.title}: {verbs[o.status]}" + (f" ({o.reason})" if o.reason and o.status != "created" else ""))
    counts = ", ".join(f"{sum(1 for o in pages if o.status == s)} {verbs[s]}" for s in _VERBS)
    err(f"  pages: {counts}.")
    _unmapped_notes(report.unmapped)
    for note in report.notes:
        typer.echo(f"note: {note}", err=True)  # notes go to stderr, as everywhere (README)
    shown = [o for o in pages if o.status in ("skipped", "failed")]
    limit = None if settings.verbose else 20
    for o in shown[:limit]:
        err(f"  page {o.n} {verbs[o.status]}: {o.reason}")
    if limit is not None and len(shown) > limit:
        err(f"  ... and {len(shown) - limit} more (see --verbose or --report FILE).")
    if settings.verbose:
        for o in report.outcomes:
            typer.echo(f"{o.status}\t{o.title}\t{o.reason}")


def _reachable(wiki: str | None) -> Any:
    """The wiki named with --wiki, connected without logging in, for an export that shows its own fields and
    namespace names; None (with a note) when it does not answer: the export is made offline all the same.
    A wrong address or a missing network fails at the first request (no retries before a wiki has answered)."""
    if not wiki:
        return None
    from transcribe.errors import WikiError
    from transcribe.wiki.site import connect

    try:
        return connect(wiki)
    except WikiError as e:
        err(f"note: {e.message} The preview uses the project's own table of index fields and namespace names.")
        return None


def _export(scan: Path, pages_dir: Path, meta: WorkMeta, out: Path, quiet: bool, files_to: str = "auto",
            target: str = "the wiki", site: Any = None) -> None:
    from transcribe.wiki.export import export_work

    with progress_bar(quiet) as bar:
        r = export_work(scan, pages_dir, meta, out, progress=bar, site=site)
    has_file_page = (out / "wikitext" / "File.wiki").is_file()
    err(f"Exported \"{meta.title}\": {r.pages} page text(s), the Index page"
        + (" and the file description" if has_file_page else "") + f" into {out / 'wikitext'}.")
    where = {"local": f"{target} itself", "commons": f"the shared file repository of {target} (Commons on "
             "Wikimedia wikis)"}.get(files_to, f"the shared file repository of {target} (Commons on Wikimedia "
                                               f"wikis), or {target} itself if it has none")
    if has_file_page:
        err(f"  the scan would go to {where} as File:{r.file_name}, with the description page in "
            f"{out / 'wikitext' / 'File.wiki'}.")
    for n, why in r.skipped:
        err(f"  page {n} has no page text: {why}")
    for note in r.notes:
        err(f"  note: {note}")
    _unmapped_notes(r.unmapped, file_page=r.file_page)
    err(f"Open {r.preview} in a web browser to review every page beside its text.")
    typer.echo(str(r.preview))


def _unmapped_notes(unmapped: list[str], *, file_page: bool = True) -> None:
    """Where the metadata the Index page has no field for goes: the file's description page, or nowhere."""
    from transcribe.wiki.pagetext import split_unmapped

    on_file, left_out = split_unmapped(unmapped, file_page=file_page)
    if on_file:
        err(f"  note: no Index field for {', '.join(on_file)}: on the file's description page ({{{{Book}}}}) only.")
    if left_out:
        where = "nor one on the file's description page" if file_page else "and no file description page is written"
        err(f"  note: no Index field for {', '.join(left_out)}, {where} (left out).")
