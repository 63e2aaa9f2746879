"""A IIIF manifest as a scan: each canvas's full image fetched from its Image API service, politely and resumably.

`inspect_manifest(address or .json file)` reads the manifest (`transcribe.iiif.presentation`) and lists one page per
canvas, in order: page n is canvas n, so `Page:<file>/n` stays aligned with the canvas. A canvas without an image
(a lacuna) is a page of kind 'lacuna': reported, skipped, and recorded as a gap. Images behind IIIF Authentication
are refused before anything is fetched.

Which address is asked for each page (one image request per canvas):
- Image API 3.0: `{service}/full/max/0/default.jpg` (`max` is the largest size the server allows);
- 2.x: `{service}/full/full/0/default.jpg`, or the largest size `info.json` allows when it sets `maxWidth`,
  `maxHeight` or `maxArea` (from its `sizes` on a level 0 server): then each canvas's `info.json` is read;
- 1.x: `{service}/full/full/0/native.jpg`; no service: the image resource's own address.
The first service's `info.json` is read once per manifest (authentication, limits); the others only when needed.

The download itself is `transcribe.download.fetch` (User-Agent, Retry-After, backoff, streamed to a `.part`,
atomic rename); a part left by a killed run is dropped, not resumed (the unit of resuming is the whole image).
Each image is checked complete before it is kept (a JPEG kept as it came: its segments walked to the end-of-image
marker, `jpeg_problem`; anything else: decoded in full); a truncated image is fetched once more, then fails its
page. A JPEG is kept byte for byte as the page (`--format auto`). A page that cannot be had fails alone
(`PageUnavailable`); a login wanted (401/403, a login page) stops the run with advice (`NeedsLogin`). At most
`--jobs` (4) image requests are in flight; two more threads check what has arrived meanwhile. Finished images are
recorded in the state (`iiif_images`: address, size, SHA-1), so a resumed run asks only for what is missing.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from transcribe import download
from transcribe.errors import InputError
from transcribe.fsutil import sha1_file
from transcribe.iiif.presentation import ImageRef, Presentation, read_presentation
from transcribe.split.inputs import Scan
from transcribe.split.pages import EXTENSIONS, Job, Made, SourcePage, _save, dpi_of, open_image

KIND = "iiif"
LACUNA = "lacuna"
DOWNLOADS = ".iiif-download"  # images being fetched (a part left by a killed run is dropped, see above)
JOBS = 4  # images fetched at a time, unless --jobs says otherwise: polite to the library's server
LOGIN_HINT = ("transcribe does not log in to image servers. Ask the library for open access (or a manifest of "
              "the open images), or download the images in a browser where you are logged in and split that "
              "folder.")


class PageUnavailable(Exception):
    """One page could not be had (not found, failed after retries, damaged twice); the others go on."""

    def __init__(self, n: int, reason: str) -> None:
        self.n = n
        self.reason = reason
        super().__init__(f"page {n}: {reason}")


@dataclass(frozen=True)
class Got:
    """What was fetched for a page: recorded in the state by the parent (workers never touch SQLite)."""

    url: str
    size: int
    sha1: str


def manifest_name(source: str) -> str:
    """A short name for messages: the local file's name, or the address."""
    return source if re.match(r"(?i)https?://", source) else Path(source).name


def inspect_manifest(source: str, *, session: Any = None) -> tuple[Presentation, Fetcher]:
    """Read the manifest and get ready to fetch its images (refusing images behind a login)."""
    s = session if session is not None else download.session()
    pres = read_presentation(source, session=s)
    name = manifest_name(source)
    guarded = [c for c in pres.canvases if c.image is not None and c.image.auth]
    if guarded:
        c = guarded[0]
        raise download.NeedsLogin(
            f"The images of {name} need a login: canvas {c.position} ({c.label or c.id}) names a IIIF "
            f"Authentication service ({c.image.auth[0]}" + (f", {len(guarded)} canvases in all" if len(guarded) > 1
                                                            else "") + ").",
            url=source, hint=LOGIN_HINT)
    fetcher = Fetcher(pres, s)
    fetcher.probe()
    return pres, fetcher


