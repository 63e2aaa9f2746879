"""Learning from the checked pages of the same book: a model for the book.

`learn_book` fine-tunes a float model on the lines of the book's checked pages (train.py), measures it against
the default's reading on held-back lines of the same book, chooses the page segmentation mode (and whether to
leave out lines read with little confidence, such as woodcuts) on the checked pages, and records all of it in
the `book_models` table, so that a re-run with the same checked pages does not train again. (The recurring word
corrections of the previous version are gone: the book model learns those confusions, and better.)

The checked pages come from a folder of ground truth (`X.gt.txt` / `X.txt` named after the page images) or from
a wiki: the Page: pages of an Index at quality level 3 (proofread) or 4 (validated), read through wiki/site.py and
reduced to what is printed (`wiki/pagetext.printed_text`).
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transcribe.errors import InputError
from transcribe.events import ProgressFn, no_progress
from transcribe.ocr import OcrSettings, PageJob, ocr_page, reading_for, settings_fingerprint
from transcribe.ocr import tesseract as T
from transcribe.ocr.method import config_for
from transcribe.store import Store, Work

if TYPE_CHECKING:
    from transcribe.wiki.site import Wiki

CHECKED_LEVELS = (3, 4)


def checked_pages_from_dir(gt_dir: Path, images: dict[str, int]) -> dict[int, tuple[str, str]]:
    """Page number -> (name, checked text) for every GT file of `gt_dir` named after a page image's stem."""
    gt_dir = Path(gt_dir)
    if not gt_dir.is_dir():
        raise InputError(f"The folder of checked pages {gt_dir} does not exist.",
                         hint="Give a folder of X.gt.txt (or X.txt) files named after the page images, or "
                              "\"Index:NAME\" with --wiki.")
    out = {}
    for stem, n in images.items():
        for cand in (gt_dir / f"{stem}.gt.txt", gt_dir / f"{stem}.txt"):
            if cand.is_file():
                try:
                    out[n] = (cand.name, cand.read_text(encoding="utf-8"))
                except (OSError, UnicodeDecodeError) as e:
                    raise InputError(f"{cand} cannot be read as UTF-8 text ({e}).",
                                     hint="Save it as UTF-8 and run the command again.") from e
                break
    if not out:
        raise InputError(f"No file in {gt_dir} is named after a page image of the folder.",
                         hint="Name the checked text of page image 0007.png '0007.gt.txt' or '0007.txt'.")
    return out


def checked_pages_from_wiki(wiki: Wiki, index: str) -> dict[int, tuple[str, str]]:
    """Page number -> (title, body) of the Page: pages of `index` ('Index:Book.djvu') at level 3 or 4.

    Pages are listed by prefix (`Page:Book.djvu/N`), which works with or without the ProofreadPage API, and
    their text is read in the same requests (prop=revisions), reduced to what is printed on the page
    (pagetext.printed_text: running header, body, footnotes; no markup).
    """
    from transcribe.wiki.pagetext import parse_page, printed_text

    ns = wiki.namespaces
    name = index.split(":", 1)[1] if ":" in index else index
    if not name:
        raise InputError(f"'{index}' is not an Index page title.", hint="Give it as \"Index:Book.djvu\".")
    prefix = f"{ns.page.name}:{name}/"
    out: dict[int, tuple[str, str]] = {}
    for data in wiki.query_all(generator="allpages", gapnamespace=ns.page.id, gapprefix=f"{name}/",
                               gaplimit="50", prop="revisions", rvprop="content", rvslots="main"):
        for p in data.get("query", {}).get("pages", []):
            title = str(p.get("title", ""))
            rest = title[len(prefix):] if title.startswith(prefix) else ""
            revs = p.get("revisions") or []
            if not rest.isdigit() or not revs:
                continue
            content = revs[0].get("slots", {}).get("main", {}).get("content")
            if content is None:
                continue
            page = parse_page(str(content))
            if page.level in CHECKED_LEVELS:
                out[int(rest)] = (title, printed_text(page))
    if not out:
        raise InputError(f"{index} has no page proofread (level 3) or validated (level 4) on {wiki!r}.",
                         hint="Learning needs some checked pages of the same book; run without --learn-from.")
    return out


