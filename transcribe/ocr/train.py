"""Fine-tuning a float Tesseract model on a book's own checked pages: line images, .lstmf files, lstmtraining.

The lines come from the page images and the checked page text alone (no ground-truth polygons):
1. `page_lines`: Tesseract's own layout of the checked page (TSV line boxes) and its reading of each line;
2. `align`: each checked line is matched to the OCR line that reads most like it (rapidfuzz, normalised
   Levenshtein); a pair is kept only when each is the other's best match, the distance is small, and no other
   checked line is nearly as close (a confident alignment). Lines that do not align are left out;
3. `cut_line`: the line's box with a margin, in grey, as a PNG + a WordStr .box file; `make_lstmf` turns them
   into Tesseract's training files (`tesseract LINE BASE --psm 13 lstm.train`);
4. `train`: `lstmtraining --continue_from BASE.lstm --traineddata BASE.traineddata` for a bounded number of
   iterations and CPU time, checkpoints kept (a killed training continues from its checkpoint), then
   `--stop_training` to BOOK.traineddata.
Characters the base model cannot write (its lstm-unicharset) would be lines lstmtraining cannot encode: such lines
are left out and counted (`TrainingData.unknown`), as measured: on faictz1538 (first 10 pages, 35 of 177 aligned
lines end in `¬`, which german_print cannot write), extending the unicharset (unicharset_extractor,
merge_unicharsets, combine_lang_model, lstmtraining --old_traineddata) and training on those lines too gave 0.069
on 29 held-back lines against 0.073 leaving them out, 3000 iterations each (~140 CPU s), and the extended model
still wrote no `¬` on the lines it was trained on: a new output starts untrained, and a book's minutes do not
teach it. Leaving them out is as good and needs no language data (combine_lang_model wants radical-stroke.txt).

Nothing here knows which book or script it reads: a script with no base model to fine-tune needs the same lines
(step 1-3) and `lstmtraining` from a network spec instead of `--continue_from` (not done yet).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import shutil
import signal
import subprocess
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from transcribe import fsutil
from transcribe.errors import MissingProgram, TrainingStopped

MAX_DISTANCE = 0.34  # normalised Levenshtein distance between Tesseract's reading of a line and the checked line
MARGIN = 0.15  # the next-best checked line must be at least this much further away
MIN_CHARS = 4  # shorter lines (page numbers, signatures) align by chance
LSTM_TRAIN_CONFIG = """file_type .bl
textord_fast_pitch_test T
tessedit_zero_rejection T
tessedit_minimal_rejection F
tessedit_write_rep_codes F
edges_children_fix F
edges_childarea 0.65
edges_boxarea 0.9
tessedit_train_line_recognizer T
textord_no_rejects T
tessedit_init_config_only T
"""


@dataclass(frozen=True)
class OcrLine:
    box: tuple[int, int, int, int]  # left, top, right, bottom on the page image
    text: str  # Tesseract's reading
    conf: float


@dataclass(frozen=True)
class Line:
    page: str  # name of the checked page
    image: Path  # the line's PNG (its .box and .lstmf beside it)
    text: str  # the checked text of the line
    ocr: str  # Tesseract's reading of it (base model)
    distance: float


@dataclass
class TrainingData:
    lines: list[Line] = field(default_factory=list)
    pages: int = 0
    checked_lines: int = 0  # non-empty lines of the checked text
    unaligned: int = 0  # checked lines no OCR line matched confidently
    unknown: int = 0  # aligned lines with a character the base model cannot write (left out)
    unknown_chars: str = ""


def _env() -> dict[str, str]:
    return dict(os.environ, OMP_THREAD_LIMIT="1")


def _run(cmd: list[str], *, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout,
                              check=False)
    except FileNotFoundError as e:
        raise MissingProgram(f"{cmd[0]} is not installed; it comes with Tesseract's training tools. "
                             "Install them: sudo apt-get install tesseract-ocr") from e


# -- lines of a checked page ----------------------------------------------------------------------------------


def page_lines(tsv: str) -> list[OcrLine]:
    """Tesseract's text lines (TSV level 4) with the words it read on each (level 5), in its reading order."""
    lines: dict[tuple[str, str, str, str], list] = {}
    order: list[tuple[str, str, str, str]] = []
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        key = (row.get("page_num", ""), row.get("block_num", ""), row.get("par_num", ""), row.get("line_num", ""))
        if row.get("level") == "4":
            box = (int(row["left"]), int(row["top"]), int(row["left"]) + int(row["width"]),
                   int(row["top"]) + int(row["height"]))
            lines[key] = [box, [], []]
            order.append(key)
        elif row.get("level") == "5" and key in lines:
            text = (row.get("text") or "").strip()
            if text:
                lines[key][1].append(text)
                with contextlib.suppress(TypeError, ValueError):
                    lines[key][2].append(float(row["conf"]))
    out = []
    for key in order:
        box, words, confs = lines[key]
        if words:
            out.append(OcrLine(tuple(box), " ".join(words), sum(confs) / len(confs) if confs else 0.0))
    return out


