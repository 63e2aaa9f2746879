"""Build small test scans (PDF, DjVu, multi-page TIFF, ZIP, folder) from page images, at test time.

Every test area that needs "a scan as a library would send it" builds one here from a few corpus pages, so no
binary scan is stored in the repository. Typical use, in a session-scoped fixture:

    pages = small_pages(corpus, tmp_path_factory.mktemp("pages"), count=3)   # downscaled PNGs, DPI kept
    pdf = make_pdf(pages, tmp / "book.pdf")                                   # one lossless image per page
    djvu = make_djvu(pages, tmp / "book.djvu")
    tif = make_tiff(pages, tmp / "book.tif")
    zip_ = make_zip({"p1.png": pages[0], "p2.png": pages[1]}, tmp / "book.zip")

The PDF writer is a few lines of plain PDF syntax (no PDF library), so the tests control exactly how each page is
stored: "flate" (pixels with the PNG predictor: what img2pdf writes for PNG input), "flate-raw" (pixels without a
predictor), "jpeg" (DCT, what scanners write),
"text" (a page of text and lines, no image: it must be rendered) or "framed" (a scan image with a printed header:
two things on the page, so it must be rendered too). DjVu uses djvulibre's own encoders (c44, cjb2, djvm).
"""

from __future__ import annotations

import io
import shutil
import stat
import subprocess
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from PIL import Image

PDF_KINDS = ("flate", "flate-raw", "jpeg", "text", "framed")


def small_pages(corpus: Path, out_dir: Path, *, count: int = 3, width: int = 500, mode: str = "L",
                files: Sequence[str] | None = None) -> list[Path]:
    """Downscale `count` corpus pages (or the named `files`) to `width` pixels; PNGs whose DPI is scaled too.

    `mode` is a Pillow mode: "L" (grey, the default), "RGB" or "1" (black and white). The result is
    deterministic, so tests may compare pixels against these files.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    names = list(files) if files else sorted(p.name for p in corpus.glob("vdsbb_glauanno_*.tif"))[:count]
    result = []
    for i, name in enumerate(names, 1):
        with Image.open(corpus / name) as im:
            dpi = float(im.info.get("dpi", (300, 300))[0]) or 300.0
            scale = width / im.width
            small = im.convert("RGB" if mode == "RGB" else "L").resize(
                (width, round(im.height * scale)), Image.Resampling.LANCZOS)
        if mode == "1":
            small = small.point(lambda v: 255 if v > 150 else 0).convert("1")
        target = out_dir / f"page{i:02d}.png"
        small.save(target, dpi=(round(dpi * scale), round(dpi * scale)))
        result.append(target)
    return result


# -- PDF ----------------------------------------------------------------------------------------------------------
def make_pdf(images: Sequence[Path], out: Path, *, kind: str | Sequence[str] = "flate",
             dpi: int | None = None) -> Path:
    """Write a PDF with one page per image; `kind` (one for all, or one per page) says how a page is stored.

    The page size follows the image's pixel size and DPI (or `dpi`), so an embedded image covers its page at its
    native resolution, as in a real scanned book.
    """
    kinds = [kind] * len(images) if isinstance(kind, str) else list(kind)
    if len(kinds) != len(images) or any(k not in PDF_KINDS for k in kinds):
        raise ValueError(f"kind must be one of {PDF_KINDS}, one per image")
    objects: list[bytes] = []  # objects[i] is object number i + 1

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in at the end
    pages_obj = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    page_ids = []
    for image_path, k in zip(images, kinds, strict=True):
        with Image.open(image_path) as im:
            im.load()
            res = dpi or round(float(im.info.get("dpi", (300, 300))[0])) or 300
            w_pt, h_pt = im.width * 72 / res, im.height * 72 / res
            resources = b"/Font << /F1 %d 0 R >>" % font
            if k == "text":
                content = _text_content(w_pt, h_pt, image_path.stem)
            else:
                xobj = add(_image_object(im, jpeg=(k == "jpeg"), predictor=(k != "flate-raw")))
                resources += b" /XObject << /Im0 %d 0 R >>" % xobj
                content = b"q %.4f 0 0 %.4f 0 0 cm /Im0 Do Q\n" % (w_pt, h_pt)
                if k == "framed":
                    content += _text_content(w_pt, h_pt, "Printed header")
        stream = add(_stream(b"", content))
        page_ids.append(add(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.4f %.4f] /Resources << %s >> /Contents %d 0 R >>"
            % (pages_obj, w_pt, h_pt, resources, stream)))
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj
    kids = b" ".join(b"%d 0 R" % i for i in page_ids)
    objects[pages_obj - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_ids))
    _write_pdf(objects, out)
    return out


def make_empty_pdf(out: Path) -> Path:
    """A well-formed PDF with no pages at all."""
    _write_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"], out)
    return out


def encrypt_pdf(pdf: Path, out: Path, *, password: str = "secret") -> Path:
    """A copy of `pdf` that needs `password` to open (Ghostscript's pdfwrite)."""
    subprocess.run(
        ["gs", "-q", "-dNOPAUSE", "-dBATCH", "-sDEVICE=pdfwrite", f"-sOwnerPassword={password}-owner",
         f"-sUserPassword={password}", f"-sOutputFile={out}", str(pdf)],
        check=True, capture_output=True)
    return out


def _image_object(im: Image.Image, *, jpeg: bool, predictor: bool = True) -> bytes:
    if im.mode not in ("1", "L", "RGB"):
        im = im.convert("RGB")
    bpc, colours = {"1": (1, 1), "L": (8, 1), "RGB": (8, 3)}[im.mode]
    space = b"/DeviceRGB" if colours == 3 else b"/DeviceGray"
    head = b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s /BitsPerComponent %d" % (
        im.width, im.height, space, bpc)
    if jpeg:
        buf = io.BytesIO()
        im.convert("L" if colours == 1 else "RGB").save(buf, "JPEG", quality=90)
        return _stream(head.replace(b"/BitsPerComponent 1", b"/BitsPerComponent 8") + b" /Filter /DCTDecode",
                       buf.getvalue())
    raw = im.tobytes()
    if not predictor:
        return _stream(head + b" /Filter /FlateDecode", zlib.compress(raw, 6))
    # Rows each prefixed by PNG filter type 0 (None): the PDF "PNG predictor" layout img2pdf uses.
    row = (im.width * colours * bpc + 7) // 8
    data = b"".join(b"\0" + raw[i:i + row] for i in range(0, len(raw), row))
    parms = b"/DecodeParms << /Predictor 15 /Colors %d /BitsPerComponent %d /Columns %d >>" % (
        colours, bpc, im.width)
    return _stream(head + b" /Filter /FlateDecode " + parms, zlib.compress(data, 6))


