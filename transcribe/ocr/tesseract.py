"""Running and probing the `tesseract` CLI: one call per page image, engine version, model identity.

We run the CLI on the image FILE (never a PIL image: that loses the DPI and changes the text, OCR-NOTES.md), with
OMP_THREAD_LIMIT=1 (Tesseract 5.3.0's own OpenMP threads make it 6.7x slower per page on 2 cores).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from transcribe import fsutil
from transcribe.errors import MissingProgram

# Tesseract subprocesses of this process and the run they belong to (PageJob.group), so that an interrupted or
# failed run can stop its own at once (thread pool), and not those of another run in the same process (a book's
# training in the background of a batch).
_running: dict[subprocess.Popen[bytes], str] = {}
_running_lock = threading.Lock()


@dataclass(frozen=True)
class Output:
    """What one Tesseract call wrote. `error` is None when it succeeded."""

    text: str = ""
    hocr: str = ""
    tsv: str = ""
    error: str | None = None
    model_problem: bool = False  # the error is Tesseract failing to load its models, not the image
    killed: bool = False  # Tesseract was ended by a signal (Ctrl-C, kill): nothing to conclude about the page


# Tesseract 5.3.0's words when a model cannot be loaded (missing, unreadable or damaged .traineddata, a wrong
# --tessdata-dir): "Error opening data file X", "Failed loading language 'X'", "Could not initialize tesseract."
_MODEL_FAILURE = ("Failed loading language", "Could not initialize tesseract", "Error opening data file",
                  "couldn't load any languages")


def model_failure(stderr: str) -> str | None:
    """The first line of Tesseract's stderr that says a model could not be loaded, or None."""
    for line in stderr.splitlines():
        if any(marker in line for marker in _MODEL_FAILURE):
            failed = [ln.strip() for ln in stderr.splitlines() if "Failed loading language" in ln]
            return (failed or [line.strip()])[0]
    return None


def read_page(image: Path, out: Path, *, models: str, psm: int, tessdata_dir: str | None, timeout: float,
              config: tuple[tuple[str, str], ...] = (), dpi: int | None = None, group: str = "") -> Output:
    """One Tesseract call writing txt + hOCR + TSV (1.03x the cost of text alone). Raises TimeoutExpired.

    `dpi` is the image's known resolution, for images that cannot say it themselves (an RGB JPEG page); `group`
    names the run the call belongs to (stop_running).
    """
    cmd = [tesseract_exe(), image.name, str(out), "-l", models, "--psm", str(psm)]
    if dpi:
        cmd += ["--dpi", str(dpi)]
    if tessdata_dir:
        cmd += ["--tessdata-dir", tessdata_dir]
    # The renderers as variables, not as the config files `txt hocr tsv`: Tesseract 5.3.0 looks for those in
    # the tessdata folder, and a community's own --tessdata-dir has none (no output at all, exit 0).
    cmd += ["-c", "tessedit_create_txt=1", "-c", "tessedit_create_hocr=1", "-c", "hocr_font_info=0",
            "-c", "tessedit_create_tsv=1"]
    for name, value in config:
        cmd += ["-c", f"{name}={value}"]
    try:
        code, stderr = _run(cmd, cwd=image.parent, timeout=timeout, group=group)
    except OSError as e:
        return Output(error=f"Tesseract could not be started ({e})")
    if code != 0 or not (out.with_suffix(".txt").exists() and out.with_suffix(".tsv").exists()):
        failure = model_failure(stderr)
        if failure is not None:
            where = f" from {tessdata_dir}" if tessdata_dir else ""
            return Output(error=f"Tesseract could not load the models '{models}'{where} ({failure})",
                          model_problem=True)
        return Output(error=explain_failure(code, stderr), killed=code < 0)
    return Output(
        text=out.with_suffix(".txt").read_text(encoding="utf-8", errors="replace"),
        hocr=out.with_suffix(".hocr").read_text(encoding="utf-8", errors="replace"),
        tsv=out.with_suffix(".tsv").read_text(encoding="utf-8", errors="replace"),
    )


def _run(cmd: list[str], *, cwd: Path, timeout: float, group: str = "") -> tuple[int, str]:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with _running_lock:
        _running[proc] = group
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    finally:
        with _running_lock:
            _running.pop(proc, None)
    return proc.returncode, err.decode("utf-8", errors="replace")


def stop_running(group: str | None = None) -> None:
    """Kill the Tesseract processes of `group` (of every run when None)."""
    with _running_lock:
        for proc, of in list(_running.items()):
            if group is not None and of != group:
                continue
            with contextlib.suppress(OSError):
                proc.kill()


def explain_failure(code: int, stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    # Tesseract 5.3.0 (leptonica 1.82) says "Error in pixReadStream..." / "Image file X cannot be read!" for a
    # damaged or unknown image file; anything else is shown as its last line.
    if any("cannot be read" in ln or "pixRead" in ln or "truncated" in ln for ln in lines):
        return "the image file is damaged or not an image Tesseract can read"
    if code < 0:
        return f"Tesseract crashed (signal {-code})" + (f": {lines[-1]}" if lines else "")
    if code == 0:
        return "Tesseract ended without writing its text" + (f": {lines[-1]}" if lines else "")
    return f"Tesseract failed (exit {code})" + (f": {lines[-1]}" if lines else "")


def word_confidences(tsv: str) -> list[tuple[float, str]]:
    """(confidence, text) of every recognised word in Tesseract's TSV (level 5 rows with text)."""
    words = []
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        text = (row.get("text") or "").strip()
        if row.get("level") == "5" and text:
            with contextlib.suppress(TypeError, ValueError):
                conf = float(row["conf"])
                if conf >= 0:
                    words.append((conf, text))
    return words


_tesseract_path: str | None = None


def tesseract_exe() -> str:
    """langs.tesseract_exe(), looked up once per process rather than once per page."""
    global _tesseract_path
    if _tesseract_path is None:
        from transcribe.langs import tesseract_exe as find

        _tesseract_path = find()
    return _tesseract_path


def tesseract_version() -> str:
    """'5.3.0', from `tesseract --version`; MissingProgram when it is not installed."""
    try:
        out = subprocess.run([tesseract_exe(), "--version"], capture_output=True, text=True, timeout=60,
                             check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise MissingProgram(f"Tesseract could not be run ({e}). Reinstall it: sudo apt-get install tesseract-ocr") \
            from e
    m = re.search(r"tesseract\s+v?(\S+)", out.stdout + out.stderr)
    return m.group(1) if m else "unknown"


def model_identity(models: str, tessdata_dir: str | None) -> dict[str, str]:
    """Model name -> sha1 of its .traineddata file, so that a retrained model with the same name redoes pages."""
    from transcribe.langs import default_tessdata_dir

    folder = Path(tessdata_dir) if tessdata_dir else default_tessdata_dir()
    ident = {}
    for name in models.split("+"):
        for candidate in (f"{name}.traineddata", f"script/{name}.traineddata"):
            path = folder / candidate if folder else None
            if path is not None and path.is_file():
                ident[name] = fsutil.sha1_file(path)
                break
        else:
            ident[name] = "?"  # Tesseract found it elsewhere (TESSDATA_PREFIX); the name alone identifies it
    return ident