def checked_lines(text: str) -> list[str]:
    """The checked text's non-empty lines, NFC, spaces collapsed."""
    out = []
    for line in unicodedata.normalize("NFC", text).splitlines():
        line = " ".join(line.split())
        if line:
            out.append(line)
    return out


def align(ocr: list[str], checked: list[str], *, max_distance: float = MAX_DISTANCE,
          margin: float = MARGIN) -> list[tuple[int, int, float]]:
    """(OCR line index, checked line index, distance) of the pairs that align confidently (module docstring)."""
    from rapidfuzz.distance import Levenshtein

    if not ocr or not checked:
        return []
    d = [[Levenshtein.normalized_distance(o, c) for c in checked] for o in ocr]
    pairs = []
    for i, row in enumerate(d):
        j = min(range(len(row)), key=row.__getitem__)
        best = row[j]
        if best > max_distance or len(checked[j]) < MIN_CHARS or len(ocr[i]) < MIN_CHARS:
            continue
        if min(range(len(d)), key=lambda k: d[k][j]) != i:
            continue
        others = [v for k, v in enumerate(row) if k != j and checked[k] != checked[j]]
        if others and min(others) < best + margin:
            continue
        pairs.append((i, j, round(best, 4)))
    return pairs


def cut_line(image: object, box: tuple[int, int, int, int], target: Path) -> Path:
    """The line's box on the (grey PIL) page image with a margin, as a PNG at 300 dpi."""
    left, top, right, bottom = box
    h = bottom - top
    pad_y, pad_x = max(3, round(0.15 * h)), max(5, round(0.3 * h))
    w_img, h_img = image.size  # type: ignore[attr-defined]
    crop = image.crop((max(0, left - pad_x), max(0, top - pad_y), min(w_img, right + pad_x),  # type: ignore[attr-defined]
                       min(h_img, bottom + pad_y)))
    crop.save(target, dpi=(300, 300))
    return target


def write_box(path: Path, text: str, width: int, height: int) -> None:
    """A WordStr .box file: the whole line's text on one box (what tesstrain writes for line images)."""
    path.write_text(f"WordStr 0 0 {width} {height} 0 #{text}\n\t {width} 0 {width + 1} {height} 0\n",
                    encoding="utf-8")


def unicharset_of(traineddata: Path, folder: Path) -> set[str]:
    """The characters an LSTM model can write (its lstm-unicharset, unpacked with combine_tessdata)."""
    folder.mkdir(parents=True, exist_ok=True)
    prefix = folder / "base."
    uni = folder / "base.lstm-unicharset"
    if not uni.is_file():
        r = _run(["combine_tessdata", "-u", str(traineddata), str(prefix)])
        if not uni.is_file():
            raise MissingProgram(f"combine_tessdata could not unpack {traineddata}: {r.stderr.strip()[-200:]}")
    chars: set[str] = set()
    for line in uni.read_text(encoding="utf-8", errors="replace").splitlines()[1:]:
        first = line.split(" ", 1)[0]
        if first and first != "NULL":
            chars.add(first)
            chars.update(first)
    return chars


def lines_of_page(page_name: str, image_path: Path, tsv: str, checked_text: str, folder: Path,
                  alphabet: set[str] | None, data: TrainingData) -> None:
    """Cut the confidently aligned lines of one checked page into `folder` and add them to `data`."""
    from PIL import Image

    ocr = page_lines(tsv)
    checked = checked_lines(checked_text)
    data.pages += 1
    data.checked_lines += len(checked)
    pairs = align([o.text for o in ocr], checked)
    data.unaligned += len(checked) - len(pairs)
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^\w.-]", "_", Path(page_name).stem)
    with Image.open(image_path) as im:
        grey = im.convert("L")
    for i, j, dist in pairs:
        text = checked[j]
        missing = {c for c in text if c != " " and c not in alphabet} if alphabet is not None else set()
        if missing:
            data.unknown += 1
            data.unknown_chars = "".join(sorted(set(data.unknown_chars) | missing))
            continue
        png = cut_line(grey, ocr[i].box, folder / f"{stem}-{i:03d}.png")
        with Image.open(png) as li:
            write_box(png.with_suffix(".box"), text, li.width, li.height)
        data.lines.append(Line(page_name, png, text, ocr[i].text, dist))


