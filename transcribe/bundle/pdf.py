"""Write a PDF: the page images embedded losslessly (img2pdf), then an invisible text layer on each (pikepdf).

Images: img2pdf copies JPEG bytes as they are (DCT), PNG data with its predictors (Flate) and encodes
black-and-white pages as CCITT Group 4; nothing is re-compressed with loss. (JBIG2 would be smaller, but no
JBIG2 encoder is packaged in Debian 12.)

Text: each hOCR word is drawn in text render mode 3 (invisible) with Tesseract's glyphless font, one text
object per hOCR line in reading order, stretched (Tz) to the word's box, on the line's baseline. The font maps
every code to one blank glyph and its ToUnicode map is the identity on UTF-16 code units, so text in any
script copies and searches as the OCR gave it. This is the layout Tesseract's own PDF renderer and OCRmyPDF use.
"""

from __future__ import annotations

import base64
import logging
import math
import zlib
from collections.abc import Callable
from pathlib import Path

import img2pdf
import pikepdf
from PIL import Image

from transcribe.bundle.hocr import HocrPage
from transcribe.bundle.pages import BookPage
from transcribe.errors import InputError

log = logging.getLogger(__name__)

# Tesseract 5.3's tessdata/pdf.ttf (Apache-2.0, (c) Google): a TrueType font whose only glyph is blank and
# 1/2 em wide. Embedded here so a PDF can be made without knowing where Tesseract keeps its data.
GLYPHLESS_TTF = base64.b64decode(
    "AAEAAAAKAIAAAwAgT1MvMlbeyJQAAAEoAAAAYGNtYXAACgA0AAABkAAAAB5nbHlmFSJBJAAAAbgAAAAYaGVhZAt48WUAAACsAAAA"
    "NmhoZWEMAgQCAAAA5AAAACRobXR4BAAAAAAAAYgAAAAIbG9jYQAMAAAAAAGwAAAABm1heHAABAAFAAABCAAAACBuYW1l8usW2gAA"
    "AdAAAABLcG9zdAABAAEAAAIcAAAAIAABAAAAAQAAsJRxEF8PPPUEBwgAAAAAAM+a/G4AAAAA1MOn8gAAAAAEAAgAAAAAEAACAAAA"
    "AAAAAAEAAAgA//8AAAQAAAAAAAQAAAEAAAAAAAAAAAAAAAAAAAACAAEAAAACAAQAAQAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAwAA"
    "AZAABQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAUAAQABAAAAAAAAAAAAAAAAAAAAAAAAAAAAR09PRwBAAAAAAAAB//8AAAABAAGA"
    "AAAAAAAAAAAAAAAAAAABAAAAAAAABAAAAAAAAAIAAQAAAAAAFAADAAAAAAAUAAYACgAAAAAAAAAAAAAAAAAMAAAAAQAAAAAEAAgA"
    "AAMAADEhESEEAPwACAAAAAADACoAAAADAAAABQAWAAAAAQAAAAAABQALABYAAwABBAkABQAWAAAAVgBlAHIAcwBpAG8AbgAgADEA"
    "LgAwVmVyc2lvbiAxLjAAAAEAAAAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAA="
)
GLYPH_WIDTH = 0.5  # of the font size: the /DW 500 of the font below
FONT_NAME = "/FTranscribe"


# Codes 0xD800-0xDFFF are surrogates, never characters of their own: they are free to stand for characters beyond
# U+FFFF (Gothic, CJK extension B, mathematical letters), one code each, mapped in the ToUnicode table.
_ASTRAL_FIRST, _ASTRAL_LAST = 0xD800, 0xDFFF


class Codes:
    """Character -> 2-byte code of the glyphless font, shared by every page of one PDF."""

    def __init__(self) -> None:
        self.astral: dict[str, int] = {}

    def encode(self, text: str) -> bytes:
        out = bytearray()
        for ch in text:
            cp = ord(ch)
            if cp > 0xFFFF or _ASTRAL_FIRST <= cp <= _ASTRAL_LAST:
                code = self.astral.get(ch)
                if code is None:
                    code = _ASTRAL_FIRST + len(self.astral)
                    if code > _ASTRAL_LAST:
                        code = 0xFFFD  # more than 2048 different ones in one book: show the replacement mark
                    else:
                        self.astral[ch] = code
                cp = code
            out += cp.to_bytes(2, "big")
        return bytes(out)

    def to_unicode_cmap(self) -> bytes:
        # Identity from 2-byte codes to UTF-16, except the surrogate block; a bfrange may only vary the last byte.
        ranges = [f"<{hi:02X}00> <{hi:02X}FF> <{hi:02X}00>" for hi in range(256) if not 0xD8 <= hi <= 0xDF]
        chars = [f"<{code:04X}> <{ch.encode('utf-16-be').hex().upper()}>" for ch, code in self.astral.items()]
        blocks = [
            f"{len(chunk)} begin{kind}\n" + "\n".join(chunk) + f"\nend{kind}"
            for kind, entries in (("bfrange", ranges), ("bfchar", chars))
            for chunk in (entries[i:i + 100] for i in range(0, len(entries), 100))
        ]
        return (
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
            + "\n".join(blocks)
            + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
        ).encode("ascii")


