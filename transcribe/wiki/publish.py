"""Publish a work: upload the scan (once), create its Index: page and one Page: page per scan page, safely.

Where the scan goes: on Wikimedia wikis (and any wiki with a shared file repository) to that repository, i.e.
Commons, found from the Wikisource itself (`meta=filerepoinfo`); the Index and the Pages always go to the
Wikisource. On that path the scan's SHA-1 is looked up on Commons (reused under any name), a name taken there by
another file is refused, and so is a local file on the Wikisource that would hide the Commons one.

Safety rules, in the order they are applied:
- a page is created only if it does not exist (`createonly`): a page someone made first is theirs;
- with `update_ocr`, an existing page is replaced only when every revision of it is by this tool's account and
  its level is still 0 or 1; the edit carries `baserevid` + `nocreate`, so a human edit landing between our read
  and our write wins (an edit conflict is a skip). MediaWiki may *merge* non-overlapping changes instead of
  reporting a conflict; `oldrevid` in the answer shows it, and our revision is then undone at once;
- every text sent is built by `pagetext.build_page`, which refuses levels above 1.

Efficiency: what exists is read in batched queries (one `allpages` generator for every Page: of the file, then
`titles=` 50 at a time only for pages whose history must be looked at), so a first publish costs about one
request per page: the edit itself. Every decision is recorded in the `edits` table and the upload in `uploads`,
so a killed run resumes: no second upload (SHA-1), no duplicate edit (`createonly` + the table).
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from transcribe import fsutil
from transcribe.errors import ManifestError, Refused, WikiError
from transcribe.events import ProgressFn, no_progress
from transcribe.licences import refusal
from transcribe.store import Store, Work
from transcribe.wiki import credentials, plan
from transcribe.wiki import pagetext as pt
from transcribe.wiki.site import ApiError, UploadResult, Wiki
from transcribe.work import WorkMeta

log = logging.getLogger(__name__)

TITLES_PER_QUERY = 50  # MediaWiki's limit for revision content of several pages in one request
INDEX_SUMMARY = "Index page for the scan (transcribe)"
# An empty summary lets ProofreadPage write its own "/* Not proofread */" autocomment (PROOFREADPAGE.md).
PAGE_SUMMARY = ""


@dataclass
class Outcome:
    title: str
    n: int | None  # page number; None for the Index
    status: str  # 'created', 'updated', 'unchanged', 'skipped', 'failed'
    reason: str = ""
    revid: int | None = None


@dataclass
class PublishReport:
    wiki: str
    file_wiki: str
    file_name: str
    file_status: str  # 'uploaded', 'reused', 'present', 'to-upload' (dry run)
    file_note: str
    index_title: str
    file_description: str = ""  # the file page text sent (or, in a dry run, that would be sent) with the upload
    file_pages: int | None = None  # the page count of the file as its wiki reads it
    outcomes: list[Outcome] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)  # metadata the wiki's Index has no field for
    notes: list[str] = field(default_factory=list)  # e.g. page labels taken from a IIIF manifest's canvas labels
    dry_run: bool = False
    read_only: bool = False  # dry run without the wiki: what exists could not be read

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Existing:
    title: str
    lastrevid: int
    # filled by the detailed read (only for pages whose history matters)
    level: int | None = None
    text: str | None = None
    contributors: set[str] | None = None
    anons: int = 0


@dataclass(frozen=True)
class _Job:
    title: str
    n: int | None
    text: str
    key: str
    base: int | None  # baserevid for updates; None = create
    summary: str


class _Stop(Exception):
    """The wiki went away mid-run: stop sending, keep what was recorded."""


def publish_work(scan: Path, pages_dir: Path, meta: WorkMeta, wiki: Wiki | None, *, store: Store, work: Work,
                 files_to: str = "auto", update_ocr: bool = False, dry_run: bool = False,
                 progress: ProgressFn | None = None, jobs: int | None = None,
                 after_read: Callable[[], None] | None = None, wiki_name: str | None = None) -> PublishReport:
    """Put the work on `wiki`. `wiki` may be None only for a dry run when the wiki cannot be reached.

    `files_to`: 'auto' (the wiki's shared file repository, i.e. Commons on Wikimedia wikis, when it has one, else
    the wiki itself), 'commons' (that repository; an error when the wiki has none) or 'local'.
    `wiki_name`: what to call the wiki in a dry run without it (what the user typed).
    `after_read` is called once what exists has been read and before anything is written (tests use it to land
    a human edit in that window).
    """
    progress = progress or no_progress
    # 0. everything that needs no network, first: a dry run and an offline run refuse what the real run would
    pages = plan.read_pages(pages_dir, store=store, work=work)
    meta, label_notes = plan.with_scan_labels(meta, pages_dir)
    kind, name = check_offline(Path(scan), meta)
    if wiki is None:
        if not dry_run:
            raise WikiError("No wiki to publish to.", hint="Give --wiki.")
        report = _offline_plan(meta, pages, name, files_to, wiki_name or "the wiki")
        report.notes = label_notes
        return report

    user = wiki.user or _account(wiki) or "TranscribeBot"
    ns = wiki.namespaces
    wkey = wiki.api_url
    fwiki = _file_wiki(wiki, files_to, login=not dry_run)
    sha1 = fsutil.sha1_file(scan)

    # 1. the file: reuse it when its SHA-1 is already there, refuse a name taken by another file
    seen: dict[str, _Existing] = {}
    asked: set[str] = set()
    name, file_status, note, info = _settle_file(fwiki, wiki, meta, Path(scan), name, sha1, dry_run, store, work,
                                                 seen, asked)
    index_title = f"{ns.index.name}:{name}"
    report = PublishReport(wiki=wiki.name, file_wiki=fwiki.name, file_name=name, file_status=file_status,
                           file_note=note, index_title=index_title, dry_run=dry_run,
                           file_description=info.get("description", ""), file_pages=info.get("pagecount"),
                           notes=label_notes)

    # 2. the texts
    config = {k: asdict(v) for k, v in wiki.index_fields().items()}
    index = pt.build_index(meta, config, file_kind=kind)
    report.unmapped = index.unmapped
    page_title = {p.n: f"{ns.page.name}:{name}/{p.n}" for p in pages}

    # 3. what exists: one generator query for all Page: pages; the Index was read with the file when it could be
    existing = _read_existing(wiki, ns.page.id, name)
    if index_title in asked:  # read with the file, in the same request
        existing.update({t: e for t, e in seen.items() if t == index_title})
    else:
        existing.update(_existing_pages(wiki.get(action="query", titles=index_title, prop="info")))
    recorded = {r["title"]: r for r in store.query(
        "SELECT title, status, revid, key FROM edits WHERE work_id = ? AND wiki = ?", (work.id, wkey))}

    def ours_on_record(title: str) -> bool:
        e, r = existing.get(title), recorded.get(title)
        return bool(e and r and r["status"] in ("created", "updated", "unchanged") and r["revid"] == e.lastrevid)

    # pages whose history must be read: those we may update, and those we do not know (an interrupted run)
    want_detail = [t for t in [index_title, *page_title.values()]
                   if t in existing and (update_ocr or not ours_on_record(t))]
    _read_details(wiki, [existing[t] for t in want_detail])
    if after_read is not None:
        after_read()

    # 4. decide, page by page
    todo: list[_Job] = []
    decided: list[Outcome] = []
    texts: list[tuple[str, int | None, str, str]] = [(index_title, None, index.text, INDEX_SUMMARY)]
    for p in pages:
        if not p.publish:
            decided.append(Outcome(page_title[p.n], p.n, "skipped", p.reason))
            continue
        texts.append((page_title[p.n], p.n, p.text(user), PAGE_SUMMARY))
    for title, n, text, summary in texts:
        key = pt.text_key(text)
        job, outcome = _decide(title, n, text, key, summary, existing.get(title), recorded.get(title),
                               ours_on_record(title), user, update_ocr)
        if job is not None:
            todo.append(job)
        if outcome is not None:
            decided.append(outcome)

    # 5. write (or, in a dry run, say what would be written)
    if dry_run:
        for j in todo:
            decided.append(Outcome(j.title, j.n, "updated" if j.base else "created",
                                   "would be replaced (only this tool edited it)" if j.base else "would be created"))
        report.outcomes = _sorted(decided)
        return report
    for o in decided:
        _record(store, work, wkey, o, None)
    report.outcomes = decided
    total, done = len(todo), 0
    progress("publish", 0, total)
    if todo:
        wiki.csrf_token()  # once, before the threads: two first fetches racing can give `badtoken`
    # the Index first, so proofreaders find it even while pages are being created
    index_jobs = [j for j in todo if j.n is None]
    page_jobs = [j for j in todo if j.n is not None]
    try:
        for job in index_jobs:
            o = _write(wiki, job, user)
            _record(store, work, wkey, o, job.key)
            report.outcomes.append(o)
            done += 1
            progress("publish", done, total)
        workers = jobs or (2 if wiki.throttle <= 0 else 1)  # with a throttle, more threads only wait
        with cf.ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(_write_or_stop, wiki, j, user): j for j in page_jobs}
            stopped: WikiError | None = None
            for fut in cf.as_completed(futures):
                job = futures[fut]
                if fut.cancelled():
                    continue
                try:
                    o = fut.result()
                except _Stop as e:
                    stopped = stopped or e.args[0]
                    for f in futures:
                        f.cancel()
                    continue
                _record(store, work, wkey, o, job.key)
                report.outcomes.append(o)
                done += 1
                progress("publish", done, total)
            if stopped is not None:
                raise WikiError(
                    f"{wiki.name} stopped answering after {done} of {total} page(s) were written ({stopped.message})",
                    hint="Everything written so far is recorded: run the same command again to finish.",
                ) from stopped
    finally:
        report.outcomes = _sorted(report.outcomes)
    return report


# -- the file -----------------------------------------------------------------------------------------------------

def check_offline(scan: Path, meta: WorkMeta) -> tuple[str, str]:
    """(file kind, file name): what can be refused without the network, refused before any request.

    The scan must be a PDF or DjVu, its name one the wiki takes, and the work must give a licence (a scan is
    never uploaded without one, and the check comes first so that a dry run and an offline run say it too).
    """
    kind = plan.file_kind(scan)
    name = plan.file_name(meta, scan)
    why = refusal(meta.licence, meta.source_rights)
    if why:
        raise ManifestError(f"{scan.name} is not published: {why}",
                            hint="Set licence in work.toml (or the manifest) and run the same command again.")
    if not meta.licence.strip():
        raise ManifestError(
            f"work.toml gives no licence for {scan.name}: a scan is never uploaded without one, and its file page "
            "needs it.",
            hint="Add the licence template to work.toml, e.g. licence = \"PD-old-70\" (ask your library which "
                 "one applies), then run the same command again.")
    return kind, name


def _file_wiki(wiki: Wiki, files_to: str, *, login: bool) -> Wiki:
    """Where the scan goes: 'local' = the wiki itself; 'commons' = the shared repository the wiki names
    (`meta=filerepoinfo`); 'auto' = that repository when the wiki has one, else the wiki itself."""
    if files_to not in ("auto", "commons", "local"):
        raise ManifestError(f"--files-to must be 'auto', 'commons' or 'local', not '{files_to}'.")
    if files_to == "local" or (files_to == "auto" and wiki.shared_repo is None):
        return wiki
    return wiki.file_wiki(login=login)


def _file_query(data: dict[str, Any]) -> dict[str, Any] | None:
    """The File: page entry of a `titles=File:X|...&prop=imageinfo` answer."""
    return next((p for p in data.get("query", {}).get("pages", []) if int(p.get("ns", -1)) == 6), None)


def _settle_file(fwiki: Wiki, wiki: Wiki, meta: WorkMeta, scan: Path, name: str, sha1: str, dry_run: bool,
                 store: Store, work: Work, seen: dict[str, _Existing],
                 asked: set[str]) -> tuple[str, str, str, dict[str, Any]]:
    """(file name to use, status, note, {description, pagecount}). Uploads when needed.

    The Index: page is read in the same request as the file on the Wikisource (what exists of it goes into
    `seen`, the titles read into `asked`), saving one request.
    """
    index_ns = wiki.namespaces.index.name
    shared = fwiki is not wiki

    def on_wikisource(file_name: str) -> dict[str, Any] | None:
        """Read File: and Index: on the Wikisource; refuse a local file there that would hide the Commons one."""
        index_title = f"{index_ns}:{file_name}"
        data = wiki.get(action="query", titles=f"File:{file_name}|{index_title}", prop="imageinfo|info",
                        iiprop="sha1|size")
        seen.update(_existing_pages(data))
        asked.add(index_title)
        page = _file_query(data)
        if shared and page and page.get("imagerepository") == "local":
            raise Refused(
                f"File:{file_name} exists on {wiki.name} itself, as a local file: it would hide the file of that "
                f"name on {fwiki.name}, and the Index would show the local one.",
                hint="Nothing was changed. If the local file is this scan, ask an administrator of the Wikisource "
                     "to delete the local copy; else choose another file_name in work.toml.")
        return page

    titles = [f"File:{name}"]
    if not shared:
        titles.append(f"{index_ns}:{name}")
        asked.add(f"{index_ns}:{name}")
    data = fwiki.get(action="query", list="allimages", aisha1=sha1, ailimit="50", titles="|".join(titles),
                     prop="imageinfo|info", iiprop="sha1|size")
    if not shared:
        seen.update(_existing_pages(data))
    page = _file_query(data)
    same = [str(x["title"]).split(":", 1)[1] for x in data.get("query", {}).get("allimages", [])]
    taken = page.get("imageinfo") if page else None
    normalised = str(page["title"]).split(":", 1)[1] if page else name
    pagecount = taken[0].get("pagecount") if taken else None
    if same:
        if normalised in same:
            status, use, note = "present", normalised, f"the scan is already on {fwiki.name} as File:{normalised}"
        else:
            use = same[0]
            status, note = "reused", (f"the same scan is already on {fwiki.name} as File:{use}; using that name "
                                      f"instead of File:{normalised}")
            pagecount = None
        if shared:
            on_wikisource(use)
        if pagecount is None:
            info = fwiki.file_info(use)
            pagecount = info.pagecount if info else None
        if not dry_run:  # 'present' is recorded as 'reused': the file was there before this run
            _record_upload(store, work, fwiki.api_url, use, sha1, "reused")
        return use, status, note, {"pagecount": pagecount}
    if taken:
        raise Refused(
            f"File:{normalised} on {fwiki.name} is a different file (another scan or another version).",
            hint="Nothing was changed. Choose another name with file_name in work.toml, e.g. "
                 f"file_name = \"{pt.suggest_file_name(Path(normalised).stem + ' (2)', scan.suffix.lower())}\"; "
                 "or, if the file on the wiki is the right scan, set file_name to its name and publish its pages.")
    if page and page.get("imagerepository") and page.get("imagerepository") != "local" and not shared:
        raise Refused(
            f"File:{normalised} is already shown on {wiki.name} from its shared repository "
            f"({page.get('imagerepository')}); a local upload would hide it.",
            hint="Publish with --files-to commons to use that file, or choose another file_name in work.toml.")
    if shared:
        on_wikisource(normalised)
    index_link = f"s:{meta.language}:Index:{normalised}" if shared else f"{index_ns}:{normalised}"
    description = pt.build_file_description(meta, index_link=index_link)
    where = f"{fwiki.name}" + (f" (the file repository of {wiki.name})" if shared else "")
    if dry_run:
        size = scan.stat().st_size / 1e6
        note = f"would upload {scan.name} ({size:.1f} MB) to {where} as File:{normalised}"
        return normalised, "to-upload", note, {"description": description}
    resume = _stash_get(store, work, fwiki.api_url, sha1)
    result = _upload(fwiki, scan, normalised, sha1, description, meta, store, work, resume)
    if not result.ok:
        use = _warned(fwiki, result, scan, normalised)
        _record_upload(store, work, fwiki.api_url, use, sha1, "reused")
        if shared and use != normalised:
            on_wikisource(use)
        info = fwiki.file_info(use)
        return use, "reused", f"the same scan is already on {fwiki.name} as File:{use}; using that name", \
            {"pagecount": info.pagecount if info else None}
    _record_upload(store, work, fwiki.api_url, result.filename, sha1, "uploaded")
    _stash_drop(store, work, fwiki.api_url)
    resumed = (f" (resumed from the upload stash at byte {resume[1]:,} of {scan.stat().st_size:,})"
               if resume else "")
    return result.filename, "uploaded", f"uploaded {scan.name} to {where} as File:{result.filename}{resumed}", \
        {"description": description, "pagecount": result.pagecount}


def _upload(fwiki: Wiki, scan: Path, name: str, sha1: str, description: str, meta: WorkMeta, store: Store,
            work: Work, resume: tuple[str, int] | None) -> UploadResult:
    """Upload, through the stash in chunks for a large scan; a killed run resumes from the recorded stash."""
    size = scan.stat().st_size

    def on_chunk(filekey: str, offset: int) -> None:
        with store.tx() as c:
            c.execute("INSERT INTO upload_stash (work_id, wiki, sha1, filename, filekey, offset, size)"
                      " VALUES (?,?,?,?,?,?,?) ON CONFLICT (work_id, wiki) DO UPDATE SET sha1 = excluded.sha1,"
                      " filename = excluded.filename, filekey = excluded.filekey, offset = excluded.offset,"
                      " size = excluded.size, updated = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
                      (work.id, fwiki.api_url, sha1, name, filekey, offset, size))

    try:
        return fwiki.upload(scan, name, text=description, resume=resume, on_chunk=on_chunk,
                            comment=f"{meta.title} ({meta.year})" if meta.year else meta.title)
    except WikiError as e:
        _record_upload(store, work, fwiki.api_url, name, sha1, "failed", e.message)
        raise


def _warned(fwiki: Wiki, result: UploadResult, scan: Path, name: str) -> str:
    """The upload came back with warnings and nothing was saved: each one handled on its own, none ignored.

    A duplicate (the same bytes under another name) is reused: its name is returned. Anything else stops.
    """
    w = result.warnings
    if "duplicate" in w:  # the same file appeared under another name meanwhile
        dup = w["duplicate"]
        return str(dup[0] if isinstance(dup, list) else dup).replace("_", " ")
    if "nochange" in w:  # the same bytes are already the current version of this very name
        return name
    if "exists" in w or "exists-normalized" in w or "page-exists" in w:
        raise Refused(f"File:{name} on {fwiki.name} was just taken by a different file.",
                      hint="Nothing else was changed. Choose another file_name in work.toml.")
    if "was-deleted" in w or "duplicate-archive" in w:
        what = "a file of that name" if "was-deleted" in w else "this very scan"
        raise Refused(f"{what[0].upper() + what[1:]} was deleted from {fwiki.name} before (File:{name}); "
                      "uploading it again needs a person's decision.",
                      hint="Read the deletion log on the wiki to see why; if it is fine to upload, ask an "
                           "administrator there, or choose another file_name in work.toml.")
    if "badfilename" in w:
        raise Refused(f"{fwiki.name} does not take the name File:{name}; it would store the scan as "
                      f"File:{str(w['badfilename']).replace('_', ' ')}.",
                      hint=f"Set file_name = \"{str(w['badfilename']).replace('_', ' ')}\" in work.toml (or another "
                           "name), then run the same command again.")
    raise Refused(f"{fwiki.name} warned about the upload of {scan.name}: {', '.join(map(str, w))}.",
                  hint="Nothing was uploaded. Check the file and its name, then run the same command again.")


def _stash_get(store: Store, work: Work, wiki: str, sha1: str) -> tuple[str, int] | None:
    rows = store.query("SELECT filekey, offset FROM upload_stash WHERE work_id = ? AND wiki = ? AND sha1 = ?",
                       (work.id, wiki, sha1))
    return (str(rows[0]["filekey"]), int(rows[0]["offset"])) if rows else None


def _stash_drop(store: Store, work: Work, wiki: str) -> None:
    with store.tx() as c:
        c.execute("DELETE FROM upload_stash WHERE work_id = ? AND wiki = ?", (work.id, wiki))


def _record_upload(store: Store, work: Work, wiki: str, name: str, sha1: str, status: str,
                   reason: str | None = None) -> None:
    with store.tx() as c:
        c.execute(
            "INSERT INTO uploads (work_id, wiki, filename, sha1, status, reason) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (work_id) DO UPDATE SET wiki = excluded.wiki, filename = excluded.filename,"
            " sha1 = excluded.sha1, status = CASE WHEN uploads.status = 'uploaded' AND uploads.sha1 = excluded.sha1"
            " THEN 'uploaded' ELSE excluded.status END, reason = excluded.reason,"
            " updated = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
            (work.id, wiki, name, sha1, status, reason),
        )


# -- reading what exists --------------------------------------------------------------------------------------

def _read_existing(wiki: Wiki, page_ns: int, name: str) -> dict[str, _Existing]:
    """Every Page:<name>/... that exists, with its latest revision id: one request per 500 (bots: 5000) pages."""
    out: dict[str, _Existing] = {}
    for data in wiki.query_all(generator="allpages", gapnamespace=str(page_ns), gapprefix=f"{name}/",
                               gaplimit="max", prop="info"):
        out.update(_existing_pages(data))
    return out


def _existing_pages(data: dict[str, Any]) -> dict[str, _Existing]:
    return {str(p["title"]): _Existing(str(p["title"]), int(p["lastrevid"]))
            for p in data.get("query", {}).get("pages", []) if not p.get("missing") and "lastrevid" in p}


def _read_details(wiki: Wiki, pages: list[_Existing]) -> None:
    """Latest text and every contributor of each page, 50 pages a request."""
    by_title = {p.title: p for p in pages}
    titles = list(by_title)
    for i in range(0, len(titles), TITLES_PER_QUERY):
        batch = titles[i:i + TITLES_PER_QUERY]
        for data in wiki.query_all(titles="|".join(batch), prop="revisions|contributors",
                                   rvprop="ids|timestamp|user|content", rvslots="main", pclimit="max"):
            for p in data.get("query", {}).get("pages", []):
                e = by_title.get(p.get("title"))
                if e is None:
                    continue
                revs = p.get("revisions")
                if revs:
                    e.text = str(revs[0].get("slots", {}).get("main", {}).get("content", ""))
                    e.lastrevid = int(revs[0]["revid"])
                    e.level = pt.parse_page(e.text).level
                if e.contributors is None:
                    e.contributors = set()
                e.contributors.update(str(c["name"]) for c in p.get("contributors", []))
                e.anons = max(e.anons, int(p.get("anoncontributors", 0)))


# -- deciding and writing -------------------------------------------------------------------------------------

def _decide(title: str, n: int | None, text: str, key: str, summary: str, e: _Existing | None,
            rec: Any, ours_recorded: bool, user: str, update_ocr: bool) -> tuple[_Job | None, Outcome | None]:
    if e is None:
        return _Job(title, n, text, key, None, summary), None
    if ours_recorded and rec["key"] == key:
        return None, Outcome(title, n, "unchanged", "already published; nothing new to write", e.lastrevid)
    known = e.contributors is not None
    only_us = known and e.contributors == {user} and e.anons == 0
    if known and e.text is not None and pt.text_key(e.text) == key and (only_us or ours_recorded):
        return None, Outcome(title, n, "unchanged", "already on the wiki with this text", e.lastrevid)
    if not update_ocr:
        if ours_recorded or only_us:
            why = "already published by this tool; the OCR text has changed since: --update-ocr replaces it"
        else:
            why = _human_reason(e, user) or "already exists on the wiki: left as it is"
        return None, Outcome(title, n, "skipped", why, e.lastrevid)
    if not only_us and not ours_recorded:
        return None, Outcome(title, n, "skipped", _human_reason(e, user) or "not written by this tool: left alone",
                             e.lastrevid)
    if n is not None and e.level is not None and e.level > pt.MAX_TOOL_LEVEL:
        return None, Outcome(title, n, "skipped", f"already at quality level {e.level}: left alone", e.lastrevid)
    return _Job(title, n, text, key, e.lastrevid, summary), None


def _human_reason(e: _Existing, user: str) -> str:
    others = sorted((e.contributors or set()) - {user})
    if e.anons:
        others.append(f"{e.anons} anonymous editor(s)")
    if not others:
        return ""
    level = f" (quality level {e.level})" if e.level is not None else ""
    return f"edited by {', '.join(others)}{level}: never overwritten"


def _write_or_stop(wiki: Wiki, job: _Job, user: str) -> Outcome:
    try:
        return _write(wiki, job, user)
    except ApiError:
        raise
    except WikiError as e:
        raise _Stop(e) from e


def _write(wiki: Wiki, job: _Job, user: str) -> Outcome:
    params: dict[str, Any] = {"action": "edit", "title": job.title, "text": job.text, "summary": job.summary,
                              "bot": "1", "token": ...}
    if job.base is None:
        params["createonly"] = "1"
    else:
        params.update(nocreate="1", baserevid=str(job.base))
    try:
        data = wiki.post(**params)
    except ApiError as e:
        if e.code == "articleexists":
            return Outcome(job.title, job.n, "skipped", "someone created it while this run was going: left alone")
        if e.code == "editconflict":
            return Outcome(job.title, job.n, "skipped", "edited by someone while this run was going: their edit "
                                                        "wins")
        if e.code in ("missingtitle", "nocreate-missing"):
            return Outcome(job.title, job.n, "skipped", "deleted while this run was going: left deleted")
        return Outcome(job.title, job.n, "failed", f"{e.info or e.code} ({e.code})")
    edit = data.get("edit", {})
    if edit.get("result") != "Success":
        return Outcome(job.title, job.n, "failed", f"the wiki did not save it ({edit.get('result') or edit})")
    if "nochange" in edit:
        return Outcome(job.title, job.n, "unchanged", "already on the wiki with this text",
                       int(edit.get("newrevid") or job.base or 0) or None)
    newrev = int(edit["newrevid"])
    if job.base is not None and int(edit.get("oldrevid") or job.base) != job.base:
        return _undo_merge(wiki, job, user, int(edit["oldrevid"]), newrev)
    return Outcome(job.title, job.n, "updated" if job.base else "created", "", newrev)


def _undo_merge(wiki: Wiki, job: _Job, user: str, between: int, ours: int) -> Outcome:
    """MediaWiki merged our update with an edit made after our read. If that edit is a person's, undo ours."""
    data = wiki.get(action="query", revids=str(between), prop="revisions", rvprop="user")
    pages = data.get("query", {}).get("pages", [])
    who = str(pages[0]["revisions"][0].get("user", "")) if pages and pages[0].get("revisions") else "?"
    if who == user:
        return Outcome(job.title, job.n, "updated", "", ours)
    wiki.post(action="edit", title=job.title, undo=str(ours), nocreate="1", bot="1", token=...,
              summary=f"Undo the OCR update: {who} edited this page at the same time")
    return Outcome(job.title, job.n, "skipped",
                   f"edited by {who} while this run was going: their edit wins (our update was undone)")


