"""Readers, reuse, pace and forecast, corrections and the cache that cannot be fooled, on the real test wiki.

Transclusion and file usage are real MediaWiki links: the test wiki has no ProofreadPage, so a main-namespace page
transcludes Page: pages with `{{:Page:X.pdf/1}}` (what `<pages index=.../>` records on Wikisource) and another
page shows the file with `[[File:X.pdf]]`. Edits happen "now", so the forecast is checked against the report's
own clock. Page views come from tests/progress_helpers.PageViewsServer, a local stand-in for the Wikimedia REST
API (the real service cannot run here and tests never use the internet).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

import pytest
import wikiserver
from progress_helpers import PageViewsServer, add_work, import_pages, make_work, page_text
from typer.testing import CliRunner

from transcribe.cli import app
from transcribe.progress.pageviews import last_complete_month

pytestmark = pytest.mark.wiki
runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None):
    result = runner.invoke(app, ["progress", *args, "-q"], env={"COLUMNS": "160", **(env or {})})
    assert result.exit_code == 0, result.output
    return result


def run_json(*args: str, env: dict[str, str] | None = None) -> dict:
    return json.loads(invoke(*args, "--format", "json", env=env).stdout)


@pytest.fixture
def service():
    server = PageViewsServer()
    yield server
    server.close()


def test_reuse_readers_and_corrections(wiki_en, service, tmp_path):
    make_work(wiki_en, tmp_path, "Impact Book.pdf", 3, {1: 1, 2: 1, 3: 1})
    alice = wiki_en.human("Alice")
    alice.set_page_quality("Page:Impact Book.pdf/1", 3, body="OCR text of page I")  # one character corrected
    alice.set_page_quality("Page:Impact Book.pdf/2", 3)  # nothing to correct
    alice.set_page_quality("Page:Impact Book.pdf/3", 3, body="OCR  text\nof page 3")  # only spacing: normalised
    api = wiki_en.api_url

    # proofread, but no text shows it: "ready to transclude"; and no page views on a wiki that is not Wikimedia's
    before = run_json("Index:Impact Book.pdf", "--wiki", api, "--state", str(tmp_path / "a.db"))
    (work,) = before["works"]
    assert work["ready_to_transclude"] is True and work["texts"] == [] and work["file_used_on"] == []
    assert before["views_note"] == "page views: not available for this wiki"
    assert work["views"] is None and before["totals"]["views"] is None  # never a 0 that looks like no readers
    table = invoke("Index:Impact Book.pdf", "--wiki", api, "--state", str(tmp_path / "a.db")).stdout
    assert "page views: not available for this wiki" in table and "ready to transclude" in table

    # a text transcludes two of its pages, and a gallery shows the scan
    admin = wiki_en.human("Admin")
    admin.edit("Impact Book", "{{:Page:Impact Book.pdf/1}}\n{{:Page:Impact Book.pdf/2}}")
    admin.edit("Library gallery", "[[File:Impact Book.pdf|thumb|Our book]]")
    last = last_complete_month()
    service.views[("en.wikisource.org", "Index:Impact Book.pdf")] = {"2026-02": 10}
    service.views[("en.wikisource.org", "File:Impact Book.pdf")] = {"2026-03": 5}
    service.views[("en.wikisource.org", "Impact Book")] = {"2026-03": 100, last: 7}
    env = {"TRANSCRIBE_PAGEVIEWS_API": service.url}
    args = ["Index:Impact Book.pdf", "--wiki", api, "--state", str(tmp_path / "b.db"),
            "--views-project", "en.wikisource.org"]
    after = run_json(*args, env=env)
    (work,) = after["works"]
    assert work["texts"] == ["Impact Book"] and work["transcluded_pages"] == 2
    assert work["ready_to_transclude"] is False
    assert work["file_used_on"] == ["Library gallery"]
    assert work["views"] == 122 and after["views_note"] == ""
    readers = {p["period"]: p["views"] for p in after["readers"]}
    assert (readers["2026-01"], readers["2026-02"], readers["2026-03"], readers[last]) == (0, 10, 105, 7)
    assert len(service.paths) == 3  # one request per title (Index, file page, text) for all their months
    again = run_json(*args, env=env)
    assert again["totals"]["views"] == 122 and len(service.paths) == 3  # every month already stored
    service.views[("en.wikisource.org", "Page:Impact Book.pdf/2")] = {"2026-04": 3}
    with_pages = run_json(*args, "--views-of-pages", env=env)
    assert with_pages["totals"]["views"] == 125 and len(service.paths) == 6  # one more request per Page: page

    # what people corrected: the bot's OCR revision against the proofread text, normalised like `evaluate`
    assert (work["corrected_pages"], work["corrected_edits"]) == (3, 1)
    rows = list(csv.DictReader(io.StringIO(invoke(*args, "--format", "csv", "--rows", "corrections",
                                                  env=env).stdout)))
    assert list(rows[0]) == ["page", "ocr_revision", "proofread_revision", "characters", "edits", "cer", "month"]
    by_page = {r["page"]: r for r in rows}
    assert (by_page["Page:Impact Book.pdf/1"]["characters"], by_page["Page:Impact Book.pdf/1"]["edits"]) == \
        ("18", "1")
    assert by_page["Page:Impact Book.pdf/1"]["cer"] == f"{1 / 18:.4f}"
    assert by_page["Page:Impact Book.pdf/2"]["edits"] == "0" and by_page["Page:Impact Book.pdf/3"]["edits"] == "0"
    assert int(by_page["Page:Impact Book.pdf/1"]["ocr_revision"]) < \
        int(by_page["Page:Impact Book.pdf/1"]["proofread_revision"])


def test_pace_forecast_and_contributors(wiki_en, tmp_path):
    make_work(wiki_en, tmp_path, "Pace.pdf", 10, {n: 1 for n in range(1, 11)})
    add_work(wiki_en, tmp_path, "Old.pdf", 2)
    bot = wikiserver.BOT_USER
    import_pages(wiki_en, {f"Page:Old.pdf/{n}": [
        (page_text(1, f"Old page {n}"), bot, "2026-01-15T10:00:00Z"),
        (page_text(3, f"Old page {n}.", "Alice"), "Alice", "2026-02-01T10:00:00Z")] for n in (1,)})
    alice, bob = wiki_en.human("Alice"), wiki_en.human("Bob")
    for n in range(1, 5):
        alice.set_page_quality(f"Page:Pace.pdf/{n}", 3)
    for n in range(1, 3):
        bob.set_page_quality(f"Page:Pace.pdf/{n}", 4)
    data = run_json("Pace.pdf", "Old.pdf", "--wiki", wiki_en.api_url, "--state", str(tmp_path / "p.db"))
    pace, old = data["works"]
    now = datetime.fromisoformat(data["generated"])
    # 4 pages proofread and 2 validated in the last 8 weeks: 0.5 and 0.25 a week; 6 and 8 pages to go
    assert (pace["proofread_per_week"], pace["validated_per_week"]) == (0.5, 0.25)
    assert pace["proofread_by"] == (now + timedelta(weeks=12)).strftime("%Y-%m")
    assert pace["validated_by"] == (now + timedelta(weeks=32)).strftime("%Y-%m")
    assert pace["forecast"] == (f"at the pace of the last 8 weeks: proofread by {pace['proofread_by']}, "
                                f"validated by {pace['validated_by']}")
    assert old["proofread_by"] is None and old["forecast"] == "no recent activity"
    month = now.strftime("%Y-%m")
    people = {p["period"]: (p["new"], p["returning"]) for p in data["contributors"]}
    assert people == {"2026-02": (1, 0), month: (1, 1)}  # Alice came in February; Bob is new, Alice is back
    # the collection: 4 proofread of 12 with text at 0.5 a week
    assert data["totals"]["proofread_by"] == (now + timedelta(weeks=(12 - 5) / 0.5)).strftime("%Y-%m")
    # a funder's period: February only, as it stood at its end
    feb = run_json("Pace.pdf", "Old.pdf", "--wiki", wiki_en.api_url, "--state", str(tmp_path / "p.db"),
                   "--since", "2026-02", "--until", "2026-02")
    assert (feb["totals"]["proofread"], feb["totals"]["validated"]) == (1, 0)
    assert [(p["name"], p["proofread"]) for p in feb["people"]] == [("Alice", 1)]
    assert [p["period"] for p in feb["contributors"]] == ["2026-02"]
    # Old.pdf at the end of February: 1 of its 2 pages proofread on 1 February, 1/8 page a week, 8 weeks to go
    assert feb["works"][1]["forecast"] == \
        "at the pace of the last 8 weeks: proofread by 2026-04, no recent validation"


def test_a_bad_period_is_one_clear_line(wiki_en, tmp_path):
    result = runner.invoke(app, ["progress", "X.pdf", "--wiki", wiki_en.api_url, "--since", "2026-13"])
    assert result.exit_code == 2
    assert "--since '2026-13' is not a month or a day" in result.output and "Traceback" not in result.output


def test_a_wiki_reinstalled_at_the_same_address_does_not_mix_credits(wiki_template_en, tmp_path):
    """The cache keeps revisions by id; a new wiki at the same address reuses the ids for other edits."""
    first = wiki_template_en.clone(tmp_path / "first")
    first.start()
    port = first.port
    try:
        make_work(first, tmp_path, "Same.pdf", 3, {1: 1, 2: 1, 3: 1})
        first.human("Alice").set_page_quality("Page:Same.pdf/1", 3)
        state = str(tmp_path / "p.db")
        before = run_json("Same.pdf", "--wiki", first.api_url, "--state", state)
        assert {p["name"]: p["proofread"] for p in before["people"]} == {"Alice": 1}
    finally:
        first.stop()
    second = wiki_template_en.clone(tmp_path / "second", port=port)  # reinstalled: same address, new history
    second.start()
    try:
        make_work(second, tmp_path, "Same.pdf", 3, {1: 1, 2: 1, 3: 1})
        second.human("Bob").set_page_quality("Page:Same.pdf/1", 3)  # the revision id Alice's edit had
        second.human("Alice").set_page_quality("Page:Same.pdf/2", 3)
        result = runner.invoke(app, ["progress", "Same.pdf", "--wiki", second.api_url, "--state", state,
                                     "--format", "json", "-q"])
        assert result.exit_code == 0, result.output
        after = json.loads(result.stdout)
        assert {p["name"]: p["proofread"] for p in after["people"]} == {"Alice": 1, "Bob": 1}
        assert "is not the wiki read before at this address" in result.stderr
        assert any("read afresh" in n for n in after["notes"])
        fresh = run_json("Same.pdf", "--wiki", second.api_url, "--state", str(tmp_path / "fresh.db"))
        assert fresh["works"] == after["works"] and fresh["people"] == after["people"]
    finally:
        second.stop()
