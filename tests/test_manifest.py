"""The batch manifest: TOML and spreadsheet CSV, every problem reported at once, before any work starts."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import REPO
from typer.testing import CliRunner

from transcribe.cli import app
from transcribe.errors import ExitCode, ManifestError
from transcribe.manifest import load_manifest, target_file_name

runner = CliRunner()
SAMPLE_PDF = REPO / "samples" / "glauber" / "glauber.pdf"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A library's folder: two scans (copies of the sample, each a real PDF) and a folder of page images."""
    (tmp_path / "scans").mkdir()
    shutil.copy(SAMPLE_PDF, tmp_path / "scans" / "Glauber Annotationes.pdf")
    shutil.copy(SAMPLE_PDF, tmp_path / "scans" / "second.pdf")
    (tmp_path / "scans" / "photos").mkdir()
    (tmp_path / "scans" / "photos" / "0001.png").write_bytes(b"")
    return tmp_path


def test_toml_defaults_and_derived_ids(folder: Path) -> None:
    (folder / "books.toml").write_text('''
[defaults]
wiki = "wikisource:de"
licence = "PD-old-70"
institution = "Staatsbibliothek zu Berlin"

[[work]]
scan = "scans/Glauber Annotationes.pdf"
title = "Annotationes vber den Appendicem"
language = "de"
models = "frk"
year = 1659
page_labels = "1=10"

[[work]]
id = "photos"
scan = "scans/photos"
title = "Photographed pages"
language = "de"
licence = "PD-scan"
''', encoding="utf-8")
    m = load_manifest(folder / "books.toml")
    first, second = m.entries
    assert first.id == "Glauber-Annotationes"  # from the scan's file name
    assert first.meta.institution == "Staatsbibliothek zu Berlin" and first.meta.licence == "PD-old-70"
    assert first.meta.year == "1659" and first.meta.models == "frk"
    assert second.meta.licence == "PD-scan"  # a work's own value beats [defaults]
    assert first.scan == (folder / "scans" / "Glauber Annotationes.pdf").resolve()
    assert target_file_name(first) == "Annotationes vber den Appendicem (1659).pdf"
    assert target_file_name(second) == "Photographed pages.pdf"  # a folder of images is uploaded as a PDF
    djvu = replace(second, meta=replace(second.meta, file_name="Photographed pages.djvu"))
    assert target_file_name(djvu) == "Photographed pages.djvu"  # ... or as a DjVu when its name says so
    assert m.state_path == (folder / "books.transcribe.db").resolve()
    assert m.pages_dir(second) == (folder / "books.transcribe" / "photos" / "pages").resolve()


def test_spreadsheet_csv_with_bom_semicolons_and_loose_headers(folder: Path) -> None:
    text = ("Id;Scan File;TITLE;Author;Language;Page Labels;Source URL;Licence\r\n"
            'glauber;scans/second.pdf;"Annotationes; vber den Appendicem";Johann Rudolf Glauber;de;1=10;'
            "https://example.org/ppn;PD-old-70\r\n"
            ";;;;;;;\r\n")  # spreadsheets export empty rows too
    (folder / "books.csv").write_bytes("\ufeff".encode() + text.encode("utf-8"))
    m = load_manifest(folder / "books.csv", publishing=True)
    (e,) = m.entries
    assert e.id == "glauber" and e.meta.title == "Annotationes; vber den Appendicem"
    assert e.meta.page_labels == "1=10" and e.meta.source_url == "https://example.org/ppn"
    assert e.where == "books.csv line 2"


def test_every_problem_of_a_csv_is_reported_at_once_by_line_and_column(folder: Path) -> None:
    (folder / "books.csv").write_text(
        "id,scan,title,language,year,page_labels,licence\n"
        "a,scans/second.pdf,Good book,de,1881,1=1,PD-old\n"  # line 2: fine
        "b,scans/missing.pdf,,de,18x1,,PD-old\n"  # line 3: scan, title, year
        "a,scans/second.pdf,Other,xx,1700,1to=3,PD-old\n"  # line 4: duplicate id, language, labels
        "c,scans/Glauber Annotationes.pdf,Good book,de,1881,,PD-old\n"  # line 5: same file name as line 2
        "d,scans/second.pdf,Fine,de,,,\n",  # line 6: no licence (publishing)
        encoding="utf-8")
    result = runner.invoke(app, ["run", str(folder / "books.csv")], env={"COLUMNS": "200"})
    assert result.exit_code == ExitCode.MANIFEST, result.output
    out = result.stderr
    expected = [
        "books.csv line 3: the scan 'scans/missing.pdf' does not exist",
        "books.csv line 3: 'title' is missing",
        "books.csv line 3: year '18x1' is not a year",
        "books.csv line 4: language: 'xx' is not a Wikisource language code",
        "books.csv line 4: page_labels: cannot read '1to=3'",
        "books.csv line 4: the id 'a' is already used by books.csv line 2",
        "books.csv line 5: the file name 'File:Good book (1881).pdf' is also the target of books.csv line 2",
        "books.csv line 6: 'licence' is missing",
    ]
    for line in expected:
        assert line in out, f"missing: {line}\n{out}"
    assert "8 problem(s)" in out and "nothing was started" in out
    assert "line 2:" not in out
    assert not (folder / "books.transcribe.db").exists(), "a bad manifest must not start anything"


