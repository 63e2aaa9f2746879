"""transcribe run / status on a small real batch: resumable after kill -9, one failing work does not stop the
others, changes redo exactly what they affect, one run at a time, OCR on a Dask cluster gives the same text.

Every run here uses real poppler, Tesseract and SQLite on tiny scans (2 downscaled pages per work).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from scans import make_pdf, small_pages
from typer.testing import CliRunner
from wikifixtures import *

from transcribe.cli import app
from transcribe.errors import ExitCode
from transcribe.store import Store

runner = CliRunner()
ENV = {**os.environ, "OMP_THREAD_LIMIT": "1", "COLUMNS": "200"}

MANIFEST = """\
[defaults]
licence = "PD-old-70"
institution = "Staatsbibliothek zu Berlin"
wiki = "wikisource:de"

[[work]]
id = "alpha"
scan = "scans/alpha.pdf"
title = "Annotationes vber den Appendicem"
author = "Johann Rudolf Glauber"
language = "de"
models = "{alpha_models}"
page_labels = "1=10"

[[work]]
id = "beta"
scan = "scans/beta.pdf"
title = "Beta"
language = "de"
models = "frk"

[[work]]
id = "gamma"
scan = "scans/gamma"
title = "Gamma, photographed"
language = "de"
models = "frk"
"""


@pytest.fixture(scope="session")
def pages(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Four small Fraktur pages (the Glauber ones, downscaled, grey)."""
    return small_pages(corpus, tmp_path_factory.mktemp("small"), count=4, width=400)


def make_batch(root: Path, pages: list[Path], *, alpha_models: str = "frk") -> Path:
    """Three works: a PDF whose pages are extracted, a PDF whose pages must be rendered, a folder of images."""
    scans = root / "scans"
    scans.mkdir(parents=True, exist_ok=True)
    make_pdf(pages[:2], scans / "alpha.pdf")
    make_pdf(pages[2:4], scans / "beta.pdf", kind="framed")  # rendered by pdftoppm: the slow kind of split
    (scans / "gamma").mkdir(exist_ok=True)
    for i, p in enumerate(pages[1:3], 1):
        shutil.copy(p, scans / "gamma" / f"{i:04d}.png")
    manifest = root / "books.toml"
    manifest.write_text(MANIFEST.format(alpha_models=alpha_models), encoding="utf-8")
    return manifest


def cli(*args: str) -> Any:
    if args[0] == "run":
        args = (*args, "--dpi", "100")
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def transcribe_cmd(root: Path, *args: str) -> list[str]:
    # --dpi 100: beta's rendered pages come out as small as the others
    return [sys.executable, "-m", "transcribe", "run", str(root / "books.toml"), "--export", str(root / "out"),
            "--dpi", "100", *args]


# -- comparing two batches ------------------------------------------------------------------------------------

VOLATILE = {"seconds", "updated", "applied", "created"}


def _clean(value: Any, root: Path) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v, root) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_clean(v, root) for v in value]
    if isinstance(value, str):
        return value.replace(str(root), "<root>")
    return value


def snapshot(root: Path) -> dict[str, Any]:
    """Every file the batch made (bytes; JSON records without timings) and every state row (without times)."""
    files: dict[str, Any] = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        if not p.is_file() or rel.startswith("scans") or ".transcribe.db" in p.name:
            continue
        if p.name == ".split-journal.jsonl":  # split's own resume journal: order depends on where it stopped
            continue
        if p.suffix == ".json":
            files[rel] = _clean(json.loads(p.read_text(encoding="utf-8")), root)
        else:
            files[rel] = p.read_bytes()
    db = sqlite3.connect(root / "books.transcribe.db")
    db.row_factory = sqlite3.Row
    rows: dict[str, Any] = {}
    for table in ("works", "pages", "ocr", "stages", "uploads", "edits"):
        rows[table] = sorted(json.dumps(_clean(dict(r), root), sort_keys=True)
                             for r in db.execute(f"SELECT * FROM {table}"))
    db.close()
    return {"files": files, "rows": rows}


def assert_same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert sorted(a["files"]) == sorted(b["files"]), "different files"
    for name in a["files"]:
        assert a["files"][name] == b["files"][name], f"{name} differs"
    for table in a["rows"]:
        assert a["rows"][table] == b["rows"][table], f"state table {table} differs"


