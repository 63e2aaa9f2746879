"""`transcribe split MANIFEST`: the real manifests of ../shared/iiif, their images served by a real IIIF Image API
server (the reference implementation) on 127.0.0.1 behind a proxy that counts requests and breaks them on demand.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from typer.testing import CliRunner

from tests.iiifserver import IIIFProxy, IIIFServer, environ_for_subprocess, rewrite_manifest
from transcribe.cli import app
from transcribe.errors import ExitCode
from transcribe.wiki import pagetext as pt

SHARED = Path(__file__).resolve().parents[1].parent.parent / "shared" / "iiif"
if not SHARED.is_dir():
    SHARED = Path("/work/shared/iiif")
CORPUS = SHARED.parent / "corpus"
PAGES = ["ajmc_campbell1881_0035.png", "ajmc_schneidewin1853_0016.png", "ajmc_campbell1881_0063.png"]
ROOT = Path(__file__).resolve().parents[1]


IMAGES = 12  # served images (the corpus pages under several identifiers, so that each canvas has its own)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> IIIFServer:
    folder = tmp_path_factory.mktemp("iiif-images")
    for i in range(IMAGES):
        (folder / f"img{i + 1:02d}.png").symlink_to(CORPUS / PAGES[i % len(PAGES)])
    with IIIFServer(folder) as srv:
        yield srv


@pytest.fixture
def proxy(server: IIIFServer) -> IIIFProxy:
    server.start()  # a test may have stopped it
    with IIIFProxy(server.base_url) as p:
        yield p


def ids(server: IIIFServer) -> list[str]:
    return [f"img{i + 1:02d}" for i in range(IMAGES)]


def image_path(server: IIIFServer, canvas: int, version: str = "2.1") -> str:
    """The path of canvas `canvas`'s (1-based) full image on a rewritten manifest."""
    ident = ids(server)[(canvas - 1) % IMAGES]
    return f"/{version}_pil/{ident}/full/" + ("max" if version == "3.0" else "full") + "/0/default.jpg"


def split(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, ["split", *args, "--quiet"], env={"TRANSCRIBE_CONTACT": "tests@transcribe.invalid"})
    return r.exit_code, r.stdout, r.stderr


def sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def served(server: IIIFServer, url: str, proxy: IIIFProxy) -> bytes:
    """The bytes the server itself sends for an image address of the proxy (asked directly, not counted)."""
    return requests.get(url.replace(proxy.base_url, server.base_url), timeout=30).content


def record(out: Path) -> dict:
    return json.loads((out / "pages.json").read_text())


# -- the pages ----------------------------------------------------------------------------------------------------
def test_v2_manifest_address_gives_one_page_per_canvas_byte_for_byte(server, proxy, tmp_path):
    m = rewrite_manifest(SHARED / "v2-fg165hz3589.json", tmp_path / "m.json", proxy.base_url, ids(server))
    url = proxy.serve("fg165hz3589.json", m)
    code, out, err = split(url, "-o", str(tmp_path / "pages"))
    assert code == 0, err
    assert "Split 5 pages" in out and "downloaded" in out
    rec = record(tmp_path / "pages")
    assert rec["complete"] and rec["scan"] == url and rec["scan_kind"] == "iiif"
    assert [p["n"] for p in rec["pages"]] == [1, 2, 3, 4, 5]
    images = proxy.images()
    assert len(images) == 5 and all(p.endswith("/full/full/0/default.jpg") for p in images)  # Image API 2.x
    assert proxy.count("info.json") <= 1  # one per manifest, not one per page
    # Polite: every request names transcribe and the user's contact (TRANSCRIBE_CONTACT).
    assert all(e.agent and e.agent.startswith("transcribe/") and "tests@transcribe.invalid" in e.agent
               for e in proxy.log)
    # The page files are the very bytes the server sends (JPEG kept as JPEG).
    for p in rec["pages"]:
        assert p["image"].endswith(".jpg") and p["method"] == "downloaded"
        want = served(server, proxy.base_url + image_path(server, p["n"]), proxy)
        assert (tmp_path / "pages" / p["image"]).read_bytes() == want
    # A second run asks for no image at all.
    proxy.log.clear()
    code, out, err = split(url, "-o", str(tmp_path / "pages"))
    assert code == 0 and proxy.images(complete=False) == []