def inspect_iiif(source: str, *, session: Any = None) -> Scan:
    """The manifest as a scan: one page per canvas (lacunae too, as pages of kind 'lacuna')."""
    pres, fetcher = inspect_manifest(source, session=session)
    pages = []
    for c in pres.canvases:
        if c.image is None:
            pages.append(SourcePage(c.position, LACUNA, source, f"canvas {c.position} ({c.label or c.id})",
                                    ref=c.id))
            continue
        ref = page_ref(c.image)
        pages.append(SourcePage(c.position, KIND, source, c.image.service or c.image.static or c.id, ref=ref,
                                fingerprint=fingerprint(c.id, ref)))
    notes = []
    if pres.lacunae:
        from transcribe.bundle.pages import page_ranges  # at call time: bundle reads split's pages


        notes.append(f"{len(pres.lacunae)} of the {len(pres.canvases)} canvases of {fetcher.name} have no image "
                     f"(lacunae: canvas {page_ranges(list(pres.lacunae))}); they are skipped, and every page "
                     "keeps its canvas's number (Page:<file>/n is canvas n).")
    local = not re.match(r"(?i)https?://", source)
    return Scan(Path(source) if local else Path(manifest_name(source)), KIND, pages, notes,
                address=None if local else source, maker=fetcher)


def page_ref(image: ImageRef) -> str:
    return json.dumps(asdict(image), sort_keys=True)


def _ref(text: str) -> ImageRef:
    d = json.loads(text)
    d["auth"] = tuple(d.get("auth") or ())
    return ImageRef(**d)


def _is_image_type(ctype: str | None) -> bool:
    """What may be kept as an image: image/*, or no type at all (the bytes are decoded anyway)."""
    if not ctype:
        return True
    main = ctype.split(";")[0].strip().lower()
    return main.startswith("image/") or main in ("application/octet-stream", "binary/octet-stream")


# -- the Image API -------------------------------------------------------------------------------------------------
def full_image_url(service: str, version: int | None) -> str:
    """The address of the full image at the largest size the server gives without further information."""
    if version == 3:
        return f"{service}/full/max/0/default.jpg"
    if version == 1:
        return f"{service}/full/full/0/native.jpg"
    return f"{service}/full/full/0/default.jpg"


def info_limits(info: dict[str, Any]) -> tuple[int | None, int | None, int | None]:
    """maxWidth, maxHeight, maxArea of an info.json (3.0: top level; 2.x: in the profile's objects)."""
    where: list[dict[str, Any]] = [info]
    profile = info.get("profile")
    if isinstance(profile, list):
        where += [p for p in profile if isinstance(p, dict)]
    values: dict[str, int | None] = {"maxWidth": None, "maxHeight": None, "maxArea": None}
    for d in where:
        for k in values:
            if values[k] is None and isinstance(d.get(k), (int, float)) and d[k] > 0:
                values[k] = int(d[k])
    mw, mh = values["maxWidth"], values["maxHeight"]
    if mw is not None and mh is None:
        mh = mw  # the Image API: maxHeight defaults to maxWidth
    return mw, mh, values["maxArea"]


def largest_allowed(info: dict[str, Any], version: int | None) -> str | None:
    """The size parameter for the largest image `info.json` allows, or None when the full size is allowed."""
    try:
        width, height = int(info["width"]), int(info["height"])
    except (KeyError, TypeError, ValueError):
        return None
    mw, mh, ma = info_limits(info)
    scale = 1.0
    if mw:
        scale = min(scale, mw / width)
    if mh:
        scale = min(scale, mh / height)
    if ma:
        scale = min(scale, math.sqrt(ma / (width * height)))
    if scale >= 1.0:
        return None
    w, h = max(1, math.floor(width * scale)), max(1, math.floor(height * scale))
    profile = " ".join(p for p in (info.get("profile") if isinstance(info.get("profile"), list)
                                   else [info.get("profile")]) if isinstance(p, str))
    sizes = [(int(s["width"]), int(s["height"])) for s in info.get("sizes") or []
             if isinstance(s, dict) and isinstance(s.get("width"), int) and isinstance(s.get("height"), int)]
    if re.search(r"level0", profile) and sizes:
        fitting = [s for s in sizes if s[0] <= w and s[1] <= h] or [min(sizes)]
        w, h = max(fitting, key=lambda s: s[0] * s[1])
    if version == 3:
        return "max"  # the server scales to its own limits
    return f"{w},"  # 2.x level 1: sizeByW


