"""Export a work without a wiki: the exact wikitext `publish` would send, and an HTML preview to review first.

    OUT/
      index.html            the preview: every page with its level, label and first words
      pages/0001.html       page 1: the scan image beside its OCR text
      images/0001.jpg       page images, scaled down for the browser
      wikitext/Index.wiki   the Index: page;  File.wiki: the file description page (when there is a licence)
      wikitext/Page_0001.wiki ...
      wikitext/titles.json  which file is which wiki page (for bulk upload tools)

The folder is self-contained: copy it anywhere, open index.html, no network needed.
"""

from __future__ import annotations

import html
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transcribe import fsutil
from transcribe.events import ProgressFn, no_progress
from transcribe.levels import LEVEL_COLOURS, LEVEL_NAMES
from transcribe.licences import refusal
from transcribe.pagelabels import PageLabelError, describe_labels, label_pages
from transcribe.store import Store, Work
from transcribe.wiki import pagetext as pt
from transcribe.wiki import plan
from transcribe.wiki.namespaces import namespace_names
from transcribe.work import WorkMeta

log = logging.getLogger(__name__)

PREVIEW_WIDTH = 1000  # pixels: enough to read a page on a laptop, small enough to mail the folder
THUMB_HEIGHT = 240  # pixels: a page in the table of pages, big enough to judge it, a few kB

# Without a wiki to read them from, the export uses en.wikisource's index fields and progress values (as its
# MediaWiki:Proofreadpage_index_data_config defines them); publish always uses the target wiki's own.
# The labels are the ones its Index form shows, so the preview reads like the form.
DEFAULT_INDEX_FIELDS: dict[str, dict[str, Any]] = {
    "Title": {"label": "Title", "data": "title"}, "Language": {"label": "Language", "data": "language"},
    "Author": {"label": "Author", "data": "author"}, "Publisher": {"label": "Publisher", "data": "publisher"},
    "Address": {"label": "Location", "data": "place"}, "Year": {"label": "Year of publication", "data": "year"},
    "Source": {"label": "Source", "values": {"djvu": "DjVu", "pdf": "PDF", "scan": "Scan"}},
    "Progress": {"label": "Progress", "data": "progress", "default": "X",
                 "values": {"T": "Done", "V": "To be validated", "C": "To be proofread",
                            "MS": "Ready for Match & Split", "OCR": "Source file needs an OCR text layer",
                            "L": "Source file is incorrect", "X": "Pagelist needed"}},
    "Pages": {"label": "Pages", "data": "pagelist"}, "Remarks": {"label": "Remarks"},
}


@dataclass
class ExportReport:
    out_dir: Path
    file_name: str
    page_ns: str = "Page"  # the target wiki's own names ('Seite', 'Livre'...)
    index_ns: str = "Index"
    ns_note: str = ""  # where the names come from, when they could not be read from the wiki
    pages: int = 0  # Page: texts written
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (page, why it has no Page: text)
    unmapped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    file_page: bool = True  # a file description page (File.wiki) was written

    @property
    def preview(self) -> Path:
        return self.out_dir / "index.html"


NO_FILE_PAGE = "the scan would not be uploaded (no file description page is written)"


