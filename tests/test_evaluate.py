"""transcribe evaluate: exact error rates on hand-made texts, pairing of files, the output formats."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from transcribe.cli import app
from transcribe.errors import ExitCode, InputError
from transcribe.evaluate import evaluate, normalize, score

runner = CliRunner()
REPO = Path(__file__).resolve().parents[1]


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_exact_error_rates_on_small_texts():
    s = score("p", "Der Hund", "Dcr Hund")  # one substitution
    assert (s.chars, s.char_errors, s.cer) == (8, 1, 1 / 8)
    assert (s.words, s.word_errors, s.wer) == (2, 1, 0.5)
    s = score("p", "abc def", "abcdef")  # one deletion (the space): two words become one
    assert (s.char_errors, s.word_errors) == (1, 2)
    s = score("p", "Wort", "Wort und mehr")  # OCR invented text: insertions count, CER can pass 1
    assert s.char_errors == 9 and s.cer == 9 / 4
    assert score("p", "", "").cer == 0.0 and score("p", "", "x").cer == 1.0


def test_strict_normalisation_is_the_corpus_readme_one():
    assert normalize("  Ein\tWort\n\n  und\r\nnoch eins ") == "Ein Wort und noch eins"
    assert normalize("e\u0301") == "\u00e9"  # NFC
    assert score("p", "caf\u00e9\nau lait", "cafe\u0301 au   lait").char_errors == 0
    assert score("p", "ſchoͤn", "schön").char_errors == 3  # ſ/s, and oͤ (o + e above) against ö (one code point)


def test_relaxed_normalisation_forgives_conventions_not_errors():
    assert normalize("ſchoͤn uñ waꝛ", relaxed=True) == "schön uñ war"
    assert normalize("„Ja“ – ‚nein‘ — ﬁn⸗de", relaxed=True) == "\"Ja\" - 'nein' - fin-de"
    assert normalize("λόγοςʼ", relaxed=True) == "λόγος'"
    assert score("p", "ſchoͤn", "schön", relaxed=True).char_errors == 0
    assert score("p", "ſchoͤn", "schen", relaxed=True).char_errors == 1


def test_overall_rates_are_weighted_by_size(tmp_path):
    ocr = write(tmp_path / "ocr", {"a.txt": "abcdefghiX", "b.txt": "x" * 100})
    gt = write(tmp_path / "gt", {"a.gt.txt": "abcdefghij", "b.gt.txt": "x" * 100})
    result = evaluate(ocr, gt)
    assert [p.cer for p in result.pages] == [0.1, 0.0]
    assert result.cer == pytest.approx(1 / 110)  # not the mean of the pages' rates (0.05)
    assert (result.words, result.word_errors) == (2, 1)


def test_pairs_gt_by_name_or_by_the_source_of_split_pages(tmp_path):
    gt = write(tmp_path / "gt", {"scan_17.gt.txt": "siebzehn", "0002.txt": "zwei", "other.gt.txt": "x"})
    ocr = write(tmp_path / "pages", {"0001.txt": "siebzehn", "0002.txt": "zwel", "0003.txt": "drei"})
    (ocr / "pages.json").write_text(json.dumps({"scan": "gt", "pages": [
        {"n": 1, "image": "0001.png", "source": "gt/scan_17.tif"},
        {"n": 2, "image": "0002.png", "source": "gt/scan_2.tif"},
        {"n": 3, "image": "0003.png", "source": "book.pdf#page=3"},
    ]}), encoding="utf-8")
    result = evaluate(ocr, gt)
    assert [(p.page, p.gt_file, p.char_errors) for p in result.pages] == [
        ("0001", "scan_17.gt.txt", 0), ("0002", "0002.txt", 1)]
    assert result.unmatched == ["0003.txt"]


def test_cli_table_csv_json_and_errors(tmp_path):
    ocr = write(tmp_path / "ocr", {"p1.txt": "Der Hund", "p2.txt": "nichts"})
    gt = write(tmp_path / "gt", {"p1.gt.txt": "Der Hund"})
    env = {"COLUMNS": "100"}
    table = runner.invoke(app, ["evaluate", str(ocr), str(gt)], env=env)
    assert table.exit_code == 0, table.output
    assert "p1" in table.stdout and "0.00%" in table.stdout and "overall" in table.stdout
    assert "p2.txt" in table.stderr and "no ground truth" in table.stderr

    rows = list(csv.DictReader(io.StringIO(
        runner.invoke(app, ["evaluate", str(ocr), str(gt), "--format", "csv"], env=env).stdout)))
    assert [r["page"] for r in rows] == ["p1", "overall"] and rows[0]["cer"] == "0.0000"

    doc = json.loads(runner.invoke(app, ["evaluate", str(ocr), str(gt), "-f", "json", "--relaxed"], env=env).stdout)
    assert doc["normalisation"] == "relaxed" and doc["overall"]["chars"] == 8 and doc["unmatched"] == ["p2.txt"]

    nothing = runner.invoke(app, ["evaluate", str(gt), str(ocr)], env=env)
    assert nothing.exit_code == ExitCode.INPUT and "X.gt.txt" in nothing.output
    assert runner.invoke(app, ["evaluate", str(tmp_path / "nope"), str(gt)], env=env).exit_code == ExitCode.INPUT
    with pytest.raises(InputError):
        evaluate(tmp_path / "nope", gt)


def test_scores_plain_tesseract_like_baseline_csv_in_a_real_process(corpus, baseline, tmp_path):
    """The published baseline numbers come out again from Tesseract's text of two pages, strict and relaxed."""
    pages = ["vdsbb_borrdisc_0019.tif", "vdsbb_fiscfrie_0015.tif"]
    ocr = tmp_path / "ocr"
    ocr.mkdir()
    langs = {"vdsbb_borrdisc_0019.tif": "fra", "vdsbb_fiscfrie_0015.tif": "deu"}
    for page in pages:
        out = subprocess.run(["tesseract", str(corpus / page), "-", "-l", langs[page]], capture_output=True,
                             text=True, check=True, env={"OMP_THREAD_LIMIT": "1", "PATH": "/usr/bin:/bin"})
        (ocr / page.replace(".tif", ".txt")).write_text(out.stdout, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "transcribe", "evaluate", str(ocr), str(corpus), "-f", "csv"],
                          check=False, capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 0, proc.stderr
    cer = {r["page"]: float(r["cer"]) for r in csv.DictReader(io.StringIO(proc.stdout))}
    for page in pages:
        assert cer[page.removesuffix(".tif")] == pytest.approx(baseline[page], abs=0.00006)
    relaxed = json.loads(subprocess.run(
        [sys.executable, "-m", "transcribe", "evaluate", str(ocr), str(corpus), "-f", "json", "--relaxed"],
        capture_output=True, text=True, cwd=REPO, timeout=60, check=True).stdout)
    with open(corpus / "baseline.csv", newline="", encoding="utf-8") as f:
        want = {r["page"]: float(r["cer_relaxed"]) for r in csv.DictReader(f)}
    for p in relaxed["pages"]:
        assert p["cer"] == pytest.approx(want[p["page"] + ".tif"], abs=0.00006)