def make_lstmf(lines: Iterable[Line], tessdata_dir: Path, model: str) -> list[Path]:
    """Tesseract's training file of every line (skipping those already made); the paths of the ones made."""
    out = []
    for line in lines:
        base = line.image.with_suffix("")
        lstmf = line.image.with_suffix(".lstmf")
        if not lstmf.is_file():
            config = line.image.parent / "lstm.train.config"
            if not config.is_file():
                config.write_text(LSTM_TRAIN_CONFIG, encoding="utf-8")
            _run(["tesseract", line.image.name, base.name, "--psm", "13", "--tessdata-dir", str(tessdata_dir),
                  "-l", model, config.name], cwd=line.image.parent)
        if lstmf.is_file() and lstmf.stat().st_size > 0:
            out.append(lstmf)
    return out


# -- training ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trained:
    model: Path  # the .traineddata
    iterations: int
    cpu_seconds: float
    stopped_early: bool  # the CPU budget ended the training before max_iterations


_ITER = re.compile(r"At iteration (\d+)/(\d+)/(\d+)")


def _checkpoint_iterations(log: str) -> int:
    found = _ITER.findall(log)
    return int(found[-1][1]) if found else 0


def train(base: Path, lstmf: list[Path], folder: Path, *, name: str = "book", max_iterations: int,
          cpu_budget: float, progress: Callable[[int, int], None] | None = None) -> Trained:
    """Fine-tune the float model `base` (.traineddata) on `lstmf` into folder/NAME.traineddata.

    Continues from the last whole checkpoint (folder/NAME.resume) when a killed or budget-stopped run left one. The training stops at
    `max_iterations` or when lstmtraining has used `cpu_budget` CPU seconds, whichever comes first (the last
    checkpoint is then used: lstmtraining writes one every 100 iterations, so a run makes at least 100).
    """
    folder.mkdir(parents=True, exist_ok=True)
    lstm = folder / "base.lstm"
    if not lstm.is_file():
        r = _run(["combine_tessdata", "-e", str(base), str(lstm)])
        if not lstm.is_file():
            raise MissingProgram(f"combine_tessdata could not extract the LSTM of {base}: {r.stderr.strip()[-200:]}")
    listfile = folder / "train.list"
    fsutil.write_text(listfile, "".join(f"{p.resolve()}\n" for p in lstmf))
    checkpoint = folder / f"{name}_checkpoint"  # lstmtraining writes it in place: a kill can leave half of it
    safe = folder / f"{name}.resume"  # a copy of the last checkpoint lstmtraining said it wrote: always whole
    # lstmtraining itself goes on from NAME_checkpoint when it finds one: make that the last whole one
    if safe.is_file():
        with fsutil.atomic_path(checkpoint) as tmp:
            shutil.copyfile(safe, tmp)
    elif checkpoint.is_file():
        checkpoint.unlink()
    start_from = safe if safe.is_file() else lstm
    cmd = ["nice", "-n", "10", "lstmtraining", "--continue_from", str(start_from), "--traineddata", str(base),
           "--model_output", str(folder / name), "--train_listfile", str(listfile),
           "--max_iterations", str(max_iterations), "--debug_interval", "0"]
    if shutil.which("nice") is None:
        cmd = cmd[3:]
    if shutil.which("setpriv"):  # (util-linux) a training whose transcribe was killed (kill -9) stops with it,
        # instead of going on unbounded and racing the next run over the same checkpoint
        cmd = ["setpriv", "--pdeathsig", "TERM", *cmd]
    started = _children_cpu()
    log_path = folder / "lstmtraining.log"
    offset = log_path.stat().st_size if log_path.is_file() else 0
    stopped = False
    used: float | None = None
    saved = [0, 0]  # checkpoints seen written in this run, iterations of the last one

    def keep_checkpoint() -> None:
        text = _tail(log_path, since=offset)
        # by the iterations of the last checkpoint written, not by a count of them in the tail (a long log's tail
        # holds a fixed number of them, and the count would stop growing)
        written = [line for line in text.splitlines() if "wrote checkpoint" in line]  # written whole, then logged
        last = _checkpoint_iterations(written[-1]) if written else 0
        if last > saved[1] and checkpoint.is_file():
            with fsutil.atomic_path(safe) as tmp:
                shutil.copyfile(checkpoint, tmp)
            saved[0], saved[1] = saved[0] + 1, last

    with open(log_path, "a", encoding="utf-8") as log:
        try:
            proc = subprocess.Popen(cmd, env=_env(), stdout=log, stderr=subprocess.STDOUT, text=True)
        except FileNotFoundError as e:
            raise MissingProgram("lstmtraining is not installed: sudo apt-get install tesseract-ocr") from e
        try:
            while proc.poll() is None:
                time.sleep(0.5)
                keep_checkpoint()
                used = _proc_cpu(proc.pid) or used  # lstmtraining's own CPU (not other work's: a batch)
                if progress is not None:
                    progress(saved[1], max_iterations)
                # never before this run's first checkpoint (100 iterations): without one there is no model
                if used is not None and used > cpu_budget and saved[0]:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait()
                    stopped = True
            if not stopped:
                keep_checkpoint()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
    if not stopped and proc.returncode is not None and proc.returncode < 0:  # killed from outside: not finished
        raise TrainingStopped(f"lstmtraining was stopped by signal {-proc.returncode} before it finished "
                              f"({saved[1]} iterations).",
                              hint="Run the same command again: the training continues from its last checkpoint.")
    cpu = used if used is not None else _children_cpu() - started
    # lstmtraining also writes every new best model as NAME_<error>_<iterations>.checkpoint (10 MB each)
    for extra in folder.glob(f"{name}_*.checkpoint"):
        extra.unlink()
    if not safe.is_file():
        text = _tail(log_path, since=offset)
        raise MissingProgram(f"lstmtraining made no checkpoint (see {log_path}): {text.strip()[-300:]}")
    out = folder / f"{name}.traineddata"
    tmp = folder / f"{name}.part.traineddata"
    r = _run(["lstmtraining", "--stop_training", "--continue_from", str(safe), "--traineddata", str(base),
              "--model_output", str(tmp)])
    if not tmp.is_file():
        raise MissingProgram(f"lstmtraining --stop_training failed: {r.stderr.strip()[-300:]}")
    os.replace(tmp, out)
    iterations = saved[1] or _checkpoint_iterations(_tail(log_path))
    return Trained(out, iterations, round(cpu, 1), stopped)


