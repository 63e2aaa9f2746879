"""What a work becomes on a wiki: the file name, and for every scan page its text and level, or why it is left out.

Shared by `export` (files and an HTML preview, no wiki) and `publish` (the wiki), so both show the same pages.
The OCR status of each page comes from the state (`ocr` table) when there is one, else from `ocr.json`, else
from the text files themselves.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path

from transcribe.errors import InputError, ManifestError
from transcribe.pagelabels import page_labels_from_canvases
from transcribe.split import read_labels, read_lacunae
from transcribe.split import read_pages as read_page_images
from transcribe.store import Store, Work
from transcribe.wiki import pagetext as pt
from transcribe.work import OCR_JSON, WorkMeta, output_paths

log = logging.getLogger(__name__)

FILE_KINDS = {".pdf": "pdf", ".djvu": "djvu", ".djv": "djvu"}
LACUNA_REASON = "lacuna: canvas {n} of the IIIF manifest has no image (the book file has a placeholder page here)"


@dataclass(frozen=True)
class PlannedPage:
    n: int  # Page:<file>/n
    image: str | None  # the page image in the pages folder, for the preview
    status: str  # OCR status: 'done', 'blank', 'failed', 'no-model', 'missing'; or 'lacuna' (no image at all)
    body: str = ""
    reason: str = ""  # why it is not published ('failed', 'no-model', 'missing'), or why a lacuna has no text

    @property
    def publish(self) -> bool:
        return self.status in ("done", "blank", "lacuna")

    @property
    def level(self) -> int | None:
        # a lacuna is a page with nothing to transcribe: 'Without text', like a blank page
        return {"done": 1, "blank": 0, "lacuna": 0}.get(self.status)

    def text(self, user: str) -> str:
        """The Page: wikitext; `build_page` refuses any level above 1."""
        assert self.level is not None and self.level <= pt.MAX_TOOL_LEVEL
        return pt.build_page(self.body, level=self.level, user=user)


def file_kind(scan: Path) -> str:
    """'pdf' or 'djvu' for a scan a Wikisource can use; InputError with advice for anything else."""
    ext = scan.suffix.lower()
    if ext not in FILE_KINDS or not scan.is_file():
        if not scan.exists():
            raise InputError(f"The scan {scan} does not exist.",
                             hint="Check 'scan' in work.toml: it names the scan file inside the work folder.")
        raise InputError(
            f"{scan.name} is not a PDF or DjVu file: Wikisource needs one of those to show the scan beside the text.",
            hint="Make one from the page images with 'transcribe bundle', and name it as 'scan' in work.toml.")
    return FILE_KINDS[ext]


def file_name(meta: WorkMeta, scan: Path) -> str:
    """The name of the scan on the wiki, checked before anything is written (Refused-worthy names raise)."""
    ext = "." + file_kind(scan)  # a '.djv' scan is named '.djvu' on the wiki, as manifest.upload_extension does
    name = pt.default_file_name(meta, ext)
    try:
        return pt.check_file_name(name, ext)
    except pt.FileNameError as e:
        raise ManifestError(
            f"{e}", hint=f"Set file_name in work.toml to a name the wiki takes, e.g. file_name = \"{e.suggestion}\".",
        ) from None


def read_pages(pages_dir: Path, *, store: Store | None = None, work: Work | None = None) -> list[PlannedPage]:
    """Every page of the pages folder, with its OCR text and status."""
    pages_dir = Path(pages_dir)
    if not pages_dir.is_dir():
        raise InputError(f"The pages folder {pages_dir} does not exist.",
                         hint="Run 'transcribe split' and 'transcribe ocr' on the scan first.")
    statuses = _statuses(pages_dir, store, work)
    out: list[PlannedPage] = []
    for page in read_page_images(pages_dir):
        n, image = page.n, Path(page.image).name
        txt, _hocr = output_paths(pages_dir, image)
        status, reason = statuses.get(n, ("", ""))
        if not status:
            status = "done" if txt.is_file() else "missing"
        if status in ("done", "blank") and not txt.is_file():
            status, reason = "missing", f"{txt.name} is missing"
        if status == "missing" and not reason:
            reason = f"no OCR text ({txt.name}); run 'transcribe ocr' on the pages folder"
        if status == "no-model":
            reason = reason or "no OCR model for this script: left for proofreaders to type"
        if status == "failed":
            reason = f"OCR failed: {reason}" if reason else "OCR failed"
        body = ""
        if status == "done":
            body = pt.ocr_to_body(txt.read_text(encoding="utf-8", errors="replace"))
            if not body.strip():
                status = "blank"  # a page Tesseract found no words on is a blank page on the wiki
        out.append(PlannedPage(n=n, image=image, status=status, body=body, reason=reason))
    for n in read_lacunae(pages_dir):  # the book file has a placeholder page there (bundle.pages.lacuna_page)
        out.append(PlannedPage(n=n, image=None, status="lacuna", reason=LACUNA_REASON.format(n=n)))
    return sorted(out, key=lambda p: p.n)


def with_scan_labels(meta: WorkMeta, pages_dir: Path) -> tuple[WorkMeta, list[str]]:
    """`meta` with page labels from the scan's own (a IIIF manifest's canvas labels, kept by split in pages.json)
    when the work gives none; and notes on how they were read. No fetch: the labels were kept at split time."""
    if meta.page_labels:
        return meta, []
    labels = read_labels(pages_dir)
    if not labels:
        return meta, []
    spec, notes = page_labels_from_canvases(labels)
    return (replace(meta, page_labels=spec) if spec else meta), notes


def _statuses(pages_dir: Path, store: Store | None, work: Work | None) -> dict[int, tuple[str, str]]:
    if store is not None and work is not None:
        rows = store.query("SELECT n, status, reason FROM ocr WHERE work_id = ?", (work.id,))
        if rows:
            return {int(r["n"]): (str(r["status"]), str(r["reason"] or "")) for r in rows}
    path = pages_dir / OCR_JSON
    if path.is_file():
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            return {int(p["n"]): (str(p.get("status") or ""), str(p.get("reason") or ""))
                    for p in doc.get("pages", [])}
        except (ValueError, KeyError, TypeError) as e:
            log.warning("%s is damaged (%s); reading the text files instead", path, e)
    return {}
