"""Read quality levels and page histories from a wiki, incrementally (see "Reading progress" in PROOFREADPAGE.md).

Every revision read is kept in the state file (revisions never change), and each page's history is marked
complete up to a revision id, so a run only reads what is new:
- which pages changed: on the first run (and once a week, as a safety net) every page of a work is listed with
  its `lastrevid` (`generator=allpages` by prefix, or `generator=proofreadpagesinindex&prop=proofread` where the
  extension exists); otherwise one `list=recentchanges` request over the Page namespace since the last run says
  which pages have new revisions, and deletions or moves there send their work back to a full listing.
- what changed: the latest revision of 50 changed pages per request; a page edited more than once since the last
  run also gets the missing part of its history (one page per request, as the API allows with content).
Also read here, in the same requests where possible: the Index page's latest revision (a wiki replaced at the
same address shows there, and its cache is dropped), the main-namespace pages that transclude the Index (every
run) and each Page: page (with each full listing), the file's usage, and the OCR and proofread texts of the
pages people proofread (once per pair of revisions). Page views go through `pageviews.py`.
The credit rules live in `credits.py` beside this module; the impact rules in `impact.py`; rendering in
`report.py`.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from transcribe.errors import UsageError, WikiError
from transcribe.events import ProgressFn, no_progress
from transcribe.progress.credits import LEVELS, Rev, WorkProgress, summarize_work
from transcribe.store import Store
from transcribe.wiki.pagetext import parse_page
from transcribe.wiki.site import Wiki

log = logging.getLogger(__name__)

BATCH = 50  # titles per request: the API's limit for most users, and for revision contents
RC_MARGIN = timedelta(minutes=10)  # look back this far before the last run: edits committed late are not lost
RC_MAX_AGE = timedelta(days=25)  # Wikimedia keeps recent changes 30 days; older gaps need a full listing
RELIST_EVERY = timedelta(days=7)  # a full listing now and then, in case recent changes missed anything
RC_MAX_REQUESTS = 10  # a busier Page namespace than this is cheaper to read by listing the works' pages


@dataclass(frozen=True)
class IndexRef:
    index: str  # the Index title as the wiki spells it
    file: str  # the file name, without the namespace
    pagecount: int | None
    index_revid: int = 0  # the Index page's latest revision now: a wiki replaced at the same address shows here
    index_timestamp: str = ""
    texts: tuple[str, ...] = ()  # main-namespace pages that transclude the Index (ProofreadPage's <pages index=>)
    file_usage: tuple[str, ...] = ()  # pages that show the file ('frwiki:Title' for another wiki)
    file_shared: bool = False  # the file lives on the shared repository (Commons), not on this wiki


@dataclass(frozen=True)
class Listed:
    title: str
    n: int
    pageid: int
    lastrevid: int
    transcluded: tuple[str, ...] = ()  # main-namespace pages that transclude it


class Fooled(Exception):
    """The cache holds revisions of another wiki that lived at the same address (reinstalled, restored)."""


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _query_all(wiki: Wiki, max_requests: int | None = None, **params: Any) -> Iterator[dict[str, Any]]:
    """`Wiki.query_all`, raising `_TooMany` when a continuation would pass `max_requests` requests."""
    for done, data in enumerate(wiki.query_all(**params), start=1):
        yield data
        if max_requests is not None and done >= max_requests and data.get("continue"):
            raise _TooMany()


class _TooMany(Exception):
    pass


# -- which works ------------------------------------------------------------------------------------------------

def index_title(wiki: Wiki, name: str) -> str:
    """'Foo.pdf', 'File:Foo.pdf', 'Index:Foo.pdf' or 'Livre:Foo.pdf' -> the Index title to ask the wiki about."""
    ns = wiki.namespaces
    name = name.strip().replace("_", " ")
    prefix, _, rest = name.partition(":")
    p = prefix.strip().lower()
    if rest and p in {"index", ns.index.name.lower(), ns.index.canonical.lower()}:
        return f"{ns.index.name}:{rest.strip()}"
    if rest and p in {"file", "image", ns.file.name.lower()}:
        return f"{ns.index.name}:{rest.strip()}"
    return f"{ns.index.name}:{name}"


def _merged_pages(answers: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Pages of answers that continue a prop (a long `transcludedin`), their lists joined: title -> page."""
    pages: dict[str, dict[str, Any]] = {}
    for data in answers:
        for p in data.get("query", {}).get("pages", []):
            have = pages.setdefault(p["title"], {})
            for k, v in p.items():
                if isinstance(v, list) and isinstance(have.get(k), list):
                    have[k] = have[k] + v
                elif k not in have:
                    have[k] = v
    return pages


