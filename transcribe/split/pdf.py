"""PDF pages -> images: which pages are one embedded scan image (extract it as stored) and which must be rendered.

A page is *extracted* only when all of these hold, otherwise pdftoppm renders it:
- poppler's `pdfimages -list` sees exactly one image on the page, of type "image" (not a stencil mask, no soft
  mask), drawn with the same resolution across and down, covering the whole page, on a page that is not rotated;
- the page's content paints nothing else visible: no text except invisible text (render mode 3 or 7, the
  OCR layer of a searchable scan), no lines or fills, no other images (form XObjects are looked into).
An extracted Flate image with 8-bit grey or RGB pixels and a PNG predictor is wrapped into a PNG file as it is:
the stored bytes are already PNG's IDAT format, so nothing is decoded (bit-exact, and 35x faster than pdfimages).
JPEG (DCT) images are decoded by Pillow; anything else (1-bit, CCITT, JBIG2, palettes...) by `pdfimages -png`.
Poppler 22.02 (Debian 12) writes a wrong 72 dpi into pdfimages' PNGs and turns ICC grey into RGB: both are fixed.
"""

from __future__ import annotations

import logging
import re
import subprocess
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from transcribe.errors import InputError
from transcribe.split.tools import need, run

log = logging.getLogger(__name__)

POPPLER = "poppler-utils"


@dataclass(frozen=True)
class PagePlan:
    """How page n of a PDF becomes an image."""

    n: int
    width_pt: float
    height_pt: float
    extract: bool = False
    obj: tuple[int, int] = (0, 0)  # the image object
    width: int = 0  # pixels of the embedded image
    height: int = 0
    dpi: int | None = None  # its resolution on the page
    colours: int = 0  # components: 1 grey, 3 RGB
    why: str = ""  # why the page is rendered

    def render_pixels(self, dpi: int) -> int:
        return round(self.width_pt * dpi / 72) * round(self.height_pt * dpi / 72)


def check_programs() -> None:
    for program in ("pdfinfo", "pdfimages", "pdftoppm"):
        need(program, POPPLER)


def page_count(scan: Path) -> int:
    """The number of pages; InputError for a damaged, encrypted or empty PDF."""
    check_programs()
    proc = run(["pdfinfo", str(scan)])
    if "Incorrect password" in proc.stderr:
        raise InputError(
            f"{scan} is protected by a password, so its pages cannot be read.",
            hint=f"Ask for an unprotected copy, or remove the password: "
                 f"qpdf --password=PASSWORD --decrypt '{scan.name}' unlocked.pdf")
    m = re.search(r"^Pages:\s+(\d+)", proc.stdout, re.MULTILINE)
    if (m and int(m.group(1)) == 0) or "Invalid page count 0" in proc.stderr:
        raise InputError(f"{scan} has no pages.", hint="Check that it is the scan you meant.")
    if proc.returncode != 0 or not m:
        # poppler's own words ("Command Line Error: Wrong page range given...") go to --verbose's detail lines
        cause = _failed(proc, ["pdfinfo", str(scan)])
        if _cut_short(scan):
            raise InputError(f"{scan} is cut short ({scan.stat().st_size} bytes, without the end marker every "
                             "complete PDF has), as after an interrupted download or copy.",
                             hint="Download or copy it again from the original.") from cause
        raise InputError(f"{scan} is damaged: its list of pages cannot be read.",
                         hint=f"Copy or download it again; a damaged file may be repaired with: "
                              f"qpdf '{scan.name}' repaired.pdf") from cause
    return int(m.group(1))


def _cut_short(scan: Path) -> bool:
    """True when the PDF lacks the '%%EOF' marker a complete PDF ends with (within its last kilobyte)."""
    with open(scan, "rb") as f:
        f.seek(max(0, scan.stat().st_size - 1024))
        return b"%%EOF" not in f.read()


def _failed(proc: subprocess.CompletedProcess[str], args: list[str]) -> subprocess.CalledProcessError:
    """A program's failure as an exception, to be the cause of the tool's own error (its stderr for --verbose)."""
    return subprocess.CalledProcessError(proc.returncode, args, proc.stdout, proc.stderr)