def test_missing_models_are_found_before_any_work(folder: Path) -> None:
    (folder / "books.toml").write_text('[[work]]\nscan = "scans/second.pdf"\ntitle = "T"\nlanguage = "de"\n'
                                       'models = "nosuchmodel"\n', encoding="utf-8")
    with pytest.raises(ManifestError) as e:
        load_manifest(folder / "books.toml")
    (problem,) = e.value.problems
    assert problem.startswith("books.toml, work 'scans/second.pdf': models:") and "nosuchmodel" in problem


def test_a_misspelt_field_is_a_problem_and_a_far_one_an_extra_field(folder: Path) -> None:
    (folder / "books.toml").write_text('[[work]]\nscan = "scans/second.pdf"\ntitel = "T"\nlanguage = "de"\n',
                                       encoding="utf-8")
    result = runner.invoke(app, ["run", str(folder / "books.toml"), "--export", str(folder / "out")])
    assert result.exit_code == ExitCode.MANIFEST
    assert "books.toml: the field 'titel' is not a known field; did you mean 'title'?" in result.stderr
    assert "'title' is missing" in result.stderr
    # A spreadsheet: every misspelt column is listed once with its suggestion, and nothing is exported.
    (folder / "books.csv").write_text("scan;title;Autor;language;Publsher;Signatur\n"
                                      "scans/second.pdf;T;Glauber;de;Brandt;Ms. 12\n", encoding="utf-8")
    result = runner.invoke(app, ["run", str(folder / "books.csv"), "--export", str(folder / "out")])
    assert result.exit_code == ExitCode.MANIFEST, result.output
    assert "books.csv line 1: the column 'Autor' is not a known field; did you mean 'author'?" in result.stderr
    assert "books.csv line 1: the column 'Publsher' is not a known field; did you mean 'publisher'?" in result.stderr
    assert "2 problem(s)" in result.stderr and not (folder / "out").exists()
    # A column far from every field is an extra field, with a note that says where it goes.
    (folder / "books.csv").write_text("scan;title;author;language;Signatur;Volumes\n"
                                      "scans/second.pdf;T;Glauber;de;Ms. 12;3\n", encoding="utf-8")
    m = load_manifest(folder / "books.csv")
    assert m.entries[0].meta.extra == {"signatur": "Ms. 12", "volumes": "3"}
    assert m.warnings[0].startswith("books.csv: the column 'Signatur' is not a known field; its values go to the "
                                    "Index page's field of that name where the wiki's Index form has one")
    # work.toml (publish WORK): the misspelt key is named next to the field it leaves missing.
    work = folder / "work"
    work.mkdir()
    shutil.copy(SAMPLE_PDF, work / "glauber.pdf")
    (work / "work.toml").write_text('titel = "T"\nlanguage = "de"\nscan = "glauber.pdf"\n', encoding="utf-8")
    result = runner.invoke(app, ["publish", str(work), "--export", str(folder / "out")])
    assert result.exit_code == ExitCode.MANIFEST
    assert "'titel' is not a known field; did you mean 'title'? (rename it)" in result.stderr
    assert "'title' is missing" in result.stderr


def test_toml_syntax_error_names_the_line(folder: Path) -> None:
    (folder / "books.toml").write_text('[[work]]\ntitle = "unterminated\n', encoding="utf-8")
    result = runner.invoke(app, ["run", str(folder / "books.toml"), "--export", str(folder / "out")])
    assert result.exit_code == ExitCode.MANIFEST
    assert "books.toml is not valid TOML" in result.stderr and "line 2" in result.stderr


