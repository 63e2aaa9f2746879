"""`publish --export`: the same texts as files, and an HTML preview a library can review before publishing."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from publish_helpers import make_work, render_images
from typer.testing import CliRunner

from transcribe.cli import app
from transcribe.wiki import pagetext as pt
from transcribe.wiki.export import export_work
from transcribe.work import load_work

runner = CliRunner()


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_images(tmp_path_factory.mktemp("img"))


def test_export_writes_every_page_text_the_index_and_the_file_page(tmp_path: Path, images: Path) -> None:
    work = make_work(tmp_path / "w", images, statuses={4: "blank", 5: "failed"})
    meta = load_work(work)
    seen: list[tuple[int, int]] = []
    r = export_work(work / "glauber.pdf", work / "pages", meta, tmp_path / "out",
                    progress=lambda label, done, total: seen.append((done, total)))
    wt = tmp_path / "out" / "wikitext"
    assert r.pages == 4 and r.skipped == [(5, "OCR failed: tesseract crashed (test)")]
    assert seen[-1] == (5, 5)
    p1 = pt.parse_page((wt / "Page_0001.wiki").read_text(encoding="utf-8"))
    assert p1.level == 1 and p1.body.startswith("Annotationes vber den Appendicem")
    assert pt.parse_page((wt / "Page_0004.wiki").read_text(encoding="utf-8")).level == 0
    assert not (wt / "Page_0005.wiki").exists()
    fields = pt.parse_index((wt / "Index.wiki").read_text(encoding="utf-8"))
    assert fields["Pages"] == "<pagelist 1=10 />" and fields["Source"] == "pdf"
    # offline, en.wikisource's fields: the pages have text "To be proofread" ('C'); 'T' would say "Done" there
    assert fields["Progress"] == "C" and fields["Language"] == "en"
    assert "{{PD-old-70}}" in (wt / "File.wiki").read_text(encoding="utf-8")
    titles = json.loads((wt / "titles.json").read_text(encoding="utf-8"))
    assert titles["Page_0001.wiki"] == "Page:Annotationes über den Appendicem (1656).pdf/1"
    # nothing half-written is left behind
    assert not list((tmp_path / "out").rglob("*.part"))


def test_preview_is_self_contained_and_shows_each_page_beside_its_text(tmp_path: Path, images: Path) -> None:
    work = make_work(tmp_path / "w", images, statuses={4: "blank"})
    r = export_work(work / "glauber.pdf", work / "pages", load_work(work), tmp_path / "out")
    index = r.preview.read_text(encoding="utf-8")
    assert "Annotationes über den Appendicem" in index
    assert "4 not proofread, 1 without text" in index
    links = re.findall(r'(?:src|href)="([^"]+)"', index)
    assert links and all(not link.startswith(("http", "/")) for link in links)  # nothing outside the folder
    for link in links:
        assert (r.out_dir / link).is_file(), link
    page = (r.out_dir / "pages" / "0002.html").read_text(encoding="utf-8")
    assert '<img src="../images/0002.jpg"' in page and "1 Not proofread" in page
    assert "wiſſen/ ſondern" in page or "ſ" in page  # the OCR text itself, long s and all
    assert (r.out_dir / "images" / "0002.jpg").stat().st_size < 200_000
    # OCR text is shown as text, never as markup
    work2 = make_work(tmp_path / "w2", images, texts={1: "<script>alert(1)</script> & {{x}}"})
    r2 = export_work(work2 / "glauber.pdf", work2 / "pages", load_work(work2), tmp_path / "out2")
    page1 = (r2.out_dir / "pages" / "0001.html").read_text(encoding="utf-8")
    assert "<script>" not in page1 and "&lt;script&gt;alert(1)" in page1


def test_cli_export_without_licence_still_exports_and_says_why_there_is_no_file_page(tmp_path: Path,
                                                                                       images: Path) -> None:
    # exported once with a licence, then again into the same folder after the licence was taken out
    licensed = make_work(tmp_path / "w0", images)
    assert runner.invoke(app, ["publish", str(licensed), "--export", str(tmp_path / "out")]).exit_code == 0
    assert (tmp_path / "out" / "wikitext" / "File.wiki").is_file()
    work = make_work(tmp_path / "w", images, licence="")
    res = runner.invoke(app, ["publish", str(work), "--export", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert "no licence" in res.stderr and "never uploaded without one" in res.stderr
    # in the reader's words (the scan is not uploaded), not the name of a file the export did not write
    assert "scan would not be uploaded" in res.stderr and "File.wiki" not in res.stderr
    assert "and the file description" not in res.stderr
    assert res.stdout.strip() == str(tmp_path / "out" / "index.html")
    assert not (tmp_path / "out" / "wikitext" / "File.wiki").exists()
    assert (tmp_path / "out" / "wikitext" / "Page_0005.wiki").is_file()


def test_preview_says_where_metadata_without_an_index_field_goes(tmp_path: Path, images: Path) -> None:
    work = make_work(tmp_path / "w", images, pages=2,
                     extra='source_url = "https://example.org/book"\nsignatur = "Ms. 12"\n')
    res = runner.invoke(app, ["publish", str(work), "--export", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    # institution and source_url are on the file's description page; only the field nothing shows is "left out"
    assert "On the file's description page ({{Book}}), since the Index page has no field for them: " \
           "institution, source_url" in index
    assert "Left out (neither the Index page nor the file's description page has a field for them): " \
           "signatur" in index
    book = (tmp_path / "out" / "wikitext" / "File.wiki").read_text(encoding="utf-8")
    assert " |Institution=Test Library" in book and " |Source=https://example.org/book" in book
    assert "no Index field for institution, source_url: on the file's description page ({{Book}}) only." \
        in res.stderr
    assert "no Index field for signatur, nor one on the file's description page (left out)." in res.stderr
    # no licence, so no file description page: then institution and source_url are not said to be on one
    res = runner.invoke(app, ["publish", str(make_work(tmp_path / "w2", images, pages=2, licence="",
                                                       extra='source_url = "https://example.org/book"\n')),
                              "--export", str(tmp_path / "out2")])
    assert res.exit_code == 0, res.output
    assert "description page ({{Book}}) only" not in res.stderr
    assert "no Index field for institution, source_url, and no file description page is written (left out)." \
        in res.stderr
    # thumbnails big enough to judge a page at a glance, and light: small files of their own, not the big images
    shown = re.search(r"img\.thumb\{height:(\d+)px", index)
    assert shown and 200 <= int(shown.group(1)) <= 300
    thumbs = re.findall(r'<img class="thumb" loading="lazy" src="([^"]+)"', index)
    assert thumbs == ["thumbs/0001.jpg", "thumbs/0002.jpg"]
    from PIL import Image

    for t in thumbs:
        with Image.open(tmp_path / "out" / t) as im:
            assert im.height <= int(shown.group(1))  # (these test pages are small: never enlarged)
        assert (tmp_path / "out" / t).stat().st_size < 40_000


def test_cli_export_refuses_a_file_name_the_wiki_cannot_take(tmp_path: Path) -> None:
    work = make_work(tmp_path / "w", extra='file_name = "Glauber [1656].pdf"\n')
    res = runner.invoke(app, ["publish", str(work), "--export", str(tmp_path / "out")])
    assert res.exit_code == 10, res.output
    assert "'['" in res.stderr and 'file_name = "Glauber (1656).pdf"' in res.stderr
    assert not (tmp_path / "out").exists()


def test_cli_export_of_a_scan_that_is_not_pdf_or_djvu(tmp_path: Path) -> None:
    work = make_work(tmp_path / "w")
    (work / "work.toml").write_text((work / "work.toml").read_text().replace("glauber.pdf", "scan.zip"))
    (work / "scan.zip").write_bytes(b"PK")
    res = runner.invoke(app, ["publish", str(work), "--export", str(tmp_path / "out")])
    assert res.exit_code == 3
    assert "transcribe bundle" in res.stderr


def test_a_djv_scan_is_named_djvu_on_the_wiki(tmp_path: Path) -> None:
    # '.djv' is a DjVu file too, but wikis take '.djvu' names only (and `run` names it so: manifest.upload_extension)
    work = make_work(tmp_path / "w")
    (work / "work.toml").write_text((work / "work.toml").read_text().replace("glauber.pdf", "scan.djv"))
    (work / "scan.djv").write_bytes(b"AT&TFORM")
    r = export_work(work / "scan.djv", work / "pages", load_work(work), tmp_path / "out")
    assert r.file_name == "Annotationes über den Appendicem (1656).djvu"
    assert pt.parse_index((tmp_path / "out" / "wikitext" / "Index.wiki").read_text(encoding="utf-8"))["Source"] == "djvu"


def test_preview_screenshot_in_headless_chromium(tmp_path: Path, images: Path) -> None:
    """Chromium renders the preview (the picture was looked at by eye once; here: it renders, not blank)."""
    chromium = next((c for c in ("chromium", "chromium-browser") if
                     subprocess.run(["which", c], capture_output=True, check=False).returncode == 0), None)
    if chromium is None:
        pytest.fail("chromium is not installed: run scripts/setup --test")
    work = make_work(tmp_path / "w", images)
    r = export_work(work / "glauber.pdf", work / "pages", load_work(work), tmp_path / "out")
    shot = tmp_path / "page.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1200,900",
                    f"--screenshot={shot}", (r.out_dir / "pages" / "0001.html").as_uri()],
                   capture_output=True, timeout=60, check=False)
    assert shot.is_file(), "chromium wrote no screenshot"
    from PIL import Image

    with Image.open(shot) as im:
        colours = im.convert("L").getextrema()
    assert colours[0] < 100 < colours[1]  # dark text on a light page, not an empty white picture


def test_a_script_without_an_ocr_model_gets_only_its_index(tmp_path: Path) -> None:
    work = make_work(tmp_path / "w", statuses={n: "no-model" for n in range(1, 6)})
    r = export_work(work / "glauber.pdf", work / "pages", load_work(work), tmp_path / "out")
    assert r.pages == 0 and len(r.skipped) == 5
    assert all("left for proofreaders to type" in why for _, why in r.skipped)
    assert (tmp_path / "out" / "wikitext" / "Index.wiki").is_file()
    assert not list((tmp_path / "out" / "wikitext").glob("Page_*.wiki"))


def test_preview_shows_the_index_as_its_form_does_and_the_target_wikis_namespace_names(tmp_path: Path,
                                                                                    images: Path) -> None:
    # a German work: offline, the names come from the project's table (de.wikisource: Seite:, Index:)
    work = make_work(tmp_path / "w", images, language="de", extra='wiki = "wikisource:de"\n')
    r = export_work(work / "glauber.pdf", work / "pages", load_work(work), tmp_path / "out")
    index = r.preview.read_text(encoding="utf-8")
    fields = dict(re.findall(r"<tr><th>([^<]+)</th><td>([^<]*)</td></tr>", index))
    # labels and values as the Index form shows them, not the wiki's codes
    assert fields["Progress"] == "To be proofread" and fields["Source"] == "PDF"
    assert fields["Pages"] == "10–14"  # the labels '1=10' gives the five scan pages
    assert fields["Year of publication"] == "1656" and fields["Location"] == "Amsterdam"
    assert "<pagelist" not in index and "&lt;pagelist" not in index
    assert "<b>Seite:Annotationes über den Appendicem (1656).pdf/1</b>" in index and "Page:" not in index
    page = (r.out_dir / "pages" / "0001.html").read_text(encoding="utf-8")
    assert "<h1>Seite:Annotationes über den Appendicem (1656).pdf/1</h1>" in page
    titles = json.loads((r.out_dir / "wikitext" / "titles.json").read_text(encoding="utf-8"))
    assert titles["Page_0001.wiki"].startswith("Seite:") and titles["Index.wiki"].startswith("Index:")
    # French: Livre: for the Index; a language whose names are only the extension's defaults says so
    fr = export_work(work / "glauber.pdf", work / "pages",
                     load_work(make_work(tmp_path / "fr", images, language="fr")), tmp_path / "out-fr")
    assert (fr.page_ns, fr.index_ns) == ("Page", "Livre") and fr.ns_note == ""
    it = export_work(work / "glauber.pdf", work / "pages",
                     load_work(make_work(tmp_path / "it", images, language="it")), tmp_path / "out-it")
    assert (it.page_ns, it.index_ns) == ("Pagina", "Indice") and "not checked" in it.ns_note
    assert "not checked against the wiki" in it.preview.read_text(encoding="utf-8")


@pytest.mark.wiki
def test_with_the_wiki_at_hand_the_preview_uses_its_own_fields_and_names(tmp_path: Path, images: Path,
                                                                         wiki_fr) -> None:
    from transcribe.wiki.site import connect

    work = make_work(tmp_path / "w", images, language="fr")
    r = export_work(work / "glauber.pdf", work / "pages", load_work(work), tmp_path / "out",
                    site=connect(wiki_fr.api_url))
    index = r.preview.read_text(encoding="utf-8")
    fields = dict(re.findall(r"<tr><th>([^<]+)</th><td>([^<]*)</td></tr>", index))
    assert fields["Avancement"] == "À corriger" and fields["Fac-similés"] == "pdf" and fields["Pages"] == "10–14"
    assert fields["Année d’édition"] == "1656"
    assert f"<b>Livre:{r.file_name}</b>" in index
    assert pt.parse_index((r.out_dir / "wikitext" / "Index.wiki").read_text(encoding="utf-8"))["Avancement"] == "C"


def test_the_page_list_reads_as_its_labels() -> None:
    from transcribe.pagelabels import describe_labels, label_pages

    assert describe_labels(label_pages("1=10", 5)) == "10–14"
    assert describe_labels(label_pages("1=Cover 2to5=roman 2=1 6=1", 9)) == "Cover, i–iv, 1–4"
    assert describe_labels(label_pages("1to3=highroman 4=1 6=— 7=5", 9)) == "I–III, 1–2, —, 5–7"
    assert describe_labels(["1", "3", "4"]) == "1, 3–4"  # a gap is not hidden by the dash


@pytest.mark.wiki
def test_publish_export_with_wiki_shows_that_wikis_own_names_and_falls_back_when_it_does_not_answer(
        tmp_path: Path, images: Path, wiki_fr) -> None:
    work = make_work(tmp_path / "w", images, language="fr")
    res = runner.invoke(app, ["publish", str(work), "--export", str(tmp_path / "fr"), "--wiki", wiki_fr.api_url])
    assert res.exit_code == 0, res.output
    index = (tmp_path / "fr" / "index.html").read_text(encoding="utf-8")
    assert "<th>Avancement</th><td>À corriger</td>" in index and "<b>Livre:" in index
    # a wiki that does not answer: the same export, offline, with one note saying so
    res = runner.invoke(app, ["publish", str(work), "--export", str(tmp_path / "off"),
                              "--wiki", "http://127.0.0.1:9/api.php"])
    assert res.exit_code == 0, res.output
    assert "note: Cannot reach http://127.0.0.1:9/api.php" in res.stderr and "own table" in res.stderr
    offline = (tmp_path / "off" / "index.html").read_text(encoding="utf-8")
    assert "<b>Livre:" in offline and "Avancement" not in offline  # fr names from the table, en.wikisource's fields