@pytest.fixture(scope="module")
def reference(pages: list[Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """An uninterrupted run of the batch, in a real subprocess."""
    root = tmp_path_factory.mktemp("reference")
    make_batch(root, pages)
    proc = subprocess.run(transcribe_cmd(root), env=ENV, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    return {"root": root, "snapshot": snapshot(root), "stdout": proc.stdout, "stderr": proc.stderr}


def test_a_batch_is_exported_with_a_summary(reference: dict[str, Any]) -> None:
    root: Path = reference["root"]
    lines = reference["stdout"].splitlines()
    assert lines[0].split() == ["work", "pages", "OCR'd", "exported", "failed", "result", "reason"]
    for work in ("alpha", "beta", "gamma"):
        row = next(line.split() for line in lines if line.startswith(work))
        assert row[1:6] == ["2", "2", "2", "0", "done"], row
    assert "3 of 3 work(s) exported" in reference["stdout"]  # the result, on stdout with the table
    assert (root / "books.transcribe" / "alpha" / "pages" / "0002.txt").read_text(encoding="utf-8").strip()
    index = (root / "out" / "alpha" / "wikitext" / "Index.wiki").read_text(encoding="utf-8")
    assert "<pagelist 1=10" in index and "Johann Rudolf Glauber" in index
    assert (root / "out" / "alpha" / "index.html").is_file()
    batch_page = (root / "out" / "index.html").read_text(encoding="utf-8")
    assert '<a href="alpha/index.html">Annotationes vber den Appendicem</a>' in batch_page
    assert "<h1>3 works from Staatsbibliothek zu Berlin</h1>" in batch_page and "transcribe run books.toml</code>" in batch_page
    assert "index.html in a browser" in reference["stderr"]
    # the folder of images was bundled into a PDF with a text layer, named as it would be uploaded
    bundled = root / "books.transcribe" / "gamma" / "Gamma, photographed.pdf"
    text = subprocess.run(["pdftotext", str(bundled), "-"], capture_output=True, text=True, check=True).stdout
    assert len(text.split()) > 20
    titles = json.loads((root / "out" / "gamma" / "wikitext" / "titles.json").read_text(encoding="utf-8"))
    assert "Index:Gamma, photographed.pdf" in titles.values()


def _kill_when(cmd: list[str], condition: Callable[[], bool], timeout: float = 120) -> bool:
    """Start a real run and kill -9 it (and its Tesseract) the moment `condition` holds; False if it finished."""
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if condition():
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return True
            time.sleep(0.003)
        return False
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _files(folder: Path, pattern: str) -> int:
    return len(list(folder.glob(pattern))) if folder.is_dir() else 0


def _ocr_recorded(state: Path) -> int:
    """Pages whose OCR the state records (a page's files are written just before its row is committed)."""
    if not state.is_file():
        return 0
    try:
        with sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=1) as db:
            return int(db.execute("SELECT count(*) FROM ocr WHERE status IN ('done', 'blank')").fetchone()[0])
    except sqlite3.Error:
        return 0


@pytest.mark.parametrize("moment", ["split", "ocr", "export"])
def test_kill_9_then_the_same_command_continues_to_the_same_result(
    moment: str, pages: list[Path], reference: dict[str, Any], tmp_path: Path
) -> None:
    make_batch(tmp_path, pages)
    area = tmp_path / "books.transcribe"
    conditions = {
        # beta's pages are rendered one by one: its first image exists, the record of all is not written yet
        "split": lambda: (_files(area / "beta" / "pages", "0001.png") == 1
                          and _files(area / "beta" / "pages", "pages.json") == 0),
        # alpha's first page is read, the second is in Tesseract (one job at a time)
        "ocr": lambda: (_files(area / "alpha" / "pages", "*.txt") == 1
                        and _ocr_recorded(tmp_path / "books.transcribe.db") == 1),
        "export": lambda: _files(tmp_path / "out" / "alpha" / "wikitext", "*.wiki") >= 1,
    }
    # one page at a time, so that there is a moment with one page read and the next one in Tesseract
    assert _kill_when(transcribe_cmd(tmp_path, "--jobs", "1"), conditions[moment]), \
        "the run finished before it could be killed"

    status = cli("status", str(tmp_path / "books.toml"), "--format", "json")
    assert status.exit_code == 0, status.output
    states = {w["id"]: w for w in json.loads(status.stdout)["works"]}
    assert not all(w["state"] == "done" for w in states.values())
    if moment == "ocr":
        assert states["alpha"]["state"] == "stopped" and states["alpha"]["stage"] == "ocr"
        assert states["alpha"]["ocrd"] == 1 and states["beta"]["state"] == "not started"

    proc = subprocess.run(transcribe_cmd(tmp_path), env=ENV, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert_same(snapshot(tmp_path), reference["snapshot"])


def test_a_failing_work_does_not_stop_the_others(pages: list[Path], tmp_path: Path) -> None:
    manifest = make_batch(tmp_path, pages)
    (tmp_path / "scans" / "beta.pdf").write_bytes(b"%PDF-1.4\nthis is not really a PDF\n")
    result = cli("run", str(manifest), "--export", str(tmp_path / "out"), "--jobs", "2")
    assert result.exit_code == ExitCode.PAGES_FAILED, result.output
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[2:]}
    assert rows["alpha"].split()[1:6] == ["2", "2", "2", "0", "done"]
    assert rows["gamma"].split()[1:6] == ["2", "2", "2", "0", "done"]
    assert " failed " in rows["beta"] and "split:" in rows["beta"]
    assert "1 work(s) did not finish: beta" in result.stderr

    status = cli("status", str(manifest))
    assert status.exit_code == 0
    lines = {line.split()[0]: line for line in status.stdout.splitlines()[2:]}
    assert lines["beta"].split()[6:8] == ["failed", "split"]
    assert "pdf" in lines["beta"].lower()  # the reason names what is wrong with the file
    assert lines["alpha"].split()[1:7] == ["2", "2", "0", "2", "0", "done"]


def _outputs(pages_dir: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime) of each OCR output: a redone page gets a new file (written by rename)."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in sorted(pages_dir.glob("*.txt"))}


def test_a_changed_page_or_setting_redoes_exactly_what_it_affects(pages: list[Path], corpus: Path,
                                                                   tmp_path: Path) -> None:
    manifest = make_batch(tmp_path, pages)
    out = str(tmp_path / "out")
    assert cli("run", str(manifest), "--export", out).exit_code == 0
    area = tmp_path / "books.transcribe"
    before = {w: _outputs(area / w / "pages") for w in ("alpha", "beta", "gamma")}

    # The library rescans page 2 of alpha (another page image): only that page is split and read again.
    other = small_pages(corpus, tmp_path / "other", files=["vdsbb_fiscfrie_0015.tif"], width=480)[0]
    make_pdf([pages[0], other], tmp_path / "scans" / "alpha.pdf")
    assert cli("run", str(manifest), "--export", out).exit_code == 0
    after = {w: _outputs(area / w / "pages") for w in ("alpha", "beta", "gamma")}
    assert after["alpha"]["0001.txt"] == before["alpha"]["0001.txt"]
    assert after["alpha"]["0002.txt"] != before["alpha"]["0002.txt"]
    assert after["beta"] == before["beta"] and after["gamma"] == before["gamma"]

    # Another OCR model for alpha: both of its pages are read again, nothing else.
    manifest.write_text(MANIFEST.format(alpha_models="deu"), encoding="utf-8")
    assert cli("run", str(manifest), "--export", out).exit_code == 0
    again = {w: _outputs(area / w / "pages") for w in ("alpha", "beta", "gamma")}
    assert all(again["alpha"][n] != after["alpha"][n] for n in ("0001.txt", "0002.txt"))
    assert again["beta"] == before["beta"] and again["gamma"] == before["gamma"]
    db = Store(tmp_path / "books.transcribe.db")
    assert {r["n"] for r in db.query("SELECT n FROM ocr o JOIN works w ON w.id = o.work_id WHERE w.key = 'alpha'")} \
        == {1, 2}
    db.close()


def test_a_second_run_on_the_same_batch_is_refused(pages: list[Path], tmp_path: Path) -> None:
    manifest = make_batch(tmp_path, pages)
    with Store(tmp_path / "books.transcribe.db") as holder:  # a run in progress holds this lock
        holder.acquire_lock()
        result = cli("run", str(manifest), "--export", str(tmp_path / "out"))
    assert result.exit_code == ExitCode.LOCKED
    assert "Another transcribe run is already working on" in result.stderr
    assert not (tmp_path / "books.transcribe" / "alpha" / "pages").exists(), "nothing may be touched"


def test_ocr_on_a_dask_cluster_gives_the_same_text(pages: list[Path], tmp_path: Path) -> None:
    import distributed  # the test extra installs it (scripts/setup --test)
    local, remote = tmp_path / "local", tmp_path / "dask"
    for root in (local, remote):
        make_batch(root, pages)
        text = (root / "books.toml").read_text(encoding="utf-8")
        (root / "books.toml").write_text(text.split("[[work]]\nid = \"beta\"")[0], encoding="utf-8")  # alpha only
    assert cli("run", str(local / "books.toml"), "--export", str(local / "out")).exit_code == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as cluster:
        result = cli("run", str(remote / "books.toml"), "--export", str(remote / "out"),
                     "--scheduler", cluster.scheduler_address)
    assert result.exit_code == 0, result.output
    for name in ("0001.txt", "0001.hocr", "0002.txt", "0002.hocr"):
        a = (local / "books.transcribe" / "alpha" / "pages" / name).read_bytes()
        b = (remote / "books.transcribe" / "alpha" / "pages" / name).read_bytes()
        assert a == b and a, name
    assert_same(snapshot(local) | {"rows": {}}, snapshot(remote) | {"rows": {}})


def test_an_unreachable_scheduler_is_explained(pages: list[Path], tmp_path: Path) -> None:
    manifest = make_batch(tmp_path, pages)
    result = cli("run", str(manifest), "--export", str(tmp_path / "out"), "--scheduler", "tcp://127.0.0.1:9")
    assert result.exit_code == ExitCode.USAGE
    assert "Could not reach the Dask scheduler at tcp://127.0.0.1:9" in result.stderr


def test_status_before_any_run_says_how_to_start(tmp_path: Path) -> None:
    (tmp_path / "books.toml").write_text('[[work]]\nscan = "a.pdf"\ntitle = "A"\nlanguage = "de"\n')
    result = cli("status", str(tmp_path / "books.toml"))
    assert result.exit_code == 0
    assert "Nothing has run for" in result.stderr and "transcribe run" in result.stderr
    # a misspelt manifest is not "a batch that never ran"
    result = cli("status", str(tmp_path / "bokos.toml"))
    assert result.exit_code == ExitCode.MANIFEST and "bokos.toml does not exist" in result.stderr


def test_the_demo_manifest_names_the_sample() -> None:
    demo = (REPO / "scripts" / "demo").read_text(encoding="utf-8")
    assert "run samples/manifest.toml --export demo-out" in demo


# -- publishing to the real local wiki ------------------------------------------------------------------------

PUBLISH_MANIFEST = """\
[defaults]
licence = "PD-old-70"
files_to = "local"

[[work]]
id = "alpha"
scan = "scans/alpha.pdf"
title = "Annotationes vber den Appendicem"
author = "Johann Rudolf Glauber"
language = "de"
models = "frk"
page_labels = "1=10"

[[work]]
id = "gamma"
scan = "scans/gamma"
title = "Gamma, photographed"
language = "de"
models = "frk"
"""


def make_publish_batch(root: Path, pages: list[Path]) -> Path:
    """Two works: a 3-page PDF, and a folder of 2 images (bundled into the PDF that is uploaded)."""
    make_batch(root, pages)
    make_pdf(pages[:3], root / "scans" / "alpha.pdf")
    (root / "books.toml").write_text(PUBLISH_MANIFEST, encoding="utf-8")
    return root / "books.toml"


def _published_rows(root: Path) -> int:
    try:
        db = sqlite3.connect(f"file:{root / 'books.transcribe.db'}?mode=ro", uri=True, timeout=0.1)
        try:
            return int(db.execute("SELECT COUNT(*) FROM edits e JOIN works w ON w.id = e.work_id WHERE"
                                  " w.key = 'alpha' AND e.n IS NOT NULL AND e.status = 'created'").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def _wiki_pages(wiki: Any) -> dict[str, tuple[str | None, int]]:
    """Every Page:, Index: and File: page of the wiki: (text, number of revisions)."""
    out: dict[str, tuple[str | None, int]] = {}
    for ns in ("104", "106", "6"):
        for p in wiki.api(action="query", list="allpages", apnamespace=ns, aplimit="max")["query"]["allpages"]:
            revs = wiki.api(action="query", prop="revisions", titles=p["title"], rvlimit="max",
                            rvprop="ids")["query"]["pages"][0]["revisions"]
            out[p["title"]] = (wiki.page_text(p["title"]), len(revs))
    return out


def _publish_state(snap: dict[str, Any], api_url: str) -> dict[str, Any]:
    """A state snapshot with the wiki's address, revision ids and created/unchanged told apart no more."""
    rows = {}
    for table, items in snap["rows"].items():
        cleaned = []
        for item in items:
            r = json.loads(item.replace(api_url, "<wiki>"))
            r.pop("revid", None)
            if r.get("status") in ("created", "updated", "unchanged") and table == "edits":
                r["status"], r["reason"] = "written", None  # 'unchanged' says why: 'already published'...
            cleaned.append(json.dumps(r, sort_keys=True))
        rows[table] = sorted(cleaned)
    return {"files": snap["files"], "rows": rows}


@pytest.mark.wiki
def test_kill_9_while_publishing_then_resume_writes_nothing_twice(
    pages: list[Path], tmp_path: Path, wiki_template_en: Any, bot_login: Callable[[Any], None],
    transcribe_config: Path,
) -> None:
    ref_wiki, kill_wiki = wiki_template_en.clone(tmp_path / "wiki-ref"), wiki_template_en.clone(tmp_path / "wiki-k")
    try:
        for w in (ref_wiki, kill_wiki):
            w.start()
            bot_login(w)
        env = {**ENV, "TRANSCRIBE_CONFIG_DIR": str(transcribe_config), "TRANSCRIBE_THROTTLE": "0"}

        def cmd(root: Path, wiki: Any) -> list[str]:
            return [sys.executable, "-m", "transcribe", "run", str(root / "books.toml"), "--wiki", wiki.api_url]

        ref, killed = tmp_path / "ref", tmp_path / "killed"
        for root in (ref, killed):
            make_publish_batch(root, pages)
        done = subprocess.run(cmd(ref, ref_wiki), env=env, capture_output=True, text=True, timeout=300,
                              check=False)
        assert done.returncode == 0, done.stderr
        assert "2 of 2 work(s) published" in done.stdout

        # one edit at a time, a little apart, so that the kill lands between two pages of alpha
        proc = subprocess.Popen(cmd(killed, kill_wiki), env={**env, "TRANSCRIBE_THROTTLE": "0.3"},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 180
        while proc.poll() is None and time.monotonic() < deadline:
            if 1 <= _published_rows(killed) < 3:
                os.killpg(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.01)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
        status = cli("status", str(killed / "books.toml"), "--format", "json")
        alpha = json.loads(status.stdout)["works"][0]
        assert (alpha["state"], alpha["stage"]) == ("stopped", "publish") and 1 <= alpha["published"] < 3

        again = subprocess.run(cmd(killed, kill_wiki), env=env, capture_output=True, text=True, timeout=300,
                               check=False)
        assert again.returncode == 0, again.stderr

        ref_pages, kill_pages = _wiki_pages(ref_wiki), _wiki_pages(kill_wiki)
        assert len(ref_pages) == 2 + 2 + 3 + 2  # 2 files, 2 Index pages, 5 Page: pages
        assert kill_pages == ref_pages, "the resumed wiki differs from an uninterrupted run's"
        assert all(revs == 1 for _, revs in kill_pages.values()), "a page was written twice"
        uploads = kill_wiki.api(action="query", list="allimages", aiprop="sha1")["query"]["allimages"]
        assert len(uploads) == 2
        for image in uploads:
            history = kill_wiki.api(action="query", prop="imageinfo", titles=f"File:{image['name']}",
                                    iilimit="max")["query"]["pages"][0]["imageinfo"]
            assert len(history) == 1, f"{image['name']} was uploaded twice"
        assert_same(_publish_state(snapshot(killed), kill_wiki.api_url),
                    _publish_state(snapshot(ref), ref_wiki.api_url))
    finally:
        ref_wiki.stop()
        kill_wiki.stop()


def test_a_dry_run_says_what_would_be_published_and_that_the_wiki_was_not_read(reference: dict[str, Any],
                                                                              tmp_path: Path) -> None:
    root = tmp_path / "batch"
    shutil.copytree(reference["root"], root)  # split and OCR'd already: only the publish stage is left
    result = cli("run", str(root / "books.toml"), "--wiki", "http://127.0.0.1:9/w/api.php", "--dry-run")
    assert result.exit_code == 0, result.output
    # the outcome of a dry run is its result: on stdout, and it says nothing was published
    assert "Dry run, nothing was written: 3 of 3 work(s) could be published" in result.stdout
    assert "published in" not in result.output
    assert "alpha: dry run: http://127.0.0.1:9/w/api.php could not be read" in result.stdout
    assert "alpha: dry run: 2 would be created" in result.stdout
    row = next(line.split() for line in result.stdout.splitlines() if line.startswith("alpha"))
    assert row[1:4] == ["2", "2", "2"]  # pages, OCR'd, would publish
    status = json.loads(cli("status", str(root / "books.toml"), "--format", "json").stdout)
    assert all(w["published"] == 0 for w in status["works"])  # and nothing was recorded as published