def test_init_writes_placeholders_refused_until_filled_in_and_never_overwrites(folder: Path) -> None:
    target = folder / "books.toml"
    result = runner.invoke(app, ["init", str(target)])
    assert result.exit_code == 0, result.output
    assert f"Wrote {target}." in result.stdout and "transcribe run" in result.stderr
    # Run unedited, it publishes nobody's metadata: every field still to fill in is named, nothing starts.
    result = runner.invoke(app, ["run", str(target), "--export", str(folder / "out")])
    assert result.exit_code == ExitCode.MANIFEST, result.output
    for key in ("wiki", "licence", "institution"):
        assert f"books.toml, [defaults]: '{key}' is still the example's placeholder <" in result.stderr, key
    for key in ("scan", "title", "author", "year", "language", "source_url"):
        assert f"'{key}' is still the example's placeholder <" in result.stderr, key
    assert "9 problem(s)" in result.stderr and not (folder / "out").exists()
    # a needed field cannot be deleted away; an optional one can
    assert "placeholder <title as printed>: fill it in\n" in result.stderr
    assert "placeholder <author>: fill it in, or delete the line if the work has none" in result.stderr
    assert "Staatsbibliothek" not in "".join(ln.split("#")[0] for ln in target.read_text().splitlines())
    # Filled in (placeholders replaced, an optional one deleted), it is a valid manifest as it stands.
    filled = {"<wikisource:xx>": "wikisource:de", "<licence template>": "PD-old-70", "<your library>": "Our Library",
              "<scans/your-book.pdf>": "scans/second.pdf", "<title as printed>": "Our Book", "<author>": "Someone",
              "<year>": "1701", "<language code>": "de"}
    text = target.read_text(encoding="utf-8")
    for old, new in filled.items():
        text = text.replace(f'"{old}"', f'"{new}"')
    target.write_text("\n".join(ln for ln in text.splitlines() if not ln.startswith("source_url")) + "\n",
                      encoding="utf-8")
    (e,) = load_manifest(target, publishing=True).entries
    assert (e.meta.title, e.meta.wiki, e.meta.institution, e.id) == ("Our Book", "wikisource:de", "Our Library",
                                                                     "second")

    target.write_text("# my real list\n", encoding="utf-8")
    again = runner.invoke(app, ["init", str(target)])
    assert again.exit_code == ExitCode.REFUSED
    assert "already exists" in again.stderr
    assert target.read_text(encoding="utf-8") == "# my real list\n"

    csv_result = runner.invoke(app, ["init", str(folder / "books.csv")])
    assert csv_result.exit_code == 0
    with pytest.raises(ManifestError) as e:
        load_manifest(folder / "books.csv")
    assert "books.csv line 2: 'title' is still the example's placeholder <title as printed>" in e.value.problems[1]
    assert len(e.value.problems) == 9


def test_the_samples_are_valid() -> None:
    toml = load_manifest(REPO / "samples" / "manifest.toml", publishing=True)
    csv = load_manifest(REPO / "samples" / "manifest.csv", publishing=True)
    assert [e.meta for e in toml.entries] == [e.meta for e in csv.entries]
    (e,) = toml.entries
    assert e.meta.models == "frk" and e.meta.page_labels == "1=10" and e.meta.licence == "PD-old-70"


def test_commons_fields_from_toml_and_csv_and_their_problems(folder: Path) -> None:
    (folder / "books.toml").write_text('''
[[work]]
scan = "scans/second.pdf"
title = "Second"
language = "de"
translator = "T. Ranslator"
subtitle = "Ein Untertitel"
volume = "II"
oclc = "12345678"
categories = ["Glauber collection", "Category:Alchemy books"]
''', encoding="utf-8")
    meta = load_manifest(folder / "books.toml").entries[0].meta
    assert (meta.translator, meta.subtitle, meta.volume, meta.oclc) == ("T. Ranslator", "Ein Untertitel", "II",
                                                                        "12345678")
    assert meta.category_list == ["Glauber collection", "Alchemy books"]
    (folder / "books.csv").write_text("scan,title,language,editor,categories,isbn\n"
                                      "scans/second.pdf,Second,de,E. Ditor,A; B,not-a-number!\n", encoding="utf-8")
    with pytest.raises(ManifestError) as e:
        load_manifest(folder / "books.csv")
    assert any("isbn 'not-a-number!' is not a catalogue number" in p for p in e.value.problems)