def test_other_split_settings_remake_the_pages_of_a_manifest(server, proxy, tmp_path):
    """The state knows which settings each image was kept with: --format png after a JPEG split makes PNG pages
    (and the state, with its journal gone, does not hand the old JPEG pages back)."""
    m = rewrite_manifest(SHARED / "v2-fg165hz3589.json", tmp_path / "m.json", proxy.base_url, ids(server))
    out = tmp_path / "pages"
    code, _, err = split(str(m), "-o", str(out), "--pages", "1-2")
    assert code == 0, err
    assert [p["image"] for p in record(out)["pages"]] == ["0001.jpg", "0002.jpg"]
    (out / "pages.json").unlink()  # only the state is left to say what was fetched
    code, _, err = split(str(m), "-o", str(out), "--pages", "1-2", "--format", "png")
    assert code == 0, err
    assert [p["image"] for p in record(out)["pages"]] == ["0001.png", "0002.png"]


def test_v3_manifests_image_api_3_max_and_a_choice_body(server, proxy, tmp_path):
    m = rewrite_manifest(SHARED / "v3-001.json", tmp_path / "m3.json", proxy.base_url, ids(server)[1:],
                         service_version=3)
    code, out, err = split(str(m), "-o", str(tmp_path / "p3"))
    assert code == 0, err
    assert proxy.images() == [f"/3.0_pil/{ids(server)[1]}/full/max/0/default.jpg"]  # Image API 3.0: max
    page = tmp_path / "p3" / "0001.jpg"
    assert page.read_bytes() == served(server, proxy.base_url + proxy.images()[0], proxy)
    # Hamilton's letter: the image is a Choice of layers; the first (the colour image) is the page.
    h = rewrite_manifest(SHARED / "v3-hamilton.json", tmp_path / "h.json", proxy.base_url, ids(server)[2:])
    code, out, err = split(str(h), "-o", str(tmp_path / "ph"))
    assert code == 0, err
    assert record(tmp_path / "ph")["pages"][0]["width"] == 1390


def test_lacunae_are_skipped_and_pages_keep_the_canvas_numbers(server, proxy, tmp_path):
    # Codex Florus dispersus: canvases 1-2 have images, 3-4 are 'Lacune (32r)', 'Lacune (32v)', 5-6 images again.
    m = rewrite_manifest(SHARED / "v2-emptyCanvas.json", tmp_path / "f.json", proxy.base_url, ids(server),
                         keep=lambda i: i in (0, 1, 2, 3, 18, 19))
    code, out, err = split(str(m), "-o", str(tmp_path / "p"))
    assert code == 0, err
    assert "lacunae: canvas 3-4" in err
    rec = record(tmp_path / "p")
    assert [p["n"] for p in rec["pages"]] == [1, 2, 5, 6]
    assert rec["lacunae"] == [3, 4] and rec["complete"]
    assert sorted(os.listdir(tmp_path / "p"))[:4] == ["0001.jpg", "0002.jpg", "0005.jpg", "0006.jpg"]
    assert len(proxy.images()) == 4


# -- refusals -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "says"), [
    ("v2-broken.json", "v2-broken.json is not a IIIF manifest"),
    ("v2-collection.json", "is a IIIF collection of 55 manifests, not one work: http://iiif.io/api/presentation/"
                           "2.1/example/fixtures/1/manifest.json"),
    ("v3-0002-mvm-audio.json", "holds no page images (Sound)"),
    ("v2-2017498721.json", "has no canvases"),
    ("v3-text-pdf.json", "offers its pages as a PDF (https://fixtures.iiif.io/other/UCLA/kabuki_ezukushi_rtl.pdf)"),
])
def test_what_is_not_a_manifest_of_images_is_refused_in_one_line(tmp_path, name, says):
    code, out, err = split(str(SHARED / name), "-o", str(tmp_path / "p"))
    assert code == ExitCode.INPUT
    assert says in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "p").exists()
    if name == "v2-collection.json":
        assert "transcribe init --from" in err