def _tail(path: Path, size: int = 20000, *, since: int = 0) -> str:
    """The end of the log, from byte `since` on (what this run wrote)."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(since, f.tell() - size))
        return f.read().decode("utf-8", errors="replace")


def _children_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _proc_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) of a running process, from /proc (None where there is no /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


# -- reading lines with a model ------------------------------------------------------------------------------------


def read_lines(images: list[Path], model: str, tessdata_dir: Path | None, folder: Path) -> list[str]:
    """Tesseract's reading of each line image (one run for all of them, --psm 7), in order."""
    folder.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^\w]", "_", model)
    listing = folder / f"lines-{safe}.list"
    listing.write_text("".join(f"{p.resolve()}\n" for p in images), encoding="utf-8")
    cmd = ["tesseract", str(listing), "stdout", "--psm", "7", "-l", model]
    if tessdata_dir:
        cmd += ["--tessdata-dir", str(tessdata_dir)]
    r = _run(cmd)
    texts = r.stdout.split("\f")
    texts = [t.strip() for t in texts]
    if len(texts) > len(images):
        texts = texts[: len(images)]
    return texts + [""] * (len(images) - len(texts))


def cer(pairs: Iterable[tuple[str, str]]) -> float:
    """Character error rate over (reading, truth) pairs: all edits / all characters of the truth."""
    from rapidfuzz.distance import Levenshtein

    edits = chars = 0
    for got, truth in pairs:
        got, truth = " ".join(unicodedata.normalize("NFC", got).split()), " ".join(truth.split())
        edits += Levenshtein.distance(got, truth)
        chars += len(truth)
    return edits / chars if chars else 0.0