# -- a model for the book: fine-tuning on its checked pages (train.py) -----------------------------------------

LEARN_VERSION = "1"  # bump when the lines or the training change: books are trained again
CHOICES_VERSION = "2"  # bump when the choices made on the checked pages change: measured again, not trained again
MODEL_DIR = "model"  # inside the pages folder: the book's model and its training files
BOOK_MODEL = "book"  # -> PAGES/model/book.traineddata
BASE_MODEL = "german_print"  # the float model fine-tuned (UB Mannheim; langs/models.toml)
DEFAULT_MINUTES = 4.0  # CPU minutes of lstmtraining per book (--learn-minutes)
HOLD_BACK_EVERY = 5  # every 5th aligned line is held back to measure on
PSM_CHOICES = (3, 4, 6)  # page segmentation modes the checked pages choose from
PSM_PAGES = 10  # at most this many checked pages read per mode
LINE_CONF_CHOICES = (20.0, 30.0, 40.0, 50.0, 60.0)  # mean word confidence below which a line is left out
# A grey copy of each page scaled to this, tried on the checked pages with the chosen psm: over 35 books it gave the
# best mean of all (0.1007 against 0.1198) but made four books worse (bench --lobo downscale), so only a book's own
# checked pages can take it.
SCALE_CHOICE = 0.85
ITERATIONS_PER_LINE = 30  # passes over the lines; measured on faictz1538 (114 lines): 400 its 0.142, 3000 its 0.073 held-back CER
MIN_ITERATIONS, MAX_ITERATIONS = 300, 6000


@dataclass(frozen=True)
class BookModel:
    """What learning from the checked pages did and decided (recorded in SQLite and ocr.json)."""

    key: str
    source: str
    base_model: str
    pages: int
    lines: int
    held_back: int
    left_out: int
    iterations: int
    cpu_seconds: float
    model: str | None  # path relative to the pages folder
    held_back_cer: dict[str, float]  # reading -> CER on the held-back lines
    chosen: str  # models the rest is read with
    tessdata_dir: str | None
    psm: int
    psm_cer: dict[str, float]
    min_line_conf: float | None = None  # lines read less surely than this are left out (chosen on the pages)
    conf_cer: dict[str, float] = field(default_factory=dict)  # threshold -> CER on the checked pages
    scale: float = 1.0  # pages read from a grey copy scaled by this (chosen on the checked pages)
    scale_cer: dict[str, float] = field(default_factory=dict)  # scale -> CER on the checked pages
    reused: bool = False
    notes: tuple[str, ...] = ()

    def page_choices(self) -> str:
        """'; lines read with ... left out; pages read from a grey copy scaled to 0.85' (what else the checked
        pages chose beside the models and psm), or ''."""
        out = "" if self.min_line_conf is None else \
            f"; lines read with a mean word confidence under {self.min_line_conf:g} left out"
        return out + ("" if self.scale == 1.0 else f"; pages read from a grey copy scaled to {self.scale:g}")

    def sentence(self) -> str:
        """'on 40 held-back lines of this book: 0.031 instead of 0.142' (what the choice rests on)."""
        if not self.held_back_cer or self.held_back == 0:
            return "no line could be held back to measure on: the base models are kept"
        default = next(iter(self.held_back_cer))
        best = self.held_back_cer.get(self.chosen, self.held_back_cer[default])
        if self.chosen != default:
            return (f"on {self.held_back} held-back lines of this book: {best:.3f} with {self.chosen} instead of "
                    f"{self.held_back_cer[default]:.3f} with {default}")
        others = ", ".join(f"{cer:.3f} with {name}" for name, cer in self.held_back_cer.items() if name != default)
        return (f"on {self.held_back} held-back lines of this book: {best:.3f} with {default}"
                f"{f' against {others}' if others else ''}: {default} kept")


_HOCR_LINE = re.compile(r"<span class='ocr_(?:line|caption|header|textfloat)'(.*?)(?=<span class='ocr_(?:line|caption"
                        r"|header|textfloat)'|</div>)", re.DOTALL)
_HOCR_WORD = re.compile(r"<span class='ocrx_word'[^>]*x_wconf (\d+)[^>]*>(.*?)</span>", re.DOTALL)


