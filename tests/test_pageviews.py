"""The page views client (transcribe.progress.pageviews) against a local stand-in of the Wikimedia REST API.

Why not the real service: it is Wikimedia's analytics API (not MediaWiki), it cannot run here and tests never
use the internet. tests/progress_helpers.PageViewsServer speaks its documented format on 127.0.0.1: the
`{"items": [...]}` answer, the 404 with a `.../not_found` body for a title without views, and 429 with
Retry-After.
"""

from __future__ import annotations

import pytest
from progress_helpers import PageViewsServer

from transcribe.progress import pageviews
from transcribe.progress.pageviews import PageViews, PageViewsError
from transcribe.store import Store


@pytest.fixture
def service():
    server = PageViewsServer()
    yield server
    server.close()


def test_months_cached_once_and_404_is_zero_views(service, tmp_path):
    service.views[("en.wikisource.org", "Index:Book One.pdf")] = {"2026-01": 12, "2026-03": 5, "2026-05": 9}
    with Store(tmp_path / "s.db") as store:
        client = PageViews(store, api=service.url, contact="library@example.org", min_interval=0)
        got = client.monthly("en.wikisource.org", ["Index:Book One.pdf", "Page:Book One.pdf/3"], "2026-01", "2026-04")
        assert got["Index:Book One.pdf"] == {"2026-01": 12, "2026-02": 0, "2026-03": 5, "2026-04": 0}
        # no views at all: the service's 404 means 0 for each month asked, not a failure
        assert got["Page:Book One.pdf/3"] == {m: 0 for m in ("2026-01", "2026-02", "2026-03", "2026-04")}
        assert client.requests == 2  # one request per title, for all its months at once
        assert service.paths[0] == ("/metrics/pageviews/per-article/en.wikisource.org/all-access/user/"
                                    "Index%3ABook_One.pdf/monthly/20260101/20260430")
        assert "%2F3" in service.paths[1]  # the '/' of a Page: title is encoded, or the path would be wrong
        assert all(a.startswith("transcribe/") and "library@example.org" in a for a in service.agents)
        # a second report asks nothing for the months it has; a new month costs one request per title
        again = client.monthly("en.wikisource.org", ["Index:Book One.pdf"], "2026-01", "2026-04")
        assert again["Index:Book One.pdf"]["2026-03"] == 5 and client.requests == 2
        later = client.monthly("en.wikisource.org", ["Index:Book One.pdf"], "2026-01", "2026-05")
        assert later["Index:Book One.pdf"]["2026-05"] == 9 and client.requests == 3
        assert service.paths[-1].endswith("/monthly/20260501/20260531")


def test_429_waits_for_retry_after_then_gives_up_clearly(service, tmp_path, monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(pageviews.time, "sleep", waits.append)  # the test checks the waits, not the clock
    service.views[("fr.wikisource.org", "Livre:X.djvu")] = {"2026-02": 3}
    service.too_many, service.retry_after = 2, "7"
    with Store(tmp_path / "s.db") as store:
        client = PageViews(store, api=service.url, min_interval=0)
        assert client.monthly("fr.wikisource.org", ["Livre:X.djvu"], "2026-02", "2026-02") == \
            {"Livre:X.djvu": {"2026-02": 3}}
        assert waits == [7.0, 7.0] and client.requests == 3
        service.too_many, service.retry_after = 10, "3600"
        waits.clear()
        with pytest.raises(PageViewsError, match="429"):
            client.monthly("fr.wikisource.org", ["Livre:Y.djvu"], "2026-02", "2026-02")
        assert waits == [pageviews.MAX_WAIT] * (pageviews.RETRIES - 1)  # an hour's Retry-After is capped
        # nothing half-stored: the failed title has no months in the cache, so the next run asks again
        assert client.cached("fr.wikisource.org", ["Livre:Y.djvu"]) == {"Livre:Y.djvu": {}}


def test_project_mapping_and_the_incomplete_month():
    assert pageviews.project_of("https://en.wikisource.org/w/api.php", True) == "en.wikisource.org"
    assert pageviews.project_of("https://wikisource.org/w/api.php", True) == "wikisource.org"
    assert pageviews.project_of("https://commons.wikimedia.org/w/api.php", True) == "commons.wikimedia.org"
    assert pageviews.project_of("http://127.0.0.1:8080/w/api.php", False) is None
    from datetime import datetime

    assert pageviews.last_complete_month(datetime(2026, 12, 2)) == "2026-11"
    assert pageviews.last_complete_month(datetime(2027, 1, 31)) == "2026-12"
    assert pageviews.months("2026-11", "2027-02") == ["2026-11", "2026-12", "2027-01", "2027-02"]