def export_work(scan: Path, pages_dir: Path, meta: WorkMeta, out_dir: Path, *, progress: ProgressFn | None = None,
                store: Store | None = None, work: Work | None = None, site: Any | None = None) -> ExportReport:
    """Write the wikitext files and the HTML preview of a work into `out_dir` (created if needed).

    With `site` (a connected `Wiki`), its own index fields and namespace names are used; without, en.wikisource's
    fields and the names of the work's Wikisource from the project's table (`wiki/namespaces.py`).
    Page texts carry an empty `user=""`: offline there is no account to name.
    """
    progress = progress or no_progress
    out_dir = Path(out_dir)
    pages = plan.read_pages(pages_dir, store=store, work=work)
    meta, label_notes = plan.with_scan_labels(meta, pages_dir)
    kind = plan.file_kind(Path(scan))
    name = plan.file_name(meta, Path(scan))
    report = ExportReport(out_dir=out_dir, file_name=name, notes=label_notes)
    if site is not None:
        from dataclasses import asdict

        config: dict[str, dict[str, Any]] = {k: asdict(v) for k, v in site.index_fields().items()}
        report.page_ns, report.index_ns = site.namespaces.page.name, site.namespaces.index.name
    else:
        config = DEFAULT_INDEX_FIELDS
        names = namespace_names(meta.wiki, meta.language)
        report.page_ns, report.index_ns = names.page, names.index
        if not names.checked:
            report.ns_note = (f"the names {names.page}: and {names.index}: are ProofreadPage's defaults for "
                              f"'{names.code}', not checked against the wiki")

    index = pt.build_index(meta, config, file_kind=kind)
    report.unmapped = index.unmapped
    wt = out_dir / "wikitext"
    titles: dict[str, str] = {"Index.wiki": f"{report.index_ns}:{name}"}
    fsutil.write_text(wt / "Index.wiki", index.text + "\n")
    refused = refusal(meta.licence, meta.source_rights)
    try:
        if refused:
            report.notes.append(f"{NO_FILE_PAGE}: {refused}")
        else:
            desc = pt.build_file_description(meta, index_link=f"s:{meta.language}:Index:{name}")
            fsutil.write_text(wt / "File.wiki", desc)
            titles["File.wiki"] = f"File:{name}"
    except pt.LicenceMissing:
        report.notes.append(f"{NO_FILE_PAGE}: the work gives no licence, and a scan is never uploaded "
                            "without one (add e.g. licence = \"PD-old-70\")")
    if "File.wiki" not in titles:  # an earlier export into this folder may have written one
        (wt / "File.wiki").unlink(missing_ok=True)
        report.file_page = False
    try:
        labels = label_pages(meta.page_labels, max((p.n for p in pages), default=0))
    except PageLabelError:
        labels = [str(p.n) for p in pages]

    total = len(pages)
    progress("export", 0, total)
    rows: list[dict[str, Any]] = []
    for i, p in enumerate(pages):
        label = labels[p.n - 1] if 0 < p.n <= len(labels) else str(p.n)
        image = _preview_image(pages_dir, p, out_dir / "images")
        if p.publish:
            fname = f"Page_{p.n:04d}.wiki"
            fsutil.write_text(wt / fname, p.text("") + "\n")
            titles[fname] = f"{report.page_ns}:{name}/{p.n}"
            report.pages += 1
        else:
            report.skipped.append((p.n, p.reason))
        rows.append({"page": p, "label": label, "image": image, "thumb": _thumbnail(out_dir, image)})
        progress("export", i + 1, total)
    for i, row in enumerate(rows):
        prev = rows[i - 1]["page"].n if i > 0 else None
        nxt = rows[i + 1]["page"].n if i + 1 < len(rows) else None
        fsutil.write_text(out_dir / "pages" / f"{row['page'].n:04d}.html",
                          _page_html(meta, f"{report.page_ns}:{name}/{row['page'].n}", row, prev, nxt))
    fsutil.write_text(wt / "titles.json", json.dumps(titles, ensure_ascii=False, indent=1) + "\n")
    shown = form_fields(index.fields, config, [r["label"] for r in rows])
    fsutil.write_text(out_dir / "index.html", _index_html(meta, name, rows, shown, report))
    return report


def form_fields(fields: dict[str, str], config: dict[str, dict[str, Any]], labels: list[str]) -> list[tuple[str, str]]:
    """(label, value) of each Index field as the wiki's Index form shows it, not as wiki codes.

    'Source: pdf' is shown as 'Source: PDF', 'Progress: C' as 'Progress: To be proofread' (the values' labels
    from the index data config) and the page list as the labels it produces ('10–14'), not as <pagelist/>.
    """
    out: list[tuple[str, str]] = []
    for key, value in fields.items():
        spec = config.get(key) or {}
        label = str(spec.get("label") or key.replace("_", " "))
        values = spec.get("values") or {}
        if spec.get("data") == "pagelist":
            shown = describe_labels(labels) if labels else value
        elif isinstance(values, dict) and value in values:
            shown = str(values[value])
        else:
            shown = value
        out.append((label, shown))
    return out