def test_two_ocr_folders_compared_page_by_page(tmp_path):
    gt = write(tmp_path / "gt", {"p1.gt.txt": "abcdefghij", "p2.gt.txt": "abcdefghij", "p3.gt.txt": "abcdefghij"})
    new = write(tmp_path / "new", {"p1.txt": "abcdefghij", "p2.txt": "abcdefghXX", "p3.txt": "abcdefghiX"})
    old = write(tmp_path / "old", {"p1.txt": "abcdefgXXX", "p2.txt": "abcdefghij", "p3.txt": "abcdefghiX",
                                   "p4.txt": "only here"})
    env = {"COLUMNS": "120"}
    table = runner.invoke(app, ["evaluate", str(new), str(gt), "--against", str(old)], env=env)
    assert table.exit_code == 0, table.output
    lines = {ln.split()[0]: ln for ln in table.stdout.splitlines() if ln.startswith("p")}
    assert lines["p1"].split()[-2:] == ["-30.00%", "better"] and lines["p2"].split()[-2:] == ["+20.00%", "worse"]
    assert lines["p3"].endswith("same")
    assert "better on 1 page(s), worse on 1, the same on 1" in table.stdout
    assert "new: about 6.0 wrong characters in every 60-character line; old: about 8.0" in table.stdout
    doc = json.loads(runner.invoke(app, ["evaluate", str(new), str(gt), "--against", str(old), "-f", "json"],
                                   env=env).stdout)
    assert doc["overall"] == {"cer": 0.1, "other_cer": pytest.approx(4 / 30), "change": pytest.approx(-1 / 30),
                              "better": 1, "worse": 1, "same": 1}
    assert [p["verdict"] for p in doc["pages"]] == ["better", "worse", "same"]
    rows = list(csv.DictReader(io.StringIO(runner.invoke(
        app, ["evaluate", str(new), str(gt), "--against", str(old), "-f", "csv"], env=env).stdout)))
    assert rows[0] == {"page": "p1", "chars": "10", "cer": "0.0000", "other_cer": "0.3000", "change": "-0.3000",
                       "verdict": "better"}
    unrelated = write(tmp_path / "unrelated", {"q.txt": "x"})
    write(gt, {"q.gt.txt": "y"})
    assert runner.invoke(app, ["evaluate", str(new), str(gt), "--against", str(unrelated)],
                         env=env).exit_code == ExitCode.INPUT