def drop_unsure_lines(text: str, hocr: str, threshold: float) -> tuple[str, int]:
    """`text` without the lines whose mean word confidence (hOCR x_wconf) is below `threshold`; and how many.

    Tesseract's text has one line per hOCR line, in the same order; where the counts differ (the text was put in
    another order) the text is returned as it is.
    """
    confs = []
    for m in _HOCR_LINE.finditer(hocr):
        words = [int(c) for c, w in _HOCR_WORD.findall(m.group(1)) if re.sub(r"<[^>]+>", "", w).strip()]
        if words:
            confs.append(sum(words) / len(words))
    lines = text.split("\n")
    if sum(1 for ln in lines if ln.strip()) != len(confs):
        return text, 0
    out, k, dropped = [], 0, 0
    for ln in lines:
        if ln.strip():
            keep = confs[k] >= threshold
            k += 1
            if not keep:
                dropped += 1
                continue
        out.append(ln)
    return "\n".join(out), dropped


def choose(cers: dict[str, float], default: str) -> str:
    """The reading with the lowest CER on the held-back lines; the default's models on a tie or with none."""
    return min(cers, key=lambda k: (cers[k], k != default)) if cers else default


def find_base_model(tessdata_dir: str | None) -> Path | None:
    """The float model to fine-tune: german_print.traineddata in the user's models folder
    ($TRANSCRIBE_MODELS_DIR, see models.py), in --tessdata-dir, or in Tesseract's own folder."""
    from transcribe import models as catalogue

    folders = [catalogue.models_dir()]
    if tessdata_dir:
        folders.append(Path(tessdata_dir))
    from transcribe.langs import default_tessdata_dir

    own = default_tessdata_dir()
    if own:
        folders.append(own)
    for folder in folders:
        path = folder / f"{BASE_MODEL}.traineddata"
        if path.is_file():
            return path
    return None


def checked_key(checked: dict[int, tuple[str, str]], image_sha1: dict[int, str], base_sha1: str) -> str:
    blob = json.dumps({"v": LEARN_VERSION, "base": base_sha1,
                       "pages": [[n, image_sha1.get(n, ""), hashlib.sha1(text.encode()).hexdigest()]
                                 for n, (_, text) in sorted(checked.items())]})
    return hashlib.sha1(blob.encode()).hexdigest()


