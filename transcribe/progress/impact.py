"""The impact of a collection: pace and forecast, new and returning people, what people corrected, readers, reuse.

Pure functions over what `read.py` read (revision histories, transclusions, file usage, page views, the OCR
comparisons), like the credit rules in `credits.py`; `summarize` puts them in the `Summary` every report shows.

Definitions (the README and the HTML report repeat them for readers):
- pace: pages that moved into proofread (3 or 4) per week over the last 8 weeks of the period, net of the
  pages sent back down; the same for validated (4).
- forecast: the month when the pages with text still to proofread (or validate) are done at that pace.
  Validation cannot finish before proofreading, so its date is never earlier. No pace: "no recent activity".
- new contributor in a month: a person (not a bot) whose first edit of the works' pages is in that month;
  returning: a person who edited in that month and in an earlier one.
- corrections: for each page at 3 or 4, the OCR text (its last revision at level 0 or 1 before it was first
  proofread) against its current text, both normalised as `transcribe evaluate` does (strict), as a character
  error rate: characters changed / characters of the proofread text.
- readers: page views by people (not bots) of the Index page, the file page and the main-namespace texts that
  transclude the work, per complete month (the Wikimedia page views service; other wikis have none).
- ready to transclude: every page with text is proofread, yet no main-namespace page transcludes the work.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from transcribe.progress.credits import (
    Correction,
    Rev,
    Summary,
    WorkProgress,
    WorkSummary,
    current_level,
    last_proofreading,
    moves,
    period_of,
)
from transcribe.progress.credits import (
    summarize as summarize_credits,
)

PACE_WEEKS = 8
HORIZON = timedelta(days=365 * 100)  # a forecast further away than this is "not at this pace"


def _dt(ts: str) -> datetime:
    return datetime.fromisoformat(ts)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the period ----------------------------------------------------------------------------------------------

def period_bounds(since: str | None, until: str | None) -> tuple[str | None, str | None]:
    """'2026-01' / '2026-01-15' -> the first instant of `since` and the first instant after `until` (ISO, UTC)."""
    def start(text: str) -> datetime:
        return datetime.fromisoformat(text + ("-01" if len(text) == 7 else "")).replace(tzinfo=UTC)

    lo = _iso(start(since)) if since else None
    hi = None
    if until:
        u = start(until)
        if len(until) == 7:
            u = (u.replace(day=28) + timedelta(days=4)).replace(day=1)
        else:
            u += timedelta(days=1)
        hi = _iso(u)
    return lo, hi


def as_of(works: Sequence[WorkProgress], end: str | None) -> list[WorkProgress]:
    """The works as they were just before `end`: later revisions dropped, pages created later not created."""
    if end is None:
        return list(works)
    out = []
    for w in works:
        hist = {n: [r for r in h if r.timestamp < end] for n, h in w.histories.items()}
        out.append(replace(w, histories={n: h for n, h in hist.items() if h},
                           corrections=[c for c in w.corrections if in_period(c.month, None, end)]))
    return out


# -- pace and forecast ---------------------------------------------------------------------------------------

def moved(works: Iterable[WorkProgress], start: str, end: str) -> tuple[int, int]:
    """Pages that moved into proofread and into validated from `start` to `end` (included), net of moves down."""
    p = v = 0
    for w in works:
        for h in w.histories.values():
            for rev, prev, level in moves(h):
                if start <= rev.timestamp <= end:  # the end is now: an edit of this second counts
                    p += (level >= 3) - (prev >= 3)
                    v += (level == 4) - (prev == 4)
    return p, v


def pace(works: Iterable[WorkProgress], now: str, weeks: int = PACE_WEEKS) -> tuple[float, float]:
    """(proofread, validated) pages per week over the `weeks` weeks before `now`."""
    start = _iso(_dt(now) - timedelta(weeks=weeks))
    p, v = moved(works, start, now)
    return round(max(p, 0) / weeks, 2), round(max(v, 0) / weeks, 2)


def forecast_month(remaining: int, per_week: float, now: str) -> str | None:
    """The month when `remaining` pages are done at `per_week`; 'done' if none remain; None without pace."""
    if remaining <= 0:
        return "done"
    if per_week <= 0:
        return None
    ahead = timedelta(weeks=remaining / per_week)
    if ahead > HORIZON:
        return None
    return (_dt(now) + ahead).strftime("%Y-%m")


def forecast_words(s: WorkSummary) -> str:
    if s.with_text == 0:
        return "nothing to proofread"
    if s.proofread_by == "done" and s.validated_by == "done":
        return "done: every page is proofread and validated"
    if s.proofread_by is None or (s.proofread_by == "done" and s.validated_by is None):
        what = "proofread" if s.proofread_by == "done" else ""
        return ("all proofread; " if what else "") + "no recent activity"
    p = "all proofread" if s.proofread_by == "done" else f"proofread by {s.proofread_by}"
    v = f"validated by {s.validated_by}" if s.validated_by else "no recent validation"
    return f"at the pace of the last {PACE_WEEKS} weeks: {p}, {v}"


def _forecast(s: WorkSummary, works: Sequence[WorkProgress], now: str) -> None:
    s.proofread_per_week, s.validated_per_week = pace(works, now)
    s.proofread_by = forecast_month(s.with_text - s.proofread, s.proofread_per_week, now)
    s.validated_by = forecast_month(s.with_text - s.validated, s.validated_per_week, now)
    if s.validated_by not in (None, "done") and s.proofread_by not in (None, "done"):
        s.validated_by = max(s.validated_by, s.proofread_by)  # validation cannot end before proofreading
    if s.validated_by not in (None, "done") and s.proofread_by is None:
        s.validated_by = None
    s.forecast = forecast_words(s)


def forecast_line(totals: WorkSummary, now: str, by: str) -> list[dict[str, int | str]]:
    """The dashed part of the curve: from now to the forecast month, at the pace of the last 8 weeks."""
    if totals.proofread_by in (None, "done") and totals.validated_by in (None, "done"):
        return []
    end = max(m for m in (totals.proofread_by, totals.validated_by) if m not in (None, "done"))
    start = _dt(now)
    stop = datetime.fromisoformat(end + "-28").replace(tzinfo=UTC)
    points: list[dict[str, int | str]] = []
    d = start
    step = timedelta(weeks=1) if by == "week" else timedelta(days=30.44)
    while d <= stop + step and len(points) < 240:
        weeks = (d - start) / timedelta(weeks=1)
        p = min(totals.with_text, round(totals.proofread + totals.proofread_per_week * weeks))
        v = min(p, round(totals.validated + totals.validated_per_week * weeks))
        points.append({"period": d.strftime("%Y-%m") if by == "month" else f"{d.isocalendar()[0]}-W"
                       f"{d.isocalendar()[1]:02d}", "proofread": p, "validated": v})
        if p >= totals.with_text and (v >= totals.with_text or totals.validated_per_week <= 0):
            break
        d += step
    return points


# -- people --------------------------------------------------------------------------------------------------

def contributors_by_month(works: Iterable[WorkProgress], bots: Iterable[str], since: str | None,
                          end: str | None) -> list[dict[str, int | str]]:
    """[{'period', 'new', 'returning'}] per month in the period: people who edited the works' pages."""
    robots = set(bots)
    months: dict[str, set[str]] = {}
    for w in works:
        for h in w.histories.values():
            for r in h:
                if r.user and r.user not in robots and r.user != "(hidden)":
                    months.setdefault(r.timestamp[:7], set()).add(r.user)
    seen: set[str] = set()
    out: list[dict[str, int | str]] = []
    for month in sorted(months):
        people = months[month]
        new = people - seen
        if in_period(month, since, end):
            out.append({"period": month, "new": len(new), "returning": len(people - new)})
        seen |= people
    return out