def _preview_image(pages_dir: Path, p: plan.PlannedPage, folder: Path) -> str | None:
    """A browser-friendly JPEG of the page (scaled down), relative to the export folder; None without an image."""
    if not p.image:
        return None
    src = Path(pages_dir) / p.image
    if not src.is_file():
        return None
    target = folder / f"{p.n:04d}.jpg"
    try:
        if not target.is_file() or target.stat().st_mtime < src.stat().st_mtime:
            from PIL import Image

            with Image.open(src) as im:
                im.thumbnail((PREVIEW_WIDTH, PREVIEW_WIDTH * 4))
                rgb = im.convert("L" if im.mode in ("1", "L", "LA", "I", "I;16") else "RGB")
                with fsutil.atomic_path(target) as tmp:
                    rgb.save(tmp, format="JPEG", quality=80, optimize=True)
    except OSError as e:  # a damaged image still gets its text shown
        log.warning("no preview image for page %d (%s): %s", p.n, src.name, e)
        return None
    return f"images/{target.name}"


def _thumbnail(out_dir: Path, image: str | None) -> str | None:
    """A small JPEG of a page for the table of pages, from its preview image; None without one."""
    if image is None:
        return None
    src = out_dir / image
    target = out_dir / "thumbs" / src.name
    try:
        if not target.is_file() or target.stat().st_mtime < src.stat().st_mtime:
            from PIL import Image

            with Image.open(src) as im:
                im.thumbnail((THUMB_HEIGHT * 4, THUMB_HEIGHT))
                with fsutil.atomic_path(target) as tmp:
                    im.save(tmp, format="JPEG", quality=75, optimize=True)
    except OSError as e:
        log.warning("no thumbnail for %s: %s", src.name, e)
        return None
    return f"thumbs/{target.name}"


_CSS = """
body{font-family:system-ui,sans-serif;margin:0;color:#202122;background:#f8f9fa}
header{padding:12px 20px;background:#fff;border-bottom:1px solid #c8ccd1}
h1{font-size:1.4em;margin:0 0 4px}
.meta{color:#54595d;font-size:.95em}
main{padding:12px 20px}
table{border-collapse:collapse;background:#fff;width:100%}
th,td{border:1px solid #c8ccd1;padding:4px 8px;text-align:left;vertical-align:top}
.lv{display:inline-block;padding:1px 8px;border-radius:3px;border:1px solid #a2a9b1;white-space:nowrap}
.none{background:#fff;color:#72777d;font-style:italic}
.first{color:#54595d;font-family:serif}
.pair{display:flex;gap:16px;align-items:flex-start}
.pair>div{flex:1;min-width:0}
.scan img{width:100%;border:1px solid #c8ccd1;background:#fff}
.text{white-space:pre-wrap;font-family:serif;font-size:1.05em;line-height:1.5;background:#fff;
      border:1px solid #c8ccd1;padding:12px;margin:0}
nav a{margin-right:12px}
img.thumb{height:THUMB_HEIGHTpx;border:1px solid #c8ccd1}
""".replace("THUMB_HEIGHT", str(THUMB_HEIGHT))


def _level_badge(p: plan.PlannedPage) -> str:
    if p.level is None:
        return f'<span class="lv none">not published: {html.escape(p.reason)}</span>'
    return (f'<span class="lv" style="background:{LEVEL_COLOURS[p.level]}">{p.level} '
            f"{LEVEL_NAMES[p.level]}</span>")


