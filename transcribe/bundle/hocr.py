"""hOCR -> lines of words with pixel boxes, in reading order.

Only what a text layer needs: the page size, and for every line its box, baseline and font height, and the
words with their boxes. Parsed with the standard library's forgiving HTML parser, so hOCR from other engines
(or hand-edited files with HTML entities) reads as well as Tesseract's XHTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from transcribe.errors import InputError

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in image pixels, origin top-left

# Tesseract 5 marks lines as ocr_line, ocr_header, ocr_caption or ocr_textfloat.
_LINE_CLASSES = {"ocr_line", "ocr_header", "ocr_caption", "ocr_textfloat"}
_VOID = {"meta", "br", "img", "link", "hr", "input"}


@dataclass(frozen=True)
class Word:
    text: str
    box: Box


@dataclass(frozen=True)
class Line:
    box: Box
    words: tuple[Word, ...]
    slope: float = 0.0  # baseline: y = box.y1 + offset + slope * (x - box.x0)
    offset: float = 0.0
    x_size: float | None = None  # font height in pixels, when the engine gives it

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    def baseline_at(self, x: float) -> float:
        return self.box[3] + self.offset + self.slope * (x - self.box[0])


@dataclass(frozen=True)
class HocrPage:
    width: int
    height: int
    lines: tuple[Line, ...]

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def scaled(self, width: int, height: int) -> HocrPage:
        """The same page with every box scaled to an image of `width` x `height` pixels."""
        if (width, height) == (self.width, self.height):
            return self
        sx, sy = width / self.width, height / self.height

        def box(b: Box) -> Box:
            return (round(b[0] * sx), round(b[1] * sy), round(b[2] * sx), round(b[3] * sy))

        lines = tuple(
            Line(box(ln.box), tuple(Word(w.text, box(w.box)) for w in ln.words), ln.slope * sy / sx,
                 ln.offset * sy, None if ln.x_size is None else ln.x_size * sy)
            for ln in self.lines
        )
        return HocrPage(width, height, lines)


def _props(title: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in title.split(";"):
        fields = part.split()
        if fields:
            out[fields[0]] = fields[1:]
    return out


def _bbox(props: dict[str, list[str]]) -> Box | None:
    v = props.get("bbox")
    if not v or len(v) != 4:
        return None
    try:
        x0, y0, x1, y1 = (int(float(s)) for s in v)
    except ValueError:
        return None
    return (x0, y0, x1, y1)


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page: Box | None = None
        self.lines: list[Line] = []
        self._stack: list[str] = []  # the hOCR class (or "") of every open element
        self._line: tuple[Box, float, float, float | None] | None = None
        self._line_depth = 0
        self._words: list[Word] = []
        self._word_box: Box | None = None
        self._word_depth = 0
        self._word_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        a = dict(attrs)
        classes = set((a.get("class") or "").split())
        props = _props(a.get("title") or "")
        self._stack.append(tag)
        depth = len(self._stack)
        if "ocr_page" in classes and self.page is None:
            self.page = _bbox(props)
        elif classes & _LINE_CLASSES and self._line is None:
            box = _bbox(props)
            if box is not None:
                slope, offset = 0.0, 0.0
                if len(props.get("baseline", [])) == 2:
                    try:
                        slope, offset = (float(s) for s in props["baseline"])
                    except ValueError:
                        pass
                x_size = None
                if props.get("x_size"):
                    try:
                        x_size = float(props["x_size"][0])
                    except ValueError:
                        pass
                self._line, self._line_depth, self._words = (box, slope, offset, x_size), depth, []
        elif "ocrx_word" in classes and self._line is not None and self._word_box is None:
            box = _bbox(props)
            if box is not None:
                self._word_box, self._word_depth, self._word_text = box, depth, []

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or not self._stack:
            return
        # Close up to the matching tag: tolerates unclosed inline elements.
        while self._stack:
            depth = len(self._stack)
            open_tag = self._stack.pop()
            if self._word_box is not None and depth == self._word_depth:
                text = " ".join("".join(self._word_text).split())
                if text:
                    self._words.append(Word(text, self._word_box))
                self._word_box = None
            if self._line is not None and depth == self._line_depth:
                box, slope, offset, x_size = self._line
                if self._words:
                    self.lines.append(Line(box, tuple(self._words), slope, offset, x_size))
                self._line = None
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._word_box is not None:
            self._word_text.append(data)


def parse_hocr(text: str, *, where: str = "hOCR") -> HocrPage:
    """Parse one page of hOCR. InputError when it is not hOCR at all (no ocr_page with a bbox)."""
    p = _Parser()
    p.feed(text)
    p.close()
    if p.page is None or p.page[2] <= p.page[0] or p.page[3] <= p.page[1]:
        raise InputError(
            f"{where} is not hOCR (no page with a size in it).",
            hint="Run 'transcribe ocr' on the folder again to remake it.",
        )
    x0, y0, x1, y1 = p.page
    return HocrPage(x1 - x0, y1 - y0, tuple(p.lines))


def read_hocr(path: Path) -> HocrPage:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path} is not UTF-8 text.", hint="Run 'transcribe ocr' again to remake it.") from e
    return parse_hocr(text, where=str(path))