def in_period(month: str, lo: str | None, hi: str | None) -> bool:
    """Whether month 'YYYY-MM' overlaps the period [lo, hi) (ISO instants; None: open)."""
    return (not lo or month >= lo[:7]) and (not hi or f"{month}-01T00:00:00Z" < hi)


# -- what people corrected -------------------------------------------------------------------------------------

def ocr_pair(history: Sequence[Rev]) -> tuple[int, int, str] | None:
    """(OCR revision, proofread revision, month proofread) of a page at 3 or 4; None when there is no OCR
    revision to compare with (the page was created already proofread)."""
    if current_level(history) not in (3, 4):
        return None
    ocr: Rev | None = None
    for rev, prev, level in moves(history):
        if prev < 3 <= level:
            break
        if rev.level is not None and rev.level <= 1:
            ocr = rev
    current = next((r for r in reversed(history) if r.level is not None), None)
    when = last_proofreading(history)
    if ocr is None or current is None or when is None:
        return None
    return ocr.revid, current.revid, when[:7]


def correction_rows(works: Iterable[WorkProgress]) -> list[dict[str, int | float | str]]:
    return [{"work": w.index, "page": c.title, "ocr_revision": c.ocr_revid, "proofread_revision": c.proof_revid,
             "characters": c.chars, "edits": c.edits, "cer": round(c.cer, 4), "month": c.month}
            for w in works for c in sorted(w.corrections, key=lambda c: c.n)]


