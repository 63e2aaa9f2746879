"""Who proofread what, and when: the credit rules and the summary every progress report shows.

Pure functions over revision lists (`Rev`), so the rules can be read and tested on their own;
`transcribe.progress.read` reads the revisions from a wiki, `transcribe.progress.report` renders the `Summary`.

Credit rules
- A revision's level comes from its `<pagequality level="N" .../>` header; a text without one is level 1, as the
  extension stores it. A revision whose text is hidden (revision-deleted) keeps the level before it.
- A move into 3 or 4 from below 3 is a proofreading by that revision's author; a move into 4 is a validation.
  A jump straight from 1 to 4 counts as both, by the same person.
- A move back down undoes the credit: a page leaving 3/4 for a lower level takes the proofreading away from
  whoever earned it last, a page leaving 4 takes the validation away. So the credits that stand always add up to
  the pages that are at 3/4 (proofread) and at 4 (validated) now.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from transcribe.levels import LEVELS


@dataclass(frozen=True)
class Rev:
    """One revision of a Page: page: who saved it, when (ISO 8601, UTC), and at which level (None: hidden)."""

    revid: int
    user: str
    timestamp: str
    level: int | None


@dataclass(frozen=True)
class Correction:
    """One proofread page against the tool's OCR text, both normalised as `transcribe evaluate` does."""

    n: int
    title: str
    ocr_revid: int  # the last revision at level 0 or 1 before the page was first proofread
    proof_revid: int  # the page's current revision (at level 3 or 4)
    chars: int  # characters of the proofread text
    edits: int  # characters inserted, deleted or replaced from the OCR text to the proofread one
    month: str  # when the page was proofread ('2026-11')

    @property
    def cer(self) -> float:
        return self.edits / self.chars if self.chars else float(self.edits > 0)


@dataclass(frozen=True)
class Credit:
    kind: str  # 'proofread' or 'validated'
    user: str
    timestamp: str


def moves(history: Sequence[Rev]) -> Iterator[tuple[Rev, int, int]]:
    """(revision, level before, level after) along `history`; -1 before the first revision, and a hidden
    revision keeps the level before it. Every rule below reads the levels through this one walk."""
    prev = -1  # the page did not exist
    for rev in history:
        level = prev if rev.level is None else rev.level
        yield rev, prev, level
        prev = level


def credits(history: Sequence[Rev]) -> list[Credit]:
    """The credits that still stand after the whole `history` (oldest first), in the order they were earned."""
    standing: list[Credit] = []
    proofread: Credit | None = None
    validated: Credit | None = None
    for rev, prev, level in moves(history):
        if prev < 3 <= level:
            proofread = Credit("proofread", rev.user, rev.timestamp)
            standing.append(proofread)
        elif level < 3 <= prev and proofread is not None:
            standing.remove(proofread)
            proofread = None
        if prev < 4 == level:
            validated = Credit("validated", rev.user, rev.timestamp)
            standing.append(validated)
        elif level < 4 == prev and validated is not None:
            standing.remove(validated)
            validated = None
    return standing


def current_level(history: Sequence[Rev]) -> int | None:
    """The level after the last revision whose level is known; None for a page without history."""
    for rev in reversed(history):
        if rev.level is not None:
            return rev.level
    return 1 if history else None


def last_proofreading(history: Sequence[Rev]) -> str | None:
    """When the page last moved up into 3 or 4 (undone or not): the date of its last proofreading."""
    last = None
    for rev, prev, level in moves(history):
        if level >= 3 and level > prev:
            last = rev.timestamp
    return last


def period_of(timestamp: str, by: str) -> str:
    """'2026-11' for a month, '2026-W47' for an ISO week."""
    if by == "month":
        return timestamp[:7]
    y, w, _ = datetime.fromisoformat(timestamp).isocalendar()
    return f"{y}-W{w:02d}"


def periods_between(first: str, last: str, by: str) -> list[str]:
    """Every period from the one holding `first` to the one holding `last`, gaps included."""
    start = datetime.fromisoformat(first).date()
    end = datetime.fromisoformat(last).date()
    out: list[str] = []
    if by == "month":
        y, m = start.year, start.month
        while (y, m) <= (end.year, end.month):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out
    d: date = start - timedelta(days=start.weekday())
    while d <= end:
        out.append(period_of(d.isoformat() + "T00:00:00Z", "week"))
        d += timedelta(days=7)
    return out


# -- one work, as read ------------------------------------------------------------------------------------------

