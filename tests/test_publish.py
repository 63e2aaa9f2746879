"""`transcribe publish` against a real local MediaWiki: what lands on the wiki, and what is never touched."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from publish_helpers import make_work, small_pdf
from typer.testing import CliRunner
from wikiserver import FaultProxy, WikiServer

from transcribe.cli import app
from transcribe.store import Store
from transcribe.wiki import pagetext as pt
from transcribe.wiki.publish import PublishReport, publish_work
from transcribe.wiki.site import Wiki, connect
from transcribe.work import load_work

pytestmark = pytest.mark.wiki
runner = CliRunner()
NAME = "Annotationes über den Appendicem (1656).pdf"


@pytest.fixture
def work(tmp_path: Path, scans: tuple[Path, Path]) -> Path:
    return make_work(tmp_path / "work", pdf=scans[1], statuses={4: "blank"})


def bot(url: str, wiki: WikiServer) -> Wiki:
    site = connect(url)
    site.login(wiki.bot_user, wiki.bot_password)
    return site


def publish(work_dir: Path, site: Wiki, **kw: Any) -> PublishReport:
    with Store(work_dir / "pages" / "transcribe.db") as store:
        return publish_work(work_dir / "glauber.pdf", work_dir / "pages", load_work(work_dir), site,
                            store=store, work=store.work("."), **kw)


def status(report: PublishReport) -> dict[int | None, str]:
    return {o.n: o.status for o in report.outcomes}


def revisions(wiki: WikiServer, title: str) -> list[dict[str, Any]]:
    data = wiki.api(action="query", prop="revisions", titles=title, rvprop="ids|user|content", rvslots="main",
                    rvlimit="max")
    return list(data["query"]["pages"][0].get("revisions", []))


def set_texts(work_dir: Path, texts: dict[int, str]) -> None:
    for n, text in texts.items():
        (work_dir / "pages" / f"{n:04d}.txt").write_text(text, encoding="utf-8")


# -- a first publish, and a re-run ---------------------------------------------------------------------------

def test_first_publish_puts_file_index_and_pages_at_their_levels_and_a_rerun_changes_nothing(
        wiki_en: WikiServer, fault_proxy: Callable[[WikiServer], FaultProxy], tmp_path: Path,
        scans: tuple[Path, Path]) -> None:
    work_dir = make_work(tmp_path / "work", pdf=scans[1], statuses={4: "blank", 5: "failed"})
    proxy = fault_proxy(wiki_en)
    site = bot(proxy.api_url, wiki_en)
    proxy.reset()
    report = publish(work_dir, site)
    assert report.file_status == "uploaded" and report.file_name == NAME
    assert status(report) == {None: "created", 1: "created", 2: "created", 3: "created", 4: "created",
                              5: "skipped"}
    assert "OCR failed" in report.outcomes[-1].reason
    # the file, with its description and licence
    info = wiki_en.api(action="query", titles=f"File:{NAME}", prop="imageinfo", iiprop="size|sha1")
    assert info["query"]["pages"][0]["imageinfo"][0]["size"] == scans[1].stat().st_size
    assert "{{PD-old-70}}" in (wiki_en.page_text(f"File:{NAME}") or "")
    # the Index, through the wiki's own fields
    fields = pt.parse_index(wiki_en.page_text(f"Index:{NAME}") or "")
    assert fields["Title"] == "Annotationes über den Appendicem" and fields["Progress"] == "C"
    assert fields["Pages"] == "<pagelist 1=10 />" and fields["Address"] == "Amsterdam"
    # the pages, read back: OCR text at 1 by the bot, the blank page at 0, nothing for the failed page
    p1 = pt.parse_page(wiki_en.page_text(f"Page:{NAME}/1") or "")
    assert (p1.level, p1.user) == (1, "TranscribeBot")
    assert p1.body.startswith("Annotationes vber den Appendicem\n10\n")
    assert pt.parse_page(wiki_en.page_text(f"Page:{NAME}/4") or "").level == 0
    assert wiki_en.page_text(f"Page:{NAME}/5") is None
    with Store(work_dir / "pages" / "transcribe.db") as store:  # every decision is in the state
        assert [tuple(r) for r in store.query("SELECT filename, status FROM uploads")] == [(NAME, "uploaded")]
        rows = {r["n"]: (r["status"], r["reason"]) for r in store.query("SELECT * FROM edits")}
    assert rows[1] == ("created", None) and rows[5][0] == "skipped" and "OCR failed" in rows[5][1]
    edits = proxy.calls(action="edit")
    assert edits == 5  # the Index and four pages, one request each
    assert proxy.count <= edits + 6  # + a few batched reads, the token and the upload

    # the same command again: nothing to write, a handful of reads
    proxy.reset()
    again = publish(work_dir, site)
    assert set(status(again).values()) == {"unchanged", "skipped"}
    assert again.file_status == "present"
    assert proxy.calls(action="edit") == 0 and proxy.calls(action="upload") == 0
    assert proxy.calls(titles="MediaWiki:Proofreadpage_index_data_config") == 0  # read once per connection
    assert proxy.count <= 4
    assert len(revisions(wiki_en, f"Page:{NAME}/1")) == 1


def test_french_wiki_uses_livre_and_its_own_index_fields(wiki_fr: WikiServer, tmp_path: Path,
                                                         scans: tuple[Path, Path]) -> None:
    work_dir = make_work(tmp_path / "work", pdf=scans[1], language="fr")
    report = publish(work_dir, bot(wiki_fr.api_url, wiki_fr))
    assert report.index_title == f"Livre:{NAME}"
    fields = pt.parse_index(wiki_fr.page_text(f"Livre:{NAME}") or "")
    assert fields["Titre"] == "Annotationes über den Appendicem" and fields["Annee"] == "1656"
    assert fields["Avancement"] == "C" and fields["Lieu"] == "Amsterdam"
    assert fields["Bibliotheque"] == "Test Library"
    assert pt.parse_page(wiki_fr.page_text(f"Page:{NAME}/5") or "").level == 1


# -- never overwriting people's work -------------------------------------------------------------------------

def test_update_ocr_replaces_only_pages_nobody_else_touched(wiki_en: WikiServer, work: Path) -> None:
    site = bot(wiki_en.api_url, wiki_en)
    publish(work, site)
    alice = wiki_en.human("Alice")
    alice.set_page_quality(f"Page:{NAME}/2", 3)
    before = wiki_en.page_text(f"Page:{NAME}/2")
    set_texts(work, {1: "better OCR of page one\n", 2: "better OCR of page two\n"})

    plain = publish(work, site)
    assert status(plain)[1] == "skipped" and "--update-ocr" in plain.outcomes[1].reason
    assert "Alice" in plain.outcomes[2].reason

    report = publish(work, site, update_ocr=True)
    assert status(report)[1] == "updated"
    assert status(report)[2] == "skipped" and "edited by Alice" in report.outcomes[2].reason
    assert pt.parse_page(wiki_en.page_text(f"Page:{NAME}/1") or "").body == "better OCR of page one"
    assert wiki_en.page_text(f"Page:{NAME}/2") == before  # Alice's page is exactly as she left it
    assert status(report)[3] == "unchanged"


def test_update_ocr_never_replaces_a_human_fix_that_left_the_page_at_level_1(wiki_en: WikiServer,
                                                                              work: Path) -> None:
    # Bob fixes a typo in a page this tool published, and leaves it "Not proofread": it is his work all the same.
    site = bot(wiki_en.api_url, wiki_en)
    publish(work, site)
    title = f"Page:{NAME}/1"
    ours = pt.parse_page(wiki_en.page_text(title) or "")
    fixed = pt.build_page(ours.body.replace("Annotationes", "ANNOTATIONES", 1), level=1, user="Bob")
    wiki_en.human("Bob").edit(title, fixed)
    set_texts(work, {1: "better OCR of page one\n"})

    report = publish(work, site, update_ocr=True)
    assert status(report)[1] == "skipped" and "edited by Bob" in report.outcomes[1].reason
    assert wiki_en.page_text(title) == fixed


def test_a_human_edit_landing_between_read_and_write_wins(wiki_en: WikiServer, tmp_path: Path,
                                                          scans: tuple[Path, Path]) -> None:
    work_dir = make_work(tmp_path / "work", pdf=scans[1], statuses={3: "failed"})
    site = bot(wiki_en.api_url, wiki_en)
    publish(work_dir, site)
    # new OCR: pages 1 and 2 change further down the page, and page 3 can now be created
    for n in (1, 2):
        p = work_dir / "pages" / f"{n:04d}.txt"
        p.write_text(p.read_text(encoding="utf-8").rstrip() + "\nA last line the new OCR found.\n", encoding="utf-8")
    set_texts(work_dir, {3: "page three\n"})
    (work_dir / "pages" / "ocr.json").unlink()  # statuses from the text files now
    alice = wiki_en.human("Alice")
    landed: dict[str, str] = {}

    def alice_meanwhile() -> None:
        # Alice proofreads page 1 (only its first line changes) and types page 3, after our read
        alice.set_page_quality(f"Page:{NAME}/1", 3)
        alice.edit(f"Page:{NAME}/3", '<noinclude><pagequality level="3" user="Alice" /></noinclude>'
                                     "Typed by Alice<noinclude></noinclude>")
        landed["1"] = wiki_en.page_text(f"Page:{NAME}/1") or ""
        landed["3"] = wiki_en.page_text(f"Page:{NAME}/3") or ""

    report = publish(work_dir, site, update_ocr=True, after_read=alice_meanwhile)
    st = status(report)
    assert st[1] == "skipped" and "Alice" in report.outcomes[1].reason
    assert st[3] == "skipped" and "created it while" in report.outcomes[3].reason
    assert st[2] == "updated"
    # whatever MediaWiki did with our edit (conflict, or a merge we undid), Alice's text is what stands
    assert wiki_en.page_text(f"Page:{NAME}/1") == landed["1"]
    assert pt.parse_page(landed["1"]).level == 3
    assert wiki_en.page_text(f"Page:{NAME}/3") == landed["3"]


def test_same_scan_already_uploaded_under_another_name_is_reused(wiki_en: WikiServer, work: Path,
                                                                 bot_login: Callable[[WikiServer], None]) -> None:
    wiki_en.human("Bob").upload(work / "glauber.pdf", "Glauber scan from the library.pdf", text="{{PD-old-70}}")
    bot_login(wiki_en)
    res = runner.invoke(app, ["publish", str(work), "--wiki", wiki_en.api_url])
    assert res.exit_code == 0, res.output
    assert "already on" in res.stdout and "File:Glauber scan from the library.pdf" in res.stdout
    assert pt.parse_page(wiki_en.page_text("Page:Glauber scan from the library.pdf/1") or "").level == 1
    assert wiki_en.page_text("Index:Glauber scan from the library.pdf") is not None
    files = wiki_en.api(action="query", list="allimages")["query"]["allimages"]
    assert [f["name"] for f in files] == ["Glauber_scan_from_the_library.pdf"]  # no second copy


def test_a_name_taken_by_a_different_file_is_refused_before_anything_is_written(
        wiki_en: WikiServer, work: Path, scans: tuple[Path, Path], bot_login: Callable[[WikiServer], None],
        tmp_path: Path) -> None:
    other = tmp_path / "other.pdf"
    other.write_bytes(small_pdf(scans[0], tmp_path, pages=2).read_bytes())
    wiki_en.human("Bob").upload(other, NAME)
    bot_login(wiki_en)
    res = runner.invoke(app, ["publish", str(work), "--wiki", wiki_en.api_url])
    assert res.exit_code == 9, res.output
    assert "is a different file" in res.stderr and "file_name" in res.stderr
    assert wiki_en.page_text(f"Index:{NAME}") is None and wiki_en.page_text(f"Page:{NAME}/1") is None


def test_no_licence_no_upload(wiki_en: WikiServer, tmp_path: Path, scans: tuple[Path, Path],
                              bot_login: Callable[[WikiServer], None]) -> None:
    work_dir = make_work(tmp_path / "work", pdf=scans[1], licence="")
    bot_login(wiki_en)
    res = runner.invoke(app, ["publish", str(work_dir), "--wiki", wiki_en.api_url])
    assert res.exit_code == 10, res.output
    assert "never uploaded without one" in res.stderr and 'licence = "PD-old-70"' in res.stderr
    assert wiki_en.api(action="query", list="allimages")["query"]["allimages"] == []


# -- interruptions ---------------------------------------------------------------------------------------------

def test_the_wiki_going_away_mid_run_exits_7_and_the_same_command_finishes(
        wiki_en: WikiServer, fault_proxy: Callable[[WikiServer], FaultProxy], tmp_path: Path,
        scans: tuple[Path, Path], transcribe_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work_dir = make_work(tmp_path / "work", pdf=small_pdf(scans[0], tmp_path, pages=12), pages=12)
    proxy = fault_proxy(wiki_en)
    monkeypatch.setenv("TRANSCRIBE_BOT_USER", wiki_en.bot_user)
    monkeypatch.setenv("TRANSCRIBE_BOT_PASSWORD", wiki_en.bot_password)
    proxy.drop_after(14)  # login, reads, the upload and a few edits get through; then the wiki is gone
    res = runner.invoke(app, ["publish", str(work_dir), "--wiki", proxy.api_url])
    assert res.exit_code == 7, res.output
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "run the same command again" in errors[0]
    with Store(work_dir / "pages" / "transcribe.db") as store:
        done = store.query("SELECT count(*) FROM edits WHERE status = 'created'")[0][0]
    assert 1 <= done < 13
    proxy.heal()
    res = runner.invoke(app, ["publish", str(work_dir), "--wiki", proxy.api_url])
    assert res.exit_code == 0, res.output
    for n in range(1, 13):
        revs = revisions(wiki_en, f"Page:{NAME}/{n}")
        assert len(revs) == 1, f"page {n} has {len(revs)} revisions"
    assert len(wiki_en.api(action="query", list="allimages")["query"]["allimages"]) == 1


def test_a_run_killed_half_way_resumes_without_duplicates(wiki_en: WikiServer, tmp_path: Path,
                                                          scans: tuple[Path, Path],
                                                          bot_login: Callable[[WikiServer], None],
                                                          transcribe_config: Path) -> None:
    pages = 16
    work_dir = make_work(tmp_path / "work", pdf=small_pdf(scans[0], tmp_path, pages=pages), pages=pages)
    bot_login(wiki_en)
    env = dict(os.environ, TRANSCRIBE_THROTTLE="0.15", TRANSCRIBE_CONFIG_DIR=str(transcribe_config))
    proc = subprocess.Popen([sys.executable, "-m", "transcribe", "publish", str(work_dir), "--wiki",
                             wiki_en.api_url], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    prefix = NAME + "/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        got = wiki_en.api(action="query", list="allpages", apnamespace="104", apprefix=prefix)
        if len(got["query"]["allpages"]) >= 4:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)

    def count() -> int:
        return len(wiki_en.api(action="query", list="allpages", apnamespace="104", apprefix=prefix)
                   ["query"]["allpages"])

    # The wiki finishes an edit whose client was killed mid-request: count once it has settled.
    made, settled = count(), time.monotonic() + 2
    while time.monotonic() < settled:
        time.sleep(0.25)
        if (now := count()) != made:
            made, settled = now, time.monotonic() + 2
    assert 4 <= made < pages, "the run was not killed half-way"
    res = subprocess.run([sys.executable, "-m", "transcribe", "publish", str(work_dir), "--wiki", wiki_en.api_url,
                          "--report", str(tmp_path / "report.json")], env=dict(env, TRANSCRIBE_THROTTLE="0"),
                         capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    for n in range(1, pages + 1):
        assert len(revisions(wiki_en, f"Page:{NAME}/{n}")) == 1
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    statuses = [o["status"] for o in report["outcomes"] if o["n"]]
    assert statuses.count("created") == pages - made and report["file_status"] == "present"
    assert "secret" not in res.stderr and wiki_en.bot_password not in (tmp_path / "report.json").read_text()


# -- dry run, failures, the report ---------------------------------------------------------------------------

def test_dry_run_says_what_would_happen_and_writes_nothing(wiki_en: WikiServer, work: Path,
                                                          transcribe_config: Path) -> None:
    res = runner.invoke(app, ["publish", str(work), "--wiki", wiki_en.api_url, "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "Dry run, nothing was written" in res.stdout and "would upload glauber.pdf" in res.stdout
    assert "5 would create" in res.stdout
    assert wiki_en.page_text(f"Index:{NAME}") is None
    assert wiki_en.api(action="query", list="allimages")["query"]["allimages"] == []
    assert not (work / "pages" / "transcribe.db").exists()
    # with part of it on the wiki, the dry run reads what exists and says exactly what it would skip
    alice = wiki_en.human("Alice")
    alice.edit(f"Page:{NAME}/2", "typed by hand")
    res = runner.invoke(app, ["publish", str(work), "--wiki", wiki_en.api_url, "--dry-run"])
    assert "page 2 would skip: edited by Alice" in res.stdout and "4 would create" in res.stdout
    assert wiki_en.page_text(f"Page:{NAME}/2") == "typed by hand"


def test_dry_run_without_the_wiki_lists_the_plan(work: Path, transcribe_config: Path) -> None:
    res = runner.invoke(app, ["publish", str(work), "--wiki", "http://127.0.0.1:9/api.php", "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "cannot read" in res.stderr and "5 would create" in res.stdout


def test_a_page_the_wiki_refuses_is_reported_and_exits_6(wiki_en: WikiServer, work: Path, tmp_path: Path,
                                                         bot_login: Callable[[WikiServer], None]) -> None:
    admin = wiki_en.human("Admin")
    r = admin._post(action="protect", title=f"Page:{NAME}/3", protections="create=sysop", token=admin.csrf())
    assert "error" not in r, r
    bot_login(wiki_en)
    report_file = tmp_path / "r.json"
    res = runner.invoke(app, ["--verbose", "publish", str(work), "--wiki", wiki_en.api_url,
                              "--report", str(report_file)])
    assert res.exit_code == 6, res.output
    assert "page 3 failed" in res.stdout and "1 page(s) could not be written" in res.stderr
    assert f"created\tPage:{NAME}/1" in res.stdout  # --verbose lists every page on stdout
    outcomes = {o["n"]: o["status"] for o in json.loads(report_file.read_text())["outcomes"]}
    assert outcomes == {None: "created", 1: "created", 2: "created", 3: "failed", 4: "created", 5: "created"}
    assert pt.parse_page(wiki_en.page_text(f"Page:{NAME}/4") or "").level == 0
