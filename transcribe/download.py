"""Downloads: one polite, resumable, checksummed way to fetch a file (models, IIIF images) or a JSON document.

- Polite: a User-Agent naming the tool and a contact (`TRANSCRIBE_CONTACT`, your e-mail or wiki user page;
  the default asks you to set it), Retry-After honoured on 429 and 503 (seconds or an HTTP date, capped at
  `max_wait`), exponential backoff with jitter on connection errors, timeouts and other 5xx answers, no retry
  on 404/410 (`NotFound`) or 401/403 (`NeedsLogin`). A host name that does not resolve fails at once: it will
  not resolve a few seconds later either.
- Resumable: the file is streamed to `<dest>.part` beside `dest`; a later call (after a crash, a dropped
  connection or `kill -9`) asks only for the rest with `Range`. A server that ignores `Range` (answers 200)
  gets the whole file again, written from the start.
- Checked: size, SHA-256 and SHA-1 are computed while streaming (a resumed part is hashed first) and compared with
  what the caller expects; a mismatch removes the part and raises `ChecksumMismatch` (a resumed part that turns
  out wrong is fetched once more from the start first).
- Atomic: the finished part is fsynced and renamed over `dest` (`os.replace`): never half a file under `dest`.
- Bounded memory: chunks of `CHUNK` bytes.

`file:` addresses and plain local paths take the same path: copied in chunks with hashing to the `.part`,
checked, renamed. Nothing here prints; `progress(label, done_bytes, total_bytes)` reports long downloads.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import random
import socket
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import IO, Any

import requests

from transcribe import __version__
from transcribe.errors import ExitCode, InputError, TranscribeError
from transcribe.events import ProgressFn

CHUNK = 1 << 16  # bytes read and written at a time
BACKOFF = 1.0  # seconds before the second attempt, doubled each time, with jitter, capped at max_wait
CONNECT_TIMEOUT = 10.0  # seconds to open a connection (the read timeout is the caller's `timeout`)
PROJECT = "Wikisource scans tool for libraries"
CONTACT_ENV = "TRANSCRIBE_CONTACT"


class DownloadError(TranscribeError):
    """A file or document could not be had. `url` is what was asked, `status` the HTTP status (None: no answer)."""

    exit_code = ExitCode.DOWNLOAD

    def __init__(self, message: str, *, url: str, status: int | None = None, hint: str | None = None) -> None:
        self.url = url
        self.status = status
        super().__init__(message, hint=hint)


class NotFound(DownloadError):
    """404 or 410 (or a local file that does not exist): asking again will not help."""


class NeedsLogin(DownloadError):
    """401/403, or a web page (a login page, most likely) where a file was expected."""


class ChecksumMismatch(DownloadError):
    """The bytes are not the ones expected (size, SHA-256 or SHA-1): nothing was kept."""


@dataclass(frozen=True)
class Fetched:
    url: str
    path: Path
    size: int
    sha1: str
    sha256: str
    content_type: str | None
    requests: int  # HTTP requests made (0 when the finished file was already there as a complete part, or local)
    resumed: bool  # some bytes came from a part left by an earlier attempt or run


def user_agent(contact: str | None = None) -> str:
    contact = contact or os.environ.get(CONTACT_ENV) or f"no contact given: set {CONTACT_ENV}"
    return f"transcribe/{__version__} (+{PROJECT}; {contact}) python-requests/{requests.__version__}"


def session(*, contact: str | None = None) -> requests.Session:
    """A requests session with transcribe's User-Agent (name, version, contact). Share one across downloads."""
    s = requests.Session()
    s.headers["User-Agent"] = user_agent(contact)
    return s


_new_session = session  # fetch's and get_json's parameter `session` hides the function


# -- small helpers --------------------------------------------------------------------------------------------


def is_local(url: str) -> bool:
    """A `file:` address or a plain path (anything without an http(s) scheme)."""
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    return scheme not in ("http", "https")