@dataclass
class WorkProgress:
    """A work as the wiki has it now: its Index, its file's page count and every created page's history."""

    index: str  # the Index title as the wiki spells it, e.g. 'Index:Foo.pdf' or 'Livre:Foo.pdf'
    file: str  # the file name, without 'File:'
    pagecount: int | None  # pages in the file (None when the wiki cannot tell, e.g. a missing file)
    histories: dict[int, list[Rev]] = field(default_factory=dict)  # n -> revisions, oldest first
    transcluded: dict[int, list[str]] = field(default_factory=dict)  # n -> main-namespace pages transcluding it
    texts: list[str] = field(default_factory=list)  # main-namespace pages that transclude the Index itself
    file_usage: list[str] = field(default_factory=list)  # pages (on this or other wikis) that show the file
    file_shared: bool = False  # the file lives on Commons
    views: dict[str, int] | None = None  # month -> page views of its Index, file page and texts (None: unknown)
    corrections: list[Correction] = field(default_factory=list)  # what people changed of the OCR text

    def levels(self) -> dict[int, int | None]:
        return {n: current_level(h) for n, h in sorted(self.histories.items())}


# -- the summary every report shows ---------------------------------------------------------------------------

@dataclass
class WorkSummary:
    index: str
    file: str
    pages: int  # pages in the file (or created pages when the file's count is unknown)
    not_created: int
    levels: dict[int, int]  # level -> pages at that level
    with_text: int  # pages that are not level 0 (created or not)
    proofread: int  # pages at 3 or 4
    validated: int  # pages at 4
    proofread_share: float  # proofread / with_text (0.0 when nothing has text)
    validated_share: float
    last_proofread: str | None
    problematic_pages: list[int]
    not_created_pages: list[int]
    # Impact (transcribe.progress.impact fills these; see the definitions in the README and the HTML report)
    texts: list[str] = field(default_factory=list)  # main-namespace pages that transclude its pages (readable)
    transcluded_pages: int = 0  # its Page: pages transcluded in at least one main-namespace page
    file_used_on: list[str] = field(default_factory=list)  # other pages that show the scan
    ready_to_transclude: bool = False  # every page with text is proofread, and no text transcludes them yet
    views: int | None = None  # page views in the period (None: not available)
    proofread_per_week: float = 0.0  # pages, over the last 8 weeks of the period
    validated_per_week: float = 0.0
    proofread_by: str | None = None  # 'YYYY-MM' at that pace ('done' when done; None: no recent activity)
    validated_by: str | None = None
    forecast: str = ""  # the same in words
    corrected_pages: int = 0  # proofread pages whose OCR text was compared
    corrected_chars: int = 0  # characters of their proofread text
    corrected_edits: int = 0  # characters people changed
    cer: float | None = None  # corrected_edits / corrected_chars


@dataclass
class Contributor:
    name: str
    bot: bool
    proofread: int
    validated: int
    by_period: dict[str, dict[str, int]]  # period -> {'proofread': n, 'validated': n}


@dataclass
class Summary:
    wiki: str
    generated: str
    by: str  # 'week' or 'month'
    anonymized: bool
    totals: WorkSummary
    works: list[WorkSummary]
    people: list[Contributor]
    bots: list[Contributor]
    timeline: list[dict[str, int | str]]  # [{'period', 'proofread', 'validated'}], pages standing at its end
    since: str | None = None  # the period reported on ('2026-01'), None: from the start
    until: str | None = None
    views_note: str = ""  # why there are no page views ('page views: not available for this wiki'), '' if there are
    readers: list[dict[str, int | str]] = field(default_factory=list)  # [{'period', 'views'}] per month
    contributors: list[dict[str, int | str]] = field(default_factory=list)  # [{'period', 'new', 'returning'}]
    corrections: list[dict[str, int | float | str]] = field(default_factory=list)  # one row per proofread page
    corrections_by_month: list[dict[str, int | float | str]] = field(default_factory=list)
    forecast_line: list[dict[str, int | str]] = field(default_factory=list)  # [{'period', 'proofread', 'validated'}]
    notes: list[str] = field(default_factory=list)  # what the reader must know about this report

    def to_dict(self) -> dict[str, object]:
        from dataclasses import asdict

        data = asdict(self)
        # JSON object keys are strings anyway; say so up front so that round trips compare equal.
        for w in [data["totals"], *data["works"]]:
            w["levels"] = {str(k): v for k, v in w["levels"].items()}
        return data