def plan_pages(scan: Path, numbers: list[int]) -> dict[int, PagePlan]:
    """Decide for each page in `numbers` whether its image is extracted or the page rendered."""
    if not numbers:
        return {}
    first, last = min(numbers), max(numbers)
    info = run(["pdfinfo", "-f", str(first), "-l", str(last), str(scan)]).stdout
    sizes = {int(n): (float(w), float(h)) for n, w, h in
             re.findall(r"^Page\s+(\d+) size:\s+([\d.]+) x ([\d.]+)", info, re.MULTILINE)}
    rotations = {int(n): int(r) for n, r in re.findall(r"^Page\s+(\d+) rot:\s+(-?\d+)", info, re.MULTILINE)}
    images: dict[int, list[list[str]]] = {}
    listing = run(["pdfimages", "-list", "-f", str(first), "-l", str(last), str(scan)]).stdout
    for line in listing.splitlines():
        cols = line.split()
        if len(cols) >= 14 and cols[0].isdigit():
            images.setdefault(int(cols[0]), []).append(cols)
    content = _ContentCheck(scan)
    plans = {}
    try:
        for n in numbers:
            w_pt, h_pt = sizes.get(n, (0.0, 0.0))
            why = _why_not_one_image(images.get(n, []), w_pt, h_pt, rotations.get(n, 0))
            if not why:
                why = content.why_not_simple(n)
            if why:
                log.debug("page %d of %s is rendered: %s", n, scan.name, why)
                plans[n] = PagePlan(n, w_pt, h_pt, why=why)
                continue
            cols = images[n][0]
            plans[n] = PagePlan(n, w_pt, h_pt, extract=True, obj=(int(cols[10]), int(cols[11])),
                                width=int(cols[3]), height=int(cols[4]), dpi=round(float(cols[12])),
                                colours=int(cols[6]))
    finally:
        content.close()
    return plans


def _why_not_one_image(rows: list[list[str]], w_pt: float, h_pt: float, rot: int) -> str:
    if len(rows) != 1:
        return f"{len(rows)} images on the page"
    cols = rows[0]
    kind, width, height, comps, bpc = cols[2], int(cols[3]), int(cols[4]), cols[6], cols[7]
    if kind != "image":
        return f"the image is a {kind}"
    if rot % 360:
        return "the page is rotated"
    if comps not in ("1", "3") or bpc not in ("1", "8"):
        return f"{comps} colour components of {bpc} bits"
    try:
        xppi, yppi = float(cols[12]), float(cols[13])
    except ValueError:
        return "no resolution"
    if xppi <= 0 or abs(xppi - yppi) > 0.01 * xppi:
        return "stretched image"
    for pixels, ppi, pts in ((width, xppi, w_pt), (height, yppi, h_pt)):
        if abs(pixels * 72 / ppi - pts) > max(1.5, 0.01 * pts):
            return "the image does not cover the page"
    return ""