def local_path(url: str) -> Path:
    """The path a `file:` address or plain path names ('file:///a/b%20c' -> /a/b c; 'file:rel/x' -> rel/x)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() == "file":
        if parts.netloc not in ("", "localhost"):
            raise DownloadError(f"{url}: a file: address on another host cannot be read.", url=url)
        return Path(urllib.request.url2pathname(parts.path))
    return Path(url)


def retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None when absent/unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff(attempt: int, max_wait: float) -> float:
    """Seconds before attempt `attempt + 1`: BACKOFF * 2**attempt, half to all of it (jitter), at most max_wait."""
    delay = min(max_wait, BACKOFF * (2 ** attempt))
    return delay * (0.5 + random.random() / 2)


def _is_html(content_type: str | None) -> bool:
    return bool(content_type) and content_type.split(";")[0].strip().lower() in ("text/html", "application/xhtml+xml")


def _unresolvable(e: BaseException) -> bool:
    """Whether a connection error comes from a host name that does not resolve (no use retrying)."""
    seen = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, socket.gaierror):
            return True
        if "NameResolutionError" in type(e).__name__ or "Name or service not known" in str(e) \
                or "Temporary failure in name resolution" in str(e):
            return True
        e = e.__cause__ or e.__context__ or (e.args[0] if e.args and isinstance(e.args[0], BaseException)
                                             else getattr(e, "reason", None))
    return False


def _refusal(url: str, status: int) -> DownloadError | None:
    """The error for an answer that asking again will not change (404/410, 401/403), or None."""
    if status in (404, 410):
        return NotFound(f"{url}: not found (HTTP {status}).", url=url, status=status,
                        hint="Check the address; the file may have moved.")
    if status in (401, 403):
        return NeedsLogin(f"{url}: the server wants a login (HTTP {status}).", url=url, status=status,
                          hint="transcribe cannot log in to it: get the file another way (a browser with your "
                               "login), then give its local path.")
    return None


def _no_host(url: str) -> DownloadError:
    host = urllib.parse.urlsplit(url).hostname
    return DownloadError(f"{url}: the host {host} cannot be found (no network, or a wrong address).", url=url,
                         hint="Check the address and the network connection.")


class _Hashes:
    def __init__(self) -> None:
        self.sha1 = hashlib.sha1()
        self.sha256 = hashlib.sha256()
        self.size = 0

    def update(self, block: bytes) -> None:
        self.sha1.update(block)
        self.sha256.update(block)
        self.size += len(block)

    @classmethod
    def of_file(cls, f: IO[bytes], length: int) -> _Hashes:
        h = cls()
        f.seek(0)
        while h.size < length and (block := f.read(min(CHUNK, length - h.size))):
            h.update(block)
        return h


def _check(url: str, h: _Hashes, sha256: str | None, sha1: str | None, size: int | None) -> str | None:
    """What is wrong with the bytes, or None."""
    if size is not None and h.size != size:
        return f"{h.size} bytes instead of {size}"
    if sha256 and h.sha256.hexdigest() != sha256.lower():
        return f"SHA-256 {h.sha256.hexdigest()} instead of {sha256.lower()}"
    if sha1 and h.sha1.hexdigest() != sha1.lower():
        return f"SHA-1 {h.sha1.hexdigest()} instead of {sha1.lower()}"
    return None


@contextlib.contextmanager
def _locked_part(part: Path) -> Iterator[IO[bytes]]:
    """The part file opened for reading and writing, locked against another process downloading the same file.

    A second process waits for the first; if the first renamed the part meanwhile, the second opens a new one.
    """
    part.parent.mkdir(parents=True, exist_ok=True)
    while True:
        f = open(part, "a+b")  # noqa: SIM115 - closed below or by the caller's with
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                same = os.stat(part).st_ino == os.fstat(f.fileno()).st_ino
            except FileNotFoundError:
                same = False
        except BaseException:
            f.close()
            raise
        if same:
            break
        f.close()
    try:
        yield f
    finally:
        # an empty part (nothing came: an error answer) is not left behind
        with contextlib.suppress(OSError):
            if os.fstat(f.fileno()).st_size == 0 and os.stat(part).st_ino == os.fstat(f.fileno()).st_ino:
                part.unlink()
        f.close()


def _finish(f: IO[bytes], part: Path, dest: Path) -> None:
    f.flush()
    os.fsync(f.fileno())
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(part, 0o666 & ~umask)
    os.replace(part, dest)


# -- fetching -------------------------------------------------------------------------------------------------


def fetch(url: str, dest: Path, *, sha256: str | None = None, sha1: str | None = None, size: int | None = None,
          session: requests.Session | None = None, retries: int = 5, timeout: float = 60.0,
          max_wait: float = 300.0, expect: Callable[[str | None], bool] | None = None,
          progress: ProgressFn | None = None) -> Fetched:
    """Download `url` (http(s), `file:` or a local path) to `dest`, resumably, checked, atomically.

    `retries`: further attempts after the first one on connection errors, timeouts, 5xx, 429 (and a dropped
    connection mid-body, which resumes). `expect(content_type)` returning False refuses the answer: NeedsLogin when
    it is a web page, else DownloadError. Raises NotFound, NeedsLogin, ChecksumMismatch, DownloadError.
    """
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    local = is_local(url)
    own = session is None and not local
    s = _new_session() if own else session
    try:
        if local or s is None:
            return _copy_local(url, dest, part, sha256=sha256, sha1=sha1, size=size, progress=progress)
        with _locked_part(part) as f:
            return _fetch_http(url, dest, part, f, s, sha256=sha256, sha1=sha1, size=size, retries=retries,
                               timeout=timeout, max_wait=max_wait, expect=expect, progress=progress)
    except requests.exceptions.RequestException as e:  # one not retried (too many redirects, a bad header...)
        raise DownloadError(f"{url}: {type(e).__name__}: {e}", url=url) from None
    except OSError as e:  # writing the part or the file (permissions, a full disk)
        raise DownloadError(f"{dest} cannot be written ({e.strerror or e}).", url=url,
                            hint="Check that the folder can be written and the disk has space.") from None
    finally:
        if own:
            s.close()


def _copy_local(url: str, dest: Path, part: Path, *, sha256: str | None, sha1: str | None, size: int | None,
                progress: ProgressFn | None) -> Fetched:
    src = local_path(url)
    try:
        src_f = open(src, "rb")  # noqa: SIM115
    except FileNotFoundError:
        raise NotFound(f"{src} does not exist.", url=url, hint="Check the folder or address given.") from None
    except IsADirectoryError:
        raise DownloadError(f"{src} is a folder, not a file.", url=url) from None
    except OSError as e:
        raise DownloadError(f"{src} cannot be read ({e.strerror}).", url=url) from None
    with src_f, _locked_part(part) as f:
        total = os.fstat(src_f.fileno()).st_size
        have = os.fstat(f.fileno()).st_size
        if have > total:
            f.truncate(0)
            have = 0
        h = _Hashes.of_file(f, have)
        resumed = have > 0
        src_f.seek(have)
        f.seek(0, os.SEEK_END)
        while block := src_f.read(CHUNK):
            f.write(block)
            h.update(block)
            if progress:
                progress(dest.name, h.size, total)
        problem = _check(url, h, sha256, sha1, size)
        if problem and resumed:
            # the old part may be what is wrong: copy once more from the start
            f.truncate(0)
            h = _Hashes()
            src_f.seek(0)
            f.seek(0)
            while block := src_f.read(CHUNK):
                f.write(block)
                h.update(block)
            resumed = False
            problem = _check(url, h, sha256, sha1, size)
        if problem:
            part.unlink(missing_ok=True)
            raise ChecksumMismatch(f"{src} is not the expected file: {problem}; nothing was installed.", url=url,
                                   hint="The copy is damaged or a different version: get a fresh copy.")
        _finish(f, part, dest)
    return Fetched(url=url, path=dest, size=h.size, sha1=h.sha1.hexdigest(), sha256=h.sha256.hexdigest(),
                   content_type=None, requests=0, resumed=resumed)


def _fetch_http(url: str, dest: Path, part: Path, f: IO[bytes], s: requests.Session, *, sha256: str | None,
                sha1: str | None, size: int | None, retries: int, timeout: float, max_wait: float,
                expect: Callable[[str | None], bool] | None, progress: ProgressFn | None) -> Fetched:
    n_requests = 0
    attempt = 0  # failed attempts so far (each one may be followed by a retry)
    resumed = False
    restarted_after_mismatch = False
    hashed: _Hashes | None = None  # hashes of the first hashed.size bytes of the part

    def give_up_or_wait(message: str, status: int | None, wait: float | None = None) -> None:
        nonlocal attempt
        if attempt >= retries:
            kept = os.fstat(f.fileno()).st_size
            raise DownloadError(f"{url}: {message}, {attempt + 1} attempt(s)"
                                + (f"; the {kept} bytes fetched so far are kept." if kept else "."),
                                url=url, status=status,
                                hint=f"Run the same command again later{' to continue' if kept else ''}.")
        time.sleep(min(max_wait, wait) if wait is not None else backoff(attempt, max_wait))
        attempt += 1

    while True:
        have = os.fstat(f.fileno()).st_size
        if size is not None and have > size:
            f.truncate(0)
            have = 0
        if hashed is None or hashed.size != have:
            hashed = _Hashes.of_file(f, have)
        if size is not None and have == size and (sha256 or sha1):
            # a complete part from an earlier run (killed before the rename): check it without asking again
            if _check(url, hashed, sha256, sha1, size) is None:
                _finish(f, part, dest)
                return Fetched(url, dest, have, hashed.sha1.hexdigest(), hashed.sha256.hexdigest(), None,
                               n_requests, True)
            f.truncate(0)
            have, hashed = 0, _Hashes()
        headers = {"Accept-Encoding": "identity"}  # the bytes as stored: Range counts those
        if have:
            headers["Range"] = f"bytes={have}-"
        try:
            n_requests += 1
            r = s.get(url, headers=headers, stream=True, timeout=(min(CONNECT_TIMEOUT, timeout), timeout))
        except requests.exceptions.InvalidURL as e:
            raise DownloadError(f"{url} is not a valid address ({e}).", url=url) from None
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as e:
            if _unresolvable(e):
                raise _no_host(url) from None
            give_up_or_wait(f"no answer ({type(e).__name__})", None)
            continue
        with r:
            status = r.status_code
            ctype = r.headers.get("Content-Type")
            if (refusal := _refusal(url, status)) is not None:
                if isinstance(refusal, NotFound):
                    part.unlink(missing_ok=True)
                raise refusal
            if status == 416 and have:
                # the part is as long as the file or longer (the file changed?): start again
                f.truncate(0)
                hashed = _Hashes()
                give_up_or_wait("the server refused to resume (HTTP 416)", status, 0.0)
                continue
            if status in (429, 503):
                give_up_or_wait(f"the server is busy (HTTP {status})", status,
                                retry_after(r.headers.get("Retry-After")))
                continue
            if status >= 500:
                give_up_or_wait(f"server error (HTTP {status})", status)
                continue
            if status not in (200, 206):
                raise DownloadError(f"{url}: the server answered HTTP {status} {r.reason or ''}".rstrip() + ".",
                                    url=url, status=status)
            if expect is not None and not expect(ctype):
                if _is_html(ctype):
                    raise NeedsLogin(f"{url}: the server sent a web page (a login page?) where a file was "
                                     "expected.", url=url, status=status,
                                     hint="The file may need a login, or the address is not the file's own.")
                raise DownloadError(f"{url}: unexpected content type {ctype!r}.", url=url, status=status)
            start = 0
            total: int | None = None
            if status == 206:
                cr = r.headers.get("Content-Range", "")
                try:
                    unit, _, rest = cr.partition(" ")
                    span, _, whole = rest.partition("/")
                    start = int(span.split("-")[0])
                    total = int(whole) if whole.strip() != "*" else None
                except ValueError:
                    start = -1
                if unit != "bytes" or start != have:
                    # not the range asked for: start again without Range
                    f.truncate(0)
                    hashed = _Hashes()
                    give_up_or_wait(f"the server sent the wrong range ({cr!r})", status, 0.0)
                    continue
                resumed = resumed or have > 0
            else:
                if have:
                    f.truncate(0)  # Range ignored: the whole file comes again
                    hashed = _Hashes()
                resumed = False
                length = r.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
            if size is not None and total is not None and total != size:
                part.unlink(missing_ok=True)
                raise ChecksumMismatch(f"{url}: the server has {total} bytes where {size} were expected; "
                                       "nothing was kept.", url=url, status=status,
                                       hint="The file at this address changed: the catalogue needs updating.")
            total = total if total is not None else size
            f.seek(0, os.SEEK_END)
            try:
                for block in r.iter_content(CHUNK):
                    f.write(block)
                    hashed.update(block)
                    if progress:
                        progress(dest.name, hashed.size, total or 0)
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                    requests.exceptions.ChunkedEncodingError) as e:
                f.flush()
                give_up_or_wait(f"the connection broke after {hashed.size} bytes ({type(e).__name__})", status)
                continue
            f.flush()
            if total is not None and hashed.size < total:
                give_up_or_wait(f"the answer stopped after {hashed.size} of {total} bytes", status)
                continue
        problem = _check(url, hashed, sha256, sha1, size)
        if problem:
            f.truncate(0)
            hashed = _Hashes()
            if resumed and not restarted_after_mismatch:
                restarted_after_mismatch = True  # the part kept from before may be the damaged bit
                resumed = False
                continue
            part.unlink(missing_ok=True)
            raise ChecksumMismatch(f"{url} is not the expected file: {problem}; nothing was kept.", url=url,
                                   status=status, hint="The file at this address changed or is damaged.")
        _finish(f, part, dest)
        return Fetched(url=url, path=dest, size=hashed.size, sha1=hashed.sha1.hexdigest(),
                       sha256=hashed.sha256.hexdigest(), content_type=ctype, requests=n_requests, resumed=resumed)


def get_json(url: str, *, session: requests.Session | None = None, retries: int = 5, timeout: float = 60.0,
             max_wait: float = 300.0) -> Any:
    """A JSON document from an http(s) address, a `file:` address or a local path, with fetch's politeness.

    InputError (exit 3) when the answer is not JSON (a web page says so); the DownloadError family otherwise.
    """
    if is_local(url):
        path = local_path(url)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"{path} does not exist.", url=url) from None
        except OSError as e:
            raise DownloadError(f"{path} cannot be read ({e.strerror or e}).", url=url) from None
        ctype = None
    else:
        own = session is None
        s = session if session is not None else _new_session()
        try:
            data, ctype = _get_bytes(url, s, retries=retries, timeout=timeout, max_wait=max_wait)
        finally:
            if own:
                s.close()
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        what = "a web page" if _is_html(ctype) or data.lstrip()[:1] == b"<" else "not JSON"
        raise InputError(f"{url}: {what}, not a JSON document ({e}).",
                         hint="Check the address: it must lead to the JSON itself.") from None


def _get_bytes(url: str, s: requests.Session, *, retries: int, timeout: float,
               max_wait: float) -> tuple[bytes, str | None]:
    attempt = 0
    while True:
        wait: float | None = None
        status: int | None = None
        try:
            r = s.get(url, timeout=(min(CONNECT_TIMEOUT, timeout), timeout))
            status = r.status_code
            if (refusal := _refusal(url, status)) is not None:
                raise refusal
            if status == 200:
                return r.content, r.headers.get("Content-Type")
            if status in (429, 503):
                wait = retry_after(r.headers.get("Retry-After"))
                problem = f"the server is busy (HTTP {status})"
            elif status >= 500:
                problem = f"server error (HTTP {status})"
            else:
                raise DownloadError(f"{url}: the server answered HTTP {status}.", url=url, status=status)
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                requests.exceptions.ChunkedEncodingError) as e:
            if _unresolvable(e):
                raise _no_host(url) from None
            problem = f"no answer ({type(e).__name__})"
        if attempt >= retries:
            raise DownloadError(f"{url}: {problem}, {attempt + 1} attempt(s).", url=url, status=status,
                                hint="Run the same command again later.")
        time.sleep(min(max_wait, wait) if wait is not None else backoff(attempt, max_wait))
        attempt += 1


__all__ = ["ChecksumMismatch", "DownloadError", "Fetched", "NeedsLogin", "NotFound", "fetch", "get_json",
           "session", "user_agent", "retry_after"]