def _usage(wiki: Wiki, page: dict[str, Any]) -> list[str]:
    """Where a file is shown, without this wiki's Page: and Index: pages (the scan's own pages show it)."""
    ns = wiki.namespaces
    own = {ns.page.id, ns.index.id}
    host = urllib.parse.urlsplit(wiki.api_url).hostname or ""
    out: list[str] = []
    for u in page.get("globalusage", []):
        here = u.get("wiki") == host
        if here and int(u.get("ns", -1)) in own:
            continue
        out.append(str(u["title"]) if here else f"{u.get('wiki', '?')}:{u['title']}")
    out += [str(u["title"]) for u in page.get("fileusage", []) if int(u.get("ns", -1)) not in own]
    return sorted(dict.fromkeys(out))


def resolve_indexes(wiki: Wiki, names: Sequence[str]) -> tuple[list[IndexRef], str]:
    """The Index pages with their latest revision and the main-namespace pages that transclude them, their
    files' page counts and usage, 25 works a request; also the wiki's clock (UTC)."""
    ns = wiki.namespaces
    titles = list(dict.fromkeys(index_title(wiki, n) for n in names))
    refs: dict[str, IndexRef] = {}  # by the wiki's own spelling, in the order asked, each work once
    missing: list[str] = []
    now = ""
    # GlobalUsage (every Wikimedia wiki) tells the file's use on all wikis; elsewhere only this wiki knows.
    usage: dict[str, Any] = ({"prop": "globalusage", "guprop": "namespace", "gulimit": "max"}
                             if wiki.has_extension("Global Usage", "GlobalUsage") else
                             {"prop": "fileusage", "fuprop": "title", "fulimit": "max"})
    for i in range(0, len(titles), BATCH // 2):
        chunk = titles[i:i + BATCH // 2]
        files = [f"{ns.file.name}:{t.split(':', 1)[1]}" for t in chunk]
        answers = list(wiki.query_all(
            titles="|".join(chunk + files), prop=f"info|imageinfo|revisions|transcludedin|{usage['prop']}",
            iiprop="size", rvprop="ids|timestamp", tiprop="title", tinamespace=0, tilimit="max", curtimestamp=1,
            **{k: v for k, v in usage.items() if k != "prop"}))
        data = answers[0]
        now = now or str(data.get("curtimestamp", ""))
        q = data.get("query", {})
        norm = {x["from"]: x["to"] for x in q.get("normalized", [])}
        pages = _merged_pages(answers)
        for t in chunk:
            it = norm.get(t, t)
            page = pages.get(it, {})
            if it in refs:
                continue
            if page.get("missing") or page.get("invalid") or not page:
                missing.append(it)
                continue
            if page.get("ns") != ns.index.id:
                raise UsageError(f"{it} is not an Index: page.",
                                 hint=f"Give titles like '{ns.index.name}:Book.pdf'.")
            file = it.split(":", 1)[1]
            fpage = pages.get(norm.get(f"{ns.file.name}:{file}", f"{ns.file.name}:{file}"), {})
            info = (fpage.get("imageinfo") or [{}])[0]
            count = info.get("pagecount")
            rev = (page.get("revisions") or [{}])[0]
            refs[it] = IndexRef(it, file, int(count) if count else None, int(rev.get("revid", 0)),
                                str(rev.get("timestamp", "")),
                                tuple(sorted(t["title"] for t in page.get("transcludedin", []))),
                                tuple(_usage(wiki, fpage)), fpage.get("imagerepository") == "shared")
    if missing:
        raise WikiError(
            f"{', '.join(missing)} {'does' if len(missing) == 1 else 'do'} not exist on {wiki.name}.",
            hint="Check the spelling (copy the title from the wiki's address bar) and the --wiki address.")
    return list(refs.values()), now


def category_indexes(wiki: Wiki, category: str) -> list[str]:
    """The Index pages in a category of the wiki (not its subcategories)."""
    title = category.strip()
    if ":" not in title:  # 'Library X' -> 'Category:Library X'; a localized prefix ('Catégorie:') is kept
        title = f"Category:{title}"
    ns = wiki.namespaces.index.id
    found: list[str] = []
    for data in _query_all(wiki, list="categorymembers", cmtitle=title, cmnamespace=ns, cmlimit="max",
                           cmprop="title"):
        found += [m["title"] for m in data.get("query", {}).get("categorymembers", [])]
    if not found:
        raise UsageError(f"{title} on {wiki.name} holds no {wiki.namespaces.index.name}: page.",
                         hint="Check the category's name, or list the Index pages themselves.")
    return found


# -- the state ----------------------------------------------------------------------------------------------------

class _Cache:
    def __init__(self, store: Store, wiki: str) -> None:
        self.store = store
        self.wiki = wiki

    def work(self, index: str) -> Any:
        rows = self.store.query("SELECT * FROM progress_works WHERE wiki = ? AND index_title = ?", (self.wiki, index))
        return rows[0] if rows else None

    def pages(self, index: str) -> dict[str, Any]:
        return {r["title"]: r for r in self.store.query(
            "SELECT * FROM progress_pages WHERE wiki = ? AND index_title = ?", (self.wiki, index))}

    def has_revision(self, revid: int) -> bool:
        return bool(self.store.query("SELECT 1 FROM progress_revisions WHERE wiki = ? AND revid = ?",
                                     (self.wiki, revid)))

    def last_revision(self, pageid: int) -> Any:
        rows = self.store.query("SELECT revid, timestamp FROM progress_revisions WHERE wiki = ? AND pageid = ? "
                                "ORDER BY timestamp DESC, revid DESC LIMIT 1", (self.wiki, pageid))
        return rows[0] if rows else None

    def save_page(self, index: str, title: str, n: int, pageid: int, revs: list[dict[str, Any]]) -> None:
        """Revisions and the page's new complete-up-to mark in one transaction: never a gap in a history."""
        with self.store.tx() as c:
            c.executemany(
                "INSERT OR IGNORE INTO progress_revisions (wiki, revid, pageid, parentid, user, timestamp, level)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(self.wiki, r["revid"], pageid, r["parentid"], r["user"], r["timestamp"], r["level"]) for r in revs])
            c.execute("INSERT INTO progress_pages (wiki, index_title, title, n, pageid, lastrevid)"
                      " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (wiki, index_title, title) DO UPDATE SET"
                      " n = excluded.n, pageid = excluded.pageid, lastrevid = excluded.lastrevid",
                      (self.wiki, index, title, n, pageid, max(r["revid"] for r in revs)))

    def forget_pages(self, index: str, titles: Sequence[str]) -> None:
        with self.store.tx() as c:
            c.executemany("DELETE FROM progress_pages WHERE wiki = ? AND index_title = ? AND title = ?",
                          [(self.wiki, index, t) for t in titles])

    def mark(self, ref: IndexRef, now: str, *, listed: bool) -> None:
        with self.store.tx() as c:
            c.execute("INSERT INTO progress_works (wiki, index_title, file, pagecount, listed, synced,"
                      " index_revid, index_timestamp) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                      " ON CONFLICT (wiki, index_title) DO UPDATE SET"
                      " file = excluded.file, pagecount = excluded.pagecount, synced = excluded.synced,"
                      " index_revid = excluded.index_revid, index_timestamp = excluded.index_timestamp,"
                      " listed = COALESCE(?, progress_works.listed)",
                      (self.wiki, ref.index, ref.file, ref.pagecount, now if listed else None, now,
                       ref.index_revid, ref.index_timestamp, now if listed else None))

    def set_transcluded(self, index: str, listed: Sequence[Listed]) -> None:
        with self.store.tx() as c:
            c.executemany("UPDATE progress_pages SET transcluded = ? WHERE wiki = ? AND index_title = ? AND title = ?",
                          [(json.dumps(list(x.transcluded)), self.wiki, index, x.title) for x in listed])

    def transcluded(self, index: str) -> dict[int, list[str]]:
        return {r["n"]: json.loads(r["transcluded"]) for r in self.store.query(
            "SELECT n, transcluded FROM progress_pages WHERE wiki = ? AND index_title = ?"
            " AND transcluded IS NOT NULL", (self.wiki, index))}

    def revision(self, revid: int) -> Any:
        rows = self.store.query("SELECT pageid, timestamp FROM progress_revisions WHERE wiki = ? AND revid = ?",
                                (self.wiki, revid))
        return rows[0] if rows else None

    def forget_wiki(self) -> None:
        """Drop everything read of this wiki: its revision ids now name other revisions."""
        with self.store.tx() as c:
            for table in ("progress_works", "progress_pages", "progress_revisions", "progress_corrections"):
                c.execute(f"DELETE FROM {table} WHERE wiki = ?", (self.wiki,))

    def histories(self, index: str) -> dict[int, list[Rev]]:
        out: dict[int, list[Rev]] = {}
        for r in self.store.query(
                "SELECT p.n, r.revid, r.user, r.timestamp, r.level FROM progress_pages p JOIN progress_revisions r"
                " ON r.wiki = p.wiki AND r.pageid = p.pageid AND r.revid <= p.lastrevid"
                " WHERE p.wiki = ? AND p.index_title = ? ORDER BY p.n, r.timestamp, r.revid", (self.wiki, index)):
            out.setdefault(r["n"], []).append(Rev(r["revid"], r["user"], r["timestamp"], r["level"]))
        return out

    def snapshot(self, work: WorkProgress, now: str) -> None:
        s = summarize_work(work)
        with self.store.tx() as c:
            c.execute("INSERT OR REPLACE INTO progress_snapshots (wiki, index_title, taken, pages, not_created,"
                      " q0, q1, q2, q3, q4) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      (self.wiki, work.index, now, s.pages, s.not_created, *(s.levels[lv] for lv in LEVELS)))


# -- listing the pages of a work ---------------------------------------------------------------------------------

def _page_number(title: str, prefix: str) -> int | None:
    if not title.startswith(prefix):
        return None
    rest = title[len(prefix):]
    return int(rest) if rest.isdigit() and int(rest) > 0 else None


# Which main-namespace pages transclude each Page: page comes with the listing, in the same requests.
_TRANSCLUDED: dict[str, Any] = {"tiprop": "title", "tinamespace": 0, "tilimit": "max"}


def list_pages(wiki: Wiki, ref: IndexRef) -> list[Listed]:
    """Every existing Page: page of a work with its lastrevid and the main-namespace pages that transclude it
    (the extension's index order where it exists)."""
    ns = wiki.namespaces
    prefix = f"{ns.page.name}:{ref.file}/"
    if wiki.has_proofreadpage:
        return parse_pages_in_index(
            [d for d in _query_all(wiki, generator="proofreadpagesinindex", gprppiititle=ref.index,
                                   gprppiilimit="max", prop="info|proofread|transcludedin", **_TRANSCLUDED)],
            prefix)
    out: list[Listed] = []
    answers = list(_query_all(wiki, generator="allpages", gapnamespace=ns.page.id, gapprefix=f"{ref.file}/",
                              gaplimit="max", prop="info|transcludedin", **_TRANSCLUDED))
    for p in _merged_pages(answers).values():
        n = _page_number(p["title"], prefix)
        if n is not None:  # subpages like 'X.pdf/3/notes' are not pages of the scan
            out.append(Listed(p["title"], n, int(p["pageid"]), int(p["lastrevid"]), _transcluders(p)))
    return sorted(out, key=lambda x: x.n)


def _transcluders(page: dict[str, Any]) -> tuple[str, ...]:
    return tuple(sorted({str(t["title"]) for t in page.get("transcludedin", [])}))


def parse_pages_in_index(answers: Sequence[dict[str, Any]], prefix: str) -> list[Listed]:
    """Pages from `generator=proofreadpagesinindex&prop=info|proofread` answers (formatversion 2).

    Missing pages come back with `"missing": true` and are not listed; a page named otherwise than
    `<file>/<n>` (an Index of single images) is numbered by its place in the index.
    """
    out: list[Listed] = []
    place = 0
    for p in sorted(_merged_pages(answers).values(), key=lambda p: p.get("index", 0)):
        place += 1
        if p.get("missing") or p.get("invalid"):
            continue
        n = _page_number(p["title"], prefix) or place
        out.append(Listed(p["title"], n, int(p["pageid"]), int(p["lastrevid"]), _transcluders(p)))
    return sorted(out, key=lambda x: x.n)


# -- recent changes -------------------------------------------------------------------------------------------

def _recent_changes(wiki: Wiki, since: str, prefixes: dict[str, str],
                    known: dict[str, str]) -> tuple[dict[str, dict[str, int]], set[str]]:
    """(index -> {title: newest revid}, indexes that saw a deletion, move or import) in the Page namespace.

    A change belongs to a work when its title starts with the work's `<file>/` prefix or is one of the work's
    known pages (`known`: title -> index; an Index of single images names its pages otherwise).
    """
    edits: dict[str, dict[str, int]] = {}
    logged: set[str] = set()
    for data in _query_all(wiki, max_requests=RC_MAX_REQUESTS, list="recentchanges", rcstart=since, rcdir="newer",
                           rcnamespace=wiki.namespaces.page.id, rctype="edit|new|log",
                           rcprop="title|ids|timestamp|loginfo", rclimit="max"):
        for rc in data.get("query", {}).get("recentchanges", []):
            title = rc.get("title", "")
            owners = {known[title]} if title in known else set()
            owners |= {index for index, prefix in prefixes.items() if title.startswith(prefix)}
            for index in owners:
                if rc.get("type") == "log":
                    logged.add(index)
                elif rc.get("revid"):
                    slot = edits.setdefault(index, {})
                    slot[title] = max(slot.get(title, 0), int(rc["revid"]))
    return edits, logged


# -- reading revisions --------------------------------------------------------------------------------------------

def _rev(r: dict[str, Any]) -> dict[str, Any]:
    slot = r.get("slots", {}).get("main", {})
    content = slot.get("content")
    level = None if content is None or slot.get("texthidden") else parse_page(content).level
    return {"revid": int(r["revid"]), "parentid": int(r.get("parentid") or 0),
            "user": "(hidden)" if r.get("userhidden") else str(r.get("user", "")),
            "timestamp": str(r["timestamp"]), "level": level}


def _history_since(wiki: Wiki, pageid: int, start: str | None) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"prop": "revisions", "pageids": pageid, "rvprop": "ids|user|timestamp|content",
                              "rvslots": "main", "rvlimit": "max", "rvdir": "newer"}
    if start:
        params["rvstart"] = start
    revs: list[dict[str, Any]] = []
    for data in _query_all(wiki, **params):
        for p in data.get("query", {}).get("pages", []):
            revs += [_rev(r) for r in p.get("revisions", [])]
    return revs


def _refresh(wiki: Wiki, cache: _Cache, wanted: dict[str, tuple[str, int]], progress: ProgressFn) -> None:
    """Bring the histories of `wanted` (title -> (index, n), the pages that changed) up to date."""
    titles = list(wanted)
    for i in range(0, len(titles), BATCH):
        chunk = titles[i:i + BATCH]
        data = wiki.get(action="query", titles="|".join(chunk), prop="revisions",
                        rvprop="ids|user|timestamp|content", rvslots="main")
        q = data.get("query", {})
        norm = {x["to"]: x["from"] for x in q.get("normalized", [])}
        gone: dict[str, list[str]] = {}
        for p in q.get("pages", []):
            title = norm.get(p["title"], p["title"])
            if title not in wanted:
                continue
            index, n = wanted[title]
            if p.get("missing") or not p.get("revisions"):
                gone.setdefault(index, []).append(title)
                continue
            latest = _rev(p["revisions"][0])
            pageid = int(p["pageid"])
            _check_not_fooled(cache, title, pageid, latest)
            if latest["parentid"] == 0 or cache.has_revision(latest["parentid"]):
                revs = [latest]
            else:
                last = cache.last_revision(pageid)
                revs = _history_since(wiki, pageid, last["timestamp"] if last else None)
                revs = [r for r in revs if r["revid"] <= latest["revid"]] or [latest]
            cache.save_page(index, title, n, pageid, revs)
        for index, ts in gone.items():
            cache.forget_pages(index, ts)
        progress("pages", min(i + BATCH, len(titles)), len(titles))


def _check_not_fooled(cache: _Cache, title: str, pageid: int, latest: dict[str, Any]) -> None:
    """Revision ids are only unique on one wiki: a cached revision that is now another page's, or of another
    time, or a parent on another page, means a different wiki answers at this address."""
    known = cache.revision(latest["revid"])
    if known is not None and (known["pageid"] != pageid or known["timestamp"] != latest["timestamp"]):
        raise Fooled(f"revision {latest['revid']} of {title} is dated {latest['timestamp']}, "
                     f"the cache has it from {known['timestamp']}")
    parent = cache.revision(latest["parentid"]) if latest["parentid"] else None
    if parent is not None and parent["pageid"] != pageid:
        raise Fooled(f"revision {latest['parentid']} is not of {title} in the cache")


def read_works(wiki: Wiki, names: Sequence[str], *, store: Store, progress: ProgressFn | None = None,
               notes: list[str] | None = None) -> list[WorkProgress]:
    """The works behind these Index titles, as the wiki has them now, reading only what changed since last time.

    When the wiki at this address is not the one read before (reinstalled, restored from a backup: revision
    ids then name other revisions), its cache is dropped and every work read afresh, with a note in `notes`.
    """
    progress = progress or no_progress
    try:
        return _read_works(wiki, names, store, progress)
    except Fooled as e:
        note = (f"{wiki.name} is not the wiki read before at this address ({e}): what was cached of it is "
                "dropped and every work read afresh.")
        log.warning("%s", note)
        if notes is not None:
            notes.append(note)
        _Cache(store, wiki.api_url).forget_wiki()
        return _read_works(wiki, names, store, progress)


def _read_works(wiki: Wiki, names: Sequence[str], store: Store, progress: ProgressFn) -> list[WorkProgress]:
    refs, now_text = resolve_indexes(wiki, names)
    cache = _Cache(store, wiki.api_url)
    now = _ts(now_text)
    page_ns = wiki.namespaces.page.name
    prefixes = {r.index: f"{page_ns}:{r.file}/" for r in refs}

    rows = {r.index: cache.work(r.index) for r in refs}
    for ref in refs:
        w = rows[ref.index]
        if w is not None and w["index_revid"] and ref.index_revid and (
                ref.index_revid < w["index_revid"] or
                (ref.index_revid == w["index_revid"] and ref.index_timestamp != w["index_timestamp"])):
            raise Fooled(f"{ref.index} was at revision {w['index_revid']} of {w['index_timestamp']}, "
                         f"now at revision {ref.index_revid} of {ref.index_timestamp}")
    known_pages = {r.index: cache.pages(r.index) for r in refs}
    full: list[IndexRef] = []
    incremental: list[IndexRef] = []
    for ref in refs:
        w = rows[ref.index]
        fresh = w is not None and w["listed"] and w["synced"] and now - _ts(w["listed"]) < RELIST_EVERY \
            and now - _ts(w["synced"]) < RC_MAX_AGE and w["file"] == ref.file
        (incremental if fresh else full).append(ref)

    wanted: dict[str, tuple[str, int]] = {}
    if incremental:
        since = _iso(min(_ts(rows[r.index]["synced"]) for r in incremental) - RC_MARGIN)
        owners = {title: r.index for r in incremental for title in known_pages[r.index]}
        try:
            edits, logged = _recent_changes(wiki, since, {r.index: prefixes[r.index] for r in incremental}, owners)
        except _TooMany:
            log.info("%s: many recent changes; listing the works' pages instead", wiki.name)
            full += incremental
        else:
            for ref in incremental:
                if ref.index in logged:
                    full.append(ref)
                    continue
                known = known_pages[ref.index]
                for title, revid in edits.get(ref.index, {}).items():
                    k = known.get(title)
                    n = k["n"] if k is not None else _page_number(title, prefixes[ref.index])
                    if n is not None and (k is None or k["lastrevid"] < revid):
                        wanted[title] = (ref.index, n)
    listings: dict[str, list[Listed]] = {}
    for done, ref in enumerate(full, 1):
        listed = listings[ref.index] = list_pages(wiki, ref)
        known = known_pages[ref.index]
        present = {x.title for x in listed}
        cache.forget_pages(ref.index, [t for t in known if t not in present])
        for x in listed:
            k = known.get(x.title)
            if k is None or k["lastrevid"] != x.lastrevid or k["pageid"] != x.pageid or k["n"] != x.n:
                wanted[x.title] = (ref.index, x.n)
        progress("works", done, len(full))

    _refresh(wiki, cache, wanted, progress)
    for index, listed in listings.items():
        cache.set_transcluded(index, listed)
    log.info("%s: %d works, %d pages changed since the last run", wiki.name, len(refs), len(wanted))
    works: list[WorkProgress] = []
    full_set = {r.index for r in full}
    for ref in refs:
        cache.mark(ref, now_text, listed=ref.index in full_set)
        work = WorkProgress(ref.index, ref.file, ref.pagecount, cache.histories(ref.index),
                            transcluded=cache.transcluded(ref.index), texts=list(ref.texts),
                            file_usage=list(ref.file_usage), file_shared=ref.file_shared)
        cache.snapshot(work, now_text)
        works.append(work)
    return works


def bot_accounts(wiki: Wiki, users: Sequence[str]) -> set[str]:
    """Which of `users` are bots: in the `bot` group, or this tool's own account (logged in or stored)."""
    bots: set[str] = set()
    names = [u for u in dict.fromkeys(users) if u and u != "(hidden)"]
    for i in range(0, len(names), BATCH):
        data = wiki.get(action="query", list="users", ususers="|".join(names[i:i + BATCH]), usprop="groups")
        for u in data.get("query", {}).get("users", []):
            if "bot" in (u.get("groups") or []):
                bots.add(str(u["name"]))
    own = wiki.user
    if own is None:
        from transcribe.wiki import credentials

        creds = credentials.load_bot_password(wiki.api_url)
        own = creds.account if creds else None
    if own:
        bots.add(own)
    return bots


def update_wiki_page(wiki: Wiki, title: str, compose: Callable[[str], str], *,
                     summary: str = "Update proofreading progress") -> str:
    """Save `compose(current text)` on a wiki page (the current text is '' for a new page).

    Returns 'created', 'updated' or 'unchanged'. The edit is based on the revision read, so a person saving the
    page in between makes the wiki refuse it instead of losing their words.
    """
    data = wiki.get(action="query", titles=title, prop="revisions", rvprop="content|timestamp", rvslots="main",
                    curtimestamp=1)
    pages = data.get("query", {}).get("pages", [{}])
    page = pages[0] if pages else {}
    if page.get("invalid"):
        raise UsageError(f"'{title}' is not a valid page title on {wiki.name}.", hint="Check the --to-wiki title.")
    exists = not page.get("missing") and page.get("revisions")
    old = page["revisions"][0]["slots"]["main"].get("content", "") if exists else ""
    new = compose(old)
    if new == old:
        return "unchanged"
    params: dict[str, Any] = {"action": "edit", "title": title, "text": new, "summary": summary, "token": ...,
                              "starttimestamp": data.get("curtimestamp")}
    if exists:
        params["basetimestamp"] = page["revisions"][0]["timestamp"]
        params["nocreate"] = 1
    else:
        params["createonly"] = 1
    answer = wiki.post(**params)
    result = answer.get("edit", {}).get("result")
    if result != "Success":
        raise WikiError(f"{wiki.name} did not save {title} ({result or 'no answer'}).",
                        hint="Run the same command again.")
    return "updated" if exists else "created"


# -- what people corrected ------------------------------------------------------------------------------------

def read_corrections(wiki: Wiki, works: Sequence[WorkProgress], *, store: Store,
                     progress: ProgressFn | None = None) -> None:
    """Fill each work's `corrections`: every page at 3 or 4 against its OCR revision.

    The two texts are read once (50 revisions a request) and only the comparison is kept in the state, so a
    page costs nothing more until it changes again.
    """
    from transcribe.evaluate import char_errors, normalize
    from transcribe.progress.credits import Correction
    from transcribe.progress.impact import ocr_pair

    progress = progress or no_progress
    known = {(r["ocr_revid"], r["proof_revid"]): (r["chars"], r["edits"]) for r in store.query(
        "SELECT ocr_revid, proof_revid, chars, edits FROM progress_corrections WHERE wiki = ?", (wiki.api_url,))}
    page_ns = wiki.namespaces.page.name
    pairs: list[tuple[WorkProgress, int, tuple[int, int, str]]] = []
    for work in works:
        for n, history in sorted(work.histories.items()):
            pair = ocr_pair(history)
            if pair is not None:
                pairs.append((work, n, pair))
    revids = sorted({r for _, _, (a, b, _) in pairs if (a, b) not in known for r in (a, b)})
    bodies: dict[int, str] = {}
    for i in range(0, len(revids), BATCH):
        data = wiki.get(action="query", revids="|".join(map(str, revids[i:i + BATCH])), prop="revisions",
                        rvprop="ids|content", rvslots="main")
        for p in data.get("query", {}).get("pages", []):
            for r in p.get("revisions", []):
                content = r.get("slots", {}).get("main", {}).get("content")
                if content is not None:
                    bodies[int(r["revid"])] = parse_page(content).body
        progress("corrections", min(i + BATCH, len(revids)), len(revids))
    fresh = []
    for _, _, (a, b, _) in pairs:
        if (a, b) not in known and a in bodies and b in bodies:
            proofread, ocr = normalize(bodies[b]), normalize(bodies[a])
            known[(a, b)] = (len(proofread), char_errors(proofread, ocr))
            fresh.append((wiki.api_url, a, b, *known[(a, b)]))
    if fresh:
        with store.tx() as c:
            c.executemany("INSERT OR REPLACE INTO progress_corrections (wiki, ocr_revid, proof_revid, chars, edits)"
                          " VALUES (?, ?, ?, ?, ?)", fresh)
    for work in works:
        work.corrections = []
    for work, n, (a, b, month) in pairs:
        if (a, b) in known:  # a hidden (revision-deleted) text cannot be compared
            chars, edits = known[(a, b)]
            work.corrections.append(Correction(n, f"{page_ns}:{work.file}/{n}", a, b, chars, edits, month))


# -- readers ----------------------------------------------------------------------------------------------------

def view_titles(wiki: Wiki, work: WorkProgress, *, pages: bool = False) -> list[tuple[str, str | None]]:
    """(title, project or None for this wiki's) whose views count as the work's readers."""
    from transcribe.progress.impact import texts_of

    file_title: tuple[str, str | None] = (f"File:{work.file}", "commons.wikimedia.org") if work.file_shared \
        else (f"{wiki.namespaces.file.name}:{work.file}", None)
    out: list[tuple[str, str | None]] = [(work.index, None), file_title, *((t, None) for t in texts_of(work))]
    if pages:
        out += [(f"{wiki.namespaces.page.name}:{work.file}/{n}", None) for n in sorted(work.histories)]
    return out


def read_views(wiki: Wiki, works: Sequence[WorkProgress], client: Any, project: str, first: str, last: str,
               *, pages: bool = False, progress: ProgressFn | None = None) -> None:
    """Fill each work's `views` (month -> views of its Index, file page and texts; with `pages` its Page:
    pages too) from `client` (a `pageviews.PageViews`), one request per title for the months not yet stored."""
    progress = progress or no_progress
    for done, work in enumerate(works, 1):
        total: dict[str, int] = {}
        by_project: dict[str, list[str]] = {}
        for title, where in view_titles(wiki, work, pages=pages):
            by_project.setdefault(where or project, []).append(title)
        for where, titles in by_project.items():
            for per_month in client.monthly(where, titles, first, last).values():
                for month, n in per_month.items():
                    total[month] = total.get(month, 0) + n
        work.views = total
        progress("page views", done, len(works))