def _doc(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>\n<body>\n{body}\n</body></html>\n")


def _index_html(meta: WorkMeta, name: str, rows: list[dict[str, Any]], fields: list[tuple[str, str]],
                report: ExportReport) -> str:
    e = html.escape
    by_level: dict[str, int] = {}
    for r in rows:
        p = r["page"]
        k = LEVEL_NAMES[p.level] if p.level is not None else "not published"
        by_level[k] = by_level.get(k, 0) + 1
    summary = ", ".join(f"{v} {k.lower()}" for k, v in by_level.items())
    who = " · ".join(x for x in (meta.author, meta.year, meta.publisher, meta.place) if x)
    notes = "".join(f"<p class=\"meta\">Note: {e(n)}</p>" for n in [*report.notes, report.ns_note] if n)
    on_file, left_out = pt.split_unmapped(report.unmapped, file_page=report.file_page)
    if on_file:
        notes += (f"<p class=\"meta\">On the file's description page ({{{{Book}}}}), since the Index page has no "
                  f"field for them: {e(', '.join(on_file))}</p>")
    if left_out:
        why = ("neither the Index page nor the file's description page has a field for them" if report.file_page
               else "the Index page has no field for them, and no file description page is written")
        notes += f"<p class=\"meta\">Left out ({why}): {e(', '.join(left_out))}</p>"
    out = [f"<header><h1>{e(meta.title)}</h1><div class=\"meta\">{e(who)}</div>",
           (f"<div class=\"meta\">Will be published as <b>File:{e(name)}</b>, <b>{e(report.index_ns)}:{e(name)}</b> "
            f"and <b>{e(report.page_ns)}:{e(name)}/1</b> … <b>/{len(rows)}</b>. {len(rows)} pages: {e(summary)}."
            f"</div>{notes}</header>"),
           ("<main><table><thead><tr><th>Page</th><th>Label</th><th>Scan</th><th>Level</th><th>Text begins</th>"
            "</tr></thead><tbody>")]
    for r in rows:
        p = r["page"]
        link = f"pages/{p.n:04d}.html"
        thumb = f'<img class="thumb" loading="lazy" src="{e(r["thumb"])}" alt="">' if r["thumb"] else ""
        first = " ".join(p.body.split())[:300] if p.status != "lacuna" else p.reason  # what a row holds
        out.append(f'<tr><td><a href="{link}">{p.n}</a></td><td>{e(r["label"])}</td><td><a href="{link}">{thumb}'
                   f'</a></td><td>{_level_badge(p)}</td><td class="first">{e(first)}</td></tr>')
    out.append("</tbody></table>")
    out.append(f"<h2>The {e(report.index_ns)}: page, as its form shows it</h2><table>" + "".join(
        f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in fields) + "</table></main>")
    return _doc(meta.title, "\n".join(out))


def _page_html(meta: WorkMeta, title: str, row: dict[str, Any], prev: int | None, nxt: int | None) -> str:
    e = html.escape
    p = row["page"]
    nav = ['<a href="../index.html">All pages</a>']
    if prev is not None:
        nav.append(f'<a href="{prev:04d}.html">← page {prev}</a>')
    if nxt is not None:
        nav.append(f'<a href="{nxt:04d}.html">page {nxt} →</a>')
    scan = (f'<img src="../{e(row["image"])}" alt="scan of page {p.n}">' if row["image"]
            else f'<p class="meta">({e(p.reason) if p.status == "lacuna" else "no image of this page"})</p>')
    if p.status == "lacuna":
        text = f'<span class="meta">{e(p.reason)}</span>'
    elif p.publish:
        text = e(p.body) if p.body else '<span class="meta">(blank page: no text)</span>'
    else:
        text = f'<span class="meta">{e(p.reason)}</span>'
    body = (f"<header><h1>{e(title)}</h1><div class=\"meta\">{e(meta.title)} · label "
            f"{e(row['label'])} · {_level_badge(p)}</div><nav>{''.join(nav)}</nav></header>"
            f"<main><div class=\"pair\"><div class=\"scan\">{scan}</div><div><pre class=\"text\">{text}</pre>"
            "</div></div></main>")
    return _doc(f"{meta.title} – page {p.n}", body)