def test_images_behind_a_login_are_refused_before_any_image_is_fetched(server, proxy, tmp_path):
    # The IIIF Auth demonstration manifest, its images served by the server's login-protected ('basic') prefix:
    # the server names its login service in info.json and sends visitors a degraded image.
    m = rewrite_manifest(SHARED / "v2-iiifauth.json", tmp_path / "a.json", proxy.base_url, ids(server), auth=True)
    code, out, err = split(str(m), "-o", str(tmp_path / "p"))
    assert code == ExitCode.DOWNLOAD
    assert "need a login" in err and "IIIF Authentication" in err and "browser" in err
    assert proxy.images(complete=False) == [] and not (tmp_path / "p").exists()
    # An authentication service named in the manifest itself: refused without asking the server anything.
    data = json.loads(rewrite_manifest(SHARED / "v3-001.json", tmp_path / "b.json", proxy.base_url,
                                       ids(server)).read_text())
    body = data["items"][0]["items"][0]["items"][0]["body"]
    service = body["service"][0] if isinstance(body["service"], list) else body["service"]
    service["service"] = [{"id": "https://example.org/login", "type": "AuthCookieService1",
                                      "profile": "http://iiif.io/api/auth/1/login"}]
    (tmp_path / "b.json").write_text(json.dumps(data))
    proxy.log.clear()
    code, out, err = split(str(tmp_path / "b.json"), "-o", str(tmp_path / "q"))
    assert code == ExitCode.DOWNLOAD and "https://example.org/login" in err and proxy.log == []
    # A 401 on an image: the run stops with the advice, and no login page is saved as a page.
    m = rewrite_manifest(SHARED / "v2-fg165hz3589.json", tmp_path / "c.json", proxy.base_url, ids(server))
    proxy.faults[f"/2.1_pil/{ids(server)[1]}/full/"] = ["401"] * 5
    code, out, err = split(str(m), "-o", str(tmp_path / "r"), "--jobs", "1")
    assert code == ExitCode.DOWNLOAD and "login" in err
    kept = [p["image"] for p in record(tmp_path / "r")["pages"]]
    assert "0002.jpg" not in kept and not (tmp_path / "r" / "0002.jpg").exists()


# -- faults -------------------------------------------------------------------------------------------------------
def test_a_missing_page_fails_alone_and_the_next_run_fetches_only_it(server, proxy, tmp_path):
    m = rewrite_manifest(SHARED / "v2-gau.json", tmp_path / "g.json", proxy.base_url, ids(server),
                         keep=lambda i: i < 6)
    proxy.faults[image_path(server, 2)] = ["404"]
    proxy.faults[image_path(server, 3)] = ["429:1", "503:0"]  # busy twice, then fine
    started = time.monotonic()
    code, out, err = split(str(m), "-o", str(tmp_path / "p"))
    assert code == ExitCode.PAGES_FAILED
    assert "1 of 6 page(s) of g.json could not be downloaded: page 2:" in err and "404" in err
    assert "run the same command again" in err.lower()
    rec = record(tmp_path / "p")
    assert [p["n"] for p in rec["pages"]] == [1, 3, 4, 5, 6] and not rec["complete"]
    assert list(rec["failed"]) == ["2"]
    assert time.monotonic() - started >= 1.0  # Retry-After: 1 was honoured
    assert proxy.count(image_path(server, 3)) == 3  # two refusals, then the image
    proxy.log.clear()
    code, out, err = split(str(m), "-o", str(tmp_path / "p"))
    assert code == 0, err
    assert proxy.images() == [image_path(server, 2)]
    assert record(tmp_path / "p")["complete"]


def test_truncated_images_are_fetched_again_or_fail_never_kept(server, proxy, tmp_path):
    m = rewrite_manifest(SHARED / "v2-fg165hz3589.json", tmp_path / "t.json", proxy.base_url, ids(server),
                         keep=lambda i: i < 3)
    proxy.faults[image_path(server, 1)] = ["cut"]  # the connection breaks half way: resumed or asked again
    proxy.faults[image_path(server, 2)] = ["short"]  # half an image, announced as whole: decoded, refetched
    proxy.faults[image_path(server, 3)] = ["short", "short"]  # twice: the page fails, nothing kept
    code, out, err = split(str(m), "-o", str(tmp_path / "p"))
    assert code == ExitCode.PAGES_FAILED and "page 3:" in err and "damaged" in err
    rec = record(tmp_path / "p")
    assert [p["n"] for p in rec["pages"]] == [1, 2]
    for p in rec["pages"]:
        want = served(server, proxy.base_url + image_path(server, p["n"]), proxy)
        assert (tmp_path / "p" / p["image"]).read_bytes() == want
    assert not (tmp_path / "p" / "0003.jpg").exists()


