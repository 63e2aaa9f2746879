"""split: scan -> page images. Real poppler, djvulibre and Pillow on small scans built from corpus pages."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from PIL import Image
from scans import (
    encrypt_pdf,
    make_djvu,
    make_empty_pdf,
    make_folder,
    make_pdf,
    make_tiff,
    make_zip,
    small_pages,
)
from typer.testing import CliRunner

from transcribe.cli import app
from transcribe.errors import ExitCode, InputError, UsageError
from transcribe.split import PageImage, read_pages, split
from transcribe.store import Store

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


# -- scans, built once per session --------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def grey(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return small_pages(corpus, tmp_path_factory.mktemp("grey"), count=3, width=360)


@pytest.fixture(scope="session")
def colour(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return small_pages(corpus, tmp_path_factory.mktemp("colour"), count=2, width=300, mode="RGB")


@pytest.fixture(scope="session")
def bitonal(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return small_pages(corpus, tmp_path_factory.mktemp("bw"), count=2, width=400, mode="1")


@pytest.fixture(scope="session")
def book_pdf(grey: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pdf(grey, tmp_path_factory.mktemp("pdf") / "book.pdf")


def pixels(path: Path) -> tuple[str, tuple[int, int], bytes]:
    with Image.open(path) as im:
        return im.mode, im.size, im.tobytes()


def dpi_of(path: Path) -> int:
    with Image.open(path) as im:
        return round(im.info["dpi"][0])


def cli(*args: str | Path) -> object:
    return runner.invoke(app, ["split", *map(str, args)])


def images_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*") if p.suffix in (".png", ".tif")) if folder.exists() else []


# -- PDF ----------------------------------------------------------------------------------------------------------
def test_pdf_images_are_extracted_bit_exact_with_their_dpi(grey, colour, bitonal, tmp_path):
    sources = [grey[0], colour[0], bitonal[0], grey[1], colour[1]]
    pdf = make_pdf(sources, tmp_path / "book.pdf", kind=["flate", "flate", "flate", "flate-raw", "jpeg"])
    out = tmp_path / "pages"
    result = split(pdf, out)
    assert [p.image for p in result] == ["0001.png", "0002.png", "0003.png", "0004.png", "0005.png"]
    assert [p.method for p in result] == ["extracted"] * 5
    assert [p.source for p in result] == [f"book.pdf#page={n}" for n in range(1, 6)]
    for page, src in zip(result[:4], sources[:4], strict=True):
        assert pixels(out / page.image) == pixels(src)  # same mode, size and every pixel
        assert page.dpi == dpi_of(src) == dpi_of(out / page.image)
    # The JPEG page: the stored JPEG decoded, at its native size and DPI (not re-rendered at 300 dpi).
    with Image.open(colour[1]) as im:
        assert (result[4].width, result[4].height) == im.size
    assert result[4].dpi == dpi_of(colour[1])
    record = json.loads((out / "pages.json").read_text())
    assert [r["sha1"] for r in record["pages"]] == [p.sha1 for p in result]
    assert read_pages(out) == result


def test_pdf_pages_that_are_not_one_image_are_rendered_at_the_dpi(grey, tmp_path):
    pdf = make_pdf(grey[:2], tmp_path / "mixed.pdf", kind=["text", "framed"])
    result = split(pdf, tmp_path / "out", dpi=100)
    assert [p.method for p in result] == ["rendered", "rendered"]  # text only; a scan with a printed header
    for page, src in zip(result, grey[:2], strict=True):
        assert page.dpi == 100 == dpi_of(tmp_path / "out" / page.image)
        with Image.open(src) as im:  # the page is the size of the scan image, drawn at 100 instead of 120 dpi
            assert abs(page.width - im.width * 100 / dpi_of(src)) <= 1
        with Image.open(tmp_path / "out" / page.image) as im:
            assert im.convert("L").getextrema()[0] < 100  # the text was drawn


def test_cli_summary_counts_extracted_and_rendered(grey, tmp_path):
    pdf = make_pdf(grey, tmp_path / "book.pdf", kind=["flate", "text", "flate"])
    r = cli(pdf, "-o", tmp_path / "out", "--dpi", "150")
    assert r.exit_code == 0, r.output
    assert f"Split 3 pages of book.pdf into {tmp_path / 'out'}/ (2 extracted losslessly, 1 rendered at 150 dpi)." \
        in r.stdout
    with Store(tmp_path / "out" / "transcribe.db") as store:  # the state knows the pages too
        rows = store.query("SELECT n, image, sha1 FROM pages ORDER BY n")
    assert [tuple(r) for r in rows] == [(p.n, p.image, p.sha1) for p in read_pages(tmp_path / "out")]


# -- other kinds of scan ------------------------------------------------------------------------------------------
def test_djvu_pages_are_decoded_at_their_own_resolution(grey, bitonal, tmp_path):
    djvu = make_djvu([grey[0], bitonal[0]], tmp_path / "book.djvu")
    result = split(djvu, tmp_path / "out")
    assert [p.method for p in result] == ["decoded", "decoded"]
    assert [p.source for p in result] == ["book.djvu#page=1", "book.djvu#page=2"]
    assert [p.dpi for p in result] == [dpi_of(grey[0]), dpi_of(bitonal[0])]
    assert pixels(tmp_path / "out" / "0002.png") == pixels(bitonal[0])  # JB2 is lossless for black and white
    with Image.open(grey[0]) as im:
        assert (result[0].width, result[0].height) == im.size


def test_multipage_tiff(grey, tmp_path):
    tif = make_tiff(grey, tmp_path / "book.tif")
    result = split(tif, tmp_path / "out")
    assert [p.source for p in result] == ["book.tif#page=1", "book.tif#page=2", "book.tif#page=3"]
    for page, src in zip(result, grey, strict=True):
        assert pixels(tmp_path / "out" / page.image) == pixels(src)
        assert page.dpi == dpi_of(src)


def test_folder_in_natural_order_with_a_stray_file(grey, tmp_path):
    folder = make_folder(grey, tmp_path / "scans", ["p1.png", "p2.png", "p10.png"])
    (folder / "notes.txt").write_text("not a page")
    r = cli(folder, "-o", tmp_path / "out")
    assert r.exit_code == 0, r.output
    assert "notes.txt" in r.stderr and "not page images" in r.stderr
    pages = read_pages(tmp_path / "out")
    assert [p.source for p in pages] == ["scans/p1.png", "scans/p2.png", "scans/p10.png"]
    assert (tmp_path / "out" / "0003.png").read_bytes() == grey[2].read_bytes()  # PNG pages are copied as they are


def test_output_folder_inside_the_scans_folder_is_not_taken_for_pages(grey, tmp_path):
    folder = make_folder(grey[:2], tmp_path / "scans", ["p1.png", "p2.png"])
    for _ in range(2):
        notes: list[str] = []
        assert [p.n for p in split(folder, folder / "pages", note=notes.append)] == [1, 2]
        assert not any("Ignored" in n for n in notes)


def test_zip_of_images_in_natural_order(grey, tmp_path):
    z = make_zip({"book/p10.png": grey[2], "book/p2.png": grey[1], "book/p1.png": grey[0],
                  "book/readme.txt": b"hello", "__MACOSX/book/._p1.png": b"junk"}, tmp_path / "book.zip")
    pages = split(z, tmp_path / "out")
    assert [p.source for p in pages] == ["book.zip#book/p1.png", "book.zip#book/p2.png", "book.zip#book/p10.png"]
    assert [pixels(tmp_path / "out" / p.image) for p in pages] == [pixels(g) for g in grey]


@pytest.mark.parametrize("entries,symlinks,words", [
    ({"ok.png": b"", "../evil.png": b"x"}, None, "unsafe path"),
    ({"/tmp/evil.png": b"x"}, None, "unsafe path"),
    ({"ok.png": b""}, {"link.png": "/etc/passwd"}, "symbolic link"),
])
def test_zip_that_escapes_is_refused_before_anything_is_written(grey, tmp_path, entries, symlinks, words):
    entries = {k: (grey[0].read_bytes() if not v else v) for k, v in entries.items()}
    z = make_zip(entries, tmp_path / "bad.zip", symlinks=symlinks)
    r = cli(z, "-o", tmp_path / "out")
    assert r.exit_code == ExitCode.INPUT
    assert words in r.stderr and "Traceback" not in r.output
    assert not (tmp_path / "evil.png").exists() and not (tmp_path / "out").exists()


# -- options ------------------------------------------------------------------------------------------------------
def test_pages_option_keeps_the_scan_numbering(book_pdf, tmp_path):
    r = cli(book_pdf, "-o", tmp_path / "out", "--pages", "1,3")
    assert r.exit_code == 0, r.output
    assert images_in(tmp_path / "out") == ["0001.png", "0003.png"]
    assert [p.n for p in read_pages(tmp_path / "out")] == [1, 3]
    r = cli(book_pdf, "-o", tmp_path / "out", "--pages", "2-")  # adds page 2, keeps 1 and 3
    assert r.exit_code == 0, r.output
    assert [p.n for p in read_pages(tmp_path / "out")] == [1, 2, 3]


@pytest.mark.parametrize("spec,words", [("2-9", "asks for page 4, but book.pdf has 3 pages"),
                                        ("5-9", "asks for page 5, but book.pdf has 3 pages"), ("0", "start at 1"),
                                        ("3-1", "low to high"), ("five", "not understood")])
def test_pages_option_outside_the_scan_is_a_usage_error(book_pdf, tmp_path, spec, words):
    r = cli(book_pdf, "-o", tmp_path / "out", "--pages", spec)
    assert r.exit_code == ExitCode.USAGE
    assert words in r.stderr
    assert not (tmp_path / "out").exists()  # refused before anything was created


def test_gray_and_tiff_format(colour, tmp_path):
    pdf = make_pdf(colour, tmp_path / "colour.pdf")
    r = cli(pdf, "-o", tmp_path / "out", "--gray", "--format", "tiff")
    assert r.exit_code == 0, r.output
    assert images_in(tmp_path / "out") == ["0001.tif", "0002.tif"]
    with Image.open(tmp_path / "out" / "0001.tif") as im, Image.open(colour[0]) as src:
        assert im.format == "TIFF" and im.mode == "L"
        assert im.tobytes() == src.convert("L").tobytes()
        assert round(im.info["dpi"][0]) == dpi_of(colour[0])


def test_rendered_gray_tiff(grey, tmp_path):
    pdf = make_pdf(grey[:1], tmp_path / "text.pdf", kind="text")
    (page,) = split(pdf, tmp_path / "out", fmt="tiff", gray=True, dpi=72)
    with Image.open(tmp_path / "out" / page.image) as im:
        assert (im.format, im.mode, round(im.info["dpi"][0])) == ("TIFF", "L", 72)


# -- bad input ----------------------------------------------------------------------------------------------------
def _bad_scans(tmp: Path, grey: list[Path], book_pdf: Path) -> dict[str, tuple[Path, str]]:
    """name -> (scan, words the one-line error must contain)"""
    (tmp / "zero.pdf").write_bytes(b"")
    (tmp / "text.pdf").write_text("Dear library, the scan follows.\n")
    (tmp / "cut.pdf").write_bytes(book_pdf.read_bytes()[: book_pdf.stat().st_size // 2])
    (tmp / "cut.png").write_bytes(grey[0].read_bytes()[:20000])
    (tmp / "page.docx").write_bytes(b"\x00\x01binary stuff that is no image" * 10)
    (tmp / "nothing").mkdir()
    (tmp / "nothing" / "readme.txt").write_text("no pages here")
    Image.new("1", (10_000, 9_000)).save(tmp / "huge.png")  # 90 million pixels: over Pillow's limit
    return {
        "zero bytes": (tmp / "zero.pdf", "empty (0 bytes)"),
        "no pages": (make_empty_pdf(tmp / "empty.pdf"), "has no pages"),
        "text named .pdf": (tmp / "text.pdf", "named like a PDF but is not one"),
        "truncated pdf": (tmp / "cut.pdf", "without the end marker every complete PDF has"),
        "encrypted": (encrypt_pdf(book_pdf, tmp / "locked.pdf"), "protected by a password"),
        "truncated image": (tmp / "cut.png", "damaged or truncated"),
        "too many pixels": (tmp / "huge.png", "--max-pixels"),
        "unsupported": (tmp / "page.docx", "not an image this tool can read"),
        "no images": (tmp / "nothing", "holds no page images"),
        "missing": (tmp / "absent.pdf", "does not exist"),
    }


def test_every_bad_input_gets_one_clear_line_and_exit_3(grey, book_pdf, tmp_path):
    for name, (scan, words) in _bad_scans(tmp_path, grey, book_pdf).items():
        out = tmp_path / f"out-{name.replace(' ', '-')}"
        with warnings.catch_warnings():  # Pillow's own warning (the bomb case) must not get past the tool's error
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            r = cli(scan, "-o", out)
        assert r.exit_code == ExitCode.INPUT, (name, r.output)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], (name, r.stderr)
        assert "Error:" not in lines[0], (name, lines[0])  # the tool's words, not a program's ("Command Line Error")
        # Nothing half-written: most are refused before anything is created, the rest leave no image or temp file.
        assert not out.exists() or (images_in(out) == [] and list(out.glob(".*")) == []), name


def test_a_truncated_pdf_says_what_to_do_and_keeps_popplers_words_for_verbose(book_pdf, tmp_path):
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(book_pdf.read_bytes()[: book_pdf.stat().st_size // 2])
    r = runner.invoke(app, ["--verbose", "split", str(cut), "-o", str(tmp_path / "out")])
    assert r.exit_code == ExitCode.INPUT
    (first,) = [ln for ln in r.stderr.splitlines() if ln.startswith("error: ")]
    details = [ln for ln in r.stderr.splitlines() if "detail: " in ln]
    assert first.startswith(f"error: {cut} is cut short") and first.endswith("Download or copy it again from the "
                                                                             "original."), first
    assert any(d.strip().startswith("detail: stderr: ") for d in details), details  # poppler's own lines


def test_a_bad_page_keeps_the_pages_already_made(grey, tmp_path):
    folder = make_folder(grey[:2], tmp_path / "scans", ["p1.png", "p2.png"])
    (folder / "p3.png").write_bytes(grey[2].read_bytes()[:15000])  # truncated
    with pytest.raises(InputError, match="p3.png is damaged or truncated"):
        split(folder, tmp_path / "out", jobs=1)
    assert [p.n for p in read_pages(tmp_path / "out")] == [1, 2]
    assert not (tmp_path / "out" / ".split-tmp").exists()


def test_max_pixels_can_be_raised_for_a_genuine_large_scan(grey, tmp_path):
    with pytest.raises(InputError, match="safety limit"):
        split(grey[0], tmp_path / "out", max_pixels=1000)
    assert [p.n for p in split(grey[0], tmp_path / "out", max_pixels=0)] == [1]
    huge = tmp_path / "huge.png"
    Image.new("1", (14_000, 13_000)).save(huge)  # over twice Pillow's limit: Pillow itself refuses it
    r = cli(huge, "-o", tmp_path / "big")
    assert r.exit_code == ExitCode.INPUT and "--max-pixels" in r.stderr
    r = cli(huge, "-o", tmp_path / "big", "--max-pixels", "0")
    assert r.exit_code == 0, r.output
    assert Image.MAX_IMAGE_PIXELS == 89_478_485  # the global limit is back


@pytest.mark.parametrize("kind,package", [("pdf", "poppler-utils"), ("djvu", "djvulibre-bin")])
def test_missing_program_says_what_to_install(grey, book_pdf, tmp_path, monkeypatch, kind, package):
    scan = book_pdf if kind == "pdf" else make_djvu(grey[:1], tmp_path / "book.djvu")
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    r = cli(scan, "-o", tmp_path / "out")
    assert r.exit_code == ExitCode.MISSING_PROGRAM
    assert f"sudo apt-get install {package}" in r.stderr and "Traceback" not in r.output


def test_library_raises_usage_errors_for_bad_settings(book_pdf, tmp_path):
    with pytest.raises(UsageError, match="--format"):
        split(book_pdf, tmp_path / "o", fmt="jpg")
    with pytest.raises(UsageError, match="--dpi"):
        split(book_pdf, tmp_path / "o", dpi=5)


# -- resuming and re-splitting ------------------------------------------------------------------------------------
def _summary(pages: list[PageImage]) -> list[tuple]:
    return [(p.n, p.image, p.source, p.width, p.height, p.dpi, p.sha1) for p in pages]


def test_interrupted_run_resumes_without_redoing_pages(grey, tmp_path):
    pdf = make_pdf(grey, tmp_path / "book.pdf", kind=["flate", "text", "flate"])
    reference = split(pdf, tmp_path / "reference", dpi=72)

    out = tmp_path / "out"

    def stop_after_first(label: str, done: int, total: int) -> None:
        if done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        split(pdf, out, dpi=72, jobs=1, progress=stop_after_first)
    first = sorted(out.glob("000*.png"))
    assert len(first) == 1 and list(out.glob(".*")) == []  # no journal, scratch or .part left
    stamp = first[0].stat().st_mtime_ns
    notes: list[str] = []
    resumed = split(pdf, out, dpi=72, jobs=1, note=notes.append)
    assert first[0].stat().st_mtime_ns == stamp  # not made again
    assert any("1 page(s) were already split" in n for n in notes)
    assert _summary(resumed) == _summary(reference)
    assert json.loads((out / "pages.json").read_text())["complete"] is True


def test_changed_scan_rewrites_only_changed_pages_and_drops_extra_ones(grey, colour, tmp_path):
    out = tmp_path / "out"
    v1 = make_pdf(grey, tmp_path / "v1" / "book.pdf")
    with Store(tmp_path / "state.db") as store:
        first = split(v1, out, store=store)
        stamp = (out / "0001.png").stat().st_mtime_ns
        v2 = make_pdf([grey[0], colour[0]], tmp_path / "v2" / "book.pdf")  # page 2 replaced, page 3 gone
        second = split(v2, out, store=store)
        rows = store.query("SELECT n, sha1 FROM pages ORDER BY n")
    assert (out / "0001.png").stat().st_mtime_ns == stamp and second[0].sha1 == first[0].sha1
    assert second[1].sha1 != first[1].sha1
    assert images_in(out) == ["0001.png", "0002.png"]
    assert [tuple(r) for r in rows] == [(1, second[0].sha1), (2, second[1].sha1)]


def test_read_pages_falls_back_to_the_images_of_a_folder(grey, tmp_path):
    make_folder(grey, tmp_path / "pages", ["10.png", "2.png", "1.png"])
    pages = read_pages(tmp_path / "pages")
    assert [(p.n, p.image) for p in pages] == [(1, "1.png"), (2, "2.png"), (3, "10.png")]
    assert pages[0].dpi == dpi_of(grey[2])
    with pytest.raises(InputError, match="holds no page images"):
        read_pages(tmp_path)


# -- a real process, killed half-way and run again ----------------------------------------------------------------
def test_subprocess_killed_half_way_then_resumed(grey, tmp_path):
    pdf = make_pdf([grey[i % 3] for i in range(8)], tmp_path / "book.pdf", kind="text")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "transcribe", "split", str(pdf), "-o", str(out), "--jobs", "1", "--dpi", "400"]
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    journal = out / ".split-journal.jsonl"  # a page counts as done once it is recorded there, after its file
    while not (journal.exists() and journal.stat().st_size) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    made = images_in(out)
    assert 1 <= len(made) < 8, "the run finished before it could be killed"
    stamp = (out / "0001.png").stat().st_mtime_ns
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert f"Split 8 pages of book.pdf into {out}/" in done.stdout  # the result; the note is for people
    assert "were already split" in done.stderr
    assert images_in(out) == [f"{n:04d}.png" for n in range(1, 9)]
    assert (out / "0001.png").stat().st_mtime_ns == stamp
    assert not [p for p in out.iterdir() if p.name.startswith(".") and "part" in p.name]
    with sqlite3.connect(out / "transcribe.db") as db:
        assert db.execute("SELECT count(*) FROM pages").fetchone()[0] == 8


# -- JPEG data kept as JPEG (format 'auto', the default) ---------------------------------------------------------
def test_a_jpeg_page_is_kept_byte_for_byte_and_png_format_still_converts(colour, tmp_path):
    scans = tmp_path / "scans"
    scans.mkdir()
    with Image.open(colour[0]) as im:
        im.save(scans / "p1.jpg", quality=85, dpi=(150, 150))
        im.save(scans / "p2.jpg", quality=85, progressive=True)  # progressive: not kept, converted as before
    pages = split(scans, tmp_path / "out")
    assert [(p.image, p.method, p.dpi) for p in pages] == [("0001.jpg", "copied", 150), ("0002.png", "converted", None)]
    assert (tmp_path / "out" / "0001.jpg").read_bytes() == (scans / "p1.jpg").read_bytes()
    assert pixels(tmp_path / "out" / "0002.png") == pixels(scans / "p2.jpg")
    # --format png forces conversion; the .jpg of the earlier run is removed, nothing is left over.
    again = split(scans, tmp_path / "out", fmt="png")
    assert [p.image for p in again] == ["0001.png", "0002.png"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.suffix != ".json") == ["0001.png", "0002.png"]
    assert pixels(tmp_path / "out" / "0001.png") == pixels(scans / "p1.jpg")
    # A JPEG inside a ZIP is kept as it is too.
    z = make_zip({"b/p1.jpg": (scans / "p1.jpg").read_bytes()}, tmp_path / "b.zip")
    (page,) = split(z, tmp_path / "zip")
    assert (page.image, page.method) == ("0001.jpg", "copied")
    assert (tmp_path / "zip" / "0001.jpg").read_bytes() == (scans / "p1.jpg").read_bytes()


def test_a_jpeg_compressed_tiff_becomes_one_jpeg_with_the_same_pixels(corpus, tmp_path):
    # A corpus scan as libraries deliver it: a TIFF of 123 JPEG strips (Photometric RGB, JPEGTables).
    source = corpus / "vdsbb_glauanno_0014.tif"
    r = cli(source, "-o", tmp_path / "out")
    assert r.exit_code == 0, r.output
    assert "1 kept as JPEG" in r.output
    (page,) = read_pages(tmp_path / "out")
    assert (page.image, page.method, page.dpi) == ("0001.jpg", "joined", 300)
    jpg = tmp_path / "out" / "0001.jpg"
    with Image.open(jpg) as j, Image.open(source) as t:
        assert j.format == "JPEG" and round(j.info["dpi"][0]) == 300
        assert (j.mode, j.size, j.tobytes()) == (t.mode, t.size, t.tobytes())  # libjpeg decodes both: identical
    # Not re-encoded: the file is the TIFF's JPEG data (plus a few hundred bytes of headers), not a new image.
    with Image.open(source) as t:
        jpeg_bytes = sum(t.tag_v2[279])
    assert jpeg_bytes - 20_000 < jpg.stat().st_size < jpeg_bytes


def test_another_writers_jpeg_tiff_is_joined_too_and_gray_converts_it(colour, tmp_path):
    # Pillow 13 writes Photometric RGB in strips of 72 rows, a multiple of the 8-row MCU: joinable; every frame
    # of a multi-page TIFF is joined on its own.
    with Image.open(colour[0]) as a, Image.open(colour[1]) as b:
        a.save(tmp_path / "scan.tif", compression="jpeg", dpi=(200, 200), save_all=True, append_images=[b])
    pages = split(tmp_path / "scan.tif", tmp_path / "out")
    assert [(p.image, p.method, p.dpi) for p in pages] == [("0001.jpg", "joined", 200), ("0002.jpg", "joined", 200)]
    with Image.open(tmp_path / "scan.tif") as t:
        for n in (1, 2):
            t.seek(n - 1)
            assert pixels(tmp_path / "out" / f"000{n}.jpg") == (t.mode, t.size, t.tobytes())
        t.seek(0)
        grey_pixels = t.convert("L").tobytes()
    # --gray must change the pixels, so the JPEG data cannot be kept: the page is converted to a grey PNG.
    page = split(tmp_path / "scan.tif", tmp_path / "grey", gray=True)[0]
    assert (page.image, page.method) == ("0001.png", "converted")
    assert pixels(tmp_path / "grey" / "0001.png")[2] == grey_pixels


def test_a_jpeg_tiff_whose_joined_pixels_would_differ_is_converted_as_before(tmp_path):
    # YCbCr with 2x2 chroma subsampling (tests/data/README.md): its strips join into a valid JPEG, but one that
    # decodes to slightly different pixels than Pillow's decoding of the TIFF (chroma upsampled and converted
    # another way), so the pixel check must refuse it.
    source = REPO / "tests" / "data" / "ycbcr-jpeg-strips.tif"
    (page,) = split(source, tmp_path / "out")
    assert (page.image, page.method, page.dpi) == ("0001.png", "converted", 75)
    with Image.open(source) as t:
        assert pixels(tmp_path / "out" / "0001.png") == (t.mode, t.size, t.tobytes())