class Fetcher:
    """Fetches the image of one canvas (called in worker threads by the split stage)."""

    def __init__(self, pres: Presentation, session: Any) -> None:
        self.pres = pres
        self.session = session
        self.name = manifest_name(pres.source)
        self.per_image_info = False  # read every canvas's info.json (the server limits sizes)
        self.got: dict[int, Got] = {}
        self._lock = threading.Lock()
        self._infos: dict[str, dict[str, Any]] = {}
        self._slots = threading.BoundedSemaphore(JOBS)  # requests in flight at once

    def at_once(self, n: int) -> int:
        """Allow `n` image requests in flight; return how many threads to run: a thread that checks an image it
        received (decoding takes ~30 ms) does not hold a request slot, so the server always has `n` to answer."""
        self._slots = threading.BoundedSemaphore(n)
        return n + 2

    # -- info.json ---------------------------------------------------------------------------------------------
    def info(self, service: str) -> dict[str, Any]:
        with self._lock:
            if service in self._infos:
                return self._infos[service]
        with self._slots:
            data = download.get_json(f"{service}/info.json", session=self.session)
        if not isinstance(data, dict):
            raise InputError(f"{service}/info.json is not an Image API description (not a JSON object).")
        with self._lock:
            self._infos[service] = data
        return data

    def probe(self) -> None:
        """Read the first service's info.json: a login wanted, or limits that make every info.json needed."""
        first = next((c for c in self.pres.canvases if c.image is not None and c.image.service), None)
        if first is None or first.image is None or first.image.service is None:
            return
        service = first.image.service
        try:
            info = self.info(service)
        except download.NeedsLogin as e:
            raise download.NeedsLogin(f"The images of {self.name} need a login: {e.message}", url=e.url,
                                      status=e.status, hint=LOGIN_HINT) from None
        except (download.DownloadError, InputError):
            return  # the image requests will tell what is wrong, page by page
        auth = _auth_services(info)
        if auth:
            raise download.NeedsLogin(
                f"The images of {self.name} need a login: the image server names a IIIF Authentication "
                f"service ({auth[0]}) for canvas {first.position} ({first.label or first.id}).",
                url=f"{service}/info.json", hint=LOGIN_HINT)
        said = info.get("id") or info.get("@id")
        if isinstance(said, str) and said.rstrip("/") != service and _degraded(said, service):
            raise download.NeedsLogin(
                f"The images of {self.name} need a login: the image server sent {said} in place of {service} "
                "(a degraded image for visitors who are not logged in).", url=f"{service}/info.json",
                hint=LOGIN_HINT)
        self.per_image_info = largest_allowed(info, first.image.service_version) not in (None, "max")

    def url_for(self, image: ImageRef) -> str:
        if not image.service:
            if not image.static:
                raise InputError("a canvas image has neither a service nor an address")
            return image.static
        size = None
        if self.per_image_info and image.service_version != 3:
            size = largest_allowed(self.info(image.service), image.service_version)
        if size is None:
            return full_image_url(image.service, image.service_version)
        quality = "native" if image.service_version == 1 else "default"
        return f"{image.service}/full/{size}/0/{quality}.jpg"

    # -- one page ----------------------------------------------------------------------------------------------
    def __call__(self, job: Job) -> Made:
        page = job.page
        image = _ref(page.ref)
        parts = Path(job.scratch).parent / DOWNLOADS
        parts.mkdir(exist_ok=True)
        try:
            url = self.url_for(image)
        except download.NeedsLogin as e:
            raise download.NeedsLogin(f"Page {page.n} of {self.name}: {e.message}", url=e.url, status=e.status,
                                      hint=LOGIN_HINT) from None
        except (download.DownloadError, InputError) as e:
            raise PageUnavailable(page.n, str(e.message)) from None
        dest = parts / f"{page.n:04d}-{hashlib.sha1(url.encode()).hexdigest()[:12]}.img"
        problem = ""
        if dest.is_file():  # fetched in full by a run that was stopped before keeping it: not asked again
            try:
                size, digest = dest.stat().st_size, sha1_file(dest)
                made = self._make(dest, job)
                self.got[page.n] = Got(url, size, digest)
                return made
            except InputError:
                dest.unlink(missing_ok=True)
        # A part left by a stopped run is not resumed: an image server makes its images on demand, and two answers
        # (or a Range answer from a server that labels it 200, as the reference implementation does) need not
        # fit together. The unit of resuming is the whole image.
        dest.with_name(dest.name + ".part").unlink(missing_ok=True)
        for _attempt in range(2):
            try:
                with self._slots:
                    fetched = download.fetch(url, dest, session=self.session, expect=_is_image_type)
            except download.NeedsLogin as e:
                raise download.NeedsLogin(f"Page {page.n} of {self.name}: {e.message}", url=e.url,
                                          status=e.status, hint=LOGIN_HINT) from None
            except download.DownloadError as e:
                raise PageUnavailable(page.n, e.message) from None
            try:
                made = self._make(dest, job)
            except InputError as e:  # damaged or truncated: asked once more, from the start
                problem = e.message
                dest.unlink(missing_ok=True)
                continue
            self.got[page.n] = Got(url, fetched.size, fetched.sha1)
            return made
        raise PageUnavailable(page.n, f"the image from {url} was damaged twice ({problem})")

    def _make(self, dest: Path, job: Job) -> Made:
        """Check the downloaded image (a JPEG kept: complete to its end marker; else decoded in full), then keep
        its bytes (JPEG, or PNG when PNG is wanted) or convert it losslessly. InputError when it is damaged."""
        s = job.settings
        label = f"page {job.page.n} of {self.name}"
        tmp = Path(job.scratch) / f"{job.page.n:04d}"
        with open_image(dest, label, s.max_pixels) as im:
            width, height, dpi, fmt = im.width, im.height, dpi_of(im), im.format
            if fmt == "JPEG" and s.keeps_jpeg(im):
                keep: Path | None = tmp.with_suffix(EXTENSIONS["jpeg"])
                problem = jpeg_problem(dest.read_bytes())
                if problem:
                    raise InputError(f"{label} is damaged or truncated ({problem}).")
            elif fmt == "PNG" and s.out_fmt == "png" and (not s.gray or im.mode in ("1", "L")):
                keep = tmp.with_suffix(EXTENSIONS["png"])
            else:
                keep = None
            try:
                if keep is None or fmt != "JPEG":
                    im.load()  # decoded in full: a PNG kept, or an image converted
            except (OSError, SyntaxError, ValueError) as e:
                raise InputError(f"{label} is damaged or truncated ({e}).") from e
            if keep is None:
                made = _save(im, tmp.with_suffix(EXTENSIONS[s.out_fmt]), s, dpi, "converted", label)
                dest.unlink(missing_ok=True)
                return made
        os.replace(dest, keep)  # the page IS the downloaded bytes
        return Made(str(keep), width, height, dpi, "downloaded")


