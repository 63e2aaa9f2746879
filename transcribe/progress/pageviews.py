"""Page views per month from the Wikimedia page views REST API: one job, one outside service.

    GET {API}/metrics/pageviews/per-article/{project}/all-access/user/{article}/monthly/{start}/{end}

- `project` is the wiki's host ('en.wikisource.org', 'commons.wikimedia.org'); `article` the title with
  underscores, percent-encoded, '/' included ('Page:Foo.pdf%2F3'); `start`/`end` are YYYYMMDD (or YYYYMMDDHH).
- The answer is `{"items": [{"project", "article", "granularity": "monthly", "timestamp": "2026010100",
  "access": "all-access", "agent": "user", "views": N}, ...]}`, one item per month that had views. With the
  monthly granularity only complete months come back, so the current month is never stored.
- A title with no views in the range is an HTTP 404 whose JSON body has a `type` ending in `/not_found`
  ("The date(s) you used are valid, but we either do not have data for those date(s), or the project you asked
  for is not loaded yet"): that is 0 views for every month asked, not an error.
- HTTP 429 means too fast: wait `Retry-After` seconds (bounded), a few times, then give up on views.
- Etiquette: one article per request (the API has no batch form), a User-Agent that names the tool and a
  contact (Wikimedia's User-Agent policy; set TRANSCRIBE_CONTACT to your e-mail or user page), and a polite rate
  (`MIN_INTERVAL` between requests, one at a time).

The months read are kept in the state (`progress_views`): a month once fetched is never asked again, so a
title costs one request the first time (for all its months at once) and one per new month after that.
Nothing here knows about works or wikis beyond the host name; `transcribe.progress.impact` decides what to ask.
"""

from __future__ import annotations

import logging
import os
import time
import urllib.parse
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import requests

from transcribe.download import user_agent  # the one User-Agent (name, version, TRANSCRIBE_CONTACT)
from transcribe.progress.credits import periods_between
from transcribe.store import Store

log = logging.getLogger(__name__)

API = "https://wikimedia.org/api/rest_v1"
FIRST_MONTH = "2015-07"  # the service has data from July 2015 on
MIN_INTERVAL = 0.1  # seconds between two requests: at most 10 a second, well under the service's limits
RETRIES = 4  # attempts of one request on 429, 5xx and connection errors
MAX_WAIT = 30.0  # never wait longer than this for one Retry-After
TIMEOUT = (10.0, 60.0)
NOT_AVAILABLE = "page views: not available for this wiki"


class PageViewsError(Exception):
    """The service could not be read (down, or asking us to slow down for too long): say so, never show 0."""


def project_of(api_url: str, is_wikimedia: bool) -> str | None:
    """'https://en.wikisource.org/w/api.php' -> 'en.wikisource.org'; None for a wiki the service does not count."""
    if not is_wikimedia:
        return None
    host = urllib.parse.urlsplit(api_url).hostname or ""
    return host.lower().removeprefix("www.") or None


def article_of(title: str) -> str:
    """The title as the service names it: underscores, then percent-encoded with nothing kept ('/' too)."""
    return urllib.parse.quote(title.replace(" ", "_"), safe="")


def last_complete_month(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    y, m = (now.year - 1, 12) if now.month == 1 else (now.year, now.month - 1)
    return f"{y:04d}-{m:02d}"


def months(first: str, last: str) -> list[str]:
    """'2026-11', '2027-02' -> ['2026-11', '2026-12', '2027-01', '2027-02']."""
    return periods_between(first + "-01", last + "-01", "month")


class PageViews:
    """Monthly views of titles on Wikimedia projects, cached in the state; `requests` counts the calls made."""

    def __init__(self, store: Store, *, api: str | None = None, contact: str | None = None,
                 min_interval: float = MIN_INTERVAL) -> None:
        self.store = store
        self.api = (api or os.environ.get("TRANSCRIBE_PAGEVIEWS_API") or API).rstrip("/")
        self.session = requests.Session()
        self.session.headers["User-Agent"] = user_agent(contact)
        self.min_interval = min_interval
        self.requests = 0
        self._last = 0.0

    def cached(self, project: str, titles: Iterable[str]) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for t in titles:
            out[t] = {r["month"]: int(r["views"]) for r in self.store.query(
                "SELECT month, views FROM progress_views WHERE project = ? AND article = ?", (project, t))}
        return out

    def monthly(self, project: str, titles: Sequence[str], first: str, last: str) -> dict[str, dict[str, int]]:
        """title -> {month: views} for every month from `first` to `last` ('YYYY-MM', complete months only).

        Each title costs at most one request: from its first month not yet stored to its last one.
        """
        first = max(first, FIRST_MONTH)
        wanted = months(first, last) if first <= last else []
        have = self.cached(project, titles)
        for title in titles:
            missing = [m for m in wanted if m not in have[title]]
            if not missing:
                continue
            got = self._fetch(project, title, missing[0], missing[-1])
            rows = [(project, title, m, got.get(m, 0)) for m in months(missing[0], missing[-1])]
            with self.store.tx() as c:
                c.executemany("INSERT OR REPLACE INTO progress_views (project, article, month, views)"
                              " VALUES (?, ?, ?, ?)", rows)
            have[title].update({m: v for _, _, m, v in rows})
        return {t: {m: v for m, v in have[t].items() if first <= m <= last} for t in titles}

    def _fetch(self, project: str, title: str, first: str, last: str) -> dict[str, int]:
        start = first.replace("-", "") + "01"
        end = _last_day(last)
        url = (f"{self.api}/metrics/pageviews/per-article/{project}/all-access/user/{article_of(title)}"
               f"/monthly/{start}/{end}")
        for attempt in range(1, RETRIES + 1):
            delay = self._last + self.min_interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._last = time.monotonic()
            self.requests += 1
            wait = min(MAX_WAIT, 2.0 ** attempt)
            try:
                r = self.session.get(url, timeout=TIMEOUT)
            except requests.RequestException as e:
                problem = f"cannot reach {self.api} ({type(e).__name__})"
            else:
                if r.status_code == 200:
                    return _parse(r.json())
                if r.status_code == 404 and _not_found(r):
                    return {}  # no views at all in the range
                problem = f"{self.api} answered HTTP {r.status_code}"
                if r.status_code == 429 or r.status_code >= 500:
                    try:
                        wait = min(MAX_WAIT, float(r.headers.get("Retry-After", "")))
                    except ValueError:
                        pass
                else:
                    raise PageViewsError(f"{problem} for {title} on {project}")
            if attempt < RETRIES:
                log.info("page views: %s; trying again in %.0f s", problem, wait)
                time.sleep(wait)
        raise PageViewsError(f"{problem}, {RETRIES} times")


def _last_day(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
    return datetime.fromordinal(datetime(ny, nm, 1).toordinal() - 1).strftime("%Y%m%d")


def _not_found(r: requests.Response) -> bool:
    try:
        return str(r.json().get("type", "")).endswith("/not_found")
    except ValueError:
        return False


def _parse(data: object) -> dict[str, int]:
    """{"items": [...]} -> {'2026-01': views}; items of other granularities or agents are not ours."""
    out: dict[str, int] = {}
    items = data.get("items", []) if isinstance(data, dict) else []
    for item in items:
        ts = str(item.get("timestamp", ""))
        if item.get("granularity", "monthly") != "monthly" or len(ts) < 6:
            continue
        month = f"{ts[:4]}-{ts[4:6]}"
        out[month] = out.get(month, 0) + int(item.get("views", 0))
    return out