def _text_content(w_pt: float, h_pt: float, title: str) -> bytes:
    lines = [title, "A page of printed text, drawn with a font:", "it has no image and must be rendered."]
    ops = [b"BT /F1 %.1f Tf %.2f %.2f Td %.1f TL" % (h_pt / 30, w_pt * 0.1, h_pt * 0.9, h_pt / 22)]
    for line in lines:
        safe = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(b"(" + safe.encode("latin-1") + b") Tj T*")
    ops.append(b"ET %.2f %.2f m %.2f %.2f l S" % (w_pt * 0.1, h_pt * 0.8, w_pt * 0.9, h_pt * 0.8))
    return b"\n".join(ops) + b"\n"


def _stream(dict_body: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n" % (dict_body, len(data)) + data + b"\nendstream"


def _write_pdf(objects: list[bytes], out: Path) -> None:
    buf = io.BytesIO()
    buf.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(buf.tell())
        buf.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = buf.tell()
    buf.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        buf.write(b"%010d 00000 n \n" % off)
    buf.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buf.getvalue())


# -- DjVu, TIFF, ZIP, folder ---------------------------------------------------------------------------------------
def make_djvu(images: Sequence[Path], out: Path) -> Path:
    """A bundled multi-page DjVu: black-and-white pages with cjb2 (JB2), others with c44 (IW44), DPI kept."""
    work = out.parent / f".{out.name}.parts"
    work.mkdir(parents=True, exist_ok=True)
    parts = []
    for i, image_path in enumerate(images, 1):
        with Image.open(image_path) as im:
            dpi = str(round(float(im.info.get("dpi", (300, 300))[0])) or 300)
            part = work / f"p{i:04d}.djvu"
            if im.mode == "1":
                src = work / f"p{i:04d}.pbm"
                im.save(src)
                subprocess.run(["cjb2", "-dpi", dpi, str(src), str(part)], check=True, capture_output=True)
            else:
                src = work / f"p{i:04d}.{'pgm' if im.mode == 'L' else 'ppm'}"
                im.convert("L" if im.mode == "L" else "RGB").save(src)
                subprocess.run(["c44", "-dpi", dpi, str(src), str(part)], check=True, capture_output=True)
        parts.append(str(part))
    subprocess.run(["djvm", "-c", str(out), *parts], check=True, capture_output=True)
    shutil.rmtree(work)
    return out


def make_tiff(images: Sequence[Path], out: Path, *, compression: str = "tiff_deflate") -> Path:
    """A multi-page TIFF, one frame per image, each with its own DPI (black-and-white frames in Group 4)."""
    frames = []
    for image_path in images:
        with Image.open(image_path) as im:
            im.load()
            frames.append(im.copy())
    dpi = frames[0].info.get("dpi", (300, 300))
    first, rest = frames[0], frames[1:]
    comp = "group4" if first.mode == "1" else compression
    first.save(out, save_all=True, append_images=rest, compression=comp, dpi=dpi)
    return out


def make_folder(images: Sequence[Path], out_dir: Path, names: Sequence[str]) -> Path:
    """Copy `images` into `out_dir` under `names` (e.g. ["p1.png", "p2.png", "p10.png"])."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for image_path, name in zip(images, names, strict=True):
        shutil.copyfile(image_path, out_dir / name)
    return out_dir


def make_zip(entries: Mapping[str, Path | bytes], out: Path, *,
             symlinks: Mapping[str, str] | None = None) -> Path:
    """A ZIP holding `entries` (name in the archive -> a file or bytes), plus `symlinks` (name -> target).

    Names are written exactly as given, so a test can build a hostile archive ("../evil.png", "/etc/x").
    """
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as z:
        for name, data in entries.items():
            z.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)),
                       data if isinstance(data, bytes) else Path(data).read_bytes())
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0))
            info.create_system = 3  # Unix, so the mode bits below are honoured
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, target)
    return out
