"""Learning a model for the book from its checked pages: `transcribe ocr --learn-from` with real lstmtraining.

The book is the top of three consecutive pages of ../shared/books/akz1860 (Fraktur, 1860); the base model is
../shared/models/german_print.traineddata (the float model learning fine-tunes), found through
$TRANSCRIBE_MODELS_DIR. The training is bounded to seconds (--learn-minutes), so the model changes little: the
tests check what a user relies on (a model is made, measured, recorded, used, not trained again), not its quality
(bench/bench_learn.py measures that).
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from transcribe.cli import app
from transcribe.errors import ExitCode
from transcribe.ocr import learn as L
from transcribe.wiki.pagetext import parse_page, printed_text

SHARED = Path(__file__).resolve().parents[2] / "shared"
BOOK = SHARED / "books" / "akz1860"
BASE = SHARED / "models" / "german_print.traineddata"  # the float model learning fine-tunes
runner = CliRunner()


@pytest.fixture
def models_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    base = SHARED / "models" / "german_print.traineddata"
    if not base.is_file():
        pytest.fail(f"{base} is missing: the shared models folder must sit beside the repository.")
    shutil.copyfile(base, folder / base.name)  # installed as `langs install` does: a file, not a link
    monkeypatch.setenv("TRANSCRIBE_MODELS_DIR", str(folder))
    return folder


def _book(tmp: Path) -> tuple[Path, Path, list[str]]:
    """Pages 1-3 (the top nine lines of three pages) and a folder with the checked text of pages 1 and 2."""
    pages, checked = tmp / "pages", tmp / "checked"
    pages.mkdir()
    checked.mkdir()
    truths = []
    for n, scan in enumerate(("0009", "0010", "0011"), 1):
        with Image.open(BOOK / f"akz1860_{scan}.jpg") as im:
            im.convert("L").crop((0, 0, im.width, 520)).save(pages / f"{n:04d}.png", dpi=(380, 380))
        truths.append("\n".join((BOOK / f"akz1860_{scan}.gt.txt").read_text(encoding="utf-8").splitlines()[:9]))
    for n in (1, 2):
        (checked / f"{n:04d}.gt.txt").write_text(truths[n - 1], encoding="utf-8")
    return pages, checked, truths


def ocr(folder: Path, *args: str):
    return runner.invoke(app, ["ocr", str(folder), *args])


def rows(pages: Path) -> list[sqlite3.Row]:
    with sqlite3.connect(pages / "transcribe.db") as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM book_models ORDER BY updated, rowid").fetchall()


def test_a_book_model_is_trained_measured_recorded_used_and_not_trained_again(models_dir, tmp_path):
    pages, checked, truths = _book(tmp_path)
    # A checked line with a character german_print cannot write: that line is left out, and the run says so.
    first = truths[0].splitlines()
    first[3] += " ᗅ"
    (checked / "0001.gt.txt").write_text("\n".join(first), encoding="utf-8")
    args = ("--models", "frk", "--learn-from", str(checked), "--learn-minutes", "0.1", "--jobs", "2")

    run = ocr(pages, *args)
    assert run.exit_code == 0, run.output
    m = re.search(r"Learned from .*checked \(2 page\(s\)\): book model trained on (\d+) lines \((\d+) iterations, "
                  r"\d+ CPU s\); on (\d+) held-back lines of this book: ([\d.]+) with (\S+) (?:instead of|against) "
                  r"([\d.]+) with (?:german_print|book)(?:: german_print kept)?; reading with (\S+), --psm (\d)",
                  run.output)
    assert m, run.output
    assert int(m[1]) >= 8 and int(m[2]) >= 100 and int(m[3]) >= 2 and m[5] == m[7]
    assert "cannot write 'ᗅ'" in run.output
    assert (pages / "model" / "book.traineddata").stat().st_size > 1_000_000
    (row,) = rows(pages)
    cers = json.loads(row["held_back_cer"])
    # frk is read as german_print by default (it is installed): that is both the default and the base model
    assert set(cers) == {"german_print", "book"}
    # the rest is read with whatever read the held-back lines best (the base models when the book model is worse)
    assert row["chosen"] == min(cers, key=cers.get) and row["lines"] == int(m[1])
    doc = json.loads((pages / "ocr.json").read_text(encoding="utf-8"))
    assert "held-back lines of this book" in doc["settings"]["learning"]
    assert {p["models"] for p in doc["pages"]} == {row["chosen"]}
    # a scaled grey copy was tried with the chosen psm, and taken only for a clear gain on the checked pages
    scale_cer = json.loads(row["scale_cer"])
    assert set(scale_cer) == {"1", "0.85"}
    assert row["scale"] == (0.85 if scale_cer["1"] - scale_cer["0.85"] >= max(0.002, 0.05 * scale_cer["1"]) else 1.0)
    assert {p["choices"].get("scale", 1.0) for p in doc["pages"]} == {row["scale"]}
    assert doc["settings"]["model_files"][row["chosen"]] != "?"  # the model file's identity is in the page keys
    log = (next((pages / "model").glob("train-*")) / "lstmtraining.log")
    trained_at = log.stat().st_mtime_ns

    again = ocr(pages, *args)
    assert again.exit_code == 0, again.output
    assert "recorded earlier, not trained again" in again.output and "3 unchanged" in again.output
    assert log.stat().st_mtime_ns == trained_at and len(rows(pages)) == 1

    # Other OCR settings (--fast reads frk with Debian's frk): the choice is measured again for them, against what
    # they read with, but the book model is not trained again.
    fast = ocr(pages, *args, "--fast")
    assert fast.exit_code == 0, fast.output
    assert "measured again for these OCR settings, not trained again" in fast.output
    assert log.stat().st_mtime_ns == trained_at and len(rows(pages)) == 2
    assert set(json.loads(rows(pages)[-1]["held_back_cer"])) == {"frk", "german_print", "book"}

    (checked / "0003.gt.txt").write_text(truths[2], encoding="utf-8")  # one more page checked: learned again
    more = ocr(pages, "--models", "frk", "--learn-from", str(checked), "--learn-minutes", "0.05", "--jobs", "2")
    assert more.exit_code == 0, more.output
    assert "(3 page(s)): book model trained on" in more.output and "iterations" in more.output
    assert len(rows(pages)) == 3 and rows(pages)[-1]["pages"] == 3


def test_the_held_back_lines_decide_and_the_base_is_kept_unless_the_book_model_is_better():
    assert L.choose({"Fraktur+frk": 0.142, "german_print": 0.080, "book": 0.031}, "Fraktur+frk") == "book"
    assert L.choose({"Fraktur+frk": 0.142, "german_print": 0.080, "book": 0.090}, "Fraktur+frk") == "german_print"
    assert L.choose({"frk": 0.05, "german_print": 0.05, "book": 0.05}, "frk") == "frk"  # a tie keeps the default
    assert L.choose({}, "frk") == "frk"  # nothing held back: nothing changes


def test_lines_align_only_where_the_reading_and_the_checked_line_clearly_match():
    from transcribe.ocr.train import align

    ocr = ["Aber hüten wir uns vor Täuſchnng. Der Unglaube", "7", "im Gewande des Glanbens, der Glaube",
           "ganz etwas anderes hier"]
    checked = ["7", "Aber hüten wir uns vor Täuſchung. Der Unglaube", "im Gewande des Glaubens, der Glaube",
               "angenommen zu haben."]
    pairs = {(i, j) for i, j, _ in align(ocr, checked)}
    assert pairs == {(0, 1), (2, 2)}  # reordered lines found; the page number is too short; no match no line


# -- the text of a proofread Page: page, reduced to what is printed -------------------------------------------

EN_PAGE = """<noinclude><pagequality level="3" user="Alice" />{{rh|12|''THE HISTORY OF ROME.''|[Book I.}}</noinclude>\
{{c|{{larger|CHAPTER II.}}}}
<!-- proofread against the 1862 edition -->
It was a '''dark''' night,<ref>See the map on p.&nbsp;3.</ref> and the [[Author:Jane Doe|author]] wrote
{{sc|Many}} things in {{hws|hy|hyphen}}
[[File:Map.png|thumb|200px|a [[map]] of the city]]
== {{center|The Forum}} ==
: a line<br />and a second line {{gap}}{{lang|la|Senatus}}
<noinclude>{{smallrefs}}</noinclude>"""

DE_PAGE = """<noinclude><pagequality level="4" user="Bob" />{{Seitenstatus2|[[Heinrich Heine]]|[[Buch]]||}}\
<br /></noinclude>{{SperrSchrift|Vorrede}}.

Es war einmal ein {{Korr|König|Köuig}}, der hatte drei Töchter,
{{Center|{{x-larger|ENDE.}}}}<noinclude><references/></noinclude>"""


def test_wiki_markup_is_reduced_to_what_the_page_prints():
    assert printed_text(parse_page(EN_PAGE)).splitlines() == [
        "12 THE HISTORY OF ROME. [Book I.",
        "CHAPTER II.",
        "It was a dark night, and the author wrote",
        "Many things in hy-",
        "The Forum",
        "a line",
        "and a second line Senatus",
        "See the map on p. 3.",  # the footnote, where the print has it: after the body
    ]
    # de: an unknown header template prints nothing; what was printed (Köuig) is kept, not the correction
    assert printed_text(parse_page(DE_PAGE)).splitlines() == [
        "Vorrede.", "Es war einmal ein Köuig, der hatte drei Töchter,", "ENDE."]
    # the wiki's own conventions are what a model learned from it writes: long s as s stays s
    assert printed_text(parse_page("Die Geschichte des Staates")) == "Die Geschichte des Staates"


def test_the_checked_pages_of_an_index_on_the_wiki_are_its_proofread_pages_as_printed(wiki_en):
    from transcribe.wiki.site import connect

    alice = wiki_en.human("Alice")
    alice.edit("Page:Book.djvu/1", EN_PAGE)
    alice.edit("Page:Book.djvu/2", DE_PAGE.replace('level="4" user="Bob"', 'level="1" user="Alice"'))
    alice.edit("Page:Book.djvu/3", DE_PAGE)
    checked = L.checked_pages_from_wiki(connect(wiki_en.api_url), "Index:Book.djvu")
    assert sorted(checked) == [1, 3]  # level 3 and 4; the level-1 page is not checked text
    assert checked[1][0] == "Page:Book.djvu/1"
    assert checked[1][1].splitlines()[:2] == ["12 THE HISTORY OF ROME. [Book I.", "CHAPTER II."]  # as printed
    assert "{{" not in checked[3][1] and "Köuig" in checked[3][1]


def test_learning_says_what_is_missing_in_one_line(tmp_path, monkeypatch):
    pages, checked, _ = _book(tmp_path)
    nothing = tmp_path / "unrelated"
    nothing.mkdir()
    (nothing / "other.gt.txt").write_text("x", encoding="utf-8")
    wrong = ocr(pages, "--models", "frk", "--learn-from", str(nothing))
    assert wrong.exit_code == ExitCode.INPUT and "named after a page image" in wrong.output
    assert ocr(pages, "--models", "frk", "--learn-from", "Index:Book.djvu").exit_code == ExitCode.INPUT
    empty = tmp_path / "no-models"
    empty.mkdir()
    monkeypatch.setenv("TRANSCRIBE_MODELS_DIR", str(empty))
    missing = ocr(pages, "--models", "frk", "--learn-from", str(checked))
    assert missing.exit_code == ExitCode.LANGUAGE and "langs install german_print" in missing.output
    assert not (pages / "0001.txt").exists()  # nothing read before the model is there


def _first_page_lines(tmp_path: Path) -> list:
    """The aligned lines of the first page of _book, cut for training (lines_of_page), with german_print."""
    from transcribe.ocr import tesseract as T
    from transcribe.ocr import train as TR

    pages, _, truths = _book(tmp_path)
    read = T.read_page(pages / "0001.png", tmp_path / "read", models="german_print", psm=3,
                       tessdata_dir=str(BASE.parent), timeout=120)
    data = TR.TrainingData()
    TR.lines_of_page("0001", pages / "0001.png", read.tsv, truths[0], tmp_path / "lines", None, data)
    return data.lines


def test_a_stopped_training_continues_from_its_checkpoint(tmp_path):
    from transcribe.ocr import train as TR

    base = BASE
    lstmf = TR.make_lstmf(_first_page_lines(tmp_path)[:4], base.parent, "german_print")
    assert len(lstmf) == 4
    first = TR.train(base, lstmf, tmp_path / "t", max_iterations=100, cpu_budget=600)
    checkpoint = tmp_path / "t" / "book.resume"
    assert first.iterations == 100 and checkpoint.is_file() and first.model.is_file()
    assert not list((tmp_path / "t").glob("book_*.checkpoint"))  # lstmtraining's 10 MB best models are removed
    then = TR.train(base, lstmf, tmp_path / "t", max_iterations=200, cpu_budget=600)  # the next run goes on
    assert then.iterations == 200
    log = (tmp_path / "t" / "lstmtraining.log").read_text(encoding="utf-8")
    assert f"Loaded file {tmp_path / 't' / 'book_checkpoint'}" in log  # its copy of the last whole checkpoint


def test_lines_read_with_little_confidence_are_left_out_only_where_the_text_follows_the_hocr():
    hocr = ("<div class='ocr_carea'><p class='ocr_par'>"
            "<span class='ocr_line' id='l1'><span class='ocrx_word' id='w1' title='bbox 0 0 9 9; x_wconf 91'>Les</span> "
            "<span class='ocrx_word' id='w2' title='bbox 0 0 9 9; x_wconf 89'>faictz</span></span>"
            "<span class='ocr_line' id='l2'><span class='ocrx_word' id='w3' title='bbox 0 0 9 9; x_wconf 12'>,;:'</span> "
            "<span class='ocrx_word' id='w4' title='bbox 0 0 9 9; x_wconf 30'>ii</span></span>"
            "<span class='ocr_line' id='l3'><span class='ocrx_word' id='w5' title='bbox 0 0 9 9; x_wconf 70'>du</span>"
            "</span></p></div>")
    assert L.drop_unsure_lines("Les faictz\n,;:' ii\n\ndu\n", hocr, 50) == ("Les faictz\n\ndu\n", 1)
    assert L.drop_unsure_lines("Les faictz\n,;:' ii\n\ndu\n", hocr, 10) == ("Les faictz\n,;:' ii\n\ndu\n", 0)
    assert L.drop_unsure_lines("du Les faictz\n,;:' ii\n", hocr, 50) == ("du Les faictz\n,;:' ii\n", 0)  # reordered


def _lstmtraining_of(folder: Path) -> int | None:
    """The pid of a live lstmtraining working in `folder`, or None."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and any(a.endswith(b"lstmtraining") for a in cmdline) and b"--stop_training" not in cmdline \
                and str(folder).encode() in b" ".join(cmdline):
            return int(proc.name)
    return None


def _wait_for(condition, seconds: float = 90):
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        got = condition()
        if got:
            return got
        time.sleep(0.2)
    return condition()


def test_a_training_dies_with_transcribe_and_one_killed_from_outside_is_not_taken_as_finished(tmp_path):
    """kill -9 of transcribe stops its lstmtraining (no training goes on unbounded and races the next run); a
    training ended by a signal raises TrainingStopped (exit 130) and keeps its checkpoint, instead of being
    recorded as the book's model."""
    import os
    import signal
    import subprocess
    import sys
    import threading

    from transcribe.errors import TrainingStopped
    from transcribe.ocr import train as TR

    base = BASE
    lines = _first_page_lines(tmp_path)[:3]
    for k, line in enumerate(lines):  # each line labelled with another's text: the training cannot end by itself
        with Image.open(line.image) as im:
            TR.write_box(line.image.with_suffix(".box"), lines[(k + 1) % 3].text, im.width, im.height)
    lstmf = [str(p) for p in TR.make_lstmf(lines, base.parent, "german_print")]

    folder = tmp_path / "killed"
    code = ("import sys, json; from pathlib import Path; from transcribe.ocr import train as TR; "
            "a = json.loads(sys.argv[1]); TR.train(Path(a[0]), [Path(p) for p in a[1]], Path(a[2]), "
            "max_iterations=100000, cpu_budget=600)")
    child = subprocess.Popen([sys.executable, "-c", code, json.dumps([str(base), lstmf, str(folder)])])
    try:
        pid = _wait_for(lambda: _lstmtraining_of(folder))
        assert pid, "lstmtraining did not start"
        child.kill()  # kill -9 of transcribe
        child.wait()
        assert _wait_for(lambda: _lstmtraining_of(folder) is None, 10), "lstmtraining outlived transcribe"
    finally:
        child.kill()
        if (left := _lstmtraining_of(folder)) is not None:
            os.kill(left, signal.SIGKILL)

    folder = tmp_path / "stopped"
    outcome: list[BaseException | object] = []

    def run() -> None:
        try:
            outcome.append(TR.train(base, [Path(p) for p in lstmf], folder, max_iterations=100000, cpu_budget=600))
        except BaseException as e:  # noqa: BLE001  the test looks at what it was
            outcome.append(e)

    worker = threading.Thread(target=run)
    worker.start()
    assert _wait_for(lambda: (folder / "book.resume").is_file()), "no checkpoint was written"
    os.kill(_lstmtraining_of(folder), signal.SIGTERM)  # ended from outside, not by its CPU budget
    worker.join(60)
    assert len(outcome) == 1 and isinstance(outcome[0], TrainingStopped), outcome
    assert outcome[0].exit_code == ExitCode.INTERRUPTED and "continues from its last checkpoint" in str(outcome[0])
    assert (folder / "book.resume").is_file() and not (folder / "book.traineddata").exists()


def test_a_page_read_from_a_scaled_copy_keeps_its_boxes_in_the_page_image(tmp_path):
    """A book whose checked pages chose a scaled-down copy: the hOCR (text layers, the bundle) stays in the page
    image's own pixels, where the full-size reading puts the same words."""
    from transcribe.ocr import OcrSettings, ocr_pages
    from transcribe.store import DB_NAME, Store

    pages, _, _ = _book(tmp_path)
    full = tmp_path / "full"
    shutil.copytree(pages, full)
    for folder, scale in ((pages, 0.85), (full, 1.0)):
        with Store(folder / DB_NAME) as store:
            ocr_pages(folder, OcrSettings(models="german_print", tessdata_dir=str(BASE.parent), scale=scale),
                      store=store, work=store.work("."), jobs=2)
    hocr = (pages / "0001.hocr").read_text(encoding="utf-8")
    with Image.open(pages / "0001.png") as im:
        width, height = im.size
    page = re.search(r"image \"([^\"]+)\"; bbox 0 0 (\d+) (\d+)", hocr)
    assert page and page[1] == "0001.png" and abs(int(page[2]) - width) <= 1 and abs(int(page[3]) - height) <= 1

    def words(text: str) -> dict[str, tuple[int, ...]]:
        return {w: tuple(map(int, b)) for *b, w in re.findall(
            r"class='ocrx_word'[^>]*bbox (\d+) (\d+) (\d+) (\d+);[^>]*>([^<]+)<", text)}

    scaled, unscaled = words(hocr), words((full / "0001.hocr").read_text(encoding="utf-8"))
    both = [w for w in scaled if w in unscaled]
    assert len(both) >= 20
    assert all(max(abs(a - b) for a, b in zip(scaled[w], unscaled[w])) <= 6 for w in both)
    doc = json.loads((pages / "ocr.json").read_text(encoding="utf-8"))
    assert {p["choices"]["scale"] for p in doc["pages"]} == {0.85}
