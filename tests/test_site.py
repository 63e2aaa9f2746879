"""The test wiki itself, transcribe.wiki.site against it, and `transcribe login`."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys

import pytest
import wikiserver
from typer.testing import CliRunner

from transcribe.cli import app
from transcribe.errors import AuthError, ExitCode, WikiError
from transcribe.fsutil import sha1_file
from transcribe.wiki import site as site_mod
from transcribe.wiki.site import connect

pytestmark = pytest.mark.wiki


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch):
    # The production back-off (0.5 s doubling) is right for real wikis; tests only need to see the retries.
    monkeypatch.setattr(site_mod, "BACKOFF", 0.01)


def run_cli(*args: str, input: str | None = None, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), input=input, env={"COLUMNS": "200", **(env or {})})


# -- the test wikis --------------------------------------------------------------------------------------------

def test_namespaces_are_read_from_the_wiki_en_and_fr(wiki_en, wiki_fr):
    en = connect(wiki_en.api_url).namespaces
    assert (en.page.id, en.page.name, en.index.id, en.index.name) == (104, "Page", 106, "Index")
    fr = connect(wiki_fr.api_url)
    assert (fr.namespaces.page.id, fr.namespaces.index.id) == (104, 112)
    assert (fr.namespaces.index.name, fr.namespaces.index.canonical) == ("Livre", "Index")
    # the wiki itself normalises Index:X to Livre:X, as fr.wikisource does
    q = fr.get(action="query", titles="Index:Un livre.pdf")["query"]
    assert q["normalized"][0]["to"] == "Livre:Un livre.pdf"
    # no ProofreadPage on the test wiki: quality names are the defaults, and say so
    assert not fr.has_proofreadpage and fr.quality_names_are_defaults
    assert fr.quality_names[3] == "Proofread"


def test_index_fields_come_from_the_wikis_config_page(wiki_en, wiki_fr):
    en = connect(wiki_en.api_url).index_fields()
    assert list(en)[:3] == ["Type", "Title", "Language"]
    assert en["Progress"].data == "progress" and set(en["Progress"].values) == {"C", "V", "T", "OCR", "MS", "L", "X"}
    fr = connect(wiki_fr.api_url).index_fields()
    by_data = {f.data: f.name for f in fr.values() if f.data}
    assert (by_data["title"], by_data["progress"], by_data["pagelist"], by_data["year"]) == (
        "Titre", "Avancement", "Pages", "Annee")
    assert fr["Avancement"].values["T"] == "Terminé"


def test_humans_edit_with_their_own_names(wiki_en):
    wiki_en.human("Alice").edit("Page:Book.pdf/3", '<noinclude><pagequality level="1" user="TranscribeBot" />'
                                "</noinclude>OCR text<noinclude></noinclude>")
    wiki_en.human("Alice").set_page_quality("Page:Book.pdf/3", 3)
    wiki_en.human("Bob").set_page_quality("Page:Book.pdf/3", 4)
    assert wiki_en.page_text("Page:Book.pdf/3") == (
        '<noinclude><pagequality level="4" user="Bob" /></noinclude>OCR text<noinclude></noinclude>')
    revs = wiki_en.api(action="query", prop="revisions", titles="Page:Book.pdf/3", rvprop="user",
                       rvlimit="10")["query"]["pages"][0]["revisions"]
    assert [r["user"] for r in revs] == ["Bob", "Alice", "Alice"]


# -- site.py -----------------------------------------------------------------------------------------------------

def test_upload_reports_page_counts_and_is_found_by_sha1(wiki_fr, tmp_path):
    site = connect(wiki_fr.api_url)
    site.login(wiki_fr.bot_user, wiki_fr.bot_password)
    assert site.user == "TranscribeBot"
    pdf = wikiserver.tiny_pdf(tmp_path / "book.pdf", pages=3)
    up = site.upload(pdf, "Un livre.pdf", text="scan")
    assert up.ok and up.filename == "Un livre.pdf"
    info = site.file_info("Un livre.pdf")
    assert info is not None and info.pagecount == 3 and info.sha1 == sha1_file(pdf)  # PdfHandler works
    assert site.find_file_by_sha1(sha1_file(pdf)) == ["Un livre.pdf"]
    again = site.upload(pdf, "Autre nom.pdf")  # same bytes, another name: a warning, nothing saved
    assert not again.ok and again.warnings["duplicate"] == ["Un_livre.pdf"]
    assert site.file_info("Autre nom.pdf") is None
    djvu = wikiserver.tiny_djvu(tmp_path / "book.djvu", pages=2)
    big = wikiserver.tiny_pdf(tmp_path / "big.pdf", pages=12)
    assert site.upload(djvu, "Carnet.djvu").ok
    assert site.upload(big, "Gros.pdf", chunk_threshold=1000, chunk_size=1024).ok  # chunked
    assert site.file_info("Carnet.djvu").pagecount == 2
    assert site.file_info("Gros.pdf").pagecount == 12


def test_get_retries_dropped_connections_then_says_which_wiki(wiki_en, fault_proxy):
    proxy = fault_proxy(wiki_en)
    site = connect(proxy.api_url)
    proxy.reset()
    proxy.fail_after(0, status=503, times=2)  # two 503s, then the wiki answers again
    assert site.get(action="query", meta="userinfo")["query"]["userinfo"]["anon"]
    assert proxy.calls(meta="userinfo") == 3
    proxy.reset()
    proxy.drop_after(0)
    with pytest.raises(WikiError) as e:
        site.get(action="query", meta="userinfo")
    assert proxy.count == site_mod.RETRIES
    assert str(e.value).startswith(f"Cannot reach {proxy.api_url}: the connection was closed without an answer.")
    assert "run the same command again" in str(e.value)


def test_wiki_goes_away_and_comes_back(wiki_en):
    site = connect(wiki_en.api_url)
    wiki_en.stop()
    with pytest.raises(WikiError, match="Cannot reach .*connection refused"):
        site.get(action="query", meta="siteinfo")
    wiki_en.start()
    assert site.get(action="query", meta="siteinfo")["query"]["general"]["sitename"] == "Test Wikisource"


def test_edits_are_throttled_on_request(wiki_en, bot_login):
    import time

    bot_login(wiki_en)  # the fixture other areas use to be logged in
    site = connect(wiki_en.api_url, login=True, throttle=0.3)
    assert site.user == "TranscribeBot"
    t = time.monotonic()
    for n in (1, 2, 3):
        site.post(action="edit", title=f"Page:T.pdf/{n}", text="x", token=...)
    assert time.monotonic() - t >= 0.6
    assert connect(wiki_en.api_url).throttle == 0  # 127.0.0.1: no throttle unless asked
    assert site_mod.Wiki(site_mod.resolve("https://fr.wikisource.org/w/api.php")).throttle == 10


def test_login_without_stored_password_says_what_to_run(wiki_en, transcribe_config):
    with pytest.raises(AuthError, match=f"transcribe login --wiki {wiki_en.api_url}"):
        connect(wiki_en.api_url, login=True)


def test_family_names_resolve_without_the_network():
    fr = site_mod.resolve("wikisource:fr")
    assert (fr.api_url, fr.is_wikimedia) == ("https://fr.wikisource.org/w/api.php", True)
    assert site_mod.resolve("wikisource:mul").api_url == "https://wikisource.org/w/api.php"
    assert site_mod.resolve("commons:commons").api_url == "https://commons.wikimedia.org/w/api.php"
    assert not site_mod.resolve("http://127.0.0.1:8080/api.php").is_wikimedia


# -- transcribe login ------------------------------------------------------------------------------------------

def test_login_stores_the_secret_privately_and_never_shows_it(wiki_en, transcribe_config, caplog):
    caplog.set_level(logging.DEBUG)
    r = run_cli("--verbose", "login", "--wiki", wiki_en.api_url, "--user", wiki_en.bot_user, "--password-stdin",
                input=wiki_en.bot_password + "\n")
    assert r.exit_code == 0, r.output
    path = transcribe_config / "logins.json"
    assert r.stdout.strip() == f"Logged in to 127.0.0.1:{wiki_en.port} as TranscribeBot; saved to {path}."
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert wiki_en.bot_password not in r.output + r.stderr
    assert wiki_en.bot_password not in caplog.text and "login" in caplog.text  # logs were captured
    assert connect(wiki_en.api_url, login=True).user == "TranscribeBot"  # the stored login works
    r = run_cli("login", "--wiki", wiki_en.api_url, "--forget")
    assert r.exit_code == 0 and "Forgot" in r.stdout
    with pytest.raises(AuthError):
        connect(wiki_en.api_url, login=True)


def test_login_with_a_wrong_secret_exits_8(wiki_en, transcribe_config):
    wrong = "0" * 32
    r = run_cli("login", "--wiki", wiki_en.api_url, "--user", wiki_en.bot_user,
                env={"TRANSCRIBE_BOT_PASSWORD": wrong})
    assert r.exit_code == ExitCode.AUTH
    assert "refused the login of TranscribeBot@transcribe" in r.stderr
    assert f"transcribe login --wiki {wiki_en.api_url}" in r.stderr and wrong not in r.output + r.stderr
    assert not (transcribe_config / "logins.json").exists()


def test_login_to_an_unreachable_wiki_exits_7_with_one_line(transcribe_config):
    url = f"http://127.0.0.1:{wikiserver.free_port()}/api.php"
    r = subprocess.run(
        [sys.executable, "-m", "transcribe", "login", "--wiki", url, "--user", "X@y", "--password-stdin"],
        input="0" * 32 + "\n", capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "TRANSCRIBE_CONFIG_DIR": str(transcribe_config)},
    )
    assert r.returncode == ExitCode.WIKI
    lines = r.stderr.strip().splitlines()
    assert lines[-1] == (f"error: Cannot reach {url}: connection refused (no web server answers there). "
                         "Check the address or your network, then run the same command again.")
    assert len([ln for ln in lines if ln.startswith("error:")]) == 1