def learn_book(pages_dir: Path, settings: OcrSettings, checked: dict[int, tuple[str, str]], *, source: str,
               store: Store, work: Work, minutes: float = DEFAULT_MINUTES, jobs: int | None = None,
               base_model: Path | None = None, progress: ProgressFn | None = None) -> tuple[OcrSettings, BookModel]:
    """Fine-tune the base float model on the checked pages, measure it on held-back lines against the
    settings' own models and the base model, choose the page segmentation mode on the checked pages, and
    return the settings the rest of the book is read with (module docstring of train.py for the lines)."""
    from transcribe import fsutil
    from transcribe.ocr import train as TR
    from transcribe.split import read_pages

    progress = progress or no_progress
    pages_dir = Path(pages_dir)
    pages = {p.n: p for p in read_pages(pages_dir)}
    wanted = {n: v for n, v in checked.items() if n in pages}
    if not wanted:
        raise InputError(f"None of the checked pages is a page of {pages_dir}.",
                         hint="The checked text of page N must be named after page image N (or be Page:.../N).")
    base = base_model or find_base_model(settings.tessdata_dir)
    if base is None:
        from transcribe.errors import LanguageError

        raise LanguageError(f"--learn-from fine-tunes the float model {BASE_MODEL}.traineddata, and it is not "
                            f"installed. Install it: transcribe langs install {BASE_MODEL}")
    base_sha1 = fsutil.sha1_file(base)
    # the training rests on the base model and the checked pages; the choices on what the rest would be read with
    # (another --lang, --models, --tessdata-dir or method measures again, without training again)
    train_key = checked_key(wanted, {n: p.sha1 for n, p in pages.items()}, base_sha1)
    key = hashlib.sha1(json.dumps([train_key, CHOICES_VERSION, settings_fingerprint(settings)],
                                  sort_keys=True).encode()).hexdigest()
    folder = pages_dir / MODEL_DIR
    row = store.query("SELECT * FROM book_models WHERE work_id = ? AND key = ?", (work.id, key))
    if row:
        done = _from_row(row[0])
        model_ok = done.model is None or (pages_dir / done.model).is_file() and \
            fsutil.sha1_file(pages_dir / done.model) == row[0]["model_sha1"]
        if model_ok:
            return _settings_for(settings, done, pages_dir), replace(done, reused=True)

    work_dir = folder / f"train-{train_key[:12]}"
    work_dir.mkdir(parents=True, exist_ok=True)
    alphabet = TR.unicharset_of(base, folder / f"base-{base_sha1[:12]}")  # the alphabet of this very base model
    base_dir, base_name = str(base.parent), base.stem
    order = sorted(wanted)

    # 1. Tesseract's layout and reading of each checked page, with the base model (cached by image and key).
    notes: list[str] = []  # what the summary says was left out, and why
    killed: list[int] = []  # checked pages whose reading was ended by a signal: nothing is recorded then

    def first_reading(n: int) -> str:
        cached = work_dir / f"page-{n:05d}.tsv"
        if cached.is_file():
            return cached.read_text(encoding="utf-8")
        with tempfile.TemporaryDirectory(prefix="transcribe-learn-") as tmp:
            try:
                out = T.read_page((pages_dir / pages[n].image).resolve(), Path(tmp) / "out", models=base_name,
                                  psm=3, tessdata_dir=base_dir, timeout=settings.timeout, dpi=pages[n].dpi)
            except subprocess.TimeoutExpired:
                notes.append(f"checked page {n} took Tesseract longer than {settings.timeout:g} s: left out")
                return ""
        if out.error is not None:
            notes.append(f"checked page {n} could not be read ({out.error}): left out")
            if out.killed:
                killed.append(n)
        else:
            fsutil.write_text(cached, out.tsv)
        return out.tsv

    with cf.ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        progress("learn: reading the checked pages", 0, len(order))
        tsvs = {}
        for i, (n, tsv) in enumerate(zip(order, pool.map(first_reading, order)), 1):
            tsvs[n] = tsv
            progress("learn: reading the checked pages", i, len(order))
    data = TR.TrainingData()
    for n in order:
        name, text = wanted[n]
        TR.lines_of_page(name, pages_dir / pages[n].image, tsvs[n], text, work_dir / "lines", alphabet, data)
    if data.unknown:
        notes.append(f"{data.unknown} aligned line(s) left out: the base model cannot write "
                     f"{' '.join(repr(c) for c in data.unknown_chars)}")
    held = data.lines[HOLD_BACK_EVERY - 1::HOLD_BACK_EVERY]
    held_ids = {id(x) for x in held}
    train_lines = [x for x in data.lines if id(x) not in held_ids]
    left_out = data.checked_lines - len(data.lines)

    # 2. Training (bounded, resumable) and the held-back comparison.
    trained = None
    if train_lines:
        lstmf = TR.make_lstmf(train_lines, Path(base_dir), base_name)
        iterations = max(MIN_ITERATIONS, min(MAX_ITERATIONS, ITERATIONS_PER_LINE * len(lstmf)))
        finished = work_dir / "trained.json"  # a finished training of these lines (the choices may be measured
        try:  # again, for other reading settings, without training again)
            was = json.loads(finished.read_text(encoding="utf-8"))
            trained = TR.Trained(Path(was["model"]), int(was["iterations"]), float(was["cpu_seconds"]),
                                 bool(was["stopped_early"]))
            if not trained.model.is_file():
                trained = None
            else:
                notes.append("the model trained earlier on these checked pages is measured again for these OCR "
                             "settings, not trained again")
        except (OSError, ValueError, KeyError, TypeError):
            trained = None
        if trained is None:
            trained = TR.train(base, lstmf, work_dir, name=BOOK_MODEL, max_iterations=iterations,
                               cpu_budget=minutes * 60,
                               progress=lambda done, total: progress("learn: training", done, total))
            if not killed:  # with a page's lines missing (its reading was stopped) it is not these pages' training
                fsutil.write_text(finished, json.dumps({**asdict(trained), "model": str(trained.model)}) + "\n")
        with fsutil.atomic_path(folder / f"{BOOK_MODEL}.traineddata") as tmp:
            shutil.copyfile(trained.model, tmp)
    # the rest of the book as the default would read it: its models (a catalogue model in place of Debian's) and the
    # folder Tesseract loads them from
    default, default_dir = reading_for(settings)
    default_models = default.models or ""
    readings: dict[str, tuple[str, str | None]] = {default_models: (default_models, default_dir)}
    readings.setdefault(base_name, (base_name, base_dir))
    if trained is not None:
        readings[BOOK_MODEL] = (BOOK_MODEL, str(folder.resolve()))
    cers: dict[str, float] = {}
    if held:
        for label, (models, tdir) in readings.items():
            texts = TR.read_lines([x.image for x in held], models, Path(tdir) if tdir else None, work_dir)
            cers[label] = round(TR.cer(zip(texts, [x.text for x in held])), 4)
    chosen = choose(cers, default_models)
    chosen_models, chosen_dir = readings[chosen]

    # 3. The page segmentation mode that reproduces the checked pages best, read as the rest will be read.
    psm_pages = sorted(order, key=lambda n: -len(TR.checked_lines(wanted[n][1])))[:PSM_PAGES]
    psm_cer: dict[str, float] = {}
    trial = replace(settings, models=chosen_models, tessdata_dir=chosen_dir)
    readings_by_psm = {}
    with cf.ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        for psm in PSM_CHOICES:
            jobs_ = [_job(pages_dir, pages[n], replace(trial, psm=psm), chosen_models) for n in psm_pages]
            results = list(pool.map(ocr_page, jobs_))  # a failed page counts as read with no text
            killed += [r.n for r in results if r.killed]
            readings_by_psm[psm] = results
            psm_cer[str(psm)] = round(TR.cer((r.text, wanted[r.n][1]) for r in results), 4)
            progress("learn: choosing the page segmentation", PSM_CHOICES.index(psm) + 1, len(PSM_CHOICES))
    psm = int(min(psm_cer, key=lambda k: (psm_cer[k], k != str(settings.psm))))
    # 3b. A scaled-down grey copy, with that mode: taken only for a clear gain on the checked pages.
    scale_cer = {"1": psm_cer[str(psm)]}
    with cf.ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        jobs_ = [_job(pages_dir, pages[n], replace(trial, psm=psm, scale=SCALE_CHOICE), chosen_models)
                 for n in psm_pages]
        scaled = list(pool.map(ocr_page, jobs_))
    killed += [r.n for r in scaled if r.killed]
    scale_cer[f"{SCALE_CHOICE:g}"] = round(TR.cer((r.text, wanted[r.n][1]) for r in scaled), 4)
    scale = SCALE_CHOICE if _clear_gain(scale_cer["1"], scale_cer[f"{SCALE_CHOICE:g}"]) else 1.0
    if scale != 1.0:
        readings_by_psm[psm] = scaled
    # 4. Lines read with little confidence (a woodcut read as letters): left out where the checked pages are better
    # without them, at the threshold that reproduces them best.
    conf_cer = {"none": psm_cer[str(psm)]}
    for t in LINE_CONF_CHOICES:
        conf_cer[f"{t:g}"] = round(TR.cer((drop_unsure_lines(r.text, r.hocr, t)[0], wanted[r.n][1])
                                          for r in readings_by_psm[psm]), 4)
    best_conf = min(conf_cer, key=lambda k: (conf_cer[k], k != "none"))
    # only a clear gain: akz1860's checked pages (no pictures) were 0.0124 -> 0.0123 at 20, which is noise
    min_line_conf = float(best_conf) if best_conf != "none" and _clear_gain(conf_cer["none"], conf_cer[best_conf]) \
        else None

    model_rel = f"{MODEL_DIR}/{BOOK_MODEL}.traineddata" if trained is not None else None
    done = BookModel(
        key=key, source=source, base_model=str(base), pages=data.pages, lines=len(train_lines),
        held_back=len(held), left_out=left_out, iterations=trained.iterations if trained else 0,
        cpu_seconds=trained.cpu_seconds if trained else 0.0, model=model_rel, held_back_cer=cers,
        chosen=chosen_models, tessdata_dir=chosen_dir, psm=psm, psm_cer=psm_cer, min_line_conf=min_line_conf,
        conf_cer=conf_cer, scale=scale, scale_cer=scale_cer, notes=tuple(notes))
    if killed:  # a reading ended by a signal measured nothing: used for this run, not recorded as the book's choice
        notes.append(f"Tesseract was stopped while reading checked page(s) {', '.join(map(str, sorted(set(killed))))}:"
                     " this choice is not recorded and is measured again next time")
        done = replace(done, notes=tuple(notes))
        return _settings_for(settings, done, pages_dir), done
    with store.tx() as c:
        c.execute(
            "INSERT OR REPLACE INTO book_models (work_id, key, source, base_model, base_sha1, pages, lines, held_back,"
            " left_out, iterations, cpu_seconds, model, model_sha1, held_back_cer, chosen, tessdata_dir, psm, psm_cer,"
            " min_line_conf, conf_cer, scale, scale_cer) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (work.id, key, source, str(base), base_sha1, done.pages, done.lines, done.held_back, done.left_out,
             done.iterations, done.cpu_seconds, model_rel,
             fsutil.sha1_file(pages_dir / model_rel) if model_rel else None, json.dumps(cers), chosen_models,
             chosen_dir, psm, json.dumps(psm_cer), min_line_conf, json.dumps(conf_cer), scale, json.dumps(scale_cer)))
    fsutil.write_text(folder / "learn.json", json.dumps(asdict(done), ensure_ascii=False, indent=1) + "\n")
    for old in folder.glob("train-*"):  # the training files of checked pages that have changed since
        if old != work_dir and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
    return _settings_for(settings, done, pages_dir), done


