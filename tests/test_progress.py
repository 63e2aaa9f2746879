"""`transcribe progress` against a real MediaWiki: levels, credits with a revert, collections, incremental runs.

The works are written here directly (tests/progress_helpers.py: the bot creates the pages, Alice and Bob move them
through the levels), so these tests depend on nothing but the test wiki and the progress code.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from progress_helpers import make_work
from typer.testing import CliRunner
from wikiserver import WikiServer, tiny_pdf

from transcribe.cli import app
from transcribe.progress.read import read_works
from transcribe.store import Store
from transcribe.wiki.site import connect

pytestmark = pytest.mark.wiki
runner = CliRunner()
ENV = {"COLUMNS": "160"}


@pytest.fixture(scope="module")
def library(wiki_en_shared: WikiServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Two works in Category:Library Progress on the shared wiki, proofread with a revert.

    Book One.pdf (5 pages): 1-3 at 1 and 4 at 0 by the bot, 5 not created. Alice proofreads 1 and 2 and marks 3
    problematic; Bob validates 1 and sends 2 back to 1 (a revert: Alice's credit for 2 is undone).
    Book Two.pdf (3 pages): the bot saved 1 straight at 3 in September (a bot's credit, kept apart, and the
    start of the curve); Alice proofreads 2.
    """
    wiki = wiki_en_shared
    tmp = tmp_path_factory.mktemp("progress-library")
    make_work(wiki, tmp, "Book One.pdf", 5, {1: 1, 2: 1, 3: 1, 4: 0}, "Category:Library Progress")
    make_work(wiki, tmp, "Book Two.pdf", 3, {1: (3, "2026-09-10T10:00:00Z"), 2: 1, 3: 1}, "Category:Library Progress")
    alice, bob = wiki.human("Alice"), wiki.human("Bob")
    alice.set_page_quality("Page:Book One.pdf/1", 3)
    alice.set_page_quality("Page:Book One.pdf/2", 3)
    alice.set_page_quality("Page:Book One.pdf/3", 2)
    bob.set_page_quality("Page:Book One.pdf/1", 4)
    bob.set_page_quality("Page:Book One.pdf/2", 1)
    alice.set_page_quality("Page:Book Two.pdf/2", 3)
    return {"api": wiki.api_url}


