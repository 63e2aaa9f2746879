"""A real HTTP file server on 127.0.0.1 (http.server in a thread) that can misbehave on purpose.

It serves files from a folder, with or without Range support, and can be told to answer the next request(s) for a
path with a fault: 429 or 503 with Retry-After ("429:1"), a 5xx ("500"), a connection dropped in the middle of
the body ("drop"), an HTML login page ("html"), a body sent slowly ("slow:3", over 3 seconds). It records every request (path, Range header, status), so tests can count what was asked.

    with FileServer(folder) as srv:
        srv.faults["/x.bin"] = ["429:1", "drop"]     # first request 429 Retry-After: 1, second dropped mid-body
        fetch(srv.url("x.bin"), dest)
        srv.requests_for("/x.bin")
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LOGIN_PAGE = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body><form>Login</form></body></html>"


@dataclass
class Logged:
    path: str
    range: str | None
    status: int
    agent: str | None = None


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hung up (killed on purpose) is not news


class FileServer:
    def __init__(self, root: Path, *, ranges: bool = True, port: int = 0) -> None:
        self.root = Path(root)
        self.ranges = ranges  # honour Range (206), or ignore it (200, whole file)
        self.faults: dict[str, list[str]] = {}  # path -> one fault per coming request, in order
        self.login: set[str] = set()  # paths answered 401 always
        self.log: list[Logged] = []
        self._lock = threading.Lock()
        self._httpd = _QuietServer(("127.0.0.1", port), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> FileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def base(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    def requests_for(self, path: str) -> list[Logged]:
        with self._lock:
            return [e for e in self.log if e.path == path]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection: a dropped body is a closed socket

            def log_message(self, *args: object) -> None:
                pass

            def _record(self, status: int) -> None:
                with server._lock:
                    server.log.append(Logged(self.path, self.headers.get("Range"), status, self.headers.get("User-Agent")))

            def _plain(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
                       ctype: str = "text/plain") -> None:
                self._record(status)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                with server._lock:
                    queue = server.faults.get(self.path)
                    fault = queue.pop(0) if queue else None
                if self.path in server.login:
                    return self._plain(401, b"login required", {"WWW-Authenticate": 'Basic realm="x"'})
                if fault and fault.split(":")[0] in ("429", "503"):
                    code, _, after = fault.partition(":")
                    return self._plain(int(code), b"busy", {"Retry-After": after} if after else {})
                if fault and fault.isdigit():
                    return self._plain(int(fault), b"error")
                if fault == "html":
                    return self._plain(200, LOGIN_PAGE, ctype="text/html; charset=utf-8")
                path = (server.root / self.path.lstrip("/")).resolve()
                if not path.is_file() or server.root.resolve() not in path.parents:
                    return self._plain(404, b"not found")
                data = path.read_bytes()
                start, status = 0, 200
                rng = self.headers.get("Range")
                if rng and server.ranges and rng.startswith("bytes=") and rng.endswith("-"):
                    start = int(rng[6:-1])
                    if start >= len(data):
                        return self._plain(416, b"", {"Content-Range": f"bytes */{len(data)}"})
                    status = 206
                body = data[start:]
                self._record(status)
                self.send_response(status)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                if server.ranges:
                    self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                if fault == "drop":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.connection.shutdown(2)  # the socket closes with the body half sent
                    return None
                if fault and fault.startswith("slow"):  # "slow:SECONDS" spread over the body, 64 KiB at a time
                    chunks = [body[i:i + 65536] for i in range(0, len(body), 65536)]
                    pause = float(fault.partition(":")[2] or 2) / max(1, len(chunks))
                    for chunk in chunks:
                        self.wfile.write(chunk)
                        self.wfile.flush()
                        time.sleep(pause)
                    return None
                self.wfile.write(body)
                return None

        return Handler