def _clear_gain(before: float, after: float) -> bool:
    """A change of settings is taken only for a clear gain on the checked pages, not for noise."""
    return before - after >= max(0.002, 0.05 * before)


def _job(pages_dir: Path, page: Any, settings: OcrSettings, models: str) -> PageJob:
    return PageJob(n=page.n, image_name=page.image, image_path=str((pages_dir / page.image).resolve()),
                   image_bytes=None, models=models, tessdata_dir=settings.tessdata_dir, psm=settings.psm,
                   timeout=settings.timeout, method=settings.method, config=config_for(settings.method), dpi=page.dpi,
                   scale=settings.scale)


def _from_row(row: Any) -> BookModel:
    return BookModel(
        key=row["key"], source=row["source"], base_model=row["base_model"], pages=row["pages"], lines=row["lines"],
        held_back=row["held_back"], left_out=row["left_out"], iterations=row["iterations"],
        cpu_seconds=row["cpu_seconds"], model=row["model"], held_back_cer=json.loads(row["held_back_cer"]),
        chosen=row["chosen"], tessdata_dir=row["tessdata_dir"], psm=row["psm"], psm_cer=json.loads(row["psm_cer"]),
        min_line_conf=row["min_line_conf"], conf_cer=json.loads(row["conf_cer"]), scale=row["scale"],
        scale_cer=json.loads(row["scale_cer"]))


def _settings_for(settings: OcrSettings, done: BookModel, pages_dir: Path) -> OcrSettings:
    """The settings the rest of the book is read with: the chosen models and mode, and what they rest on."""
    tessdata = done.tessdata_dir
    if done.chosen == BOOK_MODEL:
        tessdata = str((pages_dir / MODEL_DIR).resolve())
    else:  # where the models are now (a recorded folder may have been a temporary one: models.tessdata_for)
        reading, folder = reading_for(settings)
        if done.chosen == (reading.models or ""):
            tessdata = folder
        elif tessdata and not Path(tessdata).is_dir() and (base := find_base_model(settings.tessdata_dir)):
            tessdata = str(base.parent)
    return replace(settings, models=done.chosen, tessdata_dir=tessdata, psm=done.psm, 
                   learned_from=f"{done.source} ({done.pages} page(s))",
                   min_line_conf=done.min_line_conf, scale=done.scale,
                   learning=f"{done.sentence()}; --psm {done.psm}{done.page_choices()} (chosen on the checked pages)")
