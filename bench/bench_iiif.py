"""Benchmark: `transcribe split MANIFEST` of a 100-page IIIF manifest against `curl` fetching the same images.

    .venv/bin/python bench/bench_iiif.py [--pages 100] [--jobs 4] [--rounds 2] [--keep DIR]

The images are served on 127.0.0.1 by the IIIF Image API reference implementation (tests/iiifserver.py: the same
real server the tests use), from corpus pages under one identifier per canvas; the manifest is Presentation 3.0
with Image API 3.0 services. Both sides ask for the same `{service}/full/max/0/default.jpg` addresses with the same
parallelism (`--jobs`, and `curl --parallel --parallel-max`), in the same run, alternately (`--rounds` each;
the best round of each is compared). The server makes every image on demand, for both.

Reported: the wall-time ratio transcribe / curl (issue 15: at most 1.2 x), transcribe's peak memory (max RSS of
the process, issue 15: under 300 MB), the image requests of a second run over the finished folder (issue 15: 0),
and the requests per page (image and info.json requests seen by the server, over the pages). Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.iiifserver import IIIFServer  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus"
if not CORPUS.is_dir():
    CORPUS = Path("/work/shared/corpus")
PAGES = ["ajmc_campbell1881_0035.png", "ajmc_schneidewin1853_0016.png", "ajmc_campbell1881_0063.png",
         "ajmc_schneidewin1853_0017.png"]


def manifest(base: str, n: int) -> dict:
    """A Presentation 3.0 manifest of `n` canvases, each painted with its own Image API 3.0 service."""
    items = []
    for i in range(1, n + 1):
        service = f"{base}/3.0_pil/p{i:03d}"
        items.append({
            "id": f"{base}/canvas/{i}", "type": "Canvas", "label": {"none": [str(i)]}, "width": 1390, "height": 2392,
            "items": [{"id": f"{base}/page/{i}", "type": "AnnotationPage", "items": [{
                "id": f"{base}/anno/{i}", "type": "Annotation", "motivation": "painting",
                "target": f"{base}/canvas/{i}",
                "body": {"id": f"{service}/full/max/0/default.jpg", "type": "Image", "format": "image/jpeg",
                         "service": [{"id": service, "type": "ImageService3", "profile": "level1"}]}}]}]})
    return {"@context": "http://iiif.io/api/presentation/3/context.json", "id": f"{base}/manifest.json",
            "type": "Manifest", "label": {"en": ["Benchmark book"]}, "items": items}


def server_requests(log: Path, start: int) -> tuple[int, int]:
    """(image requests, info.json requests) the server logged after byte `start` of its log."""
    text = log.read_bytes()[start:].decode("utf-8", "replace")
    images = len(re.findall(r'"GET /3\.0_pil/p\d+/full/', text))
    infos = len(re.findall(r'"GET /3\.0_pil/p\d+/info\.json', text))
    return images, infos


def run_transcribe(manifest_path: Path, out: Path, jobs: int) -> tuple[float, int]:
    """Wall seconds and peak RSS (MB) of `transcribe split` in its own process."""
    cmd = [sys.executable, "-m", "transcribe", "split", str(manifest_path), "-o", str(out), "--jobs", str(jobs),
           "--quiet"]
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, err = proc.communicate()
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"transcribe split failed ({proc.returncode}): {err.decode()[-2000:]}")
    # ru_maxrss of the children waited for so far: the largest is a transcribe run (curl is far smaller).
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024


def run_curl(urls: list[str], out: Path, jobs: int) -> float:
    out.mkdir(parents=True)
    config = out / "curl.cfg"
    config.write_text("".join(f'url = "{u}"\noutput = "{out}/{i:04d}.jpg"\n' for i, u in enumerate(urls, 1)))
    t = time.perf_counter()
    subprocess.run(["curl", "--silent", "--no-progress-meter", "--fail", "--parallel", "--parallel-max", str(jobs),
                    "--config", str(config)], check=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=100)
    ap.add_argument("--jobs", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--keep", type=Path, help="keep the work folder here")
    args = ap.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-iiif-"))
    shutil.rmtree(work, ignore_errors=True)
    images = work / "images"
    images.mkdir(parents=True)
    for i in range(1, args.pages + 1):
        (images / f"p{i:03d}.png").symlink_to(CORPUS / PAGES[i % len(PAGES)])
    log = work / "server.log"
    srv = IIIFServer(images, log=log, quiet=False)
    srv.start()
    try:
        m = work / "manifest.json"
        m.write_text(json.dumps(manifest(srv.base_url, args.pages)))
        urls = [f"{srv.base_url}/3.0_pil/p{i:03d}/full/max/0/default.jpg" for i in range(1, args.pages + 1)]
        ours, theirs, peak = [], [], 0
        requests_first = (0, 0)
        for r in range(args.rounds):
            theirs.append(run_curl(urls, work / f"curl{r}", args.jobs))
            start = log.stat().st_size
            wall, rss = run_transcribe(m, work / f"pages{r}", args.jobs)
            ours.append(wall)
            peak = max(peak, rss)
            if r == 0:
                requests_first = server_requests(log, start)
        # identical bytes: transcribe's pages are what curl received
        same = sum((work / "pages0" / f"{i:04d}.jpg").read_bytes() == (work / "curl0" / f"{i:04d}.jpg").read_bytes()
                   for i in range(1, args.pages + 1))
        start = log.stat().st_size
        second_wall, _ = run_transcribe(m, work / "pages0", args.jobs)
        second = server_requests(log, start)
    finally:
        srv.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    best_ours, best_theirs = min(ours), min(theirs)
    print(f"IIIF split of a {args.pages}-page manifest (Image API 3.0, reference server on 127.0.0.1), "
          f"{args.jobs} at a time, best of {args.rounds}:")
    print(f"  transcribe split  {best_ours:6.2f} s   (rounds: {', '.join(f'{x:.2f}' for x in ours)})")
    print(f"  curl --parallel   {best_theirs:6.2f} s   (rounds: {', '.join(f'{x:.2f}' for x in theirs)})")
    print(f"  ratio             {best_ours / best_theirs:6.2f} x   (target <= 1.2 x)")
    print(f"  peak memory       {peak:6d} MB  (max RSS of transcribe split; target < 300 MB)")
    print(f"  pages identical to curl's bytes: {same}/{args.pages}")
    print(f"  requests per page {sum(requests_first) / args.pages:6.2f}     ({requests_first[0]} image, "
          f"{requests_first[1]} info.json for {args.pages} pages)")
    print(f"  second run        {second[0]} image requests, {second[1]} info.json, {second_wall:.2f} s "
          "(target: 0 image requests)")


if __name__ == "__main__":
    os.environ.setdefault("TRANSCRIBE_CONTACT", "bench@transcribe.invalid")
    main()