def jpeg_problem(data: bytes) -> str | None:
    """What makes a JPEG file incomplete, or None: its segments are walked from the start-of-image marker to the
    end-of-image marker, which must end the file. A cut file has no end marker (inside the compressed data an FF
    byte is always followed by 00 or a restart marker, so a cut cannot fake one). As sure as decoding the file for
    truncation, and 100 times cheaper (decoding a 3-megapixel page costs ~30 ms of CPU, measured to slow a
    100-page download by 1.25 x against curl on a busy 2-core machine)."""
    n = len(data)
    if not data.startswith(b"\xff\xd8"):
        return "no start-of-image marker"
    pos = 2
    while True:
        if pos + 2 > n:
            return f"the file stops after {n} bytes, before its end marker"
        if data[pos] != 0xFF:
            return f"no marker at byte {pos}"
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:  # end of image
            return None
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        if pos + 4 > n:
            return f"the file stops after {n} bytes, inside a marker"
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        pos += 2 + length
        if pos > n:
            return f"the file stops after {n} bytes, inside a segment"
        if marker == 0xDA:  # start of scan: compressed data up to the next marker that is not 00 or a restart
            while True:
                pos = data.find(b"\xff", pos)
                if pos < 0 or pos + 1 >= n:
                    return f"the file stops after {n} bytes, inside the compressed data"
                follower = data[pos + 1]
                if follower == 0x00 or 0xD0 <= follower <= 0xD7:
                    pos += 2
                    continue
                break


def _degraded(said: str, service: str) -> bool:
    """Whether the info.json answered for another image than the one asked (the auth 'degraded' pattern)."""
    return said.rstrip("/").rsplit("/", 1)[-1] != service.rsplit("/", 1)[-1]