# Operators that make marks on the page (besides images and text, tracked apart).
_PAINT = {"S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "sh", "BI", "EI", "d0", "d1"}
_SHOW_TEXT = {"Tj", "TJ", "'", '"'}
_INVISIBLE_TEXT = {3, 7}  # text render modes that draw nothing (the OCR layer of a searchable scan)


class _ContentCheck:
    """Reads page content streams with pikepdf to make sure a page shows its scan image and nothing else."""

    def __init__(self, scan: Path) -> None:
        self.pdf = None
        try:
            import pikepdf

            self.pdf = pikepdf.open(scan)
        except Exception as e:  # noqa: BLE001 - any failure just means "render every page"
            log.debug("pikepdf cannot open %s (%s): every page is rendered", scan, e)

    def close(self) -> None:
        if self.pdf is not None:
            self.pdf.close()

    def why_not_simple(self, n: int) -> str:
        if self.pdf is None:
            return "the PDF's objects cannot be read"
        try:
            page = self.pdf.pages[n - 1]
            images = self._walk(page.obj, page.obj.get("/Resources"), depth=0)
        except _Visible as e:
            return str(e)
        except Exception as e:  # noqa: BLE001 - unusual structure: rendering is always correct
            return f"content not understood ({e})"
        if images != 1:
            return f"{images} images painted"
        return ""

    def _walk(self, holder: object, resources: object, depth: int) -> int:
        import pikepdf

        if depth > 5:
            raise _Visible("forms nested too deep")
        images = 0
        mode, stack = 0, []
        for item in pikepdf.parse_content_stream(holder):
            op = str(item.operator)
            if op == "q":
                stack.append(mode)
            elif op == "Q":
                mode = stack.pop() if stack else 0
            elif op == "Tr":
                mode = int(item.operands[0])
            elif op in _SHOW_TEXT:
                if mode not in _INVISIBLE_TEXT:
                    raise _Visible("visible text on the page")
            elif op in _PAINT:
                raise _Visible(f"drawing on the page ({op})")
            elif op == "Do":
                xobj = resources.XObject[item.operands[0]]  # type: ignore[attr-defined]
                subtype = xobj.get("/Subtype")
                if subtype == "/Image":
                    if xobj.get("/SMask") is not None or xobj.get("/Mask") is not None \
                            or bool(xobj.get("/ImageMask", False)):
                        raise _Visible("the image has a mask")
                    images += 1
                elif subtype == "/Form":
                    images += self._walk(xobj, xobj.get("/Resources", resources), depth + 1)
        return images


class _Visible(Exception):
    pass


# -- extracting ----------------------------------------------------------------------------------------------------
def extract(scan: Path, plan: PagePlan, scratch: Path) -> tuple[bool, bytes | Path]:
    """The page's image: (True, PNG bytes ready to write) or (False, JPEG bytes or a file for Pillow to decode)."""
    import pikepdf

    with pikepdf.open(scan) as pdf:
        obj = pdf.get_object(plan.obj)
        d = obj.stream_dict
        filters = d.get("/Filter")
        filters = [str(f) for f in filters] if isinstance(filters, pikepdf.Array) else \
            ([str(filters)] if filters is not None else [])
        parms = d.get("/DecodeParms")
        if isinstance(parms, pikepdf.Array):
            parms = parms[0] if len(parms) == 1 else None
        plain = (int(d.get("/BitsPerComponent", 0)) == 8 and d.get("/Decode") is None
                 and _components(d.get("/ColorSpace")) == plan.colours and plan.colours in (1, 3))
        if plain and filters == ["/FlateDecode"]:
            if parms is not None and int(parms.get("/Predictor", 1)) >= 10 \
                    and int(parms.get("/Colors", 1)) == plan.colours \
                    and int(parms.get("/BitsPerComponent", 8)) == 8 \
                    and int(parms.get("/Columns", 1)) == plan.width:
                return True, png_bytes(plan.width, plan.height, plan.colours, obj.read_raw_bytes(), plan.dpi)
            if parms is None or int(parms.get("/Predictor", 1)) == 1:
                raw = obj.read_bytes()
                row = plan.width * plan.colours
                rows = b"".join(b"\0" + raw[i:i + row] for i in range(0, row * plan.height, row))
                return True, png_bytes(plan.width, plan.height, plan.colours, zlib.compress(rows, 6), plan.dpi)
        if plain and filters == ["/DCTDecode"]:
            return False, obj.read_raw_bytes()
    # Everything else: let poppler decode it (it knows CCITT, JBIG2, palettes, decode arrays).
    prefix = scratch / f"{plan.n:04d}.pdfimages"
    args = ["pdfimages", "-png", "-f", str(plan.n), "-l", str(plan.n), str(scan), str(prefix)]
    proc = run(args)
    produced = sorted(scratch.glob(f"{prefix.name}-*.png"))
    if proc.returncode != 0 or len(produced) != 1:
        raise InputError(f"The image of page {plan.n} of {scan.name} could not be read: the PDF is damaged there.",
                         hint="Get the scan again (--verbose shows poppler's own message).") \
            from _failed(proc, args)
    return False, produced[0]


def _components(space: object) -> int:
    import pikepdf

    if isinstance(space, pikepdf.Array) and len(space) == 2 and str(space[0]) == "/ICCBased":
        return int(space[1].get("/N", 0))
    return {"/DeviceGray": 1, "/DeviceRGB": 3, "/CalGray": 1, "/CalRGB": 3}.get(str(space), 0)


def png_bytes(width: int, height: int, colours: int, idat: bytes, dpi: int | None) -> bytes:
    """A PNG file around an already-compressed IDAT stream (8 bits, grey or RGB)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    colour_type = 0 if colours == 1 else 2
    out = [b"\x89PNG\r\n\x1a\n", chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0))]
    if dpi:
        ppm = round(dpi / 0.0254)
        out.append(chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)))
    out += [chunk(b"IDAT", idat), chunk(b"IEND", b"")]
    return b"".join(out)


# -- rendering -----------------------------------------------------------------------------------------------------
def render(scan: Path, n: int, dpi: int, fmt: str, gray: bool, target: Path) -> None:
    """Render page n with pdftoppm into `target` (its name without the suffix is pdftoppm's output root)."""
    args = ["pdftoppm", "-r", str(dpi), "-f", str(n), "-l", str(n), "-singlefile"]
    args += ["-png"] if fmt == "png" else ["-tiff", "-tiffcompression", "deflate"]
    if gray:
        args.append("-gray")
    args += [str(scan), str(target.with_suffix(""))]
    proc = run(args)
    if proc.returncode != 0 or not target.is_file():
        raise InputError(f"Page {n} of {scan.name} could not be drawn: the PDF is damaged there.",
                         hint="Get the scan again, or try another --dpi (--verbose shows poppler's own message).") \
            from _failed(proc, args)