def run_json(*args: str) -> dict:
    result = runner.invoke(app, ["progress", *args, "--format", "json", "-q"], env=ENV)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_one_work_levels_and_credits_with_a_revert(library, tmp_path):
    data = run_json("Index:Book One.pdf", "--wiki", library["api"], "--state", str(tmp_path / "p.db"))
    (work,) = data["works"]
    assert work["index"] == "Index:Book One.pdf"
    assert (work["pages"], work["not_created"]) == (5, 1)
    assert work["levels"] == {"0": 1, "1": 1, "2": 1, "3": 0, "4": 1}
    assert (work["with_text"], work["proofread"], work["validated"]) == (4, 1, 1)
    assert (work["proofread_share"], work["validated_share"]) == (0.25, 0.25)
    assert work["problematic_pages"] == [3] and work["not_created_pages"] == [5]
    assert work["last_proofread"] is not None
    people = {p["name"]: (p["proofread"], p["validated"]) for p in data["people"]}
    assert people == {"Alice": (1, 0), "Bob": (0, 1)}  # Alice's page 2 was sent back: not counted
    assert data["bots"] == []
    (point,) = data["timeline"]
    assert (point["proofread"], point["validated"]) == (1, 1)
    table = runner.invoke(app, ["progress", "Book One.pdf", "-w", library["api"], "--state", str(tmp_path / "p.db")],
                          env=ENV)
    assert table.exit_code == 0, table.output
    row = next(line for line in table.stdout.splitlines() if "Book One.pdf" in line and "│" in line)
    *cells, last = [c.strip() for c in row.split("│")[1:-1]]
    assert cells == ["Book One.pdf", "5", "1", "1", "1", "1", "0", "1", "25.0%", "25.0%"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", last)  # the day of the last proofreading
    assert "Index:Book One.pdf: problematic pages 3" in table.stdout
    assert "Index:Book One.pdf: pages not created yet 5" in table.stdout


def test_a_collection_by_titles_and_by_category_gives_the_same_numbers(library, tmp_path):
    by_titles = run_json("Book One.pdf", "Index:Book Two.pdf", "--wiki", library["api"],
                         "--state", str(tmp_path / "a.db"), "--by", "week")
    by_category = run_json("--category", "Library Progress", "--wiki", library["api"],
                           "--state", str(tmp_path / "b.db"), "--by", "week")
    for data in (by_titles, by_category):
        assert [w["index"] for w in data["works"]] == ["Index:Book One.pdf", "Index:Book Two.pdf"]
        t = data["totals"]
        assert (t["pages"], t["not_created"], t["with_text"], t["proofread"], t["validated"]) == (8, 1, 7, 3, 1)
        assert t["levels"] == {"0": 1, "1": 2, "2": 1, "3": 2, "4": 1}
        assert t["proofread_share"] == round(3 / 7, 4)
        assert {p["name"]: (p["proofread"], p["validated"]) for p in data["people"]} == \
            {"Alice": (2, 0), "Bob": (0, 1)}
        assert [(b["name"], b["proofread"], b["bot"]) for b in data["bots"]] == [("TranscribeBot", 1, True)]
        assert all("-W" in period for p in data["people"] for period in p["by_period"])
        # the curve starts in the week of the bot's September revision and ends with today's numbers
        first, *middle, last = data["timeline"]
        assert first == {"period": "2026-W37", "proofread": 1, "validated": 0}
        assert all((p["proofread"], p["validated"]) == (1, 0) for p in middle)
        assert (last["proofread"], last["validated"]) == (3, 1)
        assert len(data["timeline"]) >= 11  # 2026-W37 .. 2026-W47 at least, every week present


def test_anonymize_hides_names_in_every_format(library, tmp_path):
    state = str(tmp_path / "p.db")
    html = tmp_path / "r.html"
    args = ["progress", "--category", "Category:Library Progress", "--wiki", library["api"], "--state", state,
            "--anonymize", "-q"]
    outputs = [runner.invoke(app, [*args, "--html", str(html)], env=ENV),
               runner.invoke(app, [*args, "--format", "csv", "--rows", "people"], env=ENV),
               runner.invoke(app, [*args, "--format", "json"], env=ENV)]
    assert all(r.exit_code == 0 for r in outputs), [r.output for r in outputs]
    texts = [r.stdout for r in outputs] + [html.read_text(encoding="utf-8")]
    for text in texts:
        for name in ("Alice", "Bob", "TranscribeBot"):
            assert name not in text
    assert "Contributor 1" in texts[0] and "Contributor 2" in texts[0]
    assert "Contributor 1,no," in texts[1] and "Bot 1,yes," in texts[1]
    people = {p["name"]: p["proofread"] for p in json.loads(texts[2])["people"]}
    assert people == {"Contributor 1": 2, "Contributor 2": 0}  # Alice proofread most: she is number 1


def test_second_run_reads_only_what_changed(wiki_en, fault_proxy, tmp_path):
    make_work(wiki_en, tmp_path, "Inc.pdf", 60, {n: 1 for n in range(1, 61)})
    alice = wiki_en.human("Alice")
    alice.set_page_quality("Page:Inc.pdf/7", 3)
    proxy = fault_proxy(wiki_en)
    state = tmp_path / "p.db"

    def run() -> tuple[dict, int]:
        proxy.reset()
        data = run_json("Index:Inc.pdf", "--wiki", proxy.api_url, "--state", str(state))
        return data, proxy.count

    first, first_requests = run()
    assert first["totals"]["proofread"] == 1
    second, second_requests = run()
    assert {k: v for k, v in second.items() if k != "generated"} == \
        {k: v for k, v in first.items() if k != "generated"}
    # siteinfo, the Index and its file, recent changes, the contributors' groups
    assert second_requests <= 4 < first_requests
    # Page 7 edited twice (3 -> 1 -> 3 by Bob), page 9 once: only those are read, with page 7's new history.
    bob = wiki_en.human("Bob")
    bob.set_page_quality("Page:Inc.pdf/7", 1)
    bob.set_page_quality("Page:Inc.pdf/7", 3)
    alice.set_page_quality("Page:Inc.pdf/9", 4)
    third, third_requests = run()
    assert {p["name"]: (p["proofread"], p["validated"]) for p in third["people"]} == \
        {"Alice": (1, 1), "Bob": (1, 0)}
    assert (third["totals"]["proofread"], third["totals"]["validated"]) == (2, 1)
    assert third_requests <= 7  # 6, and one for the texts of the newly proofread pages ("what people corrected")
    # the cache was not fooled: a fresh state gives the very same numbers
    fresh = run_json("Index:Inc.pdf", "--wiki", wiki_en.api_url, "--state", str(tmp_path / "fresh.db"))
    assert fresh["works"] == third["works"] and fresh["people"] == third["people"]


def test_library_api_reads_histories_and_stores_a_snapshot(library, tmp_path):
    site = connect(library["api"])
    with Store(tmp_path / "p.db") as store:
        (work,) = read_works(site, ["File:Book One.pdf"], store=store)
        snaps = store.query("SELECT index_title, pages, not_created, q0, q1, q2, q3, q4 FROM progress_snapshots")
    assert [r.level for r in work.histories[2]] == [1, 3, 1]
    assert [r.user for r in work.histories[2]] == ["TranscribeBot", "Alice", "Bob"]
    assert [tuple(s) for s in snaps] == [("Index:Book One.pdf", 5, 1, 1, 1, 1, 0, 1)]


def test_to_wiki_updates_only_the_block_between_the_markers(library, wiki_en_shared, bot_login, tmp_path):
    bot_login(wiki_en_shared)
    title = "Project:Library Progress/Report"
    wiki_en_shared.human("Alice").edit(title, "Our project.\n\n== Progress ==\n\nSee below.\n[[Category:GLAM]]")
    args = ["progress", "--category", "Library Progress", "--wiki", library["api"],
            "--state", str(tmp_path / "p.db"), "--to-wiki", title, "-q"]
    first = runner.invoke(app, args, env=ENV)
    assert first.exit_code == 0, first.output
    text = wiki_en_shared.page_text(title)
    assert text.startswith("Our project.\n\n== Progress ==\n\nSee below.\n[[Category:GLAM]]\n\n")
    assert text.count("<!-- transcribe progress start -->") == 1
    assert "| [[Index:Book One.pdf|Book One.pdf]] || 5 || 1 || 1 || 1 || 1 || 0 || 1 || 25.0% || 25.0%" in text
    # someone adds a line after the table; the next run (now anonymized) replaces the table only
    wiki_en_shared.human("Bob").edit(title, text + "\nThanks to all volunteers!")
    second = runner.invoke(app, [*args, "--anonymize"], env=ENV)
    assert second.exit_code == 0, second.output
    again = wiki_en_shared.page_text(title)
    assert again.endswith("<!-- transcribe progress end -->\nThanks to all volunteers!")
    assert again.count("<!-- transcribe progress end -->") == 1
    assert "| Contributor 1 || 2 || 0" in again and "Alice" not in again
    assert again.startswith("Our project.\n\n== Progress ==\n\nSee below.\n[[Category:GLAM]]\n\n")
    revs = wiki_en_shared.api(action="query", prop="revisions", titles=title, rvprop="comment|user",
                              rvlimit=5)["query"]["pages"][0]["revisions"]
    assert revs[0]["user"] == "TranscribeBot" and revs[0]["comment"] == "Update proofreading progress"


def test_real_process_csv_and_a_kind_message_for_a_missing_index(library, tmp_path):
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    ok = subprocess.run([sys.executable, "-m", "transcribe", "progress", "Index:Book Two.pdf", "--wiki",
                         library["api"], "--format", "csv"], capture_output=True, text=True, timeout=60, env=env, check=False)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[1].startswith("Index:Book Two.pdf,Book Two.pdf,3,0,0,1,0,2,0,3,2,0,0.6667,")
    assert (tmp_path / "cache" / "transcribe" / "progress.db").is_file()
    bad = subprocess.run([sys.executable, "-m", "transcribe", "progress", "Index:No such book.pdf", "--wiki",
                          library["api"]], capture_output=True, text=True, timeout=60, env=env, check=False)
    assert bad.returncode == 7
    assert "Index:No such book.pdf does not exist" in bad.stderr and "Check the spelling" in bad.stderr


def test_french_wiki_index_namespace_is_livre(wiki_fr, tmp_path):
    make_work(wiki_fr, tmp_path, "Livre un.pdf", 2, {1: 1, 2: 1})
    wiki_fr.human("Alice").set_page_quality("Page:Livre un.pdf/2", 3)
    data = run_json("Index:Livre un.pdf", "--wiki", wiki_fr.api_url, "--state", str(tmp_path / "p.db"))
    (work,) = data["works"]
    assert work["index"] == "Livre:Livre un.pdf"
    assert (work["pages"], work["proofread"], work["proofread_share"]) == (2, 1, 0.5)


def test_manifest_reports_its_works_and_keeps_the_cache_in_its_state(library, tmp_path):
    tiny_pdf(tmp_path / "one.pdf", 5)
    tiny_pdf(tmp_path / "two.pdf", 3)
    manifest = tmp_path / "books.toml"
    manifest.write_text(f"""[defaults]
wiki = "{library['api']}"
licence = "PD-old-70"

[[work]]
id = "one"
scan = "one.pdf"
title = "Book One"
language = "en"
file_name = "Book One.pdf"

[[work]]
id = "two"
scan = "two.pdf"
title = "Book Two"
language = "en"
file_name = "Book Two.pdf"
""", encoding="utf-8")
    data = run_json("--manifest", str(manifest))
    assert [w["index"] for w in data["works"]] == ["Index:Book One.pdf", "Index:Book Two.pdf"]
    assert (data["totals"]["pages"], data["totals"]["proofread"], data["totals"]["validated"]) == (8, 3, 1)
    with Store(tmp_path / "books.transcribe.db") as store:
        assert len(store.query("SELECT * FROM progress_works")) == 2
