"""`transcribe run` tells which models each work was read with, says once per run which better model is missing
(issue 16 item 3), and learns a work's book model from the checked pages its manifest names (issue 17 part 3),
in the background of the batch with --learn-in-background.

Real Tesseract and lstmtraining on tiny pages: the tops of three pages of ../shared/books/akz1860 (Fraktur, 1860).
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
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from transcribe.cli import app
from transcribe.errors import ExitCode

SHARED = Path(__file__).resolve().parents[2] / "shared"
BOOK = SHARED / "books" / "akz1860"
GERMAN_PRINT = SHARED / "models" / "german_print.traineddata"
runner = CliRunner()


def _scan(folder: Path, scans: tuple[str, ...], height: int = 520) -> list[str]:
    """Page images cut from the top of akz1860 pages (0001.png ...); their checked text (first nine lines)."""
    folder.mkdir(parents=True)
    truths = []
    for n, scan in enumerate(scans, 1):
        with Image.open(BOOK / f"akz1860_{scan}.jpg") as im:
            im.convert("L").crop((0, 0, im.width, height)).save(folder / f"{n:04d}.png", dpi=(380, 380))
        truths.append("\n".join((BOOK / f"akz1860_{scan}.gt.txt").read_text(encoding="utf-8").splitlines()[:9]))
    return truths


def _manifest(root: Path, works: str) -> Path:
    path = root / "books.toml"
    path.write_text('[defaults]\nlicence = "PD-old-70"\nlanguage = "de"\nmodels = "frk"\n' + works, encoding="utf-8")
    return path


def _run(manifest: Path, models_dir: Path) -> object:
    env = {"COLUMNS": "200", "OMP_THREAD_LIMIT": "1", "TRANSCRIBE_MODELS_DIR": str(models_dir)}
    return runner.invoke(app, ["run", str(manifest), "--export", str(manifest.parent / "out"), "-q"], env=env)


def _models(tmp: Path, *, german_print: bool) -> Path:
    folder = tmp / ("models" if german_print else "no-models")
    folder.mkdir()
    if german_print:
        shutil.copy(GERMAN_PRINT, folder / GERMAN_PRINT.name)
    return folder


def test_run_says_once_which_better_model_is_missing_and_what_each_work_was_read_with(tmp_path):
    _scan(tmp_path / "a", ("0009",), height=260)
    _scan(tmp_path / "b", ("0010",), height=260)
    manifest = _manifest(tmp_path, '[[work]]\nid = "a"\nscan = "a"\ntitle = "A"\n\n'
                                   '[[work]]\nid = "b"\nscan = "b"\ntitle = "B"\n')
    without = _run(manifest, _models(tmp_path, german_print=False))
    assert without.exit_code == 0, without.output
    notes = [ln for ln in without.output.splitlines() if "german_print" in ln and ln.startswith("note:")]
    assert len(notes) == 1 and "transcribe langs install german_print" in notes[0], without.output  # two works
    assert "a: OCR with 'frk'." in without.output and "b: OCR with 'frk'." in without.output

    shutil.rmtree(tmp_path / "out")
    with_it = _run(manifest, _models(tmp_path, german_print=True))
    assert with_it.exit_code == 0, with_it.output
    assert "a: OCR with 'german_print'." in with_it.output and "b: OCR with 'german_print'." in with_it.output
    assert "langs install" not in with_it.output and "note: the default" not in with_it.output


def test_a_work_learns_its_book_model_from_checked_pages_before_its_ocr_and_not_again(tmp_path):
    truths = _scan(tmp_path / "scan", ("0009", "0010", "0011"))
    checked = tmp_path / "checked"
    checked.mkdir()
    for n in (1, 2):
        (checked / f"{n:04d}.gt.txt").write_text(truths[n - 1], encoding="utf-8")
    manifest = _manifest(tmp_path, '[[work]]\nid = "akz"\nscan = "scan"\ntitle = "Akz"\n'
                                   'learn_from = "checked"\nlearn_minutes = 0.05\n')
    models = _models(tmp_path, german_print=True)
    first = _run(manifest, models)
    assert first.exit_code == 0, first.output
    assert "akz: Learned from" in first.output and "(2 page(s)): book model trained on" in first.output
    with sqlite3.connect(tmp_path / "books.transcribe.db") as db:
        (chosen, pages), = db.execute("SELECT chosen, pages FROM book_models").fetchall()
    assert pages == 2
    assert f"akz: OCR with '{chosen}'." in first.output  # the rest is read with what the book's lines chose
    pages_dir = tmp_path / "books.transcribe" / "akz" / "pages"
    assert (pages_dir / "model" / "book.traineddata").is_file()
    doc = json.loads((pages_dir / "ocr.json").read_text(encoding="utf-8"))
    assert "held-back lines of this book" in doc["settings"]["learning"]  # OCR ran with the learned settings
    assert {p["models"] for p in doc["pages"]} == {chosen}

    shutil.rmtree(tmp_path / "out")
    again = _run(manifest, models)
    assert again.exit_code == 0, again.output
    assert "recorded earlier, not trained again" in again.output
    with sqlite3.connect(tmp_path / "books.transcribe.db") as db:
        assert db.execute("SELECT COUNT(*) FROM book_models").fetchone()[0] == 1


@pytest.mark.parametrize("kind", ["toml", "csv"])
def test_learning_fields_are_checked_like_the_others(tmp_path, kind):
    _scan(tmp_path / "scan", ("0009",), height=100)
    if kind == "toml":
        manifest = _manifest(tmp_path, '[[work]]\nid = "akz"\nscan = "scan"\ntitle = "Akz"\n'
                                       'learn_from = "nowhere"\nlearn_minutes = -1\nlern_minutes = 2\n')
    else:
        manifest = tmp_path / "books.csv"
        manifest.write_text("id,scan,title,language,licence,learn_from,learn_minutes\n"
                            "akz,scan,Akz,de,PD-old-70,nowhere,-1\n", encoding="utf-8")
    result = _run(manifest, tmp_path)
    assert result.exit_code == ExitCode.MANIFEST, result.output
    assert "the folder of checked pages 'nowhere' does not exist" in result.output
    assert "learn_minutes '-1' must be a number of minutes above 0" in result.output
    if kind == "toml":
        assert "'lern_minutes'" in result.output and "did you mean 'learn_minutes'" in result.output


_TWO_WORKS = ('[[work]]\nid = "akz"\nscan = "scan"\ntitle = "Akz"\nlearn_from = "checked"\nlearn_minutes = {}\n\n'
              '[[work]]\nid = "other"\nscan = "other"\ntitle = "Other"\n')


def _two_works(tmp: Path, learn_minutes: float) -> Path:
    """'akz' learns from its checked pages 1 and 2 (and has page 3 to read with the model); 'other' does not."""
    truths = _scan(tmp / "scan", ("0009", "0010", "0011"))
    _scan(tmp / "other", ("0012",), height=260)
    (tmp / "checked").mkdir()
    for n in (1, 2):
        (tmp / "checked" / f"{n:04d}.gt.txt").write_text(truths[n - 1], encoding="utf-8")
    return _manifest(tmp, _TWO_WORKS.format(learn_minutes))


def _book_models(tmp: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(tmp / "books.transcribe.db") as db:
        return db.execute("SELECT chosen, iterations FROM book_models").fetchall()


def test_in_the_background_the_next_work_is_done_first_and_a_stopped_training_goes_on_at_the_next_run(tmp_path):
    manifest = _two_works(tmp_path, learn_minutes=1)  # a minute of training: it is stopped long before
    models = _models(tmp_path, german_print=True)
    env = {**os.environ, "COLUMNS": "200", "OMP_THREAD_LIMIT": "1", "TRANSCRIBE_MODELS_DIR": str(models)}
    args = ["run", str(manifest), "--export", str(tmp_path / "out"), "--learn-in-background"]
    pages = tmp_path / "books.transcribe" / "akz" / "pages"
    other = tmp_path / "out" / "other" / "index.html"

    # 1. A real process, stopped with Ctrl-C (SIGINT to its process group, as a terminal sends it) once 'other' is
    # exported and akz's training has written its first checkpoint (100 iterations).
    proc = subprocess.Popen([sys.executable, "-m", "transcribe", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while not (other.is_file() and any(pages.glob("model/train-*/book.resume"))):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no checkpoint after 90 s"
            time.sleep(0.1)
        assert not any(pages.glob("*.txt"))  # 'other' was split, read and exported while akz learned
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == ExitCode.INTERRUPTED, out + err
    assert _book_models(tmp_path) == []  # a stopped training is not recorded as a model
    assert not any(pages.glob("*.txt"))

    # 2. The same command (a shorter budget): the training goes on from its checkpoint, then akz is read with what
    # it learned and exported.
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("learn_minutes = 1", "learn_minutes = 0.05"),
                        encoding="utf-8")
    again = runner.invoke(app, [*args, "-q"], env=env)
    assert again.exit_code == 0, again.output
    table = again.output.splitlines()
    assert table[2].split()[:6] == ["akz", "3", "3", "3", "0", "done"], again.output
    assert table[3].split()[:6] == ["other", "1", "1", "1", "0", "done"], again.output
    assert "akz: Learned from" in again.output and "not trained again" not in again.output
    (chosen, iterations), = _book_models(tmp_path)
    assert iterations >= 200, iterations  # 100 before the stop, at least 100 more after it: not from the start
    assert f"akz: OCR with '{chosen}'." in again.output
    doc = json.loads((pages / "ocr.json").read_text(encoding="utf-8"))
    assert "held-back lines of this book" in doc["settings"]["learning"]
    assert {p["models"] for p in doc["pages"]} == {chosen}
    assert (tmp_path / "out" / "akz" / "index.html").is_file()

    # 3. Once more, without the option: the model is recorded, nothing is trained again.
    third = _run(manifest, models)
    assert third.exit_code == 0, third.output
    assert "recorded earlier, not trained again" in third.output
    assert len(_book_models(tmp_path)) == 1


def test_a_training_that_fails_in_the_background_fails_its_work_only(tmp_path):
    manifest = _two_works(tmp_path, learn_minutes=0.05)
    no_base = _models(tmp_path, german_print=False)  # learning fine-tunes german_print: it is not installed
    env = {"COLUMNS": "200", "OMP_THREAD_LIMIT": "1", "TRANSCRIBE_MODELS_DIR": str(no_base)}
    result = runner.invoke(app, ["run", str(manifest), "--export", str(tmp_path / "out"), "-q",
                                 "--learn-in-background"], env=env)
    assert result.exit_code == ExitCode.PAGES_FAILED, result.output
    rows = result.output.splitlines()
    assert rows[2].split()[:6] == ["akz", "3", "0", "0", "0", "failed"], result.output
    assert "ocr: --learn-from fine-tunes the float model german_print.traineddata" in rows[2]
    assert "transcribe langs install german_print" in rows[2]
    assert rows[3].split()[:6] == ["other", "1", "1", "1", "0", "done"], result.output
