"""A real IIIF Image API server for the tests, a fault-injecting proxy in front of it, and manifests pointed at it.

The server is the IIIF Image API reference implementation (`iiif` on PyPI, `iiif_testserver.py`: API 1.1, 2.1 and
3.0, with the IIIF Authentication 1.0 'basic' pattern under its own prefix), serving a few corpus pages from a
folder on 127.0.0.1. Nothing of it is faked; the proxy only forwards, counts and breaks requests on demand:

    with IIIFServer(images) as srv, IIIFProxy(srv.base_url) as proxy:
        proxy.base_url + "/3.0_pil/p1/full/max/0/default.jpg"
        proxy.faults["/2.1_pil/p2/"] = ["404"]           # the next request for that path: 404
        proxy.faults["/2.1_pil/p3/"] = ["429:1", "503:0"]  # then 429 Retry-After: 1, then 503 Retry-After: 0
        proxy.faults["/2.1_pil/p4/"] = ["cut"]           # the body stops half way (the full length announced)
        proxy.faults["/2.1_pil/p5/"] = ["short"]         # half the image, announced as complete (a bad server)
        proxy.completed("/full/")                         # image answers sent in full
        srv.stop(); srv.start()                           # the server stopped and started again (proxy: 502)

`rewrite_manifest` writes a copy of a real manifest whose image services point at the proxy, one served image
per canvas (cycling through the folder), optionally keeping only some canvases.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

from tests.wikiserver import _die_with_parent, free_port

SERVER = Path(sys.executable).parent / "iiif_testserver.py"
VERSIONS = {1: "1.1", 2: "2.1", 3: "3.0"}


class IIIFServer:
    """The reference IIIF Image API server on 127.0.0.1, serving the images of `folder` (identifier = file stem)."""

    def __init__(self, folder: Path, *, port: int | None = None, log: Path | None = None,
                 quiet: bool = True) -> None:
        self.folder = Path(folder)
        self.quiet = quiet  # False: the server logs every request (the benchmark counts them)
        self.port = port or free_port()
        self.log = log or self.folder.parent / "iiif-server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def prefix(self, version: int, auth: bool = False) -> str:
        return f"{VERSIONS[version]}_pil" + ("_basic" if auth else "")

    def start(self, timeout: float = 20) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, str(SERVER), "--host", "127.0.0.1", "--port", str(self.port), "--image-dir",
                 str(self.folder), "--api-versions", "1.1,2.1,3.0", "--manipulators", "pil",
                 "--auth-types", "none,basic", "--auth", *(["--quiet"] if self.quiet else [])],
                stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent,
                cwd=self.folder.parent)  # it writes iiif_testserver.pid into its working folder
        first = sorted(p.stem for p in self.folder.iterdir())[0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base_url}/2.1_pil/{first}/info.json", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"the IIIF server stopped at start: {self.log.read_text()[-2000:]}")
            time.sleep(0.1)
        raise RuntimeError(f"the IIIF server did not answer in {timeout} s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Logged:
    path: str
    status: int
    sent: int  # body bytes sent
    complete: bool  # the whole body (as announced) reached the client
    fault: str | None = None
    agent: str | None = None  # the User-Agent header


class IIIFProxy:
    """Forwards GETs to the IIIF server, logs them, and answers with a fault when told to (see module doc)."""

    def __init__(self, upstream: str, *, delay: float = 0.0) -> None:
        m = re.match(r"http://([^:/]+):(\d+)", upstream)
        assert m, upstream
        self.host, self.port_up = m.group(1), int(m.group(2))
        self.delay = delay  # seconds to wait before each 64 KB block of an image (a slow server)
        self.faults: dict[str, list[str]] = {}
        self.files: dict[str, bytes] = {}  # path -> a document the proxy serves itself (manifests)
        self.log: list[Logged] = []
        self.active = 0  # requests being answered
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="iiif-proxy", daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _fault_for(self, path: str) -> str | None:
        with self._lock:
            for key, queue in self.faults.items():
                if key in path and queue:
                    return queue.pop(0)
        return None

    def _record(self, entry: Logged, agent: str | None = None) -> None:
        entry.agent = agent
        with self._lock:
            self.log.append(entry)

    def images(self, complete: bool = True) -> list[str]:
        """Paths of image requests (not info.json) answered with image bytes (200, or 206 for the rest of a
        part), sent in full (or, complete=False, all of them)."""
        return [e.path for e in list(self.log) if "/full/" in e.path and e.status in (200, 206)
                and (e.complete or not complete)]

    def wait_idle(self, timeout: float = 10) -> None:
        """Wait until no request is being answered (those of a killed client have ended and been logged)."""
        deadline = time.monotonic() + timeout
        while self.active and time.monotonic() < deadline:
            time.sleep(0.02)

    def serve(self, name: str, path: Path) -> str:
        """Serve the file at `path` as /manifests/<name>; return its address."""
        self.files[f"/manifests/{name}"] = Path(path).read_bytes()
        return f"{self.base_url}/manifests/{name}"

    def count(self, fragment: str = "") -> int:
        return sum(1 for e in list(self.log) if fragment in e.path)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                with proxy._lock:
                    proxy.active += 1
                try:
                    self._get()
                finally:
                    with proxy._lock:
                        proxy.active -= 1

            def _get(self) -> None:
                agent = self.headers.get("User-Agent")
                if self.path in proxy.files:
                    self._answer(200, proxy.files[self.path], {"Content-Type": "application/ld+json"})
                    proxy._record(Logged(self.path, 200, len(proxy.files[self.path]), True), agent)
                    return
                fault = proxy._fault_for(self.path)
                if fault is not None and re.fullmatch(r"\d{3}(:\d+)?", fault):
                    status, _, after = fault.partition(":")
                    headers = {"Content-Type": "text/plain"}
                    if after:
                        headers["Retry-After"] = after
                    self._answer(int(status), f"fault {fault}\n".encode(), headers)
                    proxy._record(Logged(self.path, int(status), 0, True, fault), agent)
                    return
                conn = http.client.HTTPConnection(proxy.host, proxy.port_up, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                    conn.request("GET", self.path, headers=headers)
                    resp = conn.getresponse()
                    body = resp.read()
                except OSError:  # the server is down: what a reverse proxy says
                    conn.close()
                    self._answer(502, b"Bad Gateway (the IIIF server does not answer)\n",
                                 {"Content-Type": "text/plain"})
                    proxy._record(Logged(self.path, 502, 0, True, "down"), agent)
                    return
                conn.close()
                self.send_response(resp.status, resp.reason)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                if fault == "short":
                    body = body[: len(body) // 2]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                sent = 0
                limit = len(body) // 2 if fault == "cut" else len(body)
                try:
                    while sent < limit:
                        if proxy.delay and "/full/" in self.path:
                            time.sleep(proxy.delay)
                        block = body[sent:min(limit, sent + 65536)]
                        self.wfile.write(block)
                        sent += len(block)
                    self.wfile.flush()
                except OSError:  # the client went away (killed)
                    proxy._record(Logged(self.path, resp.status, sent, False, fault), agent)
                    self.close_connection = True
                    return
                if fault == "cut":
                    self.close_connection = True
                proxy._record(Logged(self.path, resp.status, sent, sent == len(body), fault), agent)

        return Handler

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- manifests pointed at the local server ------------------------------------------------------------------------
def _service_version(s: dict[str, Any]) -> int | None:
    text = json.dumps({k: s.get(k) for k in ("@context", "type", "@type", "profile")})
    if "ImageService3" in text or "image/3" in text:
        return 3
    if "ImageService2" in text or "image/2" in text:
        return 2
    if "image-api/1" in text or "image/1" in text or "ImageService1" in text:
        return 1
    return None


def rewrite_manifest(src: Path, dest: Path, base: str, identifiers: list[str], *,
                     keep: Callable[[int], bool] | None = None, auth: bool = False,
                     static_only: bool = False, service_version: int | None = None) -> Path:
    """Copy the manifest at `src` to `dest` with every canvas image served by `base` (the proxy): canvas i gets
    identifier i % len(identifiers). `keep(i)` (0-based) keeps only some canvases; `auth` uses the server's
    login-protected prefix; `static_only` removes the services (the image's own address is then used);
    `service_version` 3 makes every service an Image API 3.0 one (type ImageService3, profile level1)."""
    data = json.loads(Path(src).read_text(encoding="utf-8"))
    v3 = "items" in data and "sequences" not in data
    canvases = data["items"] if v3 else data["sequences"][0]["canvases"]
    if keep is not None:
        canvases[:] = [c for i, c in enumerate(canvases) if keep(i)]
    counter = 0

    def bodies(canvas: dict[str, Any]) -> list[dict[str, Any]]:
        if v3:
            out = []
            for page in canvas.get("items", []):
                for anno in page.get("items", []):
                    b = anno.get("body")
                    for x in b if isinstance(b, list) else [b]:
                        out += x.get("items", []) if x.get("type") == "Choice" else [x]
            return out
        return [img.get("resource", {}) for img in canvas.get("images", [])]

    for canvas in canvases:
        found = False
        for body in bodies(canvas):
            services = body.get("service")
            ident = identifiers[counter % len(identifiers)]
            svc_list = services if isinstance(services, list) else [services] if services else []
            version = service_version or next(
                (v for v in (_service_version(s) for s in svc_list if isinstance(s, dict)) if v), 2)
            service_id = f"{base}/{VERSIONS[version]}_pil{'_basic' if auth else ''}/{ident}"
            for s in svc_list:
                if isinstance(s, dict):
                    s["@id" if "@id" in s else "id"] = service_id
                    if service_version == 3:
                        for k in ("@id", "@type", "@context"):
                            s.pop(k, None)
                        s.update({"id": service_id, "type": "ImageService3", "profile": "level1"})
            body["@id" if "@id" in body else "id"] = f"{service_id}/full/full/0/default.jpg"
            if static_only:
                body.pop("service", None)
            found = True
        if found:
            counter += 1
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    return dest


def environ_for_subprocess() -> dict[str, str]:
    """The environment for `python -m transcribe` in a subprocess (no bar; the tests' own contact)."""
    env = dict(os.environ)
    env["TRANSCRIBE_CONTACT"] = "tests@transcribe.invalid"
    return env
