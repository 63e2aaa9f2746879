"""Progress -> what people read: a terminal table, CSV, JSON, one self-contained HTML file, a wikitext table.

Every renderer takes the same `Summary` (transcribe.progress.credits), so the numbers agree everywhere and an
anonymized summary stays anonymous in every format. Nothing here prints or talks to a wiki.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from transcribe.levels import LEVEL_COLOURS, LEVEL_NAMES, LEVELS
from transcribe.progress.credits import (
    Contributor,
    Summary,
    WorkSummary,
    period_of,
    periods_between,
)

if TYPE_CHECKING:
    from rich.table import Table

MARK_START = "<!-- transcribe progress start -->"
MARK_END = "<!-- transcribe progress end -->"

NOT_CREATED_COLOUR = "#ffffff"
SHORT_LEVEL_NAMES = {0: "Without\ntext", 1: "Not\nproofread", 2: "Proble-\nmatic", 3: "Proof-\nread",
                     4: "Vali-\ndated"}

WORK_COLUMNS = ["index", "file", "pages", "not_created", "level_0", "level_1", "level_2", "level_3", "level_4",
                "with_text", "proofread", "validated", "proofread_share", "validated_share", "last_proofread",
                "problematic_pages", "not_created_pages", "views", "texts", "transcluded_pages", "file_used_on",
                "ready_to_transclude", "proofread_per_week", "validated_per_week", "proofread_by", "validated_by",
                "corrected_pages", "corrected_chars", "corrected_edits", "cer"]
PEOPLE_COLUMNS = ["name", "bot", "period", "proofread", "validated"]
TIMELINE_COLUMNS = ["period", "proofread", "validated"]
READERS_COLUMNS = ["period", "views"]
CONTRIBUTORS_COLUMNS = ["period", "new", "returning"]
CORRECTIONS_COLUMNS = ["page", "ocr_revision", "proofread_revision", "characters", "edits", "cer", "month"]
NOT_AVAILABLE = "not available"  # what a view count says where there is none: never 0


def views_text(n: int | None) -> str:
    return NOT_AVAILABLE if n is None else f"{n:,}"


def forecast_text(by: str | None) -> str:
    return {None: "no recent activity", "done": "done"}.get(by, by or "")


def percent(share: float) -> str:
    return f"{share * 100:.1f}%"


def day(timestamp: str | None) -> str:
    return timestamp[:10] if timestamp else "never"


def page_ranges(numbers: Sequence[int]) -> str:
    """[1, 2, 3, 7] -> '1-3, 7': short lists of pages for people."""
    out: list[str] = []
    nums = sorted(numbers)
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(str(nums[i]) if i == j else f"{nums[i]}-{nums[j]}")
        i = j + 1
    return ", ".join(out)


# -- JSON and CSV -------------------------------------------------------------------------------------------------

def to_json(summary: Summary) -> str:
    return json.dumps(summary.to_dict(), ensure_ascii=False, indent=2) + "\n"


def to_csv(summary: Summary, rows: str = "works") -> str:
    """One CSV table: 'works' (one row per work), 'people' (one row per person and period) or 'timeline'."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if rows == "works":
        w.writerow(WORK_COLUMNS)
        for s in summary.works:
            w.writerow([s.index, s.file, s.pages, s.not_created, *(s.levels[lv] for lv in LEVELS), s.with_text,
                        s.proofread, s.validated, f"{s.proofread_share:.4f}", f"{s.validated_share:.4f}",
                        s.last_proofread or "", " ".join(map(str, s.problematic_pages)),
                        " ".join(map(str, s.not_created_pages)), NOT_AVAILABLE if s.views is None else s.views,
                        " | ".join(s.texts), s.transcluded_pages, " | ".join(s.file_used_on),
                        "yes" if s.ready_to_transclude else "no", s.proofread_per_week, s.validated_per_week,
                        forecast_text(s.proofread_by), forecast_text(s.validated_by), s.corrected_pages,
                        s.corrected_chars, s.corrected_edits, "" if s.cer is None else f"{s.cer:.4f}"])
    elif rows == "people":
        w.writerow(PEOPLE_COLUMNS)
        for c in [*summary.people, *summary.bots]:
            for period, n in sorted(c.by_period.items()):
                w.writerow([c.name, "yes" if c.bot else "no", period, n["proofread"], n["validated"]])
    elif rows == "timeline":
        w.writerow(TIMELINE_COLUMNS)
        for point in summary.timeline:
            w.writerow([point["period"], point["proofread"], point["validated"]])
    elif rows == "readers":
        w.writerow(READERS_COLUMNS)
        for point in summary.readers:
            w.writerow([point["period"], point["views"]])
    elif rows == "contributors":
        w.writerow(CONTRIBUTORS_COLUMNS)
        for point in summary.contributors:
            w.writerow([point["period"], point["new"], point["returning"]])
    elif rows == "corrections":
        w.writerow(CORRECTIONS_COLUMNS)
        for row in summary.corrections:
            w.writerow([row["page"], row["ocr_revision"], row["proofread_revision"], row["characters"],
                        row["edits"], f"{float(row['cer']):.4f}", row["month"]])
    else:
        raise ValueError(f"rows must be works, people, timeline, readers, contributors or corrections, not {rows!r}")
    return buf.getvalue()