def run_until(cmd: list[str], journal: Path, lines: int) -> subprocess.Popen[bytes]:
    """Start `cmd` and return once the split journal has `lines` finished pages (or the command ended)."""
    proc = subprocess.Popen(cmd, cwd=ROOT, env=environ_for_subprocess(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.is_file() and len(journal.read_text().splitlines()) >= lines:
            break
        time.sleep(0.02)
    return proc


def test_the_server_stopped_in_the_middle_and_started_again(server, tmp_path):
    server.start()
    with IIIFProxy(server.base_url, delay=0.02) as proxy:
        m = rewrite_manifest(SHARED / "v2-gau.json", tmp_path / "s.json", proxy.base_url, ids(server),
                             keep=lambda i: i < 8)
        out = tmp_path / "p"
        proc = run_until([sys.executable, "-m", "transcribe", "split", str(m), "-o", str(out), "--quiet"],
                         out / ".split-journal.jsonl", 1)
        server.stop()
        time.sleep(1.0)
        server.start()
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()
        assert any(e.status == 502 for e in proxy.log)  # it really was down for some requests
        assert [p["n"] for p in record(out)["pages"]] == list(range(1, 9))
        assert sorted(proxy.images()) == sorted(image_path(server, n) for n in range(1, 9))


def test_kill_9_then_the_same_command_fetches_only_what_is_missing(server, tmp_path):
    server.start()
    with IIIFProxy(server.base_url, delay=0.02) as proxy:  # a slow server, so that the kill lands mid-run
        m = rewrite_manifest(SHARED / "v2-gau.json", tmp_path / "k.json", proxy.base_url, ids(server),
                             keep=lambda i: i < 10)
        url = proxy.serve("k.json", m)
        out = tmp_path / "p"
        cmd = [sys.executable, "-m", "transcribe", "split", url, "-o", str(out), "--quiet"]
        proc = run_until(cmd, out / ".split-journal.jsonl", 3)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        finished = {json.loads(line)["n"] for line in (out / ".split-journal.jsonl").read_text().splitlines()
                    if line.endswith("}")}
        assert 3 <= len(finished) < 10, "the kill should land in the middle of the run"
        proxy.wait_idle()
        before = len(proxy.log)
        done = subprocess.run(cmd, cwd=ROOT, env=environ_for_subprocess(), capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        # The second run asked only for the pages the first had not finished, each once.
        second = [e.path for e in proxy.log[before:] if "/full/" in e.path]
        assert sorted(second) == sorted(image_path(server, n) for n in range(1, 11) if n not in finished)
        rec = record(out)
        assert rec["complete"] and [p["n"] for p in rec["pages"]] == list(range(1, 11))
        for p in rec["pages"]:
            want = served(server, proxy.base_url + image_path(server, p["n"]), proxy)
            assert (out / p["image"]).read_bytes() == want, p["n"]
        # The state knows each image by size and SHA-1: without pages.json, still nothing is fetched again.
        (out / "pages.json").unlink()
        proxy.log.clear()
        again = subprocess.run(cmd, cwd=ROOT, env=environ_for_subprocess(), capture_output=True, text=True,
                               timeout=60)
        assert again.returncode == 0, again.stderr
        assert proxy.images(complete=False) == []


# -- a manifest as a work's scan in a batch ------------------------------------------------------------------------
def run_export(tmp_path: Path, work_id: str, url: str) -> None:
    """`transcribe run books.toml --export out --fast` of one work whose scan is the manifest at `url`."""
    (tmp_path / "books.toml").write_text(f'[[work]]\nid = "{work_id}"\nscan = "{url}"\ntitle = "{work_id}"\n'
                                         'language = "en"\nlicence = "PD-old-100"\nwiki = "wikisource:en"\n',
                                         encoding="utf-8")
    r = CliRunner().invoke(app, ["run", str(tmp_path / "books.toml"), "--export", str(tmp_path / "out"),
                                 "--fast", "--quiet"])
    assert r.exit_code == 0, r.output


def test_a_batch_work_whose_scan_is_a_manifest_address(server, proxy, tmp_path):
    m = rewrite_manifest(SHARED / "v3-001.json", tmp_path / "h.json", proxy.base_url, ids(server))
    url = proxy.serve("9cca8fdd/manifest.json", m)
    run_export(tmp_path, "handbill", url)
    pages = tmp_path / "books.transcribe" / "handbill" / "pages"
    rec = record(pages)
    assert rec["scan"] == url and [p["image"] for p in rec["pages"]] == ["0001.jpg"]
    assert len(proxy.images()) == 1


def test_the_largest_size_an_info_json_allows():
    from transcribe.split.iiif import largest_allowed

    # iipsrv 1.1's info.json (Image API 2.1, as Debian 12's iipimage-server writes it), with MAX_CVT=1000.
    iip = {"@context": "http://iiif.io/api/image/2/context.json", "width": 1390, "height": 2392,
           "sizes": [{"width": 86, "height": 149}, {"width": 347, "height": 598}, {"width": 695, "height": 1196}],
           "profile": ["http://iiif.io/api/image/2/level1.json",
                       {"formats": ["jpg"], "maxWidth": 1000, "maxHeight": 1000}]}
    assert largest_allowed(iip, 2) == "581,"  # 1000 px high at most: 1390 x 1000/2392
    iip["profile"][1].update(maxWidth=5000, maxHeight=5000)
    assert largest_allowed(iip, 2) is None  # the full size is allowed: full/full
    level0 = {**iip, "profile": ["http://iiif.io/api/image/2/level0.json", {"maxArea": 1_000_000}]}
    assert largest_allowed(level0, 2) == "695,"  # only listed sizes: the largest within 1 megapixel
    v3 = {"type": "ImageService3", "width": 1390, "height": 2392, "maxWidth": 800, "profile": "level1"}
    assert largest_allowed(v3, 3) == "max"  # 3.0's max is the largest the server allows


def test_a_cut_jpeg_is_never_taken_for_complete():
    import io

    from PIL import Image

    from transcribe.split.iiif import jpeg_problem

    with Image.open(CORPUS / PAGES[0]) as im:
        small = im.convert("RGB").resize((400, 690))
    for options in ({}, {"progressive": True}, {"restart_marker_blocks": 4}):
        buf = io.BytesIO()
        small.save(buf, "JPEG", **options)
        data = buf.getvalue()
        assert jpeg_problem(data) is None
        places = [*range(1, len(data), 97), *range(len(data) - 64, len(data))]  # anywhere, and every end byte
        cuts = [k for k in places if jpeg_problem(data[:k]) is None]
        assert cuts == [], (options, cuts[:3])


# -- lacunae through bundle, OCR, export and publish ----------------------------------------------------------------
FLORUS = (1, 2, 3, 18)  # canvases '2v (31v)', then the lacunae 'Lacune (32r)', 'Lacune (32v)', then '1r (40r)'


def florus_work(server: IIIFServer, proxy: IIIFProxy, tmp_path: Path) -> str:
    m = rewrite_manifest(SHARED / "v2-emptyCanvas.json", tmp_path / "f.json", proxy.base_url, ids(server),
                         keep=lambda i: i in FLORUS)
    return proxy.serve("florus/manifest.json", m)


def pdf_pages_text(pdf: Path) -> list[str]:
    """The text layer of each page, as pdftotext reads it."""
    import pikepdf

    with pikepdf.open(pdf) as doc:
        count = len(doc.pages)
    return [subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), str(pdf), "-"], capture_output=True,
                           text=True, check=True).stdout.strip() for i in range(1, count + 1)]


