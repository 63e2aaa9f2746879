"""The Commons path, the way Wikimedia wikis work: the scan on a Commons-like wiki, the Index and Pages on a
Wikisource that reads its files from there (`$wgForeignFileRepos`, see tests/wikiserver.py). Real MediaWikis,
two `php -S` servers; nothing faked."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from publish_helpers import make_work, render_images
from typer.testing import CliRunner
from wikiserver import FaultProxy, WikiServer, tiny_pdf

from transcribe import fsutil
from transcribe.cli import app
from transcribe.wiki.site import connect

pytestmark = pytest.mark.wiki
runner = CliRunner()
NAME = "Annotationes über den Appendicem (1656).pdf"
EXTRA = """translator = "A. Translator"
editor = "E. Ditor"
illustrator = "I. Llustrator"
subtitle = "Das ist: eine Erklärung"
volume = "II"
edition = "2nd"
printer = "P. Rinter"
oclc = "12345678"
isbn = "978-3-16-148410-0"
description = "Glauber's notes on the appendix."
source_url = "https://library.example/glauber"
categories = ["Glauber collection", "Alchemy books"]
"""


@pytest.fixture
def logged_in(bot_login: Callable[[WikiServer], None], wiki_en_commons: WikiServer, commons: WikiServer) -> None:
    bot_login(wiki_en_commons)
    bot_login(commons)


def file_page(wiki: WikiServer, name: str) -> dict:
    data = wiki.api(action="query", prop="imageinfo", iiprop="sha1|size|url", titles=f"File:{name}")
    return dict(data["query"]["pages"][0])


# -- the test wikis themselves ----------------------------------------------------------------------------------

def test_the_wikisource_shows_commons_files_with_their_page_count_and_holds_no_copy(
        wiki_en_commons: WikiServer, commons: WikiServer, tmp_path: Path) -> None:
    pdf = tiny_pdf(tmp_path / "b.pdf", 4, seed="commons")
    commons.human("Alice").upload(pdf, "Book.pdf", text="{{Book|Title=B}}\n{{PD-old-70}}")
    page = file_page(wiki_en_commons, "Book.pdf")
    assert page["imagerepository"] == "shared" and page["imageinfo"][0]["pagecount"] == 4
    assert page["imageinfo"][0]["sha1"] == fsutil.sha1_file(pdf)
    assert wiki_en_commons.local_files() == [] and commons.local_files() == ["Book.pdf"]
    # the repository is found from the Wikisource itself
    site = connect(wiki_en_commons.api_url)
    assert site.shared_repo is not None and site.shared_repo.api_url == commons.api_url


# -- publishing to Commons --------------------------------------------------------------------------------------

def test_publish_puts_the_scan_on_commons_and_the_index_and_pages_on_the_wikisource(
        wiki_en_commons: WikiServer, commons: WikiServer, logged_in: None, tmp_path: Path,
        scans: tuple[Path, Path]) -> None:
    work = make_work(tmp_path / "work", pdf=scans[1], extra=EXTRA)
    res = runner.invoke(app, ["publish", str(work), "--wiki", wiki_en_commons.api_url])
    assert res.exit_code == 0, res.output
    assert f"to 127.0.0.1:{commons.port} (the file repository of" in res.stdout
    assert "the file has 5 page(s)" in res.stdout
    # the scan is on Commons, once, byte for byte; the Wikisource has no copy and shows Commons' file
    versions = commons.file_versions(NAME)
    assert len(versions) == 1 and versions[0]["sha1"] == fsutil.sha1_file(scans[1])
    assert versions[0]["user"] == commons.bot_name
    assert wiki_en_commons.local_files() == []
    page = file_page(wiki_en_commons, NAME)
    assert page["imagerepository"] == "shared"
    # the file page: {{Book}} with every field, the licence, the categories
    desc = commons.page_text(f"File:{NAME}") or ""
    for line in (" |Author=Johann Rudolf Glauber", " |Translator=A. Translator", " |Editor=E. Ditor",
                 " |Illustrator=I. Llustrator", " |Title=Annotationes über den Appendicem",
                 " |Subtitle=Das ist: eine Erklärung", " |Volume=II", " |Edition=2nd", " |Publisher=Jansson",
                 " |Printer=P. Rinter", " |Date=1656", " |City=Amsterdam", " |Language=en",
                 " |Description=Glauber's notes on the appendix.", " |Source=https://library.example/glauber",
                 " |Institution=Test Library", f" |Wikisource=s:en:Index:{NAME}", " |OCLC=12345678",
                 " |ISBN=978-3-16-148410-0", "{{PD-old-70}}", "[[Category:Test Library]]",
                 "[[Category:Glauber collection]]", "[[Category:Alchemy books]]"):
        assert line in desc, line
    assert "Uncategorized" not in desc
    cats = commons.api(action="query", prop="categories", titles=f"File:{NAME}")["query"]["pages"][0]["categories"]
    assert {c["title"] for c in cats} >= {"Category:Test Library", "Category:PD-old-70"}
    # the Index and the pages on the Wikisource, nothing of them on Commons
    assert "Annotationes" in (wiki_en_commons.page_text(f"Index:{NAME}") or "")
    assert wiki_en_commons.page_text(f"Page:{NAME}/5") is not None
    assert commons.page_text(f"Page:{NAME}/1") is None and commons.page_text(f"Index:{NAME}") is None
    # a second run changes nothing and uploads nothing
    res = runner.invoke(app, ["publish", str(work), "--wiki", wiki_en_commons.api_url])
    assert res.exit_code == 0 and "already on" in res.stdout and "0 created" in res.stdout, res.output
    assert len(commons.file_versions(NAME)) == 1


def test_a_scan_already_on_commons_under_another_name_is_reused(
        wiki_en_commons: WikiServer, commons: WikiServer, logged_in: None, tmp_path: Path,
        scans: tuple[Path, Path]) -> None:
    commons.human("Alice").upload(scans[1], "Glauber 1656 scan.pdf", text="{{Book|Title=G}}\n{{PD-scan}}")
    work = make_work(tmp_path / "work", pdf=scans[1])
    res = runner.invoke(app, ["publish", str(work), "--wiki", wiki_en_commons.api_url])
    assert res.exit_code == 0, res.output
    assert "the same scan is already on" in res.stdout and "File:Glauber 1656 scan.pdf" in res.stdout
    assert commons.file_versions(NAME) == [] and len(commons.file_versions("Glauber 1656 scan.pdf")) == 1
    assert wiki_en_commons.page_text("Index:Glauber 1656 scan.pdf") is not None
    assert wiki_en_commons.page_text("Page:Glauber 1656 scan.pdf/1") is not None


def test_a_name_taken_on_commons_by_another_file_is_refused_with_exit_9(
        wiki_en_commons: WikiServer, commons: WikiServer, logged_in: None, tmp_path: Path,
        scans: tuple[Path, Path]) -> None:
    commons.human("Bob").upload(tiny_pdf(tmp_path / "other.pdf", 2, seed="other"), NAME, text="{{PD-scan}}")
    work = make_work(tmp_path / "work", pdf=scans[1])
    res = runner.invoke(app, ["publish", str(work), "--wiki", wiki_en_commons.api_url])
    assert res.exit_code == 9, res.output
    assert "is a different file" in res.stderr and "file_name" in res.stderr
    assert len(commons.file_versions(NAME)) == 1 and commons.file_versions(NAME)[0]["user"] == "Bob"
    assert wiki_en_commons.page_text(f"Index:{NAME}") is None


def test_a_local_file_on_the_wikisource_hiding_the_commons_name_is_refused(
        wiki_en_commons: WikiServer, commons: WikiServer, logged_in: None, tmp_path: Path,
        scans: tuple[Path, Path]) -> None:
    wiki_en_commons.human("Alice").upload(tiny_pdf(tmp_path / "local.pdf", 5, seed="local"), NAME)
    work = make_work(tmp_path / "work", pdf=scans[1])
    res = runner.invoke(app, ["publish", str(work), "--wiki", wiki_en_commons.api_url])
    assert res.exit_code == 9, res.output
    assert "as a local file: it would hide the file" in res.stderr and "delete the local copy" in res.stderr
    assert commons.file_versions(NAME) == [] and wiki_en_commons.page_text(f"Index:{NAME}") is None


def test_files_to_commons_goes_only_where_the_wiki_says(wiki_en: WikiServer, bot_login: Callable[[WikiServer], None],
                                                        tmp_path: Path, scans: tuple[Path, Path]) -> None:
    # a wiki with no shared repository: no assumed commons.wikimedia.org, a clear usage error
    bot_login(wiki_en)
    work = make_work(tmp_path / "work", pdf=scans[1])
    res = runner.invoke(app, ["publish", str(work), "--wiki", wiki_en.api_url, "--files-to", "commons"])
    assert res.exit_code == 2, res.output
    assert "reads no shared file repository" in res.stderr and "--files-to local" in res.stderr
    assert "wikimedia.org" not in res.output


def test_dry_run_says_which_wiki_gets_the_file_under_what_name_with_what_description(
        wiki_en_commons: WikiServer, commons: WikiServer, tmp_path: Path, transcribe_config: Path,
        scans: tuple[Path, Path]) -> None:
    work = make_work(tmp_path / "work", pdf=scans[1], extra=EXTRA)
    res = runner.invoke(app, ["publish", str(work), "--wiki", wiki_en_commons.api_url, "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "would upload glauber.pdf (" in res.stdout and f"MB) to 127.0.0.1:{commons.port}" in res.stdout
    assert f"as File:{NAME}" in res.stdout and f"file description page (File:{NAME}):" in res.stdout
    assert "    {{Book" in res.stdout and f"     |Wikisource=s:en:Index:{NAME}" in res.stdout
    assert "    [[Category:Alchemy books]]" in res.stdout
    assert commons.file_versions(NAME) == [] and wiki_en_commons.page_text(f"Index:{NAME}") is None


# -- refusals come before the network, the same in a dry run ------------------------------------------------------

def test_no_licence_is_refused_with_exit_10_in_a_dry_run_and_offline_too(
        wiki_en_commons: WikiServer, commons: WikiServer, logged_in: None, tmp_path: Path,
        scans: tuple[Path, Path]) -> None:
    work = make_work(tmp_path / "work", pdf=scans[1], licence="")
    runs = {
        "real": ["publish", str(work), "--wiki", wiki_en_commons.api_url],
        "dry": ["publish", str(work), "--wiki", wiki_en_commons.api_url, "--dry-run"],
        "offline": ["publish", str(work), "--wiki", "http://127.0.0.1:9/api.php"],
        "offline dry": ["publish", str(work), "--wiki", "http://127.0.0.1:9/api.php", "--dry-run"],
    }
    messages = set()
    for what, args in runs.items():
        res = runner.invoke(app, args)
        assert res.exit_code == 10, (what, res.output)
        errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "never uploaded without one" in errors[0], (what, res.stderr)
        messages.add(errors[0])
    assert len(messages) == 1  # the same message every time
    assert commons.file_versions(NAME) == []


def test_offline_dry_run_heading_reads_well(tmp_path: Path, transcribe_config: Path,
                                            scans: tuple[Path, Path]) -> None:
    work = make_work(tmp_path / "work", pdf=scans[1])
    res = runner.invoke(app, ["publish", str(work), "--wiki", "http://127.0.0.1:9/api.php", "--dry-run"])
    assert res.exit_code == 0, res.output
    assert ('Dry run, nothing was written: "Annotationes über den Appendicem" for http://127.0.0.1:9/api.php, '
            "which could not be reached") in res.stdout
    assert "(not reachable)" not in res.stdout and "|Wikisource=s:en:Index:" in res.stdout


# -- login: one command for both wikis ----------------------------------------------------------------------------

def test_login_logs_in_to_the_wikisource_and_its_commons_and_says_which_refused(
        wiki_en_commons: WikiServer, commons: WikiServer, transcribe_config: Path) -> None:
    args = ["login", "--wiki", wiki_en_commons.api_url, "--user", wiki_en_commons.bot_user, "--password-stdin"]
    res = runner.invoke(app, args, input=wiki_en_commons.bot_password + "\n")
    assert res.exit_code == 0, res.output
    assert f"Logged in to 127.0.0.1:{wiki_en_commons.port}" in res.output
    assert f"and to 127.0.0.1:{commons.port}" in res.output
    from transcribe.wiki.credentials import load_bot_password

    assert load_bot_password(commons.api_url) is not None and load_bot_password(wiki_en_commons.api_url) is not None
    assert wiki_en_commons.bot_password not in res.output
    # the Commons side revokes the bot password: the login says it is Commons that refused
    commons.drop_bot_password()
    res = runner.invoke(app, args, input=wiki_en_commons.bot_password + "\n")
    assert res.exit_code == 8, res.output
    assert f"127.0.0.1:{commons.port}" in res.stderr and "refused" in res.stderr
    assert f"Logged in to 127.0.0.1:{wiki_en_commons.port}" in res.output  # the Wikisource did accept it


# -- a large scan: chunks, the stash, asynchronous assembly, a killed run ---------------------------------------

def noise_pdf(path: Path, pages: int = 5, size: tuple[int, int] = (420, 560)) -> Path:
    """A PDF of `pages` pages of random pixels: a few MB that do not compress."""
    import io
    import random

    import img2pdf
    from PIL import Image

    rng = random.Random(11)
    images = []
    for _ in range(pages):
        im = Image.frombytes("RGB", size, bytes(rng.getrandbits(8) for _ in range(size[0] * size[1] * 3)))
        buf = io.BytesIO()
        im.save(buf, "PNG", dpi=(72, 72))
        images.append(buf.getvalue())
    path.write_bytes(img2pdf.convert(images))
    return path


def test_chunked_upload_is_assembled_asynchronously_and_the_client_polls(
        commons: WikiServer, fault_proxy: Callable[[WikiServer], FaultProxy], tmp_path: Path) -> None:
    pdf = noise_pdf(tmp_path / "big.pdf", pages=2, size=(300, 300))
    proxy = fault_proxy(commons)
    site = connect(proxy.api_url)
    site.login(commons.bot_user, commons.bot_password)
    chunks: list[int] = []
    result = site.upload(pdf, "Big.pdf", text="{{PD-scan}}", chunk_size=100_000, chunk_threshold=0,
                         on_chunk=lambda key, offset: chunks.append(offset))
    assert result.ok and result.pagecount == 2
    assert len(chunks) >= 5 and chunks[-1] == pdf.stat().st_size
    assert proxy.calls(action="upload", checkstatus="1") >= 1  # the wiki answered 'Poll' and was polled
    assert commons.file_versions("Big.pdf")[0]["sha1"] == fsutil.sha1_file(pdf)


def test_a_publish_killed_between_chunks_resumes_from_the_stash(
        wiki_en_commons: WikiServer, commons: WikiServer, logged_in: None, tmp_path: Path,
        transcribe_config: Path) -> None:
    pdf = noise_pdf(tmp_path / "scan.pdf")
    size = pdf.stat().st_size
    assert size > 3_000_000
    work = make_work(tmp_path / "work", pdf=pdf)
    chunk = 256 * 1024
    env = dict(os.environ, TRANSCRIBE_CONFIG_DIR=str(transcribe_config), TRANSCRIBE_CHUNK_SIZE=str(chunk))
    cmd = [sys.executable, "-m", "transcribe", "publish", str(work), "--wiki", wiki_en_commons.api_url]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    db = work / "pages" / "transcribe.db"
    offset = 0
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and offset < 3 * chunk:
        if db.is_file():
            try:
                with sqlite3.connect(db, timeout=1) as c:
                    rows = c.execute("SELECT offset FROM upload_stash").fetchall()
                offset = rows[0][0] if rows else 0
            except sqlite3.OperationalError:
                pass
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert 3 * chunk <= offset < size, "the run was not killed between chunks"
    assert commons.file_versions(NAME) == []
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert res.returncode == 0, res.stderr
    assert "resumed from the upload stash at byte" in res.stdout
    versions = commons.file_versions(NAME)
    assert len(versions) == 1 and versions[0]["sha1"] == fsutil.sha1_file(pdf) and versions[0]["size"] == size
    assert requests.get(versions[0]["url"], timeout=30).content == pdf.read_bytes()
    assert wiki_en_commons.local_files() == []
    with sqlite3.connect(db) as c:
        assert c.execute("SELECT count(*) FROM upload_stash").fetchone()[0] == 0


def test_a_name_deleted_from_commons_before_stops_with_the_reason(
        wiki_en_commons: WikiServer, commons: WikiServer, logged_in: None, tmp_path: Path,
        scans: tuple[Path, Path]) -> None:
    commons.human("Bob").upload(tiny_pdf(tmp_path / "old.pdf", 2, seed="old"), NAME, text="{{PD-scan}}")
    admin = commons.human("Admin")
    r = admin._post(action="delete", title=f"File:{NAME}", reason="test", token=admin.csrf())
    assert "error" not in r, r
    work = make_work(tmp_path / "work", pdf=scans[1])
    res = runner.invoke(app, ["publish", str(work), "--wiki", wiki_en_commons.api_url])
    assert res.exit_code == 9, res.output
    assert "was deleted from" in res.stderr and "deletion log" in res.stderr
    assert commons.file_versions(NAME) == [] and wiki_en_commons.page_text(f"Index:{NAME}") is None


def test_export_says_where_the_scan_would_go(tmp_path: Path, scans: tuple[Path, Path]) -> None:
    work = make_work(tmp_path / "work", render_images(tmp_path / "img"), pdf=scans[1])
    res = runner.invoke(app, ["publish", str(work), "--wiki", "wikisource:en", "--export", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert (f"the scan would go to the shared file repository of wikisource:en (Commons on Wikimedia wikis), or "
            f"wikisource:en itself if it has none as File:{NAME}") in res.stderr
    assert "|Wikisource=s:en:Index:" in (tmp_path / "out" / "wikitext" / "File.wiki").read_text(encoding="utf-8")