# -- the terminal -------------------------------------------------------------------------------------------------

def tables(summary: Summary, top: int = 10) -> list[Table]:
    """Rich tables for the terminal: the works with a total, then the people who proofread most."""
    from rich.table import Table

    works = Table(title=f"Proofreading on {summary.wiki} ({day(summary.generated)})", title_justify="left")
    # Two-line headers keep the table inside an 100-column terminal.
    for col, just in [("Work", "left"), ("Pages", "right"), ("Not\ncreated", "right"),
                      *((SHORT_LEVEL_NAMES[lv], "right") for lv in LEVELS), ("%\nproofread", "right"),
                      ("%\nvalidated", "right"), ("Last\nproofread", "left")]:
        works.add_column(col, justify=just)  # type: ignore[arg-type]
    for s in [*summary.works, summary.totals]:
        works.add_row(s.file or s.index, str(s.pages), str(s.not_created), *(str(s.levels[lv]) for lv in LEVELS),
                      percent(s.proofread_share), percent(s.validated_share), day(s.last_proofread),
                      style="bold" if s is summary.totals else None, end_section=s is summary.works[-1])
    out = [works]
    people = Table(title="Who proofread", caption="Pages proofread and validated; undone work is not counted.",
                   title_justify="left", caption_justify="left")
    now = period_of(summary.generated, summary.by)
    for col in ("Contributor", "Proofread", "Validated", f"This {summary.by} ({now})"):
        people.add_column(col, justify="left" if col == "Contributor" else "right")

    def this_period(c: Contributor) -> str:
        slot = c.by_period.get(now, {"proofread": 0, "validated": 0})
        return f"{slot['proofread']} proofread, {slot['validated']} validated"

    for c in summary.people[:top]:
        people.add_row(c.name, str(c.proofread), str(c.validated), this_period(c))
    for c in summary.bots:
        people.add_row(f"{c.name} (bot)", str(c.proofread), str(c.validated), this_period(c), style="dim")
    if summary.people or summary.bots:
        out.append(people)
    caption = (summary.views_note or "Readers: page views by people of the Index, file page and texts.") + \
        " Forecast at the pace of the last 8 weeks."

    impact = Table(title="Readers, reuse and forecast", caption=caption, title_justify="left",
                   caption_justify="left")
    for col, just in [("Work", "left"), ("Readers", "right"), ("Texts", "right"), ("File\nused on", "right"),
                      ("Pages per\nweek", "right"), ("Proofread\nby", "left"), ("Validated\nby", "left"),
                      ("OCR\ncorrected", "right")]:
        impact.add_column(col, justify=just)  # type: ignore[arg-type]
    for s in [*summary.works, summary.totals]:
        texts = str(len(s.texts)) + (" (ready to transclude)" if s.ready_to_transclude and s is not summary.totals
                                     else "")
        impact.add_row(s.file or s.index, views_text(s.views), texts, str(len(s.file_used_on)),
                       f"{s.proofread_per_week:g}", forecast_text(s.proofread_by), forecast_text(s.validated_by),
                       "" if s.cer is None else percent(s.cer),
                       style="bold" if s is summary.totals else None, end_section=s is summary.works[-1])
    out.append(impact)
    return out


def attention_lines(summary: Summary) -> list[str]:
    lines = []
    for s in summary.works:
        if s.problematic_pages:
            lines.append(f"{s.index}: problematic pages {page_ranges(s.problematic_pages)}")
        if s.not_created_pages:
            lines.append(f"{s.index}: pages not created yet {page_ranges(s.not_created_pages)}")
        if s.ready_to_transclude:
            lines.append(f"{s.index}: ready to transclude (every page is proofread, no text shows it yet)")
    return lines


# -- wikitext -----------------------------------------------------------------------------------------------------

