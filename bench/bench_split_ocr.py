"""Benchmark: split + OCR of a scanned PDF, against the machine's limit, OCRmyPDF and a naive loop.

    .venv/bin/python bench/bench_split_ocr.py [--pages 60] [--jobs 2] [--naive-pages 3] [--process-pool] [--keep DIR]

The PDF: the five Fraktur pages vdsbb_glauanno_0014..0018 of the corpus (300 dpi, RGB) repeated to --pages
pages, each embedded as one lossless image (img2pdf of a PNG: Flate, PNG predictor, DPI kept).
Measured in one run, on the same PDF and model (frk):
  limit     the pages' total single-threaded Tesseract CPU time (plain `tesseract PAGE - -l frk`, each of the five
            distinct pages once, times its repetitions), divided by the cores: no pipeline can be faster.
  ours      `python -m transcribe split PDF -o DIR`, then `python -m transcribe ocr DIR --models frk --fast`
            (real CLI processes; --fast is plain Tesseract, the speed this benchmark watches), wall time of each, and the peak memory of the whole process tree (sampled every 50 ms).
  ocrmypdf  `ocrmypdf --jobs CORES -l frk --sidecar TXT --output-type pdf --optimize 0 PDF OUT` (the cheapest
            output OCRmyPDF offers: no PDF/A conversion, no optimisation).
  naive     pdf2image.convert_from_path(PDF, first_page=1, last_page=K) then pytesseract.image_to_string per page,
            Tesseract's default threading (OMP_THREAD_LIMIT unset); only the first --naive-pages pages (it is
            very slow), extrapolated linearly to all pages and marked so.
  pools     (--process-pool) our OCR again, in this process, twice with our default thread pool and twice with a
            ProcessPoolExecutor (in the order thread, process, process, thread).
Targets: OCR alone <= 1.1x the limit; split + OCR <= 1.25x the limit and ahead of OCRmyPDF; peak memory < 500 MB.
The machine is shared: the load average is printed before and after, read the ratios with it.
Prints numbers from one run; it is not a test.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CORPUS = REPO.parent / "shared" / "corpus"
PAGES = [f"vdsbb_glauanno_{n:04d}.tif" for n in range(14, 19)]
MODEL = "frk"


class PeakMemory:
    """Peak resident memory of a process and all its descendants, sampled in a thread."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.proc = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                total = 0
                for p in procs:
                    try:
                        total += p.memory_info().rss
                    except psutil.Error:
                        pass
                self.peak = max(self.peak, total)
            except psutil.Error:
                pass
            time.sleep(0.05)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def children_cpu() -> float:
    """CPU seconds of every finished descendant (a child's own children count once it has waited for them)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_measured(args: list[str], env: dict[str, str]) -> tuple[float, int, float]:
    """Wall seconds, peak tree memory (bytes) and CPU seconds of one command."""
    cpu = children_cpu()
    t = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    mem = PeakMemory(proc.pid)
    _, err = proc.communicate()
    peak = mem.stop()
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args[:4])}... failed ({proc.returncode}): {err[-2000:]}")
    return time.perf_counter() - t, peak, children_cpu() - cpu


def build_pdf(n: int, tmp: Path) -> Path:
    from PIL import Image

    pngs = []
    for name in PAGES:
        with Image.open(CORPUS / name) as im:
            target = tmp / name.replace(".tif", ".png")
            im.convert("RGB").save(target, dpi=im.info.get("dpi", (300, 300)))
            pngs.append(target)
    pdf = tmp / "book.pdf"
    subprocess.run(["img2pdf", "-o", str(pdf), *[str(pngs[i % len(pngs)]) for i in range(n)]], check=True)
    return pdf


def cpu_limit(tmp: Path, n: int, cores: int, env: dict[str, str]) -> tuple[float, float]:
    """(total single-thread CPU seconds of the n pages, that / cores)."""
    per_page = []
    for name in PAGES:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(["tesseract", str(tmp / name.replace(".tif", ".png")), "-", "-l", MODEL], env=env,
                       check=True, capture_output=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        per_page.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    total = sum(per_page[i % len(per_page)] for i in range(n))
    return total, total / cores


def naive(pdf: Path, k: int) -> float:
    """The loop most scripts start with; default Tesseract threading."""
    import pytesseract
    from pdf2image import convert_from_path

    env_before = os.environ.pop("OMP_THREAD_LIMIT", None)
    try:
        t = time.perf_counter()
        images = convert_from_path(str(pdf), first_page=1, last_page=k)
        for im in images:
            pytesseract.image_to_string(im, lang=MODEL)
        return time.perf_counter() - t
    finally:
        if env_before is not None:
            os.environ["OMP_THREAD_LIMIT"] = env_before


def pool_ocr(pages_dir: Path, jobs: int, kind: str) -> tuple[float, float]:
    """Our OCR in this process through a thread pool (the default) or a process pool: wall and CPU seconds."""
    import concurrent.futures as cf

    from transcribe.ocr import OcrSettings, ocr_pages
    from transcribe.store import Store

    for p in list(pages_dir.glob("*.txt")) + list(pages_dir.glob("*.hocr")):
        p.unlink()
    db = pages_dir / f"{kind}-pool.db"
    db.unlink(missing_ok=True)
    pool_class = cf.ProcessPoolExecutor if kind == "process" else cf.ThreadPoolExecutor
    cpu = children_cpu() + sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    t = time.perf_counter()
    with Store(db) as store, pool_class(jobs) as pool:
        s = ocr_pages(pages_dir, OcrSettings(models=MODEL, method="fast"), store=store, work=store.work("."),
                      executor=pool)
    assert not s.failed
    return time.perf_counter() - t, children_cpu() + sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=60)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="cores to use (default: all)")
    ap.add_argument("--naive-pages", type=int, default=3, help="pages of the naive loop to time (0: skip)")
    ap.add_argument("--no-ocrmypdf", action="store_true")
    ap.add_argument("--process-pool", action="store_true", help="also time our OCR with a process pool")
    ap.add_argument("--keep", type=Path, help="keep the work files in this folder")
    a = ap.parse_args()
    cores = a.jobs
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    tmp = Path(tempfile.mkdtemp(prefix="bench-split-ocr-"))
    load_before = os.getloadavg()
    try:
        pdf = build_pdf(a.pages, tmp)
        cpu, limit = cpu_limit(tmp, a.pages, cores, env)
        print(f"{a.pages} pages ({pdf.stat().st_size / 1e6:.0f} MB PDF), {cores} cores, "
              f"load average before {load_before[0]:.2f}")
        print(f"limit: {cpu:.1f} s of single-thread Tesseract CPU / {cores} = {limit:.1f} s "
              f"({a.pages / limit * 60:.0f} pages/min)")

        py = [sys.executable, "-m", "transcribe"]
        out = tmp / "pages"
        t_split, m_split, c_split = run_measured([*py, "split", str(pdf), "-o", str(out), "-j", str(cores), "-q"],
                                                 env)
        t_ocr, m_ocr, c_ocr = run_measured([*py, "ocr", str(out), "--models", MODEL, "--fast", "-j", str(cores),
                                            "-q"], env)
        ours = t_split + t_ocr
        print(f"ours: split {t_split:.1f} s + ocr {t_ocr:.1f} s = {ours:.1f} s wall; CPU split {c_split:.1f} s, "
              f"ocr {c_ocr:.1f} s; peak memory split {m_split / 1e6:.0f} MB, ocr {m_ocr / 1e6:.0f} MB")
        print(f"  OCR alone      {t_ocr / limit:.2f}x the limit   (target <= 1.10)")
        print(f"  split + OCR    {ours / limit:.2f}x the limit   (target <= 1.25)")
        print(f"  peak memory    {max(m_split, m_ocr) / 1e6:.0f} MB           (target < 500)")
        print(f"  CPU spent      {(c_split + c_ocr) / cpu:.2f}x plain Tesseract's (what the load cannot inflate much)")

        if not a.no_ocrmypdf:
            t_om, m_om, c_om = run_measured(
                ["ocrmypdf", "--jobs", str(cores), "-l", MODEL, "--sidecar", str(tmp / "om.txt"),
                 "--output-type", "pdf", "--optimize", "0", "-q", str(pdf), str(tmp / "om.pdf")], env)
            print(f"ocrmypdf: {t_om:.1f} s = {t_om / limit:.2f}x the limit, CPU {c_om:.1f} s "
                  f"({c_om / cpu:.2f}x plain Tesseract's), peak memory {m_om / 1e6:.0f} MB; "
                  f"ours takes {ours / t_om:.2f}x its time")
        if a.naive_pages:
            k = min(a.naive_pages, a.pages)
            t_nv = naive(pdf, k)
            est = t_nv / k * a.pages
            print(f"naive loop: {t_nv:.1f} s for {k} page(s), extrapolated to {a.pages}: {est:.0f} s "
                  f"= {est / limit:.1f}x the limit")
        if a.process_pool:
            runs: dict[str, list[tuple[float, float]]] = {"thread": [], "process": []}
            for kind in ("thread", "process", "process", "thread"):  # ABBA: load drifts cancel out
                runs[kind].append(pool_ocr(out, cores, kind))
            for kind, r in runs.items():
                print(f"our OCR in-process, {kind} pool: wall {' '.join(f'{w:.1f}' for w, _ in r)} s "
                      f"({sum(w for w, _ in r) / len(r) / limit:.2f}x the limit), "
                      f"CPU {' '.join(f'{c:.1f}' for _, c in r)} s")
        load_after = os.getloadavg()
        print(f"load average after {load_after[0]:.2f} (1 min), {load_after[1]:.2f} (5 min)")
    finally:
        if a.keep:
            shutil.copytree(tmp, a.keep, dirs_exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