def test_two_folders_both_called_pages_get_distinct_headings(tmp_path):
    gt = write(tmp_path / "gt", {"p1.gt.txt": "abcdefghij"})
    fast = write(tmp_path / "fast" / "pages", {"p1.txt": "abcdefghiX"})
    best = write(tmp_path / "best" / "pages", {"p1.txt": "abcdefghij"})
    out = runner.invoke(app, ["evaluate", str(best), str(gt), "--against", str(fast)], env={"COLUMNS": "120"})
    assert out.exit_code == 0, out.output
    header = out.stdout.splitlines()[0].split()
    assert header == ["page", "chars", "best/pages", "fast/pages", "change", "verdict"]
    assert "best/pages against fast/pages: better on 1 page(s)" in out.stdout
    json_out = json.loads(runner.invoke(app, ["evaluate", str(best), str(gt), "--against", str(fast), "-f",
                                              "json"]).stdout)
    assert (json_out["folder"], json_out["other"]) == ("best/pages", "fast/pages")


def test_says_what_the_cer_means_and_how_plain_tesseract_did(tmp_path):
    gt = write(tmp_path / "gt", {"a.gt.txt": "x" * 100, "b.gt.txt": "y" * 100})
    ocr = write(tmp_path / "ocr", {"a.txt": "x" * 95, "b.txt": "y" * 100})
    out = runner.invoke(app, ["evaluate", str(ocr), str(gt)]).stdout
    assert "CER 2.50%: about 1.5 wrong characters in every 60-character line." in out
    # WER is explained too: a page of one 100-letter word with 5 wrong letters is one wrong word in two
    assert "WER 50.00%: about 5.0 words in every 10 need a correction" in out
    assert "Plain Tesseract" not in out  # not known for these pages
    (gt / "baseline.csv").write_text("page,lang,chars,cer,cer_relaxed\na.tif,fra,100,0.1000,0.05\n"
                                     "b.tif,fra,100,0.0500,0.05\n", encoding="utf-8")
    out = runner.invoke(app, ["evaluate", str(ocr), str(gt)]).stdout
    assert "Plain Tesseract on the same 2 page(s) (baseline.csv): CER 7.50%, about 4.5 wrong" in out
    doc = json.loads(runner.invoke(app, ["evaluate", str(ocr), str(gt), "-f", "json", "--relaxed"]).stdout)
    assert doc["plain_tesseract_cer"] == 0.05 and doc["wrong_per_60_characters"] == 1.5