def to_wikitext(summary: Summary, top: int = 10) -> str:
    """The summary as wikitext tables, between the markers that `replace_block` looks for."""
    lines = [MARK_START, f"''Proofreading progress on {day(summary.generated)}, written by transcribe.''", "",
             '{| class="wikitable sortable"',
             "! Work !! Pages !! Not created !! " + " !! ".join(LEVEL_NAMES[lv] for lv in LEVELS)
             + " !! % proofread !! % validated !! Last proofread"]
    for s in [*summary.works, summary.totals]:
        name = f"[[{s.index}|{s.file}]]" if s.file else f"'''{s.index}'''"
        cells = [name, str(s.pages), str(s.not_created), *(str(s.levels[lv]) for lv in LEVELS),
                 percent(s.proofread_share), percent(s.validated_share), day(s.last_proofread)]
        lines += ["|-", "| " + " || ".join(cells)]
    lines.append("|}")
    lines += ["", '{| class="wikitable sortable"',
              "! Work !! Readers !! Texts !! File used on !! Pages proofread per week !! Forecast !! OCR corrected"]
    for s in [*summary.works, summary.totals]:
        name = f"[[{s.index}|{s.file}]]" if s.file else f"'''{s.index}'''"
        if not s.file:
            texts = str(len(s.texts))
        elif s.ready_to_transclude:
            texts = "ready to transclude"
        else:
            texts = ", ".join(f"[[{t}]]" for t in s.texts[:5]) + (" ..." if len(s.texts) > 5 else "") or "none"
        cells = [name, views_text(s.views), texts, str(len(s.file_used_on)), f"{s.proofread_per_week:g}",
                 s.forecast, "" if s.cer is None else percent(s.cer)]
        lines += ["|-", "| " + " || ".join(cells)]
    lines.append("|}")
    if summary.views_note:
        lines.append(f"''{summary.views_note}''")
    if summary.people:

        lines += ["", '{| class="wikitable"', "! Contributor !! Pages proofread !! Pages validated"]
        for c in summary.people[:top]:
            user = c.name if summary.anonymized else f"[[User:{c.name}|{c.name}]]"
            lines += ["|-", f"| {user} || {c.proofread} || {c.validated}"]
        lines.append("|}")
    lines.append(MARK_END)
    return "\n".join(lines)


def replace_block(page_text: str, block: str) -> str:
    """Put `block` between the markers of `page_text`, or at its end; everything else stays as it was."""
    start = page_text.find(MARK_START)
    end = page_text.find(MARK_END, start + len(MARK_START)) if start >= 0 else -1
    if start >= 0 and end >= 0:
        return page_text[:start] + block + page_text[end + len(MARK_END):]
    if not page_text.strip():
        return block + "\n"
    return page_text.rstrip("\n") + "\n\n" + block + "\n"


# -- HTML ---------------------------------------------------------------------------------------------------------