def _record(store: Store, work: Work, wiki: str, o: Outcome, key: str | None) -> None:
    with store.tx() as c:
        c.execute(
            "INSERT INTO edits (work_id, wiki, title, n, status, reason, revid, key) VALUES (?,?,?,?,?,?,?,?)"
            " ON CONFLICT (work_id, wiki, title) DO UPDATE SET status = excluded.status, reason = excluded.reason,"
            " revid = CASE WHEN excluded.status IN ('created', 'updated', 'unchanged') THEN excluded.revid"
            " ELSE edits.revid END,"
            " key = CASE WHEN excluded.status IN ('created', 'updated') THEN excluded.key ELSE edits.key END,"
            " updated = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
            (work.id, wiki, o.title, o.n, o.status, o.reason or None, o.revid,
             key if o.status in ("created", "updated") else None),
        )


def _sorted(outcomes: Iterable[Outcome]) -> list[Outcome]:
    return sorted(outcomes, key=lambda o: -1 if o.n is None else o.n)


def _account(wiki: Wiki) -> str | None:
    creds = credentials.load_bot_password(wiki.api_url)
    return creds.account if creds else None


def _offline_plan(meta: WorkMeta, pages: list[plan.PlannedPage], name: str, files_to: str,
                  wiki_name: str) -> PublishReport:
    """A dry run without the wiki: what would be sent if nothing existed yet."""
    where = {"local": f"{wiki_name} itself",
             "commons": f"the shared file repository {wiki_name} reads (Commons on Wikimedia wikis)"}.get(
        files_to, f"the shared file repository {wiki_name} reads (Commons on Wikimedia wikis), or {wiki_name} "
                  "itself if it has none")
    link = f"Index:{name}" if files_to == "local" else f"s:{meta.language}:Index:{name}"
    report = PublishReport(wiki=wiki_name, file_wiki=where, file_name=name, file_status="to-upload",
                           file_note=f"would upload the scan to {where} as File:{name}, unless it is already there",
                           index_title=f"Index:{name}", dry_run=True, read_only=True,
                           file_description=pt.build_file_description(meta, index_link=link))
    report.outcomes.append(Outcome(f"Index:{name}", None, "created", "would be created if it does not exist"))
    for p in pages:
        if p.publish:
            report.outcomes.append(Outcome(f"Page:{name}/{p.n}", p.n, "created",
                                           "would be created if it does not exist"))
        else:
            report.outcomes.append(Outcome(f"Page:{name}/{p.n}", p.n, "skipped", p.reason))
    return report
