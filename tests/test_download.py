"""transcribe.download against a real HTTP server on 127.0.0.1 (tests/fileserver.py) that misbehaves on purpose."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from email.utils import formatdate
from pathlib import Path

import pytest
from fileserver import FileServer

from transcribe import download as D
from transcribe.errors import ExitCode, InputError

# Enough bytes for several chunks, so that a connection dropped half-way leaves a real part behind.
DATA = hashlib.sha256(b"seed").digest() * (300_000 // 32)
SHA256 = hashlib.sha256(DATA).hexdigest()
SHA1 = hashlib.sha1(DATA).hexdigest()
FAST = {"max_wait": 0.1}  # backoff capped: faults cost milliseconds, not seconds


@pytest.fixture
def served(tmp_path: Path) -> Path:
    root = tmp_path / "srv"
    root.mkdir()
    (root / "model.bin").write_bytes(DATA)
    (root / "doc.json").write_text(json.dumps({"a": [1, 2]}))
    (root / "page.html").write_text("<html>not json</html>")
    return root


@pytest.fixture
def srv(served: Path):
    with FileServer(served) as s:
        yield s


def no_leftovers(dest: Path) -> bool:
    return not dest.exists() and not dest.with_name(dest.name + ".part").exists()


def test_fetch_streams_checks_and_names_the_tool(srv: FileServer, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRANSCRIBE_CONTACT", "librarian@example.org")
    dest = tmp_path / "out" / "model.bin"
    got = D.fetch(srv.url("model.bin"), dest, sha256=SHA256, sha1=SHA1, size=len(DATA))
    assert dest.read_bytes() == DATA
    assert (got.size, got.sha256, got.sha1, got.requests, got.resumed) == (len(DATA), SHA256, SHA1, 1, False)
    assert not dest.with_name("model.bin.part").exists()
    agent = srv.requests_for("/model.bin")[0].agent or ""
    assert agent.startswith("transcribe/") and "librarian@example.org" in agent


def test_429_retry_after_is_honoured(srv: FileServer, tmp_path: Path) -> None:
    srv.faults["/model.bin"] = ["429:1"]
    t = time.monotonic()
    got = D.fetch(srv.url("model.bin"), tmp_path / "m", sha256=SHA256, max_wait=5)
    assert time.monotonic() - t >= 0.9  # waited the second it was told to
    assert got.requests == 2 and (tmp_path / "m").read_bytes() == DATA


def test_retry_after_is_capped_and_read_as_a_date(srv: FileServer, tmp_path: Path) -> None:
    srv.faults["/model.bin"] = ["503:3600"]
    t = time.monotonic()
    D.fetch(srv.url("model.bin"), tmp_path / "m", sha256=SHA256, max_wait=0.2)
    assert time.monotonic() - t < 3
    assert 28 <= D.retry_after(formatdate(time.time() + 30, usegmt=True)) <= 31
    assert D.retry_after("7") == 7 and D.retry_after("soon") is None


def test_503_then_ok_and_5xx_give_up_after_the_retries(srv: FileServer, tmp_path: Path) -> None:
    srv.faults["/model.bin"] = ["503", "500"]
    got = D.fetch(srv.url("model.bin"), tmp_path / "m", sha256=SHA256, **FAST)
    assert got.requests == 3 and (tmp_path / "m").read_bytes() == DATA

    srv.faults["/model.bin"] = ["500"] * 5
    with pytest.raises(D.DownloadError) as e:
        D.fetch(srv.url("model.bin"), tmp_path / "n", retries=2, **FAST)
    assert e.value.exit_code == ExitCode.DOWNLOAD == 12 and e.value.status == 500
    assert len(srv.requests_for("/model.bin")) == 3 + 3
    assert no_leftovers(tmp_path / "n")


def test_404_and_401_are_not_retried(srv: FileServer, tmp_path: Path) -> None:
    with pytest.raises(D.NotFound) as nf:
        D.fetch(srv.url("nothing.bin"), tmp_path / "x", **FAST)
    assert nf.value.status == 404 and len(srv.requests_for("/nothing.bin")) == 1
    srv.login.add("/model.bin")
    with pytest.raises(D.NeedsLogin) as nl:
        D.fetch(srv.url("model.bin"), tmp_path / "y", **FAST)
    assert nl.value.status == 401 and len(srv.requests_for("/model.bin")) == 1
    assert no_leftovers(tmp_path / "x") and no_leftovers(tmp_path / "y")


def test_a_login_page_is_never_saved_as_the_file(srv: FileServer, tmp_path: Path) -> None:
    srv.faults["/model.bin"] = ["html"]
    with pytest.raises(D.NeedsLogin):
        D.fetch(srv.url("model.bin"), tmp_path / "p.jpg", expect=lambda ct: (ct or "").startswith("image/"))
    assert no_leftovers(tmp_path / "p.jpg")


def test_a_dropped_connection_resumes_with_range(srv: FileServer, tmp_path: Path) -> None:
    srv.faults["/model.bin"] = ["drop"]
    got = D.fetch(srv.url("model.bin"), tmp_path / "m", sha256=SHA256, sha1=SHA1, **FAST)
    log = srv.requests_for("/model.bin")
    assert [e.status for e in log] == [200, 206]
    assert 0 < int(log[1].range.removeprefix("bytes=").rstrip("-")) <= len(DATA) // 2  # only the rest asked
    assert got.resumed and got.sha256 == SHA256 and (tmp_path / "m").read_bytes() == DATA


def test_a_part_left_by_an_earlier_run_is_resumed(srv: FileServer, tmp_path: Path) -> None:
    dest = tmp_path / "m"
    srv.faults["/model.bin"] = ["drop"]
    with pytest.raises(D.DownloadError):
        D.fetch(srv.url("model.bin"), dest, retries=0, **FAST)
    part = dest.with_name("m.part")
    kept = part.stat().st_size
    assert not dest.exists() and 0 < kept < len(DATA)  # no half file under the real name
    got = D.fetch(srv.url("model.bin"), dest, sha256=SHA256, **FAST)
    assert got.resumed and got.requests == 1 and dest.read_bytes() == DATA and not part.exists()
    assert srv.requests_for("/model.bin")[-1].range == f"bytes={kept}-"  # only the rest was asked for


def test_a_server_without_range_gets_a_clean_restart(served: Path, tmp_path: Path) -> None:
    dest = tmp_path / "m"
    dest.with_name("m.part").write_bytes(DATA[:1000])
    with FileServer(served, ranges=False) as srv:
        got = D.fetch(srv.url("model.bin"), dest, sha256=SHA256, **FAST)
        assert srv.requests_for("/model.bin")[0].status == 200
    assert not got.resumed and dest.read_bytes() == DATA


def test_a_damaged_part_is_fetched_again_and_a_complete_one_not_at_all(srv: FileServer, tmp_path: Path) -> None:
    dest = tmp_path / "m"
    dest.with_name("m.part").write_bytes(b"x" * 1000)  # not the file's first bytes
    got = D.fetch(srv.url("model.bin"), dest, sha256=SHA256, **FAST)
    assert dest.read_bytes() == DATA and got.requests == 2 and not got.resumed

    dest.unlink()
    dest.with_name("m.part").write_bytes(DATA)  # killed between the last byte and the rename
    got = D.fetch(srv.url("model.bin"), dest, sha256=SHA256, size=len(DATA), **FAST)
    assert got.requests == 0 and dest.read_bytes() == DATA


def test_a_wrong_checksum_keeps_nothing(srv: FileServer, tmp_path: Path) -> None:
    dest = tmp_path / "m"
    dest.write_bytes(b"the old version")
    with pytest.raises(D.ChecksumMismatch):
        D.fetch(srv.url("model.bin"), dest, sha256="0" * 64, **FAST)
    assert dest.read_bytes() == b"the old version" and not dest.with_name("m.part").exists()
    with pytest.raises(D.ChecksumMismatch):
        D.fetch(srv.url("model.bin"), tmp_path / "n", size=len(DATA) - 1, **FAST)
    assert no_leftovers(tmp_path / "n")


def test_file_addresses_and_paths_take_the_same_path(served: Path, tmp_path: Path) -> None:
    src = served / "model.bin"
    for i, address in enumerate([src.as_uri(), str(src)]):
        got = D.fetch(address, tmp_path / f"c{i}", sha256=SHA256, sha1=SHA1)
        assert (tmp_path / f"c{i}").read_bytes() == DATA and got.sha256 == SHA256 and got.requests == 0
    with D.session() as s:  # a caller's session does not change that
        assert D.fetch(src.as_uri(), tmp_path / "c3", sha1=SHA1, session=s).requests == 0
    (tmp_path / "c2.part").write_bytes(DATA[:5000])
    assert D.fetch(str(src), tmp_path / "c2", sha256=SHA256).resumed
    with pytest.raises(D.ChecksumMismatch):
        D.fetch(src.as_uri(), tmp_path / "bad", sha256="1" * 64)
    with pytest.raises(D.NotFound):
        D.fetch((served / "nothing").as_uri(), tmp_path / "gone")
    assert no_leftovers(tmp_path / "bad") and no_leftovers(tmp_path / "gone")


def test_get_json_http_file_and_not_json(srv: FileServer, served: Path) -> None:
    srv.faults["/doc.json"] = ["429:0"]
    assert D.get_json(srv.url("doc.json"), **FAST) == {"a": [1, 2]}
    assert len(srv.requests_for("/doc.json")) == 2
    assert D.get_json((served / "doc.json").as_uri()) == {"a": [1, 2]}
    with pytest.raises(InputError, match="web page"):
        D.get_json(srv.url("page.html"))
    with pytest.raises(D.NotFound):
        D.get_json(srv.url("missing.json"))


def test_a_server_stopped_and_started_again(served: Path, tmp_path: Path) -> None:
    with FileServer(served) as srv:
        port, url = srv.port, srv.url("model.bin")
    later: list[FileServer] = []
    timer = threading.Timer(0.3, lambda: later.append(FileServer(served, port=port).__enter__()))
    timer.start()
    try:
        got = D.fetch(url, tmp_path / "m", sha256=SHA256, retries=30, max_wait=0.1)  # refused, refused... answered
        assert got.sha256 == SHA256 and got.requests > 1
    finally:
        timer.join()
        for s in later:
            s.__exit__(None, None, None)


def test_an_unknown_host_or_a_dead_server_fails_fast(tmp_path: Path) -> None:
    t = time.monotonic()
    with pytest.raises(D.DownloadError, match="cannot be found"):
        D.fetch("http://models.example.invalid/x.traineddata", tmp_path / "x")
    with FileServer(tmp_path) as srv:
        dead = srv.url("x")
    with pytest.raises(D.DownloadError, match="no answer"):
        D.fetch(dead, tmp_path / "y", retries=2, **FAST)
    assert time.monotonic() - t < 5
    assert not os.listdir(tmp_path) or no_leftovers(tmp_path / "x")