def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _levels_chart(works: Sequence[WorkSummary]) -> str:
    """One horizontal stacked bar per work: not created, then levels 0 to 4, scaled to the work's pages."""
    label_w, bar_w, row_h = 260, 600, 34
    height = row_h * len(works) + 10
    parts = [(f'<svg class="chart-levels" role="img" aria-label="Pages of each work by quality level" '
              f'viewBox="0 0 {label_w + bar_w + 70} {height}" width="100%" xmlns="http://www.w3.org/2000/svg">')]
    for i, s in enumerate(works):
        y = 5 + i * row_h
        total = max(s.pages, sum(s.levels.values()) + s.not_created, 1)
        parts.append(f'<g class="work-bar" data-index="{_e(s.index)}">')
        parts.append(f'<text x="{label_w - 8}" y="{y + 19}" text-anchor="end" class="label">'
                     f'{_e(_short(s.file or s.index, 36))}</text>')
        x = float(label_w)
        for key, count in [(lv, s.levels[lv]) for lv in (4, 3, 2, 1, 0)] + [("nc", s.not_created)]:
            if not count:
                continue
            w = bar_w * count / total
            colour = NOT_CREATED_COLOUR if key == "nc" else LEVEL_COLOURS[int(key)]
            name = "Not created" if key == "nc" else LEVEL_NAMES[int(key)]
            parts.append(f'<rect class="seg q{key}" x="{x:.1f}" y="{y}" width="{w:.1f}" height="26" '
                         f'fill="{colour}" stroke="#666" stroke-width="0.5"><title>{_e(name)}: {count}</title>'
                         f'</rect>')
            if w >= 28:  # the count inside the segment when it fits; the tooltip has it always
                parts.append(f'<text x="{x + w / 2:.1f}" y="{y + 18}" text-anchor="middle" class="count">'
                             f'{count}</text>')
            x += w
        parts.append(f'<text x="{label_w + bar_w + 6}" y="{y + 19}" class="value">{percent(s.proofread_share)}'
                     f'</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def _pages(n: int) -> str:
    return f"{n} page" if n == 1 else f"{n} pages"


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _timeline_chart(points: Sequence[dict[str, int | str]],
                    forecast: Sequence[dict[str, int | str]] = ()) -> str:
    """Proofread and validated pages at the end of each period: two lines over shared axes, and the forecast
    at the pace of the last 8 weeks drawn dashed after them."""
    if not points:
        return '<p class="empty">No page has been proofread yet, so there is no curve to draw.</p>'
    if len(points) == 1:  # one period alone is a dot: start the line from nothing, before it
        points = [{"period": "before", "proofread": 0, "validated": 0}, *points]
    ahead = list(forecast[1:]) if forecast else []  # forecast[0] is now: the last point of the curve
    every_point = [*points, *ahead]
    left, top, w, h = 50, 15, 760, 200
    peak = max(max(int(p["proofread"]), int(p["validated"])) for p in every_point) or 1
    step = w / max(len(every_point) - 1, 1)

    def xy(i: int, v: int) -> tuple[str, str]:
        return f"{left + i * step:.1f}", f"{top + h - h * v / peak:.1f}"

    parts = [(f'<svg class="chart-time" role="img" aria-label="Pages proofread and validated over time" '
              f'viewBox="0 0 {left + w + 30} {top + h + 45}" width="100%" xmlns="http://www.w3.org/2000/svg">'),
             f'<line x1="{left}" y1="{top + h}" x2="{left + w}" y2="{top + h}" stroke="#444"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + h}" stroke="#444"/>',
             f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" class="axis">{peak}</text>',
             f'<text x="{left - 6}" y="{top + h}" text-anchor="end" class="axis">0</text>']
    every = max(1, len(every_point) // 8)
    for i, p in enumerate(every_point):
        if i % every == 0 or i == len(every_point) - 1:
            parts.append(f'<text x="{left + i * step:.1f}" y="{top + h + 18}" text-anchor="middle" class="axis">'
                         f'{_e(p["period"])}</text>')
    for key, colour in (("proofread", "#b58900"), ("validated", "#2e7d32")):
        pts = " ".join(",".join(xy(i, int(p[key]))) for i, p in enumerate(points))
        parts.append(f'<polyline class="line-{key}" points="{pts}" fill="none" stroke="{colour}" '
                     f'stroke-width="2.5"/>')
        for i, p in enumerate(points):
            cx, cy = xy(i, int(p[key]))
            parts.append(f'<circle class="pt-{key}" cx="{cx}" cy="{cy}" r="3" fill="{colour}">'
                         f'<title>{_e(p["period"])}: {p[key]} {key}</title></circle>')
        if ahead:
            start = len(points) - 1
            dashed = [points[-1], *ahead]
            fpts = " ".join(",".join(xy(start + i, int(p[key]))) for i, p in enumerate(dashed))
            parts.append(f'<polyline class="forecast-{key}" points="{fpts}" fill="none" stroke="{colour}" '
                         f'stroke-width="2" stroke-dasharray="6 4"><title>forecast: {key} at the pace of the last '
                         f'8 weeks</title></polyline>')
    parts.append(f'<g class="legend"><rect x="{left + 10}" y="{top + h + 28}" width="14" height="4" '
                 f'fill="#b58900"/><text x="{left + 30}" y="{top + h + 34}" class="axis">proofread (3 and 4)</text>'
                 f'<rect x="{left + 200}" y="{top + h + 28}" width="14" height="4" fill="#2e7d32"/>'
                 f'<text x="{left + 220}" y="{top + h + 34}" class="axis">validated (4)</text>'
                 f'<line x1="{left + 360}" y1="{top + h + 30}" x2="{left + 384}" y2="{top + h + 30}" stroke="#444" '
                 f'stroke-width="2" stroke-dasharray="6 4"/><text x="{left + 392}" y="{top + h + 34}" class="axis">'
                 f'forecast at the pace of the last 8 weeks</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def _month_bars(points: Sequence[dict[str, int | str]], keys: Sequence[tuple[str, str, str]], css: str,
                label: str) -> str:
    """Stacked bars, one per month: `keys` are (field, colour, legend text).

    A month with nothing to count is a bar of 0, not a missing slot: a time axis that skips quiet months would
    show five silent months as neighbours.
    """
    if points:
        given = {str(p["period"]): p for p in points}
        points = [given.get(m) or {"period": m, **{k: 0 for k, _, _ in keys}}
                  for m in periods_between(str(points[0]["period"]) + "-01", str(points[-1]["period"]) + "-01", "month")]
    left, top, w, h = 50, 15, 760, 160
    peak = max(sum(int(p[k]) for k, _, _ in keys) for p in points) or 1
    slot = w / len(points)
    bar = max(2.0, min(40.0, slot * 0.7))
    parts = [(f'<svg class="{css}" role="img" aria-label="{_e(label)}" viewBox="0 0 {left + w + 30} '
              f'{top + h + 45}" width="100%" xmlns="http://www.w3.org/2000/svg">'),
             f'<line x1="{left}" y1="{top + h}" x2="{left + w}" y2="{top + h}" stroke="#444"/>',
             f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" class="axis">{peak:,}</text>',
             f'<text x="{left - 6}" y="{top + h}" text-anchor="end" class="axis">0</text>']
    every = max(1, len(points) // 8)
    for i, p in enumerate(points):
        x = left + i * slot + (slot - bar) / 2
        y = float(top + h)
        for k, colour, name in keys:
            bh = h * int(p[k]) / peak
            y -= bh
            parts.append(f'<rect class="bar {k}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{bh:.1f}" '
                         f'fill="{colour}"><title>{_e(p["period"])}: {int(p[k]):,} {_e(name)}</title></rect>')
        if i % every == 0 or i == len(points) - 1:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{top + h + 18}" text-anchor="middle" class="axis">'
                         f'{_e(p["period"])}</text>')
    lx = left + 10
    legend = []
    for k, colour, name in keys:
        legend.append(f'<rect x="{lx}" y="{top + h + 28}" width="14" height="8" fill="{colour}"/>'
                      f'<text x="{lx + 20}" y="{top + h + 36}" class="axis">{_e(name)}</text>')
        lx += 40 + 7 * len(name)
    parts.append(f'<g class="legend">{"".join(legend)}</g></svg>')
    return "".join(parts)


def _people_chart(summary: Summary, top: int) -> str:
    people = summary.people[:top]
    if not people:
        return '<p class="empty">Nobody has proofread a page yet.</p>'
    label_w, bar_w, row_h = 200, 440, 26
    peak = max(c.proofread + c.validated for c in people) or 1
    parts = [(f'<svg class="chart-people" role="img" aria-label="Top contributors" '
              f'viewBox="0 0 {label_w + bar_w + 220} {row_h * len(people) + 6}" width="100%" '
              f'xmlns="http://www.w3.org/2000/svg">')]
    for i, c in enumerate(people):
        y = 3 + i * row_h
        wp, wv = bar_w * c.proofread / peak, bar_w * c.validated / peak
        parts.append(f'<g class="person"><text x="{label_w - 8}" y="{y + 15}" text-anchor="end" class="label">'
                     f'{_e(_short(c.name, 28))}</text>'
                     f'<rect class="person-bar proofread" x="{label_w}" y="{y}" width="{wp:.1f}" height="20" '
                     f'fill="{LEVEL_COLOURS[3]}" stroke="#666" stroke-width="0.5"/>'
                     f'<rect class="person-bar validated" x="{label_w + wp:.1f}" y="{y}" width="{wv:.1f}" '
                     f'height="20" fill="{LEVEL_COLOURS[4]}" stroke="#666" stroke-width="0.5"/>'
                     f'<text x="{label_w + wp + wv + 6:.1f}" y="{y + 15}" class="value">{c.proofread} proofread, '
                     f'{c.validated} validated</text></g>')
    parts.append("</svg>")
    return "".join(parts)


_CSS = """
body{font-family:"Noto Sans",Arial,Helvetica,sans-serif;color:#202122;background:#fff;margin:2em auto;
max-width:960px;padding:0 1em;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.1em}h2{font-size:1.25em;border-bottom:1px solid #a2a9b1;margin-top:1.6em}
h3{font-size:1.05em;margin-bottom:.2em}
.sub{color:#54595d;margin-top:0}
.summary{font-size:1.08em;border-left:4px solid #36c;padding:.2em 0 .2em 1em;margin:1em 0}
.summary p{margin:.45em 0}
a.def{color:inherit;text-decoration:underline dotted #36c;text-underline-offset:.2em}
.cards{display:flex;flex-wrap:wrap;gap:.8em;margin:1.2em 0}
.card{border:1px solid #a2a9b1;border-radius:4px;padding:.6em 1em;min-width:9em}
.card .num{font-size:1.8em;font-weight:bold;display:block}.card .what{color:#54595d;font-size:.9em}
table{border-collapse:collapse;width:100%;font-size:.92em}th,td{border:1px solid #c8ccd1;padding:.3em .5em}
th{background:#eaecf0;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.total td{font-weight:bold}
svg text{font-family:inherit;font-size:13px;fill:#202122}svg .axis{font-size:11px;fill:#54595d}
svg .count{font-size:11px}
.legend span{display:inline-block;margin-right:1em;font-size:.9em}
.legend i{display:inline-block;width:1em;height:1em;border:1px solid #666;vertical-align:-.15em;margin-right:.3em}
.empty{color:#54595d;font-style:italic}footer{margin-top:2em;color:#54595d;font-size:.85em}
.flag{background:#fef6e7;border:1px solid #fc3;border-radius:3px;padding:0 .3em;font-size:.85em;white-space:nowrap}
.note{background:#fef6e7;border:1px solid #fc3;padding:.4em .8em}
dl.defs dt{font-weight:bold;margin-top:.6em}dl.defs dd{margin-left:1.2em}
dl.defs dt:target,dl.defs dt:target+dd{background:#eaf3ff}
@page{size:A4;margin:14mm 12mm}
@media print{body{margin:0;max-width:none;font-size:10pt}h2{break-after:avoid}
svg,table,.card,.summary,figure,.block,dl.defs dt,dl.defs dd{break-inside:avoid}
figure{margin:0}table{font-size:8.5pt}th,td{padding:.2em .3em}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"""

DEFINITIONS = [
    ("work", "Work", "One scanned book or volume: its file (PDF or DjVu) and its Index page on Wikisource."),
    ("with-text", "Pages with text", ("The pages of the scans minus those marked \"without text\" (blank pages, "
     "plates); pages not created on the wiki yet still count, since they still have to be proofread.")),
    ("proofread", "Proofread", ("A page a volunteer has read against the scan and corrected (quality level 3 "
     "\"proofread\" or 4 \"validated\"). A proofreading that was later undone is not counted.")),
    ("validated", "Validated", "A proofread page that a second volunteer has checked again (quality level 4)."),
    ("people", "People who worked on it", ("Volunteers (not automatic accounts) who proofread or validated at "
     "least one page that stands as they left it, in the period of the report.")),
    ("new-contributors", "New and returning contributors", ("In a month, a new contributor edits the works' pages "
     "for the first time; a returning one had edited them in an earlier month too.")),
    ("readers", "Readers (page views)", ("How many times people (not bots) opened the work's Index page, its "
     "scan's file page and the texts that show it, per complete month, as counted by the Wikimedia page views "
     "service. Other wikis have no such count, and the report says so rather than show 0.")),
    ("texts", "Texts (reuse)", ("Pages of the main namespace (the readable edition) that transclude (show) pages "
     "of the work. A work whose pages are all proofread but which no text shows yet is \"ready to transclude\".")),
    ("file-use", "File used on", "Other pages, on this wiki or elsewhere in Wikimedia, that show the scan's file."),
    ("pace", "Pace", ("Pages that became proofread (or validated) per week over the last 8 weeks of the period, "
     "net of pages sent back.")),
    ("forecast", "Forecast", ("The month when every page with text will be proofread (validated) if the pace of "
     "the last 8 weeks goes on. Without any activity in those weeks there is no forecast.")),
    ("corrected", "What people corrected", ("For each proofread page, how much volunteers changed the machine's "
     "OCR text: characters inserted, deleted or replaced, divided by the characters of the proofread text (the "
     "character error rate, after the same normalisation as `transcribe evaluate`).")),
]


def _d(key: str, text: str) -> str:
    """A number a director may quote, linked to its definition."""
    return f'<a class="def" href="#def-{key}">{_e(text)}</a>'


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _period_words(summary: Summary) -> str:
    if summary.since and summary.until:
        return f"from {summary.since} to {summary.until}"
    if summary.since:
        return f"since {summary.since}"
    if summary.until:
        return f"up to {summary.until}"
    return ""


def _director_summary(summary: Summary) -> str:
    """One screen in plain words for someone who has never seen Wikisource."""
    t = summary.totals
    period = _period_words(summary)
    works = _plural(len(summary.works), "work")
    paras = [(f"This report is about {works} ({_plural(t.pages, 'scanned page')}) put on {_e(summary.wiki)}, "
             "where volunteers read each page against the scan and correct the text the machine recognised.")]
    paras.append(f"{_d('proofread', _plural(t.proofread, 'page') + ' are proofread')} "
                 f"({percent(t.proofread_share)} of the {_d('with-text', _plural(t.with_text, 'page with text', 'pages with text'))}), "
                 f"and {_d('validated', _plural(t.validated, 'page') + ' validated')} "
                 f"({percent(t.validated_share)}) by a second volunteer{', at the end of the period' if summary.until else ''}.")
    people = len(summary.people)
    new = sum(int(c["new"]) for c in summary.contributors)
    who = f"{_d('people', _plural(people, 'person', 'people'))} did this work" + (f" {period}" if period else "")
    if summary.since and summary.contributors:
        who += f"; {_d('new-contributors', _plural(new, 'person', 'people') + ' edited these pages for the first time')}"

    paras.append(who + ".")
    if summary.views_note:
        paras.append(f"{_d('readers', 'Readers')}: {_e(summary.views_note)}.")
    else:
        paras.append(f"The works' pages were {_d('readers', 'viewed ' + _plural(t.views or 0, 'time'))}"
                     f"{' ' + period if period else ''} (complete months).")
    reuse = f"{_d('texts', _plural(len(t.texts), 'text'))} on the wiki {'shows' if len(t.texts) == 1 else 'show'}" \
            " the proofread pages"
    ready = [s for s in summary.works if s.ready_to_transclude]
    if ready:
        reuse += f"; {_plural(len(ready), 'work is', 'works are')} proofread but not shown in any text yet " \
                 f"({_d('texts', 'ready to transclude')})"
    if t.file_used_on:
        reuse += f"; the scans are shown on {_d('file-use', _plural(len(t.file_used_on), 'other page'))}"
    paras.append(reuse + ".")
    if t.proofread_by == "done" and t.validated_by == "done":
        paras.append("Every page is proofread and validated.")
    elif t.proofread_by is None:
        paras.append(f"There was no proofreading in the last 8 weeks, so there is no {_d('forecast', 'forecast')}.")
    else:
        done = "all pages are proofread" if t.proofread_by == "done" else \
            f"it will be {_d('forecast', 'proofread by ' + t.proofread_by)}"
        v = f"validated by {t.validated_by}" if t.validated_by not in (None, "done") else "no validation pace yet"
        paras.append(f"At the {_d('pace', 'pace of the last 8 weeks')} ({t.proofread_per_week:g} pages a week), "
                     f"{done}; {_d('forecast', v)}.")
    if t.cer is not None:
        paras.append(f"On {_plural(t.corrected_pages, 'proofread page')}, volunteers "
                     f"{_d('corrected', 'changed ' + percent(t.cer) + ' of the characters')} of the machine's text.")
    return '<section class="summary">' + "".join(f"<p>{p}</p>" for p in paras) + "</section>"


def to_html(summary: Summary, top: int = 10, sources: dict[str, str] | None = None) -> str:
    """One self-contained page (inline CSS and SVG, no scripts, fonts or network): for a director's desk.

    `sources`: file name -> where the work came from (its IIIF manifest's address), shown under the work."""
    sources = sources or {}
    t = summary.totals
    people_n = len(summary.people)
    cards = [(f"{len(summary.works)}", "work" if len(summary.works) == 1 else "works"), (f"{t.pages}", "pages in the scans"),
             (percent(t.proofread_share), f"proofread ({_pages(t.proofread)})"),
             (percent(t.validated_share), f"validated ({_pages(t.validated)})"),
             (f"{people_n}", "people who proofread or validated" if people_n != 1 else "person who proofread or validated"),
             (day(t.last_proofread), "last proofreading")]
    legend = "".join(f'<span><i style="background:{LEVEL_COLOURS[lv]}"></i>{_e(LEVEL_NAMES[lv])}</span>'
                     for lv in (4, 3, 2, 1, 0))
    legend += f'<span><i style="background:{NOT_CREATED_COLOUR}"></i>Not created yet</span>'
    rows = []
    for s in [*summary.works, t]:
        cls = ' class="total"' if s is t else ""
        src = sources.get(s.file, "") if s is not t else ""
        origin = f'<br><small>from <a href="{_e(src)}">{_e(src)}</a></small>' if src else ""
        rows.append(f"<tr{cls}><td>{_e(s.index)}{origin}</td><td class=n>{s.pages}</td><td class=n>{s.not_created}</td>"
                    + "".join(f"<td class=n>{s.levels[lv]}</td>" for lv in LEVELS)
                    + f"<td class=n>{percent(s.proofread_share)}</td><td class=n>{percent(s.validated_share)}</td>"
                    f"<td>{day(s.last_proofread)}</td></tr>")
    head = ("<tr><th>Work</th><th>Pages</th><th>Not created</th>"
            + "".join(f"<th>{_e(LEVEL_NAMES[lv])}</th>" for lv in LEVELS)
            + "<th>% proofread</th><th>% validated</th><th>Last proofread</th></tr>")
    impact_rows = []
    for s in [*summary.works, t]:
        cls = ' class="total"' if s is t else ""
        flag = ' <span class="flag">ready to transclude</span>' if s.ready_to_transclude and s is not t else ""
        texts = ", ".join(_e(x) for x in s.texts[:3]) + (f" and {len(s.texts) - 3} more" if len(s.texts) > 3 else "")
        if s is t:
            texts = str(len(s.texts))
        impact_rows.append(
            f"<tr{cls}><td>{_e(s.file or s.index)}</td><td class=n>{_e(views_text(s.views))}</td>"
            f"<td>{texts or 'none'}{flag}</td><td class=n>{len(s.file_used_on)}</td>"
            f"<td class=n>{s.proofread_per_week:g}</td><td>{_e(forecast_text(s.proofread_by))}</td>"
            f"<td>{_e(forecast_text(s.validated_by))}</td>"
            f"<td class=n>{'' if s.cer is None else percent(s.cer)}</td></tr>")
    impact_head = (f"<tr><th>Work</th><th>{_d('readers', 'Readers')}</th><th>{_d('texts', 'Texts')}</th>"
                   f"<th>{_d('file-use', 'File used on')}</th><th>{_d('pace', 'Pages a week')}</th>"
                   f"<th>{_d('forecast', 'Proofread by')}</th><th>{_d('forecast', 'Validated by')}</th>"
                   f"<th>{_d('corrected', 'OCR corrected')}</th></tr>")
    corr_rows = "".join(f"<tr><td>{_e(c['period'])}</td><td class=n>{c['pages']}</td>"
                        f"<td class=n>{int(c['characters']):,}</td><td class=n>{int(c['edits']):,}</td>"
                        f"<td class=n>{percent(float(c['cer']))}</td></tr>" for c in summary.corrections_by_month)
    corrections = (f"<table class=corrections><thead><tr><th>Month proofread</th><th>Pages</th><th>Characters</th>"
                   f"<th>Characters changed</th><th>{_d('corrected', 'Share changed')}</th></tr></thead>"
                   f"<tbody>{corr_rows}</tbody></table>" if corr_rows else
                   '<p class="empty">No proofread page could be compared with its OCR text yet.</p>')
    attention = []
    for s in summary.works:
        items = []
        if s.problematic_pages:
            items.append(f"<li>Problematic pages: {_e(page_ranges(s.problematic_pages))}</li>")
        if s.not_created_pages:
            items.append(f"<li>Not created yet: {_e(page_ranges(s.not_created_pages))}</li>")
        if s.ready_to_transclude:
            items.append("<li>Ready to transclude: every page is proofread, and no text shows it yet</li>")
        if items:
            attention.append(f'<h3>{_e(s.index)}</h3><ul class="attention">{"".join(items)}</ul>')
    bots = ""
    if summary.bots:
        bots = ("<p>Automatic accounts (bots), counted apart: " + ", ".join(
            f"{_e(c.name)} ({c.proofread} proofread, {c.validated} validated)" for c in summary.bots) + ".</p>")
    who = ("Names are replaced by pseudonyms in this report." if summary.anonymized else
           "A proofreading that was later undone is not counted.")
    readers = (f'<p class="empty">{_e(summary.views_note)}.</p>' if summary.views_note else
               _month_bars(summary.readers, [("views", "#36c", "page views")], "chart-readers",
                           "Page views per month") if summary.readers else
               '<p class="empty">No complete month of page views yet.</p>')
    contributors = (_month_bars(summary.contributors, [("returning", "#72777d", "returning"),
                                                       ("new", "#14866d", "new")],
                                "chart-contributors", "Contributors per month") if summary.contributors else
                    '<p class="empty">Nobody has edited these pages yet.</p>')
    notes = "".join(f'<p class="note">{_e(n)}</p>' for n in summary.notes)
    defs = "".join(f'<dt id="def-{k}">{_e(name)}</dt><dd>{_e(text)}</dd>' for k, name, text in DEFINITIONS)
    period = _period_words(summary)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Proofreading progress on {_e(summary.wiki)}</title><style>{_CSS}</style></head>
<body>
<h1>Proofreading progress</h1>
<p class="sub">{_e(summary.wiki)} · report of {day(summary.generated)}{' · ' + _e(period) if period else ''}</p>
{notes}
{_director_summary(summary)}
<section class="cards">{"".join(f'<div class="card"><span class="num">{_e(n)}</span>'
                                 f'<span class="what">{_e(w)}</span></div>' for n, w in cards)}</section>
<section class="block"><h2>Proofread and validated pages over time</h2>
<p class="sub">Pages at the end of each {_e(summary.by)}, rebuilt from the page histories; dashed: the
{_d('forecast', 'forecast')} at the pace of the last 8 weeks.</p>
<figure>{_timeline_chart(summary.timeline, summary.forecast_line)}</figure></section>
<section class="block"><h2>Readers per month</h2>
<p class="sub">{_d('readers', 'Page views')} of the Index pages, the scans' file pages and the texts.</p>
<figure>{readers}</figure></section>
<section class="block"><h2>Contributors per month</h2>
<p class="sub">People who edited the works' pages: {_d('new-contributors', 'new and returning')}.</p>
<figure>{contributors}</figure></section>
<section class="block"><h2>Each work by quality level</h2>
<p class="legend">{legend}</p>
<figure>{_levels_chart(summary.works)}</figure></section>
<section class="block"><h2>Top contributors</h2>
<p class="sub">{_e(who)}</p>
<figure>{_people_chart(summary, top)}</figure>
{bots}</section>
<h2>Readers, reuse and forecast</h2>
<table class=impact><thead>{impact_head}</thead><tbody>{"".join(impact_rows)}</tbody></table>
<h2>What people corrected</h2>
{corrections}
<h2>Pages that need attention</h2>
{"".join(attention) or '<p class="empty">Nothing: no problematic page, and every page is created.</p>'}
<h2>All numbers</h2>
<table><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>
<h2 id="definitions">Definitions</h2>
<dl class="defs">{defs}</dl>
<footer>Proofread and validated shares count the pages that have text (all pages but those marked "without
text"). Made by transcribe on {_e(summary.generated)}.</footer>
</body></html>
"""