def test_run_export_of_a_manifest_with_lacunae_keeps_page_n_as_canvas_n(server, proxy, tmp_path):
    url = florus_work(server, proxy, tmp_path)
    run_export(tmp_path, "florus", url)
    work = tmp_path / "books.transcribe" / "florus"
    # OCR read the two images and nothing else: the lacunae have no image to read
    ocr = json.loads((work / "pages" / "ocr.json").read_text())
    assert sorted(p["n"] for p in ocr["pages"]) == [1, 4]
    # the book file: page n is canvas n, the lacunae are placeholder pages the size of their neighbour, no text
    pdf = next(work.glob("*.pdf"))
    texts = pdf_pages_text(pdf)
    assert len(texts) == 4 and texts[0] and texts[3] and texts[1] == texts[2] == ""
    import pikepdf

    with pikepdf.open(pdf) as doc:
        boxes = [[float(v) for v in p.mediabox] for p in doc.pages]
    assert boxes[1] == boxes[2] == boxes[0]
    # ... which says, in the scan itself, that the leaf is missing (Tesseract reads it off the rendered page)
    subprocess.run(["pdftoppm", "-f", "2", "-l", "2", "-r", "100", "-png", str(pdf), str(tmp_path / "lac")],
                   check=True)
    seen = subprocess.run(["tesseract", str(next(tmp_path.glob("lac*.png"))), "-", "-l", "eng"],
                          capture_output=True, text=True, check=True).stdout
    assert "Lacuna" in seen and "canvas 2" in seen
    # the Page: texts: the lacunae 'Without text' (level 0), the OCR'd pages 'Not proofread' (level 1)
    wt = tmp_path / "out" / "florus" / "wikitext"
    levels = {n: pt.parse_page((wt / f"Page_{n:04d}.wiki").read_text()).level for n in range(1, 5)}
    assert levels == {1: 1, 2: 0, 3: 0, 4: 1}
    # the preview says what a lacuna is; the Index's pagelist comes from the canvas labels (folios in brackets)
    assert "lacuna: canvas 2 of the IIIF manifest has no image" in (
        tmp_path / "out" / "florus" / "pages" / "0002.html").read_text()
    assert "<pagelist 1=31v 2=32 2to3=folio" in (wt / "Index.wiki").read_text()