def _auth_services(info: dict[str, Any]) -> list[str]:
    found = []

    def walk(value: Any) -> None:
        for s in value if isinstance(value, list) else [value]:
            if not isinstance(s, dict):
                continue
            text = " ".join(str(s.get(k) or "") for k in ("profile", "type", "@type", "@context"))
            if re.search(r"api/auth/|AuthCookieService|AuthAccessService|AuthProbeService", text):
                found.append(str(s.get("id") or s.get("@id") or text.strip()))
            walk(s.get("service"))

    walk(info.get("service"))
    walk(info.get("services"))
    return found


def fingerprint(canvas_id: str, ref: str) -> str:
    return hashlib.sha1(f"{canvas_id}|{ref}".encode()).hexdigest()


# -- the record in the state ---------------------------------------------------------------------------------------
def record_image(store: Any, work: Any, page: SourcePage, got: Got, image: str, sha1: str, key: str) -> None:
    """Remember a finished image: what was asked, its size and SHA-1, the page file it became and the page key
    (split's settings) it was made with."""
    with store.tx() as c:
        c.execute("INSERT INTO iiif_images (work_id, n, canvas, url, size, sha1, image, image_sha1, key)"
                  " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (work_id, n) DO UPDATE SET canvas = excluded.canvas,"
                  " url = excluded.url, size = excluded.size, sha1 = excluded.sha1, image = excluded.image,"
                  " image_sha1 = excluded.image_sha1, key = excluded.key,"
                  " fetched = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
                  (work.id, page.n, page.source, got.url, got.size, got.sha1, image, sha1, key))


def remember(store: Any, work: Any, scan: Scan, out_dir: Path, done: dict[int, Any], keys: dict[int, str]) -> None:
    """Record in the state the images of finished pages it does not know yet (a run killed between its journal
    and the state), by the page file's own size and SHA-1."""
    known = {r[0] for r in store.conn.execute("SELECT n FROM iiif_images WHERE work_id = ?", (work.id,))}
    for n, page in done.items():
        if n in known or n > len(scan.pages) or scan.pages[n - 1].kind != KIND or page.method != "downloaded":
            continue
        path = out_dir / page.image
        if path.is_file():
            record_image(store, work, scan.pages[n - 1], Got(scan.pages[n - 1].source, path.stat().st_size,
                                                             page.sha1), page.image, page.sha1, keys[n])


def known_pages(store: Any, work: Any, scan: Scan, out_dir: Path, wanted: list[int],
                keys: dict[int, str]) -> dict[int, Any]:
    """Pages whose image the state knows as fetched in full (same source, made with the same settings, file still
    there with the same size and SHA-1): kept without asking the server again, even when the journal and
    pages.json are gone."""
    from transcribe.split import PageImage

    rows = {r["n"]: r for r in store.conn.execute(
        "SELECT n, canvas, url, size, sha1, image, image_sha1, key FROM iiif_images WHERE work_id = ?", (work.id,))}
    found: dict[int, Any] = {}
    for n in wanted:
        r, page = rows.get(n), scan.pages[n - 1]
        if r is None or page.kind != KIND or r["canvas"] != page.source or r["key"] != keys[n]:
            continue
        path = out_dir / r["image"]
        if not path.is_file() or (r["sha1"] == r["image_sha1"] and path.stat().st_size != r["size"]) \
                or sha1_file(path) != r["image_sha1"]:
            continue
        with open_image(path, path.name) as im:
            found[n] = PageImage(n, r["image"], page.source, im.width, im.height, dpi_of(im), r["image_sha1"],
                                 "downloaded")
    return found


def pages_failed(scan: Scan, failed: dict[int, str], total: int) -> Exception:
    from transcribe.errors import PagesFailed

    first = sorted(failed.items())[:3]
    more = f"; and {len(failed) - 3} more" if len(failed) > 3 else ""
    kept = ("The other pages were kept (see pages.json). Run the same command again later to fetch only the "
            "missing ones." if len(failed) < total else
            "No page could be had: check the address and the network, then run the same command again.")
    return PagesFailed(
        f"{len(failed)} of {total} page(s) of {scan.name} could not be downloaded: "
        + "; ".join(f"page {n}: {reason.rstrip('.')}" for n, reason in first) + more + ".", hint=kept)
