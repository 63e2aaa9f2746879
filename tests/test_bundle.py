"""bundle: a pages folder -> one PDF or DjVu, checked with poppler and djvulibre reading the file back.

The book is three cropped corpus pages (crops keep each page's pixels, mode and resolution and make OCR fast):
a 600-dpi black-and-white TIFF (Group 4), a colour JPEG and a black-and-white palette PNG, OCRed by the real
tesseract. Every check reads the written file back with the tools a reader or MediaWiki would use.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from PIL import Image, ImageStat
from typer.testing import CliRunner
from wikifixtures import *

from transcribe.bundle import BundleResult, bundle
from transcribe.bundle.hocr import read_hocr
from transcribe.cli import app
from transcribe.errors import ExitCode, InputError, UsageError
from transcribe.split import split

# corpus file, crop box, how the page is stored in the folder
BOOK = [
    ("dta_bebel1879_0146.tif", (0, 300, 3068, 1500), "tif"),
    ("vdsbb_fiscfrie_0015.tif", (0, 250, 1490, 950), "jpg"),
    ("ajmc_campbell1881_0035.png", (0, 0, 1390, 800), "png"),
]


def _save(im: Image.Image, path: Path, dpi: int) -> None:
    if path.suffix == ".tif":
        im.save(path, compression="group4", dpi=(dpi, dpi))
    elif path.suffix == ".jpg":
        im.save(path, quality=90, dpi=(dpi, dpi))
    else:
        im.save(path)  # like the corpus PNG: no resolution recorded in the file, only in pages.json


def _record(folder: Path, pages: list[tuple[str, Image.Image, int]]) -> None:
    entries = [{"n": n, "image": name, "source": f"scan#{n}", "width": im.width, "height": im.height, "dpi": dpi,
                "sha1": ""} for n, (name, im, dpi) in enumerate(pages, 1)]
    (folder / "pages.json").write_text(json.dumps({"scan": "scan", "pages": entries}), encoding="utf-8")


def _tesseract(images: list[Path], lang: str = "deu") -> None:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    procs = [subprocess.Popen(["tesseract", str(p), str(p.with_suffix("")), "-l", lang, "hocr"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for p in images]
    assert all(p.wait() == 0 for p in procs)


@pytest.fixture(scope="module")
def book(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("book") / "pages"
    folder.mkdir()
    pages = []
    for n, (name, box, ext) in enumerate(BOOK, 1):
        with Image.open(corpus / name) as im:
            dpi = round(im.info.get("dpi", (300, 300))[0])
            page = im.crop(box)
        path = folder / f"{n:04d}.{ext}"
        _save(page, path, dpi)
        pages.append((path.name, page, dpi))
    _record(folder, pages)
    _tesseract([folder / name for name, _, _ in pages])
    return folder


@pytest.fixture(scope="module")
def book_pdf(book: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BundleResult]:
    out = tmp_path_factory.mktemp("pdf") / "Die Frau.pdf"
    return out, bundle(book, out, title="Die Frau und der Sozialismus", author="August Bebel", lang="de")


@pytest.fixture(scope="module")
def book_djvu(book: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BundleResult]:
    out = tmp_path_factory.mktemp("djvu") / "Die Frau.djvu"
    return out, bundle(book, out, title="Die Frau und der Sozialismus", author="August Bebel", lang="de")


def _out(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def _words(text: str) -> str:
    # pdftotext joins words hyphenated across lines; undo line-end hyphens on both sides before comparing.
    return " ".join(re.sub(r"[-¬⸗]\s*\n\s*", "", text).split())


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, _words(a), _words(b), autojunk=False).ratio()


def _hocr_texts(folder: Path) -> list[str]:
    return [read_hocr(p).text for p in sorted(folder.glob("*.hocr"))]


def _images(folder: Path) -> list[Path]:
    return [folder / e["image"] for e in json.loads((folder / "pages.json").read_text())["pages"]]


# -- PDF -------------------------------------------------------------------------------------------------------


def test_pdf_has_every_page_in_order_with_its_own_pixels(book: Path, book_pdf: tuple[Path, BundleResult],
                                                         tmp_path: Path) -> None:
    out, result = book_pdf
    assert (result.pages, result.pages_with_text, result.format) == (3, 3, "pdf")
    assert result.size == out.stat().st_size
    assert re.search(r"^Pages:\s+3$", _out("pdfinfo", str(out)), re.MULTILINE)
    listing = [ln.split() for ln in _out("pdfimages", "-list", str(out)).splitlines()[2:]]
    images = _images(book)
    for row, image in zip(listing, images, strict=True):
        with Image.open(image) as im:
            assert (int(row[3]), int(row[4])) == im.size
    # Black and white as CCITT G4 (also the black-and-white palette PNG), the JPEG as itself (DCT).
    assert [row[8] for row in listing] == ["ccitt", "jpeg", "ccitt"]
    _out("pdfimages", "-all", str(out), str(tmp_path / "img"))
    assert (tmp_path / "img-001.jpg").read_bytes() == images[1].read_bytes()
    _out("pdfimages", "-png", str(out), str(tmp_path / "png"))  # the same pixels, whatever the encoding
    for extracted, original in ((tmp_path / "png-000.png", images[0]), (tmp_path / "png-002.png", images[2])):
        with Image.open(extracted) as a, Image.open(original) as b:
            assert a.convert("L").tobytes() == b.convert("L").tobytes()


def test_pdf_page_size_comes_from_the_resolution(book_pdf: tuple[Path, BundleResult]) -> None:
    out, _ = book_pdf
    sizes = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", _out("pdfinfo", "-f", "1", "-l", "3", str(out)))
    # 3068 x 1200 px at 600 dpi, 1490 x 700 and 1390 x 800 at 300 dpi
    expected = [(3068 / 600 * 72, 1200 / 600 * 72), (1490 / 300 * 72, 700 / 300 * 72), (1390 / 300 * 72, 800 / 300 * 72)]
    got = [float(v) for pair in sizes for v in pair]
    assert got == pytest.approx([v for pair in expected for v in pair], abs=0.01)


def test_pdf_text_layer_is_the_ocr_page_by_page(book: Path, book_pdf: tuple[Path, BundleResult]) -> None:
    out, _ = book_pdf
    for n, ocr in enumerate(_hocr_texts(book), 1):
        text = _out("pdftotext", "-f", str(n), "-l", str(n), "-enc", "UTF-8", str(out), "-")
        assert len(_words(ocr)) > 100
        assert _similar(text, ocr) > 0.95, (n, text[:200], ocr[:200])


def test_the_same_pages_give_the_same_pdf_byte_for_byte(book: Path, book_pdf: tuple[Path, BundleResult],
                                                         tmp_path: Path) -> None:
    # A resumed batch bundles again; an identical file (same SHA-1) is recognised on the wiki, not re-uploaded.
    again = bundle(book, tmp_path / "again.pdf", title="Die Frau und der Sozialismus", author="August Bebel",
                   lang="de")
    assert again.path.read_bytes() == book_pdf[0].read_bytes()


def test_pdf_metadata(book_pdf: tuple[Path, BundleResult]) -> None:
    out, _ = book_pdf
    info = _out("pdfinfo", str(out))
    assert re.search(r"^Title:\s+Die Frau und der Sozialismus$", info, re.MULTILINE)
    assert re.search(r"^Author:\s+August Bebel$", info, re.MULTILINE)
    xmp = _out("pdfinfo", "-meta", str(out))
    assert re.search(r"<dc:language[^>]*>.*?<rdf:li>de</rdf:li>", xmp, re.DOTALL)


# -- DjVu ------------------------------------------------------------------------------------------------------


def test_djvu_has_every_page_in_order_encoded_by_kind(book: Path, book_djvu: tuple[Path, BundleResult]) -> None:
    out, result = book_djvu
    assert (result.pages, result.pages_with_text, result.format) == (3, 3, "djvu")
    assert _out("djvused", "-e", "n", str(out)).strip() == "3"
    for n, image in enumerate(_images(book), 1):
        with Image.open(image) as im:
            assert _out("djvused", "-e", f"select {n}; size", str(out)).split() == [
                f"width={im.width}", f"height={im.height}"]
    dump = _out("djvudump", str(out))
    pages = dump.split("FORM:DJVU")[1:]
    # JB2 (Sjbz) for the black-and-white TIFF and PNG, IW44 (BG44) for the colour page
    assert ["Sjbz" in p and "BG44" not in p for p in pages] == [True, False, True]
    assert re.findall(r"INFO \[10\].*?(\d+) dpi", dump) == ["600", "300", "300"]


def test_djvu_hidden_text_is_the_ocr_page_by_page(book: Path, book_djvu: tuple[Path, BundleResult]) -> None:
    out, _ = book_djvu
    for n, ocr in enumerate(_hocr_texts(book), 1):
        text = _out("djvutxt", f"--page={n}", str(out))
        assert _similar(text, ocr) > 0.98, (n, text[:200], ocr[:200])
    # Word boxes are where the image has them: DjVu counts y from the bottom of the page.
    first = read_hocr(book / "0001.hocr").lines[0].words[0]
    txt = _out("djvused", "-e", "select 1; print-txt", str(out))
    x0, y0, x1, y1 = first.box
    assert f"(word {x0} {1200 - y1} {x1} {1200 - y0} \"{first.text}\")" in txt


def test_djvu_metadata(book_djvu: tuple[Path, BundleResult]) -> None:
    out, _ = book_djvu
    meta = _out("djvused", "-u", "-e", "print-meta", str(out))
    assert 'title\t"Die Frau und der Sozialismus"' in meta
    assert 'author\t"August Bebel"' in meta
    assert 'language\t"de"' in meta


# -- text that needs escaping, in any script -------------------------------------------------------------------

TRICKY = ['"Anführung"', "back\\slash", "λόγος", "ſehr", "(Klammer)", "x<y&z", "𐌲𐌿𐍄𐌰"]


def _hocr_doc(width: int, height: int, words: list[str]) -> str:
    spans = []
    x = 10
    for i, w in enumerate(words):
        esc = w.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
        spans.append(f"<span class='ocrx_word' id='w{i}' title='bbox {x} 20 {x + 90} 50; x_wconf 90'>{esc}</span>")
        x += 100
    return (
        "<?xml version='1.0' encoding='UTF-8'?><html xmlns='http://www.w3.org/1999/xhtml'><body>"
        f"<div class='ocr_page' title='bbox 0 0 {width} {height}'><span class='ocr_line' "
        f"title='bbox 10 20 {x} 50; baseline 0 -5; x_size 30'>{' '.join(spans)}</span></div></body></html>"
    )


@pytest.mark.parametrize("ext", ["pdf", "djvu"])
def test_quotes_backslashes_and_greek_come_back_exactly(tmp_path: Path, ext: str) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    Image.new("L", (700, 100), 255).save(pages / "0001.png", dpi=(300, 300))
    (pages / "0001.hocr").write_text(_hocr_doc(700, 100, TRICKY), encoding="utf-8")
    out = tmp_path / f"book.{ext}"
    bundle(pages, out, title='Ein "Buch" \\ Ελληνικά', lang="de")
    if ext == "pdf":
        text = _out("pdftotext", "-enc", "UTF-8", str(out), "-")
        title = re.search(r"^Title:\s+(.*)$", _out("pdfinfo", str(out)), re.MULTILINE)
    else:
        text = _out("djvutxt", str(out))
        title = re.search(r'^title\t"(.*)"$', _out("djvused", "-u", "-e", "print-meta", str(out)), re.MULTILINE)
    assert text.split() == TRICKY
    assert title is not None and title.group(1).replace('\\"', '"').replace("\\\\", "\\") == 'Ein "Buch" \\ Ελληνικά'


# -- mixed sizes, metadata from work.toml, folders without a record ---------------------------------------------


def _plain_pages(folder: Path, sizes: list[tuple[int, int]], dpi: int = 300, ext: str = "png") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, (w, h) in enumerate(sizes, 1):
        p = folder / f"{n:04d}.{ext}"
        Image.new("L", (w, h), 200 - 20 * n).save(p, dpi=(dpi, dpi))
        paths.append(p)
    return paths


@pytest.mark.parametrize("ext", ["pdf", "djvu"])
def test_mixed_page_sizes_each_keep_their_size_and_the_odd_one_is_pointed_out(tmp_path: Path, ext: str) -> None:
    sizes = [(300, 450), (300, 450), (900, 450), (300, 450)]  # page 3 is a foldout
    _plain_pages(tmp_path / "pages", sizes)
    out = tmp_path / f"book.{ext}"
    result = CliRunner().invoke(app, ["bundle", str(tmp_path / "pages"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Page(s) 3 are a different size" in result.output
    assert "No OCR for page(s) 1-4" in result.output
    assert f"Wrote {out}: 4 pages" in result.output and "text on 0 pages" in result.output
    if ext == "pdf":
        got = re.findall(r"size:\s+([\d.]+) x ([\d.]+) pts", _out("pdfinfo", "-f", "1", "-l", "4", str(out)))
        assert [(float(w), float(h)) for w, h in got] == [(w * 72 / 300, h * 72 / 300) for w, h in sizes]
    else:
        got = [_out("djvused", "-e", f"select {n}; size", str(out)).split() for n in range(1, 5)]
        assert got == [[f"width={w}", f"height={h}"] for w, h in sizes]


def test_metadata_comes_from_work_toml_unless_given(tmp_path: Path) -> None:
    (tmp_path / "work.toml").write_text('title = "Faust"\nauthor = "Goethe"\nlanguage = "de"\n', encoding="utf-8")
    _plain_pages(tmp_path / "pages", [(300, 450)])
    bundle(tmp_path / "pages", tmp_path / "a.pdf")
    bundle(tmp_path / "pages", tmp_path / "b.pdf", title="Faust. Eine Tragödie")
    a, b = _out("pdfinfo", str(tmp_path / "a.pdf")), _out("pdfinfo", str(tmp_path / "b.pdf"))
    assert re.search(r"^Title:\s+Faust$", a, re.MULTILINE) and re.search(r"^Author:\s+Goethe$", a, re.MULTILINE)
    assert re.search(r"^Title:\s+Faust. Eine Tragödie$", b, re.MULTILINE) and re.search(r"^Author:\s+Goethe$", b, re.MULTILINE)


def test_a_plain_folder_of_images_is_read_in_natural_order(tmp_path: Path) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    for name, width in (("p1.jpg", 310), ("p2.jpg", 320), ("p10.jpg", 330)):
        Image.new("RGB", (width, 400), "white").save(folder / name, dpi=(300, 300))
    out = tmp_path / "book.pdf"
    assert bundle(folder, out).pages == 3
    widths = [int(row.split()[3]) for row in _out("pdfimages", "-list", str(out)).splitlines()[2:]]
    assert widths == [310, 320, 330]


# -- errors ----------------------------------------------------------------------------------------------------


def test_a_corrupt_image_stops_before_anything_is_written(tmp_path: Path) -> None:
    paths = _plain_pages(tmp_path / "pages", [(300, 450)] * 3)
    data = paths[1].read_bytes()
    paths[1].write_bytes(data[: len(data) // 2])  # truncated, as by a broken copy
    out = tmp_path / "book.djvu"
    result = CliRunner().invoke(app, ["bundle", str(tmp_path / "pages"), "-o", str(out)])
    assert result.exit_code == ExitCode.INPUT
    assert "page 2 (0002.png) cannot be read" in result.output
    assert not out.exists() and not list(tmp_path.glob(".*.part"))


def test_a_page_missing_from_the_record_is_an_error(tmp_path: Path) -> None:
    paths = _plain_pages(tmp_path / "pages", [(300, 450)] * 2)
    _record(tmp_path / "pages", [(p.name, Image.open(p), 300) for p in paths])
    paths[1].unlink()
    with pytest.raises(InputError, match=r"page 2 \(0002.png\) is missing"):
        bundle(tmp_path / "pages", tmp_path / "book.pdf")


def test_ocr_of_another_image_is_refused_but_ocr_of_a_rescaled_copy_is_used(tmp_path: Path) -> None:
    _plain_pages(tmp_path / "pages", [(600, 200)])
    hocr = tmp_path / "pages" / "0001.hocr"
    hocr.write_text(_hocr_doc(300, 100, ["halb", "so", "groß"]), encoding="utf-8")  # made from a half-size copy
    bundle(tmp_path / "pages", tmp_path / "ok.djvu")
    assert _out("djvutxt", str(tmp_path / "ok.djvu")).split() == ["halb", "so", "groß"]
    assert "(word 20 100 200 160" in _out("djvused", "-e", "select 1; print-txt", str(tmp_path / "ok.djvu"))
    hocr.write_text(_hocr_doc(300, 300, ["anders"]), encoding="utf-8")
    with pytest.raises(InputError, match="0001.hocr was made from a different image than 0001.png"):
        bundle(tmp_path / "pages", tmp_path / "bad.djvu")


def test_an_unknown_output_extension_is_a_usage_error(book: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bundle", str(book), "-o", str(tmp_path / "book.tiff")])
    assert result.exit_code == ExitCode.USAGE
    assert "must end in .pdf or .djvu" in result.output
    with pytest.raises(UsageError):
        bundle(book, tmp_path / "book.docx")


def test_pages_without_ocr_are_noted_or_refused_with_require_text(book: Path, tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    for p in book.iterdir():
        if p.name != "0002.hocr":
            (pages / p.name).write_bytes(p.read_bytes())
    runner = CliRunner()
    refused = runner.invoke(app, ["bundle", str(pages), "-o", str(tmp_path / "a.pdf"), "--require-text"])
    assert refused.exit_code == ExitCode.INPUT
    assert "1 of 3 pages have no OCR" in refused.output and "page(s) 2" in refused.output
    assert not (tmp_path / "a.pdf").exists()
    done = runner.invoke(app, ["bundle", str(pages), "-o", str(tmp_path / "a.pdf")])
    assert done.exit_code == 0
    assert "No OCR for page(s) 2" in done.output and "text on 2 pages" in done.output
    assert _out("pdftotext", "-f", "2", "-l", "2", str(tmp_path / "a.pdf"), "-").strip() == ""


def test_a_file_too_big_for_one_upload_is_reported(book: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import transcribe.bundle

    monkeypatch.setattr(transcribe.bundle, "COMMONS_SINGLE_UPLOAD", 1000)  # stands in for Commons' 100 MiB
    result = CliRunner().invoke(app, ["bundle", str(book), "-o", str(tmp_path / "book.djvu")])
    assert result.exit_code == 0
    assert "will upload it in chunks" in result.output


# -- the real command ------------------------------------------------------------------------------------------


def test_python_m_transcribe_bundle(book: Path, tmp_path: Path) -> None:
    out = tmp_path / "book.djvu"
    proc = subprocess.run(
        [sys.executable, "-m", "transcribe", "bundle", str(book), "-o", str(out), "--title", "Die Frau"],
        check=False, capture_output=True, text=True, cwd=REPO, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert re.fullmatch(rf"Wrote {re.escape(str(out))}: 3 pages, \d+\.\d MB, text on 3 pages\.\n", proc.stdout)
    assert _out("djvused", "-e", "n", str(out)).strip() == "3"


# -- the wiki reads what we wrote ------------------------------------------------------------------------------


@pytest.mark.wiki
@pytest.mark.parametrize("ext", ["pdf", "djvu"])
def test_the_wiki_counts_the_pages_and_reads_the_text_layer(
    book: Path, book_pdf: tuple[Path, BundleResult], book_djvu: tuple[Path, BundleResult], wiki_en_shared, ext: str,
) -> None:
    out = book_pdf[0] if ext == "pdf" else book_djvu[0]
    name = f"Bundle test {ext} {os.getpid()}.{ext}"
    wiki_en_shared.human("Alice").upload(out, name)
    info = wiki_en_shared.api(action="query", titles=f"File:{name}", prop="imageinfo", iiprop="size|metadata")
    ii = info["query"]["pages"][0]["imageinfo"][0]
    assert ii["pagecount"] == 3
    # ProofreadPage prefills a new Page: page from this text (PdfHandler: pdftotext; DjVu handler: djvutxt).
    text = {m["name"]: m["value"] for m in ii["metadata"]}["text"]
    for n, ocr in enumerate(_hocr_texts(book)):
        assert _similar(text[n]["value"], ocr) > 0.95, (ext, n)


def test_a_pdf_of_jpeg_tiff_scans_is_the_size_of_their_jpeg_data(corpus: Path, tmp_path: Path) -> None:
    # Issue 11: JPEG-compressed TIFF scans split to .jpg pages (their strips joined, not decoded) and embedded
    # as they are (DCT): the PDF is at most 1.1 x the scans' JPEG data, where PNG pages made it 17 x.
    scans = tmp_path / "scans"
    scans.mkdir()
    names = ["vdsbb_glauanno_0014.tif", "vdsbb_glauanno_0015.tif"]
    jpeg_bytes = 0
    for name in names:
        (scans / name).write_bytes((corpus / name).read_bytes())
        with Image.open(corpus / name) as im:
            jpeg_bytes += sum(im.tag_v2[279])  # StripByteCounts: the JPEG data of the scan
    split(scans, tmp_path / "pages", jobs=1)
    result = bundle(tmp_path / "pages", tmp_path / "book.pdf", jobs=1)
    assert result.pages == 2
    assert result.size <= 1.1 * jpeg_bytes
    listing = [ln.split() for ln in _out("pdfimages", "-list", str(tmp_path / "book.pdf")).splitlines()[2:]]
    assert [(row[8], row[5]) for row in listing] == [("jpeg", "rgb")] * 2
    _out("pdfimages", "-j", "-f", "1", "-l", "1", str(tmp_path / "book.pdf"), str(tmp_path / "img"))
    assert (tmp_path / "img-000.jpg").read_bytes() == (tmp_path / "pages" / "0001.jpg").read_bytes()
    sizes = re.findall(r"size:\s+([\d.]+) x ([\d.]+) pts", _out("pdfinfo", str(tmp_path / "book.pdf")))
    assert [float(v) for v in sizes[0]] == pytest.approx([1197 / 300 * 72, 1956 / 300 * 72], abs=0.01)
    # The colours are right in a reader and in the DjVu: the joined JPEG holds RGB, not YCbCr, and says so (Adobe
    # marker); a reader taking it for YCbCr would show a purple page (mean colour far from the scan's).
    _out("pdftoppm", "-r", "300", "-f", "1", "-l", "1", "-png", str(tmp_path / "book.pdf"), str(tmp_path / "r"))
    bundle(tmp_path / "pages", tmp_path / "book.djvu", jobs=1)
    _out("ddjvu", "-format=ppm", "-page=1", str(tmp_path / "book.djvu"), str(tmp_path / "d.ppm"))
    with Image.open(corpus / names[0]) as scan:
        want = ImageStat.Stat(scan.convert("RGB")).mean
    for shown in (tmp_path / "r-1.png", tmp_path / "d.ppm"):
        with Image.open(shown) as im:
            assert ImageStat.Stat(im.convert("RGB")).mean == pytest.approx(want, abs=3)