def summarize_work(work: WorkProgress) -> WorkSummary:
    levels = work.levels()
    counts = Counter(lv for lv in levels.values() if lv is not None)
    pages = work.pagecount if work.pagecount is not None else len(levels)
    expected = range(1, pages + 1)
    not_created = [n for n in expected if n not in levels]
    lasts = [t for h in work.histories.values() if (t := last_proofreading(h))]
    return _shares(WorkSummary(
        index=work.index, file=work.file, pages=pages, not_created=len(not_created),
        levels={lv: counts.get(lv, 0) for lv in LEVELS}, with_text=0, proofread=0, validated=0,
        proofread_share=0.0, validated_share=0.0, last_proofread=max(lasts) if lasts else None,
        problematic_pages=[n for n, lv in levels.items() if lv == 2], not_created_pages=not_created,
    ))


def _shares(s: WorkSummary) -> WorkSummary:
    # Pages that are not created yet still have text to proofread; only blank pages (level 0) are left out.
    s.with_text = max(s.pages - s.levels[0], 0)
    s.proofread = s.levels[3] + s.levels[4]
    s.validated = s.levels[4]
    s.proofread_share = round(s.proofread / s.with_text, 4) if s.with_text else 0.0
    s.validated_share = round(s.validated / s.with_text, 4) if s.with_text else 0.0
    return s


def total_of(works: Sequence[WorkSummary]) -> WorkSummary:
    lasts = [w.last_proofread for w in works if w.last_proofread]
    return _shares(WorkSummary(
        index="Total", file="", pages=sum(w.pages for w in works), not_created=sum(w.not_created for w in works),
        levels={lv: sum(w.levels[lv] for w in works) for lv in LEVELS}, with_text=0, proofread=0, validated=0,
        proofread_share=0.0, validated_share=0.0, last_proofread=max(lasts) if lasts else None,
        problematic_pages=[], not_created_pages=[],
    ))


def contributors(works: Iterable[WorkProgress], by: str, since: str | None = None) -> dict[str, Contributor]:
    """Everyone's standing credits (earned at `since` or later when given)."""
    people: dict[str, Contributor] = {}
    for work in works:
        for history in work.histories.values():
            for c in credits(history):
                if since and c.timestamp < since:
                    continue
                p = people.setdefault(c.user, Contributor(c.user, False, 0, 0, {}))
                setattr(p, c.kind, getattr(p, c.kind) + 1)
                slot = p.by_period.setdefault(period_of(c.timestamp, by), {"proofread": 0, "validated": 0})
                slot[c.kind] += 1
    return people


def timeline(works: Iterable[WorkProgress], by: str, until: str) -> list[dict[str, int | str]]:
    """Pages at 3/4 and at 4 at the end of every period since the first edit, rebuilt from the histories."""
    deltas: list[tuple[str, int, int]] = []
    for work in works:
        for history in work.histories.values():
            for rev, prev, level in moves(history):
                dp = (level >= 3) - (prev >= 3)
                dv = (level == 4) - (prev == 4)
                if dp or dv:
                    deltas.append((rev.timestamp, dp, dv))
    if not deltas:
        return []
    deltas.sort()
    per: dict[str, tuple[int, int]] = defaultdict(lambda: (0, 0))
    for ts, dp, dv in deltas:
        p, v = per[period_of(ts, by)]
        per[period_of(ts, by)] = (p + dp, v + dv)
    out: list[dict[str, int | str]] = []
    proofread = validated = 0
    for period in periods_between(deltas[0][0], max(until, deltas[-1][0]), by):
        dp, dv = per.get(period, (0, 0))
        proofread, validated = proofread + dp, validated + dv
        out.append({"period": period, "proofread": proofread, "validated": validated})
    return out


def summarize(works: Sequence[WorkProgress], *, wiki: str, by: str = "month", bots: Iterable[str] = (),
              anonymize: bool = False, now: str | None = None, since: str | None = None) -> Summary:
    """Everything a report shows, names replaced by stable pseudonyms when `anonymize`.

    `since` (a timestamp) counts only the credits earned from then on; levels are those of `works` as given.
    """
    if by not in ("week", "month"):
        raise ValueError(f"by must be 'week' or 'month', not {by!r}")
    now = now or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = [summarize_work(w) for w in works]
    everyone = contributors(works, by, since)
    bot_names = set(bots)
    for name, c in everyone.items():
        c.bot = name in bot_names
    # Most pages first, then by name: the order the pseudonyms are given in, so they are stable for the data.
    ranked = sorted(everyone.values(), key=lambda c: (-(c.proofread + c.validated), c.name))
    people = [c for c in ranked if not c.bot]
    robots = [c for c in ranked if c.bot]
    if anonymize:
        for i, c in enumerate(people, 1):
            c.name = f"Contributor {i}"
        for i, c in enumerate(robots, 1):
            c.name = f"Bot {i}"
    return Summary(wiki=wiki, generated=now, by=by, anonymized=anonymize, totals=total_of(rows), works=rows,
                   people=people, bots=robots, timeline=timeline(works, by, now))