def _glyphless_font(pdf: pikepdf.Pdf) -> pikepdf.Object:
    font_file = pikepdf.Stream(pdf, zlib.compress(GLYPHLESS_TTF), Filter=pikepdf.Name.FlateDecode,
                               Length1=len(GLYPHLESS_TTF))
    cid_to_gid = pikepdf.Stream(pdf, zlib.compress(b"\x00\x01" * 65536, 9), Filter=pikepdf.Name.FlateDecode)
    descriptor = pikepdf.Dictionary(
        Type=pikepdf.Name.FontDescriptor, FontName=pikepdf.Name.GlyphLessFont, Flags=5,
        FontBBox=[0, 0, 500, 1000], ItalicAngle=0, Ascent=1000, Descent=-1, CapHeight=1000, StemV=80,
        FontFile2=pdf.make_indirect(font_file),
    )
    cid_font = pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.CIDFontType2, BaseFont=pikepdf.Name.GlyphLessFont,
        CIDSystemInfo=pikepdf.Dictionary(Registry=pikepdf.String("Adobe"), Ordering=pikepdf.String("Identity"),
                                         Supplement=0),
        FontDescriptor=pdf.make_indirect(descriptor), DW=int(1000 * GLYPH_WIDTH),
        CIDToGIDMap=pdf.make_indirect(cid_to_gid),
    )
    # The ToUnicode map is set once every page is written (see write_pdf): it depends on the characters used.
    return pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type0, BaseFont=pikepdf.Name.GlyphLessFont,
        Encoding=pikepdf.Name("/Identity-H"), DescendantFonts=[pdf.make_indirect(cid_font)],
    ))


def text_layer(page: HocrPage, page_width: float, page_height: float, codes: Codes | None = None) -> bytes:
    """The content stream that draws `page`'s words invisibly on a PDF page of that size (points)."""
    codes = codes or Codes()
    sx, sy = page_width / page.width, page_height / page.height
    ops: list[str] = []
    for line in page.lines:
        size = max((line.x_size or (line.box[3] - line.box[1])) * sy, 1.0)
        # hOCR's y grows downwards, PDF's upwards: a line sloping down in the image turns clockwise.
        angle = math.atan2(-line.slope * sy, sx)
        c, s = math.cos(angle), math.sin(angle)
        ops.append(f"BT 3 Tr {FONT_NAME} {size:.2f} Tf")
        words = line.words
        for i, word in enumerate(words):
            x0 = word.box[0]
            if i + 1 < len(words):
                # The space belongs to the word before it and reaches the next word, so that text
                # extraction sees one space between words and none inside them.
                text = word.text + " "
                width_px = max(words[i + 1].box[0] - x0, word.box[2] - x0)
            else:
                text = word.text
                width_px = word.box[2] - x0
            code = codes.encode(text)
            natural = len(code) // 2 * GLYPH_WIDTH * size
            scale = 100.0 * max(width_px, 1) * sx / natural
            x, y = x0 * sx, page_height - line.baseline_at(x0) * sy
            ops.append(f"{c:.4f} {s:.4f} {-s:.4f} {c:.4f} {x:.2f} {y:.2f} Tm {scale:.2f} Tz <{code.hex()}> Tj")
        ops.append("ET")
    return ("\n".join(ops) + "\n").encode("ascii")


