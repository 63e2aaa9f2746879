"""The credit rules and the reports, on hand-made histories (no wiki): numbers, anonymity, HTML in Chromium."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from transcribe.progress import report
from transcribe.progress.credits import Rev, WorkProgress, credits, summarize
from transcribe.progress.read import parse_pages_in_index

NOW = "2026-11-21T12:00:00Z"


def r(revid: int, user: str, day: str, level: int | None) -> Rev:
    return Rev(revid, user, f"2026-{day}T10:00:00Z", level)


def two_works() -> list[WorkProgress]:
    """A (6 pages): 1 validated, 2 proofread then sent back, 3 problematic, 4 blank, 5-6 not created.
    B (3 pages): 1 proofread by Bob in November; 2-3 not created."""
    a = WorkProgress("Index:A.pdf", "A.pdf", 6, {
        1: [r(1, "Bot", "09-01", 1), r(5, "Alice", "09-10", 3), r(9, "Bob", "10-02", 4)],
        2: [r(2, "Bot", "09-01", 1), r(6, "Alice", "09-11", 3), r(10, "Carol", "10-03", 1)],
        3: [r(3, "Bot", "09-01", 2)],
        4: [r(4, "Bot", "09-01", 0)],
    })
    b = WorkProgress("Index:B.djvu", "B.djvu", 3, {1: [r(11, "Bot", "09-01", 1), r(12, "Bob", "11-01", 3)]})
    return [a, b]


def test_credits_follow_moves_up_and_are_undone_by_moves_down():
    # proofread, validated, validation undone, proofreading undone, proofread again by someone else
    h = [r(1, "Bot", "01-01", 1), r(2, "Alice", "01-02", 3), r(3, "Bob", "01-03", 4), r(4, "Carol", "01-04", 3),
         r(5, "Carol", "01-05", 1), r(6, "Dan", "01-06", 3)]
    assert [(c.kind, c.user) for c in credits(h)] == [("proofread", "Dan")]
    assert [(c.kind, c.user) for c in credits(h[:3])] == [("proofread", "Alice"), ("validated", "Bob")]
    assert [(c.kind, c.user) for c in credits(h[:4])] == [("proofread", "Alice")]
    # a jump from 1 to 4 is both; a hidden revision keeps the level before it; problematic undoes too
    assert [(c.kind, c.user) for c in credits([r(1, "Bot", "01-01", 1), r(2, "Eve", "01-02", 4)])] == \
        [("proofread", "Eve"), ("validated", "Eve")]
    assert [c.user for c in credits([r(1, "Ann", "01-01", 3), r(2, "X", "01-02", None)])] == ["Ann"]
    assert credits([r(1, "Ann", "01-01", 3), r(2, "X", "01-02", 2)]) == []


def test_summary_numbers_people_and_curve():
    s = summarize(two_works(), wiki="test", bots=["Bot"], now=NOW)
    a, b = s.works
    assert (a.pages, a.not_created, a.with_text, a.proofread, a.validated) == (6, 2, 5, 1, 1)
    assert a.levels == {0: 1, 1: 1, 2: 1, 3: 0, 4: 1}
    assert (a.proofread_share, a.validated_share) == (0.2, 0.2)
    assert (a.problematic_pages, a.not_created_pages, a.last_proofread) == ([3], [5, 6], "2026-10-02T10:00:00Z")
    assert (b.proofread_share, b.not_created_pages) == (0.3333, [2, 3])
    t = s.totals
    assert (t.pages, t.not_created, t.with_text, t.proofread, t.validated, t.proofread_share) == (9, 4, 8, 2, 1, 0.25)
    assert [(c.name, c.proofread, c.validated) for c in s.people] == [("Bob", 1, 1), ("Alice", 1, 0)]
    assert s.people[0].by_period == {"2026-10": {"proofread": 0, "validated": 1},
                                     "2026-11": {"proofread": 1, "validated": 0}}
    assert s.bots == []  # the bot earned nothing
    assert s.timeline == [{"period": "2026-09", "proofread": 2, "validated": 0},
                          {"period": "2026-10", "proofread": 1, "validated": 1},
                          {"period": "2026-11", "proofread": 2, "validated": 1}]
    weekly = summarize(two_works(), wiki="test", by="week", now=NOW).timeline
    assert (weekly[0]["period"], weekly[-1]["period"], len(weekly)) == ("2026-W37", "2026-W47", 11)


def test_csv_and_json_have_the_documented_columns_and_keys():
    s = summarize(two_works(), wiki="test", bots=["Bot"], now=NOW)
    rows = list(csv.DictReader(io.StringIO(report.to_csv(s))))
    assert list(rows[0]) == report.WORK_COLUMNS
    assert rows[0]["index"] == "Index:A.pdf" and rows[0]["level_4"] == "1" and rows[0]["proofread_share"] == "0.2000"
    assert rows[0]["problematic_pages"] == "3" and rows[0]["not_created_pages"] == "5 6"
    people = list(csv.DictReader(io.StringIO(report.to_csv(s, "people"))))
    assert [(p["name"], p["period"], p["proofread"], p["validated"]) for p in people] == \
        [("Bob", "2026-10", "0", "1"), ("Bob", "2026-11", "1", "0"), ("Alice", "2026-09", "1", "0")]
    data = json.loads(report.to_json(s))
    assert set(data) == {"wiki", "generated", "by", "anonymized", "totals", "works", "people", "bots", "timeline",
                         "since", "until", "views_note", "readers", "contributors", "corrections",
                         "corrections_by_month", "forecast_line", "notes"}
    assert data["totals"]["levels"] == {"0": 1, "1": 1, "2": 1, "3": 1, "4": 1}


def test_anonymized_summary_names_nobody_in_any_format():
    s = summarize(two_works(), wiki="test", bots=["Bot"], anonymize=True, now=NOW)
    from rich.console import Console

    console = Console(record=True, width=160, file=io.StringIO())
    for t in report.tables(s):
        console.print(t)
    outputs = [report.to_json(s), report.to_csv(s, "people"), report.to_html(s), report.to_wikitext(s),
               console.export_text()]
    for text in outputs:
        assert "Alice" not in text and "Bob" not in text
        assert "Contributor 1" in text
    assert [c.name for c in s.people] == ["Contributor 1", "Contributor 2"]  # Bob did more: he is number 1


def test_wikitext_block_replaces_only_itself():
    s = summarize(two_works(), wiki="test", now=NOW)
    block = report.to_wikitext(s)
    assert "| [[Index:A.pdf|A.pdf]] || 6 || 2 || 1 || 1 || 1 || 0 || 1 || 20.0% || 20.0% || 2026-10-02" in block
    page = "Intro\n" + report.MARK_START + "\nold table\n" + report.MARK_END + "\nOutro [[Category:X]]"
    new = report.replace_block(page, block)
    assert new == "Intro\n" + block + "\nOutro [[Category:X]]"
    assert report.replace_block(new, block) == new
    assert report.replace_block("Only text", block) == "Only text\n\n" + block + "\n"


def test_fast_path_parses_proofreadpagesinindex_answers():
    # the documented shape: generator=proofreadpagesinindex&prop=info|proofread, formatversion=2
    answers = [{"query": {"pages": [
        {"pageid": 23, "ns": 104, "title": "Page:Sandbox.djvu/1", "index": 1, "lastrevid": 101,
         "proofread": {"quality": 3, "quality_text": "Proofread"}},
        {"ns": 104, "title": "Page:Sandbox.djvu/2", "index": 2, "missing": True},
    ]}, "continue": {"gprppiicontinue": 3}}, {"query": {"pages": [
        {"pageid": 28, "ns": 104, "title": "Page:Sandbox.djvu/3", "index": 3, "lastrevid": 99,
         "proofread": {"quality": 1, "quality_text": "Not proofread"}}]}}]
    listed = parse_pages_in_index(answers, "Page:Sandbox.djvu/")
    assert [(x.n, x.pageid, x.lastrevid) for x in listed] == [(1, 23, 101), (3, 28, 99)]


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        pytest.fail("chromium is not installed: run scripts/setup --test")
    return exe


def _render(page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--no-first-run", f"--user-data-dir={profile}", *args, page.as_uri()],
            capture_output=True, text=True, timeout=90, check=False)


def test_html_report_renders_offline_with_its_numbers_and_charts(tmp_path):
    s = summarize(two_works(), wiki="Test Wikisource", bots=["Bot"], now=NOW)
    page = tmp_path / "report.html"
    page.write_text(report.to_html(s), encoding="utf-8")
    source = page.read_text(encoding="utf-8")
    assert not re.search(r"<script|<link|@import|url\(|src=", source)  # nothing to fetch: works offline
    dom = _render(page, "--dump-dom").stdout
    cards = re.findall(r'<span class="num">([^<]+)</span>', dom)
    assert cards == ["2", "9", "25.0%", "12.5%", "2", "2026-11-01"]
    assert dom.count('class="work-bar"') == 2
    # A: validated, problematic, not proofread, without text, not created; B: proofread, not created
    assert len(re.findall(r'<rect class="seg q', dom)) == 7
    assert len(re.findall(r'<circle class="pt-proofread"', dom)) == 3
    assert 'class="line-validated"' in dom
    assert len(re.findall(r'<rect class="person-bar proofread"', dom)) == 2
    assert "Problematic pages: 3" in dom and "Not created yet: 5-6" in dom
    shot = tmp_path / "report.png"
    _render(page, f"--screenshot={shot}", "--window-size=1100,1900")
    assert shot.stat().st_size > 20_000  # a page with charts, not a blank one


def impact_works() -> list[WorkProgress]:
    """Two works proofread through 2026 (C: steady, D: done and not transcluded), with readers and corrections."""
    from transcribe.progress.credits import Correction

    c_hist = {n: [r(n, "Bot", "01-10", 1)] for n in range(1, 41)}
    for n in range(1, 25):  # Alice proofreads three pages a week from September, Bob validates some
        week = (n - 1) // 3
        c_hist[n].append(Rev(100 + n, "Alice", f"2026-09-{1 + week:02d}T10:00:00Z" if week < 4 else
                             f"2026-{10 + (week - 4) // 4:02d}-{1 + 7 * ((week - 4) % 4):02d}T10:00:00Z", 3))
        if n % 3 == 0:
            c_hist[n].append(Rev(200 + n, "Bob", "2026-11-15T10:00:00Z", 4))
    c = WorkProgress("Index:C.pdf", "C.pdf", 40, c_hist, texts=["The C Book"], file_usage=["frwiki:Livre C"],
                     views={"2026-09": 120, "2026-10": 340, "2026-11": 410},
                     corrections=[Correction(n, f"Page:C.pdf/{n}", n, 100 + n, 1500, 30 + n, "2026-10")
                                  for n in range(1, 25)])
    d = WorkProgress("Index:D.djvu", "D.djvu", 2, {
        1: [r(301, "Bot", "02-01", 1), r(302, "Carol", "03-05", 3)],
        2: [r(303, "Bot", "02-01", 1), r(304, "Carol", "03-06", 3)]}, views={"2026-03": 15})
    return [c, d]


def test_director_report_reads_offline_prints_on_a4_and_links_its_definitions(tmp_path):
    from transcribe.progress.impact import summarize as summarize_impact

    s = summarize_impact(impact_works(), wiki="Test Wikisource", bots=["Bot"], now=NOW)
    assert s.works[1].ready_to_transclude and not s.works[0].ready_to_transclude
    assert s.totals.views == 885 and s.totals.proofread_by not in (None, "done")
    page = tmp_path / "director.html"
    page.write_text(report.to_html(s), encoding="utf-8")
    source = page.read_text(encoding="utf-8")
    assert not re.search(r"<script|<link|@import|url\(|src=", source)  # one file, nothing to fetch
    dom = _render(page, "--dump-dom").stdout
    summary = re.search(r'<section class="summary">(.*?)</section>', dom, re.DOTALL).group(1)
    assert "885 times" in summary and "ready to transclude" in summary and "proofread by 20" in summary
    assert dom.index('class="summary"') < dom.index('class="chart-time"') < dom.index('class="chart-readers"') \
        < dom.index('class="chart-contributors"') < dom.index("<table")  # words, then charts, then tables
    assert 'class="forecast-proofread"' in dom and 'stroke-dasharray="6 4"' in dom
    # one bar per calendar month from the first to the last (March to November), quiet months as 0, not skipped
    bars = re.findall(r'<rect class="bar views"[^>]*><title>(\d{4}-\d\d): ([\d,]+)', dom)
    assert [m for m, _ in bars] == [f"2026-{m:02d}" for m in range(3, 12)]
    assert dict(bars)["2026-06"] == "0" and dict(bars)["2026-11"] == "410"
    links = set(re.findall(r'href="#(def-[a-z-]+)"', dom))
    assert links and links <= set(re.findall(r'id="(def-[a-z-]+)"', dom))  # every definition one click away
    shot, pdf = tmp_path / "director.png", tmp_path / "director.pdf"
    _render(page, f"--screenshot={shot}", "--window-size=1000,1400")
    _render(page, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    assert shot.stat().st_size > 20_000
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:\s+59[45]\.\d+ x 841\.\d+ pts \(A4\)", info)  # @page size: A4
    assert 2 <= int(re.search(r"Pages:\s+(\d+)", info).group(1)) <= 6


def test_impact_in_csv_wikitext_and_a_period():
    from transcribe.progress.impact import summarize as summarize_impact

    works = impact_works()
    s = summarize_impact(works, wiki="test", bots=["Bot"], now=NOW,
                         views_note="page views: not available for this wiki")
    row = next(csv.DictReader(io.StringIO(report.to_csv(s))))
    assert row["views"] == "not available" and row["texts"] == "The C Book" and row["ready_to_transclude"] == "no"
    block = report.to_wikitext(s)
    assert ("| [[Index:D.djvu|D.djvu]] || not available || ready to transclude || 0 || 0 || all proofread; no recent"
            " activity || ") in block
    assert "''page views: not available for this wiki''" in block
    # corrections per month and overall: 24 pages of 1500 characters, 30+n characters changed on page n
    assert s.corrections_by_month == [{"period": "2026-10", "pages": 24, "characters": 36000, "edits": 1020,
                                       "cer": round(1020 / 36000, 4)}]
    assert s.totals.cer == s.works[0].cer == round(1020 / 36000, 4) and s.works[1].cer is None
    # the third quarter only: levels at its end (30 September), credits and readers within it
    q3 = summarize_impact(works, wiki="test", bots=["Bot"], now=NOW, since="2026-07", until="2026-09")
    assert (q3.totals.proofread, q3.totals.validated) == (14, 0)  # 12 of C in September, D's 2 from March
    assert [(c.name, c.proofread) for c in q3.people] == [("Alice", 12)]  # Carol's March pages are not in Q3
    assert q3.totals.views == 120 and [p["period"] for p in q3.readers] == ["2026-09"]
    assert q3.corrections == []  # C's pages were compared in October
    assert q3.timeline[0]["period"] == "2026-07" and q3.timeline[-1]["period"] == "2026-09"