def corrections_by_month(corrections: Iterable[Correction]) -> list[dict[str, int | float | str]]:
    per: dict[str, list[Correction]] = {}
    for c in corrections:
        per.setdefault(c.month, []).append(c)
    out: list[dict[str, int | float | str]] = []
    for month in sorted(per):
        chars, edits = sum(c.chars for c in per[month]), sum(c.edits for c in per[month])
        out.append({"period": month, "pages": len(per[month]), "characters": chars, "edits": edits,
                    "cer": round(edits / chars, 4) if chars else 0.0})
    return out


def _corrected(s: WorkSummary, corrections: Sequence[Correction]) -> None:
    s.corrected_pages = len(corrections)
    s.corrected_chars = sum(c.chars for c in corrections)
    s.corrected_edits = sum(c.edits for c in corrections)
    s.cer = round(s.corrected_edits / s.corrected_chars, 4) if s.corrected_chars else None


# -- reuse and readers -----------------------------------------------------------------------------------------

def texts_of(work: WorkProgress) -> list[str]:
    """Main-namespace pages that transclude the work: its Index (ProofreadPage's <pages/>) or its pages."""
    return sorted({*work.texts, *(t for ts in work.transcluded.values() for t in ts)})


def _reuse(s: WorkSummary, work: WorkProgress) -> None:
    s.texts = texts_of(work)
    s.transcluded_pages = sum(1 for n, ts in work.transcluded.items() if ts and n in work.histories)
    s.file_used_on = sorted(work.file_usage)
    s.ready_to_transclude = s.with_text > 0 and s.proofread == s.with_text and not s.texts


def readers_by_month(works: Iterable[WorkProgress], since: str | None,
                     end: str | None) -> list[dict[str, int | str]]:
    per: dict[str, int] = {}
    for w in works:
        for month, n in (w.views or {}).items():
            if in_period(month, since, end):
                per[month] = per.get(month, 0) + n
    return [{"period": m, "views": per[m]} for m in sorted(per)]


# -- the summary -------------------------------------------------------------------------------------------------

def summarize(works: Sequence[WorkProgress], *, wiki: str, by: str = "month", bots: Iterable[str] = (),
              anonymize: bool = False, now: str | None = None, since: str | None = None,
              until: str | None = None, views_note: str = "", notes: Sequence[str] = ()) -> Summary:
    """Everything a report shows, for the period `since`..`until` ('2026-01' or '2026-01-15', both included).

    Levels and shares are those at the end of the period; credits, pace, readers, contributors and corrections
    are those within it.
    """
    bots = list(bots)
    generated = now or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    lo, hi = period_bounds(since, until)
    now = generated
    if hi and hi <= now:  # the report stands at the last second of the period
        now = _iso(_dt(hi) - timedelta(seconds=1))
    period = as_of(works, hi)
    summary = summarize_credits(period, wiki=wiki, by=by, bots=bots, anonymize=anonymize, now=now, since=lo)
    summary.generated = generated
    summary.since, summary.until = since, until
    if lo:
        summary.timeline = [p for p in summary.timeline if str(p["period"]) >= period_of(lo, by)]
    for s, w in zip(summary.works, period, strict=True):
        _forecast(s, [w], now)
        _reuse(s, w)
        kept = [c for c in w.corrections if not lo or c.month >= lo[:7]]
        _corrected(s, kept)
        if w.views is not None and not views_note:
            s.views = sum(n for m, n in w.views.items() if in_period(m, lo, hi))
    t = summary.totals
    _forecast(t, period, now)
    t.texts = sorted({x for s in summary.works for x in s.texts})
    t.transcluded_pages = sum(s.transcluded_pages for s in summary.works)
    t.file_used_on = sorted({x for s in summary.works for x in s.file_used_on})
    t.ready_to_transclude = any(s.ready_to_transclude for s in summary.works)
    all_corrections = [c for w in period for c in w.corrections if not lo or c.month >= lo[:7]]
    _corrected(t, all_corrections)
    summary.views_note = views_note
    if not views_note:
        t.views = sum(s.views or 0 for s in summary.works)
        summary.readers = readers_by_month(period, lo, hi)
    summary.contributors = contributors_by_month(period, bots, lo, hi)
    rows = correction_rows(period)
    summary.corrections = [r for r in rows if not lo or str(r["month"]) >= lo[:7]]
    summary.corrections_by_month = corrections_by_month(all_corrections)
    summary.forecast_line = forecast_line(t, now, by)
    summary.notes = list(notes)
    return summary