def _embeddable(page: BookPage, tmp: Path) -> Path:
    """The file img2pdf should embed for this page: the image itself, or a copy it can embed better.

    A black-and-white page stored as 8-bit grey or a palette PNG becomes a 1-bit Group 4 TIFF (the same
    pixels, a third smaller than Flate); a page with transparency is flattened onto white.
    """
    with Image.open(page.image) as im:
        if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
            flat = tmp / f"flat-{page.n:05d}.png"
            base = Image.new("RGB", im.size, "white")
            rgba = im.convert("RGBA")
            base.paste(rgba, mask=rgba.getchannel("A"))
            base.save(flat, dpi=(page.dpi, page.dpi))
            return flat
        if page.kind == "bitonal" and im.mode != "1":
            g4 = tmp / f"g4-{page.n:05d}.tif"
            im.convert("L").convert("1", dither=Image.Dither.NONE).save(g4, compression="group4")
            return g4
    return page.image


def write_pdf(
    pages: list[BookPage],
    hocr: Callable[[BookPage], HocrPage | None],
    out: Path,
    tmp: Path,
    *,
    title: str | None,
    author: str | None,
    lang: str | None,
    creator: str,
    progress: Callable[[str, int, int], None],
) -> None:
    """Write the book to `out` (a temporary path the caller renames). Work files go to `tmp`."""
    total = len(pages)
    done = 0

    def layout(width_px: int, height_px: int, _dpi: object) -> tuple[float, float, float, float]:
        # Called once per image, in order: the page size comes from our resolved DPI, not the file's.
        nonlocal done
        page = pages[done]
        done += 1
        progress("images", done, total)
        w, h = width_px * 72.0 / page.dpi, height_px * 72.0 / page.dpi
        return w, h, w, h

    images_pdf = tmp / "images.pdf"
    sources = [str(_embeddable(p, tmp)) for p in pages]
    try:
        with open(images_pdf, "wb") as f:
            img2pdf.convert(sources, layout_fun=layout, outputstream=f, first_frame_only=True,
                            rotation=img2pdf.Rotation.ifvalid)
    except (img2pdf.ImageOpenError, img2pdf.PdfTooLargeError, ValueError, OSError) as e:
        page = pages[max(done - 1, 0)]
        raise InputError(
            f"page {page.n} ({page.image.name}) cannot be put into a PDF: {e}.",
            hint="Check the image opens in an image viewer; replace it or run 'transcribe split' again.",
        ) from e

    with pikepdf.open(images_pdf) as pdf:
        font = _glyphless_font(pdf)
        codes = Codes()
        for i, (page, pdf_page) in enumerate(zip(pages, pdf.pages, strict=True), 1):
            hp = hocr(page)
            if hp is not None and hp.lines:
                box = pdf_page.mediabox
                width, height = float(box[2]) - float(box[0]), float(box[3]) - float(box[1])
                pdf_page.add_resource(font, pikepdf.Name.Font, pikepdf.Name(FONT_NAME), replace_existing=True)
                stream = pikepdf.Stream(pdf, zlib.compress(text_layer(hp, width, height, codes)),
                                        Filter=pikepdf.Name.FlateDecode)
                pdf_page.contents_add(stream, prepend=False)
            progress("text", i, total)
        font.ToUnicode = pdf.make_indirect(pikepdf.Stream(pdf, zlib.compress(codes.to_unicode_cmap()),
                                                          Filter=pikepdf.Name.FlateDecode))
        _set_metadata(pdf, title=title, author=author, lang=lang, creator=creator)
        # Keep the image streams byte for byte (no decoding, no re-compression): lossless, and JPEGs stay JPEGs.
        # deterministic_id: the same pages give the same file (and SHA-1), so a resumed batch never uploads a
        # second copy of a book it bundled again. qpdf keeps the first half of an existing /ID, and img2pdf's
        # is random: drop it.
        if "/ID" in pdf.trailer:
            del pdf.trailer.ID
        pdf.save(out, stream_decode_level=pikepdf.StreamDecodeLevel.none,
                 object_stream_mode=pikepdf.ObjectStreamMode.generate, deterministic_id=True)


def _set_metadata(pdf: pikepdf.Pdf, *, title: str | None, author: str | None, lang: str | None,
                  creator: str) -> None:
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        if title:
            meta["dc:title"] = title
        if author:
            meta["dc:creator"] = [author]
        if lang:
            meta["dc:language"] = [lang]
        meta["xmp:CreatorTool"] = creator
    if title:
        pdf.docinfo[pikepdf.Name.Title] = title
    if author:
        pdf.docinfo[pikepdf.Name.Author] = author
    pdf.docinfo[pikepdf.Name.Creator] = creator
    if lang:
        pdf.Root.Lang = pikepdf.String(lang)