def test_publish_of_a_manifest_work_takes_the_canvas_labels_and_puts_lacunae_at_level_0(
        server, proxy, tmp_path, wiki_en, bot_login):
    url = florus_work(server, proxy, tmp_path)
    work = tmp_path / "florus"
    work.mkdir()
    (work / "work.toml").write_text('title = "Florus"\nlanguage = "en"\nlicence = "PD-old-100"\n'
                                    'scan = "Florus.pdf"\nfile_name = "Florus.pdf"\n', encoding="utf-8")
    code, out, err = split(url, "-o", str(work / "pages"))
    assert code == 0, err
    r = CliRunner().invoke(app, ["bundle", str(work / "pages"), "-o", str(work / "Florus.pdf"), "--quiet"])
    assert r.exit_code == 0, r.output
    assert "2-3 are lacunae" in r.stderr
    bot_login(wiki_en)
    r = CliRunner().invoke(app, ["publish", str(work), "--wiki", wiki_en.api_url, "--quiet"])
    assert r.exit_code == 0, r.output
    assert "page labels from the canvas labels" in r.stderr
    assert "<pagelist 1=31v 2=32 2to3=folio 4=40r />" in wiki_en.page_text("Index:Florus.pdf")
    for n in (2, 3):
        assert pt.parse_page(wiki_en.page_text(f"Page:Florus.pdf/{n}")).level == 0
    assert wiki_en.page_text("Page:Florus.pdf/1") is None  # no OCR yet: left for the next run
    assert proxy.count("manifest.json") == 1  # read once, by split: publish took the labels from pages.json


def test_lacunae_after_the_last_image_are_pages_only_when_the_whole_manifest_was_split(tmp_path):
    from transcribe.split import read_lacunae

    def lacunae(scan_pages: int) -> list[int]:
        (tmp_path / "pages.json").write_text(json.dumps({
            "scan": "m.json", "scan_kind": "iiif", "scan_pages": scan_pages, "lacunae": [2, 4, 5],
            "pages": [{"n": n, "image": f"{n:04d}.jpg", "source": "", "width": 1, "height": 1, "dpi": None,
                       "sha1": ""} for n in (1, 3)]}))
        return read_lacunae(tmp_path)

    assert lacunae(5) == [2, 4, 5]  # canvases 1-5 all here: the book ends with the two lost leaves
    assert lacunae(7) == [2]  # `--pages 1-3` of 7 canvases: the book ends at page 3
